/* framer.c - finds LogEntry objects in a JSON byte stream (see
 * whydenied/framer.h).
 *
 * One pass, one byte of state per nesting level, no recursion. Strings are
 * skipped with a table lookup per byte; only the bytes of an entry being
 * captured are copied, and only when the entry spans input chunks.
 */
#include "whydenied/framer.h"
#include "whydenied/buf.h"
#include "whydenied/simd.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STACK_MAX 130	/* container types tracked; deeper is only counted */
#define KEY_MAX 32
#define META_MAX 4096

static const char *const skip_names[WD_SKIP__COUNT] = {
	[WD_SKIP_SYNTAX] = "syntax",
	[WD_SKIP_TRUNCATED] = "truncated",
	[WD_SKIP_TOO_LARGE] = "too_large",
	[WD_SKIP_TOO_DEEP] = "too_deep",
	[WD_SKIP_NOT_OBJECT] = "not_object",
	[WD_SKIP_NOT_JSON] = "not_json",
	[WD_SKIP_ENCODING] = "encoding",
	[WD_SKIP_NOT_ENTRY] = "not_entry",
};

const char *wd_skip_name(enum wd_skip r)
{
	if ((int)r < 0 || r >= WD_SKIP__COUNT)
		return "unknown";
	return skip_names[r];
}

struct wd_framer {
	const struct wd_framer_ops *ops;
	void *ctx;

	uint64_t line;
	uint64_t offset;	/* of the chunk being fed */
	uint64_t values;	/* top-level values seen */
	unsigned depth;
	char stack[STACK_MAX];
	bool in_str;
	bool esc;
	bool prev_nl;		/* the last byte of the previous chunk was \n */
	bool bom_checked;
	unsigned bom_seen;	/* BOM bytes matched so far (a BOM may be
				 * split across feeds) */
	char last_sig;		/* last non-blank byte outside strings of
				 * the previous feed */
	bool skip_line;		/* garbage at top level: skip to newline */
	char word[8];		/* its first word, while undecided */
	size_t word_len;
	uint64_t word_line, word_offset;

	/* Top-level object state (keys at depth 1). */
	bool top_obj;
	bool expect_key;
	bool in_key;
	bool value_pending;
	char key[KEY_MAX + 1];
	size_t key_len;
	bool key_trunc;
	bool in_meta;		/* capturing a nextPageToken-like value */
	struct wd_buf meta;

	/* Page mode: entries live at depth 2 inside "entries": [ ... ]. */
	bool page;
	bool in_entries;
	bool entries_expect;	/* an element of "entries" may start */
	/* The top-level object has had only nextPageToken keys so far: an
	 * empty page {"nextPageToken":"..."} is a container, not an entry. */
	bool only_token;
	unsigned nkeys;		/* keys of the top-level object */

	/* Array elements at depth 1. */
	bool top_arr;
	bool expect_elem;

	/* The entry being captured. */
	bool in_entry;
	unsigned entry_depth;	/* depth outside the entry */
	uint64_t entry_line;
	uint64_t entry_offset;
	bool oversize;
	bool too_deep;
	bool bad_struct;
	size_t cap_start;	/* index in the current chunk */
	struct wd_buf cap;
};

struct wd_framer *wd_framer_new(const struct wd_framer_ops *ops, void *ctx)
{
	struct wd_framer *f = wd_xcalloc(1, sizeof(*f));

	f->ops = ops;
	f->ctx = ctx;
	wd_buf_init(&f->cap, WD_ENTRY_MAX_BYTES);
	wd_buf_init(&f->meta, META_MAX);
	wd_framer_reset(f);
	return f;
}

void wd_framer_free(struct wd_framer *f)
{
	if (f == NULL)
		return;
	wd_buf_release(&f->cap);
	wd_buf_release(&f->meta);
	free(f);
}

void wd_framer_reset(struct wd_framer *f)
{
	struct wd_buf cap = f->cap, meta = f->meta;
	const struct wd_framer_ops *ops = f->ops;
	void *ctx = f->ctx;

	memset(f, 0, sizeof(*f));
	f->ops = ops;
	f->ctx = ctx;
	f->cap = cap;
	f->meta = meta;
	wd_buf_clear(&f->cap);
	wd_buf_clear(&f->meta);
	f->line = 1;
	f->prev_nl = true;
}

void wd_framer_pos(const struct wd_framer *f, struct wd_framer_pos *pos)
{
	pos->at = WD_AT_ELSEWHERE;
	pos->line = f->line;
	pos->offset = f->offset;
	pos->prev_nl = f->prev_nl;
	if (f->in_str || f->skip_line || f->word_len > 0 || f->in_entry ||
	    !f->bom_checked || f->top_obj || f->page)
		return;
	if (f->depth == 0 && !f->top_arr)
		pos->at = WD_AT_STREAM;
	else if (f->depth == 1 && f->top_arr && f->expect_elem &&
		 f->stack[0] == '[')
		pos->at = WD_AT_ARRAY;
}

void wd_framer_resume(struct wd_framer *f, const struct wd_framer_pos *pos)
{
	wd_framer_reset(f);
	f->line = pos->line;
	f->offset = pos->offset;
	f->prev_nl = pos->prev_nl != 0;
	f->bom_checked = true;
	/* last_sig stays 0: prev_sig reaches it only for a '{' in column 0
	 * with nothing but blanks before it in the feed, and at either
	 * position such a '{' is at depth 0 (stream) or in the array, where
	 * cut_line does not look. */
	if (pos->at == WD_AT_ARRAY) {
		f->depth = 1;
		f->stack[0] = '[';
		f->top_arr = true;
		f->expect_elem = true;
	}
}

void wd_framer_set_ctx(struct wd_framer *f, void *ctx)
{
	f->ctx = ctx;
}

static void skip(struct wd_framer *f, enum wd_skip r, uint64_t line,
		 uint64_t off, const char *detail)
{
	if (f->ops->on_skip)
		f->ops->on_skip(f->ctx, r, line, off, detail);
}

static void begin_entry(struct wd_framer *f, size_t i)
{
	f->in_entry = true;
	f->entry_depth = f->depth;
	f->entry_line = f->line;
	f->entry_offset = f->offset + i;
	f->oversize = false;
	f->too_deep = false;
	f->bad_struct = false;
	f->cap_start = i;
	wd_buf_clear(&f->cap);
}

static void capture(struct wd_framer *f, const char *p, size_t n)
{
	if (f->oversize)
		return;
	if (wd_buf_add(&f->cap, p, n) < 0) {
		f->oversize = true;
		wd_buf_release(&f->cap);
		wd_buf_init(&f->cap, WD_ENTRY_MAX_BYTES);
	}
}

/* The entry ended at p[i] inclusive. */
static int end_entry(struct wd_framer *f, const char *p, size_t i)
{
	const char *bytes;
	size_t n;

	f->in_entry = false;
	if (f->top_obj && f->entry_depth == 0 && f->only_token &&
	    f->nkeys > 0) {
		/* {"nextPageToken":"..."}: a page with no entries (the API
		 * sends these), not an entry. */
		return 0;
	}
	if (f->cap.len == 0 && !f->oversize) {
		bytes = p + f->cap_start;
		n = i + 1 - f->cap_start;
		if (n > WD_ENTRY_MAX_BYTES)
			f->oversize = true;
	} else {
		capture(f, p + f->cap_start, i + 1 - f->cap_start);
		bytes = f->cap.ptr;
		n = f->cap.len;
	}
	if (f->oversize) {
		skip(f, WD_SKIP_TOO_LARGE, f->entry_line, f->entry_offset,
		     "entry larger than 1 MiB");
		return 0;
	}
	if (f->too_deep) {
		skip(f, WD_SKIP_TOO_DEEP, f->entry_line, f->entry_offset,
		     "nesting deeper than 64 levels");
		return 0;
	}
	if (f->bad_struct) {
		skip(f, WD_SKIP_SYNTAX, f->entry_line, f->entry_offset,
		     "mismatched brackets");
		/* In a stream of objects the rest of its line is part of
		 * the same broken entry: do not report it again. */
		if (!f->top_arr && !f->page)
			f->skip_line = true;
		return 0;
	}
	if (f->ops->on_entry)
		return f->ops->on_entry(f->ctx, bytes, n, f->entry_line,
					f->entry_offset);
	return 0;
}

/* Abandons everything open: used when a line of NDJSON ended early. */
static void resync(struct wd_framer *f)
{
	if (f->in_entry)
		skip(f, WD_SKIP_TRUNCATED, f->entry_line, f->entry_offset,
		     "entry ends before its closing brace");
	f->in_entry = false;
	f->depth = 0;
	f->in_str = false;
	f->esc = false;
	f->top_obj = false;
	f->top_arr = false;
	f->page = false;
	f->in_entries = false;
	f->in_key = false;
	f->in_meta = false;
	f->expect_key = false;
	f->value_pending = false;
	wd_buf_clear(&f->cap);
}

static bool stack_push(struct wd_framer *f, char c)
{
	if (f->depth < STACK_MAX)
		f->stack[f->depth] = c;
	f->depth++;
	if (f->in_entry && f->depth - f->entry_depth > WD_ENTRY_MAX_DEPTH)
		f->too_deep = true;
	return true;
}

/* Pops for closer c; returns false on a mismatch. */
static bool stack_pop(struct wd_framer *f, char c)
{
	char open;

	if (f->depth == 0)
		return false;
	f->depth--;
	if (f->depth >= STACK_MAX)
		return true;
	open = f->stack[f->depth];
	return (open == '{' && c == '}') || (open == '[' && c == ']');
}

static void key_done(struct wd_framer *f)
{
	f->in_key = false;
	f->key[f->key_len] = '\0';
	f->nkeys++;
	if (f->key_trunc || (strcmp(f->key, "nextPageToken") != 0 &&
			     strcmp(f->key, "entries") != 0))
		f->only_token = false;
}

static void meta_done(struct wd_framer *f)
{
	f->in_meta = false;
	if (f->ops->on_meta)
		f->ops->on_meta(f->ctx, f->key, f->meta.ptr ? f->meta.ptr : "",
				f->meta.len);
	wd_buf_clear(&f->meta);
}

static void str_bytes(struct wd_framer *f, const char *p, size_t n)
{
	if (f->in_key) {
		size_t room = KEY_MAX - f->key_len;

		if (n > room) {
			n = room;
			f->key_trunc = true;
		}
		memcpy(f->key + f->key_len, p, n);
		f->key_len += n;
	} else if (f->in_meta) {
		(void)wd_buf_add(&f->meta, p, n);
	}
}

/* A value begins at depth 1 of a top-level object. */
static void top_value(struct wd_framer *f, char c)
{
	f->value_pending = false;
	if (c == '[' && !f->key_trunc && strcmp(f->key, "entries") == 0) {
		/* An entries:list page: what was captured is a container. */
		f->page = true;
		f->in_entry = false;
		wd_buf_clear(&f->cap);
		f->in_entries = true;
		f->entries_expect = true;
	} else if (c == '"' && !f->key_trunc &&
		   strcmp(f->key, "nextPageToken") == 0) {
		/* A page's token, before or after its entries. */
		f->in_meta = true;
		wd_buf_clear(&f->meta);
	}
}

static int open_brace(struct wd_framer *f, const char *p, size_t i, char c)
{
	(void)p;
	if (f->depth == 0) {
		f->values++;
		if (c == '{') {
			f->top_obj = true;
			f->top_arr = false;
			f->page = false;
			f->only_token = true;
			f->nkeys = 0;
			f->in_entries = false;
			f->expect_key = true;
			f->value_pending = false;
			begin_entry(f, i);
		} else {
			f->top_arr = true;
			f->top_obj = false;
			f->expect_elem = true;
		}
		stack_push(f, c);
		return 0;
	}
	if (f->top_obj && f->depth == 1 && f->value_pending)
		top_value(f, c);
	if (f->top_arr && f->depth == 1 && f->expect_elem) {
		f->expect_elem = false;
		if (c == '{')
			begin_entry(f, i);
		else
			skip(f, WD_SKIP_NOT_OBJECT, f->line, f->offset + i,
			     "array element is not an object");
	} else if (f->page && f->in_entries && f->depth == 2 && !f->in_entry) {
		f->entries_expect = false;
		if (c == '{')
			begin_entry(f, i);
		else
			skip(f, WD_SKIP_NOT_OBJECT, f->line, f->offset + i,
			     "entries element is not an object");
	}
	stack_push(f, c);
	return 0;
}

static int close_brace(struct wd_framer *f, const char *p, size_t i, char c)
{
	bool ok = stack_pop(f, c);
	int ret = 0;

	if (!ok) {
		if (f->in_entry) {
			f->bad_struct = true;
		} else if (f->depth == 0 && !f->top_obj && !f->top_arr) {
			skip(f, WD_SKIP_SYNTAX, f->line, f->offset + i,
			     "unexpected closing bracket");
			return 0;
		} else {
			skip(f, WD_SKIP_SYNTAX, f->line, f->offset + i,
			     "mismatched brackets");
		}
	}
	if (f->in_entry && f->depth == f->entry_depth)
		ret = end_entry(f, p, i);
	if (f->page && f->in_entries && f->depth == 1)
		f->in_entries = false;
	if (f->depth == 0) {
		f->top_obj = false;
		f->top_arr = false;
		f->page = false;
	}
	return ret;
}

static void word_done(struct wd_framer *f)
{
	bool lit;

	f->word[f->word_len] = '\0';
	lit = strcmp(f->word, "true") == 0 || strcmp(f->word, "false") == 0 ||
	      strcmp(f->word, "null") == 0;
	skip(f, lit ? WD_SKIP_NOT_OBJECT : WD_SKIP_NOT_JSON, f->word_line,
	     f->word_offset, lit ? "a literal, not an object" : "not JSON");
	f->word_len = 0;
}

/* A string or scalar at p[i] where an element of the top-level array or
 * of a page's entries may start: reports it and returns true. */
static bool elem_not_object(struct wd_framer *f, size_t i)
{
	if (f->top_arr && f->depth == 1 && f->expect_elem) {
		f->expect_elem = false;
		skip(f, WD_SKIP_NOT_OBJECT, f->line, f->offset + i,
		     "array element is not an object");
		return true;
	}
	if (f->page && f->in_entries && f->depth == 2 && f->entries_expect) {
		f->entries_expect = false;
		skip(f, WD_SKIP_NOT_OBJECT, f->line, f->offset + i,
		     "entries element is not an object");
		return true;
	}
	return false;
}

/* True when the byte before p[i] is a newline (column 0). */
static bool at_bol(const struct wd_framer *f, const char *p, size_t i)
{
	return i > 0 ? p[i - 1] == '\n' : f->prev_nl;
}

/* The last non-blank byte before p[i] (outside strings, as p[i] is). */
static char prev_sig(const struct wd_framer *f, const char *p, size_t i)
{
	while (i > 0) {
		char c = p[--i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return c;
	}
	return f->last_sig;
}

/* A '{' in column 0 inside an open value: in NDJSON the line before was
 * cut short. Except where a pretty-printer puts array elements in column
 * 0 (json.dumps(indent=0)): in an array, after '[' or ','. Inside an
 * object a '{' in column 0 is taken as a cut even after ':' - a line cut
 * just after a key is likelier than a value put on a line of its own. */
static bool cut_line(const struct wd_framer *f, const char *p, size_t i)
{
	char open, prev;

	if (f->depth == 0 || f->top_arr || f->page || !at_bol(f, p, i))
		return false;
	prev = prev_sig(f, p, i);
	open = f->depth <= STACK_MAX ? f->stack[f->depth - 1] : '{';
	if (open == '{')
		return true;
	return prev != '[' && prev != ',';
}

/* Offers the entry starting with the '{' at p[i] to ops->try_entry; on
 * success the framer moves past it as if it had framed it. Returns <0 to
 * stop, else 0 with *used the bytes taken (0: frame it here). */
static int try_entry(struct wd_framer *f, const char *p, size_t i, size_t n,
		     size_t *used)
{
	/* In a stream of objects a newline inside one may be a cut line
	 * (cut_line, resync): only single-line entries go the fast way. */
	int allow_nl = f->top_arr || f->page;
	size_t room = n - i;
	uint64_t nl = 0;
	int ret;

	*used = 0;
	if (f->in_entry || !(f->depth == 0 ||
			     (f->top_arr && f->depth == 1 && f->expect_elem) ||
			     (f->page && f->in_entries && f->depth == 2)))
		return 0;
	if (room > WD_ENTRY_MAX_BYTES)
		room = WD_ENTRY_MAX_BYTES;
	ret = f->ops->try_entry(f->ctx, p + i, room, f->line, f->offset + i,
				allow_nl, used, &nl);
	if (*used == 0)
		return ret;
	/* What open_brace and close_brace would have left. */
	if (f->depth == 0) {
		f->values++;
		f->top_obj = false;
		f->top_arr = false;
		f->page = false;
	} else if (f->top_arr) {
		f->expect_elem = false;
	} else {
		f->entries_expect = false;
	}
	f->line += nl;
	return ret;
}

int wd_framer_feed(struct wd_framer *f, const char *p, size_t n)
{
	size_t i = 0;
	int ret = 0;

	while (!f->bom_checked && i < n) {
		static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

		/* A UTF-8 BOM, possibly split across feeds. Bytes that
		 * start like one and then differ were not JSON anyway. */
		if (f->offset + i != f->bom_seen ||
		    (unsigned char)p[i] != bom[f->bom_seen]) {
			f->bom_checked = true;
			break;
		}
		i++;
		if (++f->bom_seen == 3)
			f->bom_checked = true;
	}
	while (i < n) {
		unsigned char c;

		if (f->in_str) {
			if (f->esc) {
				f->esc = false;
				c = (unsigned char)p[i];
				if (c == '\n')
					goto raw_newline;
				str_bytes(f, p + i, 1);
				i++;
				continue;
			}
			{
				size_t j = i + wd_find_str_special(p + i, n - i,
								   0);

				if (j > i)
					str_bytes(f, p + i, j - i);
				i = j;
			}
			if (i == n)
				break;
			c = (unsigned char)p[i];
			if (c == '"') {
				f->in_str = false;
				if (f->in_key)
					key_done(f);
				else if (f->in_meta)
					meta_done(f);
			} else if (c == '\\') {
				f->esc = true;
				str_bytes(f, p + i, 1);
			} else if (c == '\n') {
raw_newline:
				/* A raw newline never occurs inside a JSON
				 * string: in a stream of objects it means the
				 * line was cut short. */
				f->line++;
				if (!f->top_arr)
					resync(f);
			}
			i++;
			continue;
		}
		if (f->skip_line && f->word_len > 0) {
			/* The first word of a top-level non-JSON stretch:
			 * a JSON literal (true, false, null) is a value that
			 * is not an object; anything else is not JSON. The
			 * word may be split across feeds. */
			char ch = p[i];

			if (f->word_len < sizeof(f->word) - 1 && ch >= 'a' &&
			    ch <= 'z') {
				f->word[f->word_len++] = ch;
				i++;
				continue;
			}
			word_done(f);
			continue;
		}
		if (f->skip_line) {
			const char *nl = memchr(p + i, '\n', n - i);

			if (nl == NULL) {
				i = n;
				break;
			}
			i = (size_t)(nl - p) + 1;
			f->skip_line = false;
			f->line++;
			continue;
		}
		if (f->in_entry && !(f->top_obj && f->depth == 1)) {
			/* Inside an entry only quotes and brackets matter:
			 * jump to the next one, counting newlines, and skip
			 * whole strings here. */
			i += wd_find_struct(p + i, n - i, &f->line);
			while (i < n && p[i] == '"') {
				size_t j = i + 1;

				for (;;) {
					j += wd_find_str_special(p + j, n - j,
								 0);
					if (j >= n || p[j] != '\\')
						break;
					if (j + 1 >= n)
						break;
					j += 2;
				}
				if (j >= n || p[j] != '"') {
					/* Runs out, or a control byte: the
					 * general path takes it from here. */
					break;
				}
				i = j + 1;
				i += wd_find_struct(p + i, n - i, &f->line);
			}
			if (i == n)
				break;
		}
		c = (unsigned char)p[i];
		switch (c) {
		case '\n':
			f->line++;
			break;
		case ' ':
		case '\t':
		case '\r':
			break;
		case '"':
			f->in_str = true;
			if (f->top_obj && f->depth == 1) {
				if (f->expect_key) {
					f->expect_key = false;
					f->in_key = true;
					f->key_len = 0;
					f->key_trunc = false;
				} else if (f->value_pending) {
					top_value(f, '"');
				}
			} else if (elem_not_object(f, i)) {
				/* reported */
			} else if (f->depth == 0) {
				f->values++;
				skip(f, WD_SKIP_NOT_OBJECT, f->line,
				     f->offset + i, "a string, not an object");
			}
			break;
		case '{':
			if (cut_line(f, p, i)) {
				/* A '{' in column 0 inside an object: the
				 * previous NDJSON line was cut short. */
				resync(f);
			}
			if (f->ops->try_entry) {
				size_t used;

				ret = try_entry(f, p, i, n, &used);
				if (ret < 0)
					return ret;
				if (used > 0) {
					i += used;
					continue;
				}
			}
			ret = open_brace(f, p, i, (char)c);
			break;
		case '[':
			ret = open_brace(f, p, i, (char)c);
			break;
		case '}':
		case ']':
			ret = close_brace(f, p, i, (char)c);
			break;
		case ',':
			if (f->page && f->in_entries && f->depth == 2)
				f->entries_expect = true;
			else if (f->top_obj && f->depth == 1)
				f->expect_key = true;
			else if (f->top_arr && f->depth == 1)
				f->expect_elem = true;
			break;
		case ':':
			if (f->top_obj && f->depth == 1)
				f->value_pending = true;
			break;
		default:
			if (f->depth == 0) {
				bool number = (c >= '0' && c <= '9') ||
					      c == '-';

				f->values++;
				f->skip_line = true;
				if (c >= 'a' && c <= 'z') {
					/* Decided when the word ends. */
					f->word[0] = (char)c;
					f->word_len = 1;
					f->word_line = f->line;
					f->word_offset = f->offset + i;
					break;
				}
				skip(f, c == 0 ? WD_SKIP_ENCODING : number ?
				     WD_SKIP_NOT_OBJECT : WD_SKIP_NOT_JSON,
				     f->line, f->offset + i,
				     c == 0 ? "NUL byte outside JSON" : number ?
				     "a number, not an object" : "not JSON");
			} else if (elem_not_object(f, i)) {
				/* reported */
			} else if (f->top_obj && f->depth == 1 &&
				   f->value_pending) {
				f->value_pending = false;
			}
			break;
		}
		i++;
		if (ret < 0)
			return ret;
	}
	if (f->in_entry) {
		if (f->cap_start < n)
			capture(f, p + f->cap_start, n - f->cap_start);
		f->cap_start = 0;
	}
	if (n > 0)
		f->prev_nl = p[n - 1] == '\n';
	if (!f->in_str) {
		char c = prev_sig(f, p, n);

		f->last_sig = c;
	}
	f->offset += n;
	return 0;
}

uint64_t wd_framer_finish(struct wd_framer *f)
{
	if (f->word_len > 0)
		word_done(f);
	if (f->in_entry) {
		skip(f, WD_SKIP_TRUNCATED, f->entry_line, f->entry_offset,
		     "input ends inside an entry");
		f->in_entry = false;
	} else if (f->depth > 0) {
		skip(f, WD_SKIP_TRUNCATED, f->line, f->offset,
		     "input ends inside a JSON value");
	}
	f->depth = 0;
	return f->values;
}
