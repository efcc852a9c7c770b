/* details.c - error details as each tool prints them, to the JSON of a
 * REST error body's "details" (see text_int.h).
 *
 * Three renderings: Go's apierror lines ("error details: name = ErrorInfo
 * reason = R domain = D metadata = map[k:v]"), gcloud's YAML dump of the
 * details list, and Python's str() of the details list (protobuf messages
 * in text format, or dicts for the REST transport). Each is turned into
 * the objects google.rpc.Status.details holds in JSON ("@type", lowerCamel
 * field names), so that the decoder extracts them like any other record.
 * Everything is bounded by the caller's buffer caps and by a nesting
 * limit.
 */
#include "text_int.h"
#include "whydenied/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_PREFIX "type.googleapis.com/google.rpc."
#define MAX_NEST 32

/* ---- JSON output ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
		unsigned char hi = c == 0xED ? 0x9F : 0xBF;

		return n >= 3 && p[1] >= lo && p[1] <= hi &&
		       (p[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;

		return n >= 4 && p[1] >= lo && p[1] <= hi &&
		       (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

int wd_tx_json_str(struct wd_buf *b, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, start = 0, k;
	char esc[8];
	int ret = wd_buf_addc(b, '"');

	while (ret == 0 && i < n) {
		unsigned char c = u[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		k = c >= 0x80 ? utf8_len(u + i, n - i) : 0;
		if (k > 0) {
			i += k;
			continue;
		}
		ret = wd_buf_add(b, p + start, i - start);
		if (ret < 0)
			break;
		if (c >= 0x80)
			ret = wd_buf_adds(b, "\xef\xbf\xbd");
		else if (c == '"')
			ret = wd_buf_adds(b, "\\\"");
		else if (c == '\\')
			ret = wd_buf_adds(b, "\\\\");
		else if (c == '\n')
			ret = wd_buf_adds(b, "\\n");
		else if (c == '\t')
			ret = wd_buf_adds(b, "\\t");
		else if (c == '\r')
			ret = wd_buf_adds(b, "\\r");
		else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			ret = wd_buf_adds(b, esc);
		}
		i++;
		start = i;
	}
	if (ret == 0)
		ret = wd_buf_add(b, p + start, n - start);
	if (ret == 0)
		ret = wd_buf_addc(b, '"');
	return ret;
}

/* "key": with a comma before it unless first. */
static int json_key(struct wd_buf *b, bool *first, const char *k, size_t n)
{
	int ret = 0;

	if (!*first)
		ret = wd_buf_addc(b, ',');
	*first = false;
	if (ret == 0)
		ret = wd_tx_json_str(b, k, n);
	if (ret == 0)
		ret = wd_buf_addc(b, ':');
	return ret;
}

static int json_kv(struct wd_buf *b, bool *first, const char *k,
		   const char *v, size_t n)
{
	int ret = json_key(b, first, k, strlen(k));

	return ret ? ret : wd_tx_json_str(b, v, n);
}

/* ---- bracket balance ------------------------------------------------ */

size_t wd_tx_bal_feed(struct wd_tx_bal *b, const char *p, size_t n,
		      bool single)
{
	size_t i;

	for (i = 0; i < n && !b->done; i++) {
		char c = p[i];

		if (b->quote) {
			if (b->esc)
				b->esc = false;
			else if (c == '\\')
				b->esc = true;
			else if (c == b->quote)
				b->quote = 0;
			continue;
		}
		if (c == '"' || (single && c == '\'')) {
			if (b->started)
				b->quote = c;
		} else if (c == '[' || c == '{') {
			b->depth++;
			b->started = true;
		} else if ((c == ']' || c == '}') && b->started) {
			if (b->depth > 0)
				b->depth--;
			if (b->depth == 0) {
				b->done = true;
				return i + 1;
			}
		}
	}
	return i;
}

/* ---- Go: "error details: name = X k = v ..." ------------------------- */

struct go_spec {
	const char *name;
	const char *keys[4];
};

static const struct go_spec go_specs[] = {
	{ "ErrorInfo", { "reason", "domain", "metadata" } },
	{ "Help", { "desc", "url" } },
	{ "PreconditionFailure", { "type", "subject", "desc" } },
	{ "QuotaFailure", { "id", "desc" } },
	{ "BadRequest", { "field", "desc" } },
	{ "LocalizedMessage", { "locale", "msg" } },
	{ "ResourceInfo", { "type", "resourcename", "owner", "desc" } },
	{ "RequestInfo", { "id", "data" } },
	{ "DebugInfo", { "detail", "stack" } },
};

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Go's %v of a map[string]string: "map[k1:v1 k2:v2]", keys sorted. A
 * value may hold spaces; a new key starts after a space at an identifier
 * followed by ':' that does not start a URL ("https://"). */
static int go_map(struct wd_buf *b, const char *p, size_t n)
{
	bool first = true;
	size_t i = 0, ks, ke, vs;
	int ret = wd_buf_addc(b, '{');

	if (n >= 5 && memcmp(p, "map[", 4) == 0 && p[n - 1] == ']') {
		p += 4;
		n -= 5;
	} else {
		n = 0;
	}
	while (ret == 0 && i < n) {
		ks = i;
		while (i < n && p[i] != ':')
			i++;
		if (i >= n)
			break;
		ke = i++;
		vs = i;
		for (; i < n; i++) {
			size_t j = i + 1;

			if (p[i] != ' ')
				continue;
			while (j < n && (is_ident(p[j]) || p[j] == '-' ||
					 p[j] == '.'))
				j++;
			if (j > i + 1 && j < n && p[j] == ':' &&
			    (j + 1 >= n || p[j + 1] != '/'))
				break;
		}
		ret = json_key(b, &first, p + ks, ke - ks);
		if (ret == 0)
			ret = wd_tx_json_str(b, p + vs, i - vs);
		if (i < n)
			i++;
	}
	return ret ? ret : wd_buf_addc(b, '}');
}

int wd_tx_go_detail(struct wd_buf *items, const char *p, size_t n)
{
	const struct go_spec *spec = NULL;
	struct wd_str v[4] = { { NULL, 0 } };
	size_t i, k, nl, len = items->len;
	const char *name;
	bool first = true;
	int ret;

	if (n > 9 && memcmp(p, "retry in ", 9) == 0) {
		ret = len ? wd_buf_addc(items, ',') : 0;
		if (ret == 0)
			ret = wd_buf_adds(items, "{\"@type\":\"" TYPE_PREFIX
					  "RetryInfo\",\"retryDelay\":");
		if (ret == 0)
			ret = wd_tx_json_str(items, p + 9,
					     wd_tx_trim(p + 9, n - 9).len);
		if (ret == 0)
			ret = wd_buf_addc(items, '}');
		goto out;
	}
	if (n < 8 || memcmp(p, "name = ", 7) != 0)
		return WD_EFORMAT;
	name = p + 7;
	for (nl = 0; 7 + nl < n && name[nl] != ' '; nl++)
		;
	for (i = 0; i < sizeof(go_specs) / sizeof(go_specs[0]); i++)
		if (wd_mem_eq(name, nl, go_specs[i].name))
			spec = &go_specs[i];
	if (spec == NULL)
		return WD_EFORMAT;
	/* Each key's value runs to the next key ("k1 = a b k2 = c"). */
	i = 7 + nl;
	for (k = 0; k < 4 && spec->keys[k]; k++) {
		char pat[32];
		const char *at, *next = NULL;
		size_t start;

		snprintf(pat, sizeof(pat), " %s = ", spec->keys[k]);
		at = wd_tx_find(p + i, n - i, pat);
		if (at == NULL)
			break;
		start = (size_t)(at - p) + strlen(pat);
		if (k + 1 < 4 && spec->keys[k + 1]) {
			snprintf(pat, sizeof(pat), " %s = ", spec->keys[k + 1]);
			next = wd_tx_find(p + start, n - start, pat);
		}
		v[k].ptr = p + start;
		v[k].len = next ? (size_t)(next - v[k].ptr) : n - start;
		i = next ? (size_t)(next - p) : n;
	}
	ret = len ? wd_buf_addc(items, ',') : 0;
	if (ret == 0)
		ret = wd_buf_adds(items, "{");
	if (ret == 0)
		ret = json_key(items, &first, "@type", 5);
	if (ret == 0)
		ret = wd_buf_printf(items, "\"" TYPE_PREFIX "%s\"", spec->name);
#define KV(key, val) \
	if (ret == 0 && (val).ptr) \
		ret = json_kv(items, &first, key, (val).ptr, (val).len)
	if (spec == &go_specs[0]) {
		KV("reason", v[0]);
		KV("domain", v[1]);
		if (ret == 0 && v[2].ptr) {
			ret = json_key(items, &first, "metadata", 8);
			if (ret == 0)
				ret = go_map(items, v[2].ptr, v[2].len);
		}
	} else if (spec == &go_specs[1]) {
		ret = ret ? ret : wd_buf_adds(items, ",\"links\":[{");
		first = true;
		KV("description", v[0]);
		KV("url", v[1]);
		ret = ret ? ret : wd_buf_adds(items, "}]");
	} else if (spec == &go_specs[2] || spec == &go_specs[3] ||
		   spec == &go_specs[4]) {
		bool bad = spec == &go_specs[4];

		ret = ret ? ret : wd_buf_adds(items, bad ?
					      ",\"fieldViolations\":[{" :
					      ",\"violations\":[{");
		first = true;
		if (spec == &go_specs[2]) {
			KV("type", v[0]);
			KV("subject", v[1]);
			KV("description", v[2]);
		} else {
			KV(bad ? "field" : "subject", v[0]);
			KV("description", v[1]);
		}
		ret = ret ? ret : wd_buf_adds(items, "}]");
	} else if (spec == &go_specs[5]) {
		KV("locale", v[0]);
		KV("message", v[1]);
	} else if (spec == &go_specs[6]) {
		KV("resourceType", v[0]);
		KV("resourceName", v[1]);
		KV("owner", v[2]);
		KV("description", v[3]);
	} else if (spec == &go_specs[7]) {
		KV("requestId", v[0]);
		KV("servingData", v[1]);
	} else {
		KV("detail", v[0]);
	}
#undef KV
	if (ret == 0)
		ret = wd_buf_addc(items, '}');
out:
	if (ret < 0 && len < items->len) {
		items->len = len;
		items->ptr[len] = '\0';
	}
	return ret;
}

/* ---- gcloud YAML ---------------------------------------------------- */

struct yline {
	int ind;
	const char *p;
	size_t n;
};

struct yaml {
	struct yline *l;
	size_t n, i;
	struct wd_buf *out;
	struct wd_buf s;	/* a scalar being assembled */
	int nest;
};

static bool y_dash(const struct yline *l)
{
	return l->n >= 1 && l->p[0] == '-' && (l->n == 1 || l->p[1] == ' ');
}

/* Offset of the ':' that ends a mapping key on the line, or -1. */
static long y_key_end(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || (p[0] == '-' && (n == 1 || p[1] == ' ')))
		return -1;
	if (p[0] == '\'' || p[0] == '"') {
		for (i = 1; i < n; i++) {
			if (p[0] == '"' && p[i] == '\\') {
				i++;
				continue;
			}
			if (p[i] != p[0])
				continue;
			if (p[0] == '\'' && i + 1 < n && p[i + 1] == '\'') {
				i++;
				continue;
			}
			break;
		}
		i++;
		return i < n && p[i] == ':' && (i + 1 == n || p[i + 1] == ' ') ?
		       (long)i : -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == ':' && (i + 1 == n || p[i + 1] == ' '))
			return (long)i;
		if (p[i] == ' ' && i + 1 < n && p[i + 1] == '#')
			return -1;
	}
	return -1;
}

/* Appends the text of a scalar written on one line (quotes removed,
 * escapes resolved) to y->s. Returns 1 when a quoted scalar is still
 * open at the end of the line (it continues on the next line). */
static int y_piece(struct yaml *y, const char *p, size_t n, char *quote)
{
	size_t i = 0;
	int ret = 0;

	if (*quote == 0) {
		if (n > 0 && (p[0] == '\'' || p[0] == '"')) {
			*quote = p[0];
			i = 1;
		} else {
			return wd_buf_add(&y->s, p, n) < 0 ? -1 : 0;
		}
	}
	for (; i < n && ret == 0; i++) {
		char c = p[i];

		if (c == *quote) {
			if (c == '\'' && i + 1 < n && p[i + 1] == '\'') {
				ret = wd_buf_addc(&y->s, '\'');
				i++;
				continue;
			}
			*quote = 0;
			return 0;
		}
		if (c == '\\' && *quote == '"' && i + 1 < n) {
			char e = p[++i];

			c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
		}
		ret = wd_buf_addc(&y->s, c);
	}
	return ret < 0 ? -1 : 1;
}

/* A scalar starting with [p, p + n) on the current line (already
 * consumed), continued on following lines indented deeper than parent. */
static int y_scalar(struct yaml *y, const char *p, size_t n, int parent)
{
	char quote = 0;
	int open;
	bool block = n > 0 && (p[0] == '|' || p[0] == '>');
	bool literal = block && p[0] == '|';

	wd_buf_clear(&y->s);
	if (wd_mem_eq(p, n, "{}") || wd_mem_eq(p, n, "[]"))
		return wd_buf_add(y->out, p, n) < 0 ? -1 : 0;
	open = block ? 0 : y_piece(y, p, n, &quote);
	/* Lines indented deeper than the owner continue the scalar (a
	 * mapping or sequence cannot start there in valid YAML). */
	while (open >= 0 && y->i < y->n && y->l[y->i].ind > parent) {
		const struct yline *l = &y->l[y->i];

		if (y->s.len > 0 &&
		    wd_buf_addc(&y->s, literal ? '\n' : ' ') < 0)
			return -1;
		open = block ? (wd_buf_add(&y->s, l->p, l->n) < 0 ? -1 : 0) :
		       y_piece(y, l->p, l->n, &quote);
		y->i++;
	}
	if (open < 0)
		return -1;
	return wd_tx_json_str(y->out, y->s.ptr ? y->s.ptr : "", y->s.len);
}

static int y_value(struct yaml *y, int ind, int parent);

static int y_seq(struct yaml *y, int ind)
{
	bool first = true;
	int ret = wd_buf_addc(y->out, '[');

	while (ret == 0 && y->i < y->n && y->l[y->i].ind == ind &&
	       y_dash(&y->l[y->i])) {
		struct yline *l = &y->l[y->i];
		size_t k = 1;

		while (k < l->n && l->p[k] == ' ')
			k++;
		if (!first)
			ret = wd_buf_addc(y->out, ',');
		first = false;
		if (ret < 0)
			break;
		if (k >= l->n) {
			y->i++;
			if (y->i < y->n && y->l[y->i].ind > ind)
				ret = y_value(y, y->l[y->i].ind, ind);
			else
				ret = wd_buf_adds(y->out, "null");
		} else {
			/* The item's first line: what follows the dash. */
			l->ind = ind + (int)k;
			l->p += k;
			l->n -= k;
			ret = y_value(y, l->ind, ind);
		}
	}
	return ret ? ret : wd_buf_addc(y->out, ']');
}

static int y_map(struct yaml *y, int ind)
{
	bool first = true;
	int ret = wd_buf_addc(y->out, '{');

	while (ret == 0 && y->i < y->n) {
		const struct yline *l = &y->l[y->i];
		long k;
		struct wd_str rest;
		char quote = 0;

		if (l->ind != ind || y_dash(l))
			break;
		k = y_key_end(l->p, l->n);
		if (k < 0)
			break;
		wd_buf_clear(&y->s);
		if (y_piece(y, l->p, (size_t)k, &quote) != 0)
			return -1;
		ret = json_key(y->out, &first, y->s.ptr ? y->s.ptr : "",
			       y->s.len);
		rest = wd_tx_trim(l->p + k + 1, l->n - (size_t)k - 1);
		y->i++;
		if (ret < 0)
			break;
		if (rest.len > 0)
			ret = y_scalar(y, rest.ptr, rest.len, ind);
		else if (y->i < y->n && (y->l[y->i].ind > ind ||
					 (y->l[y->i].ind == ind &&
					  y_dash(&y->l[y->i]))))
			ret = y_value(y, y->l[y->i].ind, ind);
		else
			ret = wd_buf_adds(y->out, "null");
	}
	return ret ? ret : wd_buf_addc(y->out, '}');
}

static int y_value(struct yaml *y, int ind, int parent)
{
	const struct yline *l = &y->l[y->i];
	int ret;

	if (++y->nest > MAX_NEST)
		return -1;
	if (y_dash(l)) {
		ret = y_seq(y, ind);
	} else if (y_key_end(l->p, l->n) >= 0) {
		ret = y_map(y, ind);
	} else {
		y->i++;
		ret = y_scalar(y, l->p, l->n, parent);
	}
	y->nest--;
	return ret;
}

int wd_tx_yaml_details(struct wd_buf *out, const char *p, size_t n)
{
	struct yaml y;
	size_t i, cap = 1, len = out->len;
	const char *q = p, *end = p + n;
	int ret = 0;

	for (i = 0; i < n; i++)
		cap += p[i] == '\n';
	memset(&y, 0, sizeof(y));
	y.l = wd_xmalloc(cap * sizeof(*y.l));
	y.out = out;
	wd_buf_init(&y.s, WD_TX_BLOCK_MAX);
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t ln = nl ? (size_t)(nl - q) : (size_t)(end - q);
		struct wd_str t = wd_tx_trim(q, ln);

		if (t.len > 0 && t.ptr[0] != '#' && y.n < cap) {
			y.l[y.n].ind = (int)(t.ptr - q);
			y.l[y.n].p = t.ptr;
			y.l[y.n].n = t.len;
			y.n++;
		}
		q = nl ? nl + 1 : end;
	}
	if (y.n == 0) {
		ret = -1;
	} else if (y_dash(&y.l[0])) {
		ret = y_value(&y, y.l[0].ind, -1);
	} else {
		/* A single detail, not a list: wrap it. */
		ret = wd_buf_addc(out, '[');
		if (ret == 0)
			ret = y_value(&y, y.l[0].ind, -1);
		if (ret == 0)
			ret = wd_buf_addc(out, ']');
	}
	if (ret < 0 && len < out->len) {
		out->len = len;
		out->ptr[len] = '\0';
	}
	wd_buf_release(&y.s);
	free(y.l);
	return ret < 0 ? WD_EFORMAT : 0;
}

/* ---- Python: protobuf text format and dict reprs -------------------- */

enum ptok {
	PT_EOF, PT_ERR, PT_LBRACE, PT_RBRACE, PT_LBRACK, PT_RBRACK,
	PT_LANGLE, PT_RANGLE, PT_COLON, PT_COMMA, PT_SEMI, PT_STR, PT_WORD,
};

/* A parsed value. Names and scalars live in the parser's strings buffer
 * (offsets, since it grows). */
enum pkind { PK_STR, PK_WORD, PK_DICT, PK_MSG, PK_LIST };

struct pnode {
	enum pkind kind;
	size_t name, name_len;	/* key or field name (in a DICT or MSG) */
	size_t val, val_len;	/* PK_STR / PK_WORD text */
	int first, last, next;	/* children */
};

#define PY_MAX_NODES 4096

struct py {
	const char *p;
	size_t n, i;
	enum ptok tok;		/* current token */
	size_t tval, tlen;	/* its text (PT_STR: decoded, in strs) */
	struct wd_buf strs;
	struct pnode *nodes;
	int nnodes;
	int nest;
	bool bad;
};

static void py_utf8(struct py *y, unsigned long cp)
{
	char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		b[0] = (char)(0xF0 | ((cp >> 18) & 0x07));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		k = 4;
	}
	if (wd_buf_add(&y->strs, b, k) < 0)
		y->bad = true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A quoted string (Python or protobuf escapes) at y->i, decoded into
 * strs. */
static void py_string(struct py *y)
{
	char q = y->p[y->i++];

	y->tval = y->strs.len;
	while (y->i < y->n && y->p[y->i] != q) {
		char c = y->p[y->i++];
		unsigned long v = 0;
		int d, k;

		if (c != '\\' || y->i >= y->n) {
			if (wd_buf_addc(&y->strs, c) < 0)
				y->bad = true;
			continue;
		}
		c = y->p[y->i++];
		switch (c) {
		case 'n': c = '\n'; break;
		case 't': c = '\t'; break;
		case 'r': c = '\r'; break;
		case 'x': case 'u': case 'U':
			k = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			while (k-- > 0 && y->i < y->n &&
			       (d = hexval(y->p[y->i])) >= 0) {
				v = v * 16 + (unsigned long)d;
				y->i++;
			}
			if (c == 'x') {
				if (wd_buf_addc(&y->strs, (char)v) < 0)
					y->bad = true;
			} else {
				py_utf8(y, v > 0x10FFFF ? 0xFFFD : v);
			}
			continue;
		default:
			if (c >= '0' && c <= '7') {
				/* protobuf text: octal bytes (UTF-8 escaped) */
				v = (unsigned long)(c - '0');
				for (k = 0; k < 2 && y->i < y->n &&
				     y->p[y->i] >= '0' && y->p[y->i] <= '7';
				     k++) {
					v = v * 8 + (unsigned long)
						(y->p[y->i] - '0');
					y->i++;
				}
				c = (char)v;
			}
			break;
		}
		if (wd_buf_addc(&y->strs, c) < 0)
			y->bad = true;
	}
	y->i++;
	y->tlen = y->strs.len - y->tval;
}

static void py_next(struct py *y)
{
	char c;

	while (y->i < y->n && (y->p[y->i] == ' ' || y->p[y->i] == '\n' ||
			       y->p[y->i] == '\t' || y->p[y->i] == '\r'))
		y->i++;
	if (y->i >= y->n) {
		y->tok = PT_EOF;
		return;
	}
	c = y->p[y->i];
	switch (c) {
	case '{': y->tok = PT_LBRACE; y->i++; return;
	case '}': y->tok = PT_RBRACE; y->i++; return;
	case '[': y->tok = PT_LBRACK; y->i++; return;
	case ']': y->tok = PT_RBRACK; y->i++; return;
	case '<': y->tok = PT_LANGLE; y->i++; return;
	case '>': y->tok = PT_RANGLE; y->i++; return;
	case ':': y->tok = PT_COLON; y->i++; return;
	case ',': y->tok = PT_COMMA; y->i++; return;
	case ';': y->tok = PT_SEMI; y->i++; return;
	case '"': case '\'':
		py_string(y);
		y->tok = PT_STR;
		return;
	default:
		break;
	}
	if (is_ident(c) || c == '-' || c == '.' || c == '@' || c == '+') {
		size_t s = y->i;

		while (y->i < y->n && (is_ident(y->p[y->i]) ||
				       y->p[y->i] == '-' || y->p[y->i] == '.' ||
				       y->p[y->i] == '@' || y->p[y->i] == '+' ||
				       y->p[y->i] == '/'))
			y->i++;
		y->tval = y->strs.len;
		if (wd_buf_add(&y->strs, y->p + s, y->i - s) < 0)
			y->bad = true;
		y->tlen = y->i - s;
		y->tok = PT_WORD;
		return;
	}
	y->tok = PT_ERR;
}

static int py_node(struct py *y, enum pkind kind)
{
	struct pnode *nd;

	if (y->nnodes >= PY_MAX_NODES) {
		y->bad = true;
		return -1;
	}
	nd = &y->nodes[y->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->first = nd->last = nd->next = -1;
	return y->nnodes++;
}

static void py_child(struct py *y, int parent, int kid)
{
	struct pnode *pa = &y->nodes[parent];

	if (pa->last >= 0)
		y->nodes[pa->last].next = kid;
	else
		pa->first = kid;
	pa->last = kid;
}

static int py_value(struct py *y);

/* A node for the string or word token at hand, and past it. */
static int py_scalar(struct py *y)
{
	int v = py_node(y, y->tok == PT_STR ? PK_STR : PK_WORD);

	if (v >= 0) {
		y->nodes[v].val = y->tval;
		y->nodes[v].val_len = y->tlen;
	}
	py_next(y);
	return v;
}

/* Fields of a protobuf text message until end (or, for an element of the
 * details list written without braces, until ',' or ']'). */
static int py_msg(struct py *y, enum ptok end)
{
	int m = py_node(y, PK_MSG);

	while (m >= 0 && !y->bad && y->tok == PT_WORD) {
		size_t name = y->tval, name_len = y->tlen;
		int v;

		py_next(y);
		if (y->tok == PT_COLON)
			py_next(y);
		if (y->tok == PT_LBRACE || y->tok == PT_LANGLE) {
			enum ptok close = y->tok == PT_LBRACE ? PT_RBRACE :
					  PT_RANGLE;

			if (++y->nest > MAX_NEST) {
				y->bad = true;
				break;
			}
			py_next(y);
			v = py_msg(y, close);
			y->nest--;
			if (y->tok != close)
				y->bad = true;
			py_next(y);
		} else if (y->tok == PT_STR || y->tok == PT_WORD) {
			v = py_scalar(y);
			/* Adjacent strings concatenate. */
			while (v >= 0 && y->tok == PT_STR) {
				y->nodes[v].val_len = y->tval + y->tlen -
						      y->nodes[v].val;
				py_next(y);
			}
		} else {
			y->bad = true;
			break;
		}
		if (v < 0)
			break;
		y->nodes[v].name = name;
		y->nodes[v].name_len = name_len;
		py_child(y, m, v);
		if (y->tok == PT_SEMI || (y->tok == PT_COMMA && end != PT_EOF))
			py_next(y);
	}
	return m;
}

static int py_value(struct py *y)
{
	int v = -1;

	if (++y->nest > MAX_NEST) {
		y->bad = true;
		return -1;
	}
	if (y->tok == PT_LBRACK) {
		v = py_node(y, PK_LIST);
		py_next(y);
		while (v >= 0 && !y->bad && y->tok != PT_RBRACK) {
			int e;

			if (y->tok == PT_WORD) {
				/* A message without braces, or a literal. */
				size_t save_i = y->i;
				size_t tv = y->tval, tl = y->tlen;

				py_next(y);
				if (y->tok == PT_COLON || y->tok == PT_LBRACE ||
				    y->tok == PT_LANGLE) {
					y->i = save_i;
					y->tok = PT_WORD;
					y->tval = tv;
					y->tlen = tl;
					e = py_msg(y, PT_EOF);
				} else {
					e = py_node(y, PK_WORD);
					if (e >= 0) {
						y->nodes[e].val = tv;
						y->nodes[e].val_len = tl;
					}
				}
			} else {
				e = py_value(y);
			}
			if (e < 0)
				break;
			py_child(y, v, e);
			if (y->tok == PT_COMMA)
				py_next(y);
			else if (y->tok != PT_RBRACK)
				y->bad = true;
		}
		py_next(y);
	} else if (y->tok == PT_LBRACE) {
		py_next(y);
		if (y->tok == PT_WORD) {
			v = py_msg(y, PT_RBRACE);
		} else {
			v = py_node(y, PK_DICT);
			while (v >= 0 && !y->bad && y->tok == PT_STR) {
				size_t k = y->tval, kl = y->tlen;
				int e;

				py_next(y);
				if (y->tok != PT_COLON) {
					y->bad = true;
					break;
				}
				py_next(y);
				e = py_value(y);
				if (e < 0)
					break;
				y->nodes[e].name = k;
				y->nodes[e].name_len = kl;
				py_child(y, v, e);
				if (y->tok == PT_COMMA)
					py_next(y);
			}
		}
		if (y->tok != PT_RBRACE)
			y->bad = true;
		py_next(y);
	} else if (y->tok == PT_STR || y->tok == PT_WORD) {
		v = py_scalar(y);
	} else {
		y->bad = true;
	}
	y->nest--;
	return v;
}

static const char *py_str(const struct py *y, size_t off)
{
	return y->strs.ptr + off;
}

static bool py_name_is(const struct py *y, const struct pnode *nd,
		       const char *lit)
{
	return wd_mem_eq(py_str(y, nd->name), nd->name_len, lit);
}

/* The child of a message named lit, or NULL. */
static const struct pnode *py_field(const struct py *y, const struct pnode *m,
				    const char *lit)
{
	int k;

	for (k = m->first; k >= 0; k = y->nodes[k].next)
		if (py_name_is(y, &y->nodes[k], lit))
			return &y->nodes[k];
	return NULL;
}

/* snake_case to lowerCamel, as proto3 JSON names fields. */
static int py_camel(struct wd_buf *b, const char *p, size_t n)
{
	char tmp[128];
	size_t i, k = 0;

	if (n >= sizeof(tmp))
		return wd_tx_json_str(b, p, n);
	for (i = 0; i < n; i++) {
		if (p[i] == '_' && i + 1 < n && i > 0) {
			char c = p[++i];

			tmp[k++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		} else {
			tmp[k++] = p[i];
		}
	}
	return wd_tx_json_str(b, tmp, k);
}

/* The google.rpc type of a details element printed without its name. */
static const char *py_type(const struct py *y, const struct pnode *m)
{
	const struct pnode *v;

	if (py_field(y, m, "reason") || py_field(y, m, "domain"))
		return "ErrorInfo";
	if (py_field(y, m, "links"))
		return "Help";
	if (py_field(y, m, "field_violations"))
		return "BadRequest";
	v = py_field(y, m, "violations");
	if (v)
		return v->kind == PK_MSG && py_field(y, v, "type") ?
		       "PreconditionFailure" : "QuotaFailure";
	if (py_field(y, m, "retry_delay"))
		return "RetryInfo";
	if (py_field(y, m, "locale"))
		return "LocalizedMessage";
	if (py_field(y, m, "resource_type") || py_field(y, m, "resource_name"))
		return "ResourceInfo";
	if (py_field(y, m, "request_id"))
		return "RequestInfo";
	return NULL;
}

static int py_emit(struct py *y, struct wd_buf *b, int idx, bool top);

/* metadata { key: "k" value: "v" } entries as one JSON object. */
static int py_emit_map(struct py *y, struct wd_buf *b, const struct pnode *m,
		       const char *name)
{
	bool first = true;
	int k, ret = wd_buf_addc(b, '{');

	for (k = m->first; ret == 0 && k >= 0; k = y->nodes[k].next) {
		const struct pnode *e = &y->nodes[k], *key, *val;

		if (!py_name_is(y, e, name) || e->kind != PK_MSG)
			continue;
		key = py_field(y, e, "key");
		val = py_field(y, e, "value");
		if (key == NULL)
			continue;
		ret = json_key(b, &first, py_str(y, key->val), key->val_len);
		if (ret == 0)
			ret = val ? wd_tx_json_str(b, py_str(y, val->val),
						   val->val_len) :
			      wd_buf_adds(b, "\"\"");
	}
	return ret ? ret : wd_buf_addc(b, '}');
}

/* retry_delay { seconds: 5 nanos: 0 } as "5s". */
static int py_emit_duration(struct py *y, struct wd_buf *b,
			    const struct pnode *d)
{
	const struct pnode *s = py_field(y, d, "seconds");
	const struct pnode *ns = py_field(y, d, "nanos");
	char tmp[64];
	long sec = 0, nanos = 0;

	if (s && s->val_len < 20)
		sec = strtol(py_str(y, s->val), NULL, 10);
	if (ns && ns->val_len < 20)
		nanos = strtol(py_str(y, ns->val), NULL, 10);
	if (nanos > 0)
		snprintf(tmp, sizeof(tmp), "%ld.%09lds", sec, nanos);
	else
		snprintf(tmp, sizeof(tmp), "%lds", sec);
	return wd_tx_json_str(b, tmp, strlen(tmp));
}

static bool py_repeated(const struct py *y, const struct pnode *nd)
{
	return py_name_is(y, nd, "violations") ||
	       py_name_is(y, nd, "links") ||
	       py_name_is(y, nd, "field_violations");
}

static int py_emit_msg(struct py *y, struct wd_buf *b, const struct pnode *m,
		       bool top)
{
	bool first = true;
	const char *type = top ? py_type(y, m) : NULL;
	int k, ret = wd_buf_addc(b, '{');

	if (ret == 0 && type) {
		ret = json_key(b, &first, "@type", 5);
		if (ret == 0)
			ret = wd_buf_printf(b, "\"" TYPE_PREFIX "%s\"", type);
	}
	for (k = m->first; ret == 0 && k >= 0; k = y->nodes[k].next) {
		const struct pnode *nd = &y->nodes[k];
		int j, count = 0;
		bool seen = false;

		/* Each name once, at its first occurrence. */
		for (j = m->first; j != k; j = y->nodes[j].next)
			if (y->nodes[j].name_len == nd->name_len &&
			    memcmp(py_str(y, y->nodes[j].name),
				   py_str(y, nd->name), nd->name_len) == 0)
				seen = true;
		if (seen)
			continue;
		for (j = k; j >= 0; j = y->nodes[j].next)
			if (y->nodes[j].name_len == nd->name_len &&
			    memcmp(py_str(y, y->nodes[j].name),
				   py_str(y, nd->name), nd->name_len) == 0)
				count++;
		if (!first)
			ret = wd_buf_addc(b, ',');
		first = false;
		if (ret == 0)
			ret = py_camel(b, py_str(y, nd->name), nd->name_len);
		if (ret == 0)
			ret = wd_buf_addc(b, ':');
		if (ret < 0)
			break;
		if (nd->kind == PK_MSG && py_field(y, nd, "key") &&
		    (py_name_is(y, nd, "metadata") ||
		     py_name_is(y, nd, "labels"))) {
			ret = py_emit_map(y, b, m,
					  py_name_is(y, nd, "metadata") ?
					  "metadata" : "labels");
			continue;
		}
		if (nd->kind == PK_MSG && py_name_is(y, nd, "retry_delay")) {
			ret = py_emit_duration(y, b, nd);
			continue;
		}
		if (count == 1 && !py_repeated(y, nd)) {
			ret = py_emit(y, b, k, false);
			continue;
		}
		ret = wd_buf_addc(b, '[');
		count = 0;
		for (j = k; ret == 0 && j >= 0; j = y->nodes[j].next) {
			if (y->nodes[j].name_len != nd->name_len ||
			    memcmp(py_str(y, y->nodes[j].name),
				   py_str(y, nd->name), nd->name_len) != 0)
				continue;
			if (count++ > 0)
				ret = wd_buf_addc(b, ',');
			if (ret == 0)
				ret = py_emit(y, b, j, false);
		}
		if (ret == 0)
			ret = wd_buf_addc(b, ']');
	}
	return ret ? ret : wd_buf_addc(b, '}');
}

static int py_emit(struct py *y, struct wd_buf *b, int idx, bool top)
{
	const struct pnode *nd = &y->nodes[idx];
	const char *s = py_str(y, nd->val);
	bool first = true;
	int k, ret = 0;

	if (++y->nest > MAX_NEST)
		return -1;
	switch (nd->kind) {
	case PK_STR:
		ret = wd_tx_json_str(b, s, nd->val_len);
		break;
	case PK_WORD:
		if (wd_mem_eq(s, nd->val_len, "True"))
			ret = wd_buf_adds(b, "true");
		else if (wd_mem_eq(s, nd->val_len, "False"))
			ret = wd_buf_adds(b, "false");
		else if (wd_mem_eq(s, nd->val_len, "None"))
			ret = wd_buf_adds(b, "null");
		else
			ret = wd_tx_json_str(b, s, nd->val_len);
		break;
	case PK_MSG:
		ret = py_emit_msg(y, b, nd, top);
		break;
	case PK_DICT:
		ret = wd_buf_addc(b, '{');
		for (k = nd->first; ret == 0 && k >= 0; k = y->nodes[k].next) {
			const struct pnode *e = &y->nodes[k];

			ret = json_key(b, &first, py_str(y, e->name),
				       e->name_len);
			if (ret == 0)
				ret = py_emit(y, b, k, false);
		}
		if (ret == 0)
			ret = wd_buf_addc(b, '}');
		break;
	case PK_LIST:
		ret = wd_buf_addc(b, '[');
		for (k = nd->first; ret == 0 && k >= 0; k = y->nodes[k].next) {
			if (k != nd->first)
				ret = wd_buf_addc(b, ',');
			if (ret == 0)
				ret = py_emit(y, b, k, top);
		}
		if (ret == 0)
			ret = wd_buf_addc(b, ']');
		break;
	}
	y->nest--;
	return ret;
}

int wd_tx_py_details(struct wd_buf *out, const char *p, size_t n)
{
	struct py y;
	size_t len = out->len;
	int root, ret = WD_EFORMAT;

	memset(&y, 0, sizeof(y));
	y.p = p;
	y.n = n;
	wd_buf_init(&y.strs, 2 * WD_TX_BLOCK_MAX);
	/* Reserve the strings buffer so that offsets stay small and the
	 * first name never sits at offset 0 by accident of an empty buffer. */
	if (wd_buf_addc(&y.strs, '\0') < 0)
		goto out;
	y.nodes = wd_xmalloc(PY_MAX_NODES * sizeof(*y.nodes));
	py_next(&y);
	if (y.tok != PT_LBRACK)
		goto out_nodes;
	root = py_value(&y);
	if (root < 0 || y.bad || y.nodes[root].kind != PK_LIST)
		goto out_nodes;
	y.nest = 0;
	ret = py_emit(&y, out, root, true);
	if (ret < 0 && len < out->len) {
		out->len = len;
		out->ptr[len] = '\0';
	}
out_nodes:
	free(y.nodes);
out:
	wd_buf_release(&y.strs);
	return ret < 0 ? WD_EFORMAT : 0;
}
