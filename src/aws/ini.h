/*
 * ini.h - private: the INI dialect of ~/.aws/config and ~/.aws/credentials, as
 * botocore reads it (Python's RawConfigParser plus one level of nesting):
 *   - "[name]" section headers; "key = value" or "key: value" (first delimiter);
 *     keys lowercased and trimmed, values trimmed;
 *   - full-line comments starting with '#' or ';' (no inline comments);
 *   - an indented line continues the previous value (joined with '\n');
 *   - a value that starts with '\n' (empty first line) is a nested sub-section of
 *     "k = v" lines (keys kept as written);
 *   - a key outside any section, or a line without a delimiter, is an error.
 * Repeated sections are merged and a repeated key keeps the last value (Python
 * would refuse the file; being lenient here loses nothing).
 *
 * Everything lives in one arena owned by the bt_ini.
 */
#ifndef BT_AWS_INI_H
#define BT_AWS_INI_H

#include <stddef.h>

#include "buildtrail/arena.h"
#include "buildtrail/error.h"

typedef struct bt_ini_entry {
    const char *key;
    const char *value;        /* as parsed (nested text included) */
    struct bt_ini_entry *sub; /* nested entries when value started with '\n' */
    size_t nsub;
} bt_ini_entry;

typedef struct bt_ini_section {
    const char *name; /* text between the brackets, trimmed */
    bt_ini_entry *entries;
    size_t n, cap;
} bt_ini_section;

typedef struct bt_ini {
    bt_arena *arena;
    bt_ini_section *sections;
    size_t n, cap;
} bt_ini;

#define BT_INI_MAX_SIZE ((size_t)16 << 20)

/* Parses text. On failure returns BT_EPARSE (err->msg names the line), BT_ELIMIT or
 * BT_ENOMEM. *out is freed with bt_ini_free. */
int bt_ini_parse(const char *text, size_t len, bt_ini **out, bt_error *err);
void bt_ini_free(bt_ini *ini);

const bt_ini_section *bt_ini_section_get(const bt_ini *ini, const char *name);
const bt_ini_entry *bt_ini_entry_get(const bt_ini_section *s, const char *key);
/* Plain value of key in section (NULL if absent). */
const char *bt_ini_get(const bt_ini_section *s, const char *key);
/* Value of key inside the nested sub-section named sub (NULL if absent). */
const char *bt_ini_get_sub(const bt_ini_section *s, const char *sub, const char *key);

#endif
