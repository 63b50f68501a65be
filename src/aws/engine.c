/* engine.c - one AWS API request end to end: URL and Host header from the endpoint,
 * SigV4 signing per attempt, the standard retry mode (retryable failures, jittered
 * backoff, retry quota), rate limiting per attempt, and error replies turned into
 * bt_error (code, status, message, request id) for the JSON, query and REST-XML
 * protocols. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_int.h"
#include "buildtrail/json.h"

#define MAX_HEADERS 32

/* Host header value for url: host[:port] without the scheme's default port,
 * lowercased, no userinfo. */
static int host_header(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://"), *end, *at;
    int https;
    size_t n, i;
    if (!p)
        return -1;
    https = strncasecmp(url, "https", 5) == 0;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    n = (size_t)(end - p);
    if (n == 0 || n >= cap)
        return -1;
    for (i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[n] = '\0';
    /* drop a default port */
    {
        char *colon = strrchr(out, ':');
        char *bracket = strrchr(out, ']');
        if (colon && (!bracket || colon > bracket)) {
            if ((https && strcmp(colon, ":443") == 0) || (!https && strcmp(colon, ":80") == 0))
                *colon = '\0';
        }
    }
    return 0;
}

/* The path part of an endpoint URL ("" when none or "/"). */
static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return "";
    p += 3;
    p += strcspn(p, "/?#");
    return *p == '/' ? p : "";
}

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t')
            *s = ' ';
}

/* Does body look like XML (after leading whitespace)? */
static int looks_like_xml(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    return i < len && body[i] == '<';
}

void bt_aws_parse_error(int protocol, long status, const char *body, size_t len,
                        const char *errortype_header, char *code, size_t code_cap, char *msg,
                        size_t msg_cap)
{
    code[0] = msg[0] = '\0';
    /* Some peers (moto, proxies, gateways) answer a JSON service's auth failure in
     * XML: read it as XML then. */
    if (protocol == BT_AWS_P_JSON && len && looks_like_xml(body, len))
        protocol = BT_AWS_P_QUERY;
    if (protocol == BT_AWS_P_JSON) {
        bt_arena *a = bt_arena_new(0, (size_t)16 << 20);
        bt_json *root = NULL;
        const char *t = NULL, *m = NULL;
        if (a && len && bt_json_parse(a, body, len, NULL, &root, NULL) == 0 &&
            root->type == BT_JSON_OBJECT) {
            t = bt_json_get_str(root, "__type");
            if (!t)
                t = bt_json_get_str(root, "code");
            if (!t)
                t = bt_json_get_str(root, "Code");
            m = bt_json_get_str(root, "message");
            if (!m)
                m = bt_json_get_str(root, "Message");
            if (m)
                snprintf(msg, msg_cap, "%s", m);
        } else if (len) {
            /* not JSON: the body itself is the message (botocore does the same) */
            snprintf(msg, msg_cap, "%.*s", (int)(len < 300 ? len : 300), body);
        }
        if (!t && errortype_header && *errortype_header)
            t = errortype_header;
        if (t) {
            const char *colon = strchr(t, ':'), *hash;
            size_t n = colon ? (size_t)(colon - t) : strlen(t);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)n, t);
            hash = strrchr(tmp, '#');
            snprintf(code, code_cap, "%s", hash ? hash + 1 : tmp);
        }
        bt_arena_free(a);
    } else if (protocol == BT_AWS_P_QUERY || protocol == BT_AWS_P_REST_XML) {
        static const char *const names[] = {"Code", "Message"};
        char *vals[2] = {NULL, NULL};
        if (len && bt_aws_xml_fields(body, len, names, 2, vals, NULL) == 0 &&
            (vals[0] || vals[1])) {
            if (vals[0])
                snprintf(code, code_cap, "%s", vals[0]);
            if (vals[1])
                snprintf(msg, msg_cap, "%s", vals[1]);
        } else if (len) {
            snprintf(msg, msg_cap, "%.*s", (int)(len < 300 ? len : 300), body);
        }
        free(vals[0]);
        free(vals[1]);
        if (!code[0] && errortype_header && *errortype_header) {
            const char *colon = strchr(errortype_header, ':');
            snprintf(code, code_cap, "%.*s",
                     (int)(colon ? (size_t)(colon - errortype_header) : strlen(errortype_header)),
                     errortype_header);
        }
    } else if (len) {
        snprintf(msg, msg_cap, "%.*s", (int)(len < 300 ? len : 300), body);
    }
    if (!code[0])
        snprintf(code, code_cap, "%ld", status);
    one_line(msg);
}

static void capture_meta(const bt_http_resp *h, bt_aws_response *resp)
{
    const char *v = bt_http_resp_header(h, "x-amzn-RequestId");
    if (!v)
        v = bt_http_resp_header(h, "x-amz-request-id");
    if (!v)
        v = bt_http_resp_header(h, "x-amzn-request-id");
    snprintf(resp->request_id, sizeof resp->request_id, "%s", v ? v : "");
    v = bt_http_resp_header(h, "x-amz-bucket-region");
    snprintf(resp->bucket_region, sizeof resp->bucket_region, "%s", v ? v : "");
}

/* The request URL: scheme://authority + endpoint path + request path + query. */
static int build_url(const bt_aws_req *r, bt_buf *url, bt_error *err)
{
    const char *ep = r->ep->url, *ep_path = url_path(ep);
    size_t auth_len = strlen(ep) - strlen(ep_path);
    const char *path = r->path && *r->path ? r->path : "/";
    size_t epl = strlen(ep_path);
    while (epl && ep_path[epl - 1] == '/')
        epl--;
    if (bt_buf_append(url, ep, auth_len) || bt_buf_append(url, ep_path, epl) ||
        bt_buf_puts(url, path) || (r->query && *r->query && bt_buf_printf(url, "?%s", r->query)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

/* Signs the request (when it has credentials): the SigV4 headers go into so. */
static int sign(const bt_aws_req *r, const char *url, const bt_http_header *hdrs, size_t nh,
                bt_sigv4_out *so, bt_error *err)
{
    static const char root[] = "/";
    bt_sigv4_request sr;
    bt_sigv4_params sp;
    const char *signed_path = url + strcspn(url, ":") + 3;
    size_t pl;
    char *pbuf;
    int rc;

    memset(&sr, 0, sizeof sr);
    memset(&sp, 0, sizeof sp);
    signed_path += strcspn(signed_path, "/?");
    /* the full path as sent (endpoint path included), without query */
    pl = strcspn(signed_path, "?");
    pbuf = strndup(pl ? signed_path : root, pl ? pl : 1);
    if (!pbuf)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    sr.method = r->method;
    sr.path = pbuf;
    sr.query = r->query;
    sr.headers = hdrs;
    sr.nheaders = nh;
    sr.body = r->body;
    sr.body_len = r->body_len;
    sp.access_key_id = r->creds->access_key_id;
    sp.secret_access_key = r->creds->secret_access_key;
    sp.session_token = r->creds->session_token;
    sp.region = r->ep->signing_region;
    sp.service = r->ep->signing_name;
    sp.flags = r->sigv4_flags;
    rc = bt_sigv4_sign(&sr, &sp, so, err);
    free(pbuf);
    return rc;
}

/* One attempt: rate limit, headers, signature, HTTP. *sent = 1 when it got as far as
 * bt_http_send (its rc, detail in herr); else the failure is in err. */
static int send_once(const bt_aws_req *r, const char *url, const char *host, bt_http_resp *h,
                     int *sent, bt_error *herr, bt_error *err)
{
    bt_http_header hdrs[MAX_HEADERS + 1 + BT_SIGV4_MAX_ADD];
    const char *op = r->op ? r->op : "request";
    size_t nh = 0, i;
    bt_http_req hr;
    bt_sigv4_out so;
    int rc;

    *sent = 0;
    if (r->nheaders > MAX_HEADERS)
        return bt_error_set(err, BT_EINVAL, "%s: too many headers", op);
    if (r->rl && r->rl_key) {
        /* before signing, so the signature's date is fresh */
        double waited = bt_ratelimit_acquire(r->rl, r->rl_key, op);
        if (waited > 0)
            bt_aws_logf(r->set, "aws: %s: rate limit, waited %.3f s", op, waited);
    }
    hdrs[nh].name = "Host";
    hdrs[nh++].value = host;
    for (i = 0; i < r->nheaders; i++)
        hdrs[nh++] = r->headers[i];
    bt_sigv4_out_init(&so);
    if (r->creds) {
        if ((rc = sign(r, url, hdrs, nh, &so, err))) {
            bt_sigv4_out_dispose(&so);
            return rc;
        }
        for (i = 0; i < so.nadd; i++)
            hdrs[nh++] = so.add[i];
    }
    memset(&hr, 0, sizeof hr);
    hr.method = r->method;
    hr.url = url;
    hr.headers = hdrs;
    hr.nheaders = nh;
    hr.body = r->body;
    hr.body_len = r->body_len;
    hr.connect_timeout_ms = r->set->connect_timeout_ms;
    hr.read_timeout_ms = r->set->read_timeout_ms;
    hr.max_body = r->set->max_body;
    hr.sensitive = r->sensitive;
    *sent = 1;
    rc = bt_http_send(r->http, &hr, h, herr);
    bt_sigv4_out_dispose(&so);
    return rc;
}

static void swap_body(bt_buf *a, bt_buf *b)
{
    bt_buf tmp = *a;
    *a = *b;
    *b = tmp;
}

/* Sets the structured AWS fields of err (see error.h). */
static void set_aws_fields(bt_error *err, const bt_aws_response *resp, int attempts, int exhausted,
                           const char *message)
{
    if (!err)
        return;
    snprintf(err->request_id, sizeof err->request_id, "%s", resp->request_id);
    err->attempts = attempts;
    err->retries_exhausted = exhausted;
    snprintf(err->aws_message, sizeof err->aws_message, "%s", message ? message : "");
}

/* The error reply of the last attempt as BT_EAWS (the reply stays in resp). */
static int fail_reply(const bt_aws_req *r, bt_aws_response *resp, bt_http_resp *h, const char *code,
                      const char *msg, int exhausted, bt_error *err)
{
    const char *op = r->op ? r->op : "request";
    int rc;
    swap_body(&resp->body, &h->body);
    rc = bt_error_set(err, BT_EAWS, "%s: %s (HTTP %ld)%s%s%s%s%s", op, code, h->status,
                      msg[0] ? ": " : "", msg, resp->request_id[0] ? " [request id " : "",
                      resp->request_id, resp->request_id[0] ? "]" : "");
    if (err && exhausted) {
        /* botocore's wording */
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (reached max retries: %d)",
                 resp->attempts - 1);
    }
    if (err) {
        snprintf(err->aws_code, sizeof err->aws_code, "%s", code);
        err->http_status = (int)h->status;
    }
    set_aws_fields(err, resp, resp->attempts, exhausted, msg);
    return rc;
}

/* Is a 2xx reply usable? 0 yes; BT_EPARSE (herr set) an unreadable body, which is
 * asked for again like a transient failure; another code is final. */
static int accept_body(const bt_aws_req *r, const bt_http_resp *h, bt_error *herr)
{
    if (!r->accept)
        return 0;
    return r->accept(r->accept_payload, h->body.data ? h->body.data : "", h->body.len, herr);
}

int bt_aws_send(const bt_aws_req *r, bt_aws_response *resp, bt_error *err)
{
    const bt_aws_settings *set = r->set;
    int max_attempts = r->max_attempts > 0 ? r->max_attempts : set->max_attempts;
    int attempt, rc = 0, acquired = 0;
    char host[300], code[128], msg[400];
    const char *op = r->op ? r->op : "request";
    bt_buf url = BT_BUF_INIT;
    bt_http_resp h;

    if (max_attempts < 1)
        max_attempts = 1;
    bt_http_resp_init(&h);
    bt_buf_clear(&resp->body);
    resp->http_status = 0;
    resp->attempts = 0;
    resp->request_id[0] = resp->bucket_region[0] = '\0';

    if (host_header(r->ep->url, host, sizeof host) != 0) {
        rc = bt_error_set(err, BT_ECONFIG, "invalid endpoint url '%s'", r->ep->url);
        goto done;
    }
    if ((rc = build_url(r, &url, err)))
        goto done;
    for (attempt = 1;; attempt++) {
        int retryable, transport = BT_HTTP_T_NONE, unreadable = 0, sent;
        bt_error herr = BT_ERROR_INIT;

        resp->attempts = attempt;
        rc = send_once(r, url.data, host, &h, &sent, &herr, err);
        code[0] = msg[0] = '\0';
        if (rc && !sent)
            goto done; /* not sent: headers, signature */
        if (rc) {
            transport = h.transport;
            if (rc == BT_ENOMEM || rc == BT_ELIMIT) {
                if (err)
                    *err = herr;
                bt_error_prefix(err, "%s", op);
                goto done;
            }
        } else {
            capture_meta(&h, resp);
            resp->http_status = h.status;
            if (h.status >= 200 && h.status < 300 && (rc = accept_body(r, &h, &herr)) == 0) {
                /* success: hand the body over */
                swap_body(&resp->body, &h.body);
                bt_buf_clear(&h.body);
                if (r->quota)
                    bt_aws_quota_release(r->quota,
                                         attempt == 1 ? BT_AWS_NO_RETRY_INCREMENT : acquired);
                goto done;
            }
            if (rc && rc != BT_EPARSE) {
                if (err)
                    *err = herr;
                goto done;
            }
            if (rc) {
                unreadable = 1; /* a 2xx cut or garbled: asked for again */
                transport = BT_HTTP_T_IO;
            } else {
                bt_aws_parse_error(r->protocol, h.status, h.body.data, h.body.len,
                                   bt_http_resp_header(&h, "X-Amzn-ErrorType"), code, sizeof code,
                                   msg, sizeof msg);
            }
        }
        retryable = bt_aws_is_retryable(rc ? 0 : h.status, code, transport);
        if (retryable && attempt < max_attempts) {
            int cost =
                transport == BT_HTTP_T_TIMEOUT ? BT_AWS_TIMEOUT_RETRY_COST : BT_AWS_RETRY_COST;
            if (!r->quota || bt_aws_quota_acquire(r->quota, cost)) {
                double delay = bt_aws_backoff(attempt, bt_aws_random());
                acquired = cost;
                bt_aws_logf(set, "aws: %s: attempt %d failed (%s), retrying in %.3f s", op, attempt,
                            rc ? herr.msg : code, delay);
                bt_aws_sleep(delay);
                rc = 0;
                continue;
            }
            bt_aws_logf(set, "aws: %s: retry quota exhausted, not retrying", op);
        }
        /* final failure */
        if (unreadable) {
            if (err)
                *err = herr;
            set_aws_fields(err, resp, attempt, 0, "");
        } else if (rc) {
            rc = herr.code ? herr.code : BT_EHTTP;
            if (err)
                *err = herr;
            if (attempt > 1)
                bt_error_prefix(err, "%s (reached max retries: %d)", op, attempt - 1);
            else
                bt_error_prefix(err, "%s", op);
            set_aws_fields(err, resp, attempt, retryable && attempt > 1, "");
        } else {
            rc = fail_reply(r, resp, &h, code, msg, retryable && attempt > 1, err);
        }
        goto done;
    }
done:
    bt_http_resp_dispose(&h);
    bt_buf_dispose(&url);
    return rc;
}
