/* crypto_dl.h - libcrypto (OpenSSL 3), loaded when first used instead of at program start.
 *
 * Its constructor and relocations cost about 3 ms and 140 page faults of every start on
 * the reference machine (2.8 ms of a 9 ms `--version`), yet only signing, credentials,
 * `serve`'s sessions and webhooks' signatures use it: reading the store never does.
 * The functions buildtrail calls are wrappers here that load the library by the soname
 * it was built against (BT_CRYPTO_SONAME) on their first call, once per process and
 * thread-safely, and then forward. The calling code keeps OpenSSL's names (mapped onto
 * the wrappers below) and its return conventions: if the library cannot be loaded, each
 * returns its failure value (NULL, 0) as OpenSSL would on an error. bt_crypto_load()
 * says why, for the entry points that report errors.
 *
 * OPENSSL_cleanse and CRYPTO_memcmp are not taken from the library: explicit_bzero and a
 * constant-time comparison here do the same without loading it. */
#ifndef BT_CRYPTO_DL_H
#define BT_CRYPTO_DL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "buildtrail/error.h"

/* Loads libcrypto once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_crypto_load(bt_error *err);

const EVP_MD *bt_EVP_sha256(void);
int bt_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
                  const EVP_MD *type, ENGINE *impl);
int bt_EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
EVP_MD_CTX *bt_EVP_MD_CTX_new(void);
void bt_EVP_MD_CTX_free(EVP_MD_CTX *ctx);
int bt_EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
int bt_EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt);
int bt_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);
unsigned char *bt_HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d,
                       size_t n, unsigned char *md, unsigned int *md_len);
unsigned char *bt_SHA256(const unsigned char *d, size_t n, unsigned char *md);
unsigned char *bt_SHA1(const unsigned char *d, size_t n, unsigned char *md);
int bt_RAND_bytes(unsigned char *buf, int num);
/* constant-time: 0 when the n bytes at a and b are equal (CRYPTO_memcmp's contract) */
int bt_ct_memcmp(const void *a, const void *b, size_t n);
/* zeroes n bytes at p in a way the compiler cannot drop (OPENSSL_cleanse's contract) */
void bt_cleanse(void *p, size_t n);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define EVP_sha256 bt_EVP_sha256
#define EVP_Digest bt_EVP_Digest
#define EVP_EncodeBlock bt_EVP_EncodeBlock
#define EVP_MD_CTX_new bt_EVP_MD_CTX_new
#define EVP_MD_CTX_free bt_EVP_MD_CTX_free
#define EVP_DigestInit_ex bt_EVP_DigestInit_ex
#define EVP_DigestUpdate bt_EVP_DigestUpdate
#define EVP_DigestFinal_ex bt_EVP_DigestFinal_ex
#define HMAC bt_HMAC
#define SHA256 bt_SHA256
#define SHA1 bt_SHA1
#define RAND_bytes bt_RAND_bytes
#define CRYPTO_memcmp bt_ct_memcmp
#define OPENSSL_cleanse bt_cleanse
#endif

#endif
