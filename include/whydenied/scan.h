/* whydenied/scan.h - reads inputs (files, directories, stdin) and pushes
 * every decoded entry to a callback.
 *
 * reader -> framer -> decoder -> on_entry. Bad entries are skipped,
 * counted by reason and described through on_warning as "FILE:LINE: what";
 * the rest of the input is still read. Memory does not grow with input size.
 */
#ifndef WHYDENIED_SCAN_H
#define WHYDENIED_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "whydenied/entry.h"
#include "whydenied/err.h"
#include "whydenied/framer.h"

#define WD_MAX_INPUT_STATS 10000

enum wd_input_status {
	WD_INPUT_OK,
	WD_INPUT_ERROR,		/* could not be opened or read to the end */
	WD_INPUT_SKIPPED,	/* not JSON (in a directory walk) */
};

struct wd_input_stat {
	char *path;
	enum wd_input_status status;
	char *message;		/* NULL when OK */
	bool gzip;
	bool text;		/* read as a step log (text) */
	uint64_t bytes;		/* bytes after decompression */
	uint64_t entries;
	uint64_t failures;
	uint64_t skipped;
};

struct wd_scan_stats {
	uint64_t bytes;
	uint64_t entries;	/* decoded entries */
	uint64_t failures;
	uint64_t successes;
	uint64_t skipped;	/* entries or stretches skipped */
	uint64_t duplicates;	/* entries seen before (pull retries) */
	uint64_t skipped_by[WD_SKIP__COUNT];
	uint64_t inputs_ok;
	uint64_t inputs_error;
	uint64_t inputs_skipped;
	uint64_t inputs_dropped;	/* not listed: past WD_MAX_INPUT_STATS */
	struct wd_input_stat *inputs;
	size_t ninputs;
	uint64_t reframed;	/* blocks a worker framed on a wrong guess,
				 * framed again by the reading thread */
	char *first_ts;		/* earliest and latest timestamp seen */
	char *last_ts;
};

/* How a non-JSON input is handled. */
enum wd_input_format {
	WD_FORMAT_AUTO,
	WD_FORMAT_JSON,
	WD_FORMAT_TEXT,
};

struct wd_scan_ops {
	/* Every decoded entry (failures and successes); e is borrowed for
	 * the call. Return <0 to stop the scan. */
	int (*on_entry)(void *ctx, struct wd_entry *e);
	/* One line describing a skipped entry or input. */
	void (*on_warning)(void *ctx, const char *msg);
	/* A container's own string value (an entries:list page's
	 * nextPageToken); may be NULL. */
	void (*on_meta)(void *ctx, const char *key, const char *val, size_t n);

	/* Optional: whether a decoded entry is analysed at all (pull's
	 * de-duplication across retried pages). A rejected entry is counted
	 * as a duplicate, not as an entry read. Single-threaded scans only. */
	bool (*accept)(void *ctx, const struct wd_entry *e);

	/* Parallel scanning (optional: all six or none). JSON inputs are
	 * cut into batches (of entries, or of raw input the workers frame;
	 * see src/input/scan.c); worker threads decode a batch into a sink
	 * of its own; sinks are merged by the calling thread in input order,
	 * or dropped when a batch is done again, so that the result is the
	 * same as one thread's. worker_new/worker_free run in the
	 * worker thread; sink_entry may run in any worker at once, each
	 * with its own worker state and sink. */
	void *(*worker_new)(void *ctx);
	void (*worker_free)(void *ctx, void *worker);
	void *(*sink_new)(void *ctx);
	int (*sink_entry)(void *ctx, void *worker, void *sink,
			  struct wd_entry *e);
	void (*sink_merge)(void *ctx, void *sink);	/* and frees it */
	void (*sink_drop)(void *ctx, void *sink);	/* frees it unmerged */
};

/* A text (step log) extractor: feeds lines, emits records via on_entry.
 * Set by the caller; NULL treats text inputs as not JSON. */
struct wd_text_ops {
	void *(*begin)(void *tctx, const char *path);
	int (*line)(void *state, const char *p, size_t n, uint64_t lineno,
		    int (*emit)(void *sctx, struct wd_entry *e), void *sctx);
	int (*end)(void *state, int (*emit)(void *sctx, struct wd_entry *e),
		   void *sctx);
	void *tctx;
};

struct wd_scanner;

struct wd_scanner *wd_scanner_new(const struct wd_scan_ops *ops, void *ctx);
void wd_scanner_free(struct wd_scanner *s);	/* NULL is a no-op */

void wd_scanner_set_format(struct wd_scanner *s, enum wd_input_format f);

/* Scans JSON inputs with this many worker threads (1: none, the
 * default). Needs the parallel ops. */
void wd_scanner_set_jobs(struct wd_scanner *s, size_t jobs);

/* Stops the worker threads (their worker_free runs); the scanner can
 * still be used, single-threaded. */
void wd_scanner_stop_jobs(struct wd_scanner *s);
void wd_scanner_set_text(struct wd_scanner *s, const struct wd_text_ops *t);

/* Scans a file, a directory (recursively, sorted) or "-". Problems with
 * the input are recorded in the stats and reported through on_warning;
 * returns <0 only when on_entry asked to stop (err filled). */
int wd_scan_path(struct wd_scanner *s, const char *path, struct wd_err *err);

/* Scans bytes in memory as one input named name. */
int wd_scan_mem(struct wd_scanner *s, const char *name, const char *p,
		size_t n, struct wd_err *err);

/* Push interface for bytes that arrive in pieces (HTTP bodies): begin an
 * input named name, feed its bytes as they come (JSON only), end it. The
 * input is recorded in the stats like a file. wd_scan_feed returns <0 when
 * on_entry asked to stop. wd_scan_end returns the number of entries the
 * input held. */
void wd_scan_begin(struct wd_scanner *s, const char *name);
int wd_scan_feed(struct wd_scanner *s, const char *p, size_t n);
uint64_t wd_scan_end(struct wd_scanner *s);
/* Marks the current pushed input as failed with msg (e.g. a cut
 * connection); its entries so far stay counted. */
void wd_scan_fail(struct wd_scanner *s, const char *msg);
/* Ends the current pushed input without finishing it: an entry left open
 * is not reported as truncated, because the bytes were cut off and are
 * read again (a retried HTTP page) or were not wanted (--max-entries).
 * note, when not NULL, becomes the input's message. Returns the number of
 * entries the input held. Use instead of wd_scan_end. */
uint64_t wd_scan_abandon(struct wd_scanner *s, const char *note);

const struct wd_scan_stats *wd_scanner_stats(const struct wd_scanner *s);

#endif
