/* ingest.c - bt_ingest: sources into the store. Plans the sources (checks URLs, lists
 * paths), runs the lookup: backfills (ingest_lookup.c), skips what the store holds
 * unchanged, runs the scan pipeline over local files and then each s3:// archive, and
 * writes batches in transactions together with the `sources` rows of the files they
 * finish (see buildtrail/ingest.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/ingest.h"
#include "buildtrail/timeutil.h"
#include "ingest_int.h"
#include "scan_int.h"

#define DEFAULT_COMMIT_EVENTS 200000

struct bt_ingest_plan {
    bt_file_list files; /* local paths and stdin, in order */
    const char **urls;  /* s3:// sources, borrowed from the caller */
    size_t nurls;
    const char **lookups; /* lookup: sources, borrowed */
    size_t nlookups;
};

/* The real paths of the directories files were in lately, DIR_SLOTS of them by a hash
 * of the directory as written: realpath(3) costs a readlink and a stat per path
 * component, and files come directory by directory when listed but hour by hour when
 * read (scan_list_sort_by_delivery), across an archive's accounts and regions: with one
 * directory remembered, the 1M-event bench archive took 3,200 realpaths (63,000 system
 * calls) to record its files as read. */
#define DIR_SLOTS 64
typedef struct dir_cache {
    char *dir[DIR_SLOTS], *real[DIR_SLOTS]; /* malloc'd; NULL: free */
} dir_cache;

static void dir_cache_dispose(dir_cache *c)
{
    size_t i;
    for (i = 0; i < DIR_SLOTS; i++) {
        free(c->dir[i]);
        free(c->real[i]);
    }
}

typedef struct ingest {
    dir_cache todo_dirs, done_dirs; /* local_todo's, sources_done's */
    bt_store *store;
    const bt_ingest_opts *o;
    bt_ingest_stats *st;
    bt_error *err;
    uint64_t pending;
    uint64_t commit_events;
    int64_t last_commit_ms;
    int stopped;      /* cancelled */
    int batch_failed; /* the store failed, as opposed to a source */
} ingest;

bt_ingest_kind bt_ingest_kind_of(const char *location)
{
    if (strcmp(location, "-") == 0)
        return BT_INGEST_STDIN;
    if (strncmp(location, "s3://", 5) == 0)
        return BT_INGEST_S3;
    if (strncmp(location, "lookup:", 7) == 0)
        return BT_INGEST_LOOKUP;
    return BT_INGEST_PATH;
}

void bt_ingest_opts_init(bt_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start_ms = INT64_MIN;
    o->end_ms = INT64_MAX;
}

void bt_ingest_plan_free(bt_ingest_plan *p)
{
    if (!p)
        return;
    bt_file_list_dispose(&p->files);
    free(p->urls);
    free(p->lookups);
    free(p);
}

void bt_ingest_plan_counts(const bt_ingest_plan *p, size_t *files, size_t *s3)
{
    *files = p ? p->files.n : 0;
    *s3 = p ? p->nurls : 0;
}

size_t bt_ingest_plan_lookups(const bt_ingest_plan *p)
{
    return p ? p->nlookups : 0;
}

/* True when the plan lists something that did not fail to be listed. */
static int plan_has_good(const bt_ingest_plan *p)
{
    size_t i;
    for (i = 0; i < p->files.n; i++)
        if (!p->files.v[i].error)
            return 1;
    return 0;
}

const char *bt_ingest_plan_warning(const bt_ingest_plan *p)
{
    return p ? p->files.warning : NULL;
}

int bt_ingest_plan_new(const bt_ingest_source *src, size_t n, bt_ingest_plan **out, bt_error *err)
{
    bt_ingest_plan *p = calloc(1, sizeof *p);
    bt_error first = BT_ERROR_INIT;
    size_t i;
    int rc = 0, first_rc = 0;

    *out = NULL;
    if (!p || (n && (!(p->urls = calloc(n, sizeof *p->urls)) ||
                     !(p->lookups = calloc(n, sizeof *p->lookups))))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        const char *loc = src[i].location;
        bt_ingest_kind k = src[i].kind ? src[i].kind : bt_ingest_kind_of(loc);
        switch (k) {
        case BT_INGEST_S3:
            if ((rc = bt_s3_scan_check_url(loc, err)))
                goto done;
            p->urls[p->nurls++] = loc;
            break;
        case BT_INGEST_LOOKUP:
            if (strncmp(loc, "lookup:", 7) != 0) {
                rc = bt_error_set(err, BT_EINVAL, "'%s': not a lookup:REGIONS source", loc);
                goto done;
            }
            p->lookups[p->nlookups++] = loc;
            break;
        case BT_INGEST_STDIN: loc = "-"; /* fall through */
        default:
            if ((rc = bt_file_list_add(&p->files, loc, err))) {
                /* a missing or unusable path beside others: reported by the scan, the
                 * rest read; alone (nothing else to read) it is the error */
                if (rc == BT_ENOMEM || bt_file_list_add_failed(&p->files, loc, err))
                    goto done;
                if (!first_rc) {
                    first_rc = rc;
                    first = *err;
                }
                rc = 0;
            }
        }
    }
    if (first_rc && !p->nurls && !plan_has_good(p)) {
        *err = first;
        rc = first_rc;
        goto done;
    }
    *out = p;
    p = NULL;
done:
    bt_ingest_plan_free(p);
    return rc;
}

/* ---- the consumer ---- */

static int cancelled(ingest *in)
{
    return in->stopped || (in->o->cancel && *in->o->cancel);
}

/* realpath(path) into out (PATH_MAX bytes): the directory's through c, then the name,
 * unless the name is itself a symbolic link (or "." or ".."). 0 when path does not
 * resolve. */
static int abs_path(dir_cache *c, const char *path, char *out)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t klen = (size_t)(base - path), i, slot; /* the directory as written, its '/' */
    uint64_t h = 1469598103934665603ULL;
    struct stat sb;
    int n;

    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || klen >= PATH_MAX ||
        lstat(path, &sb) != 0 || S_ISLNK(sb.st_mode))
        return realpath(path, out) != NULL;
    for (i = 0; i < klen; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
    slot = (size_t)(h ^ (h >> 32)) & (DIR_SLOTS - 1);
    if (!c->dir[slot] || strlen(c->dir[slot]) != klen || memcmp(c->dir[slot], path, klen) != 0) {
        char dir[PATH_MAX], real[PATH_MAX];
        free(c->dir[slot]);
        free(c->real[slot]);
        c->dir[slot] = c->real[slot] = NULL;
        memcpy(dir, path, klen);
        dir[klen] = '\0';
        if (klen > 1)
            dir[klen - 1] = '\0'; /* "a/b/" -> "a/b" for realpath, "/" stays */
        if (!realpath(klen ? dir : ".", real))
            return 0;
        if (klen > 1)
            dir[klen - 1] = '/';
        if (!(c->dir[slot] = strdup(dir)) || !(c->real[slot] = strdup(real))) {
            free(c->dir[slot]);
            c->dir[slot] = NULL;
            return 0;
        }
    }
    n = snprintf(out, PATH_MAX, "%s/%s", strcmp(c->real[slot], "/") == 0 ? "" : c->real[slot],
                 base);
    return n > 0 && n < PATH_MAX;
}

/* The sources rows of the files a batch finishes: absolute paths, or s3:// keys. */
static int sources_done(ingest *in, const bt_batch *b)
{
    size_t i;
    int rc;
    for (i = 0; i < b->n_done; i++) {
        char abs[PATH_MAX];
        const bt_file_done *d = &b->done[i];
        const char *key = d->path;
        if (d->failed || strcmp(d->path, "-") == 0)
            continue;
        if (strncmp(d->path, "s3://", 5) != 0) {
            if (!abs_path(&in->done_dirs, d->path, abs))
                continue;
            key = abs;
        }
        if ((rc = bt_store_source_done(in->store, key, d->size, d->mtime_ns, d->etag, d->records,
                                       in->err)))
            return rc;
    }
    return 0;
}

static int write_batch(ingest *in, const bt_batch *b)
{
    int rc;

    if (cancelled(in)) {
        in->stopped = 1;
        return BT_ESTOP;
    }
    if ((rc = bt_store_begin(in->store, in->err)))
        return rc;
    if (b->n) {
        /* a source that does not pack in its workers gets packed here */
        bt_store_pack *own = NULL;
        const bt_store_pack *pack = b->prepared;
        if (!pack && (rc = bt_store_pack_new(in->store, b->events, b->n, &own, in->err)))
            return rc;
        rc = bt_store_add_packed(in->store, b->events, b->n, pack ? pack : own, &in->st->new_events,
                                 &in->st->duplicates, in->err);
        bt_store_pack_free(own);
        if (rc)
            return rc;
    }
    in->pending += b->n;
    if ((rc = sources_done(in, b)))
        return rc;
    if (in->pending >= in->commit_events || bt_time_mono_ms() - in->last_commit_ms >= 1000) {
        if ((rc = bt_store_commit(in->store, in->err)))
            return rc;
        in->pending = 0;
        in->last_commit_ms = bt_time_mono_ms();
    }
    return 0;
}

/* The scans' prepare: the batch packed for the store (bt_store_pack_prepare). */
static int pack_for_store(void *ctx, const bt_event *ev, size_t n, void **out)
{
    return bt_store_pack_prepare(((ingest *)ctx)->store, ev, n, out);
}

/* The consumer as the scans see it: a failure here is the store's, not a source's. */
static int on_batch(void *ctx, const bt_batch *b)
{
    ingest *in = ctx;
    int rc = write_batch(in, b);
    if (rc && !in->stopped)
        in->batch_failed = 1;
    return rc;
}

static void on_file_error(void *ctx, const char *path, const bt_error *err)
{
    ingest *in = ctx;
    if (in->o->source_error)
        in->o->source_error(path, err, in->o->payload);
}

static void on_reject(void *ctx, const char *path, const bt_reject *rj)
{
    ingest *in = ctx;
    in->o->reject(path, rj, in->o->payload);
}

static void on_progress(void *ctx, const bt_read_stats *st, uint64_t files_total,
                        uint64_t bytes_total)
{
    ingest *in = ctx;
    (void)st; /* the same as in->st->read */
    in->st->files_total = files_total;
    in->st->bytes_total = bytes_total;
    if (in->o->progress && in->o->progress(in->st, in->o->payload))
        in->stopped = 1;
}

/* s3:// objects: skip those the store holds with the same ETag (or size and mtime). */
static int skip_unchanged(void *ctx, const char *source, uint64_t size, int64_t mtime_ns,
                          const char *etag)
{
    ingest *in = ctx;
    bt_error e = BT_ERROR_INIT;
    int unchanged = 0;
    if (bt_store_source_unchanged(in->store, source, size, mtime_ns, etag && *etag ? etag : NULL,
                                  &unchanged, &e))
        return 0;
    return unchanged;
}

/* ---- the sources ---- */

/* The plan's local files minus those the store holds unchanged. */
static int local_todo(ingest *in, const bt_file_list *all, bt_file_list *todo)
{
    size_t k;
    int rc;
    /* the lookups in the transaction the first batch writes in: one statement a file,
     * each of which took and released the store's locks in a transaction of its own */
    if (!in->o->force && all->n > 1 && (rc = bt_store_begin(in->store, in->err)))
        return rc;
    for (k = 0; k < all->n; k++) {
        char abs[PATH_MAX];
        int unchanged = 0;
        if (all->v[k].error) {
            /* listed as failed (an unreadable directory, a missing path): reported by the
             * scan */
            bt_error e = BT_ERROR_INIT;
            bt_error_set(&e, BT_EIO, "%s", all->v[k].error);
            if (bt_file_list_add_failed(todo, all->v[k].path, &e))
                return bt_error_set(in->err, BT_ENOMEM, "out of memory");
            continue;
        }
        if (!in->o->force && strcmp(all->v[k].path, "-") != 0 &&
            abs_path(&in->todo_dirs, all->v[k].path, abs) &&
            bt_store_source_unchanged(in->store, abs, all->v[k].size, all->v[k].mtime_ns, NULL,
                                      &unchanged, in->err) == 0 &&
            unchanged) {
            in->st->unchanged++;
            continue;
        }
        if ((rc = bt_file_list_add(todo, all->v[k].path, in->err)))
            return rc;
        /* keep the stat taken at listing time: the file's identity as first seen */
        todo->v[todo->n - 1].size = all->v[k].size;
        todo->v[todo->n - 1].mtime_ns = all->v[k].mtime_ns;
        todo->v[todo->n - 1].walked = all->v[k].walked;
    }
    return 0;
}

static int read_s3(ingest *in, const char *url, const bt_scan_opts *so)
{
    const bt_ingest_opts *o = in->o;
    bt_aws_config defaults = BT_AWS_CONFIG_INIT;
    bt_aws_client *own = NULL;
    bt_s3_scan_spec spec;
    bt_s3_scan_info info;
    int rc;

    if (!o->s3_client && (rc = bt_aws_client_new(&own, o->aws ? o->aws : &defaults, in->err)))
        return rc;
    memset(&spec, 0, sizeof spec);
    spec.client = o->s3_client ? o->s3_client : own;
    spec.url = url;
    spec.addressing = o->addressing;
    spec.start_ms = o->start_ms;
    spec.end_ms = o->end_ms;
    spec.accounts = o->accounts;
    spec.naccounts = o->naccounts;
    spec.regions = o->regions;
    spec.nregions = o->nregions;
    spec.connections = o->s3_connections;
    spec.skip = o->force ? NULL : skip_unchanged;
    spec.skip_ctx = in;
    rc = bt_scan_s3(&spec, so, &in->st->read, &info, in->err);
    if (o->s3_done)
        o->s3_done(url, &info, rc, o->payload);
    bt_aws_client_free(own);
    return rc;
}

/* Every lookup: source, before any file: the first failure (each source is still read),
 * else BT_ESTOP when cancelled. */
static int read_lookups(bt_store *store, const bt_ingest_plan *p, const bt_ingest_opts *o,
                        bt_ingest_stats *st, bt_error *err)
{
    bt_error e = BT_ERROR_INIT;
    size_t i;
    int rc = 0, r;
    for (i = 0; i < p->nlookups; i++)
        if ((r = ingest_lookup_source(store, p->lookups[i], o, st, &e)) && !rc) {
            rc = r;
            *err = e;
        }
    st->source_failed = rc != 0;
    if (!rc && o->cancel && *o->cancel)
        rc = bt_error_set(err, BT_ESTOP, "cancelled");
    st->in_lookup = rc != 0;
    return rc;
}

/* Commits or rolls back after the scans, by how they ended. */
static int finish(ingest *in, int rc)
{
    if (rc == BT_ESTOP && in->stopped) {
        /* cancelled: keep everything written so far */
        bt_error cerr = BT_ERROR_INIT;
        bt_store_commit(in->store, &cerr);
        return BT_ESTOP;
    }
    if (in->st->source_failed) {
        /* the archive stopped answering (credentials, access, bucket): keep what was read */
        int crc = bt_store_commit(in->store, in->err);
        if (crc)
            in->st->source_failed = 0;
        return crc ? crc : rc;
    }
    if (rc) {
        bt_store_rollback(in->store);
        return rc;
    }
    return bt_store_commit(in->store, in->err);
}

int bt_ingest_run(bt_store *store, const bt_ingest_plan *p, const bt_ingest_opts *o,
                  bt_ingest_stats *st, bt_error *err)
{
    bt_ingest_opts defaults;
    ingest in;
    bt_file_list todo = {0};
    bt_scan_opts so;
    size_t i;
    int rc;

    if (!o) {
        bt_ingest_opts_init(&defaults);
        o = &defaults;
    }
    memset(st, 0, sizeof *st);
    memset(&in, 0, sizeof in);
    in.store = store;
    in.o = o;
    in.st = st;
    in.err = err;
    in.commit_events = o->commit_events ? o->commit_events : DEFAULT_COMMIT_EVENTS;
    in.last_commit_ms = bt_time_mono_ms();
    if ((rc = read_lookups(store, p, o, st, err)) || (p->nlookups && !p->files.n && !p->nurls))
        goto done;
    if ((rc = local_todo(&in, &p->files, &todo)))
        goto done;
    if (scan_list_sort_by_delivery(&todo)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    memset(&so, 0, sizeof so);
    so.threads = o->threads;
    so.filter = o->filter;
    so.prepare = pack_for_store; /* in the parser threads: compress for the store */
    so.release = bt_store_pack_release;
    so.on_batch = on_batch;
    so.on_file_error = on_file_error;
    so.on_progress = on_progress;
    so.max_record = o->max_record;
    if (o->reject)
        so.on_reject = on_reject;
    so.ctx = &in;
    if (todo.n || !p->nurls)
        rc = bt_scan_files(&todo, &so, &st->read, err);
    for (i = 0; !rc && i < p->nurls; i++) {
        rc = read_s3(&in, p->urls[i], &so);
        st->source_failed = rc && !in.batch_failed && !in.stopped;
    }
    st->unchanged += st->read.unchanged;
    rc = finish(&in, rc);
done:
    bt_file_list_dispose(&todo);
    dir_cache_dispose(&in.todo_dirs);
    dir_cache_dispose(&in.done_dirs);
    return rc;
}

int bt_ingest(bt_store *store, const bt_ingest_source *src, size_t n, const bt_ingest_opts *o,
              bt_ingest_stats *st, bt_error *err)
{
    bt_ingest_plan *p = NULL;
    int rc = bt_ingest_plan_new(src, n, &p, err);
    if (!rc)
        rc = bt_ingest_run(store, p, o, st, err);
    else
        memset(st, 0, sizeof *st);
    bt_ingest_plan_free(p);
    return rc;
}

/* ---- the summary ---- */

int bt_ingest_summary(bt_buf *out, const bt_ingest_stats *is, double secs, int json)
{
    const bt_read_stats *st = &is->read;
    int rc;
    if (json)
        rc = bt_buf_printf(
            out,
            "{\"files\": %llu, \"records\": %llu, \"new\": %llu, \"duplicate\": %llu, "
            "\"skipped\": %llu, \"unchanged\": %llu, \"digests\": %llu, \"not_json\": %llu, "
            "\"ignored_values\": %llu, \"errors\": %llu, \"rejected\": %llu, \"seconds\": %.3f}\n",
            (unsigned long long)st->files, (unsigned long long)st->records,
            (unsigned long long)is->new_events, (unsigned long long)is->duplicates,
            (unsigned long long)(is->unchanged + st->digests + st->nonjson),
            (unsigned long long)is->unchanged, (unsigned long long)st->digests,
            (unsigned long long)st->nonjson, (unsigned long long)st->ignored,
            (unsigned long long)st->errors, (unsigned long long)st->rejected, secs);
    else
        rc = bt_buf_printf(
            out,
            "files %llu, records %llu, new %llu, duplicate %llu, skipped %llu (unchanged "
            "%llu, digest %llu, not JSON %llu), errors %llu, rejected %llu; %.2f s, %.0f "
            "records/s\n",
            (unsigned long long)st->files, (unsigned long long)st->records,
            (unsigned long long)is->new_events, (unsigned long long)is->duplicates,
            (unsigned long long)(is->unchanged + st->digests + st->nonjson),
            (unsigned long long)is->unchanged, (unsigned long long)st->digests,
            (unsigned long long)st->nonjson, (unsigned long long)st->errors,
            (unsigned long long)st->rejected, secs, secs > 0 ? (double)st->records / secs : 0.0);
    return rc ? BT_ENOMEM : 0;
}
