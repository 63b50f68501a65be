/*
 * sqlite_schema.c - the SQLite store's schema, as the upgrades that build it from an
 * empty file (migrations[]: a new store runs them all), and migrate, which brings a
 * store of an older schema to this one in place, in one transaction, with a progress
 * estimate. docs/store.md (Upgrades) says what each step does and costs. Shares the
 * store's internals through sqlite_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "store/bloom.h"
#include "store/sqlite_int.h"

#define BT_APP_ID 0x42545231 /* "BTR1" */

/* ---- schema ---------------------------------------------------------------------- */

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE strs(id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);"
    "CREATE TABLE blocks(id INTEGER PRIMARY KEY, codec INTEGER NOT NULL,"
    " raw_len INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE TABLE eids(eid BLOB PRIMARY KEY, ev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE events(id INTEGER PRIMARY KEY,"
    " t INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " name INTEGER, src INTEGER, region INTEGER, account INTEGER, user INTEGER,"
    " principal INTEGER, akid INTEGER, ip INTEGER, err INTEGER, ro INTEGER,"
    " project INTEGER, build INTEGER, actor INTEGER,"
    " blk INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);"
    "CREATE INDEX ev_t ON events(t);"
    "CREATE INDEX ev_name ON events(name, t);"
    "CREATE INDEX ev_src ON events(src, t);"
    "CREATE INDEX ev_user ON events(user);"
    "CREATE INDEX ev_build ON events(build, t) WHERE build IS NOT NULL;"
    "CREATE INDEX ev_actor ON events(actor, t, err) WHERE actor IS NOT NULL;"
    "CREATE INDEX ev_project ON events(project, t) WHERE project IS NOT NULL;"
    "CREATE INDEX ev_err ON events(err, t) WHERE err IS NOT NULL;"
    "CREATE INDEX ev_akid ON events(akid) WHERE akid IS NOT NULL;"
    "CREATE TABLE resources(name INTEGER NOT NULL, ev INTEGER NOT NULL,"
    " type INTEGER NOT NULL, PRIMARY KEY(name, ev, type)) WITHOUT ROWID;" /* name: hash */
    "CREATE TABLE sources(key TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
    " etag TEXT, records INTEGER, ingested_ms INTEGER) WITHOUT ROWID;"
    "CREATE TABLE cursors(name TEXT PRIMARY KEY, value TEXT, updated_ms INTEGER)"
    " WITHOUT ROWID;"
    "CREATE TABLE builds(uuid TEXT PRIMARY KEY, build_id TEXT, project TEXT, account TEXT,"
    " region TEXT, number INTEGER, start_ms INTEGER, trigger_type TEXT, trigger_principal TEXT,"
    " initiator TEXT, source_version TEXT, overrides TEXT, retry_of TEXT, batch_uuid TEXT,"
    " stop_principal TEXT, stop_ms INTEGER, status TEXT, status_source TEXT, status_ms INTEGER,"
    " end_ms INTEGER, is_batch INTEGER) WITHOUT ROWID;"
    "CREATE INDEX builds_start ON builds(start_ms);",
    /* 2: watch's alerts, their events and the outbox of deliveries */
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY, akey TEXT NOT NULL UNIQUE, rule TEXT NOT NULL,"
    " dedup TEXT, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, count INTEGER NOT NULL,"
    " doc TEXT NOT NULL, created_ms INTEGER NOT NULL, acked_ms INTEGER);"
    "CREATE INDEX alerts_dedup ON alerts(dedup, last_ms) WHERE dedup IS NOT NULL;"
    "CREATE TABLE alert_events(alert INTEGER NOT NULL, eid TEXT NOT NULL,"
    " PRIMARY KEY(alert, eid)) WITHOUT ROWID;"
    "CREATE TABLE outbox(alert INTEGER NOT NULL, notifier TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, delivered_ms INTEGER,"
    " last_error TEXT, PRIMARY KEY(alert, notifier)) WITHOUT ROWID;"
    "CREATE INDEX outbox_due ON outbox(next_ms) WHERE delivered_ms IS NULL;",
    /* 3: per-block summaries replace the row indexes on the hashed fields. A block's
     * events have the ids lo..hi (blocks written before have no bloom: they may hold
     * anything, and their events are found by blk within the range) */
    "CREATE TABLE bsum(blk INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
    " bloom BLOB);"
    "INSERT INTO bsum(blk, lo, hi) SELECT blk, min(id), max(id) FROM events GROUP BY blk;"
    "DROP INDEX ev_user;"
    "DROP INDEX ev_akid;",
    /* 4: the partial indexes (errors, builds, build sessions, projects) carry what a
     * search reads of each row, so their hits need no lookup in the events table:
     * 2-3% of the rows, 0.3% of the store */
    "DROP INDEX ev_build;"
    "DROP INDEX ev_actor;"
    "DROP INDEX ev_project;"
    "DROP INDEX ev_err;"
    "CREATE INDEX ev_build ON events(build, t, kind, blk, off, len) WHERE build IS NOT NULL;"
    "CREATE INDEX ev_actor ON events(actor, t, err, kind, blk, off, len) WHERE actor IS NOT NULL;"
    "CREATE INDEX ev_project ON events(project, t, kind, blk, off, len) WHERE project IS NOT NULL;"
    "CREATE INDEX ev_err ON events(err, t, kind, blk, off, len) WHERE err IS NOT NULL;",
    /* 5: a build's retry found without reading every build (`build <id>`); what each
     * build role session did, kept up to date by ingest (`builds` reads 11k rows, not the
     * 360k calls behind them). A session's account and region are those of its first
     * call; its caller ARN is known only for calls stored since */
    "CREATE INDEX builds_retry ON builds(retry_of) WHERE retry_of IS NOT NULL;"
    "CREATE TABLE sessions(actor INTEGER PRIMARY KEY, calls INTEGER NOT NULL,"
    " errs INTEGER NOT NULL, t0 INTEGER NOT NULL, t1 INTEGER NOT NULL, account INTEGER,"
    " region INTEGER, principal TEXT);"
    "INSERT INTO sessions(actor, calls, errs, t0, t1) SELECT actor, count(*), count(err),"
    " min(t), max(t) FROM events WHERE actor IS NOT NULL GROUP BY actor;"
    "UPDATE sessions SET account = (SELECT account FROM events WHERE actor = sessions.actor"
    " ORDER BY t LIMIT 1), region = (SELECT region FROM events WHERE actor = sessions.actor"
    " ORDER BY t LIMIT 1);",
    /* 6: event ids and resource names keyed by their event's hour first. A key alone is
     * random, so every insert into a large store landed on a page of its own (2.7 pages
     * written an event at 5M); within the hour it lands near the recent inserts. A
     * duplicate delivery of an event carries the same eventTime, so its hour finds it.
     * Looking a key up alone visits each hour the table holds (a loose index scan) */
    "CREATE TABLE eids6(hb INTEGER NOT NULL, eid BLOB NOT NULL, ev INTEGER NOT NULL,"
    " PRIMARY KEY(hb, eid)) WITHOUT ROWID;"
    "INSERT INTO eids6 SELECT e.t / 3600000, x.eid, x.ev FROM eids x JOIN events e"
    " ON e.id = x.ev ORDER BY 1, 2;"
    "DROP TABLE eids;"
    "ALTER TABLE eids6 RENAME TO eids;"
    "CREATE TABLE resources6(hb INTEGER NOT NULL, name INTEGER NOT NULL, ev INTEGER NOT NULL,"
    " type INTEGER NOT NULL, PRIMARY KEY(hb, name, ev, type)) WITHOUT ROWID;"
    "INSERT INTO resources6 SELECT e.t / 3600000, r.name, r.ev, r.type FROM resources r"
    " JOIN events e ON e.id = r.ev ORDER BY 1, 2, 3, 4;"
    "DROP TABLE resources;"
    "ALTER TABLE resources6 RENAME TO resources;",
    /* 7: the resources' names and types summarised per block (bsum.rbloom) and per row
     * (events.rh, 64 bits: bloom.h) instead of a row per resource: 9% of the store and a
     * sixth of ingest's time. The summaries of
     * the blocks already stored are built from the rows (bt_rkey, bt_bloom_agg: keys of
     * the hashes the rows hold); a block none of whose events names a resource gets an
     * empty filter */
    "ALTER TABLE bsum ADD COLUMN rbloom BLOB;"
    "ALTER TABLE events ADD COLUMN rh INTEGER;"
    "UPDATE events SET rh = x.m FROM (SELECT r.ev AS ev,"
    " bt_rmask_agg(bt_rkey(5, r.name), bt_rkey(6, s.s)) AS m"
    " FROM resources r LEFT JOIN strs s ON s.id = r.type GROUP BY r.ev) AS x"
    " WHERE events.id = x.ev;"
    "CREATE TEMP TABLE rb7(blk INTEGER PRIMARY KEY, b BLOB);"
    "INSERT INTO rb7 SELECT e.blk, bt_bloom_agg(x.k) FROM"
    " (SELECT ev, bt_rkey(5, name) AS k FROM resources UNION ALL"
    "  SELECT r.ev, bt_rkey(6, s.s) FROM resources r JOIN strs s ON s.id = r.type) x"
    " JOIN events e ON e.id = x.ev GROUP BY e.blk;"
    "UPDATE bsum SET rbloom = coalesce((SELECT b FROM rb7 WHERE rb7.blk = bsum.blk),"
    " zeroblob(64));"
    "DROP TABLE rb7;"
    "DROP TABLE resources;"
    /* ... and the event source found through the names it has been seen with
     * (`srcnames`, a few hundred rows; 0 for no name) and the (name, t) index, instead of
     * an index of its own (6% of the store, a fifth of the index inserts) */
    "CREATE TABLE srcnames(src INTEGER NOT NULL, name INTEGER NOT NULL,"
    " PRIMARY KEY(src, name)) WITHOUT ROWID;"
    "INSERT INTO srcnames SELECT DISTINCT src, coalesce(name, 0) FROM events"
    " WHERE src IS NOT NULL;"
    "DROP INDEX ev_src;",
    /* 8: each block's time range, set of event names and number of rows in its summary
     * (bsum.t0, t1, nset, n), and a packed block's rows numbered by name (its directory
     * of names, bsum.ndir), instead of the (name, time) index over every row (18 bytes
     * an event, and the one index an ingest inserts into all over its range): a search
     * by event name or source walks the blocks by time, reads their names' runs and
     * merges the rows (sqlite_walk.c, the block walk); the blocks already stored are
     * summarised from their rows */
    "ALTER TABLE bsum ADD COLUMN t0 INTEGER;"
    "ALTER TABLE bsum ADD COLUMN t1 INTEGER;"
    "ALTER TABLE bsum ADD COLUMN nset BLOB;"
    "ALTER TABLE bsum ADD COLUMN n INTEGER;"
    "ALTER TABLE bsum ADD COLUMN ndir BLOB;"
    "UPDATE bsum SET t0 = x.a, t1 = x.b, nset = x.ns, n = x.c FROM (SELECT e.blk AS blk,"
    " min(e.t) AS a, max(e.t) AS b, bt_nset_agg(s.s) AS ns, count(*) AS c FROM events e"
    " LEFT JOIN strs s ON s.id = e.name GROUP BY e.blk) AS x WHERE bsum.blk = x.blk;"
    "DROP INDEX ev_name;"
    "CREATE INDEX bsum_t0 ON bsum(t0, t1);"
    "CREATE INDEX bsum_t1 ON bsum(t1, t0);",
    /* 9: the rows keep what locates, orders and indexes an event and its resources'
     * fingerprint, not the hashes of its user, principal, access key and source IP (20
     * bytes of a 61-byte row): the blocks' summaries (bsum.bloom) choose the blocks a
     * search by those reads, and the records decide (sqlite_read.c, rawcheck: the
     * values are the records' own bytes, as the resources' derived names and types are
     * not, so their fingerprint stays) */
    "ALTER TABLE events DROP COLUMN user;"
    "ALTER TABLE events DROP COLUMN principal;"
    "ALTER TABLE events DROP COLUMN akid;"
    "ALTER TABLE events DROP COLUMN ip;",
    /* 10: event ids keyed by one integer, their hour above a 40-bit hash of the id
     * (eid_key), instead of the hour and the id's 16 bytes: 31 bytes an event become
     * about 18. An id whose key another id of its hour already holds is kept by its bytes
     * in `eidx` (eid_claim tells the two apart by the stored record). */
    "CREATE TABLE eids10(k INTEGER PRIMARY KEY, ev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE eidx(hb INTEGER NOT NULL, eid BLOB NOT NULL, ev INTEGER NOT NULL,"
    " PRIMARY KEY(hb, eid)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO eids10 SELECT bt_eid_key(hb, eid), ev FROM eids ORDER BY 1;"
    "INSERT INTO eidx SELECT x.hb, x.eid, x.ev FROM eids x WHERE NOT EXISTS (SELECT 1"
    " FROM eids10 y WHERE y.k = bt_eid_key(x.hb, x.eid) AND y.ev = x.ev);"
    "DROP TABLE eids;"
    "ALTER TABLE eids10 RENAME TO eids;",
    /* 11: each block's rows in time order (btime.tdir: their times and places, bloom.h)
     * and its span class (bsum.lv: bt_span_class) instead of the time index over every
     * row (18 MB of 211 on 1M events, and 9% of ingest's CPU): the block walk finds the
     * blocks of a time window through (lv, t1) or (lv, t0), class by class, and takes a
     * block's rows a few at a time from its directory (sqlite_read.c). The directories
     * have a table of their own: at the end of a summary's row, past its Bloom filters,
     * one took reading the row's overflow pages, and they left a third of them empty */
    "ALTER TABLE bsum ADD COLUMN lv INTEGER;"
    "UPDATE bsum SET lv = bt_span_class(t0, t1);"
    "CREATE TABLE btime(blk INTEGER PRIMARY KEY, tdir BLOB NOT NULL);"
    "INSERT INTO btime SELECT b.blk, (SELECT bt_tdir_agg(e.id - b.lo, e.t) FROM events e"
    " WHERE e.id BETWEEN b.lo AND b.hi AND e.blk = b.blk) FROM bsum b ORDER BY b.blk;"
    "DROP INDEX bsum_t0;"
    "DROP INDEX bsum_t1;"
    "CREATE INDEX bsum_lt1 ON bsum(lv, t1);"
    "CREATE INDEX bsum_lt0 ON bsum(lv, t0);"
    "DROP INDEX ev_t;",
    /* 12: compression dictionaries, trained by the writer from the store's newest blocks
     * (sqlite_dict.c); a block compressed with one names it by its codec (BT_CODEC_DICT).
     * The blocks already stored keep theirs */
    "CREATE TABLE dicts(id INTEGER PRIMARY KEY, blk INTEGER NOT NULL, data BLOB NOT NULL);",
    /* 13: a packed block's rows as one directory at the head of the block (sqlite_rows.c:
     * about 6 bytes an event, where a row of the table took 45), found by its id range
     * (bdir): the table keeps the rows an index finds (an error code, a project, a build
     * or a build session) and those stored one at a time, as `evrows`, and the virtual
     * table `events` reads both. The rows already stored stay rows. The build
     * sessions' index keeps its key and time (a session's calls are read whole, by id,
     * and `sessions` counts them): the rest of it was 40% of it */
    "ALTER TABLE events RENAME TO evrows;"
    "CREATE TABLE bdir(lo INTEGER PRIMARY KEY, hi INTEGER NOT NULL, blk INTEGER NOT NULL);"
    "DROP INDEX ev_actor;"
    "CREATE INDEX ev_actor ON evrows(actor, t) WHERE actor IS NOT NULL;",
    /* 14: event ids' keys in chunks, a row an hour's run of up to EID_CHUNK_MAX keys
     * (sqlite_eids.c: 11 bytes a key, where a row a key took about 19), which an ingest
     * reads and writes once for every key of its batch the chunk holds: a row inserted an
     * event was the writer's largest cost. The rows are cut into chunks by eid_rechunk,
     * after this */
    ("ALTER TABLE eids RENAME TO eids13;"
     "CREATE TABLE eids(k INTEGER PRIMARY KEY, e BLOB NOT NULL);"),
    /* 15: which project runs as which service role, as the project records said last
     * (CreateProject, UpdateProject), kept by ingest: `builds` names the project of a
     * build known only from its calls from here, where it searched the whole store
     * for those records (a third of its time on 5M events). roles_fill fills it from
     * the records already stored, after this */
    "CREATE TABLE roles(role TEXT PRIMARY KEY, project TEXT NOT NULL, t INTEGER NOT NULL)"
    " WITHOUT ROWID;",
    /* 16: the runs of an hour's event ids after its first (sqlite_int.h, EID_RUNS): a
     * backfill of 1M events onto 10M merged its ids into nearly every chunk of `eids`,
     * rewriting the table, where a run writes the new keys alone. And `builds` in the
     * order its rows are written, found by uuid through an index: keyed by uuid (a
     * random one), the new builds of an ingest of 1M events onto 10M went into nearly
     * every page of the table, rewriting it at each commit (3,451 of the 22,879 pages
     * the checkpoints wrote) */
    "CREATE TABLE eidr(k INTEGER PRIMARY KEY, e BLOB NOT NULL);"
    "ALTER TABLE builds RENAME TO builds15;"
    "CREATE TABLE builds(uuid TEXT NOT NULL UNIQUE, build_id TEXT, project TEXT, account TEXT,"
    " region TEXT, number INTEGER, start_ms INTEGER, trigger_type TEXT, trigger_principal TEXT,"
    " initiator TEXT, source_version TEXT, overrides TEXT, retry_of TEXT, batch_uuid TEXT,"
    " stop_principal TEXT, stop_ms INTEGER, status TEXT, status_source TEXT, status_ms INTEGER,"
    " end_ms INTEGER, is_batch INTEGER);"
    "INSERT INTO builds SELECT * FROM builds15 ORDER BY start_ms, uuid;"
    "DROP TABLE builds15;"
    "CREATE INDEX builds_start ON builds(start_ms);"
    "CREATE INDEX builds_retry ON builds(retry_of) WHERE retry_of IS NOT NULL;",
};
_Static_assert(BT_BK_RNAME == 5 && BT_BK_RTYPE == 6, "upgrade 7 names the resource tags");

/* SQLite steps per stored event each upgrade takes (measured on 300k events; the 7th on
 * 1M: 131M steps; the 9th on 1M: 86M), for the progress estimate */
static const unsigned migration_steps[] = {0, 0, 10, 15, 1, 60, 125, 20, 86, 60, 20, 0, 0, 8, 1, 0};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* What an upgrade's SQL leaves to C, run after it in its transaction: the chunks of
 * `eids` (14) and the rows of `roles` (15), which read stored records */
static int (*const migration_fill[])(bt_store *s, bt_error *err) = {
    [13] = eid_rechunk,
    [14] = roles_fill,
};

int schema_latest(void)
{
    return SCHEMA_VERSION;
}

/* The progress of an upgrade, as SQLite's progress handler counts its steps. */
typedef struct mig_progress {
    bt_store_progress_fn fn;
    void *ctx;
    uint64_t done, total;
    int64_t last_ms;
} mig_progress;

#define MIG_STEPS 10000 /* SQLite steps between two calls of the handler */

static int on_mig_steps(void *p)
{
    mig_progress *m = p;
    int64_t now = bt_time_mono_ms();
    m->done += MIG_STEPS;
    if (m->done >= m->total)
        m->done = m->total - 1; /* an estimate: the end is reported by migrate */
    if (now - m->last_ms >= 100) {
        m->last_ms = now;
        m->fn(m->ctx, m->done, m->total);
    }
    return 0;
}

int migrate(bt_store *s, bt_store_progress_fn fn, void *ctx, bt_error *err)
{
    int64_t app = 0, ver = 0, ntables = 0, nev = 0;
    int rc, v;
    char sql[128];
    mig_progress m;

    /* a read first: refuses a non-database file before anything is written */
    if (sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(s->db);
        if (code == SQLITE_NOTADB)
            return bt_error_set(err, BT_EDB, "'%s': not a buildtrail store (not a database)",
                                s->path);
        if (code == SQLITE_CORRUPT)
            return corrupt_err(s->path, err, sqlite3_errmsg(s->db));
        return db_err(s, err, "open");
    }
    if ((rc = get_int(s, "PRAGMA application_id", &app, err)) ||
        (rc = get_int(s, "PRAGMA user_version", &ver, err)) ||
        (rc = get_int(s, "SELECT count(*) FROM sqlite_master", &ntables, err)))
        return rc;
    if (app != BT_APP_ID && ntables > 0)
        return bt_error_set(err, BT_EDB,
                            "'%s': not a buildtrail store (a database of another kind)", s->path);
    if (ver > SCHEMA_VERSION)
        return bt_error_set(
            err, BT_EDB, "'%s': store schema version %d is newer than this buildtrail knows (%d)",
            s->path, (int)ver, SCHEMA_VERSION);
    s->version = (int)ver;
    if (ver == SCHEMA_VERSION)
        return 0;
    if (s->readonly && ver == 0 && ntables == 0)
        return bt_error_set(err, BT_EDB, "'%s': the store is empty (run 'buildtrail ingest' first)",
                            s->path);
    if (s->readonly)
        return bt_error_set(err, BT_EDB,
                            "'%s': store needs a schema upgrade (%d to %d) that only a user who "
                            "may write it can make (any command that reads it)",
                            s->path, (int)ver, SCHEMA_VERSION);
    /* a new store's pages: 8 KiB, where SQLite's default is 4 KiB. The write-ahead log
     * takes two writes a page and its checkpoint one more, each a system call: half as
     * many pages made the 1M-event ingest 4% faster and the 5M-event one 16% (19.1 s
     * against 22.8 s; a backfill onto it 2.0 s against 2.6-2.9 s), with the store 1%
     * smaller (the blocks' records cross fewer page headers). 16 KiB was faster still
     * but 4.7% larger (a block's last page half empty, on average). An existing store
     * keeps its pages */
    if (ver == 0 && ntables == 0 && (rc = exec(s, "PRAGMA page_size=8192", err)))
        return rc;
    if ((rc = exec(s, "BEGIN IMMEDIATE", err)))
        return rc;
    memset(&m, 0, sizeof m);
    if (fn && ver > 0 &&
        (ver >= 13 ? max_event_id(s, &nev, NULL)
                   : get_int(s, "SELECT coalesce(max(id), 0) FROM events", &nev, NULL)) == 0) {
        m.fn = fn;
        m.ctx = ctx;
        m.last_ms = bt_time_mono_ms();
        for (v = (int)ver; v < SCHEMA_VERSION; v++)
            m.total += (uint64_t)nev * migration_steps[v];
        m.total = m.total ? m.total : 1;
        sqlite3_progress_handler(s->db, MIG_STEPS, on_mig_steps, &m);
    }
    for (v = (int)ver; v < SCHEMA_VERSION; v++)
        if ((rc = exec(s, migrations[v], err)) ||
            (v < (int)(sizeof migration_fill / sizeof migration_fill[0]) && migration_fill[v] &&
             (rc = migration_fill[v](s, err))))
            goto fail;
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;", BT_APP_ID,
             SCHEMA_VERSION);
    if ((rc = exec(s, sql, err)) || (rc = exec(s, "COMMIT", err)))
        goto fail;
    sqlite3_progress_handler(s->db, 0, NULL, NULL);
    if (m.fn)
        m.fn(m.ctx, m.total, m.total);
    s->version = SCHEMA_VERSION;
    s->wrote = 1; /* close checkpoints the upgrade's pages and truncates the WAL */
    return 0;
fail:
    sqlite3_progress_handler(s->db, 0, NULL, NULL);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
