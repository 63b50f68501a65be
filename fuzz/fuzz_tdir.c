/* fuzz_tdir.c - libFuzzer target for a block's rows in time order (btime.tdir, bloom.h):
 * bt_tdir_read on any bytes (a damaged store) either refuses them or gives rows whose
 * places lie in the block's id range; and the input read as rows (time, place) encodes
 * (bt_tdir_build) into a directory that reads back as those rows sorted by (time, place). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "store/bloom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_tdir_ent *got = NULL, *in = NULL;
    size_t n = 0, cap = 0, i, nin;
    uint32_t span;
    bt_buf out = BT_BUF_INIT;
    int rc;

    if (size < 1)
        return 0;
    span = (uint32_t)data[0] + 1;
    rc = bt_tdir_read(data + 1, size - 1, span, &got, &n, &cap);
    if (rc == 0)
        for (i = 0; i < n; i++)
            if (got[i].place >= span)
                abort();
    /* the input as rows of 12 bytes: a time (the first 8, in whole seconds half the
     * time, as CloudTrail's are), each row at its own place (a block's rows have
     * distinct places, at most span of them) */
    nin = (size - 1) / 12;
    if (nin > span)
        nin = span;
    if (nin && (in = malloc(nin * sizeof *in))) {
        for (i = 0; i < nin; i++) {
            int64_t t;
            memcpy(&t, data + 1 + 12 * i, 8);
            t %= (int64_t)1 << 50;
            in[i].t = data[0] & 1 ? t - t % 1000 : t;
            in[i].place = (uint32_t)i; /* distinct, below span */
        }
        if (bt_tdir_build(in, nin, &out) == 0) { /* in is now sorted */
            if (bt_tdir_read((const unsigned char *)out.data, out.len, span, &got, &n, &cap) ||
                n != nin)
                abort();
            for (i = 0; i < n; i++)
                if (got[i].t != in[i].t || got[i].place != in[i].place)
                    abort();
        }
    }
    free(in);
    free(got);
    bt_buf_dispose(&out);
    return 0;
}
