/* test_aws_secrets.c - no secret key, session token, signature, container token or
 * credential document ever appears in the debug log or in an error message. Runs
 * the real client against an in-process loopback HTTP peer that answers canned
 * replies (service errors, STS credentials, container credentials) and records what
 * it received. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/http.h"
#include "buildtrail/aws.h"
#include "tharness.h"

#define SECRET "wJalrXUtnFEMI-SECRET-KEY-0123456789abcdef"
#define TOKEN "IQoJb3JpZ2luX2VjE-SESSION-TOKEN-0123456789"
#define STS_SECRET "STS-ISSUED-SECRET-9876543210"
#define STS_TOKEN "STS-ISSUED-TOKEN-9876543210"
#define CTR_SECRET "CONTAINER-SECRET-5555"
#define CTR_AUTH "CONTAINER-AUTH-TOKEN-7777"
#define PROC_SECRET "PROCESS-SECRET-3333"

#include "test_aws_peer.h"

/* ---- log capture ---- */

static bt_buf logbuf = BT_BUF_INIT;

static void on_log(void *payload, const char *line)
{
    (void)payload;
    bt_buf_puts(&logbuf, line);
    bt_buf_putc(&logbuf, '\n');
}

static void set_clean_env(const char *endpoint)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_SECURITY_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_DEFAULT_PROFILE",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_ENDPOINT_URL_CLOUDTRAIL",
                                       "AWS_MAX_ATTEMPTS",
                                       "AWS_USE_FIPS_ENDPOINT",
                                       "AWS_USE_DUALSTACK_ENDPOINT",
                                       "HTTP_PROXY",
                                       "HTTPS_PROXY",
                                       "http_proxy",
                                       "https_proxy",
                                       "ALL_PROXY",
                                       "all_proxy",
                                       NULL};
    int i;
    for (i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL", endpoint, 1);
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* The signature the peer received (from its Authorization header), or "". */
static void received_signature(const peer *s, char out[65])
{
    const char *p = s->received.data ? strstr(s->received.data, "Signature=") : NULL;
    out[0] = '\0';
    if (p)
        snprintf(out, 65, "%.64s", p + 10);
}

static void check_no_secrets(const char *where, const char *text, const char *sig)
{
    static const char *const secrets[] = {SECRET,     TOKEN,    STS_SECRET,  STS_TOKEN,
                                          CTR_SECRET, CTR_AUTH, PROC_SECRET, NULL};
    int i;
    for (i = 0; secrets[i]; i++) {
        if (contains(text, secrets[i]))
            fprintf(stderr, "  %s contains secret #%d\n", where, i);
        CHECK(!contains(text, secrets[i]));
    }
    if (sig && *sig)
        CHECK(!contains(text, sig));
}

static bt_aws_client *new_client(bt_error *err, const char *profile)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    cfg.log = on_log;
    cfg.profile = profile;
    cfg.max_attempts = 1;
    CHECK_INT(bt_aws_client_new(&c, &cfg, err), 0);
    return c;
}

/* A service error and a reply that carries credential fields: neither the error nor
 * the log may show the keys, token or signature. */
static void test_service_error_and_reply_bodies(void)
{
    static const reply replies[] = {
        {403, "application/x-amz-json-1.1",
         "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature we "
         "calculated does not match\"}"},
        {200, "application/json",
         "{\"Credentials\":{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" STS_SECRET
         "\",\"SessionToken\":\"" STS_TOKEN "\"},\"NextToken\":\"keep-me\"}"},
        {200, "text/xml",
         "<R><SecretAccessKey>" STS_SECRET "</SecretAccessKey><SessionToken>" STS_TOKEN
         "</SessionToken></R>"},
    };
    peer s;
    char url[64], sig[65];
    bt_error err = BT_ERROR_INIT;
    bt_aws_client *c;
    bt_aws_response resp;

    if (peer_start(&s, replies, 3) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    set_clean_env(url);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    bt_buf_clear(&logbuf);
    c = new_client(&err, NULL);
    if (!c)
        goto done;
    bt_aws_response_init(&resp);
    CHECK_INT(bt_aws_json_call(c, "CloudTrail_20131101", "LookupEvents", "{}", &resp, &err),
              BT_EAWS);
    CHECK_STR(err.aws_code, "InvalidSignatureException");
    CHECK(contains(err.msg, "LookupEvents: InvalidSignatureException (HTTP 403)"));
    CHECK(contains(err.msg, "[request id rid-1]"));
    received_signature(&s, sig);
    CHECK(strlen(sig) == 64);
    CHECK(contains(s.received.data, TOKEN)); /* the token was sent... */
    check_no_secrets("error message", err.msg, sig);
    CHECK_INT(bt_aws_json_call(c, "CloudTrail_20131101", "LookupEvents", "{}", &resp, &err), 0);
    CHECK_INT(bt_aws_json_call(c, "CloudTrail_20131101", "LookupEvents", "{}", &resp, &err), 0);
    bt_aws_response_dispose(&resp);
    /* ...but the log has only redacted forms */
    check_no_secrets("debug log", logbuf.data, sig);
    CHECK(contains(logbuf.data, "Signature=<redacted>"));
    CHECK(contains(logbuf.data, "X-Amz-Security-Token: <redacted>"));
    CHECK(contains(logbuf.data, "\"SecretAccessKey\":\"<redacted>\""));
    CHECK(contains(logbuf.data, "<SessionToken><redacted></SessionToken>"));
    CHECK(contains(logbuf.data, "keep-me"));      /* NextToken is not a secret */
    CHECK(contains(logbuf.data, "AKIDEXAMPLE/")); /* the key id is not a secret */
    bt_aws_client_free(c);
done:
    peer_stop(&s);
}

/* AssumeRole through a source profile: the STS reply (credentials) is never logged,
 * the call made with the issued credentials shows neither their secret nor token. */
static void test_assume_role_log(void)
{
    static const reply replies[] = {
        {200, "text/xml",
         "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAISSUED"
         "</AccessKeyId><SecretAccessKey>" STS_SECRET "</SecretAccessKey><SessionToken>" STS_TOKEN
         "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
         "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
         "</AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"},
        {500, "application/json", "{\"__type\":\"InternalFailure\"}"},
    };
    peer s;
    char url[64], dir[] = "/tmp/bt_sec_XXXXXX", path[128], sig[65];
    FILE *f;
    bt_error err = BT_ERROR_INIT;
    bt_aws_client *c;
    bt_aws_response resp;
    bt_aws_creds cr;

    if (!mkdtemp(dir) || peer_start(&s, replies, 2) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    set_clean_env(url);
    snprintf(path, sizeof path, "%s/config", dir);
    f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = %s\n"
                "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                "source_profile = base\nexternal_id = ext\n",
                SECRET);
        fclose(f);
    }
    setenv("AWS_CONFIG_FILE", path, 1);
    bt_buf_clear(&logbuf);
    c = new_client(&err, "role");
    if (!c)
        goto done;
    CHECK_INT(bt_aws_client_credentials(c, &cr, &err), 0);
    CHECK_STR(cr.source, "assume-role");
    CHECK_STR(cr.secret_access_key, STS_SECRET);
    CHECK_STR(cr.account_id, "123456789012");
    CHECK_INT(cr.expiration, 4070908800LL);
    bt_aws_creds_dispose(&cr);
    CHECK(contains(s.received.data, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws"));
    CHECK(contains(s.received.data, "&ExternalId=ext"));
    CHECK(contains(s.received.data, "Credential=AKIDBASE/"));
    bt_aws_response_init(&resp);
    CHECK_INT(bt_aws_json_call(c, "CodeBuild_20161006", "BatchGetBuilds", "{\"ids\":[\"p:1\"]}",
                               &resp, &err),
              BT_EAWS);
    CHECK(contains(s.received.data, "Credential=ASIAISSUED/"));
    CHECK(contains(s.received.data, "X-Amz-Target: CodeBuild_20161006.BatchGetBuilds"));
    bt_aws_response_dispose(&resp);
    received_signature(&s, sig);
    check_no_secrets("debug log", logbuf.data, sig);
    check_no_secrets("error", err.msg, sig);
    CHECK(contains(logbuf.data, "(credentials, not logged)"));
    bt_aws_client_free(c);
done:
    peer_stop(&s);
    unlink(path);
    rmdir(dir);
}

/* Container credentials and credential_process: documents and tokens stay out. */
static void test_container_and_process(void)
{
    static const reply replies[] = {
        {200, "application/json",
         "{\"AccessKeyId\":\"ASIACTR\",\"SecretAccessKey\":\"" CTR_SECRET "\",\"Token\":\"" TOKEN
         "\",\"Expiration\":\"2099-01-01T00:00:00Z\"}"},
    };
    peer s;
    char url[128], dir[] = "/tmp/bt_sec_XXXXXX", cfg[128], script[128];
    FILE *f;
    bt_error err = BT_ERROR_INIT;
    bt_aws_client *c;
    bt_aws_creds cr;

    if (!mkdtemp(dir) || peer_start(&s, replies, 1) != 0) {
        CHECK(0);
        return;
    }
    set_clean_env("http://127.0.0.1:9");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", s.port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CTR_AUTH, 1);
    bt_buf_clear(&logbuf);
    c = new_client(&err, NULL);
    if (c) {
        CHECK_INT(bt_aws_client_credentials(c, &cr, &err), 0);
        CHECK_STR(cr.source, "container-role");
        CHECK_STR(cr.secret_access_key, CTR_SECRET);
        bt_aws_creds_dispose(&cr);
        CHECK(contains(s.received.data, "Authorization: " CTR_AUTH));
        check_no_secrets("debug log", logbuf.data, NULL);
        CHECK(contains(logbuf.data, "Authorization: <redacted>"));
        bt_aws_client_free(c);
    }
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

    /* credential_process printing a secret in a document it then gets wrong */
    snprintf(script, sizeof script, "%s/proc.sh", dir);
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    f = fopen(script, "w");
    if (f) {
        fprintf(f,
                "#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"AKID\", "
                "\"Expiration\": \"%s\"}'\n",
                PROC_SECRET);
        fclose(f);
        chmod(script, 0700);
    }
    f = fopen(cfg, "w");
    if (f) {
        fprintf(f, "[default]\ncredential_process = %s\n", script);
        fclose(f);
    }
    setenv("AWS_CONFIG_FILE", cfg, 1);
    bt_buf_clear(&logbuf);
    c = new_client(&err, NULL);
    if (c) {
        CHECK_INT(bt_aws_client_credentials(c, &cr, &err), BT_ECRED);
        CHECK(contains(err.msg, "credential_process"));
        check_no_secrets("error", err.msg, NULL);
        check_no_secrets("debug log", logbuf.data, NULL);
        bt_aws_client_free(c);
    }
    peer_stop(&s);
    unlink(script);
    unlink(cfg);
    rmdir(dir);
}

static void test_redaction_helpers(void)
{
    bt_buf b = BT_BUF_INIT;
    bt_http_redact_header(&b, "Authorization",
                          "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s/aws4_request, "
                          "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e8");
    CHECK_STR(b.data, "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s/"
                      "aws4_request, SignedHeaders=host;x-amz-date, Signature=<redacted>");
    bt_buf_clear(&b);
    bt_http_redact_header(&b, "authorization", "Bearer abc");
    CHECK_STR(b.data, "authorization: <redacted>");
    bt_buf_clear(&b);
    bt_http_redact_header(&b, "X-Amz-Security-Token", TOKEN);
    CHECK_STR(b.data, "X-Amz-Security-Token: <redacted>");
    bt_buf_clear(&b);
    bt_http_redact_header(&b, "x-aws-ec2-metadata-token", "t");
    CHECK_STR(b.data, "x-aws-ec2-metadata-token: <redacted>");
    bt_buf_clear(&b);
    bt_http_redact_header(&b, "X-Amz-Target", "CodeBuild_20161006.BatchGetBuilds");
    CHECK_STR(b.data, "X-Amz-Target: CodeBuild_20161006.BatchGetBuilds");
    bt_buf_clear(&b);
    {
        const char *body = "{\"secretAccessKey\" : \"a\\\"b\",\"token\":\"t\",\"NextToken\":\"n\"}";
        bt_http_redact_body(&b, body, strlen(body), 4096);
        CHECK_STR(b.data, "{\"secretAccessKey\" : \"<redacted>\",\"token\":\"<redacted>\","
                          "\"NextToken\":\"n\"}");
    }
    bt_buf_clear(&b);
    {
        const char *form = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=eyJ.x.y&RoleArn=a";
        bt_http_redact_body(&b, form, strlen(form), 4096);
        CHECK_STR(b.data, "Action=AssumeRoleWithWebIdentity&WebIdentityToken=<redacted>&RoleArn=a");
    }
    bt_buf_clear(&b);
    {
        /* a secret straddling the excerpt limit is still not shown */
        const char *body = "{\"SessionToken\":\"" TOKEN "\"}";
        bt_http_redact_body(&b, body, strlen(body), 20);
        CHECK(!contains(b.data, "SESSION"));
    }
    bt_buf_dispose(&b);
}

static void cleanup_log(void)
{
    bt_buf_dispose(&logbuf);
}

BT_TEST_MAIN(test_service_error_and_reply_bodies, test_assume_role_log, test_container_and_process,
             test_redaction_helpers, cleanup_log)
