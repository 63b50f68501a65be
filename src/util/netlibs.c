/* netlibs.c - loads libcurl, libmicrohttpd and libcrypto on first use (curl_dl.h,
 * mhd_dl.h, crypto_dl.h): dlopen by the soname the build found (BT_CURL_SONAME,
 * BT_MHD_SONAME, BT_CRYPTO_SONAME), each symbol looked up once into the table the calling
 * code goes through (the mechanism: dl.h). The tables' types are checked against the
 * libraries' own declarations at compile time. */
#define BT_DL_IMPL
#include <stdio.h>
#include <string.h>

#include "util/crypto_dl.h"
#include "util/curl_dl.h"
#include "util/dl.h"
#include "util/mhd_dl.h"

#ifndef BT_CURL_SONAME
#error "BT_CURL_SONAME (libcurl's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_MHD_SONAME
#error "BT_MHD_SONAME (libmicrohttpd's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_CRYPTO_SONAME
#error "BT_CRYPTO_SONAME (libcrypto's soname) is set by CMakeLists.txt"
#endif

bt_curl_fns bt_curl_fn;
bt_mhd_fns bt_mhd_fn;

/* each table entry has the type of the function it stands for (SAME_TYPE: util/dl.h) */
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

static bt_dl_state curl_st = BT_DL_STATE_INIT;

static void curl_once(void)
{
    static const bt_dl_sym syms[] = {
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
    if (bt_dl_fill(&curl_st, BT_CURL_SONAME, syms, sizeof syms / sizeof syms[0]))
        return;
    if ((cc = bt_curl_fn.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
        snprintf(curl_st.why, sizeof curl_st.why, "initialisation failed: %s",
                 bt_curl_fn.easy_strerror(cc));
        curl_st.rc = -1;
    }
}

int bt_curl_load(bt_error *err)
{
    if (!bt_dl_ready(&curl_st, curl_once))
        return bt_error_set(err, BT_EHTTP, "http: cannot load libcurl (%s): %s", BT_CURL_SONAME,
                            curl_st.why);
    return 0;
}

static bt_dl_state mhd_st = BT_DL_STATE_INIT;

static void mhd_once(void)
{
    static const bt_dl_sym syms[] = {
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
    bt_dl_fill(&mhd_st, BT_MHD_SONAME, syms, sizeof syms / sizeof syms[0]);
}

int bt_mhd_load(bt_error *err)
{
    if (!bt_dl_ready(&mhd_st, mhd_once))
        return bt_error_set(err, BT_EIO, "serve: cannot load libmicrohttpd (%s): %s",
                            BT_MHD_SONAME, mhd_st.why);
    return 0;
}

/* ---- libcrypto: wrappers that load it on their first call (crypto_dl.h) ---- */

static struct {
    const EVP_MD *(*sha256)(void);
    int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
    int (*encode_block)(unsigned char *, const unsigned char *, int);
    EVP_MD_CTX *(*md_ctx_new)(void);
    void (*md_ctx_free)(EVP_MD_CTX *);
    int (*digest_init_ex)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
    int (*digest_update)(EVP_MD_CTX *, const void *, size_t);
    int (*digest_final_ex)(EVP_MD_CTX *, unsigned char *, unsigned int *);
    unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t,
                           unsigned char *, unsigned int *);
    unsigned char *(*sha256_once)(const unsigned char *, size_t, unsigned char *);
    unsigned char *(*sha1_once)(const unsigned char *, size_t, unsigned char *);
    int (*rand_bytes)(unsigned char *, int);
} cr;

SAME_TYPE(cr.sha256, EVP_sha256);
SAME_TYPE(cr.digest, EVP_Digest);
SAME_TYPE(cr.encode_block, EVP_EncodeBlock);
SAME_TYPE(cr.md_ctx_new, EVP_MD_CTX_new);
SAME_TYPE(cr.md_ctx_free, EVP_MD_CTX_free);
SAME_TYPE(cr.digest_init_ex, EVP_DigestInit_ex);
SAME_TYPE(cr.digest_update, EVP_DigestUpdate);
SAME_TYPE(cr.digest_final_ex, EVP_DigestFinal_ex);
SAME_TYPE(cr.hmac, HMAC);
SAME_TYPE(cr.sha256_once, SHA256);
SAME_TYPE(cr.sha1_once, SHA1);
SAME_TYPE(cr.rand_bytes, RAND_bytes);

static bt_dl_state crypto_st = BT_DL_STATE_INIT;

static void crypto_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(cr, sha256, "EVP_sha256"),
        SYM(cr, digest, "EVP_Digest"),
        SYM(cr, encode_block, "EVP_EncodeBlock"),
        SYM(cr, md_ctx_new, "EVP_MD_CTX_new"),
        SYM(cr, md_ctx_free, "EVP_MD_CTX_free"),
        SYM(cr, digest_init_ex, "EVP_DigestInit_ex"),
        SYM(cr, digest_update, "EVP_DigestUpdate"),
        SYM(cr, digest_final_ex, "EVP_DigestFinal_ex"),
        SYM(cr, hmac, "HMAC"),
        SYM(cr, sha256_once, "SHA256"),
        SYM(cr, sha1_once, "SHA1"),
        SYM(cr, rand_bytes, "RAND_bytes"),
    };
    bt_dl_fill(&crypto_st, BT_CRYPTO_SONAME, syms, sizeof syms / sizeof syms[0]);
}

/* 1 once the table is filled (loading it on the first call), 0 if it cannot be */
static int crypto_ready(void)
{
    return bt_dl_ready(&crypto_st, crypto_once);
}

int bt_crypto_load(bt_error *err)
{
    return bt_dl_load(&crypto_st, crypto_once, "libcrypto", BT_CRYPTO_SONAME, err);
}

const EVP_MD *bt_EVP_sha256(void)
{
    return crypto_ready() ? cr.sha256() : NULL;
}

int bt_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
                  const EVP_MD *type, ENGINE *impl)
{
    return crypto_ready() ? cr.digest(data, count, md, size, type, impl) : 0;
}

int bt_EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
    return crypto_ready() ? cr.encode_block(t, f, n) : 0;
}

EVP_MD_CTX *bt_EVP_MD_CTX_new(void)
{
    return crypto_ready() ? cr.md_ctx_new() : NULL;
}

void bt_EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
    if (ctx && crypto_ready()) /* (a context exists only if the library does) */
        cr.md_ctx_free(ctx);
}

int bt_EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
    return crypto_ready() ? cr.digest_init_ex(ctx, type, impl) : 0;
}

int bt_EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
    return crypto_ready() ? cr.digest_update(ctx, d, cnt) : 0;
}

int bt_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
    return crypto_ready() ? cr.digest_final_ex(ctx, md, s) : 0;
}

unsigned char *bt_HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d,
                       size_t n, unsigned char *md, unsigned int *md_len)
{
    return crypto_ready() ? cr.hmac(evp_md, key, key_len, d, n, md, md_len) : NULL;
}

unsigned char *bt_SHA256(const unsigned char *d, size_t n, unsigned char *md)
{
    return crypto_ready() ? cr.sha256_once(d, n, md) : NULL;
}

unsigned char *bt_SHA1(const unsigned char *d, size_t n, unsigned char *md)
{
    return crypto_ready() ? cr.sha1_once(d, n, md) : NULL;
}

int bt_RAND_bytes(unsigned char *buf, int num)
{
    return crypto_ready() ? cr.rand_bytes(buf, num) : 0;
}

int bt_ct_memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    size_t i;
    for (i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d != 0;
}

void bt_cleanse(void *p, size_t n)
{
    explicit_bzero(p, n);
}
