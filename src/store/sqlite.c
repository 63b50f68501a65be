/*
 * sqlite.c - the SQLite backend of the event store (see buildtrail/store.h).
 *
 * Layout: low-cardinality strings that filters compare (event names, sources,
 * regions, accounts, error codes, projects, builds) are interned in `strs` so rows and
 * indexes hold small integers; high-cardinality ones (user, principal, access key,
 * source IP) are not in the rows, and every search result is checked against the
 * filter on the re-extracted event, so a summary's false positive never shows up in
 * results. Raw records are kept in ~512 KiB blocks compressed with zstd (`blocks`);
 * each event row points at its (block, offset, length). Each block has a summary
 * (`bsum`): the id range, time range and span class of its events, their names and
 * directory of names, a Bloom filter of their user, principal, access key and source
 * IP, and one of their resources' names and types (bloom.h), which searches use instead
 * of row indexes; and its rows in time order (`btime`), which the block walk reads
 * instead of a time index. Event ids are keyed by their hour and a hash of the id
 * (sqlite_eids.c). Everything an ingest writes for a file, including its `sources` row,
 * commits in one transaction, so a kill at any moment leaves a consistent store.
 *
 * This file holds open/close and the event store's writing (the inserts of the batches
 * pack.c packs in the parser threads); the schema and its upgrades are in
 * sqlite_schema.c, the SQL functions the upgrades call in sqlite_fn.c, event ids in
 * sqlite_eids.c, searching in sqlite_read.c and its block walk in sqlite_walk.c, builds
 * in sqlite_builds.c, alerts in sqlite_alerts.c, and what they share in sqlite_int.h.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/json.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "store/bloom.h"
#include "store/pack.h"
#include "store/sqlite_int.h"

#define INTERN_MAX 1000000

/* ---- intern cache ---------------------------------------------------------------- */

uint64_t hash_str(const char *s)
{
    return bt_bloom_fnv(s);
}

static void icache_clear(icache *c)
{
    size_t i;
    for (i = 0; i < c->cap; i++)
        free(c->v[i].s);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static icache_ent *icache_find(icache *c, const char *s, uint64_t h)
{
    size_t i;
    if (!c->cap)
        return NULL;
    for (i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        if (!c->v[i].s)
            return &c->v[i];
        if (c->v[i].h == h && strcmp(c->v[i].s, s) == 0)
            return &c->v[i];
    }
}

static int icache_put(icache *c, const char *s, uint64_t h, int64_t id)
{
    icache_ent *e;
    if (c->n >= INTERN_MAX)
        icache_clear(c);
    if ((c->n + 1) * 10 >= c->cap * 7) {
        icache old = *c;
        size_t i, cap = c->cap ? c->cap * 2 : 4096;
        c->v = calloc(cap, sizeof *c->v);
        if (!c->v) {
            *c = old;
            return BT_ENOMEM;
        }
        c->cap = cap;
        c->n = 0;
        for (i = 0; i < old.cap; i++)
            if (old.v[i].s) {
                e = icache_find(c, old.v[i].s, old.v[i].h);
                *e = old.v[i];
                c->n++;
            }
        free(old.v);
    }
    e = icache_find(c, s, h);
    if (!(e->s = strdup(s)))
        return BT_ENOMEM;
    e->h = h;
    e->id = id;
    c->n++;
    return 0;
}

/* ---- store ----------------------------------------------------------------------- */

/* A corrupt file gets one message whatever was being done (the CLI maps it to the
 * exit status of an unusable store). */
int corrupt_err(const char *path, bt_error *err, const char *why)
{
    return bt_error_set(err, BT_EDB,
                        "store '%s' is corrupt (%s); restore it, or remove it and "
                        "ingest again",
                        path, why);
}

int db_err_code(bt_store *s, bt_error *err, const char *what, int code)
{
    int ext = sqlite3_extended_errcode(s->db);
    const char *msg = sqlite3_errmsg(s->db);
    if ((code & 0xff) == SQLITE_OK || (code & 0xff) == SQLITE_ROW || (code & 0xff) == SQLITE_DONE)
        code = ext;
    if (!msg || strcmp(msg, "not an error") == 0)
        msg = sqlite3_errstr(code);
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        return corrupt_err(s->path, err, msg);
    return bt_error_set(err, BT_EDB, "store '%s': %s: %s", s->path, what, msg);
}

int db_err(bt_store *s, bt_error *err, const char *what)
{
    return db_err_code(s, err, what, sqlite3_extended_errcode(s->db));
}

int exec(bt_store *s, const char *sql, bt_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = bt_error_set(err, BT_EDB, "store '%s': %s", s->path, msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int prep(bt_store *s, sqlite3_stmt **st, const char *sql, bt_error *err)
{
    if (*st)
        return 0;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return db_err(s, err, "prepare");
    return 0;
}

int bt_store_default_path(char **out, bt_error *err)
{
    const char *p = getenv("BUILDTRAIL_STORE"), *x, *home;
    if (p && *p) {
        *out = strdup(p);
    } else if ((x = getenv("XDG_DATA_HOME")) && *x == '/') {
        if (asprintf(out, "%s/buildtrail/events.db", x) < 0)
            *out = NULL;
    } else if ((home = getenv("HOME")) && *home) {
        if (asprintf(out, "%s/.local/share/buildtrail/events.db", home) < 0)
            *out = NULL;
    } else {
        return bt_error_set(err, BT_ECONFIG,
                            "no store path: set --store, BUILDTRAIL_STORE, XDG_DATA_HOME or HOME");
    }
    return *out ? 0 : bt_error_set(err, BT_ENOMEM, "out of memory");
}

static int mkdir_parents(const char *path, bt_error *err)
{
    char tmp[PATH_MAX];
    char *p;
    if (strlen(path) >= sizeof tmp)
        return bt_error_set(err, BT_EINVAL, "'%s': path too long", path);
    strcpy(tmp, path);
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return bt_error_set(err, BT_EIO, "cannot create directory '%s': %s", tmp,
                                strerror(errno));
        *p = '/';
    }
    return 0;
}

int get_int(bt_store *s, const char *sql, int64_t *v, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "query");
    if (sqlite3_step(st) == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        rc = db_err(s, err, "query");
    sqlite3_finalize(st);
    return rc;
}

/* The store's secret (32 random bytes, made once by the first writable open): it keys
 * the NextTokens serve hands out, so they cannot be forged or altered. */
static int read_secret(bt_store *s)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='token_secret'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 64) {
        const unsigned char *h = sqlite3_column_text(st, 0);
        int i;
        ok = 1;
        for (i = 0; i < 32 && ok; i++) {
            unsigned v;
            ok = sscanf((const char *)h + 2 * i, "%2x", &v) == 1;
            s->secret[i] = (unsigned char)v;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static int load_secret(bt_store *s, bt_error *err)
{
    int rc;
    if ((s->has_secret = read_secret(s)) || s->readonly)
        return 0;
    if ((rc = exec(s,
                   "INSERT OR IGNORE INTO meta(key, value) VALUES ('token_secret', "
                   "lower(hex(randomblob(32))))",
                   err)))
        return rc;
    s->has_secret = read_secret(s);
    return 0;
}

int bt_store_token_secret(const bt_store *s, unsigned char key[32])
{
    if (!s || !s->has_secret)
        return 0;
    memcpy(key, s->secret, 32);
    return 1;
}

/* True when a read-only handle cannot read the store as it is shared (a WAL store whose
 * -shm cannot be created or written: a read-only file, directory or mount). */
static int cannot_read_shared(bt_store *s)
{
    int rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    int code = rc & 0xff;
    return code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_IOERR;
}

/* Reopens as an immutable file (no locks, no -shm): right only when nothing is
 * writing and the write-ahead log is checkpointed into the file (no -wal, or an empty
 * one), as after any ingest that finished. */
static int reopen_immutable(bt_store *s, bt_error *err)
{
    char *wal = NULL, *uri = NULL;
    struct stat sb;
    size_t i, n = strlen(s->path);
    int rc = 0, o = 0;

    if (asprintf(&wal, "%s-wal", s->path) < 0 || !(uri = malloc(3 * n + 32))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (stat(wal, &sb) == 0 && sb.st_size > 0) {
        rc = bt_error_set(err, BT_EDB,
                          "store '%s' cannot be read without writing: its write-ahead log '%s' "
                          "is not checkpointed and the directory is read-only (see docs/store.md)",
                          s->path, wal);
        goto done;
    }
    o = sprintf(uri, "file:");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s->path[i];
        o += (c == '%' || c == '?' || c == '#' || c < 0x20) ? sprintf(uri + o, "%%%02X", c)
                                                            : sprintf(uri + o, "%c", c);
    }
    sprintf(uri + o, "?immutable=1");
    sqlite3_close(s->db);
    s->db = NULL;
    if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        rc = bt_error_set(err, BT_EDB, "store '%s': %s", s->path,
                          s->db ? sqlite3_errmsg(s->db) : "cannot open");
done:
    free(wal);
    free(uri);
    return rc;
}

int bt_store_open(const char *path, unsigned flags, bt_store **out, bt_error *err)
{
    return bt_store_open_progress(path, flags, NULL, NULL, out, err);
}

/* SQLite's memory statistics take a global mutex on every allocation (a few per
 * statement step): off, before SQLite initialises, unless the program has initialised
 * it already (then the call fails and changes nothing). */
static pthread_once_t g_sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens path; *old (when not NULL) is set when a read-only open found a schema that
 * needs an upgrade. */
static int open_store(const char *path, unsigned flags, bt_store_progress_fn fn, void *ctx,
                      int *old, bt_store **out, bt_error *err)
{
    bt_store *s = NULL;
    int rc = 0, fd, i;
    int sflags;

    *out = NULL;
    pthread_once(&g_sqlite_once, sqlite_setup);
    s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    s->readonly = (flags & BT_STORE_READONLY) != 0;
    s->cache_n = BLOCK_CACHE;
    s->cache_live = CACHE_LIVE0;
    for (i = 0; i < CACHE_GHOSTS; i++)
        s->ghosts[i] = -1;
    if (s->readonly) {
        if (access(path, R_OK) != 0) {
            rc = bt_error_set(err, BT_ENOTFOUND, "store '%s': %s (run 'buildtrail ingest' first)",
                              path, strerror(errno));
            goto fail;
        }
        sflags = SQLITE_OPEN_READONLY;
    } else {
        if ((rc = mkdir_parents(path, err)))
            goto fail;
        fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        else if (errno != EEXIST) {
            rc = bt_error_set(err, BT_EIO, "store '%s': %s", path, strerror(errno));
            goto fail;
        }
        sflags = SQLITE_OPEN_READWRITE;
    }
    if (sqlite3_open_v2(path, &s->db, sflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = bt_error_set(err, BT_EDB, "store '%s': %s", path,
                          s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if (s->readonly && cannot_read_shared(s) && (rc = reopen_immutable(s, err)))
        goto fail;
    if ((rc = register_functions(s, err)))
        goto fail;
    s->zd = ZSTD_createDCtx(); /* an upgrade may read blocks (roles_fill) */
    s->arena = bt_arena_new(1 << 16, 0);
    if (!s->zd || !s->arena) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = migrate(s, fn, ctx, err))) {
        if (old)
            *old = s->readonly && s->version > 0 && s->version < schema_latest();
        goto fail;
    }
    if (!s->readonly &&
        ((rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err)) ||
         (rc = ckpt_setup(s, err)) || (rc = dict_setup(s, err))))
        goto fail;
    if ((rc = exec(s, "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;", err)))
        goto fail;
    if ((rc = load_secret(s, err)))
        goto fail;
    s->pf_keep_max = PF_KEEP_MAX;
    *out = s;
    return 0;
fail:
    bt_store_close(s);
    return rc;
}

int bt_store_open_progress(const char *path, unsigned flags, bt_store_progress_fn fn, void *ctx,
                           bt_store **out, bt_error *err)
{
    bt_store *w = NULL;
    bt_error werr = BT_ERROR_INIT;
    int old = 0, rc = open_store(path, flags, fn, ctx, &old, out, err);

    /* a reader of a store an older release wrote upgrades it first (one transaction)
     * when it may write the file; else the error stands */
    if (rc && old && access(path, W_OK) == 0 &&
        open_store(path, flags & ~(unsigned)BT_STORE_READONLY, fn, ctx, NULL, &w, &werr) == 0) {
        bt_store_close(w);
        bt_error_clear(err);
        rc = open_store(path, flags, fn, ctx, NULL, out, err);
    }
    return rc;
}

void bt_store_close(bt_store *s)
{
    int i;
    if (!s)
        return;
    if (s->in_tx)
        bt_store_rollback(s);
    load_blocks_done(s);
    ckpt_stop(s);
    if (s->wrote && s->db) /* leave no WAL behind (best effort: a reader may hold it) */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_finalize(s->st_ins_event);
    sqlite3_finalize(s->st_ins_session);
    sqlite3_finalize(s->st_ins_srcname);
    sqlite3_finalize(s->st_sel_str);
    sqlite3_finalize(s->st_ins_str);
    sqlite3_finalize(s->st_ins_block);
    sqlite3_finalize(s->st_src_done);
    sqlite3_finalize(s->st_src_get);
    sqlite3_finalize(s->st_get_block);
    sqlite3_finalize(s->st_sel_build);
    sqlite3_finalize(s->st_ins_build);
    sqlite3_finalize(s->st_ins_role);
    for (size_t k = 0; k < 2; k++) {
        sqlite3_finalize(s->st_ins_eid[k]);
        sqlite3_finalize(s->st_sel_eid[k]);
        sqlite3_finalize(s->st_scan_eid[k]);
    }
    sqlite3_finalize(s->st_eid_run);
    sqlite3_finalize(s->st_ins_eidx);
    sqlite3_finalize(s->st_ev_at);
    sqlite3_finalize(s->st_ins_bsum);
    sqlite3_finalize(s->st_ins_btime);
    sqlite3_finalize(s->st_tdir);
    sqlite3_finalize(s->st_ins_dict);
    sqlite3_finalize(s->st_ins_dir);
    for (size_t k = 0; k < sizeof s->st_alert / sizeof s->st_alert[0]; k++)
        sqlite3_finalize(s->st_alert[k]);
    sqlite3_finalize(s->st_classes);
    sqlite3_finalize(s->st_dver);
    for (size_t k = 0; k < BT_SPAN_CLASSES; k++) {
        sqlite3_finalize(s->st_wcls[0][k]);
        sqlite3_finalize(s->st_wcls[1][k]);
    }
    if (s->db)
        sqlite3_close(s->db);
    icache_clear(&s->ic);
    bt_buf_dispose(&s->blk_raw);
    bt_buf_dispose(&s->bloom);
    bt_buf_dispose(&s->rbloom);
    bt_buf_dispose(&s->nset);
    bt_buf_dispose(&s->tdir);
    bt_buf_dispose(&s->zin);
    bt_buf_dispose(&s->dir);
    bt_buf_dispose(&s->dirtmp);
    bt_buf_dispose(&s->eold);
    bt_buf_dispose(&s->enew);
    bt_buf_dispose(&s->emerge);
    free(s->eseen);
    free(s->ehave);
    free(s->eopen);
    free(s->drows);
    free(s->pkeys);
    free(s->prkeys);
    free(s->pnames);
    free(s->ptimes);
    free(s->pairs);
    for (i = 0; i < BLOCK_CACHE_SCAN; i++)
        bt_buf_dispose(&s->cache[i].data);
    ZSTD_freeCCtx(s->zc);
    ZSTD_freeDCtx(s->zd);
    dict_close(s);
    bt_arena_free(s->arena);
    bt_arena_free(s->varena);
    free(s->path);
    free(s);
}

const char *bt_store_path(const bt_store *s)
{
    return s->path;
}

int bt_store_schema_version(const bt_store *s)
{
    return s->version;
}

/* ---- writing --------------------------------------------------------------------- */

/* Empties the pending block and its summary's keys. */
static void pending_reset(bt_store *s)
{
    bt_buf_clear(&s->blk_raw);
    s->npkeys = 0;
    s->nprkeys = 0;
    s->npnames = 0;
    s->nptimes = 0;
    s->blk_t0 = INT64_MAX;
    s->blk_t1 = INT64_MIN;
    s->blk_n = 0;
}

int bt_store_begin(bt_store *s, bt_error *err)
{
    int64_t next = 0;
    int rc;
    if (s->readonly)
        return bt_error_set(err, BT_EDB, "store '%s' is open read-only", s->path);
    if (s->in_tx)
        return 0;
    if ((rc = exec(s, "BEGIN IMMEDIATE", err)))
        return rc;
    if ((rc = get_int(s, "SELECT coalesce(max(id),0)+1 FROM blocks", &next, err))) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    s->blk_id = next;
    if ((rc = max_event_id(s, &s->next_id, err))) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    s->next_id++;
    s->tx_id0 = s->next_id;
    pending_reset(s);
    eid_open_clear(s);
    s->in_tx = 1;
    return 0;
}

/* The id of str, whose hash_str is h (interned on first sight; 0 for NULL). */
static int intern_h(bt_store *s, const char *str, uint64_t h, int64_t *id, bt_error *err)
{
    icache_ent *e;
    int rc;

    *id = 0;
    if (!str)
        return 0;
    e = icache_find(&s->ic, str, h);
    if (e && e->s) {
        *id = e->id;
        return 0;
    }
    if ((rc = prep(s, &s->st_sel_str, "SELECT id FROM strs WHERE s=?", err)) ||
        (rc = prep(s, &s->st_ins_str, "INSERT INTO strs(s) VALUES(?)", err)))
        return rc;
    sqlite3_bind_text(s->st_sel_str, 1, str, -1, SQLITE_STATIC);
    if (sqlite3_step(s->st_sel_str) == SQLITE_ROW) {
        *id = sqlite3_column_int64(s->st_sel_str, 0);
        sqlite3_reset(s->st_sel_str);
    } else {
        sqlite3_reset(s->st_sel_str);
        sqlite3_bind_text(s->st_ins_str, 1, str, -1, SQLITE_STATIC);
        if (sqlite3_step(s->st_ins_str) != SQLITE_DONE) {
            sqlite3_reset(s->st_ins_str);
            return db_err(s, err, "insert string");
        }
        sqlite3_reset(s->st_ins_str);
        *id = sqlite3_last_insert_rowid(s->db);
    }
    if (icache_put(&s->ic, str, h, *id))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

#define INS_BLOCK "INSERT INTO blocks(id, codec, raw_len, data) VALUES(?,?,?,?)"

static int flush_block(bt_store *s, bt_error *err)
{
    size_t bound;
    void *dst;
    size_t n;
    int rc;
    bsum_row sum;
    bt_zdict *d;
    uint32_t codec;

    if (!s->blk_raw.len)
        return 0;
    if (!s->zc && !(s->zc = ZSTD_createCCtx()))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    bound = ZSTD_compressBound(s->blk_raw.len);
    dst = malloc(bound);
    if (!dst)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    d = dict_ref(s);
    codec = d ? dict_id_of(d) : 1;
    n = d ? ZSTD_compress_usingCDict(s->zc, dst, bound, s->blk_raw.data, s->blk_raw.len,
                                     dict_cdict(d))
          : ZSTD_compressCCtx(s->zc, dst, bound, s->blk_raw.data, s->blk_raw.len, ZSTD_LEVEL);
    dict_unref(d);
    if (ZSTD_isError(n)) {
        free(dst);
        return bt_error_set(err, BT_ERROR, "zstd: %s", ZSTD_getErrorName(n));
    }
    if ((rc = prep(s, &s->st_ins_block, INS_BLOCK, err))) {
        free(dst);
        return rc;
    }
    sqlite3_bind_int64(s->st_ins_block, 1, s->blk_id);
    sqlite3_bind_int64(s->st_ins_block, 2, codec);
    sqlite3_bind_int64(s->st_ins_block, 3, (sqlite3_int64)s->blk_raw.len);
    sqlite3_bind_blob(s->st_ins_block, 4, dst, (int)n, free);
    rc = sqlite3_step(s->st_ins_block) == SQLITE_DONE ? 0 : db_err(s, err, "insert block");
    sqlite3_reset(s->st_ins_block);
    if (rc)
        return rc;
    if (bt_bloom_build(s->pkeys, s->npkeys, &s->bloom) ||
        bt_bloom_build(s->prkeys, s->nprkeys, &s->rbloom) ||
        bt_nset_build(s->pnames, s->npnames, &s->nset) ||
        bt_tdir_build(s->ptimes, s->nptimes, &s->tdir))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    sum.blk = s->blk_id;
    sum.lo = s->blk_lo;
    sum.hi = s->next_id - 1;
    sum.t0 = s->blk_t0;
    sum.t1 = s->blk_t1;
    sum.bloom = s->bloom.data;
    sum.bloom_len = s->bloom.len;
    sum.rbloom = s->rbloom.data;
    sum.rbloom_len = s->rbloom.len;
    sum.nset = s->nset.data;
    sum.nset_len = s->nset.len;
    sum.n = s->blk_n;
    sum.ndir = NULL; /* ids in the order of adding: no runs of one name */
    sum.ndir_len = 0;
    sum.tdir = s->tdir.data;
    sum.tdir_len = s->tdir.len;
    if ((rc = write_bsum(s, &sum, err)))
        return rc;
    s->blk_id++;
    pending_reset(s);
    return dict_maybe_train(s, 0, err);
}

int write_bsum(bt_store *s, const bsum_row *b, bt_error *err)
{
    int rc;
    if ((rc = prep(s, &s->st_ins_bsum,
                   "INSERT INTO bsum(blk, lo, hi, bloom, rbloom, t0, t1, nset, n, ndir, lv)"
                   " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                   err)) ||
        (rc = prep(s, &s->st_ins_btime, "INSERT INTO btime(blk, tdir) VALUES(?,?)", err)))
        return rc;
    sqlite3_bind_int64(s->st_ins_bsum, 1, b->blk);
    sqlite3_bind_int64(s->st_ins_bsum, 2, b->lo);
    sqlite3_bind_int64(s->st_ins_bsum, 3, b->hi);
    sqlite3_bind_blob(s->st_ins_bsum, 4, b->bloom, (int)b->bloom_len, SQLITE_STATIC);
    sqlite3_bind_blob(s->st_ins_bsum, 5, b->rbloom, (int)b->rbloom_len, SQLITE_STATIC);
    sqlite3_bind_int64(s->st_ins_bsum, 6, b->t0);
    sqlite3_bind_int64(s->st_ins_bsum, 7, b->t1);
    sqlite3_bind_blob(s->st_ins_bsum, 8, b->nset ? (const void *)b->nset : "", (int)b->nset_len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(s->st_ins_bsum, 9, b->n);
    if (b->ndir)
        sqlite3_bind_blob(s->st_ins_bsum, 10, b->ndir, (int)b->ndir_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s->st_ins_bsum, 10);
    sqlite3_bind_int(s->st_ins_bsum, 11, bt_span_class(b->t0, b->t1));
    s->cls_ok = 0; /* the walk reads the classes again (sqlite_walk.c) */
    rc = sqlite3_step(s->st_ins_bsum) == SQLITE_DONE ? 0 : db_err(s, err, "insert block summary");
    sqlite3_reset(s->st_ins_bsum);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->st_ins_btime, 1, b->blk);
    sqlite3_bind_blob(s->st_ins_btime, 2, b->tdir ? b->tdir : (const void *)"", (int)b->tdir_len,
                      SQLITE_STATIC);
    rc = sqlite3_step(s->st_ins_btime) == SQLITE_DONE ? 0 : db_err(s, err, "insert block summary");
    sqlite3_reset(s->st_ins_btime);
    return rc;
}

/* Counts a new call of the build role session actor in its sessions row. */
static int add_session_call(bt_store *s, const bt_event *ev, int64_t actor, int64_t errc,
                            int64_t account, int64_t region, bt_error *err)
{
    sqlite3_stmt *st;
    int rc;
    /* SET reads the row as it was: an earlier call moves the first call's fields */
    if ((rc = prep(s, &s->st_ins_session,
                   "INSERT INTO sessions(actor, calls, errs, t0, t1, account, region, principal)"
                   " VALUES(?1, 1, ?2, ?3, ?3, ?4, ?5, ?6) ON CONFLICT(actor) DO UPDATE SET"
                   " calls = calls + 1, errs = errs + excluded.errs,"
                   " t0 = min(t0, excluded.t0), t1 = max(t1, excluded.t1),"
                   " account = CASE WHEN excluded.t0 < t0 THEN excluded.account ELSE account END,"
                   " region = CASE WHEN excluded.t0 < t0 THEN excluded.region ELSE region END,"
                   " principal = CASE WHEN excluded.t0 < t0 OR principal IS NULL"
                   " THEN coalesce(excluded.principal, principal) ELSE principal END",
                   err)))
        return rc;
    st = s->st_ins_session;
    sqlite3_bind_int64(st, 1, actor);
    sqlite3_bind_int(st, 2, errc != 0);
    sqlite3_bind_int64(st, 3, ev->time_ms);
    bind_id(st, 4, account);
    bind_id(st, 5, region);
    if (ev->principal_arn)
        sqlite3_bind_text(st, 6, ev->principal_arn, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "count a session's call");
    sqlite3_reset(st);
    return rc;
}

/* Records in `srcnames` that source src has been seen with name (0: none), once per
 * pair and connection (the pairs written are remembered until a rollback). */
static int note_src_name(bt_store *s, int64_t src, int64_t name, bt_error *err)
{
    uint64_t h = ((uint64_t)src * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)name;
    size_t i, cap = s->cap_pairs;
    int rc;

    h ^= h >> 29;
    for (i = cap ? (size_t)h & (cap - 1) : 0; cap && s->pairs[i].src; i = (i + 1) & (cap - 1))
        if (s->pairs[i].src == src && s->pairs[i].name == name)
            return 0;
    if ((rc = prep(s, &s->st_ins_srcname, "INSERT OR IGNORE INTO srcnames(src, name) VALUES(?,?)",
                   err)))
        return rc;
    sqlite3_bind_int64(s->st_ins_srcname, 1, src);
    sqlite3_bind_int64(s->st_ins_srcname, 2, name);
    rc = sqlite3_step(s->st_ins_srcname) == SQLITE_DONE ? 0 : db_err(s, err, "insert source name");
    sqlite3_reset(s->st_ins_srcname);
    if (rc)
        return rc;
    if ((s->n_pairs + 1) * 2 > cap) {
        size_t nc = cap ? cap * 2 : 256, j;
        src_name *v = calloc(nc, sizeof *v);
        if (!v)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        for (j = 0; j < cap; j++)
            if (s->pairs[j].src) {
                uint64_t g = ((uint64_t)s->pairs[j].src * 0x9e3779b97f4a7c15ULL) ^
                             (uint64_t)s->pairs[j].name;
                g ^= g >> 29;
                for (i = (size_t)g & (nc - 1); v[i].src; i = (i + 1) & (nc - 1))
                    ;
                v[i] = s->pairs[j];
            }
        free(s->pairs);
        s->pairs = v;
        s->cap_pairs = cap = nc;
    }
    for (i = (size_t)h & (cap - 1); s->pairs[i].src; i = (i + 1) & (cap - 1))
        ;
    s->pairs[i].src = src;
    s->pairs[i].name = name;
    s->n_pairs++;
    return 0;
}

/* An event's interned strings (0 for none). */
typedef struct ev_ids {
    int64_t name, src, region, account, errc, project, build, actor;
} ev_ids;

/* The ids of a batch's values by their pointers (pack_pre.cs: equal pointers, equal
 * bytes), direct-mapped: a batch's 2,048 events hold a few hundred distinct values, and
 * the intern cache compared each value's bytes again (strlen and strcmp were a sixth of
 * the writer's CPU). Valid for one batch: its values' memory is the batch's. */
#define PCACHE_SLOTS 512
typedef struct pcache {
    const char *p[PCACHE_SLOTS];
    int64_t id[PCACHE_SLOTS];
} pcache;

/* Interns the event's filter fields into x from pre (pack.h): its values and their
 * hashes, through pc (NULL: none). */
static int intern_event(bt_store *s, const pack_pre *pre, pcache *pc, ev_ids *x, bt_error *err)
{
    int64_t *out[PRE_STRS] = {&x->name, &x->src,     &x->region, &x->account,
                              &x->errc, &x->project, &x->build,  &x->actor};
    int k, rc;
    for (k = 0; k < PRE_STRS; k++) {
        const char *v = pre->cs[k];
        size_t slot = (size_t)(((uintptr_t)v * 0x9e3779b97f4a7c15ULL) >> 32) & (PCACHE_SLOTS - 1);
        if (!v) {
            *out[k] = 0;
            continue;
        }
        if (pc && pc->p[slot] == v) {
            *out[k] = pc->id[slot];
            continue;
        }
        if ((rc = intern_h(s, v, pre->ih[k], out[k], err)))
            return rc;
        if (pc) {
            pc->p[slot] = v;
            pc->id[slot] = *out[k];
        }
    }
    return 0;
}

/* What the row of a new event adds to `srcnames`, `sessions` and (facts, when not NULL)
 * `builds`. */
static int note_new(bt_store *s, const bt_event *ev, const ev_ids *x, const bt_build_facts *facts,
                    bt_error *err)
{
    int rc;

    if (x->src && (rc = note_src_name(s, x->src, x->name, err)))
        return rc;
    if (x->actor && (rc = add_session_call(s, ev, x->actor, x->errc, x->account, x->region, err)))
        return rc;
    if (facts && (rc = merge_build(s, facts, err)))
        return rc;
    return 0;
}

/* Claims the id of an event added alone for the row id (`eids`, else `eidx`): *is_new =
 * 0 for a duplicate event id (nothing is written). For a new event, also what its row
 * adds (note_new). pre (pack.h) holds the id's key and the id packed. A batch claims its
 * events' ids first (bt_store_add_packed). */
static int claim_event(bt_store *s, const bt_event *ev, const pack_pre *pre, const ev_ids *x,
                       const bt_build_facts *facts, int64_t id, int *is_new, bt_error *err)
{
    static const uint32_t zero = 0;
    unsigned char fresh = 0;
    int rc;

    *is_new = 0;
    if ((rc = eid_claim(s, ev, pre, &zero, 1, &zero, id, NULL, &fresh, err)) || !fresh)
        return rc;
    *is_new = 1;
    return note_new(s, ev, x, facts, err);
}

/* Inserts the row of a new event with rowid id pointing at (blk, off); pre (pack.h)
 * holds its resources' fingerprint. */
static int insert_row(bt_store *s, const bt_event *ev, const pack_pre *pre, const ev_ids *x,
                      int64_t id, int64_t blk, int64_t off, bt_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(s, &s->st_ins_event,
                   "INSERT INTO evrows(id,t,kind,name,src,region,account,err,ro,project,"
                   "build,actor,blk,off,len,rh) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   err)))
        return rc;
    st = s->st_ins_event;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ev->time_ms);
    sqlite3_bind_int(st, 3, (int)ev->kind);
    bind_id(st, 4, x->name);
    bind_id(st, 5, x->src);
    bind_id(st, 6, x->region);
    bind_id(st, 7, x->account);
    bind_id(st, 8, x->errc);
    if (ev->read_only >= 0)
        sqlite3_bind_int(st, 9, ev->read_only);
    else
        sqlite3_bind_null(st, 9);
    bind_id(st, 10, x->project);
    bind_id(st, 11, x->build);
    bind_id(st, 12, x->actor);
    sqlite3_bind_int64(st, 13, blk);
    sqlite3_bind_int64(st, 14, off);
    sqlite3_bind_int64(st, 15, (sqlite3_int64)ev->raw_len);
    if (ev->n_resources)
        sqlite3_bind_int64(st, 16, (sqlite3_int64)pre->rmask);
    else
        sqlite3_bind_null(st, 16);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "insert event");
    sqlite3_reset(st);
    return rc;
}

/* Stores one event with rowid id pointing at (blk, off), rmask its resources'
 * fingerprint; *is_new = 0 for a duplicate event id (nothing is written, and id stays
 * unused). */
static int insert_event(bt_store *s, const bt_event *ev, const bt_build_facts *facts, int64_t id,
                        int64_t blk, int64_t off, uint64_t rmask, int *is_new, bt_error *err)
{
    ev_ids x;
    pack_pre pre;
    int rc;
    *is_new = 0;
    pack_pre_of(&pre, ev, NULL);
    pre.rmask = rmask;
    if ((rc = intern_event(s, &pre, NULL, &x, err)) ||
        (rc = claim_event(s, ev, &pre, &x, facts, id, is_new, err)) || !*is_new)
        return rc;
    return insert_row(s, ev, &pre, &x, id, blk, off, err);
}

int bt_store_add(bt_store *s, const bt_event *ev, int *is_new, bt_error *err)
{
    bt_build_facts f;
    uint32_t nh = ev->event_name ? (uint32_t)h31(ev->event_name) : 0;
    size_t nrkeys = s->nprkeys;
    uint64_t rmask;
    int rc;

    *is_new = 0;
    if (!s->in_tx)
        return bt_error_set(err, BT_EINVAL, "store: add outside a transaction");
    bt_arena_reset(s->arena);
    if ((rc = bt_build_facts_of(s->arena, ev, &f)))
        return bt_error_set(err, rc, "out of memory");
    /* the resources' keys for the block's summary, and the row's fingerprint of them,
     * hashed once; a duplicate takes its keys back */
    if ((rc = bt_bloom_rkeys_add(&s->prkeys, &s->nprkeys, &s->capprkeys, ev, NULL, &rmask)))
        return bt_error_set(err, rc, "out of memory");
    if ((rc = insert_event(s, ev, f.kind != BT_BF_NONE ? &f : NULL, s->next_id, s->blk_id,
                           (int64_t)s->blk_raw.len, rmask, is_new, err)) ||
        !*is_new) {
        s->nprkeys = nrkeys;
        return rc;
    }
    if (!s->blk_raw.len)
        s->blk_lo = s->next_id;
    {
        void *v = s->ptimes;
        if (bt_array_grow(&v, &s->capptimes, s->nptimes + 1, sizeof *s->ptimes, 256))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        s->ptimes = v;
        s->ptimes[s->nptimes].t = ev->time_ms;
        s->ptimes[s->nptimes++].place = (uint32_t)(s->next_id - s->blk_lo);
    }
    s->next_id++;
    s->blk_n++;
    if ((rc = bt_buf_append(&s->blk_raw, ev->raw, ev->raw_len)) ||
        (rc = bt_bloom_keys_add(&s->pkeys, &s->npkeys, &s->cappkeys, ev, NULL)) ||
        (rc = pack_block_note(&s->blk_t0, &s->blk_t1, &s->pnames, &s->npnames, &s->cappnames,
                              ev->time_ms, ev->event_name ? &nh : NULL)))
        return bt_error_set(err, rc, "out of memory");
    if (s->blk_raw.len >= BLOCK_RAW_TARGET)
        return flush_block(s, err);
    return 0;
}

/* The directory of block i of pack (sqlite_rows.c) into s->dir: its fresh events' rows
 * but those in evrows (empty when that is all of them). */
static int make_dir(bt_store *s, const bt_event *ev, const bt_store_pack *pack,
                    const unsigned char *fresh, const ev_ids *ids, size_t i, bt_error *err)
{
    size_t np = (size_t)(pack->blocks[i].jhi - pack->blocks[i].jlo + 1), r, any = 0;

    bt_buf_clear(&s->dir);
    if (np > s->capdrows) {
        drow *v = realloc(s->drows, np * sizeof *v);
        if (!v)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        s->drows = v;
        s->capdrows = np;
    }
    for (r = 0; r < np; r++) {
        size_t e = pack->rank_ev[(size_t)pack->blocks[i].jlo + r];
        const ev_ids *x = &ids[e];
        drow *d = &s->drows[r];
        memset(d, 0, sizeof *d);
        if (!fresh[e] || ROW_IN_EVROWS(x->errc, x->project, x->build, x->actor))
            continue;
        d->present = 1;
        d->kind = (int)ev[e].kind;
        d->name = x->name;
        d->src = x->src;
        d->region = x->region;
        d->account = x->account;
        d->ro = ev[e].read_only >= 0 ? ev[e].read_only : -1;
        d->off = (int64_t)pack->ev_off[e];
        d->len = (int64_t)ev[e].raw_len;
        d->has_rh = ev[e].n_resources != 0;
        d->rh = d->has_rh ? pack->pre[e].rmask : 0;
        any = 1;
    }
    if (!any)
        return 0;
    if (!s->zc && !(s->zc = ZSTD_createCCtx()))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (dir_encode(s->drows, np, s->zc, &s->dir, &s->dirtmp))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

int bt_store_add_packed(bt_store *s, const bt_event *ev, size_t n, const bt_store_pack *pack,
                        uint64_t *added, uint64_t *dups, bt_error *err)
{
    uint32_t *used = NULL;     /* per block: its new events */
    bt_tdir_ent *times = NULL; /* a block's new events' times and places */
    size_t ntimes, captimes = 0;
    uint32_t *runs = NULL;       /* per run: its new events */
    unsigned char *fresh = NULL; /* per event: 1 when new */
    ev_ids *ids = NULL;          /* per event: its interned strings */
    pcache *pc = NULL;           /* the batch's values' ids by their pointers */
    bt_buf dir = BT_BUF_INIT;
    int64_t base, id0;
    size_t i, r, k = 0;
    int rc = 0, is_new;
    bsum_row sum;
    claim_batch cb;

    if (!s->in_tx)
        return bt_error_set(err, BT_EINVAL, "store: add outside a transaction");
    if (pack->n != n)
        return bt_error_set(err, BT_EINVAL, "store: pack does not match the batch");
    /* another store's dictionary, or one a rollback took after the packing */
    if (pack->dict_id && (pack->dict_of != s || !dict_known(s, pack->dict_id)))
        return bt_error_set(err, BT_EINVAL, "store: pack made with a dictionary the store lost");
    if ((rc = flush_block(s, err)))
        return rc;
    base = s->blk_id;
    id0 = s->next_id;
    cb.ev = ev;
    cb.rank_ev = pack->rank_ev;
    cb.id0 = id0;
    cb.n = n;
    if (!(used = calloc(pack->nblocks + 1, sizeof *used)) ||
        !(runs = calloc(pack->nruns + 1, sizeof *runs)) || !(fresh = malloc(n + 1)) ||
        !(ids = malloc(n * sizeof *ids + 1)) || !(pc = calloc(1, sizeof *pc))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    /* event i gets the id id0 + its place in the batch's id order (pack_ranks): a block's
     * events lie within one id range, each name's in a run of it. Event ids are claimed
     * in their keys' order (the pack's claim_ev: each chunk of `eids` read and written
     * once; of two copies of an event, the first in the batch is kept), then what the new
     * events add is noted in the batch's order (facts merge in that order), then the
     * rows inserted in id order: at the table's end, so its pages fill (rows inserted
     * out of order split pages half full: 11% more table) */
    if ((rc = eid_claim(s, ev, pack->pre, pack->claim_ev, n, pack->ev_rank, id0, &cb, fresh, err)))
        goto done;
    for (i = 0; i < n; i++) {
        const bt_build_facts *f = NULL;
        if (k < pack->nfacts && pack->fact_ev[k] == i) {
            f = &pack->facts[k++];
            bt_arena_reset(s->arena);
        }
        is_new = fresh[i];
        if ((rc = intern_event(s, &pack->pre[i], pc, &ids[i], err)) ||
            (is_new && (rc = note_new(s, &ev[i], &ids[i], f, err))))
            goto done;
        if (is_new) {
            used[pack->ev_block[i]]++;
            runs[pack->ev_run[i]]++;
            (*added)++;
        } else {
            (*dups)++;
        }
    }
    /* the rows an index finds; the others go to their block's directory (below) */
    for (r = 0; r < n; r++) {
        i = pack->rank_ev[r];
        if (fresh[i] && ROW_IN_EVROWS(ids[i].errc, ids[i].project, ids[i].build, ids[i].actor) &&
            (rc = insert_row(s, &ev[i], &pack->pre[i], &ids[i], id0 + (int64_t)r,
                             base + pack->ev_block[i], pack->ev_off[i], err)))
            goto done;
    }
    if ((rc = prep(s, &s->st_ins_block, INS_BLOCK, err)) ||
        (rc = prep(s, &s->st_ins_dir, "INSERT INTO bdir(lo, hi, blk) VALUES(?,?,?)", err)))
        goto done;
    for (i = 0; i < pack->nblocks; i++) {
        const void *data = pack->blocks[i].data;
        size_t len = pack->blocks[i].len;
        if (!used[i])
            continue; /* only duplicates: nothing points here */
        /* the rows' directory, as a zstd skippable frame ahead of the records' frames
         * (decompressing the block skips it): read with the block's first pages, and
         * no page of its own, half empty */
        if ((rc = make_dir(s, ev, pack, fresh, ids, i, err)))
            goto done;
        if (s->dir.len) {
            unsigned char head[DIR_HEAD];
            dir_frame_head(head, s->dir.len);
            bt_buf_clear(&s->dirtmp);
            if (bt_buf_append(&s->dirtmp, head, sizeof head) ||
                bt_buf_append(&s->dirtmp, s->dir.data, s->dir.len) ||
                bt_buf_append(&s->dirtmp, data, len)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                goto done;
            }
            data = s->dirtmp.data;
            len = s->dirtmp.len;
            sqlite3_bind_int64(s->st_ins_dir, 1, id0 + pack->blocks[i].jlo);
            sqlite3_bind_int64(s->st_ins_dir, 2, id0 + pack->blocks[i].jhi);
            sqlite3_bind_int64(s->st_ins_dir, 3, base + (int64_t)i);
            rc =
                sqlite3_step(s->st_ins_dir) == SQLITE_DONE ? 0 : db_err(s, err, "insert directory");
            sqlite3_reset(s->st_ins_dir);
            if (rc)
                goto done;
        }
        sqlite3_bind_int64(s->st_ins_block, 1, base + (int64_t)i);
        sqlite3_bind_int64(s->st_ins_block, 2, pack->dict_id ? pack->dict_id : 1);
        sqlite3_bind_int64(s->st_ins_block, 3, (sqlite3_int64)pack->blocks[i].raw_len);
        sqlite3_bind_blob(s->st_ins_block, 4, data, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(s->st_ins_block) == SQLITE_DONE ? 0 : db_err(s, err, "insert block");
        sqlite3_reset(s->st_ins_block);
        if (rc)
            goto done;
        sum.blk = base + (int64_t)i;
        sum.lo = id0 + pack->blocks[i].jlo;
        sum.hi = id0 + pack->blocks[i].jhi;
        sum.t0 = pack->blocks[i].t0;
        sum.t1 = pack->blocks[i].t1;
        sum.bloom = pack->blocks[i].bloom;
        sum.bloom_len = pack->blocks[i].bloom_len;
        sum.rbloom = pack->blocks[i].rbloom;
        sum.rbloom_len = pack->blocks[i].rbloom_len;
        sum.nset = pack->blocks[i].nset;
        sum.nset_len = pack->blocks[i].nset_len;
        sum.n = used[i];
        if ((rc = pack_block_dir(pack, i, runs, &dir))) {
            rc = bt_error_set(err, rc, "out of memory");
            goto done;
        }
        sum.ndir = dir.data;
        sum.ndir_len = dir.len;
        ntimes = 0;
        for (r = pack->blocks[i].jlo; r <= pack->blocks[i].jhi; r++) {
            size_t e = pack->rank_ev[r];
            if (!fresh[e])
                continue;
            if (ntimes == captimes) {
                void *v = times;
                if (bt_array_grow(&v, &captimes, ntimes + 1, sizeof *times, 512)) {
                    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                    goto done;
                }
                times = v;
            }
            times[ntimes].t = ev[e].time_ms;
            times[ntimes++].place = (uint32_t)(r - pack->blocks[i].jlo);
        }
        if (bt_tdir_build(times, ntimes, &s->tdir)) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
        sum.tdir = s->tdir.data;
        sum.tdir_len = s->tdir.len;
        if ((rc = write_bsum(s, &sum, err)))
            goto done;
    }
    s->blk_id = base + (int64_t)pack->nblocks;
    s->next_id = id0 + (int64_t)n; /* the duplicates' ids stay unused */
    rc = dict_maybe_train(s, 0, err);
done:
    free(used);
    free(times);
    free(runs);
    free(fresh);
    free(ids);
    free(pc);
    bt_buf_dispose(&dir);
    return rc;
}

int bt_store_source_done(bt_store *s, const char *key, uint64_t size, int64_t mtime_ns,
                         const char *etag, uint64_t records, bt_error *err)
{
    int rc;
    if ((rc = prep(s, &s->st_src_done,
                   "INSERT OR REPLACE INTO sources(key,size,mtime_ns,etag,records,ingested_ms)"
                   " VALUES(?,?,?,?,?,?)",
                   err)))
        return rc;
    sqlite3_bind_text(s->st_src_done, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->st_src_done, 2, (sqlite3_int64)size);
    sqlite3_bind_int64(s->st_src_done, 3, mtime_ns);
    if (etag)
        sqlite3_bind_text(s->st_src_done, 4, etag, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s->st_src_done, 4);
    sqlite3_bind_int64(s->st_src_done, 5, (sqlite3_int64)records);
    sqlite3_bind_int64(s->st_src_done, 6, bt_time_now_ms());
    rc = sqlite3_step(s->st_src_done) == SQLITE_DONE ? 0 : db_err(s, err, "record source");
    sqlite3_reset(s->st_src_done);
    return rc;
}

/*
 * Gives the query planner its statistics (sqlite_stat1) when the events have doubled
 * since they were last taken: without them SQLite walks the time index for a rare
 * filter such as --errors and looks up every row, where the filter's own index and a
 * sort of its few rows are 6x faster on 5M events. A full ANALYZE (sampled ones give
 * every index the same average, which misleads as much as none) takes 2.5 s on 5M
 * events, log2(N) times over a store's life: about 1% of ingest. A failure only
 * leaves the old statistics.
 */
static void maybe_analyze(bt_store *s)
{
    char sql[160];
    if (s->next_id < 20000)
        return;
    if (!s->analyzed_at &&
        get_int(s, "SELECT coalesce((SELECT value FROM meta WHERE key='analyzed_at'),1)",
                &s->analyzed_at, NULL))
        return;
    if (s->next_id < 2 * s->analyzed_at)
        return;
    snprintf(sql, sizeof sql,
             "PRAGMA analysis_limit=0; ANALYZE;"
             " INSERT OR REPLACE INTO meta(key, value) VALUES('analyzed_at', %lld)",
             (long long)s->next_id);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        s->analyzed_at = s->next_id;
}

int bt_store_commit(bt_store *s, bt_error *err)
{
    int rc;
    if (!s->in_tx)
        return 0;
    /* a dictionary being trained lands with this transaction */
    if ((rc = flush_block(s, err)) || (rc = dict_maybe_train(s, 1, err)))
        return rc;
    if ((rc = exec(s, "COMMIT", err)))
        return rc;
    s->in_tx = 0;
    s->wrote = 1;
    dict_committed(s);
    maybe_analyze(s);
    return 0;
}

void bt_store_rollback(bt_store *s)
{
    if (!s->in_tx)
        return;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    pending_reset(s);
    dict_rolled_back(s);
    icache_clear(&s->ic); /* ids of strings inserted in the transaction are gone */
    eid_seen_clear(s);    /* and the numbers of its events */
    free(s->pairs);       /* and the source and name pairs it wrote */
    s->pairs = NULL;
    s->n_pairs = s->cap_pairs = 0;
}

int bt_store_source_unchanged(bt_store *s, const char *key, uint64_t size, int64_t mtime_ns,
                              const char *etag, int *unchanged, bt_error *err)
{
    int rc;
    *unchanged = 0;
    if ((rc = prep(s, &s->st_src_get, "SELECT size, mtime_ns, etag FROM sources WHERE key=?", err)))
        return rc;
    sqlite3_bind_text(s->st_src_get, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s->st_src_get) == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(s->st_src_get, 2);
        if (etag)
            *unchanged = e && strcmp(e, etag) == 0 &&
                         (uint64_t)sqlite3_column_int64(s->st_src_get, 0) == size;
        else
            *unchanged = (uint64_t)sqlite3_column_int64(s->st_src_get, 0) == size &&
                         sqlite3_column_int64(s->st_src_get, 1) == mtime_ns;
    }
    sqlite3_reset(s->st_src_get);
    return 0;
}

int bt_store_cursor_get(bt_store *s, const char *name, char **value, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    *value = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM cursors WHERE name=?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_err(s, err, "read cursor");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *value = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*value)
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

int bt_store_cursor_set(bt_store *s, const char *name, const char *value, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO cursors(name, value, updated_ms) VALUES(?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "write cursor");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, bt_time_now_ms());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "write cursor");
    sqlite3_finalize(st);
    return rc;
}
