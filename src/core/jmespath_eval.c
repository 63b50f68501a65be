/*
 * jmespath_eval.c - the JMESPath tree interpreter and the value semantics it needs:
 * truthiness, Python equality and ordering, Python int/float numbers and their
 * printed form, dict views of objects with duplicate keys (last value wins, first
 * position kept, as json.loads builds them).
 *
 * The evaluator never modifies its input; it returns borrowed input nodes where
 * jmespath.py returns the same Python object, and allocates new nodes in the
 * caller's arena otherwise. Errors set ctx->rc; every step checks it.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jmespath_int.h"

bt_json jp_null_node = {.type = BT_JSON_NULL};
bt_json jp_true_node = {.type = BT_JSON_TRUE};
bt_json jp_false_node = {.type = BT_JSON_FALSE};

/* The address marks a node as an expression reference (src points here). */
static const char jp_expref_mark[] = "&expref";

/* ------------------------------------------------------------------ errors */

bt_json *jp_fail(jp_ctx *c, int code, bt_jmespath_error kind, const char *fmt, ...)
{
    va_list ap;
    char msg[BT_ERROR_MSG_MAX];
    if (c->rc)
        return NULL;
    c->rc = code;
    if (!c->err)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bt_error_set(c->err, code, "%s", msg);
    snprintf(c->err->aws_code, sizeof c->err->aws_code, "%s", bt_jmespath_error_name(kind));
    return NULL;
}

bt_json *jp_nomem(jp_ctx *c)
{
    return jp_fail(c, BT_ENOMEM, BT_JMESPATH_E_NONE, "out of memory evaluating query");
}

/* ------------------------------------------------------------------ values */

bt_json *jp_bool(bool b)
{
    return b ? &jp_true_node : &jp_false_node;
}

bt_json *jp_expref_new(jp_ctx *c, const jp_node *expr)
{
    bt_json *v = bt_arena_calloc(c->arena, sizeof *v);
    if (!v)
        return jp_nomem(c);
    v->type = BT_JSON_NULL;
    v->src = jp_expref_mark;
    v->u.str = (const char *)(const void *)expr;
    return v;
}

bool jp_is_expref(const bt_json *v)
{
    return v && v->type == BT_JSON_NULL && v->src == jp_expref_mark;
}

const jp_node *jp_expref_node(const bt_json *v)
{
    return (const jp_node *)(const void *)v->u.str;
}

/* Python None: a missing value or JSON null (an expref is an object, not None) */
static bool is_none(const bt_json *v)
{
    return !v || (v->type == BT_JSON_NULL && v->src != jp_expref_mark);
}

const char *jp_type_name(const bt_json *v)
{
    if (!v)
        return "null";
    switch (v->type) {
    case BT_JSON_NULL: return jp_is_expref(v) ? "expref" : "null";
    case BT_JSON_FALSE:
    case BT_JSON_TRUE: return "boolean";
    case BT_JSON_NUMBER: return "number";
    case BT_JSON_STRING: return "string";
    case BT_JSON_ARRAY: return "array";
    case BT_JSON_OBJECT: return "object";
    }
    return "unknown";
}

bool jp_truthy(const bt_json *v)
{
    if (!v)
        return false;
    switch (v->type) {
    case BT_JSON_NULL: return jp_is_expref(v);
    case BT_JSON_FALSE: return false;
    case BT_JSON_TRUE: return true;
    case BT_JSON_NUMBER: return true;
    case BT_JSON_STRING:
    case BT_JSON_ARRAY:
    case BT_JSON_OBJECT: return v->len > 0;
    }
    return false;
}

/* ------------------------------------------------------------------ numbers */

bool jp_num_is_int(const bt_json *v)
{
    if (v->u.str) {
        size_t i;
        for (i = 0; i < v->len; i++) {
            char ch = v->u.str[i];
            if (ch == '.' || ch == 'e' || ch == 'E' || ch == 'N' || ch == 'I')
                return false;
        }
        return v->len > 0;
    }
    return isfinite(v->num) && v->num == floor(v->num) && fabs(v->num) < 9.2e18;
}

/* The value of an int node as int64; false when it does not fit. */
static bool num_int64(const bt_json *v, int64_t *out)
{
    if (v->u.str) {
        const char *s = v->u.str, *e = s + v->len;
        bool neg = false;
        uint64_t acc = 0;
        if (s < e && (*s == '-' || *s == '+'))
            neg = *s++ == '-';
        if (s == e)
            return false;
        for (; s < e; s++) {
            unsigned d = (unsigned)(*s - '0');
            if (d > 9)
                return false;
            if (acc > (UINT64_MAX - d) / 10)
                return false;
            acc = acc * 10 + d;
        }
        if (neg) {
            if (acc > (uint64_t)INT64_MAX + 1)
                return false;
            *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
        } else {
            if (acc > (uint64_t)INT64_MAX)
                return false;
            *out = (int64_t)acc;
        }
        return true;
    }
    if (!(fabs(v->num) < 9.2e18))
        return false;
    *out = (int64_t)v->num;
    return true;
}

/* Exact Python comparison of an int64 with a double: -1, 0, 1, 2 (unordered). */
static int cmp_i64_double(int64_t i, double d)
{
    double fl;
    int64_t fi;
    if (isnan(d))
        return 2;
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    fl = floor(d);
    fi = (int64_t)fl;
    if (i < fi)
        return -1;
    if (i > fi)
        return 1;
    return d > fl ? -1 : 0;
}

/* sign, digits without leading zeros, of an int node's text (false if no text) */
static bool int_digits(const bt_json *v, bool *neg, const char **d, size_t *n)
{
    const char *s = v->u.str, *e;
    if (!s)
        return false;
    e = s + v->len;
    *neg = false;
    if (s < e && (*s == '-' || *s == '+'))
        *neg = *s++ == '-';
    while (s + 1 < e && *s == '0')
        s++;
    *d = s;
    *n = (size_t)(e - s);
    if (*n == 1 && *s == '0')
        *neg = false;
    return true;
}

int jp_num_cmp(const bt_json *a, const bt_json *b)
{
    bool ai = jp_num_is_int(a), bi = jp_num_is_int(b);
    int64_t x, y;
    if (ai && bi) {
        bool na, nb;
        const char *da, *db;
        size_t la, lb;
        int r;
        if (num_int64(a, &x) && num_int64(b, &y))
            return x < y ? -1 : x > y;
        /* big ints: compare the decimal text */
        if (!int_digits(a, &na, &da, &la) || !int_digits(b, &nb, &db, &lb))
            return a->num < b->num ? -1 : a->num > b->num;
        if (na != nb)
            return na ? -1 : 1;
        r = la != lb ? (la < lb ? -1 : 1) : memcmp(da, db, la);
        r = r < 0 ? -1 : r > 0;
        return na ? -r : r;
    }
    if (ai && num_int64(a, &x))
        return cmp_i64_double(x, b->num);
    if (bi && num_int64(b, &y)) {
        int r = cmp_i64_double(y, a->num);
        return r == 2 ? 2 : -r;
    }
    if (isnan(a->num) || isnan(b->num))
        return 2;
    return a->num < b->num ? -1 : a->num > b->num;
}

int jp_str_cmp(const bt_json *a, const bt_json *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->u.str, b->u.str, n) : 0;
    if (r)
        return r < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

size_t jp_float_repr(double d, char *out)
{
    char buf[48], digits[24];
    int prec, exp10, nd = 0, decpt, k;
    size_t n = 0;
    const char *p;

    if (isnan(d))
        return (size_t)sprintf(out, "NaN");
    if (isinf(d))
        return (size_t)sprintf(out, d > 0 ? "Infinity" : "-Infinity");
    if (d == 0)
        return (size_t)sprintf(out, signbit(d) ? "-0.0" : "0.0");
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    p = buf;
    if (*p == '-') {
        out[n++] = '-';
        p++;
    }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    exp10 = atoi(p + 1);
    decpt = exp10 + 1;
    if (exp10 >= -4 && exp10 < 16) {
        if (decpt <= 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (k = 0; k < -decpt; k++)
                out[n++] = '0';
            for (k = 0; k < nd; k++)
                out[n++] = digits[k];
        } else if (decpt >= nd) {
            for (k = 0; k < nd; k++)
                out[n++] = digits[k];
            for (k = nd; k < decpt; k++)
                out[n++] = '0';
            out[n++] = '.';
            out[n++] = '0';
        } else {
            for (k = 0; k < nd; k++) {
                if (k == decpt)
                    out[n++] = '.';
                out[n++] = digits[k];
            }
        }
    } else {
        out[n++] = digits[0];
        if (nd > 1) {
            out[n++] = '.';
            for (k = 1; k < nd; k++)
                out[n++] = digits[k];
        }
        n += (size_t)sprintf(out + n, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    out[n] = '\0';
    return n;
}

bt_json *jp_new_num_text(jp_ctx *c, const char *text, size_t len, double d)
{
    bt_json *v = bt_json_new_number(c->arena, d);
    char *s = bt_arena_strndup(c->arena, text, len);
    if (!v || !s)
        return jp_nomem(c);
    v->u.str = s;
    v->len = len;
    return v;
}

bt_json *jp_new_int(jp_ctx *c, int64_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, i);
    return jp_new_num_text(c, buf, (size_t)n, (double)i);
}

bt_json *jp_new_int128(jp_ctx *c, __int128 i)
{
    char buf[48], *p = buf + sizeof buf;
    unsigned __int128 u = i < 0 ? -(unsigned __int128)i : (unsigned __int128)i;
    if (i >= INT64_MIN && i <= INT64_MAX)
        return jp_new_int(c, (int64_t)i);
    *--p = '\0';
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    return jp_new_num_text(c, p, strlen(p), (double)i);
}

bt_json *jp_new_float(jp_ctx *c, double d)
{
    char buf[48];
    size_t n = jp_float_repr(d, buf);
    return jp_new_num_text(c, buf, n, d);
}

int jp_num_write(bt_buf *out, const bt_json *v)
{
    char buf[48];
    if (jp_num_is_int(v)) {
        bool neg;
        const char *d;
        size_t n;
        if (int_digits(v, &neg, &d, &n)) {
            int rc = neg ? bt_buf_putc(out, '-') : 0;
            return rc ? rc : bt_buf_append(out, d, n);
        }
        snprintf(buf, sizeof buf, "%" PRId64, (int64_t)v->num);
        return bt_buf_puts(out, buf);
    }
    jp_float_repr(v->num, buf);
    return bt_buf_puts(out, buf);
}

/* ------------------------------------------------------------------ objects */

bt_json *jp_lookup(const bt_json *obj, const char *key, size_t len)
{
    size_t i = obj->len;
    const bt_json_member *m = obj->u.members;
    while (i-- > 0)
        if (m[i].key_len == len && memcmp(m[i].key, key, len) == 0)
            return m[i].value;
    return NULL;
}

static uint32_t hash_key(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Dict semantics over members[0..n): first position, last value. Returns m itself
 * when there are no duplicates. */
static bt_json_member *dedup_members(jp_ctx *c, bt_json_member *m, size_t n, size_t *out_n)
{
    size_t i, j, k = 0;
    bt_json_member *o;
    *out_n = n;
    if (n < 2)
        return m;
    if (n <= 16) {
        bool dup = false;
        for (i = 1; i < n && !dup; i++)
            for (j = 0; j < i; j++)
                if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0) {
                    dup = true;
                    break;
                }
        if (!dup)
            return m;
        o = bt_arena_alloc(c->arena, n * sizeof *o);
        if (!o)
            return jp_nomem(c), NULL;
        for (i = 0; i < n; i++) {
            for (j = 0; j < k; j++)
                if (o[j].key_len == m[i].key_len && memcmp(o[j].key, m[i].key, m[i].key_len) == 0)
                    break;
            if (j < k)
                o[j].value = m[i].value;
            else
                o[k++] = m[i];
        }
        *out_n = k;
        return o;
    } else {
        size_t size = 32, mask;
        size_t *slots;
        while (size < n * 2)
            size *= 2;
        mask = size - 1;
        slots = bt_arena_alloc(c->arena, size * sizeof *slots);
        o = bt_arena_alloc(c->arena, n * sizeof *o);
        if (!slots || !o)
            return jp_nomem(c), NULL;
        for (i = 0; i < size; i++)
            slots[i] = SIZE_MAX;
        for (i = 0; i < n; i++) {
            size_t h = hash_key(m[i].key, m[i].key_len) & mask;
            for (;;) {
                size_t s = slots[h];
                if (s == SIZE_MAX) {
                    slots[h] = k;
                    o[k++] = m[i];
                    break;
                }
                if (o[s].key_len == m[i].key_len && memcmp(o[s].key, m[i].key, m[i].key_len) == 0) {
                    o[s].value = m[i].value;
                    break;
                }
                h = (h + 1) & mask;
            }
        }
        if (k == n)
            return m;
        *out_n = k;
        return o;
    }
}

bt_json_member *jp_members(jp_ctx *c, const bt_json *obj, size_t *n)
{
    return dedup_members(c, obj->u.members, obj->len, n);
}

bt_json_member *jp_merge_members(jp_ctx *c, bt_json_member *m, size_t n, size_t *out_n)
{
    return dedup_members(c, m, n, out_n);
}

/* number of distinct keys (no allocation) */
static size_t distinct_keys(const bt_json *o)
{
    size_t i, j, n = 0;
    for (i = 0; i < o->len; i++) {
        const bt_json_member *m = &o->u.members[i];
        for (j = i + 1; j < o->len; j++)
            if (o->u.members[j].key_len == m->key_len &&
                memcmp(o->u.members[j].key, m->key, m->key_len) == 0)
                break;
        if (j == o->len)
            n++;
    }
    return n;
}

bool jp_equal(const bt_json *a, const bt_json *b, bool top)
{
    bt_json_type ta = a ? a->type : BT_JSON_NULL, tb = b ? b->type : BT_JSON_NULL;
    bool ab = ta == BT_JSON_TRUE || ta == BT_JSON_FALSE;
    bool bb = tb == BT_JSON_TRUE || tb == BT_JSON_FALSE;
    size_t i;

    if (jp_is_expref(a) || jp_is_expref(b))
        return false;
    if ((ab && tb == BT_JSON_NUMBER) || (bb && ta == BT_JSON_NUMBER)) {
        /* Python: True == 1, False == 0.0; jmespath.py refuses that at top level */
        const bt_json *num = ab ? b : a;
        int bv = (ab ? ta : tb) == BT_JSON_TRUE;
        int64_t x;
        if (top)
            return false;
        if (jp_num_is_int(num) && num_int64(num, &x))
            return x == bv;
        return num->num == (double)bv;
    }
    if (ab && bb)
        return ta == tb;
    if (ta != tb)
        return false;
    switch (ta) {
    case BT_JSON_NULL:
    case BT_JSON_TRUE:
    case BT_JSON_FALSE: return true;
    case BT_JSON_NUMBER: return jp_num_cmp(a, b) == 0;
    case BT_JSON_STRING: return a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0;
    case BT_JSON_ARRAY:
        if (a->len != b->len)
            return false;
        for (i = 0; i < a->len; i++)
            if (!jp_equal(a->u.items[i], b->u.items[i], false))
                return false;
        return true;
    case BT_JSON_OBJECT: {
        size_t na, nb;
        if (a->len == 0 || b->len == 0)
            return a->len == b->len;
        na = distinct_keys(a);
        nb = distinct_keys(b);
        if (na != nb)
            return false;
        for (i = 0; i < a->len; i++) {
            const bt_json_member *m = &a->u.members[i];
            bt_json *va = jp_lookup(a, m->key, m->key_len), *vb;
            if (va != m->value)
                continue; /* not the last occurrence: checked there */
            vb = jp_lookup(b, m->key, m->key_len);
            if (!vb || !jp_equal(va, vb, false))
                return false;
        }
        return true;
    }
    }
    return false;
}

bt_json *jp_array_from(jp_ctx *c, bt_json **items, size_t n)
{
    bt_json *arr = bt_json_new_array(c->arena, n);
    size_t i;
    if (!arr)
        return jp_nomem(c);
    for (i = 0; i < n; i++)
        if (bt_json_array_push(c->arena, arr, items[i]) != 0)
            return jp_nomem(c);
    return arr;
}

int jp_dumps(jp_ctx *c, bt_buf *out, const bt_json *v)
{
    size_t i, n;
    int rc = 0;
    if (jp_is_expref(v)) {
        /* json.dumps(default=str) prints the Python object's str() */
        static const char py_str[] = "<jmespath.visitor._Expression object>";
        return bt_json_write_string(out, py_str, sizeof py_str - 1, BT_JSON_W_ASCII);
    }
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_NULL: return bt_buf_puts(out, "null");
    case BT_JSON_TRUE: return bt_buf_puts(out, "true");
    case BT_JSON_FALSE: return bt_buf_puts(out, "false");
    case BT_JSON_NUMBER: return jp_num_write(out, v);
    case BT_JSON_STRING: return bt_json_write_string(out, v->u.str, v->len, BT_JSON_W_ASCII);
    case BT_JSON_ARRAY:
        rc = bt_buf_putc(out, '[');
        for (i = 0; !rc && i < v->len; i++) {
            if (i)
                rc = bt_buf_putc(out, ',');
            if (!rc)
                rc = jp_dumps(c, out, v->u.items[i]);
        }
        return rc ? rc : bt_buf_putc(out, ']');
    case BT_JSON_OBJECT: {
        bt_json_member *m = jp_members(c, v, &n);
        if (c->rc)
            return c->rc;
        rc = bt_buf_putc(out, '{');
        for (i = 0; !rc && i < n; i++) {
            if (i)
                rc = bt_buf_putc(out, ',');
            if (!rc)
                rc = bt_json_write_string(out, m[i].key, m[i].key_len, BT_JSON_W_ASCII);
            if (!rc)
                rc = bt_buf_putc(out, ':');
            if (!rc)
                rc = jp_dumps(c, out, m[i].value);
        }
        return rc ? rc : bt_buf_putc(out, '}');
    }
    }
    return 0;
}

/* ------------------------------------------------------------------ interpreter */

/* Python slice.indices() + list[start:stop:step] */
static bt_json *eval_slice(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    int64_t n, start, stop, step, i, count = 0;
    bt_json *out;
    if (!v || v->type != BT_JSON_ARRAY)
        return NULL;
    step = nd->has[2] ? nd->num[2] : 1;
    if (step == 0)
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_VALUE, "slice step cannot be zero");
    n = (int64_t)v->len;
    if (step > 0) {
        start = nd->has[0] ? nd->num[0] : 0;
        stop = nd->has[1] ? nd->num[1] : n;
        if (start < 0) {
            start += n;
            if (start < 0)
                start = 0;
        } else if (start > n) {
            start = n;
        }
        if (stop < 0) {
            stop += n;
            if (stop < 0)
                stop = 0;
        } else if (stop > n) {
            stop = n;
        }
        if (stop > start)
            count = (stop - start - 1) / step + 1;
    } else {
        start = nd->has[0] ? nd->num[0] : n - 1;
        stop = nd->has[1] ? nd->num[1] : -1;
        if (nd->has[0]) {
            if (start < 0) {
                start += n;
                if (start < 0)
                    start = -1;
            } else if (start >= n) {
                start = n - 1;
            }
        }
        if (nd->has[1]) {
            if (stop < 0) {
                stop += n;
                if (stop < 0)
                    stop = -1;
            } else if (stop >= n) {
                stop = n - 1;
            }
        }
        if (start > stop)
            count = (start - stop - 1) / (-step) + 1;
    }
    out = bt_json_new_array(c->arena, (size_t)count);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < count; i++)
        if (bt_json_array_push(c->arena, out, v->u.items[start + i * step]) != 0)
            return jp_nomem(c);
    return out;
}

/* kids[1] over each element of items, dropping None results */
static bt_json *project(jp_ctx *c, const jp_node *rhs, bt_json **items, size_t n)
{
    bt_json *out = bt_json_new_array(c->arena, n);
    size_t i;
    if (!out)
        return jp_nomem(c);
    if (rhs->type == JP_IDENTITY || rhs->type == JP_CURRENT) {
        for (i = 0; i < n; i++)
            if (!is_none(items[i]) && bt_json_array_push(c->arena, out, items[i]) != 0)
                return jp_nomem(c);
        return out;
    }
    for (i = 0; i < n; i++) {
        bt_json *r = jp_eval(c, rhs, items[i]);
        if (c->rc)
            return NULL;
        if (!is_none(r) && bt_json_array_push(c->arena, out, r) != 0)
            return jp_nomem(c);
    }
    return out;
}

static bt_json *eval_comparator(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *l, *r;
    int cmp;
    bool ln, rn, ls, rs;
    l = jp_eval(c, nd->kids[0], v);
    if (c->rc)
        return NULL;
    r = jp_eval(c, nd->kids[1], v);
    if (c->rc)
        return NULL;
    if (nd->op == JP_EQ)
        return jp_bool(jp_equal(l, r, true));
    if (nd->op == JP_NE)
        return jp_bool(!jp_equal(l, r, true));
    ln = l && l->type == BT_JSON_NUMBER;
    rn = r && r->type == BT_JSON_NUMBER;
    ls = l && l->type == BT_JSON_STRING;
    rs = r && r->type == BT_JSON_STRING;
    if (!(ln || ls) || !(rn || rs))
        return NULL; /* ordering is defined for numbers (and, in jmespath.py, strings) */
    if (ln != rn) {
        static const char *const opname[] = {"==", "!=", "<", "<=", ">", ">="};
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                       "'%s' not supported between %s and %s", opname[nd->op], jp_type_name(l),
                       jp_type_name(r));
    }
    cmp = ln ? jp_num_cmp(l, r) : jp_str_cmp(l, r);
    if (cmp == 2)
        return jp_bool(false);
    switch (nd->op) {
    case JP_LT: return jp_bool(cmp < 0);
    case JP_LTE: return jp_bool(cmp <= 0);
    case JP_GT: return jp_bool(cmp > 0);
    case JP_GTE: return jp_bool(cmp >= 0);
    default: return NULL;
    }
}

static bt_json *eval_multi_hash(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json **vals;
    size_t *keyof, i, next = 0;
    bt_json *obj;
    if (is_none(v))
        return NULL;
    vals = bt_arena_alloc(c->arena, nd->nslots * (sizeof *vals + sizeof *keyof));
    if (!vals)
        return jp_nomem(c);
    keyof = (size_t *)(vals + nd->nslots);
    for (i = 0; i < nd->n; i++) {
        bt_json *r = jp_eval(c, nd->kids[i], v);
        if (c->rc)
            return NULL;
        if (nd->slot[i] == next)
            keyof[next++] = i;
        vals[nd->slot[i]] = r ? r : &jp_null_node;
    }
    obj = bt_json_new_object(c->arena, nd->nslots);
    if (!obj)
        return jp_nomem(c);
    for (i = 0; i < nd->nslots; i++)
        if (bt_json_object_put(c->arena, obj, nd->keys[keyof[i]], nd->key_lens[keyof[i]],
                               vals[i]) != 0)
            return jp_nomem(c);
    return obj;
}

static bt_json *eval_value_projection(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json_member *m;
    bt_json **items, *base = jp_eval(c, nd->kids[0], v);
    size_t n, i;
    if (c->rc || !base || base->type != BT_JSON_OBJECT)
        return NULL;
    m = jp_members(c, base, &n);
    if (c->rc)
        return NULL;
    items = bt_arena_alloc(c->arena, (n ? n : 1) * sizeof *items);
    if (!items)
        return jp_nomem(c);
    for (i = 0; i < n; i++)
        items[i] = m[i].value;
    return project(c, nd->kids[1], items, n);
}

static bt_json *eval_filter_projection(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *out, *r, *base = jp_eval(c, nd->kids[0], v);
    size_t i;
    if (c->rc || !base || base->type != BT_JSON_ARRAY)
        return NULL;
    out = bt_json_new_array(c->arena, base->len);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < base->len; i++) {
        bt_json *e = base->u.items[i];
        bt_json *cond = jp_eval(c, nd->kids[2], e);
        if (c->rc)
            return NULL;
        if (!jp_truthy(cond))
            continue;
        r = jp_eval(c, nd->kids[1], e);
        if (c->rc)
            return NULL;
        if (!is_none(r) && bt_json_array_push(c->arena, out, r) != 0)
            return jp_nomem(c);
    }
    return out;
}

static bt_json *eval_flatten(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *out, *base = jp_eval(c, nd->kids[0], v);
    size_t total = 0, i, j;
    if (c->rc || !base || base->type != BT_JSON_ARRAY)
        return NULL;
    for (i = 0; i < base->len; i++) {
        bt_json *e = base->u.items[i];
        total += e->type == BT_JSON_ARRAY ? e->len : 1;
    }
    out = bt_json_new_array(c->arena, total);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < base->len; i++) {
        bt_json *e = base->u.items[i];
        if (e->type == BT_JSON_ARRAY) {
            for (j = 0; j < e->len; j++)
                if (bt_json_array_push(c->arena, out, e->u.items[j]) != 0)
                    return jp_nomem(c);
        } else if (bt_json_array_push(c->arena, out, e) != 0) {
            return jp_nomem(c);
        }
    }
    return out;
}

static bt_json *eval_multi_list(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *out, *r;
    size_t i;
    if (is_none(v))
        return NULL;
    out = bt_json_new_array(c->arena, nd->n);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < nd->n; i++) {
        r = jp_eval(c, nd->kids[i], v);
        if (c->rc)
            return NULL;
        if (bt_json_array_push(c->arena, out, r ? r : &jp_null_node) != 0)
            return jp_nomem(c);
    }
    return out;
}

static bt_json *eval_function(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *stackargs[4], **args = stackargs;
    size_t i;
    if (nd->n > 4) {
        args = bt_arena_alloc(c->arena, nd->n * sizeof *args);
        if (!args)
            return jp_nomem(c);
    }
    for (i = 0; i < nd->n; i++) {
        args[i] = jp_eval(c, nd->kids[i], v);
        if (c->rc)
            return NULL;
    }
    return jp_call(c, nd, args, nd->n);
}

bt_json *jp_eval(jp_ctx *c, const jp_node *nd, const bt_json *v)
{
    bt_json *base, *r;
    size_t i;

    switch (nd->type) {
    case JP_IDENTITY:
    case JP_CURRENT: return (bt_json *)v;
    case JP_FIELD:
        if (v && v->type == BT_JSON_OBJECT)
            return jp_lookup(v, nd->name, nd->name_len);
        return NULL;
    case JP_SUBEXPR:
    case JP_INDEX_EXPR:
    case JP_PIPE:
        r = (bt_json *)v;
        for (i = 0; i < nd->n; i++) {
            r = jp_eval(c, nd->kids[i], r);
            if (c->rc)
                return NULL;
        }
        return r;
    case JP_INDEX: {
        int64_t k = nd->num[0];
        if (!v || v->type != BT_JSON_ARRAY)
            return NULL;
        if (k < 0)
            k += (int64_t)v->len;
        if (k < 0 || k >= (int64_t)v->len)
            return NULL;
        return v->u.items[k];
    }
    case JP_SLICE: return eval_slice(c, nd, v);
    case JP_PROJECTION:
        base = jp_eval(c, nd->kids[0], v);
        if (c->rc || !base || base->type != BT_JSON_ARRAY)
            return NULL;
        return project(c, nd->kids[1], base->u.items, base->len);
    case JP_VALUE_PROJECTION: return eval_value_projection(c, nd, v);
    case JP_FILTER_PROJECTION: return eval_filter_projection(c, nd, v);
    case JP_FLATTEN: return eval_flatten(c, nd, v);
    case JP_LITERAL: return nd->lit;
    case JP_MULTI_LIST: return eval_multi_list(c, nd, v);
    case JP_MULTI_HASH: return eval_multi_hash(c, nd, v);
    case JP_OR:
        r = jp_eval(c, nd->kids[0], v);
        if (c->rc)
            return NULL;
        if (jp_truthy(r))
            return r;
        return jp_eval(c, nd->kids[1], v);
    case JP_AND:
        r = jp_eval(c, nd->kids[0], v);
        if (c->rc)
            return NULL;
        if (!jp_truthy(r))
            return r;
        return jp_eval(c, nd->kids[1], v);
    case JP_NOT:
        r = jp_eval(c, nd->kids[0], v);
        if (c->rc)
            return NULL;
        return jp_bool(!jp_truthy(r));
    case JP_COMPARATOR: return eval_comparator(c, nd, v);
    case JP_FUNCTION: return eval_function(c, nd, v);
    case JP_EXPREF: return jp_expref_new(c, nd->kids[0]);
    }
    return NULL;
}

/* true if v holds an expression reference anywhere (it cannot be output) */
static bool holds_expref(const bt_json *v)
{
    size_t i;
    if (!v)
        return false;
    if (jp_is_expref(v))
        return true;
    if (v->type == BT_JSON_ARRAY) {
        for (i = 0; i < v->len; i++)
            if (holds_expref(v->u.items[i]))
                return true;
    } else if (v->type == BT_JSON_OBJECT) {
        for (i = 0; i < v->len; i++)
            if (holds_expref(v->u.members[i].value))
                return true;
    }
    return false;
}

int bt_jmespath_eval(const bt_jmespath *q, bt_arena *arena, const bt_json *input, bt_json **out,
                     bt_error *err)
{
    jp_ctx c;
    bt_json *r;

    *out = NULL;
    c.arena = arena;
    c.err = err;
    c.rc = 0;
    if (!q || !arena) {
        jp_fail(&c, BT_EINVAL, BT_JMESPATH_E_NONE, "no query or arena given");
        return c.rc;
    }
    r = jp_eval(&c, q->root, input);
    if (c.rc)
        return c.rc;
    if (q->loose_expref && holds_expref(r)) {
        jp_fail(&c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                "an expression reference (&...) is not a value and cannot be output");
        return c.rc;
    }
    *out = r ? r : &jp_null_node;
    return 0;
}
