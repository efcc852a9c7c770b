/* roles_int.h - the role index, shared by the files of src/roles/.
 *
 * An index is one block of bytes, the same in memory and on disk, so that
 * loading is a read and a bounds check. All numbers are uint32 in the
 * writer's byte order (the header says which; a foreign one is refused).
 *
 *   header   64 bytes: magic "WDROLES\x1a", version, byte-order mark,
 *            nroles, nperms, nslots, npost, nstr, total size, zeros
 *   roles    nroles x {name, stage, permissions, flags}   (16 bytes)
 *   perms    nperms x {name, first posting, postings}     (12 bytes)
 *   slots    nslots x (perm index + 1, 0 = empty): open addressing,
 *            FNV-1a of the name, linear probing; nslots a power of two
 *            greater than nperms
 *   post     npost x role index
 *   strings  NUL-terminated names; name fields are offsets into it
 *
 * Roles are numbered in the order (stage: GA, BETA, other; permissions;
 * name), so that a smaller role index ranks first once basic roles and
 * the same-service rule have been applied. Permissions are sorted by name.
 * A permission's postings list the roles holding it that may be suggested
 * (no deprecated, disabled or service-agent role), best first.
 */
#ifndef WD_ROLES_INT_H
#define WD_ROLES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "whydenied/err.h"

#define WD_IDX_MAGIC "WDROLES\x1a"
#define WD_IDX_VERSION 1u
#define WD_IDX_BOM 0x01020304u
#define WD_IDX_HEADER 64u
#define WD_IDX_ROLE 16u
#define WD_IDX_PERM 12u

#define WD_ROLE_BASIC 1u	/* roles/owner, roles/editor, roles/viewer */
#define WD_ROLE_IGNORED 2u	/* deprecated, disabled or a service agent */

struct wd_roles {
	bool builtin;
	unsigned char *blob;	/* owned; the index bytes */
	size_t size;
	uint32_t nroles, nperms, nslots, npost, nstr;
	const unsigned char *roles, *perms, *slots, *post;
	const char *str;
};

static inline uint32_t wd_idx_get(const unsigned char *p, size_t i)
{
	uint32_t v;

	memcpy(&v, p + 4 * i, 4);
	return v;
}

static inline void wd_idx_put(unsigned char *p, size_t i, uint32_t v)
{
	memcpy(p + 4 * i, &v, 4);
}

static inline uint32_t wd_idx_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Takes blob (freed on error too) and checks every offset and count, so
 * that no later access can leave it. Returns 0 or WD_EFORMAT. */
int wd_idx_open(struct wd_roles *r, unsigned char *blob, size_t size,
		struct wd_err *err);

/* Field accessors; i is in range. */
static inline const char *wd_idx_role_name(const struct wd_roles *r,
					   uint32_t i)
{
	return r->str + wd_idx_get(r->roles, (size_t)i * 4);
}

static inline const char *wd_idx_role_stage(const struct wd_roles *r,
					    uint32_t i)
{
	return r->str + wd_idx_get(r->roles, (size_t)i * 4 + 1);
}

static inline uint32_t wd_idx_role_size(const struct wd_roles *r, uint32_t i)
{
	return wd_idx_get(r->roles, (size_t)i * 4 + 2);
}

static inline uint32_t wd_idx_role_flags(const struct wd_roles *r,
					 uint32_t i)
{
	return wd_idx_get(r->roles, (size_t)i * 4 + 3);
}

/* The permission's index, or -1 when the index does not know it. */
long wd_idx_find(const struct wd_roles *r, const char *perm);

/* A permission's postings: *n role indices from post + 4 * first. */
void wd_idx_postings(const struct wd_roles *r, uint32_t perm,
		     uint32_t *first, uint32_t *n);

/* Whether the role is one of the permission's own service:
 * role = "roles/<svc>.…" where svc is perm up to its first '.'. */
bool wd_idx_same_service(const char *perm, const char *role);

/* Rank of a stage string: 0 GA or none, 1 BETA, 2 anything else. */
unsigned wd_idx_stage_rank(const char *stage);

bool wd_idx_is_basic(const char *role);
bool wd_idx_is_ignored(const char *role, const char *stage);

#endif
