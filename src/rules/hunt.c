/* hunt.c - a compiled rule set over a stream of events (`buildtrail hunt`, `search
 * --rule`): raw-byte pre-filter, parse, derived fields from the build tracker, match,
 * correlation (at once for time-ordered input, else replayed in time order at the end),
 * the alerts staged as JSON in a spool (spool.h: sorted runs of a temporary file when
 * many, ordered by an index an external sorter keeps in bounded memory, so memory grows
 * neither with the records of the alerts nor with their number); and the store push-down
 * of pinned event names. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/timeutil.h"
#include "buildtrail/spool.h"
#include "buildtrail/xsort.h"
#include "rules_int.h"
#include "util/tmpfile.h"

/* An entry of the sorted indexes: an alert (its JSON in the spool), a match that feeds
 * correlations (unordered input; its record there) or a held record. tag is the rule's
 * index in the set (a held record: the event's kind), key the event id ("" for
 * correlation alerts). */
typedef bt_spool_ent hentry;

/* Memory for each of the index sorters (alerts, feed, held records): 4 MiB holds ~58,000
 * entries, so a usual hunt sorts in memory and touches no file, while a hunt with
 * millions of alerts writes runs of 4 MiB (592k alerts: 11 runs, one merge) and stays
 * near 4 MiB per sorter plus the merge's 64 x 32 KiB buffers: a few MB of the 100 MB
 * budget, for any archive size. */
#define HUNT_SORT_CAP ((size_t)4 << 20)

/* The order of alerts and of the correlations' input: time, event id, rule (the tag),
 * arrival (total: the output never depends on how the sort went). */
#define cmp_entry bt_spool_cmp_time_key

/* CloudTrail delivers some records twice (same event id): one alert, and one correlation
 * input, per rule and event. */
static int same_entry(const void *prev, const void *cur)
{
    const hentry *p = prev, *x = cur;
    return *x->key && p->tag == x->tag && strcmp(p->key, x->key) == 0;
}

/* The kinds of spilled entry, each staged, sorted and spilled apart: alerts, matches that
 * feed correlations (unordered input), and records held back until every build's
 * lifecycle is known (bt_hunt_defer; rule_index holds the event's kind). */
enum { SP_ALERT, SP_FEED, SP_DEFER, SP_KINDS };

/* Bytes staged per kind before a sorted run of them goes to the spool's file (a hunt
 * whose alerts fit in one stage touches no file). */
#define STAGE_CAP BT_SPOOL_STAGE_CAP

struct bt_hunt {
    const bt_ruleset *rs;
    bt_hunt_opts o;
    bt_build_tracker *tracker;
    bt_rules_corr *corr; /* o.corr_state (borrowed) or the hunt's own */
    int64_t newest_ms;   /* the newest event time correlated */
    bt_arena *scratch;   /* per event */
    bt_spool *sp;        /* SP_ALERT sorted by bt_hunt_finish; SP_FEED (unordered input) sorted
                            and released by replay; SP_DEFER (bt_hunt_defer) evaluated and
                            released by run_deferred */
    bool fed, deferred;  /* replay, run_deferred done */
    bt_buf line;
    uint64_t seq;
    atomic_uint_fast64_t seen, parsed; /* counted by scan workers too (bt_hunt_inspect) */
    int dirty;                         /* written since the last flush */
    /* o.on_alert: alerts handed over as they become final */
    bool streaming, spilled_stream; /* the latter: past stage_cap, the rest go at the end */
    size_t handed;
    hentry last_handed;
    struct feeder *feed_thread; /* bt_hunt_feed_start's, or NULL */
    /* the event being evaluated */
    const bt_event *ev;
    const bt_rule_derived *d;
    const bt_json *rec;
    int rc;
    bt_error *scan_err; /* bt_hunt_scan_opts' */
};

int bt_hunt_new(const bt_ruleset *rs, const bt_hunt_opts *o, bt_hunt **out)
{
    bt_hunt *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        return BT_ENOMEM;
    h->rs = rs;
    if (o)
        h->o = *o;
    h->tracker = bt_build_tracker_new(h->o.max_builds);
    h->corr = h->o.corr_state ? h->o.corr_state : bt_rules_corr_new(rs, &h->o.corr);
    h->newest_ms = INT64_MIN;
    h->streaming = h->o.ordered && h->o.on_alert;
    h->scratch = bt_arena_new(256 << 10, 0);
    {
        /* compressed runs: 592,901 alerts (1.3 GB) take 189 MB of $TMPDIR instead of all
         * of it (a tmpfs /tmp is memory), compressed on the spool's own thread */
        bt_spool_opts so = {.kinds = SP_KINDS,
                            .cmp = cmp_entry,
                            .stage_cap = h->o.stage_cap,
                            .sort_cap = HUNT_SORT_CAP,
                            .compress = true};
        bt_spool_new(&so, &h->sp);
    }
    if (!h->tracker || !h->corr || !h->scratch || !h->sp) {
        bt_hunt_free(h);
        return BT_ENOMEM;
    }
    *out = h;
    return 0;
}

static int feed_stop(bt_hunt *h, bool drain);
static void feed_release(bt_hunt *h);

void bt_hunt_free(bt_hunt *h)
{
    if (!h)
        return;
    if (h->feed_thread) { /* not ended: an error on the way */
        feed_stop(h, false);
        feed_release(h);
    }
    bt_build_tracker_free(h->tracker);
    if (h->corr != h->o.corr_state)
        bt_rules_corr_free(h->corr);
    bt_arena_free(h->scratch);
    bt_spool_free(h->sp);
    bt_buf_dispose(&h->line);
    free(h);
}

bt_build_tracker *bt_hunt_tracker(bt_hunt *h)
{
    return h->tracker;
}

const bt_ruleset *bt_hunt_ruleset(const bt_hunt *h)
{
    return h->rs;
}

void bt_hunt_stats(const bt_hunt *h, uint64_t *seen, uint64_t *parsed)
{
    *seen = atomic_load(&h->seen);
    *parsed = atomic_load(&h->parsed);
}

void bt_hunt_spill_stats(const bt_hunt *h, uint64_t *bytes, size_t *runs)
{
    bt_spool_stats(h->sp, bytes, NULL, runs);
}

uint64_t bt_hunt_spill_file_bytes(const bt_hunt *h)
{
    uint64_t bytes, file;
    size_t runs;
    bt_spool_stats(h->sp, &bytes, &file, &runs);
    return file;
}

bool bt_rules_need_lifecycle(const bt_ruleset *rs)
{
    size_t i, k;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule_plan *p = bt_rule_get_plan(rs->rules[i]);
        for (k = 0; p && k < p->nfields; k++)
            if (strcasecmp(p->fields[k], "buildtrail.build_state") == 0 ||
                strcasecmp(p->fields[k], "buildtrail.build_ended_age_s") == 0 ||
                strcasecmp(p->fields[k], "buildtrail.source_ip_known") == 0)
                return true;
    }
    return false;
}

/* Stages len bytes of kind under entry x; the streaming hunt's alerts stay staged past
 * the cap until stream_check decides. */
static int stage_put(bt_hunt *h, int kind, hentry *x, const void *p, size_t len)
{
    return bt_spool_put(h->sp, kind, x, p, len,
                        kind == SP_ALERT && h->streaming && !h->spilled_stream);
}

/* Entry i of kind's sorted index into *x, its bytes into b (cleared first;
 * NUL-terminated). */
static int kind_read(bt_hunt *h, int kind, size_t i, hentry *x, bt_buf *b)
{
    const char *p;
    int rc = bt_spool_at(h->sp, kind, i, x, &p);
    bt_buf_clear(b);
    if (rc)
        return rc;
    if (bt_buf_reserve(b, (size_t)x->len + 1))
        return BT_ENOMEM;
    memcpy(b->data, p, x->len);
    b->len = x->len;
    b->data[x->len] = 0;
    return 0;
}

/* Streaming: hands over one alert, unless it repeats the last (a record delivered twice). */
static int hand_over(bt_hunt *h, const hentry *x, const char *json)
{
    if (h->handed && same_entry(&h->last_handed, x))
        return 0;
    h->last_handed = *x;
    h->handed++;
    return h->o.on_alert(h->o.alert_ctx, json, x->len) ? BT_ESTOP : 0;
}

/* Bytes of alerts staged before the streaming hunt looks for final ones. */
#define STREAM_BATCH ((size_t)256 << 10)

static int hand_over_staged(void *ctx, const hentry *x, const char *json)
{
    return hand_over(ctx, x, json);
}

/* Streaming: hands over the staged alerts older than below, in order; the rest stay. */
static int stream_out(bt_hunt *h, int64_t below)
{
    return bt_spool_drain(h->sp, SP_ALERT, below, hand_over_staged, h);
}

/* Streaming, after an event at time_ms: what no later event can precede goes out; when
 * what must wait outgrows the stage, it and all later alerts go to the file instead and
 * come at the end (all of them sort after what went out). */
static int stream_check(bt_hunt *h, int64_t time_ms)
{
    size_t cap = h->o.stage_cap ? h->o.stage_cap : STAGE_CAP;
    int64_t below;
    int rc;
    if (!h->streaming || h->spilled_stream || bt_spool_staged(h->sp, SP_ALERT) < STREAM_BATCH)
        return 0;
    below = bt_rules_corr_pending_ms(h->corr);
    if ((rc = stream_out(h, time_ms < below ? time_ms : below)))
        return rc;
    if (bt_spool_staged(h->sp, SP_ALERT) >= cap) {
        h->spilled_stream = true;
        return bt_spool_flush(h->sp, SP_ALERT);
    }
    return 0;
}

/* Streaming, at the end: every alert still held, in order. */
static int stream_finish(bt_hunt *h)
{
    bt_buf one = BT_BUF_INIT;
    size_t i, n;
    int rc;
    if (!h->spilled_stream)
        return stream_out(h, INT64_MAX);
    if ((rc = bt_spool_finish(h->sp, SP_ALERT, same_entry)))
        return rc;
    for (i = 0, n = bt_spool_count(h->sp, SP_ALERT); i < n && !rc; i++) {
        hentry x;
        if (!(rc = kind_read(h, SP_ALERT, i, &x, &one)))
            rc = hand_over(h, &x, one.data);
    }
    bt_buf_dispose(&one);
    return rc;
}

/* An event id into an entry's fixed field (longer ids cut, as snprintf would). */
static void put_eid(char dst[40], const char *eid)
{
    size_t n = strnlen(eid, 39);
    memcpy(dst, eid, n);
    dst[n] = '\0';
}

/* Indexes an alert whose JSON is json[0..len) and stages the JSON. */
static int keep_alert_json(bt_hunt *h, int64_t time_ms, size_t rule_index, const char *eid,
                           const char *json, size_t len)
{
    hentry x;
    memset(&x, 0, sizeof x); /* padding too: it goes to a file */
    x.time_ms = time_ms;
    x.seq = h->seq++;
    x.tag = (uint32_t)rule_index;
    put_eid(x.key, eid);
    return stage_put(h, SP_ALERT, &x, json, len);
}

/* Serialises a and indexes it. */
static int keep_alert(bt_hunt *h, const bt_hunt_alert *a)
{
    int rc;
    bt_buf_clear(&h->line);
    if ((rc = bt_hunt_alert_json(&h->line, a)))
        return rc;
    return keep_alert_json(h, a->time_ms, a->rule->index, a->event_id ? a->event_id : "",
                           h->line.data, h->line.len);
}

/* The build named in a group value holding a role session AWSCodeBuild-<uuid>. */
static const char *group_build(bt_hunt *h, const char *v)
{
    bt_event ev;
    bt_rule_derived d;
    const char *u = bt_event_codebuild_session_uuid(v);
    if (!u)
        return NULL;
    memset(&ev, 0, sizeof ev);
    ev.actor_uuid = bt_arena_strndup(h->scratch, u, 36);
    ev.principal_arn = v;
    if (!ev.actor_uuid)
        return NULL;
    bt_build_tracker_derive(h->tracker, &ev, &d);
    return d.build_id;
}

static int on_corr_alert(void *ud, const bt_rule_alert *al)
{
    bt_hunt *h = ud;
    bt_hunt_alert a;
    size_t i;
    memset(&a, 0, sizeof a);
    a.rule = al->rule;
    a.time_ms = al->last_ms;
    a.event_ids = al->event_ids;
    a.nevent_ids = al->nevent_ids;
    /* fired by the event being evaluated: its account, region and build */
    if (h->ev && h->ev->event_id && al->nevent_ids &&
        strcmp(al->event_ids[al->nevent_ids - 1], h->ev->event_id) == 0) {
        a.account = h->ev->account;
        a.region = h->ev->region;
        a.build_id = h->d->build_id;
        return keep_alert(h, &a);
    }
    /* else what the group says */
    for (i = 0; i < al->ngroup; i++) {
        const char *f = al->group_fields[i], *v = al->group_values[i];
        if (!*v)
            continue;
        if (strcmp(f, "recipientAccountId") == 0 || strcmp(f, "userIdentity.accountId") == 0)
            a.account = v;
        else if (strcmp(f, "awsRegion") == 0)
            a.region = v;
        else if (strcmp(f, "buildtrail.build_id") == 0)
            a.build_id = v;
        else if (!a.build_id)
            a.build_id = group_build(h, v);
    }
    return keep_alert(h, &a);
}

/* Keeps a match of r that feeds correlations (unordered input): replayed at the end. */
static int feed_keep(bt_hunt *h, const bt_rule *r, int64_t time_ms, const char *eid,
                     const char *raw, size_t raw_len)
{
    hentry f;
    if (h->fed) /* replayed already: bt_hunt_finish was called */
        return BT_EINVAL;
    memset(&f, 0, sizeof f); /* padding too: it goes to a file */
    f.time_ms = time_ms;
    f.seq = h->seq++;
    f.tag = (uint32_t)r->index;
    put_eid(f.key, eid);
    return stage_put(h, SP_FEED, &f, raw, raw_len);
}

/* The alert of detection rule r on ev. */
static void event_alert(bt_hunt_alert *a, const bt_rule *r, const bt_event *ev,
                        const bt_rule_derived *d)
{
    memset(a, 0, sizeof *a);
    a->rule = r;
    a->time_ms = ev->time_ms;
    a->event_id = ev->event_id;
    a->account = ev->account;
    a->region = ev->region;
    a->build_id = d->build_id;
    a->raw = ev->raw;
    a->raw_len = ev->raw_len;
}

static int on_match(void *ud, const bt_rule *r)
{
    bt_hunt *h = ud;
    const bt_event *ev = h->ev;
    int rc = 0;
    if (r->info.alerts) {
        bt_hunt_alert a;
        event_alert(&a, r, ev, h->d);
        rc = keep_alert(h, &a);
    }
    if (!rc && r->nusers) {
        if (h->o.ordered) {
            if (ev->time_ms > h->newest_ms)
                h->newest_ms = ev->time_ms;
            rc = bt_rules_correlate(h->corr, r, h->rec, h->d, ev->time_ms,
                                    ev->event_id ? ev->event_id : "", on_corr_alert, h);
        } else
            rc = feed_keep(h, r, ev->time_ms, ev->event_id ? ev->event_id : "", ev->raw,
                           ev->raw_len);
    }
    if (rc) {
        h->rc = rc;
        return 1;
    }
    return 0;
}

static int fail(bt_error *err, int rc)
{
    if (rc == BT_ENOMEM || rc == BT_ESTOP)
        return bt_error_set(
            err, rc, rc == BT_ENOMEM ? "out of memory" : "the alerts' consumer stopped the hunt");
    return bt_error_set(err, rc, "cannot write the alerts' temporary file in '%s' ($TMPDIR)",
                        bt_temp_dir());
}

/* Parses, derives and matches ev (already past the pre-filter). */
static int evaluate(bt_hunt *h, const bt_event *ev, bt_json *rec, bt_error *err)
{
    bt_rule_derived d;
    int rc;
    bt_build_tracker_derive(h->tracker, ev, &d);
    h->ev = ev;
    h->d = &d;
    h->rec = rec;
    h->rc = 0;
    rc = bt_rules_match(h->rs, rec, &d, on_match, h);
    if (rc == BT_ESTOP && h->rc)
        rc = h->rc;
    if (rc == BT_ESTOP)
        rc = 0;
    h->ev = NULL;
    if (!rc)
        rc = stream_check(h, ev->time_ms);
    return rc ? fail(err, rc) : 0;
}

int bt_hunt_event(bt_hunt *h, const bt_event *ev, bt_error *err)
{
    bt_json *rec;
    int rc;
    atomic_fetch_add(&h->seen, 1);
    if (h->o.ordered && (rc = bt_build_tracker_learn(h->tracker, ev)))
        return fail(err, rc);
    if (!bt_rules_prefilter(h->rs, ev->raw, ev->raw_len))
        return 0;
    bt_arena_reset(h->scratch);
    if (bt_json_parse(h->scratch, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0; /* it parsed once to become an event */
    atomic_fetch_add(&h->parsed, 1);
    return evaluate(h, ev, rec, err);
}

bool bt_hunt_raw_wanted(const bt_ruleset *rs, bt_hunt_pass pass, const char *raw, size_t len)
{
    if (pass == BT_HUNT_PASS_LEARN)
        return bt_build_tracker_may_want(raw, len);
    return pass == BT_HUNT_PASS_BOTH ? rules_prefilter_or_build(rs, raw, len)
                                     : bt_rules_prefilter(rs, raw, len);
}

/* The pre-filter's verdict on a record (name: its top-level eventName when known, else
 * NULL): PRE_KNOWN, with PRE_PASS when a rule may match it, PRE_BUILD when the tracker may
 * learn from it (ordered hunts). Thread-safe. */
#define PRE_KNOWN 1u
#define PRE_PASS 2u
#define PRE_BUILD 4u
static unsigned pre_verdict(const bt_hunt *h, const char *raw, size_t len, const char *name,
                            size_t name_len)
{
    bool build = false;
    bool pass = h->o.ordered ? rules_prefilter_learn(h->rs, raw, len, name, name_len, &build)
                             : bt_rules_prefilter(h->rs, raw, len);
    return PRE_KNOWN | (pass ? PRE_PASS : 0) | (build ? PRE_BUILD : 0);
}

/* bt_hunt_unparsed, but for the count of records seen and with the pre-filter's verdict
 * (pre_verdict) given: one parse for the tracker and the rules. */
static int unparsed_eval(bt_hunt *h, const char *raw, size_t len, bt_event_kind kind,
                         unsigned verdict, bt_error *err)
{
    bt_json *rec;
    bt_event ev;
    bool build = (verdict & PRE_BUILD) != 0;
    bool pass = (verdict & PRE_PASS) != 0;
    /* what the tracker may learn from: a record that passes, or may name a build */
    bool learn = h->o.ordered &&
                 (pass || build || kind == BT_KIND_BUILD_STATE || kind == BT_KIND_BUILD_PHASE);
    int rc;
    if (!pass && !learn)
        return 0;
    bt_arena_reset(h->scratch);
    if (bt_event_from_raw(h->scratch, raw, len, kind, true, &rec, &ev, NULL))
        return 0;
    if (learn && (rc = bt_build_tracker_learn(h->tracker, &ev)))
        return fail(err, rc);
    if (!pass)
        return 0;
    atomic_fetch_add(&h->parsed, 1);
    return evaluate(h, &ev, rec, err);
}

int bt_hunt_unparsed(bt_hunt *h, const char *raw, size_t len, bt_event_kind kind, bt_error *err)
{
    atomic_fetch_add(&h->seen, 1);
    return unparsed_eval(h, raw, len, kind, pre_verdict(h, raw, len, NULL, 0), err);
}

/* ---- a second thread for an ordered hunt (bt_hunt_feed) ----
 * The caller's thread reads the store and copies each record into batches of about
 * FEED_BATCH bytes, behind a feed_rec, and queues them; the feeder thread pre-filters
 * and evaluates them in order. (With the pre-filter on the reading thread, that thread
 * was the slower one: 4.4 s against 3.6 s at 1M events.) When the queue is full, the
 * reading thread, instead of waiting, gives the newest queued batch's records their
 * pre-filter verdicts (feed_help), which the feeder then takes as they are: the two
 * threads share the pre-filter as their loads allow. */
#define FEED_BATCH ((size_t)1 << 20)
#define FEED_QUEUE 4 /* batches queued at most: the reader waits beyond */

/* A record's header in a batch, at a multiple of 8 bytes; then the record, then its
 * event name (name_len bytes; FEED_NO_NAME: none), then padding to the next header. */
typedef struct feed_rec {
    uint32_t len;
    uint32_t kind;
    uint32_t name_len;
    atomic_uint verdict; /* pre_verdict's, or 0 while unknown (set by either thread) */
} feed_rec;
#define FEED_NO_NAME UINT32_MAX

/* The pre-filter's verdict on the record whose header is r. */
static unsigned rec_verdict(const bt_hunt *h, const feed_rec *r)
{
    const char *rec = (const char *)(r + 1);
    return pre_verdict(h, rec, r->len, r->name_len == FEED_NO_NAME ? NULL : rec + r->len,
                       r->name_len == FEED_NO_NAME ? 0 : r->name_len);
}

/* The bytes of the record whose header is r, its name and padding: the next header's
 * offset from r's end. */
static size_t feed_rec_span(const feed_rec *r)
{
    size_t n = r->len + (r->name_len == FEED_NO_NAME ? 0 : r->name_len);
    return (n + 7) & ~(size_t)7;
}

typedef struct feed_batch {
    bt_buf data;
    struct feed_batch *next;
} feed_batch;

typedef struct feeder {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    feed_batch *head, *tail, *spare, *cur;
    feed_batch *helped; /* the last batch feed_help went through */
    atomic_size_t queued;
    bool closing;
    int rc; /* the feeder's first error (its message in err) */
    bt_error err;
} feeder;

static void batch_free(feed_batch *b)
{
    while (b) {
        feed_batch *n = b->next;
        bt_buf_dispose(&b->data);
        free(b);
        b = n;
    }
}

static void *feed_main(void *arg)
{
    bt_hunt *h = arg;
    feeder *f = h->feed_thread;
    for (;;) {
        feed_batch *b;
        size_t pos = 0;
        int rc = 0;
        pthread_mutex_lock(&f->mu);
        while (!f->head && !f->closing)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!(b = f->head)) {
            pthread_mutex_unlock(&f->mu);
            break;
        }
        f->head = b->next;
        if (!f->head)
            f->tail = NULL;
        f->queued--;
        rc = f->rc;
        pthread_mutex_unlock(&f->mu);
        while (!rc && pos + sizeof(feed_rec) <= b->data.len) {
            feed_rec *r = (feed_rec *)(void *)(b->data.data + pos);
            unsigned v = atomic_load_explicit(&r->verdict, memory_order_acquire);
            if (!v)
                v = rec_verdict(h, r);
            rc =
                unparsed_eval(h, (const char *)(r + 1), r->len, (bt_event_kind)r->kind, v, &f->err);
            pos += sizeof *r + feed_rec_span(r);
        }
        pthread_mutex_lock(&f->mu);
        if (rc && !f->rc)
            f->rc = rc;
        /* not bt_buf_clear, which writes the first byte: feed_help may still read it */
        b->data.len = 0;
        b->next = f->spare;
        f->spare = b;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

int bt_hunt_feed_start(bt_hunt *h)
{
    feeder *f;
    if (!h->o.ordered || h->feed_thread)
        return BT_EINVAL;
    if (!(f = calloc(1, sizeof *f)))
        return BT_ENOMEM;
    if (pthread_mutex_init(&f->mu, NULL)) {
        free(f);
        return BT_ENOMEM;
    }
    if (pthread_cond_init(&f->cv, NULL)) {
        pthread_mutex_destroy(&f->mu);
        free(f);
        return BT_ENOMEM;
    }
    h->feed_thread = f;
    if (pthread_create(&f->th, NULL, feed_main, h)) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        h->feed_thread = NULL;
        return BT_ENOMEM;
    }
    return 0;
}

/* On the reading thread, while the queue is full: the pre-filter's verdicts for the
 * records of b's first len bytes that have none yet, until the queue has room. b is
 * queued, or done by the feeder: its bytes stay as they are until this thread reuses
 * it (bt_hunt_feed), and the feeder, working from the queue's head, reaches the newest
 * batch last. */
static void feed_help(bt_hunt *h, feeder *f, const feed_batch *b, size_t len)
{
    size_t pos = 0;
    while (pos + sizeof(feed_rec) <= len &&
           atomic_load_explicit(&f->queued, memory_order_relaxed) >= FEED_QUEUE) {
        feed_rec *r = (feed_rec *)(void *)(b->data.data + pos);
        if (!atomic_load_explicit(&r->verdict, memory_order_relaxed))
            atomic_store_explicit(&r->verdict, rec_verdict(h, r), memory_order_release);
        pos += sizeof *r + feed_rec_span(r);
    }
}

/* Queues the batch being filled (while FEED_QUEUE are queued, helping the feeder with
 * the newest one, then waiting); the feeder's error, if it has one. */
static int feed_queue(bt_hunt *h)
{
    feeder *f = h->feed_thread;
    feed_batch *b = f->cur;
    int rc;
    pthread_mutex_lock(&f->mu);
    while (f->queued >= FEED_QUEUE && !f->rc) {
        feed_batch *t = f->tail;
        if (t && t != f->helped) {
            size_t len = t->data.len;
            f->helped = t;
            pthread_mutex_unlock(&f->mu);
            feed_help(h, f, t, len);
            pthread_mutex_lock(&f->mu);
            continue;
        }
        pthread_cond_wait(&f->cv, &f->mu);
    }
    if (b && b->data.len && !f->rc) {
        f->cur = NULL;
        b->next = NULL;
        if (f->tail)
            f->tail->next = b;
        else
            f->head = b;
        f->tail = b;
        f->queued++;
        pthread_cond_broadcast(&f->cv);
    }
    rc = f->rc;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int bt_hunt_feed(bt_hunt *h, const char *raw, size_t len, bt_event_kind kind, const char *name,
                 bt_error *err)
{
    static const char pad[8];
    feeder *f = h->feed_thread;
    size_t nlen = name ? strlen(name) : 0, at;
    feed_rec *r;
    int rc;
    if (nlen >= FEED_NO_NAME)
        name = NULL;
    if (!f) {
        atomic_fetch_add(&h->seen, 1);
        return unparsed_eval(h, raw, len, kind, pre_verdict(h, raw, len, name, nlen), err);
    }
    if (len >= UINT32_MAX - nlen - sizeof pad)
        return fail(err, BT_ENOMEM);
    atomic_fetch_add(&h->seen, 1);
    if (!f->cur) {
        pthread_mutex_lock(&f->mu);
        if ((f->cur = f->spare) != NULL)
            f->spare = f->cur->next;
        if (f->helped == f->cur)
            f->helped = NULL; /* filled anew: its records need verdicts */
        pthread_mutex_unlock(&f->mu);
        if (!f->cur && !(f->cur = calloc(1, sizeof *f->cur)))
            return fail(err, BT_ENOMEM);
    }
    at = f->cur->data.len;
    if (bt_buf_reserve(&f->cur->data, sizeof *r + len + nlen + sizeof pad))
        return fail(err, BT_ENOMEM);
    f->cur->data.len += sizeof *r; /* at a multiple of 8: each record's span is one */
    r = (feed_rec *)(void *)(f->cur->data.data + at);
    r->len = (uint32_t)len;
    r->kind = (uint32_t)kind;
    r->name_len = name ? (uint32_t)nlen : FEED_NO_NAME;
    atomic_init(&r->verdict, 0);
    bt_buf_append(&f->cur->data, raw, len);
    if (name)
        bt_buf_append(&f->cur->data, name, nlen);
    bt_buf_append(&f->cur->data, pad, feed_rec_span(r) - len - (name ? nlen : 0));
    if (f->cur->data.len >= FEED_BATCH && (rc = feed_queue(h))) {
        if (err)
            *err = f->err;
        return rc;
    }
    return 0;
}

/* Stops the feeder: with drain, after what is queued (else at once); joins it. */
static int feed_stop(bt_hunt *h, bool drain)
{
    feeder *f = h->feed_thread;
    int rc = 0;
    if (!f)
        return 0;
    if (drain)
        rc = feed_queue(h);
    pthread_mutex_lock(&f->mu);
    if (!drain && !f->rc)
        f->rc = BT_ESTOP;
    f->closing = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    if (!rc)
        rc = f->rc;
    return rc;
}

/* Releases what a stopped feeder holds. */
static void feed_release(bt_hunt *h)
{
    feeder *f = h->feed_thread;
    batch_free(f->head);
    batch_free(f->spare);
    batch_free(f->cur);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
    h->feed_thread = NULL;
}

int bt_hunt_feed_end(bt_hunt *h, bt_error *err)
{
    int rc;
    if (!h->feed_thread)
        return 0;
    if ((rc = feed_stop(h, true)) && err)
        *err = h->feed_thread->err;
    feed_release(h);
    return rc;
}

/* ---- parallel evaluation (bt_hunt_inspect in scan workers, bt_hunt_note after) ----
 * A note holds, per event with matches: a note_head, then per matching rule (load order)
 * a note_rule and its alert's JSON (none for a rule that only feeds correlations), then
 * the record when some matching rule feeds correlations. */
typedef struct note_head {
    int64_t time_ms;
    uint32_t nrules;
    uint32_t raw_len; /* 0: the record is not in the note */
    char eid[40];
} note_head;

typedef struct note_rule {
    uint32_t index;
    uint32_t json_len;
} note_rule;

typedef struct inspect_ctx {
    bt_hunt *h;
    const bt_event *ev;
    const bt_rule_derived *d;
    bt_buf *note;
    uint32_t nrules;
    bool feeds;
    int rc;
} inspect_ctx;

static int on_match_mt(void *ud, const bt_rule *r)
{
    inspect_ctx *x = ud;
    const bt_event *ev = x->ev;
    note_rule nr;
    size_t at = x->note->len;
    int rc;
    nr.index = (uint32_t)r->index;
    nr.json_len = 0;
    if ((rc = bt_buf_append(x->note, &nr, sizeof nr)))
        goto fail;
    if (r->info.alerts) {
        bt_hunt_alert a;
        event_alert(&a, r, ev, x->d);
        if ((rc = bt_hunt_alert_json(x->note, &a)))
            goto fail;
        nr.json_len = (uint32_t)(x->note->len - at - sizeof nr);
        memcpy(x->note->data + at, &nr, sizeof nr);
    }
    x->feeds |= r->nusers > 0;
    x->nrules++;
    return 0;
fail:
    x->rc = rc;
    return 1;
}

/* bt_hunt_inspect on a record past the pre-filter (prefiltered) or not yet. */
static int inspect_eval(bt_hunt *h, const bt_event *ev, const bt_json *rec, bool prefiltered,
                        bt_arena *scratch, bt_buf *note)
{
    char projbuf[256], idbuf[512];
    bt_rule_derived d;
    inspect_ctx x;
    note_head nh;
    size_t start = note->len;
    int rc;

    if (!prefiltered && !bt_rules_prefilter(h->rs, ev->raw, ev->raw_len))
        return 1;
    /* derived first: it may reset scratch (what it keeps is in projbuf and idbuf) */
    rules_derive(h->tracker, ev, &d, scratch, projbuf, sizeof projbuf, idbuf, sizeof idbuf);
    bt_arena_reset(scratch);
    if (!rec && bt_json_parse(scratch, ev->raw, ev->raw_len, NULL, (bt_json **)&rec, NULL))
        return 1;
    atomic_fetch_add(&h->parsed, 1);
    memset(&x, 0, sizeof x);
    x.h = h;
    x.ev = ev;
    x.d = &d;
    x.note = note;
    memset(&nh, 0, sizeof nh);
    if (bt_buf_append(note, &nh, sizeof nh))
        return BT_ENOMEM;
    rc = rules_match_mt(h->rs, rec, &d, on_match_mt, &x);
    if (rc == BT_ESTOP && x.rc)
        rc = x.rc;
    if (rc || !x.nrules || (x.feeds && bt_buf_append(note, ev->raw, ev->raw_len))) {
        note->len = start; /* nothing to say, or out of memory */
        return rc || x.nrules ? BT_ENOMEM : 1;
    }
    nh.time_ms = ev->time_ms;
    nh.nrules = x.nrules;
    nh.raw_len = x.feeds ? (uint32_t)ev->raw_len : 0;
    put_eid(nh.eid, ev->event_id ? ev->event_id : "");
    memcpy(note->data + start, &nh, sizeof nh);
    return 1;
}

int bt_hunt_inspect(bt_hunt *h, const bt_event *ev, const bt_json *rec, bt_arena *scratch,
                    bt_buf *note)
{
    if (h->o.defer && bt_build_tracker_may_want(ev->raw, ev->raw_len))
        return 0; /* to the batch: bt_hunt_defer */
    if (h->o.filter && !bt_filter_match(h->o.filter, ev))
        return 1;
    atomic_fetch_add(&h->seen, 1);
    return inspect_eval(h, ev, rec, h->o.prefiltered != 0, scratch, note);
}

int bt_hunt_note(bt_hunt *h, const char *note, size_t len, bt_error *err)
{
    size_t pos = 0;
    while (pos + sizeof(note_head) <= len) {
        note_head nh;
        const char *rules, *raw;
        size_t k, rpos;
        memcpy(&nh, note + pos, sizeof nh);
        rules = note + pos + sizeof nh;
        /* the record follows the rules' entries */
        for (k = 0, rpos = 0; k < nh.nrules; k++) {
            note_rule nr;
            memcpy(&nr, rules + rpos, sizeof nr);
            rpos += sizeof nr + nr.json_len;
        }
        raw = rules + rpos;
        for (k = 0, rpos = 0; k < nh.nrules; k++) {
            note_rule nr;
            const bt_rule *r;
            int rc = 0;
            memcpy(&nr, rules + rpos, sizeof nr);
            r = h->rs->rules[nr.index];
            if (nr.json_len)
                rc = keep_alert_json(h, nh.time_ms, nr.index, nh.eid, rules + rpos + sizeof nr,
                                     nr.json_len);
            if (!rc && r->nusers)
                rc = feed_keep(h, r, nh.time_ms, nh.eid, raw, nh.raw_len);
            if (rc)
                return fail(err, rc);
            rpos += sizeof nr + nr.json_len;
        }
        pos = (size_t)(raw - note) + nh.raw_len;
    }
    return 0;
}

/* ---- the records bt_hunt_defer holds, evaluated at bt_hunt_finish ----
 * Past DEFER_PAR_MIN records, on several threads: the calling thread reads them back in
 * time order into batches of about DEFER_BATCH bytes (a feed_rec before each record) in
 * a ring of DEFER_RING slots; workers (bt_hunt_opts.threads, at most DEFER_THREADS_MAX)
 * each take the oldest waiting batch
 * and evaluate its records as bt_hunt_inspect does, into the slot's note; the calling
 * thread takes the notes in, in ring order (bt_hunt_note), so the alerts are the ones
 * a single thread would give, in the same order. The tracker is only read by then. */
#define DEFER_BATCH ((size_t)1 << 20)
#define DEFER_RING 8
#define DEFER_THREADS_MAX 8
#define DEFER_PAR_MIN 2048

enum { SLOT_FREE, SLOT_TODO, SLOT_BUSY, SLOT_DONE };

typedef struct dslot {
    bt_buf data, note;
    int state;
    int rc; /* the worker's: 0 or BT_ENOMEM */
} dslot;

typedef struct dpool {
    bt_hunt *h;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dslot slot[DEFER_RING];
    size_t take; /* the slot the workers take next, counted from the start */
    bool closing;
} dpool;

int bt_hunt_defer(bt_hunt *h, const bt_event *ev, bt_error *err)
{
    hentry x;
    int rc;
    if (h->o.ordered)
        return bt_error_set(err, BT_EINVAL, "bt_hunt_defer: the hunt is ordered");
    if ((rc = bt_build_tracker_learn(h->tracker, ev)))
        return fail(err, rc);
    if (h->o.filter && !bt_filter_match(h->o.filter, ev))
        return 0; /* learnt from, not evaluated */
    atomic_fetch_add(&h->seen, 1);
    if (!bt_rules_prefilter(h->rs, ev->raw, ev->raw_len))
        return 0;
    memset(&x, 0, sizeof x);
    x.time_ms = ev->time_ms;
    x.seq = h->seq++;
    x.tag = (uint32_t)ev->kind;
    put_eid(x.key, ev->event_id ? ev->event_id : "");
    return (rc = stage_put(h, SP_DEFER, &x, ev->raw, ev->raw_len)) ? fail(err, rc) : 0;
}

/* A worker's batch: each record evaluated into the slot's note. */
static int defer_batch(bt_hunt *h, dslot *sl, bt_arena *evs, bt_arena *scratch)
{
    size_t pos = 0;
    while (pos + sizeof(feed_rec) <= sl->data.len) {
        feed_rec r;
        const char *raw;
        bt_json *rec;
        bt_event ev;
        memcpy(&r, sl->data.data + pos, sizeof r);
        raw = sl->data.data + pos + sizeof r;
        pos += sizeof r + r.len;
        bt_arena_reset(evs);
        if (bt_event_from_raw(evs, raw, r.len, r.kind, true, &rec, &ev, NULL))
            continue;
        if (inspect_eval(h, &ev, rec, true, scratch, &sl->note) != 1)
            return BT_ENOMEM;
    }
    return 0;
}

static void *defer_main(void *arg)
{
    dpool *p = arg;
    bt_arena *evs = bt_arena_new(256 << 10, 0), *scratch = bt_arena_new(256 << 10, 0);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        dslot *sl = &p->slot[p->take % DEFER_RING];
        int rc;
        if (sl->state != SLOT_TODO) {
            if (p->closing)
                break;
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        sl->state = SLOT_BUSY;
        p->take++;
        pthread_mutex_unlock(&p->mu);
        rc = evs && scratch ? defer_batch(p->h, sl, evs, scratch) : BT_ENOMEM;
        pthread_mutex_lock(&p->mu);
        sl->rc = rc;
        sl->state = SLOT_DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    bt_arena_free(evs);
    bt_arena_free(scratch);
    return NULL;
}

/* The calling thread's side: fills the ring and takes the notes in, in order. */
static int defer_pool_run(bt_hunt *h, dpool *p, size_t n, bt_error *err)
{
    size_t i = 0, fill = 0, apply = 0;
    bt_buf raw = BT_BUF_INIT;
    int rc = 0;
    while (!rc && (i < n || apply < fill)) {
        dslot *f = &p->slot[fill % DEFER_RING], *a = &p->slot[apply % DEFER_RING];
        bool done;
        pthread_mutex_lock(&p->mu);
        while (a->state != SLOT_DONE && (i == n || f->state != SLOT_FREE))
            pthread_cond_wait(&p->cv, &p->mu);
        done = a->state == SLOT_DONE; /* only this thread moves a slot on from done or free */
        pthread_mutex_unlock(&p->mu);
        if (done) {
            rc = a->rc ? fail(err, a->rc) : bt_hunt_note(h, a->note.data, a->note.len, err);
            bt_buf_clear(&a->data);
            bt_buf_clear(&a->note);
            pthread_mutex_lock(&p->mu);
            a->state = SLOT_FREE;
            pthread_mutex_unlock(&p->mu);
            apply++;
            continue;
        }
        while (!rc && i < n && f->data.len < DEFER_BATCH) { /* f is free: fill it */
            hentry x;
            feed_rec r;
            if ((rc = kind_read(h, SP_DEFER, i, &x, &raw))) {
                rc = fail(err, rc);
                break;
            }
            r.len = (uint32_t)raw.len;
            r.kind = x.tag;
            if (bt_buf_append(&f->data, &r, sizeof r) || bt_buf_append(&f->data, raw.data, raw.len))
                rc = fail(err, BT_ENOMEM);
            i++;
        }
        pthread_mutex_lock(&p->mu);
        f->state = SLOT_TODO;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        fill++;
    }
    bt_buf_dispose(&raw);
    return rc;
}

/* The n held records on nth workers (the sorter finished). */
static int defer_parallel(bt_hunt *h, size_t n, size_t nth, bt_error *err)
{
    pthread_t th[DEFER_THREADS_MAX];
    dpool *p = calloc(1, sizeof *p);
    size_t k, started = 0;
    int rc = 0;
    if (!p)
        return fail(err, BT_ENOMEM);
    p->h = h;
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return fail(err, BT_ENOMEM);
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return fail(err, BT_ENOMEM);
    }
    for (k = 0; k < nth; k++)
        if (pthread_create(&th[k], NULL, defer_main, p) == 0)
            started++;
    rc = started ? defer_pool_run(h, p, n, err) : fail(err, BT_ENOMEM);
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    while (rc) { /* stopped early: wait for the busy slots, drop the rest */
        bool busy = false;
        for (k = 0; k < DEFER_RING; k++) {
            busy |= p->slot[k].state == SLOT_BUSY;
            if (p->slot[k].state == SLOT_TODO)
                p->slot[k].state = SLOT_FREE;
        }
        if (!busy)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    for (k = 0; k < DEFER_RING; k++) {
        bt_buf_dispose(&p->slot[k].data);
        bt_buf_dispose(&p->slot[k].note);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return rc;
}

/* The records bt_hunt_defer held, oldest first, evaluated now that the tracker has seen
 * every build (a record delivered twice once). */
static int run_deferred(bt_hunt *h, bt_error *err)
{
    bt_buf raw = BT_BUF_INIT;
    size_t i, n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nth = h->o.threads > 0 ? (size_t)h->o.threads : cpus > 0 ? (size_t)cpus : 1;
    int rc = bt_spool_finish(h->sp, SP_DEFER, same_entry);
    if (nth > DEFER_THREADS_MAX)
        nth = DEFER_THREADS_MAX;
    if (rc)
        rc = fail(err, rc);
    n = rc ? 0 : bt_spool_count(h->sp, SP_DEFER);
    if (n >= DEFER_PAR_MIN && nth > 1) {
        rc = defer_parallel(h, n, nth, err);
        n = 0;
    }
    for (i = 0; i < n && !rc; i++) {
        hentry x;
        bt_json *rec;
        bt_event ev;
        if ((rc = kind_read(h, SP_DEFER, i, &x, &raw))) {
            rc = fail(err, rc);
            break;
        }
        bt_arena_reset(h->scratch);
        if (bt_event_from_raw(h->scratch, raw.data, raw.len, x.tag, true, &rec, &ev, NULL))
            continue;
        atomic_fetch_add(&h->parsed, 1);
        rc = evaluate(h, &ev, rec, err);
    }
    bt_buf_dispose(&raw);
    bt_spool_release(h->sp, SP_DEFER); /* evaluated: its memory and sorted file go */
    h->deferred = true;
    return rc;
}

/* Unordered input: the kept matches, in time order, into the correlations. */
static int replay(bt_hunt *h, bt_error *err)
{
    bt_buf raw = BT_BUF_INIT;
    size_t i, n;
    /* a record delivered twice (same event id) counts once: same_entry */
    int rc = bt_spool_finish(h->sp, SP_FEED, same_entry);
    for (i = 0, n = bt_spool_count(h->sp, SP_FEED); i < n && !rc; i++) {
        hentry f;
        bt_json *rec;
        bt_event ev;
        bt_rule_derived d;
        if ((rc = kind_read(h, SP_FEED, i, &f, &raw)))
            break;
        bt_arena_reset(h->scratch);
        if (bt_event_from_raw(h->scratch, raw.data, raw.len, BT_KIND_API, true, &rec, &ev, NULL))
            continue;
        bt_build_tracker_derive(h->tracker, &ev, &d);
        h->ev = &ev;
        h->d = &d;
        rc = bt_rules_correlate(h->corr, h->rs->rules[f.tag], rec, &d, ev.time_ms,
                                ev.event_id ? ev.event_id : "", on_corr_alert, h);
    }
    h->ev = NULL;
    bt_buf_dispose(&raw);
    bt_spool_release(h->sp, SP_FEED); /* replayed: its memory and sorted file go */
    h->fed = true;
    return rc ? fail(err, rc) : 0;
}

int bt_hunt_finish(bt_hunt *h, bt_error *err)
{
    int rc;
    if (!h->deferred && !h->o.ordered && (rc = run_deferred(h, err)))
        return rc;
    if (!h->o.ordered && (rc = replay(h, err)))
        return rc;
    /* kept state: later events may still join the windows open at the newest one */
    if ((rc = bt_rules_corr_flush(h->corr, h->o.corr_state ? h->newest_ms : INT64_MAX,
                                  on_corr_alert, h)))
        return fail(err, rc);
    if (h->streaming)
        return (rc = stream_finish(h)) ? fail(err, rc) : 0;
    return (rc = bt_spool_finish(h->sp, SP_ALERT, same_entry)) ? fail(err, rc) : 0;
}

size_t bt_hunt_count(const bt_hunt *h)
{
    return h->streaming ? h->handed : bt_spool_count(h->sp, SP_ALERT);
}

int bt_hunt_alert_at(bt_hunt *h, size_t i, bt_buf *out)
{
    hentry a;
    return h->streaming ? BT_EINVAL : kind_read(h, SP_ALERT, i, &a, out);
}

int bt_hunt_alert_ref(bt_hunt *h, size_t i, const char **json, size_t *len)
{
    hentry a;
    int rc = h->streaming ? BT_EINVAL : bt_spool_at(h->sp, SP_ALERT, i, &a, json);
    if (!rc)
        *len = a.len;
    return rc;
}

static void put_key_str(bt_buf *o, const char *key, const char *v)
{
    bt_buf_puts(o, ",\"");
    bt_buf_puts(o, key);
    bt_buf_puts(o, "\":");
    if (v)
        bt_json_write_string(o, v, strlen(v), 0);
    else
        bt_buf_puts(o, "null");
}

/* An alert's first keys, from the rule's facts. */
static void alert_head(bt_buf *o, const bt_rule_info *in)
{
    bt_buf_puts(o, "{\"rule_id\":");
    if (in->id)
        bt_json_write_string(o, in->id, strlen(in->id), 0);
    else
        bt_buf_puts(o, "null");
    put_key_str(o, "rule_title", in->title);
    put_key_str(o, "level", in->level);
}

int rules_alert_head(bt_ruleset *rs, bt_rule *r)
{
    bt_buf b = BT_BUF_INIT;
    alert_head(&b, &r->info);
    r->head = b.data ? bt_arena_strndup(rs->arena, b.data, b.len) : NULL;
    r->head_len = b.len;
    bt_buf_dispose(&b);
    return r->head ? 0 : BT_ENOMEM;
}

int bt_hunt_alert_json(bt_buf *o, const bt_hunt_alert *a)
{
    size_t i, before = o->len;
    if (a->rule->head) /* compiled: written once */
        bt_buf_append(o, a->rule->head, a->rule->head_len);
    else
        alert_head(o, bt_rule_get_info(a->rule));
    if (!a->event_ids)
        put_key_str(o, "event_id", a->event_id);
    bt_buf_puts(o, ",\"event_time\":\"");
    bt_time_format_utc(o, a->time_ms);
    bt_buf_putc(o, '"');
    put_key_str(o, "account", a->account);
    put_key_str(o, "region", a->region);
    put_key_str(o, "build_id", a->build_id);
    if (a->event_ids) {
        bt_buf_puts(o, ",\"event_ids\":[");
        for (i = 0; i < a->nevent_ids; i++) {
            if (i)
                bt_buf_putc(o, ',');
            bt_json_write_string(o, a->event_ids[i], strlen(a->event_ids[i]), 0);
        }
        bt_buf_putc(o, ']');
    } else {
        bt_buf_puts(o, ",\"event\":");
        bt_buf_append(o, a->raw, a->raw_len);
    }
    bt_buf_putc(o, '}');
    /* the buffer's writers fail only by allocation; a short result means that */
    return o->len > before && o->data[o->len - 1] == '}' ? 0 : BT_ENOMEM;
}

/* The detection rules whose matches count: alerting or feeding a correlation. */
static bool counts(const bt_rule *r)
{
    return r->info.kind == BT_RULE_DETECTION && (r->info.alerts || r->nusers);
}

int bt_rules_push_down(const bt_ruleset *rs, bt_filter *f)
{
    bt_filter g = *f;
    size_t i, k, v;
    bool any = false;

    if (f->nvalues[BT_F_EVENT_NAME])
        return 0;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule *r = rs->rules[i];
        const bt_rule_plan *p;
        const bt_rule_pin *pin = NULL;
        if (!counts(r))
            continue;
        p = bt_rule_get_plan(r);
        for (k = 0; p && k < p->nfields; k++)
            if (strcasecmp(p->fields[k], "buildtrail.source_ip_known") == 0)
                return 0;
        for (k = 0; p && k < p->npins; k++)
            if (strcmp(p->pins[k].field, "eventName") == 0)
                pin = &p->pins[k];
        if (!pin)
            return 0;
        for (v = 0; v < pin->nvalues; v++) {
            unsigned j;
            bool dup = false;
            for (j = 0; j < g.nvalues[BT_F_EVENT_NAME]; j++)
                dup |= strcmp(g.values[BT_F_EVENT_NAME][j], pin->values[v]) == 0;
            if (dup)
                continue;
            /* the store compares exactly; the rule case-insensitively: CloudTrail writes
             * event names in one spelling, so the rule's is taken as written */
            if (bt_filter_add(&g, BT_F_EVENT_NAME, pin->values[v], NULL))
                return 0;
        }
        any = true;
    }
    if (!any)
        return 0;
    *f = g;
    return 1;
}

typedef struct fmatch {
    bool hit;
} fmatch;

static int on_filter_match(void *ud, const bt_rule *r)
{
    fmatch *m = ud;
    if (!counts(r))
        return 0;
    m->hit = true;
    return 1;
}

int bt_rules_filter_event(const bt_ruleset *rs, bt_build_tracker *t, bt_arena *scratch,
                          const bt_event *ev)
{
    bt_json *rec;
    bt_rule_derived d;
    fmatch m = {false};
    if (!bt_rules_prefilter(rs, ev->raw, ev->raw_len))
        return 0;
    bt_arena_reset(scratch);
    if (bt_json_parse(scratch, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    bt_build_tracker_derive(t, ev, &d);
    bt_rules_match(rs, rec, &d, on_filter_match, &m);
    return m.hit ? 1 : 0;
}

/* ---- a hunt fed by a scan (bt_hunt_scan_opts) ---- */

static int scan_on_batch(void *ctx, const bt_batch *b)
{
    bt_hunt *h = ctx;
    size_t i;
    int rc = b->note_len ? bt_hunt_note(h, b->note, b->note_len, h->scan_err) : 0;
    for (i = 0; i < b->n && !rc; i++)
        rc = h->o.defer ? bt_hunt_defer(h, &b->events[i], h->scan_err)
                        : bt_hunt_event(h, &b->events[i], h->scan_err);
    return rc;
}

static int scan_inspect(void *ctx, const bt_event *ev, const bt_json *rec, bt_arena *a, bt_buf *n)
{
    return bt_hunt_inspect(ctx, ev, rec, a, n);
}

static bool scan_raw_keep(void *ctx, const char *rec, size_t len)
{
    const bt_hunt *h = ctx;
    return bt_hunt_raw_wanted(h->rs, h->o.defer ? BT_HUNT_PASS_BOTH : BT_HUNT_PASS_EVAL, rec, len);
}

void bt_hunt_scan_opts(bt_hunt *h, const bt_filter *f, bt_scan_opts *so, bt_error *err)
{
    h->scan_err = err;
    so->filter = h->o.defer ? NULL : f; /* defer: the hunt filters (bt_hunt_opts.filter) */
    so->on_batch = scan_on_batch;
    so->inspect = scan_inspect;
    so->raw_keep = scan_raw_keep;
    so->ctx = h;
}
