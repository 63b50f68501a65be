/* test_web.c - unit tests of the web view of `serve` through the public API: routing in
 * bt_serve_handle (pages, assets, /api/ JSON equal to the CLI's documents, 404s, the
 * API left alone without cfg.web), the UI token login (rejection, the cookie, Bearer,
 * no open redirect), the escaping of record values in bt_serve_build_html, and short
 * build ids (bt_build_resolve_short; /builds/<prefix> redirects or lists candidates). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/builds.h"
#include "buildtrail/format.h"
#include "buildtrail/json.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"
#include "tharness.h"

#define UUID "5a5a5a5a-1111-4222-8333-444455556666"
#define UUID2 "5a5a5a5a-2222-4222-8333-444455556666" /* the same 8-character prefix */
#define PAY "<script>x=1</script>\\\"><svg onload=x=2>"
#define TOKEN "0123456789abcdef-token"

static char dir[128], path[192];

static const char *const records[] = {
    "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::"
    "111122223333:user/m\",\"accountId\":\"111122223333\",\"userName\":\"m\"},\"eventTime\":"
    "\"2026-10-02T10:00:00Z\",\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":"
    "\"StartBuild\",\"awsRegion\":\"us-east-1\",\"userAgent\":\"" PAY "\",\"requestParameters\":"
    "{\"projectName\":\"p\",\"sourceVersion\":\"javascript:x=3\"},\"responseElements\":{\"build\":"
    "{\"id\":\"p:" UUID "\",\"arn\":\"arn:aws:codebuild:us-east-1:111122223333:build/p:" UUID
    "\"}},\"eventID\":\"00000000-0000-4000-8000-000000000001\",\"eventType\":\"AwsApiCall\","
    "\"recipientAccountId\":\"111122223333\"}",
    "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::"
    "111122223333:assumed-role/r/AWSCodeBuild-" UUID "\",\"accountId\":\"111122223333\"},"
    "\"eventTime\":\"2026-10-02T10:01:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
    "\"Get" PAY "\",\"awsRegion\":\"us-east-1\",\"errorCode\":\"AccessDenied\",\"errorMessage\":"
    "\"" PAY "\",\"eventID\":\"00000000-0000-4000-8000-000000000002\",\"eventType\":"
    "\"AwsApiCall\",\"recipientAccountId\":\"111122223333\"}",
    "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::"
    "111122223333:assumed-role/r/AWSCodeBuild-" UUID2 "\",\"accountId\":\"111122223333\"},"
    "\"eventTime\":\"2026-10-02T11:01:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
    "\"GetObject\",\"awsRegion\":\"us-east-1\",\"eventID\":\"00000000-0000-4000-8000-"
    "000000000003\","
    "\"eventType\":\"AwsApiCall\",\"recipientAccountId\":\"111122223333\"}",
};

static void make_store(void)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    size_t i;
    snprintf(dir, sizeof dir, "/tmp/bt-test-web-%d", (int)getpid());
    snprintf(path, sizeof path, "%s/events.db", dir);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < sizeof records / sizeof records[0]; i++) {
        bt_arena *a = bt_arena_new(0, 0);
        bt_json *v = NULL;
        bt_event ev;
        int is_new;
        CHECK_INT(bt_json_parse(a, records[i], strlen(records[i]), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev, &err), 0);
        CHECK_INT(bt_store_add(s, &ev, &is_new, &err), 0);
        bt_arena_free(a);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    bt_store_close(s);
}

static void remove_store(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

typedef struct call {
    bt_serve_response r;
    bt_store *s;
    bt_arena *a;
} call;

static void get(call *c, const bt_serve_config *cfg, const char *method, const char *pathq,
                const char *body, const char *hname, const char *hvalue)
{
    bt_sigv4_header h[2] = {{"Host", "127.0.0.1"}, {hname, hvalue}};
    bt_serve_request req;
    char p[256];
    char *q;
    snprintf(p, sizeof p, "%s", pathq);
    q = strchr(p, '?');
    if (q)
        *q++ = '\0';
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = p;
    req.query = q;
    req.headers = h;
    req.nheaders = hname ? 2 : 1;
    req.body = body ? body : "";
    req.body_len = body ? strlen(body) : 0;
    bt_serve_handle(cfg, c->s, c->a, &req, &c->r);
}

static const char *body(const call *c)
{
    return c->r.body.data ? c->r.body.data : "";
}

static void test_routes(void)
{
    bt_serve_config cfg;
    call c;
    bt_error err = BT_ERROR_INIT;
    bt_timeline *t = NULL;
    bt_buf want = BT_BUF_INIT;
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    memset(&cfg, 0, sizeof cfg);
    memset(&c, 0, sizeof c);
    bt_serve_response_init(&c.r);
    c.a = bt_arena_new(0, 0);
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &c.s, &err), 0);
    /* without cfg.web the API's answer is unchanged */
    get(&c, &cfg, "GET", "/", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 404);
    CHECK(c.r.content_type == NULL);
    cfg.web = 1;
    get(&c, &cfg, "GET", "/", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK_STR(c.r.content_type, "text/html; charset=utf-8");
    CHECK(c.r.web);
    CHECK(strstr(body(&c), "/builds/" UUID) != NULL);
    CHECK(strstr(body(&c), "<script>x=1") == NULL);
    get(&c, &cfg, "GET", "/static/web.js", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK(strstr(body(&c), "textContent") != NULL);
    get(&c, &cfg, "GET", "/builds/p%3A" UUID, NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK(strstr(body(&c), "&lt;script&gt;x=1&lt;/script&gt;") != NULL);
    CHECK(strstr(body(&c), "<svg onload") == NULL);
    CHECK(strstr(body(&c), "<a class=\"tk err\"") != NULL);
    /* /api/builds/<id> is the `build --output json` document */
    get(&c, &cfg, "GET", "/api/builds/" UUID, NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK_INT(bt_build_timeline(c.s, UUID, NULL, &t, &err), 0);
    fo.title = "Build";
    CHECK_INT(bt_format_write(&want, bt_timeline_to_json(c.a, t), &fo, &err), 0);
    CHECK_STR(body(&c), want.data);
    get(&c, &cfg, "GET", "/api/builds/00000000-0000-4000-8000-00000000dead", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 404);
    CHECK_STR(c.r.content_type, "application/json");
    get(&c, &cfg, "GET", "/events?errors=1", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK(strstr(body(&c), "<details class=\"ev err\"") != NULL);
    get(&c, &cfg, "GET", "/api/events?n=1", NULL, NULL, NULL);
    CHECK(strstr(body(&c), "\"NextToken\"") != NULL);
    get(&c, &cfg, "GET", "/events?start-time=not-a-time", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 400);
    get(&c, &cfg, "GET", "/nope", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 404);
    /* the API still answers POST / */
    get(&c, &cfg, "POST", "/", "{}", "X-Amz-Target", BT_SERVE_TARGET_PREFIX "LookupEvents");
    CHECK_INT(c.r.status, 200);
    CHECK(c.r.content_type == NULL && !c.r.web);
    bt_buf_dispose(&want);
    bt_timeline_free(t);
    bt_store_close(c.s);
    bt_arena_free(c.a);
    bt_serve_response_dispose(&c.r);
}

static void test_token(void)
{
    bt_serve_config cfg;
    call c;
    bt_error err = BT_ERROR_INIT;
    char cookie[160];
    memset(&cfg, 0, sizeof cfg);
    memset(&c, 0, sizeof c);
    bt_serve_response_init(&c.r);
    c.a = bt_arena_new(0, 0);
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &c.s, &err), 0);
    cfg.web = 1;
    cfg.ui_token = TOKEN;
    get(&c, &cfg, "GET", "/builds/" UUID, NULL, NULL, NULL);
    CHECK_INT(c.r.status, 303);
    CHECK_STR(c.r.location, "/login?next=%2Fbuilds%2F" UUID);
    get(&c, &cfg, "GET", "/api/builds", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 401);
    get(&c, &cfg, "GET", "/login?next=%2Fevents", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 200);
    CHECK(strstr(body(&c), "value=\"/events\"") != NULL);
    get(&c, &cfg, "POST", "/login", "token=wrong&next=%2F", NULL, NULL);
    CHECK_INT(c.r.status, 403);
    CHECK_STR(c.r.set_cookie, "");
    get(&c, &cfg, "POST", "/login", "token=" TOKEN "&next=%2F%2Fevil.example", NULL, NULL);
    CHECK_INT(c.r.status, 303);
    CHECK_STR(c.r.location, "/"); /* no open redirect */
    CHECK(strstr(c.r.set_cookie, "; HttpOnly; SameSite=Strict") != NULL);
    CHECK(strstr(c.r.set_cookie, TOKEN) == NULL);
    CHECK(strstr(c.r.set_cookie, "Secure") == NULL);
    snprintf(cookie, sizeof cookie, "a=b; %.*s", (int)strcspn(c.r.set_cookie, ";"), c.r.set_cookie);
    get(&c, &cfg, "GET", "/", NULL, "Cookie", cookie);
    CHECK_INT(c.r.status, 200);
    cookie[strlen(cookie) - 1] ^= 1;
    get(&c, &cfg, "GET", "/", NULL, "Cookie", cookie);
    CHECK_INT(c.r.status, 303);
    get(&c, &cfg, "GET", "/api/builds", NULL, "Authorization", "Bearer " TOKEN);
    CHECK_INT(c.r.status, 200);
    get(&c, &cfg, "GET", "/api/builds", NULL, "Authorization", "Bearer " TOKEN "x");
    CHECK_INT(c.r.status, 401);
    cfg.tls = 1;
    get(&c, &cfg, "POST", "/login", "token=" TOKEN, NULL, NULL);
    CHECK(strstr(c.r.set_cookie, "; Secure") != NULL);
    bt_store_close(c.s);
    bt_arena_free(c.a);
    bt_serve_response_dispose(&c.r);
}

static void test_report(void)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_timeline *t = NULL;
    bt_buf b = BT_BUF_INIT;
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    CHECK_INT(bt_build_timeline(s, UUID, NULL, &t, &err), 0);
    CHECK_INT(bt_serve_build_html(t, 1, &b), 0);
    CHECK(strstr(b.data, "Content-Security-Policy") != NULL);
    CHECK(strstr(b.data, "script-src 'sha256-") != NULL);
    CHECK(strstr(b.data, "/static/") == NULL);
    CHECK(strstr(b.data, "<script>x=1") == NULL);
    CHECK(strstr(b.data, "<svg onload") == NULL);
    CHECK(strstr(b.data, "&quot;&gt;&lt;svg onload=x=2&gt;") != NULL);
    CHECK(strstr(b.data, "href=\"javascript") == NULL);
    bt_buf_dispose(&b);
    bt_timeline_free(t);
    bt_store_close(s);
}

/* short build ids: the library's resolver, and /builds/<prefix> redirecting to the build
 * or listing the candidates */
static void test_short(void)
{
    bt_serve_config cfg;
    bt_build_match m[4];
    bt_error err = BT_ERROR_INIT;
    size_t n = 99;
    call c;
    CHECK_STR(bt_build_short_prefix("5a5a5a5a"), "5a5a5a5a");
    CHECK_STR(bt_build_short_prefix("p:5A5A"), "5A5A");
    CHECK(bt_build_short_prefix("5a5") == NULL);    /* too short */
    CHECK(bt_build_short_prefix(UUID) == NULL);     /* a whole uuid is not short */
    CHECK(bt_build_short_prefix("p:xyz0") == NULL); /* not hex */
    CHECK(bt_build_short_prefix("arn:aws:x:5a5a5a5a") == NULL);
    memset(&cfg, 0, sizeof cfg);
    memset(&c, 0, sizeof c);
    bt_serve_response_init(&c.r);
    c.a = bt_arena_new(0, 0);
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &c.s, &err), 0);
    CHECK_INT(bt_build_resolve_short(c.s, "5A5A5A5A", c.a, m, 4, &n, &err), 0);
    CHECK_INT(n, 2);
    CHECK_STR(m[0].uuid, UUID2); /* newest first */
    CHECK_STR(m[1].uuid, UUID);
    CHECK_STR(m[1].build_id, "p:" UUID);
    CHECK_INT(bt_build_resolve_short(c.s, "5a5a5a5a-1", c.a, m, 4, &n, &err), 0);
    CHECK_INT(n, 1);
    CHECK_STR(m[0].uuid, UUID);
    CHECK_INT(bt_build_resolve_short(c.s, "p:5a5a", c.a, m, 1, &n, &err), 0);
    CHECK_INT(n, 1); /* the project narrows it */
    CHECK_INT(bt_build_resolve_short(c.s, "5a5a", c.a, m, 1, &n, &err), 0);
    CHECK_INT(n, 2); /* counted beyond max */
    CHECK_INT(bt_build_resolve_short(c.s, "ffff0000", c.a, m, 4, &n, &err), 0);
    CHECK_INT(n, 0);
    CHECK_INT(bt_build_resolve_short(c.s, "p:" UUID, c.a, m, 4, &n, &err), BT_EINVAL);
    cfg.web = 1;
    get(&c, &cfg, "GET", "/builds/5a5a5a5a-1", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 302);
    CHECK_STR(c.r.location, "/builds/" UUID);
    get(&c, &cfg, "GET", "/builds/p%3A5a5a", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 302);
    CHECK_STR(c.r.location, "/builds/" UUID);
    get(&c, &cfg, "GET", "/api/builds/5a5a5a5a-2", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 302);
    CHECK_STR(c.r.location, "/api/builds/" UUID2);
    get(&c, &cfg, "GET", "/builds/5a5a5a5a", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 300);
    CHECK_STR(c.r.location, "");
    CHECK_STR(c.r.content_type, "text/html; charset=utf-8");
    CHECK(strstr(body(&c), "<a href=\"/builds/" UUID "\">p:" UUID "</a>") != NULL);
    CHECK(strstr(body(&c), "<a href=\"/builds/" UUID2 "\">") != NULL);
    get(&c, &cfg, "GET", "/api/builds/5a5a5a5a", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 300);
    CHECK(strstr(body(&c), "\"Builds\": [\"" UUID2 "\", \"p:" UUID "\"]") != NULL);
    get(&c, &cfg, "GET", "/builds/ffff0000", NULL, NULL, NULL);
    CHECK_INT(c.r.status, 404);
    bt_store_close(c.s);
    bt_arena_free(c.a);
    bt_serve_response_dispose(&c.r);
}

static void test_setup(void)
{
    make_store();
}

static void test_teardown(void)
{
    remove_store();
}

BT_TEST_MAIN(test_setup, test_routes, test_token, test_report, test_short, test_teardown)
