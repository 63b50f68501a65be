/*
 * buildtrail/codebuild.h - CodeBuild facts: the event names that matter, what a record
 * says about a build (its start and trigger, overrides, a retry, a stop, a state
 * change), the policy that merges those facts into one row per build, and the merged
 * per-build summary the store keeps and the `builds` / `build` views print.
 *
 * Facts come from StartBuild, RetryBuild, StartBuildBatch, StopBuild records and from
 * EventBridge "CodeBuild Build State/Phase Change" events (reference/codebuild.md).
 * Everything here is pure: no I/O, no store.
 * Ownership: strings borrow from the arena / record given to the extractor; the
 * string <-> enum helpers return static strings.
 */
#ifndef BT_CODEBUILD_H
#define BT_CODEBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/event.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the CodeBuild event names that matter (one list) ---- */

enum {
    BT_CB_START = 1 << 0, /* starts a build: StartBuild, RetryBuild, StartBuildBatch */
    BT_CB_STOP = 1 << 1,  /* stops one: StopBuild, StopBuildBatch */
    BT_CB_POLL = 1 << 2,  /* reads its state: BatchGetBuilds */
    BT_CB_LIFECYCLE = BT_CB_START | BT_CB_STOP | BT_CB_POLL,
    BT_CB_FACTS = BT_CB_START | BT_CB_STOP, /* records that carry build facts */
    BT_CB_PROJECT_CHANGE = 1 << 3,          /* changes a project or its source access */
    BT_CB_PROJECT_DEFINITION = 1 << 4,      /* CreateProject, UpdateProject: whole settings,
                                               incl. the service role */
    BT_CB_CREDENTIALS = 1 << 5              /* source credentials: account-wide, no project */
};

typedef struct bt_codebuild_event {
    const char *name; /* eventName (eventSource codebuild.amazonaws.com) */
    unsigned flags;   /* BT_CB_* */
} bt_codebuild_event;

/* The table, in a fixed order: lifecycle names first (StartBuild, RetryBuild,
 * StartBuildBatch, StopBuild, StopBuildBatch, BatchGetBuilds), then the project changes
 * (CreateProject, UpdateProject, UpdateProjectVisibility, DeleteProject, CreateWebhook,
 * UpdateWebhook, DeleteWebhook, InvalidateProjectCache, ImportSourceCredentials,
 * DeleteSourceCredentials, PutResourcePolicy, DeleteResourcePolicy). *n = its length.
 * Static. */
const bt_codebuild_event *bt_codebuild_events(size_t *n);

/* The BT_CB_* flags of an event name (0 when it is none of the table's). */
unsigned bt_codebuild_event_flags(const char *name);

/* 1 if name is in the table with any of flags set. */
int bt_codebuild_event_is(const char *name, unsigned flags);

/* ---- typed values and their strings in the public JSON (docs/builds.md) ---- */

typedef enum bt_build_trigger {
    BT_TRIGGER_NONE = 0,
    BT_TRIGGER_USER,     /* "user" */
    BT_TRIGGER_PIPELINE, /* "pipeline" */
    BT_TRIGGER_WEBHOOK,  /* "webhook" */
    BT_TRIGGER_RETRY,    /* "retry" */
    BT_TRIGGER_BATCH     /* "batch" */
} bt_build_trigger;

typedef enum bt_build_status {
    BT_STATUS_UNKNOWN = 0, /* no outcome known (a query's "UNKNOWN") */
    BT_STATUS_SUCCEEDED,
    BT_STATUS_FAILED,
    BT_STATUS_FAULT,
    BT_STATUS_TIMED_OUT,
    BT_STATUS_STOPPED,
    BT_STATUS_IN_PROGRESS
} bt_build_status;

typedef enum bt_build_status_source {
    BT_SOURCE_NONE = 0,
    BT_SOURCE_EVENTBRIDGE,   /* "eventbridge": a state change event */
    BT_SOURCE_STOPBUILD,     /* "stopbuild": a StopBuild record */
    BT_SOURCE_BATCHGETBUILDS, /* "batchgetbuilds": the API, asked live */
    BT_SOURCE_PHASES          /* "phases": no final state event; inferred from the phase
                                 events (a failed phase gives its status, FINALIZING
                                 completed gives SUCCEEDED when none failed, and the end) */
} bt_build_status_source;

/* Names as printed; NULL for NONE / UNKNOWN. */
const char *bt_build_trigger_name(bt_build_trigger t);
const char *bt_build_status_name(bt_build_status s);
const char *bt_build_status_source_name(bt_build_status_source s);
/* Parses a name (exact, case-sensitive); NONE / UNKNOWN for NULL or anything else. */
bt_build_trigger bt_build_trigger_parse(const char *s);
bt_build_status bt_build_status_parse(const char *s);
bt_build_status_source bt_build_status_source_parse(const char *s);

/* ---- facts of one record ---- */

typedef enum bt_build_fact_kind {
    BT_BF_NONE = 0,
    BT_BF_START,       /* StartBuild: the build was started through the API */
    BT_BF_RETRY,       /* RetryBuild: started as a retry of retry_of */
    BT_BF_BATCH_START, /* StartBuildBatch: a batch build */
    BT_BF_STOP,        /* StopBuild / StopBuildBatch */
    BT_BF_STATE,       /* EventBridge build state change */
    BT_BF_PHASE,       /* EventBridge build phase change */
    BT_BF_ROLE         /* CreateProject / UpdateProject: project runs as service role `role`
                        * (no subject build: uuid is NULL) */
} bt_build_fact_kind;

typedef struct bt_build_facts {
    bt_build_fact_kind kind;
    const char *uuid;
    const char *build_id;
    const char *project;
    int64_t number;           /* -1 when unknown */
    bt_build_trigger trigger; /* NONE when the record does not say */
    const char *initiator;    /* Build.initiator / additional-information.initiator */
    const char *source_version;
    const char *overrides;  /* comma-separated request members ending in "Override" */
    const char *retry_of;   /* build id retried */
    const char *batch_uuid; /* the batch whose session started this build */
    bt_build_status status; /* STATE: build-status; STOP: STOPPED */
    int64_t start_ms;       /* STATE: additional-information.build-start-time, else 0 */
    /* of the record itself */
    int64_t time_ms;
    const char *principal_arn; /* the caller (StartBuild, StopBuild...) */
    const char *account, *region;
    /* PHASE: the time FINALIZING (or COMPLETED) completed, the build's end; else 0 */
    int64_t end_ms;
    const char *role; /* ROLE: the service role's name (the ARN's last part) */
} bt_build_facts;

/* The position of a CodeBuild phase in the sequence a build runs them (SUBMITTED 0,
 * QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD, BUILD, POST_BUILD,
 * UPLOAD_ARTIFACTS, FINALIZING, COMPLETED 10); 11 for a name it does not know. */
int bt_codebuild_phase_order(const char *phase);

/* Fills f from a record (or envelope) already extracted into ev. f->kind is BT_BF_NONE
 * for events that say nothing about a build's lifecycle or a project's service role.
 * 0 or BT_ENOMEM. */
int bt_build_facts_from(bt_arena *a, const bt_json *rec, const bt_event *ev, bt_build_facts *f);

/* As bt_build_facts_from, parsing ev->raw itself (in a) when ev may carry facts.
 * 0 or BT_ENOMEM; a record that does not parse has no facts. */
int bt_build_facts_of(bt_arena *a, const bt_event *ev, bt_build_facts *f);

/* True if ev may carry build facts (cheap test on names, before re-parsing). */
int bt_build_facts_possible(const bt_event *ev);

/* 1 when bt_build_facts_of may find facts in ev: a lifecycle fact of a build it names
 * (bt_build_facts_possible), or a project's service role (BT_BF_ROLE). */
int bt_build_facts_wanted(const bt_event *ev);

/* Deep-copies src's strings into a. 0 or BT_ENOMEM. */
int bt_build_facts_copy(bt_arena *a, const bt_build_facts *src, bt_build_facts *dst);

/* ---- merging facts into one row per build ---- */

/* What a store keeps per build, merged from every fact about it. Strings borrow from
 * whoever set them (the store's copy of the previous row, the facts merged in). */
typedef struct bt_build_row {
    const char *uuid, *build_id, *project, *account, *region;
    int64_t number;   /* -1 unknown */
    int64_t start_ms; /* 0 unknown */
    bt_build_trigger trigger;
    const char *trigger_principal, *initiator, *source_version, *overrides, *retry_of, *batch_uuid,
        *stop_principal;
    int64_t stop_ms; /* 0: not stopped */
    bt_build_status status;
    bt_build_status_source status_source;
    int64_t status_ms, end_ms; /* 0 unknown */
    int is_batch;
} bt_build_row;

/* An empty row (nothing known; number -1). */
void bt_build_row_init(bt_build_row *r);

/* Merges one fact into r (the policy, reference/codebuild.md): the API record of a start
 * is authoritative for start time, trigger, caller, overrides, retry and batch; other
 * facts only fill what is unknown; the earliest stop wins; an EventBridge final state
 * beats a stop, which beats IN_PROGRESS, and among equals the later one wins. Facts of
 * kind NONE or without uuid change nothing. r's strings then borrow from f too. */
void bt_build_merge(bt_build_row *r, const bt_build_facts *f);

/* Rank of an outcome by how final it is: 0 none, 1 IN_PROGRESS from EventBridge, 2 from
 * a stop or the API, 3 a final EventBridge state. */
int bt_build_status_rank(bt_build_status status, bt_build_status_source source);

/* ---- the merged summary ---- */

/* The merged summary of one build (store row + aggregate of its role session). The
 * strings are what the JSON prints; trigger and outcome mirror trigger_type and status
 * as enums (a caller that changes one string updates its enum with the parse helper). */
typedef struct bt_build {
    char uuid[37];
    int is_batch; /* a batch build (StartBuildBatch) */
    const char *build_id, *project, *account, *region;
    int64_t number;                /* -1 unknown */
    int64_t start_ms;              /* 0 unknown */
    const char *trigger_type;      /* see above; "webhook" may be inferred */
    int trigger_inferred;          /* no StartBuild/RetryBuild record was seen */
    const char *trigger_principal; /* caller ARN of StartBuild/RetryBuild */
    const char *initiator, *source_version, *overrides, *retry_of, *batch_uuid;
    const char *stop_principal;
    int64_t stop_ms;
    const char *status;        /* SUCCEEDED, FAILED, STOPPED, ..., NULL unknown */
    const char *status_source; /* "eventbridge", "stopbuild", "batchgetbuilds" */
    int64_t end_ms;            /* 0 unknown */
    uint64_t calls, errors;    /* made by the build's role session */
    int64_t first_call_ms, last_call_ms;
    char retried_as[37];      /* (single-build queries) a build retrying this one */
    bt_build_trigger trigger; /* trigger_type as an enum */
    bt_build_status outcome;  /* status as an enum */
} bt_build;

/* Fills b's row part from r (strings borrowed from r; uuid copied). */
void bt_build_from_row(bt_build *b, const bt_build_row *r);

/* What is inferred once a build's record and session aggregate are in b: with no
 * StartBuild/RetryBuild caller the trigger is inferred (webhook when unknown), the
 * build id is project:uuid, the start is its first call. Strings allocated in a.
 * 0 or BT_ENOMEM. */
int bt_build_infer(bt_arena *a, bt_build *b);

/* ---- which project a build session belongs to, when no record names it ---- */

/* Role name -> project, learned from CreateProject / UpdateProject records (serviceRole). */
typedef struct bt_build_roles bt_build_roles;

bt_build_roles *bt_build_roles_new(void);    /* NULL on allocation failure */
void bt_build_roles_free(bt_build_roles *m); /* accepts NULL */

/* Learns from ev when it is a CreateProject / UpdateProject that succeeded, naming a
 * project and a service role; feed oldest first (the latest change wins). 0 or
 * BT_ENOMEM. */
int bt_build_roles_learn(bt_build_roles *m, const bt_event *ev);

/* Records that role (a service role's name) is project's (both copied into m; a later
 * put for the same role replaces it). 0 or BT_ENOMEM. */
int bt_build_roles_put(bt_build_roles *m, const char *role, const char *project);

/* The service role's name (what follows the ARN's last '/') a CreateProject /
 * UpdateProject record rec names (requestParameters.serviceRole, else
 * responseElements.project.serviceRole), pointing into rec; NULL when it names none. */
const char *bt_codebuild_service_role(const bt_json *rec);

/* The project of a build whose role session is arn ("arn:aws:sts::1:assumed-role/
 * <role>/AWSCodeBuild-<uuid>"): the one m learned for <role> (m may be NULL), else the
 * console's naming "codebuild-<project>-service-role" (a guess), else NULL. The string
 * is in m or in a. */
const char *bt_build_project_from_role(const bt_build_roles *m, bt_arena *a, const char *arn);

#ifdef __cplusplus
}
#endif
#endif
