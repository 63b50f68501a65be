/*
 * buildtrail/source.h - reading records from files, directories and stdin, in every
 * container CloudTrail data comes in, recognised by content (not by file name):
 * {"Records":[...]} log files, gzip, JSON arrays, NDJSON, `aws cloudtrail
 * lookup-events` output, EventBridge envelopes; CloudTrail-Digest files are counted
 * and skipped. Also the parallel scan pipeline used by ingest and search --from.
 */
#ifndef BT_SOURCE_H
#define BT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_read_stats {
    uint64_t files;      /* inputs read (including digests and failed ones) */
    uint64_t records;    /* records and build status events found */
    uint64_t matched;    /* of those, passed to the consumer (after the filter) */
    uint64_t digests;    /* CloudTrail-Digest files recognised and skipped */
    uint64_t ignored;    /* JSON values that are neither records nor known envelopes */
    uint64_t unchanged;  /* files skipped because the consumer already has them */
    uint64_t errors;     /* inputs that failed (corrupt, truncated, unreadable) */
    uint64_t nonjson;    /* files met while walking a directory that are neither gzip nor
                            JSON (READMEs, checksums...): skipped, not errors */
    uint64_t bytes_in;   /* bytes read */
    uint64_t bytes_json; /* bytes after decompression */
    uint64_t oversized;  /* records refused for being larger than the record size limit */
    uint64_t bad_parts;  /* lines of NDJSON that were not JSON (skipped, the rest read),
                            gzip data after a complete member, truncated gzip: the file
                            also counts in errors */
    uint64_t rejected;   /* records (and NDJSON lines) skipped as bad, each reported with
                            its index and reason (bt_reject); the rest of the input read */
    uint64_t duplicates; /* bt_scan_opts.dedup: events dropped as an earlier one's eventID */
} bt_read_stats;

/* A record that was skipped: it looks like a CloudTrail record (or is a line of NDJSON)
 * but does not convert (no valid eventTime, not JSON...). Valid during the call. */
typedef struct bt_reject {
    uint64_t index;     /* 0-based position among the input's records (rejected included) */
    const char *reason; /* why, e.g. "record 'ID' has no valid eventTime" */
    const char *raw;    /* its exact bytes (a record, or the line that is not JSON) */
    size_t raw_len;
    int is_json; /* raw is a JSON value (else text that did not parse) */
} bt_reject;

/* Appends rj as one line of NDJSON (newline included) to out:
 * {"source":S,"index":N,"reason":R,"record":RAW} with the record's bytes (line breaks,
 * which JSON allows only as whitespace, written as spaces to keep one line), or
 * "text":"..." (a JSON string) in place of "record" when it was not JSON. 0 or BT_ENOMEM. */
struct bt_buf;
int bt_reject_write(struct bt_buf *out, const char *source, const bt_reject *rj);

/* Sees each rejected record of an input. */
typedef void (*bt_reject_fn)(void *ctx, const bt_reject *rj);

/* The default record size limit: larger than any record CloudTrail emits. */
#define BT_MAX_RECORD_DEFAULT ((size_t)1 << 20)

/* Called for each record; the event and its strings are valid only during the call.
 * Return 0 to continue, non-zero to stop reading (that value is returned). */
typedef int (*bt_event_fn)(void *ctx, const bt_event *ev);

/* True if data looks like an input: gzip, or JSON starting with '{' or '['. */
int bt_looks_like_input(const char *data, size_t len);

/*
 * Reads one input already in memory (gzip or plain). name is used in messages.
 * scratch is reset between records. On a malformed input, records before the error
 * have been delivered; returns BT_EPARSE/BT_ELIMIT with err->msg naming the reason
 * (not the name: the caller prefixes it). Digest files return 0 and count in stats.
 */
int bt_read_data(const char *data, size_t len, bt_arena *scratch, bt_event_fn fn, void *ctx,
                 bt_read_stats *st, bt_error *err);

/*
 * As bt_read_data, skipping without parsing the records that cannot match pre (a
 * record lacking, in its raw bytes, every value of a filter field that always appears
 * verbatim; records with escapes are always parsed). Skipped records are counted in
 * st->records; their structure is checked (a truncated file is still an error) but
 * their contents are not validated. fn still sees only parsed records: apply the
 * filter in fn. pre may be NULL.
 */
int bt_read_data_filtered(const char *data, size_t len, bt_arena *scratch, const bt_filter *pre,
                          bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err);

/*
 * As bt_read_data_filtered, with max_record the largest record accepted, in bytes of
 * JSON (0 = BT_MAX_RECORD_DEFAULT): a bigger one is skipped unparsed and counted in
 * st->oversized, and reading goes on. (bt_read_data and bt_read_data_filtered use the
 * default.) One bad part never costs the rest: a line of NDJSON that is not JSON is
 * skipped and reading resumes at the next line; gzip data after a complete member, or
 * a gzip stream cut short, keeps the records of what decompressed. Each counts in
 * st->bad_parts and the call still returns BT_EPARSE with the first reason, after
 * delivering everything it could.
 */
int bt_read_data_ex(const char *data, size_t len, bt_arena *scratch, const bt_filter *pre,
                    size_t max_record, bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err);

/* Options of bt_read_data_opts (zero = the defaults of bt_read_data). */
typedef struct bt_read_opts {
    const bt_filter *pre;   /* as bt_read_data_filtered; NULL = none */
    size_t max_record;      /* as bt_read_data_ex; 0 = BT_MAX_RECORD_DEFAULT */
    bt_reject_fn on_reject; /* each rejected record (may be NULL); counted in st->rejected */
    void *reject_ctx;
    /* Where gzip input is decompressed: cleared and reused (its memory kept for the next
     * call, which saves a fresh buffer per input); NULL = a buffer of the call's own. The
     * records handed to fn point into it during the call. */
    struct bt_buf *plain;
    /* Non-NULL: while fn runs, *record is the parsed JSON value the event was made from
     * (its src and src_len are the event's raw bytes), or NULL when there is none; it
     * lives in scratch, valid during the call only. */
    const struct bt_json **record;
    /* Non-NULL: a record object the fast boundary scan finds (in Records[], or a
     * top-level value such as an NDJSON line or an EventBridge envelope, whole) whose
     * bytes raw_keep returns false for is counted in st->records and skipped unparsed, as
     * a record pre cannot match is: a consumer's own pre-filter (a rule set's needles).
     * A hint: other records (a bare array's, lookup-events output's strings, one whose
     * end the scan leaves to the parser) are not offered to it. */
    bool (*raw_keep)(void *ctx, const char *rec, size_t len);
    void *raw_ctx;
} bt_read_opts;

/*
 * As bt_read_data_ex, with each rejected record reported through o->on_reject. The one
 * rule for what is a record: a JSON object (at the top, in Records[], in an array, as an
 * EventBridge detail or a lookup-events CloudTrailEvent) holding any of eventVersion,
 * eventID, eventTime, eventName, eventSource; one that does not convert is rejected
 * (counted, reported, the rest read; the call returns BT_EPARSE with the first reason).
 * Objects with none of those keys are ignored (st->ignored); an input that is JSON but
 * holds no record, rejected record, digest or known envelope, only ignored values,
 * returns BT_ENOTFOUND "no CloudTrail records recognised" (the scan reports it for a
 * file named directly; a file met walking a directory is skipped, its values counted
 * in st->ignored only).
 */
int bt_read_data_opts(const char *data, size_t len, bt_arena *scratch, const bt_read_opts *o,
                      bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err);

/* ---- file enumeration ---- */

typedef struct bt_file_info {
    char *path; /* owned by the list */
    uint64_t size;
    int64_t mtime_ns;
    int walked;  /* found by walking a directory (not named by the user) */
    char *error; /* owned; non-NULL: the path could not be listed (an unreadable
                    directory met by the walk, or a path recorded with
                    bt_file_list_add_failed): the scan reports it as a failed input */
} bt_file_info;

typedef struct bt_file_list {
    bt_file_info *v;
    size_t n, alloc;
    char *warning;  /* owned; the first directory loop skipped (and how many), or NULL */
    uint64_t loops; /* directories skipped as already entered (symlink loops, repeats) */
    void *seen;     /* internal: (device, inode) of the directories and files listed */
} bt_file_list;

/* Appends path: a file, a directory (walked recursively, sorted, hidden entries
 * skipped) or "-" for stdin. Errors name the path. Files found by the walk that turn
 * out to be neither gzip nor JSON are skipped by the scan (stats.nonjson); a file
 * named directly must be readable as records, else it is an error. A directory already
 * entered (a symlink loop, or named twice) is skipped and counted in l->loops, the
 * first named in l->warning; a file the walk meets that is already listed (by any
 * path: a symlink, a hard link, named directly) is not listed again, so no walk reads
 * a file twice (a file named directly twice is read twice, as asked). A subdirectory that cannot be
 * read is listed as a failed entry (bt_file_info.error) and the walk goes on. A path named directly
 * that is neither a regular file nor a directory (a FIFO, a device) is refused (BT_EINVAL): stdin
 * is "-". Returns BT_ENOTFOUND / BT_EIO / BT_EINVAL for path itself. */
int bt_file_list_add(bt_file_list *l, const char *path, bt_error *err);
/* As bt_file_list_add, with the same checks and errors for path itself, but the listing
 * - the walk of a directory - is left to bt_scan_files, whose workers list files as they
 * need them, so reading starts at once instead of after the whole walk. Until then
 * l->n does not count what path lists (nor anything added after it). The scan appends
 * to l what bt_file_list_add would have, in the same order, and sets l->warning and
 * l->loops; a walk error bt_file_list_add would have returned (out of memory,
 * directories nested too deeply) stops the scan and is its result. */
int bt_file_list_add_later(bt_file_list *l, const char *path, bt_error *err);
/* Records path as a failed entry with err->msg (the scan reports it, the rest is read):
 * for a caller that goes on after bt_file_list_add failed for one of several paths. */
int bt_file_list_add_failed(bt_file_list *l, const char *path, const bt_error *e);
void bt_file_list_dispose(bt_file_list *l);

/* ---- parallel pipeline ---- */

typedef struct bt_file_done {
    const char *path; /* valid for the batch's lifetime */
    uint64_t size;
    int64_t mtime_ns;
    uint64_t records;
    int failed;       /* non-zero if the file had an error (then not "done") */
    const char *etag; /* S3 sources: the object's ETag (path is s3://bucket/key);
                         NULL for local files */
} bt_file_done;

/* A batch of events produced by one worker, in file order, followed by the files it
 * finished. Owned by the pipeline; valid during on_batch only. */
typedef struct bt_batch {
    bt_event *events;
    size_t n;
    bt_file_done *done;
    size_t n_done;
    void *prepared;   /* what o->prepare made of it in the worker, or NULL */
    const char *note; /* what o->inspect appended in the worker (note_len bytes) */
    size_t note_len;
} bt_batch;

typedef struct bt_scan_opts {
    int threads;             /* parser threads; 0 = number of CPUs */
    const bt_filter *filter; /* applied in the workers; NULL = everything */
    /* Optional, called in the worker thread on each full batch before it is queued, so
     * the consumer's per-batch work that needs no shared state (compression) runs in
     * parallel. Sets *out (passed as bt_batch.prepared); released with release. */
    int (*prepare)(void *ctx, const bt_event *ev, size_t n, void **out);
    void (*release)(void *prepared);
    /* Consumer, called on the calling thread. Non-zero stops the scan. */
    int (*on_batch)(void *ctx, const bt_batch *b);
    size_t max_record; /* the record size limit (bt_read_data_ex); 0 = the default */
    /* A file failed; called on the calling thread. */
    void (*on_file_error)(void *ctx, const char *path, const bt_error *err);
    /* Progress, called on the calling thread about 10 times a second. */
    void (*on_progress)(void *ctx, const bt_read_stats *st, uint64_t files_total,
                        uint64_t bytes_total);
    void *ctx;
    /* A record of path was rejected (bt_read_data_opts); called on the calling thread,
     * before the batch holding the records that followed it. May be NULL. */
    void (*on_reject)(void *ctx, const char *path, const bt_reject *rj);
    /* Non-zero: drop events whose eventID an earlier event of this scan had, as the
     * store does (the first delivered wins; counted in st->duplicates), with a set of
     * 16 bytes per distinct id (a UUID packed, another id hashed to 128 bits). Not
     * combined with prepare. */
    int dedup;
    /* Optional, called in the worker thread for each event that passed the filter, with
     * the JSON value it was read from (rec: its src is ev->raw; NULL when there is none)
     * and a scratch arena of the worker's that the hook may reset; all valid during the
     * call only. The hook may append bytes to note (the batch's: bt_batch.note), so that
     * per-record work that needs no shared state runs in parallel on a record parsed
     * once. Returns 0 to put ev in the batch, 1 to leave it out (saves copying it; still
     * counted in st->matched; dedup does not see it), anything else stops the scan as
     * out of memory. */
    int (*inspect)(void *ctx, const bt_event *ev, const struct bt_json *rec, bt_arena *scratch,
                   struct bt_buf *note);
    /* Optional, called in the worker thread on each record's bytes before it is parsed
     * (bt_read_opts.raw_keep, with ctx): false skips it unparsed (counted in
     * st->records, not st->matched). Thread-safe. */
    bool (*raw_keep)(void *ctx, const char *rec, size_t len);
} bt_scan_opts;

/* Reads all files of l in parallel, listing first what waits to be listed
 * (bt_file_list_add_later: l grows as the workers need files). stats accumulate into
 * st. Returns 0, or the first non-zero value of on_batch, or an error. File-level
 * errors are reported through on_file_error and counted, and do not stop the scan. */
int bt_scan_files(bt_file_list *l, const bt_scan_opts *o, bt_read_stats *st, bt_error *err);

/* ---- matches put in time order (what `search --from` prints) ---- */

/* Events put back in time order in bounded memory, whatever their number: their raw
 * records go through a spool (spool.h; past 16 MiB, sorted runs of a compressed
 * temporary file in $TMPDIR). Newest first (or oldest first), ties by event id; a record
 * delivered twice (the same event id at the same time) comes out once, and of two such
 * copies that differ in bytes (a trail's record and EventBridge's re-serialised one) the
 * shorter, whichever was added first. One thread; the sorter owns its memory. */
typedef struct bt_event_sorter bt_event_sorter;

/* A new sorter (*out, freed with bt_event_sorter_free). keep > 0: only the first keep
 * events of the order will be read (each run keeps that many). 0 or BT_ENOMEM. */
int bt_event_sorter_new(bool oldest_first, size_t keep, bt_event_sorter **out);
void bt_event_sorter_free(bt_event_sorter *s); /* accepts NULL */

/* Copies ev's raw record in (its kind and time with it). 0, BT_ENOMEM, BT_EIO (the
 * temporary file, named in err). */
int bt_event_sorter_add(bt_event_sorter *s, const bt_event *ev, bt_error *err);

/* Sorts what was added; once. 0, BT_ENOMEM, BT_EIO (in err). */
int bt_event_sorter_finish(bt_event_sorter *s, bt_error *err);

/* After finish: calls fn with the first max events in order (max 0: all), each parsed
 * again from its record (as a store re-extracts what it keeps), or with only raw,
 * raw_len and time_ms set when raw_only. ev is valid during the call. Stops at fn's
 * first non-zero return, which it returns; else 0, BT_ENOMEM, BT_EIO (in err). */
int bt_event_sorter_each(bt_event_sorter *s, size_t max, bool raw_only,
                         int (*fn)(void *ctx, const bt_event *ev), void *ctx, bt_error *err);

/* Events in the final order; bytes of records that went through the temporary file,
 * the file's size, and its sorted runs. */
size_t bt_event_sorter_count(const bt_event_sorter *s);
void bt_event_sorter_stats(bt_event_sorter *s, uint64_t *bytes, uint64_t *file_bytes, size_t *runs);

#ifdef __cplusplus
}
#endif
#endif
