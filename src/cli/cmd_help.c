/* cmd_help.c - `buildtrail help [COMMAND]` and `buildtrail help --man` (the man page,
 * generated from the same option tables as --help). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_MAN = 1 };

static const cli_opt help_opts[] = {
    {"man", 0, OPT_FLAG, NULL, O_MAN, "Print the man page (roff) generated from the option tables."},
};
static const cli_group help_group = CLI_GROUP("Options", help_opts);
static const cli_group *const help_groups[] = {&help_group, NULL};

static int cmd_help(int argc, char **argv);

const cli_cmd cmd_help_def = {"help", cmd_help, "show help for a command, or the man page (--man)",
                              "help [COMMAND] [--man]",
                              "Shows the help of COMMAND, or the list of commands.", help_groups,
                              "  buildtrail help search\n  buildtrail help --man | man -l -\n"};

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    (void)v;
    if (o->id == O_MAN)
        *(int *)ctx = 1;
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    char **pos = NULL;
    int npos = 0, man = 0, rc;
    const cli_cmd *cmd;

    rc = cli_parse(&cmd_help_def, argc, argv, on_opt, &man, &pos, &npos);
    if (rc) {
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (man) {
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
