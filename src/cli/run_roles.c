/* run_roles.c - the roles command (issue 7: not yet implemented). */
#include "whydenied/run.h"

#include <stdio.h>

int wd_run_roles(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: roles is not implemented yet\n");
	return WD_EXIT_USAGE;
}
