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

enum kind {		/* what an open container is */
	K_OTHER, K_ROOT, K_PROTO, K_STATUS, K_AUTHN, K_AUTHZ, K_ITEM,
};

enum act {		/* what the next value is for */
	A_SKIP, A_TS, A_LOG_NAME, A_INSERT, A_PROTO, A_STATUS, A_METHOD,
	A_AUTHN, A_AUTHZ, A_CODE, A_MSG, A_EMAIL, A_SUBJECT, A_PERM, A_RES,
	A_GRANTED, A_ITEM,
};

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

#define KEYIS(lit) lit_eq(key, klen, lit, sizeof(lit) - 1)

/* What the value of key in a container of kind k is for; DEFER for a
 * key the walker defers on at once. */
static inline __attribute__((always_inline)) int
key_act(enum kind k, const char *key, size_t klen)
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
		/* Envelopes, nested entries and REST error bodies: the
		 * decoder's. */
		if (KEYIS("error") || KEYIS("data") || KEYIS("message"))
			return DEFER;
		/* Page keys: the framer may take the object for a page. */
		if (KEYIS("entries") || KEYIS("nextPageToken"))
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
static inline struct wd_str *act_slot(struct cur *c, int act)
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

/* A status message that makes no failure: empty or OK. */
static bool ok_message(struct wd_str v)
{
	return v.len == 0 || (v.len == 2 && memcmp(v.ptr, "OK", 2) == 0);
}

static void grant(struct authz_item *it, bool granted)
{
	it->granted.ptr = granted ? "true" : "false";
	it->granted.len = granted ? 4 : 5;
}

/* An authorizationInfo[] item's fields, when it has any. */
static void add_item(struct cur *c, const struct authz_item *it)
{
	if (!it->perm.ptr && !it->res.ptr && !it->granted.ptr)
		return;
	wd_entry_add(c->e, WD_F_AUTHZ_PERMISSION, it->perm.ptr ?
		     it->perm.ptr : "", it->perm.len);
	wd_entry_add(c->e, WD_F_AUTHZ_RESOURCE, it->res.ptr ? it->res.ptr : "",
		     it->res.len);
	wd_entry_add(c->e, WD_F_AUTHZ_GRANTED, it->granted.ptr ?
		     it->granted.ptr : "absent", it->granted.ptr ?
		     it->granted.len : 6);
}

/* The once-only and type checks, shared by the walker and the fast path,
 * for the value of act that starts with ch: the kind of container it
 * opens (K_OTHER when it is skipped, or not a container), or DEFER. */
static inline int take(struct cur *c, int act, char ch)
{
	bool opens = ch == '{' || ch == '[';

	switch (act) {
	case A_SKIP:
		return K_OTHER;
	case A_PROTO:
		if (c->proto || ch != '{')
			return DEFER;
		c->proto = true;
		return K_PROTO;
	case A_STATUS:
		if (c->status_seen)
			return DEFER;
		c->status_seen = true;
		/* Anything but an object is not a Status: ignored. */
		return ch == '{' ? K_STATUS : K_OTHER;
	case A_AUTHN:
		if (c->authn_seen || ch != '{')
			return DEFER;
		c->authn_seen = true;
		return K_AUTHN;
	case A_AUTHZ:
		if (c->authz_seen || ch != '[')
			return DEFER;
		c->authz_seen = true;
		return K_AUTHZ;
	case A_ITEM:
		return ch == '{' ? K_ITEM : DEFER;
	default:	/* a kept string, the code, the message, the grant */
		return opens ? DEFER : K_OTHER;
	}
}

/* What the items of an array of kind k are for. */
static inline int elem_act(enum kind k)
{
	return k == K_AUTHZ ? A_ITEM : A_SKIP;
}

static int value(struct cur *c, int depth);
static int walk_value(struct cur *c, int act, int depth);

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

/* An object of kind k: each member's value goes to walk_value for what
 * its key is for. */
static int object(struct cur *c, int depth, enum kind k)
{
	struct wd_str key;
	bool esc;
	bool first = true;
	int r, act;

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
		act = k == K_OTHER ? A_SKIP : key_act(k, key.ptr, key.len);
		if (act == DEFER || walk_value(c, act, depth + 1) < 0)
			return DEFER;
	}
}

static int array(struct cur *c, int depth, enum kind k)
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
		if (walk_value(c, elem_act(k), depth + 1) < 0)
			return DEFER;
	}
}

static int value(struct cur *c, int depth)
{
	struct wd_str s;
	bool esc;

	switch (c->p[c->i]) {
	case '{': return object(c, depth, K_OTHER);
	case '[': return array(c, depth, K_OTHER);
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

/* The value at c->i, for act. */
static int walk_value(struct cur *c, int act, int depth)
{
	struct wd_str *slot = act_slot(c, act), v;
	struct authz_item it;
	char ch = c->p[c->i];
	bool esc;
	int k, r;

	if (slot)
		return keep_str(c, slot);
	if ((k = take(c, act, ch)) < 0)
		return DEFER;
	switch (act) {
	case A_CODE:
		if (ch != '0' && ch != '-' && (ch < '1' || ch > '9'))
			return DEFER;
		if (number(c, &v) < 0 || v.len != 1 || v.ptr[0] != '0')
			return DEFER;	/* a non-zero code: a failure */
		return 0;
	case A_MSG:
		if (ch != '"' || string(c, &v, &esc) < 0 || esc)
			return DEFER;
		/* Only a message with code 0 or an OK/empty message is a
		 * success; code 0 may come later, so remember it. */
		if (!ok_message(v))
			c->odd_message = true;
		return 0;
	case A_GRANTED:
		if (c->item->granted.ptr)
			return DEFER;
		if (literal(c, "true") == 0)
			grant(c->item, true);
		else if (literal(c, "false") == 0)
			grant(c->item, false);
		else
			return DEFER;
		return 0;
	}
	if (k == K_OTHER)
		return value(c, depth);
	if (k != K_ITEM)
		return ch == '{' ? object(c, depth, (enum kind)k) :
				   array(c, depth, (enum kind)k);
	memset(&it, 0, sizeof(it));
	c->item = &it;
	r = object(c, depth, K_ITEM);
	c->item = NULL;
	if (r < 0)
		return DEFER;
	add_item(c, &it);
	return 0;
}


const char *wd_log_kind(struct wd_str ln)
{
	/* With their lengths: this runs for every entry. */
	static const struct {
		const char *name;
		size_t len;
	} kinds[] = {
		{ "activity", 8 }, { "data_access", 11 },
		{ "system_event", 12 }, { "policy", 6 },
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
			if (rest == kinds[i].len &&
			    memcmp(p, kinds[i].name, rest) == 0)
				return kinds[i].name;
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

#if WD_HAVE_SSE2 && defined(__GNUC__)
/* The same with AVX2, 32 bytes a compare, where the CPU has it (chosen at
 * run time: the build stays for any x86-64). */
#include <immintrin.h>
#define WD_HAVE_AVX2_PATH 1

static inline __attribute__((target("avx2"), always_inline)) void
classify64_avx2(const char *p, struct classes *c)
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

/* What indexing carries from one stretch to the next. The walker keeps
 * the stretch's offset and its tokens in locals (registers). */
struct fast {
	const char *p;
	size_t n;
	uint64_t nl;		/* the newlines of the stretch */
	uint64_t in_str;	/* all ones when the stretch before ended in a string */
	uint64_t newlines;	/* in the stretches before */
	size_t escaped;		/* the offset of the last escaped byte */
	bool escapes;		/* some string so far holds an escape */
	bool stop;		/* tok ends before an odd byte */
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

/* Which bytes are inside a string (its opening quote included): an odd
 * number of quotes up to here. */
static inline uint64_t prefix_xor(uint64_t s)
{
	s ^= s << 1;
	s ^= s << 2;
	s ^= s << 4;
	s ^= s << 8;
	s ^= s << 16;
	s ^= s << 32;
	return s;
}

/* Indexes the stretch p[base, base + 64): returns its tokens. The
 * classes come from classify (one of the classify64s, inlined), the
 * prefix xor from pxor. */
static inline __attribute__((always_inline)) uint64_t
index_body(struct fast *f, size_t base,
	   void (*classify)(const char *, struct classes *),
	   uint64_t (*pxor)(uint64_t))
{
	struct classes c;
	uint64_t in, odd = 0, tok, starts = 0, escaped = 0;
	const char *q = f->p + base;
	char pad[64];

	if (f->n - base < 64) {
		/* Blanks make no token and no odd byte. */
		memset(pad, ' ', sizeof(pad));
		memcpy(pad, q, f->n - base);
		q = pad;
	}
	classify(q, &c);
	/* Backslashes, control bytes and bytes >= 0x80 are rare in compact
	 * JSON (pretty JSON has a newline a line). */
	if (c.low || f->escaped == base) {
		escaped = escapes(f, base, q, c.low, &starts, &odd);
		c.quote &= ~escaped;
	}
	in = pxor(c.quote) ^ f->in_str;
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

static uint64_t index_portable(struct fast *f, size_t base)
{
	return index_body(f, base, classify64, prefix_xor);
}

#ifdef WD_HAVE_AVX2_PATH
/* The prefix xor as one carry-less multiply by all ones. */
static inline __attribute__((target("pclmul"), always_inline)) uint64_t
prefix_xor_clmul(uint64_t s)
{
	return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(
		_mm_set_epi64x(0, (long long)s), _mm_set1_epi8(-1), 0));
}

/* With AVX2 and PCLMUL (chosen at run time): the same answers. */
static inline __attribute__((target("avx2,pclmul"), always_inline)) uint64_t
index_avx2(struct fast *f, size_t base)
{
	return index_body(f, base, classify64_avx2, prefix_xor_clmul);
}
#endif

static inline unsigned bits_set(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* The next token's offset into *pos; false when the fast path must give
 * up (an odd byte, or the input ends). */
static inline __attribute__((always_inline)) bool
next_tok(struct fast *f, uint64_t *tok, size_t *base, size_t *pos,
	 uint64_t (*idx)(struct fast *, size_t))
{
	while (*tok == 0) {
		if (f->stop || f->n - *base <= 64)
			return false;
		if (f->nl)
			f->newlines += bits_set(f->nl);
		*base += 64;
		*tok = idx(f, *base);
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

	/* number and literal read p, n and i only: no memset of the whole
	 * cursor for every scalar. */
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

/* Takes the next token into pos, or gives up. */
#define NEXT(pos) do {						\
		if (!next_tok(&f, &tok, &base, &(pos), idx))	\
			return SLOW;					\
	} while (0)

/* The fast path over the object at p[0] == '{': WD_LITE_SUCCESS with the
 * fields in c (authorization items already in c->e), DEFER, or SLOW. The
 * grammar is the labels: key (a key, or '}' first), value, array (a value,
 * or ']' first), after (',' or the closer). Inlined into one function a
 * way of indexing (idx), so that each is compiled for its instructions. */
static inline __attribute__((always_inline)) int
fast_body(struct cur *c, const char *p, size_t n,
	  uint64_t (*idx)(struct fast *, size_t), struct authz_item *item)
{
	struct fast f;
	unsigned char kind[WD_ENTRY_MAX_DEPTH + 2];
	bool obj[WD_ENTRY_MAX_DEPTH + 2];	/* an object, not an array */
	int depth = 0, act = A_SKIP, sdepth = 0;
	size_t base = 0, pos = 0, i;
	uint64_t tok, skipped = 0;
	bool first;
	char ch;

	memset(&f, 0, sizeof(f));
	f.p = p;
	f.n = n;
	f.escaped = SIZE_MAX;
	tok = idx(&f, 0);
	memset(item, 0, sizeof(*item));
	c->item = item;
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
	/* No container here is K_OTHER: those go to skip_* below. */
	act = key_act(kind[depth], p + pos + 1, i - pos - 1);
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
			} else if (act == A_CODE || act == A_GRANTED ||
				   take(c, act, ch) < 0) {
				return DEFER;
			} else if (act == A_MSG && !ok_message(v)) {
				return DEFER;	/* a failure's message */
			}
		}
		goto after;
	}
	if (ch == '{' || ch == '[') {
		int k;

		if (depth + 1 > WD_ENTRY_MAX_DEPTH ||
		    (k = take(c, act, ch)) < 0)
			return DEFER;
		if (depth == 0)
			k = K_ROOT;	/* the first token */
		if (k == K_OTHER) {
			/* A container no kept field is in: skip_* below. */
			skipped = ch == '{';
			sdepth = depth + 1;
			if (ch == '{')
				goto skip_key_first;
			goto skip_value_first;
		}
		if (k == K_ITEM)
			memset(item, 0, sizeof(*item));
		depth++;
		kind[depth] = (unsigned char)k;
		obj[depth] = ch == '{';
		first = true;
		if (ch == '{')
			goto key;
		act = elem_act((enum kind)k);
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
	if (take(c, act, ch) < 0)
		return DEFER;
	switch (act) {
	case A_SKIP:
	case A_STATUS:
		break;
	case A_CODE:
		if (i != 1 || ch != '0')
			return DEFER;	/* a failure's code */
		break;
	case A_GRANTED:
		if (item->granted.ptr || (ch != 't' && ch != 'f'))
			return DEFER;
		grant(item, ch == 't');
		break;
	default:	/* a kept string or the message */
		return DEFER;
	}
after:
	NEXT(pos);
	ch = p[pos];
	if (ch == ',') {
		first = false;
		if (obj[depth])
			goto key;
		act = elem_act((enum kind)kind[depth]);
		goto value;
	}
	if (ch != (obj[depth] ? '}' : ']'))
		return SLOW;
close:
	if (kind[depth] == K_ITEM)
		add_item(c, item);
	if (--depth > 0)
		goto after;
	goto done;

	/* A skipped container (kind K_OTHER) and all in it: the same grammar
	 * with no key looked up, no take and no kind kept. The open
	 * containers are the bits of skipped (1 an object, the innermost
	 * lowest), sdepth deep. The fast path runs about 7 % fewer
	 * instructions than when it walked them as above. */
skip_key_first:
	NEXT(pos);
	ch = p[pos];
	if (ch == '}')
		goto skip_close;
	goto skip_key_have;
skip_key:
	NEXT(pos);
	ch = p[pos];
skip_key_have:
	if (ch != '"')
		return SLOW;
	NEXT(i);
	if (f.escapes && memchr(p + pos + 1, '\\', i - pos - 1))
		return DEFER;	/* as above: the walker defers on it */
	NEXT(pos);
	if (p[pos] != ':')
		return SLOW;
skip_value:
	NEXT(pos);
	ch = p[pos];
skip_value_have:
	if (ch == '"') {
		NEXT(pos);
		goto skip_after;
	}
	if (ch == '{' || ch == '[') {
		if (sdepth + 1 > WD_ENTRY_MAX_DEPTH)
			return DEFER;
		sdepth++;
		skipped = skipped << 1 | (ch == '{');
		if (ch == '{')
			goto skip_key_first;
		goto skip_value_first;
	}
	if ((i = scalar_end(p, n, pos)) == SIZE_MAX)
		return SLOW;
	for (i -= pos; i > 1; i--)
		NEXT(pos);
skip_after:
	NEXT(pos);
	ch = p[pos];
	if (ch == ',') {
		if (skipped & 1)
			goto skip_key;
		goto skip_value;
	}
	if (ch != ((skipped & 1) ? '}' : ']'))
		return SLOW;
skip_close:
	skipped >>= 1;
	if (--sdepth > depth)
		goto skip_after;
	goto after;
skip_value_first:
	NEXT(pos);
	ch = p[pos];
	if (ch == ']')
		goto skip_close;
	goto skip_value_have;

done:
	c->i = pos + 1;
	/* Newlines up to pos (2 << 63 wraps to 0). */
	c->nl = f.newlines + bits_set(f.nl & ((2ull << (pos - base)) - 1));
	c->item = NULL;
	return WD_LITE_SUCCESS;
}

#undef NEXT

static int fast_portable(struct cur *c, const char *p, size_t n)
{
	struct authz_item item;
	int r = fast_body(c, p, n, index_portable, &item);

	c->item = NULL;
	return r;
}

#ifdef WD_HAVE_AVX2_PATH
/* With AVX2 and PCLMUL for indexing, and BMI and POPCNT for the bit
 * tricks of the token walk (one instruction each for the lowest set bit,
 * clearing it and counting newlines). About 10 % fewer instructions than
 * the portable path on the benchmark's entries. */
__attribute__((target("avx2,pclmul,bmi,bmi2,popcnt")))
static int fast_avx2(struct cur *c, const char *p, size_t n)
{
	struct authz_item item;
	int r = fast_body(c, p, n, index_avx2, &item);

	c->item = NULL;
	return r;
}
#endif

/* The fast path for this CPU (AVX2 and the rest are chosen at run time:
 * the build runs on any x86-64). */
static int fast_object(struct cur *c, const char *p, size_t n)
{
#ifdef WD_HAVE_AVX2_PATH
	if (!c->no_avx2 && __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt"))
		return fast_avx2(c, p, n);
#endif
	return fast_portable(c, p, n);
}

/* The walker over the whole object, the reference for the fast path. */
static int walk(struct cur *c)
{
	if (object(c, 1, K_ROOT) < 0)
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
