/*
 * bloom.h - the per-block summaries of the event store's high-cardinality fields: a
 * Bloom filter over (field, value) keys of user, principal, access key and source IP,
 * and one of resource names and types, built once per block when the block is packed
 * and tested by searches that filter on those fields, so no per-row index is kept for
 * them. Backend-neutral (plain bytes): the
 * SQLite backend keeps it in `bsum.bloom`; PostgreSQL would keep it in a bytea column
 * (or use its bloom / BRIN index access methods).
 */
#ifndef BT_STORE_BLOOM_H
#define BT_STORE_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/buf.h"
#include "buildtrail/event.h"

/* The fields a block summary holds (tags in the key): the first four in one filter
 * (bsum.bloom), the resource names and types in another (bsum.rbloom). */
enum { BT_BK_USER = 1, BT_BK_PRINCIPAL, BT_BK_AKID, BT_BK_IP, BT_BK_RNAME, BT_BK_RTYPE };

/* FNV-1a (64 bits) of str (not NULL): bt_bloom_h31 folds it; the writer's intern cache
 * is keyed by it (hash_str). */
uint64_t bt_bloom_fnv(const char *str);

/* The store's 31-bit hash of a string (FNV-1a, folded): what its hashed columns hold;
 * bt_bloom_h31_of folds the string's bt_bloom_fnv. */
int64_t bt_bloom_h31(const char *str);
int64_t bt_bloom_h31_of(uint64_t fnv);

/* A memo of the hashes above for the values a batch repeats (its callers' ARNs, users,
 * access keys, addresses, names and resources): FNV-1a goes a byte at a time, a multiply
 * each, and was 3% of an ingest's CPU, for a few hundred distinct values in 2,048 events.
 * Direct-mapped (a value that takes another's slot replaces it); a hit is checked by its
 * bytes, so what it returns is always the hash of the value given. It holds pointers to
 * the values: they must outlive its use. */
typedef struct bt_bloom_memo bt_bloom_memo;

/* A new memo; NULL when out of memory (the functions below take NULL as no memo). */
bt_bloom_memo *bt_bloom_memo_new(void);
void bt_bloom_memo_free(bt_bloom_memo *m);

/* bt_bloom_fnv(str) (str not NULL) and bt_bloom_h31(str), through m. */
uint64_t bt_bloom_fnv_memo(bt_bloom_memo *m, const char *str);
/* bt_bloom_fnv(*str) (not NULL), through m, and *str made the first value of the same
 * bytes m holds (itself when none; unchanged when m is NULL): values that compare equal
 * by their pointers after it have equal bytes. */
uint64_t bt_bloom_fnv_canon(bt_bloom_memo *m, const char **str);
int64_t bt_bloom_h31_memo(bt_bloom_memo *m, const char *str);

/* SplitMix64's finaliser: every bit of x moves every bit of the result. The summaries'
 * keys and the event ids' keys (eid_key) are made with it and stored: it never
 * changes. */
uint64_t bt_bloom_mix64(uint64_t x);

/* A 64-bit hash of p[0..n) from seed: its little-endian 8-byte words (whatever the
 * machine's order) each mixed in through bt_bloom_mix64, then n. The event ids' keys
 * (eid_key) are made with it and stored: it never changes. */
uint64_t bt_bloom_hash_bytes(uint64_t seed, const void *p, size_t n);

/* The key of a resource field (BT_BK_RNAME, BT_BK_RTYPE) whose value has the 31-bit hash
 * h: keyed by the hash, so that the upgrade to summaries of resources builds them from the
 * hashes the old per-row table held. */
uint64_t bt_bloom_rkey(int tag, int64_t h);

/* The key of value str of field tag (str not NULL). */
uint64_t bt_bloom_key(int tag, const char *str);

/* Appends key to keys (*n in use, *cap allocated); BT_ENOMEM when the array cannot
 * grow. */
int bt_bloom_key_push(uint64_t **keys, size_t *n, size_t *cap, uint64_t key);

/* Appends the keys of ev's summarised fields to keys (*n in use, *cap allocated),
 * through memo m (NULL: none); BT_ENOMEM when the array cannot grow. */
int bt_bloom_keys_add(uint64_t **keys, size_t *n, size_t *cap, const bt_event *ev,
                      bt_bloom_memo *m);

/* The row's fingerprint of its resources (events.rh): for each key of its resources'
 * names and types, two of 64 bits. A search tests (rh & mask) = mask for the mask of one
 * value before it reads the row's record: a Bloom filter per row, for the values too
 * many blocks hold for bsum.rbloom to narrow. */
uint64_t bt_bloom_rmask(uint64_t key);

/* Appends the keys of ev's resources (names and types) to keys, as above (through memo
 * m, NULL: none), and sets *mask (when not NULL) to ev's fingerprint (the bt_bloom_rmask
 * of each of those keys, OR-ed; 0 when it names none). */
int bt_bloom_rkeys_add(uint64_t **keys, size_t *n, size_t *cap, const bt_event *ev,
                       bt_bloom_memo *m, uint64_t *mask);

/* Builds the filter of keys[0..n) (sorted and deduplicated in place) into out
 * (cleared first): a power-of-two number of bytes, about 10 bits per distinct key. */
int bt_bloom_build(uint64_t *keys, size_t n, bt_buf *out);

/* 1 when the filter bits[0..len) may hold key, 0 when it surely does not (a filter of
 * invalid size may hold anything). */
int bt_bloom_has(const unsigned char *bits, size_t len, uint64_t key);

/* A block's set of event names (bsum.nset, schema 8): the names' 31-bit hashes
 * (bt_bloom_h31), sorted and distinct, 4 bytes each, little-endian. A time-ordered
 * search by name opens only the blocks whose set holds one of its names (a hash
 * collision opens one more block: the rows' names decide). */

/* Builds the set of h[0..n) (sorted and deduplicated in place) into out (cleared
 * first). BT_ENOMEM when out cannot grow. */
int bt_nset_build(uint32_t *h, size_t n, bt_buf *out);

/* 1 when the set set[0..len) holds one of want[0..nwant) (sorted ascending); a set of
 * invalid size (or NULL: a block without one) may hold anything. */
int bt_nset_has_any(const unsigned char *set, size_t len, const uint32_t *want, size_t nwant);

/* Hash i of a name set. */
uint32_t bt_nset_at(const unsigned char *set, size_t i);

/* A block's directory of names (bsum.ndir, see sqlite_int.h) is a sequence of unsigned
 * LEB128 varints: bt_ndir_put appends v to out (BT_ENOMEM when out cannot grow);
 * bt_ndir_get reads the varint at *p (before end) into *v and moves *p past it, 0 when
 * there is none. */
int bt_ndir_put(bt_buf *out, uint32_t v);
int bt_ndir_get(const unsigned char **p, const unsigned char *end, uint32_t *v);

/* A block's rows in time order (btime.tdir, schema 11): for each stored row its time and
 * its place in the block's id range (id - bsum.lo), ordered by (time, place), so that a
 * search in time order takes a block's rows a few at a time without reading them (the
 * block walk in sqlite_walk.c) where a time index over every row stood. Encoded as: a
 * format byte (1); the unit of the time steps (1: milliseconds, 2: whole seconds, which
 * CloudTrail's times are); the first time (a zigzag LEB128 varint of milliseconds); the
 * number of rows; then per row the step from the time before in the unit and the
 * place (unsigned LEB128 varints). About 3 bytes a row. */
typedef struct bt_tdir_ent {
    int64_t t;
    uint32_t place;
} bt_tdir_ent;

/* Sorts e[0..n) by (time, place) and encodes them into out (cleared first). 0 or
 * BT_ENOMEM. */
int bt_tdir_build(bt_tdir_ent *e, size_t n, bt_buf *out);

/* Decodes the directory p[0..len) into *e (grown as needed: *cap entries allocated,
 * realloc'd), *n its rows. 0, BT_EDB when it is malformed (or a place is not below
 * span, the block's id range), BT_ENOMEM. */
int bt_tdir_read(const unsigned char *p, size_t len, uint32_t span, bt_tdir_ent **e, size_t *n,
                 size_t *cap);

#endif
