/* whydenied/text.h - failure records from a failed step's own output:
 * Terraform, gcloud, REST error bodies, Go, Python and Node client text.
 *
 * The extractor is fed line by line (lines are capped by the scanner) and
 * keeps a small state machine per input; every block it gathers across
 * lines (a Details JSON array, gcloud's YAML, Python details, a REST body)
 * is capped at 256 KiB and given up past that, so memory does not grow
 * with the input. GitHub Actions timestamps (kept as the record's
 * timestamp), ANSI escapes, "##[...]" commands and Terraform's box
 * gutters are removed first.
 *
 * It emits one flat record per error it recognises, made by decoding the
 * REST error body the tool rendered with the audit-log decoder, so the
 * same fields are filled and the same rules classify it:
 *   terraform  "Error: ... googleapi: Error 403: msg" (+ "Details:" JSON,
 *              ", reason" line), "rpc error: code = X desc = msg",
 *              "Error code N, message: msg", boxed or not, or
 *              `terraform apply -json` diagnostics; location is
 *              "ADDRESS (FILE:LINE)" from "with ADDRESS," / "on FILE line N"
 *   gcloud     "ERROR: (gcloud.x) STATUS: msg" + YAML details,
 *              "Could not fetch resource:" + " - msg" items (one each)
 *   rest       {"error":{...}} or a bare Status object in a log line,
 *              possibly pretty-printed over lines; googleapi text outside
 *              Terraform
 *   grpc       Go "rpc error: ..." + "error details: name = ..." lines,
 *              Java StatusRuntimeException, a line "STATUS: msg"
 *   python     "google.api_core.exceptions.X: 403 msg [details]" (protobuf
 *              text or dict reprs), googleapiclient HttpError
 *   node       "Error: 7 PERMISSION_DENIED: msg"
 * Each record also gets tool, source ("FILE:LINE" of its first line, or of
 * its Terraform diagnostic's "Error:" line), and when the text names them,
 * project and principal (gcloud's "authenticated as"). Records are
 * failures even without a status code (gcloud messages without one).
 */
#ifndef WHYDENIED_TEXT_H
#define WHYDENIED_TEXT_H

#include "whydenied/scan.h"

/* The extractor's operations, for wd_scanner_set_text(). Thread-safe:
 * all state is per input (begin .. end). */
const struct wd_text_ops *wd_text_ops(void);

#endif
