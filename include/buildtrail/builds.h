/*
 * buildtrail/builds.h - the CodeBuild build model as the library serves it: which
 * builds to list (a query every store backend filters itself), how a build's end and
 * pipeline are derived from its summary, and the summary as the JSON object that
 * `builds` and `build` print (schema in docs/builds.md); and (below) the timeline of one
 * build as typed structs, from the store or from the event history (`build --live`),
 * with its one JSON writer.
 *
 * Ownership: a bt_build_query borrows every string and array it points to; JSON values
 * are allocated in the arena the caller passes; a bt_timeline owns all its memory (one
 * arena, bt_timeline_free).
 */
#ifndef BT_BUILDS_H
#define BT_BUILDS_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BT_BUILD_QUERY_MAX 64 /* values per list below */

/* Which builds to list. Lists are ORed within, ANDed across; empty = any. */
typedef struct bt_build_query {
    const char *uuid;                         /* one build, or NULL */
    const char *projects[BT_BUILD_QUERY_MAX]; /* exact project names */
    size_t n_projects;
    const char *accounts[BT_BUILD_QUERY_MAX];
    size_t n_accounts;
    const char *regions[BT_BUILD_QUERY_MAX];
    size_t n_regions;
    const char *statuses[BT_BUILD_QUERY_MAX]; /* SUCCEEDED ... IN_PROGRESS, or UNKNOWN
                                                 for builds with no known outcome */
    size_t n_statuses;
    const char *triggers[BT_BUILD_QUERY_MAX]; /* user, pipeline, webhook, retry, batch */
    size_t n_triggers;
    const char *initiators[BT_BUILD_QUERY_MAX]; /* substring of the caller ARN or the
                                                   initiator (pipeline) */
    size_t n_initiators;
    int64_t start_ms, end_ms; /* started within [start, end];
                                 INT64_MIN / INT64_MAX = open */
    int errors_only;          /* its role session had failed calls */
    uint64_t limit;           /* at most this many (newest first); 0 = all */
} bt_build_query;

/* An empty query (every build): open time bounds, no lists. */
void bt_build_query_init(bt_build_query *q);

/* 1 if b passes q (every condition but uuid and limit), else 0. Backends that cannot
 * express a condition in their own query language apply this. */
int bt_build_query_match(const bt_build_query *q, const bt_build *b);

/* Is s one of the trigger types a query accepts (user, pipeline, webhook, retry, batch)? */
int bt_build_trigger_valid(const char *s);

/* The CodePipeline pipeline that started b (its initiator "codepipeline/<name>"), or NULL.
 * Points into b. */
const char *bt_build_pipeline(const bt_build *b);

/* End of a build: the EventBridge end, else the stop time, else its last call (then
 * *estimated = 1). 0 when unknown. */
int64_t bt_build_end(const bt_build *b, int *estimated);

/* The summary as the JSON object `builds` lists and `build` shows under "Build"
 * (docs/builds.md), allocated in a. NULL on allocation failure. */
bt_json *bt_build_to_json(bt_arena *a, const bt_build *b);

typedef struct bt_store bt_store;           /* store.h */

/* ---- short build ids, as git's short hashes (`build 288088e1`, /builds/<prefix>) ---- */

/* If arg is a short build id - the start of a uuid (4 to 35 hex digits and dashes, any
 * case), alone or after "project:" - returns that prefix (pointing into arg), else NULL
 * (a whole uuid, a build id or an ARN are not short ids). */
const char *bt_build_short_prefix(const char *arg);

/* One build a short id matches (strings in the arena given to bt_build_resolve_short). */
typedef struct bt_build_match {
    char uuid[37];
    const char *build_id; /* project:uuid */
    const char *project;
    const char *status;   /* NULL when unknown */
    int64_t start_ms;     /* 0 when unknown */
} bt_build_match;

/*
 * The builds of the store whose uuid starts with the short id arg (and whose project is
 * the one before the colon, when arg names one), newest first: *n is how many there
 * are; the first min(*n, max) are written to out, strings allocated in a. *n == 1 is a
 * unique prefix. Returns 0, BT_EINVAL when arg is not a short id
 * (bt_build_short_prefix), BT_ENOMEM, or the store's error.
 */
int bt_build_resolve_short(bt_store *s, const char *arg, bt_arena *a, bt_build_match *out,
                           size_t max, size_t *n, bt_error *err);

/* ---- the timeline of one build (`buildtrail build`; schema in docs/builds.md) ---- */

typedef struct bt_aws_client bt_aws_client; /* aws.h */

typedef enum bt_timeline_kind {
    BT_TL_CALL = 0, /* "call": made by the build's role session AWSCodeBuild-<uuid> */
    BT_TL_ABOUT,    /* "about": a record naming the build (StartBuild, StopBuild, ...) */
    BT_TL_STATE,    /* "state": EventBridge build state change */
    BT_TL_PHASE     /* "phase": EventBridge build phase change */
} bt_timeline_kind;

/* "call", "about", "state", "phase". */
const char *bt_timeline_kind_name(bt_timeline_kind k);

/* One entry of the timeline. NULL strings are absent values (JSON null). */
typedef struct bt_timeline_event {
    int64_t time_ms;
    bt_timeline_kind kind;
    const char *event_source, *event_name, *username;
    const char *by; /* the caller's principal ARN */
    const char *source_ip, *error_code, *error_message, *event_id;
    const char **resources; /* names of the resources it names */
    size_t n_resources;
    const char *status, *phase; /* STATE (build status) and PHASE (phase status) only */
} bt_timeline_event;

/* One setting a project change touched: old and new are the value as a string, or its
 * compact JSON when it is not a string; NULL when not set (before) or removed (after). */
typedef struct bt_timeline_diff {
    const char *field, *old_value, *new_value;
} bt_timeline_diff;

typedef struct bt_timeline_change {
    int64_t time_ms;
    const char *event_name, *by, *event_id;
    bt_timeline_diff *diffs;
    size_t n_diffs;
} bt_timeline_change;

/* An override in the start request, compared with the project's own setting then. */
typedef struct bt_timeline_override {
    const char *name;          /* request member, or "environment variable NAME" */
    const char *value;         /* string, or compact JSON; NULL when null */
    const char *project_value; /* the project's setting, NULL when not set */
    int changes_project;       /* the override differs from the project's setting */
} bt_timeline_override;

typedef struct bt_timeline_trigger {
    int found; /* a StartBuild / RetryBuild / StartBuildBatch record was seen */
    int64_t time_ms;
    const char *event_name, *by, *source_ip, *user_agent, *event_id;
    bt_timeline_override *overrides;
    size_t n_overrides;
} bt_timeline_trigger;

typedef struct bt_timeline_error_code {
    const char *code;
    uint64_t count;
} bt_timeline_error_code;

/* The role session's calls to one service (event source; "?" when the record has none). */
typedef struct bt_timeline_service {
    const char *event_source;
    uint64_t calls, errors;
    bt_timeline_error_code *codes; /* in order of first appearance */
    size_t n_codes;
} bt_timeline_service;

typedef struct bt_timeline_resource {
    const char *type; /* NULL when the record gives none */
    const char *name;
    uint64_t calls;
} bt_timeline_resource;

/* A phase as CodeBuild BatchGetBuilds reports it (--live), or as the build's EventBridge
 * events do (bt_timeline.phases). */
typedef struct bt_timeline_phase {
    const char *phase, *status;
    int64_t start_ms, end_ms; /* 0 unknown */
    int has_duration;
    double duration_s;
    const char **contexts; /* EventBridge phase-context messages (bt_timeline.phases only) */
    size_t n_contexts;
} bt_timeline_phase;

/* What a live gathering did and what BatchGetBuilds said (the "Live" member). */
typedef struct bt_timeline_live {
    uint64_t lookup_calls, events_fetched;
    int batch_get_builds; /* BatchGetBuilds answered with the build */
    const char *build_status, *current_phase, *resolved_source_version;
    const char *note; /* why there are no phases, or NULL */
    bt_timeline_phase *phases;
    size_t n_phases;
} bt_timeline_live;

/* The timeline of one build. Everything lives in the timeline's own arena; free the
 * whole with bt_timeline_free. Lists are in the order the JSON prints them. */
typedef struct bt_timeline {
    bt_build build;              /* its summary; retried_as set when a later build retried it */
    int64_t window_ms;           /* project changes shown from build start - window_ms */
    const char *window_text;     /* how the window was chosen */
    bt_timeline_change *changes; /* oldest first */
    size_t n_changes;
    bt_timeline_trigger trigger;
    bt_timeline_service *services; /* in order of first call */
    size_t n_services;
    bt_timeline_resource *resources; /* in order of first call */
    size_t n_resources;
    bt_timeline_event *events; /* oldest first */
    size_t n_events;
    const bt_timeline_event **stops; /* StopBuild / StopBuildBatch records (into events) */
    size_t n_stops;
    const bt_timeline_event **errors; /* the role session's failed calls (into events) */
    size_t n_errors;
    const bt_timeline_live *live; /* --live only, else NULL */
    bt_arena *arena;
    /* The phases in CodeBuild's sequence: the additional-information.phases[] of the
     * latest state or phase event that carries it (the final state event's lists every
     * phase), else one per phase event (its end the event's time, its start the end of
     * the phase before); phases the list lacks are added from the phase events. */
    bt_timeline_phase *phases;
    size_t n_phases;
} bt_timeline;

/* The phase named phase in t->phases, or NULL. */
const bt_timeline_phase *bt_timeline_phase_find(const bt_timeline *t, const char *phase);

typedef struct bt_timeline_opts {
    int64_t window_ms;       /* > 0: show project changes this long before the start;
                                0: since the project's previous build, else 7 days */
    const char *window_text; /* with window_ms: how to name it (e.g. "12h"), copied */
} bt_timeline_opts;

/*
 * The timeline of build uuid from the store: its summary; the project's changes in the
 * window, each with its differences; the trigger, its overrides compared with the
 * project's own settings; every record about the build and every call its role session
 * AWSCodeBuild-<uuid> made (per service, per resource, failures); stops. o may be NULL.
 * *out is freed with bt_timeline_free. BT_ENOTFOUND when the store has no such build.
 */
int bt_build_timeline(bt_store *s, const char *uuid, const bt_timeline_opts *o, bt_timeline **out,
                      bt_error *err);
void bt_timeline_free(bt_timeline *t); /* accepts NULL */

/* The document `build --output json` prints (docs/builds.md), allocated in a. NULL on
 * allocation failure. */
bt_json *bt_timeline_to_json(bt_arena *a, const bt_timeline *t);

/* ---- the live timeline (`build --live`): from LookupEvents and BatchGetBuilds ---- */

/* The progress of a live gathering, which the lookup function updates. */
typedef struct bt_timeline_live_state {
    bt_aws_client *cli; /* the client of bt_timeline_live_opts */
    char uuid[37];
    char project[256];                   /* the build's project, once a record names it */
    int64_t first_call_ms, last_call_ms; /* of the build's role session so far */
    uint64_t calls, events;              /* LookupEvents calls; new events stored */
    void *ctx;                           /* bt_timeline_live_opts.lookup_ctx */
} bt_timeline_live_state;

/* One LookupEvents lookup key=value over [from_ms, to_ms] (0 = open), all pages, every
 * event added to s (in its own transactions); it counts calls and new events in st,
 * tracks the first and last call of st->uuid's role session and, from a record about the
 * build, st->project. 0 or a BT_E* code with err set. */
typedef int (*bt_timeline_lookup_fn)(bt_timeline_live_state *st, bt_store *s, const char *key,
                                     const char *value, int64_t from_ms, int64_t to_ms,
                                     bt_error *err);

typedef struct bt_timeline_live_opts {
    bt_aws_client *client; /* borrowed; CloudTrail and CodeBuild endpoints as wanted */
    const char *uuid;
    const char *project;          /* when known (from project:uuid or an ARN), else NULL */
    int64_t start_ms, end_ms;     /* bound the role-session lookup; 0 = from BatchGetBuilds */
    bt_timeline_lookup_fn lookup; /* NULL = the library's: bt_ct_lookup_pages over every
                                     page (50 events each), each page stored in one
                                     transaction (bt_ingest_lookup_page) */
    void *lookup_ctx;
    const char *tmpdir; /* for the private temporary store; NULL = $TMPDIR, else /tmp */
    /* Debug lines (no trailing newline): the default lookup's "build --live: LookupEvents
     * KEY=VALUE: done" (or the error) per lookup; the shape of aws.h's bt_aws_log_fn.
     * NULL = none. */
    void (*log)(void *payload, const char *line);
    void *log_payload;
} bt_timeline_live_opts;

/*
 * The timeline of a build gathered from the event history: BatchGetBuilds for the
 * build's status, times and phases (a refusal is a note, not a failure); LookupEvents
 * for the role session's calls, the start / retry / stop / poll records around the build
 * and the project's changes (into a private temporary store, removed before return);
 * then the same timeline as bt_build_timeline, with t->live set. BT_ENOTFOUND (err: "not
 * in the event history", and the note) when neither knows the build; a failed lookup's
 * error as the lookup function returned it.
 */
int bt_build_timeline_live(const bt_timeline_live_opts *lo, const bt_timeline_opts *o,
                           bt_timeline **out, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
