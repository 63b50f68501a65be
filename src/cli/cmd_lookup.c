/* cmd_lookup.c - `buildtrail lookup`: a drop-in for `aws cloudtrail lookup-events`
 * (same options, output bytes, pagination tokens, error messages and exit codes),
 * plus what the AWS CLI cannot do: several attributes ANDed (the most selective one
 * filtered by the service, the rest here), the search filters, several regions in
 * parallel, and saving what was fetched into the store. docs/lookup.md. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buildtrail/aws.h"
#include "buildtrail/format.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/lookup.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "lookup_cli.h"

enum {
    L_ATTRS = 1, L_CATEGORY, L_MAX_ITEMS, L_STARTING, L_PAGE_SIZE, L_MAX_RESULTS, L_NEXT_TOKEN,
    L_NO_PAGINATE, L_REGION, L_PROFILE, L_ENDPOINT, L_READ_TO, L_CONNECT_TO, L_OUTPUT, L_QUERY,
    L_DEBUG, L_RATE, L_STORE
};

static const cli_opt lookup_opts[] = {
    {"lookup-attributes", 0, OPT_VALUE, "ATTRS", L_ATTRS,
     "AttributeKey=K,AttributeValue=V (shorthand), or JSON [{\"AttributeKey\":K,"
     "\"AttributeValue\":V}], or file://PATH. Keys: EventId, EventName, ReadOnly, Username, "
     "ResourceType, ResourceName, EventSource, AccessKeyId. Repeats and lists are ANDed: the "
     "most selective attribute is sent to the service, the others are applied here."},
    {"event-category", 0, OPT_VALUE, "CATEGORY", L_CATEGORY,
     "insight: CloudTrail Insights events instead of management events."},
    {"max-items", 0, OPT_VALUE, "N", L_MAX_ITEMS,
     "At most N events in all; when more remain a NextToken is printed for --starting-token."},
    {"starting-token", 0, OPT_VALUE, "TOKEN", L_STARTING,
     "Continue where an earlier --max-items output stopped (its NextToken)."},
    {"page-size", 0, OPT_VALUE, "N", L_PAGE_SIZE,
     "Events per API call (MaxResults, 1 to 50); text output prints one block per call."},
    {"max-results", 0, OPT_VALUE, "N", L_MAX_RESULTS, NULL},
    {"next-token", 0, OPT_VALUE, "TOKEN", L_NEXT_TOKEN, NULL},
    {"no-paginate", 0, OPT_FLAG, NULL, L_NO_PAGINATE,
     "One API call only; the service's own NextToken is printed."},
    {"region", 0, OPT_VALUE, "REGION", L_REGION,
     "The region to ask (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region). "
     "r1,r2 or all (every region of the partition) ask several regions in parallel and "
     "merge the events newest first."},
    {"profile", 0, OPT_VALUE, "NAME", L_PROFILE, "A profile of ~/.aws/config and ~/.aws/credentials."},
    {"endpoint-url", 0, OPT_VALUE, "URL", L_ENDPOINT,
     "Send the calls to URL (e.g. a 'buildtrail serve') instead of the region's endpoint."},
    {"cli-read-timeout", 0, OPT_VALUE, "SECONDS", L_READ_TO,
     "Socket read timeout (default 60; 0 = none)."},
    {"cli-connect-timeout", 0, OPT_VALUE, "SECONDS", L_CONNECT_TO,
     "Connect timeout (default 60; 0 = none)."},
    {"output", 'o', OPT_VALUE, "FORMAT", L_OUTPUT,
     "json (default, or AWS_DEFAULT_OUTPUT), text, table, yaml, yaml-stream as the AWS CLI "
     "prints them; also csv, and ndjson (the raw records, one per line)."},
    {"query", 0, OPT_VALUE, "JMESPATH", L_QUERY,
     "A JMESPath expression, as the AWS CLI's --query (applied per API call with text)."},
    {"debug", 0, OPT_FLAG, NULL, L_DEBUG,
     "Explain on stderr what is done: the attribute sent to the service and those applied "
     "here, each call, retries and waits. Secrets are never printed."},
    {"rate", 0, OPT_VALUE, "N", L_RATE,
     "LookupEvents calls per second per account and region (default 2, the service's "
     "limit; 0 = no limit)."},
    {"store", 0, OPT_VALUE, "PATH", L_STORE,
     "Also save every event fetched into the store PATH (duplicates dropped)."},
};
static const cli_group lookup_group = CLI_GROUP("Options (as aws cloudtrail lookup-events)",
                                                lookup_opts);
static const cli_group *const lookup_groups[] = {&lookup_group, &cli_group_filters,
                                                 &cli_group_general, NULL};

static int cmd_lookup(int argc, char **argv);

const cli_cmd cmd_lookup_def = {
    "lookup", cmd_lookup, "the live event history, as aws cloudtrail lookup-events (and more)",
    "lookup [--lookup-attributes ATTRS]... [--start-time T] [--end-time T] [filters] "
    "[--region R|r1,r2|all] [--output F] [--query Q]",
    "Calls CloudTrail LookupEvents and prints what 'aws cloudtrail lookup-events' prints, byte "
    "for byte, with the same options, pagination (--max-items, --starting-token, --page-size, "
    "--no-paginate), NextToken, error messages and exit codes (252 usage, 253 configuration "
    "or credentials, 254 service error, 255 other). Credentials, region and endpoint are "
    "resolved as AWS CLI v2 does; calls are held to 2 per second per account and region "
    "(--rate) and retried in the standard mode. Beyond the AWS CLI: several "
    "--lookup-attributes, and the filters of 'buildtrail search' (--event-name, --username, "
    "--error-code, --build, ...), combine with AND: the most selective attribute is filtered "
    "by the service and the rest here (--debug says which went where); --region r1,r2 or all "
    "asks several regions in parallel; --store saves what was fetched. Start and end times "
    "also take ages such as 2h or 7d. See docs/lookup.md.",
    lookup_groups,
    "  buildtrail lookup --lookup-attributes "
    "AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com\n"
    "  buildtrail lookup --username AWSCodeBuild-0b6e3c4e-1111-4222-8333-444455556666 "
    "--errors --output table\n"
    "  buildtrail lookup --event-name StartBuild --region all --start-time 1d "
    "--query 'Events[].[EventTime,Username]' --output text\n"
    "  buildtrail lookup --max-items 100 --store ~/ct.db\n"};

/* ---- options ------------------------------------------------------------------------ */

#define MAX_CONDS 64

typedef struct lk {
    cli_common c;
    bt_arena *a;          /* parsed option strings */
    lk_cond conds[MAX_CONDS]; /* --lookup-attributes, ANDed */
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

#define aws_msg lk_msg

static int parse_long(const char *opt, const char *v, long lo, long *out)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo) {
        aws_msg("Error parsing parameter '--%s': expected a whole number%s, got '%s'", opt,
                lo >= 0 ? " (0 or more)" : "", v);
        return -1;
    }
    *out = n;
    return 0;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    lk *L = ctx;
    long n;
    int rc;

    L->attrs_arg = 0;
    switch (o->id) {
    case L_ATTRS:
        L->attrs_arg = 1;
        return lk_parse_attrs(L->a, v, L->conds, &L->nconds, MAX_CONDS);
    case L_CATEGORY: L->category = v; return 0;
    case L_MAX_ITEMS:
        if (parse_long(o->name, v, 0, &n))
            return -1;
        L->max_items = n;
        return 0;
    case L_STARTING: L->starting_token = v; return 0;
    case L_PAGE_SIZE:
    case L_MAX_RESULTS:
        if (parse_long(o->name, v, LONG_MIN, &n))
            return -1;
        if (n < 1) {
            aws_msg("Parameter validation failed:\nInvalid value for parameter MaxResults, value: "
                    "%ld, valid min value: 1",
                    n);
            return -1;
        }
        if (o->id == L_PAGE_SIZE) {
            L->page_size = n;
            L->have_page_size = 1;
        } else {
            L->max_results = n;
            L->have_max_results = 1;
        }
        return 0;
    case L_NEXT_TOKEN: L->next_token = v; return 0;
    case L_NO_PAGINATE: L->no_paginate = 1; return 0;
    case L_REGION: L->region = v; return 0;
    case L_PROFILE: L->profile = v; return 0;
    case L_ENDPOINT: L->endpoint = v; return 0;
    case L_READ_TO:
    case L_CONNECT_TO:
        if (parse_long(o->name, v, 0, &n))
            return -1;
        n = n == 0 ? 24L * 3600 * 1000 : n * 1000;
        if (o->id == L_READ_TO)
            L->read_to_ms = n;
        else
            L->connect_to_ms = n;
        return 0;
    case L_OUTPUT: L->output = v; return 0;
    case L_QUERY: L->query = v; return 0;
    case L_DEBUG: cli_debug = 1; return 0;
    case O_START:
    case O_END: {
        /* as the AWS CLI: any order (the service checks the range); ages too */
        int64_t ms;
        bt_error err = BT_ERROR_INIT;
        if (bt_time_parse_user(v, L->c.now_ms, &ms, &err)) {
            aws_msg("Parameter validation failed:\nInvalid type for parameter %s, value: %s, "
                    "type: <class 'str'>, valid types: <class 'datetime.datetime'>, "
                    "timestamp-string",
                    o->id == O_START ? "StartTime" : "EndTime", v);
            return -1;
        }
        if (o->id == O_START)
            L->c.filter.start_ms = ms;
        else
            L->c.filter.end_ms = ms;
        return 0;
    }
    case L_STORE: L->store_path = v; return 0;
    case L_RATE: {
        char *end;
        double d = strtod(v, &end);
        if (!*v || *end || d < 0) {
            aws_msg("Error parsing parameter '--rate': expected a number of calls per second "
                    "(0 = no limit), got '%s'",
                    v);
            return -1;
        }
        L->rate = d == 0 ? -1 : d;
        return 0;
    }
    }
    rc = cli_common_opt(&L->c, o, v);
    return rc <= 0 ? rc : -1;
}

/* ---- the run ------------------------------------------------------------------------ */

static unsigned term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

typedef struct out {
    int ndjson;
    bt_format_kind kind;
    bt_jmespath *q;
    int failed; /* writing stdout failed */
} out;

/* Applies the query and prints v (whole value, or one page for the paged formats). */
static int print_value(out *o, bt_arena *a, const bt_json *v, int page)
{
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_buf b = BT_BUF_INIT;
    bt_json *res = (bt_json *)v;
    int rc;

    if (o->q && bt_jmespath_eval(o->q, a, v, &res, &err)) {
        aws_msg("%s", err.msg);
        return EXIT_AWS_OTHER;
    }
    fo.format = o->kind;
    fo.title = "LookupEvents";
    fo.width = term_width();
    rc = page ? bt_format_write_page(&b, res, &fo, &err) : bt_format_write(&b, res, &fo, &err);
    if (b.len && fwrite(b.data, 1, b.len, stdout) != b.len)
        o->failed = 1;
    bt_buf_dispose(&b);
    if (rc) {
        aws_msg("%s", err.msg);
        return EXIT_AWS_OTHER;
    }
    return 0;
}

static bt_json *events_object(bt_arena *a, bt_json *events)
{
    bt_json *root = bt_json_new_object(a, 2);
    if (!root || !events || bt_json_object_put(a, root, "Events", 6, events))
        return NULL;
    return root;
}

static void debug_line(void *payload, const char *line)
{
    (void)payload;
    fprintf(stderr, "buildtrail: debug: %s\n", line);
}

/* What one region's run produced (several regions: merged afterwards). */
typedef struct region_run {
    const lk *L;
    const lk_plan *plan;
    out *o;
    const char *region;   /* NULL = the configured one */
    int collect;          /* several regions: collect (time, value) items, print nothing */
    bt_store *store;      /* --store, or NULL */
    pthread_mutex_t *store_mu;
    bt_aws_client *cli;
    bt_arena *keep;       /* values printed at the end live here */
    bt_json *events;      /* merged formats: every kept event */
    lk_item *items;
    size_t nitems, citems;
    char *resume;         /* --max-items resume token (malloc'd) */
    char *raw_next;       /* --no-paginate: the service's NextToken */
    uint64_t pages, fetched, kept, stored;
    int code;             /* exit code of a failure, 0 */
    bt_error err;
    char endpoint[512];
} region_run;

static int save_page(region_run *r, bt_arena *a, const bt_ct_lookup_page *pg)
{
    size_t i;
    int rc = 0, is_new;
    if (!r->store)
        return 0;
    if (r->store_mu)
        pthread_mutex_lock(r->store_mu);
    if ((rc = bt_store_begin(r->store, &r->err)))
        goto done;
    for (i = 0; i < pg->nevents; i++) {
        bt_event ev;
        bt_error e2 = BT_ERROR_INIT;
        if (bt_ct_event_record(a, &pg->events[i], &ev, &e2))
            continue; /* no record to save */
        if ((rc = bt_store_add(r->store, &ev, &is_new, &r->err)))
            goto done;
        r->stored += (uint64_t)is_new;
    }
    rc = bt_store_commit(r->store, &r->err);
done:
    if (rc)
        bt_store_rollback(r->store);
    if (r->store_mu)
        pthread_mutex_unlock(r->store_mu);
    if (rc)
        r->code = cli_fail(&r->err, EXIT_AWS_OTHER);
    return rc;
}

/* The AWS CLI's message and exit code for a failed call. */
static int call_failed(region_run *r)
{
    const bt_error *e = &r->err;
    const char *pre = r->collect && r->region ? r->region : NULL;
    char where[80] = "";
    if (pre)
        snprintf(where, sizeof where, "[%s] ", pre);
    if (e->code == BT_EAWS && strcmp(e->aws_code, "PaginationError") == 0) {
        aws_msg("%sError: The same next token was received twice", where);
        return EXIT_AWS_OTHER;
    }
    if (e->code == BT_EAWS) {
        char msg[BT_ERROR_MSG_MAX], retries[64] = "";
        lk_service_message(e->msg, msg, sizeof msg, retries, sizeof retries);
        aws_msg("%sAn error occurred (%s) when calling the LookupEvents operation%s: %s", where,
                e->aws_code, retries, msg);
        return EXIT_AWS_SERVICE;
    }
    if (e->code == BT_ECRED) {
        aws_msg("%sUnable to locate credentials. You can configure credentials by running "
                "\"aws configure\".\n(%s)",
                where, e->msg);
        return EXIT_AWS_CONFIG;
    }
    if (e->code == BT_ECONFIG) {
        if (strstr(e->msg, "Missing Region") || strstr(e->msg, "no region")) {
            aws_msg("%sYou must specify a region. You can also configure your region by running "
                    "\"aws configure\".",
                    where);
            return EXIT_AWS_CONFIG;
        }
        aws_msg("%s%s", where, e->msg);
        return EXIT_AWS_CONFIG;
    }
    if (e->code == BT_EHTTP) {
        if (strstr(e->msg, "onnect") && !strstr(e->msg, "timed out")) {
            aws_msg("%sCould not connect to the endpoint URL: \"%s/\"", where, r->endpoint);
            return EXIT_AWS_OTHER;
        }
        if (strstr(e->msg, "timed out") || strstr(e->msg, "Timeout")) {
            aws_msg("%s%s timeout on endpoint URL: \"%s/\"", where,
                    strstr(e->msg, "onnect") ? "Connect" : "Read", r->endpoint);
            return EXIT_AWS_OTHER;
        }
    }
    aws_msg("%s%s", where, e->msg[0] ? e->msg : bt_strerror(e->code));
    return EXIT_AWS_OTHER;
}

static int push_item(region_run *r, int64_t ms, bt_json *v)
{
    if (r->nitems == r->citems) {
        size_t n = r->citems ? r->citems * 2 : 256;
        lk_item *p = realloc(r->items, n * sizeof *p);
        if (!p)
            return BT_ENOMEM;
        r->items = p;
        r->citems = n;
    }
    r->items[r->nitems].ms = ms;
    r->items[r->nitems].seq = r->nitems;
    r->items[r->nitems].v = v;
    r->nitems++;
    return 0;
}

/* One region: pages until the end, --max-items, or --no-paginate. Text and
 * yaml-stream print each page as it arrives; the other formats merge. */
static int run_region(region_run *r)
{
    const lk *L = r->L;
    const lk_plan *p = r->plan;
    out *o = r->o;
    bt_ct_lookup_request req;
    bt_arena *pa = NULL;
    char *token = NULL;
    long trunc = 0;
    int64_t emitted = 0;
    int first = 1, rc = 0, paged = !r->collect && !L->no_paginate && !o->ndjson &&
                                   bt_format_is_paged(o->kind);
    size_t *keep = NULL, kcap = 0;

    memset(&req, 0, sizeof req);
    req.attr_key = p->server ? p->server->key : NULL;
    req.attr_value = p->server ? p->server->values[0] : NULL;
    if (L->c.filter.start_ms != INT64_MIN)
        req.start_time = L->c.filter.start_ms / 1000;
    if (L->c.filter.end_ms != INT64_MAX)
        req.end_time = L->c.filter.end_ms / 1000;
    req.category = L->category;
    req.max_results = L->have_max_results ? (int)L->max_results
                      : L->have_page_size ? (int)L->page_size
                                          : 0;
    if (L->next_token) {
        token = strdup(L->next_token);
    } else if (L->starting_token &&
               bt_ct_token_decode(L->starting_token, &token, &trunc, &r->err) != 0) {
        aws_msg("%s", r->err.msg);
        return r->code = EXIT_AWS_OTHER;
    }
    if (!(pa = bt_arena_new(1 << 20, 0)))
        goto oom;
    for (;;) {
        bt_ct_lookup_page pg;
        bt_arena *a = paged || o->ndjson ? pa : r->keep;
        size_t i, nk = 0, start;
        const char *next;
        bt_json *list;

        if (paged || o->ndjson)
            bt_arena_reset(pa);
        req.next_token = token;
        rc = lk_lookup_page(r->cli, &req, a, &pg, &r->err);
        if (rc) {
            r->code = call_failed(r);
            goto done;
        }
        r->pages++;
        r->fetched += pg.nevents;
        start = first ? (size_t)(trunc < 0 ? 0 : trunc) : 0;
        first = 0;
        if (start > pg.nevents)
            start = pg.nevents;
        if (save_page(r, a, &pg))
            goto done;
        if (pg.nevents > kcap) {
            size_t *k2 = realloc(keep, pg.nevents * sizeof *keep);
            if (!k2)
                goto oom;
            keep = k2;
            kcap = pg.nevents;
        }
        for (i = start; i < pg.nevents; i++) {
            int m = lk_plan_match(p, a, &pg.events[i]);
            if (m < 0)
                goto oom;
            if (m)
                keep[nk++] = i;
        }
        if (cli_debug)
            fprintf(stderr, "buildtrail: debug: lookup%s%s: page %llu: %zu events, %zu kept, %s\n",
                    r->region ? " " : "", r->region ? r->region : "",
                    (unsigned long long)r->pages, pg.nevents, nk,
                    pg.next_token ? "more pages" : "last page");
        /* --max-items: cut inside this page, resumable where the cut is */
        if (!r->collect && L->max_items >= 0 && emitted + (int64_t)nk > L->max_items) {
            bt_buf t = BT_BUF_INIT;
            size_t k = (size_t)(L->max_items - emitted);
            long amount = k ? (long)keep[k - 1] + 1 : (long)start;
            nk = k;
            if (bt_ct_token_encode(token, amount, &t))
                goto oom;
            r->resume = bt_buf_detach(&t);
        }
        r->kept += nk;
        emitted += (int64_t)nk;
        /* the page's events */
        list = bt_json_new_array(a, nk ? nk : 1);
        if (!list)
            goto oom;
        for (i = 0; i < nk; i++) {
            const bt_ct_event *ev = &pg.events[keep[i]];
            bt_json *v;
            if (o->ndjson) {
                if (ev->cloudtrail_event) {
                    flockfile(stdout); /* regions print from several threads */
                    if (fwrite(ev->cloudtrail_event, 1, ev->cloudtrail_event_len, stdout) !=
                            ev->cloudtrail_event_len ||
                        fputc('\n', stdout) == EOF)
                        o->failed = 1;
                    funlockfile(stdout);
                }
                continue;
            }
            v = bt_ct_event_cli_value(a, ev);
            if (!v)
                goto oom;
            if (r->collect) {
                if (push_item(r, bt_ct_event_time_ms(ev), v))
                    goto oom;
            } else if (bt_json_array_push(a, paged ? list : r->events, v)) {
                goto oom;
            }
        }
        if (paged) {
            bt_json *pv = events_object(a, list);
            if (!pv)
                goto oom;
            if ((r->code = print_value(o, a, pv, 1)))
                goto done;
        }
        if (r->resume)
            break;
        next = pg.next_token;
        if (L->no_paginate || L->next_token || L->have_max_results) {
            if (next && !(r->raw_next = strdup(next)))
                goto oom;
            break;
        }
        if (!next || !*next)
            break;
        if (!r->collect && L->max_items >= 0 && emitted == L->max_items) {
            bt_buf t = BT_BUF_INIT;
            if (bt_ct_token_encode(next, -1, &t))
                goto oom;
            r->resume = bt_buf_detach(&t);
            break;
        }
        if (token && strcmp(token, next) == 0) {
            bt_error_set(&r->err, BT_EAWS, "the same NextToken came back twice");
            snprintf(r->err.aws_code, sizeof r->err.aws_code, "PaginationError");
            r->code = call_failed(r);
            goto done;
        }
        free(token);
        if (!(token = strdup(next)))
            goto oom;
    }
    goto done;
oom:
    cli_err("out of memory");
    r->code = EXIT_AWS_OTHER;
done:
    free(keep);
    free(token);
    bt_arena_free(pa);
    return r->code;
}

static void *region_thread(void *arg)
{
    run_region(arg);
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

static int make_client(const lk *L, const char *region, bt_aws_client **cli, char *endpoint,
                       size_t cap)
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
        cfg.log = debug_line;
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

static int cmd_lookup(int argc, char **argv)
{
    lk L;
    lk_plan plan;
    out o;
    char **pos = NULL, *regions_buf = NULL;
    const char *regions[64];
    size_t nregions = 0, i;
    int npos = 0, rc, code = EXIT_OK, all = 0;
    region_run *runs = NULL;
    bt_store *store = NULL;
    pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
    bt_error err = BT_ERROR_INIT;
    bt_arena *outa = NULL;

    memset(&L, 0, sizeof L);
    memset(&plan, 0, sizeof plan);
    memset(&o, 0, sizeof o);
    cli_common_init(&L.c);
    L.max_items = -1;
    L.a = bt_arena_new(1 << 14, 0);
    if (!L.a)
        return EXIT_AWS_OTHER;
    rc = cli_parse(&cmd_lookup_def, argc, argv, on_opt, &L, &pos, &npos);
    if (rc) {
        code = rc > 0 ? EXIT_OK : EXIT_AWS_USAGE;
        goto done;
    }
    /* words after --lookup-attributes are more attributes, as in the AWS CLI */
    for (i = 0; i < (size_t)npos; i++) {
        if (!lk_follows_attrs(argc, argv, pos[i])) {
            aws_msg("Unknown options: %s", pos[i]);
            code = EXIT_AWS_USAGE;
            goto done;
        }
        if (lk_parse_attrs(L.a, pos[i], L.conds, &L.nconds, MAX_CONDS)) {
            code = EXIT_AWS_USAGE;
            goto done;
        }
    }
    /* pagination switches, as awscli/customizations/paginate.py checks them */
    if (L.next_token || L.have_max_results || L.no_paginate) {
        char used[128] = "";
        if (L.starting_token)
            strcat(used, "--starting-token");
        if (L.have_page_size)
            strcat(strcat(used, used[0] ? ", " : ""), "--page-size");
        if (L.max_items >= 0)
            strcat(strcat(used, used[0] ? ", " : ""), "--max-items");
        if (used[0]) {
            aws_msg("Cannot specify --no-paginate along with pagination arguments: %s", used);
            code = EXIT_AWS_USAGE;
            goto done;
        }
    }
    /* output */
    if (!L.output)
        L.output = getenv("AWS_DEFAULT_OUTPUT") && *getenv("AWS_DEFAULT_OUTPUT")
                       ? getenv("AWS_DEFAULT_OUTPUT")
                       : "json";
    if (strcmp(L.output, "ndjson") == 0) {
        o.ndjson = 1;
        if (L.query) {
            aws_msg("--query does not apply to --output ndjson (raw records)");
            code = EXIT_AWS_USAGE;
            goto done;
        }
    } else if (bt_format_parse_name(L.output, &o.kind, &err)) {
        aws_msg("argument --output: Invalid choice '%s', valid choices are: json, text, table, "
                "yaml, yaml-stream (and csv, ndjson)",
                L.output);
        code = EXIT_AWS_USAGE;
        goto done;
    }
    if (L.query && bt_jmespath_compile(L.query, &o.q, &err)) {
        aws_msg("Bad value for --query %s: %s", L.query, err.msg);
        code = EXIT_AWS_USAGE;
        goto done;
    }
    /* which attribute the service filters on, which are applied here */
    if (lk_plan_make(&plan, L.conds, L.nconds, &L.c.filter, L.a, &err)) {
        aws_msg("%s", err.msg);
        code = EXIT_AWS_USAGE;
        goto done;
    }
    if (cli_debug)
        lk_plan_debug(&plan, stderr);
    /* regions */
    if (L.region && (strchr(L.region, ',') || strcmp(L.region, "all") == 0)) {
        char *save = NULL, *t;
        if (strcmp(L.region, "all") == 0) {
            const char *part = "aws";
            const char *const *list;
            bt_aws_client *probe = NULL;
            char ep[512];
            all = 1;
            /* the partition of the configured region, else aws */
            bt_aws_config pc = BT_AWS_CONFIG_INIT;
            (void)ep;
            pc.profile = L.profile;
            if (bt_aws_client_new(&probe, &pc, NULL) == 0 && bt_aws_client_region(probe))
                part = bt_aws_partition(bt_aws_client_region(probe));
            bt_aws_client_free(probe);
            list = bt_aws_partition_regions(part);
            for (i = 0; list && list[i] && nregions < 64; i++)
                regions[nregions++] = list[i];
        } else {
            regions_buf = strdup(L.region);
            for (t = regions_buf ? strtok_r(regions_buf, ",", &save) : NULL; t && nregions < 64;
                 t = strtok_r(NULL, ",", &save))
                if (*t)
                    regions[nregions++] = t;
        }
        if (nregions > 1 && (L.starting_token || L.next_token)) {
            aws_msg("--starting-token and --next-token take one region, not several");
            code = EXIT_AWS_USAGE;
            goto done;
        }
    } else {
        regions[nregions++] = L.region;
    }
    if (L.store_path) {
        if (bt_store_open(L.store_path, 0, &store, &err)) {
            aws_msg("%s", err.msg);
            code = EXIT_AWS_OTHER;
            goto done;
        }
    }
    runs = calloc(nregions, sizeof *runs);
    outa = bt_arena_new(1 << 20, 0);
    if (!runs || !outa) {
        cli_err("out of memory");
        code = EXIT_AWS_OTHER;
        goto done;
    }
    for (i = 0; i < nregions; i++) {
        region_run *r = &runs[i];
        r->L = &L;
        r->plan = &plan;
        r->o = &o;
        r->region = regions[i];
        r->collect = nregions > 1;
        r->store = store;
        r->store_mu = nregions > 1 ? &store_mu : NULL;
        r->keep = r->collect ? bt_arena_new(1 << 20, 0) : outa;
        r->events = bt_json_new_array(outa, 64);
        if (!r->keep || !r->events) {
            cli_err("out of memory");
            code = EXIT_AWS_OTHER;
            goto done;
        }
        if ((code = make_client(&L, regions[i], &r->cli, r->endpoint, sizeof r->endpoint)))
            goto done;
    }
    if (nregions == 1) {
        region_run *r = &runs[0];
        if ((code = run_region(r)))
            goto done;
        if (o.ndjson) {
            /* printed as it came */
        } else if (L.no_paginate || L.next_token || L.have_max_results) {
            bt_json *root = events_object(outa, r->events);
            if (!root || (r->raw_next && bt_json_object_put(outa, root, "NextToken", 9,
                                                             bt_json_new_string(outa, r->raw_next,
                                                                                strlen(r->raw_next)))))
                goto oom;
            code = print_value(&o, outa, root, 0);
        } else if (bt_format_is_paged(o.kind)) {
            if (r->resume && o.kind == BT_FORMAT_TEXT) {
                bt_json *t = bt_format_next_token_value(outa, r->resume, strlen(r->resume));
                if (!t)
                    goto oom;
                code = print_value(&o, outa, t, 1);
            }
        } else {
            bt_json *root = events_object(outa, r->events);
            if (!root || (r->resume && bt_json_object_put(outa, root, "NextToken", 9,
                                                           bt_json_new_string(outa, r->resume,
                                                                              strlen(r->resume)))))
                goto oom;
            code = print_value(&o, outa, root, 0);
        }
    } else {
        pthread_t *th = calloc(nregions, sizeof *th);
        lk_item *all_items = NULL;
        size_t n = 0, k, failed = 0;
        bt_json *list;
        if (!th)
            goto oom;
        for (i = 0; i < nregions; i++)
            if (pthread_create(&th[i], NULL, region_thread, &runs[i]) != 0)
                region_thread(&runs[i]), th[i] = 0;
        for (i = 0; i < nregions; i++)
            if (th[i])
                pthread_join(th[i], NULL);
        free(th);
        for (i = 0; i < nregions; i++) {
            if (runs[i].code && !(all && region_not_enabled(&runs[i].err)))
                failed++, code = code ? code : runs[i].code;
            else if (runs[i].code && cli_debug)
                fprintf(stderr, "buildtrail: debug: lookup %s: skipped (%s)\n", runs[i].region,
                        runs[i].err.aws_code);
            n += runs[i].nitems;
        }
        all_items = calloc(n ? n : 1, sizeof *all_items);
        if (!all_items)
            goto oom;
        for (i = 0, n = 0; i < nregions; i++)
            for (k = 0; k < runs[i].nitems; k++) {
                all_items[n] = runs[i].items[k];
                all_items[n++].region = i;
            }
        qsort(all_items, n, sizeof *all_items, cmp_items);
        if (L.max_items >= 0 && (int64_t)n > L.max_items)
            n = (size_t)L.max_items;
        list = bt_json_new_array(outa, n ? n : 1);
        for (k = 0; list && k < n; k++)
            if (bt_json_array_push(outa, list, all_items[k].v))
                list = NULL;
        free(all_items);
        if (!list)
            goto oom;
        if (!o.ndjson && !failed) {
            bt_json *root = events_object(outa, list);
            if (!root)
                goto oom;
            code = print_value(&o, outa, root, bt_format_is_paged(o.kind));
        }
        if (cli_debug)
            for (i = 0; i < nregions; i++)
                fprintf(stderr, "buildtrail: debug: lookup %s: %llu pages, %llu events fetched, %llu kept\n",
                        runs[i].region, (unsigned long long)runs[i].pages,
                        (unsigned long long)runs[i].fetched, (unsigned long long)runs[i].kept);
    }
    if (store && cli_debug)
        for (i = 0; i < nregions; i++)
            fprintf(stderr, "buildtrail: debug: lookup: %llu new events saved in '%s'\n",
                    (unsigned long long)runs[i].stored, L.store_path);
    if (fflush(stdout) != 0 || o.failed) {
        if (code == EXIT_OK) {
            cli_err("cannot write the output");
            code = EXIT_AWS_OTHER;
        }
    }
    goto done;
oom:
    cli_err("out of memory");
    code = EXIT_AWS_OTHER;
done:
    for (i = 0; runs && i < nregions; i++) {
        bt_aws_client_free(runs[i].cli);
        if (runs[i].keep != outa)
            bt_arena_free(runs[i].keep);
        free(runs[i].items);
        free(runs[i].resume);
        free(runs[i].raw_next);
    }
    free(runs);
    bt_store_close(store);
    bt_jmespath_free(o.q);
    bt_arena_free(outa);
    bt_arena_free(L.a);
    free(regions_buf);
    free(pos);
    return code;
}
