/*
 * sqlite_walk.c - the block walk (see sqlite_int.h, bwalk): the searches in time order
 * that read the blocks their summaries place in the search's window, class by class of
 * their span, merging the rows of the blocks they open (each block's rows read through
 * SQL, or taken from its time directory as the walk goes), for bt_store_search
 * (sqlite_read.c). The layout it reads is described in sqlite.c and docs/store.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/store.h"
#include "store/bloom.h"
#include "store/sqlite_int.h"
#include "util/tsort.h"

/* The rows of one range of a block that pass the search, sorted in the walk's order;
 * the walk merges these runs (k-way, a heap of runs by their next row) instead of
 * keeping every row of the open blocks in one heap (a hunt over 1M events: some 14,000
 * rows, each moved 14 levels a time). */
typedef struct wrun {
    srow *r;
    size_t i, n;
    /* or a block's time directory, read as the walk goes (walk_open_times): its rows
     * ascending (te), tn of them, ti taken so far (from the end, newest first); r[0] is
     * the next row in walk order, lo the block's first id */
    bt_tdir_ent *te;
    size_t ti, tn;
    int64_t lo;
} wrun;

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* 1 when a comes before b in the walk's order. */
static int row_before(const bwalk *w, const srow *a, const srow *b)
{
    if (a->t != b->t)
        return w->desc ? a->t > b->t : a->t < b->t;
    return w->desc ? a->id > b->id : a->id < b->id;
}

/* The walk's order, as row_before gives it, for its sorts (ids are unique). */
static int less_row_asc(const srow *a, const srow *b)
{
    return a->t != b->t ? a->t < b->t : a->id < b->id;
}
BT_TSORT_DEFINE(sort_rows_asc, srow, less_row_asc)

static int less_row_desc(const srow *a, const srow *b)
{
    return less_row_asc(b, a);
}
BT_TSORT_DEFINE(sort_rows_desc, srow, less_row_desc)

static const srow *run_head(const wrun *r)
{
    return &r->r[r->i];
}

/* Sifts the run at place i of the heap down to its place. */
static void walk_sift(bwalk *w, size_t i)
{
    wrun last = w->heap[i];
    size_t c;
    while ((c = 2 * i + 1) < w->n) {
        if (c + 1 < w->n && row_before(w, run_head(&w->heap[c + 1]), run_head(&w->heap[c])))
            c++;
        if (!row_before(w, run_head(&w->heap[c]), run_head(&last)))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    w->heap[i] = last;
}

/* Adds the run r (its first row at hand) to the heap; on failure frees it. */
static int walk_add_run(bwalk *w, wrun r)
{
    size_t i, p;
    void *v = w->heap;
    if (bt_array_grow(&v, &w->cap, w->n + 1, sizeof *w->heap, 64)) {
        free(r.r);
        free(r.te);
        return BT_ENOMEM;
    }
    w->heap = v;
    for (i = w->n++; i > 0 && row_before(w, run_head(&r), run_head(&w->heap[p = (i - 1) / 2]));
         i = p)
        w->heap[i] = w->heap[p];
    w->heap[i] = r;
    return 0;
}

/* Sorts the rows walk_range collected (w->rows; sorted: in walk order already) into a
 * run and adds it to the heap. */
static int walk_push_run(bwalk *w, int sorted)
{
    wrun r;
    if (!w->nrows)
        return 0;
    if (!sorted)
        (w->desc ? sort_rows_desc : sort_rows_asc)(w->rows, w->nrows);
    memset(&r, 0, sizeof r);
    if (!(r.r = malloc(w->nrows * sizeof *r.r)))
        return BT_ENOMEM;
    memcpy(r.r, w->rows, w->nrows * sizeof *r.r);
    r.n = w->nrows;
    w->nrows = 0;
    return walk_add_run(w, r);
}

/* Makes r->r[0] the next row of the time directory run r that lies in the search's
 * window and after its position, unread (kind -1: walk_fill reads it); 0 when none is
 * left. */
static int run_next_time(const bwalk *w, wrun *r)
{
    const bt_store_pos *a = w->after;
    while (r->ti < r->tn) {
        const bt_tdir_ent *e = &r->te[w->desc ? r->tn - 1 - r->ti : r->ti];
        int64_t t = e->t, id = r->lo + (int64_t)e->place;
        r->ti++;
        if (t < w->tlo || t > w->thi)
            continue;
        if (a && (w->desc ? !(t < a->time_ms || (t == a->time_ms && id < a->seq))
                          : !(t > a->time_ms || (t == a->time_ms && id > a->seq))))
            continue;
        r->r[0].t = t;
        r->r[0].id = id;
        return 1;
    }
    return 0;
}

/* Hands out the first row of the first run. */
static void walk_pop(bwalk *w, srow *out)
{
    wrun *top = &w->heap[0];
    int done;
    *out = top->r[top->i];
    if (top->te)
        done = !run_next_time(w, top);
    else
        done = ++top->i == top->n;
    if (done) {
        free(top->r);
        free(top->te);
        if (--w->n == 0)
            return;
        w->heap[0] = w->heap[w->n];
    }
    walk_sift(w, 0);
}

/* A cached block and the next row the walk wants of it. */
typedef struct slot_use {
    int slot;
    int64_t t, id; /* its next row's time and id, negated for a newest-first walk */
} slot_use;

/* Later use first (qsort has no context argument: the walk's direction is in the keys,
 * so concurrent walks on other stores share nothing). */
static int cmp_use(const void *x, const void *y)
{
    const slot_use *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? 1 : -1;
    return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/*
 * Between chunks of a walk, ranks the block cache by what the walk will want: a block it
 * wants nothing more of looks least recently used, and the others in the order of their
 * next row, the one wanted last the oldest, so eviction takes what is wanted furthest
 * ahead. LRU alone evicted blocks whose later rows were still to come, a block that
 * holds a few late events as well as its slice of time most of all, and decompressed
 * them again (a hunt over 1M events: 7,000-8,000 reads of its 3,007 blocks). Every block
 * a chunk then reads gets a newer age than these, so none of them leaves before its
 * chunk is delivered (chunk_records).
 */
void walk_rank_cache(bt_store *s, const bwalk *w)
{
    slot_use use[BLOCK_CACHE_SCAN];
    size_t i, nuse = 0;
    int k;
    for (k = 0; k < s->cache_n; k++) {
        const srow *next = NULL;
        if (!s->cache[k].data.data)
            continue;
        for (i = 0; i < w->n; i++) {
            const srow *h = run_head(&w->heap[i]);
            if (h->blk == s->cache[k].id && (!next || row_before(w, h, next)))
                next = h;
        }
        if (!next) {
            s->cache[k].age = 0;
            continue;
        }
        use[nuse].slot = k;
        use[nuse].t = w->desc ? -next->t : next->t;
        use[nuse++].id = w->desc ? -next->id : next->id;
    }
    qsort(use, nuse, sizeof *use, cmp_use);
    for (i = 0; i < nuse; i++)
        s->cache[use[i].slot].age = ++s->tick;
}

/* The time directory of the next block (btime) into w->tdir. */
static int walk_tdir(bt_store *s, bwalk *w, bt_error *err)
{
    int rc, step;
    if ((rc = prep(s, &s->st_tdir, "SELECT tdir FROM btime WHERE blk = ?", err)))
        return rc;
    sqlite3_bind_int64(s->st_tdir, 1, w->nblk);
    step = sqlite3_step(s->st_tdir);
    if (step == SQLITE_ROW && bt_buf_append(&w->tdir, sqlite3_column_blob(s->st_tdir, 0),
                                            (size_t)sqlite3_column_bytes(s->st_tdir, 0)))
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    else if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_err_code(s, err, "query", step);
    sqlite3_reset(s->st_tdir);
    return rc;
}

/* Steps class c to its next block (c->have 0 past its last). */
static int class_step(bt_store *s, const bwalk *w, wclass *c, bt_error *err)
{
    int step = sqlite3_step(c->st);
    c->have = step == SQLITE_ROW;
    if (c->have) {
        c->key = sqlite3_column_int64(c->st, w->desc ? 4 : 3);
        c->blk = sqlite3_column_int64(c->st, 0);
        return 0;
    }
    return step == SQLITE_DONE ? 0 : db_err_code(s, err, "query", step);
}

/* Moves to the next block in walk order (the first of the classes' next blocks) whose
 * name set may hold one of the search's names. */
static int walk_advance(bt_store *s, bwalk *w, bt_error *err)
{
    int rc;
    w->have_next = 0;
    for (;;) {
        wclass *c = NULL;
        sqlite3_stmt *st;
        int k;
        for (k = 0; k < w->ncls; k++) {
            wclass *x = &w->cls[k];
            if (x->have &&
                (!c || (w->desc ? x->key > c->key || (x->key == c->key && x->blk > c->blk)
                                : x->key < c->key || (x->key == c->key && x->blk < c->blk))))
                c = x;
        }
        if (!c)
            return 0;
        st = c->st;
        if (w->q->prune &&
            !bt_nset_has_any(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5),
                             w->q->names, w->q->nnames)) {
            if ((rc = class_step(s, w, c, err)))
                return rc;
            continue;
        }
        w->nblk = sqlite3_column_int64(st, 0);
        w->nlo = sqlite3_column_int64(st, 1);
        w->nhi = sqlite3_column_int64(st, 2);
        w->nt0 = sqlite3_column_int64(st, 3);
        w->nt1 = sqlite3_column_int64(st, 4);
        w->nn = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
        bt_buf_clear(&w->ndir);
        bt_buf_clear(&w->nset);
        if (w->q->prune && sqlite3_column_bytes(st, 7) > 0 &&
            (bt_buf_append(&w->ndir, sqlite3_column_blob(st, 7),
                           (size_t)sqlite3_column_bytes(st, 7)) ||
             bt_buf_append(&w->nset, sqlite3_column_blob(st, 5),
                           (size_t)sqlite3_column_bytes(st, 5))))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        w->have_next = 1;
        return class_step(s, w, c, err);
    }
}

/* The walk's query's row at st into r: its kind, place and name (its id, time and block
 * the caller has). */
static void row_place(sqlite3_stmt *st, srow *r)
{
    r->kind = sqlite3_column_int(st, 2);
    r->off = sqlite3_column_int64(st, 4);
    r->len = sqlite3_column_int64(st, 5);
    r->name = sqlite3_column_int64(st, 7);
}

/* Adds the rows of block blk with ids lo..hi (n of them, or -1 when unknown) that pass
 * the search to the heap. Every row in the range is read (its last column says whether
 * it passes): a range that holds another number of rows than the block's summary says
 * is corrupt, where the range alone would end silently at a damaged row. */
static int walk_range(bt_store *s, bwalk *w, int64_t blk, int64_t lo, int64_t hi, int64_t n,
                      bt_error *err)
{
    int step;
    int64_t seen = 0;
    sqlite3_bind_int64(w->rst, w->rbase, lo);
    sqlite3_bind_int64(w->rst, w->rbase + 1, hi);
    sqlite3_bind_int64(w->rst, w->rbase + 2, blk);
    w->nrows = 0;
    while ((step = sqlite3_step(w->rst)) == SQLITE_ROW) {
        srow r;
        void *v = w->rows;
        seen++;
        if (!sqlite3_column_int(w->rst, 6))
            continue;
        r.id = sqlite3_column_int64(w->rst, 0);
        r.t = sqlite3_column_int64(w->rst, 1);
        r.blk = sqlite3_column_int64(w->rst, 3);
        row_place(w->rst, &r);
        r.copy = 0;
        r.at = NULL;
        if (bt_array_grow(&v, &w->caprows, w->nrows + 1, sizeof *w->rows, 512)) {
            sqlite3_reset(w->rst);
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        }
        w->rows = v;
        w->rows[w->nrows++] = r;
    }
    sqlite3_reset(w->rst);
    if (step != SQLITE_DONE)
        return db_err_code(s, err, "query", step);
    if (n >= 0 && seen != n) {
        char why[128];
        snprintf(why, sizeof why, "block %lld has %lld of the %lld events its summary counts",
                 (long long)blk, (long long)seen, (long long)n);
        return corrupt_err(s->path, err, why);
    }
    return walk_push_run(w, 0) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
}

/* Adds the next block (w->incr) to the heap as a run of its time directory, read as the
 * walk goes (run_next_time): its rows in the search's window and after its position,
 * unread (kind -1), so walk_next reads each row as it hands it out (walk_fill) and a page
 * reads about its own rows. */
static int walk_open_times(bt_store *s, bwalk *w, bt_error *err)
{
    int64_t span = w->nhi - w->nlo + 1;
    size_t cap = 0;
    wrun r;
    int rc;
    if (span <= 0 || span > (int64_t)UINT32_MAX)
        return corrupt_err(s->path, err, "a block's summary has an empty id range");
    memset(&r, 0, sizeof r);
    rc = bt_tdir_read((const unsigned char *)w->tdir.data, w->tdir.len, (uint32_t)span, &r.te,
                      &r.tn, &cap);
    if (!rc && w->nn >= 0 && (int64_t)r.tn != w->nn)
        rc = BT_EDB;
    if (!rc && !(r.r = malloc(sizeof *r.r)))
        rc = BT_ENOMEM;
    if (rc) {
        char why[128];
        free(r.te);
        if (rc == BT_ENOMEM)
            return bt_error_set(err, rc, "out of memory");
        snprintf(why, sizeof why, "block %lld's time directory does not fit its summary",
                 (long long)w->nblk);
        return corrupt_err(s->path, err, why);
    }
    memset(r.r, 0, sizeof *r.r);
    r.r[0].blk = w->nblk;
    r.r[0].kind = -1;
    r.r[0].off = r.r[0].len = -1;
    r.n = 1;
    r.lo = w->nlo;
    if (!run_next_time(w, &r)) {
        free(r.r);
        free(r.te);
        return 0;
    }
    return walk_add_run(w, r) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
}

/* Reads the row of r (taken from a time directory) through the walk's query: *pass 1 when
 * it passes the search, its place and kind then filled in. */
static int walk_fill(bt_store *s, bwalk *w, srow *r, int *pass, bt_error *err)
{
    int step;
    sqlite3_bind_int64(w->rst, w->rbase, r->id);
    sqlite3_bind_int64(w->rst, w->rbase + 1, r->id);
    sqlite3_bind_int64(w->rst, w->rbase + 2, r->blk);
    step = sqlite3_step(w->rst);
    if (step == SQLITE_ROW) {
        *pass = sqlite3_column_int(w->rst, 6);
        row_place(w->rst, r);
    }
    sqlite3_reset(w->rst);
    if (step == SQLITE_DONE) {
        char why[128];
        snprintf(why, sizeof why, "block %lld's time directory names event %lld, not stored",
                 (long long)r->blk, (long long)r->id);
        return corrupt_err(s->path, err, why);
    }
    return step == SQLITE_ROW ? 0 : db_err_code(s, err, "query", step);
}

/* Adds the rows of the next block that pass the search to the heap: with a directory of
 * names (sqlite_int.h) and names to look for, only the runs of those names; else its
 * every row. */
static int walk_open(bt_store *s, bwalk *w, bt_error *err)
{
    const unsigned char *p, *end;
    size_t i, nnamed = w->nset.len / 4;
    uint32_t lead, span, n;
    int64_t first = w->nlo;
    int rc;

    if (w->incr) {
        bt_buf_clear(&w->tdir);
        if ((rc = walk_tdir(s, w, err)))
            return rc;
        if (w->tdir.len)
            return walk_open_times(s, w, err);
    }
    if (!w->q->prune || !w->ndir.len)
        return walk_range(s, w, w->nblk, w->nlo, w->nhi, w->nn, err);
    p = (const unsigned char *)w->ndir.data;
    end = p + w->ndir.len;
    if (!bt_ndir_get(&p, end, &lead) || lead > 1 || w->nset.len % 4)
        goto bad;
    for (i = 0; i < nnamed + lead; i++) {
        uint32_t h = i < lead ? 0 : bt_nset_at((const unsigned char *)w->nset.data, i - lead);
        if (!bt_ndir_get(&p, end, &span) || !bt_ndir_get(&p, end, &n) || span < 1 ||
            first + span - 1 > w->nhi)
            goto bad;
        if (n && bsearch(&h, w->q->names, w->q->nnames, sizeof h, cmp_u32) &&
            (rc = walk_range(s, w, w->nblk, first, first + span - 1, n, err)))
            return rc;
        first += span;
    }
    if (p == end)
        return 0;
bad:
    return corrupt_err(s->path, err, "a block's directory of names does not fit its summary");
}

/* The span classes the store's blocks are in, into s->cls (a loose scan of the (lv, t1)
 * index), unless those read last still hold: no summary written since by this handle,
 * nor a commit by another (PRAGMA data_version). */
static int read_classes(bt_store *s, bt_error *err)
{
    int rc, step;
    int64_t dver = 0;
    if ((rc = prep(s, &s->st_dver, "PRAGMA data_version", err)))
        return rc;
    step = sqlite3_step(s->st_dver);
    if (step == SQLITE_ROW)
        dver = sqlite3_column_int64(s->st_dver, 0);
    sqlite3_reset(s->st_dver);
    if (step != SQLITE_ROW)
        return db_err_code(s, err, "query", step);
    if (s->cls_ok && dver == s->cls_dver)
        return 0;
    if ((rc = prep(s, &s->st_classes,
                   "WITH RECURSIVE c(v) AS (SELECT (SELECT min(lv) FROM bsum) UNION ALL"
                   " SELECT (SELECT min(lv) FROM bsum WHERE lv > c.v) FROM c"
                   " WHERE c.v IS NOT NULL) SELECT v FROM c WHERE v IS NOT NULL",
                   err)))
        return rc;
    s->ncls = 0;
    s->cls_ok = 0;
    while ((step = sqlite3_step(s->st_classes)) == SQLITE_ROW) {
        int c = sqlite3_column_int(s->st_classes, 0);
        if (c < 0 || c >= BT_SPAN_CLASSES || s->ncls == BT_SPAN_CLASSES) {
            sqlite3_reset(s->st_classes);
            return corrupt_err(s->path, err, "a block's summary has no span class");
        }
        s->cls[s->ncls++] = (unsigned char)c;
    }
    sqlite3_reset(s->st_classes);
    if (step != SQLITE_DONE)
        return db_err_code(s, err, "query", step);
    s->cls_ok = 1;
    s->cls_dver = dver;
    return 0;
}

/* a + b, held within int64_t */
static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* The span classes the store's blocks are in (a loose scan of the (lv, t1) index), each
 * a range of blocks that may hold rows of lo..hi, in walk order, stepped to its first:
 * newest first, the blocks of class c that start by hi end before hi + 2^(c+16), so the
 * range of (lv, t1) from there down holds them and the few that start after hi (the walk
 * reads those summaries and passes them over); oldest first, the same of (lv, t0) from
 * lo - 2^(c+16) up. The statements are the handle's, kept prepared (a walk within a
 * walk's callback prepares its own). */
static int walk_classes(bt_store *s, bwalk *w, int64_t lo, int64_t hi, bt_error *err)
{
    static const char *const text[2] = {
        "SELECT blk, lo, hi, t0, t1, nset, n, ndir FROM bsum INDEXED BY bsum_lt0"
        " WHERE lv = ?1 AND t0 >= ?3 AND t0 <= ?4 AND t1 >= ?2 ORDER BY t0 ASC, blk ASC",
        "SELECT blk, lo, hi, t0, t1, nset, n, ndir FROM bsum INDEXED BY bsum_lt1"
        " WHERE lv = ?1 AND t1 >= ?2 AND t1 <= ?3 AND t0 <= ?4 ORDER BY t1 DESC, blk DESC"};
    int rc, own = s->walking, k;
    if ((rc = read_classes(s, err)))
        return rc;
    s->walking = 1;
    w->own_cls = own;
    w->started = 1;
    for (k = 0; k < s->ncls; k++) {
        int c = s->cls[k];
        int64_t reach;
        wclass *x = &w->cls[w->ncls];
        sqlite3_stmt **st = own ? &x->st : &s->st_wcls[w->desc][c];
        if (!*st && sqlite3_prepare_v2(s->db, text[w->desc], -1, st, NULL) != SQLITE_OK)
            return db_err(s, err, "query");
        x->st = *st;
        w->ncls++;
        reach = c + BT_SPAN_CLASS_BASE >= 63 ? INT64_MAX : (int64_t)1 << (c + BT_SPAN_CLASS_BASE);
        sqlite3_bind_int(x->st, 1, c);
        sqlite3_bind_int64(x->st, 2, lo);
        sqlite3_bind_int64(x->st, 3, w->desc ? sat_add(hi, reach - 1) : sat_add(lo, 1 - reach));
        sqlite3_bind_int64(x->st, 4, hi);
        if ((rc = class_step(s, w, x, err)))
            return rc;
    }
    return 0;
}

/* Starts the walk of the search q (its text's conditions begin at where_at, with
 * " WHERE 1") from bq's time range and position; incr: its rows from the blocks' time
 * directories, a few at a time. */
int walk_start(bt_store *s, bwalk *w, sqlq *q, size_t where_at, const bt_store_query *bq, int incr,
               bt_error *err)
{
    const bt_filter *f = bq->filter;
    int64_t lo = f ? f->start_ms : INT64_MIN, hi = f ? f->end_ms : INT64_MAX;
    bt_buf sql = BT_BUF_INIT;
    static const char head[] = " WHERE 1";
    int rc;

    memset(w, 0, sizeof *w);
    w->desc = !bq->oldest_first;
    w->incr = incr;
    w->after = bq->after;
    w->q = q;
    if (q->prune)
        qsort(q->names, q->nnames, sizeof *q->names, cmp_u32);
    if (bq->after && w->desc && bq->after->time_ms < hi)
        hi = bq->after->time_ms;
    if (bq->after && !w->desc && bq->after->time_ms > lo)
        lo = bq->after->time_ms;
    w->tlo = lo;
    w->thi = hi;
    /* every row of a block, and whether it passes (the conditions' binds come first) */
    if (q->sql.len < where_at + sizeof head - 1 ||
        memcmp(q->sql.data + where_at, head, sizeof head - 1) != 0)
        return bt_error_set(err, BT_ERROR, "store: unexpected search text");
    bt_buf_puts(&sql, "SELECT e.id, e.t, e.kind, e.blk, e.off, e.len, (1");
    bt_buf_append(&sql, q->sql.data + where_at + sizeof head - 1,
                  q->sql.len - where_at - (sizeof head - 1));
    bt_buf_puts(&sql, "), e.name FROM events e WHERE e.id BETWEEN ? AND ? AND e.blk = ?");
    bt_buf_dispose(&q->sql);
    q->sql = sql;
    if (!q->sql.data || add_bind(q, 0, 0, NULL) || add_bind(q, 0, 0, NULL) ||
        add_bind(q, 0, 0, NULL))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    w->rbase = (int)q->n - 2;
    if ((rc = prepare_query(s, q, &w->rst, err)))
        return rc;
    if ((rc = walk_classes(s, w, lo, hi, err)))
        return rc;
    /* the block still pending in this transaction has no summary yet: its rows first */
    if (s->in_tx && s->blk_raw.len &&
        (rc = walk_range(s, w, s->blk_id, s->blk_lo, s->next_id - 1, s->blk_n, err)))
        return rc;
    return walk_advance(s, w, err);
}

/* The walk's next row into *out; *more = 0 when there is none. */
int walk_next(bt_store *s, bwalk *w, srow *out, int *more, bt_error *err)
{
    int rc, pass;
    for (;;) {
        while (w->have_next && (!w->n || (w->desc ? w->nt1 >= run_head(&w->heap[0])->t
                                                  : w->nt0 <= run_head(&w->heap[0])->t))) {
            if ((rc = walk_open(s, w, err)) || (rc = walk_advance(s, w, err)))
                return rc;
        }
        *more = w->n > 0;
        if (!*more)
            return 0;
        walk_pop(w, out);
        if (out->kind != -1)
            return 0;
        if ((rc = walk_fill(s, w, out, &pass, err)))
            return rc;
        if (pass)
            return 0;
    }
}

void walk_free(bt_store *s, bwalk *w)
{
    int k;
    for (k = 0; k < w->ncls; k++) {
        if (w->own_cls)
            sqlite3_finalize(w->cls[k].st);
        else
            sqlite3_reset(w->cls[k].st);
    }
    if (w->started && !w->own_cls)
        s->walking = 0; /* the handle's statements are free again */
    sqlite3_finalize(w->rst);
    bt_buf_dispose(&w->ndir);
    bt_buf_dispose(&w->nset);
    bt_buf_dispose(&w->tdir);
    while (w->n) {
        free(w->heap[--w->n].r);
        free(w->heap[w->n].te);
    }
    free(w->heap);
    free(w->rows);
    memset(w, 0, sizeof *w);
}

/* 1 when a search in time order by event names or sources (the caller checks: q->prune)
 * is made by the block walk: no filter a narrower index serves (the partial indexes of
 * errors, projects, builds and build sessions; event ids), and not the rows after a
 * sequence number (their id range, sorted). Other searches in time order go through the
 * partial indexes, or the blocks their summaries choose. */
int walk_serves(const bt_filter *f, const bt_store_query *bq)
{
    if (bq->after_seq > 0)
        return 0;
    if (!f)
        return 1;
    return !f->errors_only && !f->nvalues[BT_F_EVENT_ID] && !f->nvalues[BT_F_BUILD] &&
           !(f->nvalues[BT_F_PROJECT] && !((f->missing_ok >> BT_F_PROJECT) & 1u)) &&
           !(f->nvalues[BT_F_ERROR_CODE] && !((f->missing_ok >> BT_F_ERROR_CODE) & 1u));
}

/* 1 when a search without names is made by the block walk, every row of each block its
 * time range meets: all its results are wanted (no limit, or more than SCAN_LIMIT) from
 * no position, and no narrower index serves it (walk_serves). A block's rows are then
 * read in id order, where the time index (before schema 11) looked up every row it
 * listed, each from another page (a hunt over 1M events: the rows took 14% of the
 * reading thread's time). Other walks take their rows from the time directories. */
int walk_whole(const bt_store_query *bq)
{
    return !(bq->limit && bq->limit <= SCAN_LIMIT) && !bq->after && walk_serves(bq->filter, bq);
}
