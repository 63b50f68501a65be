/* cmd_builds.c - `buildtrail builds`: one row per CodeBuild build reconstructed from
 * the store (trigger, source version, outcome and how it is known, duration, what the
 * build's role session did, who stopped it). Also the build-to-JSON conversion that
 * `build` shares. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"

enum { O_STATUS = 1, O_INITIATOR, O_TRIGGER };

static const cli_opt builds_opts[] = {
    {"project", 0, OPT_VALUE, "NAME", O_PROJECT, "Only builds of this project (repeatable)."},
    {"start-time", 0, OPT_VALUE, "TIME", O_START, "Only builds that started at or after TIME."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END, "Only builds that started at or before TIME."},
    {"status", 0, OPT_VALUE, "STATUS", O_STATUS,
     "Only builds with this outcome: SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED, IN_PROGRESS, "
     "or UNKNOWN (repeatable)."},
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
     "prints them (schema in docs/builds.md)."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
    {"max-items", 0, OPT_VALUE, "N", O_MAX_ITEMS, "At most N builds (newest first)."},
};
static const cli_group builds_group = CLI_GROUP("Filters", builds_opts);
static const cli_group builds_out_group = CLI_GROUP("Output", builds_out_opts);
static const cli_group *const builds_groups[] = {&builds_group, &builds_out_group,
                                                 &cli_group_store, NULL};

static int cmd_builds(int argc, char **argv);

const cli_cmd cmd_builds_def = {
    "builds", cmd_builds, "list CodeBuild builds: trigger, outcome, what each build did",
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
    int nstatus;
    const char *initiator[16];
    int ninitiator;
    const char *trigger[8];
    int ntrigger;
    bt_arena *a;
    bt_json *list;
    uint64_t n;
} bctx;

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
        b->status[b->nstatus++] = v;
        return 0;
    case O_INITIATOR:
        if (b->ninitiator >= 16)
            goto many;
        b->initiator[b->ninitiator++] = v;
        return 0;
    case O_TRIGGER:
        if (strcmp(v, "user") && strcmp(v, "pipeline") && strcmp(v, "webhook") &&
            strcmp(v, "retry") && strcmp(v, "batch")) {
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

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

static bt_json *jstr(bt_arena *a, const char *s)
{
    return s ? bt_json_new_string(a, s, strlen(s)) : bt_json_new_null(a);
}

static bt_json *jtime(bt_arena *a, int64_t ms)
{
    return ms ? cli_time_value(a, ms) : bt_json_new_null(a);
}

const char *cli_build_pipeline(const bt_build *b)
{
    if (b->initiator && strncmp(b->initiator, "codepipeline/", 13) == 0)
        return b->initiator + 13;
    return NULL;
}

int64_t cli_build_end(const bt_build *b, int *estimated)
{
    *estimated = 0;
    if (b->end_ms)
        return b->end_ms;
    if (b->stop_ms)
        return b->stop_ms;
    if (b->last_call_ms) {
        *estimated = 1;
        return b->last_call_ms;
    }
    return 0;
}

bt_json *cli_build_to_json(bt_arena *a, const bt_build *b)
{
    bt_json *o = bt_json_new_object(a, 20), *t = bt_json_new_object(a, 8), *ov;
    int64_t end;
    int est;

    if (!o || !t)
        return NULL;
    end = cli_build_end(b, &est);
    if (put(a, o, "BuildId", jstr(a, b->build_id)) || put(a, o, "Uuid", jstr(a, b->uuid)) ||
        put(a, o, "Batch", bt_json_new_bool(a, b->is_batch)) ||
        put(a, o, "Project", jstr(a, b->project)) || put(a, o, "Account", jstr(a, b->account)) ||
        put(a, o, "Region", jstr(a, b->region)) ||
        put(a, o, "BuildNumber", b->number >= 0 ? bt_json_new_number(a, (double)b->number)
                                                : bt_json_new_null(a)) ||
        put(a, o, "StartTime", jtime(a, b->start_ms)))
        return NULL;
    if (put(a, t, "Type", jstr(a, b->trigger_type)) ||
        put(a, t, "Inferred", bt_json_new_bool(a, b->trigger_inferred)) ||
        put(a, t, "Principal", jstr(a, b->trigger_principal)) ||
        put(a, t, "Initiator", jstr(a, b->initiator)) ||
        put(a, t, "Pipeline", jstr(a, cli_build_pipeline(b))) ||
        put(a, t, "RetryOf", jstr(a, b->retry_of)) ||
        put(a, t, "BatchUuid", jstr(a, b->batch_uuid)) || put(a, o, "Trigger", t))
        return NULL;
    ov = bt_json_new_array(a, 4);
    if (!ov)
        return NULL;
    if (b->overrides) {
        const char *p = b->overrides;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (bt_json_array_push(a, ov, bt_json_new_string(a, p, n)))
                return NULL;
            p += n + (e ? 1 : 0);
        }
    }
    if (put(a, o, "SourceVersion", jstr(a, b->source_version)) || put(a, o, "Overrides", ov) ||
        put(a, o, "Outcome", jstr(a, b->status)) ||
        put(a, o, "OutcomeSource", jstr(a, b->status_source)) ||
        put(a, o, "EndTime", jtime(a, end)) ||
        put(a, o, "EndTimeEstimated", bt_json_new_bool(a, est)) ||
        put(a, o, "DurationSeconds", end && b->start_ms && end >= b->start_ms
                                         ? bt_json_new_number(a, (double)((end - b->start_ms) / 1000))
                                         : bt_json_new_null(a)) ||
        put(a, o, "Calls", bt_json_new_number(a, (double)b->calls)) ||
        put(a, o, "Errors", bt_json_new_number(a, (double)b->errors)) ||
        put(a, o, "StoppedBy", jstr(a, b->stop_principal)) ||
        put(a, o, "StopTime", jtime(a, b->stop_ms)))
        return NULL;
    return o;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static int on_build(void *ctx, const bt_build *b)
{
    bctx *x = ctx;
    const bt_filter *f = &x->c.filter;
    unsigned i;
    int ok;
    bt_json *j;

    if (x->c.max_items && x->n >= x->c.max_items)
        return 1;
    if (b->start_ms < f->start_ms || b->start_ms > f->end_ms)
        return 0;
#define ANY(field, val)                                                                        \
    if (f->nvalues[field]) {                                                                   \
        ok = 0;                                                                                \
        for (i = 0; i < f->nvalues[field]; i++)                                                \
            if ((val) && strcmp(f->values[field][i], (val)) == 0)                              \
                ok = 1;                                                                        \
        if (!ok)                                                                               \
            return 0;                                                                          \
    }
    ANY(BT_F_PROJECT, b->project)
    ANY(BT_F_ACCOUNT, b->account)
    ANY(BT_F_REGION, b->region)
#undef ANY
    if (f->errors_only && !b->errors)
        return 0;
    if (x->nstatus) {
        ok = 0;
        for (i = 0; i < (unsigned)x->nstatus; i++)
            if ((b->status && strcmp(b->status, x->status[i]) == 0) ||
                (!b->status && strcmp(x->status[i], "UNKNOWN") == 0))
                ok = 1;
        if (!ok)
            return 0;
    }
    if (x->ntrigger) {
        ok = 0;
        for (i = 0; i < (unsigned)x->ntrigger; i++)
            if (b->trigger_type && strcmp(b->trigger_type, x->trigger[i]) == 0)
                ok = 1;
        if (!ok)
            return 0;
    }
    if (x->ninitiator) {
        ok = 0;
        for (i = 0; i < (unsigned)x->ninitiator; i++)
            if (contains(b->trigger_principal, x->initiator[i]) ||
                contains(b->initiator, x->initiator[i]))
                ok = 1;
        if (!ok)
            return 0;
    }
    j = cli_build_to_json(x->a, b);
    if (!j || bt_json_array_push(x->a, x->list, j))
        return BT_ENOMEM;
    x->n++;
    return 0;
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

static void print_people(const bt_json *list)
{
    size_t i;
    int color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    printf("%-20s %-52s %5s %-26s %-12s %-10s %8s %6s %4s\n", "START", "BUILD", "#", "TRIGGER",
           "SOURCE", "OUTCOME", "DURATION", "CALLS", "ERR");
    for (i = 0; i < list->len; i++) {
        const bt_json *b = list->u.items[i], *v;
        char trig[64], dur[16] = "-", num[16] = "-", when[32] = "-";
        const char *out = bt_json_get_str(b, "Outcome"), *st = bt_json_get_str(b, "StartTime");
        const char *col = "";
        if ((v = bt_json_get(b, "DurationSeconds")) && v->type == BT_JSON_NUMBER)
            snprintf(dur, sizeof dur, "%dm%02ds", (int)v->num / 60, (int)v->num % 60);
        if ((v = bt_json_get(b, "BuildNumber")) && v->type == BT_JSON_NUMBER)
            snprintf(num, sizeof num, "%.0f", v->num);
        if (st)
            snprintf(when, sizeof when, "%.19s", st);
        trigger_words(b, trig, sizeof trig);
        if (color && out)
            col = strcmp(out, "SUCCEEDED") == 0 ? "\033[32m"
                  : strcmp(out, "IN_PROGRESS") == 0 ? "\033[33m" : "\033[31m";
        printf("%-20s %-52.52s %5s %-26.26s %-12.12s %s%-10s%s %8s %6.0f %4.0f%s\n", when,
               bt_json_get_str(b, "BuildId") ? bt_json_get_str(b, "BuildId")
                                             : bt_json_get_str(b, "Uuid"),
               num, trig,
               bt_json_get_str(b, "SourceVersion") ? bt_json_get_str(b, "SourceVersion") : "-",
               col, out ? out : "?", color && out ? "\033[0m" : "", dur,
               bt_json_get(b, "Calls")->num, bt_json_get(b, "Errors")->num,
               bt_json_get_str(b, "StoppedBy") ? "  stopped" : "");
    }
}

static int cmd_builds(int argc, char **argv)
{
    bctx x;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK;
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_json *root;

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
    rc = bt_store_builds(store, NULL, on_build, &x, &err);
    if (rc < 0) {
        code = cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    if (x.c.output || x.c.query)
        code = cli_out_value(x.c.output ? x.c.output : "json", x.c.query, "Builds", root);
    else
        print_people(x.list);
done:
    bt_store_close(store);
    bt_arena_free(x.a);
    free(path);
    free(pos);
    return code;
}
