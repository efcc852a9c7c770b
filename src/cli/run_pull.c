/* run_pull.c - the pull command: failures read live from the Cloud Logging
 * API (entries.list), explained like scan.
 *
 * For each batch of at most 100 resource names: POST
 * {endpoint}/v2/entries:list with the generated filter, follow
 * nextPageToken until it is absent (an empty page that carries a token is
 * not the end), and stream every page body into the session's scanner as
 * it arrives. Pages are paced, retried and checked by wd_api_do; a page
 * that cannot be read ends the pull with exit 3 and says so, and the
 * report names it as an unreadable input: a partial report is never
 * presented as complete.
 *
 * De-duplication: a retried page is read again from its first entry, so
 * entries are keyed by (logName, timestamp, insertId) and each key is
 * analysed once. Keys are 64-bit hashes in two fixed-size generations of
 * DEDUP_SLOTS slots (8 MiB each, allocated lazily); when the current one
 * is three quarters full it becomes the old one and the older is dropped.
 * Memory is therefore bounded (16 MiB) whatever the page count; every key
 * of the last ~786,000 entries is remembered, which always covers a
 * retried page (at most 1000 entries). Past that window a duplicate
 * between pages far apart (overlapping views) would be analysed twice; the
 * API itself does not repeat entries across pages of one query. Two
 * different keys sharing a 64-bit hash would drop one entry: about one
 * chance in 10^7 per million entries.
 */
#include "whydenied/api.h"
#include "whydenied/auth.h"
#include "whydenied/filter.h"
#include "whydenied/run.h"
#include "whydenied/text.h"
#include "whydenied/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#define DEFAULT_ENDPOINT "https://logging.googleapis.com"
#define DEFAULT_SINCE_S 3600
#define DEDUP_SLOTS (1u << 20)
#define DEDUP_FILL (DEDUP_SLOTS / 4 * 3)
#define ENTRY_BYTES_MAX (1024u * 1024u)
#define MAX_RESOURCES (5 * WD_MAX_LIST)
#define PREFIX_MAX (1024u * 1024u)

struct dedup {
	uint64_t *cur, *old;
	size_t ncur;
	uint64_t generations;
};

struct pull {
	const struct wd_config *cfg;
	struct wd_session s;
	struct wd_api *api;
	struct wd_cred *cred;
	struct wd_page_check *pc;
	struct dedup dd;
	uint64_t pages;		/* pages read whole */
	uint64_t page_no;	/* the page being read (1-based, overall) */
	uint64_t accepted;	/* entries analysed */
	uint64_t duplicates;
	bool enough;		/* --max-entries reached */
	bool progress;		/* a progress line is on stderr */
	bool tty;
	bool streaming;		/* the page's entries reach the scanner */
	struct wd_buf prefix;	/* a page's bytes before "entries" */
	struct wd_buf token;	/* the next page's token */
	char name[96];
};

/* ---- de-duplication ---- */

static uint64_t mix(uint64_t h, const struct wd_str s)
{
	size_t i;

	for (i = 0; s.ptr && i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;	/* field separator */
	h *= 0x100000001b3ULL;
	return h;
}

static uint64_t key_hash(const struct wd_entry *e)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = mix(h, wd_entry_get(e, WD_F_LOG_NAME));
	h = mix(h, wd_entry_get(e, WD_F_TIMESTAMP));
	h = mix(h, wd_entry_get(e, WD_F_INSERT_ID));
	/* splitmix64 finaliser: spread FNV's low bits */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

static bool in_table(const uint64_t *t, uint64_t h)
{
	size_t i = (size_t)h & (DEDUP_SLOTS - 1);

	if (t == NULL)
		return false;
	while (t[i]) {
		if (t[i] == h)
			return true;
		i = (i + 1) & (DEDUP_SLOTS - 1);
	}
	return false;
}

/* True the first time a key is seen. */
static bool dedup_add(struct dedup *d, uint64_t h)
{
	size_t i;

	if (in_table(d->cur, h) || in_table(d->old, h))
		return false;
	if (d->cur == NULL)
		d->cur = wd_xcalloc(DEDUP_SLOTS, sizeof(uint64_t));
	if (d->ncur >= DEDUP_FILL) {
		free(d->old);
		d->old = d->cur;
		d->cur = wd_xcalloc(DEDUP_SLOTS, sizeof(uint64_t));
		d->ncur = 0;
		d->generations++;
	}
	i = (size_t)h & (DEDUP_SLOTS - 1);
	while (d->cur[i])
		i = (i + 1) & (DEDUP_SLOTS - 1);
	d->cur[i] = h;
	d->ncur++;
	return true;
}

static void dedup_release(struct dedup *d)
{
	free(d->cur);
	free(d->old);
	memset(d, 0, sizeof(*d));
}

static bool accept(void *ctx, const struct wd_entry *e)
{
	struct pull *p = ctx;

	if (p->enough)
		return false;
	if (wd_entry_has(e, WD_F_INSERT_ID) || wd_entry_has(e, WD_F_TIMESTAMP))
		if (!dedup_add(&p->dd, key_hash(e))) {
			p->duplicates++;
			return false;
		}
	p->accepted++;
	if (p->cfg->max_entries && p->accepted >= p->cfg->max_entries)
		p->enough = true;
	return true;
}

/* ---- stderr ---- */

static void clear_progress(struct pull *p)
{
	if (p->progress) {
		fputs("\r\033[K", stderr);
		p->progress = false;
	}
}

static void say(struct pull *p, const char *fmt, ...) WD_PRINTF(2, 3);

static void say(struct pull *p, const char *fmt, ...)
{
	va_list ap;

	clear_progress(p);
	fputs("whydenied: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_note(void *ctx, const char *msg)
{
	struct pull *p = ctx;

	if (!p->cfg->quiet)
		say(p, "%s", msg);
}

static void show_progress(struct pull *p)
{
	const struct wd_api_stats *as = wd_api_stats(p->api);
	const struct wd_scan_stats *st = wd_scanner_stats(p->s.scanner);
	double mins = (as->last_at - as->first_at) / 60.0;

	if (!p->tty || p->cfg->quiet)
		return;
	fprintf(stderr, "\r\033[Kwhydenied: %llu page%s, %llu entr%s, %llu "
		"failure%s", (unsigned long long)p->pages,
		p->pages == 1 ? "" : "s", (unsigned long long)p->accepted,
		p->accepted == 1 ? "y" : "ies",
		(unsigned long long)st->failures,
		st->failures == 1 ? "" : "s");
	if (as->requests > 1 && mins > 0)
		fprintf(stderr, ", %.0f requests/min",
			(double)(as->requests - 1) / mins);
	p->progress = true;
}

/* ---- the page sink ---- */

static void sink_begin(void *ctx, unsigned attempt)
{
	struct pull *p = ctx;
	char name[128];

	if (attempt == 0)
		snprintf(name, sizeof(name), "%s", p->name);
	else
		snprintf(name, sizeof(name), "%s (attempt %u)", p->name,
			 attempt + 1);
	wd_scan_begin(p->s.scanner, name);
	wd_page_check_reset(p->pc);
	wd_buf_clear(&p->prefix);
	p->streaming = false;
}

static int sink_data(void *ctx, const char *b, size_t n, struct wd_err *err)
{
	struct pull *p = ctx;
	size_t k = wd_page_check_feed(p->pc, b, n);

	/* Only bytes that are valid JSON so far reach the decoder: a
	 * malformed page is retried without leaving half-read garbage
	 * behind. And only once the page's "entries" array has begun: an
	 * empty page ({} or {"nextPageToken":...}, proto3 omits the empty
	 * list) must not reach the framer as if it were one odd entry. The
	 * bytes before "entries" are kept until then (PREFIX_MAX). */
	if (k > 0 && !p->streaming) {
		if (wd_buf_add(&p->prefix, b, k) < 0) {
			/* An odd page: stream from here on. */
			(void)wd_scan_feed(p->s.scanner, p->prefix.ptr,
					   p->prefix.len);
			(void)wd_scan_feed(p->s.scanner, b, k);
			wd_buf_clear(&p->prefix);
			p->streaming = true;
		} else if (wd_page_check_list_seen(p->pc)) {
			(void)wd_scan_feed(p->s.scanner, p->prefix.ptr,
					   p->prefix.len);
			wd_buf_clear(&p->prefix);
			p->streaming = true;
		}
	} else if (k > 0) {
		(void)wd_scan_feed(p->s.scanner, b, k);
	}
	if (wd_page_check_failed(p->pc, err))
		return err->code;
	return p->enough ? 1 : 0;
}

static int sink_end(void *ctx, enum wd_api_end how, const char *why,
		    struct wd_err *err)
{
	struct pull *p = ctx;
	char note[640];

	switch (how) {
	case WD_API_END_COMPLETE:
		if (wd_page_check_finish(p->pc, err) < 0)
			return WD_EFORMAT;
		wd_scan_end(p->s.scanner);
		wd_buf_clear(&p->token);
		(void)wd_buf_adds(&p->token, wd_page_check_token(p->pc));
		return 0;
	case WD_API_END_STOPPED:
		wd_scan_abandon(p->s.scanner, "stopped at --max-entries");
		wd_buf_clear(&p->token);
		return 0;
	case WD_API_END_RETRY:
		snprintf(note, sizeof(note), "cut off (%s); read again", why);
		wd_scan_abandon(p->s.scanner, note);
		return 0;
	case WD_API_END_FAILED:
		/* pull_batch records the lost page with the whole story. */
		snprintf(note, sizeof(note), "cut off (%s)", why);
		wd_scan_abandon(p->s.scanner, note);
		return 0;
	}
	return 0;
}

static const struct wd_api_sink page_sink = {
	sink_begin, sink_data, sink_end,
};

/* ---- request ---- */

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void request_body(struct wd_buf *out, const char *const *names,
			 size_t n, const char *filter, bool asc,
			 unsigned page_size, const char *token)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len, i;

	yajl_gen_map_open(g);
	gen_str(g, "resourceNames");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		gen_str(g, names[i]);
	yajl_gen_array_close(g);
	gen_str(g, "filter");
	gen_str(g, filter);
	gen_str(g, "orderBy");
	gen_str(g, asc ? "timestamp asc" : "timestamp desc");
	gen_str(g, "pageSize");
	yajl_gen_integer(g, page_size);
	if (token && *token) {
		gen_str(g, "pageToken");
		gen_str(g, token);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	wd_buf_clear(out);
	(void)wd_buf_add(out, buf, len);
	yajl_gen_free(g);
}

/* ---- explaining a failed request ---- */

static void explain(struct pull *p, const struct wd_api_result *r,
		    const char *const *names, size_t n, const char *msg,
		    bool told)
{
	const struct wd_api_error *e = &r->error;
	const char *who = wd_cred_principal_hint(p->cred);
	const char *qp = wd_cred_quota_project(p->cred);

	if (!told)
		say(p, "%s", msg);
	if (r->status == 403) {
		const char *perm = e->permission;
		const char *res = n ? names[0] : "the resource";
		const char *more = n > 1 ? " (and the other resources)" : "";

		if (strstr(perm, "privateLogEntries.list") ||
		    strstr(e->message, "privateLogEntries.list"))
			say(p, "reading Data Access audit logs needs "
			    "logging.privateLogEntries.list: grant "
			    "roles/logging.privateLogViewer on '%s'%s%s%s, "
			    "or leave data_access out (--logs "
			    "activity,policy)", res, more, who ? " to " : "",
			    who ? who : "");
		else if (strstr(perm, "logEntries.list") ||
			 strstr(e->message, "logEntries.list"))
			say(p, "reading audit logs needs logging.logEntries."
			    "list: grant roles/logging.viewer on '%s'%s%s%s "
			    "(it covers Admin Activity, System Event and "
			    "Policy Denied logs; Data Access logs also need "
			    "roles/logging.privateLogViewer)", res, more,
			    who ? " to " : "", who ? who : "");
		else if (strstr(perm, "views.access") ||
			 strstr(e->message, "views.access"))
			say(p, "reading through a log view needs "
			    "logging.views.access: grant "
			    "roles/logging.viewAccessor on the view");
		else if (strcmp(e->reason, "SERVICE_DISABLED") == 0 ||
			 strstr(e->message, "has not been used"))
			say(p, "the Cloud Logging API is disabled in the "
			    "project that is charged for the call: enable "
			    "logging.googleapis.com there, or name a quota "
			    "project with GOOGLE_CLOUD_QUOTA_PROJECT");
		else if (strcmp(e->reason, "USER_PROJECT_DENIED") == 0)
			say(p, "the caller may not charge the quota project "
			    "'%s': it needs serviceusage.services.use there "
			    "(roles/serviceusage.serviceUsageConsumer)",
			    qp ? qp : "");
		else
			say(p, "permission denied: the caller needs "
			    "roles/logging.viewer (and "
			    "roles/logging.privateLogViewer for Data Access "
			    "logs) on every resource read%s%s",
			    who ? "; caller: " : "", who ? who : "");
	} else if (r->status == 404) {
		say(p, "check that every resource exists and is spelled as "
		    "projects/ID, organizations/NUMBER, folders/NUMBER or "
		    "billingAccounts/ID");
	} else if (r->status == 400) {
		say(p, "the API refused the request as invalid: check "
		    "--filter (print the whole filter with --print-filter)");
	} else if (r->status == 429) {
		say(p, "the Logging API read quota stayed exhausted: "
		    "'%s' (%s), %s per minute for consumer %s; lower --rate "
		    "or run again later",
		    e->quota_limit[0] ? e->quota_limit :
		    "ReadRequestsPerMinutePerProject",
		    e->quota_metric[0] ? e->quota_metric :
		    "logging.googleapis.com/read_requests",
		    "60 entries.list requests",
		    e->consumer[0] ? e->consumer : "the charged project");
	}
}

/* ---- setup ---- */

static int add_name(const char **names, size_t *n, char **owned,
		    size_t *nowned, const char *prefix, const char *v,
		    struct wd_err *err)
{
	const char *name = v;

	if (*n >= MAX_RESOURCES)
		return wd_err_set(err, WD_EUSAGE, "too many resources (at "
				  "most %d)", MAX_RESOURCES);
	if (prefix && strncmp(v, prefix, strlen(prefix)) != 0) {
		size_t k = strlen(prefix) + strlen(v) + 1;
		char *s = wd_xmalloc(k);

		snprintf(s, k, "%s%s", prefix, v);
		owned[(*nowned)++] = s;
		name = s;
	}
	if (wd_filter_check_resource(name, err) < 0)
		return WD_EUSAGE;
	names[(*n)++] = name;
	return 0;
}

static int resource_names(const struct wd_config *cfg, const char **names,
			  size_t *n, char **owned, size_t *nowned,
			  struct wd_err *err)
{
	size_t i;
	int ret = 0;

	*n = 0;
	for (i = 0; ret == 0 && i < cfg->projects.n; i++)
		ret = add_name(names, n, owned, nowned, "projects/",
			       cfg->projects.v[i], err);
	for (i = 0; ret == 0 && i < cfg->organizations.n; i++)
		ret = add_name(names, n, owned, nowned, "organizations/",
			       cfg->organizations.v[i], err);
	for (i = 0; ret == 0 && i < cfg->folders.n; i++)
		ret = add_name(names, n, owned, nowned, "folders/",
			       cfg->folders.v[i], err);
	for (i = 0; ret == 0 && i < cfg->billing_accounts.n; i++)
		ret = add_name(names, n, owned, nowned, "billingAccounts/",
			       cfg->billing_accounts.v[i], err);
	for (i = 0; ret == 0 && i < cfg->resource_names.n; i++)
		ret = add_name(names, n, owned, nowned, NULL,
			       cfg->resource_names.v[i], err);
	return ret;
}

static int window(const struct wd_config *cfg, char from[32], char to[32],
		  struct wd_err *err)
{
	long long t_to, t_from;

	if (cfg->from && cfg->since_secs)
		return wd_err_set(err, WD_EUSAGE, "--since and --from cannot "
				  "be combined (--since counts back from --to "
				  "or now)");
	t_to = cfg->to ? wd_parse_rfc3339(cfg->to, strlen(cfg->to)) :
	       wd_now();
	t_from = cfg->from ? wd_parse_rfc3339(cfg->from, strlen(cfg->from)) :
		 t_to - (cfg->since_secs ? cfg->since_secs : DEFAULT_SINCE_S);
	if (t_to < 0 || t_from < 0)
		return wd_err_set(err, WD_EUSAGE, "bad --from or --to");
	if (t_from > t_to)
		return wd_err_set(err, WD_EUSAGE, "--from is after --to");
	wd_format_rfc3339(t_from, from);
	wd_format_rfc3339(t_to, to);
	return 0;
}

/* ---- the pull ---- */

/* Reads one batch of resource names, page after page. Returns 0, or <0
 * when a page could not be read (message printed). */
static int pull_batch(struct pull *p, const char *url, const char *const *names,
		      size_t n, const char *filter, const char *pace_key,
		      bool *more)
{
	const struct wd_config *cfg = p->cfg;
	struct wd_api_request rq;
	struct wd_api_result r;
	struct wd_buf body;
	struct wd_err err;
	int ret = 0;

	wd_buf_init(&body, 4u * 1024 * 1024);
	wd_buf_clear(&p->token);
	*more = false;
	for (;;) {
		if (p->pages >= cfg->max_pages) {
			*more = true;
			break;
		}
		p->page_no++;
		snprintf(p->name, sizeof(p->name), "entries:list page %llu",
			 (unsigned long long)p->page_no);
		request_body(&body, names, n, filter, cfg->order_asc,
			     cfg->page_size, p->token.ptr);
		memset(&rq, 0, sizeof(rq));
		rq.method = "POST";
		rq.url = url;
		rq.body = body.ptr;
		rq.body_len = body.len;
		rq.pace_key = pace_key;
		rq.stream_cap = (uint64_t)cfg->page_size * ENTRY_BYTES_MAX +
				ENTRY_BYTES_MAX;
		rq.sink = &page_sink;
		rq.sink_ctx = p;
		rq.what = p->name;
		wd_api_result_init(&r);
		wd_err_clear(&err);
		ret = wd_api_do(p->api, &rq, &r, &err);
		if (ret < 0) {
			size_t w = p->s.warnings;
			bool told;

			/* The lost page shows in the report as an input
			 * that could not be read; wd_scan_fail also warns
			 * with the message (unless warnings are off). */
			wd_scan_begin(p->s.scanner, p->name);
			wd_scan_fail(p->s.scanner, err.msg);
			wd_scan_abandon(p->s.scanner, NULL);
			told = !cfg->quiet && p->s.warnings > w &&
			       p->s.warnings <= cfg->max_warnings;
			explain(p, &r, names, n, err.msg, told);
			wd_api_result_release(&r);
			break;
		}
		wd_api_result_release(&r);
		p->pages++;
		show_progress(p);
		if (p->enough) {
			*more = true;
			break;
		}
		if (p->token.len == 0)
			break;	/* an absent or empty token ends the list */
	}
	wd_buf_release(&body);
	return ret;
}

static void api_note_setup(struct wd_api_opts *o, struct pull *p)
{
	memset(o, 0, sizeof(*o));
	o->max_retries = p->cfg->max_retries;
	o->rate_per_min = p->cfg->rate_per_min;
	o->timeout_ms = WD_HTTP_TIMEOUT_MS;
	o->note = on_note;
	o->note_ctx = p;
}

/* ---- --step-log: what the failed step said narrows the pull ---- */

#define STEP_MAX_PRINCIPALS 8
#define STEP_BEFORE_S (15 * 60)	/* audit entries may precede the log line */
#define STEP_AFTER_S (5 * 60)

#define STEP_MAX_PERMISSIONS 32

struct step_facts {
	long long t_min, t_max;
	char *principals[STEP_MAX_PRINCIPALS];
	size_t nprincipals;
	char *perms[STEP_MAX_PERMISSIONS];	/* denied, per the rules */
	size_t nperms;
	bool other_denial;	/* an IAM denial naming no permission */
	uint64_t failures;
	char from[32], to[32];
	struct wd_ruleset *rules;
	struct wd_matcher *m;
	struct wd_verdict v;
	struct wd_buf clause;	/* the permission clause, if any */
};

static int step_entry(void *ctx, struct wd_entry *e)
{
	struct step_facts *sf = ctx;
	struct wd_str ts = wd_entry_get(e, WD_F_TIMESTAMP);
	struct wd_str pr = wd_entry_get(e, WD_F_PRINCIPAL);
	long long t;
	size_t i;

	if (!e->failure)
		return 0;
	sf->failures++;
	t = ts.ptr ? wd_parse_rfc3339(ts.ptr, ts.len) : -1;
	if (t >= 0) {
		if (sf->t_min < 0 || t < sf->t_min)
			sf->t_min = t;
		if (t > sf->t_max)
			sf->t_max = t;
	}
	if (sf->m) {
		/* Which permission the step was denied, as the rules say
		 * (the message often names it only in prose). */
		struct wd_str perm;

		wd_matcher_classify(sf->m, e, &sf->v);
		perm = wd_vars_get(&sf->v.vars, "permission");
		if (sf->v.category == WD_CAT_IAM_PERMISSION ||
		    sf->v.category == WD_CAT_IAM_DENY_POLICY) {
			if (!perm.ptr || perm.len == 0) {
				sf->other_denial = true;
			} else if (sf->nperms < STEP_MAX_PERMISSIONS) {
				bool dup = false;

				for (i = 0; i < sf->nperms; i++)
					if (wd_str_eq(perm, sf->perms[i]))
						dup = true;
				if (!dup)
					sf->perms[sf->nperms++] =
						wd_xstrndup(perm.ptr, perm.len);
			}
		}
	}
	if (pr.ptr && pr.len && sf->nprincipals < STEP_MAX_PRINCIPALS) {
		for (i = 0; i < sf->nprincipals; i++)
			if (wd_str_eq(pr, sf->principals[i]))
				return 0;
		sf->principals[sf->nprincipals++] = wd_xstrndup(pr.ptr, pr.len);
	}
	return 0;
}

static void step_warning(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;	/* the session reads the step log again and says it */
}

/* Reads the step log once, before the pull, for its failures' times,
 * principals and denied permissions. A window the user did not set
 * becomes the failures' time span (15 minutes before the first: ingestion
 * and clock lag; 5 after the last); principals the user did not name
 * become the step's; IAM denials (code 7) are narrowed to the permissions
 * the step was denied. Every other failure is kept: the cause of a denial
 * the step saw (billing, a disabled API, an org policy) is often a
 * failure of another kind. */
static void narrow_from_step_log(struct wd_config *cfg, struct step_facts *sf)
{
	static const struct wd_scan_ops ops = {
		.on_entry = step_entry, .on_warning = step_warning,
	};
	struct wd_scanner *s;
	struct wd_err err;
	size_t i, k;

	sf->t_min = sf->t_max = -1;
	{
		struct wd_ruleset *rs;

		if (wd_load_rules(&rs, cfg) == 0) {
			sf->m = wd_matcher_new(rs);
			sf->rules = rs;
		}
	}
	s = wd_scanner_new(&ops, sf);
	wd_scanner_set_text(s, wd_text_ops());
	(void)wd_scan_path(s, cfg->step_log, &err);
	wd_scanner_free(s);
	wd_matcher_free(sf->m);
	sf->m = NULL;
	wd_ruleset_free(sf->rules);
	sf->rules = NULL;
	if (sf->nperms > 0 && !sf->other_denial) {
		struct wd_err qerr;

		wd_buf_init(&sf->clause, WD_FILTER_MAX);
		if (cfg->filter)
			wd_buf_printf(&sf->clause, "(%s)\nAND ", cfg->filter);
		/* A missing field makes a comparison false, even !=: the
		 * "NOT ...:*" term keeps message-only failures; the message
		 * term keeps denials that name the permission only there
		 * (actAs). */
		wd_buf_adds(&sf->clause, "(protoPayload.status.code!=7 OR "
			    "NOT protoPayload.status.code:* OR "
			    "protoPayload.authorizationInfo.permission=(");
		for (i = 0; i < sf->nperms; i++) {
			if (i)
				wd_buf_adds(&sf->clause, " OR ");
			if (wd_filter_quote(&sf->clause, sf->perms[i],
					    &qerr) < 0)
				break;
		}
		wd_buf_adds(&sf->clause, ") OR protoPayload.status.message:(");
		for (k = 0; i == sf->nperms && k < sf->nperms; k++) {
			if (k)
				wd_buf_adds(&sf->clause, " OR ");
			if (wd_filter_quote(&sf->clause, sf->perms[k],
					    &qerr) < 0)
				i = 0;
		}
		wd_buf_adds(&sf->clause, "))");
		if (i == sf->nperms) {
			cfg->filter = sf->clause.ptr;
			if (!cfg->quiet)
				fprintf(stderr, "whydenied: --step-log: IAM "
					"denials of %s%s only\n", sf->perms[0],
					sf->nperms > 1 ? " and the step's "
					"other denied permissions" : "");
		}
	}
	if (sf->t_min >= 0 && !cfg->from && !cfg->to && !cfg->since_secs) {
		wd_format_rfc3339(sf->t_min - STEP_BEFORE_S, sf->from);
		wd_format_rfc3339(sf->t_max + STEP_AFTER_S, sf->to);
		cfg->from = sf->from;
		cfg->to = sf->to;
		if (!cfg->quiet)
			fprintf(stderr, "whydenied: --step-log: reading %s to "
				"%s, around the step's %llu failure%s\n",
				sf->from, sf->to,
				(unsigned long long)sf->failures,
				sf->failures == 1 ? "" : "s");
	}
	if (sf->nprincipals && cfg->principals.n == 0) {
		for (i = 0; i < sf->nprincipals && i < WD_MAX_LIST; i++)
			cfg->principals.v[cfg->principals.n++] =
				sf->principals[i];
		if (!cfg->quiet)
			fprintf(stderr, "whydenied: --step-log: only failures "
				"of %s%s\n", sf->principals[0],
				sf->nprincipals > 1 ? " and others the step "
				"named" : "");
	}
}

int wd_run_pull(const struct wd_config *cfg0)
{
	struct wd_config cfg = *cfg0;
	struct step_facts step;
	const char *names[MAX_RESOURCES];
	char *owned[MAX_RESOURCES];
	size_t n = 0, nowned = 0, i;
	char from[32], to[32];
	const char *endpoint, *env_project = NULL, *pace_key;
	struct wd_filter_spec spec;
	struct wd_cred_env env;
	struct wd_cred *cred = NULL;
	struct wd_api_opts ao;
	struct wd_buf filter, url;
	struct wd_err err;
	struct pull p;
	unsigned logs = 0;
	bool more = false, lost = false;
	int ret = WD_EXIT_USAGE;

	wd_err_clear(&err);
	wd_buf_init(&filter, WD_FILTER_MAX + 1);
	wd_buf_init(&url, 8192);
	memset(&p, 0, sizeof(p));
	memset(&step, 0, sizeof(step));
	if (cfg.args.n > 0) {
		fprintf(stderr, "whydenied: pull takes no PATH ('%s'); use "
			"whydenied scan for files\n", cfg.args.v[0]);
		goto out_usage;
	}
	if (cfg.step_log)
		narrow_from_step_log(&cfg, &step);
	if (window(&cfg, from, to, &err) < 0 ||
	    wd_filter_parse_logs(&logs, cfg.logs, &err) < 0)
		goto out_err;
	/* Both the server filter and the session's own time filter use the
	 * same bounds. */
	cfg.from = from;
	cfg.to = to;
	cfg.since_secs = 0;
	memset(&spec, 0, sizeof(spec));
	spec.from = from;
	spec.to = to;
	spec.logs = logs;
	spec.principals = cfg.principals.v;
	spec.nprincipals = cfg.principals.n;
	spec.extra = cfg.filter;
	if (wd_filter_build(&filter, &spec, &err) < 0)
		goto out_err;
	if (cfg.print_filter) {
		printf("%s\n", filter.ptr);
		ret = WD_EXIT_OK;
		goto out_usage;
	}
	if (resource_names(&cfg, names, &n, owned, &nowned, &err) < 0)
		goto out_err;
	if (n == 0) {
		env_project = getenv("GOOGLE_CLOUD_PROJECT");
		if (env_project == NULL || *env_project == '\0')
			env_project = getenv("CLOUDSDK_CORE_PROJECT");
		if (env_project == NULL || *env_project == '\0') {
			fprintf(stderr, "whydenied: pull needs --project, "
				"--organization, --folder, --billing-account or "
				"--resource-name (or GOOGLE_CLOUD_PROJECT)\n");
			goto out_usage;
		}
		if (add_name(names, &n, owned, &nowned, "projects/",
			     env_project, &err) < 0)
			goto out_err;
		if (!cfg.quiet)
			fprintf(stderr, "whydenied: reading project '%s' (from "
				"the environment)\n", env_project);
	}
	endpoint = cfg.endpoint && *cfg.endpoint ? cfg.endpoint :
		   DEFAULT_ENDPOINT;
	if (wd_api_check_endpoint(endpoint, &err) < 0)
		goto out_err;
	(void)wd_buf_adds(&url, endpoint);
	while (url.len > 0 && url.ptr[url.len - 1] == '/')
		url.ptr[--url.len] = '\0';
	(void)wd_buf_adds(&url, "/v2/entries:list");

	wd_cred_env_from_process(&env, cfg.access_token_file);
	if (wd_cred_discover(&cred, &env, &err) < 0)
		goto out_err;
	p.cfg = &cfg;
	p.cred = cred;
	p.tty = isatty(STDERR_FILENO);
	wd_buf_init(&p.token, WD_PAGE_TOKEN_MAX);
	wd_buf_init(&p.prefix, PREFIX_MAX);
	p.pc = wd_page_check_new("entries", cfg.page_size);
	api_note_setup(&ao, &p);
	if (wd_api_new(&p.api, cred, &ao, &err) < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		ret = WD_EXIT_INPUT;
		goto out_cred;
	}
	ret = wd_session_begin(&p.s, &cfg);
	if (ret) {
		wd_session_release(&p.s);
		goto out_api;
	}
	p.s.accept = accept;
	p.s.accept_ctx = &p;
	if (cfg.step_log) {
		/* The failed step's own output, read like scan reads it. */
		if (wd_scan_path(p.s.scanner, cfg.step_log, &err) < 0)
			fprintf(stderr, "whydenied: %s\n", err.msg);
	}
	/* entries.list is charged to one consumer project whatever the
	 * resources: one bucket for the quota project (or the caller's). */
	pace_key = wd_cred_quota_project(cred) ? wd_cred_quota_project(cred) :
		   "consumer";
	for (i = 0; i < n && !lost; i += WD_RESOURCE_NAMES_MAX) {
		size_t k = n - i < WD_RESOURCE_NAMES_MAX ? n - i :
			   WD_RESOURCE_NAMES_MAX;

		if (pull_batch(&p, url.ptr, names + i, k, filter.ptr,
			       pace_key, &more) < 0)
			lost = true;
		if (more)
			break;
	}
	clear_progress(&p);
	if (lost && p.pages == 0)
		say(&p, "nothing could be read from the Logging API: the "
		    "report below is empty because of that, not because "
		    "nothing failed");
	else if (lost)
		say(&p, "the report is INCOMPLETE: %s could not be read and "
		    "the pages after it were not requested; %llu page%s "
		    "read before it", p.name, (unsigned long long)p.pages,
		    p.pages == 1 ? " was" : "s were");
	else if (more && p.enough && !cfg.quiet)
		say(&p, "stopped after --max-entries %llu: more entries may "
		    "match", (unsigned long long)cfg.max_entries);
	else if (more && !cfg.quiet)
		say(&p, "stopped after --max-pages %llu: more entries match; "
		    "the report covers only those pages (narrow --since or "
		    "raise --max-pages)", (unsigned long long)cfg.max_pages);
	if (p.duplicates && !cfg.quiet)
		say(&p, "%llu entr%s sent twice (a retried page) %s analysed "
		    "once", (unsigned long long)p.duplicates,
		    p.duplicates == 1 ? "y" : "ies",
		    p.duplicates == 1 ? "was" : "were");
	ret = wd_session_finish(&p.s, "pull", !lost);
	wd_session_release(&p.s);
out_api:
	wd_api_free(p.api);
out_cred:
	wd_page_check_free(p.pc);
	wd_buf_release(&p.token);
	wd_buf_release(&p.prefix);
	dedup_release(&p.dd);
	wd_cred_free(cred);
	goto out_usage;
out_err:
	fprintf(stderr, "whydenied: %s\n", err.msg);
	ret = err.code == WD_EUSAGE ? WD_EXIT_USAGE : WD_EXIT_INPUT;
out_usage:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	for (i = 0; i < step.nprincipals; i++)
		free(step.principals[i]);
	for (i = 0; i < step.nperms; i++)
		free(step.perms[i]);
	wd_buf_release(&step.clause);
	wd_buf_release(&filter);
	wd_buf_release(&url);
	return ret;
}
