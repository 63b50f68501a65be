/* cmd_ingest.c - `buildtrail ingest PATH|s3://...`: read archives into the store, from
 * local files or in place from S3. Files already ingested unchanged (size and mtime,
 * or an S3 object's ETag) are skipped; events are written in batched transactions
 * together with their files' `sources` rows, so an interrupted ingest resumes. */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "ingest_lookup.h"

enum { O_FORCE = 1, O_JSON_SUMMARY, O_PROGRESS };

static const cli_opt ingest_opts[] = {
    {"force", 'f', OPT_FLAG, NULL, O_FORCE,
     "Read files even if the store already holds them unchanged (duplicates are still dropped)."},
    {"summary", 0, OPT_VALUE, "FORMAT", O_JSON_SUMMARY,
     "Print the summary as text (default) or json."},
    {"progress", 0, OPT_FLAG, NULL, O_PROGRESS,
     "Show the progress bar even when stderr is not a terminal."},
};

static const cli_group ingest_group = CLI_GROUP("Ingest options", ingest_opts);
static const cli_group *const ingest_groups[] = {&ingest_group,       &cli_group_s3_select,
                                                 &cli_group_s3,       &cli_group_ingest_lookup,
                                                 &cli_group_store,    &cli_group_general, NULL};

static int cmd_ingest(int argc, char **argv);

const cli_cmd cmd_ingest_def = {
    "ingest", cmd_ingest, "read trail archives into the store",
    "ingest [options] PATH|s3://bucket/prefix...",
    "Reads CloudTrail records from each PATH into the store: a file, a directory (read "
    "recursively), - for stdin, or a trail's S3 archive read in place, s3://bucket[/prefix]. "
    "The container is recognised by its content: gzip, "
    "{\"Records\":[...]} log files, JSON arrays, NDJSON, the output of 'aws cloudtrail "
    "lookup-events', and EventBridge events (API calls via CloudTrail, and CodeBuild build "
    "state and phase changes). CloudTrail-Digest files are counted and skipped. Events "
    "already stored (same eventID) are counted as duplicates and dropped. Files ingested "
    "before and unchanged (same size and mtime) are skipped, so re-running on a growing "
    "archive reads only what is new, and an interrupted ingest resumes where it stopped. "
    "A corrupt or truncated file is reported and the rest still loads (exit status 3).\n"
    "From s3://bucket/prefix the log files under prefix/AWSLogs/[o-id/]account/CloudTrail/"
    "region/YYYY/MM/DD/ are listed day by day (--start-time, --end-time, --account and "
    "--region choose the days, accounts and regions; what they leave open is discovered "
    "without listing the whole bucket; the day after the end is read too, as files are "
    "dated by delivery), downloaded and parsed in parallel. Objects already ingested with "
    "the same ETag are skipped. A bucket in another region is followed. Credentials and "
    "settings come from the environment and ~/.aws as for the AWS CLI. Refused credentials, "
    "a missing bucket or denied access stop the ingest with one line; what was read is "
    "kept (exit status 1), and the same command resumes.\n"
    "A PATH of the form lookup:REGION (lookup:r1,r2, lookup:all, or lookup: for the configured "
    "region) backfills the live event history instead (LookupEvents, --start-time to "
    "--end-time): each page is stored with a cursor, so an interrupted backfill resumes "
    "where it stopped and a later run with an open end fetches only what is new; calls are "
    "held to 2 per second per account and region (--rate). See docs/lookup.md.",
    ingest_groups,
    "  buildtrail ingest ./AWSLogs\n"
    "  buildtrail ingest lookup:us-east-1 --start-time 30d\n"
    "  buildtrail ingest lookup:all\n"
    "  aws cloudtrail lookup-events --output json | buildtrail ingest -\n"
    "  buildtrail ingest --store /tmp/ct.db trail-2026-10/*.json.gz\n"
    "  buildtrail ingest s3://my-trail-bucket --start-time 30d --region us-east-1,eu-west-1\n"
    "  buildtrail ingest s3://logs/org-trail/AWSLogs/o-a1b2c3d4e5/111122223333/\n"};

typedef struct ingest {
    cli_common c;
    cli_s3 s3;
    int force, json_summary, progress;
    bt_store *store;
    uint64_t new_events, dups, pending;
    uint64_t commit_events; /* commit after this many events (or a second) */
    int64_t last_commit_ms;
    int64_t t0_ms;
    bt_error err;
    int stopped;
    int batch_failed; /* on_batch failed (the store), as opposed to a source */
    int tty;
    ingest_lookup_opts_t lk;
    uint64_t unchanged;
} ingest;

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

/* The lookup: option of the same name as o, when the S3 group's option shadows it
 * (--endpoint-url, --profile...): both sources take the value. */
static const cli_opt *lookup_twin(const cli_opt *o)
{
    size_t i;
    for (i = 0; i < cli_group_ingest_lookup.n; i++)
        if (strcmp(cli_group_ingest_lookup.opts[i].name, o->name) == 0)
            return &cli_group_ingest_lookup.opts[i];
    return NULL;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    ingest *in = ctx;
    int rc = cli_s3_opt(&in->s3, &in->c, o, v);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        const cli_opt *twin = lookup_twin(o);
        return twin && twin != o ? (ingest_lookup_opt(&in->lk, twin, v) < 0 ? -1 : 0) : 0;
    }
    rc = cli_common_opt(&in->c, o, v);
    if (rc <= 0)
        return rc;
    if ((rc = ingest_lookup_opt(&in->lk, o, v)) <= 0)
        return rc;
    switch (o->id) {
    case O_FORCE: in->force = 1; return 0;
    case O_PROGRESS: in->progress = 1; return 0;
    case O_JSON_SUMMARY:
        if (strcmp(v, "json") == 0)
            in->json_summary = 1;
        else if (strcmp(v, "text") != 0) {
            cli_err("--summary '%s': expected text or json", v);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_batch(void *ctx, const bt_batch *b)
{
    ingest *in = ctx;
    size_t i;
    int rc;

    if (g_interrupted) {
        in->stopped = 1;
        return BT_ESTOP;
    }
    if ((rc = bt_store_begin(in->store, &in->err)))
        return rc;
    if (b->n) {
        /* a source that does not pack in its workers gets packed here */
        bt_store_pack *own = NULL;
        const bt_store_pack *pack = b->prepared;
        if (!pack && (rc = bt_store_pack_new(b->events, b->n, &own, &in->err)))
            return rc;
        rc = bt_store_add_packed(in->store, b->events, b->n, pack ? pack : own, &in->new_events,
                                 &in->dups, &in->err);
        bt_store_pack_free(own);
        if (rc)
            return rc;
    }
    in->pending += b->n;
    for (i = 0; i < b->n_done; i++) {
        char abs[PATH_MAX];
        const bt_file_done *d = &b->done[i];
        if (d->failed || strcmp(d->path, "-") == 0)
            continue;
        if (cli_is_s3_url(d->path)) {
            if ((rc = bt_store_source_done(in->store, d->path, d->size, d->mtime_ns, d->etag,
                                           d->records, &in->err)))
                return rc;
            continue;
        }
        if (!realpath(d->path, abs))
            continue;
        if ((rc = bt_store_source_done(in->store, abs, d->size, d->mtime_ns, NULL, d->records,
                                       &in->err)))
            return rc;
    }
    if (in->pending >= in->commit_events || mono_ms() - in->last_commit_ms >= 1000) {
        if ((rc = bt_store_commit(in->store, &in->err)))
            return rc;
        in->pending = 0;
        in->last_commit_ms = mono_ms();
    }
    return 0;
}

/* In the parser threads: compress the batch's records for the store. */
static int prepare(void *ctx, const bt_event *ev, size_t n, void **out)
{
    (void)ctx;
    return bt_store_pack_new(ev, n, (bt_store_pack **)out, NULL);
}

static void release(void *prepared)
{
    bt_store_pack_free(prepared);
}

/* The consumer as the scans see it: a failure here is the store's, not a source's. */
static int consume(void *ctx, const bt_batch *b)
{
    ingest *in = ctx;
    int rc = on_batch(ctx, b);
    if (rc && !in->stopped)
        in->batch_failed = 1;
    return rc;
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

static void on_file_error(void *ctx, const char *path, const bt_error *err)
{
    ingest *in = ctx;
    if (in->tty)
        fputs("\r\033[K", stderr);
    cli_err("%s", err->msg);
    (void)path;
}

static void human_bytes(char *out, size_t n, double b)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void on_progress(void *ctx, const bt_read_stats *st, uint64_t files_total,
                        uint64_t bytes_total)
{
    ingest *in = ctx;
    double secs = (double)(mono_ms() - in->t0_ms) / 1000.0, frac;
    char done[32], rate[32], eta[32] = "";
    int width = 24, fill, k;

    if (!in->tty || cli_quiet)
        return;
    frac = bytes_total ? (double)st->bytes_in / (double)bytes_total
                       : files_total ? (double)st->files / (double)files_total : 0;
    if (frac > 1)
        frac = 1;
    fill = (int)(frac * width);
    human_bytes(done, sizeof done, (double)st->bytes_in);
    snprintf(rate, sizeof rate, "%.0f", secs > 0 ? (double)st->records / secs : 0.0);
    if (frac > 0.01 && frac < 1) {
        double left = secs / frac - secs;
        snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
    }
    fputs("\r\033[K[", stderr);
    for (k = 0; k < width; k++)
        fputc(k < fill ? '=' : (k == fill ? '>' : ' '), stderr);
    fprintf(stderr, "] %3.0f%% %llu/%llu files %s %llu events %s ev/s%s", frac * 100,
            (unsigned long long)st->files, (unsigned long long)files_total, done,
            (unsigned long long)st->records, rate, eta);
    fflush(stderr);
}

static int cmd_ingest(int argc, char **argv)
{
    ingest in;
    char **pos = NULL, *path = NULL;
    int npos = 0, i, code = EXIT_OK, rc, nlookup = 0;
    bt_file_list all = {0}, todo = {0};
    const char **urls = NULL;
    int nurls = 0, s3_failed = 0;
    bt_read_stats st;
    bt_scan_opts so;
    size_t k;
    double secs;

    memset(&in, 0, sizeof in);
    memset(&st, 0, sizeof st);
    cli_common_init(&in.c);
    rc = cli_parse(&cmd_ingest_def, argc, argv, on_opt, &in, &pos, &npos);
    if (rc) {
        cli_s3_dispose(&in.s3);
        free(pos);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (npos == 0) {
        cli_err("ingest: no PATH given (a file, a directory, - for stdin, or s3://bucket/prefix)");
        cli_s3_dispose(&in.s3);
        free(pos);
        return EXIT_USAGE;
    }
    if (!(urls = calloc((size_t)npos, sizeof *urls))) {
        code = (cli_err("out of memory"), EXIT_ERROR);
        goto done;
    }
    for (i = 0; i < npos; i++) {
        if (ingest_is_lookup(pos[i])) {
            nlookup++;
        } else if (cli_is_s3_url(pos[i])) {
            if (cli_s3_check_url(pos[i], &in.err)) {
                code = cli_fail(&in.err, EXIT_USAGE);
                goto done;
            }
            urls[nurls++] = pos[i];
        } else if (bt_file_list_add(&all, pos[i], &in.err)) {
            code = cli_fail(&in.err, in.err.code == BT_ENOTFOUND ? EXIT_USAGE : EXIT_ERROR);
            goto done;
        }
    }
    if (!nurls && !nlookup &&
        (in.c.filter.start_ms != INT64_MIN || in.c.filter.end_ms != INT64_MAX ||
         in.c.filter.nvalues[BT_F_ACCOUNT] || in.c.filter.nvalues[BT_F_REGION])) {
        cli_err("ingest: --start-time, --end-time, --account and --region choose what is read "
                "from s3:// archives and lookup: sources, and none is given");
        code = EXIT_USAGE;
        goto done;
    }
    if (!(path = cli_store_path(&in.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (bt_store_open(path, 0, &in.store, &in.err)) {
        code = cli_fail(&in.err, in.err.code == BT_EDB ? EXIT_NOSTORE : EXIT_ERROR);
        goto done;
    }
    if (nlookup) {
        /* the event history first (lookup: sources), then any files */
        uint64_t added = 0;
        signal(SIGINT, on_sigint);
        signal(SIGTERM, on_sigint);
        for (i = 0; i < npos; i++)
            if (ingest_is_lookup(pos[i])) {
                int c = ingest_lookup_run(&in.lk, pos[i], in.store, in.c.filter.start_ms,
                                          in.c.filter.end_ms, in.force, in.json_summary,
                                          &g_interrupted, &added);
                if (c && code == EXIT_OK)
                    code = c;
            }
        if (g_interrupted) {
            cli_warn("interrupted: what was fetched so far is stored; run the same command to "
                     "resume");
            code = 130;
        }
        if ((all.n == 0 && nurls == 0) || code)
            goto done;
    }
    /* skip what the store already has */
    for (k = 0; k < all.n; k++) {
        char abs[PATH_MAX];
        int unchanged = 0;
        if (!in.force && strcmp(all.v[k].path, "-") != 0 && realpath(all.v[k].path, abs) &&
            bt_store_source_unchanged(in.store, abs, all.v[k].size, all.v[k].mtime_ns, NULL,
                                      &unchanged, &in.err) == 0 &&
            unchanged) {
            in.unchanged++;
            continue;
        }
        if (bt_file_list_add(&todo, all.v[k].path, &in.err) != 0) {
            code = cli_fail(&in.err, EXIT_ERROR);
            goto done;
        }
        /* keep the stat taken at listing time: the file's identity as first seen */
        todo.v[todo.n - 1].size = all.v[k].size;
        todo.v[todo.n - 1].mtime_ns = all.v[k].mtime_ns;
        todo.v[todo.n - 1].walked = all.v[k].walked;
    }
    in.commit_events = 200000;
    if (getenv("BUILDTRAIL_COMMIT_EVENTS") && atoll(getenv("BUILDTRAIL_COMMIT_EVENTS")) > 0)
        in.commit_events = (uint64_t)atoll(getenv("BUILDTRAIL_COMMIT_EVENTS"));
    in.tty = (isatty(STDERR_FILENO) || in.progress) && !cli_quiet;
    in.t0_ms = in.last_commit_ms = mono_ms();
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    memset(&so, 0, sizeof so);
    so.threads = in.c.threads;
    so.prepare = prepare;
    so.release = release;
    so.on_batch = consume;
    so.on_file_error = on_file_error;
    so.on_progress = on_progress;
    so.ctx = &in;
    rc = 0;
    if (todo.n || !nurls)
        rc = bt_scan_files(&todo, &so, &st, &in.err);
    for (i = 0; !rc && i < nurls; i++) {
        rc = cli_s3_scan(&in.s3, urls[i], &in.c.filter, &so, in.force ? NULL : skip_unchanged,
                         &in, &st, &in.err);
        s3_failed = rc && !in.batch_failed && !in.stopped;
    }
    in.unchanged += st.unchanged;
    if (in.tty)
        fputs("\r\033[K", stderr);
    if (rc == BT_ESTOP && in.stopped) {
        /* interrupted: keep everything written so far */
        rc = bt_store_commit(in.store, &in.err);
        cli_warn("interrupted: what was read so far is stored; run the same command to resume");
        code = 130;
    } else if (s3_failed) {
        /* the archive stopped answering (credentials, access, bucket): keep what was read */
        bt_error cerr = BT_ERROR_INIT;
        code = cli_fail(&in.err, EXIT_ERROR);
        if (bt_store_commit(in.store, &cerr)) {
            cli_fail(&cerr, EXIT_ERROR);
            goto done;
        }
    } else if (rc) {
        bt_store_rollback(in.store);
        code = cli_fail(&in.err, EXIT_ERROR);
        goto done;
    } else if ((rc = bt_store_commit(in.store, &in.err))) {
        code = cli_fail(&in.err, EXIT_ERROR);
        goto done;
    }
    secs = (double)(mono_ms() - in.t0_ms) / 1000.0;
    if (in.json_summary)
        printf("{\"files\": %llu, \"records\": %llu, \"new\": %llu, \"duplicate\": %llu, "
               "\"skipped\": %llu, \"unchanged\": %llu, \"digests\": %llu, \"not_json\": %llu, "
               "\"ignored_values\": %llu, \"errors\": %llu, \"seconds\": %.3f}\n",
               (unsigned long long)st.files, (unsigned long long)st.records,
               (unsigned long long)in.new_events, (unsigned long long)in.dups,
               (unsigned long long)(in.unchanged + st.digests + st.nonjson),
               (unsigned long long)in.unchanged, (unsigned long long)st.digests,
               (unsigned long long)st.nonjson, (unsigned long long)st.ignored,
               (unsigned long long)st.errors, secs);
    else
        printf("files %llu, records %llu, new %llu, duplicate %llu, skipped %llu (unchanged "
               "%llu, digest %llu, not JSON %llu), errors %llu; %.2f s, %.0f records/s\n",
               (unsigned long long)st.files, (unsigned long long)st.records,
               (unsigned long long)in.new_events, (unsigned long long)in.dups,
               (unsigned long long)(in.unchanged + st.digests + st.nonjson),
               (unsigned long long)in.unchanged, (unsigned long long)st.digests,
               (unsigned long long)st.nonjson, (unsigned long long)st.errors, secs,
               secs > 0 ? (double)st.records / secs : 0.0);
    if (code == EXIT_OK && st.errors)
        code = EXIT_PARTIAL;
done:
    bt_store_close(in.store);
    bt_file_list_dispose(&all);
    bt_file_list_dispose(&todo);
    cli_s3_dispose(&in.s3);
    free(urls);
    free(path);
    free(pos);
    return code;
}
