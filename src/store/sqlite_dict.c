/*
 * sqlite_dict.c - the SQLite backend's compression dictionaries (schema 12): trained by
 * the writer from the store's own newest blocks (`dicts`), handed to the packers in the
 * parser threads (dict_ref / dict_unref: the writer may replace the newest while they
 * compress), and loaded for reading by the id a block's codec names (dict_for_codec).
 * A block of the same 512 KiB compresses to about a tenth less with one: zstd starts
 * each block with the text its records share (keys, agents, ARNs) instead of learning it
 * again. Shares the store's internals through sqlite_int.h; docs/store.md describes it.
 */
#define ZDICT_STATIC_LINKING_ONLY /* ZDICT_trainFromBuffer_fastCover (libzstd exports it) */
#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_createDDict_byReference (likewise) */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zdict.h>

#include "store/pack.h"
#include "store/sqlite_int.h"

struct bt_zdict {
    uint32_t id;
    ZSTD_CDict *cd;
    atomic_int refs; /* the store's reference and each packer's */
};

void dict_unref(bt_zdict *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1) {
        ZSTD_freeCDict(d->cd);
        free(d);
    }
}

bt_zdict *dict_ref(bt_store *s)
{
    bt_zdict *d;
    if (!s || !s->dict_mu_ok)
        return NULL;
    pthread_mutex_lock(&s->dict_mu);
    d = s->cdict;
    if (d)
        atomic_fetch_add(&d->refs, 1);
    pthread_mutex_unlock(&s->dict_mu);
    return d;
}

uint32_t dict_id_of(const bt_zdict *d)
{
    return d ? d->id : 0;
}

const ZSTD_CDict *dict_cdict(const bt_zdict *d)
{
    return d ? d->cd : NULL;
}

/* A dictionary for packers from its bytes p[0..n), its one reference the caller's; NULL
 * when zstd cannot make its tables (or memory runs out). */
static bt_zdict *zdict_new(uint32_t id, const void *p, size_t n)
{
    bt_zdict *d = calloc(1, sizeof *d);
    if (!d || !(d->cd = ZSTD_createCDict(p, n, ZSTD_LEVEL))) {
        free(d);
        return NULL;
    }
    d->id = id;
    atomic_init(&d->refs, 1);
    return d;
}

/* Makes d (NULL: none) the dictionary new blocks are compressed with. */
static void dict_set(bt_store *s, bt_zdict *d)
{
    bt_zdict *old;
    pthread_mutex_lock(&s->dict_mu);
    old = s->cdict;
    s->cdict = d;
    pthread_mutex_unlock(&s->dict_mu);
    dict_unref(old);
}

/* The decompression dictionary of id, made from its n bytes at p (taken: freed here on
 * failure), kept in s. The tables refer to p rather than copy it: a dictionary is 256
 * KiB, and a copy is 64 more pages to fault in for a command that reads one event. */
static int ddict_add(bt_store *s, uint32_t id, void *p, size_t n, const ZSTD_DDict **out,
                     bt_error *err)
{
    void *v = s->ddicts;
    ZSTD_DDict *dd;
    if (bt_array_grow(&v, &s->capddicts, s->nddicts + 1, sizeof *s->ddicts, 4)) {
        free(p);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    s->ddicts = v;
    if (!(dd = ZSTD_createDDict_byReference(p, n))) {
        free(p);
        return corrupt_err(s->path, err, "a compression dictionary cannot be read");
    }
    if (ZSTD_getDictID_fromDDict(dd) != id) {
        ZSTD_freeDDict(dd);
        free(p);
        return corrupt_err(s->path, err, "a compression dictionary has another id");
    }
    s->ddicts[s->nddicts].id = id;
    s->ddicts[s->nddicts].bytes = p;
    s->ddicts[s->nddicts++].dd = dd;
    *out = dd;
    return 0;
}

/* frees the i-th decompression dictionary (the last takes its place) */
static void ddict_drop(bt_store *s, size_t i)
{
    ZSTD_freeDDict(s->ddicts[i].dd);
    free(s->ddicts[i].bytes);
    s->ddicts[i] = s->ddicts[--s->nddicts];
}

int dict_for_codec(bt_store *s, int codec, const ZSTD_DDict **out, bt_error *err)
{
    sqlite3_blob *b = NULL;
    void *p = NULL;
    size_t i;
    int n;

    *out = NULL;
    if (codec < BT_CODEC_DICT)
        return 0;
    for (i = 0; i < s->nddicts; i++)
        if (s->ddicts[i].id == (uint32_t)codec) {
            *out = s->ddicts[i].dd;
            return 0;
        }
    /* read by a blob handle: straight into p, not through the page cache */
    if (sqlite3_blob_open(s->db, "main", "dicts", "data", codec, 0, &b) != SQLITE_OK) {
        int missing = sqlite3_errcode(s->db) == SQLITE_ERROR;
        sqlite3_blob_close(b);
        return missing ? corrupt_err(s->path, err, "a block's dictionary is missing")
                       : db_err(s, err, "read dictionary");
    }
    n = sqlite3_blob_bytes(b);
    if (!(p = malloc(n > 0 ? (size_t)n : 1))) {
        sqlite3_blob_close(b);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    if (sqlite3_blob_read(b, p, n, 0) != SQLITE_OK) {
        free(p);
        sqlite3_blob_close(b);
        return db_err(s, err, "read dictionary");
    }
    sqlite3_blob_close(b);
    return ddict_add(s, (uint32_t)codec, p, (size_t)n, out, err);
}

size_t dict_use(ZSTD_DCtx *zd, const ZSTD_DDict *dd)
{
    /* a streaming read may have stopped in the middle of a frame (inflate_prefix) */
    size_t r = ZSTD_DCtx_reset(zd, ZSTD_reset_session_only);
    return ZSTD_isError(r) ? r : ZSTD_DCtx_refDDict(zd, dd); /* NULL: no dictionary */
}

size_t dict_decompress(ZSTD_DCtx *zd, const ZSTD_DDict *dd, void *dst, size_t cap, const void *src,
                       size_t n)
{
    size_t r = dict_use(zd, dd);
    return ZSTD_isError(r) ? r : ZSTD_decompressDCtx(zd, dst, cap, src, n);
}

/* The block id at which the writer trains its next dictionary, the newest trained at
 * block blk (0: none yet). */
static int64_t next_at(int64_t blk)
{
    return blk ? blk * DICT_GROWTH : DICT_FIRST_BLOCKS;
}

/* The newest dictionary of the store (or none) becomes the one new blocks use. */
static int dict_load_newest(bt_store *s, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    bt_zdict *d = NULL;

    s->dict_next_blk = next_at(0);
    if (sqlite3_prepare_v2(s->db, "SELECT id, blk, data FROM dicts ORDER BY id DESC LIMIT 1", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(s, err, "read dictionary");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        s->dict_next_blk = next_at(sqlite3_column_int64(st, 1));
        if (id < BT_CODEC_DICT || id > INT32_MAX) {
            rc = corrupt_err(s->path, err, "a compression dictionary has an invalid id");
        } else if (!(d = zdict_new((uint32_t)id, sqlite3_column_blob(st, 2),
                                   (size_t)sqlite3_column_bytes(st, 2)))) {
            rc = corrupt_err(s->path, err, "a compression dictionary cannot be read");
        } else {
            rc = 0;
        }
    } else {
        rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "read dictionary");
    }
    sqlite3_finalize(st);
    if (!rc)
        dict_set(s, d);
    return rc;
}

int dict_setup(bt_store *s, bt_error *err)
{
    if (pthread_mutex_init(&s->dict_mu, NULL) != 0)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    s->dict_mu_ok = 1;
    return dict_load_newest(s, err);
}

void dict_close(bt_store *s)
{
    dict_job_drop(s);
    while (s->nddicts)
        ddict_drop(s, s->nddicts - 1);
    free(s->ddicts);
    s->ddicts = NULL;
    s->nddicts = s->capddicts = 0;
    if (s->dict_mu_ok) {
        dict_set(s, NULL);
        pthread_mutex_destroy(&s->dict_mu);
        s->dict_mu_ok = 0;
    }
}

void dict_committed(bt_store *s)
{
    s->dict_tx = 0;
}

void dict_rolled_back(bt_store *s)
{
    size_t i;
    if (!s->dict_tx)
        return;
    /* the dictionary trained in the transaction is gone with it */
    for (i = 0; i < s->nddicts; i++)
        if (s->ddicts[i].id == s->dict_tx) {
            ddict_drop(s, i);
            break;
        }
    s->dict_tx = 0;
    if (dict_load_newest(s, NULL))
        dict_set(s, NULL);
}

int dict_known(bt_store *s, uint32_t id)
{
    const ZSTD_DDict *dd;
    bt_error e = BT_ERROR_INIT;
    int known;
    if (!id)
        return 1;
    /* the newest, or an older one (the packer took it before the writer trained the
     * next): one the store holds, in `dicts` or trained in this transaction */
    known = id <= INT32_MAX && dict_for_codec(s, (int)id, &dd, &e) == 0 && dd;
    bt_error_clear(&e);
    return known;
}

/* A dictionary being trained on a thread of its own from samples the writer copied,
 * so that the writer (and the parser threads, whose batches would fill the queue
 * meanwhile: 13 MB more at the peak of a 1M-event ingest, trained in place) goes on. */
struct dict_job {
    pthread_t th;
    char *samples; /* DICT_SAMPLE_BYTES mapped (see take_samples), nsamples used */
    size_t nsamples;
    size_t *sizes, nsizes;
    uint32_t id;
    int64_t blk;
    bt_buf out;      /* the dictionary (len 0: the samples made none) */
    int threaded;    /* th runs train (else it ran in the writer) */
    atomic_int done; /* train has returned */
};

/* Copies the records of the newest blocks (up to DICT_SAMPLE_BYTES, in pieces of
 * DICT_PIECE bytes) into j's samples. */
static int take_samples(bt_store *s, struct dict_job *j, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = 0, step = SQLITE_DONE, slots;
    void *m;

    /* mapped, not malloc'ed: glibc raises its threshold for mapping an allocation to the
     * size of a mapped one freed, after which the ingest's buffers of a few MB came from
     * the heap, which keeps what is freed (a 1M-event ingest peaked 10-15 MB higher) */
    m = mmap(NULL, DICT_SAMPLE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    j->samples = m;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM blocks ORDER BY id DESC LIMIT ?", -1, &st,
                           NULL) != SQLITE_OK)
        return db_err(s, err, "read blocks");
    sqlite3_bind_int(st, 1, DICT_FIRST_BLOCKS);
    /* the blocks pass through one slot of the cache: the samples hold their bytes */
    slots = s->cache_n;
    s->cache_n = 1;
    while (!rc && j->nsamples < DICT_SAMPLE_BYTES && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const bt_buf *b;
        size_t off;
        if ((rc = load_block(s, sqlite3_column_int64(st, 0), SIZE_MAX, &b, err)))
            break;
        for (off = 0; off < b->len && j->nsamples < DICT_SAMPLE_BYTES; off += DICT_PIECE) {
            size_t n = b->len - off < DICT_PIECE ? b->len - off : DICT_PIECE;
            void *v = j->sizes;
            if (n > DICT_SAMPLE_BYTES - j->nsamples)
                n = DICT_SAMPLE_BYTES - j->nsamples;
            if (bt_array_grow(&v, &cap, j->nsizes + 1, sizeof *j->sizes, 512)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                break;
            }
            memcpy(j->samples + j->nsamples, b->data + off, n);
            j->nsamples += n;
            j->sizes = v;
            j->sizes[j->nsizes++] = n;
        }
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_err(s, err, "read blocks");
    s->cache_n = slots;
    sqlite3_finalize(st);
    load_blocks_done(s);
    return rc;
}

/* The job's thread: the dictionary from its samples, into j->out. */
static void *train(void *arg)
{
    struct dict_job *j = arg;
    ZDICT_fastCover_params_t p;
    size_t r;

    bt_buf_clear(&j->out);
    if (j->nsizes < DICT_MIN_PIECES || bt_buf_reserve(&j->out, DICT_SIZE))
        return NULL;
    memset(&p, 0, sizeof p);
    p.k = 1024; /* measured on the bench archive: as good as zstd's search of k and d */
    p.d = 8;
    p.f = 16; /* 2^f counts beside the samples */
    p.accel = 1;
    p.zParams.compressionLevel = ZSTD_LEVEL;
    p.zParams.dictID = j->id;
    r = ZDICT_trainFromBuffer_fastCover(j->out.data, DICT_SIZE, j->samples, j->sizes,
                                        (unsigned)j->nsizes, p);
    j->out.len = ZDICT_isError(r) ? 0 : r; /* too few or too alike samples: none this time */
    return NULL;
}

static void *train_main(void *arg)
{
    struct dict_job *j = arg;
    train(j);
    atomic_store(&j->done, 1);
    return NULL;
}

static void job_free(struct dict_job *j)
{
    if (!j)
        return;
    if (j->samples)
        munmap(j->samples, DICT_SAMPLE_BYTES);
    bt_buf_dispose(&j->out);
    free(j->sizes);
    free(j);
}

/* s's job, its thread done, taken from s (NULL: none). */
static struct dict_job *job_take(bt_store *s)
{
    struct dict_job *j = s->dict_job;
    s->dict_job = NULL;
    if (j && j->threaded)
        pthread_join(j->th, NULL);
    return j;
}

/* Waits for s's job, stores its dictionary in the open transaction and hands it to the
 * packers (the job's id taken meanwhile by another process's: dropped). */
static int job_finish(bt_store *s, bt_error *err)
{
    struct dict_job *j = job_take(s);
    bt_zdict *d = NULL;
    const ZSTD_DDict *dd;
    void *bytes;
    size_t n;
    int rc = 0;

    if (!j->out.len)
        goto done;
    if ((rc = prep(s, &s->st_ins_dict, "INSERT OR IGNORE INTO dicts(id, blk, data) VALUES(?,?,?)",
                   err)))
        goto done;
    sqlite3_bind_int64(s->st_ins_dict, 1, j->id);
    sqlite3_bind_int64(s->st_ins_dict, 2, j->blk);
    sqlite3_bind_blob(s->st_ins_dict, 3, j->out.data, (int)j->out.len, SQLITE_STATIC);
    rc = sqlite3_step(s->st_ins_dict) == SQLITE_DONE ? 0 : db_err(s, err, "insert dictionary");
    sqlite3_reset(s->st_ins_dict);
    if (rc || sqlite3_changes(s->db) == 0) {
        if (!rc)
            rc = dict_load_newest(s, err);
        goto done;
    }
    if (!(d = zdict_new(j->id, j->out.data, j->out.len))) {
        /* the row stays unused: blocks name a dictionary only once it is handed out */
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    /* the bytes go to the decompression dictionary, which refers to them */
    bytes = j->out.data;
    n = j->out.len;
    memset(&j->out, 0, sizeof j->out);
    if ((rc = ddict_add(s, j->id, bytes, n, &dd, err))) {
        dict_unref(d);
        goto done;
    }
    s->dict_tx = j->id;
    dict_set(s, d);
done:
    job_free(j);
    return rc;
}

void dict_job_drop(bt_store *s)
{
    job_free(job_take(s));
}

int dict_maybe_train(bt_store *s, int wait, bt_error *err)
{
    int64_t id = 0, blk = s->blk_id - 1; /* the blocks the store holds (ids from 1) */
    struct dict_job *j;
    int rc;

    if (!s->in_tx)
        return 0;
    if (s->dict_job) {
        if (!wait && !atomic_load(&s->dict_job->done))
            return 0;
        return job_finish(s, err);
    }
    if (!s->dict_mu_ok || s->dict_tx || blk < s->dict_next_blk)
        return 0;
    /* the next try, whatever this one gives */
    s->dict_next_blk = next_at(blk);
    if ((rc = get_int(s, "SELECT coalesce(max(id), " BT_CODEC_DICT_SQL " - 1) + 1 FROM dicts", &id,
                      err)))
        return rc;
    if (id > INT32_MAX)
        return 0;
    if (!(j = calloc(1, sizeof *j)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    j->id = (uint32_t)id;
    j->blk = blk;
    if ((rc = take_samples(s, j, err))) {
        job_free(j);
        return rc;
    }
    atomic_init(&j->done, 0);
    s->dict_job = j;
    j->threaded = pthread_create(&j->th, NULL, train_main, j) == 0;
    if (!j->threaded) /* no thread: trained here */
        train(j);
    return wait || !j->threaded ? job_finish(s, err) : 0;
}
