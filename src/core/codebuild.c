/* codebuild.c - the CodeBuild event names that matter, and extracting CodeBuild
 * lifecycle facts (start, trigger, overrides, retry, batch, stop, state) from records
 * and EventBridge events. The merge policy is in build_merge.c. */
#include <string.h>

#include "buildtrail/codebuild.h"
#include "buildtrail/timeutil.h"

static const bt_codebuild_event events[] = {
    {"StartBuild", BT_CB_START},
    {"RetryBuild", BT_CB_START},
    {"StartBuildBatch", BT_CB_START},
    {"StopBuild", BT_CB_STOP},
    {"StopBuildBatch", BT_CB_STOP},
    {"BatchGetBuilds", BT_CB_POLL},
    {"CreateProject", BT_CB_PROJECT_CHANGE | BT_CB_PROJECT_DEFINITION},
    {"UpdateProject", BT_CB_PROJECT_CHANGE | BT_CB_PROJECT_DEFINITION},
    {"UpdateProjectVisibility", BT_CB_PROJECT_CHANGE},
    {"DeleteProject", BT_CB_PROJECT_CHANGE},
    {"CreateWebhook", BT_CB_PROJECT_CHANGE},
    {"UpdateWebhook", BT_CB_PROJECT_CHANGE},
    {"DeleteWebhook", BT_CB_PROJECT_CHANGE},
    {"InvalidateProjectCache", BT_CB_PROJECT_CHANGE},
    {"ImportSourceCredentials", BT_CB_PROJECT_CHANGE | BT_CB_CREDENTIALS},
    {"DeleteSourceCredentials", BT_CB_PROJECT_CHANGE | BT_CB_CREDENTIALS},
    {"PutResourcePolicy", BT_CB_PROJECT_CHANGE},
    {"DeleteResourcePolicy", BT_CB_PROJECT_CHANGE},
};

const bt_codebuild_event *bt_codebuild_events(size_t *n)
{
    *n = sizeof events / sizeof events[0];
    return events;
}

unsigned bt_codebuild_event_flags(const char *name)
{
    size_t i;
    if (!name)
        return 0;
    for (i = 0; i < sizeof events / sizeof events[0]; i++)
        if (strcmp(events[i].name, name) == 0)
            return events[i].flags;
    return 0;
}

int bt_codebuild_event_is(const char *name, unsigned flags)
{
    return (bt_codebuild_event_flags(name) & flags) != 0;
}

/* ---- names of the typed values ---- */

static const char *const trigger_names[] = {NULL, "user", "pipeline", "webhook", "retry", "batch"};
static const char *const status_names[] = {NULL,        "SUCCEEDED", "FAILED",     "FAULT",
                                           "TIMED_OUT", "STOPPED",   "IN_PROGRESS"};
static const char *const source_names[] = {NULL, "eventbridge", "stopbuild", "batchgetbuilds",
                                           "phases"};

#define N_OF(v) (sizeof v / sizeof v[0])

static int parse_name(const char *const *names, size_t n, const char *s)
{
    size_t i;
    if (s)
        for (i = 1; i < n; i++)
            if (strcmp(names[i], s) == 0)
                return (int)i;
    return 0;
}

const char *bt_build_trigger_name(bt_build_trigger t)
{
    return (unsigned)t < N_OF(trigger_names) ? trigger_names[t] : NULL;
}

const char *bt_build_status_name(bt_build_status s)
{
    return (unsigned)s < N_OF(status_names) ? status_names[s] : NULL;
}

const char *bt_build_status_source_name(bt_build_status_source s)
{
    return (unsigned)s < N_OF(source_names) ? source_names[s] : NULL;
}

bt_build_trigger bt_build_trigger_parse(const char *s)
{
    return (bt_build_trigger)parse_name(trigger_names, N_OF(trigger_names), s);
}

bt_build_status bt_build_status_parse(const char *s)
{
    return (bt_build_status)parse_name(status_names, N_OF(status_names), s);
}

bt_build_status_source bt_build_status_source_parse(const char *s)
{
    return (bt_build_status_source)parse_name(source_names, N_OF(source_names), s);
}

/* ---- facts ---- */

static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int bt_build_facts_possible(const bt_event *ev)
{
    if (ev->kind == BT_KIND_BUILD_STATE || ev->kind == BT_KIND_BUILD_PHASE)
        return 1;
    if (!eq(ev->event_source, "codebuild.amazonaws.com") || ev->error_code)
        return 0;
    return bt_codebuild_event_is(ev->event_name, BT_CB_FACTS);
}

/* "a,b,c" of the request members that override the project's settings */
static const char *override_list(bt_arena *a, const bt_json *req)
{
    bt_buf b = BT_BUF_INIT;
    const char *out = NULL;
    size_t i;
    if (!req || req->type != BT_JSON_OBJECT)
        return NULL;
    for (i = 0; i < req->len; i++) {
        const bt_json_member *m = &req->u.members[i];
        if (m->key_len > 8 && strcmp(m->key + m->key_len - 8, "Override") == 0 &&
            m->value->type != BT_JSON_NULL) {
            if (b.len)
                bt_buf_putc(&b, ',');
            bt_buf_append(&b, m->key, m->key_len);
        }
    }
    if (b.len)
        out = bt_arena_strndup(a, b.data, b.len);
    bt_buf_dispose(&b);
    return out;
}

static const char *str(const bt_json *o, const char *k)
{
    return o ? bt_json_get_str(o, k) : NULL;
}

static int prefixed(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* the subject build of ev */
static void set_subject(bt_build_facts *f, const bt_event *ev, bt_build_fact_kind kind)
{
    f->kind = kind;
    f->uuid = ev->build_uuid;
    f->build_id = ev->build_id;
    f->project = ev->project;
}

int bt_codebuild_phase_order(const char *phase)
{
    static const char *const seq[] = {"SUBMITTED",        "QUEUED",     "PROVISIONING",
                                      "DOWNLOAD_SOURCE",  "INSTALL",    "PRE_BUILD",
                                      "BUILD",            "POST_BUILD", "UPLOAD_ARTIFACTS",
                                      "FINALIZING",       "COMPLETED"};
    int i;
    for (i = 0; phase && i < (int)(sizeof seq / sizeof seq[0]); i++)
        if (strcmp(seq[i], phase) == 0)
            return i;
    return (int)(sizeof seq / sizeof seq[0]);
}

/* A phase event's say on the outcome: a phase that did not succeed gives its status;
 * FINALIZING (or COMPLETED) completed ends the build. */
static void facts_of_phase(const bt_event *ev, bt_build_facts *f)
{
    bt_build_status st = bt_build_status_parse(ev->phase_status);
    if (st != BT_STATUS_UNKNOWN && st != BT_STATUS_SUCCEEDED && st != BT_STATUS_IN_PROGRESS)
        f->status = st;
    if (ev->build_phase && bt_codebuild_phase_order(ev->build_phase) >= 9 &&
        bt_codebuild_phase_order(ev->build_phase) <= 10) {
        f->end_ms = ev->time_ms;
        if (f->status == BT_STATUS_UNKNOWN)
            f->status = BT_STATUS_SUCCEEDED;
    }
}

static void facts_of_status(const bt_json *rec, const bt_event *ev, bt_build_facts *f)
{
    const bt_json *ai = bt_json_get(bt_json_get(rec, "detail"), "additional-information");
    const char *st;
    set_subject(f, ev, ev->kind == BT_KIND_BUILD_STATE ? BT_BF_STATE : BT_BF_PHASE);
    f->initiator = str(ai, "initiator");
    f->source_version = str(ai, "source-version");
    st = str(ai, "build-start-time");
    if (st)
        bt_time_parse_java(st, strlen(st), &f->start_ms);
    if (f->kind == BT_BF_STATE)
        f->status = bt_build_status_parse(ev->build_status);
    else
        facts_of_phase(ev, f);
    if (prefixed(f->initiator, "codepipeline/"))
        f->trigger = BT_TRIGGER_PIPELINE;
    else if (prefixed(f->initiator, "GitHub-Hookshot/"))
        f->trigger = BT_TRIGGER_WEBHOOK;
}

static void facts_of_start(bt_arena *a, const bt_json *rec, const bt_event *ev, bt_build_facts *f)
{
    const bt_json *req = bt_json_get(rec, "requestParameters");
    const bt_json *resp = bt_json_get(rec, "responseElements");
    const bt_json *b = bt_json_get(resp, "build");

    if (!b)
        b = bt_json_get(resp, "buildBatch");
    set_subject(f, ev,
                eq(ev->event_name, "RetryBuild")        ? BT_BF_RETRY
                : eq(ev->event_name, "StartBuildBatch") ? BT_BF_BATCH_START
                                                        : BT_BF_START);
    if (b) {
        const bt_json *n = bt_json_get(b, "buildNumber");
        if (n && n->type == BT_JSON_NUMBER)
            f->number = (int64_t)n->num;
        f->initiator = str(b, "initiator");
        f->source_version = str(b, "sourceVersion");
    }
    if (!f->source_version)
        f->source_version = str(req, "sourceVersion");
    f->overrides = override_list(a, req);
    if (f->kind == BT_BF_RETRY) {
        f->trigger = BT_TRIGGER_RETRY;
        f->retry_of = str(req, "id");
    } else if (ev->actor_uuid) {
        /* started by another build's role session: a batch parent */
        f->trigger = BT_TRIGGER_BATCH;
        f->batch_uuid = ev->actor_uuid;
    } else if (eq(ev->invoked_by, "codepipeline.amazonaws.com") ||
               prefixed(f->initiator, "codepipeline/") ||
               eq(ev->source_ip, "codepipeline.amazonaws.com")) {
        f->trigger = BT_TRIGGER_PIPELINE;
    } else {
        f->trigger = BT_TRIGGER_USER;
    }
}

/* 1 when ev is a CreateProject / UpdateProject that succeeded, naming its project: a
 * BT_BF_ROLE fact when it names the service role too */
static int role_possible(const bt_event *ev)
{
    return ev->kind == BT_KIND_API && ev->project && !ev->error_code &&
           eq(ev->event_source, "codebuild.amazonaws.com") &&
           bt_codebuild_event_is(ev->event_name, BT_CB_PROJECT_DEFINITION);
}

int bt_build_facts_wanted(const bt_event *ev)
{
    return (bt_build_facts_possible(ev) && ev->build_uuid) || role_possible(ev);
}

const char *bt_codebuild_service_role(const bt_json *rec)
{
    const char *role = str(bt_json_get(rec, "requestParameters"), "serviceRole"), *slash;
    if (!role)
        role = str(bt_json_get(bt_json_get(rec, "responseElements"), "project"), "serviceRole");
    if (role && (slash = strrchr(role, '/')))
        role = slash + 1;
    return role && *role ? role : NULL;
}

int bt_build_facts_from(bt_arena *a, const bt_json *rec, const bt_event *ev, bt_build_facts *f)
{
    memset(f, 0, sizeof *f);
    f->number = -1;
    if (role_possible(ev)) {
        if ((f->role = bt_codebuild_service_role(rec))) {
            f->kind = BT_BF_ROLE;
            f->project = ev->project;
            f->time_ms = ev->time_ms;
        }
        return 0;
    }
    if (!bt_build_facts_possible(ev) || !ev->build_uuid)
        return 0;
    if (ev->kind == BT_KIND_BUILD_STATE || ev->kind == BT_KIND_BUILD_PHASE) {
        facts_of_status(rec, ev, f);
    } else if (bt_codebuild_event_is(ev->event_name, BT_CB_STOP)) {
        set_subject(f, ev, BT_BF_STOP);
        f->status = BT_STATUS_STOPPED;
    } else if (ev->build_id) {
        facts_of_start(a, rec, ev, f);
    }
    if (f->kind != BT_BF_NONE) {
        f->time_ms = ev->time_ms;
        f->principal_arn = ev->principal_arn;
        f->account = ev->account;
        f->region = ev->region;
    }
    return 0;
}

int bt_build_facts_of(bt_arena *a, const bt_event *ev, bt_build_facts *f)
{
    bt_json *rec;
    memset(f, 0, sizeof *f);
    f->number = -1;
    if (!bt_build_facts_wanted(ev))
        return 0;
    if (bt_json_parse(a, ev->raw, ev->raw_len, NULL, &rec, NULL) != 0)
        return 0; /* it parsed once already; nothing to learn if not */
    return bt_build_facts_from(a, rec, ev, f);
}

static int dup(bt_arena *a, const char **s)
{
    if (*s && !(*s = bt_arena_strdup(a, *s)))
        return BT_ENOMEM;
    return 0;
}

int bt_build_facts_copy(bt_arena *a, const bt_build_facts *src, bt_build_facts *dst)
{
    *dst = *src;
    if (dup(a, &dst->uuid) || dup(a, &dst->build_id) || dup(a, &dst->project) ||
        dup(a, &dst->initiator) || dup(a, &dst->source_version) || dup(a, &dst->overrides) ||
        dup(a, &dst->retry_of) || dup(a, &dst->batch_uuid) || dup(a, &dst->principal_arn) ||
        dup(a, &dst->account) || dup(a, &dst->region) || dup(a, &dst->role))
        return BT_ENOMEM;
    return 0;
}
