/* lite.c - the success prefilter (see whydenied/lite.h). */
#include "whydenied/lite.h"
#include "whydenied/framer.h"
#include "whydenied/simd.h"

#include <string.h>

#define DEFER (-1)

struct authz_item {
	struct wd_str perm, res, granted;
};

struct cur {
	const char *p;
	size_t n;
	size_t i;
	struct wd_entry *e;
	uint64_t nl;		/* newlines passed in whitespace */
	size_t word;		/* p[64 * word, +64) has special bits bits */
	uint64_t bits;
	/* What the success needs. */
	struct wd_str ts, log_name, insert_id, method, email, subject;
	bool proto;
	bool status_seen, authn_seen, authz_seen;
	bool odd_message;	/* a status message other than "" or OK */
	struct authz_item *item;	/* the authorizationInfo[] item */
};

static inline void ws(struct cur *c)
{
	/* Compact JSON has no blanks: the first test is usually enough. */
	if (c->i < c->n && (unsigned char)c->p[c->i] > ' ')
		return;
	while (c->i < c->n) {
		char ch = c->p[c->i];

		if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t')
			return;
		c->nl += ch == '\n';
		c->i++;
	}
}

static int hexdig(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* Bit k set when p[k] is '"', '\\', a control byte or >= 0x80, for k in
 * [0, len), len <= 64. A signed compare below 0x20 finds control bytes
 * and bytes >= 0x80 at once. */
static inline uint64_t special_bits(const char *p, size_t len)
{
	uint64_t m = 0;
	size_t k = 0;
#if WD_HAVE_SSE2
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(0x20);

	for (; k + 16 <= len; k += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		__m128i y = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q),
						      _mm_cmpeq_epi8(x, bs)),
					 _mm_cmplt_epi8(x, sp));

		m |= (uint64_t)(unsigned)_mm_movemask_epi8(y) << k;
	}
#endif
	for (; k < len; k++) {
		unsigned char ch = (unsigned char)p[k];

		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x80)
			m |= 1ull << k;
	}
	return m;
}

/* Index of the first special byte (see special_bits) in c->p[i, c->n), or
 * c->n. The prefilter's hot spot: the bits of each 64-byte stretch of the
 * input are found once and kept, as the scan only moves forward, so a
 * string costs a shift and a count of trailing zeros, not a loop. */
static inline size_t str_special(struct cur *c, size_t i)
{
	while (i < c->n) {
		size_t w = i / 64, base = w * 64;
		uint64_t bits;

		if (w != c->word) {
			size_t len = c->n - base < 64 ? c->n - base : 64;

			c->word = w;
			c->bits = special_bits(c->p + base, len);
		}
		bits = c->bits >> (i - base);
		if (bits)
			return i + (size_t)__builtin_ctzll(bits);
		i = base + 64;
	}
	return c->n;
}

/* A string at c->i (the opening quote). *out is the raw content; *esc says
 * whether it holds escapes. Non-ASCII bytes defer (UTF-8 is the full
 * decoder's to validate). */
static int string(struct cur *c, struct wd_str *out, bool *esc)
{
	const char *p = c->p;
	size_t i = c->i + 1, n = c->n;

	*esc = false;
	for (;;) {
		i = str_special(c, i);
		if (i >= n)
			return DEFER;
		if (p[i] == '"')
			break;
		if (p[i] != '\\')
			return DEFER;	/* control byte or >= 0x80 */
		*esc = true;
		if (i + 1 >= n)
			return DEFER;
		switch (p[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if (i + 6 > n || !hexdig(p[i + 2]) || !hexdig(p[i + 3]) ||
			    !hexdig(p[i + 4]) || !hexdig(p[i + 5]))
				return DEFER;
			i += 6;
			break;
		default:
			return DEFER;
		}
	}
	out->ptr = p + c->i + 1;
	out->len = i - c->i - 1;
	c->i = i + 1;
	return 0;
}

static int digits(struct cur *c)
{
	size_t s = c->i;

	while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9')
		c->i++;
	return c->i > s ? 0 : DEFER;
}

/* A number per RFC 8259 (what yajl accepts); *out is its text. */
static int number(struct cur *c, struct wd_str *out)
{
	size_t s = c->i;

	if (c->i < c->n && c->p[c->i] == '-')
		c->i++;
	if (c->i < c->n && c->p[c->i] == '0')
		c->i++;
	else if (digits(c) < 0)
		return DEFER;
	if (c->i < c->n && c->p[c->i] == '.') {
		c->i++;
		if (digits(c) < 0)
			return DEFER;
	}
	if (c->i < c->n && (c->p[c->i] == 'e' || c->p[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->p[c->i] == '+' || c->p[c->i] == '-'))
			c->i++;
		if (digits(c) < 0)
			return DEFER;
	}
	out->ptr = c->p + s;
	out->len = c->i - s;
	return 0;
}

static int literal(struct cur *c, const char *lit)
{
	size_t l = strlen(lit);

	if (c->n - c->i < l || memcmp(c->p + c->i, lit, l) != 0)
		return DEFER;
	c->i += l;
	return 0;
}

static int value(struct cur *c, int depth);

/* Iterates over an object's members: calls member() with the key; member
 * must consume the value. */
typedef int member_fn(struct cur *c, struct wd_str key, int depth);

/* After a container's opener (first) or an item: reads up to the next
 * item. Returns 1 past the closer, 0 at an item, DEFER on anything else. */
static inline int next_item(struct cur *c, char close, bool first)
{
	ws(c);
	if (c->i < c->n && c->p[c->i] == close) {
		c->i++;
		return 1;
	}
	if (!first) {
		if (c->i >= c->n || c->p[c->i] != ',')
			return DEFER;
		c->i++;
		ws(c);
	}
	return c->i < c->n ? 0 : DEFER;
}

static int object(struct cur *c, int depth, member_fn *member)
{
	struct wd_str key;
	bool esc;
	bool first = true;
	int r;

	if (depth > WD_ENTRY_MAX_DEPTH)
		return DEFER;
	c->i++;		/* '{' */
	for (;;) {
		if ((r = next_item(c, '}', first)) != 0)
			return r < 0 ? DEFER : 0;
		first = false;
		if (c->i >= c->n || c->p[c->i] != '"')
			return DEFER;
		if (string(c, &key, &esc) < 0 || esc)
			return DEFER;	/* an escaped key could spell a tracked one */
		ws(c);
		if (c->i >= c->n || c->p[c->i] != ':')
			return DEFER;
		c->i++;
		ws(c);
		if (c->i >= c->n)
			return DEFER;
		if ((member ? member(c, key, depth + 1) :
		     value(c, depth + 1)) < 0)
			return DEFER;
	}
}

static int array(struct cur *c, int depth, int (*elem)(struct cur *, int))
{
	bool first = true;
	int r;

	if (depth > WD_ENTRY_MAX_DEPTH)
		return DEFER;
	c->i++;		/* '[' */
	for (;;) {
		if ((r = next_item(c, ']', first)) != 0)
			return r < 0 ? DEFER : 0;
		first = false;
		if ((elem ? elem(c, depth + 1) : value(c, depth + 1)) < 0)
			return DEFER;
	}
}

static int value(struct cur *c, int depth)
{
	struct wd_str s;
	bool esc;

	switch (c->p[c->i]) {
	case '{': return object(c, depth, NULL);
	case '[': return array(c, depth, NULL);
	case '"': return string(c, &s, &esc);
	case 't': return literal(c, "true");
	case 'f': return literal(c, "false");
	case 'n': return literal(c, "null");
	default: return number(c, &s);
	}
}

/* A string value kept as a field: no escapes, not seen before. */
static int keep_str(struct cur *c, struct wd_str *slot)
{
	bool esc;

	if (slot->ptr || c->p[c->i] != '"')
		return DEFER;
	if (string(c, slot, &esc) < 0 || esc)
		return DEFER;
	return 0;
}

#define KEY(lit) (key.len == sizeof(lit) - 1 && \
		  memcmp(key.ptr, lit, sizeof(lit) - 1) == 0)

static int status_member(struct cur *c, struct wd_str key, int depth)
{
	struct wd_str v;
	bool esc;

	if (KEY("code")) {
		if (c->p[c->i] != '0' && c->p[c->i] != '-' &&
		    (c->p[c->i] < '1' || c->p[c->i] > '9'))
			return DEFER;
		if (number(c, &v) < 0 || v.len != 1 || v.ptr[0] != '0')
			return DEFER;	/* a non-zero code: a failure */
		return 0;
	}
	if (KEY("message")) {
		if (c->p[c->i] != '"' || string(c, &v, &esc) < 0 || esc)
			return DEFER;
		/* Only a message with code 0 or an OK/empty message is a
		 * success; code 0 may come later, so remember it. */
		if (v.len != 0 && !(v.len == 2 && memcmp(v.ptr, "OK", 2) == 0))
			c->odd_message = true;
		return 0;
	}
	return value(c, depth);
}

static int authn_member(struct cur *c, struct wd_str key, int depth)
{
	if (KEY("principalEmail"))
		return keep_str(c, &c->email);
	if (KEY("principalSubject"))
		return keep_str(c, &c->subject);
	return value(c, depth);
}

static int authz_member_into(struct cur *c, struct wd_str key, int depth,
			     struct authz_item *it)
{
	if (KEY("permission"))
		return keep_str(c, &it->perm);
	if (KEY("resource"))
		return keep_str(c, &it->res);
	if (KEY("granted")) {
		if (it->granted.ptr)
			return DEFER;
		if (literal(c, "true") == 0) {
			it->granted.ptr = "true";
			it->granted.len = 4;
			return 0;
		}
		if (literal(c, "false") == 0) {
			it->granted.ptr = "false";
			it->granted.len = 5;
			return 0;
		}
		return DEFER;
	}
	return value(c, depth);
}

static int authz_member(struct cur *c, struct wd_str key, int depth)
{
	return authz_member_into(c, key, depth, c->item);
}

static int authz_elem(struct cur *c, int depth)
{
	struct authz_item it;
	int r;

	if (c->p[c->i] != '{')
		return DEFER;
	memset(&it, 0, sizeof(it));
	c->item = &it;
	r = object(c, depth, authz_member);
	c->item = NULL;
	if (r < 0)
		return DEFER;
	if (!it.perm.ptr && !it.res.ptr && !it.granted.ptr)
		return 0;
	wd_entry_add(c->e, WD_F_AUTHZ_PERMISSION, it.perm.ptr ? it.perm.ptr :
		     "", it.perm.len);
	wd_entry_add(c->e, WD_F_AUTHZ_RESOURCE, it.res.ptr ? it.res.ptr : "",
		     it.res.len);
	wd_entry_add(c->e, WD_F_AUTHZ_GRANTED, it.granted.ptr ?
		     it.granted.ptr : "absent", it.granted.ptr ?
		     it.granted.len : 6);
	return 0;
}

static int proto_member(struct cur *c, struct wd_str key, int depth)
{
	if (KEY("status")) {
		if (c->status_seen)
			return DEFER;
		c->status_seen = true;
		if (c->p[c->i] != '{')
			return value(c, depth);	/* not a Status: ignored */
		return object(c, depth, status_member);
	}
	if (KEY("methodName"))
		return keep_str(c, &c->method);
	if (KEY("authenticationInfo")) {
		if (c->authn_seen || c->p[c->i] != '{')
			return DEFER;
		c->authn_seen = true;
		return object(c, depth, authn_member);
	}
	if (KEY("authorizationInfo")) {
		if (c->authz_seen || c->p[c->i] != '[')
			return DEFER;
		c->authz_seen = true;
		return array(c, depth, authz_elem);
	}
	return value(c, depth);
}

static int root_member(struct cur *c, struct wd_str key, int depth)
{
	if (KEY("timestamp"))
		return keep_str(c, &c->ts);
	if (KEY("logName"))
		return keep_str(c, &c->log_name);
	if (KEY("insertId"))
		return keep_str(c, &c->insert_id);
	if (KEY("protoPayload")) {
		if (c->proto || c->p[c->i] != '{')
			return DEFER;
		c->proto = true;
		return object(c, depth, proto_member);
	}
	/* Envelopes, nested entries and REST error bodies: the decoder's. */
	if (KEY("error") || KEY("data") || KEY("message"))
		return DEFER;
	/* Page keys: the framer may take the object for a page. */
	if (KEY("entries") || KEY("nextPageToken"))
		return DEFER;
	return value(c, depth);
}

#undef KEY

const char *wd_log_kind(struct wd_str ln)
{
	static const char *const kinds[] = {
		"activity", "data_access", "system_event", "policy",
	};
	const char *p;
	size_t i, rest;

	if (!ln.ptr)
		return NULL;
	for (p = ln.ptr; p + 6 <= ln.ptr + ln.len; p++)
		if (memcmp(p, "/logs/", 6) == 0)
			break;
	if (p + 6 > ln.ptr + ln.len)
		return "other";
	p += 6;
	rest = (size_t)(ln.ptr + ln.len - p);
	if (rest >= 25 && memcmp(p, "cloudaudit.googleapis.com", 25) == 0) {
		p += 25;
		rest -= 25;
		if (rest >= 3 && (memcmp(p, "%2F", 3) == 0 ||
				  memcmp(p, "%2f", 3) == 0)) {
			p += 3;
			rest -= 3;
		} else if (rest >= 1 && *p == '/') {
			p++;
			rest--;
		} else {
			return "other";
		}
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (wd_mem_eq(p, rest, kinds[i]))
				return kinds[i];
	}
	return "other";
}

enum wd_lite_result wd_lite_decode(const char *p, size_t n,
				   struct wd_entry *e, size_t *end)
{
	uint64_t nl;

	return wd_lite_decode_nl(p, n, e, end, &nl);
}

enum wd_lite_result wd_lite_decode_nl(const char *p, size_t n,
				      struct wd_entry *e, size_t *end,
				      uint64_t *newlines)
{
	struct cur c;
	const char *kind;

	memset(&c, 0, sizeof(c));
	c.word = SIZE_MAX;
	c.p = p;
	c.n = n;
	c.e = e;
	wd_entry_reset(e);
	ws(&c);
	if (c.i >= n || p[c.i] != '{')
		return WD_LITE_DEFER;
	if (object(&c, 1, root_member) < 0)
		return WD_LITE_DEFER;
	/* A status message other than OK: a failure unless a zero code
	 * came with it; the decoder decides. */
	if (c.odd_message)
		return WD_LITE_DEFER;
	if (!c.proto && !c.ts.ptr && !c.log_name.ptr && !c.insert_id.ptr)
		return WD_LITE_DEFER;	/* not a LogEntry: the decoder says */
	*end = c.i;
	*newlines = c.nl;
	if (c.ts.ptr)
		wd_entry_add(e, WD_F_TIMESTAMP, c.ts.ptr, c.ts.len);
	if (c.insert_id.ptr)
		wd_entry_add(e, WD_F_INSERT_ID, c.insert_id.ptr,
			     c.insert_id.len);
	if (c.log_name.ptr)
		wd_entry_add(e, WD_F_LOG_NAME, c.log_name.ptr, c.log_name.len);
	if (c.method.ptr)
		wd_entry_add(e, WD_F_METHOD, c.method.ptr, c.method.len);
	kind = wd_log_kind(c.log_name);
	if (kind)
		wd_entry_add(e, WD_F_LOG, kind, strlen(kind));
	if (c.email.ptr && c.email.len)
		wd_entry_add(e, WD_F_PRINCIPAL, c.email.ptr, c.email.len);
	else if (c.subject.ptr && c.subject.len)
		wd_entry_add(e, WD_F_PRINCIPAL, c.subject.ptr, c.subject.len);
	e->failure = false;
	wd_entry_add(e, WD_F_FAILURE, "false", 5);
	return WD_LITE_SUCCESS;
}
