/* output_int.h - shared by output.c and output_query.c. */
#ifndef BT_OUTPUT_INT_H
#define BT_OUTPUT_INT_H

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/event.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/json.h"

/* The member of every event that holds its parsed record, for --query. */
#define CLI_RECORD_VIEW "Record"

/*
 * The event as the LookupEvents shape shows it (bt_ct_record_cli_value), built in a;
 * with_record adds "Record": the raw record parsed (the object CloudTrailEvent holds as
 * text). NULL when out of memory.
 */
bt_json *cli_event_value(bt_arena *a, const bt_event *ev, int with_record);
/*
 * --output ndjson with --query: q applied to the event's raw record (what the line
 * would hold), its result appended to out as one line of compact JSON (null prints
 * "null"). Values are built in a. 0, or an error with err set (the query's message).
 */
int cli_ndjson_query_line(bt_buf *out, bt_arena *a, const bt_jmespath *q, const bt_event *ev,
                          bt_error *err);

/*
 * A query `Events[<projection>]<rest>` whose rest has no top-level pipe applies <rest>
 * to each event on its own; returns the per-event expression `[@][<projection>]<rest>`
 * (malloc'd), or NULL when the query is not of that shape.
 */
char *cli_per_event_query(const char *q);
/* Deep copy of v into a. NULL when out of memory. */
bt_json *cli_json_clone(bt_arena *a, const bt_json *v);

#endif
