/* build_follow.c - `build <id> --follow`: the library's bt_timeline_follow with a fetch
 * from the store (opened read-only once; `watch` fills it) or live (the same gathering
 * as --live, every 5 s), each new entry printed as the timeline shows it, and a closing
 * line with the outcome. SIGINT / SIGTERM end it with exit 0. */
#include "build_follow.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_view.h"
#include "term.h"
#include "buildtrail/format.h"
#include "buildtrail/store.h"
#include "buildtrail/timeline_follow.h"

#define LIVE_INTERVAL_MS 5000

typedef struct follow {
    const build_live_opts *live;
    const char *arg, *uuid;
    const bt_timeline_opts *o;
    bt_store *store;
    build_view_opts vo;
} follow;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int fetch(void *ctx, bt_timeline **out, bt_error *err)
{
    follow *f = ctx;
    if (f->store)
        return bt_build_timeline(f->store, f->uuid, f->o, out, err);
    /* live: said by build_live_timeline when it fails */
    if (build_live_timeline(f->live, f->arg, f->uuid, f->o, out))
        return bt_error_set(err, BT_ERROR, "%s", "");
    return 0;
}

static void on_event(void *ctx, const bt_timeline *t, const bt_timeline_event *e)
{
    follow *f = ctx;
    if (f->vo.errors_only && !e->error_code)
        return;
    build_view_print_event(stdout, t, e, &f->vo);
    fflush(stdout);
}

static void on_end(void *ctx, const bt_timeline *t)
{
    bt_buf when = BT_BUF_INIT;
    int estimated = 0;
    int64_t end = bt_build_end(&t->build, &estimated);
    (void)ctx;
    if (end)
        bt_format_iso8601_local(&when, end);
    printf("Build %s ended: %s%s%.*s%s\n", t->build.build_id ? t->build.build_id : t->build.uuid,
           t->build.status ? t->build.status : "-", end ? " at " : "", (int)when.len,
           when.data ? when.data : "", estimated ? " (estimated)" : "");
    fflush(stdout);
    bt_buf_dispose(&when);
}

int build_follow(const cli_common *c, const build_live_opts *l, const char *arg, const char *uuid,
                 const bt_timeline_opts *o)
{
    bt_timeline_follow_opts fo;
    bt_error err = BT_ERROR_INIT;
    struct sigaction sa;
    follow f;
    char *path = NULL;
    int code = EXIT_OK;

    memset(&f, 0, sizeof f);
    f.live = l;
    f.arg = arg;
    f.uuid = uuid;
    f.o = o;
    f.vo.color = cli_use_color();
    f.vo.width = cli_term_width();
    f.vo.errors_only = c->filter.errors_only;
    if (!l->on) {
        if (!(path = cli_store_path(c)))
            return EXIT_ERROR;
        if (cli_store_open(path, BT_STORE_READONLY, &f.store, &err)) {
            code = cli_fail(&err, EXIT_NOSTORE);
            goto done;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    memset(&fo, 0, sizeof fo);
    fo.fetch = fetch;
    fo.on_event = on_event;
    fo.on_end = on_end;
    fo.ctx = &f;
    fo.interval_ms = l->on ? LIVE_INTERVAL_MS : 1000;
    fo.stop = &g_stop;
    if (bt_timeline_follow(&fo, &err))
        code = err.msg[0] ? cli_fail(&err, EXIT_ERROR) : EXIT_ERROR;
done:
    bt_store_close(f.store);
    free(path);
    return code;
}
