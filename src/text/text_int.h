/* text_int.h - what the step-log extractor's files share (src/text/).
 *
 * text.c runs the per-input state machine; norm.c turns a raw log line into
 * its content (GitHub Actions timestamp, ANSI escapes, Terraform gutters
 * removed); details.c turns the error details each tool prints (Go
 * "error details:" lines, gcloud YAML, Python protobuf text and dict
 * reprs) into the JSON a REST error body would hold, so that the decoder
 * fills the record exactly as it does for audit entries.
 */
#ifndef WHYDENIED_TEXT_INT_H
#define WHYDENIED_TEXT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "whydenied/buf.h"

/* Cap of one multi-line block kept while reading (a Details JSON array,
 * gcloud YAML, Python details, a REST body, a Terraform -json summary). A
 * block past the cap is given up: the record keeps what came before it. */
#define WD_TX_BLOCK_MAX (256u * 1024u)
/* Cap of an error message (continuation lines included). */
#define WD_TX_MSG_MAX (64u * 1024u)

/* One log line after normalisation. */
struct wd_tx_line {
	const char *p;		/* content after the prefixes */
	size_t n;
	const char *ts;		/* GitHub Actions timestamp, or NULL */
	size_t ts_len;
	bool gutter;		/* had a Terraform "│" gutter */
	bool box_open;		/* a Terraform "╷" line */
	bool box_close;		/* a Terraform "╵" line */
};

/* Normalises the raw line [p, p + n) into *out: drops a trailing CR, a
 * leading GitHub Actions timestamp (kept in ts), ANSI escape sequences, a
 * "##[error]"-style command and a Terraform gutter. scratch (capped by the
 * caller) holds the line when escapes had to be removed; out points into
 * it or into p. */
void wd_tx_normalize(struct wd_tx_line *out, const char *p, size_t n,
		     struct wd_buf *scratch);

/* The line without leading and trailing blanks. */
struct wd_str wd_tx_trim(const char *p, size_t n);

/* Finds lit in [p, p + n); NULL when absent. */
const char *wd_tx_find(const char *p, size_t n, const char *lit);

/* Appends [p, p + n) as a JSON string (quoted, escaped; bytes that are not
 * valid UTF-8 become U+FFFD). Returns 0 or WD_ELIMIT. */
int wd_tx_json_str(struct wd_buf *b, const char *p, size_t n);

/* Bracket balance of a JSON-like value read in pieces: strings (and, with
 * single, '...' strings) are skipped. */
struct wd_tx_bal {
	int depth;
	char quote;		/* inside a string opened by this quote */
	bool esc;
	bool started;		/* the first bracket was seen */
	bool done;		/* back at depth 0 after it */
};

/* Feeds bytes; returns how many were used: up to and including the
 * bracket that closes the value (done is then set), or n. */
size_t wd_tx_bal_feed(struct wd_tx_bal *b, const char *p, size_t n,
		      bool single);

/* Converts one Go "error details: name = X ..." line (the part after
 * "error details: ") into a JSON detail object appended to items,
 * preceded by a comma when items is not empty. Returns 0, or <0 when the
 * line is not understood or the cap was reached. */
int wd_tx_go_detail(struct wd_buf *items, const char *p, size_t n);

/* Converts gcloud's YAML rendering of status details (a sequence of
 * mappings, "- '@type': ...") into a JSON array appended to out. Returns
 * 0 or <0. */
int wd_tx_yaml_details(struct wd_buf *out, const char *p, size_t n);

/* Converts Python's rendering of details - a list of protobuf messages in
 * text format ([reason: "X" domain: "Y" metadata { key: "k" value: "v" }])
 * or of dicts ([{'@type': '...', 'reason': 'X'}]) - into a JSON array
 * appended to out. Returns 0 or <0. */
int wd_tx_py_details(struct wd_buf *out, const char *p, size_t n);

#endif
