/* print_md.c - the report as GitHub-flavoured Markdown (see
 * whydenied/report.h). Log text is escaped so it cannot add markup, links,
 * HTML or control characters; commands go in fences longer than any
 * backtick run they contain. */
#include "whydenied/report.h"

#include <string.h>

/* Inline text: Markdown punctuation escaped, controls made visible. */
static void md(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(fp, "\\\\u%04x", *++p);
		else if (strchr("\\`*_{}[]<>#|~&", *p) && *p != '\0')
			fprintf(fp, "\\%c", *p);
		else
			fputc(*p, fp);
	}
}

static void fence(FILE *fp, const char *lang, const char *s)
{
	size_t run = 0, best = 2, i;
	const unsigned char *p = (const unsigned char *)s;

	for (i = 0; s[i]; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	for (i = 0; i <= best; i++)
		fputc('`', fp);
	fprintf(fp, "%s\n", lang);
	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(fp, "\\u%04x", *++p);	/* C1 controls */
		else
			fputc(*p, fp);
	}
	fputc('\n', fp);
	for (i = 0; i <= best; i++)
		fputc('`', fp);
	fputc('\n', fp);
}

static void item(FILE *fp, const char *label, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	fprintf(fp, "- **%s:** ", label);
	md(fp, v);
	fputc('\n', fp);
}

static void items(FILE *fp, const char *label, const struct wd_strs *s)
{
	size_t i;

	if (s->n == 0)
		return;
	fprintf(fp, "- **%s:** ", label);
	for (i = 0; i < s->n; i++) {
		if (i)
			fputs(", ", fp);
		md(fp, s->v[i]);
	}
	if (s->truncated)
		fputs(", …", fp);
	fputc('\n', fp);
}

int wd_print_markdown(FILE *fp, const struct wd_report *r)
{
	const struct wd_scan_stats *st = r->stats;
	size_t i, k;

	fprintf(fp, "# whydenied: %zu cause%s behind %llu failure%s\n\n",
		r->total, r->total == 1 ? "" : "s",
		(unsigned long long)r->failures, r->failures == 1 ? "" : "s");
	fprintf(fp, "%llu input%s, %llu entr%s read (%llu failures, %llu "
		"successes), %llu skipped",
		(unsigned long long)(st->inputs_ok + st->inputs_error +
				     st->inputs_skipped),
		st->inputs_ok + st->inputs_error + st->inputs_skipped == 1 ?
		"" : "s", (unsigned long long)st->entries,
		st->entries == 1 ? "y" : "ies",
		(unsigned long long)st->failures,
		(unsigned long long)st->successes,
		(unsigned long long)st->skipped);
	if (st->first_ts) {
		fputs("; time range ", fp);
		md(fp, st->first_ts);
		fputs(" to ", fp);
		md(fp, st->last_ts);
	}
	fputs(".\n", fp);
	if (r->filtered_out)
		fprintf(fp, "%llu failures excluded by filters.\n",
			(unsigned long long)r->filtered_out);
	if (r->n == 0) {
		fputs("\n**No failure found.** Why that may be:\n\n", fp);
		for (i = 0; r->nothing_found && r->nothing_found[i]; i++) {
			fputs("- ", fp);
			md(fp, r->nothing_found[i]);
			fputc('\n', fp);
		}
	} else {
		fputs("\n| # | Level | Category | Count | Principal | Subject |\n"
		      "|---|---|---|---:|---|---|\n", fp);
		for (i = 0; i < r->n; i++) {
			const struct wd_finding *f = &r->findings[i];

			fprintf(fp, "| %d | %s | %s | %llu | ", f->rank,
				wd_level_name(f->level),
				wd_category_name(f->category),
				(unsigned long long)f->count);
			md(fp, f->principal ? f->principal : "-");
			fputs(" | ", fp);
			md(fp, f->subject ? f->subject : "-");
			fputs(" |\n", fp);
		}
	}
	for (i = 0; i < r->n; i++) {
		const struct wd_finding *f = &r->findings[i];
		char count[64];

		fprintf(fp, "\n## %d\\. ", f->rank);
		md(fp, f->title);
		fputs("\n\n", fp);
		fprintf(fp, "- **Level:** %s · **Category:** %s%s · **Rule:** ",
			wd_level_name(f->level), wd_category_name(f->category),
			f->dry_run ? " \\(dry run\\)" : "");
		md(fp, f->rule);
		fputc('\n', fp);
		item(fp, "Who", f->member ? f->member : f->principal);
		item(fp, "Project", f->project);
		if (f->subject && f->subject_kind &&
		    strcmp(f->subject_kind, "project") != 0) {
			fputs("- **What:** ", fp);
			md(fp, f->subject_kind);
			fputs(" ", fp);
			md(fp, f->subject);
			fputc('\n', fp);
		}
		snprintf(count, sizeof(count), "%llu",
			 (unsigned long long)f->count);
		item(fp, "Count", count);
		item(fp, "First seen", f->first_seen);
		item(fp, "Last seen", f->last_seen);
		items(fp, "Methods", &f->methods);
		item(fp, "Why", f->explain);
		item(fp, "Message", f->message);
		item(fp, "Role to grant", f->role);
		item(fp, "Alternative role", f->role_alternative);
		item(fp, "Role note", f->role_note);
		for (k = 0; k < f->hints.n; k++)
			item(fp, "Hint", f->hints.v[k]);
		items(fp, "Location", &f->locations);
		items(fp, "Evidence", &f->sources);
		item(fp, "Docs", f->docs);
		if (f->fix) {
			fputs("\nFix:\n\n", fp);
			fence(fp, "sh", f->fix);
		}
		if (f->verify) {
			fputs("\nVerify:\n\n", fp);
			fence(fp, "sh", f->verify);
		}
	}
	for (i = 0; i < r->notes.n; i++) {
		fputs("\n> **Note:** ", fp);
		md(fp, r->notes.v[i]);
		fputc('\n', fp);
	}
	fprintf(fp, "\n_%zu rules loaded._\n", r->rules_loaded);
	return ferror(fp) ? -1 : 0;
}
