/* gzip.c - gzip (de)compression over libdeflate, multi-member aware; zlib recovers what
 * it can of a damaged member. Both libraries are loaded on first use (deflate_dl.h,
 * zlib_dl.h). */
#include <stdint.h>
#include <string.h>

#include "util/deflate_dl.h"
#include "util/gzip.h"
#include "util/zlib_dl.h"

int bt_gzip_is(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* A damaged member (truncated or corrupt): appends to out what zlib's streaming
 * inflate gets out of it before the damage. Bounded by out's cap like the rest. Without
 * zlib (it cannot be loaded) nothing is recovered: the caller has reported the damage. */
static void recover_member(const unsigned char *p, size_t len, bt_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return;
    z.next_in = (unsigned char *)p;
    while (len) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        int zr;
        z.avail_in = (uInt)chunk;
        do {
            if (bt_buf_reserve(out, 1 << 16))
                goto done;
            z.next_out = (unsigned char *)out->data + out->len;
            z.avail_out = (uInt)(out->alloc - out->len - 1 < (1u << 30) ? out->alloc - out->len - 1
                                                                        : (1u << 30));
            {
                uInt before = z.avail_out;
                zr = inflate(&z, Z_NO_FLUSH);
                out->len += before - z.avail_out;
                out->data[out->len] = '\0';
            }
            if (zr != Z_OK)
                goto done;
        } while (z.avail_out == 0 || z.avail_in > 0);
        len -= chunk;
    }
done:
    inflateEnd(&z);
}

int bt_gzip_decompress(const void *in, size_t len, bt_buf *out, bt_error *err)
{
    const unsigned char *p = in;
    size_t off = 0;
    int rc = 0;
    struct libdeflate_decompressor *dec;

    if ((rc = bt_deflate_load(err)))
        return rc;
    /* one per call: ~11 KiB, negligible next to a file's work, and nothing per thread
     * to clean up */
    if (!(dec = libdeflate_alloc_decompressor()))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    while (off < len) {
        size_t guess, in_used = 0, out_used = 0;
        enum libdeflate_result r;

        if (!bt_gzip_is(p + off, len - off)) {
            /* trailing zero padding after the last member is tolerated, like gzip(1) */
            size_t k = off;
            while (k < len && p[k] == 0)
                k++;
            if (k == len)
                break;
            rc = bt_error_set(err, BT_EPARSE, "trailing garbage after gzip data (ignored)");
            goto done;
        }
        /* ISIZE of the last member is a good guess for a single-member file */
        guess = len - off >= 18 ? (size_t)p[len - 4] | (size_t)p[len - 3] << 8 |
                                      (size_t)p[len - 2] << 16 | (size_t)p[len - 1] << 24
                                : 0;
        /* deflate cannot expand more than ~1032:1; a larger ISIZE means a truncated or
         * multi-member file whose last 4 bytes are not this member's size */
        if (guess < (len - off) * 2 || guess > (len - off) * 1032 + 4096)
            guess = (len - off) * 4 + 4096;
        for (;;) {
            if ((rc = bt_buf_reserve(out, guess))) {
                bt_error_set(err, rc, rc == BT_ELIMIT ? "decompressed data exceeds the size limit"
                                                      : "out of memory");
                goto done;
            }
            r = libdeflate_gzip_decompress_ex(dec, p + off, len - off, out->data + out->len,
                                              out->alloc - out->len - 1, &in_used, &out_used);
            if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
                if (out->alloc - out->len > (len - off) * 1032 + 4096) {
                    rc = bt_error_set(err, BT_EPARSE, "corrupt or truncated gzip data");
                    recover_member(p + off, len - off, out);
                    goto done;
                }
                guess = (out->alloc - out->len) * 2;
                continue;
            }
            break;
        }
        if (r != LIBDEFLATE_SUCCESS) {
            rc = bt_error_set(err, BT_EPARSE, "corrupt or truncated gzip data");
            recover_member(p + off, len - off, out);
            goto done;
        }
        out->len += out_used;
        out->data[out->len] = '\0';
        off += in_used;
    }
done:
    libdeflate_free_decompressor(dec);
    return rc;
}

int bt_gzip_compress(const void *in, size_t len, int level, bt_buf *out, bt_error *err)
{
    struct libdeflate_compressor *c;
    size_t bound, n;
    int rc = 0;

    if ((rc = bt_deflate_load(err)))
        return rc;
    if (!(c = libdeflate_alloc_compressor(level)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    bound = libdeflate_gzip_compress_bound(c, len);
    if ((rc = bt_buf_reserve(out, bound))) {
        bt_error_set(err, rc, "out of memory");
        goto done;
    }
    n = libdeflate_gzip_compress(c, in, len, out->data + out->len, bound);
    if (!n) {
        rc = bt_error_set(err, BT_ERROR, "gzip compression failed");
        goto done;
    }
    out->len += n;
    out->data[out->len] = '\0';
done:
    libdeflate_free_compressor(c);
    return rc;
}
