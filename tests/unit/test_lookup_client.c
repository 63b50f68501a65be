/* test_lookup_client.c - the one LookupEvents client path of lookup.h, driven through
 * the public headers against an in-process loopback peer: the query planner (which
 * attribute goes to the service, the rest applied here, with a filter), the paging
 * loop (plan applied, skip_first, a repeated NextToken rejected), the re-ask of an
 * unreadable 2xx, and the structured error fields of bt_error (request id, attempts,
 * retries exhausted, the service's own message). */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws.h"
#include "buildtrail/lookup.h"
#include "test_aws_peer.h"
#include "tharness.h"

#define CT "application/x-amz-json-1.1"

/* two events: a StartBuild by alice (failed: AccessDenied) and a BatchGetBuilds */
#define EV_A                                                                                       \
    "{\"EventId\":\"a\",\"EventName\":\"StartBuild\",\"Username\":\"alice\","                      \
    "\"EventSource\":\"codebuild.amazonaws.com\",\"EventTime\":1714557600.5,"                      \
    "\"CloudTrailEvent\":\"{\\\"eventVersion\\\":\\\"1.08\\\",\\\"eventID\\\":\\\"a\\\","          \
    "\\\"eventName\\\":\\\"StartBuild\\\",\\\"eventSource\\\":\\\"codebuild.amazonaws.com\\\","    \
    "\\\"eventTime\\\":\\\"2024-05-01T10:00:00Z\\\",\\\"errorCode\\\":\\\"AccessDenied\\\"}\"}"
#define EV_B                                                                                       \
    "{\"EventId\":\"b\",\"EventName\":\"BatchGetBuilds\",\"Username\":\"bob\","                    \
    "\"EventSource\":\"codebuild.amazonaws.com\",\"EventTime\":1714557500,"                        \
    "\"CloudTrailEvent\":\"{\\\"eventVersion\\\":\\\"1.08\\\",\\\"eventID\\\":\\\"b\\\","          \
    "\\\"eventName\\\":\\\"BatchGetBuilds\\\",\\\"eventSource\\\":\\\"codebuild.amazonaws."        \
    "com\\\","                                                                                     \
    "\\\"eventTime\\\":\\\"2024-05-01T09:58:20Z\\\"}\"}"

static char dir[64];

static bt_aws_client *client_at(const peer *s, int max_attempts)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    bt_error err = BT_ERROR_INIT;
    char url[64], path[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    snprintf(path, sizeof path, "%s/none", dir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_MAX_ATTEMPTS");
    cfg.region = "us-east-1";
    cfg.endpoint_url = url;
    cfg.max_attempts = max_attempts;
    cfg.lookup_events_rate = -1; /* no pacing in these tests */
    CHECK_INT(bt_aws_client_new(&c, &cfg, &err), 0);
    return c;
}

/* ---------------------------------------------------------------- plan -- */

static void test_plan(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_ct_cond conds[2];
    bt_ct_plan p;
    bt_filter f;
    bt_error err = BT_ERROR_INIT;
    bt_buf d = BT_BUF_INIT;
    bt_ct_lookup_page pg;
    static const char text[] = "{\"Events\":[" EV_A "," EV_B "]}";

    memset(conds, 0, sizeof conds);
    conds[0].key = BT_CT_ATTR_EVENT_SOURCE;
    conds[0].values[0] = "codebuild.amazonaws.com";
    conds[0].n = 1;
    conds[0].origin = "--lookup-attributes";
    bt_filter_init(&f);
    CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err), 0);
    CHECK_INT(bt_filter_add(&f, BT_F_ERROR_CODE, "AccessDenied", &err), 0);

    /* EventName (rank 4) is more selective than EventSource (rank 6): to the service */
    CHECK_INT(bt_ct_plan_make(&p, conds, 1, &f, a, &err), 0);
    CHECK(p.server != NULL);
    CHECK_STR(p.server->key, "EventName");
    CHECK_STR(p.server->values[0], "StartBuild");
    CHECK_INT(p.nlocal, 1);
    CHECK_STR(p.local[0].key, "EventSource");
    CHECK_INT(p.need_record, 1);
    CHECK_INT(bt_ct_plan_describe(&p, &d), 0);
    CHECK_STR(d.data, "sent to the service: EventName=StartBuild (from --event-name); applied "
                      "here: EventSource=codebuild.amazonaws.com (from --lookup-attributes) AND "
                      "--error-code (on the record)");

    /* the local part on real events: a passes (errorCode on the record), b does not */
    CHECK_INT(bt_ct_lookup_parse(a, text, strlen(text), &pg, &err), 0);
    CHECK_INT(pg.nevents, 2);
    CHECK_INT(bt_ct_plan_match(&p, a, &pg.events[0]), 1);
    CHECK_INT(bt_ct_plan_match(&p, a, &pg.events[1]), 0);

    /* an unknown key goes to the service (it reports it); a multi-valued condition
     * never does */
    conds[1] = conds[0];
    conds[1].key = "Nope";
    CHECK_INT(bt_ct_plan_make(&p, conds, 2, &f, a, &err), 0);
    CHECK_STR(p.server->key, "Nope");
    CHECK_INT(p.nlocal, 2);
    bt_filter_init(&f);
    CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err), 0);
    CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, "StopBuild", &err), 0);
    CHECK_INT(bt_ct_plan_make(&p, conds, 1, &f, a, &err), 0);
    CHECK_STR(p.server->key, "EventSource");
    CHECK_INT(p.nlocal, 1);
    CHECK_INT(p.local[0].n, 2);
    CHECK_INT(p.need_record, 0);
    CHECK_INT(bt_ct_plan_match(&p, a, &pg.events[0]), 1);
    CHECK_INT(bt_ct_plan_match(&p, a, &pg.events[1]), 0);
    /* nothing at all */
    bt_filter_init(&f);
    CHECK_INT(bt_ct_plan_make(&p, NULL, 0, &f, a, &err), 0);
    CHECK(p.server == NULL);
    bt_buf_clear(&d);
    CHECK_INT(bt_ct_plan_describe(&p, &d), 0);
    CHECK_STR(d.data, "sent to the service: no attribute; applied here: nothing");
    bt_buf_dispose(&d);
    bt_arena_free(a);
}

/* -------------------------------------------------------------- paging -- */

typedef struct seen {
    int pages;
    char kept[128];
    char tokens[128];
} seen;

static int on_page(void *payload, const bt_ct_page_view *v)
{
    seen *s = payload;
    size_t i;
    s->pages++;
    strcat(s->tokens, v->token ? v->token : "-");
    strcat(s->tokens, " ");
    for (i = 0; i < v->nkept; i++) {
        strcat(s->kept, v->page->events[v->kept[i]].event_id);
        strcat(s->kept, " ");
    }
    return 0;
}

static void test_pages(void)
{
    static const reply replies[] = {
        {200, CT, "{\"Events\":[" EV_A "," EV_B "],\"NextToken\":\"t1\"}"},
        {200, CT, "{\"Events\":[" EV_B "," EV_A "],\"NextToken\":\"t2\"}"},
        {200, CT, "{\"Events\":[" EV_A "],\"NextToken\":\"t2\"}"}, /* t2 again */
    };
    peer s;
    bt_aws_client *c;
    bt_ct_lookup_request req;
    bt_ct_pages_opts po;
    bt_ct_cond cond;
    bt_ct_plan plan;
    bt_filter f;
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    seen sn;
    size_t n = 0;

    if (peer_start(&s, replies, 3) != 0) {
        CHECK(0);
        return;
    }
    c = client_at(&s, 1);
    memset(&cond, 0, sizeof cond);
    cond.key = BT_CT_ATTR_USERNAME;
    cond.values[0] = "alice";
    cond.n = 1;
    cond.origin = "--lookup-attributes";
    bt_filter_init(&f);
    CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err), 0);
    CHECK_INT(bt_ct_plan_make(&plan, &cond, 1, &f, a, &err), 0);
    memset(&req, 0, sizeof req);
    req.attr_key = BT_CT_ATTR_READ_ONLY; /* replaced by the plan's */
    req.attr_value = "true";
    memset(&po, 0, sizeof po);
    po.plan = &plan;
    po.skip_first = 1;
    memset(&sn, 0, sizeof sn);
    CHECK_INT(bt_ct_lookup_pages(c, &req, &po, on_page, &sn, &n, &err), BT_EAWS);
    CHECK_STR(err.aws_code, "PaginationError");
    CHECK_INT(n, 3);
    CHECK_INT(sn.pages, 3);
    CHECK_STR(sn.tokens, "- t1 t2 ");
    /* page 1: a skipped (skip_first), b fails the plan; page 2: a; page 3: a */
    CHECK_STR(sn.kept, "a a ");
    /* the plan's attribute went to the service, each token once */
    CHECK(strstr(s.received.data, "{\"AttributeKey\":\"Username\",\"AttributeValue\":\"alice\"}") !=
          NULL);
    CHECK(strstr(s.received.data, "ReadOnly") == NULL);
    CHECK(strstr(s.received.data, "\"NextToken\":\"t1\"") != NULL);
    CHECK(strstr(s.received.data, "\"NextToken\":\"t2\"") != NULL);
    /* a callback that stops: BT_ESTOP; one that fails: its code as is */
    bt_aws_client_free(c);
    peer_stop(&s);
    bt_arena_free(a);
}

static int stop_now(void *payload, const bt_ct_page_view *v)
{
    (void)v;
    return *(int *)payload;
}

static void test_pages_stop(void)
{
    static const reply replies[] = {
        {200, CT, "{\"Events\":[" EV_A "],\"NextToken\":\"t1\"}"},
    };
    peer s;
    bt_aws_client *c;
    bt_ct_lookup_request req;
    bt_error err = BT_ERROR_INIT;
    int how;
    size_t n = 0;

    if (peer_start(&s, replies, 1) != 0) {
        CHECK(0);
        return;
    }
    c = client_at(&s, 1);
    memset(&req, 0, sizeof req);
    how = 1;
    CHECK_INT(bt_ct_lookup_pages(c, &req, NULL, stop_now, &how, &n, &err), BT_ESTOP);
    CHECK_INT(n, 1);
    how = BT_EDB;
    bt_error_set(&err, BT_EDB, "kept");
    CHECK_INT(bt_ct_lookup_pages(c, &req, NULL, stop_now, &how, &n, &err), BT_EDB);
    CHECK_STR(err.msg, "kept");
    bt_aws_client_free(c);
    peer_stop(&s);
}

/* ------------------------------------------------ errors and the re-ask -- */

static void test_error_fields(void)
{
    static const reply replies[] = {
        {400, CT, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"},
        {400, CT, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"},
        {400, CT, "{\"__type\":\"InvalidLookupAttributesException\",\"message\":\"bad key\"}"},
        {200, CT, "{\"Events\":[" EV_A}, /* cut: asked for again */
        {200, CT, "{\"Events\":[" EV_A "]}"},
    };
    peer s;
    bt_aws_client *c;
    bt_ct_lookup_request req;
    bt_ct_lookup_page pg;
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;

    if (peer_start(&s, replies, 5) != 0) {
        CHECK(0);
        return;
    }
    c = client_at(&s, 2);
    memset(&req, 0, sizeof req);
    /* throttled twice with 2 attempts: retries exhausted */
    CHECK_INT(bt_ct_lookup_events(c, &req, a, &pg, &err), BT_EAWS);
    CHECK_STR(err.aws_code, "ThrottlingException");
    CHECK_INT(err.http_status, 400);
    CHECK_STR(err.aws_message, "Rate exceeded");
    CHECK_STR(err.request_id, "rid-2");
    CHECK_INT(err.attempts, 2);
    CHECK_INT(err.retries_exhausted, 1);
    CHECK_STR(err.msg, "LookupEvents: ThrottlingException (HTTP 400): Rate exceeded [request id "
                       "rid-2] (reached max retries: 1)");
    /* not retryable: one attempt */
    CHECK_INT(bt_ct_lookup_events(c, &req, a, &pg, &err), BT_EAWS);
    CHECK_STR(err.aws_code, "InvalidLookupAttributesException");
    CHECK_STR(err.aws_message, "bad key");
    CHECK_STR(err.request_id, "rid-3");
    CHECK_INT(err.attempts, 1);
    CHECK_INT(err.retries_exhausted, 0);
    /* a cut 2xx is asked for again within the attempts */
    CHECK_INT(bt_ct_lookup_events(c, &req, a, &pg, &err), 0);
    CHECK_INT(pg.nevents, 1);
    CHECK_STR(pg.request_id, "rid-5");
    bt_aws_client_free(c);
    peer_stop(&s);
    bt_arena_free(a);
}

static void test_error_init(void)
{
    bt_error e = BT_ERROR_INIT;
    CHECK_INT(e.code, 0);
    CHECK_INT(e.attempts, 0);
    CHECK_INT(e.retries_exhausted, 0);
    CHECK_STR(e.request_id, "");
    CHECK_STR(e.aws_message, "");
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bt_lkc_XXXXXX");
    if (!mkdtemp(dir))
        dir[0] = '\0';
}

static void teardown(void)
{
    rmdir(dir);
}

BT_TEST_MAIN(setup, test_error_init, test_plan, test_pages, test_pages_stop, test_error_fields,
             teardown)
