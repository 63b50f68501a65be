/*
 * rules_set.c - the rule set's lifecycle: creation, adding files and directories,
 * compile (unique ids and names, filters attached to their rules, correlation references
 * and aliases resolved, reference cycles refused, plans), inspection accessors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/source.h"
#include "rules/rules_int.h"
#include "util/mfind.h"

bt_ruleset *bt_rules_new(void)
{
    bt_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->arena = bt_arena_new(0, 0);
    if (!rs->arena) {
        free(rs);
        return NULL;
    }
    return rs;
}

void bt_rules_free(bt_ruleset *rs)
{
    size_t i;
    if (!rs)
        return;
    for (i = 0; i < rs->nres; i++) {
        pcre2_match_data_free(rs->mds[i]);
        pcre2_code_free(rs->res[i]);
    }
    free(rs->res);
    free(rs->mds);
    bt_mfind_free(rs->name_key);
    bt_mfind_free(rs->gen);
    bt_mfind_free(rs->gen_build);
    free(rs->rules);
    free(rs->filters);
    bt_arena_free(rs->arena);
    free(rs);
}

static int poison(bt_ruleset *rs, int rc, bt_error *err)
{
    rules_oneline(err);
    rs->failed = true;
    rs->fail_code = rc;
    snprintf(rs->fail_msg, sizeof rs->fail_msg, "%s", err ? err->msg : "");
    return rc;
}

static bool rule_ext(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int add_file(bt_ruleset *rs, const char *path, bt_error *err)
{
    bt_buf b;
    int rc;
    bt_buf_init(&b, BT_RULES_MAX_FILE + 1);
    rc = bt_buf_read_file(&b, path, err);
    if (rc == BT_ELIMIT || (rc == 0 && b.len > BT_RULES_MAX_FILE))
        rc =
            bt_error_set(err, BT_ELIMIT, "'%s': rule file over %zu bytes", path, BT_RULES_MAX_FILE);
    if (rc == 0)
        rc = bt_rules_add_buffer(rs, path, b.data ? b.data : "", b.len, err);
    bt_buf_dispose(&b);
    return rc;
}

int bt_rules_add_path(bt_ruleset *rs, const char *path, bt_error *err)
{
    bt_file_list files = {0};
    size_t i;
    int rc;
    if (!rs || !path)
        return bt_error_set(err, BT_EINVAL, "no rule set or path");
    if (rs->failed || rs->compiled)
        return bt_error_set(err, BT_EINVAL, "%s",
                            rs->failed ? "the rule set failed to load"
                                       : "the rule set is already compiled");
    /* a directory is walked recursively in name order; there only *.yml / *.yaml count */
    rc = strcmp(path, "-") == 0 ? bt_error_set(err, BT_EINVAL, "rules cannot be read from stdin")
                                : bt_file_list_add(&files, path, err);
    for (i = 0; rc == 0 && i < files.n; i++)
        if (!files.v[i].walked || rule_ext(files.v[i].path))
            rc = add_file(rs, files.v[i].path, err);
    bt_file_list_dispose(&files);
    return rc ? poison(rs, rc, err) : 0;
}

/* ---- compile ---- */

static bt_rule *find_ref(const bt_ruleset *rs, const char *ref)
{
    size_t i;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule_info *in = &rs->rules[i]->info;
        if ((in->id && strcmp(in->id, ref) == 0) || (in->name && strcmp(in->name, ref) == 0))
            return rs->rules[i];
    }
    return NULL;
}

static int fail_rule(const bt_rule *r, bt_error *err, int code, const char *what, const char *x)
{
    return bt_error_set(err, code, "'%s': rule '%s': %s '%s'", r->info.file, r->info.title, what,
                        x);
}

static int check_unique(bt_ruleset *rs, bt_error *err)
{
    size_t i, j;
    for (i = 0; i < rs->nrules; i++)
        for (j = 0; j < i; j++) {
            const bt_rule_info *a = &rs->rules[i]->info, *b = &rs->rules[j]->info;
            if (a->id && b->id && strcmp(a->id, b->id) == 0)
                return fail_rule(rs->rules[i], err, BT_EINVAL, "duplicate id", a->id);
            if (a->name && b->name && strcmp(a->name, b->name) == 0)
                return fail_rule(rs->rules[i], err, BT_EINVAL, "duplicate name", a->name);
        }
    return 0;
}

static int attach_filters(bt_ruleset *rs, bt_error *err)
{
    size_t i, f, t;
    for (i = 0; i < rs->nrules; i++)
        rs->rules[i]->final = rs->rules[i]->det.cond;
    for (f = 0; f < rs->nfilters; f++) {
        rfilter *fl = rs->filters[f];
        for (t = 0; t < fl->ntargets; t++) {
            bt_rule *r = find_ref(rs, fl->targets[t]);
            rnode *and, *not ;
            if (!r || r->info.kind != BT_RULE_DETECTION)
                return bt_error_set(err, BT_EINVAL, "'%s': rule '%s': filter names %s rule '%s'",
                                    fl->file, fl->title, r ? "a correlation" : "unknown",
                                    fl->targets[t]);
            and = rules_node(rs->arena, N_AND, 2);
            not = rules_node(rs->arena, N_NOT, 1);
            if (!and || !not )
                return bt_error_set(err, BT_ENOMEM, "out of memory");
            not ->kids[0] = fl->det.cond;
            and->kids[0] = r->final;
            and->kids[1] = not ;
            r->final = and;
        }
    }
    return 0;
}

static int add_user(bt_arena *a, bt_rule *r, bt_rule *user)
{
    bt_rule **n = bt_arena_calloc(a, (r->nusers + 1) * sizeof *n);
    if (!n)
        return BT_ENOMEM;
    if (r->nusers)
        memcpy(n, r->users, r->nusers * sizeof *n);
    n[r->nusers++] = user;
    r->users = n;
    return 0;
}

/* Depth of correlation chains; a cycle never bottoms out. */
static bool corr_cycle(const bt_rule *r, int depth)
{
    size_t i;
    if (depth > 16)
        return true;
    if (r->info.kind != BT_RULE_CORRELATION)
        return false;
    for (i = 0; i < r->corr.nrefs; i++)
        if (r->corr.rules[i] && corr_cycle(r->corr.rules[i], depth + 1))
            return true;
    return false;
}

static int resolve_corr(bt_ruleset *rs, bt_rule *r, bt_error *err)
{
    rcorr *k = &r->corr;
    size_t i, g, x;
    rctx c;
    memset(&c, 0, sizeof c);
    c.rs = rs;
    c.file = r->info.file;
    c.rule = r->info.title;
    c.err = err;
    k->rules = bt_arena_calloc(rs->arena, k->nrefs * sizeof *k->rules);
    k->gpaths = bt_arena_calloc(rs->arena, (k->ngroup * k->nrefs + 1) * sizeof *k->gpaths);
    if (!k->rules || !k->gpaths)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < k->nrefs; i++) {
        bt_rule *t = find_ref(rs, k->refs[i]);
        if (!t)
            return fail_rule(r, err, BT_EINVAL, "correlation names unknown rule", k->refs[i]);
        if (t == r)
            return fail_rule(r, err, BT_EINVAL, "correlation names itself", k->refs[i]);
        k->rules[i] = t;
        if (add_user(rs->arena, t, r))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if (!k->generate)
            t->info.alerts = false;
        for (g = 0; g < k->ngroup; g++) {
            const char *field = k->group[g];
            int rc;
            for (x = 0; x < k->naliases; x++)
                if (strcmp(k->alias_name[x], k->group[g]) == 0 &&
                    ((t->info.name && strcmp(k->alias_rule[x], t->info.name) == 0) ||
                     (t->info.id && strcmp(k->alias_rule[x], t->info.id) == 0)))
                    field = k->alias_field[x];
            if ((rc = rules_path(&c, field, &k->gpaths[g * k->nrefs + i])))
                return rc;
        }
    }
    return 0;
}

int bt_rules_compile(bt_ruleset *rs, bt_error *err)
{
    size_t i;
    int rc = 0;
    if (!rs)
        return bt_error_set(err, BT_EINVAL, "no rule set");
    if (rs->failed)
        return bt_error_set(err, BT_EINVAL, "the rule set failed to load: %s", rs->fail_msg);
    if (rs->compiled)
        return 0;
    if ((rc = check_unique(rs, err)) || (rc = attach_filters(rs, err)))
        goto done;
    for (i = 0; i < rs->nrules; i++) {
        bt_rule *r = rs->rules[i];
        if (r->info.kind == BT_RULE_CORRELATION) {
            r->corr_slot = rs->ncorr++;
            if ((rc = resolve_corr(rs, r, err)))
                goto done;
        }
    }
    for (i = 0; i < rs->nrules; i++)
        if (corr_cycle(rs->rules[i], 0)) {
            rc = fail_rule(rs->rules[i], err, BT_EINVAL,
                           "correlation chain loops or is deeper than", "16");
            goto done;
        }
    for (i = 0; i < rs->nrules; i++)
        if ((rs->rules[i]->info.kind == BT_RULE_DETECTION &&
             (rc = rules_plan_rule(rs, rs->rules[i]))) ||
            (rc = rules_alert_head(rs, rs->rules[i]))) {
            rc = bt_error_set(err, rc, "out of memory");
            goto done;
        }
    if ((rc = rules_plan_set(rs))) {
        rc = bt_error_set(err, rc, "out of memory");
        goto done;
    }
    rs->compiled = true;
done:
    return rc ? poison(rs, rc, err) : 0;
}

int bt_rules_load(const char *const *paths, size_t npaths, bt_ruleset **out, bt_error *err)
{
    bt_ruleset *rs = bt_rules_new();
    size_t i;
    int rc = 0;
    *out = NULL;
    if (!rs)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < npaths && rc == 0; i++)
        rc = bt_rules_add_path(rs, paths[i], err);
    if (rc == 0 && rs->nrules == 0 && rs->nfilters == 0)
        rc = bt_error_set(err, BT_EINVAL, "no Sigma rules found");
    if (rc == 0)
        rc = bt_rules_compile(rs, err);
    if (rc) {
        bt_rules_free(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

/* ---- inspection ---- */

size_t bt_rules_count(const bt_ruleset *rs)
{
    return rs ? rs->nrules : 0;
}

const bt_rule *bt_rules_at(const bt_ruleset *rs, size_t i)
{
    return rs && i < rs->nrules ? rs->rules[i] : NULL;
}

const bt_rule *bt_rules_find(const bt_ruleset *rs, const char *id_or_name)
{
    return rs && id_or_name ? find_ref(rs, id_or_name) : NULL;
}

const bt_rule_info *bt_rule_get_info(const bt_rule *r)
{
    return r ? &r->info : NULL;
}

const bt_rule_plan *bt_rule_get_plan(const bt_rule *r)
{
    return r && r->planned ? &r->plan : NULL;
}

const bt_rule_plan *bt_rules_get_plan(const bt_ruleset *rs)
{
    return rs && rs->compiled ? &rs->setplan : NULL;
}
