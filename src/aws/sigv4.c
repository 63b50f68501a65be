/* sigv4.c - AWS Signature Version 4: canonical request, string to sign, signing key,
 * the Authorization header, and server-side verification (see aws_sigv4.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buildtrail/buf.h"
#include "buildtrail/aws_sigv4.h"
#include "util/crypto_dl.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Headers botocore never signs (plus Authorization, which is replaced). */
static const char *const unsigned_headers[] = {"authorization",
                                               "connection",
                                               "expect",
                                               "keep-alive",
                                               "proxy-authenticate",
                                               "proxy-authorization",
                                               "te",
                                               "trailer",
                                               "transfer-encoding",
                                               "upgrade",
                                               "user-agent",
                                               "x-amzn-trace-id",
                                               NULL};

/* ---- small helpers ---- */

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void bt_sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", len, md);
    to_hex(md, sizeof md, hex);
}

static void hmac256(const void *key, size_t klen, const void *msg, size_t mlen,
                    unsigned char out[32])
{
    unsigned int olen = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen);
}

void bt_sigv4_format_date(int64_t epoch, char buf[17])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void bt_sigv4_now(char buf[17])
{
    bt_sigv4_format_date((int64_t)time(NULL), buf);
}

static int valid_amz_date(const char *s)
{
    int i;
    if (!s || strlen(s) != 16)
        return 0;
    for (i = 0; i < 16; i++) {
        if (i == 8) {
            if (s[i] != 'T')
                return 0;
        } else if (i == 15) {
            if (s[i] != 'Z')
                return 0;
        } else if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* "YYYYMMDDTHHMMSSZ" -> epoch seconds, or -1. */
static int64_t parse_amz_date(const char *s)
{
    struct tm tm;
    if (!valid_amz_date(s))
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    return (int64_t)timegm(&tm);
}

static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Percent-encodes s[0..n) keeping unreserved characters and, if keep_slash, '/'. */
static int uri_encode(bt_buf *out, const char *s, size_t n, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t i;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            rc = bt_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            rc = bt_buf_append(out, e, 3);
        }
    }
    return rc;
}

/* Decodes %XX escapes of s[0..n) into out (invalid escapes are kept literally). */
static int uri_decode(bt_buf *out, const char *s, size_t n)
{
    size_t i;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        if (s[i] == '%' && i + 2 < n && bt_hex_value(s[i + 1]) >= 0 &&
            bt_hex_value(s[i + 2]) >= 0) {
            rc = bt_buf_putc(out, (char)(bt_hex_value(s[i + 1]) * 16 + bt_hex_value(s[i + 2])));
            i += 2;
        } else {
            rc = bt_buf_putc(out, s[i]);
        }
    }
    return rc;
}

/* ---- canonical path ---- */

/* botocore remove_dot_segments: drops empty and "." segments, ".." pops; keeps a
 * leading '/' and a trailing '/' when something remains. */
static int normalize_path(bt_buf *out, const char *path)
{
    size_t n = strlen(path), i = 0, nseg = 0, *segs = NULL, *lens = NULL;
    int rc = 0, lead = n && path[0] == '/', trail = n && path[n - 1] == '/';
    size_t k;

    segs = malloc((n + 1) * sizeof *segs);
    lens = malloc((n + 1) * sizeof *lens);
    if (!segs || !lens) {
        rc = BT_ENOMEM;
        goto done;
    }
    while (i <= n) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        if (j > i && !(j - i == 1 && path[i] == '.')) {
            if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
                if (nseg)
                    nseg--;
            } else {
                segs[nseg] = i;
                lens[nseg] = j - i;
                nseg++;
            }
        }
        i = j + 1;
    }
    if (lead)
        rc = bt_buf_putc(out, '/');
    for (k = 0; k < nseg && rc == 0; k++) {
        if (k)
            rc = bt_buf_putc(out, '/');
        if (rc == 0)
            rc = bt_buf_append(out, path + segs[k], lens[k]);
    }
    if (rc == 0 && trail && nseg)
        rc = bt_buf_putc(out, '/');
done:
    free(segs);
    free(lens);
    return rc;
}

static int canonical_path(bt_buf *out, const char *path, unsigned flags)
{
    bt_buf norm = BT_BUF_INIT;
    int rc;

    if (!path || !*path)
        return bt_buf_putc(out, '/');
    if (flags & BT_SIGV4_S3)
        return bt_buf_puts(out, path);
    rc = normalize_path(&norm, path);
    if (rc == 0 && norm.len == 0)
        rc = bt_buf_putc(&norm, '/');
    if (rc == 0)
        rc = uri_encode(out, norm.data, norm.len, 1);
    bt_buf_dispose(&norm);
    return rc;
}

/* ---- canonical query ---- */

typedef struct qpair {
    char *key; /* encoded */
    char *val; /* encoded */
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->val, y->val);
}

/* Decodes then re-encodes one component into a new heap string. */
static char *reencode(const char *s, size_t n, int *rc)
{
    bt_buf dec = BT_BUF_INIT, enc = BT_BUF_INIT;
    char *r = NULL;
    *rc = uri_decode(&dec, s, n);
    if (*rc == 0)
        *rc = uri_encode(&enc, dec.data ? dec.data : "", dec.len, 0);
    if (*rc == 0) {
        r = bt_buf_detach(&enc);
        if (!r)
            *rc = BT_ENOMEM;
    }
    bt_buf_dispose(&dec);
    bt_buf_dispose(&enc);
    return r;
}

static int canonical_query(bt_buf *out, const char *query)
{
    qpair *pairs = NULL;
    size_t n = 0, cap = 0, i;
    const char *p = query;
    int rc = 0;

    if (!query || !*query)
        return 0;
    while (*p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p), *eq;
        if (end > p) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                qpair *np = realloc(pairs, nc * sizeof *np);
                if (!np) {
                    rc = BT_ENOMEM;
                    goto done;
                }
                pairs = np;
                cap = nc;
            }
            eq = memchr(p, '=', (size_t)(end - p));
            pairs[n].key = reencode(p, (size_t)((eq ? eq : end) - p), &rc);
            pairs[n].val = NULL;
            if (rc == 0)
                pairs[n].val =
                    eq ? reencode(eq + 1, (size_t)(end - eq - 1), &rc) : reencode("", 0, &rc);
            n++;
            if (rc)
                goto done;
        }
        p = amp ? amp + 1 : end;
    }
    if (n > 1)
        qsort(pairs, n, sizeof *pairs, qpair_cmp);
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = bt_buf_putc(out, '&');
        if (rc == 0)
            rc = bt_buf_printf(out, "%s=%s", pairs[i].key, pairs[i].val);
    }
done:
    for (i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].val);
    }
    free(pairs);
    return rc;
}

/* ---- canonical headers ---- */

typedef struct hent {
    char *lname;       /* lowercased, trimmed name (heap) */
    const char *value; /* borrowed */
    size_t order;
} hent;

static int hent_cmp(const void *a, const void *b)
{
    const hent *x = a, *y = b;
    int c = strcmp(x->lname, y->lname);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static char *lower_trim(const char *s)
{
    size_t n;
    char *r;
    size_t i;
    while (*s && isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    r = malloc(n + 1);
    if (!r)
        return NULL;
    for (i = 0; i < n; i++)
        r[i] = (char)tolower((unsigned char)s[i]);
    r[n] = '\0';
    return r;
}

/* Appends value with leading/trailing whitespace removed and inner runs collapsed. */
static int trimall(bt_buf *out, const char *v)
{
    int rc = 0, pending = 0, any = 0;
    for (; *v && rc == 0; v++) {
        if (isspace((unsigned char)*v)) {
            pending = any;
            continue;
        }
        if (pending)
            rc = bt_buf_putc(out, ' ');
        if (rc == 0)
            rc = bt_buf_putc(out, *v);
        pending = 0;
        any = 1;
    }
    return rc;
}

static int is_unsigned_header(const char *lname)
{
    int i;
    for (i = 0; unsigned_headers[i]; i++)
        if (strcmp(lname, unsigned_headers[i]) == 0)
            return 1;
    return 0;
}

/* Is lname one of the ';'-separated names in list? */
static int in_list(const char *list, const char *lname)
{
    size_t n = strlen(lname);
    const char *p = list;
    while (p && *p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == n && memcmp(p, lname, n) == 0)
            return 1;
        p = semi ? semi + 1 : NULL;
    }
    return 0;
}

static const char *find_header(const bt_sigv4_request *req, const char *name)
{
    size_t i;
    for (i = 0; i < req->nheaders; i++) {
        const char *h = req->headers[i].name;
        while (*h == ' ' || *h == '\t')
            h++;
        if (strncasecmp(h, name, strlen(name)) == 0) {
            const char *rest = h + strlen(name);
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (!*rest)
                return req->headers[i].value;
        }
    }
    return NULL;
}

/*
 * Builds the canonical request into creq and the signed header list into sh.
 * extra: synthesized headers (already lowercase names) appended to the request's.
 * only: when not NULL, the ';'-list of names to include (verification); otherwise
 * every header except the unsigned ones.
 */
static int build_canonical(const bt_sigv4_request *req, unsigned flags, const hent *extra,
                           size_t nextra, const char *only, const char *payload_hash, bt_buf *creq,
                           bt_buf *sh)
{
    hent *h = NULL;
    size_t n = 0, i, j;
    int rc = 0;
    const char *m;

    h = calloc(req->nheaders + nextra + 1, sizeof *h);
    if (!h)
        return BT_ENOMEM;
    for (i = 0; i < req->nheaders; i++) {
        char *ln = lower_trim(req->headers[i].name);
        if (!ln) {
            rc = BT_ENOMEM;
            goto done;
        }
        if ((only ? !in_list(only, ln) : is_unsigned_header(ln)) || !*ln) {
            free(ln);
            continue;
        }
        h[n].lname = ln;
        h[n].value = req->headers[i].value ? req->headers[i].value : "";
        h[n].order = n;
        n++;
    }
    for (i = 0; i < nextra; i++) {
        h[n].lname = strdup(extra[i].lname);
        if (!h[n].lname) {
            rc = BT_ENOMEM;
            goto done;
        }
        h[n].value = extra[i].value;
        h[n].order = n;
        n++;
    }
    if (n > 1) /* qsort's base must not be NULL, even for 0 items */
        qsort(h, n, sizeof *h, hent_cmp);

    for (m = req->method; *m && rc == 0; m++)
        rc = bt_buf_putc(creq, (char)toupper((unsigned char)*m));
    if (rc == 0)
        rc = bt_buf_putc(creq, '\n');
    if (rc == 0)
        rc = canonical_path(creq, req->path, flags);
    if (rc == 0)
        rc = bt_buf_putc(creq, '\n');
    if (rc == 0)
        rc = canonical_query(creq, req->query);
    if (rc == 0)
        rc = bt_buf_putc(creq, '\n');
    for (i = 0; i < n && rc == 0; i = j) {
        rc = bt_buf_printf(creq, "%s:", h[i].lname);
        if (rc == 0 && sh->len)
            rc = bt_buf_putc(sh, ';');
        if (rc == 0)
            rc = bt_buf_puts(sh, h[i].lname);
        for (j = i; j < n && strcmp(h[j].lname, h[i].lname) == 0 && rc == 0; j++) {
            if (j > i)
                rc = bt_buf_putc(creq, ',');
            if (rc == 0)
                rc = trimall(creq, h[j].value);
        }
        if (rc == 0)
            rc = bt_buf_putc(creq, '\n');
    }
    if (rc == 0)
        rc = bt_buf_printf(creq, "\n%s\n%s", sh->data ? sh->data : "", payload_hash);
done:
    for (i = 0; i < n; i++)
        free(h[i].lname);
    free(h);
    return rc;
}

/* String to sign and signature from a canonical request. */
static int finish(const char *amz_date, const char *region, const char *service, const char *secret,
                  const bt_buf *creq, bt_buf *sts, char sig[65])
{
    char hash[65];
    unsigned char k[32];
    bt_buf key = BT_BUF_INIT;
    int rc;

    bt_sigv4_sha256_hex(creq->data, creq->len, hash);
    rc = bt_buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date, amz_date,
                       region, service, hash);
    if (rc == 0)
        rc = bt_buf_printf(&key, "AWS4%s", secret);
    if (rc == 0) {
        hmac256(key.data, key.len, amz_date, 8, k);
        hmac256(k, 32, region, strlen(region), k);
        hmac256(k, 32, service, strlen(service), k);
        hmac256(k, 32, "aws4_request", 12, k);
        hmac256(k, 32, sts->data, sts->len, k);
        to_hex(k, 32, sig);
    }
    OPENSSL_cleanse(k, sizeof k);
    if (key.data)
        OPENSSL_cleanse(key.data, key.len);
    bt_buf_dispose(&key);
    return rc;
}

static void compute_payload_hash(const bt_sigv4_request *req, char *out, size_t cap)
{
    if (req->payload_hash)
        snprintf(out, cap, "%s", req->payload_hash);
    else if (!req->body || req->body_len == 0)
        snprintf(out, cap, "%s", EMPTY_SHA256);
    else
        bt_sigv4_sha256_hex(req->body, req->body_len, out);
}

/* ---- signing ---- */

void bt_sigv4_out_init(bt_sigv4_out *out)
{
    memset(out, 0, sizeof *out);
    bt_buf_init(&out->canonical_request, 0);
    bt_buf_init(&out->string_to_sign, 0);
    bt_buf_init(&out->authorization, 0);
    bt_buf_init(&out->signed_headers, 0);
}

static void wipe_buf(bt_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->alloc);
    bt_buf_dispose(b);
}

void bt_sigv4_out_dispose(bt_sigv4_out *out)
{
    if (!out)
        return;
    wipe_buf(&out->canonical_request);
    wipe_buf(&out->string_to_sign);
    wipe_buf(&out->authorization);
    wipe_buf(&out->signed_headers);
    OPENSSL_cleanse(out->signature, sizeof out->signature);
    out->nadd = 0;
}

int bt_sigv4_sign(const bt_sigv4_request *req, const bt_sigv4_params *p, bt_sigv4_out *out,
                  bt_error *err)
{
    hent extra[3];
    size_t nextra = 0;
    const char *date_hdr, *token = p->session_token && *p->session_token ? p->session_token : NULL;
    int rc;

    if (!req->method || !*req->method)
        return bt_error_set(err, BT_EINVAL, "sigv4: request has no method");
    if (!find_header(req, "host"))
        return bt_error_set(err, BT_EINVAL, "sigv4: request has no host header");
    if (!p->access_key_id || !*p->access_key_id || !p->secret_access_key)
        return bt_error_set(err, BT_EINVAL, "sigv4: no credentials to sign with");
    if (!p->region || !*p->region || !p->service || !*p->service)
        return bt_error_set(err, BT_EINVAL, "sigv4: signing region and service are required");

    bt_buf_clear(&out->canonical_request);
    bt_buf_clear(&out->string_to_sign);
    bt_buf_clear(&out->authorization);
    bt_buf_clear(&out->signed_headers);
    out->nadd = 0;

    date_hdr = find_header(req, "x-amz-date");
    if (date_hdr) {
        snprintf(out->amz_date, sizeof out->amz_date, "%s", date_hdr);
    } else if (p->amz_date) {
        snprintf(out->amz_date, sizeof out->amz_date, "%s", p->amz_date);
    } else {
        bt_sigv4_now(out->amz_date);
    }
    if (!valid_amz_date(out->amz_date))
        return bt_error_set(err, BT_EINVAL, "sigv4: invalid X-Amz-Date '%s'", out->amz_date);

    compute_payload_hash(req, out->payload_hash, sizeof out->payload_hash);

    if (!date_hdr) {
        extra[nextra].lname = "x-amz-date";
        extra[nextra++].value = out->amz_date;
        out->add[out->nadd].name = "X-Amz-Date";
        out->add[out->nadd++].value = out->amz_date;
    }
    if (token && !(p->flags & BT_SIGV4_TOKEN_UNSIGNED) &&
        !find_header(req, "x-amz-security-token")) {
        extra[nextra].lname = "x-amz-security-token";
        extra[nextra++].value = token;
        out->add[out->nadd].name = "X-Amz-Security-Token";
        out->add[out->nadd++].value = token;
    }
    if ((p->flags & BT_SIGV4_S3) && !find_header(req, "x-amz-content-sha256")) {
        extra[nextra].lname = "x-amz-content-sha256";
        extra[nextra++].value = out->payload_hash;
        out->add[out->nadd].name = "X-Amz-Content-SHA256";
        out->add[out->nadd++].value = out->payload_hash;
    }

    rc = build_canonical(req, p->flags, extra, nextra, NULL, out->payload_hash,
                         &out->canonical_request, &out->signed_headers);
    if (rc == 0)
        rc = finish(out->amz_date, p->region, p->service, p->secret_access_key,
                    &out->canonical_request, &out->string_to_sign, out->signature);
    if (rc == 0)
        rc = bt_buf_printf(&out->authorization,
                           "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
                           "SignedHeaders=%s, Signature=%s",
                           p->access_key_id, out->amz_date, p->region, p->service,
                           out->signed_headers.data, out->signature);
    if (rc)
        return bt_error_set(err, rc, "sigv4: %s", bt_strerror(rc));
    if (token && (p->flags & BT_SIGV4_TOKEN_UNSIGNED) &&
        !find_header(req, "x-amz-security-token")) {
        out->add[out->nadd].name = "X-Amz-Security-Token";
        out->add[out->nadd++].value = token;
    }
    out->add[out->nadd].name = "Authorization";
    out->add[out->nadd++].value = out->authorization.data;
    return 0;
}

/* ---- verification ---- */

static int auth_fail(bt_error *err, const char *code, int status, const char *msg)
{
    bt_error_set(err, BT_EAUTH, "%s", msg);
    if (err) {
        snprintf(err->aws_code, sizeof err->aws_code, "%s", code);
        err->http_status = status;
    }
    return BT_EAUTH;
}

/* Copies the value of "Key=" from an Authorization header parameter list. */
static int auth_param(const char *auth, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = auth;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == auth || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=') {
            const char *v = p + klen + 1, *e = v;
            size_t n;
            while (*e && *e != ',' && *e != ' ')
                e++;
            n = (size_t)(e - v);
            if (n == 0 || n >= cap)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        p += klen;
    }
    return -1;
}

int bt_sigv4_verify(const bt_sigv4_request *req, const bt_sigv4_verify_opts *o,
                    bt_sigv4_verified *out, bt_error *err)
{
    const char *auth, *amz_date, *sha_hdr;
    char cred[512], shl[1024], sig[65], expect[65], payload[80];
    char *parts[5] = {0};
    char *secret = NULL;
    bt_buf creq = BT_BUF_INIT, sh = BT_BUF_INIT, sts = BT_BUF_INIT;
    int64_t t, now;
    int rc = 0, i, max_skew;
    char *s;

    if (!o || !o->lookup)
        return bt_error_set(err, BT_EINVAL, "sigv4 verify: no secret lookup");
    auth = find_header(req, "authorization");
    if (!auth)
        return auth_fail(err, "MissingAuthenticationTokenException", 403,
                         "missing authentication token");
    while (*auth == ' ')
        auth++;
    if (strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0)
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "unsupported authorization scheme");
    if (auth_param(auth, "Credential", cred, sizeof cred) ||
        auth_param(auth, "SignedHeaders", shl, sizeof shl) ||
        auth_param(auth, "Signature", sig, sizeof sig))
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "authorization header requires Credential, SignedHeaders and "
                         "Signature");
    /* Credential=AKID/date/region/service/aws4_request (the key id has no '/') */
    s = cred;
    for (i = 0; i < 5; i++) {
        parts[i] = s;
        s = strchr(s, '/');
        if (!s)
            break;
        *s++ = '\0';
    }
    if (i != 4 || s || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8 ||
        !*parts[0] || !*parts[2] || !*parts[3])
        return auth_fail(err, "IncompleteSignatureException", 400, "malformed credential scope");
    if (strlen(sig) != 64)
        return auth_fail(err, "IncompleteSignatureException", 400, "malformed signature");
    if (!in_list(shl, "host"))
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "the host header must be signed");
    amz_date = find_header(req, "x-amz-date");
    if (!amz_date || (t = parse_amz_date(amz_date)) < 0)
        return auth_fail(err, "IncompleteSignatureException", 400, "missing or invalid X-Amz-Date");
    if (!in_list(shl, "x-amz-date"))
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "the x-amz-date header must be signed");
    if (strncmp(amz_date, parts[1], 8) != 0)
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "credential scope date does not match X-Amz-Date");
    if ((o->service && strcmp(o->service, parts[3]) != 0) ||
        (o->region && strcmp(o->region, parts[2]) != 0))
        return auth_fail(err, "IncompleteSignatureException", 400,
                         "credential scope is not for this endpoint");
    /* every signed header must be present */
    {
        const char *p = shl;
        while (*p) {
            const char *semi = strchr(p, ';');
            size_t len = semi ? (size_t)(semi - p) : strlen(p);
            char name[128];
            if (len == 0 || len >= sizeof name)
                return auth_fail(err, "IncompleteSignatureException", 400,
                                 "malformed SignedHeaders");
            memcpy(name, p, len);
            name[len] = '\0';
            if (!find_header(req, name)) {
                char msg[200];
                snprintf(msg, sizeof msg, "signed header '%s' is missing", name);
                return auth_fail(err, "IncompleteSignatureException", 400, msg);
            }
            p = semi ? semi + 1 : p + len;
        }
    }
    now = o->now ? o->now : (int64_t)time(NULL);
    max_skew = o->max_skew > 0 ? o->max_skew : 900;
    if (t > now + max_skew || t < now - max_skew) {
        char msg[200];
        snprintf(msg, sizeof msg, "signature expired: '%s' is outside the allowed clock skew",
                 amz_date);
        return auth_fail(err, "InvalidSignatureException", 403, msg);
    }

    /* payload hash */
    sha_hdr = find_header(req, "x-amz-content-sha256");
    if (sha_hdr && strcmp(sha_hdr, "UNSIGNED-PAYLOAD") != 0) {
        char actual[65];
        if (req->payload_hash) /* the body's hash, the body not held */
            snprintf(actual, sizeof actual, "%s", req->payload_hash);
        else
            bt_sigv4_sha256_hex(req->body, req->body_len, actual);
        if (strcmp(actual, sha_hdr) != 0)
            return auth_fail(err, "InvalidSignatureException", 403,
                             "the provided x-amz-content-sha256 does not match the body");
        snprintf(payload, sizeof payload, "%s", sha_hdr);
    } else if (sha_hdr) {
        snprintf(payload, sizeof payload, "%s", sha_hdr);
    } else {
        compute_payload_hash(req, payload, sizeof payload);
    }

    secret = malloc(1024);
    if (!secret) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    secret[0] = '\0';
    if (o->lookup(o->payload, parts[0], secret, 1024) != 0) {
        rc = auth_fail(err, "UnrecognizedClientException", 403,
                       "the security token included in the request is invalid");
        goto done;
    }
    rc = build_canonical(req, o->flags, NULL, 0, shl, payload, &creq, &sh);
    if (rc == 0)
        rc = finish(amz_date, parts[2], parts[3], secret, &creq, &sts, expect);
    if (rc) {
        rc = bt_error_set(err, rc, "sigv4 verify: %s", bt_strerror(rc));
        goto done;
    }
    if (CRYPTO_memcmp(expect, sig, 64) != 0) {
        rc = auth_fail(err, "InvalidSignatureException", 403,
                       "the request signature we calculated does not match the signature "
                       "you provided");
        goto done;
    }
    if (out) {
        memset(out, 0, sizeof *out);
        snprintf(out->access_key_id, sizeof out->access_key_id, "%s", parts[0]);
        snprintf(out->date, sizeof out->date, "%s", parts[1]);
        snprintf(out->region, sizeof out->region, "%s", parts[2]);
        snprintf(out->service, sizeof out->service, "%s", parts[3]);
        snprintf(out->amz_date, sizeof out->amz_date, "%s", amz_date);
        out->has_session_token = in_list(shl, "x-amz-security-token");
    }
done:
    if (secret) {
        OPENSSL_cleanse(secret, 1024);
        free(secret);
    }
    OPENSSL_cleanse(expect, sizeof expect);
    bt_buf_dispose(&creq);
    bt_buf_dispose(&sh);
    bt_buf_dispose(&sts);
    return rc;
}
