/* roles.c - the role to suggest for denied permissions (see
 * whydenied/roles.h): the built-in table, queries on an index, the cache
 * path, and the hook for the rules engine. */
#include "roles_int.h"

#include "whydenied/roles.h"

#include <stdio.h>
#include <stdlib.h>

struct row {
	const char *perm;
	const char *role;
	const char *alt;
};

static const struct row builtin[] = {
#include "builtin_roles.inc"
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Permissions the rules engine passes at most (match.c role_var). */
#define MAX_GROUP 64

static int cmp_row(const void *k, const void *r)
{
	return strcmp(k, ((const struct row *)r)->perm);
}

static const struct row *find_row(const char *perm)
{
	return bsearch(perm, builtin, NBUILTIN, sizeof(builtin[0]), cmp_row);
}

struct wd_roles *wd_roles_builtin(void)
{
	struct wd_roles *r = wd_xcalloc(1, sizeof(*r));

	r->builtin = true;
	return r;
}

bool wd_roles_is_builtin(const struct wd_roles *r)
{
	return r->builtin;
}

void wd_roles_free(struct wd_roles *r)
{
	if (r == NULL)
		return;
	free(r->blob);
	free(r);
}

size_t wd_roles_count(const struct wd_roles *r)
{
	return r->builtin ? 0 : r->nroles;
}

size_t wd_roles_permissions(const struct wd_roles *r)
{
	return r->builtin ? NBUILTIN : r->nperms;
}

size_t wd_roles_size(const struct wd_roles *r)
{
	return r->builtin ? 0 : r->size;
}

static void info_of(const struct wd_roles *r, uint32_t i,
		    struct wd_role_info *out)
{
	out->name = wd_idx_role_name(r, i);
	out->stage = wd_idx_role_stage(r, i);
	if (out->stage[0] == '\0')
		out->stage = "GA";
	out->permissions = wd_idx_role_size(r, i);
	out->basic = (wd_idx_role_flags(r, i) & WD_ROLE_BASIC) != 0;
}

size_t wd_roles_candidates(const struct wd_roles *r, const char *perm,
			   struct wd_role_info *out, size_t max)
{
	uint32_t first, n, i;
	long p;

	if (r->builtin) {
		const struct row *row = find_row(perm);
		const char *names[2];
		size_t k, count;

		if (row == NULL)
			return 0;
		names[0] = row->role;
		names[1] = row->alt;
		count = row->alt[0] ? 2 : 1;
		for (k = 0; k < count && k < max; k++) {
			out[k].name = names[k];
			out[k].stage = NULL;
			out[k].permissions = 0;
			out[k].basic = wd_idx_is_basic(names[k]);
		}
		return count;
	}
	p = wd_idx_find(r, perm);
	if (p < 0)
		return 0;
	wd_idx_postings(r, (uint32_t)p, &first, &n);
	for (i = 0; i < n && i < max; i++)
		info_of(r, wd_idx_get(r->post, first + i), &out[i]);
	return n;
}

static void put(struct wd_buf *b, const char *s)
{
	wd_buf_clear(b);
	wd_buf_adds(b, s);
}

/* The role for perms with the built-in table: the first permission with
 * a row decides; the others' rows must name the same role, else the note
 * lists them. */
static bool best_builtin(const char *const *perms, size_t n,
			 struct wd_buf *role, struct wd_buf *alt,
			 struct wd_buf *note)
{
	const struct row *lead = NULL;
	struct wd_buf others;
	bool same_alt = true;
	size_t i, lead_i = 0;

	for (i = 0; i < n && lead == NULL; i++) {
		lead = find_row(perms[i]);
		lead_i = i;
	}
	if (lead == NULL)
		return false;
	wd_buf_init(&others, note->cap);
	for (i = 0; i < n; i++) {
		const struct row *row = find_row(perms[i]);

		if (row && strcmp(row->role, lead->role) == 0) {
			same_alt = same_alt && strcmp(row->alt, lead->alt) == 0;
			continue;
		}
		wd_buf_adds(&others, others.len ? ", '" : "'");
		wd_buf_adds(&others, perms[i]);
		wd_buf_adds(&others, "'");
	}
	wd_buf_clear(note);
	if (others.len) {
		wd_buf_printf(note, "built-in table: the role for '%s'; it may "
			      "not cover %s", perms[lead_i], others.ptr);
		same_alt = false;
	}
	wd_buf_release(&others);
	if (wd_idx_is_basic(lead->role)) {
		wd_buf_adds(note, note->len ? "; " : "");
		wd_buf_printf(note, "only a basic role holds '%s'",
			      perms[lead_i]);
	}
	put(role, lead->role);
	put(alt, same_alt ? lead->alt : "");
	return true;
}

/* Distinct permission indices of perms; false if one is unknown. */
static bool resolve(const struct wd_roles *r, const char *const *perms,
		    size_t n, uint32_t *ids, size_t *nids)
{
	size_t i, k;
	bool all = true;

	*nids = 0;
	for (i = 0; i < n; i++) {
		long p = wd_idx_find(r, perms[i]);

		if (p < 0) {
			all = false;
			continue;
		}
		for (k = 0; k < *nids && ids[k] != (uint32_t)p; k++)
			;
		if (k == *nids)
			ids[(*nids)++] = (uint32_t)p;
	}
	return all;
}

/* Rank of a role for a group: (basic, of none of the group's services,
 * role index). */
static uint64_t group_key(const struct wd_roles *r, const char *const *perms,
			  size_t n, uint32_t role)
{
	const char *name = wd_idx_role_name(r, role);
	uint64_t k = role;
	size_t i;

	if (wd_idx_role_flags(r, role) & WD_ROLE_BASIC)
		k |= (uint64_t)1 << 33;
	for (i = 0; i < n && !wd_idx_same_service(perms[i], name); i++)
		;
	if (i == n)
		k |= (uint64_t)1 << 32;
	return k;
}

/* The two best roles holding every permission of ids; false if none. */
static bool best_common(const struct wd_roles *r, const char *const *perms,
			size_t n, const uint32_t *ids, size_t nids,
			long *best, long *next)
{
	unsigned char *seen;
	uint32_t first, cnt, dfirst, dn, drv = 0;
	uint64_t kb = UINT64_MAX, kn = UINT64_MAX;
	size_t i, j;

	if (nids == 1) {
		wd_idx_postings(r, ids[0], &first, &cnt);
		*best = cnt > 0 ? (long)wd_idx_get(r->post, first) : -1;
		*next = cnt > 1 ? (long)wd_idx_get(r->post, first + 1) : -1;
		return *best >= 0;
	}
	for (i = 1; i < nids; i++) {
		wd_idx_postings(r, ids[i], &first, &cnt);
		wd_idx_postings(r, ids[drv], &dfirst, &dn);
		if (cnt < dn)
			drv = (uint32_t)i;
	}
	/* seen[role] = how many of the other permissions, in order, it
	 * holds. */
	seen = wd_xcalloc(r->nroles + 1, 1);
	for (i = 0, j = 0; i < nids; i++) {
		uint32_t k;

		if (i == drv)
			continue;
		wd_idx_postings(r, ids[i], &first, &cnt);
		for (k = 0; k < cnt; k++) {
			uint32_t role = wd_idx_get(r->post, first + k);

			if (seen[role] == j)
				seen[role]++;
		}
		j++;
	}
	wd_idx_postings(r, ids[drv], &dfirst, &dn);
	for (i = 0; i < dn; i++) {
		uint32_t role = wd_idx_get(r->post, dfirst + i);
		uint64_t k;

		if (seen[role] != j)
			continue;
		k = group_key(r, perms, n, role);
		if (k < kb) {
			kn = kb;
			kb = k;
		} else if (k < kn) {
			kn = k;
		}
	}
	free(seen);
	*best = kb == UINT64_MAX ? -1 : (long)(uint32_t)kb;
	*next = kn == UINT64_MAX ? -1 : (long)(uint32_t)kn;
	return *best >= 0;
}

bool wd_roles_best(const struct wd_roles *r, const char *const *perms,
		   size_t n, struct wd_buf *role, struct wd_buf *alt,
		   struct wd_buf *note)
{
	uint32_t ids[MAX_GROUP];
	size_t nids, i;
	long best = -1, next = -1;
	const char *lead = NULL;
	bool all;

	if (n == 0)
		return false;
	if (n > MAX_GROUP)
		n = MAX_GROUP;
	if (r->builtin)
		return best_builtin(perms, n, role, alt, note);
	all = resolve(r, perms, n, ids, &nids);
	if (!(all && nids > 0 &&
	      best_common(r, perms, n, ids, nids, &best, &next))) {
		/* No single role: the best for the first permission that
		 * has one. */
		all = false;
		for (i = 0; i < n && best < 0; i++) {
			long p = wd_idx_find(r, perms[i]);
			uint32_t first, cnt;

			if (p < 0)
				continue;
			wd_idx_postings(r, (uint32_t)p, &first, &cnt);
			if (cnt == 0)
				continue;
			lead = perms[i];
			best = wd_idx_get(r->post, first);
			next = cnt > 1 ? (long)wd_idx_get(r->post, first + 1) :
			       -1;
		}
		if (best < 0)
			return false;
	}
	put(role, wd_idx_role_name(r, (uint32_t)best));
	put(alt, next >= 0 ? wd_idx_role_name(r, (uint32_t)next) : "");
	wd_buf_clear(note);
	if (!all)
		wd_buf_printf(note, "no predefined role holds all %zu "
			      "permissions; this one is for '%s'", n, lead);
	if (wd_idx_role_flags(r, (uint32_t)best) & WD_ROLE_BASIC) {
		wd_buf_adds(note, note->len ? "; " : "");
		if (all && nids > 1)
			wd_buf_printf(note, "only a basic role holds all %zu "
				      "permissions", nids);
		else
			wd_buf_printf(note, "only a basic role holds '%s'",
				      all ? perms[0] : lead);
	}
	return true;
}

bool wd_roles_format(const struct wd_roles *r, const char *const *perms,
		     size_t n, struct wd_buf *out)
{
	struct wd_buf role, alt, note;
	bool ok;

	wd_buf_init(&role, WD_ROLES_MAX_NAME + 1);
	wd_buf_init(&alt, WD_ROLES_MAX_NAME + 1);
	wd_buf_init(&note, 4096);
	ok = wd_roles_best(r, perms, n, &role, &alt, &note);
	if (ok)
		wd_buf_printf(out, "%s\t%s\t%s", role.ptr ? role.ptr : "",
			      alt.ptr ? alt.ptr : "",
			      note.ptr ? note.ptr : "");
	wd_buf_release(&role);
	wd_buf_release(&alt);
	wd_buf_release(&note);
	return ok;
}

int wd_roles_cache_path(struct wd_buf *out)
{
	const char *x = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int ret;

	wd_buf_clear(out);
	/* The XDG spec says relative paths are to be ignored. */
	if (x && x[0] == '/')
		ret = wd_buf_printf(out, "%s/whydenied/roles.idx", x);
	else if (home && home[0])
		ret = wd_buf_printf(out, "%s/.cache/whydenied/roles.idx",
				    home);
	else
		return WD_EUSAGE;
	return ret < 0 ? ret : 0;
}

static bool role_fn(void *ctx, const char *const *perms, size_t n,
		    struct wd_buf *out)
{
	return wd_roles_format(ctx, perms, n, out);
}

struct wd_roles *wd_roles_attach(struct wd_ruleset *rs)
{
	struct wd_roles *r = NULL;
	struct wd_buf path;

	wd_buf_init(&path, 8192);
	if (wd_roles_cache_path(&path) < 0 ||
	    wd_roles_load(&r, path.ptr, NULL) < 0)
		r = wd_roles_builtin();
	wd_buf_release(&path);
	/* Read-only once loaded: the rule set's matchers may use it from
	 * several threads. */
	wd_ruleset_set_roles(rs, role_fn, r);
	return r;
}
