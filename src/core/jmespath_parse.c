/*
 * jmespath_parse.c - JMESPath lexer and parser: expression text -> AST (compile).
 *
 * A top-down operator precedence (Pratt) parser over a token array, with the token
 * binding powers and the nud/led rules of jmespath.py, so the same expressions are
 * accepted and the same trees built (e.g. `foo[0][1:2]` does not project, `f(a b)`
 * passes two arguments, `{a: b c: d}` is a hash). Errors report the character
 * column and what was expected. Nesting is capped (BT_JMESPATH_MAX_DEPTH) both for
 * parser recursion and for the depth of the tree the evaluator will walk.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jmespath_int.h"

typedef enum tok_type {
    T_EOF,
    T_UNQUOTED,
    T_QUOTED,
    T_LITERAL,
    T_RBRACKET,
    T_RPAREN,
    T_COMMA,
    T_RBRACE,
    T_NUMBER,
    T_CURRENT,
    T_EXPREF,
    T_COLON,
    T_PIPE,
    T_OR,
    T_AND,
    T_EQ,
    T_GT,
    T_LT,
    T_GTE,
    T_LTE,
    T_NE,
    T_FLATTEN,
    T_STAR,
    T_FILTER,
    T_DOT,
    T_NOT,
    T_LBRACE,
    T_LBRACKET,
    T_LPAREN,
    T__COUNT
} tok_type;

/* jmespath.py Parser.BINDING_POWER */
static const int bp_of[T__COUNT] = {
    [T_EOF] = 0,    [T_UNQUOTED] = 0, [T_QUOTED] = 0,    [T_LITERAL] = 0, [T_RBRACKET] = 0,
    [T_RPAREN] = 0, [T_COMMA] = 0,    [T_RBRACE] = 0,    [T_NUMBER] = 0,  [T_CURRENT] = 0,
    [T_EXPREF] = 0, [T_COLON] = 0,    [T_PIPE] = 1,      [T_OR] = 2,      [T_AND] = 3,
    [T_EQ] = 5,     [T_GT] = 5,       [T_LT] = 5,        [T_GTE] = 5,     [T_LTE] = 5,
    [T_NE] = 5,     [T_FLATTEN] = 9,  [T_STAR] = 20,     [T_FILTER] = 21, [T_DOT] = 40,
    [T_NOT] = 45,   [T_LBRACE] = 50,  [T_LBRACKET] = 55, [T_LPAREN] = 60,
};
#define PROJECTION_STOP 10

static const char *const tok_desc[T__COUNT] = {
    [T_EOF] = "end of query",
    [T_UNQUOTED] = "identifier",
    [T_QUOTED] = "quoted identifier",
    [T_LITERAL] = "literal",
    [T_RBRACKET] = "']'",
    [T_RPAREN] = "')'",
    [T_COMMA] = "','",
    [T_RBRACE] = "'}'",
    [T_NUMBER] = "number",
    [T_CURRENT] = "'@'",
    [T_EXPREF] = "'&'",
    [T_COLON] = "':'",
    [T_PIPE] = "'|'",
    [T_OR] = "'||'",
    [T_AND] = "'&&'",
    [T_EQ] = "'=='",
    [T_GT] = "'>'",
    [T_LT] = "'<'",
    [T_GTE] = "'>='",
    [T_LTE] = "'<='",
    [T_NE] = "'!='",
    [T_FLATTEN] = "'[]'",
    [T_STAR] = "'*'",
    [T_FILTER] = "'[?'",
    [T_DOT] = "'.'",
    [T_NOT] = "'!'",
    [T_LBRACE] = "'{'",
    [T_LBRACKET] = "'['",
    [T_LPAREN] = "'('",
};

typedef struct tok {
    tok_type type;
    size_t start, end; /* byte offsets into the expression */
    const char *str;   /* identifier value (decoded) */
    size_t len;
    int64_t num;  /* T_NUMBER */
    bt_json *lit; /* T_LITERAL */
} tok;

typedef struct parser {
    const char *src;
    size_t src_len;
    bt_arena *a;
    bt_error *err;
    int rc;
    tok *toks;
    size_t ntok, cap;
    size_t i;
    unsigned depth;
    size_t nexpref, nsafe_expref; /* &expr nodes; those passed to sort_by & co */
    tok local[48];
} parser;

/* ------------------------------------------------------------------ errors */

static size_t char_column(const char *s, size_t off)
{
    size_t col = 1, i;
    for (i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

/* Records a syntax error at byte offset off (first error wins). */
static void perr_at(parser *p, int code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void perr_at(parser *p, int code, size_t off, const char *fmt, ...)
{
    char what[256], shown[160];
    size_t i, n = 0;
    va_list ap;

    if (p->rc)
        return;
    p->rc = code;
    if (!p->err)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* the expression on one line, shortened if long */
    for (i = 0; i < p->src_len && n < sizeof shown - 4; i++) {
        char ch = p->src[i];
        shown[n++] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
    }
    if (i < p->src_len) {
        while (n > 0 && ((unsigned char)shown[n - 1] & 0xC0) == 0x80)
            n--; /* do not cut a UTF-8 sequence */
        if (n > 0 && ((unsigned char)shown[n - 1] & 0x80))
            n--;
        memcpy(shown + n, "...", 3);
        n += 3;
    }
    shown[n] = '\0';
    bt_error_set(p->err, code, "invalid query at column %zu: %s (%s)", char_column(p->src, off),
                 what, shown);
    snprintf(p->err->aws_code, sizeof p->err->aws_code, "%s",
             bt_jmespath_error_name(BT_JMESPATH_E_SYNTAX));
}

/* a failure that is not a JMESPath error: no kind in aws_code */
static int plain_error(bt_error *err, int code, const char *msg)
{
    bt_error_set(err, code, "%s", msg);
    if (err)
        err->aws_code[0] = '\0';
    return code;
}

static void nomem(parser *p)
{
    if (p->rc)
        return;
    p->rc = plain_error(p->err, BT_ENOMEM, "out of memory compiling query");
}

/* "'foo'" or "end of query" for error messages */
static const char *tok_show(parser *p, const tok *t, char *buf, size_t size)
{
    size_t len = t->end - t->start;
    if (t->type == T_EOF)
        return "end of query";
    if (len > 40)
        snprintf(buf, size, "'%.37s...'", p->src + t->start);
    else
        snprintf(buf, size, "'%.*s'", (int)len, p->src + t->start);
    return buf;
}

/* ------------------------------------------------------------------ lexer */

static bool valid_utf8(const char *s, size_t len, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = u[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, cp = c & 0x07, min = 0x10000;
        else
            goto fail;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (u[i + k] & 0xC0) != 0x80)
                goto fail;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto fail;
        i += n + 1;
    }
    return true;
fail:
    *bad = i;
    return false;
}

static tok *push_tok(parser *p, tok_type type, size_t start, size_t end)
{
    tok *t;
    if (p->ntok == p->cap) {
        /* tokens live only while compiling: the first ones in the parser itself */
        size_t ncap = p->cap * 2;
        tok *nt = ncap <= p->cap ? NULL : malloc(ncap * sizeof *nt);
        if (!nt) {
            nomem(p);
            return NULL;
        }
        memcpy(nt, p->toks, p->ntok * sizeof *nt);
        if (p->toks != p->local)
            free(p->toks);
        p->toks = nt;
        p->cap = ncap;
    }
    t = &p->toks[p->ntok++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->start = start;
    t->end = end;
    return t;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Finds the closing delimiter of a token starting at s[start] (the opening one),
 * where a backslash always takes the next character with it. Returns the offset of
 * the closing delimiter, or (size_t)-1 when unterminated. */
static size_t find_close(parser *p, size_t start, char delim)
{
    size_t i = start + 1;
    while (i < p->src_len && p->src[i] != delim) {
        if (p->src[i] == '\\')
            i++;
        i++;
    }
    return i < p->src_len ? i : (size_t)-1;
}

/* Copies s[0..len) replacing each "\<delim>" by "<delim>" (Python str.replace). */
static char *unescape_delim(parser *p, const char *s, size_t len, char delim, size_t *out_len)
{
    char *d = bt_arena_alloc(p->a, len + 1);
    size_t i, n = 0;
    if (!d) {
        nomem(p);
        return NULL;
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == delim) {
            d[n++] = delim;
            i++;
        } else {
            d[n++] = s[i];
        }
    }
    d[n] = '\0';
    *out_len = n;
    return d;
}

/* Python's str.lstrip() for the ASCII whitespace it knows. */
static bool py_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           (c >= 0x1c && c <= 0x1f);
}

/* Python's json.loads keeps the last of duplicate keys (at the first one's place):
 * rebuild literal objects that way, recursively. Returns v or a replacement. */
static bt_json *dict_literal(parser *p, bt_json *v)
{
    size_t i, j;
    if (p->rc)
        return NULL;
    if (v->type == BT_JSON_ARRAY) {
        for (i = 0; i < v->len; i++) {
            bt_json *k = dict_literal(p, v->u.items[i]);
            if (!k)
                return NULL;
            if (k != v->u.items[i]) {
                v->u.items[i] = k;
                v->src = NULL; /* the raw text no longer matches */
                v->src_len = 0;
            }
        }
    } else if (v->type == BT_JSON_OBJECT) {
        bool dup = false;
        for (i = 0; i < v->len; i++) {
            bt_json *k = dict_literal(p, v->u.members[i].value);
            if (!k)
                return NULL;
            if (k != v->u.members[i].value) {
                v->u.members[i].value = k;
                v->src = NULL;
                v->src_len = 0;
            }
            for (j = 0; j < i && !dup; j++)
                dup =
                    v->u.members[i].key_len == v->u.members[j].key_len &&
                    memcmp(v->u.members[i].key, v->u.members[j].key, v->u.members[i].key_len) == 0;
        }
        if (dup) {
            bt_json *o = bt_json_new_object(p->a, v->len);
            if (!o) {
                nomem(p);
                return NULL;
            }
            for (i = 0; i < v->len; i++) {
                const bt_json_member *m = &v->u.members[i];
                for (j = 0; j < o->len; j++)
                    if (o->u.members[j].key_len == m->key_len &&
                        memcmp(o->u.members[j].key, m->key, m->key_len) == 0)
                        break;
                if (j < o->len)
                    o->u.members[j].value = m->value;
                else if (bt_json_object_put(p->a, o, m->key, m->key_len, m->value) != 0) {
                    nomem(p);
                    return NULL;
                }
            }
            return o;
        }
    }
    return v;
}

/* Backtick literal: JSON, else (deprecated JEP-12 form) the text as a JSON string. */
static int lex_literal(parser *p, size_t start, size_t close, tok *t)
{
    size_t len, k;
    char *text = unescape_delim(p, p->src + start + 1, close - start - 1, '`', &len);
    bt_error jerr = BT_ERROR_INIT;
    bt_json *v = NULL;

    if (!text)
        return -1;
    if (bt_json_parse(p->a, text, len, NULL, &v, &jerr) == 0) {
        t->lit = dict_literal(p, v);
        return t->lit ? 0 : -1;
    }
    if (jerr.code == BT_ENOMEM) {
        nomem(p);
        return -1;
    }
    /* Python's json.loads also takes NaN and +-Infinity */
    {
        size_t b = 0, e = len;
        while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\n' || text[b] == '\r'))
            b++;
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\n' ||
                         text[e - 1] == '\r'))
            e--;
        static const struct {
            const char *s;
            double d;
        } special[] = {{"NaN", __builtin_nan("")},
                       {"Infinity", __builtin_inf()},
                       {"-Infinity", -__builtin_inf()}};
        for (k = 0; k < 3; k++) {
            if (e - b == strlen(special[k].s) && memcmp(text + b, special[k].s, e - b) == 0) {
                bt_json *n = bt_json_new_number(p->a, special[k].d);
                char *s = bt_arena_strdup(p->a, special[k].s);
                if (!n || !s) {
                    nomem(p);
                    return -1;
                }
                n->u.str = s;
                n->len = strlen(s);
                t->lit = n;
                return 0;
            }
        }
    }
    {
        size_t b = 0;
        char *q;
        while (b < len && py_space(text[b]))
            b++;
        q = bt_arena_alloc(p->a, len - b + 3);
        if (!q) {
            nomem(p);
            return -1;
        }
        q[0] = '"';
        memcpy(q + 1, text + b, len - b);
        q[len - b + 1] = '"';
        q[len - b + 2] = '\0';
        bt_error_clear(&jerr);
        if (bt_json_parse(p->a, q, len - b + 2, NULL, &v, &jerr) == 0) {
            t->lit = v;
            return 0;
        }
        if (jerr.code == BT_ENOMEM) {
            nomem(p);
            return -1;
        }
    }
    perr_at(p, BT_EPARSE, start, "invalid JSON literal `%.*s`",
            (int)(close - start - 1 > 60 ? 60 : close - start - 1), p->src + start + 1);
    return -1;
}

static int lex(parser *p)
{
    const char *s = p->src;
    size_t n = p->src_len, i = 0, bad;
    tok *t;

    if (!valid_utf8(s, n, &bad)) {
        perr_at(p, BT_EPARSE, bad, "invalid UTF-8");
        return -1;
    }
    while (i < n) {
        char c = s[i];
        size_t start = i;
        switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\r': i++; continue;
        case '.':
            t = push_tok(p, T_DOT, i, i + 1);
            i++;
            break;
        case '*':
            t = push_tok(p, T_STAR, i, i + 1);
            i++;
            break;
        case ']':
            t = push_tok(p, T_RBRACKET, i, i + 1);
            i++;
            break;
        case ',':
            t = push_tok(p, T_COMMA, i, i + 1);
            i++;
            break;
        case ':':
            t = push_tok(p, T_COLON, i, i + 1);
            i++;
            break;
        case '@':
            t = push_tok(p, T_CURRENT, i, i + 1);
            i++;
            break;
        case '(':
            t = push_tok(p, T_LPAREN, i, i + 1);
            i++;
            break;
        case ')':
            t = push_tok(p, T_RPAREN, i, i + 1);
            i++;
            break;
        case '{':
            t = push_tok(p, T_LBRACE, i, i + 1);
            i++;
            break;
        case '}':
            t = push_tok(p, T_RBRACE, i, i + 1);
            i++;
            break;
        case '[':
            if (i + 1 < n && s[i + 1] == ']')
                t = push_tok(p, T_FLATTEN, i, i + 2), i += 2;
            else if (i + 1 < n && s[i + 1] == '?')
                t = push_tok(p, T_FILTER, i, i + 2), i += 2;
            else
                t = push_tok(p, T_LBRACKET, i, i + 1), i++;
            break;
        case '|':
            if (i + 1 < n && s[i + 1] == '|')
                t = push_tok(p, T_OR, i, i + 2), i += 2;
            else
                t = push_tok(p, T_PIPE, i, i + 1), i++;
            break;
        case '&':
            if (i + 1 < n && s[i + 1] == '&')
                t = push_tok(p, T_AND, i, i + 2), i += 2;
            else
                t = push_tok(p, T_EXPREF, i, i + 1), i++;
            break;
        case '<':
            if (i + 1 < n && s[i + 1] == '=')
                t = push_tok(p, T_LTE, i, i + 2), i += 2;
            else
                t = push_tok(p, T_LT, i, i + 1), i++;
            break;
        case '>':
            if (i + 1 < n && s[i + 1] == '=')
                t = push_tok(p, T_GTE, i, i + 2), i += 2;
            else
                t = push_tok(p, T_GT, i, i + 1), i++;
            break;
        case '!':
            if (i + 1 < n && s[i + 1] == '=')
                t = push_tok(p, T_NE, i, i + 2), i += 2;
            else
                t = push_tok(p, T_NOT, i, i + 1), i++;
            break;
        case '=':
            if (i + 1 < n && s[i + 1] == '=') {
                t = push_tok(p, T_EQ, i, i + 2), i += 2;
                break;
            }
            perr_at(p, BT_EPARSE, i, "unknown token '=' (did you mean '=='?)");
            return -1;
        case '\'': {
            size_t close = find_close(p, i, '\''), len;
            char *str;
            if (close == (size_t)-1) {
                perr_at(p, BT_EPARSE, i, "unterminated raw string literal (missing \"'\")");
                return -1;
            }
            str = unescape_delim(p, s + i + 1, close - i - 1, '\'', &len);
            if (!str)
                return -1;
            t = push_tok(p, T_LITERAL, i, close + 1);
            if (!t)
                return -1;
            t->lit = bt_json_new_string(p->a, str, len);
            if (!t->lit) {
                nomem(p);
                return -1;
            }
            i = close + 1;
            break;
        }
        case '`': {
            size_t close = find_close(p, i, '`');
            if (close == (size_t)-1) {
                perr_at(p, BT_EPARSE, i, "unterminated JSON literal (missing '`')");
                return -1;
            }
            t = push_tok(p, T_LITERAL, i, close + 1);
            if (!t || lex_literal(p, i, close, t) != 0)
                return -1;
            i = close + 1;
            break;
        }
        case '"': {
            size_t close = find_close(p, i, '"');
            bt_json *v = NULL;
            bt_error jerr = BT_ERROR_INIT;
            if (close == (size_t)-1) {
                perr_at(p, BT_EPARSE, i, "unterminated quoted identifier (missing '\"')");
                return -1;
            }
            if (bt_json_parse(p->a, s + i, close + 1 - i, NULL, &v, &jerr) != 0 ||
                v->type != BT_JSON_STRING) {
                if (jerr.code == BT_ENOMEM) {
                    nomem(p);
                    return -1;
                }
                perr_at(p, BT_EPARSE, i, "invalid quoted identifier %.*s",
                        (int)(close + 1 - i > 60 ? 60 : close + 1 - i), s + i);
                return -1;
            }
            t = push_tok(p, T_QUOTED, i, close + 1);
            if (!t)
                return -1;
            t->str = v->u.str;
            t->len = v->len;
            i = close + 1;
            break;
        }
        default:
            if (is_ident_start(c)) {
                while (i < n && (is_ident_start(s[i]) || is_digit(s[i])))
                    i++;
                t = push_tok(p, T_UNQUOTED, start, i);
                if (!t)
                    return -1;
                t->str = bt_arena_strndup(p->a, s + start, i - start);
                t->len = i - start;
                if (!t->str) {
                    nomem(p);
                    return -1;
                }
                break;
            }
            if (is_digit(c) || c == '-') {
                int64_t v = 0;
                bool neg = c == '-';
                if (neg)
                    i++;
                if (neg && (i >= n || !is_digit(s[i]))) {
                    perr_at(p, BT_EPARSE, start, "unknown token '-' (a number needs digits)");
                    return -1;
                }
                while (i < n && is_digit(s[i])) {
                    int d = s[i] - '0';
                    /* saturate: Python's ints are unbounded, indices this large are
                     * out of range anyway */
                    if (v > (INT64_MAX - d) / 10)
                        v = INT64_MAX;
                    else
                        v = v * 10 + d;
                    i++;
                }
                t = push_tok(p, T_NUMBER, start, i);
                if (!t)
                    return -1;
                t->num = neg ? -v : v;
                break;
            }
            {
                size_t e = i + 1;
                while (e < n && ((unsigned char)s[e] & 0xC0) == 0x80)
                    e++;
                perr_at(p, BT_EPARSE, i, "unknown token '%.*s'", (int)(e - i), s + i);
            }
            return -1;
        }
        if (!t)
            return -1;
    }
    return push_tok(p, T_EOF, n, n) ? 0 : -1;
}

/* ------------------------------------------------------------------ AST */

static jp_node *mk(parser *p, jp_type type, size_t nkids)
{
    jp_node *nd = bt_arena_calloc(p->a, sizeof *nd);
    if (!nd) {
        nomem(p);
        return NULL;
    }
    nd->type = type;
    nd->depth = 1;
    if (nkids) {
        nd->kids = bt_arena_calloc(p->a, nkids * sizeof *nd->kids);
        if (!nd->kids) {
            nomem(p);
            return NULL;
        }
        nd->n = nd->cap = nkids;
    }
    return nd;
}

/* Sets kid i, tracking the tree depth the evaluator will recurse through. */
static bool set_kid(parser *p, jp_node *nd, size_t i, jp_node *kid, size_t at)
{
    nd->kids[i] = kid;
    if (kid->depth + 1 > nd->depth)
        nd->depth = kid->depth + 1;
    if (nd->depth > BT_JMESPATH_MAX_DEPTH) {
        perr_at(p, BT_ELIMIT, at, "query nested too deeply (more than %d levels)",
                BT_JMESPATH_MAX_DEPTH);
        return false;
    }
    return true;
}

static jp_node *mk2(parser *p, jp_type type, jp_node *a, jp_node *b, size_t at)
{
    jp_node *nd;
    if (!a || !b)
        return NULL;
    nd = mk(p, type, 2);
    if (!nd || !set_kid(p, nd, 0, a, at) || !set_kid(p, nd, 1, b, at))
        return NULL;
    return nd;
}

/* Appends kid to a node whose kids grow (SUBEXPR, INDEX_EXPR, lists). */
static bool append_kid(parser *p, jp_node *nd, jp_node *kid, size_t at)
{
    if (!kid)
        return false;
    if (nd->n == nd->cap) {
        size_t ncap = nd->cap ? nd->cap * 2 : 4;
        jp_node **k = bt_arena_alloc(p->a, ncap * sizeof *k);
        if (!k) {
            nomem(p);
            return false;
        }
        if (nd->n)
            memcpy(k, nd->kids, nd->n * sizeof *k);
        nd->kids = k;
        nd->cap = ncap;
    }
    nd->n++;
    return set_kid(p, nd, nd->n - 1, kid, at);
}

static jp_node *identity(parser *p)
{
    return mk(p, JP_IDENTITY, 0);
}

/* ------------------------------------------------------------------ parser */

static tok *cur(parser *p)
{
    return &p->toks[p->i];
}

static tok_type cur_type(parser *p)
{
    return p->toks[p->i].type;
}

static tok_type peek_type(parser *p, size_t k)
{
    size_t j = p->i + k;
    return j < p->ntok ? p->toks[j].type : T_EOF;
}

static void advance(parser *p)
{
    if (p->i + 1 < p->ntok)
        p->i++;
}

static void err_unexpected(parser *p, const tok *t, const char *expected)
{
    char buf[64];
    if (expected)
        perr_at(p, BT_EPARSE, t->start, "expected %s, found %s", expected,
                tok_show(p, t, buf, sizeof buf));
    else if (t->type == T_EOF)
        perr_at(p, BT_EPARSE, t->start, "unexpected end of query");
    else
        perr_at(p, BT_EPARSE, t->start, "unexpected %s", tok_show(p, t, buf, sizeof buf));
}

static bool match(parser *p, tok_type type)
{
    if (cur_type(p) == type) {
        advance(p);
        return true;
    }
    err_unexpected(p, cur(p), tok_desc[type]);
    return false;
}

static jp_node *expression(parser *p, int rbp);
static jp_node *parse_multi_list(parser *p, size_t at);
static jp_node *parse_multi_hash(parser *p, size_t at);

static jp_node *projection_rhs(parser *p, int rbp);

/* [number] or [start:stop:step] after '[' (the current token is a number or ':') */
static jp_node *parse_index_expression(parser *p)
{
    if (cur_type(p) == T_COLON || peek_type(p, 1) == T_COLON) {
        jp_node *nd = mk(p, JP_SLICE, 0);
        int idx = 0;
        if (!nd)
            return NULL;
        while (cur_type(p) != T_RBRACKET && idx < 3) {
            tok *t = cur(p);
            if (t->type == T_COLON) {
                idx++;
                if (idx == 3) {
                    err_unexpected(p, t, "']'");
                    return NULL;
                }
                advance(p);
            } else if (t->type == T_NUMBER) {
                nd->num[idx] = t->num;
                nd->has[idx] = true;
                advance(p);
            } else {
                err_unexpected(p, t, "a number, ':' or ']'");
                return NULL;
            }
        }
        if (!match(p, T_RBRACKET))
            return NULL;
        return nd;
    } else {
        jp_node *nd = mk(p, JP_INDEX, 0);
        if (!nd)
            return NULL;
        nd->num[0] = cur(p)->num;
        advance(p);
        if (!match(p, T_RBRACKET))
            return NULL;
        return nd;
    }
}

/* index_expression(left, right), projected when right is a slice */
static jp_node *project_if_slice(parser *p, jp_node *left, jp_node *right, size_t at)
{
    jp_node *ie = mk2(p, JP_INDEX_EXPR, left, right, at);
    if (!ie)
        return NULL;
    if (right->type == JP_SLICE)
        return mk2(p, JP_PROJECTION, ie, projection_rhs(p, bp_of[T_STAR]), at);
    return ie;
}

static jp_node *parse_dot_rhs(parser *p, int rbp)
{
    tok *t = cur(p);
    switch (t->type) {
    case T_QUOTED:
    case T_UNQUOTED:
    case T_STAR: return expression(p, rbp);
    case T_LBRACKET: advance(p); return parse_multi_list(p, t->start);
    case T_LBRACE: advance(p); return parse_multi_hash(p, t->start);
    default: err_unexpected(p, t, "an identifier, '*', '[' or '{' after '.'"); return NULL;
    }
}

static jp_node *projection_rhs(parser *p, int rbp)
{
    tok *t = cur(p);
    if (p->rc)
        return NULL;
    if (bp_of[t->type] < PROJECTION_STOP)
        return identity(p);
    switch (t->type) {
    case T_LBRACKET:
    case T_FILTER: return expression(p, rbp);
    case T_DOT: advance(p); return parse_dot_rhs(p, rbp);
    default: err_unexpected(p, t, "'.', '[' or '[?' after a projection"); return NULL;
    }
}

static jp_node *parse_multi_list(parser *p, size_t at)
{
    jp_node *nd = mk(p, JP_MULTI_LIST, 0);
    if (!nd)
        return NULL;
    for (;;) {
        if (!append_kid(p, nd, expression(p, 0), at))
            return NULL;
        if (cur_type(p) == T_RBRACKET)
            break;
        if (!match(p, T_COMMA))
            return NULL;
    }
    if (!match(p, T_RBRACKET))
        return NULL;
    return nd;
}

static jp_node *parse_multi_hash(parser *p, size_t at)
{
    jp_node *nd = mk(p, JP_MULTI_HASH, 0);
    size_t kcap = 0, i, j;
    if (!nd)
        return NULL;
    for (;;) {
        tok *key = cur(p);
        jp_node *val;
        if (key->type != T_QUOTED && key->type != T_UNQUOTED) {
            err_unexpected(p, key, "a key name");
            return NULL;
        }
        advance(p);
        if (!match(p, T_COLON))
            return NULL;
        val = expression(p, 0);
        if (!append_kid(p, nd, val, at))
            return NULL;
        if (nd->n > kcap) {
            size_t ncap = kcap ? kcap * 2 : 4;
            const char **k = bt_arena_alloc(p->a, ncap * sizeof *k);
            size_t *kl = bt_arena_alloc(p->a, ncap * sizeof *kl);
            if (!k || !kl) {
                nomem(p);
                return NULL;
            }
            if (kcap) {
                memcpy(k, nd->keys, (nd->n - 1) * sizeof *k);
                memcpy(kl, nd->key_lens, (nd->n - 1) * sizeof *kl);
            }
            nd->keys = k;
            nd->key_lens = kl;
            kcap = ncap;
        }
        nd->keys[nd->n - 1] = key->str;
        nd->key_lens[nd->n - 1] = key->len;
        if (cur_type(p) == T_COMMA) {
            advance(p);
        } else if (cur_type(p) == T_RBRACE) {
            advance(p);
            break;
        }
    }
    /* Python builds a dict: a repeated key keeps its first position, last value */
    nd->slot = bt_arena_alloc(p->a, nd->n * sizeof *nd->slot);
    if (!nd->slot) {
        nomem(p);
        return NULL;
    }
    for (i = 0; i < nd->n; i++) {
        nd->slot[i] = nd->nslots;
        for (j = 0; j < i; j++) {
            if (nd->key_lens[j] == nd->key_lens[i] &&
                memcmp(nd->keys[j], nd->keys[i], nd->key_lens[i]) == 0) {
                nd->slot[i] = nd->slot[j];
                break;
            }
        }
        if (nd->slot[i] == nd->nslots)
            nd->nslots++;
    }
    return nd;
}

static jp_node *nud(parser *p, tok *t)
{
    jp_node *nd;
    switch (t->type) {
    case T_LITERAL:
        nd = mk(p, JP_LITERAL, 0);
        if (nd)
            nd->lit = t->lit;
        return nd;
    case T_UNQUOTED:
        nd = mk(p, JP_FIELD, 0);
        if (nd) {
            nd->name = t->str;
            nd->name_len = t->len;
        }
        return nd;
    case T_QUOTED:
        if (cur_type(p) == T_LPAREN) {
            perr_at(p, BT_EPARSE, t->start, "a quoted identifier cannot name a function");
            return NULL;
        }
        nd = mk(p, JP_FIELD, 0);
        if (nd) {
            nd->name = t->str;
            nd->name_len = t->len;
        }
        return nd;
    case T_STAR: {
        jp_node *right;
        if (cur_type(p) == T_RBRACKET)
            right = identity(p);
        else
            right = projection_rhs(p, bp_of[T_STAR]);
        return mk2(p, JP_VALUE_PROJECTION, identity(p), right, t->start);
    }
    case T_FILTER: {
        jp_node *cond, *right, *f;
        cond = expression(p, 0);
        if (!cond || !match(p, T_RBRACKET))
            return NULL;
        if (cur_type(p) == T_FLATTEN)
            right = identity(p);
        else
            right = projection_rhs(p, bp_of[T_FILTER]);
        if (!right)
            return NULL;
        f = mk(p, JP_FILTER_PROJECTION, 3);
        if (!f || !set_kid(p, f, 0, identity(p), t->start) || !set_kid(p, f, 1, right, t->start) ||
            !set_kid(p, f, 2, cond, t->start))
            return NULL;
        return f;
    }
    case T_LBRACE: return parse_multi_hash(p, t->start);
    case T_LPAREN:
        nd = expression(p, 0);
        if (!nd || !match(p, T_RPAREN))
            return NULL;
        return nd;
    case T_FLATTEN: {
        jp_node *fl = mk(p, JP_FLATTEN, 1);
        if (!fl || !set_kid(p, fl, 0, identity(p), t->start))
            return NULL;
        return mk2(p, JP_PROJECTION, fl, projection_rhs(p, bp_of[T_FLATTEN]), t->start);
    }
    case T_NOT: {
        jp_node *e = expression(p, bp_of[T_NOT]);
        if (!e)
            return NULL;
        nd = mk(p, JP_NOT, 1);
        if (!nd || !set_kid(p, nd, 0, e, t->start))
            return NULL;
        return nd;
    }
    case T_LBRACKET:
        if (cur_type(p) == T_NUMBER || cur_type(p) == T_COLON) {
            jp_node *right = parse_index_expression(p);
            if (!right)
                return NULL;
            return project_if_slice(p, identity(p), right, t->start);
        }
        if (cur_type(p) == T_STAR && peek_type(p, 1) == T_RBRACKET) {
            advance(p);
            advance(p);
            return mk2(p, JP_PROJECTION, identity(p), projection_rhs(p, bp_of[T_STAR]), t->start);
        }
        return parse_multi_list(p, t->start);
    case T_CURRENT: return mk(p, JP_CURRENT, 0);
    case T_EXPREF: {
        jp_node *e = expression(p, bp_of[T_EXPREF]);
        if (!e)
            return NULL;
        nd = mk(p, JP_EXPREF, 1);
        if (!nd || !set_kid(p, nd, 0, e, t->start))
            return NULL;
        p->nexpref++;
        return nd;
    }
    default: err_unexpected(p, t, NULL); return NULL;
    }
}

static bool expref_safe_fn(const jp_node *call)
{
    static const char *const ok[] = {"sort_by", "min_by", "max_by", "map"};
    size_t k;
    for (k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (call->name_len == strlen(ok[k]) && memcmp(call->name, ok[k], call->name_len) == 0)
            return true;
    return false;
}

static jp_node *led(parser *p, tok *t, jp_node *left)
{
    jp_node *nd;
    switch (t->type) {
    case T_DOT:
        if (cur_type(p) != T_STAR) {
            jp_node *right = parse_dot_rhs(p, bp_of[T_DOT]);
            if (!right)
                return NULL;
            if (left->type == JP_SUBEXPR) {
                if (!append_kid(p, left, right, t->start))
                    return NULL;
                return left;
            }
            return mk2(p, JP_SUBEXPR, left, right, t->start);
        }
        advance(p);
        return mk2(p, JP_VALUE_PROJECTION, left, projection_rhs(p, bp_of[T_DOT]), t->start);
    case T_PIPE: return mk2(p, JP_PIPE, left, expression(p, bp_of[T_PIPE]), t->start);
    case T_OR: return mk2(p, JP_OR, left, expression(p, bp_of[T_OR]), t->start);
    case T_AND: return mk2(p, JP_AND, left, expression(p, bp_of[T_AND]), t->start);
    case T_LPAREN: {
        size_t k;
        if (left->type != JP_FIELD) {
            /* jmespath.py points at the token before '(' */
            tok *prev = p->i >= 2 ? &p->toks[p->i - 2] : t;
            char buf[64];
            perr_at(p, BT_EPARSE, prev->start, "invalid function name %s",
                    tok_show(p, prev, buf, sizeof buf));
            return NULL;
        }
        nd = mk(p, JP_FUNCTION, 0);
        if (!nd)
            return NULL;
        nd->name = left->name;
        nd->name_len = left->name_len;
        nd->fn = jp_func_lookup(left->name, left->name_len);
        while (cur_type(p) != T_RPAREN) {
            jp_node *arg = expression(p, 0);
            if (!arg)
                return NULL;
            if (cur_type(p) == T_COMMA)
                advance(p);
            if (!append_kid(p, nd, arg, t->start))
                return NULL;
        }
        if (!match(p, T_RPAREN))
            return NULL;
        for (k = 0; k < nd->n; k++)
            if (nd->kids[k]->type == JP_EXPREF && expref_safe_fn(nd))
                p->nsafe_expref++;
        return nd;
    }
    case T_FILTER: {
        jp_node *cond, *right, *f;
        cond = expression(p, 0);
        if (!cond || !match(p, T_RBRACKET))
            return NULL;
        if (cur_type(p) == T_FLATTEN)
            right = identity(p);
        else
            right = projection_rhs(p, bp_of[T_FILTER]);
        if (!right)
            return NULL;
        f = mk(p, JP_FILTER_PROJECTION, 3);
        if (!f || !set_kid(p, f, 0, left, t->start) || !set_kid(p, f, 1, right, t->start) ||
            !set_kid(p, f, 2, cond, t->start))
            return NULL;
        return f;
    }
    case T_EQ:
    case T_NE:
    case T_GT:
    case T_GTE:
    case T_LT:
    case T_LTE: {
        jp_node *right = expression(p, bp_of[t->type]);
        nd = mk2(p, JP_COMPARATOR, left, right, t->start);
        if (!nd)
            return NULL;
        nd->op = t->type == T_EQ    ? JP_EQ
                 : t->type == T_NE  ? JP_NE
                 : t->type == T_GT  ? JP_GT
                 : t->type == T_GTE ? JP_GTE
                 : t->type == T_LT  ? JP_LT
                                    : JP_LTE;
        return nd;
    }
    case T_FLATTEN: {
        jp_node *fl = mk(p, JP_FLATTEN, 1);
        if (!fl || !set_kid(p, fl, 0, left, t->start))
            return NULL;
        return mk2(p, JP_PROJECTION, fl, projection_rhs(p, bp_of[T_FLATTEN]), t->start);
    }
    case T_LBRACKET:
        if (cur_type(p) == T_NUMBER || cur_type(p) == T_COLON) {
            jp_node *right = parse_index_expression(p);
            if (!right)
                return NULL;
            if (left->type == JP_INDEX_EXPR) {
                if (!append_kid(p, left, right, t->start))
                    return NULL;
                return left;
            }
            return project_if_slice(p, left, right, t->start);
        }
        if (!match(p, T_STAR) || !match(p, T_RBRACKET))
            return NULL;
        return mk2(p, JP_PROJECTION, left, projection_rhs(p, bp_of[T_STAR]), t->start);
    default: err_unexpected(p, t, NULL); return NULL;
    }
}

static jp_node *expression(parser *p, int rbp)
{
    tok *t;
    jp_node *left;

    if (p->rc)
        return NULL;
    if (++p->depth > BT_JMESPATH_MAX_DEPTH) {
        perr_at(p, BT_ELIMIT, cur(p)->start, "query nested too deeply (more than %d levels)",
                BT_JMESPATH_MAX_DEPTH);
        return NULL;
    }
    t = cur(p);
    advance(p);
    left = nud(p, t);
    while (left && rbp < bp_of[cur_type(p)]) {
        t = cur(p);
        advance(p);
        left = led(p, t, left);
    }
    p->depth--;
    return p->rc ? NULL : left;
}

int bt_jmespath_compile(const char *expr, bt_jmespath **out, bt_error *err)
{
    parser p;
    bt_jmespath *q = NULL;
    jp_node *root;
    int rc;

    *out = NULL;
    memset(&p, 0, sizeof p);
    p.toks = p.local;
    p.cap = sizeof p.local / sizeof p.local[0];
    if (!expr)
        return plain_error(err, BT_EINVAL, "no query given");
    q = calloc(1, sizeof *q);
    if (!q)
        return plain_error(err, BT_ENOMEM, "out of memory compiling query");
    q->arena = bt_arena_new(8192, 0);
    if (!q->arena) {
        rc = plain_error(err, BT_ENOMEM, "out of memory compiling query");
        goto fail;
    }
    p.src_len = strlen(expr);
    q->expr = bt_arena_strndup(q->arena, expr, p.src_len);
    if (!q->expr) {
        rc = plain_error(err, BT_ENOMEM, "out of memory compiling query");
        goto fail;
    }
    p.src = q->expr;
    p.a = q->arena;
    p.err = err;
    if (p.src_len == 0) {
        perr_at(&p, BT_EPARSE, 0, "the query is empty");
        rc = p.rc;
        goto fail;
    }
    if (lex(&p) != 0) {
        rc = p.rc ? p.rc : BT_EPARSE;
        goto fail;
    }
    root = expression(&p, 0);
    if (root && cur_type(&p) != T_EOF) {
        char buf[64];
        perr_at(&p, BT_EPARSE, cur(&p)->start, "unexpected %s after a complete expression",
                tok_show(&p, cur(&p), buf, sizeof buf));
    }
    if (p.rc || !root) {
        rc = p.rc ? p.rc : BT_EPARSE;
        goto fail;
    }
    q->root = root;
    /* an &expr that is not a direct argument of sort_by/min_by/max_by/map may end up
     * in the result, which the evaluator then has to check */
    q->loose_expref = p.nexpref != p.nsafe_expref;
    *out = q;
    rc = 0;
    goto done;
fail:
    bt_jmespath_free(q);
done:
    if (p.toks != p.local)
        free(p.toks);
    return rc;
}

void bt_jmespath_free(bt_jmespath *q)
{
    if (!q)
        return;
    bt_arena_free(q->arena);
    free(q);
}

const char *bt_jmespath_expr(const bt_jmespath *q)
{
    return q ? q->expr : NULL;
}

static bool names_field(const jp_node *n, const char *name, size_t len)
{
    size_t i;
    if (!n)
        return false;
    if (n->type == JP_FIELD && n->name_len == len && memcmp(n->name, name, len) == 0)
        return true;
    for (i = 0; i < n->n; i++)
        if (names_field(n->kids[i], name, len))
            return true;
    return false;
}

bool bt_jmespath_names_field(const bt_jmespath *q, const char *name)
{
    return q && name && names_field(q->root, name, strlen(name));
}

static const char *const kind_names[] = {
    [BT_JMESPATH_E_NONE] = "",
    [BT_JMESPATH_E_SYNTAX] = "syntax",
    [BT_JMESPATH_E_INVALID_TYPE] = "invalid-type",
    [BT_JMESPATH_E_INVALID_ARITY] = "invalid-arity",
    [BT_JMESPATH_E_UNKNOWN_FUNCTION] = "unknown-function",
    [BT_JMESPATH_E_INVALID_VALUE] = "invalid-value",
};

const char *bt_jmespath_error_name(bt_jmespath_error kind)
{
    if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
        return "";
    return kind_names[kind];
}

bt_jmespath_error bt_jmespath_error_kind(const bt_error *err)
{
    size_t k;
    if (!err || !err->aws_code[0])
        return BT_JMESPATH_E_NONE;
    for (k = 1; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (strcmp(err->aws_code, kind_names[k]) == 0)
            return (bt_jmespath_error)k;
    return BT_JMESPATH_E_NONE;
}
