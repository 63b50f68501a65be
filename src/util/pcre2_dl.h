/* pcre2_dl.h - libpcre2-8, loaded when first used instead of at program start.
 *
 * Only Sigma rules with a regex (rules/) need it. The functions buildtrail calls are
 * wrappers here that load the library by the soname it was built against
 * (BT_PCRE2_SONAME) on their first call, once per process and thread-safely, and then
 * forward (datalibs.c). Include this header instead of <pcre2.h> (it sets the code unit
 * width to 8): the calling code keeps PCRE2's generic names, which pcre2.h maps onto the
 * 8-bit functions (pcre2_compile -> pcre2_compile_8) and which are mapped below onto the
 * wrappers instead; the wrappers look up the _8 symbols. If the library cannot be loaded
 * each returns its failure value (NULL, a negative error code). bt_pcre2_load() says why,
 * for the entry points that report errors. */
#ifndef BT_PCRE2_DL_H
#define BT_PCRE2_DL_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#if PCRE2_CODE_UNIT_WIDTH != 8
#error "the wrappers are those of the 8-bit library (libpcre2-8)"
#endif
#include <pcre2.h>

#include "buildtrail/error.h"

/* Loads libpcre2-8 once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_pcre2_load(bt_error *err);

pcre2_code *bt_pcre2_compile(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options,
                             int *errorcode, PCRE2_SIZE *erroroffset,
                             pcre2_compile_context *ccontext);
void bt_pcre2_code_free(pcre2_code *code);
int bt_pcre2_jit_compile(pcre2_code *code, uint32_t options);
pcre2_match_data *bt_pcre2_match_data_create(uint32_t ovecsize, pcre2_general_context *gcontext);
pcre2_match_data *bt_pcre2_match_data_create_from_pattern(const pcre2_code *code,
                                                          pcre2_general_context *gcontext);
void bt_pcre2_match_data_free(pcre2_match_data *match_data);
int bt_pcre2_match(const pcre2_code *code, PCRE2_SPTR subject, PCRE2_SIZE length,
                   PCRE2_SIZE startoffset, uint32_t options, pcre2_match_data *match_data,
                   pcre2_match_context *mcontext);
int bt_pcre2_get_error_message(int errorcode, PCRE2_UCHAR *buffer, PCRE2_SIZE bufflen);

#ifndef BT_DL_IMPL /* the calling code's names (pcre2.h's, onto _8), onto the wrappers */
#undef pcre2_compile
#undef pcre2_code_free
#undef pcre2_jit_compile
#undef pcre2_match_data_create
#undef pcre2_match_data_create_from_pattern
#undef pcre2_match_data_free
#undef pcre2_match
#undef pcre2_get_error_message
#define pcre2_compile bt_pcre2_compile
#define pcre2_code_free bt_pcre2_code_free
#define pcre2_jit_compile bt_pcre2_jit_compile
#define pcre2_match_data_create bt_pcre2_match_data_create
#define pcre2_match_data_create_from_pattern bt_pcre2_match_data_create_from_pattern
#define pcre2_match_data_free bt_pcre2_match_data_free
#define pcre2_match bt_pcre2_match
#define pcre2_get_error_message bt_pcre2_get_error_message
#endif

#endif
