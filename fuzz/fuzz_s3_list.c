/*
 * fuzz_s3_list.c - libFuzzer target for the ListObjectsV2 reply parser (expat): any
 * input either fails with a BT_E* code and an empty page, or yields a page whose
 * strings are all set and within the parser's caps. The same bytes, read as a key
 * prefix, go through the archive walk's prefix parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws_s3.h"
#include "buildtrail/error.h"
#include "buildtrail/source_s3.h"

static bt_arena *g_arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_s3_list_page pg;
    bt_error err = BT_ERROR_INIT;
    size_t i;
    int rc;

    if (!g_arena)
        g_arena = bt_arena_new(0, 0);
    bt_arena_reset(g_arena);
    rc = bt_s3_list_parse(g_arena, (const char *)data, size, &pg, &err);
    if (rc) {
        if (rc != BT_EPARSE && rc != BT_ELIMIT && rc != BT_ENOMEM)
            abort();
        if (pg.nobjects || pg.nprefixes || pg.objects || pg.prefixes || !err.msg[0])
            abort();
    } else {
        if (pg.nobjects > BT_S3_LIST_MAX_ENTRIES || pg.nprefixes > BT_S3_LIST_MAX_ENTRIES)
            abort();
        for (i = 0; i < pg.nobjects; i++)
            if (!pg.objects[i].key || !pg.objects[i].etag ||
                strlen(pg.objects[i].key) > BT_S3_LIST_MAX_TEXT)
                abort();
        for (i = 0; i < pg.nprefixes; i++)
            if (!pg.prefixes[i] || strlen(pg.prefixes[i]) > BT_S3_LIST_MAX_TEXT)
                abort();
    }
    if (size < 4096) {
        char *s = malloc(size + 1);
        bt_s3_walk_start w;
        if (!s)
            return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (bt_s3_walk_parse(s, &w, &err) == 0) {
            if (!w.root || strlen(w.root) < 8 ||
                strcmp(w.root + strlen(w.root) - 8, "AWSLogs/") != 0)
                abort();
            bt_s3_walk_dispose(&w);
        }
        free(s);
    }
    return 0;
}
