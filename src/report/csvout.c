/* csvout.c - CSV rows via libcsv (see whydenied/csvout.h). */
#include "whydenied/csvout.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

void wd_csv_init(struct wd_csv *c, FILE *fp)
{
	c->fp = fp;
	c->col = 0;
	c->failed = false;
}

/* Writes p[0, n) as one quoted field: libcsv quotes it into a buffer on
 * the stack, which goes out in one fwrite (csv_fwrite calls fputc for
 * every byte); a field too long for the buffer goes through csv_fwrite. */
static void field(struct wd_csv *c, const char *p, size_t n)
{
	char out[8192];
	size_t k = csv_write(out, sizeof(out), p, n);

	if (k <= sizeof(out)) {
		if (fwrite(out, 1, k, c->fp) != k)
			c->failed = true;
	} else if (csv_fwrite(c->fp, p, n) != 0) {
		c->failed = true;
	}
}

void wd_csv_cell(struct wd_csv *c, const char *p, size_t n)
{
	if (p == NULL) {
		p = "";
		n = 0;
	}
	if (c->col > 0 && fputc(',', c->fp) == EOF)
		c->failed = true;
	if (n > 0 && strchr("=+-@\t\r", p[0]) != NULL) {
		/* Formula guard: the cell becomes text in a spreadsheet. */
		char buf[4096];
		size_t k = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;

		buf[0] = '\'';
		memcpy(buf + 1, p, k);
		if (k == n) {
			field(c, buf, n + 1);
		} else {
			/* Long cell: quote the guard and the rest as one
			 * field by writing the whole through a copy. */
			char *big = malloc(n + 1);

			if (big == NULL) {
				c->failed = true;
			} else {
				big[0] = '\'';
				memcpy(big + 1, p, n);
				field(c, big, n + 1);
				free(big);
			}
		}
	} else {
		field(c, p, n);
	}
	c->col++;
}

void wd_csv_cells(struct wd_csv *c, const char *s)
{
	wd_csv_cell(c, s, s ? strlen(s) : 0);
}

void wd_csv_end_row(struct wd_csv *c)
{
	if (fputc('\n', c->fp) == EOF)
		c->failed = true;
	c->col = 0;
}

void wd_csv_header(struct wd_csv *c, const char *names)
{
	const char *p = names, *q;

	for (;;) {
		q = strchr(p, ',');
		wd_csv_cell(c, p, q ? (size_t)(q - p) : strlen(p));
		if (!q)
			break;
		p = q + 1;
	}
	wd_csv_end_row(c);
}
