/* smartcols_dl.h - libsmartcols (the tables for people: table.c), loaded when first used
 * instead of at program start.
 *
 * Only the human tables (builds, info, events) need it. The functions table.c calls are
 * wrappers here that load the library by the soname it was built against
 * (BT_SMARTCOLS_SONAME) on their first call, once per process and thread-safely, and then
 * forward (smartcols_dl.c, on the library's loader: util/dl.h). Include this header
 * instead of <libsmartcols.h>: the calling code keeps libsmartcols' names (mapped onto the
 * wrappers below) and its return conventions; if the library cannot be loaded each returns
 * its failure value (NULL, a negative errno, 0). bt_smartcols_load() says why. */
#ifndef BT_CLI_SMARTCOLS_DL_H
#define BT_CLI_SMARTCOLS_DL_H

#include <libsmartcols.h>
#include <stddef.h>
#include <stdio.h>

#include "buildtrail/error.h"

/* Loads libsmartcols once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_smartcols_load(bt_error *err);

struct libscols_table *bt_scols_new_table(void);
void bt_scols_unref_table(struct libscols_table *tb);
int bt_scols_table_enable_colors(struct libscols_table *tb, int enable);
struct libscols_column *bt_scols_table_new_column(struct libscols_table *tb, const char *name,
                                                  double whint, int flags);
struct libscols_column *bt_scols_table_get_column(struct libscols_table *tb, size_t n);
size_t bt_scols_column_get_width(const struct libscols_column *cl);
struct libscols_line *bt_scols_table_new_line(struct libscols_table *tb,
                                              struct libscols_line *parent);
int bt_scols_table_next_line(struct libscols_table *tb, struct libscols_iter *itr,
                             struct libscols_line **ln);
int bt_scols_line_set_data(struct libscols_line *ln, size_t n, const char *data);
int bt_scols_line_refer_data(struct libscols_line *ln, size_t n, char *data);
struct libscols_cell *bt_scols_line_get_cell(struct libscols_line *ln, size_t n);
const char *bt_scols_cell_get_data(const struct libscols_cell *ce);
int bt_scols_cell_set_color(struct libscols_cell *ce, const char *color);
struct libscols_iter *bt_scols_new_iter(int direction);
void bt_scols_free_iter(struct libscols_iter *itr);
void bt_scols_reset_iter(struct libscols_iter *itr, int direction);
int bt_scols_table_set_termwidth(struct libscols_table *tb, size_t width);
int bt_scols_table_set_termforce(struct libscols_table *tb, int force);
int bt_scols_table_set_stream(struct libscols_table *tb, FILE *stream);
int bt_scols_print_table(struct libscols_table *tb);
int bt_scols_print_table_to_string(struct libscols_table *tb, char **data);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define scols_new_table bt_scols_new_table
#define scols_unref_table bt_scols_unref_table
#define scols_table_enable_colors bt_scols_table_enable_colors
#define scols_table_new_column bt_scols_table_new_column
#define scols_table_get_column bt_scols_table_get_column
#define scols_column_get_width bt_scols_column_get_width
#define scols_table_new_line bt_scols_table_new_line
#define scols_table_next_line bt_scols_table_next_line
#define scols_line_set_data bt_scols_line_set_data
#define scols_line_refer_data bt_scols_line_refer_data
#define scols_line_get_cell bt_scols_line_get_cell
#define scols_cell_get_data bt_scols_cell_get_data
#define scols_cell_set_color bt_scols_cell_set_color
#define scols_new_iter bt_scols_new_iter
#define scols_free_iter bt_scols_free_iter
#define scols_reset_iter bt_scols_reset_iter
#define scols_table_set_termwidth bt_scols_table_set_termwidth
#define scols_table_set_termforce bt_scols_table_set_termforce
#define scols_table_set_stream bt_scols_table_set_stream
#define scols_print_table bt_scols_print_table
#define scols_print_table_to_string bt_scols_print_table_to_string
#endif

#endif
