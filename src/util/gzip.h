/*
 * gzip.h - whole-buffer gzip decompression (libdeflate; chosen over ISA-L by
 * measurement, see bench/gzip_speed.c). Handles multi-member files.
 */
#ifndef BT_GZIP_H
#define BT_GZIP_H

#include <stddef.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"

/* True if data starts with the gzip magic bytes. */
int bt_gzip_is(const void *data, size_t len);

/* Decompresses all members of in into out (appended; out's cap bounds the size).
 * Returns 0, BT_EPARSE ("corrupt or truncated gzip data"), BT_ELIMIT or BT_ENOMEM.
 * On BT_EPARSE out still holds what could be recovered: every complete member, and of
 * a member cut short or corrupt, what decompressed before the damage; so a caller can
 * keep the records before it. Thread-safe. */
int bt_gzip_decompress(const void *in, size_t len, bt_buf *out, bt_error *err);

/* Compresses in as one gzip member at the given level (1-12) into out (appended). */
int bt_gzip_compress(const void *in, size_t len, int level, bt_buf *out, bt_error *err);

#endif
