/*
 * json_write.c - serialising bt_json values: compact, Python-style indented, and
 * Python-compatible number and string formatting.
 *
 * Layout (matches Python's json.dumps):
 * - indent 0: compact "[1,2]" / {"a":1}; with BT_JSON_W_SPACES Python's default
 *   separators ", " and ": " ("[1, 2]", {"a": 1});
 * - indent N > 0: like json.dumps(v, indent=N): one element per line, "," at the end
 *   of the line, "key": value, and empty containers printed as [] and {}.
 *
 * Strings (like Python with ensure_ascii=False): '"' '\\' \n \r \t \b \f are escaped
 * with their short forms, other bytes < 0x20 as \u00XX (lowercase hex), everything
 * else kept. With BT_JSON_W_ASCII (ensure_ascii=True) every code point outside
 * 0x20..0x7E is written as \uXXXX (lowercase, surrogate pairs above U+FFFF), DEL
 * included. Ill-formed UTF-8 (possible only in constructed strings) is written as
 * U+FFFD so the output is always valid JSON text.
 *
 * Numbers:
 * - a parsed number is written as its literal text, unchanged;
 * - with BT_JSON_W_PYNUM, as json.dumps(json.loads(text)) would: integer literals
 *   (no '.', 'e', 'E') exactly as their text, whatever their size ("-0" gives "0");
 *   other literals as repr(float(text)) (see py_repr below);
 * - a computed number (u.str == NULL) via bt_json_write_number: integral values with
 *   |d| < 1e16 without a decimal point ("3", "-12"; -0 gives "0"), anything else as
 *   Python's repr(float): shortest digits that round-trip, positional notation when
 *   the decimal exponent is in -4..15 ("0.0001", "1.5", "1e+16" is scientific,
 *   "1e-05" too), exponent with sign and at least two digits; NaN and infinities as
 *   Python writes them: NaN, Infinity, -Infinity (not valid JSON, as in Python).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buildtrail/json.h"
#include "util/json_priv.h"

#define MAX_WRITE_DEPTH 10000

typedef struct writer {
    bt_buf *b;
    unsigned indent;
    unsigned flags;
} writer;

static const char g_hex[] = "0123456789abcdef";

/* ---- strings ---- */

/* First byte at or after p that needs attention: '"', '\\', < 0x20, >= 0x80. */
static inline const unsigned char *scan_safe(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                 _mm_cmplt_epi8(v, sp));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
        p++;
    return p;
}

static int put_u(bt_buf *b, unsigned long u)
{
    char e[6] = {
        '\\',         'u', g_hex[(u >> 12) & 15], g_hex[(u >> 8) & 15], g_hex[(u >> 4) & 15],
        g_hex[u & 15]};
    return bt_buf_append(b, e, 6);
}

/*
 * The common case (non-ASCII kept): every input byte becomes at most 6 output bytes,
 * so reserve that once and write straight into the buffer. Returns 1 when the
 * reservation does not fit (the caller then takes the general path).
 */
static int write_string_fast(bt_buf *b, const unsigned char *p, const unsigned char *end)
{
    size_t len = (size_t)(end - p);
    char *o;
    if (len > ((size_t)-1 - 2) / 6 || bt_buf_reserve(b, len * 6 + 2))
        return 1;
    o = b->data + b->len;
    *o++ = '"';
    while (p < end) {
        const unsigned char *q = scan_safe(p, end);
        unsigned c;
        if (q > p) {
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            p = q;
            if (p >= end)
                break;
        }
        c = *p;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            p++;
        } else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = g_hex[(c >> 4) & 15];
                *o++ = g_hex[c & 15];
            }
            p++;
        } else {
            size_t k = bt_json__utf8_seq(p, end);
            if (!k) {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                p++;
            } else {
                memcpy(o, p, k);
                o += k;
                p += k;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static int write_string(bt_buf *b, const char *str, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)str, *end = p + len;
    int ascii = (flags & BT_JSON_W_ASCII) != 0;
    int rc;

    if (!ascii && write_string_fast(b, p, end) == 0)
        return 0;
    if ((rc = bt_buf_reserve(b, len + 2)))
        return rc;
    if ((rc = bt_buf_putc(b, '"')))
        return rc;
    while (p < end) {
        const unsigned char *q = scan_safe(p, end);
        unsigned c;
        if (q > p) {
            /* ASCII mode: DEL is not in Python's safe range ' '..'~' */
            if (ascii) {
                const unsigned char *r = p;
                while (r < q && *r != 0x7F)
                    r++;
                q = r;
            }
            if (q > p && (rc = bt_buf_append(b, p, (size_t)(q - p))))
                return rc;
            p = q;
            if (p >= end)
                break;
        }
        c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = bt_buf_append(b, e, 2);
            p++;
        } else if (c < 0x20) {
            char e[2] = {'\\', 0};
            switch (c) {
            case '\n': e[1] = 'n'; break;
            case '\r': e[1] = 'r'; break;
            case '\t': e[1] = 't'; break;
            case '\b': e[1] = 'b'; break;
            case '\f': e[1] = 'f'; break;
            default: break;
            }
            rc = e[1] ? bt_buf_append(b, e, 2) : put_u(b, c);
            p++;
        } else if (c == 0x7F) {
            rc = put_u(b, c); /* only reached in ASCII mode */
            p++;
        } else {
            size_t k = bt_json__utf8_seq(p, end);
            if (!k) {
                rc = ascii ? put_u(b, 0xFFFD) : bt_buf_append(b, "\xEF\xBF\xBD", 3);
                p++;
            } else if (!ascii) {
                rc = bt_buf_append(b, p, k);
                p += k;
            } else {
                unsigned long cp;
                if (k == 2)
                    cp = ((unsigned long)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
                else if (k == 3)
                    cp = ((unsigned long)(p[0] & 0x0F) << 12) |
                         ((unsigned long)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
                else
                    cp = ((unsigned long)(p[0] & 0x07) << 18) |
                         ((unsigned long)(p[1] & 0x3F) << 12) |
                         ((unsigned long)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
                if (cp >= 0x10000) {
                    cp -= 0x10000;
                    rc = put_u(b, 0xD800 + (cp >> 10));
                    if (!rc)
                        rc = put_u(b, 0xDC00 + (cp & 0x3FF));
                } else {
                    rc = put_u(b, cp);
                }
                p += k;
            }
        }
        if (rc)
            return rc;
    }
    return bt_buf_putc(b, '"');
}

int bt_json_write_string(bt_buf *out, const char *s, size_t len, unsigned flags)
{
    size_t old = out->len;
    int rc = write_string(out, s, len, flags);
    if (rc && out->data) {
        out->len = old;
        out->data[old] = '\0';
    }
    return rc;
}

/* ---- numbers ---- */

/*
 * Shortest decimal digits that round-trip to d (d finite, > 0): digits[0..*nd) with
 * value 0.DIGITS x 10^*decpt. Tries 1..17 significant digits with correctly rounded
 * printf output; at an exact power of two (where the rounding interval is lopsided)
 * also tries the neighbours of the rounded digits, as the shortest string may be one.
 */
static void shortest_digits(double d, char *digits, int *nd, int *decpt)
{
    char buf[64], cand[64], best[24];
    int prec, pow2, e;
    int frexp_e;

    pow2 = frexp(d, &frexp_e) == 0.5;
    for (prec = 1; prec <= 17; prec++) {
        int n = 0, ex, k, delta;
        const char *s;
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        for (s = buf; *s && *s != 'e'; s++)
            if (*s >= '0' && *s <= '9')
                best[n++] = *s;
        ex = atoi(s + 1); /* value = D.DDD x 10^ex */
        for (delta = 0; delta <= (pow2 ? 2 : 0); delta++) {
            char dg[24];
            int m = n, dex = ex;
            memcpy(dg, best, (size_t)n);
            if (delta) {
                /* delta 1: one unit more in the last place; delta 2: one unit less */
                int i = n - 1;
                if (delta == 1) {
                    while (i >= 0 && dg[i] == '9')
                        dg[i--] = '0';
                    if (i < 0) {
                        memmove(dg + 1, dg, (size_t)n);
                        dg[0] = '1';
                        dex++; /* 9.99 -> 10.0: keep n digits, drop the last */
                    } else {
                        dg[i]++;
                    }
                } else {
                    while (i >= 0 && dg[i] == '0')
                        dg[i--] = '9';
                    if (i < 0)
                        continue;
                    dg[i]--;
                    if (dg[0] == '0') {
                        /* 1.00 -> 0.99: a shorter leading part; renormalise */
                        memmove(dg, dg + 1, (size_t)(n - 1));
                        dg[n - 1] = '9';
                        dex--;
                    }
                }
            }
            k = 0;
            cand[k++] = dg[0];
            cand[k++] = '.';
            memcpy(cand + k, dg + 1, (size_t)(m - 1));
            k += m - 1;
            snprintf(cand + k, sizeof cand - (size_t)k, "e%d", dex);
            if (bt_json__strtod(cand, NULL) == d) {
                memcpy(digits, dg, (size_t)m);
                while (m > 1 && digits[m - 1] == '0')
                    m--;
                *nd = m;
                *decpt = dex + 1;
                return;
            }
        }
    }
    /* unreachable: 17 digits always round-trip; fall back to them */
    snprintf(buf, sizeof buf, "%.16e", d);
    {
        int n = 0;
        const char *s;
        for (s = buf; *s && *s != 'e'; s++)
            if (*s >= '0' && *s <= '9')
                digits[n++] = *s;
        e = atoi(s + 1);
        *nd = n;
        *decpt = e + 1;
    }
}

/* Python's repr(float). */
static int py_repr(bt_buf *b, double d)
{
    char digits[24], out[64];
    int nd, decpt, k = 0, i;

    if (isnan(d))
        return bt_buf_append(b, "NaN", 3);
    if (isinf(d))
        return d > 0 ? bt_buf_append(b, "Infinity", 8) : bt_buf_append(b, "-Infinity", 9);
    if (d == 0)
        return signbit(d) ? bt_buf_append(b, "-0.0", 4) : bt_buf_append(b, "0.0", 3);
    if (d < 0) {
        out[k++] = '-';
        d = -d;
    }
    shortest_digits(d, digits, &nd, &decpt);
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (i = decpt; i < 0; i++)
                out[k++] = '0';
            memcpy(out + k, digits, (size_t)nd);
            k += nd;
        } else if (decpt >= nd) {
            memcpy(out + k, digits, (size_t)nd);
            k += nd;
            for (i = nd; i < decpt; i++)
                out[k++] = '0';
            out[k++] = '.';
            out[k++] = '0';
        } else {
            memcpy(out + k, digits, (size_t)decpt);
            k += decpt;
            out[k++] = '.';
            memcpy(out + k, digits + decpt, (size_t)(nd - decpt));
            k += nd - decpt;
        }
    } else {
        int e = decpt - 1;
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            memcpy(out + k, digits + 1, (size_t)(nd - 1));
            k += nd - 1;
        }
        k +=
            snprintf(out + k, sizeof out - (size_t)k, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return bt_buf_append(b, out, (size_t)k);
}

int bt_json_write_number(bt_buf *out, double d)
{
    if (d == floor(d) && fabs(d) < 1e16) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%lld", (long long)d); /* -0.0 -> "0" */
        return bt_buf_append(out, buf, (size_t)n);
    }
    return py_repr(out, d);
}

static int is_int_literal(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return 0;
    return 1;
}

static int write_num(writer *w, const bt_json *v)
{
    if (!v->u.str)
        return bt_json_write_number(w->b, v->num);
    if (!(w->flags & BT_JSON_W_PYNUM))
        return bt_buf_append(w->b, v->u.str, v->len);
    if (is_int_literal(v->u.str, v->len)) {
        if (v->len == 2 && memcmp(v->u.str, "-0", 2) == 0)
            return bt_buf_putc(w->b, '0');
        return bt_buf_append(w->b, v->u.str, v->len);
    }
    return py_repr(w->b, v->num);
}

/* ---- values ---- */

static int newline_indent(writer *w, unsigned level)
{
    size_t n = (size_t)w->indent * level;
    int rc = bt_buf_reserve(w->b, n + 1);
    if (rc)
        return rc;
    w->b->data[w->b->len++] = '\n';
    memset(w->b->data + w->b->len, ' ', n);
    w->b->len += n;
    w->b->data[w->b->len] = '\0';
    return 0;
}

static int cmp_members(const void *x, const void *y)
{
    const bt_json_member *a = *(const bt_json_member *const *)x;
    const bt_json_member *b = *(const bt_json_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a < b ? -1 : a > b; /* stable: document order for duplicate keys */
}

static int write_value(writer *w, const bt_json *v, unsigned level);

static int write_sep(writer *w, size_t i, unsigned level)
{
    int rc = 0;
    if (i > 0) {
        if (w->indent == 0 && (w->flags & BT_JSON_W_SPACES))
            rc = bt_buf_append(w->b, ", ", 2);
        else
            rc = bt_buf_putc(w->b, ',');
    }
    if (!rc && w->indent)
        rc = newline_indent(w, level + 1);
    return rc;
}

static int write_value(writer *w, const bt_json *v, unsigned level)
{
    size_t i;
    int rc = 0;

    if (!v)
        return bt_buf_append(w->b, "null", 4);
    if (level > MAX_WRITE_DEPTH)
        return BT_ELIMIT;
    switch (v->type) {
    case BT_JSON_NULL: return bt_buf_append(w->b, "null", 4);
    case BT_JSON_FALSE: return bt_buf_append(w->b, "false", 5);
    case BT_JSON_TRUE: return bt_buf_append(w->b, "true", 4);
    case BT_JSON_NUMBER: return write_num(w, v);
    case BT_JSON_STRING: return write_string(w->b, v->u.str, v->len, w->flags);
    case BT_JSON_ARRAY:
        if (v->len == 0)
            return bt_buf_append(w->b, "[]", 2);
        if ((rc = bt_buf_putc(w->b, '[')))
            return rc;
        for (i = 0; i < v->len; i++) {
            if ((rc = write_sep(w, i, level)) || (rc = write_value(w, v->u.items[i], level + 1)))
                return rc;
        }
        if (w->indent && (rc = newline_indent(w, level)))
            return rc;
        return bt_buf_putc(w->b, ']');
    case BT_JSON_OBJECT: {
        const bt_json_member **order = NULL;
        if (v->len == 0)
            return bt_buf_append(w->b, "{}", 2);
        if ((w->flags & BT_JSON_W_SORT) && v->len > 1) {
            order = malloc(v->len * sizeof *order);
            if (!order)
                return BT_ENOMEM;
            for (i = 0; i < v->len; i++)
                order[i] = &v->u.members[i];
            if (v->len > 1) /* qsort's base must not be NULL, even for 0 items */
                qsort(order, v->len, sizeof *order, cmp_members);
        }
        if ((rc = bt_buf_putc(w->b, '{')))
            goto obj_done;
        for (i = 0; i < v->len; i++) {
            const bt_json_member *m = order ? order[i] : &v->u.members[i];
            if ((rc = write_sep(w, i, level)) ||
                (rc = write_string(w->b, m->key, m->key_len, w->flags)))
                goto obj_done;
            if (w->indent || (w->flags & BT_JSON_W_SPACES))
                rc = bt_buf_append(w->b, ": ", 2);
            else
                rc = bt_buf_putc(w->b, ':');
            if (rc || (rc = write_value(w, m->value, level + 1)))
                goto obj_done;
        }
        if (w->indent && (rc = newline_indent(w, level)))
            goto obj_done;
        rc = bt_buf_putc(w->b, '}');
    obj_done:
        free(order);
        return rc;
    }
    }
    return BT_EINVAL;
}

int bt_json_write(bt_buf *out, const bt_json *v, const bt_json_write_opts *opts)
{
    writer w;
    size_t old = out->len;
    int rc;

    w.b = out;
    w.indent = opts ? opts->indent : 0;
    w.flags = opts ? opts->flags : 0;
    rc = write_value(&w, v, 0);
    if (!rc && (w.flags & BT_JSON_W_NEWLINE))
        rc = bt_buf_putc(out, '\n');
    if (rc && out->data) {
        out->len = old;
        out->data[old] = '\0';
    }
    return rc;
}
