/* builds.c - the build model shared by every view: build queries matched in memory,
 * a build's end and pipeline, and the summary as JSON (docs/builds.md). */
#include <stdint.h>
#include <string.h>

#include "buildtrail/builds.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/format.h"

void bt_build_query_init(bt_build_query *q)
{
    memset(q, 0, sizeof *q);
    q->start_ms = INT64_MIN;
    q->end_ms = INT64_MAX;
}

static int any_equal(const char *const *v, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s && strcmp(v[i], s) == 0)
            return 1;
    return n == 0;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

int bt_build_query_match(const bt_build_query *q, const bt_build *b)
{
    size_t i;
    int ok;
    if (b->start_ms < q->start_ms || b->start_ms > q->end_ms)
        return 0;
    if (!any_equal(q->projects, q->n_projects, b->project) ||
        !any_equal(q->accounts, q->n_accounts, b->account) ||
        !any_equal(q->regions, q->n_regions, b->region) ||
        !any_equal(q->triggers, q->n_triggers, b->trigger_type))
        return 0;
    if (q->errors_only && !b->errors)
        return 0;
    if (q->n_statuses && !any_equal(q->statuses, q->n_statuses, b->status ? b->status : "UNKNOWN"))
        return 0;
    for (i = 0, ok = q->n_initiators == 0; i < q->n_initiators && !ok; i++)
        ok = contains(b->trigger_principal, q->initiators[i]) ||
             contains(b->initiator, q->initiators[i]);
    return ok;
}

int bt_build_trigger_valid(const char *s)
{
    static const char *const types[] = {"user", "pipeline", "webhook", "retry", "batch"};
    size_t i;
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i]) == 0)
            return 1;
    return 0;
}

const char *bt_build_pipeline(const bt_build *b)
{
    if (b->initiator && strncmp(b->initiator, "codepipeline/", 13) == 0)
        return b->initiator + 13;
    return NULL;
}

int64_t bt_build_end(const bt_build *b, int *estimated)
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
    bt_buf b = BT_BUF_INIT;
    bt_json *v = NULL;
    if (!ms)
        return bt_json_new_null(a);
    if (bt_format_iso8601_local(&b, ms) == 0)
        v = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return v;
}

/* "A,B,C" -> ["A","B","C"] */
static bt_json *split_list(bt_arena *a, const char *p)
{
    bt_json *ov = bt_json_new_array(a, 4);
    while (ov && p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (bt_json_array_push(a, ov, bt_json_new_string(a, p, n)))
            return NULL;
        p += n + (e ? 1 : 0);
    }
    return ov;
}

static int put_trigger(bt_arena *a, bt_json *o, const bt_build *b)
{
    bt_json *t = bt_json_new_object(a, 8);
    if (!t || put(a, t, "Type", jstr(a, b->trigger_type)) ||
        put(a, t, "Inferred", bt_json_new_bool(a, b->trigger_inferred)) ||
        put(a, t, "Principal", jstr(a, b->trigger_principal)) ||
        put(a, t, "Initiator", jstr(a, b->initiator)) ||
        put(a, t, "Pipeline", jstr(a, bt_build_pipeline(b))) ||
        put(a, t, "RetryOf", jstr(a, b->retry_of)) ||
        put(a, t, "BatchUuid", jstr(a, b->batch_uuid)))
        return BT_ENOMEM;
    return put(a, o, "Trigger", t);
}

bt_json *bt_build_to_json(bt_arena *a, const bt_build *b)
{
    bt_json *o = bt_json_new_object(a, 20);
    int est;
    int64_t end = bt_build_end(b, &est);

    if (!o || put(a, o, "BuildId", jstr(a, b->build_id)) || put(a, o, "Uuid", jstr(a, b->uuid)) ||
        put(a, o, "Batch", bt_json_new_bool(a, b->is_batch)) ||
        put(a, o, "Project", jstr(a, b->project)) || put(a, o, "Account", jstr(a, b->account)) ||
        put(a, o, "Region", jstr(a, b->region)) ||
        put(a, o, "BuildNumber",
            b->number >= 0 ? bt_json_new_number(a, (double)b->number) : bt_json_new_null(a)) ||
        put(a, o, "StartTime", jtime(a, b->start_ms)) || put_trigger(a, o, b))
        return NULL;
    if (put(a, o, "SourceVersion", jstr(a, b->source_version)) ||
        put(a, o, "Overrides", split_list(a, b->overrides)) ||
        put(a, o, "Outcome", jstr(a, b->status)) ||
        put(a, o, "OutcomeSource", jstr(a, b->status_source)) ||
        put(a, o, "EndTime", jtime(a, end)) ||
        put(a, o, "EndTimeEstimated", bt_json_new_bool(a, est)) ||
        put(a, o, "DurationSeconds",
            end && b->start_ms && end >= b->start_ms
                ? bt_json_new_number(a, (double)((end - b->start_ms) / 1000))
                : bt_json_new_null(a)) ||
        put(a, o, "Calls", bt_json_new_number(a, (double)b->calls)) ||
        put(a, o, "Errors", bt_json_new_number(a, (double)b->errors)) ||
        put(a, o, "StoppedBy", jstr(a, b->stop_principal)) ||
        put(a, o, "StopTime", jtime(a, b->stop_ms)))
        return NULL;
    return o;
}
