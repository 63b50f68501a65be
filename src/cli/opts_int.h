/* opts_int.h - shared between option parsing (opts.c) and help (help.c). */
#ifndef BT_OPTS_INT_H
#define BT_OPTS_INT_H

#include "cli.h"

/* Group g of cmd: its own groups, then the options every command has; NULL past the end. */
const cli_group *cli_group_at(const cli_cmd *cmd, size_t g);
/* Whether option i of group g is left out of --help and the man page. */
int cli_opt_hidden_at(const cli_cmd *cmd, size_t g, size_t i);

/* The completion script for shell (bash, zsh, fish) on f (completions.c): 0, or -1 for
 * another shell. */
int cli_print_completions(FILE *f, const char *shell);

#endif
