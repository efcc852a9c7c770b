/* lite_agree.h - the check that the prefilter's paths agree, shared by
 * tests/unit/test_lite.c and the decoder fuzzer: the fast path, with AVX2
 * where the CPU has it and without, against the byte walker. */
#ifndef WD_TESTS_LITE_AGREE_H
#define WD_TESTS_LITE_AGREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "whydenied/lite.h"

/* Every field the prefilter fills. */
static const enum wd_field lite_fields[] = {
	WD_F_TIMESTAMP, WD_F_LOG, WD_F_METHOD, WD_F_PRINCIPAL,
	WD_F_AUTHZ_PERMISSION, WD_F_AUTHZ_RESOURCE, WD_F_AUTHZ_GRANTED,
	WD_F_INSERT_ID, WD_F_LOG_NAME, WD_F_FAILURE,
};

static bool lite_same_fields(const struct wd_entry *a,
			     const struct wd_entry *b)
{
	size_t i;

	for (i = 0; i < sizeof(lite_fields) / sizeof(lite_fields[0]); i++) {
		size_t pa = 0, pb = 0;
		struct wd_str x, y;

		for (;;) {
			bool ha = wd_entry_next(a, lite_fields[i], NULL, 0,
						&pa, &x);
			bool hb = wd_entry_next(b, lite_fields[i], NULL, 0,
						&pb, &y);

			if (ha != hb)
				return false;
			if (!ha)
				break;
			if (x.len != y.len || memcmp(x.ptr, y.ptr, x.len) != 0)
				return false;
		}
	}
	return true;
}

/* NULL when both fast paths agree with the walker over p[0, n) in
 * answer, end, newline count and fields, else what differs. The walker's
 * answer goes to *r, and on success its end and newlines to *end, *nl. */
static const char *lite_disagree(const char *p, size_t n,
				 enum wd_lite_result *r, size_t *end,
				 uint64_t *nl)
{
	static struct wd_entry a, b;
	static const enum wd_lite_path fast[] = {
		WD_LITE_PATH_AUTO, WD_LITE_PATH_PORTABLE,
	};
	size_t ea = 0, eb = 0, k;
	uint64_t na = 0, nb = 0;
	enum wd_lite_result ra;

	*r = wd_lite_decode_path(p, n, &b, &eb, &nb, WD_LITE_PATH_WALK);
	*end = eb;
	*nl = nb;
	for (k = 0; k < sizeof(fast) / sizeof(fast[0]); k++) {
		ra = wd_lite_decode_path(p, n, &a, &ea, &na, fast[k]);
		if (ra != *r)
			return k == 0 ? "answer (fast path)" :
					"answer (portable fast path)";
		if (ra != WD_LITE_SUCCESS)
			continue;
		if (ea != eb)
			return "end";
		if (na != nb)
			return "newline count";
		if (!lite_same_fields(&a, &b))
			return "fields";
	}
	return NULL;
}

#endif
