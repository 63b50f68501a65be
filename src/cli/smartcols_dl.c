/* smartcols_dl.c - loads libsmartcols on first use (smartcols_dl.h): dlopen by the soname
 * the build found (BT_SMARTCOLS_SONAME), each symbol looked up once into a table (the
 * library's loader, util/dl.h), and the wrappers table.c goes through forward to it. The
 * table's and the wrappers' types are checked against libsmartcols.h at compile time. */
#define BT_DL_IMPL
#include "smartcols_dl.h"

#include <errno.h>

#include "util/dl.h"

#ifndef BT_SMARTCOLS_SONAME
#error "BT_SMARTCOLS_SONAME (libsmartcols' soname) is set by CMakeLists.txt"
#endif

static struct {
    struct libscols_table *(*new_table)(void);
    void (*unref_table)(struct libscols_table *);
    int (*enable_colors)(struct libscols_table *, int);
    struct libscols_column *(*new_column)(struct libscols_table *, const char *, double, int);
    struct libscols_column *(*get_column)(struct libscols_table *, size_t);
    size_t (*column_get_width)(const struct libscols_column *);
    struct libscols_line *(*new_line)(struct libscols_table *, struct libscols_line *);
    int (*next_line)(struct libscols_table *, struct libscols_iter *, struct libscols_line **);
    int (*line_set_data)(struct libscols_line *, size_t, const char *);
    int (*line_refer_data)(struct libscols_line *, size_t, char *);
    struct libscols_cell *(*line_get_cell)(struct libscols_line *, size_t);
    const char *(*cell_get_data)(const struct libscols_cell *);
    int (*cell_set_color)(struct libscols_cell *, const char *);
    struct libscols_iter *(*new_iter)(int);
    void (*free_iter)(struct libscols_iter *);
    void (*reset_iter)(struct libscols_iter *, int);
    int (*set_termwidth)(struct libscols_table *, size_t);
    int (*set_termforce)(struct libscols_table *, int);
    int (*set_stream)(struct libscols_table *, FILE *);
    int (*print_table)(struct libscols_table *);
    int (*print_table_to_string)(struct libscols_table *, char **);
} sc;

SAME_TYPES(sc.new_table, scols_new_table);
SAME_TYPES(sc.unref_table, scols_unref_table);
SAME_TYPES(sc.enable_colors, scols_table_enable_colors);
SAME_TYPES(sc.new_column, scols_table_new_column);
SAME_TYPES(sc.get_column, scols_table_get_column);
SAME_TYPES(sc.column_get_width, scols_column_get_width);
SAME_TYPES(sc.new_line, scols_table_new_line);
SAME_TYPES(sc.next_line, scols_table_next_line);
SAME_TYPES(sc.line_set_data, scols_line_set_data);
SAME_TYPES(sc.line_refer_data, scols_line_refer_data);
SAME_TYPES(sc.line_get_cell, scols_line_get_cell);
SAME_TYPES(sc.cell_get_data, scols_cell_get_data);
SAME_TYPES(sc.cell_set_color, scols_cell_set_color);
SAME_TYPES(sc.new_iter, scols_new_iter);
SAME_TYPES(sc.free_iter, scols_free_iter);
SAME_TYPES(sc.reset_iter, scols_reset_iter);
SAME_TYPES(sc.set_termwidth, scols_table_set_termwidth);
SAME_TYPES(sc.set_termforce, scols_table_set_termforce);
SAME_TYPES(sc.set_stream, scols_table_set_stream);
SAME_TYPES(sc.print_table, scols_print_table);
SAME_TYPES(sc.print_table_to_string, scols_print_table_to_string);

static bt_dl_state smartcols_st = BT_DL_STATE_INIT;

static void smartcols_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(sc, new_table, "scols_new_table"),
        SYM(sc, unref_table, "scols_unref_table"),
        SYM(sc, enable_colors, "scols_table_enable_colors"),
        SYM(sc, new_column, "scols_table_new_column"),
        SYM(sc, get_column, "scols_table_get_column"),
        SYM(sc, column_get_width, "scols_column_get_width"),
        SYM(sc, new_line, "scols_table_new_line"),
        SYM(sc, next_line, "scols_table_next_line"),
        SYM(sc, line_set_data, "scols_line_set_data"),
        SYM(sc, line_refer_data, "scols_line_refer_data"),
        SYM(sc, line_get_cell, "scols_line_get_cell"),
        SYM(sc, cell_get_data, "scols_cell_get_data"),
        SYM(sc, cell_set_color, "scols_cell_set_color"),
        SYM(sc, new_iter, "scols_new_iter"),
        SYM(sc, free_iter, "scols_free_iter"),
        SYM(sc, reset_iter, "scols_reset_iter"),
        SYM(sc, set_termwidth, "scols_table_set_termwidth"),
        SYM(sc, set_termforce, "scols_table_set_termforce"),
        SYM(sc, set_stream, "scols_table_set_stream"),
        SYM(sc, print_table, "scols_print_table"),
        SYM(sc, print_table_to_string, "scols_print_table_to_string"),
    };
    bt_dl_fill(&smartcols_st, BT_SMARTCOLS_SONAME, syms, sizeof syms / sizeof syms[0]);
}

/* 1 once the table is filled (loading it on the first call), 0 if it cannot be */
static int ready(void)
{
    return bt_dl_ready(&smartcols_st, smartcols_once);
}

int bt_smartcols_load(bt_error *err)
{
    return bt_dl_load(&smartcols_st, smartcols_once, "libsmartcols", BT_SMARTCOLS_SONAME, err);
}

struct libscols_table *bt_scols_new_table(void)
{
    return ready() ? sc.new_table() : NULL;
}

void bt_scols_unref_table(struct libscols_table *tb)
{
    if (tb && ready()) /* (a table exists only if the library does) */
        sc.unref_table(tb);
}

int bt_scols_table_enable_colors(struct libscols_table *tb, int enable)
{
    return ready() ? sc.enable_colors(tb, enable) : -EINVAL;
}

struct libscols_column *bt_scols_table_new_column(struct libscols_table *tb, const char *name,
                                                  double whint, int flags)
{
    return ready() ? sc.new_column(tb, name, whint, flags) : NULL;
}

struct libscols_column *bt_scols_table_get_column(struct libscols_table *tb, size_t n)
{
    return ready() ? sc.get_column(tb, n) : NULL;
}

size_t bt_scols_column_get_width(const struct libscols_column *cl)
{
    return ready() ? sc.column_get_width(cl) : 0;
}

struct libscols_line *bt_scols_table_new_line(struct libscols_table *tb,
                                              struct libscols_line *parent)
{
    return ready() ? sc.new_line(tb, parent) : NULL;
}

int bt_scols_table_next_line(struct libscols_table *tb, struct libscols_iter *itr,
                             struct libscols_line **ln)
{
    return ready() ? sc.next_line(tb, itr, ln) : -EINVAL;
}

int bt_scols_line_set_data(struct libscols_line *ln, size_t n, const char *data)
{
    return ready() ? sc.line_set_data(ln, n, data) : -EINVAL;
}

int bt_scols_line_refer_data(struct libscols_line *ln, size_t n, char *data)
{
    return ready() ? sc.line_refer_data(ln, n, data) : -EINVAL;
}

struct libscols_cell *bt_scols_line_get_cell(struct libscols_line *ln, size_t n)
{
    return ready() ? sc.line_get_cell(ln, n) : NULL;
}

const char *bt_scols_cell_get_data(const struct libscols_cell *ce)
{
    return ready() ? sc.cell_get_data(ce) : NULL;
}

int bt_scols_cell_set_color(struct libscols_cell *ce, const char *color)
{
    return ready() ? sc.cell_set_color(ce, color) : -EINVAL;
}

struct libscols_iter *bt_scols_new_iter(int direction)
{
    return ready() ? sc.new_iter(direction) : NULL;
}

void bt_scols_free_iter(struct libscols_iter *itr)
{
    if (itr && ready())
        sc.free_iter(itr);
}

void bt_scols_reset_iter(struct libscols_iter *itr, int direction)
{
    if (ready())
        sc.reset_iter(itr, direction);
}

int bt_scols_table_set_termwidth(struct libscols_table *tb, size_t width)
{
    return ready() ? sc.set_termwidth(tb, width) : -EINVAL;
}

int bt_scols_table_set_termforce(struct libscols_table *tb, int force)
{
    return ready() ? sc.set_termforce(tb, force) : -EINVAL;
}

int bt_scols_table_set_stream(struct libscols_table *tb, FILE *stream)
{
    return ready() ? sc.set_stream(tb, stream) : -EINVAL;
}

int bt_scols_print_table(struct libscols_table *tb)
{
    return ready() ? sc.print_table(tb) : -EINVAL;
}

int bt_scols_print_table_to_string(struct libscols_table *tb, char **data)
{
    return ready() ? sc.print_table_to_string(tb, data) : -EINVAL;
}
