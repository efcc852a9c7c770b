/* fuzz_text.c - the step-log text extractor (Terraform, gcloud, REST
 * bodies, gRPC, Python, Node) on arbitrary text, through the scanner's
 * text path, classifying every record it emits with the built-in rules. */
#include "fuzz.h"
#include "whydenied/rules.h"
#include "whydenied/scan.h"
#include "whydenied/text.h"

#include <stdlib.h>

static struct wd_ruleset *rules;
static struct wd_matcher *matcher;
static struct wd_verdict verdict;

static int on_entry(void *ctx, struct wd_entry *e)
{
	(void)ctx;
	if (matcher && e->failure)
		wd_matcher_classify(matcher, e, &verdict);
	return 0;
}

static const struct wd_scan_ops ops = { .on_entry = on_entry };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wd_scanner *s;
	struct wd_err err;

	if (s == NULL) {
		const char *dir = getenv("WHYDENIED_RULES");

		if (dir == NULL)
			dir = WD_SOURCE_RULES_DIR;
		if (wd_ruleset_load(&rules, &dir, 1, NULL, NULL, &err) == 0)
			matcher = wd_matcher_new(rules);
		s = wd_scanner_new(&ops, NULL);
		wd_scanner_set_format(s, WD_FORMAT_TEXT);
		wd_scanner_set_text(s, wd_text_ops());
	}
	wd_scan_mem(s, "fuzz.log", (const char *)data, size, &err);
	return 0;
}
