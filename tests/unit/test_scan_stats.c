/* test_scan_stats.c - the failure definition (docs/record.md "Failure",
 * issue 2) on the success traps, and the scanner's counts.
 *
 * An entry is a failure when status.code is present and non-zero, or when
 * status has a message other than empty or "OK" and no code. No status,
 * {}, {"code":0}, {"message":"OK"} are successes, whatever granted or
 * policyViolationInfo say.
 *
 * Every trap is checked three ways: wd_decoder_decode() directly, and the
 * scanner with and without its success prefilter (WHYDENIED_PREFILTER=0);
 * the two scanner modes must also agree on the fields a success carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whydenied/decoder.h"
#include "whydenied/entry.h"
#include "whydenied/scan.h"

#define LN "\"logName\":\"projects/p/logs/" \
	"cloudaudit.googleapis.com%2Factivity\""
#define AZ_FALSE "\"authorizationInfo\":[{\"permission\":\"x.y.z\"," \
	"\"resource\":\"projects/p\",\"granted\":false}]"
#define PVI "\"policyViolationInfo\":{\"orgPolicyViolationInfo\":{" \
	"\"violationInfo\":[{\"constraint\":" \
	"\"constraints/gcp.resourceLocations\"," \
	"\"errorMessage\":\"no\",\"policyType\":\"BOOLEAN_CONSTRAINT\"}]}}"
#define EI "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc." \
	"ErrorInfo\",\"reason\":\"IAM_PERMISSION_DENIED\",\"domain\":" \
	"\"iam.googleapis.com\",\"metadata\":{\"permission\":\"x.y.z\"}}]"

/* An entry with insertId id, timestamp ts and protoPayload members pp. */
#define E(id, ts, pp) "{\"insertId\":\"" id "\",\"timestamp\":\"" ts "\"," \
	LN ",\"protoPayload\":{\"methodName\":\"m." id "\"," \
	"\"authenticationInfo\":{\"principalEmail\":\"u@example.com\"}" pp "}}"

struct trap {
	const char *name;
	const char *json;
	bool failure;
};

static const struct trap traps[] = {
	/* Successes. */
	{ "no status", E("s01", "2026-11-26T10:00:01Z", ""), false },
	{ "status {}", E("s02", "2026-11-26T10:00:02Z", ",\"status\":{}"),
	  false },
	{ "code 0", E("s03", "2026-11-26T10:00:03Z",
		      ",\"status\":{\"code\":0}"), false },
	{ "message OK", E("s04", "2026-11-26T10:00:04Z",
			  ",\"status\":{\"message\":\"OK\"}"), false },
	{ "empty message", E("s05", "2026-11-26T10:00:05Z",
			     ",\"status\":{\"message\":\"\"}"), false },
	{ "code 0 message OK", E("s06", "2026-11-26T10:00:06Z",
				 ",\"status\":{\"code\":0,\"message\":\"OK\"}"),
	  false },
	{ "code 0 with a message", E("s07", "2026-11-26T10:00:07Z",
	  ",\"status\":{\"code\":0,\"message\":\"operation done\"}"), false },
	{ "granted false, no status", E("s08", "2026-11-26T10:00:08Z",
					"," AZ_FALSE), false },
	{ "granted false, status {}", E("s09", "2026-11-26T10:00:09Z",
	  "," AZ_FALSE ",\"status\":{}"), false },
	{ "granted false, code 0", E("s10", "2026-11-26T10:00:10Z",
	  "," AZ_FALSE ",\"status\":{\"code\":0}"), false },
	{ "empty policyViolationInfo", E("s11", "2026-11-26T10:00:11Z",
	  ",\"policyViolationInfo\":{}"), false },
	{ "empty orgPolicyViolationInfo", E("s12", "2026-11-26T10:00:12Z",
	  ",\"policyViolationInfo\":{\"orgPolicyViolationInfo\":{}}"), false },
	{ "policy violation, code 0", E("s13", "2026-11-26T10:00:13Z",
	  "," PVI ",\"status\":{\"code\":0}"), false },
	{ "empty details", E("s14", "2026-11-26T10:00:14Z",
			     ",\"status\":{\"details\":[]}"), false },
	{ "message OK with details", E("s15", "2026-11-26T10:00:15Z",
	  ",\"status\":{\"message\":\"OK\"," EI "}"), false },
	{ "code 0.0", E("s16", "2026-11-26T10:00:16Z",
			",\"status\":{\"code\":0.0}"), false },
	{ "code -0", E("s17", "2026-11-26T10:00:17Z",
		       ",\"status\":{\"code\":-0}"), false },
	/* Failures. */
	{ "code 7", E("f01", "2026-11-26T09:00:01Z",
		      ",\"status\":{\"code\":7}"), true },
	{ "code 7 message", E("f02", "2026-11-26T11:00:02Z",
	  ",\"status\":{\"code\":7,\"message\":\"denied\"}"), true },
	{ "message only", E("f03", "2026-11-26T10:30:03Z",
	  ",\"status\":{\"message\":\"ZONE_RESOURCE_POOL_EXHAUSTED\"}"), true },
	{ "code 9 message OK", E("f04", "2026-11-26T10:30:04Z",
	  ",\"status\":{\"code\":9,\"message\":\"OK\"}"), true },
	{ "code 3 empty message", E("f05", "2026-11-26T10:30:05Z",
	  ",\"status\":{\"code\":3,\"message\":\"\"}"), true },
	{ "message and details, no code", E("f06", "2026-11-26T10:30:06Z",
	  ",\"status\":{\"message\":\"denied\"," EI "}"), true },
	{ "granted false with code 7", E("f07", "2026-11-26T10:30:07Z",
	  "," AZ_FALSE ",\"status\":{\"code\":7}"), true },
	{ "policy violation with code 9", E("f08", "2026-11-26T10:30:08Z",
	  "," PVI ",\"status\":{\"code\":9}"), true },
	{ "lowercase ok is not OK", E("f09", "2026-11-26T10:30:09Z",
	  ",\"status\":{\"message\":\"ok\"}"), true },
	{ "status after other members", "{\"protoPayload\":{\"status\":"
	  "{\"code\":5},\"methodName\":\"m.f10\"},\"insertId\":\"f10\","
	  "\"timestamp\":\"2026-11-26T10:30:10Z\"," LN "}", true },
	{ "REST error body", "{\"error\":{\"code\":403,\"message\":\"The "
	  "caller does not have permission\",\"status\":"
	  "\"PERMISSION_DENIED\"}}",
	  true },
};

#define NTRAPS (sizeof(traps) / sizeof(traps[0]))

static void test_decoder_traps(void **state)
{
	struct wd_decoder *dec = wd_decoder_new();
	struct wd_entry *e = malloc(sizeof(*e));
	size_t i;
	int bad = 0;

	(void)state;
	assert_non_null(e);
	for (i = 0; i < NTRAPS; i++) {
		struct wd_err err;
		enum wd_skip why;
		struct wd_str f;

		wd_err_clear(&err);
		if (wd_decoder_decode(dec, traps[i].json,
				      strlen(traps[i].json), e, &why,
				      &err) < 0) {
			print_error("decoder: '%s' does not decode: %s\n",
				    traps[i].name, err.msg);
			bad++;
			continue;
		}
		f = wd_entry_get(e, WD_F_FAILURE);
		if (e->failure != traps[i].failure ||
		    !wd_str_eq(f, traps[i].failure ? "true" : "false")) {
			print_error("decoder: '%s' is a %s, expected a %s\n",
				    traps[i].name,
				    e->failure ? "failure" : "success",
				    traps[i].failure ? "failure" : "success");
			bad++;
		}
	}
	free(e);
	wd_decoder_free(dec);
	if (bad)
		fail_msg("%d trap(s) misclassified by the decoder", bad);
}

/* What one scanner run saw. */
struct run {
	char id[NTRAPS][32];
	bool failure[NTRAPS];
	char fields[NTRAPS][1024];	/* the success fields, for diffing */
	size_t n;
};

static void fmt_field(char *out, size_t cap, size_t *len,
		      const struct wd_entry *e, enum wd_field f)
{
	size_t pos = 0;
	struct wd_str s;

	while (wd_entry_next(e, f, NULL, 0, &pos, &s) && *len < cap)
		*len += (size_t)snprintf(out + *len, cap - *len, "%s=%.*s|",
					 wd_field_name(f), (int)s.len, s.ptr);
}

static int on_entry(void *ctx, struct wd_entry *e)
{
	struct run *r = ctx;
	struct wd_str id = wd_entry_get(e, WD_F_INSERT_ID);
	static const enum wd_field kept[] = {
		WD_F_TIMESTAMP, WD_F_INSERT_ID, WD_F_LOG_NAME, WD_F_LOG,
		WD_F_METHOD, WD_F_PRINCIPAL, WD_F_FAILURE, WD_F_SOURCE,
	};
	size_t i, len = 0;

	if (r->n >= NTRAPS)
		return -1;
	snprintf(r->id[r->n], sizeof(r->id[r->n]), "%.*s", (int)id.len,
		 id.ptr ? id.ptr : "");
	r->failure[r->n] = e->failure;
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		fmt_field(r->fields[r->n], sizeof(r->fields[r->n]), &len, e,
			  kept[i]);
	r->n++;
	return 0;
}

static const struct wd_scan_ops ops = { .on_entry = on_entry };

static char *ndjson(size_t *n)
{
	size_t cap = 1, i, len = 0;
	char *p;

	for (i = 0; i < NTRAPS; i++)
		cap += strlen(traps[i].json) + 1;
	p = malloc(cap);
	assert_non_null(p);
	for (i = 0; i < NTRAPS; i++)
		len += (size_t)snprintf(p + len, cap - len, "%s\n",
					traps[i].json);
	*n = len;
	return p;
}

static void scan_traps(struct run *r, bool prefilter)
{
	struct wd_scanner *s;
	const struct wd_scan_stats *st;
	struct wd_err err;
	size_t n, i, nf = 0;
	char *in = ndjson(&n);
	const char *mode = prefilter ? "prefilter" : "WHYDENIED_PREFILTER=0";
	int bad = 0;

	memset(r, 0, sizeof(*r));
	if (prefilter)
		unsetenv("WHYDENIED_PREFILTER");
	else
		setenv("WHYDENIED_PREFILTER", "0", 1);
	s = wd_scanner_new(&ops, r);
	unsetenv("WHYDENIED_PREFILTER");
	wd_err_clear(&err);
	assert_int_equal(wd_scan_mem(s, "traps.jsonl", in, n, &err), 0);
	st = wd_scanner_stats(s);
	assert_int_equal(r->n, NTRAPS);
	for (i = 0; i < NTRAPS; i++) {
		nf += traps[i].failure;
		if (r->failure[i] != traps[i].failure) {
			print_error("%s: '%s' (%s) is a %s, expected a %s\n",
				    mode, traps[i].name, r->id[i],
				    r->failure[i] ? "failure" : "success",
				    traps[i].failure ? "failure" : "success");
			bad++;
		}
	}
	if (st->entries != NTRAPS || st->failures != nf ||
	    st->successes != NTRAPS - nf || st->skipped != 0) {
		print_error("%s: entries %llu failures %llu successes %llu "
			    "skipped %llu; expected %zu/%zu/%zu/0\n", mode,
			    (unsigned long long)st->entries,
			    (unsigned long long)st->failures,
			    (unsigned long long)st->successes,
			    (unsigned long long)st->skipped, NTRAPS, nf,
			    NTRAPS - nf);
		bad++;
	}
	if (st->ninputs != 1 || st->inputs[0].entries != NTRAPS ||
	    st->inputs[0].failures != nf || st->inputs[0].bytes != n) {
		print_error("%s: per-input counts wrong\n", mode);
		bad++;
	}
	/* The earliest and latest timestamps of the traps. */
	if (!st->first_ts || strcmp(st->first_ts, "2026-11-26T09:00:01Z") ||
	    !st->last_ts || strcmp(st->last_ts, "2026-11-26T11:00:02Z")) {
		print_error("%s: time range '%s'..'%s'\n", mode,
			    st->first_ts ? st->first_ts : "(null)",
			    st->last_ts ? st->last_ts : "(null)");
		bad++;
	}
	wd_scanner_free(s);
	free(in);
	if (bad)
		fail_msg("%s: %d check(s) failed", mode, bad);
}

static void test_scanner_traps_prefilter(void **state)
{
	struct run *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	scan_traps(r, true);
	free(r);
}

static void test_scanner_traps_full(void **state)
{
	struct run *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	scan_traps(r, false);
	free(r);
}

/* The prefilter must give a success the same fields the full decoder
 * does (whydenied/lite.h): timestamp, insert_id, log_name, log, method,
 * principal, failure - and the scanner's source. */
static void test_prefilter_same_fields(void **state)
{
	struct run *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	size_t i;
	int bad = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	scan_traps(a, true);
	scan_traps(b, false);
	for (i = 0; i < NTRAPS; i++) {
		if (strcmp(a->fields[i], b->fields[i]) != 0) {
			print_error("'%s': prefilter gave\n    %s\n  full "
				    "decoder gave\n    %s\n", traps[i].name,
				    a->fields[i], b->fields[i]);
			bad++;
		}
	}
	free(a);
	free(b);
	/* Regression (fixed): the scanner's prefilter path (decode_one() in
	 * src/input/scan.c, the wd_lite_decode() branch; used by the
	 * single-threaded and the worker-thread paths) returns before the
	 * "source" field (FILE:LINE) is added, so successes taken by the
	 * prefilter have no source while WHYDENIED_PREFILTER=0 gives them
	 * one. */
	if (bad)
		fail_msg("%d success(es) differ between prefilter and full "
			 "decoder (known bug: missing source)", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_traps),
		cmocka_unit_test(test_scanner_traps_prefilter),
		cmocka_unit_test(test_scanner_traps_full),
		cmocka_unit_test(test_prefilter_same_fields),
	};

	return cmocka_run_group_tests_name("failure_definition", tests, NULL,
					   NULL);
}
