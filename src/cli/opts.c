/* opts.c - table-driven option parsing (with "did you mean" for typos), the options
 * every command has, and diagnostics. --help and the man page come from the same tables
 * (help.c), so they cannot drift apart. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "opts_int.h"
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

int cli_parse_bytes(const char *opt, const char *v, size_t *out)
{
    char *end;
    unsigned long long n;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (!*v || *v == '-' || *v == '+' || errno || *end || n < 1024 || n > (1ull << 30)) {
        cli_err("--%s '%s': expected a number of bytes from 1024 to 1073741824", opt, v);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

int cli_fail(const bt_error *err, int code)
{
    cli_err("%s", err && err->msg[0] ? err->msg : bt_strerror(err ? err->code : BT_ERROR));
    /* a corrupt store has one exit status, whether found at open or mid-query */
    if (err && err->code == BT_EDB && strstr(err->msg, "' is corrupt ("))
        return EXIT_NOSTORE;
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

/* Edit distance (insert, delete, substitute, swap of neighbours) of a and b, capped. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, d[40][40];
    if (la >= 40 || lb >= 40)
        return 99;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++)
        for (j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The closest of names to word when it is close enough to be a typo, else NULL. */
static const char *closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t i, bd = 99, limit = strlen(word) <= 4 ? 1 : 2;
    for (i = 0; i < n; i++) {
        size_t d = distance(word, names[i]);
        if (d < bd || (d == bd && !best)) {
            bd = d;
            best = names[i];
        }
    }
    return bd <= limit ? best : NULL;
}

int cli_unknown_command(const char *name)
{
    const char *names[64];
    const char *s;
    size_t i, n = 0;
    for (i = 0; i < cli_ncommands && n < 63; i++)
        names[n++] = cli_commands[i]->name;
    names[n++] = "version";
    s = closest(name, names, n);
    if (s)
        cli_err("'%s' is not a command; did you mean '%s'? (see 'buildtrail --help')", name, s);
    else
        cli_err("'%s' is not a command (see 'buildtrail --help')", name);
    return EXIT_USAGE;
}

static void unknown_option(const cli_cmd *cmd, const char *arg)
{
    const char *names[256], *s = NULL;
    const cli_group *grp;
    size_t g, i, n = 0, len = strcspn(arg, "=");
    char word[64];
    for (g = 0; (grp = cli_group_at(cmd, g)); g++)
        for (i = 0; i < grp->n && n < 256; i++)
            names[n++] = grp->opts[i].name;
    if (arg[0] == '-' && arg[1] == '-' && len - 2 < sizeof word) {
        snprintf(word, sizeof word, "%.*s", (int)(len - 2), arg + 2);
        s = closest(word, names, n);
    }
    if (s)
        cli_err("%s: unknown option '%.*s'; did you mean '--%s'? (see 'buildtrail %s --help')",
                cmd->name, (int)len, arg, s, cmd->name);
    else
        cli_err("%s: unknown option '%s' (see 'buildtrail %s --help')", cmd->name, arg, cmd->name);
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv,
              int (*fn)(void *ctx, const cli_opt *opt, const char *value), void *ctx, char ***pos,
              int *npos)
{
    int i, only_pos = 0;
    *npos = 0;
    *pos = NULL;
    if (cli_config_load())
        return -1;
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
            unknown_option(cmd, a);
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
const cli_group *cli_group_at(const cli_cmd *cmd, size_t g)
{
    size_t n = 0;
    while (cmd->groups[n])
        n++;
    return g < n ? cmd->groups[g] : g == n ? &every_group : NULL;
}

/* Hidden: no help text, or a group before it has an option of that name. */
int cli_opt_hidden_at(const cli_cmd *cmd, size_t g, size_t i)
{
    const cli_group *grp = cli_group_at(cmd, g);
    if (grp == &every_group)
        return find_opt(cmd, grp->opts[i].name, strlen(grp->opts[i].name), 0) != &grp->opts[i];
    return opt_hidden(cmd, g, i);
}
