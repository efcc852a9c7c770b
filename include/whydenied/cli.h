/* whydenied/cli.h - the command line: one option table drives parsing and
 * --help. */
#ifndef WHYDENIED_CLI_H
#define WHYDENIED_CLI_H

#include <stdio.h>

#include "whydenied/config.h"
#include "whydenied/err.h"

/* Parses argv into cfg (defaults first). Returns 0, 1 when help or
 * version was printed (exit 0), or WD_EUSAGE with err set. */
int wd_cli_parse(struct wd_config *cfg, int argc, char **argv,
		 struct wd_err *err);

/* Prints the help of a command (or the overview for -1) to fp. */
void wd_cli_help(FILE *fp, int command);

#endif
