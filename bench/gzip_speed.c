/* gzip_speed.c - the measurement behind the gzip choice (DESIGN: "libdeflate or ISA-L;
 * choose by measurement"): decompresses every .json.gz under a directory with
 * libdeflate (the library's bt_gzip_decompress) and with ISA-L's igzip, single
 * threaded, verifying both produce the same bytes, and prints MB/s of output for each.
 * With THREADS > 1 it also measures libdeflate over the files split across threads:
 * the floor a parallel scan of the archive is compared with.
 *   bench-gzip_speed DIR [THREADS] */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/source.h"
#include "util/gzip.h"

#ifdef BT_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#ifdef BT_HAVE_ISAL
static int isal_gunzip(const unsigned char *in, size_t len, bt_buf *out)
{
    struct inflate_state st;
    size_t guess = len * 8 + 4096;
    isal_inflate_init(&st);
    st.crc_flag = ISAL_GZIP;
    st.next_in = (unsigned char *)in;
    st.avail_in = (uint32_t)len;
    for (;;) {
        int rc;
        if (bt_buf_reserve(out, guess))
            return -1;
        st.next_out = (unsigned char *)out->data + out->len;
        st.avail_out = (uint32_t)(out->alloc - out->len - 1);
        rc = isal_inflate(&st);
        out->len = (size_t)(st.next_out - (unsigned char *)out->data);
        if (rc != ISAL_DECOMP_OK)
            return -1;
        if (st.block_state == ISAL_BLOCK_FINISH) {
            if (st.avail_in == 0)
                break;
            /* another member */
            isal_inflate_reset(&st);
            st.crc_flag = ISAL_GZIP;
            continue;
        }
        if (st.avail_in == 0 && st.avail_out > 0)
            return -1; /* truncated */
        guess = out->alloc;
    }
    return 0;
}
#endif

typedef struct job {
    bt_buf *files;
    size_t from, to;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    bt_buf out = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    size_t i;
    for (i = j->from; i < j->to; i++) {
        bt_buf_clear(&out);
        bt_gzip_decompress(j->files[i].data, j->files[i].len, &out, &err);
    }
    bt_buf_dispose(&out);
    return NULL;
}

int main(int argc, char **argv)
{
    bt_file_list l = {0};
    bt_error err = BT_ERROR_INIT;
    bt_buf *files, a = BT_BUF_INIT, b = BT_BUF_INIT;
    size_t i, n = 0, in_bytes = 0, out_bytes = 0;
    double t0, t_deflate, t_isal = 0;
    int rounds = 3, r;

    int threads = argc == 3 ? atoi(argv[2]) : 1;
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s DIR [THREADS]\n", argv[0]);
        return 2;
    }
    if (bt_file_list_add(&l, argv[1], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    files = calloc(l.n, sizeof *files);
    for (i = 0; i < l.n; i++) {
        size_t k = strlen(l.v[i].path);
        if (k < 8 || strcmp(l.v[i].path + k - 8, ".json.gz") != 0)
            continue;
        if (bt_buf_read_file(&files[n], l.v[i].path, &err) == 0 && bt_gzip_is(files[n].data, files[n].len)) {
            in_bytes += files[n].len;
            n++;
        } else {
            bt_buf_dispose(&files[n]);
        }
    }
    t0 = now();
    for (r = 0; r < rounds; r++)
        for (i = 0; i < n; i++) {
            bt_buf_clear(&a);
            if (bt_gzip_decompress(files[i].data, files[i].len, &a, &err))
                return 1;
            if (r == 0)
                out_bytes += a.len;
        }
    t_deflate = (now() - t0) / rounds;
#ifdef BT_HAVE_ISAL
    t0 = now();
    for (r = 0; r < rounds; r++)
        for (i = 0; i < n; i++) {
            bt_buf_clear(&b);
            if (isal_gunzip((const unsigned char *)files[i].data, files[i].len, &b)) {
                fprintf(stderr, "isa-l failed on file %zu\n", i);
                return 1;
            }
            if (r == 0) {
                bt_buf_clear(&a);
                bt_gzip_decompress(files[i].data, files[i].len, &a, &err);
                if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
                    fprintf(stderr, "isa-l and libdeflate disagree on file %zu\n", i);
                    return 1;
                }
            }
        }
    t_isal = (now() - t0) / rounds;
#endif
    printf("gzip decompression, %zu files, %.1f MB gz -> %.1f MB, 1 thread, best of the same %d rounds\n",
           n, in_bytes / 1e6, out_bytes / 1e6, rounds);
    printf("  libdeflate %8.1f MB/s\n", out_bytes / 1e6 / t_deflate);
#ifdef BT_HAVE_ISAL
    printf("  isa-l      %8.1f MB/s\n", out_bytes / 1e6 / t_isal);
#else
    printf("  isa-l      (not built: libisal-dev missing)\n");
#endif
    if (threads > 1) {
        pthread_t th[64];
        job jobs[64];
        int k;
        if (threads > 64)
            threads = 64;
        t0 = now();
        for (r = 0; r < rounds; r++) {
            for (k = 0; k < threads; k++) {
                jobs[k].files = files;
                jobs[k].from = n * (size_t)k / (size_t)threads;
                jobs[k].to = n * (size_t)(k + 1) / (size_t)threads;
                pthread_create(&th[k], NULL, run_job, &jobs[k]);
            }
            for (k = 0; k < threads; k++)
                pthread_join(th[k], NULL);
        }
        printf("  libdeflate %8.1f MB/s on %d threads\n", out_bytes / 1e6 / ((now() - t0) / rounds),
               threads);
    }
    (void)t_isal;
    bt_buf_dispose(&a);
    bt_buf_dispose(&b);
    return 0;
}
