/*
 * rules_load.c - reads Sigma YAML (libyaml's document API, multi-document streams) into
 * the set: detection rules (metadata, logsource, search identifiers, condition),
 * correlation rules (type, rules, group-by, aliases, timespan, condition, generate) and
 * filter documents. Everything is copied into the set's arena. The first problem stops
 * loading with one line naming file, rule and problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "util/yaml_dl.h"

typedef struct ydoc {
    yaml_document_t *d;
    rctx *c;
} ydoc;

static yaml_node_t *ynode(const ydoc *y, int id)
{
    return yaml_document_get_node(y->d, id);
}

static yaml_node_t *yget(const ydoc *y, const yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ynode(y, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return ynode(y, p->value);
    }
    return NULL;
}

static bool is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static rscalar scalar_of(const yaml_node_t *n)
{
    rscalar s;
    s.s = (const char *)n->data.scalar.value;
    s.len = n->data.scalar.length;
    s.plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return s;
}

static char *adup(ydoc *y, const char *s)
{
    return s ? bt_arena_strdup(y->c->rs->arena, s) : NULL;
}

/* Optional string attribute; error when present but not a scalar. */
static int ystr(ydoc *y, const yaml_node_t *map, const char *key, const char **out)
{
    yaml_node_t *n = yget(y, map, key);
    *out = NULL;
    if (!n)
        return 0;
    if (!is_scalar(n))
        return rules_fail(y->c, BT_EINVAL, "'%s' must be a string", key);
    *out = adup(y, (const char *)n->data.scalar.value);
    return *out ? 0 : bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
}

/* A scalar or a list of scalars into an arena array of strings. */
static int ystrlist(ydoc *y, const yaml_node_t *n, const char *what, const char ***out,
                    size_t *nout)
{
    size_t cnt, i = 0;
    yaml_node_item_t *it;
    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    if (is_scalar(n)) {
        *out = bt_arena_calloc(y->c->rs->arena, sizeof **out);
        if (!*out || !((*out)[0] = adup(y, (const char *)n->data.scalar.value)))
            return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
        *nout = 1;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return rules_fail(y->c, BT_EINVAL, "'%s' must be a list of strings", what);
    cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *out = bt_arena_calloc(y->c->rs->arena, (cnt + 1) * sizeof **out);
    if (!*out)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = ynode(y, *it);
        if (!is_scalar(e))
            return rules_fail(y->c, BT_EINVAL, "'%s' must be a list of strings", what);
        if (!((*out)[i++] = adup(y, (const char *)e->data.scalar.value)))
            return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    }
    *nout = cnt;
    return 0;
}

/* ---- detection ---- */

/* One map of a selection: AND of its entries. */
static int load_map(ydoc *y, const yaml_node_t *map, ralt *alt)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start), k = 0;
    yaml_node_pair_t *p;
    rscalar vals[256];
    int rc;
    if (n == 0)
        return rules_fail(y->c, BT_EINVAL, "empty map in a search identifier");
    alt->items = bt_arena_calloc(y->c->rs->arena, n * sizeof *alt->items);
    if (!alt->items)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = ynode(y, p->key), *vn = ynode(y, p->value);
        size_t nv = 0;
        bool is_list = false;
        if (!is_scalar(kn) || !vn)
            return rules_fail(y->c, BT_EINVAL, "a field name must be a string");
        if (is_scalar(vn)) {
            vals[nv++] = scalar_of(vn);
        } else if (vn->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *it;
            is_list = true;
            for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
                yaml_node_t *e = ynode(y, *it);
                if (!is_scalar(e))
                    return rules_fail(y->c, BT_EINVAL, "field '%s': values must be scalars",
                                      (char *)kn->data.scalar.value);
                if (nv == sizeof vals / sizeof vals[0])
                    return rules_fail(y->c, BT_ELIMIT, "field '%s': more than 256 values",
                                      (char *)kn->data.scalar.value);
                vals[nv++] = scalar_of(e);
            }
        } else {
            return rules_fail(y->c, BT_EINVAL, "field '%s': a nested map is not a value",
                              (char *)kn->data.scalar.value);
        }
        rc = rules_item(y->c, (const char *)kn->data.scalar.value, vals, nv, is_list,
                        &alt->items[k++]);
        if (rc)
            return rc;
    }
    alt->nitems = k;
    return 0;
}

static int load_sel(ydoc *y, const char *name, const yaml_node_t *v, rsel *sel)
{
    bt_arena *a = y->c->rs->arena;
    rscalar vals[256];
    size_t n = 0;
    yaml_node_item_t *it;
    sel->name = bt_arena_strdup(a, name);
    if (!sel->name)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    if (v->type == YAML_MAPPING_NODE) {
        sel->alts = bt_arena_calloc(a, sizeof *sel->alts);
        sel->nalts = 1;
        return sel->alts ? load_map(y, v, sel->alts) : BT_ENOMEM;
    }
    if (is_scalar(v)) {
        rscalar s = scalar_of(v);
        sel->alts = bt_arena_calloc(a, sizeof *sel->alts);
        if (!sel->alts || !(sel->alts->items = bt_arena_calloc(a, sizeof(ritem))))
            return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
        sel->nalts = sel->alts->nitems = 1;
        return rules_keywords(y->c, &s, 1, sel->alts->items);
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return rules_fail(y->c, BT_EINVAL, "search identifier '%s' is empty", name);
    it = v->data.sequence.items.start;
    if (ynode(y, *it) && ynode(y, *it)->type == YAML_MAPPING_NODE) { /* list of maps: OR */
        size_t k = 0;
        sel->alts = bt_arena_calloc(a, n * sizeof *sel->alts);
        if (!sel->alts)
            return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
        for (; it < v->data.sequence.items.top; it++) {
            yaml_node_t *e = ynode(y, *it);
            int rc;
            if (!e || e->type != YAML_MAPPING_NODE)
                return rules_fail(y->c, BT_EINVAL, "search identifier '%s' mixes maps and values",
                                  name);
            if ((rc = load_map(y, e, &sel->alts[k++])))
                return rc;
        }
        sel->nalts = k;
        return 0;
    }
    if (n > sizeof vals / sizeof vals[0])
        return rules_fail(y->c, BT_ELIMIT, "search identifier '%s': more than 256 keywords", name);
    n = 0;
    for (; it < v->data.sequence.items.top; it++) {
        yaml_node_t *e = ynode(y, *it);
        if (!is_scalar(e))
            return rules_fail(y->c, BT_EINVAL, "search identifier '%s' mixes maps and values",
                              name);
        vals[n++] = scalar_of(e);
    }
    sel->alts = bt_arena_calloc(a, sizeof *sel->alts);
    if (!sel->alts || !(sel->alts->items = bt_arena_calloc(a, sizeof(ritem))))
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    sel->nalts = sel->alts->nitems = 1;
    return rules_keywords(y->c, vals, n, sel->alts->items);
}

/* A detection map (or a filter map); skip names the keys that are not selections. */
static int load_detection(ydoc *y, const yaml_node_t *det, const char *skip, rdet *out)
{
    bt_arena *a = y->c->rs->arena;
    size_t n, k = 0, ncond = 0, i;
    yaml_node_pair_t *p;
    yaml_node_t *cond = yget(y, det, "condition");
    const char *conds[64];
    rnode *root;
    int rc;
    if (!det || det->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "detection must be a map");
    if (!cond)
        return rules_fail(y->c, BT_EINVAL, "missing condition");
    if (yget(y, det, "timeframe"))
        return rules_fail(y->c, BT_EINVAL, "'timeframe' is obsolete (use a correlation rule)");
    n = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
    out->sels = bt_arena_calloc(a, (n + 1) * sizeof *out->sels);
    if (!out->sels)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    for (p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = ynode(y, p->key), *vn = ynode(y, p->value);
        const char *name;
        if (!is_scalar(kn) || !vn)
            return rules_fail(y->c, BT_EINVAL, "a search identifier must be named by a string");
        name = (const char *)kn->data.scalar.value;
        if (strcmp(name, "condition") == 0 || (skip && strcmp(name, skip) == 0))
            continue;
        for (i = 0; i < k; i++)
            if (strcmp(out->sels[i].name, name) == 0)
                return rules_fail(y->c, BT_EINVAL, "search identifier '%s' defined twice", name);
        if ((rc = load_sel(y, name, vn, &out->sels[k++])))
            return rc;
    }
    out->nsels = k;
    if (is_scalar(cond)) {
        conds[ncond++] = (const char *)cond->data.scalar.value;
    } else if (cond->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it;
        for (it = cond->data.sequence.items.start; it < cond->data.sequence.items.top; it++) {
            yaml_node_t *e = ynode(y, *it);
            if (!is_scalar(e) || ncond == 64)
                return rules_fail(y->c, BT_EINVAL, "condition must be a string or a list of them");
            conds[ncond++] = (const char *)e->data.scalar.value;
        }
    }
    if (ncond == 0)
        return rules_fail(y->c, BT_EINVAL, "condition must be a string or a list of them");
    root = rules_node(a, N_OR, ncond);
    if (!root)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    for (i = 0; i < ncond; i++)
        if ((rc = rules_cond_parse(y->c, conds[i], out->sels, out->nsels, &root->kids[i])))
            return rc;
    out->cond = ncond == 1 ? root->kids[0] : root;
    return 0;
}

/* ---- correlation ---- */

static int parse_timespan(ydoc *y, const char *s, int64_t *ms)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    int64_t unit;
    if (end == s || v <= 0 || end[0] == '\0' || end[1] != '\0')
        goto bad;
    switch (end[0]) {
    case 's': unit = 1000; break;
    case 'm': unit = 60000; break;
    case 'h': unit = 3600000; break;
    case 'd': unit = 86400000; break;
    default: goto bad;
    }
    if (v > 3650LL * 86400000 / unit)
        goto bad;
    *ms = v * unit;
    return 0;
bad:
    return rules_fail(y->c, BT_EINVAL, "timespan '%s' is not <number><s|m|h|d>", s);
}

static int load_corr_cond(ydoc *y, const yaml_node_t *cn, rcorr *k, bt_rule_corr_type t)
{
    yaml_node_pair_t *p;
    int nops = 0;
    if (!cn) {
        if (t == BT_CORR_EVENT_COUNT || t == BT_CORR_VALUE_COUNT)
            return rules_fail(y->c, BT_EINVAL, "correlation: missing condition");
        return 0;
    }
    if (cn->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "correlation: condition must be a map");
    for (p = cn->data.mapping.pairs.start; p < cn->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = ynode(y, p->key), *vn = ynode(y, p->value);
        const char *key;
        char *end;
        double v;
        if (!is_scalar(kn) || !is_scalar(vn))
            return rules_fail(y->c, BT_EINVAL, "correlation: bad condition entry");
        key = (const char *)kn->data.scalar.value;
        if (strcmp(key, "field") == 0) {
            int rc = rules_path(y->c, (const char *)vn->data.scalar.value, &k->field);
            if (rc)
                return rc;
            k->has_field = true;
            continue;
        }
        v = strtod((const char *)vn->data.scalar.value, &end);
        if (end == (char *)vn->data.scalar.value || *end)
            return rules_fail(y->c, BT_EINVAL, "correlation: condition '%s' needs a number", key);
        nops++;
        if (strcmp(key, "gt") == 0 || strcmp(key, "gte") == 0)
            k->has_lo = true, k->lo = v, k->lo_incl = key[2] == 'e';
        else if (strcmp(key, "lt") == 0 || strcmp(key, "lte") == 0)
            k->has_hi = true, k->hi = v, k->hi_incl = key[2] == 'e';
        else if (strcmp(key, "eq") == 0)
            k->has_eq = true, k->eq = v;
        else if (strcmp(key, "neq") == 0)
            k->has_neq = true, k->neq = v;
        else
            return rules_fail(y->c, BT_EINVAL, "correlation: unknown condition '%s'", key);
    }
    if (nops == 0)
        return rules_fail(y->c, BT_EINVAL, "correlation: condition has no comparison");
    if (t == BT_CORR_VALUE_COUNT && !k->has_field)
        return rules_fail(y->c, BT_EINVAL, "correlation: value_count needs condition.field");
    if (t != BT_CORR_VALUE_COUNT && k->has_field)
        return rules_fail(y->c, BT_EINVAL, "correlation: 'field' only applies to value_count");
    return 0;
}

static int load_aliases(ydoc *y, const yaml_node_t *an, rcorr *k)
{
    yaml_node_pair_t *p, *q;
    size_t n = 0;
    bt_arena *a = y->c->rs->arena;
    if (!an)
        return 0;
    if (an->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "correlation: aliases must be a map");
    for (p = an->data.mapping.pairs.start; p < an->data.mapping.pairs.top; p++) {
        yaml_node_t *v = ynode(y, p->value);
        if (!v || v->type != YAML_MAPPING_NODE)
            return rules_fail(y->c, BT_EINVAL, "correlation: an alias maps rule names to fields");
        n += (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    }
    k->alias_name = bt_arena_calloc(a, (n + 1) * sizeof(char *));
    k->alias_rule = bt_arena_calloc(a, (n + 1) * sizeof(char *));
    k->alias_field = bt_arena_calloc(a, (n + 1) * sizeof(char *));
    if (!k->alias_name || !k->alias_rule || !k->alias_field)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    for (p = an->data.mapping.pairs.start; p < an->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = ynode(y, p->key), *v = ynode(y, p->value);
        for (q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
            yaml_node_t *rn = ynode(y, q->key), *fn = ynode(y, q->value);
            if (!is_scalar(kn) || !is_scalar(rn) || !is_scalar(fn))
                return rules_fail(y->c, BT_EINVAL, "correlation: bad alias entry");
            k->alias_name[k->naliases] = adup(y, (const char *)kn->data.scalar.value);
            k->alias_rule[k->naliases] = adup(y, (const char *)rn->data.scalar.value);
            k->alias_field[k->naliases++] = adup(y, (const char *)fn->data.scalar.value);
        }
    }
    return 0;
}

static int load_correlation(ydoc *y, const yaml_node_t *doc, const yaml_node_t *cn, bt_rule *r)
{
    static const char *const types[] = {"", "event_count", "value_count", "temporal",
                                        "temporal_ordered"};
    const char *type = NULL, *span = NULL, *gen = NULL;
    rcorr *k = &r->corr;
    int rc, t;
    if (cn->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "correlation must be a map");
    if ((rc = ystr(y, cn, "type", &type)) || (rc = ystr(y, cn, "timespan", &span)))
        return rc;
    if (!type)
        return rules_fail(y->c, BT_EINVAL, "correlation: missing type");
    for (t = 1; t < 5; t++)
        if (strcmp(type, types[t]) == 0)
            break;
    if (t == 5)
        return rules_fail(y->c, BT_EINVAL, "correlation type '%s' is not supported", type);
    r->info.corr_type = (bt_rule_corr_type)t;
    if ((rc = ystrlist(y, yget(y, cn, "rules"), "rules", &k->refs, &k->nrefs)))
        return rc;
    if (k->nrefs == 0)
        return rules_fail(y->c, BT_EINVAL, "correlation: missing rules");
    if ((rc = ystrlist(y, yget(y, cn, "group-by"), "group-by", &k->group, &k->ngroup)))
        return rc;
    if (!span)
        return rules_fail(y->c, BT_EINVAL, "correlation: missing timespan");
    if ((rc = parse_timespan(y, span, &k->span_ms)))
        return rc;
    if ((rc = load_corr_cond(y, yget(y, cn, "condition"), k, (bt_rule_corr_type)t)) ||
        (rc = load_aliases(y, yget(y, cn, "aliases"), k)))
        return rc;
    if ((rc = ystr(y, doc, "generate", &gen)) || (!gen && (rc = ystr(y, cn, "generate", &gen))))
        return rc;
    k->generate = gen && strcmp(gen, "true") == 0;
    return 0;
}

/* ---- documents ---- */

static int add_rule(bt_ruleset *rs, bt_rule *r, bt_error *err)
{
    if (rs->nrules >= BT_RULES_MAX_RULES)
        return bt_error_set(err, BT_ELIMIT, "more than %d rules", BT_RULES_MAX_RULES);
    if (rs->nrules == rs->caprules) {
        size_t cap = rs->caprules ? rs->caprules * 2 : 64;
        bt_rule **n = realloc(rs->rules, cap * sizeof *n);
        if (!n)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        rs->rules = n;
        rs->caprules = cap;
    }
    r->index = rs->nrules;
    rs->rules[rs->nrules++] = r;
    return 0;
}

static int load_logsource(ydoc *y, const yaml_node_t *doc, bt_rule_info *info, bool required)
{
    yaml_node_t *ls = yget(y, doc, "logsource");
    int rc;
    if (!ls) {
        return required ? rules_fail(y->c, BT_EINVAL, "missing logsource") : 0;
    }
    if (ls->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "logsource must be a map");
    if ((rc = ystr(y, ls, "product", &info->product)) ||
        (rc = ystr(y, ls, "service", &info->service)) ||
        (rc = ystr(y, ls, "category", &info->category)))
        return rc;
    if (info->product && strcmp(info->product, "aws") && strcmp(info->product, "buildtrail"))
        return rules_fail(y->c, BT_EINVAL, "logsource product '%s' is not aws", info->product);
    if (info->service && strcmp(info->service, "cloudtrail") &&
        strcmp(info->service, "codebuild") && strcmp(info->service, "buildtrail"))
        return rules_fail(y->c, BT_EINVAL, "logsource service '%s' is not cloudtrail",
                          info->service);
    if (info->category)
        return rules_fail(y->c, BT_EINVAL,
                          "logsource category '%s' is not supported (CloudTrail has none)",
                          info->category);
    return 0;
}

static int load_filter(ydoc *y, const yaml_node_t *doc, const yaml_node_t *fn, const char *title)
{
    bt_ruleset *rs = y->c->rs;
    rfilter *f = bt_arena_calloc(rs->arena, sizeof *f);
    int rc;
    if (!f)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    f->title = title;
    f->file = y->c->file;
    if (fn->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "filter must be a map");
    if ((rc = ystrlist(y, yget(y, fn, "rules"), "filter rules", &f->targets, &f->ntargets)))
        return rc;
    if (f->ntargets == 0)
        return rules_fail(y->c, BT_EINVAL, "filter: missing rules");
    if ((rc = load_detection(y, fn, "rules", &f->det)))
        return rc;
    (void)doc;
    if (rs->nfilters == rs->capfilters) {
        size_t cap = rs->capfilters ? rs->capfilters * 2 : 8;
        rfilter **n = realloc(rs->filters, cap * sizeof *n);
        if (!n)
            return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
        rs->filters = n;
        rs->capfilters = cap;
    }
    rs->filters[rs->nfilters++] = f;
    return 0;
}

static int load_meta(ydoc *y, const yaml_node_t *doc, bt_rule_info *info)
{
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    size_t i;
    int rc;
    if ((rc = ystr(y, doc, "name", &info->name)) || (rc = ystr(y, doc, "level", &info->level)) ||
        (rc = ystr(y, doc, "status", &info->status)) ||
        (rc = ystr(y, doc, "description", &info->description)))
        return rc;
    if ((rc = ystrlist(y, yget(y, doc, "tags"), "tags", (const char ***)&info->tags, &info->ntags)))
        return rc;
    if (info->level) {
        for (i = 0; i < 5 && strcmp(info->level, levels[i]); i++)
            ;
        if (i == 5)
            return rules_fail(y->c, BT_EINVAL, "unknown level '%s'", info->level);
    }
    return 0;
}

/* One YAML document: a detection rule, a correlation rule or a filter. */
static int load_doc(ydoc *y, int docno)
{
    yaml_node_t *doc = yaml_document_get_root_node(y->d), *det, *corr, *filt;
    char label[32];
    const char *title = NULL, *id = NULL;
    bt_rule *r;
    int rc;
    snprintf(label, sizeof label, "document %d", docno);
    y->c->rule = label;
    if (!doc || doc->type != YAML_MAPPING_NODE)
        return rules_fail(y->c, BT_EINVAL, "not a Sigma rule (the document is not a map)");
    if ((rc = ystr(y, doc, "title", &title)) || (rc = ystr(y, doc, "id", &id)))
        return rc;
    if (title || id)
        y->c->rule = title ? title : id;
    if (!title)
        return rules_fail(y->c, BT_EINVAL, "missing title");
    if (yget(y, doc, "action"))
        return rules_fail(y->c, BT_EINVAL, "'action' (rule collections) is not supported");
    det = yget(y, doc, "detection");
    corr = yget(y, doc, "correlation");
    filt = yget(y, doc, "filter");
    if (!!det + !!corr + !!filt != 1)
        return rules_fail(y->c, BT_EINVAL, "%s",
                          det || corr || filt ? "more than one of detection, correlation, filter"
                                              : "missing detection");
    if (filt)
        return load_filter(y, doc, filt, title);
    r = bt_arena_calloc(y->c->rs->arena, sizeof *r);
    if (!r)
        return bt_error_set(y->c->err, BT_ENOMEM, "out of memory");
    r->info.title = title;
    r->info.id = id;
    r->info.file = y->c->file;
    r->info.alerts = true;
    if ((rc = load_meta(y, doc, &r->info)) || (rc = load_logsource(y, doc, &r->info, det != NULL)))
        return rc;
    if (det) {
        r->info.kind = BT_RULE_DETECTION;
        rc = load_detection(y, det, NULL, &r->det);
    } else {
        r->info.kind = BT_RULE_CORRELATION;
        rc = load_correlation(y, doc, corr, r);
    }
    return rc ? rc : add_rule(y->c->rs, r, y->c->err);
}

int bt_rules_add_buffer(bt_ruleset *rs, const char *name, const char *text, size_t len,
                        bt_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    rctx c;
    ydoc y;
    int rc = 0, docno = 0;
    bool parser_ok = false;
    if (!rs)
        return bt_error_set(err, BT_EINVAL, "no rule set");
    if (rs->failed || rs->compiled)
        return bt_error_set(err, BT_EINVAL, "%s",
                            rs->failed ? "the rule set failed to load"
                                       : "the rule set is already compiled");
    memset(&c, 0, sizeof c);
    c.rs = rs;
    c.err = err;
    c.budget = BT_RULES_MAX_NODES;
    c.file = bt_arena_strdup(rs->arena, name ? name : "(buffer)");
    if (!c.file) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (len > BT_RULES_MAX_FILE) {
        rc = bt_error_set(err, BT_ELIMIT, "'%s': rule file over %zu bytes", c.file,
                          BT_RULES_MAX_FILE);
        goto done;
    }
    if ((rc = bt_yaml_load(err)))
        goto done;
    if (!yaml_parser_initialize(&parser)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    parser_ok = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    y.d = &doc;
    y.c = &c;
    for (;;) {
        if (!yaml_parser_load(&parser, &doc)) {
            rc = bt_error_set(err, BT_EPARSE, "'%s': document %d: not YAML: %s at line %zu", c.file,
                              docno + 1, parser.problem ? parser.problem : "error",
                              (size_t)parser.problem_mark.line + 1);
            goto done;
        }
        if (!yaml_document_get_root_node(&doc)) {
            yaml_document_delete(&doc);
            break;
        }
        rc = load_doc(&y, ++docno);
        yaml_document_delete(&doc);
        if (rc)
            goto done;
    }
    if (docno == 0)
        rc = bt_error_set(err, BT_EINVAL, "'%s': no Sigma rule in the file", c.file);
done:
    if (parser_ok)
        yaml_parser_delete(&parser);
    if (rc) {
        rules_oneline(err);
        rs->failed = true;
        rs->fail_code = rc;
        snprintf(rs->fail_msg, sizeof rs->fail_msg, "%s", err ? err->msg : "");
    }
    return rc;
}
