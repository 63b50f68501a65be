/*
 * web_html.c - the building blocks of the web view's HTML: escaping for each context a
 * record value can land in (HTML text and attributes, inline SVG, URL query values),
 * query-string parsing, times and durations, and the page shell with the one stylesheet
 * and the one script (served from /static/, or inlined with a CSP of their hashes in a
 * standalone report).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buildtrail/buf.h"
#include "buildtrail/aws_s3.h"
#include "server/web_int.h"
#include "util/crypto_dl.h"

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k, i;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 4;
    else
        return 0;
    if (k > n)
        return 0;
    for (i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((k == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (k == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
        (k == 4 && s[0] == 0xf0 && s[1] < 0x90) || (k == 4 && s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return k;
}

int web_escn(bt_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = 0;
    if (!s)
        return 0;
    while (i < n && !rc) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t k = 1;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                rep = "";
            else if (c == 0x7f)
                rep = "";
            else if (c >= 0x80 && !(k = utf8_len(p + i, n - i))) {
                rep = "\xef\xbf\xbd";
                k = 1;
            }
        }
        if (!rep) {
            run += k;
            i += k;
            continue;
        }
        if (run)
            rc = bt_buf_append(b, p + i - run, run);
        run = 0;
        if (!rc)
            rc = bt_buf_puts(b, rep);
        i += k;
    }
    if (run && !rc)
        rc = bt_buf_append(b, p + i - run, run);
    return rc;
}

int web_esc(bt_buf *b, const char *s)
{
    return s ? web_escn(b, s, strlen(s)) : 0;
}

int web_esc_cut(bt_buf *b, const char *s, size_t max)
{
    size_t n, i = 0, chars = 0;
    if (!s)
        return 0;
    n = strlen(s);
    while (i < n && chars < max) {
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        i += k ? k : 1;
        chars++;
    }
    if (i >= n)
        return web_escn(b, s, n);
    return web_escn(b, s, i) || bt_buf_puts(b, "\xe2\x80\xa6");
}

int web_urlenc(bt_buf *b, const char *s)
{
    return s ? bt_s3_encode_query(b, s) : 0; /* unreserved kept, everything else %XX */
}

/* ---- query strings ---- */

/* Percent-decodes s[0..n) into the arena ('+' is a space). */
static char *decode(bt_arena *a, const char *s, size_t n)
{
    char *out = bt_arena_alloc(a, n + 1), *o = out;
    size_t i;
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && bt_hex_value(s[i + 1]) >= 0 &&
                   bt_hex_value(s[i + 2]) >= 0) {
            char c = (char)(bt_hex_value(s[i + 1]) * 16 + bt_hex_value(s[i + 2]));
            if (c)
                *o++ = c;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int web_params_parse(bt_arena *a, const char *q, size_t len, web_params *p)
{
    size_t i = 0;
    p->n = 0;
    while (q && i < len && p->n < WEB_MAX_PARAMS) {
        size_t end = i, eq;
        while (end < len && q[end] != '&' && q[end] != ';')
            end++;
        for (eq = i; eq < end && q[eq] != '='; eq++)
            ;
        if (end > i) {
            p->name[p->n] = decode(a, q + i, eq - i);
            p->value[p->n] = eq < end ? decode(a, q + eq + 1, end - eq - 1) : decode(a, "", 0);
            if (!p->name[p->n] || !p->value[p->n])
                return BT_ENOMEM;
            p->n++;
        }
        i = end + 1;
    }
    return 0;
}

const char *web_param(const web_params *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->n; i++)
        if (strcmp(p->name[i], name) == 0 && p->value[i][0])
            return p->value[i];
    return NULL;
}

/* ---- times ---- */

void web_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!ms || !gmtime_r(&t, &tm)) {
        snprintf(out, 32, "-");
        return;
    }
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

void web_dur(int64_t ms, char out[32])
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf(out, 32, "%dms", (int)ms);
    else if (ms < 60000)
        snprintf(out, 32, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(out, 32, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
    else
        snprintf(out, 32, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000 % 60));
}

/* ---- the page shell ---- */

/* 'sha256-BASE64' of s into out. */
static void csp_hash(const char *s, char out[64])
{
    unsigned char md[32];
    unsigned int n = 0;
    char b64[48];
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    EVP_EncodeBlock((unsigned char *)b64, md, 32);
    snprintf(out, 64, "'sha256-%s'", b64);
}

int web_page_open(bt_buf *b, const char *title, const char *nav_current, unsigned flags)
{
    int rc = bt_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<meta name=\"viewport\" content=\"width=device-width, "
                            "initial-scale=1\"><meta name=\"color-scheme\" content=\"light "
                            "dark\">");
    if (flags & WEB_STANDALONE) {
        char hs[64], hj[64];
        csp_hash(bt_web_css, hs);
        csp_hash(bt_web_js, hj);
        rc |= bt_buf_printf(b,
                            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                            "'none'; style-src %s; script-src %s; img-src data:; base-uri "
                            "'none'; form-action 'none'\">",
                            hs, hj);
        rc |= bt_buf_printf(b, "<style>%s</style>", bt_web_css);
    } else {
        rc |= bt_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/web.css\">"
                             "<script src=\"/static/web.js\" defer></script>");
    }
    rc |= bt_buf_puts(b, "<title>");
    rc |= web_esc(b, title);
    rc |= bt_buf_puts(b, "</title></head><body><a class=\"skip\" href=\"#main\">Skip to "
                         "content</a><header><span class=\"brand\">buildtrail</span>");
    if (!(flags & WEB_STANDALONE))
        rc |= bt_buf_printf(
            b,
            "<nav aria-label=\"main\"><a href=\"/\"%s>Builds</a><a "
            "href=\"/events\"%s>Events</a></nav>",
            nav_current && strcmp(nav_current, "builds") == 0 ? " aria-current=\"page\"" : "",
            nav_current && strcmp(nav_current, "events") == 0 ? " aria-current=\"page\"" : "");
    rc |= bt_buf_puts(b, "</header><main id=\"main\">");
    return rc ? BT_ENOMEM : 0;
}

int web_page_close(bt_buf *b, unsigned flags)
{
    int rc = bt_buf_puts(b, "</main>");
    if (flags & WEB_STANDALONE)
        rc |= bt_buf_printf(b, "<script>%s</script>", bt_web_js);
    rc |= bt_buf_puts(b, "</body></html>\n");
    return rc ? BT_ENOMEM : 0;
}
