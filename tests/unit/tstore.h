/* tstore.h - what the store's unit tests share (test_store.c, test_store_dict.c): a
 * fresh store in /tmp, its removal, and a query through SQLite itself. */
#ifndef BT_TEST_TSTORE_H
#define BT_TEST_TSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buildtrail/store.h"
#include "store/sqlite_int.h"
#include "tharness.h"

static inline const char *tmp_store(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/bt-test-store-%d/sub/events.db", (int)getpid());
    return buf;
}

/* A new store at tmp_store's path with suffix appended (path holds it), opened with a
 * transaction begun; NULL after a failed check. */
static inline bt_store *fresh_store(char *path, size_t n, const char *suffix)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    tmp_store(path, n);
    strncat(path, suffix, n - strlen(path) - 1);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    if (s)
        CHECK_INT(bt_store_begin(s, &err), 0);
    return s;
}

/* Removes the store at path, its WAL and shared memory. */
static inline void remove_store(const char *path)
{
    char cmd[900];
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", path, path, path);
    CHECK(system(cmd) == 0);
}

/* Opens the store at path read-only with SQLite itself (*db) and prepares sql (*st);
 * both NULL after a failed check. */
static inline void open_query(const char *path, const char *sql, sqlite3 **db, sqlite3_stmt **st)
{
    *db = NULL;
    *st = NULL;
    CHECK_INT(sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_INT(rows_register(*db, NULL), 0); /* the table `events` (sqlite_rows.c) */
    CHECK_INT(sqlite3_prepare_v2(*db, sql, -1, st, NULL), SQLITE_OK);
}

#endif
