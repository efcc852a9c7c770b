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
	bool no_avx2;		/* the fast path without AVX2 (for tests) */
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
#if WD_HAVE_SSE2
static inline uint64_t special16(const char *p)
{
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(0x20);
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i y = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q),
					      _mm_cmpeq_epi8(x, bs)),
				 _mm_cmplt_epi8(x, sp));

	return (uint64_t)(unsigned)_mm_movemask_epi8(y);
}
#endif

static inline uint64_t special_bits(const char *p, size_t len)
{
	uint64_t m = 0;
	size_t k = 0;
#if WD_HAVE_SSE2
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(0x20);

	/* A whole stretch, the usual case: four independent lanes. */
	if (len == 64)
		return special16(p) | special16(p + 16) << 16 |
		       special16(p + 32) << 32 | special16(p + 48) << 48;
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

/* p[0, n) == lit[0, l), for a literal: unrolled into word compares,
 * where a call to memcmp per key was 5 % of a scan. */
static inline bool lit_eq(const char *p, size_t n, const char *lit, size_t l)
{
	uint64_t a, b;

	if (n != l)
		return false;
	for (; l >= 8; p += 8, lit += 8, l -= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lit, 8);
		if (a != b)
			return false;
	}
	for (; l > 0; p++, lit++, l--)
		if (*p != *lit)
			return false;
	return true;
}

#define KEY(lit) lit_eq(key.ptr, key.len, lit, sizeof(lit) - 1)

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
	/* The first "/logs/": a few slashes to try, found by memchr (this
	 * runs for every entry). */
	for (p = memchr(ln.ptr, '/', ln.len); p;
	     p = memchr(p + 1, '/', (size_t)(ln.ptr + ln.len - p - 1)))
		if (p + 6 <= ln.ptr + ln.len && memcmp(p, "/logs/", 6) == 0)
			break;
	if (p == NULL)
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

/* ---- The fast path: a structural index of each 64-byte stretch ----
 *
 * The walker above costs a function call and a few tests per string and
 * per byte of whitespace. The fast path instead finds, 64 bytes at a
 * time and without a branch, where strings are (from the quotes, by a
 * prefix xor) and which bytes are tokens: the quotes, and every byte
 * outside strings that is not a blank (brackets, colons, commas, and each
 * byte of a number or literal, rare in audit logs). A flat loop then runs
 * the JSON grammar over those tokens alone, with a stack
 * of what each open container is (the root, protoPayload, its status...)
 * so that only keys where a kept field can be are compared.
 *
 * Escapes are checked as the walker checks them, and a quote escaped is
 * no quote; a string with one defers where the walker would (a key, a
 * kept value). It is sure of less than the walker: a control byte or a
 * byte >= 0x80 in the object (UTF-8 is the decoder's to validate) sends
 * it to the walker, and so does anything unexpected. It answers DEFER only where the walker would too
 * (a failure's status, an envelope key, a duplicate, bad syntax it has
 * seen with certainty), and SUCCESS only where the walker would give the
 * same fields. tests/fuzz/fuzz_decoder.c compares the two. */

#define SLOW (-2)

enum kind {		/* what an open container is */
	K_OTHER, K_ROOT, K_PROTO, K_STATUS, K_AUTHN, K_AUTHZ, K_ITEM,
};

enum act {		/* what the next value is for */
	A_SKIP, A_TS, A_LOG_NAME, A_INSERT, A_PROTO, A_STATUS, A_METHOD,
	A_AUTHN, A_AUTHZ, A_CODE, A_MSG, A_EMAIL, A_SUBJECT, A_PERM, A_RES,
	A_GRANTED, A_ITEM,
};

/* Raw classes of 64 bytes, bit k for byte k. */
struct classes {
	uint64_t quote;		/* '"' */
	uint64_t solid;		/* 0x21..0x7f: not a blank, control or >= 0x80 */
	uint64_t low;		/* '\\', or below 0x20 or >= 0x80 */
};

#if WD_HAVE_SSE2
static inline void classes16(const char *p, int k, struct classes *c)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i sp = _mm_set1_epi8(0x20);
	/* Signed compares: bytes >= 0x80 are below 0x20 too. */
	__m128i low = _mm_or_si128(_mm_cmplt_epi8(x, sp),
				   _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));

	c->quote |= (uint64_t)(unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))) << k;
	c->solid |= (uint64_t)(unsigned)_mm_movemask_epi8(
		_mm_cmpgt_epi8(x, sp)) << k;
	c->low |= (uint64_t)(unsigned)_mm_movemask_epi8(low) << k;
}
#endif

/* p[0, 64) must be readable. */
static inline void classify64(const char *p, struct classes *c)
{
	c->quote = c->solid = c->low = 0;
#if WD_HAVE_SSE2
	classes16(p, 0, c);
	classes16(p + 16, 16, c);
	classes16(p + 32, 32, c);
	classes16(p + 48, 48, c);
#else
	for (int k = 0; k < 64; k++) {
		unsigned char ch = (unsigned char)p[k];
		uint64_t b = 1ull << k;

		if (ch == '"')
			c->quote |= b;
		if (ch > 0x20 && ch < 0x80)
			c->solid |= b;
		if (ch == '\\' || ch < 0x20 || ch >= 0x80)
			c->low |= b;
	}
#endif
}

/* What indexing carries from one stretch to the next. The walker keeps
 * the stretch's offset and its tokens in locals (registers). */
#if WD_HAVE_SSE2 && defined(__GNUC__)
/* The same with AVX2, 32 bytes a compare, where the CPU has it (chosen at
 * run time: the build stays for any x86-64). */
#include <immintrin.h>
#define WD_HAVE_AVX2_PATH 1

__attribute__((target("avx2")))
static void classify64_avx2(const char *p, struct classes *c)
{
	const __m256i sp = _mm256_set1_epi8(0x20);
	const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\');
	const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
	const __m256i y = _mm256_loadu_si256(
		(const __m256i *)(const void *)(p + 32));

#define MASK(v) ((uint64_t)(uint32_t)_mm256_movemask_epi8(v))
	c->quote = MASK(_mm256_cmpeq_epi8(x, q)) |
		   MASK(_mm256_cmpeq_epi8(y, q)) << 32;
	c->solid = MASK(_mm256_cmpgt_epi8(x, sp)) |
		   MASK(_mm256_cmpgt_epi8(y, sp)) << 32;
	c->low = MASK(_mm256_or_si256(_mm256_cmpgt_epi8(sp, x),
				      _mm256_cmpeq_epi8(x, bs))) |
		 MASK(_mm256_or_si256(_mm256_cmpgt_epi8(sp, y),
				      _mm256_cmpeq_epi8(y, bs))) << 32;
#undef MASK
}
#endif

struct fast {
	const char *p;
	size_t n;
	uint64_t nl;		/* the newlines of the stretch */
	uint64_t in_str;	/* all ones when the stretch before ended in a string */
	uint64_t newlines;	/* in the stretches before */
	size_t escaped;		/* the offset of the last escaped byte */
	bool escapes;		/* some string so far holds an escape */
	bool stop;		/* tok ends before an odd byte */
	bool avx2;
};

/* The backslashes among low (bits of q = p + base), in order: each that is
 * not itself escaped starts an escape, checked as the walker checks it.
 * Sets *starts to them; returns the escaped bytes' bits (a quote escaped
 * is no quote), or sets *odd at the first bad escape. The escaped byte may
 * be the next stretch's first. */
static __attribute__((noinline)) uint64_t
escapes(struct fast *f, size_t base, const char *q, uint64_t low,
	uint64_t *starts, uint64_t *odd)
{
	uint64_t escaped = f->escaped == base;

	for (; low; low &= low - 1) {
		int k = __builtin_ctzll(low);
		size_t at = base + (size_t)k;
		char e;

		if (q[k] != '\\' || at == f->escaped)
			continue;
		if (at + 1 >= f->n) {
			*odd |= 1ull << k;
			break;
		}
		e = f->p[at + 1];
		if (e == 'u' ? at + 5 >= f->n || !hexdig(f->p[at + 2]) ||
		    !hexdig(f->p[at + 3]) || !hexdig(f->p[at + 4]) ||
		    !hexdig(f->p[at + 5]) : !e || !strchr("\"\\/bfnrt", e)) {
			*odd |= 1ull << k;
			break;
		}
		f->escaped = at + 1;
		f->escapes = true;
		*starts |= 1ull << k;
		if (k < 63)
			escaped |= 1ull << (k + 1);
	}
	return escaped;
}

/* The control bytes among low: a newline, tab or CR outside strings (in)
 * is a blank, newlines noted in f->nl; returns the others. */
static __attribute__((noinline)) uint64_t
controls(struct fast *f, const char *q, uint64_t low, uint64_t in)
{
	uint64_t odd = 0;

	for (; low; low &= low - 1) {
		int k = __builtin_ctzll(low);
		char ch = q[k];

		if ((ch == '\n' || ch == '\r' || ch == '\t') &&
		    !(in >> k & 1)) {
			f->nl |= (uint64_t)(ch == '\n') << k;
			continue;
		}
		odd |= 1ull << k;
	}
	return odd;
}

/* Indexes the stretch p[base, base + 64): returns its tokens. */
static uint64_t index_at(struct fast *f, size_t base)
{
	struct classes c;
	uint64_t s, in, odd = 0, tok, starts = 0, escaped = 0;
	const char *q = f->p + base;
	char pad[64];

	if (f->n - base < 64) {
		/* Blanks make no token and no odd byte. */
		memset(pad, ' ', sizeof(pad));
		memcpy(pad, q, f->n - base);
		q = pad;
	}
#ifdef WD_HAVE_AVX2_PATH
	if (f->avx2)
		classify64_avx2(q, &c);
	else
#endif
		classify64(q, &c);
	/* Backslashes, control bytes and bytes >= 0x80 are rare in compact
	 * JSON (pretty JSON has a newline a line). */
	if (c.low || f->escaped == base) {
		escaped = escapes(f, base, q, c.low, &starts, &odd);
		c.quote &= ~escaped;
	}
	/* Inside a string (its opening quote included): an odd number of
	 * quotes up to here. */
	s = c.quote;
	s ^= s << 1;
	s ^= s << 2;
	s ^= s << 4;
	s ^= s << 8;
	s ^= s << 16;
	s ^= s << 32;
	in = s ^ f->in_str;
	f->in_str = (uint64_t)((int64_t)in >> 63);
	/* Every solid byte outside strings starts a token, so a number or
	 * literal makes one a byte (the walker skips the rest); quotes are
	 * tokens, opening and closing. */
	tok = c.quote | (c.solid & ~in);
	f->nl = 0;
	if (!c.low)
		return tok;
	odd |= starts & ~in;	/* a backslash outside a string */
	odd |= controls(f, q, c.low & ~starts & ~escaped, in);
	if (odd) {
		/* The fast path stops before the first. */
		tok &= (1ull << __builtin_ctzll(odd)) - 1;
		f->stop = true;
	}
	return tok;
}

static inline unsigned bits_set(uint64_t x)
{
	unsigned k = 0;

	for (; x; x &= x - 1)
		k++;
	return k;
}

/* The next token's offset into *pos; false when the fast path must give
 * up (an odd byte, or the input ends). */
static inline __attribute__((always_inline)) bool
next_tok(struct fast *f, uint64_t *tok, size_t *base, size_t *pos)
{
	while (*tok == 0) {
		if (f->stop || f->n - *base <= 64)
			return false;
		if (f->nl)
			f->newlines += bits_set(f->nl);
		*base += 64;
		*tok = index_at(f, *base);
	}
	*pos = *base + (size_t)__builtin_ctzll(*tok);
	*tok &= *tok - 1;
	return true;
}

/* A number or literal at p[i]: the offset past it, or SIZE_MAX when it is
 * not one or does not end at a delimiter. */
static size_t scalar_end(const char *p, size_t n, size_t i)
{
	struct cur c;
	struct wd_str v;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.n = n;
	c.i = i;
	if (p[i] == 't' ? literal(&c, "true") : p[i] == 'f' ?
	    literal(&c, "false") : p[i] == 'n' ? literal(&c, "null") :
	    number(&c, &v))
		return SIZE_MAX;
	if (c.i >= n)
		return SIZE_MAX;
	switch (p[c.i]) {
	case ' ': case '\n': case '\r': case '\t': case ',': case ':':
	case '{': case '}': case '[': case ']': case '"':
		return c.i;
	default:
		return SIZE_MAX;
	}
}

#define KEYIS(lit) lit_eq(key, klen, lit, sizeof(lit) - 1)

/* What the value of key in a container of kind k is for; DEFER for a
 * key the walker defers on at once. */
static int key_act(enum kind k, const char *key, size_t klen)
{
	switch (k) {
	case K_ROOT:
		if (KEYIS("timestamp"))
			return A_TS;
		if (KEYIS("logName"))
			return A_LOG_NAME;
		if (KEYIS("insertId"))
			return A_INSERT;
		if (KEYIS("protoPayload"))
			return A_PROTO;
		if (KEYIS("error") || KEYIS("data") || KEYIS("message") ||
		    KEYIS("entries") || KEYIS("nextPageToken"))
			return DEFER;
		return A_SKIP;
	case K_PROTO:
		if (KEYIS("status"))
			return A_STATUS;
		if (KEYIS("methodName"))
			return A_METHOD;
		if (KEYIS("authenticationInfo"))
			return A_AUTHN;
		if (KEYIS("authorizationInfo"))
			return A_AUTHZ;
		return A_SKIP;
	case K_STATUS:
		if (KEYIS("code"))
			return A_CODE;
		if (KEYIS("message"))
			return A_MSG;
		return A_SKIP;
	case K_AUTHN:
		if (KEYIS("principalEmail"))
			return A_EMAIL;
		if (KEYIS("principalSubject"))
			return A_SUBJECT;
		return A_SKIP;
	case K_ITEM:
		if (KEYIS("permission"))
			return A_PERM;
		if (KEYIS("resource"))
			return A_RES;
		if (KEYIS("granted"))
			return A_GRANTED;
		return A_SKIP;
	default:
		return A_SKIP;
	}
}

#undef KEYIS

/* The string slot a keep-a-string action fills, or NULL. */
static struct wd_str *act_slot(struct cur *c, int act)
{
	switch (act) {
	case A_TS: return &c->ts;
	case A_LOG_NAME: return &c->log_name;
	case A_INSERT: return &c->insert_id;
	case A_METHOD: return &c->method;
	case A_EMAIL: return &c->email;
	case A_SUBJECT: return &c->subject;
	case A_PERM: return &c->item->perm;
	case A_RES: return &c->item->res;
	default: return NULL;
	}
}

/* Takes the next token into pos, or gives up. */
#define NEXT(pos) do {						\
		if (!next_tok(&f, &tok, &base, &(pos)))		\
			return SLOW;					\
	} while (0)

/* The fast path over the object at p[0] == '{': WD_LITE_SUCCESS with the
 * fields in c (authorization items already in c->e), DEFER, or SLOW. The
 * grammar is the labels: key (a key, or '}' first), value, array (a value,
 * or ']' first), after (',' or the closer). */
static int fast_object(struct cur *c, const char *p, size_t n)
{
	struct fast f;
	unsigned char kind[WD_ENTRY_MAX_DEPTH + 2];
	bool obj[WD_ENTRY_MAX_DEPTH + 2];	/* an object, not an array */
	struct authz_item item;
	int depth = 0, act = A_SKIP;
	size_t base = 0, pos = 0, i;
	uint64_t tok;
	bool first;
	char ch;

	memset(&f, 0, sizeof(f));
	f.p = p;
	f.n = n;
	f.escaped = SIZE_MAX;
#ifdef WD_HAVE_AVX2_PATH
	f.avx2 = __builtin_cpu_supports("avx2") && !c->no_avx2;
#endif
	tok = index_at(&f, 0);
	memset(&item, 0, sizeof(item));
	c->item = &item;
	goto value;

key:
	NEXT(pos);
	ch = p[pos];
	if (ch != '"') {
		if (ch == '}' && first)
			goto close;
		return SLOW;
	}
	NEXT(i);	/* the closing quote: strings hold no token */
	/* An escaped key could spell a tracked one: the walker defers. */
	if (f.escapes && memchr(p + pos + 1, '\\', i - pos - 1))
		return DEFER;
	act = kind[depth] == K_OTHER ? A_SKIP :
	      key_act(kind[depth], p + pos + 1, i - pos - 1);
	if (act == DEFER)
		return DEFER;
	NEXT(pos);
	if (p[pos] != ':')
		return SLOW;
value:
	NEXT(pos);
	ch = p[pos];
have_value:
	if (ch == '"') {
		struct wd_str *slot;

		NEXT(i);
		if (act != A_SKIP) {
			struct wd_str v = { p + pos + 1, i - pos - 1 };

			/* Kept values are views: none with escapes. */
			if (act != A_STATUS && f.escapes &&
			    memchr(v.ptr, '\\', v.len))
				return DEFER;

			if ((slot = act_slot(c, act)) != NULL) {
				if (slot->ptr)
					return DEFER;
				*slot = v;
			} else if (act == A_MSG) {
				if (v.len != 0 && !(v.len == 2 &&
				    memcmp(v.ptr, "OK", 2) == 0))
					return DEFER;	/* a failure's message */
			} else if (act == A_STATUS) {
				if (c->status_seen)
					return DEFER;
				c->status_seen = true;
			} else {
				return DEFER;
			}
		}
		goto after;
	}
	if (ch == '{' || ch == '[') {
		enum kind k = K_OTHER;

		if (depth + 1 > WD_ENTRY_MAX_DEPTH)
			return DEFER;
		switch (act) {
		case A_SKIP:
			k = depth ? K_OTHER : K_ROOT;
			break;
		case A_STATUS:
			if (c->status_seen)
				return DEFER;
			c->status_seen = true;
			/* An array is not a Status: ignored. */
			k = ch == '{' ? K_STATUS : K_OTHER;
			break;
		case A_PROTO:
			if (c->proto || ch != '{')
				return DEFER;
			c->proto = true;
			k = K_PROTO;
			break;
		case A_AUTHN:
			if (c->authn_seen || ch != '{')
				return DEFER;
			c->authn_seen = true;
			k = K_AUTHN;
			break;
		case A_AUTHZ:
			if (c->authz_seen || ch != '[')
				return DEFER;
			c->authz_seen = true;
			k = K_AUTHZ;
			break;
		case A_ITEM:
			if (ch != '{')
				return DEFER;
			memset(&item, 0, sizeof(item));
			k = K_ITEM;
			break;
		default:
			return DEFER;
		}
		depth++;
		kind[depth] = (unsigned char)k;
		obj[depth] = ch == '{';
		first = true;
		if (ch == '{')
			goto key;
		act = k == K_AUTHZ ? A_ITEM : A_SKIP;
		NEXT(pos);
		ch = p[pos];
		if (ch == ']')
			goto close;
		goto have_value;
	}
	/* A number or literal: its other bytes are tokens too. */
	if ((i = scalar_end(p, n, pos)) == SIZE_MAX)
		return SLOW;
	i -= pos;	/* its length */
	for (size_t k = 1; k < i; k++)
		NEXT(pos);
	switch (act) {
	case A_SKIP:
		break;
	case A_STATUS:
		if (c->status_seen)
			return DEFER;
		c->status_seen = true;
		break;
	case A_CODE:
		if (i != 1 || ch != '0')
			return DEFER;	/* a failure's code */
		break;
	case A_GRANTED:
		if (item.granted.ptr || (ch != 't' && ch != 'f'))
			return DEFER;
		item.granted.ptr = ch == 't' ? "true" : "false";
		item.granted.len = ch == 't' ? 4 : 5;
		break;
	default:
		return DEFER;
	}
after:
	NEXT(pos);
	ch = p[pos];
	if (ch == ',') {
		first = false;
		if (obj[depth])
			goto key;
		act = kind[depth] == K_AUTHZ ? A_ITEM : A_SKIP;
		goto value;
	}
	if (ch != (obj[depth] ? '}' : ']'))
		return SLOW;
close:
	if (kind[depth] == K_ITEM &&
	    (item.perm.ptr || item.res.ptr || item.granted.ptr)) {
		wd_entry_add(c->e, WD_F_AUTHZ_PERMISSION, item.perm.ptr ?
			     item.perm.ptr : "", item.perm.len);
		wd_entry_add(c->e, WD_F_AUTHZ_RESOURCE, item.res.ptr ?
			     item.res.ptr : "", item.res.len);
		wd_entry_add(c->e, WD_F_AUTHZ_GRANTED, item.granted.ptr ?
			     item.granted.ptr : "absent",
			     item.granted.ptr ? item.granted.len : 6);
	}
	if (--depth > 0)
		goto after;
	c->i = pos + 1;
	/* Newlines up to pos (2 << 63 wraps to 0). */
	c->nl = f.newlines + bits_set(f.nl & ((2ull << (pos - base)) - 1));
	c->item = NULL;
	return WD_LITE_SUCCESS;
}

#undef NEXT

/* The walker over the whole object, the reference for the fast path. */
static int walk(struct cur *c)
{
	if (object(c, 1, root_member) < 0)
		return DEFER;
	/* A status message other than OK: a failure unless a zero code
	 * came with it; the decoder decides. */
	return c->odd_message ? DEFER : WD_LITE_SUCCESS;
}

/* A cursor at p[0, n) past leading blanks, with e emptied. */
static void cur_start(struct cur *c, const char *p, size_t n,
		      struct wd_entry *e)
{
	memset(c, 0, sizeof(*c));
	c->word = SIZE_MAX;
	c->p = p;
	c->n = n;
	c->e = e;
	wd_entry_reset(e);
	ws(c);
}

static enum wd_lite_result decode(const char *p, size_t n, struct wd_entry *e,
				  size_t *end, uint64_t *newlines,
				  enum wd_lite_path path)
{
	struct cur c;
	const char *kind;
	size_t lead;
	uint64_t lead_nl;
	int r = SLOW;

	cur_start(&c, p, n, e);
	if (c.i >= n || p[c.i] != '{')
		return WD_LITE_DEFER;
	c.no_avx2 = path == WD_LITE_PATH_PORTABLE;
	if (path != WD_LITE_PATH_WALK) {
		lead = c.i;
		lead_nl = c.nl;
		c.p = p + lead;
		c.n = n - lead;
		c.i = 0;
		r = fast_object(&c, c.p, c.n);
		c.p = p;
		c.n = n;
		if (r == WD_LITE_SUCCESS) {
			c.i += lead;
			c.nl += lead_nl;
		} else if (r == SLOW) {
			cur_start(&c, p, n, e);	/* the walker from scratch */
		}
	}
	if (r == SLOW)
		r = walk(&c);
	if (r != WD_LITE_SUCCESS)
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

enum wd_lite_result wd_lite_decode_nl(const char *p, size_t n,
				      struct wd_entry *e, size_t *end,
				      uint64_t *newlines)
{
	return decode(p, n, e, end, newlines, WD_LITE_PATH_AUTO);
}

enum wd_lite_result wd_lite_decode_path(const char *p, size_t n,
					struct wd_entry *e, size_t *end,
					uint64_t *newlines,
					enum wd_lite_path path)
{
	return decode(p, n, e, end, newlines, path);
}

enum wd_lite_result wd_lite_decode(const char *p, size_t n,
				   struct wd_entry *e, size_t *end)
{
	uint64_t nl;

	return wd_lite_decode_nl(p, n, e, end, &nl);
}
