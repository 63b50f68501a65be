/* build_follow.h - `build <id> --follow` (build_follow.c): the timeline printed as it
 * grows, from the store or --live, until the build ends or Ctrl-C. */
#ifndef BT_BUILD_FOLLOW_H
#define BT_BUILD_FOLLOW_H

#include "build_live.h"
#include "buildtrail/builds.h"
#include "cli.h"

/* Follows build uuid (arg as the user wrote it) with the timeline options o: from the
 * store of c, or live (l->on). Returns an exit code (0 when it ended or on Ctrl-C). */
int build_follow(const cli_common *c, const build_live_opts *l, const char *arg, const char *uuid,
                 const bt_timeline_opts *o);

#endif
