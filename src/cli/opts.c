/* opts.c - table-driven option parsing, --help text and the man page, all generated
 * from the same cli_opt tables so they cannot drift apart. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "term.h"

int cli_quiet;
int cli_debug;

void cli_err(const char *fmt, ...)
{
    va_list ap;
    fputs("buildtrail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    if (cli_quiet)
        return;
    fputs("buildtrail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const bt_error *err, int code)
{
    cli_err("%s", err && err->msg[0] ? err->msg : bt_strerror(err ? err->code : BT_ERROR));
    return code;
}

/* Options every command has, parsed here (a command's own option of the same name wins). */
enum { O_COLOR = 3000, O_UTC };
static const cli_opt every_opts[] = {
    {"color", 0, OPT_VALUE, "WHEN", O_COLOR,
     "Colour in the views for people: auto (default: when stdout is a terminal, NO_COLOR is "
     "unset or empty and TERM is not dumb), always or never."},
    {"utc", 0, OPT_FLAG, NULL, O_UTC,
     "Print times in UTC. By default times are local with their offset (TZ is honoured)."},
};
static const cli_group every_group = CLI_GROUP("Every command", every_opts);

static const cli_opt *find_in(const cli_group *grp, const char *name, size_t len, char short_name)
{
    size_t i;
    for (i = 0; i < grp->n; i++) {
        const cli_opt *o = &grp->opts[i];
        if (short_name ? o->short_name == short_name
                       : strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

static const cli_opt *find_opt(const cli_cmd *cmd, const char *name, size_t len, char short_name)
{
    size_t g;
    const cli_opt *o;
    for (g = 0; cmd->groups[g]; g++)
        if ((o = find_in(cmd->groups[g], name, len, short_name)))
            return o;
    return find_in(&every_group, name, len, short_name);
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv,
              int (*fn)(void *ctx, const cli_opt *opt, const char *value), void *ctx, char ***pos,
              int *npos)
{
    int i, only_pos = 0;
    *npos = 0;
    *pos = calloc((size_t)argc + 1, sizeof(char *));
    if (!*pos) {
        cli_err("out of memory");
        return -1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        const cli_opt *o;
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            (*pos)[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_help(stdout, cmd);
            return 1;
        }
        if (a[1] == '-') {
            eq = strchr(a + 2, '=');
            o = find_opt(cmd, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
            if (eq)
                val = eq + 1;
        } else {
            if (a[2] != '\0') {
                cli_err("%s: unknown option '%s' (see 'buildtrail %s --help')", cmd->name, a,
                        cmd->name);
                return -1;
            }
            o = find_opt(cmd, NULL, 0, a[1]);
        }
        if (!o) {
            cli_err("%s: unknown option '%s' (see 'buildtrail %s --help')", cmd->name, a,
                    cmd->name);
            return -1;
        }
        if (o->type == OPT_FLAG) {
            if (val) {
                cli_err("%s: option '--%s' takes no value", cmd->name, o->name);
                return -1;
            }
        } else if (!val) {
            if (i + 1 >= argc) {
                cli_err("%s: option '--%s' needs a value (%s)", cmd->name, o->name,
                        o->arg ? o->arg : "VALUE");
                return -1;
            }
            val = argv[++i];
        }
        if (o == &every_opts[1]) {
            setenv("TZ", "UTC0", 1);
            tzset();
            continue;
        }
        if (o == &every_opts[0]) {
            if (cli_color_set(val)) {
                cli_err("--color '%s': expected auto, always or never", val);
                return -1;
            }
            continue;
        }
        if (fn(ctx, o, val) != 0)
            return -1;
    }
    return 0;
}

/* Word-wraps text to width; continuation lines start at column indent. The first
 * line starts at column first (the caller has already printed up to it). */
static void wrap_from(FILE *f, const char *text, int first, int indent, int width)
{
    int col = first;
    const char *p = text;
    while (*p) {
        const char *w = p;
        int len;
        while (*w && *w != ' ' && *w != '\n')
            w++;
        len = (int)(w - p);
        if (col > first && col + 1 + len > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            first = indent;
        } else if (col > first) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)len, f);
        col += len;
        p = w;
        if (*p == '\n') {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            first = indent;
            p++;
        } else if (*p == ' ') {
            p++;
        }
    }
    fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int indent, int width)
{
    fprintf(f, "%*s", indent, "");
    wrap_from(f, text, indent, indent, width);
}

/* An option is left out of --help and the man page when it has no help text (hidden,
 * like the AWS CLI's --next-token) or when an earlier group of the command already
 * has an option of that name (the earlier one is the one parsed). */
static int opt_hidden(const cli_cmd *cmd, size_t g, size_t i)
{
    const cli_opt *o = &cmd->groups[g]->opts[i];
    size_t gg, ii;
    if (!o->help)
        return 1;
    for (gg = 0; gg <= g; gg++)
        for (ii = 0; ii < (gg == g ? i : cmd->groups[gg]->n); ii++)
            if (strcmp(cmd->groups[gg]->opts[ii].name, o->name) == 0)
                return 1;
    return 0;
}

/* The command's groups, then the options every command has: group g of cmd (NULL past
 * the end; g == the count is the every-command group). */
static const cli_group *group_at(const cli_cmd *cmd, size_t g)
{
    size_t n = 0;
    while (cmd->groups[n])
        n++;
    return g < n ? cmd->groups[g] : g == n ? &every_group : NULL;
}

/* Hidden: no help text, or a group before it has an option of that name. */
static int hidden_in(const cli_cmd *cmd, size_t g, size_t i)
{
    const cli_group *grp = group_at(cmd, g);
    if (grp == &every_group)
        return find_opt(cmd, grp->opts[i].name, strlen(grp->opts[i].name), 0) != &grp->opts[i];
    return opt_hidden(cmd, g, i);
}

void cli_print_help(FILE *f, const cli_cmd *cmd)
{
    size_t g, i;
    const cli_group *grp;
    fprintf(f, "usage: buildtrail %s\n\n", cmd->synopsis);
    wrap(f, cmd->description, 0, 80);
    for (g = 0; (grp = group_at(cmd, g)); g++) {
        fprintf(f, "\n%s:\n", grp->title);
        for (i = 0; i < grp->n; i++) {
            const cli_opt *o = &grp->opts[i];
            char head[96];
            if (hidden_in(cmd, g, i))
                continue;
            if (o->short_name)
                snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name,
                         o->type == OPT_VALUE ? " " : "", o->type == OPT_VALUE ? o->arg : "");
            else
                snprintf(head, sizeof head, "--%s%s%s", o->name, o->type == OPT_VALUE ? " " : "",
                         o->type == OPT_VALUE ? o->arg : "");
            if (strlen(head) < 26) {
                fprintf(f, "  %-26s", head);
                wrap_from(f, o->help, 28, 28, 80);
            } else {
                fprintf(f, "  %s\n", head);
                wrap(f, o->help, 28, 78);
            }
        }
    }
    if (cmd->examples)
        fprintf(f, "\nExamples:\n%s", cmd->examples);
}

void cli_print_main_help(FILE *f)
{
    size_t i;
    fputs("usage: buildtrail <command> [options]\n\n"
          "buildtrail answers, from AWS CloudTrail, what happened in a CodeBuild deployment:\n"
          "who started or changed it, with what inputs, what the build did, how it ended.\n\n"
          "Commands:\n",
          f);
    for (i = 0; i < cli_ncommands; i++)
        fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fputs("\nRun 'buildtrail <command> --help' for a command's options; 'man buildtrail'\n"
          "(docs/buildtrail.1) for everything.\n",
          f);
}

/* roff escaping: backslashes and leading dots/quotes */
static void roff(FILE *f, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = *s == '\n';
    }
}

void cli_print_man(FILE *f)
{
    size_t c, g, i;
    const cli_group *grp;
    fputs(".\\\" Generated by 'buildtrail help --man' from the option tables; do not edit.\n"
          ".TH BUILDTRAIL 1 \"\" \"buildtrail\" \"User Commands\"\n"
          ".SH NAME\nbuildtrail \\- CloudTrail forensics for AWS CodeBuild deployments\n"
          ".SH SYNOPSIS\n.B buildtrail\n.I command\n[options]\n"
          ".SH DESCRIPTION\n"
          "buildtrail answers, from AWS CloudTrail, what happened in a CodeBuild deployment: "
          "who started or changed it, with what inputs, what the build itself did in the "
          "account, and how it ended. It reads trail archives (local or S3 .json.gz log files, "
          "lookup\\-events output, EventBridge events), keeps them in an embedded SQLite store "
          "with history beyond the API's 90 days, and searches them with filters the API "
          "lacks.\n",
          f);
    for (c = 0; c < cli_ncommands; c++) {
        const cli_cmd *cmd = cli_commands[c];
        fprintf(f, ".SH COMMAND: %s\n.B buildtrail ", cmd->name);
        roff(f, cmd->synopsis);
        fputs("\n.PP\n", f);
        roff(f, cmd->description);
        fputc('\n', f);
        for (g = 0; (grp = group_at(cmd, g)); g++) {
            fputs(".SS ", f);
            roff(f, grp->title);
            fputc('\n', f);
            for (i = 0; i < grp->n; i++) {
                const cli_opt *o = &grp->opts[i];
                if (hidden_in(cmd, g, i))
                    continue;
                fputs(".TP\n", f);
                if (o->short_name)
                    fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
                fputs("\\fB\\-\\-", f);
                roff(f, o->name);
                fputs("\\fR", f);
                if (o->type == OPT_VALUE) {
                    fputs(" \\fI", f);
                    roff(f, o->arg);
                    fputs("\\fR", f);
                }
                fputc('\n', f);
                roff(f, o->help);
                fputc('\n', f);
            }
        }
        if (cmd->examples) {
            fputs(".SS Examples\n.nf\n", f);
            roff(f, cmd->examples);
            fputs(".fi\n", f);
        }
    }
    fputs(".SH ENVIRONMENT\n"
          ".TP\n.B BUILDTRAIL_STORE\nPath of the store when \\-\\-store is not given.\n"
          ".TP\n.B XDG_DATA_HOME\nThe default store is $XDG_DATA_HOME/buildtrail/events.db "
          "(else ~/.local/share/buildtrail/events.db).\n"
          ".TP\n.B TZ\nTime zone for printed timestamps, as the AWS CLI uses it.\n"
          ".TP\n.B BUILDTRAIL_COMMIT_EVENTS\nIngest commits after this many events (default "
          "200000) or after a second, whichever comes first.\n"
          ".SH EXIT STATUS\n"
          ".TP\n.B 0\nSuccess.\n"
          ".TP\n.B 1\nRuntime failure (store, I/O, out of memory).\n"
          ".TP\n.B 2\nUsage error: unknown option, bad value, bad query expression.\n"
          ".TP\n.B 3\nFinished, but some inputs could not be read (each was reported).\n"
          ".TP\n.B 4\nThe store does not exist or is not a buildtrail store.\n"
          ".TP\n.B 5\nThe build or event asked for is not there.\n"
          ".TP\n.B 252, 253, 254, 255\n\\fBlookup\\fR only, as the AWS CLI: usage, "
          "configuration or credentials, service error, other.\n"
          ".SH FILES\n"
          "The store is one SQLite database (WAL mode) created with mode 0600.\n"
          ".SH SEE ALSO\n.BR aws (1),\n.BR sqlite3 (1),\n.BR jq (1)\n",
          f);
}
