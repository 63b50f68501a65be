/* fuzz_sigv4.c - libFuzzer target for the server-side SigV4 verifier (untrusted
 * Authorization headers and requests, as `buildtrail serve --auth` receives them) and
 * for signing arbitrary requests. Input: method, path, query lines, then "Name: value"
 * header lines, a blank line and the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws_sigv4.h"

#define MAXH 32

static int lookup(void *payload, const char *akid, char *secret, size_t cap)
{
    (void)payload;
    if (strcmp(akid, "AKIDEXAMPLE") != 0)
        return BT_ENOTFOUND;
    strncpy(secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", cap - 1);
    secret[cap - 1] = '\0';
    return 0;
}

static char *next_line(char **p)
{
    char *s = *p, *nl;
    if (!s)
        return NULL;
    nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = NULL;
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *p, *line;
    bt_sigv4_header h[MAXH];
    bt_sigv4_request r;
    bt_sigv4_verify_opts vo;
    bt_sigv4_params sp;
    bt_sigv4_out so;
    size_t nh = 0;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    p = text;
    memset(&r, 0, sizeof r);
    r.method = next_line(&p);
    r.path = next_line(&p);
    r.query = next_line(&p);
    while ((line = next_line(&p)) != NULL && *line && nh < MAXH) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        h[nh].name = line;
        h[nh].value = colon + 1;
        nh++;
    }
    r.headers = h;
    r.nheaders = nh;
    r.body = p;
    r.body_len = p ? strlen(p) : 0;
    if (!r.method) {
        free(text);
        return 0;
    }
    memset(&vo, 0, sizeof vo);
    vo.now = 1440938160;
    vo.lookup = lookup;
    (void)bt_sigv4_verify(&r, &vo, NULL, NULL);
    vo.flags = BT_SIGV4_S3;
    (void)bt_sigv4_verify(&r, &vo, NULL, NULL);

    memset(&sp, 0, sizeof sp);
    sp.access_key_id = "AKIDEXAMPLE";
    sp.secret_access_key = "secret";
    sp.session_token = "token";
    sp.region = "us-east-1";
    sp.service = "service";
    sp.amz_date = "20150830T123600Z";
    bt_sigv4_out_init(&so);
    (void)bt_sigv4_sign(&r, &sp, &so, NULL);
    bt_sigv4_out_dispose(&so);
    free(text);
    return 0;
}
