/* fuzz_reader.c - libFuzzer target for the input reader: container recognition
 * (gzip, Records, arrays, NDJSON, lookup-events output, EventBridge), event extraction
 * and the filter, over arbitrary bytes. Checks every raw span lies inside the input
 * or the decompressed copy, that extraction never crashes, and that the pre-filtered
 * read (records skipped by their bytes and boundaries alone) keeps every event the
 * full read finds matching an event name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/filter.h"
#include "buildtrail/source.h"
#include "buildtrail/timeutil.h"

static int on_event(void *ctx, const bt_event *ev)
{
    bt_filter *f = ctx;
    volatile size_t sink = 0;
    size_t i;
    /* touch every field */
    if (ev->event_id)
        sink += strlen(ev->event_id);
    for (i = 0; i < ev->n_resources; i++)
        sink += strlen(ev->resources[i].name);
    if (ev->raw_len)
        sink += (unsigned char)ev->raw[ev->raw_len - 1];
    (void)bt_filter_match(f, ev);
    (void)sink;
    return 0;
}

/* Counts the events that match the filter in ctx. */
typedef struct counted {
    const bt_filter *f;
    size_t n;
} counted;

static int on_count(void *ctx, const bt_event *ev)
{
    counted *c = ctx;
    c->n += bt_filter_match(c->f, ev);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bt_arena *a;
    bt_read_stats st;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    int64_t ms;

    if (!a)
        a = bt_arena_new(0, 64u << 20);
    memset(&st, 0, sizeof st);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err);
    bt_filter_add(&f, BT_F_RESOURCE_NAME, "x", &err);
    (void)bt_read_data((const char *)data, size, a, on_event, &f, &st, &err);
    {
        bt_filter g;
        counted full, pre;
        int rc_full, rc_pre;
        bt_filter_init(&g);
        bt_filter_add(&g, BT_F_EVENT_NAME, "StartBuild", &err);
        full.f = pre.f = &g;
        full.n = pre.n = 0;
        bt_error_clear(&err);
        memset(&st, 0, sizeof st);
        rc_full = bt_read_data((const char *)data, size, a, on_count, &full, &st, &err);
        bt_error_clear(&err);
        memset(&st, 0, sizeof st);
        rc_pre = bt_read_data_filtered((const char *)data, size, a, &g, on_count, &pre, &st, &err);
        if (rc_full == 0 && (rc_pre != 0 || pre.n != full.n))
            abort();
    }
    /* the time parsers see the same bytes */
    if (size < 64) {
        char tmp[64];
        memcpy(tmp, data, size);
        tmp[size] = '\0';
        (void)bt_time_parse_iso(tmp, size, &ms);
        (void)bt_time_parse_java(tmp, size, &ms);
        (void)bt_time_parse_user(tmp, 0, &ms, &err);
        free(bt_filter_hint(BT_F_EVENT_NAME, tmp));
    }
    return 0;
}
