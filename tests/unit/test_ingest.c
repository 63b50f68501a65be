/* test_ingest.c - bt_ingest through the public headers, on an archive written here
 * with its ground truth: counts, duplicates dropped, unchanged files skipped on
 * re-ingest, force, a corrupt file reported while the rest loads, cancellation leaving
 * a consistent store that the next run completes, and sources refused up front. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/ingest.h"
#include "buildtrail/store.h"
#include "tharness.h"

#define NFILES 120
#define PER_FILE 50
#define DUP_EVERY 7 /* every 7th record repeats one of the previous file */

static char g_dir[64];
static char g_archive[128];
static uint64_t g_records, g_unique;

static void write_record(FILE *f, int id, int k)
{
    fprintf(
        f,
        "%s{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":"
        "\"alice\",\"accountId\":\"111122223333\"},\"eventTime\":\"2026-10-01T%02d:%02d:%02dZ\","
        "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"%s\",\"awsRegion\":"
        "\"us-east-1\",\"requestParameters\":{\"projectName\":\"p1\"},\"eventID\":\"ev-%06d\","
        "\"readOnly\":false}",
        k ? "," : "", id / 3600 % 24, id / 60 % 60, id % 60,
        id % 5 ? "BatchGetBuilds" : "StartBuild", id);
}

/* The archive: NFILES log files in day directories, one truncated file among them
 * ("f060-bad.json", no complete record), a README that is neither gzip nor JSON. */
static void make_archive(void)
{
    int i, k;
    char path[256];
    FILE *f;

    snprintf(g_dir, sizeof g_dir, "/tmp/bt-test-ingest-XXXXXX");
    CHECK(mkdtemp(g_dir) != NULL);
    snprintf(g_archive, sizeof g_archive, "%s/archive", g_dir);
    mkdir(g_archive, 0700);
    for (i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/f%03d.json", g_archive, i);
        f = fopen(path, "w");
        fputs("{\"Records\":[", f);
        for (k = 0; k < PER_FILE; k++) {
            int id = i * PER_FILE + k;
            if (i > 0 && k % DUP_EVERY == 3)
                id = (i - 1) * PER_FILE + k + 1; /* delivered again by CloudTrail */
            else
                g_unique++;
            write_record(f, id, k);
            g_records++;
        }
        fputs("]}\n", f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/f060-bad.json", g_archive);
    f = fopen(path, "w");
    fputs("{\"Records\":[{\"eventVersion\":\"1.08\",\"eventID\":", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/README", g_archive);
    f = fopen(path, "w");
    fputs("not a log file\n", f);
    fclose(f);
}

typedef struct cb {
    int errors;
    char last_error_source[256];
    int cancel_on_error;
    volatile sig_atomic_t cancel;
    int progress_calls;
} cb;

static void on_error(const char *source, const bt_error *err, void *payload)
{
    cb *c = payload;
    c->errors++;
    snprintf(c->last_error_source, sizeof c->last_error_source, "%s", source);
    CHECK(strstr(err->msg, "f060-bad.json") != NULL);
    if (c->cancel_on_error)
        c->cancel = 1;
}

static int on_progress(const bt_ingest_stats *st, void *payload)
{
    cb *c = payload;
    c->progress_calls++;
    CHECK(st->read.files <= st->files_total);
    return 0;
}

static bt_store *open_store(const char *name)
{
    char path[256];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    return s;
}

static uint64_t stored_events(bt_store *s)
{
    bt_store_info info;
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(bt_store_get_info(s, &info, &err), 0);
    return info.events;
}

static int run(bt_store *s, cb *c, int force, int threads, bt_ingest_stats *st)
{
    bt_ingest_source src = {BT_INGEST_AUTO, g_archive};
    bt_ingest_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_ingest_opts_init(&o);
    o.threads = threads;
    o.force = force;
    o.progress = on_progress;
    o.source_error = on_error;
    o.cancel = &c->cancel;
    o.payload = c;
    return bt_ingest(s, &src, 1, &o, st, &err);
}

static void test_ingest_counts_and_reingest(void)
{
    bt_store *s = open_store("a.db");
    bt_ingest_stats st;
    cb c;

    memset(&c, 0, sizeof c);
    CHECK_INT(run(s, &c, 0, 0, &st), 0);
    CHECK_INT(st.read.files, NFILES + 2);
    CHECK_INT(st.read.records, g_records);
    CHECK_INT(st.new_events, g_unique);
    CHECK_INT(st.duplicates, g_records - g_unique);
    CHECK_INT(st.read.errors, 1);
    CHECK_INT(st.read.nonjson, 1);
    CHECK_INT(st.unchanged, 0);
    CHECK_INT(c.errors, 1);
    CHECK(strstr(c.last_error_source, "f060-bad.json") != NULL);
    CHECK(c.progress_calls >= 1);
    CHECK_INT(stored_events(s), g_unique);

    /* again: every good file is skipped unchanged; the failed one is read again */
    memset(&c, 0, sizeof c);
    CHECK_INT(run(s, &c, 0, 2, &st), 0);
    CHECK_INT(st.unchanged, NFILES + 1);
    CHECK_INT(st.read.files, 1);
    CHECK_INT(st.read.errors, 1);
    CHECK_INT(st.new_events, 0);
    CHECK_INT(c.errors, 1);

    /* forced: everything read again, every record a duplicate */
    memset(&c, 0, sizeof c);
    CHECK_INT(run(s, &c, 1, 0, &st), 0);
    CHECK_INT(st.unchanged, 0);
    CHECK_INT(st.read.records, g_records);
    CHECK_INT(st.new_events, 0);
    CHECK_INT(st.duplicates, g_records);
    CHECK_INT(stored_events(s), g_unique);
    bt_store_close(s);
}

static void test_ingest_cancel_resume(void)
{
    bt_store *s = open_store("b.db");
    bt_ingest_stats st;
    uint64_t first;
    cb c;

    /* one thread reads in order; the corrupt file's report cancels before its batch */
    memset(&c, 0, sizeof c);
    c.cancel_on_error = 1;
    CHECK_INT(run(s, &c, 0, 1, &st), BT_ESTOP);
    first = st.new_events;
    CHECK(first > 0);
    CHECK(first < g_unique);
    CHECK_INT(stored_events(s), first); /* committed, consistent */
    bt_store_close(s);

    /* the same call completes it: nothing is lost or stored twice */
    s = open_store("b.db");
    memset(&c, 0, sizeof c);
    CHECK_INT(run(s, &c, 0, 0, &st), 0);
    CHECK(st.unchanged > 0);
    CHECK_INT(first + st.new_events, g_unique);
    CHECK_INT(stored_events(s), g_unique);
    bt_store_close(s);

    /* cancelled before anything: nothing written, still a usable store */
    s = open_store("c.db");
    memset(&c, 0, sizeof c);
    c.cancel = 1;
    CHECK_INT(run(s, &c, 0, 0, &st), BT_ESTOP);
    CHECK_INT(st.new_events, 0);
    CHECK_INT(stored_events(s), 0);
    bt_store_close(s);
}

static void test_ingest_sources(void)
{
    bt_store *s = open_store("d.db");
    bt_ingest_stats st;
    bt_error err = BT_ERROR_INIT;
    bt_ingest_source missing = {BT_INGEST_AUTO, "/nonexistent/bt-test"};
    bt_ingest_source lookup = {BT_INGEST_AUTO, "lookup:us-east-1"};
    bt_ingest_source bad_s3 = {BT_INGEST_S3, "s3://b/AWSLogs/not-an-account"};
    bt_ingest_source two[2];
    char one[256];

    CHECK_INT(bt_ingest_kind_of("-"), BT_INGEST_STDIN);
    CHECK_INT(bt_ingest_kind_of("s3://bucket/x"), BT_INGEST_S3);
    CHECK_INT(bt_ingest_kind_of("lookup:all"), BT_INGEST_LOOKUP);
    CHECK_INT(bt_ingest_kind_of("./AWSLogs"), BT_INGEST_PATH);
    CHECK_INT(bt_ingest(s, &missing, 1, NULL, &st, &err), BT_ENOTFOUND);
    CHECK(strstr(err.msg, "/nonexistent/bt-test") != NULL);
    {
        /* a lookup: source is planned (read by test_ingest_lookup.c against a peer) */
        bt_ingest_plan *p = NULL;
        size_t nf = 9, nu = 9;
        CHECK_INT(bt_ingest_plan_new(&lookup, 1, &p, &err), 0);
        CHECK_INT(bt_ingest_plan_lookups(p), 1);
        bt_ingest_plan_counts(p, &nf, &nu);
        CHECK_INT(nf, 0);
        CHECK_INT(nu, 0);
        bt_ingest_plan_free(p);
    }
    CHECK_INT(bt_ingest(s, &bad_s3, 1, NULL, &st, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not a CloudTrail log prefix") != NULL);

    /* two paths, one of them a single file named directly (no options: defaults) */
    snprintf(one, sizeof one, "%s/f000.json", g_archive);
    two[0].kind = BT_INGEST_PATH;
    two[0].location = one;
    two[1].kind = BT_INGEST_PATH;
    two[1].location = one;
    CHECK_INT(bt_ingest(s, two, 2, NULL, &st, &err), 0);
    CHECK_INT(st.read.files, 2);
    CHECK_INT(st.new_events, PER_FILE);
    CHECK_INT(st.duplicates, PER_FILE);
    CHECK_INT(stored_events(s), PER_FILE);
    bt_store_close(s);
}

static void test_setup(void)
{
    make_archive();
    CHECK(g_unique > 0);
}

static void test_cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK_INT(system(cmd), 0);
}

BT_TEST_MAIN(test_setup, test_ingest_counts_and_reingest, test_ingest_cancel_resume,
             test_ingest_sources, test_cleanup)
