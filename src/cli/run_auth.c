/* run_auth.c - the auth command (issue 5: not yet implemented). */
#include "whydenied/run.h"

#include <stdio.h>

int wd_run_auth(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: auth is not implemented yet\n");
	return WD_EXIT_USAGE;
}
