/*
 * format_csv.c - the csv output format (not in the AWS CLI; docs/output.md "csv"):
 * RFC 4180 records whose cells hold scalars only. Each row (an item of the list that
 * is printed) is flattened into dotted columns - an object member under its key, a
 * list item under its index from 0, so `Resources.0.ResourceName` - and the header
 * is the union of the rows' columns. Two passes over the rows: the first collects the
 * columns, the second writes one record per row; memory grows with the columns, not
 * with the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

#define NONE ((size_t)-1)

typedef struct csv_col {
    const char *name; /* the dotted path (in the arena), "" for a row that is a scalar */
    size_t len;
    size_t next; /* the next column in header order, or NONE */
    size_t pos;  /* position in the header (numbered after the first pass), NONE when
                    hidden: only empty lists/objects were there, a place for the
                    columns that other rows hold under that path */
    int shown;
} csv_col;

typedef struct csv_ctx {
    bt_buf *out;
    const char *eol;
    bt_buf field; /* the text of one cell */
    bt_buf path;  /* the dotted path of the value being visited */
    bt_arena *a;
    csv_col *cols;
    size_t ncols, cap;
    size_t nshown; /* the columns printed */
    size_t *hash;  /* open addressing: column index + 1, 0 = free */
    size_t hcap;
    size_t head, tail;    /* first and last column in header order */
    int keyed;            /* some column name holds an object key: the header is printed */
    const bt_json **cell; /* second pass: the row's value per header position */
    int second;
} csv_ctx;

/* Appends one field, quoted per RFC 4180 when it holds , " CR or LF (or when it is
 * the only, empty, field of its record, so the record is not a blank line). */
static int csv_field(csv_ctx *c, const char *s, size_t len, bool only_field)
{
    bool quote = (only_field && len == 0) || memchr(s, ',', len) || memchr(s, '"', len) ||
                 memchr(s, '\r', len) || memchr(s, '\n', len);
    size_t i;
    int rc;

    if (!quote)
        return bt_buf_append(c->out, s, len);
    rc = bt_buf_putc(c->out, '"');
    for (i = 0; rc == 0 && i < len; i++) {
        if (s[i] == '"')
            rc = bt_buf_putc(c->out, '"');
        if (rc == 0)
            rc = bt_buf_putc(c->out, s[i]);
    }
    return rc ? rc : bt_buf_putc(c->out, '"');
}

/* One cell: strings raw, null (and absent) empty, true/false, numbers as Python
 * prints them. */
static int csv_value(csv_ctx *c, const bt_json *v, bool only_field)
{
    int rc = 0;

    bt_buf_clear(&c->field);
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_TRUE: rc = bt_buf_puts(&c->field, "true"); break;
    case BT_JSON_FALSE: rc = bt_buf_puts(&c->field, "false"); break;
    case BT_JSON_NUMBER: rc = bt_fmt_py_number(&c->field, v, BT_FMT_NUM_STR); break;
    case BT_JSON_STRING: return csv_field(c, v->u.str, v->len, only_field);
    default: break;
    }
    if (rc)
        return rc;
    return csv_field(c, c->field.data ? c->field.data : "", c->field.len, only_field);
}

static size_t hash_of(const char *s, size_t len)
{
    size_t h = 14695981039346656037u, i;
    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* The slot of the column named s in the hash table: holds 0 when it is absent. */
static size_t *col_slot(csv_ctx *c, const char *s, size_t len)
{
    size_t i = hash_of(s, len) & (c->hcap - 1);
    for (;; i = (i + 1) & (c->hcap - 1)) {
        const csv_col *col = c->hash[i] ? &c->cols[c->hash[i] - 1] : NULL;
        if (!col || (col->len == len && memcmp(col->name, s, len) == 0))
            return &c->hash[i];
    }
}

static int rehash(csv_ctx *c)
{
    size_t n = c->hcap ? c->hcap * 2 : 64, i;
    size_t *h = calloc(n, sizeof *h);
    if (!h)
        return BT_ENOMEM;
    free(c->hash);
    c->hash = h;
    c->hcap = n;
    for (i = 0; i < c->ncols; i++)
        *col_slot(c, c->cols[i].name, c->cols[i].len) = i + 1;
    return 0;
}

/* How many leading path segments a and b share ("Resources.0.T", "Resources.1.N": 1). */
static size_t shared_segments(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i, n = 0;
    for (i = 0; i < alen && i < blen && a[i] == b[i]; i++)
        if (a[i] == '.')
            n++;
    if ((i == alen && i < blen && b[i] == '.') || (i == blen && i < alen && a[i] == '.'))
        n++;
    return n;
}

/* First pass: a new column goes at the end (order of first appearance), except that it
 * joins the columns under its parent: after the last column sharing the most leading
 * segments with it, so a later row's Resources.1.* follow Resources.0.*. */
static int add_column(csv_ctx *c, const char *s, size_t len, size_t *slot)
{
    csv_col *col;
    size_t i, j, after = c->tail, best = 0;

    if ((c->ncols + 1) * 2 > c->hcap) {
        if (rehash(c))
            return BT_ENOMEM;
        slot = col_slot(c, s, len);
    }
    if (bt_array_grow((void **)&c->cols, &c->cap, c->ncols + 1, sizeof *c->cols, 16))
        return BT_ENOMEM;
    for (j = c->head; j != NONE; j = c->cols[j].next) {
        size_t k = shared_segments(c->cols[j].name, c->cols[j].len, s, len);
        if (k && k >= best) {
            best = k;
            after = j;
        }
    }
    i = c->ncols;
    col = &c->cols[i];
    if (!(col->name = bt_arena_strndup(c->a, s, len)))
        return BT_ENOMEM;
    col->len = len;
    col->shown = 0;
    col->next = NONE;
    if (after == NONE) {
        c->head = i;
    } else {
        col->next = c->cols[after].next;
        c->cols[after].next = i;
    }
    if (after == c->tail)
        c->tail = i;
    c->ncols++;
    *slot = i + 1;
    return 0;
}

/* A scalar at the current path, or an empty list/object (no cell, but a place). */
static int visit(csv_ctx *c, const bt_json *v, bool keyed)
{
    const char *s = c->path.data ? c->path.data : "";
    size_t *slot = c->hcap ? col_slot(c, s, c->path.len) : NULL;
    bool scalar = bt_fmt_is_scalar(v);
    csv_col *col;

    if (c->second) {
        if (scalar)
            c->cell[c->cols[*slot - 1].pos] = v;
        return 0;
    }
    if (!(slot && *slot) && add_column(c, s, c->path.len, slot))
        return BT_ENOMEM;
    col = &c->cols[*col_slot(c, s, c->path.len) - 1];
    if (scalar && !col->shown) {
        col->shown = 1;
        c->nshown++;
        if (keyed)
            c->keyed = 1;
    }
    return 0;
}

/* Flattens v below the current path: members as path.key, items as path.index; an
 * empty list or object holds no scalar, so it gives no cell (only a hidden column). */
static int walk(csv_ctx *c, const bt_json *v, bool keyed)
{
    size_t mark = c->path.len, i;
    int rc = 0;

    if (bt_fmt_is_scalar(v) || v->len == 0)
        return visit(c, v, keyed);
    for (i = 0; rc == 0 && i < v->len; i++) {
        if (mark)
            rc = bt_buf_putc(&c->path, '.');
        if (rc == 0 && v->type == BT_JSON_OBJECT)
            rc = bt_buf_append(&c->path, v->u.members[i].key, v->u.members[i].key_len);
        else if (rc == 0)
            rc = bt_buf_printf(&c->path, "%zu", i);
        if (rc == 0)
            rc = walk(c, v->type == BT_JSON_OBJECT ? v->u.members[i].value : v->u.items[i],
                      keyed || v->type == BT_JSON_OBJECT);
        c->path.len = mark;
    }
    return rc;
}

/* A row: its scalars at their paths. */
static int walk_row(csv_ctx *c, const bt_json *row)
{
    bt_buf_clear(&c->path);
    return walk(c, row, false);
}

static int write_records(csv_ctx *c, bt_json *const *rows, size_t n, unsigned flags)
{
    size_t i, j, k;
    int rc = 0;

    for (k = 0, j = c->head; j != NONE; j = c->cols[j].next)
        c->cols[j].pos = c->cols[j].shown ? k++ : NONE;
    if (c->keyed && !(flags & BT_FORMAT_F_CSV_NO_HEADER)) {
        for (k = 0, j = c->head; rc == 0 && j != NONE; j = c->cols[j].next) {
            if (!c->cols[j].shown)
                continue;
            if (k++)
                rc = bt_buf_putc(c->out, ',');
            if (rc == 0)
                rc = csv_field(c, c->cols[j].name, c->cols[j].len, c->nshown == 1);
        }
        if (rc == 0)
            rc = bt_buf_puts(c->out, c->eol);
    }
    c->second = 1;
    for (i = 0; rc == 0 && i < n; i++) {
        memset(c->cell, 0, c->nshown * sizeof *c->cell);
        rc = walk_row(c, rows[i]);
        for (k = 0; rc == 0 && k < c->nshown; k++) {
            if (k)
                rc = bt_buf_putc(c->out, ',');
            if (rc == 0)
                rc = csv_value(c, c->cell[k], c->nshown == 1);
        }
        if (rc == 0)
            rc = bt_buf_puts(c->out, c->eol);
    }
    return rc;
}

/* The records of rows: columns collected, then one record each. */
static int csv_rows(csv_ctx *c, bt_json *const *rows, size_t n, unsigned flags)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++)
        rc = walk_row(c, rows[i]);
    if (rc || !c->nshown)
        return rc;
    if (!(c->cell = calloc(c->nshown, sizeof *c->cell)))
        return BT_ENOMEM;
    return write_records(c, rows, n, flags);
}

/* The list printed for an object: a response such as {"Events": [...], "NextToken":
 * "..."} (exactly one list member and only scalars beside it) prints that list; any
 * other object is one row. */
static const bt_json *response_list(const bt_json *v)
{
    const bt_json *list = NULL;
    size_t i, nlists = 0, nobjects = 0;

    for (i = 0; i < v->len; i++) {
        const bt_json *m = v->u.members[i].value;
        if (m->type == BT_JSON_ARRAY) {
            nlists++;
            list = m;
        } else if (m->type == BT_JSON_OBJECT) {
            nobjects++;
        }
    }
    return nlists == 1 && nobjects == 0 ? list : NULL;
}

int bt_fmt_csv(bt_buf *out, const bt_json *v, unsigned flags, bt_error *err)
{
    csv_ctx c;
    const bt_json *list = NULL;
    bt_json *one[1];
    int rc = 0;

    memset(&c, 0, sizeof c);
    c.out = out;
    c.eol = (flags & BT_FORMAT_F_CSV_CRLF) ? "\r\n" : "\n";
    c.head = c.tail = NONE;
    bt_buf_init(&c.field, 0);
    bt_buf_init(&c.path, 0);
    if (!v || v->type == BT_JSON_NULL || (!bt_fmt_is_scalar(v) && v->len == 0))
        goto done;
    if (!(c.a = bt_arena_new(0, 0))) {
        rc = BT_ENOMEM;
        goto done;
    }
    if (v->type == BT_JSON_ARRAY)
        list = v;
    else if (v->type == BT_JSON_OBJECT)
        list = response_list(v);
    one[0] = (bt_json *)v;
    if (list)
        rc = csv_rows(&c, list->u.items, list->len, flags);
    else
        rc = csv_rows(&c, one, 1, flags);
done:
    bt_buf_dispose(&c.field);
    bt_buf_dispose(&c.path);
    free(c.cols);
    free(c.hash);
    free(c.cell);
    bt_arena_free(c.a);
    if (rc)
        bt_error_set(err, rc, "csv output: %s", bt_strerror(rc));
    return rc;
}
