/*
 * json_speed.c - parser throughput on CloudTrail-like input, in MB/s.
 *
 * Usage: bench-json_speed [FILE] [--seconds S] [--records N] [--emit]
 * (--emit prints the synthetic archive to stdout instead of measuring)
 * Without FILE it generates a deterministic synthetic trail: records of ~1-2 KB like
 * CloudTrail's (nested userIdentity/sessionContext, requestParameters,
 * responseElements, resources, tlsDetails; mostly ASCII strings, some escapes and
 * some non-ASCII). It measures
 *   archive: one {"Records":[...]} document (an S3 log file), parsed whole;
 *   ndjson:  one record per line, bt_json_parse_prefix + arena reset per record;
 *   write:   compact writing of the parsed archive.
 * With FILE, the file is parsed whole (archive) and, if it has several lines, line by
 * line (ndjson). Figures are the best of several rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

static unsigned long long g_rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static void hexid(char *o, int n)
{
    int i;
    for (i = 0; i < n; i++)
        o[i] = "0123456789abcdef"[rnd(16)];
    o[n] = 0;
}

static const char *g_events[] = {
    "StartBuild",        "BatchGetBuilds", "GetObject",       "PutObject",      "AssumeRole",
    "DescribeInstances", "UpdateProject",  "CreateLogStream", "GetSecretValue", "Decrypt"};
static const char *g_sources[] = {"codebuild.amazonaws.com", "s3.amazonaws.com",
                                  "sts.amazonaws.com",       "ec2.amazonaws.com",
                                  "logs.amazonaws.com",      "secretsmanager.amazonaws.com",
                                  "kms.amazonaws.com"};

/* Appends one synthetic CloudTrail record (compact JSON). */
static void gen_record(bt_buf *b, int i)
{
    char uuid[40], akid[24], reqid[40], evid[40], bid[40];
    const char *ev = g_events[rnd(10)], *src = g_sources[rnd(7)];
    int k = rnd(10);
    hexid(uuid, 32);
    hexid(akid, 16);
    hexid(reqid, 32);
    hexid(evid, 32);
    hexid(bid, 36);
    bt_buf_printf(
        b,
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
        "\"principalId\":\"AROA%sEXAMPLE:AWSCodeBuild-%s\","
        "\"arn\":\"arn:aws:sts::123456789012:assumed-role/codebuild-service-role/"
        "AWSCodeBuild-%s\",\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIA%s\","
        "\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":"
        "\"AROA%sEXAMPLE\",\"arn\":\"arn:aws:iam::123456789012:role/service-role/"
        "codebuild-service-role\",\"accountId\":\"123456789012\",\"userName\":"
        "\"codebuild-service-role\"},\"webIdFederationData\":{},\"attributes\":{"
        "\"creationDate\":\"2024-03-%02dT%02d:%02d:%02dZ\",\"mfaAuthenticated\":\"false\"}},"
        "\"invokedBy\":\"codebuild.amazonaws.com\"},\"eventTime\":\"2024-03-%02dT%02d:%02d:%02dZ\","
        "\"eventSource\":\"%s\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\","
        "\"sourceIPAddress\":\"codebuild.amazonaws.com\",\"userAgent\":\"aws-sdk-java/2.20.%d "
        "Linux/5.10.205-195.807.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS "
        "Java/17.0.9 vendor/Amazon.com_Inc. exec-env/AWS_ECS_EC2 io/sync "
        "http/Apache cfg/retry-mode/standard\",",
        uuid, uuid, uuid, akid, uuid, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, 1 + i % 28, i % 24,
        (i * 3) % 60, (i * 11) % 60, src, ev, i % 300);
    if (k < 6)
        bt_buf_printf(b,
                      "\"requestParameters\":{\"projectName\":\"deploy-%d\",\"sourceVersion\":"
                      "\"refs/heads/main\",\"environmentVariablesOverride\":[{\"name\":"
                      "\"STAGE\",\"value\":\"prod\",\"type\":\"PLAINTEXT\"},{\"name\":"
                      "\"COMMIT_MSG\",\"value\":\"Fix \\\"quoted\\\" path C:\\\\tmp\\n"
                      "caf\xc3\xa9 \\u00e9t\xc3\xa9\",\"type\":\"PLAINTEXT\"}],"
                      "\"timeoutInMinutesOverride\":%d,\"privilegedModeOverride\":false},",
                      i % 50, 60 + i % 5);
    else if (k < 8)
        bt_buf_printf(b,
                      "\"requestParameters\":{\"bucketName\":\"artifacts-123456789012\","
                      "\"Host\":\"artifacts-123456789012.s3.us-east-1.amazonaws.com\","
                      "\"key\":\"deploy-%d/%s/output.zip\",\"x-id\":\"PutObject\"},",
                      i % 50, bid);
    else
        bt_buf_puts(b, "\"requestParameters\":null,");
    if (k < 3)
        bt_buf_printf(b,
                      "\"responseElements\":{\"build\":{\"id\":\"deploy-%d:%s\",\"arn\":"
                      "\"arn:aws:codebuild:us-east-1:123456789012:build/deploy-%d:%s\","
                      "\"buildNumber\":%d,\"startTime\":\"Mar %d, 2024 10:11:12 AM\","
                      "\"currentPhase\":\"QUEUED\",\"buildStatus\":\"IN_PROGRESS\","
                      "\"projectName\":\"deploy-%d\",\"phases\":[{\"phaseType\":\"SUBMITTED\","
                      "\"phaseStatus\":\"SUCCEEDED\",\"durationInSeconds\":0},{\"phaseType\":"
                      "\"QUEUED\"}],\"timeoutInMinutes\":60,\"queuedTimeoutInMinutes\":480,"
                      "\"buildComplete\":false,\"initiator\":\"alice\",\"encryptionKey\":"
                      "\"arn:aws:kms:us-east-1:123456789012:alias/aws/s3\"}},",
                      i % 50, bid, i % 50, bid, i, 1 + i % 28, i % 50);
    else
        bt_buf_puts(b, "\"responseElements\":null,");
    bt_buf_printf(b,
                  "\"requestID\":\"%s\",\"eventID\":\"%s\",\"readOnly\":%s,"
                  "\"resources\":[{\"accountId\":\"123456789012\",\"type\":"
                  "\"AWS::CodeBuild::Project\",\"ARN\":\"arn:aws:codebuild:us-east-1:"
                  "123456789012:project/deploy-%d\"}],\"eventType\":\"AwsApiCall\","
                  "\"managementEvent\":true,\"recipientAccountId\":\"123456789012\","
                  "\"eventCategory\":\"Management\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\","
                  "\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":"
                  "\"codebuild.us-east-1.amazonaws.com\"},\"sessionCredentialFromConsole\":"
                  "\"false\",\"latencyMs\":%d.%d}",
                  reqid, evid, k & 1 ? "true" : "false", i % 50, i % 900, i % 10);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    double seconds = 1.0;
    int nrec = 20000, i, round;
    bt_buf doc = BT_BUF_INIT, nd = BT_BUF_INIT, out = BT_BUF_INIT;
    bt_arena *arena = bt_arena_new(1 << 20, 0);
    bt_error err = BT_ERROR_INIT;
    bt_json *v = NULL;
    double best_doc = 0, best_nd = 0, best_wr = 0;
    size_t nlines = 0;
    int emit = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            nrec = atoi(argv[++i]);
        else if (strcmp(argv[i], "--emit") == 0)
            emit = 1;
        else
            file = argv[i];
    }
    if (file) {
        if (bt_buf_read_file(&doc, file, &err)) {
            fprintf(stderr, "bench-json_speed: %s\n", err.msg);
            return 1;
        }
        bt_buf_append(&nd, doc.data, doc.len);
    } else {
        bt_buf_puts(&doc, "{\"Records\":[");
        for (i = 0; i < nrec; i++) {
            size_t at = nd.len;
            if (i)
                bt_buf_putc(&doc, ',');
            gen_record(&nd, i);
            bt_buf_append(&doc, nd.data + at, nd.len - at);
            bt_buf_putc(&nd, '\n');
        }
        bt_buf_puts(&doc, "]}");
    }
    if (emit) {
        fwrite(doc.data, 1, doc.len, stdout);
        return 0;
    }
    for (i = 0; i < (int)nd.len; i++)
        nlines += nd.data[i] == '\n';

    if (bt_json_parse(arena, doc.data, doc.len, NULL, &v, &err)) {
        fprintf(stderr, "bench-json_speed: %s\n", err.msg);
        return 1;
    }
    printf("input: %s, %.1f MB, %zu lines, average line %.0f bytes\n",
           file ? file : "synthetic CloudTrail archive", (double)doc.len / 1e6, nlines,
           nlines ? (double)nd.len / (double)nlines : 0.0);
    printf("tree: %.2f arena bytes per input byte\n",
           (double)bt_arena_used(arena) / (double)doc.len);

    for (round = 0; round < 5; round++) {
        double t0 = now(), t;
        int reps = 0;
        do {
            bt_arena_reset(arena);
            if (bt_json_parse(arena, doc.data, doc.len, NULL, &v, &err)) {
                fprintf(stderr, "bench-json_speed: %s\n", err.msg);
                return 1;
            }
            reps++;
            t = now() - t0;
        } while (t < seconds / 5);
        if ((double)doc.len * reps / t / 1e6 > best_doc)
            best_doc = (double)doc.len * reps / t / 1e6;
    }
    printf("archive (whole document): %.0f MB/s\n", best_doc);

    if (nlines > 1) {
        for (round = 0; round < 5; round++) {
            double t0 = now(), t;
            size_t bytes = 0;
            do {
                size_t off = 0;
                while (off < nd.len) {
                    size_t used;
                    bt_arena_reset(arena);
                    if (bt_json_parse_prefix(arena, nd.data + off, nd.len - off, NULL, &v, &used,
                                             &err)) {
                        if (off + 1 >= nd.len)
                            break;
                        fprintf(stderr, "bench-json_speed: %s\n", err.msg);
                        return 1;
                    }
                    off += used;
                    while (off < nd.len && (nd.data[off] == '\n' || nd.data[off] == ' ' ||
                                            nd.data[off] == '\r' || nd.data[off] == '\t'))
                        off++;
                }
                bytes += nd.len;
                t = now() - t0;
            } while (t < seconds / 5);
            if ((double)bytes / t / 1e6 > best_nd)
                best_nd = (double)bytes / t / 1e6;
        }
        printf("ndjson (record by record): %.0f MB/s\n", best_nd);
    }

    bt_arena_reset(arena);
    bt_json_parse(arena, doc.data, doc.len, NULL, &v, &err);
    for (round = 0; round < 3; round++) {
        double t0 = now(), t;
        size_t bytes = 0;
        do {
            bt_buf_clear(&out);
            bt_json_write(&out, v, NULL);
            bytes += out.len;
            t = now() - t0;
        } while (t < seconds / 5);
        if ((double)bytes / t / 1e6 > best_wr)
            best_wr = (double)bytes / t / 1e6;
    }
    printf("write (compact): %.0f MB/s\n", best_wr);

    bt_buf_dispose(&doc);
    bt_buf_dispose(&nd);
    bt_buf_dispose(&out);
    bt_arena_free(arena);
    return 0;
}
