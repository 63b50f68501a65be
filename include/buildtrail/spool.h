/*
 * buildtrail/spool.h - variable-length records (an alert's JSON, an event's raw record)
 * put back in order in bounded memory, whatever their number and size: what `hunt`
 * stages its alerts and held records in, and what `search --from` sorts its matches in.
 *
 * Each record is put under an entry (bt_spool_ent: a time, an arrival number, a key and
 * a tag the caller sets) into one of a few kinds, each kept apart. A kind's records are
 * staged in memory; once its stage holds stage_cap bytes, they are sorted (the caller's
 * order) and written to an unlinked temporary file ($TMPDIR, made at the first such
 * write) as one run, and their entries go to the kind's external sorter (xsort.h).
 * bt_spool_finish sorts a kind's entries; reading them back in that order merges the
 * runs front to back (each run through a read window of its own, WINDOW_BUDGET shared
 * among them): every byte of the file is read once. A kind whose records all fit in one
 * stage, while no run of any kind went to the file, touches no file.
 *
 * Memory: the stages (stage_cap bytes each, plus 72 bytes an entry), the sorters
 * (sort_cap each), and 8 MiB of read windows (compressed: one frame of ~64 KiB a run);
 * the file holds the rest. With keep set,
 * each run holds only its first keep distinct entries (same decides), so a spool that
 * must only produce the first keep entries of the order writes keep entries a run.
 *
 * With compress, runs are sorted, compressed and written by a thread of the spool's own
 * while the caller stages more (one run in flight); otherwise in the caller's thread.
 * Not thread-safe otherwise: one spool per caller thread. The library never prints;
 * errors are codes.
 */
#ifndef BT_SPOOL_H
#define BT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/xsort.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BT_SPOOL_MAX_KINDS 4
#define BT_SPOOL_STAGE_CAP ((size_t)6 << 20) /* stage_cap 0 */
#define BT_SPOOL_SORT_CAP ((size_t)4 << 20)  /* sort_cap 0 */

/* An entry: the caller sets time_ms, seq, tag and key; the spool sets off and len (where
 * the record lies). Entries are copied as bytes through the sorters' files. */
typedef struct bt_spool_ent {
    int64_t time_ms;
    uint64_t seq; /* arrival: makes an order total */
    uint64_t off;
    uint32_t len;
    uint32_t tag;
    char key[40]; /* an event id ("" for none); longer keys are cut */
} bt_spool_ent;

typedef struct bt_spool_opts {
    size_t kinds;       /* 1..BT_SPOOL_MAX_KINDS (0: 1) */
    bt_xsort_cmp cmp;   /* the order of entries (bt_spool_ent); required, total */
    size_t stage_cap;   /* bytes staged per kind before a run is written (0: default) */
    size_t sort_cap;    /* memory of each kind's entry sorter (0: default) */
    size_t keep;        /* 0: every entry; else each run keeps its first keep distinct */
    bt_xsort_same same; /* with keep: which entries count as one (NULL: none do) */
    bool compress;      /* runs written as zstd frames of ~64 KiB of whole records (JSON:
                           5-9x less file, for the CPU of compressing it once and reading
                           it back once); each run's window then holds a frame */
} bt_spool_opts;

typedef struct bt_spool bt_spool;

/* An order for entries: oldest first, then by key, then by tag, then by arrival
 * (total). */
int bt_spool_cmp_time_key(const void *a, const void *b);
/* Entries that are one record delivered twice: the same non-empty key at the same time. */
int bt_spool_same_time_key(const void *prev, const void *cur);

/* A new spool (*out, freed with bt_spool_free). 0, BT_EINVAL (no cmp, too many kinds) or
 * BT_ENOMEM. */
int bt_spool_new(const bt_spool_opts *o, bt_spool **out);
void bt_spool_free(bt_spool *sp); /* accepts NULL; closes (and so deletes) its file */

/* Stages len bytes of kind under x (copied; x->off and x->len set). Past stage_cap a run
 * is written, unless hold (the caller takes staged records out with bt_spool_drain).
 * 0, BT_ENOMEM, BT_EIO (the file could not be made or written), BT_EINVAL (kind finished
 * or released, len over 4 GiB). */
int bt_spool_put(bt_spool *sp, int kind, bt_spool_ent *x, const void *p, size_t len, bool hold);

/* Bytes of kind staged in memory now. */
size_t bt_spool_staged(const bt_spool *sp, int kind);

/* Writes kind's staged records to the file as one run now. 0, BT_ENOMEM, BT_EIO. */
int bt_spool_flush(bt_spool *sp, int kind);

/* Hands kind's staged records whose time is below `below` to fn in order (fn's record
 * pointer valid during the call) and keeps the rest staged. Stops at fn's first
 * non-zero return, which it returns (the records handed over, that one included, are
 * gone). */
int bt_spool_drain(bt_spool *sp, int kind, int64_t below,
                   int (*fn)(void *ctx, const bt_spool_ent *x, const char *rec), void *ctx);

/* Sorts kind: its last stage joins the file when runs went there, else stays in
 * memory; then its entries are ordered, dropping each that same(last kept, it) holds
 * (same NULL: none). Once per kind; nothing of kind may be put after. 0, BT_ENOMEM,
 * BT_EIO, BT_EINVAL (twice). */
int bt_spool_finish(bt_spool *sp, int kind, bt_xsort_same same);

/* After bt_spool_finish: the entries of kind in the final order. */
size_t bt_spool_count(const bt_spool *sp, int kind);

/* Entry i of kind's final order into *x (may be NULL) and its record into *rec (len
 * x->len bytes, valid until the next call on the spool). Reading i = 0, 1, ... in order
 * reads every byte once. 0, BT_EINVAL (before finish, released, out of range),
 * BT_ENOMEM, BT_EIO. */
int bt_spool_at(bt_spool *sp, int kind, size_t i, bt_spool_ent *x, const char **rec);

/* Frees kind's sorter once it has been read (its memory and sorted file go); the kind
 * cannot be used after. */
void bt_spool_release(bt_spool *sp, int kind);

/* Bytes of records written to the file, the file's own size (compressed: less; may be
 * NULL) and the runs there, all kinds (once the writer is idle). */
void bt_spool_stats(bt_spool *sp, uint64_t *bytes, uint64_t *file_bytes, size_t *runs);

#ifdef __cplusplus
}
#endif
#endif
