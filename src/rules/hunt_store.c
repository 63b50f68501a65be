/* hunt_store.c - a hunt over a store's events (bt_hunt_store): the tracker seeded with
 * the store's builds when the rules need lifecycles, then the events oldest first,
 * handed over unparsed and evaluated on the hunt's own thread (bt_hunt_feed) while
 * this one reads the store. What `buildtrail hunt` and each `watch` cycle run. */
#include <string.h>

#include "buildtrail/builds.h"
#include "buildtrail/rules.h"
#include "buildtrail/store.h"

typedef struct hsctx {
    bt_hunt *h;
    int64_t last_seq;
    uint64_t count;
    bt_error *err;
} hsctx;

static int on_build(void *ctx, const bt_build *b)
{
    return bt_build_tracker_add_build(ctx, b);
}

static int on_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    hsctx *x = ctx;
    if (pos->seq > x->last_seq)
        x->last_seq = pos->seq;
    x->count++;
    /* parsed or not, the hunt's thread parses the record once more, past its pre-filter */
    return bt_hunt_feed(x->h, ev->raw, ev->raw_len, ev->kind, ev->event_name, x->err);
}

int bt_hunt_store(bt_hunt *h, bt_store *s, const bt_hunt_store_opts *o, int64_t *last_seq,
                  uint64_t *count, bt_error *err)
{
    bt_build_query bq;
    bt_store_query q;
    hsctx x;
    int rc;

    memset(&x, 0, sizeof x);
    x.h = h;
    x.last_seq = o && o->after_seq > 0 ? o->after_seq : 0;
    x.err = err;
    if (bt_rules_need_lifecycle(bt_hunt_ruleset(h))) {
        bt_build_query_init(&bq);
        bq.limit = o ? o->seed_builds : 0;
        if ((rc = bt_store_builds_find(s, &bq, on_build, bt_hunt_tracker(h), err)))
            return rc;
    }
    memset(&q, 0, sizeof q);
    q.filter = o ? o->filter : NULL;
    q.oldest_first = 1;
    q.after_seq = x.last_seq;
    q.raw_only = 1; /* parsed once, by the hunt, and only past its pre-filter */
    if ((rc = bt_hunt_feed_start(h)))
        return bt_error_set(err, rc, rc == BT_ENOMEM ? "out of memory" : "cannot start the hunt");
    rc = bt_store_search(s, &q, on_event, &x, err);
    if (rc)
        bt_hunt_feed_end(h, NULL); /* the first error is the one said */
    else
        rc = bt_hunt_feed_end(h, err);
    if (last_seq)
        *last_seq = x.last_seq;
    if (count)
        *count = x.count;
    return rc;
}
