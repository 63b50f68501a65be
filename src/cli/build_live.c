/* build_live.c - `buildtrail build <id> --live`: the options, the AWS client, and the
 * LookupEvents function (fetch: one lookup, all pages, into the store) that the library's
 * live timeline (bt_build_timeline_live, src/core/timeline_live.c) calls to gather the
 * build's events from the event history; the people's rendering of what it gathered. */
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

/* the library's gathering state, under the name fetch knows it by */
typedef bt_timeline_live_state build_live;

int build_live_opt(build_live_opts *l, int id, const char *v)
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

/* The project, when the argument names it: project:uuid or .../build/project:uuid. */
static void project_of(const char *arg, char *out, size_t cap)
{
    const char *slash = strrchr(arg, '/'), *colon;
    colon = strrchr(slash ? slash + 1 : arg, ':');
    out[0] = '\0';
    if (colon && colon != (slash ? slash + 1 : arg) && strncmp(arg, "arn:", 4) != 0)
        snprintf(out, cap, "%.*s", (int)(colon - arg), arg);
    else if (slash && colon)
        snprintf(out, cap, "%.*s", (int)(colon - slash - 1), slash + 1);
}

/* A failure of the gathering, as the AWS CLI words a failed LookupEvents; the exit code. */
static int live_fail(const bt_error *err)
{
    char msg[BT_ERROR_MSG_MAX + 200];
    if (err->code == BT_EAWS) {
        lk_service_error(err, msg, sizeof msg);
        cli_err("build --live: %s", msg);
    } else {
        cli_err("build --live: %s", err->msg);
    }
    return err->code == BT_ECRED || err->code == BT_ECONFIG ? EXIT_AWS_CONFIG
           : err->code == BT_EAWS                           ? EXIT_AWS_SERVICE
                                                            : EXIT_ERROR;
}

int build_live_timeline(const build_live_opts *l, const char *arg, const char *uuid,
                        const bt_timeline_opts *o, bt_timeline **out)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_timeline_live_opts lo;
    bt_aws_client *cli = NULL;
    char project[256];
    int rc, code = 0;

    cfg.profile = l->profile;
    cfg.region = l->region;
    cfg.user_agent = "buildtrail build --live";
    if (bt_aws_client_new(&cli, &cfg, &err)) {
        cli_err("build --live: %s", err.msg);
        return EXIT_ERROR;
    }
    if ((l->endpoint && bt_aws_client_set_endpoint(cli, "cloudtrail", l->endpoint, &err)) ||
        (l->cb_endpoint && bt_aws_client_set_endpoint(cli, "codebuild", l->cb_endpoint, &err))) {
        cli_err("build --live: %s", err.msg);
        bt_aws_client_free(cli);
        return EXIT_USAGE;
    }
    project_of(arg, project, sizeof project);
    memset(&lo, 0, sizeof lo);
    lo.client = cli;
    lo.uuid = uuid;
    lo.project = project[0] ? project : NULL;
    lo.start_ms = l->start_ms;
    lo.end_ms = l->end_ms;
    lo.lookup = fetch;
    rc = bt_build_timeline_live(&lo, o, out, &err);
    if (rc == BT_ENOTFOUND) {
        cli_err("build '%s': %s", arg, err.msg);
        code = EXIT_NOTFOUND;
    } else if (rc == BT_ENOMEM) {
        cli_err("out of memory");
        code = EXIT_ERROR;
    } else if (rc) {
        code = live_fail(&err);
    } else if (cli_debug) {
        fprintf(stderr,
                "buildtrail: debug: build --live: %llu LookupEvents calls, %llu events; %s\n",
                (unsigned long long)(*out)->live->lookup_calls,
                (unsigned long long)(*out)->live->events_fetched,
                (*out)->live->batch_get_builds ? "BatchGetBuilds: found"
                : (*out)->live->note           ? (*out)->live->note
                                               : "");
    }
    bt_aws_client_free(cli);
    return code;
}

void build_live_print(const bt_timeline_live *l, FILE *f)
{
    size_t i;
    fprintf(f, "\nLive: %llu LookupEvents calls, %llu events", (unsigned long long)l->lookup_calls,
            (unsigned long long)l->events_fetched);
    if (!l->batch_get_builds) {
        fprintf(f, "; no phases (%s)\n", l->note ? l->note : "BatchGetBuilds not asked");
        return;
    }
    fprintf(f, "; BatchGetBuilds: %s, current phase %s\n", l->build_status ? l->build_status : "?",
            l->current_phase ? l->current_phase : "?");
    for (i = 0; i < l->n_phases; i++) {
        const bt_timeline_phase *p = &l->phases[i];
        bt_buf t = BT_BUF_INIT;
        if (p->start_ms)
            bt_format_iso8601_local(&t, p->start_ms);
        fprintf(f, "  %-25s  %-18s %-12s", t.data ? t.data : "", p->phase ? p->phase : "?",
                p->status ? p->status : "");
        if (p->has_duration)
            fprintf(f, " %.0f s", p->duration_s);
        fputc('\n', f);
        bt_buf_dispose(&t);
    }
}
