/*
 * handler.c - one LookupEvents request in, one response out, without sockets (see
 * buildtrail/server.h): authentication, operation dispatch, request validation with
 * the service model's error types and messages, the store query with keyset
 * pagination, the NextToken, and the response in the wire shape (model order,
 * EventTime as epoch seconds, absent members omitted).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <pthread.h>

#include "buildtrail/json.h"
#include "buildtrail/lookup.h"
#include "buildtrail/server.h"
#include "server/server_int.h"
#include "util/crypto_dl.h"

#define MAX_RESULTS_DEFAULT 50
#define MAX_RESULTS_MAX 50
#define MAX_ATTRIBUTES 64
#define ATTR_VALUE_MAX 2000
#define TIME_MAX_S 253402300799.0 /* 9999-12-31T23:59:59Z */
#define TOKEN_VERSION 1
#define TOKEN_BYTES 26
#define TOKEN_CHARS 35 /* base64url of 26 bytes, unpadded */
#define JSON_MAX_DEPTH 32

/* ---- messages (the service model's documentation of each error) ---- */

#define MSG_LOOKUP_ATTR "Occurs when a lookup attribute is specified that is not valid."
#define MSG_TIME_RANGE                                                                     \
    "Occurs if the timestamp values are not valid. Either the start time occurs after the " \
    "end time, or the time range is outside the range of possible values."
#define MSG_MAX_RESULTS "This exception is thrown if the limit specified is not valid."
#define MSG_NEXT_TOKEN                                                                     \
    "A token that is not valid, or a token that was previously used in a request with "    \
    "different parameters. This exception is thrown if the token is not valid."
#define MSG_EVENT_CATEGORY                                                                 \
    "Occurs if an event category that is not valid is specified as a value of "            \
    "EventCategory."
#define MSG_UNSUPPORTED "This exception is thrown when the requested operation is not supported."
#define MSG_INTERNAL                                                                       \
    "The request processing has failed because of an unknown error, exception or failure."
#define MSG_BAD_SIGNATURE                                                                  \
    "The request signature we calculated does not match the signature you provided. Check " \
    "your AWS Secret Access Key and signing method. Consult the service documentation for "  \
    "details."

#define CORAL "com.amazon.coral.service#"
#define SMITHY_TARGET_PREFIX "CloudTrail_20131101."

/* CloudTrail operations of the 2013-11-01 model: recognised, but only LookupEvents is
 * served (the rest get UnsupportedOperationException). */
static const char *const cloudtrail_ops[] = {
    "AddTags", "CancelQuery", "CreateChannel", "CreateDashboard", "CreateEventDataStore",
    "CreateTrail", "DeleteChannel", "DeleteDashboard", "DeleteEventDataStore",
    "DeleteResourcePolicy", "DeleteTrail", "DeregisterOrganizationDelegatedAdmin",
    "DescribeQuery", "DescribeTrails", "DisableFederation", "EnableFederation", "GenerateQuery",
    "GetChannel", "GetDashboard", "GetEventConfiguration", "GetEventDataStore",
    "GetEventSelectors", "GetImport", "GetInsightSelectors", "GetQueryResults",
    "GetResourcePolicy", "GetTrail", "GetTrailStatus", "ListChannels", "ListDashboards",
    "ListEventDataStores", "ListImportFailures", "ListImports", "ListInsightsData",
    "ListInsightsMetricData", "ListPublicKeys", "ListQueries", "ListTags", "ListTrails",
    "LookupEvents", "PutEventConfiguration", "PutEventSelectors", "PutInsightSelectors",
    "PutResourcePolicy", "RegisterOrganizationDelegatedAdmin", "RemoveTags",
    "RestoreEventDataStore", "SearchSampleQueries", "StartDashboardRefresh",
    "StartEventDataStoreIngestion", "StartImport", "StartLogging", "StartQuery",
    "StopEventDataStoreIngestion", "StopImport", "StopLogging", "UpdateChannel",
    "UpdateDashboard", "UpdateEventDataStore", "UpdateTrail",
};

/* LookupAttributeKey values, in the model's enum order; the index is the key id. */
enum { K_EVENT_ID, K_EVENT_NAME, K_READ_ONLY, K_USERNAME, K_RESOURCE_TYPE, K_RESOURCE_NAME,
       K_EVENT_SOURCE, K_ACCESS_KEY_ID, K__COUNT };
static const struct {
    const char *name;
    int field; /* bt_filter_field, -1 for ReadOnly */
    int insight_ok;
} attr_keys[K__COUNT] = {
    {"EventId", BT_F_EVENT_ID, 1},         {"EventName", BT_F_EVENT_NAME, 1},
    {"ReadOnly", -1, 0},                   {"Username", BT_F_USERNAME, 0},
    {"ResourceType", BT_F_RESOURCE_TYPE, 0}, {"ResourceName", BT_F_RESOURCE_NAME, 0},
    {"EventSource", BT_F_EVENT_SOURCE, 1}, {"AccessKeyId", BT_F_ACCESS_KEY_ID, 0},
};

/* ---- request ids ---- */

static _Thread_local uint64_t rid_state[2];
static _Thread_local int rid_seeded;

static uint64_t rid_next(void)
{
    /* xorshift128+ */
    uint64_t s1 = rid_state[0];
    const uint64_t s0 = rid_state[1];
    rid_state[0] = s0;
    s1 ^= s1 << 23;
    rid_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rid_state[1] + s0;
}

void bt_serve_request_id(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    uint64_t x, y;
    int i, j;

    if (!rid_seeded) {
        if (getrandom(rid_state, sizeof rid_state, 0) != (ssize_t)sizeof rid_state) {
            rid_state[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rid_seeded;
            rid_state[1] = (uint64_t)clock() * 0x9e3779b97f4a7c15ULL + 1;
        }
        if (!rid_state[0] && !rid_state[1])
            rid_state[1] = 1;
        rid_seeded = 1;
    }
    x = rid_next();
    y = rid_next();
    for (i = 0; i < 8; i++) {
        b[i] = (unsigned char)(x >> (8 * i));
        b[8 + i] = (unsigned char)(y >> (8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (i = 0, j = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

/* ---- responses ---- */

void bt_serve_response_init(bt_serve_response *r)
{
    memset(r, 0, sizeof *r);
    bt_buf_init(&r->body, 0);
}

void bt_serve_response_dispose(bt_serve_response *r)
{
    if (r)
        bt_buf_dispose(&r->body);
}

/* Sets an error response: {"__type": prefix+type, "message": msg}. */
static void set_error(bt_serve_response *r, int status, const char *prefix, const char *type,
                      const char *msg)
{
    bt_buf *b = &r->body;
    int rc;
    r->status = status;
    r->error_type = type;
    r->events = 0;
    bt_buf_clear(b);
    rc = bt_buf_puts(b, "{\"__type\":\"");
    if (!rc && prefix)
        rc = bt_buf_puts(b, prefix);
    if (!rc)
        rc = bt_buf_puts(b, type);
    if (!rc)
        rc = bt_buf_puts(b, "\",\"message\":");
    if (!rc)
        rc = bt_json_write_string(b, msg, strlen(msg), 0);
    if (!rc)
        rc = bt_buf_putc(b, '}');
    if (rc)
        bt_buf_clear(b);
}

static void internal_error(const bt_serve_config *cfg, bt_serve_response *r, const char *what)
{
    if (cfg->log) {
        char line[BT_ERROR_MSG_MAX + 128];
        snprintf(line, sizeof line, "request %s: %s", r->request_id, what);
        cfg->log(cfg->log_ctx, BT_SERVE_LOG_ERROR, line);
    }
    set_error(r, 500, NULL, "InternalFailure", MSG_INTERNAL);
}

/* ---- headers ---- */

static const char *header(const bt_serve_request *req, const char *name)
{
    size_t i;
    for (i = 0; i < req->nheaders; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

/* ---- authentication ---- */

static void format_amz(int64_t t, char out[17])
{
    bt_sigv4_format_date(t, out);
}

/* Turns a verifier failure into the service's error and message. */
static void auth_error(const bt_serve_config *cfg, const bt_serve_request *req,
                       const bt_error *e, bt_serve_response *r)
{
    const char *code = e->aws_code;
    char msg[300];

    if (strcmp(code, "MissingAuthenticationTokenException") == 0) {
        set_error(r, 403, NULL, "MissingAuthenticationTokenException",
                  "Missing Authentication Token");
    } else if (strcmp(code, "UnrecognizedClientException") == 0) {
        set_error(r, 403, NULL, "UnrecognizedClientException",
                  "The security token included in the request is invalid.");
    } else if (strcmp(code, "InvalidSignatureException") == 0 &&
               strncmp(e->msg, "signature expired", 17) == 0) {
        const char *d = header(req, "x-amz-date");
        int64_t now = cfg->now ? cfg->now : (int64_t)time(NULL);
        char n1[17], n2[17], sig[17];
        struct tm tm;
        int64_t t = 0;
        snprintf(sig, sizeof sig, "%s", d ? d : "");
        memset(&tm, 0, sizeof tm);
        if (d && strptime(d, "%Y%m%dT%H%M%SZ", &tm))
            t = (int64_t)timegm(&tm);
        format_amz(now, n2);
        if (t && t > now) {
            format_amz(now + 900, n1);
            snprintf(msg, sizeof msg,
                     "Signature not yet current: %s is still later than %s (%s + 15 min.)", sig,
                     n1, n2);
        } else {
            format_amz(now - 900, n1);
            snprintf(msg, sizeof msg,
                     "Signature expired: %s is now earlier than %s (%s - 15 min.)", sig, n1, n2);
        }
        set_error(r, 403, NULL, "InvalidSignatureException", msg);
    } else if (strcmp(code, "InvalidSignatureException") == 0) {
        set_error(r, 403, NULL, "InvalidSignatureException", MSG_BAD_SIGNATURE);
    } else {
        /* IncompleteSignatureException and anything else the verifier may name */
        if (strstr(e->msg, "not for this endpoint"))
            snprintf(msg, sizeof msg,
                     "Credential should be scoped to correct service: 'cloudtrail'.");
        else
            snprintf(msg, sizeof msg, "%c%s.", e->msg[0] >= 'a' && e->msg[0] <= 'z'
                                                   ? e->msg[0] - 'a' + 'A'
                                                   : e->msg[0] ? e->msg[0] : 'I',
                     e->msg[0] ? e->msg + 1 : "ncomplete signature");
        set_error(r, 403, NULL,
                  strcmp(code, "IncompleteSignatureException") == 0 ? "IncompleteSignatureException"
                                                                    : "AccessDeniedException",
                  msg);
    }
}

/* Returns 0 when authenticated (or no auth configured), else sets the response. */
static int authenticate(const bt_serve_config *cfg, const bt_serve_request *req,
                        bt_serve_response *r)
{
    bt_sigv4_request sr;
    bt_sigv4_verify_opts vo;
    bt_sigv4_verified v;
    bt_error e = BT_ERROR_INIT;
    int rc;

    if (!cfg->auth)
        return 0;
    {
        /* the body must be signed: an unsigned one could be replaced in a captured
         * request for as long as its signature is valid */
        const char *ph = header(req, "x-amz-content-sha256");
        if (ph && strcasecmp(ph, "UNSIGNED-PAYLOAD") == 0) {
            set_error(r, 403, NULL, "IncompleteSignatureException",
                      "The request payload must be signed: x-amz-content-sha256 "
                      "UNSIGNED-PAYLOAD is not accepted.");
            return -1;
        }
    }
    memset(&sr, 0, sizeof sr);
    sr.method = req->method;
    sr.path = req->path;
    sr.query = req->query;
    sr.headers = req->headers;
    sr.nheaders = req->nheaders;
    sr.body = req->body ? req->body : "";
    sr.body_len = req->body_len;
    if (req->body_too_large) {
        /* the body was not kept: its hash as read stands for it */
        const char *ph = header(req, "x-amz-content-sha256");
        if (!req->body_sha256 || (ph && strcasecmp(ph, req->body_sha256) != 0)) {
            set_error(r, 403, NULL, "InvalidSignatureException", MSG_BAD_SIGNATURE);
            return -1;
        }
        sr.payload_hash = req->body_sha256;
    }
    memset(&vo, 0, sizeof vo);
    vo.now = cfg->now;
    vo.max_skew = 900;
    vo.service = "cloudtrail";
    vo.lookup = bt_serve_auth_lookup;
    vo.payload = (void *)cfg->auth;
    rc = bt_sigv4_verify(&sr, &vo, &v, &e);
    if (rc == 0) {
        snprintf(r->access_key_id, sizeof r->access_key_id, "%s", v.access_key_id);
        return 0;
    }
    if (rc == BT_EAUTH)
        auth_error(cfg, req, &e, r);
    else
        internal_error(cfg, r, e.msg[0] ? e.msg : bt_strerror(rc));
    return -1;
}

/* ---- NextToken ---- */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_be64(unsigned char *p, uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The key of the tokens: the store's secret, or (a store made before it had one, read
 * only since) a random key of this process. */
static unsigned char process_key[32];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void make_process_key(void)
{
    if (getrandom(process_key, sizeof process_key, 0) != (ssize_t)sizeof process_key) {
        size_t i;
        for (i = 0; i < sizeof process_key; i++) /* never taken on Linux >= 3.17 */
            process_key[i] = (unsigned char)(rand() ^ (int)time(NULL));
    }
}

static void token_key(const bt_store *store, unsigned char key[32])
{
    if (bt_store_token_secret(store, key))
        return;
    pthread_once(&process_key_once, make_process_key);
    memcpy(key, process_key, 32);
}

/* The check bytes of a token: the first 8 bytes of HMAC-SHA-256, keyed with the
 * store's secret, over the parameter digest and the position, so a token reused with
 * other parameters, altered or made up is refused. */
static void token_check(const bt_store *store, const unsigned char params[8],
                        const unsigned char pos[16], unsigned char out[8])
{
    unsigned char b[24], key[32], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    memcpy(b, params, 8);
    memcpy(b + 8, pos, 16);
    token_key(store, key);
    if (!HMAC(EVP_sha256(), key, (int)sizeof key, b, sizeof b, md, &mdlen) || mdlen < 8)
        memset(md, 0xff, 8); /* cannot happen; then no token verifies */
    memcpy(out, md, 8);
    OPENSSL_cleanse(key, sizeof key);
}

/* Token layout (26 bytes, base64url without padding): version, 0, time_ms (8, big
 * endian), seq (8), check (8). */
static void token_encode(const bt_store *store, const bt_store_pos *pos,
                         const unsigned char hash[8], char out[TOKEN_CHARS + 1])
{
    unsigned char b[TOKEN_BYTES + 2] = {0};
    size_t i, j = 0;
    b[0] = TOKEN_VERSION;
    b[1] = 0;
    put_be64(b + 2, (uint64_t)pos->time_ms);
    put_be64(b + 10, (uint64_t)pos->seq);
    token_check(store, hash, b + 2, b + 18);
    for (i = 0; i < TOKEN_BYTES; i += 3) {
        uint32_t v = ((uint32_t)b[i] << 16) | ((uint32_t)b[i + 1] << 8) | b[i + 2];
        out[j++] = b64u[(v >> 18) & 63];
        out[j++] = b64u[(v >> 12) & 63];
        if (i + 1 < TOKEN_BYTES)
            out[j++] = b64u[(v >> 6) & 63];
        if (i + 2 < TOKEN_BYTES)
            out[j++] = b64u[v & 63];
    }
    out[j] = '\0';
}

static int b64u_val(char c)
{
    const char *p = c ? strchr(b64u, c) : NULL;
    return p ? (int)(p - b64u) : -1;
}

/* 0 and *pos when tok is a token of this version with this parameter hash. */
static int token_decode(const bt_store *store, const char *tok, size_t len,
                        const unsigned char hash[8], bt_store_pos *pos)
{
    unsigned char b[TOKEN_BYTES + 2] = {0}, check[8];
    size_t i, j = 0;
    if (len != TOKEN_CHARS)
        return -1;
    /* the last character carries 4 bits of data: the 2 spare ones must be 0, so that
     * a token has exactly one spelling */
    if (b64u_val(tok[len - 1]) < 0 || (b64u_val(tok[len - 1]) & 3) != 0)
        return -1;
    for (i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t k, n = len - i < 4 ? len - i : 4;
        for (k = 0; k < 4; k++) {
            int x = k < n ? b64u_val(tok[i + k]) : 0;
            if (x < 0)
                return -1;
            v = (v << 6) | (uint32_t)x;
        }
        b[j++] = (unsigned char)(v >> 16);
        if (n > 2)
            b[j++] = (unsigned char)(v >> 8);
        if (n > 3)
            b[j++] = (unsigned char)v;
    }
    if (j != TOKEN_BYTES || b[0] != TOKEN_VERSION || b[1] != 0)
        return -1;
    token_check(store, hash, b + 2, check);
    if (CRYPTO_memcmp(b + 18, check, 8) != 0)
        return -1;
    pos->time_ms = (int64_t)get_be64(b + 2);
    pos->seq = (int64_t)get_be64(b + 10);
    if (pos->seq <= 0)
        return -1;
    return 0;
}

/* ---- request parsing ---- */

typedef struct attr {
    int key;
    const char *value;
    size_t len;
} attr;

typedef struct lookup {
    int has_start, has_end;
    int64_t start_ms, end_ms;
    int insight;
    unsigned max_results;
    const char *token;
    size_t token_len;
    attr attrs[MAX_ATTRIBUTES];
    size_t nattrs;
    int contradictory; /* two different values for one key: nothing can match */
    unsigned char hash[8];
} lookup;

/* Outcome of parsing: 0 ok, else the response is set. */
static int bad(bt_serve_response *r, const char *type, const char *msg)
{
    set_error(r, 400, NULL, type, msg);
    return -1;
}

static int serialization(bt_serve_response *r, const char *msg)
{
    set_error(r, 400, CORAL, "SerializationException", msg);
    return -1;
}

/* The value's length by the model's rule: characters, with '_', ' ', ',' and '\n'
 * counting twice. */
static size_t attr_value_length(const char *s, size_t len)
{
    size_t i, n = 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80)
            continue; /* UTF-8 continuation byte */
        n += (c == '_' || c == ' ' || c == ',' || c == '\n') ? 2 : 1;
    }
    return n;
}

static int cmp_attr(const void *a, const void *b)
{
    const attr *x = a, *y = b;
    size_t n;
    int c;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    n = x->len < y->len ? x->len : y->len;
    c = memcmp(x->value, y->value, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static int parse_time(const bt_json *v, const char *name, int *has, int64_t *ms,
                      bt_serve_response *r)
{
    char msg[96];
    if (!v || v->type == BT_JSON_NULL)
        return 0;
    if (v->type != BT_JSON_NUMBER) {
        snprintf(msg, sizeof msg, "Expected a timestamp (epoch seconds) for '%s'.", name);
        return serialization(r, msg);
    }
    if (!isfinite(v->num) || v->num < 0 || v->num > TIME_MAX_S)
        return bad(r, "InvalidTimeRangeException", MSG_TIME_RANGE);
    *ms = llround(v->num * 1000.0);
    *has = 1;
    return 0;
}

static int parse_attrs(const bt_json *v, lookup *l, bt_serve_response *r)
{
    size_t i, k;
    if (!v || v->type == BT_JSON_NULL)
        return 0;
    if (v->type != BT_JSON_ARRAY)
        return serialization(r, "Expected a list for 'LookupAttributes'.");
    if (v->len > MAX_ATTRIBUTES)
        return bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
    for (i = 0; i < v->len; i++) {
        const bt_json *a = v->u.items[i], *key, *val;
        int kid = -1;
        if (a->type != BT_JSON_OBJECT)
            return serialization(r, "Expected a structure in 'LookupAttributes'.");
        key = bt_json_get(a, "AttributeKey");
        val = bt_json_get(a, "AttributeValue");
        if ((key && key->type != BT_JSON_NULL && key->type != BT_JSON_STRING) ||
            (val && val->type != BT_JSON_NULL && val->type != BT_JSON_STRING))
            return serialization(r, "Expected a string for 'AttributeKey' and 'AttributeValue'.");
        if (!key || key->type != BT_JSON_STRING || !val || val->type != BT_JSON_STRING)
            return bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
        for (k = 0; k < K__COUNT; k++)
            if (key->len == strlen(attr_keys[k].name) &&
                memcmp(key->u.str, attr_keys[k].name, key->len) == 0)
                kid = (int)k;
        if (kid < 0 || val->len == 0 || memchr(val->u.str, '\0', val->len) ||
            attr_value_length(val->u.str, val->len) > ATTR_VALUE_MAX)
            return bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
        if (kid == K_READ_ONLY && strcmp(val->u.str, "true") != 0 &&
            strcmp(val->u.str, "false") != 0)
            return bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
        l->attrs[l->nattrs].key = kid;
        l->attrs[l->nattrs].value = val->u.str;
        l->attrs[l->nattrs].len = val->len;
        l->nattrs++;
    }
    /* canonical order, repeats of one pair dropped; two values for a key contradict */
    if (l->nattrs > 1) /* qsort's base must not be NULL, even for 0 items */
        qsort(l->attrs, l->nattrs, sizeof l->attrs[0], cmp_attr);
    for (i = 0, k = 0; i < l->nattrs; i++) {
        if (k && cmp_attr(&l->attrs[k - 1], &l->attrs[i]) == 0)
            continue;
        if (k && l->attrs[k - 1].key == l->attrs[i].key)
            l->contradictory = 1;
        l->attrs[k++] = l->attrs[i];
    }
    l->nattrs = k;
    return 0;
}

/* The hash that binds a NextToken to the request's other parameters. */
static int param_hash(lookup *l)
{
    bt_buf b = BT_BUF_INIT;
    char hex[65];
    size_t i;
    int rc = 0;

    rc |= bt_buf_printf(&b, "lookup-events/1\n");
    rc |= l->has_start ? bt_buf_printf(&b, "start=%lld\n", (long long)l->start_ms)
                       : bt_buf_puts(&b, "start=\n");
    rc |= l->has_end ? bt_buf_printf(&b, "end=%lld\n", (long long)l->end_ms)
                     : bt_buf_puts(&b, "end=\n");
    rc |= bt_buf_printf(&b, "category=%s\n", l->insight ? "insight" : "");
    for (i = 0; i < l->nattrs && !rc; i++) {
        rc |= bt_buf_printf(&b, "attr=%d:%zu:", l->attrs[i].key, l->attrs[i].len);
        rc |= bt_buf_append(&b, l->attrs[i].value, l->attrs[i].len);
        rc |= bt_buf_putc(&b, '\n');
    }
    if (!rc) {
        bt_sigv4_sha256_hex(b.data, b.len, hex);
        for (i = 0; i < 8; i++) {
            int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
            int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;
            l->hash[i] = (unsigned char)(hi << 4 | lo);
        }
    }
    bt_buf_dispose(&b);
    return rc ? BT_ENOMEM : 0;
}

static int parse_lookup(const bt_json *root, lookup *l, bt_serve_response *r)
{
    const bt_json *v;
    size_t i;

    memset(l, 0, sizeof *l);
    l->max_results = MAX_RESULTS_DEFAULT;
    if (root->type != BT_JSON_OBJECT)
        return serialization(r, "Expected a JSON object as the request body.");
    /* a member given twice is ambiguous */
    for (i = 0; i < root->len; i++) {
        size_t j;
        for (j = i + 1; j < root->len; j++)
            if (root->u.members[i].key_len == root->u.members[j].key_len &&
                memcmp(root->u.members[i].key, root->u.members[j].key,
                       root->u.members[i].key_len) == 0)
                return serialization(r, "A member of the request is given twice.");
    }
    if (parse_attrs(bt_json_get(root, "LookupAttributes"), l, r))
        return -1;
    if (parse_time(bt_json_get(root, "StartTime"), "StartTime", &l->has_start, &l->start_ms, r) ||
        parse_time(bt_json_get(root, "EndTime"), "EndTime", &l->has_end, &l->end_ms, r))
        return -1;
    if (l->has_start && l->has_end && l->start_ms > l->end_ms)
        return bad(r, "InvalidTimeRangeException", MSG_TIME_RANGE);
    v = bt_json_get(root, "EventCategory");
    if (v && v->type != BT_JSON_NULL) {
        if (v->type != BT_JSON_STRING)
            return serialization(r, "Expected a string for 'EventCategory'.");
        if (!bt_json_is_str(v, "insight"))
            return bad(r, "InvalidEventCategoryException", MSG_EVENT_CATEGORY);
        l->insight = 1;
    }
    if (l->insight)
        for (i = 0; i < l->nattrs; i++)
            if (!attr_keys[l->attrs[i].key].insight_ok)
                return bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
    v = bt_json_get(root, "MaxResults");
    if (v && v->type != BT_JSON_NULL) {
        if (v->type != BT_JSON_NUMBER || v->num != floor(v->num) || !isfinite(v->num))
            return serialization(r, "Expected an integer for 'MaxResults'.");
        if (v->num < 1 || v->num > MAX_RESULTS_MAX)
            return bad(r, "InvalidMaxResultsException", MSG_MAX_RESULTS);
        l->max_results = (unsigned)v->num;
    }
    v = bt_json_get(root, "NextToken");
    if (v && v->type != BT_JSON_NULL) {
        if (v->type != BT_JSON_STRING)
            return serialization(r, "Expected a string for 'NextToken'.");
        if (v->len) {
            l->token = v->u.str;
            l->token_len = v->len;
        }
    }
    return 0;
}

/* ---- response writing ---- */

/* each event: bt_ct_record_write (lookup.h), the one writer of the event shape */

#define MAX_RESPONSE_BYTES ((size_t)8 << 20) /* a page stops here (NextToken follows) */

typedef struct page {
    bt_buf *out;
    unsigned max, n;
    int more;
    int size_full; /* the page reached MAX_RESPONSE_BYTES */
    bt_store_pos last;
} page;

#define PAGE_FULL 1 /* callback's stop signal: one event beyond the page exists */

static int on_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    page *p = ctx;
    if (p->n == p->max || p->size_full) {
        p->more = 1;
        return PAGE_FULL;
    }
    if (p->n && bt_buf_putc(p->out, ','))
        return BT_ENOMEM;
    if (bt_ct_record_write(p->out, ev))
        return BT_ENOMEM;
    p->last = *pos;
    p->n++;
    if (p->out->len >= MAX_RESPONSE_BYTES)
        p->size_full = 1;
    return 0;
}

/* ---- the operation ---- */

static void lookup_events(const bt_serve_config *cfg, bt_store *store, bt_arena *scratch,
                          const bt_serve_request *req, bt_serve_response *r)
{
    bt_json *root = NULL;
    bt_json_parse_opts po;
    bt_error e = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    bt_store_pos after;
    lookup *l = NULL;
    page p;
    size_t i;
    int rc;

    memset(&po, 0, sizeof po);
    po.max_depth = JSON_MAX_DEPTH;
    po.max_size = (cfg->max_body ? cfg->max_body : BT_SERVE_DEFAULT_MAX_BODY) + 1;
    if (req->body_len == 0) {
        /* no body at all: no parameters, as "{}" */
        root = bt_json_new_object(scratch, 0);
        if (!root) {
            internal_error(cfg, r, "out of memory");
            return;
        }
    } else if ((rc = bt_json_parse(scratch, req->body, req->body_len, &po, &root, &e))) {
        if (rc == BT_ENOMEM) {
            internal_error(cfg, r, "out of memory");
        } else {
            char msg[BT_ERROR_MSG_MAX + 8];
            snprintf(msg, sizeof msg, "%c%s.", e.msg[0] == 'i' ? 'I' : e.msg[0],
                     e.msg[0] ? e.msg + 1 : "");
            serialization(r, e.msg[0] ? msg : "Malformed JSON.");
        }
        return;
    }
    l = bt_arena_alloc(scratch, sizeof *l);
    if (!l) {
        internal_error(cfg, r, "out of memory");
        return;
    }
    if (parse_lookup(root, l, r))
        return;
    if (param_hash(l)) {
        internal_error(cfg, r, "out of memory");
        return;
    }
    memset(&q, 0, sizeof q);
    if (l->token) {
        if (token_decode(store, l->token, l->token_len, l->hash, &after)) {
            bad(r, "InvalidNextTokenException", MSG_NEXT_TOKEN);
            return;
        }
        q.after = &after;
    }

    r->status = 200;
    bt_buf_clear(&r->body);
    if (bt_buf_reserve(&r->body, (size_t)l->max_results * 2048) ||
        bt_buf_puts(&r->body, "{\"Events\":[")) {
        internal_error(cfg, r, "out of memory");
        return;
    }
    memset(&p, 0, sizeof p);
    p.out = &r->body;
    p.max = l->max_results;
    if (!l->contradictory) {
        if (!store) {
            internal_error(cfg, r, "the store is not open");
            return;
        }
        bt_filter_init(&f);
        f.kinds = l->insight ? (1u << BT_KIND_INSIGHT) : (1u << BT_KIND_API);
        if (l->has_start)
            f.start_ms = l->start_ms;
        if (l->has_end)
            f.end_ms = l->end_ms;
        for (i = 0; i < l->nattrs; i++) {
            int field = attr_keys[l->attrs[i].key].field;
            rc = field < 0 ? bt_filter_set_read_only(&f, l->attrs[i].value, &e)
                           : bt_filter_add(&f, (bt_filter_field)field, l->attrs[i].value, &e);
            if (rc) {
                bad(r, "InvalidLookupAttributesException", MSG_LOOKUP_ATTR);
                return;
            }
        }
        /* the keyset condition implies t <= the position's time; saying so as a plain
         * bound lets the store range-scan its time index instead of skipping every
         * row newer than the position (which made deep pages ever slower) */
        if (q.after && after.time_ms < f.end_ms)
            f.end_ms = after.time_ms;
        q.filter = &f;
        q.limit = (uint64_t)l->max_results + 1;
        rc = bt_store_search(store, &q, on_event, &p, &e);
        if (rc && rc != PAGE_FULL) {
            internal_error(cfg, r, rc == BT_ENOMEM ? "out of memory" : e.msg);
            return;
        }
    }
    rc = bt_buf_putc(&r->body, ']');
    if (!rc && p.more) {
        char tok[TOKEN_CHARS + 1];
        token_encode(store, &p.last, l->hash, tok);
        rc = bt_buf_printf(&r->body, ",\"NextToken\":\"%s\"", tok);
    }
    if (!rc)
        rc = bt_buf_putc(&r->body, '}');
    if (rc) {
        internal_error(cfg, r, "out of memory");
        return;
    }
    r->events = p.n;
}

void bt_serve_handle(const bt_serve_config *cfg, bt_store *store, bt_arena *scratch,
                     const bt_serve_request *req, bt_serve_response *r)
{
    static const bt_serve_config defaults;
    const char *target, *op;
    size_t max_body, i, plen = strlen(BT_SERVE_TARGET_PREFIX);
    char msg[160];

    if (!cfg)
        cfg = &defaults;
    max_body = cfg->max_body ? cfg->max_body : BT_SERVE_DEFAULT_MAX_BODY;
    bt_buf_clear(&r->body);
    r->status = 0;
    r->error_type = NULL;
    r->operation = NULL;
    r->events = 0;
    r->close = 0;
    r->access_key_id[0] = '\0';
    r->content_type = NULL;
    r->web = 0;
    r->location[0] = r->set_cookie[0] = '\0';
    bt_serve_request_id(r->request_id);
    if (scratch)
        bt_arena_reset(scratch);

    /* the web view has its own token (web.c); a body is only a login form */
    if (cfg->web && scratch && bt_web_wants(req)) {
        if (req->body_too_large || req->body_len > max_body) {
            snprintf(msg, sizeof msg, "Request body must be at most %zu bytes.", max_body);
            set_error(r, 413, NULL, "RequestEntityTooLargeException", msg);
            r->close = 1;
            return;
        }
        bt_web_handle(cfg, store, scratch, req, r); /* web.c */
        return;
    }
    /* authenticated first: an unauthenticated client learns nothing, not even the cap */
    if (authenticate(cfg, req, r)) {
        if (req->body_too_large)
            r->close = 1;
        return;
    }
    if (req->body_too_large || req->body_len > max_body) {
        snprintf(msg, sizeof msg, "Request body must be at most %zu bytes.", max_body);
        set_error(r, 413, NULL, "RequestEntityTooLargeException", msg);
        r->close = 1;
        return;
    }
    if (!req->method || strcmp(req->method, "POST") != 0 || !req->path ||
        strcmp(req->path, "/") != 0) {
        set_error(r, 404, CORAL, "UnknownOperationException",
                  "Only POST / with an X-Amz-Target header is served.");
        return;
    }
    /* the model's targetPrefix + "." + operation (botocore), or the Smithy service
     * shape name + "." + operation (newer AWS SDK for JavaScript v3) */
    target = header(req, "x-amz-target");
    op = NULL;
    if (target) {
        const char *name = NULL;
        if (strncmp(target, BT_SERVE_TARGET_PREFIX, plen) == 0)
            name = target + plen;
        else if (strncmp(target, SMITHY_TARGET_PREFIX, strlen(SMITHY_TARGET_PREFIX)) == 0)
            name = target + strlen(SMITHY_TARGET_PREFIX);
        for (i = 0; name && i < sizeof cloudtrail_ops / sizeof cloudtrail_ops[0]; i++)
            if (strcmp(name, cloudtrail_ops[i]) == 0)
                op = cloudtrail_ops[i];
    }
    if (!op) {
        set_error(r, 400, CORAL, "UnknownOperationException",
                  target ? "The operation named by X-Amz-Target is unknown."
                         : "The request has no X-Amz-Target header.");
        return;
    }
    r->operation = op;
    if (strcmp(op, "LookupEvents") != 0) {
        set_error(r, 400, NULL, "UnsupportedOperationException", MSG_UNSUPPORTED);
        return;
    }
    if (!scratch) {
        internal_error(cfg, r, "no scratch arena");
        return;
    }
    lookup_events(cfg, store, scratch, req, r);
}
