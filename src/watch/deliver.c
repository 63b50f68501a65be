/* deliver.c - watch's deliveries from the outbox. The due rows are read on the store's
 * thread and handed to a delivery thread, which sends them (a webhook's up to
 * WN_PARALLEL at once over kept connections; the other kinds one at a time; after a
 * failure a notifier gets nothing more in that pass); their outcomes come back and are
 * written in one transaction, a failure setting the row's next try with exponential
 * backoff. Ingest and evaluation never wait for a receiver, and the store is only ever
 * used from the thread that owns it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define DUE_BATCH 500
#define FETCH_EVERY_MS 200 /* a look at the outbox when no new alert says there is work */

enum { WD_IDLE = 0, WD_BUSY, WD_DONE };

static int64_t backoff(const bt_watch *w, unsigned attempts)
{
    int64_t d = w->o.retry_min_ms;
    while (attempts-- > 0 && d < w->o.retry_max_ms)
        d *= 2;
    return d < w->o.retry_max_ms ? d : w->o.retry_max_ms;
}

/* ---- the delivery thread ---------------------------------------------------------- */

/* One notifier's items of the pass, in outbox order. */
static void send_notifier(bt_watch *w, size_t k, wn_item **v, size_t n)
{
    wn_notifier *nt = &w->nt[k];
    size_t i;
    if (nt->kind == WN_WEBHOOK) {
        wn_send_webhooks(nt, v, n, w->o.http_timeout_ms);
        return;
    }
    for (i = 0; i < n; i++) {
        bt_error why = BT_ERROR_INIT;
        if (i > 0 && v[i - 1]->rc != 0) { /* paused for this pass after a failure */
            v[i]->rc = -1;
            continue;
        }
        if (nt->kind == WN_STDOUT)
            v[i]->rc = w->o.emit(w->o.payload, v[i]->doc, v[i]->key)
                           ? bt_error_set(&why, BT_EIO, "stdout: not written")
                           : 0;
        else
            v[i]->rc = wn_send(nt, v[i]->doc, v[i]->key, w->o.http_timeout_ms, &why);
        if (v[i]->rc)
            snprintf(v[i]->why, sizeof v[i]->why, "%s", why.msg);
    }
}

static void send_pass(bt_watch *w)
{
    wd_sender *d = &w->ds;
    wn_item **v = malloc((d->n + 1) * sizeof *v);
    size_t k, i, n;
    if (!v) {
        for (i = 0; i < d->n; i++)
            d->items[i].rc = -1;
        return;
    }
    for (k = 0; k < w->nnt; k++) {
        for (i = n = 0; i < d->n; i++)
            if (d->items[i].nt == k)
                v[n++] = &d->items[i];
        if (n)
            send_notifier(w, k, v, n);
    }
    free(v);
}

static void *sender_main(void *arg)
{
    bt_watch *w = arg;
    wd_sender *d = &w->ds;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->state != WD_BUSY && !d->quit)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->state != WD_BUSY)
            break;
        pthread_mutex_unlock(&d->mu);
        send_pass(w);
        pthread_mutex_lock(&d->mu);
        d->state = WD_DONE;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static int sender_start(bt_watch *w, bt_error *err)
{
    wd_sender *d = &w->ds;
    if (d->started)
        return 0;
    sigset_t all, old;
    int rc;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    /* signals stay with the caller's thread (the thread inherits a mask blocking all) */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&d->th, NULL, sender_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        return bt_error_set(err, BT_EIO, "watch: cannot start the delivery thread");
    }
    d->started = 1;
    return 0;
}

void wd_stop(bt_watch *w)
{
    wd_sender *d = &w->ds;
    size_t i;
    if (d->started) {
        pthread_mutex_lock(&d->mu);
        d->quit = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        d->started = 0;
    }
    for (i = 0; i < d->n; i++) {
        free(d->items[i].key);
        free(d->items[i].doc);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
    for (i = 0; i < w->nnt; i++)
        wn_close(&w->nt[i]);
}

/* ---- the store's side --------------------------------------------------------------- */

static int on_due(void *ctx, const bt_store_delivery *row)
{
    bt_watch *w = ctx;
    wd_sender *d = &w->ds;
    wn_item *it;
    size_t k;
    for (k = 0; k < w->nnt && strcmp(w->nt[k].name, row->notifier) != 0; k++)
        ;
    if (k == w->nnt)
        return 0;
    if (bt_array_grow((void **)&d->items, &d->cap, d->n + 1, sizeof *d->items, 64))
        return BT_ENOMEM;
    it = &d->items[d->n];
    memset(it, 0, sizeof *it);
    it->alert_id = row->alert_id;
    it->nt = k;
    it->attempts = row->attempts;
    it->key = strdup(row->key);
    it->doc = strdup(row->doc);
    d->n++;
    return it->key && it->doc ? 0 : BT_ENOMEM;
}

/* The outcome of one item: stats, messages once per change of state, the outbox row. */
static int note_outcome(bt_watch *w, const wn_item *it, bt_error *err)
{
    wn_notifier *n = &w->nt[it->nt];
    if (it->rc == 0) {
        w->st.delivered++;
        if (n->failing)
            bt_watch_logf(w, "%s: delivering again", n->name);
        n->failing = 0;
        return bt_store_outbox_result(w->store, it->alert_id, n->name, 1, 0, NULL, err);
    }
    w->st.delivery_failures++;
    if (!n->failing)
        bt_watch_logf(w, "delivery failed (retried with backoff): %s", it->why);
    n->failing = 1;
    return bt_store_outbox_result(w->store, it->alert_id, n->name, 0,
                                  bt_time_now_ms() + backoff(w, it->attempts), it->why, err);
}

/* The outbox rows of the configured targets not delivered yet, for the status line. */
static int count_pending(bt_watch *w, bt_error *err)
{
    uint64_t n = 0;
    int64_t next;
    int rc = bt_store_outbox_pending(w->store, w->names, w->nnt, &n, &next, err);
    if (rc == 0)
        w->st.pending = n;
    return rc;
}

/* The finished pass's outcomes into the store (one transaction), then the pending count. */
static int write_back(bt_watch *w, bt_error *err)
{
    wd_sender *d = &w->ds;
    size_t i;
    int rc;

    if ((rc = bt_store_begin(w->store, err)))
        return rc;
    for (i = 0; i < d->n && rc == 0; i++)
        if (d->items[i].rc != -1)
            rc = note_outcome(w, &d->items[i], err);
    if (rc == 0)
        rc = bt_store_commit(w->store, err);
    else
        bt_store_rollback(w->store);
    for (i = 0; i < d->n; i++) {
        free(d->items[i].key);
        free(d->items[i].doc);
    }
    d->n = 0;
    return rc ? rc : count_pending(w, err);
}

/* Reads the due rows and, when there are some, hands them to the thread. */
static int hand_over(bt_watch *w, bt_error *err)
{
    wd_sender *d = &w->ds;
    int rc;
    if (w->nnt > 64)
        return bt_error_set(err, BT_EINVAL, "watch: at most 64 notify targets");
    w->alerts_added = 0;
    d->next_fetch_ms = bt_time_now_ms() + FETCH_EVERY_MS;
    rc = bt_store_outbox_due(w->store, w->names, w->nnt, bt_time_now_ms(), DUE_BATCH, on_due, w,
                             err);
    if (rc == BT_ENOMEM && !err->code)
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    if (rc || !d->n)
        return rc ? rc : count_pending(w, err);
    pthread_mutex_lock(&d->mu);
    d->state = WD_BUSY;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return 0;
}

/* A finished pass written back (waiting for it when wait). *busy: one is still in flight. */
static int collect(bt_watch *w, int wait, int *busy, bt_error *err)
{
    wd_sender *d = &w->ds;
    int state;
    pthread_mutex_lock(&d->mu);
    while (wait && d->state == WD_BUSY)
        pthread_cond_wait(&d->cv, &d->mu);
    state = d->state;
    if (state == WD_DONE)
        d->state = WD_IDLE;
    pthread_mutex_unlock(&d->mu);
    *busy = state == WD_BUSY;
    return state == WD_DONE ? write_back(w, err) : 0;
}

int wd_pump(bt_watch *w, int wait, bt_error *err)
{
    int busy = 0, rc;
    if ((rc = sender_start(w, err)) || (rc = collect(w, wait, &busy, err)) || busy)
        return rc;
    if (!wait && !w->alerts_added && bt_time_now_ms() < w->ds.next_fetch_ms)
        return 0;
    if ((rc = hand_over(w, err)) || !wait || !w->ds.n)
        return rc;
    return collect(w, 1, &busy, err);
}

int bt_watch_deliver(bt_watch *w, bt_error *err)
{
    /* a pass in flight is finished first; then every row due now gets one attempt */
    w->alerts_added = 1;
    return wd_pump(w, 1, err);
}
