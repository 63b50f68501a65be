/*
 * format_int.h - private interface between the output formatter files
 * (src/core/format*.c): the Python behaviours they all reproduce (str(), repr(),
 * number printing, str.upper(), dict key order) and each format's entry point.
 * Not installed; the public API is include/buildtrail/format.h.
 */
#ifndef BT_FORMAT_INT_H
#define BT_FORMAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

/* ---- Unicode (format_unicode.c, tables generated from Python's unicodedata) ---- */

/* Decodes one UTF-8 sequence at s (n > 0 bytes available); returns its length.
 * Malformed input yields the single byte as the code point and length 1. */
size_t bt_fmt_utf8_next(const char *s, size_t n, uint32_t *cp);
bool bt_fmt_uc_wide(uint32_t cp);      /* East Asian Width W, F or A */
bool bt_fmt_uc_printable(uint32_t cp); /* Python str.isprintable() for one char */
/* Appends Python's s.upper() of the UTF-8 text (full case mapping). */
int bt_fmt_py_upper(bt_buf *out, const char *s, size_t len);
/* Appends cp as UTF-8. */
int bt_fmt_utf8_put(bt_buf *out, uint32_t cp);

/* ---- Python emulation (format_py.c) ---- */

typedef enum bt_fmt_numstyle {
    BT_FMT_NUM_STR,  /* str(): 1, 1.5, 1e+16, inf, nan */
    BT_FMT_NUM_JSON, /* json.dumps: Infinity, NaN */
    BT_FMT_NUM_YAML  /* ruamel: .inf, -.inf, .nan */
} bt_fmt_numstyle;

/* True when json.loads would give a Python int (literal without '.', 'e', 'E'; a
 * computed number when it is integral and below 1e16, as bt_json_write_number). */
bool bt_fmt_num_is_int(const bt_json *v);
/* Appends a number as Python prints it in the given style. */
int bt_fmt_py_number(bt_buf *out, const bt_json *v, bt_fmt_numstyle style);
/* Appends str(v) of the Python value json.loads gives: strings raw, None, True,
 * False, numbers; lists and dicts as repr(). */
int bt_fmt_py_str(bt_buf *out, const bt_json *v);
/* Appends repr(v). */
int bt_fmt_py_repr(bt_buf *out, const bt_json *v);
/* Python type name of the value json.loads gives ("str", "dict", "NoneType"...). */
const char *bt_fmt_py_type_name(const bt_json *v);
/* JSON scalars (not array/object). */
bool bt_fmt_is_scalar(const bt_json *v);
/* Python truthiness (json.loads result): null, false, 0, "", [], {} are false. */
bool bt_fmt_py_truthy(const bt_json *v);
/* Python str ordering of two keys (code point order = UTF-8 byte order). */
int bt_fmt_key_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Fills idx (n = obj->len entries) with member indexes in sorted key order. */
void bt_fmt_sorted_members(const bt_json *obj, size_t *idx);
/* Returns v, or a copy in a whose objects have duplicate keys collapsed the way
 * Python's dict does (first position, last value). NULL on allocation failure. */
const bt_json *bt_fmt_dedupe(bt_arena *a, const bt_json *v);
/* A sorted set of keys (Python's sorted(set(...))), held as borrowed member
 * pointers; malloc'd, release with bt_fmt_keyset_dispose. */
typedef struct bt_fmt_keyset {
    const bt_json_member **k;
    size_t n, cap;
} bt_fmt_keyset;

#define BT_FMT_KEYSET_INIT                                                                         \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Inserts m's key unless present. 0 or BT_ENOMEM. */
int bt_fmt_keyset_add(bt_fmt_keyset *ks, const bt_json_member *m);
bool bt_fmt_keyset_has(const bt_fmt_keyset *ks, const char *key, size_t len);
void bt_fmt_keyset_dispose(bt_fmt_keyset *ks);
/* Looks up key in obj (already deduplicated); NULL when absent. */
const bt_json *bt_fmt_member(const bt_json *obj, const char *key, size_t key_len);

/* ---- the formats ---- */

int bt_fmt_text(bt_buf *out, const bt_json *v, bt_error *err);
int bt_fmt_table(bt_buf *out, bt_arena *a, const bt_json *v, const char *title, unsigned width,
                 bt_error *err);
/* as_stream_item: dump [v] (yaml-stream) rather than v. */
int bt_fmt_yaml(bt_buf *out, const bt_json *v, bool as_stream_item, bt_error *err);
int bt_fmt_csv(bt_buf *out, const bt_json *v, unsigned flags, bt_error *err);

#endif
