/* test_jmespath.c - unit tests for bt_jmespath on CloudTrail LookupEvents-shaped data:
 * results, Python number spelling, error kinds and positions, limits, threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/jmespath.h"
#include "buildtrail/json.h"
#include "tharness.h"

static const char *events_doc =
    "{\"Events\": ["
    " {\"EventId\": \"e-1\", \"EventName\": \"StartBuild\", \"ReadOnly\": \"false\","
    "  \"EventTime\": 1700000300.0, \"EventSource\": \"codebuild.amazonaws.com\","
    "  \"Username\": \"alice\", \"Resources\": [{\"ResourceType\": \"AWS::CodeBuild::Project\","
    "  \"ResourceName\": \"web\"}]},"
    " {\"EventId\": \"e-2\", \"EventName\": \"BatchGetBuilds\", \"ReadOnly\": \"true\","
    "  \"EventTime\": 1700000100.0, \"EventSource\": \"codebuild.amazonaws.com\","
    "  \"Username\": \"bob\", \"Resources\": []},"
    " {\"EventId\": \"e-3\", \"EventName\": \"StartBuild\", \"ReadOnly\": \"false\","
    "  \"EventTime\": 1700000500.0, \"EventSource\": \"codebuild.amazonaws.com\","
    "  \"Username\": \"AWSCodeBuild-0f1e\", \"Resources\": ["
    "  {\"ResourceType\": \"AWS::CodeBuild::Project\", \"ResourceName\": \"api\"},"
    "  {\"ResourceType\": \"AWS::IAM::Role\", \"ResourceName\": \"build-role\"}]}"
    "], \"NextToken\": null}";

static bt_arena *arena;
static bt_json *doc;

static void load(void)
{
    bt_error err = BT_ERROR_INIT;
    if (!arena)
        arena = bt_arena_new(0, 0);
    if (!doc && bt_json_parse(arena, events_doc, strlen(events_doc), NULL, &doc, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        exit(1);
    }
}

/* Evaluates expr on the fixture (or on json_in) and returns the compact JSON text of
 * the result as the AWS CLI would print it (Python numbers), or "ERROR <kind>". */
static const char *run_on(const char *expr, const char *json_in)
{
    static char out[2048];
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = NULL;
    bt_json *in, *res = NULL;
    bt_buf b = BT_BUF_INIT;
    bt_json_write_opts o = {0, BT_JSON_W_PYNUM};
    int rc;

    load();
    in = doc;
    if (json_in && bt_json_parse(arena, json_in, strlen(json_in), NULL, &in, &err) != 0) {
        snprintf(out, sizeof out, "BAD INPUT %s", err.msg);
        return out;
    }
    rc = bt_jmespath_compile(expr, &q, &err);
    if (rc == 0)
        rc = bt_jmespath_eval(q, arena, in, &res, &err);
    if (rc != 0) {
        snprintf(out, sizeof out, "ERROR %s", err.aws_code);
    } else if (bt_json_write(&b, res, &o) != 0) {
        snprintf(out, sizeof out, "WRITE FAILED");
    } else {
        snprintf(out, sizeof out, "%s", b.data);
    }
    bt_buf_dispose(&b);
    bt_jmespath_free(q);
    return out;
}

static const char *run(const char *expr)
{
    return run_on(expr, NULL);
}

static void test_cloudtrail_queries(void)
{
    CHECK_STR(
        run("Events[?EventName=='StartBuild'].{Id:EventId,User:Username}"),
        "[{\"Id\":\"e-1\",\"User\":\"alice\"},{\"Id\":\"e-3\",\"User\":\"AWSCodeBuild-0f1e\"}]");
    CHECK_STR(run("Events[].Resources[].ResourceName"), "[\"web\",\"api\",\"build-role\"]");
    CHECK_STR(run("length(Events)"), "3");
    CHECK_STR(run("sort_by(Events,&EventTime)[-1].EventId"), "\"e-3\"");
    CHECK_STR(run("sort_by(Events,&EventTime)[].EventId"), "[\"e-2\",\"e-1\",\"e-3\"]");
    CHECK_STR(run("max_by(Events, &EventTime).Username"), "\"AWSCodeBuild-0f1e\"");
    CHECK_STR(run("Events[?starts_with(Username, 'AWSCodeBuild-')].EventId | [0]"), "\"e-3\"");
    CHECK_STR(run("Events[?ReadOnly=='false'] | length(@)"), "2");
    CHECK_STR(run("Events[*].Resources[?ResourceType=='AWS::IAM::Role'].ResourceName[]"),
              "[\"build-role\"]");
    CHECK_STR(run("Events[0].[EventName, EventSource]"),
              "[\"StartBuild\",\"codebuild.amazonaws.com\"]");
    CHECK_STR(run("Events[?EventTime > `1700000200`].EventId"), "[\"e-1\",\"e-3\"]");
    CHECK_STR(run("NextToken"), "null");
    CHECK_STR(run("Missing.deeper[0]"), "null");
    CHECK_STR(run("Events[:2].EventId"), "[\"e-1\",\"e-2\"]");
    CHECK_STR(run("Events[::-1].EventId"), "[\"e-3\",\"e-2\",\"e-1\"]");
    CHECK_STR(run("join(', ', Events[].Username)"), "\"alice, bob, AWSCodeBuild-0f1e\"");
    CHECK_STR(run("keys(Events[0].Resources[0])"), "[\"ResourceType\",\"ResourceName\"]");
    CHECK_STR(run("Events[?contains(Resources[].ResourceName, 'api')].EventId"), "[\"e-3\"]");
    CHECK_STR(run("Events[?EventName=='StartBuild' && Username=='alice'] | [0].EventId"),
              "\"e-1\"");
    CHECK_STR(run("Events[?!(EventName=='StartBuild')].EventId"), "[\"e-2\"]");
    CHECK_STR(run("map(&length(Resources), Events)"), "[1,0,2]");
}

/* numbers print as Python would print them */
static void test_numbers(void)
{
    CHECK_STR(run("sum(`[1, 2, 3]`)"), "6");
    CHECK_STR(run("sum(`[1, 2.0]`)"), "3.0");
    CHECK_STR(run("sum(`[]`)"), "0");
    CHECK_STR(run("avg(`[1, 2, 3, 4]`)"), "2.5");
    CHECK_STR(run("avg(`[2, 4]`)"), "3.0");
    CHECK_STR(run("avg(Events[].EventTime)"), "1700000300.0");
    CHECK_STR(run("ceil(`2.1`)"), "3");
    CHECK_STR(run("floor(`-2.1`)"), "-3");
    CHECK_STR(run("ceil(`1e20`)"), "100000000000000000000");
    CHECK_STR(run("abs(`-5`)"), "5");
    CHECK_STR(run("abs(`-5.5`)"), "5.5");
    CHECK_STR(run("to_number('1.50')"), "1.5");
    CHECK_STR(run("to_number(' 42 ')"), "42");
    CHECK_STR(run("to_number('1_000')"), "1000");
    CHECK_STR(run("to_number('abc')"), "null");
    CHECK_STR(run("to_number('1e3')"), "1000.0");
    CHECK_STR(run("to_string(`[1.0, 2, {\"a\": \"\\u00e9\"}]`)"),
              "\"[1.0,2,{\\\"a\\\":\\\"\\\\u00e9\\\"}]\"");
    CHECK_STR(run("max(`[1, 3.5, 2]`)"), "3.5");
    CHECK_STR(run("sort(`[3, 1.0, 2, 1]`)"), "[1.0,1,2,3]");
    CHECK_STR(run("sum(`[12345678901234567890, 12345678901234567890]`)"), "24691357802469135780");
    CHECK_STR(run("`1` == `1.0`"), "true");
    CHECK_STR(run("`1` == `true`"), "false");
    CHECK_STR(run("`[1]` == `[true]`"), "true"); /* Python: [1] == [True] */
    CHECK_STR(run("`1` < `2.5`"), "true");
    CHECK_STR(run("'abc' < 'abd'"), "true"); /* jmespath.py orders strings too */
    CHECK_STR(run("`true` < `false`"), "null");
    CHECK_STR(run("length('\xc3\xa9\xe2\x9c\x93')"), "2");
    CHECK_STR(run("reverse('a\xc3\xa9"
                  "b')"),
              "\"b\xc3\xa9"
              "a\"");
    CHECK_STR(run("type(`1.5`)"), "\"number\"");
}

/* the evaluated bt_json carries the Python text in u.str */
static void test_number_nodes(void)
{
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = NULL;
    bt_json *res = NULL;
    load();
    CHECK_INT(bt_jmespath_compile("avg(`[1, 2]`)", &q, &err), 0);
    CHECK_INT(bt_jmespath_eval(q, arena, doc, &res, &err), 0);
    CHECK(res && res->type == BT_JSON_NUMBER && res->num == 1.5);
    CHECK_STR(res ? res->u.str : NULL, "1.5");
    bt_jmespath_free(q);
    CHECK_INT(bt_jmespath_compile("length(Events)", &q, &err), 0);
    CHECK_INT(bt_jmespath_eval(q, arena, doc, &res, &err), 0);
    CHECK(res && res->type == BT_JSON_NUMBER && res->num == 3);
    CHECK_STR(res ? res->u.str : NULL, "3");
    bt_jmespath_free(q);
}

static void test_duplicate_keys(void)
{
    const char *in = "{\"a\": 1, \"b\": 2, \"a\": 3}";
    CHECK_STR(run_on("a", in), "3");
    CHECK_STR(run_on("keys(@)", in), "[\"a\",\"b\"]");
    CHECK_STR(run_on("values(@)", in), "[3,2]");
    CHECK_STR(run_on("length(@)", in), "2");
    CHECK_STR(run_on("*", in), "[3,2]");
    CHECK_STR(run_on("{x: a, x: b}", in), "{\"x\":2}");
    CHECK_STR(run_on("merge(@, `{\"b\": 5}`)", in), "{\"a\":3,\"b\":5}");
}

/* message: "invalid query at column N: <what> (<expr>)" */
static void check_syntax(const char *expr, int code, const char *fragment)
{
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = (bt_jmespath *)1;
    int rc = bt_jmespath_compile(expr, &q, &err);
    CHECK_INT(rc, code);
    CHECK(q == NULL);
    CHECK_STR(err.aws_code, "syntax");
    CHECK_INT(bt_jmespath_error_kind(&err), BT_JMESPATH_E_SYNTAX);
    if (!strstr(err.msg, fragment))
        fprintf(stderr, "message was: %s\n", err.msg);
    CHECK(strstr(err.msg, fragment) != NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
}

static void test_syntax_errors(void)
{
    check_syntax("Events[?EventName=='X'|foo", BT_EPARSE,
                 "invalid query at column 27: expected ']', found end of query "
                 "(Events[?EventName=='X'|foo)");
    check_syntax("Events[?EventName='X']", BT_EPARSE, "at column 18: unknown token '='");
    check_syntax("foo.1", BT_EPARSE, "at column 5: expected an identifier");
    check_syntax("foo bar", BT_EPARSE, "at column 5: unexpected 'bar'");
    check_syntax("", BT_EPARSE, "the query is empty");
    check_syntax("'abc", BT_EPARSE, "column 1: unterminated raw string");
    check_syntax("a[\xc3\xa9]", BT_EPARSE, "at column 3: unknown token '\xc3\xa9'");
    check_syntax("{a: b", BT_EPARSE, "column 6");
    check_syntax("a\nb", BT_EPARSE, "(a b)");
    check_syntax("`foo\"bar`", BT_EPARSE, "invalid JSON literal");
    CHECK_STR(run("`{bad`"), "\"{bad\""); /* JEP-12: not JSON, so a string */
}

static void test_limits(void)
{
    char *deep = malloc(4000);
    size_t i;
    for (i = 0; i < 1000; i++)
        deep[i] = '(';
    deep[1000] = 'a';
    for (i = 0; i < 1000; i++)
        deep[1001 + i] = ')';
    deep[2001] = '\0';
    check_syntax(deep, BT_ELIMIT, "nested too deeply");
    /* left-deep trees (a|a|a|...) are bounded too: the evaluator recurses on them */
    for (i = 0; i < 1500; i++) {
        deep[2 * i] = 'a';
        deep[2 * i + 1] = '|';
    }
    deep[2999] = '\0';
    check_syntax(deep, BT_ELIMIT, "nested too deeply");
    /* but 200 levels are fine */
    for (i = 0; i < 200; i++)
        deep[i] = '[';
    deep[200] = '@';
    for (i = 0; i < 200; i++)
        deep[201 + i] = ']';
    deep[401] = '\0';
    {
        bt_jmespath *q = NULL;
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_jmespath_compile(deep, &q, &err), 0);
        bt_jmespath_free(q);
    }
    free(deep);
}

static void check_runtime(const char *expr, const char *kind, const char *fragment)
{
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = NULL;
    bt_json *res = NULL;
    load();
    CHECK_INT(bt_jmespath_compile(expr, &q, &err), 0);
    CHECK_INT(bt_jmespath_eval(q, arena, doc, &res, &err), BT_EINVAL);
    CHECK(res == NULL);
    CHECK_STR(err.aws_code, kind);
    if (!strstr(err.msg, fragment))
        fprintf(stderr, "message was: %s\n", err.msg);
    CHECK(strstr(err.msg, fragment) != NULL);
    bt_jmespath_free(q);
}

static void test_runtime_errors(void)
{
    check_runtime("length(`1`)", "invalid-type",
                  "argument 1 of length(): expected string, array or object, got number");
    check_runtime("sum(Events[].EventId)", "invalid-type", "an array holding string");
    check_runtime("abs(`1`, `2`)", "invalid-arity", "abs() takes 1 argument, got 2");
    check_runtime("not_null()", "invalid-arity", "takes at least 1 argument, got 0");
    check_runtime("nosuch(Events)", "unknown-function", "unknown function nosuch()");
    check_runtime("Events[::0]", "invalid-value", "slice step cannot be zero");
    check_runtime("sort_by(Events, &Resources)", "invalid-type", "got array");
    check_runtime("Events[?EventTime > 'x']", "invalid-type", "not supported between");
    CHECK_INT(bt_jmespath_error_kind(NULL), BT_JMESPATH_E_NONE);
    CHECK_STR(bt_jmespath_error_name(BT_JMESPATH_E_UNKNOWN_FUNCTION), "unknown-function");
    /* like jmespath.py, unknown functions are reported only when called */
    CHECK_STR(run("Missing[].nosuch(@)"), "null");
}

static void test_input_untouched(void)
{
    bt_buf before = BT_BUF_INIT, after = BT_BUF_INIT;
    bt_json_write_opts o = {0, 0};
    load();
    bt_json_write(&before, doc, &o);
    run("sort_by(Events, &EventTime)");
    run("reverse(Events)");
    run("Events[*].merge(@, `{\"x\": 1}`)");
    run("sort(Events[].EventId)");
    bt_json_write(&after, doc, &o);
    CHECK_STR(after.data, before.data);
    bt_buf_dispose(&before);
    bt_buf_dispose(&after);
}

typedef struct worker {
    const bt_jmespath *q;
    const bt_json *doc;
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    bt_arena *a = bt_arena_new(0, 0);
    int i;
    w->ok = 1;
    for (i = 0; i < 2000; i++) {
        bt_json *res = NULL;
        bt_error err = BT_ERROR_INIT;
        if (bt_jmespath_eval(w->q, a, w->doc, &res, &err) != 0 || res->type != BT_JSON_ARRAY ||
            res->len != 2)
            w->ok = 0;
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return NULL;
}

static void test_threads(void)
{
    bt_jmespath *q = NULL;
    bt_error err = BT_ERROR_INIT;
    pthread_t t[4];
    worker w[4];
    int i;
    load();
    CHECK_INT(bt_jmespath_compile("sort_by(Events[?EventName=='StartBuild'], &EventTime)"
                                  "[].{id: EventId, n: length(Resources), s: sum([`1`, `2.5`])}",
                                  &q, &err),
              0);
    for (i = 0; i < 4; i++) {
        w[i].q = q;
        w[i].doc = doc;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok);
    }
    CHECK_STR(bt_jmespath_expr(q), "sort_by(Events[?EventName=='StartBuild'], &EventTime)"
                                   "[].{id: EventId, n: length(Resources), s: sum([`1`, `2.5`])}");
    bt_jmespath_free(q);
    bt_jmespath_free(NULL);
}

static void test_cleanup(void)
{
    bt_arena_free(arena);
    arena = NULL;
    doc = NULL;
}

/* bt_jmespath_names_field: which queries read a member (search's Record view) */
static void test_names_field(void)
{
    static const struct {
        const char *q;
        bool want;
    } cases[] = {
        {"Events[].Record.errorCode", true},
        {"Events[?Record.errorCode=='AccessDenied'].EventId", true},
        {"Events[].\"Record\"", true},
        {"length(Events[].Record)", true},
        {"sort_by(Events, &Record.eventTime)", true},
        {"Events[].EventId", false},
        {"Events[?EventName=='Record']", false}, /* a string, not a member */
        {"Events[].{Record: EventId}", false},   /* a key of the result */
        {"Events[].Records", false},
        {"Events[].record", false},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_jmespath *q = NULL;
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_jmespath_compile(cases[i].q, &q, &err), 0);
        CHECK_INT(bt_jmespath_names_field(q, "Record"), cases[i].want);
        bt_jmespath_free(q);
    }
    CHECK(!bt_jmespath_names_field(NULL, "Record"));
}

BT_TEST_MAIN(test_cloudtrail_queries, test_numbers, test_number_nodes, test_duplicate_keys,
             test_syntax_errors, test_limits, test_runtime_errors, test_input_untouched,
             test_threads, test_names_field, test_cleanup)
