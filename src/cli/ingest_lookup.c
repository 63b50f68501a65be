/* ingest_lookup.c - `buildtrail ingest lookup:REGION`: backfills the event history
 * (LookupEvents, every event of a time window) into the store. Each page is written
 * in one transaction together with the cursor that says where to continue, so a
 * kill at any moment resumes with the next page; a NextToken is only ever sent again
 * with exactly the parameters it was issued for (they are saved with it). Calls are
 * paced by the client's rate limiter (2 per second per account and region unless
 * --rate says otherwise), so a long backfill never trips throttling. Regions
 * (lookup:r1,r2 or lookup:all) run in parallel. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/aws.h"
#include "buildtrail/lookup.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "ingest_lookup.h"

static const cli_opt ingest_lookup_opts[] = {
    {"start-time", 0, OPT_VALUE, "TIME", O_START,
     "lookup: sources: the oldest events to fetch (ISO 8601, epoch seconds or an age such as "
     "30d; default 90d, the whole event history)."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END,
     "lookup: sources: the newest events to fetch (default: now; a later run then fetches "
     "only what is new)."},
    {"profile", 0, OPT_VALUE, "NAME", IL_PROFILE, "lookup: sources: the AWS profile."},
    {"endpoint-url", 0, OPT_VALUE, "URL", IL_ENDPOINT,
     "lookup: sources: call URL instead of the region's CloudTrail endpoint."},
    {"rate", 0, OPT_VALUE, "N", IL_RATE,
     "lookup: sources: LookupEvents calls per second per account and region (default 2, the "
     "service's limit; 0 = no limit)."},
};
const cli_group cli_group_ingest_lookup =
    CLI_GROUP("Event history (lookup:REGION sources)", ingest_lookup_opts);

int ingest_lookup_opt(ingest_lookup_opts_t *o, const cli_opt *opt, const char *value)
{
    switch (opt->id) {
    case IL_PROFILE: o->profile = value; return 0;
    case IL_ENDPOINT: o->endpoint = value; return 0;
    case IL_RATE: {
        char *end;
        double d = strtod(value, &end);
        if (!*value || *end || d < 0) {
            cli_err("--rate '%s': expected calls per second (0 = no limit)", value);
            return -1;
        }
        o->rate = d == 0 ? -1 : d;
        return 0;
    }
    }
    return 1;
}

int ingest_is_lookup(const char *arg)
{
    return strncmp(arg, "lookup:", 7) == 0;
}

/* ---- one region ------------------------------------------------------------------- */

typedef struct il_region {
    const ingest_lookup_opts_t *o;
    const char *region; /* NULL = configured */
    int64_t since_s, until_s; /* until 0 = open (now) */
    bt_store *store;
    pthread_mutex_t *mu;
    volatile sig_atomic_t *stop;
    int force;
    /* results */
    char name[600];
    uint64_t pages, events, added, dups;
    int resumed, incremental, already;
    double secs;
    int code;
    bt_error err;
} il_region;

typedef struct il_cursor {
    int64_t since, until, req_start, req_end, through;
    char *token;
    int done;
    uint64_t pages, events;
} il_cursor;

static int parse_cursor(const char *text, il_cursor *c)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_json *root = NULL, *v;
    int ok = 0;
    memset(c, 0, sizeof *c);
    if (!a)
        return -1;
    if (bt_json_parse(a, text, strlen(text), NULL, &root, NULL) == 0 &&
        root->type == BT_JSON_OBJECT) {
#define NUM(k, f)                                                                                  \
    if ((v = bt_json_get(root, k)) && v->type == BT_JSON_NUMBER)                                   \
        c->f = (int64_t)v->num;
        NUM("Since", since)
        NUM("Until", until)
        NUM("StartTime", req_start)
        NUM("EndTime", req_end)
        NUM("Through", through)
        NUM("Pages", pages)
        NUM("Events", events)
#undef NUM
        c->done = bt_json_get(root, "Done") && bt_json_get(root, "Done")->type == BT_JSON_TRUE;
        if ((v = bt_json_get(root, "NextToken")) && v->type == BT_JSON_STRING)
            c->token = strdup(v->u.str);
        ok = c->req_start > 0 && c->req_end > 0;
    }
    bt_arena_free(a);
    return ok ? 0 : -1;
}

static int write_cursor(il_region *r, const il_cursor *c)
{
    bt_buf b = BT_BUF_INIT;
    int rc = bt_buf_printf(&b,
                           "{\"Since\":%lld,\"Until\":%lld,\"StartTime\":%lld,\"EndTime\":%lld,"
                           "\"MaxResults\":50,\"NextToken\":",
                           (long long)c->since, (long long)c->until, (long long)c->req_start,
                           (long long)c->req_end);
    if (rc == 0)
        rc = c->token ? bt_json_write_string(&b, c->token, strlen(c->token), 0)
                      : bt_buf_puts(&b, "null");
    if (rc == 0)
        rc = bt_buf_printf(&b, ",\"Done\":%s,\"Through\":%lld,\"Pages\":%llu,\"Events\":%llu}",
                           c->done ? "true" : "false", (long long)c->through,
                           (unsigned long long)c->pages, (unsigned long long)c->events);
    if (rc == 0)
        rc = bt_store_cursor_set(r->store, r->name, b.data, &r->err);
    else
        rc = bt_error_set(&r->err, BT_ENOMEM, "out of memory");
    bt_buf_dispose(&b);
    return rc;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Who the cursor belongs to: the account (else the access key) and, with a custom
 * endpoint, that endpoint. */
static void cursor_name(il_region *r, bt_aws_client *cli)
{
    bt_aws_creds cr;
    bt_error e = BT_ERROR_INIT;
    char who[128] = "unknown";
    memset(&cr, 0, sizeof cr);
    if (bt_aws_client_credentials(cli, &cr, &e) == 0) {
        if (cr.account_id[0])
            snprintf(who, sizeof who, "%s", cr.account_id);
        else if (cr.access_key_id)
            snprintf(who, sizeof who, "key:%s", cr.access_key_id);
    }
    bt_aws_creds_dispose(&cr);
    if (!r->o->endpoint && strncmp(who, "key:", 4) == 0) {
        bt_sts_identity id;
        if (bt_sts_get_caller_identity(cli, &id, &e) == 0 && id.account[0])
            snprintf(who, sizeof who, "%s", id.account);
    }
    snprintf(r->name, sizeof r->name, "lookup|%s|%s|%s", who, bt_aws_client_region(cli),
             r->o->endpoint ? r->o->endpoint : "aws");
}

typedef struct il_page {
    il_region *r;
    il_cursor *cur;
} il_page;

/* One page and the cursor after it, in one transaction; stops on a signal. */
static int on_page(void *payload, const bt_ct_page_view *v)
{
    il_page *p = payload;
    il_region *r = p->r;
    il_cursor *cur = p->cur;
    const bt_ct_lookup_page *pg = v->page;
    size_t i;
    int rc;
    pthread_mutex_lock(r->mu);
    rc = bt_store_begin(r->store, &r->err);
    for (i = 0; rc == 0 && i < pg->nevents; i++) {
        bt_event ev;
        int is_new = 0;
        bt_error e2 = BT_ERROR_INIT;
        if (bt_ct_event_record(v->arena, &pg->events[i], &ev, &e2))
            continue;
        rc = bt_store_add(r->store, &ev, &is_new, &r->err);
        *(is_new ? &r->added : &r->dups) += 1;
    }
    if (rc == 0) {
        free(cur->token);
        cur->token = pg->next_token && *pg->next_token ? strdup(pg->next_token) : NULL;
        cur->pages++;
        cur->events += pg->nevents;
        cur->done = cur->token == NULL;
        cur->through = cur->done ? cur->req_end : 0;
        rc = write_cursor(r, cur);
    }
    if (rc == 0)
        rc = bt_store_commit(r->store, &r->err);
    if (rc)
        bt_store_rollback(r->store);
    pthread_mutex_unlock(r->mu);
    if (rc)
        return rc;
    r->pages++;
    r->events += pg->nevents;
    return *r->stop ? 1 : 0;
}

static int run_region(il_region *r)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *cli = NULL;
    il_cursor cur, prev;
    il_page ctx = {r, &cur};
    char *val = NULL;
    int have_prev = 0, rc;
    double t0 = mono();
    bt_ct_lookup_request req;

    memset(&cur, 0, sizeof cur);
    memset(&prev, 0, sizeof prev);
    cfg.profile = r->o->profile;
    cfg.region = r->region;
    cfg.endpoint_url = r->o->endpoint;
    cfg.lookup_events_rate = r->o->rate;
    cfg.user_agent = "buildtrail ingest";
    if ((rc = bt_aws_client_new(&cli, &cfg, &r->err)))
        goto fail;
    if (!bt_aws_client_region(cli)) {
        rc = bt_error_set(&r->err, BT_ECONFIG, "lookup: no region (give lookup:REGION, or set "
                                               "AWS_REGION or the profile's region)");
        goto fail;
    }
    cursor_name(r, cli);
    pthread_mutex_lock(r->mu);
    rc = bt_store_cursor_get(r->store, r->name, &val, &r->err);
    pthread_mutex_unlock(r->mu);
    if (rc)
        goto fail;
    have_prev = val && parse_cursor(val, &prev) == 0;
    cur.since = r->since_s;
    cur.until = r->until_s;
    if (have_prev && !r->force && prev.since == cur.since && prev.until == cur.until) {
        if (!prev.done) {
            /* the same window: continue with the saved token and its parameters */
            cur.req_start = prev.req_start;
            cur.req_end = prev.req_end;
            cur.token = prev.token;
            prev.token = NULL;
            cur.pages = prev.pages;
            cur.events = prev.events;
            r->resumed = 1;
        } else if (!cur.until) {
            /* done before, open end: what is new since, with 15 minutes of overlap for
             * events the history shows late (duplicates are dropped) */
            cur.req_start = prev.through - 900 > cur.since ? prev.through - 900 : cur.since;
            cur.req_end = bt_time_now_ms() / 1000;
            r->incremental = 1;
        } else {
            r->already = 1;
            goto done;
        }
    } else {
        cur.req_start = cur.since;
        cur.req_end = cur.until ? cur.until : bt_time_now_ms() / 1000;
    }
    if (cli_debug)
        fprintf(stderr, "buildtrail: debug: ingest %s: StartTime %lld EndTime %lld%s\n", r->name,
                (long long)cur.req_start, (long long)cur.req_end,
                r->resumed ? " (resumed with the saved NextToken)" : "");
    memset(&req, 0, sizeof req);
    req.start_time = cur.req_start;
    req.end_time = cur.req_end;
    req.max_results = 50;
    req.next_token = cur.token;
    if (!*r->stop && (rc = bt_ct_lookup_pages(cli, &req, NULL, on_page, &ctx, NULL, &r->err)) &&
        rc != BT_ESTOP)
        goto fail;
    goto done;
fail:
    r->code = rc == BT_EAWS ? EXIT_AWS_SERVICE
              : rc == BT_ECRED || rc == BT_ECONFIG ? EXIT_AWS_CONFIG
                                                  : EXIT_ERROR;
done:
    r->secs = mono() - t0;
    free(cur.token);
    free(prev.token);
    free(val);
    bt_aws_client_free(cli);
    return r->code;
}

static void *region_thread(void *arg)
{
    run_region(arg);
    return NULL;
}

int ingest_lookup_run(const ingest_lookup_opts_t *o, const char *spec, bt_store *store,
                      int64_t start_ms, int64_t end_ms, int force, int json_summary,
                      volatile sig_atomic_t *stop, uint64_t *added)
{
    const char *regions[64], *rs = spec + 7;
    char *buf = strdup(rs), *save = NULL, *t;
    size_t n = 0, i;
    il_region *runs;
    pthread_t th[64];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int code = EXIT_OK;
    int64_t now = bt_time_now_ms();

    if (!buf)
        return EXIT_ERROR;
    if (strcmp(rs, "all") == 0) {
        const char *const *list = bt_aws_partition_regions("aws");
        bt_aws_config cfg = BT_AWS_CONFIG_INIT;
        bt_aws_client *probe = NULL;
        cfg.profile = o->profile;
        if (bt_aws_client_new(&probe, &cfg, NULL) == 0 && bt_aws_client_region(probe))
            list = bt_aws_partition_regions(bt_aws_partition(bt_aws_client_region(probe)));
        bt_aws_client_free(probe);
        for (i = 0; list && list[i] && n < 64; i++)
            regions[n++] = list[i];
    } else if (!*rs) {
        regions[n++] = NULL;
    } else {
        for (t = strtok_r(buf, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save))
            if (*t)
                regions[n++] = t;
    }
    runs = calloc(n ? n : 1, sizeof *runs);
    if (!runs) {
        free(buf);
        return EXIT_ERROR;
    }
    for (i = 0; i < n; i++) {
        il_region *r = &runs[i];
        r->o = o;
        r->region = regions[i];
        r->since_s = (start_ms != INT64_MIN ? start_ms : now - 90LL * 86400000) / 1000;
        r->until_s = end_ms != INT64_MAX ? end_ms / 1000 : 0;
        r->store = store;
        r->mu = &mu;
        r->stop = stop;
        r->force = force;
    }
    for (i = 0; i < n; i++)
        if (n == 1 || pthread_create(&th[i], NULL, region_thread, &runs[i]) != 0)
            run_region(&runs[i]), th[i] = 0;
    for (i = 0; i < n; i++)
        if (n > 1 && th[i])
            pthread_join(th[i], NULL);
    for (i = 0; i < n; i++) {
        il_region *r = &runs[i];
        const char *rg = r->region ? r->region : "(configured region)";
        int skip = strcmp(rs, "all") == 0 && r->code && r->err.code == BT_EAWS &&
                   (strcmp(r->err.aws_code, "UnrecognizedClientException") == 0 ||
                    strcmp(r->err.aws_code, "InvalidClientTokenId") == 0 ||
                    strcmp(r->err.aws_code, "OptInRequired") == 0);
        if (r->code && !skip) {
            cli_err("ingest %s (%s): %s", spec, rg, r->err.msg);
            if (!code)
                code = r->code;
        }
        *added += r->added;
        if (json_summary)
            printf("{\"source\": \"lookup:%s\", \"pages\": %llu, \"events\": %llu, \"new\": %llu, "
                   "\"duplicate\": %llu, \"resumed\": %s, \"incremental\": %s, \"complete\": %s, "
                   "\"seconds\": %.3f, \"events_per_second\": %.1f}\n",
                   r->region ? r->region : "", (unsigned long long)r->pages,
                   (unsigned long long)r->events, (unsigned long long)r->added,
                   (unsigned long long)r->dups, r->resumed ? "true" : "false",
                   r->incremental ? "true" : "false", !r->code && !*stop ? "true" : "false",
                   r->secs, r->secs > 0 ? (double)r->events / r->secs : 0.0);
        else if (!r->code || !skip)
            printf("lookup:%s pages %llu, events %llu, new %llu, duplicate %llu%s%s; %.2f s, %.1f "
                   "events/s\n",
                   r->region ? r->region : "", (unsigned long long)r->pages,
                   (unsigned long long)r->events, (unsigned long long)r->added,
                   (unsigned long long)r->dups, r->resumed ? " (resumed from the saved cursor)" : "",
                   r->already ? " (window already complete)"
                   : r->incremental ? " (new events since the last run)"
                                    : "",
                   r->secs, r->secs > 0 ? (double)r->events / r->secs : 0.0);
    }
    free(runs);
    free(buf);
    return code;
}
