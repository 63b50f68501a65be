/* slack.c - the Slack incoming-webhook message of an alert: {"text": "..."}, one line
 * with the level and rule, the build, the principal and what happened (the call, where,
 * when), link-free (Slack's control characters & < > escaped, no URL added). */
#include <string.h>

#include "buildtrail/json.h"
#include "watch_int.h"

/* Appends s with Slack's three control characters escaped. */
static int put_escaped(bt_buf *t, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        if (*s == '&')
            rc = bt_buf_puts(t, "&amp;");
        else if (*s == '<')
            rc = bt_buf_puts(t, "&lt;");
        else if (*s == '>')
            rc = bt_buf_puts(t, "&gt;");
        else
            rc = bt_buf_putc(t, *s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
    }
    return rc;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* The principal of a record: its userIdentity's ARN, else the EventBridge initiator. */
static const char *principal(const bt_json *ev)
{
    const bt_json *uid = ev ? bt_json_get(ev, "userIdentity") : NULL, *d;
    const char *p = uid ? bt_json_get_str(uid, "arn") : NULL;
    if (!p && uid)
        p = bt_json_get_str(uid, "invokedBy");
    if (!p && ev && (d = bt_json_get(ev, "detail")) &&
        (d = bt_json_get(d, "additional-information")))
        p = bt_json_get_str(d, "initiator");
    return p;
}

/* "UpdateProject (codebuild.amazonaws.com, AccessDenied) in ACCOUNT REGION at TIME" */
static int what_happened(bt_buf *t, const bt_json *doc, const bt_json *ev)
{
    const char *name = ev ? bt_json_get_str(ev, "eventName") : NULL;
    const char *src = ev ? bt_json_get_str(ev, "eventSource") : NULL;
    const char *errc = ev ? bt_json_get_str(ev, "errorCode") : NULL;
    const bt_json *ids = bt_json_get(doc, "event_ids");
    int rc = 0;
    if (!name && ev)
        name = bt_json_get_str(ev, "detail-type");
    if (!src && ev)
        src = bt_json_get_str(ev, "source");
    if (name) {
        rc = put_escaped(t, name);
        if (!rc && src)
            rc = bt_buf_puts(t, " (") || put_escaped(t, src) ||
                 (errc && (bt_buf_puts(t, ", ") || put_escaped(t, errc))) || bt_buf_putc(t, ')');
    } else if (ids && ids->type == BT_JSON_ARRAY) {
        rc = bt_buf_printf(t, "%zu events", ids->len);
    } else {
        rc = bt_buf_puts(t, "an event");
    }
    return rc || bt_buf_puts(t, " in ") ||
                   put_escaped(t, or_dash(bt_json_get_str(doc, "account"))) ||
                   bt_buf_putc(t, ' ') || put_escaped(t, or_dash(bt_json_get_str(doc, "region"))) ||
                   bt_buf_puts(t, " at ") ||
                   put_escaped(t, or_dash(bt_json_get_str(doc, "event_time")))
               ? BT_ENOMEM
               : 0;
}

int wn_slack_body(const char *doc, bt_buf *out)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_buf t = BT_BUF_INIT;
    bt_json *d = NULL;
    const bt_json *ev;
    int rc = BT_ENOMEM;

    if (!a)
        return BT_ENOMEM;
    if (bt_json_parse(a, doc, strlen(doc), NULL, &d, NULL) || d->type != BT_JSON_OBJECT) {
        rc = BT_EPARSE;
        goto done;
    }
    ev = bt_json_get(d, "event");
    if (ev && ev->type != BT_JSON_OBJECT)
        ev = NULL;
    if (bt_buf_puts(&t, "[") || put_escaped(&t, or_dash(bt_json_get_str(d, "level"))) ||
        bt_buf_puts(&t, "] ") || put_escaped(&t, or_dash(bt_json_get_str(d, "rule_title"))) ||
        bt_buf_puts(&t, " | build ") || put_escaped(&t, or_dash(bt_json_get_str(d, "build_id"))) ||
        bt_buf_puts(&t, " | principal ") || put_escaped(&t, or_dash(principal(ev))) ||
        bt_buf_puts(&t, " | ") || what_happened(&t, d, ev))
        goto done;
    rc = bt_buf_puts(out, "{\"text\":") || bt_json_write_string(out, t.data, t.len, 0) ||
                 bt_buf_putc(out, '}') || bt_buf_putc(out, 0)
             ? BT_ENOMEM
             : 0;
done:
    bt_buf_dispose(&t);
    bt_arena_free(a);
    return rc;
}
