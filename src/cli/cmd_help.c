/* cmd_help.c - `buildtrail help [COMMAND]` and `buildtrail help --man` (the man page,
 * generated from the same option tables as --help). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts_int.h"

enum { O_MAN = 1, O_COMPLETIONS };

static const cli_opt help_opts[] = {
    {"man", 0, OPT_FLAG, NULL, O_MAN,
     "Print the man page (roff) generated from the option tables."},
    {"completions", 0, OPT_VALUE, "SHELL", O_COMPLETIONS,
     "Print the completion script for bash, zsh or fish, generated from the option tables "
     "(installed copies are in completions/)."},
};
static const cli_group help_group = CLI_GROUP("Options", help_opts);
static const cli_group *const help_groups[] = {&help_group, NULL};

static int cmd_help(int argc, char **argv);

const cli_cmd cmd_help_def = {"help",
                              cmd_help,
                              "show help for a command, or the man page (--man)",
                              "help [COMMAND] [--man] [--completions SHELL]",
                              "Shows the help of COMMAND, or the list of commands.",
                              help_groups,
                              "  buildtrail help search\n  buildtrail help --man | man -l -\n"
                              "  buildtrail help --completions bash > "
                              "~/.local/share/bash-completion/completions/buildtrail\n"};

typedef struct hopts {
    int man;
    const char *shell;
} hopts;

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    hopts *h = ctx;
    if (o->id == O_MAN)
        h->man = 1;
    else if (o->id == O_COMPLETIONS)
        h->shell = v;
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    char **pos = NULL;
    int npos = 0, rc;
    hopts h = {0, NULL};
    const cli_cmd *cmd;

    rc = cli_parse(&cmd_help_def, argc, argv, on_opt, &h, &pos, &npos);
    if (rc) {
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (h.shell) {
        if (cli_print_completions(stdout, h.shell)) {
            cli_err("help --completions '%s': expected bash, zsh or fish", h.shell);
            free(pos);
            return EXIT_USAGE;
        }
    } else if (h.man) {
        cli_print_man(stdout);
    } else if (npos) {
        cmd = cli_find(pos[0]);
        if (!cmd) {
            cli_err("help: '%s' is not a command", pos[0]);
            free(pos);
            return EXIT_USAGE;
        }
        cli_print_help(stdout, cmd);
    } else {
        cli_print_main_help(stdout);
    }
    free(pos);
    return EXIT_OK;
}
