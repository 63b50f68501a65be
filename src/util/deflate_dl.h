/* deflate_dl.h - libdeflate, loaded when first used instead of at program start.
 *
 * Only gzip data (trail archives: util/gzip.c) needs it. The functions buildtrail calls
 * are wrappers here that load the library by the soname it was built against
 * (BT_DEFLATE_SONAME) on their first call, once per process and thread-safely, and then
 * forward (datalibs.c). Include this header instead of <libdeflate.h>: the calling code
 * keeps libdeflate's names (mapped onto the wrappers below) and its return conventions;
 * if the library cannot be loaded each returns its failure value (NULL, 0,
 * LIBDEFLATE_BAD_DATA). bt_deflate_load() says why, for the entry points that report
 * errors. */
#ifndef BT_DEFLATE_DL_H
#define BT_DEFLATE_DL_H

#include <libdeflate.h>
#include <stddef.h>

#include "buildtrail/error.h"

/* Loads libdeflate once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_deflate_load(bt_error *err);

struct libdeflate_decompressor *bt_libdeflate_alloc_decompressor(void);
enum libdeflate_result
bt_libdeflate_gzip_decompress_ex(struct libdeflate_decompressor *decompressor, const void *in,
                                 size_t in_nbytes, void *out, size_t out_nbytes_avail,
                                 size_t *actual_in_nbytes_ret, size_t *actual_out_nbytes_ret);
void bt_libdeflate_free_decompressor(struct libdeflate_decompressor *decompressor);
struct libdeflate_compressor *bt_libdeflate_alloc_compressor(int compression_level);
size_t bt_libdeflate_gzip_compress_bound(struct libdeflate_compressor *compressor,
                                         size_t in_nbytes);
size_t bt_libdeflate_gzip_compress(struct libdeflate_compressor *compressor, const void *in,
                                   size_t in_nbytes, void *out, size_t out_nbytes_avail);
void bt_libdeflate_free_compressor(struct libdeflate_compressor *compressor);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define libdeflate_alloc_decompressor bt_libdeflate_alloc_decompressor
#define libdeflate_gzip_decompress_ex bt_libdeflate_gzip_decompress_ex
#define libdeflate_free_decompressor bt_libdeflate_free_decompressor
#define libdeflate_alloc_compressor bt_libdeflate_alloc_compressor
#define libdeflate_gzip_compress_bound bt_libdeflate_gzip_compress_bound
#define libdeflate_gzip_compress bt_libdeflate_gzip_compress
#define libdeflate_free_compressor bt_libdeflate_free_compressor
#endif

#endif
