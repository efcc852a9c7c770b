/* whydenied/report.h - the aggregated, ranked cause report, and the
 * printers that say it as text, Markdown, JSON and CSV.
 *
 * The aggregator (struct wd_agg) takes classified failures one at a time,
 * copies what it keeps, and groups them into causes; wd_agg_finish() ranks
 * them into an immutable struct wd_report, the only thing printers see.
 * Strings in a report are already redacted when --redact was given.
 */
#ifndef WHYDENIED_REPORT_H
#define WHYDENIED_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "whydenied/config.h"
#include "whydenied/entry.h"
#include "whydenied/rules.h"
#include "whydenied/scan.h"

#define WD_REPORT_SCHEMA_VERSION 1
#define WD_LIST_CAP 5		/* methods, resources, examples kept a cause */
#define WD_MAX_GROUPS 100000

struct wd_strs {
	char *v[WD_LIST_CAP];
	size_t n;
	bool truncated;		/* more distinct values were seen */
};

struct wd_finding {
	int rank;
	double score;
	char *rule;		/* rule id, or "unknown" */
	enum wd_category category;
	enum wd_level level;
	char *title;
	char *explain;
	char *fix;
	char *verify;
	char *docs;
	char *principal;
	char *member;
	char *project;
	char *subject_kind;	/* permission, service, constraint, ... */
	char *subject;
	char *permission;
	char *role;
	char *role_alternative;
	char *role_note;
	char *message;		/* an example status message */
	char *status_code;
	bool dry_run;
	bool anonymous;
	bool in_step_log;	/* also seen in a step log */
	bool in_audit_log;
	uint64_t count;
	char *first_seen;
	char *last_seen;
	struct wd_strs methods;
	struct wd_strs resources;
	struct wd_strs examples;	/* insert ids */
	struct wd_strs sources;		/* FILE:LINE */
	struct wd_strs locations;	/* terraform address, file:line */
	struct wd_strs hints;
	uint64_t explains;	/* failures this cause explains (blocking) */
	char *key;		/* the grouping key: the last tie-break */
};

struct wd_report {
	struct wd_finding *findings;
	size_t n;		/* after --top and filters */
	size_t total;		/* causes before --top */
	int max_level;		/* highest level of all causes, -1: none */
	const struct wd_scan_stats *stats;	/* borrowed */
	uint64_t failures;	/* failures reported (after filters) */
	uint64_t filtered_out;	/* failures excluded by filters */
	uint64_t groups_dropped;	/* past WD_MAX_GROUPS */
	size_t rules_loaded;
	struct wd_strs notes;	/* report-wide hints */
	char **nothing_found;	/* why nothing was found; NULL-terminated */
	bool saw_data_access;
	char *generated_at;
	char *source;		/* "scan" or "pull" */
};

struct wd_agg;

struct wd_agg *wd_agg_new(const struct wd_config *cfg);
/* The same with small tables, for one batch of a parallel scan that is
 * merged into a wd_agg_new one (wd_agg_merge). */
struct wd_agg *wd_agg_new_part(const struct wd_config *cfg);
void wd_agg_free(struct wd_agg *a);	/* NULL is a no-op */

/* Applies the entry-level filters (time, principal, project). */
bool wd_agg_wanted(const struct wd_agg *a, const struct wd_entry *e);

/* Adds a classified failure. e and v are borrowed for the call. */
void wd_agg_add(struct wd_agg *a, const struct wd_entry *e,
		const struct wd_verdict *v);

/* Notes a success (for hints: later allowed, IAM change, service
 * enabled, Data Access logs present). */
void wd_agg_success(struct wd_agg *a, const struct wd_entry *e);

/* Merges src, which saw input that came after everything dst saw, into
 * dst, exactly as if dst had been given src's failures and successes
 * itself. src keeps nothing worth using afterwards; free it. */
void wd_agg_merge(struct wd_agg *dst, struct wd_agg *src);

/* Counts a failure that a filter excluded. */
void wd_agg_filtered(struct wd_agg *a);

/* Builds the ranked report; the aggregator stays owner of nothing in it.
 * stats is borrowed and must outlive the report. */
struct wd_report *wd_agg_finish(struct wd_agg *a,
				const struct wd_scan_stats *stats,
				size_t rules_loaded, const char *source);
void wd_report_free(struct wd_report *r);	/* NULL is a no-op */

/* Redacts emails, IP addresses and project numbers in s (a new string). */
char *wd_redact(const char *s);

/* ---- printers ---- */

struct wd_print_opts {
	bool color;
	bool terminal;		/* aligned table, widths */
};

int wd_print_text(FILE *fp, const struct wd_report *r,
		  const struct wd_print_opts *o);
int wd_print_markdown(FILE *fp, const struct wd_report *r);
int wd_print_json(FILE *fp, const struct wd_report *r);
int wd_print_csv(FILE *fp, const struct wd_report *r);
/* "::error title=...::..." lines for the top findings. */
int wd_print_annotations(FILE *fp, const struct wd_report *r, size_t max);

/* Writes s with control characters and escape sequences made visible
 * (\xNN), for terminals and Markdown. */
void wd_put_safe(FILE *fp, const char *s);

#endif
