/* test_lite.c - the success prefilter (whydenied/lite.h): its fast path
 * (a structural index of 64-byte stretches and a token walk) must agree
 * with the byte walker on every input, in answer, end, newline count and
 * fields; and both must accept only plain successes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lite_agree.h"

/* The walker's answer over p[0, n), after checking both fast paths
 * agree with it (lite_agree.h). */
static enum wd_lite_result agree_n(const char *p, size_t n, size_t *end,
				   uint64_t *nl)
{
	enum wd_lite_result r;
	size_t e;
	uint64_t l;
	const char *why = lite_disagree(p, n, &r, &e, &l);

	if (why)
		fail_msg("%s differs on: %.*s", why, (int)n, p);
	if (r == WD_LITE_SUCCESS) {
		if (end)
			*end = e;
		if (nl)
			*nl = l;
	}
	return r;
}

static enum wd_lite_result agree(const char *s)
{
	return agree_n(s, strlen(s), NULL, NULL);
}

static const char base_entry[] =
	"{\"insertId\":\"abc\",\"logName\":\"projects/p/logs/"
	"cloudaudit.googleapis.com%2Fdata_access\",\"protoPayload\":{"
	"\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\","
	"\"authenticationInfo\":{\"principalEmail\":\"bob@example.com\"},"
	"\"authorizationInfo\":[{\"granted\":true,\"permission\":"
	"\"storage.objects.get\",\"resource\":\"projects/_/buckets/b\","
	"\"resourceAttributes\":{}},{\"permission\":\"x.y.z\"}],"
	"\"methodName\":\"storage.objects.get\",\"request\":{\"n\":[1,-2.5e3,"
	"true,false,null,{\"code\":5,\"status\":\"x\"}]},\"status\":{}},"
	"\"severity\":\"INFO\",\"timestamp\":\"2026-11-26T00:00:00Z\"}";

static void test_success_fields(void **state)
{
	struct wd_entry e;
	size_t end = 0;
	uint64_t nl = 1;
	struct wd_str v;
	size_t pos = 0;

	(void)state;
	assert_int_equal(agree_n(base_entry, strlen(base_entry), &end, &nl),
			 WD_LITE_SUCCESS);
	assert_int_equal(end, strlen(base_entry));
	assert_int_equal(nl, 0);
	assert_int_equal(wd_lite_decode(base_entry, strlen(base_entry), &e,
					&end), WD_LITE_SUCCESS);
	v = wd_entry_get(&e, WD_F_PRINCIPAL);
	assert_true(wd_str_eq(v, "bob@example.com"));
	v = wd_entry_get(&e, WD_F_METHOD);
	assert_true(wd_str_eq(v, "storage.objects.get"));
	v = wd_entry_get(&e, WD_F_LOG);
	assert_true(wd_str_eq(v, "data_access"));
	/* Two authorization items, the second with no grant. */
	assert_true(wd_entry_next(&e, WD_F_AUTHZ_GRANTED, NULL, 0, &pos, &v));
	assert_true(wd_str_eq(v, "true"));
	assert_true(wd_entry_next(&e, WD_F_AUTHZ_GRANTED, NULL, 0, &pos, &v));
	assert_true(wd_str_eq(v, "absent"));
}

static void test_failures_defer(void **state)
{
	(void)state;
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":{\"code\":7}}}"), WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":{\"message\":\"denied\"}}}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":{\"code\":0,\"message\":\"OK\"}}}"),
			 WD_LITE_SUCCESS);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":\"PERMISSION_DENIED\"}}"),
			 WD_LITE_SUCCESS);	/* not a Status: ignored */
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":{},\"status\":{}}}"), WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"error\":{}}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"entries\":[],\"timestamp\":\"t\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"timestamp\":\"u\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"severity\":\"INFO\"}"), WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"authorizationInfo\":[{\"granted\":1}]}}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"authorizationInfo\":[\"x\"]}}"),
			 WD_LITE_DEFER);
}

/* Escapes, non-ASCII and control bytes leave the fast path: the walker
 * answers (and must give the same fields). */
static void test_odd_bytes(void **state)
{
	(void)state;
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"a\\\"b\\u00e9\"}"),
			 WD_LITE_SUCCESS);
	assert_int_equal(agree("{\"timestamp\":\"t\\n\"}"), WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"\xc3\xa9\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"a\tb\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"a\nb\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\x01\"x\":1}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":1}\x01"),
			 WD_LITE_SUCCESS);	/* after the end: not looked at */
}

static void test_bad_syntax(void **state)
{
	static const char *const bad[] = {
		"{\"timestamp\":\"t\",}",
		"{\"timestamp\":\"t\" \"x\":1}",
		"{\"timestamp\" \"t\"}",
		"{\"timestamp\":\"t\",\"x\":[1,]}",
		"{\"timestamp\":\"t\",\"x\":[1 2]}",
		"{\"timestamp\":\"t\",\"x\":tru}",
		"{\"timestamp\":\"t\",\"x\":truex}",
		"{\"timestamp\":\"t\",\"x\":01}",
		"{\"timestamp\":\"t\",\"x\":1.}",
		"{\"timestamp\":\"t\",\"x\":-}",
		"{\"timestamp\":\"t\",\"x\":1e}",
		"{\"timestamp\":\"t\",\"x\":[}",
		"{\"timestamp\":\"t\",\"x\":{]}",
		"{\"timestamp\":\"t\",\"x\":{\"a\"}}",
		"{\"timestamp\":\"t\",\"x\":\"a\"1}",
		"{\"timestamp\":\"t\",\"x\":@}",
		"{\"timestamp\":\"t\",1:2}",
		"{\"timestamp\":\"t\"",
		"{\"timestamp\":\"t",
		"[{\"timestamp\":\"t\"}]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (agree(bad[i]) != WD_LITE_DEFER)
			fail_msg("accepted: %s", bad[i]);
}

/* Pretty JSON: blanks, tabs, CR LF; the newlines inside are counted, and
 * the leading ones too. */
static void test_pretty(void **state)
{
	const char *s = "\n  {\r\n\t\"timestamp\" : \"t\" ,\n  \"protoPayload\""
			": {\n    \"status\": { } ,\n    \"authorizationInfo\":"
			" [ { \"granted\" : true } ]\n  }\n}\n,";
	size_t end = 0;
	uint64_t nl = 0;

	(void)state;
	assert_int_equal(agree_n(s, strlen(s), &end, &nl), WD_LITE_SUCCESS);
	assert_int_equal(end, strlen(s) - 2);
	assert_int_equal(nl, 7);
}

/* Every place a string, number, literal or structure byte can fall
 * relative to the 64-byte stretches. */
static void test_stretch_edges(void **state)
{
	char buf[1024];
	size_t pad;

	(void)state;
	for (pad = 0; pad < 200; pad++) {
		int len = snprintf(buf, sizeof(buf),
				   "{\"pad\":\"%.*s\",\"n\":123456789,\"b\":true,"
				   "\"timestamp\":\"2026-11-26T00:00:00Z\","
				   "\"protoPayload\":{\"status\":{\"code\":0},"
				   "\"methodName\":\"m\",\"x\":[[],{},\"\",-0.5E+2]}}",
				   (int)pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		size_t end = 0, cut;

		assert_int_equal(agree_n(buf, (size_t)len, &end, NULL),
				 WD_LITE_SUCCESS);
		assert_int_equal(end, (size_t)len);
		/* Every prefix is incomplete. */
		for (cut = 0; cut < (size_t)len; cut += 7)
			assert_int_equal(agree_n(buf, cut, NULL, NULL),
					 WD_LITE_DEFER);
	}
}

/* Escapes: checked like the walker, at every place relative to the
 * stretches; a quote escaped is no quote. */
static void test_escapes(void **state)
{
	static const char *const esc[] = {
		"\\\"", "\\\\", "\\\\\\\"", "\\u00e9", "\\/", "\\n\\t",
		"\\\\\\\\\\\"\\\"",
	};
	char buf[512];
	size_t pad, j;

	(void)state;
	for (j = 0; j < sizeof(esc) / sizeof(esc[0]); j++) {
		for (pad = 0; pad < 140; pad++) {
			int len = snprintf(buf, sizeof(buf),
					   "{\"pad\":\"%.*s%s\",\"timestamp\":\"t\","
					   "\"x\":[\"%s\",{\"k\":1}]}", (int)pad,
					   "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
					   "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
					   "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
					   esc[j], esc[j]);
			size_t end = 0;

			assert_int_equal(agree_n(buf, (size_t)len, &end, NULL),
					 WD_LITE_SUCCESS);
			assert_int_equal(end, (size_t)len);
		}
	}
	/* Where the walker defers: an escaped key, a kept value. */
	assert_int_equal(agree("{\"timestamp\":\"t\",\"a\\u0062\":1}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\\u0031\"}"), WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":{\"message\":\"O\\u004b\"}}}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"protoPayload\":{"
			       "\"status\":\"a\\\"b\"}}"), WD_LITE_SUCCESS);
	/* Bad escapes. */
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"\\x\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"\\u12g4\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"\\u12\"}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":1\\}"),
			 WD_LITE_DEFER);
	assert_int_equal(agree("{\"timestamp\":\"t\",\"x\":\"\\"),
			 WD_LITE_DEFER);
}

/* Nesting: 64 levels are accepted, 65 are the decoder's. */
static void test_depth(void **state)
{
	char buf[512];
	int levels, i, k;

	(void)state;
	for (levels = 63; levels <= 65; levels++) {
		k = snprintf(buf, sizeof(buf), "{\"timestamp\":\"t\",\"x\":");
		for (i = 1; i < levels; i++)
			buf[k++] = '[';
		for (i = 1; i < levels; i++)
			buf[k++] = ']';
		buf[k++] = '}';
		buf[k] = '\0';
		assert_int_equal(agree(buf), levels <= 64 ? WD_LITE_SUCCESS :
				 WD_LITE_DEFER);
	}
}

/* Containers where no kept field can be (request bodies, labels...) are
 * skipped by a loop of their own: the same grammar, the same answers. */
static void test_skipped(void **state)
{
	static const struct {
		const char *s;
		enum wd_lite_result want;
	} cases[] = {
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":{},\"b\":[],\"c\":[{}],"
		  "\"d\":[[]],\"e\":{\"f\":[1,{\"g\":null}]}}}",
		  WD_LITE_SUCCESS },
		{ "{\"timestamp\":\"t\",\"x\":[{\"a\":[\"s\",-1.5e2,true]},{}],"
		  "\"protoPayload\":{\"status\":{\"code\":0}}}", WD_LITE_SUCCESS },
		/* An escaped value is fine; an escaped key defers, as the
		 * walker does. */
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":\"v\\\"w\"}}",
		  WD_LITE_SUCCESS },
		{ "{\"timestamp\":\"t\",\"x\":{\"a\\u0062\":1}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":1]}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":[1}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":1,}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":[,1]}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":1 \"b\":2}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":{\"a\" 1}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":{1:2}}", WD_LITE_DEFER },
		{ "{\"timestamp\":\"t\",\"x\":[{\"a\":[1,2],}]}", WD_LITE_DEFER },
		/* After a skipped container the walk goes on where it was. */
		{ "{\"timestamp\":\"t\",\"x\":{\"a\":{\"b\":[true,false]}},"
		  "\"protoPayload\":{\"status\":{\"code\":7}}}", WD_LITE_DEFER },
		{ "{\"protoPayload\":{\"request\":{\"status\":{\"code\":7}},"
		  "\"status\":{\"code\":0}},\"timestamp\":\"t\"}",
		  WD_LITE_SUCCESS },
	};
	char buf[1024];
	size_t i;
	int k, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (agree(cases[i].s) != cases[i].want)
			fail_msg("case %zu: %s", i, cases[i].s);
	/* Skipped containers across stretch edges: every offset of the
	 * nesting against the 64-byte stretches. */
	for (j = 0; j < 70; j++) {
		k = snprintf(buf, sizeof(buf), "{\"timestamp\":\"t\",\"x\":"
			     "{\"%.*s\":[{\"a\":[1,{}]},[],\"%.*s\"],\"b\":"
			     "{\"c\":{\"d\":null}}},\"y\":1}", j,
			     "................................................"
			     "..........................", 70 - j,
			     "................................................"
			     "..........................");
		assert_true(k > 0 && (size_t)k < sizeof(buf));
		assert_int_equal(agree(buf), WD_LITE_SUCCESS);
	}
}

/* Every single-byte change of a real entry, to every byte that means
 * something to JSON: the two paths agree. */
static void test_mutations(void **state)
{
	static const char subst[] = "{}[]:,\"\\ \n\t0-9aetx\x01\x80";
	size_t n = strlen(base_entry), i, j;
	char *buf = malloc(n + 1);

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(subst) - 1; j++) {
			memcpy(buf, base_entry, n + 1);
			buf[i] = subst[j];
			agree_n(buf, n, NULL, NULL);
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_fields),
		cmocka_unit_test(test_failures_defer),
		cmocka_unit_test(test_odd_bytes),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_stretch_edges),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
