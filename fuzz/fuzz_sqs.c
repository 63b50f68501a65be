/*
 * fuzz_sqs.c - libFuzzer target for what watch's sqs:// source parses from the network
 * and the command line: the ReceiveMessage reply (every message kept has a receipt and
 * a NUL-terminated body of body_len bytes), queue locations and SNS topic ARNs (a
 * parse either fails with one message or fills NUL-terminated fields within their
 * arrays), and the resource table applied to the same bytes read as a CloudTrail record
 * (every name it reports is a non-empty string of the record).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws_sqs.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/json.h"

static bt_arena *g_arena;

static int on_resource(void *ctx, const bt_resource_rule *rule, const char *name)
{
    (void)ctx;
    if (!rule || !rule->type || !name || !*name)
        abort();
    return 0;
}

static void check_reply(const uint8_t *data, size_t size)
{
    bt_aws_response resp;
    bt_sqs_message *msgs = NULL;
    bt_error err = BT_ERROR_INIT;
    size_t n = 0, i;
    bt_aws_response_init(&resp);
    resp.http_status = 200;
    if (bt_buf_append(&resp.body, (const char *)data, size) == 0) {
        if (bt_sqs_receive_parse(g_arena, &resp, &msgs, &n, &err) == 0) {
            for (i = 0; i < n; i++)
                if (!msgs[i].receipt || !msgs[i].id || !msgs[i].body ||
                    strlen(msgs[i].body) > msgs[i].body_len || msgs[i].sent_ms < 0)
                    abort();
        } else if (n || !err.msg[0]) {
            abort();
        }
    }
    bt_aws_response_dispose(&resp);
}

static void check_strings(const uint8_t *data, size_t size)
{
    char *s, region[64];
    bt_sqs_ref ref;
    bt_error err = BT_ERROR_INIT;
    if (size > 4096 || !(s = malloc(size + 1)))
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    if (bt_sqs_parse(s, &ref, &err) == 0) {
        if (!ref.name[0] || strlen(ref.url) >= sizeof ref.url || strlen(ref.region) >= sizeof ref.region)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    bt_error_clear(&err);
    if (bt_sns_parse_arn(s, region, sizeof region, &err) == 0) {
        if (strlen(region) >= sizeof region)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(s);
}

static void check_resources(const uint8_t *data, size_t size)
{
    bt_json *root = NULL;
    if (bt_json_parse(g_arena, (const char *)data, size, NULL, &root, NULL) || root->type != BT_JSON_OBJECT)
        return;
    bt_resource_rules_apply(bt_json_get(root, "requestParameters"), bt_json_get(root, "responseElements"),
                            bt_json_get_str(root, "eventSource"), bt_json_get_str(root, "eventName"),
                            on_resource, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_arena)
        g_arena = bt_arena_new(0, 0);
    bt_arena_reset(g_arena);
    check_reply(data, size);
    check_strings(data, size);
    check_resources(data, size);
    return 0;
}
