/* pipeline.c - parallel file scan: worker threads read, decompress, parse and filter
 * files; the calling thread consumes batches (store writes, result collection).
 * Memory is bounded by the batch size and the queue length, not by the input. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/source.h"

#define BATCH_EVENTS 2048
#define BATCH_BYTES (2u << 20)

typedef struct batch {
    struct batch *next;
    bt_arena *arena;
    bt_event *events;
    size_t n, cap;
    bt_file_done *done;
    size_t n_done, cap_done;
    char **errors; /* message per done entry (NULL when fine) */
    bt_read_stats delta;
    void *prepared;
    void (*release)(void *);
} batch;

typedef struct pipe {
    const bt_file_list *l;
    const bt_scan_opts *o;
    atomic_size_t next;
    atomic_int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_items, cv_space;
    batch *head, *tail;
    size_t queued, max_queued;
    int running;
} pipe_t;

typedef struct worker {
    pipe_t *p;
    pthread_t th;
    bt_arena *scratch;
    batch *cur;
    bt_read_stats st;
    int oom;
} worker;

static void batch_free(batch *b)
{
    if (!b)
        return;
    if (b->prepared && b->release)
        b->release(b->prepared);
    bt_arena_free(b->arena);
    free(b->events);
    free(b->done);
    free(b->errors);
    free(b);
}

static batch *batch_new(void)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->arena = bt_arena_new(1 << 20, 0);
    if (!b->arena) {
        free(b);
        return NULL;
    }
    return b;
}

static void push(worker *w)
{
    pipe_t *p = w->p;
    batch *b = w->cur;
    w->cur = NULL;
    if (!b)
        return;
    if (p->o->prepare && b->n) {
        b->release = p->o->release;
        if (p->o->prepare(p->o->ctx, b->events, b->n, &b->prepared))
            w->oom = 1; /* reported as out of memory by bt_scan_files */
    }
    b->delta = w->st;
    memset(&w->st, 0, sizeof w->st);
    pthread_mutex_lock(&p->mu);
    while (p->queued >= p->max_queued && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cv_space, &p->mu);
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->queued++;
    pthread_cond_signal(&p->cv_items);
    pthread_mutex_unlock(&p->mu);
}

static batch *cur_batch(worker *w)
{
    if (!w->cur)
        w->cur = batch_new();
    return w->cur;
}

static int on_event(void *ctx, const bt_event *ev)
{
    worker *w = ctx;
    batch *b;

    if (atomic_load(&w->p->stop))
        return BT_ESTOP;
    if (w->p->o->filter && !bt_filter_match(w->p->o->filter, ev))
        return 0;
    w->st.matched++;
    if (!(b = cur_batch(w)))
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
        push(w);
    return 0;
oom:
    w->oom = 1;
    return BT_ENOMEM;
}

static int add_done(worker *w, const bt_file_info *f, uint64_t records, const char *errmsg)
{
    batch *b = cur_batch(w);
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
    b->done[b->n_done].path = bt_arena_strdup(b->arena, f->path);
    b->done[b->n_done].size = f->size;
    b->done[b->n_done].mtime_ns = f->mtime_ns;
    b->done[b->n_done].records = records;
    b->done[b->n_done].failed = errmsg != NULL;
    b->done[b->n_done].etag = NULL;
    b->errors[b->n_done] = errmsg ? bt_arena_strdup(b->arena, errmsg) : NULL;
    if (!b->done[b->n_done].path)
        return BT_ENOMEM;
    b->n_done++;
    return 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    pipe_t *p = w->p;
    bt_buf data = BT_BUF_INIT;

    while (!atomic_load(&p->stop) && !w->oom) {
        size_t i = atomic_fetch_add(&p->next, 1);
        const bt_file_info *f;
        bt_error err = BT_ERROR_INIT;
        uint64_t before;
        int rc;

        if (i >= p->l->n)
            break;
        f = &p->l->v[i];
        bt_buf_clear(&data);
        w->st.files++;
        before = w->st.records;
        rc = bt_buf_read_file(&data, f->path, &err);
        if (!rc && f->walked && !bt_looks_like_input(data.data, data.len)) {
            w->st.nonjson++;
        } else if (!rc) {
            rc = bt_read_data_filtered(data.data, data.len, w->scratch, p->o->filter, on_event, w,
                                       &w->st, &err);
            if (rc && rc != BT_ESTOP && rc != BT_ENOMEM)
                bt_error_prefix(&err, "'%s'", f->path);
        }
        if (rc == BT_ESTOP || w->oom)
            break;
        if (rc)
            w->st.errors++;
        if (add_done(w, f, w->st.records - before, rc ? err.msg : NULL)) {
            w->oom = 1;
            break;
        }
        /* big inputs: release the read buffer rather than keep its peak */
        if (data.alloc > (64u << 20))
            bt_buf_dispose(&data);
    }
    push(w);
    bt_buf_dispose(&data);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_signal(&p->cv_items);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

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

int bt_scan_files(const bt_file_list *l, const bt_scan_opts *o, bt_read_stats *st,
                  bt_error *err)
{
    pipe_t p;
    worker *ws = NULL;
    int n, i, rc = 0, oom = 0;
    uint64_t bytes_total = 0;
    int64_t last_progress = 0;
    size_t k;

    memset(&p, 0, sizeof p);
    p.l = l;
    p.o = o;
    atomic_init(&p.next, 0);
    atomic_init(&p.stop, 0);
    n = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if ((size_t)n > l->n)
        n = l->n ? (int)l->n : 1;
    p.max_queued = (size_t)n + 1;
    for (k = 0; k < l->n; k++)
        bytes_total += l->v[k].size;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv_items, NULL);
    pthread_cond_init(&p.cv_space, NULL);
    ws = calloc((size_t)n, sizeof *ws);
    if (!ws) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        ws[i].p = &p;
        ws[i].scratch = bt_arena_new(1 << 20, 0);
        if (!ws[i].scratch) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
    p.running = n;
    for (i = 0; i < n; i++)
        if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
            /* run with fewer workers */
            pthread_mutex_lock(&p.mu);
            p.running -= n - i;
            pthread_mutex_unlock(&p.mu);
            n = i;
            break;
        }
    if (n == 0) {
        rc = bt_error_set(err, BT_ERROR, "cannot start worker threads");
        goto done;
    }
    for (;;) {
        batch *b = NULL;
        int finished;
        pthread_mutex_lock(&p.mu);
        while (!p.head && p.running > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&p.cv_items, &p.mu, &ts);
            if (!p.head && o->on_progress)
                break;
        }
        if (p.head) {
            b = p.head;
            p.head = b->next;
            if (!p.head)
                p.tail = NULL;
            p.queued--;
            pthread_cond_signal(&p.cv_space);
        }
        finished = !p.head && p.running == 0;
        pthread_mutex_unlock(&p.mu);
        if (b) {
            bt_batch pub;
            add_stats(st, &b->delta);
            if (!rc) {
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
                if (rc) {
                    atomic_store(&p.stop, 1);
                    pthread_mutex_lock(&p.mu);
                    pthread_cond_broadcast(&p.cv_space);
                    pthread_mutex_unlock(&p.mu);
                }
            }
            batch_free(b);
        }
        if (o->on_progress && mono_ms() - last_progress >= 100) {
            last_progress = mono_ms();
            o->on_progress(o->ctx, st, l->n, bytes_total);
        }
        if (finished && !b)
            break;
    }
    if (o->on_progress)
        o->on_progress(o->ctx, st, l->n, bytes_total);
done:
    if (ws) {
        for (i = 0; i < n; i++)
            if (ws[i].th) {
                pthread_join(ws[i].th, NULL);
                if (ws[i].oom)
                    oom = 1;
            }
        for (i = 0; i < n; i++) {
            bt_arena_free(ws[i].scratch);
            batch_free(ws[i].cur);
        }
    }
    while (p.head) {
        batch *b = p.head;
        p.head = b->next;
        batch_free(b);
    }
    free(ws);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv_items);
    pthread_cond_destroy(&p.cv_space);
    if (!rc && oom)
        rc = bt_error_set(err, BT_ENOMEM, "out of memory while reading");
    return rc;
}
