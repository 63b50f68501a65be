/* s3.c - the S3 client the archive reader uses: s3:// URLs and bucket names, URI
 * encoding, the ListObjectsV2 reply parser (expat, capped), bucket handles with
 * virtual-hosted or path-style addressing and region redirects followed, and the
 * ListObjectsV2 / GetObject / HeadBucket calls over the request engine. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/expat_dl.h" /* (before aws_int.h: its expat declarations) */

#include "aws/aws_int.h"
#include "buildtrail/aws_s3.h"
#include "buildtrail/timeutil.h"

#define MAX_BUCKET 255 /* legacy us-east-1 names may be this long */
#define MAX_REDIRECTS 2
#define LIST_MAX_DEPTH 32

/* ------------------------------------------------------------ names, URLs -- */

int bt_s3_addressing_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "auto") == 0)
        return BT_S3_ADDR_AUTO;
    if (strcmp(s, "virtual") == 0)
        return BT_S3_ADDR_VIRTUAL;
    if (strcmp(s, "path") == 0)
        return BT_S3_ADDR_PATH;
    return -1;
}

static int looks_like_ipv4(const char *s)
{
    int parts = 0, digits = 0;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s)) {
            if (++digits > 3)
                return 0;
        } else if (*s == '.' && digits) {
            parts++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return digits && parts == 3;
}

int bt_s3_bucket_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0, i;
    if (n < 3 || n > 63)
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return 0;
        if (c == '.' && i + 1 < n && name[i + 1] == '.')
            return 0;
    }
    if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
        return 0;
    return !looks_like_ipv4(name);
}

int bt_s3_bucket_virtual_ok(const char *name)
{
    return bt_s3_bucket_name_ok(name) && !strchr(name, '.');
}

/* Names created before the current rules (us-east-1 only): path-style only. */
static int legacy_name_ok(const char *name)
{
    size_t n = strlen(name), i;
    if (n < 1 || n > MAX_BUCKET)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '-' && name[i] != '_')
            return 0;
    return 1;
}

int bt_s3_parse_url(const char *url, char *bucket, size_t cap, const char **rest, bt_error *err)
{
    const char *b, *slash;
    size_t n;

    *rest = "";
    if (cap)
        bucket[0] = '\0';
    if (!url || strncmp(url, "s3://", 5) != 0)
        return bt_error_set(err, BT_EINVAL, "'%s' is not an s3://bucket/prefix URL",
                            url ? url : "");
    b = url + 5;
    slash = strchr(b, '/');
    n = slash ? (size_t)(slash - b) : strlen(b);
    if (n == 0)
        return bt_error_set(err, BT_EINVAL, "'%s': no bucket name", url);
    if (n >= cap || n > MAX_BUCKET)
        return bt_error_set(err, BT_EINVAL, "'%s': bucket name too long", url);
    memcpy(bucket, b, n);
    bucket[n] = '\0';
    if (!bt_s3_bucket_name_ok(bucket) && !legacy_name_ok(bucket))
        return bt_error_set(err, BT_EINVAL, "'%s': '%s' is not a valid bucket name", url, bucket);
    *rest = slash ? slash + 1 : "";
    return 0;
}

static int encode(bt_buf *out, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        unsigned char c = *p;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        if (keep) {
            if (bt_buf_putc(out, (char)c))
                return BT_ENOMEM;
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (bt_buf_append(out, e, 3))
                return BT_ENOMEM;
        }
    }
    return 0;
}

int bt_s3_encode_path(bt_buf *out, const char *s)
{
    return encode(out, s, 1);
}

int bt_s3_encode_query(bt_buf *out, const char *s)
{
    return encode(out, s, 0);
}

/* Decodes %XX and '+' (S3's encoding-type=url writes a space as '+') in place. */
static void url_decode(char *s)
{
    char *w = s;
    for (; *s; s++) {
        if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char h[3] = {s[1], s[2], 0};
            *w++ = (char)strtol(h, NULL, 16);
            s += 2;
        } else if (*s == '+') {
            *w++ = ' ';
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* ---------------------------------------------------- ListObjectsV2 parser -- */

enum {
    F_NONE = 0,
    F_NAME,
    F_PREFIX,
    F_TRUNCATED,
    F_NEXT,
    F_KEYCOUNT,
    F_ENCODING,
    F_KEY,
    F_ETAG,
    F_SIZE,
    F_MODIFIED,
    F_CLASS,
    F_CP_PREFIX,
    F_ERR_CODE,
    F_ERR_MSG
};

typedef struct lstate {
    XML_Parser p;
    bt_arena *a;
    bt_s3_list_page *out;
    size_t cap_obj, cap_pre;
    int depth;
    int root; /* 1 ListBucketResult, 2 Error, -1 other */
    int in_contents, in_cp;
    int field; /* F_* being captured */
    int field_depth;
    bt_buf text;
    char *encoding;
    char *err_code, *err_msg;
    int failed; /* BT_E* from a callback */
    const char *why;
} lstate;

static const char *lname(const char *name)
{
    const char *sp = strrchr(name, ' '), *colon;
    if (sp)
        return sp + 1;
    colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static void lfail(lstate *x, int code, const char *why)
{
    if (!x->failed) {
        x->failed = code;
        x->why = why;
    }
    XML_StopParser(x->p, XML_FALSE);
}

static int grow(lstate *x, void **v, size_t *cap, size_t n, size_t size)
{
    void *nv;
    size_t nc;
    if (n < *cap)
        return 0;
    if (n >= BT_S3_LIST_MAX_ENTRIES) {
        lfail(x, BT_ELIMIT, "too many entries in one listing page");
        return -1;
    }
    nc = *cap ? *cap * 2 : 64;
    nv = bt_arena_alloc(x->a, nc * size);
    if (!nv) {
        lfail(x, BT_ENOMEM, "out of memory");
        return -1;
    }
    if (n)
        memcpy(nv, *v, n * size);
    *v = nv;
    *cap = nc;
    return 0;
}

static void XMLCALL l_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    lstate *x = ud;
    const char *n = lname(name);
    bt_s3_list_page *o = x->out;
    (void)atts;

    if (++x->depth > LIST_MAX_DEPTH) {
        lfail(x, BT_ELIMIT, "XML nested too deeply");
        return;
    }
    if (x->field)
        return; /* markup inside a text field: ignored */
    if (x->depth == 1) {
        x->root = strcmp(n, "ListBucketResult") == 0 ? 1 : strcmp(n, "Error") == 0 ? 2 : -1;
        return;
    }
    if (x->root == 2 && x->depth == 2) {
        if (strcmp(n, "Code") == 0)
            x->field = F_ERR_CODE;
        else if (strcmp(n, "Message") == 0)
            x->field = F_ERR_MSG;
    } else if (x->root == 1 && x->depth == 2) {
        if (strcmp(n, "Contents") == 0) {
            if (grow(x, (void **)&o->objects, &x->cap_obj, o->nobjects, sizeof *o->objects))
                return;
            memset(&o->objects[o->nobjects], 0, sizeof o->objects[0]);
            /* a Contents without Key or ETag still has (writable) strings */
            o->objects[o->nobjects].key = bt_arena_strdup(x->a, "");
            o->objects[o->nobjects].etag = o->objects[o->nobjects].key;
            if (!o->objects[o->nobjects].key) {
                lfail(x, BT_ENOMEM, "out of memory");
                return;
            }
            o->nobjects++;
            x->in_contents = 1;
        } else if (strcmp(n, "CommonPrefixes") == 0) {
            x->in_cp = 1;
        } else if (strcmp(n, "Name") == 0) {
            x->field = F_NAME;
        } else if (strcmp(n, "Prefix") == 0) {
            x->field = F_PREFIX;
        } else if (strcmp(n, "IsTruncated") == 0) {
            x->field = F_TRUNCATED;
        } else if (strcmp(n, "NextContinuationToken") == 0) {
            x->field = F_NEXT;
        } else if (strcmp(n, "KeyCount") == 0) {
            x->field = F_KEYCOUNT;
        } else if (strcmp(n, "EncodingType") == 0) {
            x->field = F_ENCODING;
        }
    } else if (x->root == 1 && x->depth == 3 && x->in_contents) {
        if (strcmp(n, "Key") == 0)
            x->field = F_KEY;
        else if (strcmp(n, "ETag") == 0)
            x->field = F_ETAG;
        else if (strcmp(n, "Size") == 0)
            x->field = F_SIZE;
        else if (strcmp(n, "LastModified") == 0)
            x->field = F_MODIFIED;
        else if (strcmp(n, "StorageClass") == 0)
            x->field = F_CLASS;
    } else if (x->root == 1 && x->depth == 3 && x->in_cp) {
        if (strcmp(n, "Prefix") == 0)
            x->field = F_CP_PREFIX;
    }
    if (x->field) {
        x->field_depth = x->depth;
        bt_buf_clear(&x->text);
    }
}

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    while (*s == ' ')
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return UINT64_MAX;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v;
}

static void take_field(lstate *x)
{
    bt_s3_list_page *o = x->out;
    bt_s3_object *ob = o->nobjects ? &o->objects[o->nobjects - 1] : NULL;
    const char *t = x->text.data ? x->text.data : "";
    char *s = bt_arena_strndup(x->a, t, x->text.len);

    if (!s) {
        lfail(x, BT_ENOMEM, "out of memory");
        return;
    }
    switch (x->field) {
    case F_NAME: o->name = s; break;
    case F_PREFIX: o->prefix = s; break;
    case F_TRUNCATED: o->truncated = strcasecmp(s, "true") == 0; break;
    case F_NEXT: o->next_token = s; break;
    case F_KEYCOUNT: o->key_count = (long)parse_u64(s); break;
    case F_ENCODING: x->encoding = s; break;
    case F_ERR_CODE: x->err_code = s; break;
    case F_ERR_MSG: x->err_msg = s; break;
    case F_KEY:
        if (ob)
            ob->key = s;
        break;
    case F_ETAG:
        if (ob) {
            size_t n = strlen(s);
            if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
                s[n - 1] = '\0';
                s++;
            }
            ob->etag = s;
        }
        break;
    case F_SIZE:
        if (ob)
            ob->size = parse_u64(s);
        break;
    case F_MODIFIED:
        if (ob) {
            int64_t ms;
            ob->last_modified_ms = bt_time_parse_iso(s, strlen(s), &ms) == 0 ? ms : 0;
        }
        break;
    case F_CLASS:
        if (ob)
            ob->storage_class = s;
        break;
    case F_CP_PREFIX:
        if (grow(x, (void **)&o->prefixes, &x->cap_pre, o->nprefixes, sizeof *o->prefixes))
            return;
        o->prefixes[o->nprefixes++] = s;
        break;
    }
}

static void XMLCALL l_end(void *ud, const XML_Char *name)
{
    lstate *x = ud;
    (void)name;
    if (x->field && x->depth == x->field_depth) {
        take_field(x);
        x->field = F_NONE;
    } else if (!x->field && x->depth == 2) {
        x->in_contents = x->in_cp = 0;
    }
    x->depth--;
}

static void XMLCALL l_text(void *ud, const XML_Char *s, int len)
{
    lstate *x = ud;
    if (!x->field)
        return;
    if (x->text.len + (size_t)len > BT_S3_LIST_MAX_TEXT) {
        lfail(x, BT_ELIMIT, "XML text too long");
        return;
    }
    if (bt_buf_append(&x->text, s, (size_t)len))
        lfail(x, BT_ENOMEM, "out of memory");
}

static void XMLCALL l_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                             int value_len, const XML_Char *base, const XML_Char *system_id,
                             const XML_Char *public_id, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id,
        (void)public_id, (void)notation;
    lfail(ud, BT_EPARSE, "the XML declares entities");
}

int bt_s3_list_parse(bt_arena *arena, const char *xml, size_t len, bt_s3_list_page *out,
                     bt_error *err)
{
    lstate x;
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->key_count = -1;
    if (len > BT_S3_LIST_MAX_BYTES)
        return bt_error_set(err, BT_ELIMIT, "listing reply larger than %zu bytes",
                            BT_S3_LIST_MAX_BYTES);
    if ((rc = bt_expat_load(err)))
        return rc;
    memset(&x, 0, sizeof x);
    x.a = arena;
    x.out = out;
    bt_buf_init(&x.text, 0);
    x.p = bt_xml_parser_new(&x, l_start, l_end, l_text, l_entity);
    if (!x.p)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (XML_Parse(x.p, xml ? xml : "", (int)len, XML_TRUE) == XML_STATUS_ERROR || x.failed) {
        if (x.failed)
            rc = bt_error_set(err, x.failed, "listing reply: %s", x.why);
        else
            rc = bt_error_set(err, BT_EPARSE, "listing reply: invalid XML at line %lu: %s",
                              (unsigned long)XML_GetCurrentLineNumber(x.p),
                              XML_ErrorString(XML_GetErrorCode(x.p)));
        goto done;
    }
    if (x.root == 2) {
        rc = bt_error_set(err, BT_EPARSE, "listing reply is an error: %s: %s",
                          x.err_code ? x.err_code : "?", x.err_msg ? x.err_msg : "");
        goto done;
    }
    if (x.root != 1) {
        rc = bt_error_set(err, BT_EPARSE, "listing reply is not a ListBucketResult");
        goto done;
    }
    if (x.encoding && strcmp(x.encoding, "url") == 0) {
        if (out->prefix)
            url_decode((char *)out->prefix);
        for (i = 0; i < out->nobjects; i++)
            url_decode((char *)out->objects[i].key);
        for (i = 0; i < out->nprefixes; i++)
            url_decode((char *)out->prefixes[i]);
    }
done:
    if (rc) {
        bt_s3_list_page empty;
        memset(&empty, 0, sizeof empty);
        empty.key_count = -1;
        *out = empty;
    }
    XML_ParserFree(x.p);
    bt_buf_dispose(&x.text);
    return rc;
}

/* ------------------------------------------------------------------ bucket -- */

struct bt_s3_bucket {
    pthread_mutex_t mu;
    char name[MAX_BUCKET + 1];
    char region[64];
    bt_s3_addressing addressing;
};

int bt_s3_bucket_new(bt_s3_bucket **out, bt_aws_client *c, const char *name,
                     bt_s3_addressing addressing, bt_error *err)
{
    bt_s3_bucket *b;
    const char *r = bt_aws_client_region(c);

    *out = NULL;
    if (!name || (!bt_s3_bucket_name_ok(name) && !legacy_name_ok(name)))
        return bt_error_set(err, BT_EINVAL, "'%s' is not a valid bucket name", name ? name : "");
    if (addressing == BT_S3_ADDR_VIRTUAL && !bt_s3_bucket_name_ok(name))
        return bt_error_set(err, BT_EINVAL,
                            "bucket '%s' cannot be addressed virtual-hosted (not a DNS name)",
                            name);
    b = calloc(1, sizeof *b);
    if (!b)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->region, sizeof b->region, "%s", r && *r ? r : "us-east-1");
    b->addressing = addressing;
    *out = b;
    return 0;
}

void bt_s3_bucket_free(bt_s3_bucket *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

const char *bt_s3_bucket_name(const bt_s3_bucket *b)
{
    return b->name;
}

void bt_s3_bucket_region(bt_s3_bucket *b, char *out, size_t cap)
{
    pthread_mutex_lock(&b->mu);
    snprintf(out, cap, "%s", b->region);
    pthread_mutex_unlock(&b->mu);
}

static void set_region(bt_s3_bucket *b, const char *r)
{
    pthread_mutex_lock(&b->mu);
    snprintf(b->region, sizeof b->region, "%s", r);
    pthread_mutex_unlock(&b->mu);
}

/* The endpoint for b in region; *virt tells whether the bucket is in the host. */
static int bucket_endpoint(bt_aws_client *c, bt_s3_bucket *b, const char *region,
                           bt_aws_endpoint *ep, int *virt, bt_error *err)
{
    int custom = 0, rc;
    const char *host;
    char url[sizeof ep->url];

    rc = bt_aws_client_endpoint_in(c, "s3", region, ep, &custom, err);
    if (rc)
        return rc;
    if (b->addressing == BT_S3_ADDR_VIRTUAL)
        *virt = 1;
    else if (b->addressing == BT_S3_ADDR_PATH)
        *virt = 0;
    else
        *virt = !custom && bt_s3_bucket_virtual_ok(b->name);
    if (!*virt)
        return 0;
    host = strstr(ep->url, "://");
    if (!host)
        return bt_error_set(err, BT_ECONFIG, "invalid endpoint url '%s'", ep->url);
    host += 3;
    if (snprintf(url, sizeof url, "%.*s%s.%s", (int)(host - ep->url), ep->url, b->name, host) >=
        (int)sizeof url)
        return bt_error_set(err, BT_ECONFIG, "endpoint url too long");
    memcpy(ep->url, url, sizeof url);
    return 0;
}

/* The <Region> of an error reply, when it has one. */
static void body_region(const bt_aws_response *resp, char *out, size_t cap)
{
    static const char *const names[] = {"Region"};
    char *v = NULL;
    out[0] = '\0';
    if (resp->body.len &&
        bt_aws_xml_fields(resp->body.data, resp->body.len, names, 1, &v, NULL) == 0 && v) {
        size_t i;
        for (i = 0; v[i]; i++)
            if (!isalnum((unsigned char)v[i]) && v[i] != '-')
                break;
        if (!v[i])
            snprintf(out, cap, "%s", v);
    }
    free(v);
}

static int is_redirect(const bt_aws_response *resp, const bt_error *err)
{
    const char *code = err ? err->aws_code : "";
    if (resp->http_status == 301 || resp->http_status == 307)
        return 1;
    return strcmp(code, "PermanentRedirect") == 0 || strcmp(code, "TemporaryRedirect") == 0 ||
           strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
           strcmp(code, "IllegalLocationConstraintException") == 0 ||
           (resp->http_status == 400 && resp->bucket_region[0]);
}

static int send_once(bt_aws_client *c, bt_s3_bucket *b, const char *region, const char *op,
                     const char *method, const char *key, const char *query,
                     const bt_http_header *h, size_t nh, bt_aws_response *resp, bt_error *err)
{
    bt_aws_endpoint ep;
    bt_buf path = BT_BUF_INIT;
    int virt = 0, rc;

    rc = bucket_endpoint(c, b, region, &ep, &virt, err);
    if (rc)
        return rc;
    if (bt_buf_putc(&path, '/') || (!virt && bt_s3_encode_path(&path, b->name)) ||
        (!virt && key && bt_buf_putc(&path, '/')) || (key && bt_s3_encode_path(&path, key))) {
        bt_buf_dispose(&path);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    rc = bt_aws_client_send(c, &ep, op, method, path.data, query, h, nh, NULL, 0, BT_AWS_P_REST_XML,
                            BT_SIGV4_S3, resp, err);
    bt_buf_dispose(&path);
    return rc;
}

/* Sends a request about bucket b (key NULL = the bucket itself), following the
 * bucket to its region when S3 says it lives elsewhere. */
static int s3_send(bt_aws_client *c, bt_s3_bucket *b, const char *op, const char *method,
                   const char *key, const char *query, const bt_http_header *h, size_t nh,
                   bt_aws_response *resp, bt_error *err)
{
    const bt_aws_settings *set = bt_aws_client_settings(c);
    char region[64], found[64];
    int hop, rc = 0;

    for (hop = 0; hop <= MAX_REDIRECTS; hop++) {
        bt_s3_bucket_region(b, region, sizeof region);
        rc = send_once(c, b, region, op, method, key, query, h, nh, resp, err);
        if (rc != BT_EAWS || !is_redirect(resp, err))
            return rc;
        snprintf(found, sizeof found, "%s", resp->bucket_region);
        if (!found[0])
            body_region(resp, found, sizeof found);
        if (!found[0] && strcmp(method, "HEAD") != 0) {
            /* HeadBucket answers with x-amz-bucket-region, even when it refuses */
            bt_aws_response hr;
            bt_error herr = BT_ERROR_INIT;
            bt_aws_response_init(&hr);
            send_once(c, b, region, "HeadBucket", "HEAD", NULL, NULL, NULL, 0, &hr, &herr);
            snprintf(found, sizeof found, "%s", hr.bucket_region);
            bt_aws_response_dispose(&hr);
        }
        if (!found[0] || strcmp(found, region) == 0)
            return rc;
        bt_aws_logf(set, "s3: bucket '%s' is in region %s, not %s: following", b->name, found,
                    region);
        set_region(b, found);
        bt_error_clear(err);
    }
    return rc;
}

int bt_s3_list_objects(bt_aws_client *c, bt_s3_bucket *b, const bt_s3_list_request *req,
                       bt_arena *arena, bt_s3_list_page *page, bt_error *err)
{
    bt_aws_response resp;
    bt_buf q = BT_BUF_INIT;
    int rc = 0;

    memset(page, 0, sizeof *page);
    page->key_count = -1;
    bt_aws_response_init(&resp);
    /* parameters in sorted order, values encoded as they are signed */
    if (req->continuation_token && *req->continuation_token)
        rc |= bt_buf_puts(&q, "continuation-token=") ||
              bt_s3_encode_query(&q, req->continuation_token) || bt_buf_putc(&q, '&');
    if (req->delimiter && *req->delimiter)
        rc |= bt_buf_puts(&q, "delimiter=") || bt_s3_encode_query(&q, req->delimiter) ||
              bt_buf_putc(&q, '&');
    rc |= bt_buf_puts(&q, "encoding-type=url&list-type=2");
    if (req->max_keys > 0)
        rc |= bt_buf_printf(&q, "&max-keys=%d", req->max_keys);
    if (req->prefix && *req->prefix)
        rc |= bt_buf_puts(&q, "&prefix=") || bt_s3_encode_query(&q, req->prefix);
    if (req->start_after && *req->start_after)
        rc |= bt_buf_puts(&q, "&start-after=") || bt_s3_encode_query(&q, req->start_after);
    if (rc) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    rc = s3_send(c, b, "ListObjectsV2", "GET", NULL, q.data, NULL, 0, &resp, err);
    if (rc)
        goto done;
    rc = bt_s3_list_parse(arena, resp.body.data, resp.body.len, page, err);
    if (rc)
        bt_error_prefix(err, "ListObjectsV2");
done:
    bt_aws_response_dispose(&resp);
    bt_buf_dispose(&q);
    return rc;
}

int bt_s3_get_object(bt_aws_client *c, bt_s3_bucket *b, const char *key, const char *if_match,
                     bt_buf *body, bt_error *err)
{
    bt_aws_response resp;
    bt_http_header h[1];
    char etag[300];
    size_t nh = 0;
    int rc;

    bt_aws_response_init(&resp);
    if (if_match && *if_match) {
        snprintf(etag, sizeof etag, if_match[0] == '"' ? "%s" : "\"%s\"", if_match);
        h[0].name = "If-Match";
        h[0].value = etag;
        nh = 1;
    }
    rc = s3_send(c, b, "GetObject", "GET", key, NULL, h, nh, &resp, err);
    if (rc == 0) {
        bt_buf tmp = *body;
        *body = resp.body;
        resp.body = tmp;
    }
    bt_aws_response_dispose(&resp);
    return rc;
}

int bt_s3_error_is_fatal(const bt_error *err)
{
    static const char *const codes[] = {"AccessDenied",
                                        "AllAccessDisabled",
                                        "InvalidAccessKeyId",
                                        "SignatureDoesNotMatch",
                                        "ExpiredToken",
                                        "InvalidToken",
                                        "TokenRefreshRequired",
                                        "NoSuchBucket",
                                        "AccountProblem",
                                        "InvalidBucketName",
                                        "AuthorizationHeaderMalformed",
                                        "PermanentRedirect",
                                        "InvalidRequest",
                                        "UnauthorizedAccess",
                                        "InvalidSecurity",
                                        "RequestTimeTooSkewed",
                                        NULL};
    int i;
    if (!err)
        return 0;
    switch (err->code) {
    case BT_ECRED:
    case BT_ECONFIG:
    case BT_ENOMEM:
    case BT_EINVAL: return 1;
    case BT_EAWS:
        for (i = 0; codes[i]; i++)
            if (strcmp(err->aws_code, codes[i]) == 0)
                return 1;
        return err->http_status == 401 || err->http_status == 403;
    default: return 0;
    }
}
