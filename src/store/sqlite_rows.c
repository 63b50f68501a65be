/*
 * sqlite_rows.c - the events' rows since schema 13: each packed block's rows as one
 * compressed directory (about 6 bytes an event, where a row of a table took 45), kept
 * as a zstd skippable frame at the head of the block's data and found by its id range
 * (table `bdir`); the rows an index must find (those with an error code, a project, a
 * build or a build session) and those stored one at a time (bt_store_add) as rows of
 * the table `evrows`; and the virtual table `events` (eponymous: every connection that
 * registers it has it, with no entry in the schema) that reads the two as one table in
 * id order, so the store's searches keep their SQL. A row is in one of the two, never
 * both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "store/bloom.h"
#include "store/sqlite_int.h"

/* ---- the directory's encoding ------------------------------------------------------ */

#define DIR_RAW 0  /* the payload follows as it is */
#define DIR_ZSTD 1 /* the payload follows as one zstd frame */
#define DIR_MAX_PLACES (1u << 22)
#define DIR_LEVEL 3 /* 6 to 12: 2-5% smaller, 0.1-0.5 s more of the writer's CPU on 1M */

static int put_uv(bt_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    return bt_buf_append(b, tmp, n);
}

static int get_uv(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;
    unsigned shift = 0;
    while (*p < end && shift < 64) {
        unsigned char c = *(*p)++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 1;
        }
        shift += 7;
    }
    return 0;
}

/* get_uv with its one-byte case inline (most of a directory's values) */
static inline int next_uv(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    if (*p < end && **p < 0x80) {
        *v = *(*p)++;
        return 1;
    }
    return get_uv(p, end, v);
}

static uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* the skippable frame that holds a block's directory at the head of its data: zstd's
 * magic for one (0x184D2A50 with 4 bits of one's own), then the content's length, both
 * 32-bit little-endian */
#define DIR_MAGIC 0x184D2A5Bu

void dir_frame_head(unsigned char head[DIR_HEAD], size_t len)
{
    int k;
    for (k = 0; k < 4; k++) {
        head[k] = (unsigned char)(DIR_MAGIC >> (8 * k));
        head[4 + k] = (unsigned char)((uint32_t)len >> (8 * k));
    }
}

int dir_frame_len(const unsigned char head[DIR_HEAD], size_t *len)
{
    uint32_t m = 0, n = 0;
    int k;
    for (k = 0; k < 4; k++) {
        m |= (uint32_t)head[k] << (8 * k);
        n |= (uint32_t)head[4 + k] << (8 * k);
    }
    *len = n;
    return m == DIR_MAGIC ? 0 : BT_EDB;
}

int dir_encode(const drow *rows, size_t n, ZSTD_CCtx *zc, bt_buf *out, bt_buf *tmp)
{
    int64_t end = 0;
    size_t i, bound, z;
    int c, rc = 0;

    bt_buf_clear(out);
    bt_buf_clear(tmp);
    rc |= put_uv(tmp, 0); /* flags: none so far */
    rc |= put_uv(tmp, n);
    for (i = 0; i < n; i += 8) {
        unsigned char m = 0;
        size_t j;
        for (j = 0; j < 8 && i + j < n; j++)
            m |= (unsigned char)(rows[i + j].present ? 1u << j : 0);
        rc |= bt_buf_append(tmp, &m, 1);
    }
    /* column by column: like values lie together, and compress. No times: the block's
     * time directory (btime) has them */
    for (c = 0; c < 6; c++)
        for (i = 0; i < n; i++) {
            const drow *r = &rows[i];
            if (!r->present)
                continue;
            switch (c) {
            case 0: rc |= put_uv(tmp, (uint64_t)r->kind); break;
            case 1: rc |= put_uv(tmp, (uint64_t)r->name); break;
            case 2: rc |= put_uv(tmp, (uint64_t)r->src); break;
            case 3: rc |= put_uv(tmp, (uint64_t)r->region); break;
            case 4: rc |= put_uv(tmp, (uint64_t)r->account); break;
            default: rc |= put_uv(tmp, (uint64_t)(r->ro + 1)); break;
            }
        }
    for (i = 0; i < n; i++)
        if (rows[i].present) {
            rc |= put_uv(tmp, zz(rows[i].off - end));
            end = rows[i].off + rows[i].len;
        }
    for (i = 0; i < n; i++)
        if (rows[i].present)
            rc |= put_uv(tmp, (uint64_t)rows[i].len);
    for (i = 0; i < n; i++)
        if (rows[i].present)
            rc |= bt_buf_append(tmp, &rows[i].has_rh, 1);
    for (i = 0; i < n; i++) /* the resources' fingerprints, 8 bytes little-endian */
        if (rows[i].present && rows[i].has_rh) {
            unsigned char b[8];
            int k;
            for (k = 0; k < 8; k++)
                b[k] = (unsigned char)(rows[i].rh >> (8 * k));
            rc |= bt_buf_append(tmp, b, 8);
        }
    if (rc)
        return BT_ENOMEM;
    bound = ZSTD_compressBound(tmp->len);
    if (bt_buf_reserve(out, bound + 1))
        return BT_ENOMEM;
    z = ZSTD_compressCCtx(zc, out->data + 1, bound, tmp->data, tmp->len, DIR_LEVEL);
    if (!ZSTD_isError(z) && z < tmp->len) {
        out->data[0] = DIR_ZSTD;
        out->len = z + 1;
        return 0;
    }
    out->data[0] = DIR_RAW;
    out->len = 1;
    return bt_buf_append(out, tmp->data, tmp->len);
}

int dir_decode(const unsigned char *p, size_t len, ZSTD_DCtx *zd, bt_buf *scratch, drow **rows,
               size_t *cap, size_t *n)
{
    const unsigned char *end, *bits;
    uint64_t flags, np, v;
    int64_t off = 0;
    size_t i, k = 0;
    int c;

    *n = 0;
    if (len < 1 || (p[0] != DIR_RAW && p[0] != DIR_ZSTD))
        return BT_EDB;
    if (p[0] == DIR_ZSTD) {
        unsigned long long sz = ZSTD_getFrameContentSize(p + 1, len - 1);
        size_t got;
        if (sz == ZSTD_CONTENTSIZE_ERROR || sz == ZSTD_CONTENTSIZE_UNKNOWN ||
            sz > 64u * DIR_MAX_PLACES)
            return BT_EDB;
        bt_buf_clear(scratch);
        if (bt_buf_reserve(scratch, (size_t)sz + 1))
            return BT_ENOMEM;
        got = ZSTD_decompressDCtx(zd, scratch->data, (size_t)sz, p + 1, len - 1);
        if (ZSTD_isError(got) || got != sz)
            return BT_EDB;
        p = (const unsigned char *)scratch->data;
        end = p + got;
    } else {
        end = p + len;
        p++;
    }
    if (!get_uv(&p, end, &flags) || flags || !get_uv(&p, end, &np) || np > DIR_MAX_PLACES ||
        (size_t)(end - p) < (np + 7) / 8)
        return BT_EDB;
    if (np > *cap) {
        drow *nr = realloc(*rows, (size_t)np * sizeof *nr);
        if (!nr)
            return BT_ENOMEM;
        *rows = nr;
        *cap = (size_t)np;
    }
    bits = p;
    p += (np + 7) / 8;
    if (np)
        memset(*rows, 0, (size_t)np * sizeof **rows);
    for (i = 0; i < np; i++)
        if ((bits[i / 8] >> (i % 8)) & 1u) {
            (*rows)[i].present = 1;
            k++;
        }
    for (c = 0; c < 6; c++) {
        static const uint64_t max[6] = {255, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, 2};
        for (i = 0; i < np; i++) {
            drow *r = &(*rows)[i];
            if (!r->present)
                continue;
            if (!next_uv(&p, end, &v) || v > max[c])
                return BT_EDB;
            switch (c) {
            case 0: r->kind = (int)v; break;
            case 1: r->name = (int64_t)v; break;
            case 2: r->src = (int64_t)v; break;
            case 3: r->region = (int64_t)v; break;
            case 4: r->account = (int64_t)v; break;
            default: r->ro = (int)v - 1; break;
            }
        }
    }
    for (i = 0; i < np; i++) { /* the steps from the end of the row before */
        if (!(*rows)[i].present)
            continue;
        /* a block is at most 4 GiB: a step further is damage (and could overflow) */
        if (!next_uv(&p, end, &v) || v > ((uint64_t)1 << 34))
            return BT_EDB;
        (*rows)[i].off = unzz(v);
    }
    for (i = 0; i < np; i++) {
        drow *r = &(*rows)[i];
        if (!r->present)
            continue;
        if (!next_uv(&p, end, &v) || v > UINT32_MAX)
            return BT_EDB;
        r->len = (int64_t)v;
        r->off += off; /* off <= 2^31 + 2^32, the step within 2^33 */
        if (r->off < 0 || r->off > INT32_MAX)
            return BT_EDB;
        off = r->off + r->len;
    }
    if ((size_t)(end - p) < k)
        return BT_EDB;
    for (i = 0; i < np; i++) {
        if (!(*rows)[i].present)
            continue;
        if (*p > 1)
            return BT_EDB;
        (*rows)[i].has_rh = *p++;
    }
    for (i = 0; i < np; i++) {
        drow *r = &(*rows)[i];
        uint64_t m = 0;
        int b8;
        if (!r->has_rh)
            continue;
        if (end - p < 8)
            return BT_EDB;
        for (b8 = 0; b8 < 8; b8++)
            m |= (uint64_t)p[b8] << (8 * b8);
        p += 8;
        r->rh = m;
    }
    if (p != end)
        return BT_EDB;
    *n = (size_t)np;
    return 0;
}

/* ---- the virtual table `events` ------------------------------------------------------ */

enum {
    C_ID,
    C_T,
    C_KIND,
    C_NAME,
    C_SRC,
    C_REGION,
    C_ACCOUNT,
    C_ERR,
    C_RO,
    C_PROJECT,
    C_BUILD,
    C_ACTOR,
    C_BLK,
    C_OFF,
    C_LEN,
    C_RH,
    NCOLS
};
#define COLS_SQL                                                                                   \
    "id, t, kind, name, src, region, account, err, ro, project, build, actor, blk, off, len, "     \
    "rh"

/* the plans (idxNum's low 4 bits) */
enum { P_SCAN, P_EQ, P_RARE };
/* P_SCAN's bounds on id, in argv's order: a lower bound (strict), an upper (strict) */
#define B_LO 0x10
#define B_LO_GT 0x20
#define B_HI 0x40
#define B_HI_LT 0x80
/* P_RARE: the column's number among the four above 4 bits, IS NOT NULL at bit 8 */
static const int rare_col[4] = {C_ERR, C_PROJECT, C_BUILD, C_ACTOR};
static const char *const rare_name[4] = {"err", "project", "build", "actor"};
#define R_NN 0x100
/* P_RARE: a lower and an upper bound on the time, in argv after the value (the index
 * is the column's and the time: the rows of a project in a window, not all of them) */
#define R_T_LO 0x200
#define R_T_HI 0x400
/* P_RARE of one value: in the order of the time and id, ascending or descending (the
 * index's: a search's page of a project's newest rows stops after the page) */
#define R_ASC 0x800
#define R_DESC 0x1000
/* P_RARE: the search reads only what the column's index holds (the errors', projects'
 * and builds' indexes carry the time, kind and place: schema 4), so the table's rows
 * are not read */
#define R_COVER 0x2000

/* statements a cursor takes from the table and gives back (a cursor's nested under
 * another's take others): the rows of `evrows` in an id range, the directories of a
 * range, one rare column's rows by value, or with one */
enum { K_EVRANGE, K_BDRANGE, K_RARE, NKINDS = K_RARE + 192 };
#define POOL 3

/* a decoded directory; pinned while a cursor reads it */
typedef struct dblk {
    int64_t lo, hi, blk;
    drow *rows;
    size_t n, cap;
    int64_t *ev; /* the ids of the rows of evrows in lo..hi, ascending */
    size_t nev, capev;
    unsigned tick;
    int valid; /* 1: found again by lo (its block is committed) */
    int pins;
} dblk;
#define DCACHE 32

typedef struct rvtab {
    sqlite3_vtab base;
    bt_store *s;
    sqlite3 *db;
    sqlite3_blob *blob; /* on the last block whose directory was read, while cursors are
                           open (it holds a read transaction) */
    int ncur;
    bt_buf raw; /* a directory's bytes as stored */
    sqlite3_stmt *pool[NKINDS][POOL];
    sqlite3_stmt *st_find, *st_tdir, *st_evids, *st_evcount;
    bt_tdir_ent *tents; /* a block's time directory, decoded */
    size_t ntents, captents;
    dblk c[DCACHE];
    unsigned tick;
    ZSTD_DCtx *zd;
    bt_buf scratch;
} rvtab;

typedef struct rcur {
    sqlite3_vtab_cursor base;
    int eof;
    int plan;
    int64_t lo, hi;      /* P_SCAN: the ids wanted */
    sqlite3_stmt *ev;    /* rows of `evrows` (P_SCAN, P_RARE, P_EQ) */
    int ev_kind, ev_has; /* its pool kind; 1 while it stands on a row */
    sqlite3_stmt *bd;    /* P_SCAN: the directories */
    dblk *b;             /* the directory read, pinned */
    size_t pos;          /* its place read */
    int b_has;           /* 1 while b stands on a present row at pos */
    int from_ev;         /* the row is ev's (else b's at pos) */
} rcur;

static sqlite3_stmt *take(rvtab *v, int kind, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int i;
    for (i = 0; i < POOL; i++)
        if (v->pool[kind][i]) {
            st = v->pool[kind][i];
            v->pool[kind][i] = NULL;
            return st;
        }
    if (sqlite3_prepare_v3(v->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void give(rvtab *v, int kind, sqlite3_stmt *st)
{
    int i;
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (i = 0; i < POOL; i++)
        if (!v->pool[kind][i]) {
            v->pool[kind][i] = st;
            return;
        }
    sqlite3_finalize(st);
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **errmsg)
{
    rvtab *v;
    (void)argc;
    (void)argv;
    (void)errmsg;
    if (sqlite3_declare_vtab(db, "CREATE TABLE x(id INTEGER, t INTEGER, kind INTEGER,"
                                 " name INTEGER, src INTEGER, region INTEGER, account INTEGER,"
                                 " err INTEGER, ro INTEGER, project INTEGER, build INTEGER,"
                                 " actor INTEGER, blk INTEGER, off INTEGER, len INTEGER,"
                                 " rh INTEGER)") != SQLITE_OK)
        return SQLITE_ERROR;
    if (!(v = calloc(1, sizeof *v)) || !(v->zd = ZSTD_createDCtx())) {
        free(v);
        return SQLITE_NOMEM;
    }
    v->s = aux;
    v->db = db;
    *out = &v->base;
    return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *vt)
{
    rvtab *v = (rvtab *)vt;
    int k, i;
    for (k = 0; k < NKINDS; k++)
        for (i = 0; i < POOL; i++)
            sqlite3_finalize(v->pool[k][i]);
    sqlite3_finalize(v->st_find);
    sqlite3_finalize(v->st_tdir);
    sqlite3_finalize(v->st_evids);
    sqlite3_finalize(v->st_evcount);
    free(v->tents);
    for (i = 0; i < DCACHE; i++) {
        free(v->c[i].rows);
        free(v->c[i].ev);
    }
    sqlite3_blob_close(v->blob);
    ZSTD_freeDCtx(v->zd);
    bt_buf_dispose(&v->scratch);
    bt_buf_dispose(&v->raw);
    free(v);
    return SQLITE_OK;
}

/* Constraint i, of operator op, as the first lower (*lo) or upper (*hi) bound seen. */
static void note_bound(int op, int i, int *lo, int *hi)
{
    if ((op == SQLITE_INDEX_CONSTRAINT_GE || op == SQLITE_INDEX_CONSTRAINT_GT) && *lo < 0)
        *lo = i;
    else if ((op == SQLITE_INDEX_CONSTRAINT_LE || op == SQLITE_INDEX_CONSTRAINT_LT) && *hi < 0)
        *hi = i;
}

static int vt_best(sqlite3_vtab *vt, sqlite3_index_info *ix)
{
    int i, eq = -1, lo = -1, hi = -1, rare = -1, rare_nn = -1, tlo = -1, thi = -1, r;
    (void)vt;
    for (i = 0; i < ix->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &ix->aConstraint[i];
        if (!c->usable)
            continue;
        if (c->iColumn == C_ID || c->iColumn == -1) {
            if (c->op == SQLITE_INDEX_CONSTRAINT_EQ && eq < 0)
                eq = i;
            else
                note_bound(c->op, i, &lo, &hi);
            continue;
        }
        if (c->iColumn == C_T) {
            note_bound(c->op, i, &tlo, &thi);
            continue;
        }
        for (r = 0; r < 4; r++)
            if (c->iColumn == rare_col[r]) {
                if (c->op == SQLITE_INDEX_CONSTRAINT_EQ && rare < 0)
                    rare = i;
                else if (c->op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL && rare_nn < 0)
                    rare_nn = i;
            }
    }
    if (eq >= 0) {
        ix->idxNum = P_EQ;
        ix->aConstraintUsage[eq].argvIndex = 1;
        ix->aConstraintUsage[eq].omit = 1;
        ix->estimatedCost = 10;
        ix->estimatedRows = 1;
        ix->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
        return SQLITE_OK;
    }
    if (rare >= 0 || rare_nn >= 0) {
        int at = rare >= 0 ? rare : rare_nn;
        for (r = 0; r < 4 && rare_col[r] != ix->aConstraint[at].iColumn; r++)
            ;
        int n = 1;
        ix->idxNum = P_RARE | (r << 4) | (rare >= 0 ? 0 : R_NN) | (tlo >= 0 ? R_T_LO : 0) |
                     (thi >= 0 ? R_T_HI : 0);
        if (rare >= 0)
            ix->aConstraintUsage[rare].argvIndex = n++;
        if (tlo >= 0) /* SQLite tests the constraints again: >= for > is enough */
            ix->aConstraintUsage[tlo].argvIndex = n++;
        if (thi >= 0)
            ix->aConstraintUsage[thi].argvIndex = n++;
        if (ix->aConstraint[at].iColumn != C_ACTOR &&
            !(ix->colUsed &
              ~((1ull << C_ID) | (1ull << C_T) | (1ull << C_KIND) | (1ull << C_BLK) |
                (1ull << C_OFF) | (1ull << C_LEN) | (1ull << ix->aConstraint[at].iColumn))))
            ix->idxNum |= R_COVER;
        /* (an IN list is a filter call per value: their rows are not in one order) */
        if (rare >= 0 && !sqlite3_vtab_in(ix, rare, -1) && ix->nOrderBy >= 1 && ix->nOrderBy <= 2 &&
            ix->aOrderBy[0].iColumn == C_T &&
            (ix->nOrderBy == 1 ||
             ((ix->aOrderBy[1].iColumn == C_ID || ix->aOrderBy[1].iColumn == -1) &&
              ix->aOrderBy[1].desc == ix->aOrderBy[0].desc))) {
            ix->idxNum |= ix->aOrderBy[0].desc ? R_DESC : R_ASC;
            ix->orderByConsumed = 1;
        }
        ix->estimatedCost = rare >= 0 ? 50 : 20000;
        ix->estimatedRows = rare >= 0 ? 50 : 20000;
        return SQLITE_OK;
    }
    ix->idxNum = P_SCAN;
    r = 1;
    if (lo >= 0) {
        ix->idxNum |= B_LO | (ix->aConstraint[lo].op == SQLITE_INDEX_CONSTRAINT_GT ? B_LO_GT : 0);
        ix->aConstraintUsage[lo].argvIndex = r++;
    }
    if (hi >= 0) {
        ix->idxNum |= B_HI | (ix->aConstraint[hi].op == SQLITE_INDEX_CONSTRAINT_LT ? B_HI_LT : 0);
        ix->aConstraintUsage[hi].argvIndex = r++;
    }
    ix->estimatedCost = lo >= 0 && hi >= 0 ? 500 : lo >= 0 || hi >= 0 ? 5e6 : 1e7;
    ix->estimatedRows = lo >= 0 && hi >= 0 ? 500 : lo >= 0 || hi >= 0 ? 500000 : 1000000;
    /* rows come in id order */
    if (ix->nOrderBy == 1 && (ix->aOrderBy[0].iColumn == C_ID || ix->aOrderBy[0].iColumn == -1) &&
        !ix->aOrderBy[0].desc)
        ix->orderByConsumed = 1;
    return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    rcur *c = calloc(1, sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    ((rvtab *)vt)->ncur++;
    *out = &c->base;
    return SQLITE_OK;
}

static void unpin(rcur *c)
{
    if (c->b) {
        c->b->pins--;
        c->b = NULL;
    }
    c->b_has = 0;
}

static void cur_reset(rvtab *v, rcur *c)
{
    give(v, c->ev_kind, c->ev);
    give(v, K_BDRANGE, c->bd);
    c->ev = c->bd = NULL;
    c->ev_has = 0;
    unpin(c);
}

static int vt_close(sqlite3_vtab_cursor *cur)
{
    rcur *c = (rcur *)cur;
    rvtab *v = (rvtab *)cur->pVtab;
    cur_reset(v, c);
    free(c);
    if (--v->ncur == 0) {
        sqlite3_blob_close(v->blob);
        v->blob = NULL;
    }
    return SQLITE_OK;
}

static int vt_err(rvtab *v, int rc, const char *what)
{
    sqlite3_free(v->base.zErrMsg);
    v->base.zErrMsg = sqlite3_mprintf("events: %s", what);
    return rc == BT_ENOMEM ? SQLITE_NOMEM : rc == BT_EDB ? SQLITE_CORRUPT : SQLITE_ERROR;
}

/* The directory of block blk as stored into v->raw: the skippable frame at the head of
 * its data. */
static int dir_read(rvtab *v, int64_t blk)
{
    unsigned char head[DIR_HEAD];
    size_t len;
    int total;
    if ((v->blob
             ? sqlite3_blob_reopen(v->blob, blk)
             : sqlite3_blob_open(v->db, "main", "blocks", "data", blk, 0, &v->blob)) != SQLITE_OK) {
        sqlite3_blob_close(v->blob);
        v->blob = NULL;
        return vt_err(v, BT_EDB, "a block with a directory is missing");
    }
    total = sqlite3_blob_bytes(v->blob);
    if (total < DIR_HEAD || sqlite3_blob_read(v->blob, head, DIR_HEAD, 0) != SQLITE_OK ||
        dir_frame_len(head, &len) || len > (size_t)total - DIR_HEAD)
        return vt_err(v, BT_EDB, "a block's directory is damaged");
    bt_buf_clear(&v->raw);
    if (bt_buf_reserve(&v->raw, len + 1))
        return SQLITE_NOMEM;
    if (sqlite3_blob_read(v->blob, v->raw.data, (int)len, DIR_HEAD) != SQLITE_OK)
        return vt_err(v, BT_EDB, "a block's directory is damaged");
    v->raw.len = len;
    return SQLITE_OK;
}

/* The times of d's present rows, from block blk's time directory (btime), which holds
 * every stored row's. */
static int dir_times(rvtab *v, int64_t blk, dblk *d)
{
    size_t i, set = 0, want = 0;
    int rc;
    if (!v->st_tdir &&
        sqlite3_prepare_v3(v->db, "SELECT tdir FROM btime WHERE blk = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &v->st_tdir, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_int64(v->st_tdir, 1, blk);
    rc = sqlite3_step(v->st_tdir);
    if (rc == SQLITE_ROW)
        rc = bt_tdir_read(sqlite3_column_blob(v->st_tdir, 0),
                          (size_t)sqlite3_column_bytes(v->st_tdir, 0), (uint32_t)d->n, &v->tents,
                          &v->ntents, &v->captents);
    else if (rc == SQLITE_DONE)
        rc = BT_EDB;
    sqlite3_reset(v->st_tdir);
    if (rc)
        return vt_err(v, rc == BT_ENOMEM ? rc : BT_EDB, "a block's time directory is damaged");
    for (i = 0; i < v->ntents; i++) {
        drow *r = &d->rows[v->tents[i].place];
        if (r->present) {
            r->t = v->tents[i].t;
            set++;
        }
    }
    for (i = 0; i < d->n; i++)
        want += d->rows[i].present;
    return set == want ? SQLITE_OK
                       : vt_err(v, BT_EDB, "a block's time directory lacks rows of its directory");
}

/* The ids of the rows of evrows in lo..hi into d->ev (a run of a block's ids that holds
 * none of them needs no query of evrows). */
static int dir_evids(rvtab *v, int64_t lo, int64_t hi, dblk *d)
{
    int rc;
    d->nev = 0;
    if (!v->st_evids &&
        sqlite3_prepare_v3(v->db, "SELECT id FROM evrows WHERE id BETWEEN ?1 AND ?2", -1,
                           SQLITE_PREPARE_PERSISTENT, &v->st_evids, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_int64(v->st_evids, 1, lo);
    sqlite3_bind_int64(v->st_evids, 2, hi);
    while ((rc = sqlite3_step(v->st_evids)) == SQLITE_ROW) {
        if (d->nev == d->capev) {
            size_t cap = d->capev ? 2 * d->capev : 64;
            int64_t *e = realloc(d->ev, cap * sizeof *e);
            if (!e) {
                sqlite3_reset(v->st_evids);
                return SQLITE_NOMEM;
            }
            d->ev = e;
            d->capev = cap;
        }
        d->ev[d->nev++] = sqlite3_column_int64(v->st_evids, 0);
    }
    sqlite3_reset(v->st_evids);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* 1 when d->ev holds an id in lo..hi. */
static int dir_has_ev(const dblk *d, int64_t lo, int64_t hi)
{
    size_t a = 0, b = d->nev;
    while (a < b) { /* the first id >= lo */
        size_t m = a + (b - a) / 2;
        if (d->ev[m] < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < d->nev && d->ev[a] <= hi;
}

/* The decoded directory of the block whose range starts at lo (its columns on st, at
 * 0..2: lo, hi, blk), pinned: from the cache when it holds it, else read (dir_read) and
 * decoded into the least recently used slot no cursor pins. */
static int dir_load(rvtab *v, sqlite3_stmt *st, dblk **out)
{
    int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
    dblk *d = NULL;
    int i, rc;

    *out = NULL;
    for (i = 0; i < DCACHE; i++)
        if (v->c[i].valid && v->c[i].lo == lo) {
            d = &v->c[i];
            goto found;
        }
    for (i = 0; i < DCACHE; i++)
        if (!v->c[i].pins && (!d || v->c[i].tick < d->tick))
            d = &v->c[i];
    if (!d)
        return vt_err(v, BT_ERROR, "too many nested reads");
    d->valid = 0;
    if ((rc = dir_read(v, sqlite3_column_int64(st, 2))))
        return rc;
    rc = dir_decode((const unsigned char *)v->raw.data, v->raw.len, v->zd, &v->scratch, &d->rows,
                    &d->cap, &d->n);
    if (rc || hi < lo || d->n != (size_t)(hi - lo + 1))
        return vt_err(v, rc ? rc : BT_EDB, "a block's directory is damaged");
    if ((rc = dir_times(v, sqlite3_column_int64(st, 2), d)) || (rc = dir_evids(v, lo, hi, d)))
        return rc;
    d->lo = lo;
    d->hi = hi;
    d->blk = sqlite3_column_int64(st, 2);
    /* a block this transaction wrote may be rolled back, and its range used again */
    d->valid = !v->s || !v->s->in_tx || hi < v->s->tx_id0;
found:
    d->tick = ++v->tick;
    d->pins++;
    *out = d;
    return SQLITE_OK;
}

/* P_SCAN: moves the directory side to its next present row (past the one it stands on
 * when advance) with an id in c->lo..c->hi. */
static int bd_next(rvtab *v, rcur *c, int advance)
{
    int rc;
    if (advance)
        c->pos++;
    c->b_has = 0;
    for (;;) {
        while (c->b && c->pos < c->b->n && !c->b->rows[c->pos].present)
            c->pos++;
        if (c->b && c->pos < c->b->n) {
            if (c->b->lo + (int64_t)c->pos > c->hi) {
                unpin(c);
                return SQLITE_OK;
            }
            c->b_has = 1;
            return SQLITE_OK;
        }
        unpin(c);
        if (!c->bd)
            return SQLITE_OK;
        rc = sqlite3_step(c->bd);
        if (rc == SQLITE_DONE) {
            give(v, K_BDRANGE, c->bd);
            c->bd = NULL;
            return SQLITE_OK;
        }
        if (rc != SQLITE_ROW)
            return rc;
        if ((rc = dir_load(v, c->bd, &c->b)))
            return rc;
        /* the first directory may start before lo */
        c->pos = c->lo > c->b->lo ? (size_t)(c->lo - c->b->lo) : 0;
    }
}

static int ev_next(rcur *c)
{
    int rc;
    c->ev_has = 0;
    if (!c->ev)
        return SQLITE_OK;
    rc = sqlite3_step(c->ev);
    if (rc == SQLITE_ROW)
        c->ev_has = 1;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Starts c's rows of evrows with ids in lo..hi. */
static int ev_range(rvtab *v, rcur *c, int64_t lo, int64_t hi)
{
    c->ev_kind = K_EVRANGE;
    if (!(c->ev = take(v, K_EVRANGE, "SELECT " COLS_SQL " FROM evrows WHERE id BETWEEN ?1 AND ?2")))
        return SQLITE_ERROR;
    sqlite3_bind_int64(c->ev, 1, lo);
    sqlite3_bind_int64(c->ev, 2, hi);
    return SQLITE_OK;
}

static void pick(rcur *c)
{
    if (c->ev_has && c->b_has)
        c->from_ev = sqlite3_column_int64(c->ev, 0) < c->b->lo + (int64_t)c->pos;
    else
        c->from_ev = c->ev_has;
    c->eof = !c->ev_has && !c->b_has;
}

/* P_EQ: the row with id, from a cached directory, `evrows` or its block's directory. */
static int find_row(rvtab *v, rcur *c, int64_t id)
{
    int i, rc;
    for (i = 0; i < DCACHE; i++) {
        dblk *d = &v->c[i];
        if (d->valid && id >= d->lo && id <= d->hi && d->rows[id - d->lo].present) {
            c->b = d;
            d->pins++;
            d->tick = ++v->tick;
            c->pos = (size_t)(id - d->lo);
            c->b_has = 1;
            return SQLITE_OK;
        }
    }
    if ((rc = ev_range(v, c, id, id)) || (rc = ev_next(c)) || c->ev_has)
        return rc;
    if (!v->st_find &&
        sqlite3_prepare_v3(v->db,
                           "SELECT lo, hi, blk FROM bdir WHERE lo <= ?1 ORDER BY lo DESC"
                           " LIMIT 1",
                           -1, SQLITE_PREPARE_PERSISTENT, &v->st_find, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_int64(v->st_find, 1, id);
    rc = sqlite3_step(v->st_find);
    if (rc == SQLITE_ROW && sqlite3_column_int64(v->st_find, 1) >= id) {
        rc = dir_load(v, v->st_find, &c->b);
        if (!rc) {
            c->pos = (size_t)(id - c->b->lo);
            c->b_has = c->b->rows[c->pos].present;
        }
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(v->st_find);
    return rc;
}

/* The first (or, upper, the last) id within the bound x (strict: > or <) into *out; 0
 * when no id is (a NULL, or a strict bound at the end of the ids). */
static int id_bound(sqlite3_value *x, int strict, int upper, int64_t *out)
{
    double d = sqlite3_value_double(x);
    int type = sqlite3_value_numeric_type(x);
    int64_t v;
    if (type == SQLITE_NULL)
        return 0;
    v = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : sqlite3_value_int64(x);
    if (type == SQLITE_FLOAT && (double)v != d) { /* a fraction: the whole ids inside */
        if (upper ? (double)v > d : (double)v < d)
            v += upper ? -1 : 1;
    } else if (strict && v == (upper ? INT64_MIN : INT64_MAX))
        return 0;
    else if (strict)
        v += upper ? -1 : 1;
    *out = v;
    return 1;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv)
{
    rvtab *v = (rvtab *)cur->pVtab;
    rcur *c = (rcur *)cur;
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    int rc, a = 0, slot;

    (void)idxStr;
    cur_reset(v, c);
    c->plan = idxNum & 0xf;
    c->eof = 1;
    if (c->plan == P_EQ) {
        if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER)
            return SQLITE_OK; /* ids are integers: nothing else is equal to one */
        if ((rc = find_row(v, c, sqlite3_value_int64(argv[0]))))
            return rc;
        pick(c);
        return SQLITE_OK;
    }
    if (c->plan == P_RARE) {
        int r = (idxNum >> 4) & 3, nn = (idxNum & R_NN) != 0, tb = (idxNum >> 9) & 3, k;
        int ord = idxNum & R_DESC ? 2 : idxNum & R_ASC ? 1 : 0;
        int cover = (idxNum & R_COVER) != 0;
        char sql[400];
        /* every row with a value (its partial index: a scan of the table reads them
         * all), or those with one; in the time window. The columns in the table's order
         * (vt_column reads them by their number) */
        snprintf(
            sql, sizeof sql, "SELECT %s FROM evrows INDEXED BY ev_%s WHERE %s %s%s%s%s",
            !cover   ? COLS_SQL
            : r == 0 ? "id, t, kind, NULL, NULL, NULL, NULL, err, NULL, NULL, NULL, NULL, blk, "
                       "off, len, NULL"
            : r == 1 ? "id, t, kind, NULL, NULL, NULL, NULL, NULL, NULL, project, NULL, NULL, "
                       "blk, off, len, NULL"
                     : "id, t, kind, NULL, NULL, NULL, NULL, NULL, NULL, NULL, build, NULL, blk, "
                       "off, len, NULL",
            rare_name[r], rare_name[r], nn ? "IS NOT NULL" : "= ?", tb & 1 ? " AND t >= ?" : "",
            tb & 2 ? " AND t <= ?" : "",
            ord == 2 ? " ORDER BY t DESC, id DESC"
            : ord    ? " ORDER BY t, id"
                     : "");
        c->ev_kind = K_RARE + (((r * 2 + nn) * 3 + ord) * 4 + tb) * 2 + cover;
        if (!(c->ev = take(v, c->ev_kind, sql)))
            return SQLITE_ERROR;
        for (k = 0; k < argc; k++)
            sqlite3_bind_value(c->ev, k + 1, argv[k]);
        if ((rc = ev_next(c)))
            return rc;
        pick(c);
        return SQLITE_OK;
    }
    if (((idxNum & B_LO) && !id_bound(argv[a++], (idxNum & B_LO_GT) != 0, 0, &lo)) ||
        ((idxNum & B_HI) && !id_bound(argv[a++], (idxNum & B_HI_LT) != 0, 1, &hi)))
        return SQLITE_OK; /* no id is in it */
    if (lo > hi)
        return SQLITE_OK;
    c->lo = lo;
    c->hi = hi;
    c->ev_kind = K_EVRANGE;
    /* a run of one block the table holds decoded (the block walk's): no query of the
     * directories, and of evrows only when it has rows there */
    for (slot = 0; slot < DCACHE; slot++) {
        dblk *d = &v->c[slot];
        if (!d->valid || lo < d->lo || hi > d->hi)
            continue;
        d->pins++;
        d->tick = ++v->tick;
        c->b = d;
        c->pos = (size_t)(lo - d->lo);
        if ((dir_has_ev(d, lo, hi) && (rc = ev_range(v, c, lo, hi))) || (rc = ev_next(c)) ||
            (rc = bd_next(v, c, 0)))
            return rc;
        pick(c);
        return SQLITE_OK;
    }
    /* a run whose every id is a row of evrows (a run of project changes, of a build's
     * state events) needs no directory: those are read whole, and decoded for nothing */
    if (lo > INT64_MIN && hi < INT64_MAX && hi - lo < 65536) {
        if (!v->st_evcount &&
            sqlite3_prepare_v3(v->db, "SELECT count(*) FROM evrows WHERE id BETWEEN ?1 AND ?2", -1,
                               SQLITE_PREPARE_PERSISTENT, &v->st_evcount, NULL) != SQLITE_OK)
            return SQLITE_ERROR;
        sqlite3_bind_int64(v->st_evcount, 1, lo);
        sqlite3_bind_int64(v->st_evcount, 2, hi);
        rc = sqlite3_step(v->st_evcount);
        slot = rc == SQLITE_ROW && sqlite3_column_int64(v->st_evcount, 0) == hi - lo + 1;
        sqlite3_reset(v->st_evcount);
        if (rc != SQLITE_ROW)
            return rc;
        if (slot) {
            if ((rc = ev_range(v, c, lo, hi)) || (rc = ev_next(c)))
                return rc;
            pick(c);
            return SQLITE_OK;
        }
    }
    if ((rc = ev_range(v, c, lo, hi)))
        return rc;
    if (!(c->bd = take(v, K_BDRANGE,
                       "SELECT lo, hi, blk FROM bdir WHERE lo >= coalesce((SELECT max(lo)"
                       " FROM bdir WHERE lo <= ?1), ?1) AND lo <= ?2 ORDER BY lo")))
        return SQLITE_ERROR;
    sqlite3_bind_int64(c->bd, 1, lo);
    sqlite3_bind_int64(c->bd, 2, hi);
    if ((rc = ev_next(c)) || (rc = bd_next(v, c, 0)))
        return rc;
    pick(c);
    return SQLITE_OK;
}

static int vt_next(sqlite3_vtab_cursor *cur)
{
    rvtab *v = (rvtab *)cur->pVtab;
    rcur *c = (rcur *)cur;
    int rc;
    if (c->plan == P_EQ) {
        c->eof = 1;
        return SQLITE_OK;
    }
    if (c->from_ev)
        rc = ev_next(c);
    else
        rc = bd_next(v, c, 1);
    if (rc)
        return rc;
    pick(c);
    return SQLITE_OK;
}

static int vt_eof(sqlite3_vtab_cursor *cur)
{
    return ((rcur *)cur)->eof;
}

static int64_t row_id(const rcur *c)
{
    return c->from_ev ? sqlite3_column_int64(c->ev, 0) : c->b->lo + (int64_t)c->pos;
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *cx, int col)
{
    rcur *c = (rcur *)cur;
    const drow *r;
    int64_t x;
    if (c->from_ev) {
        sqlite3_result_value(cx, sqlite3_column_value(c->ev, col));
        return SQLITE_OK;
    }
    r = &c->b->rows[c->pos];
    switch (col) {
    case C_ID: x = row_id(c); break;
    case C_T: x = r->t; break;
    case C_KIND: x = r->kind; break;
    case C_NAME: x = r->name; goto id;
    case C_SRC: x = r->src; goto id;
    case C_REGION: x = r->region; goto id;
    case C_ACCOUNT: x = r->account; goto id;
    case C_RO:
        if (r->ro < 0)
            return SQLITE_OK;
        x = r->ro;
        break;
    case C_BLK: x = c->b->blk; break;
    case C_OFF: x = r->off; break;
    case C_LEN: x = r->len; break;
    case C_RH:
        if (!r->has_rh)
            return SQLITE_OK;
        x = (int64_t)r->rh;
        break;
    default: return SQLITE_OK; /* err, project, build, actor: such rows are in evrows */
    }
    sqlite3_result_int64(cx, x);
    return SQLITE_OK;
id:
    if (x)
        sqlite3_result_int64(cx, x);
    return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = row_id((rcur *)cur);
    return SQLITE_OK;
}

static const sqlite3_module rows_module = {
    .iVersion = 1,
    .xCreate = NULL, /* eponymous only */
    .xConnect = vt_connect,
    .xBestIndex = vt_best,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

int rows_register(sqlite3 *db, bt_store *s)
{
    return sqlite3_create_module_v2(db, "events", &rows_module, s, NULL) == SQLITE_OK ? 0 : BT_EDB;
}

int max_event_id(bt_store *s, int64_t *v, bt_error *err)
{
    /* a directory's range may end in unused ids: the next id is past them too */
    return get_int(s,
                   "SELECT max(coalesce((SELECT max(id) FROM evrows), 0),"
                   " coalesce((SELECT max(hi) FROM bdir), 0))",
                   v, err);
}
