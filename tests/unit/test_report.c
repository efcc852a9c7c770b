/* test_report.c - aggregation, ranking, hints, redaction and the output
 * safety of every printer (issue 4). Self-contained: verdicts are built by
 * hand, so no rule file is involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whydenied/csvout.h"
#include "whydenied/decoder.h"
#include "whydenied/report.h"

struct fx {
	struct wd_config cfg;
	struct wd_decoder *dec;
	struct wd_entry e;
	struct wd_verdict v;
	struct wd_scan_stats st;
	struct wd_agg *agg;
};

static void cfg_defaults(struct wd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->category = -1;
	c->min_level = -1;
	c->fail_on = -1;
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	cfg_defaults(&f->cfg);
	f->dec = wd_decoder_new();
	f->agg = NULL;
}

static void fx_release(struct fx *f)
{
	wd_agg_free(f->agg);
	wd_decoder_free(f->dec);
}

static void var(struct wd_verdict *v, const char *name, const char *val)
{
	v->vars.v[v->vars.n].name = name;
	v->vars.v[v->vars.n].val.ptr = val;
	v->vars.v[v->vars.n].val.len = strlen(val);
	v->vars.n++;
}

/* Decodes json into f->e and adds it as a failure of category cat. */
static void add(struct fx *f, const char *json, enum wd_category cat,
		enum wd_level lvl, const char *subject_var, const char *subj)
{
	enum wd_skip why;
	struct wd_err err;
	struct wd_str p;

	assert_int_equal(wd_decoder_decode(f->dec, json, strlen(json), &f->e,
					   &why, &err), 0);
	memset(&f->v, 0, sizeof(f->v));
	f->v.category = cat;
	f->v.level = lvl;
	p = wd_entry_get(&f->e, WD_F_PRINCIPAL);
	if (p.ptr)
		var(&f->v, "principal", wd_decoder_keep(f->dec, p.ptr, p.len));
	p = wd_entry_get(&f->e, WD_F_PROJECT);
	if (p.ptr)
		var(&f->v, "project", wd_decoder_keep(f->dec, p.ptr, p.len));
	if (subject_var)
		var(&f->v, subject_var, subj);
	if (f->e.failure)
		wd_agg_add(f->agg, &f->e, &f->v);
	else
		wd_agg_success(f->agg, &f->e);
}

#define ENTRY(ts, principal, code, msg, method) \
	"{\"timestamp\":\"" ts "\",\"insertId\":\"i-" ts "\"," \
	"\"logName\":\"projects/p1/logs/cloudaudit.googleapis.com%2Factivity\"," \
	"\"protoPayload\":{\"methodName\":\"" method "\"," \
	"\"authenticationInfo\":{\"principalEmail\":\"" principal "\"}," \
	"\"status\":{\"code\":" #code ",\"message\":\"" msg "\"}}}"

static void test_retries_collapse(void **state)
{
	struct fx f;
	struct wd_report *r;

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	/* Terraform retries one 403 four times: one cause, count 4. */
	add(&f, ENTRY("2026-11-26T10:00:01Z", "tf@p1.iam.gserviceaccount.com",
		      7, "denied", "CreateKey"), WD_CAT_IAM_PERMISSION,
	    WD_LEVEL_HIGH, "permission", "apikeys.keys.create");
	add(&f, ENTRY("2026-11-26T10:00:03Z", "tf@p1.iam.gserviceaccount.com",
		      7, "denied", "CreateKey"), WD_CAT_IAM_PERMISSION,
	    WD_LEVEL_HIGH, "permission", "apikeys.keys.create");
	add(&f, ENTRY("2026-11-26T10:00:07Z", "tf@p1.iam.gserviceaccount.com",
		      7, "denied", "CreateKey"), WD_CAT_IAM_PERMISSION,
	    WD_LEVEL_HIGH, "permission", "apikeys.keys.create");
	add(&f, ENTRY("2026-11-26T10:00:15Z", "tf@p1.iam.gserviceaccount.com",
		      7, "denied", "CreateKey"), WD_CAT_IAM_PERMISSION,
	    WD_LEVEL_HIGH, "permission", "apikeys.keys.create");
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->n, 1);
	assert_int_equal(r->findings[0].count, 4);
	assert_string_equal(r->findings[0].first_seen, "2026-11-26T10:00:01Z");
	assert_string_equal(r->findings[0].last_seen, "2026-11-26T10:00:15Z");
	assert_string_equal(r->findings[0].subject, "apikeys.keys.create");
	assert_int_equal(r->findings[0].examples.n, 4);
	wd_report_free(r);
	fx_release(&f);
}

static void test_blocking_first(void **state)
{
	struct fx f;
	struct wd_report *r;

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	/* Three API-disabled failures (high) and one billing failure
	 * (medium): billing explains them and ranks first. */
	add(&f, ENTRY("2026-11-26T10:00:01Z", "a@b.com", 7, "x", "M1"),
	    WD_CAT_API_DISABLED, WD_LEVEL_HIGH, "disabled_service", "s1");
	add(&f, ENTRY("2026-11-26T10:00:02Z", "a@b.com", 7, "x", "M1"),
	    WD_CAT_API_DISABLED, WD_LEVEL_HIGH, "disabled_service", "s1");
	add(&f, ENTRY("2026-11-26T10:00:03Z", "a@b.com", 7, "x", "M2"),
	    WD_CAT_API_DISABLED, WD_LEVEL_HIGH, "disabled_service", "s2");
	add(&f, ENTRY("2026-11-26T09:00:00Z", "a@b.com", 9, "billing", "E"),
	    WD_CAT_BILLING, WD_LEVEL_MEDIUM, NULL, NULL);
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->n, 3);
	assert_int_equal(r->findings[0].category, WD_CAT_BILLING);
	assert_int_equal(r->findings[0].explains, 3);
	assert_int_equal(r->findings[0].rank, 1);
	/* Then the more frequent API-disabled cause. */
	assert_string_equal(r->findings[1].subject, "s1");
	wd_report_free(r);
	fx_release(&f);
}

static void test_top_and_filters(void **state)
{
	struct fx f;
	struct wd_report *r;

	(void)state;
	fx_init(&f);
	f.cfg.top = 1;
	f.cfg.min_level = WD_LEVEL_HIGH;
	f.agg = wd_agg_new(&f.cfg);
	add(&f, ENTRY("2026-11-26T10:00:01Z", "a@b.com", 7, "x", "M1"),
	    WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, "permission", "p.q.r");
	add(&f, ENTRY("2026-11-26T10:00:02Z", "a@b.com", 8, "x", "M2"),
	    WD_CAT_QUOTA, WD_LEVEL_LOW, "quota_metric", "CPUS");
	add(&f, ENTRY("2026-11-26T10:00:03Z", "c@b.com", 7, "x", "M3"),
	    WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, "permission", "s.t.u");
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->total, 2);	/* the low one filtered */
	assert_int_equal(r->n, 1);	/* --top 1 */
	assert_int_equal(r->filtered_out, 1);
	wd_report_free(r);
	fx_release(&f);
}

static void test_time_window(void **state)
{
	struct fx f;
	struct wd_entry *e;
	enum wd_skip why;
	struct wd_err err;
	const char *in = ENTRY("2026-11-26T10:00:01Z", "a@b.com", 7, "x", "M");
	const char *out = ENTRY("2026-11-25T10:00:01Z", "a@b.com", 7, "x", "M");

	(void)state;
	fx_init(&f);
	f.cfg.from = "2026-11-26T00:00:00Z";
	f.cfg.to = "2026-11-26T23:59:59Z";
	f.agg = wd_agg_new(&f.cfg);
	e = &f.e;
	assert_int_equal(wd_decoder_decode(f.dec, in, strlen(in), e, &why,
					   &err), 0);
	assert_true(wd_agg_wanted(f.agg, e));
	assert_int_equal(wd_decoder_decode(f.dec, out, strlen(out), e, &why,
					   &err), 0);
	assert_false(wd_agg_wanted(f.agg, e));
	fx_release(&f);
}

static void test_propagation_hint(void **state)
{
	struct fx f;
	struct wd_report *r;
	const char *allowed =
		"{\"timestamp\":\"2026-11-26T10:05:00Z\",\"logName\":"
		"\"projects/p1/logs/cloudaudit.googleapis.com%2Fdata_access\","
		"\"protoPayload\":{\"methodName\":\"CreateKey\","
		"\"authenticationInfo\":{\"principalEmail\":\"a@b.com\"},"
		"\"authorizationInfo\":[{\"permission\":\"apikeys.keys.create\","
		"\"granted\":true}],\"status\":{}}}";
	size_t i;
	bool found = false;

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	add(&f, ENTRY("2026-11-26T10:00:01Z", "a@b.com", 7, "x", "CreateKey"),
	    WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, "permission",
	    "apikeys.keys.create");
	add(&f, allowed, WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, NULL, NULL);
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->n, 1);
	/* The permission var was set, but findings keep "permissions" or
	 * "permission": the hint needs the permission. */
	for (i = 0; i < r->findings[0].hints.n; i++)
		if (strstr(r->findings[0].hints.v[i], "granted, still denied"))
			found = true;
	assert_true(found);
	wd_report_free(r);
	fx_release(&f);
}

/* Batches of a parallel scan use small partial aggregates, merged in
 * order: every IAM change and allowed pair they saw must reach the
 * whole, past the first growth of the change list. */
static void test_parts_merge(void **state)
{
	struct fx f;
	struct wd_agg *part;
	struct wd_report *r;
	char json[512], ts[32];
	size_t i, k;
	bool change = false, granted = false;

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	for (k = 0; k < 3; k++) {
		struct wd_agg *whole = f.agg;

		part = wd_agg_new_part(&f.cfg);
		f.agg = part;
		/* 40 changes a part, hours before the failure; the last
		 * part's last one falls near it. */
		for (i = 0; i < 40; i++) {
			snprintf(ts, sizeof(ts), "2026-11-26T0%zu:%02zu:00Z",
				 k, i);
			if (k == 2 && i == 39)
				snprintf(ts, sizeof(ts),
					 "2026-11-26T09:59:00Z");
			snprintf(json, sizeof(json),
				 "{\"timestamp\":\"%s\",\"logName\":"
				 "\"projects/p1/logs/cloudaudit.googleapis.com"
				 "%%2Factivity\",\"resource\":{\"labels\":{"
				 "\"project_id\":\"p1\"}},\"protoPayload\":{"
				 "\"methodName\":\"SetIamPolicy\","
				 "\"authenticationInfo\":{\"principalEmail\":"
				 "\"admin@b.com\"},\"status\":{}}}", ts);
			add(&f, json, WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH,
			    NULL, NULL);
		}
		if (k == 1)
			add(&f, "{\"timestamp\":\"2026-11-26T10:05:00Z\","
			    "\"logName\":\"projects/p1/logs/"
			    "cloudaudit.googleapis.com%2Fdata_access\","
			    "\"protoPayload\":{\"methodName\":\"CreateKey\","
			    "\"authenticationInfo\":{\"principalEmail\":"
			    "\"a@b.com\"},\"authorizationInfo\":[{"
			    "\"permission\":\"apikeys.keys.create\","
			    "\"granted\":true}],\"status\":{}}}",
			    WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, NULL, NULL);
		wd_agg_merge(whole, part);
		wd_agg_free(part);
		f.agg = whole;
	}
	add(&f, ENTRY("2026-11-26T10:00:01Z", "a@b.com", 7, "x", "CreateKey"),
	    WD_CAT_IAM_PERMISSION, WD_LEVEL_HIGH, "permission",
	    "apikeys.keys.create");
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->n, 1);
	for (i = 0; i < r->findings[0].hints.n; i++) {
		if (strstr(r->findings[0].hints.v[i],
			   "IAM policy was changed at 2026-11-26T09:59:00Z"))
			change = true;
		if (strstr(r->findings[0].hints.v[i], "granted, still denied"))
			granted = true;
	}
	assert_true(change);
	assert_true(granted);
	wd_report_free(r);
	fx_release(&f);
}

static void test_nothing_found(void **state)
{
	struct fx f;
	struct wd_report *r;
	size_t i;
	bool tos = false, only_ok = false;

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	f.st.entries = 3;
	f.st.successes = 3;
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	assert_int_equal(r->n, 0);
	assert_non_null(r->nothing_found);
	for (i = 0; r->nothing_found[i]; i++) {
		if (strstr(r->nothing_found[i], "terms of service"))
			tos = true;
		if (strstr(r->nothing_found[i], "every entry read was a "
			   "success"))
			only_ok = true;
	}
	assert_true(tos);
	assert_true(only_ok);
	wd_report_free(r);
	fx_release(&f);
}

static void test_redact(void **state)
{
	char *s;

	(void)state;
	s = wd_redact("tf@acme.iam.gserviceaccount.com from 203.0.113.7 on "
		      "project 123456789012, user bob@example.com; keep "
		      "v1.2 and 42");
	assert_null(strstr(s, "tf@acme"));
	assert_null(strstr(s, "203.0.113.7"));
	assert_null(strstr(s, "123456789012"));
	assert_null(strstr(s, "bob@example.com"));
	assert_non_null(strstr(s, "@redacted.iam.gserviceaccount.com"));
	assert_non_null(strstr(s, "@redacted.invalid"));
	assert_non_null(strstr(s, "ip-"));
	assert_non_null(strstr(s, "n-"));
	assert_non_null(strstr(s, "keep v1.2 and 42"));
	free(s);
	/* IPv6 callers too; times are not addresses. */
	s = wd_redact("from 2001:db8::7334 and fe80:0:0:0:202:b3ff:fe1e:8329 "
		      "and ::1 at 2026-11-26T10:00:00Z, cost 12:30:45.");
	assert_null(strstr(s, "2001:db8"));
	assert_null(strstr(s, "fe80:"));
	assert_null(strstr(s, " ::1 "));
	assert_non_null(strstr(s, "2026-11-26T10:00:00Z"));
	assert_non_null(strstr(s, "12:30:45."));
	free(s);
	/* Stable: the same input gives the same hash. */
	s = wd_redact("bob@example.com");
	{
		char *t = wd_redact("bob@example.com");

		assert_string_equal(s, t);
		free(t);
	}
	free(s);
}

static char *capture(void (*fn)(FILE *, const char *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	fn(fp, in);
	fclose(fp);
	return buf;
}

static void put_safe(FILE *fp, const char *s)
{
	wd_put_safe(fp, s);
}

static void test_terminal_escapes(void **state)
{
	char *s;

	(void)state;
	s = capture(put_safe, "red \x1b[31mX\x1b[0m bell\a csi\xc2\x9b" "2J");
	assert_null(strchr(s, '\x1b'));
	assert_null(strchr(s, '\a'));
	assert_null(strstr(s, "\xc2\x9b"));
	assert_non_null(strstr(s, "\\x1b[31m"));
	assert_non_null(strstr(s, "\\u009b"));
	free(s);
}

static void test_csv_formula_guard(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct wd_csv c;

	(void)state;
	wd_csv_init(&c, fp);
	wd_csv_cells(&c, "=HYPERLINK(\"http://evil\")");
	wd_csv_cells(&c, "+1");
	wd_csv_cells(&c, "-2");
	wd_csv_cells(&c, "@SUM(A1)");
	wd_csv_cells(&c, "\tx");
	wd_csv_cells(&c, "plain \"quoted\"");
	wd_csv_end_row(&c);
	fclose(fp);
	assert_string_equal(buf, "\"'=HYPERLINK(\"\"http://evil\"\")\",\"'+1\","
			    "\"'-2\",\"'@SUM(A1)\",\"'\tx\","
			    "\"plain \"\"quoted\"\"\"\n");
	free(buf);
}

/* Cells around the size of wd_csv_cell's stack buffer (8192 bytes
 * quoted): the short ones go through csv_write, the long ones through
 * csv_fwrite; both must quote the same, and a guarded long cell too. */
static void test_csv_long_cells(void **state)
{
	size_t n, g;

	(void)state;
	/* Quoted, with the guard or not: every size from 8173 to 8215. */
	for (n = 7150; n <= 7185; n++)
	for (g = 0; g < 2; g++) {
		char *cell = malloc(n + 1), *want = malloc(2 * n + 8), *buf = NULL;
		size_t len = 0, i, k = 0;
		FILE *fp = open_memstream(&buf, &len);
		struct wd_csv c;

		for (i = 0; i < n; i++)
			cell[i] = i % 7 == 3 ? '"' : (char)('a' + i % 26);
		cell[0] = g ? '=' : 'x';
		cell[n] = '\0';
		want[k++] = '"';
		if (cell[0] == '=')
			want[k++] = '\'';
		for (i = 0; i < n; i++) {
			if (cell[i] == '"')
				want[k++] = '"';
			want[k++] = cell[i];
		}
		want[k++] = '"';
		want[k++] = '\n';
		want[k] = '\0';
		wd_csv_init(&c, fp);
		wd_csv_cell(&c, cell, n);
		wd_csv_end_row(&c);
		fclose(fp);
		assert_false(c.failed);
		assert_string_equal(buf, want);
		free(buf);
		free(want);
		free(cell);
	}
}

static void test_printers_escape(void **state)
{
	struct fx f;
	struct wd_report *r;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct wd_print_opts po = { false, false };
	const char *evil = ENTRY("2026-11-26T10:00:01Z",
				 "x@y.com", 7,
				 "boom \\u001b]0;pwned\\u0007 | `rm -rf` [link](http://e)",
				 "M");

	(void)state;
	fx_init(&f);
	f.agg = wd_agg_new(&f.cfg);
	add(&f, evil, WD_CAT_UNKNOWN, WD_LEVEL_MEDIUM, NULL, NULL);
	r = wd_agg_finish(f.agg, &f.st, 0, "scan");
	fp = open_memstream(&buf, &len);
	wd_print_text(fp, r, &po);
	fclose(fp);
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\a'));
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	wd_print_markdown(fp, r);
	fclose(fp);
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\a'));
	/* Markdown: no live link or code span from log text. */
	assert_null(strstr(buf, "[link](http://e)"));
	assert_null(strstr(buf, "`rm -rf`"));
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	assert_int_equal(wd_print_json(fp, r), 0);
	fclose(fp);
	assert_null(strchr(buf, '\x1b'));
	assert_true(strstr(buf, "\\u001b") || strstr(buf, "\\u001B"));
	free(buf);
	wd_report_free(r);
	fx_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retries_collapse),
		cmocka_unit_test(test_blocking_first),
		cmocka_unit_test(test_top_and_filters),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_propagation_hint),
		cmocka_unit_test(test_parts_merge),
		cmocka_unit_test(test_nothing_found),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_terminal_escapes),
		cmocka_unit_test(test_csv_formula_guard),
		cmocka_unit_test(test_csv_long_cells),
		cmocka_unit_test(test_printers_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
