/* spool.c - records put back in order in bounded memory (spool.h): per kind, a stage in
 * memory that becomes a sorted run of the temporary file when full, an external sorter
 * of the entries, and read windows that merge the runs front to back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Staged records of one kind: their bytes in buf, each entry's off into it. */
typedef struct stage {
    bt_buf buf;
    bt_spool_ent *e;
    size_t n, cap;
    bool in_memory; /* finished without a run in the file: offsets are into buf */
    bool finished;
    bt_xsort *sort; /* NULL once released */
} stage;

/* A run of the file, [start, end), and its read window. */
typedef struct run {
    uint64_t start, end;
    uint64_t woff; /* where win starts in the file */
    bt_buf win;
} run;

struct bt_spool {
    bt_spool_opts o;
    FILE *f;   /* the runs (unlinked temporary), made at the first */
    char *fbuf; /* its stdio buffer */
    uint64_t len;
    run *runs; /* in file order */
    size_t nruns, capruns;
    int dirty; /* written since the last flush */
    stage st[BT_SPOOL_MAX_KINDS];
};

int bt_spool_new(const bt_spool_opts *o, bt_spool **out)
{
    bt_spool *sp;
    size_t k;
    *out = NULL;
    if (!o || !o->cmp || o->kinds > BT_SPOOL_MAX_KINDS)
        return BT_EINVAL;
    if (!(sp = calloc(1, sizeof *sp)))
        return BT_ENOMEM;
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
    if (sp->f)
        fclose(sp->f);
    free(sp->fbuf);
    for (i = 0; i < sp->nruns; i++)
        bt_buf_dispose(&sp->runs[i].win);
    free(sp->runs);
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

int bt_spool_flush(bt_spool *sp, int kind)
{
    stage *g = kind_of(sp, kind);
    run *r;
    size_t i, kept = 0;
    int rc;
    if (!g || !g->sort)
        return BT_EINVAL;
    if (!g->n)
        return 0;
    if (!sp->f && !(sp->f = bt_temp_file(WRITE_BUF, &sp->fbuf)))
        return BT_EIO;
    if (bt_array_grow((void **)&sp->runs, &sp->capruns, sp->nruns + 1, sizeof *sp->runs, 16))
        return BT_ENOMEM;
    qsort(g->e, g->n, sizeof *g->e, sp->o.cmp);
    r = &sp->runs[sp->nruns];
    memset(r, 0, sizeof *r);
    r->start = r->end = r->woff = sp->len;
    sp->nruns++;
    for (i = 0; i < g->n; i++) {
        bt_spool_ent x = g->e[i];
        if (sp->o.keep) { /* the run's first keep distinct entries */
            bool same = i && sp->o.same && sp->o.same(&g->e[i - 1], &x);
            if (!same && kept == sp->o.keep)
                break;
            kept += !same;
        }
        if (x.len && fwrite(g->buf.data + x.off, 1, x.len, sp->f) != x.len)
            return BT_EIO;
        x.off = sp->len;
        sp->len += x.len;
        if ((rc = bt_xsort_push(g->sort, &x)))
            return rc;
    }
    r->end = sp->len;
    sp->dirty = 1;
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
    if (sp->nruns) { /* runs in the file (of any kind): this one joins them */
        if ((rc = bt_spool_flush(sp, kind)))
            return rc;
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
    bt_xsort_free(g->sort);
    g->sort = NULL;
    bt_buf_dispose(&g->buf);
    free(g->e);
    g->e = NULL;
    g->n = g->cap = 0;
}

void bt_spool_stats(const bt_spool *sp, uint64_t *bytes, size_t *runs)
{
    *bytes = sp->len;
    *runs = sp->nruns;
}
