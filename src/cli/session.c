/* session.c - what scan and pull share (see whydenied/run.h). */
#include "whydenied/run.h"
#include "whydenied/events.h"
#include "whydenied/roles.h"
#include "whydenied/text.h"

#include <errno.h>
#include <pthread.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One decoded entry, single-threaded or in a worker: a success feeds the
 * hints, a failure the filters wanted is classified, aggregated and
 * written to the per-failure outputs (csv and json may be NULL). */
static void analyse(const struct wd_config *cfg, struct wd_matcher *m,
		    struct wd_verdict *v, struct wd_agg *agg,
		    struct wd_csv *csv, FILE *json, struct wd_entry *e)
{
	if (!e->failure) {
		wd_agg_success(agg, e);
		return;
	}
	if (!wd_agg_wanted(agg, e)) {
		wd_agg_filtered(agg);
		return;
	}
	wd_matcher_classify(m, e, v);
	wd_agg_add(agg, e, v);
	if (csv)
		wd_events_row(csv, e, v, cfg->redact);
	if (json)
		wd_events_json(json, e, v, cfg->redact);
}

static int on_entry(void *ctx, struct wd_entry *e)
{
	struct wd_session *s = ctx;

	analyse(s->cfg, s->matcher, s->verdict, s->agg,
		s->events_fp ? &s->events : NULL, s->events_json_fp, e);
	return 0;
}

static bool on_accept(void *ctx, const struct wd_entry *e)
{
	struct wd_session *s = ctx;

	return s->accept == NULL || s->accept(s->accept_ctx, e);
}

static void on_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct wd_session *s = ctx;

	if (s->on_meta)
		s->on_meta(s->on_meta_ctx, key, val, n);
}

static void on_warning(void *ctx, const char *msg)
{
	struct wd_session *s = ctx;

	s->warnings++;
	if (s->cfg->quiet || s->warnings > s->cfg->max_warnings)
		return;
	fputs("whydenied: ", stderr);
	wd_put_safe(stderr, msg);
	fputc('\n', stderr);
}

/* ---- parallel scanning: per worker a matcher, per batch a sink ---- */

struct worker {
	struct wd_matcher *m;
	struct wd_verdict v;
	struct worker *next;
};

struct sink {
	struct wd_agg *agg;
	char *csv_buf, *json_buf;
	size_t csv_len, json_len;
	FILE *csv_fp, *json_fp;
	struct wd_csv csv;
};

static void *worker_new(void *ctx)
{
	struct wd_session *s = ctx;
	struct worker *w = wd_xcalloc(1, sizeof(*w));

	w->m = wd_matcher_new(s->rules);
	return w;
}

static void worker_free(void *ctx, void *wp)
{
	struct wd_session *s = ctx;
	struct worker *w = wp;

	/* Limit hits are reported at the end, summed over the workers. */
	pthread_mutex_lock(&s->mu);
	wd_matcher_absorb(s->matcher, w->m);
	pthread_mutex_unlock(&s->mu);
	wd_matcher_free(w->m);
	free(w);
}

/* A sink's streams are used by one thread at a time, handed over under
 * the scanner's lock: stdio's own lock per call is waste (libcsv writes
 * a character a call; that locking was 2 % of a parallel scan). */
static void unlocked(FILE *fp)
{
	if (fp)
		__fsetlocking(fp, FSETLOCKING_BYCALLER);
}

static void *sink_new(void *ctx)
{
	struct wd_session *s = ctx;
	struct sink *k = wd_xcalloc(1, sizeof(*k));

	k->agg = wd_agg_new_part(s->cfg);
	if (s->events_fp) {
		k->csv_fp = open_memstream(&k->csv_buf, &k->csv_len);
		unlocked(k->csv_fp);
		wd_csv_init(&k->csv, k->csv_fp);
	}
	if (s->events_json_fp) {
		k->json_fp = open_memstream(&k->json_buf, &k->json_len);
		unlocked(k->json_fp);
	}
	return k;
}

static int sink_entry(void *ctx, void *wp, void *sp, struct wd_entry *e)
{
	struct wd_session *s = ctx;
	struct worker *w = wp;
	struct sink *k = sp;

	analyse(s->cfg, w->m, &w->v, k->agg, k->csv_fp ? &k->csv : NULL,
		k->json_fp, e);
	return 0;
}

static void sink_merge(void *ctx, void *sp)
{
	struct wd_session *s = ctx;
	struct sink *k = sp;

	wd_agg_merge(s->agg, k->agg);
	wd_agg_free(k->agg);
	if (k->csv_fp) {
		if (fclose(k->csv_fp) != 0 || k->csv.failed)
			s->events.failed = true;
		if (k->csv_len &&
		    fwrite(k->csv_buf, 1, k->csv_len, s->events_fp) !=
		    k->csv_len)
			s->events.failed = true;
		free(k->csv_buf);
	}
	if (k->json_fp) {
		fclose(k->json_fp);
		if (k->json_len)
			fwrite(k->json_buf, 1, k->json_len, s->events_json_fp);
		free(k->json_buf);
	}
	free(k);
}

/* A batch done again by the reading thread: its first sink goes. */
static void sink_drop(void *ctx, void *sp)
{
	struct sink *k = sp;

	(void)ctx;
	wd_agg_free(k->agg);
	if (k->csv_fp) {
		fclose(k->csv_fp);
		free(k->csv_buf);
	}
	if (k->json_fp) {
		fclose(k->json_fp);
		free(k->json_buf);
	}
	free(k);
}

static const struct wd_scan_ops scan_ops = {
	on_entry, on_warning, on_meta, on_accept,
	worker_new, worker_free, sink_new, sink_entry, sink_merge, sink_drop,
};

int wd_session_begin(struct wd_session *s, const struct wd_config *cfg)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	ret = wd_load_rules(&s->rules, cfg);
	if (ret)
		return ret;
	s->roles = wd_roles_attach(s->rules);
	s->matcher = wd_matcher_new(s->rules);
	s->agg = wd_agg_new(cfg);
	s->verdict = wd_xmalloc(sizeof(*s->verdict));
	s->scanner = wd_scanner_new(&scan_ops, s);
	wd_scanner_set_format(s->scanner, (enum wd_input_format)
			      cfg->input_format);
	wd_scanner_set_text(s->scanner, wd_text_ops());
	pthread_mutex_init(&s->mu, NULL);
	s->mu_ready = true;
	if (cfg->events_csv) {
		s->events_fp = strcmp(cfg->events_csv, "-") == 0 ? stdout :
			       fopen(cfg->events_csv, "w");
		if (s->events_fp == NULL) {
			fprintf(stderr, "whydenied: cannot write '%s': %s\n",
				cfg->events_csv, strerror(errno));
			return WD_EXIT_USAGE;
		}
		wd_csv_init(&s->events, s->events_fp);
		wd_events_begin(&s->events);
	}
	if (cfg->events_json) {
		s->events_json_fp = strcmp(cfg->events_json, "-") == 0 ?
				    stdout : fopen(cfg->events_json, "w");
		if (s->events_json_fp == NULL) {
			fprintf(stderr, "whydenied: cannot write '%s': %s\n",
				cfg->events_json, strerror(errno));
			return WD_EXIT_USAGE;
		}
	}
	return 0;
}

void wd_session_release(struct wd_session *s)
{
	if (s->events_fp && s->events_fp != stdout)
		fclose(s->events_fp);
	s->events_fp = NULL;
	if (s->events_json_fp && s->events_json_fp != stdout)
		fclose(s->events_json_fp);
	s->events_json_fp = NULL;
	wd_scanner_free(s->scanner);
	if (s->mu_ready)
		pthread_mutex_destroy(&s->mu);
	wd_agg_free(s->agg);
	wd_matcher_free(s->matcher);
	wd_ruleset_free(s->rules);
	wd_roles_free(s->roles);
	free(s->verdict);
	memset(s, 0, sizeof(*s));
}

static bool use_color(const struct wd_config *cfg, bool tty)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (cfg->color == WD_COLOR_NEVER)
		return false;
	if (cfg->color == WD_COLOR_ALWAYS)
		return true;
	if (nc && *nc)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return tty;
}

static int write_file(const char *path, const struct wd_report *r,
		      int (*fn)(FILE *, const struct wd_report *))
{
	FILE *fp;
	int ret;

	if (strcmp(path, "-") == 0)
		return fn(stdout, r);
	fp = fopen(path, "w");
	if (fp == NULL) {
		fprintf(stderr, "whydenied: cannot write '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	ret = fn(fp, r);
	if (fclose(fp) != 0)
		ret = -1;
	if (ret < 0)
		fprintf(stderr, "whydenied: error writing '%s'\n", path);
	return ret;
}

static void limit_hit(void *ctx, const char *rule, unsigned long hits)
{
	(void)ctx;
	fprintf(stderr, "whydenied: rule '%s': its regex hit the PCRE2 match "
		"limit on %lu value%s and did not match them\n", rule, hits,
		hits == 1 ? "" : "s");
}

int wd_session_finish(struct wd_session *s, const char *source, bool input_ok)
{
	const struct wd_config *cfg = s->cfg;
	const struct wd_scan_stats *st = wd_scanner_stats(s->scanner);
	struct wd_report *r;
	struct wd_print_opts po;
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	const char *gha = getenv("GITHUB_ACTIONS");
	int out = 0, ret = WD_EXIT_OK;
	
	if (s->events_fp) {
		if (s->events.failed || (s->events_fp != stdout &&
					 fclose(s->events_fp) != 0)) {
			fprintf(stderr, "whydenied: error writing '%s'\n",
				cfg->events_csv);
			out = -1;
		}
		s->events_fp = NULL;
	}
	if (s->events_json_fp) {
		if (ferror(s->events_json_fp) ||
		    (s->events_json_fp != stdout &&
		     fclose(s->events_json_fp) != 0)) {
			fprintf(stderr, "whydenied: error writing '%s'\n",
				cfg->events_json);
			out = -1;
		}
		s->events_json_fp = NULL;
	}
	wd_scanner_stop_jobs(s->scanner);
	wd_matcher_limit_hits(s->matcher, limit_hit, NULL);
	if (s->warnings > cfg->max_warnings && !cfg->quiet)
		fprintf(stderr, "whydenied: %zu more warning%s not shown "
			"(--max-warnings)\n", s->warnings - cfg->max_warnings,
			s->warnings - cfg->max_warnings == 1 ? "" : "s");
	r = wd_agg_finish(s->agg, st, wd_ruleset_count(s->rules), source);
	po.terminal = isatty(STDOUT_FILENO);
	po.color = use_color(cfg, po.terminal);
	switch (cfg->format) {
	case WD_OUT_JSON:
		out |= wd_print_json(stdout, r);
		break;
	case WD_OUT_MARKDOWN:
		out |= wd_print_markdown(stdout, r);
		break;
	default:
		out |= wd_print_text(stdout, r, &po);
	}
	if (cfg->csv)
		out |= write_file(cfg->csv, r, wd_print_csv);
	if (cfg->json)
		out |= write_file(cfg->json, r, wd_print_json);
	if (cfg->markdown)
		out |= write_file(cfg->markdown, r, wd_print_markdown);
	if (summary && *summary && cfg->step_summary) {
		FILE *fp = fopen(summary, "a");

		if (fp == NULL || wd_print_markdown(fp, r) < 0 ||
		    fclose(fp) != 0) {
			fprintf(stderr, "whydenied: cannot append to "
				"GITHUB_STEP_SUMMARY '%s'\n", summary);
			out = -1;
		}
	}
	if (gha && strcmp(gha, "true") == 0)
		wd_print_annotations(stderr, r, 10);
	if (!input_ok)
		ret = WD_EXIT_INPUT;
	else if (cfg->strict && (st->skipped || st->inputs_error ||
				 st->inputs_skipped))
		ret = WD_EXIT_INPUT;
	else if (out < 0)
		ret = WD_EXIT_INPUT;
	else if (cfg->fail_on >= 0 && r->max_level >= 0 &&
		 (cfg->fail_on == 0 || r->max_level >= cfg->fail_on - 1))
		ret = WD_EXIT_FINDINGS;	/* causes hidden by --top count */
	wd_report_free(r);
	return ret;
}
