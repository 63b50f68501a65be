/*
 * fuzz_jmespath.c - libFuzzer target: compiles the input as a JMESPath expression
 * and, when it compiles, evaluates it on a fixed document holding every JSON type
 * (CloudTrail-like events, numbers of both Python kinds, unicode, duplicate keys).
 * Checks that failures always carry a message and a known kind, and that results
 * are writable JSON. The arena is capped so exponential queries (`[@,@]|[@,@]|...`)
 * end in BT_ENOMEM instead of exhausting memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/jmespath.h"
#include "buildtrail/json.h"

static const char fixture[] =
    "{\"Events\": [{\"EventId\": \"e-1\", \"EventName\": \"StartBuild\", \"EventTime\": 1.5,"
    " \"Resources\": [{\"ResourceName\": \"web\", \"n\": 3}], \"ok\": true},"
    " {\"EventId\": \"e-2\", \"EventName\": \"StopBuild\", \"EventTime\": 7,"
    " \"Resources\": [], \"ok\": false, \"x\": null}],"
    " \"a\": {\"b\": {\"c\": [0, 1, -2, 2.5, 1e300, 12345678901234567890]}},"
    " \"s\": [\"b\", \"a\", \"\\u00e9\", \"\"], \"n\": [3, 1.0, 2], \"e\": {}, \"z\": [],"
    " \"d\": {\"k\": 1, \"k\": 2}, \"m\": [[1, [2]], [[3]], 4, null, \"x\"], \"t\": \"12\"}";

static bt_arena *doc_arena;
static bt_json *doc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr;
    bt_jmespath *q = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a;
    bt_json *res = NULL;
    int rc;

    if (size > 4096)
        return 0;
    if (!doc) {
        doc_arena = bt_arena_new(0, 0);
        if (bt_json_parse(doc_arena, fixture, sizeof fixture - 1, NULL, &doc, &err) != 0)
            abort();
    }
    expr = malloc(size + 1);
    if (!expr)
        return 0;
    memcpy(expr, data, size);
    expr[size] = '\0'; /* an embedded NUL ends the expression */

    rc = bt_jmespath_compile(expr, &q, &err);
    if (rc != 0) {
        if (q != NULL || err.msg[0] == '\0')
            abort();
        if (rc != BT_ENOMEM && bt_jmespath_error_kind(&err) != BT_JMESPATH_E_SYNTAX)
            abort();
        free(expr);
        return 0;
    }
    a = bt_arena_new(0, (size_t)64 << 20);
    rc = bt_jmespath_eval(q, a, doc, &res, &err);
    if (rc == 0) {
        bt_buf b;
        bt_json_write_opts o = {0, BT_JSON_W_PYNUM};
        if (!res)
            abort();
        bt_buf_init(&b, (size_t)16 << 20);
        (void)bt_json_write(&b, res, &o);
        bt_buf_dispose(&b);
    } else if (rc != BT_ENOMEM) {
        if (err.msg[0] == '\0' || bt_jmespath_error_kind(&err) == BT_JMESPATH_E_NONE)
            abort();
    }
    bt_arena_free(a);
    bt_jmespath_free(q);
    free(expr);
    return 0;
}
