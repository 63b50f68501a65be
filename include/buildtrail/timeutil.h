/*
 * buildtrail/timeutil.h - parsing and printing the times CloudTrail, EventBridge,
 * CodeBuild and users write. All values are UTC epoch milliseconds (int64).
 */
#ifndef BT_TIMEUTIL_H
#define BT_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

#include "buildtrail/buf.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ISO 8601: "2026-10-01", "2026-10-01T12:00", "2026-10-01T12:00:05Z",
 * "2026-10-01T12:00:05.123+02:00", "20131102T010628Z", space instead of 'T'.
 * No zone means UTC. Returns 0 and sets *ms, or BT_EPARSE. */
int bt_time_parse_iso(const char *s, size_t len, int64_t *ms);

/* Java-style dates used inside CodeBuild payloads: "Sep 1, 2017 4:12:29 PM"
 * (taken as UTC). Returns 0 or BT_EPARSE. */
int bt_time_parse_java(const char *s, size_t len, int64_t *ms);

/* A user-supplied time: ISO 8601 (as above), epoch seconds (integer or decimal), or an
 * age relative to now_ms such as "90m", "2h", "7d", "30s", "1w". Errors name the value. */
int bt_time_parse_user(const char *s, int64_t now_ms, int64_t *ms, bt_error *err);

/* Appends "YYYY-MM-DDTHH:MM:SSZ" (with ".mmm" when ms is not a whole second). */
int bt_time_format_utc(bt_buf *out, int64_t ms);

/* Current UTC time in ms. */
int64_t bt_time_now_ms(void);

/* A monotonic clock (CLOCK_MONOTONIC), for durations, deadlines and rates, never for
 * dates: in ms, and in seconds with sub-millisecond precision. */
int64_t bt_time_mono_ms(void);
double bt_time_mono_s(void);

/* Days since 1970-01-01 for a civil date, and the inverse. */
int64_t bt_time_days_from_civil(int y, unsigned m, unsigned d);
void bt_time_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

#ifdef __cplusplus
}
#endif
#endif
