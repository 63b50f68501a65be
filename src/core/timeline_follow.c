/* timeline_follow.c - following a build's timeline as it grows: the timeline fetched
 * every interval, entries not seen before handed out once (a set of their identities),
 * the end when the build has an outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/buf.h"
#include "buildtrail/timeline_follow.h"
#include "buildtrail/timeutil.h"

int bt_timeline_ended(const bt_timeline *t)
{
    return t->build.outcome != BT_STATUS_UNKNOWN && t->build.outcome != BT_STATUS_IN_PROGRESS;
}

/* The identities handed out, sorted */
typedef struct seen {
    char **v;
    size_t n, cap;
} seen;

/* Adds id unless present: 1 added, 0 present, BT_ENOMEM. */
static int seen_add(seen *s, const char *id)
{
    size_t lo = 0, hi = s->n;
    char *copy;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], id);
        if (c == 0)
            return 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (bt_array_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v, 256))
        return BT_ENOMEM;
    if (!(copy = strdup(id)))
        return BT_ENOMEM;
    memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof *s->v);
    s->v[lo] = copy;
    s->n++;
    return 1;
}

static void seen_dispose(seen *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int identity(const bt_timeline_event *e, char *buf, size_t n)
{
    if (e->event_id && e->kind != BT_TL_STATE && e->kind != BT_TL_PHASE)
        return snprintf(buf, n, "i%s", e->event_id);
    return snprintf(buf, n, "k%d|%lld|%s|%s|%s|%s", (int)e->kind, (long long)e->time_ms,
                    e->event_id ? e->event_id : "", e->event_name ? e->event_name : "",
                    e->phase ? e->phase : "", e->status ? e->status : "");
}

/* Hands out t's new entries: 0 or BT_ENOMEM. */
static int new_entries(const bt_timeline_follow_opts *o, seen *s, const bt_timeline *t)
{
    char id[600];
    size_t i;
    int rc;
    for (i = 0; i < t->n_events; i++) {
        identity(&t->events[i], id, sizeof id);
        if ((rc = seen_add(s, id)) < 0)
            return rc;
        if (rc == 1)
            o->on_event(o->ctx, t, &t->events[i]);
    }
    return 0;
}

static int stopped(const bt_timeline_follow_opts *o)
{
    return o->stop && *o->stop;
}

/* Sleeps ms in short steps, returning early when asked to stop. */
static void pause_ms(const bt_timeline_follow_opts *o, int64_t ms)
{
    int64_t end = bt_time_now_ms() + ms;
    struct timespec ts = {0, 50 * 1000000L};
    while (!stopped(o) && bt_time_now_ms() < end)
        nanosleep(&ts, NULL);
}

int bt_timeline_follow(const bt_timeline_follow_opts *o, bt_error *err)
{
    seen s;
    int64_t every = o->interval_ms > 0 ? o->interval_ms : 1000;
    int rc = 0, first = 1;

    memset(&s, 0, sizeof s);
    while (!stopped(o)) {
        bt_timeline *t = NULL;
        rc = o->fetch(o->ctx, &t, err);
        if (rc == BT_ENOTFOUND && (o->wait_known || !first))
            rc = 0; /* not known yet (or not seen by this fetch): the next one */
        else if (rc)
            break;
        first = 0;
        if (t && (rc = new_entries(o, &s, t)) != 0) {
            bt_timeline_free(t);
            rc = bt_error_set(err, rc, "out of memory");
            break;
        }
        if (t && bt_timeline_ended(t)) {
            if (o->on_end)
                o->on_end(o->ctx, t);
            bt_timeline_free(t);
            break;
        }
        bt_timeline_free(t);
        pause_ms(o, every);
    }
    seen_dispose(&s);
    return rc;
}
