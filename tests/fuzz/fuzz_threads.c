/* fuzz_threads.c - the scanner's ways of sharing work must not change
 * what it finds. Arbitrary bytes are scanned three ways: one thread with
 * the prefilter and its framer fast path; one thread without them; three
 * threads cutting the input into 64-byte blocks (or, for inputs the cutter
 * cannot guess, batches of two entries). Every way must deliver the same
 * entries (insertId, source, failure) in the same order, the same
 * warnings in the same order, and the same counts; a difference aborts.
 * Entries and warnings are compared as two streams, as they reach the
 * user (the report and events on stdout or files, warnings on stderr):
 * with threads a batch's warnings are delivered before its entries. */
#include "fuzz.h"
#include "whydenied/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX (1u << 20)

struct log {
	char *text;		/* one line an entry or warning */
	size_t len;
	int overflow;
};

static void add(struct log *l, const char *tag, const char *p, size_t n)
{
	size_t tl = strlen(tag);

	if (l->overflow || l->len + tl + n + 2 > LOG_MAX) {
		l->overflow = 1;
		return;
	}
	memcpy(l->text + l->len, tag, tl);
	l->len += tl;
	memcpy(l->text + l->len, p, n);
	l->len += n;
	l->text[l->len++] = '\n';
}

static void add_entry(struct log *l, struct wd_entry *e)
{
	struct wd_str id = wd_entry_get(e, WD_F_INSERT_ID);
	struct wd_str src = wd_entry_get(e, WD_F_SOURCE);

	add(l, e->failure ? "F " : "S ", id.ptr ? id.ptr : "", id.len);
	add(l, "  at ", src.ptr ? src.ptr : "", src.len);
}

struct out {
	struct log ent, warn;
};

static int on_entry(void *ctx, struct wd_entry *e)
{
	add_entry(&((struct out *)ctx)->ent, e);
	return 0;
}

static void on_warning(void *ctx, const char *msg)
{
	add(&((struct out *)ctx)->warn, "W ", msg, strlen(msg));
}

/* Parallel ops: a sink is a log of its own, appended at the merge. */
static void *worker_new(void *ctx)
{
	return ctx;
}

static void worker_free(void *ctx, void *w)
{
	(void)ctx;
	(void)w;
}

static void *sink_new(void *ctx)
{
	struct log *k = calloc(1, sizeof(*k));

	(void)ctx;
	if (k == NULL || (k->text = malloc(LOG_MAX)) == NULL)
		abort();
	return k;
}

static int sink_entry(void *ctx, void *w, void *sink, struct wd_entry *e)
{
	(void)ctx;
	(void)w;
	add_entry(sink, e);
	return 0;
}

static void sink_drop(void *ctx, void *sink)
{
	struct log *k = sink;

	(void)ctx;
	free(k->text);
	free(k);
}

static void sink_merge(void *ctx, void *sink)
{
	struct log *l = &((struct out *)ctx)->ent, *k = sink;

	if (k->overflow || l->len + k->len > LOG_MAX) {
		l->overflow = 1;
	} else {
		memcpy(l->text + l->len, k->text, k->len);
		l->len += k->len;
	}
	sink_drop(ctx, sink);
}

static const struct wd_scan_ops ops = {
	.on_entry = on_entry,
	.on_warning = on_warning,
	.worker_new = worker_new,
	.worker_free = worker_free,
	.sink_new = sink_new,
	.sink_entry = sink_entry,
	.sink_merge = sink_merge,
	.sink_drop = sink_drop,
};

static void scan(struct out *o, const uint8_t *data, size_t size,
		 const char *prefilter, size_t jobs)
{
	struct wd_scanner *s;
	const struct wd_scan_stats *st;
	struct wd_err err;
	char counts[128];
	int k;

	setenv("WHYDENIED_PREFILTER", prefilter, 1);
	o->ent.len = o->warn.len = 0;
	o->ent.overflow = o->warn.overflow = 0;
	s = wd_scanner_new(&ops, o);
	unsetenv("WHYDENIED_PREFILTER");
	if (jobs > 1)
		wd_scanner_set_jobs(s, jobs);
	wd_err_clear(&err);
	(void)wd_scan_mem(s, "in.json", (const char *)data, size, &err);
	st = wd_scanner_stats(s);
	k = snprintf(counts, sizeof(counts), "entries %llu failures %llu "
		     "skipped %llu", (unsigned long long)st->entries,
		     (unsigned long long)st->failures,
		     (unsigned long long)st->skipped);
	add(&o->ent, "C ", counts, (size_t)k);
	wd_scanner_free(s);
}

static int same(const struct log *a, const struct log *b)
{
	return a->overflow || b->overflow ||
	       (a->len == b->len && memcmp(a->text, b->text, a->len) == 0);
}

static void show(const char *what, const struct out *o)
{
	fprintf(stderr, "--- %s\n%.*s%.*s", what, (int)o->ent.len, o->ent.text,
		(int)o->warn.len, o->warn.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out way[3];
	static int ready;
	int k;

	if (!ready) {
		for (k = 0; k < 3; k++) {
			way[k].ent.text = malloc(LOG_MAX);
			way[k].warn.text = malloc(LOG_MAX);
			if (!way[k].ent.text || !way[k].warn.text)
				abort();
		}
		/* Tiny blocks and batches: many boundaries on small inputs. */
		setenv("WHYDENIED_BLOCK_BYTES", "64", 1);
		setenv("WHYDENIED_BATCH_ITEMS", "2", 1);
		ready = 1;
	}
	scan(&way[0], data, size, "1", 1);
	scan(&way[1], data, size, "0", 1);
	scan(&way[2], data, size, "1", 3);
	for (k = 1; k < 3; k++) {
		if (same(&way[0].ent, &way[k].ent) &&
		    same(&way[0].warn, &way[k].warn))
			continue;
		show("one thread", &way[0]);
		show(k == 1 ? "prefilter off" : "three threads", &way[k]);
		abort();
	}
	return 0;
}
