/* cmd_search.c - `buildtrail search`: filtered search of the store, or of files or
 * S3 archives directly with --from (no store), newest first. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/rules.h"
#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "cli.h"
#include "config.h"

enum { O_FROM = 1, O_RULE, O_MAX_RECORD, O_INSIGHTS, O_TOKEN, O_REVERSE };

static const cli_opt search_opts[] = {
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "human: a table for people (time, event, source, principal, error, resources), the "
     "default when stdout is a terminal and --query is not given; json (the default otherwise, "
     "so scripts keep working), ndjson (raw records, one per line), text, table, yaml, "
     "yaml-stream or csv, as the AWS CLI prints them (csv: nested values as dotted "
     "columns, Resources.0.ResourceName)."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY,
     "A JMESPath expression applied to the output, as the AWS CLI's --query. Each event "
     "also has Record, its parsed CloudTrailEvent, for the queries that name it "
     "(Events[?Record.errorCode=='AccessDenied']). With ndjson it applies to each line's "
     "record and prints its result as one line (--query '{id: eventID, e: errorCode}')."},
    {"from", 0, OPT_VALUE, "PATH", O_FROM,
     "Scan PATH (file, directory, - for stdin, or a trail's S3 archive s3://bucket[/prefix]; "
     "repeatable) directly instead of the store, like grep over an archive. For s3:// the "
     "time window, --account and --region choose the day prefixes read."},
    {"rule", 0, OPT_VALUE, "PATH", O_RULE,
     "Only events that a Sigma detection rule matches: a rule file, a directory of them or "
     "'builtin' (repeatable; see hunt). Derived fields that need build lifecycles are absent "
     "here: use hunt for those rules."},
    {"max-record-size", 0, OPT_VALUE, "BYTES", O_MAX_RECORD,
     "With --from: refuse records larger than this (default 1048576), counted (exit status 3)."},
    {"insights", 0, OPT_FLAG, NULL, O_INSIGHTS,
     "CloudTrail Insights events instead of API calls and build events (EventName and "
     "EventSource are those of the call the insight is about)."},
};
static const cli_group search_group = CLI_GROUP("Search options", search_opts);
static const cli_opt page_opts[] = {
    {"max-items", 0, OPT_VALUE, "N", O_MAX_ITEMS,
     "At most N events. When more match, the output ends with a NextToken (on stderr for "
     "ndjson and the table for people) to give to --starting-token."},
    {"starting-token", 0, OPT_VALUE, "TOKEN", O_TOKEN,
     "Continue where an earlier search with --max-items stopped (the store only)."},
    {"reverse", 0, OPT_FLAG, NULL, O_REVERSE, "Oldest first (default: newest first)."},
};
static const cli_group page_group = CLI_GROUP("Paging and order", page_opts);
static const cli_group *const search_groups[] = {
    &search_group, &page_group,      &cli_group_filters, &cli_group_output,
    &cli_group_s3, &cli_group_store, &cli_group_general, NULL};

static int cmd_search(int argc, char **argv);

const cli_cmd cmd_search_def = {
    "search",
    cmd_search,
    "search the store, or files directly with --from",
    "search [--from PATH]... [--rule PATH]... [filters] [output options]",
    "Prints the events that match every filter, newest first. Repeats of one filter are "
    "ORed and different filters are ANDed, so several attributes combine (the LookupEvents "
    "API takes only one). Without --from the store is searched; with --from the files are "
    "scanned directly, in parallel, without a store (a record delivered twice shows once; "
    "matches past 16 MB are sorted through a temporary file in $TMPDIR, so memory stays "
    "bounded whatever the archive). --output json prints the LookupEvents "
    "response shape (Events[] with EventId, EventName, ReadOnly, AccessKeyId, EventTime, "
    "EventSource, Username, Resources, CloudTrailEvent), so --query expressions written for "
    "'aws cloudtrail lookup-events' work unchanged; --output ndjson prints the raw records.",
    search_groups,
    "  buildtrail search --event-source codebuild.amazonaws.com --event-name StartBuild\n"
    "  buildtrail search --build web-api:0b6e3c4e-... --errors --output table\n"
    "  buildtrail search --from ./AWSLogs --username AWSCodeBuild-0b6e3c4e-... -o ndjson\n"
    "  buildtrail search --from s3://my-trail-bucket --start-time 2d --event-name StartBuild\n"
    "  buildtrail search --start-time 7d --query 'Events[].[EventTime,EventName,Username]' "
    "--output text\n"};

typedef struct search {
    cli_common c;
    cli_s3 s3;
    const char **from;
    int nfrom;
    size_t max_record;
    cli_out *out;
    /* --from: the matches, put in order in bounded memory */
    bt_event_sorter *sorted;
    bt_error err;
    /* --rule */
    const char **rules;
    int nrules;
    bt_ruleset *rs;
    bt_build_tracker *tracker;
    bt_arena *scratch;
    uint64_t shown;
    /* paging */
    int reverse, more, has_token;
    bt_store_pos after, last;
} search;

/* 1 when ev passes the --rule set (or there is none), 0 when not, BT_ENOMEM */
static int rule_pass(search *s, const bt_event *ev)
{
    return s->rs ? bt_rules_filter_event(s->rs, s->tracker, s->scratch, ev) : 1;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    search *s = ctx;
    int rc = cli_s3_or_common_opt(&s->s3, &s->c, o, v);
    if (rc <= 0)
        return rc;
    if (o->id == O_FROM) {
        s->from[s->nfrom++] = v;
        return 0;
    }
    if (o->id == O_RULE) {
        s->rules[s->nrules++] = v;
        return 0;
    }
    if (o->id == O_MAX_RECORD)
        return cli_parse_bytes(o->name, v, &s->max_record);
    if (o->id == O_INSIGHTS) {
        s->c.filter.kinds = 1u << BT_KIND_INSIGHT;
        return 0;
    }
    if (o->id == O_REVERSE) {
        s->reverse = 1;
        return 0;
    }
    if (o->id == O_TOKEN) {
        long long t, q;
        char end;
        if (sscanf(v, "bt1:%lld:%lld%c", &t, &q, &end) != 2) {
            cli_err("--starting-token '%s': not a token this command printed", v);
            return -1;
        }
        s->after.time_ms = t;
        s->after.seq = q;
        s->has_token = 1;
        return 0;
    }
    return -1;
}

static int on_store_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    search *s = ctx;
    int rc;
    if ((rc = rule_pass(s, ev)) <= 0)
        return rc;
    if (s->c.max_items && s->shown >= s->c.max_items) {
        s->more = 1; /* one more than asked for: the next page starts after the last shown */
        return BT_ESTOP;
    }
    s->shown++;
    s->last = *pos;
    return cli_out_event(s->out, ev);
}

static int on_batch(void *ctx, const bt_batch *b)
{
    search *s = ctx;
    size_t i;
    for (i = 0; i < b->n; i++) {
        int pass = rule_pass(s, &b->events[i]), rc;
        if (pass < 0)
            return pass;
        if (pass && (rc = bt_event_sorter_add(s->sorted, &b->events[i], &s->err)))
            return rc;
    }
    return 0;
}

static void on_file_error(void *ctx, const char *path, const bt_error *err)
{
    (void)ctx;
    (void)path;
    cli_err("%s", err->msg);
}

static int print_event(void *ctx, const bt_event *ev)
{
    return cli_out_event(ctx, ev);
}

static int scan_files(search *s)
{
    bt_file_list l = {0};
    bt_read_stats st;
    bt_scan_opts so;
    size_t i, nurls = 0, nlocal = 0;
    int code = EXIT_OK, rc;

    memset(&st, 0, sizeof st);
    for (i = 0; i < (size_t)s->nfrom; i++)
        if (cli_is_s3_url(s->from[i])) {
            if (cli_s3_check_url(s->from[i], &s->err)) {
                code = cli_fail(&s->err, EXIT_USAGE);
                goto done;
            }
            nurls++;
        } else if (++nlocal && bt_file_list_add_later(&l, s->from[i], &s->err) &&
                   (s->err.code == BT_ENOMEM || bt_file_list_add_failed(&l, s->from[i], &s->err) ||
                    s->nfrom == 1)) {
            /* beside other paths a missing one is reported by the scan, the rest read */
            code = cli_fail(&s->err, s->err.code == BT_ENOTFOUND || s->err.code == BT_EINVAL
                                         ? EXIT_USAGE
                                         : EXIT_ERROR);
            goto done;
        }
    /* with --max-items N, each sorted run keeps its first N events: no more can show
     * (the rules filter before events are added) */
    if (bt_event_sorter_new(s->reverse, (size_t)s->c.max_items, &s->sorted)) {
        cli_err("out of memory");
        code = EXIT_ERROR;
        goto done;
    }
    memset(&so, 0, sizeof so);
    so.threads = s->c.threads;
    so.filter = &s->c.filter;
    so.on_batch = on_batch;
    so.on_file_error = on_file_error;
    so.max_record = s->max_record;
    so.dedup = 0; /* duplicate deliveries are dropped as the matches are sorted */
    so.ctx = s;
    /* the directories are walked as the scan reads (its warning said once it is done) */
    rc = nlocal || !nurls ? bt_scan_files(&l, &so, &st, &s->err) : 0;
    if (l.warning)
        cli_warn("%s", l.warning);
    for (i = 0; !rc && i < (size_t)s->nfrom; i++)
        if (cli_is_s3_url(s->from[i]))
            rc = cli_s3_scan(&s->s3, s->from[i], &s->c.filter, &so, NULL, NULL, &st, &s->err);
    if (!rc)
        rc = bt_event_sorter_finish(s->sorted, &s->err);
    if (rc) {
        code = rc == BT_ENOMEM && !s->err.code ? (cli_err("out of memory"), EXIT_ERROR)
                                               : cli_fail(&s->err, EXIT_ERROR);
        goto done;
    }
    bt_error_clear(&s->err);
    if ((rc = bt_event_sorter_each(s->sorted, (size_t)s->c.max_items, cli_out_raw_only(s->out),
                                   print_event, s->out, &s->err)) &&
        rc != BT_ESTOP)
        code = s->err.code ? cli_fail(&s->err, EXIT_ERROR) : EXIT_ERROR; /* (stdout: said) */
    if (cli_debug) {
        uint64_t spilled, file;
        size_t runs;
        bt_event_sorter_stats(s->sorted, &spilled, &file, &runs);
        cli_err("debug: scanned %llu files (%llu bytes, %llu decompressed), %llu records, %llu "
                "matched (%zu once each), %llu digests, %llu errors; %llu bytes of records in %zu "
                "sorted runs through the temporary file (%llu bytes compressed)",
                (unsigned long long)st.files, (unsigned long long)st.bytes_in,
                (unsigned long long)st.bytes_json, (unsigned long long)st.records,
                (unsigned long long)st.matched, bt_event_sorter_count(s->sorted),
                (unsigned long long)st.digests, (unsigned long long)st.errors,
                (unsigned long long)spilled, runs, (unsigned long long)file);
    }
    if (st.oversized)
        cli_warn("%llu records larger than %zu bytes refused (--max-record-size)",
                 (unsigned long long)st.oversized,
                 s->max_record ? s->max_record : BT_MAX_RECORD_DEFAULT);
    if (code == EXIT_OK && (st.errors || st.oversized))
        code = EXIT_PARTIAL;
done:
    bt_file_list_dispose(&l);
    return code;
}

static int cmd_search(int argc, char **argv)
{
    search s;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK, fin;
    bt_store *store = NULL;

    memset(&s, 0, sizeof s);
    cli_common_init(&s.c);
    s.from = calloc((size_t)argc + 1, sizeof *s.from);
    s.rules = calloc((size_t)argc + 1, sizeof *s.rules);
    if (!s.from || !s.rules) {
        free(s.from);
        free(s.rules);
        return EXIT_ERROR;
    }
    rc = cli_parse(&cmd_search_def, argc, argv, on_opt, &s, &pos, &npos);
    if (rc) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (npos) {
        cli_err("search: unexpected argument '%s' (files are given with --from)", pos[0]);
        code = EXIT_USAGE;
        goto done;
    }
    if (s.nrules) {
        if (bt_rules_load_args(s.rules, (size_t)s.nrules, &s.rs, &s.err)) {
            code = cli_fail(&s.err, s.err.code == BT_ENOMEM ? EXIT_ERROR : EXIT_USAGE);
            goto done;
        }
        s.tracker = bt_build_tracker_new(0);
        s.scratch = bt_arena_new(256 << 10, 0);
        if (!s.tracker || !s.scratch) {
            cli_err("out of memory");
            code = EXIT_ERROR;
            goto done;
        }
        bt_rules_push_down(s.rs, &s.c.filter);
    }
    if (!s.c.output && !s.c.query)
        s.c.output = cli_config_output();
    if (!s.c.output && !s.c.query && isatty(STDOUT_FILENO))
        s.c.output = "human";
    if (!(s.out = cli_out_new(s.c.output, s.c.query, "LookupEvents"))) {
        code = EXIT_USAGE;
        goto done;
    }
    if (s.nfrom && s.has_token) {
        cli_err("search: --starting-token continues a search of the store, not of --from");
        code = EXIT_USAGE;
    } else if (s.nfrom) {
        code = scan_files(&s);
    } else {
        bt_store_query q;
        if (!(path = cli_store_path(&s.c))) {
            code = EXIT_ERROR;
        } else if (cli_store_open(path, BT_STORE_READONLY, &store, &s.err)) {
            code = cli_fail(&s.err, EXIT_NOSTORE);
        } else {
            memset(&q, 0, sizeof q);
            q.filter = &s.c.filter;
            q.limit = s.c.max_items ? s.c.max_items + 1 : 0; /* one more: is there a next page */
            q.oldest_first = s.reverse;
            q.after = s.has_token ? &s.after : NULL;
            if (s.rs)
                q.limit = 0; /* --max-items counts what the rules pass */
            q.raw_only = !s.rs && cli_out_raw_only(s.out);
            rc = bt_store_search(store, &q, on_store_event, &s, &s.err);
            if (rc && rc != BT_ESTOP)
                code = cli_fail(&s.err, EXIT_ERROR);
            if (s.more) {
                char tok[64];
                snprintf(tok, sizeof tok, "bt1:%lld:%lld", (long long)s.last.time_ms,
                         (long long)s.last.seq);
                cli_out_next_token(s.out, tok);
            }
        }
    }
    if (code == EXIT_NOSTORE || code == EXIT_USAGE) { /* nothing on stdout when it failed */
        cli_out_discard(s.out);
    } else {
        fin = cli_out_finish(s.out);
        if (code == EXIT_OK)
            code = fin;
    }
done:
    bt_store_close(store);
    cli_s3_dispose(&s.s3);
    bt_event_sorter_free(s.sorted);
    free(s.from);
    free(s.rules);
    bt_rules_free(s.rs);
    bt_build_tracker_free(s.tracker);
    bt_arena_free(s.scratch);
    free(path);
    free(pos);
    return code;
}
