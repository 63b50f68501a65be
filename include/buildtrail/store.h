/*
 * buildtrail/store.h - the event store: backend-neutral interface. The embedded
 * default is SQLite (src/store/sqlite.c): WAL, versioned schema migrated forward on
 * open, event_id unique, raw records kept byte-exact (zstd-compressed blocks),
 * ingested-sources table for skip-on-reingest, cursors for resumable API backfills.
 *
 * Threading: one bt_store per thread. Several processes may open the same store
 * (readers see committed data while a writer works).
 */
#ifndef BT_STORE_H
#define BT_STORE_H

#include <stdint.h>

#include "buildtrail/builds.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_store bt_store;

enum {
    BT_STORE_READONLY = 1 << 0, /* fail rather than create; no writes but a schema upgrade
                                 * the store needs, made first (one transaction) when the
                                 * file may be written */
};

/* The default store path: $BUILDTRAIL_STORE, else $XDG_DATA_HOME/buildtrail/events.db,
 * else ~/.local/share/buildtrail/events.db. *out is malloc'd (caller frees). */
int bt_store_default_path(char **out, bt_error *err);

/* Opens (creating with mode 0600 and parent directories unless READONLY) and migrates
 * the schema. *out is freed with bt_store_close. A file that is not a buildtrail
 * store, or has a newer schema than this build knows, is refused unchanged. */
int bt_store_open(const char *path, unsigned flags, bt_store **out, bt_error *err);

/* The progress of a schema upgrade: done of total, an estimate in one unit (SQLite
 * steps); called from the opening thread about every 100 ms while an upgrade runs,
 * and once with done == total when it ends. */
typedef void (*bt_store_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* bt_store_open, telling fn (may be NULL) how a schema upgrade advances: on a big
 * store one takes seconds (schema 3 to 4: about 3 s per 5M events). */
int bt_store_open_progress(const char *path, unsigned flags, bt_store_progress_fn fn, void *ctx,
                           bt_store **out, bt_error *err);
void bt_store_close(bt_store *s); /* accepts NULL; rolls back an open transaction */

const char *bt_store_path(const bt_store *s);
int bt_store_schema_version(const bt_store *s);

/* ---- writing ---- */

int bt_store_begin(bt_store *s, bt_error *err);
/* Adds ev; *is_new = 0 when an event with the same event_id is already stored (the
 * duplicate is dropped). Requires an open transaction. */
int bt_store_add(bt_store *s, const bt_event *ev, int *is_new, bt_error *err);
/* Records of a batch compressed into blocks ahead of time, with the CodeBuild facts of
 * the records that carry some (bt_build_facts), so the compression and the second look
 * at those records run in the parser threads rather than the writer. Thread-safe: any
 * thread may pack for a store while its writer adds. */
typedef struct bt_store_pack bt_store_pack;

/* Packs the raw records of ev[0..n) for the store s (borrowed; NULL: for any store),
 * compressed with s's newest compression dictionary when it has one (a store trains
 * them from its own records as they grow: docs/store.md). *out is freed with
 * bt_store_pack_free; it may go to s only (bt_store_add_packed checks). */
int bt_store_pack_new(bt_store *s, const bt_event *ev, size_t n, bt_store_pack **out,
                      bt_error *err);
void bt_store_pack_free(bt_store_pack *p); /* accepts NULL */
/* The same two as bt_scan_opts' prepare and release callbacks (source.h), for a scan
 * whose batches go to bt_store_add_packed: ctx is the bt_store (or NULL). */
int bt_store_pack_prepare(void *ctx, const bt_event *ev, size_t n, void **out);
void bt_store_pack_release(void *prepared);

/* Adds the n events whose records pack holds (made from the same ev[0..n), which must
 * still be valid: the facts borrow their strings); counts into *added and *dups.
 * Requires an open transaction. */
int bt_store_add_packed(bt_store *s, const bt_event *ev, size_t n, const bt_store_pack *pack,
                        uint64_t *added, uint64_t *dups, bt_error *err);

/* Records that source key (absolute path, or s3://bucket/key) was fully ingested with
 * this size / mtime / etag (etag may be NULL). In the same transaction as its events. */
int bt_store_source_done(bt_store *s, const char *key, uint64_t size, int64_t mtime_ns,
                         const char *etag, uint64_t records, bt_error *err);
/* Commits (flushing the pending block). */
int bt_store_commit(bt_store *s, bt_error *err);
void bt_store_rollback(bt_store *s);

/* *unchanged = 1 if key was ingested with the same size and mtime (or etag). */
int bt_store_source_unchanged(bt_store *s, const char *key, uint64_t size, int64_t mtime_ns,
                              const char *etag, int *unchanged, bt_error *err);

/* Named cursors (resumable backfills, watch positions). *value is malloc'd or NULL. */
int bt_store_cursor_get(bt_store *s, const char *name, char **value, bt_error *err);
int bt_store_cursor_set(bt_store *s, const char *name, const char *value, bt_error *err);

/* ---- reading ---- */

/* Position of an event in newest-first order, for keyset pagination. */
typedef struct bt_store_pos {
    int64_t time_ms;
    int64_t seq;
    int unparsed; /* delivered under raw_only: only the event's raw, raw_len, time_ms and
                     kind are set, and event_name for a CloudTrail record (BT_KIND_API)
                     when the search read its row's (a walk of the blocks does; the
                     partial indexes do not hold it): its top-level eventName; else NULL */
} bt_store_pos;

typedef struct bt_store_query {
    const bt_filter *filter;   /* may be NULL */
    uint64_t limit;            /* 0 = no limit */
    int oldest_first;          /* default newest first */
    const bt_store_pos *after; /* continue after this position (exclusive) */
    int64_t after_seq;         /* only events stored after this sequence number (pos.seq
                                  > after_seq; 0 = all): what a later ingest added */
    int raw_only;              /* fn reads only the event's raw, raw_len, time_ms, kind
                                  (and event_name: bt_store_pos.unparsed):
                                  when the store's own columns answer the filter exactly
                                  (no user, principal, access key, source IP or resource
                                  name, which rows hold as hashes), records are delivered
                                  without being parsed, the other fields zero */
} bt_store_query;

/* Called per matching event, re-extracted from its stored raw record; valid during
 * the call only. pos identifies it for pagination. Non-zero return stops (and is
 * returned). */
typedef int (*bt_store_event_fn)(void *ctx, const bt_event *ev, const bt_store_pos *pos);

int bt_store_search(bt_store *s, const bt_store_query *q, bt_store_event_fn fn, void *ctx,
                    bt_error *err);

/* The store's own secret (32 random bytes made by the first writable open and kept in
 * the store), for keying what it hands out (serve's NextTokens). Returns 1 with key
 * filled, 0 when the store has none yet (made before; opened read-only since). */
int bt_store_token_secret(const bt_store *s, unsigned char key[32]);

typedef struct bt_store_info {
    uint64_t events;
    uint64_t api_events;
    uint64_t build_status_events;
    uint64_t sources;
    uint64_t blocks;
    uint64_t raw_bytes;               /* uncompressed record bytes */
    uint64_t stored_bytes;            /* compressed record bytes */
    uint64_t file_bytes;              /* database file (+ WAL) size */
    int64_t min_time_ms, max_time_ms; /* 0 when empty */
    int schema_version;
} bt_store_info;

int bt_store_get_info(bt_store *s, bt_store_info *info, bt_error *err);

/* Per (account, region) breakdown: fn(ctx, account, region, count, min_ms, max_ms). */
int bt_store_breakdown(bt_store *s,
                       int (*fn)(void *ctx, const char *account, const char *region, uint64_t n,
                                 int64_t min_ms, int64_t max_ms),
                       void *ctx, bt_error *err);

/* ---- CodeBuild builds ---- */

/*
 * Calls fn for every build the store knows (or only for uuid when not NULL), newest
 * start first: builds seen through StartBuild / RetryBuild / StartBuildBatch /
 * StopBuild records, EventBridge state and phase events, and builds known only from
 * their role session's calls (webhook builds have no StartBuild record: their trigger
 * is then "webhook" with trigger_inferred set). The bt_build is valid during the call.
 * Same as bt_store_builds_find with a query naming only uuid.
 */
int bt_store_builds(bt_store *s, const char *uuid, int (*fn)(void *ctx, const bt_build *b),
                    void *ctx, bt_error *err);

/* As bt_store_builds, for the builds q selects (q->uuid, when set, names one), newest
 * start first, at most q->limit. The backend applies the conditions in its own query
 * language where it can (SQLite: all of them, except that a build known only from its
 * calls gets its project guessed afterwards, so a project condition is finished in
 * memory with bt_build_query_match). fn's non-zero return stops and is returned. */
int bt_store_builds_find(bt_store *s, const bt_build_query *q,
                         int (*fn)(void *ctx, const bt_build *b), void *ctx, bt_error *err);

/* The latest build of project (in account, when not NULL) that started strictly before
 * before_ms: its uuid (37 bytes) and start. Returns BT_ENOTFOUND when there is none. */
int bt_store_previous_build(bt_store *s, const char *project, const char *account,
                            int64_t before_ms, char uuid[37], int64_t *start_ms, bt_error *err);

/* ---- alerts and their outbox (watch) ----
 *
 * An alert is stored with its rule, its events, first and last seen, a stable key (the
 * idempotency key notifiers send: the same alert always carries the same key) and a
 * dedup key (rule + group): while an alert with the same dedup key was last seen within
 * the suppression window, a new occurrence is folded into it (its events added, last
 * seen and count raised) instead of making a new alert. A new alert gets one outbox row
 * per notifier (attempts, next try, delivered), written in the same transaction, so a
 * kill at any moment either keeps the alert with everything still to deliver or loses
 * neither. */

typedef struct bt_store_alert {
    const char *key;     /* stable identity, unique (e.g. a hash of rule and events) */
    const char *rule_id; /* the rule's id */
    const char *dedup;   /* rule + group; NULL = never folded */
    const char *doc;     /* the alert document (JSON, as bt_hunt_alert_at writes it) */
    const char *const *event_ids;
    size_t nevent_ids;
    int64_t time_ms; /* when it happened (the event's time) */
} bt_store_alert;

typedef enum bt_store_alert_result {
    BT_ALERT_NEW = 0,  /* a new alert, with an outbox row per notifier */
    BT_ALERT_FOLDED,   /* folded into the alert *id (dedup key within the window) */
    BT_ALERT_DUPLICATE /* an alert with this key is already stored (*id): nothing written */
} bt_store_alert_result;

/* Adds a (requires an open transaction): see above. window_ms 0 = never fold. notifiers
 * name the outbox rows (their target strings; due at once). *id is the alert's id (new
 * or the one folded into), *result what happened. */
int bt_store_alert_add(bt_store *s, const bt_store_alert *a, int64_t window_ms,
                       const char *const *notifiers, size_t nnotifiers, int64_t *id,
                       bt_store_alert_result *result, bt_error *err);

/* One outbox row (valid during the callback). */
typedef struct bt_store_delivery {
    int64_t alert_id;
    const char *notifier;
    const char *key; /* the alert's key */
    const char *doc; /* the alert's document */
    unsigned attempts;
    int64_t next_ms;        /* next try */
    int64_t delivered_ms;   /* 0 = not delivered yet */
    const char *last_error; /* "" when none */
} bt_store_delivery;

/* Calls fn for the undelivered rows of the given notifiers (all when nnotifiers is 0)
 * due at now_ms (next_ms <= now_ms), oldest alert first, at most limit (0 = all). The
 * rows are read first, so fn may record results. fn's non-zero return stops and is
 * returned. */
int bt_store_outbox_due(bt_store *s, const char *const *notifiers, size_t nnotifiers,
                        int64_t now_ms, size_t limit,
                        int (*fn)(void *ctx, const bt_store_delivery *d), void *ctx, bt_error *err);
/* Records one attempt of (alert_id, notifier): delivered, or failed with error (one
 * line, no secrets) and the next try at next_ms. Commits on its own unless a transaction
 * is open. */
int bt_store_outbox_result(bt_store *s, int64_t alert_id, const char *notifier, int delivered,
                           int64_t next_ms, const char *error, bt_error *err);
/* Undelivered rows of the given notifiers (all when nnotifiers is 0): how many, and the
 * earliest next try (INT64_MAX when none). */
int bt_store_outbox_pending(bt_store *s, const char *const *notifiers, size_t nnotifiers,
                            uint64_t *n, int64_t *next_ms, bt_error *err);

/* One alert as listed (valid during the callback). */
typedef struct bt_store_alert_view {
    int64_t id;
    const char *key, *rule_id, *dedup; /* dedup "" when none */
    const char *doc;
    int64_t first_ms, last_ms, created_ms, acked_ms; /* acked_ms 0 = not acknowledged */
    uint64_t count;                                  /* occurrences (1 + folded) */
    size_t nevents;                                  /* event ids stored with it */
    const bt_store_delivery *deliveries;             /* its outbox rows, by notifier */
    size_t ndeliveries;
} bt_store_alert_view;

typedef struct bt_store_alert_query {
    int unacked_only;
    int undelivered_only; /* only alerts with an undelivered outbox row */
    uint64_t limit;       /* 0 = all */
} bt_store_alert_query;

/* Alerts, newest first. q may be NULL. fn's non-zero return stops and is returned. */
int bt_store_alerts(bt_store *s, const bt_store_alert_query *q,
                    int (*fn)(void *ctx, const bt_store_alert_view *a), void *ctx, bt_error *err);
/* Acknowledges alert id (now); BT_ENOTFOUND when there is no such alert. */
int bt_store_alert_ack(bt_store *s, int64_t id, bt_error *err);
/* The highest event sequence number stored (0 when empty): events stored later have
 * higher ones (bt_store_query.after_seq reads only those). */
int bt_store_last_seq(bt_store *s, int64_t *seq, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
