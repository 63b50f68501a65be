/*
 * rules_match.c - evaluates compiled Sigma rules over a parsed record: dotted field
 * paths walk objects and fan out over arrays (any element), derived buildtrail.* fields
 * come from the caller, values match per the spec (case-insensitive ASCII unless
 * cased/re, wildcards, numbers by value, null = absent or null, containers match when
 * any value inside does). Allocation-free; dispatches on the record's eventName.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

#define MATCH_MAX_DEPTH 32

static unsigned char g_lower[256];
static pthread_once_t g_lower_once = PTHREAD_ONCE_INIT;

static void lower_fill(void)
{
    int i;
    for (i = 0; i < 256; i++)
        g_lower[i] = (unsigned char)tolower(i);
}

/* Once, whichever thread comes first (worker threads match in parallel). */
static void lower_init(void)
{
    pthread_once(&g_lower_once, lower_fill);
}

/* The match data a regex uses: the rule's own, or one of this call's (rules_match_mt:
 * matching in several threads at once), made at the first regex evaluated. */
static pcre2_match_data *match_data(const rvalue *v, rmctx *m)
{
    if (!m->own_md)
        return v->md;
    if (!m->md)
        m->md = pcre2_match_data_create(1, NULL);
    return m->md;
}

/* a (record text) equals b (pattern, already lowercase unless cased). */
static bool eq_text(const char *a, size_t alen, const char *b, size_t blen, bool cased)
{
    size_t i;
    if (alen != blen)
        return false;
    if (cased)
        return memcmp(a, b, alen) == 0;
    for (i = 0; i < alen; i++)
        if (g_lower[(unsigned char)a[i]] != (unsigned char)b[i])
            return false;
    return true;
}

bool rules_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;
    lower_init();
    if (alen != blen)
        return false;
    for (i = 0; i < alen; i++)
        if (g_lower[(unsigned char)a[i]] != g_lower[(unsigned char)b[i]])
            return false;
    return true;
}

static bool find_text(const char *s, size_t n, const char *lit, size_t llen, bool cased)
{
    const char *p, *end;
    unsigned char f;
    if (llen == 0)
        return true;
    if (llen > n)
        return false;
    if (cased)
        return memmem(s, n, lit, llen) != NULL;
    f = (unsigned char)lit[0];
    end = s + n - llen;
    for (p = s; p <= end; p++)
        if (g_lower[(unsigned char)*p] == f && eq_text(p + 1, llen - 1, lit + 1, llen - 1, false))
            return true;
    return false;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static bool glob(const rvalue *v, const char *s, size_t n)
{
    const char *p = v->pat;
    const unsigned char *w = v->wild;
    size_t pn = v->plen, pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < n) {
        if (pi < pn && w[pi] == W_STAR) {
            star_p = pi++;
            star_s = si;
        } else if (pi < pn && w[pi] == W_ONE) {
            pi++;
            si += utf8_len((unsigned char)s[si]);
            if (si > n)
                si = n;
        } else if (pi < pn && (v->cased ? p[pi] == s[si]
                                        : (unsigned char)p[pi] == g_lower[(unsigned char)s[si]])) {
            pi++, si++;
        } else if (star_p != (size_t)-1) {
            pi = star_p + 1;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < pn && w[pi] == W_STAR)
        pi++;
    return pi == pn;
}

static bool match_text(const rvalue *v, int shape, const char *s, size_t n)
{
    switch (shape) {
    case SH_EXACT: return eq_text(s, n, v->lit, v->llen, v->cased);
    case SH_PREFIX: return n >= v->llen && eq_text(s, v->llen, v->lit, v->llen, v->cased);
    case SH_SUFFIX:
        return n >= v->llen && eq_text(s + n - v->llen, v->llen, v->lit, v->llen, v->cased);
    case SH_CONTAINS: return find_text(s, n, v->lit, v->llen, v->cased);
    case SH_ANY: return true;
    default: return glob(v, s, n);
    }
}

/* Text of a scalar: strings as is, numbers as written, booleans true/false. */
static bool scalar_text(const bt_json *j, char *buf, size_t bufsz, const char **s, size_t *n)
{
    switch (j->type) {
    case BT_JSON_STRING: *s = j->u.str, *n = j->len; return true;
    case BT_JSON_TRUE: *s = "true", *n = 4; return true;
    case BT_JSON_FALSE: *s = "false", *n = 5; return true;
    case BT_JSON_NUMBER:
        if (j->u.str) {
            *s = j->u.str, *n = j->len;
        } else {
            int k = snprintf(buf, bufsz, "%.17g", j->num);
            *s = buf, *n = k > 0 && (size_t)k < bufsz ? (size_t)k : 0;
        }
        return true;
    default: return false;
    }
}

static bool number_of(const bt_json *j, double *out)
{
    char buf[80], *end;
    if (j->type == BT_JSON_NUMBER) {
        *out = j->num;
        return true;
    }
    if (j->type != BT_JSON_STRING || j->len == 0 || j->len >= sizeof buf)
        return false;
    memcpy(buf, j->u.str, j->len);
    buf[j->len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    return end == buf + j->len && errno == 0 && !isspace((unsigned char)buf[0]);
}

static bool match_cidr(const rvalue *v, const bt_json *j)
{
    char buf[64];
    unsigned char ip[16];
    int bytes, bits;
    if (j->type != BT_JSON_STRING || j->len == 0 || j->len >= sizeof buf)
        return false;
    memcpy(buf, j->u.str, j->len);
    buf[j->len] = '\0';
    if (inet_pton(v->family == 4 ? AF_INET : AF_INET6, buf, ip) != 1)
        return false;
    bytes = v->prefix / 8;
    bits = v->prefix % 8;
    if (memcmp(ip, v->net, (size_t)bytes) != 0)
        return false;
    if (bits) {
        unsigned char mask = (unsigned char)(0xFF << (8 - bits));
        return (ip[bytes] & mask) == (v->net[bytes] & mask);
    }
    return true;
}

typedef bool (*leaf_fn)(const void *arg, const bt_json *node, rmctx *m);

static bool resolve(const bt_json *node, const rpath *p, size_t i, leaf_fn fn, const void *arg,
                    rmctx *m, int depth);

/* Applies fn to the value of path p: a record field or a derived one. */
static bool resolve_path(const rpath *p, leaf_fn fn, const void *arg, rmctx *m)
{
    if (p->derived < 0 && p->top >= 0 && m->top_ready)
        return m->top[p->top] ? resolve(m->top[p->top], p, 1, fn, arg, m, 1) : false;
    if (p->derived < 0)
        return m->record ? resolve(m->record, p, 0, fn, arg, m, 0) : false;
    if (p->derived < DF_NFIXED)
        return m->dset[p->derived] && fn(arg, &m->dfix[p->derived], m);
    if (m->derived) {
        size_t i;
        for (i = 0; i < m->derived->nextra; i++) {
            const bt_rule_field *f = &m->derived->extra[i];
            if (f->name && strcmp(f->name, p->dotted) == 0 && f->value) {
                bt_json tmp;
                memset(&tmp, 0, sizeof tmp);
                tmp.type = BT_JSON_STRING;
                tmp.u.str = f->value;
                tmp.len = strlen(f->value);
                if (fn(arg, &tmp, m))
                    return true;
            }
        }
    }
    return false;
}

static bool resolve(const bt_json *node, const rpath *p, size_t i, leaf_fn fn, const void *arg,
                    rmctx *m, int depth)
{
    size_t k;
    if (depth > MATCH_MAX_DEPTH)
        return false;
    if (i == p->nseg)
        return fn(arg, node, m);
    if (node->type == BT_JSON_ARRAY) {
        for (k = 0; k < node->len; k++)
            if (resolve(node->u.items[k], p, i, fn, arg, m, depth + 1))
                return true;
        return false;
    }
    if (node->type != BT_JSON_OBJECT)
        return false;
    for (k = 0; k < node->len; k++) {
        const bt_json_member *mb = &node->u.members[k];
        if (mb->key_len == p->seglen[i] && mb->key[0] == p->seg[i][0] &&
            memcmp(mb->key, p->seg[i], mb->key_len) == 0 &&
            resolve(mb->value, p, i + 1, fn, arg, m, depth + 1))
            return true;
    }
    return false;
}

static bool leaf_true(const void *arg, const bt_json *node, rmctx *m)
{
    (void)arg, (void)node, (void)m;
    return true;
}

static bool leaf_nonnull(const void *arg, const bt_json *node, rmctx *m)
{
    (void)arg, (void)m;
    return node->type != BT_JSON_NULL;
}

typedef struct fref_arg {
    const rvalue *v;
    const char *s;
    size_t n;
} fref_arg;

/* fieldref: the referenced field's value b against this field's text a. */
static bool leaf_fref_cmp(const void *arg, const bt_json *node, rmctx *m)
{
    const fref_arg *fa = arg;
    char buf[40];
    const char *b;
    size_t bn, i;
    (void)m;
    if (!scalar_text(node, buf, sizeof buf, &b, &bn))
        return false;
    switch (fa->v->shape) {
    case SH_PREFIX: return fa->n >= bn && rules_ieq(fa->s, bn, b, bn);
    case SH_SUFFIX: return fa->n >= bn && rules_ieq(fa->s + fa->n - bn, bn, b, bn);
    case SH_CONTAINS:
        for (i = 0; i + bn <= fa->n; i++)
            if (rules_ieq(fa->s + i, bn, b, bn))
                return true;
        return false;
    default: return rules_ieq(fa->s, fa->n, b, bn);
    }
}

static bool match_scalar(const rvalue *v, const bt_json *j, rmctx *m)
{
    char buf[40];
    const char *s;
    size_t n;
    double d;
    switch (v->kind) {
    case V_PATTERN: return scalar_text(j, buf, sizeof buf, &s, &n) && match_text(v, v->shape, s, n);
    case V_NUMBER:
        if (j->type == BT_JSON_NUMBER)
            return j->num == v->num;
        return j->type == BT_JSON_STRING && eq_text(j->u.str, j->len, v->pat, v->plen, false);
    case V_CMP:
        if (!number_of(j, &d))
            return false;
        return v->cmp == CMP_LT    ? d < v->num
               : v->cmp == CMP_LTE ? d <= v->num
               : v->cmp == CMP_GT  ? d > v->num
                                   : d >= v->num;
    case V_REGEX: /* the required literal first: cheaper than the regex */
        return scalar_text(j, buf, sizeof buf, &s, &n) &&
               (!v->llen || find_text(s, n, v->lit, v->llen, v->cased)) && match_data(v, m) &&
               pcre2_match(v->re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, match_data(v, m),
                           NULL) >= 0;
    case V_CIDR: return match_cidr(v, j);
    case V_FIELDREF: {
        fref_arg fa;
        if (!scalar_text(j, buf, sizeof buf, &fa.s, &fa.n))
            return false;
        fa.v = v;
        return resolve_path(&v->ref, leaf_fref_cmp, &fa, m);
    }
    default: return false;
    }
}

/* A value against a node: containers match when any value inside does. */
static bool match_any(const rvalue *v, const bt_json *j, rmctx *m, int depth)
{
    size_t k;
    if (depth > MATCH_MAX_DEPTH)
        return false;
    if (j->type == BT_JSON_ARRAY) {
        for (k = 0; k < j->len; k++)
            if (match_any(v, j->u.items[k], m, depth + 1))
                return true;
        return false;
    }
    if (j->type == BT_JSON_OBJECT) {
        for (k = 0; k < j->len; k++)
            if (match_any(v, j->u.members[k].value, m, depth + 1))
                return true;
        return false;
    }
    return match_scalar(v, j, m);
}

static bool leaf_match(const void *arg, const bt_json *node, rmctx *m)
{
    return match_any(arg, node, m, 0);
}

static bool eval_value(const ritem *it, const rvalue *v, rmctx *m)
{
    if (it->keyword)
        return m->record && match_any(v, m->record, m, 0);
    if (v->kind == V_NULL)
        return !resolve_path(&it->path, leaf_nonnull, NULL, m);
    if (v->kind == V_EXISTS)
        return resolve_path(&it->path, leaf_true, NULL, m) == v->exists;
    return resolve_path(&it->path, leaf_match, v, m);
}

static bool eval_item(const ritem *it, rmctx *m)
{
    size_t i;
    bool r = it->all;
    for (i = 0; i < it->nvals; i++) {
        bool x = eval_value(it, &it->vals[i], m);
        if (it->all && !x) {
            r = false;
            break;
        }
        if (!it->all && x) {
            r = true;
            break;
        }
    }
    return it->neg ? !r : r;
}

static bool eval_sel(const rsel *s, rmctx *m)
{
    size_t a, i;
    for (a = 0; a < s->nalts; a++) {
        const ralt *alt = &s->alts[a];
        for (i = 0; i < alt->nitems && eval_item(&alt->items[i], m); i++)
            ;
        if (i == alt->nitems)
            return true;
    }
    return false;
}

bool rules_eval(const rnode *n, rmctx *m)
{
    size_t i;
    switch (n->op) {
    case N_SEL: return eval_sel(n->sel, m);
    case N_NOT: return !rules_eval(n->kids[0], m);
    case N_AND:
        for (i = 0; i < n->nkids; i++)
            if (!rules_eval(n->kids[i], m))
                return false;
        return true;
    default:
        for (i = 0; i < n->nkids; i++)
            if (rules_eval(n->kids[i], m))
                return true;
        return false;
    }
}

static void set_str(rmctx *m, int k, const char *s)
{
    if (!s)
        return;
    memset(&m->dfix[k], 0, sizeof m->dfix[k]);
    m->dfix[k].type = BT_JSON_STRING;
    m->dfix[k].u.str = s;
    m->dfix[k].len = strlen(s);
    m->dset[k] = true;
}

unsigned rules_top_hash(const char *key, size_t len)
{
    return (unsigned)(len * 31u + (unsigned char)key[0] * 7u + (unsigned char)key[len - 1]) & 255u;
}

/* One pass over the record's members: the first member of each key the rules read. */
static void index_tops(rmctx *m, const bt_ruleset *rs, const bt_json *record)
{
    size_t k;
    for (k = 0; k < record->len; k++) {
        const bt_json_member *mb = &record->u.members[k];
        unsigned h;
        if (mb->key_len == 0)
            continue;
        for (h = rules_top_hash(mb->key, mb->key_len); rs->topslot[h] >= 0; h = (h + 1) & 255u) {
            int t = rs->topslot[h];
            if (rs->toplen[t] == mb->key_len && memcmp(rs->tops[t], mb->key, mb->key_len) == 0) {
                if (!m->top[t])
                    m->top[t] = mb->value;
                break;
            }
        }
    }
    m->top_ready = true;
}

void rules_mctx_init(rmctx *m, const bt_ruleset *rs, const bt_json *record,
                     const bt_rule_derived *d)
{
    lower_init();
    /* cleared field by field: only the used part of top[], dfix[k] only once dset[k] */
    m->record = record;
    m->top_ready = false;
    m->md = NULL;
    m->own_md = false;
    memset(m->dset, 0, sizeof m->dset);
    if (rs && rs->ntops && record && record->type == BT_JSON_OBJECT) {
        memset(m->top, 0, rs->ntops * sizeof m->top[0]);
        index_tops(m, rs, record);
    }
    m->derived = d;
    if (!d)
        return;
    set_str(m, DF_BUILD_ID, d->build_id);
    set_str(m, DF_BUILD_UUID, d->build_uuid);
    set_str(m, DF_PROJECT, d->project);
    set_str(m, DF_BUILD_STATE, d->build_state);
    if (d->is_build_call >= 0) {
        memset(&m->dfix[DF_IS_BUILD_CALL], 0, sizeof m->dfix[0]);
        m->dfix[DF_IS_BUILD_CALL].type = d->is_build_call ? BT_JSON_TRUE : BT_JSON_FALSE;
        m->dset[DF_IS_BUILD_CALL] = true;
    }
    if (d->source_ip_known >= 0) {
        memset(&m->dfix[DF_SOURCE_IP_KNOWN], 0, sizeof m->dfix[0]);
        m->dfix[DF_SOURCE_IP_KNOWN].type = d->source_ip_known ? BT_JSON_TRUE : BT_JSON_FALSE;
        m->dset[DF_SOURCE_IP_KNOWN] = true;
    }
    if (d->build_ended_age_s >= 0) {
        memset(&m->dfix[DF_BUILD_ENDED_AGE], 0, sizeof m->dfix[0]);
        m->dfix[DF_BUILD_ENDED_AGE].type = BT_JSON_NUMBER;
        m->dfix[DF_BUILD_ENDED_AGE].num = d->build_ended_age_s;
        m->dset[DF_BUILD_ENDED_AGE] = true;
    }
}

typedef struct text_arg {
    char *buf;
    size_t bufsz;
    const char **s;
    size_t *n;
} text_arg;

static bool leaf_text(const void *arg, const bt_json *node, rmctx *m)
{
    const text_arg *t = arg;
    (void)m;
    if (node->type == BT_JSON_ARRAY && node->len)
        return leaf_text(arg, node->u.items[0], m);
    if (node->type == BT_JSON_OBJECT || node->type == BT_JSON_ARRAY) {
        *t->s = node->src ? node->src : "";
        *t->n = node->src ? node->src_len : 0;
        return true;
    }
    if (node->type == BT_JSON_NULL)
        return false;
    return scalar_text(node, t->buf, t->bufsz, t->s, t->n);
}

bool rules_value_text(const rpath *p, rmctx *m, char *buf, size_t bufsz, const char **s, size_t *n)
{
    text_arg t = {buf, bufsz, s, n};
    return resolve_path(p, leaf_text, &t, m);
}

int bt_rule_match(const bt_rule *rule, const bt_json *record, const bt_rule_derived *derived)
{
    rmctx m;
    if (!rule || rule->info.kind != BT_RULE_DETECTION || !rule->final)
        return BT_EINVAL;
    rules_mctx_init(&m, rule->set, record, derived);
    return rules_eval(rule->final, &m) ? 1 : 0;
}

static uint64_t hash_lower(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ g_lower[(unsigned char)s[i]]) * 1099511628211ULL;
    return h;
}

/* The candidate rules for a record: by its eventName, else the unpinned ones. */
static void candidates(const bt_ruleset *rs, const rmctx *m, const size_t **list, size_t *n)
{
    const bt_json *record = m->record, *en = NULL;
    size_t k;
    if (m->top_ready)
        en = m->top[rs->en_top];
    for (k = 0; !m->top_ready && record && record->type == BT_JSON_OBJECT && k < record->len; k++)
        if (record->u.members[k].key_len == 9 &&
            memcmp(record->u.members[k].key, "eventName", 9) == 0) {
            en = record->u.members[k].value;
            break;
        }
    *list = rs->unpinned;
    *n = rs->nunpinned;
    if (rs->nbuckets == 0 || !en || en->type != BT_JSON_STRING) {
        if (en && en->type != BT_JSON_STRING) { /* unusual: check every rule */
            *list = NULL;
            *n = rs->nrules;
        }
        return;
    }
    {
        size_t b = (size_t)(hash_lower(en->u.str, en->len) & (rs->nbuckets - 1));
        while (rs->buckets[b].key) {
            const rdispatch *d = &rs->buckets[b];
            if (d->klen == en->len && eq_text(en->u.str, en->len, d->key, d->klen, false)) {
                *list = d->rules;
                *n = d->nrules;
                return;
            }
            b = (b + 1) & (rs->nbuckets - 1);
        }
    }
}

bool rules_find_ci(const char *s, size_t n, const char *lit, size_t llen)
{
    lower_init();
    return find_text(s, n, lit, llen, false);
}

size_t rules_bucket_of(const bt_ruleset *rs, const char *lower, size_t n)
{
    lower_init();
    return (size_t)(hash_lower(lower, n) & (rs->nbuckets - 1));
}

/* Evaluates the candidate rules of m's record. */
static int match_rules(const bt_ruleset *rs, rmctx *m, bt_rules_match_fn cb, void *ud)
{
    const size_t *list;
    size_t n, i;
    candidates(rs, m, &list, &n);
    for (i = 0; i < n; i++) {
        const bt_rule *r = rs->rules[list ? list[i] : i];
        if (r->info.kind != BT_RULE_DETECTION)
            continue;
        if (rules_eval(r->final, m) && cb && cb(ud, r))
            return BT_ESTOP;
    }
    return 0;
}

int bt_rules_match(const bt_ruleset *rs, const bt_json *record, const bt_rule_derived *derived,
                   bt_rules_match_fn cb, void *ud)
{
    rmctx m;
    if (!rs || !rs->compiled)
        return BT_EINVAL;
    rules_mctx_init(&m, rs, record, derived);
    return match_rules(rs, &m, cb, ud);
}

int rules_match_mt(const bt_ruleset *rs, const bt_json *record, const bt_rule_derived *derived,
                   bt_rules_match_fn cb, void *ud)
{
    rmctx m;
    int rc;
    if (!rs || !rs->compiled)
        return BT_EINVAL;
    rules_mctx_init(&m, rs, record, derived);
    m.own_md = true;
    rc = match_rules(rs, &m, cb, ud);
    pcre2_match_data_free(m.md);
    return rc;
}
