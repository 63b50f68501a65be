/* ingest_lookup.c - bt_ingest's lookup:REGIONS sources: the backfill of the event history
 * (LookupEvents, every event of a time window) into the store. Each page is written in
 * one transaction together with the cursor that says where to continue, so a kill at
 * any moment resumes with the next page; a NextToken is only ever sent again with
 * exactly the parameters it was issued for (they are saved with it). Calls go through
 * bt_ct_lookup_pages and are paced by the client's rate limiter (2 per second per
 * account and region unless the config says otherwise). Regions (lookup:r1,r2 or
 * lookup:all) run in parallel, one thread each. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/json.h"
#include "buildtrail/lookup.h"
#include "buildtrail/timeutil.h"
#include "ingest_int.h"

#define MAX_REGIONS 64
#define OVERLAP_S 900 /* late delivery: an open end asks again for the last 15 minutes */

typedef struct region {
    const bt_ingest_opts *o;
    bt_aws_config cfg;
    int64_t since_s, until_s; /* until 0 = open (now) */
    bt_store *store;
    pthread_mutex_t *mu;
    bt_ingest_lookup_region out; /* what is reported */
    char name[600];
    bt_error err;
} region;

typedef struct cursor {
    int64_t since, until, req_start, req_end, through;
    char *token;
    int done;
    uint64_t pages, events;
} cursor;

static int stopping(const region *r)
{
    return r->o->cancel && *r->o->cancel;
}

static void debugf(const region *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void debugf(const region *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!r->o->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->o->log(r->o->payload, line);
}

static int parse_cursor(const char *text, cursor *c)
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

static int write_cursor(region *r, const cursor *c, bt_error *err)
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
        rc = bt_store_cursor_set(r->store, r->name, b.data, err);
    else
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    bt_buf_dispose(&b);
    return rc;
}

/* Who the cursor belongs to: the account (else the access key) and, with a custom
 * endpoint, that endpoint. */
static void cursor_name(region *r, bt_aws_client *cli)
{
    bt_aws_creds cr;
    bt_error e = BT_ERROR_INIT;
    char who[128] = "unknown";
    const char *endpoint = r->cfg.endpoint_url;
    memset(&cr, 0, sizeof cr);
    if (bt_aws_client_credentials(cli, &cr, &e) == 0) {
        if (cr.account_id[0])
            snprintf(who, sizeof who, "%s", cr.account_id);
        else if (cr.access_key_id)
            snprintf(who, sizeof who, "key:%s", cr.access_key_id);
    }
    bt_aws_creds_dispose(&cr);
    if (!endpoint && strncmp(who, "key:", 4) == 0) {
        bt_sts_identity id;
        if (bt_sts_get_caller_identity(cli, &id, &e) == 0 && id.account[0])
            snprintf(who, sizeof who, "%s", id.account);
    }
    snprintf(r->name, sizeof r->name, "lookup|%s|%s|%s", who, bt_aws_client_region(cli),
             endpoint ? endpoint : "aws");
}

/* ---- one page into the store --------------------------------------------------------- */

int bt_ingest_lookup_page(bt_store *s, const bt_ct_page_view *v, bt_ingest_event_fn each,
                          bt_ingest_txn_fn before_commit, void *ctx, uint64_t *added,
                          uint64_t *dups, bt_error *err)
{
    const bt_ct_lookup_page *pg = v->page;
    size_t i;
    int rc = bt_store_begin(s, err);
    for (i = 0; rc == 0 && i < pg->nevents; i++) {
        bt_event ev;
        int is_new = 0;
        bt_error e2 = BT_ERROR_INIT;
        if (bt_ct_event_record(v->arena, &pg->events[i], &ev, &e2))
            continue;
        if ((rc = bt_store_add(s, &ev, &is_new, err)))
            break;
        *(is_new ? added : dups) += 1;
        if (each)
            each(ctx, &ev, is_new);
    }
    if (rc == 0 && before_commit)
        rc = before_commit(ctx, err);
    if (rc == 0)
        rc = bt_store_commit(s, err);
    if (rc)
        bt_store_rollback(s);
    return rc;
}

typedef struct page_ctx {
    region *r;
    cursor *cur;
    const bt_ct_lookup_page *pg;
} page_ctx;

/* Inside the page's transaction: the cursor after the page. */
static int cursor_after(void *payload, bt_error *err)
{
    page_ctx *p = payload;
    cursor *cur = p->cur;
    free(cur->token);
    cur->token = p->pg->next_token && *p->pg->next_token ? strdup(p->pg->next_token) : NULL;
    cur->pages++;
    cur->events += p->pg->nevents;
    cur->done = cur->token == NULL;
    cur->through = cur->done ? cur->req_end : 0;
    return write_cursor(p->r, cur, err);
}

/* One page and the cursor after it, in one transaction; stops when cancelled. */
static int on_page(void *payload, const bt_ct_page_view *v)
{
    page_ctx *p = payload;
    region *r = p->r;
    int rc;
    p->pg = v->page;
    pthread_mutex_lock(r->mu);
    rc = bt_ingest_lookup_page(r->store, v, NULL, cursor_after, p, &r->out.new_events,
                               &r->out.duplicates, &r->err);
    pthread_mutex_unlock(r->mu);
    if (rc)
        return rc;
    r->out.pages++;
    r->out.events += v->page->nevents;
    return stopping(r) ? 1 : 0;
}

/* ---- one region ---------------------------------------------------------------------- */

/* The request window from the saved cursor: 0 to fetch, 1 when the window is done. */
static int plan_window(region *r, const cursor *prev, int have_prev, cursor *cur)
{
    cur->since = r->since_s;
    cur->until = r->until_s;
    if (have_prev && !r->o->force && prev->since == cur->since && prev->until == cur->until) {
        if (!prev->done) {
            /* the same window: continue with the saved token and its parameters */
            cur->req_start = prev->req_start;
            cur->req_end = prev->req_end;
            cur->token = prev->token ? strdup(prev->token) : NULL;
            cur->pages = prev->pages;
            cur->events = prev->events;
            r->out.resumed = 1;
        } else if (!cur->until) {
            /* done before, open end: what is new since, with some overlap for events
             * the history shows late (duplicates are dropped) */
            cur->req_start =
                prev->through - OVERLAP_S > cur->since ? prev->through - OVERLAP_S : cur->since;
            cur->req_end = bt_time_now_ms() / 1000;
            r->out.incremental = 1;
        } else {
            r->out.already = 1;
            return 1;
        }
    } else {
        cur->req_start = cur->since;
        cur->req_end = cur->until ? cur->until : bt_time_now_ms() / 1000;
    }
    return 0;
}

static int run_region(region *r)
{
    bt_aws_client *cli = NULL;
    cursor cur, prev;
    page_ctx ctx = {r, &cur, NULL};
    char *val = NULL;
    int have_prev, rc;
    double t0 = bt_time_mono_s();
    bt_ct_lookup_request req;

    memset(&cur, 0, sizeof cur);
    memset(&prev, 0, sizeof prev);
    if ((rc = bt_aws_client_new(&cli, &r->cfg, &r->err)))
        goto done;
    if (!bt_aws_client_region(cli)) {
        rc = bt_error_set(&r->err, BT_ECONFIG,
                          "lookup: no region (give lookup:REGION, or set "
                          "AWS_REGION or the profile's region)");
        goto done;
    }
    cursor_name(r, cli);
    pthread_mutex_lock(r->mu);
    rc = bt_store_cursor_get(r->store, r->name, &val, &r->err);
    pthread_mutex_unlock(r->mu);
    if (rc)
        goto done;
    have_prev = val && parse_cursor(val, &prev) == 0;
    if (plan_window(r, &prev, have_prev, &cur))
        goto done;
    debugf(r, "ingest %s: StartTime %lld EndTime %lld%s", r->name, (long long)cur.req_start,
           (long long)cur.req_end, r->out.resumed ? " (resumed with the saved NextToken)" : "");
    memset(&req, 0, sizeof req);
    req.start_time = cur.req_start;
    req.end_time = cur.req_end;
    req.max_results = 50;
    req.next_token = cur.token;
    if (!stopping(r) &&
        (rc = bt_ct_lookup_pages(cli, &req, NULL, on_page, &ctx, NULL, &r->err)) == BT_ESTOP)
        rc = 0;
done:
    r->out.rc = rc;
    r->out.cancelled = stopping(r);
    r->out.seconds = bt_time_mono_s() - t0;
    free(cur.token);
    free(prev.token);
    free(val);
    bt_aws_client_free(cli);
    return rc;
}

static void *region_thread(void *arg)
{
    run_region(arg);
    return NULL;
}

/* The regions a spec names: NULL for the configured one. buf holds the names. */
static size_t spec_regions(const char *rs, const bt_aws_config *base, char *buf,
                           const char **regions)
{
    size_t n = 0, i;
    char *save = NULL, *t;
    if (strcmp(rs, "all") == 0) {
        const char *const *list = bt_aws_partition_regions("aws");
        bt_aws_config cfg = BT_AWS_CONFIG_INIT;
        bt_aws_client *probe = NULL;
        cfg.profile = base->profile;
        if (bt_aws_client_new(&probe, &cfg, NULL) == 0 && bt_aws_client_region(probe))
            list = bt_aws_partition_regions(bt_aws_partition(bt_aws_client_region(probe)));
        bt_aws_client_free(probe);
        for (i = 0; list && list[i] && n < MAX_REGIONS; i++)
            regions[n++] = list[i];
    } else if (!*rs) {
        regions[n++] = NULL;
    } else {
        for (t = strtok_r(buf, ",", &save); t && n < MAX_REGIONS; t = strtok_r(NULL, ",", &save))
            if (*t)
                regions[n++] = t;
    }
    return n;
}

/* With lookup:all, a region the credentials are not valid in (not enabled) is no
 * failure. */
static int skippable(const char *rs, const region *r)
{
    return strcmp(rs, "all") == 0 && r->out.rc && r->err.code == BT_EAWS &&
           (strcmp(r->err.aws_code, "UnrecognizedClientException") == 0 ||
            strcmp(r->err.aws_code, "InvalidClientTokenId") == 0 ||
            strcmp(r->err.aws_code, "OptInRequired") == 0);
}

/* Reports every region and totals them; the first failure's code, copied to err. */
static int report(const char *spec, region *runs, size_t n, const bt_ingest_opts *o,
                  bt_ingest_stats *st, bt_error *err)
{
    size_t i;
    int rc = 0;
    for (i = 0; i < n; i++) {
        region *r = &runs[i];
        r->out.source = spec;
        r->out.cursor = r->name;
        r->out.err = &r->err;
        r->out.skipped = skippable(spec + 7, r);
        st->lookup_pages += r->out.pages;
        st->lookup_events += r->out.events;
        st->lookup_new += r->out.new_events;
        st->lookup_duplicates += r->out.duplicates;
        if (o->lookup_done)
            o->lookup_done(&r->out, o->payload);
        if (r->out.rc && !r->out.skipped && !rc) {
            rc = r->out.rc;
            *err = r->err;
        }
    }
    return rc;
}

int ingest_lookup_source(bt_store *store, const char *spec, const bt_ingest_opts *o,
                         bt_ingest_stats *st, bt_error *err)
{
    bt_aws_config defaults = BT_AWS_CONFIG_INIT;
    const bt_aws_config *base = o->lookup_aws ? o->lookup_aws : o->aws ? o->aws : &defaults;
    const char *regions[MAX_REGIONS];
    char *buf = strdup(spec + 7);
    region *runs = NULL;
    pthread_t th[MAX_REGIONS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int64_t now = bt_time_now_ms();
    size_t n = 0, i;
    int rc;

    if (!buf || !(runs = calloc(MAX_REGIONS, sizeof *runs))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    n = spec_regions(spec + 7, base, buf, regions);
    for (i = 0; i < n; i++) {
        region *r = &runs[i];
        r->o = o;
        r->cfg = *base;
        r->cfg.region = regions[i];
        r->out.region = regions[i];
        r->since_s = (o->start_ms != INT64_MIN ? o->start_ms : now - 90LL * 86400000) / 1000;
        r->until_s = o->end_ms != INT64_MAX ? o->end_ms / 1000 : 0;
        r->store = store;
        r->mu = &mu;
    }
    for (i = 0; i < n; i++)
        if (n == 1 || pthread_create(&th[i], NULL, region_thread, &runs[i]) != 0)
            run_region(&runs[i]), th[i] = 0;
    for (i = 0; i < n; i++)
        if (n > 1 && th[i])
            pthread_join(th[i], NULL);
    rc = report(spec, runs, n, o, st, err);
done:
    free(runs);
    free(buf);
    return rc;
}
