/* http.c - one HTTP exchange over libcurl (see whydenied/http.h). */
#include "whydenied/http.h"
#include "whydenied/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#define USER_AGENT "whydenied/" WD_VERSION " (gzip)"

struct wd_http {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

struct xfer {
	CURL *curl;
	const struct wd_http_request *rq;
	struct wd_http_response *rs;
	size_t cap;
	bool decided;
	bool stop_ok;		/* on_body said "enough" */
};

int wd_http_new(struct wd_http **out, struct wd_err *err)
{
	struct wd_http *h;

	/* Reference-counted and thread-safe since libcurl 7.84 (Debian 12
	 * has 7.88); released in wd_http_free. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return wd_err_set(err, WD_EIO, "cannot initialise libcurl");
	h = wd_xcalloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		curl_global_cleanup();
		return wd_err_set(err, WD_EIO, "cannot create a libcurl "
				  "handle");
	}
	*out = h;
	return 0;
}

void wd_http_free(struct wd_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
	curl_global_cleanup();
}

void wd_http_response_init(struct wd_http_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	wd_buf_init(&rs->body, WD_HTTP_BODY_CAP);
	rs->retry_after = -1;
}

void wd_http_response_release(struct wd_http_response *rs)
{
	wd_buf_release(&rs->body);
}

void wd_http_safe_url(const char *url, char *out, size_t n)
{
	const char *p = url, *at, *slash, *host;
	size_t k = 0;

	if (n == 0)
		return;
	host = strstr(url, "://");
	host = host ? host + 3 : url;
	slash = strpbrk(host, "/?#");
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	while (*p && *p != '?' && *p != '#' && k + 1 < n) {
		if (at && p == host)
			p = at + 1;	/* drop user:password@ */
		out[k++] = *p++;
	}
	out[k] = '\0';
}

int wd_http_form_escape(struct wd_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int ret = 0;

	for (p = (const unsigned char *)s; *p && ret == 0; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~')
			ret = wd_buf_addc(out, (char)*p);
		else if (*p == ' ')
			ret = wd_buf_addc(out, '+');
		else
			ret = wd_buf_add(out, (char[]){ '%', hex[*p >> 4],
							hex[*p & 15] }, 3);
	}
	return ret;
}

static bool header_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && strncasecmp(line, name, k) == 0 && line[k] == ':';
}

static void header_value(const char *line, size_t n, size_t skip, char *out,
			 size_t cap)
{
	size_t i = skip, k = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (i < n && line[i] != '\r' && line[i] != '\n' && k + 1 < cap)
		out[k++] = line[i++];
	while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t'))
		k--;
	out[k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	char v[64];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the last. */
		x->rs->retry_after = -1;
		x->rs->metadata_flavor = false;
	} else if (header_is(p, n, "retry-after")) {
		char *end;
		double d;

		header_value(p, n, 12, v, sizeof(v));
		d = strtod(v, &end);
		if (end != v && *end == '\0' && d >= 0 && d < 86400)
			x->rs->retry_after = d;
	} else if (header_is(p, n, "metadata-flavor")) {
		header_value(p, n, 16, v, sizeof(v));
		x->rs->metadata_flavor = strcmp(v, "Google") == 0;
	}
	return n;
}

static void decide(struct xfer *x)
{
	struct wd_http_response *rs = x->rs;
	long code = 0;
	char *ct = NULL;

	x->decided = true;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &ct);
	if (ct) {
		snprintf(rs->content_type, sizeof(rs->content_type), "%s", ct);
		/* application/json, application/problem+json, text/json */
		rs->json = strstr(ct, "json") != NULL;
	}
	rs->streamed = x->rq->on_body && code >= 200 && code < 300 && rs->json;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct wd_http_response *rs = x->rs;
	size_t n = size * nmemb, room;
	int r;

	if (!x->decided)
		decide(x);
	rs->bytes += n;
	if (rs->streamed) {
		if (x->rq->stream_cap && rs->bytes > x->rq->stream_cap) {
			rs->fail = WD_HTTP_TOO_LARGE;
			return 0;
		}
		r = x->rq->on_body(x->rq->ctx, p, n);
		if (r > 0) {
			x->stop_ok = true;
			return 0;
		}
		if (r < 0) {
			rs->sink_ret = r;
			rs->fail = WD_HTTP_ABORTED;
			return 0;
		}
		return n;
	}
	room = x->cap > rs->body.len ? x->cap - rs->body.len : 0;
	if (n > room) {
		/* Keep the prefix (enough to explain an error) and stop: an
		 * endless body must not keep us reading. */
		(void)wd_buf_add(&rs->body, p, room);
		rs->truncated = true;
		return 0;
	}
	if (wd_buf_add(&rs->body, p, n) < 0) {
		rs->truncated = true;
		return 0;
	}
	return n;
}

static enum wd_http_fail classify(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return WD_HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return WD_HTTP_TIMEOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return WD_HTTP_CUT;
	default:
		return WD_HTTP_OTHER;
	}
}

static int setup(struct wd_http *h, const struct wd_http_request *rq,
		 struct xfer *x, struct curl_slist **hdrs)
{
	CURL *c = h->curl;
	const char *const *hp;
	struct curl_slist *l = NULL, *t;
	long timeout_ms = rq->timeout_ms ? rq->timeout_ms : WD_HTTP_TIMEOUT_MS;
	long stall_s = rq->stall_s ? rq->stall_s : WD_HTTP_STALL_S;
	int bad = 0;

	if (stall_s * 1000 > timeout_ms)
		stall_s = timeout_ms >= 2000 ? timeout_ms / 1000 : 1;
	curl_easy_reset(c);	/* keeps the connection cache */
	h->errbuf[0] = '\0';
	for (hp = rq->headers; hp && *hp; hp++) {
		t = curl_slist_append(l, *hp);
		if (t == NULL)
			goto out_nomem;
		l = t;
	}
	t = curl_slist_append(l, "Expect:");
	if (t == NULL)
		goto out_nomem;
	l = t;
	*hdrs = l;
	bad |= curl_easy_setopt(c, CURLOPT_URL, rq->url);
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	bad |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
				rq->connect_timeout_ms ?
				rq->connect_timeout_ms : WD_HTTP_CONNECT_MS);
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s);
	bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	if (strcmp(rq->method, "POST") == 0) {
		bad |= curl_easy_setopt(c, CURLOPT_POST, 1L);
		bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS,
					rq->body ? rq->body : "");
		bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)(rq->body ?
						     rq->body_len : 0));
	} else {
		bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	return bad ? WD_EIO : 0;
out_nomem:
	curl_slist_free_all(l);
	return WD_ENOMEM;
}

int wd_http_do(struct wd_http *h, const struct wd_http_request *rq,
	       struct wd_http_response *rs, struct wd_err *err)
{
	struct xfer x;
	struct curl_slist *hdrs = NULL;
	char safe[256];
	CURLcode c;
	long code = 0;
	int ret;

	wd_buf_release(&rs->body);
	wd_http_response_init(rs);
	memset(&x, 0, sizeof(x));
	x.curl = h->curl;
	x.rq = rq;
	x.rs = rs;
	x.cap = rq->cap ? rq->cap : WD_HTTP_BODY_CAP;
	rs->body.cap = x.cap;
	wd_http_safe_url(rq->url, safe, sizeof(safe));
	ret = setup(h, rq, &x, &hdrs);
	if (ret < 0) {
		curl_slist_free_all(hdrs);
		rs->fail = WD_HTTP_OTHER;
		return wd_err_set(err, WD_EIO, "cannot set up the request to "
				  "'%s'", safe);
	}
	c = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	if (!x.decided && c == CURLE_OK)
		decide(&x);	/* an empty body: still learn its type */
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	rs->status = code;
	if (c == CURLE_OK)
		return 0;
	if (c == CURLE_WRITE_ERROR) {
		if (x.stop_ok)
			return 0;
		if (rs->fail == WD_HTTP_ABORTED)
			return wd_err_set(err, WD_EIO, "reading '%s' was "
					  "stopped", safe);
		if (rs->fail == WD_HTTP_TOO_LARGE)
			return wd_err_set(err, WD_EIO, "the answer of '%s' is "
					  "larger than %llu bytes", safe,
					  (unsigned long long)rq->stream_cap);
		if (rs->truncated && !(code >= 200 && code < 300 &&
				       rs->json))
			return 0;	/* an error or non-JSON body's prefix */
		rs->fail = WD_HTTP_TOO_LARGE;
		return wd_err_set(err, WD_EIO, "the answer of '%s' is larger "
				  "than %zu bytes", safe, x.cap);
	}
	rs->fail = classify(c);
	switch (rs->fail) {
	case WD_HTTP_CONNECT:
		return wd_err_set(err, WD_EIO, "cannot connect to '%s': %s",
				  safe, h->errbuf[0] ? h->errbuf :
				  curl_easy_strerror(c));
	case WD_HTTP_TIMEOUT:
		return wd_err_set(err, WD_EIO, "'%s' timed out: %s", safe,
				  h->errbuf[0] ? h->errbuf :
				  curl_easy_strerror(c));
	case WD_HTTP_CUT:
		return wd_err_set(err, WD_EIO, "the connection to '%s' broke "
				  "after %llu body bytes: %s", safe,
				  (unsigned long long)rs->bytes,
				  h->errbuf[0] ? h->errbuf :
				  curl_easy_strerror(c));
	default:
		return wd_err_set(err, WD_EIO, "request to '%s' failed: %s",
				  safe, h->errbuf[0] ? h->errbuf :
				  curl_easy_strerror(c));
	}
}

double wd_http_backoff(unsigned n, double base, double max)
{
	unsigned char r[4];
	double d = base, u;
	unsigned i;

	for (i = 0; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0x80, sizeof(r));
	u = (double)(((uint32_t)r[0] << 24) | ((uint32_t)r[1] << 16) |
		     ((uint32_t)r[2] << 8) | r[3]) / 4294967296.0;
	return d / 2 + u * d / 2;
}

void wd_http_sleep(double secs)
{
	struct timespec ts, rem;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

double wd_http_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long wd_http_timeout_ms(long dflt)
{
	const char *v = getenv("WHYDENIED_HTTP_TIMEOUT");
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return dflt;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || d <= 0 || d > 86400)
		return dflt;
	return (long)(d * 1000);
}
