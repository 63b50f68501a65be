/* awsutil.c - small helpers of the AWS layer: credential structs, responses, ISO 8601
 * parsing, form encoding, shell-style splitting, environment, clocks, jitter. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/aws_int.h"
#include "util/crypto_dl.h"

/* ---- credentials ---- */

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void bt_aws_creds_dispose(bt_aws_creds *c)
{
    if (!c)
        return;
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof *c);
}

int bt_aws_creds_set(bt_aws_creds *dst, const char *akid, const char *secret, const char *token,
                     int64_t expiration, const char *source)
{
    memset(dst, 0, sizeof *dst);
    dst->access_key_id = strdup(akid ? akid : "");
    dst->secret_access_key = strdup(secret ? secret : "");
    dst->session_token = token && *token ? strdup(token) : NULL;
    dst->expiration = expiration;
    snprintf(dst->source, sizeof dst->source, "%s", source ? source : "");
    if (!dst->access_key_id || !dst->secret_access_key ||
        (token && *token && !dst->session_token)) {
        bt_aws_creds_dispose(dst);
        return BT_ENOMEM;
    }
    return 0;
}

int bt_aws_creds_copy(bt_aws_creds *dst, const bt_aws_creds *src)
{
    int rc = bt_aws_creds_set(dst, src->access_key_id, src->secret_access_key, src->session_token,
                              src->expiration, src->source);
    if (rc == 0)
        memcpy(dst->account_id, src->account_id, sizeof dst->account_id);
    return rc;
}

/* ---- responses ---- */

void bt_aws_response_init(bt_aws_response *r)
{
    memset(r, 0, sizeof *r);
    bt_buf_init(&r->body, 0);
}

void bt_aws_response_dispose(bt_aws_response *r)
{
    if (!r)
        return;
    bt_buf_dispose(&r->body);
    memset(r, 0, sizeof *r);
}

/* ---- log ---- */

void bt_aws_logf(const bt_aws_settings *s, const char *fmt, ...)
{
    bt_buf b = BT_BUF_INIT;
    va_list ap;
    if (!s || !s->log)
        return;
    va_start(ap, fmt);
    if (bt_buf_vprintf(&b, fmt, ap) == 0)
        s->log(s->log_payload, b.data);
    va_end(ap);
    bt_buf_dispose(&b);
}

/* ---- time ---- */

static int digits(const char *s, int n, int *out)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int64_t bt_aws_parse_iso8601(const char *s)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
    const char *p;
    int64_t t;

    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return -1;
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                if (!isdigit((unsigned char)*p))
                    return -1;
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om = 0, sign = *p == '-' ? -1 : 1;
            if (digits(p + 1, 2, &oh))
                return -1;
            p += 3;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p)) {
                if (digits(p, 2, &om))
                    return -1;
                p += 2;
            }
            off = sign * (oh * 3600 + om * 60);
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = (int64_t)timegm(&tm);
    return t - off;
}

void bt_aws_sleep(double seconds)
{
    struct timespec ts;
    if (seconds <= 0)
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double bt_aws_random(void)
{
    unsigned int v;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (unsigned int)rand();
    return (double)(v >> 8) / (double)(1u << 24);
}

/* ---- files ---- */

int bt_aws_read_small_file(const char *path, size_t max, bt_buf *out, bt_error *err)
{
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n;
    int rc = 0;

    if (!f)
        return bt_error_set(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, "'%s': %s", path,
                            strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (out->len + n > max) {
            rc = bt_error_set(err, BT_ELIMIT, "'%s': larger than %zu bytes", path, max);
            break;
        }
        if (bt_buf_append(out, buf, n) != 0) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = bt_error_set(err, BT_EIO, "'%s': read error", path);
    OPENSSL_cleanse(buf, sizeof buf);
    fclose(f);
    return rc;
}

/* ---- strings ---- */

int bt_aws_form_encode(bt_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            rc = bt_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = bt_buf_append(out, e, 3);
        }
    }
    return rc;
}

const char *bt_aws_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int bt_aws_bool(const char *s)
{
    if (!s)
        return -1;
    if (strcasecmp(s, "true") == 0)
        return 1;
    if (strcasecmp(s, "false") == 0)
        return 0;
    return -1;
}

void bt_aws_argv_free(char **argv)
{
    size_t i;
    if (!argv)
        return;
    for (i = 0; argv[i]; i++)
        free(argv[i]);
    free(argv);
}

int bt_aws_shell_split(const char *cmd, char ***out, bt_error *err)
{
    char **argv = NULL;
    size_t n = 0, cap = 0;
    bt_buf w = BT_BUF_INIT;
    const char *p = cmd;
    int rc = 0;

    *out = NULL;
    for (;;) {
        int in_word = 0;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        bt_buf_clear(&w);
        while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
            in_word = 1;
            if (*p == '\'') {
                const char *e = strchr(p + 1, '\'');
                if (!e) {
                    rc = bt_error_set(err, BT_EPARSE, "unterminated single quote");
                    goto done;
                }
                if ((rc = bt_buf_append(&w, p + 1, (size_t)(e - p - 1))) != 0)
                    goto nomem;
                p = e + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' &&
                        (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`' || p[1] == '\n'))
                        p++;
                    if ((rc = bt_buf_putc(&w, *p)) != 0)
                        goto nomem;
                    p++;
                }
                if (*p != '"') {
                    rc = bt_error_set(err, BT_EPARSE, "unterminated double quote");
                    goto done;
                }
                p++;
            } else if (*p == '\\') {
                p++;
                if (!*p) {
                    rc = bt_error_set(err, BT_EPARSE, "no character after backslash");
                    goto done;
                }
                if ((rc = bt_buf_putc(&w, *p++)) != 0)
                    goto nomem;
            } else {
                if ((rc = bt_buf_putc(&w, *p++)) != 0)
                    goto nomem;
            }
        }
        if (in_word) {
            if (n + 2 > cap) {
                size_t nc = cap ? cap * 2 : 8;
                char **na = realloc(argv, nc * sizeof *na);
                if (!na)
                    goto nomem;
                argv = na;
                cap = nc;
            }
            argv[n] = strdup(w.data ? w.data : "");
            if (!argv[n])
                goto nomem;
            argv[++n] = NULL;
        }
    }
    if (n == 0) {
        rc = bt_error_set(err, BT_EPARSE, "empty command");
        goto done;
    }
    *out = argv;
    argv = NULL;
    goto done;
nomem:
    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
done:
    bt_aws_argv_free(argv);
    bt_buf_dispose(&w);
    return rc;
}
