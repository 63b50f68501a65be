/*
 * web_events.c - the event search of the web view ("/events") with the filters of
 * `buildtrail search` (the same parameter names as its options), newest first, in
 * pages continued after the last event shown, each event expandable to its record;
 * and /api/events, the same page as `search --output json` shapes it plus "NextToken".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/filter.h"
#include "buildtrail/format.h"
#include "buildtrail/json.h"
#include "buildtrail/lookup.h"
#include "buildtrail/timeutil.h"
#include "server/web_int.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500

typedef struct epage {
    bt_arena *a;
    bt_event *ev;
    bt_store_pos *pos;
    size_t n, want;
    int oom;
} epage;

static int on_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    epage *e = ctx;
    if (e->n >= e->want + 1)
        return 1;
    if (bt_event_copy(e->a, ev, &e->ev[e->n])) {
        e->oom = 1;
        return BT_ENOMEM;
    }
    e->pos[e->n++] = *pos;
    return 0;
}

/* The filter from the request: every `search` filter option by its name. */
static int make_filter(const web_params *p, bt_filter *f, bt_error *err)
{
    size_t i;
    int k;
    int64_t now = bt_time_now_ms();
    bt_filter_init(f);
    for (i = 0; i < p->n; i++) {
        const char *n = p->name[i], *v = p->value[i];
        if (!v[0])
            continue;
        if (strcmp(n, "start-time") == 0 && bt_time_parse_user(v, now, &f->start_ms, err))
            return BT_EINVAL;
        if (strcmp(n, "end-time") == 0 && bt_time_parse_user(v, now, &f->end_ms, err))
            return BT_EINVAL;
        if (strcmp(n, "read-only") == 0 && bt_filter_set_read_only(f, v, err))
            return BT_EINVAL;
        if (strcmp(n, "errors") == 0)
            f->errors_only = 1;
        for (k = 0; k < BT_F__COUNT; k++)
            if (strcmp(n, bt_filter_field_option((bt_filter_field)k)) == 0 &&
                bt_filter_add(f, (bt_filter_field)k, v, err))
                return BT_EINVAL;
    }
    return 0;
}

/* Runs the search for one page: the events after "after" (TIME.SEQ), at most n + 1. */
static int search_page(bt_store *s, bt_arena *a, const web_params *p, epage *e, bt_error *err)
{
    bt_filter f;
    bt_store_query q;
    bt_store_pos after;
    const char *v = web_param(p, "after"), *nv = web_param(p, "n");
    unsigned long n = nv ? strtoul(nv, NULL, 10) : PAGE_DEFAULT;
    int rc;
    if ((rc = make_filter(p, &f, err)))
        return rc;
    memset(e, 0, sizeof *e);
    e->a = a;
    e->want = n < 1 ? PAGE_DEFAULT : n > PAGE_MAX ? PAGE_MAX : n;
    e->ev = bt_arena_calloc(a, (e->want + 1) * sizeof *e->ev);
    e->pos = bt_arena_calloc(a, (e->want + 1) * sizeof *e->pos);
    if (!e->ev || !e->pos)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    memset(&q, 0, sizeof q);
    q.filter = &f;
    q.limit = e->want + 1;
    if (v) {
        if (sscanf(v, "%" SCNd64 ".%" SCNd64, &after.time_ms, &after.seq) != 2)
            return bt_error_set(err, BT_EINVAL, "after: expected TIME.SEQ from a previous page");
        q.after = &after;
    }
    rc = bt_store_search(s, &q, on_event, e, err);
    if (rc == 1)
        rc = 0;
    if (e->oom)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return rc < 0 ? rc : 0;
}

static int filters_form(bt_buf *b, const web_params *p)
{
    int k, rc = bt_buf_puts(b, "<form class=\"filters\" method=\"get\" action=\"/events\" "
                               "role=\"search\"><label>Start time <input name=\"start-time\" "
                               "placeholder=\"2d or 2026-10-01\" value=\"");
    const char *ro = web_param(p, "read-only");
    rc |= web_esc(b, web_param(p, "start-time"));
    rc |= bt_buf_puts(b, "\"></label><label>End time <input name=\"end-time\" value=\"");
    rc |= web_esc(b, web_param(p, "end-time"));
    rc |= bt_buf_puts(b, "\"></label>");
    for (k = 0; k < BT_F__COUNT; k++) {
        const char *name = bt_filter_field_option((bt_filter_field)k);
        rc |= bt_buf_printf(b, "<label>%s <input name=\"%s\" value=\"", name, name);
        rc |= web_esc(b, web_param(p, name));
        rc |= bt_buf_puts(b, "\"></label>");
    }
    rc |= bt_buf_printf(b,
                        "<label>read-only <select name=\"read-only\"><option value=\"\">any"
                        "</option><option%s>true</option><option%s>false</option></select>"
                        "</label><label class=\"cb\"><input type=\"checkbox\" name=\"errors\" "
                        "value=\"1\"%s> errors only</label><button type=\"submit\">Search"
                        "</button> <a href=\"/events\">clear</a></form>",
                        ro && strcmp(ro, "true") == 0 ? " selected" : "",
                        ro && strcmp(ro, "false") == 0 ? " selected" : "",
                        web_param(p, "errors") ? " checked" : "");
    return rc;
}

/* The record, pretty-printed when it parses. */
static int record(bt_buf *b, bt_arena *a, const bt_event *ev)
{
    bt_json *v = NULL;
    bt_buf pretty = BT_BUF_INIT;
    bt_json_write_opts wo = {2, 0};
    bt_error err = BT_ERROR_INIT;
    int rc;
    if (bt_json_parse(a, ev->raw, ev->raw_len, NULL, &v, &err) == 0 && v &&
        bt_json_write(&pretty, v, &wo) == 0)
        rc = web_escn(b, pretty.data ? pretty.data : "", pretty.len);
    else
        rc = web_escn(b, ev->raw, ev->raw_len);
    bt_buf_dispose(&pretty);
    return rc;
}

static int event_row(bt_buf *b, bt_arena *a, const bt_event *ev, size_t i)
{
    char when[32];
    int rc;
    web_time(ev->time_ms, when);
    rc = bt_buf_printf(b,
                       "<details class=\"ev%s\" id=\"e%zu\"><summary><span class=\"mono\">%s"
                       "</span><b>",
                       ev->error_code ? " err" : "", i, when);
    rc |= web_esc(b, ev->event_name);
    rc |= bt_buf_puts(b, "</b><span>");
    rc |= web_esc(b, ev->event_source);
    rc |= bt_buf_puts(b, "</span><span>");
    rc |= web_esc_cut(b, ev->username, 80);
    rc |= bt_buf_puts(b, "</span><span class=\"bad\">");
    rc |= web_esc(b, ev->error_code);
    rc |= bt_buf_puts(b, "</span></summary><dl class=\"facts\">");
    if (ev->user_agent) {
        rc |= bt_buf_puts(b, "<dt>User agent</dt><dd>");
        rc |= web_esc(b, ev->user_agent);
        rc |= bt_buf_puts(b, "</dd>");
    }
    if (ev->build_uuid || ev->actor_uuid) {
        const char *u = ev->build_uuid ? ev->build_uuid : ev->actor_uuid;
        rc |= bt_buf_puts(b, "<dt>Build</dt><dd><a href=\"/builds/");
        rc |= web_urlenc(b, u);
        rc |= bt_buf_puts(b, "\">");
        rc |= web_esc(b, u);
        rc |= bt_buf_puts(b, "</a></dd>");
    }
    rc |= bt_buf_puts(b, "</dl><pre>");
    rc |= record(b, a, ev);
    return rc | bt_buf_puts(b, "</pre></details>");
}

void web_events_page(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r)
{
    static const char *const skip[] = {"after", NULL};
    bt_error err = BT_ERROR_INIT;
    bt_buf *b = &r->body;
    epage e;
    size_t i, shown;
    int rc = search_page(s, a, p, &e, &err);
    if (rc) {
        web_error(r, rc == BT_EINVAL ? 400 : 500, 0, err.msg);
        return;
    }
    shown = e.n < e.want ? e.n : e.want;
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    rc = web_page_open(b, "Events - buildtrail", "events", 0);
    rc |= bt_buf_puts(b, "<h1>Events</h1>");
    rc |= filters_form(b, p);
    rc |= bt_buf_printf(b,
                        "<p>%zu events%s, newest first; select one to see its record.</p>"
                        "<div class=\"ev-list\" id=\"events\"><div class=\"ev-head\"><span>"
                        "Time (UTC)</span><span>Event</span><span>Source</span><span>User"
                        "</span><span>Error</span></div>",
                        shown, e.n > e.want ? " on this page" : "");
    for (i = 0; i < shown; i++)
        rc |= event_row(b, a, &e.ev[i], i);
    rc |= bt_buf_puts(b, "</div>");
    if (e.n > e.want) {
        size_t k;
        rc |= bt_buf_puts(b, "<nav class=\"pager\" aria-label=\"pages\"><a rel=\"next\" "
                             "href=\"/events?");
        for (k = 0; k < p->n; k++) {
            if (strcmp(p->name[k], skip[0]) == 0 || !p->value[k][0])
                continue;
            rc |= web_urlenc(b, p->name[k]);
            rc |= bt_buf_putc(b, '=');
            rc |= web_urlenc(b, p->value[k]);
            rc |= bt_buf_puts(b, "&amp;");
        }
        rc |= bt_buf_printf(b, "after=%" PRId64 ".%" PRId64 "\">older events</a></nav>",
                            e.pos[shown - 1].time_ms, e.pos[shown - 1].seq);
    }
    rc |= web_page_close(b, 0);
    if (rc)
        web_error(r, 500, 0, "out of memory");
}

void web_events_api(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r)
{
    bt_error err = BT_ERROR_INIT;
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    epage e;
    bt_json *root, *list;
    size_t i, shown;
    int rc = search_page(s, a, p, &e, &err);
    if (rc) {
        web_error(r, rc == BT_EINVAL ? 400 : 500, 1, err.msg);
        return;
    }
    shown = e.n < e.want ? e.n : e.want;
    root = bt_json_new_object(a, 2);
    list = bt_json_new_array(a, shown);
    rc = !root || !list || bt_json_object_put(a, root, "Events", 6, list);
    for (i = 0; i < shown && !rc; i++) {
        bt_json *v = bt_ct_record_cli_value(a, &e.ev[i]);
        rc = !v || bt_json_array_push(a, list, v);
    }
    if (!rc && e.n > e.want) {
        char *tok = bt_arena_sprintf(a, "%" PRId64 ".%" PRId64, e.pos[shown - 1].time_ms,
                                     e.pos[shown - 1].seq);
        bt_json *t = tok ? bt_json_new_string(a, tok, strlen(tok)) : NULL;
        rc = !t || bt_json_object_put(a, root, "NextToken", 9, t);
    }
    fo.title = "LookupEvents";
    r->status = 200;
    r->content_type = "application/json";
    if (rc || bt_format_write(&r->body, root, &fo, &err))
        web_error(r, 500, 1, "out of memory");
}
