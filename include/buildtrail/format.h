/*
 * buildtrail/format.h - output formats compatible with the AWS CLI v2 (`--output
 * json|text|table|yaml|yaml-stream`, byte for byte as /usr/bin/aws 2.9 prints them)
 * plus csv, which the AWS CLI lacks. docs/output.md describes every rule.
 *
 * The value given to a formatter is what the AWS CLI would print: the response with
 * ResponseMetadata removed and --query already applied (the JMESPath module does
 * that), timestamps already turned into strings (bt_format_iso8601_local).
 *
 * Two ways to print, as in the CLI:
 *  - bt_format_write: one complete value. json, table, yaml and csv always print
 *    this way (the CLI merges all pages first, then applies --query once).
 *  - bt_format_write_page: text and yaml-stream print each API page on its own (the
 *    caller applies --query to every page); after the last page, text prints the
 *    resume token through bt_format_next_token_value.
 *
 * Nothing here prints or allocates outside the caller's bt_buf / bt_arena; every
 * function appends to out and leaves out unchanged beyond what it wrote on error.
 */
#ifndef BT_FORMAT_H
#define BT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_format_kind {
    BT_FORMAT_JSON = 0,    /* json.dumps(indent=4, ensure_ascii=False) + "\n" */
    BT_FORMAT_TEXT,        /* awscli/text.py: tab-separated, UPPERCASE identifiers */
    BT_FORMAT_TABLE,       /* awscli/table.py: boxed tables with a title */
    BT_FORMAT_YAML,        /* ruamel.yaml safe dump (libyaml emitter) */
    BT_FORMAT_YAML_STREAM, /* one YAML list item per page */
    BT_FORMAT_CSV          /* not in the AWS CLI: RFC 4180, see docs/output.md */
} bt_format_kind;

/* Maps "json", "text", "table", "yaml", "yaml-stream", "csv" (exact, lowercase) to
 * *out. Returns 0, or BT_EINVAL with err naming the valid choices. */
int bt_format_parse_name(const char *name, bt_format_kind *out, bt_error *err);
/* Static name of a format ("yaml-stream"); "unknown" for a bad value. */
const char *bt_format_name(bt_format_kind kind);
/* True for the formats that print page by page (text, yaml-stream). */
bool bt_format_is_paged(bt_format_kind kind);

enum {
    BT_FORMAT_F_CSV_CRLF = 1u << 0,     /* csv: end records with "\r\n" (RFC 4180) */
    BT_FORMAT_F_CSV_NO_HEADER = 1u << 1 /* csv: omit the header record */
};

typedef struct bt_format_opts {
    bt_format_kind format;
    const char *title; /* table: title row, the operation name ("LookupEvents");
                          NULL or "" = no title row */
    unsigned width;    /* table: terminal width in columns; 0 = 80, which is what
                          the AWS CLI uses when stdout is not a terminal */
    unsigned flags;    /* BT_FORMAT_F_* */
} bt_format_opts;

/* clang-format off */
#define BT_FORMAT_OPTS_INIT {BT_FORMAT_JSON, NULL, 0, 0}
/* clang-format on */

/*
 * Appends the formatted value (NULL means JSON null; opts NULL means json).
 * Returns 0; BT_ENOMEM or BT_ELIMIT (out's cap; nothing appended); BT_EINVAL when
 * the AWS CLI itself fails
 * on this value (a few irregular shapes: a list mixing dicts and non-dicts in text,
 * rows of unequal length in table). err->msg then carries the Python error and out
 * holds exactly what the CLI prints on stdout before failing: nothing for table,
 * the lines before the failing list for text. Objects with duplicate keys print as
 * Python's json.loads sees them: first position, last value.
 */
int bt_format_write(bt_buf *out, const bt_json *value, const bt_format_opts *opts, bt_error *err);

/*
 * Appends one page for the paged formats (text, yaml-stream): page is the API page
 * after --query, e.g. {"Events": [...]} for LookupEvents. Unlike bt_format_write,
 * yaml-stream prints an empty page ({}) as "- {}". Other formats: BT_EINVAL (merge
 * the pages and call bt_format_write).
 */
int bt_format_write_page(bt_buf *out, const bt_json *page, const bt_format_opts *opts,
                         bt_error *err);

/*
 * Builds, in arena a, the value the CLI's text output formats after the last page
 * when a resume token remains: {"NextToken": {"NextToken": token}}. Apply --query
 * to it like to a page (with a query this usually yields null, printed "None", as
 * the CLI does) and pass the result to bt_format_write_page. yaml-stream does not
 * print the token. Returns NULL on allocation failure.
 */
bt_json *bt_format_next_token_value(bt_arena *a, const char *token, size_t len);

/*
 * Appends the AWS CLI's rendering of a timestamp (cli_timestamp_format iso8601):
 * Python's datetime.fromtimestamp(t, dateutil.tz.tzlocal()).isoformat(), e.g.
 * "2021-11-18T09:41:02-08:00", "+00:00" under UTC, ".123000" only when the
 * milliseconds are non-zero. The local zone comes from TZ (tzset() is called), with
 * dateutil's rules: the zone's current standard/DST offsets, DST decided by
 * localtime(). Returns 0, BT_EINVAL (year outside 1..9999), BT_ENOMEM/BT_ELIMIT.
 */
int bt_format_iso8601_local(bt_buf *out, int64_t epoch_ms);

/*
 * Display width of UTF-8 text as the AWS CLI's table measures it: one column per
 * code point, two for East Asian Wide, Fullwidth and Ambiguous characters
 * (Unicode 14, as Python 3.11's unicodedata). Invalid bytes count one each.
 */
size_t bt_format_display_width(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
