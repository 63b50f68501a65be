/*
 * format_yaml.c - `--output yaml` and `yaml-stream`. The AWS CLI dumps with
 * ruamel.yaml YAML(typ='safe'), which (with ruamel.yaml.clib present, as on Debian)
 * runs the libyaml emitter with: block style, indent 2, width 80, unicode allowed,
 * mapping keys sorted, YAML 1.2 implicit resolvers (so a string that would read back
 * as a bool/int/float/null/timestamp is quoted). This file reimplements that
 * emitter's observable behaviour for the node shapes JSON produces: the scalar
 * analysis that picks plain / 'single' / "double" quoting, the line folding of long
 * scalars at spaces past column 80, indentation (sequences inside mappings are not
 * indented), simple vs "? " complex keys, and [] / {} for empty collections.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

enum { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE };

#define BEST_INDENT 2
#define BEST_WIDTH 80

typedef struct yemit {
    bt_buf *out;
    int indent;
    int *indents;
    size_t nindents, capindents;
    long column;
    bool whitespace, indention;
    bool mapping_ctx, simple_key_ctx;
    int rc;
} yemit;

typedef struct yscalar {
    const char *s;
    size_t len;
    bool plain_implicit; /* resolving the plain text gives this node's own type */
    bool multiline, block_plain_allowed, single_quoted_allowed;
} yscalar;

/* ---- output primitives (libyaml's PUT / WRITE / PUT_BREAK) ---- */

static void put(yemit *e, char c)
{
    if (e->rc == 0)
        e->rc = bt_buf_putc(e->out, c);
    e->column++;
}

static void put_break(yemit *e)
{
    if (e->rc == 0)
        e->rc = bt_buf_putc(e->out, '\n');
    e->column = 0;
}

/* Copies one UTF-8 character (w bytes) and advances the column by one. */
static void write_char(yemit *e, const char *s, size_t w)
{
    if (e->rc == 0)
        e->rc = bt_buf_append(e->out, s, w);
    e->column++;
}

static size_t char_width(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t w = (c & 0x80) == 0      ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 1;
    return w > n ? n : w;
}

static bool push_indent(yemit *e)
{
    if (e->nindents == e->capindents) {
        size_t cap = e->capindents ? e->capindents * 2 : 32;
        int *n = realloc(e->indents, cap * sizeof *n);
        if (!n) {
            e->rc = BT_ENOMEM;
            return false;
        }
        e->indents = n;
        e->capindents = cap;
    }
    e->indents[e->nindents++] = e->indent;
    return true;
}

static void increase_indent(yemit *e, bool flow, bool indentless)
{
    if (!push_indent(e))
        return;
    if (e->indent < 0)
        e->indent = flow ? BEST_INDENT : 0;
    else if (!indentless)
        e->indent += BEST_INDENT;
}

static void pop_indent(yemit *e)
{
    if (e->nindents)
        e->indent = e->indents[--e->nindents];
}

static void write_indent(yemit *e)
{
    long indent = e->indent >= 0 ? e->indent : 0;

    if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
        put_break(e);
    while (e->column < indent)
        put(e, ' ');
    e->whitespace = true;
    e->indention = true;
}

static void write_indicator(yemit *e, const char *ind, bool need_ws, bool is_ws, bool is_indention)
{
    if (need_ws && !e->whitespace)
        put(e, ' ');
    while (*ind)
        put(e, *ind++);
    e->whitespace = is_ws;
    e->indention = e->indention && is_indention;
}

/* ---- character classes (libyaml's IS_* on UTF-8 bytes) ---- */

static unsigned char at(const yscalar *sc, size_t i)
{
    return i < sc->len ? (unsigned char)sc->s[i] : 0;
}

static bool is_printable(const yscalar *sc, size_t i)
{
    unsigned char b0 = at(sc, i), b1 = at(sc, i + 1), b2 = at(sc, i + 2);

    return b0 == 0x0A || (b0 >= 0x20 && b0 <= 0x7E) || (b0 == 0xC2 && b1 >= 0xA0) ||
           (b0 > 0xC2 && b0 < 0xED) || (b0 == 0xED && b1 < 0xA0) || b0 == 0xEE ||
           (b0 == 0xEF && !(b1 == 0xBB && b2 == 0xBF) &&
            !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

static bool is_break(const yscalar *sc, size_t i)
{
    unsigned char b0 = at(sc, i), b1 = at(sc, i + 1), b2 = at(sc, i + 2);

    return b0 == '\r' || b0 == '\n' || (b0 == 0xC2 && b1 == 0x85) ||
           (b0 == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9));
}

static bool is_space(const yscalar *sc, size_t i)
{
    return i < sc->len && sc->s[i] == ' ';
}

/* IS_BLANKZ: space, tab, a line break, or the end of the value (its NUL). */
static bool is_blankz(const yscalar *sc, size_t i)
{
    unsigned char b = at(sc, i);
    return i >= sc->len || b == ' ' || b == '\t' || b == 0 || is_break(sc, i);
}

static bool is_bom(const yscalar *sc, size_t i)
{
    return at(sc, i) == 0xEF && at(sc, i + 1) == 0xBB && at(sc, i + 2) == 0xBF;
}

/* ---- scalar analysis (yaml_emitter_analyze_scalar) ---- */

/* Scalars only ever appear in block context here (the only flow collections are
 * the empty [] and {}), so the flow-context half of libyaml's analysis is left out. */
static void analyze(yscalar *sc)
{
    bool block_ind = false, line_breaks = false, special = false;
    bool leading_space = false, leading_break = false, trailing_space = false;
    bool trailing_break = false, break_space = false, space_break = false;
    bool preceded_by_ws = true, followed_by_ws, prev_space = false, prev_break = false;
    size_t i = 0, n = sc->len;

    sc->multiline = false;
    sc->block_plain_allowed = true;
    sc->single_quoted_allowed = true;
    if (n == 0)
        return;
    if (n >= 3 && ((sc->s[0] == '-' && sc->s[1] == '-' && sc->s[2] == '-') ||
                   (sc->s[0] == '.' && sc->s[1] == '.' && sc->s[2] == '.')))
        block_ind = true;
    followed_by_ws = is_blankz(sc, char_width(sc->s, n));
    while (i < n) {
        size_t w = char_width(sc->s + i, n - i);
        char c = sc->s[i];
        if (i == 0) {
            if (c && strchr("#,[]{}&*!|>'\"%@`", c))
                block_ind = true;
            if ((c == '?' || c == ':' || c == '-') && followed_by_ws)
                block_ind = true;
        } else {
            if (c == ':' && followed_by_ws)
                block_ind = true;
            if (c == '#' && preceded_by_ws)
                block_ind = true;
        }
        if (!is_printable(sc, i))
            special = true; /* unicode output is on: only non-printables count */
        if (is_space(sc, i)) {
            if (i == 0)
                leading_space = true;
            if (i + w == n)
                trailing_space = true;
            if (prev_break)
                break_space = true;
            prev_space = true;
            prev_break = false;
        } else if (is_break(sc, i)) {
            line_breaks = true;
            if (i == 0)
                leading_break = true;
            if (i + w == n)
                trailing_break = true;
            if (prev_space)
                space_break = true;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blankz(sc, i);
        i += w;
        if (i < n)
            followed_by_ws = is_blankz(sc, i + char_width(sc->s + i, n - i));
    }
    sc->multiline = line_breaks;
    if (leading_space || leading_break || trailing_space || trailing_break || line_breaks ||
        block_ind)
        sc->block_plain_allowed = false;
    if (break_space || space_break || special)
        sc->block_plain_allowed = sc->single_quoted_allowed = false;
}

/* ---- YAML 1.2 implicit resolvers of ruamel.yaml (what a plain scalar reads as) ---- */

static bool isdig(char c)
{
    return c >= '0' && c <= '9';
}

/* Skips chars of set starting at *i; returns how many. */
static size_t span(const char *s, size_t n, size_t *i, const char *set)
{
    size_t st = *i;
    while (*i < n && s[*i] && strchr(set, s[*i]))
        (*i)++;
    return *i - st;
}

static void opt_sign(const char *s, size_t n, size_t *i)
{
    if (*i < n && (s[*i] == '-' || s[*i] == '+'))
        (*i)++;
}

static bool exact(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(*words, s, n) == 0)
            return true;
    return false;
}

/* [eE][-+]?[0-9]+ (sign_required: [eE][-+][0-9]+) at *i. */
static bool exponent(const char *s, size_t n, size_t *i, bool sign_required)
{
    size_t j = *i;
    if (j >= n || (s[j] != 'e' && s[j] != 'E'))
        return false;
    j++;
    if (j < n && (s[j] == '-' || s[j] == '+'))
        j++;
    else if (sign_required)
        return false;
    if (span(s, n, &j, "0123456789") == 0)
        return false;
    *i = j;
    return true;
}

static bool match_float(const char *s, size_t n)
{
    static const char *const infnan[] = {".nan", ".NaN", ".NAN", NULL};
    size_t i = 0, j;

    if (exact(s, n, infnan))
        return true;
    opt_sign(s, n, &i);
    j = i;
    if (n - i == 4 && s[i] == '.' &&
        (memcmp(s + i, ".inf", 4) == 0 || memcmp(s + i, ".Inf", 4) == 0 ||
         memcmp(s + i, ".INF", 4) == 0))
        return true;
    /* [0-9][0-9_]* then either \.[0-9_]* (exp)? or exp */
    if (j < n && isdig(s[j])) {
        j++;
        span(s, n, &j, "0123456789_");
        if (j < n && s[j] == '.') {
            size_t k = j + 1;
            span(s, n, &k, "0123456789_");
            if (k == n)
                return true;
            if (exponent(s, n, &k, false) && k == n)
                return true;
        } else {
            size_t k = j;
            if (exponent(s, n, &k, false) && k == n)
                return true;
        }
    }
    /* \.[0-9_]+ ([eE][-+][0-9]+)? */
    j = i;
    if (j < n && s[j] == '.') {
        j++;
        if (span(s, n, &j, "0123456789_") > 0) {
            if (j == n)
                return true;
            if (exponent(s, n, &j, true) && j == n)
                return true;
        }
    }
    return false;
}

static bool match_int(const char *s, size_t n)
{
    size_t i = 0, j;

    opt_sign(s, n, &i);
    j = i;
    if (n - j > 2 && s[j] == '0' && s[j + 1] == 'b') {
        j += 2;
        if (span(s, n, &j, "01_") > 0 && j == n)
            return true;
    }
    j = i;
    if (j < n && s[j] == '0') { /* 0o?[0-7_]+ */
        size_t k = j + 1;
        if (k < n && s[k] == 'o')
            k++;
        if (span(s, n, &k, "01234567_") > 0 && k == n)
            return true;
    }
    j = i;
    if (span(s, n, &j, "0123456789_") > 0 && j == n)
        return true;
    j = i;
    if (n - j > 2 && s[j] == '0' && s[j + 1] == 'x') {
        j += 2;
        if (span(s, n, &j, "0123456789abcdefABCDEF_") > 0 && j == n)
            return true;
    }
    return false;
}

static bool digits(const char *s, size_t n, size_t *i, size_t min, size_t max)
{
    size_t k = 0;
    while (*i < n && k < max && isdig(s[*i])) {
        (*i)++;
        k++;
    }
    return k >= min;
}

static bool match_timestamp(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 10 && digits(s, n, &i, 4, 4) && s[4] == '-' && (i = 5, digits(s, n, &i, 2, 2)) &&
        s[7] == '-' && (i = 8, digits(s, n, &i, 2, 2)) && i == n)
        return true;
    i = 0;
    if (!digits(s, n, &i, 4, 4) || i >= n || s[i++] != '-')
        return false;
    if (!digits(s, n, &i, 1, 2) || i >= n || s[i++] != '-')
        return false;
    if (!digits(s, n, &i, 1, 2) || i >= n)
        return false;
    if (s[i] == 'T' || s[i] == 't')
        i++;
    else if (span(s, n, &i, " \t") == 0)
        return false;
    if (!digits(s, n, &i, 1, 2) || i >= n || s[i++] != ':')
        return false;
    if (!digits(s, n, &i, 2, 2) || i >= n || s[i++] != ':')
        return false;
    if (!digits(s, n, &i, 2, 2))
        return false;
    if (i < n && s[i] == '.') {
        i++;
        span(s, n, &i, "0123456789");
    }
    if (i == n)
        return true;
    span(s, n, &i, " \t");
    if (i < n && s[i] == 'Z')
        return i + 1 == n;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        i++;
        if (!digits(s, n, &i, 1, 2))
            return false;
        if (i < n && s[i] == ':') {
            i++;
            if (!digits(s, n, &i, 2, 2))
                return false;
        }
        return i == n;
    }
    return false;
}

static bool resolves_non_str1(const char *s, size_t n)
{
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE", NULL};
    static const char *const nulls[] = {"~", "null", "Null", "NULL", "", NULL};
    static const char *const misc[] = {"<<", "=", "!", "&", "*", NULL};

    return exact(s, n, bools) || exact(s, n, nulls) || exact(s, n, misc) || match_float(s, n) ||
           match_int(s, n) || match_timestamp(s, n);
}

/* Python's re.match with '$' also accepts the text minus one final "\n". */
static bool resolves_non_str(const char *s, size_t n)
{
    if (resolves_non_str1(s, n))
        return true;
    return n > 0 && s[n - 1] == '\n' && resolves_non_str1(s, n - 1);
}

/* ---- scalar writers ---- */

/* A line break inside a plain or single-quoted scalar: "\n" is doubled at the first
 * break of a run (a single newline would fold to a space); NEL, LS and PS are copied
 * and start a new line. */
static void write_break(yemit *e, const yscalar *sc, size_t i, size_t w, bool *breaks)
{
    if (sc->s[i] == '\n') {
        if (!*breaks)
            put_break(e);
        put_break(e);
    } else {
        if (e->rc == 0)
            e->rc = bt_buf_append(e->out, sc->s + i, w);
        e->column = 0;
    }
    e->indention = true;
    *breaks = true;
}

static void write_plain(yemit *e, const yscalar *sc, bool allow_breaks)
{
    bool spaces = false, breaks = false;
    size_t i = 0;

    if (!e->whitespace && sc->len)
        put(e, ' ');
    while (i < sc->len) {
        size_t w = char_width(sc->s + i, sc->len - i);
        if (is_space(sc, i)) {
            if (allow_breaks && !spaces && e->column > BEST_WIDTH && !is_space(sc, i + 1))
                write_indent(e);
            else
                write_char(e, sc->s + i, 1);
            spaces = true;
        } else if (is_break(sc, i)) {
            write_break(e, sc, i, w, &breaks);
        } else {
            if (breaks)
                write_indent(e);
            write_char(e, sc->s + i, w);
            e->indention = false;
            spaces = false;
            breaks = false;
        }
        i += w;
    }
    e->whitespace = false;
    e->indention = false;
}

static void write_single(yemit *e, const yscalar *sc, bool allow_breaks)
{
    bool spaces = false, breaks = false;
    size_t i = 0;

    write_indicator(e, "'", true, false, false);
    while (i < sc->len) {
        size_t w = char_width(sc->s + i, sc->len - i);
        if (is_space(sc, i)) {
            if (allow_breaks && !spaces && e->column > BEST_WIDTH && i != 0 && i != sc->len - 1 &&
                !is_space(sc, i + 1))
                write_indent(e);
            else
                write_char(e, sc->s + i, 1);
            spaces = true;
        } else if (is_break(sc, i)) {
            write_break(e, sc, i, w, &breaks);
        } else {
            if (breaks)
                write_indent(e);
            if (sc->s[i] == '\'')
                put(e, '\'');
            write_char(e, sc->s + i, w);
            e->indention = false;
            spaces = false;
            breaks = false;
        }
        i += w;
    }
    if (breaks)
        write_indent(e);
    write_indicator(e, "'", false, false, false);
    e->whitespace = false;
    e->indention = false;
}

static void write_double(yemit *e, const yscalar *sc, bool allow_breaks)
{
    static const char hex[] = "0123456789ABCDEF";
    bool spaces = false;
    size_t i = 0;

    write_indicator(e, "\"", true, false, false);
    while (i < sc->len) {
        size_t w = char_width(sc->s + i, sc->len - i);
        char c = sc->s[i];
        if (!is_printable(sc, i) || is_bom(sc, i) || is_break(sc, i) || c == '"' || c == '\\') {
            uint32_t v;
            char esc = 0;
            bt_fmt_utf8_next(sc->s + i, sc->len - i, &v);
            put(e, '\\');
            switch (v) {
            case 0x00: esc = '0'; break;
            case 0x07: esc = 'a'; break;
            case 0x08: esc = 'b'; break;
            case 0x09: esc = 't'; break;
            case 0x0A: esc = 'n'; break;
            case 0x0B: esc = 'v'; break;
            case 0x0C: esc = 'f'; break;
            case 0x0D: esc = 'r'; break;
            case 0x1B: esc = 'e'; break;
            case 0x22: esc = '"'; break;
            case 0x5C: esc = '\\'; break;
            case 0x85: esc = 'N'; break;
            case 0xA0: esc = '_'; break;
            case 0x2028: esc = 'L'; break;
            case 0x2029: esc = 'P'; break;
            default: break;
            }
            if (esc) {
                put(e, esc);
            } else {
                int digits = v <= 0xFF ? 2 : v <= 0xFFFF ? 4 : 8;
                put(e, v <= 0xFF ? 'x' : v <= 0xFFFF ? 'u' : 'U');
                for (int k = (digits - 1) * 4; k >= 0; k -= 4)
                    put(e, hex[(v >> k) & 0x0F]);
            }
            spaces = false;
        } else if (c == ' ') {
            if (allow_breaks && !spaces && e->column > BEST_WIDTH && i != 0 && i != sc->len - 1) {
                write_indent(e);
                if (is_space(sc, i + 1))
                    put(e, '\\');
            } else {
                write_char(e, sc->s + i, 1);
            }
            spaces = true;
        } else {
            write_char(e, sc->s + i, w);
            spaces = false;
        }
        i += w;
    }
    write_indicator(e, "\"", false, false, false);
    e->whitespace = false;
    e->indention = false;
}

/* yaml_emitter_emit_scalar: style selection, then the writer at indent + 2. */
static void emit_scalar(yemit *e, const yscalar *sc)
{
    int style = STYLE_PLAIN;

    if (e->simple_key_ctx && sc->multiline)
        style = STYLE_DOUBLE;
    if (style == STYLE_PLAIN) {
        if (!sc->block_plain_allowed)
            style = STYLE_SINGLE;
        if (!sc->len && e->simple_key_ctx)
            style = STYLE_SINGLE;
        if (!sc->plain_implicit)
            style = STYLE_SINGLE;
    }
    if (style == STYLE_SINGLE && !sc->single_quoted_allowed)
        style = STYLE_DOUBLE;
    increase_indent(e, true, false);
    if (style == STYLE_PLAIN)
        write_plain(e, sc, !e->simple_key_ctx);
    else if (style == STYLE_SINGLE)
        write_single(e, sc, !e->simple_key_ctx);
    else
        write_double(e, sc, !e->simple_key_ctx);
    pop_indent(e);
}

/* The text ruamel's SafeRepresenter gives a scalar, and whether it resolves back to
 * its own type when plain. */
static int scalar_of(bt_buf *tmp, const bt_json *v, yscalar *sc)
{
    int rc = 0;

    memset(sc, 0, sizeof *sc);
    sc->plain_implicit = true;
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_NULL:
        sc->s = "null";
        sc->len = 4;
        break;
    case BT_JSON_TRUE:
        sc->s = "true";
        sc->len = 4;
        break;
    case BT_JSON_FALSE:
        sc->s = "false";
        sc->len = 5;
        break;
    case BT_JSON_NUMBER:
        bt_buf_clear(tmp);
        rc = bt_fmt_py_number(tmp, v, BT_FMT_NUM_YAML);
        if (rc)
            return rc;
        sc->s = tmp->data;
        sc->len = tmp->len;
        break;
    case BT_JSON_STRING:
        sc->s = v->u.str;
        sc->len = v->len;
        sc->plain_implicit = !resolves_non_str(v->u.str, v->len);
        break;
    default: break;
    }
    analyze(sc);
    return 0;
}

static void emit_node(yemit *e, bt_buf *tmp, const bt_json *v, bool mapping, bool simple_key);

static void emit_flow_empty(yemit *e, const char *open, const char *close)
{
    /* libyaml's flow collection with no items: the indent push/pop and the flow
     * level around it leave no trace in the output */
    write_indicator(e, open, true, true, false);
    write_indicator(e, close, false, false, false);
}

static void emit_sequence(yemit *e, bt_buf *tmp, const bt_json *v)
{
    size_t i;

    if (v->len == 0) {
        emit_flow_empty(e, "[", "]");
        return;
    }
    increase_indent(e, false, e->mapping_ctx && !e->indention);
    for (i = 0; i < v->len && e->rc == 0; i++) {
        write_indent(e);
        write_indicator(e, "-", true, false, true);
        emit_node(e, tmp, v->u.items[i], false, false);
    }
    pop_indent(e);
}

static void emit_mapping(yemit *e, bt_buf *tmp, const bt_json *v)
{
    size_t *idx, i;

    if (v->len == 0) {
        emit_flow_empty(e, "{", "}");
        return;
    }
    idx = malloc(v->len * sizeof *idx);
    if (!idx) {
        e->rc = BT_ENOMEM;
        return;
    }
    bt_fmt_sorted_members(v, idx);
    increase_indent(e, false, false);
    for (i = 0; i < v->len && e->rc == 0; i++) {
        const bt_json_member *m = &v->u.members[idx[i]];
        yscalar key;
        memset(&key, 0, sizeof key);
        key.s = m->key;
        key.len = m->key_len;
        key.plain_implicit = !resolves_non_str(m->key, m->key_len);
        analyze(&key);
        write_indent(e);
        if (!key.multiline && key.len <= 128) { /* yaml_emitter_check_simple_key */
            e->mapping_ctx = true;
            e->simple_key_ctx = true;
            emit_scalar(e, &key);
            write_indicator(e, ":", false, false, false);
        } else {
            write_indicator(e, "?", true, false, true);
            e->mapping_ctx = true;
            e->simple_key_ctx = false;
            emit_scalar(e, &key);
            write_indent(e);
            write_indicator(e, ":", true, false, true);
        }
        emit_node(e, tmp, m->value, true, false);
    }
    pop_indent(e);
    free(idx);
}

static void emit_node(yemit *e, bt_buf *tmp, const bt_json *v, bool mapping, bool simple_key)
{
    e->mapping_ctx = mapping;
    e->simple_key_ctx = simple_key;
    if (v && v->type == BT_JSON_ARRAY) {
        emit_sequence(e, tmp, v);
    } else if (v && v->type == BT_JSON_OBJECT) {
        emit_mapping(e, tmp, v);
    } else {
        yscalar sc;
        int rc = scalar_of(tmp, v, &sc);
        if (rc) {
            e->rc = rc;
            return;
        }
        emit_scalar(e, &sc);
    }
}

int bt_fmt_yaml(bt_buf *out, const bt_json *v, bool as_stream_item, bt_error *err)
{
    yemit e;
    bt_buf tmp = BT_BUF_INIT;
    bt_json wrap;
    bt_json *items[1];

    memset(&e, 0, sizeof e);
    e.out = out;
    e.indent = -1;
    e.whitespace = true;
    e.indention = true;
    if (as_stream_item) {
        memset(&wrap, 0, sizeof wrap);
        wrap.type = BT_JSON_ARRAY;
        wrap.len = 1;
        items[0] = (bt_json *)v;
        wrap.u.items = items;
        v = &wrap;
    }
    emit_node(&e, &tmp, v, false, false);
    /* document end: a final line break (implicit end, no "...") */
    write_indent(&e);
    free(e.indents);
    bt_buf_dispose(&tmp);
    if (e.rc)
        bt_error_set(err, e.rc, "yaml output: %s", bt_strerror(e.rc));
    return e.rc;
}
