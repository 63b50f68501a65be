/*
 * buildtrail/xsort.h - an external sorter of fixed-size elements whose memory is bounded
 * by a cap, whatever the number of elements.
 *
 * Elements are pushed into an in-memory run; a run that reaches the cap is sorted and
 * written to an unlinked temporary file. bt_xsort_finish sorts: when no run was written
 * (the common case) everything stays in memory and no file is touched; else the runs are
 * merged (k-way, at most BT_XSORT_FAN_IN at a time, with extra passes when there are
 * more) into one sorted sequence in a temporary file, which bt_xsort_at reads through a
 * window. Memory: mem_cap while pushing (plus, while a run is sorted, qsort's own
 * buffer: in glibc up to the run's size for elements of at most 32 bytes, 16 bytes an
 * element above), about BT_XSORT_FAN_IN x 32 KiB while merging, 64 KiB while reading;
 * the files hold the rest. Elements are copied as bytes
 * (a pointer in one is only meaningful within the process that pushed it). Not
 * thread-safe: one sorter per thread.
 */
#ifndef BT_XSORT_H
#define BT_XSORT_H

#include <stddef.h>

#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BT_XSORT_DEFAULT_CAP ((size_t)4 << 20) /* mem_cap 0 */
#define BT_XSORT_FAN_IN 64                     /* runs merged at once */

typedef struct bt_xsort bt_xsort;

/* A total order (like qsort's): elements cmp holds equal come out in an unspecified
 * order, so make it total (e.g. end with a sequence number) for a deterministic one. */
typedef int (*bt_xsort_cmp)(const void *a, const void *b);
/* While the final sequence is produced: nonzero drops cur, which follows prev (the last
 * element kept) in the sorted order. */
typedef int (*bt_xsort_same)(const void *prev, const void *cur);

/* A new, empty sorter of elem_size-byte elements (*out, freed with bt_xsort_free);
 * mem_cap bounds the in-memory run in bytes (0 = BT_XSORT_DEFAULT_CAP; at least two
 * elements are held). 0, BT_EINVAL (elem_size 0, cmp NULL) or BT_ENOMEM. No file is made
 * until a run must be written. */
int bt_xsort_new(size_t elem_size, bt_xsort_cmp cmp, size_t mem_cap, bt_xsort **out);
void bt_xsort_free(bt_xsort *x); /* accepts NULL; closes (and so deletes) its files */

/* Copies elem (elem_size bytes) in. 0, BT_ENOMEM, BT_EIO (a run could not be written;
 * also when no temporary file can be made, $TMPDIR), BT_EINVAL after bt_xsort_finish. */
int bt_xsort_push(bt_xsort *x, const void *elem);

/* Sorts what was pushed into the final sequence, dropping each element for which
 * same(last kept, element) is nonzero (same NULL: none). Once only; no push after it.
 * 0, BT_ENOMEM, BT_EIO, BT_EINVAL (called twice). */
int bt_xsort_finish(bt_xsort *x, bt_xsort_same same);

/* Elements pushed; after bt_xsort_finish, elements in the final sequence. */
size_t bt_xsort_count(const bt_xsort *x);

/* Copies element i of the final sequence into out (elem_size bytes). Reading i = 0, 1,
 * ... in order is cheap (one read per 64 KiB); any order works, slower. 0, BT_EINVAL (i
 * out of range, before bt_xsort_finish or after it failed), BT_ENOMEM, BT_EIO. */
int bt_xsort_at(bt_xsort *x, size_t i, void *out);

/* Runs written to the file before the merge (0: sorted in memory) and merge passes made
 * (the final one included). */
void bt_xsort_stats(const bt_xsort *x, size_t *runs, unsigned *passes);

#ifdef __cplusplus
}
#endif
#endif
