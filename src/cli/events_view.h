/* events_view.h - `search`'s table for people (events_view.c): time, event, source,
 * principal, error, resources, one row per event, through the table renderer. */
#ifndef BT_EVENTS_VIEW_H
#define BT_EVENTS_VIEW_H

#include <stdio.h>

#include "buildtrail/event.h"

typedef struct events_view events_view;

/* NULL when out of memory. */
events_view *events_view_new(void);
/* Adds a row (the strings are copied). 0 or BT_ENOMEM. */
int events_view_add(events_view *v, const bt_event *ev);
/* Prints the table (a line saying so when there are no events; f NULL: nothing) and
 * frees v. 0, or -1
 * when it could not be written. */
int events_view_finish(events_view *v, FILE *f);

#endif
