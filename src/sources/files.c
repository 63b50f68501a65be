/* files.c - container recognition and record iteration over one input, and the
 * recursive file enumeration behind ingest and search --from (done at once, or step by
 * step as the scan's workers need files). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "buildtrail/buf.h"
#include "buildtrail/json.h"
#include "buildtrail/source.h"
#include "buildtrail/source_s3.h"
#include "scan_int.h"
#include "util/gzip.h"

/* Fields whose filter values appear verbatim in any record that matches them (unlike
 * username "root", or resource names that extraction derives). */
static const bt_filter_field verbatim_fields[] = {
    BT_F_EVENT_NAME, BT_F_EVENT_SOURCE, BT_F_ERROR_CODE,    BT_F_ACCOUNT,
    BT_F_REGION,     BT_F_SOURCE_IP,    BT_F_ACCESS_KEY_ID, BT_F_EVENT_ID,
    BT_F_PRINCIPAL,  BT_F_BUILD,        BT_F_PROJECT};
#define NVERBATIM (sizeof verbatim_fields / sizeof verbatim_fields[0])

/* A filter value searched in the whole input once, not in every record: at is where it
 * next occurs at or after the last position asked (SIZE_MAX: nowhere after it). */
typedef struct needle {
    const char *s;
    size_t n;
    size_t at;
    int known; /* at has been searched */
} needle;

typedef struct reader {
    const char *data;
    size_t len;
    const bt_filter *pre; /* prefilter: skip records that cannot match (NULL = none) */
    bool (*raw_keep)(void *ctx, const char *rec, size_t len); /* the consumer's (or NULL) */
    void *raw_ctx;
    needle needles[NVERBATIM * BT_FILTER_MAX_VALUES];
    unsigned nfield[NVERBATIM]; /* needles of each verbatim field, in order */
    bt_arena *arena;
    bt_event_fn fn;
    void *ctx;
    bt_read_stats *st;
    bt_error *err;
    int stop; /* non-zero value returned by fn */
    size_t max_record;
    int soft_rc;    /* the first bad part skipped (0 = none): returned at the end */
    bt_error first; /* its message */
    int more_after; /* something followed a bad part */
    uint64_t nbad;  /* bad parts in this input */
    uint64_t index; /* records met in this input (rejected included) */
    bt_reject_fn on_reject;
    void *reject_ctx;
    const bt_json **record; /* bt_read_opts.record */
} reader;

/* parse_at: the value is a container larger than max_record, skipped unparsed */
#define OVERSIZED 1

static size_t skip_ws(const char *d, size_t i, size_t len)
{
    while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
        i++;
    return i;
}

/* End of the JSON object or array starting at d[i] (string-aware), or 0 when it is not
 * closed within len. *escapes is set if a backslash occurs inside. Strings are crossed
 * with memchr: a quote ends one unless an odd run of backslashes precedes it. */
static size_t skip_container(const char *d, size_t i, size_t len, int *escapes)
{
    const char *p = d + i, *end = d + len;
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *q = p + 1;
            for (;;) {
                const char *b;
                q = memchr(q, '"', (size_t)(end - q));
                if (!q)
                    return 0;
                for (b = q; b > p + 1 && b[-1] == '\\'; b--)
                    ;
                if (((q - b) & 1) == 0)
                    break;
                q++;
            }
            p = q + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                *escapes = memchr(d + i, '\\', (size_t)(p + 1 - (d + i))) != NULL;
                return (size_t)(p + 1 - d);
            }
        }
        p++;
    }
    return 0;
}

/* The 64-bit masks of one 64-byte block: quotes, backslashes, and brackets or braces
 * opening and closing ('[' | 0x20 is '{', ']' | 0x20 is '}'). */
typedef struct block_masks {
    uint64_t q, bs, op, cl;
} block_masks;

#if defined(__SSE2__)
static inline __attribute__((always_inline)) void masks_sse2(const unsigned char *p, block_masks *m)
{
    int k;
    m->q = m->bs = m->op = m->cl = 0;
    for (k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20));
        int sh = 16 * k;
        m->q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))) << sh;
        m->bs |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')))
                 << sh;
        m->op |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(y, _mm_set1_epi8('{'))) << sh;
        m->cl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(y, _mm_set1_epi8('}'))) << sh;
    }
}
#define BLOCK_MASKS masks_sse2
#else
static inline void masks_plain(const unsigned char *p, block_masks *m)
{
    int k;
    m->q = m->bs = m->op = m->cl = 0;
    for (k = 0; k < 64; k++) {
        unsigned c = p[k], y = c | 0x20;
        m->q |= (uint64_t)(c == '"') << k;
        m->bs |= (uint64_t)(c == '\\') << k;
        m->op |= (uint64_t)(y == '{') << k;
        m->cl |= (uint64_t)(y == '}') << k;
    }
}
#define BLOCK_MASKS masks_plain
#endif

/* End of the JSON object or array starting at d[i], or 0 when it is not closed within
 * len or a backslash comes first (then the caller parses the record: a record with
 * escapes is never skipped). 64 bytes at a time: masks of quotes, backslashes and
 * brackets, strings tracked by a prefix XOR of the quotes. Written once, for each
 * instruction set's masks. */
#define RECORD_END_BODY(MASKS, PREFIX_XOR)                                                         \
    uint64_t carry = 0; /* all ones: inside a string at the block's start */                       \
    int depth = 0;                                                                                 \
    size_t off;                                                                                    \
    for (off = i; off < len; off += 64) {                                                          \
        unsigned char tail[64];                                                                    \
        const unsigned char *p = (const unsigned char *)d + off;                                   \
        block_masks bm;                                                                            \
        uint64_t in, m;                                                                            \
        int closes;                                                                                \
        if (len - off < 64) {                                                                      \
            memset(tail, 0, sizeof tail);                                                          \
            memcpy(tail, p, len - off);                                                            \
            p = tail;                                                                              \
        }                                                                                          \
        MASKS(p, &bm);                                                                             \
        /* bytes from each quote up to the next one: inside strings (quotes included) */           \
        in = PREFIX_XOR(bm.q) ^ carry;                                                             \
        m = (bm.op | bm.cl) & ~in;                                                                 \
        if (bm.bs)                                                                                 \
            m &= (bm.bs & -bm.bs) - 1; /* only what precedes the first backslash */                \
        /* fewer closings than the depth: the object cannot end in this block */                   \
        closes = __builtin_popcountll(m & bm.cl);                                                  \
        if (closes < depth) {                                                                      \
            depth += __builtin_popcountll(m & bm.op) - closes;                                     \
            m = 0;                                                                                 \
        }                                                                                          \
        while (m) {                                                                                \
            int b = __builtin_ctzll(m);                                                            \
            if (bm.op >> b & 1) {                                                                  \
                depth++;                                                                           \
            } else if (--depth == 0) {                                                             \
                return off + (size_t)b + 1;                                                        \
            } else if (depth < 0) {                                                                \
                return 0;                                                                          \
            }                                                                                      \
            m &= m - 1;                                                                            \
        }                                                                                          \
        if (bm.bs)                                                                                 \
            return 0;                                                                              \
        carry = (uint64_t)0 - (in >> 63);                                                          \
    }                                                                                              \
    return 0;

/* Each bit the XOR of itself and every bit below it: the bytes inside strings, from
 * the quotes' mask. */
static inline uint64_t prefix_xor_shifts(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

static size_t record_end_base(const char *d, size_t i, size_t len)
{
    RECORD_END_BODY(BLOCK_MASKS, prefix_xor_shifts)
}

#if defined(__x86_64__) && defined(__GNUC__)
/* AVX2 where the CPU has it: two 32-byte compares per mask instead of four. */
static inline __attribute__((target("avx2"), always_inline)) void masks_avx2(const unsigned char *p,
                                                                             block_masks *m)
{
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    __m256i l2 = _mm256_or_si256(lo, _mm256_set1_epi8(0x20));
    __m256i h2 = _mm256_or_si256(hi, _mm256_set1_epi8(0x20));
#define MASK64(a, b, c)                                                                            \
    ((uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, _mm256_set1_epi8(c))) |         \
     (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, _mm256_set1_epi8(c))) << 32)
    m->q = MASK64(lo, hi, '"');
    m->bs = MASK64(lo, hi, '\\');
    m->op = MASK64(l2, h2, '{');
    m->cl = MASK64(l2, h2, '}');
#undef MASK64
}

/* The prefix XOR as one carry-less multiply by all ones. */
static inline __attribute__((target("pclmul"), always_inline)) uint64_t prefix_xor_clmul(uint64_t x)
{
    return (uint64_t)_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0));
}

static __attribute__((target("avx2,pclmul,popcnt"))) size_t record_end_avx2(const char *d, size_t i,
                                                                             size_t len)
{
    RECORD_END_BODY(masks_avx2, prefix_xor_clmul)
}

static size_t record_end(const char *d, size_t i, size_t len)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") &&
                   __builtin_cpu_supports("popcnt")
               ? record_end_avx2(d, i, len)
               : record_end_base(d, i, len);
}
#else
#define record_end record_end_base
#endif

/* memmem, W positions at a time with W-byte vectors: the needle's first and last bytes
 * compared at once, memcmp only where both agree (Wojciech Mula's "generic SIMD"); h
 * and hn are left at the last positions, fewer than W. Written once, for each
 * instruction set. */
#define FIND_BYTES_SIMD(W, VEC, LOAD, SET1, CMPEQ, AND, MOVEMASK)                                  \
    if (n >= 2 && hn >= n + (W)-1) {                                                               \
        const VEC first = SET1(nd[0]), last = SET1(nd[n - 1]);                                     \
        size_t i;                                                                                  \
        for (i = 0; i + n - 1 + (W) <= hn; i += (W)) {                                             \
            VEC a = LOAD((const VEC *)(const void *)(h + i));                                      \
            VEC b = LOAD((const VEC *)(const void *)(h + i + n - 1));                              \
            unsigned m = (unsigned)MOVEMASK(AND(CMPEQ(a, first), CMPEQ(b, last)));                 \
            while (m) {                                                                            \
                unsigned b0 = (unsigned)__builtin_ctz(m);                                          \
                if (memcmp(h + i + b0 + 1, nd + 1, n - 2) == 0)                                    \
                    return h + i + b0;                                                             \
                m &= m - 1;                                                                        \
            }                                                                                      \
        }                                                                                          \
        h += i;                                                                                    \
        hn -= i;                                                                                   \
    }

/* memmem, 16 positions at a time where SSE2 is there. */
static const char *find_bytes_base(const char *h, size_t hn, const char *nd, size_t n)
{
#if defined(__SSE2__)
    FIND_BYTES_SIMD(16, __m128i, _mm_loadu_si128, _mm_set1_epi8, _mm_cmpeq_epi8, _mm_and_si128,
                    _mm_movemask_epi8)
#endif
    return memmem(h, hn, nd, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 32 positions at a time with AVX2, the rest as find_bytes_base. */
static __attribute__((target("avx2"))) const char *find_bytes_avx2(const char *h, size_t hn,
                                                                   const char *nd, size_t n)
{
    FIND_BYTES_SIMD(32, __m256i, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_cmpeq_epi8,
                    _mm256_and_si256, _mm256_movemask_epi8)
    return find_bytes_base(h, hn, nd, n);
}

static const char *find_bytes(const char *h, size_t hn, const char *nd, size_t n)
{
    return __builtin_cpu_supports("avx2") ? find_bytes_avx2(h, hn, nd, n)
                                          : find_bytes_base(h, hn, nd, n);
}
#else
#define find_bytes find_bytes_base
#endif

/* True when the needle occurs within d[from..to). */
static int needle_in(reader *r, needle *nd, size_t from, size_t to)
{
    if (!nd->known || (nd->at != SIZE_MAX && nd->at < from)) {
        const char *h =
            from < r->len ? find_bytes(r->data + from, r->len - from, nd->s, nd->n) : NULL;
        nd->at = h ? (size_t)(h - r->data) : SIZE_MAX;
        nd->known = 1;
    }
    return nd->at != SIZE_MAX && nd->at + nd->n <= to;
}

/* False when the record d[from..to) cannot match r->pre: for some verbatim field none
 * of the filter's values occurs in its bytes. Each value is searched in the rest of
 * the input once and found again only past its last occurrence, so a record far from
 * every occurrence costs no search at all. */
static int may_match(reader *r, size_t from, size_t to)
{
    size_t k, base = 0;
    unsigned v;
    for (k = 0; k < NVERBATIM; base += r->nfield[k], k++) {
        int hit = 0;
        for (v = 0; v < r->nfield[k] && !hit; v++)
            hit = needle_in(r, &r->needles[base + v], from, to);
        if (r->nfield[k] && !hit)
            return 0;
    }
    return 1;
}

/* False when the record d[from..to) cannot match the pre-filter or the consumer's
 * raw_keep turns it down. */
static int may_keep(reader *r, size_t from, size_t to)
{
    if (r->pre && !may_match(r, from, to))
        return 0;
    return !r->raw_keep || r->raw_keep(r->raw_ctx, r->data + from, to - from);
}

/* The pre-filter's values as needles (none without a pre-filter). */
static void needles_init(reader *r)
{
    size_t k, n = 0;
    unsigned v;
    for (k = 0; k < NVERBATIM; k++) {
        bt_filter_field f = verbatim_fields[k];
        r->nfield[k] = r->pre ? r->pre->nvalues[f] : 0;
        for (v = 0; v < r->nfield[k]; v++, n++) {
            r->needles[n].s = r->pre->values[f][v];
            r->needles[n].n = strlen(r->needles[n].s);
            r->needles[n].known = 0;
        }
    }
}

/* Hands ev, made from the JSON value v, to the consumer. */
static int deliver(reader *r, const bt_event *ev, const bt_json *v)
{
    int rc;
    r->st->records++;
    r->index++;
    if (r->record)
        *r->record = v && v->src == ev->raw && v->src_len == ev->raw_len ? v : NULL;
    rc = r->fn(r->ctx, ev);
    if (r->record)
        *r->record = NULL;
    if (rc)
        r->stop = rc;
    return rc;
}

/* A bad part noted (counted, the first reason kept); the arena is left alone, as the
 * value being walked may live in it. */
static void note_bad(reader *r, int rc)
{
    r->st->bad_parts++;
    r->nbad++;
    if (!r->soft_rc) {
        r->soft_rc = rc;
        r->first = *r->err;
    } else {
        r->more_after = 1;
    }
}

/* A record (or line) that does not convert: counted, reported, skipped. Returns 0, or
 * rc when reading must stop (out of memory). */
static int reject(reader *r, int rc, const char *raw, size_t raw_len, int is_json)
{
    bt_reject rj;
    if (rc == BT_ENOMEM || rc == BT_ESTOP)
        return rc;
    rj.index = r->index++;
    rj.reason = r->err->msg;
    rj.raw = raw;
    rj.raw_len = raw_len;
    rj.is_json = is_json;
    r->st->rejected++;
    if (r->on_reject)
        r->on_reject(r->reject_ctx, &rj);
    note_bad(r, rc);
    return 0;
}

static int handle_record(reader *r, const bt_json *rec)
{
    bt_event ev;
    int rc = bt_event_from_record(r->arena, rec, &ev, r->err);
    if (rc)
        return reject(r, rc, rec->src, rec->src_len, 1);
    return deliver(r, &ev, rec);
}

/* The one rule for a record: an object holding any of CloudTrail's record keys. */
static int is_record(const bt_json *v)
{
    static const char *const keys[] = {"eventVersion", "eventID", "eventTime", "eventName",
                                       "eventSource"};
    size_t k;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (bt_json_get(v, keys[k]))
            return 1;
    return 0;
}

static int handle_value(reader *r, const bt_json *v, int depth);

/* One element of lookup-events' Events[]: its CloudTrailEvent string is the record. */
static int handle_lookup_event(reader *r, const bt_json *e)
{
    const bt_json *s = bt_json_get(e, "CloudTrailEvent"), *rec;
    int rc;
    if (!s || s->type != BT_JSON_STRING) {
        r->st->ignored++;
        return 0;
    }
    rc = bt_json_parse(r->arena, s->u.str, s->len, NULL, (bt_json **)&rec, r->err);
    if (rc) {
        bt_error_prefix(r->err, "CloudTrailEvent of event %s",
                        bt_json_get_str(e, "EventId") ? bt_json_get_str(e, "EventId") : "?");
        return reject(r, rc, s->u.str, s->len, 0);
    }
    return handle_record(r, rec);
}

static int is_digest(const bt_json *v)
{
    /* digestS3Object is not always there; these two always are */
    return bt_json_get(v, "digestStartTime") &&
           (bt_json_get(v, "digestEndTime") || bt_json_get(v, "digestS3Object") ||
            bt_json_get(v, "logFiles"));
}

static int handle_value(reader *r, const bt_json *v, int depth)
{
    const bt_json *x;
    size_t i;
    int rc;

    if (depth > 4) {
        r->st->ignored++;
        return 0;
    }
    if (v->type == BT_JSON_ARRAY) {
        for (i = 0; i < v->len && !r->stop; i++)
            if ((rc = handle_value(r, v->u.items[i], depth + 1)))
                return rc;
        return 0;
    }
    if (v->type != BT_JSON_OBJECT) {
        r->st->ignored++;
        return 0;
    }
    if ((x = bt_json_get(v, "Records")) && x->type == BT_JSON_ARRAY)
        return handle_value(r, x, depth + 1);
    if ((x = bt_json_get(v, "Events")) && x->type == BT_JSON_ARRAY) {
        for (i = 0; i < x->len && !r->stop; i++)
            if ((rc = handle_lookup_event(r, x->u.items[i])))
                return rc;
        return 0;
    }
    if ((x = bt_json_get(v, "detail-type")) && x->type == BT_JSON_STRING) {
        const bt_json *detail = bt_json_get(v, "detail");
        bt_event ev;
        if (bt_json_is_str(x, "AWS API Call via CloudTrail") && detail &&
            detail->type == BT_JSON_OBJECT)
            return handle_record(r, detail);
        rc = bt_event_from_build_status(r->arena, v, &ev, r->err);
        if (rc == BT_ENOTFOUND) {
            r->st->ignored++;
            return 0;
        }
        if (rc)
            return reject(r, rc, v->src, v->src_len, 1);
        return deliver(r, &ev, v);
    }
    if (is_digest(v)) {
        r->st->digests++;
        return 0;
    }
    if (is_record(v))
        return handle_record(r, v);
    r->st->ignored++;
    return 0;
}

/* Matches `"key"` followed by optional whitespace and ':' at d[i]; returns the index
 * after the ':' or 0. */
static size_t match_key(const char *d, size_t i, size_t len, const char *key)
{
    size_t k = strlen(key);
    if (i + k + 2 > len || d[i] != '"' || memcmp(d + i + 1, key, k) != 0 || d[i + 1 + k] != '"')
        return 0;
    i = skip_ws(d, i + k + 2, len);
    if (i >= len || d[i] != ':')
        return 0;
    return i + 1;
}

/* Parses the value at *pos, at most max_record bytes of it: a container larger than
 * that is skipped whole (*pos after it) and OVERSIZED returned. */
static int parse_at(reader *r, size_t *pos, bt_json **out)
{
    size_t used = 0, avail = r->len - *pos;
    bt_json_parse_opts po = {0, 0, *pos};
    int rc, esc;

    if (avail > r->max_record)
        avail = r->max_record;
    rc = bt_json_parse_prefix(r->arena, r->data + *pos, avail, &po, out, &used, r->err);
    if (rc && rc != BT_ENOMEM && avail < r->len - *pos &&
        (r->data[*pos] == '{' || r->data[*pos] == '[')) {
        size_t end = skip_container(r->data, *pos, r->len, &esc);
        if (end > *pos + r->max_record) {
            bt_arena_reset(r->arena);
            *pos = end;
            r->st->oversized++;
            return OVERSIZED;
        }
    }
    if (rc)
        return rc;
    *pos += used;
    return 0;
}

/* A bad part that costs only itself (a record that does not convert, a line that is
 * not JSON): counted, the first reason kept for the end, reading goes on. Returns
 * non-zero when reading must stop instead (out of memory, the consumer stopped). */
static int soft_fail(reader *r, int rc)
{
    if (r->stop || rc == BT_ENOMEM || rc == BT_ESTOP)
        return rc;
    note_bad(r, rc);
    bt_arena_reset(r->arena);
    return 0;
}

/* A record-level value parsed at *pos (stream element or array element): handled,
 * skipped as oversized, or a structural error (returned). */
static int value_at(reader *r, size_t *pos, int depth, int lookup)
{
    bt_json *el;
    int rc = parse_at(r, pos, &el);
    if (rc == OVERSIZED)
        return 0;
    if (rc)
        return rc;
    if (lookup)
        rc = el->type == BT_JSON_OBJECT ? handle_lookup_event(r, el) : (r->st->ignored++, 0);
    else
        rc = handle_value(r, el, depth);
    bt_arena_reset(r->arena);
    if (rc && !r->stop && rc != BT_ENOMEM && rc != BT_ESTOP)
        return soft_fail(r, rc); /* the element parsed: the next one can be read */
    return rc;
}

/*
 * Streams {"Records":[...]} or {"Events":[...]} one element at a time so memory stays
 * bounded whatever the file size. *pos is at '{'; returns 1 if it did not match this
 * shape (nothing consumed), 0 when done, or an error.
 */
static int stream_object(reader *r, size_t *pos)
{
    const char *d = r->data;
    size_t i = skip_ws(d, *pos + 1, r->len), j;
    int lookup = 0, rc;

    if ((j = match_key(d, i, r->len, "Records")) == 0) {
        if ((j = match_key(d, i, r->len, "Events")) == 0)
            return 1;
        lookup = 1;
    }
    i = skip_ws(d, j, r->len);
    if (i >= r->len || d[i] != '[')
        return 1;
    i = skip_ws(d, i + 1, r->len);
    if (i < r->len && d[i] == ']') {
        i++;
    } else {
        for (;;) {
            if ((r->pre || r->raw_keep) && !lookup && d[i] == '{') {
                size_t end = record_end(d, i, r->len);
                if (end && !may_keep(r, i, end)) {
                    /* cannot match: counted, not parsed */
                    r->st->records++;
                    r->index++;
                    i = end;
                    goto next;
                }
            }
            if ((rc = value_at(r, &i, 1, lookup)) || r->stop)
                return rc;
        next:
            i = skip_ws(d, i, r->len);
            if (i < r->len && d[i] == ',') {
                i = skip_ws(d, i + 1, r->len);
                continue;
            }
            if (i < r->len && d[i] == ']') {
                i++;
                break;
            }
            return bt_error_set(r->err, BT_EPARSE,
                                i >= r->len ? "truncated JSON: the Records array is not closed"
                                            : "invalid JSON at byte %zu: expected ',' or ']'",
                                i);
        }
    }
    /* the rest of the object: other members are parsed (validated) and ignored */
    for (;;) {
        bt_json *k, *v;
        i = skip_ws(d, i, r->len);
        if (i < r->len && d[i] == '}') {
            *pos = i + 1;
            return 0;
        }
        if (i >= r->len || d[i] != ',')
            return bt_error_set(r->err, BT_EPARSE,
                                i >= r->len ? "truncated JSON: object is not closed"
                                            : "invalid JSON at byte %zu: expected ',' or '}'",
                                i);
        i = skip_ws(d, i + 1, r->len);
        if ((rc = parse_at(r, &i, &k)))
            return rc == OVERSIZED ? bt_error_set(r->err, BT_EPARSE,
                                                  "invalid JSON at byte %zu: expected a key", i)
                                   : rc;
        if (k->type != BT_JSON_STRING)
            return bt_error_set(r->err, BT_EPARSE, "invalid JSON at byte %zu: expected a key", i);
        i = skip_ws(d, i, r->len);
        if (i >= r->len || d[i] != ':')
            return bt_error_set(r->err, BT_EPARSE, "invalid JSON at byte %zu: expected ':'", i);
        i = skip_ws(d, i + 1, r->len);
        if ((rc = parse_at(r, &i, &v)) && rc != OVERSIZED)
            return rc;
        bt_arena_reset(r->arena);
    }
}

/* Top level: a sequence of JSON values (one for a plain file, many for NDJSON). A
 * top-level array is streamed element by element. */
static int read_values(reader *r)
{
    size_t pos = 0;
    int rc;

    if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    for (;;) {
        bt_json *v;
        pos = skip_ws(r->data, pos, r->len);
        if (pos >= r->len || r->stop)
            return 0;
        if (r->data[pos] == '{') {
            rc = stream_object(r, &pos);
            if (rc <= 0) {
                if (rc)
                    return rc;
                continue;
            }
        } else if (r->data[pos] == '[') {
            size_t i = skip_ws(r->data, pos + 1, r->len);
            if (i < r->len && r->data[i] == ']') {
                pos = i + 1;
                continue;
            }
            for (;;) {
                if ((rc = value_at(r, &i, 1, 0)) || r->stop)
                    return rc;
                i = skip_ws(r->data, i, r->len);
                if (i < r->len && r->data[i] == ',') {
                    i = skip_ws(r->data, i + 1, r->len);
                    continue;
                }
                if (i < r->len && r->data[i] == ']')
                    break;
                return bt_error_set(r->err, BT_EPARSE,
                                    i >= r->len ? "truncated JSON: the array is not closed"
                                                : "invalid JSON at byte %zu: expected ',' or ']'",
                                    i);
            }
            pos = i + 1;
            continue;
        }
        if ((r->pre || r->raw_keep) && r->data[pos] == '{') {
            size_t end = record_end(r->data, pos, r->len);
            /* an EventBridge envelope or a record that cannot match */
            if (end && !may_keep(r, pos, end)) {
                r->st->records++;
                r->index++;
                pos = end;
                continue;
            }
        }
        {
            /* a top-level value (a line of NDJSON): a bad one costs only its line */
            size_t start = pos;
            rc = parse_at(r, &pos, &v);
            if (rc == OVERSIZED)
                continue;
            if (!rc) {
                rc = handle_value(r, v, 0);
                bt_arena_reset(r->arena);
                if (rc && (rc = soft_fail(r, rc)))
                    return rc;
                continue;
            }
            {
                const char *nl = memchr(r->data + start, '\n', r->len - start);
                size_t eol = nl ? (size_t)(nl - r->data) : r->len;
                if ((rc = reject(r, rc, r->data + start, eol - start, 0)))
                    return rc;
                bt_arena_reset(r->arena);
                pos = nl ? eol + 1 : r->len;
            }
            if (skip_ws(r->data, pos, r->len) < r->len)
                r->more_after = 1;
        }
    }
}

int bt_read_data(const char *data, size_t len, bt_arena *scratch, bt_event_fn fn, void *ctx,
                 bt_read_stats *st, bt_error *err)
{
    return bt_read_data_filtered(data, len, scratch, NULL, fn, ctx, st, err);
}

int bt_read_data_filtered(const char *data, size_t len, bt_arena *scratch, const bt_filter *pre,
                          bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err)
{
    return bt_read_data_ex(data, len, scratch, pre, 0, fn, ctx, st, err);
}

int bt_read_data_ex(const char *data, size_t len, bt_arena *scratch, const bt_filter *pre,
                    size_t max_record, bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err)
{
    bt_read_opts o;
    memset(&o, 0, sizeof o);
    o.pre = pre;
    o.max_record = max_record;
    return bt_read_data_opts(data, len, scratch, &o, fn, ctx, st, err);
}

/* JSON that held values but nothing recognised: said, rather than read as empty. */
static int nothing_recognised(const bt_read_stats *st, const bt_read_stats *before, bt_error *err)
{
    if (st->records != before->records || st->rejected != before->rejected ||
        st->digests != before->digests || st->oversized != before->oversized ||
        st->ignored == before->ignored)
        return 0;
    return bt_error_set(err, BT_ENOTFOUND,
                        "no CloudTrail records recognised (%llu JSON value(s) that are neither "
                        "records nor known envelopes)",
                        (unsigned long long)(st->ignored - before->ignored));
}

int bt_read_data_opts(const char *data, size_t len, bt_arena *scratch, const bt_read_opts *o,
                      bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err)
{
    bt_read_stats before = *st;
    bt_buf own = BT_BUF_INIT, *plain = o->plain ? o->plain : &own;
    bt_error gz = BT_ERROR_INIT;
    reader r;
    int rc, gz_rc = 0;

    st->bytes_in += len;
    if (bt_gzip_is(data, len)) {
        /* a damaged stream keeps what decompressed before the damage */
        bt_buf_clear(plain);
        if ((gz_rc = bt_gzip_decompress(data, len, plain, &gz)) && gz_rc != BT_EPARSE) {
            rc = gz_rc;
            *err = gz;
            goto done;
        }
        if (gz_rc)
            st->bad_parts++;
        data = plain->data ? plain->data : "";
        len = plain->len;
    }
    st->bytes_json += len;
    r.data = data;
    r.len = len;
    r.pre = o->pre;
    r.raw_keep = o->raw_keep;
    r.raw_ctx = o->raw_ctx;
    r.arena = scratch;
    r.fn = fn;
    r.ctx = ctx;
    r.st = st;
    r.err = err;
    r.stop = 0;
    r.max_record = o->max_record ? o->max_record : BT_MAX_RECORD_DEFAULT;
    r.soft_rc = 0;
    r.more_after = 0;
    r.nbad = 0;
    r.index = 0;
    r.on_reject = o->on_reject;
    r.reject_ctx = o->reject_ctx;
    r.record = o->record;
    needles_init(&r);
    rc = read_values(&r);
    if (!rc && !r.stop && !r.soft_rc && !gz_rc)
        rc = nothing_recognised(st, &before, err);
    if (!rc && r.stop)
        rc = r.stop;
    if (!rc && r.soft_rc) {
        *err = r.first;
        if (r.more_after)
            bt_error_set(err, r.soft_rc, "%s (%llu bad part(s) skipped, the rest read)",
                         r.first.msg, (unsigned long long)r.nbad);
        rc = r.soft_rc;
    }
    if (gz_rc && (!rc || rc == BT_EPARSE)) {
        /* the gzip damage is the reason; what it held before was read */
        *err = gz;
        rc = gz_rc;
    }
done:
    bt_arena_reset(scratch);
    bt_buf_dispose(&own);
    return rc;
}

int bt_reject_write(bt_buf *out, const char *source, const bt_reject *rj)
{
    int rc = bt_buf_puts(out, "{\"source\":");
    rc |= bt_json_write_string(out, source ? source : "", source ? strlen(source) : 0, 0);
    rc |= bt_buf_printf(out, ",\"index\":%llu,\"reason\":", (unsigned long long)rj->index);
    rc |= bt_json_write_string(out, rj->reason, strlen(rj->reason), 0);
    if (rj->is_json) {
        size_t i, from = 0;
        rc |= bt_buf_puts(out, ",\"record\":");
        /* one line: a pretty-printed record's line breaks (whitespace) become spaces */
        for (i = 0; i <= rj->raw_len; i++)
            if (i == rj->raw_len || rj->raw[i] == '\n' || rj->raw[i] == '\r') {
                rc |= bt_buf_append(out, rj->raw + from, i - from);
                if (i < rj->raw_len)
                    rc |= bt_buf_putc(out, ' ');
                from = i + 1;
            }
    } else {
        rc |= bt_buf_puts(out, ",\"text\":");
        rc |= bt_json_write_string(out, rj->raw, rj->raw_len, 0);
    }
    rc |= bt_buf_puts(out, "}\n");
    return rc ? BT_ENOMEM : 0;
}

/* ---- enumeration ------------------------------------------------------------------ */

int bt_looks_like_input(const char *data, size_t len)
{
    size_t i = 0;
    if (bt_gzip_is(data, len))
        return 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    i = skip_ws(data, i, len);
    return i < len && (data[i] == '{' || data[i] == '[');
}

/* A path given to the list, waiting to be listed in its turn: a directory to walk, a
 * file (its stat as taken when added), stdin, or a failed entry. */
typedef struct pending {
    char *path;  /* owned */
    char *error; /* owned; a failed entry's message */
    struct stat sb;
    int dir;
} pending;

/* A directory being walked: its entries sorted, the next one at i. */
typedef struct walk_frame {
    DIR *d;
    char *dir;    /* owned */
    char **names; /* owned, full paths */
    size_t n, i;
    int depth;
} walk_frame;

/* What l->seen points to: (device, inode) pairs of what the list holds, as an
 * open-addressing hash set, so a directory is entered and a file listed once however
 * many paths lead to them; and the listing still to do (paths added with
 * bt_file_list_add_later, the directories being walked). */
typedef struct seen_set {
    struct seen_key {
        dev_t dev;
        ino_t ino;
    } * v; /* (0, 0) marks a free slot: the key (0, 0) itself is a flag */
    size_t n, cap;
    int has_zero;
    char *first_loop;
    pending *q;
    size_t nq, iq, capq;
    walk_frame *stack;
    size_t depth, capstack;
    pthread_mutex_t *mu; /* scan_list_advance's */
} seen_set;

static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

/* Makes room for one more element in v (n used of cap), or runs fail. */
#define GROW_OR(v, n, cap, first, fail)                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            size_t nc_ = (cap) ? (cap)*2 : (first);                                                \
            void *nv_ = realloc((v), nc_ * sizeof *(v));                                           \
            if (!nv_)                                                                              \
                fail;                                                                              \
            (v) = nv_;                                                                             \
            (cap) = nc_;                                                                           \
        }                                                                                          \
    } while (0)

static seen_set *list_state(bt_file_list *l)
{
    if (!l->seen)
        l->seen = calloc(1, sizeof(seen_set));
    return l->seen;
}

#define SEEN_USED(k) ((k).dev != 0 || (k).ino != 0)
#define SEEN_HASH(dev, ino, cap) (((size_t)(ino)*0x9E3779B97F4A7C15ull ^ (size_t)(dev)) & ((cap)-1))

/* 1 if (dev, ino) was in the set, 0 if added now, <0 out of memory. */
static int seen_check_add(bt_file_list *l, const struct stat *sb)
{
    seen_set *s = list_state(l);
    size_t i;
    if (!s)
        return -1;
    if (sb->st_dev == 0 && sb->st_ino == 0) {
        int had = s->has_zero;
        s->has_zero = 1;
        return had;
    }
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256, k;
        struct seen_key *nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return -1;
        for (k = 0; k < s->cap; k++)
            if (SEEN_USED(s->v[k])) {
                size_t h = SEEN_HASH(s->v[k].dev, s->v[k].ino, ncap);
                while (SEEN_USED(nv[h]))
                    h = (h + 1) & (ncap - 1);
                nv[h] = s->v[k];
            }
        free(s->v);
        s->v = nv;
        s->cap = ncap;
    }
    for (i = SEEN_HASH(sb->st_dev, sb->st_ino, s->cap); SEEN_USED(s->v[i]);
         i = (i + 1) & (s->cap - 1))
        if (s->v[i].dev == sb->st_dev && s->v[i].ino == sb->st_ino)
            return 1;
    s->v[i].dev = sb->st_dev;
    s->v[i].ino = sb->st_ino;
    s->n++;
    return 0;
}

/* Appends an entry (sb: its stat, NULL for stdin or a failed entry with msg), under the
 * list's mutex while a scan reads the list (scan_list_advance). */
static int list_push(bt_file_list *l, const char *path, const struct stat *sb, int walked,
                     const char *msg)
{
    seen_set *s = l->seen;
    bt_file_info *e;
    int rc = BT_ENOMEM;
    if (s && s->mu)
        pthread_mutex_lock(s->mu);
    GROW_OR(l->v, l->n, l->alloc, 64, goto done);
    e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    if (!(e->path = strdup(path)) || (msg && !(e->error = strdup(msg)))) {
        free(e->path);
        goto done;
    }
    e->size = sb ? (uint64_t)sb->st_size : 0;
    e->mtime_ns = sb ? (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec : 0;
    e->walked = walked;
    l->n++;
    rc = 0;
done:
    if (s && s->mu)
        pthread_mutex_unlock(s->mu);
    return rc;
}

static int list_push_failed(bt_file_list *l, const char *path, const char *msg)
{
    return list_push(l, path, NULL, 0, msg);
}

int scan_list_pending(const bt_file_list *l)
{
    const seen_set *s = l->seen;
    return s && (s->iq < s->nq || s->depth > 0);
}

/* Queues a path to be listed in its turn (sb: its stat; NULL for stdin or a failed
 * entry). */
static int enqueue_path(bt_file_list *l, const char *path, const struct stat *sb, const char *error)
{
    seen_set *s = list_state(l);
    pending *e;
    if (!s)
        return BT_ENOMEM;
    GROW_OR(s->q, s->nq, s->capq, 8, return BT_ENOMEM);
    e = &s->q[s->nq];
    memset(e, 0, sizeof *e);
    if (sb) {
        e->sb = *sb;
        e->dir = S_ISDIR(sb->st_mode);
    }
    if (!(e->path = strdup(path)) || (error && !(e->error = strdup(error)))) {
        free(e->path);
        free(e->error);
        return BT_ENOMEM;
    }
    s->nq++;
    return 0;
}

int bt_file_list_add_failed(bt_file_list *l, const char *path, const bt_error *e)
{
    /* in its turn when paths wait to be listed before it */
    if (scan_list_pending(l))
        return enqueue_path(l, path, NULL, e->msg);
    return list_push_failed(l, path, e->msg);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory already entered: counted, the first one named in the warning. */
static int note_loop(bt_file_list *l, const char *dir)
{
    seen_set *s = l->seen;
    char *w;
    l->loops++;
    if (!s->first_loop && !(s->first_loop = strdup(dir)))
        return 0;
    if (l->loops == 1)
        w = fmt_alloc("'%s': directory already read (a symlink loop?), skipped", dir);
    else
        w = fmt_alloc("'%s': directory already read (a symlink loop?), skipped; "
                      "%llu such directories skipped in all",
                      s->first_loop, (unsigned long long)l->loops);
    if (w) {
        free(l->warning);
        l->warning = w;
    }
    return 0;
}

static void frame_free(walk_frame *f)
{
    size_t i;
    for (i = 0; i < f->n; i++)
        free(f->names[i]);
    free(f->names);
    free(f->dir);
    if (f->d)
        closedir(f->d);
}

/* Enters dir: its entries read and sorted, walked from the next steps on. */
static int walk_enter(bt_file_list *l, const char *dir, int depth, bt_error *err)
{
    seen_set *s = l->seen;
    struct dirent *de;
    walk_frame f;
    size_t alloc = 0;

    if (depth > 64)
        return bt_error_set(err, BT_ELIMIT, "'%s': directories nested too deeply", dir);
    memset(&f, 0, sizeof f);
    f.depth = depth;
    if (!(f.d = opendir(dir))) {
        /* listed as a failed entry: the rest of the walk goes on */
        bt_error e = BT_ERROR_INIT;
        bt_error_set(&e, BT_EIO, "'%s': %s", dir, strerror(errno));
        return list_push_failed(l, dir, e.msg) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
    }
    if (!(f.dir = strdup(dir)))
        goto oom;
    while ((de = readdir(f.d))) {
        if (de->d_name[0] == '.')
            continue;
        GROW_OR(f.names, f.n, alloc, 64, goto oom);
        if (!(f.names[f.n] = malloc(strlen(dir) + strlen(de->d_name) + 2)))
            goto oom;
        sprintf(f.names[f.n], "%s/%s", dir, de->d_name);
        f.n++;
    }
    if (f.n > 1) /* names is NULL for an empty directory */
        qsort(f.names, f.n, sizeof *f.names, cmp_names);
    GROW_OR(s->stack, s->depth, s->capstack, 8, goto oom);
    s->stack[s->depth++] = f;
    return 0;
oom:
    frame_free(&f);
    return bt_error_set(err, BT_ENOMEM, "out of memory");
}

/* The next entry of the innermost directory: entered, listed, or skipped. */
static int walk_entry(bt_file_list *l, bt_error *err)
{
    seen_set *s = l->seen;
    walk_frame *f = &s->stack[s->depth - 1];
    const char *path = f->names[f->i++];
    struct stat sb;
    int seen;
    /* relative to the directory: no walk of the whole path for every entry */
    if (fstatat(dirfd(f->d), path + strlen(f->dir) + 1, &sb, 0) != 0)
        return 0; /* vanished or dangling link */
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
        return 0;
    if ((seen = seen_check_add(l, &sb)) < 0)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (S_ISDIR(sb.st_mode))
        return seen ? note_loop(l, path) : walk_enter(l, path, f->depth + 1, err);
    if (seen)
        return 0; /* the same file by another path */
    if (list_push(l, path, &sb, 1, NULL))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

/* Lists the next queued path: a file or stdin listed, a directory entered. */
static int list_queued(bt_file_list *l, bt_error *err)
{
    seen_set *s = l->seen;
    pending *e = &s->q[s->iq++];
    int rc = 0, seen;

    if (e->error) {
        rc = list_push_failed(l, e->path, e->error);
    } else if (strcmp(e->path, "-") == 0 && !e->sb.st_mode) {
        rc = list_push(l, "-", NULL, 0, NULL);
    } else if ((seen = seen_check_add(l, &e->sb)) < 0) {
        rc = BT_ENOMEM;
    } else if (e->dir) {
        size_t k = strlen(e->path);
        if (seen)
            return note_loop(l, e->path);
        /* drop trailing slashes for tidy paths */
        while (k > 1 && e->path[k - 1] == '/')
            e->path[--k] = '\0';
        return walk_enter(l, e->path, 0, err);
    } else {
        /* a file named directly is read as asked, even twice; the walk skips it */
        rc = list_push(l, e->path, &e->sb, 0, NULL);
    }
    return rc ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
}

int scan_list_advance(bt_file_list *l, size_t want, pthread_mutex_t *mu, bt_error *err)
{
    seen_set *s = l->seen;
    int rc = 0;
    if (s)
        s->mu = mu;
    while (!rc && l->n < want && s) {
        if (s->depth > 0) {
            walk_frame *f = &s->stack[s->depth - 1];
            if (f->i == f->n) {
                frame_free(f);
                s->depth--;
                continue;
            }
            rc = walk_entry(l, err);
        } else if (s->iq < s->nq) {
            rc = list_queued(l, err);
        } else {
            break;
        }
    }
    if (rc) {
        /* the walk under way ends with it (the paths queued after it stay) */
        while (s->depth > 0)
            frame_free(&s->stack[--s->depth]);
    }
    if (s)
        s->mu = NULL;
    return rc;
}

/* Checks path and queues it to be listed in its turn. */
static int add_path(bt_file_list *l, const char *path, bt_error *err)
{
    struct stat sb;

    if (strcmp(path, "-") == 0)
        return enqueue_path(l, "-", NULL, NULL) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
    if (stat(path, &sb) != 0)
        return bt_error_set(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, "'%s': %s", path,
                            strerror(errno));
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
        /* a FIFO would block open() and a device never end: only stdin streams */
        return bt_error_set(err, BT_EINVAL,
                            "'%s': not a regular file or directory (pipe it to - instead)", path);
    return enqueue_path(l, path, &sb, NULL) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
}

int bt_file_list_add_later(bt_file_list *l, const char *path, bt_error *err)
{
    return add_path(l, path, err);
}

int bt_file_list_add(bt_file_list *l, const char *path, bt_error *err)
{
    int rc = add_path(l, path, err);
    return rc ? rc : scan_list_advance(l, SIZE_MAX, NULL, err);
}

/* An entry with its sort key, for scan_list_sort_by_delivery. */
typedef struct dkey {
    int64_t hour, ms; /* INT64_MIN: no stamp */
    const char *who;  /* "<account>_CloudTrail_<region>_" in the file's name, whose */
    size_t wholen;    /* whole length compares (the account and region) */
    size_t i;         /* position in the list */
} dkey;

static int cmp_dkey(const void *a, const void *b)
{
    const dkey *x = a, *y = b;
    size_t n = x->wholen < y->wholen ? x->wholen : y->wholen;
    int c;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1;
    if ((c = memcmp(x->who, y->who, n)) != 0)
        return c;
    if (x->wholen != y->wholen)
        return x->wholen < y->wholen ? -1 : 1;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* k's account and region: the start of the file's name up to the stamp. */
static void dkey_who(dkey *k, const char *path)
{
    const char *base = strrchr(path, '/'), *ct, *end;
    base = base ? base + 1 : path;
    k->who = base;
    k->wholen = 0;
    if ((ct = strstr(base, "_CloudTrail_")) && (end = strchr(ct + 12, '_')))
        k->wholen = (size_t)(end + 1 - base);
}

int scan_list_sort_by_delivery(bt_file_list *l)
{
    dkey *k;
    bt_file_info *v;
    size_t i;
    if (l->n < 2)
        return 0;
    k = malloc(l->n * sizeof *k);
    v = malloc(l->n * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return BT_ENOMEM;
    }
    for (i = 0; i < l->n; i++) {
        k[i].i = i;
        if (l->v[i].error || bt_s3_key_delivery_ms(l->v[i].path, &k[i].ms) != 0)
            k[i].ms = INT64_MIN;
        /* floor division: an hour before 1970 stays apart from the first after */
        k[i].hour = k[i].ms == INT64_MIN ? INT64_MIN
                                         : k[i].ms / 3600000 - (k[i].ms % 3600000 < 0);
        dkey_who(&k[i], l->v[i].path);
        if (k[i].ms == INT64_MIN)
            k[i].wholen = 0; /* no stamp: listing order */
    }
    qsort(k, l->n, sizeof *k, cmp_dkey);
    for (i = 0; i < l->n; i++)
        v[i] = l->v[k[i].i];
    memcpy(l->v, v, l->n * sizeof *v);
    free(v);
    free(k);
    return 0;
}

void bt_file_list_dispose(bt_file_list *l)
{
    seen_set *s;
    size_t i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].error);
    }
    free(l->v);
    free(l->warning);
    if ((s = l->seen)) {
        free(s->v);
        free(s->first_loop);
        for (i = 0; i < s->nq; i++) {
            free(s->q[i].path);
            free(s->q[i].error);
        }
        free(s->q);
        while (s->depth > 0)
            frame_free(&s->stack[--s->depth]);
        free(s->stack);
    }
    free(l->seen);
    memset(l, 0, sizeof *l);
}
