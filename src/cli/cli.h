/*
 * cli.h - the command-line layer: command table, declarative option tables (which
 * drive parsing, --help and the man page), exit codes and shared helpers.
 *
 * Adding a command: write src/cli/cmd_<name>.c with an option table and a
 * `const cli_cmd cmd_<name>_def` whose handler returns an exit code, declare it
 * below, and add it to the table in main.c. The man page (docs/buildtrail.1) is
 * regenerated with `buildtrail help --man`; a test fails when it drifts.
 */
#ifndef BT_CLI_H
#define BT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buildtrail/buf.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/error.h"
#include "buildtrail/event.h"
#include "buildtrail/filter.h"
#include "buildtrail/json.h"
#include "buildtrail/source.h"
#include "buildtrail/store.h"

/* Exit codes (documented in the man page, EXIT STATUS). */
enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,    /* runtime failure: store, I/O, out of memory */
    EXIT_USAGE = 2,    /* bad option, bad value, bad expression */
    EXIT_PARTIAL = 3,  /* finished, but some inputs could not be read */
    EXIT_NOSTORE = 4,  /* the store does not exist or is not a buildtrail store */
    EXIT_NOTFOUND = 5, /* the thing asked for (build, event) is not there */
    /* `lookup` uses the AWS CLI's codes instead: */
    EXIT_AWS_USAGE = 252,
    EXIT_AWS_CONFIG = 253,
    EXIT_AWS_SERVICE = 254,
    EXIT_AWS_OTHER = 255
};

typedef enum opt_type {
    OPT_FLAG,  /* no argument */
    OPT_VALUE, /* one argument (repeatable when the command allows it) */
} opt_type;

typedef struct cli_opt {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0 for none */
    opt_type type;
    const char *arg;  /* metavar for help, e.g. "TIME" */
    int id;           /* passed back to the command's handler */
    const char *help; /* one or two sentences */
} cli_opt;

/* An option group: shared tables are composed into commands. */
typedef struct cli_group {
    const char *title; /* e.g. "Filters" */
    const cli_opt *opts;
    size_t n;
} cli_group;

#define CLI_GROUP(title, arr)                                                                      \
    {                                                                                              \
        title, arr, sizeof(arr) / sizeof((arr)[0])                                                 \
    }

typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;            /* one line for the command list */
    const char *synopsis;           /* "ingest [options] PATH..." */
    const char *description;        /* paragraphs for --help and the man page */
    const cli_group *const *groups; /* NULL-terminated */
    const char *examples;           /* lines, for --help and the man page */
} cli_cmd;

extern const cli_cmd *const cli_commands[];
extern const size_t cli_ncommands;
const cli_cmd *cli_find(const char *name);

/*
 * Parses argv[1..] for cmd. For each option, calls fn(ctx, opt, value) (value NULL
 * for flags); non-option arguments are collected into *pos (argv pointers, *npos).
 * "--help"/"-h" prints help and returns 1 (caller exits 0). "--" ends options.
 * Both "--name value" and "--name=value" work. Returns 0, 1 for help, or -1 after
 * printing a usage error.
 */
int cli_parse(const cli_cmd *cmd, int argc, char **argv,
              int (*fn)(void *ctx, const cli_opt *opt, const char *value), void *ctx, char ***pos,
              int *npos);

void cli_print_help(FILE *f, const cli_cmd *cmd);
/* Says name is not a command (suggesting the closest one); returns EXIT_USAGE. */
int cli_unknown_command(const char *name);
void cli_print_main_help(FILE *f);
void cli_print_man(FILE *f);

/* Diagnostics: "buildtrail: <msg>" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --OPT BYTES: a whole number of bytes from 1024 to 1 GiB into *out; 0, or -1 after a
 * message. */
int cli_parse_bytes(const char *opt, const char *v, size_t *out);
/* Prints err->msg (or bt_strerror) and returns the exit code for it. */
int cli_fail(const bt_error *err, int code);
extern int cli_quiet;
extern int cli_debug;
/* "buildtrail: debug: <line>" on stderr: the library's log callback (bt_aws_log_fn). */
void cli_debug_line(void *payload, const char *line);

/* ---- shared option groups (common.c) ---- */

enum {
    /* ids 1000+ are shared options; commands use ids below 1000 */
    O_STORE = 1000,
    O_START,
    O_END,
    O_EVENT_NAME,
    O_EVENT_SOURCE,
    O_USERNAME,
    O_RESOURCE_NAME,
    O_RESOURCE_TYPE,
    O_ACCESS_KEY_ID,
    O_EVENT_ID,
    O_READ_ONLY,
    O_ERROR_CODE,
    O_ERRORS,
    O_SOURCE_IP,
    O_ACCOUNT,
    O_REGION,
    O_PROJECT,
    O_BUILD,
    O_PRINCIPAL,
    O_OUTPUT,
    O_QUERY,
    O_MAX_ITEMS,
    O_NO_COLOR,
    O_QUIET,
    O_DEBUG,
    O_THREADS,
};

extern const cli_group cli_group_filters, cli_group_store, cli_group_output, cli_group_general;

/* Common state filled by the shared options. */
typedef struct cli_common {
    const char *store; /* --store */
    bt_filter filter;
    const char *output; /* --output (NULL = command default) */
    const char *query;  /* --query */
    uint64_t max_items; /* 0 = all */
    int threads;
    int64_t now_ms;
    int hinted;
} cli_common;

void cli_common_init(cli_common *c);
/* Handles a shared option; returns 0 if handled, 1 if not a shared option, -1 on a
 * bad value (message printed). */
int cli_common_opt(cli_common *c, const cli_opt *opt, const char *value);
/* Resolves the store path (--store, $BUILDTRAIL_STORE, XDG). Caller frees. */
char *cli_store_path(const cli_common *c);
/* bt_store_open, drawing a schema upgrade's progress on stderr once it has taken a
 * second (bt_store_open_progress). */
int cli_store_open(const char *path, unsigned flags, bt_store **out, bt_error *err);
/* Draws "\r[=====>    ]" (24 cells, frac of them full) over the line on stderr. */
void cli_progress_bar(double frac);

/* A timestamp as the AWS CLI prints it, as a JSON string in arena. */
bt_json *cli_time_value(bt_arena *a, int64_t ms);

/* ---- result output (output.c) ---- */

typedef struct cli_out cli_out;
/* Starts output of a list of events in the given format ("json", "ndjson", "text",
 * "table", "yaml", "yaml-stream", "csv"; "human": a table for people, no query), with an
 * optional JMESPath query. Returns NULL after printing an error (bad format or query). */
cli_out *cli_out_new(const char *format, const char *query, const char *title);
/* 0, BT_ENOMEM/BT_EIO, or BT_ESTOP after printing a --query error (stop reading; the
 * exit code comes from cli_out_finish). */
int cli_out_event(cli_out *o, const bt_event *ev);
/* True when o prints each event's raw record alone (ndjson without a query): the
 * event's other fields are not read (bt_store_query.raw_only). */
bool cli_out_raw_only(const cli_out *o);
/* Finishes (prints what was collected); returns an exit code. */
int cli_out_finish(cli_out *o);
/* There are more results: token goes into the output as NextToken (json and the AWS
 * CLI formats), else a note on stderr. */
void cli_out_next_token(cli_out *o, const char *token);
/* Frees o without printing anything (the command failed before any result). */
void cli_out_discard(cli_out *o);
/* Prints one JSON value in the chosen format with the query applied (for info,
 * builds, ...). Returns an exit code. */
int cli_out_value(const char *format, const char *query, const char *title, const bt_json *v);

/* ---- trail archives in S3 (s3.c), for ingest and search --from ---- */

enum {
    /* ids 2000+: the S3 options */
    O_ENDPOINT_URL = 2000,
    O_PROFILE,
    O_ADDRESSING,
    O_CONCURRENCY,
};

/* --endpoint-url, --profile, --addressing-style, --max-concurrent-requests */
extern const cli_group cli_group_s3;
/* ingest: --start-time, --end-time, --account, --region choose what is read */
extern const cli_group cli_group_s3_select;

typedef struct cli_s3 {
    const char *endpoint_url;
    const char *profile;
    int addressing;  /* bt_s3_addressing */
    int concurrency; /* 0 = default */
    char **owned;    /* split list values (the filter borrows them) */
    size_t nowned;
} cli_s3;

int cli_is_s3_url(const char *arg);
/* Checks an s3:// argument (bucket name, CloudTrail prefix layout) before anything is
 * read: 0, or BT_EINVAL with err filled (a usage error). */
int cli_s3_check_url(const char *url, bt_error *err);
/* Handles an S3 option, and splits comma lists of --account / --region into the
 * filter of c: 0 handled, 1 not an S3 option, -1 bad value (message printed). */
int cli_s3_opt(cli_s3 *s3, cli_common *c, const cli_opt *opt, const char *value);
/* cli_s3_opt, then cli_common_opt: 0 handled, 1 neither, -1 bad value (printed). */
int cli_s3_or_common_opt(cli_s3 *s3, cli_common *c, const cli_opt *opt, const char *value);
/* Reads one s3:// archive: the walk is chosen by f's time window, accounts and
 * regions; skip (may be NULL) is asked about each object before it is read. Returns
 * what bt_scan_s3 returns (err filled); the AWS client is made here. */
int cli_s3_scan(const cli_s3 *s3, const char *url, const bt_filter *f, const bt_scan_opts *so,
                int (*skip)(void *ctx, const char *source, uint64_t size, int64_t mtime_ns,
                            const char *etag),
                void *skip_ctx, bt_read_stats *st, bt_error *err);
void cli_s3_dispose(cli_s3 *s3);
/* The AWS client settings of the S3 options (profile, endpoint, --debug log). */
struct bt_aws_config;
void cli_s3_aws_config(const cli_s3 *s3, struct bt_aws_config *cfg);
/* After reading an s3:// archive: the --debug line, and a warning when the selection
 * listed no log file. */
struct bt_s3_scan_info;
void cli_s3_report(const char *url, const struct bt_s3_scan_info *info, int rc);

/* command definitions (cmd_<name>.c) */
extern const cli_cmd cmd_ingest_def, cmd_search_def, cmd_info_def, cmd_builds_def, cmd_build_def,
    cmd_help_def;
extern const cli_cmd cmd_lookup_def;
extern const cli_cmd cmd_serve_def;

#endif
