/* cmd_lookup.c - `buildtrail lookup`: a drop-in for `aws cloudtrail lookup-events`
 * (same options, output bytes, pagination tokens, error messages and exit codes),
 * plus what the AWS CLI cannot do: several attributes ANDed (the most selective one
 * filtered by the service, the rest here), the search filters, several regions in
 * parallel, and saving what was fetched into the store. docs/lookup.md. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/timeutil.h"
#include "lookup_run.h"

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
        return lk_parse_attrs(L->a, v, L->conds, &L->nconds, LK_MAX_CONDS);
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
            /* the message every command gives (not the AWS CLI's Python type error) */
            cli_err("--%s %s", o->name, err.msg);
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

/* ---- checks ------------------------------------------------------------------------- */

/* Extra words after --lookup-attributes, the pagination switches (as
 * awscli/customizations/paginate.py checks them), --output and --query. 0 or an exit
 * code after the AWS CLI's message. */
static int check_args(lk *L, lk_out *o, int argc, char **argv, char **pos, int npos)
{
    bt_error err = BT_ERROR_INIT;
    int i;
    for (i = 0; i < npos; i++) {
        if (!lk_follows_attrs(argc, argv, pos[i])) {
            aws_msg("Unknown options: %s", pos[i]);
            return EXIT_AWS_USAGE;
        }
        if (lk_parse_attrs(L->a, pos[i], L->conds, &L->nconds, LK_MAX_CONDS))
            return EXIT_AWS_USAGE;
    }
    if (L->next_token || L->have_max_results || L->no_paginate) {
        char used[128] = "";
        if (L->starting_token)
            strcat(used, "--starting-token");
        if (L->have_page_size)
            strcat(strcat(used, used[0] ? ", " : ""), "--page-size");
        if (L->max_items >= 0)
            strcat(strcat(used, used[0] ? ", " : ""), "--max-items");
        if (used[0]) {
            aws_msg("Cannot specify --no-paginate along with pagination arguments: %s", used);
            return EXIT_AWS_USAGE;
        }
    }
    if (!L->output)
        L->output = getenv("AWS_DEFAULT_OUTPUT") && *getenv("AWS_DEFAULT_OUTPUT")
                        ? getenv("AWS_DEFAULT_OUTPUT")
                        : "json";
    if (strcmp(L->output, "ndjson") == 0) {
        o->ndjson = 1;
        if (L->query) {
            aws_msg("--query does not apply to --output ndjson (raw records)");
            return EXIT_AWS_USAGE;
        }
    } else if (bt_format_parse_name(L->output, &o->kind, &err)) {
        aws_msg("argument --output: Invalid choice '%s', valid choices are: json, text, table, "
                "yaml, yaml-stream (and csv, ndjson)",
                L->output);
        return EXIT_AWS_USAGE;
    }
    if (L->query && bt_jmespath_compile(L->query, &o->q, &err)) {
        aws_msg("Bad value for --query %s: %s", L->query, err.msg);
        return EXIT_AWS_USAGE;
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------------------ */

/* One region: run, then print what the format prints at the end. */
static int run_single(lk_region *r, bt_arena *outa)
{
    const lk *L = r->L;
    lk_out *o = r->o;
    bt_json *root;
    const char *next = NULL;
    int code = lk_run_region(r);

    if (code || o->ndjson) /* ndjson: printed as it came */
        return code;
    if (L->no_paginate || L->next_token || L->have_max_results) {
        next = r->raw_next;
    } else if (bt_format_is_paged(o->kind)) {
        bt_json *t;
        if (!r->resume || o->kind != BT_FORMAT_TEXT)
            return 0;
        if (!(t = bt_format_next_token_value(outa, r->resume, strlen(r->resume))))
            goto oom;
        return lk_print_value(o, outa, t, 1);
    } else {
        next = r->resume;
    }
    root = lk_events_object(outa, r->events);
    if (!root || (next && bt_json_object_put(outa, root, "NextToken", 9,
                                             bt_json_new_string(outa, next, strlen(next)))))
        goto oom;
    return lk_print_value(o, outa, root, 0);
oom:
    cli_err("out of memory");
    return EXIT_AWS_OTHER;
}


static int cmd_lookup(int argc, char **argv)
{
    lk L;
    bt_ct_plan plan;
    lk_out o;
    char **pos = NULL, *regions_buf = NULL;
    const char *regions[64];
    size_t nregions = 0, i;
    int npos = 0, rc, code = EXIT_OK, all = 0;
    lk_region *runs = NULL;
    bt_store *store = NULL;
    pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
    bt_error err = BT_ERROR_INIT;
    bt_arena *outa = NULL;

    memset(&L, 0, sizeof L);
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
    if ((code = check_args(&L, &o, argc, argv, pos, npos)))
        goto done;
    /* which attribute the service filters on, which are applied here */
    if (bt_ct_plan_make(&plan, L.conds, L.nconds, &L.c.filter, L.a, &err)) {
        aws_msg("%s", err.msg);
        code = EXIT_AWS_USAGE;
        goto done;
    }
    if (cli_debug) {
        bt_buf d = BT_BUF_INIT;
        if (bt_ct_plan_describe(&plan, &d) == 0)
            fprintf(stderr, "buildtrail: debug: lookup: %s\n", d.data);
        bt_buf_dispose(&d);
    }
    if ((code = lk_pick_regions(&L, regions, &nregions, &all, &regions_buf)))
        goto done;
    if (L.store_path && cli_store_open(L.store_path, 0, &store, &err)) {
        aws_msg("%s", err.msg);
        code = EXIT_AWS_OTHER;
        goto done;
    }
    runs = calloc(nregions, sizeof *runs);
    outa = bt_arena_new(1 << 20, 0);
    if (!runs || !outa) {
        cli_err("out of memory");
        code = EXIT_AWS_OTHER;
        goto done;
    }
    if ((code = lk_setup_runs(&L, &plan, &o, regions, nregions, store, &store_mu, outa, runs)))
        goto done;
    code = nregions == 1 ? run_single(&runs[0], outa) : lk_run_regions(runs, nregions, all, outa);
    if (store && cli_debug)
        for (i = 0; i < nregions; i++)
            fprintf(stderr, "buildtrail: debug: lookup: %llu new events saved in '%s'\n",
                    (unsigned long long)runs[i].stored, L.store_path);
    if ((fflush(stdout) != 0 || o.failed) && code == EXIT_OK) {
        cli_err("cannot write the output");
        code = EXIT_AWS_OTHER;
    }
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
