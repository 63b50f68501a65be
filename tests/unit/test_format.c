/*
 * test_format.c - unit tests for the output formats (buildtrail/format.h): each
 * format on small values (expected bytes taken from the AWS CLI 2.9 formatters),
 * the per-page path, failure parity, East Asian width, CSV quoting, timestamps.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/format.h"
#include "buildtrail/json.h"
#include "tharness.h"

static bt_arena *g_arena;
static bt_buf g_out;
static int g_rc;

/* Formats json_text (NULL = a NULL value) and returns the output (static buffer). */
static const char *fmt_w(const char *json_text, bt_format_kind kind, unsigned width, unsigned flags)
{
    bt_format_opts o = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_json *v = NULL;

    if (!g_arena)
        g_arena = bt_arena_new(0, 0);
    bt_buf_clear(&g_out);
    if (json_text && bt_json_parse(g_arena, json_text, strlen(json_text), NULL, &v, &err)) {
        fprintf(stderr, "bad test JSON: %s\n", err.msg);
        return "<parse error>";
    }
    o.format = kind;
    o.title = "T";
    o.width = width;
    o.flags = flags;
    g_rc = bt_format_write(&g_out, v, &o, &err);
    return g_out.data ? g_out.data : "";
}

static const char *fmt(const char *json_text, bt_format_kind kind)
{
    return fmt_w(json_text, kind, 0, 0);
}

static void test_names(void)
{
    bt_format_kind k = BT_FORMAT_JSON;
    bt_error err = BT_ERROR_INIT;
    const char *names[] = {"json", "text", "table", "yaml", "yaml-stream", "csv"};
    int i;

    for (i = 0; i < 6; i++) {
        CHECK_INT(bt_format_parse_name(names[i], &k, &err), 0);
        CHECK_INT(k, i);
        CHECK_STR(bt_format_name(k), names[i]);
    }
    CHECK_INT(bt_format_parse_name("JSON", &k, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "'JSON'") != NULL);
    CHECK_INT(bt_format_parse_name("yaml_stream", &k, &err), BT_EINVAL);
    CHECK(bt_format_is_paged(BT_FORMAT_TEXT));
    CHECK(bt_format_is_paged(BT_FORMAT_YAML_STREAM));
    CHECK(!bt_format_is_paged(BT_FORMAT_TABLE));
}

static void test_json(void)
{
    CHECK_STR(fmt("{\"b\":1,\"a\":[1,2],\"c\":\"日本\"}", BT_FORMAT_JSON),
              "{\n    \"b\": 1,\n    \"a\": [\n        1,\n        2\n    ],\n"
              "    \"c\": \"日本\"\n}\n");
    CHECK_STR(fmt("{}", BT_FORMAT_JSON), "");
    CHECK_STR(fmt("[]", BT_FORMAT_JSON), "[]\n");
    CHECK_STR(fmt("null", BT_FORMAT_JSON), "null\n");
    CHECK_STR(fmt(NULL, BT_FORMAT_JSON), "null\n");
    CHECK_STR(fmt("\"x\"", BT_FORMAT_JSON), "\"x\"\n");
    /* duplicate keys: Python's dict keeps the first position and the last value */
    CHECK_STR(fmt("{\"a\":1,\"b\":2,\"a\":3}", BT_FORMAT_JSON),
              "{\n    \"a\": 3,\n    \"b\": 2\n}\n");
    CHECK_STR(fmt("[1.0, -0, 1E400]", BT_FORMAT_JSON), "[\n    1.0,\n    0,\n    Infinity\n]\n");
}

static void test_text(void)
{
    CHECK_STR(fmt("{\"Events\":[{\"EventId\":\"e1\",\"Resources\":[{\"ResourceName\":\"r\","
                  "\"ResourceType\":\"t\"}]},{\"EventId\":\"e2\",\"Username\":\"u\"}],"
                  "\"NextToken\":\"tok\"}",
                  BT_FORMAT_TEXT),
              "tok\nEVENTS\te1\t\nRESOURCES\tr\tt\nEVENTS\te2\tu\n");
    CHECK_STR(fmt("{\"straße\":[1,2],\"n\":[1e16,0.0001,1e-5,1.0,-0,"
                  "12345678901234567890,true,null]}",
                  BT_FORMAT_TEXT),
              "N\t1e+16\nN\t0.0001\nN\t1e-05\nN\t1.0\nN\t0\nN\t12345678901234567890\n"
              "N\tTrue\nN\tNone\nSTRASSE\t1\nSTRASSE\t2\n");
    CHECK_STR(fmt("[\"a\",\"b\",3]", BT_FORMAT_TEXT), "a\tb\t3\n");
    CHECK_STR(fmt("null", BT_FORMAT_TEXT), "None\n");
    CHECK_STR(fmt("[]", BT_FORMAT_TEXT), "");
    /* a non-scalar where another element has a scalar prints as Python repr() */
    CHECK_STR(fmt("[{\"a\":1},{\"a\":{\"b\":\"it's\",\"c\":[null,true]}}]", BT_FORMAT_TEXT),
              "1\n{'b': \"it's\", 'c': [None, True]}\n");
    /* mixed list: scalars first, then the lists */
    CHECK_STR(fmt("{\"k\":[1,[2,3],\"x\"]}", BT_FORMAT_TEXT), "K\t1\nK\tx\nK\t2\nK\t3\n");
    /* the CLI fails on a list mixing dicts and non-dicts, after what it printed */
    CHECK_STR(fmt("{\"a\":\"first\",\"b\":[{\"x\":1},2]}", BT_FORMAT_TEXT), "first\n");
    CHECK_INT(g_rc, BT_EINVAL);
}

static void test_table(void)
{
    CHECK_STR(fmt("{\"a\":1,\"b\":\"日本\"}", BT_FORMAT_TABLE), "---------------\n"
                                                                "|      T      |\n"
                                                                "+----+--------+\n"
                                                                "|  a |   b    |\n"
                                                                "+----+--------+\n"
                                                                "|  1 |  日本  |\n"
                                                                "+----+--------+\n");
    CHECK_STR(fmt("[{\"k\":\"x\",\"v\":1},{\"k\":\"yy\",\"v\":2.5}]", BT_FORMAT_TABLE),
              "---------------\n"
              "|      T      |\n"
              "+-----+-------+\n"
              "|  k  |   v   |\n"
              "+-----+-------+\n"
              "|  x  |  1    |\n"
              "|  yy |  2.5  |\n"
              "+-----+-------+\n");
    /* too wide for 20 columns: the single-row section turns vertical */
    CHECK_STR(fmt_w("{\"Id\":\"日本語テキスト\",\"é\":\"x\"}", BT_FORMAT_TABLE, 20, 0),
              "--------------------------\n"
              "|            T           |\n"
              "+----+-------------------+\n"
              "|  Id|  日本語テキスト   |\n"
              "|  é|  x                |\n"
              "+----+-------------------+\n");
    CHECK_STR(fmt("\"scalar\"", BT_FORMAT_TABLE), "---\n|T|\n+-+\n");
    CHECK_STR(fmt("0", BT_FORMAT_TABLE), "");
    CHECK_STR(fmt("{}", BT_FORMAT_TABLE), "");
    /* rows of different lengths make the CLI raise: nothing printed */
    bt_buf_clear(&g_out);
    CHECK_STR(fmt("[[1,2],[3]]", BT_FORMAT_TABLE), "");
    CHECK_INT(g_rc, BT_EINVAL);
}

static void test_yaml(void)
{
    CHECK_STR(fmt("{\"s\":\"yes\",\"t\":\"true\",\"n\":\"123\",\"m\":\"a\\nb\",\"e\":[],"
                  "\"l\":[\"x\",null,1.0]}",
                  BT_FORMAT_YAML),
              "e: []\nl:\n- x\n- null\n- 1.0\nm: 'a\n\n  b'\nn: '123'\ns: yes\nt: 'true'\n");
    CHECK_STR(fmt("{\"e\":\"😀\",\"t\":\"a\\tb\",\"q\":\"it's\",\"c\":\"a: b\"}", BT_FORMAT_YAML),
              "c: 'a: b'\ne: \"\\U0001F600\"\nq: it's\nt: \"a\\tb\"\n");
    CHECK_STR(fmt("\"x\"", BT_FORMAT_YAML), "\"x\"\n"); /* scalars print as JSON */
    CHECK_STR(fmt("{}", BT_FORMAT_YAML), "");
    CHECK_STR(fmt("[]", BT_FORMAT_YAML), "[]\n");
    CHECK_STR(fmt("{\"a\":[{\"b\":[[1]]}]}", BT_FORMAT_YAML), "a:\n- b:\n  - - 1\n");
    CHECK_STR(fmt("{\"a\":1}", BT_FORMAT_YAML_STREAM), "- a: 1\n");
    CHECK_STR(fmt("{}", BT_FORMAT_YAML_STREAM), "");
    CHECK_STR(fmt("\"x\"", BT_FORMAT_YAML_STREAM), "- x\n");
    /* folding past column 80 at a space */
    CHECK_STR(fmt("{\"k\":\"aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff "
                  "gggggggggg hhhhhhhhhh iiii jjjj\"}",
                  BT_FORMAT_YAML),
              "k: aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff gggggggggg "
              "hhhhhhhhhh\n  iiii jjjj\n");
}

static void test_pages(void)
{
    bt_format_opts o = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_buf out = BT_BUF_INIT;
    bt_json *p1, *p2, *tok;
    const char *j1 = "{\"Events\":[{\"EventId\":\"e1\"}]}";
    const char *j2 = "[\"e2\",\"e3\"]";

    CHECK_INT(bt_json_parse(a, j1, strlen(j1), NULL, &p1, &err), 0);
    CHECK_INT(bt_json_parse(a, j2, strlen(j2), NULL, &p2, &err), 0);
    o.format = BT_FORMAT_TEXT;
    CHECK_INT(bt_format_write_page(&out, p1, &o, &err), 0);
    CHECK_INT(bt_format_write_page(&out, p2, &o, &err), 0);
    tok = bt_format_next_token_value(a, "abc", 3);
    CHECK(tok != NULL);
    CHECK_INT(bt_format_write_page(&out, tok, &o, &err), 0);
    CHECK_STR(out.data, "EVENTS\te1\ne2\te3\nNEXTTOKEN\tabc\n");
    /* a --query applied to the token dict usually yields null: "None" */
    CHECK_INT(bt_format_write_page(&out, NULL, &o, &err), 0);
    CHECK_STR(out.data + out.len - 5, "None\n");

    bt_buf_clear(&out);
    o.format = BT_FORMAT_YAML_STREAM;
    CHECK_INT(bt_format_write_page(&out, p1, &o, &err), 0);
    CHECK_INT(bt_format_write_page(&out, bt_json_new_object(a, 0), &o, &err), 0);
    CHECK_STR(out.data, "- Events:\n  - EventId: e1\n- {}\n");

    o.format = BT_FORMAT_JSON;
    CHECK_INT(bt_format_write_page(&out, p1, &o, &err), BT_EINVAL);
    bt_buf_dispose(&out);
    bt_arena_free(a);
}

static void test_csv(void)
{
    CHECK_STR(fmt("[{\"id\":\"a,1\",\"n\":1},{\"n\":2.5,\"id\":\"say \\\"hi\\\"\",\"x\":null},"
                  "{\"id\":\"two\\nlines\",\"x\":true,\"o\":{\"k\":[1,\"日本\"]}}]",
                  BT_FORMAT_CSV),
              "id,n,x,o.k.0,o.k.1\n"
              "\"a,1\",1,,,\n"
              "\"say \"\"hi\"\"\",2.5,,,\n"
              "\"two\nlines\",,true,1,日本\n");
    CHECK_STR(fmt_w("[{\"a\":1,\"b\":2}]", BT_FORMAT_CSV, 0, BT_FORMAT_F_CSV_CRLF),
              "a,b\r\n1,2\r\n");
    CHECK_STR(fmt_w("[{\"a\":1,\"b\":2}]", BT_FORMAT_CSV, 0, BT_FORMAT_F_CSV_NO_HEADER), "1,2\n");
    /* a response object with one list: that list's records */
    CHECK_STR(fmt("{\"Events\":[{\"EventId\":\"e1\"},{\"EventId\":\"e2\"}],\"NextToken\":\"t\"}",
                  BT_FORMAT_CSV),
              "EventId\ne1\ne2\n");
    CHECK_STR(fmt("{\"a\":1,\"b\":\"x\"}", BT_FORMAT_CSV), "a,b\n1,x\n");
    CHECK_STR(fmt("[[\"e1\",\"StartBuild\"],[\"e2\",null]]", BT_FORMAT_CSV),
              "e1,StartBuild\ne2,\n");
    CHECK_STR(fmt("[\"a\",\"\",\"b c\"]", BT_FORMAT_CSV), "a\n\"\"\nb c\n");
    CHECK_STR(fmt("\"x,y\"", BT_FORMAT_CSV), "\"x,y\"\n");
    CHECK_STR(fmt("null", BT_FORMAT_CSV), "");
    CHECK_STR(fmt("[]", BT_FORMAT_CSV), "");
}

/* csv cells hold scalars: nested values flattened to dotted columns */
static void test_csv_flatten(void)
{
    /* a later row's extra list items join their kind; absent cells are empty */
    CHECK_STR(
        fmt("{\"Events\":[{\"EventId\":\"e1\",\"Resources\":[{\"ResourceType\":\"P\","
            "\"ResourceName\":\"web\"}],\"CloudTrailEvent\":\"{}\"},{\"EventId\":\"e2\","
            "\"Resources\":[{\"ResourceType\":\"P\",\"ResourceName\":\"a\"},{\"ResourceType\":"
            "\"B\",\"ResourceName\":\"a:1\"}],\"CloudTrailEvent\":\"{}\"}]}",
            BT_FORMAT_CSV),
        "EventId,Resources.0.ResourceType,Resources.0.ResourceName,Resources.1.ResourceType,"
        "Resources.1.ResourceName,CloudTrailEvent\n"
        "e1,P,web,,,{}\n"
        "e2,P,a,B,a:1,{}\n");
    /* deep objects: the dotted path; columns otherwise in order of first appearance */
    CHECK_STR(fmt("[{\"userIdentity\":{\"type\":\"AssumedRole\"},\"errorCode\":\"AccessDenied\"},"
                  "{\"userIdentity\":{\"type\":\"AssumedRole\",\"sessionContext\":{"
                  "\"sessionIssuer\":{\"userName\":\"cb-role\"}}},\"readOnly\":true}]",
                  BT_FORMAT_CSV),
              "userIdentity.type,userIdentity.sessionContext.sessionIssuer.userName,errorCode,"
              "readOnly\n"
              "AssumedRole,,AccessDenied,\n"
              "AssumedRole,cb-role,,true\n");
    /* an empty list or object holds no scalar: no cell (but its place is kept for the
     * columns other rows have under it); null is an empty cell */
    CHECK_STR(fmt("[{\"a\":[],\"b\":{},\"c\":null}]", BT_FORMAT_CSV), "c\n\"\"\n");
    CHECK_STR(fmt("[{\"a\":[],\"b\":1},{\"a\":[2],\"b\":3}]", BT_FORMAT_CSV), "a.0,b\n,1\n2,3\n");
    /* lists of lists: positional, no header; with nested values the header says which */
    CHECK_STR(fmt("[[\"a\"],[\"b\",\"c\"]]", BT_FORMAT_CSV), "a,\nb,c\n");
    CHECK_STR(fmt("[[\"e1\",[\"r1\",\"r2\"]],[\"e2\",[]]]", BT_FORMAT_CSV), "e1,r1,r2\ne2,,\n");
    CHECK_STR(fmt("[[\"e1\",{\"k\":1}]]", BT_FORMAT_CSV), "0,1.k\ne1,1\n");
    /* a lone object; quoting applies to the flattened cells and to the header */
    CHECK_STR(fmt("{\"a\":{\"x,y\":\"1,2\",\"q\":[\"say \\\"hi\\\"\"]}}", BT_FORMAT_CSV),
              "\"a.x,y\",a.q.0\n\"1,2\",\"say \"\"hi\"\"\"\n");
    CHECK_STR(fmt("[[],[]]", BT_FORMAT_CSV), "");
    CHECK_STR(fmt("[{}]", BT_FORMAT_CSV), "");
}

static void test_width(void)
{
    CHECK_INT(bt_format_display_width("abc", 3), 3);
    CHECK_INT(bt_format_display_width("日本", strlen("日本")), 4);
    CHECK_INT(bt_format_display_width("é", strlen("é")), 2);       /* Ambiguous */
    CHECK_INT(bt_format_display_width("±§", strlen("±§")), 4);     /* Ambiguous */
    CHECK_INT(bt_format_display_width("😀", strlen("😀")), 2);       /* Wide */
    CHECK_INT(bt_format_display_width("ＡＢ", strlen("ＡＢ")), 4); /* Fullwidth */
    CHECK_INT(bt_format_display_width("ｶﾀ", strlen("ｶﾀ")), 2);     /* Halfwidth */
    /* U+0301 combining acute is East Asian Ambiguous: Python counts e + U+0301 as 3 */
    CHECK_INT(bt_format_display_width("e\xcc\x81", 3), 3);
    CHECK_INT(bt_format_display_width("e\xe2\x80\x8b", 4), 2); /* U+200B: Neutral */
    CHECK_INT(bt_format_display_width("\xff", 1), 1);          /* invalid byte */
    CHECK_INT(bt_format_display_width("", 0), 0);
}

static const char *ts(int64_t ms)
{
    static char s[64];
    bt_buf b = BT_BUF_INIT;
    if (bt_format_iso8601_local(&b, ms) != 0)
        snprintf(s, sizeof s, "<error>");
    else
        snprintf(s, sizeof s, "%s", b.data);
    bt_buf_dispose(&b);
    return s;
}

static void test_timestamps(void)
{
    bt_buf b = BT_BUF_INIT;

    setenv("TZ", "UTC", 1);
    CHECK_STR(ts(0), "1970-01-01T00:00:00+00:00");
    CHECK_STR(ts(1637257262123LL), "2021-11-18T17:41:02.123000+00:00");
    CHECK_STR(ts(-1), "1969-12-31T23:59:59.999000+00:00");
    setenv("TZ", "Asia/Kolkata", 1);
    CHECK_STR(ts(1637257262000LL), "2021-11-18T23:11:02+05:30");
    setenv("TZ", "America/New_York", 1);
    CHECK_STR(ts(1637257262000LL), "2021-11-18T12:41:02-05:00");
    CHECK_STR(ts(1689696000000LL), "2023-07-18T12:00:00-04:00");
    setenv("TZ", "UTC", 1);
    CHECK_INT(bt_format_iso8601_local(&b, INT64_MAX), BT_EINVAL);
    bt_buf_dispose(&b);
}

BT_TEST_MAIN(test_names, test_json, test_text, test_table, test_yaml, test_pages, test_csv,
             test_csv_flatten, test_width, test_timestamps)
