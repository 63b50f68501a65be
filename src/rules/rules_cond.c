/*
 * rules_cond.c - the Sigma condition grammar: `or` < `and` < `not` < `x of` < brackets,
 * `1 of pattern*`, `all of pattern*`, `1 of them`, `all of them` (identifiers starting
 * with `_` excluded from `them`). Compiles to an rnode tree over the rule's selections.
 * The obsolete `| count() by` aggregations are refused (correlation rules replace them).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_int.h"

#define COND_MAX_DEPTH 64

typedef struct cparser {
    rctx *c;
    const char *s;
    size_t pos, len;
    const rsel *sels;
    size_t nsels;
    unsigned depth;
    char tok[256];
    size_t toklen;
    int tkind; /* 0 end, 1 word, '(' ')' */
} cparser;

rnode *rules_node(bt_arena *a, int op, size_t nkids)
{
    rnode *n = bt_arena_calloc(a, sizeof *n);
    if (!n)
        return NULL;
    n->op = op;
    if (nkids) {
        n->kids = bt_arena_calloc(a, nkids * sizeof *n->kids);
        if (!n->kids)
            return NULL;
    }
    n->nkids = nkids;
    return n;
}

static int next(cparser *p)
{
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
    p->toklen = 0;
    if (p->pos >= p->len) {
        p->tkind = 0;
        return 0;
    }
    if (p->s[p->pos] == '(' || p->s[p->pos] == ')') {
        p->tkind = p->s[p->pos++];
        return 0;
    }
    if (p->s[p->pos] == '|')
        return rules_fail(p->c, BT_EINVAL,
                          "condition: aggregation '|' is obsolete (use a correlation rule)");
    while (p->pos < p->len) {
        char ch = p->s[p->pos];
        if (!(isalnum((unsigned char)ch) || ch == '_' || ch == '*' || ch == '-' || ch == '.'))
            break;
        if (p->toklen + 1 >= sizeof p->tok)
            return rules_fail(p->c, BT_ELIMIT, "condition: identifier too long");
        p->tok[p->toklen++] = ch;
        p->pos++;
    }
    p->tok[p->toklen] = '\0';
    if (p->toklen == 0)
        return rules_fail(p->c, BT_EINVAL, "condition: unexpected character '%c' at %zu",
                          p->s[p->pos], p->pos + 1);
    p->tkind = 1;
    return 0;
}

static bool is_kw(const cparser *p, const char *kw)
{
    return p->tkind == 1 && strcasecmp(p->tok, kw) == 0;
}

/* Matches a name against a pattern where '*' is any run (iterative, linear backtrack). */
static bool glob_name(const char *pat, const char *s)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (*pat == *s) {
            pat++, s++;
        } else if (star) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static int parse_or(cparser *p, rnode **out);

/* `1 of X` / `all of X` after the quantifier word. */
static int parse_of(cparser *p, bool all, rnode **out)
{
    bt_arena *a = p->c->rs->arena;
    bool them;
    size_t i, n = 0;
    rnode *node;
    int rc = next(p);
    if (rc)
        return rc;
    if (!is_kw(p, "of"))
        return rules_fail(p->c, BT_EINVAL, "condition: expected 'of' after '%s'",
                          all ? "all" : "1");
    if ((rc = next(p)))
        return rc;
    if (p->tkind != 1)
        return rules_fail(p->c, BT_EINVAL, "condition: expected a name pattern after 'of'");
    them = strcmp(p->tok, "them") == 0;
    for (i = 0; i < p->nsels; i++)
        if (them ? p->sels[i].name[0] != '_' : glob_name(p->tok, p->sels[i].name))
            n++;
    if (n == 0)
        return rules_fail(p->c, BT_EINVAL, "condition: '%s' matches no search identifier", p->tok);
    node = rules_node(a, all ? N_AND : N_OR, n);
    if (!node)
        return bt_error_set(p->c->err, BT_ENOMEM, "out of memory");
    n = 0;
    for (i = 0; i < p->nsels; i++)
        if (them ? p->sels[i].name[0] != '_' : glob_name(p->tok, p->sels[i].name)) {
            rnode *k = rules_node(a, N_SEL, 0);
            if (!k)
                return bt_error_set(p->c->err, BT_ENOMEM, "out of memory");
            k->sel = &p->sels[i];
            node->kids[n++] = k;
        }
    *out = node;
    return next(p);
}

static int parse_primary(cparser *p, rnode **out)
{
    size_t i;
    int rc;
    if (p->tkind == '(') {
        if (++p->depth > COND_MAX_DEPTH)
            return rules_fail(p->c, BT_ELIMIT, "condition: nested too deeply");
        if ((rc = next(p)) || (rc = parse_or(p, out)))
            return rc;
        if (p->tkind != ')')
            return rules_fail(p->c, BT_EINVAL, "condition: missing ')'");
        p->depth--;
        return next(p);
    }
    if (p->tkind != 1)
        return rules_fail(p->c, BT_EINVAL, "condition: expected a search identifier%s",
                          p->tkind == 0 ? " at the end" : " before ')'");
    if (strcmp(p->tok, "1") == 0 || is_kw(p, "all"))
        return parse_of(p, is_kw(p, "all"), out);
    if (is_kw(p, "and") || is_kw(p, "or") || is_kw(p, "of") || is_kw(p, "them"))
        return rules_fail(p->c, BT_EINVAL, "condition: unexpected '%s'", p->tok);
    if (strchr(p->tok, '*'))
        return rules_fail(p->c, BT_EINVAL, "condition: wildcard '%s' outside '1 of'/'all of'",
                          p->tok);
    for (i = 0; i < p->nsels; i++)
        if (strcmp(p->sels[i].name, p->tok) == 0)
            break;
    if (i == p->nsels) {
        if (isdigit((unsigned char)p->tok[0]))
            return rules_fail(p->c, BT_EINVAL,
                              "condition: '%s of' is not supported (only 1 and all)", p->tok);
        return rules_fail(p->c, BT_EINVAL, "condition: unknown search identifier '%s'", p->tok);
    }
    *out = rules_node(p->c->rs->arena, N_SEL, 0);
    if (!*out)
        return bt_error_set(p->c->err, BT_ENOMEM, "out of memory");
    (*out)->sel = &p->sels[i];
    return next(p);
}

static int parse_not(cparser *p, rnode **out)
{
    int rc;
    if (is_kw(p, "not")) {
        rnode *n = rules_node(p->c->rs->arena, N_NOT, 1);
        if (!n)
            return bt_error_set(p->c->err, BT_ENOMEM, "out of memory");
        if (++p->depth > COND_MAX_DEPTH)
            return rules_fail(p->c, BT_ELIMIT, "condition: nested too deeply");
        if ((rc = next(p)) || (rc = parse_not(p, &n->kids[0])))
            return rc;
        p->depth--;
        *out = n;
        return 0;
    }
    return parse_primary(p, out);
}

/* Left-assoc chain of `sub` joined by keyword kw into an n-ary node of op. */
static int parse_chain(cparser *p, const char *kw, int op, int (*sub)(cparser *, rnode **),
                       rnode **out)
{
    rnode *kids[64], *n;
    size_t nk = 0, i;
    int rc = sub(p, &kids[nk++]);
    if (rc)
        return rc;
    while (is_kw(p, kw)) {
        if (nk == 64)
            return rules_fail(p->c, BT_ELIMIT, "condition: more than 64 '%s' terms", kw);
        if ((rc = next(p)) || (rc = sub(p, &kids[nk++])))
            return rc;
    }
    if (nk == 1) {
        *out = kids[0];
        return 0;
    }
    n = rules_node(p->c->rs->arena, op, nk);
    if (!n)
        return bt_error_set(p->c->err, BT_ENOMEM, "out of memory");
    for (i = 0; i < nk; i++)
        n->kids[i] = kids[i];
    *out = n;
    return 0;
}

static int parse_and(cparser *p, rnode **out)
{
    return parse_chain(p, "and", N_AND, parse_not, out);
}

static int parse_or(cparser *p, rnode **out)
{
    return parse_chain(p, "or", N_OR, parse_and, out);
}

int rules_cond_parse(rctx *c, const char *text, const rsel *sels, size_t nsels, rnode **out)
{
    cparser p;
    int rc;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.s = text;
    p.len = strlen(text);
    p.sels = sels;
    p.nsels = nsels;
    if ((rc = next(&p)) || (rc = parse_or(&p, out)))
        return rc;
    if (p.tkind != 0)
        return rules_fail(c, BT_EINVAL, "condition: unexpected '%s' after the expression",
                          p.tkind == 1     ? p.tok
                          : p.tkind == '(' ? "("
                                           : ")");
    return 0;
}
