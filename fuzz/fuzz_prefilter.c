/* fuzz_prefilter.c - libFuzzer target for the rules' raw pre-filter (bt_rules_prefilter):
 * the input is a record's bytes; when it parses and a rule of either fixed set matches
 * it, the pre-filter must have let it through (it may only ever drop records no rule
 * matches). One set reads eventName values and a few other literals (one bt_mfind
 * pass, short ones among them), one has only literals of 3 bytes or more (bt_mfind's
 * one pass for all), the last more literals than bt_mfind takes (the prefix index). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"

static const char g_few[] =
    "title: names\nlogsource:\n  product: aws\ndetection:\n  s:\n    eventName:\n"
    "      - CreateRoute\n      - StopLogging\n  condition: s\n---\n"
    "title: slash\nlogsource:\n  product: aws\ndetection:\n  s:\n"
    "    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: s\n---\n"
    "title: short\nlogsource:\n  product: aws\ndetection:\n  s:\n    userAgent|contains: qz\n"
    "  condition: s\n---\n"
    "title: exact\nlogsource:\n  product: aws\ndetection:\n  s:\n    userIdentity.type: Root\n"
    "    eventName|startswith: Get\n  condition: s\n---\n"
    "title: keyword\nlogsource:\n  product: aws\ndetection:\n  kw:\n    - 'AWSCodeBuild-'\n"
    "  condition: kw\n";

/* literals of 3 bytes or more only: bt_mfind's one pass for all (Teddy) where AVX2 is */
static const char g_long[] =
    "title: names\nlogsource:\n  product: aws\ndetection:\n  s:\n    eventName: DeleteTrail\n"
    "  condition: s\n---\n"
    "title: slash\nlogsource:\n  product: aws\ndetection:\n  s:\n"
    "    userIdentity.arn|contains: ':assumed-role/aws:'\n  condition: s\n---\n"
    "title: exact\nlogsource:\n  product: aws\ndetection:\n  s:\n    userIdentity.type: Root\n"
    "  condition: s\n---\n"
    "title: keyword\nlogsource:\n  product: aws\ndetection:\n  kw:\n    - 'AWSCodeBuild-'\n"
    "    - TruffleHog\n  condition: kw\n";

static char g_many[8192];

static bt_ruleset *load(const char *text)
{
    bt_ruleset *rs = bt_rules_new();
    bt_error err = BT_ERROR_INIT;
    if (rs && (bt_rules_add_buffer(rs, "set.yml", text, strlen(text), &err) ||
               bt_rules_compile(rs, &err))) {
        fprintf(stderr, "fuzz_prefilter: %s\n", err.msg);
        __builtin_trap();
    }
    return rs;
}

static int on_match(void *ud, const bt_rule *r)
{
    (void)r;
    *(int *)ud = 1;
    return 1; /* one is enough */
}

static void check(const bt_ruleset *rs, const bt_json *rec, const uint8_t *data, size_t size)
{
    int matched = 0;
    (void)bt_rules_match(rs, rec, NULL, on_match, &matched);
    if (matched && !bt_rules_prefilter(rs, (const char *)data, size))
        __builtin_trap(); /* a record a rule matches was dropped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bt_ruleset *few, *many, *lng;
    bt_arena *a;
    bt_json *rec = NULL;
    if (!few) {
        size_t i, n = 0;
        few = load(g_few);
        lng = load(g_long);
        n += (size_t)snprintf(g_many, sizeof g_many,
                              "title: many\nlogsource:\n  product: aws\n"
                              "detection:\n  s:\n    requestParameters"
                              ".name|contains:\n");
        for (i = 0; i < 24; i++) /* more literals than bt_mfind takes */
            n += (size_t)snprintf(g_many + n, sizeof g_many - n, "      - lit%02zu/x\n", i);
        snprintf(g_many + n, sizeof g_many - n,
                 "  t:\n    eventName: DeleteTrail\n  condition: s or t\n");
        many = load(g_many);
    }
    a = bt_arena_new(0, 0);
    if (a && bt_json_parse(a, (const char *)data, size, NULL, &rec, NULL) == 0) {
        check(few, rec, data, size);
        check(lng, rec, data, size);
        check(many, rec, data, size);
    }
    bt_arena_free(a);
    return 0;
}
