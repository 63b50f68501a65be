/* cloudtrail.c - CloudTrail LookupEvents: request body (epoch-second timestamps, one
 * lookup attribute), reply parsing into bt_ct_lookup_page, the rate-limited call, and
 * THE pagination loop (bt_ct_lookup_pages: plan, repeated-token check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_int.h"
#include "buildtrail/json.h"
#include "buildtrail/lookup.h"

#define CT_TARGET "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

static const char *const attr_keys[] = {
    BT_CT_ATTR_EVENT_ID,     BT_CT_ATTR_EVENT_NAME,    BT_CT_ATTR_READ_ONLY,
    BT_CT_ATTR_USERNAME,     BT_CT_ATTR_RESOURCE_TYPE, BT_CT_ATTR_RESOURCE_NAME,
    BT_CT_ATTR_EVENT_SOURCE, BT_CT_ATTR_ACCESS_KEY_ID, NULL};

static int put_str(bt_buf *out, const char *key, const char *val, int *first)
{
    int rc = bt_buf_puts(out, *first ? "\"" : ",\"");
    *first = 0;
    if (rc == 0)
        rc = bt_buf_puts(out, key);
    if (rc == 0)
        rc = bt_buf_puts(out, "\":");
    if (rc == 0)
        rc = bt_json_write_string(out, val, strlen(val), 0);
    return rc;
}

int bt_ct_lookup_body(const bt_ct_lookup_request *req, bt_buf *out, bt_error *err)
{
    int first = 1, rc = 0, i, known = 0;

    if (req->attr_key) {
        /* like botocore, an unknown key is sent: the service answers
         * InvalidLookupAttributesException, which is what the AWS CLI shows */
        for (i = 0; attr_keys[i]; i++)
            if (strcmp(attr_keys[i], req->attr_key) == 0)
                known = 1;
        (void)known;
        if (!req->attr_value)
            return bt_error_set(err, BT_EINVAL, "lookup attribute '%s' has no value",
                                req->attr_key);
    }
    if (req->max_results < 0)
        return bt_error_set(err, BT_EINVAL, "MaxResults must be at least 1");
    rc = bt_buf_putc(out, '{');
    if (rc == 0 && req->attr_key) {
        rc = bt_buf_puts(out, "\"LookupAttributes\":[{\"AttributeKey\":");
        if (rc == 0)
            rc = bt_json_write_string(out, req->attr_key, strlen(req->attr_key), 0);
        if (rc == 0)
            rc = bt_buf_puts(out, ",\"AttributeValue\":");
        if (rc == 0)
            rc = bt_json_write_string(out, req->attr_value, strlen(req->attr_value), 0);
        if (rc == 0)
            rc = bt_buf_puts(out, "}]");
        first = 0;
    }
    if (rc == 0 && req->start_time) {
        rc = bt_buf_printf(out, "%s\"StartTime\":%lld", first ? "" : ",",
                           (long long)req->start_time);
        first = 0;
    }
    if (rc == 0 && req->end_time) {
        rc = bt_buf_printf(out, "%s\"EndTime\":%lld", first ? "" : ",", (long long)req->end_time);
        first = 0;
    }
    if (rc == 0 && req->category)
        rc = put_str(out, "EventCategory", req->category, &first);
    if (rc == 0 && req->max_results > 0) {
        rc = bt_buf_printf(out, "%s\"MaxResults\":%d", first ? "" : ",", req->max_results);
        first = 0;
    }
    if (rc == 0 && req->next_token)
        rc = put_str(out, "NextToken", req->next_token, &first);
    if (rc == 0)
        rc = bt_buf_putc(out, '}');
    if (rc)
        return bt_error_set(err, rc, "LookupEvents request: %s", bt_strerror(rc));
    return 0;
}

static const char *str_or_null(const bt_json *obj, const char *key)
{
    return bt_json_get_str(obj, key); /* NULL for absent, null or non-string */
}

int bt_ct_lookup_parse(bt_arena *arena, const char *text, size_t len, bt_ct_lookup_page *out,
                       bt_error *err)
{
    bt_json *root = NULL, *events;
    size_t i, j;
    int rc;

    memset(out, 0, sizeof *out);
    rc = bt_json_parse(arena, text, len, NULL, &root, err);
    if (rc) {
        bt_error_prefix(err, "LookupEvents reply");
        return rc;
    }
    if (root->type != BT_JSON_OBJECT)
        return bt_error_set(err, BT_EPARSE, "LookupEvents reply is not a JSON object");
    out->raw = root;
    out->next_token = str_or_null(root, "NextToken");
    events = bt_json_get(root, "Events");
    if (!events || events->type == BT_JSON_NULL)
        return 0;
    if (events->type != BT_JSON_ARRAY)
        return bt_error_set(err, BT_EPARSE, "LookupEvents reply: Events is not an array");
    out->events = bt_arena_calloc(arena, (events->len ? events->len : 1) * sizeof *out->events);
    if (!out->events)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < events->len; i++) {
        const bt_json *e = events->u.items[i], *t, *res, *ce;
        bt_ct_event *ev = &out->events[out->nevents];
        if (e->type != BT_JSON_OBJECT)
            return bt_error_set(err, BT_EPARSE, "LookupEvents reply: event %zu is not an object",
                                i);
        ev->raw = e;
        ev->event_id = str_or_null(e, "EventId");
        ev->event_name = str_or_null(e, "EventName");
        ev->read_only = str_or_null(e, "ReadOnly");
        ev->access_key_id = str_or_null(e, "AccessKeyId");
        ev->event_source = str_or_null(e, "EventSource");
        ev->username = str_or_null(e, "Username");
        t = bt_json_get(e, "EventTime");
        if (t && t->type == BT_JSON_NUMBER) {
            ev->event_time = t->num;
            ev->has_event_time = 1;
        }
        ce = bt_json_get(e, "CloudTrailEvent");
        if (ce && ce->type == BT_JSON_STRING) {
            ev->cloudtrail_event = ce->u.str;
            ev->cloudtrail_event_len = ce->len;
        }
        res = bt_json_get(e, "Resources");
        if (res && res->type == BT_JSON_ARRAY && res->len) {
            ev->resources = bt_arena_calloc(arena, res->len * sizeof *ev->resources);
            if (!ev->resources)
                return bt_error_set(err, BT_ENOMEM, "out of memory");
            for (j = 0; j < res->len; j++) {
                const bt_json *r = res->u.items[j];
                if (r->type != BT_JSON_OBJECT)
                    continue;
                ev->resources[ev->nresources].type = str_or_null(r, "ResourceType");
                ev->resources[ev->nresources].name = str_or_null(r, "ResourceName");
                ev->nresources++;
            }
        }
        out->nevents++;
    }
    return 0;
}

/* The reply is parsed as it arrives, so a cut or garbled 2xx is asked for again. */
typedef struct parse_ctx {
    bt_arena *arena;
    bt_ct_lookup_page *page;
} parse_ctx;

static int accept_reply(void *payload, const char *body, size_t len, bt_error *err)
{
    parse_ctx *p = payload;
    /* the page's strings point into the arena, and src spans into the text: keep
     * the text in the arena as well */
    char *text = bt_arena_strndup(p->arena, body, len);
    if (!text)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return bt_ct_lookup_parse(p->arena, text, len, p->page, err);
}

int bt_ct_lookup_events(bt_aws_client *c, const bt_ct_lookup_request *req, bt_arena *arena,
                        bt_ct_lookup_page *page, bt_error *err)
{
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    parse_ctx pc;
    int rc;

    memset(page, 0, sizeof *page);
    bt_aws_response_init(&resp);
    rc = bt_ct_lookup_body(req, &body, err);
    if (rc)
        goto done;
    pc.arena = arena;
    pc.page = page;
    rc = bt_aws_json_call_accept(c, "cloudtrail", CT_TARGET, "LookupEvents", body.data, body.len,
                                 accept_reply, &pc, &resp, err);
    if (rc == 0)
        snprintf(page->request_id, sizeof page->request_id, "%s", resp.request_id);
done:
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    return rc;
}

/* ------------------------------------------------------------- paging -- */

typedef struct pager {
    bt_arena *own;
    size_t *kept, ckept;
    char *token;
} pager;

/* The events of pg that pass: from start, and the plan's local part. */
static int pick(pager *pp, const bt_ct_pages_opts *o, bt_arena *a, const bt_ct_lookup_page *pg,
                size_t start, size_t *nkept, bt_error *err)
{
    size_t i;
    *nkept = 0;
    if (pg->nevents > pp->ckept) {
        size_t *k = realloc(pp->kept, pg->nevents * sizeof *k);
        if (!k)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        pp->kept = k;
        pp->ckept = pg->nevents;
    }
    for (i = start; i < pg->nevents; i++) {
        int m = o->plan ? bt_ct_plan_match(o->plan, a, &pg->events[i]) : 1;
        if (m < 0)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if (m)
            pp->kept[(*nkept)++] = i;
    }
    return 0;
}

int bt_ct_lookup_pages(bt_aws_client *c, const bt_ct_lookup_request *req,
                       const bt_ct_pages_opts *opts, bt_ct_page_fn fn, void *payload, size_t *pages,
                       bt_error *err)
{
    static const bt_ct_pages_opts none;
    const bt_ct_pages_opts *o = opts ? opts : &none;
    bt_ct_lookup_request r = *req;
    bt_arena *a = o->arena;
    pager pp;
    size_t n = 0;
    int rc = 0;

    memset(&pp, 0, sizeof pp);
    if (pages)
        *pages = 0;
    if (o->plan) {
        r.attr_key = o->plan->server ? o->plan->server->key : NULL;
        r.attr_value = o->plan->server ? o->plan->server->values[0] : NULL;
    }
    if (!a && !(a = pp.own = bt_arena_new(1 << 20, 0)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (req->next_token && !(pp.token = strdup(req->next_token))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        bt_ct_lookup_page pg;
        bt_ct_page_view v;
        if (pp.own)
            bt_arena_reset(pp.own);
        r.next_token = pp.token;
        if ((rc = bt_ct_lookup_events(c, &r, a, &pg, err)))
            break;
        n++;
        if (pages)
            *pages = n;
        memset(&v, 0, sizeof v);
        v.page = &pg;
        v.token = pp.token;
        v.number = n;
        v.start = n == 1 ? (o->skip_first < pg.nevents ? o->skip_first : pg.nevents) : 0;
        v.arena = a;
        if ((rc = pick(&pp, o, a, &pg, v.start, &v.nkept, err)))
            break;
        v.kept = pp.kept;
        if (fn && (rc = fn(payload, &v)) != 0) {
            if (rc > 0)
                rc = bt_error_set(err, BT_ESTOP, "LookupEvents: stopped after %zu pages", n);
            break;
        }
        if (!pg.next_token || !*pg.next_token || (o->max_pages && n >= o->max_pages))
            break;
        if (pp.token && strcmp(pp.token, pg.next_token) == 0) {
            rc = bt_error_set(err, BT_EAWS, "LookupEvents: the same NextToken came back twice");
            if (err)
                snprintf(err->aws_code, sizeof err->aws_code, "PaginationError");
            break;
        }
        free(pp.token);
        if (!(pp.token = strdup(pg.next_token))) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            break;
        }
    }
done:
    free(pp.token);
    free(pp.kept);
    bt_arena_free(pp.own);
    return rc;
}
