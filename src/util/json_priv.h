/*
 * json_priv.h - helpers shared by the JSON parser (json.c) and writer (json_write.c):
 * UTF-8 sequence validation, locale-independent strtod, and the hidden capacity word
 * stored in front of array/object storage. Not a public header.
 */
#ifndef BT_JSON_PRIV_H
#define BT_JSON_PRIV_H

#include <stddef.h>

/*
 * Length (2..4) of the well-formed UTF-8 sequence starting at p (whose first byte is
 * >= 0x80), or 0 if it is ill-formed: a continuation byte, an overlong form (C0, C1,
 * E0 80..9F, F0 80..8F), a UTF-16 surrogate (ED A0..BF), a code point above U+10FFFF
 * (F4 90.., F5..FF) or a sequence cut short by end.
 */
static inline size_t bt_json__utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], c1;
    size_t avail = (size_t)(end - p);

    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3)
            return 0;
        c1 = p[1];
        if (c == 0xE0   ? (c1 < 0xA0 || c1 > 0xBF)
            : c == 0xED ? (c1 < 0x80 || c1 > 0x9F)
                        : (c1 & 0xC0) != 0x80)
            return 0;
        return (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c < 0xF5) {
        if (avail < 4)
            return 0;
        c1 = p[1];
        if (c == 0xF0   ? (c1 < 0x90 || c1 > 0xBF)
            : c == 0xF4 ? (c1 < 0x80 || c1 > 0x8F)
                        : (c1 & 0xC0) != 0x80)
            return 0;
        return (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* strtod in the "C" locale whatever setlocale() the program made (thread-safe). */
double bt_json__strtod(const char *s, char **endp);

/* Capacity of array items / object members storage made by this module (0 for NULL):
 * the size_t stored just before the first element. */
static inline size_t bt_json__vec_cap(const void *v)
{
    return v ? ((const size_t *)v)[-1] : 0;
}

#endif
