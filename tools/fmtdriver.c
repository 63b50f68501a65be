/*
 * fmtdriver.c - bt-fmtdriver: prints the JSON value read from stdin with one of the
 * output formats, for the parity test against the AWS CLI's formatter classes
 * (tests/integration/it_format_parity.sh) and for trying the formats by hand.
 *
 *   bt-fmtdriver --output FORMAT [--title T] [--width N] [--csv-crlf] < value.json
 *   bt-fmtdriver --output text|yaml-stream --pages < {"pages":[...],"next_token":tok}
 *   bt-fmtdriver --ts EPOCH_MS...     (one ISO 8601 local time per line, honours TZ)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/format.h"
#include "buildtrail/json.h"

static int usage(void)
{
    fprintf(stderr, "usage: bt-fmtdriver --output FORMAT [--title T] [--width N] [--csv-crlf] "
                    "[--pages] < value.json\n"
                    "       bt-fmtdriver --ts EPOCH_MS...\n");
    return 2;
}

static int timestamps(int argc, char **argv)
{
    bt_buf b = BT_BUF_INIT;
    int i, rc = 0;

    for (i = 0; i < argc && rc == 0; i++) {
        char *end;
        long long ms = strtoll(argv[i], &end, 10);
        if (*end) {
            fprintf(stderr, "bt-fmtdriver: '%s': not an integer\n", argv[i]);
            rc = 2;
            break;
        }
        bt_buf_clear(&b);
        if (bt_format_iso8601_local(&b, (int64_t)ms) != 0) {
            fprintf(stderr, "bt-fmtdriver: '%s': out of range\n", argv[i]);
            rc = 1;
            break;
        }
        printf("%s\n", b.data);
    }
    bt_buf_dispose(&b);
    return rc;
}

int main(int argc, char **argv)
{
    bt_format_opts opts = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_buf in = BT_BUF_INIT, out = BT_BUF_INIT;
    bt_arena *arena = NULL;
    bt_json *root = NULL;
    bool pages = false;
    int i, rc = 0, status = 1;

    opts.title = "LookupEvents";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ts") == 0)
            return timestamps(argc - i - 1, argv + i + 1);
        if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
            if (bt_format_parse_name(argv[++i], &opts.format, &err) != 0) {
                fprintf(stderr, "bt-fmtdriver: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) {
            opts.title = argv[++i];
        } else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc) {
            opts.width = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--csv-crlf") == 0) {
            opts.flags |= BT_FORMAT_F_CSV_CRLF;
        } else if (strcmp(argv[i], "--pages") == 0) {
            pages = true;
        } else {
            return usage();
        }
    }

    arena = bt_arena_new(0, 0);
    if (!arena) {
        fprintf(stderr, "bt-fmtdriver: out of memory\n");
        goto done;
    }
    if (bt_buf_read_file(&in, "-", &err) != 0 ||
        bt_json_parse(arena, in.data ? in.data : "", in.len, NULL, &root, &err) != 0) {
        fprintf(stderr, "bt-fmtdriver: stdin: %s\n", err.msg);
        goto done;
    }
    if (!pages) {
        rc = bt_format_write(&out, root, &opts, &err);
    } else {
        const bt_json *list = bt_json_get(root, "pages");
        const bt_json *tok = bt_json_get(root, "next_token");
        size_t p;
        if (!list || list->type != BT_JSON_ARRAY) {
            fprintf(stderr, "bt-fmtdriver: --pages wants {\"pages\": [...]}\n");
            goto done;
        }
        for (p = 0; rc == 0 && p < list->len; p++)
            rc = bt_format_write_page(&out, list->u.items[p], &opts, &err);
        if (rc == 0 && tok && tok->type == BT_JSON_STRING && opts.format == BT_FORMAT_TEXT) {
            bt_json *v = bt_format_next_token_value(arena, tok->u.str, tok->len);
            rc = v ? bt_format_write_page(&out, v, &opts, &err) : BT_ENOMEM;
        }
    }
    if (out.len)
        fwrite(out.data, 1, out.len, stdout);
    if (rc != 0) {
        fprintf(stderr, "bt-fmtdriver: %s\n", err.msg);
        goto done;
    }
    status = 0;
done:
    if (fflush(stdout) != 0)
        status = 1;
    bt_buf_dispose(&in);
    bt_buf_dispose(&out);
    bt_arena_free(arena);
    return status;
}
