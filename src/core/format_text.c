/*
 * format_text.c - `--output text`, the rules of awscli/text.py: a dict prints the
 * str() of its scalar values sorted by key on one tab-separated line, prefixed by
 * the UPPERCASED key it sits under, then recurses into its list/dict values in key
 * order; a list of dicts shares one column set (the sorted union of scalar keys);
 * a list of scalars prints one "IDENT\tvalue" line per item, or one tab-joined line
 * when there is no identifier.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

typedef struct ident {
    const char *s; /* NULL = no identifier (Python None) */
    size_t len;
} ident;

static int text_item(bt_buf *out, const bt_json *v, ident id, const bt_fmt_keyset *scalar_keys,
                     bt_error *err);

static int put_ident(bt_buf *out, ident id)
{
    return bt_fmt_py_upper(out, id.s, id.len);
}

/* _format_scalar_list: items are scalars (already filtered by the caller). */
static int scalar_list(bt_buf *out, const bt_json *const *items, size_t n, ident id)
{
    size_t i;
    int rc = 0;

    if (id.s) {
        for (i = 0; rc == 0 && i < n; i++) {
            rc = put_ident(out, id);
            if (rc == 0)
                rc = bt_buf_putc(out, '\t');
            if (rc == 0)
                rc = bt_fmt_py_str(out, items[i]);
            if (rc == 0)
                rc = bt_buf_putc(out, '\n');
        }
        return rc;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = bt_buf_putc(out, '\t');
        if (rc == 0)
            rc = bt_fmt_py_str(out, items[i]);
    }
    return rc ? rc : bt_buf_putc(out, '\n');
}

static int text_list(bt_buf *out, const bt_json *v, ident id, bt_error *err)
{
    size_t i, n = v->len;
    bool any_dict = false, any_list = false;
    int rc = 0;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (v->u.items[i]->type == BT_JSON_OBJECT)
            any_dict = true;
        else if (v->u.items[i]->type == BT_JSON_ARRAY)
            any_list = true;
    }
    if (any_dict) {
        bt_fmt_keyset ks = BT_FMT_KEYSET_INIT;
        for (i = 0; i < n; i++) /* _all_scalar_keys calls .items() on every element */
            if (v->u.items[i]->type != BT_JSON_OBJECT)
                return bt_error_set(err, BT_EINVAL,
                                    "text output: '%s' object has no attribute 'items'",
                                    bt_fmt_py_type_name(v->u.items[i]));
        for (i = 0; rc == 0 && i < n; i++) {
            const bt_json *d = v->u.items[i];
            if (d->type != BT_JSON_OBJECT)
                continue;
            for (size_t j = 0; rc == 0 && j < d->len; j++)
                if (bt_fmt_is_scalar(d->u.members[j].value))
                    rc = bt_fmt_keyset_add(&ks, &d->u.members[j]);
        }
        for (i = 0; rc == 0 && i < n; i++)
            rc = text_item(out, v->u.items[i], id, &ks, err);
        bt_fmt_keyset_dispose(&ks);
        return rc;
    }
    if (any_list) {
        const bt_json **sc = malloc(n * sizeof *sc);
        size_t ns = 0;
        if (!sc)
            return BT_ENOMEM;
        for (i = 0; i < n; i++)
            if (bt_fmt_is_scalar(v->u.items[i]))
                sc[ns++] = v->u.items[i];
        if (ns)
            rc = scalar_list(out, sc, ns, id);
        free(sc);
        for (i = 0; rc == 0 && i < n; i++)
            if (!bt_fmt_is_scalar(v->u.items[i]))
                rc = text_item(out, v->u.items[i], id, NULL, err);
        return rc;
    }
    return scalar_list(out, (const bt_json *const *)v->u.items, n, id);
}

/* Writes the "IDENT\t" prefix (when there is an identifier) before the first
 * scalar column; *started tracks whether the line has begun. */
static int column(bt_buf *out, ident id, bool *started)
{
    int rc = 0;

    if (!*started) {
        *started = true;
        if (id.s) {
            rc = put_ident(out, id);
            if (rc == 0)
                rc = bt_buf_putc(out, '\t');
        }
        return rc;
    }
    return bt_buf_putc(out, '\t');
}

static int text_dict(bt_buf *out, const bt_json *v, ident id, const bt_fmt_keyset *scalar_keys,
                     bt_error *err)
{
    size_t n = v->len, i;
    size_t *idx = NULL;
    bool started = false;
    int rc = 0;

    idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return BT_ENOMEM;
    bt_fmt_sorted_members(v, idx);
    if (!scalar_keys) {
        for (i = 0; rc == 0 && i < n; i++) {
            const bt_json_member *m = &v->u.members[idx[i]];
            if (!bt_fmt_is_scalar(m->value))
                continue;
            rc = column(out, id, &started);
            if (rc == 0)
                rc = bt_fmt_py_str(out, m->value);
        }
    } else {
        for (i = 0; rc == 0 && i < scalar_keys->n; i++) {
            const bt_json_member *k = scalar_keys->k[i];
            const bt_json *val = bt_fmt_member(v, k->key, k->key_len);
            rc = column(out, id, &started);
            if (rc == 0 && val)
                rc = bt_fmt_py_str(out, val); /* missing key: '' */
        }
    }
    if (rc == 0 && started)
        rc = bt_buf_putc(out, '\n');
    for (i = 0; rc == 0 && i < n; i++) {
        const bt_json_member *m = &v->u.members[idx[i]];
        ident sub = {m->key, m->key_len};
        if (scalar_keys) {
            /* every key not among the shared scalar columns, whatever its type */
            if (bt_fmt_keyset_has(scalar_keys, m->key, m->key_len))
                continue;
        } else if (bt_fmt_is_scalar(m->value)) {
            continue;
        }
        rc = text_item(out, m->value, sub, NULL, err);
    }
    free(idx);
    return rc;
}

static int text_item(bt_buf *out, const bt_json *v, ident id, const bt_fmt_keyset *scalar_keys,
                     bt_error *err)
{
    int rc;

    if (v && v->type == BT_JSON_OBJECT)
        return text_dict(out, v, id, scalar_keys, err);
    if (v && v->type == BT_JSON_ARRAY)
        return text_list(out, v, id, err);
    rc = bt_fmt_py_str(out, v);
    return rc ? rc : bt_buf_putc(out, '\n');
}

int bt_fmt_text(bt_buf *out, const bt_json *v, bt_error *err)
{
    ident none = {NULL, 0};
    int rc = text_item(out, v, none, NULL, err);

    if (rc && rc != BT_EINVAL)
        bt_error_set(err, rc, "text output: %s", bt_strerror(rc));
    return rc;
}
