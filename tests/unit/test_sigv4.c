/* test_sigv4.c - unit tests for the SigV4 signer and verifier beyond the AWS suite:
 * values cross-checked with botocore (S3 rules, JSON 1.1 with a session token) and
 * every verification failure path. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws_sigv4.h"
#include "tharness.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0 1440938160 /* 20150830T123600Z */

static void test_date_format(void)
{
    char b[17];
    bt_sigv4_format_date(T0, b);
    CHECK_STR(b, "20150830T123600Z");
    {
        char h[65];
        bt_sigv4_sha256_hex("", 0, h);
        CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

/* JSON 1.1 call with a session token: same bytes as botocore's SigV4Auth. */
static void test_json_call_matches_botocore(void)
{
    const char *body = "{\"MaxResults\":1}";
    bt_sigv4_header h[] = {
        {"Host", "cloudtrail.us-east-1.amazonaws.com"},
        {"X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"User-Agent", "x"},
    };
    bt_sigv4_request r = {"POST", "/", NULL, h, 4, body, strlen(body), NULL};
    bt_sigv4_params p = {AKID, SECRET, "TOKEN123", "us-east-1", "cloudtrail", "20150830T123600Z",
                         0};
    bt_sigv4_out o;
    bt_error err = BT_ERROR_INIT;

    bt_sigv4_out_init(&o);
    CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), 0);
    CHECK_STR(o.canonical_request.data,
              "POST\n/\n\ncontent-type:application/x-amz-json-1.1\n"
              "host:cloudtrail.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
              "x-amz-security-token:TOKEN123\n"
              "x-amz-target:com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\n"
              "\ncontent-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
              "5d327dabe3dd761d0a1fd5ac1ad275322fd6e1d88a5d361c1750ac453ec177b9");
    CHECK_STR(o.signature, "12856c769d9032d8f45ad81497638a96c60469f08a6382fd4cf208b8ca64c82b");
    CHECK_INT(o.nadd, 3); /* X-Amz-Date, X-Amz-Security-Token, Authorization */
    CHECK_STR(o.add[0].name, "X-Amz-Date");
    CHECK_STR(o.add[1].name, "X-Amz-Security-Token");
    CHECK_STR(o.add[2].name, "Authorization");
    bt_sigv4_out_dispose(&o);
}

/* S3: no path normalisation, X-Amz-Content-SHA256 added and signed. */
static void test_s3_rules(void)
{
    bt_sigv4_header h[] = {{"Host", "s3.us-east-1.amazonaws.com"}};
    bt_sigv4_request r = {
        "GET", "/my-bucket/a//b/../c%20d", "list-type=2&prefix=a%2Fb", h, 1, NULL, 0, NULL};
    bt_sigv4_params p = {AKID,       SECRET, "TOKEN123", "us-east-1", "s3", "20150830T123600Z",
                         BT_SIGV4_S3};
    bt_sigv4_out o;
    bt_error err = BT_ERROR_INIT;
    int found = 0;
    size_t i;

    bt_sigv4_out_init(&o);
    CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), 0);
    CHECK_STR(o.signature, "25ad42e7efb0d6702741a0aa2e0c38ed981b8ccfe38776533366ec39c2499fc2");
    for (i = 0; i < o.nadd; i++)
        if (strcmp(o.add[i].name, "X-Amz-Content-SHA256") == 0)
            found = 1;
    CHECK(found);
    bt_sigv4_out_dispose(&o);
}

static void test_non_s3_double_encodes(void)
{
    bt_sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
    bt_sigv4_request r = {"GET", "/a%20b/./c/", "b=2&a=%41&c", h, 1, NULL, 0, NULL};
    bt_sigv4_params p = {AKID, SECRET, NULL, "us-east-1", "service", "20150830T123600Z", 0};
    bt_sigv4_out o;
    bt_error err = BT_ERROR_INIT;

    bt_sigv4_out_init(&o);
    CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), 0);
    CHECK(strncmp(o.canonical_request.data, "GET\n/a%2520b/c/\na=A&b=2&c=\n", 27) == 0);
    bt_sigv4_out_dispose(&o);
}

static void test_sign_errors(void)
{
    bt_sigv4_header h[] = {{"Host", "x"}};
    bt_sigv4_request r = {"GET", "/", NULL, h, 1, NULL, 0, NULL};
    bt_sigv4_request nohost = {"GET", "/", NULL, NULL, 0, NULL, 0, NULL};
    bt_sigv4_params p = {AKID, SECRET, NULL, "us-east-1", "service", "2015-08-30", 0};
    bt_sigv4_params nokey = {NULL, NULL, NULL, "us-east-1", "service", NULL, 0};
    bt_sigv4_out o;
    bt_error err = BT_ERROR_INIT;

    bt_sigv4_out_init(&o);
    CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), BT_EINVAL);
    p.amz_date = NULL;
    CHECK_INT(bt_sigv4_sign(&nohost, &p, &o, &err), BT_EINVAL);
    CHECK_INT(bt_sigv4_sign(&r, &nokey, &o, &err), BT_EINVAL);
    p.region = NULL;
    CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), BT_EINVAL);
    bt_sigv4_out_dispose(&o);
}

/* ---- verification ---- */

static int lookup(void *payload, const char *akid, char *secret, size_t cap)
{
    (void)payload;
    if (strcmp(akid, AKID) != 0)
        return BT_ENOTFOUND;
    snprintf(secret, cap, "%s", SECRET);
    return 0;
}

typedef struct signed_req {
    bt_sigv4_header h[8];
    size_t nh;
    bt_sigv4_request r;
    bt_sigv4_out o;
} signed_req;

static void make_signed(signed_req *s, const char *body, const char *secret, const char *date,
                        const char *token)
{
    bt_sigv4_params p = {AKID, secret, token, "us-east-1", "cloudtrail", date, 0};
    bt_error err = BT_ERROR_INIT;
    size_t i;
    memset(s, 0, sizeof *s);
    s->h[0].name = "Host";
    s->h[0].value = "127.0.0.1:8080";
    s->h[1].name = "X-Amz-Target";
    s->h[1].value = "CloudTrail_20131101.LookupEvents";
    s->h[2].name = "User-Agent";
    s->h[2].value = "test";
    s->nh = 3;
    s->r.method = "POST";
    s->r.path = "/";
    s->r.headers = s->h;
    s->r.nheaders = s->nh;
    s->r.body = body;
    s->r.body_len = strlen(body);
    bt_sigv4_out_init(&s->o);
    bt_sigv4_sign(&s->r, &p, &s->o, &err);
    for (i = 0; i < s->o.nadd; i++)
        s->h[s->nh++] = s->o.add[i];
    s->r.nheaders = s->nh;
}

static int verify(signed_req *s, int64_t now, bt_error *err)
{
    bt_sigv4_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.now = now;
    vo.lookup = lookup;
    vo.service = "cloudtrail";
    bt_error_clear(err);
    return bt_sigv4_verify(&s->r, &vo, NULL, err);
}

static void test_verify_ok_and_skew(void)
{
    signed_req s;
    bt_error err = BT_ERROR_INIT;
    bt_sigv4_verify_opts vo;
    bt_sigv4_verified v;

    make_signed(&s, "{}", SECRET, "20150830T123600Z", "TOK");
    memset(&vo, 0, sizeof vo);
    vo.now = T0;
    vo.lookup = lookup;
    CHECK_INT(bt_sigv4_verify(&s.r, &vo, &v, &err), 0);
    CHECK_STR(v.access_key_id, AKID);
    CHECK_STR(v.region, "us-east-1");
    CHECK_STR(v.service, "cloudtrail");
    CHECK(v.has_session_token);
    CHECK_INT(verify(&s, T0 + 899, &err), 0);
    CHECK_INT(verify(&s, T0 - 899, &err), 0);
    CHECK_INT(verify(&s, T0 + 901, &err), BT_EAUTH);
    CHECK_STR(err.aws_code, "InvalidSignatureException");
    CHECK(strstr(err.msg, "expired") != NULL);
    CHECK_INT(verify(&s, T0 - 901, &err), BT_EAUTH);
    bt_sigv4_out_dispose(&s.o);
}

static void test_verify_failures(void)
{
    signed_req s;
    bt_error err = BT_ERROR_INIT;
    const char *saved;

    /* wrong secret */
    make_signed(&s, "{}", "not-the-secret", "20150830T123600Z", NULL);
    CHECK_INT(verify(&s, T0, &err), BT_EAUTH);
    CHECK_STR(err.aws_code, "InvalidSignatureException");
    CHECK_INT(err.http_status, 403);
    CHECK(strstr(err.msg, SECRET) == NULL);
    bt_sigv4_out_dispose(&s.o);

    /* tampered body */
    make_signed(&s, "{}", SECRET, "20150830T123600Z", NULL);
    s.r.body = "{\"x\":1}";
    s.r.body_len = 7;
    CHECK_INT(verify(&s, T0, &err), BT_EAUTH);
    CHECK_STR(err.aws_code, "InvalidSignatureException");
    s.r.body = "{}";
    s.r.body_len = 2;
    CHECK_INT(verify(&s, T0, &err), 0);

    /* tampered signed header */
    saved = s.h[1].value;
    s.h[1].value = "CloudTrail_20131101.CreateTrail";
    CHECK_INT(verify(&s, T0, &err), BT_EAUTH);
    s.h[1].value = saved;
    /* unsigned header may change freely */
    s.h[2].value = "other-agent";
    CHECK_INT(verify(&s, T0, &err), 0);

    /* missing Authorization */
    s.r.nheaders = 3;
    {
        bt_sigv4_header h2[3] = {s.h[0], s.h[1], s.h[3]}; /* Host, Target, X-Amz-Date */
        s.r.headers = h2;
        CHECK_INT(verify(&s, T0, &err), BT_EAUTH);
        CHECK_STR(err.aws_code, "MissingAuthenticationTokenException");
        s.r.headers = s.h;
    }
    s.r.nheaders = s.nh;
    bt_sigv4_out_dispose(&s.o);
}

static void test_verify_malformed(void)
{
    bt_sigv4_header h[3] = {
        {"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", ""}};
    bt_sigv4_request r = {"GET", "/", NULL, h, 3, NULL, 0, NULL};
    bt_sigv4_verify_opts vo;
    bt_error err = BT_ERROR_INIT;
    const char *bad[] = {
        "Basic abc",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature="
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=x-amz-date, Signature="
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature="
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-missing, Signature="
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc",
        NULL};
    int i;

    memset(&vo, 0, sizeof vo);
    vo.now = T0;
    vo.lookup = lookup;
    for (i = 0; bad[i]; i++) {
        h[2].value = bad[i];
        CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), BT_EAUTH);
        CHECK_STR(err.aws_code, "IncompleteSignatureException");
    }
    /* unknown key */
    h[0].value = "example.amazonaws.com";
    h[2].value = "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20150830/us-east-1/service/aws4_request, "
                 "SignedHeaders=host;x-amz-date, Signature="
                 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), BT_EAUTH);
    CHECK_STR(err.aws_code, "UnrecognizedClientException");
    /* the suite's get-vanilla verifies */
    h[2].value = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                 "SignedHeaders=host;x-amz-date, Signature="
                 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), 0);
    /* scope for another service is refused when the server names its own */
    vo.service = "cloudtrail";
    CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), BT_EAUTH);
    /* missing X-Amz-Date */
    vo.service = NULL;
    h[1].name = "X-Other";
    CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), BT_EAUTH);
    vo.lookup = NULL;
    CHECK_INT(bt_sigv4_verify(&r, &vo, NULL, &err), BT_EINVAL);
}


static int lookup_boto(void *payload, const char *akid, char *secret, size_t cap)
{
    (void)payload;
    if (strcmp(akid, "ASIAEXAMPLEKEY") != 0)
        return BT_ENOTFOUND;
    snprintf(secret, cap, "%s", "secret/with+chars");
    return 0;
}

/* A LookupEvents request exactly as botocore signs it (AWS CLI v2 headers, session
 * token, non-default port) verifies; any change to the body or target does not. */
static void test_verify_botocore_request(void)
{
    const char *body = "{\"LookupAttributes\": [{\"AttributeKey\": \"EventSource\", "
                       "\"AttributeValue\": \"codebuild.amazonaws.com\"}], \"MaxResults\": 50}";
    bt_sigv4_header h[] = {
        {"Host", "127.0.0.1:8080"},
        {"X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"User-Agent", "aws-cli/2.15.0 Python/3.11"},
        {"X-Amz-Date", "20240501T120000Z"},
        {"X-Amz-Security-Token", "FwoGZXIvYXdzEBYaDTOKEN=="},
        {"Authorization",
         "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY/20240501/eu-west-1/cloudtrail/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
         "Signature=7607f90adb2a3de56403de05c1f98183d50c333ed5c2e0e8f1fe70f50739fa9c"},
        {"Content-Length", "115"},
    };
    bt_sigv4_request r = {"POST", "/", NULL, h, 8, body, strlen(body), NULL};
    bt_sigv4_verify_opts vo;
    bt_sigv4_verified v;
    bt_error err = BT_ERROR_INIT;

    memset(&vo, 0, sizeof vo);
    vo.now = 1714564800 + 300;
    vo.lookup = lookup_boto;
    vo.service = "cloudtrail";
    vo.region = "eu-west-1";
    CHECK_INT(bt_sigv4_verify(&r, &vo, &v, &err), 0);
    CHECK_STR(v.access_key_id, "ASIAEXAMPLEKEY");
    CHECK(v.has_session_token);
    vo.region = "us-east-1";
    CHECK_INT(bt_sigv4_verify(&r, &vo, &v, &err), BT_EAUTH);
    vo.region = NULL;
    r.body_len--;
    CHECK_INT(bt_sigv4_verify(&r, &vo, &v, &err), BT_EAUTH);
    CHECK_STR(err.aws_code, "InvalidSignatureException");
    r.body_len++;
    h[5].value = "FwoGZXIvYXdzEBYaDTOKEN=x";
    CHECK_INT(bt_sigv4_verify(&r, &vo, &v, &err), BT_EAUTH);
}

BT_TEST_MAIN(test_verify_botocore_request, test_date_format, test_json_call_matches_botocore, test_s3_rules,
             test_non_s3_double_encodes, test_sign_errors, test_verify_ok_and_skew,
             test_verify_failures, test_verify_malformed)
