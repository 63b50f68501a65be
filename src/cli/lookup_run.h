/* lookup_run.h - the parts of `buildtrail lookup`: cmd_lookup.c parses the options,
 * lookup_run.c runs one region through the library's paging loop and prints,
 * lookup_regions.c sets up the regions and runs several in parallel, merged. Internal
 * to the CLI. */
#ifndef BT_LOOKUP_RUN_H
#define BT_LOOKUP_RUN_H

#include <pthread.h>
#include <stdint.h>

#include "buildtrail/format.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/lookup.h"
#include "buildtrail/store.h"
#include "cli.h"
#include "lookup_cli.h"

#define LK_MAX_CONDS 64

/* The options of one `lookup`. */
typedef struct lk {
    cli_common c;
    bt_arena *a;                    /* parsed option strings */
    bt_ct_cond conds[LK_MAX_CONDS]; /* --lookup-attributes, ANDed */
    size_t nconds;
    const char *category, *starting_token, *next_token, *region, *profile, *endpoint;
    const char *output, *query, *store_path;
    long page_size, max_results;
    int64_t max_items; /* -1 = none */
    int no_paginate, have_max_results, have_page_size;
    long read_to_ms, connect_to_ms;
    double rate;
    int attrs_arg; /* the last option was --lookup-attributes (extra words follow it) */
} lk;

/* How the events are printed. */
typedef struct lk_out {
    int ndjson;
    bt_format_kind kind;
    bt_jmespath *q;
    int failed; /* writing stdout failed */
} lk_out;

/* What one region's run produced (several regions: merged afterwards). */
typedef struct lk_region {
    const lk *L;
    const bt_ct_plan *plan;
    lk_out *o;
    const char *region; /* NULL = the configured one */
    int collect;        /* several regions: collect (time, value) items, print nothing */
    int paged;          /* text / yaml-stream: each page printed as it arrives */
    bt_store *store;    /* --store, or NULL */
    pthread_mutex_t *store_mu;
    bt_aws_client *cli;
    bt_arena *keep;  /* values printed at the end live here */
    bt_json *events; /* merged formats: every kept event */
    lk_item *items;
    size_t nitems, citems;
    char *resume;   /* --max-items resume token (malloc'd) */
    char *raw_next; /* --no-paginate: the service's NextToken */
    uint64_t pages, fetched, kept, stored;
    int64_t emitted;
    int code; /* exit code of a failure, 0 */
    bt_error err;
    char endpoint[512];
} lk_region;

/* Applies the query and prints v (whole value, or one page for the paged formats).
 * 0 or an exit code after printing the message. */
int lk_print_value(lk_out *o, bt_arena *a, const bt_json *v, int page);
/* {"Events": events} in a; NULL when out of memory. */
bt_json *lk_events_object(bt_arena *a, bt_json *events);
/* The client of one region; 0 or an exit code after printing the AWS CLI's message. */
int lk_make_client(const lk *L, const char *region, bt_aws_client **cli, char *endpoint,
                   size_t cap);
/* --region: one (NULL = configured), r1,r2, or all (the configured partition's).
 * Strings may point into *buf (caller frees). 0 or an exit code after the message. */
int lk_pick_regions(const lk *L, const char **regions, size_t *n, int *all, char **buf);
/* The regions' runs: a client each, the store shared. 0 or an exit code. */
int lk_setup_runs(lk *L, const bt_ct_plan *plan, lk_out *o, const char **regions, size_t nregions,
                  bt_store *store, pthread_mutex_t *store_mu, bt_arena *outa, lk_region *runs);
/* One region: pages until the end, --max-items, or --no-paginate. Returns r->code. */
int lk_run_region(lk_region *r);
/* Several regions in parallel, merged newest first and printed (all: skip regions
 * the account has not enabled). Returns an exit code. */
int lk_run_regions(lk_region *runs, size_t n, int all, bt_arena *outa);

#endif
