/* output_int.h - shared by output.c and output_query.c. */
#ifndef BT_OUTPUT_INT_H
#define BT_OUTPUT_INT_H

#include "buildtrail/arena.h"
#include "buildtrail/json.h"

/*
 * A query `Events[<projection>]<rest>` whose rest has no top-level pipe applies <rest>
 * to each event on its own; returns the per-event expression `[@][<projection>]<rest>`
 * (malloc'd), or NULL when the query is not of that shape.
 */
char *cli_per_event_query(const char *q);
/* Deep copy of v into a. NULL when out of memory. */
bt_json *cli_json_clone(bt_arena *a, const bt_json *v);

#endif
