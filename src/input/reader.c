/* reader.c - file, memory and gzip readers (see whydenied/input.h). */
#include "whydenied/input.h"
#include "whydenied/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- file descriptors ---- */

struct fd_src {
	int fd;
	bool owned;
	const char *path;
};

static ssize_t fd_read(void *self, char *buf, size_t cap, struct wd_err *err)
{
	struct fd_src *s = self;
	ssize_t n;

	do {
		n = read(s->fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return wd_err_os(err, WD_EIO, "cannot read '%s'", s->path);
	return n;
}

static void fd_close(void *self)
{
	struct fd_src *s = self;

	if (s->owned)
		close(s->fd);
	free(s);
}

static const struct wd_reader_ops fd_ops = { "file", fd_read, fd_close };

/* ---- memory ---- */

struct mem_src {
	const char *p;
	size_t n, pos;
};

static ssize_t mem_read(void *self, char *buf, size_t cap, struct wd_err *err)
{
	struct mem_src *s = self;
	size_t k = s->n - s->pos;

	(void)err;
	if (k > cap)
		k = cap;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

static void mem_close(void *self)
{
	free(self);
}

static const struct wd_reader_ops mem_ops = { "memory", mem_read, mem_close };

/* ---- gzip over another reader ---- */

#define GZ_IN 65536

struct gz_src {
	struct wd_reader *under;
	z_stream zs;
	unsigned char in[GZ_IN];
	bool eof_in;
	bool done;		/* a member ended and no input follows */
	bool member_end;
	uint64_t out_total;
	const char *path;
};

static ssize_t gz_read(void *self, char *buf, size_t cap, struct wd_err *err)
{
	struct gz_src *g = self;
	int zr;

	if (g->done)
		return 0;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	g->zs.next_out = (unsigned char *)buf;
	g->zs.avail_out = (uInt)cap;
	while (g->zs.avail_out == cap) {
		if (g->zs.avail_in == 0 && !g->eof_in) {
			ssize_t n = wd_reader_read(g->under, (char *)g->in,
						   GZ_IN, err);

			if (n < 0)
				return n;
			if (n == 0)
				g->eof_in = true;
			g->zs.next_in = g->in;
			g->zs.avail_in = (uInt)n;
		}
		if (g->member_end) {
			/* Concatenated members (gzip allows them). */
			if (g->zs.avail_in == 0 && g->eof_in) {
				g->done = true;
				break;
			}
			if (g->zs.avail_in == 0)
				continue;
			inflateReset(&g->zs);
			g->member_end = false;
		}
		if (g->zs.avail_in == 0 && g->eof_in)
			return wd_err_set(err, WD_EFORMAT,
					  "'%s': truncated gzip stream",
					  g->path);
		zr = inflate(&g->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			g->member_end = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return wd_err_set(err, WD_EFORMAT,
					  "'%s': corrupt gzip stream (%s)",
					  g->path,
					  g->zs.msg ? g->zs.msg : "inflate");
		}
	}
	g->out_total += cap - g->zs.avail_out;
	if (g->out_total > WD_GZIP_MAX_OUTPUT)
		return wd_err_set(err, WD_ELIMIT,
				  "'%s': decompresses to more than 64 GiB",
				  g->path);
	return (ssize_t)(cap - g->zs.avail_out);
}

static void gz_close(void *self)
{
	struct gz_src *g = self;

	inflateEnd(&g->zs);
	wd_reader_close(g->under);
	free(g);
}

static const struct wd_reader_ops gz_ops = { "gzip", gz_read, gz_close };

/* ---- public ---- */

static struct wd_reader *reader_new(const struct wd_reader_ops *ops,
				    void *self)
{
	struct wd_reader *r = wd_xcalloc(1, sizeof(*r));

	r->ops = ops;
	r->self = self;
	return r;
}

ssize_t wd_reader_read(struct wd_reader *r, char *buf, size_t cap,
		       struct wd_err *err)
{
	if (r->peek_pos < r->npeek) {
		size_t k = r->npeek - r->peek_pos;
		ssize_t more;

		if (k > cap)
			k = cap;
		memcpy(buf, r->peek + r->peek_pos, k);
		r->peek_pos += k;
		if (k == cap)
			return (ssize_t)k;
		/* Fill the rest too, so a caller sniffing the first bytes
		 * sees more than the peeked magic. */
		more = r->ops->read(r->self, buf + k, cap - k, err);
		if (more < 0)
			return more;
		return (ssize_t)k + more;
	}
	return r->ops->read(r->self, buf, cap, err);
}

void wd_reader_close(struct wd_reader *r)
{
	if (r == NULL)
		return;
	r->ops->close(r->self);
	free(r);
}

/* Reads the first two bytes; wraps r in gzip when they are the magic. */
static int detect(struct wd_reader **rp, const char *path, struct wd_err *err)
{
	struct wd_reader *r = *rp, *gz;
	struct gz_src *g;
	ssize_t n;

	while (r->npeek < 2) {
		n = r->ops->read(r->self, r->peek + r->npeek, 2 - r->npeek,
				 err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		r->npeek += (size_t)n;
	}
	if (r->npeek < 2 || (unsigned char)r->peek[0] != 0x1f ||
	    (unsigned char)r->peek[1] != 0x8b)
		return 0;
	g = wd_xcalloc(1, sizeof(*g));
	g->under = r;
	g->path = path;
	if (inflateInit2(&g->zs, 15 + 32) != Z_OK) {
		free(g);
		return wd_err_set(err, WD_ENOMEM, "cannot start gzip for '%s'",
				  path);
	}
	gz = reader_new(&gz_ops, g);
	gz->gzip = true;
	*rp = gz;
	return 0;
}

int wd_reader_open(struct wd_reader **out, const char *path,
		   struct wd_err *err)
{
	struct fd_src *s;
	struct wd_reader *r;
	int fd, ret;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return wd_err_os(err, WD_EIO, "cannot open '%s'", path);
	}
	s = wd_xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->owned = fd != STDIN_FILENO;
	s->path = strcmp(path, "-") == 0 ? "(stdin)" : path;
	r = reader_new(&fd_ops, s);
	ret = detect(&r, s->path, err);
	if (ret < 0) {
		wd_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int wd_reader_open_mem(struct wd_reader **out, const char *name,
		       const char *p, size_t n, struct wd_err *err)
{
	struct mem_src *s = wd_xcalloc(1, sizeof(*s));
	struct wd_reader *r;
	int ret;

	s->p = p;
	s->n = n;
	r = reader_new(&mem_ops, s);
	ret = detect(&r, name, err);
	if (ret < 0) {
		wd_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}
