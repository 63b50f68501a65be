/* timeline_json.c - the one JSON writer of a build's timeline: the document
 * `buildtrail build <id> --output json` prints (schema in docs/builds.md). Member order
 * is part of the output: Services, Resources, Build, Window, ProjectChanges, Trigger,
 * Stops, Errors, Events, Phases, then Live for --live. */
#include <string.h>

#include "buildtrail/format.h"
#include "timeline_int.h"

static bt_json *js(bt_arena *a, const char *s)
{
    return s ? bt_json_new_string(a, s, strlen(s)) : bt_json_new_null(a);
}

static bt_json *num(bt_arena *a, double d)
{
    return bt_json_new_number(a, d);
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

/* a time as the AWS CLI prints it (local zone); with or_null, 0 is null */
static bt_json *jtime(bt_arena *a, int64_t ms, int or_null)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *v = NULL;
    if (!ms && or_null)
        return bt_json_new_null(a);
    if (bt_format_iso8601_local(&b, ms) == 0)
        v = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return v;
}

static bt_json *event_json(bt_arena *a, const bt_timeline_event *e)
{
    bt_json *o = bt_json_new_object(a, 14), *res = bt_json_new_array(a, e->n_resources);
    size_t i;
    if (!o || !res)
        return NULL;
    for (i = 0; i < e->n_resources; i++)
        if (bt_json_array_push(a, res, js(a, e->resources[i])))
            return NULL;
    if (put(a, o, "Time", jtime(a, e->time_ms, 0)) ||
        put(a, o, "Kind", js(a, bt_timeline_kind_name(e->kind))) ||
        put(a, o, "EventSource", js(a, e->event_source)) ||
        put(a, o, "EventName", js(a, e->event_name)) || put(a, o, "Username", js(a, e->username)) ||
        put(a, o, "By", js(a, e->by)) || put(a, o, "SourceIP", js(a, e->source_ip)) ||
        put(a, o, "ErrorCode", js(a, e->error_code)) ||
        put(a, o, "ErrorMessage", js(a, e->error_message)) || put(a, o, "Resources", res) ||
        put(a, o, "EventId", js(a, e->event_id)))
        return NULL;
    if ((e->kind == BT_TL_STATE || e->kind == BT_TL_PHASE) &&
        (put(a, o, "Status", js(a, e->status)) || put(a, o, "Phase", js(a, e->phase))))
        return NULL;
    return o;
}

static bt_json *services_json(bt_arena *a, const bt_timeline *t)
{
    bt_json *list = bt_json_new_array(a, t->n_services);
    size_t i, k;
    for (i = 0; list && i < t->n_services; i++) {
        const bt_timeline_service *s = &t->services[i];
        bt_json *o = bt_json_new_object(a, 4), *codes = bt_json_new_object(a, s->n_codes);
        if (!o || !codes)
            return NULL;
        for (k = 0; k < s->n_codes; k++)
            if (put(a, codes, s->codes[k].code, num(a, (double)s->codes[k].count)))
                return NULL;
        if (put(a, o, "EventSource", js(a, s->event_source)) ||
            put(a, o, "Calls", num(a, (double)s->calls)) ||
            put(a, o, "Errors", num(a, (double)s->errors)) || put(a, o, "ErrorCodes", codes) ||
            bt_json_array_push(a, list, o))
            return NULL;
    }
    return list;
}

static bt_json *resources_json(bt_arena *a, const bt_timeline *t)
{
    bt_json *list = bt_json_new_array(a, t->n_resources);
    size_t i;
    for (i = 0; list && i < t->n_resources; i++) {
        const bt_timeline_resource *r = &t->resources[i];
        bt_json *o = bt_json_new_object(a, 3);
        if (!o || put(a, o, "Type", js(a, r->type)) || put(a, o, "Name", js(a, r->name)) ||
            put(a, o, "Calls", num(a, (double)r->calls)) || bt_json_array_push(a, list, o))
            return NULL;
    }
    return list;
}

static bt_json *changes_json(bt_arena *a, const bt_timeline *t)
{
    bt_json *list = bt_json_new_array(a, t->n_changes);
    size_t i, k;
    for (i = 0; list && i < t->n_changes; i++) {
        const bt_timeline_change *c = &t->changes[i];
        bt_json *o = bt_json_new_object(a, 6), *diffs = bt_json_new_array(a, c->n_diffs);
        if (!o || !diffs)
            return NULL;
        for (k = 0; k < c->n_diffs; k++) {
            bt_json *d = bt_json_new_object(a, 3);
            if (!d || put(a, d, "Field", js(a, c->diffs[k].field)) ||
                put(a, d, "Old", js(a, c->diffs[k].old_value)) ||
                put(a, d, "New", js(a, c->diffs[k].new_value)) || bt_json_array_push(a, diffs, d))
                return NULL;
        }
        if (put(a, o, "Time", jtime(a, c->time_ms, 0)) ||
            put(a, o, "EventName", js(a, c->event_name)) || put(a, o, "By", js(a, c->by)) ||
            put(a, o, "EventId", js(a, c->event_id)) || put(a, o, "Changes", diffs) ||
            bt_json_array_push(a, list, o))
            return NULL;
    }
    return list;
}

static bt_json *trigger_json(bt_arena *a, const bt_timeline_trigger *tr)
{
    bt_json *o = bt_json_new_object(a, 8), *list = bt_json_new_array(a, tr->n_overrides);
    size_t i;
    if (!o || !list)
        return NULL;
    if (tr->found &&
        (put(a, o, "Time", jtime(a, tr->time_ms, 0)) ||
         put(a, o, "EventName", js(a, tr->event_name)) || put(a, o, "By", js(a, tr->by)) ||
         put(a, o, "SourceIP", js(a, tr->source_ip)) ||
         put(a, o, "UserAgent", js(a, tr->user_agent)) ||
         put(a, o, "EventId", js(a, tr->event_id))))
        return NULL;
    for (i = 0; i < tr->n_overrides; i++) {
        const bt_timeline_override *v = &tr->overrides[i];
        bt_json *x = bt_json_new_object(a, 4);
        if (!x || put(a, x, "Name", js(a, v->name)) || put(a, x, "Value", js(a, v->value)) ||
            put(a, x, "ProjectValue", js(a, v->project_value)) ||
            put(a, x, "ChangesProject", bt_json_new_bool(a, v->changes_project)) ||
            bt_json_array_push(a, list, x))
            return NULL;
    }
    return put(a, o, "Overrides", list) ? NULL : o;
}

/* a list of timeline entries (events, or the stops / errors pointing into them) */
static bt_json *events_json(bt_arena *a, const bt_timeline_event *v,
                            const bt_timeline_event *const *p, size_t n)
{
    bt_json *list = bt_json_new_array(a, n);
    size_t i;
    for (i = 0; list && i < n; i++)
        if (bt_json_array_push(a, list, event_json(a, p ? p[i] : &v[i])))
            return NULL;
    return list;
}

/* phases as {Phase, Status, StartTime, EndTime, DurationSeconds} (+ Contexts[]) */
static bt_json *phases_json(bt_arena *a, const bt_timeline_phase *v, size_t n, int contexts)
{
    bt_json *phases = bt_json_new_array(a, n);
    size_t i, k;
    for (i = 0; phases && i < n; i++) {
        const bt_timeline_phase *p = &v[i];
        bt_json *x = bt_json_new_object(a, 6), *cx = NULL;
        if (contexts && !(cx = bt_json_new_array(a, p->n_contexts)))
            return NULL;
        for (k = 0; contexts && k < p->n_contexts; k++)
            if (bt_json_array_push(a, cx, js(a, p->contexts[k])))
                return NULL;
        if (!x || put(a, x, "Phase", js(a, p->phase)) || put(a, x, "Status", js(a, p->status)) ||
            put(a, x, "StartTime", jtime(a, p->start_ms, 1)) ||
            put(a, x, "EndTime", jtime(a, p->end_ms, 1)) ||
            put(a, x, "DurationSeconds",
                p->has_duration ? num(a, p->duration_s) : bt_json_new_null(a)) ||
            (contexts && put(a, x, "Contexts", cx)) || bt_json_array_push(a, phases, x))
            return NULL;
    }
    return phases;
}

static bt_json *live_json(bt_arena *a, const bt_timeline_live *l)
{
    bt_json *o = bt_json_new_object(a, 8), *phases = phases_json(a, l->phases, l->n_phases, 0);
    if (!o || !phases)
        return NULL;
    if (put(a, o, "LookupEventsCalls", num(a, (double)l->lookup_calls)) ||
        put(a, o, "EventsFetched", num(a, (double)l->events_fetched)) ||
        put(a, o, "BatchGetBuilds", bt_json_new_bool(a, l->batch_get_builds)) ||
        put(a, o, "BuildStatus", js(a, l->build_status)) ||
        put(a, o, "CurrentPhase", js(a, l->current_phase)) ||
        put(a, o, "ResolvedSourceVersion", js(a, l->resolved_source_version)) ||
        put(a, o, "Note", js(a, l->note)) || put(a, o, "Phases", phases))
        return NULL;
    return o;
}

bt_json *bt_timeline_to_json(bt_arena *a, const bt_timeline *t)
{
    bt_json *root = bt_json_new_object(a, 12), *b = bt_build_to_json(a, &t->build);
    if (!root || !b ||
        (t->build.retried_as[0] && put(a, b, "RetriedAs", js(a, t->build.retried_as))))
        return NULL;
    if (put(a, root, "Services", services_json(a, t)) ||
        put(a, root, "Resources", resources_json(a, t)) || put(a, root, "Build", b) ||
        put(a, root, "Window", js(a, t->window_text)) ||
        put(a, root, "ProjectChanges", changes_json(a, t)) ||
        put(a, root, "Trigger", trigger_json(a, &t->trigger)) ||
        put(a, root, "Stops", events_json(a, NULL, t->stops, t->n_stops)) ||
        put(a, root, "Errors", events_json(a, NULL, t->errors, t->n_errors)) ||
        put(a, root, "Events", events_json(a, t->events, NULL, t->n_events)) ||
        put(a, root, "Phases", phases_json(a, t->phases, t->n_phases, 1)))
        return NULL;
    if (t->live && put(a, root, "Live", live_json(a, t->live)))
        return NULL;
    return root;
}
