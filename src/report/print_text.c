/* print_text.c - the report for a terminal or a CI log (see
 * whydenied/report.h). Every string from a log goes through wd_put_safe. */
#include "whydenied/report.h"

#include <string.h>

#define RESET "\033[0m"
#define BOLD "\033[1m"
#define DIM "\033[2m"

static const char *level_color(enum wd_level l)
{
	switch (l) {
	case WD_LEVEL_CRITICAL: return "\033[1;31m";
	case WD_LEVEL_HIGH: return "\033[31m";
	case WD_LEVEL_MEDIUM: return "\033[33m";
	default: return "\033[36m";
	}
}

void wd_put_safe(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (*p == '\n')
				fputs("\\n", fp);
			else if (*p == '\t')
				fputs("\\t", fp);
			else
				fprintf(fp, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls (U+0080..U+009F), e.g. CSI. */
			fprintf(fp, "\\u%04x", p[1]);
			p++;
		} else {
			fputc(*p, fp);
		}
	}
}

/* Display width of a UTF-8 string (code points; close enough here). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void cell(FILE *fp, const char *s, size_t w)
{
	size_t n = width(s);

	if (n > w) {
		/* Truncate by code points, keep the end visible as '…'. */
		size_t k = 0;
		const char *p = s;

		while (*p && k < w - 1) {
			p++;
			while (((unsigned char)*p & 0xC0) == 0x80)
				p++;
			k++;
		}
		{
			char buf[512];
			size_t len = (size_t)(p - s);

			if (len >= sizeof(buf))
				len = sizeof(buf) - 1;
			memcpy(buf, s, len);
			buf[len] = '\0';
			wd_put_safe(fp, buf);
		}
		fputs("…", fp);
		return;
	}
	wd_put_safe(fp, s);
	for (; n < w; n++)
		fputc(' ', fp);
}

/* A labelled value. Only commands (fix, verify) are several lines by
 * design: their lines are aligned. Any other value is one line, its
 * newlines shown as \n, so text from a log can never start a line of its
 * own (a forged report line, or a CI workflow command such as ::error). */
static void field(FILE *fp, const struct wd_print_opts *o, const char *label,
		  const char *value)
{
	const char *p, *nl;
	bool multi = strcmp(label, "fix") == 0 || strcmp(label, "verify") == 0;

	if (value == NULL || *value == '\0')
		return;
	if (!multi) {
		fprintf(fp, "    %s%-8s%s ", o->color ? DIM : "", label,
			o->color ? RESET : "");
		wd_put_safe(fp, value);
		fputc('\n', fp);
		return;
	}
	fprintf(fp, "    %s%-8s%s ", o->color ? DIM : "", label,
		o->color ? RESET : "");
	/* Multi-line values (several fix commands) stay aligned. */
	for (p = value;; p = nl + 1) {
		char line[4096];
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (p != value)
			fprintf(fp, "    %-8s ", "");
		wd_put_safe(fp, line);
		fputc('\n', fp);
		if (!nl)
			break;
	}
}

static void list(FILE *fp, const struct wd_print_opts *o, const char *label,
		 const struct wd_strs *s)
{
	size_t i;

	if (s->n == 0)
		return;
	fprintf(fp, "    %s%-8s%s ", o->color ? DIM : "", label,
		o->color ? RESET : "");
	for (i = 0; i < s->n; i++) {
		if (i)
			fputs(", ", fp);
		wd_put_safe(fp, s->v[i]);
	}
	if (s->truncated)
		fputs(", …", fp);
	fputc('\n', fp);
}

static void header(FILE *fp, const struct wd_report *r,
		   const struct wd_print_opts *o)
{
	const struct wd_scan_stats *st = r->stats;
	size_t i;

	fprintf(fp, "%swhydenied%s: %zu cause%s behind %llu failure%s",
		o->color ? BOLD : "", o->color ? RESET : "", r->total,
		r->total == 1 ? "" : "s", (unsigned long long)r->failures,
		r->failures == 1 ? "" : "s");
	if (r->n < r->total)
		fprintf(fp, " (top %zu shown)", r->n);
	fputc('\n', fp);
	fprintf(fp, "  %llu input%s, %llu entr%s read (%llu failure%s, %llu "
		"success%s), %llu skipped",
		(unsigned long long)(st->inputs_ok + st->inputs_error +
				     st->inputs_skipped),
		st->inputs_ok + st->inputs_error + st->inputs_skipped == 1 ?
		"" : "s", (unsigned long long)st->entries,
		st->entries == 1 ? "y" : "ies",
		(unsigned long long)st->failures, st->failures == 1 ? "" : "s",
		(unsigned long long)st->successes,
		st->successes == 1 ? "" : "es",
		(unsigned long long)st->skipped);
	if (st->skipped) {
		bool first = true;

		fputs(" (", fp);
		for (i = 0; i < WD_SKIP__COUNT; i++) {
			if (!st->skipped_by[i])
				continue;
			fprintf(fp, "%s%s %llu", first ? "" : ", ",
				wd_skip_name((enum wd_skip)i),
				(unsigned long long)st->skipped_by[i]);
			first = false;
		}
		fputc(')', fp);
	}
	fputc('\n', fp);
	if (st->first_ts) {
		fputs("  time range ", fp);
		wd_put_safe(fp, st->first_ts);
		fputs(" .. ", fp);
		wd_put_safe(fp, st->last_ts);
		fputc('\n', fp);
	}
	if (st->duplicates)
		fprintf(fp, "  %llu entr%s seen twice (retried pages) analysed "
			"once\n", (unsigned long long)st->duplicates,
			st->duplicates == 1 ? "y" : "ies");
	if (r->filtered_out)
		fprintf(fp, "  %llu failure%s excluded by filters\n",
			(unsigned long long)r->filtered_out,
			r->filtered_out == 1 ? "" : "s");
	if (st->inputs_error + st->inputs_skipped)
		fprintf(fp, "  %llu input%s could not be read (see warnings)\n",
			(unsigned long long)(st->inputs_error +
					     st->inputs_skipped),
			st->inputs_error + st->inputs_skipped == 1 ? "" : "s");
}

static void table(FILE *fp, const struct wd_report *r,
		  const struct wd_print_opts *o)
{
	size_t i;

	fprintf(fp, "\n %s%-3s %-8s %-15s %6s  %-34s %s%s\n",
		o->color ? BOLD : "", "#", "LEVEL", "CATEGORY", "COUNT",
		"PRINCIPAL", "SUBJECT", o->color ? RESET : "");
	for (i = 0; i < r->n; i++) {
		const struct wd_finding *f = &r->findings[i];

		fprintf(fp, " %-3d %s", f->rank,
			o->color ? level_color(f->level) : "");
		cell(fp, wd_level_name(f->level), 8);
		fprintf(fp, "%s ", o->color ? RESET : "");
		cell(fp, wd_category_name(f->category), 15);
		fprintf(fp, " %6llu  ", (unsigned long long)f->count);
		cell(fp, f->principal ? f->principal : "-", 34);
		fputc(' ', fp);
		cell(fp, f->subject ? f->subject : "-", 40);
		fputc('\n', fp);
	}
}

int wd_print_text(FILE *fp, const struct wd_report *r,
		  const struct wd_print_opts *o)
{
	size_t i;

	header(fp, r, o);
	if (r->n == 0) {
		fputs("\nNo failure found. Why that may be:\n", fp);
		for (i = 0; r->nothing_found && r->nothing_found[i]; i++) {
			fputs("  - ", fp);
			wd_put_safe(fp, r->nothing_found[i]);
			fputc('\n', fp);
		}
	}
	if (o->terminal && r->n > 0)
		table(fp, r, o);
	for (i = 0; i < r->n; i++) {
		const struct wd_finding *f = &r->findings[i];
		char seen[256];

		fprintf(fp, "\n%s[%d] %s%s%s %s%s ", o->color ? BOLD : "",
			f->rank, o->color ? level_color(f->level) : "",
			wd_level_name(f->level), o->color ? RESET BOLD : "",
			wd_category_name(f->category),
			f->dry_run ? " (dry run)" : "");
		wd_put_safe(fp, f->title);
		fprintf(fp, "%s\n", o->color ? RESET : "");
		field(fp, o, "who", f->member ? f->member : f->principal);
		field(fp, o, "project", f->project);
		if (f->subject && f->subject_kind &&
		    strcmp(f->subject_kind, "project") != 0) {
			fprintf(fp, "    %s%-8s%s ", o->color ? DIM : "", "what",
				o->color ? RESET : "");
			wd_put_safe(fp, f->subject_kind);
			fputs(" ", fp);
			wd_put_safe(fp, f->subject);
			fputc('\n', fp);
		}
		if (f->first_seen && f->last_seen &&
		    strcmp(f->first_seen, f->last_seen) != 0)
			snprintf(seen, sizeof(seen), "%llu× from %s to %s",
				 (unsigned long long)f->count, f->first_seen,
				 f->last_seen);
		else if (f->first_seen)
			snprintf(seen, sizeof(seen), "%llu× at %s",
				 (unsigned long long)f->count, f->first_seen);
		else
			snprintf(seen, sizeof(seen), "%llu×",
				 (unsigned long long)f->count);
		field(fp, o, "seen", seen);
		list(fp, o, "methods", &f->methods);
		field(fp, o, "why", f->explain);
		field(fp, o, "message", f->message);
		if (f->role) {
			char role[512];

			snprintf(role, sizeof(role), "%s%s%s%s%s", f->role,
				 f->role_alternative ? " (or " : "",
				 f->role_alternative ? f->role_alternative : "",
				 f->role_alternative ? ")" : "",
				 f->role_note ? "" : "");
			field(fp, o, "role", role);
			field(fp, o, "", f->role_note);
		}
		field(fp, o, "fix", f->fix);
		field(fp, o, "verify", f->verify);
		field(fp, o, "docs", f->docs);
		{
			size_t k;

			for (k = 0; k < f->hints.n; k++)
				field(fp, o, "hint", f->hints.v[k]);
		}
		list(fp, o, "at", &f->locations);
		list(fp, o, "evidence", &f->sources);
		if (f->in_step_log && f->in_audit_log)
			field(fp, o, "seen in", "the step log and the audit "
			      "log");
	}
	for (i = 0; i < r->notes.n; i++) {
		fputs("\nnote: ", fp);
		wd_put_safe(fp, r->notes.v[i]);
		fputc('\n', fp);
	}
	fprintf(fp, "\n%zu rule%s loaded\n", r->rules_loaded,
		r->rules_loaded == 1 ? "" : "s");
	return ferror(fp) ? -1 : 0;
}

/* A workflow command's message: '%', CR and LF escaped as GitHub
 * documents, other controls (C0, DEL, C1) made visible. */
static void annotation_text(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; p && *p; p++) {
		if (*p == '%')
			fputs("%25", fp);
		else if (*p == '\r')
			fputs("%0D", fp);
		else if (*p == '\n')
			fputs("%0A", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(fp, "\\u%04x", *++p);
		else
			fputc(*p, fp);
	}
}

int wd_print_annotations(FILE *fp, const struct wd_report *r, size_t max)
{
	size_t i;

	for (i = 0; i < r->n && i < max; i++) {
		const struct wd_finding *f = &r->findings[i];
		const char *p;

		/* Workflow commands: '%', CR and LF are escaped as GitHub
		 * documents; ':' and ',' too inside properties. */
		fputs("::error title=whydenied ", fp);
		for (p = wd_category_name(f->category); *p; p++)
			fputc(*p, fp);
		fputs("::", fp);
		annotation_text(fp, f->title);
		if (f->fix) {
			fputs("%0Afix: ", fp);
			annotation_text(fp, f->fix);
		}
		fputc('\n', fp);
	}
	return ferror(fp) ? -1 : 0;
}
