/* run_pull.c - pull, roles and auth commands. */
#include "whydenied/run.h"

#include <stdio.h>

int wd_run_pull(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: pull is not implemented yet\n");
	return WD_EXIT_USAGE;
}

int wd_run_roles(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: roles is not implemented yet\n");
	return WD_EXIT_USAGE;
}

int wd_run_auth(const struct wd_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "whydenied: auth is not implemented yet\n");
	return WD_EXIT_USAGE;
}
