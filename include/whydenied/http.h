/* whydenied/http.h - one HTTP exchange over libcurl, with every limit set.
 *
 * A struct wd_http owns one curl easy handle, reused for every request so
 * that connections are kept alive. Each request has a connect timeout, a
 * whole-transfer timeout and a stall timeout; redirects are not followed
 * (an Authorization header never travels to another host); gzip is
 * accepted and the User-Agent is "whydenied/VERSION (gzip)".
 *
 * A response body is either kept in a capped buffer (small JSON answers,
 * error bodies) or, for a 2xx JSON answer when the request has on_body,
 * handed over in pieces as it arrives (entries:list pages). Error
 * messages never contain a URL's query string, a header value or a body.
 */
#ifndef WHYDENIED_HTTP_H
#define WHYDENIED_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whydenied/buf.h"
#include "whydenied/err.h"

#define WD_HTTP_BODY_CAP (1024u * 1024u)	/* default kept-body cap */
#define WD_HTTP_CONNECT_MS 15000L
#define WD_HTTP_TIMEOUT_MS 120000L
#define WD_HTTP_STALL_S 30L

enum wd_http_fail {
	WD_HTTP_OK,
	WD_HTTP_CONNECT,	/* could not resolve or connect */
	WD_HTTP_TIMEOUT,	/* connect, transfer or stall timeout */
	WD_HTTP_CUT,		/* connection closed or broken mid-response */
	WD_HTTP_ABORTED,	/* on_body asked to stop */
	WD_HTTP_TOO_LARGE,	/* a 2xx body passed its cap */
	WD_HTTP_OTHER,		/* TLS, content encoding, ... */
};

struct wd_http_request {
	const char *method;		/* "GET" or "POST" */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated */
	const char *body;		/* POST body (not copied) */
	size_t body_len;
	long connect_timeout_ms;	/* 0: WD_HTTP_CONNECT_MS */
	long timeout_ms;		/* 0: WD_HTTP_TIMEOUT_MS */
	long stall_s;			/* 0: WD_HTTP_STALL_S */
	size_t cap;			/* kept-body cap; 0: WD_HTTP_BODY_CAP */
	/* Streaming: a 2xx body with a JSON Content-Type goes here as it
	 * arrives. Return 0 to go on, >0 to stop reading (enough), <0 to
	 * abort (the value is kept in wd_http_response.sink_ret). */
	int (*on_body)(void *ctx, const char *p, size_t n);
	void *ctx;
	uint64_t stream_cap;		/* streamed bytes allowed; 0: none */
};

struct wd_http_response {
	long status;			/* 0: no HTTP response */
	struct wd_buf body;		/* kept body (not streamed) */
	bool truncated;			/* body passed the cap: prefix kept */
	bool streamed;			/* the body went to on_body */
	bool json;			/* Content-Type is JSON */
	char content_type[96];
	double retry_after;		/* Retry-After seconds; <0: none */
	bool metadata_flavor;		/* "Metadata-Flavor: Google" seen */
	uint64_t bytes;			/* body bytes received */
	enum wd_http_fail fail;
	int sink_ret;			/* on_body's non-zero return */
};

struct wd_http;

/* Creates a client; returns 0 or WD_EIO with err. */
int wd_http_new(struct wd_http **out, struct wd_err *err);
void wd_http_free(struct wd_http *h);	/* NULL is a no-op */

void wd_http_response_init(struct wd_http_response *rs);
void wd_http_response_release(struct wd_http_response *rs);

/* One exchange. Returns 0 when a whole response arrived (any status;
 * also a kept body cut at its cap, with truncated set, or a stream that
 * on_body stopped with >0). Returns WD_EIO with rs->fail and err set
 * when the exchange failed. rs (initialised) is cleared first. */
int wd_http_do(struct wd_http *h, const struct wd_http_request *rq,
	       struct wd_http_response *rs, struct wd_err *err);

/* Writes url without its query, fragment and user information into out
 * (for messages). */
void wd_http_safe_url(const char *url, char *out, size_t n);

/* Appends s to out form-urlencoded (application/x-www-form-urlencoded). */
int wd_http_form_escape(struct wd_buf *out, const char *s);

/* Seconds to wait before retry n (0 for the first): base * 2^n, at most
 * max, with jitter: a uniformly random point in its upper half. */
double wd_http_backoff(unsigned n, double base, double max);

/* Sleeps secs seconds (restarting after signals). */
void wd_http_sleep(double secs);

/* Seconds on a monotonic clock. */
double wd_http_clock(void);

/* The whole-request timeout in milliseconds: WHYDENIED_HTTP_TIMEOUT
 * (seconds) when set to a positive number, else dflt. The stall timeout
 * is never longer than it. */
long wd_http_timeout_ms(long dflt);

#endif
