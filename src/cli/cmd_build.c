/* cmd_build.c - `buildtrail build <id|uuid|arn>`: the timeline of one CodeBuild build.
 * One model (a JSON document, schema in docs/builds.md) rendered two ways: for people
 * (colour on a terminal) and by the AWS CLI formatters with --query. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
     "prints them (schema in docs/builds.md)."},
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
    "  buildtrail build web-api:0b6e3c4e-1111-4222-8333-444455556666 --live --region eu-west-1\n"};

/* ---- model ---------------------------------------------------------------------------- */

typedef struct tl {
    bt_arena *a;
    bt_store *s;
    const char *uuid;
    bt_json *root, *build, *events, *services, *resources, *errors, *changes, *trigger, *stops;
    bt_json *project_state;      /* merged project definition before the build */
    bt_json *trigger_request;    /* requestParameters of the start record */
    const char *project, *account, *build_id;
    int64_t start_ms, window_ms;
    char window_text[128];
    int found;
    build_live *live; /* --live, else NULL */
} tl;

static bt_json *js(bt_arena *a, const char *s)
{
    return s ? bt_json_new_string(a, s, strlen(s)) : bt_json_new_null(a);
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

static int put_num(bt_arena *a, bt_json *o, const char *k, double d)
{
    return put(a, o, k, bt_json_new_number(a, d));
}

static bt_json *obj_entry(bt_arena *a, bt_json *map, const char *key)
{
    bt_json *v = bt_json_getn(map, key, strlen(key));
    if (v)
        return v;
    v = bt_json_new_object(a, 4);
    if (!v || bt_json_object_put(a, map, bt_arena_strdup(a, key), strlen(key), v))
        return NULL;
    return v;
}

static int bump(bt_arena *a, bt_json *o, const char *k, double by)
{
    bt_json *v = bt_json_get(o, k);
    if (v) {
        v->num += by;
        v->u.str = NULL; /* computed now */
        return 0;
    }
    return put_num(a, o, k, by);
}

static int on_summary(void *ctx, const bt_build *b)
{
    tl *t = ctx;
    t->build = bt_build_to_json(t->a, b);
    if (!t->build)
        return BT_ENOMEM;
    if (b->retried_as[0] && put(t->a, t->build, "RetriedAs", js(t->a, b->retried_as)))
        return BT_ENOMEM;
    t->project = b->project ? bt_arena_strdup(t->a, b->project) : NULL;
    t->account = b->account ? bt_arena_strdup(t->a, b->account) : NULL;
    t->build_id = b->build_id ? bt_arena_strdup(t->a, b->build_id) : NULL;
    t->start_ms = b->start_ms;
    t->found = 1;
    return 0;
}

/* Compact JSON of v, as a string value (for diffs of arbitrary settings). */
static bt_json *compact(bt_arena *a, const bt_json *v)
{
    bt_buf b = BT_BUF_INIT;
    bt_json_write_opts wo = {0, 0};
    bt_json *r;
    if (!v)
        return bt_json_new_null(a);
    if (v->type == BT_JSON_STRING)
        return bt_json_new_string(a, v->u.str, v->len);
    bt_json_write(&b, v, &wo);
    r = bt_json_new_string(a, b.data ? b.data : "", b.len);
    bt_buf_dispose(&b);
    return r;
}

static int add_change(bt_arena *a, bt_json *list, const char *field, const bt_json *old,
                      const bt_json *new)
{
    bt_json *c = bt_json_new_object(a, 3);
    if (!c || put(a, c, "Field", js(a, field)) || put(a, c, "Old", compact(a, old)) ||
        put(a, c, "New", compact(a, new)))
        return BT_ENOMEM;
    return bt_json_array_push(a, list, c);
}

/* environmentVariables: list of {name, value, type} -> per-name differences */
static int diff_env(bt_arena *a, bt_json *list, const bt_json *old, const bt_json *new)
{
    size_t i, j;
    int rc;
    if (new && new->type == BT_JSON_ARRAY)
        for (i = 0; i < new->len; i++) {
            const char *n = bt_json_get_str(new->u.items[i], "name");
            const bt_json *ov = NULL;
            char field[256];
            if (!n)
                continue;
            for (j = 0; old && old->type == BT_JSON_ARRAY && j < old->len; j++)
                if (bt_json_is_str(bt_json_get(old->u.items[j], "name"), n))
                    ov = old->u.items[j];
            if (ov && bt_json_equal(bt_json_get(ov, "value"), bt_json_get(new->u.items[i], "value")) &&
                bt_json_equal(bt_json_get(ov, "type"), bt_json_get(new->u.items[i], "type")))
                continue;
            snprintf(field, sizeof field, "environment variable %s", n);
            if ((rc = add_change(a, list, field, ov ? bt_json_get(ov, "value") : NULL,
                                 bt_json_get(new->u.items[i], "value"))))
                return rc;
        }
    if (old && old->type == BT_JSON_ARRAY)
        for (j = 0; j < old->len; j++) {
            const char *n = bt_json_get_str(old->u.items[j], "name");
            int still = 0;
            char field[256];
            for (i = 0; n && new && new->type == BT_JSON_ARRAY && i < new->len; i++)
                if (bt_json_is_str(bt_json_get(new->u.items[i], "name"), n))
                    still = 1;
            if (!n || still || !new)
                continue;
            snprintf(field, sizeof field, "environment variable %s", n);
            if ((rc = add_change(a, list, field, bt_json_get(old->u.items[j], "value"), NULL)))
                return rc;
        }
    return 0;
}

/* The settings a CreateProject is summarised by (an update lists every change). */
static int key_setting(const char *field)
{
    static const char *const keys[] = {"source.type", "source.location", "source.buildspec",
                                       "environment.image", "environment.computeType",
                                       "environment.privilegedMode", "serviceRole",
                                       "projectVisibility", "sourceVersion"};
    size_t i;
    if (strncmp(field, "environment variable", 20) == 0)
        return 1;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(field, keys[i]) == 0)
            return 1;
    return 0;
}

/* Drops the non-key entries of a CreateProject's list of settings. */
static void keep_key_settings(bt_json *diffs)
{
    size_t i, n = 0;
    for (i = 0; i < diffs->len; i++) {
        const char *f = bt_json_get_str(diffs->u.items[i], "Field");
        if (f && key_setting(f))
            diffs->u.items[n++] = diffs->u.items[i];
    }
    diffs->len = n;
}

/* Merges a project definition (request or response "project") into state, recording
 * differences; nested environment/source objects are compared member by member. */
static int merge_project(bt_arena *a, bt_json *state, const bt_json *def, bt_json *diffs)
{
    size_t i, k;
    int rc;
    for (i = 0; def && def->type == BT_JSON_OBJECT && i < def->len; i++) {
        const bt_json_member *m = &def->u.members[i];
        bt_json *old = bt_json_getn(state, m->key, m->key_len);
        if (strcmp(m->key, "name") == 0 || strcmp(m->key, "arn") == 0 ||
            strcmp(m->key, "created") == 0 || strcmp(m->key, "lastModified") == 0 ||
            strcmp(m->key, "awsActId") == 0)
            continue;
        if ((strcmp(m->key, "environment") == 0 || strcmp(m->key, "source") == 0) &&
            m->value->type == BT_JSON_OBJECT) {
            bt_json *sub = old && old->type == BT_JSON_OBJECT ? old : NULL;
            if (!sub) {
                sub = bt_json_new_object(a, 8);
                if (!sub || bt_json_object_put(a, state, m->key, m->key_len, sub))
                    return BT_ENOMEM;
            }
            for (k = 0; k < m->value->len; k++) {
                const bt_json_member *n = &m->value->u.members[k];
                bt_json *o2 = bt_json_getn(sub, n->key, n->key_len);
                char field[128];
                if (diffs && !bt_json_equal(o2, n->value)) {
                    if (strcmp(n->key, "environmentVariables") == 0)
                        rc = diff_env(a, diffs, o2, n->value);
                    else {
                        snprintf(field, sizeof field, "%s.%s", m->key, n->key);
                        rc = add_change(a, diffs, field, o2, n->value);
                    }
                    if (rc)
                        return rc;
                }
                if (o2)
                    *o2 = *n->value;
                else if (bt_json_object_put(a, sub, n->key, n->key_len, n->value))
                    return BT_ENOMEM;
            }
            continue;
        }
        if (diffs && !bt_json_equal(old, m->value) && (rc = add_change(a, diffs, m->key, old, m->value)))
            return rc;
        if (old)
            *old = *m->value;
        else if (bt_json_object_put(a, state, m->key, m->key_len, m->value))
            return BT_ENOMEM;
    }
    return 0;
}

static const char *const change_names[] = {
    "CreateProject", "UpdateProject", "UpdateProjectVisibility", "DeleteProject",
    "CreateWebhook", "UpdateWebhook", "DeleteWebhook", "InvalidateProjectCache",
    "ImportSourceCredentials", "DeleteSourceCredentials", "PutResourcePolicy",
    "DeleteResourcePolicy"};

static int on_project_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    tl *t = ctx;
    bt_json *rec, *req, *resp, *diffs, *c;
    int in_window = ev->time_ms >= t->start_ms - t->window_ms;
    int rc;

    (void)pos;
    if (ev->error_code)
        return 0; /* a failed change changed nothing */
    /* project changes are searched by name (rare events, a small index range) and
     * matched to the project here; source credentials belong to no project */
    if (ev->project && t->project && strcmp(ev->project, t->project) != 0)
        return 0;
    if (bt_json_parse(t->a, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    req = bt_json_get(rec, "requestParameters");
    resp = bt_json_get(bt_json_get(rec, "responseElements"), "project");
    if (!in_window && strcmp(ev->event_name, "CreateProject") && strcmp(ev->event_name, "UpdateProject"))
        return 0;
    diffs = bt_json_new_array(t->a, 4);
    if (!diffs)
        return BT_ENOMEM;
    if (strcmp(ev->event_name, "CreateProject") == 0 || strcmp(ev->event_name, "UpdateProject") == 0) {
        /* the response holds the whole project when logged; the request what changed */
        if ((rc = merge_project(t->a, t->project_state, resp ? resp : req,
                                in_window ? diffs : NULL)))
            return rc;
        if (resp && req && (rc = merge_project(t->a, t->project_state, req, NULL)))
            return rc;
        if (strcmp(ev->event_name, "CreateProject") == 0)
            keep_key_settings(diffs);
    } else if (req && req->type == BT_JSON_OBJECT) {
        size_t i;
        for (i = 0; i < req->len; i++) {
            const bt_json_member *m = &req->u.members[i];
            if (strcmp(m->key, "token") == 0 || strcmp(m->key, "projectName") == 0 ||
                strcmp(m->key, "projectArn") == 0)
                continue; /* a source credential's token is never shown */
            if ((rc = add_change(t->a, diffs, m->key, NULL, m->value)))
                return rc;
        }
    }
    if (!in_window)
        return 0;
    c = bt_json_new_object(t->a, 6);
    if (!c || put(t->a, c, "Time", cli_time_value(t->a, ev->time_ms)) ||
        put(t->a, c, "EventName", js(t->a, ev->event_name)) ||
        put(t->a, c, "By", js(t->a, ev->principal_arn)) ||
        put(t->a, c, "EventId", js(t->a, ev->event_id)) || put(t->a, c, "Changes", diffs))
        return BT_ENOMEM;
    return bt_json_array_push(t->a, t->changes, c);
}

static int on_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    tl *t = ctx;
    bt_arena *a = t->a;
    int actor = ev->actor_uuid && strcmp(ev->actor_uuid, t->uuid) == 0;
    bt_json *e = bt_json_new_object(a, 14), *res = bt_json_new_array(a, ev->n_resources);
    const char *kind = ev->kind == BT_KIND_BUILD_STATE   ? "state"
                       : ev->kind == BT_KIND_BUILD_PHASE ? "phase"
                       : actor                           ? "call"
                                                         : "about";
    size_t i;

    (void)pos;
    if (!e || !res)
        return BT_ENOMEM;
    for (i = 0; i < ev->n_resources; i++) {
        const char *ty = ev->resources[i].type;
        if (bt_json_array_push(a, res, js(a, ev->resources[i].name)))
            return BT_ENOMEM;
        if (actor) {
            char key[512];
            bt_json *r;
            snprintf(key, sizeof key, "%s\t%s", ty ? ty : "", ev->resources[i].name);
            r = obj_entry(a, t->resources, key);
            if (!r || bump(a, r, "Calls", 1))
                return BT_ENOMEM;
        }
    }
    if (put(a, e, "Time", cli_time_value(a, ev->time_ms)) || put(a, e, "Kind", js(a, kind)) ||
        put(a, e, "EventSource", js(a, ev->event_source)) ||
        put(a, e, "EventName", js(a, ev->event_name)) ||
        put(a, e, "Username", js(a, ev->username)) || put(a, e, "By", js(a, ev->principal_arn)) ||
        put(a, e, "SourceIP", js(a, ev->source_ip)) ||
        put(a, e, "ErrorCode", js(a, ev->error_code)) ||
        put(a, e, "ErrorMessage", js(a, ev->error_message)) || put(a, e, "Resources", res) ||
        put(a, e, "EventId", js(a, ev->event_id)))
        return BT_ENOMEM;
    if (ev->kind == BT_KIND_BUILD_STATE || ev->kind == BT_KIND_BUILD_PHASE) {
        if (put(a, e, "Status", js(a, ev->kind == BT_KIND_BUILD_STATE ? ev->build_status
                                                                       : ev->phase_status)) ||
            put(a, e, "Phase", js(a, ev->build_phase)))
            return BT_ENOMEM;
    }
    if (bt_json_array_push(a, t->events, e))
        return BT_ENOMEM;
    if (actor && ev->kind == BT_KIND_API) {
        bt_json *svc = obj_entry(a, t->services, ev->event_source ? ev->event_source : "?");
        if (!svc || bump(a, svc, "Calls", 1) || bump(a, svc, "Errors", ev->error_code ? 1 : 0))
            return BT_ENOMEM;
        if (ev->error_code) {
            bt_json *codes = bt_json_get(svc, "ErrorCodes");
            if (!codes) {
                codes = bt_json_new_object(a, 2);
                if (!codes || put(a, svc, "ErrorCodes", codes))
                    return BT_ENOMEM;
            }
            if (bump(a, codes, bt_arena_strdup(a, ev->error_code), 1) ||
                bt_json_array_push(a, t->errors, e))
                return BT_ENOMEM;
        }
    }
    if (ev->build_uuid && strcmp(ev->build_uuid, t->uuid) == 0 && ev->event_name && !ev->error_code) {
        if (strcmp(ev->event_name, "StopBuild") == 0 || strcmp(ev->event_name, "StopBuildBatch") == 0) {
            if (bt_json_array_push(a, t->stops, e))
                return BT_ENOMEM;
        } else if (!t->trigger_request &&
                   (strcmp(ev->event_name, "StartBuild") == 0 ||
                    strcmp(ev->event_name, "RetryBuild") == 0 ||
                    strcmp(ev->event_name, "StartBuildBatch") == 0)) {
            bt_json *rec;
            if (bt_json_parse(a, ev->raw, ev->raw_len, NULL, &rec, NULL) == 0) {
                t->trigger_request = bt_json_get(rec, "requestParameters");
                if (put(a, t->trigger, "Time", cli_time_value(a, ev->time_ms)) ||
                    put(a, t->trigger, "EventName", js(a, ev->event_name)) ||
                    put(a, t->trigger, "By", js(a, ev->principal_arn)) ||
                    put(a, t->trigger, "SourceIP", js(a, ev->source_ip)) ||
                    put(a, t->trigger, "UserAgent", js(a, ev->user_agent)) ||
                    put(a, t->trigger, "EventId", js(a, ev->event_id)))
                    return BT_ENOMEM;
            }
        }
    }
    return 0;
}

/* Overrides in the start request, each compared with the project's own setting. */
static int overrides(tl *t)
{
    static const struct {
        const char *override, *section, *field;
    } map[] = {
        {"buildspecOverride", "source", "buildspec"},
        {"imageOverride", "environment", "image"},
        {"computeTypeOverride", "environment", "computeType"},
        {"environmentTypeOverride", "environment", "type"},
        {"privilegedModeOverride", "environment", "privilegedMode"},
        {"serviceRoleOverride", NULL, "serviceRole"},
        {"sourceLocationOverride", "source", "location"},
        {"sourceTypeOverride", "source", "type"},
        {"timeoutInMinutesOverride", NULL, "timeoutInMinutes"},
        {"sourceVersion", NULL, "sourceVersion"},
    };
    bt_arena *a = t->a;
    bt_json *list = bt_json_new_array(a, 4), *req = t->trigger_request;
    size_t i, k;

    if (!list || put(a, t->trigger, "Overrides", list))
        return BT_ENOMEM;
    if (!req || req->type != BT_JSON_OBJECT)
        return 0;
    for (i = 0; i < req->len; i++) {
        const bt_json_member *m = &req->u.members[i];
        const bt_json *proj = NULL;
        int known = 0, changes;
        if (strcmp(m->key, "environmentVariablesOverride") == 0 && m->value->type == BT_JSON_ARRAY) {
            const bt_json *pv =
                bt_json_get(bt_json_get(t->project_state, "environment"), "environmentVariables");
            for (k = 0; k < m->value->len; k++) {
                const bt_json *v = m->value->u.items[k], *old = NULL;
                const char *n = bt_json_get_str(v, "name");
                bt_json *o = bt_json_new_object(a, 5);
                size_t j;
                char name[256];
                for (j = 0; pv && pv->type == BT_JSON_ARRAY && j < pv->len; j++)
                    if (n && bt_json_is_str(bt_json_get(pv->u.items[j], "name"), n))
                        old = bt_json_get(pv->u.items[j], "value");
                snprintf(name, sizeof name, "environment variable %s", n ? n : "?");
                if (!o || put(a, o, "Name", js(a, name)) ||
                    put(a, o, "Value", compact(a, bt_json_get(v, "value"))) ||
                    put(a, o, "ProjectValue", compact(a, old)) ||
                    put(a, o, "ChangesProject",
                        bt_json_new_bool(a, !old || !bt_json_equal(old, bt_json_get(v, "value")))) ||
                    bt_json_array_push(a, list, o))
                    return BT_ENOMEM;
            }
            continue;
        }
        for (k = 0; k < sizeof map / sizeof map[0]; k++)
            if (strcmp(m->key, map[k].override) == 0) {
                const bt_json *sec = map[k].section ? bt_json_get(t->project_state, map[k].section)
                                                    : t->project_state;
                proj = bt_json_get(sec, map[k].field);
                known = 1;
            }
        if (!known && (m->key_len < 8 || strcmp(m->key + m->key_len - 8, "Override") != 0))
            continue;
        changes = !proj || !bt_json_equal(proj, m->value);
        {
            bt_json *o = bt_json_new_object(a, 4);
            if (!o || put(a, o, "Name", js(a, m->key)) || put(a, o, "Value", compact(a, m->value)) ||
                put(a, o, "ProjectValue", compact(a, proj)) ||
                put(a, o, "ChangesProject", bt_json_new_bool(a, changes)) ||
                bt_json_array_push(a, list, o))
                return BT_ENOMEM;
        }
    }
    return 0;
}

/* services / resources maps -> sorted lists */
static int finish_lists(tl *t)
{
    bt_arena *a = t->a;
    bt_json *sv = bt_json_new_array(a, t->services->len), *rs = bt_json_new_array(a, t->resources->len);
    size_t i;
    if (!sv || !rs)
        return BT_ENOMEM;
    for (i = 0; i < t->services->len; i++) {
        bt_json *o = bt_json_new_object(a, 4), *src = t->services->u.members[i].value;
        bt_json *codes = bt_json_get(src, "ErrorCodes");
        if (!o || put(a, o, "EventSource", js(a, t->services->u.members[i].key)) ||
            put_num(a, o, "Calls", bt_json_get(src, "Calls")->num) ||
            put_num(a, o, "Errors", bt_json_get(src, "Errors")->num) ||
            put(a, o, "ErrorCodes", codes ? codes : bt_json_new_object(a, 0)) ||
            bt_json_array_push(a, sv, o))
            return BT_ENOMEM;
    }
    for (i = 0; i < t->resources->len; i++) {
        const char *key = t->resources->u.members[i].key, *tab = strchr(key, '\t');
        bt_json *o = bt_json_new_object(a, 3);
        if (!o || !tab ||
            put(a, o, "Type", tab == key ? bt_json_new_null(a) : bt_json_new_string(a, key, (size_t)(tab - key))) ||
            put(a, o, "Name", js(a, tab + 1)) ||
            put_num(a, o, "Calls", bt_json_get(t->resources->u.members[i].value, "Calls")->num) ||
            bt_json_array_push(a, rs, o))
            return BT_ENOMEM;
    }
    if (put(a, t->root, "Services", sv) || put(a, t->root, "Resources", rs))
        return BT_ENOMEM;
    return 0;
}

static int64_t time_of(const bt_json *o)
{
    const char *s = bt_json_get_str(o, "Time");
    int64_t ms = 0;
    if (s)
        bt_time_parse_iso(s, strlen(s), &ms);
    return ms;
}

/* stable insertion sort by the "Time" member (lists here are short) */
static void sort_by_time(bt_json *list)
{
    size_t i, j;
    for (i = 1; i < list->len; i++) {
        bt_json *x = list->u.items[i];
        int64_t tx = time_of(x);
        for (j = i; j > 0 && time_of(list->u.items[j - 1]) > tx; j--)
            list->u.items[j] = list->u.items[j - 1];
        list->u.items[j] = x;
    }
}

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

static const char *gs(const bt_json *o, const char *k)
{
    const char *s = bt_json_get_str(o, k);
    return s ? s : "-";
}

static void print_people(const tl *t)
{
    pen p = {isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
    const bt_json *b = t->build, *tr = bt_json_get(b, "Trigger"), *v;
    const char *out = bt_json_get_str(b, "Outcome");
    size_t i, k;

    printf("%sBuild %s%s", C(&p, BLD), gs(b, "BuildId"), C(&p, RST));
    if ((v = bt_json_get(b, "BuildNumber")) && v->type == BT_JSON_NUMBER)
        printf("  #%.0f", v->num);
    printf("  (account %s, %s)\n", gs(b, "Account"), gs(b, "Region"));
    printf("Outcome   %s%s%s", out ? (strcmp(out, "SUCCEEDED") == 0 ? C(&p, GRN) : C(&p, RED)) : "",
           out ? out : "unknown", C(&p, RST));
    if (out)
        printf(" (from %s)", gs(b, "OutcomeSource"));
    printf("\nStarted   %s", gs(b, "StartTime"));
    if ((v = bt_json_get(b, "DurationSeconds")) && v->type == BT_JSON_NUMBER)
        printf("   ran %dm%02ds%s", (int)v->num / 60, (int)v->num % 60,
               bt_json_get(b, "EndTimeEstimated")->type == BT_JSON_TRUE ? " (to its last call)" : "");
    printf("\nTrigger   %s", gs(tr, "Type"));
    if (bt_json_get_str(tr, "Pipeline"))
        printf(" %s", gs(tr, "Pipeline"));
    if (bt_json_get_str(tr, "Principal"))
        printf(" by %s", gs(tr, "Principal"));
    if (bt_json_get_str(tr, "RetryOf"))
        printf(", retry of %s", gs(tr, "RetryOf"));
    if (bt_json_get_str(tr, "BatchUuid"))
        printf(", started by batch %s", gs(tr, "BatchUuid"));
    if (bt_json_get(tr, "Inferred")->type == BT_JSON_TRUE)
        printf(" %s(inferred: no StartBuild record)%s", C(&p, DIM), C(&p, RST));
    printf("\nSource    %s\n", gs(b, "SourceVersion"));
    if (bt_json_get_str(b, "StoppedBy"))
        printf("Stopped   by %s at %s\n", gs(b, "StoppedBy"), gs(b, "StopTime"));
    if (bt_json_get_str(b, "RetriedAs"))
        printf("Retried   as %s\n", gs(b, "RetriedAs"));

    v = bt_json_get(t->root, "ProjectChanges");
    printf("\n%sProject changes before the build (%s)%s\n", C(&p, BLD),
           bt_json_get_str(t->root, "Window"), C(&p, RST));
    if (!v->len)
        printf("  none\n");
    for (i = 0; i < v->len; i++) {
        const bt_json *c = v->u.items[i], *ch = bt_json_get(c, "Changes");
        printf("  %s  %s%s%s by %s\n", gs(c, "Time"), C(&p, YEL), gs(c, "EventName"), C(&p, RST),
               gs(c, "By"));
        for (k = 0; k < ch->len; k++) {
            const bt_json *d = ch->u.items[k];
            const bt_json *o = bt_json_get(d, "Old"), *n = bt_json_get(d, "New");
            printf("      %s: ", gs(d, "Field"));
            if (o->type == BT_JSON_NULL)
                printf("+ %.120s\n", n->type == BT_JSON_STRING ? n->u.str : "null");
            else if (n->type == BT_JSON_NULL)
                printf("- %.120s (removed)\n", o->u.str);
            else
                printf("%.60s -> %.60s\n", o->u.str, n->u.str);
        }
    }
    v = bt_json_get(t->trigger, "Overrides");
    if (bt_json_get_str(t->trigger, "EventName")) {
        printf("\n%sTrigger%s\n  %s  %s by %s from %s\n", C(&p, BLD), C(&p, RST),
               gs(t->trigger, "Time"), gs(t->trigger, "EventName"), gs(t->trigger, "By"),
               gs(t->trigger, "SourceIP"));
        for (i = 0; v && i < v->len; i++) {
            const bt_json *o = v->u.items[i];
            int ch = bt_json_get(o, "ChangesProject")->type == BT_JSON_TRUE;
            const bt_json *pv = bt_json_get(o, "ProjectValue");
            printf("      %s%s = %.80s%s", ch ? C(&p, YEL) : "", gs(o, "Name"), gs(o, "Value"),
                   ch ? C(&p, RST) : "");
            if (ch)
                printf("  %s<- project: %.60s%s", C(&p, YEL),
                       pv->type == BT_JSON_NULL ? "not set (its default)" : pv->u.str, C(&p, RST));
            printf("\n");
        }
    }
    v = bt_json_get(t->root, "Services");
    printf("\n%sWhat the build's role session did%s: %.0f calls, %.0f failed\n", C(&p, BLD),
           C(&p, RST), bt_json_get(b, "Calls")->num, bt_json_get(b, "Errors")->num);
    for (i = 0; i < v->len; i++) {
        const bt_json *s = v->u.items[i], *codes = bt_json_get(s, "ErrorCodes");
        printf("  %-34s %5.0f calls", gs(s, "EventSource"), bt_json_get(s, "Calls")->num);
        if (bt_json_get(s, "Errors")->num > 0) {
            printf("  %s%.0f failed", C(&p, RED), bt_json_get(s, "Errors")->num);
            for (k = 0; k < codes->len; k++)
                printf("%s %s x%.0f", k ? "," : ":", codes->u.members[k].key,
                       codes->u.members[k].value->num);
            printf("%s", C(&p, RST));
        }
        printf("\n");
    }
    v = bt_json_get(t->root, "Resources");
    if (v->len)
        printf("\n%sResources it touched%s\n", C(&p, BLD), C(&p, RST));
    for (i = 0; i < v->len; i++)
        printf("  %-32s %s (%.0f)\n", gs(v->u.items[i], "Type"), gs(v->u.items[i], "Name"),
               bt_json_get(v->u.items[i], "Calls")->num);
    v = bt_json_get(t->root, "Events");
    printf("\n%sTimeline%s\n", C(&p, BLD), C(&p, RST));
    for (i = 0; i < v->len; i++) {
        const bt_json *e = v->u.items[i];
        const char *kind = gs(e, "Kind"), *err = bt_json_get_str(e, "ErrorCode");
        const char *src = gs(e, "EventSource"), *dot = strchr(src, '.');
        if (strcmp(kind, "state") == 0 || strcmp(kind, "phase") == 0) {
            const char *st = bt_json_get_str(e, "Status");
            printf("  %s  %s[%s] %s %s%s\n", gs(e, "Time"), C(&p, DIM), kind, gs(e, "Phase"),
                   st ? st : "", C(&p, RST));
            continue;
        }
        printf("  %s  %s%.*s %s%s", gs(e, "Time"), strcmp(kind, "about") == 0 ? C(&p, BLD) : "",
               dot ? (int)(dot - src) : (int)strlen(src), src, gs(e, "EventName"),
               strcmp(kind, "about") == 0 ? C(&p, RST) : "");
        if (strcmp(kind, "about") == 0)
            printf("  by %s", gs(e, "By"));
        if (err)
            printf("  %s%s: %.100s%s", C(&p, RED), err, gs(e, "ErrorMessage"), C(&p, RST));
        printf("\n");
    }
}

/* ---- command ------------------------------------------------------------------------- */

typedef struct bopts {
    cli_common c;
    const char *window;
    build_live live;
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

/* ---- --live (build_live.c gathers; these connect it to the timeline) ----------------- */

/* Fetches the build's events into a temporary store that the timeline then reads. */
static int live_prepare(bopts *o, tl *t, const char *arg, const char *uuid)
{
    const char *store_path = NULL;
    int code = build_live_prepare(&o->live, arg, uuid, &store_path);
    if (code)
        return code;
    o->c.store = store_path;
    t->live = &o->live;
    return 0;
}

/* The store's summary, completed by BatchGetBuilds (status, phases, number). */
static int live_on_summary(void *ctx, const bt_build *b)
{
    tl *t = ctx;
    bt_build copy = *b;
    build_live_summary(t->live, &copy);
    return on_summary(ctx, &copy);
}

/* No event names the build, but CodeBuild knows it: its summary from BatchGetBuilds. */
static void live_only_summary(tl *t)
{
    bt_build b;
    memset(&b, 0, sizeof b);
    b.number = -1;
    build_live_summary(t->live, &b);
    on_summary(t, &b);
}

static int cmd_build(int argc, char **argv)
{
    bopts o;
    tl t;
    char **pos = NULL, *path = NULL, uuid[37];
    const char *u;
    int npos = 0, rc, code = EXIT_OK;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    int64_t w;

    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    cli_common_init(&o.c);
    build_live_init(&o.live);
    rc = cli_parse(&cmd_build_def, argc, argv, on_opt, &o, &pos, &npos);
    if (rc) {
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (npos != 1) {
        cli_err("build: give one build: project:uuid, a uuid, or a build ARN");
        free(pos);
        return EXIT_USAGE;
    }
    if (!(u = bt_filter_build_uuid(pos[0]))) {
        cli_err("build '%s': not a build id, uuid or ARN (expected project:uuid, a uuid, or "
                "arn:...:build/project:uuid)",
                pos[0]);
        free(pos);
        return EXIT_USAGE;
    }
    snprintf(uuid, sizeof uuid, "%.36s", u);
    t.uuid = uuid;
    t.window_ms = 7 * 86400000LL;
    if (o.window) {
        if (bt_time_parse_user(o.window, 0, &w, &err) || w > 0 ||
            !strchr("smhdw", o.window[strlen(o.window) - 1])) {
            cli_err("--window '%s': expected an age such as 90m, 12h, 7d", o.window);
            free(pos);
            return EXIT_USAGE;
        }
        t.window_ms = -w;
    }
    t.a = bt_arena_new(1 << 16, 0);
    if (!t.a) {
        code = EXIT_ERROR;
        goto done;
    }
    t.root = bt_json_new_object(t.a, 12);
    t.events = bt_json_new_array(t.a, 64);
    t.services = bt_json_new_object(t.a, 8);
    t.resources = bt_json_new_object(t.a, 8);
    t.errors = bt_json_new_array(t.a, 8);
    t.changes = bt_json_new_array(t.a, 4);
    t.trigger = bt_json_new_object(t.a, 8);
    t.stops = bt_json_new_array(t.a, 1);
    t.project_state = bt_json_new_object(t.a, 16);
    if (!t.root || !t.events || !t.services || !t.resources || !t.errors || !t.changes ||
        !t.trigger || !t.stops || !t.project_state)
        goto oom;
    if (o.live.on && (code = live_prepare(&o, &t, pos[0], uuid)))
        goto done;
    if (!(path = cli_store_path(&o.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (bt_store_open(path, BT_STORE_READONLY, &t.s, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    if ((rc = bt_store_builds(t.s, uuid, t.live ? live_on_summary : on_summary, &t, &err))) {
        code = rc == BT_ENOMEM ? (cli_err("out of memory"), EXIT_ERROR) : cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    if (!t.found && t.live && t.live->build)
        live_only_summary(&t);
    if (!t.found && t.live) {
        cli_err("build '%s': not in the event history%s%s", pos[0],
                t.live->cb_note[0] ? "; " : "", t.live->cb_note);
        code = EXIT_NOTFOUND;
        goto done;
    }
    if (!t.found) {
        cli_err("build '%s': not in the store '%s' (see 'buildtrail builds')", pos[0], path);
        code = EXIT_NOTFOUND;
        goto done;
    }
    /* the window: since the previous build of the project, unless --window says */
    if (!o.window) {
        char prev[37];
        int64_t prev_ms;
        snprintf(t.window_text, sizeof t.window_text, "7d (no earlier build of the project)");
        if (t.project && t.start_ms &&
            bt_store_previous_build(t.s, t.project, t.account, t.start_ms, prev, &prev_ms, &err) == 0) {
            t.window_ms = t.start_ms - prev_ms;
            snprintf(t.window_text, sizeof t.window_text, "since the previous build %s", prev);
        }
    } else {
        snprintf(t.window_text, sizeof t.window_text, "%s", o.window);
    }
    /* the project's history up to the build: its state, and the changes in the window */
    if (t.project) {
        size_t i;
        bt_filter_init(&f);
        for (i = 0; i < sizeof change_names / sizeof change_names[0]; i++)
            if (strcmp(change_names[i], "ImportSourceCredentials") &&
                strcmp(change_names[i], "DeleteSourceCredentials"))
                bt_filter_add(&f, BT_F_EVENT_NAME, change_names[i], &err);
        if (t.account)
            bt_filter_add(&f, BT_F_ACCOUNT, t.account, &err);
        f.end_ms = t.start_ms;
        memset(&q, 0, sizeof q);
        q.filter = &f;
        q.oldest_first = 1;
        if ((rc = bt_store_search(t.s, &q, on_project_event, &t, &err)))
            goto store_fail;
    }
    if (t.account) {
        /* source credentials are account-wide, not per project */
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_EVENT_NAME, "ImportSourceCredentials", &err);
        bt_filter_add(&f, BT_F_EVENT_NAME, "DeleteSourceCredentials", &err);
        bt_filter_add(&f, BT_F_ACCOUNT, t.account, &err);
        f.start_ms = t.start_ms - t.window_ms;
        f.end_ms = t.start_ms;
        memset(&q, 0, sizeof q);
        q.filter = &f;
        q.oldest_first = 1;
        if ((rc = bt_store_search(t.s, &q, on_project_event, &t, &err)))
            goto store_fail;
    }
    sort_by_time(t.changes);
    /* everything about the build and everything its role session did */
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_BUILD, uuid, &err);
    memset(&q, 0, sizeof q);
    q.filter = &f;
    q.oldest_first = 1;
    if ((rc = bt_store_search(t.s, &q, on_event, &t, &err)))
        goto store_fail;
    if (overrides(&t) || finish_lists(&t))
        goto oom;
    {
        if (put(t.a, t.root, "Build", t.build) || put(t.a, t.root, "Window", js(t.a, t.window_text)) ||
            put(t.a, t.root, "ProjectChanges", t.changes) || put(t.a, t.root, "Trigger", t.trigger) ||
            put(t.a, t.root, "Stops", t.stops) || put(t.a, t.root, "Errors", t.errors) ||
            put(t.a, t.root, "Events", t.events))
            goto oom;
    }
    if (t.live && build_live_decorate(t.live, t.a, t.root))
        goto oom;
    if (o.c.output || o.c.query)
        code = cli_out_value(o.c.output ? o.c.output : "json", o.c.query, "Build", t.root);
    else {
        print_people(&t);
        if (t.live)
            build_live_print(t.live, stdout);
    }
    goto done;
store_fail:
    code = rc == BT_ENOMEM ? (cli_err("out of memory"), EXIT_ERROR) : cli_fail(&err, EXIT_ERROR);
    goto done;
oom:
    cli_err("out of memory");
    code = EXIT_ERROR;
done:
    bt_store_close(t.s);
    bt_arena_free(t.a);
    build_live_dispose(&o.live);
    free(path);
    free(pos);
    return code;
}
