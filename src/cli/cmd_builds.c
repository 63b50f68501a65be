/* cmd_builds.c - `buildtrail builds`: one row per CodeBuild build reconstructed from
 * the store (trigger, source version, outcome and how it is known, duration, what the
 * build's role session did, who stopped it). The builds and their JSON come from the
 * library (builds.h); this file is options and the people's table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "builds_view.h"
#include "config.h"

enum { O_STATUS = 1, O_INITIATOR, O_TRIGGER, O_TOKEN, O_REVERSE };

static const cli_opt builds_opts[] = {
    {"project", 0, OPT_VALUE, "NAME", O_PROJECT, "Only builds of this project (repeatable)."},
    {"start-time", 0, OPT_VALUE, "TIME", O_START, "Only builds that started at or after TIME."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END, "Only builds that started at or before TIME."},
    {"status", 0, OPT_VALUE, "STATUS", O_STATUS,
     "Only builds with this outcome: SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED, IN_PROGRESS, "
     "or UNKNOWN, in any case (repeatable)."},
    {"initiator", 0, OPT_VALUE, "TEXT", O_INITIATOR,
     "Only builds whose trigger (caller ARN, initiator, pipeline) contains TEXT."},
    {"trigger", 0, OPT_VALUE, "TYPE", O_TRIGGER,
     "Only builds started this way: user, pipeline, webhook, retry, batch."},
    {"account", 0, OPT_VALUE, "ID", O_ACCOUNT, "Only builds in this account."},
    {"region", 0, OPT_VALUE, "REGION", O_REGION, "Only builds in this region."},
    {"errors", 0, OPT_FLAG, NULL, O_ERRORS, "Only builds whose role session had failed calls."},
};
static const cli_opt builds_out_opts[] = {
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "Default: a table for people. json, text, table, yaml, yaml-stream, csv as the AWS CLI "
     "prints them (schema in docs/builds.md); ndjson: one build per line; human: the table."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
    {"max-items", 0, OPT_VALUE, "N", O_MAX_ITEMS,
     "At most N builds. When there are more, the json ends with a NextToken (stderr says it "
     "for the table and ndjson) to give to --starting-token."},
    {"starting-token", 0, OPT_VALUE, "TOKEN", O_TOKEN,
     "Continue after the last build an earlier --max-items listing showed."},
    {"reverse", 0, OPT_FLAG, NULL, O_REVERSE, "Oldest first (default: newest first)."},
};
static const cli_group builds_group = CLI_GROUP("Filters", builds_opts);
static const cli_group builds_out_group = CLI_GROUP("Output", builds_out_opts);
static const cli_group *const builds_groups[] = {&builds_group, &builds_out_group, &cli_group_store,
                                                 NULL};

static int cmd_builds(int argc, char **argv);

const cli_cmd cmd_builds_def = {
    "builds",
    cmd_builds,
    "list CodeBuild builds: trigger, outcome, what each build did",
    "builds [--project P] [--start-time T] [--end-time T] [--status S] [--initiator X]",
    "Prints one row per CodeBuild build found in the store, newest first: build id, project, "
    "build number, start time; the trigger (a user or role ARN, a CodePipeline pipeline, a "
    "webhook, a retry of another build, or a batch parent); the source version; the outcome "
    "(SUCCEEDED, FAILED, STOPPED...) when known and how it is known (EventBridge state "
    "events, or a StopBuild record); the duration; how many API calls the build's role "
    "session AWSCodeBuild-<uuid> made and how many failed; and who stopped it. Builds are "
    "found from StartBuild, StartBuildBatch and RetryBuild responses, StopBuild and "
    "BatchGetBuilds requests, EventBridge state and phase events, and role sessions named "
    "AWSCodeBuild-<uuid> even when no StartBuild record exists (webhook builds: their "
    "trigger is then marked inferred).",
    builds_groups,
    "  buildtrail builds --project web-api --start-time 7d\n"
    "  buildtrail builds --status FAILED --errors\n"
    "  buildtrail builds --output json --query 'Builds[?Trigger.Type==`webhook`].BuildId'\n"};

typedef struct bctx {
    cli_common c;
    const char *status[16];
    char status_up[16][16];
    int nstatus;
    const char *initiator[16];
    int ninitiator;
    const char *trigger[8];
    int ntrigger;
    const char *token; /* --starting-token: "bt1:<uuid>" of the last build shown */
    int reverse;
    bt_arena *a;
    bt_json *list;
} bctx;

/* The --status value in capitals (into up), or NULL when it is not an outcome. */
static const char *status_name(const char *v, char up[16])
{
    static const char *const known[] = {"SUCCEEDED", "FAILED",      "FAULT",  "TIMED_OUT",
                                        "STOPPED",   "IN_PROGRESS", "UNKNOWN"};
    size_t i;
    for (i = 0; v[i] && i < 15; i++)
        up[i] = (char)toupper((unsigned char)v[i]);
    up[i] = 0;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(up, known[i]) == 0 && strlen(v) < 16)
            return up;
    return NULL;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    bctx *b = ctx;
    int rc = cli_common_opt(&b->c, o, v);
    if (rc <= 0)
        return rc;
    switch (o->id) {
    case O_STATUS:
        if (b->nstatus >= 16)
            goto many;
        if (!(b->status[b->nstatus] = status_name(v, b->status_up[b->nstatus]))) {
            cli_err("--status '%s': expected one of SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED, "
                    "IN_PROGRESS, UNKNOWN (any case)",
                    v);
            return -1;
        }
        b->nstatus++;
        return 0;
    case O_TOKEN:
        if (strncmp(v, "bt1:", 4) != 0 || strlen(v) != 40) {
            cli_err("--starting-token '%s': not a token this command printed", v);
            return -1;
        }
        b->token = v + 4;
        return 0;
    case O_REVERSE: b->reverse = 1; return 0;
    case O_INITIATOR:
        if (b->ninitiator >= 16)
            goto many;
        b->initiator[b->ninitiator++] = v;
        return 0;
    case O_TRIGGER:
        if (!bt_build_trigger_valid(v)) {
            cli_err("--trigger '%s': expected user, pipeline, webhook, retry or batch", v);
            return -1;
        }
        if (b->ntrigger >= 8)
            goto many;
        b->trigger[b->ntrigger++] = v;
        return 0;
    }
    return -1;
many:
    cli_err("--%s: too many values", o->name);
    return -1;
}

static int on_build(void *ctx, const bt_build *b)
{
    bctx *x = ctx;
    bt_json *j = bt_build_to_json(x->a, b);
    if (!j || bt_json_array_push(x->a, x->list, j))
        return BT_ENOMEM;
    return 0;
}

/* The query from the options (the shared filter and the builds' own lists). */
static void make_query(const bctx *x, bt_build_query *q)
{
    const bt_filter *f = &x->c.filter;
    unsigned i;
    bt_build_query_init(q);
    q->start_ms = f->start_ms;
    q->end_ms = f->end_ms;
    q->errors_only = f->errors_only;
    q->limit = x->token || x->reverse || !x->c.max_items ? 0 : x->c.max_items + 1;
    for (i = 0; i < f->nvalues[BT_F_PROJECT]; i++)
        q->projects[q->n_projects++] = f->values[BT_F_PROJECT][i];
    for (i = 0; i < f->nvalues[BT_F_ACCOUNT]; i++)
        q->accounts[q->n_accounts++] = f->values[BT_F_ACCOUNT][i];
    for (i = 0; i < f->nvalues[BT_F_REGION]; i++)
        q->regions[q->n_regions++] = f->values[BT_F_REGION][i];
    for (i = 0; i < (unsigned)x->nstatus; i++)
        q->statuses[q->n_statuses++] = x->status[i];
    for (i = 0; i < (unsigned)x->ntrigger; i++)
        q->triggers[q->n_triggers++] = x->trigger[i];
    for (i = 0; i < (unsigned)x->ninitiator; i++)
        q->initiators[q->n_initiators++] = x->initiator[i];
}

/* --reverse, --starting-token and --max-items on the listed builds (newest first from
 * the store): x->list becomes the page; a NextToken member is added to root when there
 * are more (and said on stderr for the formats that have no place for it). */
static int page(bctx *x, bt_json *root)
{
    bt_json *l = x->list;
    size_t i, start = 0, end = l->len, n = l->len;
    for (i = 0; x->reverse && i < n / 2; i++) {
        bt_json *t = l->u.items[i];
        l->u.items[i] = l->u.items[n - 1 - i];
        l->u.items[n - 1 - i] = t;
    }
    if (x->token) {
        for (i = 0; i < n; i++) {
            const char *u = bt_json_get_str(l->u.items[i], "Uuid");
            if (u && strcmp(u, x->token) == 0)
                break;
        }
        if (i == n) {
            cli_err("--starting-token: that build is not in this listing (were the filters "
                    "the same?)");
            return EXIT_USAGE;
        }
        start = i + 1;
    }
    if (x->c.max_items && end - start > x->c.max_items) {
        char tok[48];
        bt_json *t;
        end = start + (size_t)x->c.max_items;
        snprintf(tok, sizeof tok, "bt1:%s", bt_json_get_str(l->u.items[end - 1], "Uuid"));
        t = bt_json_new_string(x->a, tok, strlen(tok));
        if (!t || bt_json_object_put(x->a, root, "NextToken", 9, t))
            return (cli_err("out of memory"), EXIT_ERROR);
        if (!x->c.output || strcmp(x->c.output, "ndjson") == 0)
            cli_warn("more: continue with --starting-token %s", tok);
    }
    memmove(l->u.items, l->u.items + start, (end - start) * sizeof *l->u.items);
    l->len = end - start;
    return EXIT_OK;
}

static int cmd_builds(int argc, char **argv)
{
    bctx x;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK;
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_json *root;
    bt_build_query q;

    memset(&x, 0, sizeof x);
    cli_common_init(&x.c);
    rc = cli_parse(&cmd_builds_def, argc, argv, on_opt, &x, &pos, &npos);
    if (rc || npos) {
        if (npos)
            cli_err("builds: unexpected argument '%s' (use 'buildtrail build %s')", pos[0], pos[0]);
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    x.a = bt_arena_new(1 << 16, 0);
    x.list = x.a ? bt_json_new_array(x.a, 64) : NULL;
    root = x.a ? bt_json_new_object(x.a, 2) : NULL;
    if (!root || !x.list || bt_json_object_put(x.a, root, "Builds", 6, x.list)) {
        cli_err("out of memory");
        code = EXIT_ERROR;
        goto done;
    }
    if (!(path = cli_store_path(&x.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (cli_store_open(path, BT_STORE_READONLY, &store, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    make_query(&x, &q);
    rc = bt_store_builds_find(store, &q, on_build, &x, &err);
    if (rc < 0) {
        code = cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    if (!x.c.output && !x.c.query)
        x.c.output = cli_config_output();
    if (x.c.output && strcmp(x.c.output, "human") == 0)
        x.c.output = NULL;
    if ((code = page(&x, root)))
        goto done;
    if (x.c.output && strcmp(x.c.output, "ndjson") == 0)
        code = builds_print_ndjson(x.c.query, x.list);
    else if (x.c.output || x.c.query)
        code = cli_out_value(x.c.output ? x.c.output : "json", x.c.query, "Builds", root);
    else
        code = builds_view_print(x.list);
done:
    bt_store_close(store);
    bt_arena_free(x.a);
    free(path);
    free(pos);
    return code;
}
