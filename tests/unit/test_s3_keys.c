/* test_s3_keys.c - bt_scan_s3 given a key list (bt_s3_scan_spec.keys, what watch hands it
 * for the objects a batch of notifications names): nothing is listed, the objects are
 * asked for directly, and a failure that is not the object's absence stops the scan with
 * one line naming the object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/source_s3.h"
#include "buildtrail/timeutil.h"
#include "tharness.h"

static int batches;
static int on_batch(void *ctx, const bt_batch *b)
{
    (void)ctx;
    (void)b;
    batches++;
    return 0;
}

static void test_keys_unreachable(void)
{
    static const char *const keys[] = {
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/a.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/b.json.gz"};
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    bt_s3_scan_spec spec;
    bt_scan_opts so;
    bt_read_stats st;
    bt_s3_scan_info info;
    bt_error err = BT_ERROR_INIT;

    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    cfg.endpoint_url = "http://127.0.0.1:1";
    cfg.max_attempts = 1;
    cfg.connect_timeout_ms = 2000;
    if (bt_aws_client_new(&c, &cfg, &err) != 0) {
        CHECK(!"client");
        return;
    }
    memset(&spec, 0, sizeof spec);
    memset(&so, 0, sizeof so);
    memset(&st, 0, sizeof st);
    spec.client = c;
    spec.url = "s3://trail";
    spec.keys = keys;
    spec.nkeys = 2;
    spec.connections = 2;
    so.on_batch = on_batch;
    CHECK_INT(bt_scan_s3(&spec, &so, &st, &info, &err), BT_EHTTP);
    CHECK(strncmp(err.msg, "'s3://trail/AWSLogs/111122223333/", 33) == 0);
    CHECK(strstr(err.msg, "ListObjectsV2") == NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK_INT(info.list_requests, 0);
    CHECK_INT(info.listed, 2);
    CHECK(info.get_requests >= 1);
    CHECK_INT(batches, 0);
    bt_aws_client_free(c);
}

/* The delivery time a CloudTrail key carries (watch's s3:// start). */
static void test_key_delivery(void)
{
    int64_t ms = -1;
    CHECK_INT(bt_s3_key_delivery_ms("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/05/"
                                    "111122223333_CloudTrail_us-east-1_20261205T1505Z_Ab3x.json.gz",
                                    &ms),
              0);
    CHECK(ms == bt_time_days_from_civil(2026, 12, 5) * 86400000LL + 15 * 3600000LL + 5 * 60000LL);
    CHECK_INT(bt_s3_key_delivery_ms("p/AWSLogs/o-x/111122223333/CloudTrail/eu-west-1/2026/01/01/"
                                    "111122223333_CloudTrail_eu-west-1_20260101T0000Z_z.json.gz",
                                    &ms),
              0);
    CHECK(ms == bt_time_days_from_civil(2026, 1, 1) * 86400000LL);
    CHECK_INT(bt_s3_key_delivery_ms("AWSLogs/1/CloudTrail/us-east-1/2026/12/05/x.json.gz", &ms),
              BT_EINVAL);
    CHECK_INT(bt_s3_key_delivery_ms("1_CloudTrail_us-east-1_20261305T1505Z_a.json.gz", &ms),
              BT_EINVAL);
    CHECK_INT(bt_s3_key_delivery_ms("1_CloudTrail_us-east-1_20261205T2460Z_a.json.gz", &ms),
              BT_EINVAL);
    CHECK_INT(bt_s3_key_delivery_ms("1_CloudTrail_us-east-1_2026", &ms), BT_EINVAL);
    CHECK_INT(bt_s3_key_delivery_ms("1_CloudTrail_", &ms), BT_EINVAL);
}

BT_TEST_MAIN(test_key_delivery, test_keys_unreachable)
