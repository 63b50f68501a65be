/* lookup_cli.h - what `lookup`, `ingest lookup:` and `build --live` share on the
 * CLI side: --lookup-attributes parsing (shorthand, JSON, file://), the plan that
 * sends the most selective attribute to the service and applies the rest (and the
 * search filters) locally, and the AWS CLI's message forms. */
#ifndef BT_LOOKUP_CLI_H
#define BT_LOOKUP_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"

/* One condition: key is a LookupEvents AttributeKey; values are ORed. */
typedef struct lk_cond {
    const char *key;
    const char *values[BT_FILTER_MAX_VALUES];
    size_t n;
    const char *origin; /* "--lookup-attributes" or the filter option ("--event-name") */
} lk_cond;

#define LK_MAX_LOCAL (BT_F__COUNT + 72)

typedef struct lk_plan {
    const lk_cond *server;       /* sent to the service (NULL = none) */
    lk_cond local[LK_MAX_LOCAL]; /* ANDed, applied to each event here */
    size_t nlocal;
    lk_cond filter_conds[BT_F__COUNT + 1]; /* storage for conditions made from the filter */
    bt_filter record;            /* the other filters, matched on the record */
    int need_record;
} lk_plan;

/* An event kept for merging several regions. */
typedef struct lk_item {
    int64_t ms;
    size_t seq, region;
    bt_json *v;
} lk_item;

/* Prints "\n<message>\n" on stderr, as the AWS CLI prints its errors. */
void lk_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses one --lookup-attributes word (shorthand "AttributeKey=K,AttributeValue=V",
 * JSON list or object, or file://PATH) and appends one condition per attribute.
 * Strings are copied into a. Returns 0, or -1 after printing the AWS CLI's message. */
int lk_parse_attrs(bt_arena *a, const char *text, lk_cond *conds, size_t *n, size_t max);

/* Is word (a pointer into argv) one of the extra words after --lookup-attributes? */
int lk_follows_attrs(int argc, char **argv, const char *word);

/* Builds the plan from the attributes and the filter. BT_EINVAL with a message when
 * there are too many conditions. */
int lk_plan_make(lk_plan *p, const lk_cond *conds, size_t nconds, const bt_filter *f,
                 bt_arena *a, bt_error *err);
/* 1 if the event passes the local part, 0 if not, -1 out of memory. a is scratch. */
int lk_plan_match(const lk_plan *p, bt_arena *a, const bt_ct_event *ev);
/* "debug: lookup: sent to the service: ...; applied here: ..." */
void lk_plan_debug(const lk_plan *p, FILE *f);

/* Splits a BT_EAWS message of the AWS client into the service's own message and the
 * " (reached max retries: N)" part (empty when none). */
void lk_service_message(const char *msg, char *out, size_t cap, char *retries, size_t rcap);

/* One LookupEvents call as bt_ct_lookup_events, also asking again (up to
 * AWS_MAX_ATTEMPTS times, default 3) when a 2xx reply cannot be parsed (truncated). */
int lk_lookup_page(bt_aws_client *c, const bt_ct_lookup_request *req, bt_arena *a,
                   bt_ct_lookup_page *pg, bt_error *err);

#endif
