/* pipeline.c - the one parallel scan pipeline, generic over its input (scan_int.h):
 * worker threads take items from the input (a local file list here, walked by the
 * workers as they need files; an S3 listing in s3.c), decompress, parse and filter them
 * into batches; the calling thread consumes the batches (store writes, result
 * collection). Memory is bounded by the batch size and the queue length, not by the
 * input. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

#include "buildtrail/buf.h"
#include "buildtrail/source.h"
#include "buildtrail/timeutil.h"
#include "scan_int.h"

/* How much nicer than the process workers run when their batches are stored (work) */
#define WORKER_NICE 10

typedef struct batch {
    struct batch *next;
    void *msg; /* an input's message instead of events */
    bt_arena *arena;
    bt_event *events;
    size_t n, cap;
    bt_file_done *done;
    size_t n_done, cap_done;
    char **errors; /* message per done entry (NULL when fine) */
    struct batch_reject {
        const char *path;
        bt_reject rj;
    } * rejects; /* strings in arena */
    size_t n_rejects, cap_rejects;
    bt_read_stats delta;
    void *prepared;
    void (*release)(void *);
    bt_buf note; /* bt_scan_opts.inspect's */
} batch;

/* The eventIDs a deduplicating scan has delivered: open addressing over 16-byte keys
 * (all zeros marks a free slot; the all-zero id itself is a flag). */
typedef struct id_set {
    unsigned char (*v)[16];
    size_t n, cap;
    int has_zero;
} id_set;

typedef struct pipe {
    const scan_input *in;
    id_set ids;
    batch *pool; /* consumed batches kept for reuse (their arena and arrays): a scan
                    does not fault in fresh memory for every batch */
    size_t npool;
    const bt_scan_opts *o;
    atomic_int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_items, cv_space;
    batch *head, *tail;
    size_t queued;
    int running;
} pipe_t;

struct scan_worker {
    pipe_t *p;
    pthread_t th;
    int started;
    void *ws; /* the input's state for this worker */
    bt_arena *scratch;
    bt_buf plain;           /* decompressed data, reused from file to file */
    const bt_json *rec;     /* the JSON of the event being read (bt_read_opts.record) */
    bt_arena *hook_scratch; /* o->inspect's, made at its first call */
    batch *cur;
    bt_read_stats st;
    uint64_t records_flushed; /* st.records handed over so far (a file's count spans flushes) */
    int oom;
};

void scan_add_stats(bt_read_stats *a, const bt_read_stats *d)
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
    a->oversized += d->oversized;
    a->bad_parts += d->bad_parts;
    a->rejected += d->rejected;
    a->duplicates += d->duplicates;
}

static uint64_t fnv64(const char *s, uint64_t h)
{
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* The 16-byte key of an eventID: the UUID packed, else two 64-bit hashes of it. */
static void id_key(const char *id, unsigned char k[16])
{
    uint64_t a, b;
    if (bt_event_uuid_pack(id, k))
        return;
    a = fnv64(id, 1469598103934665603ULL);
    b = fnv64(id, 0x84222325CBF29CE4ULL ^ a);
    memcpy(k, &a, 8);
    memcpy(k + 8, &b, 8);
}

static size_t key_slot(const unsigned char k[16], size_t cap)
{
    uint64_t h;
    memcpy(&h, k + 8, 8);
    h ^= (uint64_t)k[0] << 56 | (uint64_t)k[1] << 48 | (uint64_t)k[2] << 40 | k[3];
    return (size_t)(h * 0x9E3779B97F4A7C15ULL >> 7) & (cap - 1);
}

/* 1 if id was in s, 0 if added now, BT_ENOMEM. */
static int id_set_add(id_set *s, const char *id)
{
    static const unsigned char zero[16];
    unsigned char k[16];
    size_t i;
    id_key(id ? id : "", k);
    if (memcmp(k, zero, 16) == 0) {
        int had = s->has_zero;
        s->has_zero = 1;
        return had;
    }
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024, j;
        unsigned char(*nv)[16] = calloc(ncap, 16);
        if (!nv)
            return BT_ENOMEM;
        for (j = 0; j < s->cap; j++)
            if (memcmp(s->v[j], zero, 16) != 0) {
                for (i = key_slot(s->v[j], ncap); memcmp(nv[i], zero, 16) != 0;)
                    i = (i + 1) & (ncap - 1);
                memcpy(nv[i], s->v[j], 16);
            }
        free(s->v);
        s->v = nv;
        s->cap = ncap;
    }
    for (i = key_slot(k, s->cap); memcmp(s->v[i], zero, 16) != 0; i = (i + 1) & (s->cap - 1))
        if (memcmp(s->v[i], k, 16) == 0)
            return 1;
    memcpy(s->v[i], k, 16);
    s->n++;
    return 0;
}

/* Drops from b the events whose id was delivered before (b->events compacted). */
static int dedup_batch(id_set *s, batch *b, bt_read_stats *st)
{
    size_t i, n = 0;
    for (i = 0; i < b->n; i++) {
        int had = id_set_add(s, b->events[i].event_id);
        if (had < 0)
            return had;
        if (had) {
            st->duplicates++;
            continue;
        }
        if (n != i)
            b->events[n] = b->events[i];
        n++;
    }
    b->n = n;
    return 0;
}

static void batch_free(const scan_input *in, batch *b)
{
    if (!b)
        return;
    if (b->msg && in->free_message)
        in->free_message(b->msg);
    if (b->prepared && b->release)
        b->release(b->prepared);
    bt_arena_free(b->arena);
    free(b->events);
    free(b->done);
    free(b->errors);
    free(b->rejects);
    bt_buf_dispose(&b->note);
    free(b);
}

/* Puts a consumed batch in p's pool (or frees it when the pool is full). */
static void batch_recycle(pipe_t *p, batch *b)
{
    if (!b)
        return;
    if (b->msg || !b->arena) {
        batch_free(p->in, b);
        return;
    }
    if (b->prepared && b->release)
        b->release(b->prepared);
    b->prepared = NULL;
    b->release = NULL;
    bt_arena_reset(b->arena);
    b->n = b->n_done = b->n_rejects = 0;
    memset(&b->delta, 0, sizeof b->delta);
    if (b->note.alloc > (4u << 20))
        bt_buf_dispose(&b->note);
    bt_buf_clear(&b->note);
    pthread_mutex_lock(&p->mu);
    if (p->npool < p->in->max_queued + (size_t)p->in->nworkers + 1) {
        b->next = p->pool;
        p->pool = b;
        p->npool++;
        b = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    batch_free(p->in, b);
}

static batch *batch_new(size_t arena_size)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (arena_size && !(b->arena = bt_arena_new(arena_size, 0))) {
        free(b);
        return NULL;
    }
    return b;
}

/* Queues b for the calling thread. A message is dropped (returns 0) once the scan
 * stops; batches are still queued then, for their statistics. */
static int enqueue(pipe_t *p, batch *b)
{
    pthread_mutex_lock(&p->mu);
    while (p->queued >= p->in->max_queued && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cv_space, &p->mu);
    if (b->msg && atomic_load(&p->stop)) {
        pthread_mutex_unlock(&p->mu);
        batch_free(p->in, b);
        return 0;
    }
    b->next = NULL;
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->queued++;
    pthread_cond_signal(&p->cv_items);
    pthread_mutex_unlock(&p->mu);
    return 1;
}

int scan_worker_flush(scan_worker *w)
{
    pipe_t *p = w->p;
    batch *b = w->cur;
    w->cur = NULL;
    if (!b)
        return 0;
    if (p->o->prepare && b->n) {
        /* the consumer's per-batch work that needs no shared state, done here */
        b->release = p->o->release;
        if (p->o->prepare(p->o->ctx, b->events, b->n, &b->prepared))
            w->oom = 1; /* reported as out of memory by scan_run */
    }
    b->delta = w->st;
    w->records_flushed += w->st.records;
    memset(&w->st, 0, sizeof w->st);
    enqueue(p, b);
    return 1;
}

int scan_worker_post(scan_worker *w, void *msg)
{
    batch *b = batch_new(0);
    if (!b) {
        w->p->in->free_message(msg);
        w->oom = 1;
        return 0;
    }
    b->msg = msg;
    return enqueue(w->p, b);
}

void scan_worker_oom(scan_worker *w)
{
    w->oom = 1;
}

int scan_worker_stopping(const scan_worker *w)
{
    return atomic_load(&w->p->stop) || w->oom;
}

static batch *cur_batch(scan_worker *w)
{
    pipe_t *p = w->p;
    if (w->cur)
        return w->cur;
    pthread_mutex_lock(&p->mu);
    if ((w->cur = p->pool) != NULL) {
        p->pool = w->cur->next;
        p->npool--;
        w->cur->next = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (!w->cur)
        w->cur = batch_new(p->in->arena_size);
    return w->cur;
}

static int on_event(void *ctx, const bt_event *ev)
{
    scan_worker *w = ctx;
    batch *b;

    if (atomic_load(&w->p->stop))
        return BT_ESTOP;
    if (w->p->o->filter && !bt_filter_match(w->p->o->filter, ev))
        return 0;
    w->st.matched++;
    if (!(b = cur_batch(w)))
        goto oom;
    if (w->p->o->inspect) {
        int r;
        if (!w->hook_scratch && !(w->hook_scratch = bt_arena_new(64 << 10, 0)))
            goto oom;
        r = w->p->o->inspect(w->p->o->ctx, ev, w->rec, w->hook_scratch, &b->note);
        if (r == 1) {
            if (b->note.len >= w->p->in->batch_bytes)
                scan_worker_flush(w);
            return 0;
        }
        if (r)
            goto oom;
    }
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
    if (b->n >= w->p->in->batch_events || bt_arena_used(b->arena) >= w->p->in->batch_bytes ||
        b->note.len >= w->p->in->batch_bytes)
        scan_worker_flush(w);
    return 0;
oom:
    w->oom = 1;
    return BT_ENOMEM;
}

static int add_done(scan_worker *w, const scan_item *it, uint64_t records, const char *errmsg)
{
    batch *b = cur_batch(w);
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
    d->path = bt_arena_strdup(b->arena, it->name);
    d->etag = it->etag ? bt_arena_strdup(b->arena, it->etag) : NULL;
    d->size = it->size;
    d->mtime_ns = it->mtime_ns;
    d->records = records;
    d->failed = errmsg != NULL;
    b->errors[b->n_done] = errmsg ? bt_arena_strdup(b->arena, errmsg) : NULL;
    if (!d->path || (it->etag && !d->etag) || (errmsg && !b->errors[b->n_done]))
        return BT_ENOMEM;
    b->n_done++;
    return 0;
}

typedef struct reject_ctx {
    scan_worker *w;
    const char *name;
} reject_ctx;

/* A rejected record, kept in the current batch for the consumer's on_reject. */
static void on_reject(void *ctx, const bt_reject *rj)
{
    reject_ctx *rc = ctx;
    scan_worker *w = rc->w;
    batch *b = cur_batch(w);
    struct batch_reject *e;
    if (!b)
        goto oom;
    if (b->n_rejects == b->cap_rejects) {
        size_t n = b->cap_rejects ? b->cap_rejects * 2 : 8;
        struct batch_reject *v = realloc(b->rejects, n * sizeof *v);
        if (!v)
            goto oom;
        b->rejects = v;
        b->cap_rejects = n;
    }
    e = &b->rejects[b->n_rejects];
    e->rj = *rj;
    e->path = bt_arena_strdup(b->arena, rc->name);
    e->rj.reason = bt_arena_strdup(b->arena, rj->reason);
    e->rj.raw = bt_arena_strndup(b->arena, rj->raw, rj->raw_len);
    if (!e->path || !e->rj.reason || !e->rj.raw)
        goto oom;
    b->n_rejects++;
    return;
oom:
    w->oom = 1;
}

/* Parses one item into the worker's batches. Non-zero: the worker stops. */
static int read_item(scan_worker *w, const scan_item *it)
{
    bt_error err = BT_ERROR_INIT;
    uint64_t before = w->records_flushed + w->st.records;
    const char *msg = NULL;
    bt_read_opts ro;
    reject_ctx rx;
    int rc = 0;

    w->st.files++;
    if (it->error) {
        msg = it->error;
    } else if (it->check_input && !bt_looks_like_input(it->data, it->len)) {
        w->st.nonjson++;
        if (w->p->in->nonjson_bytes)
            w->st.bytes_in += it->len;
    } else {
        memset(&ro, 0, sizeof ro);
        ro.pre = w->p->o->filter;
        ro.raw_keep = w->p->o->raw_keep;
        ro.raw_ctx = w->p->o->ctx;
        ro.max_record = w->p->o->max_record;
        ro.plain = &w->plain;
        ro.record = w->p->o->inspect ? &w->rec : NULL;
        rx.w = w;
        rx.name = it->name;
        if (w->p->o->on_reject) {
            ro.on_reject = on_reject;
            ro.reject_ctx = &rx;
        }
        rc = bt_read_data_opts(it->data, it->len, w->scratch, &ro, on_event, w, &w->st, &err);
        if (w->plain.alloc > (64u << 20))
            bt_buf_dispose(&w->plain); /* a big input: do not keep its peak */
        if (rc == BT_ESTOP || w->oom)
            return 1;
        if (rc == BT_ENOTFOUND && it->check_input) {
            /* JSON met by a walk but no CloudTrail (a manifest): skipped, its values
             * counted in st.ignored */
        } else if (rc) {
            bt_error_prefix(&err, "'%s'", it->name);
            msg = err.msg;
        }
    }
    if (msg)
        w->st.errors++;
    if (add_done(w, it, w->records_flushed + w->st.records - before, msg)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

static void *work(void *arg)
{
    scan_worker *w = arg;
    pipe_t *p = w->p;
    const scan_input *in = p->in;

#ifdef __linux__
    /* A consumer that stores (prepare) is the one thread the others wait on: with as
     * many workers as cores, the three shared the cores evenly, and the store writer,
     * ready 4.6 s of a 1M-event ingest's 5.0, ran 3.7 s of them. The workers yield to
     * it (a thread's own nice value, on Linux): 4.94-5.05 s instead of 5.17-5.23 s
     * (alternate runs; docs/store.md). */
    if (p->o->prepare) {
        id_t tid = (id_t)syscall(SYS_gettid);
        int now;
        errno = 0;
        now = getpriority(PRIO_PROCESS, tid);
        if (errno == 0)
            (void)setpriority(PRIO_PROCESS, tid, now + WORKER_NICE > 19 ? 19 : now + WORKER_NICE);
    }
#endif
    while (!atomic_load(&p->stop) && !w->oom) {
        scan_item it;
        int stop;
        memset(&it, 0, sizeof it);
        if (in->next(in->ctx, w->ws, w, &it) <= 0)
            break;
        stop = read_item(w, &it);
        if (in->item_done)
            in->item_done(in->ctx, w->ws, &it);
        if (stop)
            break;
    }
    scan_worker_flush(w);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_signal(&p->cv_items);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the calling thread ---- */

static void stop_all(pipe_t *p)
{
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv_space);
    pthread_mutex_unlock(&p->mu);
    if (p->in->abort)
        p->in->abort(p->in->ctx);
}

/* The next queued batch, waiting up to 100 ms when on_progress wants ticks. *finished
 * is set when the workers are done and the queue is empty. */
static batch *take(pipe_t *p, int *finished)
{
    batch *b = NULL;
    pthread_mutex_lock(&p->mu);
    while (!p->head && p->running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->cv_items, &p->mu, &ts);
        if (!p->head && p->o->on_progress)
            break;
    }
    if (p->head) {
        b = p->head;
        p->head = b->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_cond_signal(&p->cv_space);
    }
    *finished = !p->head && p->running == 0;
    pthread_mutex_unlock(&p->mu);
    return b;
}

/* Hands b to the consumer (or the input, for a message). Returns the new rc. */
static int deliver(pipe_t *p, batch *b, int rc, bt_read_stats *st, bt_error *err)
{
    const bt_scan_opts *o = p->o;
    bt_batch pub;
    size_t k;

    if (b->msg) {
        int r = p->in->on_message(p->in->ctx, b->msg, !rc, st, err);
        return rc ? rc : r;
    }
    scan_add_stats(st, &b->delta);
    if (rc)
        return rc;
    for (k = 0; k < b->n_rejects && o->on_reject; k++)
        o->on_reject(o->ctx, b->rejects[k].path, &b->rejects[k].rj);
    if (o->dedup && dedup_batch(&p->ids, b, st))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
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
    pub.note = b->note.data;
    pub.note_len = b->note.len;
    if (o->on_batch && (pub.n || pub.n_done || pub.note_len))
        return o->on_batch(o->ctx, &pub);
    return 0;
}

static void progress(pipe_t *p, const bt_read_stats *st)
{
    uint64_t files = 0, bytes = 0;
    p->in->totals(p->in->ctx, &files, &bytes);
    p->o->on_progress(p->o->ctx, st, files, bytes);
}

/* Starts the workers; returns how many run. */
static int start(pipe_t *p, scan_worker *ws, int n, bt_error *err)
{
    int i, rc;
    for (i = 0; i < n; i++) {
        ws[i].p = p;
        if (!(ws[i].scratch = bt_arena_new(p->in->scratch_size, 0)))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if (p->in->worker_init && (rc = p->in->worker_init(p->in->ctx, &ws[i].ws, err)))
            return rc;
    }
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&p->mu);
        p->running++;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
            /* run with fewer workers */
            pthread_mutex_lock(&p->mu);
            p->running--;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        ws[i].started = 1;
    }
    return i == 0 ? bt_error_set(err, BT_ERROR, "cannot start worker threads") : 0;
}

int scan_run(const scan_input *in, const bt_scan_opts *o, bt_read_stats *st, bt_error *err)
{
    pipe_t p;
    scan_worker *ws = NULL;
    int n = in->nworkers > 0 ? in->nworkers : 1, i, rc = 0, oom = 0;
    int64_t last_progress = 0;

    memset(&p, 0, sizeof p);
    p.in = in;
    p.o = o;
    atomic_init(&p.stop, 0);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv_items, NULL);
    pthread_cond_init(&p.cv_space, NULL);
    if (!(ws = calloc((size_t)n, sizeof *ws))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = start(&p, ws, n, err)))
        goto done;
    for (;;) {
        int finished;
        batch *b = take(&p, &finished);
        if (b) {
            int was = rc;
            rc = deliver(&p, b, rc, st, err);
            if (rc && !was)
                stop_all(&p);
            batch_recycle(&p, b);
        }
        if (o->on_progress && bt_time_mono_ms() - last_progress >= 100) {
            last_progress = bt_time_mono_ms();
            progress(&p, st);
        }
        if (finished && !b)
            break;
    }
    if (o->on_progress)
        progress(&p, st);
done:
    if (ws) {
        stop_all(&p); /* every worker has finished here, except after an early failure */
        for (i = 0; i < n; i++)
            if (ws[i].started) {
                pthread_join(ws[i].th, NULL);
                oom |= ws[i].oom;
            }
        for (i = 0; i < n; i++) {
            bt_arena_free(ws[i].scratch);
            bt_buf_dispose(&ws[i].plain);
            bt_arena_free(ws[i].hook_scratch);
            batch_free(in, ws[i].cur);
            if (in->worker_free && ws[i].ws)
                in->worker_free(in->ctx, ws[i].ws);
        }
    }
    while (p.head) {
        batch *b = p.head;
        p.head = b->next;
        batch_free(in, b);
    }
    while (p.pool) {
        batch *b = p.pool;
        p.pool = b->next;
        batch_free(in, b);
    }
    free(ws);
    free(p.ids.v);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv_items);
    pthread_cond_destroy(&p.cv_space);
    if (!rc && oom)
        rc = bt_error_set(err, BT_ENOMEM, "out of memory while reading");
    return rc;
}

/* ---- the local file list as an input ---- */

/* Files listed ahead of the readers when the list is walked as they go: enough that a
 * worker rarely waits for the one walking, few enough that reading starts at once. */
#define WALK_AHEAD 16

typedef struct files_in {
    bt_file_list *l;
    pthread_mutex_t mu;      /* the list's entries, next and the sums */
    pthread_mutex_t walk_mu; /* the walk: one worker steps it at a time */
    size_t next;             /* the next entry to read */
    size_t summed;           /* entries whose sizes are in bytes_total */
    uint64_t bytes_total;
    atomic_int walking; /* entries wait to be listed (and the walk has not failed) */
} files_in;

/* A walk error, posted by the worker that met it: the scan's result. */
typedef struct walk_failure {
    int code;
    bt_error err;
} walk_failure;

static int files_on_message(void *ctx, void *msg, int live, bt_read_stats *st, bt_error *err)
{
    walk_failure *f = msg;
    (void)ctx;
    (void)st;
    if (!live)
        return 0;
    *err = f->err;
    return f->code;
}

typedef struct files_ws {
    bt_buf data;
    bt_error err;
    /* the directory of the last file read, open: its next files are opened relative to
     * it, without resolving the whole path again (files of one directory come in a run) */
    int dir_fd;
    size_t dir_len;
    char dir[4096];
} files_ws;

static int files_init(void *ctx, void **ws, bt_error *err)
{
    files_ws *f = calloc(1, sizeof(files_ws));
    (void)ctx;
    if (!f)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    f->dir_fd = -1;
    *ws = f;
    return 0;
}

static void files_free(void *ctx, void *ws)
{
    files_ws *f = ws;
    (void)ctx;
    if (f->dir_fd >= 0)
        close(f->dir_fd);
    bt_buf_dispose(&f->data);
    free(f);
}

/* Opens path for reading, relative to its directory when that is the last one's. */
static int open_in_dir(files_ws *f, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (!slash || n == 0 || n >= sizeof f->dir)
        return open(path, O_RDONLY | O_CLOEXEC);
    if (f->dir_fd < 0 || n != f->dir_len || memcmp(f->dir, path, n) != 0) {
        if (f->dir_fd >= 0)
            close(f->dir_fd);
        memcpy(f->dir, path, n);
        f->dir[n] = '\0';
        f->dir_len = n;
        if ((f->dir_fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return open(path, O_RDONLY | O_CLOEXEC);
    }
    return openat(f->dir_fd, slash + 1, O_RDONLY | O_CLOEXEC);
}

/* As bt_buf_read_file (the same messages) for a local path listed as a regular file of
 * size bytes: in one read, with no stdio buffer, no growth of b for every file and no
 * fstat (a file that grew since it was listed is read to its end all the same). */
static int read_local(files_ws *f, const char *path, uint64_t size)
{
    bt_buf *b = &f->data;
    bt_error *err = &f->err;
    int fd, rc = 0;
    if (strcmp(path, "-") == 0)
        return bt_buf_read_file(b, path, err);
    if ((fd = open_in_dir(f, path)) < 0)
        return bt_error_set(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, "'%s': %s", path,
                            strerror(errno));
    if (size < BT_BUF_DEFAULT_CAP)
        rc = bt_buf_reserve(b, (size_t)size + 1); /* room past the end: a short read ends it */
    for (;;) {
        ssize_t n;
        size_t want;
        if (!rc && b->alloc - b->len <= 1)
            rc = bt_buf_reserve(b, 65536);
        if (rc) {
            bt_error_set(err, rc, "'%s': %s", path,
                         rc == BT_ELIMIT ? "file is larger than the size limit" : "out of memory");
            break;
        }
        want = b->alloc - b->len - 1;
        n = read(fd, b->data + b->len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = bt_error_set(err, BT_EIO, "'%s': read error: %s", path, strerror(errno));
            break;
        }
        b->len += (size_t)n;
        b->data[b->len] = '\0';
        if (n == 0 || (size_t)n < want)
            break; /* a short read of a regular file is its end */
    }
    close(fd);
    return rc;
}

/* One worker's walk steps, listing up to WALK_AHEAD entries past the next to read.
 * Called holding walk_mu. */
static int files_walk(files_in *fi, walk_failure **fail)
{
    bt_error e = BT_ERROR_INIT;
    size_t want;
    int rc;
    pthread_mutex_lock(&fi->mu);
    want = fi->next + WALK_AHEAD;
    pthread_mutex_unlock(&fi->mu);
    rc = scan_list_advance(fi->l, want, &fi->mu, &e);
    if (rc && (*fail = malloc(sizeof **fail))) {
        (*fail)->code = rc;
        (*fail)->err = e;
    }
    atomic_store(&fi->walking, !rc && scan_list_pending(fi->l));
    return rc;
}

/* The entry to read next, copied (the list may grow and move meanwhile). While the
 * list waits to be walked, a worker lists more first: when it has no entry to read,
 * waiting for another that walks; when few are left, unless another walks. 0: none
 * left; -1: the walk failed (*fail). */
static int files_take(files_in *fi, bt_file_info *info, walk_failure **fail)
{
    for (;;) {
        int got = 0, low;
        pthread_mutex_lock(&fi->mu);
        if (fi->next < fi->l->n) {
            *info = fi->l->v[fi->next++];
            got = 1;
        }
        low = fi->next + WALK_AHEAD / 2 >= fi->l->n;
        pthread_mutex_unlock(&fi->mu);
        if (!low || !atomic_load(&fi->walking))
            return got;
        if (got ? pthread_mutex_trylock(&fi->walk_mu) != 0 : pthread_mutex_lock(&fi->walk_mu) != 0)
            return got;
        if (atomic_load(&fi->walking) && files_walk(fi, fail)) {
            pthread_mutex_unlock(&fi->walk_mu);
            return -1;
        }
        pthread_mutex_unlock(&fi->walk_mu);
        if (got)
            return 1;
    }
}

static int files_next(void *ctx, void *ws, scan_worker *w, scan_item *it)
{
    files_in *fi = ctx;
    files_ws *f = ws;
    walk_failure *fail = NULL;
    bt_file_info info = {0};
    int got = files_take(fi, &info, &fail);

    if (got < 0) {
        if (!fail)
            scan_worker_oom(w);
        else
            scan_worker_post(w, fail); /* (it marks out of memory itself) */
        return 0;
    }
    if (!got)
        return 0;
    bt_buf_clear(&f->data);
    bt_error_clear(&f->err);
    it->name = info.path;
    it->size = info.size;
    it->mtime_ns = info.mtime_ns;
    it->check_input = info.walked;
    if (info.error)
        it->error = info.error; /* could not be listed: reported as a failed input */
    else if (read_local(f, info.path, info.size))
        it->error = f->err.msg;
    it->data = f->data.data;
    it->len = f->data.len;
    return 1;
}

static void files_item_done(void *ctx, void *ws, scan_item *it)
{
    files_ws *f = ws;
    (void)ctx;
    (void)it;
    /* big inputs: release the read buffer rather than keep its peak */
    if (f->data.alloc > (64u << 20))
        bt_buf_dispose(&f->data);
}

static void files_totals(void *ctx, uint64_t *files, uint64_t *bytes)
{
    files_in *fi = ctx;
    pthread_mutex_lock(&fi->mu);
    for (; fi->summed < fi->l->n; fi->summed++)
        fi->bytes_total += fi->l->v[fi->summed].size;
    *files = fi->l->n;
    *bytes = fi->bytes_total;
    pthread_mutex_unlock(&fi->mu);
}

int bt_scan_files(bt_file_list *l, const bt_scan_opts *o, bt_read_stats *st, bt_error *err)
{
    files_in fi;
    scan_input in;
    int n, rc;

    memset(&fi, 0, sizeof fi);
    fi.l = l;
    pthread_mutex_init(&fi.mu, NULL);
    pthread_mutex_init(&fi.walk_mu, NULL);
    atomic_init(&fi.walking, scan_list_pending(l));
    n = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if ((size_t)n > l->n && !scan_list_pending(l))
        n = l->n ? (int)l->n : 1;
    memset(&in, 0, sizeof in);
    in.ctx = &fi;
    in.nworkers = n;
    in.batch_events = 2048;
    /* a consumer that stores (prepare) wants big batches; one that collects or prints
     * is served as well by small ones, whose memory the batch pool then recycles while
     * it is still in cache and mapped, instead of touching fresh pages for every batch */
    in.batch_bytes = o->prepare ? 2u << 20 : 256u << 10;
    /* (one chunk holds a batch whole, its last record included: the chunk that
     * bt_arena_reset keeps is the one the batch touched. A big batch in 1 MiB chunks
     * freed two or three a batch, and the heap kept what they left: a 1M-event ingest
     * peaked at 79-83 MB against 68-71 in chunks of 4 MiB, as fast) */
    in.arena_size = o->prepare ? 4u << 20 : 384u << 10;
    in.scratch_size = 1 << 20;
    in.max_queued = (size_t)n + 1;
    in.worker_init = files_init;
    in.worker_free = files_free;
    in.next = files_next;
    in.item_done = files_item_done;
    in.on_message = files_on_message;
    in.free_message = free;
    in.totals = files_totals;
    rc = scan_run(&in, o, st, err);
    pthread_mutex_destroy(&fi.mu);
    pthread_mutex_destroy(&fi.walk_mu);
    return rc;
}
