/* timeline_phases.c - a build's phases from its EventBridge events: the phases[] list of
 * additional-information (the final state event's names every phase with its start,
 * end, duration, status and contexts), else the phase change events themselves; kept
 * in CodeBuild's phase sequence, as are phase events logged in the same second. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/codebuild.h"
#include "buildtrail/timeutil.h"
#include "timeline_int.h"

static int64_t java_ms(const bt_json *p, const char *key)
{
    const char *s = bt_json_get_str(p, key);
    int64_t ms = 0;
    if (!s || bt_time_parse_java(s, strlen(s), &ms))
        return 0;
    return ms;
}

/* the entry of phase name (created at the end when absent) */
static bt_timeline_phase *phase_slot(tl_ctx *c, const char *name)
{
    bt_timeline_phase *v = c->phases.v, *p;
    size_t i;
    int oom = 0;
    for (i = 0; i < c->phases.n; i++)
        if (strcmp(v[i].phase, name) == 0)
            return &v[i];
    if (!(p = tl_vec_push(c->a, &c->phases, sizeof *p)))
        return NULL;
    p->phase = tl_sdup(c->a, name, &oom);
    return oom ? NULL : p;
}

/* one member of additional-information.phases[] */
static int take_listed(tl_ctx *c, const bt_json *p)
{
    const char *name = bt_json_get_str(p, "phase-type");
    const bt_json *d = bt_json_get(p, "duration-in-seconds"), *ctx = bt_json_get(p, "phase-context");
    bt_timeline_phase *x;
    size_t k;
    int oom = 0;
    if (!name)
        return 0;
    if (!(x = phase_slot(c, name)))
        return BT_ENOMEM;
    x->status = tl_sdup(c->a, bt_json_get_str(p, "phase-status"), &oom);
    x->start_ms = java_ms(p, "start-time");
    x->end_ms = java_ms(p, "end-time");
    x->has_duration = d && d->type == BT_JSON_NUMBER;
    x->duration_s = x->has_duration ? d->num : 0;
    x->n_contexts = 0;
    if (ctx && ctx->type == BT_JSON_ARRAY && ctx->len &&
        !(x->contexts = bt_arena_alloc(c->a, ctx->len * sizeof *x->contexts)))
        return BT_ENOMEM;
    for (k = 0; ctx && ctx->type == BT_JSON_ARRAY && k < ctx->len; k++) {
        const bt_json *m = ctx->u.items[k];
        if (m->type == BT_JSON_STRING && m->len)
            x->contexts[x->n_contexts++] = tl_sdup(c->a, m->u.str, &oom);
    }
    return oom ? BT_ENOMEM : 0;
}

int tl_phase_event(tl_ctx *c, const bt_event *ev)
{
    bt_json *rec;
    const bt_json *list;
    bt_timeline_phase *x;
    size_t i;
    int rc, oom = 0;

    if (bt_json_parse(c->a, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    list = bt_json_get(bt_json_get(bt_json_get(rec, "detail"), "additional-information"), "phases");
    if (list && list->type == BT_JSON_ARRAY && list->len && ev->time_ms >= c->phases_list_ms) {
        /* the lists are cumulative: the latest one (the final state event's) wins */
        c->phases_list_ms = ev->time_ms;
        for (i = 0; i < list->len; i++)
            if ((rc = take_listed(c, list->u.items[i])))
                return rc;
    }
    if (ev->kind != BT_KIND_BUILD_PHASE || !ev->build_phase)
        return 0;
    if (!(x = phase_slot(c, ev->build_phase)))
        return BT_ENOMEM;
    {
        /* the phase's own start, end and duration, else the event's time as its end */
        const bt_json *d = bt_json_get(rec, "detail");
        const bt_json *dur = bt_json_get(d, "completed-phase-duration-seconds");
        if (!x->start_ms)
            x->start_ms = java_ms(d, "completed-phase-start");
        if (!x->end_ms)
            x->end_ms = java_ms(d, "completed-phase-end");
        if (!x->end_ms)
            x->end_ms = ev->time_ms;
        if (!x->has_duration && dur && dur->type == BT_JSON_NUMBER) {
            x->has_duration = 1;
            x->duration_s = dur->num;
        }
    }
    if (!x->status)
        x->status = tl_sdup(c->a, ev->phase_status, &oom);
    return oom ? BT_ENOMEM : 0;
}

static int cmp_phase(const void *a, const void *b)
{
    const bt_timeline_phase *x = a, *y = b;
    int ox = bt_codebuild_phase_order(x->phase), oy = bt_codebuild_phase_order(y->phase);
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return strcmp(x->phase, y->phase);
}

/* phase events of one time in the phase sequence (stable; nothing else moves) */
static void order_same_time(bt_timeline_event *v, size_t n)
{
    size_t i, j;
    for (i = 1; i < n; i++) {
        bt_timeline_event x = v[i];
        if (x.kind != BT_TL_PHASE)
            continue;
        for (j = i; j > 0 && v[j - 1].kind == BT_TL_PHASE && v[j - 1].time_ms == x.time_ms &&
                    bt_codebuild_phase_order(v[j - 1].phase) > bt_codebuild_phase_order(x.phase);
             j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

int tl_phases_finish(tl_ctx *c)
{
    bt_timeline *t = c->t;
    bt_timeline_phase *v = c->phases.v;
    size_t i, n = c->phases.n;

    order_same_time(c->events.v, c->events.n);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_phase);
    for (i = 0; i < n; i++) {
        if (!v[i].start_ms)
            v[i].start_ms = i ? v[i - 1].end_ms : t->build.start_ms;
        if (!v[i].has_duration && v[i].start_ms && v[i].end_ms) {
            v[i].has_duration = 1;
            v[i].duration_s = floor((double)(v[i].end_ms - v[i].start_ms) / 1000.0);
        }
    }
    t->phases = v;
    t->n_phases = n;
    return 0;
}

const bt_timeline_phase *bt_timeline_phase_find(const bt_timeline *t, const char *phase)
{
    size_t i;
    for (i = 0; phase && i < t->n_phases; i++)
        if (strcmp(t->phases[i].phase, phase) == 0)
            return &t->phases[i];
    return NULL;
}
