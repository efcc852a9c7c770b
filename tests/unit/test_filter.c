/* test_filter.c - the entries.list filter pull generates (issue 5,
 * "Request and filter"): explicit time bounds, the chosen audit logs, the
 * principals, a failure selection that keeps codes 2, 3, 9 and
 * message-only statuses, every clause parenthesised, values quoted and
 * escaped, at most 20,000 characters, --filter ANDed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whydenied/filter.h"

static struct wd_filter_spec spec(void)
{
	struct wd_filter_spec s;

	memset(&s, 0, sizeof(s));
	s.from = "2026-11-27T10:00:00Z";
	s.to = "2026-11-27T11:00:00Z";
	s.logs = WD_LOG_ACTIVITY | WD_LOG_DATA_ACCESS | WD_LOG_POLICY;
	return s;
}

static char *build(const struct wd_filter_spec *s, int *ret)
{
	struct wd_buf b;
	struct wd_err err;

	wd_buf_init(&b, 1u << 20);
	wd_err_clear(&err);
	*ret = wd_filter_build(&b, s, &err);
	if (*ret < 0) {
		wd_buf_release(&b);
		return strdup(err.msg);
	}
	return wd_buf_detach(&b, NULL);
}

static void test_default_exact(void **state)
{
	struct wd_filter_spec s = spec();
	int ret;
	char *f = build(&s, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_string_equal(f,
		"(timestamp>=\"2026-11-27T10:00:00Z\")\n"
		"AND (timestamp<=\"2026-11-27T11:00:00Z\")\n"
		"AND (log_id(\"cloudaudit.googleapis.com/activity\") OR "
		"log_id(\"cloudaudit.googleapis.com/data_access\") OR "
		"log_id(\"cloudaudit.googleapis.com/policy\"))\n"
		"AND (protoPayload.status.code!=0 OR "
		"protoPayload.status.message:*)");
	free(f);
}

/* The failure clause keeps every non-zero code (2: IAM logged as UNKNOWN,
 * 3: quota / invalid argument, 9: organization policy) and statuses with
 * a message but no code; it never uses NOT (NOT of a missing field is
 * TRUE, which would select every success) nor a single code. */
static void test_failure_selection(void **state)
{
	struct wd_filter_spec s = spec();
	int ret;
	char *f = build(&s, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_non_null(strstr(f, "protoPayload.status.code!=0"));
	assert_non_null(strstr(f, "protoPayload.status.message:*"));
	assert_null(strstr(f, "NOT"));
	assert_null(strstr(f, "status.code=7"));
	assert_null(strstr(f, "status.code=0"));
	free(f);
}

/* Every line is one parenthesised clause, joined by uppercase AND. */
static void test_every_clause_parenthesised(void **state)
{
	static const char *const who[] = {
		"tf@acme.iam.gserviceaccount.com",
		"principal://iam.googleapis.com/projects/1/locations/global/"
		"workloadIdentityPools/ci/subject/repo:acme/infra",
	};
	struct wd_filter_spec s = spec();
	char *f, *line, *nl;
	int ret, n = 0;

	(void)state;
	s.principals = who;
	s.nprincipals = 2;
	s.logs |= WD_LOG_SYSTEM_EVENT;
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	for (line = f; line; line = nl ? nl + 1 : NULL, n++) {
		size_t len;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		len = strlen(line);

		if (n > 0) {
			assert_true(strncmp(line, "AND (", 5) == 0);
			line += 4;
			len -= 4;
		}
		assert_int_equal(line[0], '(');
		assert_int_equal(line[len - 1], ')');
		assert_null(strstr(line, " and "));
		assert_null(strstr(line, " or "));
	}
	assert_int_equal(n, 5);
	free(f);
}

static void test_principals(void **state)
{
	static const char *const who[] = {
		"a@x.iam.gserviceaccount.com",
		"principalSet://iam.googleapis.com/projects/1/x",
		"dev@example.com",
	};
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	s.principals = who;
	s.nprincipals = 3;
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(f,
		"\nAND (protoPayload.authenticationInfo.principalEmail="
		"\"a@x.iam.gserviceaccount.com\" OR "
		"protoPayload.authenticationInfo.principalSubject="
		"\"principalSet://iam.googleapis.com/projects/1/x\" OR "
		"protoPayload.authenticationInfo.principalEmail="
		"\"dev@example.com\")"));
	free(f);
}

static void test_quote_escapes(void **state)
{
	struct wd_buf b;
	struct wd_err err;

	(void)state;
	wd_buf_init(&b, 1024);
	assert_int_equal(wd_filter_quote(&b, "a\"b\\c (d) OR e", &err), 0);
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c (d) OR e\"");
	wd_buf_clear(&b);
	assert_int_equal(wd_filter_quote(&b, "x\ny", &err), WD_EUSAGE);
	wd_buf_release(&b);
}

static void test_quoted_principal_cannot_escape(void **state)
{
	static const char *const who[] = { "x\") OR (severity>=DEFAULT" };
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	s.principals = who;
	s.nprincipals = 1;
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(f, "principalEmail=\"x\\\") OR "
			       "(severity>=DEFAULT\")"));
	free(f);
}

static void test_extra_anded_on_own_lines(void **state)
{
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	s.extra = "protoPayload.serviceName=\"compute.googleapis.com\" "
		  "-- only compute (and more)";
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	/* A trailing comment cannot swallow the closing parenthesis. */
	assert_non_null(strstr(f, "\nAND (\nprotoPayload.serviceName="
			       "\"compute.googleapis.com\" -- only compute "
			       "(and more)\n)"));
	assert_int_equal(f[strlen(f) - 1], ')');
	free(f);
	s.extra = "   \n";
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	assert_null(strstr(f, "\nAND (\n"));
	free(f);
}

static void test_extra_checked(void **state)
{
	static const struct {
		const char *expr;
		int ok;
	} cases[] = {
		{ "a=\"b\"", 1 },
		{ "(a OR b) AND c", 1 },
		{ "resource.labels.x=\"(\"", 1 },
		{ "a=1 -- unbalanced ( in a comment", 1 },
		{ "a=\"esc \\\" )\"", 1 },
		{ "a) OR (b", 0 },
		{ "(a", 0 },
		{ "a)", 0 },
		{ "a=\"open", 0 },
	};
	struct wd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = wd_filter_check_expr(cases[i].expr, &err);

		if (cases[i].ok != (r == 0))
			fail_msg("'%s': expected %s", cases[i].expr,
				 cases[i].ok ? "accepted" : "refused");
	}
}

static void test_bad_extra_refused(void **state)
{
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	s.extra = "a) OR (b";
	f = build(&s, &ret);
	assert_int_equal(ret, WD_EUSAGE);
	assert_non_null(strstr(f, "--filter"));
	free(f);
}

static void test_limit(void **state)
{
	static char big[30000];
	static const char *who[200];
	struct wd_filter_spec s = spec();
	int ret;
	size_t i;
	char *f;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	s.extra = big;
	f = build(&s, &ret);
	assert_int_equal(ret, WD_ELIMIT);
	assert_non_null(strstr(f, "20000"));
	free(f);
	/* Just under the limit is fine, and the result never passes it. */
	s.extra = NULL;
	for (i = 0; i < 200; i++)
		who[i] = "someone.with.a.long.name@a-project.iam."
			 "gserviceaccount.com";
	s.principals = who;
	s.nprincipals = 200;
	f = build(&s, &ret);
	if (ret == 0)
		assert_true(strlen(f) <= WD_FILTER_MAX);
	else
		assert_int_equal(ret, WD_ELIMIT);
	free(f);
	s.nprincipals = 150;
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	assert_true(strlen(f) <= WD_FILTER_MAX);
	free(f);
}

static void test_logs(void **state)
{
	struct wd_err err;
	unsigned bits = 0;
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	assert_int_equal(wd_filter_parse_logs(&bits, "activity,data_access,"
					      "policy", &err), 0);
	assert_int_equal(bits, WD_LOG_ACTIVITY | WD_LOG_DATA_ACCESS |
			 WD_LOG_POLICY);
	assert_int_equal(wd_filter_parse_logs(&bits, " system_event ,"
					      "access_transparency", &err), 0);
	assert_int_equal(bits, WD_LOG_SYSTEM_EVENT |
			 WD_LOG_ACCESS_TRANSPARENCY);
	assert_int_equal(wd_filter_parse_logs(&bits, "activity,bogus", &err),
			 WD_EUSAGE);
	assert_non_null(strstr(err.msg, "'bogus'"));
	assert_int_equal(wd_filter_parse_logs(&bits, ",", &err), WD_EUSAGE);
	s.logs = WD_LOG_SYSTEM_EVENT;
	f = build(&s, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(f, "AND (log_id(\"cloudaudit.googleapis.com/"
			       "system_event\"))\n"));
	assert_null(strstr(f, "activity"));
	free(f);
}

static void test_needs_window(void **state)
{
	struct wd_filter_spec s = spec();
	int ret;
	char *f;

	(void)state;
	s.to = NULL;
	f = build(&s, &ret);
	assert_int_equal(ret, WD_EUSAGE);
	free(f);
}

static void test_resources(void **state)
{
	static const char *const good[] = {
		"projects/acme-prod", "organizations/123456789",
		"folders/42", "billingAccounts/0A1B2C-3D4E5F-6A7B8C",
		"projects/p/locations/global/buckets/_Default/views/_AllLogs",
		"organizations/1/locations/eu/buckets/b/views/v",
	};
	static const char *const bad[] = {
		"acme-prod", "projects/", "projects/a/b", "project/x",
		"projects/a b", "projects/p/locations/global/buckets/b",
		"projects/p/locations/l/buckets/b/views/v/extra",
		"projects/p?x", "projects/\"p",
	};
	struct wd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (wd_filter_check_resource(good[i], &err) != 0)
			fail_msg("'%s' refused: %s", good[i], err.msg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wd_filter_check_resource(bad[i], &err) != WD_EUSAGE)
			fail_msg("'%s' accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_exact),
		cmocka_unit_test(test_failure_selection),
		cmocka_unit_test(test_every_clause_parenthesised),
		cmocka_unit_test(test_principals),
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_quoted_principal_cannot_escape),
		cmocka_unit_test(test_extra_anded_on_own_lines),
		cmocka_unit_test(test_extra_checked),
		cmocka_unit_test(test_bad_extra_refused),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_needs_window),
		cmocka_unit_test(test_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
