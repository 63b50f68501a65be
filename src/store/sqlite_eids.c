/*
 * sqlite_eids.c - the SQLite backend's event ids (schema 10): their integer keys in
 * `eids` (the hour above a 40-bit hash of the id), the claim of an id at ingest, which
 * tells a duplicate from another id with the same key by the stored record and keeps
 * the latter by its bytes in `eidx`, and the key's SQL function for the upgrade. Shares
 * the store's internals through sqlite_int.h; docs/store.md describes the table.
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

/* *same = 1 when the event stored under the key pre->ek in `eids` has ev's id (a
 * duplicate), 0 when it has another id whose key is the same. The stored event is in
 * cb when the batch holds it, else its row locates its record (load_block: in the
 * pending block when not yet compressed, bt_store_add). A record that holds ev's id as its eventID
 * (or envelope id) as written is the same event: another id of the same hour and hash
 * whose record also names ev's id in those words is not an event CloudTrail writes;
 * any other record is parsed (in s->varena) and its id compared. */
static int eid_same(bt_store *s, const bt_event *ev, const pack_pre *pre, const claim_batch *cb,
                    int *same, bt_error *err)
{
    bt_event tmp;
    const char *at;
    int64_t have;
    srow r;
    int rc;

    *same = 0;
    if ((rc = prep(s, &s->st_sel_eid, "SELECT ev FROM eids WHERE k = ?", err)))
        return rc;
    sqlite3_bind_int64(s->st_sel_eid, 1, pre->ek);
    rc = sqlite3_step(s->st_sel_eid);
    have = rc == SQLITE_ROW ? sqlite3_column_int64(s->st_sel_eid, 0) : 0;
    sqlite3_reset(s->st_sel_eid);
    if (rc != SQLITE_ROW)
        return db_err(s, err, "read event id");
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

int eid_claim(bt_store *s, const bt_event *ev, const pack_pre *pre, const claim_batch *cb,
              int64_t id, int *is_new, bt_error *err)
{
    int rc, same;

    *is_new = 0;
    if ((rc = prep(s, &s->st_ins_eid, "INSERT OR IGNORE INTO eids(k, ev) VALUES(?,?)", err)))
        return rc;
    sqlite3_bind_int64(s->st_ins_eid, 1, pre->ek);
    sqlite3_bind_int64(s->st_ins_eid, 2, id);
    if (sqlite3_step(s->st_ins_eid) != SQLITE_DONE) {
        sqlite3_reset(s->st_ins_eid);
        return db_err(s, err, "insert event id");
    }
    sqlite3_reset(s->st_ins_eid);
    if (sqlite3_changes(s->db) == 0) {
        /* the key is taken: by this event (a duplicate), or by another id of the hour
         * with the same hash, when this one is kept by its bytes */
        if ((rc = eid_same(s, ev, pre, cb, &same, err)))
            return rc;
        if (same)
            return 0;
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
        if (sqlite3_changes(s->db) == 0)
            return 0; /* a duplicate of an id kept by its bytes */
    }
    *is_new = 1;
    return 0;
}
