/*
 * sqlite_int.h - what the SQLite backend's files share (not a public header): the
 * bt_store structure, the statement and error helpers, the search query builder and
 * the block reader. The backend is split along its sections: sqlite.c (schema, open,
 * writing), pack.c (packed batches, made in the parser threads: pack.h), sqlite_read.c
 * (block reading, search, the store's facts), sqlite_builds.c (per-build facts and the
 * builds listing), sqlite_alerts.c (watch's alerts and outbox), sqlite_eids.c (event
 * ids: their keys and their claim at ingest), sqlite_ckpt.c (the checkpointer thread),
 * sqlite_dict.c (the compression dictionaries).
 */
#ifndef BT_STORE_SQLITE_INT_H
#define BT_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>
#include <zstd.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/builds.h"
#include "buildtrail/store.h"
#include "store/bloom.h"
#include "util/mfind.h"

/* Decompressed blocks kept: 16 (8 MiB) for pages (serve's revisit them), 64 during a
 * search without a limit. Rows in time order draw on every block whose events overlap
 * the time being read, which a store ingested in delivery order (late events included)
 * spreads over some 40 blocks at a time: with 16 slots a hunt over a 1M-event store
 * decompressed each of its 3,008 blocks 6.4 times (19,101), with 64 2.9 times. */
#define BLOCK_CACHE 16
#define BLOCK_CACHE_SCAN 64
/* Of those, the slots in play start at 2 and double each time a block is read again soon
 * after its eviction (one of the last CACHE_GHOSTS evicted), or when a chunk of rows
 * draws on more blocks at once, CHUNK_DENSE rows or more a block (chunk_records). Each
 * new slot is 512 KiB of fresh memory whose first touch of each page is a page fault
 * (10-14 us each on the reference machine, more than decompressing the page): a command
 * that reads a build's 32 events from 10 blocks once each faulted in 2.5 ms of slots it
 * never read again. A chunk's sparse rows are copied out instead. */
#define CACHE_LIVE0 2
#define CACHE_GHOSTS 32
#define CHUNK_DENSE 8

/* The most bytes of matching records prefilter keeps for delivery (beyond, their blocks
 * are read again): the 11,955 records of one IAM user on 1M events are 17 MB */
#define PF_KEEP_MAX (32u << 20)

/* The helpers below keep their short names inside the backend's files; the symbols
 * the linker sees carry the bt_sq_ prefix. */
#define corrupt_err bt_sq_corrupt_err
#define db_err_code bt_sq_db_err_code
#define db_err bt_sq_db_err
#define exec bt_sq_exec
#define prep bt_sq_prep
#define get_int bt_sq_get_int
#define load_block bt_sq_load_block
#define open_block bt_sq_open_block
#define load_blocks_done bt_sq_load_blocks_done
#define h31 bt_bloom_h31 /* store/bloom.h */
#define hash_str bt_sq_hash_str
#define eid_key bt_sq_eid_key
#define sql_eid_key bt_sq_sql_eid_key
#define eid_claim bt_sq_eid_claim
#define sql_eid_find bt_sq_sql_eid_find
#define sql_eid_ev bt_sq_sql_eid_ev
#define sql_eid_hash bt_sq_sql_eid_hash
#define eid_rechunk bt_sq_eid_rechunk
#define roles_fill bt_sq_roles_fill
#define migrate bt_sq_migrate
#define schema_latest bt_sq_schema_latest
#define eid_seen_clear bt_sq_eid_seen_clear
#define sql_bloom_match bt_sq_bloom_match
#define write_bsum bt_sq_write_bsum
#define add_bind bt_sq_add_bind
#define prepare_query bt_sq_prepare_query
#define merge_build bt_sq_merge_build
#define icol bt_sq_icol
#define bind_text bt_sq_bind_text
#define rawcheck_init bt_sq_rawcheck_init
#define rawcheck_pass bt_sq_rawcheck_pass
#define rawcheck_free bt_sq_rawcheck_free
#define row_event bt_sq_row_event
#define prefilter bt_sq_prefilter
#define register_functions bt_sq_register_functions
#define ckpt_setup bt_sq_ckpt_setup
#define ckpt_stop bt_sq_ckpt_stop
#define ckpt_runs bt_sq_ckpt_runs
#define ckpt_set_sync_pages bt_sq_ckpt_set_sync_pages
#define walk_start bt_sq_walk_start
#define walk_next bt_sq_walk_next
#define walk_free bt_sq_walk_free
#define walk_rank_cache bt_sq_walk_rank_cache
#define walk_serves bt_sq_walk_serves
#define walk_whole bt_sq_walk_whole
#define dict_setup bt_sq_dict_setup
#define dict_close bt_sq_dict_close
#define dict_ref bt_sq_dict_ref
#define dict_unref bt_sq_dict_unref
#define dict_id_of bt_sq_dict_id_of
#define dict_cdict bt_sq_dict_cdict
#define dict_for_codec bt_sq_dict_for_codec
#define dict_decompress bt_sq_dict_decompress
#define dict_use bt_sq_dict_use
#define dict_known bt_sq_dict_known
#define dict_maybe_train bt_sq_dict_maybe_train
#define dict_job_drop bt_sq_dict_job_drop
#define dict_committed bt_sq_dict_committed
#define dict_rolled_back bt_sq_dict_rolled_back

/* ---- intern cache (sqlite.c) ---- */

/* FNV-1a of s, 64 bits: the intern cache's and the packer's string hash. */
uint64_t hash_str(const char *s);

typedef struct icache_ent {
    char *s;
    uint64_t h;
    int64_t id;
} icache_ent;

typedef struct icache {
    icache_ent *v;
    size_t cap, n;
} icache;

/* A pair of interned ids: an event source and a name it was seen with (sqlite.c). */
typedef struct src_name {
    int64_t src, name;
} src_name;

/* ---- the store ---- */

typedef struct block_ent {
    int64_t id;
    bt_buf data; /* the block's first data.len raw bytes */
    unsigned age;
    int full; /* data holds the whole block */
} block_ent;

/* A block's span class (bsum.lv, schema 11): 0 when its last time is less than 2^16 ms
 * after its first, else the bit length of the difference less 16, so that a block of
 * class c ends before t0 + 2^(c+16). The walk reads each class as a range of the
 * (lv, t1) or (lv, t0) index bounded by that (sqlite_walk.c), where one
 * index on t1 would step over every block newer than a page's window. */
#define BT_SPAN_CLASS_BASE 16
static inline int bt_span_class(int64_t t0, int64_t t1)
{
    uint64_t d = t1 > t0 ? (uint64_t)t1 - (uint64_t)t0 : 0;
    int bits = 0;
    while (d) {
        bits++;
        d >>= 1;
    }
    return bits > BT_SPAN_CLASS_BASE ? bits - BT_SPAN_CLASS_BASE : 0;
}
#define BT_SPAN_CLASSES (64 - BT_SPAN_CLASS_BASE + 1)

typedef struct bt_ckpt bt_ckpt;   /* sqlite_ckpt.c */
typedef struct bt_zdict bt_zdict; /* sqlite_dict.c */

/* A block's codec (blocks.codec): 0 its records as they are, 1 zstd frames, and from
 * BT_CODEC_DICT zstd frames compressed with the dictionary whose id (dicts.id, and the
 * zstd dictionary id its frames name) is the codec (schema 12). */
#define BT_CODEC_DICT 32768 /* zstd's first id for private dictionaries */
#define BT_CODEC_DICT_SQL "32768"
/* The writer trains its first dictionary once the store holds DICT_FIRST_BLOCKS blocks
 * (4 MiB of records), and the next each time their number has grown DICT_GROWTH times
 * (at 256 and 8,192 blocks, ...), from the records of the newest DICT_FIRST_BLOCKS, cut in
 * pieces of DICT_PIECE bytes (at most DICT_SAMPLE_BYTES, at least DICT_MIN_PIECES). */
#define DICT_FIRST_BLOCKS 8
#define DICT_GROWTH 32
#define DICT_PIECE 8192
#define DICT_SAMPLE_BYTES (3u << 20)
#define DICT_MIN_PIECES 64
#define DICT_SIZE (256u << 10)

struct bt_store {
    sqlite3 *db;
    bt_ckpt *ckpt; /* a writable handle's checkpointer (sqlite_ckpt.c); NULL read-only */
    char *path;
    int readonly;
    int in_tx;
    int wrote; /* a transaction committed: close checkpoints and truncates the WAL */
    int version;
    unsigned char secret[32]; /* meta token_secret: keys serve's NextTokens */
    int has_secret;
    sqlite3_stmt *st_ins_event, *st_ins_session, *st_ins_srcname, *st_sel_str, *st_ins_str,
        *st_ins_block, *st_src_done, *st_src_get, *st_get_block, *st_sel_build, *st_ins_build,
        *st_ins_bsum, *st_ins_eidx, *st_ev_at, *st_ins_btime, *st_tdir, *st_ins_dict, *st_ins_dir,
        *st_ins_role;
    /* event ids' chunks (sqlite_eids.c): read, written and read in turn, in `eids` [0]
     * and `eidr` [1], and the first key of a run of `eidr` in a range */
    sqlite3_stmt *st_sel_eid[2], *st_ins_eid[2], *st_scan_eid[2], *st_eid_run;
    sqlite3_stmt *st_alert[9]; /* sqlite_alerts.c: prepared once, reset after each use */
    /* the block walk's (sqlite_walk.c): the span classes held, and each class's blocks
     * oldest [0] or newest [1] first; walking while a walk uses them */
    sqlite3_stmt *st_classes, *st_wcls[2][BT_SPAN_CLASSES], *st_dver;
    int walking;
    /* the span classes the store holds, as last read (cls_ok), at data version cls_dver
     * (PRAGMA data_version: another connection's commit changes it; this one's own
     * summaries clear cls_ok) */
    unsigned char cls[BT_SPAN_CLASSES];
    int ncls, cls_ok;
    int64_t cls_dver;
    icache ic;
    int64_t next_id;    /* rowid of the next event (set by begin) */
    int64_t tx_id0;     /* next_id when the transaction began: lower ids are committed */
    struct drow *drows; /* a packed block's rows, for its directory (sqlite_rows.c) */
    size_t capdrows;
    bt_buf dir, dirtmp;  /* scratch for encoding it */
    bt_buf eold, enew, emerge; /* a chunk of `eids` read, the entries a batch adds to an
                                * hour, and the two merged (eid_claim) */
    int64_t *ehave;            /* per key of an hour's in a batch: the event holding it */
    size_t ehave_cap;
    struct eid_open *eopen; /* the hours whose ids this transaction wrote, and the run
                             * it wrote them to (sqlite_eids.c); cleared by begin */
    size_t eopen_cap, eopen_n;
    struct eid_seen *eseen;    /* the UUIDs this handle stored last, by event number (EID_SEEN
                                * slots, sqlite_eids.c; NULL until the first) */
    int64_t analyzed_at; /* next_id when the planner's statistics were taken (0: unread) */
    /* pending block */
    int64_t blk_id;
    bt_buf blk_raw;
    int64_t blk_lo;  /* id of the pending block's first event */
    uint64_t *pkeys; /* the pending block's summary keys (bloom.h) */
    size_t npkeys, cappkeys;
    uint64_t *prkeys; /* and the keys of its resources */
    uint32_t *pnames; /* and its events' names (bt_nset_build) */
    size_t npnames, cappnames;
    bt_tdir_ent *ptimes; /* and its rows' times and places (bt_tdir_build) */
    size_t nptimes, capptimes;
    int64_t blk_t0, blk_t1; /* and its first and last time */
    int64_t blk_n;          /* and its number of rows */
    src_name *pairs;        /* the (source, name) pairs written to srcnames: a hash set */
    size_t n_pairs, cap_pairs;
    size_t nprkeys, capprkeys;
    bt_buf bloom, rbloom, nset, tdir; /* scratch for building its summaries */
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    /* compression dictionaries (sqlite_dict.c): the newest, which packers in other
     * threads take under dict_mu (a writable handle's; dict_mu_ok), the block id at which
     * the writer trains the next, the one trained in the open transaction (0: none), and
     * those read so far for decompression, by id */
    pthread_mutex_t dict_mu;
    int dict_mu_ok;
    bt_zdict *cdict;
    int64_t dict_next_blk;
    uint32_t dict_tx;
    struct dict_job *dict_job; /* a dictionary being trained (sqlite_dict.c), or NULL */
    struct {
        uint32_t id;
        ZSTD_DDict *dd; /* made by reference to bytes (owned: the dictionary's bytes) */
        void *bytes;
    } * ddicts;
    size_t nddicts, capddicts;
    bt_buf zin;         /* compressed bytes read from a block (load_block) */
    sqlite3_blob *blob; /* the last block read, until load_blocks_done */
    block_ent cache[BLOCK_CACHE_SCAN];
    int cache_n; /* slots in use: BLOCK_CACHE, or BLOCK_CACHE_SCAN while every row of the
                    store is read (bt_store_search) */
    int cache_live;                /* of those, the slots a miss may take (CACHE_LIVE0 up) */
    int64_t ghosts[CACHE_GHOSTS]; /* the blocks last evicted (-1: none), a ring */
    unsigned ghost_at;
    unsigned tick;
    bt_arena *arena;
    bt_arena *varena;   /* a stored record parsed to tell two event ids apart (claim_event) */
    size_t pf_keep_max; /* prefilter's PF_KEEP_MAX (a test makes it smaller) */
};

/* ---- the events' rows (sqlite_rows.c, schema 13) ---- */

/* Since schema 13 a packed block's rows are one directory over the block's id range
 * bdir.lo..hi (at the head of block bdir.blk's data); a row an index must find (an error code, a
 * project, a build or a build session: ROW_IN_EVROWS) and every row bt_store_add stores one at a
 * time are rows of `evrows`; the virtual table `events` reads the two as one. A place of the range
 * whose id is unused, or whose row is in evrows, is not present. */
#define ROW_IN_EVROWS(err, project, build, actor) ((err) || (project) || (build) || (actor))

/* one place of a directory; string ids 0 for NULL, ro -1 for NULL; t is not stored */
typedef struct drow {
    int64_t t, name, src, region, account, off, len;
    uint64_t rh;
    int kind, ro;
    unsigned char present, has_rh;
} drow;

/* A block's directory is a zstd skippable frame at the head of its data (blocks.data):
 * a header of DIR_HEAD bytes, then the directory. dir_frame_head writes the header of
 * one of len bytes; dir_frame_len reads it (0, or BT_EDB when head is not one). */
#define DIR_HEAD 8
void dir_frame_head(unsigned char head[DIR_HEAD], size_t len);
int dir_frame_len(const unsigned char head[DIR_HEAD], size_t *len);
/* Encodes rows[0..n) (the places lo..hi of a block) into out (cleared; tmp: scratch),
 * compressed with zc. 0 or BT_ENOMEM. */
int dir_encode(const drow *rows, size_t n, ZSTD_CCtx *zc, bt_buf *out, bt_buf *tmp);
/* Decodes the directory p[0..len) into *rows (grown to *cap entries as needed), *n its
 * places; zd and scratch for its decompression. The rows' times are 0: the block's time
 * directory (btime) holds them. 0, BT_EDB (malformed) or BT_ENOMEM. */
int dir_decode(const unsigned char *p, size_t len, ZSTD_DCtx *zd, bt_buf *scratch, drow **rows,
               size_t *cap, size_t *n);
/* Registers the virtual table `events` on db: the connection of store s (which
 * outlives it), or NULL for a connection of a program's own that reads the file (tools'
 * and tests'). 0 or BT_EDB. */
int rows_register(sqlite3 *db, bt_store *s);
/* The highest event id the store has given (0: none) into *v. */
int max_event_id(bt_store *s, int64_t *v, bt_error *err);

/* ---- errors and statements (sqlite.c) ---- */

/* "store 'PATH' is corrupt (why); ..." as BT_EDB: one message for a damaged file. */
int corrupt_err(const char *path, bt_error *err, const char *why);
/* Translates SQLite result code (or the connection's last error) into err. */
int db_err_code(bt_store *s, bt_error *err, const char *what, int code);
int db_err(bt_store *s, bt_error *err, const char *what);
int exec(bt_store *s, const char *sql, bt_error *err);
/* Prepares sql into *st once (persistent); a no-op when *st is already set. */
int prep(bt_store *s, sqlite3_stmt **st, const char *sql, bt_error *err);
/* The first column of sql's first row into *v. */
int get_int(bt_store *s, const char *sql, int64_t *v, bt_error *err);

/* Finds block id: its codec (BT_CODEC_DICT) and raw length, and s->blob (open on its
 * data until load_blocks_done). */
int open_block(bt_store *s, int64_t id, int *codec, int64_t *raw_len, bt_error *err);
/* The decompressed raw records of block id, at least its first need bytes (SIZE_MAX:
 * all of it; *out's len says how many are there). Cached in s; valid until the next
 * call. */
int load_block(bt_store *s, int64_t id, size_t need, const bt_buf **out, bt_error *err);
/* Closes the blob handle load_block keeps between blocks (it holds the read
 * transaction open): after the reads of one search or lookup. */
void load_blocks_done(bt_store *s);
/* A block's summary row (bsum): its events' id range lo..hi, time range t0..t1 and
 * number n, the summaries of their fields (bloom), of their resources (rbloom), their
 * names (nset) and the directory of their names (ndir, or NULL); the bytes are
 * borrowed. */
typedef struct bsum_row {
    int64_t blk, lo, hi, t0, t1, n;
    const void *bloom, *rbloom, *nset, *ndir, *tdir;
    size_t bloom_len, rbloom_len, nset_len, ndir_len, tdir_len;
} bsum_row;

/* A block's directory of names (bsum.ndir, schema 8; NULL for a block whose ids were
 * given in the order of adding: bt_store_add, and blocks written before): the ids of a
 * packed block's events are ordered by their name's hash (bt_bloom_h31; 0 for none), so
 * each name's events take a run of ids, the runs one after the other from the block's
 * first id (bsum.lo). As unsigned LEB128 varints: 1 when the first run is of events
 * without a name (and the name set, bsum.nset, has no hash 0), else 0; then per run,
 * in the order of the name set's hashes, its number of ids and the events stored in it
 * (a duplicate leaves its id unused). */

/* Registers the SQL functions of the schema's upgrades and of searches (sqlite_fn.c). 0
 * or the error, set in err. */
int register_functions(bt_store *s, bt_error *err);

/* Gives the writable handle s its checkpointer (sqlite_ckpt.c): a commit that leaves
 * the write-ahead log long wakes a thread, started then, that checkpoints it through a
 * connection of its own. 0, or BT_ENOMEM set in err. */
int ckpt_setup(bt_store *s, bt_error *err);

/* Stops s's checkpointer (waiting for a checkpoint it runs) and frees it; the commits
 * that follow checkpoint nothing. Nothing when s has none. */
void ckpt_stop(bt_store *s);

/* How many checkpoints s's checkpointer has run (tests). */
uint64_t ckpt_runs(const bt_store *s);

/* Sets the log's length in pages from which a commit waits for s's checkpointer and
 * copies the rest itself (tests: the default is 128 MiB of the store's pages). */
void ckpt_set_sync_pages(bt_store *s, int pages);

/* Writes the summary row of a block. */
int write_bsum(bt_store *s, const bsum_row *b, bt_error *err);

/* The bucket that leads the keys of `eids`: an event's hour (time_ms / BT_STORE_HOUR_MS,
 * truncated as SQL's integer division is). */
#define BT_STORE_HOUR_MS 3600000
/* SQL bt_bloom_match(bloom, keys), registered on open (sqlite_read.c). */
void sql_bloom_match(sqlite3_context *cx, int argc, sqlite3_value **argv);

/* ---- query text with its bindings (sqlite_read.c) ---- */

typedef struct bind {
    int type; /* 0 int, 1 text, 2 blob16, 3 blob s of i bytes */
    int64_t i;
    const char *s;
    unsigned char b[16];
} bind;

typedef struct sqlq {
    bt_buf sql;
    bind *binds;
    size_t n, cap;
    int impossible; /* a filter value is not in the store at all */
    int oom;        /* a bind could not be added */
    /* the names (bt_bloom_h31, sorted) one of which every row that passes has, when
     * the filter says (prune): the block walk opens only the blocks whose name set
     * (bsum.nset) holds one */
    uint32_t *names;
    size_t nnames, capnames;
    int prune;
} sqlq;

int add_bind(sqlq *q, int type, int64_t i, const char *s);
/* Prepares q's text into *st (the caller finalizes) and binds its values. */
int prepare_query(bt_store *s, sqlq *q, sqlite3_stmt **st, bt_error *err);

/* ---- reading records (sqlite_read.c, sqlite_prefilter.c) ---- */

/*
 * The raw check of the records a search parses to decide (sql_exact false): for each
 * field the rows do not hold (user, principal, access key, source IP, resource name),
 * the bytes one of its values leaves, as they are, in any record that matches it: the
 * value itself, or for a resource name its part after the last '/' (extraction copies
 * names from the record, and derives project and build ARNs from a name or build id the
 * record holds; a user name is copied from the record but root's, which a Root record
 * holds as its identity's type). A record with an escape in it is always parsed, so no
 * value is hidden behind one. A record in which no value of some such field occurs (ASCII
 * case-insensitively, a superset) is not parsed: it cannot match.
 */
typedef struct rawcheck {
    bt_mfind *m[5];
    int n;
} rawcheck;

/* One result row of a search, while its chunk is assembled. */
typedef struct srow {
    int64_t id, t, blk, off, len;
    int64_t name; /* the event name's string id (0: none, or not read) */
    int kind;
    size_t copy;    /* offset of the record's bytes in the chunk buffer, or: */
    const char *at; /* the record's bytes in the block cache (see bt_store_search) */
} srow;

/* Makes c for the values of f's fields (an empty check, which passes every record, when
 * f has none the check can test); rawcheck_free releases it. 0 or BT_ENOMEM. */
int rawcheck_init(rawcheck *c, const bt_filter *f);
/* 0 when the record rec[0..len) cannot match (no value of some checked field occurs). */
int rawcheck_pass(const rawcheck *c, const char *rec, size_t len);
void rawcheck_free(rawcheck *c);

/* Parses the record at of row r into ev; its strings live in arena a, which this
 * resets (path names the store in an error). */
int row_event(bt_arena *a, const char *path, const srow *r, const char *at, bt_event *ev,
              bt_error *err);

/*
 * The rows of a search for all results by a field the rows do not hold (user,
 * principal, access key, source IP) from the blocks their summaries chose: st gives the
 * chosen blocks' rows (id, t, kind, blk, off, len) in block order. Each block is
 * decompressed once, whole, and its records checked there (chk, then parsed and tested
 * against bq's filter), the blocks shared among threads; the rows whose records match
 * are kept (*out, malloc'd, the caller frees; NULL when none) and sorted into bq's
 * delivery order. While they take at most s->pf_keep_max bytes (PF_KEEP_MAX), their
 * records are copied into recs (caller-owned), and each row's at points at its copy
 * there; otherwise recs is left empty, and at NULL.
 */
int prefilter(bt_store *s, sqlite3_stmt *st, const bt_store_query *bq, const rawcheck *chk,
              srow **out, size_t *nout, bt_buf *recs, bt_error *err);

/* ---- builds (sqlite_builds.c) ---- */

/* Merges the facts of one new event into its build's row. Uses s->arena (the caller
 * resets it). */
int merge_build(bt_store *s, const bt_build_facts *f, bt_error *err);
/* Brings s's file to the latest schema (sqlite_schema.c): creates it when empty,
 * upgrades an older one in place in one transaction (fn, when not NULL, hears its
 * progress), refuses a newer one or another kind of file, and a read-only handle's
 * upgrade. Sets s->version. */
int migrate(bt_store *s, bt_store_progress_fn fn, void *ctx, bt_error *err);

/* The schema version this build writes. */
int schema_latest(void);

/* Fills `roles` (the upgrade to schema 15) from the project records the store holds,
 * oldest first, as an ingest of them would have. */
int roles_fill(bt_store *s, bt_error *err);
/* Column i as an integer, null when SQL NULL. */
int64_t icol(sqlite3_stmt *st, int i, int64_t null);
/* Binds v as text, or NULL. */
void bind_text(sqlite3_stmt *st, int i, const char *v);

/* ---- event ids (sqlite_eids.c) ---- */

/* The key of an event id in `eids` (schema 10): its hour (hb, BT_STORE_HOUR_MS) in the
 * bits above EID_HASH_BITS and, below them, a hash of the id's bytes p[0..n) (a UUID's
 * 16 bytes packed, bt_event_uuid_pack, text 0; any other id as its text, text 1).
 * Stored in every store: the hash never changes. Two ids of one hour may share a key;
 * the second is then kept in `eidx` by its bytes (eid_claim). */
#define EID_HASH_BITS 40
int64_t eid_key(int64_t hb, const void *p, size_t n, int text);
/* SQL bt_eid_key(hb, eid), registered on open. */
void sql_eid_key(sqlite3_context *cx, int argc, sqlite3_value **argv);

/* `eids` since schema 14 holds the keys in chunks: a row (k, e) holds the keys of one
 * hour from k on, up to the next row's k or the hour's end, as e: EID_ENT bytes a key
 * (the hash's 5 bytes, then the event's id in 6, big-endian), sorted by hash. An hour's
 * first chunk has k = the hour's bits and a hash of 0, so the chunk of any key is the
 * row with the greatest k not above it, when that row is of the key's hour. A chunk
 * grows to EID_CHUNK_MAX keys, then splits into pieces of about EID_CHUNK_FILL. */
#define EID_ENT 11
#define EID_CHUNK_MAX 180
#define EID_CHUNK_FILL 120
/* Since schema 16 an hour's keys lie in up to EID_RUNS runs, each chunked as above: run
 * 0 in `eids`, runs 1 to EID_RUNS - 1 in `eidr`, whose keys hold the hour, then the run
 * in EID_RUN_BITS, then the hash (eid_run_base). Every key of an hour is in one run
 * only. A transaction that adds at least EID_RUN_MIN keys to an hour whose keys it did
 * not write writes them as a new run (a backfill: merged into the hour's chunks, they
 * rewrote nearly every chunk of the store), and when the hour has no run left, merges
 * all its runs into run 0 (eid_claim). Hours from EID_RUN_HOURS on (the year 2089) and
 * before 1970 have run 0 alone. */
#define EID_RUN_BITS 3
#define EID_RUNS (1 << EID_RUN_BITS)
#define EID_RUN_MIN 32
#define EID_RUN_HOURS ((UINT64_C(1) << (63 - EID_HASH_BITS - EID_RUN_BITS)) - 1)
/* SQL bt_eid_find(e, k): the event whose key is k in the chunk e, or NULL; registered on
 * open. */
void sql_eid_find(sqlite3_context *cx, int argc, sqlite3_value **argv);
/* SQL bt_eid_ev(e, i) and bt_eid_hash(e, i): the event and the hash of entry i of the
 * chunk e (NULL past its end), registered on open: what a chunk holds, for SQL. */
void sql_eid_ev(sqlite3_context *cx, int argc, sqlite3_value **argv);
void sql_eid_hash(sqlite3_context *cx, int argc, sqlite3_value **argv);
/* The upgrade to schema 14: the rows of `eids13` (k, ev), one a key, as chunks in `eids`,
 * then `eids13` dropped. */
int eid_rechunk(bt_store *s, bt_error *err);

/* The batch being stored by bt_store_add_packed, whose events' rows are written after
 * all their ids are claimed: an id claimed in it names an event found here, not in
 * `events`. */
typedef struct claim_batch {
    const bt_event *ev;
    const uint32_t *rank_ev; /* the event at each place of the id order (pack.h) */
    int64_t id0;             /* the batch's first id */
    size_t n;
} claim_batch;

struct pack_pre;
/* Claims the ids of the events ev[order[0..n)] (`eids` and `eidr`, else `eidx`,
 * sqlite_eids.c):
 * fresh[i] = 1 for event i new, 0 for a duplicate (nothing is written for it). order
 * sorts the events by their keys (pre[i].ek, pack.h), copies of an event in the order
 * the first is kept; event i takes the id id0 + rank[i]. cb is the batch being stored
 * (NULL for an event added alone). */
/* Forgets the UUIDs of eseen (a rollback: their numbers are given again). */
void eid_seen_clear(bt_store *s);
/* Forgets which runs the transaction before wrote (a transaction begins). */
void eid_open_clear(bt_store *s);
int eid_claim(bt_store *s, const bt_event *ev, const struct pack_pre *pre, const uint32_t *order,
              size_t n, const uint32_t *rank, int64_t id0, const claim_batch *cb,
              unsigned char *fresh, bt_error *err);

/* ---- compression dictionaries (sqlite_dict.c) ---- */

/* Gives the writable handle s its dictionary for new blocks: the store's newest (none
 * when it has none). 0, or the error set in err. */
int dict_setup(bt_store *s, bt_error *err);
/* Frees s's dictionaries (a packer's reference keeps its own alive). */
void dict_close(bt_store *s);
/* The dictionary new blocks of s are compressed with, referenced (NULL: none, or s is
 * NULL or read-only); any thread may take it while s's writer works. dict_unref drops
 * the reference (accepts NULL). */
bt_zdict *dict_ref(bt_store *s);
void dict_unref(bt_zdict *d);
/* Its id (the codec of the blocks compressed with it; 0 for NULL) and its compression
 * tables (NULL for NULL), borrowed from d. */
uint32_t dict_id_of(const bt_zdict *d);
const ZSTD_CDict *dict_cdict(const bt_zdict *d);
/* The dictionary a block of codec decompresses with into *out (NULL for a codec without
 * one), read from `dicts` the first time and kept in s. A missing or unreadable one is
 * the store's damage (corrupt_err). */
int dict_for_codec(bt_store *s, int codec, const ZSTD_DDict **out, bt_error *err);
/* Readies zd for a new stream of frames compressed with the dictionary dd (NULL: none):
 * ZSTD_DCtx_refDDict's result. */
size_t dict_use(ZSTD_DCtx *zd, const ZSTD_DDict *dd);
/* Decompresses src[0..n) (zstd frames) into dst[0..cap) with the dictionary dd (NULL:
 * none): ZSTD_decompressDCtx's result. */
size_t dict_decompress(ZSTD_DCtx *zd, const ZSTD_DDict *dd, void *dst, size_t cap, const void *src,
                       size_t n);
/* 1 when the dictionary id (0: none) is one of the store's, as a pack's blocks need. */
int dict_known(bt_store *s, uint32_t id);
/* The writer, after adding blocks: once the store holds s->dict_next_blk blocks, copies
 * samples of the newest and trains the next dictionary from them on a thread of its own;
 * at a later call after that thread is done (or at this one, waiting for it, with wait:
 * a commit's), inserts it in the open transaction and hands it to the packers. Samples
 * that make no dictionary are no error. */
int dict_maybe_train(bt_store *s, int wait, bt_error *err);
/* Waits for a dictionary being trained and drops it (the handle closes). */
void dict_job_drop(bt_store *s);
/* The open transaction committed, or rolled back (its dictionary is forgotten). */
void dict_committed(bt_store *s);
void dict_rolled_back(bt_store *s);

/* ---- the block walk (sqlite_walk.c) ---- */

/* Results beyond which a search reads the blocks (or the rows the summaries choose)
 * whole rather than page by page (sqlite_read.c: search_from, scan_beats_walk). */
#define SCAN_LIMIT 10000

/*
 * The block walk: a search in time order by event names or sources that no narrower
 * index serves (no project, build, error, event id or block-summary filter) reads the
 * blocks whose time range (bsum.t0, t1) meets the search's, newest last event first
 * (oldest first event first for oldest_first), skipping those whose name set holds none
 * of the filter's names, and merges the rows of their names' runs (bsum.ndir; a block
 * without a directory: all its rows that pass the search's SQL, through its id range):
 * they join a heap, and the heap's first row is handed out once no block left can hold
 * a later one (newest first: the next block's last time is before it). Blocks cover a
 * slice of time each (pack order), so a page opens the few blocks around its time. This
 * replaces the (name, time) index (18 bytes an event; schema 8). A search without names
 * that wants every result walks the blocks the same way, every row of each (walk_whole);
 * one that wants a page (or starts from a position) takes each block's rows from its time
 * directory as it goes (btime, schema 11: incr), reading only the rows it hands out,
 * where it read every row of the 14 or so blocks that overlap a moment (LookupEvents pages
 * of 50: 824 a second on one thread, against 2,931 through the time index it replaces).
 * The blocks come class by class of their span (walk_classes), merged. A range's rows
 * are sorted into a run, and the runs merged (wrun).
 */
/* One span class's blocks in walk order (bt_span_class): a range of (lv, t1) or
 * (lv, t0), and its next block's key. */
typedef struct wclass {
    sqlite3_stmt *st;
    int have;         /* st is on a row */
    int64_t key, blk; /* its t1 (newest first) or t0, and block */
} wclass;

typedef struct bwalk {
    wclass cls[BT_SPAN_CLASSES]; /* the classes the store holds, ncls of them */
    int ncls;
    int started, own_cls; /* walk_classes ran; with statements of its own */
    sqlite3_stmt *rst;    /* one block's rows: the search's query, its range and block bound */
    int rbase;            /* rst's bind of the range's first id; then last id, block */
    int desc;
    int incr;                  /* rows taken from the blocks' time directories, a few at a time */
    int64_t tlo, thi;          /* the search's time window */
    const bt_store_pos *after; /* and its position (exclusive), or NULL */
    const sqlq *q;             /* its names, when q->prune */
    int have_next;             /* next holds the next block to open */
    int64_t nblk, nlo, nhi, nt0, nt1, nn;
    bt_buf ndir, nset, tdir; /* the next block's directory of names (empty: none), names,
                                and rows in time order */
    struct wrun *heap;       /* the opened ranges with rows not yet handed out, by their next */
    size_t n, cap;
    srow *rows; /* a range's rows while it is read (walk_range) */
    size_t nrows, caprows;
} bwalk;

/* Starts the walk of the search q (its text's conditions begin at where_at, with
 * " WHERE 1") from bq's time range and position; incr: its rows from the blocks' time
 * directories, a few at a time. walk_free ends it, whatever walk_start returned. */
int walk_start(bt_store *s, bwalk *w, sqlq *q, size_t where_at, const bt_store_query *bq, int incr,
               bt_error *err);
/* The walk's next row into *out; *more = 0 when there is none. */
int walk_next(bt_store *s, bwalk *w, srow *out, int *more, bt_error *err);
void walk_free(bt_store *s, bwalk *w);
/* Between chunks of a walk: ranks the block cache by the walk's next use of each block. */
void walk_rank_cache(bt_store *s, const bwalk *w);
/* 1 when a search by names (q->prune) or, with walk_whole, one without may be made by
 * the walk: no narrower index serves it. */
int walk_serves(const bt_filter *f, const bt_store_query *bq);
/* 1 when a search without names is a walk of every row of its blocks. */
int walk_whole(const bt_store_query *bq);

#endif
