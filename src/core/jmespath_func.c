/*
 * jmespath_func.c - the JMESPath built-in functions, with jmespath.py's signature
 * checking (arity, then each declared argument's type; arrays of numbers/strings
 * checked element by element, the first element choosing between the two) and its
 * results: Python ints stay ints (sum, abs, ceil, floor, length), avg is a float,
 * sorts are stable, max/min return the first extreme element.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jmespath_int.h"

/* argument type bits */
enum {
    A_NULL = 1 << 0,
    A_BOOL = 1 << 1,
    A_NUMBER = 1 << 2,
    A_STRING = 1 << 3,
    A_ARRAY = 1 << 4,
    A_OBJECT = 1 << 5,
    A_EXPREF = 1 << 6,
    A_ARRAY_NUMBER = 1 << 7, /* array whose elements are all numbers */
    A_ARRAY_STRING = 1 << 8, /* array whose elements are all strings */
};

typedef bt_json *(*jp_impl)(jp_ctx *c, const jp_node *call, bt_json **args, size_t n);

struct jp_func {
    const char *name;
    jp_impl impl;
    unsigned nparams; /* declared parameters (the minimum when variadic) */
    bool variadic;
    unsigned types[2]; /* per declared parameter; 0 = any */
};

static unsigned type_bit(const bt_json *v)
{
    if (!v)
        return A_NULL;
    switch (v->type) {
    case BT_JSON_NULL: return jp_is_expref(v) ? A_EXPREF : A_NULL;
    case BT_JSON_TRUE:
    case BT_JSON_FALSE: return A_BOOL;
    case BT_JSON_NUMBER: return A_NUMBER;
    case BT_JSON_STRING: return A_STRING;
    case BT_JSON_ARRAY: return A_ARRAY;
    case BT_JSON_OBJECT: return A_OBJECT;
    }
    return 0;
}

/* "string, array or object" */
static void describe_types(unsigned t, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{A_NUMBER, "number"},
                 {A_STRING, "string"},
                 {A_BOOL, "boolean"},
                 {A_ARRAY, "array"},
                 {A_ARRAY_NUMBER, "array of numbers"},
                 {A_ARRAY_STRING, "array of strings"},
                 {A_OBJECT, "object"},
                 {A_NULL, "null"},
                 {A_EXPREF, "expression (&...)"}};
    size_t k, count = 0, total = 0, len = 0;
    buf[0] = '\0';
    for (k = 0; k < sizeof names / sizeof names[0]; k++)
        if (t & names[k].bit)
            total++;
    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (!(t & names[k].bit))
            continue;
        count++;
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                count == 1       ? ""
                                : count == total ? " or "
                                                 : ", ",
                                names[k].name);
        if (len >= size)
            return;
    }
}

static bt_json *type_error(jp_ctx *c, const jp_node *call, size_t argi, unsigned allowed,
                           const char *got, bool element)
{
    char want[128];
    describe_types(allowed, want, sizeof want);
    return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                   "invalid type for argument %zu of %.*s(): expected %s, got %s%s", argi + 1,
                   (int)call->name_len, call->name, want, element ? "an array holding " : "", got);
}

/* jmespath.py Functions._type_check_single */
static bool check_type(jp_ctx *c, const jp_node *call, size_t argi, unsigned allowed,
                       const bt_json *v)
{
    unsigned top = allowed & ~(unsigned)(A_ARRAY_NUMBER | A_ARRAY_STRING);
    unsigned sub = allowed & (A_ARRAY_NUMBER | A_ARRAY_STRING);
    unsigned bit = type_bit(v), want;
    size_t i;
    if (sub)
        top |= A_ARRAY;
    if (!(bit & top)) {
        type_error(c, call, argi, allowed, jp_type_name(v), false);
        return false;
    }
    if (!sub || bit != A_ARRAY || v->len == 0)
        return true;
    if (sub == A_ARRAY_NUMBER)
        want = A_NUMBER;
    else if (sub == A_ARRAY_STRING)
        want = A_STRING;
    else {
        /* either kind: the first element decides */
        want = type_bit(v->u.items[0]);
        if (want != A_NUMBER && want != A_STRING) {
            type_error(c, call, argi, allowed, jp_type_name(v->u.items[0]), true);
            return false;
        }
    }
    for (i = 0; i < v->len; i++) {
        if (type_bit(v->u.items[i]) != want) {
            type_error(c, call, argi, allowed, jp_type_name(v->u.items[i]), true);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ helpers */

static size_t utf8_count(const char *s, size_t len)
{
    size_t i, n = 0;
    for (i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static bt_json *new_string(jp_ctx *c, const char *s, size_t len)
{
    bt_json *v = bt_json_new_string(c->arena, s, len);
    return v ? v : jp_nomem(c);
}

/* Python's a < b for two values of the same kind (numbers or strings) */
static bool less(const bt_json *a, const bt_json *b)
{
    if (a->type == BT_JSON_STRING)
        return jp_str_cmp(a, b) < 0;
    return jp_num_cmp(a, b) == -1;
}

/* sort keys: the values, or (when every key is a number a double holds exactly)
 * their doubles, which compare faster and identically */
typedef struct sort_keys {
    bt_json **v;
    double *d;
} sort_keys;

static bool key_less(const sort_keys *k, size_t a, size_t b)
{
    if (k->d)
        return k->d[a] < k->d[b];
    return less(k->v[a], k->v[b]);
}

/* stable merge sort of idx[0..n) by key (Python's sorted) */
static void merge_sort(size_t *idx, size_t *tmp, size_t n, const sort_keys *keys)
{
    size_t mid, i, j, k;
    if (n < 2)
        return;
    if (n <= 8) { /* insertion sort: stable */
        for (i = 1; i < n; i++) {
            size_t x = idx[i];
            for (j = i; j > 0 && key_less(keys, x, idx[j - 1]); j--)
                idx[j] = idx[j - 1];
            idx[j] = x;
        }
        return;
    }
    mid = n / 2;
    merge_sort(idx, tmp, mid, keys);
    merge_sort(idx + mid, tmp, n - mid, keys);
    if (!key_less(keys, idx[mid], idx[mid - 1]))
        return;
    memcpy(tmp, idx, n * sizeof *idx);
    for (i = 0, j = mid, k = 0; i < mid && j < n;)
        idx[k++] = key_less(keys, tmp[j], tmp[i]) ? tmp[j++] : tmp[i++];
    while (i < mid)
        idx[k++] = tmp[i++];
    while (j < n)
        idx[k++] = tmp[j++];
}

/* items sorted by keys (parallel arrays, all numbers or all strings), stably */
static bt_json *sorted_array(jp_ctx *c, bt_json **items, bt_json **keys, size_t n)
{
    size_t *idx = bt_arena_alloc(c->arena, 2 * (n ? n : 1) * sizeof *idx), i;
    sort_keys sk = {keys, NULL};
    bt_json *out;
    if (!idx)
        return jp_nomem(c);
    for (i = 0; i < n; i++)
        idx[i] = i;
    if (n > 8 && keys[0]->type == BT_JSON_NUMBER) {
        sk.d = bt_arena_alloc(c->arena, n * sizeof *sk.d);
        if (!sk.d)
            return jp_nomem(c);
        for (i = 0; i < n; i++) {
            /* ints below 2^53 and all floats are exact doubles */
            if (jp_num_is_int(keys[i]) && !(fabs(keys[i]->num) < 9007199254740992.0)) {
                sk.d = NULL;
                break;
            }
            sk.d[i] = keys[i]->num;
        }
    }
    merge_sort(idx, idx + n, n, &sk);
    out = bt_json_new_array(c->arena, n);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < n; i++)
        if (bt_json_array_push(c->arena, out, items[idx[i]]) != 0)
            return jp_nomem(c);
    return out;
}

/* Python's unbounded ints, for sum(): sign and magnitude in base-1e9 limbs (least
 * significant first), allocated in the arena. */
typedef struct bigint {
    bool neg;
    uint32_t *d;
    size_t n;
} bigint;

#define BIG_BASE 1000000000u

static bool big_from_digits(jp_ctx *c, bool neg, const char *s, size_t len, bigint *b)
{
    size_t i;
    b->neg = neg;
    b->n = (len + 8) / 9;
    b->d = bt_arena_alloc(c->arena, (b->n ? b->n : 1) * sizeof *b->d);
    if (!b->d)
        return jp_nomem(c), false;
    for (i = 0; i < b->n; i++) {
        size_t end = len - i * 9, start = end >= 9 ? end - 9 : 0, k;
        uint32_t limb = 0;
        for (k = start; k < end; k++)
            limb = limb * 10 + (uint32_t)(s[k] - '0');
        b->d[i] = limb;
    }
    while (b->n > 0 && b->d[b->n - 1] == 0)
        b->n--;
    if (b->n == 0)
        b->neg = false;
    return true;
}

static bool big_from_int128(jp_ctx *c, __int128 x, bigint *b)
{
    char buf[48], *p = buf + sizeof buf;
    unsigned __int128 u = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    return big_from_digits(c, x < 0, p, (size_t)(buf + sizeof buf - p), b);
}

/* the int value of a number node (jp_num_is_int) */
static bool big_of(jp_ctx *c, const bt_json *v, bigint *b)
{
    const char *s = v->u.str, *e;
    bool neg = false;
    if (!s)
        return big_from_int128(c, (__int128)v->num, b);
    e = s + v->len;
    if (s < e && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    return big_from_digits(c, neg, s, (size_t)(e - s), b);
}

static int big_cmp_mag(const bigint *a, const bigint *b)
{
    size_t i;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

/* acc += x */
static bool big_add(jp_ctx *c, bigint *acc, const bigint *x)
{
    size_t n = (acc->n > x->n ? acc->n : x->n) + 1, i;
    uint32_t *d = bt_arena_alloc(c->arena, n * sizeof *d);
    if (!d)
        return jp_nomem(c), false;
    if (acc->neg == x->neg || x->n == 0 || acc->n == 0) {
        uint32_t carry = 0;
        bool neg = acc->n ? acc->neg : x->neg;
        for (i = 0; i < n; i++) {
            uint64_t t = (uint64_t)carry + (i < acc->n ? acc->d[i] : 0) + (i < x->n ? x->d[i] : 0);
            d[i] = (uint32_t)(t % BIG_BASE);
            carry = (uint32_t)(t / BIG_BASE);
        }
        acc->neg = neg;
    } else {
        const bigint *big = big_cmp_mag(acc, x) >= 0 ? acc : x;
        const bigint *small = big == acc ? x : acc;
        int64_t borrow = 0;
        bool neg = big->neg;
        for (i = 0; i < n; i++) {
            int64_t t =
                (int64_t)(i < big->n ? big->d[i] : 0) - (i < small->n ? small->d[i] : 0) - borrow;
            borrow = t < 0;
            d[i] = (uint32_t)(t < 0 ? t + BIG_BASE : t);
        }
        acc->neg = neg;
    }
    acc->d = d;
    acc->n = n;
    while (acc->n > 0 && acc->d[acc->n - 1] == 0)
        acc->n--;
    if (acc->n == 0)
        acc->neg = false;
    return true;
}

static char *big_text(jp_ctx *c, const bigint *b, size_t *len)
{
    char *s = bt_arena_alloc(c->arena, b->n * 9 + 3), *p = s;
    size_t i;
    if (!s)
        return jp_nomem(c), NULL;
    if (b->neg)
        *p++ = '-';
    if (b->n == 0)
        *p++ = '0';
    else
        p += sprintf(p, "%u", b->d[b->n - 1]);
    for (i = b->n - 1; b->n && i-- > 0;)
        p += sprintf(p, "%09u", b->d[i]);
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

/* Python's sum() over an array of numbers: exact ints until the first float */
typedef struct num_sum {
    bool is_int;
    bool is_big; /* ints beyond 126 bits: acc is in big */
    __int128 acc;
    bigint big;
    double dacc;
} num_sum;

static bool int128_of(const bt_json *v, __int128 *out)
{
    const char *s = v->u.str, *e;
    bool neg = false;
    unsigned __int128 acc = 0, lim = ((unsigned __int128)1 << 126) - 1;
    if (!s) {
        *out = (__int128)v->num;
        return true;
    }
    e = s + v->len;
    if (s < e && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    if (s == e)
        return false;
    for (; s < e; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d > 9 || acc > lim / 10)
            return false;
        acc = acc * 10 + d;
    }
    *out = neg ? -(__int128)acc : (__int128)acc;
    return true;
}

/* float(int) of the exact sum so far */
static double sum_as_double(jp_ctx *c, const num_sum *s)
{
    size_t len;
    char *t;
    if (!s->is_big)
        return (double)s->acc;
    t = big_text(c, &s->big, &len);
    return t ? strtod(t, NULL) : 0;
}

static bool sum_numbers(jp_ctx *c, const bt_json *arr, num_sum *s)
{
    size_t i;
    memset(s, 0, sizeof *s);
    s->is_int = true;
    for (i = 0; i < arr->len; i++) {
        const bt_json *v = arr->u.items[i];
        __int128 x, r;
        if (!s->is_int) {
            s->dacc += v->num; /* float + int: the int rounded to a float first */
            continue;
        }
        if (!jp_num_is_int(v)) {
            s->dacc = sum_as_double(c, s) + v->num;
            s->is_int = false;
            continue;
        }
        if (!s->is_big && int128_of(v, &x) && !__builtin_add_overflow(s->acc, x, &r)) {
            s->acc = r;
            continue;
        }
        if (!s->is_big) {
            if (!big_from_int128(c, s->acc, &s->big))
                return false;
            s->is_big = true;
        }
        {
            bigint b;
            if (!big_of(c, v, &b) || !big_add(c, &s->big, &b))
                return false;
        }
    }
    return !c->rc;
}

/* an integer-valued double as a Python int */
static bt_json *int_of_double(jp_ctx *c, double d)
{
    char buf[400];
    int n;
    if (fabs(d) < 9.2e18)
        return jp_new_int(c, (int64_t)d);
    n = snprintf(buf, sizeof buf, "%.0f", d); /* glibc prints the exact value */
    return jp_new_num_text(c, buf, (size_t)n, d);
}

/* ------------------------------------------------------------------ functions */

static bt_json *fn_abs(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *v = a[0];
    if (jp_num_is_int(v)) {
        if (v->u.str && v->len > 1 && v->u.str[0] == '-')
            return jp_new_num_text(c, v->u.str + 1, v->len - 1, fabs(v->num));
        if (!v->u.str && v->num < 0)
            return jp_new_int(c, (int64_t)-v->num);
        return v;
    }
    if (signbit(v->num))
        return jp_new_float(c, fabs(v->num));
    return v;
}

static bt_json *fn_avg(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    num_sum s;
    if (a[0]->len == 0)
        return NULL;
    if (!sum_numbers(c, a[0], &s))
        return NULL;
    return jp_new_float(c, (s.is_int ? sum_as_double(c, &s) : s.dacc) / (double)a[0]->len);
}

static bt_json *round_fn(jp_ctx *c, const jp_node *call, bt_json *v, bool up)
{
    double d;
    if (jp_num_is_int(v))
        return v;
    if (isnan(v->num) || isinf(v->num))
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_VALUE,
                       "%.*s(): cannot convert %s to an integer", (int)call->name_len, call->name,
                       isnan(v->num) ? "NaN" : "infinity");
    d = up ? ceil(v->num) : floor(v->num);
    return int_of_double(c, d);
}

static bt_json *fn_ceil(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return round_fn(c, call, a[0], true);
}

static bt_json *fn_floor(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return round_fn(c, call, a[0], false);
}

static bt_json *fn_contains(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *subject = a[0], *search = a[1];
    size_t i;
    if (subject->type == BT_JSON_STRING) {
        if (!search || search->type != BT_JSON_STRING)
            return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                           "contains(): searching a string needs a string, got %s",
                           jp_type_name(search));
        if (search->len == 0)
            return jp_bool(true);
        if (search->len > subject->len)
            return jp_bool(false);
        return jp_bool(memmem(subject->u.str, subject->len, search->u.str, search->len) != NULL);
    }
    for (i = 0; i < subject->len; i++)
        if (jp_equal(subject->u.items[i], search, false))
            return jp_bool(true);
    return jp_bool(false);
}

static bt_json *fn_ends_with(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *s = a[0], *x = a[1];
    return jp_bool(x->len <= s->len &&
                   (x->len == 0 || memcmp(s->u.str + s->len - x->len, x->u.str, x->len) == 0));
}

static bt_json *fn_starts_with(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *s = a[0], *x = a[1];
    return jp_bool(x->len <= s->len && (x->len == 0 || memcmp(s->u.str, x->u.str, x->len) == 0));
}

static bt_json *fn_join(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *sep = a[0], *arr = a[1];
    size_t i, total = 0, off = 0;
    char *buf;
    bt_json *out;
    for (i = 0; i < arr->len; i++)
        total += arr->u.items[i]->len + (i ? sep->len : 0);
    buf = bt_arena_alloc(c->arena, total + 1);
    if (!buf)
        return jp_nomem(c);
    for (i = 0; i < arr->len; i++) {
        if (i && sep->len) {
            memcpy(buf + off, sep->u.str, sep->len);
            off += sep->len;
        }
        if (arr->u.items[i]->len)
            memcpy(buf + off, arr->u.items[i]->u.str, arr->u.items[i]->len);
        off += arr->u.items[i]->len;
    }
    buf[off] = '\0';
    out = new_string(c, buf, off);
    return out;
}

/* keys(obj) (keys = 1) or values(obj) (keys = 0), in member order */
static bt_json *members_list(jp_ctx *c, const bt_json *obj, int keys)
{
    size_t k, i;
    bt_json_member *m = jp_members(c, obj, &k);
    bt_json *out;
    if (c->rc)
        return NULL;
    out = bt_json_new_array(c->arena, k);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < k; i++) {
        bt_json *v = keys ? new_string(c, m[i].key, m[i].key_len) : m[i].value;
        if (!v || bt_json_array_push(c->arena, out, v) != 0)
            return jp_nomem(c);
    }
    return out;
}

static bt_json *fn_keys(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return members_list(c, a[0], 1);
}

static bt_json *fn_values(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return members_list(c, a[0], 0);
}

static bt_json *fn_length(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *v = a[0];
    size_t k;
    if (v->type == BT_JSON_STRING)
        return jp_new_int(c, (int64_t)utf8_count(v->u.str, v->len));
    if (v->type == BT_JSON_OBJECT) {
        jp_members(c, v, &k);
        return c->rc ? NULL : jp_new_int(c, (int64_t)k);
    }
    return jp_new_int(c, (int64_t)v->len);
}

static bt_json *fn_map(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    const jp_node *e = jp_expref_node(a[0]);
    bt_json *arr = a[1], *out = bt_json_new_array(c->arena, arr->len);
    size_t i;
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < arr->len; i++) {
        bt_json *r = jp_eval(c, e, arr->u.items[i]);
        if (c->rc)
            return NULL;
        if (bt_json_array_push(c->arena, out, r ? r : &jp_null_node) != 0)
            return jp_nomem(c);
    }
    return out;
}

static bt_json *extreme(bt_json *arr, bool max)
{
    bt_json *best;
    size_t i;
    if (arr->len == 0)
        return NULL;
    best = arr->u.items[0];
    for (i = 1; i < arr->len; i++) {
        bt_json *x = arr->u.items[i];
        if (max ? less(best, x) : less(x, best))
            best = x;
    }
    return best;
}

static bt_json *fn_max(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return extreme(a[0], true);
}

static bt_json *fn_min(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return extreme(a[0], false);
}

/* key of element x for sort_by/min_by/max_by: must be a number or a string */
static bt_json *key_of(jp_ctx *c, const jp_node *call, const jp_node *e, bt_json *x, unsigned want)
{
    bt_json *k = jp_eval(c, e, x);
    if (c->rc)
        return NULL;
    if (!(type_bit(k) & want)) {
        char w[64];
        describe_types(want, w, sizeof w);
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                       "invalid type in %.*s(): the expression must give a %s for every "
                       "element, got %s",
                       (int)call->name_len, call->name, w, jp_type_name(k));
    }
    return k;
}

static bt_json *by_extreme(jp_ctx *c, const jp_node *call, bt_json **a, bool max)
{
    bt_json *arr = a[0], *best = NULL, *bestk = NULL;
    const jp_node *e = jp_expref_node(a[1]);
    size_t i;
    for (i = 0; i < arr->len; i++) {
        bt_json *k = key_of(c, call, e, arr->u.items[i], A_NUMBER | A_STRING);
        if (c->rc)
            return NULL;
        if (!best) {
            best = arr->u.items[i];
            bestk = k;
            continue;
        }
        if (k->type != bestk->type)
            return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                           "invalid type in %.*s(): cannot compare %s with %s", (int)call->name_len,
                           call->name, jp_type_name(k), jp_type_name(bestk));
        if (max ? less(bestk, k) : less(k, bestk)) {
            best = arr->u.items[i];
            bestk = k;
        }
    }
    return best;
}

static bt_json *fn_max_by(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return by_extreme(c, call, a, true);
}

static bt_json *fn_min_by(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return by_extreme(c, call, a, false);
}

/* One (key, value) pair of a non-object merge() argument, as Python's dict.update()
 * reads an iterable: a 2-element array with a string key, or a 2-character string. */
static bool update_pair(jp_ctx *c, const bt_json *e, bt_json_member *m)
{
    if (e->type == BT_JSON_ARRAY && e->len == 2 && e->u.items[0]->type == BT_JSON_STRING) {
        m->key = e->u.items[0]->u.str;
        m->key_len = e->u.items[0]->len;
        m->value = e->u.items[1];
        return true;
    }
    if (e->type == BT_JSON_STRING && e->len >= 2 && utf8_count(e->u.str, e->len) == 2) {
        size_t k = 1;
        while (((unsigned char)e->u.str[k] & 0xC0) == 0x80)
            k++;
        m->key = e->u.str;
        m->key_len = k;
        m->value = new_string(c, e->u.str + k, e->len - k);
        return m->value != NULL;
    }
    return false;
}

static bt_json *fn_merge(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    size_t i, j, total = 0, k = 0, outn;
    bt_json_member *all, *m;
    bt_json *out;
    /* jmespath.py checks only the first argument, then calls dict.update() with each:
     * objects merge, arrays of pairs and "" work too, anything else raises */
    for (i = 0; i < n; i++) {
        bool ok = a[i] && (a[i]->type == BT_JSON_OBJECT || a[i]->type == BT_JSON_ARRAY ||
                           (i > 0 && a[i]->type == BT_JSON_STRING && a[i]->len == 0));
        if (!ok || (i == 0 && a[i]->type != BT_JSON_OBJECT))
            return type_error(c, call, i, A_OBJECT, jp_type_name(a[i]), false);
        if (a[i]->type != BT_JSON_STRING)
            total += a[i]->len;
    }
    all = bt_arena_alloc(c->arena, (total ? total : 1) * sizeof *all);
    if (!all)
        return jp_nomem(c);
    for (i = 0; i < n; i++) {
        if (a[i]->type == BT_JSON_OBJECT) {
            if (a[i]->len)
                memcpy(all + k, a[i]->u.members, a[i]->len * sizeof *all);
            k += a[i]->len;
        } else if (a[i]->type == BT_JSON_ARRAY) {
            for (j = 0; j < a[i]->len; j++) {
                if (!update_pair(c, a[i]->u.items[j], &all[k++])) {
                    if (c->rc)
                        return NULL;
                    return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                                   "invalid type for argument %zu of merge(): expected object, "
                                   "got an array that is not a list of [key, value] pairs",
                                   i + 1);
                }
            }
        }
    }
    m = jp_merge_members(c, all, total, &outn);
    if (c->rc)
        return NULL;
    out = bt_json_new_object(c->arena, outn);
    if (!out)
        return jp_nomem(c);
    for (i = 0; i < outn; i++)
        if (bt_json_object_put(c->arena, out, m[i].key, m[i].key_len, m[i].value) != 0)
            return jp_nomem(c);
    return out;
}

static bt_json *fn_not_null(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i] && (a[i]->type != BT_JSON_NULL || jp_is_expref(a[i])))
            return a[i];
    return NULL;
}

static bt_json *fn_reverse(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *v = a[0], *out;
    size_t i;
    if (v->type == BT_JSON_STRING) {
        char *buf = bt_arena_alloc(c->arena, v->len + 1);
        size_t off = v->len;
        if (!buf)
            return jp_nomem(c);
        for (i = 0; i < v->len;) {
            size_t e = i + 1;
            while (e < v->len && ((unsigned char)v->u.str[e] & 0xC0) == 0x80)
                e++;
            off -= e - i;
            memcpy(buf + off, v->u.str + i, e - i);
            i = e;
        }
        buf[v->len] = '\0';
        return new_string(c, buf, v->len);
    }
    out = bt_json_new_array(c->arena, v->len);
    if (!out)
        return jp_nomem(c);
    for (i = v->len; i-- > 0;)
        if (bt_json_array_push(c->arena, out, v->u.items[i]) != 0)
            return jp_nomem(c);
    return out;
}

static bt_json *fn_sort(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    return sorted_array(c, a[0]->u.items, a[0]->u.items, a[0]->len);
}

static bt_json *fn_sort_by(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *arr = a[0], **keys, *first;
    const jp_node *e = jp_expref_node(a[1]);
    unsigned want;
    size_t i;
    if (arr->len == 0)
        return arr;
    /* the first element's key fixes the type all keys must have */
    first = key_of(c, call, e, arr->u.items[0], A_NUMBER | A_STRING);
    if (c->rc)
        return NULL;
    want = type_bit(first);
    keys = bt_arena_alloc(c->arena, arr->len * sizeof *keys);
    if (!keys)
        return jp_nomem(c);
    for (i = 0; i < arr->len; i++) {
        keys[i] = key_of(c, call, e, arr->u.items[i], want);
        if (c->rc)
            return NULL;
    }
    return sorted_array(c, arr->u.items, keys, arr->len);
}

static bt_json *fn_sum(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    num_sum s;
    if (!sum_numbers(c, a[0], &s))
        return NULL;
    if (!s.is_int)
        return jp_new_float(c, s.dacc);
    if (s.is_big) {
        size_t len;
        char *t = big_text(c, &s.big, &len);
        return t ? jp_new_num_text(c, t, len, strtod(t, NULL)) : NULL;
    }
    return jp_new_int128(c, s.acc);
}

static bt_json *fn_to_array(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *v = a[0] ? a[0] : &jp_null_node;
    if (v->type == BT_JSON_ARRAY)
        return v;
    return jp_array_from(c, &v, 1);
}

static bt_json *fn_to_string(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_buf b;
    bt_json *out;
    int rc;
    if (a[0] && a[0]->type == BT_JSON_STRING)
        return a[0];
    bt_buf_init(&b, 0);
    rc = jp_dumps(c, &b, a[0]);
    if (c->rc) {
        bt_buf_dispose(&b);
        return NULL;
    }
    if (rc) {
        bt_buf_dispose(&b);
        return jp_fail(c, rc, BT_JMESPATH_E_NONE, "to_string(): value too large");
    }
    out = new_string(c, b.data ? b.data : "", b.len);
    bt_buf_dispose(&b);
    return out;
}

static bool py_strip_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f' ||
           (ch >= 0x1c && ch <= 0x1f);
}

/* digits with single '_' between digits (Python numeric literal rule); copies the
 * digits to out. Returns chars consumed, 0 if no digits or a misplaced '_'. */
static size_t scan_digits(const char *s, size_t n, char *out, size_t *outn)
{
    size_t i = 0;
    if (n == 0 || !(s[0] >= '0' && s[0] <= '9'))
        return 0;
    while (i < n) {
        if (s[i] >= '0' && s[i] <= '9') {
            out[(*outn)++] = s[i++];
        } else if (s[i] == '_' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            i++;
        } else {
            break;
        }
    }
    return i;
}

/* Python int(str) then float(str), as jmespath.py's to_number tries them. */
static bt_json *fn_to_number(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    bt_json *v = a[0];
    const char *s;
    size_t len, b, e, i, dn = 0;
    char *buf;
    bool neg = false;

    if (!v || v->type != BT_JSON_STRING) {
        if (v && v->type == BT_JSON_NUMBER)
            return v;
        if (jp_is_expref(v))
            return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_TYPE,
                           "to_number(): an expression reference (&...) is not a value");
        return NULL;
    }
    s = v->u.str;
    len = v->len;
    b = 0;
    e = len;
    while (b < e && py_strip_space(s[b]))
        b++;
    while (e > b && py_strip_space(s[e - 1]))
        e--;
    if (b == e)
        return NULL;
    buf = bt_arena_alloc(c->arena, e - b + 2);
    if (!buf)
        return jp_nomem(c);
    i = b;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    /* int(): [sign] digits */
    {
        size_t used = scan_digits(s + i, e - i, buf + 1, &dn);
        if (used && i + used == e) {
            char *d = buf + 1;
            while (dn > 1 && *d == '0')
                d++, dn--;
            if (neg && !(dn == 1 && d[0] == '0')) {
                *--d = '-';
                dn++;
            }
            return jp_new_num_text(c, d, dn, strtod(d, NULL));
        }
    }
    /* float(): [sign] (digits [. [digits]] | . digits) [e [sign] digits] | inf | nan */
    {
        size_t j = i, used;
        bool mant = false;
        double d;
        dn = 0;
        if (neg)
            buf[dn++] = '-';
        if (e - j == 3 || e - j == 8) {
            if (strncasecmp(s + j, "inf", e - j) == 0 || strncasecmp(s + j, "infinity", e - j) == 0)
                return jp_new_float(c, neg ? -INFINITY : INFINITY);
            if (e - j == 3 && strncasecmp(s + j, "nan", 3) == 0)
                return jp_new_float(c, NAN);
        }
        used = scan_digits(s + j, e - j, buf, &dn);
        if (used) {
            mant = true;
            j += used;
        }
        if (j < e && s[j] == '.') {
            buf[dn++] = '.';
            j++;
            used = scan_digits(s + j, e - j, buf, &dn);
            if (used) {
                mant = true;
                j += used;
            } else if (j < e && s[j] == '_') {
                return NULL;
            }
        }
        if (!mant)
            return NULL;
        if (j < e && (s[j] == 'e' || s[j] == 'E')) {
            buf[dn++] = 'e';
            j++;
            if (j < e && (s[j] == '+' || s[j] == '-'))
                buf[dn++] = s[j++];
            used = scan_digits(s + j, e - j, buf, &dn);
            if (!used)
                return NULL;
            j += used;
        }
        if (j != e)
            return NULL;
        buf[dn] = '\0';
        d = strtod(buf, NULL);
        return jp_new_float(c, d);
    }
}

static bt_json *fn_type(jp_ctx *c, const jp_node *call, bt_json **a, size_t n)
{
    const char *t;
    if (jp_is_expref(a[0]))
        return NULL; /* jmespath.py's type() falls through for expression objects */
    t = jp_type_name(a[0]);
    return new_string(c, t, strlen(t));
}

/* sorted by name for bsearch */
static const jp_func funcs[] = {
    {"abs", fn_abs, 1, false, {A_NUMBER}},
    {"avg", fn_avg, 1, false, {A_ARRAY_NUMBER}},
    {"ceil", fn_ceil, 1, false, {A_NUMBER}},
    {"contains", fn_contains, 2, false, {A_ARRAY | A_STRING, 0}},
    {"ends_with", fn_ends_with, 2, false, {A_STRING, A_STRING}},
    {"floor", fn_floor, 1, false, {A_NUMBER}},
    {"join", fn_join, 2, false, {A_STRING, A_ARRAY_STRING}},
    {"keys", fn_keys, 1, false, {A_OBJECT}},
    {"length", fn_length, 1, false, {A_STRING | A_ARRAY | A_OBJECT}},
    {"map", fn_map, 2, false, {A_EXPREF, A_ARRAY}},
    {"max", fn_max, 1, false, {A_ARRAY_NUMBER | A_ARRAY_STRING}},
    {"max_by", fn_max_by, 2, false, {A_ARRAY, A_EXPREF}},
    {"merge", fn_merge, 1, true, {A_OBJECT}},
    {"min", fn_min, 1, false, {A_ARRAY_NUMBER | A_ARRAY_STRING}},
    {"min_by", fn_min_by, 2, false, {A_ARRAY, A_EXPREF}},
    {"not_null", fn_not_null, 1, true, {0}},
    {"reverse", fn_reverse, 1, false, {A_ARRAY | A_STRING}},
    {"sort", fn_sort, 1, false, {A_ARRAY_NUMBER | A_ARRAY_STRING}},
    {"sort_by", fn_sort_by, 2, false, {A_ARRAY, A_EXPREF}},
    {"starts_with", fn_starts_with, 2, false, {A_STRING, A_STRING}},
    {"sum", fn_sum, 1, false, {A_ARRAY_NUMBER}},
    {"to_array", fn_to_array, 1, false, {0}},
    {"to_number", fn_to_number, 1, false, {0}},
    {"to_string", fn_to_string, 1, false, {0}},
    {"type", fn_type, 1, false, {0}},
    {"values", fn_values, 1, false, {A_OBJECT}},
};

const jp_func *jp_func_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = sizeof funcs / sizeof funcs[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *f = funcs[mid].name;
        size_t fl = strlen(f);
        int r = memcmp(name, f, len < fl ? len : fl);
        if (r == 0)
            r = len < fl ? -1 : len > fl;
        if (r == 0)
            return &funcs[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bt_json *jp_call(jp_ctx *c, const jp_node *call, bt_json **args, size_t nargs)
{
    const jp_func *f = call->fn;
    size_t i;
    if (!f)
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_UNKNOWN_FUNCTION, "unknown function %.*s()",
                       (int)call->name_len, call->name);
    if (f->variadic ? nargs < f->nparams : nargs != f->nparams)
        return jp_fail(c, BT_EINVAL, BT_JMESPATH_E_INVALID_ARITY,
                       "function %s() takes %s%u argument%s, got %zu", f->name,
                       f->variadic ? "at least " : "", f->nparams, f->nparams == 1 ? "" : "s",
                       nargs);
    for (i = 0; i < f->nparams; i++)
        if (f->types[i] && !check_type(c, call, i, f->types[i], args[i]))
            return NULL;
    return f->impl(c, call, args, nargs);
}
