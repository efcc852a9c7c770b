/* whydenied/csvout.h - CSV rows through libcsv, with spreadsheet formula
 * neutralisation.
 *
 * Every cell is written with libcsv's csv_fwrite (quoted, quotes doubled).
 * A cell that starts with '=', '+', '-', '@', a tab or a carriage return
 * is prefixed with a single quote so spreadsheets do not evaluate it
 * (OWASP "CSV injection"); docs/report-formats.md documents this.
 */
#ifndef WHYDENIED_CSVOUT_H
#define WHYDENIED_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wd_csv {
	FILE *fp;
	size_t col;
	bool failed;
};

void wd_csv_init(struct wd_csv *c, FILE *fp);
void wd_csv_cell(struct wd_csv *c, const char *p, size_t n);
void wd_csv_cells(struct wd_csv *c, const char *s);	/* NUL-terminated */
void wd_csv_end_row(struct wd_csv *c);
/* A header row from a comma-separated list of names. */
void wd_csv_header(struct wd_csv *c, const char *names);

#endif
