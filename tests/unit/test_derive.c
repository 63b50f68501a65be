/* test_derive.c - derived fields for rules (bt_build_tracker: build of an event, own
 * call, state at the event's time, known source address), bt_hunt (alerts, correlation
 * by build, duplicates), the store push-down and the alert JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"
#include "tharness.h"

#define UUID "0b6e3c4e-1111-4222-8333-944445555666"
#define ACCT "123456789012"
#define SESSION "arn:aws:sts::" ACCT ":assumed-role/codebuild-web-service-role/AWSCodeBuild-" UUID

static bt_arena *A;

/* An event from JSON text (kept in A). */
static bt_event ev_of(const char *text)
{
    bt_event ev;
    bt_json *j = NULL;
    char *copy = bt_arena_strdup(A, text);
    memset(&ev, 0, sizeof ev);
    if (bt_json_parse(A, copy, strlen(copy), NULL, &j, NULL) != 0) {
        CHECK(!"test record parses");
        return ev;
    }
    if (bt_json_get(j, "detail-type"))
        CHECK_INT(bt_event_from_build_status(A, j, &ev, NULL), 0);
    else
        CHECK_INT(bt_event_from_record(A, j, &ev, NULL), 0);
    return ev;
}

static const char *start_build(void)
{
    return "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:"
           "iam::" ACCT ":user/alice\",\"accountId\":\"" ACCT
           "\"},\"eventTime\":\"2026-10-01T10:00:00Z\","
           "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"StartBuild\",\"awsRegion\":"
           "\"us-east-1\",\"sourceIPAddress\":\"198.51.100.7\",\"requestParameters\":{"
           "\"projectName\":"
           "\"web\"},\"responseElements\":{\"build\":{\"id\":\"web:" UUID "\",\"arn\":"
           "\"arn:aws:codebuild:us-east-1:" ACCT ":build/web:" UUID "\"}},\"eventID\":"
           "\"e0000000-0000-4000-8000-000000000001\",\"recipientAccountId\":\"" ACCT "\"}";
}

static const char *ended(void)
{
    return "{\"version\":\"0\",\"id\":\"e0000000-0000-4000-8000-0000000000ff\",\"detail-type\":"
           "\"CodeBuild Build State Change\",\"source\":\"aws.codebuild\",\"account\":\"" ACCT
           "\",\"time\":\"2026-10-01T10:10:00Z\",\"region\":\"us-east-1\",\"resources\":"
           "[\"arn:aws:codebuild:us-east-1:" ACCT ":build/web:" UUID
           "\"],\"detail\":{\"build-status\":"
           "\"SUCCEEDED\",\"project-name\":\"web\",\"build-id\":\"arn:aws:codebuild:us-east-1:" ACCT
           ":build/web:" UUID "\",\"current-phase\":\"COMPLETED\"}}";
}

/* A call of the build's session at HH:MM:SS from ip, with event id n. */
static const char *call(const char *hms, const char *ip, int n, const char *err)
{
    return bt_arena_sprintf(
        A,
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":"
        "\"AROAEXAMPLE:AWSCodeBuild-" UUID "\",\"arn\":\"" SESSION "\",\"accountId\":\"" ACCT "\"},"
        "\"eventTime\":\"2026-10-01T%sZ\",\"eventSource\":\"sts.amazonaws.com\",\"eventName\":"
        "\"GetCallerIdentity\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"%s\"%s%s%s,"
        "\"requestParameters\":null,\"responseElements\":null,\"eventID\":"
        "\"c0000000-0000-4000-8000-%012d\",\"recipientAccountId\":\"" ACCT "\"}",
        hms, ip, err ? ",\"errorCode\":\"" : "", err ? err : "", err ? "\"" : "", n);
}

static void test_build_of_event(void)
{
    bt_build_tracker *t = bt_build_tracker_new(0);
    bt_event s = ev_of(start_build()), c = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    bt_event other = ev_of("{\"eventTime\":\"2026-10-01T10:00:00Z\",\"eventName\":\"ListBuckets\","
                           "\"eventSource\":\"s3.amazonaws.com\",\"eventID\":\"x1\"}");
    bt_rule_derived d;
    CHECK_INT(bt_build_tracker_learn(t, &s), 0);
    /* the start record is about the build, not its own call */
    bt_build_tracker_derive(t, &s, &d);
    CHECK_STR(d.build_id, "web:" UUID);
    CHECK_STR(d.project, "web");
    CHECK_INT(d.is_build_call, 0);
    CHECK_STR(d.build_state, "IN_PROGRESS");
    /* a call of its role session */
    bt_build_tracker_derive(t, &c, &d);
    CHECK_STR(d.build_id, "web:" UUID);
    CHECK_STR(d.build_uuid, UUID);
    CHECK_INT(d.is_build_call, 1);
    CHECK_STR(d.build_state, "IN_PROGRESS");
    CHECK(d.build_ended_age_s < 0);
    /* an event of no build */
    bt_build_tracker_derive(t, &other, &d);
    CHECK(d.build_id == NULL && d.build_state == NULL);
    CHECK_INT(d.is_build_call, 0);
    CHECK_INT(d.source_ip_known, -1);
    bt_build_tracker_free(t);
}

static void test_project_guess_without_lifecycle(void)
{
    bt_build_tracker *t = bt_build_tracker_new(0);
    bt_event c = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    bt_rule_derived d;
    bt_build_tracker_derive(t, &c, &d);
    /* the console's role naming codebuild-<project>-service-role */
    CHECK_STR(d.project, "web");
    CHECK_STR(d.build_id, "web:" UUID);
    CHECK(d.build_state == NULL); /* nothing known of its lifecycle */
    bt_build_tracker_free(t);
}

static void test_state_after_end(void)
{
    bt_build_tracker *t = bt_build_tracker_new(0);
    bt_event s = ev_of(start_build()), e = ev_of(ended());
    bt_event late = ev_of(call("10:16:40", "203.0.113.5", 2, NULL));
    bt_event before = ev_of(call("09:59:00", "203.0.113.5", 3, NULL));
    bt_rule_derived d;
    /* learned in any order */
    CHECK_INT(bt_build_tracker_learn(t, &e), 0);
    CHECK_INT(bt_build_tracker_learn(t, &s), 0);
    bt_build_tracker_derive(t, &late, &d);
    CHECK_STR(d.build_state, "SUCCEEDED");
    CHECK(d.build_ended_age_s > 399.9 && d.build_ended_age_s < 400.1);
    /* a call of the session before the start record counts as running (it exists) */
    bt_build_tracker_derive(t, &before, &d);
    CHECK_STR(d.build_state, "IN_PROGRESS");
    bt_build_tracker_free(t);
}

static void test_source_ip_known(void)
{
    bt_build_tracker *t = bt_build_tracker_new(0);
    bt_event c1 = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    bt_event c2 = ev_of(call("10:02:00", "203.0.113.5", 2, NULL));
    bt_event c3 = ev_of(call("10:03:00", "192.0.2.66", 3, NULL));
    bt_event c4 = ev_of(call("10:04:00", "codebuild.amazonaws.com", 4, NULL));
    bt_rule_derived d;
    /* all learned first (a first pass): "before" still means before in time */
    CHECK_INT(bt_build_tracker_learn(t, &c3), 0);
    CHECK_INT(bt_build_tracker_learn(t, &c2), 0);
    CHECK_INT(bt_build_tracker_learn(t, &c1), 0);
    CHECK_INT(bt_build_tracker_learn(t, &c4), 0);
    bt_build_tracker_derive(t, &c1, &d);
    CHECK_INT(d.source_ip_known, -1); /* the session's first address */
    bt_build_tracker_derive(t, &c2, &d);
    CHECK_INT(d.source_ip_known, 1);
    bt_build_tracker_derive(t, &c3, &d);
    CHECK_INT(d.source_ip_known, 0); /* new address, another one was in use */
    bt_build_tracker_derive(t, &c4, &d);
    CHECK_INT(d.source_ip_known, -1); /* a service name is not an address */
    bt_build_tracker_free(t);
}

/* addresses per build: kept as they come, up to BT_BUILD_TRACKER_MAX_IPS */
static void test_source_ip_many(void)
{
    bt_build_tracker *t = bt_build_tracker_new(0);
    bt_rule_derived d;
    char hms[16], ip[32];
    int i;
    for (i = 1; i <= 20; i++) {
        bt_event c;
        snprintf(hms, sizeof hms, "10:%02d:00", i);
        snprintf(ip, sizeof ip, "198.51.100.%d", i);
        c = ev_of(call(hms, ip, i, NULL));
        CHECK_INT(bt_build_tracker_learn(t, &c), 0);
    }
    for (i = 1; i <= 20; i++) {
        bt_event c;
        snprintf(ip, sizeof ip, "198.51.100.%d", i);
        c = ev_of(call("11:00:00", ip, 100 + i, NULL));
        bt_build_tracker_derive(t, &c, &d);
        /* the first 16 are known; later ones were not kept: new (others were in use) */
        CHECK_INT(d.source_ip_known, i <= BT_BUILD_TRACKER_MAX_IPS ? 1 : 0);
    }
    bt_build_tracker_free(t);
}

static void test_cap_and_summary(void)
{
    bt_build_tracker *t = bt_build_tracker_new(1);
    bt_event s = ev_of(start_build());
    bt_event c = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    bt_build b;
    bt_rule_derived d;
    size_t dropped = 0;
    memset(&b, 0, sizeof b);
    memcpy(b.uuid, "aaaaaaaa-1111-4222-8333-944445555666", 37);
    b.project = "api";
    b.build_id = "api:aaaaaaaa-1111-4222-8333-944445555666";
    b.start_ms = 1000;
    b.end_ms = 2000;
    b.status = "FAILED";
    b.status_source = "eventbridge";
    b.outcome = BT_STATUS_FAILED;
    CHECK_INT(bt_build_tracker_add_build(t, &b), 0);
    CHECK_INT(bt_build_tracker_learn(t, &s), 0); /* over the cap: not tracked */
    CHECK_INT(bt_build_tracker_count(t, &dropped), 1);
    CHECK_INT(dropped, 1);
    bt_build_tracker_derive(t, &c, &d);
    CHECK(d.build_state == NULL);
    bt_build_tracker_free(t);
}

static int load(bt_ruleset **rs, const char *yaml)
{
    bt_error err = BT_ERROR_INIT;
    *rs = bt_rules_new();
    if (bt_rules_add_buffer(*rs, "t.yml", yaml, strlen(yaml), &err) ||
        bt_rules_compile(*rs, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static const char STOLEN[] =
    "title: after end\nid: r-late\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  s:\n    userIdentity.principalId|contains: ':AWSCodeBuild-'\n"
    "  late:\n    buildtrail.build_ended_age_s|gt: 300\n"
    "  new:\n    buildtrail.source_ip_known: 'false'\n"
    "  condition: s and (late or new)\nlevel: high\n";

static const char BURST[] =
    "title: denied\nname: denied\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  s:\n    errorCode: AccessDenied\n  condition: s\n---\n"
    "title: burst\nid: r-burst\ncorrelation:\n  type: event_count\n  rules: [denied]\n"
    "  group-by: [userIdentity.arn]\n  timespan: 1m\n  condition: {gte: 3}\nlevel: medium\n";

static void test_hunt_alerts(void)
{
    bt_ruleset *rs;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf out = BT_BUF_INIT;
    bt_event s = ev_of(start_build()), e = ev_of(ended());
    bt_event c1 = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    bt_event c2 = ev_of(call("10:05:00", "192.0.2.66", 2, NULL));  /* new address */
    bt_event c3 = ev_of(call("10:12:00", "203.0.113.5", 3, NULL)); /* 2 min after: grace */
    bt_event c4 = ev_of(call("10:30:00", "203.0.113.5", 4, NULL)); /* 20 min after */
    bt_json *j;
    if (load(&rs, STOLEN)) {
        CHECK(!"rule loads");
        return;
    }
    CHECK(bt_rules_need_lifecycle(rs));
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    CHECK_INT(bt_hunt_event(h, &s, &err), 0);
    CHECK_INT(bt_hunt_event(h, &c1, &err), 0);
    CHECK_INT(bt_hunt_event(h, &c2, &err), 0);
    CHECK_INT(bt_hunt_event(h, &e, &err), 0);
    CHECK_INT(bt_hunt_event(h, &c3, &err), 0);
    CHECK_INT(bt_hunt_event(h, &c4, &err), 0);
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    CHECK_INT(bt_hunt_count(h), 2);
    if (bt_hunt_count(h) == 2) {
        CHECK_INT(bt_hunt_alert_at(h, 0, &out), 0);
        CHECK_INT(bt_json_parse(A, bt_arena_strdup(A, out.data), out.len, NULL, &j, NULL), 0);
        CHECK_STR(bt_json_get_str(j, "event_id"), c2.event_id);
        CHECK_INT(bt_hunt_alert_at(h, 1, &out), 0);
        CHECK_INT(bt_json_parse(A, out.data, out.len, NULL, &j, NULL), 0);
        CHECK_STR(bt_json_get_str(j, "event_id"), c4.event_id);
        CHECK_STR(bt_json_get_str(j, "rule_id"), "r-late");
        CHECK_STR(bt_json_get_str(j, "level"), "high");
        CHECK_STR(bt_json_get_str(j, "build_id"), "web:" UUID);
        CHECK_STR(bt_json_get_str(j, "event_time"), "2026-10-01T10:30:00Z");
        CHECK(bt_json_get(j, "event") && bt_json_get(j, "event")->type == BT_JSON_OBJECT);
        /* the record byte-exact */
        CHECK(memmem(out.data, out.len, c4.raw, c4.raw_len) != NULL);
    }
    bt_buf_dispose(&out);
    bt_hunt_free(h);
    bt_rules_free(rs);
}

static void test_hunt_unordered_correlation(void)
{
    bt_ruleset *rs;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf out = BT_BUF_INIT;
    bt_event c[4];
    int i;
    c[0] = ev_of(call("10:01:30", "203.0.113.5", 3, "AccessDenied"));
    c[1] = ev_of(call("10:01:00", "203.0.113.5", 1, "AccessDenied"));
    c[2] = ev_of(call("10:01:10", "203.0.113.5", 2, "AccessDenied"));
    c[3] = c[1]; /* delivered twice */
    if (load(&rs, BURST)) {
        CHECK(!"rules load");
        return;
    }
    CHECK(!bt_rules_need_lifecycle(rs));
    memset(&o, 0, sizeof o); /* unordered: replayed in time order at the end */
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    for (i = 0; i < 4; i++)
        CHECK_INT(bt_hunt_event(h, &c[i], &err), 0);
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    CHECK_INT(bt_hunt_count(h), 1); /* the building block does not alert on its own */
    CHECK_INT(bt_hunt_alert_at(h, 1, &out), BT_EINVAL);
    if (bt_hunt_count(h) == 1) {
        bt_json *j;
        CHECK_INT(bt_hunt_alert_at(h, 0, &out), 0);
        CHECK_INT(bt_json_parse(A, bt_arena_strdup(A, out.data), out.len, NULL, &j, NULL), 0);
        CHECK(bt_json_get(j, "event_ids") && bt_json_get(j, "event_ids")->len == 3);
        CHECK(bt_json_get(j, "event_id") == NULL && bt_json_get(j, "event") == NULL);
        CHECK_STR(bt_json_get_str(j, "build_id"), "web:" UUID);
        CHECK_STR(bt_json_get_str(j, "account"), ACCT);
        CHECK(strstr(out.data, "\"event_ids\":[\"c0000000-0000-4000-8000-000000000001\"") != NULL);
        CHECK(strstr(out.data, "\"event\":") == NULL);
    }
    bt_buf_dispose(&out);
    bt_hunt_free(h);
    bt_rules_free(rs);
}

/* Many alerts, unordered, with duplicates and a correlation: staged in memory (the
 * default) and spilled in many sorted runs (a tiny stage) give the same alerts, in time
 * order. */
static const char EVERY[] =
    "title: every call\nid: r-every\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  s:\n    eventName: GetCallerIdentity\n  condition: s\nlevel: low\n---\n";

/* Finishes h and appends its alerts to all, one per line; their count. */
static size_t finish_alerts(bt_hunt *h, bt_buf *all)
{
    const char *ref_end;
    size_t len_end;
    bt_error err = BT_ERROR_INIT;
    bt_buf one = BT_BUF_INIT;
    size_t i, count;
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    count = bt_hunt_count(h);
    for (i = 0; i < count; i++) {
        const char *ref = NULL;
        size_t len = 0;
        CHECK_INT(bt_hunt_alert_at(h, i, &one), 0);
        bt_buf_append(all, one.data, one.len);
        bt_buf_putc(all, '\n');
        /* the same bytes without a copy */
        CHECK_INT(bt_hunt_alert_ref(h, i, &ref, &len), 0);
        CHECK(ref && len == one.len && memcmp(ref, one.data, len) == 0);
    }
    CHECK_INT(bt_hunt_alert_ref(h, count, &ref_end, &len_end), BT_EINVAL);
    bt_buf_dispose(&one);
    return count;
}

/* A hunt over ev[0..n) as given (ordered or not), its alerts into all; the spill's
 * figures into *spilled and *runs when they are not NULL. */
static int run_hunt_ex(bt_ruleset *rs, const bt_event *ev, int n, int ordered, size_t stage,
                       bt_buf *all, uint64_t *spilled, size_t *runs)
{
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    size_t count = 0, r;
    uint64_t sp;
    int k;
    memset(&o, 0, sizeof o);
    o.ordered = ordered;
    o.stage_cap = stage;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    if (!h)
        return 0;
    for (k = 0; k < n; k++)
        CHECK_INT(bt_hunt_event(h, &ev[k], &err), 0);
    count = finish_alerts(h, all);
    bt_hunt_spill_stats(h, spilled ? spilled : &sp, runs ? runs : &r);
    bt_hunt_free(h);
    return (int)count;
}

static int run_hunt(bt_ruleset *rs, const bt_event *ev, int n, size_t stage, bt_buf *all,
                    uint64_t *spilled, size_t *runs)
{
    return run_hunt_ex(rs, ev, n, 0, stage, all, spilled, runs);
}

static void test_hunt_spill_runs(void)
{
    enum { N = 600 };
    bt_ruleset *rs;
    bt_event ev[N + 50];
    bt_buf mem = BT_BUF_INIT, file = BT_BUF_INIT;
    uint64_t spilled_mem, spilled_file;
    size_t runs_mem, runs_file;
    unsigned seed = 7;
    int i, n = 0, alerts_mem, alerts_file, denied = 0;
    const char *p, *prev_time = "";
    char *text = bt_arena_sprintf(A, "%s%s", EVERY, BURST);
    if (load(&rs, text)) {
        CHECK(!"rules load");
        return;
    }
    for (i = 0; i < N; i++) {
        unsigned sec;
        char hms[16];
        seed = seed * 1103515245u + 12345u;
        sec = (seed >> 8) % 3600; /* any order within the hour */
        snprintf(hms, sizeof hms, "10:%02u:%02u", sec / 60, sec % 60);
        ev[n++] = ev_of(call(hms, "203.0.113.5", i + 1, i % 7 == 0 ? "AccessDenied" : NULL));
        denied += i % 7 == 0;
        if (i % 13 == 0) { /* delivered twice */
            ev[n] = ev[n - 1];
            n++;
        }
    }
    alerts_mem = run_hunt(rs, ev, n, 0, &mem, &spilled_mem, &runs_mem);
    alerts_file = run_hunt(rs, ev, n, 2048, &file, &spilled_file, &runs_file);
    CHECK(spilled_mem == 0 && runs_mem == 0);
    CHECK(runs_file > 50 && spilled_file > 300000); /* the records, once each */
    CHECK(alerts_mem > N);                          /* one per event, and the bursts */
    CHECK_INT(alerts_file, alerts_mem);
    CHECK(mem.len == file.len && memcmp(mem.data, file.data, mem.len) == 0);
    /* time order (the times are one format: they sort as text) */
    for (i = 0, p = mem.data; p && (p = strstr(p, "\"event_time\":\"")); i++) {
        p += 14;
        CHECK(strncmp(prev_time, p, 20) <= 0);
        prev_time = p;
    }
    CHECK_INT(i, alerts_mem);
    CHECK(denied > 3);
    bt_buf_dispose(&mem);
    bt_buf_dispose(&file);
    bt_rules_free(rs);
}

/* Records handed over unparsed (a store read under raw_only): a record the rules' pre-filter
 * passes over still teaches the tracker the session's address, so the next call from a
 * new address is from an unknown one. */
static const char NEW_ADDRESS[] =
    "title: denied from a new address\nid: r-new\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  s:\n    errorCode: AccessDenied\n  new:\n    buildtrail.source_ip_known: "
    "'false'\n"
    "  condition: s and new\nlevel: high\n";

static void test_hunt_unparsed_learns(void)
{
    bt_ruleset *rs;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf out = BT_BUF_INIT;
    bt_event c[3];
    uint64_t seen, parsed;
    int i;
    c[0] = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));          /* not past the pre-filter */
    c[1] = ev_of(call("10:02:00", "192.0.2.66", 2, "AccessDenied")); /* a new address */
    c[2] = ev_of(call("10:03:00", "192.0.2.66", 3, "AccessDenied")); /* known by now */
    if (load(&rs, NEW_ADDRESS)) {
        CHECK(!"rule loads");
        return;
    }
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    for (i = 0; i < 3; i++)
        CHECK_INT(bt_hunt_unparsed(h, c[i].raw, c[i].raw_len, BT_KIND_API, &err), 0);
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    bt_hunt_stats(h, &seen, &parsed);
    CHECK_INT(seen, 3);
    CHECK_INT(parsed, 2); /* the pre-filter kept the first from the rules */
    CHECK_INT(bt_hunt_count(h), 1);
    if (bt_hunt_count(h) == 1) {
        CHECK_INT(bt_hunt_alert_at(h, 0, &out), 0);
        CHECK(strstr(out.data, "\"event_id\":\"c0000000-0000-4000-8000-000000000002\"") != NULL);
        CHECK(strstr(out.data, "\"build_id\":\"web:" UUID "\"") != NULL);
        CHECK(memmem(out.data, out.len, c[1].raw, c[1].raw_len) != NULL);
    }
    bt_buf_dispose(&out);
    bt_hunt_free(h);
    bt_rules_free(rs);
}

/* Ordered input handed over as alerts become final (on_alert): the same alerts, in the
 * same order, as the kept ones, with a correlation decided when its window closes (one
 * group per denial, closed 10 minutes later by the sweep: its alert carries a time 10
 * minutes older than the event that closes it) and with a stage too small for what must
 * wait (the rest then comes at the end). */
static const char QUIET[] =
    "title: few denials\nid: r-quiet\ncorrelation:\n  type: event_count\n  rules: [denied]\n"
    "  group-by: [eventID]\n  timespan: 10m\n  condition: {lte: 100}\nlevel: low\n";

typedef struct streamed {
    bt_buf all;
    size_t n, before_finish;
    int finishing;
} streamed;

static int on_streamed(void *ctx, const char *json, size_t len)
{
    streamed *x = ctx;
    bt_buf_append(&x->all, json, len);
    bt_buf_putc(&x->all, '\n');
    x->n++;
    x->before_finish += !x->finishing;
    return 0;
}

static void stream_run(bt_ruleset *rs, const bt_event *ev, int n, size_t stage, streamed *x,
                       uint64_t *spilled)
{
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf one = BT_BUF_INIT;
    size_t runs;
    int k;
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    o.stage_cap = stage;
    o.on_alert = on_streamed;
    o.alert_ctx = x;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    if (!h)
        return;
    for (k = 0; k < n; k++)
        CHECK_INT(bt_hunt_event(h, &ev[k], &err), 0);
    x->finishing = 1;
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    CHECK_INT(bt_hunt_count(h), x->n);
    CHECK_INT(bt_hunt_alert_at(h, 0, &one), BT_EINVAL); /* handed over, not kept */
    bt_hunt_spill_stats(h, spilled, &runs);
    bt_buf_dispose(&one);
    bt_hunt_free(h);
}

static void test_hunt_streaming(void)
{
    enum { N = 600 };
    bt_ruleset *rs;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_event ev[N];
    bt_buf kept = BT_BUF_INIT, one = BT_BUF_INIT;
    streamed big, small;
    uint64_t spilled_big, spilled_small;
    size_t i;
    char *text = bt_arena_sprintf(A, "%s%s---\n%s", EVERY, BURST, QUIET);
    if (load(&rs, text)) {
        CHECK(!"rules load");
        return;
    }
    for (i = 0; i < N; i++) { /* every 5 s, a denial every 15 s: bursts, and quiet windows */
        char hms[16];
        unsigned sec = (unsigned)i * 5;
        snprintf(hms, sizeof hms, "%02u:%02u:%02u", 10 + sec / 3600, sec / 60 % 60, sec % 60);
        ev[i] = ev_of(call(hms, "203.0.113.5", (int)i + 1, i % 3 == 0 ? "AccessDenied" : NULL));
    }
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    for (i = 0; h && i < N; i++)
        CHECK_INT(bt_hunt_event(h, &ev[i], &err), 0);
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    for (i = 0; h && i < bt_hunt_count(h); i++) {
        CHECK_INT(bt_hunt_alert_at(h, i, &one), 0);
        bt_buf_append(&kept, one.data, one.len);
        bt_buf_putc(&kept, '\n');
    }
    CHECK(h && bt_hunt_count(h) > N);
    CHECK(strstr(kept.data, "\"rule_id\":\"r-quiet\"") != NULL);
    CHECK(strstr(kept.data, "\"rule_id\":\"r-burst\"") != NULL);
    memset(&big, 0, sizeof big);
    memset(&small, 0, sizeof small);
    stream_run(rs, ev, N, 0, &big, &spilled_big);
    stream_run(rs, ev, N, 512, &small, &spilled_small); /* less than one alert */
    CHECK_INT(big.n, bt_hunt_count(h));
    CHECK(big.all.len == kept.len && memcmp(big.all.data, kept.data, kept.len) == 0);
    CHECK(big.before_finish > N / 2); /* most went out during the hunt */
    CHECK(spilled_big == 0);
    CHECK_INT(small.n, bt_hunt_count(h));
    CHECK(small.all.len == kept.len && memcmp(small.all.data, kept.data, kept.len) == 0);
    CHECK(spilled_small > 0 && small.before_finish > 0 && small.before_finish < small.n);
    bt_buf_dispose(&kept);
    bt_buf_dispose(&one);
    bt_buf_dispose(&big.all);
    bt_buf_dispose(&small.all);
    bt_hunt_free(h);
    bt_rules_free(rs);
}

/* bt_hunt_feed on a second thread: the same alerts as bt_hunt_unparsed on one, kept or
 * handed over, with or without the records' event names; a consumer that stops the hunt
 * stops the feeding with BT_ESTOP. */
static int stop_after_3(void *ctx, const char *json, size_t len)
{
    int *n = ctx;
    (void)json;
    (void)len;
    return ++*n >= 3;
}

/* mode 0: bt_hunt_unparsed; 1: bt_hunt_feed on the hunt's thread; 2: the same with the
 * events' names; 3: bt_hunt_feed with names, not started (the calling thread). */
static void feed_all(bt_ruleset *rs, const bt_event *ev, int n, int mode, bt_buf *out)
{
    int threaded = mode == 1 || mode == 2;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf one = BT_BUF_INIT;
    size_t i;
    int k;
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    if (!h)
        return;
    if (threaded)
        CHECK_INT(bt_hunt_feed_start(h), 0);
    for (k = 0; k < n; k++)
        CHECK_INT(mode ? bt_hunt_feed(h, ev[k].raw, ev[k].raw_len, BT_KIND_API,
                                      mode >= 2 ? ev[k].event_name : NULL, &err)
                       : bt_hunt_unparsed(h, ev[k].raw, ev[k].raw_len, BT_KIND_API, &err),
                  0);
    CHECK_INT(bt_hunt_feed_end(h, &err), 0);
    CHECK_INT(bt_hunt_finish(h, &err), 0);
    for (i = 0; i < bt_hunt_count(h); i++) {
        CHECK_INT(bt_hunt_alert_at(h, i, &one), 0);
        bt_buf_append(out, one.data, one.len);
        bt_buf_putc(out, '\n');
    }
    bt_buf_dispose(&one);
    bt_hunt_free(h);
}

static void test_hunt_feed_thread(void)
{
    enum { N = 16000 }; /* 9 MB: more batches of 1 MiB than the queue holds (feed_help) */
    bt_ruleset *rs;
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    static bt_event ev[N];
    bt_buf one = BT_BUF_INIT, two = BT_BUF_INIT, named = BT_BUF_INIT, here = BT_BUF_INIT;
    uint64_t seen = 0, parsed = 0;
    int i, handed = 0, rc = 0;
    char *text = bt_arena_sprintf(A, "%s%s---\n%s", EVERY, BURST, QUIET);
    if (load(&rs, text)) {
        CHECK(!"rules load");
        return;
    }
    for (i = 0; i < N; i++) {
        char hms[16];
        unsigned sec = (unsigned)i;
        snprintf(hms, sizeof hms, "%02u:%02u:%02u", 10 + sec / 3600, sec / 60 % 60, sec % 60);
        ev[i] = ev_of(call(hms, i % 2 ? "203.0.113.5" : "192.0.2.66", i + 1,
                           i % 3 == 0 ? "AccessDenied" : NULL));
    }
    feed_all(rs, ev, N, 0, &one);
    feed_all(rs, ev, N, 1, &two);
    feed_all(rs, ev, N, 2, &named);
    feed_all(rs, ev, N, 3, &here);
    CHECK(one.len > (size_t)N * 500);
    CHECK(one.len == two.len && memcmp(one.data, two.data, one.len) == 0);
    CHECK(one.len == named.len && memcmp(one.data, named.data, one.len) == 0);
    CHECK(one.len == here.len && memcmp(one.data, here.data, one.len) == 0);
    /* a name given is the one the pre-filter tests: the record's own eventName
     * (GetCallerIdentity, which r-every names) is not looked for */
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    CHECK_INT(bt_hunt_feed(h, ev[1].raw, ev[1].raw_len, BT_KIND_API, "GetObject", &err), 0);
    bt_hunt_stats(h, &seen, &parsed);
    CHECK(seen == 1 && parsed == 0);
    CHECK_INT(bt_hunt_feed(h, ev[1].raw, ev[1].raw_len, BT_KIND_API, "getcalleridentity", &err), 0);
    CHECK_INT(bt_hunt_feed(h, ev[1].raw, ev[1].raw_len, BT_KIND_API, NULL, &err), 0);
    bt_hunt_stats(h, &seen, &parsed);
    CHECK(seen == 3 && parsed == 2);
    bt_hunt_free(h);
    /* a consumer that stops: the feeding learns it, the end reports it */
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    o.on_alert = stop_after_3;
    o.alert_ctx = &handed;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    CHECK_INT(bt_hunt_feed_start(h), 0);
    CHECK_INT(bt_hunt_feed_start(h), BT_EINVAL);
    for (i = 0; i < N && !rc; i++)
        rc = bt_hunt_feed(h, ev[i].raw, ev[i].raw_len, BT_KIND_API, NULL, &err);
    if (!rc)
        rc = bt_hunt_feed_end(h, &err);
    else
        CHECK_INT(bt_hunt_feed_end(h, NULL), BT_ESTOP);
    CHECK_INT(rc, BT_ESTOP);
    CHECK(strstr(err.msg, "stopped") != NULL);
    CHECK_INT(handed, 3);
    bt_hunt_free(h);
    /* freed while feeding: the thread is stopped and joined */
    memset(&o, 0, sizeof o);
    o.ordered = 1;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    CHECK_INT(bt_hunt_feed_start(h), 0);
    for (i = 0; i < N / 2; i++)
        CHECK_INT(bt_hunt_feed(h, ev[i].raw, ev[i].raw_len, BT_KIND_API, ev[i].event_name, &err),
                  0);
    bt_hunt_free(h);
    bt_buf_dispose(&one);
    bt_buf_dispose(&two);
    bt_buf_dispose(&named);
    bt_buf_dispose(&here);
    bt_rules_free(rs);
}

/* bt_hunt_raw_wanted: per pass, which records a scan must parse. */
static void test_raw_wanted(void)
{
    bt_ruleset *rs;
    const char *denied = "{\"errorCode\":\"AccessDenied\",\"eventSource\":\"s3.amazonaws.com\"}";
    const char *session = "{\"principalId\":\"AROA:AWSCodeBuild-" UUID "\"}";
    const char *other = "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}";
    if (load(&rs, BURST)) {
        CHECK(!"rules load");
        return;
    }
    CHECK(bt_hunt_raw_wanted(rs, BT_HUNT_PASS_EVAL, denied, strlen(denied)));
    CHECK(!bt_hunt_raw_wanted(rs, BT_HUNT_PASS_LEARN, denied, strlen(denied)));
    CHECK(bt_hunt_raw_wanted(rs, BT_HUNT_PASS_BOTH, denied, strlen(denied)));
    CHECK(!bt_hunt_raw_wanted(rs, BT_HUNT_PASS_EVAL, session, strlen(session)));
    CHECK(bt_hunt_raw_wanted(rs, BT_HUNT_PASS_LEARN, session, strlen(session)));
    CHECK(bt_hunt_raw_wanted(rs, BT_HUNT_PASS_BOTH, session, strlen(session)));
    CHECK(!bt_hunt_raw_wanted(rs, BT_HUNT_PASS_EVAL, other, strlen(other)));
    CHECK(!bt_hunt_raw_wanted(rs, BT_HUNT_PASS_LEARN, other, strlen(other)));
    CHECK(!bt_hunt_raw_wanted(rs, BT_HUNT_PASS_BOTH, other, strlen(other)));
    bt_rules_free(rs);
}

static void test_push_down(void)
{
    bt_ruleset *rs;
    bt_filter f;
    const char pinned[] =
        "title: a\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
        "  s:\n    eventName: [DeleteWebhook, PutResourcePolicy]\n  condition: s\n---\n"
        "title: b\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
        "  s:\n    eventName: DeleteWebhook\n    errorCode: AccessDenied\n  condition: s\n";
    bt_filter_init(&f);
    if (load(&rs, pinned) == 0) {
        CHECK_INT(bt_rules_push_down(rs, &f), 1);
        CHECK_INT(f.nvalues[BT_F_EVENT_NAME], 2);
    }
    bt_rules_free(rs);
    bt_filter_init(&f);
    if (load(&rs, STOLEN) == 0)
        CHECK_INT(bt_rules_push_down(rs, &f), 0); /* a rule reads every event */
    CHECK_INT(f.nvalues[BT_F_EVENT_NAME], 0);
    bt_rules_free(rs);
}

static void test_builtin_pack(void)
{
    bt_ruleset *rs = NULL;
    bt_error err = BT_ERROR_INIT;
    const char *args[] = {"builtin"};
    char dir[4096];
    setenv("BUILDTRAIL_RULES_DIR", bt_t_source("rules"), 1);
    CHECK_INT(bt_rules_builtin_dir(dir, sizeof dir, &err), 0);
    CHECK_INT(bt_rules_load_args(args, 1, &rs, &err), 0);
    CHECK_INT(bt_rules_count(rs), 9); /* 8 rules, one with its building block */
    bt_rules_free(rs);
    setenv("BUILDTRAIL_RULES_DIR", "/nonexistent/rules", 1);
    CHECK_INT(bt_rules_builtin_dir(dir, sizeof dir, &err), BT_ENOTFOUND);
    unsetenv("BUILDTRAIL_RULES_DIR");
}

/* A one-pass unordered hunt as `hunt --from` runs it (bt_hunt_opts.defer): each event
 * through bt_hunt_inspect, those it leaves to the batch through bt_hunt_defer, the notes
 * taken in; the alerts, one per line, into all. */
static size_t run_defer(bt_ruleset *rs, const bt_event *ev, int n, int threads, bt_buf *all)
{
    bt_hunt *h;
    bt_hunt_opts o;
    bt_error err = BT_ERROR_INIT;
    bt_buf note = BT_BUF_INIT;
    bt_arena *scratch = bt_arena_new(1 << 16, 0);
    size_t count;
    int k, rc;
    memset(&o, 0, sizeof o);
    o.defer = 1;
    o.threads = threads;
    CHECK_INT(bt_hunt_new(rs, &o, &h), 0);
    if (!h || !scratch)
        return 0;
    for (k = 0; k < n; k++) {
        bt_buf_clear(&note);
        rc = bt_hunt_inspect(h, &ev[k], NULL, scratch, &note);
        CHECK(rc == 0 || rc == 1);
        /* what the tracker may learn from goes to the batch, the rest is evaluated */
        CHECK_INT(rc == 0, bt_build_tracker_may_want(ev[k].raw, ev[k].raw_len));
        if (rc == 0)
            CHECK_INT(bt_hunt_defer(h, &ev[k], &err), 0);
        CHECK_INT(bt_hunt_note(h, note.data, note.len, &err), 0);
    }
    count = finish_alerts(h, all);
    bt_buf_dispose(&note);
    bt_arena_free(scratch);
    bt_hunt_free(h);
    return count;
}

/* The reference: an ordered hunt over the events in time (then id) order. */
static int by_time(const void *a, const void *b)
{
    const bt_event *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return strcmp(x->event_id, y->event_id);
}

static size_t run_ordered(bt_ruleset *rs, bt_event *ev, int n, bt_buf *all)
{
    qsort(ev, (size_t)n, sizeof *ev, by_time);
    return (size_t)run_hunt_ex(rs, ev, n, 1, 0, all, NULL, NULL);
}

/* One pass over unordered input: a build's calls met before its start and its end still
 * get the build's lifecycle (the records are held until the end), as an ordered hunt
 * gives them; with more held records than one thread takes (2,048), on several threads,
 * the same alerts in the same order, correlations included. */
static void test_hunt_defer(void)
{
    enum { N = 3000 };
    bt_ruleset *rs;
    bt_event few[6], *many = calloc(N + 2, sizeof *many);
    bt_buf a = BT_BUF_INIT, b = BT_BUF_INIT;
    unsigned seed = 11;
    size_t na, nb;
    int i;
    char *text = bt_arena_sprintf(A, "%s---\n%s", STOLEN, BURST);
    if (!many || load(&rs, text)) {
        CHECK(!"rules load");
        free(many);
        return;
    }
    /* worst order: the calls first, newest first, then the end, then the start */
    few[0] = ev_of(call("10:30:00", "203.0.113.5", 4, NULL)); /* 20 min after the end */
    few[1] = ev_of(call("10:12:00", "203.0.113.5", 3, NULL)); /* within the grace */
    few[2] = ev_of(call("10:05:00", "192.0.2.66", 2, NULL));  /* a new address */
    few[3] = ev_of(call("10:01:00", "203.0.113.5", 1, NULL));
    few[4] = ev_of(ended());
    few[5] = ev_of(start_build());
    na = run_defer(rs, few, 6, 0, &a);
    nb = run_ordered(rs, few, 6, &b);
    CHECK_INT(na, 2);
    CHECK_INT(nb, 2);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    CHECK(strstr(a.data, "\"build_id\":\"web:" UUID "\"") != NULL);
    CHECK(strstr(a.data, "c0000000-0000-4000-8000-000000000004") != NULL);
    bt_buf_clear(&a);
    bt_buf_clear(&b);
    /* many calls, any order in the hour, some denied (the burst), from two addresses */
    for (i = 0; i < N; i++) {
        unsigned sec;
        char hms[16];
        seed = seed * 1103515245u + 12345u;
        sec = (seed >> 8) % 3600;
        snprintf(hms, sizeof hms, "10:%02u:%02u", sec / 60, sec % 60);
        many[i] = ev_of(call(hms, (seed >> 4) % 5 ? "203.0.113.5" : "192.0.2.66", i + 1,
                             (seed >> 6) % 4 == 0 ? "AccessDenied" : NULL));
    }
    many[N] = ev_of(ended());
    many[N + 1] = ev_of(start_build());
    na = run_defer(rs, many, N + 2, 3, &a); /* three workers */
    nb = run_ordered(rs, many, N + 2, &b);
    CHECK(na > 1000); /* after the end, from the new address, and bursts */
    CHECK_INT(na, nb);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    bt_buf_clear(&a);
    na = run_defer(rs, many, N + 2, 1, &a); /* the calling thread alone */
    CHECK_INT(na, nb);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    CHECK(strstr(a.data, "\"rule_id\":\"r-burst\"") != NULL);
    bt_buf_dispose(&a);
    bt_buf_dispose(&b);
    bt_rules_free(rs);
    free(many);
}

static void setup(void)
{
    A = bt_arena_new(1 << 16, 0);
}

BT_TEST_MAIN(setup, test_build_of_event, test_project_guess_without_lifecycle, test_state_after_end,
             test_source_ip_known, test_source_ip_many, test_cap_and_summary, test_hunt_alerts,
             test_hunt_unordered_correlation, test_hunt_spill_runs, test_hunt_unparsed_learns,
             test_hunt_streaming, test_hunt_feed_thread, test_hunt_defer, test_raw_wanted,
             test_push_down, test_builtin_pack)
