/* s3.c - reading a trail archive in place in S3: the walk from s3://bucket/prefix to
 * day prefixes (discovery by delimiter listings), and a pool of workers that list,
 * download and parse while the calling thread consumes (skip checks against the
 * store, batches of events). Memory is bounded by the number of workers, the batch
 * size, the queue of batches and the listing look-ahead, not by the archive. */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/aws_s3.h"
#include "buildtrail/buf.h"
#include "buildtrail/source_s3.h"
#include "buildtrail/timeutil.h"

#define DEFAULT_CONNECTIONS 16
#define MAX_CONNECTIONS 256
#define BATCH_EVENTS 512
#define BATCH_BYTES (256u << 10)
#define GETQ_HIGH 20000    /* listed objects waiting before listing pauses */
#define MAX_REQUEUE 2      /* extra rounds for an object whose retries ran out */
#define DIRECT_DAYS_MAX 31 /* longer windows discover days instead of guessing them */
#define DAY_MS 86400000LL

/* ------------------------------------------------------------------ walk -- */

static int all_digits(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

static int is_account(const char *s)
{
    return strlen(s) == 12 && all_digits(s, 12);
}

static int is_org(const char *s)
{
    size_t n = strlen(s), i;
    if (n < 12 || n > 34 || strncmp(s, "o-", 2) != 0)
        return 0;
    for (i = 2; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_region(const char *s)
{
    size_t n = strlen(s), i;
    if (n < 1 || n > 63)
        return 0;
    for (i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

void bt_s3_walk_dispose(bt_s3_walk_start *w)
{
    if (!w)
        return;
    free(w->root);
    w->root = NULL;
}

int bt_s3_walk_parse(const char *prefix, bt_s3_walk_start *out, bt_error *err)
{
    const char *p = prefix ? prefix : "", *at = NULL, *s;
    char comp[8][64];
    size_t n = 0, plen = strlen(p), rootlen;
    bt_buf root = BT_BUF_INIT;
    int rc = 0;

    memset(out, 0, sizeof *out);
    /* "AWSLogs" as a whole path component */
    for (s = p; (s = strstr(s, "AWSLogs")) != NULL; s += 7)
        if ((s == p || s[-1] == '/') && (s[7] == '/' || s[7] == '\0')) {
            at = s;
            break;
        }
    if (!at) {
        if (bt_buf_append(&root, p, plen) ||
            (plen && p[plen - 1] != '/' && bt_buf_putc(&root, '/')) ||
            bt_buf_puts(&root, "AWSLogs/"))
            goto nomem;
        out->root = bt_buf_detach(&root);
        return out->root ? 0 : bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    rootlen = (size_t)(at - p) + 7;
    if (bt_buf_append(&root, p, rootlen) || bt_buf_putc(&root, '/'))
        goto nomem;
    /* the components after AWSLogs/: [o-id/]account/CloudTrail/region/YYYY/MM/DD */
    s = at + 7;
    while (*s) {
        size_t k;
        while (*s == '/')
            s++;
        if (!*s)
            break;
        k = strcspn(s, "/");
        if (n == 7 || k >= sizeof comp[0]) {
            rc = bt_error_set(err, BT_EINVAL, "'%s': too deep for a CloudTrail log prefix", p);
            goto fail;
        }
        memcpy(comp[n], s, k);
        comp[n][k] = '\0';
        n++;
        s += k;
    }
    {
        size_t i = 0;
        if (i < n && is_org(comp[i]))
            snprintf(out->org, sizeof out->org, "%s", comp[i++]);
        if (i < n) {
            if (!is_account(comp[i]))
                goto layout;
            snprintf(out->account, sizeof out->account, "%s", comp[i++]);
        }
        if (i < n && strcmp(comp[i++], "CloudTrail") != 0)
            goto layout;
        if (i < n) {
            if (!is_region(comp[i]))
                goto layout;
            snprintf(out->region, sizeof out->region, "%s", comp[i++]);
        }
        if (i < n) {
            if (strlen(comp[i]) != 4 || !all_digits(comp[i], 4))
                goto layout;
            out->year = atoi(comp[i++]);
        }
        if (i < n) {
            if (strlen(comp[i]) != 2 || !all_digits(comp[i], 2) || atoi(comp[i]) < 1 ||
                atoi(comp[i]) > 12)
                goto layout;
            out->month = atoi(comp[i++]);
        }
        if (i < n) {
            if (strlen(comp[i]) != 2 || !all_digits(comp[i], 2) || atoi(comp[i]) < 1 ||
                atoi(comp[i]) > 31)
                goto layout;
            out->day = atoi(comp[i++]);
        }
        if (i < n)
            goto layout;
    }
    out->root = bt_buf_detach(&root);
    return out->root ? 0 : bt_error_set(err, BT_ENOMEM, "out of memory");
layout:
    rc = bt_error_set(err, BT_EINVAL,
                      "'%s' is not a CloudTrail log prefix (expected "
                      "[prefix/]AWSLogs/[o-id/]account/CloudTrail/region/YYYY/MM/DD/)",
                      p);
    goto fail;
nomem:
    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
fail:
    bt_buf_dispose(&root);
    memset(out, 0, sizeof *out);
    return rc;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int bt_s3_walk_days(const bt_s3_walk_start *w, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                    int64_t *first, int64_t *last)
{
    int64_t lo = INT64_MIN, hi;

    hi = floor_div(end_ms == INT64_MAX ? now_ms : end_ms, DAY_MS) + 1;
    if (start_ms != INT64_MIN)
        lo = floor_div(start_ms, DAY_MS);
    if (w && w->year) {
        int64_t a, b;
        if (w->day) {
            a = b = bt_time_days_from_civil(w->year, (unsigned)w->month, (unsigned)w->day);
        } else if (w->month) {
            a = bt_time_days_from_civil(w->year, (unsigned)w->month, 1);
            b = w->month == 12 ? bt_time_days_from_civil(w->year + 1, 1, 1) - 1
                               : bt_time_days_from_civil(w->year, (unsigned)w->month + 1, 1) - 1;
        } else {
            a = bt_time_days_from_civil(w->year, 1, 1);
            b = bt_time_days_from_civil(w->year + 1, 1, 1) - 1;
        }
        /* the prefix names the days: no extra day beyond them */
        if (lo == INT64_MIN || lo < a)
            lo = a;
        if (end_ms == INT64_MAX || hi > b)
            hi = b;
    }
    *first = lo;
    *last = hi;
    if (lo == INT64_MIN || hi - lo >= DIRECT_DAYS_MAX)
        return 1;
    return 0;
}

void bt_s3_walk_start_after(const char *day_prefix, const char *account, const char *region,
                            int64_t start_ms, char *out, size_t cap)
{
    int64_t day = floor_div(start_ms, DAY_MS), rem = start_ms - day * DAY_MS;
    int y;
    unsigned m, d;
    bt_time_civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%s%s_CloudTrail_%s_%04d%02u%02uT%02d%02dZ", day_prefix, account, region, y,
             m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60));
}

/* ------------------------------------------------------------------ tasks -- */

enum { L_ROOT, L_ORG, L_CT, L_REGION, L_YEAR, L_MONTH, L_DAY };

typedef struct task {
    struct task *next;
    int get;         /* GetObject; else ListObjectsV2 */
    int level;       /* L_* of a listing */
    int tries;       /* extra rounds so far (GetObject) */
    int year, month; /* L_YEAR / L_MONTH listings */
    uint64_t size;
    int64_t mtime_ns;
    char *key;   /* the object, or the prefix listed */
    char *token; /* continuation token */
    char *start_after;
    char *etag;
    char account[16];
    char region[64];
} task;

typedef struct tlist {
    task *head, *tail;
    size_t n;
} tlist;

static void task_free(task *t)
{
    if (!t)
        return;
    free(t->key);
    free(t->token);
    free(t->start_after);
    free(t->etag);
    free(t);
}

static void tl_push(tlist *l, task *t)
{
    t->next = NULL;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->n++;
}

static void tl_push_front(tlist *l, task *t)
{
    t->next = l->head;
    l->head = t;
    if (!l->tail)
        l->tail = t;
    l->n++;
}

static task *tl_pop(tlist *l)
{
    task *t = l->head;
    if (!t)
        return NULL;
    l->head = t->next;
    if (!l->head)
        l->tail = NULL;
    l->n--;
    t->next = NULL;
    return t;
}

static void tl_append(tlist *l, tlist *more)
{
    if (!more->head)
        return;
    if (l->tail)
        l->tail->next = more->head;
    else
        l->head = more->head;
    l->tail = more->tail;
    l->n += more->n;
    memset(more, 0, sizeof *more);
}

static void tl_free(tlist *l)
{
    task *t;
    while ((t = tl_pop(l)))
        task_free(t);
}

/* ------------------------------------------------------------------- items -- */

/* What a worker hands the calling thread: events and finished objects, or the objects
 * of one listing page (to be checked against the store and queued). */
typedef struct item {
    struct item *next;
    int listing;
    bt_arena *arena;
    bt_event *events;
    size_t n, cap;
    bt_file_done *done;
    size_t n_done, cap_done;
    char **errors;
    bt_s3_object *objs;
    size_t nobjs;
    bt_read_stats delta;
    void *prepared;               /* o->prepare's result for the events, or NULL */
    void (*release)(void *);
} item;

static void item_free(item *b)
{
    if (!b)
        return;
    if (b->prepared && b->release)
        b->release(b->prepared);
    bt_arena_free(b->arena);
    free(b->events);
    free(b->done);
    free(b->errors);
    free(b->objs);
    free(b);
}

static item *item_new(void)
{
    item *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->arena = bt_arena_new(64 << 10, 0);
    if (!b->arena) {
        free(b);
        return NULL;
    }
    return b;
}

/* ------------------------------------------------------------------- scan -- */

typedef struct scan {
    const bt_s3_scan_spec *spec;
    const bt_scan_opts *o;
    bt_s3_bucket *bucket;
    char bucket_name[256];
    char url_root[600]; /* "s3://bucket/" */
    bt_s3_walk_start ws;
    int64_t first_day, last_day;
    int discover;
    int64_t start_ms; /* for start-after; INT64_MIN when unknown */

    pthread_mutex_t mu;
    pthread_cond_t cv_task, cv_items, cv_space;
    tlist getq, listq;
    size_t outstanding; /* tasks queued or running + listing items unprocessed */
    int running;
    item *out_head, *out_tail;
    size_t out_n, out_max;
    atomic_int abort; /* the consumer stopped: drop everything */
    atomic_int halt;  /* a fatal error: take no new task */
    bt_error fatal;   /* guarded by mu */
    int has_fatal;

    atomic_ullong list_requests, get_requests, requeued;
    uint64_t files_total, bytes_total, listed, listed_bytes; /* calling thread only */
} scan;

typedef struct worker {
    scan *s;
    pthread_t th;
    int started;
    bt_aws_client *client;
    bt_arena *scratch;
    bt_arena *list_arena;
    item *cur;
    bt_read_stats st;
    bt_buf body;
    int oom;
} worker;

static void set_fatal(scan *s, const bt_error *e, const char *what)
{
    pthread_mutex_lock(&s->mu);
    if (!s->has_fatal) {
        s->has_fatal = 1;
        s->fatal = *e;
        bt_error_prefix(&s->fatal, "'%s'", what);
    }
    atomic_store(&s->halt, 1);
    pthread_cond_broadcast(&s->cv_task);
    pthread_cond_broadcast(&s->cv_items);
    pthread_mutex_unlock(&s->mu);
}

/* Hands an item to the calling thread, waiting while the queue is full. Returns 0
 * when the scan was abandoned meanwhile (the item is then dropped). */
static int push_item(scan *s, item *b)
{
    pthread_mutex_lock(&s->mu);
    while (s->out_n >= s->out_max && !atomic_load(&s->abort))
        pthread_cond_wait(&s->cv_space, &s->mu);
    if (atomic_load(&s->abort)) {
        pthread_mutex_unlock(&s->mu);
        item_free(b);
        return 0;
    }
    b->next = NULL;
    if (s->out_tail)
        s->out_tail->next = b;
    else
        s->out_head = b;
    s->out_tail = b;
    s->out_n++;
    pthread_cond_signal(&s->cv_items);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static void flush(worker *w)
{
    item *b = w->cur;
    const bt_scan_opts *o = w->s->o;
    w->cur = NULL;
    if (!b)
        return;
    if (o->prepare && b->n) {
        /* the consumer's per-batch work that needs no shared state, done here */
        b->release = o->release;
        if (o->prepare(o->ctx, b->events, b->n, &b->prepared))
            w->oom = 1;
    }
    b->delta = w->st;
    memset(&w->st, 0, sizeof w->st);
    push_item(w->s, b);
}

static item *cur_item(worker *w)
{
    if (!w->cur)
        w->cur = item_new();
    return w->cur;
}

static int on_event(void *ctx, const bt_event *ev)
{
    worker *w = ctx;
    item *b;

    if (atomic_load(&w->s->abort))
        return BT_ESTOP;
    if (w->s->o->filter && !bt_filter_match(w->s->o->filter, ev))
        return 0;
    w->st.matched++;
    if (!(b = cur_item(w)))
        goto oom;
    if (b->n == b->cap) {
        size_t n = b->cap ? b->cap * 2 : 256;
        bt_event *v = realloc(b->events, n * sizeof *v);
        if (!v)
            goto oom;
        b->events = v;
        b->cap = n;
    }
    if (bt_event_copy(b->arena, ev, &b->events[b->n]))
        goto oom;
    b->n++;
    if (b->n >= BATCH_EVENTS || bt_arena_used(b->arena) >= BATCH_BYTES)
        flush(w);
    return 0;
oom:
    w->oom = 1;
    return BT_ENOMEM;
}

static int add_done(worker *w, const char *source, const task *t, uint64_t records,
                    const char *errmsg)
{
    item *b = cur_item(w);
    bt_file_done *d;
    if (!b)
        return BT_ENOMEM;
    if (b->n_done == b->cap_done) {
        size_t n = b->cap_done ? b->cap_done * 2 : 16;
        bt_file_done *v = realloc(b->done, n * sizeof *v);
        char **e;
        if (!v)
            return BT_ENOMEM;
        b->done = v;
        e = realloc(b->errors, n * sizeof *e);
        if (!e)
            return BT_ENOMEM;
        b->errors = e;
        b->cap_done = n;
    }
    d = &b->done[b->n_done];
    memset(d, 0, sizeof *d);
    d->path = bt_arena_strdup(b->arena, source);
    d->etag = t->etag ? bt_arena_strdup(b->arena, t->etag) : NULL;
    d->size = t->size;
    d->mtime_ns = t->mtime_ns;
    d->records = records;
    d->failed = errmsg != NULL;
    b->errors[b->n_done] = errmsg ? bt_arena_strdup(b->arena, errmsg) : NULL;
    if (!d->path || (t->etag && !d->etag) || (errmsg && !b->errors[b->n_done]))
        return BT_ENOMEM;
    b->n_done++;
    return 0;
}

/* ---- building tasks ---- */

static task *new_list(int level, const char *prefix, const char *account, const char *region)
{
    task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->level = level;
    t->key = strdup(prefix);
    if (!t->key) {
        free(t);
        return NULL;
    }
    snprintf(t->account, sizeof t->account, "%s", account ? account : "");
    snprintf(t->region, sizeof t->region, "%s", region ? region : "");
    return t;
}

static int listed_in(const char *v, const char *const *list, size_t n)
{
    size_t i;
    if (n == 0)
        return 1;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], v) == 0)
            return 1;
    return 0;
}

static int add_list(tlist *out, int level, const char *prefix, const char *account,
                    const char *region)
{
    task *t = new_list(level, prefix, account, region);
    if (!t)
        return BT_ENOMEM;
    tl_push(out, t);
    return 0;
}

static int day_task(scan *s, tlist *out, const char *prefix, const char *account,
                    const char *region, int64_t day)
{
    char p[1024], sa[1200];
    int y;
    unsigned m, d;
    task *t;

    bt_time_civil_from_days(day, &y, &m, &d);
    if (snprintf(p, sizeof p, "%s%04d/%02u/%02u/", prefix, y, m, d) >= (int)sizeof p)
        return 0;
    t = new_list(L_DAY, p, account, region);
    if (!t)
        return BT_ENOMEM;
    if (s->start_ms != INT64_MIN && day == floor_div(s->start_ms, DAY_MS)) {
        bt_s3_walk_start_after(p, account, region, s->start_ms, sa, sizeof sa);
        if (!(t->start_after = strdup(sa))) {
            task_free(t);
            return BT_ENOMEM;
        }
    }
    tl_push(out, t);
    return 0;
}

static int enter_region(scan *s, tlist *out, const char *prefix, const char *account,
                        const char *region)
{
    int64_t d;
    int rc;
    if (s->discover)
        return add_list(out, L_REGION, prefix, account, region);
    for (d = s->first_day; d <= s->last_day; d++)
        if ((rc = day_task(s, out, prefix, account, region, d)))
            return rc;
    return 0;
}

static int enter_account(scan *s, tlist *out, const char *prefix, const char *account)
{
    char ct[1024], rp[1100];
    size_t i;
    int rc;

    if (!listed_in(account, s->spec->accounts, s->spec->naccounts))
        return 0;
    if (snprintf(ct, sizeof ct, "%s%s/CloudTrail/", prefix, account) >= (int)sizeof ct)
        return 0;
    if (s->ws.region[0]) {
        if (!listed_in(s->ws.region, s->spec->regions, s->spec->nregions))
            return 0;
        snprintf(rp, sizeof rp, "%s%s/", ct, s->ws.region);
        return enter_region(s, out, rp, account, s->ws.region);
    }
    if (s->spec->nregions) {
        for (i = 0; i < s->spec->nregions; i++) {
            snprintf(rp, sizeof rp, "%s%s/", ct, s->spec->regions[i]);
            if ((rc = enter_region(s, out, rp, account, s->spec->regions[i])))
                return rc;
        }
        return 0;
    }
    return add_list(out, L_CT, ct, account, NULL);
}

static int enter_org(scan *s, tlist *out, const char *prefix)
{
    size_t i;
    int rc;
    if (s->spec->naccounts) {
        for (i = 0; i < s->spec->naccounts; i++)
            if ((rc = enter_account(s, out, prefix, s->spec->accounts[i])))
                return rc;
        return 0;
    }
    return add_list(out, L_ORG, prefix, NULL, NULL);
}

/* A child prefix found by a delimiter listing of t. */
static int expand(scan *s, tlist *out, const task *t, const char *name)
{
    char p[1100];
    int64_t lo = s->first_day, hi = s->last_day;

    if (snprintf(p, sizeof p, "%s%s/", t->key, name) >= (int)sizeof p)
        return 0;
    switch (t->level) {
    case L_ROOT:
        if (is_org(name))
            return enter_org(s, out, p);
        if (is_account(name))
            return enter_account(s, out, t->key, name);
        return 0;
    case L_ORG: return is_account(name) ? enter_account(s, out, t->key, name) : 0;
    case L_CT:
        if (is_region(name) && listed_in(name, s->spec->regions, s->spec->nregions))
            return enter_region(s, out, p, t->account, name);
        return 0;
    case L_REGION: {
        int yr, ylo, yhi;
        unsigned m, d;
        task *c;
        if (strlen(name) != 4 || !all_digits(name, 4))
            return 0;
        yr = atoi(name);
        if (lo != INT64_MIN) {
            bt_time_civil_from_days(lo, &ylo, &m, &d);
            if (yr < ylo)
                return 0;
        }
        bt_time_civil_from_days(hi, &yhi, &m, &d);
        if (yr > yhi)
            return 0;
        if (!(c = new_list(L_YEAR, p, t->account, t->region)))
            return BT_ENOMEM;
        c->year = yr;
        tl_push(out, c);
        return 0;
    }
    case L_YEAR: {
        int mo;
        int64_t a, b;
        task *c;
        if (strlen(name) != 2 || !all_digits(name, 2) || (mo = atoi(name)) < 1 || mo > 12)
            return 0;
        a = bt_time_days_from_civil(t->year, (unsigned)mo, 1);
        b = mo == 12 ? bt_time_days_from_civil(t->year + 1, 1, 1) - 1
                     : bt_time_days_from_civil(t->year, (unsigned)mo + 1, 1) - 1;
        if ((lo != INT64_MIN && b < lo) || a > hi)
            return 0;
        if (!(c = new_list(L_MONTH, p, t->account, t->region)))
            return BT_ENOMEM;
        c->year = t->year;
        c->month = mo;
        tl_push(out, c);
        return 0;
    }
    case L_MONTH: {
        int dd;
        int64_t day;
        if (strlen(name) != 2 || !all_digits(name, 2) || (dd = atoi(name)) < 1 || dd > 31)
            return 0;
        day = bt_time_days_from_civil(t->year, (unsigned)t->month, (unsigned)dd);
        if ((lo != INT64_MIN && day < lo) || day > hi)
            return 0;
        {
            /* the month's prefix without "MM/" */
            char rp[1100];
            size_t n = strlen(t->key);
            if (n < 8)
                return 0;
            snprintf(rp, sizeof rp, "%.*s", (int)(n - 8), t->key);
            return day_task(s, out, rp, t->account, t->region, day);
        }
    }
    default: return 0;
    }
}

/* ---- running tasks ---- */

static void enqueue(scan *s, tlist *gets, tlist *lists, tlist *lists_front)
{
    pthread_mutex_lock(&s->mu);
    s->outstanding += gets->n + lists->n + lists_front->n;
    tl_append(&s->getq, gets);
    tl_append(&s->listq, lists);
    while (lists_front->head) {
        /* continuations go first, in order */
        tlist rest = *lists_front;
        task *t = tl_pop(&rest);
        tl_push_front(&s->listq, t);
        *lists_front = rest;
    }
    pthread_cond_broadcast(&s->cv_task);
    pthread_mutex_unlock(&s->mu);
}

static void source_of(const scan *s, const char *key, bt_buf *out)
{
    bt_buf_clear(out);
    if (bt_buf_puts(out, s->url_root) || bt_buf_puts(out, key))
        bt_buf_clear(out);
}

static void run_list(worker *w, task *t)
{
    scan *s = w->s;
    bt_s3_list_request rq;
    bt_s3_list_page page;
    bt_error err = BT_ERROR_INIT;
    tlist children = {0}, none = {0}, cont = {0};
    size_t i, n = strlen(t->key);
    int rc;

    memset(&rq, 0, sizeof rq);
    rq.prefix = t->key;
    rq.delimiter = t->level == L_DAY ? NULL : "/";
    rq.continuation_token = t->token;
    rq.start_after = t->token ? NULL : t->start_after;
    bt_arena_reset(w->list_arena);
    rc = bt_s3_list_objects(w->client, s->bucket, &rq, w->list_arena, &page, &err);
    atomic_fetch_add(&s->list_requests, 1);
    if (rc) {
        bt_buf u = BT_BUF_INIT;
        source_of(s, t->key, &u);
        if (rc == BT_ENOMEM)
            w->oom = 1;
        set_fatal(s, &err, u.data ? u.data : t->key);
        bt_buf_dispose(&u);
        return;
    }
    if (t->level == L_DAY) {
        item *b = item_new();
        size_t k = 0;
        if (!b || (page.nobjects && !(b->objs = calloc(page.nobjects, sizeof *b->objs)))) {
            item_free(b);
            w->oom = 1;
            return;
        }
        b->listing = 1;
        for (i = 0; i < page.nobjects; i++) {
            const bt_s3_object *ob = &page.objects[i];
            size_t kl = strlen(ob->key);
            if (kl == 0 || ob->key[kl - 1] == '/' || strncmp(ob->key, t->key, n) != 0)
                continue;
            b->objs[k] = *ob;
            b->objs[k].key = bt_arena_strdup(b->arena, ob->key);
            b->objs[k].etag = bt_arena_strdup(b->arena, ob->etag);
            b->objs[k].storage_class = NULL;
            if (!b->objs[k].key || !b->objs[k].etag) {
                item_free(b);
                w->oom = 1;
                return;
            }
            k++;
        }
        b->nobjs = k;
        pthread_mutex_lock(&s->mu);
        s->outstanding++; /* until the calling thread has queued its objects */
        pthread_mutex_unlock(&s->mu);
        if (!push_item(s, b)) {
            pthread_mutex_lock(&s->mu);
            s->outstanding--;
            pthread_mutex_unlock(&s->mu);
        }
    } else {
        for (i = 0; i < page.nprefixes; i++) {
            const char *cp = page.prefixes[i];
            char name[128];
            size_t cl = strlen(cp);
            if (cl <= n + 1 || strncmp(cp, t->key, n) != 0 || cp[cl - 1] != '/' ||
                cl - n - 1 >= sizeof name)
                continue;
            memcpy(name, cp + n, cl - n - 1);
            name[cl - n - 1] = '\0';
            if (strchr(name, '/'))
                continue;
            if (expand(s, &children, t, name)) {
                w->oom = 1;
                tl_free(&children);
                return;
            }
        }
    }
    if (page.truncated && page.next_token && *page.next_token) {
        task *c = new_list(t->level, t->key, t->account, t->region);
        if (!c || !(c->token = strdup(page.next_token))) {
            task_free(c);
            w->oom = 1;
            tl_free(&children);
            return;
        }
        c->year = t->year;
        c->month = t->month;
        tl_push(&cont, c);
    }
    enqueue(s, &none, &children, &cont);
}

static int transient(const bt_error *e)
{
    if (e->code == BT_EHTTP)
        return 1;
    return e->code == BT_EAWS && (e->http_status >= 500 || strcmp(e->aws_code, "SlowDown") == 0 ||
                                  strcmp(e->aws_code, "RequestTimeout") == 0 ||
                                  strcmp(e->aws_code, "InternalError") == 0);
}

static void run_get(worker *w, task *t)
{
    scan *s = w->s;
    bt_error err = BT_ERROR_INIT;
    bt_buf src = BT_BUF_INIT;
    uint64_t before = w->st.records;
    int rc;

    source_of(s, t->key, &src);
    if (!src.data) {
        w->oom = 1;
        return;
    }
    rc = bt_s3_get_object(w->client, s->bucket, t->key, t->etag, &w->body, &err);
    atomic_fetch_add(&s->get_requests, 1);
    if (rc) {
        if (rc == BT_ENOMEM) {
            w->oom = 1;
        } else if (bt_s3_error_is_fatal(&err)) {
            set_fatal(s, &err, src.data);
        } else if (transient(&err) && t->tries < MAX_REQUEUE) {
            /* its retries ran out: once more later, at the back of the queue */
            task *again = calloc(1, sizeof *again);
            tlist g = {0}, none = {0}, none2 = {0};
            if (!again || !(again->key = strdup(t->key)) ||
                (t->etag && !(again->etag = strdup(t->etag)))) {
                task_free(again);
                w->oom = 1;
            } else {
                again->get = 1;
                again->tries = t->tries + 1;
                again->size = t->size;
                again->mtime_ns = t->mtime_ns;
                tl_push(&g, again);
                atomic_fetch_add(&s->requeued, 1);
                enqueue(s, &g, &none, &none2);
            }
        } else if (err.code == BT_EHTTP) {
            /* the endpoint stays unreachable */
            set_fatal(s, &err, src.data);
        } else {
            char msg[BT_ERROR_MSG_MAX + 700];
            w->st.files++;
            w->st.errors++;
            snprintf(msg, sizeof msg, "'%s': %s", src.data, err.msg);
            if (add_done(w, src.data, t, 0, msg))
                w->oom = 1;
        }
        bt_buf_dispose(&src);
        return;
    }
    w->st.files++;
    if (!bt_looks_like_input(w->body.data, w->body.len)) {
        w->st.nonjson++;
        w->st.bytes_in += w->body.len;
        rc = 0;
    } else {
        rc = bt_read_data_filtered(w->body.data, w->body.len, w->scratch, s->o->filter, on_event,
                                   w, &w->st, &err);
    }
    if (rc == BT_ESTOP || w->oom) {
        bt_buf_dispose(&src);
        return;
    }
    if (rc) {
        char msg[BT_ERROR_MSG_MAX + 700];
        w->st.errors++;
        snprintf(msg, sizeof msg, "'%s': %s", src.data, err.msg);
        if (add_done(w, src.data, t, w->st.records - before, msg))
            w->oom = 1;
    } else if (add_done(w, src.data, t, w->st.records - before, NULL)) {
        w->oom = 1;
    }
    /* a big object: give the memory back rather than keep its peak */
    if (w->body.alloc > (16u << 20))
        bt_buf_dispose(&w->body);
    bt_buf_dispose(&src);
}

static void *work(void *arg)
{
    worker *w = arg;
    scan *s = w->s;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        task *t = NULL;
        if (atomic_load(&s->abort) || atomic_load(&s->halt) || w->oom)
            break;
        if (s->listq.head && s->getq.n < GETQ_HIGH)
            t = tl_pop(&s->listq);
        else if (s->getq.head)
            t = tl_pop(&s->getq);
        else if (s->listq.head)
            t = tl_pop(&s->listq);
        if (!t) {
            if (s->outstanding == 0)
                break;
            if (w->cur) {
                /* about to wait: hand over what is finished */
                pthread_mutex_unlock(&s->mu);
                flush(w);
                pthread_mutex_lock(&s->mu);
                continue;
            }
            pthread_cond_wait(&s->cv_task, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        if (t->get)
            run_get(w, t);
        else
            run_list(w, t);
        task_free(t);
        pthread_mutex_lock(&s->mu);
        if (--s->outstanding == 0) {
            pthread_cond_broadcast(&s->cv_task);
            pthread_cond_broadcast(&s->cv_items);
        }
    }
    pthread_mutex_unlock(&s->mu);
    flush(w);
    pthread_mutex_lock(&s->mu);
    s->running--;
    if (w->oom && !s->has_fatal) {
        s->has_fatal = 1;
        bt_error_set(&s->fatal, BT_ENOMEM, "out of memory while reading from S3");
        atomic_store(&s->halt, 1);
        pthread_cond_broadcast(&s->cv_task);
    }
    pthread_cond_broadcast(&s->cv_items);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the calling thread ---- */

static void add_stats(bt_read_stats *a, const bt_read_stats *d)
{
    a->files += d->files;
    a->records += d->records;
    a->matched += d->matched;
    a->digests += d->digests;
    a->ignored += d->ignored;
    a->unchanged += d->unchanged;
    a->errors += d->errors;
    a->nonjson += d->nonjson;
    a->bytes_in += d->bytes_in;
    a->bytes_json += d->bytes_json;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Objects of a listing page: skip what the consumer has, queue the rest. */
static int take_listing(scan *s, item *b, bt_read_stats *st, bt_buf *src)
{
    tlist gets = {0}, none = {0}, none2 = {0};
    size_t i;

    for (i = 0; i < b->nobjs; i++) {
        const bt_s3_object *ob = &b->objs[i];
        int64_t mtime_ns = ob->last_modified_ms * 1000000;
        task *t;
        s->listed++;
        s->listed_bytes += ob->size;
        if (s->spec->skip) {
            source_of(s, ob->key, src);
            if (src->data &&
                s->spec->skip(s->spec->skip_ctx, src->data, ob->size, mtime_ns, ob->etag)) {
                st->unchanged++;
                continue;
            }
        }
        t = calloc(1, sizeof *t);
        if (!t || !(t->key = strdup(ob->key)) || !(t->etag = strdup(ob->etag))) {
            task_free(t);
            tl_free(&gets);
            return BT_ENOMEM;
        }
        t->get = 1;
        t->size = ob->size;
        t->mtime_ns = mtime_ns;
        tl_push(&gets, t);
        s->files_total++;
        s->bytes_total += ob->size;
    }
    enqueue(s, &gets, &none, &none2);
    return 0;
}

static int start_tasks(scan *s, bt_error *err)
{
    tlist first = {0}, none = {0}, none2 = {0};
    char p[1100];
    int rc = 0;

    if (s->ws.account[0]) {
        snprintf(p, sizeof p, "%s%s%s", s->ws.root, s->ws.org, s->ws.org[0] ? "/" : "");
        rc = enter_account(s, &first, p, s->ws.account);
    } else if (s->ws.org[0]) {
        snprintf(p, sizeof p, "%s%s/", s->ws.root, s->ws.org);
        rc = enter_org(s, &first, p);
    } else {
        rc = add_list(&first, L_ROOT, s->ws.root, NULL, NULL);
    }
    if (rc) {
        tl_free(&first);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    enqueue(s, &first, &none, &none2);
    return 0;
}

int bt_scan_s3(const bt_s3_scan_spec *spec, const bt_scan_opts *o, bt_read_stats *st,
               bt_s3_scan_info *info, bt_error *err)
{
    scan s;
    worker *ws = NULL;
    const char *rest = "";
    int n, i, rc = 0;
    int64_t last_progress = 0;
    bt_buf src = BT_BUF_INIT;

    memset(&s, 0, sizeof s);
    if (info)
        memset(info, 0, sizeof *info);
    s.spec = spec;
    s.o = o;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv_task, NULL);
    pthread_cond_init(&s.cv_items, NULL);
    pthread_cond_init(&s.cv_space, NULL);
    atomic_init(&s.abort, 0);
    atomic_init(&s.halt, 0);
    atomic_init(&s.list_requests, 0);
    atomic_init(&s.get_requests, 0);
    atomic_init(&s.requeued, 0);

    if (!spec->client) {
        rc = bt_error_set(err, BT_EINVAL, "no AWS client");
        goto done;
    }
    if ((rc = bt_s3_parse_url(spec->url, s.bucket_name, sizeof s.bucket_name, &rest, err)))
        goto done;
    snprintf(s.url_root, sizeof s.url_root, "s3://%s/", s.bucket_name);
    if ((rc = bt_s3_walk_parse(rest, &s.ws, err))) {
        bt_error_prefix(err, "s3://%s", s.bucket_name);
        goto done;
    }
    s.discover =
        bt_s3_walk_days(&s.ws, spec->start_ms, spec->end_ms,
                        spec->now_ms ? spec->now_ms : bt_time_now_ms(), &s.first_day, &s.last_day);
    s.start_ms = spec->start_ms;
    if ((rc = bt_s3_bucket_new(&s.bucket, spec->client, s.bucket_name, spec->addressing, err)))
        goto done;

    n = spec->connections > 0 ? spec->connections : DEFAULT_CONNECTIONS;
    if (n > MAX_CONNECTIONS)
        n = MAX_CONNECTIONS;
    s.out_max = 8;
    ws = calloc((size_t)n, sizeof *ws);
    if (!ws) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        ws[i].s = &s;
        ws[i].scratch = bt_arena_new(256 << 10, 0);
        ws[i].list_arena = bt_arena_new(256 << 10, 0);
        if (!ws[i].scratch || !ws[i].list_arena) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = bt_aws_client_clone(&ws[i].client, spec->client, err)))
            goto done;
    }
    if ((rc = start_tasks(&s, err)))
        goto done;
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&s.mu);
        s.running++;
        pthread_mutex_unlock(&s.mu);
        if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
            pthread_mutex_lock(&s.mu);
            s.running--;
            pthread_mutex_unlock(&s.mu);
            break;
        }
        ws[i].started = 1;
    }
    if (i == 0) {
        rc = bt_error_set(err, BT_ERROR, "cannot start worker threads");
        goto done;
    }

    for (;;) {
        item *b = NULL;
        int finished;
        pthread_mutex_lock(&s.mu);
        while (!s.out_head && s.running > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&s.cv_items, &s.mu, &ts);
            if (!s.out_head && o->on_progress)
                break;
        }
        if (s.out_head) {
            b = s.out_head;
            s.out_head = b->next;
            if (!s.out_head)
                s.out_tail = NULL;
            s.out_n--;
            pthread_cond_signal(&s.cv_space);
        }
        finished = !s.out_head && s.running == 0;
        pthread_mutex_unlock(&s.mu);
        if (b && b->listing) {
            if (!rc && !atomic_load(&s.halt) && take_listing(&s, b, st, &src)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                atomic_store(&s.abort, 1);
            }
            pthread_mutex_lock(&s.mu);
            s.outstanding--;
            pthread_cond_broadcast(&s.cv_task);
            pthread_mutex_unlock(&s.mu);
        } else if (b) {
            size_t k;
            add_stats(st, &b->delta);
            if (!rc) {
                bt_batch pub;
                for (k = 0; k < b->n_done; k++)
                    if (b->errors[k] && o->on_file_error) {
                        bt_error fe = BT_ERROR_INIT;
                        bt_error_set(&fe, BT_EPARSE, "%s", b->errors[k]);
                        o->on_file_error(o->ctx, b->done[k].path, &fe);
                    }
                pub.events = b->events;
                pub.n = b->n;
                pub.done = b->done;
                pub.n_done = b->n_done;
                pub.prepared = b->prepared;
                if (o->on_batch && (pub.n || pub.n_done))
                    rc = o->on_batch(o->ctx, &pub);
            }
        }
        if (rc && !atomic_load(&s.abort)) {
            atomic_store(&s.abort, 1);
            pthread_mutex_lock(&s.mu);
            pthread_cond_broadcast(&s.cv_space);
            pthread_cond_broadcast(&s.cv_task);
            pthread_mutex_unlock(&s.mu);
        }
        item_free(b);
        if (o->on_progress && mono_ms() - last_progress >= 100) {
            last_progress = mono_ms();
            o->on_progress(o->ctx, st, s.files_total, s.bytes_total);
        }
        if (finished && !b)
            break;
    }
    if (o->on_progress)
        o->on_progress(o->ctx, st, s.files_total, s.bytes_total);
    if (!rc && s.has_fatal) {
        rc = s.fatal.code ? s.fatal.code : BT_ERROR;
        if (err)
            *err = s.fatal;
    }
done:
    if (ws) {
        /* every worker has finished here, except after an early failure */
        atomic_store(&s.abort, 1);
        pthread_mutex_lock(&s.mu);
        pthread_cond_broadcast(&s.cv_space);
        pthread_cond_broadcast(&s.cv_task);
        pthread_mutex_unlock(&s.mu);
        for (i = 0; i < n; i++)
            if (ws[i].started)
                pthread_join(ws[i].th, NULL);
        for (i = 0; i < n; i++) {
            bt_arena_free(ws[i].scratch);
            bt_arena_free(ws[i].list_arena);
            item_free(ws[i].cur);
            bt_buf_dispose(&ws[i].body);
            bt_aws_client_free(ws[i].client);
        }
    }
    while (s.out_head) {
        item *b = s.out_head;
        s.out_head = b->next;
        item_free(b);
    }
    tl_free(&s.getq);
    tl_free(&s.listq);
    if (info) {
        info->list_requests = atomic_load(&s.list_requests);
        info->get_requests = atomic_load(&s.get_requests);
        info->requeued = atomic_load(&s.requeued);
        info->listed = s.listed;
        info->listed_bytes = s.listed_bytes;
        if (s.bucket)
            bt_s3_bucket_region(s.bucket, info->region, sizeof info->region);
    }
    bt_s3_bucket_free(s.bucket);
    bt_s3_walk_dispose(&s.ws);
    bt_buf_dispose(&src);
    free(ws);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv_task);
    pthread_cond_destroy(&s.cv_items);
    pthread_cond_destroy(&s.cv_space);
    return rc;
}
