/* whydenied/timeutil.h - durations and RFC 3339 timestamps. */
#ifndef WHYDENIED_TIMEUTIL_H
#define WHYDENIED_TIMEUTIL_H

#include <stddef.h>

/* Parses "30m", "2h", "7d", "45s", "1w" into seconds; -1 when malformed. */
long long wd_parse_duration(const char *s);

/* Parses an RFC 3339 timestamp to seconds since the epoch (UTC), with
 * optional fraction and offset, or a bare date "2024-01-01"; -1 when
 * malformed. */
long long wd_parse_rfc3339(const char *s, size_t n);

/* Formats seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ". */
void wd_format_rfc3339(long long t, char out[32]);

/* Seconds since the epoch; WHYDENIED_NOW (RFC 3339) overrides it so that
 * reports and tests are reproducible. */
long long wd_now(void);

#endif
