/* timeutil.c - durations and RFC 3339 times (see whydenied/timeutil.h). */
#include "whydenied/timeutil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long wd_parse_duration(const char *s)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoll(s, &end, 10);
	if (v <= 0 || v > 100000000)
		return -1;
	if (strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	if (strcmp(end, "d") == 0)
		return v * 86400;
	if (strcmp(end, "w") == 0)
		return v * 7 * 86400;
	return -1;
}

/* Not isdigit: it looks up the locale's table a call, and this runs for
 * every entry's timestamp. */
static inline bool digit(char c)
{
	return (unsigned)((unsigned char)c - '0') < 10;
}

static int digits(const char *s, size_t n, size_t at, size_t k)
{
	int v = 0;
	size_t i;

	if (at + k > n)
		return -1;
	for (i = at; i < at + k; i++) {
		if (!digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

long long wd_parse_rfc3339(const char *s, size_t n)
{
	int y = digits(s, n, 0, 4), mo = digits(s, n, 5, 2),
	    d = digits(s, n, 8, 2), h = 0, mi = 0, se = 0;
	size_t i;
	long long t, off = 0;

	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || s[4] != '-' ||
	    s[7] != '-')
		return -1;
	if (n == 10)
		return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	h = digits(s, n, 11, 2);
	mi = digits(s, n, 14, 2);
	se = digits(s, n, 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	i = 19;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int oh = digits(s, n, i + 1, 2), om = digits(s, n, i + 4, 2);

		if (oh < 0 || om < 0 || s[i + 3] != ':')
			return -1;
		off = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	return t - off;
}

void wd_format_rfc3339(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


long long wd_now(void)
{
	const char *fake = getenv("WHYDENIED_NOW");

	/* A fixed "now" for reproducible tests and reports. */
	if (fake && *fake) {
		long long t = wd_parse_rfc3339(fake, strlen(fake));

		if (t >= 0)
			return t;
	}
	return (long long)time(NULL);
}
