/* watch.c - bt_watch: checking sources and targets, loading (and reloading) the rules,
 * and one cycle's ingest with its per-source failures reported once per change. The
 * evaluation is evaluate.c, delivery and the loop run.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#include "buildtrail/timeutil.h"
#include "util/curl_dl.h"
#include "watch_int.h"

#define CURSOR_LOOKUP_START "watch|lookup_start"
#define CURSOR_S3 "watch|s3|" /* + the s3:// URL: the newest delivery time read (ms) */
#define S3_OVERLAP_MS (15 * 60000LL)
#define S3_FIRST_MS 86400000LL
#define MAX_SOURCE_ERRS 64

void bt_watch_logf(bt_watch *w, const char *fmt, ...)
{
    char line[BT_ERROR_MSG_MAX + 2304]; /* the status line holds every source */
    va_list ap;
    if (!w->o.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->o.log(w->o.payload, line);
}

int bt_watch_check_source(const char *loc, bt_error *err)
{
    struct stat sb;
    const char *sep = strstr(loc, "://");
    size_t sl = strcspn(loc, ":/");
    if (strcmp(loc, "-") == 0)
        return bt_error_set(err, BT_EINVAL, "watch: stdin cannot be watched (give a directory)");
    if (strncmp(loc, "s3://", 5) == 0 || strncmp(loc, "lookup:", 7) == 0)
        return 0;
    if (wq_is_sqs(loc)) {
        bt_sqs_ref r;
        return bt_sqs_parse(loc, &r, err);
    }
    if (sep && (size_t)(sep - loc) == sl)
        return bt_error_set(err, BT_EINVAL,
                            "'%.*s://': unknown source scheme (a directory, lookup:REGIONS, "
                            "s3://bucket/prefix or sqs://QUEUE_URL)",
                            (int)sl, loc);
    if (stat(loc, &sb) != 0)
        return bt_error_set(err, BT_EINVAL, "'%s': no such file or directory", loc);
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
        return bt_error_set(err, BT_EINVAL, "'%s': not a directory or regular file", loc);
    return 0;
}

static int load_rules(bt_watch *w, bt_ruleset **out, bt_error *err)
{
    return bt_rules_load_args(w->o.rules, w->o.nrules, out, err);
}

int bt_watch_reload(bt_watch *w, bt_error *err)
{
    bt_ruleset *rs = NULL;
    int rc = load_rules(w, &rs, err);
    if (rc) {
        w->st.reload_failures++;
        bt_watch_logf(w, "rules not reloaded, keeping the previous set: %s", err->msg);
        return rc;
    }
    bt_rules_corr_free(w->corr); /* its windows belong to the old rules */
    w->corr = NULL;
    bt_rules_free(w->rs);
    w->rs = rs;
    w->st.reloads++;
    w->st.rules = bt_rules_count(rs);
    bt_watch_logf(w, "rules reloaded: %zu rules", bt_rules_count(rs));
    return 0;
}

static int check_all(const bt_watch_opts *o, bt_error *err)
{
    size_t i;
    int rc;
    if (!o->nrules)
        return bt_error_set(err, BT_EINVAL, "watch: no rules (--rules PATH, or --rules builtin)");
    if (!o->nnotify)
        return bt_error_set(err, BT_EINVAL, "watch: no notify target (--notify stdout, ...)");
    for (i = 0; i < o->nsources; i++)
        if ((rc = bt_watch_check_source(o->sources[i], err)))
            return rc;
    for (i = 0; i < o->nnotify; i++) {
        if ((rc = bt_watch_check_notify(o->notify[i], err)))
            return rc;
        if (strcmp(o->notify[i], "stdout") == 0 && !o->emit)
            return bt_error_set(err, BT_EINVAL, "watch: stdout target without an emit callback");
    }
    return 0;
}

static void on_source_error(const char *source, const bt_error *e, void *payload);

/* The s3:// source being read: its scan's newest listed delivery time, when it succeeded. */
static void on_s3_done(const char *url, const bt_s3_scan_info *info, int rc, void *payload)
{
    bt_watch *w = payload;
    (void)url;
    if (rc == 0)
        w->s3_newest = info->newest_ms;
}

/* The lookup: start, kept in the store so every run asks the same window (the ingest
 * cursor then fetches only what is new, with its overlap). */
static int lookup_start(bt_watch *w, bt_error *err)
{
    char *v = NULL, buf[32];
    int rc;
    if ((rc = bt_store_cursor_get(w->store, CURSOR_LOOKUP_START, &v, err)))
        return rc;
    if (v) {
        w->lookup_start_ms = strtoll(v, NULL, 10);
        free(v);
        return 0;
    }
    w->lookup_start_ms =
        w->o.lookup_start_ms ? w->o.lookup_start_ms : bt_time_now_ms() - 3600 * 1000;
    snprintf(buf, sizeof buf, "%lld", (long long)w->lookup_start_ms);
    return bt_store_cursor_set(w->store, CURSOR_LOOKUP_START, buf, err);
}

static int setup(bt_watch *w, bt_error *err)
{
    size_t i;
    int rc;
    w->src = calloc(w->o.nsources + 1, sizeof *w->src);
    w->sqs = calloc(w->o.nsources + 1, sizeof *w->sqs);
    w->nt = calloc(w->o.nnotify + 1, sizeof *w->nt);
    w->names = calloc(w->o.nnotify + 1, sizeof *w->names);
    w->errs = calloc(MAX_SOURCE_ERRS, sizeof *w->errs);
    w->cur_errs = calloc(MAX_SOURCE_ERRS, sizeof *w->cur_errs);
    w->sst = calloc(w->o.nsources + 1, sizeof *w->sst);
    if (!w->src || !w->sqs || !w->nt || !w->names || !w->errs || !w->cur_errs || !w->sst)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    w->started_ms = bt_time_now_ms();
    for (i = 0; i < w->o.nsources; i++) {
        if (wq_is_sqs(w->o.sources[i])) {
            bt_sqs_ref r;
            bt_error e = BT_ERROR_INIT;
            wq_source *q = &w->sqs[w->nsqs++];
            q->location = w->o.sources[i];
            q->state.lag_ms = -1;
            snprintf(q->state.name, sizeof q->state.name, "sqs:%s",
                     bt_sqs_parse(q->location, &r, &e) == 0 ? r.name : "?");
            continue;
        }
        snprintf(w->sst[w->nsrc].name, sizeof w->sst[w->nsrc].name, "%s", w->o.sources[i]);
        w->sst[w->nsrc].lag_ms = -1;
        w->src[w->nsrc].location = w->o.sources[i];
        w->src[w->nsrc++].kind = bt_ingest_kind_of(w->o.sources[i]);
    }
    for (i = 0; i < w->o.nnotify; i++) {
        if ((rc = wn_parse(w->o.notify[i], &w->nt[i], err)))
            return rc;
        w->names[i] = w->nt[i].name;
    }
    w->nnt = w->o.nnotify;
    if (w->o.ingest)
        w->io = *w->o.ingest;
    else
        bt_ingest_opts_init(&w->io);
    w->io.progress = NULL;
    w->io.s3_done = on_s3_done;
    w->io.lookup_done = NULL;
    w->io.source_error = on_source_error;
    w->io.cancel = w->o.stop;
    w->io.payload = w;
    if (w->o.reload)
        w->reload_seen = *w->o.reload;
    if ((rc = load_rules(w, &w->rs, err)))
        return rc;
    w->st.rules = bt_rules_count(w->rs);
    return 0;
}

int bt_watch_attach(bt_watch *w, bt_store *store, bt_error *err)
{
    int rc;
    w->store = store;
    free(w->dead_letter);
    if (w->o.dead_letter)
        w->dead_letter = strdup(w->o.dead_letter);
    else if ((w->dead_letter = malloc(strlen(bt_store_path(store)) + 24)))
        sprintf(w->dead_letter, "%s.dead-letters.ndjson", bt_store_path(store));
    if (!w->dead_letter)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if ((rc = bt_watch_cursor_init(w, err)))
        return rc;
    return lookup_start(w, err);
}

int bt_watch_new(const bt_watch_opts *o, bt_watch **out, bt_error *err)
{
    bt_watch *w;
    int rc;
    *out = NULL;
    if ((rc = check_all(o, err)))
        return rc;
    if (!(w = calloc(1, sizeof *w)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    w->o = *o;
    if (!w->o.interval_ms)
        w->o.interval_ms = 60000;
    if (!w->o.retry_min_ms)
        w->o.retry_min_ms = 1000;
    if (!w->o.retry_max_ms)
        w->o.retry_max_ms = 300000;
    if (!w->o.http_timeout_ms)
        w->o.http_timeout_ms = 10000;
    if ((rc = bt_curl_load(err)) || (rc = setup(w, err)) || (rc = wq_open(w, err))) {
        bt_watch_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void free_errs(char **v, size_t *n)
{
    size_t i;
    for (i = 0; i < *n; i++)
        free(v[i]);
    *n = 0;
}

void bt_watch_free(bt_watch *w)
{
    if (!w)
        return;
    wd_stop(w);
    wq_close(w);
    bt_rules_corr_free(w->corr);
    bt_rules_free(w->rs);
    free(w->sqs);
    free(w->dead_letter);
    free(w->src);
    free(w->sst);
    free(w->nt);
    free(w->names);
    if (w->errs)
        free_errs(w->errs, &w->nerrs);
    if (w->cur_errs)
        free_errs(w->cur_errs, &w->ncur);
    free(w->errs);
    free(w->cur_errs);
    free(w);
}

void bt_watch_get_stats(const bt_watch *w, bt_watch_stats *st)
{
    *st = w->st;
}

/* ---- a cycle's ingest: source failures once per change -------------------------- */

static int seen_before(bt_watch *w, const char *msg)
{
    size_t i;
    for (i = 0; i < w->nerrs; i++)
        if (strcmp(w->errs[i], msg) == 0)
            return 1;
    return 0;
}

void bt_watch_source_failed(bt_watch *w, const char *msg)
{
    size_t i;
    w->failed_now = 1;
    for (i = 0; i < w->ncur; i++)
        if (strcmp(w->cur_errs[i], msg) == 0)
            return;
    if (!seen_before(w, msg))
        bt_watch_logf(w, "%s", msg);
    if (w->ncur < MAX_SOURCE_ERRS && (w->cur_errs[w->ncur] = strdup(msg)))
        w->ncur++;
}

static void on_source_error(const char *source, const bt_error *e, void *payload)
{
    (void)source;
    bt_watch_source_failed(payload, e->msg);
}

/* The errors of this cycle become the ones to compare the next cycle with. */
static void errors_rotate(bt_watch *w)
{
    char **t;
    if (w->nerrs && !w->ncur)
        bt_watch_logf(w, "every source read without errors again");
    free_errs(w->errs, &w->nerrs);
    t = w->errs;
    w->errs = w->cur_errs;
    w->nerrs = w->ncur;
    w->cur_errs = t;
    w->ncur = 0;
}

/* Where an s3:// source is listed from: the newest delivery time an earlier cycle (or
 * run) read, less the overlap (objects of the same minutes with a smaller random part
 * of their key); the first time, a day back. */
static int s3_start(bt_watch *w, const char *url, int64_t *start, bt_error *err)
{
    char name[1100], *v = NULL;
    int rc;
    snprintf(name, sizeof name, CURSOR_S3 "%s", url);
    if ((rc = bt_store_cursor_get(w->store, name, &v, err)))
        return rc;
    *start = v ? strtoll(v, NULL, 10) - S3_OVERLAP_MS : bt_time_now_ms() - S3_FIRST_MS;
    free(v);
    return 0;
}

/* Keeps the newest delivery time read from url (never moving it back). */
static int s3_seen(bt_watch *w, const char *url, int64_t newest, bt_error *err)
{
    char name[1100], *v = NULL, buf[32];
    int rc;
    snprintf(name, sizeof name, CURSOR_S3 "%s", url);
    if ((rc = bt_store_cursor_get(w->store, name, &v, err)))
        return rc;
    if (v && strtoll(v, NULL, 10) >= newest) {
        free(v);
        return 0;
    }
    free(v);
    snprintf(buf, sizeof buf, "%lld", (long long)newest);
    return bt_store_cursor_set(w->store, name, buf, err);
}

/* bt_ingest of one source (src[i]); its state for the status line. */
static int ingest_one(bt_watch *w, size_t i, bt_error *err)
{
    bt_ingest_stats st;
    bt_ingest_opts io = w->io;
    const bt_ingest_source *s = &w->src[i];
    int64_t began = bt_time_now_ms();
    int rc;

    /* lookup: the same window every run; s3://: from the last key read */
    io.start_ms = w->lookup_start_ms;
    if (s->kind == BT_INGEST_S3 && (rc = s3_start(w, s->location, &io.start_ms, err)))
        return rc;
    w->failed_now = 0;
    w->s3_newest = 0;
    memset(&st, 0, sizeof st);
    rc = bt_ingest(w->store, s, 1, &io, &st, err);
    w->st.events_new += st.new_events + st.lookup_new;
    if (rc == BT_ESTOP)
        return 0;
    if (rc && (st.source_failed || rc == BT_ENOTFOUND || rc == BT_EIO)) {
        bt_watch_source_failed(w, err->msg); /* the store is fine: the rest goes on */
        rc = 0;
    }
    if (rc)
        return rc;
    w->sst[i].failing = w->failed_now;
    if (!w->failed_now)
        w->sst[i].last_ok_ms = began;
    /* a scan that succeeded: objects that failed alone were reported, and do not hold
     * the start back */
    if (s->kind == BT_INGEST_S3 && w->s3_newest > 0)
        rc = s3_seen(w, s->location, w->s3_newest, err);
    return rc;
}

/* bt_ingest of the sources of one group (lookup: ones, or the rest), one at a time. */
static int ingest_group(bt_watch *w, int lookup, bt_error *err)
{
    size_t i;
    int rc = 0;
    for (i = 0; i < w->nsrc && rc == 0; i++)
        if ((w->src[i].kind == BT_INGEST_LOOKUP) == lookup)
            rc = ingest_one(w, i, err);
    return rc;
}

/* ---- the status line's sources ----------------------------------------------- */

void ws_received(ws_state *st, const bt_sqs_message *m, size_t n)
{
    int64_t now = bt_time_now_ms();
    size_t i;
    for (i = 0; i < n; i++)
        if (m[i].sent_ms > 0 && now - m[i].sent_ms > st->lag_ms)
            st->lag_ms = now - m[i].sent_ms;
}

void ws_polled(bt_watch *w, ws_state *st, int64_t began_ms)
{
    st->failing = w->failed_now;
    if (!w->failed_now)
        st->last_ok_ms = began_ms;
    w->failed_now = 0;
}

static void ws_put(char *buf, size_t cap, size_t *len, const ws_state *s, int64_t lag)
{
    int k;
    if (*len >= cap)
        return;
    k = snprintf(buf + *len, cap - *len, "%s%s %s lag %.1fs", *len ? ", " : "; sources: ", s->name,
                 s->failing ? "failing" : "ok", (double)(lag < 0 ? 0 : lag) / 1000.0);
    if (k > 0)
        *len += (size_t)k;
}

void ws_status(bt_watch *w, int64_t now, char *buf, size_t cap)
{
    size_t i, len = 0;
    buf[0] = 0;
    for (i = 0; i < w->nsrc; i++)
        ws_put(buf, cap, &len, &w->sst[i],
               now - (w->sst[i].last_ok_ms ? w->sst[i].last_ok_ms : w->started_ms));
    for (i = 0; i < w->nsqs; i++) {
        ws_put(buf, cap, &len, &w->sqs[i].state, w->sqs[i].state.lag_ms);
        w->sqs[i].state.lag_ms = -1;
    }
}

int bt_watch_cycle(bt_watch *w, bt_error *err)
{
    uint64_t n = 0;
    int rc;
    if ((rc = ingest_group(w, 1, err)) || (rc = ingest_group(w, 0, err)) ||
        (rc = wq_poll(w, 0, &n, err)))
        return rc;
    errors_rotate(w);
    if ((rc = bt_watch_evaluate(w, err)))
        return rc;
    w->st.cycles++;
    return w->running ? wd_pump(w, 0, err) : bt_watch_deliver(w, err);
}
