/*
 * sqlite_ckpt.c - the SQLite backend's checkpointer: a thread with a connection of its
 * own that copies the write-ahead log into the store's file while the handle that wrote
 * it goes on writing. SQLite's automatic checkpoint runs in the committing thread; an
 * ingest's writer then stopped for it after each commit (some 40 MB of log on 200,000
 * events), the parser threads filled the queue and waited, and one core idled for about
 * a tenth of the ingest. A commit that leaves the log at CKPT_PAGES pages or more wakes
 * the thread (started by the first such commit), which runs a passive checkpoint: it
 * waits for no reader or writer, and a checkpoint that a reader stops short is finished
 * by the next. A log is used again from its start only by a transaction that begins
 * when all of it is in the file, which a writer that begins again at once never sees:
 * the log would grow by the whole ingest (the reason this was not kept at schema 9).
 * So a commit that leaves it at CKPT_SYNC_BYTES or more waits for the thread and copies
 * the rest itself, as SQLite would: one wait for every 128 MB of log instead of one for
 * every commit. Closing the handle stops the thread; bt_store_close then checkpoints the
 * rest and truncates the log, as before. Shares the store's internals through
 * sqlite_int.h; docs/store.md describes it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

/* SQLite's own threshold (wal_autocheckpoint's default): a log of 1,000 pages */
#define CKPT_PAGES 1000
/* a log this long (128 MiB) is copied before the next transaction */
#define CKPT_SYNC_BYTES (128 << 20)

struct bt_ckpt {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;
    int busy;    /* the thread runs a checkpoint */
    int started; /* th runs */
    int failed;  /* the thread could not start: commits checkpoint as SQLite would */
    int want;    /* a commit asked for a checkpoint the thread has not begun */
    int stop;
    char *path;     /* the store's file as SQLite resolved it (absolute: a later chdir of
                     * the program changes nothing) */
    uint64_t runs;  /* checkpoints the thread ran */
    int sync_pages; /* CKPT_SYNC_BYTES in the store's pages (tests set less) */
};

static void *ckpt_main(void *arg)
{
    bt_ckpt *c = arg;
    sqlite3 *db = NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->want = 0;
        c->busy = 1;
        pthread_mutex_unlock(&c->mu);
        if (!db && sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                   NULL) == SQLITE_OK)
            (void)sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
        /* SQLITE_BUSY (another checkpoint runs) or a reader's snapshot leave frames
         * behind: the next commit's request copies them */
        if (db)
            (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->runs++;
        c->busy = 0;
        pthread_cond_broadcast(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    sqlite3_close(db);
    return NULL;
}

/* sqlite3_wal_hook's callback: after each commit of s, with the log's pages. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    bt_store *s = arg;
    bt_ckpt *c = s->ckpt;
    if (pages < CKPT_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (c->started && pages >= c->sync_pages) {
        while (c->want || c->busy)
            pthread_cond_wait(&c->idle, &c->mu);
        pthread_mutex_unlock(&c->mu);
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (!c->started && !c->failed) {
        if (pthread_create(&c->th, NULL, ckpt_main, c) == 0)
            c->started = 1;
        else
            c->failed = 1;
    }
    if (c->started) {
        c->want = 1;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!c->started) /* what SQLite's automatic checkpoint does */
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

int ckpt_setup(bt_store *s, bt_error *err)
{
    int64_t page = 0;
    const char *f = sqlite3_db_filename(s->db, "main");
    bt_ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(f && *f ? f : s->path))) {
        free(c);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_cond_init(&c->idle, NULL);
    /* 8 KiB pages since schema 15's release, 4 KiB before */
    c->sync_pages =
        (int)(CKPT_SYNC_BYTES /
              (get_int(s, "PRAGMA page_size", &page, NULL) == 0 && page >= 512 ? page : 4096));
    s->ckpt = c;
    sqlite3_wal_hook(s->db, on_commit, s);
    return 0;
}

void ckpt_stop(bt_store *s)
{
    bt_ckpt *c = s->ckpt;
    if (!c)
        return;
    if (s->db)
        sqlite3_wal_hook(s->db, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_cond_destroy(&c->idle);
    free(c->path);
    pthread_mutex_destroy(&c->mu);
    free(c);
    s->ckpt = NULL;
}

uint64_t ckpt_runs(const bt_store *s)
{
    uint64_t n;
    if (!s->ckpt)
        return 0;
    pthread_mutex_lock(&s->ckpt->mu);
    n = s->ckpt->runs;
    pthread_mutex_unlock(&s->ckpt->mu);
    return n;
}

void ckpt_set_sync_pages(bt_store *s, int pages)
{
    if (!s->ckpt)
        return;
    pthread_mutex_lock(&s->ckpt->mu);
    s->ckpt->sync_pages = pages;
    pthread_mutex_unlock(&s->ckpt->mu);
}
