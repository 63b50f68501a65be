/*
 * http.h - private: one libcurl easy handle per bt_http (keep-alive across calls),
 * connect/read/total timeouts, proxies from the environment (libcurl's own
 * HTTPS_PROXY / NO_PROXY handling), TLS always verified, response headers captured,
 * a response body cap, and a redacted debug log through a callback.
 *
 * A bt_http is not thread-safe: one per thread (bt_aws_client_clone gives each
 * thread its own).
 */
#ifndef BT_AWS_HTTP_H
#define BT_AWS_HTTP_H

#include <stddef.h>

#include "buildtrail/aws.h"
#include "buildtrail/aws_sigv4.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"

typedef bt_sigv4_header bt_http_header;

typedef struct bt_http bt_http;

typedef struct bt_http_opts {
    const char *ca_bundle;  /* PEM file for TLS trust; NULL = system store */
    const char *user_agent; /* NULL = "buildtrail" */
    int no_proxy;           /* 1: never use a proxy (metadata endpoints) */
    bt_aws_log_fn log;      /* debug log sink, may be NULL */
    void *log_payload;
} bt_http_opts;

/* Transport failure classes (bt_http_resp.transport) used by the retry policy. */
enum {
    BT_HTTP_T_NONE = 0,
    BT_HTTP_T_CONNECT, /* could not resolve or connect: retryable */
    BT_HTTP_T_TIMEOUT, /* connect or read timeout: retryable (costs more quota) */
    BT_HTTP_T_IO,      /* reset, truncated body, empty reply: retryable */
    BT_HTTP_T_TLS,     /* certificate or TLS failure: not retried */
    BT_HTTP_T_LIMIT,   /* body larger than max_body: not retried */
    BT_HTTP_T_OTHER    /* anything else: not retried */
};

typedef struct bt_http_req {
    const char *method; /* GET, POST, PUT, HEAD, DELETE */
    const char *url;
    const bt_http_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
    long connect_timeout_ms; /* 0 = 60000 */
    long read_timeout_ms;    /* max time without receiving a byte; 0 = 60000 */
    long total_timeout_ms;   /* whole transfer; 0 = none */
    size_t max_body;         /* 0 = 256 MiB */
    int sensitive;           /* request and response bodies hold secrets: the
                                debug log shows only their length */
} bt_http_req;

#define BT_HTTP_MAX_HEADERS 128

typedef struct bt_http_resp {
    long status; /* 0 when no response was received */
    bt_buf body;
    char *hname[BT_HTTP_MAX_HEADERS]; /* captured headers of the final response (heap) */
    char *hvalue[BT_HTTP_MAX_HEADERS];
    size_t nheaders;
    int transport;  /* BT_HTTP_T_* when bt_http_send failed */
    double seconds; /* transfer time */
} bt_http_resp;

/* Returns 0 or BT_EHTTP/BT_ENOMEM. *out is freed with bt_http_free. */
int bt_http_new(bt_http **out, const bt_http_opts *opts, bt_error *err);
void bt_http_free(bt_http *h);

void bt_http_resp_init(bt_http_resp *r);
void bt_http_resp_reset(bt_http_resp *r); /* frees contents, ready for reuse */
void bt_http_resp_dispose(bt_http_resp *r);
/* Borrowed value of the first captured header named name (case-insensitive). */
const char *bt_http_resp_header(const bt_http_resp *r, const char *name);

/*
 * Performs one request. Returns 0 when an HTTP response was received (any status),
 * else BT_EHTTP with resp->transport set and err->msg naming the URL and cause
 * (BT_ELIMIT for a body over max_body).
 */
int bt_http_send(bt_http *h, const bt_http_req *req, bt_http_resp *resp, bt_error *err);

/* ---- redaction helpers (also used by the unit tests) ---- */

/* Appends "Name: value" to out with secrets replaced by "<redacted>": the signature
 * of an AWS4 Authorization header, any other Authorization value, security tokens,
 * metadata tokens and cookies. */
int bt_http_redact_header(bt_buf *out, const char *name, const char *value);
/* Appends body (at most max bytes of it) to out with the values of secret-bearing
 * JSON members, XML elements and form fields replaced by "<redacted>". */
int bt_http_redact_body(bt_buf *out, const char *body, size_t len, size_t max);

#endif
