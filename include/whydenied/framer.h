/* whydenied/framer.h - splits a byte stream of JSON into LogEntry objects.
 *
 * The framer is a string-aware structural scanner: it never builds values,
 * it only finds where each entry object starts and ends. It recognises,
 * from the bytes alone, a JSON array of entries, a sequence of top-level
 * objects (NDJSON, several per line, or one), and an entries:list page
 * {"entries":[...],"nextPageToken":...}. A top-level object that is not a
 * page is handed on whole (the decoder recognises Pub/Sub envelopes).
 *
 * Entries over the size cap, nested deeper than the depth cap, truncated, or
 * not objects are reported through on_skip and never reach on_entry, so no
 * unbounded input reaches the JSON parser. Memory is bounded by the size cap.
 */
#ifndef WHYDENIED_FRAMER_H
#define WHYDENIED_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#define WD_ENTRY_MAX_BYTES (1024u * 1024u)	/* audit entries are <= 512 KiB */
#define WD_ENTRY_MAX_DEPTH 64

enum wd_skip {
	WD_SKIP_SYNTAX,		/* invalid JSON */
	WD_SKIP_TRUNCATED,	/* input or line ended inside an entry */
	WD_SKIP_TOO_LARGE,	/* over WD_ENTRY_MAX_BYTES */
	WD_SKIP_TOO_DEEP,	/* nested deeper than WD_ENTRY_MAX_DEPTH */
	WD_SKIP_NOT_OBJECT,	/* an array element or value that is not an object */
	WD_SKIP_NOT_JSON,	/* a line of text where JSON was expected */
	WD_SKIP_ENCODING,	/* NUL byte or invalid UTF-8 */
	WD_SKIP_NOT_ENTRY,	/* valid JSON, but no LogEntry inside */
	WD_SKIP__COUNT
};

/* Short stable name of a reason ("syntax", "too_large", ...). */
const char *wd_skip_name(enum wd_skip r);

struct wd_framer_ops {
	/* A complete entry: bytes [p, p + n) starting at line/offset. The
	 * bytes are valid only during the call. Return <0 to stop. */
	int (*on_entry)(void *ctx, const char *p, size_t n, uint64_t line,
			uint64_t offset);
	/* An entry or stretch of input that was skipped. */
	void (*on_skip)(void *ctx, enum wd_skip reason, uint64_t line,
			uint64_t offset, const char *detail);
	/* A string value of a container's own key (nextPageToken). */
	void (*on_meta)(void *ctx, const char *key, const char *val, size_t n);
	/* Optional fast path, offered each '{' that starts an entry: p[0] is
	 * the '{', and n is capped at WD_ENTRY_MAX_BYTES. When the callee
	 * can take the whole entry itself (the success prefilter) it sets
	 * *used to the entry's length (through its closing '}') and *nl to
	 * the newlines inside it; *used = 0 leaves it to the framer. It must
	 * take only an entry the framer would frame the same way: a valid
	 * object within n bytes, with no newline unless allow_nl. Return <0
	 * to stop, as on_entry. */
	int (*try_entry)(void *ctx, const char *p, size_t n, uint64_t line,
			 uint64_t offset, int allow_nl, size_t *used,
			 uint64_t *nl);
};

struct wd_framer;

struct wd_framer *wd_framer_new(const struct wd_framer_ops *ops, void *ctx);
void wd_framer_free(struct wd_framer *f);	/* NULL is a no-op */

/* Feeds the next chunk. Returns 0, or the negative value on_entry returned. */
int wd_framer_feed(struct wd_framer *f, const char *p, size_t n);

/* Ends the input: reports an entry left open as truncated. Returns the
 * number of top-level JSON values seen (0 means the input held no JSON). */
uint64_t wd_framer_finish(struct wd_framer *f);

/* Starts over for a new input (line 1, offset 0). */
void wd_framer_reset(struct wd_framer *f);

/* Where a framer stands between feeds, for splitting one input across
 * threads: a framer resumed at a position a previous framer reported goes
 * on exactly as that framer would. Only two places are resumable: between
 * top-level values of a stream of objects, and inside a top-level array
 * just after a comma. */
enum wd_framer_at {
	WD_AT_ELSEWHERE = 0,	/* anywhere else: not resumable */
	WD_AT_STREAM,		/* between top-level values */
	WD_AT_ARRAY,		/* in a top-level array, after a comma */
};

struct wd_framer_pos {
	enum wd_framer_at at;
	uint64_t line;		/* of the next byte */
	uint64_t offset;	/* of the next byte */
	int prev_nl;		/* the byte before was a newline */
};

void wd_framer_pos(const struct wd_framer *f, struct wd_framer_pos *pos);

/* Puts f at pos (at must not be WD_AT_ELSEWHERE) as if the input before
 * it had been fed. */
void wd_framer_resume(struct wd_framer *f, const struct wd_framer_pos *pos);

/* Changes the ctx passed to the callbacks. */
void wd_framer_set_ctx(struct wd_framer *f, void *ctx);

#endif
