/* whydenied/roles.h - permission -> predefined role to grant.
 *
 * A role index maps each permission to the predefined roles holding it,
 * with each role's size and stage. It comes from the user's cache (written
 * by 'whydenied roles update' or 'roles import'), else from a built-in table
 * of the permissions most often denied in provisioning, which names one
 * role and one alternative per permission.
 *
 * Ranking of the roles holding a permission, best first:
 *   - never deprecated or DISABLED roles, nor service-agent roles (the name
 *     contains "serviceAgent", in any case);
 *   - non-basic roles before roles/owner, roles/editor and roles/viewer;
 *   - roles of the permission's own service first: roles/<svc>.*, where
 *     <svc> is the permission's text before the first '.' (for a group of
 *     permissions: the service of any of them);
 *   - stage GA (or none) before BETA before any other stage;
 *   - fewer included permissions; then the smaller name.
 *
 * A struct wd_roles is immutable once made and may be shared between
 * threads. Names and stages it returns are borrowed from it.
 */
#ifndef WHYDENIED_ROLES_H
#define WHYDENIED_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "whydenied/buf.h"
#include "whydenied/err.h"
#include "whydenied/rules.h"

struct wd_roles;
struct wd_roles_builder;

/* Caps on what an index is built from; passing one is WD_ELIMIT, except a
 * name or permission too long, which skips that role (and counts it). */
#define WD_ROLES_MAX_INPUT	((size_t)512 << 20)	/* JSON bytes */
#define WD_ROLES_MAX_ROLES	(1u << 18)
#define WD_ROLES_MAX_PERMS	(1u << 20)	/* distinct permissions */
#define WD_ROLES_MAX_GRANTS	(1u << 24)	/* role-permission pairs */
#define WD_ROLES_MAX_NAME	256		/* a role or permission name */
#define WD_ROLES_MAX_TOKEN	4096		/* nextPageToken */
#define WD_ROLES_MAX_DEPTH	32		/* JSON nesting */

/* The built-in table. Free it like any other index. */
struct wd_roles *wd_roles_builtin(void);
bool wd_roles_is_builtin(const struct wd_roles *r);

/* Loads the index file at path (written by wd_roles_save). Returns 0 and
 * sets *out, or <0 with err: WD_EIO when it cannot be read (errno is
 * kept), WD_EFORMAT when it is not a valid index of this version. */
int wd_roles_load(struct wd_roles **out, const char *path, struct wd_err *err);

/* Writes r as an index file, atomically (a temporary file renamed over
 * path), creating missing parent directories. The built-in table cannot be
 * saved (WD_EUSAGE). */
int wd_roles_save(const struct wd_roles *r, const char *path,
		  struct wd_err *err);

void wd_roles_free(struct wd_roles *r);	/* NULL is a no-op */

/* Builds an index from JSON: roles.list responses ({"roles":[...],
 * "nextPageToken":...}), several concatenated, or an array of them, or
 * gcloud's JSON array of roles. */
int wd_roles_from_json(struct wd_roles **out, const char *p, size_t n,
		       struct wd_err *err);

/* The same, streamed: feed the bytes in any chunks (a stream may hold
 * several documents), then finish. After an error the builder can only be
 * freed. */
struct wd_roles_builder *wd_roles_builder_new(void);
int wd_roles_builder_feed(struct wd_roles_builder *b, const char *p,
			  size_t n, struct wd_err *err);
/* The nextPageToken of the last complete document ("" when it had none). */
const char *wd_roles_builder_next_token(const struct wd_roles_builder *b);
/* Roles skipped (no name, a name or permission over WD_ROLES_MAX_NAME) and
 * repeated (a name seen before; the first wins). */
size_t wd_roles_builder_skipped(const struct wd_roles_builder *b);
size_t wd_roles_builder_duplicates(const struct wd_roles_builder *b);
/* Ends the stream and makes the index; b stays to be freed. */
int wd_roles_builder_finish(struct wd_roles **out, struct wd_roles_builder *b,
			    struct wd_err *err);
void wd_roles_builder_free(struct wd_roles_builder *b);	/* NULL: no-op */

/* Roles and distinct permissions in the index (the built-in table: 0 and
 * its rows). */
size_t wd_roles_count(const struct wd_roles *r);
size_t wd_roles_permissions(const struct wd_roles *r);
/* Bytes of the index as saved (0 for the built-in table). */
size_t wd_roles_size(const struct wd_roles *r);

struct wd_role_info {
	const char *name;
	const char *stage;	/* NULL when unknown (built-in table) */
	size_t permissions;	/* 0 when unknown (built-in table) */
	bool basic;		/* roles/owner, roles/editor, roles/viewer */
};

/* The roles holding perm, best first: fills up to max of them into out
 * and returns how many there are in all (0: none, or unknown). */
size_t wd_roles_candidates(const struct wd_roles *r, const char *perm,
			   struct wd_role_info *out, size_t max);

/* The best role holding every one of perms[0..n), and the next best (alt
 * is left empty when there is none). note says when only a basic role
 * holds them, when no single role holds them all (the role is then the
 * best for the first permission that has one), and, with the built-in
 * table, which permissions the role may not cover. Returns false, with
 * the buffers untouched, when no role holds any of them. */
bool wd_roles_best(const struct wd_roles *r, const char *const *perms,
		   size_t n, struct wd_buf *role, struct wd_buf *alt,
		   struct wd_buf *note);

/* wd_roles_best() as the rules engine wants it: appends
 * "role\talternative\tnote" to out. */
bool wd_roles_format(const struct wd_roles *r, const char *const *perms,
		     size_t n, struct wd_buf *out);

/* The cache path: $XDG_CACHE_HOME/whydenied/roles.idx when XDG_CACHE_HOME
 * is an absolute path, else $HOME/.cache/whydenied/roles.idx. Returns 0,
 * or WD_EUSAGE when neither variable is usable. */
int wd_roles_cache_path(struct wd_buf *out);

/* Attaches the best available index (the cache, else the built-in table)
 * to a rule set so that ${role} renders, and returns it: the caller frees
 * it (wd_roles_free) once the rule set is freed. */
struct wd_roles *wd_roles_attach(struct wd_ruleset *rs);

#endif
