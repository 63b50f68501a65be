/* web_int.h - internals of the web view of `serve` (src/server/web*.c, not installed):
 * context-aware escaping, the page shell, the request's query string, and the pages. */
#ifndef BT_WEB_INT_H
#define BT_WEB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/builds.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"

/* The one stylesheet and the one script (also inlined into standalone reports). */
extern const char bt_web_css[];
extern const char bt_web_js[];

/* ---- escaping: every value that comes from a record goes through one of these ---- */

/* HTML text and double-quoted attribute values (also inside inline SVG): & < > " '
 * escaped; control characters other than tab/newline dropped; invalid UTF-8 bytes shown
 * as U+FFFD. NULL prints nothing. */
int web_esc(bt_buf *b, const char *s);
int web_escn(bt_buf *b, const char *s, size_t n);
/* Like web_esc, at most max characters, with "..." when cut. */
int web_esc_cut(bt_buf *b, const char *s, size_t max);
/* A URL query value (percent-encoding of everything but unreserved characters). The
 * result is safe inside a double-quoted attribute. */
int web_urlenc(bt_buf *b, const char *s);

/* "2026-10-01 12:03:04" (UTC) into out. */
void web_time(int64_t ms, char out[32]);
/* A duration as "4m07s" / "12.3s" / "850ms". */
void web_dur(int64_t ms, char out[32]);

/* ---- query strings ---- */

#define WEB_MAX_PARAMS 64

typedef struct web_params {
    const char *name[WEB_MAX_PARAMS];
    const char *value[WEB_MAX_PARAMS]; /* percent-decoded, '+' as space, in the arena */
    size_t n;
} web_params;

/* Parses a query string (or a form body) into p, strings in a. 0 or BT_ENOMEM. */
int web_params_parse(bt_arena *a, const char *q, size_t len, web_params *p);
/* The first value of name with a non-empty value, or NULL. */
const char *web_param(const web_params *p, const char *name);

/* ---- page shell ---- */

enum { WEB_STANDALONE = 1 }; /* CSS and JS inlined (with a CSP meta of their hashes) */

/* <!doctype html> ... <body><header>...</header><main>; title escaped. */
int web_page_open(bt_buf *b, const char *title, const char *nav_current, unsigned flags);
/* </main> ... </html>. */
int web_page_close(bt_buf *b, unsigned flags);

/* The Content-Security-Policy header value for served pages. */
#define WEB_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* ---- pages (the response body in r->body; status and content type set) ---- */

void web_builds_page(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r);
void web_builds_api(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r);
void web_events_page(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r);
void web_events_api(bt_store *s, bt_arena *a, const web_params *p, bt_serve_response *r);
/* /builds/<arg> (api: /api/builds/<arg>) when arg is a short build id: the response is
 * a redirect to the build's page, the candidates (300) or 404; returns 1. Returns 0
 * (r untouched) when arg is not a short id. */
int web_build_short(bt_store *s, bt_arena *a, const char *arg, int api, bt_serve_response *r);
/* The build page body for t (shared by the server and the standalone report). */
int web_build_render(const bt_timeline *t, unsigned flags, bt_buf *b);

/* An error page (or JSON error for /api) with status and a plain message. */
void web_error(bt_serve_response *r, int status, int json, const char *msg);

#endif
