/* test_bloom.c - the block summaries' hashing helpers (store/bloom.h) on their own: the
 * memo a batch's values are hashed through gives what hashing without it gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/bloom.h"
#include "tharness.h"

/* The hash memo (bloom.h) gives the hashes computed without it, for values that share
 * their slot (the same length, first, middle and last 8 bytes), repeated and not. */
static void test_bloom_memo(void)
{
    bt_bloom_memo *m = bt_bloom_memo_new();
    char v[64][48];
    int i, round, bad = 0;
    CHECK(m != NULL);
    for (i = 0; i < 64; i++) /* bytes 10-14 differ, 16-23 and the ends do not */
        snprintf(v[i], sizeof v[i], "arn:aws:i%05dxmiddle!!-ABCDEFGHIJ-role/ZZZZZZZZ", i * 7919);
    for (round = 0; round < 3; round++)
        for (i = 0; i < 64; i++) {
            const char *x = v[(i * 13 + round) % 64];
            bt_event ev;
            uint64_t *k1 = NULL, *k2 = NULL;
            size_t n1 = 0, c1 = 0, n2 = 0, c2 = 0;
            if (bt_bloom_h31_memo(m, x) != bt_bloom_h31(x))
                bad++;
            memset(&ev, 0, sizeof ev);
            ev.username = x + (round == 2 ? 1 : 0);
            ev.principal_arn = x;
            ev.source_ip = "192.0.2.1";
            CHECK_INT(bt_bloom_keys_add(&k1, &n1, &c1, &ev, m), 0);
            CHECK_INT(bt_bloom_keys_add(&k2, &n2, &c2, &ev, NULL), 0);
            CHECK_INT((int)n1, 3);
            if (n1 != n2 || memcmp(k1, k2, n1 * sizeof *k1) != 0)
                bad++;
            free(k1);
            free(k2);
        }
    CHECK_INT(bad, 0);
    CHECK_INT((int)bt_bloom_h31_memo(m, NULL), 0);
    bt_bloom_memo_free(m);
}

BT_TEST_MAIN(test_bloom_memo)
