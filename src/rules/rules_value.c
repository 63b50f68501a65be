/*
 * rules_value.c - turns one Sigma detection entry ("field|mod|mod": values) into a
 * compiled item: field path, modifiers checked, values compiled to patterns (wildcards
 * and escapes, case folded), numbers, regexes (PCRE2), CIDR networks, comparisons,
 * field references, existence checks. Refusals name file, rule and problem.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

void rules_oneline(bt_error *err)
{
    char *p;
    if (!err)
        return;
    for (p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

int rules_fail(rctx *c, int code, const char *fmt, ...)
{
    char what[BT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bt_error_set(c->err, code, "'%s': rule '%s': %s", c->file, c->rule ? c->rule : "?", what);
    rules_oneline(c->err);
    return code;
}

static const char *const g_derived[DF_NFIXED] = {
    "buildtrail.build_id",       "buildtrail.build_uuid",  "buildtrail.project",
    "buildtrail.is_build_call",  "buildtrail.build_state", "buildtrail.build_ended_age_s",
    "buildtrail.source_ip_known"};

int rules_path(rctx *c, const char *dotted, rpath *out)
{
    bt_arena *a = c->rs->arena;
    size_t n = 1, i, len = strlen(dotted), start = 0, k = 0;
    memset(out, 0, sizeof *out);
    out->derived = -1;
    out->top = -1;
    if (len == 0)
        return rules_fail(c, BT_EINVAL, "empty field name");
    for (i = 0; i < len; i++)
        if (dotted[i] == '.')
            n++;
    out->dotted = bt_arena_strndup(a, dotted, len);
    out->seg = bt_arena_calloc(a, n * sizeof *out->seg);
    out->seglen = bt_arena_calloc(a, n * sizeof *out->seglen);
    if (!out->dotted || !out->seg || !out->seglen)
        return bt_error_set(c->err, BT_ENOMEM, "out of memory");
    for (i = 0; i <= len; i++) {
        if (i == len || dotted[i] == '.') {
            if (i == start)
                return rules_fail(c, BT_EINVAL, "field '%s': empty path segment", dotted);
            out->seg[k] = out->dotted + start;
            out->seglen[k++] = i - start;
            start = i + 1;
        }
    }
    out->nseg = n;
    if (strncmp(dotted, "buildtrail.", 11) == 0) {
        out->derived = DF_EXTRA;
        for (i = 0; i < DF_NFIXED; i++)
            if (strcmp(dotted, g_derived[i]) == 0)
                out->derived = (int)i;
    }
    return 0;
}

int rules_regex_track(bt_ruleset *rs, pcre2_code *re, pcre2_match_data *md)
{
    if (rs->nres == rs->capres) {
        size_t cap = rs->capres ? rs->capres * 2 : 16;
        pcre2_code **r = realloc(rs->res, cap * sizeof *r);
        pcre2_match_data **m;
        if (!r)
            return BT_ENOMEM;
        rs->res = r;
        m = realloc(rs->mds, cap * sizeof *m);
        if (!m)
            return BT_ENOMEM;
        rs->mds = m;
        rs->capres = cap;
    }
    rs->res[rs->nres] = re;
    rs->mds[rs->nres++] = md;
    return 0;
}

/* ---- modifiers ---- */

enum {
    M_CONTAINS = 1 << 0,
    M_STARTS = 1 << 1,
    M_ENDS = 1 << 2,
    M_ALL = 1 << 3,
    M_RE = 1 << 4,
    M_RE_I = 1 << 5,
    M_RE_M = 1 << 6,
    M_RE_S = 1 << 7,
    M_CIDR = 1 << 8,
    M_EXISTS = 1 << 9,
    M_FIELDREF = 1 << 10,
    M_B64 = 1 << 11,
    M_B64OFF = 1 << 12,
    M_LT = 1 << 13,
    M_LTE = 1 << 14,
    M_GT = 1 << 15,
    M_GTE = 1 << 16,
    M_CASED = 1 << 17,
    M_NEQ = 1 << 18
};

static const struct {
    const char *name;
    unsigned bit;
} g_mods[] = {
    {"contains", M_CONTAINS},
    {"startswith", M_STARTS},
    {"endswith", M_ENDS},
    {"all", M_ALL},
    {"re", M_RE},
    {"i", M_RE_I},
    {"m", M_RE_M},
    {"s", M_RE_S},
    {"cidr", M_CIDR},
    {"exists", M_EXISTS},
    {"fieldref", M_FIELDREF},
    {"base64", M_B64},
    {"base64offset", M_B64OFF},
    {"lt", M_LT},
    {"lte", M_LTE},
    {"gt", M_GT},
    {"gte", M_GTE},
    {"cased", M_CASED},
    {"neq", M_NEQ},
};

/* Known to Sigma but refused here, with the reason docs/rules.md gives. */
static const char *const g_refused[] = {"windash", "expand", "utf16", "utf16le", "utf16be", "wide",
                                        "minute",  "hour",   "day",   "week",    "month",   "year"};

static int parse_mods(rctx *c, const char *key, char *field, size_t fieldsz, unsigned *mods)
{
    const char *p = strchr(key, '|'), *q;
    size_t flen = p ? (size_t)(p - key) : strlen(key), i;
    *mods = 0;
    if (flen >= fieldsz)
        return rules_fail(c, BT_ELIMIT, "field name too long");
    memcpy(field, key, flen);
    field[flen] = '\0';
    while (p) {
        char m[32];
        size_t ml;
        unsigned bit = 0;
        p++;
        q = strchr(p, '|');
        ml = q ? (size_t)(q - p) : strlen(p);
        if (ml == 0 || ml >= sizeof m)
            return rules_fail(c, BT_EINVAL, "field '%s': empty or overlong modifier", field);
        memcpy(m, p, ml);
        m[ml] = '\0';
        for (i = 0; i < sizeof g_mods / sizeof g_mods[0]; i++)
            if (strcmp(m, g_mods[i].name) == 0)
                bit = g_mods[i].bit;
        for (i = 0; !bit && i < sizeof g_refused / sizeof g_refused[0]; i++)
            if (strcmp(m, g_refused[i]) == 0)
                return rules_fail(c, BT_EINVAL, "field '%s': modifier '%s' is not supported", field,
                                  m);
        if (!bit)
            return rules_fail(c, BT_EINVAL, "field '%s': unknown modifier '%s'", field, m);
        if ((bit & (M_RE_I | M_RE_M | M_RE_S)) && !(*mods & M_RE))
            return rules_fail(c, BT_EINVAL, "field '%s': modifier '%s' needs 're' before it", field,
                              m);
        *mods |= bit;
        p = q;
    }
    return 0;
}

/* Checks combinations; returns 0 or a refusal. */
static int check_mods(rctx *c, const char *field, unsigned m)
{
    unsigned shape = m & (M_CONTAINS | M_STARTS | M_ENDS);
    unsigned cmp = m & (M_LT | M_LTE | M_GT | M_GTE);
    unsigned kinds = 0;
    kinds += !!(m & M_RE) + !!(m & M_CIDR) + !!(m & M_EXISTS) + !!cmp;
    if (kinds > 1 || (cmp & (cmp - 1)))
        return rules_fail(c, BT_EINVAL, "field '%s': conflicting modifiers", field);
    if (shape & (shape - 1) && shape != (M_STARTS | M_ENDS))
        return rules_fail(c, BT_EINVAL, "field '%s': conflicting modifiers", field);
    if ((m & (M_RE | M_CIDR | M_EXISTS)) || cmp) {
        if (shape || (m & (M_FIELDREF | M_B64 | M_B64OFF)))
            return rules_fail(c, BT_EINVAL, "field '%s': conflicting modifiers", field);
    }
    if ((m & M_B64) && (m & M_B64OFF))
        return rules_fail(c, BT_EINVAL, "field '%s': conflicting modifiers", field);
    if ((m & M_FIELDREF) && (m & (M_B64 | M_B64OFF)))
        return rules_fail(c, BT_EINVAL, "field '%s': conflicting modifiers", field);
    return 0;
}

/* ---- value compilation ---- */

static bool plain_null(const rscalar *v)
{
    return v->plain && (v->len == 0 || strcmp(v->s, "~") == 0 || strcmp(v->s, "null") == 0 ||
                        strcmp(v->s, "Null") == 0 || strcmp(v->s, "NULL") == 0);
}

/* YAML 1.2 core schema number (decimal int or float) written plain. */
static bool plain_number(const rscalar *v, double *out)
{
    char *end;
    if (!v->plain || v->len == 0 || v->len > 64)
        return false;
    if (!(isdigit((unsigned char)v->s[0]) ||
          ((v->s[0] == '-' || v->s[0] == '+' || v->s[0] == '.') && v->len > 1)))
        return false;
    if (v->len > 1 && (v->s[1] == 'x' || v->s[1] == 'X' || v->s[1] == 'o'))
        return false;
    errno = 0;
    *out = strtod(v->s, &end);
    return end == v->s + v->len && errno == 0;
}

static bool numeric_text(const char *s, size_t len, double *out)
{
    char buf[80], *end;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    return end == buf + len && errno == 0 && !isspace((unsigned char)buf[0]);
}

/* Builds a pattern from text: escapes processed when `escapes`, stars added around it
 * per modifiers, folded to lowercase unless cased. */
static int make_pattern(rctx *c, const char *s, size_t len, bool escapes, unsigned m, rvalue *v)
{
    bt_arena *a = c->rs->arena;
    char *pat = bt_arena_alloc(a, len + 3);
    unsigned char *wild = bt_arena_calloc(a, len + 3);
    size_t n = 0, i, nstar = 0, nwild = 0;
    if (!pat || !wild)
        return bt_error_set(c->err, BT_ENOMEM, "out of memory");
    if (m & (M_CONTAINS | M_ENDS))
        wild[n] = W_STAR, pat[n++] = '*';
    for (i = 0; i < len; i++) {
        char ch = s[i];
        if (escapes && ch == '\\' && i + 1 < len &&
            (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            pat[n++] = s[++i]; /* \* \? \\ -> the plain character */
            continue;
        }
        if (escapes && (ch == '*' || ch == '?'))
            wild[n] = ch == '*' ? W_STAR : W_ONE;
        pat[n++] = ch;
    }
    if (m & (M_CONTAINS | M_STARTS))
        wild[n] = W_STAR, pat[n++] = '*';
    pat[n] = '\0';
    v->cased = (m & M_CASED) != 0;
    if (!v->cased)
        for (i = 0; i < n; i++)
            if (!wild[i])
                pat[i] = (char)tolower((unsigned char)pat[i]);
    for (i = 0; i < n; i++) {
        nstar += wild[i] == W_STAR;
        nwild += wild[i] != W_LIT;
    }
    v->pat = pat;
    v->plen = n;
    v->wild = nwild ? wild : NULL;
    v->shape = SH_GLOB;
    if (nwild == 0) {
        v->shape = SH_EXACT, v->lit = pat, v->llen = n;
    } else if (nstar == n) {
        v->shape = SH_ANY;
    } else if (nwild == nstar) {
        size_t lo = 0, hi = n;
        while (lo < n && wild[lo] == W_STAR)
            lo++;
        while (hi > lo && wild[hi - 1] == W_STAR)
            hi--;
        for (i = lo; i < hi && !wild[i]; i++)
            ;
        if (i == hi) { /* one literal run between stars */
            v->lit = pat + lo, v->llen = hi - lo;
            v->shape = lo && hi < n ? SH_CONTAINS : lo ? SH_SUFFIX : SH_PREFIX;
        }
    }
    return 0;
}

/* The longest literal every match of the regex must contain (conservative: none when
 * the pattern has a top-level `|`, inline options `(?` or a run that a quantifier makes
 * optional). Lowercased for a caseless regex, whose literal stays ASCII. */
static void regex_literal(rctx *c, const char *re, size_t len, bool caseless, rvalue *v)
{
    char run[256], best[256];
    size_t rl = 0, bl = 0, i;
    int depth = 0;
    if (memmem(re, len, "(?", 2))
        return;
    for (i = 0; i <= len; i++) {
        char ch = i < len ? re[i] : '\0';
        bool lit = false, drop_last = false;
        if (i == len) {
        } else if (ch == '\\' && i + 1 < len) {
            ch = re[++i];
            lit = depth == 0 && !isalnum((unsigned char)ch);
        } else if (ch == '[') { /* skip the class */
            i++;
            if (i < len && re[i] == '^')
                i++;
            if (i < len && re[i] == ']')
                i++;
            while (i < len && re[i] != ']')
                i += re[i] == '\\' ? 2 : 1;
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')') {
            depth--;
        } else if (ch == '|' && depth == 0) {
            return; /* alternation: nothing is required */
        } else if (ch == '*' || ch == '?' || ch == '{') {
            drop_last = true;
            while (ch == '{' && i + 1 < len && re[i] != '}') /* skip {n,m} */
                i++;
        } else if (!strchr(".^$+|", ch)) {
            lit = depth == 0;
        }
        if (lit && caseless && (unsigned char)ch >= 0x80)
            lit = false;
        if (lit && rl < sizeof run) {
            run[rl++] = caseless ? (char)tolower((unsigned char)ch) : ch;
            continue;
        }
        if (drop_last && rl)
            rl--;
        if (rl > bl) {
            memcpy(best, run, rl);
            bl = rl;
        }
        rl = 0;
    }
    if (bl >= 2) {
        v->lit = bt_arena_strndup(c->rs->arena, best, bl);
        v->llen = v->lit ? bl : 0;
        v->cased = !caseless;
    }
}

static int make_regex(rctx *c, const char *field, const rscalar *s, unsigned m, rvalue *v)
{
    int ecode = 0;
    PCRE2_SIZE eoff = 0;
    uint32_t opts = PCRE2_UTF;
    pcre2_code *re;
    pcre2_match_data *md;
    int rc;
    if ((rc = bt_pcre2_load(c->err)))
        return rc;
    if (m & M_RE_I)
        opts |= PCRE2_CASELESS;
    if (m & M_RE_M)
        opts |= PCRE2_MULTILINE;
    if (m & M_RE_S)
        opts |= PCRE2_DOTALL;
    re = pcre2_compile((PCRE2_SPTR)s->s, s->len, opts, &ecode, &eoff, NULL);
    if (!re) {
        char msg[160];
        pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
        return rules_fail(c, BT_EINVAL,
                          "field '%s': regex '%.80s' does not compile: %s at offset %zu", field,
                          s->s, msg, (size_t)eoff);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md || rules_regex_track(c->rs, re, md)) {
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        return bt_error_set(c->err, BT_ENOMEM, "out of memory");
    }
    v->kind = V_REGEX;
    v->re = re;
    v->md = md;
    regex_literal(c, s->s, s->len, (m & M_RE_I) != 0, v);
    return 0;
}

static int make_cidr(rctx *c, const char *field, const rscalar *s, rvalue *v)
{
    char buf[64];
    const char *slash = memchr(s->s, '/', s->len);
    size_t alen = slash ? (size_t)(slash - s->s) : s->len;
    long pfx;
    char *end;
    if (alen >= sizeof buf)
        goto bad;
    memcpy(buf, s->s, alen);
    buf[alen] = '\0';
    v->kind = V_CIDR;
    if (inet_pton(AF_INET, buf, v->net) == 1)
        v->family = 4;
    else if (inet_pton(AF_INET6, buf, v->net) == 1)
        v->family = 6;
    else
        goto bad;
    pfx = v->family == 4 ? 32 : 128;
    if (slash) {
        errno = 0;
        pfx = strtol(slash + 1, &end, 10);
        if (end != s->s + s->len || slash[1] == '\0' || pfx < 0 ||
            pfx > (v->family == 4 ? 32 : 128))
            goto bad;
    }
    v->prefix = (int)pfx;
    return 0;
bad:
    return rules_fail(c, BT_EINVAL, "field '%s': '%.80s' is not a CIDR network", field, s->s);
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned x = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[x >> 18], out[o++] = t[(x >> 12) & 63];
        out[o++] = t[(x >> 6) & 63], out[o++] = t[x & 63];
    }
    if (n - i == 1) {
        unsigned x = (unsigned)in[i] << 16;
        out[o++] = t[x >> 18], out[o++] = t[(x >> 12) & 63], out[o++] = '=', out[o++] = '=';
    } else if (n - i == 2) {
        unsigned x = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = t[x >> 18], out[o++] = t[(x >> 12) & 63], out[o++] = t[(x >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* base64offset variant `shift` (0..2) of s, as pySigma computes it: encode with `shift`
 * leading bytes, drop the characters those bytes and the partial tail influence. */
static size_t b64_offset(const char *s, size_t len, int shift, char *out)
{
    static const int start[3] = {0, 2, 3};
    static const int endcut[3] = {0, 3, 2};
    unsigned char in[1024 + 2];
    char enc[1400 + 8];
    size_t n, e, from, to;
    memset(in, ' ', (size_t)shift);
    memcpy(in + shift, s, len);
    n = b64_encode(in, len + (size_t)shift, enc);
    e = endcut[(len + (size_t)shift) % 3];
    from = (size_t)start[shift];
    to = n > e ? n - e : 0;
    if (to <= from)
        return 0;
    memcpy(out, enc + from, to - from);
    out[to - from] = '\0';
    return to - from;
}

/* Compiles one scalar into 1..3 values (base64offset gives 3). */
static int make_values(rctx *c, const char *field, const rscalar *s, unsigned m, rvalue *out,
                       size_t *nout)
{
    double num;
    rvalue *v = &out[0];
    int rc;
    memset(v, 0, sizeof *v);
    *nout = 1;
    v->text = bt_arena_strndup(c->rs->arena, s->s, s->len); /* the YAML buffer goes away */
    if (!v->text)
        return bt_error_set(c->err, BT_ENOMEM, "out of memory");
    if (c->budget == 0)
        return rules_fail(c, BT_ELIMIT, "too many values (cap %d)", BT_RULES_MAX_NODES);
    c->budget--;
    if (m & M_EXISTS) {
        if (!s->plain || (strcmp(s->s, "true") && strcmp(s->s, "false")))
            return rules_fail(c, BT_EINVAL, "field '%s': 'exists' needs true or false", field);
        v->kind = V_EXISTS;
        v->exists = s->s[0] == 't';
        return 0;
    }
    if (plain_null(s)) {
        if (m & ~(M_ALL | M_NEQ))
            return rules_fail(c, BT_EINVAL, "field '%s': null with a modifier", field);
        v->kind = V_NULL;
        return 0;
    }
    if (m & M_RE)
        return make_regex(c, field, s, m, v);
    if (m & M_CIDR)
        return make_cidr(c, field, s, v);
    if (m & (M_LT | M_LTE | M_GT | M_GTE)) {
        if (!numeric_text(s->s, s->len, &v->num))
            return rules_fail(c, BT_EINVAL, "field '%s': '%.80s' is not a number", field, s->s);
        v->kind = V_CMP;
        v->cmp = (m & M_LT) ? CMP_LT : (m & M_LTE) ? CMP_LTE : (m & M_GT) ? CMP_GT : CMP_GTE;
        return 0;
    }
    if (m & M_FIELDREF) {
        rc = rules_path(c, s->s, &v->ref);
        if (rc)
            return rc;
        rc = make_pattern(c, "", 0, false, m, v); /* the shape of the comparison */
        v->kind = V_FIELDREF;
        v->shape = (m & M_CONTAINS) ? SH_CONTAINS
                   : (m & M_STARTS) ? SH_PREFIX
                   : (m & M_ENDS)   ? SH_SUFFIX
                                    : SH_EXACT;
        return rc;
    }
    if (m & (M_B64 | M_B64OFF)) {
        char enc[1400 + 8];
        int k, nv = (m & M_B64) ? 1 : 3;
        if (s->len > 1024)
            return rules_fail(c, BT_ELIMIT, "field '%s': base64 value over 1024 bytes", field);
        *nout = 0;
        for (k = 0; k < nv; k++) {
            size_t el = (m & M_B64) ? b64_encode((const unsigned char *)s->s, s->len, enc)
                                    : b64_offset(s->s, s->len, k, enc);
            rvalue *w = &out[*nout];
            if (el == 0)
                continue;
            memset(w, 0, sizeof *w);
            w->kind = V_PATTERN;
            w->text = bt_arena_strndup(c->rs->arena, enc, el);
            if (!w->text)
                return bt_error_set(c->err, BT_ENOMEM, "out of memory");
            rc = make_pattern(c, enc, el, false, m | M_CASED, w);
            if (rc)
                return rc;
            (*nout)++;
        }
        if (*nout == 0)
            return rules_fail(c, BT_EINVAL, "field '%s': empty base64 value", field);
        return 0;
    }
    if (!(m & (M_CONTAINS | M_STARTS | M_ENDS)) && plain_number(s, &num)) {
        v->kind = V_NUMBER;
        v->num = num;
        return make_pattern(c, s->s, s->len, false, m, v); /* text form for strings */
    }
    v->kind = V_PATTERN;
    return make_pattern(c, s->s, s->len, true, m, v);
}

int rules_item(rctx *c, const char *key, const rscalar *vals, size_t n, bool is_list, ritem *out)
{
    char field[512];
    unsigned m;
    size_t i, cap, nv = 0;
    int rc;
    memset(out, 0, sizeof *out);
    rc = parse_mods(c, key, field, sizeof field, &m);
    if (rc)
        return rc;
    rc = check_mods(c, field[0] ? field : "(keywords)", m);
    if (rc)
        return rc;
    if (field[0] == '\0') {
        if (m & ~(M_ALL | M_CONTAINS | M_STARTS | M_ENDS | M_CASED | M_B64 | M_B64OFF | M_RE |
                  M_RE_I | M_RE_M | M_RE_S))
            return rules_fail(c, BT_EINVAL, "keywords: modifier not usable without a field");
        out->keyword = true;
    } else if ((rc = rules_path(c, field, &out->path))) {
        return rc;
    }
    if (n == 0)
        return rules_fail(c, BT_EINVAL, "field '%s': empty value list", field);
    if ((m & M_EXISTS) && (n != 1 || is_list))
        return rules_fail(c, BT_EINVAL, "field '%s': 'exists' takes one value", field);
    out->all = (m & M_ALL) != 0;
    out->neg = (m & M_NEQ) != 0;
    cap = n * 3;
    out->vals = bt_arena_calloc(c->rs->arena, cap * sizeof *out->vals);
    if (!out->vals)
        return bt_error_set(c->err, BT_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        size_t got = 0;
        /* keywords are searched anywhere in a value: an implicit contains */
        unsigned vm = out->keyword && !(m & (M_STARTS | M_ENDS | M_RE)) ? m | M_CONTAINS : m;
        rc = make_values(c, field[0] ? field : "(keywords)", &vals[i], vm, out->vals + nv, &got);
        if (rc)
            return rc;
        if (out->keyword && out->vals[nv].kind == V_NULL)
            return rules_fail(c, BT_EINVAL, "keywords: null is not a keyword");
        nv += got;
    }
    out->nvals = nv;
    if ((m & M_B64OFF) && !out->all)
        return 0;
    if ((m & M_B64OFF) && out->all)
        return rules_fail(c, BT_EINVAL, "field '%s': 'all' with 'base64offset'", field);
    return 0;
}

int rules_keywords(rctx *c, const rscalar *vals, size_t n, ritem *out)
{
    return rules_item(c, "", vals, n, true, out);
}
