/*
 * buildtrail/builds.h - the CodeBuild build model as the library serves it: which
 * builds to list (a query every store backend filters itself), how a build's end and
 * pipeline are derived from its summary, and the summary as the JSON object that
 * `builds` and `build` print (schema in docs/builds.md).
 *
 * Ownership: a bt_build_query borrows every string and array it points to; JSON values
 * are allocated in the arena the caller passes.
 */
#ifndef BT_BUILDS_H
#define BT_BUILDS_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BT_BUILD_QUERY_MAX 64 /* values per list below */

/* Which builds to list. Lists are ORed within, ANDed across; empty = any. */
typedef struct bt_build_query {
    const char *uuid;                         /* one build, or NULL */
    const char *projects[BT_BUILD_QUERY_MAX]; /* exact project names */
    size_t n_projects;
    const char *accounts[BT_BUILD_QUERY_MAX];
    size_t n_accounts;
    const char *regions[BT_BUILD_QUERY_MAX];
    size_t n_regions;
    const char *statuses[BT_BUILD_QUERY_MAX]; /* SUCCEEDED ... IN_PROGRESS, or UNKNOWN
                                                 for builds with no known outcome */
    size_t n_statuses;
    const char *triggers[BT_BUILD_QUERY_MAX]; /* user, pipeline, webhook, retry, batch */
    size_t n_triggers;
    const char *initiators[BT_BUILD_QUERY_MAX]; /* substring of the caller ARN or the
                                                   initiator (pipeline) */
    size_t n_initiators;
    int64_t start_ms, end_ms; /* started within [start, end];
                                 INT64_MIN / INT64_MAX = open */
    int errors_only;          /* its role session had failed calls */
    uint64_t limit;           /* at most this many (newest first); 0 = all */
} bt_build_query;

/* An empty query (every build): open time bounds, no lists. */
void bt_build_query_init(bt_build_query *q);

/* 1 if b passes q (every condition but uuid and limit), else 0. Backends that cannot
 * express a condition in their own query language apply this. */
int bt_build_query_match(const bt_build_query *q, const bt_build *b);

/* Is s one of the trigger types a query accepts (user, pipeline, webhook, retry, batch)? */
int bt_build_trigger_valid(const char *s);

/* The CodePipeline pipeline that started b (its initiator "codepipeline/<name>"), or NULL.
 * Points into b. */
const char *bt_build_pipeline(const bt_build *b);

/* End of a build: the EventBridge end, else the stop time, else its last call (then
 * *estimated = 1). 0 when unknown. */
int64_t bt_build_end(const bt_build *b, int *estimated);

/* The summary as the JSON object `builds` lists and `build` shows under "Build"
 * (docs/builds.md), allocated in a. NULL on allocation failure. */
bt_json *bt_build_to_json(bt_arena *a, const bt_build *b);

#ifdef __cplusplus
}
#endif
#endif
