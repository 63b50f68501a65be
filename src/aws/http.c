/* http.c - HTTP over libcurl for the AWS layer: a reusable easy handle (keep-alive),
 * timeouts, verified TLS, environment proxies, captured response headers, a body
 * cap, and a debug log with every secret redacted (see http.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "aws/http.h"
#include "util/curl_dl.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_BODY ((size_t)256 << 20)
#define LOG_BODY_MAX 2048

struct bt_http {
    CURL *curl;
    char *ca_bundle;
    char *user_agent;
    int no_proxy;
    bt_aws_log_fn log;
    void *log_payload;
};

int bt_http_new(bt_http **out, const bt_http_opts *o, bt_error *err)
{
    bt_http *h;
    int rc;

    *out = NULL;
    if ((rc = bt_curl_load(err)))
        return rc;
    h = calloc(1, sizeof *h);
    if (!h)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    h->curl = curl_easy_init();
    h->user_agent = strdup(o && o->user_agent ? o->user_agent : "buildtrail");
    h->ca_bundle = o && o->ca_bundle ? strdup(o->ca_bundle) : NULL;
    if (!h->curl || !h->user_agent || (o && o->ca_bundle && !h->ca_bundle)) {
        bt_http_free(h);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    if (o) {
        h->no_proxy = o->no_proxy;
        h->log = o->log;
        h->log_payload = o->log_payload;
    }
    *out = h;
    return 0;
}

void bt_http_free(bt_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->ca_bundle);
    free(h->user_agent);
    free(h);
}

void bt_http_resp_init(bt_http_resp *r)
{
    memset(r, 0, sizeof *r);
    bt_buf_init(&r->body, 0);
}

static void clear_headers(bt_http_resp *r)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
        r->hname[i] = r->hvalue[i] = NULL;
    }
    r->nheaders = 0;
}

void bt_http_resp_reset(bt_http_resp *r)
{
    clear_headers(r);
    bt_buf_clear(&r->body);
    r->status = 0;
    r->transport = BT_HTTP_T_NONE;
    r->seconds = 0;
}

void bt_http_resp_dispose(bt_http_resp *r)
{
    if (!r)
        return;
    clear_headers(r);
    bt_buf_dispose(&r->body);
}

const char *bt_http_resp_header(const bt_http_resp *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->hname[i], name) == 0)
            return r->hvalue[i];
    return NULL;
}

/* ---- redaction ---- */

static const char *const secret_headers[] = {"x-amz-security-token",
                                             "x-aws-ec2-metadata-token",
                                             "cookie",
                                             "set-cookie",
                                             "x-amz-server-side-encryption-customer-key",
                                             "proxy-authorization",
                                             "x-amz-sso_bearer_token",
                                             NULL};

int bt_http_redact_header(bt_buf *out, const char *name, const char *value)
{
    int i;
    if (strcasecmp(name, "authorization") == 0) {
        const char *sig;
        if (strncmp(value, "AWS4-HMAC-SHA256 ", 17) == 0 &&
            (sig = strstr(value, "Signature=")) != NULL)
            return bt_buf_printf(out, "%s: %.*s<redacted>", name, (int)(sig + 10 - value), value);
        return bt_buf_printf(out, "%s: <redacted>", name);
    }
    for (i = 0; secret_headers[i]; i++)
        if (strcasecmp(name, secret_headers[i]) == 0)
            return bt_buf_printf(out, "%s: <redacted>", name);
    return bt_buf_printf(out, "%s: %s", name, value);
}

/* Names whose values are secrets wherever they appear in a body (case-insensitive):
 * credential documents (JSON), STS replies (XML), query-protocol requests (form). */
static const char *const secret_names[] = {
    "SecretAccessKey", "SessionToken", "Token",     "WebIdentityToken",
    "SAMLAssertion",   "Password",     "SecretKey", "AccessToken",
    "RefreshToken",    "ClientSecret", NULL};

static size_t secret_name_at(const char *p, size_t avail, const char *term, size_t *namelen)
{
    int i;
    for (i = 0; secret_names[i]; i++) {
        size_t n = strlen(secret_names[i]);
        if (n < avail && strncasecmp(p, secret_names[i], n) == 0 && strchr(term, p[n]) &&
            p[n] != '\0') {
            *namelen = n;
            return 1;
        }
    }
    return 0;
}

int bt_http_redact_body(bt_buf *out, const char *body, size_t len, size_t max)
{
    size_t i = 0, n = len < max ? len : max, nl;
    int rc = 0;

    while (i < n && rc == 0) {
        char c = body[i];
        /* JSON: "Name" : "value" */
        if (c == '"' && secret_name_at(body + i + 1, n - i - 1, "\"", &nl)) {
            size_t j = i + 1 + nl + 1;
            while (j < n && isspace((unsigned char)body[j]))
                j++;
            if (j < n && body[j] == ':') {
                j++;
                while (j < n && isspace((unsigned char)body[j]))
                    j++;
                if (j < n && body[j] == '"') {
                    size_t k = j + 1;
                    while (k < len && body[k] != '"') {
                        if (body[k] == '\\')
                            k++;
                        k++;
                    }
                    rc = bt_buf_append(out, body + i, j + 1 - i);
                    if (rc == 0)
                        rc = bt_buf_puts(out, "<redacted>\"");
                    i = k + 1;
                    continue;
                }
            }
        }
        /* XML: <Name>value</Name> */
        if (c == '<' && secret_name_at(body + i + 1, n - i - 1, ">", &nl)) {
            size_t j = i + 1 + nl + 1, k = j;
            while (k < len && body[k] != '<')
                k++;
            rc = bt_buf_append(out, body + i, j - i);
            if (rc == 0)
                rc = bt_buf_puts(out, "<redacted>");
            i = k;
            continue;
        }
        /* form: [&]Name=value */
        if ((i == 0 || body[i - 1] == '&') && secret_name_at(body + i, n - i, "=", &nl)) {
            size_t j = i + nl + 1, k = j;
            while (k < len && body[k] != '&')
                k++;
            rc = bt_buf_append(out, body + i, j - i);
            if (rc == 0)
                rc = bt_buf_puts(out, "<redacted>");
            i = k;
            continue;
        }
        rc = bt_buf_putc(out, c);
        i++;
    }
    if (rc == 0 && len > max)
        rc = bt_buf_printf(out, "... (%zu bytes in all)", len);
    return rc;
}

/* ---- logging ---- */

static void logf_(bt_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(bt_http *h, const char *fmt, ...)
{
    bt_buf b = BT_BUF_INIT;
    va_list ap;
    if (!h->log)
        return;
    va_start(ap, fmt);
    if (bt_buf_vprintf(&b, fmt, ap) == 0)
        h->log(h->log_payload, b.data);
    va_end(ap);
    bt_buf_dispose(&b);
}

static void log_body(bt_http *h, const char *dir, const char *body, size_t len, int sensitive)
{
    bt_buf b = BT_BUF_INIT;
    size_t i;
    if (!h->log || len == 0)
        return;
    if (sensitive) {
        logf_(h, "http: %s body: %zu bytes (credentials, not logged)", dir, len);
        return;
    }
    if (bt_buf_printf(&b, "http: %s body: ", dir) == 0 &&
        bt_http_redact_body(&b, body, len, LOG_BODY_MAX) == 0) {
        for (i = 0; i < b.len; i++)
            if (b.data[i] == '\n' || b.data[i] == '\r')
                b.data[i] = ' ';
        h->log(h->log_payload, b.data);
    }
    bt_buf_dispose(&b);
}

static void log_header(bt_http *h, const char *dir, const char *name, const char *value)
{
    bt_buf b = BT_BUF_INIT;
    if (!h->log)
        return;
    if (bt_buf_printf(&b, "http: %s ", dir) == 0 && bt_http_redact_header(&b, name, value) == 0)
        h->log(h->log_payload, b.data);
    bt_buf_dispose(&b);
}

/* ---- curl callbacks ---- */

typedef struct xfer {
    bt_http_resp *resp;
    size_t max_body;
    int over_limit;
    int header_overflow;
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (x->resp->body.len + len > x->max_body) {
        x->over_limit = 1;
        return 0;
    }
    if (bt_buf_append(&x->resp->body, p, len) != 0)
        return 0;
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n, nl, vl;
    const char *colon, *v;
    bt_http_resp *r = x->resp;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a proxy CONNECT): start over */
        clear_headers(r);
        return len;
    }
    colon = memchr(p, ':', len);
    if (!colon)
        return len;
    if (r->nheaders >= BT_HTTP_MAX_HEADERS) {
        x->header_overflow = 1;
        return len;
    }
    nl = (size_t)(colon - p);
    v = colon + 1;
    while (v < p + len && (*v == ' ' || *v == '\t'))
        v++;
    vl = (size_t)(p + len - v);
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    r->hname[r->nheaders] = strndup(p, nl);
    r->hvalue[r->nheaders] = strndup(v, vl);
    if (!r->hname[r->nheaders] || !r->hvalue[r->nheaders]) {
        free(r->hname[r->nheaders]);
        free(r->hvalue[r->nheaders]);
        return 0;
    }
    r->nheaders++;
    return len;
}

static int classify(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return BT_HTTP_T_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return BT_HTTP_T_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY: return BT_HTTP_T_IO;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: return BT_HTTP_T_TLS;
    default: return BT_HTTP_T_OTHER;
    }
}

/* URL without userinfo and query string, for messages and the log (either may carry
 * secrets). */
static void url_for_log(const char *url, char *out, size_t cap)
{
    const char *q = strchr(url, '?'), *auth = strstr(url, "://"), *at, *host_end;
    size_t n = q ? (size_t)(q - url) : strlen(url), pre = 0;
    if (auth) {
        auth += 3;
        host_end = auth + strcspn(auth, "/?#");
        at = memchr(auth, '@', (size_t)(host_end - auth));
        if (at) {
            pre = (size_t)(auth - url);
            snprintf(out, cap, "%.*s%.*s%s", (int)pre, url, (int)(n - (size_t)(at + 1 - url)),
                     at + 1, q ? "?..." : "");
            return;
        }
    }
    snprintf(out, cap, "%.*s%s", (int)(n < cap ? n : cap - 1), url, q ? "?..." : "");
}

int bt_http_send(bt_http *h, const bt_http_req *req, bt_http_resp *resp, bt_error *err)
{
    CURL *c = h->curl;
    struct curl_slist *hl = NULL, *tmp;
    char errbuf[CURL_ERROR_SIZE], shown[600];
    xfer x;
    CURLcode cc;
    bt_buf line = BT_BUF_INIT;
    long ct = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_TIMEOUT_MS;
    long rt = req->read_timeout_ms > 0 ? req->read_timeout_ms : DEFAULT_TIMEOUT_MS;
    const char *method = req->method ? req->method : "GET";
    size_t i;
    int rc = 0;

    bt_http_resp_reset(resp);
    memset(&x, 0, sizeof x);
    x.resp = resp;
    x.max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
    errbuf[0] = '\0';
    url_for_log(req->url, shown, sizeof shown);

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_bundle)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
    if (h->no_proxy)
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
    /* read timeout: abort when under 1 byte/s for the whole read-timeout window */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (rt + 999) / 1000);
    if (req->total_timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);

    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }

    /* Our headers exactly as signed; no Expect: 100-continue; no default
     * form Content-Type unless the caller set one. */
    for (i = 0; i < req->nheaders; i++) {
        bt_buf_clear(&line);
        if (bt_buf_printf(&line, "%s: %s", req->headers[i].name, req->headers[i].value) != 0)
            goto nomem;
        tmp = curl_slist_append(hl, line.data);
        if (!tmp)
            goto nomem;
        hl = tmp;
    }
    tmp = curl_slist_append(hl, "Expect:");
    if (!tmp)
        goto nomem;
    hl = tmp;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    if (h->log) {
        logf_(h, "http: > %s %s", method, shown);
        for (i = 0; i < req->nheaders; i++)
            log_header(h, ">", req->headers[i].name, req->headers[i].value);
        log_body(h, ">", req->body, req->body_len, req->sensitive);
    }

    cc = curl_easy_perform(c);
    {
        double secs = 0;
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
        resp->seconds = secs;
    }
    if (cc != CURLE_OK) {
        if (x.over_limit) {
            resp->transport = BT_HTTP_T_LIMIT;
            rc = bt_error_set(err, BT_ELIMIT, "%s: response body larger than %zu bytes", shown,
                              x.max_body);
        } else {
            resp->transport = classify(cc);
            rc = bt_error_set(err, BT_EHTTP, "%s: %s", shown,
                              errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
        if (err)
            err->http_status = 0;
        logf_(h, "http: < transport error: %s", err ? err->msg : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (h->log) {
        logf_(h, "http: < %ld (%zu bytes, %.3f s)", resp->status, resp->body.len, resp->seconds);
        for (i = 0; i < resp->nheaders; i++)
            log_header(h, "<", resp->hname[i], resp->hvalue[i]);
        log_body(h, "<", resp->body.data, resp->body.len, req->sensitive);
    }
    goto done;
nomem:
    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
done:
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    bt_buf_dispose(&line);
    return rc;
}
