/* test_framer.c - the streaming input layer: reader -> framer -> decoder,
 * driven through the framer directly and through the scanner (issue 2,
 * "Inputs", "Bad input" and "Tests and samples").
 *
 * Groups:
 *   containers  every tests/decode/containers file yields its insertIds
 *   chunking    every fixture, container and bad-input case re-fed to the
 *               framer in chunk sizes 1..64 gives the same entries (bytes,
 *               line, offset), skips and page tokens as one whole feed
 *   gzip        gzip members, concatenated members, truncated and corrupt
 *               streams (entries before the cut are still delivered)
 *   walk        directory walking on a temporary Cloud Storage sink tree
 *   bad_input   the bad-input matrix: each case mixes good entries with
 *               one kind of bad input and asserts the delivered insertIds,
 *               the skip counts by reason and the "NAME:LINE: " warning
 *   limits      size (512 KiB, 1 MiB, 1 MiB + 1) and depth (64, 65,
 *               200,000) limits, bounded memory, random binary
 *
 * Scanner tests run in three modes (prefilter on, WHYDENIED_PREFILTER=0,
 * 3 worker threads with 2-entry batches); every mode must agree.
 *
 * Tests marked "Regression (fixed)" document a defect found while writing them; they
 * fail until the defect is fixed (see the comment at each).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "whydenied/decoder.h"
#include "whydenied/entry.h"
#include "whydenied/framer.h"
#include "whydenied/input.h"
#include "whydenied/scan.h"

#define DECODE_DIR WD_TEST_DATA "/decode"
#define CONT_DIR WD_TEST_DATA "/decode/containers"

/* A small failure entry; id is a string literal. */
#define G(id) "{\"insertId\":\"" id "\",\"logName\":\"projects/p/logs/" \
	"cloudaudit.googleapis.com%2Factivity\",\"protoPayload\":{\"status\":" \
	"{\"code\":7,\"message\":\"denied\"}}}"

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0, k;

	if (fp == NULL)
		fail_msg("cannot read '%s': %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 65536;
			p = xrealloc(p, cap + 1);
		}
		k = fread(p + n, 1, cap - n, fp);
		n += k;
		if (k == 0)
			break;
	}
	fclose(fp);
	p[n] = '\0';
	*len = n;
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(p, 1, n, fp) != n || fclose(fp) != 0)
		fail_msg("cannot write '%s': %s", path, strerror(errno));
}

/* Plain bytes of a (possibly gzip) buffer, through wd_reader_open_mem. */
static char *plain_bytes(const char *p, size_t n, size_t *out_n)
{
	struct wd_reader *r;
	struct wd_err err;
	char *out = NULL;
	size_t len = 0, cap = 0;
	ssize_t k;

	wd_err_clear(&err);
	if (wd_reader_open_mem(&r, "(test)", p, n, &err) < 0)
		fail_msg("wd_reader_open_mem: %s", err.msg);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 262144;
			out = xrealloc(out, cap);
		}
		k = wd_reader_read(r, out + len, cap - len, &err);
		if (k < 0)
			fail_msg("wd_reader_read: %s", err.msg);
		if (k == 0)
			break;
		len += (size_t)k;
	}
	wd_reader_close(r);
	*out_n = len;
	return out;
}

/* gzip of [p, p + n) as one member, with header fields h when not NULL. */
static char *gzip_mem_with(const char *p, size_t n, gz_header *h,
			   size_t *out_n)
{
	z_stream zs;
	size_t cap = compressBound((uLong)n) + 256;
	char *out = xmalloc(cap);

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	if (h)
		assert_int_equal(deflateSetHeader(&zs, h), Z_OK);
	zs.next_in = (unsigned char *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_n = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

static char *gzip_mem(const char *p, size_t n, size_t *out_n)
{
	return gzip_mem_with(p, n, NULL, out_n);
}

/* Deterministic pseudo-random bytes. */
static void fill_random(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

static long max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ------------------------------------------------------------------ */
/* Framer capture                                                       */
/* ------------------------------------------------------------------ */

struct fr_ent {
	char *p;
	size_t n;
	uint64_t line, offset;
};

struct fr_skip {
	enum wd_skip reason;
	uint64_t line, offset;
};

struct fr_log {
	struct fr_ent *e;
	size_t ne;
	struct fr_skip *s;
	size_t ns;
	char *meta;		/* "key=val;key=val;" */
	size_t meta_len;
	uint64_t values;
};

static int fr_on_entry(void *ctx, const char *p, size_t n, uint64_t line,
		       uint64_t offset)
{
	struct fr_log *l = ctx;

	l->e = xrealloc(l->e, (l->ne + 1) * sizeof(*l->e));
	l->e[l->ne].p = xstrndup(p, n);
	l->e[l->ne].n = n;
	l->e[l->ne].line = line;
	l->e[l->ne].offset = offset;
	l->ne++;
	return 0;
}

static void fr_on_skip(void *ctx, enum wd_skip reason, uint64_t line,
		       uint64_t offset, const char *detail)
{
	struct fr_log *l = ctx;

	(void)detail;
	l->s = xrealloc(l->s, (l->ns + 1) * sizeof(*l->s));
	l->s[l->ns].reason = reason;
	l->s[l->ns].line = line;
	l->s[l->ns].offset = offset;
	l->ns++;
}

static void fr_on_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct fr_log *l = ctx;
	size_t kl = strlen(key);

	l->meta = xrealloc(l->meta, l->meta_len + kl + n + 3);
	memcpy(l->meta + l->meta_len, key, kl);
	l->meta[l->meta_len + kl] = '=';
	memcpy(l->meta + l->meta_len + kl + 1, val, n);
	l->meta[l->meta_len + kl + 1 + n] = ';';
	l->meta_len += kl + n + 2;
	l->meta[l->meta_len] = '\0';
}

static const struct wd_framer_ops fr_ops = {
	.on_entry = fr_on_entry,
	.on_skip = fr_on_skip,
	.on_meta = fr_on_meta,
};

static void fr_log_free(struct fr_log *l)
{
	size_t i;

	for (i = 0; i < l->ne; i++)
		free(l->e[i].p);
	free(l->e);
	free(l->s);
	free(l->meta);
	memset(l, 0, sizeof(*l));
}

/* Frames [p, p + n) in chunks of chunk bytes (0: one feed). */
static void frame(struct fr_log *l, struct wd_framer *f, const char *p,
		  size_t n, size_t chunk)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	wd_framer_reset(f);
	if (chunk == 0)
		chunk = n ? n : 1;
	for (i = 0; i < n; i += chunk)
		assert_int_equal(wd_framer_feed(f, p + i, n - i < chunk ?
						n - i : chunk), 0);
	l->values = wd_framer_finish(f);
}

/* Returns true when both logs agree; prints the first difference. */
static bool fr_log_same(const char *name, size_t chunk,
			const struct fr_log *a, const struct fr_log *b)
{
	size_t i;

	if (a->ne != b->ne) {
		print_error("%s: chunk %zu: %zu entries, whole feed gave %zu\n",
			    name, chunk, b->ne, a->ne);
		return false;
	}
	for (i = 0; i < a->ne; i++) {
		if (a->e[i].n != b->e[i].n ||
		    memcmp(a->e[i].p, b->e[i].p, a->e[i].n) != 0 ||
		    a->e[i].line != b->e[i].line ||
		    a->e[i].offset != b->e[i].offset) {
			print_error("%s: chunk %zu: entry %zu differs: "
				    "%zu bytes line %llu offset %llu, whole "
				    "feed: %zu bytes line %llu offset %llu\n",
				    name,
				    chunk, i, b->e[i].n,
				    (unsigned long long)b->e[i].line,
				    (unsigned long long)b->e[i].offset,
				    a->e[i].n,
				    (unsigned long long)a->e[i].line,
				    (unsigned long long)a->e[i].offset);
			return false;
		}
	}
	if (a->ns != b->ns) {
		print_error("%s: chunk %zu: %zu skips, whole feed gave %zu\n",
			    name, chunk, b->ns, a->ns);
		for (i = 0; i < b->ns; i++)
			print_error("    skip %s line %llu\n",
				    wd_skip_name(b->s[i].reason),
				    (unsigned long long)b->s[i].line);
		return false;
	}
	for (i = 0; i < a->ns; i++) {
		if (a->s[i].reason != b->s[i].reason ||
		    a->s[i].line != b->s[i].line ||
		    a->s[i].offset != b->s[i].offset) {
			print_error("%s: chunk %zu: skip %zu is %s at line "
				    "%llu offset %llu, whole feed: %s at line "
				    "%llu offset %llu\n", name, chunk, i,
				    wd_skip_name(b->s[i].reason),
				    (unsigned long long)b->s[i].line,
				    (unsigned long long)b->s[i].offset,
				    wd_skip_name(a->s[i].reason),
				    (unsigned long long)a->s[i].line,
				    (unsigned long long)a->s[i].offset);
			return false;
		}
	}
	if ((a->meta == NULL) != (b->meta == NULL) ||
	    (a->meta && strcmp(a->meta, b->meta) != 0)) {
		print_error("%s: chunk %zu: page metadata '%s', whole feed "
			    "'%s'\n", name, chunk, b->meta ? b->meta : "",
			    a->meta ? a->meta : "");
		return false;
	}
	if (a->values != b->values) {
		print_error("%s: chunk %zu: %llu top-level values, whole feed "
			    "%llu\n", name, chunk,
			    (unsigned long long)b->values,
			    (unsigned long long)a->values);
		return false;
	}
	return true;
}

/* Resumable cuts checked by resume_check, over the whole run. */
static unsigned long resumed_cuts;

/* The invariant the worker threads rely on (wd_framer_pos/resume): at
 * every cut k where a framer fed [0, k) says it stands at a resumable
 * place, a second framer resumed there and fed [k, n) must report what
 * the first would have, entries, skips, lines and offsets alike. Returns
 * the number of cuts where they differ. */
static int resume_check(const char *name, const char *p, size_t n,
			const struct fr_log *whole)
{
	struct fr_log both;
	struct wd_framer *a = wd_framer_new(&fr_ops, &both);
	struct wd_framer *b = wd_framer_new(&fr_ops, &both);
	struct wd_framer_pos pos;
	size_t k;
	int bad = 0;

	for (k = 0; k <= n; k++) {
		memset(&both, 0, sizeof(both));
		wd_framer_reset(a);
		if (k > 0)
			assert_int_equal(wd_framer_feed(a, p, k), 0);
		wd_framer_pos(a, &pos);
		if (pos.at == WD_AT_ELSEWHERE) {
			fr_log_free(&both);
			continue;
		}
		assert_int_equal(pos.offset, k);
		resumed_cuts++;
		wd_framer_resume(b, &pos);
		assert_int_equal(wd_framer_feed(b, p + k, n - k), 0);
		wd_framer_finish(b);
		both.values = whole->values;	/* counted per framer */
		if (!fr_log_same(name, k, whole, &both)) {
			print_error("%s: resumed at %zu (%s) differs\n", name,
				    k, pos.at == WD_AT_STREAM ? "stream" :
				    "array");
			bad++;
		}
		fr_log_free(&both);
	}
	wd_framer_free(a);
	wd_framer_free(b);
	return bad;
}

/* Re-feeds [p, p + n) in chunk sizes 1..64; returns the number of chunk
 * sizes that differed from the whole feed. */
static int chunk_check(const char *name, const char *p, size_t n)
{
	struct fr_log whole, part;
	struct wd_framer *f = wd_framer_new(&fr_ops, &whole);
	size_t chunk;
	int bad = 0;

	frame(&whole, f, p, n, 0);
	wd_framer_free(f);
	bad += resume_check(name, p, n, &whole);
	for (chunk = 1; chunk <= 64; chunk++) {
		f = wd_framer_new(&fr_ops, &part);
		frame(&part, f, p, n, chunk);
		wd_framer_free(f);
		if (!fr_log_same(name, chunk, &whole, &part))
			bad++;
		fr_log_free(&part);
	}
	fr_log_free(&whole);
	return bad;
}

/* ------------------------------------------------------------------ */
/* Scanner capture                                                      */
/* ------------------------------------------------------------------ */

struct sc_log {
	struct wd_scanner *s;
	char **ids;		/* insert_id of every entry ("" if none) */
	char **srcs;		/* source of every entry */
	bool *fail;
	size_t n;
	char **warn;
	size_t nwarn;
	char meta[1024];
	size_t meta_len;
	int stop_after;		/* on_entry returns -1 after this many */
	unsigned slow_us;	/* sink_entry sleeps this long */
	int ret;
};

static char *str_dup(struct wd_str s)
{
	return s.ptr ? xstrndup(s.ptr, s.len) : xstrndup("", 0);
}

static int sc_on_entry(void *ctx, struct wd_entry *e)
{
	struct sc_log *l = ctx;

	l->ids = xrealloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	l->srcs = xrealloc(l->srcs, (l->n + 1) * sizeof(*l->srcs));
	l->fail = xrealloc(l->fail, (l->n + 1) * sizeof(*l->fail));
	l->ids[l->n] = str_dup(wd_entry_get(e, WD_F_INSERT_ID));
	l->srcs[l->n] = str_dup(wd_entry_get(e, WD_F_SOURCE));
	l->fail[l->n] = e->failure;
	l->n++;
	if (l->stop_after > 0 && l->n >= (size_t)l->stop_after)
		return -1;
	return 0;
}

static void sc_on_warning(void *ctx, const char *msg)
{
	struct sc_log *l = ctx;

	l->warn = xrealloc(l->warn, (l->nwarn + 1) * sizeof(*l->warn));
	l->warn[l->nwarn++] = xstrndup(msg, strlen(msg));
}

static void sc_on_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct sc_log *l = ctx;
	int k;

	k = snprintf(l->meta + l->meta_len, sizeof(l->meta) - l->meta_len,
		     "%s=%.*s;", key, (int)n, val);
	if (k > 0 && (size_t)k < sizeof(l->meta) - l->meta_len)
		l->meta_len += (size_t)k;
}

/* Parallel mode: each batch's entries go to a sink of its own, merged
 * into the log in input order by the reading thread. */
struct sc_sink {
	char **ids, **srcs;
	bool *fail;
	size_t n;
};

static void *sc_worker_new(void *ctx)
{
	return ctx;
}

static void sc_worker_free(void *ctx, void *worker)
{
	(void)ctx;
	(void)worker;
}

static void *sc_sink_new(void *ctx)
{
	struct sc_sink *k = calloc(1, sizeof(*k));

	(void)ctx;
	if (k == NULL)
		abort();
	return k;
}

static int sc_sink_entry(void *ctx, void *worker, void *sink,
			 struct wd_entry *e)
{
	struct sc_sink *k = sink;
	struct sc_log *l = ctx;

	(void)worker;
	if (l->slow_us)
		usleep(l->slow_us);	/* keeps batches in flight */
	k->ids = xrealloc(k->ids, (k->n + 1) * sizeof(*k->ids));
	k->srcs = xrealloc(k->srcs, (k->n + 1) * sizeof(*k->srcs));
	k->fail = xrealloc(k->fail, (k->n + 1) * sizeof(*k->fail));
	k->ids[k->n] = str_dup(wd_entry_get(e, WD_F_INSERT_ID));
	k->srcs[k->n] = str_dup(wd_entry_get(e, WD_F_SOURCE));
	k->fail[k->n] = e->failure;
	k->n++;
	return 0;
}

static void sc_sink_merge(void *ctx, void *sink)
{
	struct sc_log *l = ctx;
	struct sc_sink *k = sink;
	size_t i;

	for (i = 0; i < k->n; i++) {
		l->ids = xrealloc(l->ids, (l->n + 1) * sizeof(*l->ids));
		l->srcs = xrealloc(l->srcs, (l->n + 1) * sizeof(*l->srcs));
		l->fail = xrealloc(l->fail, (l->n + 1) * sizeof(*l->fail));
		l->ids[l->n] = k->ids[i];
		l->srcs[l->n] = k->srcs[i];
		l->fail[l->n] = k->fail[i];
		l->n++;
	}
	free(k->ids);
	free(k->srcs);
	free(k->fail);
	free(k);
}

static void sc_sink_drop(void *ctx, void *sink)
{
	struct sc_sink *k = sink;
	size_t i;

	(void)ctx;
	for (i = 0; i < k->n; i++) {
		free(k->ids[i]);
		free(k->srcs[i]);
	}
	free(k->ids);
	free(k->srcs);
	free(k->fail);
	free(k);
}

static const struct wd_scan_ops sc_ops = {
	.on_entry = sc_on_entry,
	.on_warning = sc_on_warning,
	.on_meta = sc_on_meta,
	.worker_new = sc_worker_new,
	.worker_free = sc_worker_free,
	.sink_new = sc_sink_new,
	.sink_entry = sc_sink_entry,
	.sink_merge = sc_sink_merge,
	.sink_drop = sc_sink_drop,
};

/* Scanner modes: the success prefilter (wd_lite_decode) is on unless
 * WHYDENIED_PREFILTER=0; "jobs=3" decodes in 3 worker threads with
 * 2-entry batches (WHYDENIED_BATCH_ITEMS=2, set in main) merged in input
 * order. Every mode must give the same result. */
#define NMODES 3
static const char *const modes[NMODES] = {
	"prefilter", "WHYDENIED_PREFILTER=0", "jobs=3"
};

static void set_mode(int m)
{
	if (m == 1)
		setenv("WHYDENIED_PREFILTER", "0", 1);
	else
		unsetenv("WHYDENIED_PREFILTER");
}

static void sc_init_mode(struct sc_log *l, int mode)
{
	memset(l, 0, sizeof(*l));
	set_mode(mode);
	l->s = wd_scanner_new(&sc_ops, l);
	set_mode(0);
	if (mode == 2)
		wd_scanner_set_jobs(l->s, 3);
}

static void sc_init(struct sc_log *l)
{
	sc_init_mode(l, 0);
}

static void sc_free(struct sc_log *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->ids[i]);
		free(l->srcs[i]);
	}
	for (i = 0; i < l->nwarn; i++)
		free(l->warn[i]);
	free(l->ids);
	free(l->srcs);
	free(l->fail);
	free(l->warn);
	wd_scanner_free(l->s);
	memset(l, 0, sizeof(*l));
}

static int sc_mem(struct sc_log *l, const char *name, const char *p, size_t n)
{
	struct wd_err err;

	wd_err_clear(&err);
	l->ret = wd_scan_mem(l->s, name, p, n, &err);
	return l->ret;
}

static int sc_path(struct sc_log *l, const char *path)
{
	struct wd_err err;

	wd_err_clear(&err);
	l->ret = wd_scan_path(l->s, path, &err);
	return l->ret;
}

static void sc_dump(const char *name, const struct sc_log *l)
{
	const struct wd_scan_stats *st = wd_scanner_stats(l->s);
	size_t i;
	int r;

	print_error("  [%s] %zu entries:", name, l->n);
	for (i = 0; i < l->n; i++)
		print_error(" '%s'", l->ids[i]);
	print_error("\n  [%s] skipped %llu:", name,
		    (unsigned long long)st->skipped);
	for (r = 0; r < WD_SKIP__COUNT; r++)
		if (st->skipped_by[r])
			print_error(" %s=%llu", wd_skip_name((enum wd_skip)r),
				    (unsigned long long)st->skipped_by[r]);
	print_error("\n  [%s] inputs ok=%llu error=%llu skipped=%llu\n", name,
		    (unsigned long long)st->inputs_ok,
		    (unsigned long long)st->inputs_error,
		    (unsigned long long)st->inputs_skipped);
	for (i = 0; i < l->nwarn; i++)
		print_error("  [%s] warning: %s\n", name, l->warn[i]);
	if (l->meta_len)
		print_error("  [%s] meta: %s\n", name, l->meta);
}

/* Space-separated expected insertIds ("" for none). */
static bool ids_are(const char *name, const struct sc_log *l,
		    const char *want)
{
	char buf[4096], *tok, *save = NULL;
	size_t i = 0;
	bool ok = true;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save), i++) {
		if (i >= l->n) {
			print_error("%s: entry %zu ('%s') not delivered\n",
				    name, i, tok);
			ok = false;
			break;
		}
		if (strcmp(l->ids[i], tok) != 0) {
			print_error("%s: entry %zu is '%s', expected '%s'\n",
				    name, i, l->ids[i], tok);
			ok = false;
		}
	}
	if (ok && i != l->n) {
		print_error("%s: %zu entries delivered, expected %zu\n", name,
			    l->n, i);
		ok = false;
	}
	return ok;
}

/* "reason=N reason=N"; every reason not named must be 0. */
static bool skips_are(const char *name, const struct sc_log *l,
		      const char *want)
{
	const struct wd_scan_stats *st = wd_scanner_stats(l->s);
	uint64_t exp[WD_SKIP__COUNT] = { 0 }, total = 0;
	char buf[512], *tok, *save = NULL;
	bool ok = true;
	int r;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		*eq = '\0';
		for (r = 0; r < WD_SKIP__COUNT; r++)
			if (strcmp(wd_skip_name((enum wd_skip)r), tok) == 0)
				break;
		if (r == WD_SKIP__COUNT)
			fail_msg("%s: unknown skip reason '%s' in test", name,
				 tok);
		exp[r] = strtoull(eq + 1, NULL, 10);
	}
	for (r = 0; r < WD_SKIP__COUNT; r++) {
		total += exp[r];
		if (st->skipped_by[r] != exp[r]) {
			print_error("%s: skipped_by[%s] = %llu, expected "
				    "%llu\n", name,
				    wd_skip_name((enum wd_skip)r),
				    (unsigned long long)st->skipped_by[r],
				    (unsigned long long)exp[r]);
			ok = false;
		}
	}
	if (st->skipped != total) {
		print_error("%s: skipped = %llu, expected %llu\n", name,
			    (unsigned long long)st->skipped,
			    (unsigned long long)total);
		ok = false;
	}
	return ok;
}

static bool has_warning(const struct sc_log *l, const char *sub)
{
	size_t i;

	for (i = 0; i < l->nwarn; i++)
		if (strstr(l->warn[i], sub))
			return true;
	return false;
}

static bool warning_is(const char *name, const struct sc_log *l,
		       const char *sub)
{
	if (has_warning(l, sub))
		return true;
	print_error("%s: no warning contains '%s'\n", name, sub);
	return false;
}

/* Space-separated expected sources, as written after "NAME:". */
static bool lines_are(const char *name, const struct sc_log *l,
		      const char *iname, const char *want)
{
	char buf[1024], *tok, *save = NULL, exp[512];
	size_t i = 0;
	bool ok = true;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, " ", &save); tok && i < l->n;
	     tok = strtok_r(NULL, " ", &save), i++) {
		snprintf(exp, sizeof(exp), "%s:%s", iname, tok);
		if (strcmp(l->srcs[i], exp) != 0) {
			print_error("%s: entry %zu source '%s', expected "
				    "'%s'\n", name, i, l->srcs[i], exp);
			ok = false;
		}
	}
	return ok;
}

/* ------------------------------------------------------------------ */
/* containers                                                           */
/* ------------------------------------------------------------------ */

#define ID3 "1v9mdsbe2j3fq -hx2p4qe9w1vd 1u8f3raw0bj1"
#define ID1 "1v9mdsbe2j3fq"

struct container {
	const char *file;
	const char *ids;
	bool gzip;
	const char *lines;	/* sources after "PATH:"; NULL: unchecked */
	const char *meta;	/* page token reported via on_meta */
	const char *bug;	/* non-NULL: a known defect this exposes */
};

static const struct container containers[] = {
	{ "array.json", ID3, false, NULL, NULL, NULL },
	{ "lines.jsonl", ID3, false, "1 3 3", NULL, NULL },
	{ "page.json", ID3, false, NULL, "nextPageToken=abc;", NULL },
	{ "single.json", ID1, false, "1", NULL, NULL },
	{ "pubsub.json", ID1, false, "1", NULL, NULL },
	/* Regression: a BOM file was once taken for text (the first read
	 * returned only the 2 bytes peeked for gzip; fixed in 67fead5). */
	{ "bom.json", ID3, false, NULL, NULL, NULL },
	{ "array.json.gz", ID3, true, NULL, NULL, NULL },
	{ "lines.jsonl.gz", ID3, true, "1 3 3", NULL, NULL },
};

static bool check_container(const struct container *c, struct sc_log *l,
			    const char *iname, const char *how, int mode)
{
	const struct wd_scan_stats *st = wd_scanner_stats(l->s);
	char name[256];
	bool ok = true;

	snprintf(name, sizeof(name), "%s (%s, %s)", c->file, how,
		 modes[mode]);
	assert_int_equal(l->ret, 0);
	ok &= ids_are(name, l, c->ids);
	ok &= skips_are(name, l, "");
	if (l->nwarn) {
		print_error("%s: unexpected warning(s)\n", name);
		ok = false;
	}
	if (st->inputs_ok != 1 || st->inputs_error || st->inputs_skipped) {
		print_error("%s: inputs ok=%llu error=%llu skipped=%llu, "
			    "expected 1/0/0\n", name,
			    (unsigned long long)st->inputs_ok,
			    (unsigned long long)st->inputs_error,
			    (unsigned long long)st->inputs_skipped);
		ok = false;
	}
	if (st->ninputs != 1 || st->inputs[0].gzip != c->gzip) {
		print_error("%s: input not recorded once with gzip=%d\n", name,
			    c->gzip);
		ok = false;
	}
	if (strcmp(c->ids, ID3) == 0 && (st->failures != 2 ||
					 st->successes != 1)) {
		/* 03 and 25 are failures, 42 a success (README). */
		print_error("%s: failures=%llu successes=%llu, expected 2/1\n",
			    name, (unsigned long long)st->failures,
			    (unsigned long long)st->successes);
		ok = false;
	}
	if (c->lines)
		ok &= lines_are(name, l, iname, c->lines);
	if (c->meta && strcmp(l->meta, c->meta) != 0) {
		print_error("%s: page metadata '%s', expected '%s'\n", name,
			    l->meta, c->meta);
		ok = false;
	}
	if (!c->meta && l->meta_len) {
		print_error("%s: unexpected page metadata '%s'\n", name,
			    l->meta);
		ok = false;
	}
	if (!ok)
		sc_dump(name, l);
	return ok;
}

static void test_container_path(void **state)
{
	const struct container *c = *state;
	struct sc_log l;
	char path[512];

	int m, bad = 0;

	snprintf(path, sizeof(path), "%s/%s", CONT_DIR, c->file);
	for (m = 0; m < NMODES; m++) {
		sc_init_mode(&l, m);
		sc_path(&l, path);
		bad += !check_container(c, &l, path, "wd_scan_path", m);
		sc_free(&l);
	}
	if (bad)
		fail_msg("%s: wrong result%s%s", c->file,
			 c->bug ? " - known bug: " : "", c->bug ? c->bug : "");
}

static void test_container_mem(void **state)
{
	const struct container *c = *state;
	struct sc_log l;
	char path[512];
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", CONT_DIR, c->file);
	int m, bad = 0;

	p = slurp(path, &n);
	for (m = 0; m < NMODES; m++) {
		sc_init_mode(&l, m);
		sc_mem(&l, c->file, p, n);
		bad += !check_container(c, &l, c->file, "wd_scan_mem", m);
		sc_free(&l);
	}
	set_mode(0);
	free(p);
	if (bad)
		fail_msg("%s: wrong result%s%s", c->file,
			 c->bug ? " - known bug: " : "", c->bug ? c->bug : "");
}

/* The framer alone on the plain bytes, then the decoder on each entry. */
static void test_container_framer_decoder(void **state)
{
	const struct container *c = *state;
	struct fr_log fl;
	struct wd_framer *f = wd_framer_new(&fr_ops, &fl);
	struct wd_decoder *dec = wd_decoder_new();
	struct wd_entry *e = xmalloc(sizeof(*e));
	char path[512], got[1024];
	char *raw, *p;
	size_t rn, n, i, glen = 0;

	snprintf(path, sizeof(path), "%s/%s", CONT_DIR, c->file);
	raw = slurp(path, &rn);
	p = plain_bytes(raw, rn, &n);
	/* The framer skips a BOM itself. */
	frame(&fl, f, p, n, 0);
	got[0] = '\0';
	for (i = 0; i < fl.ne; i++) {
		struct wd_err err;
		enum wd_skip why;
		struct wd_str id;

		wd_err_clear(&err);
		if (wd_decoder_decode(dec, fl.e[i].p, fl.e[i].n, e, &why,
				      &err) < 0)
			fail_msg("%s: entry %zu does not decode: %s", c->file,
				 i, err.msg);
		id = wd_entry_get(e, WD_F_INSERT_ID);
		glen += (size_t)snprintf(got + glen, sizeof(got) - glen,
					 "%s%.*s", i ? " " : "", (int)id.len,
					 id.ptr ? id.ptr : "");
	}
	if (strcmp(got, c->ids) != 0 || fl.ns != 0)
		fail_msg("%s: framer+decoder gave '%s' with %zu skips, "
			 "expected '%s'", c->file, got, fl.ns, c->ids);
	if (c->meta && (fl.meta == NULL || strcmp(fl.meta, c->meta) != 0))
		fail_msg("%s: on_meta gave '%s', expected '%s'", c->file,
			 fl.meta ? fl.meta : "", c->meta);
	fr_log_free(&fl);
	wd_framer_free(f);
	wd_decoder_free(dec);
	free(e);
	free(p);
	free(raw);
}

/* The push interface (HTTP bodies) fed page.json in 7-byte pieces. */
static void test_push_interface(void **state)
{
	struct sc_log l;
	char *p;
	size_t n, i;
	uint64_t got;

	(void)state;
	p = slurp(CONT_DIR "/page.json", &n);
	sc_init(&l);
	wd_scan_begin(l.s, "page-1");
	for (i = 0; i < n; i += 7)
		assert_int_equal(wd_scan_feed(l.s, p + i, n - i < 7 ? n - i :
					      7), 0);
	got = wd_scan_end(l.s);
	assert_int_equal(got, 3);
	if (!ids_are("push page.json", &l, ID3))
		fail();
	assert_string_equal(l.meta, "nextPageToken=abc;");
	assert_int_equal(wd_scanner_stats(l.s)->bytes, n);
	sc_free(&l);
	free(p);
}

/* on_entry returning <0 stops the scan. */
static void test_stop(void **state)
{
	struct sc_log l;
	char *p;
	size_t n;

	(void)state;
	p = slurp(CONT_DIR "/array.json", &n);
	sc_init(&l);
	l.stop_after = 1;
	assert_true(sc_mem(&l, "array.json", p, n) < 0);
	assert_int_equal(l.n, 1);
	sc_free(&l);
	free(p);
}

/* Two inputs into one scanner: stats add up, each input is listed. */
static void test_two_inputs(void **state)
{
	struct sc_log l;
	const struct wd_scan_stats *st;
	static const char trunc[] = "[" G("a") ",{\"insertId\":\"b\"";

	(void)state;
	sc_init(&l);
	sc_mem(&l, "first.json", trunc, sizeof(trunc) - 1);
	sc_path(&l, CONT_DIR "/lines.jsonl");
	st = wd_scanner_stats(l.s);
	if (!ids_are("two inputs", &l, "a " ID3) ||
	    !skips_are("two inputs", &l, "truncated=1") ||
	    !warning_is("two inputs", &l, "first.json:1: ")) {
		sc_dump("two inputs", &l);
		fail();
	}
	assert_int_equal(st->ninputs, 2);
	assert_string_equal(st->inputs[0].path, "first.json");
	assert_int_equal(st->inputs[0].entries, 1);
	assert_int_equal(st->inputs[0].skipped, 1);
	assert_int_equal(st->inputs[1].entries, 3);
	assert_int_equal(st->inputs[1].skipped, 0);
	assert_int_equal(st->inputs_ok, 2);
	assert_int_equal(st->entries, 4);
	assert_int_equal(st->failures, 3);
	assert_int_equal(st->successes, 1);
	sc_free(&l);
}

/* ------------------------------------------------------------------ */
/* bad_input: the matrix                                                */
/* ------------------------------------------------------------------ */

struct bad_case {
	const char *name;	/* also the input's name */
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *ids;	/* delivered insertIds, in order */
	const char *skips;	/* "reason=N ..." */
	const char *warn;	/* a warning contains this ("" none) */
	const char *lines;	/* sources after "NAME:" (NULL unchecked) */
	const char *meta;	/* on_meta, NULL: none expected */
	int warnings;		/* exact count; -1: one per skip */
	const char *bug;	/* known defect (see the comment) */
};

#define NUL_IN_ENTRY G("a") "\n{\"insertId\":\"b\0\",\"logName\":\"x\"}\n" \
	G("c") "\n"
#define NUL_ALONE G("a") "\n\0\n" G("c") "\n"

static const struct bad_case bad_cases[] = {
	/* Truncated JSON: the rest of the file is still analysed. */
	{ "ndjson-truncated-in-string.jsonl",
	  G("a") "\n{\"insertId\":\"b\",\"protoPayload\":{\"sta\n" G("c") "\n",
	  0, "a c", "truncated=1", "ndjson-truncated-in-string.jsonl:2: ",
	  "1 3", NULL, -1, NULL },
	{ "ndjson-truncated-after-colon.jsonl",
	  G("a") "\n{\"insertId\":\"b\",\"protoPayload\":\n" G("c") "\n",
	  0, "a c", "truncated=1", "ndjson-truncated-after-colon.jsonl:2: ",
	  "1 3", NULL, -1, NULL },
	{ "ndjson-truncated-at-eof.jsonl",
	  G("a") "\n" G("b") "\n{\"insertId\":\"c\",\"pro", 0, "a b",
	  "truncated=1", "ndjson-truncated-at-eof.jsonl:3: ", "1 2", NULL,
	  -1, NULL },
	{ "array-truncated-in-element.json",
	  "[\n" G("a") ",\n" G("b") ",\n{\"insertId\":\"c\",\"protoPayload\""
	  ":{\"status\":", 0, "a b", "truncated=1",
	  "array-truncated-in-element.json:4: ", "2 3", NULL, -1, NULL },
	{ "array-truncated-between-elements.json",
	  "[" G("a") "," G("b") ",", 0, "a b", "truncated=1", "", NULL, NULL,
	  -1, NULL },
	{ "page-truncated.json",
	  "{\"entries\":[" G("a") ",{\"insertId\":\"b\"", 0, "a",
	  "truncated=1", "page-truncated.json:1: ", NULL, NULL, -1, NULL },
	/* Invalid JSON inside a well-bracketed entry. */
	{ "array-invalid-element.json",
	  "[\n" G("a") ",\n{\"insertId\":\"x\" \"bad\"},\n" G("b") "\n]\n", 0,
	  "a b", "syntax=1", "array-invalid-element.json:3: invalid JSON",
	  "2 4", NULL, -1, NULL },
	{ "ndjson-invalid-line.jsonl",
	  G("a") "\n{\"insertId\":\"x\",,}\n" G("b") "\n", 0, "a b",
	  "syntax=1", "ndjson-invalid-line.jsonl:2: invalid JSON", "1 3",
	  NULL, -1, NULL },
	{ "ndjson-text-line.jsonl",
	  G("a") "\nthis is not json\n" G("b") "\n", 0, "a b", "not_json=1",
	  "ndjson-text-line.jsonl:2: ", "1 3", NULL, -1, NULL },
	{ "ndjson-stray-closer.jsonl",
	  G("a") "\n}\n" G("b") "\n", 0, "a b", "syntax=1",
	  "ndjson-stray-closer.jsonl:2: ", "1 3", NULL, -1, NULL },
	/* Regression (fixed): one entry with mismatched brackets is counted (and warned
	 * about) twice: close_brace() in src/decode/framer.c reports the
	 * entry ("mismatched brackets") and then its own last '}' as an
	 * "unexpected closing bracket". */
	{ "ndjson-mismatched-brackets.jsonl",
	  G("a") "\n{\"insertId\":\"x\",\"p\":[}]}\n" G("c") "\n", 0, "a c",
	  "syntax=1", "ndjson-mismatched-brackets.jsonl:2: ", "1 3", NULL, -1,
	  "mismatched brackets counted twice" },
	/* Invalid JSON in an entry that would otherwise be a plain success
	 * (the prefilter's path): skipped as syntax in both modes. */
#define BADJ(tag, body) { "json-" tag ".jsonl", G("a") "\n{\"insertId\":" \
	"\"s\",\"logName\":\"projects/p/logs/x\"," body "}\n" G("c") "\n", 0, \
	"a c", "syntax=1", "json-" tag ".jsonl:2: ", "1 3", NULL, -1, NULL }
	BADJ("leading-zero", "\"n\":01"),
	BADJ("dot-no-digits", "\"n\":1."),
	BADJ("lone-minus", "\"n\":-"),
	BADJ("leading-dot", "\"n\":.5"),
	BADJ("empty-exponent", "\"n\":1e"),
	BADJ("plus-sign", "\"n\":+1"),
	BADJ("short-literal", "\"n\":tru"),
	BADJ("capital-literal", "\"n\":True"),
	BADJ("nan", "\"n\":NaN"),
	BADJ("trailing-comma-array", "\"a\":[1,]"),
	BADJ("trailing-comma-object", "\"a\":1,"),
	BADJ("missing-comma", "\"a\":1 \"b\":2"),
	BADJ("missing-colon", "\"a\" 1"),
	BADJ("bad-escape", "\"s\":\"\\x\""),
	BADJ("short-unicode-escape", "\"s\":\"\\u12\""),
	BADJ("raw-tab-in-string", "\"s\":\"a\tb\""),
	BADJ("single-quotes", "'s':'x'"),
	BADJ("comment", "/* c */\"a\":1"),
	BADJ("bare-key", "a:1"),
	BADJ("status-bad-value", "\"protoPayload\":{\"status\":{\"code\":0,}}"),
#undef BADJ
	/* Valid JSON of the same kind is delivered in both modes. */
	{ "json-valid-numbers.jsonl",
	  "{\"insertId\":\"s\",\"logName\":\"projects/p/logs/x\",\"n\":[-0,0.5,"
	  "1E+2,1e-2,-12.5e3,123456789012345678901234567890],\"u\":\"\\u00e9"
	  "\\/\",\"t\":true,\"f\":false,\"z\":null,\"o\":{},\"a\":[]}\n", 0,
	  "s", "", "", "1", NULL, 0, "prefilter success has no source" },
	/* Encoding. */
	{ "invalid-utf8.jsonl",
	  G("a") "\n{\"insertId\":\"b\xff\xfe\",\"logName\":\"x\"}\n" G("c")
	  "\n", 0, "a c", "encoding=1", "invalid-utf8.jsonl:2: ", "1 3",
	  NULL, -1, NULL },
	{ "invalid-utf8-cut-sequence.jsonl",
	  G("a") "\n{\"insertId\":\"b\xe2\x82\",\"logName\":\"x\"}\n" G("c")
	  "\n", 0, "a c", "encoding=1", "invalid-utf8-cut-sequence.jsonl:2: ",
	  "1 3", NULL, -1, NULL },
	/* Regression (fixed): yajl 2.1's UTF-8 check accepts overlong forms and UTF-16
	 * surrogates, so these entries are delivered although the issue
	 * says invalid UTF-8 is skipped (decoder.c relies on yajl alone). */
	{ "invalid-utf8-overlong.jsonl",
	  G("a") "\n{\"insertId\":\"b\xc0\xaf\",\"logName\":\"x\"}\n" G("c")
	  "\n", 0, "a c", "encoding=1", "invalid-utf8-overlong.jsonl:2: ",
	  "1 3", NULL, -1, "yajl accepts overlong UTF-8" },
	{ "invalid-utf8-surrogate.jsonl",
	  G("a") "\n{\"insertId\":\"b\xed\xa0\x80\",\"logName\":\"x\"}\n"
	  G("c") "\n", 0, "a c", "encoding=1",
	  "invalid-utf8-surrogate.jsonl:2: ", "1 3", NULL, -1,
	  "yajl accepts UTF-16 surrogates in UTF-8" },
	{ "nul-in-entry.jsonl", NUL_IN_ENTRY, sizeof(NUL_IN_ENTRY) - 1,
	  "a c", "encoding=1", "nul-in-entry.jsonl:2: NUL byte", "1 3", NULL,
	  -1, NULL },
	{ "nul-between-lines.jsonl", NUL_ALONE, sizeof(NUL_ALONE) - 1, "a c",
	  "encoding=1", "nul-between-lines.jsonl:2: ", "1 3", NULL, -1,
	  NULL },
	{ "bom.jsonl", "\xEF\xBB\xBF" G("a") "\n" G("b") "\n", 0, "a b", "",
	  "", "1 2", NULL, 0, NULL },
	/* Line shapes of Cloud Storage sink objects. */
	{ "crlf.jsonl", G("a") "\r\n" G("b") "\r\n", 0, "a b", "", "", "1 2",
	  NULL, 0, NULL },
	{ "blank-lines.jsonl", G("a") "\n\n\r\n \n" G("b") "\n\n\n", 0,
	  "a b", "", "", "1 5", NULL, 0, NULL },
	/* Regression: two leading blank bytes once drew a false "empty
	 * input" warning (same cause as bom.json). */
	{ "leading-blank-lines.jsonl", "\n\n" G("a") "\n" G("b") "\n", 0,
	  "a b", "", "", "3 4", NULL, 0, NULL },
	{ "no-final-newline.jsonl", G("a") "\n" G("b"), 0, "a b", "", "",
	  "1 2", NULL, 0, NULL },
	{ "several-per-line.jsonl", G("a") " " G("b") G("c") "\n" G("d"), 0,
	  "a b c d", "", "", "1 1 1 2", NULL, 0, NULL },
	/* Regression, fixed (both this case and json-valid-numbers.jsonl, prefilter mode
	 * only): a success taken by the scanner's prefilter has no source
	 * field (see test_scan_stats.c, test_prefilter_same_fields). */
	{ "pretty-objects.jsonl",
	  "{\n  \"insertId\": \"a\",\n  \"logName\": \"x\"\n}\n{\n"
	  "  \"insertId\": \"b\",\n  \"protoPayload\": {\n    \"status\": "
	  "{\"code\": 7}\n  }\n}\n", 0, "a b", "", "", "1 5", NULL, 0,
	  "prefilter success has no source" },
	/* Regression (fixed): valid JSON whose nested objects start in column 0 (Python's
	 * json.dumps(indent=0)) is cut apart: wd_framer_feed() in
	 * src/decode/framer.c treats any '{' at the beginning of a line
	 * inside an object as the start of a new NDJSON line and resyncs. */
	{ "pretty-indent0.json",
	  "{\n\"insertId\": \"a\",\n\"protoPayload\": {\n\"authorizationInfo\""
	  ": [\n{\n\"permission\": \"x.y.z\",\n\"granted\": false\n}\n],\n"
	  "\"status\": {\n\"code\": 7\n}\n}\n}\n", 0, "a", "", "", "1", NULL,
	  0, "column-0 '{' resync" },
	/* Empty inputs: no entries, a warning naming the input. */
	{ "empty.json", "", 0, "", "", "empty.json: empty input", NULL, NULL,
	  1, NULL },
	{ "blank.json", "\n \r\n\t\n", 0, "", "", "blank.json: empty input",
	  NULL, NULL, 1, NULL },
	/* Values that are not LogEntry objects. */
	/* Regression (fixed): a top-level number/true/null is counted as not_json ("a line
	 * of text") while a top-level string is not_object; framer.h says
	 * not_object is "an array element or value that is not an object".
	 * (default: case of wd_framer_feed(), src/decode/framer.c) */
	{ "top-level-scalars.jsonl",
	  G("a") "\n42\n" G("b") "\ntrue\n\"str\"\nnull\n" G("c") "\n", 0,
	  "a b c", "not_object=4", "top-level-scalars.jsonl:2: ", "1 3 7",
	  NULL, -1, "scalar counted as not_json" },
	{ "array-non-objects.json",
	  "[" G("a") ",42,\"s\",[1,2],null,true," G("b") "]", 0, "a b",
	  "not_object=5", "array-non-objects.json:1: ", NULL, NULL, -1,
	  NULL },
	/* Regression (fixed): a scalar element of a page's "entries" array is dropped
	 * silently (not counted, no warning), unlike a scalar element of a
	 * top-level array: the default: case of wd_framer_feed()
	 * (src/decode/framer.c) only checks top_arr at depth 1, and
	 * open_brace() only catches '{'/'[' elements in a page. */
	{ "page-non-object.json",
	  "{\"entries\":[" G("a") ",7," G("b") "],\"nextPageToken\":\"t\"}", 0,
	  "a b", "not_object=1", "page-non-object.json:1: ", NULL,
	  "nextPageToken=t;", -1, "page scalar element not counted" },
	{ "page-object-element-ok.json",
	  "{\"entries\":[" G("a") ",[1]," G("b") "]}", 0, "a b",
	  "not_object=1", "page-object-element-ok.json:1: entries element",
	  NULL, NULL, -1, NULL },
	{ "empty-object.jsonl", G("a") "\n{}\n" G("b") "\n", 0, "a b",
	  "not_entry=1", "empty-object.jsonl:2: JSON object is not a LogEntry",
	  "1 3", NULL, -1, NULL },
	{ "other-object.jsonl",
	  G("a") "\n{\"foo\":1,\"bar\":{\"baz\":[1]}}\n" G("b") "\n", 0, "a b",
	  "not_entry=1", "other-object.jsonl:2: ", "1 3", NULL, -1, NULL },
	/* Pub/Sub push envelopes. */
	{ "pubsub-bad-base64.jsonl",
	  G("a") "\n{\"message\":{\"data\":\"!!not base64!!\",\"messageId\":"
	  "\"1\"},\"subscription\":\"projects/p/subscriptions/s\"}\n" G("b")
	  "\n", 0, "a b", "syntax=1", "pubsub-bad-base64.jsonl:2: Pub/Sub "
	  "message data is not base64", "1 3", NULL, -1, NULL },
	{ "pubsub-base64-not-json.jsonl",
	  G("a") "\n{\"message\":{\"data\":\"aGVsbG8=\"}}\n" G("b") "\n", 0,
	  "a b", "syntax=1", "pubsub-base64-not-json.jsonl:2: invalid JSON",
	  "1 3", NULL, -1, NULL },
	{ "pubsub-base64-empty-object.jsonl",
	  G("a") "\n{\"message\":{\"data\":\"e30=\"}}\n" G("b") "\n", 0, "a b",
	  "not_entry=1", "pubsub-base64-empty-object.jsonl:2: ", "1 3", NULL,
	  -1, NULL },
	/* entries:list pages. */
	{ "page-token.json",
	  "{\"entries\":[" G("a") "," G("b") "],\"nextPageToken\":\"tok1\"}",
	  0, "a b", "", "", NULL, "nextPageToken=tok1;", 0, NULL },
	{ "pages.jsonl",
	  "{\"entries\":[" G("a") "],\"nextPageToken\":\"t1\"}\n{\"entries\":["
	  G("b") "]}\n", 0, "a b", "", "", "1 2", "nextPageToken=t1;", 0,
	  NULL },
	{ "page-empty-entries.json",
	  "{\"entries\":[],\"nextPageToken\":\"y\"}", 0, "", "", "", NULL,
	  "nextPageToken=y;", 0, NULL },
	/* Regression (fixed): a page with no entries comes as {"nextPageToken":"x"} (the
	 * API omits an empty "entries"): the framer only enters page mode
	 * on an "entries" key (top_value(), src/decode/framer.c), so the
	 * object is handed to the decoder whole and skipped as not_entry,
	 * and the token is never reported through on_meta. */
	{ "page-empty-token-only.json", "{\"nextPageToken\":\"x\"}", 0, "",
	  "", "", NULL, "nextPageToken=x;", 0, "empty page is not_entry" },
	/* Regression (fixed): same cause: a token that comes before "entries" is lost
	 * (JSON objects are unordered). */
	{ "page-token-first.json",
	  "{\"nextPageToken\":\"tok2\",\"entries\":[" G("a") "]}", 0, "a", "",
	  "", NULL, "nextPageToken=tok2;", 0, "token before entries lost" },
};

static bool run_bad_case(const struct bad_case *c, int mode)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct sc_log l;
	const struct wd_scan_stats *st;
	char name[256];
	bool ok = true;

	snprintf(name, sizeof(name), "%s (%s)", c->name, modes[mode]);
	sc_init_mode(&l, mode);
	assert_int_equal(sc_mem(&l, c->name, c->in, len), 0);
	st = wd_scanner_stats(l.s);
	ok &= ids_are(name, &l, c->ids);
	ok &= skips_are(name, &l, c->skips);
	if (c->warn[0])
		ok &= warning_is(name, &l, c->warn);
	if (c->lines)
		ok &= lines_are(name, &l, c->name, c->lines);
	if (c->warnings >= 0 ? l.nwarn != (size_t)c->warnings :
	    l.nwarn != st->skipped) {
		print_error("%s: %zu warnings, expected %llu\n", name,
			    l.nwarn, (unsigned long long)(c->warnings >= 0 ?
			    (uint64_t)c->warnings : st->skipped));
		ok = false;
	}
	if (c->meta ? strcmp(l.meta, c->meta) != 0 : l.meta_len != 0) {
		print_error("%s: page metadata '%s', expected '%s'\n", name,
			    l.meta, c->meta ? c->meta : "");
		ok = false;
	}
	if (st->entries != l.n || st->failures + st->successes != l.n) {
		print_error("%s: stats count %llu entries, %zu delivered\n",
			    name, (unsigned long long)st->entries, l.n);
		ok = false;
	}
	if (st->inputs_ok != 1 || st->inputs_error || st->inputs_skipped) {
		print_error("%s: input not read as JSON\n", name);
		ok = false;
	}
	if (!ok)
		sc_dump(name, &l);
	sc_free(&l);
	return ok;
}

static void test_bad_case(void **state)
{
	const struct bad_case *c = *state;
	int m, bad = 0;

	for (m = 0; m < NMODES; m++)
		bad += !run_bad_case(c, m);
	if (bad)
		fail_msg("%s: wrong result in %d mode(s)%s%s", c->name, bad,
			 c->bug ? " - known bug: " : "", c->bug ? c->bug : "");
}

/* ------------------------------------------------------------------ */
/* chunking                                                             */
/* ------------------------------------------------------------------ */

static void test_chunk_file(void **state)
{
	const char *path = *state;
	char *raw, *p;
	size_t rn, n;
	int bad;

	raw = slurp(path, &rn);
	p = plain_bytes(raw, rn, &n);
	bad = chunk_check(path, p, n);
	free(p);
	free(raw);
	if (bad)
		fail_msg("%s: %d chunk sizes differ from the whole feed", path,
			 bad);
}

/* One whole feed of a fixture: exactly one entry, its bytes from the first
 * '{' to the last '}', no skips. */
static void test_fixture_one_entry(void **state)
{
	const char *path = *state;
	struct fr_log fl;
	struct wd_framer *f = wd_framer_new(&fr_ops, &fl);
	char *p, *first, *last;
	size_t n;

	p = slurp(path, &n);
	frame(&fl, f, p, n, 0);
	first = strchr(p, '{');
	last = strrchr(p, '}');
	assert_non_null(first);
	assert_non_null(last);
	if (fl.ne != 1 || fl.ns != 0 ||
	    fl.e[0].n != (size_t)(last - first + 1) ||
	    fl.e[0].offset != (uint64_t)(first - p))
		fail_msg("%s: framer gave %zu entries and %zu skips, "
			 "expected the whole object", path, fl.ne, fl.ns);
	fr_log_free(&fl);
	wd_framer_free(f);
	free(p);
}

static void test_chunk_bad_cases(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		int b = chunk_check(c->name, c->in, len);

		/* Regression (fixed): a BOM split across the first feeds is
		 * not recognised - wd_framer_feed() (src/decode/framer.c)
		 * strips it only from a first feed of at least 3 bytes -
		 * so bom.jsonl differs at chunk sizes 1 and 2 (and
		 * containers/bom.json in test_chunk_file). */
		bad += b;
	}
	if (bad)
		fail_msg("%d (case, chunk size) pairs differ from the whole "
			 "feed", bad);
	/* The bad cases hold streams and arrays: many cuts resumable. */
	print_message("resumable cuts checked: %lu\n", resumed_cuts);
	assert_true(resumed_cuts > 100);
}

/* Random bytes must frame the same way in every chunk size too. */
static void test_chunk_random(void **state)
{
	unsigned char buf[4096];
	uint32_t seed;
	int bad = 0;

	(void)state;
	for (seed = 1; seed <= 8; seed++) {
		char name[32];

		fill_random(buf, sizeof(buf), seed);
		/* Make it look like JSON often enough to reach deep states. */
		buf[0] = seed & 1 ? '{' : '[';
		snprintf(name, sizeof(name), "random-%u", seed);
		bad += chunk_check(name, (const char *)buf, sizeof(buf));
	}
	if (bad)
		fail_msg("%d chunk sizes differ on random input", bad);
}

/* ------------------------------------------------------------------ */
/* gzip                                                                 */
/* ------------------------------------------------------------------ */

#define GZ_N 400

/* NDJSON of GZ_N entries with ids e000.., padded with incompressible
 * text so the compressed stream is long enough to cut in the middle. */
static char *gz_plain(size_t *n)
{
	size_t cap = GZ_N * 400, len = 0, i;
	char *p = xmalloc(cap);
	unsigned char pad[64];

	for (i = 0; i < GZ_N; i++) {
		size_t j;
		char hex[129];

		fill_random(pad, sizeof(pad), (uint32_t)i + 7);
		for (j = 0; j < sizeof(pad); j++)
			snprintf(hex + 2 * j, 3, "%02x", pad[j]);
		len += (size_t)snprintf(p + len, cap - len,
			"{\"insertId\":\"e%03zu\",\"logName\":\"projects/p/"
			"logs/cloudaudit.googleapis.com%%2Factivity\","
			"\"protoPayload\":{\"status\":{\"code\":7,"
			"\"message\":\"%s\"}}}\n", i, hex);
	}
	*n = len;
	return p;
}

static bool ids_prefix(const struct sc_log *l, size_t *k)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		char want[32];

		snprintf(want, sizeof(want), "e%03zu", i);
		if (strcmp(l->ids[i], want) != 0)
			return false;
	}
	*k = l->n;
	return true;
}

static void test_gzip_whole(void **state)
{
	struct sc_log l;
	size_t pn, gn, k = 0;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);
	const struct wd_scan_stats *st;

	(void)state;
	sc_init_mode(&l, 2);
	sc_mem(&l, "all.jsonl.gz", gz, gn);
	st = wd_scanner_stats(l.s);
	assert_true(ids_prefix(&l, &k));
	assert_int_equal(k, GZ_N);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->inputs_ok, 1);
	assert_int_equal(st->inputs_error, 0);
	assert_true(st->inputs[0].gzip);
	assert_int_equal(st->inputs[0].bytes, pn);
	assert_int_equal(l.nwarn, 0);
	sc_free(&l);
	free(gz);
	free(plain);
}

/* Two gzip members back to back (gzip allows it; `cat a.gz b.gz`). */
static void test_gzip_members(void **state)
{
	struct sc_log l;
	size_t pn, g1n, g2n, half, k = 0;
	char *plain = gz_plain(&pn), *g1, *g2, *both;

	(void)state;
	half = (size_t)(strchr(plain + pn / 2, '\n') - plain) + 1;
	g1 = gzip_mem(plain, half, &g1n);
	g2 = gzip_mem(plain + half, pn - half, &g2n);
	both = xmalloc(g1n + g2n);
	memcpy(both, g1, g1n);
	memcpy(both + g1n, g2, g2n);
	sc_init(&l);
	sc_mem(&l, "two-members.gz", both, g1n + g2n);
	assert_true(ids_prefix(&l, &k));
	assert_int_equal(k, GZ_N);
	assert_int_equal(wd_scanner_stats(l.s)->inputs_error, 0);
	sc_free(&l);
	free(both);
	free(g2);
	free(g1);
	free(plain);
}

/* A cut gzip stream: a clear error naming the input, and the entries
 * before the cut still delivered, in order. */
static void check_gzip_cut(const char *name, struct sc_log *l, size_t min_k,
			   size_t max_k)
{
	const struct wd_scan_stats *st = wd_scanner_stats(l->s);
	size_t k = 0;
	char sub[600];

	if (!ids_prefix(l, &k) || k < min_k || k > max_k) {
		sc_dump(name, l);
		fail_msg("%s: %zu entries delivered (in order: %d), expected "
			 "%zu..%zu", name, l->n, ids_prefix(l, &k), min_k,
			 max_k);
	}
	/* The input's name is checked by test_gzip_truncated_file and
	 * test_gzip_mem_error_names_input. */
	snprintf(sub, sizeof(sub), "truncated gzip stream");
	if (!has_warning(l, sub)) {
		sc_dump(name, l);
		fail_msg("%s: no warning \"%s\"", name, sub);
	}
	assert_int_equal(st->inputs_error, 1);
	assert_int_equal(st->inputs_ok, 0);
	assert_int_equal(st->ninputs, 1);
	assert_int_equal(st->inputs[0].status, WD_INPUT_ERROR);
	assert_non_null(st->inputs[0].message);
	assert_non_null(strstr(st->inputs[0].message, "truncated gzip"));
	/* At most the one entry the cut went through is skipped. */
	assert_true(st->skipped <= 1);
	assert_int_equal(st->skipped, st->skipped_by[WD_SKIP_TRUNCATED]);
}

static void test_gzip_truncated_mem(void **state)
{
	struct sc_log l;
	size_t pn, gn;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	int m;

	(void)state;
	for (m = 0; m < NMODES; m++) {
		sc_init_mode(&l, m);
		sc_mem(&l, "cut.jsonl.gz", gz, gn / 2);
		check_gzip_cut(modes[m], &l, 1, GZ_N - 1);
		sc_free(&l);
	}
	free(gz);
	free(plain);
}

/* Only the 8-byte trailer (CRC32, ISIZE) is missing: every entry is
 * delivered, and the input is still reported as truncated. */
static void test_gzip_truncated_trailer(void **state)
{
	struct sc_log l;
	size_t pn, gn;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	(void)state;
	sc_init(&l);
	sc_mem(&l, "no-trailer.gz", gz, gn - 8);
	check_gzip_cut("no-trailer.gz", &l, GZ_N, GZ_N);
	sc_free(&l);
	free(gz);
	free(plain);
}

static void test_gzip_truncated_file(void **state)
{
	struct sc_log l;
	char dir[] = "/tmp/wd-gz-XXXXXX", path[256];
	size_t pn, gn;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cut.json.gz", dir);
	spit(path, gz, gn * 2 / 3);
	sc_init(&l);
	sc_path(&l, path);
	check_gzip_cut(path, &l, 1, GZ_N - 1);
	{
		char want[512];

		snprintf(want, sizeof(want), "'%s': truncated gzip stream",
			 path);
		if (!has_warning(&l, want)) {
			sc_dump(path, &l);
			fail_msg("no warning \"%s\"", want);
		}
	}
	sc_free(&l);
	unlink(path);
	rmdir(dir);
	free(gz);
	free(plain);
}

/* Regression (fixed): a gzip error in an input scanned with wd_scan_mem() names
 * '(memory)', not the input: wd_reader_open_mem() (src/input/reader.c)
 * has no name parameter and passes "(memory)" to detect(). scan.h says the
 * bytes are scanned "as one input named name". */
static void test_gzip_mem_error_names_input(void **state)
{
	struct sc_log l;
	size_t pn, gn;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	(void)state;
	sc_init(&l);
	sc_mem(&l, "named.jsonl.gz", gz, gn / 2);
	if (!has_warning(&l, "'named.jsonl.gz': truncated gzip stream")) {
		sc_dump("named.jsonl.gz", &l);
		sc_free(&l);
		free(gz);
		free(plain);
		fail_msg("known bug: gzip error does not name the input");
	}
	sc_free(&l);
	free(gz);
	free(plain);
}

/* Just the gzip header: nothing to deliver, a clear error. */
static void test_gzip_header_only(void **state)
{
	struct sc_log l;
	size_t pn, gn;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	(void)state;
	sc_init(&l);
	sc_mem(&l, "hdr.gz", gz, 10);
	check_gzip_cut("hdr.gz", &l, 0, 0);
	sc_free(&l);
	free(gz);
	free(plain);
}

static void test_gzip_corrupt(void **state)
{
	struct sc_log l;
	size_t pn, gn, k = 0, i;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);
	const struct wd_scan_stats *st;

	(void)state;
	for (i = gn / 2; i < gn / 2 + 64; i++)
		gz[i] = (char)0xff;
	sc_init(&l);
	sc_mem(&l, "corrupt.gz", gz, gn);
	st = wd_scanner_stats(l.s);
	if (!ids_prefix(&l, &k) || k >= GZ_N || st->inputs_error != 1 ||
	    !has_warning(&l, "corrupt gzip stream")) {
		sc_dump("corrupt.gz", &l);
		fail_msg("corrupt gzip: expected an error naming the input and "
			 "a prefix of the entries");
	}
	sc_free(&l);
	free(gz);
	free(plain);
}

/* gzip of [p, p + n) with a name, a comment, an extra field and a header
 * CRC (gzip -N and other tools write some of them). */
static char *gzip_mem_header(const char *p, size_t n, size_t *out_n)
{
	gz_header h;
	static unsigned char extra[] = "AB\4\0xyzw";

	memset(&h, 0, sizeof(h));
	h.name = (Bytef *)"entries.jsonl";
	h.comment = (Bytef *)"an export";
	h.extra = extra;
	h.extra_len = 8;
	h.hcrc = 1;
	h.time = 1700000000;
	h.os = 3;
	return gzip_mem_with(p, n, &h, out_n);
}

/* The gzip reader over reads of every size from 1 byte: the same bytes
 * as the plain input (the reading thread asks for what room a batch has
 * left, which can be a few bytes). */
static void test_gzip_read_sizes(void **state)
{
	static const size_t caps[] = { 1, 2, 3, 7, 64, 1000, 4096, 65536 };
	size_t pn, gn, c;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);
	char *out = xmalloc(pn + 65536);

	(void)state;
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct wd_reader *r;
		struct wd_err err;
		size_t len = 0;
		ssize_t k;

		wd_err_clear(&err);
		assert_int_equal(wd_reader_open_mem(&r, "sizes.gz", gz, gn,
						    &err), 0);
		while ((k = wd_reader_read(r, out + len, caps[c], &err)) > 0) {
			assert_true((size_t)k <= caps[c]);
			len += (size_t)k;
			assert_true(len <= pn);
		}
		if (k < 0)
			fail_msg("read %zu at a time: %s", caps[c], err.msg);
		assert_int_equal(len, pn);
		assert_memory_equal(out, plain, pn);
		wd_reader_close(r);
	}
	free(out);
	free(gz);
	free(plain);
}

/* Optional header fields (name, comment, extra, header CRC) are read past. */
static void test_gzip_header_fields(void **state)
{
	size_t pn, gn, on;
	char *plain = gz_plain(&pn), *gz = gzip_mem_header(plain, pn, &gn);
	char *out = plain_bytes(gz, gn, &on);

	(void)state;
	assert_int_equal(on, pn);
	assert_memory_equal(out, plain, pn);
	free(out);
	free(gz);
	free(plain);
}

/* One member per entry (a log shipper that appends a member a line):
 * every entry, in order. */
static void test_gzip_many_members(void **state)
{
	struct sc_log l;
	size_t pn, len = 0, k = 0, i;
	char *plain = gz_plain(&pn), *all = xmalloc(2 * pn + 64 * GZ_N);
	const char *line = plain;

	(void)state;
	for (i = 0; i < GZ_N; i++) {
		const char *nl = strchr(line, '\n');
		size_t gn;
		char *g = gzip_mem(line, (size_t)(nl - line) + 1, &gn);

		memcpy(all + len, g, gn);
		len += gn;
		free(g);
		line = nl + 1;
	}
	sc_init_mode(&l, 2);
	sc_mem(&l, "members.jsonl.gz", all, len);
	assert_true(ids_prefix(&l, &k));
	assert_int_equal(k, GZ_N);
	assert_int_equal(wd_scanner_stats(l.s)->inputs_error, 0);
	assert_int_equal(wd_scanner_stats(l.s)->inputs[0].bytes, pn);
	sc_free(&l);
	free(all);
	free(plain);
}

/* After a member, bytes that are no gzip member: an error naming the
 * input, every entry of the member delivered. */
static void test_gzip_trailing_garbage(void **state)
{
	struct sc_log l;
	size_t pn, gn, k = 0;
	char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

	(void)state;
	gz = xrealloc(gz, gn + 16);
	memcpy(gz + gn, "not gzip at all!", 16);
	sc_init(&l);
	sc_mem(&l, "garbage.gz", gz, gn + 16);
	if (!ids_prefix(&l, &k) || k != GZ_N ||
	    wd_scanner_stats(l.s)->inputs_error != 1 ||
	    !has_warning(&l, "'garbage.gz': corrupt gzip stream")) {
		sc_dump("garbage.gz", &l);
		fail_msg("trailing garbage: expected every entry and an error");
	}
	sc_free(&l);
	free(gz);
	free(plain);
}

/* A wrong CRC32 or length in the trailer: the stream is corrupt. */
static void test_gzip_bad_trailer(void **state)
{
	int which;

	(void)state;
	for (which = 0; which < 2; which++) {
		struct sc_log l;
		size_t pn, gn;
		char *plain = gz_plain(&pn), *gz = gzip_mem(plain, pn, &gn);

		gz[gn - (which ? 1 : 8)] ^= 0x5a;	/* CRC32, then ISIZE */
		sc_init(&l);
		sc_mem(&l, "trailer.gz", gz, gn);
		if (wd_scanner_stats(l.s)->inputs_error != 1 ||
		    !has_warning(&l, "'trailer.gz': corrupt gzip stream")) {
			sc_dump("trailer.gz", &l);
			fail_msg("bad %s: expected an error", which ? "ISIZE" :
				 "CRC32");
		}
		sc_free(&l);
		free(gz);
		free(plain);
	}
}

static void test_gzip_empty(void **state)
{
	struct sc_log l;
	size_t gn;
	char *gz = gzip_mem("", 0, &gn);

	(void)state;
	sc_init(&l);
	sc_mem(&l, "empty.gz", gz, gn);
	assert_int_equal(l.n, 0);
	assert_int_equal(wd_scanner_stats(l.s)->skipped, 0);
	assert_int_equal(wd_scanner_stats(l.s)->inputs_error, 0);
	assert_true(has_warning(&l, "empty.gz: empty input"));
	sc_free(&l);
	free(gz);
}

/* ------------------------------------------------------------------ */
/* walk                                                                 */
/* ------------------------------------------------------------------ */

static void mkdir_p(const char *path)
{
	char buf[1024], *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(buf, 0755);
		*s = '/';
	}
	(void)mkdir(buf, 0755);
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	spit(path, text, strlen(text));
}

static void rm_rf(const char *path)
{
	struct stat sb;
	DIR *dp;
	struct dirent *de;

	if (lstat(path, &sb) < 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		unlink(path);
		return;
	}
	dp = opendir(path);
	if (dp) {
		while ((de = readdir(dp)) != NULL) {
			char sub[1024];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(dp);
	}
	rmdir(path);
}

/* A Cloud Storage sink tree with ':' in the names, plus the odd files a
 * downloaded bucket holds. */
static void make_sink_tree(const char *root)
{
	char d[1024], p[1024];
	size_t gn;
	char *gz;
	static const char gzsrc[] = G("h") "\n";

	snprintf(d, sizeof(d), "%s/cloudaudit.googleapis.com/activity/2026/"
		 "11/26", root);
	mkdir_p(d);
	snprintf(d, sizeof(d), "%s/cloudaudit.googleapis.com/data_access/"
		 "2026/11/26", root);
	mkdir_p(d);
	snprintf(d, sizeof(d), "%s/empty-dir", root);
	mkdir_p(d);
	/* Written out of order on purpose. */
	put(root, "cloudaudit.googleapis.com/activity/2026/11/26/"
	    "10:00:00_10:59:59_S0.json", G("c") "\n" G("d") "\n");
	put(root, "cloudaudit.googleapis.com/activity/2026/11/26/"
	    "09:00:00_09:59:59_S0.json", G("a") "\n" G("b"));
	put(root, "cloudaudit.googleapis.com/activity/2026/11/26/"
	    "09:00:00_09:59:59_S1.json", G("b2") "\n");
	put(root, "cloudaudit.googleapis.com/data_access/2026/11/26/"
	    "08:00:00_08:59:59_S0.json", "[" G("e") "]");
	put(root, "README.txt", "Exported by the logging sink.\n");
	put(root, "notes.json", "not json at all\n");
	/* Shape comes from the bytes, not the name. */
	put(root, "zz-export.log", G("g") "\n");
	gz = gzip_mem(gzsrc, sizeof(gzsrc) - 1, &gn);
	snprintf(p, sizeof(p), "%s/zzz.jsonl.gz", root);
	spit(p, gz, gn);
	free(gz);
}

static void walk_sink_tree(int mode)
{
	char root[] = "/tmp/wd-walk-XXXXXX", want[1024];
	struct sc_log l;
	const struct wd_scan_stats *st;
	bool ok = true;

	assert_non_null(mkdtemp(root));
	make_sink_tree(root);
	sc_init_mode(&l, mode);
	assert_int_equal(sc_path(&l, root), 0);
	st = wd_scanner_stats(l.s);
	/* strcmp order at every level: "README.txt" < "cloudaudit..." <
	 * "empty-dir" < "notes.json" < "zz-export.log" < "zzz.jsonl.gz";
	 * "activity" < "data_access"; "09:..._S0" < "09:..._S1" < "10:". */
	ok &= ids_are("walk", &l, "a b b2 c d e g h");
	ok &= skips_are("walk", &l, "");
	snprintf(want, sizeof(want), "skipping '%s/README.txt': not JSON",
		 root);
	ok &= warning_is("walk", &l, want);
	snprintf(want, sizeof(want), "skipping '%s/notes.json': not JSON",
		 root);
	ok &= warning_is("walk", &l, want);
	if (l.n >= 1) {
		snprintf(want, sizeof(want), "%s/cloudaudit.googleapis.com/"
			 "activity/2026/11/26/09:00:00_09:59:59_S0.json:1",
			 root);
		if (strcmp(l.srcs[0], want) != 0) {
			print_error("walk: source '%s', expected '%s'\n",
				    l.srcs[0], want);
			ok = false;
		}
	}
	if (l.n >= 2) {
		snprintf(want, sizeof(want), "%s/cloudaudit.googleapis.com/"
			 "activity/2026/11/26/09:00:00_09:59:59_S0.json:2",
			 root);
		if (strcmp(l.srcs[1], want) != 0) {
			print_error("walk: source '%s', expected '%s'\n",
				    l.srcs[1], want);
			ok = false;
		}
	}
	if (st->inputs_ok != 6 || st->inputs_skipped != 2 ||
	    st->inputs_error != 0 || st->ninputs != 8) {
		print_error("walk: inputs ok=%llu skipped=%llu error=%llu "
			    "listed=%zu, expected 6/2/0/8\n",
			    (unsigned long long)st->inputs_ok,
			    (unsigned long long)st->inputs_skipped,
			    (unsigned long long)st->inputs_error,
			    st->ninputs);
		ok = false;
	}
	if (l.nwarn != 2) {
		print_error("walk: %zu warnings, expected 2\n", l.nwarn);
		ok = false;
	}
	if (!ok) {
		sc_dump("walk", &l);
		fail_msg("directory walk differs (%s)", modes[mode]);
	}
	sc_free(&l);
	rm_rf(root);
}

static void test_walk_sink_tree(void **state)
{
	int m;

	(void)state;
	for (m = 0; m < NMODES; m++)
		walk_sink_tree(m);
}

/* The same tree named with a trailing slash walks the same way. */
static void test_walk_trailing_slash(void **state)
{
	char root[] = "/tmp/wd-walk-XXXXXX", arg[256];
	struct sc_log l;

	(void)state;
	assert_non_null(mkdtemp(root));
	make_sink_tree(root);
	snprintf(arg, sizeof(arg), "%s/", root);
	sc_init(&l);
	sc_path(&l, arg);
	if (!ids_are("walk/", &l, "a b b2 c d e g h")) {
		sc_dump("walk/", &l);
		fail();
	}
	if (l.n && strstr(l.srcs[0], "//") != NULL)
		fail_msg("walk/: doubled slash in source '%s'", l.srcs[0]);
	sc_free(&l);
	rm_rf(root);
}

static void test_walk_no_json(void **state)
{
	char root[] = "/tmp/wd-walk-XXXXXX", want[512];
	struct sc_log l;
	const struct wd_scan_stats *st;

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "a.txt", "hello\n");
	put(root, "b.csv", "x,y\n1,2\n");
	sc_init(&l);
	sc_path(&l, root);
	st = wd_scanner_stats(l.s);
	snprintf(want, sizeof(want), "directory '%s' holds no JSON files",
		 root);
	if (l.n != 0 || st->inputs_ok != 0 || st->inputs_error != 1 ||
	    st->inputs_skipped != 2 || !has_warning(&l, want)) {
		sc_dump("no-json dir", &l);
		fail_msg("directory without JSON: expected an error naming it");
	}
	sc_free(&l);
	rm_rf(root);
}

/* Under WD_SANITIZE this aborts (regression, fixed): walk() in
 * src/input/scan.c calls qsort(names, 0, ...) with names == NULL for a
 * directory with no entries; UBSan: "null pointer passed as argument 1,
 * which is declared to never be null". test_walk_sink_tree hits it too
 * (its empty-dir/). */
static void test_walk_empty_dir(void **state)
{
	char root[] = "/tmp/wd-walk-XXXXXX", want[512];
	struct sc_log l;

	(void)state;
	assert_non_null(mkdtemp(root));
	sc_init(&l);
	sc_path(&l, root);
	snprintf(want, sizeof(want), "directory '%s' holds no JSON files (it "
		 "is empty)", root);
	if (!has_warning(&l, want) ||
	    wd_scanner_stats(l.s)->inputs_error != 1) {
		sc_dump("empty dir", &l);
		fail_msg("empty directory: expected \"%s\"", want);
	}
	sc_free(&l);
	rm_rf(root);
}

static void test_missing_file(void **state)
{
	struct sc_log l;
	const struct wd_scan_stats *st;

	(void)state;
	sc_init(&l);
	assert_int_equal(sc_path(&l, "/nonexistent/wd-missing.json"), 0);
	st = wd_scanner_stats(l.s);
	if (st->inputs_error != 1 || st->inputs_ok != 0 || st->ninputs != 1 ||
	    st->inputs[0].status != WD_INPUT_ERROR ||
	    !has_warning(&l, "cannot open '/nonexistent/wd-missing.json': "
			 "No such file or directory")) {
		sc_dump("missing", &l);
		fail_msg("missing file: expected an error naming it");
	}
	sc_free(&l);
}

/* Regression (fixed): directory symlinks are followed without loop detection (walk() in
 * src/input/scan.c uses stat(), not lstat() or a (dev, ino) set): a
 * symlink to '.' makes every file be read WALK_MAX_DEPTH + 1 = 33 times,
 * and two such links make the walk visit 2^33 directories (a hang).
 * Expected: each file read once. */
static void test_walk_symlink_loop(void **state)
{
	char root[] = "/tmp/wd-walk-XXXXXX", link[256];
	struct sc_log l;

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "a.json", G("a") "\n");
	snprintf(link, sizeof(link), "%s/loop", root);
	assert_int_equal(symlink(".", link), 0);
	sc_init(&l);
	sc_path(&l, root);
	if (l.n != 1) {
		print_error("symlink loop: a.json read %zu times\n", l.n);
		sc_free(&l);
		rm_rf(root);
		fail_msg("known bug: directory symlink loop followed");
	}
	sc_free(&l);
	rm_rf(root);
}

/* ------------------------------------------------------------------ */
/* limits                                                               */
/* ------------------------------------------------------------------ */

/* An entry of exactly total bytes whose status message is padding. */
static char *sized_entry(const char *id, size_t total, size_t *msg_len)
{
	static const char head[] = "{\"insertId\":\"%s\",\"logName\":\"projects"
		"/p/logs/cloudaudit.googleapis.com%%2Factivity\",\"protoPayload"
		"\":{\"status\":{\"code\":7,\"message\":\"";
	static const char tail[] = "\"}}}";
	char h[256];
	int hl = snprintf(h, sizeof(h), head, id);
	char *p = xmalloc(total + 1);
	size_t pad;

	assert_true((size_t)hl + sizeof(tail) - 1 < total);
	pad = total - (size_t)hl - (sizeof(tail) - 1);
	memcpy(p, h, (size_t)hl);
	memset(p + hl, 'x', pad);
	memcpy(p + (size_t)hl + pad, tail, sizeof(tail) - 1);
	p[total] = '\0';
	if (msg_len)
		*msg_len = pad;
	return p;
}

/* "PRE" + middle + "POST" as one buffer. */
static char *wrap(const char *pre, const char *mid, size_t mid_n,
		  const char *post, size_t *n)
{
	size_t a = strlen(pre), c = strlen(post);
	char *p = xmalloc(a + mid_n + c + 1);

	memcpy(p, pre, a);
	memcpy(p + a, mid, mid_n);
	memcpy(p + a + mid_n, post, c);
	p[a + mid_n + c] = '\0';
	*n = a + mid_n + c;
	return p;
}

static void run_limit(const char *iname, const char *in, size_t n,
		      const char *ids, const char *skips, const char *warn)
{
	struct sc_log l;
	char name[256];
	int m;

	for (m = 0; m < NMODES; m++) {
		bool ok = true;

		snprintf(name, sizeof(name), "%s (%s)", iname, modes[m]);
		sc_init_mode(&l, m);
		assert_int_equal(sc_mem(&l, iname, in, n), 0);
		ok &= ids_are(name, &l, ids);
		ok &= skips_are(name, &l, skips);
		if (warn)
			ok &= warning_is(name, &l, warn);
		if (!ok) {
			sc_dump(name, &l);
			sc_free(&l);
			fail_msg("%s: wrong result", name);
		}
		sc_free(&l);
	}
}

static void test_entry_512k_accepted(void **state)
{
	size_t ml, n;
	char *e = sized_entry("big", 512 * 1024, &ml);
	char *in = wrap(G("a") "\n", e, strlen(e), "\n" G("c") "\n", &n);
	struct sc_log l;
	struct wd_decoder *dec = wd_decoder_new();
	struct wd_entry *ent = xmalloc(sizeof(*ent));
	struct wd_err err;
	enum wd_skip why;
	struct wd_str msg;

	(void)state;
	run_limit("512k.jsonl", in, n, "a big c", "", NULL);
	/* The whole 512 KiB message survives decoding. */
	wd_err_clear(&err);
	assert_int_equal(wd_decoder_decode(dec, e, strlen(e), ent, &why, &err),
			 0);
	msg = wd_entry_get(ent, WD_F_STATUS_MESSAGE);
	assert_int_equal(msg.len, ml);
	assert_int_equal(ent->truncated, 0);
	(void)l;
	free(ent);
	wd_decoder_free(dec);
	free(in);
	free(e);
}

static void test_entry_1mib_exact_accepted(void **state)
{
	size_t n;
	char *e = sized_entry("max", WD_ENTRY_MAX_BYTES, NULL);
	char *in = wrap(G("a") "\n", e, strlen(e), "\n" G("c") "\n", &n);

	(void)state;
	run_limit("1mib.jsonl", in, n, "a max c", "", NULL);
	free(in);
	free(e);
}

static void test_entry_over_1mib_skipped(void **state)
{
	size_t n;
	char *e = sized_entry("huge", WD_ENTRY_MAX_BYTES + 1, NULL);
	char *in = wrap(G("a") "\n", e, strlen(e), "\n" G("c") "\n", &n);
	char *arr;

	(void)state;
	run_limit("over.jsonl", in, n, "a c", "too_large=1",
		  "over.jsonl:2: entry larger than 1 MiB");
	free(in);
	arr = wrap("[\n" G("a") ",\n", e, strlen(e), ",\n" G("c") "\n]\n", &n);
	run_limit("over-array.json", arr, n, "a c", "too_large=1",
		  "over-array.json:3: ");
	free(arr);
	/* 1.5 MiB: the capture buffer overflows mid-entry. */
	free(e);
	e = sized_entry("huger", WD_ENTRY_MAX_BYTES * 3 / 2, NULL);
	arr = wrap("{\"entries\":[" G("a") ",", e, strlen(e), "," G("c")
		   "],\"nextPageToken\":\"n\"}", &n);
	run_limit("over-page.json", arr, n, "a c", "too_large=1", NULL);
	free(arr);
	free(e);
}

/* Nesting: an entry with depth levels (the entry object is level 1). */
static char *nested_entry(const char *id, size_t depth, char open,
			  size_t *n)
{
	char head[128];
	int hl = snprintf(head, sizeof(head),
			  "{\"insertId\":\"%s\",\"logName\":\"x\",\"x\":", id);
	size_t inner = depth - 1, unit = open == '[' ? 1 : 4, i, k;
	char *p = xmalloc((size_t)hl + inner * (unit + 1) + 8);

	memcpy(p, head, (size_t)hl);
	k = (size_t)hl;
	for (i = 0; i < inner; i++) {
		if (open == '[') {
			p[k++] = '[';
		} else {
			memcpy(p + k, "{\"\":", 4);
			k += 4;
		}
	}
	if (open == '{')
		p[k++] = '1';
	for (i = 0; i < inner; i++)
		p[k++] = open == '[' ? ']' : '}';
	p[k++] = '}';
	p[k] = '\0';
	*n = k;
	return p;
}

static void test_depth_64_accepted_65_rejected(void **state)
{
	size_t en, n;
	char *e, *in;
	const char *ctx[][2] = {
		{ G("a") "\n", "\n" G("c") "\n" },
		{ "[" G("a") ",", "," G("c") "]" },
		{ "{\"entries\":[" G("a") ",", "," G("c") "]}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char name[64];

		e = nested_entry("d64", 64, '[', &en);
		in = wrap(ctx[i][0], e, en, ctx[i][1], &n);
		snprintf(name, sizeof(name), "depth64-%zu.json", i);
		run_limit(name, in, n, "a d64 c", "", NULL);
		free(in);
		free(e);
		e = nested_entry("d64o", 64, '{', &en);
		in = wrap(ctx[i][0], e, en, ctx[i][1], &n);
		snprintf(name, sizeof(name), "depth64o-%zu.json", i);
		run_limit(name, in, n, "a d64o c", "", NULL);
		free(in);
		free(e);
		e = nested_entry("d65", 65, '[', &en);
		in = wrap(ctx[i][0], e, en, ctx[i][1], &n);
		snprintf(name, sizeof(name), "depth65-%zu.json", i);
		run_limit(name, in, n, "a c", "too_deep=1",
			  "nesting deeper than 64");
		free(in);
		free(e);
	}
}

static void test_depth_200000(void **state)
{
	size_t en, n, i;
	char *e, *in, *arr;

	(void)state;
	/* Inside an entry, closed: arrays and objects. */
	e = nested_entry("deep", 200000, '[', &en);
	in = wrap(G("a") "\n", e, en, "\n" G("c") "\n", &n);
	run_limit("deep-arrays.jsonl", in, n, "a c", "too_deep=1",
		  "deep-arrays.jsonl:2: nesting deeper than 64");
	free(in);
	free(e);
	e = nested_entry("deepo", 200000, '{', &en);
	assert_true(en < WD_ENTRY_MAX_BYTES);
	in = wrap(G("a") "\n", e, en, "\n" G("c") "\n", &n);
	run_limit("deep-objects.jsonl", in, n, "a c", "too_deep=1", NULL);
	free(in);
	/* Inside an entry, never closed: the next line starts over. */
	in = wrap(G("a") "\n", e, en - 200001, "\n" G("c") "\n", &n);
	run_limit("deep-open.jsonl", in, n, "a c", "truncated=1",
		  "deep-open.jsonl:2: ");
	free(in);
	free(e);
	/* A bare top-level array of arrays, then an entry. */
	arr = xmalloc(400002);
	for (i = 0; i < 200000; i++) {
		arr[i] = '[';
		arr[200000 + i] = ']';
	}
	arr[400000] = '\0';
	in = wrap("", arr, 400000, "\n" G("c") "\n", &n);
	run_limit("deep-toplevel.json", in, n, "c", "not_object=1", NULL);
	free(in);
	free(arr);
	/* The decoder on its own must survive it too (it has its own stack
	 * cap) - no crash, whatever it answers. */
	{
		struct wd_decoder *dec = wd_decoder_new();
		struct wd_entry *ent = xmalloc(sizeof(*ent));
		struct wd_err err;
		enum wd_skip why;

		e = nested_entry("deep", 200000, '[', &en);
		wd_err_clear(&err);
		(void)wd_decoder_decode(dec, e, en, ent, &why, &err);
		free(e);
		free(ent);
		wd_decoder_free(dec);
	}
}

/* Memory does not grow with nesting or input size: 32 MiB of '[' then
 * 32 MiB of ']' fed in 64 KiB chunks, at top level and inside an entry,
 * raise the peak RSS by far less than the input. */
static void test_bounded_memory(void **state)
{
	static char chunk[65536];
	struct fr_log fl;
	struct wd_framer *f;
	long before, after;
	size_t i;
	int pass;

	(void)state;
	before = max_rss_kib();
	for (pass = 0; pass < 2; pass++) {
		f = wd_framer_new(&fr_ops, &fl);
		memset(&fl, 0, sizeof(fl));
		if (pass == 1)
			assert_int_equal(wd_framer_feed(f, "{\"x\":", 5), 0);
		memset(chunk, '[', sizeof(chunk));
		for (i = 0; i < 512; i++)
			assert_int_equal(wd_framer_feed(f, chunk,
							sizeof(chunk)), 0);
		memset(chunk, ']', sizeof(chunk));
		for (i = 0; i < 512; i++)
			assert_int_equal(wd_framer_feed(f, chunk,
							sizeof(chunk)), 0);
		if (pass == 1)
			assert_int_equal(wd_framer_feed(f, "}\n", 2), 0);
		assert_int_equal(wd_framer_feed(f, G("z") "\n",
						strlen(G("z") "\n")), 0);
		(void)wd_framer_finish(f);
		/* The entry after the deep value is still found. */
		if (fl.ne != 1 || strstr(fl.e[0].p, "\"z\"") == NULL)
			fail_msg("pass %d: entry after 32 MiB of nesting lost "
				 "(%zu entries, %zu skips)", pass, fl.ne,
				 fl.ns);
		if (pass == 1 && (fl.ns != 1 ||
				  (fl.s[0].reason != WD_SKIP_TOO_LARGE &&
				   fl.s[0].reason != WD_SKIP_TOO_DEEP)))
			fail_msg("deep entry: expected one too_large/too_deep "
				 "skip, got %zu", fl.ns);
		fr_log_free(&fl);
		wd_framer_free(f);
	}
	after = max_rss_kib();
	if (after - before > 16 * 1024)
		fail_msg("peak RSS grew by %ld KiB for 2 x 64 MiB of input",
			 after - before);
}

static void test_random_binary(void **state)
{
	static unsigned char buf[65536];
	struct sc_log l;
	const struct wd_scan_stats *st;
	uint32_t seed;

	(void)state;
	/* Detected as not JSON: the input is skipped with a warning. */
	fill_random(buf, sizeof(buf), 42);
	buf[0] = 0x01;
	sc_init(&l);
	sc_mem(&l, "random.bin", (const char *)buf, sizeof(buf));
	st = wd_scanner_stats(l.s);
	if (l.n != 0 || st->inputs_skipped != 1 ||
	    !has_warning(&l, "skipping 'random.bin': not JSON")) {
		sc_dump("random.bin", &l);
		fail_msg("random binary: expected the input skipped as not "
			 "JSON");
	}
	sc_free(&l);
	/* Forced through the JSON path, and starting like JSON: no crash,
	 * nothing delivered, everything counted. */
	for (seed = 1; seed <= 16; seed++) {
		fill_random(buf, sizeof(buf), seed);
		buf[0] = seed & 1 ? '{' : '[';
		sc_init(&l);
		wd_scanner_set_format(l.s, WD_FORMAT_JSON);
		sc_mem(&l, "random.json", (const char *)buf, sizeof(buf));
		st = wd_scanner_stats(l.s);
		assert_int_equal(st->entries, l.n);
		assert_true(st->skipped > 0);
		sc_free(&l);
	}
	/* gzip magic followed by garbage: an error naming the input. */
	fill_random(buf, sizeof(buf), 7);
	buf[0] = 0x1f;
	buf[1] = 0x8b;
	sc_init(&l);
	sc_mem(&l, "garbage.gz", (const char *)buf, sizeof(buf));
	st = wd_scanner_stats(l.s);
	if (l.n != 0 || st->inputs_error != 1 ||
	    !has_warning(&l, "gzip stream")) {
		sc_dump("garbage.gz", &l);
		fail_msg("gzip garbage: expected an error naming the input");
	}
	sc_free(&l);
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Paths of the tests/decode fixtures (.json) and of every container file
 * but README. */
static size_t list_inputs(char ***out, size_t *nfix)
{
	char **v = NULL;
	size_t n = 0, i;
	const char *dirs[] = { DECODE_DIR, CONT_DIR };

	*nfix = 0;
	for (i = 0; i < 2; i++) {
		DIR *dp = opendir(dirs[i]);
		struct dirent *de;
		size_t start = n;

		if (dp == NULL)
			return 0;
		while ((de = readdir(dp)) != NULL) {
			size_t l = strlen(de->d_name);
			char path[512];

			if (de->d_name[0] == '.' ||
			    strcmp(de->d_name, "README") == 0 ||
			    strcmp(de->d_name, "containers") == 0)
				continue;
			if (i == 0 && (l < 6 || strcmp(de->d_name + l - 5,
							    ".json") != 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
				 de->d_name);
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = xstrndup(path, strlen(path));
		}
		closedir(dp);
		qsort(v + start, n - start, sizeof(*v), cmp_str);
		if (i == 0)
			*nfix = n;
	}
	*out = v;
	return n;
}

/* ---- block mode: three workers frame blocks of raw input ----
 *
 * With jobs > 1 a stream of objects or an array with elements on lines of
 * their own is cut into blocks at guessed entry boundaries, framed by the
 * workers and checked at the merge (src/input/scan.c). Whatever the
 * guesses, the result must be one thread's; good guesses must not be
 * framed twice, and wrong ones must be. */

static char *blk_entry_json(struct wd_buf *b, int i, const char *nl)
{
	/* Every fifth entry a failure; authorizationInfo items are objects
	 * in an array, so "},<nl>{" occurs inside entries too. */
	wd_buf_printf(b,
		      "{\"insertId\":\"b%d\",\"logName\":\"projects/p/logs/"
		      "cloudaudit.googleapis.com%%2Factivity\",\"timestamp\":"
		      "\"2026-11-27T10:00:%02dZ\",\"protoPayload\":{"
		      "\"methodName\":\"m\",\"status\":%s,"
		      "\"authorizationInfo\":[%s{\"permission\":\"a\","
		      "\"granted\":true},%s{\"permission\":\"b\","
		      "\"granted\":true}]}}",
		      i, i % 60, i % 5 == 0 ? "{\"code\":7}" : "{}", nl, nl);
	return b->ptr;
}

static bool same_logs(const char *what, const struct sc_log *a,
		      const struct sc_log *b)
{
	const struct wd_scan_stats *sa = wd_scanner_stats(a->s);
	const struct wd_scan_stats *sb = wd_scanner_stats(b->s);
	size_t i;
	bool ok = a->n == b->n && a->nwarn == b->nwarn &&
		  sa->skipped == sb->skipped && sa->entries == sb->entries &&
		  sa->failures == sb->failures;

	for (i = 0; ok && i < a->n; i++)
		ok = strcmp(a->ids[i], b->ids[i]) == 0 &&
		     strcmp(a->srcs[i], b->srcs[i]) == 0 &&
		     a->fail[i] == b->fail[i];
	for (i = 0; ok && i < a->nwarn; i++)
		ok = strcmp(a->warn[i], b->warn[i]) == 0;
	if (!ok) {
		print_error("%s: one thread and block mode differ\n", what);
		sc_dump("one thread", a);
		sc_dump("blocks", b);
	}
	return ok;
}

/* Scans p in one thread and with 3 workers in blocks of block_bytes;
 * returns the blocks framed again, or -1 when the results differ. */
/* A JSON array of n entries, each element on lines of its own after
 * indent, with nl inside entries (see blk_entry_json). */
static void blk_array(struct wd_buf *in, int n, const char *indent,
		      const char *nl)
{
	struct wd_buf e;
	int i;

	wd_buf_init(&e, 4096);
	wd_buf_adds(in, "[\n");
	for (i = 0; i < n; i++) {
		wd_buf_clear(&e);
		wd_buf_adds(in, indent);
		wd_buf_adds(in, blk_entry_json(&e, i, nl));
		wd_buf_adds(in, i < n - 1 ? ",\n" : "\n]\n");
	}
	wd_buf_release(&e);
}

static long blk_compare(const char *what, const char *p, size_t n,
			const char *block_bytes)
{
	struct sc_log one, three;
	long reframed;
	bool ok;

	sc_init(&one);
	sc_mem(&one, "in.json", p, n);
	setenv("WHYDENIED_BLOCK_BYTES", block_bytes, 1);
	sc_init_mode(&three, 2);
	sc_mem(&three, "in.json", p, n);
	unsetenv("WHYDENIED_BLOCK_BYTES");
	ok = one.n > 0 && same_logs(what, &one, &three);
	reframed = (long)wd_scanner_stats(three.s)->reframed;
	sc_free(&one);
	sc_free(&three);
	return ok ? reframed : -1;
}

static void test_blocks_stream(void **state)
{
	struct wd_buf in, e;
	int i;

	(void)state;
	wd_buf_init(&in, 1u << 24);
	wd_buf_init(&e, 4096);
	for (i = 0; i < 400; i++) {
		wd_buf_clear(&e);
		wd_buf_adds(&in, blk_entry_json(&e, i, ""));
		wd_buf_adds(&in, i % 7 == 3 ? "\r\n" : "\n");
	}
	/* Real NDJSON: every guess is right. */
	assert_int_equal(blk_compare("ndjson", in.ptr, in.len, "1500"), 0);
	assert_int_equal(blk_compare("ndjson-tiny", in.ptr, in.len, "1"), 0);
	wd_buf_release(&in);
	wd_buf_release(&e);
}

static void test_blocks_array(void **state)
{
	struct wd_buf in;

	(void)state;
	wd_buf_init(&in, 1u << 24);
	/* Elements on lines of their own, indented by two: the cutter looks
	 * for "},\n  {", which only the top level has. */
	blk_array(&in, 400, "  ", "");
	assert_int_equal(blk_compare("array", in.ptr, in.len, "1500"), 0);
	wd_buf_release(&in);
}

static void test_blocks_wrong_guesses(void **state)
{
	struct wd_buf in, e;
	int i;

	(void)state;
	wd_buf_init(&in, 1u << 24);
	wd_buf_init(&e, 4096);
	/* json.dumps(indent=0)-like: every element and every authorization
	 * item starts in column 0, so many cuts land inside entries. */
	blk_array(&in, 300, "", "\n");
	{
		/* Whether a cut lands inside an entry depends on where the
		 * block size falls: try several, all must agree. */
		static const char *const sizes[] = { "333", "700", "1040" };
		long sum = 0, r;
		size_t k;

		for (k = 0; k < 3; k++) {
			r = blk_compare("indent0", in.ptr, in.len, sizes[k]);
			assert_true(r >= 0);
			sum += r;
		}
		assert_true(sum > 0);
	}
	/* A stream with a '{' in column 0 inside entries, a line cut short
	 * and a stray line of text between good lines. */
	wd_buf_clear(&in);
	for (i = 0; i < 300; i++) {
		wd_buf_clear(&e);
		blk_entry_json(&e, i, i % 2 == 0 ? "\n" : "");
		if (i % 31 == 5)
			e.len = e.len / 2;
		wd_buf_add(&in, e.ptr, e.len);
		wd_buf_adds(&in, i % 37 == 11 ? "\nnot json\n" : "\n");
	}
	assert_true(blk_compare("stream-traps", in.ptr, in.len, "900") > 0);
	wd_buf_release(&in);
	wd_buf_release(&e);
}

/* Several inputs in flight at once: with slow workers, a message the
 * reading thread writes about a later input (empty, not JSON) must still
 * come after the messages of earlier inputs' blocks. Regression: an
 * "empty input" line overtook an earlier file's syntax errors. */
static void test_blocks_inputs_in_flight(void **state)
{
	char root[] = "/tmp/wd-flight-XXXXXX";
	struct sc_log one, three;
	struct wd_buf a, e;
	int i;

	(void)state;
	assert_non_null(mkdtemp(root));
	wd_buf_init(&a, 1u << 20);
	wd_buf_init(&e, 4096);
	for (i = 0; i < 30; i++) {
		wd_buf_clear(&e);
		blk_entry_json(&e, i, "");
		if (i == 27)
			e.len /= 2;	/* a line cut short, near the end */
		wd_buf_add(&a, e.ptr, e.len);
		wd_buf_addc(&a, '\n');
	}
	put(root, "a.jsonl", a.ptr);
	put(root, "b.json", "");
	put(root, "c.txt", "not json\n");
	put(root, "d.jsonl", a.ptr);
	sc_init(&one);
	sc_path(&one, root);
	setenv("WHYDENIED_BLOCK_BYTES", "700", 1);
	sc_init_mode(&three, 2);
	three.slow_us = 3000;
	sc_path(&three, root);
	unsetenv("WHYDENIED_BLOCK_BYTES");
	assert_true(one.nwarn >= 4);
	assert_true(same_logs("inputs in flight", &one, &three));
	sc_free(&one);
	sc_free(&three);
	wd_buf_release(&a);
	wd_buf_release(&e);
	rm_rf(root);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest limits[] = {
		T(test_bounded_memory),	/* first: measures peak RSS */
		T(test_entry_512k_accepted),
		T(test_entry_1mib_exact_accepted),
		T(test_entry_over_1mib_skipped),
		T(test_depth_64_accepted_65_rejected),
		T(test_depth_200000),
		T(test_random_binary),
	};
	const struct CMUnitTest gzip[] = {
		T(test_gzip_whole),
		T(test_gzip_members),
		T(test_gzip_truncated_mem),
		T(test_gzip_truncated_trailer),
		T(test_gzip_truncated_file),
		T(test_gzip_header_only),
		T(test_gzip_mem_error_names_input),
		T(test_gzip_corrupt),
		T(test_gzip_empty),
		T(test_gzip_read_sizes),
		T(test_gzip_header_fields),
		T(test_gzip_many_members),
		T(test_gzip_trailing_garbage),
		T(test_gzip_bad_trailer),
	};
	const struct CMUnitTest walk[] = {
		T(test_walk_sink_tree),
		T(test_walk_trailing_slash),
		T(test_walk_no_json),
		T(test_walk_empty_dir),
		T(test_missing_file),
		T(test_walk_symlink_loop),
	};
	const struct CMUnitTest scanner[] = {
		T(test_push_interface),
		T(test_stop),
		T(test_two_inputs),
		T(test_chunk_bad_cases),
		T(test_chunk_random),
		T(test_blocks_stream),
		T(test_blocks_array),
		T(test_blocks_wrong_guesses),
		T(test_blocks_inputs_in_flight),
	};
	size_t nc = sizeof(containers) / sizeof(containers[0]);
	size_t nb = sizeof(bad_cases) / sizeof(bad_cases[0]);
	struct CMUnitTest *ct, *bt, *kt;
	char **inputs, (*names)[160];
	size_t ni, nfix, i, k;
	int fails = 0;

	setenv("WHYDENIED_BATCH_ITEMS", "2", 1);
	ni = list_inputs(&inputs, &nfix);
	if (ni == 0 || nfix == 0) {
		fprintf(stderr, "no fixtures under '%s'\n", DECODE_DIR);
		return 1;
	}
	ct = calloc(3 * nc, sizeof(*ct));
	bt = calloc(nb, sizeof(*bt));
	kt = calloc(ni + nfix, sizeof(*kt));
	names = calloc(3 * nc + ni + nfix, sizeof(*names));
	if (!ct || !bt || !kt || !names)
		abort();
	k = 0;
	for (i = 0; i < nc; i++) {
		snprintf(names[k], sizeof(names[k]), "path:%s",
			 containers[i].file);
		ct[3 * i] = (struct CMUnitTest){ names[k++],
			test_container_path, NULL, NULL,
			(void *)(uintptr_t)&containers[i] };
		snprintf(names[k], sizeof(names[k]), "mem:%s",
			 containers[i].file);
		ct[3 * i + 1] = (struct CMUnitTest){ names[k++],
			test_container_mem, NULL, NULL,
			(void *)(uintptr_t)&containers[i] };
		snprintf(names[k], sizeof(names[k]), "framer+decoder:%s",
			 containers[i].file);
		ct[3 * i + 2] = (struct CMUnitTest){ names[k++],
			test_container_framer_decoder, NULL, NULL,
			(void *)(uintptr_t)&containers[i] };
	}
	for (i = 0; i < nb; i++)
		bt[i] = (struct CMUnitTest){ bad_cases[i].name, test_bad_case,
			NULL, NULL, (void *)(uintptr_t)&bad_cases[i] };
	for (i = 0; i < ni; i++) {
		const char *base = strrchr(inputs[i], '/') + 1;

		snprintf(names[k], sizeof(names[k]), "chunks 1..64:%s", base);
		kt[i] = (struct CMUnitTest){ names[k++], test_chunk_file, NULL,
			NULL, inputs[i] };
	}
	for (i = 0; i < nfix; i++) {
		const char *base = strrchr(inputs[i], '/') + 1;

		snprintf(names[k], sizeof(names[k]), "one entry:%s", base);
		kt[ni + i] = (struct CMUnitTest){ names[k++],
			test_fixture_one_entry, NULL, NULL, inputs[i] };
	}

	fails += _cmocka_run_group_tests("limits", limits,
					 sizeof(limits) / sizeof(limits[0]),
					 NULL, NULL);
	fails += _cmocka_run_group_tests("containers", ct, 3 * nc, NULL, NULL);
	fails += _cmocka_run_group_tests("chunking", kt, ni + nfix, NULL,
					 NULL);
	fails += _cmocka_run_group_tests("scanner", scanner,
					 sizeof(scanner) / sizeof(scanner[0]),
					 NULL, NULL);
	fails += _cmocka_run_group_tests("gzip", gzip,
					 sizeof(gzip) / sizeof(gzip[0]), NULL,
					 NULL);
	fails += _cmocka_run_group_tests("bad_input", bt, nb, NULL, NULL);
	/* Last: under WD_SANITIZE an UBSan abort in the walk (an empty
	 * directory, see test_walk_empty_dir) must not hide the rest. */
	fails += _cmocka_run_group_tests("walk", walk,
					 sizeof(walk) / sizeof(walk[0]), NULL,
					 NULL);

	for (i = 0; i < ni; i++)
		free(inputs[i]);
	free(inputs);
	free(names);
	free(kt);
	free(bt);
	free(ct);
	return fails;
}
