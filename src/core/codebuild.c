/* codebuild.c - extracting CodeBuild lifecycle facts (start, trigger, overrides,
 * retry, batch, stop, state) from records and EventBridge events. */
#include <string.h>

#include "buildtrail/codebuild.h"
#include "buildtrail/timeutil.h"

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
    return eq(ev->event_name, "StartBuild") || eq(ev->event_name, "RetryBuild") ||
           eq(ev->event_name, "StartBuildBatch") || eq(ev->event_name, "StopBuild") ||
           eq(ev->event_name, "StopBuildBatch");
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

int bt_build_facts_from(bt_arena *a, const bt_json *rec, const bt_event *ev, bt_build_facts *f)
{
    const bt_json *req, *resp, *b;

    memset(f, 0, sizeof *f);
    f->number = -1;
    if (!bt_build_facts_possible(ev))
        return 0;
    if (ev->kind == BT_KIND_BUILD_STATE || ev->kind == BT_KIND_BUILD_PHASE) {
        const bt_json *d = bt_json_get(rec, "detail"), *ai;
        const char *st;
        if (!ev->build_uuid)
            return 0;
        f->kind = ev->kind == BT_KIND_BUILD_STATE ? BT_BF_STATE : BT_BF_PHASE;
        f->uuid = ev->build_uuid;
        f->build_id = ev->build_id;
        f->project = ev->project;
        ai = bt_json_get(d, "additional-information");
        f->initiator = str(ai, "initiator");
        f->source_version = str(ai, "source-version");
        st = str(ai, "build-start-time");
        if (st)
            bt_time_parse_java(st, strlen(st), &f->start_ms);
        if (f->kind == BT_BF_STATE)
            f->status = ev->build_status;
        if (f->initiator && strncmp(f->initiator, "codepipeline/", 13) == 0)
            f->trigger_type = "pipeline";
        else if (f->initiator && strncmp(f->initiator, "GitHub-Hookshot/", 16) == 0)
            f->trigger_type = "webhook";
        return 0;
    }
    req = bt_json_get(rec, "requestParameters");
    resp = bt_json_get(rec, "responseElements");
    if (eq(ev->event_name, "StopBuild") || eq(ev->event_name, "StopBuildBatch")) {
        if (!ev->build_uuid)
            return 0;
        f->kind = BT_BF_STOP;
        f->uuid = ev->build_uuid;
        f->build_id = ev->build_id;
        f->project = ev->project;
        f->status = "STOPPED";
        return 0;
    }
    b = bt_json_get(resp, "build");
    if (!b)
        b = bt_json_get(resp, "buildBatch");
    if (!ev->build_uuid || !ev->build_id)
        return 0;
    f->kind = eq(ev->event_name, "RetryBuild")        ? BT_BF_RETRY
              : eq(ev->event_name, "StartBuildBatch") ? BT_BF_BATCH_START
                                                      : BT_BF_START;
    f->uuid = ev->build_uuid;
    f->build_id = ev->build_id;
    f->project = ev->project;
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
        f->trigger_type = "retry";
        f->retry_of = str(req, "id");
    } else if (ev->actor_uuid) {
        /* started by another build's role session: a batch parent */
        f->trigger_type = "batch";
        f->batch_uuid = ev->actor_uuid;
    } else if (eq(ev->invoked_by, "codepipeline.amazonaws.com") ||
               (f->initiator && strncmp(f->initiator, "codepipeline/", 13) == 0) ||
               eq(ev->source_ip, "codepipeline.amazonaws.com")) {
        f->trigger_type = "pipeline";
    } else {
        f->trigger_type = "user";
    }
    return 0;
}
