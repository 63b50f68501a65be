/* curl_dl.h - libcurl, loaded when first needed instead of at program start.
 *
 * Most commands read the store and never touch the network, yet libcurl and
 * libmicrohttpd (see mhd_dl.h) bring 28 of the program's 41 shared objects with them:
 * mapping and relocating those took 15 ms of every start on the reference machine. The
 * library therefore opens libcurl with dlopen (by the soname it was built against,
 * BT_CURL_SONAME) the first time an HTTP client is made.
 *
 * Include this header instead of <curl/curl.h>. It declares the functions buildtrail
 * uses as a table of pointers, and maps their names onto it, so the calling code reads
 * as plain libcurl. bt_curl_load() must have returned 0 before any of them is called. */
#ifndef BT_CURL_DL_H
#define BT_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1 /* curl_easy_setopt & co. stay functions, not macros */
#include <curl/curl.h>

#include "buildtrail/error.h"

typedef struct bt_curl_fns {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    void (*easy_cleanup)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    void (*easy_reset)(CURL *curl);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                            int timeout_ms, int *ret);
    CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption option, ...);
} bt_curl_fns;

/* Filled by bt_curl_load; read-only after. */
extern bt_curl_fns bt_curl_fn;

/* Loads libcurl and runs curl_global_init(CURL_GLOBAL_DEFAULT), once per process
 * (thread-safe; later calls return the first outcome). 0, or BT_EHTTP with a message
 * naming the library and why it could not be loaded. */
int bt_curl_load(bt_error *err);

#ifndef BT_DL_IMPL /* the calling code's names, onto the table */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init bt_curl_fn.global_init
#define curl_easy_init bt_curl_fn.easy_init
#define curl_easy_setopt bt_curl_fn.easy_setopt
#define curl_easy_perform bt_curl_fn.easy_perform
#define curl_easy_cleanup bt_curl_fn.easy_cleanup
#define curl_easy_getinfo bt_curl_fn.easy_getinfo
#define curl_easy_strerror bt_curl_fn.easy_strerror
#define curl_easy_reset bt_curl_fn.easy_reset
#define curl_slist_append bt_curl_fn.slist_append
#define curl_slist_free_all bt_curl_fn.slist_free_all
#define curl_multi_init bt_curl_fn.multi_init
#define curl_multi_add_handle bt_curl_fn.multi_add_handle
#define curl_multi_remove_handle bt_curl_fn.multi_remove_handle
#define curl_multi_perform bt_curl_fn.multi_perform
#define curl_multi_poll bt_curl_fn.multi_poll
#define curl_multi_info_read bt_curl_fn.multi_info_read
#define curl_multi_cleanup bt_curl_fn.multi_cleanup
#define curl_multi_setopt bt_curl_fn.multi_setopt
#endif

#endif
