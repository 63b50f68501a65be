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
