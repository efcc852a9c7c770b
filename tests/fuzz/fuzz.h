/* fuzz.h - the libFuzzer entry points every harness defines. */
#ifndef WD_FUZZ_H
#define WD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
