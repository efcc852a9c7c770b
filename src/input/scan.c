/* scan.c - inputs to decoded entries (see whydenied/scan.h). */
#define _GNU_SOURCE 1 /* memrchr */
#include "whydenied/scan.h"
#include "whydenied/buf.h"
#include "whydenied/decoder.h"
#include "whydenied/input.h"
#include "whydenied/lite.h"
#include "whydenied/simd.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>

#define CHUNK (256u * 1024u)
#define WALK_MAX_DEPTH 32
#define LINE_MAX_BYTES (1024u * 1024u)

struct pipeline;
static void pipeline_free(struct pipeline *p);
static struct pipeline *pipeline_new(struct wd_scanner *s);
static ssize_t pipeline_scan(struct pipeline *p, struct wd_reader *r,
			     size_t n, struct wd_err *rerr);
static void drain(struct pipeline *p);

struct wd_scanner {
	const struct wd_scan_ops *ops;
	void *ctx;
	struct wd_framer *framer;
	struct wd_decoder *dec;
	struct wd_entry *entry;
	struct wd_scan_stats st;
	enum wd_input_format format;
	const struct wd_text_ops *text;
	char *chunk;
	bool prefilter;
	size_t jobs;
	struct pipeline *pl;	/* worker threads, when jobs > 1 */

	/* The input being read. */
	const char *path;
	struct wd_input_stat *cur;
	int stop;		/* on_entry's negative return */
	char *push_name;	/* the pushed input's name */
	uint64_t push_entries;
	struct wd_err *err;
	char msg[1024];
};

static void warn(struct wd_scanner *s, const char *fmt, ...)
	WD_PRINTF(2, 3);

/* A message from the reading thread. Batches still in the workers hold
 * earlier inputs' messages: they go first, so that the order is one
 * thread's. */
static void warn(struct wd_scanner *s, const char *fmt, ...)
{
	va_list ap;

	drain(s->pl);
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	if (s->ops->on_warning)
		s->ops->on_warning(s->ctx, s->msg);
}

static void note_ts_into(char **first, char **last, struct wd_str ts)
{
	/* RFC 3339 UTC timestamps of equal precision compare as text;
	 * different precisions compare correctly up to the seconds. */
	if (!ts.ptr || ts.len == 0 || ts.len > 64)
		return;
	if (!*first || strncmp(ts.ptr, *first, ts.len) < 0 ||
	    (strlen(*first) > ts.len &&
	     strncmp(ts.ptr, *first, ts.len) == 0)) {
		free(*first);
		*first = wd_xstrndup(ts.ptr, ts.len);
	}
	if (!*last || strncmp(ts.ptr, *last, ts.len) > 0) {
		free(*last);
		*last = wd_xstrndup(ts.ptr, ts.len);
	}
}

static void note_ts(struct wd_scanner *s, struct wd_str ts)
{
	note_ts_into(&s->st.first_ts, &s->st.last_ts, ts);
}

/* Hands a decoded record on; shared by JSON and text inputs. */
static int emit(void *sctx, struct wd_entry *e)
{
	struct wd_scanner *s = sctx;
	int ret;

	if (s->ops->accept && !s->ops->accept(s->ctx, e)) {
		s->st.duplicates++;
		return 0;
	}
	s->st.entries++;
	if (s->cur)
		s->cur->entries++;
	if (e->failure) {
		s->st.failures++;
		if (s->cur)
			s->cur->failures++;
	} else {
		s->st.successes++;
	}
	note_ts(s, wd_entry_get(e, WD_F_TIMESTAMP));
	ret = s->ops->on_entry ? s->ops->on_entry(s->ctx, e) : 0;
	if (ret < 0)
		s->stop = ret;
	return ret;
}

/* Bytes read from the current input. */
static void count_read(struct wd_scanner *s, size_t n)
{
	s->st.bytes += n;
	if (s->cur)
		s->cur->bytes += n;
}

static void count_skip(struct wd_scanner *s, enum wd_skip r)
{
	s->st.skipped++;
	s->st.skipped_by[r]++;
	if (s->cur)
		s->cur->skipped++;
}

/* Decodes one entry's bytes: the prefilter first, then the decoder.
 * Returns 0 with e filled, or <0 with *reason and err set. */
/* Sets where an entry came from, and its "path:line" source field (the
 * path capped at 4096 bytes). No allocation: this runs for every entry. */
static void add_source(struct wd_decoder *dec, struct wd_entry *e,
		       const char *path, uint64_t line, uint64_t offset)
{
	char src[4096 + 24], digits[24];
	size_t pl = strnlen(path, 4096), k = 0;
	const char *sp;

	e->file = path;
	e->line = line;
	e->offset = offset;
	do {
		digits[k++] = (char)('0' + line % 10);
		line /= 10;
	} while (line > 0);
	memcpy(src, path, pl);
	src[pl++] = ':';
	while (k > 0)
		src[pl++] = digits[--k];
	sp = wd_decoder_keep(dec, src, pl);
	if (sp)
		wd_entry_add(e, WD_F_SOURCE, sp, pl);
}

static int decode_one(struct wd_decoder *dec, struct wd_entry *e,
		      bool prefilter, const char *path, const char *p,
		      size_t n, uint64_t line, uint64_t offset,
		      enum wd_skip *reason, struct wd_err *err)
{
	size_t end;

	if (prefilter &&
	    wd_lite_decode(p, n, e, &end) == WD_LITE_SUCCESS) {
		/* A plain success: no full parse (see whydenied/lite.h). */
		wd_decoder_clear(dec);
	} else {
		wd_err_clear(err);
		if (wd_decoder_decode(dec, p, n, e, reason, err) < 0)
			return -1;
	}
	add_source(dec, e, path, line, offset);
	return 0;
}

static int on_entry(void *ctx, const char *p, size_t n, uint64_t line,
		    uint64_t offset)
{
	struct wd_scanner *s = ctx;
	struct wd_err err;
	enum wd_skip reason = WD_SKIP_SYNTAX;

	if (decode_one(s->dec, s->entry, s->prefilter, s->path, p, n, line,
		       offset, &reason, &err) < 0) {
		count_skip(s, reason);
		warn(s, "%s:%llu: %s", s->path, (unsigned long long)line,
		     err.msg);
		return 0;
	}
	return emit(s, s->entry);
}

static void on_skip(void *ctx, enum wd_skip r, uint64_t line, uint64_t off,
		    const char *detail)
{
	struct wd_scanner *s = ctx;

	(void)off;
	count_skip(s, r);
	warn(s, "%s:%llu: %s", s->path, (unsigned long long)line, detail);
}

static void on_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct wd_scanner *s = ctx;

	if (s->ops->on_meta)
		s->ops->on_meta(s->ctx, key, val, n);
}

/* The framer's fast path (try_entry in whydenied/framer.h): a plain
 * success is decoded by the prefilter straight from the input, and the
 * framer never walks its bytes. Returns whether it took the entry. */
static bool fast_entry(struct wd_decoder *dec, struct wd_entry *e,
		       const char *path, const char *p, size_t n,
		       uint64_t line, uint64_t offset, int allow_nl,
		       size_t *used, uint64_t *nl)
{
	size_t end;

	*used = 0;
	if (wd_lite_decode_nl(p, n, e, &end, nl) != WD_LITE_SUCCESS ||
	    (!allow_nl && *nl > 0))
		return false;
	wd_decoder_clear(dec);
	add_source(dec, e, path, line, offset);
	*used = end;
	return true;
}

static int try_entry(void *ctx, const char *p, size_t n, uint64_t line,
		     uint64_t offset, int allow_nl, size_t *used,
		     uint64_t *nl)
{
	struct wd_scanner *s = ctx;

	if (!fast_entry(s->dec, s->entry, s->path, p, n, line, offset,
			allow_nl, used, nl))
		return 0;
	return emit(s, s->entry);
}

static const struct wd_framer_ops framer_ops = { on_entry, on_skip, on_meta,
						 NULL };
static const struct wd_framer_ops framer_fast_ops = {
	on_entry, on_skip, on_meta, try_entry,
};

struct wd_scanner *wd_scanner_new(const struct wd_scan_ops *ops, void *ctx)
{
	struct wd_scanner *s = wd_xcalloc(1, sizeof(*s));

	s->ops = ops;
	s->ctx = ctx;
	/* WHYDENIED_PREFILTER=0 turns the prefilter off (differential tests
	 * and benchmarks compare both). */
	s->prefilter = !(getenv("WHYDENIED_PREFILTER") &&
			 strcmp(getenv("WHYDENIED_PREFILTER"), "0") == 0);
	s->framer = wd_framer_new(s->prefilter ? &framer_fast_ops :
				  &framer_ops, s);
	s->dec = wd_decoder_new();
	s->entry = wd_xmalloc(sizeof(*s->entry));
	s->chunk = wd_xmalloc(CHUNK);
	s->st.inputs = wd_xcalloc(16, sizeof(*s->st.inputs));
	return s;
}

void wd_scanner_free(struct wd_scanner *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->st.ninputs; i++) {
		free(s->st.inputs[i].path);
		free(s->st.inputs[i].message);
	}
	free(s->st.inputs);
	free(s->st.first_ts);
	free(s->st.last_ts);
	free(s->push_name);
	pipeline_free(s->pl);
	wd_framer_free(s->framer);
	wd_decoder_free(s->dec);
	free(s->entry);
	free(s->chunk);
	free(s);
}

void wd_scanner_set_format(struct wd_scanner *s, enum wd_input_format f)
{
	s->format = f;
}

void wd_scanner_set_jobs(struct wd_scanner *s, size_t jobs)
{
	s->jobs = jobs;
}

void wd_scanner_stop_jobs(struct wd_scanner *s)
{
	pipeline_free(s->pl);
	s->pl = NULL;
	s->jobs = 1;
}

void wd_scanner_set_text(struct wd_scanner *s, const struct wd_text_ops *t)
{
	s->text = t;
}

const struct wd_scan_stats *wd_scanner_stats(const struct wd_scanner *s)
{
	return &s->st;
}

static struct wd_input_stat *add_input(struct wd_scanner *s, const char *path)
{
	struct wd_input_stat *in;

	if (s->st.ninputs >= WD_MAX_INPUT_STATS) {
		s->st.inputs_dropped++;
		return NULL;
	}
	if (s->st.ninputs >= 16 &&
	    (s->st.ninputs & (s->st.ninputs - 1)) == 0)
		s->st.inputs = wd_xrealloc(s->st.inputs, 2 * s->st.ninputs *
					   sizeof(*s->st.inputs));
	in = &s->st.inputs[s->st.ninputs++];
	memset(in, 0, sizeof(*in));
	in->path = wd_xstrdup(path);
	return in;
}

static void input_failed(struct wd_scanner *s, struct wd_input_stat *in,
			 enum wd_input_status st, const char *msg)
{
	if (st == WD_INPUT_ERROR)
		s->st.inputs_error++;
	else
		s->st.inputs_skipped++;
	if (in) {
		in->status = st;
		free(in->message);
		in->message = wd_xstrdup(msg);
	}
	warn(s, "%s", msg);
}

/* Feeds a text input line by line to the text extractor. */
static int scan_text(struct wd_scanner *s, struct wd_reader *r, ssize_t n)
{
	struct wd_buf line;
	uint64_t lineno = 1;
	void *state;
	bool overlong = false;
	int ret = 0;

	state = s->text->begin(s->text->tctx, s->path);
	wd_buf_init(&line, LINE_MAX_BYTES);
	while (n > 0 && s->stop == 0) {
		const char *p = s->chunk, *end = s->chunk + n;

		while (p < end && s->stop == 0) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (!overlong && wd_buf_add(&line, p, k) < 0) {
				overlong = true;
				count_skip(s, WD_SKIP_TOO_LARGE);
				warn(s, "%s:%llu: line longer than 1 MiB "
				     "skipped", s->path,
				     (unsigned long long)lineno);
			}
			if (!nl)
				break;
			if (!overlong)
				s->text->line(state, line.ptr ? line.ptr : "",
					      line.len, lineno, emit, s);
			wd_buf_clear(&line);
			overlong = false;
			lineno++;
			p = nl + 1;
		}
		n = wd_reader_read(r, s->chunk, CHUNK, s->err);
		if (n > 0)
			count_read(s, (size_t)n);
	}
	if (n < 0)
		ret = (int)n;
	if (line.len > 0 && !overlong && s->stop == 0)
		s->text->line(state, line.ptr, line.len, lineno, emit, s);
	if (s->stop == 0)
		s->text->end(state, emit, s);
	else
		s->text->end(state, NULL, NULL);
	wd_buf_release(&line);
	return ret;
}

static bool looks_like_json(const char *p, size_t n, bool *empty)
{
	size_t i = 0;

	if (n >= 3 && (unsigned char)p[0] == 0xEF &&
	    (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
		i = 3;
	for (; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
		    p[i] == '\n')
			continue;
		*empty = false;
		/* `terraform apply -json` output is a step log, one hclog
		 * object per line, each starting {"@level": (issue 6). */
		if (n - i >= 10 && memcmp(p + i, "{\"@level\":", 10) == 0)
			return false;
		return p[i] == '{' || p[i] == '[';
	}
	*empty = true;
	return true;
}

/* The JSON path of scan_reader with worker threads (see "worker
 * threads" below). */
static int scan_parallel(struct wd_scanner *s, struct wd_reader *r,
			 ssize_t n, struct wd_err *rerr)
{
	struct wd_input_stat *in = s->cur;

	n = pipeline_scan(s->pl, r, (size_t)n, rerr);
	if (s->stop != 0)
		return s->stop;
	if (n < 0) {
		s->st.inputs_ok--;
		input_failed(s, in, WD_INPUT_ERROR, rerr->msg);
	}
	return 0;
}

/* Reads one opened input to the end. */
static int scan_reader(struct wd_scanner *s, struct wd_reader *r,
		       const char *path, bool from_walk)
{
	struct wd_err rerr;
	struct wd_input_stat *in = add_input(s, path);
	ssize_t n;
	bool empty = true, json;
	char msg[1200];

	s->path = path;
	s->cur = in;
	s->err = &rerr;
	wd_err_clear(&rerr);
	if (in)
		in->gzip = r->gzip;
	/* Read until the first non-blank byte decides the shape. */
	n = wd_reader_read(r, s->chunk, CHUNK, &rerr);
	if (n > 0)
		count_read(s, (size_t)n);
	json = n > 0 ? looks_like_json(s->chunk, (size_t)n, &empty) : true;
	if (n < 0) {
		input_failed(s, in, WD_INPUT_ERROR, rerr.msg);
		return 0;
	}
	if (n == 0 || empty) {
		/* An empty (or blank) input holds no entries; say so. */
		s->st.inputs_ok++;
		snprintf(msg, sizeof(msg), "%s: empty input, no entries",
			 path);
		warn(s, "%s", msg);
		if (n == 0)
			return 0;
	}
	if (s->format == WD_FORMAT_TEXT || (!json && s->format ==
					    WD_FORMAT_AUTO)) {
		if (from_walk || !s->text) {
			snprintf(msg, sizeof(msg),
				 "skipping '%s': not JSON%s", path,
				 from_walk ? "" :
				 " (no text extractor for step logs)");
			input_failed(s, in, WD_INPUT_SKIPPED, msg);
			return 0;
		}
		/* Text is analysed on this thread: earlier inputs first. */
		drain(s->pl);
		if (in)
			in->text = true;
		s->st.inputs_ok++;
		if (scan_text(s, r, n) < 0 && s->stop == 0) {
			input_failed(s, in, WD_INPUT_ERROR, rerr.msg);
			s->st.inputs_ok--;
		}
		return s->stop;
	}
	if (!empty)
		s->st.inputs_ok++;
	if (s->jobs > 1 && s->ops->sink_new && s->pl == NULL)
		s->pl = pipeline_new(s);
	if (s->pl)
		return scan_parallel(s, r, n, &rerr);
	wd_framer_reset(s->framer);
	while (n > 0 && s->stop == 0) {
		if (wd_framer_feed(s->framer, s->chunk, (size_t)n) < 0)
			break;
		n = wd_reader_read(r, s->chunk, CHUNK, &rerr);
		if (n > 0)
			count_read(s, (size_t)n);
	}
	if (s->stop != 0)
		return s->stop;
	wd_framer_finish(s->framer);
	if (n < 0) {
		/* Entries before the error were analysed; the input still
		 * counts as not read to the end. */
		s->st.inputs_ok--;
		input_failed(s, in, WD_INPUT_ERROR, rerr.msg);
	}
	return 0;
}

static int scan_file(struct wd_scanner *s, const char *path, bool from_walk)
{
	struct wd_reader *r;
	struct wd_err err;
	int ret;

	wd_err_clear(&err);
	if (wd_reader_open(&r, path, &err) < 0) {
		input_failed(s, add_input(s, path), WD_INPUT_ERROR, err.msg);
		return 0;
	}
	ret = scan_reader(s, r, path, from_walk);
	wd_reader_close(r);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories being walked, outermost first: a symbolic link back to
 * one of them would loop. */
struct ancestors {
	dev_t dev[WALK_MAX_DEPTH + 2];
	ino_t ino[WALK_MAX_DEPTH + 2];
	int n;
};

static int walk(struct wd_scanner *s, const char *dir, int depth,
		uint64_t *files, struct ancestors *up)
{
	DIR *dp;
	struct stat ds;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = 0;
	char msg[1200];

	if (depth > WALK_MAX_DEPTH) {
		snprintf(msg, sizeof(msg),
			 "skipping '%s': directories nested too deep", dir);
		input_failed(s, NULL, WD_INPUT_SKIPPED, msg);
		return 0;
	}
	if (stat(dir, &ds) == 0) {
		int k;

		for (k = 0; k < up->n; k++)
			if (up->dev[k] == ds.st_dev && up->ino[k] == ds.st_ino) {
				snprintf(msg, sizeof(msg), "skipping '%s': a "
					 "link back to a directory being "
					 "walked", dir);
				input_failed(s, NULL, WD_INPUT_SKIPPED, msg);
				return 0;
			}
	}
	dp = opendir(dir);
	if (dp == NULL) {
		snprintf(msg, sizeof(msg), "cannot open directory '%s': %s",
			 dir, strerror(errno));
		input_failed(s, add_input(s, dir), WD_INPUT_ERROR, msg);
		return 0;
	}
	up->dev[up->n] = ds.st_dev;
	up->ino[up->n] = ds.st_ino;
	up->n++;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 32;
			names = wd_xrealloc(names, alloc * sizeof(*names));
		}
		names[n++] = wd_xstrdup(de->d_name);
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && ret == 0; i++) {
		struct wd_buf p;
		struct stat sb;

		wd_buf_init(&p, 8192);
		if (wd_buf_adds(&p, dir) < 0 ||
		    (p.len && p.ptr[p.len - 1] != '/' &&
		     wd_buf_addc(&p, '/') < 0) ||
		    wd_buf_adds(&p, names[i]) < 0) {
			wd_buf_release(&p);
			continue;
		}
		if (stat(p.ptr, &sb) < 0) {
			snprintf(msg, sizeof(msg), "cannot read '%s': %s",
				 p.ptr, strerror(errno));
			input_failed(s, add_input(s, p.ptr), WD_INPUT_ERROR,
				     msg);
		} else if (S_ISDIR(sb.st_mode)) {
			ret = walk(s, p.ptr, depth + 1, files, up);
		} else if (S_ISREG(sb.st_mode)) {
			(*files)++;
			ret = scan_file(s, p.ptr, true);
		}
		wd_buf_release(&p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	up->n--;
	return ret;
}

int wd_scan_path(struct wd_scanner *s, const char *path, struct wd_err *err)
{
	struct stat sb;
	int ret;

	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		uint64_t files = 0, before_ok = s->st.inputs_ok;
		struct ancestors up;
		char msg[1200];

		up.n = 0;
		ret = walk(s, path, 0, &files, &up);
		if (ret == 0 && s->st.inputs_ok == before_ok) {
			snprintf(msg, sizeof(msg),
				 "directory '%s' holds no JSON files%s", path,
				 files ? "" : " (it is empty)");
			s->st.inputs_error++;
			warn(s, "%s", msg);
		}
	} else {
		ret = scan_file(s, path, false);
	}
	drain(s->pl);
	if (ret == 0)
		ret = s->stop;
	if (ret < 0)
		return wd_err_set(err, ret, "scan stopped");
	return 0;
}

int wd_scan_mem(struct wd_scanner *s, const char *name, const char *p,
		size_t n, struct wd_err *err)
{
	struct wd_reader *r;
	int ret;

	if (wd_reader_open_mem(&r, name, p, n, err) < 0)
		return err->code;
	ret = scan_reader(s, r, name, false);
	wd_reader_close(r);
	drain(s->pl);
	if (ret == 0)
		ret = s->stop;
	if (ret < 0)
		return wd_err_set(err, ret, "scan stopped");
	return 0;
}

void wd_scan_begin(struct wd_scanner *s, const char *name)
{
	drain(s->pl);
	s->push_name = wd_xstrdup(name);
	s->path = s->push_name;
	s->cur = add_input(s, name);
	s->push_entries = s->st.entries;
	s->st.inputs_ok++;
	wd_framer_reset(s->framer);
}

int wd_scan_feed(struct wd_scanner *s, const char *p, size_t n)
{
	count_read(s, n);
	if (s->stop)
		return s->stop;
	wd_framer_feed(s->framer, p, n);
	return s->stop;
}

uint64_t wd_scan_end(struct wd_scanner *s)
{
	uint64_t n;

	if (s->stop == 0)
		wd_framer_finish(s->framer);
	n = s->st.entries - s->push_entries;
	s->cur = NULL;
	s->path = "(none)";
	free(s->push_name);
	s->push_name = NULL;
	return n;
}

void wd_scan_fail(struct wd_scanner *s, const char *msg)
{
	s->st.inputs_ok--;
	input_failed(s, s->cur, WD_INPUT_ERROR, msg);
}

uint64_t wd_scan_abandon(struct wd_scanner *s, const char *note)
{
	uint64_t n = s->st.entries - s->push_entries;

	if (s->cur && note) {
		free(s->cur->message);
		s->cur->message = wd_xstrdup(note);
	}
	wd_framer_reset(s->framer);
	s->cur = NULL;
	s->path = "(none)";
	free(s->push_name);
	s->push_name = NULL;
	return n;
}

/* ---- worker threads ----
 *
 * An input is shared among the workers in one of two ways.
 *
 * Blocks (a stream of objects, an array whose elements start on lines of
 * their own): the reading thread only reads, cuts the input into blocks of
 * about BATCH_BYTES where the framer is most likely between entries (after
 * a newline followed by '{' in column 0; after the comma of "},<indent>{"
 * in an array, with the first element's indent) and counts newlines. A
 * worker frames and decodes a block with its own framer, resumed at that
 * place (wd_framer_resume). The merge, in input order, checks the guess:
 * the framer that ended the block before must stand exactly where the
 * block's framer began (wd_framer_pos). If it does not, the block's
 * results are dropped and the reading thread frames the block again from
 * the true framer. Either way the result is one thread's, byte for byte.
 *
 * Entries (everything else: compact arrays, pages): the reading thread
 * frames the input and copies each entry into a batch (at most
 * BATCH_BYTES of entries, BATCH_ITEMS items); workers decode them.
 *
 * A ring of batches bounds memory. The reading thread merges done batches
 * strictly in order: counts, time range, warnings, then the sink. When
 * every batch is taken it decodes one itself instead of waiting, so
 * --jobs N runs N - 1 workers besides it (on 2 cores 1 worker and a
 * helping reader measured about 15 % faster than 2 workers and an idle
 * reader, median of 5 runs on 1 GB).
 */

#define BATCH_BYTES (1u << 20)
#define BATCH_ITEMS 4096
#define BATCH_CAP (2 * BATCH_BYTES)
#define SEP_MAX 64

enum batch_state { B_FREE, B_READY, B_BUSY, B_DONE };

struct item {
	size_t off, len;	/* in bytes (entries) or notes (skips) */
	uint64_t line, offset;
	int skip;		/* -1: an entry; else a framer skip reason */
};

struct batch {
	enum batch_state state;
	uint64_t seq;
	char *path;		/* its input's (inputs may end before it) */
	size_t input;		/* index in st.inputs, or SIZE_MAX */
	char *bytes;		/* BATCH_CAP */
	size_t len;
	struct wd_buf notes;	/* framer skip messages */
	struct item *items;
	size_t nitems;
	/* Block mode: bytes are raw input, framed by the worker. */
	bool block;
	bool first;		/* an input's first block: a fresh framer */
	bool last;		/* its last: the merge finishes the framer */
	struct wd_framer_pos pos;	/* where the block begins (guessed) */
	struct wd_framer *fr;
	struct wd_buf metas;	/* on_meta calls: key NUL len value */
	void *sink;
	/* Results. */
	uint64_t entries, failures, successes, skipped;
	uint64_t skipped_by[WD_SKIP__COUNT];
	char *first_ts, *last_ts;
	struct wd_buf warnings;	/* lines ending in \n */
	int stop;
};

/* What decoding needs, in a worker or in the reading thread. */
struct run {
	struct pipeline *p;
	struct batch *b;	/* results go here; NULL: to the scanner */
	struct wd_decoder *dec;
	struct wd_entry *e;
	void *wstate;
};

struct worker {
	struct pipeline *p;
	pthread_t th;
	bool started;
};

struct pipeline {
	struct wd_scanner *s;
	struct wd_framer *framer;	/* entry mode */
	pthread_mutex_t mu;
	pthread_cond_t ready;	/* a batch became READY, or quit */
	pthread_cond_t done;	/* a batch became DONE */
	struct batch *b;
	size_t nb;
	struct worker *w;
	size_t nw;
	uint64_t seq_fill;	/* next sequence number to hand out */
	uint64_t seq_merge;	/* next sequence number to merge */
	struct batch *fill;	/* being filled */
	const char *path;	/* the input being read */
	size_t input;		/* its index in st.inputs, or SIZE_MAX */
	size_t max_items;	/* items a batch (BATCH_ITEMS) */
	size_t block_bytes;	/* bytes a block (BATCH_BYTES) */
	bool blocks;		/* block mode allowed */
	bool quit;

	/* Block mode. */
	struct wd_framer *carry;	/* the true framer after the last
					 * merged block */
	enum wd_framer_at at;	/* where cuts are made */
	char sep[SEP_MAX];	/* an array's indent before elements */
	size_t sep_len;
	void *wstate;		/* the reading thread's, made on demand */
};

/* Forgets what decoding a batch found (not its input). */
static void batch_clear_results(struct batch *b)
{
	wd_buf_clear(&b->metas);
	wd_buf_clear(&b->warnings);
	b->entries = b->failures = b->successes = b->skipped = 0;
	memset(b->skipped_by, 0, sizeof(b->skipped_by));
	free(b->first_ts);
	free(b->last_ts);
	b->first_ts = b->last_ts = NULL;
	b->stop = 0;
}

static void batch_reset(struct batch *b)
{
	b->len = 0;
	b->nitems = 0;
	b->block = false;
	b->first = false;
	b->last = false;
	free(b->path);
	b->path = NULL;
	wd_buf_clear(&b->notes);
	batch_clear_results(b);
	b->sink = NULL;
}

static void batch_warn(struct batch *b, const char *path, uint64_t line,
		       const char *msg)
{
	char head[64];

	snprintf(head, sizeof(head), ":%llu: ", (unsigned long long)line);
	(void)wd_buf_adds(&b->warnings, path);
	(void)wd_buf_adds(&b->warnings, head);
	(void)wd_buf_adds(&b->warnings, msg);
	(void)wd_buf_addc(&b->warnings, '\n');
}

/* ---- results of a run: into its batch, or straight to the scanner ---- */

static void run_skip(struct run *r, enum wd_skip reason, uint64_t line,
		     const char *msg)
{
	r->b->skipped++;
	r->b->skipped_by[reason]++;
	batch_warn(r->b, r->b->path, line, msg);
}

static int run_decoded(struct run *r, struct wd_entry *e)
{
	struct wd_scanner *s = r->p->s;
	struct batch *b = r->b;

	b->entries++;
	if (e->failure)
		b->failures++;
	else
		b->successes++;
	note_ts_into(&b->first_ts, &b->last_ts,
		     wd_entry_get(e, WD_F_TIMESTAMP));
	if (s->ops->sink_entry(s->ctx, r->wstate, b->sink, e) < 0)
		b->stop = -1;
	return b->stop;
}

static int run_entry(struct run *r, const char *p, size_t n, uint64_t line,
		     uint64_t offset)
{
	struct wd_scanner *s = r->p->s;
	enum wd_skip reason = WD_SKIP_SYNTAX;
	struct wd_err err;

	if (decode_one(r->dec, r->e, s->prefilter, r->b->path, p, n, line,
		       offset, &reason, &err) < 0) {
		run_skip(r, reason, line, err.msg);
		return 0;
	}
	return run_decoded(r, r->e);
}

/* Framer callbacks in block mode (ctx: a struct run). */
static int blk_entry(void *ctx, const char *p, size_t n, uint64_t line,
		     uint64_t offset)
{
	return run_entry(ctx, p, n, line, offset);
}

static void blk_skip(void *ctx, enum wd_skip reason, uint64_t line,
		     uint64_t off, const char *detail)
{
	(void)off;
	run_skip(ctx, reason, line, detail);
}

static void blk_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct run *r = ctx;

	(void)wd_buf_adds(&r->b->metas, key);
	(void)wd_buf_addc(&r->b->metas, '\0');
	(void)wd_buf_add(&r->b->metas, (const char *)&n, sizeof(n));
	(void)wd_buf_add(&r->b->metas, val, n);
}

static int blk_try(void *ctx, const char *p, size_t n, uint64_t line,
		   uint64_t offset, int allow_nl, size_t *used, uint64_t *nl)
{
	struct run *r = ctx;

	if (!fast_entry(r->dec, r->e, r->b->path, p, n, line, offset,
			allow_nl, used, nl))
		return 0;
	return run_decoded(r, r->e);
}

static const struct wd_framer_ops blk_ops = {
	blk_entry, blk_skip, blk_meta, NULL,
};
static const struct wd_framer_ops blk_fast_ops = {
	blk_entry, blk_skip, blk_meta, blk_try,
};

/* ---- workers ---- */

static void batch_process(struct pipeline *p, struct batch *b,
			  struct run *r)
{
	const struct wd_scan_ops *ops = p->s->ops;
	size_t i;

	r->b = b;
	b->sink = ops->sink_new(p->s->ctx);
	if (b->block) {
		if (b->first)
			wd_framer_reset(b->fr);
		else if (b->pos.at != WD_AT_ELSEWHERE)
			wd_framer_resume(b->fr, &b->pos);
		else
			return;	/* no guess: the merge frames it */
		wd_framer_set_ctx(b->fr, r);
		wd_framer_feed(b->fr, b->bytes, b->len);
		return;
	}
	for (i = 0; i < b->nitems && b->stop == 0; i++) {
		struct item *it = &b->items[i];

		if (it->skip >= 0)
			run_skip(r, (enum wd_skip)it->skip, it->line,
				 b->notes.ptr + it->off);
		else
			run_entry(r, b->bytes + it->off, it->len, it->line,
				  it->offset);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;
	struct run r;

	r.p = p;
	r.b = NULL;
	r.dec = wd_decoder_new();
	r.e = wd_xmalloc(sizeof(*r.e));
	r.wstate = p->s->ops->worker_new(p->s->ctx);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct batch *pick = NULL;
		size_t i;

		for (i = 0; i < p->nb; i++)
			if (p->b[i].state == B_READY &&
			    (pick == NULL || p->b[i].seq < pick->seq))
				pick = &p->b[i];
		if (pick == NULL) {
			if (p->quit)
				break;
			pthread_cond_wait(&p->ready, &p->mu);
			continue;
		}
		pick->state = B_BUSY;
		pthread_mutex_unlock(&p->mu);
		batch_process(p, pick, &r);
		pthread_mutex_lock(&p->mu);
		pick->state = B_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	p->s->ops->worker_free(p->s->ctx, r.wstate);
	free(r.e);
	wd_decoder_free(r.dec);
	return NULL;
}

/* ---- merging, in the reading thread ---- */

/* The reading thread's run: the scanner's decoder and entry. */
static void main_run(struct pipeline *p, struct run *r, struct batch *b)
{
	r->p = p;
	r->b = b;
	r->dec = p->s->dec;
	r->e = p->s->entry;
	if (p->wstate == NULL)
		p->wstate = p->s->ops->worker_new(p->s->ctx);
	r->wstate = p->wstate;
}

/* Checks a done block's guess; frames it again from the true framer when
 * the guess was wrong. Afterwards p->carry is the true framer at the
 * block's end. */
static void block_settle(struct pipeline *p, struct batch *b)
{
	const struct wd_scan_ops *ops = p->s->ops;
	struct wd_framer_pos at;
	struct wd_framer *t;
	struct run r;

	wd_framer_pos(p->carry, &at);
	if (b->first || (b->pos.at != WD_AT_ELSEWHERE && at.at == b->pos.at &&
			 at.line == b->pos.line &&
			 at.offset == b->pos.offset &&
			 at.prev_nl == b->pos.prev_nl)) {
		/* A good guess: the block's framer is the true one now. */
		t = p->carry;
		p->carry = b->fr;
		b->fr = t;
	} else {
		/* Wrong guess: drop what the worker found. */
		p->s->st.reframed++;
		if (b->sink)
			ops->sink_drop(p->s->ctx, b->sink);
		batch_clear_results(b);
		b->sink = ops->sink_new(p->s->ctx);
		main_run(p, &r, b);
		wd_framer_set_ctx(p->carry, &r);
		wd_framer_feed(p->carry, b->bytes, b->len);
	}
	if (b->last && b->stop == 0 && p->s->stop == 0) {
		/* The input ends: what the framer still holds is reported
		 * with the block. */
		main_run(p, &r, b);
		wd_framer_set_ctx(p->carry, &r);
		wd_framer_finish(p->carry);
	}
}

/* Merges one done batch into the scanner (reading thread, in order). */
static void batch_merge(struct pipeline *p, struct batch *b)
{
	struct wd_scanner *s = p->s;
	char *line, *nl;
	size_t k;

	if (b->block)
		block_settle(p, b);
	s->st.entries += b->entries;
	s->st.failures += b->failures;
	s->st.successes += b->successes;
	s->st.skipped += b->skipped;
	for (k = 0; k < WD_SKIP__COUNT; k++)
		s->st.skipped_by[k] += b->skipped_by[k];
	if (b->input < s->st.ninputs) {
		struct wd_input_stat *in = &s->st.inputs[b->input];

		in->entries += b->entries;
		in->failures += b->failures;
		in->skipped += b->skipped;
	}
	if (b->first_ts)
		note_ts(s, (struct wd_str){ b->first_ts, strlen(b->first_ts) });
	if (b->last_ts)
		note_ts(s, (struct wd_str){ b->last_ts, strlen(b->last_ts) });
	for (line = b->warnings.ptr; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (s->ops->on_warning)
			s->ops->on_warning(s->ctx, line);
	}
	for (k = 0; k < b->metas.len;) {
		const char *key = b->metas.ptr + k;
		size_t n;

		k += strlen(key) + 1;
		memcpy(&n, b->metas.ptr + k, sizeof(n));
		k += sizeof(n);
		if (s->ops->on_meta)
			s->ops->on_meta(s->ctx, key, b->metas.ptr + k, n);
		k += n;
	}
	if (b->sink)
		s->ops->sink_merge(s->ctx, b->sink);
	b->sink = NULL;
	if (b->stop)
		s->stop = b->stop;
}

/* Merges every done batch that is next in order. Called with mu held;
 * drops it while merging. */
static void merge_ready(struct pipeline *p)
{
	for (;;) {
		struct batch *b = NULL;
		size_t i;

		for (i = 0; i < p->nb; i++)
			if (p->b[i].state == B_DONE &&
			    p->b[i].seq == p->seq_merge)
				b = &p->b[i];
		if (b == NULL)
			return;
		pthread_mutex_unlock(&p->mu);
		batch_merge(p, b);
		pthread_mutex_lock(&p->mu);
		batch_reset(b);
		b->state = B_FREE;
		p->seq_merge++;
	}
}

static void submit(struct pipeline *p)
{
	if (p->fill == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->fill->state = B_READY;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->mu);
	p->fill = NULL;
}

static void main_run(struct pipeline *p, struct run *r, struct batch *b);

/* With every batch taken, the reading thread decodes one itself rather
 * than wait (so --jobs N starts N - 1 workers). Called with mu held;
 * drops it while working. Returns false when no batch was ready. */
static bool help(struct pipeline *p)
{
	struct batch *pick = NULL;
	struct run r;
	size_t i;

	for (i = 0; i < p->nb; i++)
		if (p->b[i].state == B_READY &&
		    (pick == NULL || p->b[i].seq < pick->seq))
			pick = &p->b[i];
	if (pick == NULL)
		return false;
	pick->state = B_BUSY;
	pthread_mutex_unlock(&p->mu);
	main_run(p, &r, pick);
	batch_process(p, pick, &r);
	pthread_mutex_lock(&p->mu);
	pick->state = B_DONE;
	return true;
}

/* A batch to fill: merges what it can, waits for a free one. */
static struct batch *get_fill(struct pipeline *p)
{
	size_t i;

	if (p->fill)
		return p->fill;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		merge_ready(p);
		for (i = 0; i < p->nb; i++)
			if (p->b[i].state == B_FREE)
				break;
		if (i < p->nb)
			break;
		if (!help(p))
			pthread_cond_wait(&p->done, &p->mu);
	}
	p->fill = &p->b[i];
	p->fill->state = B_BUSY;	/* owned by the reading thread */
	p->fill->seq = p->seq_fill++;
	p->fill->path = wd_xstrdup(p->path);
	p->fill->input = p->input;
	pthread_mutex_unlock(&p->mu);
	return p->fill;
}

/* Waits until every batch handed out is merged (NULL: no workers). */
static void drain(struct pipeline *p)
{
	if (p == NULL)
		return;
	submit(p);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		merge_ready(p);
		if (p->seq_merge == p->seq_fill)
			break;
		if (!help(p))
			pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}

/* ---- entry mode: this thread frames ---- */

static struct item *add_item(struct pipeline *p, size_t need)
{
	struct batch *b = get_fill(p);

	if (b->nitems == p->max_items || b->len + need > BATCH_BYTES) {
		if (b->nitems > 0) {
			submit(p);
			b = get_fill(p);
		}
	}
	return &b->items[b->nitems++];
}

static int pl_entry(void *ctx, const char *bytes, size_t n, uint64_t line,
		    uint64_t offset)
{
	struct pipeline *p = ctx;
	struct item *it = add_item(p, n);
	struct batch *b = p->fill;

	/* An entry is at most WD_ENTRY_MAX_BYTES, and an empty batch holds
	 * 2 * BATCH_BYTES: it always fits. */
	memcpy(b->bytes + b->len, bytes, n);
	it->off = b->len;
	it->len = n;
	it->line = line;
	it->offset = offset;
	it->skip = -1;
	b->len += n;
	return p->s->stop;
}

static void pl_skip(void *ctx, enum wd_skip r, uint64_t line, uint64_t off,
		    const char *detail)
{
	struct pipeline *p = ctx;
	struct item *it = add_item(p, 0);
	struct batch *b = p->fill;

	it->off = b->notes.len;
	(void)wd_buf_adds(&b->notes, detail);
	(void)wd_buf_addc(&b->notes, '\0');
	it->len = 0;
	it->line = line;
	it->offset = off;
	it->skip = (int)r;
}

static void pl_meta(void *ctx, const char *key, const char *val, size_t n)
{
	struct pipeline *p = ctx;

	if (p->s->ops->on_meta)
		p->s->ops->on_meta(p->s->ctx, key, val, n);
}

static const struct wd_framer_ops pl_framer_ops = {
	pl_entry, pl_skip, pl_meta, NULL,
};

/* ---- block mode: this thread reads and cuts ---- */

/* How the input that begins with p[0, n) can be cut into blocks: sets
 * p->at (WD_AT_ELSEWHERE: it cannot, use entry mode). */
static void block_shape(struct pipeline *pl, const char *p, size_t n)
{
	size_t i = 0, j;

	pl->at = WD_AT_ELSEWHERE;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
			 p[i] == '\n'))
		i++;
	if (i < n && p[i] == '{') {
		pl->at = WD_AT_STREAM;
		return;
	}
	if (i >= n || p[i] != '[')
		return;
	/* An array: blocks only when its elements start a line, so that the
	 * first element's indent tells a top-level "},\n  {" from those
	 * inside entries. */
	for (j = i + 1; j < n && j - i - 1 < SEP_MAX &&
	     (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n');
	     j++)
		;
	if (j >= n || p[j] != '{' || !memchr(p + i + 1, '\n', j - i - 1))
		return;
	pl->sep_len = j - i - 1;
	memcpy(pl->sep, p + i + 1, pl->sep_len);
	pl->at = WD_AT_ARRAY;
}

/* Where to end a block of p[0, n): just before the last '{' in column 0
 * (stream), or just after the last top-level-looking comma (array); 0 if
 * there is no such place. */
static size_t block_cut_before(const struct pipeline *pl, const char *p,
			       size_t n, size_t k)
{
	if (pl->at == WD_AT_STREAM) {
		while (k > 1) {
			const char *q = memrchr(p, '\n', k - 1);

			if (q == NULL)
				return 0;
			k = (size_t)(q - p) + 1;	/* just after the \n */
			if (k < n && p[k] == '{')
				return k;
			k--;
		}
		return 0;
	}
	while (k > 1) {
		const char *q = memrchr(p + 1, ',', k - 1);
		size_t c;

		if (q == NULL)
			return 0;
		c = (size_t)(q - p);
		if (p[c - 1] == '}' && c + 1 + pl->sep_len < n &&
		    memcmp(p + c + 1, pl->sep, pl->sep_len) == 0 &&
		    p[c + 1 + pl->sep_len] == '{')
			return c + 1;
		k = c;
	}
	return 0;
}

/* The same, preferring a place before the block size (the first read may
 * bring more). */
static size_t block_cut(const struct pipeline *pl, const char *p, size_t n)
{
	size_t cut = 0;

	if (n > pl->block_bytes)
		cut = block_cut_before(pl, p, n, pl->block_bytes);
	return cut > 0 ? cut : block_cut_before(pl, p, n, n);
}

/* Reads the rest of the input (its first n bytes are in s->chunk) into
 * blocks. Returns the last read's result (<0: a read error). */
static ssize_t read_blocks(struct pipeline *p, struct wd_reader *r,
			   size_t n, struct wd_err *rerr)
{
	struct wd_scanner *s = p->s;
	struct wd_framer_pos pos;
	struct batch *b = get_fill(p);
	bool first = true, eof = false;
	ssize_t got = 0;
	/* Newlines in b->bytes[0, b->len), counted as each read lands,
	 * while its bytes are still in cache (counting a whole block after
	 * it was read cost 4 % of a parallel scan). */
	uint64_t nl;

	memset(&pos, 0, sizeof(pos));
	pos.line = 1;
	memcpy(b->bytes, s->chunk, n);
	b->len = n;
	nl = wd_count_byte(b->bytes, n, '\n');
	for (;;) {
		size_t cut = 0, tail;
		uint64_t tail_nl;

		/* Fill to the block size, then on to a place to cut. */
		while (!eof && s->stop == 0) {
			size_t want;

			if (b->len >= p->block_bytes &&
			    (cut = block_cut(p, b->bytes, b->len)) > 0)
				break;
			if (b->len == BATCH_CAP)
				break;
			want = b->len < p->block_bytes ?
			       p->block_bytes - b->len : p->block_bytes;
			if (want > BATCH_CAP - b->len)
				want = BATCH_CAP - b->len;
			if (want > CHUNK)
				want = CHUNK;
			got = wd_reader_read(r, b->bytes + b->len, want, rerr);
			if (got <= 0) {
				eof = true;
				break;
			}
			count_read(s, (size_t)got);
			nl += wd_count_byte(b->bytes + b->len, (size_t)got,
					    '\n');
			b->len += (size_t)got;
		}
		if (eof || s->stop != 0 || cut == 0)
			cut = b->len;
		b->block = true;
		b->first = first;
		b->pos = pos;
		/* Where the next block begins. */
		tail_nl = wd_count_byte(b->bytes + cut, b->len - cut, '\n');
		pos.line += nl - tail_nl;
		pos.offset += cut;
		pos.prev_nl = cut > 0 && b->bytes[cut - 1] == '\n';
		pos.at = cut < b->len ? p->at : WD_AT_ELSEWHERE;
		tail = b->len - cut;
		b->len = cut;
		b->last = eof && tail == 0;
		submit(p);
		if (tail == 0 && (eof || s->stop != 0))
			break;
		first = false;
		{
			const char *from = b->bytes + cut;

			b = get_fill(p);
			/* b may be the batch just submitted, merged and
			 * free again: its bytes are untouched. */
			memmove(b->bytes, from, tail);
			b->len = tail;
			nl = tail_nl;
		}
	}
	return got;
}

/* ---- the pipeline ---- */

static struct pipeline *pipeline_new(struct wd_scanner *s)
{
	struct pipeline *p = wd_xcalloc(1, sizeof(*p));
	const char *env;
	size_t i;

	p->s = s;
	p->framer = wd_framer_new(&pl_framer_ops, p);
	p->carry = wd_framer_new(s->prefilter ? &blk_fast_ops : &blk_ops,
				 NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->done, NULL);
	p->nb = 2 * s->jobs + 2;
	/* WHYDENIED_BATCH_ITEMS and WHYDENIED_BLOCK_BYTES make batches and
	 * blocks small, so that tests cross many of their boundaries on
	 * small inputs. */
	p->max_items = BATCH_ITEMS;
	env = getenv("WHYDENIED_BATCH_ITEMS");
	if (env) {
		long k = strtol(env, NULL, 10);

		if (k > 0 && k < BATCH_ITEMS)
			p->max_items = (size_t)k;
	}
	/* WHYDENIED_BLOCKS=0: entry mode only (tests compare both). */
	env = getenv("WHYDENIED_BLOCKS");
	p->blocks = !(env && strcmp(env, "0") == 0);
	p->block_bytes = BATCH_BYTES;
	env = getenv("WHYDENIED_BLOCK_BYTES");
	if (env) {
		long k = strtol(env, NULL, 10);

		if (k > 0 && k < (long)BATCH_BYTES)
			p->block_bytes = (size_t)k;
	}
	p->b = wd_xcalloc(p->nb, sizeof(*p->b));
	for (i = 0; i < p->nb; i++) {
		p->b[i].bytes = wd_xmalloc(BATCH_CAP);
		p->b[i].items = wd_xcalloc(BATCH_ITEMS, sizeof(struct item));
		p->b[i].fr = wd_framer_new(s->prefilter ? &blk_fast_ops :
					   &blk_ops, NULL);
		wd_buf_init(&p->b[i].notes, 4u << 20);
		wd_buf_init(&p->b[i].metas, 4u << 20);
		wd_buf_init(&p->b[i].warnings, 8u << 20);
	}
	p->nw = s->jobs - 1;	/* and this thread helps (see help) */
	p->w = wd_xcalloc(p->nw, sizeof(*p->w));
	for (i = 0; i < p->nw; i++) {
		p->w[i].p = p;
		p->w[i].started = pthread_create(&p->w[i].th, NULL,
						 worker_main, &p->w[i]) == 0;
	}
	for (i = 0; i < p->nw; i++)
		if (p->w[i].started)
			return p;
	/* No thread could start: scan on this one. */
	pipeline_free(p);
	s->jobs = 1;
	return NULL;
}

static void pipeline_input(struct pipeline *p, const char *path)
{
	struct wd_scanner *s = p->s;

	p->path = path;
	p->input = s->cur ? (size_t)(s->cur - s->st.inputs) : SIZE_MAX;
	wd_framer_reset(p->framer);
}

/* Scans one input whose first n bytes are in s->chunk. Returns the last
 * read's result (<0: a read error, reported by the caller). */
static ssize_t pipeline_scan(struct pipeline *p, struct wd_reader *r,
			     size_t n, struct wd_err *rerr)
{
	struct wd_scanner *s = p->s;
	ssize_t got = (ssize_t)n;

	pipeline_input(p, s->path);
	block_shape(p, s->chunk, n);
	/* No waiting for the workers at the end: the next input's batches
	 * may start while this one's finish (see warn). */
	if (p->at != WD_AT_ELSEWHERE && p->blocks)
		return read_blocks(p, r, n, rerr);
	while (got > 0 && s->stop == 0) {
		wd_framer_feed(p->framer, s->chunk, (size_t)got);
		if (s->stop != 0)
			break;
		got = wd_reader_read(r, s->chunk, CHUNK, rerr);
		if (got > 0)
			count_read(s, (size_t)got);
	}
	if (s->stop == 0)
		wd_framer_finish(p->framer);
	submit(p);	/* a batch holds one input's entries */
	return got;
}

static void pipeline_free(struct pipeline *p)
{
	size_t i;

	if (p == NULL)
		return;
	drain(p);
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nw; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].th, NULL);
	for (i = 0; i < p->nb; i++) {
		if (p->b[i].sink)
			p->s->ops->sink_drop(p->s->ctx, p->b[i].sink);
		batch_reset(&p->b[i]);
		free(p->b[i].bytes);
		free(p->b[i].items);
		wd_framer_free(p->b[i].fr);
		wd_buf_release(&p->b[i].notes);
		wd_buf_release(&p->b[i].metas);
		wd_buf_release(&p->b[i].warnings);
	}
	if (p->wstate)
		p->s->ops->worker_free(p->s->ctx, p->wstate);
	free(p->b);
	free(p->w);
	wd_framer_free(p->framer);
	wd_framer_free(p->carry);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->done);
	free(p);
}
