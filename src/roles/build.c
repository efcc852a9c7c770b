/* build.c - a role index from roles.list JSON, streamed through yajl's
 * callback parser (see whydenied/roles.h and roles_int.h).
 *
 * Every object at the top level, in a top-level array or in a "roles"
 * array is an item: a role when it has a "name", a page when it holds a
 * "roles" array (an item that turns out to be a page drops what it had
 * collected as a role). Everything else is skipped. Strings are copied
 * inside the callbacks: yajl's are views into the caller's chunk.
 */
#include "roles_int.h"

#include "whydenied/buf.h"
#include "whydenied/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

enum frame_kind { F_ITEM, F_ITEMS, F_PERMS, F_SKIP };
enum item_key { K_OTHER, K_ROLES, K_NAME, K_STAGE, K_PERMS, K_TOKEN };

struct frame {
	unsigned char kind;	/* enum frame_kind */
	unsigned char key;	/* enum item_key: the last key of an item */
};

struct brole {
	uint32_t name;		/* offsets into strs */
	uint32_t stage;
	uint32_t first;		/* into grants */
	uint32_t n;
};

/* A growable array of uint32 with a cap. */
struct u32vec {
	uint32_t *v;
	size_t n, alloc;
};

struct wd_roles_builder {
	yajl_handle h;
	struct wd_err *err;	/* of the feed in progress */
	int failed;		/* a callback's WD_E* code, or 0 */
	bool dead;		/* an error happened: only free is left */
	size_t fed;		/* bytes so far */

	struct wd_buf strs;	/* every name, NUL-terminated */
	struct u32vec perm_name;	/* permission id -> offset in strs */
	struct u32vec perm_tab;	/* hash: permission id + 1, 0 empty */
	struct u32vec role_name;	/* role index -> offset in strs */
	struct u32vec role_tab;	/* hash: role index + 1, 0 empty */
	struct brole *roles;
	size_t nroles, roles_alloc;
	struct u32vec grants;	/* permission ids, role after role */

	struct frame stack[WD_ROLES_MAX_DEPTH];
	int depth;
	int owner;		/* frame collecting a role, or -1 */
	char name[WD_ROLES_MAX_NAME + 1];
	size_t name_len;
	bool has_name;
	char stage[32];
	bool skip_role;		/* a name or permission was too long */
	char token[WD_ROLES_MAX_TOKEN + 1];	/* of the current document */
	char last_token[WD_ROLES_MAX_TOKEN + 1];

	size_t documents;
	size_t skipped;
	size_t duplicates;
};

static void vec_push(struct u32vec *a, uint32_t x)
{
	if (a->n == a->alloc) {
		a->alloc = a->alloc ? 2 * a->alloc : 64;
		a->v = wd_xrealloc(a->v, a->alloc * sizeof(a->v[0]));
	}
	a->v[a->n++] = x;
}

static void vec_release(struct u32vec *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->alloc = 0;
}

static int fail(struct wd_roles_builder *b, int code, const char *msg)
{
	b->failed = wd_err_set(b->err, code, "%s", msg);
	return 0;	/* cancels the parse */
}

/* Adds s to the string table; returns its offset, or -1 at the cap. */
static long add_str(struct wd_roles_builder *b, const char *s, size_t n)
{
	size_t off = b->strs.len;

	if (wd_buf_add(&b->strs, s, n) < 0 || wd_buf_addc(&b->strs, '\0') < 0)
		return -1;
	return (long)off;
}

/* Open-addressing set of offsets into strs keyed by the string: returns
 * the slot of s (holding its id + 1, or 0 when absent). */
static size_t probe(const struct wd_roles_builder *b, const struct u32vec *tab,
		    const uint32_t *names, const char *s, size_t n)
{
	size_t mask = tab->n - 1;
	size_t i = wd_idx_hash(s, n) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t v = tab->v[i];
		const char *t;

		if (v == 0)
			return i;
		t = b->strs.ptr + names[v - 1];
		if (strncmp(t, s, n) == 0 && t[n] == '\0')
			return i;
	}
}

static void rehash(struct wd_roles_builder *b, struct u32vec *tab,
		   const uint32_t *names, size_t count)
{
	size_t i, size = tab->n ? tab->n * 2 : 1024;

	free(tab->v);
	tab->v = wd_xcalloc(size, sizeof(tab->v[0]));
	tab->n = tab->alloc = size;
	for (i = 0; i < count; i++) {
		const char *s = b->strs.ptr + names[i];

		tab->v[probe(b, tab, names, s, strlen(s))] = (uint32_t)i + 1;
	}
}

/* The id of a permission, added when new; -1 at a cap. */
static long intern_perm(struct wd_roles_builder *b, const char *s, size_t n)
{
	size_t slot;
	long off;

	if (2 * (b->perm_name.n + 1) > b->perm_tab.n)
		rehash(b, &b->perm_tab, b->perm_name.v, b->perm_name.n);
	slot = probe(b, &b->perm_tab, b->perm_name.v, s, n);
	if (b->perm_tab.v[slot])
		return (long)b->perm_tab.v[slot] - 1;
	if (b->perm_name.n >= WD_ROLES_MAX_PERMS)
		return -1;
	off = add_str(b, s, n);
	if (off < 0)
		return -1;
	vec_push(&b->perm_name, (uint32_t)off);
	b->perm_tab.v[slot] = (uint32_t)b->perm_name.n;
	return (long)b->perm_name.n - 1;
}

static void begin_item(struct wd_roles_builder *b)
{
	b->owner = b->depth;
	b->has_name = false;
	b->name_len = 0;
	b->stage[0] = '\0';
	b->skip_role = false;
	if (b->nroles == b->roles_alloc) {
		b->roles_alloc = b->roles_alloc ? 2 * b->roles_alloc : 256;
		b->roles = wd_xrealloc(b->roles,
				       b->roles_alloc * sizeof(b->roles[0]));
	}
	b->roles[b->nroles].first = (uint32_t)b->grants.n;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;

	return a < c ? -1 : a > c;
}

/* &a->v[i], or NULL while a is empty. */
static uint32_t *n_or_null(const struct u32vec *a, size_t i)
{
	return a->v ? a->v + i : NULL;
}

/* A role object ended: keep it, or drop what it collected. */
static int end_item(struct wd_roles_builder *b)
{
	struct brole *r = &b->roles[b->nroles];
	uint32_t *g = n_or_null(&b->grants, r->first);
	size_t n = b->grants.n - r->first, i, k, slot;
	long name, stage;

	b->owner = -1;
	if (!b->has_name || b->skip_role) {
		if (b->has_name || n > 0 || b->skip_role)
			b->skipped++;
		goto out_drop;
	}
	if (2 * (b->nroles + 1) > b->role_tab.n)
		rehash(b, &b->role_tab, b->role_name.v, b->nroles);
	slot = probe(b, &b->role_tab, b->role_name.v, b->name, b->name_len);
	if (b->role_tab.v[slot]) {
		b->duplicates++;
		goto out_drop;
	}
	if (b->nroles >= WD_ROLES_MAX_ROLES)
		return fail(b, WD_ELIMIT, "more roles than the cap");
	name = add_str(b, b->name, b->name_len);
	stage = add_str(b, b->stage, strlen(b->stage));
	if (name < 0 || stage < 0)
		return fail(b, WD_ELIMIT, "names exceed the string cap");
	/* A permission listed twice counts once. */
	if (n > 1)
		qsort(g, n, sizeof(*g), cmp_u32);
	for (i = k = 0; i < n; i++)
		if (k == 0 || g[i] != g[k - 1])
			g[k++] = g[i];
	b->grants.n = r->first + k;
	r->name = (uint32_t)name;
	vec_push(&b->role_name, (uint32_t)name);
	r->stage = (uint32_t)stage;
	r->n = (uint32_t)k;
	b->nroles++;
	b->role_tab.v[slot] = (uint32_t)b->nroles;
	return 1;
out_drop:
	b->grants.n = r->first;
	return 1;
}

static int push(struct wd_roles_builder *b, enum frame_kind kind)
{
	if (b->depth == WD_ROLES_MAX_DEPTH)
		return fail(b, WD_ELIMIT, "JSON nested too deeply");
	if (b->depth == 0)
		b->token[0] = '\0';
	if (kind == F_ITEM) {
		if (b->owner >= 0)	/* the enclosing item is a page */
			b->grants.n = b->roles[b->nroles].first;
		begin_item(b);
	}
	b->stack[b->depth].kind = (unsigned char)kind;
	b->stack[b->depth].key = K_OTHER;
	b->depth++;
	return 1;
}

static struct frame *top(struct wd_roles_builder *b)
{
	return b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
}

static int pop(struct wd_roles_builder *b)
{
	struct frame *f = top(b);
	int ret = 1;

	if (f->kind == F_ITEM && b->owner == b->depth - 1)
		ret = end_item(b);
	b->depth--;
	if (b->depth == 0) {
		b->documents++;
		memcpy(b->last_token, b->token, sizeof(b->token));
	}
	return ret;
}

static int cb_start_map(void *ctx)
{
	struct wd_roles_builder *b = ctx;
	struct frame *f = top(b);

	if (b->failed)
		return 0;
	return push(b, f == NULL || f->kind == F_ITEMS ? F_ITEM : F_SKIP);
}

static int cb_start_array(void *ctx)
{
	struct wd_roles_builder *b = ctx;
	struct frame *f = top(b);
	enum frame_kind kind = F_SKIP;

	if (f == NULL)
		kind = F_ITEMS;
	else if (f->kind == F_ITEM && f->key == K_ROLES)
		kind = F_ITEMS;
	else if (f->kind == F_ITEM && f->key == K_PERMS &&
		 b->owner == b->depth - 1)
		kind = F_PERMS;
	return push(b, kind);
}

static int cb_end(void *ctx)
{
	return pop(ctx);
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct wd_roles_builder *b = ctx;
	struct frame *f = top(b);
	const char *s = (const char *)k;

	if (f->kind != F_ITEM)
		return 1;
	if (wd_mem_eq(s, n, "name"))
		f->key = K_NAME;
	else if (wd_mem_eq(s, n, "includedPermissions"))
		f->key = K_PERMS;
	else if (wd_mem_eq(s, n, "stage"))
		f->key = K_STAGE;
	else if (wd_mem_eq(s, n, "roles"))
		f->key = K_ROLES;
	else if (wd_mem_eq(s, n, "nextPageToken"))
		f->key = K_TOKEN;
	else
		f->key = K_OTHER;
	return 1;
}

static int item_string(struct wd_roles_builder *b, struct frame *f,
		       const char *s, size_t n)
{
	bool mine = b->owner == b->depth - 1;

	if (f->key == K_NAME && mine) {
		if (n > WD_ROLES_MAX_NAME || n == 0 || memchr(s, '\0', n)) {
			b->skip_role = true;
			return 1;
		}
		memcpy(b->name, s, n);
		b->name_len = n;
		b->has_name = true;
	} else if (f->key == K_STAGE && mine) {
		if (n >= sizeof(b->stage) || memchr(s, '\0', n)) {
			s = "OTHER";	/* ranks with the other stages */
			n = 5;
		}
		memcpy(b->stage, s, n);
		b->stage[n] = '\0';
	} else if (f->key == K_TOKEN) {
		if (n > WD_ROLES_MAX_TOKEN)
			return fail(b, WD_ELIMIT, "nextPageToken too long");
		memcpy(b->token, s, n);
		b->token[n] = '\0';
	}
	return 1;
}

static int cb_string(void *ctx, const unsigned char *p, size_t n)
{
	struct wd_roles_builder *b = ctx;
	struct frame *f = top(b);
	const char *s = (const char *)p;
	long id;

	if (f == NULL)
		return fail(b, WD_EFORMAT, "a string where a roles list "
			    "should be");
	if (f->kind == F_ITEM)
		return item_string(b, f, s, n);
	if (f->kind != F_PERMS || b->skip_role || n == 0)
		return 1;
	if (n > WD_ROLES_MAX_NAME || memchr(s, '\0', n)) {
		b->skip_role = true;
		return 1;
	}
	if (b->grants.n >= WD_ROLES_MAX_GRANTS)
		return fail(b, WD_ELIMIT, "more role permissions than the cap");
	id = intern_perm(b, s, n);
	if (id < 0)
		return fail(b, WD_ELIMIT, "more permissions than the cap");
	vec_push(&b->grants, (uint32_t)id);
	return 1;
}

static int cb_scalar(struct wd_roles_builder *b)
{
	if (b->depth == 0)
		return fail(b, WD_EFORMAT, "a value where a roles list should "
			    "be");
	return 1;
}

static int cb_null(void *ctx)
{
	return cb_scalar(ctx);
}

static int cb_bool(void *ctx, int v)
{
	(void)v;
	return cb_scalar(ctx);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	(void)s;
	(void)n;
	return cb_scalar(ctx);
}

static const yajl_callbacks callbacks = {
	cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

struct wd_roles_builder *wd_roles_builder_new(void)
{
	struct wd_roles_builder *b = wd_xcalloc(1, sizeof(*b));

	wd_buf_init(&b->strs, (size_t)256 << 20);
	b->owner = -1;
	b->h = yajl_alloc(&callbacks, NULL, b);
	if (b->h == NULL) {
		fprintf(stderr, "whydenied: out of memory\n");
		abort();
	}
	yajl_config(b->h, yajl_allow_multiple_values, 1);
	return b;
}

void wd_roles_builder_free(struct wd_roles_builder *b)
{
	if (b == NULL)
		return;
	yajl_free(b->h);
	wd_buf_release(&b->strs);
	vec_release(&b->perm_name);
	vec_release(&b->perm_tab);
	vec_release(&b->role_name);
	vec_release(&b->role_tab);
	vec_release(&b->grants);
	free(b->roles);
	free(b);
}

const char *wd_roles_builder_next_token(const struct wd_roles_builder *b)
{
	return b->last_token;
}

size_t wd_roles_builder_skipped(const struct wd_roles_builder *b)
{
	return b->skipped;
}

size_t wd_roles_builder_duplicates(const struct wd_roles_builder *b)
{
	return b->duplicates;
}

/* Turns a yajl status into our error. */
static int parse_error(struct wd_roles_builder *b, yajl_status st,
		       size_t at, struct wd_err *err)
{
	unsigned char *msg;
	const char *m;
	size_t ml;

	b->dead = true;
	if (st == yajl_status_client_canceled)
		return b->failed ? b->failed :
		       wd_err_set(err, WD_EFORMAT, "parse cancelled");
	msg = yajl_get_error(b->h, 0, NULL, 0);
	m = msg ? (const char *)msg : "parse error";
	ml = strlen(m);
	while (ml > 0 && (m[ml - 1] == '\n' || m[ml - 1] == ' ' ||
			  m[ml - 1] == '.'))
		ml--;
	wd_err_set(err, WD_EFORMAT, "invalid JSON at byte %zu: %.*s",
		   at, (int)ml, m);
	if (msg)
		yajl_free_error(b->h, msg);
	return WD_EFORMAT;
}

int wd_roles_builder_feed(struct wd_roles_builder *b, const char *p,
			  size_t n, struct wd_err *err)
{
	yajl_status st;

	if (b->dead)
		return wd_err_set(err, WD_EUSAGE, "role builder already "
				  "finished or failed");
	if (n > WD_ROLES_MAX_INPUT - b->fed) {
		b->dead = true;
		return wd_err_set(err, WD_ELIMIT, "roles JSON larger than "
				  "%zu MiB", WD_ROLES_MAX_INPUT >> 20);
	}
	b->err = err;
	st = yajl_parse(b->h, (const unsigned char *)p, n);
	if (st != yajl_status_ok)
		return parse_error(b, st, b->fed + yajl_get_bytes_consumed(b->h),
				   err);
	b->fed += n;
	return 0;
}

/* --- freezing the collected roles into index bytes ------------------ */

struct freeze {
	const struct wd_roles_builder *b;
	uint32_t *order;	/* new role index -> builder role */
	uint32_t *rank;		/* builder role -> new role index */
	uint32_t *porder;	/* new permission id -> builder id */
	uint32_t *pnew;		/* builder id -> new permission id */
	unsigned char *rflags;	/* by builder role */
	uint32_t nperms;	/* permissions some kept role holds */
};

static const char *bstr(const struct wd_roles_builder *b, uint32_t off)
{
	return b->strs.ptr + off;
}

/* Sort keys carry what the comparison needs (qsort has no context). */
struct role_key {
	unsigned stage;
	uint32_t n;
	const char *name;
	uint32_t idx;
};

struct perm_key {
	const char *name;
	uint32_t idx;
};

static int cmp_role(const void *x, const void *y)
{
	const struct role_key *ra = x, *rb = y;

	if (ra->stage != rb->stage)
		return ra->stage < rb->stage ? -1 : 1;
	if (ra->n != rb->n)
		return ra->n < rb->n ? -1 : 1;
	return strcmp(ra->name, rb->name);
}

static int cmp_perm(const void *x, const void *y)
{
	return strcmp(((const struct perm_key *)x)->name,
		      ((const struct perm_key *)y)->name);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;

	return a < c ? -1 : a > c;
}

/* Numbers the roles in rank order and the permissions that kept roles
 * hold in name order (a skipped role's permissions are dropped). */
static void freeze_orders(struct freeze *z)
{
	const struct wd_roles_builder *b = z->b;
	size_t i, np = b->perm_name.n;
	unsigned char *used = wd_xcalloc(np + 1, 1);

	z->order = wd_xmalloc((b->nroles + 1) * sizeof(uint32_t));
	z->rank = wd_xmalloc((b->nroles + 1) * sizeof(uint32_t));
	z->rflags = wd_xcalloc(b->nroles + 1, 1);
	{
		struct role_key *k = wd_xcalloc(b->nroles + 1, sizeof(*k));

		for (i = 0; i < b->nroles; i++) {
			k[i].stage = wd_idx_stage_rank(bstr(b,
							    b->roles[i].stage));
			k[i].n = b->roles[i].n;
			k[i].name = bstr(b, b->roles[i].name);
			k[i].idx = (uint32_t)i;
		}
		if (b->nroles > 1)
			qsort(k, b->nroles, sizeof(*k), cmp_role);
		for (i = 0; i < b->nroles; i++)
			z->order[i] = k[i].idx;
		free(k);
	}
	for (i = 0; i < b->nroles; i++) {
		const struct brole *r = &b->roles[z->order[i]];

		z->rank[z->order[i]] = (uint32_t)i;
		if (wd_idx_is_basic(bstr(b, r->name)))
			z->rflags[z->order[i]] |= WD_ROLE_BASIC;
		if (wd_idx_is_ignored(bstr(b, r->name), bstr(b, r->stage)))
			z->rflags[z->order[i]] |= WD_ROLE_IGNORED;
	}
	for (i = 0; i < b->grants.n; i++)
		used[b->grants.v[i]] = 1;
	z->porder = wd_xmalloc((np + 1) * sizeof(uint32_t));
	z->pnew = wd_xmalloc((np + 1) * sizeof(uint32_t));
	z->nperms = 0;
	for (i = 0; i < np; i++)
		if (used[i])
			z->porder[z->nperms++] = (uint32_t)i;
	{
		struct perm_key *k = wd_xcalloc(z->nperms + 1, sizeof(*k));

		for (i = 0; i < z->nperms; i++) {
			k[i].name = bstr(b, b->perm_name.v[z->porder[i]]);
			k[i].idx = z->porder[i];
		}
		if (z->nperms > 1)
			qsort(k, z->nperms, sizeof(*k), cmp_perm);
		for (i = 0; i < z->nperms; i++)
			z->porder[i] = k[i].idx;
		free(k);
	}
	for (i = 0; i < z->nperms; i++)
		z->pnew[z->porder[i]] = (uint32_t)i;
	free(used);
}

static void freeze_release(struct freeze *z)
{
	free(z->order);
	free(z->rank);
	free(z->porder);
	free(z->pnew);
	free(z->rflags);
}

/* Fills the postings: for each permission the roles that may be
 * suggested, sorted by (basic, other service, role index). first is by
 * new permission id; fill counts them. */
static void freeze_postings(const struct freeze *z, unsigned char *post,
			    const uint32_t *first, uint32_t *fill)
{
	const struct wd_roles_builder *b = z->b;
	uint64_t *keys = NULL;
	size_t i, j, kalloc = 0;

	for (i = 0; i < b->nroles; i++) {
		const struct brole *r = &b->roles[i];

		if (z->rflags[i] & WD_ROLE_IGNORED)
			continue;
		for (j = 0; j < r->n; j++) {
			uint32_t p = z->pnew[b->grants.v[r->first + j]];

			wd_idx_put(post, first[p] + fill[p]++, z->rank[i]);
		}
	}
	for (i = 0; i < z->nperms; i++) {
		const char *perm = bstr(b, b->perm_name.v[z->porder[i]]);
		size_t n = fill[i];

		if (n > kalloc) {
			kalloc = n;
			keys = wd_xrealloc(keys, kalloc * sizeof(*keys));
		}
		for (j = 0; j < n; j++) {
			uint32_t ri = wd_idx_get(post, first[i] + j);
			uint32_t bi = z->order[ri];
			uint64_t k = ri;

			if (z->rflags[bi] & WD_ROLE_BASIC)
				k |= (uint64_t)1 << 33;
			if (!wd_idx_same_service(perm,
						 bstr(b, b->roles[bi].name)))
				k |= (uint64_t)1 << 32;
			keys[j] = k;
		}
		if (n > 1)
			qsort(keys, n, sizeof(*keys), cmp_u64);
		for (j = 0; j < n; j++)
			wd_idx_put(post, first[i] + j, (uint32_t)keys[j]);
	}
	free(keys);
}

/* Appends s to the string section at *at; returns its offset. */
static uint32_t put_str(char *str, uint32_t *at, const char *s)
{
	uint32_t off = *at;
	size_t n = strlen(s) + 1;

	memcpy(str + off, s, n);
	*at += (uint32_t)n;
	return off;
}

static int freeze(struct wd_roles **out, const struct wd_roles_builder *b,
		  struct wd_err *err)
{
	struct freeze z;
	uint32_t nroles = (uint32_t)b->nroles;
	uint32_t nperms, nslots = 16, npost = 0, nstr = 1, at = 1, i, j;
	uint32_t *first, *fill;
	unsigned char *blob, *roles, *perms, *slots, *post;
	char *str;
	size_t size;
	struct wd_roles *r;
	int ret;

	memset(&z, 0, sizeof(z));
	z.b = b;
	freeze_orders(&z);
	nperms = z.nperms;
	while (nslots <= 2 * nperms)
		nslots *= 2;
	for (i = 0; i < nroles; i++) {
		const struct brole *br = &b->roles[i];

		if (!(z.rflags[i] & WD_ROLE_IGNORED))
			npost += br->n;
		nstr += (uint32_t)strlen(bstr(b, br->name)) + 1;
		nstr += (uint32_t)strlen(bstr(b, br->stage)) + 1;
	}
	for (i = 0; i < nperms; i++)
		nstr += (uint32_t)strlen(bstr(b,
			b->perm_name.v[z.porder[i]])) + 1;
	size = WD_IDX_HEADER + (size_t)nroles * WD_IDX_ROLE +
	       (size_t)nperms * WD_IDX_PERM + (size_t)nslots * 4 +
	       (size_t)npost * 4 + nstr;
	blob = wd_xcalloc(size, 1);
	memcpy(blob, WD_IDX_MAGIC, 8);
	wd_idx_put(blob, 2, WD_IDX_VERSION);
	wd_idx_put(blob, 3, WD_IDX_BOM);
	wd_idx_put(blob, 4, nroles);
	wd_idx_put(blob, 5, nperms);
	wd_idx_put(blob, 6, nslots);
	wd_idx_put(blob, 7, npost);
	wd_idx_put(blob, 8, nstr);
	wd_idx_put(blob, 9, (uint32_t)size);
	roles = blob + WD_IDX_HEADER;
	perms = roles + (size_t)nroles * WD_IDX_ROLE;
	slots = perms + (size_t)nperms * WD_IDX_PERM;
	post = slots + (size_t)nslots * 4;
	str = (char *)post + (size_t)npost * 4;	/* str[0]: "" */

	for (i = 0; i < nroles; i++) {
		const struct brole *br = &b->roles[z.order[i]];

		wd_idx_put(roles, (size_t)i * 4,
			   put_str(str, &at, bstr(b, br->name)));
		wd_idx_put(roles, (size_t)i * 4 + 1,
			   put_str(str, &at, bstr(b, br->stage)));
		wd_idx_put(roles, (size_t)i * 4 + 2, br->n);
		wd_idx_put(roles, (size_t)i * 4 + 3, z.rflags[z.order[i]]);
	}
	first = wd_xcalloc((size_t)nperms + 1, sizeof(*first));
	fill = wd_xcalloc((size_t)nperms + 1, sizeof(*fill));
	for (i = 0; i < nroles; i++) {
		const struct brole *br = &b->roles[i];

		if (z.rflags[i] & WD_ROLE_IGNORED)
			continue;
		for (j = 0; j < br->n; j++)
			first[z.pnew[b->grants.v[br->first + j]]]++;
	}
	for (i = 0, j = 0; i < nperms; i++) {
		uint32_t c = first[i];

		first[i] = j;
		j += c;
	}
	freeze_postings(&z, post, first, fill);
	for (i = 0; i < nperms; i++) {
		const char *name = bstr(b, b->perm_name.v[z.porder[i]]);
		uint32_t mask = nslots - 1, s;

		wd_idx_put(perms, (size_t)i * 3, put_str(str, &at, name));
		wd_idx_put(perms, (size_t)i * 3 + 1, first[i]);
		wd_idx_put(perms, (size_t)i * 3 + 2, fill[i]);
		s = wd_idx_hash(name, strlen(name)) & mask;
		while (wd_idx_get(slots, s) != 0)
			s = (s + 1) & mask;
		wd_idx_put(slots, s, i + 1);
	}
	free(first);
	free(fill);
	freeze_release(&z);

	r = wd_xcalloc(1, sizeof(*r));
	ret = wd_idx_open(r, blob, size, err);	/* takes blob */
	if (ret < 0) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int wd_roles_builder_finish(struct wd_roles **out, struct wd_roles_builder *b,
			    struct wd_err *err)
{
	yajl_status st;

	if (b->dead)
		return wd_err_set(err, WD_EUSAGE, "role builder already "
				  "finished or failed");
	b->err = err;
	st = yajl_complete_parse(b->h);
	if (st != yajl_status_ok)
		return parse_error(b, st, b->fed, err);
	b->dead = true;
	if (b->documents == 0)
		return wd_err_set(err, WD_EFORMAT, "no JSON document");
	return freeze(out, b, err);
}

int wd_roles_from_json(struct wd_roles **out, const char *p, size_t n,
		       struct wd_err *err)
{
	struct wd_roles_builder *b = wd_roles_builder_new();
	int ret;

	ret = wd_roles_builder_feed(b, p, n, err);
	if (ret == 0)
		ret = wd_roles_builder_finish(out, b, err);
	wd_roles_builder_free(b);
	return ret;
}
