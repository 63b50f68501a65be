/* run.c - watch's loop: a cycle every interval, the sqs:// sources long-polled in
 * between, deliveries handed to the delivery thread as they fall due (deliver.c), the
 * status line, SIGHUP-style reloads, and a drain on stop. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define TICK_MS 50
#define SQS_GATHER_MS 300

/* The status line: events stored per second since the last one, alerts, pending, and
 * each source's state and lag (ws_status). */
static void status_line(bt_watch *w, int64_t now, int64_t *last_ms, uint64_t *last_events,
                        uint64_t *last_alerts)
{
    double secs = (double)(now - *last_ms) / 1000.0;
    char src[2048];
    ws_status(w, now, src, sizeof src);
    bt_watch_logf(w, "status: %.1f events/s, %llu new alerts, %llu deliveries pending%s",
                  secs > 0 ? (double)(w->st.events_new - *last_events) / secs : 0.0,
                  (unsigned long long)(w->st.alerts_new - *last_alerts),
                  (unsigned long long)w->st.pending, src);
    *last_ms = now;
    *last_events = w->st.events_new;
    *last_alerts = w->st.alerts_new;
}

/* A long-running watch gives back what a batch freed: the scan's worker threads leave
 * their malloc arenas holding the pages of their last batch (about 12 MB each), which
 * would otherwise stay resident between batches. */
static void give_back(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static int stopping(const bt_watch *w)
{
    return w->o.stop && *w->o.stop;
}

static void nap(void)
{
    struct timespec ts = {0, TICK_MS * 1000000L};
    nanosleep(&ts, NULL);
}

/* Between cycles: the sqs:// sources long-polled (in place of the nap); while messages
 * keep coming they are read for up to SQS_GATHER_MS (without waiting), then what they
 * brought is evaluated and delivered at once: one evaluation for many batches. */
static int wait_or_poll(bt_watch *w, bt_error *err)
{
    uint64_t n = 0, total = 0, before;
    int64_t t0;
    int rc;
    if (!w->nsqs) {
        nap();
        return 0;
    }
    before = w->st.sqs_messages;
    rc = wq_poll(w, w->o.sqs_wait_s > 0 ? w->o.sqs_wait_s : 1, &n, err);
    total += n;
    t0 = bt_time_now_ms();
    while (rc == 0 && w->st.sqs_messages != before && !stopping(w) &&
           bt_time_now_ms() - t0 < SQS_GATHER_MS) {
        before = w->st.sqs_messages;
        rc = wq_poll(w, 0, &n, err);
        total += n;
    }
    if (rc || !total)
        return rc;
    if ((rc = bt_watch_evaluate(w, err)))
        return rc;
    give_back();
    return wd_pump(w, 0, err);
}

int bt_watch_run(bt_watch *w, bt_error *err)
{
    int64_t next_cycle = 0, now, status_every, last_status;
    uint64_t last_events = 0, last_alerts = 0;
    int rc = 0, cycles = 0;

    status_every = w->o.status_ms ? w->o.status_ms : 60000;
    w->running = 1; /* deliveries in the background from here on */
    last_status = bt_time_now_ms();
    while (!stopping(w)) {
        if (w->o.reload && *w->o.reload != w->reload_seen) {
            bt_error e = BT_ERROR_INIT;
            w->reload_seen = *w->o.reload;
            bt_watch_reload(w, &e); /* a broken set keeps the old one (logged) */
        }
        now = bt_time_now_ms();
        if (now >= next_cycle) {
            if ((rc = bt_watch_cycle(w, err)))
                return rc;
            give_back();
            next_cycle = now + w->o.interval_ms;
            if (w->o.max_cycles && ++cycles >= w->o.max_cycles)
                break;
        } else if ((rc = wd_pump(w, 0, err))) {
            return rc;
        }
        if (status_every > 0 && now - last_status >= status_every)
            status_line(w, now, &last_status, &last_events, &last_alerts);
        if ((rc = wait_or_poll(w, err)))
            return rc;
    }
    /* drain: what is due gets one more attempt */
    return bt_watch_deliver(w, err);
}
