/* cmd_info.c - `buildtrail info`: what the store holds (counts, time coverage,
 * sources, size per event) with a per account/region breakdown. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "config.h"
#include "table.h"

static const cli_opt info_opts[] = {
    {"output", 'o', OPT_VALUE, "FORMAT", O_OUTPUT,
     "human (default): a summary and a table for people; or json, yaml, table as the AWS CLI "
     "prints them."},
    {"query", 0, OPT_VALUE, "JMESPATH", O_QUERY, "A JMESPath expression applied to the json."},
};
static const cli_group info_group = CLI_GROUP("Output", info_opts);
static const cli_group *const info_groups[] = {&info_group, &cli_group_store, NULL};

static int cmd_info(int argc, char **argv);

const cli_cmd cmd_info_def = {
    "info",
    cmd_info,
    "show what the store holds: counts, time coverage, sources",
    "info [--store PATH] [--output FORMAT]",
    "Shows the store's path and schema version, how many events it holds (API calls and "
    "CodeBuild build status events), the time they cover, how many source files were "
    "ingested, the size on disk per event next to the raw size, and a breakdown per account "
    "and region.",
    info_groups,
    "  buildtrail info\n  buildtrail info --output json --query Events\n"};

typedef struct info_ctx {
    bt_arena *a;
    bt_json *list;
    int text;
} info_ctx;

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    return cli_common_opt(ctx, o, v) ? -1 : 0;
}

static bt_json *time_str(bt_arena *a, int64_t ms)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *v = NULL;
    if (bt_time_format_utc(&b, ms) == 0)
        v = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return v;
}

/* A time for people: local with its offset (TZ, --utc), as every view shows it. */
static const char *local(bt_buf *b, int64_t ms)
{
    bt_buf_clear(b);
    return bt_format_iso8601_local(b, ms) == 0 && b->data ? b->data : "-";
}

/* The summary for people, and the accounts and regions in the one table renderer. */
static int print_people(const char *path, const bt_store_info *in, uint64_t insights,
                        const bt_json *list)
{
    bt_buf a = BT_BUF_INIT;
    cli_table *t = NULL;
    size_t i;
    int rc = 0;
    if (list->len && cli_table_load()) /* (it said why) */
        return EXIT_ERROR;
    printf("store        %s (schema %d)\n", path, in->schema_version);
    printf("events       %llu (%llu API calls, %llu build status events",
           (unsigned long long)in->events, (unsigned long long)in->api_events,
           (unsigned long long)in->build_status_events);
    if (insights)
        printf(", %llu Insights events", (unsigned long long)insights);
    printf(")\n");
    if (in->events) {
        printf("covers       %s", local(&a, in->min_time_ms));
        printf(" .. %s\n", local(&a, in->max_time_ms));
    }
    printf("sources      %llu files ingested\n", (unsigned long long)in->sources);
    printf("size         %.1f MB on disk, %.0f bytes/event (records %.1f MB raw, %.1f MB "
           "compressed)\n",
           (double)in->file_bytes / 1e6,
           in->events ? (double)in->file_bytes / (double)in->events : 0.0,
           (double)in->raw_bytes / 1e6, (double)in->stored_bytes / 1e6);
    if (list->len) {
        printf("\n");
        t = cli_table_new();
        rc = !t || cli_table_col(t, "ACCOUNT", 0, 0) || cli_table_col(t, "REGION", 0, 0) ||
             cli_table_col(t, "EVENTS", 0, CT_RIGHT) || cli_table_col(t, "FIRST", 0, 0) ||
             cli_table_col(t, "LAST", 0, 0);
    }
    for (i = 0; i < list->len && !rc; i++) {
        const bt_json *r = list->u.items[i];
        char n[32];
        bt_buf f = BT_BUF_INIT;
        int64_t first = 0, last = 0;
        bt_error err = BT_ERROR_INIT;
        snprintf(n, sizeof n, "%.0f", bt_json_get(r, "Events")->num);
        bt_time_parse_user(bt_json_get_str(r, "First"), 0, &first, &err);
        bt_time_parse_user(bt_json_get_str(r, "Last"), 0, &last, &err);
        rc = cli_table_row(t) || cli_table_set(t, 0, bt_json_get_str(r, "Account"), NULL) ||
             cli_table_set(t, 1, bt_json_get_str(r, "Region"), NULL) ||
             cli_table_set(t, 2, n, NULL) || cli_table_set(t, 3, local(&f, first), NULL) ||
             cli_table_set(t, 4, local(&a, last), NULL);
        bt_buf_dispose(&f);
    }
    if (!rc && t)
        rc = cli_table_print(t, stdout);
    cli_table_free(t);
    bt_buf_dispose(&a);
    if (rc || fflush(stdout)) {
        cli_err("cannot write the output");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

static int on_row(void *ctx, const char *account, const char *region, uint64_t n, int64_t min_ms,
                  int64_t max_ms)
{
    info_ctx *ic = ctx;
    bt_json *o = bt_json_new_object(ic->a, 5);
    if (!o)
        return BT_ENOMEM;
    if (put(ic->a, o, "Account",
            account ? bt_json_new_string(ic->a, account, strlen(account))
                    : bt_json_new_null(ic->a)) ||
        put(ic->a, o, "Region",
            region ? bt_json_new_string(ic->a, region, strlen(region)) : bt_json_new_null(ic->a)) ||
        put(ic->a, o, "Events", bt_json_new_number(ic->a, (double)n)) ||
        put(ic->a, o, "First", time_str(ic->a, min_ms)) ||
        put(ic->a, o, "Last", time_str(ic->a, max_ms)))
        return BT_ENOMEM;
    return bt_json_array_push(ic->a, ic->list, o);
}

static int count_one(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    (void)ev;
    (void)pos;
    ++*(uint64_t *)ctx;
    return 0;
}

/* Insights events, counted apart from the API calls the store's info includes them in */
static int count_insights(bt_store *store, uint64_t *n, bt_error *err)
{
    bt_store_query q;
    bt_filter f;
    *n = 0;
    bt_filter_init(&f);
    f.kinds = 1u << BT_KIND_INSIGHT;
    memset(&q, 0, sizeof q);
    q.filter = &f;
    return bt_store_search(store, &q, count_one, n, err);
}

static int cmd_info(int argc, char **argv)
{
    cli_common c;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK;
    bt_store *store = NULL;
    bt_store_info in;
    uint64_t insights = 0;
    bt_error err = BT_ERROR_INIT;
    info_ctx ic = {0};
    bt_json *root;

    cli_common_init(&c);
    rc = cli_parse(&cmd_info_def, argc, argv, on_opt, &c, &pos, &npos);
    if (rc || npos) {
        if (npos)
            cli_err("info: unexpected argument '%s'", pos[0]);
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (!(path = cli_store_path(&c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (cli_store_open(path, BT_STORE_READONLY, &store, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    if (bt_store_get_info(store, &in, &err) || count_insights(store, &insights, &err)) {
        code = cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    in.api_events -= insights < in.api_events ? insights : in.api_events;
    ic.a = bt_arena_new(1 << 16, 0);
    ic.list = ic.a ? bt_json_new_array(ic.a, 8) : NULL;
    root = ic.a ? bt_json_new_object(ic.a, 12) : NULL;
    if (!root || !ic.list || bt_store_breakdown(store, on_row, &ic, &err)) {
        code = cli_fail(&err, EXIT_ERROR);
        goto done;
    }
    if (put(ic.a, root, "Store", bt_json_new_string(ic.a, path, strlen(path))) ||
        put(ic.a, root, "SchemaVersion", bt_json_new_number(ic.a, in.schema_version)) ||
        put(ic.a, root, "Events", bt_json_new_number(ic.a, (double)in.events)) ||
        put(ic.a, root, "ApiEvents", bt_json_new_number(ic.a, (double)in.api_events)) ||
        put(ic.a, root, "BuildStatusEvents",
            bt_json_new_number(ic.a, (double)in.build_status_events)) ||
        put(ic.a, root, "InsightsEvents", bt_json_new_number(ic.a, (double)insights)) ||
        put(ic.a, root, "First",
            in.events ? time_str(ic.a, in.min_time_ms) : bt_json_new_null(ic.a)) ||
        put(ic.a, root, "Last",
            in.events ? time_str(ic.a, in.max_time_ms) : bt_json_new_null(ic.a)) ||
        put(ic.a, root, "Sources", bt_json_new_number(ic.a, (double)in.sources)) ||
        put(ic.a, root, "RawBytes", bt_json_new_number(ic.a, (double)in.raw_bytes)) ||
        put(ic.a, root, "StoredRecordBytes", bt_json_new_number(ic.a, (double)in.stored_bytes)) ||
        put(ic.a, root, "FileBytes", bt_json_new_number(ic.a, (double)in.file_bytes)) ||
        put(ic.a, root, "Accounts", ic.list)) {
        cli_err("out of memory");
        code = EXIT_ERROR;
        goto done;
    }
    if (!c.output && !c.query)
        c.output = cli_config_output();
    if (c.output && strcmp(c.output, "human") == 0)
        c.output = NULL;
    if (c.output || c.query) {
        code = cli_out_value(c.output ? c.output : "json", c.query, "Info", root);
        goto done;
    }
    code = print_people(path, &in, insights, ic.list);
done:
    bt_arena_free(ic.a);
    bt_store_close(store);
    free(path);
    free(pos);
    return code;
}
