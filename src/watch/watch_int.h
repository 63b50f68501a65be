/* watch_int.h - what the files of src/watch share: notifiers (notify.c) and the
 * watch's state (watch.c, run.c). */
#ifndef BT_WATCH_INT_H
#define BT_WATCH_INT_H

#include <pthread.h>
#include <stdint.h>

#include "buildtrail/aws_sqs.h"
#include "buildtrail/ingest.h"
#include "buildtrail/rules.h"
#include "buildtrail/watch.h"

enum { WN_STDOUT = 1, WN_WEBHOOK, WN_EXEC, WN_SLACK, WN_SNS };

typedef struct wn_notifier {
    int kind;
    const char *target; /* borrowed from the options */
    const char *arg;    /* the URL or command, inside target */
    char name[192];     /* bt_watch_notify_name: outbox rows and messages */
    int failing;        /* last attempt failed (messages once per change) */
    bt_aws_client *aws; /* sns: the delivery thread's client (borrowed) */
    void *multi;        /* webhook: the CURLM whose connections are kept across passes */
} wn_notifier;

#define WN_PARALLEL 8 /* a webhook's POSTs in flight at once */

/* One due outbox row on its way to a notifier (deliver.c). */
typedef struct wn_item {
    int64_t alert_id;
    size_t nt; /* the notifier's index */
    unsigned attempts;
    char *key, *doc;
    int rc; /* after the pass: 0 delivered, -1 not attempted, else failed (why) */
    char why[BT_ERROR_MSG_MAX];
} wn_item;

/* Parses target into n (borrowing it). 0 or BT_EINVAL with err set. */
int wn_parse(const char *target, wn_notifier *n, bt_error *err);
/* Hex SHA-256 of data (first nbytes bytes, at most 32) into out (2 * nbytes + 1). */
void wn_hash_hex(const void *data, size_t len, size_t nbytes, char *out);
/* One delivery attempt of doc (key = its idempotency key) for a webhook, slack, sns or
 * exec target:
 * 0 delivered, else BT_EHTTP / BT_EIO with why (one line, no secrets) set. */
int wn_send(const wn_notifier *n, const char *doc, const char *key, int64_t timeout_ms,
            bt_error *why);

/* Sends the items (all for webhook n) up to WN_PARALLEL at once over n's kept
 * connections; after a failure no new one is started (those get rc -1). */
void wn_send_webhooks(wn_notifier *n, wn_item **items, size_t count, int64_t timeout_ms);
void wn_close(wn_notifier *n); /* its kept connections */

/* The delivery thread's state (deliver.c): a pass of due rows handed over, sent there,
 * their outcomes written back here on the store's thread. */
typedef struct wd_sender {
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* WD_IDLE, WD_BUSY (a pass handed over), WD_DONE (outcomes ready) */
    int quit;
    wn_item *items;
    size_t n, cap;
    int64_t next_fetch_ms; /* the next look at the outbox when nothing is known due */
} wd_sender;
/* A source as the status line shows it (watch.c; sqs.c reports through ws_received and
 * ws_polled). */
typedef struct ws_state {
    char name[192];     /* no secrets: the path, s3://bucket/prefix, lookup:REGIONS, sqs:NAME */
    int failing;        /* its last read reported an error */
    int64_t last_ok_ms; /* when its last read without error began (0 = never) */
    int64_t lag_ms;     /* sqs: the largest age at receipt (now - SentTimestamp) of a message
                           received since the last status line; -1 = none */
} ws_state;

/* An sqs:// source (sqs.c). */
typedef struct wq_source {
    const char *location; /* borrowed from the options */
    bt_sqs_queue *q;      /* resolved by bt_watch_new */
    ws_state state;       /* the status line's */
} wq_source;

struct bt_watch {
    bt_store *store;
    bt_watch_opts o;
    bt_ingest_opts io;
    bt_ingest_source *src;
    size_t nsrc;
    wn_notifier *nt;
    size_t nnt;
    const char **names; /* nt[i].name, for the store's outbox calls */
    bt_ruleset *rs;
    bt_rules_corr *corr; /* correlation windows kept across cycles (for rs) */
    int64_t lookup_start_ms;
    sig_atomic_t reload_seen;
    bt_watch_stats st;
    char **errs; /* source errors of the last cycle (messages once per change) */
    size_t nerrs, errs_cap;
    char **cur_errs;
    size_t ncur, cur_cap;
    /* sqs:// sources (sqs.c) */
    wq_source *sqs;
    size_t nsqs;
    bt_aws_client *aws; /* SQS, the S3 objects their notifications name, SNS */
    char *dead_letter;  /* where poisoned messages go (NDJSON) */
    bt_aws_client *aws_send; /* the delivery thread's clone of aws (sns: targets) */
    wd_sender ds;
    int alerts_added; /* an evaluation stored alerts: look at the outbox at once */
    int running;      /* in bt_watch_run: cycles hand their deliveries to the thread */
    /* the status line: per ingest source (src[i]) */
    ws_state *sst;
    int64_t started_ms;
    int failed_now;    /* a source failure was reported since it was last cleared */
    int64_t s3_newest; /* the s3:// source being read: newest delivery time its scan listed,
                          when the scan succeeded (0 = none) */
};

void bt_watch_logf(bt_watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The rules over the events stored after the cursor, then alerts + outbox + cursor in one
 * transaction (evaluate.c). */
int bt_watch_evaluate(bt_watch *w, bt_error *err);
/* Delivery (deliver.c). wd_pump: outcomes of a finished pass written back, then, when
 * the thread is idle and rows are due, the next pass handed over; wait: block until that
 * pass is done and written (bt_watch_deliver). wd_stop joins the thread. */
int wd_pump(bt_watch *w, int wait, bt_error *err);
void wd_stop(bt_watch *w);
/* Sets the evaluation cursor to the store's last event unless a run set it before
 * (evaluate.c; at attach, before any ingest). */
int bt_watch_cursor_init(bt_watch *w, bt_error *err);

/* The Slack incoming-webhook body of an alert document: {"text": "..."}, one line with the
 * rule, build, principal and what happened, no links. 0 or BT_ENOMEM / BT_EPARSE. */
int wn_slack_body(const char *doc, bt_buf *out);
/* Is location an sqs:// source (or a queue ARN)? */
int wq_is_sqs(const char *location);
/* Makes the AWS client when an sqs:// source or an sns: target needs it, and resolves the
 * sqs:// sources (GetQueueUrl): a queue that does not exist is BT_EINVAL. */
int wq_open(bt_watch *w, bt_error *err);
void wq_close(bt_watch *w);
/* One ReceiveMessage per sqs:// source (waiting up to wait_s for messages), what they
 * bring committed, then the messages deleted; *stored counts new events. Source
 * failures go through the once-per-change messages; only the store failing fails. */
int wq_poll(bt_watch *w, int wait_s, uint64_t *stored, bt_error *err);
/* A source failed (message once per change of state; watch.c). */
void bt_watch_source_failed(bt_watch *w, const char *msg);
/* sqs.c: n messages were received for st (their SentTimestamp ages make its lag). */
void ws_received(ws_state *st, const bt_sqs_message *m, size_t n);
/* sqs.c: a poll of st's queue ended; w->failed_now says whether it reported a failure
 * (cleared here for the next one). */
void ws_polled(bt_watch *w, ws_state *st, int64_t began_ms);
/* The status line's per-source part ("; sources: NAME ok lag 1.0s, ..."), into buf;
 * resets the sqs lags for the next interval. */
void ws_status(bt_watch *w, int64_t now, char *buf, size_t cap);

#endif
