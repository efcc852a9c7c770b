/* roles.c - permission -> smallest predefined role (see whydenied/roles.h).
 * Built-in table lookup; the imported index comes with issue 7. */
#include "whydenied/roles.h"

#include <stdlib.h>
#include <string.h>

struct row {
	const char *perm;
	const char *role;
	const char *alt;
};

static const struct row builtin[] = {
#include "builtin_roles.inc"
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static int cmp_row(const void *k, const void *r)
{
	return strcmp(k, ((const struct row *)r)->perm);
}

static const struct row *find(const char *perm)
{
	return bsearch(perm, builtin, NBUILTIN, sizeof(builtin[0]), cmp_row);
}

static bool role_fn(void *ctx, const char *const *perms, size_t n,
		    struct wd_buf *out)
{
	const struct row *r;

	(void)ctx;
	if (n != 1)
		return false;
	r = find(perms[0]);
	if (r == NULL)
		return false;
	wd_buf_printf(out, "%s\t%s\t", r->role, r->alt);
	return true;
}

void wd_roles_attach(struct wd_ruleset *rs)
{
	wd_ruleset_set_roles(rs, role_fn, NULL);
}
