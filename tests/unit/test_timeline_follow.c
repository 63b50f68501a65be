/* test_timeline_follow.c - bt_timeline_follow's loop through its public header: a build
 * not known on the first fetch is an error unless waited for; a stop ends it with 0;
 * a fetch failing ends it with that failure. (Entries handed out once and the end on an
 * outcome are checked end to end by it_watch_follow.sh.) */
#include <signal.h>

#include "buildtrail/timeline_follow.h"
#include "tharness.h"

typedef struct fake {
    int calls, stop_after, fail_at;
    volatile sig_atomic_t stop;
} fake;

static int fetch(void *ctx, bt_timeline **out, bt_error *err)
{
    fake *f = ctx;
    *out = NULL;
    if (++f->calls >= f->stop_after)
        f->stop = 1;
    if (f->fail_at && f->calls == f->fail_at)
        return bt_error_set(err, BT_EIO, "fetch failed");
    return bt_error_set(err, BT_ENOTFOUND, "not yet");
}

static void on_event(void *ctx, const bt_timeline *t, const bt_timeline_event *e)
{
    (void)ctx;
    (void)t;
    (void)e;
}

static void run(fake *f, int wait_known, int *rc)
{
    bt_timeline_follow_opts o = {0};
    bt_error err = BT_ERROR_INIT;
    o.fetch = fetch;
    o.on_event = on_event;
    o.ctx = f;
    o.interval_ms = 10;
    o.wait_known = wait_known;
    o.stop = &f->stop;
    *rc = bt_timeline_follow(&o, &err);
}

static void test_follow_loop(void)
{
    fake f = {0, 1000, 0, 0};
    int rc;
    run(&f, 0, &rc);
    CHECK_INT(rc, BT_ENOTFOUND);
    CHECK_INT(f.calls, 1);
    f = (fake){0, 3, 0, 0};
    run(&f, 1, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(f.calls, 3);
    f = (fake){0, 1000, 4, 0};
    run(&f, 1, &rc);
    CHECK_INT(rc, BT_EIO);
    CHECK_INT(f.calls, 4);
}

BT_TEST_MAIN(test_follow_loop)
