/* builds_view.c - `buildtrail builds` for people: one row per build through the table
 * renderer (table.c), and --output ndjson (one build's JSON per line). */
#include "builds_view.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

/* The trigger in a few words, for the people's table. */
static void trigger_words(const bt_json *b, char *out, size_t n)
{
    const bt_json *t = bt_json_get(b, "Trigger");
    const char *type = bt_json_get_str(t, "Type"), *p;
    int inferred = bt_json_get(t, "Inferred") && bt_json_get(t, "Inferred")->type == BT_JSON_TRUE;
    if (!type)
        type = "?";
    if (strcmp(type, "pipeline") == 0 && (p = bt_json_get_str(t, "Pipeline")))
        snprintf(out, n, "pipeline %s", p);
    else if (strcmp(type, "retry") == 0 && (p = bt_json_get_str(t, "RetryOf")))
        snprintf(out, n, "retry of %s", p);
    else if (strcmp(type, "batch") == 0 && (p = bt_json_get_str(t, "BatchUuid")))
        snprintf(out, n, "batch %.8s", p);
    else if ((p = bt_json_get_str(t, "Principal")))
        snprintf(out, n, "%s", strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
    else if ((p = bt_json_get_str(t, "Initiator")))
        snprintf(out, n, "%s%s", p, inferred ? " (inferred)" : "");
    else
        snprintf(out, n, "%s%s", type, inferred ? " (no StartBuild)" : "");
}

/* --output ndjson: each build's JSON on one line. Returns an exit code. */
int builds_print_ndjson(const char *query, const bt_json *list)
{
    bt_json_write_opts wo = {0, 0};
    bt_buf b = BT_BUF_INIT;
    size_t i;
    int rc = 0;
    if (query) {
        cli_err("--query does not apply to --output ndjson");
        return EXIT_USAGE;
    }
    for (i = 0; i < list->len && !rc; i++) {
        bt_buf_clear(&b);
        rc = bt_json_write(&b, list->u.items[i], &wo) || bt_buf_putc(&b, '\n') ||
             fwrite(b.data, 1, b.len, stdout) != b.len;
    }
    bt_buf_dispose(&b);
    if (rc || fflush(stdout)) {
        cli_err("cannot write the output");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

/* When every start time has the same UTC offset ("+00:00"), it goes once into the
 * header: 1 and zone filled; else 0. */
static int common_zone(const bt_json *list, char zone[8])
{
    size_t i;
    zone[0] = 0;
    for (i = 0; i < list->len; i++) {
        const char *st = bt_json_get_str(list->u.items[i], "StartTime");
        size_t n = st ? strlen(st) : 0;
        if (n != 25)
            return 0;
        if (!zone[0])
            memcpy(zone, st + 19, 7);
        else if (strcmp(zone, st + 19) != 0)
            return 0;
    }
    return zone[0] != 0;
}

/* The people's table (table.c): ids whole, the trigger, source and stopper shortened
 * first when the terminal is narrow. Returns an exit code. */
int builds_view_print(const bt_json *list)
{
    static const struct {
        const char *h;
        double w;
        int fl;
    } cols[] = {{"START", 0, 0},
                {"BUILD", 0, 0},
                {"#", 0, CT_RIGHT},
                {"TRIGGER", 0.2, CT_TRUNC},
                {"SOURCE", 0.05, CT_TRUNC},
                {"OUTCOME", 0, 0},
                {"TOOK", 0, CT_RIGHT},
                {"CALLS", 0, CT_RIGHT},
                {"ERR", 0, CT_RIGHT}};
    cli_table *t;
    size_t i, c;
    char head[32], zone[8];
    int rc, one_zone = common_zone(list, zone);
    if (cli_table_load()) /* (it said why) */
        return EXIT_ERROR;
    t = cli_table_new();
    rc = t ? 0 : -1;
    snprintf(head, sizeof head, one_zone ? "START (%s)" : "START", zone);
    for (c = 0; c < sizeof cols / sizeof cols[0] && !rc; c++)
        rc = cli_table_col(t, c ? cols[c].h : head, cols[c].w, cols[c].fl);
    for (i = 0; i < list->len && !rc; i++) {
        const bt_json *b = list->u.items[i], *v;
        char trig[256], dur[16] = "-", num[16] = "-", calls[24], errs[24], when[40] = "-";
        const char *out = bt_json_get_str(b, "Outcome"), *st = bt_json_get_str(b, "StartTime");
        const char *id = bt_json_get_str(b, "BuildId") ? bt_json_get_str(b, "BuildId")
                                                       : bt_json_get_str(b, "Uuid");
        const char *col = !out                              ? NULL
                          : strcmp(out, "SUCCEEDED") == 0   ? "\033[32m"
                          : strcmp(out, "IN_PROGRESS") == 0 ? "\033[33m"
                                                            : "\033[31m";
        if ((v = bt_json_get(b, "DurationSeconds")) && v->type == BT_JSON_NUMBER)
            snprintf(dur, sizeof dur, "%dm%02ds", (int)v->num / 60, (int)v->num % 60);
        if ((v = bt_json_get(b, "BuildNumber")) && v->type == BT_JSON_NUMBER)
            snprintf(num, sizeof num, "%.0f", v->num);
        snprintf(calls, sizeof calls, "%.0f", bt_json_get(b, "Calls")->num);
        snprintf(errs, sizeof errs, "%.0f", bt_json_get(b, "Errors")->num);
        trigger_words(b, trig, sizeof trig);
        if (st)
            snprintf(when, sizeof when, "%.*s", one_zone ? 19 : (int)strlen(st), st);
        if (one_zone && strlen(when) > 10)
            when[10] = ' ';
        rc = cli_table_row(t) || cli_table_set(t, 0, when, NULL) || cli_table_set(t, 1, id, NULL) ||
             cli_table_set(t, 2, num, NULL) || cli_table_set(t, 3, trig, NULL) ||
             cli_table_set(t, 4, bt_json_get_str(b, "SourceVersion"), NULL) ||
             cli_table_set(t, 5, out ? out : "?", col) || cli_table_set(t, 6, dur, NULL) ||
             cli_table_set(t, 7, calls, NULL) || cli_table_set(t, 8, errs, NULL);
    }
    if (!rc)
        rc = cli_table_print(t, stdout);
    cli_table_free(t);
    if (rc) {
        cli_err("cannot write the table");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

