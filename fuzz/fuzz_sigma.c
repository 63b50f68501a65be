/* fuzz_sigma.c - libFuzzer target for the Sigma rule loader: any bytes must load as a
 * rule document or fail cleanly with a one-line message; a loaded set is compiled,
 * matched against a fixed CloudTrail record, pre-filtered over the input itself, and
 * its correlations fed and flushed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"

static const char g_record[] =
    "{\"eventTime\":\"2025-01-01T00:00:00Z\",\"eventSource\":\"iam.amazonaws.com\","
    "\"eventName\":\"CreateAccessKey\",\"sourceIPAddress\":\"10.1.2.3\",\"errorCode\":null,"
    "\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::1:assumed-role/r/s\"},"
    "\"requestParameters\":{\"userName\":\"bob\",\"list\":[1,\"a\",{\"k\":true}]},\"eventID\":"
    "\"e1\"}";

typedef struct ctx {
    bt_rules_corr *c;
    const bt_json *rec;
} ctx;

static int on_alert(void *ud, const bt_rule_alert *a)
{
    (void)ud;
    return a->nevent_ids > 1000000; /* never */
}

static int on_match(void *ud, const bt_rule *r)
{
    ctx *x = ud;
    (void)bt_rule_get_info(r);
    return bt_rules_correlate(x->c, r, x->rec, NULL, 0, "e1", on_alert, NULL) == BT_ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_ruleset *rs = bt_rules_new();
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = NULL;
    bt_json *rec = NULL;
    ctx x = {NULL, NULL};
    size_t i;
    if (!rs)
        return 0;
    if (bt_rules_add_buffer(rs, "fuzz.yml", (const char *)data, size, &err) != 0 ||
        bt_rules_compile(rs, &err) != 0) {
        if (strchr(err.msg, '\n'))
            __builtin_trap(); /* messages are one line */
        goto done;
    }
    a = bt_arena_new(0, 0);
    if (!a || bt_json_parse(a, g_record, sizeof g_record - 1, NULL, &rec, NULL) != 0)
        goto done;
    for (i = 0; i < bt_rules_count(rs); i++)
        (void)bt_rule_get_plan(bt_rules_at(rs, i));
    (void)bt_rules_prefilter(rs, (const char *)data, size);
    x.c = bt_rules_corr_new(rs, NULL);
    x.rec = rec;
    if (x.c) {
        (void)bt_rules_match(rs, rec, NULL, on_match, &x);
        (void)bt_rules_corr_flush(x.c, INT64_MAX, on_alert, NULL);
    }
done:
    bt_rules_corr_free(x.c);
    bt_arena_free(a);
    bt_rules_free(rs);
    return 0;
}
