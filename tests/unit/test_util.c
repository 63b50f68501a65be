/* test_util.c - unit tests for bt_buf, bt_arena and bt_error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "tharness.h"

static void test_buf_cap(void)
{
    bt_buf b;
    bt_buf_init(&b, 8);
    CHECK_INT(bt_buf_puts(&b, "12345678"), 0);
    CHECK_INT(bt_buf_putc(&b, 'x'), BT_ELIMIT);
    CHECK_INT(b.len, 8);
    CHECK_STR(b.data, "12345678");
    bt_buf_clear(&b);
    CHECK_INT(bt_buf_printf(&b, "%d-%s", 42, "ab"), 0);
    CHECK_STR(b.data, "42-ab");
    char *s = bt_buf_detach(&b);
    CHECK_STR(s, "42-ab");
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    bt_buf_dispose(&b);
}

static void test_arena(void)
{
    bt_arena *a = bt_arena_new(128, 0);
    char *big, *s;
    int i;
    CHECK(a != NULL);
    for (i = 0; i < 1000; i++) {
        s = bt_arena_sprintf(a, "v%d", i);
        CHECK(s && atoi(s + 1) == i);
    }
    big = bt_arena_alloc(a, 100000);
    CHECK(big != NULL);
    CHECK(((size_t)big & 7) == 0);
    bt_arena_reset(a);
    CHECK_INT(bt_arena_used(a), 0);
    bt_arena_free(a);
    a = bt_arena_new(64, 256);
    CHECK(bt_arena_alloc(a, 1000) == NULL);
    bt_arena_free(a);
    bt_arena_free(NULL);
}

static void test_error(void)
{
    bt_error e = BT_ERROR_INIT;
    CHECK_INT(bt_error_set(&e, BT_EIO, "'%s': gone", "x.json"), BT_EIO);
    bt_error_prefix(&e, "ingest");
    CHECK_STR(e.msg, "ingest: 'x.json': gone");
    CHECK_STR(bt_strerror(BT_EPARSE), "parse error");
}

static void test_read_file_cap(void)
{
    bt_buf b;
    bt_error e = BT_ERROR_INIT;
    FILE *f = fopen("/tmp/bt-test-small.txt", "w");
    fputs("hello", f);
    fclose(f);
    bt_buf_init(&b, 16); /* a small cap must still read a small file */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), 0);
    CHECK_STR(b.data, "hello");
    bt_buf_dispose(&b);
    bt_buf_init(&b, 5); /* exactly at the cap */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), 0);
    bt_buf_dispose(&b);
    bt_buf_init(&b, 4); /* over it */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), BT_ELIMIT);
    CHECK(strstr(e.msg, "size limit") != NULL);
    bt_buf_dispose(&b);
    remove("/tmp/bt-test-small.txt");
}

BT_TEST_MAIN(test_buf_cap, test_arena, test_error, test_read_file_cap)
