/* lookup.c - helpers on top of the LookupEvents client (lookup.h): the AWS CLI's
 * --max-items / --starting-token tokens (botocore TokenEncoder/TokenDecoder and the
 * legacy "tok___k" form), attribute selectivity and local matching, and LookupEvents
 * events turned into bt_event records. The event's printed shape is in
 * lookup_event.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "buildtrail/lookup.h"

/* ------------------------------------------------------------- base64 -- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_encode(const unsigned char *p, size_t n, bt_buf *out)
{
    size_t i;
    int rc = 0;
    for (i = 0; i + 2 < n && rc == 0; i += 3) {
        char q[4] = {b64[p[i] >> 2], b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                     b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)], b64[p[i + 2] & 63]};
        rc = bt_buf_append(out, q, 4);
    }
    if (rc == 0 && n - i == 1) {
        char q[4] = {b64[p[i] >> 2], b64[(p[i] & 3) << 4], '=', '='};
        rc = bt_buf_append(out, q, 4);
    } else if (rc == 0 && n - i == 2) {
        char q[4] = {b64[p[i] >> 2], b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                     b64[(p[i + 1] & 15) << 2], '='};
        rc = bt_buf_append(out, q, 4);
    }
    return rc;
}

static int b64_val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Python's base64.b64decode without validate: characters outside the alphabet are
 * dropped; the padding must come out right. Returns 0 or -1. */
static int b64_decode(const char *s, bt_buf *out)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0;
    for (; *s; s++) {
        int v;
        if (*s == '=') {
            pad++;
            continue;
        }
        v = b64_val(*s);
        if (v < 0)
            continue;
        if (pad)
            return -1; /* data after padding */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        n++;
        if (bits >= 8) {
            bits -= 8;
            if (bt_buf_putc(out, (char)((acc >> bits) & 0xff)))
                return -1;
        }
    }
    if (n % 4 == 1)
        return -1;
    if (n % 4 && pad < (int)(4 - n % 4))
        return -1;
    return 0;
}

/* ------------------------------------------------------------- tokens -- */

int bt_ct_token_encode(const char *service_token, long truncate, bt_buf *out)
{
    bt_buf js = BT_BUF_INIT;
    int rc = bt_buf_puts(&js, "{\"NextToken\": ");
    if (rc == 0)
        rc = service_token ? bt_json_write_string(&js, service_token, strlen(service_token),
                                                  BT_JSON_W_ASCII)
                           : bt_buf_puts(&js, "null");
    if (rc == 0 && truncate >= 0)
        rc = bt_buf_printf(&js, ", \"boto_truncate_amount\": %ld", truncate);
    if (rc == 0)
        rc = bt_buf_putc(&js, '}');
    if (rc == 0)
        rc = b64_encode((const unsigned char *)js.data, js.len, out);
    bt_buf_dispose(&js);
    return rc;
}

static int legacy_token(const char *token, char **service_token, long *truncate, bt_error *err)
{
    const char *sep = strstr(token, "___"), *tok = token;
    size_t len = strlen(token);
    if (sep && strstr(sep + 3, "___"))
        return bt_error_set(err, BT_EINVAL, "Bad starting token: %s", token);
    if (sep) {
        char *end;
        long k = strtol(sep + 3, &end, 10);
        if (sep[3] && !*end) {
            *truncate = k;
            len = (size_t)(sep - token);
        }
    }
    if (len == 4 && strncmp(tok, "None", 4) == 0)
        return 0;
    *service_token = strndup(tok, len);
    return *service_token ? 0 : bt_error_set(err, BT_ENOMEM, "out of memory");
}

int bt_ct_token_decode(const char *token, char **service_token, long *truncate, bt_error *err)
{
    bt_buf raw = BT_BUF_INIT;
    bt_arena *a = NULL;
    bt_json *root = NULL, *v;
    int rc;

    *service_token = NULL;
    *truncate = 0;
    if (b64_decode(token, &raw) != 0 || !raw.len)
        goto legacy;
    a = bt_arena_new(0, 0);
    if (!a) {
        bt_buf_dispose(&raw);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    if (bt_json_parse(a, raw.data, raw.len, NULL, &root, NULL) != 0 ||
        root->type != BT_JSON_OBJECT)
        goto legacy;
    v = bt_json_get(root, "boto_truncate_amount");
    if (v && v->type == BT_JSON_NUMBER)
        *truncate = (long)v->num;
    v = bt_json_get(root, "NextToken");
    if (v && v->type == BT_JSON_STRING && strcmp(v->u.str, "None") != 0) {
        *service_token = strndup(v->u.str, v->len);
        if (!*service_token) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc = 0;
    goto done;
legacy:
    rc = legacy_token(token, service_token, truncate, err);
done:
    bt_arena_free(a);
    bt_buf_dispose(&raw);
    return rc;
}

/* ---------------------------------------------------------- attributes -- */

/* most selective first */
static const char *const attr_order[] = {
    BT_CT_ATTR_EVENT_ID,      BT_CT_ATTR_ACCESS_KEY_ID, BT_CT_ATTR_USERNAME,
    BT_CT_ATTR_RESOURCE_NAME, BT_CT_ATTR_EVENT_NAME,    BT_CT_ATTR_RESOURCE_TYPE,
    BT_CT_ATTR_EVENT_SOURCE,  BT_CT_ATTR_READ_ONLY,     NULL};

int bt_ct_attr_rank(const char *key)
{
    int i;
    for (i = 0; key && attr_order[i]; i++)
        if (strcmp(attr_order[i], key) == 0)
            return i;
    return 100;
}

int bt_ct_attr_valid(const char *key)
{
    return bt_ct_attr_rank(key) < 100;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int bt_ct_event_attr_match(const bt_ct_event *ev, const char *key, const char *value)
{
    size_t i;
    if (strcmp(key, BT_CT_ATTR_EVENT_ID) == 0)
        return same(ev->event_id, value);
    if (strcmp(key, BT_CT_ATTR_EVENT_NAME) == 0)
        return same(ev->event_name, value);
    if (strcmp(key, BT_CT_ATTR_READ_ONLY) == 0)
        return same(ev->read_only, value);
    if (strcmp(key, BT_CT_ATTR_USERNAME) == 0)
        return same(ev->username, value);
    if (strcmp(key, BT_CT_ATTR_EVENT_SOURCE) == 0)
        return same(ev->event_source, value);
    if (strcmp(key, BT_CT_ATTR_ACCESS_KEY_ID) == 0)
        return same(ev->access_key_id, value);
    if (strcmp(key, BT_CT_ATTR_RESOURCE_TYPE) == 0) {
        for (i = 0; i < ev->nresources; i++)
            if (same(ev->resources[i].type, value))
                return 1;
        return 0;
    }
    if (strcmp(key, BT_CT_ATTR_RESOURCE_NAME) == 0) {
        for (i = 0; i < ev->nresources; i++)
            if (same(ev->resources[i].name, value))
                return 1;
        return 0;
    }
    return 0;
}

/* ------------------------------------------------------------- events -- */

int bt_ct_event_record(bt_arena *a, const bt_ct_event *ev, bt_event *out, bt_error *err)
{
    bt_json *rec = NULL;
    int rc;
    if (!ev->cloudtrail_event)
        return bt_error_set(err, BT_ENOTFOUND, "event '%s' has no CloudTrailEvent",
                            ev->event_id ? ev->event_id : "?");
    rc = bt_json_parse(a, ev->cloudtrail_event, ev->cloudtrail_event_len, NULL, &rec, err);
    if (rc) {
        bt_error_prefix(err, "CloudTrailEvent of '%s'", ev->event_id ? ev->event_id : "?");
        return rc;
    }
    if (rec->type != BT_JSON_OBJECT)
        return bt_error_set(err, BT_EPARSE, "CloudTrailEvent of '%s' is not a JSON object",
                            ev->event_id ? ev->event_id : "?");
    return bt_event_from_record(a, rec, out, err);
}

int64_t bt_ct_event_time_ms(const bt_ct_event *ev)
{
    return ev->has_event_time ? (int64_t)llround(ev->event_time * 1000.0) : 0;
}
