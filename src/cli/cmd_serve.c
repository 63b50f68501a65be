/* cmd_serve.c - `buildtrail serve`: the CloudTrail LookupEvents API over the store, on
 * loopback by default, optionally requiring SigV4 signatures (--auth); runs until
 * SIGTERM or SIGINT, then shuts down cleanly (exit 0). */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/server.h"
#include "buildtrail/store.h"
#include "cli.h"

enum { O_LISTEN = 1, O_PORT, O_AUTH, O_MAX_BODY, O_UI_TOKEN, O_TLS_CERT, O_TLS_KEY, O_NO_UI };

#define DEFAULT_PORT 8090

static const cli_opt serve_opts[] = {
    {"listen", 0, OPT_VALUE, "ADDR", O_LISTEN,
     "Address to listen on: an IPv4 or IPv6 literal (default 127.0.0.1, loopback only). "
     "Anything else exposes the store: use --auth with it, and the web view then needs "
     "--ui-token and --tls-cert/--tls-key too (or --no-ui)."},
    {"port", 0, OPT_VALUE, "N", O_PORT,
     "TCP port (default 8090). 0 picks a free port; the URL is printed on stderr either way."},
    {"auth", 0, OPT_VALUE, "FILE", O_AUTH,
     "Require every request to be signed (SigV4, service cloudtrail, any region, 15 minutes "
     "of clock skew) with one of the keys in FILE: lines 'ACCESS_KEY_ID SECRET', '#' "
     "comments. Unsigned or badly signed requests get 403."},
    {"max-body", 0, OPT_VALUE, "BYTES", O_MAX_BODY,
     "Largest request body accepted (default 65536); larger ones get 413."},
    {"ui-token", 0, OPT_VALUE, "FILE", O_UI_TOKEN,
     "Protect the web view with the token in FILE (its first line, at least 16 characters): "
     "a login form sets an HttpOnly, SameSite=Strict cookie; scripts may send "
     "'Authorization: Bearer TOKEN'. Required for the web view off loopback."},
    {"tls-cert", 0, OPT_VALUE, "FILE", O_TLS_CERT,
     "Serve HTTPS with this PEM certificate (chain); with --tls-key. Required for the web "
     "view off loopback."},
    {"tls-key", 0, OPT_VALUE, "FILE", O_TLS_KEY, "The PEM private key of --tls-cert."},
    {"no-ui", 0, OPT_FLAG, NULL, O_NO_UI, "Answer only the LookupEvents API, no web view."},
};
static const cli_group serve_group = CLI_GROUP("Serve options", serve_opts);
static const cli_group *const serve_groups[] = {&serve_group, &cli_group_store,
                                                &cli_group_general, NULL};

static int cmd_serve(int argc, char **argv);

const cli_cmd cmd_serve_def = {
    "serve", cmd_serve, "serve the LookupEvents API from the store (AWS CLI, SDKs)",
    "serve [--listen ADDR] [--port N] [--auth FILE] [--ui-token FILE] [--tls-cert F --tls-key F]",
    "Answers the CloudTrail LookupEvents API (POST / with X-Amz-Target "
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents) from the store, "
    "so existing scripts and tools work unchanged with only an endpoint URL: years of "
    "history, no throttling. Events come newest first over an inclusive StartTime/EndTime; "
    "MaxResults is 1 to 50 (default 50); NextToken is opaque and bound to the other "
    "parameters; EventCategory insight returns Insights events. Errors have the service's "
    "types and messages. Extension: several LookupAttributes may be given and are ANDed. "
    "Events that an ingest adds while serve runs are visible to the next request. "
    "The same port answers a web view: / lists the builds (filters, sorting, pages, recent "
    "outcomes per project), /builds/<id> draws a build's timeline (phases, a lane per service "
    "its role session called, errors, the trigger, project changes before it), /events "
    "searches with the filters of 'search'; /api/builds, /api/builds/<id> (the bytes of "
    "'build <id> --output json') and /api/events answer JSON. Off loopback the web view "
    "needs --ui-token, --auth and --tls-cert/--tls-key (else serve refuses to start; "
    "--no-ui serves the API alone). "
    "Listens on 127.0.0.1 unless --listen says otherwise; prints 'listening on URL' on "
    "stderr when ready; SIGTERM or SIGINT stop it cleanly (exit 0). --threads sets the "
    "number of worker threads (default one per CPU); --debug logs one line per request "
    "(never a secret). See docs/serve.md.",
    serve_groups,
    "  buildtrail serve --port 8090 &\n"
    "  aws cloudtrail lookup-events --endpoint-url http://127.0.0.1:8090 --region us-east-1 "
    "\\\n      --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com\n"
    "  buildtrail serve --listen 0.0.0.0 --auth ~/.config/buildtrail/serve-keys --no-ui\n"
    "  buildtrail serve --listen 0.0.0.0 --auth keys --ui-token token --tls-cert c.pem "
    "--tls-key k.pem\n"};

typedef struct serve {
    cli_common c;
    const char *listen;
    unsigned port;
    const char *auth;
    size_t max_body;
    const char *ui_token, *tls_cert, *tls_key;
    int no_ui;
} serve;

static int parse_uint(const char *opt, const char *v, unsigned long long lo,
                      unsigned long long hi, unsigned long long *out)
{
    char *end;
    unsigned long long n;
    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        goto bad;
    n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        goto bad;
    *out = n;
    return 0;
bad:
    cli_err("--%s '%s': expected a whole number from %llu to %llu", opt, v, lo, hi);
    return -1;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    serve *s = ctx;
    unsigned long long n;
    int rc = cli_common_opt(&s->c, o, v);
    if (rc <= 0)
        return rc;
    switch (o->id) {
    case O_LISTEN: s->listen = v; return 0;
    case O_PORT:
        if (parse_uint(o->name, v, 0, 65535, &n))
            return -1;
        s->port = (unsigned)n;
        return 0;
    case O_AUTH: s->auth = v; return 0;
    case O_UI_TOKEN: s->ui_token = v; return 0;
    case O_TLS_CERT: s->tls_cert = v; return 0;
    case O_TLS_KEY: s->tls_key = v; return 0;
    case O_NO_UI: s->no_ui = 1; return 0;
    case O_MAX_BODY:
        if (parse_uint(o->name, v, 1024, 16u << 20, &n))
            return -1;
        s->max_body = (size_t)n;
        return 0;
    }
    return -1;
}

static void on_log(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level == BT_SERVE_LOG_ERROR)
        fprintf(stderr, "buildtrail: serve: %s\n", line);
    else if (cli_debug)
        fprintf(stderr, "buildtrail: debug: %s\n", line);
}

static int is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    char host[64];
    size_t n = strlen(addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof host) {
        memcpy(host, addr + 1, n - 2);
        host[n - 2] = '\0';
        addr = host;
    }
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

/* Reads a PEM file or the token file into b: 0 or an exit code after saying why. */
static int read_secret_file(const char *opt, const char *path, bt_buf *b)
{
    bt_error err = BT_ERROR_INIT;
    struct stat st;
    if (bt_buf_read_file(b, path, &err)) {
        cli_err("--%s: %s", opt, err.msg);
        return EXIT_USAGE;
    }
    if (strcmp(opt, "tls-cert") && stat(path, &st) == 0 && (st.st_mode & 077))
        cli_warn("%s file '%s' is readable by others (chmod 600 it)", opt, path);
    return EXIT_OK;
}

/* The web view's token and TLS files, and the rule that off loopback the web view needs
 * all of --ui-token, --auth and TLS. 0 or an exit code after saying why. */
static int web_setup(const serve *s, bt_buf *tok, bt_buf *cert, bt_buf *key)
{
    int code;
    size_t n;
    if (!s->tls_cert != !s->tls_key) {
        cli_err("serve: --tls-cert and --tls-key go together");
        return EXIT_USAGE;
    }
    if (s->tls_cert && ((code = read_secret_file("tls-cert", s->tls_cert, cert)) ||
                        (code = read_secret_file("tls-key", s->tls_key, key))))
        return code;
    if (s->ui_token) {
        if ((code = read_secret_file("ui-token", s->ui_token, tok)))
            return code;
        n = strcspn(tok->data ? tok->data : "", "\r\n");
        if (n < 16) {
            cli_err("--ui-token '%s': the token (the file's first line) must have at least 16 "
                    "characters", s->ui_token);
            return EXIT_USAGE;
        }
        tok->data[n] = '\0';
        tok->len = n;
    }
    if (!s->no_ui && s->listen && !is_loopback(s->listen) &&
        (!s->ui_token || !s->auth || !s->tls_cert)) {
        cli_err("serve: the web view off loopback ('%s') needs --ui-token, --auth and "
                "--tls-cert/--tls-key (or --no-ui to serve the API alone)", s->listen);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* --listen: an address literal as is; a host name resolved (localhost and the like),
 * IPv4 first, into buf. Returns the address to listen on, or NULL after a message. */
static const char *resolve_listen(const char *name, char *buf, size_t cap)
{
    struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
    struct in6_addr a6;
    struct in_addr a4;
    int rc;
    if (!name || inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1 ||
        name[0] == '[')
        return name;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(name, NULL, &hints, &res)) != 0) {
        cli_err("--listen '%s': %s", name, gai_strerror(rc));
        return NULL;
    }
    for (ai = res; ai; ai = ai->ai_next)
        if (!pick || (ai->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = ai;
    if (!pick || getnameinfo(pick->ai_addr, pick->ai_addrlen, buf, (socklen_t)cap, NULL, 0,
                             NI_NUMERICHOST) != 0) {
        freeaddrinfo(res);
        cli_err("--listen '%s': no usable address", name);
        return NULL;
    }
    freeaddrinfo(res);
    return buf;
}

static int cmd_serve(int argc, char **argv)
{
    serve s;
    char **pos = NULL, *path = NULL;
    int npos = 0, rc, code = EXIT_OK, sig;
    bt_store *probe = NULL;
    bt_serve_auth *auth = NULL;
    bt_server *srv = NULL;
    bt_server_opts so;
    bt_error err = BT_ERROR_INIT;
    sigset_t set, old;
    char url[128], addr[INET6_ADDRSTRLEN + 1];
    bt_buf tok = BT_BUF_INIT, cert = BT_BUF_INIT, key = BT_BUF_INIT;

    memset(&s, 0, sizeof s);
    cli_common_init(&s.c);
    s.port = DEFAULT_PORT;
    rc = cli_parse(&cmd_serve_def, argc, argv, on_opt, &s, &pos, &npos);
    if (rc) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (npos) {
        cli_err("serve: unexpected argument '%s'", pos[0]);
        code = EXIT_USAGE;
        goto done;
    }
    if (s.listen && !(s.listen = resolve_listen(s.listen, addr, sizeof addr))) {
        code = EXIT_USAGE;
        goto done;
    }
    if (!(path = cli_store_path(&s.c))) {
        code = EXIT_ERROR;
        goto done;
    }
    /* the store must exist now; each worker thread opens its own handle later */
    if (cli_store_open(path, BT_STORE_READONLY, &probe, &err)) {
        code = cli_fail(&err, EXIT_NOSTORE);
        goto done;
    }
    bt_store_close(probe);
    if (s.auth) {
        struct stat st;
        if (bt_serve_auth_load(s.auth, &auth, &err)) {
            code = cli_fail(&err, err.code == BT_EIO ? EXIT_ERROR : EXIT_USAGE);
            goto done;
        }
        if (stat(s.auth, &st) == 0 && (st.st_mode & 077))
            cli_warn("auth file '%s' is readable by others (chmod 600 it)", s.auth);
    } else if (s.listen && !is_loopback(s.listen)) {
        cli_warn("serving on '%s' without --auth: anyone who can reach it can read the store",
                 s.listen);
    }

    if ((code = web_setup(&s, &tok, &cert, &key)))
        goto done;

    memset(&so, 0, sizeof so);
    so.cfg.web = !s.no_ui;
    so.cfg.ui_token = s.ui_token ? tok.data : NULL;
    so.cfg.tls = s.tls_cert != NULL;
    so.tls_cert = s.tls_cert ? cert.data : NULL;
    so.tls_key = s.tls_cert ? key.data : NULL;
    so.store_path = path;
    so.listen = s.listen;
    so.port = s.port;
    so.threads = (unsigned)s.c.threads;
    so.cfg.auth = auth;
    so.cfg.max_body = s.max_body;
    so.cfg.log = on_log;
    so.cfg.log_requests = cli_debug;

    /* SIGTERM/SIGINT are taken with sigwait: block them before the pool threads start
     * so that they inherit the mask */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    if (bt_server_start(&so, &srv, &err)) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        code = cli_fail(&err, err.code == BT_EINVAL ? EXIT_USAGE : EXIT_ERROR);
        goto done;
    }
    bt_server_url(srv, url, sizeof url);
    fprintf(stderr, "listening on %s\n", url);
    fflush(stderr);
    for (;;) {
        if (sigwait(&set, &sig) == 0 && (sig == SIGTERM || sig == SIGINT))
            break;
    }
    if (!cli_quiet)
        fprintf(stderr, "buildtrail: serve: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    bt_server_stop(srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
done:
    if (tok.data)
        memset(tok.data, 0, tok.alloc);
    if (key.data)
        memset(key.data, 0, key.alloc);
    bt_buf_dispose(&tok);
    bt_buf_dispose(&cert);
    bt_buf_dispose(&key);
    bt_serve_auth_free(auth);
    free(path);
    free(pos);
    return code;
}
