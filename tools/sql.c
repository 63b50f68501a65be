/*
 * sql.c - bt-sql: runs SQL on a buildtrail store with the table `events` (schema 13:
 * a virtual table over the blocks' directories and `evrows`, sqlite_rows.c) that the
 * sqlite3 shell does not have, and the functions bt_eid_ev(e, i) and bt_eid_hash(e, i)
 * that read the chunks of `eids` (schema 14, sqlite_eids.c). For tests and for looking
 * into a store by hand:
 *
 *   bt-sql STORE 'SELECT count(*) FROM events'
 *   bt-sql -w STORE 'UPDATE ...'     (opens it for writing; default read-only)
 *
 * Prints each row as the sqlite3 shell's list mode does: the columns' text joined by
 * '|', NULL as nothing. Exit 0, 1 for an SQL error (one line on stderr), 2 for usage.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/sqlite_int.h"

static int on_row(void *ctx, int n, char **vals, char **names)
{
    int i;
    (void)ctx;
    (void)names;
    for (i = 0; i < n; i++)
        printf("%s%s", i ? "|" : "", vals[i] ? vals[i] : "");
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    int write = argc > 1 && strcmp(argv[1], "-w") == 0, rc;
    sqlite3 *db = NULL;
    char *msg = NULL;

    if (argc != 3 + write) {
        fprintf(stderr, "usage: bt-sql [-w] STORE SQL\n");
        return 2;
    }
    if (sqlite3_open_v2(argv[1 + write], &db, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
                        NULL) != SQLITE_OK ||
        rows_register(db, NULL) ||
        sqlite3_create_function_v2(db, "bt_eid_ev", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   sql_eid_ev, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(db, "bt_eid_hash", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   sql_eid_hash, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bt-sql: '%s': %s\n", argv[1 + write],
                db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 10000);
    rc = sqlite3_exec(db, argv[2 + write], on_row, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "bt-sql: '%s': %s\n", argv[1 + write], msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}
