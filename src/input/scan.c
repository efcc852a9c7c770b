/* scan.c - inputs to decoded entries (see whydenied/scan.h). */
#include "whydenied/scan.h"
#include "whydenied/buf.h"
#include "whydenied/decoder.h"
#include "whydenied/input.h"
#include "whydenied/lite.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK (256u * 1024u)
#define WALK_MAX_DEPTH 32
#define LINE_MAX_BYTES (1024u * 1024u)

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

static void warn(struct wd_scanner *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	if (s->ops->on_warning)
		s->ops->on_warning(s->ctx, s->msg);
}

static void note_ts(struct wd_scanner *s, struct wd_str ts)
{
	/* RFC 3339 UTC timestamps of equal precision compare as text;
	 * different precisions compare correctly up to the seconds. */
	if (!ts.ptr || ts.len == 0 || ts.len > 64)
		return;
	if (!s->st.first_ts || strncmp(ts.ptr, s->st.first_ts, ts.len) < 0 ||
	    (strlen(s->st.first_ts) > ts.len &&
	     strncmp(ts.ptr, s->st.first_ts, ts.len) == 0)) {
		free(s->st.first_ts);
		s->st.first_ts = wd_xstrndup(ts.ptr, ts.len);
	}
	if (!s->st.last_ts || strncmp(ts.ptr, s->st.last_ts, ts.len) > 0) {
		free(s->st.last_ts);
		s->st.last_ts = wd_xstrndup(ts.ptr, ts.len);
	}
}

/* Hands a decoded record on; shared by JSON and text inputs. */
static int emit(void *sctx, struct wd_entry *e)
{
	struct wd_scanner *s = sctx;
	int ret;

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

static void count_skip(struct wd_scanner *s, enum wd_skip r)
{
	s->st.skipped++;
	s->st.skipped_by[r]++;
	if (s->cur)
		s->cur->skipped++;
}

static int on_entry(void *ctx, const char *p, size_t n, uint64_t line,
		    uint64_t offset)
{
	struct wd_scanner *s = ctx;
	struct wd_err err;
	enum wd_skip reason = WD_SKIP_SYNTAX;
	char src[64];
	const char *sp;
	int k;

	size_t end;

	(void)offset;
	if (s->prefilter &&
	    wd_lite_decode(p, n, s->entry, &end) == WD_LITE_SUCCESS) {
		/* A plain success: no full parse (see whydenied/lite.h). */
		s->entry->file = s->path;
		s->entry->line = line;
		s->entry->offset = offset;
		return emit(s, s->entry);
	}
	wd_err_clear(&err);
	if (wd_decoder_decode(s->dec, p, n, s->entry, &reason, &err) < 0) {
		count_skip(s, reason);
		warn(s, "%s:%llu: %s", s->path, (unsigned long long)line,
		     err.msg);
		return 0;
	}
	s->entry->file = s->path;
	s->entry->line = line;
	s->entry->offset = offset;
	k = snprintf(src, sizeof(src), ":%llu", (unsigned long long)line);
	{
		struct wd_buf b;

		wd_buf_init(&b, 4096 + sizeof(src));
		if (wd_buf_add(&b, s->path, strlen(s->path) > 4096 ? 4096 :
			       strlen(s->path)) == 0 &&
		    wd_buf_add(&b, src, (size_t)k) == 0) {
			sp = wd_decoder_keep(s->dec, b.ptr, b.len);
			if (sp)
				wd_entry_add(s->entry, WD_F_SOURCE, sp, b.len);
		}
		wd_buf_release(&b);
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

static const struct wd_framer_ops framer_ops = { on_entry, on_skip, on_meta };

struct wd_scanner *wd_scanner_new(const struct wd_scan_ops *ops, void *ctx)
{
	struct wd_scanner *s = wd_xcalloc(1, sizeof(*s));

	s->ops = ops;
	s->ctx = ctx;
	s->framer = wd_framer_new(&framer_ops, s);
	s->dec = wd_decoder_new();
	s->entry = wd_xmalloc(sizeof(*s->entry));
	s->chunk = wd_xmalloc(CHUNK);
	s->st.inputs = wd_xcalloc(16, sizeof(*s->st.inputs));
	/* WHYDENIED_PREFILTER=0 turns the prefilter off (differential tests
	 * and benchmarks compare both). */
	s->prefilter = !(getenv("WHYDENIED_PREFILTER") &&
			 strcmp(getenv("WHYDENIED_PREFILTER"), "0") == 0);
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
		if (n > 0) {
			s->st.bytes += (uint64_t)n;
			if (s->cur)
				s->cur->bytes += (uint64_t)n;
		}
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
		return p[i] == '{' || p[i] == '[';
	}
	*empty = true;
	return true;
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
	if (n > 0) {
		s->st.bytes += (uint64_t)n;
		if (in)
			in->bytes += (uint64_t)n;
	}
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
		if (in)
			in->text = true;
		s->st.inputs_ok++;
		if (scan_text(s, r, n) < 0 && s->stop == 0) {
			input_failed(s, in, WD_INPUT_ERROR, rerr.msg);
			s->st.inputs_ok--;
		}
		return s->stop;
	}
	wd_framer_reset(s->framer);
	if (!empty)
		s->st.inputs_ok++;
	while (n > 0 && s->stop == 0) {
		if (wd_framer_feed(s->framer, s->chunk, (size_t)n) < 0)
			break;
		n = wd_reader_read(r, s->chunk, CHUNK, &rerr);
		if (n > 0) {
			s->st.bytes += (uint64_t)n;
			if (in)
				in->bytes += (uint64_t)n;
		}
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

static int walk(struct wd_scanner *s, const char *dir, int depth,
		uint64_t *files)
{
	DIR *dp;
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
	dp = opendir(dir);
	if (dp == NULL) {
		snprintf(msg, sizeof(msg), "cannot open directory '%s': %s",
			 dir, strerror(errno));
		input_failed(s, add_input(s, dir), WD_INPUT_ERROR, msg);
		return 0;
	}
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
			ret = walk(s, p.ptr, depth + 1, files);
		} else if (S_ISREG(sb.st_mode)) {
			(*files)++;
			ret = scan_file(s, p.ptr, true);
		}
		wd_buf_release(&p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int wd_scan_path(struct wd_scanner *s, const char *path, struct wd_err *err)
{
	struct stat sb;
	int ret;

	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		uint64_t files = 0, before_ok = s->st.inputs_ok;
		char msg[1200];

		ret = walk(s, path, 0, &files);
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
	if (ret < 0)
		return wd_err_set(err, ret, "scan stopped");
	return 0;
}

int wd_scan_mem(struct wd_scanner *s, const char *name, const char *p,
		size_t n, struct wd_err *err)
{
	struct wd_reader *r;
	int ret;

	if (wd_reader_open_mem(&r, p, n, err) < 0)
		return err->code;
	ret = scan_reader(s, r, name, false);
	wd_reader_close(r);
	if (ret < 0)
		return wd_err_set(err, ret, "scan stopped");
	return 0;
}

void wd_scan_begin(struct wd_scanner *s, const char *name)
{
	s->push_name = wd_xstrdup(name);
	s->path = s->push_name;
	s->cur = add_input(s, name);
	s->push_entries = s->st.entries;
	s->st.inputs_ok++;
	wd_framer_reset(s->framer);
}

int wd_scan_feed(struct wd_scanner *s, const char *p, size_t n)
{
	s->st.bytes += n;
	if (s->cur)
		s->cur->bytes += n;
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
