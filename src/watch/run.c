/* run.c - watch's deliveries from the outbox (one attempt per due row; a failure sets
 * the row's next try with exponential backoff, and pauses its notifier for this pass)
 * and the loop: a cycle every interval, deliveries in between, SIGHUP-style reloads,
 * and a drain on stop. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define DUE_BATCH 500
#define TICK_MS 50
#define DELIVER_EVERY_MS 200
#define SQS_GATHER_MS 300

typedef struct pass {
    bt_watch *w;
    int *paused; /* per notifier: failed in this pass */
    bt_error *err;
} pass;

static int64_t backoff(const bt_watch *w, unsigned attempts)
{
    int64_t d = w->o.retry_min_ms;
    while (attempts-- > 0 && d < w->o.retry_max_ms)
        d *= 2;
    return d < w->o.retry_max_ms ? d : w->o.retry_max_ms;
}

static int on_due(void *ctx, const bt_store_delivery *d)
{
    pass *p = ctx;
    bt_watch *w = p->w;
    wn_notifier *n = NULL;
    bt_error why = BT_ERROR_INIT;
    size_t i;
    int rc;

    for (i = 0; i < w->nnt; i++)
        if (strcmp(w->nt[i].name, d->notifier) == 0)
            n = &w->nt[i];
    if (!n || p->paused[n - w->nt])
        return 0;
    if (n->kind == WN_STDOUT)
        rc = w->o.emit(w->o.payload, d->doc, d->key)
                 ? bt_error_set(&why, BT_EIO, "stdout: not written")
                 : 0;
    else
        rc = wn_send(n, d->doc, d->key, w->o.http_timeout_ms, &why);
    if (rc == 0) {
        w->st.delivered++;
        if (n->failing)
            bt_watch_logf(w, "%s: delivering again", n->name);
        n->failing = 0;
        return bt_store_outbox_result(w->store, d->alert_id, n->name, 1, 0, NULL, p->err);
    }
    w->st.delivery_failures++;
    p->paused[n - w->nt] = 1;
    if (!n->failing)
        bt_watch_logf(w, "delivery failed (retried with backoff): %s", why.msg);
    n->failing = 1;
    return bt_store_outbox_result(w->store, d->alert_id, n->name, 0,
                                  bt_time_now_ms() + backoff(w, d->attempts), why.msg, p->err);
}

int bt_watch_deliver(bt_watch *w, bt_error *err)
{
    int paused[64] = {0};
    pass p;
    uint64_t n = 0;
    int64_t next;
    int rc;
    p.w = w;
    p.paused = paused;
    p.err = err;
    if (w->nnt > 64)
        return bt_error_set(err, BT_EINVAL, "watch: at most 64 notify targets");
    rc = bt_store_outbox_due(w->store, w->names, w->nnt, bt_time_now_ms(), DUE_BATCH, on_due, &p,
                             err);
    if (rc == 0 && (rc = bt_store_outbox_pending(w->store, w->names, w->nnt, &n, &next, err)) == 0)
        w->st.pending = n;
    return rc;
}

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
    return bt_watch_deliver(w, err);
}

int bt_watch_run(bt_watch *w, bt_error *err)
{
    int64_t next_cycle = 0, next_deliver = 0, now, status_every, last_status;
    uint64_t last_events = 0, last_alerts = 0;
    int rc = 0, cycles = 0;

    status_every = w->o.status_ms ? w->o.status_ms : 60000;
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
            next_cycle = now + w->o.interval_ms;
            next_deliver = bt_time_now_ms() + DELIVER_EVERY_MS;
            if (w->o.max_cycles && ++cycles >= w->o.max_cycles)
                break;
        } else if (now >= next_deliver) {
            if ((rc = bt_watch_deliver(w, err)))
                return rc;
            next_deliver = now + DELIVER_EVERY_MS;
        }
        if (status_every > 0 && now - last_status >= status_every)
            status_line(w, now, &last_status, &last_events, &last_alerts);
        if ((rc = wait_or_poll(w, err)))
            return rc;
    }
    /* drain: what is due gets one more attempt */
    return bt_watch_deliver(w, err);
}
