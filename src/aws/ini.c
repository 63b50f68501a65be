/* ini.c - parser for the AWS config/credentials INI dialect (see ini.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ini.h"

static int grow(bt_arena *a, void **arr, size_t *cap, size_t n, size_t elem)
{
    size_t nc;
    void *p;
    if (n < *cap)
        return 0;
    nc = *cap ? *cap * 2 : 8;
    p = bt_arena_alloc(a, nc * elem);
    if (!p)
        return BT_ENOMEM;
    if (*arr)
        memcpy(p, *arr, n * elem);
    *arr = p;
    *cap = nc;
    return 0;
}

static bt_ini_section *section_for(bt_ini *ini, const char *name, size_t len)
{
    size_t i;
    bt_ini_section *s;
    for (i = 0; i < ini->n; i++)
        if (strlen(ini->sections[i].name) == len && memcmp(ini->sections[i].name, name, len) == 0)
            return &ini->sections[i];
    if (grow(ini->arena, (void **)&ini->sections, &ini->cap, ini->n, sizeof *ini->sections))
        return NULL;
    s = &ini->sections[ini->n];
    memset(s, 0, sizeof *s);
    s->name = bt_arena_strndup(ini->arena, name, len);
    if (!s->name)
        return NULL;
    ini->n++;
    return s;
}

static int is_blank(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isspace((unsigned char)p[i]))
            return 0;
    return 1;
}

static void trim(const char **p, size_t *n)
{
    while (*n && isspace((unsigned char)**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

/* Parses "k = v" lines of a nested value into e->sub. */
static int parse_nested(bt_arena *a, bt_ini_entry *e)
{
    const char *p = e->value;
    size_t cap = 0;
    while (*p) {
        const char *nl = strchr(p, '\n'), *line = p, *eq;
        size_t len = nl ? (size_t)(nl - p) : strlen(p), kl, vl;
        const char *k, *v;
        p = nl ? nl + 1 : p + len;
        trim(&line, &len);
        if (!len)
            continue;
        eq = memchr(line, '=', len);
        if (!eq)
            return BT_EPARSE;
        k = line;
        kl = (size_t)(eq - line);
        v = eq + 1;
        vl = len - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if (grow(a, (void **)&e->sub, &cap, e->nsub, sizeof *e->sub))
            return BT_ENOMEM;
        e->sub[e->nsub].key = bt_arena_strndup(a, k, kl);
        e->sub[e->nsub].value = bt_arena_strndup(a, v, vl);
        e->sub[e->nsub].sub = NULL;
        e->sub[e->nsub].nsub = 0;
        if (!e->sub[e->nsub].key || !e->sub[e->nsub].value)
            return BT_ENOMEM;
        e->nsub++;
    }
    return 0;
}

/* Finalises the pending value of entry e (continuations accumulated in val). */
static int finish_entry(bt_ini *ini, bt_ini_entry *e, const char *val, size_t len, int line,
                        bt_error *err)
{
    int rc;
    e->value = bt_arena_strndup(ini->arena, val, len);
    if (!e->value)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (len && val[0] == '\n') {
        rc = parse_nested(ini->arena, e);
        if (rc == BT_EPARSE)
            return bt_error_set(err, BT_EPARSE,
                                "line %d: nested value of '%s' needs 'key = value' lines", line,
                                e->key);
        if (rc)
            return bt_error_set(err, rc, "out of memory");
    }
    return 0;
}

/* Parser state across lines. */
typedef struct ini_parser {
    bt_ini *ini;
    bt_ini_section *cur;
    bt_ini_entry *pending; /* entry whose value may still continue */
    char *val;             /* pending value text */
    size_t vlen, vcap, blank_run;
    int lineno, pending_line;
    bt_error *err;
} ini_parser;

static int val_reserve(ini_parser *p, size_t need)
{
    char *nv;
    if (need <= p->vcap)
        return 0;
    nv = realloc(p->val, need * 2);
    if (!nv)
        return bt_error_set(p->err, BT_ENOMEM, "out of memory");
    p->val = nv;
    p->vcap = need * 2;
    return 0;
}

/* An indented line after an entry continues its value (t: the trimmed line). */
static int continuation(ini_parser *p, const char *t, size_t tl)
{
    if (val_reserve(p, p->vlen + p->blank_run + 1 + tl + 1))
        return BT_ENOMEM;
    while (p->blank_run) {
        p->val[p->vlen++] = '\n';
        p->blank_run--;
    }
    p->val[p->vlen++] = '\n';
    memcpy(p->val + p->vlen, t, tl);
    p->vlen += tl;
    return 0;
}

/* "[name]" (t: the trimmed line, starting with '['). */
static int section_line(ini_parser *p, const char *t, size_t tl)
{
    const char *close = NULL, *nm = t + 1;
    size_t i, nl;
    for (i = tl; i > 1; i--)
        if (t[i - 1] == ']') {
            close = t + i - 1;
            break;
        }
    if (!close || close == t + 1)
        return bt_error_set(p->err, BT_EPARSE, "line %d: malformed section header", p->lineno);
    nl = (size_t)(close - nm);
    trim(&nm, &nl);
    p->cur = section_for(p->ini, nm, nl);
    return p->cur ? 0 : bt_error_set(p->err, BT_ENOMEM, "out of memory");
}

/* The entry of the current section named key (lowercased in place), added if new. */
static int entry_for(ini_parser *p, char *key, size_t kl, bt_ini_entry **out)
{
    bt_ini_section *cur = p->cur;
    bt_ini_entry *e = NULL;
    size_t i;
    for (i = 0; i < kl; i++)
        key[i] = (char)tolower((unsigned char)key[i]);
    for (i = 0; i < cur->n; i++)
        if (strcmp(cur->entries[i].key, key) == 0)
            e = &cur->entries[i];
    if (!e) {
        if (grow(p->ini->arena, (void **)&cur->entries, &cur->cap, cur->n, sizeof *cur->entries))
            return bt_error_set(p->err, BT_ENOMEM, "out of memory");
        e = &cur->entries[cur->n++];
    }
    memset(e, 0, sizeof *e);
    e->key = key;
    *out = e;
    return 0;
}

/* "key = value" or "key: value" (t: the trimmed line). */
static int key_line(ini_parser *p, const char *t, size_t tl)
{
    const char *d = NULL, *k = t, *v;
    size_t i, kl, vl;
    bt_ini_entry *e = NULL;
    char *key;
    for (i = 0; i < tl; i++)
        if (t[i] == '=' || t[i] == ':') {
            d = t + i;
            break;
        }
    if (!p->cur)
        return bt_error_set(p->err, BT_EPARSE, "line %d: key outside of any [section]", p->lineno);
    if (!d)
        return bt_error_set(p->err, BT_EPARSE, "line %d: expected 'key = value'", p->lineno);
    kl = (size_t)(d - t);
    trim(&k, &kl);
    if (!kl)
        return bt_error_set(p->err, BT_EPARSE, "line %d: empty key", p->lineno);
    if (!(key = bt_arena_strndup(p->ini->arena, k, kl)))
        return bt_error_set(p->err, BT_ENOMEM, "out of memory");
    if (entry_for(p, key, kl, &e))
        return BT_ENOMEM;
    v = d + 1;
    vl = tl - (size_t)(v - t);
    trim(&v, &vl);
    if (val_reserve(p, vl + 1))
        return BT_ENOMEM;
    memcpy(p->val, v, vl);
    p->vlen = vl;
    p->pending = e;
    p->pending_line = p->lineno;
    return 0;
}

static int flush_pending(ini_parser *p)
{
    int rc = 0;
    if (p->pending)
        rc = finish_entry(p->ini, p->pending, p->val ? p->val : "", p->vlen, p->pending_line,
                          p->err);
    p->pending = NULL;
    return rc;
}

/* One line (without its newline and CR). */
static int parse_line(ini_parser *p, const char *line, size_t ll)
{
    const char *t = line;
    size_t tl = ll;
    int rc;
    if (memchr(line, '\0', ll))
        return bt_error_set(p->err, BT_EPARSE, "line %d: NUL byte", p->lineno);
    if (is_blank(line, ll)) {
        if (p->pending)
            p->blank_run++;
        return 0;
    }
    trim(&t, &tl);
    if (t[0] == '#' || t[0] == ';')
        return 0;
    if (p->pending && isspace((unsigned char)line[0]))
        return continuation(p, t, tl);
    if ((rc = flush_pending(p)))
        return rc;
    p->blank_run = 0;
    return t[0] == '[' ? section_line(p, t, tl) : key_line(p, t, tl);
}

int bt_ini_parse(const char *text, size_t len, bt_ini **out, bt_error *err)
{
    ini_parser p;
    size_t pos = 0;
    int rc = 0;

    *out = NULL;
    memset(&p, 0, sizeof p);
    p.err = err;
    if (len > BT_INI_MAX_SIZE)
        return bt_error_set(err, BT_ELIMIT, "file larger than %zu bytes", BT_INI_MAX_SIZE);
    p.ini = calloc(1, sizeof *p.ini);
    if (!p.ini || !(p.ini->arena = bt_arena_new(0, 0))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    /* skip a UTF-8 byte order mark */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        p.lineno++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if ((rc = parse_line(&p, line, ll)))
            goto done;
    }
    if ((rc = flush_pending(&p)))
        goto done;
    *out = p.ini;
    p.ini = NULL;
done:
    free(p.val);
    bt_ini_free(p.ini);
    return rc;
}

void bt_ini_free(bt_ini *ini)
{
    if (!ini)
        return;
    bt_arena_free(ini->arena);
    free(ini);
}

const bt_ini_section *bt_ini_section_get(const bt_ini *ini, const char *name)
{
    size_t i;
    if (!ini)
        return NULL;
    for (i = 0; i < ini->n; i++)
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    return NULL;
}

const bt_ini_entry *bt_ini_entry_get(const bt_ini_section *s, const char *key)
{
    size_t i;
    if (!s)
        return NULL;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

const char *bt_ini_get(const bt_ini_section *s, const char *key)
{
    const bt_ini_entry *e = bt_ini_entry_get(s, key);
    return e ? e->value : NULL;
}

const char *bt_ini_get_sub(const bt_ini_section *s, const char *sub, const char *key)
{
    const bt_ini_entry *e = bt_ini_entry_get(s, sub);
    size_t i;
    if (!e)
        return NULL;
    for (i = 0; i < e->nsub; i++)
        if (strcmp(e->sub[i].key, key) == 0)
            return e->sub[i].value;
    return NULL;
}
