/*
 * tools/gen.c - bt-gen: deterministic synthetic CloudTrail archive generator.
 *
 * Writes a trail archive (S3 layout: AWSLogs/[o-id/]<acct>/CloudTrail/<region>/...
 * .json.gz log files plus hourly CloudTrail-Digest files), optional EventBridge
 * ndjson files and a ground-truth JSON describing every CodeBuild build in it, so
 * tests and benchmarks can check buildtrail's answers. Same arguments give
 * byte-identical output: all randomness comes from our own PRNGs seeded by --seed
 * and by stable indices (never time() or rand()). The main thread renders records;
 * worker threads gzip (libdeflate), hash (SHA-256) and write the files.
 * See docs/generator.md for options, layout and the ground-truth schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#ifdef BT_GEN_ISAL /* optional: build with -DBT_GEN_ISAL and link -lisal for --gzip isal */
#include <isa-l/igzip_lib.h>
#endif

/* ------------------------------------------------------------------------- */
/* Failure: this is a tool, so fatal errors print one line and exit.          */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("bt-gen: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        die("out of memory (%zu x %zu bytes)", n, sz);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------------- */
/* PRNG: splitmix64 for seeding and hashing, xoshiro256** for streams.        */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Mixes a seed with a tag and an index into an independent 64-bit seed. */
static uint64_t mix3(uint64_t seed, uint64_t tag, uint64_t idx)
{
    uint64_t x = seed ^ (tag * 0xd1b54a32d192ed03ULL);
    (void)splitmix64(&x);
    x ^= idx * 0x8cb92ba72f3d8dd7ULL;
    return splitmix64(&x);
}

static void rng_seed(rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0 (Lemire's multiply-shift, bias negligible here). */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

static inline double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline int rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Picks an index from integer weights. */
static int rng_weighted(rng *r, const int *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    int x = (int)rng_below(r, (uint32_t)total);
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

#define PICK(r, arr) ((arr)[rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])
#define NELEM(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

/* ------------------------------------------------------------------------- */
/* Output buffer: growable, no cap (records are small, files bounded).        */

typedef struct ob {
    char *p;
    size_t n, cap;
} ob;

static void ob_grow(ob *b, size_t extra)
{
    size_t want = b->n + extra + 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < want)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static inline void ob_reserve(ob *b, size_t extra)
{
    if (b->n + extra + 1 > b->cap)
        ob_grow(b, extra);
}

static inline void ob_put(ob *b, const void *s, size_t len)
{
    ob_reserve(b, len);
    memcpy(b->p + b->n, s, len);
    b->n += len;
}

static inline void ob_puts(ob *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

static inline void ob_c(ob *b, char c)
{
    ob_reserve(b, 1);
    b->p[b->n++] = c;
}

#define PUTL(b, lit) ob_put((b), (lit), sizeof(lit) - 1)

static void ob_free(ob *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* NUL-terminates without counting the NUL. */
static const char *ob_cstr(ob *b)
{
    ob_reserve(b, 1);
    b->p[b->n] = '\0';
    return b->p;
}

static void ob_u(ob *b, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ob_put(b, tmp + i, (size_t)(24 - i));
}

static void ob_i(ob *b, int64_t v)
{
    if (v < 0) {
        ob_c(b, '-');
        ob_u(b, (uint64_t)(-(v + 1)) + 1);
    } else {
        ob_u(b, (uint64_t)v);
    }
}

static void ob_printf(ob *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_printf(ob *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("internal formatting error");
    ob_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Appends s as JSON string content (no quotes), escaping what JSON requires. */
static void ob_esc(ob *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ob_put(b, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"': PUTL(b, "\\\""); break;
        case '\\': PUTL(b, "\\\\"); break;
        case '\n': PUTL(b, "\\n"); break;
        case '\t': PUTL(b, "\\t"); break;
        case '\r': PUTL(b, "\\r"); break;
        default:
            PUTL(b, "\\u00");
            ob_c(b, hexd[c >> 4]);
            ob_c(b, hexd[c & 15]);
        }
    }
    ob_put(b, run, (size_t)(s - run));
}

/* "string" with escaping. */
static void ob_qs(ob *b, const char *s)
{
    ob_c(b, '"');
    ob_esc(b, s);
    ob_c(b, '"');
}

/* ------------------------------------------------------------------------- */
/* Time: epoch seconds <-> civil UTC, ISO and Java-style renderings.          */

typedef struct civil {
    int y, mo, d, h, mi, s;
} civil;

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static civil to_civil(int64_t t)
{
    civil c;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t sod = t - days * 86400;
    c.h = (int)(sod / 3600);
    c.mi = (int)(sod / 60 % 60);
    c.s = (int)(sod % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.y = (int)(y + (c.mo <= 2));
    return c;
}

static inline void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

static inline void put4(char *p, int v)
{
    p[0] = (char)('0' + v / 1000);
    p[1] = (char)('0' + v / 100 % 10);
    p[2] = (char)('0' + v / 10 % 10);
    p[3] = (char)('0' + v % 10);
}

/* Writes "YYYY-MM-DDTHH:MM:SSZ" (20 chars) into p. A one-entry cache makes
 * runs of equal or nearby times cheap. */
static void fmt_iso(char *p, int64_t t)
{
    static __thread int64_t cache_day = INT64_MIN;
    static __thread char cache[11];
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    if (day != cache_day) {
        civil c = to_civil(t);
        put4(cache, c.y);
        cache[4] = '-';
        put2(cache + 5, c.mo);
        cache[7] = '-';
        put2(cache + 8, c.d);
        cache[10] = 'T';
        cache_day = day;
    }
    memcpy(p, cache, 11);
    int sod = (int)(t - day * 86400);
    put2(p + 11, sod / 3600);
    p[13] = ':';
    put2(p + 14, sod / 60 % 60);
    p[16] = ':';
    put2(p + 17, sod % 60);
    p[19] = 'Z';
}

static void ob_iso(ob *b, int64_t t)
{
    ob_reserve(b, 20);
    fmt_iso(b->p + b->n, t);
    b->n += 20;
}

/* "\"YYYY-MM-DDTHH:MM:SSZ\"" */
static void ob_qiso(ob *b, int64_t t)
{
    ob_reserve(b, 22);
    b->p[b->n] = '"';
    fmt_iso(b->p + b->n + 1, t);
    b->p[b->n + 21] = '"';
    b->n += 22;
}

static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Java-style date as CloudTrail responseElements show it today ("Oct 1, 2026,
 * 4:15:32 PM", comma after the year) or as EventBridge details and older records
 * show it ("Oct 1, 2026 4:15:32 PM"). */
static void ob_java(ob *b, int64_t t, int comma_after_year)
{
    civil c = to_civil(t);
    int h12 = c.h % 12 == 0 ? 12 : c.h % 12;
    ob_printf(b, "%s %d, %d%s %d:%02d:%02d %s", MONTHS[c.mo - 1], c.d, c.y,
              comma_after_year ? "," : "", h12, c.mi, c.s, c.h < 12 ? "AM" : "PM");
}

/* ------------------------------------------------------------------------- */
/* Identifiers.                                                               */

static const char HEX[] = "0123456789abcdef";
static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char B32U[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* UUID v4 text (36 chars) into p. */
static void fmt_uuid(char *p, rng *r)
{
    uint64_t a = rng_next(r), b = rng_next(r);
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 8 || i == 12)
            p[k++] = '-';
        p[k++] = HEX[(a >> (60 - 4 * i)) & 15];
    }
    for (int i = 0; i < 16; i++) {
        if (i == 0 || i == 4)
            p[k++] = '-';
        p[k++] = HEX[(b >> (60 - 4 * i)) & 15];
    }
    p[36] = '\0';
}

static void ob_uuid(ob *b, rng *r)
{
    char u[37];
    fmt_uuid(u, r);
    ob_put(b, u, 36);
}

/* n chars drawn from alphabet into p, NUL-terminated. */
static void fmt_chars(char *p, rng *r, const char *alphabet, int n)
{
    size_t al = strlen(alphabet);
    for (int i = 0; i < n; i++)
        p[i] = alphabet[rng_below(r, (uint32_t)al)];
    p[n] = '\0';
}

/* AWS-style unique id: prefix (AIDA, AROA, AKIA, ASIA) + base32 uppercase. */
static void fmt_awsid(char *p, rng *r, const char *prefix, int n)
{
    size_t pl = strlen(prefix);
    memcpy(p, prefix, pl);
    fmt_chars(p + pl, r, B32U, n);
}

static void ob_hex(ob *b, rng *r, int n)
{
    ob_reserve(b, (size_t)n);
    for (int i = 0; i < n; i++)
        b->p[b->n + i] = HEX[rng_below(r, 16)];
    b->n += (size_t)n;
}

static void ob_alnum(ob *b, rng *r, int n)
{
    ob_reserve(b, (size_t)n);
    for (int i = 0; i < n; i++)
        b->p[b->n + i] = ALNUM[rng_below(r, 62)];
    b->n += (size_t)n;
}

/* ------------------------------------------------------------------------- */
/* Options.                                                                   */

typedef struct opts {
    const char *out;
    uint64_t seed;
    int64_t events;
    int64_t builds; /* -1 = scale with events */
    int accounts;
    char **regions;
    int nregions;
    char *regions_arg;
    const char *start_arg;
    int64_t start; /* epoch seconds, 00:00Z */
    int days;
    const char *org;
    int eventbridge;
    const char *truth;
    int corrupt;
    int attacks; /* --attacks: CodeBuild attack scenarios (rules/codebuild) */
    int jobs;
    int level;
    int isal; /* --gzip isal */
} opts;

static opts O;

/* ------------------------------------------------------------------------- */
/* The world: accounts, people, roles, projects, pipelines.                   */

enum { PR_IAM, PR_SSO, PR_BOT };
enum { UA_CLI_MAC, UA_CLI_LINUX, UA_CONSOLE, UA_BOTO3, UA_JAVA, UA_TERRAFORM };

typedef struct role {
    char name[96];
    char path[48]; /* "/" or "/service-role/" ... */
    char id[24];   /* AROA... */
} role;

typedef struct principal {
    int kind;
    char name[64];       /* IAM user name, or SSO session name (email) */
    char initiator[160]; /* what CodeBuild records as the build's initiator */
    char arn[200];       /* userIdentity.arn */
    char id[24];         /* AIDA... (IAM) */
    char akid[24];       /* AKIA... (IAM) */
    role sso;            /* PR_SSO: the permission-set role */
    char ip[20];
    int ua;
    char ident[640]; /* PR_IAM/PR_BOT: full userIdentity JSON */
} principal;

enum { ST_CFN, ST_ECS, ST_LAMBDA, ST_STATIC, NSTYLES };
enum { SRC_GITHUB, SRC_CODECOMMIT, SRC_S3 };

typedef struct project {
    char name[40];
    int acct, region, stream;
    int style;
    int src_type;
    char src_loc[160];
    const char *image;
    const char *compute;
    int timeout_min;
    role roles[3];
    int cur_role;
    int pipeline; /* index into pipes[], -1 if none */
    int created_in_window;
    int64_t created_t;
    int next_number;
    int next_batch_number;
    int nbuilds;
    int64_t last_start;
    int recent[8]; /* recent build indices (ring), for RetryBuild */
    int nrecent;
} project;

typedef struct pipeline {
    char name[64];
    role r;
    int project;
} pipeline;

#define NPRINC 7

typedef struct account {
    char id[13];
    char gh_org[32];
    principal pr[NPRINC];
    int first_project, nprojects;
    char kms_key[37];
    char trail_bucket[64];
    role lambda_roles[4];
    role mon_role;
    role ecs_task_role;
    role ec2_role;
} account;

typedef struct stream {
    int acct, region;
    char fingerprint[33];
    int64_t digest_off;
    double noise_weight;
} stream;

static account *ACC;
static project *PROJ;
static int NPROJ;
static pipeline *PIPE;
static int NPIPE;
static stream *STR;
static int NSTR;
static int64_t T0, T1; /* generated range [T0, T1) */
static char BUCKET[80];
static char TRAIL_NAME[48];

static const char *const USER_NAMES[] = {"alice", "bob.martin", "carol", "dmitri.k", "erin",
                                         "farid", "grace.h", "hector", "ines", "jun.park",
                                         "kwame", "lena", "marco", "nadia", "oskar"};
static const char *const SSO_NAMES[] = {"priya", "sam", "tomas", "uma", "victor", "wen",
                                        "yusuf", "zoe"};
static const char *const PROJECT_NAMES[] = {
    "web-api",       "payments-svc",  "infra-deploy", "frontend",      "auth-service",
    "data-pipeline", "notifications", "search-indexer", "mobile-backend", "billing-worker",
    "inventory-api", "ml-training",   "docs-site",    "edge-proxy",    "reporting-etl",
    "checkout",      "user-profile",  "audit-log",    "media-encoder", "feature-flags"};
static const char *const GH_ORGS[] = {"acme-corp", "globex", "initech", "umbrella-labs",
                                      "hooli", "wayne-ent", "stark-ind", "tyrell"};
static const char *const IMAGES[] = {"aws/codebuild/standard:7.0", "aws/codebuild/standard:6.0",
                                     "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                                     "aws/codebuild/amazonlinux2-aarch64-standard:3.0"};
static const char *const COMPUTES[] = {"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM",
                                       "BUILD_GENERAL1_LARGE"};
static const char *const LAMBDA_FNS[] = {"orders-handler", "thumbnail-resizer", "audit-forwarder",
                                         "slack-notifier"};

static const char *const UA_STR[] = {
    "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1018-aws md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.22 md/prompt#off",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.15.0-1064-aws md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144",
    "aws-sdk-java/1.12.661 Linux/5.10.217-205.860.amzn2.x86_64 "
    "OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS java/17.0.11 vendor/Amazon.com_Inc. "
    "cfg/retry-mode/standard",
    "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux "
    "lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64"};

static void role_arn(ob *b, const account *a, const role *r)
{
    PUTL(b, "arn:aws:iam::");
    ob_put(b, a->id, 12);
    PUTL(b, ":role");
    ob_puts(b, r->path);
    ob_puts(b, r->name);
}

static void make_role(role *r, rng *g, const char *path, const char *name)
{
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->name, sizeof r->name, "%s", name);
    fmt_awsid(r->id, g, "AROA", 17);
}

static void fmt_ip(char *p, size_t n, rng *g, int aws)
{
    static const int aws_a[] = {3, 18, 34, 35, 44, 52, 54};
    static const char *const user_nets[] = {"203.0.113", "198.51.100", "81.2.69", "192.0.2",
                                            "89.160.20"};
    if (aws)
        snprintf(p, n, "%d.%d.%d.%d", PICK(g, aws_a), (int)rng_range(g, 1, 254),
                 (int)rng_range(g, 0, 255), (int)rng_range(g, 1, 254));
    else
        snprintf(p, n, "%s.%d", PICK(g, user_nets), (int)rng_range(g, 2, 254));
}

/* Precomputes the userIdentity JSON of an IAM user. */
static void make_iam_ident(principal *p, const account *a)
{
    ob b = {0};
    PUTL(&b, "{\"type\":\"IAMUser\",\"principalId\":\"");
    ob_puts(&b, p->id);
    PUTL(&b, "\",\"arn\":\"");
    ob_puts(&b, p->arn);
    PUTL(&b, "\",\"accountId\":\"");
    ob_put(&b, a->id, 12);
    PUTL(&b, "\",\"accessKeyId\":\"");
    ob_puts(&b, p->akid);
    PUTL(&b, "\",\"userName\":\"");
    ob_puts(&b, p->name);
    PUTL(&b, "\"}");
    if (b.n >= sizeof p->ident)
        die("internal: identity too long");
    memcpy(p->ident, b.p, b.n);
    p->ident[b.n] = '\0';
    ob_free(&b);
}

static void setup_world(void)
{
    rng g;
    rng_seed(&g, mix3(O.seed, 0x301D, 0));
    ACC = xcalloc((size_t)O.accounts, sizeof *ACC);
    NSTR = O.accounts * O.nregions;
    STR = xcalloc((size_t)NSTR, sizeof *STR);
    PROJ = xcalloc((size_t)O.accounts * 8, sizeof *PROJ);
    PIPE = xcalloc((size_t)O.accounts * 8, sizeof *PIPE);

    for (int ai = 0; ai < O.accounts; ai++) {
        account *a = &ACC[ai];
        /* 12 digits, unique across accounts */
        for (;;) {
            a->id[0] = (char)('1' + rng_below(&g, 9));
            for (int i = 1; i < 12; i++)
                a->id[i] = (char)('0' + rng_below(&g, 10));
            a->id[12] = '\0';
            int dup = 0;
            for (int k = 0; k < ai; k++)
                dup |= !strcmp(ACC[k].id, a->id);
            if (!dup)
                break;
        }
        snprintf(a->gh_org, sizeof a->gh_org, "%s", GH_ORGS[(ai + rng_below(&g, 8)) % 8]);
        fmt_uuid(a->kms_key, &g);

        /* principals: 3 IAM humans, 2 SSO humans, 2 bots */
        int used[NELEM(USER_NAMES)] = {0};
        int sso_used[NELEM(SSO_NAMES)] = {0};
        char sso_admin[96], sso_power[96];
        {
            char h1[17], h2[17];
            fmt_chars(h1, &g, HEX, 16);
            fmt_chars(h2, &g, HEX, 16);
            snprintf(sso_admin, sizeof sso_admin, "AWSReservedSSO_AdministratorAccess_%s", h1);
            snprintf(sso_power, sizeof sso_power, "AWSReservedSSO_PowerUserAccess_%s", h2);
        }
        for (int pi = 0; pi < NPRINC; pi++) {
            principal *p = &a->pr[pi];
            if (pi < 3 || pi >= 5) {
                p->kind = pi < 3 ? PR_IAM : PR_BOT;
                if (pi < 3) {
                    int k;
                    do
                        k = (int)rng_below(&g, NELEM(USER_NAMES));
                    while (used[k]);
                    used[k] = 1;
                    snprintf(p->name, sizeof p->name, "%s", USER_NAMES[k]);
                    p->ua = rng_chance(&g, 0.6) ? UA_CLI_MAC : UA_CLI_LINUX;
                    fmt_ip(p->ip, sizeof p->ip, &g, 0);
                } else if (pi == 5) {
                    snprintf(p->name, sizeof p->name, "%s", "jenkins");
                    p->ua = UA_JAVA;
                    fmt_ip(p->ip, sizeof p->ip, &g, 1);
                } else {
                    snprintf(p->name, sizeof p->name, "%s",
                             rng_chance(&g, 0.5) ? "deploy-bot" : "terraform-ci");
                    p->ua = p->name[0] == 'd' ? UA_BOTO3 : UA_TERRAFORM;
                    fmt_ip(p->ip, sizeof p->ip, &g, 1);
                }
                fmt_awsid(p->id, &g, "AIDA", 17);
                fmt_awsid(p->akid, &g, "AKIA", 16);
                char tmp[200];
                snprintf(tmp, sizeof tmp, "arn:aws:iam::%s:user/%s", a->id, p->name);
                memcpy(p->arn, tmp, strlen(tmp) + 1);
                /* The Jenkins plugin reports itself as the initiator. */
                snprintf(tmp, sizeof tmp, "%s", pi == 5 ? "CodeBuild-Jenkins-Plugin" : p->name);
                memcpy(p->initiator, tmp, strlen(tmp) + 1);
                make_iam_ident(p, a);
            } else {
                p->kind = PR_SSO;
                int k;
                do
                    k = (int)rng_below(&g, NELEM(SSO_NAMES));
                while (sso_used[k]);
                sso_used[k] = 1;
                snprintf(p->name, sizeof p->name, "%s@example.com", SSO_NAMES[k]);
                make_role(&p->sso, &g, "/aws-reserved/sso.amazonaws.com/",
                          pi == 3 ? sso_admin : sso_power);
                char tmp[200];
                snprintf(tmp, sizeof tmp, "arn:aws:sts::%s:assumed-role/%s/%s", a->id, p->sso.name,
                         p->name);
                memcpy(p->arn, tmp, strlen(tmp) + 1);
                snprintf(tmp, sizeof tmp, "%s/%s", p->sso.name, p->name);
                memcpy(p->initiator, tmp, strlen(tmp) + 1);
                p->ua = rng_chance(&g, 0.5) ? UA_CONSOLE : UA_CLI_MAC;
                fmt_ip(p->ip, sizeof p->ip, &g, 0);
            }
        }

        /* noise roles */
        for (int i = 0; i < 4; i++) {
            char nm[96], sfx[9];
            fmt_chars(sfx, &g, "abcdefghijklmnopqrstuvwxyz0123456789", 8);
            snprintf(nm, sizeof nm, "%s-role-%s", LAMBDA_FNS[i], sfx);
            make_role(&a->lambda_roles[i], &g, "/service-role/", nm);
        }
        make_role(&a->mon_role, &g, "/", "DatadogIntegrationRole");
        make_role(&a->ecs_task_role, &g, "/", "ecsTaskExecutionRole");
        make_role(&a->ec2_role, &g, "/", "ec2-app-instance-role");

        /* projects */
        a->first_project = NPROJ;
        a->nprojects = 3 + (int)rng_below(&g, 4);
        if (a->nprojects < O.nregions) /* one project per region, up to 8 */
            a->nprojects = O.nregions < 8 ? O.nregions : 8;
        int pused[NELEM(PROJECT_NAMES)] = {0};
        for (int j = 0; j < a->nprojects; j++) {
            project *p = &PROJ[NPROJ];
            int k;
            do
                k = (int)rng_below(&g, NELEM(PROJECT_NAMES));
            while (pused[k]);
            pused[k] = 1;
            snprintf(p->name, sizeof p->name, "%s", PROJECT_NAMES[k]);
            p->acct = ai;
            p->region = (int)rng_below(&g, (uint32_t)O.nregions);
            if (j < O.nregions) /* every region of every account gets a project */
                p->region = j;
            p->stream = ai * O.nregions + p->region;
            p->style = !strcmp(p->name, "infra-deploy") ? ST_CFN : (int)rng_below(&g, NSTYLES);
            p->src_type = rng_chance(&g, 0.7) ? SRC_GITHUB : SRC_CODECOMMIT;
            if (p->src_type == SRC_GITHUB)
                snprintf(p->src_loc, sizeof p->src_loc, "https://github.com/%s/%s.git",
                         a->gh_org, p->name);
            else
                snprintf(p->src_loc, sizeof p->src_loc,
                         "https://git-codecommit.%s.amazonaws.com/v1/repos/%s",
                         O.regions[p->region], p->name);
            p->image = PICK(&g, IMAGES);
            p->compute = PICK(&g, COMPUTES);
            p->timeout_min = rng_chance(&g, 0.7) ? 60 : 30;
            char rn[96];
            snprintf(rn, sizeof rn, "codebuild-%s-service-role", p->name);
            make_role(&p->roles[0], &g, "/service-role/", rn);
            snprintf(rn, sizeof rn, "codebuild-%s-service-role-v2", p->name);
            make_role(&p->roles[1], &g, "/service-role/", rn);
            {
                char sfx[13];
                fmt_chars(sfx, &g, B32U, 12);
                snprintf(rn, sizeof rn, "CodeBuildDeployRole-%s", sfx);
                make_role(&p->roles[2], &g, "/", rn);
            }
            p->created_in_window = rng_chance(&g, 0.3);
            p->created_t = T0 - rng_range(&g, 2, 400) * 86400 - rng_range(&g, 0, 86399);
            p->next_number = 1 + (int)rng_below(&g, 400);
            p->next_batch_number = 1 + (int)rng_below(&g, 30);
            p->pipeline = -1;
            if (rng_chance(&g, 0.6)) {
                pipeline *pl = &PIPE[NPIPE];
                snprintf(pl->name, sizeof pl->name, rng_chance(&g, 0.5) ? "%s-pipeline" : "release-%s",
                         p->name);
                char prn[96];
                snprintf(prn, sizeof prn, "AWSCodePipelineServiceRole-%s-%s", O.regions[p->region],
                         pl->name);
                make_role(&pl->r, &g, "/service-role/", prn);
                pl->project = NPROJ;
                p->pipeline = NPIPE++;
            }
            NPROJ++;
        }
    }
    for (int s = 0; s < NSTR; s++) {
        STR[s].acct = s / O.nregions;
        STR[s].region = s % O.nregions;
        fmt_chars(STR[s].fingerprint, &g, HEX, 32);
        STR[s].digest_off = rng_range(&g, 0, 3599);
        STR[s].noise_weight = 0.7 + 0.6 * rng_unit(&g);
    }
    {
        char h[9];
        fmt_chars(h, &g, HEX, 8);
        snprintf(BUCKET, sizeof BUCKET, O.org ? "aws-cloudtrail-logs-%s-org-%s" : "aws-cloudtrail-logs-%s-%s",
                 ACC[0].id, h);
        snprintf(TRAIL_NAME, sizeof TRAIL_NAME, "%s", O.org ? "org-trail" : "management-events");
    }
}

/* ------------------------------------------------------------------------- */
/* Builds and batches: planned up front, in time order, from per-build seeds.  */

enum { T_USER, T_PIPELINE, T_WEBHOOK, T_RETRY, T_BATCH };
static const char *const TRIG_NAME[] = {"user", "pipeline", "webhook", "retry", "batch"};

enum {
    PH_SUBMITTED, PH_QUEUED, PH_PROVISIONING, PH_DOWNLOAD_SOURCE, PH_INSTALL, PH_PRE_BUILD,
    PH_BUILD, PH_POST_BUILD, PH_UPLOAD_ARTIFACTS, PH_FINALIZING, PH_COMPLETED, NPH
};
static const char *const PH_NAME[] = {"SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE",
                                      "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD",
                                      "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"};

enum { OUT_SUCCEEDED, OUT_FAILED, OUT_FAULT, OUT_TIMED_OUT, OUT_STOPPED };
static const char *const OUT_NAME[] = {"SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"};
/* phase status: 0 = phase skipped, else index+1 into OUT_NAME; PS_RUNNING = COMPLETED marker */
#define PS_RUNNING 9

enum { CH_CREATE, CH_ENV, CH_BUILDSPEC, CH_ROLE, CH_SOURCE, CH_VISIBILITY, CH_WEBHOOK, CH_CREDS };
static const char *const CH_EVENT[] = {"CreateProject", "UpdateProject", "UpdateProject",
                                       "UpdateProject", "UpdateProject", "UpdateProjectVisibility",
                                       "CreateWebhook", "ImportSourceCredentials"};
static const char *const CH_WHAT[] = {"create", "environment", "buildspec", "serviceRole",
                                      "source", "visibility", "webhook", "sourceCredentials"};

enum { OV_ENV = 1, OV_BUILDSPEC = 2, OV_IMAGE = 4, OV_COMPUTE = 8 };
static const char *const OV_NAME[] = {"environmentVariablesOverride", "buildspecOverride",
                                      "imageOverride", "computeTypeOverride"};

enum { EC_ACCESS_DENIED, EC_ACCESS_DENIED_EXC, EC_VALIDATION, EC_THROTTLING, NEC };
static const char *const EC_NAME[] = {"AccessDenied", "AccessDeniedException", "ValidationError",
                                      "ThrottlingException"};

typedef struct change {
    int64_t t;
    uint8_t kind, who, role_from, role_to;
} change;

typedef struct build {
    uint64_t seed;
    int project, stream, creation;
    char uuid[37];
    int64_t t_start;
    int8_t trigger, who, stop_by, outcome, fail_phase, eb, broken, uafam;
    int8_t attack; /* --attacks: AT_* scenario, 0 none */
    uint8_t overrides;
    int pipe;     /* pipeline index for T_PIPELINE (or batch started by a pipeline) */
    int retry_of; /* build index */
    int batch;    /* batch index */
    int number, role;
    int64_t pipe_ms;
    int64_t stop_t;
    char srcver[112];
    char hook[8];
    change ch[3];
    int nch;
    int64_t ph_start[NPH], ph_end[NPH];
    int8_t ph_status[NPH];
    int ncalls, nbgb;
    int64_t calls_end;
    /* counted while rendering */
    int errors, errc[NEC], late;
} build;

typedef struct batch {
    uint64_t seed;
    int project, stream, creation;
    char uuid[37];
    int64_t t_start;
    int8_t trigger, who;
    int pipe;
    int64_t pipe_ms;
    int number, role, nchildren;
    int child[4];
    char srcver[112];
    int late;
} batch;

static build *B;
static int NB;
static batch *BA;
static int NBA;

static int64_t sample_start(rng *g)
{
    int64_t lo = T0 + 3600, hi = T1 - 3 * 3600;
    for (;;) {
        int64_t t = lo + (int64_t)(rng_unit(g) * (double)(hi - lo));
        int h = (int)((t % 86400) / 3600);
        double w = (h >= 7 && h < 19) ? 1.0 : 0.35;
        if (rng_unit(g) < w)
            return t;
    }
}

/* A person for interactive actions: IAM humans, SSO sessions, sometimes bots. */
static int pick_human(rng *r)
{
    static const int w[NPRINC] = {10, 10, 10, 8, 8, 0, 4};
    return rng_weighted(r, w, NPRINC);
}

static int pick_starter(rng *r)
{
    static const int w[NPRINC] = {10, 10, 10, 8, 8, 10, 10};
    return rng_weighted(r, w, NPRINC);
}

static void make_srcver(char *out, size_t n, rng *r, int trigger, const project *p)
{
    char hex[41];
    fmt_chars(hex, r, HEX, 40);
    if (trigger == T_PIPELINE) {
        char obj[8];
        fmt_chars(obj, r, ALNUM, 7);
        const pipeline *pl = &PIPE[p->pipeline];
        snprintf(out, n, "arn:aws:s3:::codepipeline-%s-%s/%.20s/SourceArti/%s.zip",
                 O.regions[p->region], ACC[p->acct].id, pl->name, obj);
        return;
    }
    double u = rng_unit(r);
    if (trigger == T_WEBHOOK) {
        if (u < 0.7)
            snprintf(out, n, "%s", hex);
        else
            snprintf(out, n, "pr/%d", (int)rng_range(r, 12, 980));
        return;
    }
    static const char *const feats[] = {"feature/login-flow", "fix/timeout", "feature/new-api",
                                        "chore/deps", "release/2026.10"};
    if (u < 0.35)
        snprintf(out, n, "main");
    else if (u < 0.55)
        snprintf(out, n, "refs/heads/%s", PICK(r, feats));
    else if (u < 0.85)
        snprintf(out, n, "%s", hex);
    else
        snprintf(out, n, "pr/%d", (int)rng_range(r, 12, 980));
}

/* Integer in [lo, hi] with P(n) proportional to 1/n (discrete log-uniform), by
 * rejection with integer arithmetic only, so results do not depend on libm. */
static int64_t log_uniform(rng *r, int64_t lo, int64_t hi)
{
    for (;;) {
        int64_t n = rng_range(r, lo, hi);
        if ((int64_t)rng_below(r, (uint32_t)n) < lo)
            return n;
    }
}

static void plan_timeline(build *b, const project *p, rng *r)
{
    static const int lo[NPH] = {0, 0, 15, 2, 3, 2, 30, 2, 1, 2, 0};
    static const int hi[NPH] = {0, 15, 90, 20, 120, 60, 1500, 240, 15, 6, 0};
    double u = rng_unit(r);
    int out = OUT_SUCCEEDED, fail = -1;
    if (u < 0.03) {
        out = OUT_FAULT;
        fail = rng_chance(r, 0.5) ? PH_PROVISIONING : PH_DOWNLOAD_SOURCE;
    } else if (u < 0.18) {
        out = OUT_FAILED;
        double v = rng_unit(r);
        fail = v < 0.7 ? PH_BUILD : v < 0.9 ? PH_PRE_BUILD : PH_INSTALL;
    } else if (u < 0.20) {
        out = OUT_TIMED_OUT;
        fail = PH_BUILD;
    } else if (u < 0.26) {
        out = OUT_STOPPED;
        fail = PH_BUILD;
    }
    b->outcome = (int8_t)out;
    b->fail_phase = (int8_t)fail;
    b->broken = out == OUT_FAILED;
    int64_t t = b->t_start;
    int skipping = 0;
    for (int ph = 0; ph < PH_COMPLETED; ph++) {
        b->ph_start[ph] = b->ph_end[ph] = 0;
        b->ph_status[ph] = 0;
        if (skipping && ph != PH_FINALIZING &&
            !(out == OUT_FAILED && fail == PH_BUILD &&
              (ph == PH_POST_BUILD || ph == PH_UPLOAD_ARTIFACTS)))
            continue;
        int64_t dur;
        if (ph == PH_BUILD)
            dur = log_uniform(r, 30, 1500);
        else if (ph == PH_QUEUED && rng_chance(r, 0.05))
            dur = rng_range(r, 60, 600);
        else
            dur = rng_range(r, lo[ph], hi[ph]);
        int status = OUT_SUCCEEDED + 1;
        if (ph == fail) {
            status = out + 1;
            if (out == OUT_TIMED_OUT) {
                dur = (int64_t)p->timeout_min * 60 - (t - b->t_start);
                if (dur < 30)
                    dur = 30;
            } else if (out == OUT_STOPPED) {
                b->stop_t = t + rng_range(r, 10, dur > 12 ? dur - 1 : 11);
                dur = b->stop_t - t + rng_range(r, 1, 5);
            }
            skipping = 1;
        }
        b->ph_start[ph] = t;
        b->ph_end[ph] = t + dur;
        b->ph_status[ph] = (int8_t)status;
        t += dur;
    }
    b->ph_start[PH_COMPLETED] = t;
    b->ph_end[PH_COMPLETED] = t;
    b->ph_status[PH_COMPLETED] = PS_RUNNING;

    /* the window in which the build's own session makes calls */
    int64_t ce = 0;
    for (int ph = PH_INSTALL; ph <= PH_POST_BUILD; ph++)
        if (b->ph_status[ph])
            ce = b->ph_end[ph];
    if (out == OUT_STOPPED)
        ce = b->stop_t;
    b->calls_end = ce;
    if (out == OUT_FAULT)
        b->ncalls = fail == PH_DOWNLOAD_SOURCE ? 1 : 0;
    else if (rng_chance(r, 0.05))
        b->ncalls = 0;
    else
        b->ncalls = (int)log_uniform(r, 1, 200);
}

/* Project changes the build is "preceded by", between the project's previous build
 * and this one (never before the range). Applies serviceRole changes to p. */
static void plan_changes(build *b, project *p, rng *r)
{
    int64_t lo = T0 + 60, hi = b->t_start - 60;
    if (p->nbuilds == 0 && p->created_in_window) {
        change *c = &b->ch[b->nch++];
        int64_t clo = b->t_start - 3 * 3600;
        if (clo < lo)
            clo = lo;
        c->t = rng_range(r, clo, b->t_start - 600 > clo ? b->t_start - 600 : clo);
        c->kind = CH_CREATE;
        c->who = (uint8_t)pick_human(r);
        p->created_t = c->t;
        return;
    }
    if (p->nbuilds > 0 && p->last_start + 1 > lo)
        lo = p->last_start + 1;
    if (b->t_start - 6 * 3600 > lo)
        lo = b->t_start - 6 * 3600;
    if (hi - lo < 60 || !rng_chance(r, 0.22))
        return;
    int n = rng_chance(r, 0.25) ? 2 : 1;
    int64_t ts[2] = {rng_range(r, lo, hi), rng_range(r, lo, hi)};
    if (n == 2 && ts[1] < ts[0]) {
        int64_t x = ts[0];
        ts[0] = ts[1];
        ts[1] = x;
    }
    static const int w[] = {0, 35, 20, 8, 7, 8, 10, 12};
    for (int i = 0; i < n; i++) {
        change *c = &b->ch[b->nch++];
        c->t = ts[i];
        c->kind = (uint8_t)rng_weighted(r, w, NELEM(w));
        if (c->kind == CH_WEBHOOK && p->src_type != SRC_GITHUB)
            c->kind = CH_ENV;
        c->who = (uint8_t)pick_human(r);
        if (c->kind == CH_ROLE) {
            c->role_from = (uint8_t)p->cur_role;
            c->role_to = (uint8_t)((p->cur_role + 1) % 3);
            p->cur_role = c->role_to;
        }
    }
}

static int cmp_build(const void *x, const void *y)
{
    const build *a = x, *b = y;
    if (a->t_start != b->t_start)
        return a->t_start < b->t_start ? -1 : 1;
    return (a->creation > b->creation) - (a->creation < b->creation);
}

static void plan_builds(int64_t nbuilds)
{
    rng g;
    rng_seed(&g, mix3(O.seed, 0xB1D5, 0));
    B = xcalloc((size_t)nbuilds, sizeof *B);
    BA = xcalloc((size_t)nbuilds / 2 + 1, sizeof *BA);
    static const int tw[] = {30, 28, 20, 10, 8};
    while (NB < nbuilds) {
        int ai = (int)rng_below(&g, (uint32_t)O.accounts);
        const account *a = &ACC[ai];
        int pw[8];
        for (int j = 0; j < a->nprojects; j++)
            pw[j] = 24 / (j + 1);
        int pj = a->first_project + rng_weighted(&g, pw, a->nprojects);
        const project *p = &PROJ[pj];
        int trig = rng_weighted(&g, tw, NELEM(tw));
        int64_t t = sample_start(&g);
        if (trig == T_BATCH) {
            batch *ba = &BA[NBA];
            ba->creation = NBA;
            ba->seed = mix3(O.seed, 0xBA7C, (uint64_t)NBA);
            ba->project = pj;
            ba->stream = p->stream;
            ba->t_start = t;
            rng r;
            rng_seed(&r, ba->seed);
            fmt_uuid(ba->uuid, &r);
            ba->trigger = (p->pipeline >= 0 && rng_chance(&r, 0.4)) ? T_PIPELINE : T_USER;
            ba->who = (int8_t)pick_starter(&r);
            ba->pipe = ba->trigger == T_PIPELINE ? p->pipeline : -1;
            ba->pipe_ms = t * 1000 - rng_range(&r, 1000, 600000);
            make_srcver(ba->srcver, sizeof ba->srcver, &r, ba->trigger, p);
            int nch = 2 + (int)rng_below(&g, 3);
            if (nch > nbuilds - NB)
                nch = (int)(nbuilds - NB);
            ba->nchildren = nch;
            for (int i = 0; i < nch; i++) {
                build *b = &B[NB];
                b->creation = NB;
                b->seed = mix3(O.seed, 0xB17D, (uint64_t)NB);
                b->project = pj;
                b->stream = p->stream;
                b->trigger = T_BATCH;
                b->batch = NBA;
                b->t_start = t + 25 + 15 * i + rng_range(&g, 0, 10);
                NB++;
            }
            NBA++;
        } else {
            build *b = &B[NB];
            b->creation = NB;
            b->seed = mix3(O.seed, 0xB17D, (uint64_t)NB);
            b->project = pj;
            b->stream = p->stream;
            if (trig == T_PIPELINE && p->pipeline < 0)
                trig = T_USER;
            if (trig == T_WEBHOOK && p->src_type != SRC_GITHUB)
                trig = T_USER;
            b->trigger = (int8_t)trig;
            b->batch = -1;
            b->t_start = t;
            NB++;
        }
    }
    qsort(B, (size_t)NB, sizeof *B, cmp_build);
    for (int k = 0; k < NBA; k++)
        BA[k].nchildren = 0;
    for (int i = 0; i < NB; i++)
        if (B[i].trigger == T_BATCH) {
            batch *ba = &BA[B[i].batch];
            ba->child[ba->nchildren++] = i;
        }

    /* Sequential pass in time order: ids, numbers, roles, retries, changes. */
    for (int i = 0; i < NB; i++) {
        build *b = &B[i];
        project *p = &PROJ[b->project];
        rng r;
        rng_seed(&r, b->seed);
        fmt_uuid(b->uuid, &r);
        b->retry_of = -1;
        b->pipe = -1;
        if (b->trigger != T_BATCH)
            plan_changes(b, p, &r);
        if (b->trigger == T_BATCH) {
            batch *ba = &BA[b->batch];
            if (ba->number == 0) {
                ba->number = p->next_batch_number++;
                ba->role = p->cur_role;
            }
            b->role = ba->role;
            snprintf(b->srcver, sizeof b->srcver, "%s", ba->srcver);
        } else {
            b->role = p->cur_role;
        }
        if (b->trigger == T_RETRY) {
            /* the latest finished build of the project, preferring a failed one */
            int best = -1, best_failed = -1;
            for (int k = 0; k < p->nrecent; k++) {
                int c = p->recent[k];
                if (B[c].ph_start[PH_COMPLETED] + 60 > b->t_start)
                    continue;
                if (best < 0 || B[c].t_start > B[best].t_start)
                    best = c;
                if (B[c].outcome != OUT_SUCCEEDED &&
                    (best_failed < 0 || B[c].t_start > B[best_failed].t_start))
                    best_failed = c;
            }
            if (best_failed >= 0)
                best = best_failed;
            if (best < 0)
                b->trigger = T_USER;
            else {
                b->retry_of = best;
                memcpy(b->srcver, B[best].srcver, sizeof b->srcver);
            }
        }
        if (b->trigger == T_USER || b->trigger == T_RETRY)
            b->who = (int8_t)(b->trigger == T_RETRY ? pick_human(&r) : pick_starter(&r));
        if (b->trigger == T_PIPELINE) {
            b->pipe = p->pipeline;
            b->pipe_ms = b->t_start * 1000 - rng_range(&r, 1000, 600000);
        }
        if (b->trigger == T_USER || b->trigger == T_PIPELINE || b->trigger == T_WEBHOOK)
            make_srcver(b->srcver, sizeof b->srcver, &r, b->trigger, p);
        fmt_chars(b->hook, &r, HEX, 7);
        b->number = p->next_number++;
        plan_timeline(b, p, &r);
        if (b->trigger == T_USER) {
            if (rng_chance(&r, 0.30))
                b->overrides |= OV_ENV;
            if (rng_chance(&r, 0.10))
                b->overrides |= OV_BUILDSPEC;
            if (rng_chance(&r, 0.08))
                b->overrides |= OV_IMAGE;
            if (rng_chance(&r, 0.08))
                b->overrides |= OV_COMPUTE;
        } else if (b->trigger == T_PIPELINE && rng_chance(&r, 0.4)) {
            b->overrides |= OV_ENV;
        }
        if (b->outcome == OUT_STOPPED)
            b->stop_by = (int8_t)pick_human(&r);
        if (b->trigger == T_PIPELINE)
            b->nbgb = 1 + (int)rng_below(&r, 4);
        else if (b->trigger == T_USER && rng_chance(&r, 0.25))
            b->nbgb = 1 + (int)rng_below(&r, 2);
        else if (rng_chance(&r, 0.08))
            b->nbgb = 1;
        b->eb = (int8_t)rng_chance(&r, 0.7);
        b->uafam = (int8_t)(p->style == ST_CFN && rng_chance(&r, 0.5) ? 1 : rng_below(&r, 3) == 0 ? 2 : 0);
        p->recent[p->nrecent < 8 ? p->nrecent++ : (p->nbuilds % 8)] = i;
        p->nbuilds++;
        p->last_start = b->t_start;
    }
}

/* ------------------------------------------------------------------------- */
/* Counting unique events by name (for the ground truth).                     */

typedef struct name_count {
    const char *name;
    int64_t n;
} name_count;

static name_count NAMES[1024];

static void count_name(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (uint32_t i = h & 1023;; i = (i + 1) & 1023) {
        if (!NAMES[i].name) {
            NAMES[i].name = name;
            NAMES[i].n = 1;
            return;
        }
        if (NAMES[i].name == name || !strcmp(NAMES[i].name, name)) {
            NAMES[i].n++;
            return;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Record rendering: the common frame of a CloudTrail record.                 */

typedef struct ctx {
    int s;
    const stream *st;
    const account *a;
    const char *region;
    int is_use1;
    ob scratch; /* resources and other fragments */
    int64_t unique;
} ctx;

typedef struct rec {
    const char *ver;
    int64_t t;
    const char *src;
    const char *name;
    const char *region; /* NULL = the stream's region */
    const char *ip;
    const char *ua;
    const char *ua2; /* appended to ua, may be NULL */
    const char *err;
    const char *errmsg;
    int readonly; /* 0/1, -1 omit */
    int reqid;    /* 0 none, 1 uuid, 2 S3-style */
    const char *etype;
    int tls;
    const char *host;
    const char *resources; /* JSON array text or NULL */
    size_t resources_len;
    int console_cred;
    const char *svc_details; /* serviceEventDetails object text or NULL */
} rec;

static const char *pick_ver(rng *r)
{
    static const char *const v[] = {"1.08", "1.08", "1.08", "1.09", "1.09", "1.09",
                                    "1.10", "1.10", "1.11", "1.11"};
    return PICK(r, v);
}

static void rec_init(rec *r, rng *g, int64_t t, const char *src, const char *name)
{
    memset(r, 0, sizeof *r);
    r->ver = pick_ver(g);
    r->t = t;
    r->src = src;
    r->name = name;
    r->readonly = 1;
    r->reqid = 1;
    r->etype = "AwsApiCall";
    r->tls = 1;
}

static void rec_begin(ob *b, const rec *r)
{
    PUTL(b, "{\"eventVersion\":\"");
    ob_puts(b, r->ver);
    PUTL(b, "\",\"userIdentity\":");
}

static void rec_mid(ctx *c, ob *b, const rec *r)
{
    PUTL(b, ",\"eventTime\":");
    ob_qiso(b, r->t);
    PUTL(b, ",\"eventSource\":\"");
    ob_puts(b, r->src);
    PUTL(b, "\",\"eventName\":\"");
    ob_puts(b, r->name);
    PUTL(b, "\",\"awsRegion\":\"");
    ob_puts(b, r->region ? r->region : c->region);
    PUTL(b, "\",\"sourceIPAddress\":\"");
    ob_puts(b, r->ip);
    ob_c(b, '"');
    if (r->ua) {
        PUTL(b, ",\"userAgent\":\"");
        ob_esc(b, r->ua);
        if (r->ua2)
            ob_esc(b, r->ua2);
        ob_c(b, '"');
    }
    if (r->err) {
        PUTL(b, ",\"errorCode\":\"");
        ob_puts(b, r->err);
        PUTL(b, "\",\"errorMessage\":");
        ob_qs(b, r->errmsg);
    }
    PUTL(b, ",\"requestParameters\":");
    count_name(r->name);
    c->unique++;
}

static void ob_host(ob *b, const rec *r, const char *region)
{
    if (r->host) {
        ob_puts(b, r->host);
        return;
    }
    const char *dot = strchr(r->src, '.');
    size_t n = dot ? (size_t)(dot - r->src) : strlen(r->src);
    ob_put(b, r->src, n);
    if (!strcmp(r->src, "iam.amazonaws.com")) {
        PUTL(b, ".amazonaws.com");
        return;
    }
    ob_c(b, '.');
    ob_puts(b, region);
    PUTL(b, ".amazonaws.com");
}

static void rec_end(ctx *c, ob *b, const rec *r, rng *g)
{
    if (r->reqid == 1) {
        PUTL(b, ",\"requestID\":\"");
        ob_uuid(b, g);
        ob_c(b, '"');
    } else if (r->reqid == 2) {
        PUTL(b, ",\"requestID\":\"");
        ob_reserve(b, 16);
        for (int i = 0; i < 16; i++)
            b->p[b->n + i] = B32U[rng_below(g, 32)];
        b->n += 16;
        ob_c(b, '"');
    }
    PUTL(b, ",\"eventID\":\"");
    ob_uuid(b, g);
    ob_c(b, '"');
    if (r->readonly >= 0) {
        /* ~1% as a string, as some sources (and the LookupEvents API) write it */
        if (rng_below(g, 100) == 0) {
            if (r->readonly)
                PUTL(b, ",\"readOnly\":\"true\"");
            else
                PUTL(b, ",\"readOnly\":\"false\"");
        } else if (r->readonly) {
            PUTL(b, ",\"readOnly\":true");
        } else {
            PUTL(b, ",\"readOnly\":false");
        }
    }
    if (r->resources) {
        PUTL(b, ",\"resources\":");
        ob_put(b, r->resources, r->resources_len);
    }
    PUTL(b, ",\"eventType\":\"");
    ob_puts(b, r->etype);
    PUTL(b, "\",\"managementEvent\":true,\"recipientAccountId\":\"");
    ob_put(b, c->a->id, 12);
    ob_c(b, '"');
    if (r->svc_details) {
        PUTL(b, ",\"serviceEventDetails\":");
        ob_puts(b, r->svc_details);
    }
    PUTL(b, ",\"eventCategory\":\"Management\"");
    if (r->tls) {
        if (rng_below(g, 10) < 3)
            PUTL(b, ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.2\",\"cipherSuite\":"
                    "\"ECDHE-RSA-AES128-GCM-SHA256\",\"clientProvidedHostHeader\":\"");
        else
            PUTL(b, ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
                    "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
        ob_host(b, r, r->region ? r->region : c->region);
        PUTL(b, "\"}");
    }
    if (r->console_cred)
        PUTL(b, ",\"sessionCredentialFromConsole\":\"true\"");
    ob_c(b, '}');
}

/* resources: [{"accountId":"...","type":"...","ARN":"..."}] built in c->scratch */
static void res_begin(ctx *c)
{
    c->scratch.n = 0;
    ob_c(&c->scratch, '[');
}

static void res_add(ctx *c, const char *type, const char *arn_prefix, const char *arn_rest)
{
    ob *s = &c->scratch;
    if (s->n > 1)
        ob_c(s, ',');
    PUTL(s, "{\"accountId\":\"");
    ob_put(s, c->a->id, 12);
    PUTL(s, "\",\"type\":\"");
    ob_puts(s, type);
    PUTL(s, "\",\"ARN\":\"");
    ob_puts(s, arn_prefix);
    if (arn_rest)
        ob_puts(s, arn_rest);
    PUTL(s, "\"}");
}

static void res_end(ctx *c, rec *r)
{
    ob_c(&c->scratch, ']');
    r->resources = c->scratch.p;
    r->resources_len = c->scratch.n;
}

/* ------------------------------------------------------------------------- */
/* Identities.                                                                */

static void id_session(ob *b, const account *a, const role *r, const char *session,
                       const char *akid, int64_t created, const char *invoked_by)
{
    PUTL(b, "{\"type\":\"AssumedRole\",\"principalId\":\"");
    ob_puts(b, r->id);
    ob_c(b, ':');
    ob_puts(b, session);
    PUTL(b, "\",\"arn\":\"arn:aws:sts::");
    ob_put(b, a->id, 12);
    PUTL(b, ":assumed-role/");
    ob_puts(b, r->name);
    ob_c(b, '/');
    ob_puts(b, session);
    PUTL(b, "\",\"accountId\":\"");
    ob_put(b, a->id, 12);
    PUTL(b, "\",\"accessKeyId\":\"");
    ob_puts(b, akid);
    PUTL(b, "\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"");
    ob_puts(b, r->id);
    PUTL(b, "\",\"arn\":\"");
    role_arn(b, a, r);
    PUTL(b, "\",\"accountId\":\"");
    ob_put(b, a->id, 12);
    PUTL(b, "\",\"userName\":\"");
    ob_puts(b, r->name);
    PUTL(b, "\"},\"attributes\":{\"creationDate\":");
    ob_qiso(b, created);
    PUTL(b, ",\"mfaAuthenticated\":\"false\"}}");
    if (invoked_by) {
        PUTL(b, ",\"invokedBy\":\"");
        ob_puts(b, invoked_by);
        ob_c(b, '"');
    }
    ob_c(b, '}');
}

static void id_service(ob *b, const char *svc)
{
    PUTL(b, "{\"type\":\"AWSService\",\"invokedBy\":\"");
    ob_puts(b, svc);
    PUTL(b, "\"}");
}

/* A person's identity; sets ip/ua (and console flag) on the record. */
static void id_principal(ob *b, const account *a, const principal *p, rec *r, rng *g)
{
    r->ip = p->ip;
    r->ua = UA_STR[p->ua];
    if (p->kind != PR_SSO) {
        ob_puts(b, p->ident);
        return;
    }
    /* one sign-in session per person per 8 hours: stable key and creationDate */
    rng sg;
    uint64_t pid = (uint64_t)(p - a->pr) + 64 * (uint64_t)(a - ACC);
    int64_t off = (int64_t)(mix3(O.seed, 0x550, pid) % 28800);
    int64_t bucket = (r->t - off) / 28800;
    rng_seed(&sg, mix3(O.seed, 0x551 + pid, (uint64_t)bucket));
    char akid[24];
    fmt_awsid(akid, &sg, "ASIA", 16);
    int64_t created = bucket * 28800 + off + rng_range(&sg, 0, 600);
    if (created > r->t)
        created = r->t;
    (void)g;
    id_session(b, a, &p->sso, p->name, akid, created, NULL);
    if (p->ua == UA_CONSOLE) { /* console sessions: flag set, no tlsDetails */
        r->console_cred = 1;
        r->tls = 0;
    }
}

static void build_akid(const build *b, char *akid)
{
    rng g;
    rng_seed(&g, mix3(b->seed, 0xA1D, 0));
    fmt_awsid(akid, &g, "ASIA", 16);
}

static const role *build_role(const build *b)
{
    return &PROJ[b->project].roles[b->role];
}

/* The build's own role session: <role>/AWSCodeBuild-<uuid>. */
static void id_build(ob *b, const build *bu, const char *invoked_by)
{
    char session[64], akid[24];
    snprintf(session, sizeof session, "AWSCodeBuild-%s", bu->uuid);
    build_akid(bu, akid);
    id_session(b, &ACC[PROJ[bu->project].acct], build_role(bu), session, akid,
               bu->ph_end[PH_QUEUED], invoked_by);
}

static void id_batch(ob *b, const batch *ba)
{
    char session[64], akid[24];
    snprintf(session, sizeof session, "AWSCodeBuild-%s", ba->uuid);
    rng g;
    rng_seed(&g, mix3(ba->seed, 0xA1D, 0));
    fmt_awsid(akid, &g, "ASIA", 16);
    const project *p = &PROJ[ba->project];
    id_session(b, &ACC[p->acct], &p->roles[ba->role], session, akid, ba->t_start + 5,
               "codebuild.amazonaws.com");
}

/* CodePipeline's session: <pipeline role>/<13-digit epoch ms>. */
static void id_pipeline(ob *b, int pipe, int64_t ms, rng *g)
{
    const pipeline *pl = &PIPE[pipe];
    const account *a = &ACC[PROJ[pl->project].acct];
    char session[24], akid[24];
    snprintf(session, sizeof session, "%" PRId64, ms);
    rng kg; /* one key per pipeline session */
    rng_seed(&kg, mix3(O.seed, 0x919E + (uint64_t)pipe, (uint64_t)ms));
    (void)g;
    fmt_awsid(akid, &kg, "ASIA", 16);
    id_session(b, a, &pl->r, session, akid, ms / 1000, "codepipeline.amazonaws.com");
}

static void ob_build_arn(ob *b, const build *bu)
{
    const project *p = &PROJ[bu->project];
    PUTL(b, "arn:aws:codebuild:");
    ob_puts(b, O.regions[p->region]);
    ob_c(b, ':');
    ob_put(b, ACC[p->acct].id, 12);
    PUTL(b, ":build/");
    ob_puts(b, p->name);
    ob_c(b, ':');
    ob_put(b, bu->uuid, 36);
}

static void ob_build_id(ob *b, const build *bu)
{
    ob_puts(b, PROJ[bu->project].name);
    ob_c(b, ':');
    ob_put(b, bu->uuid, 36);
}

static void ob_project_arn(ob *b, const project *p)
{
    PUTL(b, "arn:aws:codebuild:");
    ob_puts(b, O.regions[p->region]);
    ob_c(b, ':');
    ob_put(b, ACC[p->acct].id, 12);
    PUTL(b, ":project/");
    ob_puts(b, p->name);
}

static void ob_build_initiator(ob *b, const build *bu)
{
    switch (bu->trigger) {
    case T_PIPELINE:
        PUTL(b, "codepipeline/");
        ob_puts(b, PIPE[bu->pipe].name);
        break;
    case T_WEBHOOK:
        PUTL(b, "GitHub-Hookshot/");
        ob_puts(b, bu->hook);
        break;
    case T_BATCH: {
        const batch *ba = &BA[bu->batch];
        ob_puts(b, PROJ[ba->project].roles[ba->role].name);
        PUTL(b, "/AWSCodeBuild-");
        ob_put(b, ba->uuid, 36);
        break;
    }
    default:
        ob_esc(b, ACC[PROJ[bu->project].acct].pr[bu->who].initiator);
    }
}

/* ------------------------------------------------------------------------- */
/* CodeBuild API records.                                                     */

static const char *build_env(const build *bu)
{
    return (bu->trigger == T_PIPELINE || !strcmp(bu->srcver, "main")) ? "prod" : "staging";
}

static void ob_role_arn_of(ob *b, const project *p, int ver)
{
    role_arn(b, &ACC[p->acct], &p->roles[ver]);
}

static void ob_source(ob *b, const project *p, int pipeline_src, const char *buildspec)
{
    if (pipeline_src) {
        PUTL(b, "{\"type\":\"CODEPIPELINE\",\"insecureSsl\":false");
    } else {
        PUTL(b, "{\"type\":\"");
        ob_puts(b, p->src_type == SRC_GITHUB ? "GITHUB" : "CODECOMMIT");
        PUTL(b, "\",\"location\":\"");
        ob_puts(b, p->src_loc);
        PUTL(b, "\",\"gitCloneDepth\":1,\"gitSubmodulesConfig\":{\"fetchSubmodules\":false},"
                "\"reportBuildStatus\":false,\"insecureSsl\":false");
    }
    if (buildspec) {
        PUTL(b, ",\"buildspec\":");
        ob_qs(b, buildspec);
    }
    ob_c(b, '}');
}

/* The project's own environment variables; extra (name,value) pairs appended. */
static void ob_env_vars(ob *b, const project *p, const char *xname, const char *xval)
{
    PUTL(b, "[{\"name\":\"DEPLOY_ENV\",\"value\":\"prod\",\"type\":\"PLAINTEXT\"},"
            "{\"name\":\"DB_PASSWORD\",\"value\":\"/");
    ob_puts(b, p->name);
    PUTL(b, "/prod/DB_PASSWORD\",\"type\":\"PARAMETER_STORE\"}");
    if (xname) {
        PUTL(b, ",{\"name\":\"");
        ob_puts(b, xname);
        PUTL(b, "\",\"value\":\"");
        ob_puts(b, xval);
        PUTL(b, "\",\"type\":\"PLAINTEXT\"}");
    }
    ob_c(b, ']');
}

static void ob_environment(ob *b, const project *p, const char *image, const char *compute,
                           const char *xname, const char *xval)
{
    PUTL(b, "{\"type\":\"LINUX_CONTAINER\",\"image\":\"");
    ob_puts(b, image ? image : p->image);
    PUTL(b, "\",\"computeType\":\"");
    ob_puts(b, compute ? compute : p->compute);
    PUTL(b, "\",\"environmentVariables\":");
    ob_env_vars(b, p, xname, xval);
    PUTL(b, ",\"privilegedMode\":");
    ob_puts(b, p->style == ST_ECS ? "true" : "false");
    PUTL(b, ",\"imagePullCredentialsType\":\"CODEBUILD\"}");
}

/* Overrides of a build, reproducible from its seed. */
typedef struct overrides {
    const char *env_name, *env_value;
    const char *buildspec;
    const char *image;
    const char *compute;
} overrides;

static void build_overrides(const build *bu, overrides *ov)
{
    static const char *const names[] = {"DEPLOY_ENV", "FEATURE_FLAGS", "LOG_LEVEL", "SKIP_TESTS",
                                        "TARGET_VERSION"};
    static const char *const values[] = {"staging", "checkout-v2,dark-mode", "debug", "true",
                                         "2026.10.3"};
    static const char *const specs[] = {
        "version: 0.2\nphases:\n  build:\n    commands:\n      - make test\n      - make deploy\n",
        "version: 0.2\nenv:\n  variables:\n    CI: \"true\"\nphases:\n  install:\n    "
        "runtime-versions:\n      nodejs: 20\n  build:\n    commands:\n      - npm ci\n      - npm "
        "run deploy\n",
        "buildspecs/hotfix.yml"};
    rng g;
    rng_seed(&g, mix3(bu->seed, 0x0E1, 0));
    memset(ov, 0, sizeof *ov);
    int k = (int)rng_below(&g, NELEM(names));
    if (bu->overrides & OV_ENV) {
        ov->env_name = names[k];
        ov->env_value = values[k];
    }
    const char *spec = PICK(&g, specs);
    const char *img = PICK(&g, IMAGES);
    const char *comp = PICK(&g, COMPUTES);
    if (bu->overrides & OV_BUILDSPEC)
        ov->buildspec = spec;
    if (bu->overrides & OV_IMAGE)
        ov->image = img;
    if (bu->overrides & OV_COMPUTE)
        ov->compute = comp;
}

static void ob_start_request(ob *b, const build *bu, const overrides *ov)
{
    const project *p = &PROJ[bu->project];
    PUTL(b, "{\"projectName\":\"");
    ob_puts(b, p->name);
    PUTL(b, "\",\"sourceVersion\":\"");
    ob_esc(b, bu->srcver);
    ob_c(b, '"');
    if (ov->env_name) {
        PUTL(b, ",\"environmentVariablesOverride\":[{\"name\":\"");
        ob_puts(b, ov->env_name);
        PUTL(b, "\",\"value\":\"");
        ob_esc(b, ov->env_value);
        PUTL(b, "\",\"type\":\"PLAINTEXT\"}]");
    }
    if (ov->buildspec) {
        PUTL(b, ",\"buildspecOverride\":");
        ob_qs(b, ov->buildspec);
    }
    if (ov->image) {
        PUTL(b, ",\"imageOverride\":\"");
        ob_puts(b, ov->image);
        ob_c(b, '"');
    }
    if (ov->compute) {
        PUTL(b, ",\"computeTypeOverride\":\"");
        ob_puts(b, ov->compute);
        ob_c(b, '"');
    }
    ob_c(b, '}');
}

/* The Build structure as StartBuild/RetryBuild/StopBuild responses carry it. */
static void ob_build_obj(ob *b, const build *bu, const overrides *ov, const char *phase,
                         int64_t now)
{
    const project *p = &PROJ[bu->project];
    PUTL(b, "{\"id\":\"");
    ob_build_id(b, bu);
    PUTL(b, "\",\"arn\":\"");
    ob_build_arn(b, bu);
    PUTL(b, "\",\"buildNumber\":");
    ob_i(b, bu->number);
    PUTL(b, ",\"startTime\":\"");
    ob_java(b, bu->t_start, 1);
    PUTL(b, "\",\"currentPhase\":\"");
    ob_puts(b, phase);
    PUTL(b, "\",\"buildStatus\":\"IN_PROGRESS\",\"sourceVersion\":\"");
    ob_esc(b, bu->srcver);
    PUTL(b, "\",\"projectName\":\"");
    ob_puts(b, p->name);
    /* phases up to "now": finished ones with their status, the current one open */
    PUTL(b, "\",\"phases\":[");
    int cur = -1;
    for (int ph = 0; ph < PH_COMPLETED; ph++)
        if (bu->ph_status[ph] && bu->ph_start[ph] <= now)
            cur = ph;
    if (cur < PH_QUEUED)
        cur = PH_QUEUED;
    for (int ph = 0; ph <= cur; ph++) {
        if (!bu->ph_status[ph])
            continue;
        if (ph)
            ob_c(b, ',');
        PUTL(b, "{\"phaseType\":\"");
        ob_puts(b, PH_NAME[ph]);
        if (ph == cur) {
            PUTL(b, "\",\"startTime\":\"");
            ob_java(b, bu->ph_start[ph] > now ? now : bu->ph_start[ph], 1);
            PUTL(b, "\"}");
            continue;
        }
        PUTL(b, "\",\"phaseStatus\":\"SUCCEEDED\",\"startTime\":\"");
        ob_java(b, bu->ph_start[ph], 1);
        PUTL(b, "\",\"endTime\":\"");
        ob_java(b, bu->ph_end[ph], 1);
        PUTL(b, "\",\"durationInSeconds\":");
        ob_i(b, bu->ph_end[ph] - bu->ph_start[ph]);
        PUTL(b, ",\"contexts\":[]}");
    }
    PUTL(b, "],\"source\":");
    ob_source(b, p, bu->trigger == T_PIPELINE, ov && ov->buildspec ? ov->buildspec : NULL);
    PUTL(b, ",\"secondarySources\":[],\"secondarySourceVersions\":[],\"artifacts\":{\"location\":\"\"},"
            "\"cache\":{\"type\":\"NO_CACHE\"},\"environment\":");
    ob_environment(b, p, ov ? ov->image : NULL, ov ? ov->compute : NULL, ov ? ov->env_name : NULL,
                   ov ? ov->env_value : NULL);
    PUTL(b, ",\"serviceRole\":\"");
    ob_role_arn_of(b, p, bu->role);
    PUTL(b, "\",\"logs\":{\"deepLink\":\"https://console.aws.amazon.com/cloudwatch/home?region=");
    ob_puts(b, O.regions[p->region]);
    PUTL(b, "#logsV2:log-groups\",\"cloudWatchLogsArn\":\"arn:aws:logs:");
    ob_puts(b, O.regions[p->region]);
    ob_c(b, ':');
    ob_put(b, ACC[p->acct].id, 12);
    PUTL(b, ":log-group:null:log-stream:null\",\"cloudWatchLogs\":{\"status\":\"ENABLED\"},"
            "\"s3Logs\":{\"status\":\"DISABLED\",\"encryptionDisabled\":false}},\"timeoutInMinutes\":");
    ob_i(b, p->timeout_min);
    PUTL(b, ",\"queuedTimeoutInMinutes\":480,\"buildComplete\":false,\"initiator\":\"");
    ob_build_initiator(b, bu);
    PUTL(b, "\",\"encryptionKey\":\"arn:aws:kms:");
    ob_puts(b, O.regions[p->region]);
    ob_c(b, ':');
    ob_put(b, ACC[p->acct].id, 12);
    PUTL(b, ":alias/aws/s3\"");
    if (bu->trigger == T_BATCH) {
        const batch *ba = &BA[bu->batch];
        PUTL(b, ",\"buildBatchArn\":\"arn:aws:codebuild:");
        ob_puts(b, O.regions[p->region]);
        ob_c(b, ':');
        ob_put(b, ACC[p->acct].id, 12);
        PUTL(b, ":build-batch/");
        ob_puts(b, p->name);
        ob_c(b, ':');
        ob_put(b, ba->uuid, 36);
        ob_c(b, '"');
    }
    ob_c(b, '}');
}

static const char *cli_cmd(int ua, const char *cmd)
{
    static __thread char buf[96];
    if (ua != UA_CLI_MAC && ua != UA_CLI_LINUX)
        return NULL;
    snprintf(buf, sizeof buf, " md/command#%s", cmd);
    return buf;
}

/* StartBuild by a person (IAM user, SSO session, CI user) or by CodePipeline;
 * RetryBuild by a person; StartBuild of a batch child by the batch's session. */
static void render_start(ctx *c, ob *b, const build *bu, rng *g)
{
    const account *a = c->a;
    rec r;
    int retry = bu->trigger == T_RETRY;
    rec_init(&r, g, bu->t_start, "codebuild.amazonaws.com", retry ? "RetryBuild" : "StartBuild");
    r.readonly = 0;
    rec_begin(b, &r);
    if (bu->trigger == T_PIPELINE) {
        id_pipeline(b, bu->pipe, bu->pipe_ms, g);
        r.ip = r.ua = "codepipeline.amazonaws.com";
        r.tls = 0;
    } else if (bu->trigger == T_BATCH) {
        id_batch(b, &BA[bu->batch]);
        r.ip = r.ua = "codebuild.amazonaws.com";
        r.tls = 0;
    } else {
        const principal *p = &a->pr[bu->who];
        id_principal(b, a, p, &r, g);
        r.ua2 = cli_cmd(p->ua, retry ? "codebuild.retry-build" : "codebuild.start-build");
    }
    rec_mid(c, b, &r);
    overrides ov;
    build_overrides(bu, &ov);
    if (retry) {
        PUTL(b, "{\"id\":\"");
        ob_build_id(b, &B[bu->retry_of]);
        PUTL(b, "\",\"idempotencyToken\":\"");
        ob_uuid(b, g);
        PUTL(b, "\"}");
    } else {
        ob_start_request(b, bu, &ov);
    }
    PUTL(b, ",\"responseElements\":{\"build\":");
    ob_build_obj(b, bu, &ov, "QUEUED", bu->t_start);
    ob_c(b, '}');
    rec_end(c, b, &r, g);
}

static void render_batch_start(ctx *c, ob *b, const batch *ba, rng *g)
{
    const account *a = c->a;
    const project *p = &PROJ[ba->project];
    rec r;
    rec_init(&r, g, ba->t_start, "codebuild.amazonaws.com", "StartBuildBatch");
    r.readonly = 0;
    rec_begin(b, &r);
    if (ba->trigger == T_PIPELINE) {
        id_pipeline(b, ba->pipe, ba->pipe_ms, g);
        r.ip = r.ua = "codepipeline.amazonaws.com";
        r.tls = 0;
    } else {
        const principal *pr = &a->pr[ba->who];
        id_principal(b, a, pr, &r, g);
        r.ua2 = cli_cmd(pr->ua, "codebuild.start-build-batch");
    }
    rec_mid(c, b, &r);
    PUTL(b, "{\"projectName\":\"");
    ob_puts(b, p->name);
    PUTL(b, "\",\"sourceVersion\":\"");
    ob_esc(b, ba->srcver);
    PUTL(b, "\"},\"responseElements\":{\"buildBatch\":{\"id\":\"");
    ob_puts(b, p->name);
    ob_c(b, ':');
    ob_put(b, ba->uuid, 36);
    PUTL(b, "\",\"arn\":\"arn:aws:codebuild:");
    ob_puts(b, c->region);
    ob_c(b, ':');
    ob_put(b, a->id, 12);
    PUTL(b, ":build-batch/");
    ob_puts(b, p->name);
    ob_c(b, ':');
    ob_put(b, ba->uuid, 36);
    PUTL(b, "\",\"startTime\":\"");
    ob_java(b, ba->t_start, 1);
    PUTL(b, "\",\"currentPhase\":\"SUBMITTED\",\"buildBatchStatus\":\"IN_PROGRESS\",\"sourceVersion\":\"");
    ob_esc(b, ba->srcver);
    PUTL(b, "\",\"projectName\":\"");
    ob_puts(b, p->name);
    PUTL(b, "\",\"source\":");
    ob_source(b, p, ba->trigger == T_PIPELINE, NULL);
    PUTL(b, ",\"serviceRole\":\"");
    ob_role_arn_of(b, p, ba->role);
    PUTL(b, "\",\"buildBatchNumber\":");
    ob_i(b, ba->number);
    PUTL(b, ",\"complete\":false,\"initiator\":\"");
    if (ba->trigger == T_PIPELINE) {
        PUTL(b, "codepipeline/");
        ob_puts(b, PIPE[ba->pipe].name);
    } else {
        ob_esc(b, a->pr[ba->who].initiator);
    }
    PUTL(b, "\",\"buildBatchConfig\":{\"serviceRole\":\"");
    ob_role_arn_of(b, p, ba->role);
    PUTL(b, "\",\"restrictions\":{\"maximumBuildsAllowed\":10},\"timeoutInMins\":480}}}");
    rec_end(c, b, &r, g);
}

/* CodeBuild's own sts:AssumeRole of the project role for a build (or batch) session. */
static void render_assume(ctx *c, ob *b, int64_t t, const role *ro, const char *uuid,
                          const char *akid, rng *g)
{
    const account *a = c->a;
    rec r;
    rec_init(&r, g, t, "sts.amazonaws.com", "AssumeRole");
    r.ip = r.ua = "codebuild.amazonaws.com";
    r.tls = 0;
    rec_begin(b, &r);
    id_service(b, "codebuild.amazonaws.com");
    rec_mid(c, b, &r);
    PUTL(b, "{\"roleArn\":\"");
    role_arn(b, a, ro);
    PUTL(b, "\",\"roleSessionName\":\"AWSCodeBuild-");
    ob_puts(b, uuid);
    PUTL(b, "\",\"durationSeconds\":3600},\"responseElements\":{\"credentials\":{\"accessKeyId\":\"");
    ob_puts(b, akid);
    PUTL(b, "\",\"sessionToken\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",\"expiration\":\"");
    ob_java(b, t + 3600, 1);
    PUTL(b, "\"},\"assumedRoleUser\":{\"assumedRoleId\":\"");
    ob_puts(b, ro->id);
    PUTL(b, ":AWSCodeBuild-");
    ob_puts(b, uuid);
    PUTL(b, "\",\"arn\":\"arn:aws:sts::");
    ob_put(b, a->id, 12);
    PUTL(b, ":assumed-role/");
    ob_puts(b, ro->name);
    PUTL(b, "/AWSCodeBuild-");
    ob_puts(b, uuid);
    PUTL(b, "\"}}");
    ob t2 = {0};
    role_arn(&t2, a, ro);
    res_begin(c);
    res_add(c, "AWS::IAM::Role", ob_cstr(&t2), NULL);
    res_end(c, &r);
    ob_free(&t2);
    rec_end(c, b, &r, g);
}

static void render_stop(ctx *c, ob *b, const build *bu, rng *g)
{
    const account *a = c->a;
    const principal *p = &a->pr[bu->stop_by];
    rec r;
    rec_init(&r, g, bu->stop_t, "codebuild.amazonaws.com", "StopBuild");
    r.readonly = 0;
    rec_begin(b, &r);
    id_principal(b, a, p, &r, g);
    r.ua2 = cli_cmd(p->ua, "codebuild.stop-build");
    rec_mid(c, b, &r);
    PUTL(b, "{\"id\":\"");
    ob_build_id(b, bu);
    PUTL(b, "\"},\"responseElements\":{\"build\":");
    overrides ov;
    build_overrides(bu, &ov);
    ob_build_obj(b, bu, &ov, "BUILD", bu->stop_t);
    ob_c(b, '}');
    rec_end(c, b, &r, g);
}

/* BatchGetBuilds polling a build: CodePipeline's session for pipeline builds,
 * else a person looking at it. responseElements are null for read-only calls. */
static void render_bgb(ctx *c, ob *b, const build *bu, int64_t t, rng *g)
{
    const account *a = c->a;
    rec r;
    rec_init(&r, g, t, "codebuild.amazonaws.com", "BatchGetBuilds");
    rec_begin(b, &r);
    if (bu->trigger == T_PIPELINE) {
        id_pipeline(b, bu->pipe, bu->pipe_ms, g);
        r.ip = r.ua = "codepipeline.amazonaws.com";
        r.tls = 0;
    } else {
        const principal *p = &a->pr[bu->trigger == T_USER || bu->trigger == T_RETRY ? bu->who : pick_human(g)];
        id_principal(b, a, p, &r, g);
        r.ua2 = cli_cmd(p->ua, "codebuild.batch-get-builds");
    }
    rec_mid(c, b, &r);
    PUTL(b, "{\"ids\":[\"");
    ob_build_id(b, bu);
    ob_c(b, '"');
    const project *p = &PROJ[bu->project];
    if (p->nrecent > 1 && rng_chance(g, 0.3)) {
        const build *o = &B[p->recent[rng_below(g, (uint32_t)p->nrecent)]];
        if (o != bu && o->t_start < t) {
            PUTL(b, ",\"");
            ob_build_id(b, o);
            ob_c(b, '"');
        }
    }
    PUTL(b, "]},\"responseElements\":null");
    rec_end(c, b, &r, g);
}

static void ob_project_obj(ob *b, const project *p, int role_ver, int64_t now, const char *xname,
                           const char *xval, const char *buildspec, const char *srcloc)
{
    PUTL(b, "{\"name\":\"");
    ob_puts(b, p->name);
    PUTL(b, "\",\"arn\":\"");
    ob_project_arn(b, p);
    PUTL(b, "\",\"source\":");
    if (srcloc) {
        PUTL(b, "{\"type\":\"GITHUB\",\"location\":\"");
        ob_puts(b, srcloc);
        PUTL(b, "\",\"gitCloneDepth\":1,\"insecureSsl\":false}");
    } else {
        ob_source(b, p, 0, buildspec);
    }
    PUTL(b, ",\"secondarySources\":[],\"secondarySourceVersions\":[],\"artifacts\":{\"type\":"
            "\"NO_ARTIFACTS\"},\"cache\":{\"type\":\"NO_CACHE\"},\"environment\":");
    ob_environment(b, p, NULL, NULL, xname, xval);
    PUTL(b, ",\"serviceRole\":\"");
    ob_role_arn_of(b, p, role_ver);
    PUTL(b, "\",\"timeoutInMinutes\":");
    ob_i(b, p->timeout_min);
    PUTL(b, ",\"queuedTimeoutInMinutes\":480,\"encryptionKey\":\"arn:aws:kms:");
    ob_puts(b, O.regions[p->region]);
    ob_c(b, ':');
    ob_put(b, ACC[p->acct].id, 12);
    PUTL(b, ":alias/aws/s3\",\"created\":\"");
    ob_java(b, p->created_t, 1);
    PUTL(b, "\",\"lastModified\":\"");
    ob_java(b, now, 1);
    PUTL(b, "\",\"badge\":{\"badgeEnabled\":false},\"logsConfig\":{\"cloudWatchLogs\":{\"status\":"
            "\"ENABLED\"},\"s3Logs\":{\"status\":\"DISABLED\",\"encryptionDisabled\":false}},"
            "\"projectVisibility\":\"PRIVATE\"}");
}

static void render_change(ctx *c, ob *b, const build *bu, int ci, rng *g)
{
    const account *a = c->a;
    const project *p = &PROJ[bu->project];
    const change *ch = &bu->ch[ci];
    const principal *pr = &a->pr[ch->who];
    static const char *const cmds[] = {"codebuild.create-project", "codebuild.update-project",
                                       "codebuild.update-project", "codebuild.update-project",
                                       "codebuild.update-project", "codebuild.update-project-visibility",
                                       "codebuild.create-webhook", "codebuild.import-source-credentials"};
    rec r;
    rec_init(&r, g, ch->t, "codebuild.amazonaws.com", CH_EVENT[ch->kind]);
    r.readonly = 0;
    rec_begin(b, &r);
    id_principal(b, a, pr, &r, g);
    r.ua2 = cli_cmd(pr->ua, cmds[ch->kind]);
    rec_mid(c, b, &r);
    /* the role in force before this change (role changes move it) */
    int role_ver = ch->kind == CH_ROLE ? ch->role_to : bu->role;
    static const char *const xnames[] = {"LOG_LEVEL", "FEATURE_FLAGS", "NODE_OPTIONS", "API_BASE_URL"};
    static const char *const xvals[] = {"debug", "checkout-v2", "--max-old-space-size=4096",
                                        "https://api.internal.example.com"};
    int xi = (int)rng_below(g, 4);
    char spec[160];
    snprintf(spec, sizeof spec, "version: 0.2\nphases:\n  build:\n    commands:\n      - ./scripts/deploy.sh %s\n",
             rng_chance(g, 0.5) ? "prod" : "staging");
    char srcloc[160];
    snprintf(srcloc, sizeof srcloc, "https://github.com/%s-forks/%s.git", a->gh_org, p->name);
    switch (ch->kind) {
    case CH_CREATE:
        PUTL(b, "{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"source\":");
        ob_source(b, p, 0, "buildspec.yml");
        PUTL(b, ",\"artifacts\":{\"type\":\"NO_ARTIFACTS\"},\"environment\":");
        ob_environment(b, p, NULL, NULL, NULL, NULL);
        PUTL(b, ",\"serviceRole\":\"");
        ob_role_arn_of(b, p, role_ver);
        PUTL(b, "\",\"timeoutInMinutes\":");
        ob_i(b, p->timeout_min);
        PUTL(b, ",\"logsConfig\":{\"cloudWatchLogs\":{\"status\":\"ENABLED\"}}},\"responseElements\":{\"project\":");
        ob_project_obj(b, p, role_ver, ch->t, NULL, NULL, "buildspec.yml", NULL);
        ob_c(b, '}');
        break;
    case CH_ENV:
        PUTL(b, "{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"environment\":");
        ob_environment(b, p, NULL, NULL, xnames[xi], xvals[xi]);
        PUTL(b, "},\"responseElements\":{\"project\":");
        ob_project_obj(b, p, role_ver, ch->t, xnames[xi], xvals[xi], NULL, NULL);
        ob_c(b, '}');
        break;
    case CH_BUILDSPEC:
        PUTL(b, "{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"source\":");
        ob_source(b, p, 0, spec);
        PUTL(b, "},\"responseElements\":{\"project\":");
        ob_project_obj(b, p, role_ver, ch->t, NULL, NULL, spec, NULL);
        ob_c(b, '}');
        break;
    case CH_ROLE:
        PUTL(b, "{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"serviceRole\":\"");
        ob_role_arn_of(b, p, ch->role_to);
        PUTL(b, "\"},\"responseElements\":{\"project\":");
        ob_project_obj(b, p, ch->role_to, ch->t, NULL, NULL, NULL, NULL);
        ob_c(b, '}');
        break;
    case CH_SOURCE:
        PUTL(b, "{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"source\":{\"type\":\"GITHUB\",\"location\":\"");
        ob_puts(b, srcloc);
        PUTL(b, "\",\"gitCloneDepth\":1}},\"responseElements\":{\"project\":");
        ob_project_obj(b, p, role_ver, ch->t, NULL, NULL, NULL, srcloc);
        ob_c(b, '}');
        break;
    case CH_VISIBILITY: {
        const char *vis = rng_chance(g, 0.7) ? "PUBLIC_READ" : "PRIVATE";
        PUTL(b, "{\"projectArn\":\"");
        ob_project_arn(b, p);
        PUTL(b, "\",\"projectVisibility\":\"");
        ob_puts(b, vis);
        PUTL(b, "\",\"resourceAccessRole\":\"");
        ob_role_arn_of(b, p, role_ver);
        PUTL(b, "\"},\"responseElements\":{\"projectArn\":\"");
        ob_project_arn(b, p);
        PUTL(b, "\",\"publicProjectAlias\":\"");
        ob_uuid(b, g);
        PUTL(b, "\",\"projectVisibility\":\"");
        ob_puts(b, vis);
        PUTL(b, "\"}");
        break;
    }
    case CH_WEBHOOK:
        PUTL(b, "{\"projectName\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"filterGroups\":[[{\"type\":\"EVENT\",\"pattern\":\"PUSH\",\"excludeMatchedPattern\":false},"
                "{\"type\":\"HEAD_REF\",\"pattern\":\"^refs/heads/main$\",\"excludeMatchedPattern\":false}]],"
                "\"buildType\":\"BUILD\"},\"responseElements\":{\"webhook\":{\"url\":\"https://api.github.com/repos/");
        ob_puts(b, a->gh_org);
        ob_c(b, '/');
        ob_puts(b, p->name);
        PUTL(b, "/hooks/");
        ob_i(b, rng_range(g, 400000000, 499999999));
        PUTL(b, "\",\"payloadUrl\":\"https://codebuild.");
        ob_puts(b, c->region);
        PUTL(b, ".amazonaws.com/webhooks?t=eyJlbmNyeXB0ZWREYXRh");
        ob_alnum(b, g, 48);
        PUTL(b, "&v=1\",\"filterGroups\":[[{\"type\":\"EVENT\",\"pattern\":\"PUSH\",\"excludeMatchedPattern\":false},"
                "{\"type\":\"HEAD_REF\",\"pattern\":\"^refs/heads/main$\",\"excludeMatchedPattern\":false}]],"
                "\"buildType\":\"BUILD\",\"lastModifiedSecret\":\"");
        ob_java(b, ch->t, 1);
        PUTL(b, "\"}}");
        break;
    default: /* CH_CREDS */
        PUTL(b, "{\"token\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",\"serverType\":\"GITHUB\",\"authType\":"
                "\"PERSONAL_ACCESS_TOKEN\",\"shouldOverwrite\":false},\"responseElements\":{\"arn\":"
                "\"arn:aws:codebuild:");
        ob_puts(b, c->region);
        ob_c(b, ':');
        ob_put(b, a->id, 12);
        PUTL(b, ":token/github\"}");
    }
    rec_end(c, b, &r, g);
}

/* ------------------------------------------------------------------------- */
/* Calls made by a running build under its AWSCodeBuild-<uuid> session.        */

enum {
    K_LOGSTREAM, K_WHOAMI, K_SSM, K_SECRET, K_ECR_AUTH, K_ECR_CHECK, K_ECR_INIT, K_ECR_PART,
    K_ECR_DONE, K_ECR_PUT, K_ECR_GET, K_ECS_DESC_TD, K_ECS_REG_TD, K_ECS_UPDATE, K_ECS_DESC,
    K_CFN_DESC, K_CFN_CREATE_CS, K_CFN_DESC_CS, K_CFN_EXEC_CS, K_CFN_EVENTS, K_CFN_UPDATE,
    K_CFN_TEMPLATE, K_LMB_GET, K_LMB_CODE, K_LMB_CONF, K_LMB_PUBLISH, K_LMB_GETCONF, K_LMB_ALIAS,
    K_S3_LIST, K_S3_LOC, K_S3_PUTPOL, K_S3_GETPOL, K_STS_ASSUME, K_KMS_DECRYPT, NK
};

typedef struct calldef {
    const char *src, *name, *iam, *cmd;
    int ro;
    int json; /* JSON-protocol service: AccessDeniedException / ThrottlingException */
} calldef;

static const calldef CALLS[NK] = {
    [K_LOGSTREAM] = {"logs.amazonaws.com", "CreateLogStream", "logs:CreateLogStream", "", 0, 1},
    [K_WHOAMI] = {"sts.amazonaws.com", "GetCallerIdentity", "sts:GetCallerIdentity", "sts.get-caller-identity", 1, 0},
    [K_SSM] = {"ssm.amazonaws.com", "GetParameters", "ssm:GetParameters", "ssm.get-parameters", 1, 1},
    [K_SECRET] = {"secretsmanager.amazonaws.com", "GetSecretValue", "secretsmanager:GetSecretValue", "secretsmanager.get-secret-value", 1, 1},
    [K_ECR_AUTH] = {"ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken", "ecr.get-login-password", 1, 1},
    [K_ECR_CHECK] = {"ecr.amazonaws.com", "BatchCheckLayerAvailability", "ecr:BatchCheckLayerAvailability", "", 1, 1},
    [K_ECR_INIT] = {"ecr.amazonaws.com", "InitiateLayerUpload", "ecr:InitiateLayerUpload", "", 0, 1},
    [K_ECR_PART] = {"ecr.amazonaws.com", "UploadLayerPart", "ecr:UploadLayerPart", "", 0, 1},
    [K_ECR_DONE] = {"ecr.amazonaws.com", "CompleteLayerUpload", "ecr:CompleteLayerUpload", "", 0, 1},
    [K_ECR_PUT] = {"ecr.amazonaws.com", "PutImage", "ecr:PutImage", "", 0, 1},
    [K_ECR_GET] = {"ecr.amazonaws.com", "BatchGetImage", "ecr:BatchGetImage", "", 1, 1},
    [K_ECS_DESC_TD] = {"ecs.amazonaws.com", "DescribeTaskDefinition", "ecs:DescribeTaskDefinition", "ecs.describe-task-definition", 1, 1},
    [K_ECS_REG_TD] = {"ecs.amazonaws.com", "RegisterTaskDefinition", "ecs:RegisterTaskDefinition", "ecs.register-task-definition", 0, 1},
    [K_ECS_UPDATE] = {"ecs.amazonaws.com", "UpdateService", "ecs:UpdateService", "ecs.update-service", 0, 1},
    [K_ECS_DESC] = {"ecs.amazonaws.com", "DescribeServices", "ecs:DescribeServices", "ecs.wait.services-stable", 1, 1},
    [K_CFN_DESC] = {"cloudformation.amazonaws.com", "DescribeStacks", "cloudformation:DescribeStacks", "cloudformation.describe-stacks", 1, 0},
    [K_CFN_CREATE_CS] = {"cloudformation.amazonaws.com", "CreateChangeSet", "cloudformation:CreateChangeSet", "cloudformation.deploy", 0, 0},
    [K_CFN_DESC_CS] = {"cloudformation.amazonaws.com", "DescribeChangeSet", "cloudformation:DescribeChangeSet", "cloudformation.deploy", 1, 0},
    [K_CFN_EXEC_CS] = {"cloudformation.amazonaws.com", "ExecuteChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation.deploy", 0, 0},
    [K_CFN_EVENTS] = {"cloudformation.amazonaws.com", "DescribeStackEvents", "cloudformation:DescribeStackEvents", "cloudformation.deploy", 1, 0},
    [K_CFN_UPDATE] = {"cloudformation.amazonaws.com", "UpdateStack", "cloudformation:UpdateStack", "cloudformation.update-stack", 0, 0},
    [K_CFN_TEMPLATE] = {"cloudformation.amazonaws.com", "GetTemplate", "cloudformation:GetTemplate", "cloudformation.get-template", 1, 0},
    [K_LMB_GET] = {"lambda.amazonaws.com", "GetFunction20150331v2", "lambda:GetFunction", "lambda.get-function", 1, 1},
    [K_LMB_CODE] = {"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode", "lambda.update-function-code", 0, 1},
    [K_LMB_CONF] = {"lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "lambda:UpdateFunctionConfiguration", "lambda.update-function-configuration", 0, 1},
    [K_LMB_PUBLISH] = {"lambda.amazonaws.com", "PublishVersion20150331", "lambda:PublishVersion", "lambda.publish-version", 0, 1},
    [K_LMB_GETCONF] = {"lambda.amazonaws.com", "GetFunctionConfiguration20150331v2", "lambda:GetFunctionConfiguration", "lambda.wait.function-updated", 1, 1},
    [K_LMB_ALIAS] = {"lambda.amazonaws.com", "UpdateAlias20150331", "lambda:UpdateAlias", "lambda.update-alias", 0, 1},
    [K_S3_LIST] = {"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets", "s3.ls", 1, 0},
    [K_S3_LOC] = {"s3.amazonaws.com", "GetBucketLocation", "s3:GetBucketLocation", "s3.sync", 1, 0},
    [K_S3_PUTPOL] = {"s3.amazonaws.com", "PutBucketPolicy", "s3:PutBucketPolicy", "s3api.put-bucket-policy", 0, 0},
    [K_S3_GETPOL] = {"s3.amazonaws.com", "GetBucketPolicy", "s3:GetBucketPolicy", "s3api.get-bucket-policy", 1, 0},
    [K_STS_ASSUME] = {"sts.amazonaws.com", "AssumeRole", "sts:AssumeRole", "", 1, 0},
    [K_KMS_DECRYPT] = {"kms.amazonaws.com", "Decrypt", "kms:Decrypt", "", 1, 1},
};

/* weights per project style (index = K_*) */
static const int STYLE_W[NSTYLES][NK] = {
    [ST_CFN] = {[K_CFN_DESC] = 10, [K_CFN_CREATE_CS] = 6, [K_CFN_DESC_CS] = 6, [K_CFN_EXEC_CS] = 5,
                [K_CFN_EVENTS] = 25, [K_CFN_UPDATE] = 3, [K_CFN_TEMPLATE] = 4, [K_S3_LIST] = 3,
                [K_S3_LOC] = 5, [K_STS_ASSUME] = 8, [K_WHOAMI] = 3, [K_SSM] = 4, [K_KMS_DECRYPT] = 3},
    [ST_ECS] = {[K_ECR_AUTH] = 4, [K_ECR_CHECK] = 15, [K_ECR_INIT] = 6, [K_ECR_PART] = 10,
                [K_ECR_DONE] = 6, [K_ECR_PUT] = 5, [K_ECR_GET] = 4, [K_ECS_DESC_TD] = 6,
                [K_ECS_REG_TD] = 4, [K_ECS_UPDATE] = 4, [K_ECS_DESC] = 18, [K_SSM] = 5,
                [K_SECRET] = 3, [K_WHOAMI] = 3},
    [ST_LAMBDA] = {[K_LMB_GET] = 10, [K_LMB_CODE] = 8, [K_LMB_CONF] = 5, [K_LMB_PUBLISH] = 5,
                   [K_LMB_GETCONF] = 20, [K_LMB_ALIAS] = 4, [K_S3_LOC] = 4, [K_SSM] = 5,
                   [K_SECRET] = 4, [K_WHOAMI] = 3, [K_KMS_DECRYPT] = 3},
    [ST_STATIC] = {[K_S3_LIST] = 8, [K_S3_LOC] = 20, [K_S3_GETPOL] = 8, [K_S3_PUTPOL] = 3,
                   [K_SSM] = 6, [K_SECRET] = 4, [K_WHOAMI] = 4, [K_CFN_DESC] = 6, [K_CFN_EVENTS] = 5},
};

static const char *const BUILD_UA[] = {
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython exec-env/AWS_ECS_EC2 cfg/retry-mode#standard "
    "md/installer#exe md/distrib#ubuntu.22 md/prompt#off",
    "aws-sdk-js/2.1658.0 linux/v20.15.1 exec-env/AWS_ECS_EC2 aws-cdk/2.150.0 promise",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_ECS_EC2 "
    "cfg/retry-mode#legacy Botocore/1.34.144"};

static int pick_call(const build *bu, int k, rng *g)
{
    const project *p = &PROJ[bu->project];
    if (k == 0)
        return K_LOGSTREAM;
    if (k == 1)
        return rng_chance(g, 0.6) ? K_SSM : K_WHOAMI;
    if (k == 2 && p->style == ST_ECS)
        return K_ECR_AUTH;
    return rng_weighted(g, STYLE_W[p->style], NK);
}

static void ob_sha256ish(ob *b, rng *g)
{
    PUTL(b, "sha256:");
    ob_hex(b, g, 64);
}

static void ob_stack_arn(ob *b, ctx *c, const build *bu)
{
    const project *p = &PROJ[bu->project];
    const char *env = build_env(bu);
    rng h;
    rng_seed(&h, mix3(O.seed, 0x57AC, (uint64_t)bu->project * 2 + (env[0] == 'p')));
    PUTL(b, "arn:aws:cloudformation:");
    ob_puts(b, c->region);
    ob_c(b, ':');
    ob_put(b, c->a->id, 12);
    PUTL(b, ":stack/");
    ob_puts(b, p->name);
    ob_c(b, '-');
    ob_puts(b, env);
    ob_c(b, '/');
    ob_uuid(b, &h);
}

static void s3_extra(ob *b, rng *g, int out_bytes)
{
    PUTL(b, ",\"additionalEventData\":{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":"
            "\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\","
            "\"x-amz-id-2\":\"");
    ob_alnum(b, g, 76);
    PUTL(b, "=\",\"bytesTransferredOut\":");
    ob_i(b, out_bytes);
    ob_c(b, '}');
}

/* One call of build bu; k is its position in the build's call sequence. */
static void render_call(ctx *c, ob *b, build *bu, int k, int64_t t, rng *g)
{
    const account *a = c->a;
    const project *p = &PROJ[bu->project];
    int kind = pick_call(bu, k, g);
    const calldef *d = &CALLS[kind];
    const char *env = build_env(bu);
    rec r;
    rec_init(&r, g, t, d->src, d->name);
    r.readonly = d->ro;
    if (kind == K_LOGSTREAM) {
        r.ip = r.ua = "codebuild.amazonaws.com";
        r.tls = 0;
    } else {
        /* the build's egress address, stable per build */
        rng ipg;
        rng_seed(&ipg, mix3(bu->seed, 0x1B, 0));
        static __thread char ip[20];
        fmt_ip(ip, sizeof ip, &ipg, 1);
        r.ip = ip;
        r.ua = BUILD_UA[bu->uafam];
        if (bu->uafam == 0 && d->cmd[0])
            r.ua2 = cli_cmd(UA_CLI_LINUX, d->cmd);
    }
    /* failures: broken builds fail much more often */
    double perr = kind == K_LOGSTREAM ? 0.01 : bu->broken ? 0.20 : 0.02;
    int ec = -1;
    if (rng_chance(g, perr)) {
        double u = rng_unit(g);
        if (d->json && u < 0.2)
            ec = EC_THROTTLING;
        else if (!strcmp(d->src, "cloudformation.amazonaws.com") && u < 0.5)
            ec = EC_VALIDATION;
        else
            ec = d->json ? EC_ACCESS_DENIED_EXC : EC_ACCESS_DENIED;
    }
    char msg[640];
    if (ec >= 0) {
        r.err = EC_NAME[ec];
        r.errmsg = msg;
        if (ec == EC_THROTTLING) {
            snprintf(msg, sizeof msg, "Rate exceeded");
        } else if (ec == EC_VALIDATION) {
            if (kind == K_CFN_DESC || kind == K_CFN_EVENTS || kind == K_CFN_TEMPLATE)
                snprintf(msg, sizeof msg, "Stack with id %s-%s does not exist", p->name, env);
            else
                snprintf(msg, sizeof msg, "No updates are to be performed.");
        } else if (!strcmp(d->src, "s3.amazonaws.com")) {
            snprintf(msg, sizeof msg, "Access Denied");
        } else {
            const role *ro = build_role(bu);
            snprintf(msg, sizeof msg,
                     "User: arn:aws:sts::%s:assumed-role/%s/AWSCodeBuild-%s is not authorized to "
                     "perform: %s because no identity-based policy allows the %s action",
                     a->id, ro->name, bu->uuid, d->iam, d->iam);
        }
        bu->errors++;
        bu->errc[ec]++;
    }
    rec_begin(b, &r);
    id_build(b, bu, kind == K_LOGSTREAM ? "codebuild.amazonaws.com" : NULL);
    if (!strcmp(d->src, "s3.amazonaws.com"))
        r.reqid = 2;
    rec_mid(c, b, &r);
    int ok = ec < 0;
    char bucket[96];
    snprintf(bucket, sizeof bucket, "%s-%s-assets-%s", p->name, env, a->id);
    ob *s = &c->scratch;
    switch (kind) {
    case K_LOGSTREAM:
        PUTL(b, "{\"logGroupName\":\"/aws/codebuild/");
        ob_puts(b, p->name);
        PUTL(b, "\",\"logStreamName\":\"");
        ob_puts(b, bu->uuid);
        PUTL(b, "\"},\"responseElements\":null");
        break;
    case K_WHOAMI:
        PUTL(b, "null,\"responseElements\":null");
        break;
    case K_SSM:
        PUTL(b, "{\"names\":[\"/");
        ob_puts(b, p->name);
        ob_c(b, '/');
        ob_puts(b, env);
        PUTL(b, "/DB_URL\",\"/");
        ob_puts(b, p->name);
        ob_c(b, '/');
        ob_puts(b, env);
        PUTL(b, "/API_KEY\"],\"withDecryption\":true},\"responseElements\":null");
        break;
    case K_SECRET:
        PUTL(b, "{\"secretId\":\"");
        ob_puts(b, env);
        ob_c(b, '/');
        ob_puts(b, p->name);
        PUTL(b, "/api-key\"},\"responseElements\":null");
        break;
    case K_ECR_AUTH:
        PUTL(b, "null,\"responseElements\":null");
        break;
    case K_ECR_CHECK:
    case K_ECR_GET:
    case K_ECR_INIT:
    case K_ECR_PART:
    case K_ECR_DONE:
    case K_ECR_PUT: {
        char up[37];
        fmt_uuid(up, g);
        PUTL(b, "{\"repositoryName\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"registryId\":\"");
        ob_put(b, a->id, 12);
        ob_c(b, '"');
        if (kind == K_ECR_CHECK) {
            PUTL(b, ",\"layerDigests\":[\"");
            ob_sha256ish(b, g);
            PUTL(b, "\",\"");
            ob_sha256ish(b, g);
            PUTL(b, "\"]},\"responseElements\":null");
        } else if (kind == K_ECR_GET) {
            PUTL(b, ",\"imageIds\":[{\"imageTag\":\"latest\"}],\"acceptedMediaTypes\":[\"application/"
                    "vnd.docker.distribution.manifest.v2+json\"]},\"responseElements\":null");
        } else if (kind == K_ECR_INIT) {
            PUTL(b, "},\"responseElements\":");
            if (ok) {
                PUTL(b, "{\"uploadId\":\"");
                ob_puts(b, up);
                PUTL(b, "\",\"partSize\":20971520}");
            } else {
                PUTL(b, "null");
            }
        } else if (kind == K_ECR_PART) {
            int64_t last = rng_range(g, 100000, 20971519);
            PUTL(b, ",\"uploadId\":\"");
            ob_puts(b, up);
            PUTL(b, "\",\"partFirstByte\":0,\"partLastByte\":");
            ob_i(b, last);
            PUTL(b, "},\"responseElements\":");
            if (ok) {
                PUTL(b, "{\"registryId\":\"");
                ob_put(b, a->id, 12);
                PUTL(b, "\",\"repositoryName\":\"");
                ob_puts(b, p->name);
                PUTL(b, "\",\"uploadId\":\"");
                ob_puts(b, up);
                PUTL(b, "\",\"lastByteReceived\":");
                ob_i(b, last);
                ob_c(b, '}');
            } else {
                PUTL(b, "null");
            }
        } else if (kind == K_ECR_DONE) {
            PUTL(b, ",\"uploadId\":\"");
            ob_puts(b, up);
            PUTL(b, "\",\"layerDigests\":[\"");
            size_t dg = b->n;
            ob_sha256ish(b, g);
            size_t dge = b->n;
            PUTL(b, "\"]},\"responseElements\":");
            if (ok) {
                char digest[80];
                memcpy(digest, b->p + dg, dge - dg);
                digest[dge - dg] = '\0';
                PUTL(b, "{\"registryId\":\"");
                ob_put(b, a->id, 12);
                PUTL(b, "\",\"repositoryName\":\"");
                ob_puts(b, p->name);
                PUTL(b, "\",\"uploadId\":\"");
                ob_puts(b, up);
                PUTL(b, "\",\"layerDigest\":\"");
                ob_puts(b, digest);
                PUTL(b, "\"}");
            } else {
                PUTL(b, "null");
            }
        } else { /* PutImage */
            char tag[16];
            snprintf(tag, sizeof tag, "build-%d", bu->number);
            PUTL(b, ",\"imageTag\":\"");
            ob_puts(b, tag);
            PUTL(b, "\",\"imageManifestMediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"},"
                    "\"responseElements\":");
            if (ok) {
                PUTL(b, "{\"image\":{\"registryId\":\"");
                ob_put(b, a->id, 12);
                PUTL(b, "\",\"repositoryName\":\"");
                ob_puts(b, p->name);
                PUTL(b, "\",\"imageId\":{\"imageDigest\":\"");
                ob_sha256ish(b, g);
                PUTL(b, "\",\"imageTag\":\"");
                ob_puts(b, tag);
                PUTL(b, "\"},\"imageManifestMediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"}}");
            } else {
                PUTL(b, "null");
            }
            s->n = 0;
            PUTL(s, "arn:aws:ecr:");
            ob_puts(s, c->region);
            ob_c(s, ':');
            ob_put(s, a->id, 12);
            PUTL(s, ":repository/");
            ob_puts(s, p->name);
            char arn[160];
            snprintf(arn, sizeof arn, "%s", ob_cstr(s));
            res_begin(c);
            res_add(c, "AWS::ECR::Repository", arn, NULL);
            res_end(c, &r);
        }
        break;
    }
    case K_ECS_DESC_TD:
        PUTL(b, "{\"taskDefinition\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\"},\"responseElements\":null");
        break;
    case K_ECS_REG_TD:
        PUTL(b, "{\"family\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\",\"containerDefinitions\":[{\"name\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"image\":\"");
        ob_put(b, a->id, 12);
        PUTL(b, ".dkr.ecr.");
        ob_puts(b, c->region);
        PUTL(b, ".amazonaws.com/");
        ob_puts(b, p->name);
        PUTL(b, ":build-");
        ob_i(b, bu->number);
        PUTL(b, "\",\"cpu\":256,\"memory\":512,\"essential\":true,\"portMappings\":[{\"containerPort\":8080,"
                "\"protocol\":\"tcp\"}]}],\"networkMode\":\"awsvpc\",\"requiresCompatibilities\":[\"FARGATE\"],"
                "\"cpu\":\"256\",\"memory\":\"512\",\"executionRoleArn\":\"");
        role_arn(b, a, &a->ecs_task_role);
        PUTL(b, "\"},\"responseElements\":");
        if (ok) {
            PUTL(b, "{\"taskDefinition\":{\"taskDefinitionArn\":\"arn:aws:ecs:");
            ob_puts(b, c->region);
            ob_c(b, ':');
            ob_put(b, a->id, 12);
            PUTL(b, ":task-definition/");
            ob_puts(b, p->name);
            ob_c(b, '-');
            ob_puts(b, env);
            ob_c(b, ':');
            ob_i(b, bu->number);
            PUTL(b, "\",\"family\":\"");
            ob_puts(b, p->name);
            ob_c(b, '-');
            ob_puts(b, env);
            PUTL(b, "\",\"revision\":");
            ob_i(b, bu->number);
            PUTL(b, ",\"status\":\"ACTIVE\",\"registeredAt\":\"");
            ob_java(b, t, 1);
            PUTL(b, "\"}}");
        } else {
            PUTL(b, "null");
        }
        break;
    case K_ECS_UPDATE:
    case K_ECS_DESC:
        PUTL(b, "{\"cluster\":\"");
        ob_puts(b, env);
        PUTL(b, "-cluster\",");
        if (kind == K_ECS_DESC) {
            PUTL(b, "\"services\":[\"");
            ob_puts(b, p->name);
            PUTL(b, "\"]},\"responseElements\":null");
            break;
        }
        PUTL(b, "\"service\":\"");
        ob_puts(b, p->name);
        PUTL(b, "\",\"taskDefinition\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        ob_c(b, ':');
        ob_i(b, bu->number);
        PUTL(b, "\",\"forceNewDeployment\":false},\"responseElements\":");
        if (ok) {
            PUTL(b, "{\"service\":{\"serviceArn\":\"arn:aws:ecs:");
            ob_puts(b, c->region);
            ob_c(b, ':');
            ob_put(b, a->id, 12);
            PUTL(b, ":service/");
            ob_puts(b, env);
            PUTL(b, "-cluster/");
            ob_puts(b, p->name);
            PUTL(b, "\",\"serviceName\":\"");
            ob_puts(b, p->name);
            PUTL(b, "\",\"status\":\"ACTIVE\",\"desiredCount\":2,\"runningCount\":2,\"pendingCount\":0,"
                    "\"deployments\":[{\"id\":\"ecs-svc/");
            ob_i(b, rng_range(g, 1000000000, 1999999999));
            ob_i(b, rng_range(g, 100000000, 999999999));
            PUTL(b, "\",\"status\":\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\"}]}}");
        } else {
            PUTL(b, "null");
        }
        break;
    case K_CFN_DESC:
    case K_CFN_EVENTS:
    case K_CFN_TEMPLATE:
        PUTL(b, "{\"stackName\":\"");
        if (kind == K_CFN_EVENTS) {
            ob_stack_arn(b, c, bu);
        } else {
            ob_puts(b, p->name);
            ob_c(b, '-');
            ob_puts(b, env);
        }
        if (kind == K_CFN_TEMPLATE)
            PUTL(b, "\",\"templateStage\":\"Original");
        PUTL(b, "\"},\"responseElements\":null");
        break;
    case K_CFN_CREATE_CS:
    case K_CFN_UPDATE:
        PUTL(b, "{\"stackName\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\",\"templateURL\":\"https://s3.");
        ob_puts(b, c->region);
        PUTL(b, ".amazonaws.com/cdk-hnb659fds-assets-");
        ob_put(b, a->id, 12);
        ob_c(b, '-');
        ob_puts(b, c->region);
        ob_c(b, '/');
        ob_hex(b, g, 64);
        PUTL(b, ".json\",\"parameters\":[{\"parameterKey\":\"ImageTag\",\"parameterValue\":\"build-");
        ob_i(b, bu->number);
        PUTL(b, "\"}],\"capabilities\":[\"CAPABILITY_IAM\",\"CAPABILITY_NAMED_IAM\",\"CAPABILITY_AUTO_EXPAND\"]");
        if (kind == K_CFN_CREATE_CS)
            PUTL(b, ",\"changeSetName\":\"cdk-deploy-change-set\",\"changeSetType\":\"UPDATE\"");
        PUTL(b, "},\"responseElements\":");
        if (!ok) {
            PUTL(b, "null");
        } else if (kind == K_CFN_CREATE_CS) {
            PUTL(b, "{\"id\":\"arn:aws:cloudformation:");
            ob_puts(b, c->region);
            ob_c(b, ':');
            ob_put(b, a->id, 12);
            PUTL(b, ":changeSet/cdk-deploy-change-set/");
            ob_uuid(b, g);
            PUTL(b, "\",\"stackId\":\"");
            ob_stack_arn(b, c, bu);
            PUTL(b, "\"}");
        } else {
            PUTL(b, "{\"stackId\":\"");
            ob_stack_arn(b, c, bu);
            PUTL(b, "\"}");
        }
        break;
    case K_CFN_DESC_CS:
    case K_CFN_EXEC_CS:
        PUTL(b, "{\"changeSetName\":\"cdk-deploy-change-set\",\"stackName\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\"},\"responseElements\":null");
        break;
    case K_LMB_GET:
    case K_LMB_GETCONF:
        PUTL(b, "{\"functionName\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\"},\"responseElements\":null");
        break;
    case K_LMB_CODE:
    case K_LMB_CONF:
    case K_LMB_PUBLISH:
    case K_LMB_ALIAS: {
        int ver = bu->number % 97 + 1;
        PUTL(b, "{\"functionName\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        ob_c(b, '"');
        if (kind == K_LMB_CODE) {
            PUTL(b, ",\"s3Bucket\":\"codebuild-");
            ob_puts(b, c->region);
            ob_c(b, '-');
            ob_put(b, a->id, 12);
            PUTL(b, "-artifacts\",\"s3Key\":\"");
            ob_puts(b, p->name);
            ob_c(b, '/');
            ob_hex(b, g, 32);
            PUTL(b, ".zip\",\"publish\":false,\"dryRun\":false");
        } else if (kind == K_LMB_CONF) {
            PUTL(b, ",\"timeout\":30,\"memorySize\":512");
        } else if (kind == K_LMB_PUBLISH) {
            PUTL(b, ",\"description\":\"build ");
            ob_i(b, bu->number);
            ob_c(b, '"');
        } else {
            PUTL(b, ",\"name\":\"live\",\"functionVersion\":\"");
            ob_i(b, ver);
            ob_c(b, '"');
        }
        PUTL(b, "},\"responseElements\":");
        if (!ok) {
            PUTL(b, "null");
            break;
        }
        if (kind == K_LMB_ALIAS) {
            PUTL(b, "{\"aliasArn\":\"arn:aws:lambda:");
            ob_puts(b, c->region);
            ob_c(b, ':');
            ob_put(b, a->id, 12);
            PUTL(b, ":function:");
            ob_puts(b, p->name);
            ob_c(b, '-');
            ob_puts(b, env);
            PUTL(b, ":live\",\"name\":\"live\",\"functionVersion\":\"");
            ob_i(b, ver);
            PUTL(b, "\",\"revisionId\":\"");
            ob_uuid(b, g);
            PUTL(b, "\"}");
            break;
        }
        PUTL(b, "{\"functionName\":\"");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        PUTL(b, "\",\"functionArn\":\"arn:aws:lambda:");
        ob_puts(b, c->region);
        ob_c(b, ':');
        ob_put(b, a->id, 12);
        PUTL(b, ":function:");
        ob_puts(b, p->name);
        ob_c(b, '-');
        ob_puts(b, env);
        if (kind == K_LMB_PUBLISH) {
            ob_c(b, ':');
            ob_i(b, ver);
        }
        PUTL(b, "\",\"runtime\":\"python3.12\",\"role\":\"arn:aws:iam::");
        ob_put(b, a->id, 12);
        PUTL(b, ":role/");
        ob_puts(b, p->name);
        PUTL(b, "-lambda-role\",\"handler\":\"app.handler\",\"codeSize\":");
        ob_i(b, rng_range(g, 20000, 9000000));
        PUTL(b, ",\"description\":\"\",\"timeout\":30,\"memorySize\":512,\"lastModified\":\"");
        ob_iso(b, t);
        b->n--; /* drop Z: lambda writes +0000 with millis */
        PUTL(b, ".000+0000\",\"codeSha256\":\"");
        ob_alnum(b, g, 43);
        PUTL(b, "=\",\"version\":\"");
        if (kind == K_LMB_PUBLISH)
            ob_i(b, ver);
        else
            PUTL(b, "$LATEST");
        PUTL(b, "\",\"tracingConfig\":{\"mode\":\"PassThrough\"},\"revisionId\":\"");
        ob_uuid(b, g);
        PUTL(b, "\",\"state\":\"Active\",\"lastUpdateStatus\":\"InProgress\",\"packageType\":\"Zip\","
                "\"architectures\":[\"x86_64\"]}");
        break;
    }
    case K_S3_LIST:
        PUTL(b, "{\"Host\":\"s3.");
        ob_puts(b, c->region);
        PUTL(b, ".amazonaws.com\"},\"responseElements\":null");
        s3_extra(b, g, 2000 + (int)rng_below(g, 6000));
        {
            static __thread char host[64];
            snprintf(host, sizeof host, "s3.%s.amazonaws.com", c->region);
            r.host = host;
        }
        break;
    case K_S3_LOC:
    case K_S3_PUTPOL:
    case K_S3_GETPOL: {
        static __thread char host[200];
        snprintf(host, sizeof host, "%s.s3.%s.amazonaws.com", bucket, c->region);
        r.host = host;
        PUTL(b, "{\"bucketName\":\"");
        ob_puts(b, bucket);
        PUTL(b, "\",\"Host\":\"");
        ob_puts(b, host);
        if (kind == K_S3_LOC)
            PUTL(b, "\",\"location\":\"\"}");
        else if (kind == K_S3_GETPOL)
            PUTL(b, "\",\"policy\":\"\"}");
        else {
            PUTL(b, "\",\"bucketPolicy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"PublicRead\","
                    "\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::");
            ob_puts(b, bucket);
            PUTL(b, "/*\"}]},\"policy\":\"\"}");
        }
        PUTL(b, ",\"responseElements\":null");
        s3_extra(b, g, kind == K_S3_LOC ? 137 : kind == K_S3_GETPOL ? 412 : 0);
        res_begin(c);
        res_add(c, "AWS::S3::Bucket", "arn:aws:s3:::", bucket);
        res_end(c, &r);
        break;
    }
    case K_STS_ASSUME: {
        char target[160];
        snprintf(target, sizeof target, "arn:aws:iam::%s:role/cdk-hnb659fds-deploy-role-%s-%s", a->id,
                 a->id, c->region);
        PUTL(b, "{\"roleArn\":\"");
        ob_puts(b, target);
        PUTL(b, "\",\"roleSessionName\":\"aws-cdk-codebuild\",\"durationSeconds\":3600},\"responseElements\":");
        if (ok) {
            PUTL(b, "{\"credentials\":{\"accessKeyId\":\"ASIA");
            ob_reserve(b, 16);
            for (int i = 0; i < 16; i++)
                b->p[b->n + i] = B32U[rng_below(g, 32)];
            b->n += 16;
            PUTL(b, "\",\"sessionToken\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",\"expiration\":\"");
            ob_java(b, t + 3600, 1);
            PUTL(b, "\"},\"assumedRoleUser\":{\"assumedRoleId\":\"AROA");
            ob_reserve(b, 17);
            for (int i = 0; i < 17; i++)
                b->p[b->n + i] = B32U[rng_below(g, 32)];
            b->n += 17;
            PUTL(b, ":aws-cdk-codebuild\",\"arn\":\"arn:aws:sts::");
            ob_put(b, a->id, 12);
            PUTL(b, ":assumed-role/cdk-hnb659fds-deploy-role-");
            ob_put(b, a->id, 12);
            ob_c(b, '-');
            ob_puts(b, c->region);
            PUTL(b, "/aws-cdk-codebuild\"}}");
        } else {
            PUTL(b, "null");
        }
        res_begin(c);
        res_add(c, "AWS::IAM::Role", target, NULL);
        res_end(c, &r);
        break;
    }
    default: { /* K_KMS_DECRYPT */
        PUTL(b, "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{\"PARAMETER_ARN\":"
                "\"arn:aws:ssm:");
        ob_puts(b, c->region);
        ob_c(b, ':');
        ob_put(b, a->id, 12);
        PUTL(b, ":parameter/");
        ob_puts(b, p->name);
        ob_c(b, '/');
        ob_puts(b, env);
        PUTL(b, "/API_KEY\"}},\"responseElements\":null");
        char karn[128];
        snprintf(karn, sizeof karn, "arn:aws:kms:%s:%s:key/%s", c->region, a->id, a->kms_key);
        res_begin(c);
        res_add(c, "AWS::KMS::Key", karn, NULL);
        res_end(c, &r);
        break;
    }
    }
    rec_end(c, b, &r, g);
}

/* ------------------------------------------------------------------------- */
/* Unrelated management events (the bulk of a real trail).                    */

enum { NI_HUMAN, NI_MON, NI_LAMBDA, NI_ECSTASK };

static const char UA_LAMBDA[] =
    "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224-235.871.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.145";
/* ECS-on-EC2 tasks carry the same exec-env marker as CodeBuild builds. */
static const char UA_ECS_TASK[] =
    "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.3+9-LTS "
    "Java/21.0.3 vendor/Amazon.com_Inc. exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy";

/* A userIdentity for a noise event; sets ip and ua. Returns the principal ARN
 * kind used (NI_*). */
static int noise_ident(ctx *c, ob *b, rec *r, rng *g, int kind)
{
    static __thread char ip[20];
    const account *a = c->a;
    char akid[24], sess[40];
    fmt_awsid(akid, g, "ASIA", 16);
    switch (kind) {
    case NI_HUMAN:
        id_principal(b, a, &a->pr[pick_human(g)], r, g);
        break;
    case NI_MON:
        fmt_ip(ip, sizeof ip, g, 1);
        r->ip = ip;
        r->ua = UA_STR[UA_BOTO3];
        id_session(b, a, &a->mon_role, "datadog-aws-integration", akid, r->t - rng_range(g, 0, 3500), NULL);
        break;
    case NI_LAMBDA: {
        int i = (int)rng_below(g, 4);
        fmt_ip(ip, sizeof ip, g, 1);
        r->ip = ip;
        r->ua = UA_LAMBDA;
        id_session(b, a, &a->lambda_roles[i], LAMBDA_FNS[i], akid, r->t - rng_range(g, 0, 3500), NULL);
        break;
    }
    default:
        fmt_ip(ip, sizeof ip, g, 1);
        r->ip = ip;
        r->ua = UA_ECS_TASK;
        fmt_chars(sess, g, HEX, 32);
        id_session(b, a, &a->ecs_task_role, sess, akid, r->t - rng_range(g, 0, 3500), NULL);
    }
    return kind;
}

/* Occasionally fail a person's call with the service's access-denied shape. */
static void noise_error(rec *r, rng *g, const char *code, const char *iam, char *msg, size_t n)
{
    if (!rng_chance(g, 0.03))
        return;
    r->err = code;
    r->errmsg = msg;
    if (!strcmp(code, "Client.UnauthorizedOperation"))
        snprintf(msg, n, "You are not authorized to perform this operation. Encoded authorization "
                         "failure message: %s", "AQoDYXdzEPT__EXAMPLE_ENCODED_MESSAGE");
    else if (!strcmp(code, "AccessDenied") && !strncmp(iam, "s3:", 3))
        snprintf(msg, n, "Access Denied");
    else
        snprintf(msg, n, "User is not authorized to perform: %s", iam);
}

static void render_noise(ctx *c, ob *b, int64_t t, rng *g)
{
    enum {
        N_EC2_DESC, N_EC2_WRITE, N_KMS, N_STS_SVC, N_STS_WHO, N_S3, N_IAM, N_SIGNIN, N_LAMBDA,
        N_LOGS, N_SSM, N_ECS, N_CFN, N_CB_READ, N_CW, N_SECRETS, N_SVCEVENT, N_ECS_TASK, NN
    };
    static const int w[NN] = {
        [N_EC2_DESC] = 28, [N_EC2_WRITE] = 2, [N_KMS] = 24, [N_STS_SVC] = 20, [N_STS_WHO] = 6,
        [N_S3] = 16, [N_IAM] = 16, [N_SIGNIN] = 2, [N_LAMBDA] = 10, [N_LOGS] = 10, [N_SSM] = 12,
        [N_ECS] = 6, [N_CFN] = 8, [N_CB_READ] = 6, [N_CW] = 10, [N_SECRETS] = 6, [N_SVCEVENT] = 1,
        [N_ECS_TASK] = 6};
    const account *a = c->a;
    int kind;
    do
        kind = rng_weighted(g, w, NN);
    while ((kind == N_IAM || kind == N_SIGNIN) && !c->is_use1);
    rec r;
    char msg[400];
    ob *s = &c->scratch;
    switch (kind) {
    case N_EC2_DESC: {
        static const char *const ops[] = {"DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs",
                                          "DescribeSubnets", "DescribeVolumes", "DescribeNetworkInterfaces",
                                          "DescribeImages", "DescribeInstanceStatus"};
        rec_init(&r, g, t, "ec2.amazonaws.com", PICK(g, ops));
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, rng_chance(g, 0.6) ? NI_MON : NI_HUMAN);
        rec_mid(c, b, &r);
        if (!strcmp(r.name, "DescribeInstances"))
            PUTL(b, "{\"instancesSet\":{},\"filterSet\":{}},\"responseElements\":null");
        else if (!strcmp(r.name, "DescribeImages"))
            PUTL(b, "{\"executableBySet\":{},\"imagesSet\":{},\"ownersSet\":{\"items\":[{\"owner\":\"self\"}]},"
                    "\"availabilitySet\":{},\"instanceTypeSet\":{},\"filterSet\":{}},\"responseElements\":null");
        else
            PUTL(b, "{\"maxResults\":1000,\"filterSet\":{}},\"responseElements\":null");
        break;
    }
    case N_EC2_WRITE: {
        static const char *const ops[] = {"CreateTags", "StopInstances", "StartInstances"};
        char inst[24];
        snprintf(inst, sizeof inst, "i-0");
        fmt_chars(inst + 3, g, HEX, 16);
        rec_init(&r, g, t, "ec2.amazonaws.com", PICK(g, ops));
        r.readonly = 0;
        char iam[64];
        snprintf(iam, sizeof iam, "ec2:%s", r.name);
        noise_error(&r, g, "Client.UnauthorizedOperation", iam, msg, sizeof msg);
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_HUMAN);
        rec_mid(c, b, &r);
        if (!strcmp(r.name, "CreateTags")) {
            PUTL(b, "{\"resourcesSet\":{\"items\":[{\"resourceId\":\"");
            ob_puts(b, inst);
            PUTL(b, "\"}]},\"tagSet\":{\"items\":[{\"key\":\"owner\",\"value\":\"platform\"}]}},\"responseElements\":");
            if (r.err)
                PUTL(b, "null");
            else {
                PUTL(b, "{\"requestId\":\"");
                ob_uuid(b, g);
                PUTL(b, "\",\"_return\":true}");
            }
        } else {
            PUTL(b, "{\"instancesSet\":{\"items\":[{\"instanceId\":\"");
            ob_puts(b, inst);
            PUTL(b, "\"}]}");
            if (r.name[2] == 'o')
                PUTL(b, ",\"force\":false");
            PUTL(b, "},\"responseElements\":");
            if (r.err)
                PUTL(b, "null");
            else {
                int stop = r.name[2] == 'o';
                PUTL(b, "{\"requestId\":\"");
                ob_uuid(b, g);
                PUTL(b, "\",\"instancesSet\":{\"items\":[{\"instanceId\":\"");
                ob_puts(b, inst);
                if (stop)
                    PUTL(b, "\",\"currentState\":{\"code\":64,\"name\":\"stopping\"},\"previousState\":{\"code\":16,\"name\":\"running\"}}]}}");
                else
                    PUTL(b, "\",\"currentState\":{\"code\":0,\"name\":\"pending\"},\"previousState\":{\"code\":80,\"name\":\"stopped\"}}]}}");
            }
        }
        break;
    }
    case N_KMS: {
        static const char *const svcs[] = {"secretsmanager.amazonaws.com", "s3.amazonaws.com", "ssm.amazonaws.com",
                                           "logs.amazonaws.com", "cloudtrail.amazonaws.com", "lambda.amazonaws.com"};
        const char *svc = PICK(g, svcs);
        rec_init(&r, g, t, "kms.amazonaws.com", rng_chance(g, 0.7) ? "Decrypt" : "GenerateDataKey");
        r.ip = r.ua = svc;
        r.tls = 0;
        rec_begin(b, &r);
        id_service(b, svc);
        rec_mid(c, b, &r);
        if (r.name[0] == 'D')
            PUTL(b, "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{\"aws:");
        else
            PUTL(b, "{\"keySpec\":\"AES_256\",\"encryptionContext\":{\"aws:");
        ob_put(b, svc, (size_t)(strchr(svc, '.') - svc));
        PUTL(b, ":arn\":\"arn:aws:");
        ob_put(b, svc, (size_t)(strchr(svc, '.') - svc));
        ob_c(b, ':');
        ob_puts(b, c->region);
        ob_c(b, ':');
        ob_put(b, a->id, 12);
        PUTL(b, ":resource-");
        ob_hex(b, g, 8);
        PUTL(b, "\"}");
        if (r.name[0] == 'G') {
            PUTL(b, ",\"keyId\":\"arn:aws:kms:");
            ob_puts(b, c->region);
            ob_c(b, ':');
            ob_put(b, a->id, 12);
            PUTL(b, ":key/");
            ob_puts(b, a->kms_key);
            ob_c(b, '"');
        }
        PUTL(b, "},\"responseElements\":null");
        s->n = 0;
        ob_printf(s, "arn:aws:kms:%s:%s:key/%s", c->region, a->id, a->kms_key);
        {
            char karn[128];
            snprintf(karn, sizeof karn, "%s", ob_cstr(s));
            res_begin(c);
            res_add(c, "AWS::KMS::Key", karn, NULL);
            res_end(c, &r);
        }
        break;
    }
    case N_STS_SVC: {
        int which = (int)rng_below(g, 3);
        static const char *const svcs[] = {"lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com"};
        const role *ro = which == 0 ? &a->lambda_roles[rng_below(g, 4)] : which == 1 ? &a->ecs_task_role : &a->ec2_role;
        char sess[40];
        if (which == 0)
            snprintf(sess, sizeof sess, "%s", LAMBDA_FNS[ro - a->lambda_roles]);
        else if (which == 1)
            fmt_chars(sess, g, HEX, 32);
        else {
            snprintf(sess, sizeof sess, "i-0");
            fmt_chars(sess + 3, g, HEX, 16);
        }
        rec_init(&r, g, t, "sts.amazonaws.com", "AssumeRole");
        r.ip = r.ua = svcs[which];
        r.tls = 0;
        rec_begin(b, &r);
        id_service(b, svcs[which]);
        rec_mid(c, b, &r);
        PUTL(b, "{\"roleArn\":\"");
        role_arn(b, a, ro);
        PUTL(b, "\",\"roleSessionName\":\"");
        ob_puts(b, sess);
        PUTL(b, "\"},\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIA");
        ob_reserve(b, 16);
        for (int i = 0; i < 16; i++)
            b->p[b->n + i] = B32U[rng_below(g, 32)];
        b->n += 16;
        PUTL(b, "\",\"sessionToken\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",\"expiration\":\"");
        ob_java(b, t + 3600 * (which == 2 ? 6 : 12), 1);
        PUTL(b, "\"},\"assumedRoleUser\":{\"assumedRoleId\":\"");
        ob_puts(b, ro->id);
        ob_c(b, ':');
        ob_puts(b, sess);
        PUTL(b, "\",\"arn\":\"arn:aws:sts::");
        ob_put(b, a->id, 12);
        PUTL(b, ":assumed-role/");
        ob_puts(b, ro->name);
        ob_c(b, '/');
        ob_puts(b, sess);
        PUTL(b, "\"}}");
        s->n = 0;
        role_arn(s, a, ro);
        {
            char rarn[200];
            snprintf(rarn, sizeof rarn, "%s", ob_cstr(s));
            res_begin(c);
            res_add(c, "AWS::IAM::Role", rarn, NULL);
            res_end(c, &r);
        }
        break;
    }
    case N_STS_WHO:
        rec_init(&r, g, t, "sts.amazonaws.com", "GetCallerIdentity");
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_HUMAN);
        rec_mid(c, b, &r);
        PUTL(b, "null,\"responseElements\":null");
        break;
    case N_S3: {
        static const char *const ops[] = {"ListBuckets", "GetBucketAcl", "GetBucketVersioning",
                                          "GetBucketLocation", "GetBucketPolicyStatus", "GetBucketEncryption"};
        static const char *const kinds[] = {"data", "logs", "backups", "static"};
        char bucket[96], iam[64];
        snprintf(bucket, sizeof bucket, "%s-%s-%s", a->gh_org, PICK(g, kinds), a->id);
        rec_init(&r, g, t, "s3.amazonaws.com", PICK(g, ops));
        r.reqid = 2;
        snprintf(iam, sizeof iam, "s3:%s", r.name);
        rec_begin(b, &r);
        int who = noise_ident(c, b, &r, g, rng_chance(g, 0.5) ? NI_MON : NI_HUMAN);
        if (who == NI_HUMAN)
            noise_error(&r, g, "AccessDenied", iam, msg, sizeof msg);
        rec_mid(c, b, &r);
        static __thread char host[160];
        if (!strcmp(r.name, "ListBuckets")) {
            snprintf(host, sizeof host, "s3.%s.amazonaws.com", c->region);
            PUTL(b, "{\"Host\":\"");
            ob_puts(b, host);
            PUTL(b, "\"},\"responseElements\":null");
            r.host = host;
            s3_extra(b, g, 1500 + (int)rng_below(g, 5000));
        } else {
            snprintf(host, sizeof host, "%s.s3.%s.amazonaws.com", bucket, c->region);
            r.host = host;
            PUTL(b, "{\"bucketName\":\"");
            ob_puts(b, bucket);
            PUTL(b, "\",\"Host\":\"");
            ob_puts(b, host);
            PUTL(b, "\",\"");
            if (r.name[9] == 'A')
                PUTL(b, "acl");
            else if (r.name[9] == 'V')
                PUTL(b, "versioning");
            else if (r.name[9] == 'L')
                PUTL(b, "location");
            else if (r.name[9] == 'P')
                PUTL(b, "policyStatus");
            else
                PUTL(b, "encryption");
            PUTL(b, "\":\"\"},\"responseElements\":null");
            s3_extra(b, g, 100 + (int)rng_below(g, 900));
            res_begin(c);
            res_add(c, "AWS::S3::Bucket", "arn:aws:s3:::", bucket);
            res_end(c, &r);
        }
        break;
    }
    case N_IAM: {
        static const char *const ops[] = {"ListRoles", "GetRole", "ListAttachedRolePolicies", "ListUsers",
                                          "GetPolicyVersion", "ListRolePolicies", "GetRole", "CreateAccessKey",
                                          "AttachRolePolicy"};
        int op = (int)rng_below(g, NELEM(ops));
        rec_init(&r, g, t, "iam.amazonaws.com", ops[op]);
        r.region = "us-east-1";
        r.readonly = op < 7;
        char iam[64];
        snprintf(iam, sizeof iam, "iam:%s", r.name);
        rec_begin(b, &r);
        int who = noise_ident(c, b, &r, g, op < 7 && rng_chance(g, 0.5) ? NI_MON : NI_HUMAN);
        if (who == NI_HUMAN)
            noise_error(&r, g, "AccessDenied", iam, msg, sizeof msg);
        rec_mid(c, b, &r);
        const role *ro = &a->lambda_roles[rng_below(g, 4)];
        switch (op) {
        case 0:
        case 3:
            PUTL(b, "{\"maxItems\":100},\"responseElements\":null");
            break;
        case 1:
        case 2:
        case 5:
        case 6:
            PUTL(b, "{\"roleName\":\"");
            ob_puts(b, ro->name);
            PUTL(b, "\"},\"responseElements\":null");
            break;
        case 4:
            PUTL(b, "{\"policyArn\":\"arn:aws:iam::aws:policy/ReadOnlyAccess\",\"versionId\":\"v");
            ob_i(b, rng_range(g, 90, 130));
            PUTL(b, "\"},\"responseElements\":null");
            break;
        case 7: {
            const principal *pr = &a->pr[rng_below(g, 3)];
            PUTL(b, "{\"userName\":\"");
            ob_puts(b, pr->name);
            PUTL(b, "\"},\"responseElements\":");
            if (r.err)
                PUTL(b, "null");
            else {
                PUTL(b, "{\"accessKey\":{\"userName\":\"");
                ob_puts(b, pr->name);
                PUTL(b, "\",\"accessKeyId\":\"AKIA");
                ob_reserve(b, 16);
                for (int i = 0; i < 16; i++)
                    b->p[b->n + i] = B32U[rng_below(g, 32)];
                b->n += 16;
                PUTL(b, "\",\"status\":\"Active\",\"createDate\":\"");
                ob_java(b, t, 1);
                PUTL(b, "\"}}");
            }
            break;
        }
        default:
            PUTL(b, "{\"roleName\":\"");
            ob_puts(b, ro->name);
            PUTL(b, "\",\"policyArn\":\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"},\"responseElements\":null");
        }
        break;
    }
    case N_SIGNIN: {
        rec_init(&r, g, t, "signin.amazonaws.com", "ConsoleLogin");
        r.region = "us-east-1";
        r.readonly = 0;
        r.reqid = 0;
        r.tls = 0;
        r.etype = "AwsConsoleSignIn";
        int root = rng_chance(g, 0.1);
        int fail = rng_chance(g, 0.05);
        const principal *pr = &a->pr[rng_below(g, 3)];
        r.ip = pr->ip;
        r.ua = UA_STR[UA_CONSOLE];
        if (fail) {
            r.errmsg = "Failed authentication";
        }
        rec_begin(b, &r);
        if (root) {
            PUTL(b, "{\"type\":\"Root\",\"principalId\":\"");
            ob_put(b, a->id, 12);
            PUTL(b, "\",\"arn\":\"arn:aws:iam::");
            ob_put(b, a->id, 12);
            PUTL(b, ":root\",\"accountId\":\"");
            ob_put(b, a->id, 12);
            PUTL(b, "\",\"accessKeyId\":\"\"}");
        } else {
            ob_puts(b, pr->ident);
        }
        rec_mid(c, b, &r);
        if (fail) {
            /* signin failures carry errorMessage without errorCode; insert it */
            b->n -= sizeof(",\"requestParameters\":") - 1;
            PUTL(b, ",\"errorMessage\":\"Failed authentication\",\"requestParameters\":");
        }
        PUTL(b, "null,\"responseElements\":{\"ConsoleLogin\":\"");
        ob_puts(b, fail ? "Failure" : "Success");
        PUTL(b, "\"},\"additionalEventData\":{\"LoginTo\":\"https://console.aws.amazon.com/console/home"
                "?state=hashArgs%23&isauthcode=true\",\"MobileVersion\":\"No\",\"MFAUsed\":\"");
        ob_puts(b, root || rng_chance(g, 0.5) ? "Yes" : "No");
        PUTL(b, "\"}");
        break;
    }
    case N_LAMBDA: {
        rec_init(&r, g, t, "lambda.amazonaws.com", rng_chance(g, 0.5) ? "ListFunctions20150331" : "GetFunction20150331v2");
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_HUMAN);
        rec_mid(c, b, &r);
        if (r.name[0] == 'L')
            PUTL(b, "null,\"responseElements\":null");
        else {
            PUTL(b, "{\"functionName\":\"");
            ob_puts(b, PICK(g, LAMBDA_FNS));
            PUTL(b, "\"},\"responseElements\":null");
        }
        break;
    }
    case N_LOGS: {
        rec_init(&r, g, t, "logs.amazonaws.com", rng_chance(g, 0.8) ? "DescribeLogGroups" : "CreateLogGroup");
        r.readonly = r.name[0] == 'D';
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, r.readonly ? NI_MON : NI_HUMAN);
        rec_mid(c, b, &r);
        if (r.readonly)
            PUTL(b, "{\"limit\":50},\"responseElements\":null");
        else {
            PUTL(b, "{\"logGroupName\":\"/app/");
            ob_puts(b, PICK(g, LAMBDA_FNS));
            PUTL(b, "\"},\"responseElements\":null");
        }
        break;
    }
    case N_SSM:
    case N_SECRETS:
    case N_ECS_TASK: {
        int task = kind == N_ECS_TASK;
        int ssm = kind == N_SSM || (task && rng_chance(g, 0.5));
        rec_init(&r, g, t, ssm ? "ssm.amazonaws.com" : "secretsmanager.amazonaws.com",
                 ssm ? "GetParameter" : "GetSecretValue");
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, task ? NI_ECSTASK : NI_LAMBDA);
        rec_mid(c, b, &r);
        const char *fn = task ? "orders-api" : PICK(g, LAMBDA_FNS);
        if (ssm) {
            PUTL(b, "{\"name\":\"/app/");
            ob_puts(b, fn);
            PUTL(b, "/config\",\"withDecryption\":true},\"responseElements\":null");
        } else {
            PUTL(b, "{\"secretId\":\"prod/");
            ob_puts(b, fn);
            PUTL(b, "/db\"},\"responseElements\":null");
        }
        break;
    }
    case N_ECS: {
        static const char *const ops[] = {"DescribeClusters", "ListTasks", "ListServices"};
        rec_init(&r, g, t, "ecs.amazonaws.com", PICK(g, ops));
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_MON);
        rec_mid(c, b, &r);
        PUTL(b, "{\"cluster\":\"prod-cluster\"},\"responseElements\":null");
        break;
    }
    case N_CFN: {
        rec_init(&r, g, t, "cloudformation.amazonaws.com", rng_chance(g, 0.6) ? "DescribeStacks" : "ListStacks");
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_HUMAN);
        rec_mid(c, b, &r);
        if (r.name[0] == 'L')
            PUTL(b, "{\"stackStatusFilter\":[\"CREATE_COMPLETE\",\"UPDATE_COMPLETE\",\"UPDATE_ROLLBACK_COMPLETE\"]},"
                    "\"responseElements\":null");
        else
            PUTL(b, "null,\"responseElements\":null");
        break;
    }
    case N_CB_READ: {
        /* CodeBuild reads not tied to any one build */
        int np = 0, pidx[8];
        for (int j = 0; j < a->nprojects; j++)
            if (PROJ[a->first_project + j].region == c->st->region)
                pidx[np++] = a->first_project + j;
        int op = np ? (int)rng_below(g, 3) : 0;
        static const char *const ops[] = {"ListProjects", "BatchGetProjects", "ListBuildsForProject"};
        rec_init(&r, g, t, "codebuild.amazonaws.com", ops[op]);
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_HUMAN);
        rec_mid(c, b, &r);
        if (op == 0)
            PUTL(b, "{\"sortBy\":\"NAME\",\"sortOrder\":\"ASCENDING\"},\"responseElements\":null");
        else {
            const project *p = &PROJ[pidx[rng_below(g, (uint32_t)np)]];
            if (op == 1)
                PUTL(b, "{\"names\":[\"");
            else
                PUTL(b, "{\"sortOrder\":\"DESCENDING\",\"projectName\":\"");
            ob_puts(b, p->name);
            ob_puts(b, op == 1 ? "\"]},\"responseElements\":null" : "\"},\"responseElements\":null");
        }
        break;
    }
    case N_CW:
        rec_init(&r, g, t, "monitoring.amazonaws.com", rng_chance(g, 0.6) ? "DescribeAlarms" : "ListMetrics");
        rec_begin(b, &r);
        noise_ident(c, b, &r, g, NI_MON);
        rec_mid(c, b, &r);
        if (r.name[0] == 'D')
            PUTL(b, "{\"maxRecords\":100},\"responseElements\":null");
        else
            PUTL(b, "{\"namespace\":\"AWS/Lambda\"},\"responseElements\":null");
        break;
    default: { /* N_SVCEVENT: KMS automatic key rotation, identity without a type */
        rec_init(&r, g, t, "kms.amazonaws.com", "RotateKey");
        r.readonly = 0;
        r.reqid = 0;
        r.tls = 0;
        r.etype = "AwsServiceEvent";
        r.ip = r.ua = "kms.amazonaws.com";
        rec_begin(b, &r);
        PUTL(b, "{\"accountId\":\"");
        ob_put(b, a->id, 12);
        PUTL(b, "\",\"invokedBy\":\"kms.amazonaws.com\"}");
        rec_mid(c, b, &r);
        PUTL(b, "null,\"responseElements\":null");
        static __thread char det[64];
        snprintf(det, sizeof det, "{\"keyId\":\"%s\"}", a->kms_key);
        r.svc_details = det;
        char karn[128];
        snprintf(karn, sizeof karn, "arn:aws:kms:%s:%s:key/%s", c->region, a->id, a->kms_key);
        res_begin(c);
        res_add(c, "AWS::KMS::Key", karn, NULL);
        res_end(c, &r);
    }
    }
    rec_end(c, b, &r, g);
}

/* ------------------------------------------------------------------------- */
/* EventBridge: per (account, region, UTC day) ndjson, lines in time order.    */

typedef struct ebline {
    int64_t t;
    uint64_t seq;
    char *p;
    size_t n;
} ebline;

static ebline *EBQ;
static size_t EBQ_N, EBQ_CAP;
static uint64_t EB_SEQ;
static FILE *EB_FP;
static int64_t EB_DAY = INT64_MIN;
static int64_t N_EB;
static int64_t N_EB_FILES;

static void eb_push(int64_t t, const ob *line)
{
    if (EBQ_N == EBQ_CAP) {
        EBQ_CAP = EBQ_CAP ? EBQ_CAP * 2 : 1024;
        EBQ = xrealloc(EBQ, EBQ_CAP * sizeof *EBQ);
    }
    ebline *e = &EBQ[EBQ_N++];
    e->t = t;
    e->seq = EB_SEQ++;
    e->p = xmalloc(line->n);
    memcpy(e->p, line->p, line->n);
    e->n = line->n;
}

static int cmp_ebline(const void *x, const void *y)
{
    const ebline *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Writes queued lines with time < limit (all when limit == INT64_MAX). */
static void eb_flush(const ctx *c, int64_t limit)
{
    if (!EBQ_N)
        return;
    qsort(EBQ, EBQ_N, sizeof *EBQ, cmp_ebline);
    size_t i = 0;
    for (; i < EBQ_N && EBQ[i].t < limit; i++) {
        int64_t day = EBQ[i].t / 86400;
        if (day != EB_DAY) {
            if (EB_FP && fclose(EB_FP) != 0)
                die("'%s/eventbridge': write failed: %s", O.out, strerror(errno));
            civil cv = to_civil(EBQ[i].t);
            char path[4096];
            snprintf(path, sizeof path, "%s/eventbridge/%s-%s-%04d%02d%02d.ndjson", O.out, c->a->id,
                     c->region, cv.y, cv.mo, cv.d);
            EB_FP = fopen(path, "w");
            if (!EB_FP)
                die("'%s': %s", path, strerror(errno));
            EB_DAY = day;
            N_EB_FILES++;
        }
        if (fwrite(EBQ[i].p, 1, EBQ[i].n, EB_FP) != EBQ[i].n || fputc('\n', EB_FP) == EOF)
            die("'%s/eventbridge': write failed: %s", O.out, strerror(errno));
        free(EBQ[i].p);
        N_EB++;
    }
    memmove(EBQ, EBQ + i, (EBQ_N - i) * sizeof *EBQ);
    EBQ_N -= i;
}

static void eb_close(void)
{
    if (EB_FP && fclose(EB_FP) != 0)
        die("'%s/eventbridge': write failed: %s", O.out, strerror(errno));
    EB_FP = NULL;
    EB_DAY = INT64_MIN;
}

static void eb_envelope(ob *l, rng *g, const char *type, const ctx *c, int64_t t)
{
    PUTL(l, "{\"version\":\"0\",\"id\":\"");
    ob_uuid(l, g);
    PUTL(l, "\",\"detail-type\":\"");
    ob_puts(l, type);
    PUTL(l, "\",\"source\":\"aws.codebuild\",\"account\":\"");
    ob_put(l, c->a->id, 12);
    PUTL(l, "\",\"time\":");
    ob_qiso(l, t);
    PUTL(l, ",\"region\":\"");
    ob_puts(l, c->region);
    PUTL(l, "\",\"resources\":[");
}

/* "AWS API Call via CloudTrail": the CloudTrail record as the detail. */
static void eb_cloudtrail(const ctx *c, rng *g, int64_t t, const char *recp, size_t recn)
{
    ob l = {0};
    eb_envelope(&l, g, "AWS API Call via CloudTrail", c, t);
    PUTL(&l, "],\"detail\":");
    ob_put(&l, recp, recn);
    ob_c(&l, '}');
    eb_push(t, &l);
    ob_free(&l);
}

static const char *phase_context(const build *bu, int ph)
{
    if (ph != bu->fail_phase)
        return NULL;
    switch (bu->outcome) {
    case OUT_FAILED:
        return "COMMAND_EXECUTION_ERROR: Error while executing command: ./scripts/deploy.sh. Reason: exit status 1";
    case OUT_FAULT:
        return "CLIENT_ERROR: repository not found for primary source and source version";
    case OUT_TIMED_OUT:
        return "BUILD_TIMED_OUT: Build has timed out. ";
    case OUT_STOPPED:
        return "BUILD_STOPPED: Build was stopped by user";
    }
    return NULL;
}

/* additional-information; upto = last phase index to list in phases[] (-1: none) */
static void eb_addinfo(ob *l, const build *bu, int complete, int upto, int with_logs)
{
    const project *p = &PROJ[bu->project];
    overrides ov;
    build_overrides(bu, &ov);
    PUTL(l, "{\"cache\":{\"type\":\"NO_CACHE\"},\"timeout-in-minutes\":");
    ob_i(l, p->timeout_min);
    PUTL(l, ",\"build-complete\":");
    ob_puts(l, complete ? "true" : "false");
    PUTL(l, ",\"initiator\":\"");
    ob_build_initiator(l, bu);
    PUTL(l, "\",\"build-start-time\":\"");
    ob_java(l, bu->t_start, 0);
    PUTL(l, "\",\"source\":");
    if (bu->trigger == T_PIPELINE)
        PUTL(l, "{\"type\":\"CODEPIPELINE\"}");
    else {
        PUTL(l, "{\"location\":\"");
        ob_puts(l, p->src_loc);
        PUTL(l, "\",\"type\":\"");
        ob_puts(l, p->src_type == SRC_GITHUB ? "GITHUB" : "CODECOMMIT");
        PUTL(l, "\"}");
    }
    PUTL(l, ",\"source-version\":\"");
    ob_esc(l, bu->srcver);
    PUTL(l, "\",\"artifact\":{\"location\":\"\"},\"environment\":{\"image\":\"");
    ob_puts(l, ov.image ? ov.image : p->image);
    PUTL(l, "\",\"privileged-mode\":");
    ob_puts(l, p->style == ST_ECS ? "true" : "false");
    PUTL(l, ",\"image-pull-credentials-type\":\"CODEBUILD\",\"compute-type\":\"");
    ob_puts(l, ov.compute ? ov.compute : p->compute);
    PUTL(l, "\",\"type\":\"LINUX_CONTAINER\",\"environment-variables\":[{\"name\":\"DEPLOY_ENV\",\"type\":"
            "\"PLAINTEXT\",\"value\":\"prod\"},{\"name\":\"DB_PASSWORD\",\"type\":\"PARAMETER_STORE\",\"value\":\"/");
    ob_puts(l, p->name);
    PUTL(l, "/prod/DB_PASSWORD\"}");
    if (ov.env_name) {
        PUTL(l, ",{\"name\":\"");
        ob_puts(l, ov.env_name);
        PUTL(l, "\",\"type\":\"PLAINTEXT\",\"value\":\"");
        ob_esc(l, ov.env_value);
        PUTL(l, "\"}");
    }
    PUTL(l, "]},\"project-file-system-locations\":[],\"queued-timeout-in-minutes\":480");
    if (with_logs) {
        PUTL(l, ",\"logs\":{\"group-name\":\"/aws/codebuild/");
        ob_puts(l, p->name);
        PUTL(l, "\",\"stream-name\":\"");
        ob_puts(l, bu->uuid);
        PUTL(l, "\",\"deep-link\":\"https://console.aws.amazon.com/cloudwatch/home?region=");
        ob_puts(l, O.regions[p->region]);
        PUTL(l, "#logEvent:group=/aws/codebuild/");
        ob_puts(l, p->name);
        PUTL(l, ";stream=");
        ob_puts(l, bu->uuid);
        PUTL(l, "\"}");
    }
    if (upto >= 0) {
        PUTL(l, ",\"phases\":[");
        int first = 1;
        for (int ph = 0; ph <= upto && ph < NPH; ph++) {
            if (!bu->ph_status[ph])
                continue;
            if (!first)
                ob_c(l, ',');
            first = 0;
            if (ph == upto || ph == PH_COMPLETED) { /* the phase now in progress */
                PUTL(l, "{\"start-time\":\"");
                ob_java(l, bu->ph_start[ph], 0);
                PUTL(l, "\",\"phase-type\":\"");
                ob_puts(l, PH_NAME[ph]);
                PUTL(l, "\"}");
                continue;
            }
            const char *pc = phase_context(bu, ph);
            PUTL(l, "{\"phase-context\":[");
            if (pc)
                ob_qs(l, pc);
            else if (ph > PH_SUBMITTED)
                PUTL(l, "\": \"");
            PUTL(l, "],\"start-time\":\"");
            ob_java(l, bu->ph_start[ph], 0);
            PUTL(l, "\",\"end-time\":\"");
            ob_java(l, bu->ph_end[ph], 0);
            PUTL(l, "\",\"duration-in-seconds\":");
            ob_i(l, bu->ph_end[ph] - bu->ph_start[ph]);
            PUTL(l, ",\"phase-type\":\"");
            ob_puts(l, PH_NAME[ph]);
            PUTL(l, "\",\"phase-status\":\"");
            ob_puts(l, OUT_NAME[bu->ph_status[ph] - 1]);
            PUTL(l, "\"}");
        }
        ob_c(l, ']');
    }
    ob_c(l, '}');
}

static int next_phase(const build *bu, int ph)
{
    for (int k = ph + 1; k < NPH; k++)
        if (bu->ph_status[k])
            return k;
    return PH_COMPLETED;
}

/* State Change IN_PROGRESS, a Phase Change per completed phase, final State Change. */
static void eb_build(const ctx *c, const build *bu)
{
    rng g;
    rng_seed(&g, mix3(bu->seed, 0xEB, 0));
    ob l = {0};
    ob arn = {0};
    ob_build_arn(&arn, bu);
    const project *p = &PROJ[bu->project];

    int64_t t = bu->t_start + rng_range(&g, 0, 2);
    eb_envelope(&l, &g, "CodeBuild Build State Change", c, t);
    ob_c(&l, '"');
    ob_put(&l, arn.p, arn.n);
    PUTL(&l, "\"],\"detail\":{\"build-status\":\"IN_PROGRESS\",\"project-name\":\"");
    ob_puts(&l, p->name);
    PUTL(&l, "\",\"build-id\":\"");
    ob_put(&l, arn.p, arn.n);
    PUTL(&l, "\",\"additional-information\":");
    eb_addinfo(&l, bu, 0, -1, 0);
    PUTL(&l, ",\"current-phase\":\"SUBMITTED\",\"current-phase-context\":\"[]\",\"version\":\"1\"}}");
    eb_push(t, &l);

    for (int ph = 0; ph < PH_COMPLETED; ph++) {
        if (!bu->ph_status[ph])
            continue;
        l.n = 0;
        t = bu->ph_end[ph] + rng_range(&g, 0, 2);
        eb_envelope(&l, &g, "CodeBuild Build Phase Change", c, t);
        ob_c(&l, '"');
        ob_put(&l, arn.p, arn.n);
        PUTL(&l, "\"],\"detail\":{\"completed-phase\":\"");
        ob_puts(&l, PH_NAME[ph]);
        PUTL(&l, "\",\"project-name\":\"");
        ob_puts(&l, p->name);
        PUTL(&l, "\",\"build-id\":\"");
        ob_put(&l, arn.p, arn.n);
        PUTL(&l, "\",\"completed-phase-context\":\"");
        ob_puts(&l, ph == PH_SUBMITTED ? "[]" : "[: ]");
        PUTL(&l, "\",\"additional-information\":");
        eb_addinfo(&l, bu, 0, next_phase(bu, ph), ph >= PH_PROVISIONING);
        PUTL(&l, ",\"completed-phase-status\":\"");
        ob_puts(&l, OUT_NAME[bu->ph_status[ph] - 1]);
        PUTL(&l, "\",\"completed-phase-duration-seconds\":");
        ob_i(&l, bu->ph_end[ph] - bu->ph_start[ph]);
        PUTL(&l, ",\"version\":\"1\",\"completed-phase-start\":\"");
        ob_java(&l, bu->ph_start[ph], 0);
        PUTL(&l, "\",\"completed-phase-end\":\"");
        ob_java(&l, bu->ph_end[ph], 0);
        PUTL(&l, "\"}}");
        eb_push(t, &l);
    }

    l.n = 0;
    t = bu->ph_start[PH_COMPLETED] + rng_range(&g, 1, 15);
    eb_envelope(&l, &g, "CodeBuild Build State Change", c, t);
    ob_c(&l, '"');
    ob_put(&l, arn.p, arn.n);
    PUTL(&l, "\"],\"detail\":{\"build-status\":\"");
    ob_puts(&l, OUT_NAME[bu->outcome]);
    PUTL(&l, "\",\"project-name\":\"");
    ob_puts(&l, p->name);
    PUTL(&l, "\",\"build-id\":\"");
    ob_put(&l, arn.p, arn.n);
    PUTL(&l, "\",\"additional-information\":");
    eb_addinfo(&l, bu, 1, PH_COMPLETED, 1);
    PUTL(&l, ",\"current-phase\":\"COMPLETED\",\"current-phase-context\":\"[: ]\",\"version\":\"1\"}}");
    eb_push(t, &l);
    ob_free(&l);
    ob_free(&arn);
}

/* ------------------------------------------------------------------------- */
/* File output: worker threads gzip, hash and write log files.                */

typedef struct filemeta {
    char *rel;
    int64_t deliver, oldest, newest;
    int nrec;
    unsigned char sha[32];
} filemeta;

typedef struct job {
    char *path;
    char *data;
    size_t len;
    filemeta *m;
    struct job *next;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    job *head, *tail;
    int n, max, closing;
} Q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 8, 0};

static pthread_mutex_t ERR_MU = PTHREAD_MUTEX_INITIALIZER;
static char WORKER_ERR[600];

static void worker_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void worker_fail(const char *fmt, ...)
{
    pthread_mutex_lock(&ERR_MU);
    if (!WORKER_ERR[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(WORKER_ERR, sizeof WORKER_ERR, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&ERR_MU);
}

static int write_all(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return close(fd);
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL))
        die("SHA-256 failed");
}

/* A gzip compressor: libdeflate, or ISA-L's igzip when built in and chosen. */
typedef struct gz {
    struct libdeflate_compressor *ld;
#ifdef BT_GEN_ISAL
    unsigned char *lvlbuf;
    size_t lvlbuf_size;
#endif
} gz;

static void gz_init(gz *z)
{
    memset(z, 0, sizeof *z);
#ifdef BT_GEN_ISAL
    if (O.isal) {
        z->lvlbuf_size = O.level <= 1 ? ISAL_DEF_LVL1_DEFAULT : O.level == 2 ? ISAL_DEF_LVL2_DEFAULT
                                                                             : ISAL_DEF_LVL3_DEFAULT;
        z->lvlbuf = xmalloc(z->lvlbuf_size);
        return;
    }
#endif
    z->ld = libdeflate_alloc_compressor(O.level);
    if (!z->ld)
        die("cannot allocate a compressor");
}

static void gz_dispose(gz *z)
{
    if (z->ld)
        libdeflate_free_compressor(z->ld);
#ifdef BT_GEN_ISAL
    free(z->lvlbuf);
#endif
}

/* gzip in[0..n) into *out (grown as needed); returns the compressed size. */
static size_t gzip_buf(gz *z, const void *in, size_t n, char **out, size_t *cap)
{
    size_t bound = n + n / 8 + 1024;
    if (z->ld)
        bound = libdeflate_gzip_compress_bound(z->ld, n);
    if (*cap < bound) {
        free(*out);
        *cap = bound;
        *out = xmalloc(bound);
    }
#ifdef BT_GEN_ISAL
    if (!z->ld) {
        struct isal_zstream s;
        isal_deflate_stateless_init(&s);
        s.level = (uint32_t)(O.level > 3 ? 3 : O.level);
        s.level_buf = z->lvlbuf;
        s.level_buf_size = (uint32_t)z->lvlbuf_size;
        s.gzip_flag = IGZIP_GZIP;
        s.end_of_stream = 1;
        s.flush = NO_FLUSH;
        s.next_in = (uint8_t *)(uintptr_t)in;
        s.avail_in = (uint32_t)n;
        s.next_out = (uint8_t *)*out;
        s.avail_out = (uint32_t)*cap;
        if (isal_deflate_stateless(&s) != COMP_OK)
            die("gzip compression failed");
        return s.total_out;
    }
#endif
    size_t zn = libdeflate_gzip_compress(z->ld, in, n, *out, *cap);
    if (!zn)
        die("gzip compression failed");
    return zn;
}

static void *worker_main(void *arg)
{
    (void)arg;
    gz cmp;
    gz_init(&cmp);
    char *out = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&Q.mu);
        while (!Q.head && !Q.closing)
            pthread_cond_wait(&Q.nonempty, &Q.mu);
        job *j = Q.head;
        if (!j) {
            pthread_mutex_unlock(&Q.mu);
            break;
        }
        Q.head = j->next;
        if (!Q.head)
            Q.tail = NULL;
        Q.n--;
        pthread_cond_signal(&Q.nonfull);
        pthread_mutex_unlock(&Q.mu);

        sha256(j->data, j->len, j->m->sha);
        size_t z = gzip_buf(&cmp, j->data, j->len, &out, &cap);
        if (write_all(j->path, out, z) != 0)
            worker_fail("'%s': %s", j->path, strerror(errno));
        free(j->data);
        free(j->path);
        free(j);
    }
    free(out);
    gz_dispose(&cmp);
    return NULL;
}

static void enqueue(char *path, char *data, size_t len, filemeta *m)
{
    job *j = xmalloc(sizeof *j);
    j->path = path;
    j->data = data;
    j->len = len;
    j->m = m;
    j->next = NULL;
    pthread_mutex_lock(&Q.mu);
    while (Q.n >= Q.max)
        pthread_cond_wait(&Q.nonfull, &Q.mu);
    if (Q.tail)
        Q.tail->next = j;
    else
        Q.head = j;
    Q.tail = j;
    Q.n++;
    pthread_cond_signal(&Q.nonempty);
    pthread_mutex_unlock(&Q.mu);
}

/* mkdir -p for the directory part of path (full path); caches the last one. */
static void mkdirs_for(const char *path)
{
    static char last[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return;
    size_t n = (size_t)(slash - path);
    if (n >= sizeof last)
        die("'%s': path too long", path);
    if (n == strlen(last) && !memcmp(last, path, n))
        return;
    char tmp[4096];
    memcpy(tmp, path, n);
    tmp[n] = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            die("'%s': %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        die("'%s': %s", tmp, strerror(errno));
    memcpy(last, tmp, n + 1);
}

static char *full_path(const char *rel)
{
    size_t n = strlen(O.out) + strlen(rel) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", O.out, rel);
    return p;
}

/* "AWSLogs/[o-id/]<acct>/<kind>/<region>/YYYY/MM/DD/" */
static void ob_prefix(ob *b, const char *acct, const char *kind, const char *region, int64_t t)
{
    civil cv = to_civil(t);
    PUTL(b, "AWSLogs/");
    if (O.org) {
        ob_puts(b, O.org);
        ob_c(b, '/');
    }
    ob_puts(b, acct);
    ob_c(b, '/');
    ob_puts(b, kind);
    ob_c(b, '/');
    ob_puts(b, region);
    ob_printf(b, "/%04d/%02d/%02d/", cv.y, cv.mo, cv.d);
}

/* ------------------------------------------------------------------------- */
/* Per-stream generation: actions in time order, delivery windows, files.     */

enum { A_CHANGE, A_START, A_ASSUME, A_CALL, A_STOP, A_BGB, A_EB, A_BSTART, A_BASSUME, A_ATTACK };

typedef struct action {
    int64_t t;
    uint32_t idx; /* build or batch index */
    uint32_t seq;
    uint16_t kind, aux;
} action;

typedef struct entry {
    size_t off;
    uint32_t len;
    int32_t owner; /* build index, -2-batch index, or -1 */
    int64_t t;
} entry;

typedef struct pend {
    int win;
    int64_t t;
    char *p;
    uint32_t len;
} pend;

typedef struct window {
    int64_t ws, we, deliver;
} window;

#define MAX_RECS_PER_FILE 4000

/* totals for the ground truth */
static int64_t N_FILES, N_RECORDS_WRITTEN, N_UNIQUE, N_DUPS, N_LATE;
static filemeta **FILES; /* all log files, stream by stream */
static int *FILE_STREAM;
static size_t N_FILEMETA, FILEMETA_CAP;
static char *FIRST_CONTENT; /* first log file's JSON (for --corrupt) */
static size_t FIRST_CONTENT_LEN;
static char *FIRST_REL;
static double NOISE_RATE_TOTAL; /* noise events per second over all streams */
static double NOISE_WEIGHT_SUM;

static void ob_qs_or_null(ob *b, const char *s);

/* ------------------------------------------------------------------------- */
/* --attacks: CodeBuild attack scenarios for the rule pack (rules/codebuild), */
/* and the ground truth of which records each pack rule must alert on.        */

/* The pack's rule ids (index = rule number 1..8; 8 is the correlation). */
static const char *const PACK_RULE[9] = {
    NULL,
    "93e75f25-bcb2-47c3-b6e7-18cdab323117", /* 1 buildspecOverride */
    "fb331249-1dab-442b-8826-8b1647ce8cda", /* 2 power-widening overrides */
    "a1166c44-11b3-4f40-8209-7968895c1747", /* 3 risky project changes */
    "f75eb27b-30f2-43a4-b9cb-6dce7dc6e8f6", /* 4 webhooks */
    "5eb57058-5e00-4a5f-a1ac-b70d97d457e4", /* 5 source credentials, resource policies */
    "33742565-cc8e-4cb3-a3e2-0edd11504cff", /* 6 build session stolen */
    "57dbdad4-ab2f-4143-991e-096071bcecea", /* 7 build session IAM writes */
    "1d54ae83-9532-4380-b15d-9c06b6cbe139", /* 8 AccessDenied burst (correlation) */
};

enum { AT_NONE, AT_POWER, AT_WEBHOOK, AT_CREDS, AT_LOGS, AT_STOLEN, AT_IAM, AT_DENIED, NAT };
enum { AS_HUMAN, AS_BUILD, AS_FOREIGN, AS_CFN };
#define DENIED_BURST 20

/* One record of a scenario. @P is the project name, @A the account id. */
typedef struct atkstep {
    int kind;
    const char *src, *name;
    int ro, who;
    const char *err;
    const char *req; /* requestParameters JSON */
    int rule;        /* the pack rule that must alert on it, 0 none */
} atkstep;

static const atkstep ATK[] = {
    {AT_POWER, "codebuild.amazonaws.com", "StartBuild", 0, AS_HUMAN, "AccessDeniedException",
     "{\"projectName\":\"@P\",\"privilegedModeOverride\":true,\"environmentVariablesOverride\":"
     "[{\"name\":\"GITHUB_TOKEN\",\"value\":\"ghp_0000000000000000000000000000000000\",\"type\":"
     "\"PLAINTEXT\"}]}", 2},
    {AT_POWER, "codebuild.amazonaws.com", "StartBuild", 0, AS_HUMAN, "AccessDeniedException",
     "{\"projectName\":\"@P\",\"computeTypeOverride\":\"BUILD_GENERAL1_LARGE\","
     "\"environmentVariablesOverride\":[{\"name\":\"DB_PASSWORD\",\"value\":\"/ci/db-password\","
     "\"type\":\"PARAMETER_STORE\"}]}", 0},
    {AT_WEBHOOK, "codebuild.amazonaws.com", "UpdateWebhook", 0, AS_HUMAN, NULL,
     "{\"projectName\":\"@P\",\"filterGroups\":[[{\"type\":\"EVENT\",\"pattern\":"
     "\"PULL_REQUEST_CREATED,PULL_REQUEST_UPDATED\",\"excludeMatchedPattern\":false}]],"
     "\"buildType\":\"BUILD\"}", 4},
    {AT_WEBHOOK, "codebuild.amazonaws.com", "UpdateWebhook", 0, AS_HUMAN, NULL,
     "{\"projectName\":\"@P\",\"filterGroups\":[[{\"type\":\"EVENT\",\"pattern\":"
     "\"PULL_REQUEST_CREATED\",\"excludeMatchedPattern\":false},{\"type\":\"ACTOR_ACCOUNT_ID\","
     "\"pattern\":\"^(1234567|7654321)$\",\"excludeMatchedPattern\":false}]],\"buildType\":\"BUILD\"}",
     0},
    {AT_WEBHOOK, "codebuild.amazonaws.com", "UpdateWebhook", 0, AS_HUMAN, NULL,
     "{\"projectName\":\"@P\",\"filterGroups\":[[{\"type\":\"EVENT\",\"pattern\":\"PUSH\","
     "\"excludeMatchedPattern\":false},{\"type\":\"ACTOR_ACCOUNT_ID\",\"pattern\":\"1234567\","
     "\"excludeMatchedPattern\":false}]],\"buildType\":\"BUILD\"}", 4},
    {AT_WEBHOOK, "codebuild.amazonaws.com", "DeleteWebhook", 0, AS_HUMAN, NULL,
     "{\"projectName\":\"@P\"}", 4},
    {AT_CREDS, "codebuild.amazonaws.com", "DeleteSourceCredentials", 0, AS_HUMAN, NULL,
     "{\"arn\":\"arn:aws:codebuild:@R:@A:token/github\"}", 5},
    {AT_CREDS, "codebuild.amazonaws.com", "PutResourcePolicy", 0, AS_HUMAN, NULL,
     "{\"resourceArn\":\"arn:aws:codebuild:@R:@A:project/@P\",\"policy\":\"{\\\"Version\\\":"
     "\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
     "{\\\"AWS\\\":\\\"arn:aws:iam::999999999999:root\\\"},\\\"Action\\\":[\\\"codebuild:"
     "BatchGetProjects\\\",\\\"codebuild:StartBuild\\\"],\\\"Resource\\\":\\\"*\\\"}]}\"}", 5},
    {AT_LOGS, "codebuild.amazonaws.com", "UpdateProject", 0, AS_HUMAN, NULL,
     "{\"name\":\"@P\",\"logsConfig\":{\"cloudWatchLogs\":{\"status\":\"DISABLED\"},\"s3Logs\":"
     "{\"status\":\"DISABLED\",\"encryptionDisabled\":false}}}", 3},
    {AT_LOGS, "codebuild.amazonaws.com", "UpdateProject", 0, AS_HUMAN, NULL,
     "{\"name\":\"@P\",\"timeoutInMinutes\":90,\"queuedTimeoutInMinutes\":240}", 0},
    {AT_STOLEN, "sts.amazonaws.com", "GetCallerIdentity", 1, AS_FOREIGN, NULL, "null", 6},
    {AT_STOLEN, "sts.amazonaws.com", "GetCallerIdentity", 1, AS_BUILD, NULL, "null", 0},
    {AT_STOLEN, "s3.amazonaws.com", "ListBuckets", 1, AS_FOREIGN, NULL, "{\"Host\":\"s3.amazonaws.com\"}",
     6}, /* after the build ended (only when its end is in the archive) */
    {AT_IAM, "iam.amazonaws.com", "CreateUser", 0, AS_BUILD, NULL, "{\"userName\":\"svc-backup\"}", 7},
    {AT_IAM, "iam.amazonaws.com", "CreateAccessKey", 0, AS_BUILD, NULL, "{\"userName\":\"svc-backup\"}", 7},
    {AT_IAM, "iam.amazonaws.com", "AttachUserPolicy", 0, AS_BUILD, NULL,
     "{\"userName\":\"svc-backup\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}", 7},
    {AT_IAM, "iam.amazonaws.com", "GetUser", 1, AS_BUILD, NULL, "{\"userName\":\"svc-backup\"}", 0},
    {AT_IAM, "iam.amazonaws.com", "CreateRole", 0, AS_CFN, NULL,
     "{\"roleName\":\"@P-task-role\",\"assumeRolePolicyDocument\":\"{}\"}", 0},
    {AT_DENIED, "secretsmanager.amazonaws.com", "ListSecrets", 1, AS_BUILD, "AccessDeniedException",
     "{\"maxResults\":100}", 0},
};
#define NATK ((int)(sizeof ATK / sizeof ATK[0]))

/* The scenario steps of a kind: first index and count (AT_DENIED repeats its one). */
static int atk_steps(int kind, int *first)
{
    int n = 0;
    *first = -1;
    for (int i = 0; i < NATK; i++)
        if (ATK[i].kind == kind) {
            if (*first < 0)
                *first = i;
            n++;
        }
    return kind == AT_DENIED ? DENIED_BURST : n;
}

/* The ground truth: records (or, for the correlation, builds) each pack rule alerts on. */
typedef struct talert {
    int rule, bidx; /* build index, -1: none */
    char eid[37];    /* "" for the correlation */
} talert;
static talert *TA;
static size_t NTA, CAPTA;

static void truth_alert(int rule, int bi, const ob *b, size_t off)
{
    if (NTA == CAPTA) {
        CAPTA = CAPTA ? CAPTA * 2 : 256;
        TA = xrealloc(TA, CAPTA * sizeof *TA);
    }
    talert *x = &TA[NTA++];
    memset(x, 0, sizeof *x);
    x->rule = rule;
    x->bidx = bi;
    if (!b)
        return;
    /* the record's own eventID is the last one in it */
    static const char key[] = "\"eventID\":\"";
    const char *p = b->p + off, *end = b->p + b->n, *hit = NULL;
    while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1))) {
        hit = p;
        p += sizeof key - 1;
    }
    if (hit)
        memcpy(x->eid, hit + sizeof key - 1, 36);
}

/* The end of a build as the archive shows it (0 when it does not: no EventBridge, no stop). */
static int64_t atk_known_end(const build *bu)
{
    if (bu->outcome == OUT_STOPPED)
        return bu->stop_t;
    if (O.eventbridge && bu->eb)
        return bu->ph_start[PH_COMPLETED];
    return 0;
}

/* Which builds are attacked, and how: every k-th eligible build, kinds in turn. */
static void plan_attacks(void)
{
    int eligible = 0, n = 0;
    for (int i = 0; i < NB; i++)
        eligible += B[i].ncalls >= 4 && B[i].trigger != T_BATCH;
    int step = eligible / 21 > 1 ? eligible / 21 : 1;
    for (int i = 0, e = 0; i < NB; i++) {
        build *bu = &B[i];
        if (bu->ncalls < 4 || bu->trigger == T_BATCH)
            continue;
        if (e++ % step != step / 2)
            continue;
        bu->attack = (int8_t)(1 + n++ % (NAT - 1));
    }
}

/* Records an attacked build adds (for the noise budget). */
static int64_t attack_records(const build *bu)
{
    int first;
    if (!bu->attack)
        return 0;
    return atk_steps(bu->attack, &first) - (bu->attack == AT_STOLEN && !atk_known_end(bu));
}

/* The stream an attack step's record goes to: IAM is global (us-east-1 of the account). */
static int attack_stream(const build *bu, int kind)
{
    if (kind == AT_IAM) {
        int acct = STR[bu->stream].acct;
        for (int s = 0; s < NSTR; s++)
            if (STR[s].acct == acct && !strcmp(O.regions[STR[s].region], "us-east-1"))
                return s;
    }
    return bu->stream;
}

/* Time of step k of build bu's scenario (-1: the step does not happen). */
static int64_t attack_time(const build *bu, int k)
{
    int64_t t = bu->calls_end;
    switch (bu->attack) {
    case AT_STOLEN:
        if (k == 2) {
            int64_t end = atk_known_end(bu);
            return end ? end + 7200 : -1;
        }
        return t + 1 + k;
    case AT_DENIED:
        return t - 2 * DENIED_BURST + 2 * k > bu->ph_start[PH_INSTALL]
                   ? t - 2 * DENIED_BURST + 2 * k
                   : bu->ph_start[PH_INSTALL] + k;
    case AT_IAM:
        return t + k;
    default: /* people at work, during the build */
        return bu->t_start + 60 + 30 * k;
    }
}

static void ob_subst(ob *b, const char *s, const build *bu, const ctx *c)
{
    for (; *s; s++) {
        if (s[0] == '@' && s[1] == 'P') {
            ob_puts(b, PROJ[bu->project].name);
            s++;
        } else if (s[0] == '@' && s[1] == 'A') {
            ob_put(b, c->a->id, 12);
            s++;
        } else if (s[0] == '@' && s[1] == 'R') {
            ob_puts(b, c->region);
            s++;
        } else {
            ob_c(b, *s);
        }
    }
}

/* Renders step k of bu's scenario at t. */
static void render_attack(ctx *c, ob *b, const build *bu, int k, int64_t t, rng *g)
{
    int first;
    atk_steps(bu->attack, &first);
    const atkstep *st = &ATK[bu->attack == AT_DENIED ? first : first + k];
    static __thread char ip[20], fip[20];
    rng ipg;
    rng_seed(&ipg, mix3(bu->seed, 0x1B, 0));
    fmt_ip(ip, sizeof ip, &ipg, 1); /* the build's egress address (as render_call) */
    rng_seed(&ipg, mix3(bu->seed, 0xF0E, 0));
    fmt_ip(fip, sizeof fip, &ipg, 0); /* somewhere else */
    rec r;
    rec_init(&r, g, t, st->src, st->name);
    r.readonly = st->ro;
    if (!strcmp(st->src, "iam.amazonaws.com"))
        r.region = "us-east-1";
    rec_begin(b, &r);
    if (st->who == AS_HUMAN) {
        const principal *p = &c->a->pr[0];
        id_principal(b, c->a, p, &r, g);
    } else {
        id_build(b, bu, st->who == AS_CFN ? "cloudformation.amazonaws.com" : NULL);
        r.ip = st->who == AS_FOREIGN ? fip : st->who == AS_CFN ? "cloudformation.amazonaws.com" : ip;
        r.ua = st->who == AS_CFN ? "cloudformation.amazonaws.com" : BUILD_UA[bu->uafam];
        r.tls = st->who != AS_CFN;
    }
    char msg[400];
    if (st->err) {
        snprintf(msg, sizeof msg, "User is not authorized to perform: %s:%s", st->src, st->name);
        *strstr(msg, ".amazonaws.com") = 0;
        r.err = st->err;
        r.errmsg = msg;
    }
    rec_mid(c, b, &r);
    ob_subst(b, st->req, bu, c);
    PUTL(b, ",\"responseElements\":null");
    rec_end(c, b, &r, g);
}

/* Refused calls of build sessions (index, time), for the burst correlation's truth. */
typedef struct tdenied {
    int bidx;
    int64_t t;
} tdenied;
static tdenied *TD;
static size_t NTD, CAPTD;

static int cmp_tdenied(const void *x, const void *y)
{
    const tdenied *a = x, *b = y;
    if (a->bidx != b->bidx)
        return a->bidx - b->bidx;
    return (a->t > b->t) - (a->t < b->t);
}

/* Rule 8 as the engine evaluates it: per build session, an alert when 15 refusals fall in
 * [t - 60 s, t]; the group's events are then cleared. */
static void truth_bursts(void)
{
    if (NTD)
        qsort(TD, NTD, sizeof *TD, cmp_tdenied);
    for (size_t i = 0, lo = 0; i < NTD; i++) {
        if (i && TD[i].bidx != TD[i - 1].bidx)
            lo = i;
        while (TD[lo].t < TD[i].t - 60)
            lo++;
        if (i + 1 - lo >= 15) {
            truth_alert(8, TD[i].bidx, NULL, 0);
            lo = i + 1;
        }
    }
}

/* After a build action's record was written at b[off..]: the pack rules it must trip. */
static void truth_of_action(const action *ac, const ob *b, size_t off)
{
    if (ac->kind == A_CALL || (ac->kind == A_ATTACK && B[ac->idx].attack == AT_DENIED)) {
        static const char key[] = "\"errorCode\":\"AccessDenied";
        if (memmem(b->p + off, b->n - off, key, sizeof key - 1)) {
            if (NTD == CAPTD) {
                CAPTD = CAPTD ? CAPTD * 2 : 256;
                TD = xrealloc(TD, CAPTD * sizeof *TD);
            }
            TD[NTD].bidx = (int)ac->idx;
            TD[NTD++].t = ac->t;
        }
        if (ac->kind == A_CALL)
            return;
    }
    if (ac->kind == A_START) {
        const build *bu = &B[ac->idx];
        if (bu->trigger == T_RETRY)
            return;
        if (bu->overrides & OV_BUILDSPEC)
            truth_alert(1, (int)ac->idx, b, off);
        if (bu->overrides & OV_IMAGE)
            truth_alert(2, (int)ac->idx, b, off);
    } else if (ac->kind == A_CHANGE) {
        const build *bu = &B[ac->idx];
        int kind = bu->ch[ac->aux].kind;
        if (kind == CH_BUILDSPEC || kind == CH_ROLE || kind == CH_SOURCE ||
            (kind == CH_ENV && PROJ[bu->project].style == ST_ECS))
            truth_alert(3, -1, b, off);
        else if (kind == CH_CREDS)
            truth_alert(5, -1, b, off);
    } else if (ac->kind == A_ATTACK) {
        const build *bu = &B[ac->idx];
        int first;
        atk_steps(bu->attack, &first);
        const atkstep *st = &ATK[bu->attack == AT_DENIED ? first : first + ac->aux];
        if (st->rule)
            truth_alert(st->rule, st->who == AS_HUMAN ? -1 : (int)ac->idx, b, off);
    }
}

static int cmp_talert(const void *x, const void *y)
{
    const talert *a = x, *b = y;
    if (a->rule != b->rule)
        return a->rule - b->rule;
    if (a->bidx != b->bidx)
        return a->bidx - b->bidx;
    return strcmp(a->eid, b->eid);
}

/* "pack_alerts": what `hunt --rules builtin` must report (docs/generator.md). */
static void write_truth_alerts(ob *t)
{
    truth_bursts();
    if (NTA)
        qsort(TA, NTA, sizeof *TA, cmp_talert);
    PUTL(t, ",\n\"pack_alerts\":[");
    for (size_t i = 0; i < NTA; i++) {
        ob_puts(t, i ? ",\n" : "\n");
        PUTL(t, "{\"rule\":");
        ob_qs(t, PACK_RULE[TA[i].rule]);
        PUTL(t, ",\"rule_number\":");
        ob_i(t, TA[i].rule);
        PUTL(t, ",\"build\":");
        if (TA[i].bidx >= 0) {
            ob_c(t, '"');
            ob_puts(t, PROJ[B[TA[i].bidx].project].name);
            ob_c(t, ':');
            ob_puts(t, B[TA[i].bidx].uuid);
            ob_c(t, '"');
        } else {
            PUTL(t, "null");
        }
        PUTL(t, ",\"event_id\":");
        ob_qs_or_null(t, TA[i].eid[0] ? TA[i].eid : NULL);
        ob_c(t, '}');
    }
    PUTL(t, "]");
}

static int cmp_action(const void *x, const void *y)
{
    const action *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static action *collect_actions(int s, size_t *out_n)
{
    size_t n = 0, cap = 1024;
    action *v = xmalloc(cap * sizeof *v);
#define ADD(T, I, K, X)                                                                              \
    do {                                                                                             \
        if (n == cap) {                                                                              \
            cap *= 2;                                                                                \
            v = xrealloc(v, cap * sizeof *v);                                                        \
        }                                                                                            \
        v[n].t = (T);                                                                                \
        v[n].idx = (uint32_t)(I);                                                                    \
        v[n].seq = (uint32_t)n;                                                                      \
        v[n].kind = (uint16_t)(K);                                                                   \
        v[n].aux = (uint16_t)(X);                                                                    \
        n++;                                                                                         \
    } while (0)
    int64_t times[201];
    for (int i = 0; i < NB; i++) {
        const build *bu = &B[i];
        if (bu->stream != s)
            continue;
        for (int k = 0; k < bu->nch; k++)
            ADD(bu->ch[k].t, i, A_CHANGE, k);
        if (bu->trigger != T_WEBHOOK)
            ADD(bu->t_start, i, A_START, 0);
        if (!(bu->outcome == OUT_FAULT && bu->fail_phase == PH_PROVISIONING))
            ADD(bu->ph_end[PH_QUEUED], i, A_ASSUME, 0);
        if (bu->ncalls > 0) {
            rng g;
            rng_seed(&g, mix3(bu->seed, 0xCA11, 0));
            int64_t lo = bu->ph_start[PH_INSTALL], hi = bu->calls_end;
            if (hi < lo)
                hi = lo;
            for (int k = 1; k < bu->ncalls; k++)
                times[k] = rng_range(&g, lo, hi);
            qsort(times + 1, (size_t)(bu->ncalls - 1), sizeof times[0], cmp_i64);
            ADD(bu->ph_end[PH_PROVISIONING], i, A_CALL, 0);
            for (int k = 1; k < bu->ncalls; k++)
                ADD(times[k], i, A_CALL, k);
        }
        if (bu->outcome == OUT_STOPPED)
            ADD(bu->stop_t, i, A_STOP, 0);
        if (bu->nbgb) {
            rng g;
            rng_seed(&g, mix3(bu->seed, 0xB6B, 0));
            for (int k = 0; k < bu->nbgb; k++)
                ADD(rng_range(&g, bu->t_start + 10, bu->ph_start[PH_COMPLETED] + 30), i, A_BGB, k);
        }
        if (O.eventbridge && bu->eb)
            ADD(bu->t_start, i, A_EB, 0);
    }
    for (int i = 0; i < NB; i++) { /* --attacks (IAM steps go to the account's us-east-1) */
        const build *bu = &B[i];
        int first, nst = bu->attack ? atk_steps(bu->attack, &first) : 0;
        if (nst && attack_stream(bu, bu->attack) == s)
            for (int k = 0; k < nst; k++)
                if (attack_time(bu, k) >= 0)
                    ADD(attack_time(bu, k), i, A_ATTACK, k);
    }
    for (int k = 0; k < NBA; k++) {
        if (BA[k].stream != s)
            continue;
        ADD(BA[k].t_start, k, A_BSTART, 0);
        ADD(BA[k].t_start + 5, k, A_BASSUME, 0);
    }
#undef ADD
    qsort(v, n, sizeof *v, cmp_action);
    *out_n = n;
    return v;
}

/* Renders one action; returns 1 if it wrote a CloudTrail record. */
static int render_action(ctx *c, ob *b, const action *ac, int32_t *owner, int *eb_copy)
{
    rng g;
    *owner = -1;
    *eb_copy = 0;
    if (ac->kind == A_BSTART || ac->kind == A_BASSUME) {
        const batch *ba = &BA[ac->idx];
        rng_seed(&g, mix3(ba->seed, 0xAC00u + ac->kind, ac->aux));
        *owner = -2 - (int32_t)ac->idx;
        if (ac->kind == A_BSTART) {
            render_batch_start(c, b, ba, &g);
            *eb_copy = 1;
        } else {
            char akid[24];
            rng kg;
            rng_seed(&kg, mix3(ba->seed, 0xA1D, 0));
            fmt_awsid(akid, &kg, "ASIA", 16);
            render_assume(c, b, ac->t, &PROJ[ba->project].roles[ba->role], ba->uuid, akid, &g);
        }
        return 1;
    }
    build *bu = &B[ac->idx];
    rng_seed(&g, mix3(bu->seed, 0xAC00u + ac->kind, ac->aux));
    *owner = (int32_t)ac->idx;
    switch (ac->kind) {
    case A_CHANGE:
        *owner = -1;
        render_change(c, b, bu, ac->aux, &g);
        *eb_copy = 1;
        break;
    case A_START:
        render_start(c, b, bu, &g);
        *eb_copy = 1;
        break;
    case A_ASSUME: {
        char akid[24];
        build_akid(bu, akid);
        render_assume(c, b, ac->t, build_role(bu), bu->uuid, akid, &g);
        break;
    }
    case A_CALL:
        render_call(c, b, bu, ac->aux, ac->t, &g);
        break;
    case A_STOP:
        render_stop(c, b, bu, &g);
        *eb_copy = 1;
        break;
    case A_BGB:
        render_bgb(c, b, bu, ac->t, &g);
        break;
    case A_ATTACK:
        render_attack(c, b, bu, ac->aux, ac->t, &g);
        break;
    default: /* A_EB */
        eb_build(c, bu);
        return 0;
    }
    return 1;
}

static void add_filemeta(filemeta *m, int s)
{
    if (N_FILEMETA == FILEMETA_CAP) {
        FILEMETA_CAP = FILEMETA_CAP ? FILEMETA_CAP * 2 : 1024;
        FILES = xrealloc(FILES, FILEMETA_CAP * sizeof *FILES);
        FILE_STREAM = xrealloc(FILE_STREAM, FILEMETA_CAP * sizeof *FILE_STREAM);
    }
    FILES[N_FILEMETA] = m;
    FILE_STREAM[N_FILEMETA] = s;
    N_FILEMETA++;
}

static void generate_stream(int s)
{
    stream *st = &STR[s];
    ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.st = st;
    c.a = &ACC[st->acct];
    c.region = O.regions[st->region];
    c.is_use1 = !strcmp(c.region, "us-east-1");

    size_t na;
    action *acts = collect_actions(s, &na);
    int64_t until = T1;
    if (na && acts[na - 1].t + 1 > until)
        until = acts[na - 1].t + 1;
    until += 6 * 3600; /* room for late deliveries */

    rng wg, ng, dg, eg;
    rng_seed(&wg, mix3(O.seed, 0x3140, (uint64_t)s));
    rng_seed(&ng, mix3(O.seed, 0x4015E, (uint64_t)s));
    rng_seed(&dg, mix3(O.seed, 0xDE11, (uint64_t)s));
    rng_seed(&eg, mix3(O.seed, 0xEBC7, (uint64_t)s));

    size_t nw = 0, wcap = 1024;
    window *W = xmalloc(wcap * sizeof *W);
    for (int64_t t = T0; t < until;) {
        if (nw == wcap) {
            wcap *= 2;
            W = xrealloc(W, wcap * sizeof *W);
        }
        int64_t len = rng_range(&wg, 300, 900);
        W[nw].ws = t;
        W[nw].we = t + len;
        W[nw].deliver = t + len + rng_range(&wg, 30, 299);
        nw++;
        t += len;
    }

    double rate = NOISE_WEIGHT_SUM > 0 ? NOISE_RATE_TOTAL * st->noise_weight / NOISE_WEIGHT_SUM : 0;
    ob arena = {0};
    size_t ecap = 4096, ne = 0;
    entry *E = xmalloc(ecap * sizeof *E);
    size_t np = 0, pcap = 256;
    pend *P = xmalloc(pcap * sizeof *P);
    size_t ai = 0;
    ob name = {0};

    for (size_t wi = 0; wi < nw; wi++) {
        const window *w = &W[wi];
        arena.n = 0;
        ne = 0;
#define PUSH_ENTRY(OFF, LEN, OWNER, T)                                                               \
    do {                                                                                             \
        if (ne == ecap) {                                                                            \
            ecap *= 2;                                                                               \
            E = xrealloc(E, ecap * sizeof *E);                                                       \
        }                                                                                            \
        E[ne].off = (OFF);                                                                           \
        E[ne].len = (uint32_t)(LEN);                                                                 \
        E[ne].owner = (OWNER);                                                                       \
        E[ne].t = (T);                                                                               \
        ne++;                                                                                        \
    } while (0)
        /* noise, denser in the (UTC) working day */
        if (w->ws < T1 && rate > 0) {
            int64_t end = w->we < T1 ? w->we : T1;
            /* piecewise-linear day curve: 1.4x at 14:00 UTC, 0.6x at 02:00, mean 1 */
            double mid = (double)((w->ws + end) / 2 % 86400) / 3600.0;
            double dist = mid > 14.0 ? mid - 14.0 : 14.0 - mid;
            if (dist > 12.0)
                dist = 24.0 - dist;
            double expect = rate * (double)(end - w->ws) * (1.4 - 0.8 * dist / 12.0);
            int64_t n = (int64_t)(expect + rng_unit(&ng));
            for (int64_t k = 0; k < n; k++) {
                int64_t t = w->ws + (int64_t)rng_below(&ng, (uint32_t)(end - w->ws));
                size_t off = arena.n;
                render_noise(&c, &arena, t, &ng);
                PUSH_ENTRY(off, arena.n - off, -1, t);
            }
        }
        /* build-related actions */
        while (ai < na && acts[ai].t < w->we) {
            size_t off = arena.n;
            int32_t owner;
            int ebc;
            if (render_action(&c, &arena, &acts[ai], &owner, &ebc)) {
                truth_of_action(&acts[ai], &arena, off);
                PUSH_ENTRY(off, arena.n - off, owner, acts[ai].t);
                if (ebc && O.eventbridge)
                    eb_cloudtrail(&c, &eg, acts[ai].t, arena.p + off, arena.n - off);
            }
            ai++;
        }
        /* delivery: ~1% late (1-4 h later, sometimes the next day), ~0.5% duplicated */
        size_t fresh = ne;
        for (size_t k = 0; k < fresh; k++) {
            double u = rng_unit(&dg);
            int late = u < 0.01, dup = !late && u < 0.015;
            if (!late && !dup)
                continue;
            size_t target;
            if (late) {
                int64_t when = w->deliver + rng_range(&dg, 61, 240) * 60;
                size_t lo = wi + 1, hi = nw;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (W[mid].deliver < when)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo >= nw)
                    continue;
                target = lo;
            } else {
                if (wi + 1 >= nw)
                    continue;
                target = wi + 1 + rng_below(&dg, 2);
                if (target >= nw)
                    target = wi + 1;
            }
            if (np == pcap) {
                pcap *= 2;
                P = xrealloc(P, pcap * sizeof *P);
            }
            P[np].win = (int)target;
            P[np].t = E[k].t;
            P[np].len = E[k].len;
            P[np].p = xmalloc(E[k].len);
            memcpy(P[np].p, arena.p + E[k].off, E[k].len);
            np++;
            if (late) {
                E[k].len = 0; /* removed from this file */
                N_LATE++;
                if (E[k].owner >= 0)
                    B[E[k].owner].late++;
                else if (E[k].owner <= -2)
                    BA[-2 - E[k].owner].late++;
            } else {
                N_DUPS++;
            }
        }
        /* records delivered late or duplicated into this window */
        for (size_t k = 0; k < np;) {
            if (P[k].win != (int)wi) {
                k++;
                continue;
            }
            size_t off = arena.n;
            ob_put(&arena, P[k].p, P[k].len);
            PUSH_ENTRY(off, P[k].len, -1, P[k].t);
            free(P[k].p);
            P[k] = P[--np];
        }
#undef PUSH_ENTRY
        size_t m = 0;
        for (size_t k = 0; k < ne; k++)
            if (E[k].len)
                E[m++] = E[k];
        ne = m;
        if (ne) {
            /* records are not in time order within a file */
            for (size_t k = ne - 1; k > 0; k--) {
                size_t j = (size_t)(rng_next(&dg) % (k + 1));
                entry x = E[k];
                E[k] = E[j];
                E[j] = x;
            }
            size_t nfiles = (ne + MAX_RECS_PER_FILE - 1) / MAX_RECS_PER_FILE;
            for (size_t f = 0; f < nfiles; f++) {
                size_t a0 = ne * f / nfiles, a1 = ne * (f + 1) / nfiles;
                size_t bytes = 16;
                for (size_t k = a0; k < a1; k++)
                    bytes += E[k].len + 1;
                ob content = {0};
                ob_reserve(&content, bytes);
                PUTL(&content, "{\"Records\":[");
                filemeta *fm = xcalloc(1, sizeof *fm);
                fm->oldest = INT64_MAX;
                fm->newest = INT64_MIN;
                for (size_t k = a0; k < a1; k++) {
                    if (k > a0)
                        ob_c(&content, ',');
                    ob_put(&content, arena.p + E[k].off, E[k].len);
                    if (E[k].t < fm->oldest)
                        fm->oldest = E[k].t;
                    if (E[k].t > fm->newest)
                        fm->newest = E[k].t;
                }
                PUTL(&content, "]}");
                fm->nrec = (int)(a1 - a0);
                fm->deliver = w->deliver;
                civil cv = to_civil(w->deliver);
                name.n = 0;
                ob_prefix(&name, c.a->id, "CloudTrail", c.region, w->deliver);
                ob_printf(&name, "%s_CloudTrail_%s_%04d%02d%02dT%02d%02dZ_", c.a->id, c.region, cv.y, cv.mo,
                          cv.d, cv.h, cv.mi);
                ob_alnum(&name, &dg, 16);
                PUTL(&name, ".json.gz");
                fm->rel = xstrdup(ob_cstr(&name));
                char *path = full_path(fm->rel);
                mkdirs_for(path);
                if (!FIRST_CONTENT) {
                    FIRST_CONTENT = xmalloc(content.n);
                    memcpy(FIRST_CONTENT, content.p, content.n);
                    FIRST_CONTENT_LEN = content.n;
                    FIRST_REL = xstrdup(fm->rel);
                }
                add_filemeta(fm, s);
                N_FILES++;
                N_RECORDS_WRITTEN += fm->nrec;
                enqueue(path, content.p, content.n, fm);
            }
        }
        if (O.eventbridge)
            eb_flush(&c, w->we);
        if (WORKER_ERR[0])
            die("%s", WORKER_ERR);
    }
    if (O.eventbridge) {
        eb_flush(&c, INT64_MAX);
        eb_close();
    }
    for (size_t k = 0; k < np; k++)
        free(P[k].p);
    N_UNIQUE += c.unique;
    free(P);
    free(E);
    free(W);
    free(acts);
    ob_free(&arena);
    ob_free(&name);
    ob_free(&c.scratch);
}

/* ------------------------------------------------------------------------- */
/* Digest files (hourly per account and region), written after all logs.       */

static int64_t N_DIGESTS;

static void write_gz_file(gz *cmp, const char *rel, const void *data, size_t n)
{
    char *out = NULL;
    size_t cap = 0;
    size_t z = gzip_buf(cmp, data, n, &out, &cap);
    char *path = full_path(rel);
    mkdirs_for(path);
    if (write_all(path, out, z) != 0)
        die("'%s': %s", path, strerror(errno));
    free(path);
    free(out);
}

static void ob_hexbytes(ob *b, const unsigned char *p, size_t n)
{
    ob_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        b->p[b->n++] = HEX[p[i] >> 4];
        b->p[b->n++] = HEX[p[i] & 15];
    }
}

static void write_digests(void)
{
    gz cmpz;
    gz_init(&cmpz);
    gz *cmp = &cmpz;
    ob d = {0}, rel = {0}, prev_rel = {0};
    for (int s = 0; s < NSTR; s++) {
        const stream *st = &STR[s];
        const account *a = &ACC[st->acct];
        const char *region = O.regions[st->region];
        size_t first = 0, last = 0; /* this stream's files: [first, last) in FILES */
        while (first < N_FILEMETA && FILE_STREAM[first] != s)
            first++;
        last = first;
        while (last < N_FILEMETA && FILE_STREAM[last] == s)
            last++;
        int64_t last_deliver = last > first ? FILES[last - 1]->deliver : T1;
        if (last_deliver < T1)
            last_deliver = T1;
        rng sg;
        rng_seed(&sg, mix3(O.seed, 0xD16E, (uint64_t)s));
        unsigned char prev_hash[32];
        int have_prev = 0;
        char prev_sig[513];
        size_t fi = first;
        for (int64_t ds = T0 - 3600 + st->digest_off; ds <= last_deliver; ds += 3600) {
            int64_t de = ds + 3600;
            rel.n = 0;
            ob_prefix(&rel, a->id, "CloudTrail-Digest", region, de);
            civil cv = to_civil(de);
            ob_printf(&rel, "%s_CloudTrail-Digest_%s_%s_%s_%04d%02d%02dT%02d%02d%02dZ.json.gz", a->id, region,
                      TRAIL_NAME, O.regions[0], cv.y, cv.mo, cv.d, cv.h, cv.mi, cv.s);
            size_t f0 = fi;
            int64_t oldest = INT64_MAX, newest = INT64_MIN;
            while (fi < last && FILES[fi]->deliver < de) {
                if (FILES[fi]->oldest < oldest)
                    oldest = FILES[fi]->oldest;
                if (FILES[fi]->newest > newest)
                    newest = FILES[fi]->newest;
                fi++;
            }
            d.n = 0;
            PUTL(&d, "{\"awsAccountId\":\"");
            ob_puts(&d, a->id);
            PUTL(&d, "\",\"digestStartTime\":");
            ob_qiso(&d, ds);
            PUTL(&d, ",\"digestEndTime\":");
            ob_qiso(&d, de);
            PUTL(&d, ",\"digestS3Bucket\":\"");
            ob_puts(&d, BUCKET);
            PUTL(&d, "\",\"digestS3Object\":\"");
            ob_put(&d, rel.p, rel.n);
            PUTL(&d, "\",\"digestPublicKeyFingerprint\":\"");
            ob_puts(&d, st->fingerprint);
            PUTL(&d, "\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":");
            if (fi > f0)
                ob_qiso(&d, newest);
            else
                PUTL(&d, "null");
            PUTL(&d, ",\"oldestEventTime\":");
            if (fi > f0)
                ob_qiso(&d, oldest);
            else
                PUTL(&d, "null");
            if (have_prev) {
                PUTL(&d, ",\"previousDigestS3Bucket\":\"");
                ob_puts(&d, BUCKET);
                PUTL(&d, "\",\"previousDigestS3Object\":\"");
                ob_put(&d, prev_rel.p, prev_rel.n);
                PUTL(&d, "\",\"previousDigestHashValue\":\"");
                ob_hexbytes(&d, prev_hash, 32);
                PUTL(&d, "\",\"previousDigestHashAlgorithm\":\"SHA-256\",\"previousDigestSignature\":\"");
                ob_puts(&d, prev_sig);
                ob_c(&d, '"');
            } else {
                PUTL(&d, ",\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":null,"
                         "\"previousDigestHashValue\":null,\"previousDigestHashAlgorithm\":null,"
                         "\"previousDigestSignature\":null");
            }
            PUTL(&d, ",\"logFiles\":[");
            for (size_t k = f0; k < fi; k++) {
                const filemeta *m = FILES[k];
                if (k > f0)
                    ob_c(&d, ',');
                PUTL(&d, "{\"s3Bucket\":\"");
                ob_puts(&d, BUCKET);
                PUTL(&d, "\",\"s3Object\":\"");
                ob_puts(&d, m->rel);
                PUTL(&d, "\",\"hashValue\":\"");
                ob_hexbytes(&d, m->sha, 32);
                PUTL(&d, "\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":");
                ob_qiso(&d, m->newest);
                PUTL(&d, ",\"oldestEventTime\":");
                ob_qiso(&d, m->oldest);
                ob_c(&d, '}');
            }
            PUTL(&d, "]}");
            write_gz_file(cmp, ob_cstr(&rel), d.p, d.n);
            N_DIGESTS++;
            sha256(d.p, d.n, prev_hash);
            fmt_chars(prev_sig, &sg, HEX, 512); /* stands in for the RSA signature */
            have_prev = 1;
            prev_rel.n = 0;
            ob_put(&prev_rel, rel.p, rel.n);
        }
    }
    ob_free(&d);
    ob_free(&rel);
    ob_free(&prev_rel);
    gz_dispose(cmp);
}

/* ------------------------------------------------------------------------- */
/* --corrupt: a truncated .json.gz and a gzip of non-JSON text.               */

static char *CORRUPT[2];

static void write_corrupt(void)
{
    if (!FIRST_CONTENT)
        return;
    gz cmpz;
    gz_init(&cmpz);
    gz *cmp = &cmpz;
    rng g;
    rng_seed(&g, mix3(O.seed, 0xC0AA, 0));
    /* same directory and name pattern as a real log file, new unique suffix */
    for (int i = 0; i < 2; i++) {
        ob rel = {0};
        ob_put(&rel, FIRST_REL, strlen(FIRST_REL) - 24); /* drop "<16>.json.gz" */
        ob_alnum(&rel, &g, 16);
        PUTL(&rel, ".json.gz");
        CORRUPT[i] = xstrdup(ob_cstr(&rel));
        ob_free(&rel);
    }
    char *out = NULL;
    size_t cap = 0;
    size_t z = gzip_buf(cmp, FIRST_CONTENT, FIRST_CONTENT_LEN, &out, &cap);
    char *path = full_path(CORRUPT[0]);
    if (write_all(path, out, z / 2) != 0)
        die("'%s': %s", path, strerror(errno));
    free(path);
    static const char text[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
        "<Message>Access Denied</Message><RequestId>5QK3E0V2T9YB8C1N</RequestId></Error>\n";
    write_gz_file(cmp, CORRUPT[1], text, sizeof text - 1);
    free(out);
    gz_dispose(cmp);
}

/* ------------------------------------------------------------------------- */
/* Ground truth.                                                              */

static void ob_batch_session_arn(ob *b, const batch *ba)
{
    const project *p = &PROJ[ba->project];
    PUTL(b, "arn:aws:sts::");
    ob_puts(b, ACC[p->acct].id);
    PUTL(b, ":assumed-role/");
    ob_puts(b, p->roles[ba->role].name);
    PUTL(b, "/AWSCodeBuild-");
    ob_puts(b, ba->uuid);
}

static void ob_pipeline_session_arn(ob *b, int pipe, int64_t ms)
{
    const pipeline *pl = &PIPE[pipe];
    PUTL(b, "arn:aws:sts::");
    ob_puts(b, ACC[PROJ[pl->project].acct].id);
    PUTL(b, ":assumed-role/");
    ob_puts(b, pl->r.name);
    ob_c(b, '/');
    ob_i(b, ms);
}

static int cmp_name_count(const void *x, const void *y)
{
    const name_count *a = x, *b = y;
    return strcmp(a->name, b->name);
}

static void ob_qs_or_null(ob *b, const char *s)
{
    if (s)
        ob_qs(b, s);
    else
        PUTL(b, "null");
}

static void write_truth(void)
{
    ob t = {0};
    PUTL(&t, "{\n\"generator\":{\"name\":\"bt-gen\",\"format\":1,\"seed\":");
    ob_u(&t, O.seed);
    PUTL(&t, ",\"events\":");
    ob_i(&t, O.events);
    PUTL(&t, ",\"builds\":");
    ob_i(&t, NB);
    PUTL(&t, ",\"accounts\":");
    ob_i(&t, O.accounts);
    PUTL(&t, ",\"regions\":[");
    for (int i = 0; i < O.nregions; i++) {
        if (i)
            ob_c(&t, ',');
        ob_qs(&t, O.regions[i]);
    }
    PUTL(&t, "],\"start\":");
    ob_qs(&t, O.start_arg);
    PUTL(&t, ",\"days\":");
    ob_i(&t, O.days);
    PUTL(&t, ",\"org\":");
    ob_qs_or_null(&t, O.org);
    PUTL(&t, ",\"eventbridge\":");
    ob_puts(&t, O.eventbridge ? "true" : "false");
    PUTL(&t, ",\"corrupt\":");
    ob_puts(&t, O.corrupt ? "true" : "false");
    if (O.attacks) /* only then, so earlier ground truths stay byte-identical */
        PUTL(&t, ",\"attacks\":true");
    PUTL(&t, ",\"level\":");
    ob_i(&t, O.level);
    PUTL(&t, ",\"gzip\":");
    ob_qs(&t, O.isal ? "isal" : "libdeflate");
    PUTL(&t, "},\n\"range\":{\"start\":");
    ob_qiso(&t, T0);
    PUTL(&t, ",\"end\":");
    ob_qiso(&t, T1);
    PUTL(&t, "},\n\"bucket\":");
    ob_qs(&t, BUCKET);
    PUTL(&t, ",\"trail_name\":");
    ob_qs(&t, TRAIL_NAME);
    PUTL(&t, ",\"home_region\":");
    ob_qs(&t, O.regions[0]);
    PUTL(&t, ",\n\"files\":");
    ob_i(&t, N_FILES);
    PUTL(&t, ",\"digest_files\":");
    ob_i(&t, N_DIGESTS);
    PUTL(&t, ",\"eventbridge_files\":");
    ob_i(&t, N_EB_FILES);
    PUTL(&t, ",\"records_written\":");
    ob_i(&t, N_RECORDS_WRITTEN);
    PUTL(&t, ",\"unique_events\":");
    ob_i(&t, N_UNIQUE);
    PUTL(&t, ",\"duplicates\":");
    ob_i(&t, N_DUPS);
    PUTL(&t, ",\"late_records\":");
    ob_i(&t, N_LATE);
    PUTL(&t, ",\"eventbridge_events\":");
    ob_i(&t, N_EB);
    PUTL(&t, ",\n\"corrupt_files\":[");
    for (int i = 0; i < 2 && CORRUPT[i]; i++) {
        if (i)
            ob_c(&t, ',');
        ob_qs(&t, CORRUPT[i]);
    }
    PUTL(&t, "],\n\"by_event_name\":{");
    name_count sorted[1024];
    int nn = 0;
    for (int i = 0; i < 1024; i++)
        if (NAMES[i].name)
            sorted[nn++] = NAMES[i];
    qsort(sorted, (size_t)nn, sizeof sorted[0], cmp_name_count);
    for (int i = 0; i < nn; i++) {
        if (i)
            ob_c(&t, ',');
        ob_qs(&t, sorted[i].name);
        ob_c(&t, ':');
        ob_i(&t, sorted[i].n);
    }
    PUTL(&t, "},\n\"accounts\":[");
    for (int i = 0; i < O.accounts; i++) {
        if (i)
            ob_c(&t, ',');
        ob_qs(&t, ACC[i].id);
    }
    PUTL(&t, "],\n\"projects\":[");
    for (int i = 0; i < NPROJ; i++) {
        const project *p = &PROJ[i];
        ob_puts(&t, i ? ",\n" : "\n");
        PUTL(&t, "{\"name\":");
        ob_qs(&t, p->name);
        PUTL(&t, ",\"account\":");
        ob_qs(&t, ACC[p->acct].id);
        PUTL(&t, ",\"region\":");
        ob_qs(&t, O.regions[p->region]);
        PUTL(&t, ",\"arn\":\"");
        ob_project_arn(&t, p);
        PUTL(&t, "\",\"service_roles\":[");
        for (int k = 0; k < 3; k++) {
            if (k)
                ob_c(&t, ',');
            ob_c(&t, '"');
            ob_role_arn_of(&t, p, k);
            ob_c(&t, '"');
        }
        PUTL(&t, "],\"pipeline\":");
        ob_qs_or_null(&t, p->pipeline >= 0 ? PIPE[p->pipeline].name : NULL);
        PUTL(&t, ",\"builds\":");
        ob_i(&t, p->nbuilds);
        ob_c(&t, '}');
    }
    PUTL(&t, "],\n\"builds\":[");
    for (int i = 0; i < NB; i++) {
        const build *bu = &B[i];
        const project *p = &PROJ[bu->project];
        const account *a = &ACC[p->acct];
        ob_puts(&t, i ? ",\n" : "\n");
        PUTL(&t, "{\"build_id\":\"");
        ob_build_id(&t, bu);
        PUTL(&t, "\",\"uuid\":\"");
        ob_puts(&t, bu->uuid);
        PUTL(&t, "\",\"arn\":\"");
        ob_build_arn(&t, bu);
        PUTL(&t, "\",\"project\":");
        ob_qs(&t, p->name);
        PUTL(&t, ",\"account\":");
        ob_qs(&t, a->id);
        PUTL(&t, ",\"region\":");
        ob_qs(&t, O.regions[p->region]);
        PUTL(&t, ",\"build_number\":");
        ob_i(&t, bu->number);
        PUTL(&t, ",\"start_time\":");
        ob_qiso(&t, bu->t_start);
        PUTL(&t, ",\"end_time\":");
        ob_qiso(&t, bu->ph_start[PH_COMPLETED]);
        PUTL(&t, ",\"trigger\":{\"type\":");
        ob_qs(&t, TRIG_NAME[bu->trigger]);
        PUTL(&t, ",\"principal_arn\":");
        switch (bu->trigger) {
        case T_USER:
        case T_RETRY:
            ob_qs(&t, a->pr[bu->who].arn);
            break;
        case T_PIPELINE:
            ob_c(&t, '"');
            ob_pipeline_session_arn(&t, bu->pipe, bu->pipe_ms);
            ob_c(&t, '"');
            break;
        case T_BATCH:
            ob_c(&t, '"');
            ob_batch_session_arn(&t, &BA[bu->batch]);
            ob_c(&t, '"');
            break;
        default:
            PUTL(&t, "null");
        }
        PUTL(&t, ",\"initiator\":\"");
        ob_build_initiator(&t, bu);
        PUTL(&t, "\",\"pipeline\":");
        ob_qs_or_null(&t, bu->trigger == T_PIPELINE ? PIPE[bu->pipe].name : NULL);
        PUTL(&t, ",\"retry_of\":");
        if (bu->retry_of >= 0) {
            ob_c(&t, '"');
            ob_build_id(&t, &B[bu->retry_of]);
            ob_c(&t, '"');
        } else {
            PUTL(&t, "null");
        }
        PUTL(&t, ",\"batch_id\":");
        if (bu->trigger == T_BATCH) {
            ob_c(&t, '"');
            ob_puts(&t, p->name);
            ob_c(&t, ':');
            ob_puts(&t, BA[bu->batch].uuid);
            ob_c(&t, '"');
        } else {
            PUTL(&t, "null");
        }
        PUTL(&t, "},\"source_version\":");
        ob_qs(&t, bu->srcver);
        PUTL(&t, ",\"overrides\":[");
        for (int k = 0, first = 1; k < 4; k++)
            if (bu->overrides & (1 << k)) {
                if (!first)
                    ob_c(&t, ',');
                first = 0;
                ob_qs(&t, OV_NAME[k]);
            }
        PUTL(&t, "],\"service_role_arn\":\"");
        ob_role_arn_of(&t, p, bu->role);
        PUTL(&t, "\",\"calls\":");
        ob_i(&t, bu->ncalls);
        PUTL(&t, ",\"errors\":");
        ob_i(&t, bu->errors);
        PUTL(&t, ",\"error_codes\":{");
        for (int k = 0, first = 1; k < NEC; k++)
            if (bu->errc[k]) {
                if (!first)
                    ob_c(&t, ',');
                first = 0;
                ob_qs(&t, EC_NAME[k]);
                ob_c(&t, ':');
                ob_i(&t, bu->errc[k]);
            }
        PUTL(&t, "},\"stopped_by\":");
        ob_qs_or_null(&t, bu->outcome == OUT_STOPPED ? a->pr[bu->stop_by].arn : NULL);
        PUTL(&t, ",\"stop_time\":");
        if (bu->outcome == OUT_STOPPED)
            ob_qiso(&t, bu->stop_t);
        else
            PUTL(&t, "null");
        const char *outcome = NULL, *src = NULL;
        if (O.eventbridge && bu->eb) {
            outcome = OUT_NAME[bu->outcome];
            src = "eventbridge";
        } else if (bu->outcome == OUT_STOPPED) {
            outcome = "STOPPED";
            src = "stopbuild";
        }
        PUTL(&t, ",\"outcome\":");
        ob_qs_or_null(&t, outcome);
        PUTL(&t, ",\"outcome_source\":");
        ob_qs_or_null(&t, src);
        PUTL(&t, ",\"simulated_outcome\":");
        ob_qs(&t, OUT_NAME[bu->outcome]);
        PUTL(&t, ",\"eventbridge\":");
        ob_puts(&t, O.eventbridge && bu->eb ? "true" : "false");
        PUTL(&t, ",\"start_record\":");
        ob_puts(&t, bu->trigger == T_WEBHOOK ? "null" : bu->trigger == T_RETRY ? "\"RetryBuild\"" : "\"StartBuild\"");
        PUTL(&t, ",\"batch_get_builds\":");
        ob_i(&t, bu->nbgb);
        PUTL(&t, ",\"late_records\":");
        ob_i(&t, bu->late);
        PUTL(&t, ",\"project_changes\":[");
        for (int k = 0; k < bu->nch; k++) {
            const change *ch = &bu->ch[k];
            if (k)
                ob_c(&t, ',');
            PUTL(&t, "{\"event_name\":");
            ob_qs(&t, CH_EVENT[ch->kind]);
            PUTL(&t, ",\"change\":");
            ob_qs(&t, CH_WHAT[ch->kind]);
            PUTL(&t, ",\"by\":");
            ob_qs(&t, a->pr[ch->who].arn);
            PUTL(&t, ",\"time\":");
            ob_qiso(&t, ch->t);
            ob_c(&t, '}');
        }
        PUTL(&t, "]}");
    }
    PUTL(&t, "],\n\"batches\":[");
    for (int i = 0; i < NBA; i++) {
        const batch *ba = &BA[i];
        const project *p = &PROJ[ba->project];
        const account *a = &ACC[p->acct];
        ob_puts(&t, i ? ",\n" : "\n");
        PUTL(&t, "{\"batch_id\":\"");
        ob_puts(&t, p->name);
        ob_c(&t, ':');
        ob_puts(&t, ba->uuid);
        PUTL(&t, "\",\"uuid\":\"");
        ob_puts(&t, ba->uuid);
        PUTL(&t, "\",\"project\":");
        ob_qs(&t, p->name);
        PUTL(&t, ",\"account\":");
        ob_qs(&t, a->id);
        PUTL(&t, ",\"region\":");
        ob_qs(&t, O.regions[p->region]);
        PUTL(&t, ",\"batch_number\":");
        ob_i(&t, ba->number);
        PUTL(&t, ",\"start_time\":");
        ob_qiso(&t, ba->t_start);
        PUTL(&t, ",\"trigger\":{\"type\":");
        ob_qs(&t, TRIG_NAME[ba->trigger]);
        PUTL(&t, ",\"principal_arn\":");
        if (ba->trigger == T_PIPELINE) {
            ob_c(&t, '"');
            ob_pipeline_session_arn(&t, ba->pipe, ba->pipe_ms);
            ob_c(&t, '"');
        } else {
            ob_qs(&t, a->pr[ba->who].arn);
        }
        PUTL(&t, ",\"initiator\":");
        if (ba->trigger == T_PIPELINE) {
            PUTL(&t, "\"codepipeline/");
            ob_esc(&t, PIPE[ba->pipe].name);
            ob_c(&t, '"');
        } else {
            ob_qs(&t, a->pr[ba->who].initiator);
        }
        PUTL(&t, ",\"pipeline\":");
        ob_qs_or_null(&t, ba->trigger == T_PIPELINE ? PIPE[ba->pipe].name : NULL);
        PUTL(&t, "},\"source_version\":");
        ob_qs(&t, ba->srcver);
        PUTL(&t, ",\"service_role_arn\":\"");
        ob_role_arn_of(&t, p, ba->role);
        PUTL(&t, "\",\"session_arn\":\"");
        ob_batch_session_arn(&t, ba);
        PUTL(&t, "\",\"children\":[");
        for (int k = 0; k < ba->nchildren; k++) {
            if (k)
                ob_c(&t, ',');
            ob_c(&t, '"');
            ob_build_id(&t, &B[ba->child[k]]);
            ob_c(&t, '"');
        }
        PUTL(&t, "],\"calls\":");
        ob_i(&t, ba->nchildren);
        PUTL(&t, ",\"late_records\":");
        ob_i(&t, ba->late);
        ob_c(&t, '}');
    }
    PUTL(&t, "]");
    write_truth_alerts(&t);
    PUTL(&t, "\n}\n");
    if (write_all(O.truth, t.p, t.n) != 0)
        die("'%s': %s", O.truth, strerror(errno));
    ob_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Options and main.                                                          */

static void usage(FILE *f)
{
    fputs("usage: bt-gen --out DIR [options]\n"
          "Writes a deterministic synthetic CloudTrail archive with CodeBuild deployments\n"
          "and a ground-truth JSON file (see docs/generator.md).\n"
          "\n"
          "  --out DIR          output directory (required; created if missing, should be empty)\n"
          "  --seed N           PRNG seed (default 1)\n"
          "  --events N         approximate number of unique events (default 20000)\n"
          "  --builds N         number of CodeBuild builds (default events/250)\n"
          "  --accounts N       number of AWS accounts, 1-50 (default 2)\n"
          "  --regions LIST     comma-separated regions (default us-east-1,eu-west-1);\n"
          "                     the first is the trail's home region\n"
          "  --start YYYY-MM-DD first day, UTC (default 2026-10-01)\n"
          "  --days N           number of days, 1-366 (default 3)\n"
          "  --org o-xxxxxxxxxx organization trail layout (AWSLogs/<o-id>/<acct>/...)\n"
          "  --eventbridge      also write EventBridge events under DIR/eventbridge/\n"
          "  --truth FILE       ground-truth path (default DIR/ground-truth.json)\n"
          "  --corrupt          also write a truncated .json.gz and a non-JSON .json.gz\n"
          "  --attacks          also write CodeBuild attack scenarios (ground truth in pack_alerts)\n"
          "  --jobs N           compression threads, 1-16 (default 2)\n"
          "  --level N          gzip level, 1-12 (default 1; isal uses 1-3)\n"
          "  --gzip ENGINE      libdeflate (default), or isal in a build with -DBT_GEN_ISAL\n"
          "  --help             show this help\n",
          f);
}

static void bad_opt(const char *opt, const char *what, const char *got) __attribute__((noreturn));
static void bad_opt(const char *opt, const char *what, const char *got)
{
    fprintf(stderr, "bt-gen: %s: expected %s, got '%s'\n", opt, what, got);
    exit(2);
}

static int64_t parse_int(const char *opt, const char *s, int64_t lo, int64_t hi)
{
    char what[96];
    snprintf(what, sizeof what, "an integer from %" PRId64 " to %" PRId64, lo, hi);
    if (!*s)
        bad_opt(opt, what, s);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        bad_opt(opt, what, s);
    return v;
}

static int valid_region(const char *r)
{
    /* xx-name-N or xx-gov-name-N */
    const char *p = r;
    if (!(p[0] >= 'a' && p[0] <= 'z' && p[1] >= 'a' && p[1] <= 'z' && p[2] == '-'))
        return 0;
    p += 3;
    int parts = 0;
    while (*p) {
        const char *q = p;
        while (*q >= 'a' && *q <= 'z')
            q++;
        if (q == p)
            break;
        if (*q != '-')
            return 0;
        parts++;
        p = q + 1;
    }
    if (parts < 1 || !(*p >= '1' && *p <= '9'))
        return 0;
    p++;
    return *p == '\0';
}

static void parse_args(int argc, char **argv)
{
    O.seed = 1;
    O.events = 20000;
    O.builds = -1;
    O.accounts = 2;
    O.start_arg = "2026-10-01";
    O.days = 3;
    O.jobs = 2;
    O.level = 1;
    const char *regions = "us-east-1,eu-west-1";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char name[32];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "bt-gen: unexpected argument '%s' (try --help)\n", a);
            exit(2);
        }
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) {
            fprintf(stderr, "bt-gen: unknown option '%s' (try --help)\n", a);
            exit(2);
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        int is_flag = !strcmp(name, "--eventbridge") || !strcmp(name, "--corrupt") ||
                      !strcmp(name, "--attacks") || !strcmp(name, "--help");
        if (is_flag) {
            if (eq) {
                fprintf(stderr, "bt-gen: %s: takes no value\n", name);
                exit(2);
            }
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "bt-gen: %s: missing value\n", name);
            exit(2);
        }
        if (!strcmp(name, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(name, "--out")) {
            if (!*val)
                bad_opt(name, "a directory", val);
            O.out = val;
        } else if (!strcmp(name, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(val, &end, 10);
            if (!*val || errno || *end || val[0] == '-')
                bad_opt(name, "a non-negative integer", val);
            O.seed = v;
        } else if (!strcmp(name, "--events")) {
            O.events = parse_int(name, val, 1, 1000000000LL);
        } else if (!strcmp(name, "--builds")) {
            O.builds = parse_int(name, val, 0, 10000000);
        } else if (!strcmp(name, "--accounts")) {
            O.accounts = (int)parse_int(name, val, 1, 50);
        } else if (!strcmp(name, "--regions")) {
            regions = val;
        } else if (!strcmp(name, "--start")) {
            O.start_arg = val;
        } else if (!strcmp(name, "--days")) {
            O.days = (int)parse_int(name, val, 1, 366);
        } else if (!strcmp(name, "--org")) {
            size_t n = strlen(val);
            int ok = n >= 12 && n <= 34 && !strncmp(val, "o-", 2);
            for (size_t k = 2; ok && k < n; k++)
                ok = (val[k] >= 'a' && val[k] <= 'z') || (val[k] >= '0' && val[k] <= '9');
            if (!ok)
                bad_opt(name, "an organization id like o-a1b2c3d4e5", val);
            O.org = val;
        } else if (!strcmp(name, "--eventbridge")) {
            O.eventbridge = 1;
        } else if (!strcmp(name, "--truth")) {
            if (!*val)
                bad_opt(name, "a file path", val);
            O.truth = val;
        } else if (!strcmp(name, "--corrupt")) {
            O.corrupt = 1;
        } else if (!strcmp(name, "--attacks")) {
            O.attacks = 1;
        } else if (!strcmp(name, "--jobs")) {
            O.jobs = (int)parse_int(name, val, 1, 16);
        } else if (!strcmp(name, "--level")) {
            O.level = (int)parse_int(name, val, 1, 12);
        } else if (!strcmp(name, "--gzip")) {
#ifdef BT_GEN_ISAL
            if (strcmp(val, "libdeflate") && strcmp(val, "isal"))
                bad_opt(name, "libdeflate or isal", val);
#else
            if (strcmp(val, "libdeflate"))
                bad_opt(name, "libdeflate (isal needs a build with -DBT_GEN_ISAL)", val);
#endif
            O.isal = !strcmp(val, "isal");
        } else {
            fprintf(stderr, "bt-gen: unknown option '%s' (try --help)\n", name);
            exit(2);
        }
    }
    if (!O.out) {
        fprintf(stderr, "bt-gen: --out: required (try --help)\n");
        exit(2);
    }
    /* regions */
    O.regions_arg = xstrdup(regions);
    O.regions = xcalloc(strlen(regions) / 2 + 2, sizeof *O.regions);
    for (char *tok = strtok(O.regions_arg, ","); tok; tok = strtok(NULL, ",")) {
        if (!valid_region(tok))
            bad_opt("--regions", "comma-separated region names like us-east-1", regions);
        for (int k = 0; k < O.nregions; k++)
            if (!strcmp(O.regions[k], tok))
                bad_opt("--regions", "distinct region names", regions);
        if (O.nregions >= 20)
            bad_opt("--regions", "at most 20 regions", regions);
        O.regions[O.nregions++] = tok;
    }
    if (!O.nregions)
        bad_opt("--regions", "comma-separated region names like us-east-1", regions);
    /* start date */
    {
        int y, m, d;
        char tail;
        const char *s = O.start_arg;
        if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' || s[7] != '-' ||
            y < 1970 || y > 9000 || m < 1 || m > 12 || d < 1 || d > 31)
            bad_opt("--start", "a date YYYY-MM-DD", s);
        O.start = days_from_civil(y, m, d) * 86400;
        civil cv = to_civil(O.start);
        if (cv.y != y || cv.mo != m || cv.d != d)
            bad_opt("--start", "a valid calendar date YYYY-MM-DD", s);
    }
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s/x", dir) >= (int)sizeof tmp)
        die("'%s': path too long", dir);
    mkdirs_for(tmp);
}

int main(int argc, char **argv)
{
    double t_begin = now_sec();
    parse_args(argc, argv);
    T0 = O.start;
    T1 = O.start + (int64_t)O.days * 86400;

    mkdir_p(O.out);
    char truth_default[4096];
    if (!O.truth) {
        if (snprintf(truth_default, sizeof truth_default, "%s/ground-truth.json", O.out) >= (int)sizeof truth_default)
            die("'%s': path too long", O.out);
        O.truth = truth_default;
    }
    if (O.eventbridge) {
        char eb[4096];
        snprintf(eb, sizeof eb, "%s/eventbridge", O.out);
        mkdir_p(eb);
    }

    setup_world();
    int64_t nbuilds = O.builds >= 0 ? O.builds : (O.events / 250 > 0 ? O.events / 250 : 1);
    plan_builds(nbuilds);
    if (O.attacks)
        plan_attacks();

    /* the rest of the requested events is unrelated noise */
    int64_t build_records = 0;
    for (int i = 0; i < NB; i++) {
        const build *bu = &B[i];
        build_records += bu->ncalls + bu->nch + bu->nbgb + (bu->trigger != T_WEBHOOK) +
                         !(bu->outcome == OUT_FAULT && bu->fail_phase == PH_PROVISIONING) +
                         (bu->outcome == OUT_STOPPED) + attack_records(bu);
    }
    build_records += 2 * (int64_t)NBA;
    int64_t noise = O.events > build_records ? O.events - build_records : 0;
    NOISE_RATE_TOTAL = (double)noise / (double)(T1 - T0);
    for (int s = 0; s < NSTR; s++)
        NOISE_WEIGHT_SUM += STR[s].noise_weight;

    pthread_t th[16];
    for (int i = 0; i < O.jobs; i++)
        if (pthread_create(&th[i], NULL, worker_main, NULL) != 0)
            die("cannot start a worker thread");
    for (int s = 0; s < NSTR; s++)
        generate_stream(s);
    pthread_mutex_lock(&Q.mu);
    Q.closing = 1;
    pthread_cond_broadcast(&Q.nonempty);
    pthread_mutex_unlock(&Q.mu);
    for (int i = 0; i < O.jobs; i++)
        pthread_join(th[i], NULL);
    if (WORKER_ERR[0])
        die("%s", WORKER_ERR);

    write_digests();
    if (O.corrupt)
        write_corrupt();
    write_truth();

    double el = now_sec() - t_begin;
    fprintf(stderr,
            "bt-gen: %" PRId64 " log files, %" PRId64 " digest files, %" PRId64 " records (%" PRId64
            " unique events, %d builds) in %.2f s (%.0f events/s)\n",
            N_FILES, N_DIGESTS, N_RECORDS_WRITTEN, N_UNIQUE, NB, el, el > 0 ? (double)N_UNIQUE / el : 0.0);
    return 0;
}
