/* output.c - printing results: streaming JSON in the LookupEvents shape and raw
 * NDJSON (with --query: its result per line), and every AWS CLI format (with --query,
 * which may read the parsed record through the Record view) through the formatter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buildtrail/format.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/lookup.h"
#include "cli.h"
#include "events_view.h"
#include "output_int.h"
#include "table.h"

enum { MODE_STREAM_JSON, MODE_NDJSON, MODE_COLLECT, MODE_STREAM_QUERY, MODE_HUMAN };

struct cli_out {
    int mode;
    bt_format_kind format;
    bt_jmespath *query;
    const char *title;
    bt_arena *arena; /* collected events (MODE_COLLECT) */
    bt_json *events;
    bt_buf buf;
    uint64_t n;
    int failed;
    bt_jmespath *per_event; /* MODE_STREAM_QUERY: the query as applied to one event */
    bt_arena *tmp;          /* MODE_STREAM_QUERY, MODE_NDJSON with a query: per-event scratch */
    int record;             /* the query names Record: events carry their parsed record */
    events_view *view;      /* MODE_HUMAN: the table for people */
    char *next_token;       /* --max-items stopped before the end */
};

static void flush(cli_out *o, int force)
{
    if (o->buf.len && (force || o->buf.len >= (1u << 20))) {
        if (fwrite(o->buf.data, 1, o->buf.len, stdout) != o->buf.len)
            o->failed = 1;
        bt_buf_clear(&o->buf);
    }
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

cli_out *cli_out_new(const char *format, const char *query, const char *title)
{
    cli_out *o = calloc(1, sizeof *o);
    bt_error err = BT_ERROR_INIT;

    if (!o) {
        cli_err("out of memory");
        return NULL;
    }
    o->title = title;
    if (!format || strcmp(format, "json") == 0) {
        o->format = BT_FORMAT_JSON;
        o->mode = MODE_STREAM_JSON;
    } else if (strcmp(format, "ndjson") == 0) {
        o->mode = MODE_NDJSON;
    } else if (strcmp(format, "human") == 0 && !query) {
        o->mode = MODE_HUMAN;
        if (cli_table_load()) { /* (it said why) */
            free(o);
            return NULL;
        }
        if (!(o->view = events_view_new())) {
            cli_err("out of memory");
            free(o);
            return NULL;
        }
    } else if (bt_format_parse_name(format, &o->format, &err)) {
        cli_err("--output: %s (or ndjson)", err.msg);
        free(o);
        return NULL;
    } else {
        o->mode = MODE_COLLECT;
    }
    if (query) {
        if (bt_jmespath_compile(query, &o->query, &err)) {
            cli_err("--query: %s", err.msg);
            free(o);
            return NULL;
        }
        o->record = bt_jmespath_names_field(o->query, CLI_RECORD_VIEW);
        if (o->mode == MODE_NDJSON) { /* the query applies to each line's record */
            if (!(o->tmp = bt_arena_new(1 << 16, 0))) {
                cli_err("out of memory");
                cli_out_discard(o);
                return NULL;
            }
            return o;
        }
        o->mode = MODE_COLLECT;
        {
            char *pe = cli_per_event_query(query);
            if (pe && bt_jmespath_compile(pe, &o->per_event, &err) == 0 &&
                (o->tmp = bt_arena_new(1 << 16, 0)))
                o->mode = MODE_STREAM_QUERY;
            free(pe);
        }
    }
    if (o->mode == MODE_COLLECT || o->mode == MODE_STREAM_QUERY) {
        o->arena = bt_arena_new(1 << 20, 0);
        o->events = o->arena ? bt_json_new_array(o->arena, 64) : NULL;
        if (!o->events) {
            cli_err("out of memory");
            bt_jmespath_free(o->query);
            bt_arena_free(o->arena);
            free(o);
            return NULL;
        }
    }
    return o;
}

/* A query failed on an event: say so, and stop with nothing more on stdout. */
static int query_failed(cli_out *o, const bt_error *err)
{
    if (err->code == BT_ENOMEM)
        return BT_ENOMEM;
    if (o->mode == MODE_STREAM_QUERY)
        o->mode = MODE_COLLECT;
    o->failed = 2;
    bt_buf_clear(&o->buf);
    cli_err("--query: %s", err->msg);
    return BT_ESTOP; /* the caller stops; cli_out_finish returns EXIT_USAGE */
}

bool cli_out_raw_only(const cli_out *o)
{
    return o->mode == MODE_NDJSON && !o->query;
}

int cli_out_event(cli_out *o, const bt_event *ev)
{
    bt_json *v;

    if (o->mode == MODE_NDJSON && o->query) {
        bt_error err = BT_ERROR_INIT;
        bt_arena_reset(o->tmp);
        if (cli_ndjson_query_line(&o->buf, o->tmp, o->query, ev, &err))
            return query_failed(o, &err);
        o->n++;
        flush(o, 0);
        return o->failed ? BT_EIO : 0;
    }
    if (o->mode == MODE_NDJSON) {
        bt_buf_append(&o->buf, ev->raw, ev->raw_len);
        bt_buf_putc(&o->buf, '\n');
        o->n++;
        flush(o, 0);
        return o->failed ? BT_EIO : 0;
    }
    if (o->mode == MODE_HUMAN)
        return events_view_add(o->view, ev);
    if (o->mode == MODE_COLLECT) {
        v = cli_event_value(o->arena, ev, o->record);
        if (!v || bt_json_array_push(o->arena, o->events, v))
            return BT_ENOMEM;
        o->n++;
        return 0;
    }
    if (o->mode == MODE_STREAM_QUERY) {
        bt_error err = BT_ERROR_INIT;
        bt_json *res;
        size_t i;
        bt_arena_reset(o->tmp);
        v = cli_event_value(o->tmp, ev, o->record);
        if (!v)
            return BT_ENOMEM;
        /* the expression starts with [@]: it wraps the event itself */
        if (bt_jmespath_eval(o->per_event, o->tmp, v, &res, &err))
            return query_failed(o, &err); /* the same error the whole query would hit */
        for (i = 0; res->type == BT_JSON_ARRAY && i < res->len; i++) {
            bt_json *c = cli_json_clone(o->arena, res->u.items[i]);
            if (!c || bt_json_array_push(o->arena, o->events, c))
                return BT_ENOMEM;
        }
        o->n++;
        return 0;
    }
    /* streaming JSON: each event at depth 2 of {"Events": [...]}, 4-space indent */
    {
        bt_arena *a = bt_arena_new(1 << 16, 0);
        bt_buf one = BT_BUF_INIT;
        bt_json_write_opts wo = {4, 0};
        size_t i;
        int rc = BT_ENOMEM;
        if (!a)
            return BT_ENOMEM;
        v = bt_ct_record_cli_value(a, ev);
        if (v && bt_json_write(&one, v, &wo) == 0) {
            bt_buf_puts(&o->buf, o->n ? ",\n        " : "{\n    \"Events\": [\n        ");
            /* re-indent by 8: copy line by line */
            for (i = 0; i < one.len;) {
                const char *nl = memchr(one.data + i, '\n', one.len - i);
                size_t end = nl ? (size_t)(nl - one.data) + 1 : one.len;
                bt_buf_append(&o->buf, one.data + i, end - i);
                if (nl)
                    bt_buf_append(&o->buf, "        ", 8);
                i = end;
            }
            o->n++;
            rc = 0;
        }
        bt_buf_dispose(&one);
        bt_arena_free(a);
        flush(o, 0);
        return rc ? rc : o->failed ? BT_EIO : 0;
    }
}

static int write_value(bt_format_kind kind, const char *title, const bt_json *v)
{
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_buf out = BT_BUF_INIT;
    int rc;

    fo.format = kind;
    fo.title = title;
    fo.width = term_width();
    if (bt_format_is_paged(kind))
        rc = bt_format_write_page(&out, v, &fo, &err);
    else
        rc = bt_format_write(&out, v, &fo, &err);
    if (rc) {
        bt_buf_dispose(&out);
        return cli_fail(&err, EXIT_ERROR);
    }
    if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = 1;
    bt_buf_dispose(&out);
    return rc ? EXIT_ERROR : EXIT_OK;
}

static int apply_and_write(bt_format_kind kind, bt_jmespath *q, const char *title, bt_arena *a,
                           const bt_json *v)
{
    bt_error err = BT_ERROR_INIT;
    bt_json *res = (bt_json *)v;
    if (q && bt_jmespath_eval(q, a, v, &res, &err)) {
        cli_err("--query: %s", err.msg);
        return EXIT_USAGE;
    }
    return write_value(kind, title, res);
}

void cli_out_next_token(cli_out *o, const char *token)
{
    free(o->next_token);
    o->next_token = strdup(token);
}

/* The token where it has no place in the output: a line on stderr. */
static void token_note(const cli_out *o)
{
    if (o->next_token)
        cli_warn("more: continue with --starting-token %s", o->next_token);
}

void cli_out_discard(cli_out *o)
{
    if (!o)
        return;
    free(o->next_token);
    if (o->mode == MODE_HUMAN && o->view)
        events_view_finish(o->view, NULL);
    bt_buf_dispose(&o->buf);
    bt_jmespath_free(o->query);
    bt_jmespath_free(o->per_event);
    bt_arena_free(o->tmp);
    bt_arena_free(o->arena);
    free(o);
}

int cli_out_finish(cli_out *o)
{
    int code = EXIT_OK;
    if (o->mode == MODE_STREAM_JSON && o->next_token) {
        bt_buf_puts(&o->buf, o->n ? "\n    ],\n    \"NextToken\": "
                                  : "{\n    \"Events\": [],\n    \"NextToken\": ");
        bt_json_write_string(&o->buf, o->next_token, strlen(o->next_token), 0);
        bt_buf_puts(&o->buf, "\n}\n");
    } else if (o->mode == MODE_STREAM_JSON) {
        bt_buf_puts(&o->buf, o->n ? "\n    ]\n}\n" : "{\n    \"Events\": []\n}\n");
    }
    if (o->mode == MODE_HUMAN) {
        o->failed = events_view_finish(o->view, stdout) != 0;
        o->view = NULL;
    } else if (o->mode == MODE_STREAM_QUERY) {
        code = write_value(o->format, o->title, o->events);
    } else if (o->failed == 2) {
        code = EXIT_USAGE;
        o->failed = 0;
    } else if (o->mode == MODE_COLLECT) {
        bt_json *root = bt_json_new_object(o->arena, 2), *tok = NULL;
        if (o->next_token)
            tok = bt_json_new_string(o->arena, o->next_token, strlen(o->next_token));
        if (!root || bt_json_object_put(o->arena, root, "Events", 6, o->events) ||
            (o->next_token && (!tok || bt_json_object_put(o->arena, root, "NextToken", 9, tok)))) {
            cli_err("out of memory");
            code = EXIT_ERROR;
        } else {
            code = apply_and_write(o->format, o->query, o->title, o->arena, root);
        }
    }
    flush(o, 1);
    if (fflush(stdout) != 0)
        o->failed = 1;
    if (o->mode != MODE_STREAM_JSON && o->mode != MODE_COLLECT)
        token_note(o);
    if (o->failed && code == EXIT_OK) {
        cli_err("cannot write the output");
        code = EXIT_ERROR;
    }
    cli_out_discard(o);
    return code;
}

int cli_out_value(const char *format, const char *query, const char *title, const bt_json *v)
{
    bt_format_kind kind = BT_FORMAT_JSON;
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = NULL;
    bt_arena *a;
    int code;

    if (format && bt_format_parse_name(format, &kind, &err)) {
        cli_err("--output: %s", err.msg);
        return EXIT_USAGE;
    }
    if (query && bt_jmespath_compile(query, &q, &err)) {
        cli_err("--query: %s", err.msg);
        return EXIT_USAGE;
    }
    a = bt_arena_new(1 << 16, 0);
    if (!a) {
        bt_jmespath_free(q);
        cli_err("out of memory");
        return EXIT_ERROR;
    }
    code = apply_and_write(kind, q, title, a, v);
    bt_arena_free(a);
    bt_jmespath_free(q);
    if (fflush(stdout) != 0 && code == EXIT_OK) {
        cli_err("cannot write the output");
        code = EXIT_ERROR;
    }
    return code;
}
