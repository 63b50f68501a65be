/* lookup_regions.c - `buildtrail lookup` over regions: --region r1,r2 or all, a client
 * per region (lk_make_client), the runs set up and, for several regions, run in
 * parallel and merged newest first. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_run.h"

#define aws_msg lk_msg

/* --region: one (NULL = configured), r1,r2, or all (the configured partition's).
 * Strings may point into *buf (caller frees). */
int lk_pick_regions(const lk *L, const char **regions, size_t *n, int *all, char **buf)
{
    size_t i;
    char *save = NULL, *t;
    *n = 0;
    if (!L->region || (!strchr(L->region, ',') && strcmp(L->region, "all") != 0)) {
        regions[(*n)++] = L->region;
        return 0;
    }
    if (strcmp(L->region, "all") == 0) {
        const char *part = "aws";
        const char *const *list;
        bt_aws_client *probe = NULL;
        bt_aws_config pc = BT_AWS_CONFIG_INIT;
        *all = 1;
        /* the partition of the configured region, else aws */
        pc.profile = L->profile;
        if (bt_aws_client_new(&probe, &pc, NULL) == 0 && bt_aws_client_region(probe))
            part = bt_aws_partition(bt_aws_client_region(probe));
        bt_aws_client_free(probe);
        list = bt_aws_partition_regions(part);
        for (i = 0; list && list[i] && *n < 64; i++)
            regions[(*n)++] = list[i];
    } else {
        *buf = strdup(L->region);
        for (t = *buf ? strtok_r(*buf, ",", &save) : NULL; t && *n < 64;
             t = strtok_r(NULL, ",", &save))
            if (*t)
                regions[(*n)++] = t;
    }
    if (*n > 1 && (L->starting_token || L->next_token)) {
        aws_msg("--starting-token and --next-token take one region, not several");
        return EXIT_AWS_USAGE;
    }
    return 0;
}

/* The regions' runs: a client each, the store shared. */
int lk_setup_runs(lk *L, const bt_ct_plan *plan, lk_out *o, const char **regions, size_t nregions,
                  bt_store *store, pthread_mutex_t *store_mu, bt_arena *outa, lk_region *runs)
{
    size_t i;
    int code;
    for (i = 0; i < nregions; i++) {
        lk_region *r = &runs[i];
        r->L = L;
        r->plan = plan;
        r->o = o;
        r->region = regions[i];
        r->collect = nregions > 1;
        r->store = store;
        r->store_mu = nregions > 1 ? store_mu : NULL;
        r->keep = r->collect ? bt_arena_new(1 << 20, 0) : outa;
        r->events = bt_json_new_array(outa, 64);
        if (!r->keep || !r->events) {
            cli_err("out of memory");
            return EXIT_AWS_OTHER;
        }
        if ((code = lk_make_client(L, regions[i], &r->cli, r->endpoint, sizeof r->endpoint)))
            return code;
    }
    return 0;
}

static void *region_thread(void *arg)
{
    lk_run_region(arg);
    return NULL;
}

static int cmp_items(const void *a, const void *b)
{
    const lk_item *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? 1 : -1;
    if (x->region != y->region)
        return x->region < y->region ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Is this failure a region the account has not opted into (skipped under "all")? */
static int region_not_enabled(const bt_error *e)
{
    return e->code == BT_EAWS &&
           (strcmp(e->aws_code, "UnrecognizedClientException") == 0 ||
            strcmp(e->aws_code, "InvalidClientTokenId") == 0 ||
            strcmp(e->aws_code, "AuthFailure") == 0 || strcmp(e->aws_code, "OptInRequired") == 0);
}

int lk_make_client(const lk *L, const char *region, bt_aws_client **cli, char *endpoint, size_t cap)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_aws_endpoint ep;
    cfg.profile = L->profile;
    cfg.region = region;
    cfg.endpoint_url = L->endpoint;
    cfg.read_timeout_ms = L->read_to_ms;
    cfg.connect_timeout_ms = L->connect_to_ms;
    cfg.lookup_events_rate = L->rate;
    cfg.user_agent = "buildtrail lookup";
    if (cli_debug)
        cfg.log = cli_debug_line;
    if (bt_aws_client_new(cli, &cfg, &err)) {
        if (strstr(err.msg, "config profile")) {
            aws_msg("The config profile (%s) could not be found", L->profile ? L->profile : "?");
            return EXIT_AWS_OTHER;
        }
        aws_msg("%s", err.msg);
        return err.code == BT_ECONFIG ? EXIT_AWS_CONFIG : EXIT_AWS_OTHER;
    }
    if (!bt_aws_client_region(*cli)) {
        aws_msg("You must specify a region. You can also configure your region by running "
                "\"aws configure\".");
        return EXIT_AWS_CONFIG;
    }
    if (bt_aws_client_endpoint(*cli, "cloudtrail", &ep, &err) == 0)
        snprintf(endpoint, cap, "%s", ep.url);
    else
        endpoint[0] = '\0';
    return 0;
}

/* Runs every region in its own thread; the failures that count (not a region "all"
 * reaches that the account has not enabled). Returns the first one's exit code. */
static int run_parallel(lk_region *runs, size_t nregions, int all, size_t *failed, size_t *nitems)
{
    pthread_t *th = calloc(nregions, sizeof *th);
    int code = EXIT_OK;
    size_t i;
    if (!th)
        return -1;
    for (i = 0; i < nregions; i++)
        if (pthread_create(&th[i], NULL, region_thread, &runs[i]) != 0)
            region_thread(&runs[i]), th[i] = 0;
    for (i = 0; i < nregions; i++)
        if (th[i])
            pthread_join(th[i], NULL);
    free(th);
    for (i = 0; i < nregions; i++) {
        if (runs[i].code && !(all && region_not_enabled(&runs[i].err)))
            (*failed)++, code = code ? code : runs[i].code;
        else if (runs[i].code && cli_debug)
            fprintf(stderr, "buildtrail: debug: lookup %s: skipped (%s)\n", runs[i].region,
                    runs[i].err.aws_code);
        *nitems += runs[i].nitems;
    }
    return code;
}

int lk_run_regions(lk_region *runs, size_t nregions, int all, bt_arena *outa)
{
    const lk *L = runs[0].L;
    lk_out *o = runs[0].o;
    lk_item *all_items = NULL;
    size_t n = 0, k, i, failed = 0;
    bt_json *list;
    int code = run_parallel(runs, nregions, all, &failed, &n);

    if (code < 0)
        goto oom;
    all_items = calloc(n ? n : 1, sizeof *all_items);
    if (!all_items)
        goto oom;
    for (i = 0, n = 0; i < nregions; i++)
        for (k = 0; k < runs[i].nitems; k++) {
            all_items[n] = runs[i].items[k];
            all_items[n++].region = i;
        }
    if (n > 1) /* qsort's base must not be NULL, even for 0 items */
        qsort(all_items, n, sizeof *all_items, cmp_items);
    if (L->max_items >= 0 && (int64_t)n > L->max_items)
        n = (size_t)L->max_items;
    list = bt_json_new_array(outa, n ? n : 1);
    for (k = 0; list && k < n; k++)
        if (bt_json_array_push(outa, list, all_items[k].v))
            list = NULL;
    free(all_items);
    if (!list)
        goto oom;
    if (!o->ndjson && !failed) {
        bt_json *root = lk_events_object(outa, list);
        if (!root)
            goto oom;
        code = lk_print_value(o, outa, root, bt_format_is_paged(o->kind));
    }
    if (cli_debug)
        for (i = 0; i < nregions; i++)
            fprintf(stderr,
                    "buildtrail: debug: lookup %s: %llu pages, %llu events fetched, %llu kept\n",
                    runs[i].region, (unsigned long long)runs[i].pages,
                    (unsigned long long)runs[i].fetched, (unsigned long long)runs[i].kept);
    return code;
oom:
    cli_err("out of memory");
    return EXIT_AWS_OTHER;
}
