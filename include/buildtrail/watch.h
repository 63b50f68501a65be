/*
 * buildtrail/watch.h - continuous monitoring: keeps a store current from its sources,
 * evaluates Sigma rules on exactly the events each cycle added, stores the alerts with
 * an outbox row per notifier, and delivers them at least once (retried with exponential
 * backoff, across restarts, from the outbox).
 *
 * sqs:// sources (a trail's log-delivery notifications, raw or in an SNS envelope, whose
 * objects are then read from S3; EventBridge events, stored as they are) are polled
 * between cycles with long polling: what a batch of messages brought is committed, and
 * only then are the messages deleted; what the batches of a gathering brought is then
 * evaluated at once (from the store, after the cursor). A poisoned message is appended to
 * the dead-letter file with one message through log, and deleted.
 *
 * A cycle: bt_ingest of every source (local directories: new or grown files, through
 * ingest's unchanged-file skipping; lookup:REGIONS: the event history from a start kept
 * in the store, incremental with ingest's overlap; s3:// archives: listed from the newest
 * delivery time read, kept in the store, less 15 minutes), then the rules over
 * the events stored after the watch cursor (the store's sequence numbers, oldest event
 * first), then the alerts, their outbox rows and the advanced cursor in one transaction.
 * Events commit before their alerts; a kill between the two leaves the cursor behind, so
 * the next run evaluates those events again and no alert is lost. An alert's key (the
 * Idempotency-Key a webhook receives) is a hash of its rule and events: the same alert
 * always carries the same key, and is stored once. Correlation windows stay open across
 * cycles (in memory, at most 16 MiB; not across restarts or reloads).
 *
 * Deliveries: outbox rows are read on the caller's thread and sent by a delivery thread
 * (a webhook's up to 8 at once over kept connections, other targets one at a time); their
 * outcomes are written back on the caller's thread, one transaction per pass. The store
 * is only ever used from the caller's thread. bt_watch_deliver waits for its pass;
 * within bt_watch_run the loop never waits for a receiver.
 *
 * The library never prints: the stdout notifier hands documents to opts.emit, and
 * messages (rules reloaded or not, a source or notifier failing or recovering: once per
 * change of state) go to opts.log.
 */
#ifndef BT_WATCH_H
#define BT_WATCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/error.h"
#include "buildtrail/ingest.h"
#include "buildtrail/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_watch bt_watch;

/* Checks a source as watch accepts it: a directory or file path, lookup:REGIONS,
 * s3://bucket[/prefix], or sqs://QUEUE_URL / the queue's ARN (only its form: whether the
 * queue exists is bt_watch_new's question). BT_EINVAL with one line in err for an
 * unknown scheme, stdin, or a path that does not exist. */
int bt_watch_check_source(const char *location, bt_error *err);

/* Checks a notify target: "stdout", "webhook:http[s]://...", "exec:COMMAND".
 * BT_EINVAL with one line in err otherwise. */
int bt_watch_check_notify(const char *target, bt_error *err);

/* The name a target's outbox rows carry and messages show: no secret of the target
 * (a webhook's path and query, an exec command's arguments) appears in it, a hash of the
 * whole target keeps targets apart. Written into buf (truncated to n). */
void bt_watch_notify_name(const char *target, char *buf, size_t n);

/* Called with each alert for the stdout notifier, on watch's delivery thread: doc is the
 * alert document (JSON, no newline), key its idempotency key. 0 = delivered, non-zero =
 * try again later. */
typedef int (*bt_watch_emit_fn)(void *payload, const char *doc, const char *key);
/* One line (no newline, no secrets). */
typedef void (*bt_watch_log_fn)(void *payload, const char *msg);

typedef struct bt_watch_opts {
    const char *const *sources; /* bt_watch_check_source; borrowed */
    size_t nsources;
    const char *const *rules; /* bt_rules_load_args arguments ("builtin" = the pack) */
    size_t nrules;
    const char *const *notify; /* bt_watch_check_notify targets */
    size_t nnotify;
    int64_t interval_ms;          /* between cycles; 0 = 60000 */
    int64_t suppress_ms;          /* dedup window (rule + build); 0 = none: every alert notifies */
    int64_t retry_min_ms;         /* first retry delay; 0 = 1000 (doubles up to retry_max_ms) */
    int64_t retry_max_ms;         /* 0 = 300000 */
    int64_t http_timeout_ms;      /* per webhook POST; 0 = 10000 */
    int64_t lookup_start_ms;      /* lookup: sources on the first run: from here (kept in the
                                     store for later runs); 0 = one hour before the first run */
    const bt_ingest_opts *ingest; /* AWS settings, threads...; NULL = the defaults (its
                                     callbacks and cancel are replaced) */
    bt_watch_emit_fn emit;        /* required when a target is "stdout" */
    bt_watch_log_fn log;          /* may be NULL */
    const volatile sig_atomic_t *stop;   /* non-zero: drain and return from bt_watch_run */
    const volatile sig_atomic_t *reload; /* a counter (a SIGHUP handler increments it):
                                            the rules are reloaded when it changes */
    int max_cycles;    /* bt_watch_run returns after this many cycles (tests); 0 = no limit */
    int64_t status_ms; /* bt_watch_run: a status line through log this often (events/s,
                          alerts new and pending, and per source its name without secrets,
                          ok or failing, and lag: sqs:// the largest wait in the queue
                          (SentTimestamp) of a message received since the last line, the
                          others the time since their last read without error began;
                          docs/watch.md); 0 = 60000, < 0 = none */
    void *payload;
    /* sqs:// sources */
    const char *dead_letter; /* poisoned messages (not JSON, unknown shape, an object that
                                does not exist) are appended here as NDJSON before they are
                                deleted; NULL = the store's path + ".dead-letters.ndjson" */
    int sqs_visibility_s;    /* a received message stays hidden this long, extended while
                                its work goes on; 0 = 120 */
    int sqs_wait_s;          /* long polling between cycles (0..20); 0 = 1 */
    int64_t sqs_hold_ms;     /* tests: wait this long between the commit of what a batch
                                brought and the deletion of its messages; 0 = none */
} bt_watch_opts;

typedef struct bt_watch_stats {
    uint64_t cycles;
    uint64_t events_new;       /* stored by the cycles' ingests */
    uint64_t events_evaluated; /* handed to the rules */
    uint64_t alerts_new, alerts_folded, alerts_duplicate;
    uint64_t delivered, delivery_failures; /* attempts */
    uint64_t pending; /* outbox rows of the configured notifiers not delivered yet */
    uint64_t rules;   /* rules in the current set */
    uint64_t reloads, reload_failures;
    uint64_t sqs_messages;     /* received (redeliveries included) */
    uint64_t sqs_deleted;      /* deleted after their work was committed */
    uint64_t sqs_dead_letters; /* poisoned: moved aside, then deleted */
} bt_watch_stats;

/* Checks every source and target and loads the rules (err names the broken rule), and
 * resolves the sqs:// queues (GetQueueUrl: a queue that does not exist is BT_EINVAL),
 * before any store is touched. *out is freed with bt_watch_free. BT_EINVAL for bad input (a
 * usage error), other codes as they come (a rule file: BT_ENOTFOUND, BT_EPARSE...). */
int bt_watch_new(const bt_watch_opts *o, bt_watch **out, bt_error *err);
/* Gives w its store (borrowed, opened writable; one bt_watch per store at a time) and
 * reads what earlier runs kept in it. Required before the calls below. */
int bt_watch_attach(bt_watch *w, bt_store *store, bt_error *err);
void bt_watch_free(bt_watch *w); /* accepts NULL */

/* One cycle: ingest, evaluate the new events, store alerts and outbox, then deliver what
 * is due. Source failures are reported through log (once per change) and do not fail the
 * cycle; the store failing does. */
int bt_watch_cycle(bt_watch *w, bt_error *err);
/* Delivers the due outbox rows of the configured notifiers (one attempt each). */
int bt_watch_deliver(bt_watch *w, bt_error *err);
/* Reloads the rules from the same arguments; a set that does not load keeps the current
 * one (err says why, and log is told). */
int bt_watch_reload(bt_watch *w, bt_error *err);
/* Cycles every interval, delivering in between as retries fall due, until *stop (then:
 * the cycle in progress is finished, due deliveries attempted once more, 0 returned) or
 * max_cycles. Reloads the rules when *reload changes. */
int bt_watch_run(bt_watch *w, bt_error *err);
void bt_watch_get_stats(const bt_watch *w, bt_watch_stats *st);

#ifdef __cplusplus
}
#endif
#endif
