/*
 * rules_plan.c - compiles each detection rule to a plan: the fields pinned to exact
 * values (derived from the condition tree: AND keeps every pin, OR keeps fields pinned
 * on all branches with the union of values, NOT drops), literal needles for a raw-byte
 * pre-filter, the fields read. Builds the set's eventName dispatch table and the
 * set-wide pre-filter.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "util/mfind.h"

typedef struct pinlist {
    bt_rule_pin *p;
    size_t n;
} pinlist;

static bool has_value(const bt_rule_pin *p, const char *v)
{
    size_t i;
    for (i = 0; i < p->nvalues; i++)
        if (rules_ieq(p->values[i], strlen(p->values[i]), v, strlen(v)))
            return true;
    return false;
}

static int item_pin(bt_arena *a, const ritem *it, pinlist *out)
{
    size_t i;
    const char **vals;
    out->p = NULL;
    out->n = 0;
    if (it->keyword || it->neg || it->all || it->nvals == 0)
        return 0;
    for (i = 0; i < it->nvals; i++) {
        const rvalue *v = &it->vals[i];
        if (v->kind != V_PATTERN || v->shape != SH_EXACT || strchr(v->text, '\\') ||
            v->text[0] == '\0')
            return 0;
    }
    vals = bt_arena_calloc(a, it->nvals * sizeof *vals);
    out->p = bt_arena_calloc(a, sizeof *out->p);
    if (!vals || !out->p)
        return BT_ENOMEM;
    for (i = 0; i < it->nvals; i++)
        vals[i] = it->vals[i].text;
    out->p->field = it->path.dotted;
    out->p->values = vals;
    out->p->nvalues = it->nvals;
    out->n = 1;
    return 0;
}

/* AND: all pins of both; a field pinned twice keeps the values common to both. */
static int pin_and(bt_arena *a, pinlist *acc, const pinlist *x)
{
    size_t i, j;
    bt_rule_pin *np = bt_arena_calloc(a, (acc->n + x->n + 1) * sizeof *np);
    if (!np)
        return BT_ENOMEM;
    if (acc->n)
        memcpy(np, acc->p, acc->n * sizeof *np);
    for (i = 0; i < x->n; i++) {
        for (j = 0; j < acc->n; j++)
            if (strcmp(np[j].field, x->p[i].field) == 0)
                break;
        if (j == acc->n) {
            np[acc->n++] = x->p[i];
        } else { /* intersection */
            const char **vals = bt_arena_calloc(a, (np[j].nvalues + 1) * sizeof *vals);
            size_t k, nv = 0;
            if (!vals)
                return BT_ENOMEM;
            for (k = 0; k < np[j].nvalues; k++)
                if (has_value(&x->p[i], np[j].values[k]))
                    vals[nv++] = np[j].values[k];
            np[j].values = vals;
            np[j].nvalues = nv;
        }
    }
    acc->p = np;
    return 0;
}

/* OR: only fields pinned on both sides, with the union of their values. */
static int pin_or(bt_arena *a, pinlist *acc, const pinlist *x)
{
    size_t i, j, k, nn = 0;
    bt_rule_pin *np = bt_arena_calloc(a, (acc->n + 1) * sizeof *np);
    if (!np)
        return BT_ENOMEM;
    for (i = 0; i < acc->n; i++) {
        for (j = 0; j < x->n && strcmp(acc->p[i].field, x->p[j].field); j++)
            ;
        if (j == x->n)
            continue;
        {
            const bt_rule_pin *pa = &acc->p[i], *pb = &x->p[j];
            const char **vals = bt_arena_calloc(a, (pa->nvalues + pb->nvalues) * sizeof *vals);
            size_t nv = 0;
            if (!vals)
                return BT_ENOMEM;
            for (k = 0; k < pa->nvalues; k++)
                vals[nv++] = pa->values[k];
            for (k = 0; k < pb->nvalues; k++)
                if (!has_value(pa, pb->values[k]))
                    vals[nv++] = pb->values[k];
            np[nn].field = pa->field;
            np[nn].values = vals;
            np[nn++].nvalues = nv;
        }
    }
    acc->p = np;
    acc->n = nn;
    return 0;
}

static int node_pins(bt_arena *a, const rnode *n, pinlist *out)
{
    size_t i, k;
    int rc;
    out->p = NULL;
    out->n = 0;
    if (n->op == N_NOT)
        return 0;
    if (n->op == N_SEL) {
        for (k = 0; k < n->sel->nalts; k++) {
            const ralt *alt = &n->sel->alts[k];
            pinlist acc = {NULL, 0};
            for (i = 0; i < alt->nitems; i++) {
                pinlist x;
                if ((rc = item_pin(a, &alt->items[i], &x)) || (rc = pin_and(a, &acc, &x)))
                    return rc;
            }
            if (k == 0)
                *out = acc;
            else if ((rc = pin_or(a, out, &acc)))
                return rc;
        }
        return 0;
    }
    for (i = 0; i < n->nkids; i++) {
        pinlist x;
        if ((rc = node_pins(a, n->kids[i], &x)))
            return rc;
        if (i == 0)
            *out = x;
        else if ((rc = (n->op == N_AND ? pin_and(a, out, &x) : pin_or(a, out, &x))))
            return rc;
    }
    return 0;
}

/* Adds a field name to a growing list (deduplicated). */
static int add_field(bt_arena *a, const char ***list, size_t *n, size_t *cap, const char *f)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp((*list)[i], f) == 0)
            return 0;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        const char **nl = bt_arena_calloc(a, nc * sizeof *nl);
        if (!nl)
            return BT_ENOMEM;
        if (*n)
            memcpy(nl, *list, *n * sizeof *nl);
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = f;
    return 0;
}

static int node_fields(bt_arena *a, const rnode *n, bt_rule_plan *pl, size_t *cap)
{
    size_t i, k, j;
    int rc;
    if (n->op != N_SEL) {
        for (i = 0; i < n->nkids; i++)
            if ((rc = node_fields(a, n->kids[i], pl, cap)))
                return rc;
        return 0;
    }
    for (k = 0; k < n->sel->nalts; k++)
        for (i = 0; i < n->sel->alts[k].nitems; i++) {
            const ritem *it = &n->sel->alts[k].items[i];
            if (it->keyword) {
                pl->keywords = true;
                continue;
            }
            if ((rc =
                     add_field(a, (const char ***)&pl->fields, &pl->nfields, cap, it->path.dotted)))
                return rc;
            for (j = 0; j < it->nvals; j++)
                if (it->vals[j].kind == V_FIELDREF &&
                    (rc = add_field(a, (const char ***)&pl->fields, &pl->nfields, cap,
                                    it->vals[j].ref.dotted)))
                    return rc;
        }
    return 0;
}

/* A set of literals one of which the raw record contains when the rule matches. */
typedef struct needles {
    const char **v;
    bool *name; /* per literal: a value eventName must equal (bt_rule_plan.needle_is_name) */
    size_t n;
    int score; /* higher = more selective */
    bool ok;
} needles;

/* The longest run of s (len bytes, wild marks or NULL) that is literal and safe in raw
 * JSON (a writer may escape '/' as "\/": value_needle adds that spelling); copied into
 * the arena. */
static const char *safe_run(bt_arena *a, const char *s, const unsigned char *wild, size_t len,
                            size_t *out_len)
{
    size_t i, start = 0, best = 0, bl = 0;
    for (i = 0; i <= len; i++) {
        unsigned char ch = i < len ? (unsigned char)s[i] : 0;
        bool good =
            i < len && !(wild && wild[i]) && ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
        if (good)
            continue;
        if (i - start > bl)
            best = start, bl = i - start;
        start = i + 1;
    }
    *out_len = bl;
    return bl ? bt_arena_strndup(a, s + best, bl) : NULL;
}

/* The needle of a value, out[0] (len bytes; NULL when none), and when it holds a '/',
 * out[1]: the same with every '/' written "\/", as JSON allows (*nout: 0, 1 or 2). */
static int value_needle(bt_arena *a, const rvalue *v, const char *out[2], size_t *len, size_t *nout)
{
    const char *n = NULL, *p;
    char *e;
    size_t slashes = 0;
    *len = *nout = 0;
    out[0] = out[1] = NULL;
    if (v->kind == V_PATTERN && !strpbrk(v->text, "*?\\") && v->text[0])
        n = safe_run(a, v->text, NULL, strlen(v->text), len); /* as written */
    else if (v->kind == V_PATTERN)
        n = safe_run(a, v->pat, v->wild, v->plen, len);
    else if (v->kind == V_REGEX && v->llen)
        n = safe_run(a, v->lit, NULL, v->llen, len);
    if (!n)
        return *len == 0 ? 0 : BT_ENOMEM;
    out[0] = n;
    *nout = 1;
    for (p = n; (p = strchr(p, '/')); p++)
        slashes++;
    if (!slashes)
        return 0;
    if (!(e = bt_arena_alloc(a, *len + slashes + 1)))
        return BT_ENOMEM;
    out[1] = e;
    *nout = 2;
    for (p = n; *p; p++) {
        if (*p == '/')
            *e++ = '\\';
        *e++ = *p;
    }
    *e = 0;
    return 0;
}

static int item_needles(bt_arena *a, const ritem *it, needles *out)
{
    size_t i, minlen = (size_t)-1, l, nv = 0;
    bool on_name;
    int rc;
    memset(out, 0, sizeof *out);
    if (it->neg || it->nvals == 0 || (!it->keyword && it->path.derived >= 0))
        return 0;
    on_name = !it->keyword && strcmp(it->path.dotted, "eventName") == 0;
    out->v = bt_arena_calloc(a, 2 * it->nvals * sizeof *out->v);
    out->name = bt_arena_calloc(a, 2 * it->nvals * sizeof *out->name);
    if (!out->v || !out->name)
        return BT_ENOMEM;
    for (i = 0; i < it->nvals; i++) {
        const rvalue *v = &it->vals[i];
        const char *n[2];
        size_t nn;
        bool exact;
        if ((rc = value_needle(a, v, n, &l, &nn)))
            return rc;
        /* eventName equal to the whole literal (the pre-filter then reads eventName) */
        exact = on_name && nn == 1 && v->kind == V_PATTERN && v->shape == SH_EXACT &&
                !strchr(v->text, '\\') && l == strlen(v->text);
        if (!nn) {
            if (!it->all)
                return 0; /* one value without a literal: nothing required */
            continue;
        }
        if (it->all) { /* every value is required: the longest is enough */
            if (out->n == 0 || l > minlen) {
                memcpy(out->v, n, nn * sizeof *n);
                out->name[0] = out->name[1] = exact;
                out->n = nn;
                minlen = l;
            }
            continue;
        }
        memcpy(out->v + out->n, n, nn * sizeof *n);
        out->name[out->n] = out->name[out->n + nn - 1] = exact;
        out->n += nn;
        nv++;
        minlen = l < minlen ? l : minlen;
    }
    if (out->n == 0)
        return 0;
    out->ok = true;
    out->score = (int)(minlen > 40 ? 40 : minlen) - (int)(it->all ? 1 : nv); /* values */
    if (!it->keyword && strcmp(it->path.dotted, "eventName") == 0)
        out->score += 100;
    else if (!it->keyword && strcmp(it->path.dotted, "eventSource") == 0)
        out->score -= 50;
    return 0;
}

/* OR: both sides must require something; their literals are pooled. */
static int needles_or(bt_arena *a, needles *acc, const needles *x)
{
    const char **v;
    bool *name;
    if (!acc->ok || !x->ok) {
        acc->ok = false;
        return 0;
    }
    v = bt_arena_calloc(a, (acc->n + x->n) * sizeof *v);
    name = bt_arena_calloc(a, (acc->n + x->n) * sizeof *name);
    if (!v || !name)
        return BT_ENOMEM;
    memcpy(v, acc->v, acc->n * sizeof *v);
    memcpy(v + acc->n, x->v, x->n * sizeof *v);
    memcpy(name, acc->name, acc->n * sizeof *name);
    memcpy(name + acc->n, x->name, x->n * sizeof *name);
    acc->v = v;
    acc->name = name;
    acc->n += x->n;
    acc->score = (acc->score < x->score ? acc->score : x->score) - 1;
    return 0;
}

static int node_needles(bt_arena *a, const rnode *n, needles *out)
{
    size_t i, k;
    int rc;
    memset(out, 0, sizeof *out);
    if (n->op == N_NOT)
        return 0;
    if (n->op == N_SEL) {
        for (k = 0; k < n->sel->nalts; k++) {
            const ralt *alt = &n->sel->alts[k];
            needles best;
            memset(&best, 0, sizeof best);
            for (i = 0; i < alt->nitems; i++) { /* AND: the best item */
                needles x;
                if ((rc = item_needles(a, &alt->items[i], &x)))
                    return rc;
                if (x.ok && (!best.ok || x.score > best.score))
                    best = x;
            }
            if (k == 0)
                *out = best;
            else if ((rc = needles_or(a, out, &best)))
                return rc;
        }
        return 0;
    }
    for (i = 0; i < n->nkids; i++) {
        needles x;
        if ((rc = node_needles(a, n->kids[i], &x)))
            return rc;
        if (i == 0)
            *out = x;
        else if (n->op == N_OR) {
            if ((rc = needles_or(a, out, &x)))
                return rc;
        } else if (x.ok && (!out->ok || x.score > out->score)) {
            *out = x;
        }
    }
    return 0;
}

int rules_plan_rule(bt_ruleset *rs, bt_rule *r)
{
    bt_arena *a = rs->arena;
    pinlist pins;
    needles nd;
    size_t cap = 0;
    int rc;
    if ((rc = node_pins(a, r->final, &pins)) || (rc = node_fields(a, r->final, &r->plan, &cap)) ||
        (rc = node_needles(a, r->final, &nd)))
        return rc;
    r->plan.pins = pins.p;
    r->plan.npins = pins.n;
    if (nd.ok) {
        r->plan.needles = nd.v;
        r->plan.needle_is_name = nd.name;
        r->plan.nneedles = nd.n;
    }
    r->planned = true;
    return 0;
}

static const bt_rule_pin *event_name_pin(const bt_rule *r)
{
    size_t i;
    for (i = 0; i < r->plan.npins; i++)
        if (strcmp(r->plan.pins[i].field, "eventName") == 0)
            return &r->plan.pins[i];
    return NULL;
}

static char *lower_dup(bt_arena *a, const char *s)
{
    char *d = bt_arena_strdup(a, s), *p;
    if (d)
        for (p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return d;
}

/* Inserts key (lowercase) if new; returns its slot. */
static rdispatch *bucket(bt_ruleset *rs, const char *key)
{
    size_t n = strlen(key), b = rules_bucket_of(rs, key, n);
    while (rs->buckets[b].key && strcmp(rs->buckets[b].key, key))
        b = (b + 1) & (rs->nbuckets - 1);
    if (!rs->buckets[b].key) {
        rs->buckets[b].key = key;
        rs->buckets[b].klen = n;
    }
    return &rs->buckets[b];
}

static int build_dispatch(bt_ruleset *rs)
{
    bt_arena *a = rs->arena;
    size_t i, k, nkeys = 0, b;
    rs->unpinned = bt_arena_calloc(a, (rs->nrules + 1) * sizeof(size_t));
    if (!rs->unpinned)
        return BT_ENOMEM;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule_pin *p =
            rs->rules[i]->info.kind == BT_RULE_DETECTION ? event_name_pin(rs->rules[i]) : NULL;
        if (rs->rules[i]->info.kind != BT_RULE_DETECTION)
            continue;
        if (p)
            nkeys += p->nvalues;
        else
            rs->unpinned[rs->nunpinned++] = i;
    }
    for (rs->nbuckets = 16; rs->nbuckets < nkeys * 2; rs->nbuckets *= 2)
        ;
    rs->buckets = bt_arena_calloc(a, rs->nbuckets * sizeof *rs->buckets);
    if (!rs->buckets)
        return BT_ENOMEM;
    for (i = 0; i < rs->nrules; i++) {
        const bt_rule_pin *p =
            rs->rules[i]->info.kind == BT_RULE_DETECTION ? event_name_pin(rs->rules[i]) : NULL;
        for (k = 0; p && k < p->nvalues; k++) {
            char *key = lower_dup(a, p->values[k]);
            if (!key || !bucket(rs, key))
                return BT_ENOMEM;
        }
    }
    /* each key's list: every rule pinned to it or unpinned, in load order */
    for (b = 0; b < rs->nbuckets; b++) {
        rdispatch *d = &rs->buckets[b];
        if (!d->key)
            continue;
        d->rules = bt_arena_calloc(a, (rs->nrules + 1) * sizeof(size_t));
        if (!d->rules)
            return BT_ENOMEM;
        for (i = 0; i < rs->nrules; i++) {
            const bt_rule_pin *p;
            if (rs->rules[i]->info.kind != BT_RULE_DETECTION)
                continue;
            p = event_name_pin(rs->rules[i]);
            for (k = 0; p && k < p->nvalues; k++)
                if (rules_ieq(p->values[k], strlen(p->values[k]), d->key, d->klen))
                    break;
            if (!p || k < p->nvalues)
                d->rules[d->nrules++] = i;
        }
    }
    return 0;
}

static uint32_t prefix_hash(uint32_t v)
{
    return (v * 2654435761u) >> 16;
}

/* The longest eventName value names_hit reads. */
#define NAME_MAX_LEN 128

/* The slot of a lowercased name in the names table (its own, or the empty one). */
static size_t name_slot(const bt_ruleset *rs, const char *lc, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)lc[i]) * 16777619u;
    for (i = h & rs->nmask; rs->ntab[i]; i = (i + 1) & rs->nmask)
        if (rs->ntablen[i] == n && memcmp(rs->ntab[i], lc, n) == 0)
            break;
    return i;
}

/* The pre-filter's parts (bt_rules_prefilter): the names table, and the other needles
 * in one bt_mfind (plus the tracker's literal in another) when few enough, else in the
 * 4-byte prefix index. */
static int build_prefilter(bt_ruleset *rs)
{
    const bt_rule_plan *sp = &rs->setplan;
    const char *gl[BT_MFIND_MAX];
    size_t gn[BT_MFIND_MAX], i, k = 0;
    static const char key[] = "\"eventName\"";
    for (i = 0; i < sp->nneedles; i++) {
        if (rs->needle_len[i] > NAME_MAX_LEN) /* names_hit reads no further */
            ((bool *)sp->needle_is_name)[i] = false;
        rs->nnames += sp->needle_is_name[i];
    }
    rs->ngeneral = sp->nneedles - rs->nnames;
    if (rs->nnames) {
        size_t slots = 16, len = sizeof key - 1;
        while (slots < 2 * rs->nnames)
            slots *= 2;
        rs->nmask = slots - 1;
        rs->ntab = bt_arena_calloc(rs->arena, slots * sizeof *rs->ntab);
        rs->ntablen = bt_arena_calloc(rs->arena, slots * sizeof *rs->ntablen);
        if (!rs->ntab || !rs->ntablen)
            return BT_ENOMEM;
        for (i = 0; i < sp->nneedles; i++)
            if (sp->needle_is_name[i]) {
                size_t at = name_slot(rs, rs->needles_lc[i], rs->needle_len[i]);
                rs->ntab[at] = rs->needles_lc[i];
                rs->ntablen[at] = rs->needle_len[i];
            }
        if (bt_mfind_new((const char *const[]){key}, &len, 1, &rs->name_key))
            return BT_ENOMEM;
    }
    if (rs->ngeneral + 1 > BT_MFIND_MAX)
        return 0; /* the prefix index */
    for (i = 0; i < sp->nneedles; i++)
        if (!sp->needle_is_name[i]) {
            gl[k] = rs->needles_lc[i];
            gn[k++] = rs->needle_len[i];
        }
    gl[k] = "odebuild"; /* bt_build_tracker_may_want's, both spellings */
    gn[k] = 8;
    if ((k && bt_mfind_new(gl, gn, k, &rs->gen)) || bt_mfind_new(gl, gn, k + 1, &rs->gen_build))
        return BT_ENOMEM;
    return 0;
}

/* The 4-byte prefix index over the set's needles other than names (bt_rules_prefilter),
 * when there are too many of them for bt_mfind. */
static int build_needle_index(bt_ruleset *rs)
{
    bt_arena *a = rs->arena;
    size_t i, n = rs->setplan.nneedles;
    rs->nbits = bt_arena_calloc(a, (1u << 16) / 8);
    rs->nhead = bt_arena_alloc(a, (1u << 16) * sizeof *rs->nhead);
    rs->nnext = bt_arena_calloc(a, (n + 1) * sizeof *rs->nnext);
    rs->nprefix = bt_arena_calloc(a, (n + 1) * sizeof *rs->nprefix);
    rs->short_needles = bt_arena_calloc(a, (n + 1) * sizeof *rs->short_needles);
    if (!rs->nbits || !rs->nhead || !rs->nnext || !rs->nprefix || !rs->short_needles)
        return BT_ENOMEM;
    memset(rs->nhead, 0xff, (1u << 16) * sizeof *rs->nhead);
    for (i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)rs->needles_lc[i];
        uint32_t v, h;
        if (rs->setplan.needle_is_name[i])
            continue;
        if (rs->needle_len[i] < 4) {
            rs->short_needles[rs->nshort++] = i;
            continue;
        }
        v = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
        h = prefix_hash(v);
        rs->nprefix[i] = v;
        rs->nbits[h >> 6] |= (uint64_t)1 << (h & 63);
        rs->nnext[i] = rs->nhead[h];
        rs->nhead[h] = (int32_t)i;
    }
    return 0;
}

/* Gives p the index of its first segment among the set's top-level keys. */
static void top_assign(bt_ruleset *rs, rpath *p)
{
    size_t i;
    unsigned h;
    if (p->derived >= 0 || p->nseg == 0)
        return;
    for (i = 0; i < rs->ntops; i++)
        if (rs->toplen[i] == p->seglen[0] && memcmp(rs->tops[i], p->seg[0], p->seglen[0]) == 0) {
            p->top = (int)i;
            return;
        }
    if (rs->ntops == RULES_MAX_TOPS)
        return; /* looked up by scanning the record */
    rs->tops[i] = p->seg[0];
    rs->toplen[i] = p->seglen[0];
    for (h = rules_top_hash(p->seg[0], p->seglen[0]); rs->topslot[h] >= 0; h = (h + 1) & 255u)
        ;
    rs->topslot[h] = (signed char)i;
    rs->ntops++;
    p->top = (int)i;
}

static void node_tops(bt_ruleset *rs, const rnode *n)
{
    size_t i, k, j;
    if (n->op != N_SEL) {
        for (i = 0; i < n->nkids; i++)
            node_tops(rs, n->kids[i]);
        return;
    }
    for (k = 0; k < n->sel->nalts; k++)
        for (i = 0; i < n->sel->alts[k].nitems; i++) {
            ritem *it = &n->sel->alts[k].items[i];
            if (!it->keyword)
                top_assign(rs, &it->path);
            for (j = 0; j < it->nvals; j++)
                if (it->vals[j].kind == V_FIELDREF)
                    top_assign(rs, &it->vals[j].ref);
        }
}

/* The top-level keys read by detection rules ("eventName" first, for dispatch). */
static void build_tops(bt_ruleset *rs)
{
    static const char en[] = "eventName";
    size_t i;
    memset(rs->topslot, 0xff, sizeof rs->topslot);
    rs->tops[0] = en;
    rs->toplen[0] = 9;
    rs->topslot[rules_top_hash(en, 9)] = 0;
    rs->ntops = 1;
    rs->en_top = 0;
    for (i = 0; i < rs->nrules; i++) {
        rs->rules[i]->set = rs;
        if (rs->rules[i]->info.kind == BT_RULE_DETECTION)
            node_tops(rs, rs->rules[i]->final);
    }
}

int rules_plan_set(bt_ruleset *rs)
{
    bt_arena *a = rs->arena;
    bt_rule_plan *sp = &rs->setplan;
    size_t i, k, cap = 0, fcap = 0, ndet = 0, ncap = 0;
    bool all_needles = true;
    int rc;
    build_tops(rs);
    for (i = 0; i < rs->nrules; i++) {
        bt_rule *r = rs->rules[i];
        if (r->info.kind != BT_RULE_DETECTION)
            continue;
        ndet++;
        if (r->plan.nneedles == 0)
            all_needles = false;
        for (k = 0; k < r->plan.nfields; k++)
            if ((rc = add_field(a, (const char ***)&sp->fields, &sp->nfields, &fcap,
                                r->plan.fields[k])))
                return rc;
        sp->keywords |= r->plan.keywords;
        for (k = 0; all_needles && k < r->plan.nneedles; k++) {
            size_t j, n = sp->nneedles;
            bool *names = (bool *)sp->needle_is_name;
            for (j = 0; j < n && strcmp(sp->needles[j], r->plan.needles[k]) != 0; j++)
                ;
            if (j < n) { /* a needle anywhere for one rule is one for the set */
                names[j] = names[j] && r->plan.needle_is_name[k];
                continue;
            }
            if ((rc = add_field(a, (const char ***)&sp->needles, &sp->nneedles, &cap,
                                r->plan.needles[k])))
                return rc;
            if (sp->nneedles > ncap) {
                bool *nn = bt_arena_calloc(a, cap * sizeof *nn);
                if (!nn)
                    return BT_ENOMEM;
                if (n)
                    memcpy(nn, names, n * sizeof *nn);
                sp->needle_is_name = names = nn;
                ncap = cap;
            }
            names[n] = r->plan.needle_is_name[k];
        }
    }
    if (!all_needles || ndet == 0) {
        sp->needles = NULL;
        sp->needle_is_name = NULL;
        sp->nneedles = 0;
    }
    rs->needles_lc = bt_arena_calloc(a, (sp->nneedles + 1) * sizeof(char *));
    rs->needle_len = bt_arena_calloc(a, (sp->nneedles + 1) * sizeof(size_t));
    if (!rs->needles_lc || !rs->needle_len)
        return BT_ENOMEM;
    for (i = 0; i < sp->nneedles; i++) {
        if (!(rs->needles_lc[i] = lower_dup(a, sp->needles[i])))
            return BT_ENOMEM;
        rs->needle_len[i] = strlen(sp->needles[i]);
    }
    if (build_prefilter(rs) || (!rs->gen_build && build_needle_index(rs)))
        return BT_ENOMEM;
    return build_dispatch(rs);
}

/* One of the names is the value of an "eventName" key of raw (a scalar's text; a string
 * with an escape in it, an object or an array counts as one: the matcher may find a name
 * inside, which is not read here). */
static bool names_hit(const bt_ruleset *rs, const char *raw, size_t len)
{
    const char *p = raw, *end = raw + len, *k;
    while ((k = bt_mfind_find(rs->name_key, p, (size_t)(end - p)))) {
        const char *v = k + 11, *q;
        char lc[NAME_MAX_LEN];
        size_t n;
        p = k + 1;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v == end || *v++ != ':')
            continue;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v == end || *v == '{' || *v == '[')
            return true; /* the matcher looks inside an object or array: not read here */
        if (*v != '"') { /* a number, true, false, null: matched as its text */
            for (q = v; q < end && !strchr(",}] \t\r\n", *q); q++)
                ;
        } else {
            for (q = ++v; q < end && *q != '"' && *q != '\\'; q++)
                ;
            if (q == end || *q == '\\')
                return true;
        }
        if ((n = (size_t)(q - v)) > sizeof lc)
            continue; /* longer than any event name */
        for (k = v; k < q; k++)
            lc[k - v] = (char)((unsigned)*k - 'A' < 26u ? *k | 0x20 : *k);
        if (rs->ntab[name_slot(rs, lc, n)])
            return true;
    }
    return false;
}

/* The record's own eventName (name_len bytes, decoded) is one of the names. */
static bool name_is_hit(const bt_ruleset *rs, const char *name, size_t name_len)
{
    char lc[NAME_MAX_LEN];
    size_t i;
    if (name_len > sizeof lc)
        return false; /* longer than any name in the table */
    for (i = 0; i < name_len; i++)
        lc[i] = (char)((unsigned)name[i] - 'A' < 26u ? name[i] | 0x20 : name[i]);
    return rs->ntab[name_slot(rs, lc, name_len)] != NULL;
}

/* The needles other than names, through the prefix index. */
static bool general_hit(const bt_ruleset *rs, const char *raw, size_t len)
{
    const unsigned char *s = (const unsigned char *)raw;
    uint32_t v = 0;
    size_t i;
    for (i = 0; i < rs->nshort; i++) {
        size_t k = rs->short_needles[i];
        if (rules_find_ci(raw, len, rs->needles_lc[k], rs->needle_len[k]))
            return true;
    }
    for (i = 0; i < len; i++) {
        uint32_t h;
        int32_t k;
        v = v << 8 | (uint32_t)(s[i] | (((unsigned)s[i] - 'A' < 26u) ? 0x20 : 0));
        if (i < 3)
            continue;
        h = prefix_hash(v);
        if (!(rs->nbits[h >> 6] >> (h & 63) & 1))
            continue;
        for (k = rs->nhead[h]; k >= 0; k = rs->nnext[k]) {
            size_t nl = rs->needle_len[k], at = i - 3;
            if (rs->nprefix[k] == v && at + nl <= len &&
                rules_find_ci(raw + at, nl, rs->needles_lc[k], nl))
                return true;
        }
    }
    return false;
}

/* The pre-filter's one pass: whether raw may match a rule and, when build is not NULL,
 * in *build whether the tracker may learn from it (bt_build_tracker_may_want), which is
 * looked for only while the pre-filter has not passed (*build may stay false when it
 * does). or_build: stop as soon as either holds. */
static bool prefilter(const bt_ruleset *rs, const char *raw, size_t len, const char *name,
                      size_t name_len, bool *build, bool or_build)
{
    int k;
    if (build)
        *build = false;
    if (!rs || !rs->compiled || rs->setplan.nneedles == 0)
        return true;
    if (rs->nnames && (name ? name_is_hit(rs, name, name_len) : names_hit(rs, raw, len)))
        return true;
    if (!build)
        return rs->ngeneral &&
               (rs->gen ? bt_mfind_any(rs->gen, raw, len) : general_hit(rs, raw, len));
    if (!rs->gen_build) { /* too many needles for one bt_mfind: the prefix index */
        if (rs->ngeneral && general_hit(rs, raw, len))
            return true;
        *build = bt_build_tracker_may_want(raw, len);
        return false;
    }
    if ((k = bt_mfind_which(rs->gen_build, raw, len)) < 0)
        return false;
    if ((size_t)k < rs->ngeneral)
        return true; /* a needle came first */
    *build = true;   /* the tracker's literal came first */
    return !or_build && rs->gen && bt_mfind_any(rs->gen, raw, len);
}

bool bt_rules_prefilter(const bt_ruleset *rs, const char *raw, size_t len)
{
    return prefilter(rs, raw, len, NULL, 0, NULL, false);
}

bool rules_prefilter_learn(const bt_ruleset *rs, const char *raw, size_t len, const char *name,
                           size_t name_len, bool *build)
{
    return prefilter(rs, raw, len, name, name_len, build, false);
}

bool rules_prefilter_or_build(const bt_ruleset *rs, const char *raw, size_t len)
{
    bool build;
    return prefilter(rs, raw, len, NULL, 0, &build, true) || build;
}
