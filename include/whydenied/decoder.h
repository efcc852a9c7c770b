/* whydenied/decoder.h - decodes one LogEntry's JSON bytes into a flat record.
 *
 * The bytes come from the framer (one complete object). Parsing uses yajl's
 * callback API; every kept string is copied into the decoder's fixed arena,
 * so a record's views stay valid until the next wd_decoder_decode() call.
 * Besides a LogEntry the decoder accepts a Pub/Sub push envelope (base64
 * LogEntry in message.data or data), a LogEntry nested under "data", and a
 * REST error body {"error":{code,message,status,details}}.
 */
#ifndef WHYDENIED_DECODER_H
#define WHYDENIED_DECODER_H

#include <stddef.h>

#include "whydenied/entry.h"
#include "whydenied/err.h"
#include "whydenied/framer.h"

struct wd_decoder;

struct wd_decoder *wd_decoder_new(void);
void wd_decoder_free(struct wd_decoder *d);	/* NULL is a no-op */

/* Decodes bytes [p, p + n) into e (reset first). On success returns 0.
 * On malformed input returns WD_EFORMAT, sets *reason and fills err with a
 * one-line description. */
int wd_decoder_decode(struct wd_decoder *d, const char *p, size_t n,
		      struct wd_entry *e, enum wd_skip *reason,
		      struct wd_err *err);

/* Empties the per-entry arena (a record decoded elsewhere, by the
 * prefilter, may then keep derived values in it). */
void wd_decoder_clear(struct wd_decoder *d);

/* Copies n bytes into the decoder's per-entry arena (for derived values
 * made after decoding, such as the source). Returns NULL when full. */
const char *wd_decoder_keep(struct wd_decoder *d, const char *p, size_t n);

/* Maps a canonical status name ("PERMISSION_DENIED") to its google.rpc.Code
 * number, or -1. */
int wd_status_code_from_name(const char *p, size_t n);
/* The canonical name of a google.rpc.Code number, or NULL. */
const char *wd_status_name(int code);

#endif
