/*
 * sqlite_eids.c - the SQLite backend's event ids (schema 10): their integer keys in
 * `eids` (the hour above a 40-bit hash of the id), held in chunks (schema 14) and, since
 * schema 16, in up to EID_RUNS runs an hour (`eidr`), the claim of an id at ingest, which
 * tells a duplicate from another id with the same key by the stored record and keeps
 * the latter by its bytes in `eidx`, and the key's SQL function for the upgrade. Shares
 * the store's internals through sqlite_int.h; docs/store.md describes the tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/bloom.h"
#include "store/pack.h"
#include "store/sqlite_int.h"

int64_t eid_key(int64_t hb, const void *p, size_t n, int text)
{
    uint64_t h =
        bt_bloom_hash_bytes(0x9e3779b97f4a7c15ULL * ((uint64_t)n * 2 + (text ? 2 : 1)), p, n);
    return (int64_t)(((uint64_t)hb << EID_HASH_BITS) | (h >> (64 - EID_HASH_BITS)));
}

/* SQL bt_eid_key(hb, eid): eid_key of an id as `eids` held it before schema 10 (a
 * UUID's 16 bytes as a blob, any other id as text). */
void sql_eid_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    int t = sqlite3_value_type(argv[1]);
    const void *p = t == SQLITE_BLOB ? sqlite3_value_blob(argv[1]) : sqlite3_value_text(argv[1]);
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || (t != SQLITE_BLOB && t != SQLITE_TEXT)) {
        sqlite3_result_null(cx);
        return;
    }
    sqlite3_result_int64(cx, eid_key(sqlite3_value_int64(argv[0]), p ? p : "",
                                     (size_t)sqlite3_value_bytes(argv[1]), t == SQLITE_TEXT));
}

#define EID_CACHE 8 /* block cache slots eid_same reads through */

/* The UUIDs of the events this handle stored last, each in the slot of its number modulo
 * EID_SEEN (1.5 MiB): a key taken by one of them is told a duplicate or a collision by
 * comparing the 16 bytes, without reading the stored record (a block decompressed for
 * each: on the 1M bench archive, 4,903 duplicates took 0.3 s of the writer's time). A
 * rollback clears it, as the numbers are given again; committed numbers are never
 * given again (the store deletes no event). */
#define EID_SEEN 65536
struct eid_seen {
    int64_t ev; /* 0: none */
    unsigned char id[16];
};

void eid_seen_clear(bt_store *s)
{
    if (s->eseen)
        memset(s->eseen, 0, EID_SEEN * sizeof *s->eseen);
}

/* Notes that the event numbered ev has the UUID id (packed); best effort. */
static void eid_seen_note(bt_store *s, int64_t ev, const unsigned char *id)
{
    struct eid_seen *e;
    if (!s->eseen && !(s->eseen = calloc(EID_SEEN, sizeof *s->eseen)))
        return;
    e = &s->eseen[(uint64_t)ev % EID_SEEN];
    e->ev = ev;
    memcpy(e->id, id, 16);
}

/* Whether the record rec[0..len) holds `"eventID":"id"` (a CloudTrail record) or
 * `"id":"id"` (an EventBridge envelope) as it is written, without spaces. */
static int rec_has_id(const char *rec, size_t len, const char *id)
{
    char pat[160];
    int n;
    n = snprintf(pat, sizeof pat, "\"eventID\":\"%s\"", id);
    if (n > 0 && (size_t)n < sizeof pat && memmem(rec, len, pat, (size_t)n))
        return 1;
    n = snprintf(pat, sizeof pat, "\"id\":\"%s\"", id);
    return n > 0 && (size_t)n < sizeof pat && memmem(rec, len, pat, (size_t)n) != NULL;
}

/* Whether ev and o have the same event id, as `eids` keys them (a UUID by its 16 bytes,
 * whatever the case of its hex digits; any other id by its text). */
static int same_id(const bt_event *ev, const pack_pre *pre, const bt_event *o)
{
    unsigned char ob[16];
    int ook = o->event_id && bt_event_uuid_pack(o->event_id, ob);
    if (ook != pre->eid_ok)
        return 0;
    return ook ? memcmp(ob, pre->eid, 16) == 0
               : o->event_id && ev->event_id && strcmp(o->event_id, ev->event_id) == 0;
}

/* *same = 1 when the event numbered have, which holds ev's key (pre->ek) in `eids`, has
 * ev's id (a duplicate), 0 when it has another id whose key is the same. The stored event is in
 * cb when the batch holds it, else its row locates its record (load_block: in the
 * pending block when not yet compressed, bt_store_add). A record that holds ev's id as its eventID
 * (or envelope id) as written is the same event: another id of the same hour and hash
 * whose record also names ev's id in those words is not an event CloudTrail writes;
 * any other record is parsed (in s->varena) and its id compared. */
static int eid_same(bt_store *s, const bt_event *ev, const pack_pre *pre, const claim_batch *cb,
                    int64_t have, int *same, bt_error *err)
{
    bt_event tmp;
    const char *at;
    srow r;
    int rc;

    *same = 0;
    if (pre->eid_ok && s->eseen && have > 0 && s->eseen[(uint64_t)have % EID_SEEN].ev == have) {
        /* a UUID this handle stored: ids are the same when their 16 bytes are (same_id) */
        *same = memcmp(s->eseen[(uint64_t)have % EID_SEEN].id, pre->eid, 16) == 0;
        return 0;
    }
    if (cb && have >= cb->id0 && have < cb->id0 + (int64_t)cb->n) {
        *same = same_id(ev, pre, &cb->ev[cb->rank_ev[have - cb->id0]]);
        return 0;
    }
    if ((rc = prep(s, &s->st_ev_at, "SELECT kind, blk, off, len FROM events WHERE id = ?", err)))
        return rc;
    sqlite3_bind_int64(s->st_ev_at, 1, have);
    rc = sqlite3_step(s->st_ev_at);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s->st_ev_at);
        return rc == SQLITE_DONE ? corrupt_err(s->path, err, "an event id names no event")
                                 : db_err(s, err, "read event");
    }
    memset(&r, 0, sizeof r);
    r.id = have;
    r.kind = sqlite3_column_int(s->st_ev_at, 0);
    r.blk = sqlite3_column_int64(s->st_ev_at, 1);
    r.off = sqlite3_column_int64(s->st_ev_at, 2);
    r.len = sqlite3_column_int64(s->st_ev_at, 3);
    sqlite3_reset(s->st_ev_at);
    if (r.off < 0 || r.len < 0)
        return corrupt_err(s->path, err, "an event's place is negative");
    {
        /* the writer reads through a few of the block cache's slots (each holds a
         * block, 512 KiB): the others stay as readers of this handle left them */
        const bt_buf *b;
        int slots = s->cache_n;
        s->cache_n = slots < EID_CACHE ? slots : EID_CACHE;
        rc = load_block(s, r.blk, (size_t)(r.off + r.len), &b, err);
        s->cache_n = slots;
        load_blocks_done(s);
        if (rc)
            return rc;
        if ((uint64_t)(r.off + r.len) > b->len)
            return corrupt_err(s->path, err, "an event lies past its block");
        at = b->data + r.off;
    }
    if (ev->event_id && rec_has_id(at, (size_t)r.len, ev->event_id)) {
        *same = 1;
        return 0;
    }
    if (!s->varena && !(s->varena = bt_arena_new(1 << 14, 0)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if ((rc = row_event(s->varena, s->path, &r, at, &tmp, err)))
        return rc;
    *same = same_id(ev, pre, &tmp);
    return 0;
}

/* ---- chunks (schema 14) ---- */

#define EID_HASH_MASK ((UINT64_C(1) << EID_HASH_BITS) - 1)
#define EID_EV_MAX ((INT64_C(1) << 48) - 1)

static uint64_t ent_hash(const unsigned char *p)
{
    return (uint64_t)p[0] << 32 | (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 8 | (uint64_t)p[4];
}

static int64_t ent_ev(const unsigned char *p)
{
    return (int64_t)((uint64_t)p[5] << 40 | (uint64_t)p[6] << 32 | (uint64_t)p[7] << 24 |
                     (uint64_t)p[8] << 16 | (uint64_t)p[9] << 8 | (uint64_t)p[10]);
}

/* Appends the entry (hash h, event ev) to b. */
static int ent_add(bt_buf *b, uint64_t h, int64_t ev)
{
    unsigned char e[EID_ENT];
    int i;
    for (i = 0; i < 5; i++)
        e[i] = (unsigned char)(h >> (8 * (4 - i)));
    for (i = 0; i < 6; i++)
        e[5 + i] = (unsigned char)((uint64_t)ev >> (8 * (5 - i)));
    return bt_buf_append(b, e, EID_ENT);
}

/* The index of the first entry of e[0..n) whose hash is not below h. */
static size_t ent_lower(const unsigned char *e, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ent_hash(e + mid * EID_ENT) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sql_eid_find(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const unsigned char *e = sqlite3_value_blob(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]) / EID_ENT, j;
    uint64_t h = (uint64_t)sqlite3_value_int64(argv[1]) & EID_HASH_MASK;
    (void)argc;
    if (!e || sqlite3_value_type(argv[1]) != SQLITE_INTEGER)
        return; /* NULL */
    j = ent_lower(e, n, h);
    if (j < n && ent_hash(e + j * EID_ENT) == h)
        sqlite3_result_int64(cx, ent_ev(e + j * EID_ENT));
}

/* SQL bt_eid_ev(e, i) and bt_eid_hash(e, i): entry i of the chunk e, its event or its
 * hash; NULL past the chunk's end. */
static const unsigned char *ent_at(sqlite3_value **argv)
{
    const unsigned char *e = sqlite3_value_blob(argv[0]);
    int64_t i = sqlite3_value_int64(argv[1]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]) / EID_ENT;
    if (!e || sqlite3_value_type(argv[1]) != SQLITE_INTEGER || i < 0 || (uint64_t)i >= n)
        return NULL;
    return e + (size_t)i * EID_ENT;
}

void sql_eid_ev(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const unsigned char *p = ent_at(argv);
    (void)argc;
    if (p)
        sqlite3_result_int64(cx, ent_ev(p));
}

void sql_eid_hash(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const unsigned char *p = ent_at(argv);
    (void)argc;
    if (p)
        sqlite3_result_int64(cx, (int64_t)ent_hash(p));
}

/* ---- runs (schema 16) ---- */

/* The hours whose keys this transaction wrote, and the run it wrote them to: more keys
 * of such an hour go to that run (its pages are this transaction's already). An open
 * addressing table, keyed by hour + 1 (0: empty). */
struct eid_open {
    uint64_t hour1;
    int run;
};

void eid_open_clear(bt_store *s)
{
    if (s->eopen && s->eopen_n)
        memset(s->eopen, 0, s->eopen_cap * sizeof *s->eopen);
    s->eopen_n = 0;
}

static struct eid_open *open_slot(struct eid_open *t, size_t cap, uint64_t hour)
{
    size_t i = (size_t)(bt_bloom_mix64(hour) & (cap - 1));
    while (t[i].hour1 && t[i].hour1 != hour + 1)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

/* The run this transaction wrote hour's keys to, or -1. */
static int open_get(const bt_store *s, uint64_t hour)
{
    const struct eid_open *o;
    if (!s->eopen_n)
        return -1;
    o = open_slot(s->eopen, s->eopen_cap, hour);
    return o->hour1 ? o->run : -1;
}

static int open_set(bt_store *s, uint64_t hour, int run)
{
    struct eid_open *o;
    if ((s->eopen_n + 1) * 2 > s->eopen_cap) {
        size_t cap = s->eopen_cap ? s->eopen_cap * 2 : 64, i;
        struct eid_open *t = calloc(cap, sizeof *t);
        if (!t)
            return BT_ENOMEM;
        for (i = 0; i < s->eopen_cap; i++)
            if (s->eopen[i].hour1)
                *open_slot(t, cap, s->eopen[i].hour1 - 1) = s->eopen[i];
        free(s->eopen);
        s->eopen = t;
        s->eopen_cap = cap;
    }
    o = open_slot(s->eopen, s->eopen_cap, hour);
    if (!o->hour1)
        s->eopen_n++;
    o->hour1 = hour + 1;
    o->run = run;
    return 0;
}

/* The key of the hash h in the run run of the hour hour (the run's first chunk is at
 * h = 0). */
static uint64_t run_base(uint64_t hour, int run)
{
    return (run ? (hour << EID_RUN_BITS | (uint64_t)run) : hour) << EID_HASH_BITS;
}

/* Writes the chunk at key k of run run with the entries e[0..n). */
static int chunk_put(bt_store *s, int run, int64_t k, const unsigned char *e, size_t n,
                     bt_error *err)
{
    sqlite3_stmt **st = &s->st_ins_eid[run != 0];
    int rc;
    if ((rc = prep(s, st,
                   run ? "INSERT OR REPLACE INTO eidr(k, e) VALUES(?,?)"
                       : "INSERT OR REPLACE INTO eids(k, e) VALUES(?,?)",
                   err)))
        return rc;
    sqlite3_bind_int64(*st, 1, k);
    sqlite3_bind_blob(*st, 2, e, (int)(n * EID_ENT), SQLITE_STATIC);
    rc = sqlite3_step(*st);
    sqlite3_reset(*st);
    return rc == SQLITE_DONE ? 0 : db_err(s, err, "insert event id");
}

/* Writes the n entries of e, sorted, as the chunk at key k of the run run of the hour
 * hour, or, past EID_CHUNK_MAX, as pieces of about EID_CHUNK_FILL: the first at k, each
 * other at its first hash. */
static int chunk_write(bt_store *s, int run, uint64_t hour, int64_t k, const unsigned char *e,
                       size_t n, bt_error *err)
{
    size_t p, q;
    int rc;
    if (n <= EID_CHUNK_MAX)
        return chunk_put(s, run, k, e, n, err);
    p = (n + EID_CHUNK_FILL - 1) / EID_CHUNK_FILL;
    for (q = 0; q < p; q++) {
        size_t lo = q * n / p, hi = (q + 1) * n / p;
        int64_t kq = q ? (int64_t)(run_base(hour, run) | ent_hash(e + lo * EID_ENT)) : k;
        if ((rc = chunk_put(s, run, kq, e + lo * EID_ENT, hi - lo, err)))
            return rc;
    }
    return 0;
}

/* Reads the chunk of the run run of the hour hour that holds the hash h into s->eold
 * (empty when the run has no chunk), its key into *k and the hash at which the next
 * chunk starts into *lim (EID_SPAN past the run's last), in one statement: the row with
 * the greatest key not above the hash's, and the key after it. When that row is not of
 * the run (or there is none), the run has no chunk (its first would be at its base, not
 * above the key). */
#define EID_SPAN (UINT64_C(1) << EID_HASH_BITS)
static int chunk_read(bt_store *s, int run, uint64_t hour, uint64_t h, int64_t *k, uint64_t *lim,
                      bt_error *err)
{
    sqlite3_stmt **st = &s->st_sel_eid[run != 0];
    uint64_t base = run_base(hour, run);
    int rc;

    *k = (int64_t)base;
    *lim = EID_SPAN;
    s->eold.len = 0;
    if ((rc = prep(s, st,
                   run ? "SELECT k, e, (SELECT min(k) FROM eidr WHERE k > o.k) FROM eidr o"
                         " WHERE k <= ? ORDER BY k DESC LIMIT 1"
                       : "SELECT k, e, (SELECT min(k) FROM eids WHERE k > o.k) FROM eids o"
                         " WHERE k <= ? ORDER BY k DESC LIMIT 1",
                   err)))
        return rc;
    sqlite3_bind_int64(*st, 1, (int64_t)(base | h));
    rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW && sqlite3_column_type(*st, 2) == SQLITE_INTEGER &&
        (uint64_t)sqlite3_column_int64(*st, 2) - base < EID_SPAN)
        *lim = (uint64_t)sqlite3_column_int64(*st, 2) - base;
    if (rc == SQLITE_ROW && ((uint64_t)sqlite3_column_int64(*st, 0) & ~EID_HASH_MASK) == base) {
        const void *e = sqlite3_column_blob(*st, 1);
        size_t n = (size_t)sqlite3_column_bytes(*st, 1);
        *k = sqlite3_column_int64(*st, 0);
        if (n % EID_ENT || !n) {
            sqlite3_reset(*st);
            return corrupt_err(s->path, err, "a chunk of event ids has a partial entry");
        }
        if (bt_buf_append(&s->eold, e, n)) {
            sqlite3_reset(*st);
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        }
    }
    sqlite3_reset(*st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_err(s, err, "read event ids");
    return 0;
}

/* The runs of `eidr` that hold keys of the hour hour, as bits of *runs: one seek for
 * each, and one past the last (a run's first chunk is at its base). */
static int runs_of(bt_store *s, uint64_t hour, unsigned *runs, bt_error *err)
{
    uint64_t lo = run_base(hour, 1), hi = run_base(hour + 1, 0) << EID_RUN_BITS;
    int rc;
    while (lo < hi) {
        int64_t k;
        if ((rc = prep(s, &s->st_eid_run, "SELECT min(k) FROM eidr WHERE k >= ? AND k < ?", err)))
            return rc;
        sqlite3_bind_int64(s->st_eid_run, 1, (int64_t)lo);
        sqlite3_bind_int64(s->st_eid_run, 2, (int64_t)hi);
        rc = sqlite3_step(s->st_eid_run);
        if (rc != SQLITE_ROW || sqlite3_column_type(s->st_eid_run, 0) != SQLITE_INTEGER) {
            sqlite3_reset(s->st_eid_run);
            return rc == SQLITE_ROW ? 0 : db_err(s, err, "read event ids");
        }
        k = sqlite3_column_int64(s->st_eid_run, 0);
        sqlite3_reset(s->st_eid_run);
        *runs |= 1u << ((uint64_t)k >> EID_HASH_BITS & (EID_RUNS - 1));
        lo = (((uint64_t)k >> EID_HASH_BITS) + 1) << EID_HASH_BITS;
    }
    return 0;
}

/* The key (hour, hash) is taken by the event numbered have: *is_new = 0 when that is ev
 * (a duplicate); else ev is kept by its hour and bytes in `eidx` (*is_new = 0 when it
 * already is there: a duplicate of an id kept so). */
static int eid_taken(bt_store *s, const bt_event *ev, const pack_pre *pre, const claim_batch *cb,
                     int64_t have, int64_t id, int *is_new, bt_error *err)
{
    int rc, same;
    *is_new = 0;
    if ((rc = eid_same(s, ev, pre, cb, have, &same, err)) || same)
        return rc;
    if ((rc = prep(s, &s->st_ins_eidx, "INSERT OR IGNORE INTO eidx(hb, eid, ev) VALUES(?,?,?)",
                   err)))
        return rc;
    sqlite3_bind_int64(s->st_ins_eidx, 1, ev->time_ms / BT_STORE_HOUR_MS);
    if (pre->eid_ok) /* a UUID, packed; any other id as its text */
        sqlite3_bind_blob(s->st_ins_eidx, 2, pre->eid, 16, SQLITE_STATIC);
    else
        sqlite3_bind_text(s->st_ins_eidx, 2, ev->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->st_ins_eidx, 3, id);
    rc = sqlite3_step(s->st_ins_eidx);
    sqlite3_reset(s->st_ins_eidx);
    if (rc != SQLITE_DONE)
        return db_err(s, err, "insert event id");
    *is_new = sqlite3_changes(s->db) != 0;
    return 0;
}

/* Merges a[0..na) and b[0..nb) (entries sorted by hash, no hash in both) into s->emerge. */
static int ent_merge(bt_store *s, const unsigned char *a, size_t na, const unsigned char *b,
                     size_t nb)
{
    size_t i = 0, j = 0;
    unsigned char *o;
    s->emerge.len = 0;
    if (bt_buf_reserve(&s->emerge, (na + nb) * EID_ENT))
        return BT_ENOMEM;
    o = (unsigned char *)s->emerge.data;
    while (i < na || j < nb) {
        const unsigned char *src;
        if (j >= nb || (i < na && ent_hash(a + i * EID_ENT) < ent_hash(b + j * EID_ENT)))
            src = a + EID_ENT * i++;
        else
            src = b + EID_ENT * j++;
        memcpy(o, src, EID_ENT);
        o += EID_ENT;
    }
    s->emerge.len = (na + nb) * EID_ENT;
    return 0;
}

/* The hash of the key of the batch's event order[r]. */
static uint64_t key_hash(const pack_pre *pre, const uint32_t *order, size_t r)
{
    return (uint64_t)pre[order[r]].ek & EID_HASH_MASK;
}

/* Notes in s->ehave[place - a] the event holding each key order[*r..b) whose hash is
 * below lim found in the chunk e[0..n) (sorted), *r moved past those keys. */
static void chunk_match(bt_store *s, const unsigned char *e, size_t n, const pack_pre *pre,
                        const uint32_t *order, size_t a, size_t *r, size_t b, uint64_t lim)
{
    size_t j = 0;
    for (; *r < b && key_hash(pre, order, *r) < lim; (*r)++) {
        uint64_t h = key_hash(pre, order, *r);
        while (j < n && ent_hash(e + j * EID_ENT) < h)
            j++;
        if (j < n && ent_hash(e + j * EID_ENT) == h)
            s->ehave[*r - a] = ent_ev(e + j * EID_ENT);
    }
}

/* Looks up the keys of the hour hour at order[a..b) of the batch in the run run: the
 * event holding each one found into s->ehave[place - a]; *any = 1 when the run has a
 * chunk. Each chunk that holds some of them is read once: sought, or, for EID_SCAN_MIN
 * keys or more, read in one pass over the run's rows from its first (a backfill's keys
 * fall in most of an hour's chunks: a seek and a statement for each cost more than
 * stepping over the few that hold none). A key above the last entry of the chunk it
 * falls in is in no chunk (the next starts above it). */
#define EID_SCAN_MIN 64
static int run_find(bt_store *s, int run, uint64_t hour, const pack_pre *pre, const uint32_t *order,
                    size_t a, size_t b, int *any, bt_error *err)
{
    size_t r = a;
    int rc, step;
    sqlite3_stmt *st;
    uint64_t base = run_base(hour, run);

    if (b - a < EID_SCAN_MIN) {
        while (r < b) {
            int64_t k;
            uint64_t lim;
            if ((rc = chunk_read(s, run, hour, key_hash(pre, order, r), &k, &lim, err)))
                return rc;
            if (!s->eold.len && r == a)
                return 0; /* the run holds none of the hour's keys */
            *any = 1;
            chunk_match(s, (const unsigned char *)s->eold.data, s->eold.len / EID_ENT, pre, order,
                        a, &r, b, lim);
        }
        return 0;
    }
    if ((rc = prep(s, &s->st_scan_eid[run != 0],
                   run ? "SELECT e FROM eidr WHERE k >= ? AND k < ? ORDER BY k"
                       : "SELECT e FROM eids WHERE k >= ? AND k < ? ORDER BY k",
                   err)))
        return rc;
    st = s->st_scan_eid[run != 0];
    sqlite3_bind_int64(st, 1, (int64_t)base);
    sqlite3_bind_int64(st, 2, (int64_t)(base + EID_SPAN));
    while (r < b && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *e = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0) / EID_ENT;
        if (!e || !n || (size_t)sqlite3_column_bytes(st, 0) % EID_ENT) {
            sqlite3_reset(st);
            return corrupt_err(s->path, err, "a chunk of event ids has a partial entry");
        }
        *any = 1;
        chunk_match(s, e, n, pre, order, a, &r, b, ent_hash(e + (n - 1) * EID_ENT) + 1);
    }
    rc = r < b && step != SQLITE_DONE ? db_err(s, err, "read event ids") : 0;
    sqlite3_reset(st);
    return rc;
}

/* Merges the entries of s->enew into the chunks of the run run of the hour hour: each
 * chunk that takes some read and written once. */
static int run_merge(bt_store *s, int run, uint64_t hour, bt_error *err)
{
    const unsigned char *add = (const unsigned char *)s->enew.data;
    size_t nadd = s->enew.len / EID_ENT, q = 0;
    int rc;
    while (q < nadd) {
        int64_t k;
        uint64_t lim;
        size_t q1 = q;
        if ((rc = chunk_read(s, run, hour, ent_hash(add + q * EID_ENT), &k, &lim, err)))
            return rc;
        while (q1 < nadd && ent_hash(add + q1 * EID_ENT) < lim)
            q1++;
        if (ent_merge(s, (const unsigned char *)s->eold.data, s->eold.len / EID_ENT,
                      add + q * EID_ENT, q1 - q))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if ((rc = chunk_write(s, run, hour, k, (const unsigned char *)s->emerge.data,
                              s->emerge.len / EID_ENT, err)))
            return rc;
        q = q1;
    }
    return 0;
}

static int ent_cmp(const void *a, const void *b)
{
    uint64_t x = ent_hash(a), y = ent_hash(b);
    return x < y ? -1 : x > y;
}

/* Runs the statement sql with the key range [lo, hi) bound: the rows' chunks appended
 * to s->emerge when it returns some. */
static int range_exec(bt_store *s, const char *sql, uint64_t lo, uint64_t hi, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "merge event ids");
    sqlite3_bind_int64(st, 1, (int64_t)lo);
    sqlite3_bind_int64(st, 2, (int64_t)hi);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n % EID_ENT) {
            rc = corrupt_err(s->path, err, "a chunk of event ids has a partial entry");
            break;
        }
        if (n && bt_buf_append(&s->emerge, sqlite3_column_blob(st, 0), n)) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            break;
        }
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_err(s, err, "merge event ids");
    sqlite3_finalize(st);
    return rc;
}

/* The hour hour has no run left: its runs and the entries of s->enew become run 0, in
 * full chunks. */
static int hour_compact(bt_store *s, uint64_t hour, bt_error *err)
{
    uint64_t lo0 = run_base(hour, 0), lo = run_base(hour, 1),
             hi = run_base(hour + 1, 0) << EID_RUN_BITS;
    int rc;
    s->emerge.len = 0;
    if ((rc = range_exec(s, "SELECT e FROM eids WHERE k >= ? AND k < ?", lo0, lo0 + EID_SPAN,
                         err)) ||
        (rc = range_exec(s, "SELECT e FROM eidr WHERE k >= ? AND k < ?", lo, hi, err)))
        return rc;
    if (bt_buf_append(&s->emerge, s->enew.data, s->enew.len))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    qsort(s->emerge.data, s->emerge.len / EID_ENT, EID_ENT, ent_cmp);
    if ((rc = range_exec(s, "DELETE FROM eids WHERE k >= ? AND k < ?", lo0, lo0 + EID_SPAN, err)) ||
        (rc = range_exec(s, "DELETE FROM eidr WHERE k >= ? AND k < ?", lo, hi, err)))
        return rc;
    return chunk_write(s, 0, hour, (int64_t)lo0, (const unsigned char *)s->emerge.data,
                       s->emerge.len / EID_ENT, err);
}

/* Claims the keys of one hour, order[a..b) of the batch (eid_claim): each looked up in
 * every run of the hour, the new ones written to the run this transaction opened for
 * the hour (one it wrote whole: a new run, or run 0 new or merged from all), else as a
 * new run when they are EID_RUN_MIN or more and the hour has keys and a run free (all
 * its runs merged into run 0 when none is free), else merged into run 0. A few keys
 * merged into run 0 open no run: the next batch's many keys of the hour, in the same
 * transaction, still make a run of their own (late events of an hour come before the
 * hour's own files). */
static int claim_hour(bt_store *s, const bt_event *ev, const pack_pre *pre, const uint32_t *order,
                      size_t a, size_t b, const uint32_t *rank, int64_t id0, const claim_batch *cb,
                      unsigned char *fresh, bt_error *err)
{
    uint64_t hour = (uint64_t)pre[order[a]].ek >> EID_HASH_BITS;
    int opened = open_get(s, hour), any = 0, target, r, rc;
    unsigned runs = 0;
    size_t p;

    if (b - a > s->ehave_cap) {
        size_t cap = (b - a) * 2;
        int64_t *t = realloc(s->ehave, cap * sizeof *t);
        if (!t)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        s->ehave = t;
        s->ehave_cap = cap;
    }
    for (p = 0; p < b - a; p++)
        s->ehave[p] = -1;
    if ((rc = run_find(s, 0, hour, pre, order, a, b, &any, err)))
        return rc;
    if (any)
        runs |= 1;
    if (hour < EID_RUN_HOURS && (rc = runs_of(s, hour, &runs, err)))
        return rc;
    for (r = 1; r < EID_RUNS; r++)
        if (runs >> r & 1 && (rc = run_find(s, r, hour, pre, order, a, b, &any, err)))
            return rc;

    s->enew.len = 0;
    for (p = a; p < b; p++) {
        uint32_t i = order[p];
        uint64_t h = key_hash(pre, order, p);
        const unsigned char *last =
            s->enew.len ? (const unsigned char *)s->enew.data + s->enew.len - EID_ENT : NULL;
        int64_t id = id0 + (int64_t)rank[i], have = s->ehave[p - a];
        int is_new;
        if (have < 0 && last && ent_hash(last) == h) /* a copy earlier in the batch */
            have = ent_ev(last);
        if (have < 0) {
            if (id < 0 || id > EID_EV_MAX)
                return bt_error_set(err, BT_EINVAL, "store: event number %lld out of range",
                                    (long long)id);
            if (ent_add(&s->enew, h, id))
                return bt_error_set(err, BT_ENOMEM, "out of memory");
            if (pre[i].eid_ok)
                eid_seen_note(s, id, pre[i].eid);
            fresh[i] = 1;
            continue;
        }
        if ((rc = eid_taken(s, &ev[i], &pre[i], cb, have, id, &is_new, err)))
            return rc;
        fresh[i] = (unsigned char)is_new;
    }
    if (!s->enew.len)
        return 0;

    target = opened;
    if (target < 0 && runs && hour < EID_RUN_HOURS && s->enew.len / EID_ENT >= EID_RUN_MIN) {
        for (r = 1; r < EID_RUNS && target < 0; r++)
            if (!(runs >> r & 1))
                target = r;
        if (target < 0) { /* no run free */
            if ((rc = hour_compact(s, hour, err)))
                return rc;
            return open_set(s, hour, 0) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
        }
    }
    if (target < 0) {
        if (runs & 1) /* a few keys: merged into run 0, which stays closed to the next */
            return run_merge(s, 0, hour, err);
        target = 0; /* the hour's first keys: run 0, new */
    }
    if (!(runs >> target & 1)) /* a new run */
        rc = chunk_write(s, target, hour, (int64_t)run_base(hour, target),
                         (const unsigned char *)s->enew.data, s->enew.len / EID_ENT, err);
    else
        rc = run_merge(s, target, hour, err);
    if (!rc && open_set(s, hour, target))
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    return rc;
}

int eid_claim(bt_store *s, const bt_event *ev, const pack_pre *pre, const uint32_t *order, size_t n,
              const uint32_t *rank, int64_t id0, const claim_batch *cb, unsigned char *fresh,
              bt_error *err)
{
    size_t a = 0;
    int rc;

    while (a < n) {
        uint64_t hour = (uint64_t)pre[order[a]].ek >> EID_HASH_BITS;
        size_t b = a + 1;
        while (b < n && (uint64_t)pre[order[b]].ek >> EID_HASH_BITS == hour)
            b++;
        if ((rc = claim_hour(s, ev, pre, order, a, b, rank, id0, cb, fresh, err)))
            return rc;
        a = b;
    }
    return 0;
}

int eid_rechunk(bt_store *s, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    bt_buf e = BT_BUF_INIT;
    uint64_t hour = 0;
    int64_t k = 0;
    int rc = 0, step, any = 0;

    if (sqlite3_prepare_v2(s->db, "SELECT k, ev FROM eids13 ORDER BY k", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_err(s, err, "upgrade event ids");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t ek = (uint64_t)sqlite3_column_int64(st, 0);
        int64_t ev = sqlite3_column_int64(st, 1);
        if (e.len && (ek >> EID_HASH_BITS != hour || e.len / EID_ENT >= EID_CHUNK_FILL)) {
            if ((rc = chunk_put(s, 0, k, (const unsigned char *)e.data, e.len / EID_ENT, err)))
                goto done;
            e.len = 0;
        }
        if (!e.len) {
            /* an hour's first chunk starts at its hash 0, the next ones at their first */
            k = any && ek >> EID_HASH_BITS == hour
                    ? (int64_t)ek
                    : (int64_t)(ek >> EID_HASH_BITS << EID_HASH_BITS);
            hour = ek >> EID_HASH_BITS;
            any = 1;
        }
        if (ev < 0 || ev > EID_EV_MAX) {
            rc = corrupt_err(s->path, err, "an event id names no event");
            goto done;
        }
        if (ent_add(&e, ek & EID_HASH_MASK, ev)) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(s, err, "upgrade event ids");
        goto done;
    }
    if (e.len && (rc = chunk_put(s, 0, k, (const unsigned char *)e.data, e.len / EID_ENT, err)))
        goto done;
    sqlite3_finalize(st);
    st = NULL;
    rc = exec(s, "DROP TABLE eids13", err);
done:
    sqlite3_finalize(st);
    bt_buf_dispose(&e);
    return rc;
}
