/* events_view.c - `search`'s table for people (events_view.h): the columns an
 * investigation reads first; the LookupEvents JSON (--output json) has everything. */
#include "events_view.h"

#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/format.h"
#include "table.h"

struct events_view {
    cli_table *t;
    size_t n;
};

events_view *events_view_new(void)
{
    events_view *v = calloc(1, sizeof *v);
    if (!v || !(v->t = cli_table_new()) || cli_table_col(v->t, "TIME", 0, 0) ||
        cli_table_col(v->t, "EVENT", 0, 0) || cli_table_col(v->t, "SOURCE", 0.1, CT_TRUNC) ||
        cli_table_col(v->t, "PRINCIPAL", 0.2, CT_TRUNC) || cli_table_col(v->t, "ERROR", 0, 0) ||
        cli_table_col(v->t, "RESOURCES", 0.2, CT_TRUNC)) {
        if (v)
            cli_table_free(v->t);
        free(v);
        return NULL;
    }
    return v;
}

int events_view_add(events_view *v, const bt_event *ev)
{
    bt_buf when = BT_BUF_INIT, res = BT_BUF_INIT;
    const char *src = ev->event_source, *dot = src ? strstr(src, ".amazonaws.com") : NULL;
    const char *who = ev->username ? ev->username : ev->principal_arn;
    char shortsrc[128];
    size_t i;
    int rc;
    snprintf(shortsrc, sizeof shortsrc, "%.*s", dot ? (int)(dot - src) : 127, src ? src : "-");
    for (i = 0; i < ev->n_resources; i++)
        if (ev->resources[i].name)
            bt_buf_printf(&res, "%s%s", res.len ? ", " : "", ev->resources[i].name);
    rc = bt_format_iso8601_local(&when, ev->time_ms) || cli_table_row(v->t) ||
         cli_table_set(v->t, 0, when.data, NULL) || cli_table_set(v->t, 1, ev->event_name, NULL) ||
         cli_table_set(v->t, 2, shortsrc, NULL) || cli_table_set(v->t, 3, who, NULL) ||
         cli_table_set(v->t, 4, ev->error_code ? ev->error_code : "", "\033[31m") ||
         cli_table_set(v->t, 5, res.len ? res.data : "", NULL);
    bt_buf_dispose(&when);
    bt_buf_dispose(&res);
    v->n++;
    return rc ? BT_ENOMEM : 0;
}

int events_view_finish(events_view *v, FILE *f)
{
    int rc = 0;
    if (!f)
        rc = 0;
    else if (!v->n)
        rc = fputs("No events match.\n", f) < 0 ? -1 : 0;
    else
        rc = cli_table_print(v->t, f);
    cli_table_free(v->t);
    free(v);
    return rc;
}
