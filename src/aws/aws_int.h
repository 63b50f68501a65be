/*
 * aws_int.h - private interfaces shared by the files of src/aws: resolved settings,
 * shared config files (profiles), the request engine (sign, send, retry, parse
 * errors), the retry quota, the rate limiter, the credential provider, XML field
 * extraction and small helpers.
 */
#ifndef BT_AWS_INT_H
#define BT_AWS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/http.h"
#include "aws/ini.h"
#include "buildtrail/aws.h"

/* ------------------------------------------------------------- settings -- */

/* Everything resolved once at client creation; immutable afterwards. */
typedef struct bt_aws_settings {
    char *profile;        /* selected profile name */
    int profile_explicit; /* named by the caller (--profile) */
    char *region;         /* NULL when none could be resolved */
    int fips, dualstack;
    int sts_global; /* sts_regional_endpoints = legacy */
    int max_attempts;
    long connect_timeout_ms, read_timeout_ms;
    size_t max_body;
    char *ca_bundle;
    char *user_agent;
    char *endpoint_url; /* config endpoint_url (API calls only) */
    int ignore_configured_endpoints;
    double lookup_events_rate;
    bt_aws_log_fn log;
    void *log_payload;
    bt_aws_mfa_fn mfa;
    void *mfa_payload;
} bt_aws_settings;

/* printf-style debug line to the settings' log sink (no-op without one). */
void bt_aws_logf(const bt_aws_settings *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------- profiles -- */

typedef struct bt_aws_profiles {
    bt_ini *config; /* ~/.aws/config (NULL when absent) */
    bt_ini *creds;  /* ~/.aws/credentials (NULL when absent) */
    char *config_path;
    char *creds_path;
} bt_aws_profiles;

/* Loads both files (paths from AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, "~"
 * expanded; missing files are fine). BT_ECONFIG for unreadable/malformed files. */
int bt_aws_profiles_load(bt_aws_profiles **out, bt_error *err);
void bt_aws_profiles_free(bt_aws_profiles *p);
/* The config-file section of profile name ([profile name], or [default]). */
const bt_ini_section *bt_aws_profile_config(const bt_aws_profiles *p, const char *name);
/* The credentials-file section [name]. */
const bt_ini_section *bt_aws_profile_creds(const bt_aws_profiles *p, const char *name);
int bt_aws_profile_exists(const bt_aws_profiles *p, const char *name);
/* Merged lookup: the credentials file wins over the config file. */
const char *bt_aws_profile_get(const bt_aws_profiles *p, const char *name, const char *key);
/* The [sso-session name] section of the config file. */
const bt_ini_section *bt_aws_sso_session(const bt_aws_profiles *p, const char *name);
/* Value of "<service> = \n  <key> = v" inside [services <section>]. */
const char *bt_aws_services_get(const bt_aws_profiles *p, const char *section, const char *service,
                                const char *key);

/* ------------------------------------------------------- endpoint config -- */

/* The configured endpoint URL for service, per botocore's precedence:
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, [services] section of the profile,
 * profile endpoint_url; NULL when none (or ignore_configured_endpoint_urls). */
const char *bt_aws_configured_endpoint(const bt_aws_settings *s, const bt_aws_profiles *p,
                                       const char *service, char *buf, size_t cap);

/* -------------------------------------------------------- retry + quota -- */

typedef struct bt_aws_quota {
    pthread_mutex_t mu;
    int available;
    int max;
} bt_aws_quota;

#define BT_AWS_QUOTA_INITIAL 500
#define BT_AWS_RETRY_COST 5
#define BT_AWS_TIMEOUT_RETRY_COST 10
#define BT_AWS_NO_RETRY_INCREMENT 1
#define BT_AWS_MAX_BACKOFF 20.0

void bt_aws_quota_init(bt_aws_quota *q);
void bt_aws_quota_dispose(bt_aws_quota *q);
int bt_aws_quota_acquire(bt_aws_quota *q, int amount); /* 1 = acquired */
void bt_aws_quota_release(bt_aws_quota *q, int amount);

/* Is the AWS error code a throttling code (standard mode's list)? */
int bt_aws_is_throttling_code(const char *code);
/* Is the error code transient (RequestTimeout, ...)? */
int bt_aws_is_transient_code(const char *code);
/* The standard mode's decision for one failed attempt: status (0 = no response),
 * code ("" = none), transport (BT_HTTP_T_*). */
int bt_aws_is_retryable(long status, const char *code, int transport);
/* Delay before retry number `attempt` (attempt that failed, from 1):
 * r * min(2^(attempt-1), 20) with r in [0,1). */
double bt_aws_backoff(int attempt, double r);

/* ----------------------------------------------------------- rate limit -- */

typedef struct bt_ratelimit bt_ratelimit;

bt_ratelimit *bt_ratelimit_new(void);
void bt_ratelimit_free(bt_ratelimit *rl);
/* Rate for operation op in requests per second (<= 0 = unlimited). 0 / BT_ENOMEM. */
int bt_ratelimit_set_rate(bt_ratelimit *rl, const char *op, double per_second);
double bt_ratelimit_get_rate(bt_ratelimit *rl, const char *op);
/* Blocks until one request for (key, op) may go out; returns the seconds waited.
 * Token bucket of capacity 1 (no bursts); callers reserve in order, so concurrent
 * threads are spaced 1/rate apart. */
double bt_ratelimit_acquire(bt_ratelimit *rl, const char *key, const char *op);

/* ---------------------------------------------------------------- engine -- */

enum { BT_AWS_P_JSON = 1, BT_AWS_P_QUERY, BT_AWS_P_REST_XML, BT_AWS_P_PLAIN };

typedef int (*bt_aws_accept_fn)(void *payload, const char *body, size_t len, bt_error *err);

typedef struct bt_aws_req {
    bt_http *http;
    const bt_aws_settings *set;
    bt_aws_quota *quota; /* NULL: no quota accounting */
    int max_attempts;    /* 0 = set->max_attempts */
    bt_ratelimit *rl;    /* NULL: not rate limited */
    const char *rl_key;
    const bt_aws_creds *creds; /* NULL: unsigned request */
    const bt_aws_endpoint *ep;
    const char *method;
    const char *path; /* appended to the endpoint url's path */
    const char *query;
    const bt_http_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
    int protocol; /* BT_AWS_P_* (how to read an error reply) */
    unsigned sigv4_flags;
    const char *op; /* operation name for messages */
    int sensitive;  /* bodies hold credentials */
    /* Checks a 2xx body (NULL = any is fine): 0 accepts it; BT_EPARSE (err set) says
     * it cannot be read (cut or garbled), and the request is made again like after a
     * transient failure; another code ends the call with it. */
    bt_aws_accept_fn accept;
    void *accept_payload;
} bt_aws_req;

/* Sends r with retries. 0 on a 2xx reply (resp filled). BT_EAWS for an error reply
 * (err: aws_code, http_status, message), BT_EHTTP/BT_ELIMIT for transport. */
int bt_aws_send(const bt_aws_req *r, bt_aws_response *resp, bt_error *err);

/* Parses an error reply into code/message (for tests): protocol BT_AWS_P_*. */
void bt_aws_parse_error(int protocol, long status, const char *body, size_t len,
                        const char *errortype_header, char *code, size_t code_cap, char *msg,
                        size_t msg_cap);

/* ------------------------------------------------------------ credentials -- */

typedef struct bt_cred_provider bt_cred_provider;

typedef struct bt_cred_init {
    const bt_aws_settings *set;
    const bt_aws_profiles *prof;
} bt_cred_init;

int bt_cred_provider_new(bt_cred_provider **out, const bt_cred_init *init, bt_error *err);
void bt_cred_provider_free(bt_cred_provider *p);
/* Thread-safe: cached credentials, refreshed within BT_CRED_REFRESH_WINDOW seconds
 * of expiry (an advisory refresh that fails keeps still-valid credentials). */
int bt_cred_provider_get(bt_cred_provider *p, bt_aws_creds *out, bt_error *err);
#define BT_CRED_REFRESH_WINDOW 300

/* Parses a credential document (credential_process output, container/IMDS reply):
 * keys AccessKeyId, SecretAccessKey, SessionToken or Token, Expiration (ISO 8601),
 * AccountId, Version. want_version: require "Version": 1. */
int bt_cred_parse_json(const char *text, size_t len, int want_version, const char *source,
                       bt_aws_creds *out, bt_error *err);

/* -------------------------------------------------------------------- XML -- */

/* Text of the first element with each local name (namespace ignored) into vals[i]
 * (malloc'd, NULL if absent). Returns 0, BT_EPARSE (not XML), BT_ELIMIT, BT_ENOMEM. */
int bt_aws_xml_fields(const char *xml, size_t len, const char *const *names, size_t n, char **vals,
                      bt_error *err);

#ifdef XML_STATUS_ERROR /* files that include util/expat_dl.h (<expat.h>) */
/* A namespace-aware expat parser (separator ' ': "uri local") with user data and the
 * handlers set; entity declarations go to entity (which refuses them). NULL when out of
 * memory; freed with XML_ParserFree. */
XML_Parser bt_xml_parser_new(void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
                             XML_CharacterDataHandler text, XML_EntityDeclHandler entity);
#endif

/* ---------------------------------------------------------------- helpers -- */

/* ISO 8601 / RFC 3339 timestamp ("2024-05-01T12:00:00Z", fractional seconds and
 * +hh:mm offsets accepted) to epoch seconds; -1 on error. */
int64_t bt_aws_parse_iso8601(const char *s);
/* Appends s form-encoded (application/x-www-form-urlencoded as botocore writes it:
 * unreserved kept, everything else %XX). */
int bt_aws_form_encode(bt_buf *out, const char *s);
/* Splits a command line like POSIX shlex.split: whitespace, '...' and "..." quotes,
 * backslash escapes. argv is NULL-terminated; free with bt_aws_argv_free. */
int bt_aws_shell_split(const char *cmd, char ***argv, bt_error *err);
void bt_aws_argv_free(char **argv);
/* Reads a whole (small) file into out; BT_ELIMIT past max bytes. */
int bt_aws_read_small_file(const char *path, size_t max, bt_buf *out, bt_error *err);
/* getenv that treats "" as unset. */
const char *bt_aws_env(const char *name);
/* "true"/"false" (case-insensitive) -> 1/0, else -1. */
int bt_aws_bool(const char *s);
/* Sleeps for seconds (fractional). */
void bt_aws_sleep(double seconds);
/* Uniform random in [0,1). */
double bt_aws_random(void);

/* ------------------------------------------ clients with their own endpoint -- */

/* For service clients that address the endpoint themselves (S3: per-bucket region,
 * virtual-hosted hosts). The endpoint of service in region (NULL = the client's
 * region): a configured URL (override, --endpoint-url, AWS_ENDPOINT_URL_<SVC>, config)
 * is kept as is with region as its signing region and *custom (may be NULL) set to 1;
 * otherwise the rule-set endpoint of that region. */
int bt_aws_client_endpoint_in(bt_aws_client *c, const char *service, const char *region,
                              bt_aws_endpoint *out, int *custom, bt_error *err);
/* bt_aws_json_call_service whose 2xx body accept checks (see bt_aws_req.accept): an
 * unreadable reply is asked for again within the call's attempts. */
int bt_aws_json_call_accept(bt_aws_client *c, const char *service, const char *target_prefix,
                            const char *op, const char *body, size_t body_len,
                            bt_aws_accept_fn accept, void *accept_payload, bt_aws_response *resp,
                            bt_error *err);
/* One request to ep signed with the client's credentials, with its retries, quota and
 * debug log (bt_aws_send); op names the operation in messages. */
int bt_aws_client_send(bt_aws_client *c, const bt_aws_endpoint *ep, const char *op,
                       const char *method, const char *path, const char *query,
                       const bt_http_header *h, size_t nh, const void *body, size_t body_len,
                       int protocol, unsigned sigv4_flags, bt_aws_response *resp, bt_error *err);
/* The client's resolved settings (for bt_aws_logf). */
const bt_aws_settings *bt_aws_client_settings(const bt_aws_client *c);

#endif
