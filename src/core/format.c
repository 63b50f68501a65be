/*
 * format.c - entry points of the output formatters (include/buildtrail/format.h):
 * format names, the whole-value and per-page paths with the AWS CLI's special cases
 * (an empty dict prints nothing, yaml prints top-level scalars as JSON), the json
 * format, and the CLI's local-time ISO 8601 rendering of timestamps (csv is in
 * format_csv.c).
 */
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/format.h"
#include "buildtrail/timeutil.h"
#include "core/format_int.h"

static const char *const bt_format_names[] = {"json", "text",        "table",
                                              "yaml", "yaml-stream", "csv"};

int bt_format_parse_name(const char *name, bt_format_kind *out, bt_error *err)
{
    size_t i;

    for (i = 0; name && i < sizeof bt_format_names / sizeof bt_format_names[0]; i++) {
        if (strcmp(name, bt_format_names[i]) == 0) {
            *out = (bt_format_kind)i;
            return 0;
        }
    }
    return bt_error_set(err, BT_EINVAL,
                        "unknown output format '%s' (choose from json, text, table, yaml, "
                        "yaml-stream, csv)",
                        name ? name : "");
}

const char *bt_format_name(bt_format_kind kind)
{
    if ((unsigned)kind < sizeof bt_format_names / sizeof bt_format_names[0])
        return bt_format_names[kind];
    return "unknown";
}

bool bt_format_is_paged(bt_format_kind kind)
{
    return kind == BT_FORMAT_TEXT || kind == BT_FORMAT_YAML_STREAM;
}

static bool is_empty_object(const bt_json *v)
{
    return v && v->type == BT_JSON_OBJECT && v->len == 0;
}

/* json.dumps(v, ensure_ascii=False) of a scalar, as YAMLDumper does for them. */
static int json_scalar(bt_buf *out, const bt_json *v)
{
    switch (v ? v->type : BT_JSON_NULL) {
    case BT_JSON_NULL: return bt_buf_puts(out, "null");
    case BT_JSON_TRUE: return bt_buf_puts(out, "true");
    case BT_JSON_FALSE: return bt_buf_puts(out, "false");
    case BT_JSON_NUMBER: return bt_fmt_py_number(out, v, BT_FMT_NUM_JSON);
    case BT_JSON_STRING: return bt_json_write_string(out, v->u.str, v->len, 0);
    default: return BT_EINVAL;
    }
}

static int write_json(bt_buf *out, const bt_json *v)
{
    bt_json_write_opts wo = {4, BT_JSON_W_PYNUM | BT_JSON_W_NEWLINE};
    bt_json null_value;

    if (is_empty_object(v))
        return 0;
    if (!v) {
        memset(&null_value, 0, sizeof null_value);
        null_value.type = BT_JSON_NULL;
        v = &null_value;
    }
    return bt_json_write(out, v, &wo);
}

static void truncate_to(bt_buf *out, size_t mark)
{
    if (out->len > mark) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
}

/* Formats one value; page selects the per-page behaviour of yaml-stream. */
static int format_value(bt_buf *out, const bt_json *value, const bt_format_opts *opts, bool page,
                        bt_error *err)
{
    static const bt_format_opts defaults = BT_FORMAT_OPTS_INIT;
    bt_arena *a = NULL;
    const bt_json *v = value;
    size_t mark = out->len;
    int rc = 0;

    if (!opts)
        opts = &defaults;
    a = bt_arena_new(0, 0);
    if (!a)
        return bt_error_set(err, BT_ENOMEM, "output: out of memory");
    if (v) {
        v = bt_fmt_dedupe(a, value);
        if (!v) {
            rc = bt_error_set(err, BT_ENOMEM, "output: out of memory");
            goto done;
        }
    }
    switch (opts->format) {
    case BT_FORMAT_JSON:
        rc = write_json(out, v);
        if (rc)
            bt_error_set(err, rc, "json output: %s", bt_strerror(rc));
        break;
    case BT_FORMAT_TEXT: rc = bt_fmt_text(out, v, err); break;
    case BT_FORMAT_TABLE: rc = bt_fmt_table(out, a, v, opts->title, opts->width, err); break;
    case BT_FORMAT_YAML:
        if (is_empty_object(v))
            break;
        if (bt_fmt_is_scalar(v)) {
            rc = json_scalar(out, v);
            if (rc == 0)
                rc = bt_buf_putc(out, '\n');
            if (rc)
                bt_error_set(err, rc, "yaml output: %s", bt_strerror(rc));
            break;
        }
        rc = bt_fmt_yaml(out, v, false, err);
        break;
    case BT_FORMAT_YAML_STREAM:
        if (!page && is_empty_object(v))
            break;
        rc = bt_fmt_yaml(out, v, true, err);
        break;
    case BT_FORMAT_CSV: rc = bt_fmt_csv(out, v, opts->flags, err); break;
    default:
        rc = bt_error_set(err, BT_EINVAL, "output: unknown format %d", (int)opts->format);
        break;
    }
done:
    /* The CLI's text output writes as it goes: when it fails part-way (BT_EINVAL),
     * what it wrote before failing is kept, as on the CLI's stdout. */
    if (rc && !(rc == BT_EINVAL && opts->format == BT_FORMAT_TEXT))
        truncate_to(out, mark);
    bt_arena_free(a);
    return rc;
}

int bt_format_write(bt_buf *out, const bt_json *value, const bt_format_opts *opts, bt_error *err)
{
    return format_value(out, value, opts, false, err);
}

int bt_format_write_page(bt_buf *out, const bt_json *page, const bt_format_opts *opts,
                         bt_error *err)
{
    if (!opts || !bt_format_is_paged(opts->format))
        return bt_error_set(err, BT_EINVAL,
                            "output: '%s' is not printed page by page; merge the pages",
                            bt_format_name(opts ? opts->format : BT_FORMAT_JSON));
    return format_value(out, page, opts, true, err);
}

bt_json *bt_format_next_token_value(bt_arena *a, const char *token, size_t len)
{
    bt_json *str = bt_json_new_string(a, token ? token : "", token ? len : 0);
    bt_json *inner = bt_json_new_object(a, 1);
    bt_json *outer = bt_json_new_object(a, 1);

    if (!str || !inner || !outer || bt_json_object_put(a, inner, "NextToken", 9, str) != 0 ||
        bt_json_object_put(a, outer, "NextToken", 9, inner) != 0)
        return NULL;
    return outer;
}

/* ---- timestamps: datetime.fromtimestamp(t, dateutil.tz.tzlocal()).isoformat() ---- */

typedef struct py_tzlocal {
    long std_offset; /* seconds east of UTC: -time.timezone */
    long dst_offset; /* -time.altzone when time.daylight, else std_offset */
    long dst_saved;
    bool hasdst;
    long timezone;
} py_tzlocal;

/*
 * Python's time.timezone / altzone / daylight as CPython computes them on glibc
 * (Modules/timemodule.c init_timezone): from the UTC offsets in effect in January
 * and July of the current year, the larger-west one being "standard" time. Not the
 * C library's timezone variable, which differs for zones such as Europe/Dublin.
 */
static void tz_init(py_tzlocal *z)
{
    const time_t year = (time_t)(365 * 24 + 6) * 3600;
    time_t t;
    struct tm p;
    long janzone = 0, julyzone = 0, tz, alt;
    int daylight_;

    tzset();
    t = (time(NULL) / year) * year;
    if (localtime_r(&t, &p))
        janzone = -p.tm_gmtoff;
    t += year / 2;
    if (localtime_r(&t, &p))
        julyzone = -p.tm_gmtoff;
    if (janzone < julyzone) { /* southern hemisphere: DST in January */
        tz = julyzone;
        alt = janzone;
    } else {
        tz = janzone;
        alt = julyzone;
    }
    daylight_ = janzone != julyzone;
    /* dateutil.tz.tzlocal() */
    z->timezone = tz;
    z->std_offset = -tz;
    z->dst_offset = daylight_ ? -alt : -tz;
    z->dst_saved = z->dst_offset - z->std_offset;
    z->hasdst = z->dst_saved != 0;
}

/* The zone is read again only when TZ changes (tzset() stats /etc/localtime: per
 * timestamp it dominated printing large results). */
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;
static py_tzlocal tz_cached;
static char tz_key[512];
static int tz_have;

static void tz_current(py_tzlocal *z)
{
    const char *tz = getenv("TZ");
    char key[512];
    snprintf(key, sizeof key, "%c%s", tz ? '=' : '-', tz ? tz : "");
    pthread_mutex_lock(&tz_mu);
    if (!tz_have || strcmp(key, tz_key) != 0) {
        tz_init(&tz_cached);
        memcpy(tz_key, key, sizeof key);
        tz_have = 1;
    }
    *z = tz_cached;
    pthread_mutex_unlock(&tz_mu);
}

/* time.localtime(floor(t)).tm_isdst for t in whole seconds. */
static bool local_isdst(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!localtime_r(&tt, &tm))
        return false;
    return tm.tm_isdst > 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* tzlocal._naive_is_dst: naive wall time (ms since the epoch as if it were UTC). */
static bool naive_is_dst(const py_tzlocal *z, int64_t wall_ms)
{
    return local_isdst(floor_div(wall_ms, 1000) + z->timezone);
}

static bool is_ambiguous(const py_tzlocal *z, int64_t wall_ms)
{
    bool nd = naive_is_dst(z, wall_ms);
    return !nd && nd != naive_is_dst(z, wall_ms - z->dst_saved * 1000);
}

static bool tz_isdst(const py_tzlocal *z, int64_t wall_ms, int fold)
{
    if (!z->hasdst)
        return false;
    if (is_ambiguous(z, wall_ms))
        return !fold;
    return naive_is_dst(z, wall_ms);
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian), as Python counts years. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int yy;
    unsigned mm, dd;
    bt_time_civil_from_days(z, &yy, &mm, &dd);
    *y = yy;
    *m = (int)mm;
    *d = (int)dd;
}

int bt_format_iso8601_local(bt_buf *out, int64_t epoch_ms)
{
    py_tzlocal z;
    int64_t wall, days, secs, year;
    long off;
    int month, day, fold, ms, rc;
    bool dst1;

    tz_current(&z);
    if (epoch_ms < -62135596800000LL || epoch_ms > 253402300799999LL)
        return BT_EINVAL;
    /* _tzinfo.fromutc: wall = utc + std; then + dst() of that wall time at fold=1 */
    wall = epoch_ms + (int64_t)z.std_offset * 1000;
    dst1 = tz_isdst(&z, wall, 1);
    wall += dst1 ? (int64_t)z.dst_saved * 1000 : 0;
    /* _fold_status: ambiguous wall times are in the fold unless dst() was applied */
    fold = is_ambiguous(&z, wall) ? (dst1 ? 0 : 1) : 0;
    off = tz_isdst(&z, wall, fold) ? z.dst_offset : z.std_offset;

    days = floor_div(wall, 86400000);
    secs = floor_div(wall, 1000) - days * 86400;
    ms = (int)(wall - floor_div(wall, 1000) * 1000);
    civil_from_days(days, &year, &month, &day);
    if (year < 1 || year > 9999)
        return BT_EINVAL;
    rc = bt_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", (int)year, month, day,
                       (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (rc == 0 && ms)
        rc = bt_buf_printf(out, ".%03d000", ms);
    if (rc == 0) {
        long a = off < 0 ? -off : off;
        rc = bt_buf_printf(out, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
        if (rc == 0 && a % 60)
            rc = bt_buf_printf(out, ":%02ld", a % 60);
    }
    return rc;
}
