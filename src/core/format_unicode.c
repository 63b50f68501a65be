/*
 * format_unicode.c - the Unicode properties the output formatters need to match the
 * AWS CLI's Python code: UTF-8 decoding, East Asian width (table column widths),
 * str.isprintable() (repr escaping) and str.upper() (text identifiers). The range
 * tables are generated from Python's unicodedata into format_unicode_tables.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/format.h"
#include "core/format_int.h"

typedef struct bt_uc_range {
    uint32_t lo, hi;
} bt_uc_range;

typedef struct bt_uc_upper_run {
    uint32_t first, last;
    int32_t stride, delta;
} bt_uc_upper_run;

typedef struct bt_uc_upper_special {
    uint32_t cp;
    uint32_t up[3];
} bt_uc_upper_special;

#include "core/format_unicode_tables.h"

static bool in_ranges(const bt_uc_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

size_t bt_fmt_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0];
    size_t len, i;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        *cp = u[0];
        return 1;
    }
    if (len > n) {
        *cp = u[0];
        return 1;
    }
    for (i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF) {
        *cp = u[0];
        return 1;
    }
    *cp = c;
    return len;
}

int bt_fmt_utf8_put(bt_buf *out, uint32_t cp)
{
    char b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return bt_buf_append(out, b, n);
}

bool bt_fmt_uc_wide(uint32_t cp)
{
    if (cp < 0xA1)
        return false;
    return in_ranges(bt_uc_wide, sizeof bt_uc_wide / sizeof bt_uc_wide[0], cp);
}

bool bt_fmt_uc_printable(uint32_t cp)
{
    if (cp >= 0x20 && cp < 0x7F)
        return true;
    return !in_ranges(bt_uc_nonprint, sizeof bt_uc_nonprint / sizeof bt_uc_nonprint[0], cp);
}

size_t bt_format_display_width(const char *s, size_t len)
{
    size_t w = 0, i = 0;

    while (i < len) {
        uint32_t cp;
        i += bt_fmt_utf8_next(s + i, len - i, &cp);
        w += bt_fmt_uc_wide(cp) ? 2 : 1;
    }
    return w;
}

/* Upper-case mapping of one code point: writes 1..3 code points to up. */
static int upper_of(uint32_t cp, uint32_t up[3])
{
    size_t lo = 0, hi = sizeof bt_uc_upper_sp / sizeof bt_uc_upper_sp[0];
    int n;

    if (cp < 0x80) {
        up[0] = (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
        return 1;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < bt_uc_upper_sp[mid].cp)
            hi = mid;
        else if (cp > bt_uc_upper_sp[mid].cp)
            lo = mid + 1;
        else {
            for (n = 0; n < 3 && bt_uc_upper_sp[mid].up[n]; n++)
                up[n] = bt_uc_upper_sp[mid].up[n];
            return n;
        }
    }
    lo = 0;
    hi = sizeof bt_uc_upper / sizeof bt_uc_upper[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const bt_uc_upper_run *r = &bt_uc_upper[mid];
        if (cp < r->first)
            hi = mid;
        else if (cp > r->last)
            lo = mid + 1;
        else {
            if ((cp - r->first) % (uint32_t)r->stride == 0)
                up[0] = (uint32_t)((int32_t)cp + r->delta);
            else
                up[0] = cp;
            return 1;
        }
    }
    up[0] = cp;
    return 1;
}

int bt_fmt_py_upper(bt_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    int rc = 0;

    while (i < len && rc == 0) {
        uint32_t cp, up[3];
        size_t n = bt_fmt_utf8_next(s + i, len - i, &cp);
        int k, m;
        if (n == 1 && (unsigned char)s[i] >= 0x80) { /* malformed byte: keep it */
            rc = bt_buf_append(out, s + i, 1);
            i++;
            continue;
        }
        m = upper_of(cp, up);
        for (k = 0; k < m && rc == 0; k++)
            rc = bt_fmt_utf8_put(out, up[k]);
        i += n;
    }
    return rc;
}
