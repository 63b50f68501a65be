/* fuzz_dir.c - libFuzzer target for a block's directory of rows (schema 13,
 * sqlite_rows.c): dir_decode on any bytes (a damaged store) either refuses them or gives
 * places whose rows are sane; the skippable frame's header reads back; and the input
 * read as rows encodes (dir_encode) into a directory that decodes to those rows. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "store/sqlite_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROW_BYTES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ZSTD_DCtx *zd;
    static ZSTD_CCtx *zc;
    drow *got = NULL, *in = NULL;
    size_t n = 0, cap = 0, i, nin, len;
    bt_buf scratch = BT_BUF_INIT, out = BT_BUF_INIT, tmp = BT_BUF_INIT;
    unsigned char head[DIR_HEAD];
    int64_t end = 0;

    if ((!zd && !(zd = ZSTD_createDCtx())) || (!zc && !(zc = ZSTD_createCCtx())))
        return 0;
    if (dir_decode(data, size, zd, &scratch, &got, &cap, &n) == 0)
        for (i = 0; i < n; i++)
            if (got[i].present && (got[i].off < 0 || got[i].len < 0 || got[i].ro < -1 ||
                                   got[i].ro > 1 || got[i].has_rh > 1 || got[i].name < 0))
                abort();
    dir_frame_head(head, size);
    if (dir_frame_len(head, &len) || len != (uint32_t)size)
        abort();
    /* the input as rows of ROW_BYTES: present or not, kind, ids, read-only, a gap before
     * the record, its length, a fingerprint or none */
    nin = size / ROW_BYTES;
    if (nin && (in = calloc(nin, sizeof *in))) {
        for (i = 0; i < nin; i++) {
            const uint8_t *p = data + ROW_BYTES * i;
            drow *r = &in[i];
            r->present = p[0] & 1;
            if (!r->present)
                continue;
            r->kind = p[1] & 3;
            r->name = p[2];
            r->src = p[3];
            r->region = p[4] & 7;
            r->account = p[5];
            r->ro = (p[6] % 3) - 1;
            r->off = end + (p[7] & 15);
            r->len = (int64_t)p[8] << 4 | p[9];
            end = r->off + r->len;
            r->has_rh = (p[0] >> 1) & 1;
            if (r->has_rh)
                memcpy(&r->rh, p + 8, 8);
        }
        if (dir_encode(in, nin, zc, &out, &tmp) == 0) {
            if (dir_decode((const unsigned char *)out.data, out.len, zd, &scratch, &got, &cap,
                           &n) ||
                n != nin)
                abort();
            for (i = 0; i < n; i++) {
                const drow *a = &in[i], *b = &got[i];
                if (a->present != b->present)
                    abort();
                if (a->present && (a->kind != b->kind || a->name != b->name || a->src != b->src ||
                                   a->region != b->region || a->account != b->account ||
                                   a->ro != b->ro || a->off != b->off || a->len != b->len ||
                                   a->has_rh != b->has_rh || (a->has_rh && a->rh != b->rh)))
                    abort();
            }
        }
    }
    free(in);
    free(got);
    bt_buf_dispose(&scratch);
    bt_buf_dispose(&out);
    bt_buf_dispose(&tmp);
    return 0;
}
