/* print_json.c - the report as one JSON document via yajl_gen, and the
 * per-cause CSV via libcsv (see whydenied/report.h and
 * docs/report-formats.md). */
#include "whydenied/report.h"
#include "whydenied/csvout.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static void key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void str(yajl_gen g, const char *k, const char *v)
{
	key(g, k);
	if (v)
		yajl_gen_string(g, (const unsigned char *)v, strlen(v));
	else
		yajl_gen_null(g);
}

static void num(yajl_gen g, const char *k, unsigned long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%llu", v);

	key(g, k);
	yajl_gen_number(g, b, (size_t)n);
}

static void boolean(yajl_gen g, const char *k, bool v)
{
	key(g, k);
	yajl_gen_bool(g, v);
}

static void strs(yajl_gen g, const char *k, const struct wd_strs *s)
{
	size_t i;

	key(g, k);
	yajl_gen_array_open(g);
	for (i = 0; i < s->n; i++)
		yajl_gen_string(g, (const unsigned char *)s->v[i],
				strlen(s->v[i]));
	yajl_gen_array_close(g);
}

static void finding(yajl_gen g, const struct wd_finding *f)
{
	char score[32];
	int n;

	yajl_gen_map_open(g);
	num(g, "rank", (unsigned long long)f->rank);
	n = snprintf(score, sizeof(score), "%.3f", f->score);
	key(g, "score");
	yajl_gen_number(g, score, (size_t)n);
	str(g, "rule", f->rule);
	str(g, "category", wd_category_name(f->category));
	str(g, "level", wd_level_name(f->level));
	str(g, "title", f->title);
	str(g, "explain", f->explain);
	str(g, "fix", f->fix);
	str(g, "verify", f->verify);
	str(g, "docs", f->docs);
	str(g, "principal", f->principal);
	str(g, "member", f->member);
	str(g, "project", f->project);
	str(g, "subject_kind", f->subject_kind);
	str(g, "subject", f->subject);
	str(g, "permission", f->permission);
	str(g, "role", f->role);
	str(g, "role_alternative", f->role_alternative);
	str(g, "role_note", f->role_note);
	num(g, "count", f->count);
	str(g, "first_seen", f->first_seen);
	str(g, "last_seen", f->last_seen);
	str(g, "status_code", f->status_code);
	str(g, "message", f->message);
	boolean(g, "dry_run", f->dry_run);
	boolean(g, "anonymous", f->anonymous);
	key(g, "seen_in");
	yajl_gen_map_open(g);
	boolean(g, "audit_log", f->in_audit_log);
	boolean(g, "step_log", f->in_step_log);
	yajl_gen_map_close(g);
	num(g, "explains", f->explains);
	strs(g, "methods", &f->methods);
	strs(g, "resources", &f->resources);
	strs(g, "examples", &f->examples);
	strs(g, "sources", &f->sources);
	strs(g, "locations", &f->locations);
	strs(g, "hints", &f->hints);
	yajl_gen_map_close(g);
}

static const char *status_name(enum wd_input_status s)
{
	switch (s) {
	case WD_INPUT_OK: return "ok";
	case WD_INPUT_ERROR: return "error";
	default: return "skipped";
	}
}

static void summary(yajl_gen g, const struct wd_report *r)
{
	const struct wd_scan_stats *st = r->stats;
	size_t i;

	key(g, "summary");
	yajl_gen_map_open(g);
	num(g, "inputs", st->inputs_ok + st->inputs_error + st->inputs_skipped);
	num(g, "inputs_unreadable", st->inputs_error + st->inputs_skipped);
	num(g, "bytes", st->bytes);
	num(g, "entries", st->entries);
	num(g, "failures", st->failures);
	num(g, "successes", st->successes);
	num(g, "skipped", st->skipped);
	num(g, "duplicates", st->duplicates);
	key(g, "skipped_by_reason");
	yajl_gen_map_open(g);
	for (i = 0; i < WD_SKIP__COUNT; i++)
		num(g, wd_skip_name((enum wd_skip)i), st->skipped_by[i]);
	yajl_gen_map_close(g);
	num(g, "causes", r->total);
	num(g, "failures_reported", r->failures);
	num(g, "filtered_out", r->filtered_out);
	num(g, "causes_dropped", r->groups_dropped);
	str(g, "first_timestamp", st->first_ts);
	str(g, "last_timestamp", st->last_ts);
	num(g, "rules_loaded", r->rules_loaded);
	yajl_gen_map_close(g);
	key(g, "inputs");
	yajl_gen_array_open(g);
	for (i = 0; i < st->ninputs; i++) {
		const struct wd_input_stat *in = &st->inputs[i];

		yajl_gen_map_open(g);
		str(g, "path", in->path);
		str(g, "status", status_name(in->status));
		str(g, "message", in->message);
		boolean(g, "gzip", in->gzip);
		str(g, "format", in->text ? "text" : "json");
		num(g, "bytes", in->bytes);
		num(g, "entries", in->entries);
		num(g, "failures", in->failures);
		num(g, "skipped", in->skipped);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	num(g, "inputs_not_listed", st->inputs_dropped);
}

int wd_print_json(FILE *fp, const struct wd_report *r)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len, i;
	int ret = 0;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	yajl_gen_map_open(g);
	num(g, "schema_version", WD_REPORT_SCHEMA_VERSION);
	key(g, "tool");
	yajl_gen_map_open(g);
	str(g, "name", "whydenied");
	str(g, "version", WD_VERSION);
	yajl_gen_map_close(g);
	str(g, "source", r->source);
	str(g, "generated_at", r->generated_at);
	summary(g, r);
	key(g, "causes");
	yajl_gen_array_open(g);
	for (i = 0; i < r->n; i++)
		finding(g, &r->findings[i]);
	yajl_gen_array_close(g);
	strs(g, "notes", &r->notes);
	key(g, "nothing_found");
	yajl_gen_array_open(g);
	for (i = 0; r->nothing_found && r->nothing_found[i]; i++)
		yajl_gen_string(g, (const unsigned char *)r->nothing_found[i],
				strlen(r->nothing_found[i]));
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
		ret = -1;
	} else if (fwrite(buf, 1, len, fp) != len) {
		ret = -1;
	}
	yajl_gen_free(g);
	return ret || ferror(fp) ? -1 : 0;
}

#define CAUSE_COLUMNS \
	"rank,level,category,rule,count,principal,member,project," \
	"subject_kind,subject,permission,role,first_seen,last_seen,title," \
	"fix,verify,docs,examples"

int wd_print_csv(FILE *fp, const struct wd_report *r)
{
	struct wd_csv c;
	size_t i, k;
	char num_buf[32];

	wd_csv_init(&c, fp);
	wd_csv_header(&c, CAUSE_COLUMNS);
	for (i = 0; i < r->n; i++) {
		const struct wd_finding *f = &r->findings[i];
		char ex[2048] = "";
		size_t el = 0;

		snprintf(num_buf, sizeof(num_buf), "%d", f->rank);
		wd_csv_cells(&c, num_buf);
		wd_csv_cells(&c, wd_level_name(f->level));
		wd_csv_cells(&c, wd_category_name(f->category));
		wd_csv_cells(&c, f->rule);
		snprintf(num_buf, sizeof(num_buf), "%llu",
			 (unsigned long long)f->count);
		wd_csv_cells(&c, num_buf);
		wd_csv_cells(&c, f->principal);
		wd_csv_cells(&c, f->member);
		wd_csv_cells(&c, f->project);
		wd_csv_cells(&c, f->subject_kind);
		wd_csv_cells(&c, f->subject);
		wd_csv_cells(&c, f->permission);
		wd_csv_cells(&c, f->role);
		wd_csv_cells(&c, f->first_seen);
		wd_csv_cells(&c, f->last_seen);
		wd_csv_cells(&c, f->title);
		wd_csv_cells(&c, f->fix);
		wd_csv_cells(&c, f->verify);
		wd_csv_cells(&c, f->docs);
		for (k = 0; k < f->examples.n; k++) {
			int w = snprintf(ex + el, sizeof(ex) - el, "%s%s",
					 k ? " " : "", f->examples.v[k]);

			if (w < 0 || (size_t)w >= sizeof(ex) - el)
				break;
			el += (size_t)w;
		}
		wd_csv_cells(&c, ex);
		wd_csv_end_row(&c);
	}
	return c.failed || ferror(fp) ? -1 : 0;
}
