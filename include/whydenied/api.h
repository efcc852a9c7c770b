/* whydenied/api.h - calling Google REST APIs: credentials, pacing,
 * retries, and checked JSON answers. Used by pull (Logging entries.list)
 * and roles update (IAM roles.list).
 *
 * A struct wd_api borrows a struct wd_cred and owns a struct wd_http.
 * Every request:
 *   - waits for its pacing bucket (a token bucket per key, e.g. per quota
 *     project: at most rate_per_min requests a minute, no burst);
 *   - carries "Authorization: Bearer", "x-goog-user-project" when the
 *     credentials name a quota project, and JSON content types;
 *   - is retried on 408, 429, 500, 502, 503, 504, timeouts, broken
 *     connections and malformed 2xx bodies, with exponential backoff and
 *     jitter (base 1 s, at most 32 s), or exactly the server's delay when
 *     it gives one (google.rpc.RetryInfo.retryDelay, Retry-After), up to
 *     max_retries times;
 *   - on 401 refreshes the token once and tries again, then fails;
 *   - is not retried on other 4xx (400, 403, 404 ...).
 *
 * Answers are either kept whole in a capped buffer (wd_api_do without a
 * sink) or streamed to a sink (paged listings: memory does not grow with
 * the answer).
 */
#ifndef WHYDENIED_API_H
#define WHYDENIED_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whydenied/auth.h"
#include "whydenied/buf.h"
#include "whydenied/err.h"
#include "whydenied/http.h"

#define WD_API_MAX_BUCKETS 16
#define WD_PAGE_TOKEN_MAX (64u * 1024u)

/* A google.rpc.Status error answer, the fields worth explaining. Strings
 * are cleaned (no control characters) and cut; empty when absent. */
struct wd_api_error {
	long http_status;
	char status[48];		/* "PERMISSION_DENIED" */
	char message[400];
	char reason[64];		/* ErrorInfo.reason */
	char domain[64];		/* ErrorInfo.domain */
	char permission[128];		/* ErrorInfo.metadata.permission */
	char quota_metric[128];		/* ErrorInfo.metadata.quota_metric */
	char quota_limit[128];		/* ErrorInfo.metadata.quota_limit */
	char consumer[128];		/* ErrorInfo.metadata.consumer */
	char service[128];		/* ErrorInfo.metadata.service */
	double retry_delay;		/* RetryInfo.retryDelay s; <0: none */
};

/* How an attempt whose 2xx JSON body was streamed ended. */
enum wd_api_end {
	WD_API_END_COMPLETE,	/* the whole body arrived */
	WD_API_END_STOPPED,	/* the sink said "enough" */
	WD_API_END_RETRY,	/* cut, timed out or malformed: tried again */
	WD_API_END_FAILED,	/* cut or malformed, no retry left */
};

struct wd_api_sink {
	/* A 2xx JSON body starts (once per attempt). */
	void (*begin)(void *ctx, unsigned attempt);
	/* Body bytes: return 0 to go on, >0 when enough was read (the rest
	 * is not fetched), WD_EFORMAT when the body is malformed (retried),
	 * other <0 to fail without retrying (err filled by the sink). */
	int (*data)(void *ctx, const char *p, size_t n, struct wd_err *err);
	/* The body ended. For WD_API_END_COMPLETE return WD_EFORMAT when
	 * the body was not complete JSON (retried), else 0. why says what
	 * happened for RETRY and FAILED. */
	int (*end)(void *ctx, enum wd_api_end how, const char *why,
		   struct wd_err *err);
};

struct wd_api_request {
	const char *method;		/* "GET" or "POST" */
	const char *url;
	const char *body;		/* JSON, POST only */
	size_t body_len;
	const char *pace_key;		/* NULL: not paced */
	size_t cap;			/* kept body cap; 0: WD_HTTP_BODY_CAP */
	uint64_t stream_cap;		/* streamed bytes; 0: no cap */
	const struct wd_api_sink *sink;	/* NULL: keep the body */
	void *sink_ctx;
	const char *what;		/* names the call in messages */
};

struct wd_api_result {
	long status;			/* last HTTP status; 0: none */
	struct wd_buf body;		/* kept body (no sink) */
	struct wd_api_error error;	/* for a non-2xx answer */
	unsigned attempts;		/* requests sent */
	bool exhausted;			/* failed after max_retries retries */
	bool transport;			/* the last failure was transport */
};

struct wd_api_opts {
	unsigned max_retries;
	double rate_per_min;		/* 0: no pacing */
	long timeout_ms;		/* per request; 0: default */
	/* Told about every retry ("HTTP 503, retrying in 1.2 s"); NULL:
	 * silent. */
	void (*note)(void *ctx, const char *msg);
	void *note_ctx;
};

/* Times of the requests sent, for progress lines and tests. */
struct wd_api_stats {
	uint64_t requests;
	uint64_t retries;
	uint64_t refreshes;
	double first_at, last_at;	/* wd_http_clock() */
};

struct wd_api;

/* cred is borrowed and must outlive the client. */
int wd_api_new(struct wd_api **out, struct wd_cred *cred,
	       const struct wd_api_opts *o, struct wd_err *err);
void wd_api_free(struct wd_api *a);	/* NULL is a no-op */

struct wd_http *wd_api_http(struct wd_api *a);
const struct wd_api_stats *wd_api_stats(const struct wd_api *a);

void wd_api_result_init(struct wd_api_result *r);
void wd_api_result_release(struct wd_api_result *r);

/* Sends rq with pacing, credentials and retries (see above). Returns 0
 * for a 2xx answer (kept in r->body, or streamed to the sink); else
 *   WD_EAPI   the API answered an error (r->status, r->error),
 *   WD_EIO    no answer (connect, timeout, cut) after the retries,
 *   WD_EFORMAT a 2xx answer that is not JSON or stays malformed,
 *   WD_EAUTH  no token could be obtained, or 401 after a refresh,
 *   other <0  from the sink,
 * with err saying what happened in one line (no secret in it). */
int wd_api_do(struct wd_api *a, const struct wd_api_request *rq,
	      struct wd_api_result *r, struct wd_err *err);

/* Parses a google.rpc.Status error body into e (fields left empty when
 * absent). Returns true when it was one. */
bool wd_api_parse_error(struct wd_api_error *e, const char *p, size_t n);

/* Paced waiting, exposed for tests: waits until key's bucket has a token
 * and takes it. */
void wd_api_pace(struct wd_api *a, const char *key);

/* ---- checking a paged JSON answer as it streams ----
 *
 * Validates that a body is one JSON object, counts the elements of its
 * top-level array `list` ("entries", "roles") and captures its top-level
 * "nextPageToken". Memory: the token (capped) and the parser's stack. */
struct wd_page_check;

struct wd_page_check *wd_page_check_new(const char *list, uint64_t max_items);
void wd_page_check_free(struct wd_page_check *pc);	/* NULL: no-op */
void wd_page_check_reset(struct wd_page_check *pc);

/* Feeds bytes; returns how many of them are part of valid JSON so far
 * (n when all are), and sets the error once invalid or past max_items. */
size_t wd_page_check_feed(struct wd_page_check *pc, const char *p, size_t n);

/* Ends the body: 0 when it was one complete JSON object, else WD_EFORMAT
 * (or WD_ELIMIT past max_items) with err. */
int wd_page_check_finish(struct wd_page_check *pc, struct wd_err *err);
bool wd_page_check_failed(const struct wd_page_check *pc, struct wd_err *err);

/* The captured nextPageToken ("" when absent or empty), and items. */
const char *wd_page_check_token(const struct wd_page_check *pc);
uint64_t wd_page_check_items(const struct wd_page_check *pc);
/* True once the top-level list array has begun. */
bool wd_page_check_list_seen(const struct wd_page_check *pc);

/* Checks an --endpoint: https://, or plain http:// only to this machine
 * (127.0.0.1, localhost, [::1]) so that a bearer token never travels in
 * clear text. Returns 0 or WD_EUSAGE with err. */
int wd_api_check_endpoint(const char *endpoint, struct wd_err *err);

#endif
