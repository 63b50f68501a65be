/* cmd_alerts.c - `buildtrail alerts`: lists the alerts watch stored, with their delivery
 * state per notify target, and acknowledges them (--ack ID). Presentation only: the
 * store's bt_store_alerts / bt_store_alert_ack do the work. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/store.h"
#include "cli.h"

enum { O_ACK = 1, O_UNACKED, O_PENDING };

static const cli_opt alerts_opts[] = {
    {"ack", 0, OPT_VALUE, "ID", O_ACK, "Acknowledge alert ID (repeatable), then list nothing."},
    {"unacked", 0, OPT_FLAG, NULL, O_UNACKED, "Only alerts not acknowledged."},
    {"pending", 0, OPT_FLAG, NULL, O_PENDING, "Only alerts with a delivery still to make."},
};
static const cli_group alerts_group = CLI_GROUP("Alerts options", alerts_opts);
static const cli_group *const alerts_groups[] = {&alerts_group, &cli_group_output, &cli_group_store,
                                                 &cli_group_general, NULL};

static int cmd_alerts(int argc, char **argv);

const cli_cmd cmd_alerts_def = {
    "alerts",
    cmd_alerts,
    "list the alerts watch raised, with their delivery state; acknowledge them",
    "alerts [--unacked] [--pending] [--ack ID]... [output options]",
    "Lists the alerts `buildtrail watch` stored, newest first: Id, Key (the idempotency key "
    "notifiers receive), Rule, FirstSeen, LastSeen, Count (occurrences folded into it by "
    "--suppress), Events, Acknowledged, and per notify target its Delivered time, Attempts, "
    "NextTry and LastError (table and text: one Delivery column summing them up). Notify targets "
    "are shown without their secrets (a webhook's "
    "path, a command's arguments). --ack ID marks alerts acknowledged (exit 5 when there "
    "is no such alert). Default output: table.",
    alerts_groups,
    "  buildtrail alerts\n"
    "  buildtrail alerts --pending -o json\n"
    "  buildtrail alerts --ack 12\n"};

typedef struct alerts_cli {
    cli_common c;
    bt_store_alert_query q;
    const char **ack;
    size_t nack;
    bt_arena *a;
    bt_json *rows;
    int flat; /* table / text: the delivery state as one column */
    bt_error err;
} alerts_cli;

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    alerts_cli *s = ctx;
    int rc = cli_common_opt(&s->c, o, v);
    if (rc <= 0)
        return rc;
    if (o->id == O_ACK) {
        char *end = NULL;
        long long id = strtoll(v, &end, 10);
        if (!*v || *end || id <= 0) {
            cli_err("--ack: '%s' is not an alert id", v);
            return -1;
        }
        s->ack[s->nack++] = v;
    } else if (o->id == O_UNACKED) {
        s->q.unacked_only = 1;
    } else if (o->id == O_PENDING) {
        s->q.undelivered_only = 1;
    } else {
        return -1;
    }
    return 0;
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

static bt_json *str(bt_arena *a, const char *v)
{
    return bt_json_new_string(a, v, strlen(v));
}

static bt_json *time_or_null(bt_arena *a, int64_t ms)
{
    return ms ? cli_time_value(a, ms) : bt_json_new_null(a);
}

static bt_json *deliveries(bt_arena *a, const bt_store_alert_view *v)
{
    bt_json *arr = bt_json_new_array(a, v->ndeliveries);
    size_t i;
    for (i = 0; arr && i < v->ndeliveries; i++) {
        const bt_store_delivery *d = &v->deliveries[i];
        bt_json *o = bt_json_new_object(a, 5);
        if (!o || put(a, o, "Notifier", str(a, d->notifier)) ||
            put(a, o, "Delivered", time_or_null(a, d->delivered_ms)) ||
            put(a, o, "Attempts", bt_json_new_number(a, d->attempts)) ||
            put(a, o, "NextTry",
                d->delivered_ms ? bt_json_new_null(a) : cli_time_value(a, d->next_ms)) ||
            put(a, o, "LastError", *d->last_error ? str(a, d->last_error) : bt_json_new_null(a)) ||
            bt_json_array_push(a, arr, o))
            return NULL;
    }
    return arr;
}

/* "2/2 delivered", "1/2 delivered, 3 attempts: HTTP 503" */
static bt_json *delivery_summary(bt_arena *a, const bt_store_alert_view *v)
{
    size_t i, done = 0;
    unsigned attempts = 0;
    const char *last = "";
    for (i = 0; i < v->ndeliveries; i++) {
        done += v->deliveries[i].delivered_ms != 0;
        if (!v->deliveries[i].delivered_ms) {
            attempts += v->deliveries[i].attempts;
            if (*v->deliveries[i].last_error)
                last = v->deliveries[i].last_error;
        }
    }
    if (done == v->ndeliveries)
        return str(a, bt_arena_sprintf(a, "%zu/%zu delivered", done, v->ndeliveries));
    return str(a, bt_arena_sprintf(a, "%zu/%zu delivered, %u attempts%s%s", done, v->ndeliveries,
                                   attempts, *last ? ": " : "", last));
}

static int on_alert(void *ctx, const bt_store_alert_view *v)
{
    alerts_cli *s = ctx;
    bt_arena *a = s->a;
    bt_json *o = bt_json_new_object(a, 10);
    if (!o || put(a, o, "Id", bt_json_new_number(a, (double)v->id)) ||
        put(a, o, "Key", str(a, v->key)) || put(a, o, "Rule", str(a, v->rule_id)) ||
        put(a, o, "FirstSeen", cli_time_value(a, v->first_ms)) ||
        put(a, o, "LastSeen", cli_time_value(a, v->last_ms)) ||
        put(a, o, "Count", bt_json_new_number(a, (double)v->count)) ||
        put(a, o, "Events", bt_json_new_number(a, (double)v->nevents)) ||
        put(a, o, "Acknowledged", time_or_null(a, v->acked_ms)) ||
        put(a, o, s->flat ? "Delivery" : "Deliveries",
            s->flat ? delivery_summary(a, v) : deliveries(a, v)) ||
        bt_json_array_push(a, s->rows, o))
        return bt_error_set(&s->err, BT_ENOMEM, "out of memory");
    return 0;
}

static int acknowledge(alerts_cli *s, bt_store *store)
{
    size_t i;
    int code = EXIT_OK;
    for (i = 0; i < s->nack; i++)
        if (bt_store_alert_ack(store, strtoll(s->ack[i], NULL, 10), &s->err))
            code = cli_fail(&s->err, s->err.code == BT_ENOTFOUND ? EXIT_NOTFOUND : EXIT_ERROR);
    return code;
}

static int list(alerts_cli *s, bt_store *store)
{
    const char *fmt;
    bt_json *top;
    s->a = bt_arena_new(0, 0);
    s->rows = s->a ? bt_json_new_array(s->a, 16) : NULL;
    top = s->a ? bt_json_new_object(s->a, 1) : NULL;
    if (!s->rows || !top) {
        cli_err("out of memory");
        return EXIT_ERROR;
    }
    s->q.limit = s->c.max_items;
    fmt = s->c.output ? s->c.output : "table";
    s->flat = strcmp(fmt, "table") == 0 || strcmp(fmt, "text") == 0;
    if (bt_store_alerts(store, &s->q, on_alert, s, &s->err))
        return cli_fail(&s->err, EXIT_ERROR);
    if (put(s->a, top, "Alerts", s->rows)) {
        cli_err("out of memory");
        return EXIT_ERROR;
    }
    return cli_out_value(fmt, s->c.query, "Alerts", top);
}

static int cmd_alerts(int argc, char **argv)
{
    alerts_cli s;
    bt_store *store = NULL;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK;

    memset(&s, 0, sizeof s);
    cli_common_init(&s.c);
    if (!(s.ack = calloc((size_t)argc + 1, sizeof *s.ack)))
        return EXIT_ERROR;
    if ((rc = cli_parse(&cmd_alerts_def, argc, argv, on_opt, &s, &pos, &npos))) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (npos) {
        cli_err("alerts: unexpected argument '%s'", pos[0]);
        code = EXIT_USAGE;
        goto done;
    }
    if (!(path = cli_store_path(&s.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (cli_store_open(path, s.nack ? 0 : BT_STORE_READONLY, &store, &s.err)) {
        code = cli_fail(&s.err, EXIT_NOSTORE);
        goto done;
    }
    code = s.nack ? acknowledge(&s, store) : list(&s, store);
done:
    bt_store_close(store);
    bt_arena_free(s.a);
    free(s.ack);
    free(pos);
    free(path);
    return code;
}
