/* timeline_live.c - the timeline of a build gathered from the event history instead of
 * the store (`buildtrail build <id> --live`). CodeBuild BatchGetBuilds (when the caller
 * may read the build) gives its status, times and phases; LookupEvents with
 * Username=AWSCodeBuild-<uuid> brings the calls its role session made, EventName lookups
 * the StartBuild / RetryBuild / StartBuildBatch / StopBuild / BatchGetBuilds records
 * around it and the project's changes before it (through the caller's lookup function,
 * else default_lookup: bt_ct_lookup_pages). Everything fetched goes into a private
 * temporary store, so the timeline is made by exactly the code of the stored one. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/aws.h"
#include "buildtrail/ingest.h"
#include "buildtrail/lookup.h"
#include "buildtrail/timeutil.h"
#include "timeline_int.h"

typedef struct live_ctx {
    bt_timeline_live_state st; /* first: default_lookup gets back to the context */
    const bt_timeline_live_opts *lo;
    bt_arena *a;          /* the BatchGetBuilds reply */
    const bt_json *build; /* BatchGetBuilds Build, NULL when not available */
    int64_t cb_start_ms, cb_end_ms;
    char note[BT_ERROR_MSG_MAX + 32];
    char dir[PATH_MAX - 16];
    char store_path[PATH_MAX];
} live_ctx;

/* A CodeBuild timestamp: epoch seconds as the service sends them, or an ISO 8601
 * string (some peers, e.g. moto, send those). 0 when absent. */
static int64_t num_ms(const bt_json *o, const char *k)
{
    const bt_json *v = bt_json_get(o, k);
    int64_t ms = 0;
    if (v && v->type == BT_JSON_NUMBER)
        return (int64_t)(v->num * 1000.0 + 0.5);
    if (v && v->type == BT_JSON_STRING && bt_time_parse_iso(v->u.str, v->len, &ms) == 0)
        return ms;
    return 0;
}

/* What a stored record says about the build: its role session's first and last call,
 * its project. */
static void track(void *ctx, const bt_event *ev, int is_new)
{
    bt_timeline_live_state *l = ctx;
    l->events += (uint64_t)is_new;
    if (ev->actor_uuid && strcmp(ev->actor_uuid, l->uuid) == 0) {
        if (!l->first_call_ms || ev->time_ms < l->first_call_ms)
            l->first_call_ms = ev->time_ms;
        if (ev->time_ms > l->last_call_ms)
            l->last_call_ms = ev->time_ms;
    }
    if (!l->project[0] && ev->build_uuid && strcmp(ev->build_uuid, l->uuid) == 0 && ev->project)
        snprintf(l->project, sizeof l->project, "%s", ev->project);
}

typedef struct fetch_ctx {
    bt_timeline_live_state *st;
    bt_store *s;
    bt_error *err;
} fetch_ctx;

/* One page into the store, and what it says about the build. */
static int on_page(void *payload, const bt_ct_page_view *v)
{
    fetch_ctx *f = payload;
    uint64_t added = 0, dups = 0;
    f->st->calls++;
    return bt_ingest_lookup_page(f->s, v, track, NULL, f->st, &added, &dups, f->err);
}

/* The default lookup function: one lookup, all pages, into the store. */
static int default_lookup(bt_timeline_live_state *st, bt_store *s, const char *key,
                          const char *value, int64_t from_ms, int64_t to_ms, bt_error *err)
{
    const live_ctx *l = (const live_ctx *)st;
    bt_ct_lookup_request req;
    fetch_ctx f = {st, s, err};
    int rc;

    memset(&req, 0, sizeof req);
    req.attr_key = key;
    req.attr_value = value;
    req.start_time = from_ms > 0 ? from_ms / 1000 : 0;
    req.end_time = to_ms > 0 ? (to_ms + 999) / 1000 : 0;
    req.max_results = 50;
    rc = bt_ct_lookup_pages(st->cli, &req, NULL, on_page, &f, NULL, err);
    if (l->lo->log) {
        char line[BT_ERROR_MSG_MAX + 600];
        snprintf(line, sizeof line, "build --live: LookupEvents %s=%s: %s", key, value,
                 rc ? err->msg : "done");
        l->lo->log(l->lo->log_payload, line);
    }
    return rc;
}

/* BatchGetBuilds for project:uuid; a refusal is a note, not a failure. */
static void batch_get(live_ctx *l)
{
    bt_cb_builds out;
    bt_error err = BT_ERROR_INIT;
    char id[400];
    const char *ids[1];
    if (!l->st.project[0] || l->build)
        return;
    snprintf(id, sizeof id, "%s:%s", l->st.project, l->st.uuid);
    ids[0] = id;
    if (bt_cb_batch_get_builds(l->st.cli, ids, 1, l->a, &out, &err)) {
        snprintf(l->note, sizeof l->note, "%s", err.msg);
        return;
    }
    if (out.builds && out.builds->len) {
        l->build = out.builds->u.items[0];
        l->cb_start_ms = num_ms(l->build, "startTime");
        l->cb_end_ms = num_ms(l->build, "endTime");
    } else {
        snprintf(l->note, sizeof l->note, "BatchGetBuilds: build '%s' not found", id);
    }
}

/* Fetches everything about the build into s. */
static int gather(live_ctx *l, bt_store *s, bt_error *err)
{
    const bt_timeline_live_opts *lo = l->lo;
    bt_timeline_live_state *st = &l->st;
    char session[64];
    int64_t t0, t1;
    size_t i, nev;
    const bt_codebuild_event *ev = bt_codebuild_events(&nev);
    bt_timeline_lookup_fn lookup = lo->lookup ? lo->lookup : default_lookup;
    int rc;

    /* 1. the build itself, when CodeBuild lets us read it: times bound the lookups */
    batch_get(l);
    /* 2. every call of the build's role session, filtered by the service */
    snprintf(session, sizeof session, "AWSCodeBuild-%s", st->uuid);
    t0 = lo->start_ms ? lo->start_ms : l->cb_start_ms ? l->cb_start_ms - 3600000 : 0;
    t1 = lo->end_ms ? lo->end_ms : l->cb_end_ms ? l->cb_end_ms + 3600000 : 0;
    if ((rc = lookup(st, s, BT_CT_ATTR_USERNAME, session, t0, t1, err)))
        return rc;
    /* 3. the start, retry and stop records around the build */
    t0 = l->cb_start_ms ? l->cb_start_ms : st->first_call_ms;
    t1 = l->cb_end_ms ? l->cb_end_ms : st->last_call_ms;
    if (!t0 && !lo->start_ms)
        return 0;
    {
        int64_t from = (lo->start_ms ? lo->start_ms : t0) - 3600000;
        int64_t to = (lo->end_ms ? lo->end_ms : t1 ? t1 : t0) + 3600000, start;
        /* the records about a build made by others: its start, retry, stop, and the
         * BatchGetBuilds polls of pipelines and people; starts over the week before too:
         * the project's previous build bounds the window of project changes, as in the
         * stored timeline */
        for (i = 0; i < nev; i++) {
            int64_t f = ev[i].flags & BT_CB_START ? from - 7 * 86400000LL : from;
            if ((ev[i].flags & BT_CB_LIFECYCLE) &&
                (rc = lookup(st, s, BT_CT_ATTR_EVENT_NAME, ev[i].name, f, to, err)))
                return rc;
        }
        /* the project is known now if a StartBuild named the build */
        batch_get(l);
        /* 4. the project's changes before the build: its definition (CreateProject,
         * UpdateProject) over the whole history, the other changes over the week before */
        if (!st->project[0])
            return 0;
        start = l->cb_start_ms ? l->cb_start_ms : t0;
        for (i = 0; i < nev; i++)
            if ((ev[i].flags & BT_CB_PROJECT_CHANGE) &&
                (rc = lookup(st, s, BT_CT_ATTR_EVENT_NAME, ev[i].name,
                             ev[i].flags & BT_CB_PROJECT_DEFINITION ? 0 : start - 7 * 86400000LL,
                             start, err)))
                return rc;
    }
    return 0;
}

/* Completes a summary from BatchGetBuilds (status, times, number...). */
static void complete(void *ctx, bt_build *b)
{
    live_ctx *l = ctx;
    const bt_json *cb = l->build, *n = bt_json_get(cb, "buildNumber");
    const char *st;
    if (!cb)
        return;
    if (!b->uuid[0])
        snprintf(b->uuid, sizeof b->uuid, "%s", l->st.uuid);
    if (!b->build_id)
        b->build_id = bt_json_get_str(cb, "id");
    if (!b->project)
        b->project = bt_json_get_str(cb, "projectName");
    if (b->number < 0 && n && n->type == BT_JSON_NUMBER)
        b->number = (int64_t)n->num;
    if (!b->start_ms)
        b->start_ms = l->cb_start_ms;
    if (!b->initiator)
        b->initiator = bt_json_get_str(cb, "initiator");
    if (!b->source_version)
        b->source_version = bt_json_get_str(cb, "sourceVersion");
    st = bt_json_get_str(cb, "buildStatus");
    if (st && (!b->status || strcmp(b->status, st) != 0)) {
        /* CodeBuild's own word is the final one */
        b->status = st;
        b->status_source = "batchgetbuilds";
    }
    if (l->cb_end_ms && !b->end_ms)
        b->end_ms = l->cb_end_ms;
}

/* No event names the build, but CodeBuild knows it: its summary from BatchGetBuilds. */
static int only(void *ctx, bt_build *b)
{
    live_ctx *l = ctx;
    complete(l, b);
    return l->build != NULL;
}

static const char *sdup(bt_arena *a, const char *s, int *oom)
{
    char *r = s ? bt_arena_strdup(a, s) : NULL;
    if (s && !r)
        *oom = 1;
    return r;
}

/* t->live: what the gathering did and what BatchGetBuilds said */
static int set_live(live_ctx *l, bt_timeline *t)
{
    bt_arena *a = t->arena;
    bt_timeline_live *lv = bt_arena_calloc(a, sizeof *lv);
    const bt_json *cb = l->build, *ph = cb ? bt_json_get(cb, "phases") : NULL;
    size_t i, n = ph && ph->type == BT_JSON_ARRAY ? ph->len : 0;
    int oom = 0;
    if (!lv || (n && !(lv->phases = bt_arena_calloc(a, n * sizeof *lv->phases))))
        return BT_ENOMEM;
    for (i = 0; i < n; i++) {
        const bt_json *p = ph->u.items[i], *d = bt_json_get(p, "durationInSeconds");
        bt_timeline_phase *x = &lv->phases[lv->n_phases++];
        x->phase = sdup(a, bt_json_get_str(p, "phaseType"), &oom);
        x->status = sdup(a, bt_json_get_str(p, "phaseStatus"), &oom);
        x->start_ms = num_ms(p, "startTime");
        x->end_ms = num_ms(p, "endTime");
        x->has_duration = d && d->type == BT_JSON_NUMBER;
        x->duration_s = x->has_duration ? d->num : 0;
    }
    lv->lookup_calls = l->st.calls;
    lv->events_fetched = l->st.events;
    lv->batch_get_builds = cb != NULL;
    lv->build_status = sdup(a, bt_json_get_str(cb, "buildStatus"), &oom);
    lv->current_phase = sdup(a, bt_json_get_str(cb, "currentPhase"), &oom);
    lv->resolved_source_version = sdup(a, bt_json_get_str(cb, "resolvedSourceVersion"), &oom);
    lv->note = sdup(a, !cb && l->note[0] ? l->note : NULL, &oom);
    t->live = lv;
    return oom ? BT_ENOMEM : 0;
}

/* the private temporary store, created empty */
static int open_temp(live_ctx *l, bt_store **s, bt_error *err)
{
    const char *tmp = l->lo->tmpdir ? l->lo->tmpdir : getenv("TMPDIR");
    snprintf(l->dir, sizeof l->dir, "%s/buildtrail-live.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(l->dir)) {
        l->dir[0] = '\0';
        return bt_error_set(err, BT_EIO, "cannot create a temporary directory");
    }
    snprintf(l->store_path, sizeof l->store_path, "%s/events.db", l->dir);
    return bt_store_open(l->store_path, 0, s, err);
}

static void remove_temp(live_ctx *l)
{
    static const char *const ext[] = {"", "-wal", "-shm"};
    char path[sizeof l->store_path + 8];
    size_t i;
    if (!l->dir[0])
        return;
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", l->store_path, ext[i]);
        unlink(path);
    }
    rmdir(l->dir);
}

int bt_build_timeline_live(const bt_timeline_live_opts *lo, const bt_timeline_opts *o,
                           bt_timeline **out, bt_error *err)
{
    live_ctx *l = calloc(1, sizeof *l);
    bt_store *s = NULL;
    tl_hook h;
    int rc;

    *out = NULL;
    if (!l || !(l->a = bt_arena_new(1 << 16, 0))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (!lo->client || !lo->uuid) {
        rc = bt_error_set(err, BT_EINVAL, "build --live: no client or uuid");
        goto done;
    }
    l->lo = lo;
    l->st.cli = lo->client;
    l->st.ctx = lo->lookup_ctx;
    snprintf(l->st.uuid, sizeof l->st.uuid, "%s", lo->uuid);
    snprintf(l->st.project, sizeof l->st.project, "%s", lo->project ? lo->project : "");
    if ((rc = open_temp(l, &s, err)) || (rc = gather(l, s, err)))
        goto done;
    h.complete = complete;
    h.only = only;
    h.ctx = l;
    rc = tl_build_timeline(s, l->st.uuid, o, &h, out, err);
    if (rc == BT_ENOTFOUND)
        bt_error_set(err, BT_ENOTFOUND, "not in the event history%s%s", l->note[0] ? "; " : "",
                     l->note);
    if (rc == 0 && (rc = set_live(l, *out))) {
        bt_timeline_free(*out);
        *out = NULL;
        bt_error_set(err, rc, "out of memory");
    }
done:
    bt_store_close(s);
    if (l) {
        remove_temp(l);
        bt_arena_free(l->a);
    }
    free(l);
    return rc;
}
