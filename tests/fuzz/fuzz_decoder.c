/* fuzz_decoder.c - the whole scan pipeline on arbitrary bytes: format
 * detection, gzip, the framer (every container shape), the prefilter, the
 * decoder, the rules (built-in set) and the aggregator. Also checks the
 * prefilter's promise: whenever it accepts an entry as a success, the full
 * decoder agrees and gives the same fields. */
#include "fuzz.h"
#include "../lite_agree.h"
#include "whydenied/decoder.h"
#include "whydenied/lite.h"
#include "whydenied/report.h"
#include "whydenied/rules.h"
#include "whydenied/scan.h"

#include <stdlib.h>
#include <string.h>

static struct wd_ruleset *rules;

struct ctx {
	struct wd_matcher *m;
	struct wd_agg *agg;
	struct wd_verdict v;
};

static int on_entry(void *p, struct wd_entry *e)
{
	struct ctx *c = p;

	if (!e->failure) {
		wd_agg_success(c->agg, e);
		return 0;
	}
	if (rules) {
		wd_matcher_classify(c->m, e, &c->v);
		wd_agg_add(c->agg, e, &c->v);
	}
	return 0;
}

static const struct wd_scan_ops ops = { .on_entry = on_entry };

static void load_rules(void)
{
	const char *dir = getenv("WHYDENIED_RULES");
	struct wd_err err;

	if (dir == NULL)
		dir = WD_SOURCE_RULES_DIR;
	if (wd_ruleset_load(&rules, &dir, 1, NULL, NULL, &err) < 0)
		rules = NULL;
}

static void same_field(const struct wd_entry *a, const struct wd_entry *b,
		       enum wd_field f)
{
	struct wd_str x, y;
	size_t pa = 0, pb = 0;

	for (;;) {
		bool ha = wd_entry_next(a, f, NULL, 0, &pa, &x);
		bool hb = wd_entry_next(b, f, NULL, 0, &pb, &y);

		if (ha != hb)
			abort();
		if (!ha)
			return;
		if (x.len != y.len || memcmp(x.ptr, y.ptr, x.len) != 0)
			abort();
	}
}

/* The prefilter's fast paths and its byte walker must agree. */
static void check_fast(const char *p, size_t n)
{
	enum wd_lite_result r;
	size_t end;
	uint64_t nl;

	if (lite_disagree(p, n, &r, &end, &nl))
		abort();
}

static void check_lite(const char *p, size_t n)
{
	static struct wd_entry a, b;
	static struct wd_decoder *dec;
	enum wd_skip why;
	struct wd_err err;
	size_t end;

	if (dec == NULL)
		dec = wd_decoder_new();
	if (wd_lite_decode(p, n, &a, &end) != WD_LITE_SUCCESS)
		return;
	/* Only the object itself (the framer hands over exact bytes). */
	if (wd_decoder_decode(dec, p, end, &b, &why, &err) < 0 || b.failure)
		abort();
	same_field(&a, &b, WD_F_TIMESTAMP);
	same_field(&a, &b, WD_F_LOG);
	same_field(&a, &b, WD_F_METHOD);
	same_field(&a, &b, WD_F_PRINCIPAL);
	same_field(&a, &b, WD_F_AUTHZ_PERMISSION);
	same_field(&a, &b, WD_F_AUTHZ_GRANTED);
	same_field(&a, &b, WD_F_INSERT_ID);
	same_field(&a, &b, WD_F_LOG_NAME);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct wd_config cfg;
	static struct ctx c;
	static struct wd_scanner *s;
	struct wd_err err;
	struct wd_report *r;

	if (!ready) {
		/* Built once: large buffers allocated per run would make
		 * the fuzzer measure malloc. */
		load_rules();
		cfg.category = -1;
		cfg.min_level = -1;
		cfg.fail_on = -1;
		c.m = rules ? wd_matcher_new(rules) : NULL;
		s = wd_scanner_new(&ops, &c);
		ready = 1;
	}
	c.agg = wd_agg_new(&cfg);
	wd_scan_mem(s, "fuzz", (const char *)data, size, &err);
	r = wd_agg_finish(c.agg, wd_scanner_stats(s), 0, "scan");
	wd_report_free(r);
	wd_agg_free(c.agg);
	c.agg = NULL;
	check_lite((const char *)data, size);
	for (size_t i = 0; i < size; i++)
		if (i == 0 || data[i - 1] == '\n')
			check_fast((const char *)data + i, size - i);
	return 0;
}
