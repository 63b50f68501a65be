/*
 * buildtrail/ingest.h - reading sources into the store: local files and directories,
 * stdin, and trail archives in S3 (s3://bucket/prefix), in any mix. In the shape of
 * libgit2's git_clone with its transfer-progress callback: options with callbacks for
 * progress, per-source errors and cancellation, statistics filled as it goes.
 *
 * bt_ingest owns what makes an ingest resumable: events are written in batched
 * transactions (a commit every opts.commit_events events or every second) together
 * with the `sources` rows of the files they came from; files and objects the store
 * holds unchanged (size and mtime, or an S3 object's ETag) are skipped unless
 * opts.force; duplicates (same eventID) are counted and dropped by the store. A kill
 * at any moment leaves a consistent store, and the same call resumes.
 *
 * lookup:REGIONS sources (lookup:r1,r2, lookup:all for the partition's regions, lookup:
 * for the configured one) backfill the event history (LookupEvents, every event of the
 * window opts.start_ms .. opts.end_ms; open start = 90 days back, open end = now), the
 * regions in parallel. Each page is written in one transaction together with a cursor
 * (per account, region and endpoint: bt_store_cursor_get/set) holding the NextToken and
 * the parameters it was issued for, so a kill at any moment resumes with the next page;
 * a finished window is not fetched again, and a finished window with an open end fetches
 * only what is new since (with 15 minutes of overlap for events the history shows late;
 * duplicates are dropped). Calls are paced by the client's rate limiter. lookup: sources
 * are read before any file; a region that fails stops the ingest before the files.
 */
#ifndef BT_INGEST_H
#define BT_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/aws.h"
#include "buildtrail/aws_s3.h"
#include "buildtrail/error.h"
#include "buildtrail/filter.h"
#include "buildtrail/lookup.h"
#include "buildtrail/source.h"
#include "buildtrail/source_s3.h"
#include "buildtrail/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_ingest_kind {
    BT_INGEST_AUTO = 0, /* decided by bt_ingest_kind_of(location) */
    BT_INGEST_PATH,     /* a file, or a directory read recursively */
    BT_INGEST_STDIN,    /* "-" */
    BT_INGEST_S3,       /* s3://bucket[/prefix]: a trail archive read in place */
    BT_INGEST_LOOKUP    /* lookup:REGIONS: the event history (LookupEvents) backfilled */
} bt_ingest_kind;

typedef struct bt_ingest_source {
    bt_ingest_kind kind;
    const char *location; /* path, "-", s3:// URL or lookup: spec; borrowed */
} bt_ingest_source;

/* The kind of a location as the command line writes it: "-", "s3://...",
 * "lookup:...", else a path. */
bt_ingest_kind bt_ingest_kind_of(const char *location);

typedef struct bt_ingest_stats {
    bt_read_stats read;   /* files, records, digests, not JSON, errors, bytes (read.unchanged
                             counts S3 objects skipped) */
    uint64_t new_events;  /* stored (from files and s3:// sources) */
    uint64_t duplicates;  /* dropped: already stored (files and s3:// sources) */
    uint64_t unchanged;   /* files and objects skipped as held unchanged (all sources) */
    uint64_t files_total; /* the current scan's files (S3: listed so far) */
    uint64_t bytes_total;
    int source_failed; /* the error bt_ingest returned is a source's (an S3 archive
                          refusing or unreachable, a lookup: region failing): what was
                          read is committed */
    /* lookup: sources */
    uint64_t lookup_pages, lookup_events;   /* pages and events fetched (all regions) */
    uint64_t lookup_new, lookup_duplicates; /* of those: stored, already held */
    int in_lookup; /* bt_ingest returned while reading lookup: sources (cancelled or a
                      region failed): the files and s3:// sources were not read */
} bt_ingest_stats;

/* One region of a lookup: source, as its backfill ended. The strings and err are valid
 * during the lookup_done call. */
typedef struct bt_ingest_lookup_region {
    const char *source;     /* the lookup: location */
    const char *region;     /* NULL = the configured region */
    const char *cursor;     /* the cursor's name: "lookup|ACCOUNT|REGION|ENDPOINT" ("" when the
                               run failed before it was known) */
    uint64_t pages, events; /* fetched by this run */
    uint64_t new_events, duplicates; /* of those: stored, already held */
    int resumed;     /* continued an interrupted run's window from its saved NextToken */
    int incremental; /* the window was done and its end is open: only what is new */
    int already;     /* the window was done before: nothing asked */
    int cancelled;   /* opts.cancel stopped it */
    double seconds;  /* wall time of the region */
    int rc;          /* 0 or the BT_E* code of err */
    const bt_error *err;
    int skipped; /* lookup:all and the credentials are not valid in this region (a region
                    not enabled): rc is set but bt_ingest does not count it as a failure */
} bt_ingest_lookup_region;

/* Progress, on the calling thread about 10 times a second. Non-zero cancels. */
typedef int (*bt_ingest_progress_fn)(const bt_ingest_stats *st, void *payload);
/* A file or object failed (corrupt, truncated, unreadable); the rest still loads.
 * source is the path or s3://bucket/key; err->msg names it. */
typedef void (*bt_ingest_source_error_fn)(const char *source, const bt_error *err, void *payload);
/* An s3:// source was read (rc as its scan returned): what the walk did. */
typedef void (*bt_ingest_s3_done_fn)(const char *url, const bt_s3_scan_info *info, int rc,
                                     void *payload);
/* A lookup: source was read: one call per region, in the order the location names them,
 * after all of its regions ended. */
typedef void (*bt_ingest_lookup_done_fn)(const bt_ingest_lookup_region *r, void *payload);

typedef struct bt_ingest_opts {
    int threads;             /* parser threads for local files; 0 = number of CPUs */
    int force;               /* re-read files held unchanged (duplicates still dropped) */
    const bt_filter *filter; /* only matching records are stored; NULL = all */
    uint64_t commit_events;  /* commit after this many events (or a second); 0 = 200000 */

    /* s3:// sources: what to read and how */
    int64_t start_ms, end_ms;    /* window of delivery days; INT64_MIN / INT64_MAX = open */
    const char *const *accounts; /* none = every account */
    size_t naccounts;
    const char *const *regions; /* none = every region */
    size_t nregions;
    bt_aws_client *s3_client; /* borrowed; NULL = one made from aws per source */
    const bt_aws_config *aws; /* profile, endpoint, log...; NULL = the defaults */
    bt_s3_addressing addressing;
    int s3_connections; /* parallel requests; 0 = 16 */
    size_t max_record;  /* larger records are refused and counted (read.oversized);
                           0 = BT_MAX_RECORD_DEFAULT */

    /* lookup: sources (the window is start_ms .. end_ms above) */
    const bt_aws_config *lookup_aws; /* profile, endpoint_url, lookup_events_rate (the
                                        pacing), user_agent...; the region is set per
                                        region. NULL = aws */

    /* callbacks (each optional), all on the calling thread */
    bt_ingest_progress_fn progress;
    bt_ingest_source_error_fn source_error;
    bt_ingest_s3_done_fn s3_done;
    bt_ingest_lookup_done_fn lookup_done;
    /* Debug lines (no trailing newline; no secrets), possibly from a region's thread. */
    bt_aws_log_fn log;
    /* Polled before every batch is written: non-zero cancels (what was written so far
     * is committed, BT_ESTOP returned). A signal handler may set it. */
    const volatile sig_atomic_t *cancel;
    void *payload; /* passed to the callbacks */
    /* A record of a file or object was rejected (it does not convert; counted in
     * read.rejected, the rest loaded). source as for source_error. May be NULL. */
    void (*reject)(const char *source, const bt_reject *rj, void *payload);
} bt_ingest_opts;

/* Sets the defaults (open window, everything else zero). */
void bt_ingest_opts_init(bt_ingest_opts *o);

/* ---- plan and run (bt_ingest does both) ---- */

/* The sources checked and local paths listed (directories walked), before any store
 * is touched. */
typedef struct bt_ingest_plan bt_ingest_plan;

/*
 * Checks every source in order: an s3:// URL's bucket and CloudTrail prefix layout
 * (BT_EINVAL), the first failure naming it; lookup: sources are kept as given. A path
 * that does not exist or cannot be read (BT_ENOTFOUND, BT_EIO, or BT_EINVAL for a FIFO
 * or device) is kept as a failed entry that bt_ingest_run reports through source_error
 * and counts in read.errors while the rest is read; only when nothing else is left to
 * read is its error returned. *out is freed with bt_ingest_plan_free.
 */
int bt_ingest_plan_new(const bt_ingest_source *src, size_t n, bt_ingest_plan **out, bt_error *err);
void bt_ingest_plan_free(bt_ingest_plan *p); /* accepts NULL */
/* How many local files (directories walked, stdin counted) and s3:// sources the plan
 * holds. */
void bt_ingest_plan_counts(const bt_ingest_plan *p, size_t *files, size_t *s3);
/* How many lookup: sources the plan holds. */
size_t bt_ingest_plan_lookups(const bt_ingest_plan *p);
/* One line about directories the walk skipped as already entered (a symlink loop), or
 * NULL; owned by the plan. */
const char *bt_ingest_plan_warning(const bt_ingest_plan *p);

/*
 * Reads the plan into store: lookup: sources first (each one's regions in parallel),
 * then local files (in parallel), then each s3:// source. *st is reset, then filled.
 * Returns
 *   0          everything read (per-file errors are counted in st->read.errors and
 *              reported through source_error: the rest was stored);
 *   BT_ESTOP   cancelled: what was read so far is committed;
 *   other      an error in err: st->source_failed = 1 when a source failed (what was read
 *              is committed, later s3:// sources are not read; a lookup: region's error
 *              is the first failed region's, every region having been reported through
 *              lookup_done), else the store failed (the open transaction is rolled back).
 */
int bt_ingest_run(bt_store *store, const bt_ingest_plan *p, const bt_ingest_opts *o,
                  bt_ingest_stats *st, bt_error *err);

/* bt_ingest_plan_new + bt_ingest_run. o may be NULL (the defaults). */
int bt_ingest(bt_store *store, const bt_ingest_source *src, size_t n, const bt_ingest_opts *o,
              bt_ingest_stats *st, bt_error *err);

/* The summary of a file / s3:// ingest as `buildtrail ingest` prints it, one line with
 * its newline, into out: text ("files N, records N, new N, duplicate N, skipped N
 * (unchanged N, digest N, not JSON N), errors N, rejected N; S s, R records/s") or json
 * (the --summary json object). 0 or BT_ENOMEM. */
int bt_ingest_summary(bt_buf *out, const bt_ingest_stats *st, double seconds, int json);

/* ---- one LookupEvents page into a store (lookup: sources, build --live) ---- */

/* Sees each record stored from a page and whether it was new. */
typedef void (*bt_ingest_event_fn)(void *ctx, const bt_event *ev, int is_new);
/* Runs inside the page's transaction after its events (e.g. a cursor write); non-zero
 * (a BT_E* code, err set) rolls the page back. */
typedef int (*bt_ingest_txn_fn)(void *ctx, bt_error *err);

/*
 * The records of a LookupEvents page (as bt_ct_lookup_pages delivers it) into s, in one
 * transaction: events without a readable CloudTrailEvent are skipped; each (may be NULL)
 * sees every stored record, before_commit (may be NULL) runs last inside the
 * transaction. *added and *dups count new and already held records. 0, or the failure
 * (the transaction rolled back).
 */
int bt_ingest_lookup_page(bt_store *s, const bt_ct_page_view *v, bt_ingest_event_fn each,
                          bt_ingest_txn_fn before_commit, void *ctx, uint64_t *added,
                          uint64_t *dups, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
