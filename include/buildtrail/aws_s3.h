/*
 * buildtrail/aws_s3.h - reading objects from Amazon S3 and S3-compatible stores, as
 * the trail-archive reader needs: s3:// URLs, ListObjectsV2 (prefix, delimiter,
 * start-after, continuation token; the XML reply parsed with expat), GetObject,
 * virtual-hosted and path-style addressing, and a bucket that lives in another
 * region followed without the caller's help (301 PermanentRedirect with
 * x-amz-bucket-region, 400 AuthorizationHeaderMalformed with <Region>, HeadBucket as
 * the last resort), the way botocore's S3RegionRedirector does.
 *
 * Requests go through a bt_aws_client (credentials, SigV4 with the S3 rules, the
 * standard retry mode, which retries 503 SlowDown, the redacting debug log). The
 * endpoint is the client's configured S3 endpoint (--endpoint-url,
 * AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, config) or s3.<region>.<dnsSuffix>.
 *
 * Threads: a bt_s3_bucket is shared by threads (the region it learns is guarded);
 * each thread passes its own bt_aws_client (see bt_aws_client_clone).
 */
#ifndef BT_AWS_S3_H
#define BT_AWS_S3_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_s3_addressing {
    BT_S3_ADDR_AUTO = 0, /* virtual-hosted on AWS endpoints when the bucket name is a DNS
                            label without dots; path-style on a configured endpoint */
    BT_S3_ADDR_VIRTUAL,  /* https://bucket.host/key */
    BT_S3_ADDR_PATH      /* https://host/bucket/key */
} bt_s3_addressing;

/* "auto", "virtual" or "path" -> BT_S3_ADDR_*; -1 for anything else. */
int bt_s3_addressing_parse(const char *s);

/* Bucket names S3 accepts: 3-63 of a-z 0-9 . -, starting and ending with a letter or
 * digit, no "..", not shaped like an IP address. */
int bt_s3_bucket_name_ok(const char *name);
/* Usable as a host label for virtual-hosted addressing: a valid name without dots. */
int bt_s3_bucket_virtual_ok(const char *name);

/*
 * Splits "s3://bucket[/key-or-prefix]": the bucket is copied into bucket (cap bytes),
 * *rest points into url just after "bucket/" ("" when there is none). BT_EINVAL with a
 * message for anything else (another scheme, an empty or invalid bucket name).
 */
int bt_s3_parse_url(const char *url, char *bucket, size_t cap, const char **rest, bt_error *err);

/* Appends s percent-encoded for an S3 URI path (A-Za-z0-9 - _ . ~ and / kept), or for
 * a query value (/ encoded too), as SigV4 wants them. 0 or BT_ENOMEM. */
int bt_s3_encode_path(bt_buf *out, const char *s);
int bt_s3_encode_query(bt_buf *out, const char *s);

/* ------------------------------------------------------------ ListObjectsV2 -- */

typedef struct bt_s3_object {
    const char *key;
    const char *etag; /* quotes removed; "" when absent */
    uint64_t size;
    int64_t last_modified_ms;  /* 0 when absent or unreadable */
    const char *storage_class; /* NULL when absent */
} bt_s3_object;

typedef struct bt_s3_list_page {
    const char *name;      /* the bucket, NULL when absent */
    const char *prefix;    /* NULL when absent */
    bt_s3_object *objects; /* Contents, in the reply's (key) order */
    size_t nobjects;
    const char **prefixes; /* CommonPrefixes/Prefix */
    size_t nprefixes;
    int truncated;          /* IsTruncated */
    const char *next_token; /* NextContinuationToken, NULL when absent */
    long key_count;         /* KeyCount, -1 when absent */
} bt_s3_list_page;

/* Caps of the reply parser: document size, text of one element, entries of a page. */
#define BT_S3_LIST_MAX_BYTES ((size_t)64 << 20)
#define BT_S3_LIST_MAX_TEXT 8192
#define BT_S3_LIST_MAX_ENTRIES 100000

/*
 * Parses a ListObjectsV2 (or ListObjects) reply. Everything lands in arena. Keys and
 * prefixes are URL-decoded when the reply says <EncodingType>url</EncodingType>. A
 * document whose root is not ListBucketResult is BT_EPARSE (an <Error> root names its
 * code and message); DTDs declaring entities are refused; caps give BT_ELIMIT.
 */
int bt_s3_list_parse(bt_arena *arena, const char *xml, size_t len, bt_s3_list_page *out,
                     bt_error *err);

/* ------------------------------------------------------------------ bucket -- */

typedef struct bt_s3_bucket bt_s3_bucket;

/* A bucket handle; the region starts as the client's (us-east-1 when it has none) and
 * follows redirects. name is copied. BT_EINVAL for an invalid name. */
int bt_s3_bucket_new(bt_s3_bucket **out, bt_aws_client *c, const char *name,
                     bt_s3_addressing addressing, bt_error *err);
void bt_s3_bucket_free(bt_s3_bucket *b); /* accepts NULL */
const char *bt_s3_bucket_name(const bt_s3_bucket *b);
/* The region requests currently go to (copied into out). */
void bt_s3_bucket_region(bt_s3_bucket *b, char *out, size_t cap);

typedef struct bt_s3_list_request {
    const char *prefix;             /* NULL = none */
    const char *delimiter;          /* NULL = none */
    const char *start_after;        /* NULL = none */
    const char *continuation_token; /* NULL on the first page */
    int max_keys;                   /* 0 = the service's default (1000) */
} bt_s3_list_request;

/* One ListObjectsV2 page (encoding-type=url, decoded); page and its strings live in
 * arena. Errors: BT_EAWS (err->aws_code: NoSuchBucket, AccessDenied, ...), BT_EHTTP,
 * BT_ECRED, BT_ECONFIG, BT_EPARSE (a reply that is not a listing). */
int bt_s3_list_objects(bt_aws_client *c, bt_s3_bucket *b, const bt_s3_list_request *req,
                       bt_arena *arena, bt_s3_list_page *page, bt_error *err);

/* GetObject: the body replaces the contents of *body. if_match (an ETag, quotes
 * optional; NULL = none) makes S3 refuse a newer version (BT_EAWS, aws_code
 * "PreconditionFailed"). */
int bt_s3_get_object(bt_aws_client *c, bt_s3_bucket *b, const char *key, const char *if_match,
                     bt_buf *body, bt_error *err);

/* Does err (from a call above) mean that other requests to the bucket will fail the
 * same way: credentials refused or missing, access denied, no such bucket, bad
 * configuration? (A corrupt object, a vanished key or a transient failure is not.) */
int bt_s3_error_is_fatal(const bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
