/*
 * format_table.c - `--output table`, a port of the behaviour of the AWS CLI's
 * TableFormatter (awscli/formatter.py) and MultiTable/Section (awscli/table.py):
 * the value is turned into titled sections of header + rows (dicts: sorted scalar
 * keys; lists of dicts: the union of their scalar keys; nested values: indented
 * sub-sections), then drawn with '-', '+', '|' to the widest section's width; when
 * that exceeds the terminal width, single-row sections turn vertical (key | value).
 * Column widths are scaled to the table width with Python's round-half-even.
 * Shapes that make the CLI raise (rows of unequal length, a list of dicts holding a
 * non-dict) fail with BT_EINVAL and print nothing, as the CLI prints nothing.
 */
#include <math.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

typedef struct cell {
    const char *s; /* NULL only for a title that is Python None */
    size_t len;
    long w; /* display width (get_text_length) */
} cell;

typedef struct section {
    cell title;
    cell *headers;
    size_t nheaders;
    cell **rows; /* each row has ncols cells */
    size_t nrows, caprows;
    int indent;
    long num_cols; /* -1 = None */
    long *max_widths;
    size_t nmax;
} section;

typedef struct table {
    bt_arena *a;
    section **secs;
    size_t nsecs, capsecs;
    section *cur;
    bt_error *err;
} table;

#define NO_TITLE ((const char *)0)

static cell mkcell(const char *s, size_t len)
{
    cell c;
    c.s = s;
    c.len = len;
    /* Python's get_text_length(None) measures str(None), "None" */
    c.w = s ? (long)bt_format_display_width(s, len) : 4;
    return c;
}

static int grow(bt_arena *a, void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *n;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    n = bt_arena_alloc(a, ncap * elem);
    if (!n)
        return BT_ENOMEM;
    if (*cap)
        memcpy(n, *arr, *cap * elem);
    *arr = n;
    *cap = ncap;
    return 0;
}

static int new_section(table *t, const char *title, size_t title_len, int indent)
{
    section *s = bt_arena_calloc(t->a, sizeof *s);

    if (!s || grow(t->a, (void **)&t->secs, &t->capsecs, t->nsecs + 1, sizeof *t->secs))
        return BT_ENOMEM;
    s->title = mkcell(title, title_len);
    s->indent = indent;
    s->num_cols = -1;
    t->secs[t->nsecs++] = s;
    t->cur = s;
    return 0;
}

/* Section._update_max_widths */
static int update_max_widths(table *t, section *s, const cell *row, size_t n)
{
    size_t i;

    if (s->nmax == 0) {
        s->max_widths = bt_arena_alloc(t->a, (n ? n : 1) * sizeof *s->max_widths);
        if (!s->max_widths)
            return BT_ENOMEM;
        for (i = 0; i < n; i++)
            s->max_widths[i] = row[i].w;
        s->nmax = n;
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (i >= s->nmax)
            return bt_error_set(t->err, BT_EINVAL, "table output: list index out of range");
        if (row[i].w > s->max_widths[i])
            s->max_widths[i] = row[i].w;
    }
    return 0;
}

static int add_header(table *t, cell *headers, size_t n)
{
    section *s = t->cur;
    int rc = update_max_widths(t, s, headers, n);

    if (rc)
        return rc;
    if (s->num_cols < 0)
        s->num_cols = (long)n;
    s->headers = headers;
    s->nheaders = n;
    return 0;
}

static int add_row(table *t, cell *row, size_t n)
{
    section *s = t->cur;

    if (s->num_cols < 0)
        s->num_cols = (long)n;
    if ((long)n != s->num_cols)
        return bt_error_set(t->err, BT_EINVAL,
                            "table output: Row should have %ld elements, instead it has %zu",
                            s->num_cols, n);
    if (grow(t->a, (void **)&s->rows, &s->caprows, s->nrows + 1, sizeof *s->rows))
        return BT_ENOMEM;
    s->rows[s->nrows++] = row;
    return update_max_widths(t, s, row, n);
}

/* str(v) as a cell, in the arena. */
static int str_cell(table *t, const bt_json *v, cell *out)
{
    bt_buf b = BT_BUF_INIT;
    char *s;
    int rc;

    if (v && v->type == BT_JSON_STRING) {
        *out = mkcell(v->u.str, v->len);
        return 0;
    }
    rc = bt_fmt_py_str(&b, v);
    if (rc == 0) {
        s = bt_arena_strndup(t->a, b.data ? b.data : "", b.len);
        if (!s)
            rc = BT_ENOMEM;
        else
            *out = mkcell(s, b.len);
    }
    bt_buf_dispose(&b);
    return rc;
}

static cell *cells(table *t, size_t n)
{
    return bt_arena_alloc(t->a, (n ? n : 1) * sizeof(cell));
}

/* _group_scalar_keys: adds d's keys to headers (scalar values) or more (others);
 * over a list of dicts this builds the union. */
static int group_keys(const bt_json *d, bt_fmt_keyset *headers, bt_fmt_keyset *more)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < d->len; i++) {
        const bt_json_member *m = &d->u.members[i];
        rc = bt_fmt_keyset_add(bt_fmt_is_scalar(m->value) ? headers : more, m);
    }
    return rc;
}

static int header_cells(table *t, const bt_fmt_keyset *ks, cell **out)
{
    size_t i;
    cell *c = cells(t, ks->n);

    if (!c)
        return BT_ENOMEM;
    for (i = 0; i < ks->n; i++)
        c[i] = mkcell(ks->k[i]->key, ks->k[i]->key_len);
    *out = c;
    return 0;
}

static int build(table *t, const char *title, size_t title_len, bool has_title, const bt_json *cur,
                 int indent, bool *built);

static int sub_table_from_dict(table *t, const bt_json *d, int indent)
{
    bt_fmt_keyset headers = BT_FMT_KEYSET_INIT, more = BT_FMT_KEYSET_INIT;
    cell *h, *row;
    size_t i;
    int rc = group_keys(d, &headers, &more);
    bool built;

    if (rc)
        goto done;
    if (headers.n == 1) { /* a single scalar: one key | value row */
        row = cells(t, 2);
        if (!row) {
            rc = BT_ENOMEM;
            goto done;
        }
        row[0] = mkcell(headers.k[0]->key, headers.k[0]->key_len);
        rc = str_cell(t, headers.k[0]->value, &row[1]);
        if (rc == 0)
            rc = add_row(t, row, 2);
    } else if (headers.n) {
        row = cells(t, headers.n);
        rc = row ? header_cells(t, &headers, &h) : BT_ENOMEM;
        if (rc == 0)
            rc = add_header(t, h, headers.n);
        for (i = 0; rc == 0 && i < headers.n; i++)
            rc = str_cell(t, headers.k[i]->value, &row[i]);
        if (rc == 0)
            rc = add_row(t, row, headers.n);
    }
    for (i = 0; rc == 0 && i < more.n; i++)
        rc = build(t, more.k[i]->key, more.k[i]->key_len, true, more.k[i]->value, indent + 1,
                   &built);
done:
    bt_fmt_keyset_dispose(&headers);
    bt_fmt_keyset_dispose(&more);
    return rc;
}

static int sub_table_from_list(table *t, const bt_json *list, int indent, const char *title,
                               size_t title_len)
{
    bt_fmt_keyset headers = BT_FMT_KEYSET_INIT, more = BT_FMT_KEYSET_INIT;
    cell *h, *row;
    size_t i, j;
    int rc = 0;
    bool built;

    /* _group_scalar_keys_from_list iterates each element: "" and [] contribute no
     * keys; any other non-dict raises (TypeError or, for a list of ints, an error a
     * step later). */
    for (i = 0; rc == 0 && i < list->len; i++) {
        const bt_json *e = list->u.items[i];
        if (e->type == BT_JSON_OBJECT)
            rc = group_keys(e, &headers, &more);
        else if (!((e->type == BT_JSON_STRING || e->type == BT_JSON_ARRAY) && e->len == 0))
            rc = bt_error_set(t->err, BT_EINVAL, "table output: '%s' object is not a mapping",
                              bt_fmt_py_type_name(e));
    }
    /* then element.get(header) for every header, and `key in element` */
    for (i = 0; rc == 0 && i < list->len; i++) {
        const bt_json *e = list->u.items[i];
        if (e->type == BT_JSON_OBJECT)
            continue;
        if (headers.n)
            rc = bt_error_set(t->err, BT_EINVAL, "table output: '%s' object has no attribute 'get'",
                              bt_fmt_py_type_name(e));
        for (j = 0; rc == 0 && j < more.n; j++)
            if (e->type == BT_JSON_STRING && more.k[j]->key_len == 0)
                rc = bt_error_set(t->err, BT_EINVAL,
                                  "table output: string indices must be integers");
    }
    if (rc == 0)
        rc = header_cells(t, &headers, &h);
    if (rc == 0)
        rc = add_header(t, h, headers.n);
    for (i = 0; rc == 0 && i < list->len; i++) {
        const bt_json *e = list->u.items[i];
        if (i > 0 && more.n) { /* nested values: each element gets its own section */
            rc = new_section(t, title, title_len, indent);
            if (rc == 0)
                rc = add_header(t, h, headers.n);
            if (rc)
                break;
        }
        row = cells(t, headers.n);
        if (!row) {
            rc = BT_ENOMEM;
            break;
        }
        if (e->type != BT_JSON_OBJECT) { /* "" or [] with no headers: an empty row */
            rc = add_row(t, row, 0);
            continue;
        }
        for (j = 0; rc == 0 && j < headers.n; j++) {
            const bt_json *val = bt_fmt_member(e, headers.k[j]->key, headers.k[j]->key_len);
            if (val)
                rc = str_cell(t, val, &row[j]);
            else
                row[j] = mkcell("", 0);
        }
        if (rc == 0)
            rc = add_row(t, row, headers.n);
        for (j = 0; rc == 0 && j < more.n; j++) {
            const bt_json *val = bt_fmt_member(e, more.k[j]->key, more.k[j]->key_len);
            if (val)
                rc = build(t, more.k[j]->key, more.k[j]->key_len, true, val, indent + 1, &built);
        }
    }
    bt_fmt_keyset_dispose(&headers);
    bt_fmt_keyset_dispose(&more);
    return rc;
}

/* TableFormatter._build_table; has_title false is Python's title=None. */
static int build(table *t, const char *title, size_t title_len, bool has_title, const bt_json *cur,
                 int indent, bool *built)
{
    size_t i, j;
    int rc = 0;

    *built = false;
    if (!bt_fmt_py_truthy(cur))
        return 0;
    if (has_title) {
        rc = new_section(t, title, title_len, indent);
        if (rc)
            return rc;
    }
    if (!t->cur) /* only reachable with title=None at the top, which we never pass */
        return bt_error_set(t->err, BT_EINVAL, "table output: no section");
    if (cur->type == BT_JSON_ARRAY) {
        if (cur->u.items[0]->type == BT_JSON_OBJECT) {
            rc = sub_table_from_list(t, cur, indent, has_title ? title : NO_TITLE, title_len);
        } else {
            for (i = 0; rc == 0 && i < cur->len; i++) {
                const bt_json *item = cur->u.items[i];
                if (bt_fmt_is_scalar(item)) {
                    cell *row = cells(t, 1);
                    if (!row)
                        return BT_ENOMEM;
                    rc = str_cell(t, item, &row[0]);
                    if (rc == 0)
                        rc = add_row(t, row, 1);
                } else if (item->type == BT_JSON_OBJECT) {
                    /* all() over a dict sees its keys, all strings: the row is
                     * the dict's keys */
                    cell *row = cells(t, item->len);
                    if (!row)
                        return BT_ENOMEM;
                    for (j = 0; j < item->len; j++)
                        row[j] = mkcell(item->u.members[j].key, item->u.members[j].key_len);
                    rc = add_row(t, row, item->len);
                } else {
                    bool all_scalar = true;
                    for (j = 0; j < item->len; j++)
                        if (!bt_fmt_is_scalar(item->u.items[j]))
                            all_scalar = false;
                    if (all_scalar) {
                        cell *row = cells(t, item->len);
                        if (!row)
                            return BT_ENOMEM;
                        for (j = 0; rc == 0 && j < item->len; j++)
                            rc = str_cell(t, item->u.items[j], &row[j]);
                        if (rc == 0)
                            rc = add_row(t, row, item->len);
                    } else {
                        bool b;
                        rc = build(t, NULL, 0, false, item, 0, &b);
                    }
                }
            }
        }
    }
    if (rc == 0 && cur->type == BT_JSON_OBJECT)
        rc = sub_table_from_dict(t, cur, indent);
    if (rc == 0)
        *built = true;
    return rc;
}

/* ---- rendering ---- */

static long floordiv(long a, long b)
{
    long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int spaces(bt_buf *out, long n, char c)
{
    int rc = 0;
    while (rc == 0 && n-- > 0)
        rc = bt_buf_putc(out, c);
    return rc;
}

/* Section.calculate_column_widths(padding=4, max_width); returns count in *n. */
static long *column_widths(table *t, const section *s, long max_width, size_t *n)
{
    long *w, sum = 0, off_by;
    size_t i;
    double scale;

    *n = s->nmax;
    if (s->nmax == 0)
        return NULL;
    w = bt_arena_alloc(t->a, s->nmax * sizeof *w);
    if (!w)
        return NULL;
    for (i = 0; i < s->nmax; i++)
        sum += s->max_widths[i] + 4;
    scale = (double)max_width / (double)sum;
    for (i = 0; i < s->nmax; i++)
        w[i] = (long)nearbyint(scale * (double)(s->max_widths[i] + 4));
    off_by = -max_width;
    for (i = 0; i < s->nmax; i++)
        off_by += w[i];
    while (off_by != 0) {
        for (size_t k = 0; k < s->nmax; k++) {
            i = off_by < 0 ? s->nmax - 1 - k : k;
            if (off_by > 0) {
                w[i]--;
                off_by--;
            } else {
                w[i]++;
                off_by++;
            }
            if (off_by == 0)
                break;
        }
    }
    return w;
}

static long total_width(const section *s)
{
    long total = 0;
    size_t i;

    for (i = 0; i < s->nmax; i++)
        total += s->max_widths[i] + 4;
    total += 2 + 2L * s->indent;
    if (s->title.w + 2 + 2L * s->indent > total)
        return s->title.w + 2 + 2L * s->indent;
    return total;
}

static int center_text(bt_buf *out, const cell *text, long length, bool left_edge)
{
    long left_w = left_edge ? 1 : 0;
    long char_start = floordiv(length, 2) - floordiv(text->w, 2) - 1;
    long so_far = left_w + char_start + text->w;
    int rc = 0;

    if (left_edge)
        rc = bt_buf_putc(out, '|');
    if (rc == 0)
        rc = spaces(out, char_start, ' ');
    if (rc == 0 && text->s)
        rc = bt_buf_append(out, text->s, text->len);
    else if (rc == 0)
        rc = bt_buf_puts(out, "None");
    if (rc == 0)
        rc = spaces(out, length - 1 - so_far, ' ');
    if (rc == 0)
        rc = bt_buf_putc(out, '|');
    return rc;
}

static int align_left(bt_buf *out, const cell *text, long length, bool left_edge)
{
    long left_w = left_edge ? 1 : 0;
    long computed = text->w + 2 + left_w + 1;
    long padding = length - computed >= 0 ? 2 : 0;
    int rc = 0;

    if (left_edge)
        rc = bt_buf_putc(out, '|');
    if (rc == 0)
        rc = spaces(out, padding, ' ');
    if (rc == 0)
        rc = bt_buf_append(out, text->s, text->len);
    if (rc == 0)
        rc = spaces(out, length - (left_w + padding + text->w) - 1, ' ');
    if (rc == 0)
        rc = bt_buf_putc(out, '|');
    return rc;
}

static int line_start(bt_buf *out, int indent)
{
    return spaces(out, indent, '|');
}

static int line_end(bt_buf *out, int indent)
{
    int rc = spaces(out, indent, '|');
    return rc ? rc : bt_buf_putc(out, '\n');
}

static int line_break(bt_buf *out, int indent, const long *w, size_t n)
{
    size_t i;
    int rc = line_start(out, indent);

    for (i = 0; rc == 0 && i < n; i++) {
        if (i == 0) {
            rc = bt_buf_putc(out, '+');
            if (rc == 0)
                rc = spaces(out, w[i] - 2, '-');
        } else {
            rc = spaces(out, w[i] - 1, '-');
        }
        if (rc == 0)
            rc = bt_buf_putc(out, '+');
    }
    return rc ? rc : line_end(out, indent);
}

static int render_section(table *t, bt_buf *out, const section *s, long max_width)
{
    long *w = NULL;
    size_t nw = 0, i, r;
    int rc = 0;

    max_width -= 2L * s->indent;
    if (s->title.s && s->title.len) {
        rc = line_start(out, s->indent);
        if (rc == 0)
            rc = center_text(out, &s->title, max_width, true);
        if (rc == 0)
            rc = line_end(out, s->indent);
        if (rc == 0 && s->nheaders == 0 && s->nrows == 0) {
            rc = line_start(out, s->indent);
            if (rc == 0)
                rc = bt_buf_putc(out, '+');
            if (rc == 0)
                rc = spaces(out, max_width - 2, '-');
            if (rc == 0)
                rc = bt_buf_putc(out, '+');
            if (rc == 0)
                rc = line_end(out, s->indent);
        }
    }
    if (rc == 0 && (s->nheaders || s->nrows)) {
        w = column_widths(t, s, max_width, &nw);
        if (nw && !w)
            return BT_ENOMEM;
    }
    if (rc == 0 && s->nheaders) {
        size_t n = nw < s->nheaders ? nw : s->nheaders;
        rc = line_break(out, s->indent, w, nw);
        if (rc == 0)
            rc = line_start(out, s->indent);
        for (i = 0; rc == 0 && i < n; i++)
            rc = center_text(out, &s->headers[i], w[i], i == 0);
        if (rc == 0)
            rc = line_end(out, s->indent);
    }
    if (rc == 0 && s->nrows && nw) {
        rc = line_break(out, s->indent, w, nw);
        for (r = 0; rc == 0 && r < s->nrows; r++) {
            size_t n = nw < (size_t)s->num_cols ? nw : (size_t)s->num_cols;
            rc = line_start(out, s->indent);
            for (i = 0; rc == 0 && i < n; i++)
                rc = align_left(out, &s->rows[r][i], w[i], i == 0);
            if (rc == 0)
                rc = line_end(out, s->indent);
        }
        if (rc == 0)
            rc = line_break(out, s->indent, w, nw);
    }
    return rc;
}

/* convert_to_vertical_table: single-row sections with headers become key|value. */
static int to_vertical(table *t)
{
    size_t i, k;

    for (i = 0; i < t->nsecs; i++) {
        section *s = t->secs[i], *ns;
        size_t n;
        int rc;
        if (s->nrows != 1 || s->nheaders == 0)
            continue;
        ns = bt_arena_calloc(t->a, sizeof *ns);
        if (!ns)
            return BT_ENOMEM;
        ns->title = s->title;
        ns->indent = s->indent;
        ns->num_cols = -1;
        t->cur = ns;
        n = s->nheaders < (size_t)s->num_cols ? s->nheaders : (size_t)s->num_cols;
        for (k = 0; k < n; k++) {
            cell *row = cells(t, 2);
            if (!row)
                return BT_ENOMEM;
            row[0] = s->headers[k];
            row[1] = s->rows[0][k];
            rc = add_row(t, row, 2);
            if (rc)
                return rc;
        }
        t->secs[i] = ns;
    }
    return 0;
}

int bt_fmt_table(bt_buf *out, bt_arena *a, const bt_json *v, const char *title, unsigned width,
                 bt_error *err)
{
    table t;
    long max_width = 0, term = width ? (long)width : 80;
    size_t i;
    bool built = false;
    int rc;

    memset(&t, 0, sizeof t);
    t.a = a;
    t.err = err;
    if (!title)
        title = "";
    rc = build(&t, title, strlen(title), true, v, 0, &built);
    if (rc || !built)
        goto done;
    for (i = 0; i < t.nsecs; i++)
        if (total_width(t.secs[i]) > max_width)
            max_width = total_width(t.secs[i]);
    if (max_width > term) {
        rc = to_vertical(&t);
        if (rc)
            goto done;
        max_width = 0;
        for (i = 0; i < t.nsecs; i++)
            if (total_width(t.secs[i]) > max_width)
                max_width = total_width(t.secs[i]);
    }
    rc = spaces(out, max_width, '-');
    if (rc == 0)
        rc = bt_buf_putc(out, '\n');
    for (i = 0; rc == 0 && i < t.nsecs; i++)
        rc = render_section(&t, out, t.secs[i], max_width);
done:
    if (rc && rc != BT_EINVAL)
        bt_error_set(err, rc, "table output: %s", bt_strerror(rc));
    return rc;
}
