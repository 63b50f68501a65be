/* test_aws_util.c - the AWS layer's building blocks: ISO 8601 parsing, form
 * encoding, shell-style splitting, the standard retry policy (what is retried,
 * backoff, quota), the rate limiter (spacing, threads), error-reply parsing for each
 * protocol, credential documents, XML extraction and LookupEvents bodies/replies. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_int.h"
#include "buildtrail/aws.h"
#include "buildtrail/timeutil.h"
#include "tharness.h"

static void test_iso8601(void)
{
    CHECK_INT(bt_aws_parse_iso8601("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01T12:00:00Z"), 1714564800);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01T12:00:00.123456Z"), 1714564800);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01T14:00:00+02:00"), 1714564800);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01T07:30:00-0430"), 1714564800);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01 12:00:00Z"), 1714564800);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01"), 1714521600);
    CHECK_INT(bt_aws_parse_iso8601("2024-13-01T00:00:00Z"), -1);
    CHECK_INT(bt_aws_parse_iso8601("2024-05-01T12:00:00Zjunk"), -1);
    CHECK_INT(bt_aws_parse_iso8601("yesterday"), -1);
    CHECK_INT(bt_aws_parse_iso8601(NULL), -1);
}

static void test_form_and_split(void)
{
    bt_buf b = BT_BUF_INIT;
    char **argv = NULL;
    bt_error err = BT_ERROR_INIT;

    bt_aws_form_encode(&b, "a b/c+d=é~_-.");
    CHECK_STR(b.data, "a%20b%2Fc%2Bd%3D%C3%A9~_-.");
    bt_buf_dispose(&b);

    CHECK_INT(bt_aws_shell_split("  /bin/tool --x 'a b' \"c \\\"d\\\"\" e\\ f ''  ", &argv, &err),
              0);
    if (argv) {
        CHECK_STR(argv[0], "/bin/tool");
        CHECK_STR(argv[1], "--x");
        CHECK_STR(argv[2], "a b");
        CHECK_STR(argv[3], "c \"d\"");
        CHECK_STR(argv[4], "e f");
        CHECK_STR(argv[5], "");
        CHECK(argv[6] == NULL);
    }
    bt_aws_argv_free(argv);
    CHECK_INT(bt_aws_shell_split("tool 'open", &argv, &err), BT_EPARSE);
    CHECK_INT(bt_aws_shell_split("tool \"open", &argv, &err), BT_EPARSE);
    CHECK_INT(bt_aws_shell_split("   ", &argv, &err), BT_EPARSE);
}

static void test_retry_policy(void)
{
    CHECK(bt_aws_is_retryable(500, "InternalFailure", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(502, "", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(503, "", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(504, "", BT_HTTP_T_NONE));
    CHECK(!bt_aws_is_retryable(501, "", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(400, "ThrottlingException", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(400, "Throttling", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(429, "TooManyRequestsException", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(503, "SlowDown", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(400, "RequestTimeout", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(400, "PriorRequestNotComplete", BT_HTTP_T_NONE));
    CHECK(!bt_aws_is_retryable(400, "InvalidNextTokenException", BT_HTTP_T_NONE));
    CHECK(!bt_aws_is_retryable(403, "AccessDenied", BT_HTTP_T_NONE));
    CHECK(!bt_aws_is_retryable(429, "", BT_HTTP_T_NONE));
    CHECK(bt_aws_is_retryable(0, "", BT_HTTP_T_CONNECT));
    CHECK(bt_aws_is_retryable(0, "", BT_HTTP_T_TIMEOUT));
    CHECK(bt_aws_is_retryable(0, "", BT_HTTP_T_IO));
    CHECK(!bt_aws_is_retryable(0, "", BT_HTTP_T_TLS));
    CHECK(!bt_aws_is_retryable(0, "", BT_HTTP_T_LIMIT));
    CHECK(!bt_aws_is_retryable(0, "", BT_HTTP_T_OTHER));
    CHECK(bt_aws_is_throttling_code("EC2ThrottledException"));
    CHECK(!bt_aws_is_throttling_code(""));

    CHECK(fabs(bt_aws_backoff(1, 0.5) - 0.5) < 1e-9);
    CHECK(fabs(bt_aws_backoff(2, 0.5) - 1.0) < 1e-9);
    CHECK(fabs(bt_aws_backoff(3, 0.5) - 2.0) < 1e-9);
    CHECK(fabs(bt_aws_backoff(5, 1.0) - 16.0) < 1e-9);
    CHECK(fabs(bt_aws_backoff(6, 1.0) - 20.0) < 1e-9); /* capped */
    CHECK(fabs(bt_aws_backoff(60, 0.999) - 19.98) < 1e-9);
    {
        int i, ok = 1;
        for (i = 0; i < 1000; i++) {
            double r = bt_aws_random();
            if (r < 0 || r >= 1)
                ok = 0;
        }
        CHECK(ok);
    }
}

static void test_quota(void)
{
    bt_aws_quota q;
    int i, n = 0;
    bt_aws_quota_init(&q);
    for (i = 0; i < 200; i++)
        n += bt_aws_quota_acquire(&q, BT_AWS_RETRY_COST);
    CHECK_INT(n, 100); /* 500 / 5 */
    CHECK(!bt_aws_quota_acquire(&q, 1));
    bt_aws_quota_release(&q, BT_AWS_TIMEOUT_RETRY_COST);
    CHECK(bt_aws_quota_acquire(&q, BT_AWS_TIMEOUT_RETRY_COST));
    CHECK(!bt_aws_quota_acquire(&q, 1));
    bt_aws_quota_release(&q, 100000);
    CHECK_INT(q.available, BT_AWS_QUOTA_INITIAL); /* capped at the initial size */
    bt_aws_quota_dispose(&q);
}

typedef struct rl_arg {
    bt_ratelimit *rl;
    int n;
} rl_arg;

static void *rl_worker(void *p)
{
    rl_arg *a = p;
    int i;
    for (i = 0; i < a->n; i++)
        bt_ratelimit_acquire(a->rl, "AKID|us-east-1", "LookupEvents");
    return NULL;
}

static void test_ratelimit(void)
{
    bt_ratelimit *rl = bt_ratelimit_new();
    double t0, el;
    int i;
    pthread_t th[4];
    rl_arg a;

    if (!rl) {
        CHECK(0);
        return;
    }
    CHECK_INT(bt_ratelimit_set_rate(rl, "LookupEvents", 20.0), 0);
    CHECK(bt_ratelimit_get_rate(rl, "LookupEvents") == 20.0);
    CHECK(bt_ratelimit_get_rate(rl, "Other") == 0);
    /* 11 calls at 20/s: the first is free, then 10 x 50 ms */
    t0 = bt_time_mono_s();
    for (i = 0; i < 11; i++)
        bt_ratelimit_acquire(rl, "k1|us-east-1", "LookupEvents");
    el = bt_time_mono_s() - t0;
    CHECK(el >= 0.45 && el < 1.5);
    /* another key and an unlimited operation do not wait */
    t0 = bt_time_mono_s();
    bt_ratelimit_acquire(rl, "k2|us-east-1", "LookupEvents");
    for (i = 0; i < 50; i++)
        bt_ratelimit_acquire(rl, "k1|us-east-1", "BatchGetBuilds");
    CHECK(bt_time_mono_s() - t0 < 0.1);
    /* 4 threads x 5 calls on one key at 20/s: 20 calls spaced 50 ms, >= 0.95 s */
    a.rl = rl;
    a.n = 5;
    t0 = bt_time_mono_s();
    for (i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, rl_worker, &a);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    el = bt_time_mono_s() - t0;
    CHECK(el >= 0.9 && el < 3.0);
    bt_ratelimit_free(rl);
}

static void perr(int proto, long status, const char *body, const char *hdr, const char *want_code,
                 const char *want_msg)
{
    char code[128], msg[400];
    bt_aws_parse_error(proto, status, body, strlen(body), hdr, code, sizeof code, msg, sizeof msg);
    CHECK_STR(code, want_code);
    CHECK_STR(msg, want_msg);
}

static void test_error_parsing(void)
{
    perr(BT_AWS_P_JSON, 400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
         NULL, "ThrottlingException", "Rate exceeded");
    perr(BT_AWS_P_JSON, 400,
         "{\"__type\":\"com.amazonaws.cloudtrail.v20131101#InvalidTimeRangeException:http://x\","
         "\"Message\":\"bad range\"}",
         NULL, "InvalidTimeRangeException", "bad range");
    perr(BT_AWS_P_JSON, 400, "{\"message\":\"m\"}", "ValidationException:http://internal",
         "ValidationException", "m");
    perr(BT_AWS_P_JSON, 502, "<html>Bad Gateway</html>", NULL, "502", "<html>Bad Gateway</html>");
    perr(BT_AWS_P_JSON, 503, "Service Unavailable\n", NULL, "503", "Service Unavailable ");
    perr(BT_AWS_P_JSON, 500, "", NULL, "500", "");
    perr(BT_AWS_P_JSON, 403,
         "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"
         "<Message>sig</Message></Error></Errors></ErrorResponse>",
         NULL, "SignatureDoesNotMatch", "sig");
    perr(BT_AWS_P_QUERY, 403,
         "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
         "</Type><Code>AccessDenied</Code><Message>no &amp; no</Message></Error><RequestId>r"
         "</RequestId></ErrorResponse>",
         NULL, "AccessDenied", "no & no");
    perr(BT_AWS_P_REST_XML, 404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>",
         NULL, "NoSuchKey", "gone");
    perr(BT_AWS_P_REST_XML, 404, "", NULL, "404", "");
}

static void test_cred_documents(void)
{
    bt_aws_creds c;
    bt_error err = BT_ERROR_INIT;
    const char *ok = "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"S3CR3T\","
                     "\"SessionToken\":\"TOK\",\"Expiration\":\"2030-01-01T00:00:00Z\","
                     "\"AccountId\":\"123456789012\"}";
    CHECK_INT(bt_cred_parse_json(ok, strlen(ok), 1, "test", &c, &err), 0);
    CHECK_STR(c.access_key_id, "AKID");
    CHECK_STR(c.secret_access_key, "S3CR3T");
    CHECK_STR(c.session_token, "TOK");
    CHECK_INT(c.expiration, 1893456000);
    CHECK_STR(c.account_id, "123456789012");
    bt_aws_creds_dispose(&c);
    CHECK(c.access_key_id == NULL);

    /* IMDS/container spelling: Token, no Version */
    {
        const char *imds = "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\","
                           "\"Token\":\"T\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";
        CHECK_INT(bt_cred_parse_json(imds, strlen(imds), 0, "imds", &c, &err), 0);
        CHECK_STR(c.session_token, "T");
        bt_aws_creds_dispose(&c);
    }
    {
        const char *v2 = "{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S3CR3T\"}";
        const char *nosecret = "{\"Version\":1,\"AccessKeyId\":\"A\"}";
        const char *badexp = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S3CR3T\","
                             "\"Expiration\":\"soon\"}";
        const char *errdoc = "{\"Code\":\"AccessDenied\",\"Message\":\"S3CR3T-in-message\"}";
        const char *notjson = "AccessKeyId=A SecretAccessKey=S3CR3T";
        CHECK_INT(bt_cred_parse_json(v2, strlen(v2), 1, "p", &c, &err), BT_ECRED);
        CHECK(strstr(err.msg, "version") != NULL);
        CHECK_INT(bt_cred_parse_json(nosecret, strlen(nosecret), 1, "p", &c, &err), BT_ECRED);
        CHECK(strstr(err.msg, "SecretAccessKey") != NULL);
        CHECK_INT(bt_cred_parse_json(badexp, strlen(badexp), 0, "p", &c, &err), BT_ECRED);
        CHECK_INT(bt_cred_parse_json(errdoc, strlen(errdoc), 0, "p", &c, &err), BT_ECRED);
        CHECK(strstr(err.msg, "AccessDenied") != NULL);
        CHECK(strstr(err.msg, "S3CR3T") == NULL);
        CHECK_INT(bt_cred_parse_json(notjson, strlen(notjson), 0, "p", &c, &err), BT_ECRED);
        CHECK(strstr(err.msg, "S3CR3T") == NULL);
    }
}

static void test_xml_fields(void)
{
    static const char *const names[] = {"AccessKeyId", "Arn", "Missing"};
    char *v[3];
    bt_error err = BT_ERROR_INIT;
    const char *x = "<?xml version=\"1.0\"?><AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/"
                    "doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><Arn>arn:a</Arn>"
                    "</AssumedRoleUser><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
                    "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b "
                       "\"&a;&a;&a;\">]><r><Arn>&b;</Arn></r>";
    CHECK_INT(bt_aws_xml_fields(x, strlen(x), names, 3, v, &err), 0);
    CHECK_STR(v[0], "ASIA1");
    CHECK_STR(v[1], "arn:a");
    CHECK(v[2] == NULL);
    free(v[0]);
    free(v[1]);
    CHECK_INT(bt_aws_xml_fields("<a><b>", 6, names, 3, v, &err), BT_EPARSE);
    CHECK_INT(bt_aws_xml_fields(bomb, strlen(bomb), names, 3, v, &err), BT_EPARSE);
    CHECK(v[1] == NULL);
}

static void test_lookup_body_and_parse(void)
{
    bt_ct_lookup_request r;
    bt_buf b = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_ct_lookup_page pg;
    const char *reply =
        "{\"Events\":[{\"EventId\":\"e1\",\"EventName\":\"StartBuild\",\"ReadOnly\":\"false\","
        "\"AccessKeyId\":\"ASIA\",\"EventTime\":1.714557600122E9,\"EventSource\":"
        "\"codebuild.amazonaws.com\",\"Username\":\"AWSCodeBuild-x\",\"Resources\":[{"
        "\"ResourceType\":null,\"ResourceName\":\"demo\"},{\"ResourceType\":\"AWS::IAM::Role\","
        "\"ResourceName\":\"r\"}],\"CloudTrailEvent\":\"{\\\"eventVersion\\\":\\\"1.08\\\"}\"},"
        "{\"EventId\":\"e2\"}],\"NextToken\":\"tok+/=\"}";

    memset(&r, 0, sizeof r);
    CHECK_INT(bt_ct_lookup_body(&r, &b, &err), 0);
    CHECK_STR(b.data, "{}");
    bt_buf_clear(&b);
    r.attr_key = BT_CT_ATTR_EVENT_SOURCE;
    r.attr_value = "codebuild.amazonaws.com";
    r.start_time = 1714557600;
    r.end_time = 1714561200;
    r.max_results = 50;
    r.next_token = "a\"b";
    r.category = "insight";
    CHECK_INT(bt_ct_lookup_body(&r, &b, &err), 0);
    CHECK_STR(b.data, "{\"LookupAttributes\":[{\"AttributeKey\":\"EventSource\","
                      "\"AttributeValue\":\"codebuild.amazonaws.com\"}],\"StartTime\":1714557600,"
                      "\"EndTime\":1714561200,\"EventCategory\":\"insight\",\"MaxResults\":50,"
                      "\"NextToken\":\"a\\\"b\"}");
    /* like botocore, an unknown key is sent: the service's InvalidLookupAttributesException
     * is what the AWS CLI shows */
    r.attr_key = "Project";
    bt_buf_clear(&b);
    CHECK_INT(bt_ct_lookup_body(&r, &b, &err), 0);
    CHECK(strstr(b.data, "\"AttributeKey\":\"Project\"") != NULL);
    r.attr_key = BT_CT_ATTR_USERNAME;
    r.attr_value = NULL;
    CHECK_INT(bt_ct_lookup_body(&r, &b, &err), BT_EINVAL);
    bt_buf_dispose(&b);

    CHECK_INT(bt_ct_lookup_parse(a, reply, strlen(reply), &pg, &err), 0);
    CHECK_INT(pg.nevents, 2);
    CHECK_STR(pg.next_token, "tok+/=");
    if (pg.nevents == 2) {
        CHECK_STR(pg.events[0].event_id, "e1");
        CHECK_STR(pg.events[0].read_only, "false");
        CHECK(pg.events[0].has_event_time && fabs(pg.events[0].event_time - 1714557600.122) < 1e-3);
        CHECK_INT(pg.events[0].nresources, 2);
        CHECK(pg.events[0].resources[0].type == NULL);
        CHECK_STR(pg.events[0].resources[0].name, "demo");
        CHECK_STR(pg.events[0].resources[1].type, "AWS::IAM::Role");
        CHECK_STR(pg.events[0].cloudtrail_event, "{\"eventVersion\":\"1.08\"}");
        CHECK(pg.events[1].event_name == NULL && !pg.events[1].has_event_time);
    }
    CHECK_INT(bt_ct_lookup_parse(a, "{}", 2, &pg, &err), 0);
    CHECK_INT(pg.nevents, 0);
    CHECK(pg.next_token == NULL);
    CHECK_INT(bt_ct_lookup_parse(a, "[]", 2, &pg, &err), BT_EPARSE);
    CHECK_INT(bt_ct_lookup_parse(a, "{\"Events\":{}}", 13, &pg, &err), BT_EPARSE);
    CHECK_INT(bt_ct_lookup_parse(a, "{\"Events\":[", 11, &pg, &err), BT_EPARSE);
    bt_arena_free(a);
}

BT_TEST_MAIN(test_iso8601, test_form_and_split, test_retry_policy, test_quota, test_ratelimit,
             test_error_parsing, test_cred_documents, test_xml_fields, test_lookup_body_and_parse)
