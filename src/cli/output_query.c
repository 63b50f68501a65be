/* output_query.c - helpers of output.c for --query: the event as the query sees it
 * (with the parsed-record view `Record` when the query names it), a query applied to
 * each line of ndjson, recognising queries applied event by event, and copying results
 * out of the per-event scratch arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/lookup.h"
#include "output_int.h"

bt_json *cli_event_value(bt_arena *a, const bt_event *ev, int with_record)
{
    bt_json *v = bt_ct_record_cli_value(a, ev), *rec = NULL;
    bt_error err = BT_ERROR_INIT;

    if (!v || !with_record)
        return v;
    /* the raw record was parsed when it was read: this does not fail but on memory */
    if (bt_json_parse(a, ev->raw ? ev->raw : "null", ev->raw ? ev->raw_len : 4, NULL, &rec, &err) ==
        BT_ENOMEM)
        return NULL;
    if (!rec && !(rec = bt_json_new_null(a)))
        return NULL;
    return bt_json_object_put(a, v, "Record", 6, rec) ? NULL : v;
}

int cli_ndjson_query_line(bt_buf *out, bt_arena *a, const bt_jmespath *q, const bt_event *ev,
                          bt_error *err)
{
    bt_json_write_opts wo = {0, BT_JSON_W_NEWLINE};
    bt_json *rec = NULL, *res = NULL;
    int rc;

    rc = bt_json_parse(a, ev->raw ? ev->raw : "null", ev->raw ? ev->raw_len : 4, NULL, &rec, err);
    if (rc == 0)
        rc = bt_jmespath_eval(q, a, rec, &res, err);
    if (rc == 0 && (rc = bt_json_write(out, res, &wo)) != 0)
        bt_error_set(err, rc, "%s", bt_strerror(rc));
    return rc;
}

/*
 * A query `Events[<projection>]<rest>` whose rest has no top-level pipe applies <rest>
 * to each event on its own (a JMESPath projection carries everything to its right, up
 * to a pipe). Such a query is evaluated event by event as `[@][<projection>]<rest>`
 * and the results concatenated, so memory stays bounded by the results. Returns the
 * per-event expression (malloc'd) or NULL when the query is not of that shape.
 */
char *cli_per_event_query(const char *q)
{
    const char *p;
    int depth = 0;
    char quote = 0;
    char *out;

    if (strncmp(q, "Events[", 7) != 0)
        return NULL;
    p = q + 7;
    if (!(*p == ']' || (p[0] == '*' && p[1] == ']') || *p == '?'))
        return NULL;
    for (p = q + 6; *p; p++) {
        if (quote) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"' || *p == '`')
            quote = *p;
        else if (*p == '[' || *p == '(' || *p == '{')
            depth++;
        else if (*p == ']' || *p == ')' || *p == '}')
            depth--;
        else if (*p == '|' && depth == 0 && p[1] != '|' && (p == q || p[-1] != '|'))
            return NULL; /* a pipe ends the projection: the rest sees the whole list */
    }
    if (quote || depth != 0)
        return NULL;
    if (asprintf(&out, "[@]%s", q + 6) < 0)
        return NULL;
    return out;
}

/* Deep copy of v into a (the per-event arena is reset after each event). */
bt_json *cli_json_clone(bt_arena *a, const bt_json *v)
{
    bt_json *c = NULL;
    size_t i;
    switch (v->type) {
    case BT_JSON_NULL: return bt_json_new_null(a);
    case BT_JSON_TRUE: return bt_json_new_bool(a, true);
    case BT_JSON_FALSE: return bt_json_new_bool(a, false);
    case BT_JSON_STRING: return bt_json_new_string(a, v->u.str, v->len);
    case BT_JSON_NUMBER:
        c = bt_json_new_number(a, v->num);
        if (c && v->u.str) { /* keep the text: it says int or float, as Python would */
            c->u.str = bt_arena_strndup(a, v->u.str, v->len);
            c->len = v->len;
            if (!c->u.str)
                return NULL;
        }
        return c;
    case BT_JSON_ARRAY:
        c = bt_json_new_array(a, v->len);
        for (i = 0; c && i < v->len; i++) {
            bt_json *x = cli_json_clone(a, v->u.items[i]);
            if (!x || bt_json_array_push(a, c, x))
                return NULL;
        }
        return c;
    case BT_JSON_OBJECT:
        c = bt_json_new_object(a, v->len);
        for (i = 0; c && i < v->len; i++) {
            bt_json *x = cli_json_clone(a, v->u.members[i].value);
            const char *k = bt_arena_strndup(a, v->u.members[i].key, v->u.members[i].key_len);
            if (!x || !k || bt_json_object_put(a, c, k, v->u.members[i].key_len, x))
                return NULL;
        }
        return c;
    }
    return NULL;
}
