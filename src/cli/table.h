/* table.h - the one renderer of the tables for people (table.c), on util-linux's
 * libsmartcols: columns sized to the terminal ($COLUMNS, else its width; not wrapped
 * when stdout is not a terminal), only the columns marked truncatable (the least
 * important) are shortened, and then with a visible "…"; ids are never cut; every
 * column has a header. */
#ifndef BT_CLI_TABLE_H
#define BT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

enum {
    CT_TRUNC = 1, /* may be shortened (with "…") to fit the terminal */
    CT_RIGHT = 2, /* right-aligned (numbers) */
};

typedef struct cli_table cli_table;

/* Loads libsmartcols, which draws the tables (once per process: smartcols_dl.h). 0, or -1
 * after saying on stderr that it cannot be loaded, and why. Called before cli_table_new. */
int cli_table_load(void);
/* NULL when out of memory (or libsmartcols could not be loaded: cli_table_load). */
cli_table *cli_table_new(void);
/* Adds a column: whint is the width hint (a fraction of the terminal when < 1). 0 or
 * -1 when out of memory. */
int cli_table_col(cli_table *t, const char *header, double whint, int flags);
/* Starts a row. 0 or -1. */
int cli_table_row(cli_table *t);
/* Sets a cell of the current row (value NULL: "-"); color: an ANSI sequence or NULL,
 * used only when colour is on. 0 or -1. */
int cli_table_set(cli_table *t, size_t col, const char *value, const char *color);
/* Prints to f; 0, or -1 when it could not be written. */
int cli_table_print(cli_table *t, FILE *f);
void cli_table_free(cli_table *t);

#endif
