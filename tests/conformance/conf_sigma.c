/*
 * conf_sigma.c - loads SigmaHQ's CloudTrail rules (../shared/conformance/sigma/
 * rules-cloudtrail) into one rule set and checks each rule against the true-positive
 * and true-negative records written for it in tests/rules/sigmahq/<rule-file-stem>.json
 * ({"tp": [...], "tn": [...]}): bt_rule_match, the set's eventName dispatch
 * (bt_rules_match) and the raw-byte pre-filter must all agree. argv[1] is the shared
 * conformance directory; exits 77 when it is missing.
 */
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"

typedef struct hit {
    const bt_rule *want;
    int seen;
} hit;

static int on_match(void *ud, const bt_rule *r)
{
    hit *h = ud;
    if (r == h->want)
        h->seen = 1;
    return 0;
}

static const char *stem_of(const char *path, char *buf, size_t n)
{
    const char *b = strrchr(path, '/');
    size_t len;
    b = b ? b + 1 : path;
    len = strlen(b);
    if (len > 4 && strcmp(b + len - 4, ".yml") == 0)
        len -= 4;
    if (len >= n)
        len = n - 1;
    memcpy(buf, b, len);
    buf[len] = '\0';
    return buf;
}

/* Checks one list of records; returns failures. */
static int check_list(const bt_ruleset *rs, const bt_rule *r, const bt_json *list, int want,
                      const char *stem, int *count)
{
    size_t i;
    int fails = 0;
    if (!list || list->type != BT_JSON_ARRAY || list->len == 0) {
        printf("FAIL %s: no %s records\n", stem, want ? "tp" : "tn");
        return 1;
    }
    for (i = 0; i < list->len; i++) {
        const bt_json *rec = list->u.items[i];
        hit h = {r, 0};
        int m = bt_rule_match(r, rec, NULL);
        bool pf = bt_rules_prefilter(rs, rec->src, rec->src_len);
        bt_rules_match(rs, rec, NULL, on_match, &h);
        (*count)++;
        if (m != want || h.seen != want || (want && !pf)) {
            printf("FAIL %s: %s[%zu]: rule %d, set %d, prefilter %d\n", stem, want ? "tp" : "tn", i,
                   m, h.seen, (int)pf);
            fails++;
        }
    }
    return fails;
}

int main(int argc, char **argv)
{
    char dir[4096], fixdir[4096], path[8192], src[4096], stem[256];
    const char *paths[1];
    bt_ruleset *rs = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *arena = NULL;
    DIR *d;
    size_t i, nfiles = 0;
    int fail = 0, ntp = 0, ntn = 0;

    if (argc < 2) {
        printf("SKIP: usage: conf_sigma CONFORMANCE_DIR\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "%s/sigma/rules-cloudtrail", argv[1]);
    d = opendir(dir);
    if (!d) {
        printf("SKIP: %s not found (the shared conformance suites are not beside the "
               "source tree)\n",
               dir);
        return 77;
    }
    while (readdir(d))
        nfiles++;
    closedir(d);
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(fixdir, sizeof fixdir, "%s/../rules/sigmahq", dirname(src));

    paths[0] = dir;
    if (bt_rules_load(paths, 1, &rs, &err) != 0) {
        printf("FAIL: the SigmaHQ rules do not load: %s\n", err.msg);
        return 1;
    }
    printf("loaded %zu rules from %s\n", bt_rules_count(rs), dir);
    if (bt_rules_count(rs) != 57) {
        printf("FAIL: expected 57 rules\n");
        fail++;
    }
    arena = bt_arena_new(0, 0);
    for (i = 0; i < bt_rules_count(rs); i++) {
        const bt_rule *r = bt_rules_at(rs, i);
        const bt_rule_info *in = bt_rule_get_info(r);
        bt_buf data = BT_BUF_INIT;
        bt_json *fx = NULL;
        int f0 = fail;
        stem_of(in->file, stem, sizeof stem);
        snprintf(path, sizeof path, "%s/%s.json", fixdir, stem);
        if (bt_buf_read_file(&data, path, &err) != 0 ||
            bt_json_parse(arena, data.data, data.len, NULL, &fx, &err) != 0) {
            printf("FAIL %s: no fixture: %s\n", stem, err.msg);
            fail++;
        } else {
            fail += check_list(rs, r, bt_json_get(fx, "tp"), 1, stem, &ntp);
            fail += check_list(rs, r, bt_json_get(fx, "tn"), 0, stem, &ntn);
        }
        if (fail == f0)
            printf("ok   %s (%s)\n", stem, in->title);
        bt_buf_dispose(&data);
    }
    printf("%zu rules, %d true-positive and %d true-negative records, %d failed\n",
           bt_rules_count(rs), ntp, ntn, fail);
    (void)nfiles;
    bt_arena_free(arena);
    bt_rules_free(rs);
    return fail ? 1 : 0;
}
