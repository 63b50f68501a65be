/*
 * http.c - the HTTP side of `buildtrail serve`: a libmicrohttpd daemon with an
 * internal thread pool, our own listening socket (so bind errors are precise and
 * port 0 works), request bodies collected up to the cap, and one read-only store
 * plus scratch arena per pool thread, opened on the thread's first request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/server.h"
#include "buildtrail/timeutil.h"
#include "server/server_int.h"
#include "util/crypto_dl.h"
#include "util/mhd_dl.h"

#define MAX_HEADERS 100
#define DEFAULT_IDLE_TIMEOUT 60
#define MAX_THREADS 256
#define DEFAULT_HEADER_TIMEOUT 5
#define DEFAULT_MAX_CONNECTIONS 4096
#define FD_RESERVE 64         /* descriptors kept for stores, logs, the listener */
#define LOG_INTERVAL_MS 10000 /* transport messages: at most one per interval */
#define MAX_DRAIN                                                                                  \
    ((size_t)64 << 20) /* a body over the cap is still read (and hashed, to                        \
                          authenticate) up to this much */

/* One open connection, for the header timeout (MHD's own timeout is for inactivity,
 * which a client sending a header line every few seconds never reaches). */
typedef struct track {
    struct track *prev, *next;
    int fd;
    int64_t since_ms; /* waiting for a request's headers since (0 = in a request) */
} track;

/* Per pool thread: its store and scratch arena. */
typedef struct worker {
    bt_store *store;
    bt_arena *arena;
    int open_failed;
    struct worker *next;
} worker;

struct bt_server {
    struct MHD_Daemon *d;
    bt_serve_config cfg;
    char *store_path;
    char *tls_cert, *tls_key; /* PEM, kept while the daemon runs */
    char addr[64];
    int ipv6;
    unsigned port;
    pthread_key_t key;
    int key_ok;
    pthread_mutex_t mu;
    worker *workers;
    /* header timeout: the open connections, and the thread that shuts down the slow */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    track *tracks;
    unsigned header_timeout;
    pthread_t reaper;
    int reaper_on, stopping;
    /* transport messages, rate limited */
    pthread_mutex_t lmu;
    int64_t log_ms;
    unsigned long suppressed;
};

/* Per connection request state (MHD's con_cls), created by the URI callback. */
typedef struct conn {
    char *uri;
    int started;
    int too_large;
    bt_buf body;
    EVP_MD_CTX *sha; /* over the body once it is over the cap */
    size_t drained;
    track *t;
} conn;


static void logf_(const bt_server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const bt_server *s, int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!s->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_ctx, level, line);
}

/* libmicrohttpd's error messages, passed to the log callback (its format strings
 * are its own constants). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const bt_server *s = cls;
    char line[1024];
    size_t n;
    if (!s->cfg.log)
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!s->cfg.log_requests) {
        /* aborted and refused connections come in floods: one line per interval */
        bt_server *m = (bt_server *)s;
        unsigned long skipped;
        int64_t now = bt_time_mono_ms();
        pthread_mutex_lock(&m->lmu);
        if (m->log_ms && now - m->log_ms < LOG_INTERVAL_MS) {
            m->suppressed++;
            pthread_mutex_unlock(&m->lmu);
            return;
        }
        skipped = m->suppressed;
        m->suppressed = 0;
        m->log_ms = now;
        pthread_mutex_unlock(&m->lmu);
        if (skipped && n + 64 < sizeof line)
            snprintf(line + n, sizeof line - n, " (%lu similar messages suppressed)", skipped);
    }
    s->cfg.log(s->cfg.log_ctx, BT_SERVE_LOG_ERROR, line);
}
#pragma GCC diagnostic pop

static worker *get_worker(bt_server *s)
{
    worker *w = pthread_getspecific(s->key);
    if (w)
        return w;
    w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->arena = bt_arena_new(256 << 10, 64u << 20);
    if (!w->arena) {
        free(w);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    w->next = s->workers;
    s->workers = w;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, w);
    return w;
}

static bt_store *worker_store(bt_server *s, worker *w)
{
    bt_error err = BT_ERROR_INIT;
    if (w->store)
        return w->store;
    if (bt_store_open(s->store_path, BT_STORE_READONLY, &w->store, &err)) {
        w->store = NULL;
        logf_(s, BT_SERVE_LOG_ERROR, "%s", err.msg);
    }
    return w->store;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    conn *k = calloc(1, sizeof *k);
    (void)cls;
    (void)c;
    if (!k)
        return NULL;
    {
        /* the request line is here; the headers have header_timeout from now */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        k->t = ci ? ci->socket_context : NULL;
    }
    k->uri = strdup(uri ? uri : "/");
    bt_buf_init(&k->body, 0);
    return k;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn *k = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (!k)
        return;
    if (k->t) {
        /* the connection now waits for its next request's headers */
        bt_server *s = cls;
        pthread_mutex_lock(&s->tmu);
        k->t->since_ms = bt_time_mono_ms();
        pthread_mutex_unlock(&s->tmu);
    }
    bt_buf_dispose(&k->body);
    EVP_MD_CTX_free(k->sha);
    free(k->uri);
    free(k);
    *con_cls = NULL;
}

/* Connection opened / closed: tracked for the header timeout. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    bt_server *s = cls;
    track *t = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || !(t = calloc(1, sizeof *t)))
            return;
        t->fd = ci->connect_fd;
        pthread_mutex_lock(&s->tmu);
        t->since_ms = bt_time_mono_ms();
        t->next = s->tracks;
        if (s->tracks)
            s->tracks->prev = t;
        s->tracks = t;
        pthread_mutex_unlock(&s->tmu);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && t) {
        pthread_mutex_lock(&s->tmu);
        if (t->prev)
            t->prev->next = t->next;
        else
            s->tracks = t->next;
        if (t->next)
            t->next->prev = t->prev;
        pthread_mutex_unlock(&s->tmu);
        free(t);
        *socket_context = NULL;
    }
}

/* Once a second: shuts down connections whose request headers are overdue (MHD then
 * closes them). Established requests are never touched. */
static void *reaper(void *arg)
{
    bt_server *s = arg;
    pthread_mutex_lock(&s->tmu);
    while (!s->stopping) {
        struct timespec ts;
        int64_t now = bt_time_mono_ms(), limit = (int64_t)s->header_timeout * 1000;
        track *t;
        unsigned long n = 0;
        for (t = s->tracks; t; t = t->next)
            if (t->since_ms && now - t->since_ms > limit && t->fd >= 0) {
                shutdown(t->fd, SHUT_RDWR);
                t->since_ms = 0;
                n++;
            }
        if (n && s->cfg.log_requests)
            logf_(s, BT_SERVE_LOG_INFO, "closed %lu connections whose headers took over %u s", n,
                  s->header_timeout);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->tcv, &s->tmu, &ts);
    }
    pthread_mutex_unlock(&s->tmu);
    return NULL;
}

typedef struct hdrs {
    bt_sigv4_header h[MAX_HEADERS];
    size_t n;
} hdrs;

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    hdrs *h = cls;
    (void)kind;
    if (h->n < MAX_HEADERS && key) {
        h->h[h->n].name = key;
        h->h[h->n].value = value ? value : "";
        h->n++;
    }
    return MHD_YES;
}


/* The web view's headers: a strict CSP and friends, a redirect, the session cookie. */
static void add_web_headers(struct MHD_Response *mr, const bt_serve_response *r)
{
    MHD_add_response_header(mr, "Content-Security-Policy", bt_serve_web_csp);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(mr, "X-Frame-Options", "DENY");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (r->location[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->set_cookie[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
}

/* A plain error without the handler (the request is malformed at the HTTP level). */
static enum MHD_Result respond_plain(struct MHD_Connection *c, unsigned status, const char *type,
                                     const char *msg)
{
    char body[256], rid[37];
    struct MHD_Response *mr;
    enum MHD_Result ret;
    int n = snprintf(body, sizeof body, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    mr = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!mr)
        return MHD_NO;
    bt_serve_request_id(rid);
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, BT_SERVE_CONTENT_TYPE);
    MHD_add_response_header(mr, "x-amzn-RequestId", rid);
    MHD_add_response_header(mr, "X-Amzn-ErrorType", type);
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result respond(bt_server *s, struct MHD_Connection *c, conn *k,
                               const char *method, int too_large)
{
    char sha_hex[65];
    bt_serve_request req;
    bt_serve_response resp;
    struct MHD_Response *mr;
    hdrs *h;
    worker *w;
    char *q, *body;
    size_t body_len;
    enum MHD_Result ret = MHD_NO;
    double t0 = (bt_time_mono_s() * 1e3);

    h = malloc(sizeof *h);
    if (!h)
        return MHD_NO;
    h->n = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, h);
    memset(&req, 0, sizeof req);
    req.method = method;
    q = strchr(k->uri, '?');
    if (q)
        *q++ = '\0';
    req.path = k->uri;
    req.query = q;
    req.headers = h->h;
    req.nheaders = h->n;
    req.body = k->body.data ? k->body.data : "";
    req.body_len = k->body.len;
    req.body_too_large = too_large;
    if (too_large && k->sha) {
        unsigned char md[32];
        unsigned int mdlen = 0, i;
        if (EVP_DigestFinal_ex(k->sha, md, &mdlen) == 1 && mdlen == 32) {
            for (i = 0; i < 32; i++)
                snprintf(sha_hex + 2 * i, 3, "%02x", md[i]);
            req.body_sha256 = sha_hex;
        }
    }

    bt_serve_response_init(&resp);
    w = get_worker(s);
    bt_serve_handle(&s->cfg, w ? worker_store(s, w) : NULL, w ? w->arena : NULL, &req, &resp);
    if (s->cfg.log && s->cfg.log_requests)
        logf_(s, BT_SERVE_LOG_INFO, "%s %s %s %d %s%s%u events %.1f ms%s%s request %s", method,
              req.path, resp.operation ? resp.operation : "-", resp.status,
              resp.error_type ? resp.error_type : "", resp.error_type ? " " : "", resp.events,
              (bt_time_mono_s() * 1e3) - t0, resp.access_key_id[0] ? " key " : "", resp.access_key_id,
              resp.request_id);

    body_len = resp.body.len;
    body = bt_buf_detach(&resp.body);
    if (!body) {
        body = NULL;
        body_len = 0;
    }
    mr = MHD_create_response_from_buffer(body_len, body ? body : (void *)"",
                                         body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(body);
        goto done;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp.content_type ? resp.content_type : BT_SERVE_CONTENT_TYPE);
    if (resp.web)
        add_web_headers(mr, &resp);
    MHD_add_response_header(mr, "x-amzn-RequestId", resp.request_id);
    if (resp.error_type)
        MHD_add_response_header(mr, "X-Amzn-ErrorType", resp.error_type);
    if (resp.close)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, (unsigned)resp.status, mr);
    MHD_destroy_response(mr);
done:
    bt_serve_response_dispose(&resp);
    free(h);
    return ret;
}

typedef struct cl_scan {
    const char *first;
    int conflict;
} cl_scan;

static enum MHD_Result on_cl(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    cl_scan *x = cls;
    (void)kind;
    if (!key || strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (!x->first)
        x->first = value ? value : "";
    else if (strcmp(x->first, value ? value : "") != 0)
        x->conflict = 1;
    return MHD_YES;
}

/* The Content-Length header; non-zero when several disagree (HTTP: answer 400). */
static int content_length(struct MHD_Connection *c, const char **out)
{
    cl_scan x = {NULL, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, on_cl, &x);
    *out = x.first;
    return x.conflict;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    bt_server *s = cls;
    conn *k = *con_cls;
    size_t max = s->cfg.max_body ? s->cfg.max_body : BT_SERVE_DEFAULT_MAX_BODY;
    (void)url;
    (void)version;

    if (!k)
        return MHD_NO; /* the URI callback could not allocate: drop the connection */
    if (!k->started) {
        const char *cl = NULL;
        k->started = 1;
        if (k->t) {
            pthread_mutex_lock(&s->tmu);
            k->t->since_ms = 0; /* headers complete: a request in progress */
            pthread_mutex_unlock(&s->tmu);
        }
        if (content_length(c, &cl))
            return respond_plain(c, 400, "BadRequest", "Conflicting Content-Length headers.");
        if (cl) {
            char *end;
            unsigned long long n;
            errno = 0;
            n = strtoull(cl, &end, 10);
            if (errno || end == cl || *end || n > max + MAX_DRAIN)
                return respond(s, c, k, method, 1); /* refuse before reading the body */
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!k->too_large && (k->body.len + *upload_data_size > max ||
                              bt_buf_append(&k->body, upload_data, *upload_data_size))) {
            /* over the cap: still read and hashed, so the 413 goes to an authenticated
             * client only; the kept part is hashed first */
            k->too_large = 1;
            if ((k->sha = EVP_MD_CTX_new()) && EVP_DigestInit_ex(k->sha, EVP_sha256(), NULL) == 1)
                EVP_DigestUpdate(k->sha, k->body.data ? k->body.data : "", k->body.len);
            k->drained = k->body.len;
            bt_buf_dispose(&k->body);
        }
        if (k->too_large) {
            k->drained += *upload_data_size;
            if (k->sha)
                EVP_DigestUpdate(k->sha, upload_data, *upload_data_size);
            if (k->drained > max + MAX_DRAIN)
                return MHD_NO; /* beyond any reason: dropped */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return respond(s, c, k, method, k->too_large);
}

/* Creates the listening socket on addr:port (IPv4 or IPv6 literal, "[::1]" allowed). */
static int make_listener(bt_server *s, const char *addr, unsigned port, int *fd_out,
                         bt_error *err)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    char host[64];
    size_t n = strlen(addr);
    int fd = -1, one = 1;

    memset(&ss, 0, sizeof ss);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof host) {
        memcpy(host, addr + 1, n - 2);
        host[n - 2] = '\0';
    } else if (n < sizeof host) {
        memcpy(host, addr, n + 1);
    } else {
        return bt_error_set(err, BT_EINVAL, "listen address '%.80s' is too long", addr);
    }
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        slen = sizeof *a;
        s->ipv6 = 0;
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        slen = sizeof *a;
        s->ipv6 = 1;
    } else {
        return bt_error_set(err, BT_EINVAL,
                            "listen address '%s' is not an IPv4 or IPv6 address (e.g. "
                            "127.0.0.1, ::1, 0.0.0.0)",
                            addr);
    }
    snprintf(s->addr, sizeof s->addr, "%s", host);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return bt_error_set(err, BT_EIO, "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s->ipv6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0) {
        int e = errno;
        close(fd);
        return bt_error_set(err, BT_EIO, "cannot listen on %s port %u: %s", addr, port,
                            strerror(e));
    }
    if (listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return bt_error_set(err, BT_EIO, "listen on %s port %u: %s", addr, port, strerror(e));
    }
    slen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

static void free_server(bt_server *s)
{
    worker *w, *next;
    if (!s)
        return;
    for (w = s->workers; w; w = next) {
        next = w->next;
        bt_store_close(w->store);
        bt_arena_free(w->arena);
        free(w);
    }
    if (s->key_ok)
        pthread_key_delete(s->key);
    while (s->tracks) {
        track *t = s->tracks;
        s->tracks = t->next;
        free(t);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->tmu);
    pthread_mutex_destroy(&s->lmu);
    pthread_cond_destroy(&s->tcv);
    free(s->store_path);
    free(s->tls_cert);
    if (s->tls_key) {
        memset(s->tls_key, 0, strlen(s->tls_key));
        free(s->tls_key);
    }
    free(s);
}

/* HTTPS with the PEM certificate and key of o (libmicrohttpd built with GnuTLS). */
static int tls_setup(bt_server *s, const bt_server_opts *o, unsigned *flags, bt_error *err)
{
    if (!o->tls_cert && !o->tls_key)
        return 0;
    if (!o->tls_cert || !o->tls_key)
        return bt_error_set(err, BT_EINVAL, "TLS needs both a certificate and a key");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return bt_error_set(err, BT_EINVAL,
                            "this libmicrohttpd was built without HTTPS (GnuTLS) support");
    s->tls_cert = strdup(o->tls_cert);
    s->tls_key = strdup(o->tls_key);
    if (!s->tls_cert || !s->tls_key)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    *flags |= MHD_USE_TLS;
    return 0;
}

/* Connections in total (below the descriptor limit, less a reserve per pool thread
 * for its store) and per client address. */
static void conn_limits(const bt_server_opts *o, unsigned threads, unsigned *total,
                        unsigned *per_client)
{
    struct rlimit rl;
    unsigned n = o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t room = rl.rlim_cur > FD_RESERVE + 4 * (rlim_t)threads + 16
                          ? rl.rlim_cur - FD_RESERVE - 4 * (rlim_t)threads
                          : 16;
        if (n > room)
            n = (unsigned)room;
    }
    *total = n;
    *per_client = o->max_per_client ? o->max_per_client : (n / 4 > 16 ? n / 4 : 16);
    if (*per_client > n)
        *per_client = n;
}

int bt_server_start(const bt_server_opts *o, bt_server **out, bt_error *err)
{
    bt_server *s;
    unsigned threads = o->threads, timeout = o->idle_timeout, max_conn, per_client;
    int fd = -1, rc;
    unsigned flags;
    struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL},
                                         {MHD_OPTION_END, 0, NULL},
                                         {MHD_OPTION_END, 0, NULL}};

    *out = NULL;
    if (!o->store_path)
        return bt_error_set(err, BT_EINVAL, "serve: no store");
    if ((rc = bt_mhd_load(err)))
        return rc;
    if (o->port > 65535)
        return bt_error_set(err, BT_EINVAL, "port %u is out of range (0-65535)", o->port);
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (!timeout)
        timeout = DEFAULT_IDLE_TIMEOUT;
    s = calloc(1, sizeof *s);
    if (!s)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->tmu, NULL);
    pthread_mutex_init(&s->lmu, NULL);
    pthread_cond_init(&s->tcv, NULL);
    s->header_timeout = o->header_timeout ? o->header_timeout : DEFAULT_HEADER_TIMEOUT;
    conn_limits(o, threads, &max_conn, &per_client);
    s->cfg = o->cfg;
    s->store_path = strdup(o->store_path);
    if (!s->store_path) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto fail;
    }
    if (pthread_key_create(&s->key, NULL) != 0) {
        rc = bt_error_set(err, BT_ERROR, "pthread_key_create failed");
        goto fail;
    }
    s->key_ok = 1;
    if ((rc = make_listener(s, o->listen ? o->listen : "127.0.0.1", o->port, &fd, err)))
        goto fail;
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
#ifdef __linux__
    flags |= MHD_USE_EPOLL;
#else
    flags |= MHD_USE_POLL;
#endif
    if (s->ipv6)
        flags |= MHD_USE_IPv6;
    if ((rc = tls_setup(s, o, &flags, err)))
        goto fail_fd;
    if (s->tls_cert) {
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
    }
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, s, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
                            timeout, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_LIMIT, max_conn,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client, MHD_OPTION_END);
    if (!s->d) {
        rc = bt_error_set(err, BT_ERROR, "the HTTP server (libmicrohttpd) did not start%s",
                          s->tls_cert ? " (is the TLS certificate and key a matching PEM pair?)"
                                      : "");
        goto fail_fd;
    }
    if (pthread_create(&s->reaper, NULL, reaper, s) == 0)
        s->reaper_on = 1;
    *out = s;
    return 0;
fail_fd:
    close(fd);
fail:
    free_server(s);
    return rc;
}

unsigned bt_server_port(const bt_server *s)
{
    return s ? s->port : 0;
}

void bt_server_url(const bt_server *s, char *buf, size_t cap)
{
    if (!s) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    if (s->ipv6)
        snprintf(buf, cap, "%s://[%s]:%u", s->tls_cert ? "https" : "http", s->addr, s->port);
    else
        snprintf(buf, cap, "%s://%s:%u", s->tls_cert ? "https" : "http", s->addr, s->port);
}

void bt_server_stop(bt_server *s)
{
    if (!s)
        return;
    if (s->reaper_on) {
        pthread_mutex_lock(&s->tmu);
        s->stopping = 1;
        pthread_cond_signal(&s->tcv);
        pthread_mutex_unlock(&s->tmu);
        pthread_join(s->reaper, NULL);
    }
    if (s->d)
        MHD_stop_daemon(s->d); /* joins the pool; closes the listening socket */
    free_server(s);
}
