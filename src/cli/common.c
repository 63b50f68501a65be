/* common.c - option groups shared by commands (filters, store, output, general) and
 * the conversion of an event into the LookupEvents response shape. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/format.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "term.h"

static const cli_opt filter_opts[] = {
    {"start-time", 0, OPT_VALUE, "TIME", O_START,
     "Only events at or after TIME: ISO 8601 with or without a zone (no zone = UTC), epoch "
     "seconds, or an age such as 90m, 2h, 7d."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END, "Only events at or before TIME (same forms)."},
    {"event-name", 0, OPT_VALUE, "NAME", O_EVENT_NAME, "eventName, e.g. StartBuild."},
    {"event-source", 0, OPT_VALUE, "SOURCE", O_EVENT_SOURCE,
     "eventSource, e.g. codebuild.amazonaws.com."},
    {"username", 0, OPT_VALUE, "NAME", O_USERNAME,
     "User name as the event history shows it: IAM user, role session name (e.g. "
     "AWSCodeBuild-<uuid>), root."},
    {"resource-name", 0, OPT_VALUE, "NAME", O_RESOURCE_NAME,
     "A resource name or ARN the event names (CodeBuild project name or ARN, stack, "
     "function, bucket...)."},
    {"resource-type", 0, OPT_VALUE, "TYPE", O_RESOURCE_TYPE,
     "A resource type, e.g. AWS::CodeBuild::Project."},
    {"access-key-id", 0, OPT_VALUE, "KEY", O_ACCESS_KEY_ID, "The access key id used."},
    {"event-id", 0, OPT_VALUE, "ID", O_EVENT_ID, "eventID."},
    {"read-only", 0, OPT_VALUE, "BOOL", O_READ_ONLY, "true: only reads; false: only writes."},
    {"error-code", 0, OPT_VALUE, "CODE", O_ERROR_CODE, "errorCode, e.g. AccessDenied."},
    {"errors", 0, OPT_FLAG, NULL, O_ERRORS, "Only events that carry an errorCode."},
    {"source-ip", 0, OPT_VALUE, "IP", O_SOURCE_IP, "sourceIPAddress."},
    {"account", 0, OPT_VALUE, "ID", O_ACCOUNT, "Account id (recipientAccountId)."},
    {"region", 0, OPT_VALUE, "REGION", O_REGION, "awsRegion."},
    {"project", 0, OPT_VALUE, "NAME", O_PROJECT, "CodeBuild project name."},
    {"build", 0, OPT_VALUE, "ID", O_BUILD,
     "A CodeBuild build: project:uuid, uuid or build ARN. Matches the build's own API calls "
     "(role session AWSCodeBuild-<uuid>) and the calls that name it."},
    {"principal", 0, OPT_VALUE, "ARN", O_PRINCIPAL, "userIdentity.arn of the caller."},
};
const cli_group cli_group_filters =
    CLI_GROUP("Filters (repeats of one filter are ORed, different filters ANDed)", filter_opts);

static const cli_opt store_opts[] = {
    {"store", 0, OPT_VALUE, "PATH", O_STORE,
     "The store (SQLite database). Default: $BUILDTRAIL_STORE, else "
     "$XDG_DATA_HOME/buildtrail/events.db."},
};
const cli_group cli_group_store = CLI_GROUP("Store", store_opts);

static const cli_opt output_opts[] = {
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "json (default), ndjson (raw records, one per line), text, table, yaml, "
     "yaml-stream or csv; as the AWS CLI prints them."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY,
     "A JMESPath expression applied to the output, as the AWS CLI's --query."},
    {"max-items", 0, OPT_VALUE, "N", O_MAX_ITEMS, "At most N events (newest first)."},
};
const cli_group cli_group_output = CLI_GROUP("Output", output_opts);

static const cli_opt general_opts[] = {
    {"threads", 0, OPT_VALUE, "N", O_THREADS, "Parser threads (default: one per CPU)."},
    {"quiet", 'q', OPT_FLAG, NULL, O_QUIET, "No progress or warnings on stderr."},
    {"debug", 0, OPT_FLAG, NULL, O_DEBUG, "Explain what is done on stderr (never secrets)."},
};
const cli_group cli_group_general = CLI_GROUP("General", general_opts);

void cli_common_init(cli_common *c)
{
    memset(c, 0, sizeof *c);
    bt_filter_init(&c->filter);
    c->now_ms = bt_time_now_ms();
}

static int parse_count(const char *opt, const char *v, uint64_t *out)
{
    char *end;
    unsigned long long n;
    if (!*v || *v == '-')
        goto bad;
    n = strtoull(v, &end, 10);
    if (*end || n == 0)
        goto bad;
    *out = n;
    return 0;
bad:
    cli_err("--%s '%s': expected a positive whole number", opt, v);
    return -1;
}

int cli_common_opt(cli_common *c, const cli_opt *opt, const char *value)
{
    static const struct {
        int id;
        bt_filter_field field;
    } map[] = {
        {O_EVENT_NAME, BT_F_EVENT_NAME},
        {O_EVENT_SOURCE, BT_F_EVENT_SOURCE},
        {O_USERNAME, BT_F_USERNAME},
        {O_RESOURCE_NAME, BT_F_RESOURCE_NAME},
        {O_RESOURCE_TYPE, BT_F_RESOURCE_TYPE},
        {O_ACCESS_KEY_ID, BT_F_ACCESS_KEY_ID},
        {O_EVENT_ID, BT_F_EVENT_ID},
        {O_ERROR_CODE, BT_F_ERROR_CODE},
        {O_SOURCE_IP, BT_F_SOURCE_IP},
        {O_ACCOUNT, BT_F_ACCOUNT},
        {O_REGION, BT_F_REGION},
        {O_PROJECT, BT_F_PROJECT},
        {O_BUILD, BT_F_BUILD},
        {O_PRINCIPAL, BT_F_PRINCIPAL},
    };
    bt_error err = BT_ERROR_INIT;
    uint64_t n;
    size_t i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].id == opt->id) {
            char *hint;
            if (bt_filter_add(&c->filter, map[i].field, value, &err)) {
                cli_err("%s", err.msg);
                return -1;
            }
            hint = bt_filter_hint(map[i].field, value);
            if (hint) {
                cli_warn("hint: %s", hint);
                free(hint);
                c->hinted = 1;
            }
            return 0;
        }
    switch (opt->id) {
    case O_STORE: c->store = value; return 0;
    case O_START:
    case O_END: {
        int64_t ms;
        if (bt_time_parse_user(value, c->now_ms, &ms, &err)) {
            cli_err("--%s %s", opt->name, err.msg);
            return -1;
        }
        if (opt->id == O_START)
            c->filter.start_ms = ms;
        else
            c->filter.end_ms = ms;
        if (c->filter.start_ms != INT64_MIN && c->filter.end_ms != INT64_MAX &&
            c->filter.start_ms > c->filter.end_ms) {
            cli_err("--start-time is after --end-time");
            return -1;
        }
        return 0;
    }
    case O_READ_ONLY:
        if (bt_filter_set_read_only(&c->filter, value, &err)) {
            cli_err("%s", err.msg);
            return -1;
        }
        return 0;
    case O_ERRORS: c->filter.errors_only = true; return 0;
    case O_OUTPUT: c->output = value; return 0;
    case O_QUERY: c->query = value; return 0;
    case O_MAX_ITEMS:
        if (parse_count(opt->name, value, &n))
            return -1;
        c->max_items = n;
        return 0;
    case O_THREADS:
        if (parse_count(opt->name, value, &n) || n > 256) {
            if (n > 256)
                cli_err("--threads '%s': at most 256", value);
            return -1;
        }
        c->threads = (int)n;
        return 0;
    case O_QUIET: cli_quiet = 1; return 0;
    case O_DEBUG: cli_debug = 1; return 0;
    }
    return 1;
}

char *cli_store_path(const cli_common *c)
{
    bt_error err = BT_ERROR_INIT;
    char *p = NULL;
    if (c->store)
        return strdup(c->store);
    if (bt_store_default_path(&p, &err)) {
        cli_err("%s", err.msg);
        return NULL;
    }
    return p;
}

void cli_progress_bar(double frac)
{
    int width = 24, fill = (int)(frac * width), k;
    fputs("\r\033[K[", stderr);
    for (k = 0; k < width; k++)
        fputc(k < fill ? '=' : (k == fill ? '>' : ' '), stderr);
    fputc(']', stderr);
}

/* A store upgrade's progress: nothing for the first second, then a bar on a terminal,
 * else one line when it starts and one when it ends. */
typedef struct upgrade_view {
    int64_t t0;
    int shown, tty;
} upgrade_view;

static void on_upgrade(void *ctx, uint64_t done, uint64_t total)
{
    upgrade_view *u = ctx;
    double secs = (double)(bt_time_mono_ms() - u->t0) / 1000.0;
    double frac = total ? (double)done / (double)total : 0;

    if (cli_quiet || (secs < 1.0 && !u->shown))
        return;
    if (!u->tty) {
        if (done == total)
            fprintf(stderr, "buildtrail: store upgraded in %.1f s\n", secs);
        else if (!u->shown)
            fputs("buildtrail: upgrading the store's schema (a big store takes seconds)\n", stderr);
        u->shown = 1;
        return;
    }
    u->shown = 1;
    cli_progress_bar(frac);
    fprintf(stderr, " %3.0f%% upgrading the store's schema, %.0f s", 100.0 * frac, secs);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

int cli_store_open(const char *path, unsigned flags, bt_store **out, bt_error *err)
{
    upgrade_view u;
    u.t0 = bt_time_mono_ms();
    u.shown = 0;
    u.tty = isatty(STDERR_FILENO);
    return bt_store_open_progress(path, flags, on_upgrade, &u, out, err);
}

bt_json *cli_time_value(bt_arena *a, int64_t ms)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *v = NULL;
    if (bt_format_iso8601_local(&b, ms) == 0)
        v = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return v;
}

void cli_debug_line(void *payload, const char *line)
{
    (void)payload;
    fprintf(stderr, "buildtrail: debug: %s\n", line);
}
