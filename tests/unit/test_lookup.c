/* test_lookup.c - lookup.h: the AWS CLI's resume tokens (known encodings from
 * /usr/bin/aws, legacy and opaque forms), attribute ranks and local matching, a
 * LookupEvents event as the CLI prints it and as a record, partition regions. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "buildtrail/lookup.h"
#include "tharness.h"

static void test_token_encode(void)
{
    bt_buf b = BT_BUF_INIT;
    /* the exact strings aws-cli 2.9 printed against `buildtrail serve` */
    CHECK(bt_ct_token_encode(NULL, 1, &b) == 0);
    CHECK_STR(b.data, "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ==");
    bt_buf_clear(&b);
    CHECK(bt_ct_token_encode(NULL, 3, &b) == 0);
    CHECK_STR(b.data, "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAzfQ==");
    bt_buf_clear(&b);
    CHECK(bt_ct_token_encode("AQAAAAGg-dyomAAAAAAAAABU-tP87NKqzy8", -1, &b) == 0);
    CHECK_STR(b.data, "eyJOZXh0VG9rZW4iOiAiQVFBQUFBR2ctZHlvbUFBQUFBQUFBQUJVLXRQODdOS3F6eTgifQ==");
    bt_buf_dispose(&b);
}

static void test_token_decode(void)
{
    char *tok = NULL;
    long k = -1;
    bt_error err = BT_ERROR_INIT;
    bt_buf b = BT_BUF_INIT;

    CHECK(bt_ct_token_decode("eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAzfQ==",
                             &tok, &k, &err) == 0);
    CHECK(tok == NULL);
    CHECK_INT(k, 3);
    /* round trip with a token and a cut */
    CHECK(bt_ct_token_encode("abc/def+==", 17, &b) == 0);
    CHECK(bt_ct_token_decode(b.data, &tok, &k, &err) == 0);
    CHECK_STR(tok, "abc/def+==");
    CHECK_INT(k, 17);
    free(tok);
    /* legacy form and a bare service token */
    CHECK(bt_ct_token_decode("servicetoken___4", &tok, &k, &err) == 0);
    CHECK_STR(tok, "servicetoken");
    CHECK_INT(k, 4);
    free(tok);
    CHECK(bt_ct_token_decode("None___2", &tok, &k, &err) == 0);
    CHECK(tok == NULL);
    CHECK_INT(k, 2);
    CHECK(bt_ct_token_decode("garbage", &tok, &k, &err) == 0);
    CHECK_STR(tok, "garbage");
    CHECK_INT(k, 0);
    free(tok);
    CHECK(bt_ct_token_decode("a___b___c", &tok, &k, &err) == BT_EINVAL);
    bt_buf_dispose(&b);
}

static void test_attrs(void)
{
    CHECK(bt_ct_attr_rank("EventId") < bt_ct_attr_rank("Username"));
    CHECK(bt_ct_attr_rank("Username") < bt_ct_attr_rank("EventName"));
    CHECK(bt_ct_attr_rank("EventName") < bt_ct_attr_rank("EventSource"));
    CHECK(bt_ct_attr_rank("EventSource") < bt_ct_attr_rank("ReadOnly"));
    CHECK_INT(bt_ct_attr_rank("Nope"), 100);
    CHECK(bt_ct_attr_valid("AccessKeyId"));
    CHECK(!bt_ct_attr_valid("accesskeyid"));
}

static const char page[] =
    "{\"NextToken\":\"t2\",\"Events\":[{\"Username\":\"alice\",\"CloudTrailEvent\":"
    "\"{\\\"eventVersion\\\":\\\"1.08\\\",\\\"eventTime\\\":\\\"2026-10-01T10:00:00Z\\\","
    "\\\"eventSource\\\":\\\"codebuild.amazonaws.com\\\",\\\"eventName\\\":\\\"StartBuild\\\","
    "\\\"eventID\\\":\\\"e1\\\",\\\"errorCode\\\":\\\"AccessDenied\\\"}\","
    "\"EventTime\":1790848800.5,\"Extra\":1,\"EventId\":\"e1\",\"AccessKeyId\":null,"
    "\"EventName\":\"StartBuild\",\"ReadOnly\":\"false\",\"EventSource\":\"codebuild.amazonaws.com\","
    "\"Resources\":[{\"ResourceType\":null,\"ResourceName\":\"demo\"},"
    "{\"ResourceName\":\"arn:aws:codebuild:us-east-1:1:project/demo\",\"ResourceType\":"
    "\"AWS::CodeBuild::Project\"}]}]}";

static void test_event(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_ct_lookup_page pg;
    bt_error err = BT_ERROR_INIT;
    bt_json *v;
    bt_buf out = BT_BUF_INIT;
    bt_json_write_opts wo = {0, 0};
    bt_event ev;

    setenv("TZ", "UTC", 1);
    CHECK(bt_ct_lookup_parse(a, page, strlen(page), &pg, &err) == 0);
    CHECK_INT(pg.nevents, 1);
    CHECK(bt_ct_event_attr_match(&pg.events[0], "Username", "alice"));
    CHECK(!bt_ct_event_attr_match(&pg.events[0], "Username", "bob"));
    CHECK(bt_ct_event_attr_match(&pg.events[0], "ResourceName", "demo"));
    CHECK(bt_ct_event_attr_match(&pg.events[0], "ResourceType", "AWS::CodeBuild::Project"));
    CHECK(bt_ct_event_attr_match(&pg.events[0], "ReadOnly", "false"));
    CHECK(!bt_ct_event_attr_match(&pg.events[0], "AccessKeyId", "x"));
    CHECK_INT(bt_ct_event_time_ms(&pg.events[0]), 1790848800500LL);
    /* model order, nulls and unknown members dropped, time as the CLI prints it */
    v = bt_ct_event_cli_value(a, &pg.events[0]);
    CHECK(v != NULL);
    CHECK(bt_json_write(&out, v, &wo) == 0);
    CHECK(strncmp(out.data,
                  "{\"EventId\":\"e1\",\"EventName\":\"StartBuild\",\"ReadOnly\":\"false\","
                  "\"EventTime\":\"2026-10-01T10:00:00.500000+00:00\",\"EventSource\":"
                  "\"codebuild.amazonaws.com\",\"Username\":\"alice\",\"Resources\":[{"
                  "\"ResourceName\":\"demo\"},{\"ResourceType\":\"AWS::CodeBuild::Project\","
                  "\"ResourceName\":\"arn:aws:codebuild:us-east-1:1:project/demo\"}],"
                  "\"CloudTrailEvent\":",
                  strlen("{\"EventId\":\"e1\",\"EventName\":\"StartBuild\",\"ReadOnly\":\"false\","
                         "\"EventTime\":\"2026-10-01T10:00:00.500000+00:00\",\"EventSource\":"
                         "\"codebuild.amazonaws.com\",\"Username\":\"alice\",\"Resources\":[{"
                         "\"ResourceName\":\"demo\"},{\"ResourceType\":\"AWS::CodeBuild::Project\","
                         "\"ResourceName\":\"arn:aws:codebuild:us-east-1:1:project/demo\"}],"
                         "\"CloudTrailEvent\":")) == 0);
    /* the record inside */
    CHECK(bt_ct_event_record(a, &pg.events[0], &ev, &err) == 0);
    CHECK_STR(ev.event_name, "StartBuild");
    CHECK_STR(ev.error_code, "AccessDenied");
    CHECK_INT(ev.time_ms, 1790848800000LL);
    bt_buf_dispose(&out);
    bt_arena_free(a);
}

static void test_regions(void)
{
    const char *const *r = bt_aws_partition_regions("aws");
    size_t i, n = 0;
    int east = 0, global = 0;
    CHECK(r != NULL);
    for (i = 0; r && r[i]; i++, n++) {
        east |= strcmp(r[i], "us-east-1") == 0;
        global |= strstr(r[i], "global") != NULL;
    }
    CHECK(n > 20);
    CHECK(east);
    CHECK(!global);
    r = bt_aws_partition_regions("aws-cn");
    CHECK(r && r[0] && strncmp(r[0], "cn-", 3) == 0);
    CHECK(bt_aws_partition_regions("nope") == NULL);
}

BT_TEST_MAIN(test_token_encode, test_token_decode, test_attrs, test_event, test_regions)
