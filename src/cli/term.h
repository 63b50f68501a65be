/* term.h - the terminal as the people's views see it (term.c): its width and height,
 * whether to colour (--color, NO_COLOR, TERM=dumb), the pager ($PAGER, `less -FRX`),
 * and word-wrapping one logical line with a hanging indent (never cutting it). */
#ifndef BT_CLI_TERM_H
#define BT_CLI_TERM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_color_mode { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER } cli_color_mode;

/* The --color setting (auto until set). */
extern cli_color_mode cli_color;
/* Parses auto|always|never into cli_color: 0, or -1 (the caller says why). */
int cli_color_set(const char *v);
/* The configuration file's color (below NO_COLOR and TERM=dumb): 0, or -1 when it is
 * not auto|always|never. */
int cli_color_config(const char *v);
/* Whether stdout gets colour: --color never/always as given; else NO_COLOR set and not
 * empty or TERM=dumb: none; else the config's always/never; else when stdout is a
 * terminal. */
int cli_use_color(void);

/* Columns to lay out for: $COLUMNS when it is a number, else the terminal's width when
 * stdout is one, else 0 (not a terminal: no limit, nothing wrapped). */
int cli_term_width(void);
/* Rows of the terminal on stdout, 0 when it is not one. */
int cli_term_height(void);

/* Visible width of n bytes of UTF-8 (ANSI escape sequences count 0, wide characters 2). */
int cli_text_width(const char *s, size_t n);
/* Writes one logical line (no trailing newline in s; embedded '\n' start a new line)
 * word-wrapped at width (0: not wrapped), continuation lines indented by hang columns;
 * a word longer than a line is split, never cut. Ends with a newline. */
void cli_wrap_line(FILE *f, const char *s, size_t n, int width, int hang);

/* The pager: output is collected and, when stdout is a terminal, paging is on and the
 * text is taller than the terminal, piped to $PAGER (default `less -FRX`; an empty
 * PAGER or "cat" means none). */
typedef struct cli_pager {
    FILE *f; /* write here */
    char *buf;
    size_t len;
} cli_pager;
/* Starts: p->f is stdout when paging cannot apply (or on failure). */
void cli_pager_begin(cli_pager *p, int enabled);
/* Shows what was written; returns 0 or -1 when it could not be written. */
int cli_pager_end(cli_pager *p);

/* b bytes for people: "512 B", "3.4 MB" (powers of 1000). */
void cli_human_bytes(char *out, size_t n, double b);

#endif
