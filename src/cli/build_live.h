/* build_live.h - `build <id> --live` (build_live.c): its options, the AWS client handed
 * to the library's live timeline (bt_build_timeline_live), and the people's rendering of
 * what the gathering did (the "Live" member). */
#ifndef BT_BUILD_LIVE_H
#define BT_BUILD_LIVE_H

#include <stdint.h>
#include <stdio.h>

#include "buildtrail/builds.h"
#include "cli.h"

/* option ids (cmd_build.c's table) */
enum { BL_LIVE = 500, BL_REGION, BL_PROFILE, BL_ENDPOINT, BL_CB_ENDPOINT, BL_START, BL_END };

typedef struct build_live_opts {
    int on;
    const char *region, *profile, *endpoint, *cb_endpoint;
    int64_t start_ms, end_ms; /* --start-time / --end-time bound the role-session lookup */
} build_live_opts;

/* Handles the --live options: 0 handled, 1 not ours, -1 bad value (printed). */
int build_live_opt(build_live_opts *l, int id, const char *v);
/* The live timeline of the build arg names (uuid: its uuid). *out is freed with
 * bt_timeline_free. Returns 0 or an exit code after printing why. */
int build_live_timeline(const build_live_opts *l, const char *arg, const char *uuid,
                        const bt_timeline_opts *o, bt_timeline **out);
/* The people's rendering of the "Live" part. */
void build_live_print(const bt_timeline_live *l, FILE *f);

#endif
