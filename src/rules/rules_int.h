/*
 * rules_int.h - the Sigma engine's internal structures, shared by the loader
 * (rules_load.c, rules_value.c, rules_cond.c), the planner (rules_plan.c), the matcher
 * (rules_match.c) and the correlator (rules_corr.c). Everything lives in the set's arena
 * except compiled regexes, which the set frees.
 */
#ifndef BT_RULES_INT_H
#define BT_RULES_INT_H

#include "buildtrail/arena.h"
#include "buildtrail/rules.h"
#include "util/pcre2_dl.h" /* <pcre2.h>, 8-bit, loaded on first use */

/* Fixed derived fields, in this order; DF_EXTRA is any other "buildtrail.*" name. */
enum {
    DF_BUILD_ID = 0,
    DF_BUILD_UUID,
    DF_PROJECT,
    DF_IS_BUILD_CALL,
    DF_BUILD_STATE,
    DF_BUILD_ENDED_AGE,
    DF_SOURCE_IP_KNOWN,
    DF_NFIXED,
    DF_EXTRA = DF_NFIXED
};

/* A field reference: dotted path split into segments. */
typedef struct rpath {
    const char *dotted;
    const char **seg;
    size_t *seglen;
    size_t nseg;
    int derived; /* -1: a record field; else DF_* */
    int top;     /* index of seg[0] among the set's top-level keys (rmctx.top), or -1 */
} rpath;

#define RULES_MAX_TOPS 64

/* Value kinds */
enum { V_PATTERN, V_NUMBER, V_NULL, V_REGEX, V_CIDR, V_EXISTS, V_FIELDREF, V_CMP };
/* Pattern shapes (V_PATTERN and V_FIELDREF) */
enum { SH_EXACT, SH_PREFIX, SH_SUFFIX, SH_CONTAINS, SH_ANY, SH_GLOB };
/* Comparison operators (V_CMP) */
enum { CMP_LT, CMP_LTE, CMP_GT, CMP_GTE };
/* Wildcard marks in rvalue.wild */
enum { W_LIT = 0, W_STAR = 1, W_ONE = 2 };

typedef struct rvalue {
    int kind;
    bool cased;
    /* V_PATTERN: pat[0..plen) unescaped, lowercased unless cased; wild[i] marks
     * wildcards (NULL when there are none). lit/llen: the literal of a simple shape. */
    int shape;
    const char *pat;
    const unsigned char *wild;
    size_t plen;
    const char *lit;
    size_t llen;
    const char *text; /* the value as written (messages, pins, V_NUMBER text) */
    double num;       /* V_NUMBER, V_CMP */
    int cmp;          /* V_CMP */
    pcre2_code *re;   /* V_REGEX */
    pcre2_match_data *md;
    unsigned char net[16]; /* V_CIDR */
    int family;            /* 4 or 6 */
    int prefix;
    bool exists; /* V_EXISTS */
    rpath ref;   /* V_FIELDREF */
} rvalue;

typedef struct ritem {
    rpath path;   /* unused when keyword */
    bool keyword; /* search every value of the record */
    bool all;     /* values linked with AND */
    bool neg;     /* neq */
    rvalue *vals;
    size_t nvals;
} ritem;

typedef struct ralt { /* a map: AND of items */
    ritem *items;
    size_t nitems;
} ralt;

typedef struct rsel { /* a search identifier: OR of maps */
    const char *name;
    ralt *alts;
    size_t nalts;
} rsel;

enum { N_AND, N_OR, N_NOT, N_SEL };
typedef struct rnode {
    int op;
    struct rnode **kids;
    size_t nkids;
    const rsel *sel;
} rnode;

typedef struct rdet {
    rsel *sels;
    size_t nsels;
    rnode *cond;
} rdet;

/* A filter document, kept until compile attaches it to its rules. */
typedef struct rfilter {
    const char *title, *file;
    const char **targets;
    size_t ntargets;
    rdet det;
} rfilter;

typedef struct rcorr {
    const char **refs; /* as written */
    size_t nrefs;
    bt_rule **rules; /* resolved at compile */
    const char **group;
    size_t ngroup;
    rpath *gpaths; /* [ngroup * nrefs]: group field g for referenced rule r (aliases) */
    /* aliases as written: alias name -> (rule name -> field) */
    const char **alias_name, **alias_rule, **alias_field;
    size_t naliases;
    int64_t span_ms;
    bool has_lo, has_hi, lo_incl, hi_incl, has_eq, has_neq;
    double lo, hi, eq, neq;
    rpath field; /* value_count */
    bool has_field;
    bool generate;
} rcorr;

struct bt_rule {
    bt_rule_info info;
    size_t index;
    rdet det;     /* detection rules */
    rnode *final; /* det.cond AND NOT each filter (compile) */
    rcorr corr;   /* correlation rules */
    bt_rule_plan plan;
    bool planned;
    /* correlations that reference this rule (compile) */
    bt_rule **users;
    size_t nusers;
    size_t corr_slot; /* index among correlation rules */
    const bt_ruleset *set;
    /* its alerts' first keys as JSON, `{"rule_id":…,"rule_title":…,"level":…` (compile:
     * rules_alert_head; NULL before) */
    const char *head;
    size_t head_len;
};

struct bt_ruleset {
    bt_arena *arena;
    bt_rule **rules;
    size_t nrules, caprules;
    rfilter **filters;
    size_t nfilters, capfilters;
    pcre2_code **res;
    pcre2_match_data **mds;
    size_t nres, capres;
    bool failed, compiled;
    int fail_code;
    char fail_msg[BT_ERROR_MSG_MAX];
    /* compiled dispatch: detection rules by lowercase eventName */
    size_t *unpinned; /* detection rules without an eventName pin, load order */
    size_t nunpinned;
    struct rdispatch *buckets;
    size_t nbuckets;
    bt_rule_plan setplan;
    /* top-level keys the rules read: each record's members are looked up once */
    const char *tops[RULES_MAX_TOPS];
    size_t toplen[RULES_MAX_TOPS];
    size_t ntops;
    signed char topslot[256]; /* hash of a key -> index in tops, -1 empty */
    int en_top;               /* index of eventName */
    const char **needles_lc;  /* setplan.needles lowercased, for bt_rules_prefilter */
    size_t *needle_len;
    /* The pre-filter (bt_rules_prefilter): the needles that are whole eventName values
     * (needle_is_name), looked up by the values of the record's "eventName" keys (found
     * with name_key) in an open-addressing table of nmask + 1 slots; the others, when
     * at most BT_MFIND_MAX - 1, searched in one pass by gen, or by gen_build with the
     * build tracker's literal (bt_build_tracker_may_want) too. */
    size_t nnames, ngeneral;
    const char **ntab; /* lowercased, NULL = empty slot */
    size_t *ntablen;
    size_t nmask;
    struct bt_mfind *name_key, *gen, *gen_build;
    /* else, over the other needles of 4+ bytes: a bitmap of hashed 4-byte prefixes and
     * chains of needle indexes per hash (needle_next links them); shorter needles are
     * searched one by one (short_needles) */
    uint64_t *nbits; /* 1 << 16 bits */
    int32_t *nhead;  /* 1 << 16 heads, -1 = empty */
    int32_t *nnext;
    uint32_t *nprefix; /* the 4 lowercase bytes, big-endian */
    size_t *short_needles;
    size_t nshort;
    size_t ncorr;
};

typedef struct rdispatch {
    const char *key; /* lowercase eventName, NULL = empty slot */
    size_t klen;
    size_t *rules; /* rule indexes, load order (pinned + unpinned merged) */
    size_t nrules;
} rdispatch;

/* bt_rules_prefilter(rs, raw, len) || bt_build_tracker_may_want(raw, len), in fewer
 * passes over raw (rules_plan.c). */
bool rules_prefilter_or_build(const bt_ruleset *rs, const char *raw, size_t len);
/* bt_rules_prefilter(rs, raw, len), and in *build bt_build_tracker_may_want(raw, len)
 * when it returns false (when it returns true, *build may be left false), in one pass
 * over raw for most records (rules_plan.c). name (name_len bytes), when not NULL, is the
 * record's top-level eventName, tested against the rules' names in place of a search of
 * raw for eventName keys. */
bool rules_prefilter_learn(const bt_ruleset *rs, const char *raw, size_t len, const char *name,
                           size_t name_len, bool *build);

/* Writes r's alerts' first keys (struct bt_rule's head) into the set's arena (hunt.c).
 * 0 or BT_ENOMEM. */
int rules_alert_head(bt_ruleset *rs, bt_rule *r);

/* ---- loader helpers (rules_value.c) ---- */

/* Context for building one rule: messages name file and rule. */
typedef struct rctx {
    bt_ruleset *rs;
    const char *file;
    const char *rule; /* title or id, or "document N" */
    size_t budget;    /* values left before BT_ELIMIT */
    bt_error *err;
} rctx;

/* Makes err's message one line (values and titles may hold newlines). */
void rules_oneline(bt_error *err);
int rules_fail(rctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rules_path(rctx *c, const char *dotted, rpath *out);
/* A scalar from YAML: text, and whether it was plain (unquoted). */
typedef struct rscalar {
    const char *s;
    size_t len;
    bool plain;
} rscalar;
/* Builds ritem from "field|mod|mod" and its values (n scalars). */
int rules_item(rctx *c, const char *key, const rscalar *vals, size_t n, bool is_list, ritem *out);
int rules_keywords(rctx *c, const rscalar *vals, size_t n, ritem *out);
int rules_regex_track(bt_ruleset *rs, pcre2_code *re, pcre2_match_data *md);

/* ---- condition (rules_cond.c) ---- */
int rules_cond_parse(rctx *c, const char *text, const rsel *sels, size_t nsels, rnode **out);
rnode *rules_node(bt_arena *a, int op, size_t nkids);

/* ---- plan (rules_plan.c) ---- */
int rules_plan_rule(bt_ruleset *rs, bt_rule *r);
int rules_plan_set(bt_ruleset *rs);

/* ---- match (rules_match.c) ---- */
typedef struct rmctx {
    const bt_json *record;
    const bt_json *top[RULES_MAX_TOPS]; /* the record's members by top-level key index */
    bool top_ready;
    const bt_rule_derived *derived;
    bt_json dfix[DF_NFIXED];
    bool dset[DF_NFIXED];
    bool own_md; /* regexes use md (made on first use), not the set's */
    pcre2_match_data *md;
} rmctx;
void rules_mctx_init(rmctx *m, const bt_ruleset *rs, const bt_json *record,
                     const bt_rule_derived *derived);
unsigned rules_top_hash(const char *key, size_t len);
bool rules_eval(const rnode *n, rmctx *m);
/* bt_rules_match, safe to call from several threads at once on the same set: regexes
 * use match data of the call's own (made when one is evaluated) instead of the set's. */
int rules_match_mt(const bt_ruleset *rs, const bt_json *record, const bt_rule_derived *derived,
                   bt_rules_match_fn cb, void *ud);
/* bt_build_tracker_derive without writing to t (safe from several threads while no one
 * learns): the strings it makes go to projbuf and idbuf, scratch is reset. */
void rules_derive(const bt_build_tracker *t, const bt_event *ev, bt_rule_derived *d,
                  bt_arena *scratch, char *projbuf, size_t projsz, char *idbuf, size_t idsz);
/* First value of a path as text (group-by, value_count); false when absent. */
bool rules_value_text(const rpath *p, rmctx *m, char *buf, size_t bufsz, const char **s, size_t *n);
bool rules_ieq(const char *a, size_t alen, const char *b, size_t blen);
size_t rules_bucket_of(const bt_ruleset *rs, const char *lower, size_t n);
/* ASCII case-insensitive search of lowercase lit in s. */
bool rules_find_ci(const char *s, size_t n, const char *lit, size_t llen);

#endif
