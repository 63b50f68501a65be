/* lookup_event.c - the one writer of the LookupEvents event shape: the members of the
 * service model in model order (EventId, EventName, ReadOnly, AccessKeyId, EventTime,
 * EventSource, Username, Resources, CloudTrailEvent), absent members left out. Two
 * sources (an event of a LookupEvents reply, a stored record) and two outputs (a
 * bt_json value as the AWS CLI prints it, with a local ISO 8601 EventTime; compact
 * JSON text as the API sends it, written straight into a buffer for `serve`). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "buildtrail/lookup.h"

enum { M_ID, M_NAME, M_RO, M_AKID, M_TIME, M_SOURCE, M_USER, M_RES, M_CTE, M__COUNT };

static const char *const model[M__COUNT] = {"EventId",     "EventName", "ReadOnly",
                                            "AccessKeyId", "EventTime", "EventSource",
                                            "Username",    "Resources", "CloudTrailEvent"};

/* ------------------------------------------------------------- values -- */

/* True when the JSON text s holds whitespace outside its strings (it was indented or
 * spaced in its file). A text with no space, tab or line break at all is compact
 * already (the fast path); otherwise one pass tells. */
static int needs_compact(const char *s, size_t n)
{
    size_t i;
    int in_str = 0;
    for (i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t' || s[i] == ' ')
            break;
    if (i == n)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            return 1;
        }
    }
    return 0;
}

/* The JSON text s without the whitespace outside its strings, as the service sends
 * CloudTrailEvent (one line of compact JSON), into out (n bytes at most); its length. */
static size_t compact_to(char *out, const char *s, size_t n)
{
    size_t i, k = 0;
    int in_str = 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            out[k++] = c;
            if (c == '\\' && i + 1 < n)
                out[k++] = s[++i];
            else if (c == '"')
                in_str = 0;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            out[k++] = c;
            in_str = c == '"';
        }
    }
    return k;
}

static int put(bt_arena *a, bt_json *o, const char *k, bt_json *v)
{
    return v ? bt_json_object_put(a, o, k, strlen(k), v) : BT_ENOMEM;
}

static bt_json *str_value(bt_arena *a, const char *s)
{
    return bt_json_new_string(a, s, strlen(s));
}

static bt_json *time_value(bt_arena *a, int64_t ms)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *s = NULL;
    if (bt_format_iso8601_local(&b, ms) == 0)
        s = bt_json_new_string(a, b.data, b.len);
    bt_buf_dispose(&b);
    return s;
}

/* Resources of a reply: objects keep their ResourceType / ResourceName (non-null),
 * anything else is kept as is. */
static bt_json *raw_resources(bt_arena *a, const bt_json *v)
{
    bt_json *list = bt_json_new_array(a, v->len);
    size_t j;
    for (j = 0; list && j < v->len; j++) {
        const bt_json *r = v->u.items[j];
        bt_json *ro, *t = bt_json_get(r, "ResourceType"), *n = bt_json_get(r, "ResourceName");
        if (r->type != BT_JSON_OBJECT) {
            if (bt_json_array_push(a, list, (bt_json *)r))
                return NULL;
            continue;
        }
        ro = bt_json_new_object(a, 2);
        if (!ro || (t && t->type != BT_JSON_NULL && put(a, ro, "ResourceType", t)) ||
            (n && n->type != BT_JSON_NULL && put(a, ro, "ResourceName", n)) ||
            bt_json_array_push(a, list, ro))
            return NULL;
    }
    return list;
}

/* Resources from the event's fields (a record's): always present, maybe empty. */
static bt_json *field_resources(bt_arena *a, const bt_ct_resource *res, size_t n)
{
    bt_json *list = bt_json_new_array(a, n);
    size_t j;
    for (j = 0; list && j < n; j++) {
        bt_json *ro = bt_json_new_object(a, 2);
        if (!ro || (res[j].type && put(a, ro, "ResourceType", str_value(a, res[j].type))) ||
            (res[j].name && put(a, ro, "ResourceName", str_value(a, res[j].name))) ||
            bt_json_array_push(a, list, ro))
            return NULL;
    }
    return list;
}

/* A member from the event's fields; *v = NULL when absent. 0 or BT_ENOMEM. */
static int field_member(bt_arena *a, const bt_ct_event *ev, int m, bt_json **v)
{
    static const size_t off[M__COUNT] = {offsetof(bt_ct_event, event_id),
                                         offsetof(bt_ct_event, event_name),
                                         offsetof(bt_ct_event, read_only),
                                         offsetof(bt_ct_event, access_key_id),
                                         0,
                                         offsetof(bt_ct_event, event_source),
                                         offsetof(bt_ct_event, username),
                                         0,
                                         0};
    const char *s;
    *v = NULL;
    if (m == M_TIME) {
        if (ev->has_event_time && !(*v = time_value(a, bt_ct_event_time_ms(ev))))
            return BT_ENOMEM;
        return 0;
    }
    if (m == M_RES)
        return (*v = field_resources(a, ev->resources, ev->nresources)) ? 0 : BT_ENOMEM;
    if (m == M_CTE) {
        if (ev->cloudtrail_event &&
            !(*v = bt_json_new_string(a, ev->cloudtrail_event, ev->cloudtrail_event_len)))
            return BT_ENOMEM;
        return 0;
    }
    s = *(const char *const *)((const char *)ev + off[m]);
    if (s && !(*v = str_value(a, s)))
        return BT_ENOMEM;
    return 0;
}

/* A member of the reply's own object: null and absent left out, EventTime rendered,
 * Resources cleaned. */
static int raw_member(bt_arena *a, const bt_ct_event *ev, int m, bt_json **v)
{
    bt_json *r = bt_json_get(ev->raw, model[m]);
    *v = NULL;
    if (!r || r->type == BT_JSON_NULL)
        return 0;
    if (m == M_TIME && r->type == BT_JSON_NUMBER)
        r = time_value(a, (int64_t)llround(r->num * 1000.0));
    else if (m == M_RES && r->type == BT_JSON_ARRAY)
        r = raw_resources(a, r);
    *v = r;
    return r ? 0 : BT_ENOMEM;
}

bt_json *bt_ct_event_cli_value(bt_arena *a, const bt_ct_event *ev)
{
    bt_json *o = bt_json_new_object(a, M__COUNT);
    int m;

    if (!o)
        return NULL;
    for (m = 0; m < M__COUNT; m++) {
        bt_json *v;
        if ((ev->raw ? raw_member(a, ev, m, &v) : field_member(a, ev, m, &v)) ||
            (v && put(a, o, model[m], v)))
            return NULL;
    }
    return o;
}

bt_json *bt_ct_record_cli_value(bt_arena *a, const bt_event *rec)
{
    bt_ct_event ev;
    size_t i;

    memset(&ev, 0, sizeof ev);
    ev.event_id = rec->event_id;
    ev.event_name = rec->event_name;
    ev.read_only = rec->read_only < 0 ? NULL : rec->read_only ? "true" : "false";
    ev.access_key_id = rec->access_key_id;
    ev.event_time = (double)rec->time_ms / 1000.0;
    ev.has_event_time = 1;
    ev.event_source = rec->event_source;
    ev.username = rec->username;
    ev.cloudtrail_event = rec->raw ? rec->raw : "";
    ev.cloudtrail_event_len = rec->raw_len;
    if (rec->raw && needs_compact(rec->raw, rec->raw_len)) {
        char *c = bt_arena_alloc(a, rec->raw_len + 1);
        if (!c)
            return NULL;
        ev.cloudtrail_event_len = compact_to(c, rec->raw, rec->raw_len);
        c[ev.cloudtrail_event_len] = '\0';
        ev.cloudtrail_event = c;
    }
    if (rec->n_resources) {
        ev.resources = bt_arena_alloc(a, rec->n_resources * sizeof *ev.resources);
        if (!ev.resources)
            return NULL;
        for (i = 0; i < rec->n_resources; i++) {
            ev.resources[i].type = rec->resources[i].type;
            ev.resources[i].name = rec->resources[i].name;
        }
        ev.nresources = rec->n_resources;
    }
    return bt_ct_event_cli_value(a, &ev);
}

/* --------------------------------------------------------------- text -- */

static int put_member(bt_buf *b, int *first, const char *name, const char *value)
{
    int rc = 0;
    if (!value)
        return 0;
    if (!*first)
        rc |= bt_buf_putc(b, ',');
    *first = 0;
    rc |= bt_buf_putc(b, '"');
    rc |= bt_buf_puts(b, name);
    rc |= bt_buf_puts(b, "\":");
    rc |= bt_json_write_string(b, value, strlen(value), 0);
    return rc;
}

/* Epoch seconds with the milliseconds, trailing zeros cut ("1714557600.5"). */
static int put_epoch(bt_buf *b, int64_t ms)
{
    int64_t s = ms / 1000, frac = ms % 1000;
    char tmp[8];
    int n;
    if (frac < 0) {
        frac += 1000;
        s -= 1;
    }
    if (!frac)
        return bt_buf_printf(b, "%lld", (long long)s);
    n = snprintf(tmp, sizeof tmp, "%03d", (int)frac);
    while (n > 0 && tmp[n - 1] == '0')
        tmp[--n] = '\0';
    return bt_buf_printf(b, "%lld.%s", (long long)s, tmp);
}

int bt_ct_record_write(bt_buf *b, const bt_event *ev)
{
    int first = 1, rc = 0;
    size_t i;

    rc |= bt_buf_putc(b, '{');
    rc |= put_member(b, &first, model[M_ID], ev->event_id);
    rc |= put_member(b, &first, model[M_NAME], ev->event_name);
    if (ev->read_only >= 0)
        rc |= put_member(b, &first, model[M_RO], ev->read_only ? "true" : "false");
    rc |= put_member(b, &first, model[M_AKID], ev->access_key_id);
    if (!first)
        rc |= bt_buf_putc(b, ',');
    first = 0;
    rc |= bt_buf_puts(b, "\"EventTime\":");
    rc |= put_epoch(b, ev->time_ms);
    rc |= put_member(b, &first, model[M_SOURCE], ev->event_source);
    rc |= put_member(b, &first, model[M_USER], ev->username);
    rc |= bt_buf_puts(b, ",\"Resources\":[");
    for (i = 0; i < ev->n_resources; i++) {
        int f2 = 1;
        if (i)
            rc |= bt_buf_putc(b, ',');
        rc |= bt_buf_putc(b, '{');
        rc |= put_member(b, &f2, "ResourceType", ev->resources[i].type);
        rc |= put_member(b, &f2, "ResourceName", ev->resources[i].name);
        rc |= bt_buf_putc(b, '}');
    }
    rc |= bt_buf_puts(b, "],\"CloudTrailEvent\":");
    /* the stored record is valid UTF-8 JSON text: the writer's fast path; one that
     * was indented in its file is sent compact, as the service does */
    if (needs_compact(ev->raw, ev->raw_len)) {
        char *c = malloc(ev->raw_len ? ev->raw_len : 1);
        if (!c)
            return BT_ENOMEM;
        rc |= bt_json_write_string(b, c, compact_to(c, ev->raw, ev->raw_len), 0);
        free(c);
    } else {
        rc |= bt_json_write_string(b, ev->raw, ev->raw_len, 0);
    }
    rc |= bt_buf_putc(b, '}');
    return rc ? BT_ENOMEM : 0;
}
