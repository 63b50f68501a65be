/* test_codebuild.c - unit tests for the CodeBuild policy (event names, facts, the merge
 * of facts into one row per build, inferences) and for builds listed from a store:
 * facts computed in a pack equal those computed alone, and every condition of
 * bt_store_builds_find. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/builds.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/store.h"
#include "tharness.h"

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"
#define U3 "33333333-3333-4333-8333-333333333333"
#define U4 "44444444-4444-4444-8444-444444444444"
#define U5 "55555555-5555-4555-8555-555555555555"
#define ALICE "arn:aws:iam::111122223333:user/alice"
#define BOB "arn:aws:iam::111122223333:user/bob"

/* ---- records ---- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* an API call on codebuild: caller arn, extra request members (",..." or ""), response */
static char *api(const char *eid, const char *t, const char *name, const char *acct,
                 const char *region, const char *arn, const char *req, const char *resp,
                 const char *extra)
{
    return fmt("{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"%s\","
               "\"accountId\":\"%s\"},\"eventTime\":\"%s\",\"eventSource\":"
               "\"codebuild.amazonaws.com\",\"eventName\":\"%s\",\"awsRegion\":\"%s\","
               "\"requestParameters\":{%s},\"responseElements\":%s,\"eventID\":\"%s\","
               "\"readOnly\":false,\"recipientAccountId\":\"%s\"%s}",
               arn, acct, t, name, region, req, resp, eid, acct, extra);
}

static char *start(const char *eid, const char *t, const char *proj, const char *uuid,
                   const char *acct, const char *region, const char *arn, const char *extra)
{
    char *resp = fmt("{\"build\":{\"id\":\"%s:%s\",\"buildNumber\":7}}", proj, uuid);
    char *req = fmt("\"projectName\":\"%s\",\"environmentVariablesOverride\":[],"
                    "\"buildspecOverride\":\"x\"",
                    proj);
    char *r = api(eid, t, "StartBuild", acct, region, arn, req, resp, extra);
    free(resp);
    free(req);
    return r;
}

static char *retry(const char *eid, const char *t, const char *proj, const char *uuid,
                   const char *of, const char *arn)
{
    char *resp = fmt("{\"build\":{\"id\":\"%s:%s\"}}", proj, uuid);
    char *req = fmt("\"id\":\"%s:%s\"", proj, of);
    char *r = api(eid, t, "RetryBuild", "111122223333", "us-east-1", arn, req, resp, "");
    free(resp);
    free(req);
    return r;
}

static char *stop(const char *eid, const char *t, const char *proj, const char *uuid,
                  const char *arn)
{
    char *req = fmt("\"id\":\"%s:%s\"", proj, uuid);
    char *r = api(eid, t, "StopBuild", "111122223333", "us-east-1", arn, req, "null", "");
    free(req);
    return r;
}

static char *state(const char *id, const char *t, const char *proj, const char *uuid,
                   const char *acct, const char *region, const char *status, const char *init)
{
    return fmt("{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"CodeBuild Build State Change\","
               "\"source\":\"aws.codebuild\",\"account\":\"%s\",\"time\":\"%s\",\"region\":\"%s\","
               "\"detail\":{\"build-status\":\"%s\",\"project-name\":\"%s\",\"build-id\":"
               "\"arn:aws:codebuild:%s:%s:build/%s:%s\",\"additional-information\":"
               "{\"initiator\":\"%s\"}}}",
               id, acct, t, region, status, proj, region, acct, proj, uuid, init);
}

/* a call made by the build's role session */
/* A CreateProject / UpdateProject record of project proj with service role role. */
static char *fmt_project(const char *eid, const char *t, const char *name, const char *proj,
                         const char *role, const char *extra)
{
    char *req = fmt("\"name\":\"%s\",\"serviceRole\":\"%s\"", proj, role);
    char *r = api(eid, t, name, "111122223333", "us-east-1", ALICE, req, "null", extra);
    free(req);
    return r;
}

static char *session(const char *eid, const char *t, const char *role, const char *uuid,
                     const char *acct, const char *region, int failed)
{
    return fmt("{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
               "\"principalId\":\"AROAX:AWSCodeBuild-%s\",\"arn\":\"arn:aws:sts::%s:"
               "assumed-role/%s/AWSCodeBuild-%s\",\"accountId\":\"%s\"},\"eventTime\":\"%s\","
               "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
               "\"awsRegion\":\"%s\",%s\"eventID\":\"%s\",\"readOnly\":false}",
               uuid, acct, role, uuid, acct, t, region,
               failed ? "\"errorCode\":\"AccessDenied\"," : "", eid);
}

static int to_event(bt_arena *a, const char *text, bt_event *ev)
{
    bt_json *j;
    bt_error err = BT_ERROR_INIT;
    if (bt_json_parse(a, text, strlen(text), NULL, &j, &err))
        return -1;
    if (bt_json_get(j, "detail-type"))
        return bt_event_from_build_status(a, j, ev, &err);
    return bt_event_from_record(a, j, ev, &err);
}

/* ---- the pure policy ---- */

static void test_names(void)
{
    size_t n, i, changes = 0;
    const bt_codebuild_event *t = bt_codebuild_events(&n);
    for (i = 0; i < n; i++)
        changes += (t[i].flags & BT_CB_PROJECT_CHANGE) != 0;
    CHECK_INT(changes, 12);
    CHECK_STR(t[0].name, "StartBuild");
    CHECK(bt_codebuild_event_is("StopBuildBatch", BT_CB_STOP));
    CHECK(bt_codebuild_event_is("BatchGetBuilds", BT_CB_LIFECYCLE));
    CHECK(!bt_codebuild_event_is("BatchGetBuilds", BT_CB_FACTS));
    CHECK(bt_codebuild_event_is("UpdateProject", BT_CB_PROJECT_DEFINITION));
    CHECK(bt_codebuild_event_is("ImportSourceCredentials", BT_CB_CREDENTIALS));
    CHECK(!bt_codebuild_event_is("ListProjects", ~0u));
    CHECK_INT(bt_codebuild_event_flags(NULL), 0);
    /* enum <-> the strings of the public JSON */
    CHECK_STR(bt_build_trigger_name(BT_TRIGGER_WEBHOOK), "webhook");
    CHECK_INT(bt_build_trigger_parse("batch"), BT_TRIGGER_BATCH);
    CHECK_INT(bt_build_trigger_parse("Batch"), BT_TRIGGER_NONE);
    CHECK(bt_build_trigger_name(BT_TRIGGER_NONE) == NULL);
    CHECK_STR(bt_build_status_name(BT_STATUS_TIMED_OUT), "TIMED_OUT");
    CHECK_INT(bt_build_status_parse("IN_PROGRESS"), BT_STATUS_IN_PROGRESS);
    CHECK_INT(bt_build_status_parse(NULL), BT_STATUS_UNKNOWN);
    CHECK_STR(bt_build_status_source_name(BT_SOURCE_STOPBUILD), "stopbuild");
    CHECK_INT(bt_build_status_source_parse("batchgetbuilds"), BT_SOURCE_BATCHGETBUILDS);
}

static bt_build_facts fact(bt_build_fact_kind kind, int64_t t, bt_build_status st, const char *arn)
{
    bt_build_facts f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.uuid = U1;
    f.build_id = "p1:" U1;
    f.project = "p1";
    f.number = -1;
    f.status = st;
    f.time_ms = t;
    f.principal_arn = arn;
    f.account = "111122223333";
    f.region = "us-east-1";
    return f;
}

static void test_merge(void)
{
    bt_build_row r;
    bt_build_facts f;

    /* a final EventBridge state beats a stop, whatever the order */
    bt_build_row_init(&r);
    f = fact(BT_BF_STOP, 100, BT_STATUS_STOPPED, BOB);
    bt_build_merge(&r, &f);
    CHECK_INT(r.status, BT_STATUS_STOPPED);
    CHECK_INT(r.status_source, BT_SOURCE_STOPBUILD);
    CHECK_INT(r.end_ms, 100);
    f = fact(BT_BF_STATE, 90, BT_STATUS_FAILED, NULL);
    bt_build_merge(&r, &f);
    CHECK_INT(r.status, BT_STATUS_FAILED);
    CHECK_INT(r.status_source, BT_SOURCE_EVENTBRIDGE);
    CHECK_INT(r.end_ms, 90);
    f = fact(BT_BF_STOP, 120, BT_STATUS_STOPPED, ALICE);
    bt_build_merge(&r, &f);
    CHECK_INT(r.status, BT_STATUS_FAILED);
    /* the earliest stop is the one that stopped it */
    CHECK_INT(r.stop_ms, 100);
    CHECK_STR(r.stop_principal, BOB);
    f = fact(BT_BF_STOP, 50, BT_STATUS_STOPPED, ALICE);
    bt_build_merge(&r, &f);
    CHECK_INT(r.stop_ms, 50);
    CHECK_STR(r.stop_principal, ALICE);
    /* IN_PROGRESS never hides a stop */
    bt_build_row_init(&r);
    f = fact(BT_BF_STOP, 100, BT_STATUS_STOPPED, BOB);
    bt_build_merge(&r, &f);
    f = fact(BT_BF_STATE, 200, BT_STATUS_IN_PROGRESS, NULL);
    bt_build_merge(&r, &f);
    CHECK_INT(r.status, BT_STATUS_STOPPED);
    CHECK_INT(bt_build_status_rank(BT_STATUS_IN_PROGRESS, BT_SOURCE_EVENTBRIDGE), 1);
    CHECK_INT(bt_build_status_rank(BT_STATUS_SUCCEEDED, BT_SOURCE_BATCHGETBUILDS), 2);
    CHECK_INT(bt_build_status_rank(BT_STATUS_UNKNOWN, BT_SOURCE_EVENTBRIDGE), 0);

    /* the StartBuild record is authoritative for start and trigger; others fill gaps */
    bt_build_row_init(&r);
    f = fact(BT_BF_STATE, 5000, BT_STATUS_IN_PROGRESS, NULL);
    f.start_ms = 4000;
    f.trigger = BT_TRIGGER_WEBHOOK;
    f.initiator = "GitHub-Hookshot/abc";
    bt_build_merge(&r, &f);
    CHECK_INT(r.start_ms, 4000);
    CHECK_INT(r.trigger, BT_TRIGGER_WEBHOOK);
    f = fact(BT_BF_START, 3900, BT_STATUS_UNKNOWN, ALICE);
    f.trigger = BT_TRIGGER_USER;
    f.number = 7;
    f.initiator = "alice";
    f.overrides = "buildspecOverride";
    bt_build_merge(&r, &f);
    CHECK_INT(r.start_ms, 3900);
    CHECK_INT(r.trigger, BT_TRIGGER_USER);
    CHECK_STR(r.trigger_principal, ALICE);
    CHECK_STR(r.initiator, "alice");
    CHECK_INT(r.number, 7);
    CHECK_INT(r.status, BT_STATUS_IN_PROGRESS);
    f = fact(BT_BF_STATE, 9000, BT_STATUS_SUCCEEDED, NULL);
    f.start_ms = 4000;
    f.trigger = BT_TRIGGER_WEBHOOK;
    f.initiator = "GitHub-Hookshot/abc";
    bt_build_merge(&r, &f);
    CHECK_INT(r.start_ms, 3900);
    CHECK_INT(r.trigger, BT_TRIGGER_USER);
    CHECK_STR(r.initiator, "alice");
    CHECK_INT(r.number, 7);
    CHECK_INT(r.end_ms, 9000);
    CHECK_STR(r.overrides, "buildspecOverride");
    /* nothing to merge */
    f = fact(BT_BF_NONE, 1, BT_STATUS_FAILED, NULL);
    bt_build_merge(&r, &f);
    CHECK_INT(r.status, BT_STATUS_SUCCEEDED);
    /* a batch start marks the row */
    f = fact(BT_BF_BATCH_START, 3900, BT_STATUS_UNKNOWN, ALICE);
    bt_build_merge(&r, &f);
    CHECK_INT(r.is_batch, 1);
}

static void test_facts(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_build_facts f;
    bt_event ev;
    char *rec;

    rec = start("e1", "2026-10-01T10:00:00Z", "p1", U1, "111122223333", "us-east-1", ALICE, "");
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK(bt_build_facts_possible(&ev));
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.kind, BT_BF_START);
    CHECK_STR(f.uuid, U1);
    CHECK_INT(f.number, 7);
    CHECK_INT(f.trigger, BT_TRIGGER_USER);
    CHECK_STR(f.overrides, "environmentVariablesOverride,buildspecOverride");
    CHECK_STR(f.principal_arn, ALICE);
    CHECK_INT(f.time_ms, ev.time_ms);
    free(rec);
    /* invoked by CodePipeline */
    rec = start("e2", "2026-10-01T10:00:00Z", "p1", U1, "111122223333", "us-east-1", ALICE,
                ",\"sourceIPAddress\":\"codepipeline.amazonaws.com\"");
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.trigger, BT_TRIGGER_PIPELINE);
    free(rec);
    /* a retry */
    rec = retry("e3", "2026-10-01T11:00:00Z", "p1", U4, U1, ALICE);
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.kind, BT_BF_RETRY);
    CHECK_INT(f.trigger, BT_TRIGGER_RETRY);
    CHECK_STR(f.uuid, U4);
    CHECK_STR(f.retry_of, "p1:" U1);
    free(rec);
    /* a stop */
    rec = stop("e4", "2026-10-01T11:00:00Z", "p1", U1, BOB);
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.kind, BT_BF_STOP);
    CHECK_INT(f.status, BT_STATUS_STOPPED);
    free(rec);
    /* an EventBridge state started by a webhook */
    rec = state("s1", "2026-10-01T11:00:00Z", "p1", U1, "111122223333", "us-east-1", "TIMED_OUT",
                "GitHub-Hookshot/x");
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.kind, BT_BF_STATE);
    CHECK_INT(f.status, BT_STATUS_TIMED_OUT);
    CHECK_INT(f.trigger, BT_TRIGGER_WEBHOOK);
    CHECK_STR(f.account, "111122223333");
    free(rec);
    /* a call of the build's session says nothing about its lifecycle */
    rec = session("e5", "2026-10-01T11:00:00Z", "r", U1, "111122223333", "us-east-1", 0);
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK(!bt_build_facts_possible(&ev));
    CHECK_INT(bt_build_facts_of(a, &ev, &f), 0);
    CHECK_INT(f.kind, BT_BF_NONE);
    free(rec);
    bt_arena_free(a);
}

static void test_infer(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_build_roles *m = bt_build_roles_new();
    bt_build b;
    bt_event ev;
    char *rec;

    memset(&b, 0, sizeof b);
    snprintf(b.uuid, sizeof b.uuid, "%s", U3);
    b.project = "p1";
    b.first_call_ms = 1234;
    CHECK_INT(bt_build_infer(a, &b), 0);
    CHECK_STR(b.trigger_type, "webhook");
    CHECK_INT(b.trigger, BT_TRIGGER_WEBHOOK);
    CHECK_INT(b.trigger_inferred, 1);
    CHECK_STR(b.build_id, "p1:" U3);
    CHECK_INT(b.start_ms, 1234);
    /* a known trigger without its caller is kept, but inferred */
    memset(&b, 0, sizeof b);
    b.trigger = BT_TRIGGER_PIPELINE;
    b.trigger_type = "pipeline";
    CHECK_INT(bt_build_infer(a, &b), 0);
    CHECK_STR(b.trigger_type, "pipeline");
    CHECK_INT(b.trigger_inferred, 1);
    b.trigger_principal = ALICE;
    b.trigger_inferred = 0;
    CHECK_INT(bt_build_infer(a, &b), 0);
    CHECK_INT(b.trigger_inferred, 0);

    /* project from the role: learned from CreateProject, else the console's naming */
    CHECK_STR(bt_build_project_from_role(NULL, a,
                                         "arn:aws:sts::1:assumed-role/codebuild-web-api-service-"
                                         "role/AWSCodeBuild-" U1),
              "web-api");
    CHECK(bt_build_project_from_role(
              NULL, a, "arn:aws:sts::1:assumed-role/deployer/AWSCodeBuild-" U1) == NULL);
    CHECK(bt_build_project_from_role(NULL, a, ALICE) == NULL);
    rec = api(
        "c1", "2026-10-01T09:00:00Z", "CreateProject", "111122223333", "us-east-1", ALICE,
        "\"name\":\"p2\",\"serviceRole\":\"arn:aws:iam::111122223333:role/service-role/deployer\"",
        "null", "");
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK(m != NULL);
    CHECK_INT(bt_build_roles_learn(m, &ev), 0);
    free(rec);
    rec = api("c2", "2026-10-01T09:30:00Z", "UpdateProject", "111122223333", "us-east-1", ALICE,
              "\"name\":\"p3\",\"serviceRole\":\"deployer\"", "null", "");
    CHECK_INT(to_event(a, rec, &ev), 0);
    CHECK_INT(bt_build_roles_learn(m, &ev), 0);
    free(rec);
    CHECK_STR(
        bt_build_project_from_role(m, a, "arn:aws:sts::1:assumed-role/deployer/AWSCodeBuild-" U1),
        "p3");
    CHECK_STR(bt_build_project_from_role(m, a,
                                         "arn:aws:sts::1:assumed-role/codebuild-x-service-role/"
                                         "AWSCodeBuild-" U1),
              "x");
    bt_build_roles_free(m);
    bt_arena_free(a);
}

/* ---- a store of four builds ---- */

/*
 * U1: p1, 111122223333 / us-east-1, started by alice 10:00, SUCCEEDED, 2 calls
 * U2: p2, 444455556666 / eu-west-1, started by CodePipeline 11:00, FAILED, 1 failed call
 * U3: no record but its session's calls (role codebuild-p1-service-role) 12:00: webhook, p1
 * U4: p1, retry of U1 by bob 13:00, no outcome
 */
static char **records(size_t *n)
{
    static char *v[16];
    size_t k = 0;
    v[k++] = start("a1", "2026-10-01T10:00:00Z", "p1", U1, "111122223333", "us-east-1", ALICE, "");
    v[k++] = session("a2", "2026-10-01T10:01:00Z", "codebuild-p1-service-role", U1, "111122223333",
                     "us-east-1", 0);
    v[k++] = session("a3", "2026-10-01T10:02:00Z", "codebuild-p1-service-role", U1, "111122223333",
                     "us-east-1", 0);
    v[k++] = state("s1", "2026-10-01T10:05:00Z", "p1", U1, "111122223333", "us-east-1", "SUCCEEDED",
                   "alice");
    v[k++] = start("b1", "2026-10-01T11:00:00Z", "p2", U2, "444455556666", "eu-west-1",
                   "arn:aws:iam::444455556666:role/pipe",
                   ",\"sourceIPAddress\":\"codepipeline.amazonaws.com\"");
    v[k++] = session("b2", "2026-10-01T11:01:00Z", "codebuild-p2-service-role", U2, "444455556666",
                     "eu-west-1", 1);
    v[k++] = state("s2", "2026-10-01T11:05:00Z", "p2", U2, "444455556666", "eu-west-1", "FAILED",
                   "codepipeline/deploy");
    v[k++] = session("c1", "2026-10-01T12:00:00Z", "codebuild-p1-service-role", U3, "111122223333",
                     "us-east-1", 0);
    v[k++] = retry("d1", "2026-10-01T13:00:00Z", "p1", U4, U1, BOB);
    *n = k;
    return v;
}

static void free_records(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(v[i]);
}

typedef struct seen {
    bt_arena *a;
    bt_buf json;
    int n;
    char uuids[16][37];
    char retried_as[37]; /* of the first */
} seen;

static int on_build(void *ctx, const bt_build *b)
{
    seen *s = ctx;
    bt_json *j = bt_build_to_json(s->a, b);
    if (s->n < 16)
        snprintf(s->uuids[s->n], 37, "%s", b->uuid);
    if (!s->n)
        snprintf(s->retried_as, sizeof s->retried_as, "%s", b->retried_as);
    s->n++;
    if (j)
        bt_json_write(&s->json, j, 0);
    bt_buf_putc(&s->json, '\n');
    return 0;
}

static bt_store *fill(const char *path, int packed)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_event ev[16];
    size_t n, i;
    char **v = records(&n);
    uint64_t added = 0, dups = 0;
    int is_new;

    unlink(path);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < n; i++)
        CHECK_INT(to_event(a, v[i], &ev[i]), 0);
    if (packed) {
        bt_store_pack *p = NULL;
        CHECK_INT(bt_store_pack_new(NULL, ev, n, &p, &err), 0);
        CHECK_INT(bt_store_add_packed(s, ev, n, p, &added, &dups, &err), 0);
        CHECK_INT(added, n);
        bt_store_pack_free(p);
    } else {
        for (i = 0; i < n; i++)
            CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    free_records(v, n);
    bt_arena_free(a);
    return s;
}

static const char *list(bt_store *s, const bt_build_query *q, seen *out)
{
    bt_error err = BT_ERROR_INIT;
    bt_buf_clear(&out->json);
    out->n = 0;
    CHECK_INT(bt_store_builds_find(s, q, on_build, out, &err), 0);
    return out->json.data ? out->json.data : "";
}

static void test_pack_facts(void)
{
    char p1[128], p2[128];
    bt_store *a, *b;
    bt_build_query q;
    seen x = {0}, y = {0};

    x.a = bt_arena_new(0, 0);
    y.a = bt_arena_new(0, 0);
    snprintf(p1, sizeof p1, "/tmp/bt-test-codebuild-%d-a.db", (int)getpid());
    snprintf(p2, sizeof p2, "/tmp/bt-test-codebuild-%d-b.db", (int)getpid());
    a = fill(p1, 0);
    b = fill(p2, 1);
    bt_build_query_init(&q);
    list(a, &q, &x);
    list(b, &q, &y);
    CHECK_INT(x.n, 4);
    CHECK_STR(x.json.data, y.json.data);
    bt_store_close(a);
    bt_store_close(b);
    unlink(p1);
    unlink(p2);
    bt_buf_dispose(&x.json);
    bt_buf_dispose(&y.json);
    bt_arena_free(x.a);
    bt_arena_free(y.a);
}

/* the uuids q lists, newest first, as "1,3" (by their first digit) */
static const char *which(bt_store *s, const bt_build_query *q)
{
    static char out[64];
    seen x = {0};
    int i;
    x.a = bt_arena_new(0, 0);
    list(s, q, &x);
    out[0] = '\0';
    for (i = 0; i < x.n && i < 16; i++) {
        size_t l = strlen(out);
        snprintf(out + l, sizeof out - l, "%s%c", i ? "," : "", x.uuids[i][0]);
    }
    bt_buf_dispose(&x.json);
    bt_arena_free(x.a);
    return out;
}

static void test_find(void)
{
    char path[128];
    bt_store *s;
    bt_build_query q;
    seen x = {0};

    snprintf(path, sizeof path, "/tmp/bt-test-codebuild-%d-f.db", (int)getpid());
    s = fill(path, 1);
    bt_build_query_init(&q);
    CHECK_STR(which(s, &q), "4,3,2,1");
    /* what the store filled in for the build it knows only from its calls */
    x.a = bt_arena_new(0, 0);
    q.uuid = U3;
    list(s, &q, &x);
    CHECK_INT(x.n, 1);
    CHECK(strstr(x.json.data, "\"Project\":\"p1\"") != NULL);
    CHECK(strstr(x.json.data, "\"Type\":\"webhook\",\"Inferred\":true") != NULL);
    CHECK(strstr(x.json.data, "\"BuildId\":\"p1:" U3 "\"") != NULL);
    CHECK(strstr(x.json.data, "\"Account\":\"111122223333\",\"Region\":\"us-east-1\"") != NULL);
    q.uuid = U1;
    list(s, &q, &x);
    CHECK(strstr(x.json.data, "\"Outcome\":\"SUCCEEDED\",\"OutcomeSource\":\"eventbridge\"") !=
          NULL);
    CHECK(strstr(x.json.data, "\"Calls\":2,\"Errors\":0") != NULL);
    bt_buf_dispose(&x.json);
    bt_arena_free(x.a);
    bt_build_query_init(&q);
    q.projects[q.n_projects++] = "p1"; /* U3's project is guessed from its role */
    CHECK_STR(which(s, &q), "4,3,1");
    q.limit = 2;
    CHECK_STR(which(s, &q), "4,3");
    bt_build_query_init(&q);
    q.projects[q.n_projects++] = "p2";
    q.projects[q.n_projects++] = "nope";
    CHECK_STR(which(s, &q), "2");
    bt_build_query_init(&q);
    q.accounts[q.n_accounts++] = "444455556666";
    CHECK_STR(which(s, &q), "2");
    bt_build_query_init(&q);
    q.regions[q.n_regions++] = "us-east-1";
    CHECK_STR(which(s, &q), "4,3,1");
    bt_build_query_init(&q);
    q.statuses[q.n_statuses++] = "SUCCEEDED";
    CHECK_STR(which(s, &q), "1");
    q.statuses[q.n_statuses++] = "UNKNOWN";
    CHECK_STR(which(s, &q), "4,3,1");
    bt_build_query_init(&q);
    q.triggers[q.n_triggers++] = "webhook";
    CHECK_STR(which(s, &q), "3");
    q.triggers[0] = "pipeline";
    CHECK_STR(which(s, &q), "2");
    q.triggers[0] = "retry";
    CHECK_STR(which(s, &q), "4");
    bt_build_query_init(&q);
    q.initiators[q.n_initiators++] = "user/bob";
    CHECK_STR(which(s, &q), "4");
    q.initiators[q.n_initiators++] = "alice";
    CHECK_STR(which(s, &q), "4,1");
    bt_build_query_init(&q);
    q.start_ms = 1790852400000LL; /* 2026-10-01T11:00:00Z */
    q.end_ms = 1790856000000LL;   /* 12:00 */
    CHECK_STR(which(s, &q), "3,2");
    bt_build_query_init(&q);
    q.errors_only = 1;
    CHECK_STR(which(s, &q), "2");
    bt_build_query_init(&q);
    q.limit = 1;
    CHECK_STR(which(s, &q), "4");
    bt_build_query_init(&q);
    q.regions[q.n_regions++] = "us-east-1";
    q.triggers[q.n_triggers++] = "user";
    CHECK_STR(which(s, &q), "1");
    /* the retried build knows its retry */
    {
        seen y = {0};
        y.a = bt_arena_new(0, 0);
        bt_build_query_init(&q);
        q.uuid = U1;
        list(s, &q, &y);
        CHECK_INT(y.n, 1);
        CHECK_STR(y.retried_as, U4);
        bt_buf_dispose(&y.json);
        bt_arena_free(y.a);
    }
    bt_store_close(s);
    unlink(path);
}

/* A build known only from its role session's calls gets its project from what the
 * project records said last of the role (`roles`): not from an older record, nor from a
 * failed one, whichever order they come in, packed or one at a time, in one ingest or
 * two, and also after the store is opened again. */
static void test_roles(void)
{
    static const char *role = "arn:aws:iam::111122223333:role/service-role/deployer";
    char path[128], *v[4];
    int order, packed;

    snprintf(path, sizeof path, "/tmp/bt-test-codebuild-%d-r.db", (int)getpid());
    v[0] = fmt_project("r1", "2026-10-01T08:00:00Z", "CreateProject", "p5", role, "");
    v[1] = fmt_project("r2", "2026-10-01T07:00:00Z", "UpdateProject", "p6", role, "");
    v[2] = fmt_project("r3", "2026-10-01T08:30:00Z", "UpdateProject", "p7", role,
                       ",\"errorCode\":\"AccessDenied\"");
    v[3] = session("r4", "2026-10-01T09:00:00Z", "deployer", U5, "111122223333", "us-east-1", 0);
    for (order = 0; order < 2; order++)
        for (packed = 0; packed < 3; packed++) {
            bt_store *s = NULL;
            bt_error err = BT_ERROR_INIT;
            bt_arena *a = bt_arena_new(0, 0);
            bt_build_query q;
            bt_event ev[4];
            seen x = {0};
            size_t i, k;
            int is_new;

            unlink(path);
            CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
            for (i = 0; i < 4; i++) /* order 1: newest first */
                CHECK_INT(to_event(a, v[order ? 3 - i : i], &ev[i]), 0);
            /* packed 0: one at a time; 1: one batch; 2: a batch each */
            for (i = 0; i < 4; i += k) {
                k = packed == 1 ? 4 : 1;
                CHECK_INT(bt_store_begin(s, &err), 0);
                if (packed) {
                    bt_store_pack *p = NULL;
                    uint64_t added = 0, dups = 0;
                    CHECK_INT(bt_store_pack_new(NULL, ev + i, k, &p, &err), 0);
                    CHECK_INT(bt_store_add_packed(s, ev + i, k, p, &added, &dups, &err), 0);
                    CHECK_INT(added, k);
                    bt_store_pack_free(p);
                } else {
                    CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
                    CHECK_INT(is_new, 1);
                }
                CHECK_INT(bt_store_commit(s, &err), 0);
            }
            bt_store_close(s);
            s = NULL;
            CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
            x.a = bt_arena_new(0, 0);
            bt_build_query_init(&q);
            q.uuid = U5;
            list(s, &q, &x);
            CHECK_INT(x.n, 1);
            CHECK(strstr(x.json.data, "\"Project\":\"p5\"") != NULL);
            bt_build_query_init(&q);
            q.projects[q.n_projects++] = "p5";
            CHECK_INT(strcmp(which(s, &q), "5"), 0);
            bt_buf_dispose(&x.json);
            bt_arena_free(x.a);
            bt_store_close(s);
            bt_arena_free(a);
        }
    unlink(path);
    free_records(v, 4);
}

BT_TEST_MAIN(test_names, test_merge, test_facts, test_infer, test_pack_facts, test_find, test_roles)
