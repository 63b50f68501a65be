/* xsort.c - the external sorter (xsort.h): sorted runs of at most mem_cap bytes written
 * to an unlinked temporary file, merged through a binary heap at most BT_XSORT_FAN_IN at
 * a time (extra passes between two files while there are more runs), the last pass
 * dropping the duplicates and writing the final sequence that bt_xsort_at reads through
 * a window. No file at all while everything fits in one run. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/xsort.h"
#include "util/tmpfile.h"

#define RUN_BUF ((size_t)32 << 10)    /* per run being merged */
#define WINDOW ((size_t)64 << 10)     /* bt_xsort_at's */
#define WRITE_BUF ((size_t)256 << 10) /* stdio's buffer for a file being written */

typedef struct xrun {
    uint64_t first, n; /* in elements, in the file */
} xrun;

struct bt_xsort {
    size_t esz;
    bt_xsort_cmp cmp;
    size_t run_cap; /* elements in the in-memory run at most */
    char *mem;      /* the in-memory run; after finish, the final sequence if no file */
    size_t nmem, capmem;
    FILE *f; /* the runs; after finish, the final sequence (NULL: in memory) */
    char *fbuf; /* f's stdio buffer (owned; glibc ignores setvbuf's size without one) */
    xrun *runs;
    size_t nruns, capruns;
    size_t count; /* pushed; after finish, kept */
    size_t runs_written;
    unsigned passes;
    int finished;
    char *win; /* bt_xsort_at's window: elements [win_first, win_first + win_n) */
    size_t win_first, win_n;
};

/* One run being merged: elements [pos, end) of the file still to read, buf[bi..bn) read. */
typedef struct reader {
    uint64_t pos, end;
    char *buf;
    size_t bi, bn;
} reader;

int bt_xsort_new(size_t elem_size, bt_xsort_cmp cmp, size_t mem_cap, bt_xsort **out)
{
    bt_xsort *x;
    *out = NULL;
    if (!elem_size || !cmp)
        return BT_EINVAL;
    if (!(x = calloc(1, sizeof *x)))
        return BT_ENOMEM;
    x->esz = elem_size;
    x->cmp = cmp;
    x->run_cap = (mem_cap ? mem_cap : BT_XSORT_DEFAULT_CAP) / elem_size;
    if (x->run_cap < 2)
        x->run_cap = 2;
    *out = x;
    return 0;
}

void bt_xsort_free(bt_xsort *x)
{
    if (!x)
        return;
    free(x->mem);
    if (x->f)
        fclose(x->f);
    free(x->fbuf);
    free(x->runs);
    free(x->win);
    free(x);
}

/* Reads n bytes at off of fd into p, all of them. */
static int read_at(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n) {
        ssize_t got = pread(fd, c, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return BT_EIO;
        c += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

static int add_run(bt_xsort *x, uint64_t first, uint64_t n)
{
    if (bt_array_grow((void **)&x->runs, &x->capruns, x->nruns + 1, sizeof *x->runs, 16))
        return BT_ENOMEM;
    x->runs[x->nruns].first = first;
    x->runs[x->nruns].n = n;
    x->nruns++;
    return 0;
}

/* Sorts the in-memory run and appends it to the runs' file. */
static int write_run(bt_xsort *x)
{
    uint64_t first = x->nruns ? x->runs[x->nruns - 1].first + x->runs[x->nruns - 1].n : 0;
    if (!x->nmem)
        return 0;
    if (!x->f && !(x->f = bt_temp_file(WRITE_BUF, &x->fbuf)))
        return BT_EIO;
    qsort(x->mem, x->nmem, x->esz, x->cmp);
    if (fwrite(x->mem, x->esz, x->nmem, x->f) != x->nmem)
        return BT_EIO;
    if (add_run(x, first, x->nmem))
        return BT_ENOMEM;
    x->runs_written++;
    x->nmem = 0;
    return 0;
}

int bt_xsort_push(bt_xsort *x, const void *elem)
{
    int rc;
    if (x->finished)
        return BT_EINVAL;
    if (x->nmem == x->run_cap && (rc = write_run(x)))
        return rc;
    if (x->nmem == x->capmem) {
        /* grown by doubling up to the cap: a small sort never allocates the whole cap */
        size_t cap = x->capmem ? x->capmem * 2 : 256;
        char *v;
        if (cap > x->run_cap)
            cap = x->run_cap;
        if (!(v = realloc(x->mem, cap * x->esz)))
            return BT_ENOMEM;
        x->mem = v;
        x->capmem = cap;
    }
    memcpy(x->mem + x->nmem * x->esz, elem, x->esz);
    x->nmem++;
    x->count++;
    return 0;
}

/* ---- the merge ---- */

typedef struct merger {
    bt_xsort *x;
    int fd;
    reader *r;
    size_t *heap, nheap;
    size_t per_buf; /* elements per reader's buffer */
} merger;

/* Fills r's buffer from the file; 0 with r->bn == 0 at the run's end. */
static int refill(merger *m, reader *r)
{
    uint64_t left = r->end - r->pos;
    size_t n = left < m->per_buf ? (size_t)left : m->per_buf;
    r->bi = 0;
    r->bn = n;
    if (!n)
        return 0;
    if (read_at(m->fd, r->buf, n * m->x->esz, r->pos * m->x->esz))
        return BT_EIO;
    r->pos += n;
    return 0;
}

static const void *head_of(const merger *m, size_t k)
{
    const reader *r = &m->r[k];
    return r->buf + r->bi * m->x->esz;
}

/* Heap order: the smaller current element, and between equal ones the earlier run. */
static int before(const merger *m, size_t a, size_t b)
{
    int c = m->x->cmp(head_of(m, a), head_of(m, b));
    return c < 0 || (c == 0 && a < b);
}

static void sift_down(merger *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, s = i, t;
        if (l < m->nheap && before(m, m->heap[l], m->heap[s]))
            s = l;
        if (l + 1 < m->nheap && before(m, m->heap[l + 1], m->heap[s]))
            s = l + 1;
        if (s == i)
            return;
        t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

/* Merges runs rs[0..k) of m->fd into out (appending); *nout = elements written. With
 * same, drops each element same() pairs with the last one written. */
static int merge_runs(merger *m, const xrun *rs, size_t k, FILE *out, bt_xsort_same same,
                      char *prev, uint64_t *nout)
{
    size_t i, esz = m->x->esz;
    int have_prev = 0, rc;
    *nout = 0;
    m->nheap = 0;
    for (i = 0; i < k; i++) {
        m->r[i].pos = rs[i].first;
        m->r[i].end = rs[i].first + rs[i].n;
        if ((rc = refill(m, &m->r[i])))
            return rc;
        if (m->r[i].bn)
            m->heap[m->nheap++] = i;
    }
    for (i = m->nheap / 2; i-- > 0;)
        sift_down(m, i);
    while (m->nheap) {
        reader *r = &m->r[m->heap[0]];
        const char *e = r->buf + r->bi * esz;
        if (!(same && have_prev && same(prev, e))) {
            if (fwrite(e, esz, 1, out) != 1)
                return BT_EIO;
            if (same) {
                memcpy(prev, e, esz);
                have_prev = 1;
            }
            ++*nout;
        }
        if (++r->bi == r->bn && (rc = refill(m, r)))
            return rc;
        if (!r->bn)
            m->heap[0] = m->heap[--m->nheap];
        sift_down(m, 0);
    }
    return fflush(out) == 0 ? 0 : BT_EIO;
}

/* One pass: the runs merged BT_XSORT_FAN_IN at a time into a new file that replaces
 * x->f; the final pass (all runs at once) applies same. */
static int merge_pass(bt_xsort *x, merger *m, bt_xsort_same same, char *prev)
{
    char *obuf;
    FILE *out = bt_temp_file(WRITE_BUF, &obuf);
    xrun *old = x->runs;
    size_t nold = x->nruns, i;
    uint64_t at = 0;
    int final = nold <= BT_XSORT_FAN_IN, rc = 0;
    if (!out)
        return BT_EIO;
    x->runs = NULL;
    x->nruns = x->capruns = 0;
    m->fd = fileno(x->f);
    for (i = 0; i < nold && !rc; i += BT_XSORT_FAN_IN) {
        size_t k = nold - i < BT_XSORT_FAN_IN ? nold - i : BT_XSORT_FAN_IN;
        uint64_t n;
        if (!(rc = merge_runs(m, old + i, k, out, final ? same : NULL, prev, &n)))
            rc = add_run(x, at, n);
        at += n;
    }
    free(old);
    fclose(x->f); /* the pass's input, no longer needed: its disk space goes */
    free(x->fbuf);
    x->f = out;
    x->fbuf = obuf;
    x->passes++;
    return rc;
}

/* Merges the runs in x->f until one is left: the final sequence. */
static int merge_all(bt_xsort *x, bt_xsort_same same)
{
    merger m;
    char *bufs = NULL, *prev = malloc(x->esz);
    size_t i;
    int rc = BT_ENOMEM;
    memset(&m, 0, sizeof m);
    m.x = x;
    m.per_buf = RUN_BUF / x->esz ? RUN_BUF / x->esz : 1;
    m.r = calloc(BT_XSORT_FAN_IN, sizeof *m.r);
    m.heap = calloc(BT_XSORT_FAN_IN, sizeof *m.heap);
    if (prev && m.r && m.heap)
        bufs = malloc(BT_XSORT_FAN_IN * m.per_buf * x->esz);
    if (!bufs)
        goto done;
    for (i = 0; i < BT_XSORT_FAN_IN; i++)
        m.r[i].buf = bufs + i * m.per_buf * x->esz;
    rc = fflush(x->f) == 0 ? 0 : BT_EIO;
    while (!rc && (x->passes == 0 || x->nruns > 1))
        rc = merge_pass(x, &m, same, prev);
    if (!rc)
        x->count = x->nruns ? (size_t)x->runs[0].n : 0;
done:
    free(bufs);
    free(m.r);
    free(m.heap);
    free(prev);
    return rc;
}

int bt_xsort_finish(bt_xsort *x, bt_xsort_same same)
{
    size_t i, n = 0;
    int rc;
    if (x->finished)
        return BT_EINVAL;
    x->finished = 1;
    if (x->f) {
        /* runs were written: the last one too, then the merge, in bounded memory */
        rc = write_run(x);
        free(x->mem);
        x->mem = NULL;
        x->capmem = 0;
        if (rc || (rc = merge_all(x, same)))
            x->count = 0; /* nothing to read */
        return rc;
    }
    if (x->nmem)
        qsort(x->mem, x->nmem, x->esz, x->cmp);
    for (i = 0; i < x->nmem; i++) {
        char *e = x->mem + i * x->esz, *p = n ? x->mem + (n - 1) * x->esz : NULL;
        if (p && same && same(p, e))
            continue;
        if (e != x->mem + n * x->esz)
            memcpy(x->mem + n * x->esz, e, x->esz);
        n++;
    }
    x->nmem = x->count = n;
    return 0;
}

size_t bt_xsort_count(const bt_xsort *x)
{
    return x->count;
}

int bt_xsort_at(bt_xsort *x, size_t i, void *out)
{
    if (!x->finished || i >= x->count)
        return BT_EINVAL;
    if (!x->f) {
        memcpy(out, x->mem + i * x->esz, x->esz);
        return 0;
    }
    if (i < x->win_first || i >= x->win_first + x->win_n) {
        /* a window from i on: reading in order costs one read per window */
        size_t cap = WINDOW / x->esz ? WINDOW / x->esz : 1;
        size_t n = x->count - i < cap ? x->count - i : cap;
        if (!x->win && !(x->win = malloc(cap * x->esz)))
            return BT_ENOMEM;
        x->win_n = 0;
        if (read_at(fileno(x->f), x->win, n * x->esz, (uint64_t)i * x->esz))
            return BT_EIO;
        x->win_first = i;
        x->win_n = n;
    }
    memcpy(out, x->win + (i - x->win_first) * x->esz, x->esz);
    return 0;
}

void bt_xsort_stats(const bt_xsort *x, size_t *runs, unsigned *passes)
{
    *runs = x->runs_written;
    *passes = x->passes;
}
