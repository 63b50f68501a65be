/*
 * web_builds.c - the builds list of the web view ("/"): filters (project, status, time,
 * trigger, errors), sortable columns, pages, and per project a strip of its recent
 * outcomes and durations; and /api/builds, the JSON `buildtrail builds --output json`
 * prints for the same filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "buildtrail/timeutil.h"
#include "server/web_int.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define STRIP_BUILDS 24
#define STRIP_PROJECTS 12

/* One build as the list shows it (strings in the request arena). */
typedef struct brow {
    const char *uuid, *build_id, *project, *status, *trigger, *by;
    int64_t start_ms, end_ms;
    uint64_t calls, errors;
    int match; /* passes the filters */
} brow;

typedef struct blist {
    bt_arena *a;
    const bt_build_query *q;
    brow *rows;
    size_t n, cap, nmatch;
    int oom;
} blist;

static const char *dup(blist *l, const char *s)
{
    char *d = s ? bt_arena_strdup(l->a, s) : NULL;
    if (s && !d)
        l->oom = 1;
    return d;
}

static int on_build(void *ctx, const bt_build *b)
{
    blist *l = ctx;
    brow *r;
    int est;
    if (l->n == l->cap) {
        size_t n = l->cap ? l->cap * 2 : 256;
        brow *v = realloc(l->rows, n * sizeof *v);
        if (!v)
            return BT_ENOMEM;
        l->rows = v;
        l->cap = n;
    }
    r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    r->uuid = dup(l, b->uuid);
    r->build_id = dup(l, b->build_id ? b->build_id : b->uuid);
    r->project = dup(l, b->project);
    r->status = dup(l, b->status);
    r->trigger = dup(l, bt_build_pipeline(b) ? bt_build_pipeline(b) : b->trigger_type);
    r->by = dup(l, b->trigger_principal);
    r->start_ms = b->start_ms;
    r->end_ms = bt_build_end(b, &est);
    r->calls = b->calls;
    r->errors = b->errors;
    r->match = bt_build_query_match(l->q, b);
    l->nmatch += r->match != 0;
    return l->oom ? BT_ENOMEM : 0;
}

/* The build query from the request's parameters; BT_EINVAL with a message in err. */
static int make_query(const web_params *p, bt_build_query *q, bt_error *err)
{
    const char *v;
    int64_t now = bt_time_now_ms();
    bt_build_query_init(q);
    if ((v = web_param(p, "project")))
        q->projects[q->n_projects++] = v;
    if ((v = web_param(p, "status")))
        q->statuses[q->n_statuses++] = v;
    if ((v = web_param(p, "trigger"))) {
        if (!bt_build_trigger_valid(v))
            return bt_error_set(err, BT_EINVAL,
                                "trigger: expected user, pipeline, webhook, "
                                "retry or batch");
        q->triggers[q->n_triggers++] = v;
    }
    if ((v = web_param(p, "start-time")) && bt_time_parse_user(v, now, &q->start_ms, err))
        return BT_EINVAL;
    if ((v = web_param(p, "end-time")) && bt_time_parse_user(v, now, &q->end_ms, err))
        return BT_EINVAL;
    q->errors_only = web_param(p, "errors") != NULL;
    return 0;
}

/* ---- sorting ---- */

typedef struct sorter {
    int key, desc;
} sorter;

static int64_t dur(const brow *r)
{
    return r->end_ms && r->start_ms ? r->end_ms - r->start_ms : -1;
}

static int cmp_rows(const brow *x, const brow *y, int key)
{
    int c = 0;
    switch (key) {
    case 1: c = dur(x) < dur(y) ? -1 : dur(x) > dur(y); break;
    case 2: c = x->calls < y->calls ? -1 : x->calls > y->calls; break;
    case 3: c = x->errors < y->errors ? -1 : x->errors > y->errors; break;
    case 4: c = strcmp(x->project ? x->project : "", y->project ? y->project : ""); break;
    case 5: c = strcmp(x->status ? x->status : "~", y->status ? y->status : "~"); break;
    }
    if (!c)
        c = x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
    return c ? c : strcmp(x->uuid, y->uuid);
}

static const char *const sort_names[] = {"start",  "duration", "calls",
                                         "errors", "project",  "status"};

/* Sorts the matching rows (pointers) by s: a bottom-up merge sort (qsort has no context
 * argument, and the server is threaded); tmp has room for n. */
static void sort_rows(const brow **v, size_t n, sorter s, const brow **tmp)
{
    size_t w, i, j, k, lo;
    for (w = 1; w < n; w *= 2) {
        for (lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            for (i = lo, j = mid, k = lo; k < hi; k++) {
                int c = i < mid && j < hi ? cmp_rows(v[i], v[j], s.key) : 0;
                if (s.desc)
                    c = -c;
                if (j >= hi || (i < mid && c <= 0))
                    tmp[k] = v[i++];
                else
                    tmp[k] = v[j++];
            }
        }
        memcpy(v, tmp, n * sizeof *v);
    }
}

/* ---- rendering ---- */

/* The current query string without the names in skip (NULL-terminated), '&'-ended. */
static int keep_params(bt_buf *b, const web_params *p, const char *const *skip)
{
    size_t i, k;
    int rc = 0;
    for (i = 0; i < p->n; i++) {
        int drop = !p->value[i][0];
        for (k = 0; skip[k]; k++)
            drop |= strcmp(p->name[i], skip[k]) == 0;
        if (drop)
            continue;
        rc |= web_urlenc(b, p->name[i]);
        rc |= bt_buf_putc(b, '=');
        rc |= web_urlenc(b, p->value[i]);
        rc |= bt_buf_puts(b, "&amp;");
    }
    return rc;
}

static int filters_form(bt_buf *b, const web_params *p)
{
    static const char *const statuses[] = {"SUCCEEDED", "FAILED",      "FAULT",  "TIMED_OUT",
                                           "STOPPED",   "IN_PROGRESS", "UNKNOWN"};
    static const char *const triggers[] = {"user", "pipeline", "webhook", "retry", "batch"};
    const char *st = web_param(p, "status"), *tr = web_param(p, "trigger");
    size_t i;
    int rc = bt_buf_puts(b, "<form class=\"filters\" method=\"get\" action=\"/\" role=\"search\">"
                            "<label>Project <input name=\"project\" value=\"");
    rc |= web_esc(b, web_param(p, "project"));
    rc |= bt_buf_puts(b, "\"></label><label>Status <select name=\"status\"><option value=\"\">"
                         "any</option>");
    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        rc |= bt_buf_printf(b, "<option%s>%s</option>",
                            st && strcmp(st, statuses[i]) == 0 ? " selected" : "", statuses[i]);
    rc |= bt_buf_puts(b, "</select></label><label>Trigger <select name=\"trigger\"><option "
                         "value=\"\">any</option>");
    for (i = 0; i < sizeof triggers / sizeof triggers[0]; i++)
        rc |= bt_buf_printf(b, "<option%s>%s</option>",
                            tr && strcmp(tr, triggers[i]) == 0 ? " selected" : "", triggers[i]);
    rc |= bt_buf_puts(b, "</select></label><label>Started after <input name=\"start-time\" "
                         "placeholder=\"7d or 2026-10-01\" value=\"");
    rc |= web_esc(b, web_param(p, "start-time"));
    rc |= bt_buf_puts(b, "\"></label><label>Started before <input name=\"end-time\" value=\"");
    rc |= web_esc(b, web_param(p, "end-time"));
    rc |= bt_buf_printf(b,
                        "\"></label><label class=\"cb\"><input type=\"checkbox\" "
                        "name=\"errors\" value=\"1\"%s> with failed calls</label>"
                        "<button type=\"submit\">Filter</button> <a href=\"/\">clear</a></form>",
                        web_param(p, "errors") ? " checked" : "");
    return rc;
}

/* One strip: the project's latest builds (oldest left), bar height by duration. */
static int strip(bt_buf *b, const blist *l, const char *project)
{
    const brow *pick[STRIP_BUILDS];
    size_t n = 0, i;
    int64_t max = 1;
    char d[32], when[32];
    int rc;
    for (i = 0; i < l->n && n < STRIP_BUILDS; i++)
        if (l->rows[i].project && strcmp(l->rows[i].project, project) == 0)
            pick[n++] = &l->rows[i];
    for (i = 0; i < n; i++)
        if (dur(pick[i]) > max)
            max = dur(pick[i]);
    rc = bt_buf_puts(b, "<div class=\"strip\"><span>");
    rc |= web_esc_cut(b, project, 40);
    rc |= bt_buf_printf(b,
                        "</span><svg width=\"%zu\" height=\"28\" role=\"img\" "
                        "aria-label=\"recent builds\">",
                        n * 8);
    for (i = 0; i < n; i++) {
        const brow *r = pick[n - 1 - i];
        double h = dur(r) > 0 ? 4 + 24.0 * (double)dur(r) / (double)max : 4;
        web_dur(dur(r), d);
        web_time(r->start_ms, when);
        rc |= bt_buf_puts(b, "<a href=\"/builds/");
        rc |= web_urlenc(b, r->uuid);
        rc |= bt_buf_printf(b,
                            "\"><title>%s %s %s</title><rect class=\"s-%s\" x=\"%zu\" "
                            "y=\"%.1f\" width=\"6\" height=\"%.1f\"/></a>",
                            when, r->status ? r->status : "UNKNOWN", dur(r) >= 0 ? d : "",
                            r->status ? r->status : "UNKNOWN", i * 8, 28 - h, h);
    }
    return rc | bt_buf_puts(b, "</svg></div>");
}

static int strips(bt_buf *b, const blist *l, const brow **page, size_t n)
{
    const char *seen[STRIP_PROJECTS];
    size_t ns = 0, i, k;
    int rc = bt_buf_puts(b, "<h2>Recent outcomes per project</h2><div class=\"strips\">");
    for (i = 0; i < n && ns < STRIP_PROJECTS; i++) {
        const char *p = page[i]->project;
        int dupl = !p;
        for (k = 0; k < ns && !dupl; k++)
            dupl = strcmp(seen[k], p) == 0;
        if (dupl)
            continue;
        seen[ns++] = p;
        rc |= strip(b, l, p);
    }
    return rc | bt_buf_puts(b, "</div>");
}

static int head_cell(bt_buf *b, const web_params *p, int key, sorter s, const char *label,
                     const char *cls)
{
    static const char *const skip[] = {"sort", "dir", "page", NULL};
    int desc = key == s.key ? !s.desc : key <= 3;
    int rc = bt_buf_printf(
        b, "<th%s%s><a href=\"/?", cls,
        key == s.key ? (s.desc ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\"") : "");
    rc |= keep_params(b, p, skip);
    rc |= bt_buf_printf(b, "sort=%s&amp;dir=%s\">%s%s</a></th>", sort_names[key],
                        desc ? "desc" : "asc", label,
                        key == s.key ? (s.desc ? " \xe2\x96\xbc" : " \xe2\x96\xb2") : "");
    return rc;
}

static int row(bt_buf *b, const brow *r)
{
    char when[32], d[32];
    int rc;
    web_time(r->start_ms, when);
    web_dur(dur(r), d);
    rc = bt_buf_puts(b, "<tr><td><a href=\"/builds/");
    rc |= web_urlenc(b, r->uuid);
    rc |= bt_buf_puts(b, "\">");
    rc |= web_esc_cut(b, r->build_id, 80);
    rc |= bt_buf_puts(b, "</a></td><td>");
    rc |= web_esc(b, r->project);
    rc |= bt_buf_printf(b,
                        "</td><td class=\"mono\">%s</td><td class=\"n\">%s</td><td "
                        "class=\"opt\">",
                        when, dur(r) >= 0 ? d : "-");
    rc |= web_esc(b, r->trigger);
    rc |= bt_buf_printf(b,
                        "</td><td><span class=\"st %s\">%s</span></td><td class=\"n\">%.0f"
                        "</td><td class=\"n%s\">%.0f</td></tr>",
                        r->status ? r->status : "UNKNOWN", r->status ? r->status : "unknown",
                        (double)r->calls, r->errors ? " bad" : "", (double)r->errors);
    return rc;
}

static int pager(bt_buf *b, const web_params *p, size_t page, size_t pages, size_t total)
{
    static const char *const skip[] = {"page", NULL};
    int rc = bt_buf_printf(b,
                           "<nav class=\"pager\" aria-label=\"pages\"><span>%zu builds, page "
                           "%zu of %zu</span>",
                           total, page, pages ? pages : 1);
    if (page > 1) {
        rc |= bt_buf_puts(b, "<a rel=\"prev\" href=\"/?");
        rc |= keep_params(b, p, skip);
        rc |= bt_buf_printf(b, "page=%zu\">previous</a>", page - 1);
    }
    if (page < pages) {
        rc |= bt_buf_puts(b, "<a rel=\"next\" href=\"/?");
        rc |= keep_params(b, p, skip);
        rc |= bt_buf_printf(b, "page=%zu\">next</a>", page + 1);
    }
    return rc | bt_buf_puts(b, "</nav>");
}

static size_t param_num(const web_params *p, const char *name, size_t def, size_t max)
{
    const char *v = web_param(p, name);
    char *end;
    unsigned long n = v ? strtoul(v, &end, 10) : 0;
    if (!v || *end || n == 0)
        return def;
    return n > max ? max : n;
}

static int render_list(bt_buf *b, const blist *l, const web_params *p, const brow **v)
{
    sorter s = {0, 1};
    size_t i, per = param_num(p, "n", PAGE_DEFAULT, PAGE_MAX), page, pages, from;
    const char *k = web_param(p, "sort"), *dir = web_param(p, "dir");
    int rc;
    for (i = 0; k && i < sizeof sort_names / sizeof sort_names[0]; i++)
        if (strcmp(k, sort_names[i]) == 0)
            s.key = (int)i;
    s.desc = dir ? strcmp(dir, "asc") != 0 : 1;
    if (l->nmatch > 1)
        sort_rows(v, l->nmatch, s, v + l->nmatch);
    pages = (l->nmatch + per - 1) / per;
    page = param_num(p, "page", 1, pages ? pages : 1);
    from = (page - 1) * per;
    rc = web_page_open(b, "Builds - buildtrail", "builds", 0);
    rc |= bt_buf_puts(b, "<h1>Builds</h1>");
    rc |= filters_form(b, p);
    rc |= strips(b, l, v + from, l->nmatch - from < per ? l->nmatch - from : per);
    rc |= pager(b, p, page, pages, l->nmatch);
    rc |= bt_buf_puts(b, "<div class=\"wrap\"><table class=\"builds\" id=\"builds\"><thead><tr>"
                         "<th>Build</th>");
    rc |= head_cell(b, p, 4, s, "Project", "");
    rc |= head_cell(b, p, 0, s, "Started (UTC)", "");
    rc |= head_cell(b, p, 1, s, "Duration", " class=\"n\"");
    rc |= bt_buf_puts(b, "<th class=\"opt\">Trigger</th>");
    rc |= head_cell(b, p, 5, s, "Outcome", "");
    rc |= head_cell(b, p, 2, s, "Calls", " class=\"n\"");
    rc |= head_cell(b, p, 3, s, "Failed", " class=\"n\"");
    rc |= bt_buf_puts(b, "</tr></thead><tbody>");
    for (i = from; i < l->nmatch && i < from + per; i++)
        rc |= row(b, v[i]);
    rc |= bt_buf_puts(b, "</tbody></table></div>");
    rc |= pager(b, p, page, pages, l->nmatch);
    return rc | web_page_close(b, 0);
}

void web_builds_page(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r)
{
    bt_error err = BT_ERROR_INIT;
    bt_build_query q, all;
    blist l;
    const brow **v = NULL;
    size_t i, k = 0;
    int rc;

    memset(&l, 0, sizeof l);
    if (make_query(p, &q, &err)) {
        web_error(r, 400, 0, err.msg);
        return;
    }
    bt_build_query_init(&all);
    l.a = a;
    l.q = &q;
    rc = bt_store_builds_find(s, &all, on_build, &l, &err);
    if (rc || !(v = malloc((2 * l.nmatch + 1) * sizeof *v))) {
        web_error(r, 500, 0, rc == BT_ENOMEM || !rc ? "out of memory" : "the store failed");
        goto done;
    }
    for (i = 0; i < l.n; i++)
        if (l.rows[i].match)
            v[k++] = &l.rows[i];
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    if (render_list(&r->body, &l, p, v))
        web_error(r, 500, 0, "out of memory");
done:
    free(v);
    free(l.rows);
}

/* ---- /api/builds ---- */

typedef struct jlist {
    bt_arena *a;
    bt_json *list;
} jlist;

static int on_build_json(void *ctx, const bt_build *b)
{
    jlist *j = ctx;
    bt_json *v = bt_build_to_json(j->a, b);
    return !v || bt_json_array_push(j->a, j->list, v) ? BT_ENOMEM : 0;
}

void web_builds_api(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r)
{
    bt_error err = BT_ERROR_INIT;
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    bt_build_query q;
    jlist j = {a, bt_json_new_array(a, 64)};
    bt_json *root = bt_json_new_object(a, 1);
    int rc;

    if (make_query(p, &q, &err)) {
        web_error(r, 400, 1, err.msg);
        return;
    }
    q.limit = param_num(p, "limit", 0, (size_t)-1);
    if (!j.list || !root || bt_json_object_put(a, root, "Builds", 6, j.list)) {
        web_error(r, 500, 1, "out of memory");
        return;
    }
    rc = bt_store_builds_find(s, &q, on_build_json, &j, &err);
    if (rc) {
        web_error(r, 500, 1, rc == BT_ENOMEM ? "out of memory" : "the store failed");
        return;
    }
    fo.title = "Builds";
    r->status = 200;
    r->content_type = "application/json";
    if (bt_format_write(&r->body, root, &fo, &err))
        web_error(r, 500, 1, "out of memory");
}
