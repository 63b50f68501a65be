/* test_s3.c - unit tests for the S3 client and the archive walk: bucket names and
 * s3:// URLs, URI encoding and S3 signing (values cross-checked with botocore's
 * S3SigV4Auth), the ListObjectsV2 reply parser (fields, url decoding, error
 * documents, caps, entity declarations), the prefix layout, the days a window reads,
 * start-after keys, which errors stop a scan, and a scan whose endpoint is down. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws_s3.h"
#include "buildtrail/aws_sigv4.h"
#include "buildtrail/source_s3.h"
#include "buildtrail/timeutil.h"
#include "tharness.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void test_bucket_names(void)
{
    CHECK(bt_s3_bucket_name_ok("my-trail-bucket"));
    CHECK(bt_s3_bucket_name_ok("a.b.c"));
    CHECK(bt_s3_bucket_name_ok("abc"));
    CHECK(!bt_s3_bucket_name_ok("ab"));
    CHECK(!bt_s3_bucket_name_ok("Trail"));
    CHECK(!bt_s3_bucket_name_ok("trail_bucket"));
    CHECK(!bt_s3_bucket_name_ok("-trail"));
    CHECK(!bt_s3_bucket_name_ok("trail-"));
    CHECK(!bt_s3_bucket_name_ok("a..b"));
    CHECK(!bt_s3_bucket_name_ok("192.168.1.1"));
    CHECK(bt_s3_bucket_virtual_ok("my-trail-bucket"));
    CHECK(!bt_s3_bucket_virtual_ok("a.b.c"));
    CHECK_INT(bt_s3_addressing_parse("auto"), BT_S3_ADDR_AUTO);
    CHECK_INT(bt_s3_addressing_parse("virtual"), BT_S3_ADDR_VIRTUAL);
    CHECK_INT(bt_s3_addressing_parse("path"), BT_S3_ADDR_PATH);
    CHECK_INT(bt_s3_addressing_parse("sideways"), -1);
}

static void test_parse_url(void)
{
    char b[64];
    const char *rest;
    bt_error err = BT_ERROR_INIT;

    CHECK_INT(bt_s3_parse_url("s3://trail", b, sizeof b, &rest, &err), 0);
    CHECK_STR(b, "trail");
    CHECK_STR(rest, "");
    CHECK_INT(bt_s3_parse_url("s3://trail/", b, sizeof b, &rest, &err), 0);
    CHECK_STR(rest, "");
    CHECK_INT(bt_s3_parse_url("s3://trail/org/AWSLogs/", b, sizeof b, &rest, &err), 0);
    CHECK_STR(b, "trail");
    CHECK_STR(rest, "org/AWSLogs/");
    /* legacy names (path-style only) are accepted */
    CHECK_INT(bt_s3_parse_url("s3://Old_Bucket/x", b, sizeof b, &rest, &err), 0);
    CHECK_INT(bt_s3_parse_url("https://trail/", b, sizeof b, &rest, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not an s3://") != NULL);
    CHECK_INT(bt_s3_parse_url("s3:///x", b, sizeof b, &rest, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "no bucket") != NULL);
    CHECK_INT(bt_s3_parse_url("s3://bad%name/", b, sizeof b, &rest, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not a valid bucket name") != NULL);
}

static void test_encoding(void)
{
    bt_buf b = BT_BUF_INIT;
    bt_s3_encode_path(&b, "AWSLogs/a b+c~.json.gz");
    CHECK_STR(b.data, "AWSLogs/a%20b%2Bc~.json.gz");
    bt_buf_clear(&b);
    bt_s3_encode_query(&b, "AWSLogs/o-x/");
    CHECK_STR(b.data, "AWSLogs%2Fo-x%2F");
    bt_buf_clear(&b);
    bt_s3_encode_query(&b, "1/ab+c=");
    CHECK_STR(b.data, "1%2Fab%2Bc%3D");
    bt_buf_clear(&b);
    bt_s3_encode_path(&b, "\xc3\xa9t\xc3\xa9");
    CHECK_STR(b.data, "%C3%A9t%C3%A9");
    bt_buf_dispose(&b);
}

/* The requests the S3 client sends, signed as botocore's S3SigV4Auth signs them
 * (reference signatures computed with botocore 1.43 for these exact requests). */
static void test_sign_like_botocore(void)
{
    bt_buf q = BT_BUF_INIT, path = BT_BUF_INIT;
    bt_sigv4_out o;
    bt_error err = BT_ERROR_INIT;
    bt_sigv4_header h1[] = {{"Host", "trail.s3.us-east-1.amazonaws.com"}};
    bt_sigv4_header h2[] = {{"Host", "s3.eu-west-1.amazonaws.com"}};
    bt_sigv4_params p = {AKID, SECRET, NULL, "us-east-1", "s3", "20150830T123600Z", BT_SIGV4_S3};

    /* ListObjectsV2, virtual-hosted, with a continuation token holding / + = */
    bt_buf_puts(&q, "continuation-token=");
    bt_s3_encode_query(&q, "1/ab+c=");
    bt_buf_puts(&q, "&delimiter=");
    bt_s3_encode_query(&q, "/");
    bt_buf_puts(&q, "&encoding-type=url&list-type=2&prefix=");
    bt_s3_encode_query(&q, "AWSLogs/o-x/");
    {
        bt_sigv4_request r = {"GET", "/", q.data, h1, 1, NULL, 0, NULL};
        bt_sigv4_out_init(&o);
        CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), 0);
        CHECK_STR(o.signature, "165c9cd0c086e6c3289a9424beadb72edb64f4eff92eae6f52e006afdb18c4f6");
        CHECK(strstr(o.canonical_request.data,
                     "\ncontinuation-token=1%2Fab%2Bc%3D&delimiter=%2F&encoding-type=url&"
                     "list-type=2&prefix=AWSLogs%2Fo-x%2F\n") != NULL);
        bt_sigv4_out_dispose(&o);
    }
    /* GetObject, path-style, a key that needs encoding */
    bt_buf_puts(&path, "/trail/");
    bt_s3_encode_path(&path, "AWSLogs/a b+c~.json.gz");
    {
        bt_sigv4_request r = {"GET", path.data, NULL, h2, 1, NULL, 0, NULL};
        p.region = "eu-west-1";
        bt_sigv4_out_init(&o);
        CHECK_INT(bt_sigv4_sign(&r, &p, &o, &err), 0);
        CHECK_STR(o.signature, "35dcd5764df29bca15e8a2cc25e0ec1503339e71cce4d1f649b4f0683bdcab6b");
        bt_sigv4_out_dispose(&o);
    }
    bt_buf_dispose(&q);
    bt_buf_dispose(&path);
}

static const char list_reply[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>trail</Name><Prefix>AWSLogs%2F111122223333%2F</Prefix><KeyCount>3</KeyCount>"
    "<MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType>"
    "<IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "<Contents><Key>AWSLogs/111122223333/a+b%2Bc.json.gz</Key>"
    "<LastModified>2026-10-01T00:11:09.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>"
    "<Owner><ID>abc</ID><DisplayName>x</DisplayName></Owner>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>AWSLogs/111122223333/second.json.gz</Key><Size>18446744073709551615</Size>"
    "</Contents>"
    "<CommonPrefixes><Prefix>AWSLogs%2F111122223333%2FCloudTrail%2F</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>AWSLogs/111122223333/CloudTrail-Digest/</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

static void test_list_parse(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_s3_list_page pg;
    bt_error err = BT_ERROR_INIT;
    int64_t ms = 0;

    CHECK_INT(bt_s3_list_parse(a, list_reply, strlen(list_reply), &pg, &err), 0);
    CHECK_STR(pg.name, "trail");
    CHECK_STR(pg.prefix, "AWSLogs/111122223333/");
    CHECK_INT(pg.key_count, 3);
    CHECK_INT(pg.truncated, 1);
    CHECK_STR(pg.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    CHECK_INT(pg.nobjects, 2);
    if (pg.nobjects == 2) {
        CHECK_STR(pg.objects[0].key, "AWSLogs/111122223333/a b+c.json.gz");
        CHECK_STR(pg.objects[0].etag, "9b2cf535f27731c974343645a3985328");
        CHECK_INT(pg.objects[0].size, 1234);
        bt_time_parse_iso("2026-10-01T00:11:09Z", 20, &ms);
        CHECK_INT(pg.objects[0].last_modified_ms, ms);
        CHECK_STR(pg.objects[0].storage_class, "STANDARD");
        CHECK_STR(pg.objects[1].key, "AWSLogs/111122223333/second.json.gz");
        CHECK_STR(pg.objects[1].etag, "");
        CHECK(pg.objects[1].size == UINT64_MAX);
        CHECK_INT(pg.objects[1].last_modified_ms, 0);
    }
    CHECK_INT(pg.nprefixes, 2);
    if (pg.nprefixes == 2) {
        CHECK_STR(pg.prefixes[0], "AWSLogs/111122223333/CloudTrail/");
        CHECK_STR(pg.prefixes[1], "AWSLogs/111122223333/CloudTrail-Digest/");
    }
    /* without encoding-type=url nothing is decoded */
    {
        const char *x = "<ListBucketResult><Contents><Key>a+b%2B</Key></Contents>"
                        "<IsTruncated>false</IsTruncated></ListBucketResult>";
        CHECK_INT(bt_s3_list_parse(a, x, strlen(x), &pg, &err), 0);
        CHECK_STR(pg.objects[0].key, "a+b%2B");
        CHECK_INT(pg.truncated, 0);
        CHECK(pg.next_token == NULL);
        CHECK_INT(pg.key_count, -1);
    }
    /* an empty listing */
    {
        const char *x = "<ListBucketResult><Name>t</Name><KeyCount>0</KeyCount></ListBucketResult>";
        CHECK_INT(bt_s3_list_parse(a, x, strlen(x), &pg, &err), 0);
        CHECK_INT(pg.nobjects, 0);
        CHECK_INT(pg.nprefixes, 0);
    }
    bt_arena_free(a);
}

static void test_list_parse_errors(void)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_s3_list_page pg;
    bt_error err = BT_ERROR_INIT;
    const char *e = "<Error><Code>InternalError</Code><Message>We encountered an internal error."
                    "</Message></Error>";
    const char *ent = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult><Name>&a;</Name>"
                      "</ListBucketResult>";
    bt_buf big = BT_BUF_INIT;
    int i;

    /* "a 200 OK response can contain valid or invalid XML" */
    CHECK_INT(bt_s3_list_parse(a, e, strlen(e), &pg, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "InternalError") != NULL);
    CHECK_INT(bt_s3_list_parse(a, "<Other/>", 8, &pg, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "not a ListBucketResult") != NULL);
    CHECK_INT(bt_s3_list_parse(a, "<ListBucketResult><Name>", 24, &pg, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "invalid XML") != NULL);
    CHECK_INT(bt_s3_list_parse(a, "", 0, &pg, &err), BT_EPARSE);
    CHECK_INT(bt_s3_list_parse(a, "{\"json\":1}", 10, &pg, &err), BT_EPARSE);
    CHECK_INT(bt_s3_list_parse(a, ent, strlen(ent), &pg, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "entities") != NULL);
    CHECK_INT(pg.nobjects, 0);
    /* caps: a key longer than any S3 key, nesting deeper than any reply */
    bt_buf_puts(&big, "<ListBucketResult><Contents><Key>");
    for (i = 0; i < BT_S3_LIST_MAX_TEXT + 1; i++)
        bt_buf_putc(&big, 'k');
    bt_buf_puts(&big, "</Key></Contents></ListBucketResult>");
    CHECK_INT(bt_s3_list_parse(a, big.data, big.len, &pg, &err), BT_ELIMIT);
    bt_buf_clear(&big);
    for (i = 0; i < 40; i++)
        bt_buf_puts(&big, "<a>");
    CHECK_INT(bt_s3_list_parse(a, big.data, big.len, &pg, &err), BT_ELIMIT);
    bt_buf_dispose(&big);
    bt_arena_free(a);
}

static void test_walk_parse(void)
{
    bt_s3_walk_start w;
    bt_error err = BT_ERROR_INIT;

    CHECK_INT(bt_s3_walk_parse("", &w, &err), 0);
    CHECK_STR(w.root, "AWSLogs/");
    CHECK_STR(w.account, "");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("logs", &w, &err), 0);
    CHECK_STR(w.root, "logs/AWSLogs/");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("a/b/", &w, &err), 0);
    CHECK_STR(w.root, "a/b/AWSLogs/");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("myAWSLogs/", &w, &err), 0);
    CHECK_STR(w.root, "myAWSLogs/AWSLogs/");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("logs/AWSLogs", &w, &err), 0);
    CHECK_STR(w.root, "logs/AWSLogs/");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2026/10/02/",
                               &w, &err),
              0);
    CHECK_STR(w.root, "AWSLogs/");
    CHECK_STR(w.org, "o-abcdefghij");
    CHECK_STR(w.account, "111122223333");
    CHECK_STR(w.region, "us-east-1");
    CHECK_INT(w.year, 2026);
    CHECK_INT(w.month, 10);
    CHECK_INT(w.day, 2);
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("x/AWSLogs/111122223333", &w, &err), 0);
    CHECK_STR(w.root, "x/AWSLogs/");
    CHECK_STR(w.org, "");
    CHECK_STR(w.account, "111122223333");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/o-abcdefghij/", &w, &err), 0);
    CHECK_STR(w.org, "o-abcdefghij");
    CHECK_STR(w.account, "");
    bt_s3_walk_dispose(&w);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/123/", &w, &err), BT_EINVAL);
    CHECK(strstr(err.msg, "not a CloudTrail log prefix") != NULL);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/111122223333/CloudTrail-Digest/", &w, &err), BT_EINVAL);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/111122223333/CloudTrail/us-east-1/26/", &w, &err),
              BT_EINVAL);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/111122223333/CloudTrail/us-east-1/2026/13/", &w, &err),
              BT_EINVAL);
    CHECK_INT(bt_s3_walk_parse("AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/x/", &w, &err),
              BT_EINVAL);
}

static int64_t day_of(const char *iso)
{
    int64_t ms = 0;
    bt_time_parse_iso(iso, strlen(iso), &ms);
    return ms / 86400000;
}

static int64_t ms_of(const char *iso)
{
    int64_t ms = 0;
    bt_time_parse_iso(iso, strlen(iso), &ms);
    return ms;
}

static void test_walk_days(void)
{
    bt_s3_walk_start w;
    int64_t first, last, now = ms_of("2026-10-20T08:00:00Z");

    memset(&w, 0, sizeof w);
    /* a window: its days, and the day after its end (files are dated by delivery) */
    CHECK_INT(bt_s3_walk_days(&w, ms_of("2026-10-01T13:00:00Z"), ms_of("2026-10-02T01:00:00Z"), now,
                              &first, &last),
              0);
    CHECK_INT(first, day_of("2026-10-01"));
    CHECK_INT(last, day_of("2026-10-03"));
    /* no end: up to tomorrow */
    CHECK_INT(bt_s3_walk_days(&w, ms_of("2026-10-18T00:00:00Z"), INT64_MAX, now, &first, &last), 0);
    CHECK_INT(first, day_of("2026-10-18"));
    CHECK_INT(last, day_of("2026-10-21"));
    /* no start: the days are discovered, bounded above */
    CHECK_INT(bt_s3_walk_days(&w, INT64_MIN, ms_of("2026-10-05T00:00:00Z"), now, &first, &last), 1);
    CHECK(first == INT64_MIN);
    CHECK_INT(last, day_of("2026-10-06"));
    /* a long window: discovered within its bounds */
    CHECK_INT(bt_s3_walk_days(&w, ms_of("2026-01-01T00:00:00Z"), INT64_MAX, now, &first, &last), 1);
    CHECK_INT(first, day_of("2026-01-01"));
    /* days named by the prefix: exactly those */
    w.year = 2026;
    w.month = 10;
    w.day = 2;
    CHECK_INT(bt_s3_walk_days(&w, INT64_MIN, INT64_MAX, now, &first, &last), 0);
    CHECK_INT(first, day_of("2026-10-02"));
    CHECK_INT(last, day_of("2026-10-02"));
    w.day = 0;
    CHECK_INT(bt_s3_walk_days(&w, ms_of("2026-10-10T05:00:00Z"), ms_of("2026-10-12T05:00:00Z"), now,
                              &first, &last),
              0);
    CHECK_INT(first, day_of("2026-10-10"));
    CHECK_INT(last, day_of("2026-10-13"));
    w.month = 2;
    CHECK_INT(bt_s3_walk_days(&w, INT64_MIN, INT64_MAX, now, &first, &last), 0);
    CHECK_INT(first, day_of("2026-02-01"));
    CHECK_INT(last, day_of("2026-02-28"));
    /* a window outside the prefix's days: nothing to read */
    CHECK_INT(bt_s3_walk_days(&w, ms_of("2026-10-10T05:00:00Z"), INT64_MAX, now, &first, &last), 0);
    CHECK(first > last);
}

static void test_start_after(void)
{
    char sa[256];
    bt_s3_walk_start_after("AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/", "111122223333",
                           "us-east-1", ms_of("2026-10-01T13:37:30.500Z"), sa, sizeof sa);
    CHECK_STR(sa, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/"
                  "111122223333_CloudTrail_us-east-1_20261001T1337Z");
    /* a file delivered in that minute sorts after it, one from the minute before does not */
    CHECK(strcmp("AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/"
                 "111122223333_CloudTrail_us-east-1_20261001T1337Z_AbCdEfGhIjKlMnOp.json.gz",
                 sa) > 0);
    CHECK(strcmp("AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/"
                 "111122223333_CloudTrail_us-east-1_20261001T1336Z_AbCdEfGhIjKlMnOp.json.gz",
                 sa) < 0);
}

static void test_error_classes(void)
{
    bt_error e = BT_ERROR_INIT;
    bt_error_set(&e, BT_EAWS, "x");
    snprintf(e.aws_code, sizeof e.aws_code, "AccessDenied");
    e.http_status = 403;
    CHECK(bt_s3_error_is_fatal(&e));
    snprintf(e.aws_code, sizeof e.aws_code, "NoSuchBucket");
    e.http_status = 404;
    CHECK(bt_s3_error_is_fatal(&e));
    snprintf(e.aws_code, sizeof e.aws_code, "NoSuchKey");
    CHECK(!bt_s3_error_is_fatal(&e));
    snprintf(e.aws_code, sizeof e.aws_code, "SlowDown");
    e.http_status = 503;
    CHECK(!bt_s3_error_is_fatal(&e));
    snprintf(e.aws_code, sizeof e.aws_code, "Whatever");
    e.http_status = 403;
    CHECK(bt_s3_error_is_fatal(&e));
    bt_error_set(&e, BT_ECRED, "no credentials");
    CHECK(bt_s3_error_is_fatal(&e));
    bt_error_set(&e, BT_EPARSE, "bad gzip");
    CHECK(!bt_s3_error_is_fatal(&e));
}

static int batches;
static int on_batch(void *ctx, const bt_batch *b)
{
    (void)ctx;
    (void)b;
    batches++;
    return 0;
}

/* An endpoint nobody answers: the walk stops at its first listing, with one line
 * naming the s3:// URL. */
static void test_scan_unreachable(void)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    bt_s3_scan_spec spec;
    bt_scan_opts so;
    bt_read_stats st;
    bt_error err = BT_ERROR_INIT;
    int rc;

    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
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
    spec.url = "s3://trail/logs";
    spec.start_ms = INT64_MIN;
    spec.end_ms = INT64_MAX;
    spec.connections = 4;
    so.on_batch = on_batch;
    rc = bt_scan_s3(&spec, &so, &st, NULL, &err);
    CHECK_INT(rc, BT_EHTTP);
    CHECK(strncmp(err.msg, "'s3://trail/logs/AWSLogs/': ListObjectsV2", 41) == 0);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK_INT(batches, 0);
    CHECK_INT(st.files, 0);
    /* a bad layout is refused before anything is sent */
    spec.url = "s3://trail/AWSLogs/12/";
    CHECK_INT(bt_scan_s3(&spec, &so, &st, NULL, &err), BT_EINVAL);
    bt_aws_client_free(c);
}

BT_TEST_MAIN(test_bucket_names, test_parse_url, test_encoding, test_sign_like_botocore,
             test_list_parse, test_list_parse_errors, test_walk_parse, test_walk_days,
             test_start_after, test_error_classes, test_scan_unreachable)
