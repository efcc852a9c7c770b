/* whydenied/jdom.h - a small JSON tree with source positions, for rule
 * files (not for log input, which is streamed).
 *
 * Built with yajl's callback parser (comments allowed); every node records
 * the line and column where it ends in the source, so problems can be
 * reported as FILE:LINE:COL. The tree owns all its memory.
 */
#ifndef WHYDENIED_JDOM_H
#define WHYDENIED_JDOM_H

#include <stdbool.h>
#include <stddef.h>

#include "whydenied/err.h"

enum wd_jtype { WD_J_NULL, WD_J_BOOL, WD_J_NUM, WD_J_STR, WD_J_OBJ, WD_J_ARR };

struct wd_jnode {
	enum wd_jtype type;
	char *str;		/* WD_J_STR text, WD_J_NUM text */
	size_t len;
	bool b;
	/* WD_J_OBJ: keys[i] -> kids[i]; WD_J_ARR: kids[i]. */
	char **keys;
	struct wd_jnode **kids;
	size_t n;
	unsigned line, col;
};

/* Parses text [p, p + n). Limits: 64 levels, 8 MiB. On error returns <0
 * and err holds "LINE:COL: message". */
int wd_jdom_parse(struct wd_jnode **out, const char *p, size_t n,
		  struct wd_err *err);
void wd_jdom_free(struct wd_jnode *j);	/* NULL is a no-op */

/* The value of key in an object, or NULL. */
const struct wd_jnode *wd_jdom_get(const struct wd_jnode *obj, const char *key);

/* Serialises j as compact JSON into a new string (caller frees). */
char *wd_jdom_to_json(const struct wd_jnode *j, size_t *len);

#endif
