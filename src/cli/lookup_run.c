/* lookup_run.c - the run of `buildtrail lookup`: one region through the library's
 * LookupEvents paging loop (bt_ct_lookup_pages with the plan), printed as the AWS CLI
 * prints it (text and yaml-stream per page, the other formats at the end, --max-items
 * resume tokens), saved into --store; several regions in parallel, merged newest
 * first. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lookup_run.h"

#define aws_msg lk_msg

static unsigned term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Applies the query and prints v (whole value, or one page for the paged formats). */
int lk_print_value(lk_out *o, bt_arena *a, const bt_json *v, int page)
{
    bt_format_opts fo = BT_FORMAT_OPTS_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_buf b = BT_BUF_INIT;
    bt_json *res = (bt_json *)v;
    int rc;

    if (o->q && bt_jmespath_eval(o->q, a, v, &res, &err)) {
        aws_msg("%s", err.msg);
        return EXIT_AWS_OTHER;
    }
    fo.format = o->kind;
    fo.title = "LookupEvents";
    fo.width = term_width();
    rc = page ? bt_format_write_page(&b, res, &fo, &err) : bt_format_write(&b, res, &fo, &err);
    if (b.len && fwrite(b.data, 1, b.len, stdout) != b.len)
        o->failed = 1;
    bt_buf_dispose(&b);
    if (rc) {
        aws_msg("%s", err.msg);
        return EXIT_AWS_OTHER;
    }
    return 0;
}

bt_json *lk_events_object(bt_arena *a, bt_json *events)
{
    bt_json *root = bt_json_new_object(a, 2);
    if (!root || !events || bt_json_object_put(a, root, "Events", 6, events))
        return NULL;
    return root;
}

static int save_page(lk_region *r, bt_arena *a, const bt_ct_lookup_page *pg)
{
    size_t i;
    int rc = 0, is_new;
    if (!r->store)
        return 0;
    if (r->store_mu)
        pthread_mutex_lock(r->store_mu);
    if ((rc = bt_store_begin(r->store, &r->err)))
        goto done;
    for (i = 0; i < pg->nevents; i++) {
        bt_event ev;
        bt_error e2 = BT_ERROR_INIT;
        if (bt_ct_event_record(a, &pg->events[i], &ev, &e2))
            continue; /* no record to save */
        if ((rc = bt_store_add(r->store, &ev, &is_new, &r->err)))
            goto done;
        r->stored += (uint64_t)is_new;
    }
    rc = bt_store_commit(r->store, &r->err);
done:
    if (rc)
        bt_store_rollback(r->store);
    if (r->store_mu)
        pthread_mutex_unlock(r->store_mu);
    if (rc)
        r->code = cli_fail(&r->err, EXIT_AWS_OTHER);
    return rc;
}

/* The AWS CLI's message and exit code for a failed call. */
static int call_failed(lk_region *r)
{
    const bt_error *e = &r->err;
    const char *pre = r->collect && r->region ? r->region : NULL;
    char where[80] = "";
    if (pre)
        snprintf(where, sizeof where, "[%s] ", pre);
    if (e->code == BT_EAWS) {
        char msg[BT_ERROR_MSG_MAX + 200];
        lk_service_error(e, msg, sizeof msg);
        aws_msg("%s%s", where, msg);
        return strcmp(e->aws_code, "PaginationError") == 0 ? EXIT_AWS_OTHER : EXIT_AWS_SERVICE;
    }
    if (e->code == BT_ECRED) {
        aws_msg("%sUnable to locate credentials. You can configure credentials by running "
                "\"aws configure\".\n(%s)",
                where, e->msg);
        return EXIT_AWS_CONFIG;
    }
    if (e->code == BT_ECONFIG) {
        if (strstr(e->msg, "Missing Region") || strstr(e->msg, "no region")) {
            aws_msg("%sYou must specify a region. You can also configure your region by running "
                    "\"aws configure\".",
                    where);
            return EXIT_AWS_CONFIG;
        }
        aws_msg("%s%s", where, e->msg);
        return EXIT_AWS_CONFIG;
    }
    if (e->code == BT_EHTTP) {
        if (strstr(e->msg, "onnect") && !strstr(e->msg, "timed out")) {
            aws_msg("%sCould not connect to the endpoint URL: \"%s/\"", where, r->endpoint);
            return EXIT_AWS_OTHER;
        }
        if (strstr(e->msg, "timed out") || strstr(e->msg, "Timeout")) {
            aws_msg("%s%s timeout on endpoint URL: \"%s/\"", where,
                    strstr(e->msg, "onnect") ? "Connect" : "Read", r->endpoint);
            return EXIT_AWS_OTHER;
        }
    }
    aws_msg("%s%s", where, e->msg[0] ? e->msg : bt_strerror(e->code));
    return EXIT_AWS_OTHER;
}

static int push_item(lk_region *r, int64_t ms, bt_json *v)
{
    if (bt_array_grow((void **)&r->items, &r->citems, r->nitems + 1, sizeof *r->items, 256))
        return BT_ENOMEM;
    r->items[r->nitems].ms = ms;
    r->items[r->nitems].seq = r->nitems;
    r->items[r->nitems].v = v;
    r->nitems++;
    return 0;
}

/* The page's kept events: printed (ndjson), collected (several regions) or added to
 * the page's list or the merged list. */
static int emit(lk_region *r, bt_arena *a, const bt_ct_lookup_page *pg, const size_t *kept,
                size_t nk)
{
    lk_out *o = r->o;
    bt_json *list = bt_json_new_array(a, nk ? nk : 1);
    size_t i;
    if (!list)
        return BT_ENOMEM;
    for (i = 0; i < nk; i++) {
        const bt_ct_event *ev = &pg->events[kept[i]];
        bt_json *v;
        if (o->ndjson) {
            if (ev->cloudtrail_event) {
                flockfile(stdout); /* regions print from several threads */
                if (fwrite(ev->cloudtrail_event, 1, ev->cloudtrail_event_len, stdout) !=
                        ev->cloudtrail_event_len ||
                    fputc('\n', stdout) == EOF)
                    o->failed = 1;
                funlockfile(stdout);
            }
            continue;
        }
        if (!(v = bt_ct_event_cli_value(a, ev)))
            return BT_ENOMEM;
        if (r->collect) {
            if (push_item(r, bt_ct_event_time_ms(ev), v))
                return BT_ENOMEM;
        } else if (bt_json_array_push(a, r->paged ? list : r->events, v)) {
            return BT_ENOMEM;
        }
    }
    if (r->paged) {
        bt_json *pv = lk_events_object(a, list);
        if (!pv)
            return BT_ENOMEM;
        r->code = lk_print_value(o, a, pv, 1);
    }
    return 0;
}

static int oom(lk_region *r)
{
    cli_err("out of memory");
    r->code = EXIT_AWS_OTHER;
    return 1;
}

/* --max-items: a resume token for service token tok, cut amount events in. */
static int set_resume(lk_region *r, const char *tok, long amount)
{
    bt_buf t = BT_BUF_INIT;
    if (bt_ct_token_encode(tok, amount, &t))
        return oom(r);
    r->resume = bt_buf_detach(&t);
    return 1;
}

/* One page of a region (bt_ct_lookup_pages callback): 0 on, 1 stop (r->code says
 * whether after a failure). */
static int on_page(void *payload, const bt_ct_page_view *v)
{
    lk_region *r = payload;
    const lk *L = r->L;
    const bt_ct_lookup_page *pg = v->page;
    size_t nk = v->nkept;
    int64_t max = L->max_items;

    r->pages++;
    r->fetched += pg->nevents;
    if (save_page(r, v->arena, pg))
        return 1;
    if (cli_debug)
        fprintf(stderr, "buildtrail: debug: lookup%s%s: page %llu: %zu events, %zu kept, %s\n",
                r->region ? " " : "", r->region ? r->region : "", (unsigned long long)r->pages,
                pg->nevents, nk, pg->next_token ? "more pages" : "last page");
    /* --max-items: cut inside this page, resumable where the cut is */
    if (!r->collect && max >= 0 && r->emitted + (int64_t)nk > max) {
        size_t k = (size_t)(max - r->emitted);
        nk = k;
        set_resume(r, v->token, k ? (long)v->kept[k - 1] + 1 : (long)v->start);
        if (r->code)
            return 1;
    }
    r->kept += nk;
    r->emitted += (int64_t)nk;
    if (emit(r, v->arena, pg, v->kept, nk))
        return oom(r);
    if (r->code || r->resume)
        return 1;
    if (L->no_paginate || L->next_token || L->have_max_results) {
        if (pg->next_token && !(r->raw_next = strdup(pg->next_token)))
            return oom(r);
        return 1;
    }
    if (pg->next_token && *pg->next_token && !r->collect && max >= 0 && r->emitted == max)
        return set_resume(r, pg->next_token, -1);
    return 0;
}

int lk_run_region(lk_region *r)
{
    const lk *L = r->L;
    bt_ct_lookup_request req;
    bt_ct_pages_opts po;
    char *token = NULL;
    long trunc = 0;
    int rc;

    memset(&req, 0, sizeof req);
    memset(&po, 0, sizeof po);
    r->paged = !r->collect && !L->no_paginate && !r->o->ndjson && bt_format_is_paged(r->o->kind);
    if (L->c.filter.start_ms != INT64_MIN)
        req.start_time = L->c.filter.start_ms / 1000;
    if (L->c.filter.end_ms != INT64_MAX)
        req.end_time = L->c.filter.end_ms / 1000;
    req.category = L->category;
    req.max_results = L->have_max_results ? (int)L->max_results
                      : L->have_page_size ? (int)L->page_size
                                          : 0;
    if (L->next_token) {
        if (!(token = strdup(L->next_token)))
            return oom(r), r->code;
    } else if (L->starting_token &&
               bt_ct_token_decode(L->starting_token, &token, &trunc, &r->err) != 0) {
        aws_msg("%s", r->err.msg);
        return r->code = EXIT_AWS_OTHER;
    }
    req.next_token = token;
    po.plan = r->plan;
    po.skip_first = trunc < 0 ? 0 : (size_t)trunc;
    /* the merged formats keep the pages' values to the end */
    po.arena = r->paged || r->o->ndjson ? NULL : r->keep;
    rc = bt_ct_lookup_pages(r->cli, &req, &po, on_page, r, NULL, &r->err);
    if (rc && rc != BT_ESTOP && !r->code)
        r->code = call_failed(r);
    free(token);
    return r->code;
}
