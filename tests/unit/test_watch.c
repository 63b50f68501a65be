/* test_watch.c - unit tests for bt_watch (watch.h) through the public API: source and
 * notify target checks, target names without secrets, a directory watched over cycles
 * (rules on exactly the new events, stable keys, nothing twice), an exec notifier that
 * fails then succeeds (outbox retries), a rule reload that fails keeping the set, and the
 * status line's per-source part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/store.h"
#include "buildtrail/watch.h"
#include "tharness.h"

#define REC(id, t, name)                                                                           \
    "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"alice\","    \
    "\"accountId\":\"111122223333\"},\"eventTime\":\"" t "\",\"eventSource\":"                     \
    "\"codebuild.amazonaws.com\",\"eventName\":\"" name "\",\"awsRegion\":\"us-east-1\","          \
    "\"requestParameters\":{\"projectName\":\"p1\"},\"eventID\":\"" id "\",\"readOnly\":false}"

#define RULE                                                                                       \
    "title: project deleted\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n"              \
    "logsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n"                      \
    "    eventName: DeleteProject\n  condition: sel\n"

static char g_dir[256];

static void path_of(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", g_dir, rel);
}

static void write_file(const char *rel, const char *text)
{
    char p[512];
    FILE *f;
    path_of(p, sizeof p, rel);
    f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void setup(void)
{
    char p[512];
    snprintf(g_dir, sizeof g_dir, "/tmp/bt-test-watch-%d", (int)getpid());
    snprintf(p, sizeof p, "rm -rf '%s' && mkdir -p '%s/in'", g_dir, g_dir);
    CHECK_INT(system(p), 0);
    write_file("rule.yml", RULE);
}

static void teardown(void)
{
    char p[512];
    snprintf(p, sizeof p, "rm -rf '%s'", g_dir);
    CHECK_INT(system(p), 0);
}

typedef struct sink {
    int n;
    char keys[16][64];
    int fail; /* refuse this many deliveries first */
} sink;

static int emit(void *payload, const char *doc, const char *key)
{
    sink *s = payload;
    (void)doc;
    if (s->fail > 0) {
        s->fail--;
        return 1;
    }
    if (s->n < 16)
        snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
    s->n++;
    return 0;
}

static void test_checks(void)
{
    bt_error err = BT_ERROR_INIT;
    char name[192];
    setup();
    CHECK_INT(bt_watch_check_source("foo://bar", &err), BT_EINVAL);
    CHECK(strstr(err.msg, "unknown source scheme") != NULL);
    CHECK_INT(bt_watch_check_source("sqs://queue", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_source("-", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_source("/nonexistent/dir", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_source(g_dir, &err), 0);
    CHECK_INT(bt_watch_check_source("lookup:us-east-1", &err), 0);
    CHECK_INT(bt_watch_check_source("s3://bucket/prefix", &err), 0);
    CHECK_INT(bt_watch_check_notify("stdout", &err), 0);
    CHECK_INT(bt_watch_check_notify("webhook:http://127.0.0.1:9/x", &err), 0);
    CHECK_INT(bt_watch_check_notify("exec:true", &err), 0);
    CHECK_INT(bt_watch_check_notify("webhook:ftp://x", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_notify("webhook:http://", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_notify("exec: ", &err), BT_EINVAL);
    CHECK_INT(bt_watch_check_notify("slack:https://hooks.slack.com/services/SECRET", &err), 0);
    CHECK_INT(bt_watch_check_notify("slack:hooks.slack.com/services/SECRET", &err), BT_EINVAL);
    CHECK(strstr(err.msg, "SECRET") == NULL);
    CHECK_INT(bt_watch_check_notify("sns:arn:aws:sns:us-east-1:123456789012:alerts", &err), 0);
    CHECK_INT(bt_watch_check_notify("sns:alerts", &err), BT_EINVAL);
    bt_watch_notify_name("slack:https://hooks.slack.com/services/T0/B0/SECRET", name, sizeof name);
    CHECK(strncmp(name, "slack:https://hooks.slack.com#", 30) == 0);
    CHECK(strstr(name, "SECRET") == NULL);
    bt_watch_notify_name("sns:arn:aws:sns:us-east-1:123456789012:alerts", name, sizeof name);
    CHECK_STR(name, "sns:arn:aws:sns:us-east-1:123456789012:alerts");
    CHECK_INT(bt_watch_check_notify("nope", &err), BT_EINVAL);
    /* names keep secrets out, and keep targets apart */
    bt_watch_notify_name("webhook:https://user:pw@hooks.example:8443/T0/SECRET?token=x", name,
                         sizeof name);
    CHECK(strncmp(name, "webhook:https://hooks.example:8443#", 35) == 0);
    CHECK(strstr(name, "SECRET") == NULL && strstr(name, "pw") == NULL);
    {
        char other[192];
        bt_watch_notify_name("webhook:https://hooks.example:8443/T0/OTHER", other, sizeof other);
        CHECK(strcmp(name, other) != 0);
    }
    bt_watch_notify_name("exec:/usr/bin/notify --token SECRET", name, sizeof name);
    CHECK(strncmp(name, "exec:/usr/bin/notify#", 21) == 0);
    CHECK(strstr(name, "SECRET") == NULL);
    teardown();
}

static char g_status[4096]; /* the last status line */

static void on_log(void *payload, const char *msg)
{
    (void)payload;
    if (strncmp(msg, "status: ", 8) == 0)
        snprintf(g_status, sizeof g_status, "%s", msg);
}

/* status_ms > 0: a status line through on_log that often, and bt_watch_run for 3 cycles */
static bt_watch *make_st(bt_store **store, sink *s, const char *const *notify, size_t nn,
                         int64_t status_ms)
{
    static char in[300], rule[300];
    static const char *src[1], *rules[1];
    char db[300];
    bt_watch_opts o;
    bt_watch *w = NULL;
    bt_error err = BT_ERROR_INIT;
    path_of(in, sizeof in, "in");
    path_of(rule, sizeof rule, "rule.yml");
    path_of(db, sizeof db, "s.db");
    src[0] = in;
    rules[0] = rule;
    memset(&o, 0, sizeof o);
    o.sources = src;
    o.nsources = 1;
    o.rules = rules;
    o.nrules = 1;
    o.notify = notify;
    o.nnotify = nn;
    o.emit = emit;
    o.payload = s;
    o.retry_min_ms = 1;
    o.retry_max_ms = 1;
    if (status_ms > 0) {
        o.status_ms = status_ms;
        o.log = on_log;
        o.max_cycles = 3;
        o.interval_ms = 30;
    }
    CHECK_INT(bt_watch_new(&o, &w, &err), 0);
    CHECK_INT(bt_store_open(db, 0, store, &err), 0);
    CHECK_INT(bt_watch_attach(w, *store, &err), 0);
    return w;
}

static bt_watch *make(bt_store **store, sink *s, const char *const *notify, size_t nn)
{
    return make_st(store, s, notify, nn, 0);
}

/* The status line names each source with its state and lag: ok while it reads, failing
 * when it does not. */
static void test_status_sources(void)
{
    static const char *const out[] = {"stdout"};
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    sink s;
    bt_watch *w;
    char in[300], want[400], cmd[400];

    setup();
    memset(&s, 0, sizeof s);
    path_of(in, sizeof in, "in");
    write_file("in/a.json", "{\"Records\":[" REC("e-1", "2026-10-01T10:00:00Z", "StartBuild") "]}");
    g_status[0] = 0;
    w = make_st(&store, &s, out, 1, 1);
    CHECK_INT(bt_watch_run(w, &err), 0);
    snprintf(want, sizeof want, "; sources: %s ok lag ", in);
    CHECK(strstr(g_status, "events/s") != NULL);
    CHECK(strstr(g_status, want) != NULL);
    CHECK(g_status[strlen(g_status) - 1] == 's' && !strchr(g_status, '\n'));
    /* the directory gone: failing, its lag still a number */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", in);
    CHECK_INT(system(cmd), 0);
    g_status[0] = 0;
    CHECK_INT(bt_watch_run(w, &err), 0);
    snprintf(want, sizeof want, "; sources: %s failing lag ", in);
    CHECK(strstr(g_status, want) != NULL);
    bt_watch_free(w);
    bt_store_close(store);
    teardown();
}

static void test_directory_cycles(void)
{
    static const char *const out[] = {"stdout"};
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_watch_stats st;
    sink s;
    bt_watch *w;
    char first[64];

    setup();
    memset(&s, 0, sizeof s);
    /* already there before the first run: ingested and evaluated (it is new to the store) */
    write_file("in/a.json",
               "{\"Records\":[" REC("e-1", "2026-10-01T10:00:00Z", "DeleteProject") "," REC(
                   "e-2", "2026-10-01T10:01:00Z", "StartBuild") "]}");
    w = make(&store, &s, out, 1);
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    CHECK_INT(s.n, 1);
    snprintf(first, sizeof first, "%s", s.keys[0]);
    CHECK(strncmp(first, "bt-", 3) == 0);
    /* nothing new: nothing evaluated, nothing sent */
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    CHECK_INT(s.n, 1);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.events_evaluated, 2);
    /* a new file, and the old one grown (its old record again: a duplicate) */
    write_file("in/b.json",
               "{\"Records\":[" REC("e-3", "2026-10-01T11:00:00Z", "DeleteProject") "]}");
    write_file("in/a.json",
               "{\"Records\":[" REC("e-1", "2026-10-01T10:00:00Z", "DeleteProject") "," REC(
                   "e-2", "2026-10-01T10:01:00Z",
                   "StartBuild") "," REC("e-4", "2026-10-01T10:02:00Z", "DeleteProject") "]}");
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    CHECK_INT(s.n, 3);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.events_evaluated, 4);
    CHECK_INT(st.alerts_new, 3);
    CHECK_INT(st.pending, 0);
    CHECK(strcmp(s.keys[1], first) != 0 && strcmp(s.keys[2], first) != 0);
    bt_watch_free(w);
    bt_store_close(store);
    /* a restart: nothing again */
    memset(&s, 0, sizeof s);
    w = make(&store, &s, out, 1);
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    CHECK_INT(s.n, 0);
    bt_watch_free(w);
    bt_store_close(store);
    teardown();
}

static void test_retry_and_reload(void)
{
    static char cmd[600];
    const char *targets[2];
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_watch_stats st;
    sink s;
    bt_watch *w;
    char flag[300], got[300], line[256];
    FILE *f;
    int i;

    setup();
    path_of(flag, sizeof flag, "ok");
    path_of(got, sizeof got, "got");
    /* fails until the flag file exists; then appends the key */
    snprintf(cmd, sizeof cmd, "exec:test -e '%s' && echo \"$BUILDTRAIL_ALERT_KEY\" >> '%s'", flag,
             got);
    targets[0] = "stdout";
    targets[1] = cmd;
    memset(&s, 0, sizeof s);
    s.fail = 1;
    write_file("in/a.json",
               "{\"Records\":[" REC("e-1", "2026-10-01T10:00:00Z", "DeleteProject") "]}");
    w = make(&store, &s, targets, 2);
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.alerts_new, 1);
    CHECK_INT(st.pending, 2);
    write_file("ok", "");
    for (i = 0; i < 100 && st.pending; i++) {
        usleep(10000);
        CHECK_INT(bt_watch_deliver(w, &err), 0);
        bt_watch_get_stats(w, &st);
    }
    CHECK_INT(st.pending, 0);
    CHECK_INT(s.n, 1);
    f = fopen(got, "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(fgets(line, sizeof line, f) != NULL);
        line[strcspn(line, "\n")] = 0;
        CHECK_STR(line, s.keys[0]);
        fclose(f);
    }
    /* a broken rule set keeps the old one */
    write_file("rule.yml", "title: [broken\n");
    CHECK(bt_watch_reload(w, &err) != 0);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.reload_failures, 1);
    CHECK_INT(st.rules, 1);
    write_file("in/b.json",
               "{\"Records\":[" REC("e-5", "2026-10-01T12:00:00Z", "DeleteProject") "]}");
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    CHECK_INT(s.n, 2);
    write_file("rule.yml", RULE);
    CHECK_INT(bt_watch_reload(w, &err), 0);
    bt_watch_free(w);
    bt_store_close(store);
    teardown();
}

/* A correlation whose events come in two cycles: its window stays open across them. */
static void test_correlation_across_cycles(void)
{
    static const char *const out[] = {"stdout"};
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_watch_stats st;
    sink s;
    bt_watch *w;

    setup();
    write_file("rule.yml",
               "title: project deleted\nid: 11111111-2222-3333-4444-555555555555\n"
               "name: project_deleted\nlevel: high\nlogsource:\n  product: aws\n"
               "  service: cloudtrail\ndetection:\n  sel:\n    eventName: DeleteProject\n"
               "  condition: sel\n---\ntitle: three deletions by one user\n"
               "id: 66666666-2222-3333-4444-555555555555\nlevel: high\ncorrelation:\n"
               "  type: event_count\n  rules:\n    - project_deleted\n  group-by:\n"
               "    - userIdentity.userName\n  timespan: 10m\n  condition:\n    gte: 3\n");
    memset(&s, 0, sizeof s);
    write_file("in/a.json",
               "{\"Records\":[" REC("e-1", "2026-10-01T10:00:00Z", "DeleteProject") "," REC(
                   "e-2", "2026-10-01T10:01:00Z", "DeleteProject") "]}");
    w = make(&store, &s, out, 1);
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.alerts_new, 0); /* the burst is not complete yet (a rule a correlation
                                    uses raises no alert of its own) */
    write_file("in/b.json",
               "{\"Records\":[" REC("e-3", "2026-10-01T10:02:00Z", "DeleteProject") "]}");
    CHECK_INT(bt_watch_cycle(w, &err), 0);
    bt_watch_get_stats(w, &st);
    CHECK_INT(st.alerts_new, 1); /* the burst of three */
    CHECK_INT(s.n, 1);
    bt_watch_free(w);
    bt_store_close(store);
    teardown();
}

BT_TEST_MAIN(test_checks, test_directory_cycles, test_retry_and_reload, test_status_sources,
             test_correlation_across_cycles)
