/* builds_view.h - the people's table of `builds` and its ndjson (builds_view.c). */
#ifndef BT_BUILDS_VIEW_H
#define BT_BUILDS_VIEW_H

#include "buildtrail/json.h"

/* The table of the builds' JSON objects (list: an array): an exit code. */
int builds_view_print(const bt_json *list);
/* Each build's JSON on one line; query must be NULL (else a usage error): an exit code. */
int builds_print_ndjson(const char *query, const bt_json *list);

#endif
