/* table.c - the tables for people, on libsmartcols (table.h; loaded on first use:
 * smartcols_dl.h). libsmartcols shortens a truncatable column without a mark, so the
 * table is laid out once to learn the widths, each cut cell is given its "…", and then
 * printed. */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smartcols_dl.h"
#include "term.h"

struct cli_table {
    struct libscols_table *tb;
    struct libscols_line *ln;
    size_t ncols;
    int flags[64];
};

int cli_table_load(void)
{
    bt_error err = BT_ERROR_INIT;
    if (bt_smartcols_load(&err)) {
        cli_err("%s", err.msg);
        return -1;
    }
    return 0;
}

cli_table *cli_table_new(void)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!(t->tb = scols_new_table())) {
        free(t);
        return NULL;
    }
    scols_table_enable_colors(t->tb, cli_use_color());
    return t;
}

int cli_table_col(cli_table *t, const char *header, double whint, int flags)
{
    int fl = (flags & CT_TRUNC ? SCOLS_FL_TRUNC : 0) | (flags & CT_RIGHT ? SCOLS_FL_RIGHT : 0);
    if (t->ncols >= sizeof t->flags / sizeof t->flags[0] ||
        !scols_table_new_column(t->tb, header, whint, fl))
        return -1;
    t->flags[t->ncols++] = flags;
    return 0;
}

int cli_table_row(cli_table *t)
{
    t->ln = scols_table_new_line(t->tb, NULL);
    return t->ln ? 0 : -1;
}

int cli_table_set(cli_table *t, size_t col, const char *value, const char *color)
{
    if (!t->ln || scols_line_set_data(t->ln, col, value ? value : "-"))
        return -1;
    if (color && *color)
        scols_cell_set_color(scols_line_get_cell(t->ln, col), color);
    return 0;
}

/* The longest prefix of s that is at most w columns wide, plus "…" (w >= 1). */
static char *shorten(const char *s, int w)
{
    size_t n = strlen(s), k = 0;
    char *out;
    while (k < n) {
        size_t next = k + 1;
        while (next < n && ((unsigned char)s[next] & 0xc0) == 0x80)
            next++;
        if (cli_text_width(s, next) > w - 1)
            break;
        k = next;
    }
    if (!(out = malloc(k + 4)))
        return NULL;
    memcpy(out, s, k);
    memcpy(out + k, "\xe2\x80\xa6", 4);
    return out;
}

/* Lays the table out for the terminal and marks each shortened cell with "…". */
static int mark_cut_cells(cli_table *t, int width)
{
    struct libscols_iter *it;
    struct libscols_line *ln;
    char *dummy = NULL;
    size_t c;
    int rc = 0;

    scols_table_set_termwidth(t->tb, (size_t)width);
    scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_ALWAYS);
    if (scols_print_table_to_string(t->tb, &dummy))
        return -1;
    free(dummy);
    if (!(it = scols_new_iter(SCOLS_ITER_FORWARD)))
        return -1;
    for (c = 0; c < t->ncols && !rc; c++) {
        struct libscols_column *cl = scols_table_get_column(t->tb, c);
        int w = (int)scols_column_get_width(cl);
        if (!(t->flags[c] & CT_TRUNC) || w < 1)
            continue;
        scols_reset_iter(it, SCOLS_ITER_FORWARD);
        while (!rc && scols_table_next_line(t->tb, it, &ln) == 0) {
            const char *v = scols_cell_get_data(scols_line_get_cell(ln, c));
            char *s;
            if (!v || cli_text_width(v, strlen(v)) <= w)
                continue;
            if (!(s = shorten(v, w)) || scols_line_refer_data(ln, c, s))
                rc = -1;
        }
    }
    scols_free_iter(it);
    return rc;
}

int cli_table_print(cli_table *t, FILE *f)
{
    int width = cli_term_width();
    if (width > 0) {
        if (mark_cut_cells(t, width))
            return -1;
    } else {
        scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_NEVER);
    }
    scols_table_set_stream(t->tb, f);
    if (scols_print_table(t->tb))
        return -1;
    return fflush(f) == 0 ? 0 : -1;
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    scols_unref_table(t->tb);
    free(t);
}
