/*
 * buildtrail/event.h - the one record type that flows through buildtrail: a parsed
 * CloudTrail record (or CodeBuild EventBridge status event) plus the fields extracted
 * from it once (DESIGN.md "Event fields").
 *
 * Ownership: a bt_event borrows everything (strings, raw bytes, resources) from the
 * bt_arena it was extracted into, and from the input text for raw. bt_event_copy()
 * makes a self-contained copy in another arena. Absent fields are NULL.
 */
#ifndef BT_EVENT_H
#define BT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_event_kind {
    BT_KIND_API = 0,         /* a CloudTrail record (AwsApiCall, AwsServiceEvent, console...) */
    BT_KIND_BUILD_STATE = 1, /* EventBridge "CodeBuild Build State Change" */
    BT_KIND_BUILD_PHASE = 2, /* EventBridge "CodeBuild Build Phase Change" */
    BT_KIND_INSIGHT = 3      /* CloudTrail Insights record */
} bt_event_kind;

typedef struct bt_resource {
    const char *type; /* e.g. "AWS::CodeBuild::Project"; may be NULL */
    const char *name; /* ARN or name */
} bt_resource;

typedef struct bt_event {
    const char *raw; /* exact bytes of the record / envelope */
    size_t raw_len;
    bt_event_kind kind;
    int64_t time_ms; /* eventTime (or envelope time), UTC epoch ms */
    int read_only;   /* 1, 0, or -1 when the record does not say */

    const char *event_id;
    const char *event_name;   /* eventName, or the EventBridge detail-type */
    const char *event_source; /* eventSource, or "aws.codebuild" */
    const char *region;
    const char *account; /* recipientAccountId, else userIdentity.accountId */
    const char *identity_type;
    const char *principal_arn;
    const char *principal_id;
    const char *username;     /* as LookupEvents shows it */
    const char *session_name; /* role session name for assumed roles */
    const char *access_key_id;
    const char *invoked_by;
    const char *source_ip;
    const char *user_agent;
    const char *error_code;
    const char *error_message;
    const char *event_type;
    const char *request_id;

    /* CodeBuild derivations */
    const char *project;      /* project name */
    const char *build_id;     /* "project:uuid" of the build the event is about */
    const char *build_uuid;   /* uuid of build_id (the subject build) */
    const char *actor_uuid;   /* the build whose role session AWSCodeBuild-<uuid> made
                                 the call (the actor), when it is one */
    const char *build_status; /* build status events: detail.build-status */
    const char *build_phase;  /* phase events: detail.completed-phase; state: current-phase */
    const char *phase_status; /* phase events: detail.completed-phase-status */

    bt_resource *resources;
    size_t n_resources;
} bt_event;

/* Extracts the fields of a CloudTrail record. raw is taken from rec->src. Returns 0,
 * BT_EPARSE when rec is not an object, BT_ENOMEM. */
int bt_event_from_record(bt_arena *a, const bt_json *rec, bt_event *ev, bt_error *err);
/* The same without the resources (resources stays NULL): for a caller that needs only
 * the event's own fields and its CodeBuild derivations (a hunt: the rules read the
 * record itself), about a quarter of the work. */
int bt_event_from_record_lite(bt_arena *a, const bt_json *rec, bt_event *ev, bt_error *err);

/* Extracts a CodeBuild build state/phase EventBridge event (raw = the envelope).
 * Returns BT_ENOTFOUND if env is not one of those two detail-types. */
int bt_event_from_build_status(bt_arena *a, const bt_json *env, bt_event *ev, bt_error *err);

/* The event of a record kept as raw bytes with its kind (a store's row, a spooled
 * match): parsed into a (*rec, may be NULL), then bt_event_from_build_status for build
 * state and phase events, else bt_event_from_record (lite: _lite); ev->raw is raw
 * itself. 0, BT_EPARSE, BT_ENOTFOUND, BT_ENOMEM (err may be NULL). */
int bt_event_from_raw(bt_arena *a, const char *raw, size_t len, bt_event_kind kind, bool lite,
                      bt_json **rec, bt_event *ev, bt_error *err);

/* Deep-copies src (strings, raw, resources) into dst's arena. 0 or BT_ENOMEM. */
int bt_event_copy(bt_arena *dst, const bt_event *src, bt_event *out);

/* One entry of the resource table (src/core/resources.c, docs/store.md "Resources"):
 * calls of `source` named `event` ("*": every call of the source) name a resource of
 * `type` (as the CloudTrail event history names it) at `path`, a dotted path from
 * "requestParameters" or "responseElements" where "name[]" walks every item of an
 * array, e.g. "responseElements.instancesSet.items[].instanceId". */
typedef struct bt_resource_rule {
    const char *source;
    const char *event;
    const char *path;
    const char *type;
} bt_resource_rule;

/* The table, flattened for listing: the rules of each source (sources in bytewise
 * order), its "*" rules first, then its call rules sorted by event. bt_resource_rule_at
 * returns NULL from index bt_resource_rule_count() on. Static storage, never freed. */
size_t bt_resource_rule_count(void);
const bt_resource_rule *bt_resource_rule_at(size_t i);

/* Called for every non-empty string a rule finds; name is borrowed from the record.
 * A non-zero return stops the walk and is returned by bt_resource_rules_apply. */
typedef int (*bt_resource_fn)(void *ctx, const bt_resource_rule *rule, const char *name);

/* Applies the rules of (source, event) to a record's requestParameters (req) and
 * responseElements (resp), either may be NULL: first the source's "*" rules, then
 * those of the event, each in table order. Dispatch is a binary search for the source,
 * then one for the event among the source's call rules; nothing is allocated. Returns
 * 0 or fn's non-zero value. bt_event_from_record adds what this finds to the record's
 * own resources (deduplicated, at most 64: later ones are dropped). */
int bt_resource_rules_apply(const bt_json *req, const bt_json *resp, const char *source,
                            const char *event, bt_resource_fn fn, void *ctx);

/* If s contains "AWSCodeBuild-<uuid>", returns a pointer to the uuid (36 chars), else NULL. */
const char *bt_event_codebuild_session_uuid(const char *s);

/* Parses an EventId that is a canonical UUID into 16 bytes; returns 1 if it was one. */
int bt_event_uuid_pack(const char *s, unsigned char out[16]);

#ifdef __cplusplus
}
#endif
#endif
