/*
 * bloom.h - the per-block summary of the event store's high-cardinality fields (user,
 * principal, access key, source IP): a Bloom filter over (field, value) keys, built
 * once per block when the block is packed and tested by searches that filter on those
 * fields, so no per-row index is kept for them. Backend-neutral (plain bytes): the
 * SQLite backend keeps it in `bsum.bloom`; PostgreSQL would keep it in a bytea column
 * (or use its bloom / BRIN index access methods).
 */
#ifndef BT_STORE_BLOOM_H
#define BT_STORE_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/buf.h"
#include "buildtrail/event.h"

/* The fields a block summary holds (tags in the key). */
enum { BT_BK_USER = 1, BT_BK_PRINCIPAL, BT_BK_AKID, BT_BK_IP };

/* The key of value str of field tag (str not NULL). */
uint64_t bt_bloom_key(int tag, const char *str);

/* Appends the keys of ev's summarised fields to keys (*n in use, *cap allocated);
 * BT_ENOMEM when the array cannot grow. */
int bt_bloom_keys_add(uint64_t **keys, size_t *n, size_t *cap, const bt_event *ev);

/* Builds the filter of keys[0..n) (sorted and deduplicated in place) into out
 * (cleared first): a power-of-two number of bytes, about 10 bits per distinct key. */
int bt_bloom_build(uint64_t *keys, size_t n, bt_buf *out);

/* 1 when the filter bits[0..len) may hold key, 0 when it surely does not (a filter of
 * invalid size may hold anything). */
int bt_bloom_has(const unsigned char *bits, size_t len, uint64_t key);

#endif
