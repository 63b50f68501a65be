/* netlibs.c - loads libcurl and libmicrohttpd on first use (curl_dl.h, mhd_dl.h): dlopen
 * by the soname the build found (BT_CURL_SONAME, BT_MHD_SONAME), each symbol looked up
 * once into the table the calling code goes through. The tables' types are checked
 * against the libraries' own declarations at compile time. */
#define BT_DL_IMPL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/curl_dl.h"
#include "util/mhd_dl.h"

#ifndef BT_CURL_SONAME
#error "BT_CURL_SONAME (libcurl's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_MHD_SONAME
#error "BT_MHD_SONAME (libmicrohttpd's soname) is set by CMakeLists.txt"
#endif

bt_curl_fns bt_curl_fn;
bt_mhd_fns bt_mhd_fn;

/* each table entry has the type of the function it stands for */
#define SAME_TYPE(field, fn)                                                                     \
    _Static_assert(__builtin_types_compatible_p(__typeof__(field), __typeof__(&fn)), #fn)
SAME_TYPE(bt_curl_fn.global_init, curl_global_init);
SAME_TYPE(bt_curl_fn.easy_init, curl_easy_init);
SAME_TYPE(bt_curl_fn.easy_setopt, curl_easy_setopt);
SAME_TYPE(bt_curl_fn.easy_perform, curl_easy_perform);
SAME_TYPE(bt_curl_fn.easy_cleanup, curl_easy_cleanup);
SAME_TYPE(bt_curl_fn.easy_getinfo, curl_easy_getinfo);
SAME_TYPE(bt_curl_fn.easy_strerror, curl_easy_strerror);
SAME_TYPE(bt_curl_fn.easy_reset, curl_easy_reset);
SAME_TYPE(bt_curl_fn.slist_append, curl_slist_append);
SAME_TYPE(bt_curl_fn.slist_free_all, curl_slist_free_all);
SAME_TYPE(bt_curl_fn.multi_init, curl_multi_init);
SAME_TYPE(bt_curl_fn.multi_add_handle, curl_multi_add_handle);
SAME_TYPE(bt_curl_fn.multi_remove_handle, curl_multi_remove_handle);
SAME_TYPE(bt_curl_fn.multi_perform, curl_multi_perform);
SAME_TYPE(bt_curl_fn.multi_poll, curl_multi_poll);
SAME_TYPE(bt_curl_fn.multi_info_read, curl_multi_info_read);
SAME_TYPE(bt_curl_fn.multi_cleanup, curl_multi_cleanup);
SAME_TYPE(bt_curl_fn.multi_setopt, curl_multi_setopt);
SAME_TYPE(bt_mhd_fn.start_daemon, MHD_start_daemon);
SAME_TYPE(bt_mhd_fn.stop_daemon, MHD_stop_daemon);
SAME_TYPE(bt_mhd_fn.is_feature_supported, MHD_is_feature_supported);
SAME_TYPE(bt_mhd_fn.get_connection_info, MHD_get_connection_info);
SAME_TYPE(bt_mhd_fn.get_connection_values, MHD_get_connection_values);
SAME_TYPE(bt_mhd_fn.create_response_from_buffer, MHD_create_response_from_buffer);
SAME_TYPE(bt_mhd_fn.add_response_header, MHD_add_response_header);
SAME_TYPE(bt_mhd_fn.queue_response, MHD_queue_response);
SAME_TYPE(bt_mhd_fn.destroy_response, MHD_destroy_response);

/* One symbol of a table: its name and where it goes. */
typedef struct dl_sym {
    const char *name;
    void *slot; /* a function pointer's address (written as the pointer it is) */
} dl_sym;

/* Why the last load failed (the first one decides for the process). */
typedef struct dl_state {
    pthread_once_t once;
    int rc;
    char why[256];
} dl_state;

/* Opens soname and fills every slot; on failure says why in st->why. */
static int dl_fill(dl_state *st, const char *soname, const dl_sym *syms, size_t n)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    const char *e;
    size_t i;
    if (!h) {
        e = dlerror();
        snprintf(st->why, sizeof st->why, "%s", e ? e : "not found");
        return -1;
    }
    for (i = 0; i < n; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(st->why, sizeof st->why, "%s has no %s", soname, syms[i].name);
            return -1; /* the handle stays open: nothing half-filled is ever used */
        }
        /* POSIX: a function's address as void * converts back to its pointer type */
        memcpy(syms[i].slot, &f, sizeof f);
    }
    return 0;
}

#define SYM(table, field, name) {name, &table.field}

static dl_state curl_st = {PTHREAD_ONCE_INIT, 0, ""};

static void curl_once(void)
{
    static const dl_sym syms[] = {
        SYM(bt_curl_fn, global_init, "curl_global_init"),
        SYM(bt_curl_fn, easy_init, "curl_easy_init"),
        SYM(bt_curl_fn, easy_setopt, "curl_easy_setopt"),
        SYM(bt_curl_fn, easy_perform, "curl_easy_perform"),
        SYM(bt_curl_fn, easy_cleanup, "curl_easy_cleanup"),
        SYM(bt_curl_fn, easy_getinfo, "curl_easy_getinfo"),
        SYM(bt_curl_fn, easy_strerror, "curl_easy_strerror"),
        SYM(bt_curl_fn, easy_reset, "curl_easy_reset"),
        SYM(bt_curl_fn, slist_append, "curl_slist_append"),
        SYM(bt_curl_fn, slist_free_all, "curl_slist_free_all"),
        SYM(bt_curl_fn, multi_init, "curl_multi_init"),
        SYM(bt_curl_fn, multi_add_handle, "curl_multi_add_handle"),
        SYM(bt_curl_fn, multi_remove_handle, "curl_multi_remove_handle"),
        SYM(bt_curl_fn, multi_perform, "curl_multi_perform"),
        SYM(bt_curl_fn, multi_poll, "curl_multi_poll"),
        SYM(bt_curl_fn, multi_info_read, "curl_multi_info_read"),
        SYM(bt_curl_fn, multi_cleanup, "curl_multi_cleanup"),
        SYM(bt_curl_fn, multi_setopt, "curl_multi_setopt"),
    };
    CURLcode cc;
    if (dl_fill(&curl_st, BT_CURL_SONAME, syms, sizeof syms / sizeof syms[0])) {
        curl_st.rc = -1;
        return;
    }
    if ((cc = bt_curl_fn.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
        snprintf(curl_st.why, sizeof curl_st.why, "initialisation failed: %s",
                 bt_curl_fn.easy_strerror(cc));
        curl_st.rc = -1;
    }
}

int bt_curl_load(bt_error *err)
{
    pthread_once(&curl_st.once, curl_once);
    if (curl_st.rc)
        return bt_error_set(err, BT_EHTTP, "http: cannot load libcurl (%s): %s", BT_CURL_SONAME,
                            curl_st.why);
    return 0;
}

static dl_state mhd_st = {PTHREAD_ONCE_INIT, 0, ""};

static void mhd_once(void)
{
    static const dl_sym syms[] = {
        SYM(bt_mhd_fn, start_daemon, "MHD_start_daemon"),
        SYM(bt_mhd_fn, stop_daemon, "MHD_stop_daemon"),
        SYM(bt_mhd_fn, is_feature_supported, "MHD_is_feature_supported"),
        SYM(bt_mhd_fn, get_connection_info, "MHD_get_connection_info"),
        SYM(bt_mhd_fn, get_connection_values, "MHD_get_connection_values"),
        SYM(bt_mhd_fn, create_response_from_buffer, "MHD_create_response_from_buffer"),
        SYM(bt_mhd_fn, add_response_header, "MHD_add_response_header"),
        SYM(bt_mhd_fn, queue_response, "MHD_queue_response"),
        SYM(bt_mhd_fn, destroy_response, "MHD_destroy_response"),
    };
    if (dl_fill(&mhd_st, BT_MHD_SONAME, syms, sizeof syms / sizeof syms[0]))
        mhd_st.rc = -1;
}

int bt_mhd_load(bt_error *err)
{
    pthread_once(&mhd_st.once, mhd_once);
    if (mhd_st.rc)
        return bt_error_set(err, BT_EIO, "serve: cannot load libmicrohttpd (%s): %s",
                            BT_MHD_SONAME, mhd_st.why);
    return 0;
}
