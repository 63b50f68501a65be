/*
 * buildtrail/buf.h - the one growable byte buffer, always NUL-terminated, with a cap.
 *
 * A bt_buf owns its memory; release it with bt_buf_dispose(). Appends fail with
 * BT_ELIMIT once len would exceed cap (0 = default cap, BT_BUF_DEFAULT_CAP), and
 * with BT_ENOMEM when allocation fails; on failure the contents are unchanged.
 */
#ifndef BT_BUF_H
#define BT_BUF_H

#include <stdarg.h>
#include "buildtrail/error.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BT_BUF_DEFAULT_CAP ((size_t)1 << 31) /* 2 GiB */

typedef struct bt_buf {
    char *data;   /* NUL-terminated when non-NULL; may be NULL while len == 0 */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t alloc; /* bytes allocated */
    size_t cap;   /* maximum len; 0 means BT_BUF_DEFAULT_CAP */
} bt_buf;

#define BT_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void bt_buf_init(bt_buf *b, size_t cap);
void bt_buf_dispose(bt_buf *b);
void bt_buf_clear(bt_buf *b);                /* len = 0, keeps memory */
int bt_buf_reserve(bt_buf *b, size_t extra); /* ensure room for extra more bytes */
int bt_buf_append(bt_buf *b, const void *p, size_t n);
int bt_buf_puts(bt_buf *b, const char *s);
int bt_buf_putc(bt_buf *b, char c);
int bt_buf_printf(bt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bt_buf_vprintf(bt_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Gives the data to the caller (free() it), leaving b empty. Never NULL on success
 * (an empty buffer yields ""); returns NULL on allocation failure. */
char *bt_buf_detach(bt_buf *b);

/* Reads a whole file (or stdin for "-") into b, up to b's cap. */
int bt_buf_read_file(bt_buf *b, const char *path, bt_error *err);

/* The value of the hex digit c (0-9, a-f, A-F), or -1 when c is not one. */
int bt_hex_value(int c);

/* Makes room for at least need elements of size elem in the malloc'd array *v of *cap
 * elements (doubling, at least min_cap). 0, or BT_ENOMEM with *v unchanged. */
int bt_array_grow(void **v, size_t *cap, size_t need, size_t elem, size_t min_cap);

#ifdef __cplusplus
}
#endif
#endif
