/* whydenied/simd.h - byte-class searches for the scanners' hot loops.
 *
 * SSE2 (every x86-64 has it) compares 16 bytes at once; elsewhere a plain
 * loop gives the same answers. All functions return an index in [0, n]:
 * n means "not found".
 */
#ifndef WHYDENIED_SIMD_H
#define WHYDENIED_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define WD_HAVE_SSE2 1
#endif

/* First '"', '\\' or control byte (< 0x20); with high set, also the first
 * byte >= 0x80. */
static inline size_t wd_find_str_special(const char *p, size_t n, int high)
{
	size_t i = 0;
#if WD_HAVE_SSE2
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i c1f = _mm_set1_epi8(0x1f);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q),
						      _mm_cmpeq_epi8(x, bs)), ctl);
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (high)
			mask |= (unsigned)_mm_movemask_epi8(x);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\' || c < 0x20 || (high && c >= 0x80))
			return i;
	}
	return n;
}

/* First structural byte outside strings ('"', '{', '}', '[', ']');
 * newlines passed on the way are added to *lines. */
static inline size_t wd_find_struct(const char *p, size_t n, uint64_t *lines)
{
	size_t i = 0;
#if WD_HAVE_SSE2
	const __m128i q = _mm_set1_epi8('"'), nl = _mm_set1_epi8('\n');
	const __m128i ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}');
	const __m128i os = _mm_set1_epi8('['), cs = _mm_set1_epi8(']');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, q),
				     _mm_or_si128(_mm_cmpeq_epi8(x, ob),
						  _mm_cmpeq_epi8(x, cb))),
			_mm_or_si128(_mm_cmpeq_epi8(x, os),
				     _mm_cmpeq_epi8(x, cs)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		unsigned nls = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(x, nl));

		if (mask) {
			unsigned at = (unsigned)__builtin_ctz(mask);

			nls &= (1u << at) - 1u;
			for (; nls; nls &= nls - 1)
				(*lines)++;
			return i + at;
		}
		for (; nls; nls &= nls - 1)
			(*lines)++;
	}
#endif
	for (; i < n; i++) {
		char c = p[i];

		if (c == '"' || c == '{' || c == '}' || c == '[' || c == ']')
			return i;
		if (c == '\n')
			(*lines)++;
	}
	return n;
}

/* How many bytes of p[0, n) equal c: 16 bytes a step. */
static inline uint64_t wd_count_byte_sse2(const char *p, size_t n, char c)
{
	uint64_t k = 0;
	size_t i = 0;
#if WD_HAVE_SSE2
	const __m128i v = _mm_set1_epi8(c), z = _mm_setzero_si128();

	while (i + 16 <= n) {
		/* Up to 255 rounds of -1 per match fit a byte lane. */
		size_t lim = n - i > 16 * 255 ? i + 16 * 255 : n;
		__m128i acc = z, sum;

		for (; i + 16 <= lim; i += 16) {
			__m128i x = _mm_loadu_si128(
				(const __m128i *)(const void *)(p + i));

			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(x, v));
		}
		sum = _mm_sad_epu8(acc, z);
		k += (uint64_t)_mm_cvtsi128_si32(sum) +
		     (uint64_t)_mm_extract_epi16(sum, 4);
	}
#endif
	for (; i < n; i++)
		k += p[i] == c;
	return k;
}

#if WD_HAVE_SSE2 && defined(__GNUC__)
#include <immintrin.h>

/* The same with AVX2, 64 bytes a step in two lanes of counts (the reading
 * thread counts every newline of a parallel scan: half the instructions
 * of SSE2). The caller checks the CPU has it. */
__attribute__((target("avx2"))) static inline uint64_t
wd_count_byte_avx2(const char *p, size_t n, char c)
{
	const __m256i v = _mm256_set1_epi8(c), z = _mm256_setzero_si256();
	uint64_t k = 0;
	size_t i = 0;

	while (i + 64 <= n) {
		/* Up to 255 rounds of -1 per match fit a byte lane. */
		size_t lim = n - i > 64 * 255 ? i + 64 * 255 : n;
		__m256i a = z, b = z, sum;

		for (; i + 64 <= lim; i += 64) {
			__m256i x = _mm256_loadu_si256(
				(const __m256i *)(const void *)(p + i));
			__m256i y = _mm256_loadu_si256(
				(const __m256i *)(const void *)(p + i + 32));

			a = _mm256_sub_epi8(a, _mm256_cmpeq_epi8(x, v));
			b = _mm256_sub_epi8(b, _mm256_cmpeq_epi8(y, v));
		}
		sum = _mm256_add_epi64(_mm256_sad_epu8(a, z),
				       _mm256_sad_epu8(b, z));
		k += (uint64_t)_mm256_extract_epi64(sum, 0) +
		     (uint64_t)_mm256_extract_epi64(sum, 1) +
		     (uint64_t)_mm256_extract_epi64(sum, 2) +
		     (uint64_t)_mm256_extract_epi64(sum, 3);
	}
	return k + wd_count_byte_sse2(p + i, n - i, c);
}
#endif

/* How many bytes of p[0, n) equal c. */
static inline uint64_t wd_count_byte(const char *p, size_t n, char c)
{
#if WD_HAVE_SSE2 && defined(__GNUC__)
	if (n >= 256 && __builtin_cpu_supports("avx2"))
		return wd_count_byte_avx2(p, n, c);
#endif
	return wd_count_byte_sse2(p, n, c);
}

/* Number of bytes >= 0x80 or == 0 in p (non-zero means "not plain ASCII
 * without NUL"). */
static inline int wd_has_high_or_nul(const char *p, size_t n)
{
	size_t i = 0;
#if WD_HAVE_SSE2
	const __m128i z = _mm_setzero_si128();

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		if (_mm_movemask_epi8(x) ||
		    _mm_movemask_epi8(_mm_cmpeq_epi8(x, z)))
			return 1;
	}
#endif
	for (; i < n; i++)
		if ((unsigned char)p[i] >= 0x80 || p[i] == 0)
			return 1;
	return 0;
}

/* Whether p[0, n) holds a or b (each four lower-case ASCII letters) in
 * any case. Setting bit 0x20 folds exactly 'A'..'Z' onto 'a'..'z' among
 * the bytes that can then equal a letter, so the compare is exact. */
static inline int wd_has_word4_ci(const char *p, size_t n, const char a[4],
				  const char b[4])
{
	size_t i = 0;
	uint32_t wa, wb, w;

#if WD_HAVE_SSE2
	const __m128i fold = _mm_set1_epi8(0x20);

	for (; i + 19 <= n; i += 16) {
		__m128i ma = _mm_set1_epi8(-1), mb = ma;
		int k;

		for (k = 0; k < 4; k++) {
			__m128i x = _mm_or_si128(_mm_loadu_si128(
				(const __m128i *)(const void *)(p + i + k)), fold);

			ma = _mm_and_si128(ma, _mm_cmpeq_epi8(x,
				_mm_set1_epi8(a[k])));
			mb = _mm_and_si128(mb, _mm_cmpeq_epi8(x,
				_mm_set1_epi8(b[k])));
		}
		if (_mm_movemask_epi8(_mm_or_si128(ma, mb)))
			return 1;
	}
#endif
	memcpy(&wa, a, 4);
	memcpy(&wb, b, 4);
	for (; i + 4 <= n; i++) {
		memcpy(&w, p + i, 4);
		w |= 0x20202020u;
		if (w == wa || w == wb)
			return 1;
	}
	return 0;
}

#endif
