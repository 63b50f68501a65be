/* test_ingest_lookup.c - bt_ingest over lookup:REGION sources through the public headers,
 * against the in-process loopback peer (canned LookupEvents pages, served in order): a
 * whole backfill writes its cursor and a finished window is not asked again; a run that
 * fails in the middle resumes from the saved NextToken with the same parameters and
 * stores nothing twice; an open end asks again from 15 minutes before the last run's end
 * (the overlap's duplicates dropped); cancellation before and during the run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/ingest.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "test_aws_peer.h"
#include "tharness.h"

#define CT "application/x-amz-json-1.1"

/* a LookupEvents event whose record has eventID ev-N */
#define EV(n)                                                                                      \
    "{\"EventId\":\"ev-" #n "\",\"EventName\":\"StartBuild\",\"Username\":\"alice\","              \
    "\"EventSource\":\"codebuild.amazonaws.com\",\"EventTime\":1714557600,"                        \
    "\"CloudTrailEvent\":\"{\\\"eventVersion\\\":\\\"1.08\\\",\\\"eventID\\\":\\\"ev-" #n "\\\","  \
    "\\\"eventName\\\":\\\"StartBuild\\\",\\\"eventSource\\\":\\\"codebuild.amazonaws.com\\\","    \
    "\\\"awsRegion\\\":\\\"us-east-1\\\",\\\"eventTime\\\":\\\"2024-05-01T10:00:00Z\\\"}\"}"

#define P1                                                                                         \
    {                                                                                              \
        200, CT, "{\"Events\":[" EV(1) "," EV(2) "],\"NextToken\":\"t1\"}"                         \
    }
#define P2                                                                                         \
    {                                                                                              \
        200, CT, "{\"Events\":[" EV(3) "," EV(4) "],\"NextToken\":\"t2\"}"                         \
    }
#define P3                                                                                         \
    {                                                                                              \
        200, CT, "{\"Events\":[" EV(5) "," EV(6) "],\"NextToken\":\"t3\"}"                         \
    }
#define P4                                                                                         \
    {                                                                                              \
        200, CT, "{\"Events\":[" EV(7) "]}"                                                        \
    }
#define REFUSED                                                                                    \
    {                                                                                              \
        400, CT, "{\"__type\":\"InvalidLookupAttributesException\",\"message\":\"no\"}"            \
    }

#define WINDOW_START 1714521600000LL /* 2024-05-01T00:00:00Z */
#define WINDOW_END 1714608000000LL   /* 2024-05-02T00:00:00Z */

static char dir[64];

typedef struct run_ctx {
    int regions;
    bt_ingest_lookup_region last;
    bt_error last_err;
    char cursor[700], region[64];
    volatile sig_atomic_t cancel;
    int cancel_on_log;
} run_ctx;

static void on_done(const bt_ingest_lookup_region *r, void *payload)
{
    run_ctx *c = payload;
    c->regions++;
    c->last = *r;
    c->last_err = *r->err;
    snprintf(c->cursor, sizeof c->cursor, "%s", r->cursor);
    snprintf(c->region, sizeof c->region, "%s", r->region ? r->region : "(null)");
    c->last.err = &c->last_err;
    c->last.cursor = c->cursor;
    c->last.region = c->region;
}

static void on_log(void *payload, const char *line)
{
    run_ctx *c = payload;
    CHECK(strstr(line, "StartTime") != NULL);
    CHECK(strstr(line, "AKIDTEST") != NULL);
    CHECK(strstr(line, "secret") == NULL);
    if (c->cancel_on_log)
        c->cancel = 1;
}

static bt_store *open_store(const char *name)
{
    char path[128];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    snprintf(path, sizeof path, "%s/%s", dir, name);
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

/* One bt_ingest of lookup:us-east-1 against the peer; start/end as given. */
static int run(bt_store *s, const peer *p, run_ctx *c, int64_t start_ms, int64_t end_ms,
               bt_ingest_stats *st, bt_error *err)
{
    bt_ingest_source src = {BT_INGEST_AUTO, "lookup:us-east-1"};
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_ingest_opts o;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", p->port);
    cfg.endpoint_url = url;
    cfg.max_attempts = 1;
    cfg.lookup_events_rate = -1;
    bt_ingest_opts_init(&o);
    o.start_ms = start_ms;
    o.end_ms = end_ms;
    o.lookup_aws = &cfg;
    o.lookup_done = on_done;
    o.log = on_log;
    o.cancel = &c->cancel;
    o.payload = c;
    c->regions = 0;
    return bt_ingest(s, &src, 1, &o, st, err);
}

static int served(peer *p)
{
    int n;
    pthread_mutex_lock(&p->mu);
    n = p->served;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* How many times needle occurs in the requests the peer received. */
static int received_count(peer *p, const char *needle)
{
    int n = 0;
    const char *at;
    pthread_mutex_lock(&p->mu);
    for (at = p->received.data; at && (at = strstr(at, needle)); at++)
        n++;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static char *cursor_value(bt_store *s, const char *name)
{
    char *v = NULL;
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(bt_store_cursor_get(s, name, &v, &err), 0);
    return v;
}

static void test_backfill(void)
{
    static const reply replies[] = {P1, P2, P3, P4};
    peer p;
    bt_store *s = open_store("a.db");
    bt_ingest_stats st;
    bt_error err = BT_ERROR_INIT;
    run_ctx c;
    char want[128], *cur;

    memset(&c, 0, sizeof c);
    if (peer_start(&p, replies, 4) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), 0);
    CHECK_INT(st.lookup_pages, 4);
    CHECK_INT(st.lookup_events, 7);
    CHECK_INT(st.lookup_new, 7);
    CHECK_INT(st.lookup_duplicates, 0);
    CHECK_INT(st.in_lookup, 0);
    CHECK_INT(stored_events(s), 7);
    CHECK_INT(c.regions, 1);
    CHECK_STR(c.last.region, "us-east-1");
    CHECK_STR(c.last.source, "lookup:us-east-1");
    CHECK_INT(c.last.rc, 0);
    CHECK_INT(c.last.pages, 4);
    CHECK_INT(c.last.resumed + c.last.incremental + c.last.already + c.last.cancelled, 0);
    /* the cursor: per account (here the access key) and endpoint, the window done */
    snprintf(want, sizeof want, "lookup|key:AKIDTEST|us-east-1|http://127.0.0.1:%d", p.port);
    CHECK_STR(c.last.cursor, want);
    cur = cursor_value(s, want);
    CHECK(cur && strstr(cur, "\"Done\":true") && strstr(cur, "\"NextToken\":null") &&
          strstr(cur, "\"Pages\":4") && strstr(cur, "\"Events\":7"));
    free(cur);
    /* every page asked with the same window */
    CHECK_INT(received_count(&p, "\"StartTime\":1714521600"), 4);
    CHECK_INT(received_count(&p, "\"EndTime\":1714608000"), 4);
    CHECK_INT(received_count(&p, "\"NextToken\":\"t3\""), 1);

    /* the window is complete: not asked again */
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), 0);
    CHECK_INT(served(&p), 4);
    CHECK_INT(c.last.already, 1);
    CHECK_INT(st.lookup_pages, 0);
    peer_stop(&p);
    bt_store_close(s);
}

static void test_resume(void)
{
    /* the run fails after two pages; the next continues with t2 (replies in order) */
    static const reply replies[] = {P1, P2, REFUSED, P3, P4};
    peer p;
    bt_store *s = open_store("b.db");
    bt_ingest_stats st;
    bt_error err = BT_ERROR_INIT;
    run_ctx c;
    char *cur;

    memset(&c, 0, sizeof c);
    if (peer_start(&p, replies, 5) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), BT_EAWS);
    CHECK_INT(st.source_failed, 1);
    CHECK_INT(st.in_lookup, 1);
    CHECK_STR(err.aws_code, "InvalidLookupAttributesException");
    CHECK_INT(c.last.rc, BT_EAWS);
    CHECK_INT(c.last.skipped, 0);
    CHECK_INT(c.last.pages, 2);
    CHECK_INT(stored_events(s), 4);
    cur = cursor_value(s, c.last.cursor);
    CHECK(cur && strstr(cur, "\"Done\":false") && strstr(cur, "\"NextToken\":\"t2\""));
    free(cur);

    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), 0);
    CHECK_INT(c.last.resumed, 1);
    CHECK_INT(c.last.pages, 2);
    CHECK_INT(st.lookup_new, 3);
    CHECK_INT(st.lookup_duplicates, 0);
    CHECK_INT(stored_events(s), 7);
    /* t2 sent twice (refused, then resumed), always with the window it was issued for */
    CHECK_INT(received_count(&p, "\"NextToken\":\"t2\""), 2);
    CHECK_INT(received_count(&p, "\"StartTime\":1714521600"), 5);
    cur = cursor_value(s, c.last.cursor);
    CHECK(cur && strstr(cur, "\"Done\":true") && strstr(cur, "\"Pages\":4"));
    free(cur);
    peer_stop(&p);
    bt_store_close(s);
}

static void test_overlap(void)
{
    static const reply replies[] = {P4};
    peer p;
    bt_store *s = open_store("d.db");
    bt_ingest_stats st;
    bt_error err = BT_ERROR_INIT;
    run_ctx c;
    char *cur, *at, want[64];
    long long through = 0;
    int64_t start = (bt_time_now_ms() / 1000 - 86400) * 1000;

    memset(&c, 0, sizeof c);
    if (peer_start(&p, replies, 1) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(run(s, &p, &c, start, INT64_MAX, &st, &err), 0);
    cur = cursor_value(s, c.last.cursor);
    CHECK(cur && (at = strstr(cur, "\"Through\":")) != NULL);
    if (cur && at)
        through = atoll(at + 10);
    free(cur);
    CHECK_INT(run(s, &p, &c, start, INT64_MAX, &st, &err), 0);
    CHECK_INT(c.last.incremental, 1);
    snprintf(want, sizeof want, "\"StartTime\":%lld", through - 900);
    CHECK_INT(received_count(&p, want), 1);
    CHECK_INT(st.lookup_duplicates, 1);
    CHECK_INT(st.lookup_new, 0);
    CHECK_INT(stored_events(s), 1);
    peer_stop(&p);
    bt_store_close(s);
}

static void test_cancel(void)
{
    static const reply replies[] = {P1, P2, P3, P4};
    peer p;
    bt_store *s = open_store("e.db");
    bt_ingest_stats st;
    bt_error err = BT_ERROR_INIT;
    run_ctx c;
    uint64_t first_new;

    memset(&c, 0, sizeof c);
    if (peer_start(&p, replies, 4) != 0) {
        CHECK(0);
        return;
    }
    /* cancelled before the first request: nothing asked, nothing stored */
    c.cancel = 1;
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), BT_ESTOP);
    CHECK_INT(st.in_lookup, 1);
    CHECK_INT(st.source_failed, 0);
    CHECK_INT(c.last.cancelled, 1);
    CHECK_INT(served(&p), 0);
    CHECK_INT(stored_events(s), 0);
    /* cancelled once the region has started (from its debug line, before its first
     * page): BT_ESTOP, reported as cancelled */
    c.cancel = 0;
    c.cancel_on_log = 1;
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), BT_ESTOP);
    CHECK_INT(c.last.cancelled, 1);
    first_new = st.lookup_new;
    /* then the same call completes it, nothing stored twice */
    c.cancel = 0;
    c.cancel_on_log = 0;
    CHECK_INT(run(s, &p, &c, WINDOW_START, WINDOW_END, &st, &err), 0);
    CHECK_INT(first_new + st.lookup_new, 7);
    CHECK_INT(st.lookup_duplicates, 0);
    CHECK_INT(stored_events(s), 7);
    CHECK_INT(served(&p), 4);
    peer_stop(&p);
    bt_store_close(s);
}

static void setup(void)
{
    char path[128];
    snprintf(dir, sizeof dir, "/tmp/bt_ingl_XXXXXX");
    if (!mkdtemp(dir))
        dir[0] = '\0';
    snprintf(path, sizeof path, "%s/none", dir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_MAX_ATTEMPTS");
    setenv("AWS_REGION", "eu-west-1", 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

BT_TEST_MAIN(setup, test_backfill, test_resume, test_overlap, test_overlap, test_cancel, teardown)
