/*
 * format_yaml.c - `--output yaml` and `yaml-stream`. The AWS CLI dumps with
 * ruamel.yaml YAML(typ='safe'), which (with ruamel.yaml.clib present, as on Debian)
 * runs the libyaml emitter with: block style, indent 2, width 80, unicode allowed,
 * mapping keys sorted, YAML 1.2 implicit resolvers. So this file drives libyaml's own
 * emitter (yaml_emitter_*) with the same settings and the same events ruamel's
 * SafeRepresenter produces: keys sorted, numbers as Python prints them, and for each
 * string whether it may be plain, i.e. whether ruamel's YAML 1.2 resolver would read
 * the plain text back as a string (below: a bool/int/float/null/timestamp-looking
 * string is not plain_implicit, so libyaml quotes it). libyaml then makes every
 * byte-level choice itself: plain / 'single' / "double" quoting, folding at column 80,
 * indentation, simple vs "? " keys, [] and {} for empty collections. The parity tests
 * (it_format_parity, it_parity) compare the result with the real AWS CLI.
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/format.h"
#include "core/format_int.h"
#include "util/yaml_dl.h"

/* ---- ruamel's YAML 1.2 implicit resolvers (which plain scalars are not strings) ---- */

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

/* ---- events into libyaml's emitter ---- */

static int write_out(void *data, unsigned char *buffer, size_t size)
{
    return bt_buf_append(data, buffer, size) == 0;
}

typedef struct yctx {
    yaml_emitter_t em;
    bt_buf tmp; /* a number's text */
    int rc;
} yctx;

static void emit(yctx *y, yaml_event_t *ev, int ok)
{
    if (y->rc)
        return;
    if (!ok)
        y->rc = BT_ENOMEM;
    else if (!yaml_emitter_emit(&y->em, ev))
        y->rc = y->em.error == YAML_MEMORY_ERROR ? BT_ENOMEM : BT_EINVAL;
}

static void emit_scalar(yctx *y, const char *s, size_t n, int plain_implicit)
{
    yaml_event_t ev;
    emit(y, &ev,
         yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, plain_implicit, 1,
                                      YAML_ANY_SCALAR_STYLE));
}

static void emit_node(yctx *y, const bt_json *v)
{
    yaml_event_t ev;
    size_t i, *idx;
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_NULL: emit_scalar(y, "null", 4, 1); break;
    case BT_JSON_TRUE: emit_scalar(y, "true", 4, 1); break;
    case BT_JSON_FALSE: emit_scalar(y, "false", 5, 1); break;
    case BT_JSON_NUMBER:
        bt_buf_clear(&y->tmp);
        if ((y->rc = y->rc ? y->rc : bt_fmt_py_number(&y->tmp, v, BT_FMT_NUM_YAML)) == 0)
            emit_scalar(y, y->tmp.data, y->tmp.len, 1);
        break;
    case BT_JSON_STRING:
        emit_scalar(y, v->u.str, v->len, !resolves_non_str(v->u.str, v->len));
        break;
    case BT_JSON_ARRAY:
        emit(y, &ev,
             yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
        for (i = 0; i < v->len && !y->rc; i++)
            emit_node(y, v->u.items[i]);
        emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
        break;
    case BT_JSON_OBJECT:
        if (!(idx = malloc((v->len ? v->len : 1) * sizeof *idx))) {
            y->rc = BT_ENOMEM;
            return;
        }
        bt_fmt_sorted_members(v, idx);
        emit(y, &ev,
             yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
        for (i = 0; i < v->len && !y->rc; i++) {
            const bt_json_member *m = &v->u.members[idx[i]];
            emit_scalar(y, m->key, m->key_len, !resolves_non_str(m->key, m->key_len));
            emit_node(y, m->value);
        }
        emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
        free(idx);
        break;
    }
}

int bt_fmt_yaml(bt_buf *out, const bt_json *v, bool as_stream_item, bt_error *err)
{
    yctx y;
    yaml_event_t ev;
    int rc;
    if ((rc = bt_yaml_load(err)))
        return rc;
    memset(&y, 0, sizeof y);
    if (!yaml_emitter_initialize(&y.em))
        return bt_error_set(err, BT_ENOMEM, "yaml output: %s", bt_strerror(BT_ENOMEM));
    yaml_emitter_set_output(&y.em, write_out, out);
    yaml_emitter_set_indent(&y.em, 2);
    yaml_emitter_set_width(&y.em, 80);
    yaml_emitter_set_unicode(&y.em, 1);
    yaml_emitter_set_break(&y.em, YAML_LN_BREAK);
    emit(&y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    emit(&y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
    if (as_stream_item) /* yaml-stream: each page is dumped as [page] */
        emit(&y, &ev,
             yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
    emit_node(&y, v);
    if (as_stream_item)
        emit(&y, &ev, yaml_sequence_end_event_initialize(&ev));
    emit(&y, &ev, yaml_document_end_event_initialize(&ev, 1));
    emit(&y, &ev, yaml_stream_end_event_initialize(&ev));
    if (!y.rc && !yaml_emitter_flush(&y.em))
        y.rc = BT_EIO;
    yaml_emitter_delete(&y.em);
    bt_buf_dispose(&y.tmp);
    if (y.rc)
        bt_error_set(err, y.rc, "yaml output: %s", bt_strerror(y.rc));
    return y.rc;
}
