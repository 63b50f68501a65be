/*
 * web_short.c - short build ids in the web view, as `buildtrail build 288088e1` takes
 * them (bt_build_resolve_short): /builds/<prefix> and /builds/<project>:<prefix>
 * redirect (302) to the build's own page /builds/<uuid> when one build starts so, and
 * list the builds that do (300 Multiple Choices, each linked) when several do. The same
 * for /api/builds/<prefix>, the list there as JSON.
 */
#include <stdio.h>
#include <string.h>

#include "buildtrail/builds.h"
#include "server/web_int.h"

#define WEB_SHORT_MAX 100 /* candidates listed */

static int candidates_json(bt_buf *b, const char *arg, const bt_build_match *m, size_t shown,
                           size_t n)
{
    char msg[160];
    size_t i;
    int rc;
    snprintf(msg, sizeof msg, "%zu builds start with '%.60s': give more of the uuid", n, arg);
    rc = bt_buf_puts(b, "{\"message\": ");
    rc |= bt_json_write_string(b, msg, strlen(msg), 0);
    rc |= bt_buf_puts(b, ", \"Builds\": [");
    for (i = 0; i < shown; i++) {
        rc |= bt_buf_puts(b, i ? ", " : "");
        rc |= bt_json_write_string(b, m[i].build_id, strlen(m[i].build_id), 0);
    }
    return rc | bt_buf_puts(b, "]}\n");
}

static int candidates_page(bt_buf *b, const char *arg, const bt_build_match *m, size_t shown,
                           size_t n)
{
    char when[32];
    size_t i;
    int rc = web_page_open(b, "Which build? - buildtrail", "builds", 0);
    rc |= bt_buf_printf(b, "<h1>%zu builds start with <code>", n);
    rc |= web_esc(b, arg);
    rc |= bt_buf_puts(b, "</code></h1><p>Pick one, or give more of its uuid.</p>"
                         "<div class=\"wrap\"><table class=\"builds\" id=\"candidates\"><thead>"
                         "<tr><th>Build</th><th>Project</th><th>Started (UTC)</th>"
                         "<th>Outcome</th></tr></thead><tbody>");
    for (i = 0; i < shown; i++) {
        web_time(m[i].start_ms, when);
        rc |= bt_buf_puts(b, "<tr><td><a href=\"/builds/");
        rc |= web_urlenc(b, m[i].uuid);
        rc |= bt_buf_puts(b, "\">");
        rc |= web_esc(b, m[i].build_id);
        rc |= bt_buf_puts(b, "</a></td><td>");
        rc |= web_esc(b, m[i].project);
        rc |= bt_buf_printf(b,
                            "</td><td class=\"mono\">%s</td><td><span class=\"st %s\">%s"
                            "</span></td></tr>",
                            m[i].start_ms ? when : "-", m[i].status ? m[i].status : "UNKNOWN",
                            m[i].status ? m[i].status : "unknown");
    }
    rc |= bt_buf_puts(b, "</tbody></table></div>");
    if (n > shown)
        rc |= bt_buf_printf(b, "<p>and %zu more.</p>", n - shown);
    return rc | web_page_close(b, 0);
}

int web_build_short(bt_store *s, bt_arena *a, const char *arg, int api, bt_serve_response *r)
{
    bt_build_match m[WEB_SHORT_MAX];
    bt_error err = BT_ERROR_INIT;
    size_t n = 0;
    int rc;

    if (!bt_build_short_prefix(arg))
        return 0;
    rc = bt_build_resolve_short(s, arg, a, m, WEB_SHORT_MAX, &n, &err);
    if (rc) {
        web_error(r, 500, api, rc == BT_ENOMEM ? "out of memory" : "the store failed");
    } else if (n == 0) {
        web_error(r, 404, api, "no build in the store starts with that");
    } else if (n == 1) {
        r->status = 302;
        r->web = 1;
        snprintf(r->location, sizeof r->location, "%s/builds/%s", api ? "/api" : "", m[0].uuid);
    } else {
        r->status = 300;
        r->web = 1;
        r->content_type = api ? "application/json" : "text/html; charset=utf-8";
        bt_buf_clear(&r->body);
        rc = api ? candidates_json(&r->body, arg, m, n < WEB_SHORT_MAX ? n : WEB_SHORT_MAX, n)
                 : candidates_page(&r->body, arg, m, n < WEB_SHORT_MAX ? n : WEB_SHORT_MAX, n);
        if (rc)
            web_error(r, 500, api, "out of memory");
    }
    return 1;
}
