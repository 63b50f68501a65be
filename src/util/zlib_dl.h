/* zlib_dl.h - zlib, loaded when first used instead of at program start.
 *
 * libdeflate decompresses (deflate_dl.h); zlib's streaming inflate is only what recovers
 * the start of a truncated or corrupt gzip member (util/gzip.c). The functions buildtrail
 * calls are wrappers here that load the library by the soname it was built against
 * (BT_ZLIB_SONAME) on their first call, once per process and thread-safely, and then
 * forward (datalibs.c). Include this header instead of <zlib.h>: the calling code keeps
 * zlib's names (mapped onto the wrappers below; inflateInit2 stays zlib's macro over
 * inflateInit2_, which is wrapped) and its return conventions; if the library cannot be
 * loaded each returns an error (Z_VERSION_ERROR from inflateInit2_, else
 * Z_STREAM_ERROR). bt_zlib_load() says why, for the entry points that report errors. */
#ifndef BT_ZLIB_DL_H
#define BT_ZLIB_DL_H

#include <zlib.h>

#include "buildtrail/error.h"

/* Loads zlib once per process (later calls return the first outcome). 0, or BT_EIO with a
 * message naming the library and why it could not be loaded. */
int bt_zlib_load(bt_error *err);

int bt_inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size);
int bt_inflate(z_streamp strm, int flush);
int bt_inflateEnd(z_streamp strm);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define inflateInit2_ bt_inflateInit2_
#define inflate bt_inflate
#define inflateEnd bt_inflateEnd
#endif

#endif
