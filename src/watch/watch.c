/* watch.c - bt_watch: checking sources and targets, loading (and reloading) the rules,
 * and one cycle's ingest with its per-source failures reported once per change. The
 * evaluation is evaluate.c, delivery and the loop run.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define CURSOR_LOOKUP_START "watch|lookup_start"
#define MAX_SOURCE_ERRS 64

void bt_watch_logf(bt_watch *w, const char *fmt, ...)
{
    char line[BT_ERROR_MSG_MAX + 128];
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
    if (!w->src || !w->sqs || !w->nt || !w->names || !w->errs || !w->cur_errs)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < w->o.nsources; i++) {
        if (wq_is_sqs(w->o.sources[i])) {
            w->sqs[w->nsqs++].location = w->o.sources[i];
            continue;
        }
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
    w->io.s3_done = NULL;
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
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = setup(w, err)) || (rc = wq_open(w, err))) {
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

/* bt_ingest of the sources of one group (lookup: ones, or the rest). */
static int ingest_group(bt_watch *w, int lookup, bt_error *err)
{
    bt_ingest_source *v = calloc(w->nsrc + 1, sizeof *v);
    bt_ingest_stats st;
    bt_ingest_opts io = w->io;
    size_t i, n = 0;
    int rc = 0;

    if (!v)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < w->nsrc; i++)
        if ((w->src[i].kind == BT_INGEST_LOOKUP) == lookup)
            v[n++] = w->src[i];
    if (!n)
        goto done;
    /* lookup: the same window every run; s3://: today's and yesterday's deliveries */
    io.start_ms = lookup ? w->lookup_start_ms : bt_time_now_ms() - 86400000LL;
    memset(&st, 0, sizeof st);
    rc = bt_ingest(w->store, v, n, &io, &st, err);
    w->st.events_new += st.new_events + st.lookup_new;
    if (rc == BT_ESTOP)
        rc = 0;
    else if (rc && (st.source_failed || rc == BT_ENOTFOUND || rc == BT_EIO)) {
        bt_watch_source_failed(w, err->msg); /* the store is fine: the rest goes on */
        rc = 0;
    }
done:
    free(v);
    return rc;
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
