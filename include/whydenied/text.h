/* whydenied/text.h - failure records from a failed step's own output:
 * Terraform, gcloud, REST error bodies, Go gRPC and Python api_core text.
 *
 * The extractor is fed line by line (bounded), keeps a small state machine
 * per input, and emits one flat record per error it recognises, with
 * tool=terraform|gcloud|rest|grpc|python and, for Terraform, the resource
 * address and file:line as location. Classification is then done by the
 * same rules as audit-log entries.
 */
#ifndef WHYDENIED_TEXT_H
#define WHYDENIED_TEXT_H

#include "whydenied/scan.h"

/* The extractor's operations, for wd_scanner_set_text(). */
const struct wd_text_ops *wd_text_ops(void);

#endif
