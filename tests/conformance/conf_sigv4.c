/* conf_sigv4.c - runs the AWS SigV4 test suite (shared/conformance/sigv4): for every
 * case directory, parses <case>.req, signs it with the suite's keys and compares the
 * canonical request (.creq), string to sign (.sts) and Authorization (.authz) byte
 * for byte; then verifies the signed request with bt_sigv4_verify. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/aws_sigv4.h"
#include "buildtrail/buf.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MAXH 64

static int passed, failed;

typedef struct parsed_req {
    char *text; /* owned copy, cut into pieces */
    char method[16];
    char *path, *query;
    bt_sigv4_header h[MAXH];
    size_t nh;
    const char *body;
    size_t body_len;
} parsed_req;

static int read_file(const char *path, bt_buf *b)
{
    bt_error err = BT_ERROR_INIT;
    bt_buf_clear(b);
    return bt_buf_read_file(b, path, &err);
}

/* Parses the suite's request format: request line, headers (continuation lines start
 * with whitespace), optional blank line and body. The path may contain spaces. */
static int parse_req(const char *src, size_t len, parsed_req *r)
{
    char *p, *nl, *sp, *last;
    memset(r, 0, sizeof *r);
    r->text = malloc(len + 1);
    if (!r->text)
        return -1;
    memcpy(r->text, src, len);
    r->text[len] = '\0';
    p = r->text;
    nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    sp = strchr(p, ' ');
    last = strrchr(p, ' ');
    if (!sp || last == sp || sp - p >= (long)sizeof r->method)
        return -1;
    memcpy(r->method, p, (size_t)(sp - p));
    *last = '\0';
    r->path = sp + 1;
    r->query = strchr(r->path, '?');
    if (r->query)
        *r->query++ = '\0';
    p = nl ? nl + 1 : p + strlen(p);
    while (*p) {
        char *line = p, *colon;
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : line + strlen(line);
        if (*line == '\0') {
            r->body = p;
            r->body_len = strlen(p);
            break;
        }
        if ((*line == ' ' || *line == '\t') && r->nh) {
            /* continuation: glue onto the previous value (trimall folds it) */
            char *prev = (char *)r->h[r->nh - 1].value;
            size_t pl = strlen(prev);
            memmove(prev + pl + 1, line, strlen(line) + 1);
            prev[pl] = ' ';
            continue;
        }
        colon = strchr(line, ':');
        if (!colon || r->nh == MAXH)
            return -1;
        *colon = '\0';
        r->h[r->nh].name = line;
        r->h[r->nh].value = colon + 1;
        r->nh++;
    }
    return 0;
}

static const char *header_value(const char *text, const char *lname, char *out, size_t cap)
{
    const char *p = strstr(text, lname);
    size_t n = 0;
    if (!p)
        return NULL;
    p += strlen(lname);
    while (p[n] && p[n] != '\n' && n + 1 < cap) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return out;
}

static int secret_lookup(void *payload, const char *akid, char *secret, size_t cap)
{
    (void)payload;
    if (strcmp(akid, AKID) != 0)
        return BT_ENOTFOUND;
    snprintf(secret, cap, "%s", SECRET);
    return 0;
}

static void diff(const char *what, const char *dir, const char *want, const char *got)
{
    fprintf(stderr, "FAIL %s: %s differs\n--- expected\n%s\n--- got\n%s\n", dir, what, want,
            got ? got : "(null)");
}

static void run_case(const char *dir, const char *name)
{
    char path[4096], token[2048];
    bt_buf req = BT_BUF_INIT, creq = BT_BUF_INIT, sts = BT_BUF_INIT, authz = BT_BUF_INIT,
           sreq = BT_BUF_INIT;
    parsed_req r;
    bt_sigv4_request sr;
    bt_sigv4_params sp;
    bt_sigv4_out out;
    bt_error err = BT_ERROR_INIT;
    int ok = 1;
    size_t i;

    bt_sigv4_out_init(&out);
    memset(&r, 0, sizeof r);
#define LOAD(buf, ext)                                                                             \
    snprintf(path, sizeof path, "%s/%s." ext, dir, name);                                          \
    if (read_file(path, &buf) != 0) {                                                              \
        fprintf(stderr, "FAIL %s: cannot read %s\n", dir, path);                                   \
        ok = 0;                                                                                    \
        goto done;                                                                                 \
    }
    LOAD(req, "req");
    LOAD(creq, "creq");
    LOAD(sts, "sts");
    LOAD(authz, "authz");
    LOAD(sreq, "sreq");
#undef LOAD
    if (parse_req(req.data, req.len, &r) != 0) {
        fprintf(stderr, "FAIL %s: cannot parse the request\n", dir);
        ok = 0;
        goto done;
    }
    memset(&sr, 0, sizeof sr);
    sr.method = r.method;
    sr.path = r.path;
    sr.query = r.query;
    sr.headers = r.h;
    sr.nheaders = r.nh;
    sr.body = r.body;
    sr.body_len = r.body_len;
    memset(&sp, 0, sizeof sp);
    sp.access_key_id = AKID;
    sp.secret_access_key = SECRET;
    sp.region = "us-east-1";
    sp.service = "service";
    /* A session token that the .req lacks: signed if the .creq has it (the
     * with-session-token case), appended unsigned if only the .sreq has it. */
    if (!strstr(req.data, "X-Amz-Security-Token")) {
        if (header_value(creq.data, "x-amz-security-token:", token, sizeof token)) {
            sp.session_token = token;
        } else if (header_value(sreq.data, "X-Amz-Security-Token:", token, sizeof token)) {
            sp.session_token = token;
            sp.flags |= BT_SIGV4_TOKEN_UNSIGNED;
        }
    }
    if (bt_sigv4_sign(&sr, &sp, &out, &err) != 0) {
        fprintf(stderr, "FAIL %s: sign: %s\n", dir, err.msg);
        ok = 0;
        goto done;
    }
    if (strcmp(out.canonical_request.data, creq.data) != 0) {
        diff("canonical request", dir, creq.data, out.canonical_request.data);
        ok = 0;
    }
    if (strcmp(out.string_to_sign.data, sts.data) != 0) {
        diff("string to sign", dir, sts.data, out.string_to_sign.data);
        ok = 0;
    }
    if (strcmp(out.authorization.data, authz.data) != 0) {
        diff("authorization", dir, authz.data, out.authorization.data);
        ok = 0;
    }
    if (sp.session_token) {
        int found = 0;
        for (i = 0; i < out.nadd; i++)
            if (strcmp(out.add[i].name, "X-Amz-Security-Token") == 0 &&
                strcmp(out.add[i].value, token) == 0)
                found = 1;
        if (!found) {
            fprintf(stderr, "FAIL %s: session token header not added\n", dir);
            ok = 0;
        }
    }
    /* Server side: the signed request must verify at the suite's time. */
    if (ok) {
        bt_sigv4_header hv[MAXH + BT_SIGV4_MAX_ADD];
        bt_sigv4_request vr = sr;
        bt_sigv4_verify_opts vo;
        bt_sigv4_verified ver;
        size_t n = 0;
        for (i = 0; i < r.nh; i++)
            hv[n++] = r.h[i];
        for (i = 0; i < out.nadd; i++)
            hv[n++] = out.add[i];
        vr.headers = hv;
        vr.nheaders = n;
        memset(&vo, 0, sizeof vo);
        vo.now = 1440938160; /* 2015-08-30T12:36:00Z */
        vo.lookup = secret_lookup;
        bt_error_clear(&err);
        if (bt_sigv4_verify(&vr, &vo, &ver, &err) != 0) {
            fprintf(stderr, "FAIL %s: verify: %s (%s)\n", dir, err.msg, err.aws_code);
            ok = 0;
        }
    }
done:
    if (ok)
        passed++;
    else
        failed++;
    printf("%s %s\n", ok ? "ok  " : "FAIL", dir);
    bt_sigv4_out_dispose(&out);
    free(r.text);
    bt_buf_dispose(&req);
    bt_buf_dispose(&creq);
    bt_buf_dispose(&sts);
    bt_buf_dispose(&authz);
    bt_buf_dispose(&sreq);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory holding <basename>.req is a case; otherwise recurse into it. */
static void walk(const char *dir)
{
    char path[4096], *names[512];
    const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    struct stat st;
    DIR *d;
    struct dirent *e;
    size_t n = 0, i;

    snprintf(path, sizeof path, "%s/%s.req", dir, base);
    if (stat(path, &st) == 0) {
        run_case(dir, base);
        return;
    }
    d = opendir(dir);
    if (!d)
        return;
    while ((e = readdir(d)) != NULL && n < 512) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        walk(path);
        free(names[i]);
    }
}

int main(int argc, char **argv)
{
    char root[4096];
    struct stat st;

    if (argc < 2) {
        fprintf(stderr, "usage: conf_sigv4 CONFORMANCE_DIR\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s/sigv4", argv[1]);
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: no SigV4 suite at '%s'\n", root);
        return 77;
    }
    walk(root);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || passed == 0 ? 1 : 0;
}
