/* cmd_build.c - `buildtrail build <id|uuid|arn>`: the timeline of one CodeBuild build.
 * The library makes it (bt_build_timeline from the store, bt_build_timeline_live from the
 * event history); here it is rendered two ways: for people (colour on a terminal) from
 * the structs, and as its JSON document (schema in docs/builds.md) by the AWS CLI
 * formatters with --query. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/builds.h"
#include "buildtrail/format.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "build_live.h"
#include "cli.h"

enum { O_WINDOW = 1 };

static const cli_opt build_opts[] = {
    {"window", 0, OPT_VALUE, "AGE", O_WINDOW,
     "How far before the build to look for project changes. Default: since the project's "
     "previous build started (7d when there is none); else an age such as 12h or 7d."},
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "Default: a timeline for people. json, text, table, yaml, yaml-stream, csv as the AWS CLI "
     "prints them (schema in docs/builds.md); html: the web view's page of the build as one "
     "self-contained file (no network), to attach to an incident."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
    {"live", 0, OPT_FLAG, NULL, BL_LIVE,
     "Gather the facts from the event history instead of the store: LookupEvents with "
     "Username=AWSCodeBuild-<uuid> (filtered by the service), the StartBuild / StopBuild "
     "records around the build and the project's changes, and CodeBuild BatchGetBuilds for the "
     "status and phases when allowed (docs/lookup.md)."},
    {"region", 0, OPT_VALUE, "REGION", BL_REGION, "--live: the build's region."},
    {"profile", 0, OPT_VALUE, "NAME", BL_PROFILE, "--live: the AWS profile."},
    {"endpoint-url", 0, OPT_VALUE, "URL", BL_ENDPOINT,
     "--live: CloudTrail endpoint (e.g. a 'buildtrail serve')."},
    {"codebuild-endpoint-url", 0, OPT_VALUE, "URL", BL_CB_ENDPOINT, "--live: CodeBuild endpoint."},
    {"start-time", 0, OPT_VALUE, "TIME", BL_START,
     "--live: look for the build's calls from TIME (default: the build's start, else 90 days)."},
    {"end-time", 0, OPT_VALUE, "TIME", BL_END, "--live: ... up to TIME."},
};
static const cli_group build_group = CLI_GROUP("Options", build_opts);
static const cli_group *const build_groups[] = {&build_group, &cli_group_store, NULL};

static int cmd_build(int argc, char **argv);

const cli_cmd cmd_build_def = {
    "build", cmd_build, "the timeline of one build: what changed, who started it, what it did",
    "build <project:uuid | uuid | build ARN> [--window AGE] [--output FORMAT]",
    "Tells the story of one CodeBuild build from the store: the project changes since the "
    "project's previous build (or in --window) and who made them (CreateProject and UpdateProject shown as differences in "
    "environment variables, buildspec, service role, image and source; UpdateProjectVisibility; "
    "webhook and source-credential changes); the trigger and its overrides, flagged when they "
    "change what the project would otherwise run; every call the build's role session "
    "AWSCodeBuild-<uuid> made, grouped by service, with failures such as AccessDenied "
    "highlighted and the resources it touched; phase and state changes from EventBridge; any "
    "stop or retry; and the final outcome.",
    build_groups,
    "  buildtrail build web-api:0b6e3c4e-1111-4222-8333-444455556666\n"
    "  buildtrail build 0b6e3c4e-1111-4222-8333-444455556666 --output json --query Errors\n"
    "  buildtrail build web-api:0b6e3c4e-1111-4222-8333-444455556666 --live --region eu-west-1\n"
    "  buildtrail build 0b6e3c4e-1111-4222-8333-444455556666 --output html > report.html\n"};

/* ---- people's rendering ---------------------------------------------------------------- */

typedef struct pen {
    int color;
} pen;

static const char *C(const pen *p, const char *code)
{
    return p->color ? code : "";
}
#define RED "\033[31m"
#define YEL "\033[33m"
#define GRN "\033[32m"
#define BLD "\033[1m"
#define DIM "\033[2m"
#define RST "\033[0m"

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

typedef struct when {
    char s[64];
} when;

/* a time as the JSON shows it; with or_dash, 0 (unknown) is "-" */
static const char *tm(when *w, int64_t ms, int dash)
{
    bt_buf b = BT_BUF_INIT;
    snprintf(w->s, sizeof w->s, "-");
    if ((ms || !dash) && bt_format_iso8601_local(&b, ms) == 0)
        snprintf(w->s, sizeof w->s, "%.*s", (int)b.len, b.data);
    bt_buf_dispose(&b);
    return w->s;
}

static void print_build(const pen *p, const bt_build *b)
{
    int est;
    int64_t end = bt_build_end(b, &est);
    const char *out = b->status;
    when w;

    printf("%sBuild %s%s", C(p, BLD), or_dash(b->build_id), C(p, RST));
    if (b->number >= 0)
        printf("  #%.0f", (double)b->number);
    printf("  (account %s, %s)\n", or_dash(b->account), or_dash(b->region));
    printf("Outcome   %s%s%s", out ? (strcmp(out, "SUCCEEDED") == 0 ? C(p, GRN) : C(p, RED)) : "",
           out ? out : "unknown", C(p, RST));
    if (out && b->status_source && strcmp(b->status_source, "phases") == 0)
        printf(" (inferred from the phase events: no final state event)");
    else if (out)
        printf(" (from %s)", or_dash(b->status_source));
    printf("\nStarted   %s", tm(&w, b->start_ms, 1));
    if (end && b->start_ms && end >= b->start_ms) {
        int secs = (int)((end - b->start_ms) / 1000);
        printf("   ran %dm%02ds%s", secs / 60, secs % 60, est ? " (to its last call)" : "");
    }
    printf("\nTrigger   %s", or_dash(b->trigger_type));
    if (bt_build_pipeline(b))
        printf(" %s", bt_build_pipeline(b));
    if (b->trigger_principal)
        printf(" by %s", b->trigger_principal);
    if (b->retry_of)
        printf(", retry of %s", b->retry_of);
    if (b->batch_uuid)
        printf(", started by batch %s", b->batch_uuid);
    if (b->trigger_inferred)
        printf(" %s(inferred: no StartBuild record)%s", C(p, DIM), C(p, RST));
    printf("\nSource    %s\n", or_dash(b->source_version));
    if (b->stop_principal)
        printf("Stopped   by %s at %s\n", b->stop_principal, tm(&w, b->stop_ms, 1));
    if (b->retried_as[0])
        printf("Retried   as %s\n", b->retried_as);
}

static void print_changes(const pen *p, const bt_timeline *t)
{
    size_t i, k;
    when w;
    printf("\n%sProject changes before the build (%s)%s\n", C(p, BLD), t->window_text, C(p, RST));
    if (!t->n_changes)
        printf("  none\n");
    for (i = 0; i < t->n_changes; i++) {
        const bt_timeline_change *c = &t->changes[i];
        printf("  %s  %s%s%s by %s\n", tm(&w, c->time_ms, 0), C(p, YEL), or_dash(c->event_name),
               C(p, RST), or_dash(c->by));
        for (k = 0; k < c->n_diffs; k++) {
            const bt_timeline_diff *d = &c->diffs[k];
            printf("      %s: ", or_dash(d->field));
            if (!d->old_value)
                printf("+ %.120s\n", d->new_value ? d->new_value : "null");
            else if (!d->new_value)
                printf("- %.120s (removed)\n", d->old_value);
            else
                printf("%.60s -> %.60s\n", d->old_value, d->new_value);
        }
    }
}

static void print_trigger(const pen *p, const bt_timeline_trigger *tr)
{
    size_t i;
    when w;
    if (!tr->found)
        return;
    printf("\n%sTrigger%s\n  %s  %s by %s from %s\n", C(p, BLD), C(p, RST), tm(&w, tr->time_ms, 0),
           or_dash(tr->event_name), or_dash(tr->by), or_dash(tr->source_ip));
    for (i = 0; i < tr->n_overrides; i++) {
        const bt_timeline_override *o = &tr->overrides[i];
        int ch = o->changes_project;
        printf("      %s%s = %.80s%s", ch ? C(p, YEL) : "", or_dash(o->name), or_dash(o->value),
               ch ? C(p, RST) : "");
        if (ch)
            printf("  %s<- project: %.60s%s", C(p, YEL),
                   o->project_value ? o->project_value : "not set (its default)", C(p, RST));
        printf("\n");
    }
}

static void print_calls(const pen *p, const bt_timeline *t)
{
    size_t i, k;
    printf("\n%sWhat the build's role session did%s: %.0f calls, %.0f failed\n", C(p, BLD),
           C(p, RST), (double)t->build.calls, (double)t->build.errors);
    for (i = 0; i < t->n_services; i++) {
        const bt_timeline_service *s = &t->services[i];
        printf("  %-34s %5.0f calls", or_dash(s->event_source), (double)s->calls);
        if (s->errors > 0) {
            printf("  %s%.0f failed", C(p, RED), (double)s->errors);
            for (k = 0; k < s->n_codes; k++)
                printf("%s %s x%.0f", k ? "," : ":", s->codes[k].code, (double)s->codes[k].count);
            printf("%s", C(p, RST));
        }
        printf("\n");
    }
    if (t->n_resources)
        printf("\n%sResources it touched%s\n", C(p, BLD), C(p, RST));
    for (i = 0; i < t->n_resources; i++)
        printf("  %-32s %s (%.0f)\n", or_dash(t->resources[i].type), or_dash(t->resources[i].name),
               (double)t->resources[i].calls);
}

static void print_events(const pen *p, const bt_timeline *t)
{
    size_t i;
    when w;
    printf("\n%sTimeline%s\n", C(p, BLD), C(p, RST));
    for (i = 0; i < t->n_events; i++) {
        const bt_timeline_event *e = &t->events[i];
        const char *kind = bt_timeline_kind_name(e->kind), *src = or_dash(e->event_source);
        const char *dot = strchr(src, '.');
        int about = e->kind == BT_TL_ABOUT;
        if (e->kind == BT_TL_STATE || e->kind == BT_TL_PHASE) {
            const bt_timeline_phase *ph =
                e->kind == BT_TL_PHASE ? bt_timeline_phase_find(t, e->phase) : NULL;
            printf("  %s  %s[%s] %s %s", tm(&w, e->time_ms, 0), C(p, DIM), kind, or_dash(e->phase),
                   e->status ? e->status : "");
            if (ph) {
                printf("  started %s", tm(&w, ph->start_ms, 1));
                printf(", ended %s", tm(&w, ph->end_ms, 1));
                if (ph->has_duration)
                    printf(", %.0f s", ph->duration_s);
            }
            printf("%s\n", C(p, RST));
            continue;
        }
        printf("  %s  %s%.*s %s%s", tm(&w, e->time_ms, 0), about ? C(p, BLD) : "",
               dot ? (int)(dot - src) : (int)strlen(src), src, or_dash(e->event_name),
               about ? C(p, RST) : "");
        if (about)
            printf("  by %s", or_dash(e->by));
        if (e->error_code)
            printf("  %s%s: %.100s%s", C(p, RED), e->error_code, or_dash(e->error_message), C(p, RST));
        printf("\n");
    }
}

static void print_people(const bt_timeline *t)
{
    pen p = {isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
    print_build(&p, &t->build);
    print_changes(&p, t);
    print_trigger(&p, &t->trigger);
    print_calls(&p, t);
    print_events(&p, t);
    if (t->live)
        build_live_print(t->live, stdout);
}

/* The standalone HTML report: 0 or an exit code after saying why. */
static int write_html(const char *query, const bt_timeline *t)
{
    bt_buf b = BT_BUF_INIT;
    int code = EXIT_OK;
    if (query) {
        cli_err("--query does not apply to --output html");
        return EXIT_USAGE;
    }
    if (bt_serve_build_html(t, 1, &b)) {
        cli_err("out of memory");
        code = EXIT_ERROR;
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        cli_err("cannot write the output");
        code = EXIT_ERROR;
    }
    bt_buf_dispose(&b);
    return code;
}

/* ---- command ------------------------------------------------------------------------- */

typedef struct bopts {
    cli_common c;
    const char *window;
    build_live_opts live;
} bopts;

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    bopts *b = ctx;
    int rc = cli_common_opt(&b->c, o, v);
    if (rc <= 0)
        return rc;
    if (o->id == O_WINDOW) {
        b->window = v;
        return 0;
    }
    return build_live_opt(&b->live, o->id, v) == 0 ? 0 : -1;
}

/* The build's uuid from the one argument, and --window: 0 or an exit code after saying why. */
static int check_args(const bopts *o, char **pos, int npos, char uuid[37], bt_timeline_opts *to)
{
    bt_error err = BT_ERROR_INIT;
    const char *u;
    int64_t w;
    if (npos != 1) {
        cli_err("build: give one build: project:uuid, a uuid, or a build ARN");
        return EXIT_USAGE;
    }
    if (!(u = bt_filter_build_uuid(pos[0]))) {
        cli_err("build '%s': not a build id, uuid or ARN (expected project:uuid, a uuid, or "
                "arn:...:build/project:uuid)",
                pos[0]);
        return EXIT_USAGE;
    }
    snprintf(uuid, 37, "%.36s", u);
    memset(to, 0, sizeof *to);
    if (o->window) {
        if (bt_time_parse_user(o->window, 0, &w, &err) || w > 0 ||
            !strchr("smhdw", o->window[strlen(o->window) - 1])) {
            cli_err("--window '%s': expected an age such as 90m, 12h, 7d", o->window);
            return EXIT_USAGE;
        }
        to->window_ms = -w;
        to->window_text = o->window;
    }
    return EXIT_OK;
}

/* The timeline from the store: 0 or an exit code after saying why. */
static int stored_timeline(const bopts *o, const char *arg, const char *uuid,
                           const bt_timeline_opts *to, bt_timeline **t)
{
    bt_error err = BT_ERROR_INIT;
    bt_store *s = NULL;
    char *path = cli_store_path(&o->c);
    int rc, code = EXIT_OK;
    if (!path)
        return EXIT_ERROR;
    if (bt_store_open(path, BT_STORE_READONLY, &s, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    rc = bt_build_timeline(s, uuid, to, t, &err);
    if (rc == BT_ENOTFOUND) {
        cli_err("build '%s': not in the store '%s' (see 'buildtrail builds')", arg, path);
        code = EXIT_NOTFOUND;
    } else if (rc) {
        code = rc == BT_ENOMEM ? (cli_err("out of memory"), EXIT_ERROR) : cli_fail(&err, EXIT_ERROR);
    }
done:
    bt_store_close(s);
    free(path);
    return code;
}

static int cmd_build(int argc, char **argv)
{
    bopts o;
    bt_timeline_opts to;
    bt_timeline *t = NULL;
    bt_arena *a = NULL;
    char **pos = NULL, uuid[37];
    int npos = 0, rc, code;

    memset(&o, 0, sizeof o);
    cli_common_init(&o.c);
    rc = cli_parse(&cmd_build_def, argc, argv, on_opt, &o, &pos, &npos);
    if (rc) {
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if ((code = check_args(&o, pos, npos, uuid, &to)))
        goto done;
    code = o.live.on ? build_live_timeline(&o.live, pos[0], uuid, &to, &t)
                     : stored_timeline(&o, pos[0], uuid, &to, &t);
    if (code)
        goto done;
    if (o.c.output && strcmp(o.c.output, "html") == 0) {
        code = write_html(o.c.query, t);
    } else if (o.c.output || o.c.query) {
        bt_json *doc = (a = bt_arena_new(1 << 16, 0)) ? bt_timeline_to_json(a, t) : NULL;
        if (!doc) {
            cli_err("out of memory");
            code = EXIT_ERROR;
            goto done;
        }
        code = cli_out_value(o.c.output ? o.c.output : "json", o.c.query, "Build", doc);
    } else {
        print_people(t);
    }
done:
    bt_arena_free(a);
    bt_timeline_free(t);
    free(pos);
    return code;
}
