/* event.c - extracting the indexed fields and CodeBuild derivations from a record. */
#include <string.h>

#include "buildtrail/event.h"
#include "buildtrail/timeutil.h"

/* an event keeps at most this many distinct resources: the record's own first, then the
 * table's in its order, then the CodeBuild ones; later ones are dropped */
#define MAX_RESOURCES 64

static const char *str_of(const bt_json *v)
{
    return v && v->type == BT_JSON_STRING ? v->u.str : NULL;
}

static const char *after_last(const char *s, char c)
{
    const char *p = s ? strrchr(s, c) : NULL;
    return p ? p + 1 : s;
}

/* A byte's value as a hex digit plus one (0: not one), by table: ingest packs every
 * event's id, where isxdigit's and tolower's calls were 2% of its CPU. */
static const unsigned char g_hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};

/* 36 bytes at p are a UUID's text: hex digits, dashes at 8, 13, 18 and 23. */
static int uuid_at(const char *p)
{
    int i;
    for (i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? p[i] != '-' : !g_hex1[(unsigned char)p[i]])
            return 0;
    return 1;
}

const char *bt_event_codebuild_session_uuid(const char *s)
{
    const char *p;
    if (!s)
        return NULL;
    for (p = strstr(s, "AWSCodeBuild-"); p; p = strstr(p + 1, "AWSCodeBuild-")) {
        const char *u = p + 13;
        if (strlen(u) >= 36 && uuid_at(u))
            return u;
    }
    return NULL;
}

int bt_event_uuid_pack(const char *s, unsigned char out[16])
{
    int i, n = 0;
    if (!s || strlen(s) != 36 || !uuid_at(s))
        return 0;
    for (i = 0; i < 36 && n < 16; i++) {
        if (s[i] == '-')
            continue;
        out[n++] = (unsigned char)((g_hex1[(unsigned char)s[i]] - 1) << 4 |
                                   (g_hex1[(unsigned char)s[i + 1]] - 1));
        i++;
    }
    return n == 16;
}

/* "arn:aws:codebuild:r:a:build/proj:uuid" or "proj:uuid" -> build id "proj:uuid" */
static const char *build_id_of(bt_arena *a, const char *s)
{
    const char *p;
    if (!s)
        return NULL;
    if (strncmp(s, "arn:", 4) == 0) {
        p = strstr(s, ":build/");
        if (!p)
            p = strstr(s, ":build-batch/");
        if (!p)
            return NULL;
        s = strchr(p + 1, '/') + 1;
    }
    p = strrchr(s, ':');
    if (!p || p == s || strlen(p + 1) != 36 || !uuid_at(p + 1))
        return NULL;
    return bt_arena_strdup(a, s);
}

static const char *project_of_build_id(bt_arena *a, const char *id)
{
    const char *p = id ? strrchr(id, ':') : NULL;
    return p ? bt_arena_strndup(a, id, (size_t)(p - id)) : NULL;
}

static const char *project_of_arn(bt_arena *a, const char *arn)
{
    const char *p = arn ? strstr(arn, ":project/") : NULL;
    return p ? bt_arena_strdup(a, p + 9) : NULL;
}

static int add_resource(bt_arena *a, bt_event *ev, const char *type, const char *name)
{
    size_t i;
    if (!name || !*name)
        return 0;
    for (i = 0; i < ev->n_resources; i++)
        if (strcmp(ev->resources[i].name, name) == 0 &&
            ((!type && !ev->resources[i].type) ||
             (type && ev->resources[i].type && strcmp(type, ev->resources[i].type) == 0)))
            return 0;
    if (ev->n_resources >= MAX_RESOURCES)
        return 0;
    if (!ev->resources) {
        ev->resources = bt_arena_alloc(a, sizeof(bt_resource) * MAX_RESOURCES);
        if (!ev->resources)
            return BT_ENOMEM;
    }
    ev->resources[ev->n_resources].type = type;
    ev->resources[ev->n_resources].name = name;
    ev->n_resources++;
    return 0;
}

/* bt_resource_rules_apply's callback: the table's finds join the event's resources */
typedef struct derive_ctx {
    bt_arena *a;
    bt_event *ev;
} derive_ctx;

static int on_rule(void *ctx, const bt_resource_rule *rule, const char *name)
{
    derive_ctx *d = ctx;
    return add_resource(d->a, d->ev, rule->type, name);
}

static int is_source(const bt_event *ev, const char *src)
{
    return ev->event_source && strcmp(ev->event_source, src) == 0;
}

static int name_is(const bt_event *ev, const char *n)
{
    return ev->event_name && strcmp(ev->event_name, n) == 0;
}

static int derive_codebuild(bt_arena *a, bt_event *ev, const bt_json *rec, bool resources)
{
    const bt_json *req = bt_json_get(rec, "requestParameters");
    const bt_json *resp = bt_json_get(rec, "responseElements");
    const char *s, *id = NULL, *proj = NULL;
    const char *arn;
    int rc;

    if (req && req->type != BT_JSON_OBJECT)
        req = NULL;
    if (resp && resp->type != BT_JSON_OBJECT)
        resp = NULL;

    if (is_source(ev, "codebuild.amazonaws.com")) {
        /* build id: response first (StartBuild, RetryBuild, StopBuild), then request */
        const bt_json *b = resp ? bt_json_get(resp, "build") : NULL;
        if (!b && resp)
            b = bt_json_get(resp, "buildBatch");
        if (b)
            id = build_id_of(a, bt_json_get_str(b, "id"));
        if (b && !proj)
            proj = str_of(bt_json_get(b, "projectName"));
        if (!id && req &&
            (name_is(ev, "StopBuild") || name_is(ev, "RetryBuild") ||
             name_is(ev, "StopBuildBatch") || name_is(ev, "RetryBuildBatch") ||
             name_is(ev, "DeleteBuildBatch")))
            id = build_id_of(a, bt_json_get_str(req, "id"));
        if (!id && req &&
            (name_is(ev, "BatchGetBuilds") || name_is(ev, "BatchDeleteBuilds") ||
             name_is(ev, "BatchGetBuildBatches"))) {
            const bt_json *ids = bt_json_get(req, "ids");
            if (ids && ids->type == BT_JSON_ARRAY && ids->len > 0)
                id = build_id_of(a, str_of(ids->u.items[0]));
        }
        if (req && !proj)
            proj = str_of(bt_json_get(req, "projectName"));
        if (req && !proj &&
            (name_is(ev, "CreateProject") || name_is(ev, "UpdateProject") ||
             name_is(ev, "DeleteProject") || name_is(ev, "InvalidateProjectCache")))
            proj = str_of(bt_json_get(req, "name"));
        if (!proj && resp) {
            const bt_json *p = bt_json_get(resp, "project");
            if (p)
                proj = str_of(bt_json_get(p, "name"));
        }
        if (!proj && req) {
            proj = project_of_arn(a, bt_json_get_str(req, "projectArn"));
            if (!proj)
                proj = project_of_arn(a, bt_json_get_str(req, "resourceArn"));
        }
        if (!proj && id)
            proj = project_of_build_id(a, id);
    }
    /* resources named in the record */
    if (resources) {
        const bt_json *res = bt_json_get(rec, "resources");
        size_t i;
        if (res && res->type == BT_JSON_ARRAY)
            for (i = 0; i < res->len; i++) {
                const bt_json *r = res->u.items[i];
                const char *n = bt_json_get_str(r, "ARN");
                if (!n)
                    n = bt_json_get_str(r, "arn");
                if ((rc = add_resource(a, ev, bt_json_get_str(r, "type"), n)))
                    return rc;
            }
    }
    /* then those the call names (src/core/resources.c) */
    if (resources) {
        derive_ctx d;
        d.a = a;
        d.ev = ev;
        if ((rc =
                 bt_resource_rules_apply(req, resp, ev->event_source, ev->event_name, on_rule, &d)))
            return rc;
    }

    ev->build_id = id;
    ev->project = proj;
    if (id)
        ev->build_uuid = after_last(id, ':');
    /* the actor: a call made by a running build carries its role session name */
    s = bt_event_codebuild_session_uuid(ev->principal_arn);
    if (!s)
        s = bt_event_codebuild_session_uuid(ev->principal_id);
    if (s && !(ev->actor_uuid = bt_arena_strndup(a, s, 36)))
        return BT_ENOMEM;

    if (!resources)
        return 0;
    if (proj) {
        arn = (ev->region && ev->account)
                  ? bt_arena_sprintf(a, "arn:aws:codebuild:%s:%s:project/%s", ev->region,
                                     ev->account, proj)
                  : NULL;
        if ((rc = add_resource(a, ev, "AWS::CodeBuild::Project", proj)))
            return rc;
        if (arn && (rc = add_resource(a, ev, "AWS::CodeBuild::Project", arn)))
            return rc;
    }
    if (id && ev->region && ev->account) {
        arn = bt_arena_sprintf(a, "arn:aws:codebuild:%s:%s:build/%s", ev->region, ev->account, id);
        if (arn && (rc = add_resource(a, ev, "AWS::CodeBuild::Build", arn)))
            return rc;
    }
    return 0;
}

/* The role session name of an assumed role: the ARN's part after role/, else (an ARN
 * with no session part, or none) principalId's part after the colon, as the event
 * history shows it. NULL when neither says. */
static const char *assumed_session(const bt_event *ev)
{
    const char *p = ev->principal_arn ? strstr(ev->principal_arn, ":assumed-role/") : NULL;
    const char *slash = p ? strchr(p + 14, '/') : NULL;
    const char *colon = ev->principal_id ? strchr(ev->principal_id, ':') : NULL;
    if (slash && slash[1])
        return slash + 1;
    if (colon && colon[1])
        return colon + 1;
    return p ? after_last(ev->principal_arn, '/') : NULL;
}

static unsigned long long fnv1a(const char *p, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    while (n--)
        h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
    return h;
}

static int parse_time(const bt_json *v, int64_t *ms)
{
    if (v && v->type == BT_JSON_STRING)
        return bt_time_parse_iso(v->u.str, v->len, ms);
    if (v && v->type == BT_JSON_NUMBER) {
        if (!(v->num > -62135596800.0 && v->num < 253402300800.0))
            return BT_EPARSE; /* outside years 1..9999 (and no NaN) */
        *ms = (int64_t)(v->num * 1000.0);
        return 0;
    }
    return BT_EPARSE;
}

/* The members of a record and of its userIdentity that extraction reads, found in one
 * pass over each object (records have ~20 members; ~30 separate lookups cost more
 * than the parse). The first occurrence of a key wins, as with bt_json_get. */
typedef struct rec_members {
    const bt_json *event_id, *event_time, *event_name, *event_source, *region, *source_ip,
        *user_agent, *error_code, *error_message, *event_type, *request_id, *read_only,
        *user_identity, *recipient, *at_timestamp, *insight;
} rec_members;

typedef struct uid_members {
    const bt_json *type, *arn, *principal_id, *access_key_id, *invoked_by, *account, *user_name;
} uid_members;

#define KEY(m, lit) ((m)->key_len == sizeof(lit) - 1 && memcmp((m)->key, lit, sizeof(lit) - 1) == 0)
#define SET(slot, m)                                                                               \
    do {                                                                                           \
        if (!(slot))                                                                               \
            (slot) = (m)->value;                                                                   \
    } while (0)

static void scan_record(const bt_json *rec, rec_members *r)
{
    size_t i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < rec->len; i++) {
        const bt_json_member *m = &rec->u.members[i];
        switch (m->key[0]) {
        case 'e':
            if (KEY(m, "eventID"))
                SET(r->event_id, m);
            else if (KEY(m, "eventTime"))
                SET(r->event_time, m);
            else if (KEY(m, "eventName"))
                SET(r->event_name, m);
            else if (KEY(m, "eventSource"))
                SET(r->event_source, m);
            else if (KEY(m, "eventType"))
                SET(r->event_type, m);
            else if (KEY(m, "errorCode"))
                SET(r->error_code, m);
            else if (KEY(m, "errorMessage"))
                SET(r->error_message, m);
            break;
        case 'a':
            if (KEY(m, "awsRegion"))
                SET(r->region, m);
            break;
        case 'i':
            if (KEY(m, "insightDetails"))
                SET(r->insight, m);
            break;
        case '@': /* Logstash / Elastic exports */
            if (KEY(m, "@timestamp"))
                SET(r->at_timestamp, m);
            break;
        case 's':
            if (KEY(m, "sourceIPAddress"))
                SET(r->source_ip, m);
            break;
        case 'u':
            if (KEY(m, "userAgent"))
                SET(r->user_agent, m);
            else if (KEY(m, "userIdentity"))
                SET(r->user_identity, m);
            break;
        case 'r':
            if (KEY(m, "requestID"))
                SET(r->request_id, m);
            else if (KEY(m, "readOnly"))
                SET(r->read_only, m);
            else if (KEY(m, "recipientAccountId"))
                SET(r->recipient, m);
            break;
        }
    }
}

static void scan_identity(const bt_json *uid, uid_members *u)
{
    size_t i;
    memset(u, 0, sizeof *u);
    for (i = 0; i < uid->len; i++) {
        const bt_json_member *m = &uid->u.members[i];
        if (KEY(m, "type"))
            SET(u->type, m);
        else if (KEY(m, "arn"))
            SET(u->arn, m);
        else if (KEY(m, "principalId"))
            SET(u->principal_id, m);
        else if (KEY(m, "accessKeyId"))
            SET(u->access_key_id, m);
        else if (KEY(m, "invokedBy"))
            SET(u->invoked_by, m);
        else if (KEY(m, "accountId"))
            SET(u->account, m);
        else if (KEY(m, "userName"))
            SET(u->user_name, m);
    }
}
#undef KEY
#undef SET

static int from_record(bt_arena *a, const bt_json *rec, bt_event *ev, bool resources, bt_error *err)
{
    rec_members r;
    const char *t;

    memset(ev, 0, sizeof *ev);
    if (!rec || rec->type != BT_JSON_OBJECT)
        return bt_error_set(err, BT_EPARSE, "record is not a JSON object");
    scan_record(rec, &r);
    ev->raw = rec->src;
    ev->raw_len = rec->src_len;
    ev->read_only = -1;
    ev->event_id = str_of(r.event_id);
    if (!ev->event_id || !*ev->event_id) { /* an empty id is no id: keyed by content */
        ev->event_id = bt_arena_sprintf(a, "x-%016llx", fnv1a(rec->src, rec->src_len));
        if (!ev->event_id)
            return BT_ENOMEM;
    }
    if (!r.event_time) /* a Logstash export: its @timestamp is the event time */
        r.event_time = r.at_timestamp;
    if (parse_time(r.event_time, &ev->time_ms))
        return bt_error_set(err, BT_EPARSE, "record '%s' has no valid eventTime", ev->event_id);
    ev->event_name = str_of(r.event_name);
    ev->event_source = str_of(r.event_source);
    ev->region = str_of(r.region);
    ev->source_ip = str_of(r.source_ip);
    ev->user_agent = str_of(r.user_agent);
    ev->error_code = str_of(r.error_code);
    ev->error_message = str_of(r.error_message);
    ev->event_type = str_of(r.event_type);
    ev->request_id = str_of(r.request_id);
    ev->kind = ev->event_type && strcmp(ev->event_type, "AwsCloudTrailInsight") == 0
                   ? BT_KIND_INSIGHT
                   : BT_KIND_API;
    if (ev->kind == BT_KIND_INSIGHT && r.insight && r.insight->type == BT_JSON_OBJECT) {
        /* an Insights event is about a call: its name and source, as the history shows */
        if (!ev->event_name)
            ev->event_name = bt_json_get_str(r.insight, "eventName");
        if (!ev->event_source)
            ev->event_source = bt_json_get_str(r.insight, "eventSource");
    }
    if (r.read_only) {
        if (r.read_only->type == BT_JSON_TRUE || bt_json_is_str(r.read_only, "true"))
            ev->read_only = 1;
        else if (r.read_only->type == BT_JSON_FALSE || bt_json_is_str(r.read_only, "false"))
            ev->read_only = 0;
    }
    if (r.user_identity && r.user_identity->type == BT_JSON_OBJECT) {
        uid_members u;
        scan_identity(r.user_identity, &u);
        ev->identity_type = str_of(u.type);
        ev->principal_arn = str_of(u.arn);
        ev->principal_id = str_of(u.principal_id);
        ev->access_key_id = str_of(u.access_key_id);
        ev->invoked_by = str_of(u.invoked_by);
        ev->account = str_of(u.account);
        t = ev->identity_type ? ev->identity_type : "";
        if (strcmp(t, "AssumedRole") == 0 && (ev->session_name = assumed_session(ev))) {
            ev->username = ev->session_name;
        } else if (strcmp(t, "Root") == 0) {
            ev->username = "root";
        } else if (str_of(u.user_name)) {
            ev->username = str_of(u.user_name);
        } else if (strcmp(t, "FederatedUser") == 0 && ev->principal_arn) {
            ev->username = after_last(ev->principal_arn, '/');
        } else if (strcmp(t, "AWSService") == 0) {
            ev->username = ev->invoked_by;
        }
        if (!ev->session_name && ev->principal_id && strchr(ev->principal_id, ':') &&
            strcmp(t, "AssumedRole") != 0 && bt_event_codebuild_session_uuid(ev->principal_id))
            ev->session_name = after_last(ev->principal_id, ':');
    }
    t = str_of(r.recipient);
    if (t)
        ev->account = t;
    return derive_codebuild(a, ev, rec, resources) ? bt_error_set(err, BT_ENOMEM, "out of memory")
                                                   : 0;
}

int bt_event_from_record(bt_arena *a, const bt_json *rec, bt_event *ev, bt_error *err)
{
    return from_record(a, rec, ev, true, err);
}

int bt_event_from_record_lite(bt_arena *a, const bt_json *rec, bt_event *ev, bt_error *err)
{
    return from_record(a, rec, ev, false, err);
}

int bt_event_from_raw(bt_arena *a, const char *raw, size_t len, bt_event_kind kind, bool lite,
                      bt_json **rec, bt_event *ev, bt_error *err)
{
    bt_json *v;
    int rc = bt_json_parse(a, raw, len, NULL, &v, err);
    if (rc)
        return rc;
    if (rec)
        *rec = v;
    rc = kind == BT_KIND_BUILD_STATE || kind == BT_KIND_BUILD_PHASE
             ? bt_event_from_build_status(a, v, ev, err)
         : lite ? bt_event_from_record_lite(a, v, ev, err)
                : bt_event_from_record(a, v, ev, err);
    if (rc)
        return rc;
    ev->raw = raw;
    ev->raw_len = len;
    return 0;
}

int bt_event_from_build_status(bt_arena *a, const bt_json *env, bt_event *ev, bt_error *err)
{
    const char *dt = bt_json_get_str(env, "detail-type");
    const bt_json *detail = bt_json_get(env, "detail");
    const char *bid;
    int rc;

    memset(ev, 0, sizeof *ev);
    if (!dt || !detail || detail->type != BT_JSON_OBJECT)
        return BT_ENOTFOUND;
    if (strcmp(dt, "CodeBuild Build State Change") == 0)
        ev->kind = BT_KIND_BUILD_STATE;
    else if (strcmp(dt, "CodeBuild Build Phase Change") == 0)
        ev->kind = BT_KIND_BUILD_PHASE;
    else
        return BT_ENOTFOUND;
    ev->raw = env->src;
    ev->raw_len = env->src_len;
    ev->read_only = -1;
    ev->event_name = dt;
    ev->event_source = bt_json_get_str(env, "source");
    ev->event_type = "EventBridge";
    ev->region = bt_json_get_str(env, "region");
    ev->account = bt_json_get_str(env, "account");
    if (ev->account && ev->account[0] == ':') /* a doc example has ":123456789012" */
        ev->account++;
    ev->event_id = bt_json_get_str(env, "id");
    if (!ev->event_id || !*ev->event_id) {
        ev->event_id = bt_arena_sprintf(a, "x-%016llx", fnv1a(env->src, env->src_len));
        if (!ev->event_id)
            return BT_ENOMEM;
    }
    if (parse_time(bt_json_get(env, "time"), &ev->time_ms))
        return bt_error_set(err, BT_EPARSE, "event '%s' has no valid time", ev->event_id);
    ev->project = bt_json_get_str(detail, "project-name");
    bid = bt_json_get_str(detail, "build-id");
    ev->build_id = build_id_of(a, bid);
    if (ev->build_id) {
        ev->build_uuid = after_last(ev->build_id, ':');
        if (!ev->project)
            ev->project = project_of_build_id(a, ev->build_id);
    }
    ev->build_status = bt_json_get_str(detail, "build-status");
    if (ev->kind == BT_KIND_BUILD_PHASE) {
        ev->build_phase = bt_json_get_str(detail, "completed-phase");
        ev->phase_status = bt_json_get_str(detail, "completed-phase-status");
    } else {
        ev->build_phase = bt_json_get_str(detail, "current-phase");
    }
    {
        const bt_json *ai = bt_json_get(detail, "additional-information");
        const char *init = ai ? bt_json_get_str(ai, "initiator") : NULL;
        if (init)
            ev->username = init;
    }
    if (bid && (rc = add_resource(a, ev, "AWS::CodeBuild::Build", bid)))
        return rc;
    if (ev->project && (rc = add_resource(a, ev, "AWS::CodeBuild::Project", ev->project)))
        return rc;
    return 0;
}

static const char *dup(bt_arena *a, const char *s, int *fail)
{
    char *d;
    if (!s)
        return NULL;
    d = bt_arena_strdup(a, s);
    if (!d)
        *fail = 1;
    return d;
}

int bt_event_copy(bt_arena *dst, const bt_event *src, bt_event *out)
{
    int fail = 0;
    size_t i;
    char *raw;

    *out = *src;
    raw = bt_arena_alloc(dst, src->raw_len + 1);
    if (!raw)
        return BT_ENOMEM;
    memcpy(raw, src->raw, src->raw_len);
    raw[src->raw_len] = '\0';
    out->raw = raw;
#define D(f) out->f = dup(dst, src->f, &fail)
    D(event_id);
    D(event_name);
    D(event_source);
    D(region);
    D(account);
    D(identity_type);
    D(principal_arn);
    D(principal_id);
    D(username);
    D(session_name);
    D(access_key_id);
    D(invoked_by);
    D(source_ip);
    D(user_agent);
    D(error_code);
    D(error_message);
    D(event_type);
    D(request_id);
    D(project);
    D(build_id);
    D(build_uuid);
    D(actor_uuid);
    D(build_status);
    D(build_phase);
    D(phase_status);
#undef D
    if (src->n_resources) {
        out->resources = bt_arena_alloc(dst, sizeof(bt_resource) * src->n_resources);
        if (!out->resources)
            return BT_ENOMEM;
        for (i = 0; i < src->n_resources; i++) {
            out->resources[i].type = dup(dst, src->resources[i].type, &fail);
            out->resources[i].name = dup(dst, src->resources[i].name, &fail);
        }
    }
    return fail ? BT_ENOMEM : 0;
}
