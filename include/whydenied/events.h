/* whydenied/events.h - the per-failure CSV (--events-csv): one row per
 * failure, in input order, columns fixed (docs/report-formats.md). */
#ifndef WHYDENIED_EVENTS_H
#define WHYDENIED_EVENTS_H

#include <stdbool.h>
#include <stdio.h>

#include "whydenied/csvout.h"
#include "whydenied/entry.h"
#include "whydenied/rules.h"

#define WD_EVENTS_COLUMNS \
	"timestamp,insert_id,source,log,category,rule,level,severity," \
	"principal,permission,resource,service,method,project,status_code," \
	"reason,constraint,vpcsc_id,message"

/* Writes the header. */
void wd_events_begin(struct wd_csv *c);
/* One failure; v may be NULL (not classified). With redact, emails, IPs
 * and project numbers are replaced by stable hashes. */
void wd_events_row(struct wd_csv *c, const struct wd_entry *e,
		   const struct wd_verdict *v, bool redact);

/* One failure as a JSON object on one line (NDJSON): source, timestamp,
 * insert_id, category, rule, level and every template variable. */
void wd_events_json(FILE *fp, const struct wd_entry *e,
		    const struct wd_verdict *v, bool redact);

#endif
