/* lookup_cli.c - --lookup-attributes parsing (the AWS CLI's shorthand, JSON and
 * file:// forms) and AWS CLI-style messages; shared by `lookup`, `ingest lookup:` and
 * `build --live`. The plan and paging are the library's (buildtrail/lookup.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/lookup.h"
#include "cli.h"
#include "lookup_cli.h"

void lk_msg(const char *fmt, ...)
{
    va_list ap;
    fputc('\n', stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int add_cond(bt_ct_cond *conds, size_t *n, size_t max, const char *key, const char *value)
{
    if (*n >= max) {
        lk_msg("Error parsing parameter '--lookup-attributes': more than %zu attributes", max);
        return -1;
    }
    memset(&conds[*n], 0, sizeof conds[*n]);
    conds[*n].key = key;
    conds[*n].values[0] = value;
    conds[*n].n = 1;
    conds[*n].origin = "--lookup-attributes";
    (*n)++;
    return 0;
}

static int check_pair(const char *key, const char *value, size_t idx)
{
    if (!key) {
        lk_msg("Parameter validation failed:\nMissing required parameter in "
               "LookupAttributes[%zu]: \"AttributeKey\"",
               idx);
        return -1;
    }
    if (!value) {
        lk_msg("Parameter validation failed:\nMissing required parameter in "
               "LookupAttributes[%zu]: \"AttributeValue\"",
               idx);
        return -1;
    }
    return 0;
}

static int parse_json(bt_arena *a, const char *text, bt_ct_cond *conds, size_t *n, size_t max)
{
    bt_json *root = NULL;
    bt_error err = BT_ERROR_INIT;
    size_t i, cnt;
    if (bt_json_parse(a, text, strlen(text), NULL, &root, &err)) {
        lk_msg("Error parsing parameter '--lookup-attributes': Invalid JSON: %s\nJSON received: %s",
               err.msg, text);
        return -1;
    }
    cnt = root->type == BT_JSON_ARRAY ? root->len : 1;
    for (i = 0; i < cnt; i++) {
        const bt_json *o = root->type == BT_JSON_ARRAY ? root->u.items[i] : root;
        size_t k;
        if (o->type != BT_JSON_OBJECT) {
            lk_msg("Parameter validation failed:\nInvalid type for parameter LookupAttributes[%zu], "
                   "valid types: <class 'dict'>",
                   i);
            return -1;
        }
        for (k = 0; k < o->len; k++)
            if (strcmp(o->u.members[k].key, "AttributeKey") &&
                strcmp(o->u.members[k].key, "AttributeValue")) {
                lk_msg("Parameter validation failed:\nUnknown parameter in LookupAttributes[%zu]: "
                       "\"%s\", must be one of: AttributeKey, AttributeValue",
                       i, o->u.members[k].key);
                return -1;
            }
        if (check_pair(bt_json_get_str(o, "AttributeKey"), bt_json_get_str(o, "AttributeValue"),
                       i) ||
            add_cond(conds, n, max, bt_json_get_str(o, "AttributeKey"),
                     bt_json_get_str(o, "AttributeValue")))
            return -1;
    }
    return 0;
}

/* key=value[,key=value]...; a value may be quoted with "..." or '...'. */
static int parse_shorthand(bt_arena *a, const char *text, bt_ct_cond *conds, size_t *n, size_t max)
{
    const char *p = text, *key = NULL, *value = NULL;
    while (*p) {
        const char *k = p, *eq = strchr(p, '=');
        char *v;
        size_t vl = 0, cap;
        if (!eq) {
            lk_msg("Error parsing parameter '--lookup-attributes': Expected: '=', received: "
                   "'EOF' for input:\n%s",
                   text);
            return -1;
        }
        p = eq + 1;
        cap = strlen(p) + 1;
        v = bt_arena_alloc(a, cap);
        if (!v)
            return -1;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (*p == '\\' && p[1])
                    p++;
                v[vl++] = *p++;
            }
            if (*p != q) {
                lk_msg("Error parsing parameter '--lookup-attributes': unterminated quote in: %s",
                       text);
                return -1;
            }
            p++;
        } else {
            while (*p && *p != ',')
                v[vl++] = *p++;
        }
        v[vl] = '\0';
        if ((size_t)(eq - k) == 12 && strncmp(k, "AttributeKey", 12) == 0) {
            key = v;
        } else if ((size_t)(eq - k) == 14 && strncmp(k, "AttributeValue", 14) == 0) {
            value = v;
        } else {
            lk_msg("Parameter validation failed:\nUnknown parameter in LookupAttributes[0]: "
                   "\"%.*s\", must be one of: AttributeKey, AttributeValue",
                   (int)(eq - k), k);
            return -1;
        }
        if (*p == ',')
            p++;
        else if (*p) {
            lk_msg("Error parsing parameter '--lookup-attributes': Expected: ',', received: "
                   "'%c' for input:\n%s",
                   *p, text);
            return -1;
        }
    }
    if (check_pair(key, value, 0))
        return -1;
    return add_cond(conds, n, max, key, value);
}

int lk_parse_attrs(bt_arena *a, const char *text, bt_ct_cond *conds, size_t *n, size_t max)
{
    const char *t = text;
    if (strncmp(text, "file://", 7) == 0) {
        bt_buf b = BT_BUF_INIT;
        bt_error err = BT_ERROR_INIT;
        bt_buf_init(&b, 1 << 20);
        if (bt_buf_read_file(&b, text + 7, &err)) {
            lk_msg("Error parsing parameter '--lookup-attributes': Unable to load paramfile %s: %s",
                   text, err.msg);
            bt_buf_dispose(&b);
            return -1;
        }
        t = bt_arena_strndup(a, b.data ? b.data : "", b.len);
        bt_buf_dispose(&b);
        if (!t)
            return -1;
    }
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    if (*t == '[' || *t == '{')
        return parse_json(a, t, conds, n, max);
    return parse_shorthand(a, t, conds, n, max);
}

int lk_follows_attrs(int argc, char **argv, const char *word)
{
    int j, k;
    for (j = 1; j < argc; j++)
        if (argv[j] == word)
            break;
    if (j >= argc)
        return 0;
    for (k = j - 1; k >= 1; k--) {
        if (argv[k][0] == '-' && argv[k][1])
            return strcmp(argv[k], "--lookup-attributes") == 0 ||
                   strncmp(argv[k], "--lookup-attributes=", 20) == 0;
    }
    return 0;
}

void lk_service_error(const bt_error *e, char *out, size_t cap)
{
    char retries[64] = "";
    if (strcmp(e->aws_code, "PaginationError") == 0) {
        snprintf(out, cap, "Error: The same next token was received twice");
        return;
    }
    if (e->retries_exhausted)
        snprintf(retries, sizeof retries, " (reached max retries: %d)", e->attempts - 1);
    snprintf(out, cap, "An error occurred (%s) when calling the LookupEvents operation%s: %s",
             e->aws_code, retries, e->aws_message);
}
