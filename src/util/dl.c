/* dl.c - opening a library on first use and filling its table of functions (dl.h). */
#include "util/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int bt_dl_fill(bt_dl_state *st, const char *soname, const bt_dl_sym *syms, size_t n)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    const char *e;
    size_t i;
    if (!h) {
        e = dlerror();
        snprintf(st->why, sizeof st->why, "%s", e ? e : "not found");
        return st->rc = -1;
    }
    for (i = 0; i < n; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(st->why, sizeof st->why, "%s has no %s", soname, syms[i].name);
            return st->rc = -1; /* the handle stays open: nothing half-filled is ever used */
        }
        /* POSIX: a function's address as void * converts back to its pointer type */
        memcpy(syms[i].slot, &f, sizeof f);
    }
    return 0;
}

int bt_dl_ready(bt_dl_state *st, void (*once_fn)(void))
{
    pthread_once(&st->once, once_fn);
    return st->rc == 0;
}

int bt_dl_load(bt_dl_state *st, void (*once_fn)(void), const char *lib, const char *soname,
               bt_error *err)
{
    if (!bt_dl_ready(st, once_fn))
        return bt_error_set(err, BT_EIO, "cannot load %s (%s): %s", lib, soname, st->why);
    return 0;
}
