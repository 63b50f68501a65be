/* test_json.c - unit tests for the JSON parser, access helpers, construction API and
 * writer (Python-compatible layout and number formatting). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"
#include "tharness.h"

static bt_arena *g_a;

static bt_json *parse(const char *s)
{
    bt_json *v = NULL;
    bt_error err = BT_ERROR_INIT;
    int rc = bt_json_parse(g_a, s, strlen(s), NULL, &v, &err);
    if (rc)
        fprintf(stderr, "  parse failed: %s\n", err.msg);
    return rc ? NULL : v;
}

/* Parses s and returns the error code; msg (optional) receives the message. */
static int parse_err(const char *s, size_t len, const bt_json_parse_opts *o, char *msg)
{
    bt_json *v = NULL;
    bt_error err = BT_ERROR_INIT;
    int rc = bt_json_parse(g_a, s, len, o, &v, &err);
    if (msg)
        strcpy(msg, err.msg);
    if (rc)
        CHECK(v == NULL);
    return rc;
}

/* Writes v with indent/flags into a static buffer (valid until the next call). */
static const char *wr(const bt_json *v, unsigned indent, unsigned flags)
{
    static bt_buf b = BT_BUF_INIT;
    bt_json_write_opts o = {indent, flags};
    bt_buf_clear(&b);
    if (bt_json_write(&b, v, &o))
        return "(write failed)";
    return b.data ? b.data : "";
}

static const char *span(const bt_json *v)
{
    static char buf[4096];
    if (!v || !v->src)
        return "(none)";
    snprintf(buf, sizeof buf, "%.*s", (int)v->src_len, v->src);
    return buf;
}

static void setup(void)
{
    if (!g_a)
        g_a = bt_arena_new(0, 0);
    bt_arena_reset(g_a);
}

static void test_scalars(void)
{
    bt_json *v;
    setup();
    v = parse(" null ");
    CHECK(v && v->type == BT_JSON_NULL);
    v = parse("true");
    CHECK(v && v->type == BT_JSON_TRUE);
    v = parse("false");
    CHECK(v && v->type == BT_JSON_FALSE);
    v = parse("-12.5e1");
    CHECK(v && v->type == BT_JSON_NUMBER && v->num == -125.0);
    CHECK_STR(v->u.str, "-12.5e1");
    CHECK_INT(v->len, 7);
    v = parse("0");
    CHECK(v && v->num == 0 && !signbit(v->num));
    v = parse("-0");
    CHECK(v && v->num == 0 && signbit(v->num));
    v = parse("123456789012345678901234567890");
    CHECK(v && v->num == 1.2345678901234568e29);
    CHECK_STR(v->u.str, "123456789012345678901234567890");
    v = parse("0.1");
    CHECK(v && v->num == 0.1);
    v = parse("1E400");
    CHECK(v && isinf(v->num));
    v = parse("2.2250738585072014e-308");
    CHECK(v && v->num == 2.2250738585072014e-308);
    v = parse("9007199254740993");
    CHECK(v && v->num == 9007199254740992.0);
    v = parse("18446744073709551615");
    CHECK(v && v->num == 18446744073709551615.0);
    v = parse("\"abc\"");
    CHECK(v && v->type == BT_JSON_STRING && v->len == 3);
    CHECK_STR(v->u.str, "abc");
    v = parse("[]");
    CHECK(v && v->type == BT_JSON_ARRAY && v->len == 0);
    v = parse("{}");
    CHECK(v && v->type == BT_JSON_OBJECT && v->len == 0);
}

static void test_raw_spans(void)
{
    const char *text =
        " {\"a\" : [1, {\"b\" :\t\"x\\\"y\"} , -2.5e3 ],\n\"c\":true, \"d\":{} ,\"e\":null} ";
    bt_json *v, *a, *b;
    setup();
    v = parse(text);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK(v->src == text + 1);
    CHECK_STR(span(v),
              "{\"a\" : [1, {\"b\" :\t\"x\\\"y\"} , -2.5e3 ],\n\"c\":true, \"d\":{} ,\"e\":null}");
    a = bt_json_get(v, "a");
    CHECK_STR(span(a), "[1, {\"b\" :\t\"x\\\"y\"} , -2.5e3 ]");
    CHECK_STR(span(a->u.items[0]), "1");
    CHECK_STR(span(a->u.items[1]), "{\"b\" :\t\"x\\\"y\"}");
    CHECK_STR(span(a->u.items[2]), "-2.5e3");
    b = bt_json_get(a->u.items[1], "b");
    CHECK_STR(span(b), "\"x\\\"y\"");
    CHECK_STR(b->u.str, "x\"y");
    CHECK_STR(span(bt_json_get(v, "c")), "true");
    CHECK_STR(span(bt_json_get(v, "d")), "{}");
    CHECK_STR(span(bt_json_get(v, "e")), "null");
}

static void test_escapes(void)
{
    bt_json *v;
    setup();
    v = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"");
    CHECK(v != NULL);
    if (v) {
        CHECK_STR(v->u.str, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        CHECK_INT(v->len, 8 + 1 + 2 + 3 + 4);
    }
    v = parse("\"a\\u0000b\"");
    CHECK(v && v->len == 3 && memcmp(v->u.str, "a\0b", 4) == 0);
    /* raw non-ASCII kept as is */
    v = parse("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    CHECK(v && v->len == 10);
    /* keys are decoded too */
    v = parse("{\"k\\u00e9y\":1}");
    CHECK(v && v->u.members[0].key_len == 4 && strcmp(v->u.members[0].key, "k\xc3\xa9y") == 0);
    CHECK(bt_json_get(v, "k\xc3\xa9y") != NULL);
    CHECK_INT(parse_err("\"\\x\"", 4, NULL, NULL), BT_EPARSE);
    CHECK_INT(parse_err("\"\\u12\"", 6, NULL, NULL), BT_EPARSE);
    CHECK_INT(parse_err("\"\\u12g4\"", 8, NULL, NULL), BT_EPARSE);
    CHECK_INT(parse_err("\"a\tb\"", 5, NULL, NULL), BT_EPARSE);
    CHECK_INT(parse_err("\"a\x7f\"", 4, NULL, NULL), 0); /* DEL is allowed */
}

static void test_surrogates(void)
{
    bt_json *v;
    setup();
    v = parse("\"\\uD834\\uDD1E\"");
    CHECK(v && strcmp(v->u.str, "\xf0\x9d\x84\x9e") == 0);
    v = parse("\"\\uDBFF\\uDFFF\"");
    CHECK(v && strcmp(v->u.str, "\xf4\x8f\xbf\xbf") == 0);
    /* lone high, lone low, inverted, high followed by non-surrogate escape */
    v = parse("\"\\uD800\"");
    CHECK(v && strcmp(v->u.str, "\xef\xbf\xbd") == 0);
    v = parse("\"\\uDC00x\"");
    CHECK(v && strcmp(v->u.str, "\xef\xbf\xbdx") == 0);
    v = parse("\"\\uDD1E\\uD834\"");
    CHECK(v && strcmp(v->u.str, "\xef\xbf\xbd\xef\xbf\xbd") == 0);
    v = parse("\"\\uD800\\u0041\"");
    CHECK(v && strcmp(v->u.str, "\xef\xbf\xbd"
                                "A") == 0);
    v = parse("\"\\uD800\\n\"");
    CHECK(v && strcmp(v->u.str, "\xef\xbf\xbd\n") == 0);
}

static void test_utf8_validation(void)
{
    static const char *bad[] = {
        "\"\xc0\x80\"",         /* overlong NUL */
        "\"\xc1\xbf\"",         /* overlong */
        "\"\xe0\x80\x80\"",     /* overlong 3-byte */
        "\"\xe0\x9f\xbf\"",     /* overlong 3-byte */
        "\"\xed\xa0\x80\"",     /* UTF-8 encoded surrogate D800 */
        "\"\xed\xbf\xbf\"",     /* UTF-8 encoded surrogate DFFF */
        "\"\xf0\x80\x80\x80\"", /* overlong 4-byte */
        "\"\xf0\x8f\xbf\xbf\"", /* overlong 4-byte */
        "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"\xf5\x80\x80\x80\"", /* invalid lead */
        "\"\xff\"",             /* invalid byte */
        "\"\x80\"",             /* lone continuation */
        "\"\xc3\"",             /* truncated */
        "\"\xe2\x82\"",         /* truncated */
        "\"\xc3\x28\"",         /* bad continuation */
    };
    static const char *good[] = {
        "\"\xc2\x80\"",     "\"\xdf\xbf\"",     "\"\xe0\xa0\x80\"",     "\"\xed\x9f\xbf\"",
        "\"\xee\x80\x80\"", "\"\xef\xbf\xbf\"", "\"\xf0\x90\x80\x80\"", "\"\xf4\x8f\xbf\xbf\"",
    };
    size_t i;
    char msg[BT_ERROR_MSG_MAX];
    setup();
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(parse_err(bad[i], strlen(bad[i]), NULL, msg), BT_EPARSE);
        CHECK(strstr(msg, "invalid UTF-8") != NULL || strstr(msg, "unterminated") != NULL);
    }
    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_INT(parse_err(good[i], strlen(good[i]), NULL, NULL), 0);
    /* invalid UTF-8 after a long plain run (the 16-byte scan) and in an escaped string */
    CHECK_INT(parse_err("\"0123456789abcdef0123\xc0\xaf\"", 24, NULL, msg), BT_EPARSE);
    CHECK_STR(msg, "invalid JSON at byte 21: invalid UTF-8 in string");
    CHECK_INT(parse_err("\"\\n\xed\xa0\x80\"", 8, NULL, msg), BT_EPARSE);
    CHECK_STR(msg, "invalid JSON at byte 3: invalid UTF-8 in string");
    /* non-ASCII outside strings */
    CHECK_INT(parse_err("[\xc3\xa9]", 4, NULL, NULL), BT_EPARSE);
    /* byte order mark */
    CHECK_INT(parse_err("\xef\xbb\xbf{}", 5, NULL, msg), BT_EPARSE);
    CHECK_STR(msg, "invalid JSON at byte 0: byte order mark (U+FEFF) is not allowed");
}

static void test_errors(void)
{
    char msg[BT_ERROR_MSG_MAX];
    static const char *bad[] = {"",
                                " ",
                                "[",
                                "[1,]",
                                "[1 2]",
                                "{\"a\"}",
                                "{\"a\":}",
                                "{a:1}",
                                "{\"a\":1,}",
                                "01",
                                "1.",
                                ".5",
                                "-",
                                "1e",
                                "1e+",
                                "+1",
                                "tru",
                                "nul",
                                "falsy",
                                "[1]x",
                                "\"abc",
                                "[\"a\\",
                                "{\"a\":1 \"b\":2}",
                                "NaN",
                                "Infinity",
                                "[1]\x0c",
                                "'a'",
                                "[-01]",
                                "1.e5",
                                "[,1]"};
    size_t i;
    setup();
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse_err(bad[i], strlen(bad[i]), NULL, msg);
        CHECK_INT(rc, BT_EPARSE);
        CHECK(strncmp(msg, "invalid JSON at byte ", 21) == 0 && !strchr(msg, '\n'));
    }
    parse_err("{\"a\" 1}", 7, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 5: unexpected character '1' (expected ':' after "
                   "object key)");
    parse_err("[1,2", 4, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 4: unexpected end of input");
    parse_err("[1}", 3, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 2: unexpected character '}' (expected ',' or ']' "
                   "after array element)");
    parse_err("{\"a\":1]", 7, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 6: unexpected character ']' (expected ',' or '}' "
                   "after object member)");
    parse_err("{1:2}", 5, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 1: unexpected character '1' (expected string for "
                   "object key)");
    parse_err("  \"ab", 5, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 2: unterminated string");
    parse_err("[1] 2", 5, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 4: unexpected character '2' after the JSON value");
    parse_err("[\"a\nb\"]", 7, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 3: unescaped control character in string");
    parse_err("012", 3, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 1: leading zeros are not allowed in numbers");
    parse_err("1\0", 2, NULL, msg);
    CHECK_STR(msg, "invalid JSON at byte 1: unexpected byte 0x00 after the JSON value");
    /* NULL text with zero length is an empty document */
    CHECK_INT(parse_err(NULL, 0, NULL, NULL), BT_EPARSE);
    /* a NULL bt_error is allowed */
    {
        bt_json *v;
        CHECK_INT(bt_json_parse(g_a, "[", 1, NULL, &v, NULL), BT_EPARSE);
    }
}

static void test_depth_limit(void)
{
    char msg[BT_ERROR_MSG_MAX], *s;
    bt_json_parse_opts o = {3, 0, 0};
    int i;
    setup();
    CHECK_INT(parse_err("[[[1]]]", 7, &o, NULL), 0);
    CHECK_INT(parse_err("[{\"a\":[1]}]", 11, &o, NULL), 0);
    CHECK_INT(parse_err("[[[[1]]]]", 9, &o, msg), BT_ELIMIT);
    CHECK_STR(msg, "invalid JSON at byte 3: nesting deeper than 3 levels");
    CHECK_INT(parse_err("[{\"a\":[{}]}]", 12, &o, NULL), BT_ELIMIT);
    /* default 512 */
    s = malloc(2000);
    for (i = 0; i < 512; i++)
        s[i] = '[';
    for (i = 0; i < 512; i++)
        s[512 + i] = ']';
    CHECK_INT(parse_err(s, 1024, NULL, NULL), 0);
    for (i = 0; i < 513; i++)
        s[i] = '[';
    for (i = 0; i < 513; i++)
        s[513 + i] = ']';
    CHECK_INT(parse_err(s, 1026, NULL, msg), BT_ELIMIT);
    CHECK_STR(msg, "invalid JSON at byte 512: nesting deeper than 512 levels");
    /* a larger cap goes past the local frame stack */
    o.max_depth = 1000;
    CHECK_INT(parse_err(s, 1026, &o, NULL), 0);
    free(s);
}

static void test_size_limit(void)
{
    char msg[BT_ERROR_MSG_MAX];
    bt_json_parse_opts o = {0, 5, 0};
    bt_json *v;
    size_t used;
    bt_error err = BT_ERROR_INIT;
    setup();
    CHECK_INT(parse_err("[1,2]", 5, &o, NULL), 0);
    CHECK_INT(parse_err("[1, 2]", 6, &o, msg), BT_ELIMIT);
    CHECK_STR(msg, "invalid JSON at byte 5: input is larger than the size limit of 5 bytes");
    /* prefix mode: the limit applies to the value, not to the rest of the buffer */
    CHECK_INT(bt_json_parse_prefix(g_a, "[1,2]\n[3,4,5,6]", 15, &o, &v, &used, &err), 0);
    CHECK_INT(used, 5);
    CHECK_INT(bt_json_parse_prefix(g_a, "[3,4,5,6]", 9, &o, &v, &used, &err), BT_ELIMIT);
    CHECK_INT(bt_json_parse_prefix(g_a, "\"abcdefgh\"", 10, &o, &v, &used, &err), BT_ELIMIT);
    CHECK_INT(bt_json_parse_prefix(g_a, "123456", 6, &o, &v, &used, &err), BT_ELIMIT);
    CHECK_INT(bt_json_parse_prefix(g_a, "12345 6", 7, &o, &v, &used, &err), 0);
    CHECK_INT(used, 5);
    CHECK_INT(bt_json_parse_prefix(g_a, "1234.5", 6, &o, &v, &used, &err), BT_ELIMIT);
    CHECK_INT(bt_json_parse_prefix(g_a, "1234 6", 6, &o, &v, &used, &err), 0);
    CHECK_INT(used, 4);
    CHECK_INT(bt_json_parse_prefix(g_a, "[1,x]  ", 7, &o, &v, &used, &err), BT_EPARSE);
    /* the arena cap turns into BT_ENOMEM */
    {
        bt_arena *small = bt_arena_new(256, 512);
        CHECK_INT(
            bt_json_parse(small, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]", 40, NULL, &v, &err),
            BT_ENOMEM);
        bt_arena_free(small);
    }
}

static void test_prefix_ndjson(void)
{
    const char *text = "{\"a\":1}\n{\"b\":[2]} \r\n  3\n\"s\"true[]-1.5e2";
    size_t off = 0, used, n = strlen(text);
    const char *want[] = {"{\"a\":1}", "{\"b\":[2]}", "3", "\"s\"", "true", "[]", "-1.5e2"};
    int i = 0;
    bt_error err = BT_ERROR_INIT;
    setup();
    while (off < n) {
        bt_json *v = NULL;
        int rc = bt_json_parse_prefix(g_a, text + off, n - off, NULL, &v, &used, &err);
        CHECK_INT(rc, 0);
        if (rc || i >= 7)
            break;
        CHECK_STR(span(v), want[i]);
        i++;
        off += used;
        while (off < n && strchr(" \r\n", text[off]))
            off++;
    }
    CHECK_INT(i, 7);
    CHECK_INT(off, n);
    {
        bt_json *v;
        CHECK_INT(bt_json_parse_prefix(g_a, "  ", 2, NULL, &v, &used, &err), BT_EPARSE);
        CHECK_INT(bt_json_parse_prefix(g_a, "12x", 3, NULL, &v, &used, &err), 0);
        CHECK_INT(used, 2);
        CHECK_INT(bt_json_parse_prefix(g_a, "{\"a\":1} x", 9, NULL, &v, NULL, &err), 0);
    }
}

static void test_big_containers(void)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *v;
    int i;
    setup();
    /* more items, members and escaped bytes than the parser's local stacks hold */
    bt_buf_putc(&b, '[');
    for (i = 0; i < 3000; i++)
        bt_buf_printf(&b, "%s{\"k%d\":[%d,\"v\\n%d\"]}", i ? "," : "", i, i, i);
    bt_buf_putc(&b, ']');
    v = parse(b.data);
    CHECK(v && v->len == 3000);
    if (v) {
        bt_json *it = v->u.items[2999];
        CHECK(bt_json_get(it, "k2999") && bt_json_get(it, "k2999")->u.items[0]->num == 2999);
        CHECK_STR(bt_json_get(it, "k2999")->u.items[1]->u.str, "v\n2999");
    }
    bt_buf_clear(&b);
    bt_buf_putc(&b, '{');
    for (i = 0; i < 1000; i++)
        bt_buf_printf(&b, "%s\"m%d\":%d", i ? "," : "", i, i);
    bt_buf_putc(&b, '}');
    v = parse(b.data);
    CHECK(v && v->len == 1000 && bt_json_get(v, "m777")->num == 777);
    bt_buf_clear(&b);
    bt_buf_putc(&b, '"');
    for (i = 0; i < 5000; i++)
        bt_buf_puts(&b, "ab\\u00e9\\\"");
    bt_buf_putc(&b, '"');
    v = parse(b.data);
    CHECK(v && v->len == 5000 * 5);
    bt_buf_dispose(&b);
}

static void test_access(void)
{
    bt_json *v;
    setup();
    v = parse("{\"userIdentity\":{\"type\":\"AssumedRole\",\"sessionContext\":{\"sessionIssuer\":"
              "{\"arn\":\"arn:aws:iam::1:role/r\"}}},\"n\":0,\"e\":\"\",\"a\":[],\"o\":{},"
              "\"f\":false,\"dup\":1,\"dup\":2}");
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_STR(bt_json_get_path(v, "userIdentity.sessionContext.sessionIssuer.arn")->u.str,
              "arn:aws:iam::1:role/r");
    CHECK(bt_json_get_path(v, "userIdentity.nope.arn") == NULL);
    CHECK(bt_json_get_path(v, "userIdentity.type.x") == NULL);
    CHECK(bt_json_get_path(v, "n") == bt_json_get(v, "n"));
    CHECK_STR(bt_json_get_str(bt_json_get(v, "userIdentity"), "type"), "AssumedRole");
    CHECK(bt_json_get_str(v, "n") == NULL);
    CHECK(bt_json_is_str(bt_json_get(v, "e"), ""));
    CHECK(!bt_json_is_str(bt_json_get(v, "n"), "0"));
    CHECK(bt_json_getn(v, "userIdentityX", 12) == bt_json_get(v, "userIdentity"));
    CHECK(bt_json_get(v, "dup")->num == 1); /* first member wins */
    CHECK(bt_json_get(NULL, "a") == NULL);
    CHECK(bt_json_get(bt_json_get(v, "a"), "x") == NULL);
    CHECK(bt_json_truthy(bt_json_get(v, "n")));
    CHECK(!bt_json_truthy(bt_json_get(v, "e")));
    CHECK(!bt_json_truthy(bt_json_get(v, "a")));
    CHECK(!bt_json_truthy(bt_json_get(v, "o")));
    CHECK(!bt_json_truthy(bt_json_get(v, "f")));
    CHECK(!bt_json_truthy(NULL));
    CHECK(bt_json_truthy(v));
    CHECK(bt_json_truthy(bt_json_get(v, "userIdentity")));
}

static void test_equal(void)
{
    setup();
    CHECK(bt_json_equal(parse("{\"a\":1,\"b\":[1,2,{\"c\":null}]}"),
                        parse("{\"b\":[1,2.0,{\"c\":null}],\"a\":1e0}")));
    CHECK(!bt_json_equal(parse("{\"a\":1,\"b\":2}"), parse("{\"a\":1,\"c\":2}")));
    CHECK(!bt_json_equal(parse("{\"a\":1}"), parse("{\"a\":1,\"b\":2}")));
    CHECK(!bt_json_equal(parse("[1,2]"), parse("[2,1]")));
    CHECK(!bt_json_equal(parse("\"a\""), parse("\"a\\u0000\"")));
    CHECK(bt_json_equal(parse("\"\\u00e9\""), parse("\"\xc3\xa9\"")));
    CHECK(!bt_json_equal(parse("true"), parse("false")));
    CHECK(!bt_json_equal(parse("null"), parse("false")));
    CHECK(bt_json_equal(parse("-0"), parse("0")));
    /* big integer literals compare exactly, not as doubles */
    CHECK(!bt_json_equal(parse("9007199254740993"), parse("9007199254740992")));
    CHECK(bt_json_equal(parse("9007199254740993"), parse("9007199254740993")));
    CHECK(bt_json_equal(parse("9007199254740992"), parse("9007199254740992.0")));
    CHECK(bt_json_equal(bt_json_new_number(g_a, 3), parse("3")));
    CHECK(bt_json_equal(NULL, NULL));
    /* large objects (sorted comparison), with duplicates: first occurrence counts */
    {
        bt_buf x = BT_BUF_INIT, y = BT_BUF_INIT;
        int i;
        bt_buf_putc(&x, '{');
        bt_buf_putc(&y, '{');
        for (i = 0; i < 100; i++) {
            bt_buf_printf(&x, "\"k%d\":%d,", i, i);
            bt_buf_printf(&y, "\"k%d\":%d,", 99 - i, 99 - i);
        }
        bt_buf_puts(&x, "\"k5\":7}");
        bt_buf_puts(&y, "\"k6\":6}");
        CHECK(bt_json_equal(parse(x.data), parse(y.data)));
        x.data[x.len - 2] = '5'; /* k5:5 duplicate: still equal */
        CHECK(bt_json_equal(parse(x.data), parse(y.data)));
        y.data[2] = 'j'; /* "j99" instead of "k99" */
        CHECK(!bt_json_equal(parse(x.data), parse(y.data)));
        bt_buf_dispose(&x);
        bt_buf_dispose(&y);
    }
    CHECK(!bt_json_equal(NULL, parse("null")));
}

static void test_construct(void)
{
    bt_json *o, *a, *s;
    int i;
    setup();
    o = bt_json_new_object(g_a, 0);
    a = bt_json_new_array(g_a, 2);
    CHECK(o && a && o->len == 0 && a->len == 0 && o->src == NULL);
    for (i = 0; i < 10; i++)
        CHECK_INT(bt_json_array_push(g_a, a, bt_json_new_number(g_a, i * 1.5)), 0);
    CHECK_INT(a->len, 10);
    CHECK(a->u.items[9]->num == 13.5);
    s = bt_json_new_string(g_a, "x\0y", 3);
    CHECK(s && s->len == 3 && s->u.str[3] == '\0');
    CHECK_INT(bt_json_object_put(g_a, o, "s", 1, s), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "a", 1, a), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "t", 1, bt_json_new_bool(g_a, true)), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "f", 1, bt_json_new_bool(g_a, false)), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "n", 1, bt_json_new_null(g_a)), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "e", 1, bt_json_new_object(g_a, 4)), 0);
    CHECK_INT(bt_json_object_put(g_a, o, "s", 1, bt_json_new_string(g_a, "dup", 3)), 0);
    CHECK_INT(o->len, 7);
    CHECK_STR(wr(o, 0, 0), "{\"s\":\"x\\u0000y\",\"a\":[0,1.5,3,4.5,6,7.5,9,10.5,12,13.5],"
                           "\"t\":true,\"f\":false,\"n\":null,\"e\":{},\"s\":\"dup\"}");
    CHECK_INT(bt_json_array_push(g_a, o, s), BT_EINVAL);
    CHECK_INT(bt_json_object_put(g_a, a, "k", 1, s), BT_EINVAL);
    /* growing a parsed container drops its raw span */
    {
        bt_json *p = parse("[1,2]"), *q = parse("{\"a\":1}");
        CHECK_INT(bt_json_array_push(g_a, p, s), 0);
        CHECK(p->len == 3 && p->src == NULL && p->u.items[0]->num == 1);
        CHECK_INT(bt_json_object_put(g_a, q, "b", 1, s), 0);
        CHECK(q->len == 2 && q->src == NULL);
        CHECK_STR(wr(p, 0, 0), "[1,2,\"x\\u0000y\"]");
        CHECK_STR(wr(q, 0, 0), "{\"a\":1,\"b\":\"x\\u0000y\"}");
        p = parse("[]");
        CHECK_INT(bt_json_array_push(g_a, p, s), 0);
        CHECK_INT(p->len, 1);
    }
}

static void test_write_layout(void)
{
    bt_json *v;
    setup();
    v = parse("{\"b\":{\"c\":[]},\"a\":[1,2.50,{}, [3]],\"d\":\"\\u00e9\\n\\u0001\\u007f\","
              "\"e\":{\"x\":null}}");
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_STR(wr(v, 0, 0),
              "{\"b\":{\"c\":[]},\"a\":[1,2.50,{},[3]],\"d\":\"\xc3\xa9\\n\\u0001\x7f\","
              "\"e\":{\"x\":null}}");
    CHECK_STR(wr(v, 2, BT_JSON_W_PYNUM),
              "{\n  \"b\": {\n    \"c\": []\n  },\n  \"a\": [\n    1,\n    2.5,\n    {},\n    [\n"
              "      3\n    ]\n  ],\n  \"d\": \"\xc3\xa9\\n\\u0001\x7f\",\n  \"e\": {\n    \"x\": "
              "null\n  }\n}");
    CHECK_STR(wr(v, 0, BT_JSON_W_SPACES | BT_JSON_W_PYNUM),
              "{\"b\": {\"c\": []}, \"a\": [1, 2.5, {}, [3]], \"d\": \"\xc3\xa9\\n\\u0001\x7f\", "
              "\"e\": {\"x\": null}}");
    CHECK_STR(
        wr(v, 1, BT_JSON_W_SORT | BT_JSON_W_ASCII | BT_JSON_W_PYNUM),
        "{\n \"a\": [\n  1,\n  2.5,\n  {},\n  [\n   3\n  ]\n ],\n \"b\": {\n  \"c\": []\n },\n "
        "\"d\": \"\\u00e9\\n\\u0001\\u007f\",\n \"e\": {\n  \"x\": null\n }\n}");
    CHECK_STR(wr(parse("[1]"), 0, BT_JSON_W_NEWLINE), "[1]\n");
    CHECK_STR(wr(parse("[]"), 4, BT_JSON_W_NEWLINE), "[]\n");
    CHECK_STR(wr(parse("\"x\""), 4, 0), "\"x\"");
    /* sort: bytewise (= code point order), shorter prefix first, duplicates stable */
    CHECK_STR(
        wr(parse("{\"b\":1,\"\xc3\xa9\":2,\"a\":3,\"ab\":4,\"B\":5,\"a\":6}"), 0, BT_JSON_W_SORT),
        "{\"B\":5,\"a\":3,\"a\":6,\"ab\":4,\"b\":1,\"\xc3\xa9\":2}");
    /* writing appends and failure leaves the buffer unchanged */
    {
        bt_buf b;
        bt_buf_init(&b, 10);
        bt_buf_puts(&b, "ab");
        CHECK_INT(bt_json_write(&b, parse("[1,2]"), NULL), 0);
        CHECK_STR(b.data, "ab[1,2]");
        CHECK_INT(bt_json_write(&b, parse("[1,2,3,4]"), NULL), BT_ELIMIT);
        CHECK_STR(b.data, "ab[1,2]");
        CHECK_INT(bt_json_write_string(&b, "abcdef", 6, 0), BT_ELIMIT);
        CHECK_STR(b.data, "ab[1,2]");
        bt_buf_dispose(&b);
    }
}

static void test_write_strings(void)
{
    bt_buf b = BT_BUF_INIT;
    setup();
    bt_json_write_string(&b, "\xc3\xa9\xf0\x9f\x98\x80\x7f\x1f\"\\/\b\f\n\r\t", 16, 0);
    CHECK_STR(b.data, "\"\xc3\xa9\xf0\x9f\x98\x80\x7f\\u001f\\\"\\\\/\\b\\f\\n\\r\\t\"");
    bt_buf_clear(&b);
    bt_json_write_string(&b, "\xc3\xa9\xf0\x9f\x98\x80\x7f\x1f\"\\/", 11, BT_JSON_W_ASCII);
    CHECK_STR(b.data, "\"\\u00e9\\ud83d\\ude00\\u007f\\u001f\\\"\\\\/\"");
    bt_buf_clear(&b);
    bt_json_write_string(&b, "a\0b\xe2\x82\xac", 6, BT_JSON_W_ASCII);
    CHECK_STR(b.data, "\"a\\u0000b\\u20ac\"");
    bt_buf_clear(&b);
    /* ill-formed UTF-8 in a constructed string becomes U+FFFD */
    bt_json_write_string(&b,
                         "a\xff"
                         "b\xc3",
                         4, 0);
    CHECK_STR(b.data, "\"a\xef\xbf\xbd"
                      "b\xef\xbf\xbd\"");
    bt_buf_clear(&b);
    bt_json_write_string(&b, "\xed\xa0\x80", 3, BT_JSON_W_ASCII);
    CHECK_STR(b.data, "\"\\ufffd\\ufffd\\ufffd\"");
    bt_buf_clear(&b);
    /* long plain runs and a quote right after 16 bytes */
    bt_json_write_string(&b, "0123456789abcdef\"0123456789abcdefXYZ", 36, 0);
    CHECK_STR(b.data, "\"0123456789abcdef\\\"0123456789abcdefXYZ\"");
    bt_buf_dispose(&b);
}

static void test_write_pynum(void)
{
    bt_json *v;
    setup();
    v = parse("[1e-05,1e16,1.5,100.0,1E2,0.1,1e400,-1e400,5e-324,1.7976931348623157e308,"
              "123456789012345678901234567890,-0,-0.0,0.30000000000000004,1e-4,0.0001,1e15,"
              "9007199254740993.0,123.456e-789,2.50,-12,1.0e+22,1e22,1.5e300,-2.5e-7]");
    CHECK(v != NULL);
    CHECK_STR(wr(v, 0, BT_JSON_W_PYNUM),
              "[1e-05,1e+16,1.5,100.0,100.0,0.1,Infinity,-Infinity,5e-324,"
              "1.7976931348623157e+308,123456789012345678901234567890,0,-0.0,"
              "0.30000000000000004,0.0001,0.0001,1000000000000000.0,9007199254740992.0,0.0,2.5,"
              "-12,1e+22,1e+22,1.5e+300,-2.5e-07]");
    /* without PYNUM the literal text is kept */
    CHECK_STR(wr(parse("[1E2,-0,2.50,1e400]"), 0, 0), "[1E2,-0,2.50,1e400]");
}

static void test_write_number(void)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {3, "3"},
        {-12, "-12"},
        {-0.0, "0"},
        {0.5, "0.5"},
        {1e15, "1000000000000000"},
        {9007199254740992.0, "9007199254740992"},
        {1e16, "1e+16"},
        {1e-5, "1e-05"},
        {0.0001, "0.0001"},
        {1.0 / 3, "0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {0.1 + 0.2, "0.30000000000000004"},
        {123456.789, "123456.789"},
        {-2.5e-7, "-2.5e-07"},
        {1e22, "1e+22"},
        {1.5e300, "1.5e+300"},
        {5e-324, "5e-324"},
        {4.35, "4.35"},
    };
    size_t i;
    bt_buf b = BT_BUF_INIT;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_buf_clear(&b);
        CHECK_INT(bt_json_write_number(&b, cases[i].d), 0);
        CHECK_STR(b.data, cases[i].want);
    }
    bt_buf_clear(&b);
    bt_json_write_number(&b, NAN);
    bt_json_write_number(&b, INFINITY);
    bt_json_write_number(&b, -INFINITY);
    CHECK_STR(b.data, "NaNInfinity-Infinity");
    bt_buf_dispose(&b);
    setup();
    /* computed numbers inside a tree, with and without PYNUM */
    {
        bt_json *a = bt_json_new_array(g_a, 0);
        bt_json_array_push(g_a, a, bt_json_new_number(g_a, 2));
        bt_json_array_push(g_a, a, bt_json_new_number(g_a, 2.5));
        CHECK_STR(wr(a, 0, 0), "[2,2.5]");
        CHECK_STR(wr(a, 0, BT_JSON_W_PYNUM), "[2,2.5]");
    }
}

static void test_round_trip(void)
{
    const char *docs[] = {
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":"
        "\"arn:aws:sts::123456789012:assumed-role/r/AWSCodeBuild-0f1e\"},\"n\":[1,-2.5e-3,0,"
        "true,false,null,{}],\"s\":\"tab\\there \\u00e9\\ud83d\\ude00 \\\"q\\\" \\\\\"}",
        "[[[[[]]]],{\"\":{\"\":\"\"}}]",
        "\"\\u0000\\u001f\\u007f\\u0080\\uffff\"",
        "-0.0",
    };
    unsigned flagsets[] = {0, BT_JSON_W_ASCII, BT_JSON_W_SPACES | BT_JSON_W_SORT,
                           BT_JSON_W_PYNUM | BT_JSON_W_NEWLINE};
    size_t i, j, k;
    setup();
    for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        bt_json *v = parse(docs[i]);
        CHECK(v != NULL);
        for (j = 0; v && j < 4; j++)
            for (k = 0; k < 3; k++) {
                bt_json *v2 = parse(wr(v, (unsigned)k, flagsets[j]));
                CHECK(v2 && bt_json_equal(v, v2));
            }
    }
    /* compact, no escapes to rewrite: byte-identical */
    CHECK_STR(wr(parse(docs[1]), 0, 0), docs[1]);
}

BT_TEST_MAIN(test_scalars, test_raw_spans, test_escapes, test_surrogates, test_utf8_validation,
             test_errors, test_depth_limit, test_size_limit, test_prefix_ndjson,
             test_big_containers, test_access, test_equal, test_construct, test_write_layout,
             test_write_strings, test_write_pynum, test_write_number, test_round_trip)
