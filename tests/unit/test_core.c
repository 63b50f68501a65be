/* test_core.c - unit tests for time parsing, event extraction, filters and hints. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"
#include "buildtrail/timeutil.h"
#include "tharness.h"

static void test_time(void)
{
    int64_t ms = 0, now = 1790000000000LL;
    bt_buf b = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;

    CHECK_INT(bt_time_parse_iso("2026-10-01T12:00:05Z", 20, &ms), 0);
    CHECK_INT(ms, 1790856005000LL);
    CHECK_INT(bt_time_parse_iso("2026-10-01T14:00:05.250+02:00", 29, &ms), 0);
    CHECK_INT(ms, 1790856005250LL);
    CHECK_INT(bt_time_parse_iso("2026-10-01", 10, &ms), 0);
    CHECK_INT(ms, 1790812800000LL);
    CHECK_INT(bt_time_parse_iso("20131102T010628Z", 16, &ms), 0);
    CHECK_INT(ms, 1383354388000LL);
    CHECK(bt_time_parse_iso("2026-13-01", 10, &ms) != 0);
    /* the calendar: no 30 February, 31 April; 29 February only in leap years */
    CHECK(bt_time_parse_iso("2026-02-30", 10, &ms) != 0);
    CHECK(bt_time_parse_iso("2026-02-29", 10, &ms) != 0);
    CHECK(bt_time_parse_iso("2026-04-31T00:00:00Z", 20, &ms) != 0);
    CHECK_INT(bt_time_parse_iso("2024-02-29", 10, &ms), 0);
    CHECK_INT(bt_time_parse_iso("2000-02-29", 10, &ms), 0);
    CHECK(bt_time_parse_iso("1900-02-29", 10, &ms) != 0);
    CHECK(bt_time_parse_user("2026-02-30", now, &ms, &err) != 0);
    CHECK(bt_time_parse_iso("yesterday", 9, &ms) != 0);
    CHECK_INT(bt_time_parse_java("Sep 1, 2017 4:12:29 PM", 22, &ms), 0);
    CHECK_INT(ms, 1504282349000LL);
    CHECK_INT(bt_time_parse_java("Jan 1, 2025, 12:00:00 AM", 24, &ms), 0);
    CHECK_INT(ms, 1735689600000LL);
    CHECK_INT(bt_time_parse_user("2h", now, &ms, &err), 0);
    CHECK_INT(ms, now - 7200000);
    CHECK_INT(bt_time_parse_user("7d", now, &ms, &err), 0);
    CHECK_INT(ms, now - 7 * 86400000LL);
    CHECK_INT(bt_time_parse_user("1714557600", now, &ms, &err), 0);
    CHECK_INT(ms, 1714557600000LL);
    CHECK_INT(bt_time_parse_user("20261001", now, &ms, &err), 0); /* basic ISO, not epoch */
    CHECK_INT(ms, 1790812800000LL);
    CHECK_INT(bt_time_parse_user("next tuesday", now, &ms, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "'next tuesday'") != NULL);
    /* found by fuzz_reader: out-of-range values are errors, not undefined behaviour */
    CHECK_INT(bt_time_parse_user("22329322992932299", now, &ms, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "out of range") != NULL);
    CHECK_INT(bt_time_parse_user("99999999999999999999d", now, &ms, &err), BT_EINVAL);
    CHECK_INT(bt_time_parse_user("1e400", now, &ms, &err), BT_EINVAL);
    bt_time_format_utc(&b, 1790856005250LL);
    CHECK_STR(b.data, "2026-10-01T12:00:05.250Z");
    {
        /* the digits written by hand where the year has four, printf beyond */
        static const struct {
            int64_t ms;
            const char *s;
        } t[] = {{0, "1970-01-01T00:00:00Z"},
                 {-1, "1969-12-31T23:59:59.999Z"},
                 {1790856005007LL, "2026-10-01T12:00:05.007Z"},
                 {951782400000LL, "2000-02-29T00:00:00Z"},
                 {-61157376000000LL, "0032-01-01T00:00:00Z"},
                 {253402300799000LL, "9999-12-31T23:59:59Z"},
                 {253402300800000LL, "10000-01-01T00:00:00Z"}};
        size_t i;
        for (i = 0; i < sizeof t / sizeof t[0]; i++) {
            bt_buf_clear(&b);
            CHECK_INT(bt_time_format_utc(&b, t[i].ms), 0);
            CHECK_STR(b.data, t[i].s);
        }
    }
    bt_buf_dispose(&b);
}

static const char *start_build =
    "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDAX\","
    "\"arn\":\"arn:aws:iam::111122223333:user/alice\",\"accountId\":\"111122223333\","
    "\"accessKeyId\":\"AKIAEXAMPLE\",\"userName\":\"alice\"},\"eventTime\":\"2026-10-01T12:00:"
    "05Z\","
    "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"StartBuild\",\"awsRegion\":"
    "\"us-east-1\",\"sourceIPAddress\":\"198.51.100.7\",\"userAgent\":\"aws-cli/2.9\","
    "\"requestParameters\":{\"projectName\":\"web-api\",\"sourceVersion\":\"main\"},"
    "\"responseElements\":{\"build\":{\"id\":\"web-api:0b6e3c4e-1111-4222-8333-444455556666\","
    "\"projectName\":\"web-api\",\"buildNumber\":42}},\"requestID\":\"r-1\",\"eventID\":"
    "\"6f1c2a3b-0000-4000-8000-000000000001\",\"readOnly\":false,\"eventType\":\"AwsApiCall\","
    "\"recipientAccountId\":\"111122223333\"}";

static const char *session_call =
    "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":"
    "\"AROAEXAMPLE:AWSCodeBuild-0b6e3c4e-1111-4222-8333-444455556666\",\"arn\":"
    "\"arn:aws:sts::111122223333:assumed-role/codebuild-web-api-service-role/"
    "AWSCodeBuild-0b6e3c4e-1111-4222-8333-444455556666\",\"accountId\":\"111122223333\","
    "\"accessKeyId\":\"ASIAEXAMPLE\"},\"eventTime\":\"2026-10-01T12:03:00Z\",\"eventSource\":"
    "\"cloudformation.amazonaws.com\",\"eventName\":\"UpdateStack\",\"awsRegion\":\"us-east-1\","
    "\"errorCode\":\"AccessDenied\",\"errorMessage\":\"not authorized\",\"requestParameters\":"
    "{\"stackName\":\"web-api-prod\"},\"responseElements\":null,\"eventID\":"
    "\"6f1c2a3b-0000-4000-8000-000000000002\",\"readOnly\":\"false\",\"eventType\":\"AwsApiCall\"}";

static void test_event_startbuild(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *j;
    bt_event ev, cp;
    size_t i;
    int found_arn = 0;

    CHECK_INT(bt_json_parse(a, start_build, strlen(start_build), NULL, &j, &err), 0);
    CHECK_INT(bt_event_from_record(a, j, &ev, &err), 0);
    CHECK_STR(ev.event_name, "StartBuild");
    CHECK_STR(ev.username, "alice");
    CHECK_STR(ev.account, "111122223333");
    CHECK_STR(ev.project, "web-api");
    CHECK_STR(ev.build_id, "web-api:0b6e3c4e-1111-4222-8333-444455556666");
    CHECK_STR(ev.build_uuid, "0b6e3c4e-1111-4222-8333-444455556666");
    CHECK(ev.actor_uuid == NULL);
    CHECK_INT(ev.read_only, 0);
    CHECK_INT(ev.time_ms, 1790856005000LL);
    CHECK_INT(ev.raw_len, strlen(start_build));
    CHECK(memcmp(ev.raw, start_build, ev.raw_len) == 0);
    for (i = 0; i < ev.n_resources; i++)
        if (strcmp(ev.resources[i].name,
                   "arn:aws:codebuild:us-east-1:111122223333:project/web-api") == 0)
            found_arn = 1;
    CHECK(found_arn);
    CHECK_INT(bt_event_copy(a, &ev, &cp), 0);
    CHECK(cp.raw != ev.raw && memcmp(cp.raw, ev.raw, ev.raw_len) == 0);
    CHECK_STR(cp.build_id, ev.build_id);
    /* lite: the same fields, no resources */
    CHECK_INT(bt_event_from_record_lite(a, j, &cp, &err), 0);
    CHECK(ev.n_resources > 0 && cp.n_resources == 0 && cp.resources == NULL);
    CHECK_STR(cp.build_id, ev.build_id);
    CHECK_STR(cp.project, ev.project);
    CHECK_STR(cp.username, ev.username);
    CHECK_STR(cp.account, ev.account);
    CHECK_INT(cp.time_ms, ev.time_ms);
    CHECK(cp.raw == ev.raw && cp.raw_len == ev.raw_len);
    bt_arena_free(a);
}

static void test_event_session(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *j;
    bt_event ev;

    CHECK_INT(bt_json_parse(a, session_call, strlen(session_call), NULL, &j, &err), 0);
    CHECK_INT(bt_event_from_record(a, j, &ev, &err), 0);
    CHECK_STR(ev.username, "AWSCodeBuild-0b6e3c4e-1111-4222-8333-444455556666");
    CHECK_STR(ev.session_name, "AWSCodeBuild-0b6e3c4e-1111-4222-8333-444455556666");
    CHECK(ev.build_uuid == NULL);
    CHECK_STR(ev.actor_uuid, "0b6e3c4e-1111-4222-8333-444455556666");
    CHECK(ev.project == NULL);
    CHECK_STR(ev.error_code, "AccessDenied");
    CHECK_INT(ev.read_only, 0);            /* string "false" */
    CHECK_STR(ev.account, "111122223333"); /* from userIdentity.accountId */
    CHECK_INT(ev.n_resources, 1);
    CHECK_STR(ev.resources[0].type, "AWS::CloudFormation::Stack");
    CHECK_STR(ev.resources[0].name, "web-api-prod");
    bt_arena_free(a);
}

static void test_event_eventbridge(void)
{
    const char *env =
        "{\"version\":\"0\",\"id\":\"eb-1\",\"detail-type\":\"CodeBuild Build Phase Change\","
        "\"source\":\"aws.codebuild\",\"account\":\":123456789012\",\"time\":"
        "\"2017-09-01T16:14:21Z\",\"region\":\"us-west-2\",\"resources\":[\"arn:aws:codebuild:"
        "us-west-2:123456789012:build/my-demo-project:8745a7a9-c340-456a-9166-edf953571bEX\"],"
        "\"detail\":{\"completed-phase\":\"COMPLETED\",\"project-name\":\"my-demo-project\","
        "\"build-id\":\"arn:aws:codebuild:us-west-2:123456789012:build/my-demo-project:"
        "8745a7a9-c340-456a-9166-edf953571b00\",\"completed-phase-status\":\"SUCCEEDED\","
        "\"additional-information\":{\"initiator\":\"codepipeline/p1\"}}}";
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *j;
    bt_event ev;

    CHECK_INT(bt_json_parse(a, env, strlen(env), NULL, &j, &err), 0);
    CHECK_INT(bt_event_from_build_status(a, j, &ev, &err), 0);
    CHECK_INT(ev.kind, BT_KIND_BUILD_PHASE);
    CHECK_STR(ev.account, "123456789012");
    CHECK_STR(ev.build_id, "my-demo-project:8745a7a9-c340-456a-9166-edf953571b00");
    CHECK_STR(ev.build_uuid, "8745a7a9-c340-456a-9166-edf953571b00");
    CHECK_STR(ev.build_phase, "COMPLETED");
    CHECK_STR(ev.phase_status, "SUCCEEDED");
    CHECK_STR(ev.username, "codepipeline/p1");
    CHECK_INT(ev.raw_len, strlen(env));
    bt_arena_free(a);
}

static void test_filter(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *j1, *j2;
    bt_event sb, sc;
    bt_filter f;

    bt_json_parse(a, start_build, strlen(start_build), NULL, &j1, &err);
    bt_json_parse(a, session_call, strlen(session_call), NULL, &j2, &err);
    bt_event_from_record(a, j1, &sb, &err);
    bt_event_from_record(a, j2, &sc, &err);

    bt_filter_init(&f);
    CHECK(bt_filter_is_empty(&f));
    CHECK(bt_filter_match(&f, &sb) && bt_filter_match(&f, &sc));
    /* --build by ARN matches both the StartBuild and the session's call */
    CHECK_INT(bt_filter_add(&f, BT_F_BUILD,
                            "arn:aws:codebuild:us-east-1:111122223333:build/web-api:"
                            "0b6e3c4e-1111-4222-8333-444455556666",
                            &err),
              0);
    CHECK(bt_filter_match(&f, &sb) && bt_filter_match(&f, &sc));
    f.errors_only = true;
    CHECK(!bt_filter_match(&f, &sb) && bt_filter_match(&f, &sc));
    /* repeats OR, fields AND */
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_NAME, "StopBuild", &err);
    CHECK(!bt_filter_match(&f, &sb));
    bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err);
    CHECK(bt_filter_match(&f, &sb));
    bt_filter_add(&f, BT_F_USERNAME, "bob", &err);
    CHECK(!bt_filter_match(&f, &sb));
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_RESOURCE_NAME, "web-api-prod", &err);
    CHECK(!bt_filter_match(&f, &sb) && bt_filter_match(&f, &sc));
    bt_filter_init(&f);
    f.end_ms = sb.time_ms; /* inclusive */
    CHECK(bt_filter_match(&f, &sb) && !bt_filter_match(&f, &sc));
    bt_filter_init(&f);
    CHECK_INT(bt_filter_set_read_only(&f, "maybe", &err), BT_EINVAL);
    CHECK_INT(bt_filter_add(&f, BT_F_BUILD, "not-a-build", &err), BT_EINVAL);
    CHECK(strstr(err.msg, "'not-a-build'") != NULL);
    bt_arena_free(a);
}

static void test_hints(void)
{
    char *h = bt_filter_hint(BT_F_EVENT_NAME, "BuildPhaseChange");
    CHECK(h && strstr(h, "EventBridge"));
    free(h);
    h = bt_filter_hint(BT_F_EVENT_NAME, "StartBuilds");
    CHECK(h && strstr(h, "'StartBuild'"));
    free(h);
    CHECK(bt_filter_hint(BT_F_EVENT_NAME, "StartBuild") == NULL);
    CHECK(bt_filter_hint(BT_F_EVENT_NAME, "DescribeInstances") == NULL);
    CHECK(bt_filter_hint(BT_F_USERNAME, "BuildPhaseChange") == NULL);
}

/* An event id's 16 bytes (the store's key of it): hex digits of either case, dashes at
 * their places; anything else is not a UUID. */
static void test_uuid_pack(void)
{
    static const unsigned char want[16] = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71,
                                           0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9};
    unsigned char got[16];
    static const char *const bad[] = {
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f",   /* 35 */
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f90", /* 37 */
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8g9",  /* g */
        "0a1b2c3d4-e5f-6071-8293-a4b5c6d7e8f9",  /* a dash moved */
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8:9",  /* ':' is just past '9' */
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8`9",  /* '`' is just before 'a' */
        "",
    };
    size_t i;
    memset(got, 0, sizeof got);
    CHECK(bt_event_uuid_pack("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", got));
    CHECK(memcmp(got, want, 16) == 0);
    memset(got, 0, sizeof got);
    CHECK(bt_event_uuid_pack("0A1B2C3D-4E5F-6071-8293-A4b5C6d7E8F9", got));
    CHECK(memcmp(got, want, 16) == 0);
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!bt_event_uuid_pack(bad[i], got));
    CHECK(!bt_event_uuid_pack(NULL, got));
    CHECK_STR(bt_event_codebuild_session_uuid("AROA:AWSCodeBuild-x AWSCodeBuild-"
                                              "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"),
              "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    CHECK(bt_event_codebuild_session_uuid("AWSCodeBuild-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8g9") ==
          NULL);
}

BT_TEST_MAIN(test_time, test_event_startbuild, test_event_session, test_event_eventbridge,
             test_filter, test_hints, test_uuid_pack)
