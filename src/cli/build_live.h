/* build_live.h - `build <id> --live` (build_live.c): gathers the build's events from
 * the event history into a private temporary store that the ordinary timeline code
 * then reads, and adds CodeBuild BatchGetBuilds' status and phases. */
#ifndef BT_BUILD_LIVE_H
#define BT_BUILD_LIVE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/json.h"
#include "cli.h"

/* option ids (cmd_build.c's table) */
enum { BL_LIVE = 500, BL_REGION, BL_PROFILE, BL_ENDPOINT, BL_CB_ENDPOINT, BL_START, BL_END };

typedef struct build_live {
    int on;
    const char *region, *profile, *endpoint, *cb_endpoint;
    int64_t start_ms, end_ms; /* --start-time / --end-time bound the role-session lookup */
    char uuid[37];
    char project[256];
    char dir[PATH_MAX - 16];
    char store_path[PATH_MAX];
    bt_aws_client *cli;
    bt_arena *a;
    const bt_json *build; /* BatchGetBuilds Build (in a), NULL when not available */
    int64_t cb_start_ms, cb_end_ms;
    int64_t first_call_ms, last_call_ms;
    char cb_note[BT_ERROR_MSG_MAX + 32];
    uint64_t calls, events;
} build_live;

void build_live_init(build_live *l);
/* Removes the temporary store. */
void build_live_dispose(build_live *l);
/* Handles the --live options: 0 handled, 1 not ours, -1 bad value (printed). */
int build_live_opt(build_live *l, int id, const char *v);
/* Fetches everything into the temporary store; *store_path is where it is (owned by
 * l). Returns 0 or an exit code after printing why. */
int build_live_prepare(build_live *l, const char *arg, const char *uuid, const char **store_path);
/* Completes a summary from BatchGetBuilds (status, times, number...). */
int build_live_summary(build_live *l, bt_build *b);
/* Adds "Live" (calls, BatchGetBuilds status, phases) to the timeline document. */
int build_live_decorate(build_live *l, bt_arena *a, bt_json *root);
/* The people's rendering of the same. */
void build_live_print(const build_live *l, FILE *f);

#endif
