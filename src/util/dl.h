/* dl.h - the one mechanism behind the libraries loaded on first use instead of at program
 * start (netlibs.c: libcurl, libmicrohttpd, libcrypto; datalibs.c: libexpat, libyaml,
 * libpcre2-8, zlib, libdeflate; the CLI's smartcols_dl.c): each library is opened by the
 * soname the build found, once per process and thread-safely, and the symbols the calling
 * code uses are looked up into a table of function pointers whose types are checked
 * against the library's own declarations at compile time (SAME_TYPE). */
#ifndef BT_DL_H
#define BT_DL_H

#include <pthread.h>
#include <stddef.h>

#include "buildtrail/error.h"

/* One symbol of a table: its name and where it goes. */
typedef struct bt_dl_sym {
    const char *name;
    void *slot; /* a function pointer's address (written as the pointer it is) */
} bt_dl_sym;

/* A library's load: done once; rc 0 or -1, and why it failed (the first load decides
 * for the process). */
typedef struct bt_dl_state {
    pthread_once_t once;
    int rc;
    char why[256];
} bt_dl_state;

#define BT_DL_STATE_INIT {PTHREAD_ONCE_INIT, 0, ""}

/* a table entry: field of table, from the library's symbol name */
#define SYM(table, field, name) {name, &table.field}
/* each table entry has the type of the function it stands for */
#define SAME_TYPE(field, fn)                                                                     \
    _Static_assert(__builtin_types_compatible_p(__typeof__(field), __typeof__(&fn)), #fn)
/* ... and so has the wrapper bt_<fn> that forwards to it */
#define SAME_TYPES(field, fn)                                                                    \
    SAME_TYPE(field, fn);                                                                        \
    SAME_TYPE(&bt_##fn, fn)

/* Opens soname and fills every slot (for a pthread_once routine). 0, or -1 with st->rc
 * set to -1 and st->why saying why; nothing half-filled is ever used. */
int bt_dl_fill(bt_dl_state *st, const char *soname, const bt_dl_sym *syms, size_t n);

/* Runs once_fn once per process (it fills the table); 1 if the library is usable. */
int bt_dl_ready(bt_dl_state *st, void (*once_fn)(void));

/* bt_dl_ready for the entry points that report errors: 0, or BT_EIO with "cannot load
 * <lib> (<soname>): <why>". */
int bt_dl_load(bt_dl_state *st, void (*once_fn)(void), const char *lib, const char *soname,
               bt_error *err);

#endif
