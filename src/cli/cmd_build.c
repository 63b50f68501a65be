/* cmd_build.c - `buildtrail build <id|uuid|arn>`: the timeline of one CodeBuild build.
 * The library makes it (bt_build_timeline from the store, bt_build_timeline_live from the
 * event history); here it is rendered two ways: for people (colour on a terminal) from
 * the structs, and as its JSON document (schema in docs/builds.md) by the AWS CLI
 * formatters with --query. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/builds.h"
#include "buildtrail/format.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "build_follow.h"
#include "build_live.h"
#include "build_view.h"
#include "cli.h"
#include "term.h"

enum { O_WINDOW = 1, O_NO_PAGER, O_FOLLOW };

static const cli_opt build_opts[] = {
    {"window", 0, OPT_VALUE, "AGE", O_WINDOW,
     "How far before the build to look for project changes. Default: since the project's "
     "previous build started (7d when there is none); else an age such as 12h or 7d."},
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "Default: a timeline for people. json, text, table, yaml, yaml-stream, csv as the AWS CLI "
     "prints them (schema in docs/builds.md); html: the web view's page of the build as one "
     "self-contained file (no network), to attach to an incident."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
    {"errors", 0, OPT_FLAG, NULL, O_ERRORS,
     "In the timeline for people, only the calls that failed (and the services they failed "
     "in)."},
    {"no-pager", 0, OPT_FLAG, NULL, O_NO_PAGER,
     "Do not page the timeline for people. By default it goes through $PAGER (less -FRX when "
     "unset) when stdout is a terminal and it is taller than the terminal."},
    {"follow", 'f', OPT_FLAG, NULL, O_FOLLOW,
     "Print the timeline as it grows (every second from the store that 'buildtrail watch' "
     "fills; every 5 s with --live) until the build has an outcome, then a line with it; "
     "Ctrl-C stops (exit 0). For people only (no --output)."},
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
    "build",
    cmd_build,
    "the timeline of one build: what changed, who started it, what it did",
    "build <project:uuid | uuid | build ARN> [--window AGE] [--output FORMAT]",
    "Tells the story of one CodeBuild build from the store: the project changes since the "
    "project's previous build (or in --window) and who made them (CreateProject and UpdateProject "
    "shown as differences in "
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
    "  buildtrail build web-api:0b6e3c4e-1111-4222-8333-444455556666 --follow\n"
    "  buildtrail build 0b6e3c4e-1111-4222-8333-444455556666 --output html > report.html\n"};

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
    int no_pager, follow;
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
    if (o->id == O_NO_PAGER || o->id == O_FOLLOW) {
        *(o->id == O_FOLLOW ? &b->follow : &b->no_pager) = 1;
        return 0;
    }
    return build_live_opt(&b->live, o->id, v) == 0 ? 0 : -1;
}

/* The timeline for people, through the pager: an exit code. */
static int print_people(const bopts *o, const bt_timeline *t)
{
    build_view_opts vo;
    cli_pager pg;
    vo.color = cli_use_color();
    vo.width = cli_term_width();
    vo.errors_only = o->c.filter.errors_only;
    cli_pager_begin(&pg, !o->no_pager);
    build_view_print(pg.f, t, &vo);
    if (cli_pager_end(&pg)) {
        cli_err("cannot write the output");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* The one build of the store whose uuid starts with the short id arg (git's short
 * hashes; bt_build_resolve_short): 0 (uuid filled), or an exit code after saying why
 * (none; several, listed). */
static int resolve_short(bt_store *s, const char *arg, char uuid[37], bt_error *err)
{
    bt_build_match m[8];
    bt_arena *a = bt_arena_new(0, 0);
    size_t i, n = 0;
    int code = EXIT_OK;
    if (!a) {
        cli_err("out of memory");
        return EXIT_ERROR;
    }
    if (bt_build_resolve_short(s, arg, a, m, 8, &n, err)) {
        code = cli_fail(err, EXIT_ERROR);
    } else if (n == 1) {
        memcpy(uuid, m[0].uuid, 37);
    } else if (!n) {
        cli_err("build '%s': no build in the store starts with it (see 'buildtrail builds')", arg);
        code = EXIT_NOTFOUND;
    } else {
        cli_err("build '%s' is ambiguous: %zu builds start with it:", arg, n);
        for (i = 0; i < n && i < 8; i++)
            fprintf(stderr, "  %s\n", m[i].build_id ? m[i].build_id : m[i].uuid);
        if (n > 8)
            fprintf(stderr, "  ...\n");
        code = EXIT_USAGE;
    }
    bt_arena_free(a);
    return code;
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
    if ((u = bt_filter_build_uuid(pos[0]))) {
        snprintf(uuid, 37, "%.36s", u);
    } else if (bt_build_short_prefix(pos[0]) && !o->live.on) {
        uuid[0] = 0; /* resolved in the store */
    } else {
        cli_err("build '%s': not a build id, uuid or ARN (expected project:uuid, a uuid, a "
                "unique prefix of one such as 288088e1, or arn:...:build/project:uuid)",
                pos[0]);
        return EXIT_USAGE;
    }
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
static int stored_timeline(const bopts *o, const char *arg, char *uuid, const bt_timeline_opts *to,
                           bt_timeline **t)
{
    bt_error err = BT_ERROR_INIT;
    bt_store *s = NULL;
    char *path = cli_store_path(&o->c);
    int rc, code = EXIT_OK;
    if (!path)
        return EXIT_ERROR;
    if (cli_store_open(path, BT_STORE_READONLY, &s, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    if (!uuid[0] && (code = resolve_short(s, arg, uuid, &err)))
        goto done;
    rc = bt_build_timeline(s, uuid, to, t, &err);
    if (rc == BT_ENOTFOUND) {
        cli_err("build '%s': not in the store '%s' (see 'buildtrail builds')", arg, path);
        code = EXIT_NOTFOUND;
    } else if (rc) {
        code =
            rc == BT_ENOMEM ? (cli_err("out of memory"), EXIT_ERROR) : cli_fail(&err, EXIT_ERROR);
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
    if (o.follow && (o.c.output || o.c.query)) {
        cli_err("build: --follow prints the timeline for people (no --output or --query)");
        code = EXIT_USAGE;
        goto done;
    }
    code = o.live.on ? build_live_timeline(&o.live, pos[0], uuid, &to, &t)
                     : stored_timeline(&o, pos[0], uuid, &to, &t);
    if (code)
        goto done;
    if (o.follow) { /* the build is known (and its short id resolved): follow it */
        code = build_follow(&o.c, &o.live, pos[0], uuid, &to);
        goto done;
    }
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
        code = print_people(&o, t);
    }
done:
    bt_arena_free(a);
    bt_timeline_free(t);
    free(pos);
    return code;
}
