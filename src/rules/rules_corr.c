/*
 * rules_corr.c - Sigma correlation over time-ordered matches: event_count,
 * value_count, temporal and temporal_ordered, grouped by group-by values (aliases
 * applied), within a timespan. Conditions with only a lower bound fire as soon as they
 * hold over a sliding window; those with an upper bound (lt, lte, eq, neq) are decided
 * when the window that began with a group's first event closes. State per group is
 * dropped once older than the timespan, and capped in groups and events per group.
 * Correlation alerts feed correlations that reference them (chains).
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

#define CORR_BUCKETS 4096

typedef struct centry {
    int64_t t;
    char *id;
    char *value; /* value_count: the field's value */
    size_t ref;  /* which referenced rule matched */
} centry;

typedef struct cgroup {
    char *key; /* group values joined by \x1f */
    char **vals;
    centry *e;
    size_t n, cap;
    int64_t last;
    struct cgroup *hnext, *prev, *next;
} cgroup;

typedef struct ccorr {
    const bt_rule *rule;
    cgroup *table[CORR_BUCKETS];
    cgroup *head, *tail; /* by last update, oldest first */
    size_t ngroups;
} ccorr;

struct bt_rules_corr {
    const bt_ruleset *rs;
    ccorr **c; /* by corr_slot */
    size_t nc;
    size_t max_groups, max_events, max_bytes;
    size_t mem;
    int64_t now;
};

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

bt_rules_corr *bt_rules_corr_new(const bt_ruleset *rs, const bt_rules_corr_opts *opts)
{
    bt_rules_corr *c;
    size_t i;
    if (!rs || !rs->compiled)
        return NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rs = rs;
    c->max_groups = opts && opts->max_groups ? opts->max_groups : 100000;
    c->max_events = opts && opts->max_events_per_group ? opts->max_events_per_group : 10000;
    c->max_bytes = opts && opts->max_bytes ? opts->max_bytes : (size_t)64 << 20;
    c->now = INT64_MIN;
    c->nc = rs->ncorr;
    c->c = calloc(rs->ncorr + 1, sizeof *c->c);
    if (!c->c)
        goto fail;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule *r = rs->rules[i];
        if (r->info.kind != BT_RULE_CORRELATION)
            continue;
        c->c[r->corr_slot] = calloc(1, sizeof(ccorr));
        if (!c->c[r->corr_slot])
            goto fail;
        c->c[r->corr_slot]->rule = r;
        c->mem += sizeof(ccorr);
    }
    return c;
fail:
    bt_rules_corr_free(c);
    return NULL;
}

static void entry_free(bt_rules_corr *c, centry *e)
{
    c->mem -= (e->id ? strlen(e->id) + 1 : 0) + (e->value ? strlen(e->value) + 1 : 0);
    free(e->id);
    free(e->value);
}

/* Drops the first k entries of g. */
static void drop_entries(bt_rules_corr *c, cgroup *g, size_t k)
{
    size_t i;
    for (i = 0; i < k && i < g->n; i++)
        entry_free(c, &g->e[i]);
    if (k >= g->n) {
        g->n = 0;
        return;
    }
    memmove(g->e, g->e + k, (g->n - k) * sizeof *g->e);
    g->n -= k;
}

static void group_unlink(ccorr *k, cgroup *g)
{
    cgroup **pp = &k->table[hash_key(g->key) % CORR_BUCKETS];
    while (*pp && *pp != g)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = g->hnext;
    if (g->prev)
        g->prev->next = g->next;
    else
        k->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        k->tail = g->prev;
    k->ngroups--;
}

static void group_free(bt_rules_corr *c, ccorr *k, cgroup *g, size_t ngroup)
{
    size_t i;
    group_unlink(k, g);
    drop_entries(c, g, g->n);
    c->mem -= strlen(g->key) + 1 + sizeof *g + g->cap * sizeof(centry) + ngroup * sizeof(char *);
    for (i = 0; i < ngroup; i++) {
        c->mem -= strlen(g->vals[i]) + 1;
        free(g->vals[i]);
    }
    free(g->vals);
    free(g->e);
    free(g->key);
    free(g);
}

void bt_rules_corr_free(bt_rules_corr *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; c->c && i < c->nc; i++) {
        ccorr *k = c->c[i];
        if (!k)
            continue;
        while (k->head)
            group_free(c, k, k->head, k->rule->corr.ngroup);
        free(k);
    }
    free(c->c);
    free(c);
}

size_t bt_rules_corr_memory(const bt_rules_corr *c)
{
    return c ? c->mem : 0;
}

static bool upper_bounded(const rcorr *k)
{
    return k->has_hi || k->has_eq || k->has_neq;
}

/* The rule's condition over a count (temporal without a condition: every rule). */
static bool cond_holds(const bt_rule *r, uint64_t count)
{
    const rcorr *k = &r->corr;
    double v = (double)count;
    if (!k->has_lo && !k->has_hi && !k->has_eq && !k->has_neq)
        return count >= k->nrefs;
    if (k->has_lo && (k->lo_incl ? v < k->lo : v <= k->lo))
        return false;
    if (k->has_hi && (k->hi_incl ? v > k->hi : v >= k->hi))
        return false;
    if (k->has_eq && v != k->eq)
        return false;
    if (k->has_neq && v == k->neq)
        return false;
    return true;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The count the condition applies to, over entries [0, n). */
static uint64_t group_count(const bt_rule *r, const cgroup *g, size_t n)
{
    const rcorr *k = &r->corr;
    size_t i, d = 0;
    switch (r->info.corr_type) {
    case BT_CORR_EVENT_COUNT: return n;
    case BT_CORR_VALUE_COUNT: {
        char **v = malloc((n + 1) * sizeof *v);
        if (!v)
            return 0;
        for (i = 0; i < n; i++)
            v[i] = g->e[i].value;
        if (n > 1) /* qsort's base must not be NULL, even for 0 items */
            qsort(v, n, sizeof *v, cmp_strp);
        for (i = 0; i < n; i++)
            d += i == 0 || strcmp(v[i], v[i - 1]) != 0;
        free(v);
        return d;
    }
    case BT_CORR_TEMPORAL: {
        size_t j;
        for (j = 0; j < k->nrefs; j++)
            for (i = 0; i < n; i++)
                if (g->e[i].ref == j) {
                    d++;
                    break;
                }
        return d;
    }
    default: /* temporal_ordered: the longest prefix of the rule list seen in order */
        for (i = 0; i < n && d < k->nrefs; i++)
            if (g->e[i].ref == d)
                d++;
        return d;
    }
}

static int feed(bt_rules_corr *c, const bt_rule *r, size_t ref, rmctx *m, int64_t t,
                const char *event_id, bt_rules_alert_fn cb, void *ud, int depth);

/* Reports an alert over entries [0, n) of g, feeds chained correlations, clears them. */
static int fire(bt_rules_corr *c, const bt_rule *r, cgroup *g, size_t n, uint64_t count, rmctx *m,
                bt_rules_alert_fn cb, void *ud, int depth)
{
    bt_rule_alert a;
    const char **ids = malloc((n + 1) * sizeof *ids);
    size_t i, u, x;
    int rc = 0;
    if (!ids)
        return BT_ENOMEM;
    for (i = 0; i < n; i++)
        ids[i] = g->e[i].id;
    memset(&a, 0, sizeof a);
    a.rule = r;
    a.event_ids = ids;
    a.nevent_ids = n;
    a.group_fields = r->corr.group;
    a.group_values = (const char *const *)g->vals;
    a.ngroup = r->corr.ngroup;
    a.first_ms = n ? g->e[0].t : 0;
    a.last_ms = n ? g->e[n - 1].t : 0;
    a.count = count;
    if (r->info.alerts && cb && cb(ud, &a))
        rc = BT_ESTOP;
    for (u = 0; rc == 0 && m && u < r->nusers; u++) {
        const bt_rule *outer = r->users[u];
        for (x = 0; x < outer->corr.nrefs && outer->corr.rules[x] != r; x++)
            ;
        rc = feed(c, outer, x, m, a.last_ms, n ? ids[n - 1] : "", cb, ud, depth + 1);
    }
    free(ids);
    drop_entries(c, g, n);
    return rc;
}

/* Saturating time arithmetic (callers may pass any int64). */
static int64_t sub_ms(int64_t t, int64_t d)
{
    return t < INT64_MIN + d ? INT64_MIN : t - d;
}

static int64_t add_ms(int64_t t, int64_t d)
{
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/* Drops groups idle for longer than the timespan, deciding their closed windows. */
static int sweep(bt_rules_corr *c, ccorr *k, int64_t now, bt_rules_alert_fn cb, void *ud)
{
    const bt_rule *r = k->rule;
    int rc = 0;
    while (rc == 0 && k->head && k->head->last < sub_ms(now, r->corr.span_ms)) {
        cgroup *g = k->head;
        if (upper_bounded(&r->corr) && g->n) {
            uint64_t cnt = group_count(r, g, g->n);
            if (cond_holds(r, cnt))
                rc = fire(c, r, g, g->n, cnt, NULL, cb, ud, 0);
        }
        group_free(c, k, g, r->corr.ngroup);
    }
    return rc;
}

static char *sdup(bt_rules_corr *c, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
        c->mem += n + 1;
    }
    return d;
}

static void group_discard(bt_rules_corr *c, cgroup *gr, size_t ngroup)
{
    size_t g;
    for (g = 0; gr->vals && g < ngroup; g++)
        if (gr->vals[g]) {
            c->mem -= strlen(gr->vals[g]) + 1;
            free(gr->vals[g]);
        }
    if (gr->key)
        c->mem -= strlen(gr->key) + 1;
    free(gr->vals);
    free(gr->key);
    free(gr);
}

static cgroup *group_get(bt_rules_corr *c, ccorr *k, size_t ref, rmctx *m)
{
    const rcorr *kc = &k->rule->corr;
    char key[2048], buf[64];
    size_t kl = 0, g, b, off;
    cgroup *gr;
    for (g = 0; g < kc->ngroup; g++) {
        const char *s = "";
        size_t n = 0;
        (void)rules_value_text(&kc->gpaths[g * kc->nrefs + ref], m, buf, sizeof buf, &s, &n);
        if (kl + n + 2 >= sizeof key)
            n = sizeof key - kl - 2;
        memcpy(key + kl, s, n);
        kl += n;
        key[kl++] = '\x1f';
    }
    key[kl] = '\0';
    b = hash_key(key) % CORR_BUCKETS;
    for (gr = k->table[b]; gr; gr = gr->hnext)
        if (strcmp(gr->key, key) == 0)
            return gr;
    if (k->ngroups >= c->max_groups && k->head)
        group_free(c, k, k->head, kc->ngroup);
    gr = calloc(1, sizeof *gr);
    if (!gr)
        return NULL;
    gr->vals = calloc(kc->ngroup + 1, sizeof *gr->vals);
    gr->key = sdup(c, key, kl);
    if (!gr->vals || !gr->key) {
        group_discard(c, gr, kc->ngroup);
        return NULL;
    }
    for (g = 0, off = 0; g < kc->ngroup; g++) {
        const char *end = strchr(gr->key + off, '\x1f');
        if (!(gr->vals[g] = sdup(c, gr->key + off, (size_t)(end - gr->key) - off))) {
            group_discard(c, gr, kc->ngroup);
            return NULL;
        }
        off = (size_t)(end - gr->key) + 1;
    }
    c->mem += sizeof *gr + kc->ngroup * sizeof(char *);
    gr->hnext = k->table[b];
    k->table[b] = gr;
    gr->prev = k->tail;
    if (k->tail)
        k->tail->next = gr;
    else
        k->head = gr;
    k->tail = gr;
    k->ngroups++;
    return gr;
}

static void touch(ccorr *k, cgroup *g, int64_t t)
{
    g->last = t;
    if (k->tail == g)
        return;
    if (g->prev)
        g->prev->next = g->next;
    else
        k->head = g->next;
    g->next->prev = g->prev;
    g->prev = k->tail;
    g->next = NULL;
    k->tail->next = g;
    k->tail = g;
}

static int feed(bt_rules_corr *c, const bt_rule *r, size_t ref, rmctx *m, int64_t t,
                const char *event_id, bt_rules_alert_fn cb, void *ud, int depth)
{
    ccorr *k = c->c[r->corr_slot];
    const rcorr *kc = &r->corr;
    char vbuf[64];
    const char *val = NULL;
    size_t vlen = 0, cut = 0;
    cgroup *g;
    centry *e;
    int rc;
    if (depth > 16)
        return 0;
    if ((rc = sweep(c, k, t, cb, ud)))
        return rc;
    if (r->info.corr_type == BT_CORR_VALUE_COUNT &&
        !rules_value_text(&kc->field, m, vbuf, sizeof vbuf, &val, &vlen))
        return 0; /* no value to count */
    if (!(g = group_get(c, k, ref, m)))
        return BT_ENOMEM;
    while (c->mem > c->max_bytes && k->head && k->head != g) /* over the byte cap */
        group_free(c, k, k->head, kc->ngroup);
    if (c->mem > c->max_bytes && g->n)
        drop_entries(c, g, (g->n + 1) / 2);
    if (upper_bounded(kc)) { /* fixed window from the first event */
        if (g->n && t > add_ms(g->e[0].t, kc->span_ms)) {
            uint64_t cnt = group_count(r, g, g->n);
            if (cond_holds(r, cnt)) {
                if ((rc = fire(c, r, g, g->n, cnt, m, cb, ud, depth)))
                    return rc;
            } else {
                drop_entries(c, g, g->n);
            }
        }
    } else {
        while (cut < g->n && g->e[cut].t < sub_ms(t, kc->span_ms))
            cut++;
        drop_entries(c, g, cut);
    }
    if (g->n >= c->max_events)
        drop_entries(c, g, 1);
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 8;
        centry *ne = realloc(g->e, nc * sizeof *ne);
        if (!ne)
            return BT_ENOMEM;
        c->mem += (nc - g->cap) * sizeof *ne;
        g->e = ne;
        g->cap = nc;
    }
    e = &g->e[g->n];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->ref = ref;
    e->id = sdup(c, event_id ? event_id : "", event_id ? strlen(event_id) : 0);
    e->value = val ? sdup(c, val, vlen) : NULL;
    if (!e->id || (val && !e->value)) {
        free(e->id);
        free(e->value);
        return BT_ENOMEM;
    }
    g->n++;
    touch(k, g, t);
    if (!upper_bounded(kc)) {
        uint64_t cnt = group_count(r, g, g->n);
        if (cond_holds(r, cnt))
            return fire(c, r, g, g->n, cnt, m, cb, ud, depth);
    }
    return 0;
}

int bt_rules_correlate(bt_rules_corr *c, const bt_rule *rule, const bt_json *record,
                       const bt_rule_derived *derived, int64_t time_ms, const char *event_id,
                       bt_rules_alert_fn cb, void *ud)
{
    rmctx m;
    size_t u, x;
    int rc = 0;
    if (!c || !rule)
        return BT_EINVAL;
    if (time_ms < c->now)
        time_ms = c->now;
    c->now = time_ms;
    rules_mctx_init(&m, c->rs, record, derived);
    for (u = 0; rc == 0 && u < rule->nusers; u++) {
        const bt_rule *outer = rule->users[u];
        for (x = 0; x < outer->corr.nrefs; x++)
            if (outer->corr.rules[x] == rule &&
                (rc = feed(c, outer, x, &m, time_ms, event_id, cb, ud, 0)))
                break;
    }
    return rc;
}

int64_t bt_rules_corr_pending_ms(const bt_rules_corr *c)
{
    int64_t p = INT64_MAX;
    size_t i;
    /* a group fires with its newest entry's time, and the list is oldest update first */
    for (i = 0; c && i < c->nc; i++)
        if (upper_bounded(&c->c[i]->rule->corr) && c->c[i]->head && c->c[i]->head->last < p)
            p = c->c[i]->head->last;
    return p;
}

int bt_rules_corr_flush(bt_rules_corr *c, int64_t now_ms, bt_rules_alert_fn cb, void *ud)
{
    size_t i;
    int rc = 0;
    if (!c)
        return BT_EINVAL;
    for (i = 0; rc == 0 && i < c->nc; i++) {
        ccorr *k = c->c[i];
        if (now_ms == INT64_MAX) {
            while (rc == 0 && k->head) {
                cgroup *g = k->head;
                const bt_rule *r = k->rule;
                if (upper_bounded(&r->corr) && g->n) {
                    uint64_t cnt = group_count(r, g, g->n);
                    if (cond_holds(r, cnt))
                        rc = fire(c, r, g, g->n, cnt, NULL, cb, ud, 0);
                }
                group_free(c, k, g, r->corr.ngroup);
            }
        } else {
            rc = sweep(c, k, now_ms, cb, ud);
        }
    }
    return rc;
}
