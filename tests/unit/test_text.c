/* test_text.c - failure records from step output (issue 6).
 *
 * 1. Every tests/text/NAME.log is scanned as a text input and the records
 *    it yields, dumped one "field=value" line per value (records headed
 *    "# record N"), must equal NAME.expect. WD_UPDATE=1 rewrites the
 *    .expect files (review the diff).
 * 2. Table-driven checks of the fields that matter per format (tool,
 *    status, location, details), so that a wrong .expect cannot hide them.
 * 3. Edge cases fed through the ops directly: caps on multi-line blocks,
 *    an unterminated box, a stop request, bounded state on a long log
 *    without errors, and the scanner's detection of text inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "whydenied/buf.h"
#include "whydenied/entry.h"
#include "whydenied/scan.h"
#include "whydenied/text.h"

#include "../../src/text/text_int.h"

#define TEXT_DIR WD_TEST_DATA "/text"
#define MAX_FIXTURES 128

/* ---- collecting records --------------------------------------------- */

struct rec {
	char *dump;		/* every value, "field=value\n" */
	char *file;
	uint64_t line;
};

struct sink {
	struct rec recs[256];
	size_t n;
	int stop_after;		/* return -1 after this many (0: never) */
	uint64_t warnings;
};

static void dump_value(struct wd_buf *b, const struct wd_val *v)
{
	size_t i;

	wd_buf_adds(b, wd_field_name((enum wd_field)v->field));
	if (v->field == WD_F_ERROR_METADATA) {
		wd_buf_addc(b, '.');
		wd_buf_add(b, v->key, v->key_len);
	}
	wd_buf_addc(b, '=');
	for (i = 0; i < v->len; i++) {
		if (v->ptr[i] == '\n')
			wd_buf_adds(b, "\\n");
		else
			wd_buf_addc(b, v->ptr[i]);
	}
	wd_buf_addc(b, '\n');
}

static int on_entry(void *ctx, struct wd_entry *e)
{
	struct sink *s = ctx;
	struct wd_buf b;
	size_t i;

	assert_true(s->n < sizeof(s->recs) / sizeof(s->recs[0]));
	wd_buf_init(&b, 1u << 24);
	for (i = 0; i < e->nvals; i++)
		dump_value(&b, &e->vals[i]);
	s->recs[s->n].dump = wd_buf_detach(&b, NULL);
	if (s->recs[s->n].dump == NULL)
		s->recs[s->n].dump = wd_xstrdup("");
	s->recs[s->n].file = wd_xstrdup(e->file ? e->file : "");
	s->recs[s->n].line = e->line;
	s->n++;
	if (s->stop_after > 0 && (int)s->n >= s->stop_after)
		return -1;
	return 0;
}

static void on_warning(void *ctx, const char *msg)
{
	struct sink *s = ctx;

	(void)msg;
	s->warnings++;
}

static const struct wd_scan_ops scan_ops = { .on_entry = on_entry,
					     .on_warning = on_warning };

static void sink_free(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->recs[i].dump);
		free(s->recs[i].file);
	}
	s->n = 0;
}

/* Scans path (relative to tests/text) as fmt into s. */
static const struct wd_scan_stats *scan(struct wd_scanner **out,
					struct sink *s, const char *path,
					enum wd_input_format fmt)
{
	struct wd_scanner *sc = wd_scanner_new(&scan_ops, s);
	struct wd_err err;

	assert_int_equal(chdir(TEXT_DIR), 0);
	wd_scanner_set_format(sc, fmt);
	wd_scanner_set_text(sc, wd_text_ops());
	wd_err_clear(&err);
	wd_scan_path(sc, path, &err);
	*out = sc;
	return wd_scanner_stats(sc);
}

static char *dump_all(const struct sink *s)
{
	struct wd_buf b;
	size_t i;

	wd_buf_init(&b, 1u << 26);
	wd_buf_adds(&b, "");
	for (i = 0; i < s->n; i++) {
		wd_buf_printf(&b, "# record %zu\n", i + 1);
		wd_buf_adds(&b, s->recs[i].dump);
	}
	return wd_buf_detach(&b, NULL);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct wd_buf b;
	char tmp[65536];
	size_t k;

	if (fp == NULL)
		return NULL;
	wd_buf_init(&b, 1u << 26);
	wd_buf_adds(&b, "");
	while ((k = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		wd_buf_add(&b, tmp, k);
	fclose(fp);
	return wd_buf_detach(&b, NULL);
}

/* The first value of field in a dump, or NULL (static buffer). */
static const char *field(const char *dump, const char *name)
{
	static char val[4096];
	size_t nl = strlen(name);
	const char *p = dump;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = len - nl - 1;

			if (vl >= sizeof(val))
				vl = sizeof(val) - 1;
			memcpy(val, p + nl + 1, vl);
			val[vl] = '\0';
			return val;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

/* ---- 1. fixtures against their .expect ------------------------------ */

static int fixture_setup(void **state)
{
	(void)state;
	return 0;
}

static void test_fixture(void **state)
{
	const char *name = *state;
	char log[512], exp[600];
	struct sink s;
	struct wd_scanner *sc;
	char *got, *want;

	memset(&s, 0, sizeof(s));
	snprintf(log, sizeof(log), "%s.log", name);
	snprintf(exp, sizeof(exp), TEXT_DIR "/%s.expect", name);
	scan(&sc, &s, log, WD_FORMAT_AUTO);
	assert_true(wd_scanner_stats(sc)->inputs_ok == 1);
	assert_true(wd_scanner_stats(sc)->inputs[0].text);
	got = dump_all(&s);
	if (getenv("WD_UPDATE") && strcmp(getenv("WD_UPDATE"), "1") == 0) {
		FILE *fp = fopen(exp, "w");

		assert_non_null(fp);
		fputs(got, fp);
		fclose(fp);
	}
	want = slurp(exp);
	if (want == NULL)
		fail_msg("%s: no .expect file", exp);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "---- %s: got\n%s---- want\n%s", name, got,
			want);
		fail_msg("%s: records differ from %s", name, exp);
	}
	free(got);
	free(want);
	sink_free(&s);
	wd_scanner_free(sc);
}

/* ---- 2. the fields that matter, per format -------------------------- */

struct check {
	const char *log;
	size_t record;		/* 1-based */
	const char *field;
	const char *value;	/* NULL: absent */
};

static const struct check checks[] = {
	/* Terraform, modern: Details JSON, with/on context (§11.1). */
	{ "terraform-modern", 1, "tool", "terraform" },
	{ "terraform-modern", 1, "status_code", "7" },
	{ "terraform-modern", 1, "legacy_code", "403" },
	{ "terraform-modern", 1, "status_message",
	  "Permission 'logging.buckets.create' denied on resource (or it may "
	  "not exist)." },
	{ "terraform-modern", 1, "error_reason", "IAM_PERMISSION_DENIED" },
	{ "terraform-modern", 1, "error_domain", "iam.googleapis.com" },
	{ "terraform-modern", 1, "error_metadata.permission",
	  "logging.buckets.create" },
	{ "terraform-modern", 1, "denied_permission", "logging.buckets.create" },
	{ "terraform-modern", 1, "location",
	  "module.destination.google_logging_project_bucket_config.bucket "
	  "(.terraform/modules/destination/modules/logbucket/main.tf:36)" },
	{ "terraform-modern", 1, "source", "terraform-modern.log:2" },
	{ "terraform-modern", 1, "failure", "true" },
	/* Terraform, legacy one line with ", forbidden". */
	{ "terraform-legacy", 1, "status_message",
	  "Required 'compute.networks.create' permission for "
	  "'projects/P/global/networks/N'" },
	{ "terraform-legacy", 1, "legacy_reason", "forbidden" },
	{ "terraform-legacy", 1, "status_code", "7" },
	{ "terraform-legacy", 1, "location", "main.tf:12" },
	/* Org policy: 400 + PreconditionFailure + ", failedPrecondition". */
	{ "terraform-orgpolicy", 1, "status_code", "9" },
	{ "terraform-orgpolicy", 1, "legacy_code", "400" },
	{ "terraform-orgpolicy", 1, "legacy_reason", "failedPrecondition" },
	{ "terraform-orgpolicy", 1, "violation_type",
	  "constraints/iam.disableServiceAccountKeyCreation" },
	{ "terraform-orgpolicy", 1, "location",
	  "google_service_account_key.key (iam.tf:8)" },
	{ "terraform-412", 1, "status_code", "9" },
	{ "terraform-412", 1, "legacy_reason", "conditionNotMet" },
	{ "terraform-api-disabled", 1, "legacy_reason", "accessNotConfigured" },
	{ "terraform-api-disabled", 1, "project", "1051023892108" },
	{ "terraform-api-disabled", 2, "error_reason", "SERVICE_DISABLED" },
	{ "terraform-api-disabled", 2, "error_metadata.service",
	  "pubsub.googleapis.com" },
	{ "terraform-api-disabled", 2, "help_url",
	  "https://console.developers.google.com/apis/api/pubsub.googleapis.com"
	  "/overview?project=sciortino-test-sandbox-395446" },
	{ "terraform-api-disabled", 2, "legacy_reason", "accessNotConfigured" },
	{ "terraform-api-disabled", 2, "project", "sciortino-test-sandbox-395446" },
	{ "terraform-rpc", 1, "status_code", "7" },
	{ "terraform-rpc", 1, "status_message",
	  "The caller does not have permission" },
	{ "terraform-rpc", 1, "location",
	  "google_spanner_instance.main (spanner.tf:4)" },
	{ "terraform-rpc", 2, "status_code", "9" },
	/* terraform apply -json. */
	{ "terraform-json", 1, "tool", "terraform" },
	{ "terraform-json", 1, "timestamp", "2026-11-27T10:00:03.101010Z" },
	{ "terraform-json", 1, "location",
	  "google_artifact_registry_repository.docker (registry.tf:5)" },
	{ "terraform-json", 1, "error_metadata.resource",
	  "projects/my-project-id/locations/us-central1" },
	{ "terraform-json", 1, "denied_permission",
	  "artifactregistry.repositories.create" },
	{ "terraform-json", 2, "legacy_reason", "conflict" },
	{ "terraform-json", 2, "status_code", "10" },
	/* gcloud. */
	{ "gcloud-orgpolicy", 1, "tool", "gcloud" },
	{ "gcloud-orgpolicy", 1, "status_code", "9" },
	{ "gcloud-orgpolicy", 1, "detail_type",
	  "type.googleapis.com/google.rpc.PreconditionFailure" },
	{ "gcloud-orgpolicy", 1, "violation_type",
	  "constraints/iam.disableServiceAccountKeyCreation" },
	{ "gcloud-orgpolicy", 1, "violation_description",
	  "Key creation is not allowed on this service account." },
	{ "gcloud-billing", 1, "error_reason", "UREQ_PROJECT_BILLING_NOT_FOUND" },
	{ "gcloud-billing", 1, "error_metadata.project", "522837608576" },
	{ "gcloud-billing", 1, "violation_type", "googleapis.com/billing-enabled" },
	{ "gcloud-fetch", 1, "status_message",
	  "Constraint constraints/compute.vmExternalIpAccess violated for "
	  "project 123456789. Add instance projects/a-project/zones/"
	  "europe-west3-c/instances/inst-importer-import-image-87wd3 to the "
	  "constraint to use external IP with it." },
	{ "gcloud-fetch", 1, "status_code", NULL },
	{ "gcloud-fetch", 1, "failure", "true" },
	{ "gcloud-fetch", 3, "status_message",
	  "Required 'compute.networks.updatePolicy' permission for "
	  "'projects/P/global/networks/vpc-1'" },
	{ "gcloud-permission", 1, "principal",
	  "ci-deployer@my-project-id.iam.gserviceaccount.com" },
	{ "gcloud-permission", 2, "principal",
	  "ci-deployer@my-project-id.iam.gserviceaccount.com" },
	{ "gcloud-permission", 3, "status_message",
	  "Request is prohibited by organization's policy. "
	  "vpcServiceControlsUniqueIdentifier: "
	  "0t4DpzwrwKkzGgqCqQnyV4h5aFTUVJx6Nk5UJkdHRJ7-XA7gvJ3gfA" },
	/* REST bodies. */
	{ "rest-body", 1, "tool", "rest" },
	{ "rest-body", 1, "error_reason", "SERVICE_DISABLED" },
	{ "rest-body", 1, "source", "rest-body.log:2" },
	{ "rest-body", 2, "status_code", "7" },
	{ "rest-body", 3, "status_code", "16" },
	{ "rest-body", 3, "legacy_reason", "required" },
	{ "rest-body", 3, "error_reason", "CREDENTIALS_MISSING" },
	{ "rest-body", 4, "error_reason", "BILLING_DISABLED" },
	{ "rest-body", 4, "legacy_code", NULL },
	{ "rest-body", 4, "project", "1051023892108" },
	/* Go gRPC. */
	{ "go-grpc", 1, "tool", "grpc" },
	{ "go-grpc", 1, "error_reason", "SERVICE_DISABLED" },
	{ "go-grpc", 1, "error_metadata.consumer", "projects/328022628735" },
	{ "go-grpc", 1, "help_url",
	  "https://console.developers.google.com/apis/api/monitoring.googleapis"
	  ".com/overview?project=328022628735" },
	{ "go-grpc", 3, "error_metadata.serviceTitle", "Cloud Logging API" },
	{ "go-grpc", 4, "status_code", "8" },
	{ "go-grpc", 4, "retry_delay", "27s" },
	/* Python. */
	{ "python", 1, "tool", "python" },
	{ "python", 1, "error_reason", "IAM_PERMISSION_DENIED" },
	{ "python", 1, "error_metadata.permission", "logging.logEntries.create" },
	{ "python", 1, "status_code", "7" },
	{ "python", 2, "status_code", "8" },
	{ "python", 3, "error_metadata.resource",
	  "projects/my-project-id/topics/events" },
	{ "python", 3, "denied_permission", "pubsub.topics.create" },
	{ "python", 4, "violation_type",
	  "constraints/iam.disableServiceAccountKeyUpload" },
	{ "python", 4, "status_code", "9" },
	/* Node. */
	{ "node", 1, "tool", "node" },
	{ "node", 1, "status_code", "16" },
	{ "node", 2, "status_code", "8" },
	{ "node", 3, "status_code", "7" },
	/* Java gRPC / bare status: the "Caused by:" repeat is dropped. */
	{ "grpc-status", 1, "status_code", "8" },
	{ "grpc-status", 2, "status_code", "7" },
	/* Terraform Plugin Framework: context before the wrapped detail. */
	{ "terraform-framework", 1, "status_message",
	  "Permission 'serviceusage.services.enable' denied on resource "
	  "'//serviceusage.googleapis.com/projects/my-project-id' (or it may "
	  "not exist)." },
	{ "terraform-framework", 1, "legacy_reason", "forbidden" },
	{ "terraform-framework", 1, "location",
	  "google_project_service.run (main.tf:14)" },
	{ "terraform-framework", 1, "source", "terraform-framework.log:3" },
	/* Terraform < 0.15: no box; Details and context still read. */
	{ "terraform-unboxed", 1, "error_reason", "IAM_PERMISSION_DENIED" },
	{ "terraform-unboxed", 1, "location",
	  ".terraform/modules/destination/modules/logbucket/main.tf:36" },
	{ "terraform-unboxed", 2, "location", "main.tf:12" },
	/* Go REST client outside Terraform. */
	{ "go-rest", 1, "tool", "rest" },
	{ "go-rest", 1, "legacy_reason", "invalid" },
	{ "go-rest", 1, "status_code", "3" },
	{ "go-rest", 2, "status_code", "5" },
	{ "go-rest", 2, "status_message", "Not Found" },
	{ "go-rest", 3, "error_reason", "IAM_PERMISSION_DENIED" },
	{ "go-rest", 3, "legacy_reason", "forbidden" },
	{ "go-rest", 3, "location", NULL },
	/* Python googleapiclient. */
	{ "python-httperror", 1, "tool", "python" },
	{ "python-httperror", 1, "status_message",
	  "The caller does not have permission" },
	{ "python-httperror", 1, "legacy_reason", "forbidden" },
	{ "python-httperror", 2, "status_code", "5" },
	/* GitHub Actions: timestamps, ANSI, gutters, several tools. */
	{ "github-actions-mixed", 1, "timestamp", "2026-11-27T10:00:02.8770001Z" },
	{ "github-actions-mixed", 1, "error_reason", "IAM_PERMISSION_DENIED" },
	{ "github-actions-mixed", 2, "violation_type",
	  "constraints/iam.disableServiceAccountKeyCreation" },
	{ "github-actions-mixed", 3, "legacy_reason", "accessNotConfigured" },
	{ "github-actions-mixed", 4, "tool", "gcloud" },
};

struct count {
	const char *log;
	size_t records;
};

static const struct count counts[] = {
	{ "terraform-modern", 1 }, { "terraform-legacy", 1 },
	{ "terraform-orgpolicy", 1 }, { "terraform-412", 1 },
	{ "terraform-api-disabled", 2 }, { "terraform-rpc", 2 },
	{ "terraform-json", 2 }, { "gcloud-orgpolicy", 1 },
	{ "gcloud-billing", 1 }, { "gcloud-fetch", 3 },
	{ "gcloud-permission", 3 }, { "rest-body", 4 }, { "go-grpc", 4 },
	{ "python", 4 }, { "node", 3 }, { "grpc-status", 2 },
	{ "github-actions-mixed", 4 }, { "terraform-framework", 1 },
	{ "terraform-unboxed", 2 }, { "go-rest", 3 },
	{ "python-httperror", 2 },
};

static void test_checks(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sink s;
		struct wd_scanner *sc;
		char log[256];

		memset(&s, 0, sizeof(s));
		snprintf(log, sizeof(log), "%s.log", counts[i].log);
		scan(&sc, &s, log, WD_FORMAT_TEXT);
		if (s.n != counts[i].records)
			fail_msg("%s: %zu records, expected %zu", log, s.n,
				 counts[i].records);
		for (j = 0; j < sizeof(checks) / sizeof(checks[0]); j++) {
			const struct check *c = &checks[j];
			const char *v;

			if (strcmp(c->log, counts[i].log) != 0)
				continue;
			assert_true(c->record >= 1 && c->record <= s.n);
			v = field(s.recs[c->record - 1].dump, c->field);
			if (c->value == NULL && v != NULL)
				fail_msg("%s #%zu: %s=%s, expected absent", log,
					 c->record, c->field, v);
			if (c->value != NULL &&
			    (v == NULL || strcmp(v, c->value) != 0))
				fail_msg("%s #%zu: %s=%s, expected %s", log,
					 c->record, c->field,
					 v ? v : "(absent)", c->value);
		}
		sink_free(&s);
		wd_scanner_free(sc);
	}
}

/* ---- 3. edge cases through the ops ---------------------------------- */

struct feeder {
	const struct wd_text_ops *ops;
	void *state;
	struct sink s;
	uint64_t line;
};

static int fe_emit(void *sctx, struct wd_entry *e)
{
	return on_entry(sctx, e);
}

static void fe_begin(struct feeder *f)
{
	memset(f, 0, sizeof(*f));
	f->ops = wd_text_ops();
	assert_non_null(f->ops);
	f->state = f->ops->begin(f->ops->tctx, "feed.log");
}

static void fe_line(struct feeder *f, const char *p, size_t n)
{
	f->ops->line(f->state, p, n, ++f->line, fe_emit, &f->s);
}

static void fe_str(struct feeder *f, const char *s)
{
	fe_line(f, s, strlen(s));
}

static void fe_end(struct feeder *f)
{
	f->ops->end(f->state, fe_emit, &f->s);
}

/* A Details block past 256 KiB is given up; the record keeps its
 * message, code and legacy reason. */
static void test_details_cap(void **state)
{
	struct feeder f;
	char line[128];
	int i;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "\xe2\x95\xb7");
	fe_str(&f, "\xe2\x94\x82 Error: Error creating X: googleapi: Error 403: "
	       "The caller does not have permission");
	fe_str(&f, "\xe2\x94\x82 Details:");
	fe_str(&f, "\xe2\x94\x82 [");
	for (i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), "\xe2\x94\x82   {\"@type\": "
			 "\"type.googleapis.com/google.rpc.Help\"},");
		fe_str(&f, line);
	}
	fe_str(&f, "\xe2\x94\x82   {}");
	fe_str(&f, "\xe2\x94\x82 ]");
	fe_str(&f, "\xe2\x94\x82 , forbidden");
	fe_str(&f, "\xe2\x94\x82 ");
	fe_str(&f, "\xe2\x94\x82   with google_x.y,");
	fe_str(&f, "\xe2\x95\xb5");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	assert_string_equal(field(f.s.recs[0].dump, "status_message"),
			    "The caller does not have permission");
	assert_string_equal(field(f.s.recs[0].dump, "status_code"), "7");
	assert_null(field(f.s.recs[0].dump, "detail_type"));
	assert_string_equal(field(f.s.recs[0].dump, "location"), "google_x.y");
	sink_free(&f.s);
}

/* A box cut off (log truncated) still yields its record at the end; an
 * input without a final newline too. */
static void test_unterminated(void **state)
{
	struct feeder f;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "\xe2\x95\xb7");
	fe_str(&f, "\xe2\x94\x82 Error: Error creating Y: googleapi: Error 404: "
	       "The resource 'projects/p1/global/networks/n' was not found, "
	       "notFound");
	fe_str(&f, "\xe2\x94\x82 Details:");
	fe_str(&f, "\xe2\x94\x82 [");
	fe_str(&f, "\xe2\x94\x82   {");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	assert_string_equal(field(f.s.recs[0].dump, "status_code"), "5");
	assert_string_equal(field(f.s.recs[0].dump, "project"), "p1");
	assert_string_equal(field(f.s.recs[0].dump, "source"), "feed.log:2");
	sink_free(&f.s);
}

/* A REST body that never closes is dropped without swallowing what
 * comes after the cap. */
static void test_rest_unclosed(void **state)
{
	struct feeder f;
	int i;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "{\"error\": {\"code\": 403, \"message\": \"x\",");
	for (i = 0; i < 30000; i++)
		fe_str(&f, "  \"padding\": \"..........\",");
	fe_str(&f, "rpc error: code = NotFound desc = gone");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	assert_string_equal(field(f.s.recs[0].dump, "status_code"), "5");
	sink_free(&f.s);
}

/* When emit asks to stop, nothing more is emitted. */
static void test_stop(void **state)
{
	struct feeder f;

	(void)state;
	fe_begin(&f);
	f.s.stop_after = 1;
	fe_str(&f, "rpc error: code = NotFound desc = one");
	fe_str(&f, "rpc error: code = NotFound desc = two");
	fe_str(&f, "rpc error: code = NotFound desc = three");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	sink_free(&f.s);
}

/* ANSI escapes, CRLF, GitHub timestamps and "##[error]" are removed. */
static void test_normalize(void **state)
{
	struct feeder f;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "2026-11-27T10:00:00.1234567Z ##[error]\x1b[31mERROR: "
	       "(gcloud.pubsub.topics.create) \x1b[1mNOT_FOUND\x1b[0m: "
	       "Project not found\r");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	assert_string_equal(field(f.s.recs[0].dump, "timestamp"),
			    "2026-11-27T10:00:00.1234567Z");
	assert_string_equal(field(f.s.recs[0].dump, "status_code"), "5");
	assert_string_equal(field(f.s.recs[0].dump, "status_message"),
			    "Project not found");
	sink_free(&f.s);
}

/* Lines that look like starts but are not errors yield nothing. */
static void test_no_false_positives(void **state)
{
	static const char *const lines[] = {
		"Error: Invalid reference",
		"  on main.tf line 3, in resource \"x\" \"y\":",
		"Warning: googleapi: Error 403: only a warning",
		"",
		"{\"code\": 200, \"message\": \"OK\"}",
		"{\"level\":\"info\",\"msg\":\"error happened\"}",
		"{",
		"  \"name\": \"projects/p\"",
		"}",
		"status: PERMISSION_DENIED is a string here",
		"OK: fine",
		"The Error: 3 NOT_FOUND: mismatch is not a node error",
		"Python: 403 is not an exception class",
		"rpc error: code = OK desc = nothing wrong",
	};
	struct feeder f;
	size_t i;

	(void)state;
	fe_begin(&f);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fe_str(&f, lines[i]);
	fe_end(&f);
	if (f.s.n != 0)
		fail_msg("%zu records, first:\n%s", f.s.n, f.s.recs[0].dump);
	sink_free(&f.s);
}

/* Many lines without errors: nothing emitted, nothing kept (the state
 * holds at most a few capped buffers; ASan/valgrind check the rest). */
static void test_long_clean_log(void **state)
{
	struct feeder f;
	char line[256];
	int i;

	(void)state;
	fe_begin(&f);
	for (i = 0; i < 200000; i++) {
		snprintf(line, sizeof(line), "2026-11-27T10:00:00.0000000Z "
			 "\x1b[1mmodule.m.google_x.y[%d]: Creating... "
			 "[id=projects/p/x/%d]\x1b[0m", i, i);
		fe_str(&f, line);
	}
	fe_end(&f);
	assert_int_equal(f.s.n, 0);
}

/* The scanner sends terraform -json output (it starts with "{") to the
 * text extractor, and --input-format text forces a JSON-looking file. */
static void test_detection(void **state)
{
	struct sink s;
	struct wd_scanner *sc;
	const struct wd_scan_stats *st;

	(void)state;
	memset(&s, 0, sizeof(s));
	st = scan(&sc, &s, "terraform-json.log", WD_FORMAT_AUTO);
	assert_true(st->inputs[0].text);
	assert_int_equal(s.n, 2);
	assert_int_equal(st->skipped, 0);
	sink_free(&s);
	wd_scanner_free(sc);

	memset(&s, 0, sizeof(s));
	st = scan(&sc, &s, "terraform-json.log", WD_FORMAT_JSON);
	assert_false(st->inputs[0].text);
	assert_int_equal(s.n, 0);
	sink_free(&s);
	wd_scanner_free(sc);
}

/* The detail converters on their own: input rendering -> JSON. */
struct conv {
	int (*fn)(struct wd_buf *out, const char *p, size_t n);
	const char *in;
	const char *want;	/* NULL: must fail */
};

static int go_items(struct wd_buf *out, const char *p, size_t n)
{
	struct wd_buf items;
	int ret;

	wd_buf_init(&items, WD_TX_BLOCK_MAX);
	ret = wd_tx_go_detail(&items, p, n);
	if (ret == 0)
		ret = wd_buf_printf(out, "[%s]", items.ptr);
	wd_buf_release(&items);
	return ret;
}

static const struct conv convs[] = {
	/* gcloud YAML: wrapped plain scalars, quoted keys and values,
	 * a multi-line quoted scalar, empty collections, a block scalar. */
	{ wd_tx_yaml_details,
	  "- '@type': type.googleapis.com/google.rpc.PreconditionFailure\n"
	  "  violations:\n"
	  "  - description: Constraint constraints/compute.vmExternalIpAccess "
	  "violated for\n"
	  "      project 123. Add it.\n"
	  "    subject: 'it''s'\n"
	  "    type: constraints/compute.vmExternalIpAccess\n"
	  "- '@type': type.googleapis.com/google.rpc.ErrorInfo\n"
	  "  domain: \"googleapis.com\"\n"
	  "  metadata: {}\n"
	  "  reason: 'A long\n"
	  "    quoted'\n"
	  "- note: |\n"
	  "    line one\n"
	  "    line two\n",
	  "[{\"@type\":\"type.googleapis.com/google.rpc.PreconditionFailure\","
	  "\"violations\":[{\"description\":\"Constraint constraints/compute."
	  "vmExternalIpAccess violated for project 123. Add it.\",\"subject\":"
	  "\"it's\",\"type\":\"constraints/compute.vmExternalIpAccess\"}]},"
	  "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"domain\":"
	  "\"googleapis.com\",\"metadata\":{},\"reason\":\"A long quoted\"},"
	  "{\"note\":\"line one\\nline two\"}]" },
	{ wd_tx_yaml_details, "", NULL },
	/* Python protobuf text: repeated fields, maps, a duration, octal
	 * UTF-8 escapes; a dict repr with Python literals. */
	{ wd_tx_py_details,
	  "[links {\n  description: \"Help\"\n  url: \"https://x\"\n}\n, "
	  "retry_delay {\n  seconds: 5\n}\n, violations {\n  subject: "
	  "\"s\"\n  description: \"d\\303\\251\"\n}\nviolations {\n  "
	  "subject: \"t\"\n}\n, reason: \"R\" metadata { key: \"k\" "
	  "value: \"v\" } metadata { key: \"quota_limit\" value: \"0\" }]",
	  "[{\"@type\":\"type.googleapis.com/google.rpc.Help\",\"links\":"
	  "[{\"description\":\"Help\",\"url\":\"https://x\"}]},"
	  "{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
	  "\"retryDelay\":\"5s\"},"
	  "{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
	  "\"violations\":[{\"subject\":\"s\",\"description\":\"d\xc3\xa9\"},"
	  "{\"subject\":\"t\"}]},"
	  "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
	  "\"reason\":\"R\",\"metadata\":{\"k\":\"v\",\"quota_limit\":\"0\"}}]" },
	{ wd_tx_py_details,
	  "[{'@type': 'x', 'ok': True, 'none': None, 'n': 3, "
	  "'s': \"it's\", 'l': ['a', {'b': False}]}]",
	  "[{\"@type\":\"x\",\"ok\":true,\"none\":null,\"n\":\"3\","
	  "\"s\":\"it's\",\"l\":[\"a\",{\"b\":false}]}]" },
	{ wd_tx_py_details, "[reason: \"unterminated", NULL },
	{ wd_tx_py_details, "not a list", NULL },
	/* Go error details lines. */
	{ go_items,
	  "name = ErrorInfo reason = SERVICE_DISABLED domain = googleapis.com "
	  "metadata = map[activationUrl:https://x/y?p=1 consumer:projects/1 "
	  "serviceTitle:Cloud Logging API]",
	  "[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
	  "\"reason\":\"SERVICE_DISABLED\",\"domain\":\"googleapis.com\","
	  "\"metadata\":{\"activationUrl\":\"https://x/y?p=1\",\"consumer\":"
	  "\"projects/1\",\"serviceTitle\":\"Cloud Logging API\"}}]" },
	{ go_items,
	  "name = PreconditionFailure type = constraints/x subject = s desc = "
	  "a b",
	  "[{\"@type\":\"type.googleapis.com/google.rpc.PreconditionFailure\","
	  "\"violations\":[{\"type\":\"constraints/x\",\"subject\":\"s\","
	  "\"description\":\"a b\"}]}]" },
	{ go_items, "name = Unknown  desc = x", NULL },
};

static void test_converters(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
		struct wd_buf b;
		int ret;

		wd_buf_init(&b, WD_TX_BLOCK_MAX);
		ret = convs[i].fn(&b, convs[i].in, strlen(convs[i].in));
		if (convs[i].want == NULL) {
			if (ret == 0)
				fail_msg("#%zu: converted, expected a failure",
					 i);
		} else if (ret != 0 || strcmp(b.ptr ? b.ptr : "",
					      convs[i].want) != 0) {
			fail_msg("#%zu: got %s (%d)\nwant %s", i,
				 b.ptr ? b.ptr : "", ret, convs[i].want);
		}
		wd_buf_release(&b);
	}
}

/* A JSON string is escaped, and bytes that are not UTF-8 are replaced,
 * so that the body given to the decoder always parses. */
static void test_json_str(void **state)
{
	static const char in[] = "a\"\\\n\x01\xc3\xa9\xff\xed\xa0\x80z";
	struct wd_buf b;

	(void)state;
	wd_buf_init(&b, 256);
	wd_tx_json_str(&b, in, sizeof(in) - 1);
	assert_string_equal(b.ptr, "\"a\\\"\\\\\\n\\u0001\xc3\xa9"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"");
	wd_buf_release(&b);
}

/* A Terraform Plugin Framework box: context first, then the wrapped
 * error; and a cobra-style Go CLI error is still read. */
static void test_wrapped_box(void **state)
{
	struct feeder f;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "\xe2\x95\xb7");
	fe_str(&f, "\xe2\x94\x82 Error: Error creating X");
	fe_str(&f, "\xe2\x94\x82 ");
	fe_str(&f, "\xe2\x94\x82   with google_x.y[\"a\"],");
	fe_str(&f, "\xe2\x94\x82   on m.tf line 2, in resource \"google_x\" "
	       "\"y\":");
	fe_str(&f, "\xe2\x94\x82    2: resource \"google_x\" \"y\" {");
	fe_str(&f, "\xe2\x94\x82 ");
	fe_str(&f, "\xe2\x94\x82 googleapi: Error 403: The caller does not "
	       "have");
	fe_str(&f, "\xe2\x94\x82 permission, forbidden");
	fe_str(&f, "\xe2\x95\xb5");
	fe_end(&f);
	assert_int_equal(f.s.n, 1);
	assert_string_equal(field(f.s.recs[0].dump, "status_message"),
			    "The caller does not have permission");
	assert_string_equal(field(f.s.recs[0].dump, "legacy_reason"),
			    "forbidden");
	assert_string_equal(field(f.s.recs[0].dump, "location"),
			    "google_x.y[\"a\"] (m.tf:2)");
	assert_string_equal(field(f.s.recs[0].dump, "source"), "feed.log:2");
	sink_free(&f.s);
}

/* The same error printed twice in a row (chained exceptions) is one
 * record; printed again far later, it is a new one. */
static void test_repeat(void **state)
{
	struct feeder f;
	int i;

	(void)state;
	fe_begin(&f);
	fe_str(&f, "rpc error: code = NotFound desc = gone");
	fe_str(&f, "Caused by: rpc error: code = NotFound desc = gone");
	for (i = 0; i < 100; i++)
		fe_str(&f, "...");
	fe_str(&f, "rpc error: code = NotFound desc = gone");
	fe_end(&f);
	assert_int_equal(f.s.n, 2);
	sink_free(&f.s);
}

int main(void)
{
	struct CMUnitTest tests[MAX_FIXTURES + 16];
	static char names[MAX_FIXTURES][256];
	size_t n = 0, k, i;
	DIR *dp = opendir(TEXT_DIR);
	struct dirent *de;
	char *sorted[MAX_FIXTURES];

	if (dp == NULL) {
		fprintf(stderr, "cannot open %s\n", TEXT_DIR);
		return 1;
	}
	while ((de = readdir(dp)) != NULL && n < MAX_FIXTURES) {
		size_t l = strlen(de->d_name);

		if (l > 4 && l < sizeof(names[0]) &&
		    strcmp(de->d_name + l - 4, ".log") == 0) {
			memcpy(names[n], de->d_name, l - 4);
			names[n][l - 4] = '\0';
			sorted[n] = names[n];
			n++;
		}
	}
	closedir(dp);
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && strcmp(sorted[k - 1], sorted[k]) > 0; k--) {
			char *t = sorted[k];

			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	for (i = 0; i < n; i++) {
		struct CMUnitTest t = { sorted[i], test_fixture, fixture_setup,
					NULL, sorted[i] };

		tests[i] = t;
	}
	k = n;
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_checks);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_details_cap);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_unterminated);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_rest_unclosed);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_stop);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_normalize);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_no_false_positives);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_long_clean_log);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_detection);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_converters);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_json_str);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_wrapped_box);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_repeat);
	return _cmocka_run_group_tests("text", tests, k, NULL, NULL);
}
