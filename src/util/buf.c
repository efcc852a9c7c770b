/* buf.c - capped byte buffers and allocation helpers (see whydenied/buf.h). */
#include "whydenied/buf.h"
#include "whydenied/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "whydenied: out of memory allocating %zu bytes\n", n);
	abort();
}

void *wd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *wd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *wd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *wd_xstrndup(const char *s, size_t n)
{
	char *p = wd_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *wd_xstrdup(const char *s)
{
	return wd_xstrndup(s, strlen(s));
}

void wd_buf_init(struct wd_buf *b, size_t cap)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void wd_buf_release(struct wd_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
}

void wd_buf_clear(struct wd_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static int grow(struct wd_buf *b, size_t extra)
{
	size_t need, n;

	if (extra > b->cap || b->len > b->cap - extra)
		return WD_ELIMIT;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	if (n > b->cap + 1)
		n = b->cap + 1;
	b->ptr = wd_xrealloc(b->ptr, n);
	b->alloc = n;
	return 0;
}

int wd_buf_add(struct wd_buf *b, const void *p, size_t n)
{
	if (grow(b, n) < 0)
		return WD_ELIMIT;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int wd_buf_addc(struct wd_buf *b, char c)
{
	return wd_buf_add(b, &c, 1);
}

int wd_buf_adds(struct wd_buf *b, const char *s)
{
	return wd_buf_add(b, s, strlen(s));
}

int wd_buf_printf(struct wd_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return WD_EFORMAT;
	if ((size_t)n < sizeof(small))
		return wd_buf_add(b, small, (size_t)n);
	if (grow(b, (size_t)n) < 0)
		return WD_ELIMIT;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *wd_buf_detach(struct wd_buf *b, size_t *len)
{
	char *p = b->ptr;

	if (p == NULL)
		p = wd_xstrdup("");
	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

bool wd_str_has_prefix(struct wd_str s, const char *lit)
{
	size_t l = strlen(lit);

	return s.len >= l && memcmp(s.ptr, lit, l) == 0;
}
