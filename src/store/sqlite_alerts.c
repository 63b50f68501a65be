/*
 * sqlite_alerts.c - the SQLite backend's alerts and their outbox (watch): an alert
 * with its events, folded by dedup key within a window, and one outbox row per
 * notifier written in the same transaction. Shares the store's internals through
 * sqlite_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/timeutil.h"
#include "store/sqlite_int.h"

/* ---- alerts and the outbox (watch) ----------------------------------------------- */

/* The statements of the alert path, prepared once per store (120k alerts a minute is
 * what a noisy rule makes) and reset after each use. */
enum {
    AL_EVENTS,
    AL_FIND_KEY,
    AL_FIND_DEDUP,
    AL_FOLD,
    AL_INSERT,
    AL_OUTBOX,
    AL_DONE,
    AL_RETRY,
    AL_ACK
};
static const char *const alert_sql[] = {
    [AL_EVENTS] = "INSERT OR IGNORE INTO alert_events(alert, eid) VALUES(?,?)",
    [AL_FIND_KEY] = "SELECT id FROM alerts WHERE akey=?",
    [AL_FIND_DEDUP] = "SELECT id FROM alerts WHERE dedup=? AND last_ms>=?"
                      " ORDER BY last_ms DESC LIMIT 1",
    [AL_FOLD] = "UPDATE alerts SET count=count+1, last_ms=max(last_ms,?),"
                " first_ms=min(first_ms,?) WHERE id=?",
    [AL_INSERT] = "INSERT INTO alerts(akey, rule, dedup, first_ms, last_ms, count, doc,"
                  " created_ms) VALUES(?,?,?,?,?,1,?,?)",
    [AL_OUTBOX] = "INSERT OR IGNORE INTO outbox(alert, notifier, next_ms) VALUES(?,?,?)",
    [AL_DONE] = "UPDATE outbox SET attempts=attempts+1, delivered_ms=?, last_error=NULL"
                " WHERE alert=? AND notifier=?",
    [AL_RETRY] = "UPDATE outbox SET attempts=attempts+1, next_ms=?, last_error=?"
                 " WHERE alert=? AND notifier=?",
    [AL_ACK] = "UPDATE alerts SET acked_ms=coalesce(acked_ms,?) WHERE id=?",
};

_Static_assert(sizeof alert_sql / sizeof alert_sql[0] ==
                   sizeof((bt_store *)0)->st_alert / sizeof((bt_store *)0)->st_alert[0],
               "one cached statement per alert_sql entry");

static int cached(bt_store *s, int which, sqlite3_stmt **st, bt_error *err)
{
    int rc = prep(s, &s->st_alert[which], alert_sql[which], err);
    *st = s->st_alert[which];
    if (rc == 0) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
    }
    return rc;
}

/* Steps st once (a write) and resets it. */
static int step_done(bt_store *s, sqlite3_stmt *st, const char *what, bt_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, what);
    sqlite3_reset(st);
    return rc;
}

static int alert_events_add(bt_store *s, int64_t id, const bt_store_alert *a, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    if ((rc = cached(s, AL_EVENTS, &st, err)))
        return rc;
    for (i = 0; i < a->nevent_ids; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, a->event_ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_err(s, err, "write alert");
            break;
        }
    }
    sqlite3_reset(st);
    return rc;
}

/* The alert with key, or the one a->dedup folds into: *id, 0 when none. */
static int alert_find(bt_store *s, int which, const char *text, int64_t num, int64_t *id,
                      bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step;
    *id = 0;
    if ((rc = cached(s, which, &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (num != INT64_MIN)
        sqlite3_bind_int64(st, 2, num);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = db_err(s, err, "read alerts");
    sqlite3_reset(st);
    return rc;
}

static int alert_fold(bt_store *s, int64_t id, const bt_store_alert *a, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = cached(s, AL_FOLD, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, a->time_ms);
    sqlite3_bind_int64(st, 2, a->time_ms);
    sqlite3_bind_int64(st, 3, id);
    if ((rc = step_done(s, st, "write alert", err)))
        return rc;
    return alert_events_add(s, id, a, err);
}

static int alert_insert(bt_store *s, const bt_store_alert *a, const char *const *notifiers,
                        size_t nn, int64_t *id, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int64_t now = bt_time_now_ms();
    size_t i;
    int rc;
    if ((rc = cached(s, AL_INSERT, &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->rule_id, -1, SQLITE_STATIC);
    bind_text(st, 3, a->dedup);
    sqlite3_bind_int64(st, 4, a->time_ms);
    sqlite3_bind_int64(st, 5, a->time_ms);
    sqlite3_bind_text(st, 6, a->doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    if ((rc = step_done(s, st, "write alert", err)))
        return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    if ((rc = alert_events_add(s, *id, a, err)))
        return rc;
    if ((rc = cached(s, AL_OUTBOX, &st, err)))
        return rc;
    for (i = 0; i < nn && !rc; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_text(st, 2, notifiers[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_err(s, err, "write outbox");
    }
    sqlite3_reset(st);
    return rc;
}

int bt_store_alert_add(bt_store *s, const bt_store_alert *a, int64_t window_ms,
                       const char *const *notifiers, size_t nnotifiers, int64_t *id,
                       bt_store_alert_result *result, bt_error *err)
{
    int rc;
    *id = 0;
    *result = BT_ALERT_NEW;
    if (!s->in_tx)
        return bt_error_set(err, BT_EINVAL, "store '%s': alerts are added in a transaction",
                            s->path);
    if (!a->key || !a->rule_id || !a->doc)
        return bt_error_set(err, BT_EINVAL, "alert without key, rule or document");
    if ((rc = alert_find(s, AL_FIND_KEY, a->key, INT64_MIN, id, err)))
        return rc;
    if (*id) {
        *result = BT_ALERT_DUPLICATE;
        return 0;
    }
    if (a->dedup && window_ms > 0) {
        if ((rc = alert_find(s, AL_FIND_DEDUP, a->dedup, a->time_ms - window_ms, id, err)))
            return rc;
        if (*id) {
            *result = BT_ALERT_FOLDED;
            return alert_fold(s, *id, a, err);
        }
    }
    return alert_insert(s, a, notifiers, nnotifiers, id, err);
}

/* " AND o.notifier IN (?,?...)" for n notifiers (none: nothing), binds from index first. */
static void notifier_cond(bt_buf *sql, size_t n)
{
    size_t i;
    if (!n)
        return;
    bt_buf_puts(sql, " AND o.notifier IN (");
    for (i = 0; i < n; i++)
        bt_buf_puts(sql, i ? ",?" : "?");
    bt_buf_puts(sql, ")");
}

static void notifier_bind(sqlite3_stmt *st, int first, const char *const *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        sqlite3_bind_text(st, first + (int)i, v[i], -1, SQLITE_STATIC);
}

/* Reads a delivery row selected as alert, notifier, akey, doc, attempts, next_ms,
 * delivered_ms, last_error from column first; strings copied into a. */
static int read_delivery(bt_arena *a, sqlite3_stmt *st, int first, bt_store_delivery *d)
{
    const char *v;
    d->alert_id = sqlite3_column_int64(st, first);
    d->notifier = bt_arena_strdup(a, (const char *)sqlite3_column_text(st, first + 1));
    d->key = bt_arena_strdup(a, (const char *)sqlite3_column_text(st, first + 2));
    d->doc = bt_arena_strdup(a, (const char *)sqlite3_column_text(st, first + 3));
    d->attempts = (unsigned)sqlite3_column_int(st, first + 4);
    d->next_ms = sqlite3_column_int64(st, first + 5);
    d->delivered_ms = icol(st, first + 6, 0);
    v = (const char *)sqlite3_column_text(st, first + 7);
    d->last_error = bt_arena_strdup(a, v ? v : "");
    return d->notifier && d->key && d->doc && d->last_error ? 0 : BT_ENOMEM;
}

#define DELIVERY_COLS                                                                              \
    "o.alert, o.notifier, a.akey, a.doc, o.attempts, o.next_ms, o.delivered_ms, o.last_error"

int bt_store_outbox_due(bt_store *s, const char *const *notifiers, size_t nnotifiers,
                        int64_t now_ms, size_t limit,
                        int (*fn)(void *ctx, const bt_store_delivery *d), void *ctx, bt_error *err)
{
    bt_buf sql = BT_BUF_INIT;
    sqlite3_stmt *st = NULL;
    bt_arena *a = bt_arena_new(0, 0);
    bt_store_delivery *rows = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0, step;

    if (!a)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    bt_buf_puts(&sql, "SELECT " DELIVERY_COLS " FROM outbox o JOIN alerts a ON a.id=o.alert"
                      " WHERE o.delivered_ms IS NULL AND o.next_ms<=?");
    notifier_cond(&sql, nnotifiers);
    bt_buf_puts(&sql, " ORDER BY o.alert, o.notifier");
    if (limit)
        bt_buf_printf(&sql, " LIMIT %zu", limit);
    if (!sql.data || (rc = prep(s, &st, sql.data, err)))
        goto done;
    sqlite3_bind_int64(st, 1, now_ms);
    notifier_bind(st, 2, notifiers, nnotifiers);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            bt_store_delivery *nr = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof *rows);
            if (!nr) {
                rc = BT_ENOMEM;
                break;
            }
            rows = nr;
        }
        if ((rc = read_delivery(a, st, 0, &rows[n++])))
            break;
    }
    if (rc == BT_ENOMEM) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(s, err, "read outbox");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    for (i = 0; i < n && !rc; i++)
        rc = fn(ctx, &rows[i]);
done:
    sqlite3_finalize(st);
    bt_buf_dispose(&sql);
    bt_arena_free(a);
    free(rows);
    return rc;
}

int bt_store_outbox_result(bt_store *s, int64_t alert_id, const char *notifier, int delivered,
                           int64_t next_ms, const char *error, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = cached(s, delivered ? AL_DONE : AL_RETRY, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, delivered ? bt_time_now_ms() : next_ms);
    if (!delivered)
        bind_text(st, 2, error ? error : "failed");
    sqlite3_bind_int64(st, delivered ? 2 : 3, alert_id);
    sqlite3_bind_text(st, delivered ? 3 : 4, notifier, -1, SQLITE_STATIC);
    if ((rc = step_done(s, st, "write outbox", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return bt_error_set(err, BT_ENOTFOUND, "no outbox row for alert %lld and '%s'",
                            (long long)alert_id, notifier);
    return 0;
}

int bt_store_outbox_pending(bt_store *s, const char *const *notifiers, size_t nnotifiers,
                            uint64_t *n, int64_t *next_ms, bt_error *err)
{
    bt_buf sql = BT_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    *n = 0;
    *next_ms = INT64_MAX;
    bt_buf_puts(&sql, "SELECT count(*), min(o.next_ms) FROM outbox o WHERE o.delivered_ms IS NULL");
    notifier_cond(&sql, nnotifiers);
    if (!sql.data || (rc = prep(s, &st, sql.data, err)))
        goto done;
    notifier_bind(st, 1, notifiers, nnotifiers);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = db_err(s, err, "read outbox");
        goto done;
    }
    *n = (uint64_t)sqlite3_column_int64(st, 0);
    *next_ms = icol(st, 1, INT64_MAX);
done:
    sqlite3_finalize(st);
    bt_buf_dispose(&sql);
    return rc;
}

/* The outbox rows of alert v->id into l (arena a). */
static int alert_deliveries(bt_store *s, bt_arena *a, bt_store_alert_view *v, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    bt_store_delivery *d = NULL;
    size_t cap = 0;
    int rc, step;
    v->deliveries = NULL;
    v->ndeliveries = 0;
    if ((rc = prep(s, &st,
                   "SELECT " DELIVERY_COLS " FROM outbox o JOIN alerts a ON a.id=o.alert"
                   " WHERE o.alert=? ORDER BY o.notifier",
                   err)))
        return rc;
    sqlite3_bind_int64(st, 1, v->id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->ndeliveries == cap) {
            bt_store_delivery *nd = bt_arena_alloc(a, (cap = cap ? cap * 2 : 4) * sizeof *nd);
            if (!nd)
                break;
            if (v->ndeliveries)
                memcpy(nd, d, v->ndeliveries * sizeof *nd);
            d = nd;
        }
        if (read_delivery(a, st, 0, &d[v->ndeliveries]))
            break;
        v->ndeliveries++;
    }
    if (step == SQLITE_ROW)
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    else if (step != SQLITE_DONE)
        rc = db_err(s, err, "read outbox");
    v->deliveries = d;
    sqlite3_finalize(st);
    return rc;
}

static void read_alert(sqlite3_stmt *st, bt_store_alert_view *v)
{
    const char *dd = (const char *)sqlite3_column_text(st, 3);
    v->id = sqlite3_column_int64(st, 0);
    v->key = (const char *)sqlite3_column_text(st, 1);
    v->rule_id = (const char *)sqlite3_column_text(st, 2);
    v->dedup = dd ? dd : "";
    v->first_ms = sqlite3_column_int64(st, 4);
    v->last_ms = sqlite3_column_int64(st, 5);
    v->count = (uint64_t)sqlite3_column_int64(st, 6);
    v->doc = (const char *)sqlite3_column_text(st, 7);
    v->created_ms = sqlite3_column_int64(st, 8);
    v->acked_ms = icol(st, 9, 0);
    v->nevents = (size_t)sqlite3_column_int64(st, 10);
}

int bt_store_alerts(bt_store *s, const bt_store_alert_query *q,
                    int (*fn)(void *ctx, const bt_store_alert_view *a), void *ctx, bt_error *err)
{
    bt_buf sql = BT_BUF_INIT;
    sqlite3_stmt *st = NULL;
    bt_arena *a = bt_arena_new(0, 0);
    int rc = 0, step;

    if (!a)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    bt_buf_puts(&sql, "SELECT a.id, a.akey, a.rule, a.dedup, a.first_ms, a.last_ms, a.count,"
                      " a.doc, a.created_ms, a.acked_ms,"
                      " (SELECT count(*) FROM alert_events e WHERE e.alert=a.id)"
                      " FROM alerts a WHERE 1");
    if (q && q->unacked_only)
        bt_buf_puts(&sql, " AND a.acked_ms IS NULL");
    if (q && q->undelivered_only)
        bt_buf_puts(&sql, " AND EXISTS(SELECT 1 FROM outbox o WHERE o.alert=a.id"
                          " AND o.delivered_ms IS NULL)");
    bt_buf_puts(&sql, " ORDER BY a.id DESC");
    if (q && q->limit)
        bt_buf_printf(&sql, " LIMIT %llu", (unsigned long long)q->limit);
    if (!sql.data || (rc = prep(s, &st, sql.data, err)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        bt_store_alert_view v;
        read_alert(st, &v);
        bt_arena_reset(a);
        if ((rc = alert_deliveries(s, a, &v, err)) || (rc = fn(ctx, &v)))
            goto done;
    }
    if (step != SQLITE_DONE)
        rc = db_err(s, err, "read alerts");
done:
    sqlite3_finalize(st);
    bt_buf_dispose(&sql);
    bt_arena_free(a);
    return rc;
}

int bt_store_alert_ack(bt_store *s, int64_t id, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = cached(s, AL_ACK, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, bt_time_now_ms());
    sqlite3_bind_int64(st, 2, id);
    if ((rc = step_done(s, st, "acknowledge alert", err)))
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return bt_error_set(err, BT_ENOTFOUND, "alert %lld: no such alert", (long long)id);
    return 0;
}
