/* test_serve.c - unit tests of `buildtrail serve`: the socket-free LookupEvents handler
 * (paging, filters, the NextToken binding, every modeled error, dispatch, the body cap,
 * SigV4 auth) over a small generated store, the auth file loader, and the HTTP server
 * itself over loopback with libcurl (keep-alive, 413, live ingest, concurrency). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buildtrail/json.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"
#include "tharness.h"

#define NEV 130     /* API events in the fixture */
#define NINSIGHT 3  /* Insights events */
#define BASE "2026-10-01T"
#define TGT BT_SERVE_TARGET_PREFIX "LookupEvents"

static char dir[128], path[192];

static const char *const names[] = {"StartBuild", "StopBuild", "ListProjects", "UpdateProject"};

/* i-th fixture record: two events per minute (equal times test the tie-break) */
static void record(bt_buf *b, int i)
{
    int minute = i / 2;
    bt_buf_printf(
        b,
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":"
        "\"user%d\",\"accountId\":\"111122223333\",\"accessKeyId\":\"AKIAKEY%d\"},\"eventTime\":"
        "\"" BASE "%02d:%02d:00Z\",\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":"
        "\"%s\",\"awsRegion\":\"us-east-1\",\"requestParameters\":{\"projectName\":\"proj%d\"},"
        "\"resources\":[{\"type\":\"AWS::CodeBuild::Project\",\"ARN\":"
        "\"arn:aws:codebuild:us-east-1:111122223333:project/proj%d\"}],"
        "\"eventID\":\"00000000-0000-4000-8000-%012d\",\"readOnly\":%s,\"eventType\":"
        "\"AwsApiCall\",\"note\":\"quote \\\" and \\u00e9\"}",
        i % 3, i % 2, 10 + minute / 60, minute % 60, names[i % 4], i % 4, i % 4, i,
        i % 4 == 2 ? "true" : "false");
    if (i == 5) { /* a pretty-printed record: whitespace the response must escape */
        bt_buf t = BT_BUF_INIT;
        size_t k;
        for (k = 0; k < b->len; k++) {
            bt_buf_putc(&t, b->data[k]);
            if (b->data[k] == ',' && k + 1 < b->len && b->data[k + 1] == '"')
                bt_buf_puts(&t, k % 3 ? "\n\t  " : "\r\n");
        }
        bt_buf_clear(b);
        bt_buf_append(b, t.data, t.len);
        bt_buf_dispose(&t);
    }
}

static void insight(bt_buf *b, int i)
{
    bt_buf_printf(b,
                  "{\"eventVersion\":\"1.08\",\"eventTime\":\"" BASE "09:0%d:00Z\",\"eventSource\":"
                  "\"codebuild.amazonaws.com\",\"eventName\":\"StartBuild\",\"awsRegion\":"
                  "\"us-east-1\",\"eventID\":\"10000000-0000-4000-8000-%012d\",\"eventType\":"
                  "\"AwsCloudTrailInsight\",\"eventCategory\":\"Insight\",\"recipientAccountId\":"
                  "\"111122223333\",\"insightDetails\":{\"state\":\"Start\"}}",
                  i, i);
}

static int add_text(bt_store *s, const char *text)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *v;
    bt_event ev;
    int is_new, rc = bt_json_parse(a, text, strlen(text), NULL, &v, &err);
    if (!rc)
        rc = bt_event_from_record(a, v, &ev, &err);
    if (!rc)
        rc = bt_store_add(s, &ev, &is_new, &err);
    if (rc)
        fprintf(stderr, "fixture: %s\n", err.msg);
    bt_arena_free(a);
    return rc;
}

static void make_store(void)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_buf b = BT_BUF_INIT;
    int i;

    snprintf(dir, sizeof dir, "/tmp/bt-test-serve-%d", (int)getpid());
    snprintf(path, sizeof path, "%s/events.db", dir);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < NEV; i++) {
        bt_buf_clear(&b);
        record(&b, i);
        CHECK_INT(add_text(s, b.data), 0);
    }
    for (i = 0; i < NINSIGHT; i++) {
        bt_buf_clear(&b);
        insight(&b, i);
        CHECK_INT(add_text(s, b.data), 0);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    bt_store_close(s);
    bt_buf_dispose(&b);
}

static void remove_store(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* ---- calling the handler ---- */

typedef struct call {
    bt_serve_response r;
    bt_arena *a;
    bt_json *v; /* parsed response body */
} call;

static bt_store *g_store;
static bt_arena *g_scratch;

static void do_call_full(call *c, const bt_serve_config *cfg, const char *method,
                         const char *pathq, const char *target, const char *body,
                         const bt_sigv4_header *extra, size_t nextra)
{
    bt_sigv4_header h[16];
    bt_serve_request req;
    bt_error err = BT_ERROR_INIT;
    size_t n = 0, i;
    char pbuf[64];
    const char *q;

    h[n].name = "Host";
    h[n++].value = "127.0.0.1:8090";
    h[n].name = "Content-Type";
    h[n++].value = BT_SERVE_CONTENT_TYPE;
    if (target) {
        h[n].name = "X-Amz-Target";
        h[n++].value = target;
    }
    for (i = 0; i < nextra && n < 16; i++)
        h[n++] = extra[i];
    memset(&req, 0, sizeof req);
    req.method = method;
    snprintf(pbuf, sizeof pbuf, "%s", pathq);
    q = strchr(pbuf, '?');
    if (q)
        pbuf[q - pbuf] = '\0';
    req.path = pbuf;
    req.query = q ? q + 1 : NULL;
    req.headers = h;
    req.nheaders = n;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    bt_serve_response_init(&c->r);
    c->a = bt_arena_new(0, 0);
    bt_serve_handle(cfg, g_store, g_scratch, &req, &c->r);
    c->v = NULL;
    if (bt_json_parse(c->a, c->r.body.data ? c->r.body.data : "", c->r.body.len, NULL, &c->v,
                      &err))
        c->v = NULL;
}

static void do_call(call *c, const char *body)
{
    do_call_full(c, NULL, "POST", "/", TGT, body, NULL, 0);
}

static void done_call(call *c)
{
    bt_serve_response_dispose(&c->r);
    bt_arena_free(c->a);
}

static const char *err_type(call *c)
{
    return c->v ? bt_json_get_str(c->v, "__type") : NULL;
}

/* expects an error response */
static void expect_error(const char *body, int status, const char *type)
{
    call c;
    do_call(&c, body);
    if (c.r.status != status || !err_type(&c) || strcmp(err_type(&c), type) != 0)
        fprintf(stderr, "  body: %s -> %d %s\n", body ? body : "(none)", c.r.status,
                c.r.body.data ? c.r.body.data : "");
    CHECK_INT(c.r.status, status);
    CHECK_STR(err_type(&c), type);
    CHECK(c.v && bt_json_get_str(c.v, "message") && *bt_json_get_str(c.v, "message"));
    CHECK_INT(strlen(c.r.request_id), 36);
    done_call(&c);
}

/* ids of the store's events for a filter, newest first */
typedef struct idlist {
    char ids[NEV + NINSIGHT + 8][40];
    int n;
} idlist;

static int collect_id(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    idlist *l = ctx;
    (void)pos;
    if (l->n < (int)(sizeof l->ids / sizeof l->ids[0]))
        snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", ev->event_id);
    return 0;
}

static void store_ids(const bt_filter *f, idlist *l)
{
    bt_store_query q;
    bt_error err = BT_ERROR_INIT;
    memset(&q, 0, sizeof q);
    q.filter = f;
    l->n = 0;
    CHECK_INT(bt_store_search(g_store, &q, collect_id, l, &err), 0);
}

/* pages through body_fmt (with a "%s" where the NextToken member goes) and collects */
static int page_all(const char *params, unsigned max, idlist *l, int *pages)
{
    char body[4096], tokmember[256] = "";
    int guard = 0;
    l->n = 0;
    *pages = 0;
    for (;;) {
        call c;
        bt_json *evs, *tok;
        size_t i;
        snprintf(body, sizeof body, "{%s%s\"MaxResults\":%u%s}", params, *params ? "," : "", max,
                 tokmember);
        do_call(&c, body);
        if (c.r.status != 200 || !c.v) {
            fprintf(stderr, "  paging: %d %s\n", c.r.status, c.r.body.data);
            done_call(&c);
            return -1;
        }
        (*pages)++;
        evs = bt_json_get(c.v, "Events");
        CHECK(evs && evs->len <= max);
        for (i = 0; evs && i < evs->len; i++)
            if (l->n < (int)(sizeof l->ids / sizeof l->ids[0]))
                snprintf(l->ids[l->n++], sizeof l->ids[0], "%s",
                         bt_json_get_str(evs->u.items[i], "EventId"));
        tok = bt_json_get(c.v, "NextToken");
        if (tok)
            CHECK_INT(evs->len, max); /* a token only after a full page */
        if (!tok || ++guard > 500) {
            done_call(&c);
            break;
        }
        snprintf(tokmember, sizeof tokmember, ",\"NextToken\":\"%s\"", tok->u.str);
        done_call(&c);
    }
    return 0;
}

static int same_ids(const idlist *a, const idlist *b)
{
    int i;
    if (a->n != b->n) {
        fprintf(stderr, "  %d ids vs %d\n", a->n, b->n);
        return 0;
    }
    for (i = 0; i < a->n; i++)
        if (strcmp(a->ids[i], b->ids[i]) != 0)
            return 0;
    return 1;
}

/* ---- tests ---- */

static void test_default_page(void)
{
    call c;
    bt_json *evs, *e;
    static const char *const order[] = {"EventId", "EventName", "ReadOnly", "AccessKeyId",
                                        "EventTime", "EventSource", "Username", "Resources",
                                        "CloudTrailEvent"};
    size_t i;

    do_call(&c, NULL); /* no body at all: no parameters */
    CHECK_INT(c.r.status, 200);
    CHECK(c.r.error_type == NULL);
    CHECK_STR(c.r.operation, "LookupEvents");
    evs = c.v ? bt_json_get(c.v, "Events") : NULL;
    CHECK(evs && evs->len == 50);
    CHECK_INT(c.r.events, 50);
    CHECK(bt_json_get(c.v, "NextToken") != NULL);
    CHECK(c.v && c.v->len == 2 && strcmp(c.v->u.members[0].key, "Events") == 0);
    if (!evs || !evs->len) {
        done_call(&c);
        return;
    }
    e = evs->u.items[0];
    /* newest first: the last fixture event; ties broken newest-stored first */
    CHECK_STR(bt_json_get_str(e, "EventId"), "00000000-0000-4000-8000-000000000129");
    CHECK_STR(bt_json_get_str(evs->u.items[1], "EventId"), "00000000-0000-4000-8000-000000000128");
    CHECK_INT(e->len, 9);
    for (i = 0; i < 9 && i < e->len; i++)
        CHECK_STR(e->u.members[i].key, order[i]);
    CHECK(bt_json_get(e, "EventTime")->type == BT_JSON_NUMBER);
    CHECK(bt_json_get(e, "EventTime")->num == 1790848800.0 + 64 * 60);
    CHECK_STR(bt_json_get_str(e, "ReadOnly"), "false");
    CHECK_STR(bt_json_get_str(e, "Username"), "user0");
    CHECK_STR(bt_json_get_str(e, "AccessKeyId"), "AKIAKEY1");
    CHECK_STR(bt_json_get_str(bt_json_get(e, "Resources")->u.items[0], "ResourceName"),
              "arn:aws:codebuild:us-east-1:111122223333:project/proj1");
    {
        call d;
        bt_buf b = BT_BUF_INIT;
        record(&b, 129);
        CHECK_STR(bt_json_get_str(e, "CloudTrailEvent"), b.data); /* raw record, byte-exact */
        bt_buf_dispose(&b);
        /* "{}" and an empty body are the same request */
        do_call(&d, "{}");
        CHECK_INT(d.r.status, 200);
        CHECK_INT(d.r.body.len, c.r.body.len);
        done_call(&d);
    }
    done_call(&c);
}

static void test_paging(void)
{
    idlist want, got;
    bt_filter f;
    int pages;
    unsigned sizes[] = {1, 7, 50};
    size_t k;

    bt_filter_init(&f);
    f.kinds = 1u << BT_KIND_API;
    store_ids(&f, &want);
    CHECK_INT(want.n, NEV);
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        CHECK_INT(page_all("", sizes[k], &got, &pages), 0);
        CHECK(same_ids(&want, &got));
        CHECK_INT(pages, (NEV + sizes[k] - 1) / sizes[k]);
    }
    /* an inclusive window: 10:05:00 .. 10:10:00 is minutes 5..10, two events each */
    bt_filter_init(&f);
    f.kinds = 1u << BT_KIND_API;
    f.start_ms = 1790848800000LL + 5 * 60000;
    f.end_ms = 1790848800000LL + 10 * 60000;
    store_ids(&f, &want);
    CHECK_INT(want.n, 12);
    CHECK_INT(page_all("\"StartTime\":1790849100,\"EndTime\":1790849400", 5, &got, &pages), 0);
    CHECK(same_ids(&want, &got));
    CHECK_INT(pages, 3);
    /* fractional seconds */
    CHECK_INT(page_all("\"StartTime\":1790849099.5,\"EndTime\":1790849400.0", 50, &got, &pages), 0);
    CHECK(same_ids(&want, &got));
}

static void test_filters(void)
{
    static const struct {
        const char *attrs;
        bt_filter_field field;
        const char *value;
    } one[] = {
        {"{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"StopBuild\"}", BT_F_EVENT_NAME,
         "StopBuild"},
        {"{\"AttributeKey\":\"Username\",\"AttributeValue\":\"user2\"}", BT_F_USERNAME, "user2"},
        {"{\"AttributeKey\":\"ResourceName\",\"AttributeValue\":"
         "\"arn:aws:codebuild:us-east-1:111122223333:project/proj3\"}",
         BT_F_RESOURCE_NAME, "arn:aws:codebuild:us-east-1:111122223333:project/proj3"},
        {"{\"AttributeKey\":\"ResourceType\",\"AttributeValue\":\"AWS::CodeBuild::Project\"}",
         BT_F_RESOURCE_TYPE, "AWS::CodeBuild::Project"},
        {"{\"AttributeKey\":\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"}",
         BT_F_EVENT_SOURCE, "codebuild.amazonaws.com"},
        {"{\"AttributeKey\":\"AccessKeyId\",\"AttributeValue\":\"AKIAKEY0\"}", BT_F_ACCESS_KEY_ID,
         "AKIAKEY0"},
        {"{\"AttributeKey\":\"EventId\",\"AttributeValue\":\"00000000-0000-4000-8000-000000000077\"}",
         BT_F_EVENT_ID, "00000000-0000-4000-8000-000000000077"},
        {"{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"NoSuchCall\"}", BT_F_EVENT_NAME,
         "NoSuchCall"},
    };
    char params[1024];
    idlist want, got;
    bt_filter f;
    bt_error err = BT_ERROR_INIT;
    int pages;
    size_t i;

    for (i = 0; i < sizeof one / sizeof one[0]; i++) {
        bt_filter_init(&f);
        f.kinds = 1u << BT_KIND_API;
        bt_filter_add(&f, one[i].field, one[i].value, &err);
        store_ids(&f, &want);
        snprintf(params, sizeof params, "\"LookupAttributes\":[%s]", one[i].attrs);
        CHECK_INT(page_all(params, 9, &got, &pages), 0);
        if (!same_ids(&want, &got))
            fprintf(stderr, "  filter %s\n", one[i].attrs);
        CHECK(same_ids(&want, &got));
    }
    /* the pretty-printed record comes back compact, as the service sends it (#15 case 6;
     * the store keeps its bytes) */
    {
        call c;
        bt_buf rec = BT_BUF_INIT;
        bt_json *evs;
        record(&rec, 5);
        CHECK(strchr(rec.data, '\t') && strchr(rec.data, '\r'));
        do_call(&c, "{\"LookupAttributes\":[{\"AttributeKey\":\"EventId\",\"AttributeValue\":"
                    "\"00000000-0000-4000-8000-000000000005\"}]}");
        evs = c.v ? bt_json_get(c.v, "Events") : NULL;
        CHECK(evs && evs->len == 1);
        if (evs && evs->len == 1) {
            const char *cte = bt_json_get_str(evs->u.items[0], "CloudTrailEvent");
            CHECK(cte && !strchr(cte, '\n') && !strchr(cte, '\t') && !strchr(cte, '\r'));
            CHECK(cte && strlen(cte) < rec.len && strstr(cte, "{\"eventVersion\":\"1.08\","));
        }
        CHECK(strstr(c.r.body.data, "\\n\\t  ") == NULL);
        done_call(&c);
        bt_buf_dispose(&rec);
    }
    /* ReadOnly */
    bt_filter_init(&f);
    f.kinds = 1u << BT_KIND_API;
    f.read_only = 1;
    store_ids(&f, &want);
    CHECK(want.n > 0 && want.n < NEV);
    CHECK_INT(page_all("\"LookupAttributes\":[{\"AttributeKey\":\"ReadOnly\",\"AttributeValue\":"
                       "\"true\"}]",
                       50, &got, &pages),
              0);
    CHECK(same_ids(&want, &got));
    /* extension: different keys ANDed, in any order; a pair given twice is one */
    bt_filter_init(&f);
    f.kinds = 1u << BT_KIND_API;
    bt_filter_add(&f, BT_F_USERNAME, "user1", &err);
    bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err);
    store_ids(&f, &want);
    CHECK(want.n > 0);
    CHECK_INT(page_all("\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":"
                       "\"user1\"},{\"AttributeKey\":\"EventName\",\"AttributeValue\":"
                       "\"StartBuild\"},{\"AttributeKey\":\"Username\",\"AttributeValue\":"
                       "\"user1\"}]",
                       4, &got, &pages),
              0);
    CHECK(same_ids(&want, &got));
    /* two values for one key: nothing matches both */
    CHECK_INT(page_all("\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":"
                       "\"user1\"},{\"AttributeKey\":\"Username\",\"AttributeValue\":\"user2\"}]",
                       50, &got, &pages),
              0);
    CHECK_INT(got.n, 0);
    CHECK_INT(pages, 1);
    /* Insights only with EventCategory insight, and then only them */
    CHECK_INT(page_all("\"EventCategory\":\"insight\"", 2, &got, &pages), 0);
    CHECK_INT(got.n, NINSIGHT);
    CHECK_STR(got.ids[0], "10000000-0000-4000-8000-000000000002");
    CHECK_INT(page_all("\"EventCategory\":\"insight\",\"LookupAttributes\":[{\"AttributeKey\":"
                       "\"EventName\",\"AttributeValue\":\"StartBuild\"}]",
                       50, &got, &pages),
              0);
    CHECK_INT(got.n, NINSIGHT);
    /* nulls are absent members */
    CHECK_INT(page_all("\"LookupAttributes\":null,\"StartTime\":null,\"EventCategory\":null",
                       50, &got, &pages),
              0);
    CHECK_INT(got.n, NEV);
}

static void test_errors(void)
{
    char big[2100 + 128];
    size_t i;

    expect_error("{\"MaxResults\":5", 400, "com.amazon.coral.service#SerializationException");
    expect_error("[]", 400, "com.amazon.coral.service#SerializationException");
    expect_error("\"x\"", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"MaxResults\":1}x", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"MaxResults\":\"5\"}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"MaxResults\":1.5}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"MaxResults\":0}", 400, "InvalidMaxResultsException");
    expect_error("{\"MaxResults\":51}", 400, "InvalidMaxResultsException");
    expect_error("{\"MaxResults\":-3}", 400, "InvalidMaxResultsException");
    expect_error("{\"MaxResults\":1e300}", 400, "InvalidMaxResultsException");
    expect_error("{\"StartTime\":\"2026-10-01\"}", 400,
                 "com.amazon.coral.service#SerializationException");
    expect_error("{\"StartTime\":1790849400,\"EndTime\":1790849399}", 400,
                 "InvalidTimeRangeException");
    expect_error("{\"StartTime\":-1}", 400, "InvalidTimeRangeException");
    expect_error("{\"EndTime\":1e300}", 400, "InvalidTimeRangeException");
    expect_error("{\"LookupAttributes\":{}}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"LookupAttributes\":[1]}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":1,\"AttributeValue\":\"x\"}]}", 400,
                 "com.amazon.coral.service#SerializationException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"Colour\",\"AttributeValue\":\"x\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"eventname\",\"AttributeValue\":\"x\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\"}]}", 400,
                 "InvalidLookupAttributesException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":"
                 "\"a\\u0000b\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"LookupAttributes\":[{\"AttributeKey\":\"ReadOnly\",\"AttributeValue\":\"TRUE\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"EventCategory\":\"insight\",\"LookupAttributes\":[{\"AttributeKey\":"
                 "\"Username\",\"AttributeValue\":\"user1\"}]}",
                 400, "InvalidLookupAttributesException");
    expect_error("{\"EventCategory\":\"Insight\"}", 400, "InvalidEventCategoryException");
    expect_error("{\"EventCategory\":\"management\"}", 400, "InvalidEventCategoryException");
    expect_error("{\"EventCategory\":7}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"NextToken\":\"abc\"}", 400, "InvalidNextTokenException");
    expect_error("{\"NextToken\":\"AQAAAZnAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", 400,
                 "InvalidNextTokenException");
    expect_error("{\"NextToken\":5}", 400, "com.amazon.coral.service#SerializationException");
    expect_error("{\"MaxResults\":5,\"MaxResults\":6}", 400,
                 "com.amazon.coral.service#SerializationException");
    /* the value length rule: '_' counts twice, 2000 at most */
    for (i = 0; i < 1001; i++)
        big[i] = '_';
    big[1001] = '\0';
    {
        char body[2300];
        call c;
        snprintf(body, sizeof body,
                 "{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"%s\"}]}",
                 big);
        expect_error(body, 400, "InvalidLookupAttributesException");
        big[1000] = '\0';
        snprintf(body, sizeof body,
                 "{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"%s\"}]}",
                 big);
        do_call(&c, body);
        CHECK_INT(c.r.status, 200);
        done_call(&c);
    }
    /* unknown members are ignored, like the service */
    {
        call c;
        do_call(&c, "{\"Colour\":\"blue\",\"MaxResults\":3}");
        CHECK_INT(c.r.status, 200);
        CHECK_INT(c.r.events, 3);
        done_call(&c);
    }
    /* deep nesting is a serialization error, not a crash */
    {
        char deep[200];
        memset(deep, '[', 100);
        memcpy(deep + 100, "]", 2);
        expect_error(deep, 400, "com.amazon.coral.service#SerializationException");
    }
}

static void test_token_binding(void)
{
    static const char *const base =
        "{\"StartTime\":1790848800,\"EndTime\":1790860000,\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"},{\"AttributeKey\":"
        "\"ReadOnly\",\"AttributeValue\":\"false\"}],\"MaxResults\":5";
    static const char *const other[] = {
        "{\"StartTime\":1790848801,\"EndTime\":1790860000,\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"},{\"AttributeKey\":"
        "\"ReadOnly\",\"AttributeValue\":\"false\"}]",
        "{\"StartTime\":1790848800,\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"},{\"AttributeKey\":"
        "\"ReadOnly\",\"AttributeValue\":\"false\"}]",
        "{\"StartTime\":1790848800,\"EndTime\":1790860000,\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"}]",
        "{\"StartTime\":1790848800,\"EndTime\":1790860000,\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"},{\"AttributeKey\":"
        "\"ReadOnly\",\"AttributeValue\":\"true\"}]",
        "{\"StartTime\":1790848800,\"EndTime\":1790860000,\"EventCategory\":\"insight\","
        "\"LookupAttributes\":[{\"AttributeKey\":"
        "\"EventSource\",\"AttributeValue\":\"codebuild.amazonaws.com\"}]",
    };
    char body[1024];
    call c, d;
    const char *tok;
    size_t i;

    snprintf(body, sizeof body, "%s}", base);
    do_call(&c, body);
    CHECK_INT(c.r.status, 200);
    tok = c.v ? bt_json_get_str(c.v, "NextToken") : NULL;
    CHECK(tok != NULL);
    if (!tok) {
        done_call(&c);
        return;
    }
    CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          strlen(tok));
    for (i = 0; i < sizeof other / sizeof other[0]; i++) {
        snprintf(body, sizeof body, "%s,\"NextToken\":\"%s\"}", other[i], tok);
        expect_error(body, 400, "InvalidNextTokenException");
    }
    /* the same parameters in another order, another page size: accepted */
    snprintf(body, sizeof body,
             "{\"MaxResults\":7,\"LookupAttributes\":[{\"AttributeKey\":\"ReadOnly\","
             "\"AttributeValue\":\"false\"},{\"AttributeKey\":\"EventSource\",\"AttributeValue\":"
             "\"codebuild.amazonaws.com\"}],\"EndTime\":1790860000.0,\"StartTime\":1790848800,"
             "\"NextToken\":\"%s\"}",
             tok);
    do_call(&d, body);
    CHECK_INT(d.r.status, 200);
    CHECK_INT(d.r.events, 7);
    done_call(&d);
    /* one character changed */
    {
        char bad[64];
        snprintf(bad, sizeof bad, "%s", tok);
        bad[20] = bad[20] == 'A' ? 'B' : 'A';
        snprintf(body, sizeof body, "%s,\"NextToken\":\"%s\"}", base, bad);
        expect_error(body, 400, "InvalidNextTokenException");
    }
    done_call(&c);
}

static void test_dispatch(void)
{
    call c;
    bt_serve_config cfg;
    char *big;

    do_call_full(&c, NULL, "POST", "/", NULL, "{}", NULL, 0);
    CHECK_INT(c.r.status, 400);
    CHECK_STR(err_type(&c), "com.amazon.coral.service#UnknownOperationException");
    CHECK_STR(c.r.error_type, "UnknownOperationException");
    done_call(&c);
    do_call_full(&c, NULL, "POST", "/", BT_SERVE_TARGET_PREFIX "LookupEventz", "{}", NULL, 0);
    CHECK_STR(err_type(&c), "com.amazon.coral.service#UnknownOperationException");
    done_call(&c);
    do_call_full(&c, NULL, "POST", "/", "Other_20131101.LookupEvents", "{}", NULL, 0);
    CHECK_STR(err_type(&c), "com.amazon.coral.service#UnknownOperationException");
    done_call(&c);
    do_call_full(&c, NULL, "POST", "/", BT_SERVE_TARGET_PREFIX "DescribeTrails", "{}", NULL, 0);
    CHECK_INT(c.r.status, 400);
    CHECK_STR(err_type(&c), "UnsupportedOperationException");
    CHECK_STR(c.r.operation, "DescribeTrails");
    done_call(&c);
    /* the Smithy form the JS SDK v3 sends */
    do_call_full(&c, NULL, "POST", "/", "CloudTrail_20131101.LookupEvents", "{\"MaxResults\":2}",
                 NULL, 0);
    CHECK_INT(c.r.status, 200);
    CHECK_INT(c.r.events, 2);
    done_call(&c);
    do_call_full(&c, NULL, "GET", "/", TGT, NULL, NULL, 0);
    CHECK_INT(c.r.status, 404);
    done_call(&c);
    do_call_full(&c, NULL, "POST", "/other", TGT, "{}", NULL, 0);
    CHECK_INT(c.r.status, 404);
    done_call(&c);
    do_call_full(&c, NULL, "POST", "/?x=1", TGT, "{}", NULL, 0);
    CHECK_INT(c.r.status, 200);
    done_call(&c);
    /* body cap */
    memset(&cfg, 0, sizeof cfg);
    cfg.max_body = 1024;
    big = malloc(2000);
    memset(big, ' ', 1999);
    big[1999] = '\0';
    big[0] = '{';
    big[1998] = '}';
    do_call_full(&c, &cfg, "POST", "/", TGT, big, NULL, 0);
    CHECK_INT(c.r.status, 413);
    CHECK(c.r.close);
    CHECK_STR(err_type(&c), "RequestEntityTooLargeException");
    done_call(&c);
    big[1000] = '\0';
    big[999] = '}';
    do_call_full(&c, &cfg, "POST", "/", TGT, big, NULL, 0);
    CHECK_INT(c.r.status, 200);
    done_call(&c);
    free(big);
    /* no store: valid requests get 500, invalid ones their 400 */
    {
        bt_store *keep = g_store;
        g_store = NULL;
        do_call(&c, "{}");
        CHECK_INT(c.r.status, 500);
        CHECK_STR(err_type(&c), "InternalFailure");
        done_call(&c);
        expect_error("{\"MaxResults\":0}", 400, "InvalidMaxResultsException");
        g_store = keep;
    }
    /* no scratch arena: 500, not a crash */
    {
        bt_arena *keep = g_scratch;
        g_scratch = NULL;
        do_call(&c, "{}");
        CHECK_INT(c.r.status, 500);
        done_call(&c);
        g_scratch = keep;
    }
}

/* ---- auth ---- */

#define AKID "AKIDUNITTEST"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define NOW 1790850000 /* 2026-10-01T10:20:00Z */

/* signs a LookupEvents POST and calls the handler */
static void signed_call(call *c, const bt_serve_config *cfg, const char *secret,
                        const char *service, int64_t when, const char *body)
{
    bt_sigv4_header h[4];
    bt_sigv4_request req;
    bt_sigv4_params p;
    bt_sigv4_out out;
    bt_error err = BT_ERROR_INIT;
    char date[17];
    size_t i, n = 0;

    h[n].name = "Host";
    h[n++].value = "127.0.0.1:8090";
    h[n].name = "Content-Type";
    h[n++].value = BT_SERVE_CONTENT_TYPE;
    h[n].name = "X-Amz-Target";
    h[n++].value = TGT;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/";
    req.headers = h;
    req.nheaders = n;
    req.body = body;
    req.body_len = strlen(body);
    memset(&p, 0, sizeof p);
    p.access_key_id = AKID;
    p.secret_access_key = secret;
    p.region = "eu-west-1";
    p.service = service;
    bt_sigv4_format_date(when, date);
    p.amz_date = date;
    bt_sigv4_out_init(&out);
    CHECK_INT(bt_sigv4_sign(&req, &p, &out, &err), 0);
    {
        bt_sigv4_header all[8];
        for (i = 0; i < n; i++)
            all[i] = h[i];
        for (i = 0; i < out.nadd; i++)
            all[n + i] = out.add[i];
        do_call_full(c, cfg, "POST", "/", NULL, body, all + 2, n - 2 + out.nadd);
    }
    bt_sigv4_out_dispose(&out);
}

static void test_auth(void)
{
    bt_serve_auth *a = bt_serve_auth_new();
    bt_serve_config cfg;
    bt_error err = BT_ERROR_INIT;
    call c;

    CHECK_INT(bt_serve_auth_add(a, AKID, SECRET, &err), 0);
    CHECK_INT(bt_serve_auth_add(a, "AKIDOTHER", "x", &err), 0);
    CHECK_INT(bt_serve_auth_add(a, AKID, "again", &err), BT_EINVAL);
    CHECK_INT(bt_serve_auth_add(a, "bad/id", "x", &err), BT_EINVAL);
    CHECK_INT(bt_serve_auth_add(a, "AKIDSPACE", "has space", &err), BT_EINVAL);
    CHECK(strstr(err.msg, "has space") == NULL);
    CHECK_INT(bt_serve_auth_count(a), 2);
    memset(&cfg, 0, sizeof cfg);
    cfg.auth = a;
    cfg.now = NOW;

    signed_call(&c, &cfg, SECRET, "cloudtrail", NOW, "{\"MaxResults\":3}");
    CHECK_INT(c.r.status, 200);
    CHECK_INT(c.r.events, 3);
    CHECK_STR(c.r.access_key_id, AKID);
    done_call(&c);
    /* within the skew, both ways */
    signed_call(&c, &cfg, SECRET, "cloudtrail", NOW - 14 * 60, "{}");
    CHECK_INT(c.r.status, 200);
    done_call(&c);
    signed_call(&c, &cfg, SECRET, "cloudtrail", NOW + 14 * 60, "{}");
    CHECK_INT(c.r.status, 200);
    done_call(&c);
    signed_call(&c, &cfg, SECRET, "cloudtrail", NOW - 16 * 60, "{}");
    CHECK_INT(c.r.status, 403);
    CHECK_STR(err_type(&c), "InvalidSignatureException");
    CHECK(c.v && strncmp(bt_json_get_str(c.v, "message"), "Signature expired: 20261001T100400Z is "
                                                          "now earlier than 20261001T100500Z",
                         60) == 0);
    done_call(&c);
    signed_call(&c, &cfg, SECRET, "cloudtrail", NOW + 16 * 60, "{}");
    CHECK_INT(c.r.status, 403);
    CHECK(c.v && strncmp(bt_json_get_str(c.v, "message"), "Signature not yet current", 25) == 0);
    done_call(&c);
    signed_call(&c, &cfg, "wrong" SECRET, "cloudtrail", NOW, "{}");
    CHECK_INT(c.r.status, 403);
    CHECK_STR(err_type(&c), "InvalidSignatureException");
    CHECK(strstr(c.r.body.data, "does not match the signature you provided") != NULL);
    CHECK(strstr(c.r.body.data, "wJalr") == NULL);
    done_call(&c);
    signed_call(&c, &cfg, SECRET, "codebuild", NOW, "{}");
    CHECK_INT(c.r.status, 403);
    CHECK_STR(err_type(&c), "IncompleteSignatureException");
    done_call(&c);
    /* unsigned */
    do_call_full(&c, &cfg, "POST", "/", TGT, "{}", NULL, 0);
    CHECK_INT(c.r.status, 403);
    CHECK_STR(err_type(&c), "MissingAuthenticationTokenException");
    done_call(&c);
    /* unknown key */
    {
        bt_sigv4_header h[2] = {
            {"X-Amz-Date", "20261001T102000Z"},
            {"Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20261001/us-east-1/cloudtrail/aws4_request, "
             "SignedHeaders=host;x-amz-date, "
             "Signature=0000000000000000000000000000000000000000000000000000000000000000"}};
        do_call_full(&c, &cfg, "POST", "/", TGT, "{}", h, 2);
        CHECK_INT(c.r.status, 403);
        CHECK_STR(err_type(&c), "UnrecognizedClientException");
        done_call(&c);
        h[1].value = "AWS4-HMAC-SHA256 Credential=AKIDNOBODY";
        do_call_full(&c, &cfg, "POST", "/", TGT, "{}", h, 2);
        CHECK_INT(c.r.status, 403);
        CHECK_STR(err_type(&c), "IncompleteSignatureException");
        done_call(&c);
    }
    /* auth comes before dispatch: an unsigned unknown operation is still 403 */
    do_call_full(&c, &cfg, "POST", "/", "Nope.Nope", "{}", NULL, 0);
    CHECK_INT(c.r.status, 403);
    done_call(&c);
    /* a body changed after signing */
    {
        bt_sigv4_header h[4];
        bt_sigv4_request req;
        bt_sigv4_params p;
        bt_sigv4_out out;
        bt_sigv4_header all[8];
        size_t i;
        memset(&req, 0, sizeof req);
        h[0].name = "Host";
        h[0].value = "127.0.0.1:8090";
        h[1].name = "X-Amz-Target";
        h[1].value = TGT;
        req.method = "POST";
        req.path = "/";
        req.headers = h;
        req.nheaders = 2;
        req.body = "{}";
        req.body_len = 2;
        memset(&p, 0, sizeof p);
        p.access_key_id = AKID;
        p.secret_access_key = SECRET;
        p.region = "us-east-1";
        p.service = "cloudtrail";
        p.amz_date = "20261001T102000Z";
        bt_sigv4_out_init(&out);
        CHECK_INT(bt_sigv4_sign(&req, &p, &out, &err), 0);
        all[0] = h[1];
        for (i = 0; i < out.nadd; i++)
            all[1 + i] = out.add[i];
        do_call_full(&c, &cfg, "POST", "/", NULL, "{\"MaxResults\":1}", all, 1 + out.nadd);
        CHECK_INT(c.r.status, 403);
        CHECK_STR(err_type(&c), "InvalidSignatureException");
        done_call(&c);
        bt_sigv4_out_dispose(&out);
    }
    bt_serve_auth_free(a);
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_auth_file(void)
{
    char p[256];
    bt_serve_auth *a = NULL;
    bt_error err = BT_ERROR_INIT;

    snprintf(p, sizeof p, "%s/keys", dir);
    write_file(p, "# comment\n\n  AKID1   secret/one+x  \nAKID2\tsecret2\r\n   # indented comment\n");
    CHECK_INT(bt_serve_auth_load(p, &a, &err), 0);
    CHECK_INT(bt_serve_auth_count(a), 2);
    bt_serve_auth_free(a);
    write_file(p, "AKID1 secret1\nAKID2 secret2 extra\n");
    CHECK_INT(bt_serve_auth_load(p, &a, &err), BT_EPARSE);
    CHECK(a == NULL);
    CHECK(strstr(err.msg, "line 2") != NULL);
    CHECK(strstr(err.msg, "secret") == NULL || strstr(err.msg, "SECRET") != NULL);
    write_file(p, "AKID1 topsecretvalue\nAKID1 othersecretvalue\n");
    CHECK_INT(bt_serve_auth_load(p, &a, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "topsecretvalue") == NULL && strstr(err.msg, "othersecretvalue") == NULL);
    write_file(p, "# nothing\n");
    CHECK_INT(bt_serve_auth_load(p, &a, &err), BT_EPARSE);
    CHECK_INT(bt_serve_auth_load("/nonexistent/keys", &a, &err), BT_EIO);
    bt_serve_auth_free(NULL);
}

/* ---- the HTTP server over loopback ---- */

typedef struct cbuf {
    char *p;
    size_t n;
} cbuf;

static size_t on_data(char *d, size_t s, size_t n, void *ctx)
{
    cbuf *b = ctx;
    char *q = realloc(b->p, b->n + s * n + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, d, s * n);
    b->n += s * n;
    q[b->n] = '\0';
    b->p = q;
    return s * n;
}

static long http_post(CURL *h, const char *url, const char *body, size_t len, cbuf *out)
{
    struct curl_slist *hs = NULL;
    long code = 0;
    hs = curl_slist_append(hs, "X-Amz-Target: " TGT);
    hs = curl_slist_append(hs, "Content-Type: " BT_SERVE_CONTENT_TYPE);
    free(out->p);
    out->p = NULL;
    out->n = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hs);
    return code;
}

typedef struct client_arg {
    const char *url;
    int ok;
} client_arg;

static void *client_thread(void *p)
{
    client_arg *ca = p;
    CURL *h = curl_easy_init();
    cbuf b = {NULL, 0};
    int i;
    for (i = 0; h && i < 40; i++)
        if (http_post(h, ca->url, "{\"MaxResults\":50}", 17, &b) == 200 && b.p &&
            strstr(b.p, "\"NextToken\""))
            ca->ok++;
    free(b.p);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static int log_lines;
static void on_log(void *ctx, int level, const char *line)
{
    (void)ctx;
    (void)level;
    (void)line;
    __atomic_add_fetch(&log_lines, 1, __ATOMIC_SEQ_CST);
}

static void test_http(void)
{
    bt_server_opts o;
    bt_server *srv = NULL;
    bt_error err = BT_ERROR_INIT;
    char url[128];
    CURL *h;
    cbuf b = {NULL, 0};
    char *big;
    pthread_t th[4];
    client_arg ca[4];
    int i;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&o, 0, sizeof o);
    o.store_path = path;
    o.threads = 2;
    o.cfg.log = on_log;
    o.cfg.log_requests = 1;
    CHECK_INT(bt_server_start(&o, &srv, &err), 0);
    if (!srv) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(bt_server_port(srv) > 0);
    bt_server_url(srv, url, sizeof url);
    CHECK(strncmp(url, "http://127.0.0.1:", 17) == 0);
    /* a second server on the same port fails with a clear message */
    {
        bt_server *s2 = NULL;
        o.port = bt_server_port(srv);
        CHECK_INT(bt_server_start(&o, &s2, &err), BT_EIO);
        CHECK(strstr(err.msg, "in use") != NULL);
        bt_server_stop(s2);
        o.port = 0;
        o.listen = "localhost";
        CHECK_INT(bt_server_start(&o, &s2, &err), BT_EINVAL);
        o.listen = NULL;
    }
    h = curl_easy_init();
    /* keep-alive: several requests on one connection */
    for (i = 0; i < 3; i++) {
        CHECK_INT(http_post(h, url, "{\"MaxResults\":2}", 16, &b), 200);
        CHECK(b.p && strncmp(b.p, "{\"Events\":[{\"EventId\":", 22) == 0);
    }
    CHECK_INT(http_post(h, url, "{\"MaxResults\":0}", 16, &b), 400);
    CHECK(b.p && strstr(b.p, "InvalidMaxResultsException"));
    big = malloc(100000);
    memset(big, ' ', 100000);
    CHECK_INT(http_post(h, url, big, 100000, &b), 413);
    free(big);
    CHECK_INT(http_post(h, url, "{\"MaxResults\":1}", 16, &b), 200);
    /* events committed by another connection become visible */
    {
        bt_store *w = NULL;
        bt_buf rec = BT_BUF_INIT;
        CHECK_INT(bt_store_open(path, 0, &w, &err), 0);
        CHECK_INT(bt_store_begin(w, &err), 0);
        record(&rec, 999);
        CHECK_INT(add_text(w, rec.data), 0);
        CHECK_INT(bt_store_commit(w, &err), 0);
        bt_store_close(w);
        bt_buf_dispose(&rec);
        CHECK_INT(http_post(h, url, "{\"MaxResults\":1}", 16, &b), 200);
        CHECK(b.p && strstr(b.p, "00000000-0000-4000-8000-000000000999") != NULL);
    }
    /* concurrent clients */
    for (i = 0; i < 4; i++) {
        ca[i].url = url;
        ca[i].ok = 0;
        pthread_create(&th[i], NULL, client_thread, &ca[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(ca[i].ok, 40);
    }
    curl_easy_cleanup(h);
    free(b.p);
    bt_server_stop(srv);
    CHECK(log_lines >= 167);
    bt_server_stop(NULL);
    curl_global_cleanup();
}

static void test_setup(void)
{
    bt_error err = BT_ERROR_INIT;
    make_store();
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &g_store, &err), 0);
    g_scratch = bt_arena_new(0, 0);
}

static void test_teardown(void)
{
    bt_store_close(g_store);
    bt_arena_free(g_scratch);
    remove_store();
}

BT_TEST_MAIN(test_setup, test_default_page, test_paging, test_filters, test_errors,
             test_token_binding, test_dispatch, test_auth, test_auth_file, test_http,
             test_teardown)
