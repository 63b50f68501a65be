/* build_live.c - `buildtrail build <id> --live`: the facts of the stored timeline
 * gathered from the event history instead. LookupEvents with
 * Username=AWSCodeBuild-<uuid> (filtered by the service) brings the calls the build's
 * role session made; StartBuild / RetryBuild / StartBuildBatch / StopBuild records
 * around the build, and the project's changes in the week before, come from
 * EventName lookups; everything fetched goes into a private temporary store, so the
 * timeline is built by exactly the code of `build` over a store. CodeBuild
 * BatchGetBuilds (JSON 1.1, CodeBuild_20161006) adds the phases and the status when
 * the caller may read them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/aws.h"
#include "buildtrail/format.h"
#include "buildtrail/lookup.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "build_live.h"
#include "lookup_cli.h"

/* the records about a build made by others: its start, retry, stop, and the
 * BatchGetBuilds polls of pipelines and people */
static const char *const lifecycle_names[] = {"StartBuild", "RetryBuild",     "StartBuildBatch",
                                              "StopBuild",  "StopBuildBatch", "BatchGetBuilds"};
static const char *const change_names[] = {
    "CreateProject",   "UpdateProject",   "UpdateProjectVisibility", "CreateWebhook",
    "UpdateWebhook",   "DeleteWebhook",   "ImportSourceCredentials", "DeleteSourceCredentials",
    "PutResourcePolicy"};

void build_live_init(build_live *l)
{
    memset(l, 0, sizeof l[0]);
}

void build_live_dispose(build_live *l)
{
    if (l->store_path[0]) {
        char wal[sizeof l->store_path + 8];
        unlink(l->store_path);
        snprintf(wal, sizeof wal, "%s-wal", l->store_path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", l->store_path);
        unlink(wal);
        if (l->dir[0])
            rmdir(l->dir);
    }
    bt_arena_free(l->a);
    bt_aws_client_free(l->cli);
}

int build_live_opt(build_live *l, int id, const char *v)
{
    switch (id) {
    case BL_LIVE: l->on = 1; return 0;
    case BL_REGION: l->region = v; return 0;
    case BL_PROFILE: l->profile = v; return 0;
    case BL_ENDPOINT: l->endpoint = v; return 0;
    case BL_CB_ENDPOINT: l->cb_endpoint = v; return 0;
    case BL_START:
    case BL_END: {
        bt_error err = BT_ERROR_INIT;
        int64_t ms;
        if (bt_time_parse_user(v, bt_time_now_ms(), &ms, &err)) {
            cli_err("--%s %s", id == BL_START ? "start-time" : "end-time", err.msg);
            return -1;
        }
        if (id == BL_START)
            l->start_ms = ms;
        else
            l->end_ms = ms;
        return 0;
    }
    }
    return 1;
}

typedef struct fetch_ctx {
    build_live *l;
    bt_store *s;
    bt_error *err;
} fetch_ctx;

/* One page into the store, and what it says about the build. */
static int on_page(void *payload, const bt_ct_page_view *v)
{
    fetch_ctx *f = payload;
    build_live *l = f->l;
    const bt_ct_lookup_page *pg = v->page;
    size_t i;
    int rc;
    l->calls++;
    if ((rc = bt_store_begin(f->s, f->err)))
        return rc;
    for (i = 0; i < pg->nevents && rc == 0; i++) {
        bt_event ev;
        int is_new;
        bt_error e2 = BT_ERROR_INIT;
        if (bt_ct_event_record(v->arena, &pg->events[i], &ev, &e2))
            continue;
        rc = bt_store_add(f->s, &ev, &is_new, f->err);
        l->events += (uint64_t)is_new;
        if (ev.actor_uuid && strcmp(ev.actor_uuid, l->uuid) == 0) {
            if (!l->first_call_ms || ev.time_ms < l->first_call_ms)
                l->first_call_ms = ev.time_ms;
            if (ev.time_ms > l->last_call_ms)
                l->last_call_ms = ev.time_ms;
        }
        if (!l->project[0] && ev.build_uuid && strcmp(ev.build_uuid, l->uuid) == 0 && ev.project)
            snprintf(l->project, sizeof l->project, "%s", ev.project);
    }
    if (rc == 0)
        rc = bt_store_commit(f->s, f->err);
    if (rc)
        bt_store_rollback(f->s);
    return rc;
}

/* One lookup (all pages) into the store. */
static int fetch(build_live *l, bt_store *s, const char *key, const char *value, int64_t from_ms,
                 int64_t to_ms, bt_error *err)
{
    bt_ct_lookup_request req;
    fetch_ctx f = {l, s, err};
    int rc;

    memset(&req, 0, sizeof req);
    req.attr_key = key;
    req.attr_value = value;
    req.start_time = from_ms > 0 ? from_ms / 1000 : 0;
    req.end_time = to_ms > 0 ? (to_ms + 999) / 1000 : 0;
    req.max_results = 50;
    rc = bt_ct_lookup_pages(l->cli, &req, NULL, on_page, &f, NULL, err);
    if (cli_debug)
        fprintf(stderr, "buildtrail: debug: build --live: LookupEvents %s=%s: %s\n", key, value,
                rc ? err->msg : "done");
    return rc;
}

/* A CodeBuild timestamp: epoch seconds as the service sends them, or an ISO 8601
 * string (some peers, e.g. moto, send those). 0 when absent. */
static int64_t num_ms(const bt_json *o, const char *k)
{
    const bt_json *v = bt_json_get(o, k);
    int64_t ms = 0;
    if (v && v->type == BT_JSON_NUMBER)
        return (int64_t)(v->num * 1000.0 + 0.5);
    if (v && v->type == BT_JSON_STRING && bt_time_parse_iso(v->u.str, v->len, &ms) == 0)
        return ms;
    return 0;
}

/* BatchGetBuilds for project:uuid; a refusal is a note, not a failure. */
static void batch_get(build_live *l)
{
    bt_cb_builds out;
    bt_error err = BT_ERROR_INIT;
    char id[400];
    const char *ids[1];
    if (!l->project[0] || l->build)
        return;
    snprintf(id, sizeof id, "%s:%s", l->project, l->uuid);
    ids[0] = id;
    if (bt_cb_batch_get_builds(l->cli, ids, 1, l->a, &out, &err)) {
        snprintf(l->cb_note, sizeof l->cb_note, "%s", err.msg);
        return;
    }
    if (out.builds && out.builds->len) {
        l->build = out.builds->u.items[0];
        l->cb_start_ms = num_ms(l->build, "startTime");
        l->cb_end_ms = num_ms(l->build, "endTime");
    } else {
        snprintf(l->cb_note, sizeof l->cb_note, "BatchGetBuilds: build '%s' not found", id);
    }
}

int build_live_prepare(build_live *l, const char *arg, const char *uuid, const char **store_path)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_store *s = NULL;
    const char *colon, *slash;
    char session[64];
    int64_t t0, t1;
    size_t i;
    int code = 0;

    snprintf(l->uuid, sizeof l->uuid, "%s", uuid);
    /* the project, when the argument names it: project:uuid or .../build/project:uuid */
    slash = strrchr(arg, '/');
    colon = strrchr(slash ? slash + 1 : arg, ':');
    if (colon && colon != (slash ? slash + 1 : arg) && strncmp(arg, "arn:", 4) != 0)
        snprintf(l->project, sizeof l->project, "%.*s", (int)(colon - arg), arg);
    else if (slash && colon)
        snprintf(l->project, sizeof l->project, "%.*s", (int)(colon - slash - 1), slash + 1);
    if (!(l->a = bt_arena_new(1 << 16, 0)))
        return EXIT_ERROR;
    cfg.profile = l->profile;
    cfg.region = l->region;
    cfg.user_agent = "buildtrail build --live";
    if (bt_aws_client_new(&l->cli, &cfg, &err)) {
        cli_err("build --live: %s", err.msg);
        return EXIT_ERROR;
    }
    if ((l->endpoint && bt_aws_client_set_endpoint(l->cli, "cloudtrail", l->endpoint, &err)) ||
        (l->cb_endpoint && bt_aws_client_set_endpoint(l->cli, "codebuild", l->cb_endpoint, &err))) {
        cli_err("build --live: %s", err.msg);
        return EXIT_USAGE;
    }
    snprintf(l->dir, sizeof l->dir, "%s/buildtrail-live.XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(l->dir)) {
        l->dir[0] = '\0';
        cli_err("build --live: cannot create a temporary directory");
        return EXIT_ERROR;
    }
    snprintf(l->store_path, sizeof l->store_path, "%s/events.db", l->dir);
    if (bt_store_open(l->store_path, 0, &s, &err)) {
        cli_err("build --live: %s", err.msg);
        return EXIT_ERROR;
    }
    /* 1. the build itself, when CodeBuild lets us read it: times bound the lookups */
    batch_get(l);
    /* 2. every call of the build's role session, filtered by the service */
    snprintf(session, sizeof session, "AWSCodeBuild-%s", uuid);
    t0 = l->start_ms ? l->start_ms : l->cb_start_ms ? l->cb_start_ms - 3600000 : 0;
    t1 = l->end_ms ? l->end_ms : l->cb_end_ms ? l->cb_end_ms + 3600000 : 0;
    if (fetch(l, s, BT_CT_ATTR_USERNAME, session, t0, t1, &err))
        goto fail;
    /* 3. the start, retry and stop records around the build */
    t0 = l->cb_start_ms ? l->cb_start_ms : l->first_call_ms;
    t1 = l->cb_end_ms ? l->cb_end_ms : l->last_call_ms;
    if (t0 || l->start_ms) {
        int64_t from = (l->start_ms ? l->start_ms : t0) - 3600000;
        int64_t to = (l->end_ms ? l->end_ms : t1 ? t1 : t0) + 3600000;
        for (i = 0; i < sizeof lifecycle_names / sizeof lifecycle_names[0]; i++) {
            /* starts over the week before too: the project's previous build bounds the
             * window of project changes, as in the stored timeline */
            int64_t f = i < 3 ? from - 7 * 86400000LL : from;
            if (fetch(l, s, BT_CT_ATTR_EVENT_NAME, lifecycle_names[i], f, to, &err))
                goto fail;
        }
        /* the project is known now if a StartBuild named the build */
        batch_get(l);
        /* 4. the project's changes before the build: its definition (CreateProject,
         * UpdateProject) over the whole history, the other changes over the week before */
        if (l->project[0]) {
            int64_t start = l->cb_start_ms ? l->cb_start_ms : t0;
            for (i = 0; i < sizeof change_names / sizeof change_names[0]; i++)
                if (fetch(l, s, BT_CT_ATTR_EVENT_NAME, change_names[i],
                          i < 2 ? 0 : start - 7 * 86400000LL, start, &err))
                    goto fail;
        }
    }
    if (cli_debug)
        fprintf(stderr,
                "buildtrail: debug: build --live: %llu LookupEvents calls, %llu events; %s\n",
                (unsigned long long)l->calls, (unsigned long long)l->events,
                l->build ? "BatchGetBuilds: found" : l->cb_note);
    bt_store_close(s);
    *store_path = l->store_path;
    return 0;
fail:
    if (err.code == BT_EAWS) {
        char msg[BT_ERROR_MSG_MAX + 200];
        lk_service_error(&err, msg, sizeof msg);
        cli_err("build --live: %s", msg);
    } else {
        cli_err("build --live: %s", err.msg);
    }
    code = err.code == BT_ECRED || err.code == BT_ECONFIG ? EXIT_AWS_CONFIG
           : err.code == BT_EAWS                          ? EXIT_AWS_SERVICE
                                                          : EXIT_ERROR;
    bt_store_close(s);
    return code;
}

static const char *cb_str(const bt_json *o, const char *k)
{
    return bt_json_get_str(o, k);
}

int build_live_summary(build_live *l, bt_build *b)
{
    const bt_json *cb = l->build;
    const char *st;
    if (!cb)
        return 0;
    if (!b->uuid[0])
        snprintf(b->uuid, sizeof b->uuid, "%s", l->uuid);
    if (!b->build_id)
        b->build_id = cb_str(cb, "id");
    if (!b->project)
        b->project = cb_str(cb, "projectName");
    if (b->number < 0 && bt_json_get(cb, "buildNumber") &&
        bt_json_get(cb, "buildNumber")->type == BT_JSON_NUMBER)
        b->number = (int64_t)bt_json_get(cb, "buildNumber")->num;
    if (!b->start_ms)
        b->start_ms = l->cb_start_ms;
    if (!b->initiator)
        b->initiator = cb_str(cb, "initiator");
    if (!b->source_version)
        b->source_version = cb_str(cb, "sourceVersion");
    st = cb_str(cb, "buildStatus");
    if (st && (!b->status || strcmp(b->status, st) != 0)) {
        /* CodeBuild's own word is the final one */
        b->status = st;
        b->status_source = "batchgetbuilds";
    }
    if (l->cb_end_ms && !b->end_ms)
        b->end_ms = l->cb_end_ms;
    return 0;
}

static bt_json *jtime(bt_arena *a, int64_t ms)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *v = NULL;
    if (!ms)
        return bt_json_new_null(a);
    if (bt_format_iso8601_local(&b, ms) == 0)
        v = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return v;
}

static bt_json *js(bt_arena *a, const char *s)
{
    return s ? bt_json_new_string(a, s, strlen(s)) : bt_json_new_null(a);
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

int build_live_decorate(build_live *l, bt_arena *a, bt_json *root)
{
    bt_json *live = bt_json_new_object(a, 8), *phases = bt_json_new_array(a, 12);
    const bt_json *cb = l->build, *ph = cb ? bt_json_get(cb, "phases") : NULL;
    size_t i;
    if (!live || !phases)
        return BT_ENOMEM;
    for (i = 0; ph && ph->type == BT_JSON_ARRAY && i < ph->len; i++) {
        const bt_json *p = ph->u.items[i], *d = bt_json_get(p, "durationInSeconds");
        bt_json *o = bt_json_new_object(a, 5);
        if (!o || put(a, o, "Phase", js(a, cb_str(p, "phaseType"))) ||
            put(a, o, "Status", js(a, cb_str(p, "phaseStatus"))) ||
            put(a, o, "StartTime", jtime(a, num_ms(p, "startTime"))) ||
            put(a, o, "EndTime", jtime(a, num_ms(p, "endTime"))) ||
            put(a, o, "DurationSeconds",
                d && d->type == BT_JSON_NUMBER ? bt_json_new_number(a, d->num) : bt_json_new_null(a)) ||
            bt_json_array_push(a, phases, o))
            return BT_ENOMEM;
    }
    if (put(a, live, "LookupEventsCalls", bt_json_new_number(a, (double)l->calls)) ||
        put(a, live, "EventsFetched", bt_json_new_number(a, (double)l->events)) ||
        put(a, live, "BatchGetBuilds", bt_json_new_bool(a, cb != NULL)) ||
        put(a, live, "BuildStatus", js(a, cb ? cb_str(cb, "buildStatus") : NULL)) ||
        put(a, live, "CurrentPhase", js(a, cb ? cb_str(cb, "currentPhase") : NULL)) ||
        put(a, live, "ResolvedSourceVersion",
            js(a, cb ? cb_str(cb, "resolvedSourceVersion") : NULL)) ||
        put(a, live, "Note", js(a, cb ? NULL : l->cb_note[0] ? l->cb_note : NULL)) ||
        put(a, live, "Phases", phases) || put(a, root, "Live", live))
        return BT_ENOMEM;
    return 0;
}

void build_live_print(const build_live *l, FILE *f)
{
    const bt_json *cb = l->build, *ph = cb ? bt_json_get(cb, "phases") : NULL;
    size_t i;
    fprintf(f, "\nLive: %llu LookupEvents calls, %llu events", (unsigned long long)l->calls,
            (unsigned long long)l->events);
    if (!cb) {
        fprintf(f, "; no phases (%s)\n", l->cb_note[0] ? l->cb_note : "BatchGetBuilds not asked");
        return;
    }
    fprintf(f, "; BatchGetBuilds: %s, current phase %s\n",
            cb_str(cb, "buildStatus") ? cb_str(cb, "buildStatus") : "?",
            cb_str(cb, "currentPhase") ? cb_str(cb, "currentPhase") : "?");
    for (i = 0; ph && ph->type == BT_JSON_ARRAY && i < ph->len; i++) {
        const bt_json *p = ph->u.items[i], *d = bt_json_get(p, "durationInSeconds");
        bt_buf t = BT_BUF_INIT;
        int64_t ms = num_ms(p, "startTime");
        if (ms)
            bt_format_iso8601_local(&t, ms);
        fprintf(f, "  %-25s  %-18s %-12s", t.data ? t.data : "", cb_str(p, "phaseType") ? cb_str(p, "phaseType") : "?",
                cb_str(p, "phaseStatus") ? cb_str(p, "phaseStatus") : "");
        if (d && d->type == BT_JSON_NUMBER)
            fprintf(f, " %.0f s", d->num);
        fputc('\n', f);
        bt_buf_dispose(&t);
    }
}
