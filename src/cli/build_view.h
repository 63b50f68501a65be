/* build_view.h - the people's rendering of a build timeline (build_view.c): wrapped to
 * the terminal with hanging indents, nothing cut, colour when asked for. */
#ifndef BT_BUILD_VIEW_H
#define BT_BUILD_VIEW_H

#include <stdio.h>

#include "buildtrail/builds.h"

typedef struct build_view_opts {
    int color;       /* ANSI colour */
    int width;       /* wrap at this many columns; 0: do not wrap */
    int errors_only; /* --errors: the timeline shows only the failed calls */
} build_view_opts;

void build_view_print(FILE *f, const bt_timeline *t, const build_view_opts *o);
/* One entry of t's timeline as build_view_print shows it (build --follow). */
void build_view_print_event(FILE *f, const bt_timeline *t, const bt_timeline_event *e,
                            const build_view_opts *o);

#endif
