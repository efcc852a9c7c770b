/* text.c - failure records from step output (see whydenied/text.h).
 *
 * One state per input. Each line is normalised (norm.c), then offered to
 * the record being read, if any (a message continues, a Details block or
 * YAML follows, ...); otherwise it may start a new record. Terraform
 * diagnostics are tracked around the records: a box ("╷" ... "╵") or an
 * unboxed "Error: " block, whose "with ADDRESS," and "on FILE line N" lines
 * give the location of the records read inside it, which are therefore
 * emitted when the diagnostic ends.
 *
 * A record is finished by writing the REST error body the tool rendered -
 * {"error":{code,status,message,errors,details}} - and decoding it with
 * the same decoder as audit entries, so that the same fields are filled
 * and the same rules classify it; tool, source, location and timestamp
 * are added after. Every buffer is capped: a block past its cap is given
 * up, and the record keeps what was read before it.
 */
#include "whydenied/text.h"
#include "whydenied/decoder.h"
#include "text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define SCRATCH_MAX (1024u * 1024u + 64u)
#define BODY_MAX (WD_TX_MSG_MAX + 3u * WD_TX_BLOCK_MAX + 65536u)
#define SMALL_MAX 4096u
#define TS_MAX 48
/* A record equal to the one emitted just before, within this many lines,
 * is the same error printed again (chained exceptions, "Caused by:"). */
#define REPEAT_LINES 50
/* gcloud prints a few lines (a Help link, "Help Token: ...") between the
 * message and its YAML details. */
#define GCLOUD_SKIP_MAX 4

enum tool { T_TERRAFORM, T_GCLOUD, T_REST, T_GRPC, T_PYTHON, T_NODE };

static const char *const tool_names[] = {
	"terraform", "gcloud", "rest", "grpc", "python", "node",
};

enum phase {
	PH_MSG,			/* the message may continue */
	PH_DETAILS_OPEN,	/* after "Details:", before its "[" */
	PH_DETAILS,		/* inside the Details JSON array */
	PH_AFTER_DETAILS,	/* the optional ", reason" line */
	PH_MORE,		/* "More details:" Reason/Message lines */
	PH_TAIL,		/* blank lines, context, Go detail lines */
	PH_YAML,		/* gcloud's YAML details */
	PH_FETCH,		/* gcloud "Could not fetch resource:" items */
	PH_PY,			/* Python details spanning lines */
	PH_JSON,		/* a REST error body spanning lines */
	PH_JSON_MAYBE,		/* a lone "{": a REST body if "error" next */
	PH_DONE,		/* complete; waits for its diagnostic to end */
};

enum raw_kind { RAW_NONE, RAW_JSON, RAW_YAML, RAW_PY, RAW_REST };

struct rec {
	bool active;
	enum tool tool;
	enum phase ph;
	bool in_diag;		/* read inside a Terraform diagnostic */
	bool googleapi;		/* "googleapi: Error N:" (legacy suffix) */
	bool bare;		/* REST body without the "error" wrapper */
	bool fetch_item;	/* gcloud: an item replaced the header */
	int skipped;		/* gcloud: lines skipped before the YAML */
	int http;		/* HTTP status, or -1 */
	int code;		/* google.rpc.Code, or -1 */
	struct wd_buf msg;
	struct wd_buf errors;	/* errors[] items (JSON) */
	struct wd_buf items;	/* details[] items (JSON, Go lines) */
	struct wd_buf raw;	/* block text of raw_kind */
	enum raw_kind raw_kind;
	bool raw_bad;		/* the block passed its cap */
	struct wd_tx_bal bal;
	uint64_t line;
	char ts[TS_MAX];
};

struct diag {
	bool active;
	bool boxed;
	bool summary;		/* its "Error:" line was seen */
	bool warning;		/* a "Warning:" diagnostic */
	bool has_on;
	uint64_t line;
	char ts[TS_MAX];
	struct wd_buf address;
	struct wd_buf file;
	long fline;
};

/* Fields of a `terraform apply -json` diagnostic line. */
struct tfjson {
	int stack[8];
	int depth;
	int key;
	struct wd_buf level, type, ts, summary, detail, address, file;
	long line;
};

struct tstate {
	char *path;
	struct wd_decoder *dec;
	struct wd_entry *entry;
	struct wd_buf scratch;
	struct wd_buf body;
	struct wd_buf tmp;
	struct rec rec;
	struct diag diag;
	struct tfjson tj;
	bool virt;		/* feeding lines of a -json diagnostic */
	int (*emit)(void *sctx, struct wd_entry *e);
	void *sctx;
	int stop;
	uint64_t last_sig, last_line;
	bool have_last;
};

/* ---- small helpers -------------------------------------------------- */

static bool prefix(struct wd_str s, const char *lit)
{
	return wd_str_has_prefix(s, lit);
}

static struct wd_str str_of(const char *p, size_t n)
{
	struct wd_str s = { p, n };

	return s;
}

static struct wd_str after(struct wd_str s, size_t k)
{
	return str_of(s.ptr + k, s.len - k);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper_name(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static long number(const char *p, size_t n, size_t *used)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n && i < 9 && is_digit(p[i]); i++)
		v = v * 10 + (p[i] - '0');
	*used = i;
	return i ? v : -1;
}

static void set_ts(char *dst, const char *p, size_t n)
{
	if (p == NULL || n == 0 || n >= TS_MAX) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Appends text to a capped buffer; past the cap the rest is dropped. */
static void add_capped(struct wd_buf *b, const char *p, size_t n)
{
	if (wd_buf_add(b, p, n) < 0 && b->cap > b->len)
		wd_buf_add(b, p, b->cap - b->len - 1);
}

/* google.rpc.Code of a Go gRPC code name ("PermissionDenied"). */
static int grpc_code(const char *p, size_t n)
{
	static const char *const names[] = {
		"OK", "Canceled", "Unknown", "InvalidArgument",
		"DeadlineExceeded", "NotFound", "AlreadyExists",
		"PermissionDenied", "ResourceExhausted", "FailedPrecondition",
		"Aborted", "OutOfRange", "Unimplemented", "Internal",
		"Unavailable", "DataLoss", "Unauthenticated",
	};
	size_t i, used;
	long v;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (wd_mem_eq(p, n, names[i]))
			return (int)i;
	if (n > 6 && memcmp(p, "Code(", 5) == 0) {
		v = number(p + 5, n - 5, &used);
		if (v >= 0 && v <= 16)
			return (int)v;
	}
	return -1;
}

/* Python google.api_core exception classes. */
static const struct {
	const char *name;
	int code;		/* google.rpc.Code, or -1 (from HTTP) */
} py_classes[] = {
	{ "PermissionDenied", 7 }, { "Forbidden", -1 },
	{ "Unauthenticated", 16 }, { "Unauthorized", -1 },
	{ "NotFound", 5 }, { "BadRequest", -1 },
	{ "InvalidArgument", 3 }, { "FailedPrecondition", 9 },
	{ "OutOfRange", 11 }, { "ResourceExhausted", 8 },
	{ "TooManyRequests", -1 }, { "Conflict", -1 },
	{ "AlreadyExists", 6 }, { "Aborted", 10 },
	{ "PreconditionFailed", -1 }, { "Cancelled", 1 },
	{ "InternalServerError", 13 }, { "Unknown", 2 },
	{ "DataLoss", 15 }, { "MethodNotImplemented", 12 },
	{ "ServiceUnavailable", 14 }, { "GatewayTimeout", -1 },
	{ "DeadlineExceeded", 4 }, { "BadGateway", -1 },
	{ "MethodNotAllowed", -1 }, { "LengthRequired", -1 },
};

/* ---- where a record starts ------------------------------------------ */

enum start_kind {
	S_GOOGLEAPI, S_RPC, S_OPCODE, S_GCLOUD, S_PYTHON, S_HTTPERROR, S_NODE,
	S_JAVA, S_REST, S_REST_MAYBE,
};

struct start {
	enum start_kind kind;
	enum tool tool;
	int http;
	int code;
	struct wd_str msg;	/* the message on this line */
	bool fetch;		/* gcloud "Could not fetch resource:" */
	bool bare;		/* REST body without "error" */
	const char *at;		/* S_REST: "{"; S_PYTHON: details "[" */
	struct wd_str reason;	/* S_HTTPERROR: the legacy reason */
};

static void start_init(struct start *s, enum start_kind k, enum tool t)
{
	memset(s, 0, sizeof(*s));
	s->kind = k;
	s->tool = t;
	s->http = -1;
	s->code = -1;
}

/* googleapi: Error 403: msg / googleapi: got HTTP response code 404 with
 * body: text (google-api-go-client). */
static bool find_googleapi(struct wd_str l, struct start *s,
			   const char **pos)
{
	const char *q = wd_tx_find(l.ptr, l.len, "googleapi: ");
	struct wd_str r;
	size_t used;
	long v;

	if (q == NULL)
		return false;
	r = str_of(q + 11, l.len - (size_t)(q + 11 - l.ptr));
	if (prefix(r, "Error ")) {
		v = number(r.ptr + 6, r.len - 6, &used);
		if (v < 100 || used != 3 || r.len < 6 + used + 1 ||
		    r.ptr[6 + used] != ':')
			return false;
		r = after(r, 6 + used + 1);
	} else if (prefix(r, "got HTTP response code ")) {
		v = number(r.ptr + 23, r.len - 23, &used);
		if (v < 100 || used != 3)
			return false;
		r = after(r, 23 + used);
		if (prefix(r, " with body:"))
			r = after(r, 11);
	} else {
		return false;
	}
	start_init(s, S_GOOGLEAPI, T_REST);
	s->http = (int)v;
	s->msg = wd_tx_trim(r.ptr, r.len);
	*pos = q;
	return true;
}

/* rpc error: code = PermissionDenied desc = msg (grpc-go). */
static bool find_rpc(struct wd_str l, struct start *s, const char **pos)
{
	const char *q = wd_tx_find(l.ptr, l.len, "rpc error: code = ");
	const char *d;
	struct wd_str r;
	size_t nl;

	if (q == NULL)
		return false;
	r = str_of(q + 18, l.len - (size_t)(q + 18 - l.ptr));
	d = wd_tx_find(r.ptr, r.len, " desc = ");
	nl = d ? (size_t)(d - r.ptr) : wd_tx_trim(r.ptr, r.len).len;
	start_init(s, S_RPC, T_GRPC);
	s->code = grpc_code(r.ptr, nl);
	if (s->code < 0)
		s->code = 2;
	s->msg = d ? wd_tx_trim(d + 8, r.len - nl - 8) : str_of(r.ptr, 0);
	*pos = q;
	return true;
}

/* Error code 9, message: msg (the Google provider's operation errors). */
static bool find_opcode(struct wd_str l, struct start *s, const char **pos)
{
	const char *q = wd_tx_find(l.ptr, l.len, "Error code ");
	struct wd_str r;
	size_t used;
	long v;

	if (q == NULL)
		return false;
	r = str_of(q + 11, l.len - (size_t)(q + 11 - l.ptr));
	v = number(r.ptr, r.len, &used);
	if (v < 0 || v > 16 || !prefix(after(r, used), ", message: "))
		return false;
	start_init(s, S_OPCODE, T_TERRAFORM);
	s->code = (int)v;
	r = after(r, used + 11);
	s->msg = wd_tx_trim(r.ptr, r.len);
	*pos = q;
	return true;
}

/* ERROR: (gcloud.group.command) STATUS: msg, HTTPError 403: msg, or
 * "Could not fetch resource:" followed by " - msg" lines. */
static bool find_gcloud(struct wd_str l, struct start *s)
{
	const char *q = wd_tx_find(l.ptr, l.len, "ERROR: (gcloud");
	const char *c;
	struct wd_str r;
	size_t i, used;
	int code;
	long v;

	if (q == NULL)
		return false;
	r = str_of(q, l.len - (size_t)(q - l.ptr));
	c = memchr(r.ptr, ')', r.len);
	if (c == NULL)
		return false;
	r = after(r, (size_t)(c - r.ptr) + 1);
	r = wd_tx_trim(r.ptr, r.len);
	start_init(s, S_GCLOUD, T_GCLOUD);
	if (prefix(r, "Could not fetch resource:")) {
		s->fetch = true;
		s->msg = r;
		return true;
	}
	for (i = 0; i < r.len && is_upper_name(r.ptr[i]); i++)
		;
	code = i > 1 && i + 1 < r.len && r.ptr[i] == ':' ?
	       wd_status_code_from_name(r.ptr, i) : -1;
	if (code >= 0) {
		s->code = code;
		r = after(r, i + 1);
	} else if (prefix(r, "HTTPError ")) {
		v = number(r.ptr + 10, r.len - 10, &used);
		if (v >= 100 && used == 3 && r.len > 10 + used &&
		    r.ptr[10 + used] == ':') {
			s->http = (int)v;
			r = after(r, 10 + used + 1);
		}
	}
	s->msg = wd_tx_trim(r.ptr, r.len);
	return true;
}

/* Where Python's details list starts in msg: " [" followed by a protobuf
 * field ("reason: ", "links {") or a dict ("{'"). */
static const char *py_details_start(struct wd_str m)
{
	const char *q = m.ptr, *end = m.ptr + m.len;

	while ((q = memchr(q, '[', (size_t)(end - q))) != NULL) {
		const char *k = q + 1;

		if (q > m.ptr && q[-1] == ' ') {
			if (k < end && *k == '{')
				return q;
			while (k < end && ((*k >= 'a' && *k <= 'z') ||
					   *k == '_'))
				k++;
			if (k > q + 1 && k + 1 < end &&
			    ((k[0] == ':' && k[1] == ' ') ||
			     (k[0] == ' ' && k[1] == '{')))
				return q;
		}
		q++;
	}
	return NULL;
}

/* google.api_core.exceptions.PermissionDenied: 403 msg [details]. */
static bool find_python(struct wd_str l, struct start *s)
{
	const char *q = l.ptr, *end = l.ptr + l.len;

	while ((q = wd_tx_find(q, (size_t)(end - q), ": ")) != NULL) {
		const char *w = q;
		size_t i, used;
		long v;

		q += 2;
		while (w > l.ptr && is_alpha(w[-1]))
			w--;
		if (w == q - 2 || (w > l.ptr && w[-1] != '.' && w[-1] != ' ' &&
				   w[-1] != ':' && w[-1] != '('))
			continue;
		v = number(q, (size_t)(end - q), &used);
		if (v < 100 || v > 599 || used != 3 ||
		    (q + 3 < end && q[3] != ' '))
			continue;
		for (i = 0; i < sizeof(py_classes) / sizeof(py_classes[0]);
		     i++) {
			if (!wd_mem_eq(w, (size_t)(q - 2 - w),
				       py_classes[i].name))
				continue;
			start_init(s, S_PYTHON, T_PYTHON);
			s->http = (int)v;
			s->code = py_classes[i].code;
			s->msg = wd_tx_trim(q + 3, (size_t)(end - q - 3 > 0 ?
						     end - q - 3 : 0));
			if (q + 3 >= end)
				s->msg = str_of(end, 0);
			s->at = py_details_start(s->msg);
			return true;
		}
	}
	return false;
}

/* "7 PERMISSION_DENIED: msg" at p: the code number must be the status's. */
static bool node_at(struct wd_str r, struct start *s)
{
	size_t used, i;
	long v;

	v = number(r.ptr, r.len, &used);
	if (v < 1 || v > 16 || used > 2 || used >= r.len ||
	    r.ptr[used] != ' ')
		return false;
	r = after(r, used + 1);
	for (i = 0; i < r.len && is_upper_name(r.ptr[i]); i++)
		;
	if (i + 1 >= r.len || r.ptr[i] != ':' ||
	    wd_status_code_from_name(r.ptr, i) != (int)v)
		return false;
	start_init(s, S_NODE, T_NODE);
	s->code = (int)v;
	r = after(r, i + 1);
	s->msg = wd_tx_trim(r.ptr, r.len);
	return true;
}

/* googleapiclient: <HttpError 403 when requesting URL returned "msg".
 * Details: "[{'message': 'msg', 'domain': 'global', 'reason': 'forbidden'}]">
 * (the details are the legacy errors[]; their first reason is kept). */
static bool find_httperror(struct wd_str l, struct start *s)
{
	const char *q = wd_tx_find(l.ptr, l.len, "<HttpError ");
	const char *end = l.ptr + l.len, *m, *d, *r;
	size_t used;
	long v;

	if (q == NULL)
		return false;
	q += 11;
	v = number(q, (size_t)(end - q), &used);
	if (v < 100 || used != 3)
		return false;
	start_init(s, S_HTTPERROR, T_PYTHON);
	s->http = (int)v;
	m = wd_tx_find(q, (size_t)(end - q), " returned \"");
	if (m == NULL)
		return true;
	m += 11;
	d = wd_tx_find(m, (size_t)(end - m), "\". Details: \"");
	if (d == NULL) {
		for (d = end; d > m && !(d[-1] == '>' && d - 1 > m &&
					 d[-2] == '"'); d--)
			;
		d = d > m ? d - 2 : end;
	} else {
		r = wd_tx_find(d, (size_t)(end - d), "'reason': '");
		if (r != NULL) {
			const char *e;

			r += 11;
			e = memchr(r, '\'', (size_t)(end - r));
			if (e != NULL)
				s->reason = str_of(r, (size_t)(e - r));
		}
	}
	s->msg = wd_tx_trim(m, (size_t)(d - m));
	return true;
}

/* Node (grpc-js): "Error: 7 PERMISSION_DENIED: msg", or the message alone
 * at the start of a line. */
static bool find_node(struct wd_str l, struct start *s)
{
	const char *q = l.ptr, *end = l.ptr + l.len;

	if (node_at(wd_tx_trim(l.ptr, l.len), s))
		return true;
	while ((q = wd_tx_find(q, (size_t)(end - q), "Error: ")) != NULL) {
		q += 7;
		if (node_at(str_of(q, (size_t)(end - q)), s))
			return true;
	}
	return false;
}

/* STATUS: msg - Java's StatusRuntimeException, or a line that starts with
 * a canonical status name. */
static bool find_java(struct wd_str l, struct start *s)
{
	const char *q = wd_tx_find(l.ptr, l.len, "StatusRuntimeException: ");
	struct wd_str r = wd_tx_trim(l.ptr, l.len);
	size_t i;
	int code;

	if (q == NULL)
		q = wd_tx_find(l.ptr, l.len, "StatusException: ");
	if (q != NULL) {
		q = memchr(q, ' ', (size_t)(l.ptr + l.len - q));
		r = str_of(q + 1, (size_t)(l.ptr + l.len - q - 1));
	}
	for (i = 0; i < r.len && is_upper_name(r.ptr[i]); i++)
		;
	if (i < 2 || i + 1 >= r.len || r.ptr[i] != ':' || r.ptr[i + 1] != ' ')
		return false;
	code = wd_status_code_from_name(r.ptr, i);
	if (code <= 0)
		return false;
	start_init(s, S_JAVA, T_GRPC);
	s->code = code;
	r = after(r, i + 1);
	s->msg = wd_tx_trim(r.ptr, r.len);
	return true;
}

/* The last occurrence of lit in l, or NULL. */
static const char *last_of(struct wd_str l, const char *lit)
{
	const char *q = l.ptr, *end = l.ptr + l.len, *last = NULL, *f;

	while ((f = wd_tx_find(q, (size_t)(end - q), lit)) != NULL) {
		last = f;
		q = f + 1;
	}
	return last;
}

/* A REST error body: a "{" whose first key is "error" holding an object,
 * or a bare Status object ({"code": .., "message": .., "status": ..}). */
static bool find_rest(struct wd_str l, struct start *s)
{
	const char *q = l.ptr, *end = l.ptr + l.len;
	struct wd_str t = wd_tx_trim(l.ptr, l.len);
	const char *msg, *code, *status;

	if (wd_mem_eq(t.ptr, t.len, "{")) {
		start_init(s, S_REST_MAYBE, T_REST);
		s->at = t.ptr;
		return true;
	}
	if (memchr(l.ptr, '{', l.len) == NULL)
		return false;
	/* Looked up once: a bare Status needs "message" and "code" or
	 * "status" after its "{" (a line may hold many "{"). */
	msg = last_of(l, "\"message\"");
	code = last_of(l, "\"code\"");
	status = last_of(l, "\"status\"");
	while ((q = memchr(q, '{', (size_t)(end - q))) != NULL) {
		struct wd_str k = str_of(q + 1, (size_t)(end - q - 1));

		k = wd_tx_trim(k.ptr, k.len);
		if (prefix(k, "\"error\"")) {
			k = after(k, 7);
			k = wd_tx_trim(k.ptr, k.len);
			if (prefix(k, ":")) {
				k = after(k, 1);
				k = wd_tx_trim(k.ptr, k.len);
				if (prefix(k, "{")) {
					start_init(s, S_REST, T_REST);
					s->at = q;
					return true;
				}
			}
		} else if ((prefix(k, "\"code\"") || prefix(k, "\"message\"") ||
			    prefix(k, "\"status\"")) && msg > q &&
			   (code > q || status > q)) {
			start_init(s, S_REST, T_REST);
			s->at = q;
			s->bare = true;
			return true;
		}
		q++;
	}
	return false;
}

/* The first record start on the line, if any. */
static bool find_start(struct tstate *st, const struct wd_tx_line *l,
		       struct start *s)
{
	struct wd_str line = str_of(l->p, l->n);
	struct start a, b;
	const char *pa = NULL, *pb = NULL;
	bool ga, gb;

	if (find_gcloud(line, s))
		return true;
	ga = find_googleapi(line, &a, &pa);
	gb = find_rpc(line, &b, &pb);
	if (!ga && !gb && st->diag.active)
		ga = find_opcode(line, &a, &pa);
	if (ga || gb) {
		*s = ga && (!gb || pa <= pb) ? a : b;
		if (st->diag.active)
			s->tool = T_TERRAFORM;
		return true;
	}
	return find_python(line, s) || find_httperror(line, s) ||
	       find_node(line, s) || find_java(line, s) || find_rest(line, s);
}

/* ---- records -------------------------------------------------------- */

static void rec_clear(struct rec *r)
{
	r->active = false;
	r->ph = PH_MSG;
	r->in_diag = r->googleapi = r->bare = r->fetch_item = false;
	r->skipped = 0;
	r->http = r->code = -1;
	wd_buf_clear(&r->msg);
	wd_buf_clear(&r->errors);
	wd_buf_clear(&r->items);
	wd_buf_clear(&r->raw);
	r->raw_kind = RAW_NONE;
	r->raw_bad = false;
	memset(&r->bal, 0, sizeof(r->bal));
	r->line = 0;
	r->ts[0] = '\0';
}

static void msg_append(struct rec *r, struct wd_str t)
{
	if (t.len == 0)
		return;
	if (r->msg.len > 0)
		add_capped(&r->msg, " ", 1);
	add_capped(&r->msg, t.ptr, t.len);
}

/* Appends a line of a block to raw, giving the block up past its cap. */
static void raw_append(struct rec *r, const char *p, size_t n, bool nl)
{
	if (r->raw_bad)
		return;
	if ((nl && r->raw.len > 0 && wd_buf_addc(&r->raw, '\n') < 0) ||
	    wd_buf_add(&r->raw, p, n) < 0)
		r->raw_bad = true;
}

static void diag_clear(struct diag *d)
{
	d->active = d->boxed = d->summary = d->warning = d->has_on = false;
	d->line = 0;
	d->ts[0] = '\0';
	wd_buf_clear(&d->address);
	wd_buf_clear(&d->file);
	d->fline = -1;
}

/* Replaces the value of the record's failure field by "true". */
static void force_failure(struct wd_entry *e)
{
	size_t i;

	for (i = 0; i < e->nvals; i++) {
		if (e->vals[i].field == WD_F_FAILURE) {
			e->vals[i].ptr = "true";
			e->vals[i].len = 4;
		}
	}
	e->failure = true;
}

static void add_kept(struct tstate *st, enum wd_field f, const char *p,
		     size_t n)
{
	const char *k = wd_decoder_keep(st->dec, p, n);

	if (k)
		wd_entry_add(st->entry, f, k, n);
}

/* A project id after "projects/" (not "_" or "-"), or empty. */
static struct wd_str project_after(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || is_digit(p[i]) ||
			 p[i] == '-' || p[i] == '.' || p[i] == ':'))
		i++;
	if (i < n && p[i] != '/' && p[i] != '\'' && p[i] != '"' &&
	    p[i] != ' ' && p[i] != ',' && p[i] != ')' && p[i] != ']' &&
	    p[i] != '?')
		return str_of(p, 0);
	/* A sentence may end right after it: "project 123." */
	while (i > 0 && (p[i - 1] == '.' || p[i - 1] == ':' ||
			 p[i - 1] == '-'))
		i--;
	return str_of(p, i >= 2 ? i : 0);
}

/* The project a text error names: ErrorInfo metadata (consumer, resource,
 * project), a violation subject, then the message ("projects/ID",
 * "project ID", "project #N", "project 'ID'"). */
static struct wd_str text_project(const struct wd_entry *e)
{
	static const char *const keys[] = { "consumer", "resource", "project" };
	struct wd_str m = wd_entry_get(e, WD_F_STATUS_MESSAGE), v, s;
	const char *q;
	size_t i, pos;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		pos = 0;
		while (wd_entry_next(e, WD_F_ERROR_METADATA, keys[i],
				     strlen(keys[i]), &pos, &v)) {
			if (i < 2 && prefix(v, "projects/")) {
				s = project_after(v.ptr + 9, v.len - 9);
				if (s.len)
					return s;
			} else if (i == 2 && v.len > 0 && v.len < 64) {
				return v;
			}
		}
	}
	pos = 0;
	while (wd_entry_next(e, WD_F_VIOLATION_SUBJECT, NULL, 0, &pos, &v)) {
		if (prefix(v, "projects/")) {
			s = project_after(v.ptr + 9, v.len - 9);
			if (s.len)
				return s;
		}
	}
	if (m.ptr == NULL)
		return str_of(NULL, 0);
	q = m.ptr;
	while ((q = wd_tx_find(q, m.len - (size_t)(q - m.ptr),
			       "projects/")) != NULL) {
		q += 9;
		s = project_after(q, m.len - (size_t)(q - m.ptr));
		if (s.len)
			return s;
	}
	q = wd_tx_find(m.ptr, m.len, " project ");
	while (q != NULL) {
		struct wd_str r = str_of(q + 9,
					 m.len - (size_t)(q + 9 - m.ptr));

		if (prefix(r, "#") || prefix(r, "'"))
			r = after(r, 1);
		s = project_after(r.ptr, r.len);
		if (s.len)
			return s;
		q = wd_tx_find(r.ptr, r.len, " project ");
	}
	return str_of(NULL, 0);
}

/* gcloud: "... authenticated as X which is the active account" and
 * "[X] does not have permission". */
static struct wd_str text_principal(const struct wd_entry *e)
{
	struct wd_str m = wd_entry_get(e, WD_F_STATUS_MESSAGE), s;
	const char *q;
	size_t i;

	if (m.ptr == NULL)
		return str_of(NULL, 0);
	q = wd_tx_find(m.ptr, m.len, "authenticated as ");
	if (q) {
		s = str_of(q + 17, m.len - (size_t)(q + 17 - m.ptr));
		for (i = 0; i < s.len && s.ptr[i] != ' '; i++)
			;
		if (i > 0 && memchr(s.ptr, '@', i))
			return str_of(s.ptr, i);
	}
	q = wd_tx_find(m.ptr, m.len, "] does not have permission");
	if (q) {
		const char *o = q;

		while (o > m.ptr && o[-1] != '[')
			o--;
		if (o > m.ptr && memchr(o, '@', (size_t)(q - o)) &&
		    !memchr(o, ' ', (size_t)(q - o)))
			return str_of(o, (size_t)(q - o));
	}
	return str_of(NULL, 0);
}

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h ^ 0xff;
}

/* Writes the REST body the record stands for into st->body. */
static int build_body(struct tstate *st, bool with_raw, bool with_items)
{
	struct rec *r = &st->rec;
	struct wd_buf *b = &st->body;
	const char *name;
	bool details = false;
	int ret;

	wd_buf_clear(b);
	ret = wd_buf_adds(b, "{\"error\":{\"message\":");
	if (ret == 0)
		ret = wd_tx_json_str(b, r->msg.ptr ? r->msg.ptr : "",
				     r->msg.len);
	if (ret == 0 && (r->http >= 100 || r->code >= 0))
		ret = wd_buf_printf(b, ",\"code\":%d",
				    r->http >= 100 ? r->http : r->code);
	name = r->code >= 0 ? wd_status_name(r->code) : NULL;
	if (ret == 0 && name)
		ret = wd_buf_printf(b, ",\"status\":\"%s\"", name);
	if (ret == 0 && r->errors.len > 0)
		ret = wd_buf_printf(b, ",\"errors\":[%s]", r->errors.ptr);
	if (ret == 0 && with_raw && st->tmp.len > 0) {
		/* A converted or verbatim array; Go items join it. */
		const char *close = st->tmp.ptr + st->tmp.len;

		while (close > st->tmp.ptr && close[-1] != ']')
			close--;
		close = close > st->tmp.ptr ? close - 1 : NULL;

		if (close == NULL)
			return WD_EFORMAT;
		ret = wd_buf_adds(b, ",\"details\":");
		if (ret == 0)
			ret = wd_buf_add(b, st->tmp.ptr,
					 (size_t)(close - st->tmp.ptr));
		if (ret == 0 && with_items && r->items.len > 0) {
			struct wd_str in = wd_tx_trim(st->tmp.ptr,
						      (size_t)(close -
							       st->tmp.ptr));

			ret = wd_buf_adds(b, in.len > 1 ? "," : "");
			if (ret == 0)
				ret = wd_buf_add(b, r->items.ptr,
						 r->items.len);
		}
		if (ret == 0)
			ret = wd_buf_addc(b, ']');
		details = true;
	}
	if (ret == 0 && !details && with_items && r->items.len > 0)
		ret = wd_buf_printf(b, ",\"details\":[%s]", r->items.ptr);
	if (ret == 0)
		ret = wd_buf_adds(b, "}}");
	return ret;
}

static int try_decode(struct tstate *st, bool with_raw, bool with_items)
{
	struct wd_err err;
	enum wd_skip why;

	wd_err_clear(&err);
	if (build_body(st, with_raw, with_items) < 0)
		return WD_ELIMIT;
	return wd_decoder_decode(st->dec, st->body.ptr, st->body.len,
				 st->entry, &why, &err);
}

/* Decodes the record into st->entry. Returns 0 or <0 (drop it). */
static int decode_rec(struct tstate *st)
{
	struct rec *r = &st->rec;
	struct wd_err err;
	enum wd_skip why;
	int ret;

	if (st->dec == NULL)
		st->dec = wd_decoder_new();
	wd_buf_clear(&st->tmp);
	if (r->raw_kind == RAW_REST) {
		if (r->raw_bad || !r->bal.done)
			return WD_EFORMAT;
		wd_err_clear(&err);
		if (!r->bare)
			return wd_decoder_decode(st->dec, r->raw.ptr,
						 r->raw.len, st->entry, &why,
						 &err);
		wd_buf_clear(&st->body);
		ret = wd_buf_adds(&st->body, "{\"error\":");
		if (ret == 0)
			ret = wd_buf_add(&st->body, r->raw.ptr, r->raw.len);
		if (ret == 0)
			ret = wd_buf_addc(&st->body, '}');
		if (ret < 0)
			return ret;
		return wd_decoder_decode(st->dec, st->body.ptr, st->body.len,
					 st->entry, &why, &err);
	}
	if (!r->raw_bad && r->raw.len > 0) {
		if (r->raw_kind == RAW_JSON)
			wd_buf_add(&st->tmp, r->raw.ptr, r->raw.len);
		else if (r->raw_kind == RAW_YAML)
			wd_tx_yaml_details(&st->tmp, r->raw.ptr, r->raw.len);
		else if (r->raw_kind == RAW_PY)
			wd_tx_py_details(&st->tmp, r->raw.ptr, r->raw.len);
	}
	/* With everything; without the block (it may be cut or not JSON);
	 * without any details. */
	if (st->tmp.len > 0 && try_decode(st, true, true) == 0)
		return 0;
	if (r->items.len > 0 && try_decode(st, false, true) == 0)
		return 0;
	return try_decode(st, false, false);
}

/* The legacy reason googleapi appends to a message without Details:
 * "msg, forbidden". */
static void split_legacy(struct rec *r)
{
	struct wd_str m = wd_tx_trim(r->msg.ptr ? r->msg.ptr : "", r->msg.len);
	size_t i = m.len;
	char item[128];
	int k;

	while (i > 0 && is_alpha(m.ptr[i - 1]))
		i--;
	if (m.len - i < 3 || m.len - i > 60 || i < 3 ||
	    m.ptr[i] < 'a' || m.ptr[i] > 'z' ||
	    m.ptr[i - 1] != ' ' || m.ptr[i - 2] != ',')
		return;
	k = snprintf(item, sizeof(item), "{\"reason\":\"%.*s\"}",
		     (int)(m.len - i), m.ptr + i);
	if (r->errors.len == 0 && k > 0 && (size_t)k < sizeof(item))
		wd_buf_add(&r->errors, item, (size_t)k);
	r->msg.len = (size_t)(m.ptr - r->msg.ptr) + i - 2;
	r->msg.ptr[r->msg.len] = '\0';
}

static bool first_reason_is(const struct rec *r, const char *reason)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "{\"reason\":\"%s\"}", reason);
	return r->errors.len >= strlen(pat) &&
	       memcmp(r->errors.ptr, pat, strlen(pat)) == 0;
}

/* Emits the record read so far, if any. */
static void finish(struct tstate *st)
{
	struct rec *r = &st->rec;
	struct wd_entry *e = st->entry;
	struct wd_str s;
	struct wd_buf lb;
	char src[48], *ls;
	uint64_t sig;
	int k, ret;

	if (!r->active)
		return;
	r->active = false;
	if (st->emit == NULL || st->stop != 0 || r->ph == PH_JSON_MAYBE)
		return;
	if (r->googleapi && r->raw.len == 0 && r->errors.len == 0)
		split_legacy(r);
	if (r->code < 0 && r->http == 400 &&
	    first_reason_is(r, "failedPrecondition"))
		r->code = 9;
	if (decode_rec(st) < 0)
		return;
	if (!e->failure) {
		if (r->raw_kind == RAW_REST ||
		    (wd_entry_has(e, WD_F_STATUS_CODE) &&
		     wd_str_eq(wd_entry_get(e, WD_F_STATUS_CODE), "0")))
			return;
		force_failure(e);
	}
	add_kept(st, WD_F_TOOL, tool_names[r->tool],
		 strlen(tool_names[r->tool]));
	/* Location: "ADDRESS (FILE:LINE)", or either part. */
	wd_buf_init(&lb, 2 * SMALL_MAX + 64);
	if (r->in_diag && st->diag.address.len > 0)
		wd_buf_add(&lb, st->diag.address.ptr, st->diag.address.len);
	if (r->in_diag && st->diag.file.len > 0) {
		wd_buf_adds(&lb, lb.len ? " (" : "");
		wd_buf_add(&lb, st->diag.file.ptr, st->diag.file.len);
		if (st->diag.fline >= 0)
			wd_buf_printf(&lb, ":%ld", st->diag.fline);
		wd_buf_adds(&lb, st->diag.address.len ? ")" : "");
	}
	if (lb.len > 0)
		add_kept(st, WD_F_LOCATION, lb.ptr, lb.len);
	/* Source: FILE:LINE of the error's first line (of its Terraform
	 * diagnostic when it has one). */
	wd_buf_clear(&lb);
	k = snprintf(src, sizeof(src), ":%llu", (unsigned long long)
		     (r->in_diag && st->diag.line ? st->diag.line : r->line));
	ls = st->path;
	if (wd_buf_add(&lb, ls, strlen(ls) > SMALL_MAX ? SMALL_MAX :
		       strlen(ls)) == 0 && wd_buf_add(&lb, src, (size_t)k) == 0)
		add_kept(st, WD_F_SOURCE, lb.ptr, lb.len);
	wd_buf_release(&lb);
	if (!wd_entry_has(e, WD_F_TIMESTAMP)) {
		const char *ts = r->ts[0] ? r->ts :
				 (r->in_diag ? st->diag.ts : "");

		if (ts[0])
			add_kept(st, WD_F_TIMESTAMP, ts, strlen(ts));
	}
	if (!wd_entry_has(e, WD_F_PROJECT)) {
		s = text_project(e);
		if (s.len)
			add_kept(st, WD_F_PROJECT, s.ptr, s.len);
	}
	if (!wd_entry_has(e, WD_F_PRINCIPAL)) {
		s = text_principal(e);
		if (s.len)
			add_kept(st, WD_F_PRINCIPAL, s.ptr, s.len);
	}
	e->file = st->path;
	e->line = r->in_diag && st->diag.line ? st->diag.line : r->line;
	e->offset = 0;
	/* The same error printed again just after is not a new failure. */
	sig = fnv(14695981039346656037ull, tool_names[r->tool],
		  strlen(tool_names[r->tool]));
	s = wd_entry_get(e, WD_F_STATUS_CODE);
	sig = fnv(sig, s.ptr ? s.ptr : "", s.len);
	s = wd_entry_get(e, WD_F_STATUS_MESSAGE);
	sig = fnv(sig, s.ptr ? s.ptr : "", s.len);
	s = wd_entry_get(e, WD_F_LOCATION);
	sig = fnv(sig, s.ptr ? s.ptr : "", s.len);
	if (st->have_last && st->last_sig == sig &&
	    e->line - st->last_line <= REPEAT_LINES) {
		st->last_line = e->line;
		return;
	}
	st->have_last = true;
	st->last_sig = sig;
	st->last_line = e->line;
	ret = st->emit(st->sctx, e);
	if (ret < 0)
		st->stop = ret;
}

static void start_record(struct tstate *st, const struct wd_tx_line *l,
			 uint64_t lineno, const struct start *s)
{
	struct rec *r = &st->rec;
	struct wd_str m = s->msg;
	size_t used;

	finish(st);
	rec_clear(r);
	r->active = true;
	r->tool = s->tool;
	r->http = s->http;
	r->code = s->code;
	r->line = lineno;
	r->in_diag = st->diag.active;
	set_ts(r->ts, l->ts, l->ts_len);
	r->googleapi = s->kind == S_GOOGLEAPI;
	switch (s->kind) {
	case S_GCLOUD:
		msg_append(r, m);
		r->ph = s->fetch ? PH_FETCH : PH_MSG;
		break;
	case S_PYTHON:
		if (s->at == NULL) {
			msg_append(r, m);
			break;
		}
		msg_append(r, wd_tx_trim(m.ptr, (size_t)(s->at - m.ptr)));
		m = str_of(s->at, m.len - (size_t)(s->at - m.ptr));
		r->raw_kind = RAW_PY;
		used = wd_tx_bal_feed(&r->bal, m.ptr, m.len, true);
		raw_append(r, m.ptr, used, false);
		if (r->bal.done)
			finish(st);
		else
			r->ph = PH_PY;
		break;
	case S_REST:
	case S_REST_MAYBE:
		m = str_of(s->at, l->n - (size_t)(s->at - l->p));
		r->raw_kind = RAW_REST;
		r->bare = s->bare;
		used = wd_tx_bal_feed(&r->bal, m.ptr, m.len, false);
		raw_append(r, m.ptr, used, false);
		if (r->bal.done)
			finish(st);
		else
			r->ph = s->kind == S_REST ? PH_JSON : PH_JSON_MAYBE;
		break;
	case S_HTTPERROR:
		msg_append(r, m);
		if (s->reason.len > 0 && s->reason.len < 64) {
			wd_buf_adds(&r->errors, "{\"reason\":");
			wd_tx_json_str(&r->errors, s->reason.ptr,
				       s->reason.len);
			wd_buf_addc(&r->errors, '}');
		}
		break;
	default:
		msg_append(r, m);
		break;
	}
}

/* ---- Terraform diagnostics ------------------------------------------ */

static void end_diag(struct tstate *st)
{
	if (st->rec.active && st->rec.in_diag)
		finish(st);
	diag_clear(&st->diag);
}

static void open_diag(struct tstate *st, const struct wd_tx_line *l,
		      uint64_t lineno, bool boxed)
{
	finish(st);
	diag_clear(&st->diag);
	st->diag.active = true;
	st->diag.boxed = boxed;
	st->diag.line = lineno;
	if (l)
		set_ts(st->diag.ts, l->ts, l->ts_len);
}

/* "  with ADDRESS,", "  on FILE line N, in resource ...:", and the
 * source snippet under it. */
static bool context(struct tstate *st, const struct wd_tx_line *l)
{
	struct diag *d = &st->diag;
	struct wd_str t = wd_tx_trim(l->p, l->n);
	const char *q;
	size_t used;

	if (l->n == 0 || (l->p[0] != ' ' && l->p[0] != '\t') || t.len == 0)
		return false;
	if (prefix(t, "with ") && t.ptr[t.len - 1] == ',') {
		if (d->address.len == 0)
			add_capped(&d->address, t.ptr + 5, t.len - 6);
		return true;
	}
	if (prefix(t, "on ") && (q = wd_tx_find(t.ptr, t.len, " line ")) &&
	    is_digit(q[6])) {
		if (!d->has_on) {
			add_capped(&d->file, t.ptr + 3,
				   (size_t)(q - t.ptr - 3));
			d->fline = number(q + 6,
					  t.len - (size_t)(q + 6 - t.ptr),
					  &used);
			d->has_on = true;
		}
		return true;
	}
	if (d->has_on) {
		number(t.ptr, t.len, &used);
		if (used > 0 && used < t.len && t.ptr[used] == ':')
			return true;		/* "36: resource ..." */
		if (prefix(t, "\xe2\x94\x9c") || prefix(t, "\xe2\x94\x82"))
			return true;		/* "├────", "│ var.x is" */
	}
	return false;
}

static bool is_summary(const struct wd_tx_line *l, bool *warning)
{
	struct wd_str s = str_of(l->p, l->n);

	*warning = prefix(s, "Warning: ");
	return prefix(s, "Error: ") || *warning;
}

/* ---- continuing a record -------------------------------------------- */

/* The record takes no more lines: emit it now, or when its diagnostic
 * ends (context may follow). Returns false (the line is not taken). */
static bool release(struct tstate *st)
{
	if (st->rec.in_diag && st->diag.active)
		st->rec.ph = PH_DONE;
	else
		finish(st);
	return false;
}

/* Looks like a context line ("  with ADDR,", "  on FILE line N"), without
 * taking it. */
static bool is_context_line(const struct wd_tx_line *l)
{
	struct wd_str t = wd_tx_trim(l->p, l->n);

	if (l->n == 0 || (l->p[0] != ' ' && l->p[0] != '\t') || t.len == 0)
		return false;
	return (prefix(t, "with ") && t.ptr[t.len - 1] == ',') ||
	       (prefix(t, "on ") && wd_tx_find(t.ptr, t.len, " line "));
}

/* ", forbidden": the legacy reason googleapi prints after Details. */
static bool legacy_line(struct rec *r, struct wd_str t)
{
	char item[128];
	size_t i;
	int k;

	if (!prefix(t, ", ") || t.len < 5 || t.len > 64)
		return false;
	for (i = 2; i < t.len; i++)
		if (!is_alpha(t.ptr[i]))
			return false;
	k = snprintf(item, sizeof(item), "{\"reason\":\"%.*s\"}",
		     (int)(t.len - 2), t.ptr + 2);
	if (r->errors.len == 0 && k > 0 && (size_t)k < sizeof(item))
		wd_buf_add(&r->errors, item, (size_t)k);
	return true;
}

/* "Reason: invalid, Message: ..." under "More details:". */
static bool more_line(struct rec *r, struct wd_str t)
{
	const char *m;
	size_t len = r->errors.len;
	int ret = 0;

	if (!prefix(t, "Reason: "))
		return false;
	t = after(t, 8);
	m = wd_tx_find(t.ptr, t.len, ", Message: ");
	if (len > 0)
		ret = wd_buf_addc(&r->errors, ',');
	if (ret == 0)
		ret = wd_buf_adds(&r->errors, "{\"reason\":");
	if (ret == 0)
		ret = wd_tx_json_str(&r->errors, t.ptr,
				     m ? (size_t)(m - t.ptr) : t.len);
	if (ret == 0 && m) {
		ret = wd_buf_adds(&r->errors, ",\"message\":");
		if (ret == 0)
			ret = wd_tx_json_str(&r->errors, m + 11,
					     t.len - (size_t)(m + 11 - t.ptr));
	}
	if (ret == 0)
		ret = wd_buf_addc(&r->errors, '}');
	if (ret < 0) {
		r->errors.len = len;
		if (r->errors.ptr)
			r->errors.ptr[len] = '\0';
	}
	return true;
}

/* Offers the line to the record being read. Returns true when taken. */
static bool cont(struct tstate *st, const struct wd_tx_line *l,
		 uint64_t lineno)
{
	struct rec *r = &st->rec;
	struct wd_str t = wd_tx_trim(l->p, l->n);
	bool blank = t.len == 0;
	bool col0 = l->n > 0 && l->p[0] != ' ' && l->p[0] != '\t';
	bool diag = r->in_diag && st->diag.active;
	bool warning;
	struct start s;
	const char *q;
	size_t used;

	switch (r->ph) {
	case PH_DONE:
		return false;
	case PH_JSON_MAYBE:
		if (blank)
			return true;
		if (!prefix(t, "\"error\"")) {
			r->active = false;	/* not a REST error body */
			return false;
		}
		r->ph = PH_JSON;
		break;
	case PH_DETAILS_OPEN:
		if (prefix(t, "[")) {
			r->ph = PH_DETAILS;
			r->raw_kind = RAW_JSON;
			break;
		}
		r->ph = PH_TAIL;
		break;
	case PH_AFTER_DETAILS:
		r->ph = PH_TAIL;
		if (legacy_line(r, t))
			return true;
		break;
	case PH_MORE:
		if (more_line(r, t))
			return true;
		r->ph = PH_TAIL;
		break;
	case PH_YAML:
		if (!blank && (!col0 || prefix(t, "- "))) {
			raw_append(r, l->p, l->n, true);
			if (r->raw_bad)
				r->ph = PH_TAIL;
			return true;
		}
		return release(st);
	case PH_FETCH:
		if (l->n > 3 && memcmp(l->p, " - ", 3) == 0) {
			if (r->fetch_item) {
				/* The next item is a record of its own. */
				bool in_diag = r->in_diag;

				finish(st);
				rec_clear(r);
				r->active = true;
				r->tool = T_GCLOUD;
				r->ph = PH_FETCH;
				r->line = lineno;
				r->in_diag = in_diag;
				set_ts(r->ts, l->ts, l->ts_len);
			}
			wd_buf_clear(&r->msg);
			msg_append(r, wd_tx_trim(l->p + 3, l->n - 3));
			r->fetch_item = true;
			return true;
		}
		if (!blank && !col0 && r->fetch_item) {
			msg_append(r, t);
			return true;
		}
		return release(st);
	default:
		break;
	}

	if (r->ph == PH_DETAILS || r->ph == PH_JSON || r->ph == PH_PY) {
		if (r->ph == PH_DETAILS && col0 && is_summary(l, &warning)) {
			/* A new diagnostic: the array never closed. */
			r->raw_bad = true;
			return release(st);
		}
		used = wd_tx_bal_feed(&r->bal, l->p, l->n, r->ph == PH_PY);
		raw_append(r, l->p, used, true);
		if (r->raw_bad && r->ph == PH_DETAILS) {
			/* Given up: what follows is read as context. */
			r->ph = PH_TAIL;
		} else if (r->raw_bad || r->bal.done) {
			if (r->ph == PH_DETAILS)
				r->ph = PH_AFTER_DETAILS;
			else
				release(st);
		}
		return true;
	}

	q = wd_tx_find(l->p, l->n, "error details: ");
	if (q != NULL) {
		struct wd_str d = wd_tx_trim(q + 15,
					     l->n - (size_t)(q + 15 - l->p));

		/* Go's apierror repeats a Details block this way: keep one. */
		if (r->raw_kind != RAW_JSON)
			wd_tx_go_detail(&r->items, d.ptr, d.len);
		if (r->ph == PH_MSG)
			r->ph = PH_TAIL;
		return true;
	}

	if (r->ph == PH_MSG) {
		if (wd_mem_eq(t.ptr, t.len, "Details:")) {
			r->ph = PH_DETAILS_OPEN;
			return true;
		}
		if (wd_mem_eq(t.ptr, t.len, "More details:")) {
			r->ph = PH_MORE;
			return true;
		}
		if (r->tool == T_GCLOUD) {
			if (prefix(t, "- '@type'") ||
			    prefix(t, "- \"@type\"") || prefix(t, "- @type")) {
				r->ph = PH_YAML;
				r->raw_kind = RAW_YAML;
				raw_append(r, l->p, l->n, true);
				return true;
			}
			if (prefix(t, "vpcServiceControlsUniqueIdentifier:")) {
				msg_append(r, t);
				return true;
			}
			/* Lines between the message and the YAML (a Help
			 * link, "Help Token:") are skipped; anything else
			 * ends the record. */
			if (blank || (col0 && prefix(t, "WARNING:")) ||
			    (col0 && is_summary(l, &warning)) ||
			    ++r->skipped > GCLOUD_SKIP_MAX ||
			    find_start(st, l, &s))
				return release(st);
			return true;
		}
		if (prefix(t, "vpcServiceControlsUniqueIdentifier:")) {
			msg_append(r, t);
			return true;
		}
		if (!diag)
			return release(st);
		if (blank || is_context_line(l)) {
			r->ph = PH_TAIL;
			return blank;
		}
		if (col0 && is_summary(l, &warning))
			return release(st);
		if (find_start(st, l, &s))
			return release(st);
		if (st->diag.boxed) {
			/* Terraform wraps long detail lines in its box. */
			msg_append(r, t);
			return true;
		}
		r->ph = PH_TAIL;
	}

	/* PH_TAIL: blank lines and context until the diagnostic ends. */
	if (!diag)
		return release(st);
	if (blank)
		return true;
	if ((col0 && is_summary(l, &warning)) || find_start(st, l, &s))
		return release(st);
	if (is_context_line(l) || (col0 && !st->diag.boxed))
		return false;
	context(st, l);		/* a snippet line; other text: ignored */
	return true;
}

/* ---- terraform apply -json ------------------------------------------ */

enum tj_node { TJ_ROOT = 1, TJ_DIAG, TJ_RANGE, TJ_START, TJ_OTHER };

enum tj_key {
	TK_NONE, TK_LEVEL, TK_TS, TK_TYPE, TK_DIAG, TK_SUMMARY, TK_DETAIL,
	TK_ADDRESS, TK_RANGE, TK_FILE, TK_START, TK_LINE,
};

static int tj_top(const struct tfjson *j)
{
	if (j->depth > (int)(sizeof(j->stack) / sizeof(j->stack[0])))
		return TJ_OTHER;
	return j->depth > 0 ? j->stack[j->depth - 1] : 0;
}

static struct wd_buf *tj_slot(struct tfjson *j)
{
	switch (j->key) {
	case TK_LEVEL: return &j->level;
	case TK_TS: return &j->ts;
	case TK_TYPE: return &j->type;
	case TK_SUMMARY: return &j->summary;
	case TK_DETAIL: return &j->detail;
	case TK_ADDRESS: return &j->address;
	case TK_FILE: return &j->file;
	default: return NULL;
	}
}

static int tj_string(void *ctx, const unsigned char *s, size_t n)
{
	struct tfjson *j = ctx;
	struct wd_buf *b = tj_slot(j);

	if (b && b->len == 0)
		add_capped(b, (const char *)s, n);
	j->key = TK_NONE;
	return 1;
}

static int tj_number(void *ctx, const char *s, size_t n)
{
	struct tfjson *j = ctx;
	size_t used;

	if (j->key == TK_LINE && j->line < 0)
		j->line = number(s, n, &used);
	j->key = TK_NONE;
	return 1;
}

static int tj_scalar(void *ctx)
{
	((struct tfjson *)ctx)->key = TK_NONE;
	return 1;
}

static int tj_bool(void *ctx, int b)
{
	(void)b;
	return tj_scalar(ctx);
}

static int tj_open(void *ctx)
{
	struct tfjson *j = ctx;
	int top = tj_top(j), node = TJ_OTHER;

	if (j->depth == 0)
		node = TJ_ROOT;
	else if (top == TJ_ROOT && j->key == TK_DIAG)
		node = TJ_DIAG;
	else if (top == TJ_DIAG && j->key == TK_RANGE)
		node = TJ_RANGE;
	else if (top == TJ_RANGE && j->key == TK_START)
		node = TJ_START;
	/* Deeper levels are not read: only their depth is counted. */
	if (j->depth < (int)(sizeof(j->stack) / sizeof(j->stack[0])))
		j->stack[j->depth] = node;
	j->depth++;
	j->key = TK_NONE;
	return 1;
}

static int tj_close(void *ctx)
{
	struct tfjson *j = ctx;

	if (j->depth > 0)
		j->depth--;
	j->key = TK_NONE;
	return 1;
}

static int tj_key(void *ctx, const unsigned char *k, size_t n)
{
	struct tfjson *j = ctx;
	const char *s = (const char *)k;

	j->key = TK_NONE;
	switch (tj_top(j)) {
	case TJ_ROOT:
		if (wd_mem_eq(s, n, "@level")) j->key = TK_LEVEL;
		else if (wd_mem_eq(s, n, "@timestamp")) j->key = TK_TS;
		else if (wd_mem_eq(s, n, "type")) j->key = TK_TYPE;
		else if (wd_mem_eq(s, n, "diagnostic")) j->key = TK_DIAG;
		break;
	case TJ_DIAG:
		if (wd_mem_eq(s, n, "summary")) j->key = TK_SUMMARY;
		else if (wd_mem_eq(s, n, "detail")) j->key = TK_DETAIL;
		else if (wd_mem_eq(s, n, "address")) j->key = TK_ADDRESS;
		else if (wd_mem_eq(s, n, "range")) j->key = TK_RANGE;
		break;
	case TJ_RANGE:
		if (wd_mem_eq(s, n, "filename")) j->key = TK_FILE;
		else if (wd_mem_eq(s, n, "start")) j->key = TK_START;
		break;
	case TJ_START:
		if (wd_mem_eq(s, n, "line")) j->key = TK_LINE;
		break;
	default:
		break;
	}
	return 1;
}

static const yajl_callbacks tj_callbacks = {
	tj_scalar, tj_bool, NULL, NULL, tj_number, tj_string,
	tj_open, tj_key, tj_close, tj_open, tj_close,
};

/* A line of `terraform -json` (hclog) output. */
static bool is_hclog(const struct wd_tx_line *l)
{
	return l->n > 10 && memcmp(l->p, "{\"@level\":", 10) == 0;
}

static bool is_tfjson(const struct wd_tx_line *l)
{
	return wd_tx_find(l->p, l->n, "\"@level\":\"error\"") &&
	       wd_tx_find(l->p, l->n, "\"type\":\"diagnostic\"");
}

static void feed(struct tstate *st, const struct wd_tx_line *l,
		 uint64_t lineno);

/* Feeds text as the lines of a boxed diagnostic. */
static void feed_text(struct tstate *st, const struct wd_buf *b,
		      const char *ts, size_t ts_len, uint64_t lineno)
{
	const char *p = b->ptr, *end = b->ptr + b->len;

	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct wd_tx_line vl;

		memset(&vl, 0, sizeof(vl));
		vl.p = p;
		vl.n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (vl.n > 0 && vl.p[vl.n - 1] == '\r')
			vl.n--;
		vl.ts = ts;
		vl.ts_len = ts_len;
		vl.gutter = true;
		feed(st, &vl, lineno);
		p = nl ? nl + 1 : NULL;
	}
}

/* One `terraform apply -json` line: an error diagnostic's summary and
 * detail are read as a boxed diagnostic's lines, with its address and
 * range as the context. */
static void tfjson(struct tstate *st, const struct wd_tx_line *l,
		   uint64_t lineno)
{
	struct tfjson *j = &st->tj;
	yajl_handle h;
	yajl_status ys;
	const char *ts;
	size_t ts_len;

	j->depth = 0;
	j->key = TK_NONE;
	j->line = -1;
	wd_buf_clear(&j->level);
	wd_buf_clear(&j->type);
	wd_buf_clear(&j->ts);
	wd_buf_clear(&j->summary);
	wd_buf_clear(&j->detail);
	wd_buf_clear(&j->address);
	wd_buf_clear(&j->file);
	h = yajl_alloc(&tj_callbacks, NULL, j);
	ys = yajl_parse(h, (const unsigned char *)l->p, l->n);
	if (ys == yajl_status_ok)
		ys = yajl_complete_parse(h);
	yajl_free(h);
	if (ys != yajl_status_ok || !wd_mem_eq(j->level.ptr, j->level.len,
					       "error") ||
	    !wd_mem_eq(j->type.ptr, j->type.len, "diagnostic"))
		return;
	open_diag(st, l, lineno, true);
	st->diag.summary = true;
	ts = j->ts.len ? j->ts.ptr : l->ts;
	ts_len = j->ts.len ? j->ts.len : l->ts_len;
	set_ts(st->diag.ts, ts, ts_len);
	add_capped(&st->diag.address, j->address.ptr ? j->address.ptr : "",
		   j->address.len);
	if (j->file.len > 0) {
		add_capped(&st->diag.file, j->file.ptr, j->file.len);
		st->diag.fline = j->line;
		st->diag.has_on = true;
	}
	st->virt = true;
	if (j->summary.len)
		feed_text(st, &j->summary, ts, ts_len, lineno);
	if (j->detail.len)
		feed_text(st, &j->detail, ts, ts_len, lineno);
	st->virt = false;
	end_diag(st);
}

/* ---- one line ------------------------------------------------------- */

static void feed(struct tstate *st, const struct wd_tx_line *l,
		 uint64_t lineno)
{
	struct wd_str t;
	struct start s;
	bool col0, summary, warning = false;

	if (l->box_open || l->box_close) {
		finish(st);
		end_diag(st);
		if (l->box_open)
			open_diag(st, l, lineno, true);
		return;
	}
	if (st->diag.active && st->diag.boxed && !l->gutter)
		end_diag(st);		/* the box ended without "╵" */
	if (st->rec.active && cont(st, l, lineno))
		return;
	t = wd_tx_trim(l->p, l->n);
	col0 = l->n > 0 && l->p[0] != ' ' && l->p[0] != '\t';
	summary = col0 && is_summary(l, &warning);
	if (st->diag.active && !st->diag.boxed && col0 && !summary)
		end_diag(st);
	if (st->diag.active && context(st, l))
		return;
	if (summary) {
		if (!(st->diag.active && st->diag.boxed && !st->diag.summary))
			open_diag(st, l, lineno, l->gutter);
		finish(st);
		st->diag.summary = true;
		st->diag.warning = warning;
		st->diag.line = lineno;
		if (l->ts)
			set_ts(st->diag.ts, l->ts, l->ts_len);
	}
	if (!st->virt && !l->gutter && is_hclog(l)) {
		/* terraform -json: only error diagnostics are read, as a
		 * whole; other lines (warnings too) are not text. */
		if (is_tfjson(l)) {
			finish(st);
			end_diag(st);
			tfjson(st, l, lineno);
		}
		return;
	}
	if (t.len == 0 || (st->diag.active && st->diag.warning))
		return;
	if (find_start(st, l, &s))
		start_record(st, l, lineno, &s);
}

/* ---- the ops -------------------------------------------------------- */

static void *tx_begin(void *tctx, const char *path)
{
	struct tstate *st = wd_xcalloc(1, sizeof(*st));
	struct rec *r = &st->rec;

	(void)tctx;
	st->path = wd_xstrdup(path ? path : "-");
	st->entry = wd_xmalloc(sizeof(*st->entry));
	wd_buf_init(&st->scratch, SCRATCH_MAX);
	wd_buf_init(&st->body, BODY_MAX);
	wd_buf_init(&st->tmp, 2 * WD_TX_BLOCK_MAX);
	wd_buf_init(&r->msg, WD_TX_MSG_MAX);
	wd_buf_init(&r->errors, SMALL_MAX);
	wd_buf_init(&r->items, WD_TX_BLOCK_MAX);
	wd_buf_init(&r->raw, WD_TX_BLOCK_MAX);
	wd_buf_init(&st->diag.address, SMALL_MAX);
	wd_buf_init(&st->diag.file, SMALL_MAX);
	wd_buf_init(&st->tj.level, 64);
	wd_buf_init(&st->tj.type, 64);
	wd_buf_init(&st->tj.ts, TS_MAX);
	wd_buf_init(&st->tj.summary, WD_TX_BLOCK_MAX);
	wd_buf_init(&st->tj.detail, WD_TX_BLOCK_MAX);
	wd_buf_init(&st->tj.address, SMALL_MAX);
	wd_buf_init(&st->tj.file, SMALL_MAX);
	rec_clear(r);
	diag_clear(&st->diag);
	return st;
}

static int tx_line(void *state, const char *p, size_t n, uint64_t lineno,
		   int (*emit)(void *sctx, struct wd_entry *e), void *sctx)
{
	struct tstate *st = state;
	struct wd_tx_line l;

	if (st == NULL || st->stop)
		return st ? st->stop : 0;
	st->emit = emit;
	st->sctx = sctx;
	wd_tx_normalize(&l, p, n, &st->scratch);
	feed(st, &l, lineno);
	return st->stop;
}

static int tx_end(void *state, int (*emit)(void *sctx, struct wd_entry *e),
		  void *sctx)
{
	struct tstate *st = state;
	int ret;

	if (st == NULL)
		return 0;
	st->emit = emit;
	st->sctx = sctx;
	if (emit && st->stop == 0) {
		finish(st);
		end_diag(st);
	}
	ret = st->stop;
	wd_buf_release(&st->scratch);
	wd_buf_release(&st->body);
	wd_buf_release(&st->tmp);
	wd_buf_release(&st->rec.msg);
	wd_buf_release(&st->rec.errors);
	wd_buf_release(&st->rec.items);
	wd_buf_release(&st->rec.raw);
	wd_buf_release(&st->diag.address);
	wd_buf_release(&st->diag.file);
	wd_buf_release(&st->tj.level);
	wd_buf_release(&st->tj.type);
	wd_buf_release(&st->tj.ts);
	wd_buf_release(&st->tj.summary);
	wd_buf_release(&st->tj.detail);
	wd_buf_release(&st->tj.address);
	wd_buf_release(&st->tj.file);
	wd_decoder_free(st->dec);
	free(st->entry);
	free(st->path);
	free(st);
	return ret;
}

static const struct wd_text_ops ops = { tx_begin, tx_line, tx_end, NULL };

const struct wd_text_ops *wd_text_ops(void)
{
	return &ops;
}
