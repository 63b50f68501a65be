/* timeline_int.h - internals shared by the files of the build timeline: timeline.c
 * (reads the store into bt_timeline), timeline_project.c (the project's history and the
 * trigger's overrides), timeline_json.c (the one JSON writer) and timeline_live.c (the
 * same timeline gathered from the event history). */
#ifndef BT_TIMELINE_INT_H
#define BT_TIMELINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/builds.h"
#include "buildtrail/store.h"

/* A growable array in an arena (the old storage stays in the arena until it goes). */
typedef struct tl_vec {
    void *v;
    size_t n, cap;
} tl_vec;

/* Appends a zeroed element of size bytes; NULL when out of memory. */
void *tl_vec_push(bt_arena *a, tl_vec *vec, size_t size);

/* The state of reading one build's timeline. */
typedef struct tl_ctx {
    bt_timeline *t;
    bt_arena *a;
    const char *uuid;
    int found;
    bt_json *project_state;   /* merged project definition before the build */
    bt_json *trigger_request; /* requestParameters of the start record */
    tl_vec changes;           /* bt_timeline_change */
    tl_vec events;            /* bt_timeline_event */
    tl_vec services;          /* bt_timeline_service */
    tl_vec codes;             /* tl_vec of bt_timeline_error_code, one per service */
    tl_vec resources;         /* bt_timeline_resource */
    tl_vec resource_keys;     /* const char *: "type\tname" as the resource is matched */
    tl_vec stops, errors;     /* size_t: indices into events */
    tl_vec overrides;         /* bt_timeline_override */
    tl_vec defs;              /* the project's definitions before the window, newest first */
    bt_store_pos defs_pos;    /* where the last definition was read */
    uint64_t defs_read;       /* definitions read (failed ones too) */
    tl_vec phases;            /* bt_timeline_phase */
    int64_t phases_list_ms;   /* time of the event whose phases[] list was taken (0: none) */
} tl_ctx;

/* A copy of s in a (NULL for NULL); *oom set when that fails. */
const char *tl_sdup(bt_arena *a, const char *s, int *oom);

/* A state or phase event of the build: its phases (timeline_phases.c). */
int tl_phase_event(tl_ctx *c, const bt_event *ev);
/* The phases in sequence, starts and durations completed; phase events of the same
 * time put in that sequence too. */
int tl_phases_finish(tl_ctx *c);

/* Completes a summary (live: from BatchGetBuilds); when the store has none, fills an
 * empty one and returns 1 if it knows the build. Either may be NULL. */
typedef struct tl_hook {
    void (*complete)(void *ctx, bt_build *b);
    int (*only)(void *ctx, bt_build *b);
    void *ctx;
} tl_hook;

/* bt_build_timeline with a hook (NULL for the stored timeline). */
int tl_build_timeline(bt_store *s, const char *uuid, const bt_timeline_opts *o, const tl_hook *h,
                      bt_timeline **out, bt_error *err);

/* A setting as shown in differences: a string as itself, anything else as compact
 * JSON, NULL for NULL. In a. *oom set on allocation failure. */
const char *tl_compact(bt_arena *a, const bt_json *v, int *oom);

/* bt_store_event_fn for the project's change records (timeline_project.c). */
int tl_on_project_event(void *ctx, const bt_event *ev, const bt_store_pos *pos);

/* bt_store_event_fn for the project's definitions (CreateProject, UpdateProject) before
 * the window, read newest first: keeps each in c->defs and returns TL_BASE_FOUND (to
 * stop the search) at the first that holds the whole project. */
#define TL_BASE_FOUND 1
int tl_on_project_base(void *ctx, const bt_event *ev, const bt_store_pos *pos);
/* Merges c->defs, oldest first, into the project's state. */
int tl_project_base_apply(tl_ctx *c);

/* The start request's overrides, each compared with the project's own setting. */
int tl_overrides(tl_ctx *c);

#endif
