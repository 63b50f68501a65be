/* evaluate.c - one watch cycle's rule evaluation: the events stored after the watch
 * cursor ("watch|seq", the store's sequence numbers) through bt_hunt_store (oldest
 * first, the store read on this thread and the rules run on the hunt's); then
 * the alerts (stable keys, dedup keys), their outbox rows and the advanced cursor in one
 * transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/json.h"
#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define CURSOR_SEQ "watch|seq"
#define SEED_BUILDS 20000
#define CORR_BYTES (16u << 20) /* correlation state kept across cycles, at most */

/* The cursor: the last sequence number evaluated. The first run starts after what the
 * store already held when it attached (an existing store is not alerted on as a whole). */
static int cursor_load(bt_watch *w, int64_t *seq, bt_error *err)
{
    char *v = NULL, buf[32];
    int rc;
    if ((rc = bt_store_cursor_get(w->store, CURSOR_SEQ, &v, err)))
        return rc;
    if (v) {
        *seq = strtoll(v, NULL, 10);
        free(v);
        return 0;
    }
    if ((rc = bt_store_last_seq(w->store, seq, err)))
        return rc;
    snprintf(buf, sizeof buf, "%lld", (long long)*seq);
    return bt_store_cursor_set(w->store, CURSOR_SEQ, buf, err);
}

/* Fills a (strings in arena) from the alert document doc. 0, or BT_EPARSE / BT_ENOMEM. */
static int alert_from_doc(bt_watch *w, bt_arena *ar, const char *doc, bt_store_alert *a,
                          bt_error *err)
{
    bt_json *root, *ids;
    const char *eid, *build, *t;
    const char **v;
    bt_buf kb = BT_BUF_INIT;
    char hex[33];
    size_t i;
    int rc;

    memset(a, 0, sizeof *a);
    if ((rc = bt_json_parse(ar, doc, strlen(doc), NULL, &root, err)))
        return rc;
    a->doc = doc;
    a->rule_id = bt_json_get_str(root, "rule_id");
    eid = bt_json_get_str(root, "event_id");
    build = bt_json_get_str(root, "build_id");
    t = bt_json_get_str(root, "event_time");
    ids = bt_json_get(root, "event_ids");
    if (!a->rule_id)
        return bt_error_set(err, BT_EPARSE, "alert document without rule_id");
    if (!t || bt_time_parse_iso(t, strlen(t), &a->time_ms))
        a->time_ms = bt_time_now_ms();
    v = bt_arena_alloc(ar, (ids && ids->type == BT_JSON_ARRAY ? ids->len : 1) * sizeof *v + 1);
    if (!v)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (eid)
        v[a->nevent_ids++] = eid;
    for (i = 0; ids && ids->type == BT_JSON_ARRAY && i < ids->len; i++)
        if (ids->u.items[i]->type == BT_JSON_STRING)
            v[a->nevent_ids++] = ids->u.items[i]->u.str;
    a->event_ids = v;
    /* the key: rule and events, so the same alert always has the same key */
    bt_buf_puts(&kb, a->rule_id);
    for (i = 0; i < a->nevent_ids; i++)
        bt_buf_printf(&kb, "\n%s", a->event_ids[i]);
    if (!kb.data) {
        bt_buf_dispose(&kb);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    wn_hash_hex(kb.data, kb.len, 16, hex);
    bt_buf_dispose(&kb);
    a->key = bt_arena_sprintf(ar, "bt-%s", hex);
    a->dedup =
        build && w->o.suppress_ms > 0 ? bt_arena_sprintf(ar, "%s|%s", a->rule_id, build) : NULL;
    if (!a->key || (build && w->o.suppress_ms > 0 && !a->dedup))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

/* Stores the hunt's alerts and the cursor in one transaction. */
static int store_alerts(bt_watch *w, bt_hunt *h, int64_t seq, bt_error *err)
{
    bt_arena *ar = bt_arena_new(0, 0);
    bt_buf doc = BT_BUF_INIT;
    size_t i, n = bt_hunt_count(h);
    char cur[32];
    int rc = 0;

    if (!ar)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if ((rc = bt_store_begin(w->store, err)))
        goto done;
    for (i = 0; i < n; i++) {
        bt_store_alert a;
        bt_store_alert_result res;
        int64_t id;
        bt_arena_reset(ar);
        if ((rc = bt_hunt_alert_at(h, i, &doc)) || (rc = bt_buf_putc(&doc, 0))) {
            rc = bt_error_set(err, rc, "alert %zu: cannot read it back", i);
            goto done;
        }
        if ((rc = alert_from_doc(w, ar, doc.data, &a, err)) ||
            (rc = bt_store_alert_add(w->store, &a, w->o.suppress_ms, w->names, w->nnt, &id, &res,
                                     err)))
            goto done;
        if (res == BT_ALERT_NEW) {
            w->st.alerts_new++;
            w->alerts_added = 1;
        } else if (res == BT_ALERT_FOLDED) {
            w->st.alerts_folded++;
        } else {
            w->st.alerts_duplicate++;
        }
    }
    snprintf(cur, sizeof cur, "%lld", (long long)seq);
    if ((rc = bt_store_cursor_set(w->store, CURSOR_SEQ, cur, err)))
        goto done;
    rc = bt_store_commit(w->store, err);
done:
    if (rc)
        bt_store_rollback(w->store);
    bt_buf_dispose(&doc);
    bt_arena_free(ar);
    return rc;
}

int bt_watch_cursor_init(bt_watch *w, bt_error *err)
{
    int64_t seq;
    return cursor_load(w, &seq, err);
}

int bt_watch_evaluate(bt_watch *w, bt_error *err)
{
    bt_hunt_opts ho;
    bt_hunt_store_opts so;
    bt_hunt *h = NULL;
    int64_t seq = 0, max_seq = 0;
    uint64_t n = 0;
    int rc;

    if ((rc = cursor_load(w, &seq, err)))
        return rc;
    memset(&ho, 0, sizeof ho);
    ho.ordered = 1;
    if (!w->corr) {
        bt_rules_corr_opts co;
        memset(&co, 0, sizeof co);
        co.max_bytes = CORR_BYTES;
        if (!(w->corr = bt_rules_corr_new(w->rs, &co)))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    ho.corr_state = w->corr; /* a burst split across cycles is still one burst */
    if ((rc = bt_hunt_new(w->rs, &ho, &h)))
        return bt_error_set(
            err, rc, rc == BT_EIO ? "cannot make a temporary file (TMPDIR)" : "out of memory");
    /* the builds known so far, then what was stored after the cursor: the store read on
     * this thread, the rules on the hunt's */
    memset(&so, 0, sizeof so);
    so.after_seq = seq > 0 ? seq : 0;
    so.seed_builds = SEED_BUILDS;
    if ((rc = bt_hunt_store(h, w->store, &so, &max_seq, &n, err)) || n == 0)
        goto done;
    w->st.events_evaluated += n;
    if ((rc = bt_hunt_finish(h, err)))
        goto done;
    rc = store_alerts(w, h, max_seq, err);
done:
    bt_hunt_free(h);
    return rc;
}
