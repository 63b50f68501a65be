/*
 * buildtrail/rules.h - the Sigma rule engine: loads Sigma detection rules, correlation
 * rules and filters (YAML, via libyaml) into a rule set, compiles each rule to a plan
 * (pinned fields a store can push down, literal needles for a raw-byte pre-filter, the
 * fields it reads), evaluates the set over parsed CloudTrail records, and correlates
 * time-ordered matches. docs/rules.md lists what is supported and what is refused.
 *
 * Lifecycle: bt_rules_new, then bt_rules_add_path / bt_rules_add_buffer any number of
 * times, then bt_rules_compile once; or bt_rules_load, which does all of it. A set that
 * failed to load anything is poisoned: every later add/compile returns BT_EINVAL, so a
 * set is used whole or not at all (never half-loaded). After compile the set is
 * read-only, except for regex scratch space: use one set per thread (bt_hunt_inspect
 * excepted: it may run in several threads at once).
 *
 * Ownership: the set owns every string and structure it hands out (bt_rule pointers,
 * info, plans, alerts' strings stay valid until bt_rules_free). Records and derived
 * fields passed in are borrowed for the duration of the call.
 */
#ifndef BT_RULES_H
#define BT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"
#include "buildtrail/source.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_ruleset bt_ruleset;
typedef struct bt_rule bt_rule;

/* Caps: a rule file over BT_RULES_MAX_FILE bytes, YAML nested deeper than
 * BT_RULES_MAX_DEPTH or with more than BT_RULES_MAX_NODES nodes (aliases counted each
 * time they are used) is refused with BT_ELIMIT. */
#define BT_RULES_MAX_FILE ((size_t)4 << 20)
#define BT_RULES_MAX_DEPTH 32
#define BT_RULES_MAX_NODES 100000
#define BT_RULES_MAX_RULES 100000

typedef enum bt_rule_kind { BT_RULE_DETECTION = 0, BT_RULE_CORRELATION = 1 } bt_rule_kind;

typedef enum bt_rule_corr_type {
    BT_CORR_NONE = 0,
    BT_CORR_EVENT_COUNT,
    BT_CORR_VALUE_COUNT,
    BT_CORR_TEMPORAL,
    BT_CORR_TEMPORAL_ORDERED
} bt_rule_corr_type;

/* A rule's metadata. Strings are NULL when the rule does not set them. */
typedef struct bt_rule_info {
    bt_rule_kind kind;
    bt_rule_corr_type corr_type; /* BT_CORR_NONE for detection rules */
    const char *title;           /* never NULL */
    const char *id;
    const char *name;
    const char *level; /* informational, low, medium, high, critical */
    const char *status;
    const char *description;
    const char *file; /* path or buffer name it was loaded from */
    const char *const *tags;
    size_t ntags;
    const char *product, *service, *category; /* logsource */
    /* true when a match of this rule is an alert on its own; false for a detection rule
     * that only feeds correlations (referenced by one without `generate: true`). */
    bool alerts;
} bt_rule_info;

/* What a rule needs from a record: pushed down by stores and scanners. */
typedef struct bt_rule_pin {
    const char *field;         /* dotted name, e.g. "eventName" */
    const char *const *values; /* exact values, as written in the rule */
    size_t nvalues;
} bt_rule_pin;

typedef struct bt_rule_plan {
    /* A record matching the rule has, for EVERY pin, field equal (ASCII
     * case-insensitively) to one of the pin's values. Fields a store indexes
     * (eventName, eventSource, errorCode, ...) can be turned into WHERE ... IN (...). */
    const bt_rule_pin *pins;
    size_t npins;
    /* The raw record bytes of a match contain one of these (ASCII case-insensitively);
     * nneedles == 0 means no pre-filter is possible for this rule. */
    const char *const *needles;
    /* per needle: true when it is a whole value the record's eventName must equal
     * (ASCII case-insensitively), so a pre-filter may read eventName alone for it */
    const bool *needle_is_name;
    size_t nneedles;
    /* Every field the rule reads (dotted; derived fields start with "buildtrail.").
     * keywords is true when the rule also searches all values of the record. */
    const char *const *fields;
    size_t nfields;
    bool keywords;
} bt_rule_plan;

/* ---- derived fields: buildtrail's taxonomy (docs/rules.md) ----
 * Rules read them under these names; the caller fills what it knows. A NULL string or
 * a negative number/tri-state means "absent" (a rule's `null` matches it). */
typedef struct bt_rule_field {
    const char *name;  /* e.g. "buildtrail.custom" */
    const char *value; /* string value */
} bt_rule_field;

typedef struct bt_rule_derived {
    const char *build_id;       /* buildtrail.build_id: "project:uuid" */
    const char *build_uuid;     /* buildtrail.build_uuid */
    const char *project;        /* buildtrail.project */
    int is_build_call;          /* buildtrail.is_build_call: 1 true, 0 false, -1 absent */
    const char *build_state;    /* buildtrail.build_state at the event's time: IN_PROGRESS,
                                   SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED */
    double build_ended_age_s;   /* buildtrail.build_ended_age_s: seconds since the build
                                   ended (negative = absent: not ended or unknown) */
    int source_ip_known;        /* buildtrail.source_ip_known: 1 the build used this source
                                   address before, 0 it did not, -1 absent */
    const bt_rule_field *extra; /* more string fields, any names */
    size_t nextra;
} bt_rule_derived;

#define BT_RULE_DERIVED_INIT                                                                       \
    {                                                                                              \
        NULL, NULL, NULL, -1, NULL, -1.0, -1, NULL, 0                                              \
    }

/* ---- loading ---- */

/* Returns an empty set (free with bt_rules_free) or NULL on allocation failure. */
bt_ruleset *bt_rules_new(void);
void bt_rules_free(bt_ruleset *rs); /* accepts NULL */

/* Adds a rule file (multi-document YAML) or a directory of them (*.yml, *.yaml, walked
 * recursively in name order). On failure returns BT_EPARSE (not YAML), BT_EINVAL
 * (malformed or unsupported rule), BT_ELIMIT, BT_EIO or BT_ENOTFOUND with one line in
 * err: "'<file>': rule '<title or id>': <problem>", and poisons the set. */
int bt_rules_add_path(bt_ruleset *rs, const char *path, bt_error *err);
/* Same for rule text in memory; name stands for the file in messages. */
int bt_rules_add_buffer(bt_ruleset *rs, const char *name, const char *text, size_t len,
                        bt_error *err);
/* Resolves correlation and filter references, compiles plans. Once only. */
int bt_rules_compile(bt_ruleset *rs, bt_error *err);
/* Convenience: new + add every path + compile. *out is the set or NULL on failure. */
int bt_rules_load(const char *const *paths, size_t npaths, bt_ruleset **out, bt_error *err);

/* ---- inspection ---- */

size_t bt_rules_count(const bt_ruleset *rs);                /* all rules, both kinds */
const bt_rule *bt_rules_at(const bt_ruleset *rs, size_t i); /* load order */
const bt_rule *bt_rules_find(const bt_ruleset *rs, const char *id_or_name);
const bt_rule_info *bt_rule_get_info(const bt_rule *r);
/* The plan of a detection rule (filters included); NULL for correlation rules. */
const bt_rule_plan *bt_rule_get_plan(const bt_rule *r);
/* Distinct needles over all alerting and correlated detection rules, or 0 needles when
 * some rule has none (then every record must be parsed). */
const bt_rule_plan *bt_rules_get_plan(const bt_ruleset *rs);

/*
 * Raw-record pre-filter: false when no detection rule of the set can match the record
 * whose exact JSON text is raw[0..len) (then it need not be parsed). Allocation-free.
 */
bool bt_rules_prefilter(const bt_ruleset *rs, const char *raw, size_t len);

/* ---- evaluation ---- */

/* Called once per matching detection rule, in load order; return nonzero to stop
 * (bt_rules_match then returns BT_ESTOP). */
typedef int (*bt_rules_match_fn)(void *ud, const bt_rule *rule);

/*
 * Evaluates every detection rule of a compiled set over one parsed record (a
 * CloudTrail record object) plus its derived fields (NULL = none). Reports matches of
 * all detection rules, including those that only feed correlations (see info.alerts).
 * Allocation-free. Returns 0, BT_ESTOP, or BT_EINVAL for an uncompiled set.
 */
int bt_rules_match(const bt_ruleset *rs, const bt_json *record, const bt_rule_derived *derived,
                   bt_rules_match_fn cb, void *ud);
/* One rule only: 1 match, 0 no match, BT_EINVAL (not a compiled detection rule). */
int bt_rule_match(const bt_rule *rule, const bt_json *record, const bt_rule_derived *derived);

/* ---- correlation ---- */

typedef struct bt_rules_corr bt_rules_corr;

typedef struct bt_rule_alert {
    const bt_rule *rule;          /* the correlation rule */
    const char *const *event_ids; /* the events that made it, oldest first */
    size_t nevent_ids;
    const char *const *group_fields; /* the rule's group-by names */
    const char *const *group_values; /* their values ("" when absent) */
    size_t ngroup;
    int64_t first_ms, last_ms; /* time of the first and last event */
    uint64_t count;            /* events (event_count), distinct values
                                  (value_count) or distinct rules (temporal) */
} bt_rule_alert;

/* Called per correlation alert; pointers are valid during the call only. Nonzero
 * return stops (BT_ESTOP). */
typedef int (*bt_rules_alert_fn)(void *ud, const bt_rule_alert *alert);

/* Caps on correlation memory: groups per rule, events kept per group, and bytes of
 * state in all (the oldest events and the longest-idle groups go first). 0 picks the
 * defaults: 100000 groups, 10000 events, 64 MiB. */
typedef struct bt_rules_corr_opts {
    size_t max_groups;
    size_t max_events_per_group;
    size_t max_bytes;
} bt_rules_corr_opts;

/* New correlation state for a compiled set (free with bt_rules_corr_free), or NULL. */
bt_rules_corr *bt_rules_corr_new(const bt_ruleset *rs, const bt_rules_corr_opts *opts);
void bt_rules_corr_free(bt_rules_corr *c); /* accepts NULL */

/*
 * Feeds one match of detection rule `rule` (as reported by bt_rules_match) on a record
 * at time_ms (events must come in time order; an earlier time is treated as equal to
 * the latest seen). event_id is copied. Correlations whose window expires are
 * evaluated; alerts go to cb. State older than each rule's timespan is dropped.
 * Returns 0, BT_ENOMEM, BT_ESTOP.
 */
int bt_rules_correlate(bt_rules_corr *c, const bt_rule *rule, const bt_json *record,
                       const bt_rule_derived *derived, int64_t time_ms, const char *event_id,
                       bt_rules_alert_fn cb, void *ud);
/* Closes every window ending before now_ms (INT64_MAX: end of input, close all) and
 * reports what they yield (conditions with an upper bound: lt, lte, eq). */
int bt_rules_corr_flush(bt_rules_corr *c, int64_t now_ms, bt_rules_alert_fn cb, void *ud);
/* The earliest time an alert not reported yet may carry, given that later input comes in
 * time order: the oldest group still open in a correlation with an upper bound (decided
 * when its window closes). INT64_MAX when no such window is open: every later alert
 * carries the time of the event that fires it. */
int64_t bt_rules_corr_pending_ms(const bt_rules_corr *c);
/* Bytes of correlation state currently held (for the memory target). */
size_t bt_rules_corr_memory(const bt_rules_corr *c);

/* ---- derived fields from build lifecycles (src/rules/derive.c) ----
 *
 * A build tracker holds what is known of each build: its project and id, its start and
 * end (StartBuild / RetryBuild / StartBuildBatch records, StopBuild, EventBridge state
 * changes, or a store's build summaries) and the source addresses its role session
 * AWSCodeBuild-<uuid> used (first use of each: time and event id). Learning is
 * order-independent, so a caller may learn a whole archive in a first pass and derive
 * in a second; or learn and derive as time-ordered events stream (each event learned
 * before or after it is derived: an event never counts as "before" itself).
 *
 * Memory is bounded: at most max_builds builds (later builds are not tracked: their
 * state-based fields stay absent) and BT_BUILD_TRACKER_MAX_IPS addresses per build.
 * Source addresses that are service names (codebuild.amazonaws.com, AWS Internal) are
 * not addresses and are ignored.
 */
typedef struct bt_build_tracker bt_build_tracker;

#define BT_BUILD_TRACKER_MAX_IPS 16
#define BT_BUILD_TRACKER_DEFAULT_BUILDS 200000

/* New empty tracker (max_builds 0 = BT_BUILD_TRACKER_DEFAULT_BUILDS), or NULL. */
bt_build_tracker *bt_build_tracker_new(size_t max_builds);
void bt_build_tracker_free(bt_build_tracker *t); /* accepts NULL */

/* Learns from one event: lifecycle facts (re-parsing the few records that carry them)
 * and the role session's calls and source addresses. 0 or BT_ENOMEM. */
int bt_build_tracker_learn(bt_build_tracker *t, const bt_event *ev);
/* False when bt_build_tracker_learn would learn nothing from ev (a scan's first pass
 * may leave such events out). Thread-safe: reads ev only. */
bool bt_build_tracker_wants(const bt_event *ev);
/* The same, from a record's bytes before it is parsed: false when it cannot carry what
 * the tracker learns (its bytes spell neither CodeBuild nor codebuild: no build role
 * session AWSCodeBuild-<uuid>, no CodeBuild call, no build state or phase change;
 * CloudTrail and EventBridge write these unescaped). Thread-safe. */
bool bt_build_tracker_may_want(const char *raw, size_t len);
/* Learns one build's summary (as bt_store_builds_find reports it): project, id, start,
 * end and status. 0 or BT_ENOMEM. */
int bt_build_tracker_add_build(bt_build_tracker *t, const bt_build *b);
/* Builds tracked, and builds not tracked for the cap. */
size_t bt_build_tracker_count(const bt_build_tracker *t, size_t *dropped);

/*
 * The derived fields of ev (docs/rules.md, "Derived fields"): the build it belongs to
 * (its role session's build when it is a build's own call, else the build it is about),
 * is_build_call (0 for every event that is not a build's own call), the build's state
 * at the event's time (NOT_STARTED before its start, IN_PROGRESS until its end, then
 * its final status with build_ended_age_s), and source_ip_known for a build's calls
 * from an address (absent for the session's first address). *d is overwritten; its
 * strings point into ev or t and stay valid until the next call or ev's end.
 */
void bt_build_tracker_derive(bt_build_tracker *t, const bt_event *ev, bt_rule_derived *d);

/* ---- hunting: a rule set over a stream of events (src/rules/hunt.c) ----
 *
 * bt_hunt evaluates a compiled set over bt_events (from a store or a scan): raw-byte
 * pre-filter, parse, derived fields from a build tracker, match, correlate. Each alert
 * is written as JSON (bt_hunt_alert_json) to an unlinked temporary file at once; memory
 * holds an index of about 80 bytes per alert, sorted at the end by time, then event id,
 * then rule load order (a record delivered twice gives one alert per rule). Memory also
 * holds the tracker (its cap) and correlation state (bounded by the timespans and
 * caps); in unordered mode the records of the matches that feed correlations go to the
 * temporary file too and are replayed in time order at bt_hunt_finish.
 */
typedef struct bt_hunt bt_hunt;

/* One alert, as bt_hunt_alert_json writes it. */
typedef struct bt_hunt_alert {
    const bt_rule *rule;
    int64_t time_ms;      /* the event's; a correlation's: its last event's */
    const char *event_id; /* NULL for correlation alerts */
    const char *account, *region;
    const char *build_id; /* NULL when none */
    const char *raw;      /* the record, byte-exact; NULL for correlations */
    size_t raw_len;
    const char *const *event_ids; /* correlation alerts: the events, oldest first */
    size_t nevent_ids;
} bt_hunt_alert;

typedef struct bt_hunt_opts {
    /* events arrive in time order (a store read oldest first): the tracker learns as
     * they come and correlations run at once. 0: events come in any order (a parallel
     * scan): the tracker learns every build first (a first pass through
     * bt_build_tracker_learn, or in the same pass with defer) and correlation input is
     * replayed in time order at the end. */
    int ordered;
    size_t max_builds;       /* tracker cap; 0 = default */
    bt_rules_corr_opts corr; /* zeros = defaults */
    /* ordered hunts: correlation state that outlives the hunt (borrowed; made with
     * bt_rules_corr_new for the same set), so a window open at the end of one hunt goes
     * on in the next (watch's cycles). bt_hunt_finish then closes only the windows that
     * end before the newest event seen, instead of all. NULL: the hunt's own state. */
    bt_rules_corr *corr_state;
    /* bytes of alerts (and, unordered, of correlation input) held in memory before a
     * sorted run of them goes to the temporary file; 0 = the default, 6 MiB */
    size_t stage_cap;
    /* ordered hunts: each alert's JSON (json[0..len), no newline) handed over as soon as
     * no later event can put an alert before it, in the order bt_hunt_alert_at would
     * give, and every one by the time bt_hunt_finish returns; the hunt keeps none
     * (bt_hunt_count counts those handed over, bt_hunt_alert_at gives BT_EINVAL). The
     * alerts wait in memory only while a correlation window with an upper bound that
     * may still fire before them is open; past stage_cap they go to the temporary file
     * and come at the end. A non-zero return stops the hunt (BT_ESTOP). NULL: kept. */
    int (*on_alert)(void *ctx, const char *json, size_t len);
    void *alert_ctx;
    /* the records given to bt_hunt_inspect passed bt_rules_prefilter already (a scan's
     * raw_keep): not checked again (except those defer leaves to the batch) */
    int prefiltered;
    /* unordered hunts whose rules need build lifecycles (bt_rules_need_lifecycle), in
     * one pass: bt_hunt_inspect leaves each record the tracker may learn from
     * (bt_build_tracker_may_want) to the batch (returns 0), for bt_hunt_defer. */
    int defer;
    /* with defer: the events the hunt evaluates (borrowed; NULL = all). The scan should
     * filter nothing then, so that the tracker learns every build, those before
     * --start-time included: bt_hunt_inspect and bt_hunt_defer apply it. */
    const bt_filter *filter;
    /* threads that evaluate the held records at bt_hunt_finish (past 2,048 of them):
     * 0 = the number of CPUs, at most 8; 1 = the calling thread alone */
    int threads;
} bt_hunt_opts;

/* *out is freed with bt_hunt_free. rs must stay alive and compiled. 0, BT_ENOMEM, or
 * BT_EIO when no temporary file can be made ($TMPDIR). */
int bt_hunt_new(const bt_ruleset *rs, const bt_hunt_opts *o, bt_hunt **out);
void bt_hunt_free(bt_hunt *h); /* accepts NULL */
/* The tracker (for a first pass or store build summaries); owned by h. */
bt_build_tracker *bt_hunt_tracker(bt_hunt *h);
/* True when some rule reads a field that needs build lifecycles (build_state,
 * build_ended_age_s, source_ip_known), i.e. an unordered scan needs a first pass. */
bool bt_rules_need_lifecycle(const bt_ruleset *rs);
/* Evaluates one event (pre-filter on ev->raw first). 0, BT_ENOMEM, BT_EIO. */
int bt_hunt_event(bt_hunt *h, const bt_event *ev, bt_error *err);
/* Evaluates one record not parsed yet (raw[0..len), a store row delivered under
 * raw_only; kind as stored): the pre-filter on the bytes, then one parse for the rules.
 * An ordered hunt's tracker still learns from every record that may carry build facts
 * (its bytes spell CodeBuild or codebuild: a build's role session, a CodeBuild call, a
 * build state or phase change). A record that does not parse is passed over, as
 * bt_hunt_event would never have seen it. 0, BT_ENOMEM, BT_EIO. */
int bt_hunt_unparsed(bt_hunt *h, const char *raw, size_t len, bt_event_kind kind, bt_error *err);
/* Which records a scan for a hunt need parse, judged from their bytes (a scan's
 * raw_keep): BT_HUNT_PASS_EVAL, what the rules' pre-filter lets through;
 * BT_HUNT_PASS_LEARN, a lifecycle pass, what the tracker may learn from
 * (bt_build_tracker_may_want); BT_HUNT_PASS_BOTH, learning while evaluating, either.
 * Thread-safe. */
typedef enum { BT_HUNT_PASS_EVAL, BT_HUNT_PASS_LEARN, BT_HUNT_PASS_BOTH } bt_hunt_pass;
bool bt_hunt_raw_wanted(const bt_ruleset *rs, bt_hunt_pass pass, const char *raw, size_t len);
/* An ordered hunt on two threads: after bt_hunt_feed_start, bt_hunt_feed (on the calling
 * thread, as bt_hunt_unparsed would be called) copies each record into batches that a
 * thread of the hunt's pre-filters and evaluates in order (o.on_alert is then called on
 * that thread); bt_hunt_feed_end waits for it and ends it, before bt_hunt_finish. The
 * copies wait in at most 5 batches of about 1 MiB. bt_hunt_feed returns the feeder's
 * first error as soon as it is known (then stop feeding and call bt_hunt_feed_end).
 * name (may be NULL): the record's top-level eventName, when the caller knows it (a
 * store's row, bt_store_pos.unparsed): the pre-filter then tests it against the rules'
 * event names instead of looking for eventName keys in the record; NULL for any other
 * record. Without bt_hunt_feed_start, bt_hunt_feed is bt_hunt_unparsed. 0, BT_EINVAL (not
 * ordered, or started already), BT_ENOMEM, and bt_hunt_unparsed's errors. */
int bt_hunt_feed_start(bt_hunt *h);
int bt_hunt_feed(bt_hunt *h, const char *raw, size_t len, bt_event_kind kind, const char *name,
                 bt_error *err);
int bt_hunt_feed_end(bt_hunt *h, bt_error *err);

/* A hunt over a store (h made with ordered = 1), in src/rules/hunt_store.c: when the
 * rules need lifecycles, the tracker is seeded with the store's builds (the newest
 * seed_builds of them; 0 = all); then the events the filter selects, stored after
 * after_seq (0 = all), oldest first, read on the calling thread and evaluated on the
 * hunt's (bt_hunt_feed), each record parsed once and only past the pre-filter. Alerts
 * go to on_alert as they become final, or wait for bt_hunt_finish, which comes next.
 * *last_seq (may be NULL): the newest sequence number read (after_seq when none);
 * *count (may be NULL): events read. 0, or the store's, the tracker's and the hunt's
 * errors (the first one, in err). */
typedef struct bt_store bt_store; /* store.h */
typedef struct bt_hunt_store_opts {
    const bt_filter *filter; /* NULL = every event */
    int64_t after_seq;
    size_t seed_builds;
} bt_hunt_store_opts;
int bt_hunt_store(bt_hunt *h, bt_store *s, const bt_hunt_store_opts *o, int64_t *last_seq,
                  uint64_t *count, bt_error *err);
/* The rule set h evaluates. */
const bt_ruleset *bt_hunt_ruleset(const bt_hunt *h);
/*
 * A hunt over a scan of files or an S3 listing (bt_scan_files, or any scan that takes
 * bt_scan_opts): fills so's filter (f, or NULL when the hunt filters itself: defer),
 * on_batch, inspect, raw_keep and ctx, so that the scan's workers run the rules on the
 * records they parse (bt_hunt_inspect, for the records bt_hunt_raw_wanted keeps) and
 * its batches reach the hunt in order (bt_hunt_note, then bt_hunt_event or, with defer,
 * bt_hunt_defer). The caller sets the rest (threads, record size, file errors). The
 * hunt's errors during the scan go to err, which must outlive the scan.
 */
void bt_hunt_scan_opts(bt_hunt *h, const bt_filter *f, bt_scan_opts *so, bt_error *err);
/*
 * bt_hunt_event split in two for a parallel scan (bt_scan_opts.inspect), for an
 * unordered hunt whose tracker is no longer learning (after the first pass, or when
 * the rules need no lifecycle): bt_hunt_inspect runs in the scan's worker threads (any
 * number at once) on the record parsed once by the scan (rec, NULL: parsed from
 * ev->raw in scratch, which is reset) and appends to note what its matches need (the
 * alerts' JSON, the record for correlations); it returns 1 (the event itself is not
 * needed any more) or BT_ENOMEM. bt_hunt_note, on one thread, in the scan's batch
 * order, takes in each note: the same alerts, in the same order, as bt_hunt_event.
 */
int bt_hunt_inspect(bt_hunt *h, const bt_event *ev, const bt_json *rec, bt_arena *scratch,
                    bt_buf *note);
int bt_hunt_note(bt_hunt *h, const char *note, size_t len, bt_error *err);
/* An unordered hunt in one pass (bt_hunt_opts.defer), on the thread of bt_hunt_note, for
 * each event bt_hunt_inspect left to the batch: the tracker learns from ev and, when
 * bt_hunt_opts.filter selects ev and ev passes the pre-filter, its record is
 * held (in memory, past stage_cap in the temporary file) and evaluated at
 * bt_hunt_finish, once the tracker has learnt every build. The records the tracker has
 * no use for derive nothing from it, so bt_hunt_inspect evaluates them at once; the
 * alerts are those of a first pass that learns and a second that evaluates. 0,
 * BT_EINVAL (an ordered hunt), BT_ENOMEM, BT_EIO. */
int bt_hunt_defer(bt_hunt *h, const bt_event *ev, bt_error *err);
/* End of input: replays correlation input (unordered), flushes windows, sorts. */
int bt_hunt_finish(bt_hunt *h, bt_error *err);
/* Alerts (after bt_hunt_finish: sorted, duplicates dropped). */
size_t bt_hunt_count(const bt_hunt *h);
/* Replaces out's content with the JSON object of alert i (no newline). 0, BT_EINVAL (no
 * such alert), BT_EIO. */
int bt_hunt_alert_at(bt_hunt *h, size_t i, bt_buf *out);
/* The same without a copy: *json (*len bytes, not NUL-terminated) points into the hunt's
 * memory and stays valid until the next call of either. For printing every alert in
 * order (each byte of the temporary file is read once, and copied once, to the output). */
int bt_hunt_alert_ref(bt_hunt *h, size_t i, const char **json, size_t *len);
/* Records evaluated (passed the pre-filter and parsed) and seen. */
void bt_hunt_stats(const bt_hunt *h, uint64_t *seen, uint64_t *parsed);
/* Bytes of alerts and records that went through the temporary file so far, and in how
 * many sorted runs (0, 0: all in memory). */
void bt_hunt_spill_stats(const bt_hunt *h, uint64_t *bytes, size_t *runs);
/* The temporary file's size (its runs are compressed). */
uint64_t bt_hunt_spill_file_bytes(const bt_hunt *h);

/* Appends one alert as a compact JSON object with keys rule_id, rule_title, level,
 * event_id, event_time, account, region, build_id, event (the raw record) - or, for a
 * correlation, event_ids instead of event_id and event. 0 or BT_ENOMEM. */
int bt_hunt_alert_json(bt_buf *out, const bt_hunt_alert *a);

/* Store push-down: when every alerting or correlated detection rule pins eventName (and
 * no rule needs the whole stream for source_ip_known), adds the union of the names to
 * f as BT_F_EVENT_NAME values and returns 1; else 0 and f is unchanged. f must not
 * already constrain event names. BT_EINVAL when over the filter's value cap (then 0). */
int bt_rules_push_down(const bt_ruleset *rs, bt_filter *f);

/* A set as a filter (search --rule): 1 when some alerting or correlated detection rule
 * matches ev (derived fields from t, which may be fresh), else 0; BT_ENOMEM. scratch
 * is reset. */
int bt_rules_filter_event(const bt_ruleset *rs, bt_build_tracker *t, bt_arena *scratch,
                          const bt_event *ev);

/* ---- the shipped rule pack (src/rules/pack.c) ---- */

/* The directory of the built-in pack: $BUILDTRAIL_RULES_DIR, else next to the running
 * binary (<bin>/../share/buildtrail/rules, <bin>/../rules), else the install path and
 * the source tree compiled in. 0, or BT_ENOTFOUND with err naming where it looked. */
int bt_rules_builtin_dir(char *buf, size_t n, bt_error *err);
/* bt_rules_load where an argument "builtin" (unless a directory of that name exists)
 * stands for the built-in pack (only one "builtin" per call). */
int bt_rules_load_args(const char *const *args, size_t n, bt_ruleset **out, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
