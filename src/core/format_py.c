/*
 * format_py.c - the Python behaviours the AWS CLI's formatters rely on, for values
 * as json.loads builds them: int vs float numbers and their printing (str, repr,
 * json.dumps, ruamel), str() and repr() of any value, truthiness, str ordering of
 * dict keys, and dict semantics for duplicate keys.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

bool bt_fmt_is_scalar(const bt_json *v)
{
    return !v || (v->type != BT_JSON_ARRAY && v->type != BT_JSON_OBJECT);
}

bool bt_fmt_num_is_int(const bt_json *v)
{
    size_t i;

    if (!v->u.str) /* computed: the rule bt_json_write_number applies */
        return isfinite(v->num) && v->num == floor(v->num) && fabs(v->num) < 1e16;
    for (i = 0; i < v->len; i++)
        if (v->u.str[i] == '.' || v->u.str[i] == 'e' || v->u.str[i] == 'E')
            return false;
    return true;
}

/* The spelling of a non-finite float: str() "inf", json.dumps "Infinity", ruamel
 * ".inf". */
static int non_finite(bt_buf *out, double d, bt_fmt_numstyle style)
{
    static const char *const names[3][3] = {
        /* nan, inf, -inf */
        {"nan", "inf", "-inf"},
        {"NaN", "Infinity", "-Infinity"},
        {".nan", ".inf", "-.inf"},
    };
    return bt_buf_puts(out, names[style][isnan(d) ? 0 : d > 0 ? 1 : 2]);
}

int bt_fmt_py_number(bt_buf *out, const bt_json *v, bt_fmt_numstyle style)
{
    bt_json_write_opts wo = {0, BT_JSON_W_PYNUM};

    /* an integer literal is exact even past the double range; a float that
     * overflowed (1e400) is infinite */
    if (!bt_fmt_num_is_int(v) && !isfinite(v->num))
        return non_finite(out, v->num, style);
    if (!v->u.str)
        return bt_json_write_number(out, v->num);
    /* the JSON writer's Python mode: int literals as written (-0 as 0), other
     * literals as repr(float(text)), which str() and ruamel also print */
    return bt_json_write(out, v, &wo);
}

static int repr_string(bt_buf *out, const char *s, size_t len)
{
    char quote = '\'';
    size_t i = 0;
    int rc;

    if (memchr(s, '\'', len) && !memchr(s, '"', len))
        quote = '"';
    rc = bt_buf_putc(out, quote);
    while (rc == 0 && i < len) {
        uint32_t cp;
        size_t n = bt_fmt_utf8_next(s + i, len - i, &cp);
        if (cp == (uint32_t)quote || cp == '\\')
            rc = bt_buf_printf(out, "\\%c", (char)cp);
        else if (cp == '\t')
            rc = bt_buf_puts(out, "\\t");
        else if (cp == '\n')
            rc = bt_buf_puts(out, "\\n");
        else if (cp == '\r')
            rc = bt_buf_puts(out, "\\r");
        else if (cp < 0x20 || cp == 0x7F)
            rc = bt_buf_printf(out, "\\x%02x", (unsigned)cp);
        else if (cp < 0x7F)
            rc = bt_buf_putc(out, (char)cp);
        else if (bt_fmt_uc_printable(cp))
            rc = bt_buf_append(out, s + i, n);
        else if (cp <= 0xFF)
            rc = bt_buf_printf(out, "\\x%02x", (unsigned)cp);
        else if (cp <= 0xFFFF)
            rc = bt_buf_printf(out, "\\u%04x", (unsigned)cp);
        else
            rc = bt_buf_printf(out, "\\U%08x", (unsigned)cp);
        i += n;
    }
    if (rc == 0)
        rc = bt_buf_putc(out, quote);
    return rc;
}

int bt_fmt_py_repr(bt_buf *out, const bt_json *v)
{
    int rc = 0;
    size_t i;

    if (!v)
        return bt_buf_puts(out, "None");
    switch (v->type) {
    case BT_JSON_NULL: return bt_buf_puts(out, "None");
    case BT_JSON_TRUE: return bt_buf_puts(out, "True");
    case BT_JSON_FALSE: return bt_buf_puts(out, "False");
    case BT_JSON_NUMBER: return bt_fmt_py_number(out, v, BT_FMT_NUM_STR);
    case BT_JSON_STRING: return repr_string(out, v->u.str, v->len);
    case BT_JSON_ARRAY:
        rc = bt_buf_putc(out, '[');
        for (i = 0; rc == 0 && i < v->len; i++) {
            if (i)
                rc = bt_buf_puts(out, ", ");
            if (rc == 0)
                rc = bt_fmt_py_repr(out, v->u.items[i]);
        }
        return rc ? rc : bt_buf_putc(out, ']');
    case BT_JSON_OBJECT:
        rc = bt_buf_putc(out, '{');
        for (i = 0; rc == 0 && i < v->len; i++) {
            const bt_json_member *m = &v->u.members[i];
            if (i)
                rc = bt_buf_puts(out, ", ");
            if (rc == 0)
                rc = repr_string(out, m->key, m->key_len);
            if (rc == 0)
                rc = bt_buf_puts(out, ": ");
            if (rc == 0)
                rc = bt_fmt_py_repr(out, m->value);
        }
        return rc ? rc : bt_buf_putc(out, '}');
    }
    return 0;
}

int bt_fmt_py_str(bt_buf *out, const bt_json *v)
{
    if (v && v->type == BT_JSON_STRING)
        return bt_buf_append(out, v->u.str, v->len);
    return bt_fmt_py_repr(out, v);
}

bool bt_fmt_py_truthy(const bt_json *v)
{
    if (!v)
        return false;
    switch (v->type) {
    case BT_JSON_NULL:
    case BT_JSON_FALSE: return false;
    case BT_JSON_TRUE: return true;
    case BT_JSON_NUMBER: return v->num != 0.0;
    case BT_JSON_STRING:
    case BT_JSON_ARRAY:
    case BT_JSON_OBJECT: return v->len > 0;
    }
    return false;
}

int bt_fmt_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Stable merge sort of member indexes by key; tmp has room for n entries. */
static void sort_idx(const bt_json_member *m, size_t *idx, size_t *tmp, size_t n)
{
    size_t width, i;

    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width) {
            size_t lo = i, mid = i + width < n ? i + width : n;
            size_t hi = i + 2 * width < n ? i + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi) {
                const bt_json_member *x = &m[idx[a]], *y = &m[idx[b]];
                if (bt_fmt_key_cmp(y->key, y->key_len, x->key, x->key_len) < 0)
                    tmp[k++] = idx[b++];
                else
                    tmp[k++] = idx[a++];
            }
            while (a < mid)
                tmp[k++] = idx[a++];
            while (b < hi)
                tmp[k++] = idx[b++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

void bt_fmt_sorted_members(const bt_json *obj, size_t *idx)
{
    size_t n = obj->len, i;
    size_t small[32];
    size_t *tmp = n <= 32 ? small : malloc(n * sizeof *tmp);

    for (i = 0; i < n; i++)
        idx[i] = i;
    if (!tmp) { /* no memory for the merge buffer: insertion sort */
        for (i = 1; i < n; i++) {
            size_t x = idx[i], j = i;
            const bt_json_member *mx = &obj->u.members[x];
            while (j > 0) {
                const bt_json_member *mj = &obj->u.members[idx[j - 1]];
                if (bt_fmt_key_cmp(mj->key, mj->key_len, mx->key, mx->key_len) <= 0)
                    break;
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = x;
        }
        return;
    }
    sort_idx(obj->u.members, idx, tmp, n);
    if (tmp != small)
        free(tmp);
}

const bt_json *bt_fmt_member(const bt_json *obj, const char *key, size_t key_len)
{
    size_t i;

    for (i = 0; i < obj->len; i++) {
        const bt_json_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return m->value;
    }
    return NULL;
}

static bool same_key(const bt_json_member *a, const bt_json_member *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Sets *dup when obj has a repeated key. */
static int has_dup_keys(const bt_json *obj, bool *dup)
{
    size_t n = obj->len, i, j;
    size_t *idx;

    *dup = false;
    if (n <= 16) {
        for (i = 1; i < n; i++)
            for (j = 0; j < i; j++)
                if (same_key(&obj->u.members[i], &obj->u.members[j])) {
                    *dup = true;
                    return 0;
                }
        return 0;
    }
    idx = malloc(2 * n * sizeof *idx);
    if (!idx)
        return BT_ENOMEM;
    for (i = 0; i < n; i++)
        idx[i] = i;
    sort_idx(obj->u.members, idx, idx + n, n);
    for (i = 1; i < n; i++)
        if (same_key(&obj->u.members[idx[i]], &obj->u.members[idx[i - 1]])) {
            *dup = true;
            break;
        }
    free(idx);
    return 0;
}

/* Copies v and its member/item array into a. */
static bt_json *shallow_copy(bt_arena *a, const bt_json *v)
{
    bt_json *c = bt_arena_alloc(a, sizeof *c);
    size_t sz = v->type == BT_JSON_ARRAY ? sizeof *v->u.items : sizeof *v->u.members;
    void *arr;

    if (!c)
        return NULL;
    *c = *v;
    arr = bt_arena_alloc(a, (v->len ? v->len : 1) * sz);
    if (!arr)
        return NULL;
    if (v->len)
        memcpy(arr,
               v->type == BT_JSON_ARRAY ? (const void *)v->u.items : (const void *)v->u.members,
               v->len * sz);
    if (v->type == BT_JSON_ARRAY)
        c->u.items = arr;
    else
        c->u.members = arr;
    return c;
}

const bt_json *bt_fmt_dedupe(bt_arena *a, const bt_json *v)
{
    bt_json *copy = NULL;
    bool dup = false;
    size_t i, j, n;

    if (!v || (v->type != BT_JSON_ARRAY && v->type != BT_JSON_OBJECT))
        return v;
    if (v->type == BT_JSON_OBJECT) {
        if (has_dup_keys(v, &dup))
            return NULL;
        if (dup) { /* Python dict: first position, last value */
            copy = shallow_copy(a, v);
            if (!copy)
                return NULL;
            for (i = 0, n = 0; i < v->len; i++) {
                const bt_json_member *src = &v->u.members[i];
                for (j = 0; j < n; j++)
                    if (same_key(&copy->u.members[j], src))
                        break;
                copy->u.members[j] = *src;
                if (j == n)
                    n++;
            }
            copy->len = n;
        }
    }
    n = copy ? copy->len : v->len;
    for (i = 0; i < n; i++) {
        const bt_json *child, *c;
        if (v->type == BT_JSON_ARRAY)
            child = v->u.items[i];
        else
            child = copy ? copy->u.members[i].value : v->u.members[i].value;
        c = bt_fmt_dedupe(a, child);
        if (!c)
            return NULL;
        if (c == child)
            continue;
        if (!copy) {
            copy = shallow_copy(a, v);
            if (!copy)
                return NULL;
        }
        if (v->type == BT_JSON_ARRAY)
            copy->u.items[i] = (bt_json *)c;
        else
            copy->u.members[i].value = (bt_json *)c;
    }
    return copy ? copy : v;
}

const char *bt_fmt_py_type_name(const bt_json *v)
{
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_NULL: return "NoneType";
    case BT_JSON_TRUE:
    case BT_JSON_FALSE: return "bool";
    case BT_JSON_NUMBER: return bt_fmt_num_is_int(v) ? "int" : "float";
    case BT_JSON_STRING: return "str";
    case BT_JSON_ARRAY: return "list";
    case BT_JSON_OBJECT: return "dict";
    }
    return "object";
}

int bt_fmt_keyset_add(bt_fmt_keyset *ks, const bt_json_member *m)
{
    size_t lo = 0, hi = ks->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bt_fmt_key_cmp(ks->k[mid]->key, ks->k[mid]->key_len, m->key, m->key_len);
        if (c == 0)
            return 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        const bt_json_member **k = realloc(ks->k, cap * sizeof *k);
        if (!k)
            return BT_ENOMEM;
        ks->k = k;
        ks->cap = cap;
    }
    memmove(ks->k + lo + 1, ks->k + lo, (ks->n - lo) * sizeof *ks->k);
    ks->k[lo] = m;
    ks->n++;
    return 0;
}

bool bt_fmt_keyset_has(const bt_fmt_keyset *ks, const char *key, size_t len)
{
    size_t lo = 0, hi = ks->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bt_fmt_key_cmp(ks->k[mid]->key, ks->k[mid]->key_len, key, len);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void bt_fmt_keyset_dispose(bt_fmt_keyset *ks)
{
    free(ks->k);
    ks->k = NULL;
    ks->n = ks->cap = 0;
}
