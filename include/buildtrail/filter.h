/*
 * buildtrail/filter.h - the search filter: one structure that is evaluated in memory
 * (direct file scans), turned into SQL by the store, and split for LookupEvents.
 *
 * Semantics: repeats of one field are ORed, different fields are ANDed. The time range
 * is inclusive. Values are matched exactly (case-sensitive), like LookupEvents.
 * Ownership: the filter stores borrowed pointers to the values given to it; keep them
 * alive as long as the filter (argv strings usually).
 */
#ifndef BT_FILTER_H
#define BT_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "buildtrail/error.h"
#include "buildtrail/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_filter_field {
    BT_F_EVENT_NAME = 0,
    BT_F_EVENT_SOURCE,
    BT_F_USERNAME,
    BT_F_RESOURCE_NAME,
    BT_F_RESOURCE_TYPE,
    BT_F_ACCESS_KEY_ID,
    BT_F_EVENT_ID,
    BT_F_ERROR_CODE,
    BT_F_SOURCE_IP,
    BT_F_ACCOUNT,
    BT_F_REGION,
    BT_F_PROJECT,
    BT_F_BUILD,        /* build uuid (normalised from id / uuid / ARN): matches events about
                          the build and the calls its role session made */
    BT_F_PRINCIPAL,    /* principal ARN */
    BT_F__COUNT
} bt_filter_field;

#define BT_FILTER_MAX_VALUES 64

typedef struct bt_filter {
    int64_t start_ms;  /* INT64_MIN when unset */
    int64_t end_ms;    /* INT64_MAX when unset */
    int read_only;     /* -1 any, 0 only writes, 1 only reads */
    bool errors_only;  /* any errorCode */
    unsigned kinds;    /* bitmask of (1 << bt_event_kind); 0 = API calls + build status */
    unsigned missing_ok; /* bitmask of (1 << bt_filter_field) of the fields with values
                          * that a record without the field matches too (honoured for
                          * the name, source, error code, account, region and project) */
    const char *values[BT_F__COUNT][BT_FILTER_MAX_VALUES];
    unsigned nvalues[BT_F__COUNT];
} bt_filter;

void bt_filter_init(bt_filter *f);

/* Adds a value for field (ORed with earlier ones). BT_F_BUILD values are normalised to
 * the uuid; the normalised string is written back into an internal slot, so value may
 * be freed only if the field is not BT_F_BUILD... (it is never freed by the filter).
 * Returns BT_EINVAL with a message for a bad value or too many values. */
int bt_filter_add(bt_filter *f, bt_filter_field field, const char *value, bt_error *err);

/* Sets read-only from "true"/"false" (LookupEvents' strings). */
int bt_filter_set_read_only(bt_filter *f, const char *value, bt_error *err);

bool bt_filter_match(const bt_filter *f, const bt_event *ev);

/* True if the filter constrains nothing but (maybe) time. */
bool bt_filter_is_empty(const bt_filter *f);

/* Name of a field as a CLI option ("event-name") and as a LookupEvents AttributeKey
 * ("EventName", or NULL when the API has no such attribute). */
const char *bt_filter_field_option(bt_filter_field field);
const char *bt_filter_field_attribute(bt_filter_field field);

/* Accepts "project:uuid", a bare uuid, a build ARN, or "AWSCodeBuild-<uuid>" and
 * returns a pointer to the 36-char uuid inside s (not NUL-terminated if more follows),
 * or NULL. */
const char *bt_filter_build_uuid(const char *s);

/* Hint for filters that cannot match what people think: "BuildPhaseChange" and
 * near-misses of CodeBuild API names. Returns a static or arena-free string owned by
 * the caller (free()), or NULL when the value looks fine. */
char *bt_filter_hint(bt_filter_field field, const char *value);

#ifdef __cplusplus
}
#endif
#endif
