/*
 * buildtrail/timeline_follow.h - following a running build's timeline as it grows
 * (`buildtrail build <id> --follow`): the timeline is made again every interval by the
 * caller's fetch function (from a store that `watch` fills, or live from LookupEvents
 * with bt_build_timeline_live), each entry not handed out before goes to on_event once,
 * oldest first, and the follow ends when the build has an outcome.
 */
#ifndef BT_TIMELINE_FOLLOW_H
#define BT_TIMELINE_FOLLOW_H

#include <signal.h>
#include <stdint.h>

#include "buildtrail/builds.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Has the build of t an outcome (a final status: SUCCEEDED, FAILED, FAULT, TIMED_OUT,
 * STOPPED)? */
int bt_timeline_ended(const bt_timeline *t);

typedef struct bt_timeline_follow_opts {
    /* Makes the timeline now: *out (freed by the follow with bt_timeline_free), 0, or a
     * BT_E* code with err set (BT_ENOTFOUND: the build is not known yet). */
    int (*fetch)(void *ctx, bt_timeline **out, bt_error *err);
    /* Each entry once (an entry's identity: its event id, else its kind, time, name and
     * phase), in the timeline's order; t is the timeline it is in (valid during the call). */
    void (*on_event)(void *ctx, const bt_timeline *t, const bt_timeline_event *e);
    /* Once, with the timeline that first has an outcome (after its entries). May be NULL. */
    void (*on_end)(void *ctx, const bt_timeline *t);
    void *ctx;
    int64_t interval_ms; /* between fetches; 0 = 1000 */
    int wait_known;      /* the build not known yet (BT_ENOTFOUND) is waited for; 0 = it
                            is an error on the first fetch */
    const volatile sig_atomic_t *stop; /* non-zero: return 0 at the next check */
} bt_timeline_follow_opts;

/* Follows until the build has an outcome (0), *stop (0), or a fetch fails (its code). */
int bt_timeline_follow(const bt_timeline_follow_opts *o, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
