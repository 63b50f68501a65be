/* cmd_hunt.c - `buildtrail hunt`: Sigma rules over the store, or over files and S3
 * archives directly with --from; prints one alert per match (the evaluation is the
 * library's bt_hunt, rules.h). */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/rules.h"
#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"

enum { O_RULES = 1, O_FROM, O_MAX_RECORD };

static const cli_opt hunt_opts[] = {
    {"rules", 0, OPT_VALUE, "PATH", O_RULES,
     "Sigma rules to evaluate: a rule file, a directory of them (*.yml, *.yaml, recursively), "
     "or 'builtin' for the shipped CodeBuild pack (repeatable; required). A rule that does not "
     "load stops everything with one line naming file, rule and problem (exit 2)."},
    {"from", 0, OPT_VALUE, "PATH", O_FROM,
     "Evaluate PATH (file, directory, - for stdin, or a trail's S3 archive "
     "s3://bucket[/prefix]; repeatable) directly instead of the store."},
    {"max-record-size", 0, OPT_VALUE, "BYTES", O_MAX_RECORD,
     "With --from: refuse records larger than this (default 1048576), counted (exit status 3)."},
};
static const cli_group hunt_group = CLI_GROUP("Hunt options", hunt_opts);
static const cli_group *const hunt_groups[] = {
    &hunt_group,   &cli_group_filters, &cli_group_output,
    &cli_group_s3, &cli_group_store,   &cli_group_general,
    NULL};

static int cmd_hunt(int argc, char **argv);

const cli_cmd cmd_hunt_def = {
    "hunt",
    cmd_hunt,
    "evaluate Sigma detection rules over the store or archives",
    "hunt --rules PATH... [--from PATH]... [filters] [output options]",
    "Evaluates Sigma rules (detection and correlation rules, filters; docs/rules.md) over the "
    "events the filters select, in the store or, with --from, in files and S3 archives read "
    "directly. Each match of an alerting rule is one alert: --output ndjson prints one JSON "
    "object per line with rule_id, rule_title, level, event_id, event_time, account, region, "
    "build_id (null when none) and event (the record, byte-exact); correlation alerts carry "
    "event_ids instead of event_id and event. --output json prints the same objects as a "
    "JSON array; table and text print a summary per alert. Alerts come oldest first. Rules "
    "may use buildtrail's derived fields (buildtrail.build_id, .build_state, ...): with "
    "--from, files and stdin are read once: when a rule needs build lifecycles, the records "
    "that spell CodeBuild are held (in memory, then a temporary file) and evaluated once "
    "every build's start, end and addresses are known (on --threads threads). Exit status 0 "
    "whether or not there are alerts; 3 when some file or record could not be read (the rest "
    "is evaluated).",
    hunt_groups,
    "  buildtrail hunt --rules builtin\n"
    "  buildtrail hunt --rules builtin --rules ./sigma/cloudtrail --start-time 7d -o table\n"
    "  buildtrail hunt --rules builtin --from ./AWSLogs -o ndjson\n"
    "  buildtrail hunt --rules my-rule.yml --from s3://my-trail-bucket --start-time 1d\n"};

typedef struct hunt {
    cli_common c;
    cli_s3 s3;
    const char **rules, **from;
    int nrules, nfrom;
    size_t max_record; /* --max-record-size (0: the default) */
    bt_ruleset *rs;
    bt_hunt *h;
    int stream; /* over the store with -o json or ndjson: alerts printed as they come */
    uint64_t printed;
    bt_error err;
} hunt;

/* Streaming: one alert out (json: the array opens with the first). */
static int print_one(void *ctx, const char *json, size_t len)
{
    hunt *s = ctx;
    int arr = !s->c.output || strcmp(s->c.output, "json") == 0;
    if (s->c.max_items && s->printed >= s->c.max_items)
        return 0;
    if (arr)
        fputs(s->printed ? ",\n" : "[\n", stdout);
    fwrite(json, 1, len, stdout);
    if (!arr)
        fputc('\n', stdout);
    s->printed++;
    return ferror(stdout) ? 1 : 0; /* a closed pipe: no point going on */
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    hunt *s = ctx;
    int rc = cli_s3_or_common_opt(&s->s3, &s->c, o, v);
    if (rc <= 0)
        return rc;
    if (o->id == O_RULES)
        s->rules[s->nrules++] = v;
    else if (o->id == O_FROM)
        s->from[s->nfrom++] = v;
    else if (o->id == O_MAX_RECORD)
        return cli_parse_bytes(o->name, v, &s->max_record);
    else
        return -1;
    return 0;
}

static void on_file_error(void *ctx, const char *path, const bt_error *err)
{
    (void)ctx;
    (void)path;
    cli_err("%s", err->msg);
}

/* The pass over every --from source; f selects. */
static int scan_pass(hunt *s, bt_file_list *l, const bt_filter *f, bt_read_stats *st)
{
    bt_scan_opts so;
    int i, rc;
    memset(&so, 0, sizeof so);
    bt_hunt_scan_opts(s->h, f, &so, &s->err);
    so.threads = s->c.threads;
    so.max_record = s->max_record;
    so.on_file_error = on_file_error;
    for (i = 0, rc = 0; i < s->nfrom; i++)
        rc |= cli_is_s3_url(s->from[i]);
    rc = l->n || !rc ? bt_scan_files(l, &so, st, &s->err) : 0;
    for (i = 0; !rc && i < s->nfrom; i++)
        if (cli_is_s3_url(s->from[i]))
            rc = cli_s3_scan(&s->s3, s->from[i], &s->c.filter, &so, NULL, NULL, st, &s->err);
    return rc;
}

static int hunt_files(hunt *s, const bt_filter *f)
{
    bt_file_list l = {0};
    bt_read_stats st;
    int i, rc, code = EXIT_OK;

    memset(&st, 0, sizeof st);
    for (i = 0; i < s->nfrom; i++) {
        rc = cli_is_s3_url(s->from[i]) ? cli_s3_check_url(s->from[i], &s->err)
                                       : bt_file_list_add(&l, s->from[i], &s->err);
        if (rc) {
            code =
                cli_fail(&s->err, rc == BT_EINVAL || rc == BT_ENOTFOUND ? EXIT_USAGE : EXIT_ERROR);
            goto done;
        }
    }
    rc = scan_pass(s, &l, f, &st);
    if (rc)
        code = rc == BT_ENOMEM ? (cli_err("out of memory"), EXIT_ERROR)
                               : cli_fail(&s->err, EXIT_ERROR);
    else if (st.errors || st.oversized)
        code = EXIT_PARTIAL;
    if (!rc && st.oversized)
        cli_warn("%llu records larger than %zu bytes refused (--max-record-size)",
                 (unsigned long long)st.oversized,
                 s->max_record ? s->max_record : BT_MAX_RECORD_DEFAULT);
    if (cli_debug)
        cli_err("debug: hunt read %llu files, %llu records", (unsigned long long)st.files,
                (unsigned long long)st.records);
done:
    bt_file_list_dispose(&l);
    return code;
}

static int hunt_store(hunt *s, const bt_filter *f)
{
    bt_store *store = NULL;
    bt_hunt_store_opts o;
    char *path = cli_store_path(&s->c);
    int rc, code = EXIT_OK;

    if (!path)
        return EXIT_ERROR;
    if (cli_store_open(path, BT_STORE_READONLY, &store, &s->err)) {
        code = cli_fail(&s->err, EXIT_NOSTORE);
        goto done;
    }
    memset(&o, 0, sizeof o);
    o.filter = f;
    /* this thread reads the store, the hunt's evaluates */
    if ((rc = bt_hunt_store(s->h, store, &o, NULL, NULL, &s->err)))
        code = s->stream && ferror(stdout) ? (cli_err("cannot write the output"), EXIT_ERROR)
                                           : cli_fail(&s->err, EXIT_ERROR);
done:
    bt_store_close(store);
    free(path);
    return code;
}

/* table / text: one summary row per alert, from its JSON */
static bt_json *summary_row(bt_arena *a, const bt_json *al)
{
    static const char *const keys[][2] = {{"EventTime", "event_time"}, {"Level", "level"},
                                          {"Rule", "rule_title"},      {"Account", "account"},
                                          {"Region", "region"},        {"BuildId", "build_id"},
                                          {"EventId", "event_id"}};
    bt_json *row = bt_json_new_object(a, 8);
    const bt_json *ids = bt_json_get(al, "event_ids");
    size_t k;
    for (k = 0; row && k < sizeof keys / sizeof keys[0]; k++) {
        const char *v = bt_json_get_str(al, keys[k][1]);
        char cnt[32];
        if (!v && ids && strcmp(keys[k][1], "event_id") == 0) {
            snprintf(cnt, sizeof cnt, "%zu events", ids->len);
            v = cnt;
        }
        if (!v)
            v = "";
        if (bt_json_object_put(a, row, keys[k][0], strlen(keys[k][0]),
                               bt_json_new_string(a, v, strlen(v))))
            return NULL;
    }
    return row;
}

static int print_summary(hunt *s, const char *format, size_t n)
{
    bt_arena *a = bt_arena_new(1 << 16, 0), *tmp = bt_arena_new(1 << 16, 0);
    bt_json *rows = a ? bt_json_new_array(a, n) : NULL, *top = a ? bt_json_new_object(a, 1) : NULL;
    bt_buf line = BT_BUF_INIT;
    size_t i;
    int code = EXIT_ERROR;
    if (!rows || !top || !tmp)
        goto oom;
    for (i = 0; i < n; i++) {
        bt_json *al, *row;
        if (bt_hunt_alert_at(s->h, i, &line)) {
            cli_err("cannot read the alerts' temporary file");
            goto done;
        }
        bt_arena_reset(tmp);
        if (bt_json_parse(tmp, line.data, line.len, NULL, &al, NULL) ||
            !(row = summary_row(a, al)) || bt_json_array_push(a, rows, row))
            goto oom;
    }
    if (bt_json_object_put(a, top, "Alerts", 6, rows))
        goto oom;
    code = cli_out_value(format, s->c.query, "Alerts", top);
    goto done;
oom:
    cli_err("out of memory");
done:
    bt_buf_dispose(&line);
    bt_arena_free(tmp);
    bt_arena_free(a);
    return code;
}

static int print_alerts(hunt *s)
{
    const char *fmt = s->c.output ? s->c.output : "json";
    size_t i, n = bt_hunt_count(s->h);
    int json = strcmp(fmt, "json") == 0, code = EXIT_OK;

    if (s->c.max_items && n > s->c.max_items)
        n = (size_t)s->c.max_items;
    if (s->stream) { /* printed already: the array's end */
        if (json)
            fputs(s->printed ? "\n]\n" : "[]\n", stdout);
        n = 0;
        json = 0;
    } else if (!json && strcmp(fmt, "ndjson") != 0)
        return print_summary(s, fmt, n);
    if (json)
        fputs(n ? "[\n" : "[", stdout);
    for (i = 0; i < n; i++) {
        const char *a;
        size_t len;
        if (bt_hunt_alert_ref(s->h, i, &a, &len)) {
            cli_err("cannot read the alerts' temporary file");
            code = EXIT_ERROR;
            break;
        }
        fwrite(a, 1, len, stdout);
        fputs(json && i + 1 < n ? ",\n" : "\n", stdout);
    }
    if (json)
        fputs("]\n", stdout);
    if (fflush(stdout) != 0 && code == EXIT_OK) {
        cli_err("cannot write the output");
        code = EXIT_ERROR;
    }
    return code;
}

static int check_output(const hunt *s)
{
    static const char *const ok[] = {"json", "ndjson", "table", "text"};
    size_t i;
    if (s->c.query &&
        (!s->c.output || !strcmp(s->c.output, "json") || !strcmp(s->c.output, "ndjson"))) {
        cli_err("hunt: --query applies to --output table and text only");
        return -1;
    }
    for (i = 0; s->c.output && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s->c.output, ok[i]) == 0)
            return 0;
    if (!s->c.output)
        return 0;
    cli_err("hunt: --output: expected ndjson, json, table or text, got '%s'", s->c.output);
    return -1;
}

static int cmd_hunt(int argc, char **argv)
{
    hunt s;
    char **pos = NULL;
    int npos = 0, rc, code = EXIT_OK;
    bt_filter f;
    bt_hunt_opts ho;

    memset(&s, 0, sizeof s);
    cli_common_init(&s.c);
    s.rules = calloc((size_t)argc + 1, sizeof *s.rules);
    s.from = calloc((size_t)argc + 1, sizeof *s.from);
    if (!s.rules || !s.from) {
        code = EXIT_ERROR;
        goto done;
    }
    if ((rc = cli_parse(&cmd_hunt_def, argc, argv, on_opt, &s, &pos, &npos))) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (npos || !s.nrules || check_output(&s)) {
        if (npos)
            cli_err("hunt: unexpected argument '%s' (rules are given with --rules, files "
                    "with --from)",
                    pos[0]);
        else if (!s.nrules)
            cli_err("hunt: no rules (--rules PATH, or --rules builtin)");
        code = EXIT_USAGE;
        goto done;
    }
    if (bt_rules_load_args(s.rules, (size_t)s.nrules, &s.rs, &s.err)) {
        code = cli_fail(&s.err, s.err.code == BT_ENOMEM ? EXIT_ERROR : EXIT_USAGE);
        goto done;
    }
    f = s.c.filter;
    if (bt_rules_push_down(s.rs, &f) && cli_debug)
        cli_err("debug: every rule pins eventName: %u names pushed down",
                f.nvalues[BT_F_EVENT_NAME]);
    memset(&ho, 0, sizeof ho);
    ho.ordered = s.nfrom == 0;
    ho.prefiltered = s.nfrom > 0; /* the scan's raw_keep */
    /* --from: what the build tracker learns from is held until every build is known;
     * the scan then reads everything and the hunt filters */
    ho.defer = s.nfrom > 0 && bt_rules_need_lifecycle(s.rs);
    ho.filter = ho.defer ? &f : NULL;
    ho.threads = s.c.threads; /* --threads: the held records' evaluation too */
    /* the store gives events in time order: alerts can go out as they become final */
    s.stream = ho.ordered && (!s.c.output || strcmp(s.c.output, "json") == 0 ||
                              strcmp(s.c.output, "ndjson") == 0);
    if (s.stream) {
        ho.on_alert = print_one;
        ho.alert_ctx = &s;
    }
    if ((rc = bt_hunt_new(s.rs, &ho, &s.h))) {
        cli_err("out of memory"); /* (its temporary file is made when alerts spill) */
        code = EXIT_ERROR;
        goto done;
    }
    code = s.nfrom ? hunt_files(&s, &f) : hunt_store(&s, &f);
    if (code == EXIT_OK || code == EXIT_PARTIAL) {
        int fin;
        if (bt_hunt_finish(s.h, &s.err))
            fin = s.stream && ferror(stdout) ? (cli_err("cannot write the output"), EXIT_ERROR)
                                             : cli_fail(&s.err, EXIT_ERROR);
        else
            fin = print_alerts(&s);
        if (fin != EXIT_OK)
            code = fin;
    }
    if (cli_debug && s.h) {
        uint64_t seen, parsed, spilled;
        size_t runs;
        bt_hunt_stats(s.h, &seen, &parsed);
        bt_hunt_spill_stats(s.h, &spilled, &runs);
        cli_err("debug: %llu events, %llu past the pre-filter, %zu alerts; %llu bytes of "
                "records in %zu sorted runs through the temporary file (%llu bytes compressed)",
                (unsigned long long)seen, (unsigned long long)parsed, bt_hunt_count(s.h),
                (unsigned long long)spilled, runs,
                (unsigned long long)bt_hunt_spill_file_bytes(s.h));
    }
done:
    bt_hunt_free(s.h);
    bt_rules_free(s.rs);
    cli_s3_dispose(&s.s3);
    free(s.rules);
    free(s.from);
    free(pos);
    return code;
}
