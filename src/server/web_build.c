/*
 * web_build.c - the page of one build: its facts, the timeline drawn as inline SVG
 * (phase bars on a time axis, one lane per service the role session called with a tick
 * per call, errors in red, the trigger and stops as markers, project changes before
 * the build as markers in a left gutter), the failed calls, the trigger and its
 * overrides, the project changes with their diffs, and the table of calls. The same
 * renderer writes the standalone report of `build --output html`.
 */
#include <stdio.h>
#include <string.h>

#include "buildtrail/builds.h"
#include "buildtrail/server.h"
#include "server/web_int.h"

#define SVG_W 1000
#define LABEL_W 170  /* lane labels */
#define GUTTER_W 110 /* project changes before the build */
#define RIGHT_PAD 24
#define AXIS_H 26
#define ROW_H 24

/* The geometry of one drawing. */
typedef struct geo {
    int64_t lo, hi; /* time domain of the main area */
    double x0, x1;  /* main area in SVG units */
    int y;          /* next row's top */
} geo;

static double xat(const geo *g, int64_t ms)
{
    if (ms <= g->lo)
        return g->x0;
    if (ms >= g->hi)
        return g->x1;
    return g->x0 + (g->x1 - g->x0) * (double)(ms - g->lo) / (double)(g->hi - g->lo);
}

static const char *status_class(const char *s)
{
    static const char *const known[] = {"SUCCEEDED", "FAILED",  "FAULT",
                                        "TIMED_OUT", "STOPPED", "IN_PROGRESS"};
    size_t i;
    for (i = 0; s && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "UNKNOWN";
}

/* Service name without ".amazonaws.com". */
static void short_service(const char *src, char out[64])
{
    const char *dot = src ? strstr(src, ".amazonaws.com") : NULL;
    if (!src)
        src = "?";
    snprintf(out, 64, "%.*s", dot ? (int)(dot - src) : (int)strlen(src), src);
}

static void domain(const bt_timeline *t, geo *g)
{
    int est;
    int64_t end = bt_build_end(&t->build, &est);
    size_t i;
    g->lo = t->build.start_ms;
    g->hi = end;
    for (i = 0; i < t->n_events; i++) {
        int64_t ms = t->events[i].time_ms;
        if (!ms)
            continue;
        if (!g->lo || ms < g->lo)
            g->lo = ms;
        if (ms > g->hi)
            g->hi = ms;
    }
    if (g->hi <= g->lo)
        g->hi = g->lo + 1000;
}

/* The time axis: grid lines over the whole height and "+Xm" labels. */
static int axis(bt_buf *b, const geo *g, int height)
{
    static const int64_t steps[] = {1000,    2000,    5000,     10000,    15000,    30000,
                                    60000,   120000,  300000,   600000,   900000,   1800000,
                                    3600000, 7200000, 10800000, 21600000, 43200000, 86400000};
    int64_t span = g->hi - g->lo, step = steps[sizeof steps / sizeof steps[0] - 1], k;
    size_t i;
    int rc = 0;
    char d[32];
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= 8) {
            step = steps[i];
            break;
        }
    for (k = 0; k <= span && !rc; k += step) {
        double x = xat(g, g->lo + k);
        web_dur(k, d);
        rc = bt_buf_printf(b,
                           "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                           "<text class=\"mute\" x=\"%.1f\" y=\"16\" text-anchor=\"middle\">+%s"
                           "</text>",
                           x, AXIS_H - 4, x, height - 4, x, k ? d : "0");
    }
    return rc;
}

static int row_label(bt_buf *b, int y, const char *label, const char *sub)
{
    int rc = bt_buf_printf(b, "<text x=\"8\" y=\"%d\">", y + 16);
    rc |= web_esc_cut(b, label, 22);
    if (sub) {
        rc |= bt_buf_puts(b, " <tspan class=\"mute\">");
        rc |= web_esc(b, sub);
        rc |= bt_buf_puts(b, "</tspan>");
    }
    return rc | bt_buf_puts(b, "</text>");
}

/* A bar with a title (escaped) from a to b in row y. */
static int bar(bt_buf *b, const geo *g, int y, int64_t from, int64_t to, const char *cls,
               const char *title, const char *label)
{
    double x = xat(g, from), w = xat(g, to) - x;
    int rc;
    if (w < 2)
        w = 2;
    rc = bt_buf_puts(b, "<g><title>");
    rc |= web_esc(b, title);
    rc |= bt_buf_printf(b,
                        "</title><rect class=\"s-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                        "height=\"%d\" rx=\"3\"/>",
                        cls, x, y + 4, w, ROW_H - 8);
    if (label && w > 7.0 * (double)strlen(label) + 8) {
        rc |= bt_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"on\">", x + 4, y + 16);
        rc |= web_esc(b, label);
        rc |= bt_buf_puts(b, "</text>");
    }
    return rc | bt_buf_puts(b, "</g>");
}

/* The build row: the outcome bar, the trigger and stop markers. */
static int build_row(bt_buf *b, const bt_timeline *t, geo *g)
{
    const bt_build *bd = &t->build;
    int est, rc;
    int64_t end = bt_build_end(bd, &est);
    char title[160], d[32];
    size_t i;
    web_dur(end && bd->start_ms ? end - bd->start_ms : 0, d);
    snprintf(title, sizeof title, "build %s, %s%s", status_class(bd->status), d,
             est ? " (to its last call)" : "");
    rc = row_label(b, g->y, "Build", status_class(bd->status));
    if (bd->start_ms)
        rc |= bar(b, g, g->y, bd->start_ms, end ? end : g->hi, status_class(bd->status), title, d);
    if (t->trigger.found) {
        double x = xat(g, t->trigger.time_ms);
        rc |= bt_buf_puts(b, "<a class=\"trig\" href=\"#trigger\"><title>");
        rc |= web_esc(b, t->trigger.event_name);
        rc |= bt_buf_puts(b, " by ");
        rc |= web_esc(b, t->trigger.by);
        rc |= bt_buf_printf(b, "</title><path d=\"M%.1f %d l-6 -9 h12 z\"/></a>", x, g->y + 12);
    }
    for (i = 0; i < t->n_stops; i++) {
        double x = xat(g, t->stops[i]->time_ms);
        rc |= bt_buf_puts(b, "<a class=\"stop\" href=\"#stops\"><title>");
        rc |= web_esc(b, t->stops[i]->event_name);
        rc |= bt_buf_puts(b, " by ");
        rc |= web_esc(b, t->stops[i]->by);
        rc |=
            bt_buf_printf(b, "</title><path d=\"M%.1f %d h10 v10 h-10 z\"/></a>", x - 5, g->y + 7);
    }
    g->y += ROW_H;
    return rc;
}

/* Phase bars: from BatchGetBuilds (--live) or from EventBridge phase changes, each
 * phase running from the previous change (or the start) to its own. */
static int phase_row(bt_buf *b, const bt_timeline *t, geo *g)
{
    int64_t prev = t->build.start_ms;
    size_t i, n = 0;
    int rc = 0;
    char title[200], d[32];
    if (t->live && t->live->n_phases) {
        for (i = 0; i < t->live->n_phases; i++) {
            const bt_timeline_phase *p = &t->live->phases[i];
            if (!p->start_ms)
                continue;
            web_dur((p->end_ms ? p->end_ms : p->start_ms) - p->start_ms, d);
            snprintf(title, sizeof title, "%.60s %.30s %s", p->phase ? p->phase : "?",
                     p->status ? p->status : "", d);
            rc |= bar(b, g, g->y, p->start_ms, p->end_ms ? p->end_ms : p->start_ms,
                      p->status ? status_class(p->status) : "UNKNOWN", title, p->phase);
            n++;
        }
    } else {
        for (i = 0; i < t->n_events; i++) {
            const bt_timeline_event *e = &t->events[i];
            if (e->kind == BT_TL_STATE && e->status && strcmp(e->status, "IN_PROGRESS") == 0)
                prev = e->time_ms;
            if (e->kind != BT_TL_PHASE)
                continue;
            if (!prev)
                prev = e->time_ms;
            web_dur(e->time_ms - prev, d);
            snprintf(title, sizeof title, "%.60s %.30s %s", e->phase ? e->phase : "?",
                     e->status ? e->status : "", d);
            rc |= bar(b, g, g->y, prev, e->time_ms, e->status ? status_class(e->status) : "UNKNOWN",
                      title, e->phase);
            prev = e->time_ms;
            n++;
        }
    }
    if (n) {
        rc |= row_label(b, g->y, "Phases", NULL);
        g->y += ROW_H;
    }
    return rc;
}

/* Markers for the project changes before the build, evenly spaced in the gutter. */
static int changes_row(bt_buf *b, const bt_timeline *t, geo *g)
{
    size_t i;
    int rc = 0;
    char when[32], d[32];
    int labels = (GUTTER_W - 20) / (int)(t->n_changes ? t->n_changes : 1) >= 40;
    if (!t->n_changes)
        return 0;
    for (i = 0; i < t->n_changes; i++)
        labels &= t->changes[i].time_ms < g->lo;
    rc |= row_label(b, g->y, "Project changes", NULL);
    for (i = 0; i < t->n_changes; i++) {
        const bt_timeline_change *c = &t->changes[i];
        double x = LABEL_W + 10 + (GUTTER_W - 20) * ((double)i + 0.5) / (double)t->n_changes;
        if (c->time_ms >= g->lo)
            x = xat(g, c->time_ms);
        web_time(c->time_ms, when);
        web_dur(t->build.start_ms - c->time_ms, d);
        rc |= bt_buf_printf(b, "<a class=\"chg\" href=\"#chg-%zu\"><title>", i);
        rc |= web_esc(b, c->event_name);
        rc |= bt_buf_printf(b, " %s UTC (%s before the start) by ", when, d);
        rc |= web_esc(b, c->by);
        rc |= bt_buf_printf(b, ", %zu setting%s</title><circle cx=\"%.1f\" cy=\"%d\" r=\"5\"/>",
                            c->n_diffs, c->n_diffs == 1 ? "" : "s", x, g->y + (labels ? 7 : 12));
        if (labels) /* how long before the start, under the marker */
            rc |= bt_buf_printf(b,
                                "<text class=\"mute small\" x=\"%.1f\" y=\"%d\" "
                                "text-anchor=\"middle\">-%s</text>",
                                x, g->y + 22, d);
        rc |= bt_buf_puts(b, "</a>");
    }
    g->y += ROW_H;
    return rc;
}

/* One lane per service, a tick per call (errors red and full height). */
static int lanes(bt_buf *b, const bt_timeline *t, geo *g)
{
    size_t s, i;
    int rc = 0;
    char name[64], sub[48], when[32];
    for (s = 0; s < t->n_services && !rc; s++) {
        const bt_timeline_service *sv = &t->services[s];
        short_service(sv->event_source, name);
        if (sv->errors)
            snprintf(sub, sizeof sub, "%.0f / %.0f err", (double)sv->calls, (double)sv->errors);
        else
            snprintf(sub, sizeof sub, "%.0f", (double)sv->calls);
        rc |=
            bt_buf_printf(b,
                          "<rect class=\"lanebg\" x=\"%d\" y=\"%d\" width=\"%d\" "
                          "height=\"%d\" opacity=\"%s\"/>",
                          LABEL_W, g->y + 1, SVG_W - LABEL_W - 4, ROW_H - 2, s % 2 ? "0.5" : "0.9");
        rc |= row_label(b, g->y, name, sub);
        for (i = 0; i < t->n_events; i++) {
            const bt_timeline_event *e = &t->events[i];
            const char *src = e->event_source ? e->event_source : "?";
            int err = e->error_code != NULL;
            if (e->kind != BT_TL_CALL || strcmp(src, sv->event_source ? sv->event_source : "?"))
                continue;
            web_time(e->time_ms, when);
            rc |= bt_buf_printf(b, "<a class=\"tk%s\" href=\"#c%zu\"><title>%s ", err ? " err" : "",
                                i, when);
            rc |= web_esc(b, e->event_name);
            if (err) {
                rc |= bt_buf_puts(b, " ");
                rc |= web_esc(b, e->error_code);
            }
            rc |= bt_buf_printf(b,
                                "</title><rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
                                "</a>",
                                xat(g, e->time_ms) - (err ? 1.5 : 1.0), g->y + (err ? 2 : 6),
                                err ? 3 : 2, err ? ROW_H - 4 : ROW_H - 12);
        }
        g->y += ROW_H;
    }
    return rc;
}

static int timeline_svg(bt_buf *b, const bt_timeline *t)
{
    geo g;
    bt_buf body = BT_BUF_INIT;
    int rc, height;
    char when[32];
    memset(&g, 0, sizeof g);
    domain(t, &g);
    g.x0 = LABEL_W + (t->n_changes ? GUTTER_W : 10);
    g.x1 = SVG_W - RIGHT_PAD;
    g.y = AXIS_H;
    rc = build_row(&body, t, &g);
    rc |= phase_row(&body, t, &g);
    rc |= changes_row(&body, t, &g);
    rc |= lanes(&body, t, &g);
    height = g.y + 8;
    web_time(g.lo, when);
    rc |= bt_buf_printf(b,
                        "<div class=\"wrap\"><svg class=\"tl\" id=\"timeline\" viewBox=\"0 0 %d "
                        "%d\" role=\"img\" aria-labelledby=\"tl-title\"><title id=\"tl-title\">"
                        "Timeline from %s UTC: phases, and the calls of the build's role "
                        "session per service</title>",
                        SVG_W, height, when);
    rc |= bt_buf_printf(b, "<text class=\"mute\" x=\"8\" y=\"16\">%s UTC</text>", when);
    if (t->n_changes)
        rc |= bt_buf_printf(b,
                            "<text class=\"mute\" x=\"%d\" y=\"16\">before</text><line "
                            "class=\"ev\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>",
                            LABEL_W + 10, g.x0 - 8, AXIS_H, g.x0 - 8, height - 4);
    rc |= axis(b, &g, height);
    rc |= bt_buf_append(b, body.data ? body.data : "", body.len);
    rc |= bt_buf_puts(b, "</svg></div><div id=\"tip\" aria-live=\"polite\" class=\"muted\">"
                         "Hover or focus a tick (Tab) to see the call; select it to jump to its "
                         "row.</div>");
    bt_buf_dispose(&body);
    return rc;
}

/* ---- the sections around the drawing ---- */

static int fact(bt_buf *b, const char *name, const char *value)
{
    int rc;
    if (!value)
        return 0;
    rc = bt_buf_printf(b, "<dt>%s</dt><dd>", name);
    rc |= web_esc(b, value);
    return rc | bt_buf_puts(b, "</dd>");
}

/* A link to another build's page (text only in a standalone report). */
static int build_link(bt_buf *b, const char *name, const char *id, unsigned flags)
{
    int rc;
    if (!id || !id[0])
        return 0;
    rc = bt_buf_printf(b, "<dt>%s</dt><dd>", name);
    if (flags & WEB_STANDALONE)
        return rc | web_esc(b, id) | bt_buf_puts(b, "</dd>");
    rc |= bt_buf_puts(b, "<a href=\"/builds/");
    rc |= web_urlenc(b, id);
    rc |= bt_buf_puts(b, "\">");
    rc |= web_esc(b, id);
    return rc | bt_buf_puts(b, "</a></dd>");
}

static int facts(bt_buf *b, const bt_timeline *t, unsigned flags)
{
    const bt_build *bd = &t->build;
    int est, rc;
    int64_t end = bt_build_end(bd, &est);
    char s[32], e[32], d[64], calls[64], num[32];
    web_time(bd->start_ms, s);
    web_time(end, e);
    web_dur(end && bd->start_ms ? end - bd->start_ms : 0, d);
    if (est)
        strcat(d, " (to its last call)");
    snprintf(calls, sizeof calls, "%.0f calls, %.0f failed", (double)bd->calls, (double)bd->errors);
    snprintf(num, sizeof num, "%lld", (long long)bd->number);
    rc = bt_buf_puts(b, "<h1>Build ");
    rc |= web_esc(b, bd->build_id);
    rc |= bt_buf_printf(
        b, " <span class=\"st %s\" id=\"outcome\">%s</span></h1><dl class=\"facts top\">",
        status_class(bd->status), bd->status ? status_class(bd->status) : "unknown");
    rc |= fact(b, "Project", bd->project);
    rc |= fact(b, "Number", bd->number >= 0 ? num : NULL);
    rc |= fact(b, "Account", bd->account);
    rc |= fact(b, "Region", bd->region);
    rc |= fact(b, "Started (UTC)", s);
    rc |= fact(b, "Ended (UTC)", end ? e : NULL);
    rc |= fact(b, "Duration", end && bd->start_ms ? d : NULL);
    rc |= fact(b, "Trigger", bd->trigger_type);
    rc |= fact(b, "Pipeline", bt_build_pipeline(bd));
    rc |= fact(b, "Started by", bd->trigger_principal);
    rc |= fact(b, "Source version", bd->source_version);
    rc |= fact(b, "Outcome from", bd->status ? bd->status_source : NULL);
    rc |= fact(b, "Role session", calls);
    rc |= fact(b, "Stopped by", bd->stop_principal);
    rc |= build_link(b, "Retry of", bd->retry_of, flags);
    rc |= build_link(b, "Retried as", bd->retried_as, flags);
    rc |= build_link(b, "Batch", bd->batch_uuid, flags);
    return rc | bt_buf_puts(b, "</dl>");
}

static int errors_section(bt_buf *b, const bt_timeline *t)
{
    size_t i;
    int rc = bt_buf_printf(b, "<h2 id=\"errors\">Failed calls (%zu)</h2>", t->n_errors);
    char when[32];
    if (!t->n_errors)
        return rc | bt_buf_puts(b, "<p class=\"muted\">none</p>");
    rc |= bt_buf_puts(b, "<ol class=\"errs\">");
    for (i = 0; i < t->n_errors; i++) {
        const bt_timeline_event *e = t->errors[i];
        if (i == 10)
            rc |= bt_buf_printf(b,
                                "</ol><details><summary>%zu more</summary><ol class=\"errs\" "
                                "start=\"11\">",
                                t->n_errors - 10);
        web_time(e->time_ms, when);
        rc |= bt_buf_printf(b, "<li><a href=\"#c%zu\">%s</a> ", (size_t)(e - t->events), when);
        rc |= web_esc(b, e->event_source);
        rc |= bt_buf_puts(b, " <b>");
        rc |= web_esc(b, e->event_name);
        rc |= bt_buf_puts(b, "</b> <span class=\"bad\">");
        rc |= web_esc(b, e->error_code);
        rc |= bt_buf_puts(b, "</span>: ");
        rc |= web_esc_cut(b, e->error_message, 300);
        rc |= bt_buf_puts(b, "</li>");
    }
    return rc | bt_buf_puts(b, t->n_errors > 10 ? "</ol></details>" : "</ol>");
}

static int trigger_section(bt_buf *b, const bt_timeline *t)
{
    const bt_timeline_trigger *tr = &t->trigger;
    size_t i;
    int rc = bt_buf_puts(b, "<h2 id=\"trigger\">Trigger</h2>");
    char when[32];
    if (!tr->found)
        return rc | bt_buf_puts(b, "<p class=\"muted\">No StartBuild record (the trigger is "
                                   "inferred).</p>");
    web_time(tr->time_ms, when);
    rc |= bt_buf_printf(b, "<dl class=\"facts\"><dt>Time (UTC)</dt><dd>%s</dd>", when);
    rc |= fact(b, "Call", tr->event_name);
    rc |= fact(b, "By", tr->by);
    rc |= fact(b, "Source IP", tr->source_ip);
    rc |= fact(b, "User agent", tr->user_agent);
    rc |= fact(b, "Event id", tr->event_id);
    rc |= bt_buf_puts(b, "</dl>");
    if (!tr->n_overrides)
        return rc;
    rc |= bt_buf_puts(b, "<div class=\"wrap\"><table><thead><tr><th>Override</th><th>Value</th>"
                         "<th>Project's setting</th></tr></thead><tbody>");
    for (i = 0; i < tr->n_overrides; i++) {
        const bt_timeline_override *o = &tr->overrides[i];
        rc |= bt_buf_printf(b, "<tr%s><td>", o->changes_project ? " class=\"err\"" : "");
        rc |= web_esc(b, o->name);
        rc |= bt_buf_puts(b, "</td><td class=\"mono\">");
        rc |= web_esc_cut(b, o->value ? o->value : "null", 300);
        rc |= bt_buf_printf(b, "</td><td class=\"mono%s\">", o->changes_project ? " bad" : "");
        rc |= web_esc_cut(b, o->project_value ? o->project_value : "not set", 300);
        rc |= bt_buf_puts(b, "</td></tr>");
    }
    return rc | bt_buf_puts(b, "</tbody></table></div>");
}

static int changes_section(bt_buf *b, const bt_timeline *t)
{
    size_t i, k;
    char when[32];
    int rc = bt_buf_puts(b, "<h2 id=\"changes\">Project changes before the build (");
    rc |= web_esc(b, t->window_text);
    rc |= bt_buf_puts(b, ")</h2>");
    if (!t->n_changes)
        return rc | bt_buf_puts(b, "<p class=\"muted\">none</p>");
    rc |= bt_buf_puts(b, "<ol class=\"changes\">");
    for (i = 0; i < t->n_changes; i++) {
        const bt_timeline_change *c = &t->changes[i];
        web_time(c->time_ms, when);
        rc |= bt_buf_printf(b, "<li id=\"chg-%zu\">%s UTC <b>", i, when);
        rc |= web_esc(b, c->event_name);
        rc |= bt_buf_puts(b, "</b> by ");
        rc |= web_esc(b, c->by);
        rc |= bt_buf_puts(b, "<table class=\"diff\"><tbody>");
        for (k = 0; k < c->n_diffs; k++) {
            const bt_timeline_diff *d = &c->diffs[k];
            rc |= bt_buf_puts(b, "<tr><td>");
            rc |= web_esc(b, d->field);
            rc |= bt_buf_puts(b, "</td><td class=\"mono\"><del>");
            rc |= web_esc_cut(b, d->old_value ? d->old_value : "(not set)", 400);
            rc |= bt_buf_puts(b, "</del></td><td class=\"mono\"><ins>");
            rc |= web_esc_cut(b, d->new_value ? d->new_value : "(removed)", 400);
            rc |= bt_buf_puts(b, "</ins></td></tr>");
        }
        rc |= bt_buf_puts(b, "</tbody></table></li>");
    }
    return rc | bt_buf_puts(b, "</ol>");
}

/* Records about the build (start, stops, polls) and its state changes. */
static int records_section(bt_buf *b, const bt_timeline *t)
{
    size_t i;
    char when[32];
    int rc = bt_buf_puts(b, "<h2 id=\"stops\">Records about the build</h2><div class=\"wrap\">"
                            "<table><thead><tr><th>Time (UTC)</th><th>Kind</th><th>What</th>"
                            "<th>By</th></tr></thead><tbody>");
    for (i = 0; i < t->n_events; i++) {
        const bt_timeline_event *e = &t->events[i];
        if (e->kind == BT_TL_CALL)
            continue;
        web_time(e->time_ms, when);
        rc |= bt_buf_printf(b, "<tr><td class=\"mono\">%s</td><td>%s</td><td>", when,
                            bt_timeline_kind_name(e->kind));
        rc |= web_esc(b, e->kind == BT_TL_ABOUT ? e->event_name : e->phase);
        rc |= bt_buf_puts(b, " ");
        rc |= web_esc(b, e->kind == BT_TL_ABOUT ? e->error_code : e->status);
        rc |= bt_buf_puts(b, "</td><td>");
        rc |= web_esc(b, e->by);
        rc |= bt_buf_puts(b, "</td></tr>");
    }
    return rc | bt_buf_puts(b, "</tbody></table></div>");
}

static int calls_table(bt_buf *b, const bt_timeline *t)
{
    size_t i, k;
    char when[32], d[32], name[64];
    int rc = bt_buf_printf(b,
                           "<h2 id=\"calls-h\">Calls of the role session (%.0f)</h2>"
                           "<div id=\"calls-filter\" class=\"filters\" hidden><label>Service "
                           "<select id=\"svc\"><option value=\"\">all</option>",
                           (double)t->build.calls);
    for (i = 0; i < t->n_services; i++) {
        short_service(t->services[i].event_source, name);
        rc |= bt_buf_puts(b, "<option value=\"");
        rc |= web_esc(b, t->services[i].event_source ? t->services[i].event_source : "?");
        rc |= bt_buf_puts(b, "\">");
        rc |= web_esc(b, name);
        rc |= bt_buf_puts(b, "</option>");
    }
    rc |= bt_buf_puts(b, "</select></label> <label><input type=\"checkbox\" id=\"erronly\"> "
                         "errors only</label> <span id=\"calls-count\" class=\"muted\"></span>"
                         "</div><div class=\"wrap\"><table id=\"calls\"><thead><tr><th>Time "
                         "(UTC)</th><th class=\"n\">+</th><th>Service</th><th>Call</th>"
                         "<th>Resources</th><th>Error</th></tr></thead><tbody>");
    for (i = 0; i < t->n_events; i++) {
        const bt_timeline_event *e = &t->events[i];
        if (e->kind != BT_TL_CALL)
            continue;
        web_time(e->time_ms, when);
        web_dur(e->time_ms - t->build.start_ms, d);
        short_service(e->event_source, name);
        rc |= bt_buf_printf(b, "<tr id=\"c%zu\"%s data-svc=\"", i,
                            e->error_code ? " class=\"err\"" : "");
        rc |= web_esc(b, e->event_source ? e->event_source : "?");
        rc |= bt_buf_printf(b, "\"><td class=\"mono\">%s</td><td class=\"n\">%s</td><td>", when, d);
        rc |= web_esc(b, name);
        rc |= bt_buf_puts(b, "</td><td>");
        rc |= web_esc(b, e->event_name);
        rc |= bt_buf_puts(b, "</td><td class=\"mono\">");
        for (k = 0; k < e->n_resources && k < 3; k++) {
            rc |= k ? bt_buf_puts(b, "<br>") : 0;
            rc |= web_esc_cut(b, e->resources[k], 120);
        }
        rc |= bt_buf_puts(b, "</td><td class=\"ec\">");
        rc |= web_esc(b, e->error_code);
        if (e->error_message) {
            rc |= bt_buf_puts(b, ": ");
            rc |= web_esc_cut(b, e->error_message, 200);
        }
        rc |= bt_buf_puts(b, "</td></tr>");
    }
    return rc | bt_buf_puts(b, "</tbody></table></div>");
}

int web_build_render(const bt_timeline *t, unsigned flags, bt_buf *b)
{
    int rc;
    bt_buf title = BT_BUF_INIT;
    bt_buf_puts(&title, "Build ");
    bt_buf_puts(&title, t->build.build_id ? t->build.build_id : t->build.uuid);
    rc = web_page_open(b, title.data ? title.data : "Build", "builds", flags);
    bt_buf_dispose(&title);
    rc |= facts(b, t, flags);
    rc |= timeline_svg(b, t);
    rc |= errors_section(b, t);
    rc |= trigger_section(b, t);
    rc |= changes_section(b, t);
    rc |= records_section(b, t);
    rc |= calls_table(b, t);
    rc |= web_page_close(b, flags);
    return rc ? BT_ENOMEM : 0;
}

int bt_serve_build_html(const bt_timeline *t, int standalone, bt_buf *out)
{
    return web_build_render(t, standalone ? WEB_STANDALONE : 0, out);
}
