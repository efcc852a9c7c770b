/* norm.c - a raw step-log line to its content (see text_int.h). */
#include "text_int.h"

#include <string.h>

static bool digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Length of a leading "2026-11-27T10:00:00.1234567Z " (GitHub Actions),
 * without the space; 0 when there is none. */
static size_t gh_timestamp(const char *p, size_t n)
{
	size_t i;

	if (n < 21 || !digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) ||
	    p[7] != '-' || !digits(p + 8, 2) || p[10] != 'T' ||
	    !digits(p + 11, 2) || p[13] != ':' || !digits(p + 14, 2) ||
	    p[16] != ':' || !digits(p + 17, 2))
		return 0;
	i = 19;
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && i < 32 && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i >= n || p[i] != 'Z')
		return 0;
	i++;
	if (i < n && p[i] != ' ')
		return 0;
	return i;
}

/* Copies [p, p + n) into scratch without ANSI escape sequences (CSI,
 * OSC and two-byte escapes). Returns false when scratch is too small. */
static bool strip_ansi(struct wd_buf *scratch, const char *p, size_t n)
{
	size_t i = 0, start = 0;

	wd_buf_clear(scratch);
	while (i < n) {
		if (p[i] != '\x1b') {
			i++;
			continue;
		}
		if (wd_buf_add(scratch, p + start, i - start) < 0)
			return false;
		i++;
		if (i < n && p[i] == '[') {
			i++;
			while (i < n && (unsigned char)p[i] >= 0x20 &&
			       (unsigned char)p[i] <= 0x3F)
				i++;
			while (i < n && (unsigned char)p[i] >= 0x20 &&
			       (unsigned char)p[i] <= 0x2F)
				i++;
			if (i < n && (unsigned char)p[i] >= 0x40 &&
			    (unsigned char)p[i] <= 0x7E)
				i++;
		} else if (i < n && p[i] == ']') {
			while (i < n && p[i] != '\a' &&
			       !(p[i] == '\x1b' && i + 1 < n &&
				 p[i + 1] == '\\'))
				i++;
			i += i < n && p[i] == '\a' ? 1 : (i < n ? 2 : 0);
		} else if (i < n) {
			i++;
		}
		start = i;
	}
	return wd_buf_add(scratch, p + start, n - start) == 0;
}

static bool has_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(p, lit, l) == 0;
}

/* True when [p, p + n) is lit followed by blanks only. */
static bool only(const char *p, size_t n, const char *lit)
{
	struct wd_str t = wd_tx_trim(p, n);

	return wd_mem_eq(t.ptr, t.len, lit);
}

void wd_tx_normalize(struct wd_tx_line *out, const char *p, size_t n,
		     struct wd_buf *scratch)
{
	size_t k, i;

	memset(out, 0, sizeof(*out));
	if (n > 0 && p[n - 1] == '\r')
		n--;
	k = gh_timestamp(p, n);
	if (k > 0) {
		out->ts = p;
		out->ts_len = k;
		p += k;
		n -= k;
		if (n > 0) {
			p++;
			n--;
		}
	}
	if (memchr(p, '\x1b', n) != NULL && strip_ansi(scratch, p, n)) {
		p = scratch->ptr;
		n = scratch->len;
	}
	/* A GitHub Actions workflow command: "##[error]text". */
	if (has_prefix(p, n, "##[")) {
		for (i = 3; i < n && i < 40 && p[i] != ']'; i++)
			;
		if (i < n && p[i] == ']') {
			p += i + 1;
			n -= i + 1;
		}
	}
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (has_prefix(p + i, n - i, "\xe2\x94\x82")) {	/* │ */
		out->gutter = true;
		i += 3;
		if (i < n && p[i] == ' ')
			i++;
		p += i;
		n -= i;
	} else if (only(p, n, "\xe2\x95\xb7")) {		/* ╷ */
		out->box_open = true;
		n = 0;
	} else if (only(p, n, "\xe2\x95\xb5")) {		/* ╵ */
		out->box_close = true;
		n = 0;
	}
	out->p = p;
	out->n = n;
}

struct wd_str wd_tx_trim(const char *p, size_t n)
{
	struct wd_str s;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
			 p[n - 1] == '\r'))
		n--;
	s.ptr = p;
	s.len = n;
	return s;
}

const char *wd_tx_find(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	const char *q = p, *last;

	/* memmem() is a GNU extension; this is memchr on the first byte. */
	if (l == 0 || n < l)
		return NULL;
	last = p + n - l;
	while (q <= last) {
		q = memchr(q, lit[0], (size_t)(last - q) + 1);
		if (q == NULL)
			return NULL;
		if (memcmp(q, lit, l) == 0)
			return q;
		q++;
	}
	return NULL;
}
