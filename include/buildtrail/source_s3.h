/*
 * buildtrail/source_s3.h - reading a CloudTrail trail archive in place in S3.
 *
 * s3://bucket/prefix plus a time window, accounts and regions become the exact day
 * prefixes AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/ (a trail's keys
 * are dated by delivery, so the day after the window's end is read too). What the
 * caller does not name is discovered with delimiter listings (organization ids,
 * accounts, regions; years, months and days when the window has no start), so the
 * bucket is never listed whole. CloudTrail-Digest/ and CloudTrail-Insight/ are never
 * entered.
 *
 * Objects are downloaded and parsed by a pool of workers (one HTTP connection each):
 * the same scan pipeline as bt_scan_files, with the listing as its input, a bounded
 * number of files and batches in memory, and the same bt_scan_opts consumer: bt_batch
 * events plus one bt_file_done per object (path "s3://bucket/key", size, LastModified,
 * ETag). bt_ingest (buildtrail/ingest.h) reads s3:// sources into a store with it.
 */
#ifndef BT_SOURCE_S3_H
#define BT_SOURCE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/aws.h"
#include "buildtrail/aws_s3.h"
#include "buildtrail/error.h"
#include "buildtrail/source.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_s3_scan_spec {
    bt_aws_client *client; /* borrowed; cloned for each worker */
    const char *url;       /* s3://bucket[/prefix] */
    bt_s3_addressing addressing;
    int64_t start_ms;            /* INT64_MIN: no start (days are discovered) */
    int64_t end_ms;              /* INT64_MAX: up to now */
    int64_t now_ms;              /* 0 = the clock */
    const char *const *accounts; /* 12-digit ids to read; none = every account */
    size_t naccounts;
    const char *const *regions; /* regions to read; none = every region */
    size_t nregions;
    int connections; /* parallel requests (workers); 0 = 16 */
    /*
     * Called on the calling thread for each listed object before it is read, with the
     * source key "s3://bucket/key", its size, LastModified (ns) and ETag. Return
     * non-zero to skip it (counted in bt_read_stats.unchanged). NULL = read all.
     */
    int (*skip)(void *ctx, const char *source, uint64_t size, int64_t mtime_ns, const char *etag);
    void *skip_ctx;
    /*
     * nkeys > 0: exactly these keys of url's bucket are read, nothing listed (url's prefix,
     * the window, accounts, regions and skip are not used); each is reported as
     * "s3://bucket/key" with size 0, no mtime and no ETag. An object that does not exist
     * (NoSuchKey, 404) is reported through on_file_error as "s3://bucket/key: NoSuchKey";
     * any other failure to read one (after its retries and requeues) stops the scan as a
     * failure, as a refusal does. For the objects a notification names (watch).
     */
    const char *const *keys; /* borrowed */
    size_t nkeys;
} bt_s3_scan_spec;

/* What the walk did (besides bt_read_stats). */
typedef struct bt_s3_scan_info {
    uint64_t list_requests; /* ListObjectsV2 pages */
    uint64_t get_requests;  /* GetObject calls */
    uint64_t listed;        /* objects listed in the day prefixes */
    uint64_t listed_bytes;
    uint64_t requeued; /* objects tried again after their retries ran out */
    char region[64];   /* the bucket's region as last followed */
    int64_t newest_ms; /* the newest delivery time (bt_s3_key_delivery_ms) of the objects
                          listed, read or skipped as held unchanged; 0 = none */
} bt_s3_scan_info;

/*
 * Reads the archive spec describes. o->filter (optional) is applied in the workers;
 * o->on_batch consumes on the calling thread; o->on_file_error reports one object
 * ("s3://bucket/key") that could not be read or parsed (the scan goes on);
 * o->on_progress is called about 10 times a second with the objects and bytes listed
 * for reading so far as totals. o->threads is not used (spec->connections is).
 *
 * A failure no other object would escape (credentials refused, access denied, no such
 * bucket, a listing that fails after its retries, the endpoint unreachable) stops the
 * walk: objects already being read finish and are delivered, then the error is
 * returned as one line naming the s3:// URL. Returns 0, the first non-zero value of
 * on_batch, or that error. info may be NULL.
 */
int bt_scan_s3(const bt_s3_scan_spec *spec, const bt_scan_opts *o, bt_read_stats *st,
               bt_s3_scan_info *info, bt_error *err);

/* Checks an s3:// URL before anything is read: the bucket name and the CloudTrail
 * prefix layout (BT_EINVAL with a message naming it). */
int bt_s3_scan_check_url(const char *url, bt_error *err);

/* The delivery time (UTC ms, to the minute) a CloudTrail log object's key carries:
 * ..._CloudTrail_<region>_YYYYMMDDTHHMMZ_<random>.json.gz. 0, or BT_EINVAL for a key
 * without it. */
int bt_s3_key_delivery_ms(const char *key, int64_t *ms);

/* ---- exposed for tests ---- */

/* Parses the part of an s3:// URL after the bucket into where the walk starts:
 * root is the "[prefix/]AWSLogs/" part (heap), the rest fixes levels. */
typedef struct bt_s3_walk_start {
    char *root;           /* "[prefix/]AWSLogs/" */
    char org[40];         /* "" when not fixed */
    char account[16];     /* "" when not fixed */
    char region[64];      /* "" when not fixed */
    int year, month, day; /* 0 when not fixed */
} bt_s3_walk_start;

int bt_s3_walk_parse(const char *prefix, bt_s3_walk_start *out, bt_error *err);
void bt_s3_walk_dispose(bt_s3_walk_start *w);

/* The UTC days [*first, *last] (days since the epoch) to list for a window: from the
 * start's day to the day after the end's (end INT64_MAX = now); a fixed year, month or
 * day in the prefix narrows it without the extra day. Returns 0, or 1 when the window
 * has no start (days must be discovered: *first = INT64_MIN). */
int bt_s3_walk_days(const bt_s3_walk_start *w, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                    int64_t *first, int64_t *last);

/* "start-after" key for the first day's listing: objects delivered before the minute
 * of start_ms cannot hold records at or after it. */
void bt_s3_walk_start_after(const char *day_prefix, const char *account, const char *region,
                            int64_t start_ms, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
