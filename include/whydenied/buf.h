/* whydenied/buf.h - growable byte buffer with a hard cap, and small helpers.
 *
 * Every buffer is given the largest size it may reach (its cap); growth past
 * the cap fails with WD_ELIMIT and leaves the contents unchanged. The
 * contents are always NUL-terminated.
 */
#ifndef WHYDENIED_BUF_H
#define WHYDENIED_BUF_H

#include <stddef.h>
#include <stdbool.h>
#include <string.h>

struct wd_buf {
	char *ptr;
	size_t len;
	size_t alloc;
	size_t cap;
};

/* A view of bytes owned elsewhere. */
struct wd_str {
	const char *ptr;
	size_t len;
};

void wd_buf_init(struct wd_buf *b, size_t cap);
void wd_buf_release(struct wd_buf *b);
void wd_buf_clear(struct wd_buf *b);
/* Returns 0, or WD_ELIMIT when the cap would be passed. */
int wd_buf_add(struct wd_buf *b, const void *p, size_t n);
int wd_buf_addc(struct wd_buf *b, char c);
int wd_buf_adds(struct wd_buf *b, const char *s);
int wd_buf_printf(struct wd_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Hands the contents to the caller (who frees them) and clears b. */
char *wd_buf_detach(struct wd_buf *b, size_t *len);

/* Allocation that cannot fail: on out-of-memory prints and aborts. */
void *wd_xmalloc(size_t n);
void *wd_xcalloc(size_t n, size_t size);
void *wd_xrealloc(void *p, size_t n);
char *wd_xstrdup(const char *s);
char *wd_xstrndup(const char *s, size_t n);

/* p[0, n) == lit. Inline: with a literal the length is known when
 * compiling, and this runs for every entry (log kinds, granted flags).
 * p may be NULL when n is 0. */
static inline bool wd_mem_eq(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && (l == 0 || memcmp(p, lit, l) == 0);
}

static inline bool wd_str_eq(struct wd_str s, const char *lit)
{
	return wd_mem_eq(s.ptr, s.len, lit);
}

bool wd_str_has_prefix(struct wd_str s, const char *lit);

#endif
