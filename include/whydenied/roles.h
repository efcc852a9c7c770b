/* whydenied/roles.h - permission -> smallest predefined role.
 *
 * A role index maps each permission to the roles holding it, with each
 * role's size and stage. It comes from the user's cache (written by
 * 'whydenied roles update' or 'roles import'), else from a built-in table
 * of the permissions most often denied in provisioning. Ranking: non-basic
 * roles before owner/editor/viewer; service-agent roles never; GA before
 * BETA before others; then fewest permissions; then name.
 */
#ifndef WHYDENIED_ROLES_H
#define WHYDENIED_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "whydenied/buf.h"
#include "whydenied/err.h"
#include "whydenied/rules.h"

struct wd_roles;

/* The built-in table only. */
struct wd_roles *wd_roles_builtin(void);

/* Loads the cached index at path; returns 0 or <0 with err. */
int wd_roles_load(struct wd_roles **out, const char *path, struct wd_err *err);

/* Builds an index from a roles.list response ({"roles":[...]}, several
 * pages concatenated or an array of pages) or gcloud's JSON array. */
int wd_roles_from_json(struct wd_roles **out, const char *p, size_t n,
		       struct wd_err *err);

/* Adds the roles of one more roles.list page (for 'roles update'). */
int wd_roles_add_page(struct wd_roles *r, const char *p, size_t n,
		      char *next_token, size_t token_cap, struct wd_err *err);
struct wd_roles *wd_roles_new(void);

/* Writes the compact index; returns 0 or <0 with err. */
int wd_roles_save(const struct wd_roles *r, const char *path,
		  struct wd_err *err);

void wd_roles_free(struct wd_roles *r);	/* NULL is a no-op */

size_t wd_roles_count(const struct wd_roles *r);	/* roles */
size_t wd_roles_permissions(const struct wd_roles *r);

/* The smallest role holding every permission (and an alternative). note
 * says when only a basic role holds them. Returns false when none. */
bool wd_roles_best(const struct wd_roles *r, const char *const *perms,
		   size_t n, struct wd_buf *role, struct wd_buf *alt,
		   struct wd_buf *note);

/* Up to max candidate roles for one permission, best first, as
 * "role\tpermissions\tstage" lines in out. */
size_t wd_roles_candidates(const struct wd_roles *r, const char *perm,
			   size_t max, struct wd_buf *out);

/* The cache path: $XDG_CACHE_HOME/whydenied/roles.idx or
 * ~/.cache/whydenied/roles.idx. */
int wd_roles_cache_path(struct wd_buf *out);

/* Attaches the best available index (cache, else built-in) to a rule set
 * so that ${role} renders. The index lives until the process ends. */
void wd_roles_attach(struct wd_ruleset *rs);

#endif
