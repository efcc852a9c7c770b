/* filter.c - the entries.list filter pull sends (see whydenied/filter.h).
 *
 * What the filter selects, and why it is written this way (reference:
 * logging-api-and-auth.md section 2):
 *
 * - Time: explicit timestamp>= and timestamp<= bounds, always. The API has
 *   no default window; an unbounded query over 400 days of _Required is
 *   slow and answers with many empty pages.
 * - Logs: log_id("cloudaudit.googleapis.com/activity") rather than
 *   logName="projects/P/logs/cloudaudit.googleapis.com%2Factivity". log_id
 *   needs no URL-encoding, does not repeat every parent (one clause per log
 *   whatever the number of projects, so the 20,000-character limit is not
 *   reached with many --project), and works through log views; a logName
 *   naming a parent missing from resourceNames would return nothing.
 * - Failures: (protoPayload.status.code!=0 OR protoPayload.status.message:*).
 *   A comparison on a missing field is FALSE, even !=, and success entries
 *   carry no status.code (proto3 omits 0), so code!=0 selects every failing
 *   code: 7 (IAM), but also 2 (IAM denials logged as UNKNOWN), 3 (quota and
 *   invalid argument) and 9 (organization policy). Filtering on =7 alone
 *   would miss those. code!=0 still misses statuses that carry a message
 *   and no code ({"message":"ZONE_RESOURCE_POOL_EXHAUSTED"}, "Instance was
 *   preempted."), so message:* (field present) is ORed in. It also lets a
 *   few successes through ({"message":"OK"}); the decoder classifies those
 *   as successes, exactly as it does for exported files. We never write
 *   NOT protoPayload.status.code=0: NOT of a missing field is TRUE, so it
 *   would select every success.
 * - Principals: principalEmail for emails, principalSubject for
 *   principal:// and principalSet:// identities (workload identity).
 * - --filter: ANDed in inside its own parentheses, on lines of its own so
 *   that a trailing "-- comment" cannot swallow the closing parenthesis.
 *
 * Every clause is parenthesised: "NOT has the highest precedence, followed
 * by OR and AND in that order", so a bare a AND b OR c means a AND (b OR c).
 * Boolean keywords are uppercase (lowercase and/or are search terms).
 */
#include "whydenied/filter.h"

#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
	const char *log_id;
} logs[] = {
	{ "activity", WD_LOG_ACTIVITY, "cloudaudit.googleapis.com/activity" },
	{ "data_access", WD_LOG_DATA_ACCESS,
	  "cloudaudit.googleapis.com/data_access" },
	{ "policy", WD_LOG_POLICY, "cloudaudit.googleapis.com/policy" },
	{ "system_event", WD_LOG_SYSTEM_EVENT,
	  "cloudaudit.googleapis.com/system_event" },
	{ "access_transparency", WD_LOG_ACCESS_TRANSPARENCY,
	  "cloudaudit.googleapis.com/access_transparency" },
};

#define NLOGS (sizeof(logs) / sizeof(logs[0]))

int wd_filter_parse_logs(unsigned *out, const char *list, struct wd_err *err)
{
	unsigned bits = 0;
	const char *p = list, *end;
	size_t n, i;

	if (list == NULL)
		return wd_err_set(err, WD_EUSAGE, "--logs: empty list");
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = p;
		while (*end && *end != ',' && *end != ' ')
			end++;
		n = (size_t)(end - p);
		for (i = 0; i < NLOGS; i++)
			if (strlen(logs[i].name) == n &&
			    memcmp(logs[i].name, p, n) == 0)
				break;
		if (i == NLOGS)
			return wd_err_set(err, WD_EUSAGE, "--logs: unknown log "
					  "'%.*s' (activity, data_access, "
					  "policy, system_event, "
					  "access_transparency)",
					  (int)(n > 64 ? 64 : n), p);
		bits |= logs[i].bit;
		p = end;
	}
	if (bits == 0)
		return wd_err_set(err, WD_EUSAGE, "--logs: empty list");
	*out = bits;
	return 0;
}

static int limit(struct wd_err *err)
{
	return wd_err_set(err, WD_ELIMIT, "the filter would be longer than "
			  "%d characters, the entries.list limit: use fewer "
			  "--principal or a shorter --filter", WD_FILTER_MAX);
}

int wd_filter_quote(struct wd_buf *out, const char *s, struct wd_err *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return wd_err_set(err, WD_EUSAGE, "a filter value "
					  "holds a control character");
	if (wd_buf_addc(out, '"') < 0)
		return limit(err);
	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p == '"' || *p == '\\') && wd_buf_addc(out, '\\') < 0)
			return limit(err);
		if (wd_buf_addc(out, (char)*p) < 0)
			return limit(err);
	}
	if (wd_buf_addc(out, '"') < 0)
		return limit(err);
	return 0;
}

int wd_filter_check_expr(const char *expr, struct wd_err *err)
{
	const char *p;
	long depth = 0;

	for (p = expr; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p == '\0')
				return wd_err_set(err, WD_EUSAGE, "--filter: "
						  "a string is not closed "
						  "(missing '\"')");
		} else if (p[0] == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n')
				p++;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth < 0)
				return wd_err_set(err, WD_EUSAGE, "--filter: "
						  "')' without '(' at "
						  "character %ld",
						  (long)(p - expr) + 1);
		}
	}
	if (depth != 0)
		return wd_err_set(err, WD_EUSAGE, "--filter: %ld '(' not "
				  "closed", depth);
	return 0;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static int add(struct wd_buf *out, const char *s, struct wd_err *err)
{
	if (wd_buf_adds(out, s) < 0)
		return limit(err);
	return 0;
}

static int principals(struct wd_buf *out, const struct wd_filter_spec *spec,
		      struct wd_err *err)
{
	size_t i;
	int ret;

	if (spec->nprincipals == 0)
		return 0;
	ret = add(out, "\nAND (", err);
	for (i = 0; ret == 0 && i < spec->nprincipals; i++) {
		const char *v = spec->principals[i];

		if (v == NULL || *v == '\0')
			return wd_err_set(err, WD_EUSAGE, "--principal: empty "
					  "value");
		if (i > 0)
			ret = add(out, " OR ", err);
		if (ret == 0)
			ret = add(out, strstr(v, "://") ?
				  "protoPayload.authenticationInfo."
				  "principalSubject=" :
				  "protoPayload.authenticationInfo."
				  "principalEmail=", err);
		if (ret == 0)
			ret = wd_filter_quote(out, v, err);
	}
	if (ret == 0)
		ret = add(out, ")", err);
	return ret;
}

int wd_filter_build(struct wd_buf *out, const struct wd_filter_spec *spec,
		    struct wd_err *err)
{
	bool first = true;
	size_t i;
	int ret;

	wd_buf_clear(out);
	if (out->cap > WD_FILTER_MAX + 1)
		out->cap = WD_FILTER_MAX + 1;	/* + the NUL */
	if (spec->from == NULL || spec->to == NULL || spec->logs == 0)
		return wd_err_set(err, WD_EUSAGE, "the filter needs a time "
				  "window and at least one log");
	ret = add(out, "(timestamp>=", err);
	if (ret == 0)
		ret = wd_filter_quote(out, spec->from, err);
	if (ret == 0)
		ret = add(out, ")\nAND (timestamp<=", err);
	if (ret == 0)
		ret = wd_filter_quote(out, spec->to, err);
	if (ret == 0)
		ret = add(out, ")\nAND (", err);
	for (i = 0; ret == 0 && i < NLOGS; i++) {
		if (!(spec->logs & logs[i].bit))
			continue;
		ret = add(out, first ? "log_id(" : " OR log_id(", err);
		if (ret == 0)
			ret = wd_filter_quote(out, logs[i].log_id, err);
		if (ret == 0)
			ret = add(out, ")", err);
		first = false;
	}
	if (ret == 0)
		ret = add(out, ")\nAND (protoPayload.status.code!=0 OR "
			  "protoPayload.status.message:*)", err);
	if (ret == 0)
		ret = principals(out, spec, err);
	if (ret == 0 && spec->extra && !blank(spec->extra)) {
		ret = wd_filter_check_expr(spec->extra, err);
		if (ret == 0)
			ret = add(out, "\nAND (\n", err);
		if (ret == 0)
			ret = add(out, spec->extra, err);
		if (ret == 0)
			ret = add(out, "\n)", err);
	}
	if (ret == 0 && out->len > WD_FILTER_MAX)
		ret = limit(err);
	return ret;
}

static bool id_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c == 0x7f || c == '/' || c == '"' ||
		    c == '\\' || c == '?' || c == '#' || c == '%')
			return false;
	}
	return true;
}

int wd_filter_check_resource(const char *name, struct wd_err *err)
{
	static const char *const kinds[] = {
		"projects/", "organizations/", "folders/", "billingAccounts/",
	};
	static const char *const view[] = {
		"locations", "buckets", "views",
	};
	const char *p = NULL, *seg;
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(name, kinds[i], strlen(kinds[i])) == 0) {
			p = name + strlen(kinds[i]);
			break;
		}
	if (p == NULL)
		goto bad;
	seg = strchr(p, '/');
	n = seg ? (size_t)(seg - p) : strlen(p);
	if (!id_ok(p, n))
		goto bad;
	if (seg == NULL)
		return 0;
	/* .../locations/L/buckets/B/views/V */
	p = seg + 1;
	for (i = 0; i < 3; i++) {
		size_t k = strlen(view[i]);

		if (strncmp(p, view[i], k) != 0 || p[k] != '/')
			goto bad;
		p += k + 1;
		seg = strchr(p, '/');
		n = seg ? (size_t)(seg - p) : strlen(p);
		if (!id_ok(p, n))
			goto bad;
		if (i < 2 && seg == NULL)
			goto bad;
		if (i == 2 && seg != NULL)
			goto bad;
		if (seg)
			p = seg + 1;
	}
	return 0;
bad:
	return wd_err_set(err, WD_EUSAGE, "'%.200s' is not a resource name "
			  "like projects/P, organizations/O, folders/F, "
			  "billingAccounts/B or projects/P/locations/L/"
			  "buckets/B/views/V", name);
}
