/* api.c - Google REST calls with credentials, pacing and retries (see
 * whydenied/api.h).
 *
 * Retry policy (reference section 1.4): the official ListLogEntries policy
 * retries only DEADLINE_EXCEEDED, INTERNAL and UNAVAILABLE; we also retry
 * 429 (with at least 1 s of backoff, doubling) because in CI a short wait
 * is better than no report, and 408/502/504, timeouts, cut connections
 * and malformed 2xx bodies (a proxy's hiccup). A server-given delay
 * (RetryInfo.retryDelay, Retry-After) is honoured as is, plus up to 10%
 * jitter, capped at 120 s. 400, 403, 404 and other 4xx are final.
 */
#include "whydenied/api.h"
#include "whydenied/jdom.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_parse.h>

#define BACKOFF_BASE_S 1.0
#define BACKOFF_MAX_S 32.0
#define SERVER_DELAY_MAX_S 120.0
#define ERROR_PARSE_MAX (64u * 1024u)
#define ERROR_BODY_CAP (64u * 1024u)

struct bucket {
	char key[128];
	double next;		/* monotonic time the next request may go */
};

struct wd_api {
	struct wd_cred *cred;
	struct wd_http *http;
	struct wd_api_opts o;
	struct bucket buckets[WD_API_MAX_BUCKETS];
	size_t nbuckets;
	struct wd_api_stats stats;
};

int wd_api_new(struct wd_api **out, struct wd_cred *cred,
	       const struct wd_api_opts *o, struct wd_err *err)
{
	struct wd_api *a = wd_xcalloc(1, sizeof(*a));
	int ret;

	ret = wd_http_new(&a->http, err);
	if (ret < 0) {
		free(a);
		return ret;
	}
	a->cred = cred;
	a->o = *o;
	*out = a;
	return 0;
}

void wd_api_free(struct wd_api *a)
{
	if (a == NULL)
		return;
	wd_http_free(a->http);
	free(a);
}

struct wd_http *wd_api_http(struct wd_api *a)
{
	return a->http;
}

const struct wd_api_stats *wd_api_stats(const struct wd_api *a)
{
	return &a->stats;
}

void wd_api_result_init(struct wd_api_result *r)
{
	memset(r, 0, sizeof(*r));
	wd_buf_init(&r->body, WD_HTTP_BODY_CAP);
	r->error.retry_delay = -1;
}

void wd_api_result_release(struct wd_api_result *r)
{
	wd_buf_release(&r->body);
}

/* ---- pacing ---- */

void wd_api_pace(struct wd_api *a, const char *key)
{
	struct bucket *b = NULL;
	double now, interval;
	size_t i;

	if (a->o.rate_per_min <= 0 || key == NULL)
		return;
	for (i = 0; i < a->nbuckets; i++)
		if (strcmp(a->buckets[i].key, key) == 0)
			b = &a->buckets[i];
	if (b == NULL) {
		/* More keys than buckets: share the last one (slower, never
		 * faster than the rate). */
		b = &a->buckets[a->nbuckets < WD_API_MAX_BUCKETS ?
				a->nbuckets++ : WD_API_MAX_BUCKETS - 1];
		if (b->key[0] == '\0')
			snprintf(b->key, sizeof(b->key), "%s", key);
	}
	/* A bucket of one token refilled every 60/rate seconds: requests
	 * are spaced evenly, never in a burst. 1% more, so that the server,
	 * which sees our requests with some network jitter, never counts
	 * more than rate in a minute. */
	interval = 60.0 / a->o.rate_per_min * 1.01;
	now = wd_http_clock();
	if (b->next > now)
		wd_http_sleep(b->next - now);
	/* From when this request really goes: a late wake-up never lets
	 * the next one come early. */
	b->next = wd_http_clock() + interval;
}

/* ---- error bodies ---- */

static void copy_clean(char *out, size_t n, const struct wd_jnode *j)
{
	size_t k = 0, i;

	if (n == 0)
		return;
	out[0] = '\0';
	if (j == NULL || j->type != WD_J_STR)
		return;
	for (i = 0; i < j->len && k + 1 < n; i++) {
		unsigned char c = (unsigned char)j->str[i];

		out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	out[k] = '\0';
}

static double duration(const char *s)
{
	char *end;
	double d;

	if (s == NULL)
		return -1;
	d = strtod(s, &end);
	if (end == s || (*end != 's' && *end != '\0') || d < 0)
		return -1;
	return d;
}

bool wd_api_parse_error(struct wd_api_error *e, const char *p, size_t n)
{
	struct wd_jnode *j = NULL;
	const struct wd_jnode *err, *details, *code;
	struct wd_err perr;
	long http = e->http_status;
	size_t i;

	memset(e, 0, sizeof(*e));
	e->http_status = http;
	e->retry_delay = -1;
	wd_err_clear(&perr);
	if (p == NULL || n == 0 || n > ERROR_PARSE_MAX ||
	    wd_jdom_parse(&j, p, n, &perr) < 0)
		return false;
	err = j->type == WD_J_OBJ ? wd_jdom_get(j, "error") : NULL;
	if (err == NULL || err->type != WD_J_OBJ) {
		wd_jdom_free(j);
		return false;
	}
	copy_clean(e->status, sizeof(e->status), wd_jdom_get(err, "status"));
	copy_clean(e->message, sizeof(e->message),
		   wd_jdom_get(err, "message"));
	code = wd_jdom_get(err, "code");
	if (code && code->type == WD_J_NUM && e->http_status == 0)
		e->http_status = strtol(code->str, NULL, 10);
	details = wd_jdom_get(err, "details");
	for (i = 0; details && details->type == WD_J_ARR && i < details->n;
	     i++) {
		const struct wd_jnode *d = details->kids[i], *t, *md;

		if (d->type != WD_J_OBJ)
			continue;
		t = wd_jdom_get(d, "@type");
		if (t == NULL || t->type != WD_J_STR)
			continue;
		if (strstr(t->str, "google.rpc.ErrorInfo")) {
			copy_clean(e->reason, sizeof(e->reason),
				   wd_jdom_get(d, "reason"));
			copy_clean(e->domain, sizeof(e->domain),
				   wd_jdom_get(d, "domain"));
			md = wd_jdom_get(d, "metadata");
			if (md && md->type == WD_J_OBJ) {
				copy_clean(e->permission,
					   sizeof(e->permission),
					   wd_jdom_get(md, "permission"));
				copy_clean(e->quota_metric,
					   sizeof(e->quota_metric),
					   wd_jdom_get(md, "quota_metric"));
				copy_clean(e->quota_limit,
					   sizeof(e->quota_limit),
					   wd_jdom_get(md, "quota_limit"));
				copy_clean(e->consumer, sizeof(e->consumer),
					   wd_jdom_get(md, "consumer"));
				copy_clean(e->service, sizeof(e->service),
					   wd_jdom_get(md, "service"));
			}
		} else if (strstr(t->str, "google.rpc.RetryInfo")) {
			const struct wd_jnode *rd =
				wd_jdom_get(d, "retryDelay");

			if (rd && rd->type == WD_J_STR)
				e->retry_delay = duration(rd->str);
		}
	}
	wd_jdom_free(j);
	return true;
}

/* ---- one request with retries ---- */

struct stream {
	const struct wd_api_request *rq;
	struct wd_err *err;	/* the sink's own error */
	bool begun;
	bool ended;
	unsigned attempt;
};

static int on_body(void *ctx, const char *p, size_t n)
{
	struct stream *x = ctx;

	if (!x->begun) {
		x->begun = true;
		x->ended = false;
		if (x->rq->sink->begin)
			x->rq->sink->begin(x->rq->sink_ctx, x->attempt);
	}
	return x->rq->sink->data(x->rq->sink_ctx, p, n, x->err);
}

enum outcome { O_OK, O_RETRY, O_FAIL, O_REFRESH };

static bool retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
	       s == 504;
}

static void status_text(char *out, size_t n, const struct wd_api_error *e,
			long status)
{
	if (e->status[0] && e->message[0])
		snprintf(out, n, "HTTP %ld %s: %s", status, e->status,
			 e->message);
	else if (e->status[0] || e->message[0])
		snprintf(out, n, "HTTP %ld %s", status,
			 e->status[0] ? e->status : e->message);
	else
		snprintf(out, n, "HTTP %ld", status);
}

static void note(struct wd_api *a, const char *fmt, ...) WD_PRINTF(2, 3);

static void note(struct wd_api *a, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (a->o.note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wd_cred_scrub(a->cred, msg);
	a->o.note(a->o.note_ctx, msg);
}

static int build_headers(struct wd_api *a, const struct wd_api_request *rq,
			 const char *token, struct wd_buf *auth,
			 struct wd_buf *quota, const char **hdrs)
{
	const char *qp = wd_cred_quota_project(a->cred);
	size_t k = 0;

	if (wd_buf_printf(auth, "Authorization: Bearer %s", token) < 0)
		return WD_ELIMIT;
	hdrs[k++] = auth->ptr;
	hdrs[k++] = "Accept: application/json";
	if (strcmp(rq->method, "POST") == 0)
		hdrs[k++] = "Content-Type: application/json";
	if (qp && *qp && !strpbrk(qp, "\r\n") &&
	    wd_buf_printf(quota, "x-goog-user-project: %s", qp) == 0)
		hdrs[k++] = quota->ptr;
	hdrs[k] = NULL;
	return 0;
}

int wd_api_do(struct wd_api *a, const struct wd_api_request *rq,
	      struct wd_api_result *r, struct wd_err *err)
{
	struct wd_http_request hrq;
	struct wd_http_response rs;
	struct wd_buf auth, quota;
	struct wd_err terr, serr;
	struct stream x;
	const char *hdrs[8], *token;
	const char *what = rq->what ? rq->what : "request";
	char why[768], safe[256];
	bool refreshed = false;
	unsigned retries = 0;
	enum outcome oc;
	double delay;
	int code = 0, ret;

	wd_http_safe_url(rq->url, safe, sizeof(safe));
	wd_http_response_init(&rs);
	wd_buf_init(&auth, 64 * 1024);
	wd_buf_init(&quota, 1024);
	for (;;) {
		wd_api_pace(a, rq->pace_key);
		ret = wd_cred_token(a->cred, a->http, &token, err);
		if (ret < 0)
			goto out;
		wd_buf_clear(&auth);
		wd_buf_clear(&quota);
		if (build_headers(a, rq, token, &auth, &quota, hdrs) < 0) {
			ret = wd_err_set(err, WD_ELIMIT, "access token too "
					 "long");
			goto out;
		}
		memset(&hrq, 0, sizeof(hrq));
		hrq.method = rq->method;
		hrq.url = rq->url;
		hrq.headers = hdrs;
		hrq.body = rq->body;
		hrq.body_len = rq->body_len;
		hrq.timeout_ms = wd_http_timeout_ms(a->o.timeout_ms);
		hrq.cap = rq->sink ? ERROR_BODY_CAP : rq->cap;
		hrq.stream_cap = rq->stream_cap;
		memset(&x, 0, sizeof(x));
		wd_err_clear(&serr);
		x.rq = rq;
		x.err = &serr;
		x.attempt = r->attempts;
		if (rq->sink) {
			hrq.on_body = on_body;
			hrq.ctx = &x;
		}
		wd_err_clear(&terr);
		ret = wd_http_do(a->http, &hrq, &rs, &terr);
		OPENSSL_cleanse(auth.ptr, auth.alloc);
		if (a->stats.requests == 0)
			a->stats.first_at = wd_http_clock();
		a->stats.last_at = wd_http_clock();
		a->stats.requests++;
		r->attempts++;
		r->status = rs.status;
		r->transport = false;
		delay = -1;
		oc = O_OK;
		why[0] = '\0';
		if (ret < 0) {
			if (rs.fail == WD_HTTP_ABORTED) {
				snprintf(why, sizeof(why), "%s", serr.msg);
				code = rs.sink_ret;
				oc = rs.sink_ret == WD_EFORMAT ? O_RETRY :
				     O_FAIL;
			} else if (rs.fail == WD_HTTP_TOO_LARGE) {
				snprintf(why, sizeof(why), "%s", terr.msg);
				code = WD_ELIMIT;
				oc = O_FAIL;
			} else {
				snprintf(why, sizeof(why), "%s", terr.msg);
				code = WD_EIO;
				r->transport = true;
				oc = O_RETRY;
			}
		} else if (rs.status >= 200 && rs.status < 300) {
			if (!rs.json) {
				snprintf(why, sizeof(why), "'%s' answered HTTP "
					 "%ld with %s%.60s%s, not JSON (a "
					 "proxy or captive portal, or a wrong "
					 "endpoint?)", safe, rs.status,
					 rs.content_type[0] ? "'" : "",
					 rs.content_type[0] ? rs.content_type :
					 "no Content-Type",
					 rs.content_type[0] ? "'" : "");
				code = WD_EFORMAT;
				oc = O_FAIL;
			} else if (rq->sink && !x.begun) {
				/* An empty 2xx body: not a JSON object. */
				x.begun = true;
				if (rq->sink->begin)
					rq->sink->begin(rq->sink_ctx,
							x.attempt);
			}
			if (oc == O_OK && rq->sink) {
				int e;

				/* wd_http_do returns 0 both for a whole body
				 * and for one the sink stopped (>0). */
				e = rq->sink->end(rq->sink_ctx,
						  rs.sink_ret > 0 ?
						  WD_API_END_STOPPED :
						  WD_API_END_COMPLETE, NULL,
						  &serr);
				if (e == WD_EFORMAT) {
					snprintf(why, sizeof(why), "%s",
						 serr.msg);
					code = WD_EFORMAT;
					oc = O_RETRY;
				} else if (e < 0) {
					snprintf(why, sizeof(why), "%s",
						 serr.msg);
					code = e;
					x.ended = true;
					oc = O_FAIL;
				} else {
					x.ended = true;
				}
			} else if (oc == O_OK) {
				wd_buf_release(&r->body);
				r->body = rs.body;
				wd_buf_init(&rs.body, WD_HTTP_BODY_CAP);
			}
		} else {
			r->error.http_status = rs.status;
			if (!rs.truncated)
				wd_api_parse_error(&r->error, rs.body.ptr,
						   rs.body.len);
			status_text(why, sizeof(why), &r->error, rs.status);
			if (rs.status == 401) {
				code = WD_EAUTH;
				oc = refreshed ? O_FAIL : O_REFRESH;
			} else if (retryable_status(rs.status)) {
				code = WD_EAPI;
				oc = O_RETRY;
				delay = r->error.retry_delay >= 0 ?
					r->error.retry_delay : rs.retry_after;
			} else {
				code = WD_EAPI;
				oc = O_FAIL;
			}
		}
		wd_cred_scrub(a->cred, why);
		if (oc == O_OK) {
			ret = 0;
			goto out;
		}
		if (oc == O_REFRESH) {
			/* 401: the token expired or was revoked; refresh
			 * once, without counting a retry or waiting. */
			refreshed = true;
			a->stats.refreshes++;
			note(a, "%s: %s; refreshing the access token", what,
			     why);
			ret = wd_cred_refresh(a->cred, a->http, err);
			if (ret < 0)
				goto out;
			continue;
		}
		if (oc == O_RETRY && retries < a->o.max_retries) {
			if (x.begun && !x.ended)
				rq->sink->end(rq->sink_ctx, WD_API_END_RETRY,
					      why, &serr);
			if (delay >= 0) {
				if (delay > SERVER_DELAY_MAX_S)
					delay = SERVER_DELAY_MAX_S;
				/* + up to 10%: backoff(0, b, b) is in
				 * [b/2, b] */
				delay += wd_http_backoff(0, delay * 0.2,
							 delay * 0.2) -
					 delay * 0.1;
			} else {
				delay = wd_http_backoff(retries,
							BACKOFF_BASE_S,
							BACKOFF_MAX_S);
			}
			retries++;
			a->stats.retries++;
			note(a, "%s: %s; retry %u of %u in %.1f s", what, why,
			     retries, a->o.max_retries, delay);
			wd_http_sleep(delay);
			continue;
		}
		/* Final. */
		if (x.begun && !x.ended)
			rq->sink->end(rq->sink_ctx, WD_API_END_FAILED, why,
				      &serr);
		r->exhausted = oc == O_RETRY;
		if (oc == O_RETRY && retries > 0)
			ret = wd_err_set(err, code, "%s: %s (gave up after %u "
					 "attempts)", what, why, r->attempts);
		else if (code == WD_EAUTH && refreshed)
			ret = wd_err_set(err, code, "%s: %s even after a "
					 "fresh access token from %s", what,
					 why, wd_cred_source(a->cred));
		else
			ret = wd_err_set(err, code, "%s: %s", what, why);
		goto out;
	}
out:
	wd_buf_release(&auth);
	wd_buf_release(&quota);
	wd_http_response_release(&rs);
	return ret;
}

/* ---- paged JSON checker ---- */

struct wd_page_check {
	yajl_handle h;
	char *list;
	uint64_t max_items;
	int depth;
	bool key_list;		/* the last depth-1 key was list */
	bool key_token;		/* ... was nextPageToken */
	bool in_list;		/* inside the top-level list array */
	bool list_seen;		/* the top-level list array began */
	bool started;		/* a top-level value began */
	bool done;		/* the top-level object closed */
	uint64_t items;
	struct wd_buf token;
	int failed;		/* 0, WD_EFORMAT or WD_ELIMIT */
	char msg[160];
	uint64_t offset;	/* bytes accepted */
};

static int top_value(struct wd_page_check *pc, bool container, bool map)
{
	if (pc->depth == 0) {
		if (!map || pc->started) {
			pc->failed = WD_EFORMAT;
			snprintf(pc->msg, sizeof(pc->msg), "the answer is not "
				 "a JSON object");
			return 0;
		}
		pc->started = true;
	} else if (pc->depth == 2 && pc->in_list) {
		if (++pc->items > pc->max_items && pc->max_items) {
			pc->failed = WD_ELIMIT;
			snprintf(pc->msg, sizeof(pc->msg), "the page holds "
				 "more than %llu items, more than asked for",
				 (unsigned long long)pc->max_items);
			return 0;
		}
	}
	(void)container;
	return 1;
}

static int pc_null(void *ctx)
{
	struct wd_page_check *pc = ctx;

	pc->key_list = pc->key_token = false;
	return top_value(pc, false, false);
}

static int pc_bool(void *ctx, int b)
{
	(void)b;
	return pc_null(ctx);
}

static int pc_number(void *ctx, const char *s, size_t n)
{
	(void)s;
	(void)n;
	return pc_null(ctx);
}

static int pc_string(void *ctx, const unsigned char *s, size_t n)
{
	struct wd_page_check *pc = ctx;

	if (pc->depth == 1 && pc->key_token) {
		wd_buf_clear(&pc->token);
		if (wd_buf_add(&pc->token, s, n) < 0) {
			pc->failed = WD_ELIMIT;
			snprintf(pc->msg, sizeof(pc->msg), "nextPageToken is "
				 "longer than %u bytes", WD_PAGE_TOKEN_MAX);
			return 0;
		}
	}
	return pc_null(ctx);
}

static int pc_start_map(void *ctx)
{
	struct wd_page_check *pc = ctx;

	if (!top_value(pc, true, true))
		return 0;
	pc->key_list = pc->key_token = false;
	pc->depth++;
	return 1;
}

static int pc_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct wd_page_check *pc = ctx;

	if (pc->depth == 1) {
		pc->key_list = strlen(pc->list) == n &&
			       memcmp(k, pc->list, n) == 0;
		pc->key_token = n == 13 && memcmp(k, "nextPageToken", 13) == 0;
	}
	return 1;
}

static int pc_end_map(void *ctx)
{
	struct wd_page_check *pc = ctx;

	pc->depth--;
	if (pc->depth == 0)
		pc->done = true;
	return 1;
}

static int pc_start_array(void *ctx)
{
	struct wd_page_check *pc = ctx;

	if (pc->depth == 0) {
		(void)top_value(pc, true, false);
		return 0;
	}
	if (!top_value(pc, true, false))
		return 0;
	if (pc->depth == 1 && pc->key_list)
		pc->in_list = pc->list_seen = true;
	pc->key_list = pc->key_token = false;
	pc->depth++;
	return 1;
}

static int pc_end_array(void *ctx)
{
	struct wd_page_check *pc = ctx;

	pc->depth--;
	if (pc->depth == 1)
		pc->in_list = false;
	return 1;
}

static const yajl_callbacks pc_callbacks = {
	pc_null, pc_bool, NULL, NULL, pc_number, pc_string,
	pc_start_map, pc_map_key, pc_end_map, pc_start_array, pc_end_array,
};

struct wd_page_check *wd_page_check_new(const char *list, uint64_t max_items)
{
	struct wd_page_check *pc = wd_xcalloc(1, sizeof(*pc));

	pc->list = wd_xstrdup(list);
	pc->max_items = max_items;
	wd_buf_init(&pc->token, WD_PAGE_TOKEN_MAX);
	wd_page_check_reset(pc);
	return pc;
}

void wd_page_check_free(struct wd_page_check *pc)
{
	if (pc == NULL)
		return;
	if (pc->h)
		yajl_free(pc->h);
	wd_buf_release(&pc->token);
	free(pc->list);
	free(pc);
}

void wd_page_check_reset(struct wd_page_check *pc)
{
	if (pc->h)
		yajl_free(pc->h);
	pc->h = yajl_alloc(&pc_callbacks, NULL, pc);
	pc->depth = 0;
	pc->key_list = pc->key_token = pc->in_list = false;
	pc->list_seen = false;
	pc->started = pc->done = false;
	pc->items = 0;
	pc->failed = 0;
	pc->msg[0] = '\0';
	pc->offset = 0;
	wd_buf_clear(&pc->token);
}

size_t wd_page_check_feed(struct wd_page_check *pc, const char *p, size_t n)
{
	yajl_status st;
	size_t used;

	if (pc->failed)
		return 0;
	st = yajl_parse(pc->h, (const unsigned char *)p, n);
	if (st == yajl_status_ok) {
		pc->offset += n;
		return n;
	}
	used = yajl_get_bytes_consumed(pc->h);
	if (used > 0)
		used--;	/* the byte that failed is not valid */
	if (used > n)
		used = n;
	if (!pc->failed) {
		pc->failed = WD_EFORMAT;
		snprintf(pc->msg, sizeof(pc->msg), "malformed JSON at byte "
			 "%llu of the answer",
			 (unsigned long long)(pc->offset + used));
	}
	pc->offset += used;
	return used;
}

int wd_page_check_finish(struct wd_page_check *pc, struct wd_err *err)
{
	if (pc->failed)
		return wd_err_set(err, pc->failed, "%s", pc->msg);
	if (yajl_complete_parse(pc->h) != yajl_status_ok || !pc->done) {
		pc->failed = WD_EFORMAT;
		snprintf(pc->msg, sizeof(pc->msg), pc->started ?
			 "the answer ends inside JSON, after %llu bytes" :
			 "the answer is empty (%llu bytes), not a JSON object",
			 (unsigned long long)pc->offset);
		return wd_err_set(err, pc->failed, "%s", pc->msg);
	}
	return 0;
}

bool wd_page_check_failed(const struct wd_page_check *pc, struct wd_err *err)
{
	if (!pc->failed)
		return false;
	wd_err_set(err, pc->failed, "%s", pc->msg);
	return true;
}

const char *wd_page_check_token(const struct wd_page_check *pc)
{
	return pc->token.ptr ? pc->token.ptr : "";
}

uint64_t wd_page_check_items(const struct wd_page_check *pc)
{
	return pc->items;
}

bool wd_page_check_list_seen(const struct wd_page_check *pc)
{
	return pc->list_seen;
}

/* A bearer token never travels in clear text except to this machine. */
int wd_api_check_endpoint(const char *ep, struct wd_err *err)
{
	static const char *const local[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]",
	};
	size_t i, k;

	if (strncmp(ep, "https://", 8) == 0)
		return 0;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		k = strlen(local[i]);
		if (strncmp(ep, local[i], k) == 0 &&
		    (ep[k] == ':' || ep[k] == '/' || ep[k] == '\0'))
			return 0;
	}
	return wd_err_set(err, WD_EUSAGE, "--endpoint '%.200s' must be an "
			  "https:// URL (plain http only to this machine)",
			  ep);
}
