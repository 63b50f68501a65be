/* lookup_cli.h - what `lookup`, `ingest lookup:` and `build --live` share on the
 * CLI side: --lookup-attributes parsing (shorthand, JSON, file://) and the AWS CLI's
 * message forms. The plan and the paging loop are the library's (lookup.h). */
#ifndef BT_LOOKUP_CLI_H
#define BT_LOOKUP_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/lookup.h"
#include "buildtrail/json.h"

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
int lk_parse_attrs(bt_arena *a, const char *text, bt_ct_cond *conds, size_t *n, size_t max);

/* Is word (a pointer into argv) one of the extra words after --lookup-attributes? */
int lk_follows_attrs(int argc, char **argv, const char *word);

/* "An error occurred (<Code>) when calling the LookupEvents operation[ (reached max
 * retries: N)]: <message>", the AWS CLI's words for a service error, from e's
 * structured fields ("Error: The same next token was received twice" for the
 * paging loop's PaginationError). */
void lk_service_error(const bt_error *e, char *out, size_t cap);

#endif
