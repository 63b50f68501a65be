/* time.c - ISO 8601 / Java-style / relative time parsing and UTC formatting. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/timeutil.h"

/* Howard Hinnant's civil-date algorithms (public domain), in our own words. */
int64_t bt_time_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void bt_time_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0, k;
    for (k = 0; k < n; k++) {
        if (*i >= len || !isdigit((unsigned char)s[*i]))
            return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int bt_time_parse_iso(const char *s, size_t len, int64_t *ms)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, basic = 0;
    int64_t off_min = 0;

    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (digits(s, len, &i, 4, &y))
        return BT_EPARSE;
    if (i < len && s[i] == '-')
        i++;
    else
        basic = 1;
    if (digits(s, len, &i, 2, &mo))
        return BT_EPARSE;
    if (!basic) {
        if (i >= len || s[i] != '-')
            return BT_EPARSE;
        i++;
    }
    if (digits(s, len, &i, 2, &d))
        return BT_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return BT_EPARSE; /* the calendar: 2026-02-30 is not 2 March */
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (digits(s, len, &i, 2, &h))
            return BT_EPARSE;
        if (i < len && s[i] == ':')
            i++;
        else if (!basic)
            return BT_EPARSE;
        if (digits(s, len, &i, 2, &mi))
            return BT_EPARSE;
        if (i < len && (s[i] == ':' || (basic && isdigit((unsigned char)s[i])))) {
            if (s[i] == ':')
                i++;
            if (digits(s, len, &i, 2, &sec))
                return BT_EPARSE;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                int n = 0;
                i++;
                if (i >= len || !isdigit((unsigned char)s[i]))
                    return BT_EPARSE;
                while (i < len && isdigit((unsigned char)s[i])) {
                    if (n < 3)
                        frac_ms = frac_ms * 10 + (s[i] - '0');
                    n++;
                    i++;
                }
                while (n < 3) {
                    frac_ms *= 10;
                    n++;
                }
            }
        }
        if (h > 24 || mi > 59 || sec > 60)
            return BT_EPARSE;
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            i++;
            if (digits(s, len, &i, 2, &oh))
                return BT_EPARSE;
            if (i < len && s[i] == ':')
                i++;
            if (i < len && digits(s, len, &i, 2, &om))
                return BT_EPARSE;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (i != len)
        return BT_EPARSE;
    *ms = ((bt_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
            sec - off_min * 60) *
           1000) +
          frac_ms;
    return 0;
}

int bt_time_parse_java(const char *s, size_t len, int64_t *ms)
{
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char tmp[64], ampm[4] = {0}, mon[4] = {0};
    int d, y, h, mi, sec, m = -1, k;

    if (len >= sizeof tmp)
        return BT_EPARSE;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    /* "Sep 1, 2017 4:12:29 PM" or "Jan 1, 2025, 12:00:00 AM" */
    for (k = 0; tmp[k]; k++)
        if (tmp[k] == ',')
            tmp[k] = ' ';
    if (sscanf(tmp, "%3s %d %d %d:%d:%d %2s", mon, &d, &y, &h, &mi, &sec, ampm) != 7)
        return BT_EPARSE;
    for (k = 0; k < 12; k++)
        if (strcmp(mon, mons[k]) == 0)
            m = k + 1;
    if (m < 0 || d < 1 || d > days_in_month(y, m) || h < 1 || h > 12 || mi > 59 || sec > 60)
        return BT_EPARSE;
    if (strcmp(ampm, "AM") == 0)
        h = h == 12 ? 0 : h;
    else if (strcmp(ampm, "PM") == 0)
        h = h == 12 ? 12 : h + 12;
    else
        return BT_EPARSE;
    *ms = (bt_time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
           sec) *
          1000;
    return 0;
}

int bt_time_parse_user(const char *s, int64_t now_ms, int64_t *ms, bt_error *err)
{
    size_t len = strlen(s);
    char *end;

    if (len == 0)
        return bt_error_set(err, BT_EINVAL, "empty time value");
    /* relative age: digits + unit */
    if (len >= 2 && strchr("smhdw", s[len - 1])) {
        size_t k;
        int ok = 1;
        for (k = 0; k + 1 < len; k++)
            if (!isdigit((unsigned char)s[k]))
                ok = 0;
        if (ok) {
            int64_t n, unit = 1000;
            if (len > 10) /* more than a few centuries of any unit */
                return bt_error_set(err, BT_EINVAL, "'%s': age out of range", s);
            n = strtoll(s, NULL, 10);
            switch (s[len - 1]) {
            case 'm': unit = 60000; break;
            case 'h': unit = 3600000; break;
            case 'd': unit = 86400000; break;
            case 'w': unit = 7 * 86400000LL; break;
            }
            *ms = now_ms - n * unit;
            return 0;
        }
    }
    /* epoch seconds (integer or decimal), but not a bare 8-digit basic ISO date */
    {
        double v = strtod(s, &end);
        if (end != s && *end == '\0' && !(len == 8 && !strchr(s, '.'))) {
            /* years 0001..9999 in epoch seconds */
            if (!(v > -62135596800.0 && v < 253402300800.0))
                return bt_error_set(err, BT_EINVAL, "'%s': epoch seconds out of range", s);
            *ms = (int64_t)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5));
            return 0;
        }
    }
    if (bt_time_parse_iso(s, len, ms) == 0)
        return 0;
    return bt_error_set(err, BT_EINVAL,
                        "'%s': not a time (use ISO 8601, epoch seconds, or an age like 2h, 7d)", s);
}

int bt_time_format_utc(bt_buf *out, int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;

    bt_time_civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) { /* the usual case, without printf (a hunt formats one an alert) */
        char t[24];
        unsigned v[6] = {(unsigned)y, m, d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                         (unsigned)(rem % 60)};
        size_t n = 0;
        int k;
        for (k = 0; k < 6; k++) {
            if (k == 0) {
                t[n++] = (char)('0' + v[0] / 1000);
                t[n++] = (char)('0' + v[0] / 100 % 10);
            }
            t[n++] = (char)('0' + v[k] / 10 % 10);
            t[n++] = (char)('0' + v[k] % 10);
            if (k < 5)
                t[n++] = "--T::"[k];
        }
        if (frac) {
            t[n++] = '.';
            t[n++] = (char)('0' + frac / 100);
            t[n++] = (char)('0' + frac / 10 % 10);
            t[n++] = (char)('0' + frac % 10);
        }
        t[n++] = 'Z';
        return bt_buf_append(out, t, n);
    }
    if (frac)
        return bt_buf_printf(out, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600),
                             (int)(rem / 60 % 60), (int)(rem % 60), frac);
    return bt_buf_printf(out, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
                         (int)(rem / 60 % 60), (int)(rem % 60));
}

int64_t bt_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bt_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double bt_time_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
