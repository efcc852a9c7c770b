/* whydenied/lite.h - the prefilter: a validating one-pass scan that
 * decides, without the full parser, that an entry is a success.
 *
 * Most audit entries are successes, and a success contributes only counts,
 * its timestamp, log and the few fields the hints use (method, principal,
 * authorization entries). wd_lite_decode() validates the whole object as
 * strict JSON (the grammar yajl accepts), and when the entry is plainly a
 * success fills exactly those fields, as views into the input. Anything it
 * is not sure of - a status that is not {} / {"code":0} / {"message":"OK"},
 * escapes or non-ASCII bytes in a value it keeps, a key written with
 * escapes, an envelope or REST error body, duplicate keys it tracks, any
 * syntax it does not accept - makes it defer to the full decoder. Deferring
 * is always safe; accepting must give the same record the decoder would
 * (tests/fuzz/fuzz_decoder.c and tests/diff/prefilter.sh check both).
 */
#ifndef WHYDENIED_LITE_H
#define WHYDENIED_LITE_H

#include <stddef.h>
#include <stdint.h>

#include "whydenied/entry.h"

enum wd_lite_result {
	WD_LITE_DEFER = 0,	/* use the full decoder */
	WD_LITE_SUCCESS = 1,	/* e holds the success's fields */
};

/* Scans one JSON object at p (leading whitespace allowed). On success sets
 * *end to the offset just past the object. */
enum wd_lite_result wd_lite_decode(const char *p, size_t n,
				   struct wd_entry *e, size_t *end);

/* The same, also counting the newlines passed inside the object (only
 * whitespace can hold them: a string with a raw newline defers). */
enum wd_lite_result wd_lite_decode_nl(const char *p, size_t n,
				      struct wd_entry *e, size_t *end,
				      uint64_t *newlines);

/* How wd_lite_decode_path decides, for the tests that compare them: the
 * fast path (a structural index, AVX2 when the CPU has it) falling back
 * to the byte walker, the fast path without AVX2, or the walker alone.
 * All must give the same answers. */
enum wd_lite_path {
	WD_LITE_PATH_AUTO,
	WD_LITE_PATH_PORTABLE,
	WD_LITE_PATH_WALK,
};

enum wd_lite_result wd_lite_decode_path(const char *p, size_t n,
					struct wd_entry *e, size_t *end,
					uint64_t *newlines,
					enum wd_lite_path path);

/* The log kind of a logName ("activity", ..., "other"), or NULL when s is
 * empty; shared with the full decoder. */
const char *wd_log_kind(struct wd_str log_name);

#endif
