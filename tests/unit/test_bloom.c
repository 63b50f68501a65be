/* test_bloom.c - the block summaries' hashing helpers (store/bloom.h) on their own: the
 * memo a batch's values are hashed through gives what hashing without it gives, and
 * makes values of equal bytes one pointer (and only those). */
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

/* bt_bloom_fnv_canon: each value's hash, and the pointer of the first value of the same
 * bytes still in its slot; values of other bytes keep their own pointers, whether they
 * share a slot or not. */
static void test_bloom_canon(void)
{
    bt_bloom_memo *m = bt_bloom_memo_new();
    char a[3][48], b[48];
    const char *p;
    int i;
    CHECK(m != NULL);
    for (i = 0; i < 3; i++) /* three copies of one value at three places */
        snprintf(a[i], sizeof a[i], "arn:aws:iam::111122223333:role/builder");
    /* the same length, first, middle and last 8 bytes: its slot, other bytes */
    snprintf(b, sizeof b, "%s", a[0]);
    b[10] = 'X'; /* "iam" becomes "iXm": not in the first, middle or last 8 bytes */
    for (i = 0; i < 3; i++) {
        p = a[i];
        CHECK(bt_bloom_fnv_canon(m, &p) == bt_bloom_fnv(a[i]));
        CHECK(p == a[0]);
    }
    p = b;
    CHECK(bt_bloom_fnv_canon(m, &p) == bt_bloom_fnv(b));
    CHECK(p == b);
    /* b took the slot: the next copy of a is its own first again */
    p = a[2];
    CHECK(bt_bloom_fnv_canon(m, &p) == bt_bloom_fnv(a[2]));
    CHECK(p == a[2]);
    /* without a memo: the hash, the pointer as given */
    p = a[1];
    CHECK(bt_bloom_fnv_canon(NULL, &p) == bt_bloom_fnv(a[1]));
    CHECK(p == a[1]);
    bt_bloom_memo_free(m);
}

BT_TEST_MAIN(test_bloom_memo, test_bloom_canon)
