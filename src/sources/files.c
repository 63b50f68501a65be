/* files.c - container recognition and record iteration over one input, and the
 * recursive file enumeration behind ingest and search --from. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buildtrail/source.h"
#include "util/gzip.h"

typedef struct reader {
    const char *data;
    size_t len;
    const bt_filter *pre; /* prefilter: skip records that cannot match (NULL = none) */
    bt_arena *arena;
    bt_event_fn fn;
    void *ctx;
    bt_read_stats *st;
    bt_error *err;
    int stop; /* non-zero value returned by fn */
} reader;

static size_t skip_ws(const char *d, size_t i, size_t len)
{
    while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
        i++;
    return i;
}

/* Fields whose filter values appear verbatim in any record that matches them (unlike
 * username "root", or resource names that extraction derives). */
static const bt_filter_field verbatim_fields[] = {
    BT_F_EVENT_NAME, BT_F_EVENT_SOURCE, BT_F_ERROR_CODE, BT_F_ACCOUNT, BT_F_REGION,
    BT_F_SOURCE_IP,  BT_F_ACCESS_KEY_ID, BT_F_EVENT_ID,  BT_F_PRINCIPAL, BT_F_BUILD,
    BT_F_PROJECT};

/* End of the JSON object or array starting at d[i] (string-aware), or 0 when it is not
 * closed within len. *escapes is set if a backslash occurs inside. Strings are crossed
 * with memchr: a quote ends one unless an odd run of backslashes precedes it. */
static size_t skip_container(const char *d, size_t i, size_t len, int *escapes)
{
    const char *p = d + i, *end = d + len;
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *q = p + 1;
            for (;;) {
                const char *b;
                q = memchr(q, '"', (size_t)(end - q));
                if (!q)
                    return 0;
                for (b = q; b > p + 1 && b[-1] == '\\'; b--)
                    ;
                if (((q - b) & 1) == 0)
                    break;
                q++;
            }
            p = q + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                *escapes = memchr(d + i, '\\', (size_t)(p + 1 - (d + i))) != NULL;
                return (size_t)(p + 1 - d);
            }
        }
        p++;
    }
    return 0;
}

/* False when the record d[from..to) cannot match r->pre: for some verbatim field none
 * of the filter's values occurs in its bytes. */
static int may_match(const reader *r, size_t from, size_t to)
{
    size_t k;
    unsigned v;
    for (k = 0; k < sizeof verbatim_fields / sizeof verbatim_fields[0]; k++) {
        bt_filter_field f = verbatim_fields[k];
        int hit = 0;
        if (!r->pre->nvalues[f])
            continue;
        for (v = 0; v < r->pre->nvalues[f] && !hit; v++) {
            const char *val = r->pre->values[f][v];
            if (memmem(r->data + from, to - from, val, strlen(val)))
                hit = 1;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

static int deliver(reader *r, const bt_event *ev)
{
    int rc;
    r->st->records++;
    rc = r->fn(r->ctx, ev);
    if (rc)
        r->stop = rc;
    return rc;
}

static int handle_record(reader *r, const bt_json *rec)
{
    bt_event ev;
    int rc = bt_event_from_record(r->arena, rec, &ev, r->err);
    if (rc)
        return rc;
    return deliver(r, &ev);
}

static int handle_value(reader *r, const bt_json *v, int depth);

/* One element of lookup-events' Events[]: its CloudTrailEvent string is the record. */
static int handle_lookup_event(reader *r, const bt_json *e)
{
    const bt_json *s = bt_json_get(e, "CloudTrailEvent"), *rec;
    int rc;
    if (!s || s->type != BT_JSON_STRING) {
        r->st->ignored++;
        return 0;
    }
    rc = bt_json_parse(r->arena, s->u.str, s->len, NULL, (bt_json **)&rec, r->err);
    if (rc) {
        bt_error_prefix(r->err, "CloudTrailEvent of event %s",
                        bt_json_get_str(e, "EventId") ? bt_json_get_str(e, "EventId") : "?");
        return rc;
    }
    return handle_record(r, rec);
}

static int is_digest(const bt_json *v)
{
    return bt_json_get(v, "digestStartTime") && bt_json_get(v, "digestS3Object");
}

static int handle_value(reader *r, const bt_json *v, int depth)
{
    const bt_json *x;
    size_t i;
    int rc;

    if (depth > 4) {
        r->st->ignored++;
        return 0;
    }
    if (v->type == BT_JSON_ARRAY) {
        for (i = 0; i < v->len && !r->stop; i++)
            if ((rc = handle_value(r, v->u.items[i], depth + 1)))
                return rc;
        return 0;
    }
    if (v->type != BT_JSON_OBJECT) {
        r->st->ignored++;
        return 0;
    }
    if ((x = bt_json_get(v, "Records")) && x->type == BT_JSON_ARRAY)
        return handle_value(r, x, depth + 1);
    if ((x = bt_json_get(v, "Events")) && x->type == BT_JSON_ARRAY) {
        for (i = 0; i < x->len && !r->stop; i++)
            if ((rc = handle_lookup_event(r, x->u.items[i])))
                return rc;
        return 0;
    }
    if ((x = bt_json_get(v, "detail-type")) && x->type == BT_JSON_STRING) {
        const bt_json *detail = bt_json_get(v, "detail");
        bt_event ev;
        if (bt_json_is_str(x, "AWS API Call via CloudTrail") && detail &&
            detail->type == BT_JSON_OBJECT)
            return handle_record(r, detail);
        rc = bt_event_from_build_status(r->arena, v, &ev, r->err);
        if (rc == BT_ENOTFOUND) {
            r->st->ignored++;
            return 0;
        }
        if (rc)
            return rc;
        return deliver(r, &ev);
    }
    if (is_digest(v)) {
        r->st->digests++;
        return 0;
    }
    if (bt_json_get(v, "eventID") || bt_json_get(v, "eventVersion") ||
        (bt_json_get(v, "eventTime") && bt_json_get(v, "eventName")))
        return handle_record(r, v);
    r->st->ignored++;
    return 0;
}

/* Matches `"key"` followed by optional whitespace and ':' at d[i]; returns the index
 * after the ':' or 0. */
static size_t match_key(const char *d, size_t i, size_t len, const char *key)
{
    size_t k = strlen(key);
    if (i + k + 2 > len || d[i] != '"' || memcmp(d + i + 1, key, k) != 0 || d[i + 1 + k] != '"')
        return 0;
    i = skip_ws(d, i + k + 2, len);
    if (i >= len || d[i] != ':')
        return 0;
    return i + 1;
}

static int parse_at(reader *r, size_t *pos, bt_json **out)
{
    size_t used = 0;
    bt_json_parse_opts po = {0, 0, *pos};
    int rc = bt_json_parse_prefix(r->arena, r->data + *pos, r->len - *pos, &po, out, &used,
                                  r->err);
    if (rc)
        return rc;
    *pos += used;
    return 0;
}

/*
 * Streams {"Records":[...]} or {"Events":[...]} one element at a time so memory stays
 * bounded whatever the file size. *pos is at '{'; returns 1 if it did not match this
 * shape (nothing consumed), 0 when done, or an error.
 */
static int stream_object(reader *r, size_t *pos)
{
    const char *d = r->data;
    size_t i = skip_ws(d, *pos + 1, r->len), j;
    int lookup = 0, rc;

    if ((j = match_key(d, i, r->len, "Records")) == 0) {
        if ((j = match_key(d, i, r->len, "Events")) == 0)
            return 1;
        lookup = 1;
    }
    i = skip_ws(d, j, r->len);
    if (i >= r->len || d[i] != '[')
        return 1;
    i = skip_ws(d, i + 1, r->len);
    if (i < r->len && d[i] == ']') {
        i++;
    } else {
        for (;;) {
            bt_json *el;
            if (r->pre && !lookup && d[i] == '{') {
                int esc;
                size_t end = skip_container(d, i, r->len, &esc);
                if (end && !esc && !may_match(r, i, end)) {
                    /* cannot match: counted, not parsed */
                    r->st->records++;
                    i = end;
                    goto next;
                }
            }
            if ((rc = parse_at(r, &i, &el)))
                return rc;
            if (lookup)
                rc = el->type == BT_JSON_OBJECT ? handle_lookup_event(r, el) : (r->st->ignored++, 0);
            else
                rc = handle_value(r, el, 1);
            bt_arena_reset(r->arena);
            if (rc || r->stop)
                return rc;
        next:
            i = skip_ws(d, i, r->len);
            if (i < r->len && d[i] == ',') {
                i = skip_ws(d, i + 1, r->len);
                continue;
            }
            if (i < r->len && d[i] == ']') {
                i++;
                break;
            }
            return bt_error_set(r->err, BT_EPARSE,
                                i >= r->len ? "truncated JSON: the Records array is not closed"
                                            : "invalid JSON at byte %zu: expected ',' or ']'",
                                i);
        }
    }
    /* the rest of the object: other members are parsed (validated) and ignored */
    for (;;) {
        bt_json *k, *v;
        i = skip_ws(d, i, r->len);
        if (i < r->len && d[i] == '}') {
            *pos = i + 1;
            return 0;
        }
        if (i >= r->len || d[i] != ',')
            return bt_error_set(r->err, BT_EPARSE,
                                i >= r->len ? "truncated JSON: object is not closed"
                                            : "invalid JSON at byte %zu: expected ',' or '}'",
                                i);
        i = skip_ws(d, i + 1, r->len);
        if ((rc = parse_at(r, &i, &k)))
            return rc;
        if (k->type != BT_JSON_STRING)
            return bt_error_set(r->err, BT_EPARSE, "invalid JSON at byte %zu: expected a key", i);
        i = skip_ws(d, i, r->len);
        if (i >= r->len || d[i] != ':')
            return bt_error_set(r->err, BT_EPARSE, "invalid JSON at byte %zu: expected ':'", i);
        i = skip_ws(d, i + 1, r->len);
        if ((rc = parse_at(r, &i, &v)))
            return rc;
        bt_arena_reset(r->arena);
    }
}

/* Top level: a sequence of JSON values (one for a plain file, many for NDJSON). A
 * top-level array is streamed element by element. */
static int read_values(reader *r)
{
    size_t pos = 0;
    int rc;

    if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    for (;;) {
        bt_json *v;
        pos = skip_ws(r->data, pos, r->len);
        if (pos >= r->len || r->stop)
            return 0;
        if (r->data[pos] == '{') {
            rc = stream_object(r, &pos);
            if (rc <= 0) {
                if (rc)
                    return rc;
                continue;
            }
        } else if (r->data[pos] == '[') {
            size_t i = skip_ws(r->data, pos + 1, r->len);
            if (i < r->len && r->data[i] == ']') {
                pos = i + 1;
                continue;
            }
            for (;;) {
                if ((rc = parse_at(r, &i, &v)))
                    return rc;
                rc = handle_value(r, v, 1);
                bt_arena_reset(r->arena);
                if (rc || r->stop)
                    return rc;
                i = skip_ws(r->data, i, r->len);
                if (i < r->len && r->data[i] == ',') {
                    i = skip_ws(r->data, i + 1, r->len);
                    continue;
                }
                if (i < r->len && r->data[i] == ']')
                    break;
                return bt_error_set(r->err, BT_EPARSE,
                                    i >= r->len ? "truncated JSON: the array is not closed"
                                                : "invalid JSON at byte %zu: expected ',' or ']'",
                                    i);
            }
            pos = i + 1;
            continue;
        }
        if (r->pre && r->data[pos] == '{') {
            int esc;
            size_t end = skip_container(r->data, pos, r->len, &esc);
            /* an EventBridge envelope or a record that cannot match */
            if (end && !esc && !may_match(r, pos, end)) {
                r->st->records++;
                pos = end;
                continue;
            }
        }
        if ((rc = parse_at(r, &pos, &v)))
            return rc;
        rc = handle_value(r, v, 0);
        bt_arena_reset(r->arena);
        if (rc)
            return rc;
    }
}

int bt_read_data(const char *data, size_t len, bt_arena *scratch, bt_event_fn fn, void *ctx,
                 bt_read_stats *st, bt_error *err)
{
    return bt_read_data_filtered(data, len, scratch, NULL, fn, ctx, st, err);
}

int bt_read_data_filtered(const char *data, size_t len, bt_arena *scratch, const bt_filter *pre,
                          bt_event_fn fn, void *ctx, bt_read_stats *st, bt_error *err)
{
    bt_buf plain = BT_BUF_INIT;
    reader r;
    int rc;

    st->bytes_in += len;
    if (bt_gzip_is(data, len)) {
        if ((rc = bt_gzip_decompress(data, len, &plain, err)))
            goto done;
        data = plain.data;
        len = plain.len;
    }
    st->bytes_json += len;
    r.data = data;
    r.len = len;
    r.pre = pre;
    r.arena = scratch;
    r.fn = fn;
    r.ctx = ctx;
    r.st = st;
    r.err = err;
    r.stop = 0;
    rc = read_values(&r);
    if (!rc && r.stop)
        rc = r.stop;
done:
    bt_arena_reset(scratch);
    bt_buf_dispose(&plain);
    return rc;
}

/* ---- enumeration ------------------------------------------------------------------ */

int bt_looks_like_input(const char *data, size_t len)
{
    size_t i = 0;
    if (bt_gzip_is(data, len))
        return 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    i = skip_ws(data, i, len);
    return i < len && (data[i] == '{' || data[i] == '[');
}

static int list_push(bt_file_list *l, const char *path, const struct stat *sb)
{
    if (l->n == l->alloc) {
        size_t n = l->alloc ? l->alloc * 2 : 64;
        bt_file_info *v = realloc(l->v, n * sizeof *v);
        if (!v)
            return BT_ENOMEM;
        l->v = v;
        l->alloc = n;
    }
    l->v[l->n].path = strdup(path);
    if (!l->v[l->n].path)
        return BT_ENOMEM;
    l->v[l->n].size = sb ? (uint64_t)sb->st_size : 0;
    l->v[l->n].mtime_ns =
        sb ? (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec : 0;
    l->v[l->n].walked = 0;
    l->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(bt_file_list *l, const char *dir, int depth, bt_error *err)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, alloc = 0, i;
    int rc = 0;

    if (depth > 64)
        return bt_error_set(err, BT_ELIMIT, "'%s': directories nested too deeply", dir);
    d = opendir(dir);
    if (!d)
        return bt_error_set(err, BT_EIO, "'%s': %s", dir, strerror(errno));
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == alloc) {
            char **nn;
            alloc = alloc ? alloc * 2 : 64;
            nn = realloc(names, alloc * sizeof *nn);
            if (!nn) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                goto done;
            }
            names = nn;
        }
        if (!(names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2))) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
        sprintf(names[n], "%s/%s", dir, de->d_name);
        n++;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 0; i < n && !rc; i++) {
        struct stat sb;
        if (stat(names[i], &sb) != 0)
            continue; /* vanished or dangling link */
        if (S_ISDIR(sb.st_mode))
            rc = walk(l, names[i], depth + 1, err);
        else if (S_ISREG(sb.st_mode)) {
            if ((rc = list_push(l, names[i], &sb)))
                bt_error_set(err, rc, "out of memory");
            else
                l->v[l->n - 1].walked = 1;
        }
    }
done:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int bt_file_list_add(bt_file_list *l, const char *path, bt_error *err)
{
    struct stat sb;
    int rc;

    if (strcmp(path, "-") == 0)
        return list_push(l, "-", NULL) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
    if (stat(path, &sb) != 0)
        return bt_error_set(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, "'%s': %s", path,
                            strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        /* drop trailing slashes for tidy paths */
        char *p = strdup(path);
        size_t k;
        if (!p)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        k = strlen(p);
        while (k > 1 && p[k - 1] == '/')
            p[--k] = '\0';
        rc = walk(l, p, 0, err);
        free(p);
        return rc;
    }
    if ((rc = list_push(l, path, &sb)))
        return bt_error_set(err, rc, "out of memory");
    return 0;
}

void bt_file_list_dispose(bt_file_list *l)
{
    size_t i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof *l);
}
