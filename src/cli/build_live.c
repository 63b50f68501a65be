/* build_live.c - `buildtrail build <id> --live`: the options and the AWS client handed
 * to the library's live timeline (bt_build_timeline_live, src/core/timeline_live.c, which
 * gathers the build's events from the event history), its debug lines, and the people's
 * rendering of what it gathered. */
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
    lo.log = cli_debug ? cli_debug_line : NULL;
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
