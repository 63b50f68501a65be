/*
 * mfind.c - whether any of a few literals occurs in a buffer, ASCII case-insensitively
 * (mfind.h): each literal anchored on its two rarest bytes, the anchors compared a
 * vector of positions at a time (Wojciech Mula's "generic SIMD" substring search, one
 * pair of compares per literal), the positions where both agree compared in full.
 */
#include "util/mfind.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/* How rare each byte is in CloudTrail JSON: about -log2 of its frequency (letters
 * counted in both cases), measured on the public sample records of ../shared/samples;
 * bytes above 0x7f (UTF-8) taken as rare, control bytes as never there. Higher is
 * rarer: the anchors are a literal's two highest. */
static const unsigned char g_cost[256] = {
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 6,  20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 20, 2,  20, 4,  12, 20, 20, 20, 20, 11, 11, 14, 14, 6,  6,  7,  8,
    6,  5,  6,  7,  7,  7,  7,  7,  7,  7,  5,  11, 20, 10, 20, 14, 11, 4,  7,  5,  5,  4,  7,  7,
    7,  5,  10, 8,  6,  6,  5,  5,  6,  10, 5,  5,  5,  6,  7,  7,  8,  7,  8,  10, 7,  10, 20, 8,
    20, 4,  7,  5,  5,  4,  7,  7,  7,  5,  10, 8,  6,  6,  5,  5,  6,  10, 5,  5,  5,  6,  7,  7,
    8,  7,  8,  8,  20, 8,  20, 20, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
};

typedef struct lit {
    unsigned char *s; /* lowercased */
    size_t n;
    size_t a, b;          /* the anchors' offsets */
    unsigned char ca, cb; /* their bytes, lowercased */
    unsigned char fa, fb; /* 0x20 when the anchor is a letter (compared folded), else 0 */
} lit;

struct bt_mfind {
    lit l[BT_MFIND_MAX];
    size_t n, maxlen;
    bool avx2;
    /* 2 to 8 literals of 3 bytes or more, with AVX2: one pass for all (Teddy, as in
     * Hyperscan): literal k is bucket bit k; per position p of its first three bytes,
     * nib_lo[p][x] and nib_hi[p][x] hold the buckets whose byte there has low (high)
     * nibble x, in either case for a letter; a position where the three agree on a
     * bucket is a candidate, compared in full */
    bool teddy;
    unsigned char nib_lo[3][16], nib_hi[3][16];
};

static unsigned char lower(unsigned char c)
{
    return (unsigned)c - 'A' < 26u ? (unsigned char)(c | 0x20) : c;
}

static bool is_alpha(unsigned char c)
{
    return (unsigned)(c | 0x20) - 'a' < 26u;
}

void bt_mfind_free(bt_mfind *m)
{
    size_t i;
    if (!m)
        return;
    for (i = 0; i < m->n; i++)
        free(m->l[i].s);
    free(m);
}

int bt_mfind_new(const char *const *lits, const size_t *lens, size_t n, bt_mfind **out)
{
    bt_mfind *m;
    size_t i, k;
    *out = NULL;
    if (n > BT_MFIND_MAX)
        return BT_EINVAL;
    for (i = 0; i < n; i++)
        if (!lens[i])
            return BT_EINVAL;
    if (!(m = calloc(1, sizeof *m)))
        return BT_ENOMEM;
    for (i = 0; i < n; i++) {
        lit *l = &m->l[i];
        if (!(l->s = malloc(lens[i]))) {
            bt_mfind_free(m);
            return BT_ENOMEM;
        }
        m->n++;
        l->n = lens[i];
        for (k = 0; k < l->n; k++)
            l->s[k] = lower((unsigned char)lits[i][k]);
        l->a = l->b = 0;
        for (k = 1; k < l->n; k++) /* the rarest byte, then the rarest other one */
            if (g_cost[l->s[k]] > g_cost[l->s[l->a]])
                l->a = k;
        l->b = l->a == 0 && l->n > 1 ? 1 : 0;
        for (k = 0; k < l->n; k++)
            if (k != l->a && g_cost[l->s[k]] > g_cost[l->s[l->b]])
                l->b = k;
        l->ca = l->s[l->a];
        l->cb = l->s[l->b];
        l->fa = is_alpha(l->ca) ? 0x20 : 0;
        l->fb = is_alpha(l->cb) ? 0x20 : 0;
        if (l->n > m->maxlen)
            m->maxlen = l->n;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    m->avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
    m->teddy = m->avx2 && n >= 2 && n <= 8;
    for (i = 0; i < n; i++)
        m->teddy = m->teddy && m->l[i].n >= 3;
    for (i = 0; m->teddy && i < n; i++)
        for (k = 0; k < 3; k++) {
            unsigned char c = m->l[i].s[k], bit = (unsigned char)(1u << i);
            m->nib_lo[k][c & 15] |= bit;
            m->nib_hi[k][c >> 4] |= bit;
            if (is_alpha(c))
                m->nib_hi[k][(c ^ 0x20) >> 4] |= bit; /* the other case */
        }
    *out = m;
    return 0;
}

/* h[0..n) equals the lowercased literal, ASCII case-insensitively */
static bool ci_eq(const unsigned char *h, const unsigned char *lc, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lower(h[i]) != lc[i])
            return false;
    return true;
}

/* The first position in [from, len - l->n] where the literal occurs, or SIZE_MAX. */
static size_t scalar_from(const lit *l, const unsigned char *h, size_t from, size_t len)
{
    size_t p;
    for (p = from; p + l->n <= len; p++)
        if ((h[p + l->a] | l->fa) == l->ca && (h[p + l->b] | l->fb) == l->cb &&
            ci_eq(h + p, l->s, l->n))
            return p;
    return SIZE_MAX;
}

/* The positions from `from` on, one at a time: the first occurrence of any literal. */
static size_t tail(const bt_mfind *m, const unsigned char *h, size_t from, size_t len, int *which)
{
    size_t k, best = SIZE_MAX;
    for (k = 0; k < m->n; k++) {
        size_t end = best == SIZE_MAX || best + m->l[k].n > len ? len : best + m->l[k].n;
        size_t p = scalar_from(&m->l[k], h, from, end);
        if (p < best) {
            best = p;
            *which = (int)k;
        }
    }
    return best;
}

/* W positions at a time: per literal, its two anchors loaded at their offsets, folded,
 * compared; where both agree, the literal in full. An occurrence sets *at and gives
 * true: the first in h with a single literal, else the first of the first literal found
 * in the first W positions holding one. Stops W + maxlen short of the end (every load
 * and compare stays inside h); then *at is where tail goes on, and it gives false. */
#define MFIND_SIMD(W, VEC, LOAD, SET1, OR, CMPEQ, AND, MOVEMASK)                                   \
    {                                                                                              \
        size_t i, k;                                                                               \
        for (i = 0; i + (W) + m->maxlen <= len; i += (W)) {                                        \
            for (k = 0; k < m->n; k++) {                                                           \
                const lit *l = &m->l[k];                                                           \
                VEC a = OR(LOAD((const VEC *)(const void *)(h + i + l->a)), SET1((char)l->fa));    \
                VEC b = OR(LOAD((const VEC *)(const void *)(h + i + l->b)), SET1((char)l->fb));    \
                unsigned mask = (unsigned)MOVEMASK(                                                \
                    AND(CMPEQ(a, SET1((char)l->ca)), CMPEQ(b, SET1((char)l->cb))));                \
                while (mask) {                                                                     \
                    if (ci_eq(h + i + (unsigned)__builtin_ctz(mask), l->s, l->n)) {                \
                        *at = i + (unsigned)__builtin_ctz(mask);                                   \
                        *which = (int)k;                                                           \
                        return true;                                                               \
                    }                                                                              \
                    mask &= mask - 1;                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        *at = i;                                                                                   \
        return false;                                                                              \
    }

static bool any_base(const bt_mfind *m, const unsigned char *h, size_t len, size_t *at, int *which)
{
#if defined(__SSE2__)
    MFIND_SIMD(16, __m128i, _mm_loadu_si128, _mm_set1_epi8, _mm_or_si128, _mm_cmpeq_epi8,
               _mm_and_si128, _mm_movemask_epi8)
#else
    (void)m;
    (void)h;
    (void)len;
    (void)which;
    *at = 0;
    return false;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
static __attribute__((target("avx2"))) bool any_avx2(const bt_mfind *m, const unsigned char *h,
                                                     size_t len, size_t *at, int *which)
{
    MFIND_SIMD(32, __m256i, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_or_si256,
               _mm256_cmpeq_epi8, _mm256_and_si256, _mm256_movemask_epi8)
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* Teddy over 32 positions at a time (see struct bt_mfind); as any_avx2 otherwise: the
 * first occurrence in the first 32 positions holding one, the lowest literal there. */
static __attribute__((target("avx2"))) bool teddy_avx2(const bt_mfind *m, const unsigned char *h,
                                                       size_t len, size_t *at, int *which)
{
    const __m256i low = _mm256_set1_epi8(15), zero = _mm256_setzero_si256();
    __m256i tlo[3], thi[3];
    size_t i, k;
    for (k = 0; k < 3; k++) {
        tlo[k] = _mm256_broadcastsi128_si256(
            _mm_loadu_si128((const __m128i *)(const void *)m->nib_lo[k]));
        thi[k] = _mm256_broadcastsi128_si256(
            _mm_loadu_si128((const __m128i *)(const void *)m->nib_hi[k]));
    }
    for (i = 0; i + 32 + m->maxlen <= len; i += 32) {
        __m256i acc = _mm256_set1_epi8(-1);
        unsigned mask;
        for (k = 0; k < 3; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(h + i + k));
            __m256i lo = _mm256_and_si256(v, low);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
            acc = _mm256_and_si256(acc, _mm256_and_si256(_mm256_shuffle_epi8(tlo[k], lo),
                                                         _mm256_shuffle_epi8(thi[k], hi)));
        }
        mask = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(acc, zero));
        if (mask) {
            unsigned char b[32];
            _mm256_storeu_si256((__m256i *)(void *)b, acc);
            while (mask) {
                unsigned p = (unsigned)__builtin_ctz(mask), bits = b[p];
                while (bits) {
                    unsigned j = (unsigned)__builtin_ctz(bits);
                    if (ci_eq(h + i + p, m->l[j].s, m->l[j].n)) {
                        *at = i + p;
                        *which = (int)j;
                        return true;
                    }
                    bits &= bits - 1;
                }
                mask &= mask - 1;
            }
        }
    }
    *at = i;
    return false;
}
#endif

static const char *find_which(const bt_mfind *m, const char *hay, size_t len, int *which)
{
    const unsigned char *h = (const unsigned char *)hay;
    size_t at = 0;
    bool hit;
    *which = -1;
    if (!m || !m->n)
        return NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    hit = m->teddy  ? teddy_avx2(m, h, len, &at, which)
          : m->avx2 ? any_avx2(m, h, len, &at, which)
                    : any_base(m, h, len, &at, which);
#else
    hit = any_base(m, h, len, &at, which);
#endif
    if (!hit && (at = tail(m, h, at, len, which)) == SIZE_MAX)
        return NULL;
    return hay + at;
}

const char *bt_mfind_find(const bt_mfind *m, const char *h, size_t len)
{
    int which;
    return find_which(m, h, len, &which);
}

bool bt_mfind_any(const bt_mfind *m, const char *h, size_t len)
{
    int which;
    return find_which(m, h, len, &which) != NULL;
}

int bt_mfind_which(const bt_mfind *m, const char *h, size_t len)
{
    int which;
    return find_which(m, h, len, &which) ? which : -1;
}
