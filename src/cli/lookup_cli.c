/* lookup_cli.c - --lookup-attributes parsing (the AWS CLI's shorthand, JSON and
 * file:// forms), the attribute plan (the most selective attribute to the service,
 * the rest and the search filters applied here) and AWS CLI-style messages; shared
 * by `lookup`, `ingest lookup:` and `build --live`. */
#include <stdarg.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/lookup.h"
#include "cli.h"
#include "lookup_cli.h"

void lk_msg(const char *fmt, ...)
{
    va_list ap;
    fputc('\n', stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int add_cond(lk_cond *conds, size_t *n, size_t max, const char *key, const char *value)
{
    if (*n >= max) {
        lk_msg("Error parsing parameter '--lookup-attributes': more than %zu attributes", max);
        return -1;
    }
    memset(&conds[*n], 0, sizeof conds[*n]);
    conds[*n].key = key;
    conds[*n].values[0] = value;
    conds[*n].n = 1;
    conds[*n].origin = "--lookup-attributes";
    (*n)++;
    return 0;
}

static int check_pair(const char *key, const char *value, size_t idx)
{
    if (!key) {
        lk_msg("Parameter validation failed:\nMissing required parameter in "
               "LookupAttributes[%zu]: \"AttributeKey\"",
               idx);
        return -1;
    }
    if (!value) {
        lk_msg("Parameter validation failed:\nMissing required parameter in "
               "LookupAttributes[%zu]: \"AttributeValue\"",
               idx);
        return -1;
    }
    return 0;
}

static int parse_json(bt_arena *a, const char *text, lk_cond *conds, size_t *n, size_t max)
{
    bt_json *root = NULL;
    bt_error err = BT_ERROR_INIT;
    size_t i, cnt;
    if (bt_json_parse(a, text, strlen(text), NULL, &root, &err)) {
        lk_msg("Error parsing parameter '--lookup-attributes': Invalid JSON: %s\nJSON received: %s",
               err.msg, text);
        return -1;
    }
    cnt = root->type == BT_JSON_ARRAY ? root->len : 1;
    for (i = 0; i < cnt; i++) {
        const bt_json *o = root->type == BT_JSON_ARRAY ? root->u.items[i] : root;
        size_t k;
        if (o->type != BT_JSON_OBJECT) {
            lk_msg("Parameter validation failed:\nInvalid type for parameter LookupAttributes[%zu], "
                   "valid types: <class 'dict'>",
                   i);
            return -1;
        }
        for (k = 0; k < o->len; k++)
            if (strcmp(o->u.members[k].key, "AttributeKey") &&
                strcmp(o->u.members[k].key, "AttributeValue")) {
                lk_msg("Parameter validation failed:\nUnknown parameter in LookupAttributes[%zu]: "
                       "\"%s\", must be one of: AttributeKey, AttributeValue",
                       i, o->u.members[k].key);
                return -1;
            }
        if (check_pair(bt_json_get_str(o, "AttributeKey"), bt_json_get_str(o, "AttributeValue"),
                       i) ||
            add_cond(conds, n, max, bt_json_get_str(o, "AttributeKey"),
                     bt_json_get_str(o, "AttributeValue")))
            return -1;
    }
    return 0;
}

/* key=value[,key=value]...; a value may be quoted with "..." or '...'. */
static int parse_shorthand(bt_arena *a, const char *text, lk_cond *conds, size_t *n, size_t max)
{
    const char *p = text, *key = NULL, *value = NULL;
    while (*p) {
        const char *k = p, *eq = strchr(p, '=');
        char *v;
        size_t vl = 0, cap;
        if (!eq) {
            lk_msg("Error parsing parameter '--lookup-attributes': Expected: '=', received: "
                   "'EOF' for input:\n%s",
                   text);
            return -1;
        }
        p = eq + 1;
        cap = strlen(p) + 1;
        v = bt_arena_alloc(a, cap);
        if (!v)
            return -1;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (*p == '\\' && p[1])
                    p++;
                v[vl++] = *p++;
            }
            if (*p != q) {
                lk_msg("Error parsing parameter '--lookup-attributes': unterminated quote in: %s",
                       text);
                return -1;
            }
            p++;
        } else {
            while (*p && *p != ',')
                v[vl++] = *p++;
        }
        v[vl] = '\0';
        if ((size_t)(eq - k) == 12 && strncmp(k, "AttributeKey", 12) == 0) {
            key = v;
        } else if ((size_t)(eq - k) == 14 && strncmp(k, "AttributeValue", 14) == 0) {
            value = v;
        } else {
            lk_msg("Parameter validation failed:\nUnknown parameter in LookupAttributes[0]: "
                   "\"%.*s\", must be one of: AttributeKey, AttributeValue",
                   (int)(eq - k), k);
            return -1;
        }
        if (*p == ',')
            p++;
        else if (*p) {
            lk_msg("Error parsing parameter '--lookup-attributes': Expected: ',', received: "
                   "'%c' for input:\n%s",
                   *p, text);
            return -1;
        }
    }
    if (check_pair(key, value, 0))
        return -1;
    return add_cond(conds, n, max, key, value);
}

int lk_parse_attrs(bt_arena *a, const char *text, lk_cond *conds, size_t *n, size_t max)
{
    const char *t = text;
    if (strncmp(text, "file://", 7) == 0) {
        bt_buf b = BT_BUF_INIT;
        bt_error err = BT_ERROR_INIT;
        bt_buf_init(&b, 1 << 20);
        if (bt_buf_read_file(&b, text + 7, &err)) {
            lk_msg("Error parsing parameter '--lookup-attributes': Unable to load paramfile %s: %s",
                   text, err.msg);
            bt_buf_dispose(&b);
            return -1;
        }
        t = bt_arena_strndup(a, b.data ? b.data : "", b.len);
        bt_buf_dispose(&b);
        if (!t)
            return -1;
    }
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    if (*t == '[' || *t == '{')
        return parse_json(a, t, conds, n, max);
    return parse_shorthand(a, t, conds, n, max);
}

int lk_follows_attrs(int argc, char **argv, const char *word)
{
    int j, k;
    for (j = 1; j < argc; j++)
        if (argv[j] == word)
            break;
    if (j >= argc)
        return 0;
    for (k = j - 1; k >= 1; k--) {
        if (argv[k][0] == '-' && argv[k][1])
            return strcmp(argv[k], "--lookup-attributes") == 0 ||
                   strncmp(argv[k], "--lookup-attributes=", 20) == 0;
    }
    return 0;
}

static const char *opt_name(bt_arena *a, const char *name)
{
    size_t n = strlen(name);
    char *s = bt_arena_alloc(a, n + 3);
    if (!s)
        return name;
    memcpy(s, "--", 2);
    memcpy(s + 2, name, n + 1);
    return s;
}

int lk_plan_make(lk_plan *p, const lk_cond *conds, size_t nconds, const bt_filter *f,
                 bt_arena *a, bt_error *err)
{
    const lk_cond *all[LK_MAX_LOCAL];
    size_t nall = 0, nf = 0, i;
    int field, best = -1, best_rank = 1000;

    memset(p, 0, sizeof *p);
    if (nconds + BT_F__COUNT + 1 > LK_MAX_LOCAL)
        return bt_error_set(err, BT_EINVAL, "too many lookup attributes");
    for (i = 0; i < nconds; i++)
        all[nall++] = &conds[i];
    p->record = *f;
    for (field = 0; field < BT_F__COUNT; field++) {
        const char *attr = bt_filter_field_attribute((bt_filter_field)field);
        lk_cond *c;
        if (!attr || !f->nvalues[field])
            continue;
        c = &p->filter_conds[nf++];
        c->key = attr;
        c->n = f->nvalues[field];
        memcpy(c->values, f->values[field], c->n * sizeof c->values[0]);
        c->origin = opt_name(a, bt_filter_field_option((bt_filter_field)field));
        all[nall++] = c;
        p->record.nvalues[field] = 0;
    }
    if (f->read_only >= 0) {
        lk_cond *c = &p->filter_conds[nf++];
        c->key = BT_CT_ATTR_READ_ONLY;
        c->values[0] = f->read_only ? "true" : "false";
        c->n = 1;
        c->origin = "--read-only";
        all[nall++] = c;
        p->record.read_only = -1;
    }
    /* the service gets one single-valued attribute: an unknown key first (the service
     * reports it), else the most selective */
    for (i = 0; i < nall; i++) {
        int rank = all[i]->n == 1 ? bt_ct_attr_rank(all[i]->key) : 1000;
        if (rank == 100)
            rank = -1;
        if (rank < best_rank) {
            best_rank = rank;
            best = (int)i;
        }
    }
    if (best >= 0)
        p->server = all[best];
    for (i = 0; i < nall; i++)
        if ((int)i != best)
            p->local[p->nlocal++] = *all[i];
    p->record.start_ms = INT64_MIN;
    p->record.end_ms = INT64_MAX;
    p->need_record = !bt_filter_is_empty(&p->record);
    p->record.kinds = ~0u; /* Insights events too */
    return 0;
}

int lk_plan_match(const lk_plan *p, bt_arena *a, const bt_ct_event *ev)
{
    size_t i, k;
    for (i = 0; i < p->nlocal; i++) {
        int any = 0;
        for (k = 0; k < p->local[i].n && !any; k++)
            any = bt_ct_event_attr_match(ev, p->local[i].key, p->local[i].values[k]);
        if (!any)
            return 0;
    }
    if (p->need_record) {
        bt_event rec;
        bt_error err = BT_ERROR_INIT;
        int rc = bt_ct_event_record(a, ev, &rec, &err);
        if (rc == BT_ENOMEM)
            return -1;
        if (rc)
            return 0;
        return bt_filter_match(&p->record, &rec) ? 1 : 0;
    }
    return 1;
}

void lk_plan_debug(const lk_plan *p, FILE *f)
{
    size_t i, k;
    int field;
    fprintf(f, "buildtrail: debug: lookup: sent to the service: ");
    if (p->server)
        fprintf(f, "%s=%s (from %s)", p->server->key, p->server->values[0], p->server->origin);
    else
        fprintf(f, "no attribute");
    fprintf(f, "; applied here: ");
    if (!p->nlocal && !p->need_record)
        fprintf(f, "nothing");
    for (i = 0; i < p->nlocal; i++) {
        fprintf(f, "%s%s=", i ? " AND " : "", p->local[i].key);
        for (k = 0; k < p->local[i].n; k++)
            fprintf(f, "%s%s", k ? "|" : "", p->local[i].values[k]);
        fprintf(f, " (from %s)", p->local[i].origin);
    }
    if (p->need_record) {
        int first = !p->nlocal;
        for (field = 0; field < BT_F__COUNT; field++)
            if (p->record.nvalues[field]) {
                fprintf(f, "%s--%s", first ? "" : " AND ", bt_filter_field_option((bt_filter_field)field));
                first = 0;
            }
        if (p->record.errors_only)
            fprintf(f, "%s--errors", first ? "" : " AND ");
        fprintf(f, " (on the record)");
    }
    fputc('\n', f);
}

void lk_service_message(const char *msg, char *out, size_t cap, char *retries, size_t rcap)
{
    const char *s = strstr(msg, "(HTTP "), *e;
    size_t len;
    retries[0] = '\0';
    if (s && (s = strchr(s, ')'))) {
        s++;
        if (s[0] == ':' && s[1] == ' ')
            s += 2;
    } else {
        s = msg;
    }
    len = strlen(s);
    e = strstr(s, " (reached max retries: ");
    if (e && e[strlen(e) - 1] == ')') {
        snprintf(retries, rcap, "%s", e);
        len = (size_t)(e - s);
    }
    {
        /* the last " [request id ...]" before that */
        const char *r = NULL, *q = s;
        while ((q = strstr(q, " [request id ")) && q < s + len) {
            r = q;
            q++;
        }
        if (r && s[len - 1] == ']')
            len = (size_t)(r - s);
    }
    snprintf(out, cap, "%.*s", (int)len, s);
}

int lk_lookup_page(bt_aws_client *c, const bt_ct_lookup_request *req, bt_arena *a,
                   bt_ct_lookup_page *pg, bt_error *err)
{
    int attempt, rc = 0, max = 3;
    const char *env = getenv("AWS_MAX_ATTEMPTS");
    if (env && atoi(env) > 0)
        max = atoi(env);
    for (attempt = 1; attempt <= max; attempt++) {
        rc = bt_ct_lookup_events(c, req, a, pg, err);
        if (rc != BT_EPARSE || attempt == max)
            break;
        /* a 2xx whose body is cut or garbled: the page is asked for again (the AWS CLI
         * would take it as an empty page, a silent gap) */
        if (cli_debug)
            fprintf(stderr, "buildtrail: debug: lookup: unreadable reply (%s), asking again\n",
                    err->msg);
        {
            struct timespec ts = {0, 200000000L * attempt};
            nanosleep(&ts, NULL);
        }
    }
    return rc;
}
