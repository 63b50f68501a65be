/*
 * buildtrail/aws_sigv4.h - AWS Signature Version 4: signing requests (client side)
 * and verifying signed requests (server side, for `buildtrail serve --auth`).
 *
 * The canonical request follows botocore's SigV4Auth: non-S3 paths have dot segments
 * and empty segments removed and are then percent-encoded (so an already encoded path
 * is encoded twice); S3 paths (BT_SIGV4_S3) are used as given, which must already be
 * encoded. Query parameters are decoded and re-encoded keeping only A-Za-z0-9-_.~,
 * then sorted by key and value. Header names are lowercased, values trimmed with
 * inner whitespace collapsed, repeated headers joined with ','; hop-by-hop headers
 * and User-Agent are never signed.
 *
 * Nothing here allocates except the bt_buf members of bt_sigv4_out. No secret is
 * ever written into an error message.
 */
#ifndef BT_AWS_SIGV4_H
#define BT_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One request header; both strings borrowed. */
typedef struct bt_sigv4_header {
    const char *name;
    const char *value;
} bt_sigv4_header;

/* A request to sign or verify. All pointers are borrowed. */
typedef struct bt_sigv4_request {
    const char *method;             /* "GET", "POST", ... */
    const char *path;               /* path as sent, e.g. "/" (NULL or "" means "/") */
    const char *query;              /* query string without '?', as sent; NULL = none */
    const bt_sigv4_header *headers; /* must contain Host */
    size_t nheaders;
    const void *body;
    size_t body_len;
    const char *payload_hash; /* NULL: hex SHA-256 of body; else used verbatim
                                 (e.g. "UNSIGNED-PAYLOAD") */
} bt_sigv4_request;

enum {
    /* S3 rules: path used verbatim; X-Amz-Content-SHA256 header added and signed. */
    BT_SIGV4_S3 = 1 << 0,
    /* Add X-Amz-Security-Token after signing instead of signing it
       (the suite's post-sts-header-after case; no AWS service needs this). */
    BT_SIGV4_TOKEN_UNSIGNED = 1 << 1
};

typedef struct bt_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when the credentials have none */
    const char *region;        /* signing region, e.g. "us-east-1" */
    const char *service;       /* signing name, e.g. "cloudtrail" */
    const char *amz_date;      /* "YYYYMMDDTHHMMSSZ"; NULL = now. Ignored when the
                                  request already has an X-Amz-Date header. */
    unsigned flags;            /* BT_SIGV4_* */
} bt_sigv4_params;

#define BT_SIGV4_MAX_ADD 4

/* The result of signing. Initialise with bt_sigv4_out_init, release with
 * bt_sigv4_out_dispose (which also wipes the buffers). */
typedef struct bt_sigv4_out {
    char amz_date[17];     /* the timestamp signed */
    char signature[65];    /* lowercase hex */
    char payload_hash[80]; /* the payload hash line of the canonical request */
    bt_buf canonical_request;
    bt_buf string_to_sign;
    bt_buf authorization;  /* value of the Authorization header */
    bt_buf signed_headers; /* e.g. "host;x-amz-date" */
    /* Headers the caller must add to the request it sends (X-Amz-Date when it was
     * absent, X-Amz-Security-Token, X-Amz-Content-SHA256, Authorization). Names are
     * static strings; values point into this struct or into params (the token). */
    bt_sigv4_header add[BT_SIGV4_MAX_ADD];
    size_t nadd;
} bt_sigv4_out;

void bt_sigv4_out_init(bt_sigv4_out *out);
void bt_sigv4_out_dispose(bt_sigv4_out *out);

/* Signs req. Returns 0, BT_EINVAL (missing method/host/keys/region/service, bad
 * amz_date) or BT_ENOMEM. */
int bt_sigv4_sign(const bt_sigv4_request *req, const bt_sigv4_params *params, bt_sigv4_out *out,
                  bt_error *err);

/* Current UTC time as "YYYYMMDDTHHMMSSZ" (buf must hold 17 bytes). */
void bt_sigv4_now(char buf[17]);
/* Formats epoch seconds as "YYYYMMDDTHHMMSSZ". */
void bt_sigv4_format_date(int64_t epoch, char buf[17]);
/* Lowercase hex SHA-256 of data into hex (65 bytes, NUL-terminated). */
void bt_sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- server side ---- */

/*
 * Finds the secret for an access key id. Writes it NUL-terminated into secret
 * (cap bytes) and returns 0, or returns BT_ENOTFOUND for an unknown key.
 */
typedef int (*bt_sigv4_secret_fn)(void *payload, const char *access_key_id, char *secret,
                                  size_t cap);

typedef struct bt_sigv4_verify_opts {
    int64_t now;               /* epoch seconds; 0 = time(NULL) */
    int max_skew;              /* seconds; 0 = 900 (15 minutes) */
    const char *service;       /* if set, the credential scope's service must match */
    const char *region;        /* if set, the credential scope's region must match */
    unsigned flags;            /* BT_SIGV4_S3 for S3 path rules */
    bt_sigv4_secret_fn lookup; /* required */
    void *payload;             /* passed to lookup */
} bt_sigv4_verify_opts;

typedef struct bt_sigv4_verified {
    char access_key_id[129];
    char date[9]; /* scope date YYYYMMDD */
    char region[64];
    char service[64];
    char amz_date[17];
    int has_session_token; /* an X-Amz-Security-Token header was signed */
} bt_sigv4_verified;

/*
 * Checks the Authorization header of req (header form, AWS4-HMAC-SHA256): the
 * credential scope, the X-Amz-Date within max_skew of now, that the scope date is
 * the X-Amz-Date's day, that every signed header is present (host always), the
 * payload hash (X-Amz-Content-SHA256 when present must match the body unless it is
 * UNSIGNED-PAYLOAD), and the signature (constant-time compare).
 *
 * Returns 0 and fills out (may be NULL), or BT_EAUTH with err->aws_code set to the
 * JSON-protocol error type a service would answer and err->http_status:
 *   MissingAuthenticationTokenException (403)  no Authorization header
 *   IncompleteSignatureException (400)         malformed header, missing X-Amz-Date,
 *                                              unsigned host, wrong scope
 *   UnrecognizedClientException (403)          unknown access key id
 *   InvalidSignatureException (403)            mismatch, or "Signature expired" skew
 * BT_ENOMEM on allocation failure; BT_EINVAL when opts->lookup is NULL.
 */
int bt_sigv4_verify(const bt_sigv4_request *req, const bt_sigv4_verify_opts *opts,
                    bt_sigv4_verified *out, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
