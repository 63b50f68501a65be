/*
 * mfind.h - whether any of a few literals occurs in a buffer, ASCII case-insensitively:
 * the rules' raw pre-filter (bt_rules_prefilter) and the build tracker's (which records
 * may carry a build) look through every byte of every record, so this is one pass for
 * all the literals, each anchored on its two rarest bytes (by their frequency in
 * CloudTrail JSON), 32 positions at a time with AVX2 (16 with SSE2), the positions
 * where both anchors agree compared in full.
 *
 * Ownership: bt_mfind_new copies the literals; the finder is read-only after it is made
 * and may be used from any number of threads at once.
 */
#ifndef BT_MFIND_H
#define BT_MFIND_H

#include <stdbool.h>
#include <stddef.h>

/* The most literals one finder takes (each adds a compare per position). */
#define BT_MFIND_MAX 16

typedef struct bt_mfind bt_mfind;

/* A finder of the n literals (lens[i] bytes each, at least 1; n at most BT_MFIND_MAX).
 * 0, BT_EINVAL or BT_ENOMEM. */
int bt_mfind_new(const char *const *lits, const size_t *lens, size_t n, bt_mfind **out);
void bt_mfind_free(bt_mfind *m); /* accepts NULL */

/* True when one of the literals occurs in h[0..len), ASCII case-insensitively. */
bool bt_mfind_any(const bt_mfind *m, const char *h, size_t len);
/* Where one occurs in h[0..len) (the first one, with a single literal), or NULL. */
const char *bt_mfind_find(const bt_mfind *m, const char *h, size_t len);
/* Which one (its index in lits) bt_mfind_find finds, or -1. */
int bt_mfind_which(const bt_mfind *m, const char *h, size_t len);

#endif
