/* reader.c - file, memory and gzip readers (see whydenied/input.h). */
#include "whydenied/input.h"
#include "whydenied/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef WD_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

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

/* ---- gzip over another reader ----
 *
 * With ISA-L (libisal, when the build found it) or zlib. ISA-L's igzip
 * inflates the benchmark's 1 GB gzip at about 1.8 GB/s here, zlib at
 * 0.7 GB/s, both streaming 256 KiB at a time (docs/performance.md); the
 * reading thread inflates, so that was the limit of gzip inputs. Both
 * take concatenated members, and both refuse what follows a member when
 * it is not another one. */

#define GZ_IN 65536

struct gz_src {
	struct wd_reader *under;
#ifdef WD_HAVE_ISAL
	struct inflate_state st;
#else
	z_stream zs;
#endif
	unsigned char in[GZ_IN];
	bool eof_in;
	bool done;		/* a member ended and no input follows */
	bool member_end;
	uint64_t out_total;
	const char *path;
};

#ifdef WD_HAVE_ISAL
#define GZ_NEXT_IN(g) ((g)->st.next_in)
#define GZ_AVAIL_IN(g) ((g)->st.avail_in)
#define GZ_NEXT_OUT(g) ((g)->st.next_out)
#define GZ_AVAIL_OUT(g) ((g)->st.avail_out)

static bool gz_start(struct gz_src *g)
{
	isal_inflate_init(&g->st);
	g->st.crc_flag = ISAL_GZIP;	/* header, CRC32 and length checked */
	return true;
}

/* The next member: a fresh state over the input and output left. */
static void gz_next_member(struct gz_src *g)
{
	uint8_t *in = g->st.next_in, *out = g->st.next_out;
	uint32_t ain = g->st.avail_in, aout = g->st.avail_out;

	isal_inflate_reset(&g->st);
	g->st.crc_flag = ISAL_GZIP;
	g->st.next_in = in;
	g->st.avail_in = ain;
	g->st.next_out = out;
	g->st.avail_out = aout;
}

/* One step: 1 at a member's end, 0 on, <0 (and *why) when corrupt. */
static int gz_step(struct gz_src *g, const char **why)
{
	int r = isal_inflate(&g->st);

	switch (r) {
	case ISAL_DECOMP_OK:
	case ISAL_END_INPUT:
	case ISAL_OUT_OVERFLOW:
		return g->st.block_state == ISAL_BLOCK_FINISH;
	case ISAL_INVALID_BLOCK: *why = "invalid deflate block"; break;
	case ISAL_INVALID_SYMBOL: *why = "invalid deflate symbol"; break;
	case ISAL_INVALID_LOOKBACK: *why = "invalid distance"; break;
	case ISAL_INVALID_WRAPPER: *why = "not a gzip member header"; break;
	case ISAL_UNSUPPORTED_METHOD: *why = "unsupported method"; break;
	case ISAL_INCORRECT_CHECKSUM: *why = "incorrect CRC or length"; break;
	default: *why = "inflate"; break;
	}
	return -1;
}

static void gz_end(struct gz_src *g)
{
	(void)g;	/* ISA-L's state holds no memory of its own */
}
#else
#define GZ_NEXT_IN(g) ((g)->zs.next_in)
#define GZ_AVAIL_IN(g) ((g)->zs.avail_in)
#define GZ_NEXT_OUT(g) ((g)->zs.next_out)
#define GZ_AVAIL_OUT(g) ((g)->zs.avail_out)

static bool gz_start(struct gz_src *g)
{
	return inflateInit2(&g->zs, 15 + 32) == Z_OK;
}

static void gz_next_member(struct gz_src *g)
{
	inflateReset(&g->zs);
}

static int gz_step(struct gz_src *g, const char **why)
{
	int zr = inflate(&g->zs, Z_NO_FLUSH);

	if (zr == Z_STREAM_END)
		return 1;
	if (zr == Z_OK || zr == Z_BUF_ERROR)
		return 0;
	*why = g->zs.msg ? g->zs.msg : "inflate";
	return -1;
}

static void gz_end(struct gz_src *g)
{
	inflateEnd(&g->zs);
}
#endif

static ssize_t gz_read(void *self, char *buf, size_t cap, struct wd_err *err)
{
	struct gz_src *g = self;
	const char *why = NULL;
	int r;

	if (g->done)
		return 0;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	GZ_NEXT_OUT(g) = (unsigned char *)buf;
	GZ_AVAIL_OUT(g) = (uint32_t)cap;
	while (GZ_AVAIL_OUT(g) == cap) {
		if (GZ_AVAIL_IN(g) == 0 && !g->eof_in) {
			ssize_t n = wd_reader_read(g->under, (char *)g->in,
						   GZ_IN, err);

			if (n < 0)
				return n;
			if (n == 0)
				g->eof_in = true;
			GZ_NEXT_IN(g) = g->in;
			GZ_AVAIL_IN(g) = (uint32_t)n;
		}
		if (g->member_end) {
			/* Concatenated members (gzip allows them). */
			if (GZ_AVAIL_IN(g) == 0 && g->eof_in) {
				g->done = true;
				break;
			}
			if (GZ_AVAIL_IN(g) == 0)
				continue;
			gz_next_member(g);
			g->member_end = false;
		}
		if (GZ_AVAIL_IN(g) == 0 && g->eof_in)
			return wd_err_set(err, WD_EFORMAT,
					  "'%s': truncated gzip stream",
					  g->path);
		if ((r = gz_step(g, &why)) < 0)
			return wd_err_set(err, WD_EFORMAT,
					  "'%s': corrupt gzip stream (%s)",
					  g->path, why);
		if (r == 1)
			g->member_end = true;
	}
	g->out_total += cap - GZ_AVAIL_OUT(g);
	if (g->out_total > WD_GZIP_MAX_OUTPUT)
		return wd_err_set(err, WD_ELIMIT,
				  "'%s': decompresses to more than 64 GiB",
				  g->path);
	return (ssize_t)(cap - GZ_AVAIL_OUT(g));
}

static void gz_close(void *self)
{
	struct gz_src *g = self;

	gz_end(g);
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
	if (!gz_start(g)) {
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
