/* run_pull.c - the pull command (issue 5: not yet implemented). */
#include "whydenied/run.h"

#include <stdio.h>

int wd_run_pull(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: pull is not implemented yet\n");
	return WD_EXIT_USAGE;
}
