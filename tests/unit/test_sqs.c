/* test_sqs.c - queue locations (URL, sqs:// forms, ARN) and topic ARNs as the SQS/SNS
 * client reads them (aws_sqs.h), and watch accepting them as sources. */
#include <string.h>

#include "buildtrail/aws_sqs.h"
#include "buildtrail/watch.h"
#include "tharness.h"

static void test_queue_locations(void)
{
    bt_sqs_ref r;
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(
        bt_sqs_parse("sqs://https://sqs.eu-west-1.amazonaws.com/123456789012/trail", &r, &err), 0);
    CHECK_STR(r.url, "https://sqs.eu-west-1.amazonaws.com/123456789012/trail");
    CHECK_STR(r.name, "trail");
    CHECK_STR(r.account, "123456789012");
    CHECK_STR(r.region, "eu-west-1");
    CHECK_INT(bt_sqs_parse("sqs://sqs.us-east-2.amazonaws.com/123456789012/q-1", &r, &err), 0);
    CHECK_STR(r.url, "https://sqs.us-east-2.amazonaws.com/123456789012/q-1");
    CHECK_STR(r.region, "us-east-2");
    CHECK_INT(bt_sqs_parse("https://ap-south-1.queue.amazonaws.com/123456789012/legacy", &r, &err),
              0);
    CHECK_STR(r.region, "ap-south-1");
    CHECK_INT(bt_sqs_parse("sqs://http://127.0.0.1:5000/123456789012/local", &r, &err), 0);
    CHECK_STR(r.url, "http://127.0.0.1:5000/123456789012/local");
    CHECK_STR(r.region, "");
    CHECK_STR(r.name, "local");
    CHECK_INT(bt_sqs_parse("arn:aws:sqs:us-west-2:123456789012:from-arn", &r, &err), 0);
    CHECK_STR(r.url, "");
    CHECK_STR(r.name, "from-arn");
    CHECK_STR(r.account, "123456789012");
    CHECK_STR(r.region, "us-west-2");
    CHECK_INT(bt_sqs_parse("sqs://arn:aws-cn:sqs:cn-north-1:123456789012:q.fifo", &r, &err), 0);
    CHECK_STR(r.region, "cn-north-1");
    CHECK_STR(r.name, "q.fifo");
    /* not queues */
    CHECK_INT(bt_sqs_parse("sqs://queue", &r, &err), BT_EINVAL);
    CHECK_INT(bt_sqs_parse("sqs://host/123456789012", &r, &err), BT_EINVAL);
    CHECK_INT(bt_sqs_parse("sqs://host/123456789012/a/b", &r, &err), BT_EINVAL);
    CHECK_INT(bt_sqs_parse("arn:aws:sqs:us-east-1:12:x", &r, &err), BT_EINVAL);
    CHECK_INT(bt_sqs_parse("arn:aws:sns:us-east-1:123456789012:topic", &r, &err), BT_EINVAL);
    CHECK_INT(bt_sqs_parse("arn:aws:sqs::123456789012:x", &r, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not a queue ARN") != NULL);
}

static void test_topic_arns(void)
{
    char region[64];
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(bt_sns_parse_arn("arn:aws:sns:eu-central-1:123456789012:alerts", region,
                               sizeof region, &err),
              0);
    CHECK_STR(region, "eu-central-1");
    CHECK_INT(bt_sns_parse_arn("arn:aws:sqs:eu-central-1:123456789012:alerts", region,
                               sizeof region, &err),
              BT_EINVAL);
    CHECK_INT(
        bt_sns_parse_arn("arn:aws:sns:eu-central-1:123456789012:", region, sizeof region, &err),
        BT_EINVAL);
    CHECK_INT(bt_sns_parse_arn("sns:topic", region, sizeof region, &err), BT_EINVAL);
}

static void test_watch_sources(void)
{
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(
        bt_watch_check_source("sqs://https://sqs.us-east-1.amazonaws.com/123456789012/q", &err), 0);
    CHECK_INT(bt_watch_check_source("arn:aws:sqs:us-east-1:123456789012:q", &err), 0);
    CHECK_INT(bt_watch_check_source("sqs://nope", &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not a queue URL") != NULL);
}

/* The ReceiveMessage reply: the attributes watch reads (receive count, SentTimestamp). */
static void test_receive_parse(void)
{
    static const char body[] =
        "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"r1\",\"Body\":\"{}\","
        "\"Attributes\":{\"ApproximateReceiveCount\":\"2\",\"SentTimestamp\":"
        "\"1764936000123\"}},{\"MessageId\":\"m2\",\"ReceiptHandle\":\"r2\",\"Body\":\"x\"},"
        "{\"MessageId\":\"m3\",\"ReceiptHandle\":\"r3\",\"Attributes\":{\"SentTimestamp\":"
        "\"-5\"}},{\"MessageId\":\"no receipt\"}]}";
    bt_aws_response resp;
    bt_sqs_message *m = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    size_t n = 0;
    bt_aws_response_init(&resp);
    resp.http_status = 200;
    CHECK_INT(bt_buf_append(&resp.body, body, sizeof body - 1), 0);
    CHECK_INT(bt_sqs_receive_parse(a, &resp, &m, &n, &err), 0);
    CHECK_INT((int)n, 3);
    if (n == 3) {
        CHECK_STR(m[0].receipt, "r1");
        CHECK_INT(m[0].receive_count, 2);
        CHECK(m[0].sent_ms == 1764936000123LL);
        CHECK(m[1].sent_ms == 0); /* absent */
        CHECK_INT(m[1].receive_count, 0);
        CHECK(m[2].sent_ms == 0); /* not a time */
    }
    bt_aws_response_dispose(&resp);
    bt_arena_free(a);
}

BT_TEST_MAIN(test_queue_locations, test_topic_arns, test_watch_sources, test_receive_parse)
