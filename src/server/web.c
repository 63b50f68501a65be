/*
 * web.c - the web view of `serve`: routing of its paths (pages, /api/ JSON, /static/
 * assets, the login), the UI token check (a login form that sets an HttpOnly,
 * SameSite=Strict session cookie derived from the token, or "Authorization: Bearer
 * TOKEN" for scripts), query-string parsing and error pages. The pages themselves are
 * in web_builds.c, web_build.c, web_events.c and web_short.c (short build ids);
 * escaping and the shell in web_html.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buildtrail/filter.h"
#include "buildtrail/format.h"
#include "server/server_int.h"
#include "server/web_int.h"
#include "util/crypto_dl.h"

#define COOKIE "bt_session"
#define SESSION_MSG "buildtrail web session v1"

const char bt_serve_web_csp[] = WEB_CSP;

int bt_web_wants(const bt_serve_request *req)
{
    if (!req->method || !req->path)
        return 0;
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return 1;
    return strcmp(req->method, "POST") == 0 && strcmp(req->path, "/login") == 0;
}

static const char *header(const bt_serve_request *req, const char *name)
{
    size_t i;
    for (i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

void web_error(bt_serve_response *r, int status, int json, const char *msg)
{
    bt_buf_clear(&r->body);
    r->status = status;
    r->web = 1;
    if (json) {
        r->content_type = "application/json";
        bt_buf_puts(&r->body, "{\"message\": ");
        bt_json_write_string(&r->body, msg, strlen(msg), 0);
        bt_buf_puts(&r->body, "}\n");
        return;
    }
    r->content_type = "text/html; charset=utf-8";
    web_page_open(&r->body, "buildtrail", NULL, 0);
    bt_buf_puts(&r->body, "<h1>");
    web_esc(&r->body, msg);
    bt_buf_puts(&r->body, "</h1><p><a href=\"/\">Builds</a></p>");
    web_page_close(&r->body, 0);
}

/* ---- the UI token ---- */

/* The session value for token: hex HMAC-SHA256(token, SESSION_MSG). */
static void session_value(const char *token, char out[65])
{
    unsigned char mac[32];
    unsigned int n = 0, i;
    HMAC(EVP_sha256(), token, (int)strlen(token), (const unsigned char *)SESSION_MSG,
         strlen(SESSION_MSG), mac, &n);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    OPENSSL_cleanse(mac, sizeof mac);
}

/* Constant-time: does the given token equal the configured one? (Both are hashed first
 * so neither length nor content leaks through timing.) */
static int token_ok(const char *want, const char *given, size_t len)
{
    char a[65], b[65], *g = malloc(len + 1);
    int ok;
    if (!g)
        return 0;
    memcpy(g, given, len);
    g[len] = '\0';
    session_value(want, a);
    session_value(g, b);
    ok = CRYPTO_memcmp(a, b, 64) == 0;
    OPENSSL_cleanse(g, len);
    free(g);
    OPENSSL_cleanse(b, sizeof b);
    return ok;
}

/* Does the request carry the session cookie or the bearer token? */
static int authorised(const bt_serve_config *cfg, const bt_serve_request *req)
{
    const char *c = header(req, "cookie"), *h = header(req, "authorization");
    char want[65];
    int ok = 0;
    if (!cfg->ui_token)
        return 1;
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        return token_ok(cfg->ui_token, h + 7, strlen(h + 7));
    session_value(cfg->ui_token, want);
    while (c && *c) {
        const char *end;
        while (*c == ' ' || *c == ';')
            c++;
        end = c + strcspn(c, ";");
        if ((size_t)(end - c) == sizeof COOKIE + 64 && strncmp(c, COOKIE "=", sizeof COOKIE) == 0)
            ok |= CRYPTO_memcmp(c + sizeof COOKIE, want, 64) == 0;
        c = end;
    }
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

/* A local path to go back to after the login: "/" unless next is a plain path. */
static const char *safe_next(const char *next)
{
    const char *p;
    if (!next || next[0] != '/' || next[1] == '/' || strlen(next) > 400)
        return "/";
    for (p = next; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.:?=&%+~",
                    *p))
            return "/";
    return next;
}

static void login_page(bt_serve_response *r, int status, const char *next, const char *msg)
{
    bt_buf *b = &r->body;
    bt_buf_clear(b);
    r->status = status;
    r->web = 1;
    r->content_type = "text/html; charset=utf-8";
    web_page_open(b, "Sign in - buildtrail", NULL, 0);
    bt_buf_puts(b, "<h1>Sign in</h1>");
    if (msg) {
        bt_buf_puts(b, "<p class=\"bad\" role=\"alert\" id=\"login-error\">");
        web_esc(b, msg);
        bt_buf_puts(b, "</p>");
    }
    bt_buf_puts(b, "<form method=\"post\" action=\"/login\" class=\"login\"><label>UI token "
                   "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" "
                   "required autofocus></label><input type=\"hidden\" name=\"next\" value=\"");
    web_esc(b, safe_next(next));
    bt_buf_puts(b, "\"><button type=\"submit\">Sign in</button></form>");
    web_page_close(b, 0);
}

static void login_post(const bt_serve_config *cfg, bt_arena *a, const bt_serve_request *req,
                       bt_serve_response *r)
{
    web_params p;
    const char *tok, *next;
    if (web_params_parse(a, req->body, req->body_len, &p)) {
        web_error(r, 500, 0, "out of memory");
        return;
    }
    tok = web_param(&p, "token");
    next = safe_next(web_param(&p, "next"));
    if (!cfg->ui_token) {
        r->status = 303;
        snprintf(r->location, sizeof r->location, "%s", next);
        return;
    }
    if (!tok || !token_ok(cfg->ui_token, tok, strlen(tok))) {
        login_page(r, 403, next, "That token is not right.");
        return;
    }
    {
        char v[65];
        session_value(cfg->ui_token, v);
        snprintf(r->set_cookie, sizeof r->set_cookie,
                 COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", v, cfg->tls ? "; Secure" : "");
        OPENSSL_cleanse(v, sizeof v);
    }
    r->status = 303;
    r->web = 1;
    snprintf(r->location, sizeof r->location, "%s", next);
}

/* ---- routes ---- */

static void asset(bt_serve_response *r, const char *type, const char *text)
{
    r->status = 200;
    r->web = 1;
    r->content_type = type;
    bt_buf_puts(&r->body, text);
}

/* /builds/<id> and /api/builds/<id>; a short id (288088e1) resolves in web_short.c */
static void build_route(bt_store *s, bt_arena *a, const char *id, int api, bt_serve_response *r)
{
    bt_error err = BT_ERROR_INIT;
    bt_timeline *t = NULL;
    const char *u;
    char uuid[37];
    web_params none;
    int rc;

    if (web_params_parse(a, id, strlen(id), &none) || none.n != 1)
        u = NULL;
    else if (!(u = bt_filter_build_uuid(none.name[0])) &&
             web_build_short(s, a, none.name[0], api, r))
        return; /* a short id: redirected, or the candidates */
    if (!u || strlen(u) != 36) {
        web_error(r, 404, api,
                  "not a build id (project:uuid, uuid, a unique prefix of one, or build ARN)");
        return;
    }
    snprintf(uuid, sizeof uuid, "%s", u);
    rc = bt_build_timeline(s, uuid, NULL, &t, &err);
    if (rc == BT_ENOTFOUND) {
        web_error(r, 404, api, "no such build in the store");
        return;
    }
    if (rc) {
        web_error(r, 500, api, rc == BT_ENOMEM ? "out of memory" : "the store failed");
        return;
    }
    r->status = 200;
    r->web = 1;
    if (api) {
        bt_format_opts fo = BT_FORMAT_OPTS_INIT;
        bt_json *doc = bt_timeline_to_json(a, t);
        fo.title = "Build";
        r->content_type = "application/json";
        if (!doc || bt_format_write(&r->body, doc, &fo, &err))
            web_error(r, 500, 1, "out of memory");
    } else {
        r->content_type = "text/html; charset=utf-8";
        if (web_build_render(t, 0, &r->body))
            web_error(r, 500, 0, "out of memory");
    }
    bt_timeline_free(t);
}

static void route(bt_store *s, bt_arena *a, const bt_serve_request *req, bt_serve_response *r)
{
    const char *path = req->path;
    web_params p;
    int api = strncmp(path, "/api/", 5) == 0;

    if (web_params_parse(a, req->query, req->query ? strlen(req->query) : 0, &p)) {
        web_error(r, 500, api, "out of memory");
        return;
    }
    if (!s) {
        web_error(r, 500, api, "the store could not be opened");
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/builds") == 0)
        web_builds_page(s, a, &p, r);
    else if (strcmp(path, "/api/builds") == 0)
        web_builds_api(s, a, &p, r);
    else if (strncmp(path, "/builds/", 8) == 0)
        build_route(s, a, path + 8, 0, r);
    else if (strncmp(path, "/api/builds/", 12) == 0)
        build_route(s, a, path + 12, 1, r);
    else if (strcmp(path, "/events") == 0)
        web_events_page(s, a, &p, r);
    else if (strcmp(path, "/api/events") == 0)
        web_events_api(s, a, &p, r);
    else
        web_error(r, 404, api, "no such page");
}

void bt_web_handle(const bt_serve_config *cfg, bt_store *store, bt_arena *scratch,
                   const bt_serve_request *req, bt_serve_response *r)
{
    const char *path = req->path;
    r->web = 1;
    r->operation = "web";
    if (strcmp(path, "/static/web.css") == 0) {
        asset(r, "text/css; charset=utf-8", bt_web_css);
        return;
    }
    if (strcmp(path, "/static/web.js") == 0) {
        asset(r, "text/javascript; charset=utf-8", bt_web_js);
        return;
    }
    if (strcmp(path, "/login") == 0) {
        web_params p;
        if (strcmp(req->method, "POST") == 0)
            login_post(cfg, scratch, req, r);
        else if (web_params_parse(scratch, req->query, req->query ? strlen(req->query) : 0, &p))
            web_error(r, 500, 0, "out of memory");
        else
            login_page(r, 200, web_param(&p, "next"), NULL);
        return;
    }
    if (!authorised(cfg, req)) {
        if (strncmp(path, "/api/", 5) == 0) {
            web_error(r, 401, 1,
                      "sign in first: the cookie from /login, or Authorization: "
                      "Bearer TOKEN");
            return;
        }
        bt_buf next = BT_BUF_INIT;
        bt_buf_puts(&next, path);
        if (req->query) {
            bt_buf_putc(&next, '?');
            bt_buf_puts(&next, req->query);
        }
        r->status = 303;
        bt_buf_puts(&r->body, "/login?next=");
        web_urlenc(&r->body, next.data ? safe_next(next.data) : "/");
        snprintf(r->location, sizeof r->location, "%s", r->body.data ? r->body.data : "/login");
        bt_buf_clear(&r->body);
        bt_buf_dispose(&next);
        return;
    }
    route(store, scratch, req, r);
}
