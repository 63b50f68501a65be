/*
 * buildtrail/arena.h - bump allocator for parse trees and per-record scratch.
 *
 * Everything allocated from an arena lives until bt_arena_reset() or
 * bt_arena_free(). Allocations are 8-byte aligned. Not thread-safe: one arena per
 * thread. A cap (0 = unlimited) bounds total bytes; past it allocation returns NULL.
 */
#ifndef BT_ARENA_H
#define BT_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_arena bt_arena;

/* Returns a new arena (free with bt_arena_free) or NULL. chunk = 0 picks 64 KiB. */
bt_arena *bt_arena_new(size_t chunk, size_t cap);
void bt_arena_free(bt_arena *a);            /* accepts NULL */
void bt_arena_reset(bt_arena *a);           /* frees all allocations, keeps one chunk */
void *bt_arena_alloc(bt_arena *a, size_t n);   /* NULL on failure or over cap */
void *bt_arena_calloc(bt_arena *a, size_t n);  /* zeroed */
char *bt_arena_strndup(bt_arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *bt_arena_strdup(bt_arena *a, const char *s);
char *bt_arena_sprintf(bt_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t bt_arena_used(const bt_arena *a);    /* bytes handed out since last reset */

#ifdef __cplusplus
}
#endif
#endif
