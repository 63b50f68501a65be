/* cmd_ingest.c - `buildtrail ingest PATH|s3://...|lookup:...`: the arguments, the
 * progress bar and the summaries. The reading is the library's bt_ingest (lookup:
 * backfills with their cursors, skipping what the store holds unchanged, batched
 * transactions, resume); ingest_lookup.c holds the lookup: options and lines. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/aws.h"
#include "buildtrail/ingest.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "cli.h"
#include "term.h"
#include "ingest_lookup.h"

enum { O_FORCE = 1, O_JSON_SUMMARY, O_PROGRESS, O_MAX_RECORD, O_REJECTS };

static const cli_opt ingest_opts[] = {
    {"force", 'f', OPT_FLAG, NULL, O_FORCE,
     "Read files even if the store already holds them unchanged (duplicates are still dropped)."},
    {"summary", 0, OPT_VALUE, "FORMAT", O_JSON_SUMMARY,
     "Print the summary as text (default) or json."},
    {"progress", 0, OPT_FLAG, NULL, O_PROGRESS,
     "Show the progress bar even when stderr is not a terminal."},
    {"max-record-size", 0, OPT_VALUE, "BYTES", O_MAX_RECORD,
     "Refuse records larger than this (default 1048576); each is counted (exit status 3)."},
    {"rejects", 0, OPT_VALUE, "FILE", O_REJECTS,
     "Write each rejected record (one that does not convert, e.g. without a valid eventTime; "
     "the rest of its file loads) to FILE as NDJSON: source, index, reason, record."},
};

static const cli_group ingest_group = CLI_GROUP("Ingest options", ingest_opts);
static const cli_group *const ingest_groups[] = {
    &ingest_group,    &cli_group_s3_select, &cli_group_s3, &cli_group_ingest_lookup,
    &cli_group_store, &cli_group_general,   NULL};

static int cmd_ingest(int argc, char **argv);

const cli_cmd cmd_ingest_def = {
    "ingest",
    cmd_ingest,
    "read trail archives into the store",
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
    size_t max_record;
    const char *rejects_path;
    FILE *rejects;
    bt_store *store;
    bt_ingest_plan *plan;
    int64_t t0_ms;
    bt_error err;
    int tty;
    ingest_lookup_opts_t lk;
    int lookup_code; /* the first failed lookup: region's exit code */
} ingest;

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
    if (g_interrupted)
        _exit(128 + sig); /* the second: at once (a read may be waiting on stdin) */
    g_interrupted = 1;
}

/* SIGINT/SIGTERM set the flag and interrupt a blocking read (no SA_RESTART), so an
 * ingest waiting on stdin stops too. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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
    case O_MAX_RECORD: return cli_parse_bytes(o->name, v, &in->max_record);
    case O_REJECTS: in->rejects_path = v; return 0;
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

static void on_reject(const char *source, const bt_reject *rj, void *payload)
{
    ingest *in = payload;
    bt_buf b = BT_BUF_INIT;
    if (!bt_reject_write(&b, source, rj))
        fwrite(b.data, 1, b.len, in->rejects);
    bt_buf_dispose(&b);
}

static void on_source_error(const char *source, const bt_error *err, void *payload)
{
    ingest *in = payload;
    if (in->tty)
        fputs("\r\033[K", stderr);
    cli_err("%s", err->msg);
    (void)source;
}

static void on_s3_done(const char *url, const bt_s3_scan_info *info, int rc, void *payload)
{
    (void)payload;
    cli_s3_report(url, info, rc);
}

static void on_lookup_done(const bt_ingest_lookup_region *r, void *payload)
{
    ingest *in = payload;
    int code = ingest_lookup_report(r, in->json_summary);
    if (code && !in->lookup_code)
        in->lookup_code = code;
}

static int on_progress(const bt_ingest_stats *is, void *payload)
{
    ingest *in = payload;
    const bt_read_stats *st = &is->read;
    uint64_t files_total = is->files_total, bytes_total = is->bytes_total;
    double secs = (double)(bt_time_mono_ms() - in->t0_ms) / 1000.0, frac;
    char done[32], rate[32], eta[32] = "";

    if (!in->tty || cli_quiet)
        return 0;
    frac = bytes_total   ? (double)st->bytes_in / (double)bytes_total
           : files_total ? (double)st->files / (double)files_total
                         : 0;
    if (frac > 1)
        frac = 1;
    cli_human_bytes(done, sizeof done, (double)st->bytes_in);
    snprintf(rate, sizeof rate, "%.0f", secs > 0 ? (double)st->records / secs : 0.0);
    if (frac > 0.01 && frac < 1) {
        double left = secs / frac - secs;
        snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
    }
    cli_progress_bar(frac);
    fprintf(stderr, " %3.0f%% %llu/%llu files %s %llu events %s ev/s%s", frac * 100,
            (unsigned long long)st->files, (unsigned long long)files_total, done,
            (unsigned long long)st->records, rate, eta);
    fflush(stderr);
    return 0;
}

static void print_summary(const ingest *in, const bt_ingest_stats *is)
{
    bt_buf b = BT_BUF_INIT;
    if (!bt_ingest_summary(&b, is, (double)(bt_time_mono_ms() - in->t0_ms) / 1000.0, in->json_summary))
        fwrite(b.data, 1, b.len, stdout);
    bt_buf_dispose(&b);
}

/* Checks the sources before the store is opened. Returns an exit code. */
static int plan(ingest *in, char **pos, int npos)
{
    bt_ingest_source *src = calloc((size_t)npos, sizeof *src);
    size_t nfiles, nurls;
    int i, code = EXIT_OK;

    if (!src)
        return (cli_err("out of memory"), EXIT_ERROR);
    for (i = 0; i < npos; i++)
        src[i].location = pos[i];
    if (bt_ingest_plan_new(src, (size_t)npos, &in->plan, &in->err)) {
        int usage = in->err.code == BT_ENOTFOUND || in->err.code == BT_EINVAL;
        code = cli_fail(&in->err, usage ? EXIT_USAGE : EXIT_ERROR);
        goto done;
    }
    if (bt_ingest_plan_warning(in->plan))
        cli_warn("%s", bt_ingest_plan_warning(in->plan));
    bt_ingest_plan_counts(in->plan, &nfiles, &nurls);
    if (!nfiles && !nurls && !bt_ingest_plan_lookups(in->plan)) {
        cli_err("ingest: nothing found to read in %s%s (no files)", pos[0], npos > 1 ? " ..." : "");
        code = EXIT_PARTIAL;
        goto done;
    }
    if (!nurls && !bt_ingest_plan_lookups(in->plan) &&
        (in->c.filter.start_ms != INT64_MIN || in->c.filter.end_ms != INT64_MAX ||
         in->c.filter.nvalues[BT_F_ACCOUNT] || in->c.filter.nvalues[BT_F_REGION])) {
        cli_err("ingest: --start-time, --end-time, --account and --region choose what is read "
                "from s3:// archives and lookup: sources, and none is given");
        code = EXIT_USAGE;
    }
done:
    free(src);
    return code;
}

/* How the lookup: sources ended when bt_ingest stopped in them. Returns an exit code. */
static int lookups_ended(ingest *in)
{
    int code = in->lookup_code;
    if (!code && in->err.code != BT_ESTOP)
        code = cli_fail(&in->err, EXIT_ERROR);
    if (g_interrupted) {
        cli_warn("interrupted: what was fetched so far is stored; run the same command to "
                 "resume");
        code = 130;
    }
    return code;
}

/* Every source through bt_ingest (the event history first, then files and s3://
 * archives), then the summary. Returns an exit code. */
static int run_ingest(ingest *in)
{
    bt_ingest_opts o;
    bt_aws_config aws, lookup_aws;
    bt_ingest_stats st;
    const char *ce = getenv("BUILDTRAIL_COMMIT_EVENTS");
    size_t nfiles, nurls;
    int rc, code = EXIT_OK;

    bt_ingest_opts_init(&o);
    cli_s3_aws_config(&in->s3, &aws);
    ingest_lookup_config(&in->lk, &lookup_aws);
    o.threads = in->c.threads;
    o.force = in->force;
    if (ce && atoll(ce) > 0)
        o.commit_events = (uint64_t)atoll(ce);
    o.start_ms = in->c.filter.start_ms;
    o.end_ms = in->c.filter.end_ms;
    o.accounts = in->c.filter.values[BT_F_ACCOUNT];
    o.naccounts = in->c.filter.nvalues[BT_F_ACCOUNT];
    o.regions = in->c.filter.values[BT_F_REGION];
    o.nregions = in->c.filter.nvalues[BT_F_REGION];
    o.aws = &aws;
    o.addressing = (bt_s3_addressing)in->s3.addressing;
    o.s3_connections = in->s3.concurrency;
    o.lookup_aws = &lookup_aws;
    o.max_record = in->max_record;
    o.progress = on_progress;
    o.source_error = on_source_error;
    o.s3_done = on_s3_done;
    o.lookup_done = on_lookup_done;
    o.log = cli_debug ? cli_debug_line : NULL;
    o.cancel = &g_interrupted;
    o.payload = in;
    o.reject = in->rejects ? on_reject : NULL;
    in->tty = (isatty(STDERR_FILENO) || in->progress) && !cli_quiet;
    in->t0_ms = bt_time_mono_ms();
    catch_signals();
    rc = bt_ingest_run(in->store, in->plan, &o, &st, &in->err);
    if (st.in_lookup)
        return lookups_ended(in);
    bt_ingest_plan_counts(in->plan, &nfiles, &nurls);
    if (!nfiles && !nurls) /* lookup: sources only */
        return rc ? cli_fail(&in->err, EXIT_ERROR) : EXIT_OK;
    if (in->tty)
        fputs("\r\033[K", stderr);
    if (rc == BT_ESTOP) {
        if (st.new_events)
            cli_warn("interrupted: %llu new events stored; run the same command to resume",
                     (unsigned long long)st.new_events);
        else
            cli_warn("interrupted: no new events were stored; run the same command to resume");
        code = 130;
    } else if (rc && st.source_failed) {
        code = cli_fail(&in->err, EXIT_ERROR);
    } else if (rc) {
        return cli_fail(&in->err, EXIT_ERROR);
    }
    print_summary(in, &st);
    if (st.read.oversized)
        cli_warn("%llu records larger than %zu bytes refused (--max-record-size)",
                 (unsigned long long)st.read.oversized,
                 in->max_record ? in->max_record : BT_MAX_RECORD_DEFAULT);
    if (code == EXIT_OK && (st.read.errors || st.read.oversized))
        code = EXIT_PARTIAL;
    return code;
}

static int cmd_ingest(int argc, char **argv)
{
    ingest in;
    char **pos = NULL, *path = NULL;
    int npos = 0, code = EXIT_OK, rc;

    memset(&in, 0, sizeof in);
    cli_common_init(&in.c);
    rc = cli_parse(&cmd_ingest_def, argc, argv, on_opt, &in, &pos, &npos);
    if (rc) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (npos == 0) {
        cli_err("ingest: no PATH given (a file, a directory, - for stdin, or s3://bucket/prefix)");
        code = EXIT_USAGE;
        goto done;
    }
    if ((code = plan(&in, pos, npos)))
        goto done;
    if (in.rejects_path && !(in.rejects = fopen(in.rejects_path, "w"))) {
        cli_err("--rejects '%s': cannot be written", in.rejects_path);
        code = EXIT_USAGE;
        goto done;
    }
    if (!(path = cli_store_path(&in.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    if (cli_store_open(path, 0, &in.store, &in.err)) {
        code = cli_fail(&in.err, in.err.code == BT_EDB ? EXIT_NOSTORE : EXIT_ERROR);
        goto done;
    }
    code = run_ingest(&in);
done:
    if (in.rejects && fclose(in.rejects) && code == EXIT_OK)
        code = (cli_err("--rejects '%s': write failed", in.rejects_path), EXIT_ERROR);
    bt_store_close(in.store);
    bt_ingest_plan_free(in.plan);
    cli_s3_dispose(&in.s3);
    free(path);
    free(pos);
    return code;
}
