/*
 * bloom.c - per-block Bloom filters over the store's high-cardinality fields (see
 * bloom.h). Keys are 64-bit hashes of (field, value); each key sets 6 bits chosen by
 * double hashing; the filter size is a power of two bytes, about 10 bits per distinct
 * key (about 1% false positives), at least 64 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/error.h"
#include "store/bloom.h"
#include "util/tsort.h"

#define BLOOM_K 6

uint64_t bt_bloom_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* p's 8 bytes (fewer at the end: k) as a little-endian word */
static uint64_t le_word(const unsigned char *p, size_t k)
{
    uint64_t w = 0;
    memcpy(&w, p, k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

uint64_t bt_bloom_hash_bytes(uint64_t seed, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = seed;
    size_t i;
    for (i = 0; i < n; i += 8)
        h = bt_bloom_mix64(h ^ le_word(b + i, n - i < 8 ? n - i : 8));
    return bt_bloom_mix64(h ^ (uint64_t)n);
}

/* FNV-1a of str from the offset basis h. */
static uint64_t fnv1a(uint64_t h, const char *str)
{
    while (*str)
        h = (h ^ (unsigned char)*str++) * 1099511628211ULL;
    return h;
}

uint64_t bt_bloom_key(int tag, const char *str)
{
    return bt_bloom_mix64(fnv1a(1469598103934665603ULL ^ (uint64_t)tag, str));
}

uint64_t bt_bloom_fnv(const char *str)
{
    return fnv1a(1469598103934665603ULL, str);
}

int64_t bt_bloom_h31_of(uint64_t fnv)
{
    return (int64_t)((fnv ^ (fnv >> 31) ^ (fnv >> 62)) & 0x7fffffff);
}

int64_t bt_bloom_h31(const char *str)
{
    return str ? bt_bloom_h31_of(bt_bloom_fnv(str)) : 0;
}

#define MEMO_SLOTS 4096 /* a power of 2 */
#define MEMO_FNV 0      /* the tag of bt_bloom_fnv's values (the keys': BT_BK_*) */

typedef struct memo_ent {
    const char *s; /* NULL: empty */
    uint32_t len, tag;
    uint64_t val;
} memo_ent;

struct bt_bloom_memo {
    memo_ent v[MEMO_SLOTS];
};

bt_bloom_memo *bt_bloom_memo_new(void)
{
    return calloc(1, sizeof(bt_bloom_memo));
}

void bt_bloom_memo_free(bt_bloom_memo *m)
{
    free(m);
}

/* The slot of (tag, s[0..n)): from its length, first, middle and last 8 bytes, which
 * is what tells apart values as alike as one account's ARNs; no pass over its bytes. */
static memo_ent *memo_slot(bt_bloom_memo *m, int tag, const char *s, size_t n)
{
    uint64_t a = 0, b = 0, c = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(&c, s + n / 2 - 4, 8);
    } else
        memcpy(&a, s, n);
    a = bt_bloom_mix64(a ^ (b * 0x9e3779b97f4a7c15ULL) ^ (c << 1) ^ ((uint64_t)n << 8) ^
                       (uint64_t)tag);
    return &m->v[a & (MEMO_SLOTS - 1)];
}

/* The memo's value of (tag, str) (str not NULL), computed by fn(tag, str) when it holds
 * none. */
static uint64_t memo_canon(bt_bloom_memo *m, int tag, const char **strp,
                           uint64_t (*fn)(int, const char *))
{
    const char *str = *strp;
    size_t n;
    memo_ent *e;
    if (!m)
        return fn(tag, str);
    n = strlen(str);
    if (n > UINT32_MAX)
        return fn(tag, str);
    e = memo_slot(m, tag, str, n);
    if (e->s && e->len == n && e->tag == (uint32_t)tag && memcmp(e->s, str, n) == 0) {
        *strp = e->s;
        return e->val;
    }
    e->s = str;
    e->len = (uint32_t)n;
    e->tag = (uint32_t)tag;
    e->val = fn(tag, str);
    return e->val;
}

static uint64_t memo_get(bt_bloom_memo *m, int tag, const char *str,
                         uint64_t (*fn)(int, const char *))
{
    return memo_canon(m, tag, &str, fn);
}

static uint64_t fnv_fn(int tag, const char *str)
{
    (void)tag;
    return bt_bloom_fnv(str);
}

uint64_t bt_bloom_fnv_memo(bt_bloom_memo *m, const char *str)
{
    return memo_get(m, MEMO_FNV, str, fnv_fn);
}

uint64_t bt_bloom_fnv_canon(bt_bloom_memo *m, const char **str)
{
    return memo_canon(m, MEMO_FNV, str, fnv_fn);
}

int64_t bt_bloom_h31_memo(bt_bloom_memo *m, const char *str)
{
    return str ? bt_bloom_h31_of(bt_bloom_fnv_memo(m, str)) : 0;
}

uint64_t bt_bloom_rkey(int tag, int64_t h)
{
    return bt_bloom_mix64(((uint64_t)tag << 40) ^ (uint64_t)h ^ 0x9e3779b97f4a7c15ULL);
}

int bt_bloom_key_push(uint64_t **keys, size_t *n, size_t *cap, uint64_t key)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        uint64_t *k = realloc(*keys, nc * sizeof *k);
        if (!k)
            return BT_ENOMEM;
        *keys = k;
        *cap = nc;
    }
    (*keys)[(*n)++] = key;
    return 0;
}

static int push(uint64_t **keys, size_t *n, size_t *cap, bt_bloom_memo *m, int tag, const char *v)
{
    if (!v || !*v)
        return 0;
    return bt_bloom_key_push(keys, n, cap, memo_get(m, tag, v, bt_bloom_key));
}

int bt_bloom_keys_add(uint64_t **keys, size_t *n, size_t *cap, const bt_event *ev, bt_bloom_memo *m)
{
    int rc;
    if ((rc = push(keys, n, cap, m, BT_BK_USER, ev->username)) ||
        (rc = push(keys, n, cap, m, BT_BK_PRINCIPAL, ev->principal_arn)) ||
        (rc = push(keys, n, cap, m, BT_BK_AKID, ev->access_key_id)) ||
        (rc = push(keys, n, cap, m, BT_BK_IP, ev->source_ip)))
        return rc;
    return 0;
}

uint64_t bt_bloom_rmask(uint64_t key)
{
    return (1ULL << (key & 63)) | (1ULL << ((key >> 6) & 63));
}

/* The keys of resource r (its name's, then its type's when it has one) into k;
 * returns how many. */
static int resource_keys(const bt_resource *r, bt_bloom_memo *m, uint64_t k[2])
{
    int n = 0;
    if (r->name)
        k[n++] = bt_bloom_rkey(BT_BK_RNAME, bt_bloom_h31_memo(m, r->name));
    if (r->type)
        k[n++] = bt_bloom_rkey(BT_BK_RTYPE, bt_bloom_h31_memo(m, r->type));
    return n;
}

int bt_bloom_rkeys_add(uint64_t **keys, size_t *n, size_t *cap, const bt_event *ev,
                       bt_bloom_memo *memo, uint64_t *mask)
{
    uint64_t k[2], m = 0;
    size_t i;
    int j, nk, rc;
    for (i = 0; i < ev->n_resources; i++)
        for (j = 0, nk = resource_keys(&ev->resources[i], memo, k); j < nk; j++) {
            m |= bt_bloom_rmask(k[j]);
            if ((rc = bt_bloom_key_push(keys, n, cap, k[j])))
                return rc;
        }
    if (mask)
        *mask = m;
    return 0;
}

/* Moves the distinct keys of keys[0..n) to its front, in first-seen order, *d of them
 * (through an open-addressing set of the keys, which are hashes already: a sort was 2% of
 * ingest's CPU). 0 or BT_ENOMEM. */
static int distinct_keys(uint64_t *keys, size_t n, size_t *d)
{
    uint64_t *set;
    unsigned char *used;
    size_t cap = 16, i;
    *d = 0;
    while (cap < 2 * n)
        cap *= 2;
    set = malloc(cap * sizeof *set);
    used = calloc(cap, 1);
    for (i = 0; set && used && i < n; i++) {
        uint64_t k = keys[i];
        size_t j = (size_t)(k ^ (k >> 31)) & (cap - 1);
        while (used[j] && set[j] != k)
            j = (j + 1) & (cap - 1);
        if (used[j])
            continue;
        used[j] = 1;
        set[j] = k;
        keys[(*d)++] = k;
    }
    free(set);
    free(used);
    return i == n ? 0 : BT_ENOMEM;
}

int bt_bloom_build(uint64_t *keys, size_t n, bt_buf *out)
{
    size_t i, d = 0, len = 64, bits;
    int rc;

    if (n && (rc = distinct_keys(keys, n, &d))) /* keys may be NULL when a block names none */
        return rc;
    while (len * 8 < d * 10)
        len *= 2;
    bt_buf_clear(out);
    if ((rc = bt_buf_reserve(out, len)))
        return rc;
    memset(out->data, 0, len);
    out->len = len;
    bits = len * 8;
    for (i = 0; i < d; i++) {
        uint64_t h1 = keys[i], h2 = (keys[i] >> 32) | 1;
        int k;
        for (k = 0; k < BLOOM_K; k++) {
            size_t b = (size_t)((h1 + (uint64_t)k * h2) & (bits - 1));
            out->data[b >> 3] |= (char)(1u << (b & 7));
        }
    }
    return 0;
}

int bt_bloom_has(const unsigned char *bits, size_t len, uint64_t key)
{
    uint64_t h1 = key, h2 = (key >> 32) | 1;
    size_t nb = len * 8;
    int k;
    if (!bits || len < 64 || (len & (len - 1)))
        return 1;
    for (k = 0; k < BLOOM_K; k++) {
        size_t b = (size_t)((h1 + (uint64_t)k * h2) & (nb - 1));
        if (!(bits[b >> 3] & (1u << (b & 7))))
            return 0;
    }
    return 1;
}

static int less_u32(const uint32_t *a, const uint32_t *b)
{
    return *a < *b;
}
BT_TSORT_DEFINE(sort_u32, uint32_t, less_u32)

int bt_nset_build(uint32_t *h, size_t n, bt_buf *out)
{
    size_t i, k = 0;
    bt_buf_clear(out);
    if (n)
        sort_u32(h, n);
    for (i = 0; i < n; i++)
        if (i == 0 || h[i] != h[k - 1])
            h[k++] = h[i];
    if (bt_buf_reserve(out, 4 * k + 1))
        return BT_ENOMEM;
    for (i = 0; i < k; i++) {
        unsigned char *b = (unsigned char *)out->data + 4 * i;
        b[0] = (unsigned char)h[i];
        b[1] = (unsigned char)(h[i] >> 8);
        b[2] = (unsigned char)(h[i] >> 16);
        b[3] = (unsigned char)(h[i] >> 24);
    }
    out->len = 4 * k;
    return 0;
}

int bt_nset_has_any(const unsigned char *set, size_t len, const uint32_t *want, size_t nwant)
{
    size_t i = 0, j = 0, n = len / 4;
    if (!set || len % 4)
        return 1;
    while (i < n && j < nwant) { /* both sorted: one merge pass */
        uint32_t v = bt_nset_at(set, i);
        if (v == want[j])
            return 1;
        if (v < want[j])
            i++;
        else
            j++;
    }
    return 0;
}

uint32_t bt_nset_at(const unsigned char *set, size_t i)
{
    const unsigned char *b = set + 4 * i;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- varints: a block's directory of names, and its rows in time order ---- */

static int put_u64(bt_buf *out, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    return bt_buf_append(out, b, n);
}

static int get_u64(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    unsigned shift = 0;
    *v = 0;
    while (*p < end && shift < 64) {
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 1;
        shift += 7;
    }
    return 0;
}

int bt_ndir_put(bt_buf *out, uint32_t v)
{
    return put_u64(out, v);
}

int bt_ndir_get(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    uint64_t x;
    if (!get_u64(p, end, &x) || x > UINT32_MAX)
        return 0;
    *v = (uint32_t)x;
    return 1;
}

static int less_tdir(const bt_tdir_ent *a, const bt_tdir_ent *b)
{
    return a->t != b->t ? a->t < b->t : a->place < b->place;
}
BT_TSORT_DEFINE(sort_tdir, bt_tdir_ent, less_tdir)

int bt_tdir_build(bt_tdir_ent *e, size_t n, bt_buf *out)
{
    uint64_t unit = 1000, first;
    size_t i;
    int rc = 0;
    bt_buf_clear(out);
    sort_tdir(e, n);
    for (i = 0; i < n && unit > 1; i++)
        if (e[i].t % 1000)
            unit = 1;
    first = n ? (uint64_t)e[0].t : 0;
    rc = bt_buf_putc(out, 1) || bt_buf_putc(out, unit == 1 ? 1 : 2) ||
         put_u64(out, (first << 1) ^ (uint64_t)(n && e[0].t < 0 ? -1 : 0)) || put_u64(out, n);
    for (i = 0; i < n && !rc; i++)
        rc = put_u64(out, i ? (uint64_t)(e[i].t - e[i - 1].t) / unit : 0) ||
             put_u64(out, e[i].place);
    return rc ? BT_ENOMEM : 0;
}

int bt_tdir_read(const unsigned char *p, size_t len, uint32_t span, bt_tdir_ent **e, size_t *n,
                 size_t *cap)
{
    const unsigned char *end = p + len;
    uint64_t zz, count, step, place, unit;
    int64_t t;
    size_t i;
    *n = 0;
    if (len < 2 || p[0] != 1 || (p[1] != 1 && p[1] != 2))
        return BT_EDB;
    unit = p[1] == 1 ? 1 : 1000;
    p += 2;
    if (!get_u64(&p, end, &zz) || !get_u64(&p, end, &count) || count > span ||
        count > (uint64_t)(end - p) / 2)
        return BT_EDB;
    t = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    if (count > *cap) {
        void *v = realloc(*e, (size_t)count * sizeof **e);
        if (!v)
            return BT_ENOMEM;
        *e = v;
        *cap = (size_t)count;
    }
    for (i = 0; i < count; i++) {
        if (!get_u64(&p, end, &step) || !get_u64(&p, end, &place) || place >= span ||
            step > (uint64_t)INT64_MAX / unit)
            return BT_EDB;
        t = (int64_t)((uint64_t)t + step * unit); /* wraps on a damaged directory: no UB */
        (*e)[i].t = t;
        (*e)[i].place = (uint32_t)place;
    }
    if (p != end)
        return BT_EDB;
    *n = (size_t)count;
    return 0;
}
