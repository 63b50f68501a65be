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

int bt_ini_parse(const char *text, size_t len, bt_ini **out, bt_error *err)
{
    bt_ini *ini = NULL;
    bt_ini_section *cur = NULL;
    bt_ini_entry *pending = NULL; /* entry whose value may still continue */
    char *val = NULL;             /* pending value text */
    size_t vlen = 0, vcap = 0, blank_run = 0, pos = 0;
    int rc = 0, lineno = 0, pending_line = 0;

    *out = NULL;
    if (len > BT_INI_MAX_SIZE)
        return bt_error_set(err, BT_ELIMIT, "file larger than %zu bytes", BT_INI_MAX_SIZE);
    ini = calloc(1, sizeof *ini);
    if (!ini || !(ini->arena = bt_arena_new(0, 0))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    /* skip a UTF-8 byte order mark */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos <= len) {
        const char *line = text + pos, *nl;
        size_t ll, rest = len - pos;
        if (pos == len)
            break;
        nl = memchr(line, '\n', rest);
        ll = nl ? (size_t)(nl - line) : rest;
        pos += ll + 1;
        lineno++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (memchr(line, '\0', ll)) {
            rc = bt_error_set(err, BT_EPARSE, "line %d: NUL byte", lineno);
            goto done;
        }
        if (is_blank(line, ll)) {
            if (pending)
                blank_run++;
            continue;
        }
        {
            const char *t = line;
            size_t tl = ll;
            trim(&t, &tl);
            if (t[0] == '#' || t[0] == ';') {
                continue;
            }
            /* continuation: indented line after an entry */
            if (pending && isspace((unsigned char)line[0])) {
                size_t need = vlen + blank_run + 1 + tl + 1;
                if (need > vcap) {
                    char *nv = realloc(val, need * 2);
                    if (!nv) {
                        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                        goto done;
                    }
                    val = nv;
                    vcap = need * 2;
                }
                while (blank_run) {
                    val[vlen++] = '\n';
                    blank_run--;
                }
                val[vlen++] = '\n';
                memcpy(val + vlen, t, tl);
                vlen += tl;
                continue;
            }
            if (pending) {
                rc = finish_entry(ini, pending, val ? val : "", vlen, pending_line, err);
                if (rc)
                    goto done;
                pending = NULL;
            }
            blank_run = 0;
            if (t[0] == '[') {
                const char *close = NULL;
                size_t i;
                for (i = tl; i > 1; i--)
                    if (t[i - 1] == ']') {
                        close = t + i - 1;
                        break;
                    }
                if (!close || close == t + 1) {
                    rc = bt_error_set(err, BT_EPARSE, "line %d: malformed section header", lineno);
                    goto done;
                }
                {
                    const char *nm = t + 1;
                    size_t nl2 = (size_t)(close - nm);
                    trim(&nm, &nl2);
                    cur = section_for(ini, nm, nl2);
                }
                if (!cur) {
                    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                    goto done;
                }
                continue;
            }
            {
                const char *d = NULL, *k = t, *v;
                size_t i, kl, vl2;
                bt_ini_entry *e = NULL;
                char *key;
                for (i = 0; i < tl; i++)
                    if (t[i] == '=' || t[i] == ':') {
                        d = t + i;
                        break;
                    }
                if (!cur) {
                    rc = bt_error_set(err, BT_EPARSE, "line %d: key outside of any [section]",
                                      lineno);
                    goto done;
                }
                if (!d) {
                    rc = bt_error_set(err, BT_EPARSE, "line %d: expected 'key = value'", lineno);
                    goto done;
                }
                kl = (size_t)(d - t);
                trim(&k, &kl);
                if (!kl) {
                    rc = bt_error_set(err, BT_EPARSE, "line %d: empty key", lineno);
                    goto done;
                }
                key = bt_arena_strndup(ini->arena, k, kl);
                if (!key) {
                    rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                    goto done;
                }
                for (i = 0; i < kl; i++)
                    key[i] = (char)tolower((unsigned char)key[i]);
                for (i = 0; i < cur->n; i++)
                    if (strcmp(cur->entries[i].key, key) == 0)
                        e = &cur->entries[i];
                if (!e) {
                    if (grow(ini->arena, (void **)&cur->entries, &cur->cap, cur->n,
                             sizeof *cur->entries)) {
                        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                        goto done;
                    }
                    e = &cur->entries[cur->n++];
                }
                memset(e, 0, sizeof *e);
                e->key = key;
                v = d + 1;
                vl2 = tl - (size_t)(v - t);
                trim(&v, &vl2);
                if (vl2 + 1 > vcap) {
                    char *nv = realloc(val, (vl2 + 1) * 2);
                    if (!nv) {
                        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                        goto done;
                    }
                    val = nv;
                    vcap = (vl2 + 1) * 2;
                }
                memcpy(val, v, vl2);
                vlen = vl2;
                pending = e;
                pending_line = lineno;
            }
        }
    }
    if (pending) {
        rc = finish_entry(ini, pending, val ? val : "", vlen, pending_line, err);
        if (rc)
            goto done;
    }
    *out = ini;
    ini = NULL;
done:
    free(val);
    bt_ini_free(ini);
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
