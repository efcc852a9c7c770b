/* whydenied/input.h - byte sources: files, stdin, gzip, chained by ops.
 *
 * A reader yields the bytes of one input. wd_reader_open() looks at the
 * first bytes and, for gzip (1f 8b), chains a gzip reader over the file
 * reader, so every later stage sees plain bytes.
 */
#ifndef WHYDENIED_INPUT_H
#define WHYDENIED_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "whydenied/err.h"

struct wd_reader_ops {
	const char *name;
	/* Reads up to cap bytes; returns the count, 0 at the end, <0 on
	 * error (err filled). */
	ssize_t (*read)(void *self, char *buf, size_t cap, struct wd_err *err);
	void (*close)(void *self);
};

struct wd_reader {
	const struct wd_reader_ops *ops;
	void *self;
	bool gzip;
	/* Bytes peeked at open, returned before the next read. */
	char peek[4];
	size_t npeek, peek_pos;
};

/* Opens path ("-" is stdin), detecting gzip by its magic bytes. On error
 * returns <0 with err naming the path. */
int wd_reader_open(struct wd_reader **out, const char *path,
		   struct wd_err *err);

/* Wraps an in-memory buffer (not copied; must outlive the reader),
 * detecting gzip like wd_reader_open; name (which must outlive the reader
 * too) is used in error messages. */
int wd_reader_open_mem(struct wd_reader **out, const char *name,
		       const char *p, size_t n, struct wd_err *err);

ssize_t wd_reader_read(struct wd_reader *r, char *buf, size_t cap,
		       struct wd_err *err);
void wd_reader_close(struct wd_reader *r);	/* NULL is a no-op */

/* Largest decompressed size accepted from one gzip input (a bomb guard). */
#define WD_GZIP_MAX_OUTPUT (64ull << 30)

#endif
