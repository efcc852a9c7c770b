/* fuzz_filter.c - the Logging filter builder and its checks on arbitrary
 * values: --logs lists, principals, --filter expressions, resource names
 * and time bounds. The input is split on NUL bytes into those fields. A
 * built filter must stay within the API's 20,000 characters. */
#include "fuzz.h"
#include "whydenied/buf.h"
#include "whydenied/filter.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = wd_xstrndup((const char *)data, size);
	const char *f[8] = { "", "", "", "", "", "", "", "" };
	const char *principals[4];
	struct wd_filter_spec spec;
	struct wd_buf out;
	struct wd_err err;
	size_t i, k = 0;
	unsigned logs = 0;

	/* Fields: logs, from, to, extra, resource, principal x3. */
	f[k++] = copy;
	for (i = 0; i < size && k < 8; i++)
		if (copy[i] == '\0')
			f[k++] = copy + i + 1;
	wd_buf_init(&out, 1 << 20);
	(void)wd_filter_check_resource(f[4], &err);
	(void)wd_filter_check_expr(f[3], &err);
	(void)wd_filter_quote(&out, f[5], &err);
	if (wd_filter_parse_logs(&logs, f[0], &err) < 0 || logs == 0)
		logs = WD_LOG_ACTIVITY;
	memset(&spec, 0, sizeof(spec));
	spec.from = f[1][0] ? f[1] : "2026-11-27T00:00:00Z";
	spec.to = f[2][0] ? f[2] : "2026-11-27T01:00:00Z";
	spec.logs = logs;
	principals[0] = f[5];
	principals[1] = f[6];
	principals[2] = f[7];
	spec.principals = principals;
	spec.nprincipals = 3;
	spec.extra = f[3][0] ? f[3] : NULL;
	if (wd_filter_build(&out, &spec, &err) == 0 && out.len > 20000)
		__builtin_trap();
	wd_buf_release(&out);
	free(copy);
	return 0;
}
