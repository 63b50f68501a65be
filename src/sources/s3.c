/* s3.c - reading a trail archive in place in S3: the walk from s3://bucket/prefix to
 * day prefixes (discovery by delimiter listings), as an input of the scan pipeline
 * (pipeline.c): its workers list and download, the pipeline parses and batches, and
 * the calling thread consumes (skip checks against the store on listing pages,
 * batches of events). Memory is bounded by the number of workers, the batch size, the
 * queue of batches and the listing look-ahead, not by the archive. */
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
#include "scan_int.h"

#define DEFAULT_CONNECTIONS 16
#define MAX_CONNECTIONS 256
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

int bt_s3_scan_check_url(const char *url, bt_error *err)
{
    char bucket[256];
    const char *rest;
    bt_s3_walk_start w;
    int rc = bt_s3_parse_url(url, bucket, sizeof bucket, &rest, err);
    if (rc)
        return rc;
    if ((rc = bt_s3_walk_parse(rest, &w, err)) != 0) {
        bt_error_prefix(err, "s3://%s", bucket);
        return rc;
    }
    bt_s3_walk_dispose(&w);
    return 0;
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

static int digits(const char *p, int n)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int bt_s3_key_delivery_ms(const char *key, int64_t *ms)
{
    const char *base = strrchr(key, '/'), *p, *t = NULL;
    int y, mo, d, h, mi;
    base = base ? base + 1 : key;
    /* <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<random>.json.gz */
    for (p = base; (p = strstr(p, "_CloudTrail_")) != NULL; p++)
        t = p;
    if (!t || !(t = strchr(t + 12, '_')) || strnlen(++t, 14) < 14)
        return BT_EINVAL;
    y = digits(t, 4);
    mo = digits(t + 4, 2);
    d = digits(t + 6, 2);
    h = digits(t + 9, 2);
    mi = digits(t + 11, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || t[8] != 'T' || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || t[13] != 'Z')
        return BT_EINVAL;
    *ms = bt_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_MS + (int64_t)h * 3600000 +
          (int64_t)mi * 60000;
    return 0;
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

/* ---------------------------------------------------------------- listings -- */

/* What a worker posts to the calling thread: the objects of one day's listing page,
 * to be checked against the consumer (skip) and queued for download. */
typedef struct listing {
    bt_arena *arena;
    bt_s3_object *objs;
    size_t nobjs;
} listing;

static listing *listing_new(void)
{
    listing *l = calloc(1, sizeof *l);
    if (l && !(l->arena = bt_arena_new(64 << 10, 0))) {
        free(l);
        return NULL;
    }
    return l;
}

static void listing_free(void *msg)
{
    listing *l = msg;
    if (!l)
        return;
    bt_arena_free(l->arena);
    free(l->objs);
    free(l);
}

/* ------------------------------------------------------------------- scan -- */

typedef struct scan {
    const bt_s3_scan_spec *spec;
    bt_s3_bucket *bucket;
    char bucket_name[256];
    char url_root[600]; /* "s3://bucket/" */
    bt_s3_walk_start ws;
    int64_t first_day, last_day;
    int discover;
    int64_t start_ms; /* for start-after; INT64_MIN when unknown */

    pthread_mutex_t mu;
    pthread_cond_t cv_task;
    tlist getq, listq;
    size_t outstanding; /* tasks queued or running + listings unprocessed */
    atomic_int halt;    /* a fatal error: take no new task */
    bt_error fatal;     /* guarded by mu */
    int has_fatal;

    atomic_ullong list_requests, get_requests, requeued;
    uint64_t files_total, bytes_total, listed, listed_bytes; /* calling thread only */
    int64_t newest_ms; /* newest delivery time of a listed object; calling thread only */
    bt_buf src; /* calling thread only */
} scan;

/* A worker's own state (the pipeline keeps its batches). */
typedef struct s3w {
    bt_aws_client *client;
    bt_arena *list_arena;
    bt_buf body;
    bt_buf src;
    task *cur; /* the GetObject whose bytes the pipeline is reading */
    char msg[BT_ERROR_MSG_MAX + 700];
    int oom;
} s3w;

static void set_fatal(scan *s, const bt_error *e, const char *what)
{
    pthread_mutex_lock(&s->mu);
    if (!s->has_fatal) {
        s->has_fatal = 1;
        s->fatal = *e;
        if (what)
            bt_error_prefix(&s->fatal, "'%s'", what);
    }
    atomic_store(&s->halt, 1);
    pthread_cond_broadcast(&s->cv_task);
    pthread_mutex_unlock(&s->mu);
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

static void run_list(scan *s, s3w *x, scan_worker *w, task *t)
{
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
    bt_arena_reset(x->list_arena);
    rc = bt_s3_list_objects(x->client, s->bucket, &rq, x->list_arena, &page, &err);
    atomic_fetch_add(&s->list_requests, 1);
    if (rc) {
        bt_buf u = BT_BUF_INIT;
        source_of(s, t->key, &u);
        if (rc == BT_ENOMEM)
            x->oom = 1;
        set_fatal(s, &err, u.data ? u.data : t->key);
        bt_buf_dispose(&u);
        return;
    }
    if (t->level == L_DAY) {
        listing *b = listing_new();
        size_t k = 0;
        if (!b || (page.nobjects && !(b->objs = calloc(page.nobjects, sizeof *b->objs)))) {
            listing_free(b);
            x->oom = 1;
            return;
        }
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
                listing_free(b);
                x->oom = 1;
                return;
            }
            k++;
        }
        b->nobjs = k;
        pthread_mutex_lock(&s->mu);
        s->outstanding++; /* until the calling thread has queued its objects */
        pthread_mutex_unlock(&s->mu);
        if (!scan_worker_post(w, b)) {
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
                x->oom = 1;
                tl_free(&children);
                return;
            }
        }
    }
    if (page.truncated && page.next_token && *page.next_token) {
        task *c = new_list(t->level, t->key, t->account, t->region);
        if (!c || !(c->token = strdup(page.next_token))) {
            task_free(c);
            x->oom = 1;
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

/* A key that is not there (spec->keys: the object, not the scan, fails). */
static int object_gone(const bt_error *e)
{
    return e->code == BT_EAWS && (strcmp(e->aws_code, "NoSuchKey") == 0 || e->http_status == 404);
}

/* Its retries ran out: once more later, at the back of the queue. */
static void requeue(scan *s, s3w *x, const task *t)
{
    task *again = calloc(1, sizeof *again);
    tlist g = {0}, none = {0}, none2 = {0};
    if (!again || !(again->key = strdup(t->key)) ||
        (t->etag && !(again->etag = strdup(t->etag)))) {
        task_free(again);
        x->oom = 1;
        return;
    }
    again->get = 1;
    again->tries = t->tries + 1;
    again->size = t->size;
    again->mtime_ns = t->mtime_ns;
    tl_push(&g, again);
    atomic_fetch_add(&s->requeued, 1);
    enqueue(s, &g, &none, &none2);
}

/* Downloads t into x->body. Returns 1 with it filled (the bytes, or a failure that
 * concerns this object only), 0 when there is nothing to read (requeued, fatal). */
static int run_get(scan *s, s3w *x, task *t, scan_item *it)
{
    bt_error err = BT_ERROR_INIT;
    int rc;

    source_of(s, t->key, &x->src);
    if (!x->src.data) {
        x->oom = 1;
        return 0;
    }
    rc = bt_s3_get_object(x->client, s->bucket, t->key, t->etag, &x->body, &err);
    atomic_fetch_add(&s->get_requests, 1);
    if (rc == BT_ENOMEM) {
        x->oom = 1;
        return 0;
    }
    if (rc && !bt_s3_error_is_fatal(&err) && transient(&err) && t->tries < MAX_REQUEUE) {
        requeue(s, x, t);
        return 0;
    }
    if (rc && (bt_s3_error_is_fatal(&err) || err.code == BT_EHTTP ||
               (s->spec->nkeys && !object_gone(&err)))) {
        /* refused, or the endpoint stays unreachable: no other object would do better */
        set_fatal(s, &err, x->src.data);
        return 0;
    }
    it->name = x->src.data;
    it->size = t->size;
    it->mtime_ns = t->mtime_ns;
    it->etag = t->etag;
    it->check_input = 1;
    if (rc && s->spec->nkeys) {
        snprintf(x->msg, sizeof x->msg, "%s: %s", x->src.data,
                 err.aws_code[0] ? err.aws_code : err.msg);
        it->error = x->msg;
    } else if (rc) {
        snprintf(x->msg, sizeof x->msg, "'%s': %s", x->src.data, err.msg);
        it->error = x->msg;
    } else {
        it->data = x->body.data;
        it->len = x->body.len;
    }
    return 1;
}

/* A task is finished (with the records of a GetObject batched). */
static void task_finished(scan *s)
{
    pthread_mutex_lock(&s->mu);
    if (--s->outstanding == 0)
        pthread_cond_broadcast(&s->cv_task);
    pthread_mutex_unlock(&s->mu);
}

/* The pipeline's input: runs listings until a GetObject has bytes to parse. */
static int s3_next(void *ctx, void *ws, scan_worker *w, scan_item *it)
{
    scan *s = ctx;
    s3w *x = ws;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        task *t = NULL;
        if (scan_worker_stopping(w) || atomic_load(&s->halt) || x->oom)
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
            pthread_mutex_unlock(&s->mu);
            /* about to wait: hand over what is finished */
            if (scan_worker_flush(w)) {
                pthread_mutex_lock(&s->mu);
                continue;
            }
            pthread_mutex_lock(&s->mu);
            if (!s->listq.head && !s->getq.head && s->outstanding && !scan_worker_stopping(w) &&
                !atomic_load(&s->halt))
                pthread_cond_wait(&s->cv_task, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        if (t->get && run_get(s, x, t, it)) {
            x->cur = t;
            return 1;
        }
        if (!t->get)
            run_list(s, x, w, t);
        task_free(t);
        pthread_mutex_lock(&s->mu);
        if (--s->outstanding == 0)
            pthread_cond_broadcast(&s->cv_task);
    }
    pthread_mutex_unlock(&s->mu);
    if (x->oom) {
        bt_error e = BT_ERROR_INIT;
        bt_error_set(&e, BT_ENOMEM, "out of memory while reading from S3");
        set_fatal(s, &e, NULL);
    }
    return 0;
}

static void s3_item_done(void *ctx, void *ws, scan_item *it)
{
    s3w *x = ws;
    (void)it;
    task_free(x->cur);
    x->cur = NULL;
    /* a big object: give the memory back rather than keep its peak */
    if (x->body.alloc > (16u << 20))
        bt_buf_dispose(&x->body);
    task_finished(ctx);
}

static int s3_worker_init(void *ctx, void **ws, bt_error *err)
{
    scan *s = ctx;
    s3w *x = calloc(1, sizeof *x);
    if (!x || !(x->list_arena = bt_arena_new(256 << 10, 0))) {
        free(x);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    *ws = x;
    return bt_aws_client_clone(&x->client, s->spec->client, err);
}

static void s3_worker_free(void *ctx, void *ws)
{
    s3w *x = ws;
    (void)ctx;
    bt_arena_free(x->list_arena);
    bt_buf_dispose(&x->body);
    bt_buf_dispose(&x->src);
    task_free(x->cur);
    bt_aws_client_free(x->client);
    free(x);
}

static void s3_abort(void *ctx)
{
    scan *s = ctx;
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->cv_task);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the calling thread ---- */

/* Objects of a listing page: skip what the consumer has, queue the rest. */
static int take_listing(scan *s, const listing *b, bt_read_stats *st)
{
    tlist gets = {0}, none = {0}, none2 = {0};
    size_t i;

    for (i = 0; i < b->nobjs; i++) {
        const bt_s3_object *ob = &b->objs[i];
        int64_t mtime_ns = ob->last_modified_ms * 1000000;
        task *t;
        int64_t delivered;
        s->listed++;
        s->listed_bytes += ob->size;
        if (bt_s3_key_delivery_ms(ob->key, &delivered) == 0 && delivered > s->newest_ms)
            s->newest_ms = delivered;
        if (s->spec->skip) {
            source_of(s, ob->key, &s->src);
            if (s->src.data &&
                s->spec->skip(s->spec->skip_ctx, s->src.data, ob->size, mtime_ns, ob->etag)) {
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

static int s3_on_message(void *ctx, void *msg, int live, bt_read_stats *st, bt_error *err)
{
    scan *s = ctx;
    int rc = 0;
    if (live && !atomic_load(&s->halt) && take_listing(s, msg, st))
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    task_finished(s);
    return rc;
}

static void s3_totals(void *ctx, uint64_t *files, uint64_t *bytes)
{
    scan *s = ctx;
    *files = s->files_total;
    *bytes = s->bytes_total;
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

/* spec->keys: a GetObject each, nothing listed. */
static int key_tasks(scan *s, bt_error *err)
{
    tlist gets = {0}, none = {0}, none2 = {0};
    size_t i;
    for (i = 0; i < s->spec->nkeys; i++) {
        task *t = calloc(1, sizeof *t);
        if (!t || !(t->key = strdup(s->spec->keys[i]))) {
            task_free(t);
            tl_free(&gets);
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        }
        t->get = 1;
        tl_push(&gets, t);
    }
    s->files_total = s->listed = s->spec->nkeys;
    enqueue(s, &gets, &none, &none2);
    return 0;
}

/* The walk's start: bucket, prefix layout, days. */
static int scan_setup(scan *s, const bt_s3_scan_spec *spec, bt_error *err)
{
    const char *rest = "";
    int rc;

    if (!spec->client)
        return bt_error_set(err, BT_EINVAL, "no AWS client");
    if ((rc = bt_s3_parse_url(spec->url, s->bucket_name, sizeof s->bucket_name, &rest, err)))
        return rc;
    snprintf(s->url_root, sizeof s->url_root, "s3://%s/", s->bucket_name);
    if (spec->nkeys) {
        if ((rc = bt_s3_bucket_new(&s->bucket, spec->client, s->bucket_name, spec->addressing,
                                   err)))
            return rc;
        return key_tasks(s, err);
    }
    if ((rc = bt_s3_walk_parse(rest, &s->ws, err))) {
        bt_error_prefix(err, "s3://%s", s->bucket_name);
        return rc;
    }
    s->discover =
        bt_s3_walk_days(&s->ws, spec->start_ms, spec->end_ms,
                        spec->now_ms ? spec->now_ms : bt_time_now_ms(), &s->first_day, &s->last_day);
    s->start_ms = spec->start_ms;
    if ((rc = bt_s3_bucket_new(&s->bucket, spec->client, s->bucket_name, spec->addressing, err)))
        return rc;
    return start_tasks(s, err);
}

int bt_scan_s3(const bt_s3_scan_spec *spec, const bt_scan_opts *o, bt_read_stats *st,
               bt_s3_scan_info *info, bt_error *err)
{
    scan s;
    scan_input in;
    int rc;

    memset(&s, 0, sizeof s);
    if (info)
        memset(info, 0, sizeof *info);
    s.spec = spec;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv_task, NULL);
    atomic_init(&s.halt, 0);
    atomic_init(&s.list_requests, 0);
    atomic_init(&s.get_requests, 0);
    atomic_init(&s.requeued, 0);
    if ((rc = scan_setup(&s, spec, err)))
        goto done;
    memset(&in, 0, sizeof in);
    in.ctx = &s;
    in.nworkers = spec->connections > 0 ? spec->connections : DEFAULT_CONNECTIONS;
    if (in.nworkers > MAX_CONNECTIONS)
        in.nworkers = MAX_CONNECTIONS;
    in.batch_events = 512;
    in.batch_bytes = 256u << 10;
    in.arena_size = 64 << 10;
    in.scratch_size = 256 << 10;
    in.max_queued = 8;
    in.nonjson_bytes = 1;
    in.worker_init = s3_worker_init;
    in.worker_free = s3_worker_free;
    in.next = s3_next;
    in.item_done = s3_item_done;
    in.on_message = s3_on_message;
    in.free_message = listing_free;
    in.totals = s3_totals;
    in.abort = s3_abort;
    rc = scan_run(&in, o, st, err);
    if (!rc && s.has_fatal) {
        rc = s.fatal.code ? s.fatal.code : BT_ERROR;
        if (err)
            *err = s.fatal;
    }
done:
    tl_free(&s.getq);
    tl_free(&s.listq);
    if (info) {
        info->list_requests = atomic_load(&s.list_requests);
        info->get_requests = atomic_load(&s.get_requests);
        info->requeued = atomic_load(&s.requeued);
        info->listed = s.listed;
        info->listed_bytes = s.listed_bytes;
        info->newest_ms = s.newest_ms;
        if (s.bucket)
            bt_s3_bucket_region(s.bucket, info->region, sizeof info->region);
    }
    bt_s3_bucket_free(s.bucket);
    bt_s3_walk_dispose(&s.ws);
    bt_buf_dispose(&s.src);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv_task);
    return rc;
}
