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
#include "table.h"

enum { O_STATUS = 1, O_INITIATOR, O_TRIGGER };

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
     "prints them (schema in docs/builds.md); ndjson: one build per line."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
    {"max-items", 0, OPT_VALUE, "N", O_MAX_ITEMS, "At most N builds (newest first)."},
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
    q->limit = x->c.max_items;
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

/* The trigger in a few words, for the people's table. */
static void trigger_words(const bt_json *b, char *out, size_t n)
{
    const bt_json *t = bt_json_get(b, "Trigger");
    const char *type = bt_json_get_str(t, "Type"), *p;
    int inferred = bt_json_get(t, "Inferred") && bt_json_get(t, "Inferred")->type == BT_JSON_TRUE;
    if (!type)
        type = "?";
    if (strcmp(type, "pipeline") == 0 && (p = bt_json_get_str(t, "Pipeline")))
        snprintf(out, n, "pipeline %s", p);
    else if (strcmp(type, "retry") == 0 && (p = bt_json_get_str(t, "RetryOf")))
        snprintf(out, n, "retry of %s", p);
    else if (strcmp(type, "batch") == 0 && (p = bt_json_get_str(t, "BatchUuid")))
        snprintf(out, n, "batch %.8s", p);
    else if ((p = bt_json_get_str(t, "Principal")))
        snprintf(out, n, "%s", strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
    else if ((p = bt_json_get_str(t, "Initiator")))
        snprintf(out, n, "%s%s", p, inferred ? " (inferred)" : "");
    else
        snprintf(out, n, "%s%s", type, inferred ? " (no StartBuild)" : "");
}

/* --output ndjson: each build's JSON on one line. Returns an exit code. */
static int print_ndjson(const char *query, const bt_json *list)
{
    bt_json_write_opts wo = {0, 0};
    bt_buf b = BT_BUF_INIT;
    size_t i;
    int rc = 0;
    if (query) {
        cli_err("--query does not apply to --output ndjson");
        return EXIT_USAGE;
    }
    for (i = 0; i < list->len && !rc; i++) {
        bt_buf_clear(&b);
        rc = bt_json_write(&b, list->u.items[i], &wo) || bt_buf_putc(&b, '\n') ||
             fwrite(b.data, 1, b.len, stdout) != b.len;
    }
    bt_buf_dispose(&b);
    if (rc || fflush(stdout)) {
        cli_err("cannot write the output");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* When every start time has the same UTC offset ("+00:00"), it goes once into the
 * header: 1 and zone filled; else 0. */
static int common_zone(const bt_json *list, char zone[8])
{
    size_t i;
    zone[0] = 0;
    for (i = 0; i < list->len; i++) {
        const char *st = bt_json_get_str(list->u.items[i], "StartTime");
        size_t n = st ? strlen(st) : 0;
        if (n != 25)
            return 0;
        if (!zone[0])
            memcpy(zone, st + 19, 7);
        else if (strcmp(zone, st + 19) != 0)
            return 0;
    }
    return zone[0] != 0;
}

/* The people's table (table.c): ids whole, the trigger, source and stopper shortened
 * first when the terminal is narrow. Returns an exit code. */
static int print_people(const bt_json *list)
{
    static const struct {
        const char *h;
        double w;
        int fl;
    } cols[] = {{"START", 0, 0},
                {"BUILD", 0, 0},
                {"#", 0, CT_RIGHT},
                {"TRIGGER", 0.2, CT_TRUNC},
                {"SOURCE", 0.05, CT_TRUNC},
                {"OUTCOME", 0, 0},
                {"TOOK", 0, CT_RIGHT},
                {"CALLS", 0, CT_RIGHT},
                {"ERR", 0, CT_RIGHT}};
    cli_table *t = cli_table_new();
    size_t i, c;
    char head[32], zone[8];
    int rc = t ? 0 : -1, one_zone = common_zone(list, zone);
    snprintf(head, sizeof head, one_zone ? "START (%s)" : "START", zone);
    for (c = 0; c < sizeof cols / sizeof cols[0] && !rc; c++)
        rc = cli_table_col(t, c ? cols[c].h : head, cols[c].w, cols[c].fl);
    for (i = 0; i < list->len && !rc; i++) {
        const bt_json *b = list->u.items[i], *v;
        char trig[256], dur[16] = "-", num[16] = "-", calls[24], errs[24], when[40] = "-";
        const char *out = bt_json_get_str(b, "Outcome"), *st = bt_json_get_str(b, "StartTime");
        const char *id = bt_json_get_str(b, "BuildId") ? bt_json_get_str(b, "BuildId")
                                                       : bt_json_get_str(b, "Uuid");
        const char *col = !out                              ? NULL
                          : strcmp(out, "SUCCEEDED") == 0   ? "\033[32m"
                          : strcmp(out, "IN_PROGRESS") == 0 ? "\033[33m"
                                                            : "\033[31m";
        if ((v = bt_json_get(b, "DurationSeconds")) && v->type == BT_JSON_NUMBER)
            snprintf(dur, sizeof dur, "%dm%02ds", (int)v->num / 60, (int)v->num % 60);
        if ((v = bt_json_get(b, "BuildNumber")) && v->type == BT_JSON_NUMBER)
            snprintf(num, sizeof num, "%.0f", v->num);
        snprintf(calls, sizeof calls, "%.0f", bt_json_get(b, "Calls")->num);
        snprintf(errs, sizeof errs, "%.0f", bt_json_get(b, "Errors")->num);
        trigger_words(b, trig, sizeof trig);
        if (st)
            snprintf(when, sizeof when, "%.*s", one_zone ? 19 : (int)strlen(st), st);
        if (one_zone && strlen(when) > 10)
            when[10] = ' ';
        rc = cli_table_row(t) || cli_table_set(t, 0, when, NULL) || cli_table_set(t, 1, id, NULL) ||
             cli_table_set(t, 2, num, NULL) || cli_table_set(t, 3, trig, NULL) ||
             cli_table_set(t, 4, bt_json_get_str(b, "SourceVersion"), NULL) ||
             cli_table_set(t, 5, out ? out : "?", col) || cli_table_set(t, 6, dur, NULL) ||
             cli_table_set(t, 7, calls, NULL) || cli_table_set(t, 8, errs, NULL);
    }
    if (!rc)
        rc = cli_table_print(t, stdout);
    cli_table_free(t);
    if (rc) {
        cli_err("cannot write the table");
        return EXIT_ERROR;
    }
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
    root = x.a ? bt_json_new_object(x.a, 1) : NULL;
    if (!root || !x.list || bt_json_object_put(x.a, root, "Builds", 6, x.list)) {
        cli_err("out of memory");
        code = EXIT_ERROR;
        goto done;
    }
    if (!(path = cli_store_path(&x.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (bt_store_open(path, BT_STORE_READONLY, &store, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    make_query(&x, &q);
    rc = bt_store_builds_find(store, &q, on_build, &x, &err);
    if (rc < 0) {
        code = cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    if (x.c.output && strcmp(x.c.output, "ndjson") == 0)
        code = print_ndjson(x.c.query, x.list);
    else if (x.c.output || x.c.query)
        code = cli_out_value(x.c.output ? x.c.output : "json", x.c.query, "Builds", root);
    else
        code = print_people(x.list);
done:
    bt_store_close(store);
    bt_arena_free(x.a);
    free(path);
    free(pos);
    return code;
}
