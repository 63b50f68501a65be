/* buf.c - bt_buf, the growable NUL-terminated byte buffer with a size cap. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"

void bt_buf_init(bt_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void bt_buf_dispose(bt_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void bt_buf_clear(bt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int bt_buf_reserve(bt_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : BT_BUF_DEFAULT_CAP;
    size_t need, n;
    char *p;

    if (extra > cap || b->len > cap - extra)
        return BT_ELIMIT;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    p = realloc(b->data, n);
    if (!p)
        return BT_ENOMEM;
    b->data = p;
    b->alloc = n;
    return 0;
}

int bt_buf_append(bt_buf *b, const void *p, size_t n)
{
    int rc = bt_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int bt_buf_puts(bt_buf *b, const char *s)
{
    return bt_buf_append(b, s, strlen(s));
}

int bt_buf_putc(bt_buf *b, char c)
{
    if (b->len + 2 > b->alloc || b->len >= (b->cap ? b->cap : BT_BUF_DEFAULT_CAP)) {
        int rc = bt_buf_reserve(b, 1);
        if (rc)
            return rc;
    }
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

int bt_buf_vprintf(bt_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return BT_ERROR;
    rc = bt_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int bt_buf_printf(bt_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = bt_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *bt_buf_detach(bt_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

int bt_buf_read_file(bt_buf *b, const char *path, bt_error *err)
{
    FILE *f = NULL;
    int rc = 0;
    int is_stdin = strcmp(path, "-") == 0;

    f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return bt_error_set(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, "'%s': %s", path,
                            strerror(errno));
    for (;;) {
        size_t n, cap = b->cap ? b->cap : BT_BUF_DEFAULT_CAP;
        size_t chunk = cap - b->len < 65536 ? cap - b->len : 65536;
        if (chunk == 0) {
            /* at the cap: fine only if the file ends exactly here */
            if (fgetc(f) == EOF)
                break;
            rc = bt_error_set(err, BT_ELIMIT, "'%s': file is larger than the size limit", path);
            goto done;
        }
        rc = bt_buf_reserve(b, chunk);
        if (rc) {
            bt_error_set(err, rc, "'%s': %s", path,
                         rc == BT_ELIMIT ? "file is larger than the size limit" : "out of memory");
            goto done;
        }
        n = fread(b->data + b->len, 1, chunk, f);
        b->len += n;
        b->data[b->len] = '\0';
        if (n < chunk) {
            if (ferror(f)) {
                rc = bt_error_set(err, BT_EIO, "'%s': read error: %s", path, strerror(errno));
                goto done;
            }
            break;
        }
    }
done:
    if (f && !is_stdin)
        fclose(f);
    return rc;
}

int bt_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int bt_array_grow(void **v, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    size_t n = *cap ? *cap : min_cap;
    void *p;
    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem || !(p = realloc(*v, n * elem)))
        return BT_ENOMEM;
    *v = p;
    *cap = n;
    return 0;
}
