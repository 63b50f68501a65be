/*
 * buildtrail/aws.h - calling AWS natively, the way AWS CLI v2 does: configuration
 * (profiles, region, endpoints), the credential chain, SigV4-signed requests over
 * libcurl with the "standard" retry mode and a per-operation rate limit, and the
 * three clients the tool needs (CloudTrail LookupEvents, CodeBuild BatchGetBuilds,
 * STS GetCallerIdentity).
 *
 * Threads: a bt_aws_client owns one HTTP connection and must be used by one thread
 * at a time. bt_aws_client_clone() makes another client for another thread that
 * shares the configuration, the credential cache, the retry quota and the rate
 * limiters (all thread-safe).
 *
 * Secrets: no secret key, session token, signature or credential document ever
 * appears in a bt_error message or in the debug log.
 *
 * Errors: BT_ECONFIG (no region, bad profile, bad endpoint), BT_ECRED (no
 * credentials or a credential source failed), BT_EHTTP (transport), BT_EAWS (the
 * service answered with an error: err->aws_code and err->http_status are set, the
 * message reads "<Operation>: <Code> (HTTP <status>): <message> [request id <id>]"; the
 * parts are in err->aws_message, err->request_id, err->attempts and
 * err->retries_exhausted as well: read those, not the message).
 */
#ifndef BT_AWS_H
#define BT_AWS_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws_sigv4.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ logging -- */

/* Receives one debug line (no trailing newline). Secrets are already redacted. */
typedef void (*bt_aws_log_fn)(void *payload, const char *line);

/* -------------------------------------------------------------- credentials -- */

typedef struct bt_aws_creds {
    char *access_key_id;     /* heap; NULL when empty */
    char *secret_access_key; /* heap */
    char *session_token;     /* heap; NULL when the credentials have none */
    int64_t expiration;      /* epoch seconds; 0 = does not expire */
    char source[64];         /* provider: "env", "shared-credentials-file",
                                "config-file", "credential-process", "assume-role",
                                "assume-role-with-web-identity", "container-role",
                                "iam-role", "static" */
    char account_id[16];     /* when the source tells it, else "" */
} bt_aws_creds;

/* Wipes and frees the strings; leaves *c zeroed. Accepts NULL. */
void bt_aws_creds_dispose(bt_aws_creds *c);
/* Deep copy into dst (dst is overwritten, not disposed). 0 or BT_ENOMEM. */
int bt_aws_creds_copy(bt_aws_creds *dst, const bt_aws_creds *src);
/* Sets dst from strings (copied); token may be NULL. 0 or BT_ENOMEM. */
int bt_aws_creds_set(bt_aws_creds *dst, const char *akid, const char *secret, const char *token,
                     int64_t expiration, const char *source);

/* Asks for an MFA code for mfa_serial (AssumeRole with mfa_serial). Writes the code
 * NUL-terminated into code and returns 0, or returns nonzero to refuse. */
typedef int (*bt_aws_mfa_fn)(void *payload, const char *mfa_serial, char *code, size_t cap);

/* ------------------------------------------------------------------- config -- */

typedef struct bt_aws_config {
    const char *profile;       /* --profile; NULL = AWS_PROFILE, AWS_DEFAULT_PROFILE,
                                  "default" */
    const char *region;        /* --region; NULL = AWS_REGION, AWS_DEFAULT_REGION,
                                  profile region */
    const char *endpoint_url;  /* --endpoint-url: every API call this client makes
                                  (not the credential provider's STS calls) */
    int use_fips;              /* -1 = AWS_USE_FIPS_ENDPOINT / use_fips_endpoint */
    int use_dualstack;         /* -1 = AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint */
    int max_attempts;          /* 0 = AWS_MAX_ATTEMPTS / max_attempts / 3 */
    long connect_timeout_ms;   /* 0 = 60000, like the AWS CLI */
    long read_timeout_ms;      /* 0 = 60000 */
    size_t max_body;           /* response body cap; 0 = 256 MiB */
    const char *ca_bundle;     /* NULL = AWS_CA_BUNDLE / ca_bundle / system store */
    const char *user_agent;    /* NULL = "buildtrail" */
    double lookup_events_rate; /* LookupEvents requests per second per (credential,
                                  region); 0 = 2.0; negative = unlimited */
    bt_aws_log_fn log;         /* debug log sink; NULL = none */
    void *log_payload;
    bt_aws_mfa_fn mfa; /* MFA code prompt; NULL = profiles needing MFA fail */
    void *mfa_payload;
} bt_aws_config;

#define BT_AWS_CONFIG_INIT                                                                         \
    {                                                                                              \
        NULL, NULL, NULL, -1, -1, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL                \
    }

/* ---------------------------------------------------------------- endpoints -- */

typedef struct bt_aws_endpoint {
    char url[512]; /* scheme://host[:port][/path], no trailing '/' */
    char signing_region[64];
    char signing_name[32];
    char partition[32]; /* "aws", "aws-cn", "aws-us-gov", ... ("" for a custom url) */
} bt_aws_endpoint;

/* Partition of a region (exact region list first, then the partitions' regexes,
 * else "aws"). Static string. */
const char *bt_aws_partition(const char *region);

/*
 * Resolves the endpoint of service ("cloudtrail", "codebuild", "sts", "s3") in
 * region, following the services' endpoint rule sets: FIPS ("<svc>-fips."),
 * dual-stack (the partition's dualStackDnsSuffix), GovCloud CloudTrail/STS FIPS
 * exceptions. sts_global = 1 uses sts.amazonaws.com for the legacy global regions.
 * Returns BT_ECONFIG with the rule set's message ("Invalid Configuration: Missing
 * Region", ...) on failure.
 */
int bt_aws_endpoint_resolve(const char *service, const char *region, int fips, int dualstack,
                            int sts_global, bt_aws_endpoint *out, bt_error *err);

/* ------------------------------------------------------------------- client -- */

typedef struct bt_aws_client bt_aws_client;

/*
 * Creates a client: reads ~/.aws/config and ~/.aws/credentials (or
 * AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), selects the profile, resolves
 * the region (may stay unset: calls then fail with BT_ECONFIG) and settings.
 * Credentials are resolved lazily, on the first call. cfg is copied.
 * Errors: BT_ECONFIG (a named profile that does not exist, unreadable or malformed
 * config file), BT_ENOMEM.
 */
int bt_aws_client_new(bt_aws_client **out, const bt_aws_config *cfg, bt_error *err);
/* Another client sharing everything but the HTTP connection (for another thread). */
int bt_aws_client_clone(bt_aws_client **out, bt_aws_client *parent, bt_error *err);
void bt_aws_client_free(bt_aws_client *c); /* accepts NULL */

/* Borrowed strings, valid for the client's life. Region may be NULL. */
const char *bt_aws_client_region(const bt_aws_client *c);
const char *bt_aws_client_profile(const bt_aws_client *c);

/* Overrides the endpoint of one service ("cloudtrail", ...) for this client and its
 * clones; url NULL removes the override. 0, BT_EINVAL (not http/https) or BT_ENOMEM. */
int bt_aws_client_set_endpoint(bt_aws_client *c, const char *service, const char *url,
                               bt_error *err);
/* Sets the rate limit of one operation (requests per second per credential and
 * region; <= 0 = unlimited). Shared with clones. 0 or BT_ENOMEM. */
int bt_aws_client_set_rate(bt_aws_client *c, const char *operation, double per_second);

/* Resolves (or returns cached, refreshing within 5 minutes of expiry) credentials
 * and copies them into out (bt_aws_creds_dispose it). BT_ECRED names the sources
 * tried when none has credentials. */
int bt_aws_client_credentials(bt_aws_client *c, bt_aws_creds *out, bt_error *err);

/* Resolves the endpoint a call to service would use (overrides included). */
int bt_aws_client_endpoint(bt_aws_client *c, const char *service, bt_aws_endpoint *out,
                           bt_error *err);

/* ------------------------------------------------------------- raw calls -- */

typedef struct bt_aws_response {
    long http_status;
    bt_buf body;            /* raw response body */
    char request_id[128];   /* x-amzn-RequestId / x-amz-request-id, else "" */
    char bucket_region[64]; /* x-amz-bucket-region, else "" */
    int attempts;           /* attempts made (1 = no retry) */
} bt_aws_response;

void bt_aws_response_init(bt_aws_response *r);
void bt_aws_response_dispose(bt_aws_response *r);

/*
 * JSON 1.1 call: POST / with X-Amz-Target "<target_prefix>.<op>" and body (a JSON
 * object; NULL = "{}"). The service (signing name and endpoint) is derived from the
 * target prefix: "CloudTrail_20131101" or
 * "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101" -> cloudtrail,
 * "CodeBuild_20161006" -> codebuild; unknown prefixes give BT_EINVAL (use
 * bt_aws_json_call_service). Retries per the standard mode. On success resp holds
 * the 2xx body. On a service error returns BT_EAWS with err->aws_code taken from
 * __type (after '#', before ':') or X-Amzn-ErrorType, and the message from
 * message/Message; resp then holds the error reply.
 */
int bt_aws_json_call(bt_aws_client *c, const char *target_prefix, const char *op, const char *body,
                     bt_aws_response *resp, bt_error *err);
int bt_aws_json_call_service(bt_aws_client *c, const char *service, const char *target_prefix,
                             const char *op, const char *body, size_t body_len,
                             bt_aws_response *resp, bt_error *err);

/* Query protocol call (STS and friends): POST / form body
 * "Action=<action>&Version=<version>[&<params>]" (params already form-encoded, may be
 * NULL). Errors from <Error><Code>/<Message>. */
int bt_aws_query_call(bt_aws_client *c, const char *service, const char *action,
                      const char *version, const char *params, bt_aws_response *resp,
                      bt_error *err);

/* REST call (S3 style): method, path (URI-encoded), query (encoded, no '?'), extra
 * headers, body. flags: BT_AWS_REST_S3 applies S3 signing rules. Errors from
 * <Error><Code>/<Message> or X-Amzn-ErrorType; a 3xx is an error too (S3 301
 * PermanentRedirect, see resp->bucket_region). */
enum { BT_AWS_REST_S3 = 1 << 0 };
typedef bt_sigv4_header bt_aws_header; /* name, value (borrowed) */
int bt_aws_rest_call(bt_aws_client *c, const char *service, const char *method, const char *path,
                     const char *query, const bt_aws_header *headers, size_t nheaders,
                     const void *body, size_t body_len, unsigned flags, bt_aws_response *resp,
                     bt_error *err);

/* ------------------------------------------------------ CloudTrail client -- */

/* LookupEvents attribute keys, in the API's spelling. */
#define BT_CT_ATTR_EVENT_ID "EventId"
#define BT_CT_ATTR_EVENT_NAME "EventName"
#define BT_CT_ATTR_READ_ONLY "ReadOnly"
#define BT_CT_ATTR_USERNAME "Username"
#define BT_CT_ATTR_RESOURCE_TYPE "ResourceType"
#define BT_CT_ATTR_RESOURCE_NAME "ResourceName"
#define BT_CT_ATTR_EVENT_SOURCE "EventSource"
#define BT_CT_ATTR_ACCESS_KEY_ID "AccessKeyId"

typedef struct bt_ct_lookup_request {
    const char *attr_key; /* one of BT_CT_ATTR_*, or NULL for none (any other key is
                             sent as is: the service answers
                             InvalidLookupAttributesException) */
    const char *attr_value;
    int64_t start_time;     /* epoch seconds, inclusive; 0 = unset */
    int64_t end_time;       /* epoch seconds, inclusive; 0 = unset */
    const char *category;   /* "insight" or NULL */
    int max_results;        /* 1..50; 0 = unset (service default 50) */
    const char *next_token; /* NULL on the first page */
} bt_ct_lookup_request;

typedef struct bt_ct_resource {
    const char *type; /* NULL when the service sent none/null */
    const char *name;
} bt_ct_resource;

typedef struct bt_ct_event {
    const char *event_id;
    const char *event_name;
    const char *read_only; /* "true"/"false" as the API sends it, or NULL */
    const char *access_key_id;
    double event_time; /* epoch seconds (may be fractional) */
    int has_event_time;
    const char *event_source;
    const char *username;
    bt_ct_resource *resources;
    size_t nresources;
    const char *cloudtrail_event; /* the embedded record (JSON text), or NULL */
    size_t cloudtrail_event_len;
    const bt_json *raw; /* this event's object in the reply */
} bt_ct_event;

typedef struct bt_ct_lookup_page {
    bt_ct_event *events; /* newest first, as the service orders them */
    size_t nevents;
    const char *next_token; /* NULL on the last page */
    const bt_json *raw;     /* the whole reply */
    char request_id[128];
} bt_ct_lookup_page;

/* Builds the LookupEvents request body (JSON) into out. 0, BT_EINVAL, BT_ENOMEM. */
int bt_ct_lookup_body(const bt_ct_lookup_request *req, bt_buf *out, bt_error *err);
/* Parses a LookupEvents reply; everything lives in arena (text must outlive it). */
int bt_ct_lookup_parse(bt_arena *arena, const char *text, size_t len, bt_ct_lookup_page *out,
                       bt_error *err);
/* One LookupEvents call (one page), rate limited. page and its strings live in
 * arena. */
int bt_ct_lookup_events(bt_aws_client *c, const bt_ct_lookup_request *req, bt_arena *arena,
                        bt_ct_lookup_page *page, bt_error *err);

/* Paging over LookupEvents (bt_ct_lookup_pages) and the query planner are in
 * buildtrail/lookup.h. */

/* ------------------------------------------------------- CodeBuild client -- */

typedef struct bt_cb_builds {
    const bt_json *builds;    /* array of Build objects (in arena) */
    const bt_json *not_found; /* array of ids, may be NULL */
    const bt_json *raw;
    char request_id[128];
} bt_cb_builds;

/* BatchGetBuilds for 1..100 ids ("project:uuid" or build ARNs); reply in arena. */
int bt_cb_batch_get_builds(bt_aws_client *c, const char *const *ids, size_t nids, bt_arena *arena,
                           bt_cb_builds *out, bt_error *err);

/* ------------------------------------------------------------- STS client -- */

typedef struct bt_sts_identity {
    char account[32];
    char arn[512];
    char user_id[256];
} bt_sts_identity;

int bt_sts_get_caller_identity(bt_aws_client *c, bt_sts_identity *out, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
