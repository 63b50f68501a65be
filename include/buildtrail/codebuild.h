/*
 * buildtrail/codebuild.h - CodeBuild facts: what a record says about a build (its
 * start and trigger, overrides, a retry, a stop, a state change), and the merged
 * per-build summary the store keeps and the `builds` / `build` views print.
 *
 * Facts come from StartBuild, RetryBuild, StartBuildBatch, StopBuild records and from
 * EventBridge "CodeBuild Build State/Phase Change" events (reference/codebuild.md).
 * Ownership: strings borrow from the arena / record given to the extractor.
 */
#ifndef BT_CODEBUILD_H
#define BT_CODEBUILD_H

#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/event.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_build_fact_kind {
    BT_BF_NONE = 0,
    BT_BF_START,       /* StartBuild: the build was started through the API */
    BT_BF_RETRY,       /* RetryBuild: started as a retry of retry_of */
    BT_BF_BATCH_START, /* StartBuildBatch: a batch build */
    BT_BF_STOP,        /* StopBuild / StopBuildBatch */
    BT_BF_STATE,       /* EventBridge build state change */
    BT_BF_PHASE        /* EventBridge build phase change */
} bt_build_fact_kind;

typedef struct bt_build_facts {
    bt_build_fact_kind kind;
    const char *uuid;
    const char *build_id;
    const char *project;
    int64_t number;            /* -1 when unknown */
    const char *trigger_type;  /* "user", "pipeline", "retry", "batch", "webhook" */
    const char *initiator;     /* Build.initiator / additional-information.initiator */
    const char *source_version;
    const char *overrides;     /* comma-separated request members ending in "Override" */
    const char *retry_of;      /* build id retried */
    const char *batch_uuid;    /* the batch whose session started this build */
    const char *status;        /* STATE: build-status; STOP: "STOPPED" */
    int64_t start_ms;          /* STATE: additional-information.build-start-time, else 0 */
} bt_build_facts;

/* Fills f from a record (or envelope) already extracted into ev. f->kind is BT_BF_NONE
 * for events that say nothing about a build's lifecycle. 0 or BT_ENOMEM. */
int bt_build_facts_from(bt_arena *a, const bt_json *rec, const bt_event *ev, bt_build_facts *f);

/* True if ev may carry build facts (cheap test on names, before re-parsing). */
int bt_build_facts_possible(const bt_event *ev);

/* The merged summary of one build (store row + aggregate of its role session). */
typedef struct bt_build {
    char uuid[37];
    int is_batch;                    /* a batch build (StartBuildBatch) */
    const char *build_id, *project, *account, *region;
    int64_t number;                  /* -1 unknown */
    int64_t start_ms;                /* 0 unknown */
    const char *trigger_type;        /* see above; "webhook" may be inferred */
    int trigger_inferred;            /* no StartBuild/RetryBuild record was seen */
    const char *trigger_principal;   /* caller ARN of StartBuild/RetryBuild */
    const char *initiator, *source_version, *overrides, *retry_of, *batch_uuid;
    const char *stop_principal;
    int64_t stop_ms;
    const char *status;              /* SUCCEEDED, FAILED, STOPPED, ..., NULL unknown */
    const char *status_source;       /* "eventbridge", "stopbuild", "batchgetbuilds" */
    int64_t end_ms;                  /* 0 unknown */
    uint64_t calls, errors;          /* made by the build's role session */
    int64_t first_call_ms, last_call_ms;
    char retried_as[37];             /* (single-build queries) a build retrying this one */
} bt_build;

#ifdef __cplusplus
}
#endif
#endif
