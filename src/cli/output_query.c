/* output_query.c - helpers of output.c for --query applied event by event: recognising
 * such queries, and copying results out of the per-event scratch arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output_int.h"

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
