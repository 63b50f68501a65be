/*
 * fuzz_json.c - libFuzzer target for the JSON parser and writer: parse the input
 * (whole and as a prefix), check every node's raw span lies inside the input, write
 * it in several styles, re-parse each output and require equality with the first
 * tree; compact output of a re-parsed tree must be a fixed point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

static bt_arena *g_arena;

static void check_spans(const bt_json *v, const char *text, size_t len)
{
    size_t i;
    if (!v->src || v->src < text || v->src + v->src_len > text + len || v->src_len == 0)
        abort();
    if (v->type == BT_JSON_ARRAY)
        for (i = 0; i < v->len; i++)
            check_spans(v->u.items[i], text, len);
    if (v->type == BT_JSON_OBJECT)
        for (i = 0; i < v->len; i++)
            check_spans(v->u.members[i].value, text, len);
    if (v->type == BT_JSON_NUMBER && (v->len != v->src_len || memcmp(v->u.str, v->src, v->len)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bt_json_write_opts styles[] = {
        {0, 0}, {2, BT_JSON_W_ASCII}, {0, BT_JSON_W_SPACES | BT_JSON_W_SORT}, {1, BT_JSON_W_PYNUM}};
    const char *text = (const char *)data;
    bt_json *v = NULL, *v2, *v3;
    bt_error err = BT_ERROR_INIT;
    bt_json_parse_opts po = {64, 0, 0};
    bt_buf out = BT_BUF_INIT, out2 = BT_BUF_INIT;
    size_t used, i;
    int rc;

    if (!g_arena)
        g_arena = bt_arena_new(0, 0);
    bt_arena_reset(g_arena);

    /* prefix mode never reads past the input and reports a sane consumed count */
    if (bt_json_parse_prefix(g_arena, text, size, &po, &v, &used, &err) == 0) {
        if (used == 0 || used > size)
            abort();
        check_spans(v, text, size);
    } else if (strncmp(err.msg, "invalid JSON at byte ", 21) != 0 &&
               strncmp(err.msg, "out of memory", 13) != 0) {
        abort();
    }

    rc = bt_json_parse(g_arena, text, size, &po, &v, &err);
    if (rc) {
        if (strncmp(err.msg, "invalid JSON at byte ", 21) != 0 || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    check_spans(v, text, size);
    for (i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        bt_buf_clear(&out);
        if (bt_json_write(&out, v, &styles[i]))
            abort();
        if (bt_json_parse(g_arena, out.data, out.len, &po, &v2, &err)) {
            /* Python numbers turn out-of-range literals into Infinity, as Python does */
            if ((styles[i].flags & BT_JSON_W_PYNUM) && strstr(out.data, "Infinity"))
                continue;
            abort();
        }
        if (!bt_json_equal(v, v2))
            abort();
        if (i == 0) {
            /* compact output is a fixed point */
            if (bt_json_write(&out2, v2, &styles[0]) || out2.len != out.len ||
                memcmp(out.data, out2.data, out.len))
                abort();
            if (bt_json_parse(g_arena, out2.data, out2.len, &po, &v3, &err) ||
                !bt_json_equal(v2, v3))
                abort();
        }
    }
    bt_buf_dispose(&out);
    bt_buf_dispose(&out2);
    return 0;
}
