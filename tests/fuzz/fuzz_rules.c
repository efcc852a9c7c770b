/* fuzz_rules.c - the rules loader (JSON with comments, conditions, PCRE2
 * compilation, templates, inline tests) on arbitrary rule-file text; when
 * the text loads, its rules classify a fixed set of failures and render
 * their templates. */
#include "fuzz.h"
#include "whydenied/decoder.h"
#include "whydenied/rules.h"

#include <stdio.h>
#include <string.h>

static const char *const entries[] = {
	"{\"insertId\":\"a\",\"protoPayload\":{\"status\":{\"code\":7,"
	"\"message\":\"Permission 'a.b.c' denied on resource (or it may not "
	"exist).\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."
	"ErrorInfo\",\"reason\":\"IAM_PERMISSION_DENIED\",\"metadata\":"
	"{\"permission\":\"a.b.c\"}}]},\"authenticationInfo\":"
	"{\"principalEmail\":\"x@y.iam.gserviceaccount.com\"}}}",
	"{\"insertId\":\"b\",\"protoPayload\":{\"status\":{\"message\":"
	"\"ZONE_RESOURCE_POOL_EXHAUSTED\"}}}",
	"{\"error\":{\"code\":403,\"status\":\"PERMISSION_DENIED\",\"message\":"
	"\"Cloud X API has not been used in project 1 before or it is "
	"disabled.\"}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_ruleset *rs;
	struct wd_err err;
	struct wd_decoder *dec;
	struct wd_matcher *m;
	static struct wd_entry e;
	static struct wd_verdict v;
	size_t i;
	FILE *devnull;

	if (wd_ruleset_load_text(&rs, "fuzz.json", (const char *)data, size,
				 NULL, NULL, &err) < 0)
		return 0;
	dec = wd_decoder_new();
	m = wd_matcher_new(rs);
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		enum wd_skip why;
		struct wd_buf out;

		if (wd_decoder_decode(dec, entries[i], strlen(entries[i]), &e,
				      &why, &err) < 0)
			continue;
		wd_matcher_classify(m, &e, &v);
		if (v.rule) {
			wd_buf_init(&out, 1 << 20);
			wd_render(&out, wd_rule_title(v.rule), &v.vars, false);
			if (wd_rule_fix(v.rule))
				wd_render(&out, wd_rule_fix(v.rule), &v.vars,
					  true);
			wd_buf_release(&out);
		}
	}
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		wd_ruleset_test(rs, devnull);
		fclose(devnull);
	}
	wd_matcher_free(m);
	wd_decoder_free(dec);
	wd_ruleset_free(rs);
	return 0;
}
