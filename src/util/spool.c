/* spool.c - records put back in order in bounded memory (spool.h): per kind, a stage in
 * memory that becomes a sorted run of the temporary file when full, an external sorter
 * of the entries, and read windows that merge the runs front to back. Compressed runs
 * are sorted, compressed and written by a writer thread while the caller stages the
 * next (one run in flight: two stages' memory at most). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/spool.h"
#include "util/tmpfile.h"

/* The memory all runs' read windows share, and the bounds of one: 1 GB of records in
 * 171 runs reads through 48 KiB windows. */
#define WINDOW_BUDGET ((size_t)8 << 20)
#define WINDOW_MIN ((size_t)16 << 10)
#define WINDOW_MAX ((size_t)256 << 10)
#define WRITE_BUF ((size_t)1 << 20) /* few, large writes */
/* Compressed runs: frames of whole records, closed past FRAME_RAW bytes (a larger record
 * is a frame of its own), each behind a header of its compressed and raw sizes. On 64
 * KiB of CloudTrail JSON, zstd's level -3 gives x4.9 at 900 MB/s compressing and 2.5 GB/s
 * decompressing (level 1: x6.6, 650 MB/s, 2 GB/s); the writer thread is a third thread
 * on two cores, so the faster level: `search --from` of 1M records 3.04-3.13 s with a
 * 237 MB file, against 3.41-3.51 s and 174 MB at level 1. */
#define FRAME_RAW ((size_t)64 << 10)
#define FRAME_LEVEL (-3)

/* Staged records of one kind: their bytes in buf, each entry's off into it. */
typedef struct stage {
    bt_buf buf;
    bt_spool_ent *e;
    size_t n, cap;
    bool in_memory; /* finished without a run in the file: offsets are into buf */
    bool finished;
    bt_xsort *sort; /* NULL once released */
} stage;

/* A full stage handed to the writer thread (or its buffers, kept for reuse). */
typedef struct job {
    int kind;
    bt_buf buf;
    bt_spool_ent *e;
    size_t n, cap;
} job;

/* A run: its records at [start, end) of the spool's logical bytes (the file's own, when
 * not compressed), its frames at [fstart, fend) of the file, and its read window. */
typedef struct run {
    uint64_t start, end;
    uint64_t fstart, fend;
    uint64_t woff;  /* the logical offset win starts at */
    uint64_t fnext; /* compressed: the next frame to read, in the file */
    bt_buf win;
} run;

struct bt_spool {
    bt_spool_opts o;
    FILE *f;       /* the runs (unlinked temporary), made at the first */
    char *fbuf;    /* its stdio buffer */
    uint64_t len;  /* logical bytes of records written */
    uint64_t flen; /* bytes of the file */
    run *runs;     /* in file order */
    size_t nruns, capruns;
    int dirty; /* written since the last flush */
    stage st[BT_SPOOL_MAX_KINDS];
    /* compressed runs */
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    bt_buf frame, zbuf; /* the frame being written; compressed bytes either way */
    bt_buf rzbuf;       /* compressed bytes read (the caller's thread) */
    /* the writer thread (compressed runs): everything above that a run writes (the
     * file, len, flen, runs, the sorters, frame and zbuf) is its own while a job is
     * pending or busy; the caller waits for it to be idle before reading or writing */
    pthread_t th;
    bool th_on, has_job, busy, quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job pending, spare;
    int werr; /* the writer's first error, returned by the next call */
};

int bt_spool_cmp_time_key(const void *a, const void *b)
{
    const bt_spool_ent *x = a, *y = b;
    int c;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    if ((c = strcmp(x->key, y->key)))
        return c;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int bt_spool_same_time_key(const void *prev, const void *cur)
{
    const bt_spool_ent *p = prev, *x = cur;
    return *x->key && p->time_ms == x->time_ms && strcmp(p->key, x->key) == 0;
}

int bt_spool_new(const bt_spool_opts *o, bt_spool **out)
{
    bt_spool *sp;
    size_t k;
    *out = NULL;
    if (!o || !o->cmp || o->kinds > BT_SPOOL_MAX_KINDS)
        return BT_EINVAL;
    if (!(sp = calloc(1, sizeof *sp)))
        return BT_ENOMEM;
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->cv, NULL);
    sp->o = *o;
    if (!sp->o.kinds)
        sp->o.kinds = 1;
    if (!sp->o.stage_cap)
        sp->o.stage_cap = BT_SPOOL_STAGE_CAP;
    for (k = 0; k < sp->o.kinds; k++)
        if (bt_xsort_new(sizeof(bt_spool_ent), sp->o.cmp,
                         sp->o.sort_cap ? sp->o.sort_cap : BT_SPOOL_SORT_CAP, &sp->st[k].sort)) {
            bt_spool_free(sp);
            return BT_ENOMEM;
        }
    *out = sp;
    return 0;
}

void bt_spool_free(bt_spool *sp)
{
    size_t i;
    if (!sp)
        return;
    if (sp->th_on) {
        pthread_mutex_lock(&sp->mu);
        sp->quit = true;
        pthread_cond_broadcast(&sp->cv);
        pthread_mutex_unlock(&sp->mu);
        pthread_join(sp->th, NULL);
    }
    pthread_mutex_destroy(&sp->mu);
    pthread_cond_destroy(&sp->cv);
    bt_buf_dispose(&sp->pending.buf);
    free(sp->pending.e);
    bt_buf_dispose(&sp->spare.buf);
    free(sp->spare.e);
    bt_buf_dispose(&sp->rzbuf);
    if (sp->f)
        fclose(sp->f);
    free(sp->fbuf);
    for (i = 0; i < sp->nruns; i++)
        bt_buf_dispose(&sp->runs[i].win);
    free(sp->runs);
    ZSTD_freeCCtx(sp->zc);
    ZSTD_freeDCtx(sp->zd);
    bt_buf_dispose(&sp->frame);
    bt_buf_dispose(&sp->zbuf);
    for (i = 0; i < BT_SPOOL_MAX_KINDS; i++) {
        bt_buf_dispose(&sp->st[i].buf);
        free(sp->st[i].e);
        bt_xsort_free(sp->st[i].sort);
    }
    free(sp);
}

static stage *kind_of(const bt_spool *sp, int kind)
{
    return kind >= 0 && (size_t)kind < sp->o.kinds ? (stage *)&sp->st[kind] : NULL;
}

/* Compressed runs: the frame being written, compressed, to the file. */
static int frame_out(bt_spool *sp)
{
    uint32_t hdr[2];
    size_t bound = ZSTD_compressBound(sp->frame.len), n;
    if (!sp->frame.len)
        return 0;
    if (!sp->zc && !(sp->zc = ZSTD_createCCtx()))
        return BT_ENOMEM;
    bt_buf_clear(&sp->zbuf);
    if (bt_buf_reserve(&sp->zbuf, bound))
        return BT_ENOMEM;
    n = ZSTD_compressCCtx(sp->zc, sp->zbuf.data, bound, sp->frame.data, sp->frame.len, FRAME_LEVEL);
    if (ZSTD_isError(n))
        return BT_ENOMEM;
    hdr[0] = (uint32_t)n;
    hdr[1] = (uint32_t)sp->frame.len;
    if (fwrite(hdr, sizeof hdr, 1, sp->f) != 1 || fwrite(sp->zbuf.data, 1, n, sp->f) != n)
        return BT_EIO;
    sp->flen += sizeof hdr + n;
    bt_buf_clear(&sp->frame);
    return 0;
}

/* One record of a run to the file (or, compressed, to the frame being written). */
static int record_out(bt_spool *sp, const char *p, size_t len)
{
    int rc;
    if (!sp->o.compress) {
        if (len && fwrite(p, 1, len, sp->f) != len)
            return BT_EIO;
        sp->flen += len;
        return 0;
    }
    if (sp->frame.len && sp->frame.len + len > FRAME_RAW && (rc = frame_out(sp)))
        return rc;
    return len && bt_buf_append(&sp->frame, p, len) ? BT_ENOMEM : 0;
}

/* Sorts the n entries e of kind (their records in buf) and writes them as one run. */
static int write_run(bt_spool *sp, int kind, const bt_buf *buf, bt_spool_ent *e, size_t n)
{
    stage *g = &sp->st[kind];
    run *r;
    size_t i, kept = 0;
    int rc;
    if (!sp->f && !(sp->f = bt_temp_file(WRITE_BUF, &sp->fbuf)))
        return BT_EIO;
    if (bt_array_grow((void **)&sp->runs, &sp->capruns, sp->nruns + 1, sizeof *sp->runs, 16))
        return BT_ENOMEM;
    qsort(e, n, sizeof *e, sp->o.cmp);
    r = &sp->runs[sp->nruns];
    memset(r, 0, sizeof *r);
    r->start = r->end = r->woff = sp->len;
    r->fstart = r->fnext = sp->flen;
    sp->nruns++;
    for (i = 0; i < n; i++) {
        bt_spool_ent x = e[i];
        if (sp->o.keep) { /* the run's first keep distinct entries */
            bool same = i && sp->o.same && sp->o.same(&e[i - 1], &x);
            if (!same && kept == sp->o.keep)
                break;
            kept += !same;
        }
        if ((rc = record_out(sp, buf->data + x.off, x.len)))
            return rc;
        x.off = sp->len;
        sp->len += x.len;
        if ((rc = bt_xsort_push(g->sort, &x)))
            return rc;
    }
    if (sp->o.compress && (rc = frame_out(sp)))
        return rc;
    r->end = sp->len;
    r->fend = sp->flen;
    sp->dirty = 1;
    return 0;
}

static void *writer_main(void *arg)
{
    bt_spool *sp = arg;
    pthread_mutex_lock(&sp->mu);
    for (;;) {
        job j;
        int rc;
        while (!sp->has_job && !sp->quit)
            pthread_cond_wait(&sp->cv, &sp->mu);
        if (sp->quit)
            break;
        j = sp->pending;
        memset(&sp->pending, 0, sizeof sp->pending);
        sp->has_job = false;
        sp->busy = true;
        pthread_mutex_unlock(&sp->mu);
        rc = sp->werr ? 0 : write_run(sp, j.kind, &j.buf, j.e, j.n);
        bt_buf_clear(&j.buf);
        j.n = 0;
        pthread_mutex_lock(&sp->mu);
        if (rc && !sp->werr)
            sp->werr = rc;
        if (!sp->spare.e && !sp->spare.buf.data) { /* its buffers serve the next stage */
            sp->spare = j;
        } else {
            bt_buf_dispose(&j.buf);
            free(j.e);
        }
        sp->busy = false;
        pthread_cond_broadcast(&sp->cv);
    }
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

/* Waits until the writer thread has nothing pending or running; its first error. */
static int wait_idle(bt_spool *sp)
{
    int rc;
    if (!sp->th_on)
        return sp->werr;
    pthread_mutex_lock(&sp->mu);
    while (sp->has_job || sp->busy)
        pthread_cond_wait(&sp->cv, &sp->mu);
    rc = sp->werr;
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int bt_spool_flush(bt_spool *sp, int kind)
{
    stage *g = kind_of(sp, kind);
    bt_buf buf;
    bt_spool_ent *e;
    size_t cap;
    int rc;
    if (!g || !g->sort)
        return BT_EINVAL;
    if (!g->n)
        return 0;
    if ((rc = wait_idle(sp))) /* one run in flight at a time */
        return rc;
    if (sp->o.compress && !sp->th_on)
        sp->th_on = pthread_create(&sp->th, NULL, writer_main, sp) == 0;
    if (!sp->th_on) { /* in this thread */
        if ((rc = write_run(sp, kind, &g->buf, g->e, g->n)))
            return rc;
        g->n = 0;
        bt_buf_clear(&g->buf);
        return 0;
    }
    /* the full stage to the writer; the stage goes on in the last run's buffers */
    pthread_mutex_lock(&sp->mu);
    buf = sp->spare.buf;
    e = sp->spare.e;
    cap = sp->spare.cap;
    memset(&sp->spare, 0, sizeof sp->spare);
    sp->pending.kind = kind;
    sp->pending.buf = g->buf;
    sp->pending.e = g->e;
    sp->pending.n = g->n;
    sp->pending.cap = g->cap;
    sp->has_job = true;
    pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
    g->buf = buf;
    g->e = e;
    g->cap = cap;
    g->n = 0;
    bt_buf_clear(&g->buf);
    return 0;
}

int bt_spool_put(bt_spool *sp, int kind, bt_spool_ent *x, const void *p, size_t len, bool hold)
{
    stage *g = kind_of(sp, kind);
    if (!g || !g->sort || g->finished || len > UINT32_MAX)
        return BT_EINVAL;
    if (bt_array_grow((void **)&g->e, &g->cap, g->n + 1, sizeof *g->e, 256))
        return BT_ENOMEM;
    x->off = g->buf.len;
    x->len = (uint32_t)len;
    if (len && bt_buf_append(&g->buf, p, len))
        return BT_ENOMEM;
    g->e[g->n++] = *x;
    return g->buf.len >= sp->o.stage_cap && !hold ? bt_spool_flush(sp, kind) : 0;
}

size_t bt_spool_staged(const bt_spool *sp, int kind)
{
    const stage *g = kind_of(sp, kind);
    return g ? g->buf.len : 0;
}

int bt_spool_drain(bt_spool *sp, int kind, int64_t below,
                   int (*fn)(void *ctx, const bt_spool_ent *x, const char *rec), void *ctx)
{
    stage *g = kind_of(sp, kind);
    bt_buf rest = BT_BUF_INIT;
    size_t i, k;
    int rc = 0;
    if (!g)
        return BT_EINVAL;
    if (!g->n)
        return 0;
    qsort(g->e, g->n, sizeof *g->e, sp->o.cmp);
    /* i counts those handed over, the one that stopped it included */
    for (i = 0; i < g->n && g->e[i].time_ms < below && !rc; i++)
        rc = fn(ctx, &g->e[i], g->buf.data + g->e[i].off);
    if (i == g->n) {
        g->n = 0;
        bt_buf_clear(&g->buf);
        return rc;
    }
    for (k = 0; i < g->n; i++, k++) { /* the rest to the front, in their order */
        bt_spool_ent x = g->e[i];
        if (bt_buf_append(&rest, g->buf.data + x.off, x.len)) {
            bt_buf_dispose(&rest);
            return BT_ENOMEM;
        }
        x.off = rest.len - x.len;
        g->e[k] = x;
    }
    g->n = k;
    bt_buf_dispose(&g->buf);
    g->buf = rest;
    return rc;
}

int bt_spool_finish(bt_spool *sp, int kind, bt_xsort_same same)
{
    stage *g = kind_of(sp, kind);
    size_t i;
    int rc;
    if (!g || !g->sort || g->finished)
        return BT_EINVAL;
    if ((rc = wait_idle(sp)))
        return rc;
    if (sp->nruns) { /* runs in the file (of any kind): this one joins them */
        if (g->n && (rc = write_run(sp, kind, &g->buf, g->e, g->n)))
            return rc;
        g->n = 0;
        bt_buf_clear(&g->buf);
    } else {
        g->in_memory = true;
        for (i = 0; i < g->n; i++)
            if ((rc = bt_xsort_push(g->sort, &g->e[i])))
                return rc;
        g->n = 0;
    }
    g->finished = true;
    return bt_xsort_finish(g->sort, same);
}

size_t bt_spool_count(const bt_spool *sp, int kind)
{
    const stage *g = kind_of(sp, kind);
    return g && g->sort && g->finished ? bt_xsort_count(g->sort) : 0;
}

/* Compressed runs: the record (off, len) of run r in *p, from the frame that holds it
 * (records never straddle frames). Frames are read forward from the window's; a record
 * before the window restarts the run from its first frame. */
static int frame_ref(bt_spool *sp, run *r, uint64_t off, uint32_t len, const char **p)
{
    if (off < r->woff) { /* behind: from the run's start again */
        r->woff = r->start;
        r->fnext = r->fstart;
        bt_buf_clear(&r->win);
    }
    while (off + len > r->woff + r->win.len || off < r->woff) {
        uint32_t hdr[2];
        size_t n;
        if (r->fnext + sizeof hdr > r->fend ||
            pread(fileno(sp->f), hdr, sizeof hdr, (off_t)r->fnext) != (ssize_t)sizeof hdr ||
            r->fnext + sizeof hdr + hdr[0] > r->fend)
            return BT_EIO;
        if (!sp->zd && !(sp->zd = ZSTD_createDCtx()))
            return BT_ENOMEM;
        bt_buf_clear(&sp->rzbuf);
        r->woff += r->win.len; /* the next frame's records follow the window's */
        bt_buf_clear(&r->win);
        if (bt_buf_reserve(&sp->rzbuf, hdr[0]) || bt_buf_reserve(&r->win, (size_t)hdr[1] + 1))
            return BT_ENOMEM;
        if (pread(fileno(sp->f), sp->rzbuf.data, hdr[0], (off_t)(r->fnext + sizeof hdr)) !=
            (ssize_t)hdr[0])
            return BT_EIO;
        n = ZSTD_decompressDCtx(sp->zd, r->win.data, hdr[1], sp->rzbuf.data, hdr[0]);
        if (ZSTD_isError(n) || n != hdr[1])
            return BT_EIO;
        r->win.len = n;
        r->fnext += sizeof hdr + hdr[0];
    }
    *p = r->win.data + (off - r->woff);
    return 0;
}

/* Where the record (off, len) of kind lies in memory, in *p (valid until the next call):
 * in the stage when the kind stayed in memory, else in its run's read window, moved on
 * when the record is not in it. Reading in each run's order moves every window front to
 * back, so each byte is read once. */
static int ref(bt_spool *sp, const stage *g, uint64_t off, uint32_t len, const char **p)
{
    run *r;
    size_t lo = 0, hi = sp->nruns;
    if (g->in_memory) {
        if (off + len > g->buf.len)
            return BT_EIO;
        *p = g->buf.data ? g->buf.data + off : "";
        return 0;
    }
    if (sp->dirty) {
        if (fflush(sp->f) != 0)
            return BT_EIO;
        sp->dirty = 0;
    }
    while (hi - lo > 1) { /* the last run starting at or before off */
        size_t mid = lo + (hi - lo) / 2;
        if (sp->runs[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (!sp->nruns || off < sp->runs[lo].start || off + len > sp->runs[lo].end)
        return BT_EIO;
    r = &sp->runs[lo];
    if (sp->o.compress)
        return frame_ref(sp, r, off, len, p);
    if (off < r->woff || off + len > r->woff + r->win.len) {
        size_t per = WINDOW_BUDGET / sp->nruns, want;
        ssize_t got;
        per = per < WINDOW_MIN ? WINDOW_MIN : per > WINDOW_MAX ? WINDOW_MAX : per;
        want = (size_t)(r->end - off) < per ? (size_t)(r->end - off) : per;
        if (want < len)
            want = len;
        bt_buf_clear(&r->win);
        if (bt_buf_reserve(&r->win, want + 1))
            return BT_ENOMEM;
        got = pread(fileno(sp->f), r->win.data, want, (off_t)off);
        if (got < (ssize_t)len)
            return BT_EIO;
        r->win.len = (size_t)got;
        r->woff = off;
    }
    *p = r->win.data + (off - r->woff);
    return 0;
}

int bt_spool_at(bt_spool *sp, int kind, size_t i, bt_spool_ent *x, const char **rec)
{
    stage *g = kind_of(sp, kind);
    bt_spool_ent e;
    int rc;
    if (!g || !g->sort || !g->finished)
        return BT_EINVAL;
    if ((rc = wait_idle(sp))) /* (the writer may be writing another kind's run) */
        return rc;
    if ((rc = bt_xsort_at(g->sort, i, &e)))
        return rc;
    if (x)
        *x = e;
    return ref(sp, g, e.off, e.len, rec);
}

void bt_spool_release(bt_spool *sp, int kind)
{
    stage *g = kind_of(sp, kind);
    if (!g)
        return;
    wait_idle(sp);
    bt_xsort_free(g->sort);
    g->sort = NULL;
    bt_buf_dispose(&g->buf);
    free(g->e);
    g->e = NULL;
    g->n = g->cap = 0;
}

void bt_spool_stats(bt_spool *sp, uint64_t *bytes, uint64_t *file_bytes, size_t *runs)
{
    wait_idle(sp);
    *bytes = sp->len;
    if (file_bytes)
        *file_bytes = sp->flen;
    *runs = sp->nruns;
}
