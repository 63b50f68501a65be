/* scan_int.h - the one scan pipeline (pipeline.c), generic over its input. An input
 * (local file list, S3 listing) hands each worker thread the bytes of its next item;
 * the pipeline parses, filters and batches them, runs the consumer's prepare in the
 * worker, and feeds on_batch / on_file_error / on_progress on the calling thread.
 * An input may also post messages of its own to the calling thread (S3 listing pages,
 * checked there against the consumer's store). Internal to src/sources/. */
#ifndef BT_SCAN_INT_H
#define BT_SCAN_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/source.h"

typedef struct scan_worker scan_worker;

/* One item a worker reads. The input fills it in next(); everything it points to stays
 * valid until the input's item_done for it. */
typedef struct scan_item {
    const char *name; /* path, or s3://bucket/key: messages and bt_file_done.path */
    const char *data; /* the bytes (gzip or JSON) */
    size_t len;
    int check_input; /* not named by the user: neither gzip nor JSON = skipped (nonjson) */
    uint64_t size;   /* bt_file_done: size, mtime, etag (NULL for local files) */
    int64_t mtime_ns;
    const char *etag;
    const char *error; /* non-NULL: the item could not be fetched (full message) */
} scan_item;

typedef struct scan_input {
    void *ctx;
    int nworkers;
    size_t batch_events, batch_bytes, arena_size, scratch_size, max_queued;
    int nonjson_bytes; /* count the bytes of skipped non-JSON items in bytes_in */
    /* Optional per worker state (made before the threads start). */
    int (*worker_init)(void *ctx, void **ws, bt_error *err);
    void (*worker_free)(void *ctx, void *ws);
    /* In a worker: 1 with *it filled, 0 when there is nothing more for this worker. May
     * block; call scan_worker_flush before blocking, and give up when
     * scan_worker_stopping. */
    int (*next)(void *ctx, void *ws, scan_worker *w, scan_item *it);
    /* In a worker, after the item's records are batched (optional). */
    void (*item_done)(void *ctx, void *ws, scan_item *it);
    /* On the calling thread: a message a worker posted, live = 0 once the scan is
     * stopping (then only its bookkeeping is due). Non-zero stops the scan. The
     * pipeline frees msg with free_message afterwards, or when it drops it. */
    int (*on_message)(void *ctx, void *msg, int live, bt_read_stats *st, bt_error *err);
    void (*free_message)(void *msg);
    /* On the calling thread: items and bytes known so far, for on_progress. */
    void (*totals)(void *ctx, uint64_t *files, uint64_t *bytes);
    /* The scan stops (consumer or error): wake workers blocked in next(). */
    void (*abort)(void *ctx);
} scan_input;

/* Runs the pipeline. Returns 0, the first non-zero value of on_batch / on_message, or
 * an error (out of memory, no thread). */
int scan_run(const scan_input *in, const bt_scan_opts *o, bt_read_stats *st, bt_error *err);

/* Hands the worker's current batch to the calling thread; 0 when it had none. */
int scan_worker_flush(scan_worker *w);
/* Posts msg to the calling thread (waits while the queue is full). Returns 0 when the
 * scan was abandoned meanwhile: msg was then freed with free_message. */
int scan_worker_post(scan_worker *w, void *msg);
/* The worker ran out of memory: the scan ends with "out of memory while reading". */
void scan_worker_oom(scan_worker *w);
/* The scan is being abandoned: take no new item. */
int scan_worker_stopping(const scan_worker *w);

/* 1 while paths added to l wait to be listed (bt_file_list_add_later), 0 when l is
 * complete. */
int scan_list_pending(const bt_file_list *l);
/* Lists what waits, in the order bt_file_list_add would have, until l->n >= want or
 * nothing waits: walk steps, each listing at most one file. Each change of l's entries
 * is made holding mu (when not NULL), so that others may read the entries under mu
 * meanwhile. Returns the error bt_file_list_add would have (out of memory, directories
 * nested too deeply); the walk under way is then dropped. One caller at a time. */
int scan_list_advance(bt_file_list *l, size_t want, pthread_mutex_t *mu, bt_error *err);

/* Orders a complete list (no path waiting) by delivery hour, stably: the entries whose
 * name carries no CloudTrail delivery stamp (bt_s3_key_delivery_ms: EventBridge and
 * lookup-events files, stdin, failed entries) first, in their order, then the log files
 * hour by hour, within an hour by account and region (the name's start), then by
 * stamp, ties in listing order. An archive walked in path order goes account by region
 * by day, so every account sweeps the whole time range again: ingest reads it an hour at
 * a time instead, so that the store's time-keyed indexes grow at one place at a time,
 * while one account and region's files still come together, so their events share
 * blocks (a build's or a user's records in few blocks). BT_ENOMEM leaves l as it was. */
int scan_list_sort_by_delivery(bt_file_list *l);

void scan_add_stats(bt_read_stats *a, const bt_read_stats *d);

#endif
