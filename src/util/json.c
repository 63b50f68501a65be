/*
 * json.c - the strict RFC 8259 JSON parser (DOM in a bt_arena), plus access,
 * comparison and construction of bt_json values. Writing is in json_write.c.
 *
 * Parser design (speed matters: it scans gigabytes of CloudTrail records):
 * - no recursion: an explicit stack of open containers; children are gathered on
 *   two temporary stacks (item pointers, object members) and copied once into the
 *   arena when the container closes, together with its node;
 * - strings are scanned 16 bytes at a time (SSE2, else a byte loop) for runs without
 *   '"', '\\', control or non-ASCII bytes; non-ASCII bytes are validated as UTF-8
 *   sequence by sequence; a string without escapes is copied once (node and text in
 *   one allocation); escapes are decoded through a scratch buffer;
 * - small allocations come from a local bump region carved out of the arena;
 * - numbers: exact fast path for up to 19 significant digits and |exp10| <= 22,
 *   else strtod in the C locale on the literal text (kept in the node anyway).
 *
 * Implementation-defined choices (docs/json.md): \u escapes of lone or inverted
 * UTF-16 surrogates decode to U+FFFD; a UTF-8 byte order mark is rejected; numbers
 * of any size are accepted (double overflow gives +-inf, underflow 0, the literal
 * text is kept exact); default depth cap 512 containers.
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buildtrail/json.h"
#include "util/json_priv.h"

/* ---- locale-independent strtod ---- */

static locale_t g_c_locale;
static pthread_once_t g_c_locale_once = PTHREAD_ONCE_INIT;

static void init_c_locale(void)
{
    g_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

double bt_json__strtod(const char *s, char **endp)
{
    pthread_once(&g_c_locale_once, init_c_locale);
    if (g_c_locale)
        return strtod_l(s, endp, g_c_locale);
    return strtod(s, endp);
}

/* ---- parser state ---- */

#define LOCAL_FRAMES 64
#define LOCAL_ITEMS 256
#define LOCAL_MEMBERS 128
#define LOCAL_SCRATCH 1024
#define BUMP_SIZE 2048

typedef struct frame {
    const char *start; /* the '[' or '{' */
    size_t base;       /* first slot of this container on the item / member stack */
    int is_obj;
} frame;

typedef struct parser {
    bt_arena *arena;
    const char *text, *end;
    bt_error *err;
    unsigned max_depth;
    size_t offset_base; /* added to byte offsets in error messages */
    char *bcur, *bend;  /* bump region */

    frame *frames;
    size_t frames_cap;
    bt_json **items;
    size_t items_len, items_cap;
    bt_json_member *mem;
    size_t mem_len, mem_cap;
    char *scratch;
    size_t scratch_cap;
    int eof; /* the error was running out of input (prefix mode turns it into BT_ELIMIT) */

    frame frames_local[LOCAL_FRAMES];
    bt_json *items_local[LOCAL_ITEMS];
    bt_json_member mem_local[LOCAL_MEMBERS];
    char scratch_local[LOCAL_SCRATCH];
} parser;

static void parser_init(parser *ps, bt_arena *arena, const char *text, size_t len,
                        unsigned max_depth, bt_error *err)
{
    ps->arena = arena;
    ps->text = text;
    ps->end = text + len;
    ps->err = err;
    ps->max_depth = max_depth;
    ps->bcur = ps->bend = NULL;
    ps->frames = ps->frames_local;
    ps->frames_cap = LOCAL_FRAMES;
    ps->items = ps->items_local;
    ps->items_len = 0;
    ps->items_cap = LOCAL_ITEMS;
    ps->mem = ps->mem_local;
    ps->mem_len = 0;
    ps->mem_cap = LOCAL_MEMBERS;
    ps->scratch = ps->scratch_local;
    ps->scratch_cap = LOCAL_SCRATCH;
    ps->eof = 0;
}

static void parser_dispose(parser *ps)
{
    if (ps->frames != ps->frames_local)
        free(ps->frames);
    if (ps->items != ps->items_local)
        free(ps->items);
    if (ps->mem != ps->mem_local)
        free(ps->mem);
    if (ps->scratch != ps->scratch_local)
        free(ps->scratch);
}

/* Grows a stack that may still live in its local array. */
static int grow_stack(void **data, size_t *cap, void *local, size_t elem, size_t need)
{
    size_t n = *cap;
    void *p;
    while (n < need) {
        if (n > ((size_t)-1 / 2) / elem)
            return BT_ENOMEM;
        n *= 2;
    }
    if (*data == local) {
        p = malloc(n * elem);
        if (p)
            memcpy(p, local, *cap * elem);
    } else {
        p = realloc(*data, n * elem);
    }
    if (!p)
        return BT_ENOMEM;
    *data = p;
    *cap = n;
    return 0;
}

static int perr(parser *ps, const char *at, int code, const char *what)
{
    if (at >= ps->end)
        ps->eof = 1;
    return bt_error_set(ps->err, code, "invalid JSON at byte %zu: %s",
                        ps->offset_base + (size_t)(at - ps->text), what);
}

static int perr_char(parser *ps, const char *at, const char *ctx)
{
    char what[96];
    unsigned char c;
    if (at >= ps->end)
        return perr(ps, at, BT_EPARSE, "unexpected end of input");
    c = (unsigned char)*at;
    if (c == 0xEF && ps->end - at >= 3 && (unsigned char)at[1] == 0xBB &&
        (unsigned char)at[2] == 0xBF && at == ps->text)
        return perr(ps, at, BT_EPARSE, "byte order mark (U+FEFF) is not allowed");
    if (c > 0x20 && c < 0x7F)
        snprintf(what, sizeof what, "unexpected character '%c'%s", c, ctx);
    else
        snprintf(what, sizeof what, "unexpected byte 0x%02x%s", c, ctx);
    return perr(ps, at, BT_EPARSE, what);
}

static int enomem(parser *ps)
{
    return bt_error_set(ps->err, BT_ENOMEM, "out of memory while parsing JSON");
}

/* ---- allocation: a bump region inside the arena ---- */

static void *palloc_slow(parser *ps, size_t n)
{
    char *b;
    if (n > BUMP_SIZE / 4)
        return bt_arena_alloc(ps->arena, n);
    b = bt_arena_alloc(ps->arena, BUMP_SIZE);
    if (!b)
        return bt_arena_alloc(ps->arena, n); /* near the arena cap: exact size */
    ps->bcur = b + n;
    ps->bend = b + BUMP_SIZE;
    return b;
}

static inline void *palloc(parser *ps, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(ps->bend - ps->bcur) >= n) {
        void *r = ps->bcur;
        ps->bcur += n;
        return r;
    }
    return palloc_slow(ps, n);
}

/* ---- lexical helpers ---- */

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* First byte at or after p that is '"', '\\', < 0x20 or >= 0x80 (or end). */
static inline const char *scan_plain(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                 _mm_cmplt_epi8(v, sp)); /* signed: catches >= 0x80 too */
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            return p;
        p++;
    }
    return p;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Four hex digits at p (caller checked 4 bytes are there); -1 if not hex. */
static inline long hex4(const char *p)
{
    int a = hexval((unsigned char)p[0]), b = hexval((unsigned char)p[1]),
        c = hexval((unsigned char)p[2]), d = hexval((unsigned char)p[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return (long)((a << 12) | (b << 8) | (c << 4) | d);
}

static inline size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- strings ---- */

static int scratch_reserve(parser *ps, size_t used, size_t extra)
{
    if (ps->scratch_cap - used >= extra)
        return 0;
    if (extra > (size_t)-1 / 4 - used)
        return BT_ENOMEM;
    return grow_stack((void **)&ps->scratch, &ps->scratch_cap, ps->scratch_local, 1, used + extra);
}

/*
 * Decodes the string whose text starts at s (just after the opening quote); the bytes
 * [s, p) are known to be plain and *p is the first backslash. Leaves the decoded
 * bytes in ps->scratch (*outlen of them) and *pp just past the closing quote.
 */
/* The byte each one-letter escape stands for (0: not one). */
static const char simple_escape[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                        ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};

static int string_slow(parser *ps, const char *s, const char **pp, size_t *outlen)
{
    const char *p = *pp, *end = ps->end;
    size_t n = (size_t)(p - s);
    int rc;

    if ((rc = scratch_reserve(ps, 0, n + 16)))
        return enomem(ps);
    memcpy(ps->scratch, s, n);
    for (;;) {
        unsigned char c;
        if (p >= end)
            return (ps->eof = 1, perr(ps, s - 1, BT_EPARSE, "unterminated string"));
        c = (unsigned char)*p;
        if (c == '"') {
            *pp = p + 1;
            *outlen = n;
            return 0;
        }
        if (c == '\\') {
            char e;
            if (end - p < 2)
                return (ps->eof = 1, perr(ps, s - 1, BT_EPARSE, "unterminated string"));
            if ((rc = scratch_reserve(ps, n, 8)))
                return enomem(ps);
            e = p[1];
            if (e != 'u' && simple_escape[(unsigned char)e]) {
                ps->scratch[n++] = simple_escape[(unsigned char)e];
                p += 2;
                continue;
            }
            switch (e) {
            case 'u': {
                long u, u2;
                unsigned long cp;
                if (end - p < 6)
                    ps->eof = 1;
                if (end - p < 6 || (u = hex4(p + 2)) < 0)
                    return perr(ps, p, BT_EPARSE, "invalid \\u escape (need 4 hex digits)");
                p += 6;
                cp = (unsigned long)u;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                        (u2 = hex4(p + 2)) >= 0xDC00 && u2 <= 0xDFFF) {
                        cp = 0x10000 + (((unsigned long)u - 0xD800) << 10) +
                             ((unsigned long)u2 - 0xDC00);
                        p += 6;
                    } else {
                        cp = 0xFFFD; /* lone high surrogate */
                    }
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    cp = 0xFFFD; /* lone low surrogate */
                }
                n += put_utf8(ps->scratch + n, cp);
                continue;
            }
            default: return perr(ps, p, BT_EPARSE, "invalid escape in string");
            }
        }
        if (c < 0x20)
            return perr(ps, p, BT_EPARSE, "unescaped control character in string");
        if (c >= 0x80) {
            size_t k = bt_json__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (!k)
                return perr(ps, p, BT_EPARSE, "invalid UTF-8 in string");
            if ((rc = scratch_reserve(ps, n, k)))
                return enomem(ps);
            memcpy(ps->scratch + n, p, k);
            n += k;
            p += k;
            continue;
        }
        {
            const char *q = scan_plain(p, end);
            size_t k = (size_t)(q - p);
            if ((rc = scratch_reserve(ps, n, k)))
                return enomem(ps);
            memcpy(ps->scratch + n, p, k);
            n += k;
            p = q;
        }
    }
}

/*
 * Parses the string at *pp (the opening quote). Allocates `head` bytes followed by
 * the decoded, NUL-terminated text in one block; returns the block (text at
 * block + head) or NULL with the error set. *pp ends just past the closing quote.
 */
static char *parse_string(parser *ps, const char **pp, size_t head, size_t *outlen)
{
    const char *s = *pp + 1, *p = s, *end = ps->end, *src;
    size_t n = 0;
    char *blk;

    for (;;) {
        unsigned char c;
        p = scan_plain(p, end);
        if (p >= end) {
            ps->eof = 1;
            perr(ps, s - 1, BT_EPARSE, "unterminated string");
            return NULL;
        }
        c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            size_t k = bt_json__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (!k) {
                perr(ps, p, BT_EPARSE, "invalid UTF-8 in string");
                return NULL;
            }
            p += k;
            continue;
        }
        if (c == '\\') {
            if (string_slow(ps, s, &p, &n))
                return NULL;
            *pp = p;
            src = ps->scratch;
            goto copy;
        }
        perr(ps, p, BT_EPARSE, "unescaped control character in string");
        return NULL;
    }
    n = (size_t)(p - s);
    src = s;
    *pp = p + 1;
copy:
    blk = palloc(ps, head + n + 1);
    if (!blk) {
        enomem(ps);
        return NULL;
    }
    memcpy(blk + head, src, n);
    blk[head + n] = '\0';
    *outlen = n;
    return blk;
}

/* ---- numbers ---- */

static const double g_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bt_json *parse_number(parser *ps, const char **pp)
{
    const char *s = *pp, *p = s, *end = ps->end;
    uint64_t m = 0;
    int nd = 0, frac = 0, neg = 0, slow = 0;
    long ex = 0;
    double d;
    bt_json *v;
    char *txt;
    size_t len;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || (unsigned)(*p - '0') > 9) {
        perr(ps, p, BT_EPARSE,
             p >= end ? "unexpected end of input in number" : "expected digit in number");
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < end && (unsigned)(*p - '0') <= 9) {
            perr(ps, p, BT_EPARSE, "leading zeros are not allowed in numbers");
            return NULL;
        }
    } else {
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (nd < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                nd++;
            } else {
                slow = 1;
            }
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || (unsigned)(*p - '0') > 9) {
            perr(ps, p, BT_EPARSE, "expected digit after decimal point");
            return NULL;
        }
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (nd < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                if (m)
                    nd++;
                frac++;
            } else {
                slow = 1;
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= end || (unsigned)(*p - '0') > 9) {
            perr(ps, p, BT_EPARSE, "expected digit in exponent");
            return NULL;
        }
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (ex < 100000000)
                ex = ex * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            ex = -ex;
    }
    len = (size_t)(p - s);
    v = palloc(ps, sizeof(bt_json) + len + 1);
    if (!v) {
        enomem(ps);
        return NULL;
    }
    txt = (char *)(v + 1);
    memcpy(txt, s, len);
    txt[len] = '\0';
    ex -= frac;
    if (!slow) {
        if (m == 0)
            d = 0.0;
        else if (ex == 0)
            d = (double)m; /* correctly rounded conversion */
        else if (m <= ((uint64_t)1 << 53) && ex >= -22 && ex <= 22)
            d = ex < 0 ? (double)m / g_pow10[-ex] : (double)m * g_pow10[ex];
        else
            slow = 1;
    }
    if (slow)
        d = bt_json__strtod(txt, NULL);
    else if (neg)
        d = -d;
    v->type = BT_JSON_NUMBER;
    v->len = len;
    v->u.str = txt;
    v->num = d;
    v->src = s;
    v->src_len = len;
    *pp = p;
    return v;
}

/* ---- containers ---- */

static bt_json *close_array(parser *ps, const frame *f, const char *p)
{
    size_t n = ps->items_len - f->base;
    bt_json *v = palloc(ps, sizeof(bt_json) + (n ? sizeof(size_t) + n * sizeof(bt_json *) : 0));
    if (!v) {
        enomem(ps);
        return NULL;
    }
    v->type = BT_JSON_ARRAY;
    v->len = n;
    if (n) {
        size_t *h = (size_t *)(void *)(v + 1);
        h[0] = n;
        v->u.items = (bt_json **)(void *)(h + 1);
        memcpy(v->u.items, ps->items + f->base, n * sizeof(bt_json *));
    } else {
        v->u.items = NULL;
    }
    v->num = 0;
    v->src = f->start;
    v->src_len = (size_t)(p - f->start);
    ps->items_len = f->base;
    return v;
}

static bt_json *close_object(parser *ps, const frame *f, const char *p)
{
    size_t n = ps->mem_len - f->base;
    bt_json *v =
        palloc(ps, sizeof(bt_json) + (n ? sizeof(size_t) + n * sizeof(bt_json_member) : 0));
    if (!v) {
        enomem(ps);
        return NULL;
    }
    v->type = BT_JSON_OBJECT;
    v->len = n;
    if (n) {
        size_t *h = (size_t *)(void *)(v + 1);
        h[0] = n;
        v->u.members = (bt_json_member *)(void *)(h + 1);
        memcpy(v->u.members, ps->mem + f->base, n * sizeof(bt_json_member));
    } else {
        v->u.members = NULL;
    }
    v->num = 0;
    v->src = f->start;
    v->src_len = (size_t)(p - f->start);
    ps->mem_len = f->base;
    return v;
}

static bt_json *make_literal(parser *ps, bt_json_type t, const char *s, size_t len)
{
    bt_json *v = palloc(ps, sizeof(bt_json));
    if (!v) {
        enomem(ps);
        return NULL;
    }
    v->type = t;
    v->len = 0;
    v->u.str = NULL;
    v->num = 0;
    v->src = s;
    v->src_len = len;
    return v;
}

/* A literal word (true, false, null) at *pp. */
static int parse_literal(parser *ps, const char **pp, const char *word, bt_json_type t,
                         bt_json **out)
{
    const char *p = *pp;
    size_t n = strlen(word), avail = (size_t)(ps->end - p);
    if (avail < n || memcmp(p, word, n) != 0) {
        char what[48];
        ps->eof = avail < n && memcmp(p, word, avail) == 0;
        snprintf(what, sizeof what, "invalid literal (expected '%s')", word);
        return perr(ps, p, BT_EPARSE, what);
    }
    *pp = p + n;
    return (*out = make_literal(ps, t, p, n)) ? 0 : BT_ENOMEM;
}

/* A string, number or literal at *pp (not a container). 0 or an error code (ps->err set
 * for malformed input). */
static int parse_scalar(parser *ps, const char **pp, bt_json **out)
{
    const char *vs = *pp;
    size_t slen;
    char *blk;
    bt_json *v;

    switch (*vs) {
    case '"':
        blk = parse_string(ps, pp, sizeof(bt_json), &slen);
        if (!blk)
            return ps->err ? ps->err->code : BT_EPARSE;
        v = (bt_json *)(void *)blk;
        v->type = BT_JSON_STRING;
        v->len = slen;
        v->u.str = blk + sizeof(bt_json);
        v->num = 0;
        v->src = vs;
        v->src_len = (size_t)(*pp - vs);
        *out = v;
        return 0;
    case 't': return parse_literal(ps, pp, "true", BT_JSON_TRUE, out);
    case 'f': return parse_literal(ps, pp, "false", BT_JSON_FALSE, out);
    case 'n': return parse_literal(ps, pp, "null", BT_JSON_NULL, out);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (!(*out = parse_number(ps, pp)))
            return ps->err ? ps->err->code : BT_EPARSE;
        return 0;
    default: return perr_char(ps, vs, "");
    }
}

/*
 * The parse loop. Parses one value starting at p (whitespace allowed before it);
 * on success *out is the value and *endp points just past it. Returns 0 or an error
 * code with ps->err set.
 */
static int parse_value(parser *ps, const char *p, bt_json **out, const char **endp)
{
    const char *end = ps->end;
    size_t depth = 0;
    bt_json *v;
    frame *f;
    size_t slen;
    char *blk;
    int rc;

value:
    p = skip_ws(p, end);
    if (p >= end)
        return perr(ps, p, BT_EPARSE, "unexpected end of input");
    if (*p == '{' || *p == '[') {
        if (depth >= ps->max_depth) {
            char what[80];
            snprintf(what, sizeof what, "nesting deeper than %u levels", ps->max_depth);
            return perr(ps, p, BT_ELIMIT, what);
        }
        if (depth == ps->frames_cap && grow_stack((void **)&ps->frames, &ps->frames_cap,
                                                  ps->frames_local, sizeof(frame), depth + 1))
            return enomem(ps);
        f = &ps->frames[depth++];
        f->start = p;
        f->is_obj = *p == '{';
        if (f->is_obj) {
            f->base = ps->mem_len;
            p = skip_ws(p + 1, end);
            if (p < end && *p == '}') {
                p++;
                goto close_obj;
            }
            goto key;
        }
        f->base = ps->items_len;
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']') {
            p++;
            goto close_arr;
        }
        goto value;
    }
    if ((rc = parse_scalar(ps, &p, &v)))
        return rc;

have_value:
    if (depth == 0) {
        *out = v;
        *endp = p;
        return 0;
    }
    f = &ps->frames[depth - 1];
    p = skip_ws(p, end);
    if (f->is_obj) {
        ps->mem[ps->mem_len - 1].value = v;
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            goto key;
        }
        if (p < end && *p == '}') {
            p++;
            goto close_obj;
        }
        return perr_char(ps, p, " (expected ',' or '}' after object member)");
    }
    if (ps->items_len == ps->items_cap &&
        grow_stack((void **)&ps->items, &ps->items_cap, ps->items_local, sizeof(bt_json *),
                   ps->items_len + 1))
        return enomem(ps);
    ps->items[ps->items_len++] = v;
    if (p < end && *p == ',') {
        p++;
        goto value;
    }
    if (p < end && *p == ']') {
        p++;
        goto close_arr;
    }
    return perr_char(ps, p, " (expected ',' or ']' after array element)");

close_arr:
    f = &ps->frames[--depth];
    if (!(v = close_array(ps, f, p)))
        return BT_ENOMEM;
    goto have_value;

close_obj:
    f = &ps->frames[--depth];
    if (!(v = close_object(ps, f, p)))
        return BT_ENOMEM;
    goto have_value;

key:
    if (p >= end || *p != '"')
        return perr_char(ps, p, " (expected string for object key)");
    {
        bt_json_member *m;
        blk = parse_string(ps, &p, 0, &slen);
        if (!blk)
            return ps->err ? ps->err->code : BT_EPARSE;
        if (ps->mem_len == ps->mem_cap && grow_stack((void **)&ps->mem, &ps->mem_cap, ps->mem_local,
                                                     sizeof(bt_json_member), ps->mem_len + 1))
            return enomem(ps);
        m = &ps->mem[ps->mem_len++];
        m->key = blk;
        m->key_len = slen;
        m->value = NULL;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return perr_char(ps, p, " (expected ':' after object key)");
    p++;
    goto value;
}

static int do_parse(bt_arena *arena, const char *text, size_t len, const bt_json_parse_opts *opts,
                    bt_json **out, size_t *consumed, bt_error *err)
{
    unsigned max_depth = opts && opts->max_depth ? opts->max_depth : BT_JSON_DEFAULT_MAX_DEPTH;
    size_t max_size = opts && opts->max_size ? opts->max_size : BT_JSON_DEFAULT_MAX_SIZE;
    int truncated = 0, rc; /* truncated: prefix mode, text[len] is still readable */
    const char *endp = NULL;
    bt_error local_err = BT_ERROR_INIT;
    parser psbuf, *ps = &psbuf; /* ~8 KiB on the C stack: no malloc per parse */

    if (!err)
        err = &local_err; /* the parser reads back the code it set */
    *out = NULL;
    if (len > max_size) {
        if (!consumed)
            return bt_error_set(err, BT_ELIMIT,
                                "invalid JSON at byte %zu: input is larger than the size "
                                "limit of %zu bytes",
                                max_size, max_size);
        len = max_size; /* prefix mode: the value must fit in the first max_size bytes */
        truncated = 1;
    }
    if (!text && len)
        return bt_error_set(err, BT_EINVAL, "invalid JSON at byte 0: no input");
    if (!text)
        text = "";
    parser_init(ps, arena, text, len, max_depth, err);
    ps->offset_base = opts ? opts->offset_base : 0;
    rc = parse_value(ps, text, out, &endp);
    if (rc) {
        if (truncated && ps->eof)
            rc = bt_error_set(err, BT_ELIMIT,
                              "invalid JSON at byte %zu: value is larger than the size limit "
                              "of %zu bytes",
                              max_size, max_size);
        *out = NULL;
        goto done;
    }
    if (consumed) {
        /* a number that ends exactly at the window may go on past it */
        if (truncated && (size_t)(endp - text) == len && (*out)->type == BT_JSON_NUMBER &&
            strchr("0123456789.eE+-", text[len]) != NULL) {
            rc = bt_error_set(err, BT_ELIMIT,
                              "invalid JSON at byte %zu: value is larger than the size limit "
                              "of %zu bytes",
                              max_size, max_size);
            *out = NULL;
            goto done;
        }
        *consumed = (size_t)(endp - text);
    } else {
        const char *q = skip_ws(endp, text + len);
        if (q != text + len) {
            rc = perr_char(ps, q, " after the JSON value");
            *out = NULL;
            goto done;
        }
    }
done:
    parser_dispose(ps);
    return rc;
}

int bt_json_parse(bt_arena *arena, const char *text, size_t len, const bt_json_parse_opts *opts,
                  bt_json **out, bt_error *err)
{
    return do_parse(arena, text, len, opts, out, NULL, err);
}

int bt_json_parse_prefix(bt_arena *arena, const char *text, size_t len,
                         const bt_json_parse_opts *opts, bt_json **out, size_t *consumed,
                         bt_error *err)
{
    size_t dummy;
    return do_parse(arena, text, len, opts, out, consumed ? consumed : &dummy, err);
}

/* ---- access ---- */

bt_json *bt_json_getn(const bt_json *obj, const char *key, size_t key_len)
{
    size_t i;
    if (!obj || obj->type != BT_JSON_OBJECT || !key)
        return NULL;
    for (i = 0; i < obj->len; i++) {
        const bt_json_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return m->value;
    }
    return NULL;
}

bt_json *bt_json_get(const bt_json *obj, const char *key)
{
    return key ? bt_json_getn(obj, key, strlen(key)) : NULL;
}

bt_json *bt_json_get_path(const bt_json *v, const char *path)
{
    const char *seg = path;
    if (!v || !path)
        return NULL;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        v = bt_json_getn(v, seg, n);
        if (!v || !dot)
            return (bt_json *)v;
        seg = dot + 1;
    }
}

const char *bt_json_get_str(const bt_json *obj, const char *key)
{
    const bt_json *v = bt_json_get(obj, key);
    return v && v->type == BT_JSON_STRING ? v->u.str : NULL;
}

bool bt_json_is_str(const bt_json *v, const char *s)
{
    size_t n;
    if (!v || v->type != BT_JSON_STRING || !s)
        return false;
    n = strlen(s);
    return v->len == n && memcmp(v->u.str, s, n) == 0;
}

bool bt_json_truthy(const bt_json *v)
{
    if (!v)
        return false;
    switch (v->type) {
    case BT_JSON_NULL:
    case BT_JSON_FALSE: return false;
    case BT_JSON_TRUE:
    case BT_JSON_NUMBER: return true;
    case BT_JSON_STRING:
    case BT_JSON_ARRAY:
    case BT_JSON_OBJECT: return v->len != 0;
    }
    return false;
}

/* An integer literal: no '.', 'e' or 'E' in the text. */
static int is_int_literal(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return 0;
    return 1;
}

static bool num_equal(const bt_json *a, const bt_json *b)
{
    /* Two integer literals compare exactly (they may exceed a double's precision);
     * "-0" equals "0". Anything else compares as doubles. */
    if (a->u.str && b->u.str && is_int_literal(a->u.str, a->len) &&
        is_int_literal(b->u.str, b->len)) {
        const char *x = a->u.str, *y = b->u.str;
        size_t xn = a->len, yn = b->len;
        if (xn == 2 && memcmp(x, "-0", 2) == 0)
            x = "0", xn = 1;
        if (yn == 2 && memcmp(y, "-0", 2) == 0)
            y = "0", yn = 1;
        return xn == yn && memcmp(x, y, xn) == 0;
    }
    return a->num == b->num;
}

static bool equal_depth(const bt_json *a, const bt_json *b, unsigned depth);

static int cmp_member_ptr(const void *x, const void *y)
{
    const bt_json_member *a = *(const bt_json_member *const *)x;
    const bt_json_member *b = *(const bt_json_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a < b ? -1 : a > b; /* document order among duplicates */
}

/* Sorts o's members by key and keeps the first of each key; returns the count. */
static size_t sorted_unique(const bt_json *o, const bt_json_member **v)
{
    size_t i, n = 0;
    for (i = 0; i < o->len; i++)
        v[i] = &o->u.members[i];
    if (o->len > 1) /* qsort's base must not be NULL, even for 0 items */
        qsort(v, o->len, sizeof *v, cmp_member_ptr);
    for (i = 0; i < o->len; i++)
        if (n == 0 || v[n - 1]->key_len != v[i]->key_len ||
            memcmp(v[n - 1]->key, v[i]->key, v[i]->key_len) != 0)
            v[n++] = v[i];
    return n;
}

/* Object equality for large objects in O(n log n): same semantics as the small case. */
static bool objects_equal_sorted(const bt_json *a, const bt_json *b, unsigned depth)
{
    const bt_json_member **va = malloc(a->len * sizeof *va), **vb = malloc(b->len * sizeof *vb);
    bool eq = false;
    size_t na, nb, i;
    if (!va || !vb)
        goto done;
    na = sorted_unique(a, va);
    nb = sorted_unique(b, vb);
    if (na != nb)
        goto done;
    for (i = 0; i < na; i++)
        if (va[i]->key_len != vb[i]->key_len ||
            memcmp(va[i]->key, vb[i]->key, va[i]->key_len) != 0 ||
            !equal_depth(va[i]->value, vb[i]->value, depth + 1))
            goto done;
    eq = true;
done:
    free(va);
    free(vb);
    return eq;
}

static bool equal_depth(const bt_json *a, const bt_json *b, unsigned depth)
{
    size_t i;
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type || depth > 10000)
        return false;
    switch (a->type) {
    case BT_JSON_NULL:
    case BT_JSON_FALSE:
    case BT_JSON_TRUE: return true;
    case BT_JSON_NUMBER: return num_equal(a, b);
    case BT_JSON_STRING: return a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0;
    case BT_JSON_ARRAY:
        if (a->len != b->len)
            return false;
        for (i = 0; i < a->len; i++)
            if (!equal_depth(a->u.items[i], b->u.items[i], depth + 1))
                return false;
        return true;
    case BT_JSON_OBJECT:
        if (a->len != b->len)
            return false;
        if (a->len > 32)
            return objects_equal_sorted(a, b, depth);
        /* Same member count, and every key of either side maps (first occurrence) to
         * equal values on the other side. Fast path: same key order. */
        for (i = 0; i < a->len; i++) {
            const bt_json_member *ma = &a->u.members[i], *mb = &b->u.members[i];
            const bt_json *bv;
            if (ma->key_len == mb->key_len && memcmp(ma->key, mb->key, ma->key_len) == 0 &&
                bt_json_getn(a, ma->key, ma->key_len) == ma->value &&
                bt_json_getn(b, mb->key, mb->key_len) == mb->value) {
                if (!equal_depth(ma->value, mb->value, depth + 1))
                    return false;
                continue;
            }
            bv = bt_json_getn(b, ma->key, ma->key_len);
            if (!bv || !equal_depth(bt_json_getn(a, ma->key, ma->key_len), bv, depth + 1))
                return false;
        }
        for (i = 0; i < b->len; i++)
            if (!bt_json_getn(a, b->u.members[i].key, b->u.members[i].key_len))
                return false;
        return true;
    }
    return false;
}

bool bt_json_equal(const bt_json *a, const bt_json *b)
{
    return equal_depth(a, b, 0);
}

/* ---- construction ---- */

static bt_json *new_node(bt_arena *a, bt_json_type t)
{
    bt_json *v = bt_arena_alloc(a, sizeof *v);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    v->type = t;
    return v;
}

bt_json *bt_json_new_null(bt_arena *a)
{
    return new_node(a, BT_JSON_NULL);
}

bt_json *bt_json_new_bool(bt_arena *a, bool b)
{
    return new_node(a, b ? BT_JSON_TRUE : BT_JSON_FALSE);
}

bt_json *bt_json_new_number(bt_arena *a, double d)
{
    bt_json *v = new_node(a, BT_JSON_NUMBER);
    if (v)
        v->num = d;
    return v;
}

bt_json *bt_json_new_string(bt_arena *a, const char *s, size_t len)
{
    bt_json *v;
    char *t;
    if (len > (size_t)-1 - sizeof *v - 1)
        return NULL;
    v = bt_arena_alloc(a, sizeof *v + len + 1);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    t = (char *)(v + 1);
    if (len)
        memcpy(t, s, len);
    t[len] = '\0';
    v->type = BT_JSON_STRING;
    v->len = len;
    v->u.str = t;
    return v;
}

/* Storage for cap elements with the capacity word in front (json_priv.h). */
static void *vec_alloc(bt_arena *a, size_t cap, size_t elem)
{
    size_t *h;
    if (cap > ((size_t)-1 - sizeof(size_t)) / elem)
        return NULL;
    h = bt_arena_alloc(a, sizeof(size_t) + cap * elem);
    if (!h)
        return NULL;
    h[0] = cap;
    return h + 1;
}

bt_json *bt_json_new_array(bt_arena *a, size_t capacity)
{
    bt_json *v = new_node(a, BT_JSON_ARRAY);
    if (v && capacity && !(v->u.items = vec_alloc(a, capacity, sizeof(bt_json *))))
        return NULL;
    return v;
}

bt_json *bt_json_new_object(bt_arena *a, size_t capacity)
{
    bt_json *v = new_node(a, BT_JSON_OBJECT);
    if (v && capacity && !(v->u.members = vec_alloc(a, capacity, sizeof(bt_json_member))))
        return NULL;
    return v;
}

/* Makes room for one more element; the old storage is abandoned in the arena. */
static int vec_grow(bt_arena *a, void **vec, size_t len, size_t elem)
{
    size_t cap = bt_json__vec_cap(*vec), ncap;
    void *n;
    if (len < cap)
        return 0;
    ncap = cap < 4 ? 4 : cap * 2;
    n = vec_alloc(a, ncap, elem);
    if (!n)
        return BT_ENOMEM;
    if (len)
        memcpy(n, *vec, len * elem);
    *vec = n;
    return 0;
}

int bt_json_array_push(bt_arena *a, bt_json *arr, bt_json *item)
{
    void *vec;
    if (!arr || arr->type != BT_JSON_ARRAY)
        return BT_EINVAL;
    vec = arr->u.items;
    if (vec_grow(a, &vec, arr->len, sizeof(bt_json *)))
        return BT_ENOMEM;
    arr->u.items = vec;
    arr->u.items[arr->len++] = item;
    arr->src = NULL; /* no longer the input's bytes */
    arr->src_len = 0;
    return 0;
}

int bt_json_object_put(bt_arena *a, bt_json *obj, const char *key, size_t key_len, bt_json *value)
{
    void *vec;
    char *k;
    bt_json_member *m;
    if (!obj || obj->type != BT_JSON_OBJECT)
        return BT_EINVAL;
    k = bt_arena_strndup(a, key, key_len);
    if (!k)
        return BT_ENOMEM;
    vec = obj->u.members;
    if (vec_grow(a, &vec, obj->len, sizeof(bt_json_member)))
        return BT_ENOMEM;
    obj->u.members = vec;
    m = &obj->u.members[obj->len++];
    m->key = k;
    m->key_len = key_len;
    m->value = value;
    obj->src = NULL;
    obj->src_len = 0;
    return 0;
}
