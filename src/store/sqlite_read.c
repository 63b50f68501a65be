/*
 * sqlite_read.c - reading the SQLite event store: blocks decompressed as far as a
 * search needs (load_block), the SQL a filter becomes (build_where, with the block
 * summaries of search_from), bt_store_search, and the store's facts (info, breakdown,
 * last sequence). The layout it reads is described in sqlite.c and docs/store.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/buf.h"
#include "buildtrail/json.h"
#include "buildtrail/store.h"
#include "store/bloom.h"
#include "store/sqlite_int.h"
#include "util/mfind.h"
#include "util/tsort.h"

/* The most rows a search takes from SQL at a time (see bt_store_search) */
#define CHUNK_MAX 2048

/* ---- reading --------------------------------------------------------------------- */

/* Decompresses into e the first need bytes (at least) of the zstd frames in blob,
 * reading the compressed bytes in growing pieces: a record near the start of its
 * block (the rare records, in a frame of their own: pack_close) costs the
 * decompression of little more than itself. */
static int inflate_prefix(bt_store *s, sqlite3_blob *blob, const ZSTD_DDict *dd, block_ent *e,
                          size_t raw_len, size_t need)
{
    size_t have = 0, total = (size_t)sqlite3_blob_bytes(blob), step = 4u << 10;
    ZSTD_outBuffer out = {e->data.data, raw_len, 0};
    ZSTD_inBuffer in = {NULL, 0, 0};

    if (ZSTD_isError(dict_use(s->zd, dd)))
        return BT_EDB;
    while (out.pos < need) {
        size_t before = out.pos, inpos = in.pos, ret;
        if (in.pos == in.size) {
            size_t n = total - have < step ? total - have : step;
            if (n == 0)
                return BT_EDB; /* the frames end short of need */
            if (bt_buf_reserve(&s->zin, n))
                return BT_ENOMEM;
            if (sqlite3_blob_read(blob, s->zin.data, (int)n, (int)have) != SQLITE_OK)
                return BT_EDB;
            have += n;
            step = step < (256u << 10) ? step * 2 : step;
            in.src = s->zin.data;
            in.size = n;
            in.pos = 0;
            inpos = (size_t)-1;
        }
        ret = ZSTD_decompressStream(s->zd, &out, &in);
        if (ZSTD_isError(ret) || (out.pos == before && in.pos == inpos))
            return BT_EDB;
    }
    e->data.len = out.pos;
    return 0;
}

int open_block(bt_store *s, int64_t id, int *codec, int64_t *raw_len, bt_error *err)
{
    int rc;
    if ((rc = prep(s, &s->st_get_block, "SELECT codec, raw_len FROM blocks WHERE id=?", err)))
        return rc;
    sqlite3_bind_int64(s->st_get_block, 1, id);
    /* the handle of the last block read moves to this one (cheaper than opening one:
     * that compiles a statement); load_blocks_done closes it */
    if (s->blob && sqlite3_blob_reopen(s->blob, id) != SQLITE_OK)
        load_blocks_done(s);
    if (sqlite3_step(s->st_get_block) != SQLITE_ROW ||
        (!s->blob &&
         sqlite3_blob_open(s->db, "main", "blocks", "data", id, 0, &s->blob) != SQLITE_OK)) {
        sqlite3_reset(s->st_get_block);
        load_blocks_done(s);
        return bt_error_set(err, BT_EDB, "store '%s': block %lld is missing", s->path,
                            (long long)id);
    }
    *codec = sqlite3_column_int(s->st_get_block, 0);
    *raw_len = sqlite3_column_int64(s->st_get_block, 1);
    sqlite3_reset(s->st_get_block);
    return 0;
}

int load_block(bt_store *s, int64_t id, size_t need, const bt_buf **out, bt_error *err)
{
    block_ent *e = NULL;
    sqlite3_blob *blob = NULL;
    int i, rc = 0, codec;
    int64_t raw_len;
    const ZSTD_DDict *dd;

    for (i = 0; i < s->cache_n; i++)
        if (s->cache[i].data.data && s->cache[i].id == id) {
            if (s->cache[i].data.len < need && !s->cache[i].full) {
                e = &s->cache[i]; /* a prefix too short: read again, this slot */
                break;
            }
            s->cache[i].age = ++s->tick;
            *out = &s->cache[i].data;
            return 0;
        }
    /* a block still pending in this transaction */
    if (s->in_tx && id == s->blk_id) {
        *out = &s->blk_raw;
        return 0;
    }
    if (!e) { /* the least recently used slot in play (an unused one has age 0) */
        int live;
        for (i = 0; i < CACHE_GHOSTS; i++)
            if (s->ghosts[i] == id) { /* read again soon after it left: more slots */
                s->ghosts[i] = -1;
                if (s->cache_live < BLOCK_CACHE_SCAN)
                    s->cache_live *= 2;
                break;
            }
        live = s->cache_live < s->cache_n ? s->cache_live : s->cache_n;
        for (i = 0; i < live; i++)
            if (!e || s->cache[i].age < e->age)
                e = &s->cache[i];
        if (e->id >= 0 && e->data.data) {
            s->ghosts[s->ghost_at] = e->id;
            s->ghost_at = (s->ghost_at + 1) % CACHE_GHOSTS;
        }
    }
    if ((rc = open_block(s, id, &codec, &raw_len, err)) ||
        (rc = dict_for_codec(s, codec, &dd, err)))
        return rc;
    blob = s->blob;
    bt_buf_clear(&e->data);
    e->id = -1;
    e->full = 0;
    if (raw_len < 0 || (rc = bt_buf_reserve(&e->data, (size_t)raw_len + 1))) {
        rc = raw_len < 0 ? BT_EDB : bt_error_set(err, rc, "out of memory");
        goto done;
    }
    if (need > (size_t)raw_len)
        need = (size_t)raw_len;
    if ((codec == 1 || dd) && need < (size_t)raw_len / 2) {
        rc = inflate_prefix(s, blob, dd, e, (size_t)raw_len, need);
    } else if (codec == 1 || dd) {
        /* most of the block: its compressed bytes at once, decompressed in one call,
         * straight into the slot (the streaming decoder copies its output through a
         * window of its own: 6.6% of a hunt over the store) */
        size_t total = (size_t)sqlite3_blob_bytes(blob), got;
        if (bt_buf_reserve(&s->zin, total))
            rc = BT_ENOMEM;
        else if (sqlite3_blob_read(blob, s->zin.data, (int)total, 0) != SQLITE_OK)
            rc = BT_EDB;
        else if (ZSTD_isError(got = dict_decompress(s->zd, dd, e->data.data, (size_t)raw_len,
                                                    s->zin.data, total)) ||
                 got != (size_t)raw_len)
            rc = BT_EDB;
        else
            e->data.len = got;
    } else if (sqlite3_blob_bytes(blob) != raw_len ||
               sqlite3_blob_read(blob, e->data.data, (int)raw_len, 0) != SQLITE_OK) {
        rc = BT_EDB;
    } else {
        e->data.len = (size_t)raw_len;
    }
    if (rc) {
        rc = rc == BT_ENOMEM ? bt_error_set(err, rc, "out of memory")
                             : bt_error_set(err, BT_EDB, "store '%s': block %lld is corrupt",
                                            s->path, (long long)id);
        e->data.len = 0;
        goto done;
    }
    e->full = e->data.len == (size_t)raw_len;
    e->data.data[e->data.len] = '\0';
    e->id = id;
    e->age = ++s->tick;
    *out = &e->data;
done:
    return rc;
}

void load_blocks_done(bt_store *s)
{
    sqlite3_blob_close(s->blob);
    s->blob = NULL;
}

int add_bind(sqlq *q, int type, int64_t i, const char *s)
{
    if (q->n == q->cap) {
        size_t n = q->cap ? q->cap * 2 : 32;
        bind *v = realloc(q->binds, n * sizeof *v);
        if (!v) {
            q->oom = 1;
            return BT_ENOMEM;
        }
        q->binds = v;
        q->cap = n;
    }
    q->binds[q->n].type = type;
    q->binds[q->n].i = i;
    q->binds[q->n].s = s;
    if (type == 2)
        bt_event_uuid_pack(s, q->binds[q->n].b);
    q->n++;
    return 0;
}

/* Adds name to the names the block walk looks for (q->names). */
static int add_name(sqlq *q, const char *name)
{
    void *v = q->names;
    if (bt_array_grow(&v, &q->capnames, q->nnames + 1, sizeof *q->names, 16))
        return BT_ENOMEM;
    q->names = v;
    q->names[q->nnames++] = (uint32_t)h31(name);
    return 0;
}

static int lookup_str(bt_store *s, const char *str, int64_t *id, bt_error *err)
{
    int rc;
    *id = 0;
    if ((rc = prep(s, &s->st_sel_str, "SELECT id FROM strs WHERE s=?", err)))
        return rc;
    sqlite3_bind_text(s->st_sel_str, 1, str, -1, SQLITE_STATIC);
    if (sqlite3_step(s->st_sel_str) == SQLITE_ROW)
        *id = sqlite3_column_int64(s->st_sel_str, 0);
    sqlite3_reset(s->st_sel_str);
    return 0;
}

/* " AND col IN (ids)" for interned string values; marks the query impossible when
 * none of the values exists. With or_null (bt_filter.missing_ok), " AND (col IS NULL
 * OR col IN (ids))": a record without the field matches too. */
static int cond_in(bt_store *s, sqlq *q, const char *expr, const bt_filter *f,
                   bt_filter_field field, int or_null, bt_error *err)
{
    unsigned i, found = 0;
    int rc;
    if (!f->nvalues[field])
        return 0;
    if (or_null)
        bt_buf_printf(&q->sql, " AND (%s IS NULL OR %s IN (", expr, expr);
    else
        bt_buf_printf(&q->sql, " AND %s IN (", expr);
    for (i = 0; i < f->nvalues[field]; i++) {
        int64_t id;
        if ((rc = lookup_str(s, f->values[field][i], &id, err)))
            return rc;
        if (!id)
            continue;
        bt_buf_puts(&q->sql, found ? ",?" : "?");
        if (add_bind(q, 0, id, NULL) ||
            (field == BT_F_EVENT_NAME && !or_null && add_name(q, f->values[field][i])))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        found++;
    }
    if (field == BT_F_EVENT_NAME && !or_null)
        q->prune = 1;
    bt_buf_puts(&q->sql, or_null ? "))" : ")");
    if (!found && !or_null)
        q->impossible = 1;
    return 0;
}

/*
 * The names the filter's sources have been seen with (`srcnames`, schema 7), as the
 * names the block walk looks for (q->names): a source's events lie in the blocks whose
 * name set holds one of them. Nothing when a source was seen without a name (the walk
 * then opens every block in the time range); impossible when no event has one of the
 * sources.
 */
static int source_names(bt_store *s, sqlq *q, const bt_filter *f, bt_error *err)
{
    unsigned i;
    sqlite3_stmt *st = NULL;
    int rc = 0, usable = 1, step = SQLITE_DONE, any = 0;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT n.name, t.s FROM srcnames n LEFT JOIN strs t ON t.id = n.name"
                           " WHERE n.src = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "query");
    for (i = 0; usable && i < f->nvalues[BT_F_EVENT_SOURCE]; i++) {
        int64_t id;
        if ((rc = lookup_str(s, f->values[BT_F_EVENT_SOURCE][i], &id, err)))
            goto done;
        if (!id)
            continue;
        sqlite3_bind_int64(st, 1, id);
        while (usable && (step = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *nm = sqlite3_column_text(st, 1);
            any = 1;
            if (!sqlite3_column_int64(st, 0) || !nm)
                usable = 0;
            else if (add_name(q, (const char *)nm)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                goto done;
            }
        }
        sqlite3_reset(st);
        if (usable && step != SQLITE_DONE) {
            rc = db_err_code(s, err, "query", step);
            goto done;
        }
    }
    if (!any)
        q->impossible = 1;
    else if (usable)
        q->prune = 1;
done:
    sqlite3_finalize(st);
    return rc;
}

/* " AND ((e.rh & m) = m OR ...)": each value's fingerprint (bloom.h bt_bloom_rmask) in
 * the row's fingerprint of its resources; a superset, checked on the record after. */
static int cond_rmask(sqlq *q, const bt_filter *f, bt_filter_field field, int tag, bt_error *err)
{
    unsigned i;
    if (!f->nvalues[field])
        return 0;
    bt_buf_puts(&q->sql, " AND (");
    for (i = 0; i < f->nvalues[field]; i++) {
        int64_t m = (int64_t)bt_bloom_rmask(bt_bloom_rkey(tag, h31(f->values[field][i])));
        bt_buf_puts(&q->sql, i ? " OR (e.rh & ?) = ?" : "(e.rh & ?) = ?");
        if (add_bind(q, 0, m, NULL) || add_bind(q, 0, m, NULL))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    bt_buf_puts(&q->sql, ")");
    return 0;
}

/* A CTE h(b) of the hours table T holds, each found by one seek from the last (a
 * loose index scan): a key looked up without its hour is then one seek an hour
 * (schema 6), 336 for the 5M-event bench store. */
#define EID_BITS_SQL "40" /* EID_HASH_BITS */
_Static_assert(EID_HASH_BITS == 40, "EID_BITS_SQL");

static int build_where(bt_store *s, sqlq *q, const bt_filter *f, const bt_store_query *bq,
                       bt_error *err)
{
    static const struct {
        bt_filter_field field;
        const char *col;
    } cols[] = {
        {BT_F_EVENT_NAME, "e.name"}, {BT_F_EVENT_SOURCE, "e.src"}, {BT_F_ERROR_CODE, "e.err"},
        {BT_F_ACCOUNT, "e.account"}, {BT_F_REGION, "e.region"},    {BT_F_PROJECT, "e.project"},
    };
    unsigned kinds, i;
    size_t c;
    int rc;

    bt_buf_puts(&q->sql, " WHERE 1");
    if (!f)
        goto pos;
    if (f->start_ms != INT64_MIN) {
        bt_buf_puts(&q->sql, " AND e.t >= ?");
        add_bind(q, 0, f->start_ms, NULL);
    }
    if (f->end_ms != INT64_MAX) {
        bt_buf_puts(&q->sql, " AND e.t <= ?");
        add_bind(q, 0, f->end_ms, NULL);
    }
    kinds = f->kinds
                ? f->kinds
                : (1u << BT_KIND_API) | (1u << BT_KIND_BUILD_STATE) | (1u << BT_KIND_BUILD_PHASE);
    if (kinds != 0xF) {
        int first = 1;
        bt_buf_puts(&q->sql, " AND e.kind IN (");
        for (i = 0; i < 4; i++)
            if (kinds & (1u << i)) {
                bt_buf_printf(&q->sql, first ? "%u" : ",%u", i);
                first = 0;
            }
        bt_buf_puts(&q->sql, ")");
    }
    if (f->read_only >= 0)
        bt_buf_printf(&q->sql, " AND e.ro = %d", f->read_only);
    if (f->errors_only)
        bt_buf_puts(&q->sql, " AND e.err IS NOT NULL");
    if (f->nvalues[BT_F_EVENT_SOURCE] && !f->nvalues[BT_F_EVENT_NAME] &&
        !((f->missing_ok >> BT_F_EVENT_SOURCE) & 1u) && (rc = source_names(s, q, f, err)))
        return rc;
    for (c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        /* the source has no index (source_names): "+" keeps the planner from looking
         * for one */
        const char *col = cols[c].field == BT_F_EVENT_SOURCE ? "+e.src" : cols[c].col;
        if ((rc = cond_in(s, q, col, f, cols[c].field, (f->missing_ok >> cols[c].field) & 1u, err)))
            return rc;
    }
    if (f->nvalues[BT_F_BUILD]) {
        /* the records about the build and the calls its own role session made: rows of
         * `evrows` all (sqlite_rows.c), found through its two indexes, then by id (an OR
         * of the two is not a constraint the table `events` can take) */
        size_t first = q->n, j, n;
        if ((rc = cond_in(s, q, "e.id IN (SELECT id FROM evrows WHERE build", f, BT_F_BUILD, 0,
                          err)))
            return rc;
        n = q->n - first;
        bt_buf_puts(&q->sql, " UNION ALL SELECT id FROM evrows WHERE actor IN (");
        for (j = 0; j < n; j++) {
            bt_buf_puts(&q->sql, j ? ",?" : "?");
            add_bind(q, 0, q->binds[first + j].i, NULL);
        }
        bt_buf_puts(&q->sql, "))");
    }
    if (f->nvalues[BT_F_EVENT_ID]) {
        /* each hour `eids` holds (a loose index scan: one seek from the last), and in it
         * the chunk that would hold each id's key (eid_key: the hour's bits, then the id's
         * hash; the row with the greatest key not above it), searched (bt_eid_find); the
         * same for each run of an hour `eidr` holds (schema 16: its key's bits above the
         * hash are the hour's and the run's); then the ids kept by their bytes (`eidx`,
         * the few whose key another id of their hour holds). A hash that matches another
         * id is dropped when the record is checked */
        bt_buf_puts(
            &q->sql,
            " AND e.id IN (WITH RECURSIVE h(b) AS (SELECT (SELECT min(k) FROM eids)"
            " >> " EID_BITS_SQL " UNION ALL SELECT (SELECT min(k) FROM eids WHERE"
            " k >= (h.b + 1) << " EID_BITS_SQL ") >> " EID_BITS_SQL
            " FROM h WHERE h.b IS NOT NULL),"
            " g(b) AS (SELECT (SELECT min(k) FROM eidr) >> " EID_BITS_SQL
            " UNION ALL SELECT (SELECT min(k) FROM eidr WHERE k >= (g.b + 1) << " EID_BITS_SQL
            ") >> " EID_BITS_SQL " FROM g WHERE g.b IS NOT NULL)");
        for (i = 0; i < f->nvalues[BT_F_EVENT_ID]; i++) {
            unsigned char tmp[16];
            const char *v = f->values[BT_F_EVENT_ID][i];
            int64_t k =
                bt_event_uuid_pack(v, tmp) ? eid_key(0, tmp, 16, 0) : eid_key(0, v, strlen(v), 1);
            int t;
            for (t = 0; t < 2; t++) {
                bt_buf_puts(&q->sql, i || t ? " UNION ALL " : " ");
                bt_buf_puts(&q->sql, t ? "SELECT bt_eid_find((SELECT x.e FROM eidr x WHERE x.k <="
                                         " ((g.b << " EID_BITS_SQL ") | ?) ORDER BY x.k DESC"
                                         " LIMIT 1), ?) FROM g WHERE g.b IS NOT NULL"
                                       : "SELECT bt_eid_find((SELECT x.e FROM eids x WHERE x.k <="
                                         " ((h.b << " EID_BITS_SQL ") | ?) ORDER BY x.k DESC"
                                         " LIMIT 1), ?) FROM h WHERE h.b IS NOT NULL");
                add_bind(q, 0, k, NULL);
                add_bind(q, 0, k, NULL);
            }
        }
        bt_buf_puts(&q->sql, " UNION ALL SELECT ev FROM eidx WHERE eid IN (");
        for (i = 0; i < f->nvalues[BT_F_EVENT_ID]; i++) {
            unsigned char tmp[16];
            const char *v = f->values[BT_F_EVENT_ID][i];
            bt_buf_puts(&q->sql, i ? ",?" : "?");
            add_bind(q, bt_event_uuid_pack(v, tmp) ? 2 : 1, 0, v);
        }
        bt_buf_puts(&q->sql, "))");
    }
    if ((rc = cond_rmask(q, f, BT_F_RESOURCE_NAME, BT_BK_RNAME, err)) ||
        (rc = cond_rmask(q, f, BT_F_RESOURCE_TYPE, BT_BK_RTYPE, err)))
        return rc;
pos:
    if (bq && bq->after_seq > 0) {
        /* the rowid range: the rows a later ingest added, sorted */
        bt_buf_puts(&q->sql, " AND e.id > ?");
        add_bind(q, 0, bq->after_seq, NULL);
    }
    if (bq && bq->after) {
        /* the plain bound on t lets the index range start at the position, rather than
         * scan every row before it */
        bt_buf_puts(&q->sql, bq->oldest_first
                                 ? " AND e.t >= ? AND (e.t > ? OR (e.t = ? AND e.id > ?))"
                                 : " AND e.t <= ? AND (e.t < ? OR (e.t = ? AND e.id < ?))");
        add_bind(q, 0, bq->after->time_ms, NULL);
        add_bind(q, 0, bq->after->time_ms, NULL);
        add_bind(q, 0, bq->after->time_ms, NULL);
        add_bind(q, 0, bq->after->seq, NULL);
    }
    if (q->sql.data == NULL)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

int prepare_query(bt_store *s, sqlq *q, sqlite3_stmt **st, bt_error *err)
{
    size_t i;
    if (sqlite3_prepare_v2(s->db, q->sql.data, -1, st, NULL) != SQLITE_OK)
        return db_err(s, err, "query");
    for (i = 0; i < q->n; i++) {
        bind *b = &q->binds[i];
        if (b->type == 0)
            sqlite3_bind_int64(*st, (int)i + 1, b->i);
        else if (b->type == 1)
            sqlite3_bind_text(*st, (int)i + 1, b->s, -1, SQLITE_STATIC);
        else if (b->type == 3)
            sqlite3_bind_blob(*st, (int)i + 1, b->s, (int)b->i, SQLITE_STATIC);
        else
            sqlite3_bind_blob(*st, (int)i + 1, b->b, 16, SQLITE_STATIC);
    }
    return 0;
}

/* The filter's summarised fields, as block summaries test them: per field with
 * values, a group of the values' keys (bloom.h), in the summary of the event's fields
 * (bsum.bloom) or of its resources (rkey: bsum.rbloom). */
static const struct {
    bt_filter_field field;
    int tag, rkey;
} bloom_fields[] = {
    {BT_F_USERNAME, BT_BK_USER, 0},       {BT_F_PRINCIPAL, BT_BK_PRINCIPAL, 0},
    {BT_F_ACCESS_KEY_ID, BT_BK_AKID, 0},  {BT_F_SOURCE_IP, BT_BK_IP, 0},
    {BT_F_RESOURCE_NAME, BT_BK_RNAME, 1}, {BT_F_RESOURCE_TYPE, BT_BK_RTYPE, 1},
};

/* 1 when the blocks whose summaries may hold keys[0] (fields) and keys[1] (resources)
 * are at most an eighth of all. */
static int summaries_selective(bt_store *s, const bt_buf *keys)
{
    sqlite3_stmt *st = NULL;
    int64_t all = 0, hit = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*), total(bt_bloom_match(bloom, ?)"
                           " AND bt_bloom_match(rbloom, ?)) FROM bsum",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_blob(st, 1, keys[0].data, (int)keys[0].len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, keys[1].data, (int)keys[1].len, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        all = sqlite3_column_int64(st, 0);
        hit = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return hit * 8 <= all;
}

/*
 * The FROM clause of a search. A filter on a summarised field (user, principal,
 * access key, source IP, resource name or type) that no exact index serves better (event
 * id, build), and whose values at most an eighth of the blocks may hold (any number
 * when all results are wanted: scan_beats_walk), reads those blocks through their id
 * ranges; keys[0] and keys[1] (both empty otherwise) are then the groups of keys
 * bt_bloom_match tests in bsum.bloom and bsum.rbloom: per field, the number of values
 * then their keys, as 64-bit words. Otherwise the search walks the rows, and each row's
 * record decides (sql_exact).
 */
/* 1 when the rows' columns answer f exactly: no field the rows do not hold (user,
 * principal, access key, source IP: schema 9) or hold only in a fingerprint (resource
 * name and type), so a row that passes the SQL needs no check on its parsed record. */
static int sql_exact(const bt_filter *f)
{
    return !f || (!f->nvalues[BT_F_USERNAME] && !f->nvalues[BT_F_PRINCIPAL] &&
                  !f->nvalues[BT_F_ACCESS_KEY_ID] && !f->nvalues[BT_F_SOURCE_IP] &&
                  !f->nvalues[BT_F_RESOURCE_NAME] && !f->nvalues[BT_F_RESOURCE_TYPE]);
}

/* 1 when the rows that pass f are best found by reading the rows of the blocks whose
 * summaries may hold its values and sorting them, rather than by a walk in time order:
 * all of them are wanted (no limit, or more than SCAN_LIMIT), from no position, and f
 * narrows the rows only by fields the summaries hold. A walk in time order looks up every
 * row and reads its record (through the time index, before schema 11: 5M lookups on 5M
 * events, 3.1 s for the 22k events that name one role, against 0.5 s read in place and
 * sorted); a page of a common value is found sooner by the walk. */
static int scan_beats_walk(const bt_filter *f, const bt_store_query *bq)
{
    if (!f || (bq->limit && bq->limit <= SCAN_LIMIT) || bq->after || bq->after_seq > 0 ||
        f->errors_only || f->start_ms != INT64_MIN || f->end_ms != INT64_MAX ||
        f->nvalues[BT_F_EVENT_NAME] || f->nvalues[BT_F_EVENT_SOURCE] || f->nvalues[BT_F_PROJECT] ||
        f->nvalues[BT_F_BUILD] || f->nvalues[BT_F_ERROR_CODE] || f->nvalues[BT_F_EVENT_ID])
        return 0;
    return !sql_exact(f); /* a summarised field narrows it */
}

static int search_from(bt_store *s, sqlq *q, const bt_filter *f, const bt_store_query *bq,
                       bt_buf keys[2])
{
    size_t c;
    unsigned i;
    int use = 0;

    if (f && !f->nvalues[BT_F_EVENT_ID] && !f->nvalues[BT_F_BUILD])
        for (c = 0; c < sizeof bloom_fields / sizeof bloom_fields[0]; c++)
            use |= f->nvalues[bloom_fields[c].field] != 0;
    for (c = 0; use && c < sizeof bloom_fields / sizeof bloom_fields[0]; c++) {
        bt_filter_field fld = bloom_fields[c].field;
        bt_buf *k = &keys[bloom_fields[c].rkey];
        uint64_t w = f->nvalues[fld];
        if (!w)
            continue;
        if (bt_buf_append(k, &w, sizeof w))
            return BT_ENOMEM;
        for (i = 0; i < f->nvalues[fld]; i++) {
            w = bloom_fields[c].rkey ? bt_bloom_rkey(bloom_fields[c].tag, h31(f->values[fld][i]))
                                     : bt_bloom_key(bloom_fields[c].tag, f->values[fld][i]);
            if (bt_buf_append(k, &w, sizeof w))
                return BT_ENOMEM;
        }
    }
    /* values most blocks hold: the time-ordered walk finds a page sooner (all of the
     * results are read from the blocks the summaries choose, however many) */
    if (use && !scan_beats_walk(f, bq) && !summaries_selective(s, keys)) {
        bt_buf_clear(&keys[0]);
        bt_buf_clear(&keys[1]);
    }
    use = keys[0].len || keys[1].len;
    bt_buf_puts(&q->sql, use ? "SELECT e.id, e.t, e.kind, e.blk, e.off, e.len FROM bsum b"
                               " CROSS JOIN events e"
                               " ON e.id BETWEEN b.lo AND b.hi AND e.blk = b.blk"
                             : "SELECT e.id, e.t, e.kind, e.blk, e.off, e.len FROM events e");
    return q->sql.data ? 0 : BT_ENOMEM;
}

/* SQL bt_bloom_match(bloom, keys): 1 when the block summary bloom may hold, for every
 * group in keys (see search_from), one of the group's keys; a block without a summary
 * (written before summaries) may hold anything. */
void sql_bloom_match(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const unsigned char *bits = sqlite3_value_blob(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]), nw, w = 0;
    const unsigned char *kb = sqlite3_value_blob(argv[1]);
    int ok = 1;

    (void)argc;
    nw = (size_t)sqlite3_value_bytes(argv[1]) / 8;
    while (bits && ok && w < nw) {
        uint64_t cnt, key, j;
        int any = 0;
        memcpy(&cnt, kb + 8 * w++, 8);
        for (j = 0; j < cnt && w < nw; j++, w++) {
            memcpy(&key, kb + 8 * w, 8);
            any = any || bt_bloom_has(bits, len, key);
        }
        ok = any;
    }
    sqlite3_result_int(cx, ok);
}

int rawcheck_init(rawcheck *c, const bt_filter *f)
{
    static const bt_filter_field fields[] = {BT_F_USERNAME, BT_F_PRINCIPAL, BT_F_ACCESS_KEY_ID,
                                             BT_F_SOURCE_IP, BT_F_RESOURCE_NAME};
    const char *lits[BT_MFIND_MAX];
    size_t lens[BT_MFIND_MAX], k;
    unsigned i;
    int rc;

    memset(c, 0, sizeof *c);
    for (k = 0; f && k < sizeof fields / sizeof fields[0]; k++) {
        unsigned nv = f->nvalues[fields[k]];
        if (!nv || nv > BT_MFIND_MAX)
            continue;
        for (i = 0; i < nv; i++) {
            const char *v = f->values[fields[k]][i];
            const char *slash = fields[k] == BT_F_RESOURCE_NAME ? strrchr(v, '/') : NULL;
            lits[i] = slash ? slash + 1 : v;
            lens[i] = strlen(lits[i]);
            if (!lens[i])
                break; /* a value that leaves no bytes: this field cannot be checked */
        }
        if (i < nv)
            continue;
        if ((rc = bt_mfind_new(lits, lens, nv, &c->m[c->n])))
            return rc;
        c->n++;
    }
    return 0;
}

int rawcheck_pass(const rawcheck *c, const char *rec, size_t len)
{
    int i;
    if (!c->n || memchr(rec, '\\', len))
        return 1;
    for (i = 0; i < c->n; i++)
        if (!bt_mfind_any(c->m[i], rec, len))
            return 0;
    return 1;
}

void rawcheck_free(rawcheck *c)
{
    int i;
    for (i = 0; i < c->n; i++)
        bt_mfind_free(c->m[i]);
    c->n = 0;
}

/* Rows by block, then offset (a chunk's records read block by block: chunk_records). */
static int less_srow_block(srow *const *x, srow *const *y)
{
    const srow *a = *x, *b = *y;
    if (a->blk != b->blk)
        return a->blk < b->blk;
    return a->off < b->off;
}
BT_TSORT_DEFINE(sort_by_block, srow *, less_srow_block)

int row_event(bt_arena *a, const char *path, const srow *r, const char *at, bt_event *ev,
              bt_error *err)
{
    bt_json *rec;
    int rc;
    bt_arena_reset(a);
    if ((rc = bt_json_parse(a, at, (size_t)r->len, NULL, &rec, err))) {
        char why[96];
        snprintf(why, sizeof why, "stored event %lld is not JSON", (long long)r->id);
        return rc == BT_ENOMEM ? rc : corrupt_err(path, err, why);
    }
    if (r->kind == BT_KIND_BUILD_STATE || r->kind == BT_KIND_BUILD_PHASE)
        return bt_event_from_build_status(a, rec, ev, err);
    return bt_event_from_record(a, rec, ev, err);
}

/* Finds the records of a chunk's n rows (order: pointers to them): each row's at points
 * at its record in the block cache or, when the chunk's blocks do not all fit in the
 * cache, its copy is where the record was copied into copy. Block by block (order is
 * sorted by block, then offset): a block is decompressed up to the end of the last
 * record the chunk needs (whole: all of it, for a walk of every row), and, when the
 * chunk's blocks all fit in the cache, none of them leaves it before the chunk is
 * delivered, so the records are read where they are, not copied. */
static int chunk_records(bt_store *s, srow **order, size_t n, int whole, bt_buf *copy,
                         bt_error *err)
{
    size_t i, nblocks;
    int rc, inplace;

    sort_by_block(order, n);
    bt_buf_clear(copy);
    for (i = 1, nblocks = n ? 1 : 0; i < n; i++)
        nblocks += order[i]->blk != order[i - 1]->blk;
    /* rows dense in their blocks are read in place, their blocks held at once (more
     * slots in play if need be); sparse ones are copied out (sqlite_int.h) */
    if (nblocks > (size_t)s->cache_live && nblocks <= (size_t)s->cache_n &&
        n >= CHUNK_DENSE * nblocks)
        s->cache_live = (int)nblocks;
    inplace = nblocks <= (size_t)s->cache_live && nblocks <= (size_t)s->cache_n;
    for (i = 0; i < n; i++) {
        const bt_buf *blk = NULL;
        srow *r = order[i];
        const srow *last = r; /* the block's last record: the first row loads it */
        size_t j = i, need = SIZE_MAX;
        if (i == 0 || order[i - 1]->blk != r->blk) {
            while (j + 1 < n && order[j + 1]->blk == r->blk)
                j++;
            last = order[j];
        }
        /* a walk of every row reads the block whole: its other records come later, and
         * a prefix would be decompressed again from the start for them */
        if (last->off >= 0 && last->len >= 0 && !whole)
            need = (size_t)(last->off + last->len);
        if ((rc = load_block(s, r->blk, need, &blk, err)))
            return rc;
        if (r->off < 0 || r->len < 0 || (size_t)(r->off + r->len) > blk->len)
            return bt_error_set(err, BT_EDB, "store '%s': event %lld points outside its block",
                                s->path, (long long)r->id);
        r->at = NULL;
        if (inplace) {
            r->at = blk->data + r->off;
            continue;
        }
        r->copy = copy->len;
        if ((rc = bt_buf_append(copy, blk->data + r->off, (size_t)r->len)))
            return bt_error_set(err, rc, "out of memory");
    }
    return 0;
}

/* The string of interned id through st ("SELECT s FROM strs WHERE id = ?"), malloc'd;
 * NULL for 0, an unknown id or no memory. */
static char *str_of_id(sqlite3_stmt *st, int64_t id)
{
    char *out = NULL;
    if (!id)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return out;
}

/* The event names of the rows a search delivers unparsed (raw_only), by string id: the
 * few hundred names a store holds, read from strs once each. A full table answers NULL
 * (the consumer then reads the name from the record, as without it). */
#define NAME_SLOTS 1024
typedef struct name_cache {
    int64_t id[NAME_SLOTS]; /* 0: free */
    char *s[NAME_SLOTS];
    sqlite3_stmt *st;
} name_cache;

static const char *name_of(bt_store *s, name_cache **cp, int64_t id)
{
    name_cache *c = *cp;
    size_t i, k;
    if (id <= 0)
        return NULL;
    if (!c && !(c = *cp = calloc(1, sizeof *c)))
        return NULL;
    for (k = 0, i = (size_t)id & (NAME_SLOTS - 1); k < NAME_SLOTS;
         k++, i = (i + 1) & (NAME_SLOTS - 1)) {
        if (c->id[i] == id)
            return c->s[i];
        if (c->id[i])
            continue;
        if (!c->st && sqlite3_prepare_v2(s->db, "SELECT s FROM strs WHERE id = ?", -1, &c->st,
                                         NULL) != SQLITE_OK)
            return NULL;
        if (!(c->s[i] = str_of_id(c->st, id)))
            return NULL;
        c->id[i] = id;
        return c->s[i];
    }
    return NULL;
}

static void name_cache_free(name_cache *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; i < NAME_SLOTS; i++)
        free(c->s[i]);
    sqlite3_finalize(c->st);
    free(c);
}

/*
 * Rows come in time order but records sit in blocks in ingest order, so rows are
 * taken in chunks: each chunk's records are copied out block by block (every block
 * decompressed at most once per chunk), then delivered in time order. Chunks start
 * small (a page of 50 costs one small chunk) and double up to CHUNK_MAX rows.
 */
int bt_store_search(bt_store *s, const bt_store_query *bq, bt_store_event_fn fn, void *ctx,
                    bt_error *err)
{
    sqlq q;
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_ROW;
    uint64_t delivered = 0;
    size_t chunk = 64, n, i, where_at;
    srow *rows = NULL, **order = NULL;
    bt_buf copy = BT_BUF_INIT, bkeys[2] = {BT_BUF_INIT, BT_BUF_INIT};
    int walking = 0, incr = 0, raw, more;
    srow *pre = NULL; /* the prefiltered rows, when there are (prefilter) */
    size_t npre = 0, ipre = 0;
    bt_buf precs = BT_BUF_INIT; /* and their records, when prefilter kept them */
    bt_event ev;
    rawcheck chk;
    bwalk w;
    name_cache *names = NULL; /* raw delivery's event names */

    memset(&q, 0, sizeof q);
    memset(&chk, 0, sizeof chk);
    memset(&w, 0, sizeof w);
    if (search_from(s, &q, bq->filter, bq, bkeys)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    where_at = q.sql.len;
    if ((rc = build_where(s, &q, bq->filter, bq, err)))
        goto done;
    if (q.impossible)
        goto done;
    raw = bq->raw_only && sql_exact(bq->filter) && !bkeys[0].len && !bkeys[1].len;
    if (!sql_exact(bq->filter) && rawcheck_init(&chk, bq->filter)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (bkeys[0].len || bkeys[1].len) {
        bt_buf_puts(&q.sql, " AND bt_bloom_match(b.bloom, ?) AND bt_bloom_match(b.rbloom, ?)");
        add_bind(&q, 3, (int64_t)bkeys[0].len, bkeys[0].data);
        add_bind(&q, 3, (int64_t)bkeys[1].len, bkeys[1].data);
    } else if (q.prune ? !scan_beats_walk(bq->filter, bq) && walk_serves(bq->filter, bq)
                       : walk_whole(bq)) {
        walking = 1;
    } else if (!q.prune && walk_serves(bq->filter, bq)) {
        walking = incr = 1; /* a page in time order: the blocks' time directories */
    }
    /* no SQL LIMIT: rows are verified below, and the limit counts verified rows; with an
     * index that gives the order, SQLite produces rows lazily anyway */
    if (walking) {
        if ((rc = walk_start(s, &w, &q, where_at, bq, incr, err)))
            goto done;
    } else if (bkeys[0].len && scan_beats_walk(bq->filter, bq)) {
        if ((rc = prepare_query(s, &q, &st, err)) ||
            (rc = prefilter(s, st, bq, &chk, &pre, &npre, &precs, err)))
            goto done;
        sqlite3_finalize(st);
        st = NULL;
        rawcheck_free(&chk); /* the rows kept are known to match */
        if (!pre)
            goto done;
    } else {
        bt_buf_puts(&q.sql, bq->oldest_first ? " ORDER BY e.t ASC, e.id ASC"
                                             : " ORDER BY e.t DESC, e.id DESC");
        if ((rc = prepare_query(s, &q, &st, err)))
            goto done;
    }
    /* every row of the store: keep more blocks (sqlite_int.h). Not for the rows stored
     * after a sequence number (watch's evaluation of what a cycle stored): they lie in
     * the blocks the cycle wrote, and the 48 more slots (24 MB) were the peak of watch's
     * memory (VmHWM 108-109 MB against 96-97 MB, the same events/s) */
    if (!bq->limit && !(bq->after_seq > 0))
        s->cache_n = BLOCK_CACHE_SCAN;
    rows = malloc(CHUNK_MAX * sizeof *rows);
    order = malloc(CHUNK_MAX * sizeof *order);
    if (!rows || !order) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    while (step == SQLITE_ROW && (!bq->limit || delivered < bq->limit)) {
        size_t want = chunk;
        if (bq->limit && bq->limit - delivered < want)
            want = (size_t)(bq->limit - delivered); /* verified rows may need more chunks */
        for (n = 0; n < want; n++) {
            if (walking) {
                if ((rc = walk_next(s, &w, &rows[n], &more, err)))
                    goto done;
                if (!more) {
                    step = SQLITE_DONE;
                    break;
                }
            } else if (pre) {
                if (ipre == npre) {
                    step = SQLITE_DONE;
                    break;
                }
                rows[n] = pre[ipre++];
            } else {
                if ((step = sqlite3_step(st)) != SQLITE_ROW)
                    break;
                rows[n].id = sqlite3_column_int64(st, 0);
                rows[n].t = sqlite3_column_int64(st, 1);
                rows[n].kind = sqlite3_column_int(st, 2);
                rows[n].blk = sqlite3_column_int64(st, 3);
                rows[n].off = sqlite3_column_int64(st, 4);
                rows[n].len = sqlite3_column_int64(st, 5);
                rows[n].name = 0; /* not read: the partial indexes do not cover it */
            }
            order[n] = &rows[n];
        }
        if (n == 0)
            break;
        if (chunk < CHUNK_MAX)
            chunk *= 2;
        /* the prefilter's copies, when it kept them, are the records at hand */
        if (!(pre && precs.len) &&
            (rc = chunk_records(s, order, n, walking && !q.prune && !incr, &copy, err)))
            goto done;
        /* deliver in time order */
        for (i = 0; i < n && (!bq->limit || delivered < bq->limit); i++) {
            bt_store_pos pos;
            pos.seq = rows[i].id;
            pos.time_ms = rows[i].t;
            pos.unparsed = raw;
            if (raw) { /* the consumer prints the record: no parse (--errors -o ndjson) */
                memset(&ev, 0, sizeof ev);
                ev.raw = rows[i].at ? rows[i].at : copy.data + rows[i].copy;
                ev.raw_len = (size_t)rows[i].len;
                ev.time_ms = rows[i].t;
                ev.kind = (bt_event_kind)rows[i].kind;
                ev.read_only = -1;
                if (ev.kind == BT_KIND_API)
                    ev.event_name = name_of(s, &names, rows[i].name);
                delivered++;
                if ((rc = fn(ctx, &ev, &pos)))
                    goto done;
                continue;
            }
            if (!rawcheck_pass(&chk, rows[i].at ? rows[i].at : copy.data + rows[i].copy,
                               (size_t)rows[i].len))
                continue; /* it cannot match (rawcheck) */
            if ((rc = row_event(s->arena, s->path, &rows[i],
                                rows[i].at ? rows[i].at : copy.data + rows[i].copy, &ev, err)))
                goto done;
            /* the summaries are supersets, and the rows do not hold every field: the
             * event itself decides (prefilter's rows it has decided) */
            if (bq->filter && !pre && !bt_filter_match(bq->filter, &ev))
                continue;
            delivered++;
            if ((rc = fn(ctx, &ev, &pos)))
                goto done;
        }
        if (walking)
            walk_rank_cache(s, &w);
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_err_code(s, err, "query", step);
done:
    load_blocks_done(s);
    if (s->cache_n > BLOCK_CACHE) { /* the extra slots' memory goes with the scan */
        for (i = BLOCK_CACHE; i < (size_t)s->cache_n; i++) {
            bt_buf_dispose(&s->cache[i].data);
            s->cache[i].id = -1;
            s->cache[i].age = 0;
        }
        s->cache_n = BLOCK_CACHE;
    }
    sqlite3_finalize(st);
    walk_free(s, &w);
    bt_buf_dispose(&q.sql);
    free(q.names);
    bt_buf_dispose(&copy);
    rawcheck_free(&chk);
    bt_buf_dispose(&bkeys[0]);
    bt_buf_dispose(&bkeys[1]);
    free(q.binds);
    free(rows);
    free(order);
    free(pre);
    name_cache_free(names);
    bt_buf_dispose(&precs);
    return rc;
}

int bt_store_get_info(bt_store *s, bt_store_info *info, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    struct stat sb;
    char *wal = NULL;
    int rc = 0;

    memset(info, 0, sizeof *info);
    info->schema_version = s->version;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*), coalesce(sum(kind IN (0,3)),0),"
                           " coalesce(sum(kind IN (1,2)),0), min(t), max(t) FROM events",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "info");
    if (sqlite3_step(st) == SQLITE_ROW) {
        info->events = (uint64_t)sqlite3_column_int64(st, 0);
        info->api_events = (uint64_t)sqlite3_column_int64(st, 1);
        info->build_status_events = (uint64_t)sqlite3_column_int64(st, 2);
        info->min_time_ms = sqlite3_column_int64(st, 3);
        info->max_time_ms = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM sources), count(*),"
                           " coalesce(sum(raw_len),0), coalesce(sum(length(data)),0) FROM blocks",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "info");
    if (sqlite3_step(st) == SQLITE_ROW) {
        info->sources = (uint64_t)sqlite3_column_int64(st, 0);
        info->blocks = (uint64_t)sqlite3_column_int64(st, 1);
        info->raw_bytes = (uint64_t)sqlite3_column_int64(st, 2);
        info->stored_bytes = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (stat(s->path, &sb) == 0)
        info->file_bytes = (uint64_t)sb.st_size;
    if (asprintf(&wal, "%s-wal", s->path) >= 0) {
        if (stat(wal, &sb) == 0)
            info->file_bytes += (uint64_t)sb.st_size;
        free(wal);
    }
    return rc;
}

/* One (account, region) of bt_store_breakdown. */
typedef struct brk_ent {
    int64_t account, region; /* interned ids; 0 for none */
    uint64_t n;
    int64_t lo, hi;
    char *a, *r; /* their strings (owned), NULL for none */
} brk_ent;

/* As SQL's ORDER BY a.s, r.s: NULL first, then by bytes. */
static int cmp_nullstr(const char *x, const char *y)
{
    if (!x || !y)
        return !x && !y ? 0 : !x ? -1 : 1;
    return strcmp(x, y);
}

static int cmp_brk(const void *x, const void *y)
{
    const brk_ent *p = x, *q = y;
    int c = cmp_nullstr(p->a, q->a);
    return c ? c : cmp_nullstr(p->r, q->r);
}

/* The slot hash of a (account, region) pair. */
static uint64_t brk_hash(int64_t a, int64_t r)
{
    return ((uint64_t)a * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)r * 0xC2B2AE3D27D4EB4Full);
}

/*
 * The pairs are counted here, in an open-addressing table of the (few) pairs, in one
 * pass over the rows: SQL's GROUP BY sorted all of them in a temporary B-tree first,
 * which lives in memory (temp_store=MEMORY): 414 MB and 6 s on 5M events.
 */
int bt_store_breakdown(bt_store *s,
                       int (*fn)(void *ctx, const char *account, const char *region, uint64_t n,
                                 int64_t min_ms, int64_t max_ms),
                       void *ctx, bt_error *err)
{
    sqlite3_stmt *st = NULL, *str = NULL;
    brk_ent *v = NULL, *list = NULL;
    size_t cap = 64, n = 0, i, k;
    int rc = 0, step;

    if (!(v = calloc(cap, sizeof *v)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, "SELECT account, region, t FROM events", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_err(s, err, "info");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(st, 0), r = sqlite3_column_int64(st, 1);
        int64_t t = sqlite3_column_int64(st, 2);
        uint64_t h = brk_hash(a, r);
        brk_ent *e;
        for (k = (size_t)(h >> 32) & (cap - 1); v[k].n && (v[k].account != a || v[k].region != r);
             k = (k + 1) & (cap - 1))
            ;
        e = &v[k];
        if (!e->n) {
            e->account = a;
            e->region = r;
            e->lo = e->hi = t;
            if (++n * 2 > cap) { /* grow: rehash into twice the slots */
                brk_ent *nv = calloc(cap * 2, sizeof *nv);
                if (!nv) {
                    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                    goto done;
                }
                e->n = 1;
                for (i = 0; i < cap; i++) {
                    uint64_t g;
                    if (!v[i].n)
                        continue;
                    g = brk_hash(v[i].account, v[i].region);
                    for (k = (size_t)(g >> 32) & (cap * 2 - 1); nv[k].n;
                         k = (k + 1) & (cap * 2 - 1))
                        ;
                    nv[k] = v[i];
                }
                free(v);
                v = nv;
                cap *= 2;
                continue;
            }
        } else {
            e->lo = t < e->lo ? t : e->lo;
            e->hi = t > e->hi ? t : e->hi;
        }
        e->n++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(s, err, "info");
        goto done;
    }
    if (n && !(list = calloc(n, sizeof *list))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(s->db, "SELECT s FROM strs WHERE id = ?", -1, &str, NULL) != SQLITE_OK) {
        rc = db_err(s, err, "info");
        goto done;
    }
    for (i = 0, k = 0; i < cap; i++) {
        if (!v[i].n)
            continue;
        list[k] = v[i];
        list[k].a = str_of_id(str, v[i].account);
        list[k].r = str_of_id(str, v[i].region);
        k++;
    }
    if (n)
        qsort(list, n, sizeof *list, cmp_brk);
    for (i = 0; i < n && !rc; i++)
        rc = fn(ctx, list[i].a, list[i].r, list[i].n, list[i].lo, list[i].hi);
done:
    for (i = 0; list && i < n; i++) {
        free(list[i].a);
        free(list[i].r);
    }
    free(list);
    free(v);
    sqlite3_finalize(st);
    sqlite3_finalize(str);
    return rc;
}

int bt_store_last_seq(bt_store *s, int64_t *seq, bt_error *err)
{
    return max_event_id(s, seq, err);
}
