/* run_scan.c - the scan command: files, directories and stdin. */
#include "whydenied/run.h"

#include <stdio.h>
#include <unistd.h>

int wd_run_scan(const struct wd_config *cfg)
{
	struct wd_session s;
	struct wd_err err;
	const struct wd_scan_stats *st;
	size_t i;
	bool readable;
	int ret;

	ret = wd_session_begin(&s, cfg);
	if (ret) {
		wd_session_release(&s);
		return ret;
	}
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		size_t jobs = cfg->jobs ? cfg->jobs :
			      (cores > 0 ? (size_t)cores : 1);

		if (jobs > 64)
			jobs = 64;
		wd_scanner_set_jobs(s.scanner, jobs);
	}
	for (i = 0; i < cfg->args.n; i++) {
		wd_err_clear(&err);
		if (wd_scan_path(s.scanner, cfg->args.v[i], &err) < 0) {
			fprintf(stderr, "whydenied: %s\n", err.msg);
			break;
		}
	}
	st = wd_scanner_stats(s.scanner);
	/* An input cut short (a truncated gzip stream) still gave its
	 * entries: that is not "nothing could be read" (--strict makes any
	 * unreadable input exit 3). */
	readable = st->inputs_ok > 0 || st->entries > 0 || st->skipped > 0;
	if (!readable)
		fprintf(stderr, "whydenied: nothing could be read\n");
	ret = wd_session_finish(&s, "scan", readable);
	wd_session_release(&s);
	return ret;
}
