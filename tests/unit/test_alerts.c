/* test_alerts.c - unit tests for the store's alerts and outbox (watch), through
 * buildtrail/store.h: add, fold within the suppression window, duplicate keys, the
 * outbox's due rows, retries and delivery, listing and acknowledging, and that a rolled
 * back transaction leaves neither alert nor outbox row. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/store.h"
#include "tharness.h"

static bt_store *open_tmp(char *path, size_t n)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    snprintf(path, n, "/tmp/bt-test-alerts-%d.db", (int)getpid());
    unlink(path);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    return s;
}

static void rm_store(const char *path)
{
    char p[300];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static int add(bt_store *s, const char *key, const char *dedup, const char *eid, int64_t t,
               int64_t window, int64_t *id, bt_store_alert_result *res)
{
    static const char *const notifiers[] = {"stdout", "webhook:http://127.0.0.1:1/x"};
    const char *ids[1];
    bt_store_alert a;
    bt_error err = BT_ERROR_INIT;
    ids[0] = eid;
    memset(&a, 0, sizeof a);
    a.key = key;
    a.rule_id = "rule-1";
    a.dedup = dedup;
    a.doc = "{\"rule_id\":\"rule-1\"}";
    a.event_ids = ids;
    a.nevent_ids = 1;
    a.time_ms = t;
    return bt_store_alert_add(s, &a, window, notifiers, 2, id, res, &err);
}

typedef struct dues {
    int n;
    int64_t ids[16];
    char notifier[16][64];
    unsigned attempts[16];
} dues;

static int on_due(void *ctx, const bt_store_delivery *d)
{
    dues *u = ctx;
    if (u->n < 16) {
        u->ids[u->n] = d->alert_id;
        snprintf(u->notifier[u->n], sizeof u->notifier[0], "%s", d->notifier);
        u->attempts[u->n] = d->attempts;
    }
    u->n++;
    return 0;
}

static void test_add_fold_duplicate(void)
{
    char path[128];
    bt_store *s = open_tmp(path, sizeof path);
    bt_error err = BT_ERROR_INIT;
    int64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
    bt_store_alert_result r;

    CHECK_INT(bt_store_schema_version(s), 16);
    /* outside a transaction: refused */
    CHECK_INT(add(s, "k1", "rule-1|b1", "e1", 1000, 60000, &id1, &r), BT_EINVAL);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(add(s, "k1", "rule-1|b1", "e1", 1000, 60000, &id1, &r), 0);
    CHECK_INT(r, BT_ALERT_NEW);
    CHECK(id1 > 0);
    /* same key: nothing new */
    CHECK_INT(add(s, "k1", "rule-1|b1", "e1", 1000, 60000, &id2, &r), 0);
    CHECK_INT(r, BT_ALERT_DUPLICATE);
    CHECK_INT(id2, id1);
    /* same dedup key within the window: folded */
    CHECK_INT(add(s, "k2", "rule-1|b1", "e2", 30000, 60000, &id3, &r), 0);
    CHECK_INT(r, BT_ALERT_FOLDED);
    CHECK_INT(id3, id1);
    /* outside the window: a new alert */
    CHECK_INT(add(s, "k3", "rule-1|b1", "e3", 200000, 60000, &id4, &r), 0);
    CHECK_INT(r, BT_ALERT_NEW);
    CHECK(id4 != id1);
    CHECK_INT(bt_store_commit(s, &err), 0);

    {
        uint64_t n = 0;
        int64_t next = 0;
        CHECK_INT(bt_store_outbox_pending(s, NULL, 0, &n, &next, &err), 0);
        CHECK_INT(n, 4); /* two alerts x two notifiers */
        CHECK(next != INT64_MAX);
    }
    bt_store_close(s);
    rm_store(path);
}

static void test_outbox_retry_deliver(void)
{
    char path[128];
    bt_store *s = open_tmp(path, sizeof path);
    bt_error err = BT_ERROR_INIT;
    static const char *const web[] = {"webhook:http://127.0.0.1:1/x"};
    int64_t id = 0, now;
    bt_store_alert_result r;
    dues u;
    uint64_t n;
    int64_t next;

    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(add(s, "k1", NULL, "e1", 1000, 0, &id, &r), 0);
    CHECK_INT(bt_store_commit(s, &err), 0);
    now = INT64_MAX / 2;
    memset(&u, 0, sizeof u);
    CHECK_INT(bt_store_outbox_due(s, web, 1, now, 0, on_due, &u, &err), 0);
    CHECK_INT(u.n, 1);
    CHECK_STR(u.notifier[0], "webhook:http://127.0.0.1:1/x");
    CHECK_INT(u.attempts[0], 0);
    /* a failure pushes the next try later: not due before it */
    CHECK_INT(bt_store_outbox_result(s, id, web[0], 0, 5000, "connection refused", &err), 0);
    memset(&u, 0, sizeof u);
    CHECK_INT(bt_store_outbox_due(s, web, 1, 4999, 0, on_due, &u, &err), 0);
    CHECK_INT(u.n, 0);
    CHECK_INT(bt_store_outbox_pending(s, web, 1, &n, &next, &err), 0);
    CHECK_INT(n, 1);
    CHECK_INT(next, 5000);
    memset(&u, 0, sizeof u);
    CHECK_INT(bt_store_outbox_due(s, web, 1, 5000, 0, on_due, &u, &err), 0);
    CHECK_INT(u.n, 1);
    CHECK_INT(u.attempts[0], 1);
    CHECK_INT(bt_store_outbox_result(s, id, web[0], 1, 0, NULL, &err), 0);
    CHECK_INT(bt_store_outbox_pending(s, web, 1, &n, &next, &err), 0);
    CHECK_INT(n, 0);
    /* the stdout row is still pending */
    CHECK_INT(bt_store_outbox_pending(s, NULL, 0, &n, &next, &err), 0);
    CHECK_INT(n, 1);
    CHECK_INT(bt_store_outbox_result(s, id, "nope", 1, 0, NULL, &err), BT_ENOTFOUND);
    bt_store_close(s);
    rm_store(path);
}

typedef struct listed {
    int n;
    int64_t ids[8];
    uint64_t count[8];
    size_t nevents[8], ndeliv[8];
    int delivered[8];
    int64_t acked[8];
} listed;

static int on_alert(void *ctx, const bt_store_alert_view *a)
{
    listed *l = ctx;
    size_t i;
    if (l->n < 8) {
        l->ids[l->n] = a->id;
        l->count[l->n] = a->count;
        l->nevents[l->n] = a->nevents;
        l->ndeliv[l->n] = a->ndeliveries;
        l->acked[l->n] = a->acked_ms;
        for (i = 0; i < a->ndeliveries; i++)
            l->delivered[l->n] += a->deliveries[i].delivered_ms != 0;
    }
    l->n++;
    return 0;
}

static void test_list_ack_rollback(void)
{
    char path[128];
    bt_store *s = open_tmp(path, sizeof path);
    bt_error err = BT_ERROR_INIT;
    int64_t id1 = 0, id2 = 0, seq = -1;
    bt_store_alert_result r;
    bt_store_alert_query q;
    listed l;

    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(add(s, "k1", "d", "e1", 1000, 60000, &id1, &r), 0);
    CHECK_INT(add(s, "k2", "d", "e2", 2000, 60000, &id2, &r), 0);
    CHECK_INT(r, BT_ALERT_FOLDED);
    CHECK_INT(bt_store_commit(s, &err), 0);
    /* rolled back: neither alert nor outbox */
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(add(s, "k9", NULL, "e9", 1000, 0, &id2, &r), 0);
    bt_store_rollback(s);
    CHECK_INT(bt_store_outbox_result(s, id1, "stdout", 1, 0, NULL, &err), 0);

    memset(&l, 0, sizeof l);
    CHECK_INT(bt_store_alerts(s, NULL, on_alert, &l, &err), 0);
    CHECK_INT(l.n, 1);
    CHECK_INT(l.ids[0], id1);
    CHECK_INT(l.count[0], 2);
    CHECK_INT(l.nevents[0], 2);
    CHECK_INT(l.ndeliv[0], 2);
    CHECK_INT(l.delivered[0], 1);
    CHECK_INT(l.acked[0], 0);

    CHECK_INT(bt_store_alert_ack(s, id1, &err), 0);
    CHECK_INT(bt_store_alert_ack(s, 9999, &err), BT_ENOTFOUND);
    memset(&q, 0, sizeof q);
    q.unacked_only = 1;
    memset(&l, 0, sizeof l);
    CHECK_INT(bt_store_alerts(s, &q, on_alert, &l, &err), 0);
    CHECK_INT(l.n, 0);
    memset(&q, 0, sizeof q);
    q.undelivered_only = 1;
    memset(&l, 0, sizeof l);
    CHECK_INT(bt_store_alerts(s, &q, on_alert, &l, &err), 0);
    CHECK_INT(l.n, 1);
    CHECK(l.acked[0] > 0);
    CHECK_INT(bt_store_last_seq(s, &seq, &err), 0);
    CHECK_INT(seq, 0);
    bt_store_close(s);
    rm_store(path);
}

BT_TEST_MAIN(test_add_fold_duplicate, test_outbox_retry_deliver, test_list_ack_rollback)
