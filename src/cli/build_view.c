/* build_view.c - `buildtrail build`'s view for people: the build, the project changes
 * before it, the trigger, what its role session did and the timeline, from the
 * library's structs (builds.h). Every line is word-wrapped to the terminal with a
 * hanging indent; no message or value is ever cut (the JSON has the same facts). */
#include "build_view.h"

#include <stdarg.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/format.h"
#include "buildtrail/timeutil.h"
#include "build_live.h"
#include "term.h"

#define RED "\033[31m"
#define YEL "\033[33m"
#define GRN "\033[32m"
#define BLD "\033[1m"
#define DIM "\033[2m"
#define RST "\033[0m"

/* One logical line is built in line, then wrapped out to f. */
typedef struct view {
    FILE *f;
    const build_view_opts *o;
    bt_buf line;
    int hang; /* continuation indent of the line being built */
} view;

static const char *C(const view *v, const char *code)
{
    return v->o->color ? code : "";
}

static void put(view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(view *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_buf_vprintf(&v->line, fmt, ap);
    va_end(ap);
}

static void blank(view *v)
{
    fputc('\n', v->f);
}

/* Continuation lines start where the line is now. */
static void mark(view *v)
{
    v->hang = cli_text_width(v->line.data ? v->line.data : "", v->line.len);
}

/* Ends the line: continuation lines indented by hang (or the mark when hang < 0). */
static void endl(view *v, int hang)
{
    cli_wrap_line(v->f, v->line.data ? v->line.data : "", v->line.len, v->o->width,
                  hang >= 0 ? hang : v->hang);
    bt_buf_clear(&v->line);
    v->hang = 0;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static const char *plural(double n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

typedef struct when {
    char s[64];
} when;

/* a time as the JSON shows it; with dash, 0 (unknown) is "-" */
static const char *tm(when *w, int64_t ms, int dash)
{
    bt_buf b = BT_BUF_INIT;
    snprintf(w->s, sizeof w->s, "-");
    if ((ms || !dash) && bt_format_iso8601_local(&b, ms) == 0)
        snprintf(w->s, sizeof w->s, "%.*s", (int)b.len, b.data);
    bt_buf_dispose(&b);
    return w->s;
}

static void print_build(view *v, const bt_build *b)
{
    int est;
    int64_t end = bt_build_end(b, &est);
    const char *out = b->status;
    when w;

    put(v, "%sBuild %s%s", C(v, BLD), or_dash(b->build_id), C(v, RST));
    if (b->number >= 0)
        put(v, "  #%.0f", (double)b->number);
    put(v, "  (account %s, %s)", or_dash(b->account), or_dash(b->region));
    endl(v, 6);
    put(v, "Outcome   %s%s%s", out ? (strcmp(out, "SUCCEEDED") == 0 ? C(v, GRN) : C(v, RED)) : "",
        out ? out : "unknown", C(v, RST));
    if (out && b->status_source && strcmp(b->status_source, "phases") == 0)
        put(v, " (inferred from the phase events: no final state event)");
    else if (out)
        put(v, " (from %s)", or_dash(b->status_source));
    endl(v, 10);
    put(v, "Started   %s", tm(&w, b->start_ms, 1));
    if (end && b->start_ms && end >= b->start_ms) {
        int secs = (int)((end - b->start_ms) / 1000);
        put(v, "   ran %dm%02ds%s", secs / 60, secs % 60, est ? " (to its last call)" : "");
    }
    endl(v, 10);
    put(v, "Trigger   %s", or_dash(b->trigger_type));
    if (bt_build_pipeline(b))
        put(v, " %s", bt_build_pipeline(b));
    if (b->trigger_principal)
        put(v, " by %s", b->trigger_principal);
    if (b->retry_of)
        put(v, ", retry of %s", b->retry_of);
    if (b->batch_uuid)
        put(v, ", started by batch %s", b->batch_uuid);
    if (b->trigger_inferred)
        put(v, " %s(inferred: no StartBuild record)%s", C(v, DIM), C(v, RST));
    endl(v, 10);
    put(v, "Source    %s", or_dash(b->source_version));
    endl(v, 10);
    if (b->stop_principal) {
        put(v, "Stopped   by %s at %s", b->stop_principal, tm(&w, b->stop_ms, 1));
        endl(v, 10);
    }
    if (b->retried_as[0]) {
        put(v, "Retried   as %s", b->retried_as);
        endl(v, 10);
    }
}

static void print_changes(view *v, const bt_timeline *t)
{
    size_t i, k;
    when w;
    blank(v);
    put(v, "%sProject changes before the build (%s)%s", C(v, BLD), t->window_text, C(v, RST));
    endl(v, 2);
    if (!t->n_changes) {
        put(v, "  none");
        endl(v, 4);
    }
    for (i = 0; i < t->n_changes; i++) {
        const bt_timeline_change *c = &t->changes[i];
        put(v, "  %s  %s%s%s by %s", tm(&w, c->time_ms, 0), C(v, YEL), or_dash(c->event_name),
            C(v, RST), or_dash(c->by));
        endl(v, 6);
        for (k = 0; k < c->n_diffs; k++) {
            const bt_timeline_diff *d = &c->diffs[k];
            put(v, "      %s: ", or_dash(d->field));
            if (!d->old_value)
                put(v, "+ %s", d->new_value ? d->new_value : "null");
            else if (!d->new_value)
                put(v, "- %s (removed)", d->old_value);
            else
                put(v, "%s -> %s", d->old_value, d->new_value);
            endl(v, 8);
        }
    }
}

static void print_trigger(view *v, const bt_timeline_trigger *tr)
{
    size_t i;
    when w;
    if (!tr->found)
        return;
    blank(v);
    put(v, "%sTrigger%s", C(v, BLD), C(v, RST));
    endl(v, 0);
    put(v, "  %s  ", tm(&w, tr->time_ms, 0));
    mark(v);
    put(v, "%s by %s from %s", or_dash(tr->event_name), or_dash(tr->by), or_dash(tr->source_ip));
    endl(v, -1);
    for (i = 0; i < tr->n_overrides; i++) {
        const bt_timeline_override *o = &tr->overrides[i];
        int ch = o->changes_project;
        put(v, "      %s%s = %s%s", ch ? C(v, YEL) : "", or_dash(o->name), or_dash(o->value),
            ch ? C(v, RST) : "");
        if (ch)
            put(v, "  %s<- project: %s%s", C(v, YEL),
                o->project_value ? o->project_value : "not set (its default)", C(v, RST));
        endl(v, 8);
    }
}

static void print_calls(view *v, const bt_timeline *t)
{
    size_t i, k;
    double calls = (double)t->build.calls;
    blank(v);
    put(v, "%sWhat the build's role session did%s: %.0f %s, %.0f failed", C(v, BLD), C(v, RST),
        calls, plural(calls, "call", "calls"), (double)t->build.errors);
    endl(v, 2);
    for (i = 0; i < t->n_services; i++) {
        const bt_timeline_service *s = &t->services[i];
        if (v->o->errors_only && s->errors <= 0)
            continue;
        put(v, "  %-34s %5.0f %s", or_dash(s->event_source), (double)s->calls,
            plural((double)s->calls, "call", "calls"));
        mark(v);
        if (s->errors > 0) {
            put(v, "  %s%.0f failed", C(v, RED), (double)s->errors);
            for (k = 0; k < s->n_codes; k++)
                put(v, "%s %s x%.0f", k ? "," : ":", s->codes[k].code, (double)s->codes[k].count);
            put(v, "%s", C(v, RST));
        }
        endl(v, -1);
    }
    if (t->n_resources && !v->o->errors_only) {
        blank(v);
        put(v, "%sResources it touched%s", C(v, BLD), C(v, RST));
        endl(v, 0);
    }
    for (i = 0; i < t->n_resources && !v->o->errors_only; i++) {
        put(v, "  %-32s ", or_dash(t->resources[i].type));
        mark(v);
        put(v, "%s (%.0f)", or_dash(t->resources[i].name), (double)t->resources[i].calls);
        endl(v, -1);
    }
}

/* One entry of the timeline, on its line(s). */
static void print_event(view *v, const bt_timeline *t, const bt_timeline_event *e)
{
    const char *kind = bt_timeline_kind_name(e->kind), *src = or_dash(e->event_source);
    const char *dot = strchr(src, '.');
    int about = e->kind == BT_TL_ABOUT;
    when w;
    put(v, "  %s  ", tm(&w, e->time_ms, 0));
    mark(v);
    if (e->kind == BT_TL_STATE || e->kind == BT_TL_PHASE) {
        const bt_timeline_phase *ph =
            e->kind == BT_TL_PHASE ? bt_timeline_phase_find(t, e->phase) : NULL;
        put(v, "%s[%s] %s %s", C(v, DIM), kind, or_dash(e->phase), e->status ? e->status : "");
        if (ph) {
            put(v, "  started %s", tm(&w, ph->start_ms, 1));
            put(v, ", ended %s", tm(&w, ph->end_ms, 1));
            if (ph->has_duration)
                put(v, ", %.0f s", ph->duration_s);
        }
        put(v, "%s", C(v, RST));
        endl(v, -1);
        return;
    }
    put(v, "%s%.*s %s%s", about ? C(v, BLD) : "", dot ? (int)(dot - src) : (int)strlen(src), src,
        or_dash(e->event_name), about ? C(v, RST) : "");
    if (about)
        put(v, "  by %s", or_dash(e->by));
    if (e->error_code)
        put(v, "  %s%s: %s%s", C(v, RED), e->error_code, or_dash(e->error_message), C(v, RST));
    endl(v, -1);
}

static void print_events(view *v, const bt_timeline *t)
{
    size_t i;
    blank(v);
    put(v, "%sTimeline%s%s", C(v, BLD), v->o->errors_only ? " (failed calls only)" : "", C(v, RST));
    endl(v, 0);
    for (i = 0; i < t->n_events; i++)
        if (!v->o->errors_only || t->events[i].error_code)
            print_event(v, t, &t->events[i]);
}

void build_view_print_event(FILE *f, const bt_timeline *t, const bt_timeline_event *e,
                            const build_view_opts *o)
{
    view v;
    memset(&v, 0, sizeof v);
    v.f = f;
    v.o = o;
    print_event(&v, t, e);
    bt_buf_dispose(&v.line);
}

void build_view_print(FILE *f, const bt_timeline *t, const build_view_opts *o)
{
    view v;
    memset(&v, 0, sizeof v);
    v.f = f;
    v.o = o;
    print_build(&v, &t->build);
    print_changes(&v, t);
    print_trigger(&v, &t->trigger);
    print_calls(&v, t);
    print_events(&v, t);
    bt_buf_dispose(&v.line);
    if (t->live)
        build_live_print(t->live, f);
}
