/*
 * buildtrail/server.h - `buildtrail serve`: the CloudTrail LookupEvents API
 * (awsJson1_1) answered from the store, so the AWS CLI, boto3 and the AWS SDKs work
 * against it with only an endpoint URL changed.
 *
 * Two layers:
 *   - bt_serve_handle(): one request in (method, path, headers, body), one response
 *     out (status, JSON body). No sockets; used by the HTTP server, the unit tests and
 *     the fuzzer. It never fails: every outcome, including a store error or running
 *     out of memory, is a response.
 *   - bt_server_*: the HTTP server (libmicrohttpd) with a thread pool; each pool
 *     thread opens its own read-only bt_store on first use, so events that an ingest
 *     commits while the server runs are visible to the next request.
 *
 * Semantics are those of the service model (cloudtrail 2013-11-01): events newest
 * first over an inclusive time range, MaxResults 1..50 (default 50), an opaque
 * NextToken bound to the other parameters, EventCategory "insight", the modeled
 * error types with the model's messages. Extension: several LookupAttributes are
 * accepted and ANDed (two different values for one key match nothing). See
 * docs/serve.md.
 *
 * The same port also answers a small web view (bt_serve_config.web): the builds list,
 * a build's timeline drawn as SVG, an event search, and their JSON under /api/.
 *
 * Secrets: the --auth file's secrets are kept only in a bt_serve_auth (wiped when
 * freed) and never appear in a response, an error or a log line.
 */
#ifndef BT_SERVER_H
#define BT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws_sigv4.h"
#include "buildtrail/buf.h"
#include "buildtrail/builds.h"
#include "buildtrail/error.h"
#include "buildtrail/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BT_SERVE_DEFAULT_MAX_BODY ((size_t)64 << 10) /* request body cap: 64 KiB */
#define BT_SERVE_TARGET_PREFIX "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
#define BT_SERVE_CONTENT_TYPE "application/x-amz-json-1.1"

/* ------------------------------------------------------------ credentials -- */

/* The access keys a server accepts (SigV4, service "cloudtrail", any region). */
typedef struct bt_serve_auth bt_serve_auth;

/* An empty key set; free with bt_serve_auth_free. NULL on allocation failure. */
bt_serve_auth *bt_serve_auth_new(void);
/* Adds a key (both strings copied). BT_EINVAL for an empty or malformed id/secret or
 * a duplicate id, BT_ENOMEM. */
int bt_serve_auth_add(bt_serve_auth *a, const char *access_key_id, const char *secret,
                      bt_error *err);
/* Reads a file of "ACCESS_KEY_ID SECRET" lines (blank lines and lines starting with
 * '#' ignored). *out is freed with bt_serve_auth_free. Errors name the file and line,
 * never a secret: BT_EIO, BT_EPARSE (bad line or no keys at all), BT_ENOMEM. */
int bt_serve_auth_load(const char *path, bt_serve_auth **out, bt_error *err);
size_t bt_serve_auth_count(const bt_serve_auth *a);
void bt_serve_auth_free(bt_serve_auth *a); /* wipes the secrets; accepts NULL */

/* ---------------------------------------------------------------- handler -- */

enum { BT_SERVE_LOG_ERROR = 0, BT_SERVE_LOG_INFO = 1 };

/* Receives one log line (no newline): errors (store failures, transport problems)
 * and, at INFO, one line per request. Called from server threads concurrently. */
typedef void (*bt_serve_log_fn)(void *ctx, int level, const char *line);

typedef struct bt_serve_config {
    const bt_serve_auth *auth; /* NULL: no authentication */
    size_t max_body;           /* 0 = BT_SERVE_DEFAULT_MAX_BODY */
    int64_t now;               /* epoch seconds for SigV4 clock checks; 0 = real clock */
    bt_serve_log_fn log;       /* may be NULL */
    void *log_ctx;
    int log_requests;          /* the server logs one INFO line per request */
    /* the web view (docs/serve.md): GET pages, /api/ JSON and POST /login */
    int web;                   /* answer it (else those requests get the API's 404) */
    const char *ui_token;      /* web: the token the login form must be given; NULL = no
                                  login (loopback). Compared in constant time; never shown */
    int tls;                   /* web: served over TLS (the session cookie gets Secure) */
} bt_serve_config;

/* One HTTP request; everything borrowed. */
typedef struct bt_serve_request {
    const char *method;             /* "POST" */
    const char *path;               /* raw path as sent, without the query */
    const char *query;              /* raw query without '?', or NULL */
    const bt_sigv4_header *headers; /* names in any case */
    size_t nheaders;
    const char *body;
    size_t body_len;
    int body_too_large;      /* the transport stopped keeping the body at max_body */
    const char *body_sha256; /* with body_too_large: the hex SHA-256 of the whole
                                body as it was read (so the request is
                                authenticated before the 413), or NULL */
} bt_serve_request;

/* One response. Initialise with bt_serve_response_init; dispose when done. */
typedef struct bt_serve_response {
    int status;               /* HTTP status */
    bt_buf body;              /* JSON */
    char request_id[37];      /* for the x-amzn-RequestId header (a UUID) */
    const char *error_type;   /* static; NULL on success (also for X-Amzn-ErrorType) */
    const char *operation;    /* static operation name when recognised, else NULL */
    unsigned events;          /* events in the page */
    int close;                /* the connection should be closed after this response */
    char access_key_id[129];  /* the verified key id ("" without auth) */
    /* web view responses */
    const char *content_type; /* static; NULL = BT_SERVE_CONTENT_TYPE */
    int web;                  /* send the Content-Security-Policy and other page headers */
    char location[512];       /* a redirect's Location, or "" */
    char set_cookie[256];     /* a Set-Cookie value, or "" */
} bt_serve_response;

void bt_serve_response_init(bt_serve_response *r);
void bt_serve_response_dispose(bt_serve_response *r);

/*
 * Handles one request. store is a read-only store used by this thread only, or NULL
 * when it could not be opened (valid requests then get 500 InternalFailure).
 * scratch is an arena the handler resets and uses; it may be shared between calls
 * of one thread. resp must be initialised; its previous contents are replaced.
 */
void bt_serve_handle(const bt_serve_config *cfg, bt_store *store, bt_arena *scratch,
                     const bt_serve_request *req, bt_serve_response *resp);

/* --------------------------------------------------------------- web view -- */

/* The Content-Security-Policy the web view's pages are served with. */
extern const char bt_serve_web_csp[];

/*
 * The page of one build (the timeline drawn as SVG, errors, trigger, project changes,
 * calls) as HTML, appended to out. standalone: one self-contained file (stylesheet and
 * script inlined, allowed by their hashes in a CSP meta element; links to other builds
 * as text), as `build --output html` writes it; else the page the server sends (assets
 * from /static/). Every value from a record is escaped. 0 or BT_ENOMEM / BT_ELIMIT.
 */
int bt_serve_build_html(const bt_timeline *t, int standalone, bt_buf *out);

/* ----------------------------------------------------------------- server -- */

typedef struct bt_server bt_server;

typedef struct bt_server_opts {
    const char *store_path;   /* required; opened read-only by every pool thread */
    const char *listen;       /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
    unsigned port;            /* 0 = a free port (see bt_server_port) */
    unsigned threads;         /* pool size; 0 = one per online CPU */
    unsigned idle_timeout;    /* seconds before an idle connection is closed; 0 = 60 */
    unsigned header_timeout;  /* seconds a request's headers may take to arrive (also an
                                 idle keep-alive connection's wait); 0 = 5 */
    unsigned max_connections; /* in total; 0 = 4096, and always below the descriptor
                                 limit (RLIMIT_NOFILE) less a reserve */
    unsigned max_per_client;  /* per client address; 0 = a quarter of the total (>= 16) */
    bt_serve_config cfg;      /* auth, body cap, logging (pointers must outlive the server) */
    const char *tls_cert;     /* PEM certificate (chain) and key, both or neither: serve */
    const char *tls_key;      /* HTTPS (libmicrohttpd with GnuTLS); copied at start */
} bt_server_opts;

/*
 * Binds, listens and starts the pool. Returns 0 and *out (stop it with
 * bt_server_stop), or BT_EINVAL (bad address or options), BT_EIO (socket, bind or
 * listen failed: the message says why, e.g. address in use), BT_ENOMEM, BT_ERROR
 * (libmicrohttpd refused to start).
 */
int bt_server_start(const bt_server_opts *opts, bt_server **out, bt_error *err);
/* The bound port (useful after port 0). */
unsigned bt_server_port(const bt_server *s);
/* "http://127.0.0.1:8090" / "http://[::1]:8090" ("https://" with TLS) into buf. */
void bt_server_url(const bt_server *s, char *buf, size_t cap);
/* Stops accepting, finishes the requests in flight, joins the threads, closes the
 * stores and frees s. Accepts NULL. */
void bt_server_stop(bt_server *s);

#ifdef __cplusplus
}
#endif
#endif
