/* test_simd.c - the byte-class searches of whydenied/simd.h give the same
 * answers as a plain loop over each byte, at every length and alignment
 * around their 16-, 32- and 64-byte steps, and past the 255 rounds a
 * byte lane of counts holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "whydenied/simd.h"

static uint64_t naive_count(const char *p, size_t n, char c)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == c;
	return k;
}

static size_t naive_special(const char *p, size_t n, int high)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\' || c < 0x20 || (high && c >= 0x80))
			return i;
	}
	return n;
}

static int naive_word4(const char *p, size_t n, const char *a, const char *b)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		int ea = 1, eb = 1;

		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)p[i + k];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c | 0x20);
			ea &= c == (unsigned char)a[k];
			eb &= c == (unsigned char)b[k];
		}
		if (ea || eb)
			return 1;
	}
	return 0;
}

/* A pseudo-random buffer (a fixed LCG: the same bytes every run) from
 * the given alphabet. */
static void fill(char *p, size_t n, const char *alpha, uint32_t seed)
{
	size_t m = strlen(alpha);

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = alpha[(seed >> 16) % m];
	}
}

static void test_count_byte(void **state)
{
	enum { N = 70000 };
	char *buf = malloc(N + 64);
	size_t n, off;

	(void)state;
	assert_non_null(buf);
	/* Every length to 300 at every offset of a 64-byte step. */
	fill(buf, N + 64, "ab\n\n{}\"x", 7);
	for (off = 0; off < 64; off++)
		for (n = 0; n <= 300; n++)
			assert_int_equal(wd_count_byte(buf + off, n, '\n'),
					 naive_count(buf + off, n, '\n'));
	/* Long runs of matches: more than 255 rounds per lane. */
	memset(buf, '\n', N);
	for (n = N - 70; n <= N; n++)
		assert_int_equal(wd_count_byte(buf, n, '\n'), n);
	fill(buf, N, "\n\n\nq", 11);
	assert_int_equal(wd_count_byte(buf + 3, N - 3, '\n'),
			 naive_count(buf + 3, N - 3, '\n'));
	assert_int_equal(wd_count_byte_sse2(buf + 3, N - 3, '\n'),
			 naive_count(buf + 3, N - 3, '\n'));
	free(buf);
}

static void test_find_str_special(void **state)
{
	char buf[400];
	size_t n, off, at;

	(void)state;
	for (at = 0; at < 200; at += 7) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = (char)(at % 3 == 0 ? '"' : at % 3 == 1 ? '\\' :
				 '\x80');
		for (off = 0; off < 20; off++)
			for (n = 0; n + off <= 260; n += 13) {
				assert_int_equal(
					wd_find_str_special(buf + off, n, 1),
					naive_special(buf + off, n, 1));
				assert_int_equal(
					wd_find_str_special(buf + off, n, 0),
					naive_special(buf + off, n, 0));
			}
	}
}

static void test_find_struct(void **state)
{
	char buf[300];
	size_t n, off, want, got, i;
	uint64_t lines, want_lines;

	(void)state;
	for (uint32_t seed = 0; seed < 40; seed++) {
		/* Mostly blanks and letters, now and then a structural byte. */
		fill(buf, sizeof(buf), "ab\n \n.........................."
		     "........................{", seed);
		for (off = 0; off < 20; off++)
			for (n = 0; n + off <= 280; n += 11) {
				want = n;
				want_lines = 0;
				for (i = 0; i < n; i++) {
					char c = buf[off + i];

					if (strchr("\"{}[]", c) && c) {
						want = i;
						break;
					}
					want_lines += c == '\n';
				}
				lines = 0;
				got = wd_find_struct(buf + off, n, &lines);
				assert_int_equal(got, want);
				assert_int_equal(lines, want_lines);
			}
	}
}

static void test_word4(void **state)
{
	char buf[300];
	size_t n, at;

	(void)state;
	for (at = 0; at < 120; at++) {
		fill(buf, sizeof(buf), "aimpeNAbIP", (uint32_t)at);
		memcpy(buf + at, at % 2 ? "IaMp" : "ENab", 4);
		for (n = 0; n <= 140; n++)
			assert_int_equal(
				wd_has_word4_ci(buf, n, "iamp", "enab") != 0,
				naive_word4(buf, n, "iamp", "enab"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_byte),
		cmocka_unit_test(test_find_str_special),
		cmocka_unit_test(test_find_struct),
		cmocka_unit_test(test_word4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
