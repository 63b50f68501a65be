/*
 * buildtrail/lookup.h - what `lookup`, `ingest lookup:` and `build --live` need on top
 * of the LookupEvents client (aws.h): the AWS CLI's pagination tokens, the
 * selectivity order of lookup attributes, matching an attribute locally, turning a
 * LookupEvents event into the record type (bt_event) and into the shape the AWS CLI
 * prints, and the region list of a partition ("--region all").
 *
 * Ownership is stated per function; nothing here prints.
 */
#ifndef BT_LOOKUP_H
#define BT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- tokens -- */

/*
 * The resume token the AWS CLI prints with --max-items (botocore TokenEncoder):
 * base64 of the JSON {"NextToken": <service token or null>} plus
 * "boto_truncate_amount": k when the output was cut k items into the page that
 * service token fetches. truncate < 0 = no truncate amount. Appends to out.
 */
int bt_ct_token_encode(const char *service_token, long truncate, bt_buf *out);

/*
 * Decodes a --starting-token as botocore does: the base64 JSON form above, else the
 * legacy "token___k" form, else the whole string as an opaque service token.
 * *service_token is malloc'd (NULL when the token says null); *truncate is 0 when the
 * token has none. Returns 0, BT_EINVAL (a form botocore rejects too), BT_ENOMEM.
 */
int bt_ct_token_decode(const char *token, char **service_token, long *truncate, bt_error *err);

/* ---------------------------------------------------------- attributes -- */

/* Is key one of the eight LookupEvents attribute keys (exact spelling)? */
int bt_ct_attr_valid(const char *key);

/* How selective an attribute usually is: lower is more selective (EventId 0,
 * AccessKeyId, Username, ResourceName, EventName, ResourceType, EventSource,
 * ReadOnly 7); 100 for an unknown key. Used to pick the one the service filters on. */
int bt_ct_attr_rank(const char *key);

/* Does the LookupEvents event match key=value as the service matches it: the event's
 * own EventId / EventName / ReadOnly / Username / EventSource / AccessKeyId fields,
 * or any of its Resources' ResourceType / ResourceName? Exact, case-sensitive. */
int bt_ct_event_attr_match(const bt_ct_event *ev, const char *key, const char *value);

/* ---------------------------------------------------------------- plan -- */

/* One condition: key is a LookupEvents AttributeKey; values are ORed. Strings are
 * borrowed. */
typedef struct bt_ct_cond {
    const char *key;
    const char *values[BT_FILTER_MAX_VALUES];
    size_t n;
    const char *origin; /* where it came from, for bt_ct_plan_describe: "--lookup-attributes",
                           "--event-name", ... */
} bt_ct_cond;

#define BT_CT_PLAN_MAX_LOCAL (BT_F__COUNT + 72)

/*
 * A query over LookupEvents: the one single-valued attribute the service filters on
 * (an unknown key first, so the service reports it; else the most selective by
 * bt_ct_attr_rank), the other attributes ANDed and applied to each event here, and
 * the filter's other conditions matched on the record. Borrows the conditions and
 * the filter's strings.
 */
typedef struct bt_ct_plan {
    const bt_ct_cond *server;          /* sent to the service (NULL = none) */
    bt_ct_cond local[BT_CT_PLAN_MAX_LOCAL]; /* ANDed, applied to each event here */
    size_t nlocal;
    bt_ct_cond filter_conds[BT_F__COUNT + 1]; /* storage: conditions made from the filter */
    bt_filter record;                  /* the rest of the filter, matched on the record */
    int need_record;
} bt_ct_plan;

/*
 * Builds the plan from nconds attributes (ANDed) and the filter f (its fields that
 * are lookup attributes become conditions; start/end times are left to the request).
 * a holds the option names made for the description. BT_EINVAL when there are too
 * many conditions.
 */
int bt_ct_plan_make(bt_ct_plan *p, const bt_ct_cond *conds, size_t nconds, const bt_filter *f,
                    bt_arena *a, bt_error *err);

/* Does the event pass the local part? 1 yes, 0 no, -1 out of memory (a is scratch). */
int bt_ct_plan_match(const bt_ct_plan *p, bt_arena *a, const bt_ct_event *ev);

/* Appends "sent to the service: K=V (from ORIGIN); applied here: ..." to out.
 * 0 or BT_ENOMEM. */
int bt_ct_plan_describe(const bt_ct_plan *p, bt_buf *out);

/* ------------------------------------------------------------- paging -- */

/* How bt_ct_lookup_pages pages (all zero, or a NULL pointer = defaults). */
typedef struct bt_ct_pages_opts {
    const bt_ct_plan *plan; /* NULL = none. Else its service attribute replaces the
                               request's and its local part picks the events delivered */
    size_t max_pages;       /* 0 = no limit */
    size_t skip_first;      /* events at the head of the first page not delivered (the
                               truncate amount of a --starting-token) */
    bt_arena *arena;        /* NULL = one of its own, reset before every page. Else the
                               pages are parsed into it and it is never reset, so what
                               the callback builds from a page may point into it */
} bt_ct_pages_opts;

/* One page as delivered to the callback. */
typedef struct bt_ct_page_view {
    const bt_ct_lookup_page *page; /* the whole page, as the service sent it */
    const char *token;             /* the NextToken that fetched it; NULL = first page */
    size_t number;                 /* 1 for the first page */
    size_t start;                  /* events before this index were skipped (skip_first) */
    const size_t *kept;            /* indices into page->events of the events that pass
                                      (from start, in order) */
    size_t nkept;
    bt_arena *arena;               /* where the page lives (scratch for the callback) */
} bt_ct_page_view;

/* Return 0 to continue; a positive value to stop (bt_ct_lookup_pages then returns
 * BT_ESTOP); a negative BT_E* code to fail: it is returned as is and err is left as
 * the callback set it (hand the same bt_error to the callback through payload). */
typedef int (*bt_ct_page_fn)(void *payload, const bt_ct_page_view *v);

/*
 * THE LookupEvents pagination loop: from req->next_token (NULL = first page) until a
 * page has no NextToken, opts->max_pages, or the callback stops. Every call goes
 * through the client: its rate limiter paces the calls (2 per second per account
 * and region unless set otherwise), the standard retry mode retries, and a 2xx reply
 * that cannot be read is asked for again. A NextToken equal to the one that fetched
 * the page is an error (BT_EAWS, aws_code "PaginationError"), not an endless loop.
 * *pages (may be NULL) counts the pages fetched.
 */
int bt_ct_lookup_pages(bt_aws_client *c, const bt_ct_lookup_request *req,
                       const bt_ct_pages_opts *opts, bt_ct_page_fn fn, void *payload,
                       size_t *pages, bt_error *err);

/* ------------------------------------------------------------- events -- */

/*
 * The record inside a LookupEvents event (its CloudTrailEvent string) as a bt_event,
 * allocated in a (raw = the CloudTrailEvent text, which lives in the page's arena).
 * BT_ENOTFOUND when the event has no CloudTrailEvent, BT_EPARSE when it is not a JSON
 * object.
 */
int bt_ct_event_record(bt_arena *a, const bt_ct_event *ev, bt_event *out, bt_error *err);

/*
 * The event as the AWS CLI prints it, built in a: the members of the service model
 * in model order (EventId, EventName, ReadOnly, AccessKeyId, EventTime, EventSource,
 * Username, Resources, CloudTrailEvent), absent and null members left out (as
 * botocore does), unknown members dropped, EventTime rendered by
 * bt_format_iso8601_local. NULL on allocation failure.
 */
bt_json *bt_ct_event_cli_value(bt_arena *a, const bt_ct_event *ev);

/*
 * The same shape for a stored record: the members from rec (ReadOnly from its flag,
 * EventTime by bt_format_iso8601_local, Resources always, CloudTrailEvent = the raw
 * record), built in a (strings copied). NULL on allocation failure.
 */
bt_json *bt_ct_record_cli_value(bt_arena *a, const bt_event *rec);

/*
 * The same shape as the LookupEvents API sends it, for a stored record, appended to
 * out as compact JSON (EventTime in epoch seconds, fraction without trailing zeros).
 * The serve path: written straight into the buffer. 0 or BT_ENOMEM.
 */
int bt_ct_record_write(bt_buf *out, const bt_event *rec);

/* Epoch milliseconds of the event's EventTime (0 when it has none). */
int64_t bt_ct_event_time_ms(const bt_ct_event *ev);

/* ------------------------------------------------------------- regions -- */

/* The regions of a partition ("aws", "aws-cn", "aws-us-gov", ...), NULL-terminated,
 * static; the pseudo-regions "*-global" are left out. NULL for an unknown partition. */
const char *const *bt_aws_partition_regions(const char *part);

#ifdef __cplusplus
}
#endif
#endif
