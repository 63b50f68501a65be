/* timeline.c - the timeline of one CodeBuild build read from the store into typed
 * structs (bt_timeline, include/buildtrail/builds.h): its summary, the window of project
 * changes, every record about the build and every call of its role session
 * AWSCodeBuild-<uuid>, counted per service and per resource, its failures and stops.
 * The project's history and the trigger's overrides are in timeline_project.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_int.h"

void *tl_vec_push(bt_arena *a, tl_vec *vec, size_t size)
{
    char *slot;
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        void *nv = bt_arena_alloc(a, cap * size);
        if (!nv)
            return NULL;
        if (vec->n)
            memcpy(nv, vec->v, vec->n * size);
        vec->v = nv;
        vec->cap = cap;
    }
    slot = (char *)vec->v + vec->n++ * size;
    memset(slot, 0, size);
    return slot;
}

const char *bt_timeline_kind_name(bt_timeline_kind k)
{
    switch (k) {
    case BT_TL_CALL: return "call";
    case BT_TL_ABOUT: return "about";
    case BT_TL_STATE: return "state";
    case BT_TL_PHASE: return "phase";
    }
    return "call";
}

/* copies s into the arena; *oom set when that fails */
const char *tl_sdup(bt_arena *a, const char *s, int *oom)
{
    char *r;
    if (!s)
        return NULL;
    if (!(r = bt_arena_strdup(a, s)))
        *oom = 1;
    return r;
}

/* the summary with its strings copied into the timeline's arena */
static int copy_build(bt_arena *a, bt_build *to, const bt_build *b)
{
    int oom = 0;
    *to = *b;
    to->build_id = tl_sdup(a, b->build_id, &oom);
    to->project = tl_sdup(a, b->project, &oom);
    to->account = tl_sdup(a, b->account, &oom);
    to->region = tl_sdup(a, b->region, &oom);
    to->trigger_type = tl_sdup(a, b->trigger_type, &oom);
    to->trigger_principal = tl_sdup(a, b->trigger_principal, &oom);
    to->initiator = tl_sdup(a, b->initiator, &oom);
    to->source_version = tl_sdup(a, b->source_version, &oom);
    to->overrides = tl_sdup(a, b->overrides, &oom);
    to->retry_of = tl_sdup(a, b->retry_of, &oom);
    to->batch_uuid = tl_sdup(a, b->batch_uuid, &oom);
    to->stop_principal = tl_sdup(a, b->stop_principal, &oom);
    to->status = tl_sdup(a, b->status, &oom);
    to->status_source = tl_sdup(a, b->status_source, &oom);
    return oom ? BT_ENOMEM : 0;
}

typedef struct summary_ctx {
    tl_ctx *c;
    const tl_hook *h;
} summary_ctx;

static int on_summary(void *ctx, const bt_build *b)
{
    summary_ctx *sc = ctx;
    bt_build copy = *b;
    if (sc->h && sc->h->complete)
        sc->h->complete(sc->h->ctx, &copy);
    sc->c->found = 1;
    return copy_build(sc->c->a, &sc->c->t->build, &copy);
}

/* the service entry of event source src (created on first use) */
static bt_timeline_service *service(tl_ctx *c, const char *src, tl_vec **codes)
{
    bt_timeline_service *sv = c->services.v;
    size_t i;
    for (i = 0; i < c->services.n; i++)
        if (strcmp(sv[i].event_source, src) == 0) {
            *codes = (tl_vec *)c->codes.v + i;
            return &sv[i];
        }
    if (!(sv = tl_vec_push(c->a, &c->services, sizeof *sv)) ||
        !(*codes = tl_vec_push(c->a, &c->codes, sizeof(tl_vec))) ||
        !(sv->event_source = bt_arena_strdup(c->a, src)))
        return NULL;
    return sv;
}

static int count_call(tl_ctx *c, const bt_event *ev)
{
    tl_vec *codes;
    bt_timeline_service *sv = service(c, ev->event_source ? ev->event_source : "?", &codes);
    bt_timeline_error_code *ec;
    size_t i;
    if (!sv)
        return BT_ENOMEM;
    sv->calls++;
    if (!ev->error_code)
        return 0;
    sv->errors++;
    ec = codes->v;
    for (i = 0; i < codes->n; i++)
        if (strcmp(ec[i].code, ev->error_code) == 0) {
            ec[i].count++;
            return 0;
        }
    if (!(ec = tl_vec_push(c->a, codes, sizeof *ec)) ||
        !(ec->code = bt_arena_strdup(c->a, ev->error_code)))
        return BT_ENOMEM;
    ec->count = 1;
    return 0;
}

/* a resource the role session named, matched on "type\tname" (as cut to 512 bytes) */
static int count_resource(tl_ctx *c, const char *type, const char *name)
{
    char key[512];
    const char **keys = c->resource_keys.v, *tab;
    bt_timeline_resource *r;
    const char **k;
    size_t i;
    snprintf(key, sizeof key, "%s\t%s", type ? type : "", name);
    for (i = 0; i < c->resource_keys.n; i++)
        if (strcmp(keys[i], key) == 0) {
            ((bt_timeline_resource *)c->resources.v)[i].calls++;
            return 0;
        }
    if (!(k = tl_vec_push(c->a, &c->resource_keys, sizeof *k)) ||
        !(*k = bt_arena_strdup(c->a, key)) || !(r = tl_vec_push(c->a, &c->resources, sizeof *r)))
        return BT_ENOMEM;
    tab = strchr(*k, '\t');
    r->type = tab == *k ? NULL : bt_arena_strndup(c->a, *k, (size_t)(tab - *k));
    r->name = tab + 1;
    r->calls = 1;
    return tab != *k && !r->type ? BT_ENOMEM : 0;
}

/* the timeline entry of ev */
static int add_event(tl_ctx *c, const bt_event *ev, int actor, size_t *index)
{
    bt_arena *a = c->a;
    bt_timeline_event *e = tl_vec_push(a, &c->events, sizeof *e);
    size_t i;
    int oom = 0, rc;
    if (!e ||
        (ev->n_resources && !(e->resources = bt_arena_alloc(a, ev->n_resources * sizeof(char *)))))
        return BT_ENOMEM;
    *index = c->events.n - 1;
    e->time_ms = ev->time_ms;
    e->kind = ev->kind == BT_KIND_BUILD_STATE   ? BT_TL_STATE
              : ev->kind == BT_KIND_BUILD_PHASE ? BT_TL_PHASE
              : actor                           ? BT_TL_CALL
                                                : BT_TL_ABOUT;
    for (i = 0; i < ev->n_resources; i++) {
        e->resources[e->n_resources++] = tl_sdup(a, ev->resources[i].name, &oom);
        if (actor && (rc = count_resource(c, ev->resources[i].type, ev->resources[i].name)))
            return rc;
    }
    e->event_source = tl_sdup(a, ev->event_source, &oom);
    e->event_name = tl_sdup(a, ev->event_name, &oom);
    e->username = tl_sdup(a, ev->username, &oom);
    e->by = tl_sdup(a, ev->principal_arn, &oom);
    e->source_ip = tl_sdup(a, ev->source_ip, &oom);
    e->error_code = tl_sdup(a, ev->error_code, &oom);
    e->error_message = tl_sdup(a, ev->error_message, &oom);
    e->event_id = tl_sdup(a, ev->event_id, &oom);
    if (e->kind == BT_TL_STATE || e->kind == BT_TL_PHASE) {
        e->status = tl_sdup(a, e->kind == BT_TL_STATE ? ev->build_status : ev->phase_status, &oom);
        e->phase = tl_sdup(a, ev->build_phase, &oom);
    }
    return oom ? BT_ENOMEM : 0;
}

static int is(const char *name, const char *what)
{
    return strcmp(name, what) == 0;
}

/* the start record: the trigger (its request is compared with the project later) */
static int take_trigger(tl_ctx *c, const bt_event *ev)
{
    bt_timeline_trigger *tr = &c->t->trigger;
    bt_json *rec;
    int oom = 0;
    if (bt_json_parse(c->a, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    c->trigger_request = bt_json_get(rec, "requestParameters");
    tr->found = 1;
    tr->time_ms = ev->time_ms;
    tr->event_name = tl_sdup(c->a, ev->event_name, &oom);
    tr->by = tl_sdup(c->a, ev->principal_arn, &oom);
    tr->source_ip = tl_sdup(c->a, ev->source_ip, &oom);
    tr->user_agent = tl_sdup(c->a, ev->user_agent, &oom);
    tr->event_id = tl_sdup(c->a, ev->event_id, &oom);
    return oom ? BT_ENOMEM : 0;
}

/* every record about the build, and every call of its role session, oldest first */
static int on_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    tl_ctx *c = ctx;
    int actor = ev->actor_uuid && strcmp(ev->actor_uuid, c->uuid) == 0;
    size_t index, *slot;
    int rc;

    (void)pos;
    if ((rc = add_event(c, ev, actor, &index)))
        return rc;
    if ((ev->kind == BT_KIND_BUILD_STATE || ev->kind == BT_KIND_BUILD_PHASE) &&
        (rc = tl_phase_event(c, ev)))
        return rc;
    if (actor && ev->kind == BT_KIND_API) {
        if ((rc = count_call(c, ev)))
            return rc;
        if (ev->error_code) {
            if (!(slot = tl_vec_push(c->a, &c->errors, sizeof *slot)))
                return BT_ENOMEM;
            *slot = index;
        }
    }
    if (!ev->build_uuid || strcmp(ev->build_uuid, c->uuid) != 0 || !ev->event_name ||
        ev->error_code)
        return 0;
    if (is(ev->event_name, "StopBuild") || is(ev->event_name, "StopBuildBatch")) {
        if (!(slot = tl_vec_push(c->a, &c->stops, sizeof *slot)))
            return BT_ENOMEM;
        *slot = index;
    } else if (!c->trigger_request &&
               (is(ev->event_name, "StartBuild") || is(ev->event_name, "RetryBuild") ||
                is(ev->event_name, "StartBuildBatch"))) {
        return take_trigger(c, ev);
    }
    return 0;
}

/* the window: o's, else since the project's previous build, else 7 days */
static int set_window(tl_ctx *c, bt_store *s, const bt_timeline_opts *o)
{
    bt_timeline *t = c->t;
    bt_error err = BT_ERROR_INIT;
    char prev[37];
    int64_t prev_ms;
    if (o && o->window_ms > 0) {
        t->window_ms = o->window_ms;
        t->window_text = o->window_text
                             ? bt_arena_strdup(c->a, o->window_text)
                             : bt_arena_sprintf(c->a, "%llds", (long long)(o->window_ms / 1000));
    } else if (t->build.project && t->build.start_ms &&
               bt_store_previous_build(s, t->build.project, t->build.account, t->build.start_ms,
                                       prev, &prev_ms, &err) == 0) {
        t->window_ms = t->build.start_ms - prev_ms;
        t->window_text = bt_arena_sprintf(c->a, "since the previous build %s", prev);
    } else {
        t->window_ms = 7 * 86400000LL;
        t->window_text = "7d (no earlier build of the project)";
    }
    return t->window_text ? 0 : BT_ENOMEM;
}

/* one oldest-first search of the store */
static int search(bt_store *s, bt_filter *f, bt_store_event_fn fn, tl_ctx *c, bt_error *err)
{
    bt_store_query q;
    memset(&q, 0, sizeof q);
    q.filter = f;
    q.oldest_first = 1;
    return bt_store_search(s, &q, fn, c, err);
}

/* Adds to f the project-change names whose credentials flag is creds. */
static void add_change_names(bt_filter *f, int creds, bt_error *err)
{
    size_t i, n;
    const bt_codebuild_event *ev = bt_codebuild_events(&n);
    for (i = 0; i < n; i++)
        if ((ev[i].flags & BT_CB_PROJECT_CHANGE) && !(ev[i].flags & BT_CB_CREDENTIALS) == !creds)
            bt_filter_add(f, BT_F_EVENT_NAME, ev[i].name, err);
}

/* the project's history up to the build: its state, and the changes in the window */
static int read_project(tl_ctx *c, bt_store *s, bt_error *err)
{
    const bt_build *b = &c->t->build;
    bt_filter f;
    int rc = 0;
    int64_t from = b->start_ms - c->t->window_ms;
    if (b->project) {
        bt_store_query q;
        /* the project as it stood when the window opened: its definitions newest first,
         * back to the first that holds all of it (a creation, or an update whose response
         * is logged), then merged oldest first */
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_EVENT_NAME, "CreateProject", err);
        bt_filter_add(&f, BT_F_EVENT_NAME, "UpdateProject", err);
        if (b->account)
            bt_filter_add(&f, BT_F_ACCOUNT, b->account, err);
        /* a definition always names its project (requestParameters.name), so the
         * project's index finds the newest before the window at once */
        bt_filter_add(&f, BT_F_PROJECT, b->project, err);
        f.end_ms = from - 1;
        memset(&q, 0, sizeof q);
        q.filter = &f;
        /* pages of 1, then 8, 64: the first definition usually holds it all, and each
         * row the search reads past it is a row of the project's index read for nothing
         * (a project's definitions are a few percent of its rows) */
        q.limit = 1;
        do {
            uint64_t had = c->defs_read;
            if (had)
                q.after = &c->defs_pos;
            rc = bt_store_search(s, &q, tl_on_project_base, c, err);
            if (!rc && c->defs_read - had < q.limit)
                break; /* read to the oldest */
            q.limit = q.limit < 64 ? q.limit * 8 : q.limit;
        } while (!rc);
        if ((rc && rc != TL_BASE_FOUND) || (rc = tl_project_base_apply(c)))
            return rc;
        /* then each change in the window */
        bt_filter_init(&f);
        add_change_names(&f, 0, err);
        if (b->account)
            bt_filter_add(&f, BT_F_ACCOUNT, b->account, err);
        bt_filter_add(&f, BT_F_PROJECT, b->project, err);
        f.missing_ok = 1u << BT_F_PROJECT;
        f.start_ms = from;
        f.end_ms = b->start_ms;
        if ((rc = search(s, &f, tl_on_project_event, c, err)))
            return rc;
    }
    if (b->account) {
        /* source credentials are account-wide, not per project */
        bt_filter_init(&f);
        add_change_names(&f, 1, err);
        bt_filter_add(&f, BT_F_ACCOUNT, b->account, err);
        f.start_ms = from;
        f.end_ms = b->start_ms;
        rc = search(s, &f, tl_on_project_event, c, err);
    }
    return rc;
}

/* stable insertion sort of the changes by time, to the second (as printed) */
static void sort_changes(bt_timeline_change *v, size_t n)
{
    size_t i, j;
    for (i = 1; i < n; i++) {
        bt_timeline_change x = v[i];
        for (j = i; j > 0 && v[j - 1].time_ms / 1000 > x.time_ms / 1000; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* vectors -> the timeline's arrays */
static int finish(tl_ctx *c)
{
    bt_timeline *t = c->t;
    const size_t *ix;
    size_t i;
    if (tl_phases_finish(c))
        return BT_ENOMEM;
    t->changes = c->changes.v;
    t->n_changes = c->changes.n;
    sort_changes(t->changes, t->n_changes);
    t->events = c->events.v;
    t->n_events = c->events.n;
    t->services = c->services.v;
    t->n_services = c->services.n;
    for (i = 0; i < t->n_services; i++) {
        t->services[i].codes = ((tl_vec *)c->codes.v)[i].v;
        t->services[i].n_codes = ((tl_vec *)c->codes.v)[i].n;
    }
    t->resources = c->resources.v;
    t->n_resources = c->resources.n;
    t->trigger.overrides = c->overrides.v;
    t->trigger.n_overrides = c->overrides.n;
    if ((c->stops.n && !(t->stops = bt_arena_alloc(c->a, c->stops.n * sizeof *t->stops))) ||
        (c->errors.n && !(t->errors = bt_arena_alloc(c->a, c->errors.n * sizeof *t->errors))))
        return BT_ENOMEM;
    for (ix = c->stops.v, i = 0; i < c->stops.n; i++)
        t->stops[t->n_stops++] = &t->events[ix[i]];
    for (ix = c->errors.v, i = 0; i < c->errors.n; i++)
        t->errors[t->n_errors++] = &t->events[ix[i]];
    return 0;
}

/* everything after the summary */
static int read_timeline(tl_ctx *c, bt_store *s, const bt_timeline_opts *o, bt_error *err)
{
    bt_filter f;
    int rc;
    if ((rc = set_window(c, s, o)) || (rc = read_project(c, s, err)))
        return rc;
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_BUILD, c->uuid, err);
    if ((rc = search(s, &f, on_event, c, err)) || (rc = tl_overrides(c)))
        return rc;
    return finish(c);
}

int tl_build_timeline(bt_store *s, const char *uuid, const bt_timeline_opts *o, const tl_hook *h,
                      bt_timeline **out, bt_error *err)
{
    tl_ctx c;
    summary_ctx sc;
    bt_arena *a = bt_arena_new(1 << 16, 0);
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof c);
    if (!a || !(c.t = bt_arena_calloc(a, sizeof *c.t)) || !(c.uuid = bt_arena_strdup(a, uuid)) ||
        !(c.project_state = bt_json_new_object(a, 16))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    c.a = c.t->arena = a;
    sc.c = &c;
    sc.h = h;
    if ((rc = bt_store_builds(s, uuid, on_summary, &sc, err)))
        goto done;
    if (!c.found && h && h->only) {
        bt_build b;
        memset(&b, 0, sizeof b);
        b.number = -1;
        if (h->only(h->ctx, &b) && (rc = on_summary(&sc, &b)))
            goto done;
    }
    if (!c.found) {
        rc = bt_error_set(err, BT_ENOTFOUND, "build '%s' not in the store", uuid);
        goto done;
    }
    if ((rc = read_timeline(&c, s, o, err)))
        goto done;
    *out = c.t;
    a = NULL;
done:
    if (rc == BT_ENOMEM && (!err->msg[0] || err->code != BT_ENOMEM))
        bt_error_set(err, BT_ENOMEM, "out of memory");
    bt_arena_free(a);
    return rc;
}

int bt_build_timeline(bt_store *s, const char *uuid, const bt_timeline_opts *o, bt_timeline **out,
                      bt_error *err)
{
    return tl_build_timeline(s, uuid, o, NULL, out, err);
}

void bt_timeline_free(bt_timeline *t)
{
    if (t)
        bt_arena_free(t->arena);
}
