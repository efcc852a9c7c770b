/* whydenied/filter.h - the Logging query language filter that pull sends
 * to entries.list, and the resource names it reads.
 *
 * The filter is built from explicit values only (no clock, no
 * environment), so it is unit-tested byte for byte. Every clause is
 * parenthesised (in the Logging query language OR binds tighter than AND),
 * every value is double-quoted with '\' and '"' escaped, and the whole
 * filter is at most WD_FILTER_MAX characters.
 */
#ifndef WHYDENIED_FILTER_H
#define WHYDENIED_FILTER_H

#include <stddef.h>

#include "whydenied/buf.h"
#include "whydenied/err.h"

#define WD_FILTER_MAX 20000	/* entries.list limit, comments included */
#define WD_RESOURCE_NAMES_MAX 100	/* entries.list limit per request */

/* The audit logs pull can read (--logs). */
enum wd_audit_log {
	WD_LOG_ACTIVITY = 1 << 0,
	WD_LOG_DATA_ACCESS = 1 << 1,
	WD_LOG_POLICY = 1 << 2,
	WD_LOG_SYSTEM_EVENT = 1 << 3,
	WD_LOG_ACCESS_TRANSPARENCY = 1 << 4,
};

struct wd_filter_spec {
	const char *from;		/* RFC 3339, inclusive; required */
	const char *to;			/* RFC 3339, inclusive; required */
	unsigned logs;			/* enum wd_audit_log bits; not 0 */
	const char *const *principals;	/* emails or principal:// subjects */
	size_t nprincipals;
	const char *extra;		/* --filter, ANDed in; NULL: none */
};

/* Parses a --logs list ("activity,data_access") into *out. Returns 0, or
 * WD_EUSAGE with err naming the unknown log. */
int wd_filter_parse_logs(unsigned *out, const char *list, struct wd_err *err);

/* Appends s to out as a filter string value: "..." with '\' and '"'
 * escaped. Control characters are refused (WD_EUSAGE): the query
 * language has no documented escape for them. */
int wd_filter_quote(struct wd_buf *out, const char *s, struct wd_err *err);

/* Checks a user expression before it is ANDed in: parentheses balanced
 * outside strings and comments, quotes closed. Returns 0 or WD_EUSAGE. */
int wd_filter_check_expr(const char *expr, struct wd_err *err);

/* Builds the filter into out (cleared first). Returns 0, WD_EUSAGE for a
 * bad value, or WD_ELIMIT when it would pass WD_FILTER_MAX characters. */
int wd_filter_build(struct wd_buf *out, const struct wd_filter_spec *spec,
		    struct wd_err *err);

/* Checks one resource name (projects/P, organizations/O, folders/F,
 * billingAccounts/B, or a .../locations/L/buckets/B/views/V view).
 * Returns 0 or WD_EUSAGE. */
int wd_filter_check_resource(const char *name, struct wd_err *err);

#endif
