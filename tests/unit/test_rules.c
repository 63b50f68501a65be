/*
 * test_rules.c - the Sigma engine through include/buildtrail/rules.h: loading (multi
 * documents, directories, filters, correlations), every condition form, value forms
 * and modifiers, derived buildtrail.* fields, plans and the pre-filter, correlation
 * windows, and the one-line refusals of bad rules.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"
#include "tharness.h"

static bt_arena *g_arena;

static const char *g_rec =
    "{\"eventVersion\":\"1.08\",\"eventTime\":\"2025-01-01T00:00:00Z\","
    "\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateAccessKey\","
    "\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"10.1.2.3\","
    "\"userAgent\":\"aws-cli/2.15.0 Python/3.11\",\"errorCode\":null,"
    "\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/"
    "build/AWSCodeBuild-1234\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\"}}},"
    "\"requestParameters\":{\"userName\":\"bob\",\"tags\":[{\"key\":\"a\",\"value\":\"x*y\"},"
    "{\"key\":\"b\",\"value\":\"C:\\\\tmp\\\\a.exe\"}],\"count\":42,\"ratio\":\"7.5\","
    "\"enabled\":true,\"cmd\":\"powershell -enc SQBFAFgA\",\"b64\":\"aGVsbG8gd29ybGQ=\","
    "\"multi\":\"line1\\nLINE2\"},"
    "\"responseElements\":{\"accessKey\":{\"userName\":\"bob\",\"status\":\"Active\"}},"
    "\"eventID\":\"e-1\"}";

static bt_json *rec(const char *json)
{
    bt_json *v = NULL;
    bt_error err = BT_ERROR_INIT;
    if (!g_arena)
        g_arena = bt_arena_new(0, 0);
    if (bt_json_parse(g_arena, json, strlen(json), NULL, &v, &err) != 0) {
        printf("bad test JSON: %s\n", err.msg);
        return NULL;
    }
    return v;
}

static bt_ruleset *load(const char *yaml, bt_error *err)
{
    bt_ruleset *rs = bt_rules_new();
    if (bt_rules_add_buffer(rs, "t.yml", yaml, strlen(yaml), err) != 0 ||
        bt_rules_compile(rs, err) != 0) {
        bt_rules_free(rs);
        return NULL;
    }
    return rs;
}

/* Matches a one-rule detection body (selections + condition) against record json. */
static int det(const char *body, const char *json, const bt_rule_derived *d)
{
    char yaml[8192];
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs;
    int m;
    snprintf(yaml, sizeof yaml,
             "title: t\nid: r1\nlogsource:\n  product: aws\n  service: cloudtrail\n"
             "detection:\n%s\n",
             body);
    rs = load(yaml, &err);
    if (!rs) {
        printf("load failed: %s\n", err.msg);
        return -1;
    }
    m = bt_rule_match(bt_rules_at(rs, 0), rec(json ? json : g_rec), d);
    bt_rules_free(rs);
    return m;
}

/* Loading must fail with a message containing `want`. */
static void refuse(const char *yaml, const char *want)
{
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs = load(yaml, &err);
    CHECK(rs == NULL);
    if (!strstr(err.msg, want) || strchr(err.msg, '\n') || strncmp(err.msg, "'t.yml': ", 9))
        printf("  message: %s (want %s)\n", err.msg, want);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK(strncmp(err.msg, "'t.yml': ", 9) == 0);
    bt_rules_free(rs);
}

#define DET(body, want) CHECK_INT(det(body, NULL, NULL), want)

static void test_condition_grammar(void)
{
    const char *sels = "  sel_a:\n    eventName: CreateAccessKey\n"
                       "  sel_b:\n    eventSource: s3.amazonaws.com\n"
                       "  filter_x:\n    awsRegion: us-east-1\n"
                       "  _hidden:\n    eventName: Nope\n";
    char b[2048];
#define COND(c, want)                                                                              \
    snprintf(b, sizeof b, "%s  condition: %s", sels, c);                                           \
    CHECK_INT(det(b, NULL, NULL), want)
    COND("sel_a", 1);
    COND("sel_b", 0);
    COND("sel_a and sel_b", 0);
    COND("sel_a or sel_b", 1);
    COND("not sel_b", 1);
    COND("sel_a and not sel_b", 1);
    COND("not sel_a or sel_b", 0);
    COND("(sel_a or sel_b) and filter_x", 1);
    COND("sel_a and (sel_b or not filter_x)", 0);
    COND("1 of sel_*", 1);
    COND("all of sel_*", 0);
    COND("all of sel_a*", 1);
    COND("1 of sel* and not 1 of filter*", 0);
    COND("1 of them", 1);
    COND("all of them", 0); /* sel_b fails */
    COND("not not sel_a", 1);
    COND("sel_a or sel_b and filter_x", 1); /* and binds tighter */
    COND("sel_b or sel_b and sel_a", 0);
    COND("1 of *_x", 1);
    COND("SEL_A", -1); /* identifiers are case-sensitive: unknown */
#undef COND
    /* `them` skips identifiers starting with _ */
    DET("  _a:\n    eventName: Nope\n  b:\n    eventName: CreateAccessKey\n  condition: all of "
        "them",
        1);
    /* a list of conditions is OR */
    DET("  a:\n    eventName: Nope\n  b:\n    eventName: CreateAccessKey\n  condition:\n    - a\n  "
        "  - b",
        1);
}

static void test_values(void)
{
    /* case-insensitive by default, lists are OR, maps AND */
    DET("  s:\n    eventName: createaccesskey\n  condition: s", 1);
    DET("  s:\n    eventName:\n      - A\n      - CREATEACCESSKEY\n  condition: s", 1);
    DET("  s:\n    eventName: CreateAccessKey\n    awsRegion: eu-west-1\n  condition: s", 0);
    /* list of maps: OR of ANDs */
    DET("  s:\n    - eventName: X\n      awsRegion: us-east-1\n    - eventName: CreateAccessKey\n"
        "      awsRegion: us-east-1\n  condition: s",
        1);
    DET("  s:\n    - eventName: X\n    - awsRegion: eu-west-1\n  condition: s", 0);
    /* wildcards and escapes */
    DET("  s:\n    eventName: Create*Key\n  condition: s", 1);
    DET("  s:\n    eventName: Create?ccessKey\n  condition: s", 1);
    DET("  s:\n    eventName: Create?Key\n  condition: s", 0);
    DET("  s:\n    requestParameters.tags.value: 'x\\*y'\n  condition: s", 1);
    DET("  s:\n    requestParameters.tags.value: 'x\\*z'\n  condition: s", 0);
    DET("  s:\n    requestParameters.tags.value: 'x*y'\n  condition: s", 1);
    DET("  s:\n    requestParameters.tags.value: 'C:\\tmp\\a.exe'\n  condition: s", 1);
    DET("  s:\n    requestParameters.tags.value: 'C:\\\\tmp\\\\a.exe'\n  condition: s", 1);
    DET("  s:\n    requestParameters.tags.value: '*\\a.exe'\n  condition: s", 1);
    /* null: absent or null */
    DET("  s:\n    errorCode: null\n  condition: s", 1);
    DET("  s:\n    noSuchField: null\n  condition: s", 1);
    DET("  s:\n    eventName: null\n  condition: s", 0);
    /* empty string is not null */
    DET("  s:\n    errorCode: ''\n  condition: s", 0);
    /* numbers by value; strings compare as text */
    DET("  s:\n    requestParameters.count: 42\n  condition: s", 1);
    DET("  s:\n    requestParameters.count: 42.0\n  condition: s", 1);
    DET("  s:\n    requestParameters.count: '42'\n  condition: s", 1);
    DET("  s:\n    requestParameters.count: 43\n  condition: s", 0);
    /* booleans compare as true/false */
    DET("  s:\n    requestParameters.enabled: 'true'\n  condition: s", 1);
    DET("  s:\n    requestParameters.enabled: false\n  condition: s", 0);
    /* dotted paths walk objects and arrays (any element) */
    DET("  s:\n    requestParameters.tags.key: b\n  condition: s", 1);
    DET("  s:\n    userIdentity.sessionContext.sessionIssuer.type: Role\n  condition: s", 1);
    /* a container matches when a value inside it does */
    DET("  s:\n    responseElements|contains: active\n  condition: s", 1);
    /* keywords: anywhere in the values */
    DET("  kw:\n    - AWSCodeBuild-1234\n  condition: kw", 1);
    DET("  kw:\n    - nowhere-to-be-found\n  condition: kw", 0);
    DET("  kw: 'aws-cli'\n  condition: kw", 1);
    DET("  kw:\n    '|all':\n      - powershell\n      - bob\n  condition: kw", 1);
    DET("  kw:\n    '|all':\n      - powershell\n      - alice\n  condition: kw", 0);
}

static void test_modifiers(void)
{
    DET("  s:\n    eventName|contains: accessk\n  condition: s", 1);
    DET("  s:\n    eventName|startswith: create\n  condition: s", 1);
    DET("  s:\n    eventName|endswith: key\n  condition: s", 1);
    DET("  s:\n    eventName|endswith: create\n  condition: s", 0);
    DET("  s:\n    userAgent|contains|all:\n      - aws-cli\n      - python\n  condition: s", 1);
    DET("  s:\n    userAgent|contains|all:\n      - aws-cli\n      - boto\n  condition: s", 0);
    DET("  s:\n    eventName|cased: createaccesskey\n  condition: s", 0);
    DET("  s:\n    eventName|cased: CreateAccessKey\n  condition: s", 1);
    DET("  s:\n    eventName|contains|cased: Access\n  condition: s", 1);
    /* re with i/m/s */
    DET("  s:\n    userIdentity.arn|re: ':assumed-role/[a-z]+/AWSCodeBuild-[0-9]+$'\n  condition: "
        "s",
        1);
    DET("  s:\n    eventName|re: '^createaccesskey$'\n  condition: s", 0);
    DET("  s:\n    eventName|re|i: '^createaccesskey$'\n  condition: s", 1);
    DET("  s:\n    requestParameters.multi|re: '^LINE2$'\n  condition: s", 0);
    DET("  s:\n    requestParameters.multi|re|m: '^LINE2$'\n  condition: s", 1);
    DET("  s:\n    requestParameters.multi|re: 'line1.LINE2'\n  condition: s", 0);
    DET("  s:\n    requestParameters.multi|re|s: 'line1.LINE2'\n  condition: s", 1);
    /* the regex's required literal is only a shortcut: results are the regex's */
    DET("  s:\n    eventName|re: 'Create(Access|Foo)Key'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'Foo|Access'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'Creat(e)?Ac{1,2}essKey'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'Cx{0}reateAccessKey'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'CreateX?AccessKey'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'Create[A-Z]ccess\\w+'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'Cre+ateAccessKey'\n  condition: s", 1);
    DET("  s:\n    eventName|re|i: 'CREATE.CCESS'\n  condition: s", 1);
    DET("  s:\n    eventName|re: '(?i)CREATEACCESS'\n  condition: s", 1);
    DET("  s:\n    eventName|re: 'CREATEACCESS'\n  condition: s", 0);
    DET("  s:\n    eventName|re: 'Create\\.Access'\n  condition: s", 0);
    /* cidr v4 and v6 */
    DET("  s:\n    sourceIPAddress|cidr: 10.0.0.0/8\n  condition: s", 1);
    DET("  s:\n    sourceIPAddress|cidr:\n      - 192.168.0.0/16\n      - 10.1.2.0/25\n  "
        "condition: s",
        1);
    DET("  s:\n    sourceIPAddress|cidr: 10.1.3.0/24\n  condition: s", 0);
    CHECK_INT(det("  s:\n    sourceIPAddress|cidr: '2001:db8::/32'\n  condition: s",
                  "{\"sourceIPAddress\":\"2001:db8:1::5\"}", NULL),
              1);
    CHECK_INT(det("  s:\n    sourceIPAddress|cidr: '2001:db8::/32'\n  condition: s",
                  "{\"sourceIPAddress\":\"2001:db9::5\"}", NULL),
              0);
    /* exists */
    DET("  s:\n    errorCode|exists: true\n  condition: s", 1); /* present though null */
    DET("  s:\n    errorMessage|exists: true\n  condition: s", 0);
    DET("  s:\n    errorMessage|exists: false\n  condition: s", 1);
    /* fieldref (also with endswith) */
    DET("  s:\n    requestParameters.userName|fieldref: responseElements.accessKey.userName\n  "
        "condition: s",
        1);
    DET("  s:\n    userIdentity.arn|fieldref: requestParameters.userName\n  condition: s", 0);
    DET("  s:\n    userIdentity.arn|fieldref|endswith: requestParameters.count\n  condition: s", 0);
    CHECK_INT(det("  s:\n    userIdentity.arn|fieldref|endswith: requestParameters.userName\n  "
                  "condition: s",
                  "{\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/"
                  "BOB\"},\"requestParameters\":{\"userName\":\"bob\"}}",
                  NULL),
              1);
    /* base64 / base64offset */
    DET("  s:\n    requestParameters.b64|base64: hello world\n  condition: s", 1);
    DET("  s:\n    requestParameters.b64|base64offset|contains: world\n  condition: s", 1);
    DET("  s:\n    requestParameters.cmd|base64offset|contains: IEX\n  condition: s",
        0); /* utf16 not done */
    CHECK_INT(det("  s:\n    x|base64offset|contains: secret\n  condition: s",
                  "{\"x\":\"cnVuIHNlY3JldCBub3c=\"}", NULL),
              1); /* "run secret now" */
    CHECK_INT(det("  s:\n    x|base64offset|contains: secret\n  condition: s",
                  "{\"x\":\"YSBzZWNyZXQ=\"}", NULL),
              1); /* "a secret" */
    CHECK_INT(det("  s:\n    x|base64offset|contains: secret\n  condition: s",
                  "{\"x\":\"YWIgc2VjcmV0\"}", NULL),
              1); /* "ab secret" */
    /* numeric comparisons (numbers and numeric strings) */
    DET("  s:\n    requestParameters.count|gt: 41\n  condition: s", 1);
    DET("  s:\n    requestParameters.count|gte: 42\n  condition: s", 1);
    DET("  s:\n    requestParameters.count|lt: 42\n  condition: s", 0);
    DET("  s:\n    requestParameters.count|lte: 42\n  condition: s", 1);
    DET("  s:\n    requestParameters.ratio|lt: 8\n  condition: s", 1);
    DET("  s:\n    eventName|lt: 8\n  condition: s", 0);
    /* neq */
    DET("  s:\n    awsRegion|neq: eu-west-1\n  condition: s", 1);
    DET("  s:\n    awsRegion|neq: us-east-1\n  condition: s", 0);
}

static void test_derived(void)
{
    bt_rule_derived d = BT_RULE_DERIVED_INIT;
    bt_rule_field extra[] = {{"buildtrail.custom", "yes"}};
    const char *body =
        "  s:\n    buildtrail.is_build_call: 'true'\n    buildtrail.project|startswith: web\n"
        "    buildtrail.build_ended_age_s|gt: 300\n  condition: s";
    d.build_id = "web-app:1234";
    d.project = "web-app";
    d.is_build_call = 1;
    d.build_state = "SUCCEEDED";
    d.build_ended_age_s = 600;
    d.source_ip_known = 0;
    d.extra = extra;
    d.nextra = 1;
    CHECK_INT(det(body, NULL, &d), 1);
    d.build_ended_age_s = 100;
    CHECK_INT(det(body, NULL, &d), 0);
    d.build_ended_age_s = -1; /* absent: not ended */
    CHECK_INT(det(body, NULL, &d), 0);
    CHECK_INT(det("  s:\n    buildtrail.build_ended_age_s: null\n  condition: s", NULL, &d), 1);
    CHECK_INT(
        det("  s:\n    buildtrail.build_state: succeeded\n    buildtrail.source_ip_known: false\n"
            "    buildtrail.build_id: 'web-app:*'\n    buildtrail.custom: yes\n  condition: s",
            NULL, &d),
        1);
    CHECK_INT(det("  s:\n    buildtrail.build_id: null\n  condition: s", NULL, NULL), 1);
    CHECK_INT(det("  s:\n    buildtrail.unknown: x\n  condition: s", NULL, &d), 0);
}

static const char *g_two =
    "title: one\nid: id-1\nname: first\nlevel: high\ntags:\n  - attack.t1\nlogsource:\n"
    "  product: aws\n  service: cloudtrail\ndetection:\n  s:\n    eventName: CreateAccessKey\n"
    "    eventSource: iam.amazonaws.com\n  condition: s\n---\n"
    "title: two\nid: id-2\nlogsource:\n  product: aws\ndetection:\n  s:\n"
    "    userAgent|contains: trufflehog\n  condition: s\n";

static int count_cb(void *ud, const bt_rule *r)
{
    (void)r;
    (*(int *)ud)++;
    return 0;
}

static void test_load_and_plan(void)
{
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs = load(g_two, &err);
    const bt_rule_plan *p;
    const bt_rule_info *in;
    int n = 0;
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_INT(bt_rules_count(rs), 2);
    in = bt_rule_get_info(bt_rules_find(rs, "first"));
    CHECK(in && strcmp(in->title, "one") == 0 && strcmp(in->level, "high") == 0);
    CHECK(in && in->ntags == 1 && strcmp(in->tags[0], "attack.t1") == 0 && in->alerts);
    CHECK(bt_rules_find(rs, "id-2") == bt_rules_at(rs, 1));
    p = bt_rule_get_plan(bt_rules_at(rs, 0));
    CHECK(p && p->npins == 2 && p->nneedles == 1 && strcmp(p->needles[0], "CreateAccessKey") == 0);
    CHECK(p && p->nfields == 2 && !p->keywords);
    p = bt_rule_get_plan(bt_rules_at(rs, 1));
    CHECK(p && p->npins == 0 && p->nneedles == 1 && p->nfields == 1);
    CHECK(p && p->nneedles && strcmp(p->needles[0], "trufflehog") == 0); /* from contains */
    CHECK(bt_rules_get_plan(rs)->nneedles == 2);
    CHECK(!bt_rules_prefilter(rs, "{}", 2));
    CHECK(bt_rules_prefilter(rs, g_rec, strlen(g_rec)));
    CHECK_INT(bt_rules_match(rs, rec(g_rec), NULL, count_cb, &n), 0);
    CHECK_INT(n, 1);
    bt_rules_free(rs);

    /* only pinned rules: the pre-filter rejects records without the needles */
    rs = load("title: p\nlogsource:\n  product: aws\ndetection:\n  s:\n    eventName:\n"
              "      - StopLogging\n      - DeleteTrail\n  t:\n    eventName: CreateRoute\n"
              "  condition: s or t\n",
              &err);
    CHECK(rs != NULL);
    if (!rs)
        return;
    p = bt_rule_get_plan(bt_rules_at(rs, 0));
    CHECK(p && p->npins == 1 && p->pins[0].nvalues == 3);
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":\"deletetrail\"}", 26));
    CHECK(!bt_rules_prefilter(rs, "{\"eventName\":\"GetObject\"}", 25));
    /* whole eventName values: only what a record's eventName key holds passes */
    CHECK(p && p->needle_is_name && p->needle_is_name[0] && p->needle_is_name[2]);
    CHECK(bt_rules_prefilter(rs, "{\"eventName\" :\n \"createROUTE\"}", 30));
    CHECK(!bt_rules_prefilter(rs, "xxcreaterOUTE", 13));
    CHECK(!bt_rules_prefilter(rs, "{\"eventName\":\"CreateRoutes\"}", 28));
    CHECK(!bt_rules_prefilter(rs, "{\"eventName\":\"GetObject\",\"x\":\"CreateRoute\"}", 43));
    /* any eventName key (a nested one too), an escape read as a possible hit, a value
     * cut short by the buffer's end */
    CHECK(
        bt_rules_prefilter(rs, "{\"a\":{\"eventName\":\"x\"},\"eventName\":\"CreateRoute\"}", 49));
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":\"Create\\u0052oute\"}", 32));
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":\"CreateRo", 22));
    CHECK(!bt_rules_prefilter(rs, "{\"eventName\":123,\"b\":\"CreateRoute\"}", 35));
    /* an object or array under eventName: the matcher looks inside, so it passes (found by
     * fuzz_prefilter); a scalar is looked up by its text */
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":{\"x\":\"CreateRoute\"}}", 33));
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":[\"CreateRoute\"]}", 29));
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":createroute}", 25));
    n = 0;
    bt_rules_match(rs, rec("{\"eventName\":\"STOPLOGGING\"}"), NULL, count_cb, &n);
    CHECK_INT(n, 1);
    n = 0;
    bt_rules_match(rs, rec("{\"eventName\":\"GetObject\"}"), NULL, count_cb, &n);
    CHECK_INT(n, 0);
    bt_rules_free(rs);
}

static void test_needles(void)
{
    static const struct {
        const char *body;
        const char *needles; /* joined by | ; "" = none */
    } cases[] = {
        {"  s:\n    eventName|re: 'a|b'\n  condition: s", ""},
        {"  s:\n    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: s",
         ":assumed-role/aws:|:assumed-role\\/aws:"}, /* JSON may write '/' as "\/" */
        {"  s:\n    eventSource: iam.amazonaws.com\n    eventName: CreateUser\n  condition: s",
         "CreateUser"},
        {"  s:\n    a|contains|all:\n      - xy\n      - longer\n  condition: s", "longer"},
        {"  s:\n    a: 'ab*cdef?g'\n  condition: s", "cdef"},
        {"  s:\n    a: x\n  t:\n    b|startswith: yz\n  condition: s or t", "x|yz"},
        {"  s:\n    a: x\n  t:\n    b|re: '.*'\n  condition: s or t", ""},
        {"  s:\n    a: x\n  condition: not s", ""},
        {"  s:\n    buildtrail.project: web\n  condition: s", ""},
        {"  kw:\n    - AWSCodeBuild-\n  condition: kw", "AWSCodeBuild-"},
        {"  s:\n    a|neq: x\n  condition: s", ""},
    };
    size_t i, k;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[1024], got[256] = "";
        bt_error err = BT_ERROR_INIT;
        bt_ruleset *rs;
        const bt_rule_plan *p;
        snprintf(yaml, sizeof yaml, "title: t\nlogsource:\n  product: aws\ndetection:\n%s\n",
                 cases[i].body);
        rs = load(yaml, &err);
        CHECK(rs != NULL);
        if (!rs)
            continue;
        p = bt_rule_get_plan(bt_rules_at(rs, 0));
        for (k = 0; k < p->nneedles; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? "|" : "",
                     p->needles[k]);
        CHECK_STR(got, cases[i].needles);
        bt_rules_free(rs);
    }
}

static void test_prefilter_short(void)
{
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs = load("title: p\nlogsource:\n  product: aws\ndetection:\n  s:\n"
                          "    eventName:\n      - Ab\n      - LongerName\n  condition: s\n",
                          &err);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":\"aB\"}", 17));
    CHECK(bt_rules_prefilter(rs, "{\"eventName\":\"longername\"}", 25));
    CHECK(!bt_rules_prefilter(rs, "{\"eventName\":\"Longer\"}", 21));
    bt_rules_free(rs);
}

static void test_filters(void)
{
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs;
    int n = 0;
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "%s---\ntitle: skip builds\nlogsource:\n  product: aws\nfilter:\n  rules:\n"
             "    - first\n  selection:\n    userIdentity.arn|contains: AWSCodeBuild-\n"
             "  condition: selection\n",
             g_two);
    rs = load(yaml, &err);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK_INT(bt_rules_count(rs), 2);
    CHECK_INT(bt_rule_match(bt_rules_at(rs, 0), rec(g_rec), NULL), 0);
    CHECK_INT(bt_rule_match(bt_rules_at(rs, 0),
                            rec("{\"eventName\":\"CreateAccessKey\",\"eventSource\":"
                                "\"iam.amazonaws.com\",\"userIdentity\":{\"arn\":\"u\"}}"),
                            NULL),
              1);
    bt_rules_match(rs, rec(g_rec), NULL, count_cb, &n);
    CHECK_INT(n, 0);
    bt_rules_free(rs);
}

typedef struct alerts {
    int n;
    size_t ids;
    char first_id[64];
    char group[64];
    uint64_t count;
} alerts;

static int alert_cb(void *ud, const bt_rule_alert *a)
{
    alerts *al = ud;
    al->n++;
    al->ids = a->nevent_ids;
    al->count = a->count;
    snprintf(al->first_id, sizeof al->first_id, "%s", a->nevent_ids ? a->event_ids[0] : "");
    snprintf(al->group, sizeof al->group, "%s", a->ngroup ? a->group_values[0] : "");
    return 0;
}

typedef struct feed_ctx {
    bt_rules_corr *c;
    const bt_json *rec;
    int64_t t;
    const char *id;
    alerts *al;
} feed_ctx;

static int feed_cb(void *ud, const bt_rule *r)
{
    feed_ctx *f = ud;
    return bt_rules_correlate(f->c, r, f->rec, NULL, f->t, f->id, alert_cb, f->al);
}

/* Feeds (time s, eventName, user) triples through match + correlate. */
static void feed(bt_ruleset *rs, bt_rules_corr *c, alerts *al, int64_t ts, const char *name,
                 const char *user, const char *id)
{
    char json[256];
    feed_ctx f;
    snprintf(json, sizeof json,
             "{\"eventName\":\"%s\",\"userIdentity\":{\"userName\":\"%s\"},"
             "\"sourceIPAddress\":\"%s\"}",
             name, user, id);
    f.c = c;
    f.rec = rec(json);
    f.t = ts * 1000;
    f.id = id;
    f.al = al;
    bt_rules_match(rs, f.rec, NULL, feed_cb, &f);
}

static const char *g_denied =
    "title: denied\nname: denied\nlogsource:\n  product: aws\ndetection:\n  s:\n"
    "    eventName: Denied\n  condition: s\n---\n"
    "title: ok\nname: okay\nlogsource:\n  product: aws\ndetection:\n  s:\n"
    "    eventName: Ok\n  condition: s\n";

/* Loads g_denied plus correlation documents; NULL (and a failed check) on error. */
static bt_ruleset *load_corr(const char *corr)
{
    char yaml[4096];
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs;
    snprintf(yaml, sizeof yaml, "%s---\n%s", g_denied, corr);
    rs = load(yaml, &err);
    CHECK(rs != NULL);
    if (!rs)
        printf("  %s\n", err.msg);
    return rs;
}

static void test_correlation_counts(void)
{
    bt_ruleset *rs;
    bt_rules_corr *c;
    alerts al;
    size_t mem;
    rs = load_corr(
        "title: burst\nid: c1\nlevel: high\ncorrelation:\n  type: event_count\n"
        "  rules:\n    - denied\n  group-by:\n    - userIdentity.userName\n  timespan: 10s\n"
        "  condition:\n    gte: 3\n");
    if (!rs)
        return;
    CHECK(!bt_rule_get_info(bt_rules_find(rs, "denied"))->alerts);
    CHECK(bt_rule_get_info(bt_rules_find(rs, "okay"))->alerts);
    c = bt_rules_corr_new(rs, NULL);
    memset(&al, 0, sizeof al);
    feed(rs, c, &al, 0, "Denied", "alice", "a1");
    feed(rs, c, &al, 1, "Denied", "bob", "b1");
    feed(rs, c, &al, 2, "Denied", "alice", "a2");
    feed(rs, c, &al, 20, "Denied", "alice", "a3"); /* a1, a2 expired */
    CHECK_INT(al.n, 0);
    feed(rs, c, &al, 21, "Denied", "alice", "a4");
    feed(rs, c, &al, 22, "Ok", "alice", "x");
    feed(rs, c, &al, 23, "Denied", "alice", "a5");
    CHECK_INT(al.n, 1);
    CHECK_INT(al.ids, 3);
    CHECK_STR(al.first_id, "a3");
    CHECK_STR(al.group, "alice");
    feed(rs, c, &al, 24, "Denied", "dave", "d1");
    feed(rs, c, &al, 24, "Denied", "erin", "e1");
    mem = bt_rules_corr_memory(c);
    CHECK(mem > 0);
    feed(rs, c, &al, 1000, "Denied", "carol", "c1"); /* old groups dropped */
    CHECK(bt_rules_corr_memory(c) < mem);
    bt_rules_corr_free(c);
    bt_rules_free(rs);

    /* value_count and an upper bound decided when the window closes */
    rs = load_corr("title: many ips\nid: c2\ncorrelation:\n  type: value_count\n"
                   "  rules: denied\n  group-by: userIdentity.userName\n  timespan: 1m\n"
                   "  condition:\n    field: sourceIPAddress\n    gt: 1\n    lte: 2\n");
    if (!rs)
        return;
    c = bt_rules_corr_new(rs, NULL);
    memset(&al, 0, sizeof al);
    feed(rs, c, &al, 0, "Denied", "alice", "ip1");
    feed(rs, c, &al, 1, "Denied", "alice", "ip2");
    feed(rs, c, &al, 2, "Denied", "alice", "ip2");
    CHECK_INT(al.n, 0);
    CHECK_INT(bt_rules_corr_flush(c, INT64_MAX, alert_cb, &al), 0);
    CHECK_INT(al.n, 1);
    CHECK_INT(al.count, 2);
    CHECK_INT(al.ids, 3);
    bt_rules_corr_free(c);
    bt_rules_free(rs);
}

static void test_correlation_temporal(void)
{
    bt_ruleset *rs;
    bt_rules_corr *c;
    alerts al;
    rs = load_corr(
        "title: seq\nid: c3\ncorrelation:\n  type: temporal_ordered\n"
        "  rules:\n    - denied\n    - okay\n  group-by:\n    - user\n  timespan: 5m\n"
        "  aliases:\n    user:\n      denied: userIdentity.userName\n      okay: "
        "userIdentity.userName\n"
        "---\ntitle: both\nid: c4\ncorrelation:\n  type: temporal\n  rules:\n    - denied\n"
        "    - okay\n  group-by:\n    - userIdentity.userName\n  timespan: 5m\n"
        "  generate: true\n");
    if (!rs)
        return;
    CHECK(bt_rule_get_info(bt_rules_find(rs, "denied"))->alerts == false); /* c3 has no generate */
    c = bt_rules_corr_new(rs, NULL);
    memset(&al, 0, sizeof al);
    feed(rs, c, &al, 0, "Ok", "alice", "o1");      /* temporal_ordered: wrong order */
    feed(rs, c, &al, 10, "Denied", "alice", "d1"); /* temporal (c4) fires */
    CHECK_INT(al.n, 1);
    feed(rs, c, &al, 20, "Ok", "alice", "o2"); /* ordered: denied then ok */
    CHECK_INT(al.n, 2);
    CHECK_STR(al.group, "alice");
    bt_rules_corr_free(c);
    bt_rules_free(rs);

    /* chained correlation: a burst, then okay */
    rs = load_corr("title: burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: denied\n"
                   "  group-by: userIdentity.userName\n  timespan: 1m\n  condition:\n    gte: 2\n"
                   "---\ntitle: burst then ok\nid: c5\ncorrelation:\n  type: temporal_ordered\n"
                   "  rules:\n    - burst\n    - okay\n  group-by: userIdentity.userName\n"
                   "  timespan: 5m\n");
    if (!rs)
        return;
    c = bt_rules_corr_new(rs, NULL);
    memset(&al, 0, sizeof al);
    feed(rs, c, &al, 0, "Denied", "bob", "d1");
    feed(rs, c, &al, 1, "Denied", "bob", "d2");
    CHECK_INT(al.n, 0); /* burst does not alert on its own */
    feed(rs, c, &al, 2, "Ok", "bob", "o1");
    CHECK_INT(al.n, 1);
    bt_rules_corr_free(c);
    bt_rules_free(rs);
}

#define HDR "title: t\nid: r1\nlogsource:\n  product: aws\n"

static void test_bad_input(void)
{
    bt_error err = BT_ERROR_INIT;
    bt_ruleset *rs;
    refuse("title: [unclosed\n", "not YAML");
    refuse("\t- x: y\n", "not YAML");
    refuse("just a string\n", "not a Sigma rule");
    refuse(HDR "detection:\n  s:\n    a: b\n", "rule 't': missing condition");
    refuse(HDR "detection:\n  s:\n    a|frobnicate: b\n  condition: s\n",
           "unknown modifier 'frobnicate'");
    refuse(HDR "detection:\n  s:\n    a|windash: -x\n  condition: s\n",
           "modifier 'windash' is not supported");
    refuse(HDR "detection:\n  s:\n    a|re: '(unclosed'\n  condition: s\n", "does not compile");
    refuse(HDR "detection:\n  s:\n    a|cidr: 10.0.0.0/33\n  condition: s\n", "not a CIDR");
    refuse(HDR "detection:\n  s:\n    a|gt: abc\n  condition: s\n", "not a number");
    refuse(HDR "detection:\n  s:\n    a|contains|re: x\n  condition: s\n", "conflicting modifiers");
    refuse(HDR "detection:\n  s:\n    a|exists: maybe\n  condition: s\n",
           "'exists' needs true or false");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: s and t\n",
           "unknown search identifier 't'");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: (s\n", "missing ')'");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: s |count() > 5\n", "aggregation");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: 1 of x*\n",
           "matches no search identifier");
    refuse(HDR "detection:\n  s:\n    a:\n      b: c\n  condition: s\n", "nested map");
    refuse("id: r1\nlogsource:\n  product: aws\ndetection:\n  s:\n    a: b\n  condition: s\n",
           "rule 'r1': missing title");
    refuse("title: t\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: b\n  condition: s\n",
           "not aws");
    refuse("title: t\ncorrelation:\n  type: event_count\n  rules: nope\n  timespan: 1m\n"
           "  condition:\n    gte: 2\n",
           "rule 't': correlation names unknown rule 'nope'");
    refuse("title: t\ncorrelation:\n  type: value_sum\n  rules: nope\n  timespan: 1m\n",
           "correlation type 'value_sum' is not supported");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: s\n---\ntitle: c\ncorrelation:\n"
               "  type: event_count\n  rules: r1\n  timespan: 1 hour\n  condition:\n    gte: 2\n",
           "timespan '1 hour'");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: s\n---\ntitle: f\nlogsource:\n"
               "  product: aws\nfilter:\n  rules: zzz\n  s:\n    a: b\n  condition: s\n",
           "filter names unknown rule 'zzz'");
    refuse(HDR "detection:\n  s:\n    a: b\n  condition: s\n---\n" HDR
               "detection:\n  s:\n    a: b\n  condition: s\n",
           "duplicate id 'r1'");
    /* a failed add poisons the set: compile refuses, nothing half-loaded */
    rs = bt_rules_new();
    CHECK_INT(bt_rules_add_buffer(rs, "good.yml", g_two, strlen(g_two), &err), 0);
    CHECK(bt_rules_add_buffer(rs, "bad.yml", "title: x\n", 9, &err) != 0);
    CHECK(strstr(err.msg, "'bad.yml': rule 'x'") != NULL);
    CHECK_INT(bt_rules_compile(rs, &err), BT_EINVAL);
    CHECK_INT(bt_rules_match(rs, rec(g_rec), NULL, count_cb, NULL), BT_EINVAL);
    bt_rules_free(rs);
    /* a missing path */
    {
        const char *p[] = {"/nonexistent/rules"};
        CHECK_INT(bt_rules_load(p, 1, &rs, &err), BT_ENOTFOUND);
        CHECK(rs == NULL);
    }
}

/* The bad-input files (tests/rules/bad): one line naming file, rule, problem. */
static void test_bad_files(void)
{
    static const struct {
        const char *file, *rule, *problem;
    } cases[] = {
        {"not_yaml.yml", "document 1", "not YAML"},
        {"missing_condition.yml", "rule 'Missing condition'", "missing condition"},
        {"unknown_modifier.yml", "rule 'Unknown modifier'", "unknown modifier 'sounds_like'"},
        {"bad_regex.yml", "rule 'Bad regex'", "does not compile"},
        {"unknown_correlation_rule.yml", "rule 'Burst of denied calls'",
         "correlation names unknown rule 'access_denied_calls'"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char good[4096], bad[4096], rel[256];
        const char *p[2] = {good, bad};
        bt_ruleset *rs = NULL;
        bt_error err = BT_ERROR_INIT;
        /* a good file first: nothing of it survives the bad one */
        snprintf(good, sizeof good, "%s", bt_t_source("fuzz/corpus/sigma/correlation.yml"));
        snprintf(rel, sizeof rel, "tests/rules/bad/%s", cases[i].file);
        snprintf(bad, sizeof bad, "%s", bt_t_source(rel));
        CHECK(bt_rules_load(p, 2, &rs, &err) != 0);
        CHECK(rs == NULL);
        CHECK(strstr(err.msg, cases[i].file) != NULL);
        CHECK(strstr(err.msg, cases[i].rule) != NULL);
        CHECK(strstr(err.msg, cases[i].problem) != NULL);
        CHECK(strchr(err.msg, '\n') == NULL);
        if (!strstr(err.msg, cases[i].problem) || !strstr(err.msg, cases[i].rule))
            printf("  %s: %s\n", cases[i].file, err.msg);
    }
}

static void test_directory(void)
{
    const char *dir = bt_t_shared("conformance/sigma/rules-cloudtrail");
    const char *p[1];
    bt_ruleset *rs = NULL;
    bt_error err = BT_ERROR_INIT;
    if (!dir)
        return; /* conf_sigma covers it when ../shared is present */
    p[0] = dir;
    CHECK_INT(bt_rules_load(p, 1, &rs, &err), 0);
    CHECK_INT(bt_rules_count(rs), 57);
    bt_rules_free(rs);
}

/* Runs last: frees the records' arena. */
static void test_zz_teardown(void)
{
    bt_arena_free(g_arena);
    g_arena = NULL;
}

BT_TEST_MAIN(test_condition_grammar, test_values, test_modifiers, test_derived, test_load_and_plan,
             test_needles, test_prefilter_short, test_filters, test_correlation_counts,
             test_correlation_temporal, test_bad_input, test_bad_files, test_directory,
             test_zz_teardown)
