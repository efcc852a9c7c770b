/* index.c - the role index bytes: check, load, save, probe (see
 * roles_int.h for the layout). */
#include "roles_int.h"

#include "whydenied/buf.h"
#include "whydenied/roles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* An index larger than this is not one we wrote. */
#define WD_IDX_MAX_SIZE ((size_t)1 << 30)

bool wd_idx_is_basic(const char *role)
{
	return strcmp(role, "roles/owner") == 0 ||
	       strcmp(role, "roles/editor") == 0 ||
	       strcmp(role, "roles/viewer") == 0;
}

static bool contains_nocase(const char *s, const char *lit)
{
	size_t n = strlen(lit);

	for (; *s; s++)
		if (strncasecmp(s, lit, n) == 0)
			return true;
	return false;
}

bool wd_idx_is_ignored(const char *role, const char *stage)
{
	return strcmp(stage, "DEPRECATED") == 0 ||
	       strcmp(stage, "DISABLED") == 0 ||
	       contains_nocase(role, "serviceagent");
}

unsigned wd_idx_stage_rank(const char *stage)
{
	if (stage[0] == '\0' || strcmp(stage, "GA") == 0)
		return 0;
	if (strcmp(stage, "BETA") == 0)
		return 1;
	return 2;
}

bool wd_idx_same_service(const char *perm, const char *role)
{
	const char *dot = strchr(perm, '.');
	size_t n = dot ? (size_t)(dot - perm) : strlen(perm);

	return strncmp(role, "roles/", 6) == 0 &&
	       strncmp(role + 6, perm, n) == 0 && role[6 + n] == '.';
}

static int bad(struct wd_err *err, const char *what)
{
	return wd_err_set(err, WD_EFORMAT, "not a valid role index: %s", what);
}

/* Section sizes in bytes, checked against overflow and the total. */
static bool layout(uint32_t nroles, uint32_t nperms, uint32_t nslots,
		   uint32_t npost, uint32_t nstr, size_t size)
{
	uint64_t need = WD_IDX_HEADER;

	need += (uint64_t)nroles * WD_IDX_ROLE;
	need += (uint64_t)nperms * WD_IDX_PERM;
	need += (uint64_t)nslots * 4;
	need += (uint64_t)npost * 4;
	need += nstr;
	return need == size;
}

static int check_header(struct wd_roles *r, const unsigned char *b,
			size_t size, struct wd_err *err)
{
	size_t i;

	if (size < WD_IDX_HEADER)
		return bad(err, "too short");
	if (memcmp(b, WD_IDX_MAGIC, 8) != 0)
		return bad(err, "no magic header");
	if (wd_idx_get(b, 3) != WD_IDX_BOM)
		return bad(err, "written on a machine of another byte order");
	if (wd_idx_get(b, 2) != WD_IDX_VERSION)
		return wd_err_set(err, WD_EFORMAT, "role index version %u, "
				  "this build reads version %u",
				  wd_idx_get(b, 2), WD_IDX_VERSION);
	r->nroles = wd_idx_get(b, 4);
	r->nperms = wd_idx_get(b, 5);
	r->nslots = wd_idx_get(b, 6);
	r->npost = wd_idx_get(b, 7);
	r->nstr = wd_idx_get(b, 8);
	if (wd_idx_get(b, 9) != size)
		return bad(err, "truncated or padded");
	for (i = 10; i < WD_IDX_HEADER / 4; i++)
		if (wd_idx_get(b, i) != 0)
			return bad(err, "reserved header fields set");
	if (!layout(r->nroles, r->nperms, r->nslots, r->npost, r->nstr, size))
		return bad(err, "section sizes do not add up");
	if (r->nslots == 0 || (r->nslots & (r->nslots - 1)) != 0 ||
	    r->nslots <= r->nperms)
		return bad(err, "hash table size");
	if (r->nstr == 0 || b[size - 1] != '\0')
		return bad(err, "string table not terminated");
	return 0;
}

static int check_sections(const struct wd_roles *r, struct wd_err *err)
{
	uint32_t i, used = 0;

	for (i = 0; i < r->nroles; i++) {
		if (wd_idx_get(r->roles, (size_t)i * 4) >= r->nstr ||
		    wd_idx_get(r->roles, (size_t)i * 4 + 1) >= r->nstr)
			return bad(err, "role name out of range");
	}
	for (i = 0; i < r->nperms; i++) {
		uint32_t name = wd_idx_get(r->perms, (size_t)i * 3);
		uint32_t first = wd_idx_get(r->perms, (size_t)i * 3 + 1);
		uint32_t n = wd_idx_get(r->perms, (size_t)i * 3 + 2);

		if (name >= r->nstr || first > r->npost ||
		    n > r->npost - first)
			return bad(err, "permission out of range");
	}
	for (i = 0; i < r->npost; i++)
		if (wd_idx_get(r->post, i) >= r->nroles)
			return bad(err, "posting out of range");
	for (i = 0; i < r->nslots; i++) {
		uint32_t v = wd_idx_get(r->slots, i);

		if (v > r->nperms)
			return bad(err, "hash slot out of range");
		used += v != 0;
	}
	/* At least one empty slot ends every probe. */
	if (used != r->nperms)
		return bad(err, "hash table does not match the permissions");
	return 0;
}

int wd_idx_open(struct wd_roles *r, unsigned char *blob, size_t size,
		struct wd_err *err)
{
	size_t off = WD_IDX_HEADER;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = check_header(r, blob, size, err);
	if (ret < 0)
		goto out_free_blob;
	r->roles = blob + off;
	off += (size_t)r->nroles * WD_IDX_ROLE;
	r->perms = blob + off;
	off += (size_t)r->nperms * WD_IDX_PERM;
	r->slots = blob + off;
	off += (size_t)r->nslots * 4;
	r->post = blob + off;
	off += (size_t)r->npost * 4;
	r->str = (const char *)blob + off;
	ret = check_sections(r, err);
	if (ret < 0)
		goto out_free_blob;
	r->blob = blob;
	r->size = size;
	return 0;
out_free_blob:
	free(blob);
	memset(r, 0, sizeof(*r));
	return ret;
}

long wd_idx_find(const struct wd_roles *r, const char *perm)
{
	uint32_t mask, i, v;

	if (r->nslots == 0)
		return -1;
	mask = r->nslots - 1;
	for (i = wd_idx_hash(perm, strlen(perm)) & mask;;
	     i = (i + 1) & mask) {
		v = wd_idx_get(r->slots, i);
		if (v == 0)
			return -1;
		if (strcmp(r->str + wd_idx_get(r->perms, (size_t)(v - 1) * 3),
			   perm) == 0)
			return (long)(v - 1);
	}
}

void wd_idx_postings(const struct wd_roles *r, uint32_t perm,
		     uint32_t *first, uint32_t *n)
{
	*first = wd_idx_get(r->perms, (size_t)perm * 3 + 1);
	*n = wd_idx_get(r->perms, (size_t)perm * 3 + 2);
}

int wd_roles_load(struct wd_roles **out, const char *path, struct wd_err *err)
{
	struct wd_roles *r;
	unsigned char *blob;
	struct stat st;
	size_t size, got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wd_err_os(err, WD_EIO, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		ret = wd_err_os(err, WD_EIO, "cannot stat '%s'", path);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > WD_IDX_MAX_SIZE) {
		ret = wd_err_set(err, WD_EFORMAT, "'%s' is not a role index",
				 path);
		goto out_close;
	}
	size = (size_t)st.st_size;
	blob = wd_xmalloc(size);
	while (got < size) {
		ssize_t k = read(fd, blob + got, size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			ret = wd_err_os(err, WD_EIO, "cannot read '%s'", path);
			goto out_free_blob;
		}
		got += (size_t)k;
	}
	r = wd_xcalloc(1, sizeof(*r));
	ret = wd_idx_open(r, blob, size, err);	/* takes blob */
	if (ret < 0) {
		char msg[sizeof(err->msg)];

		if (err) {
			memcpy(msg, err->msg, sizeof(msg));
			wd_err_set(err, ret, "'%s': %s", path, msg);
		}
		free(r);
		goto out_close;
	}
	*out = r;
	ret = 0;
	goto out_close;
out_free_blob:
	free(blob);
out_close:
	close(fd);
	return ret;
}

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path, struct wd_err *err)
{
	char *dir = wd_xstrdup(path);
	char *p;
	int ret = 0;

	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			ret = wd_err_os(err, WD_EIO, "cannot create '%s'", dir);
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int wd_roles_save(const struct wd_roles *r, const char *path,
		  struct wd_err *err)
{
	struct wd_buf tmp;
	int fd, ret;

	if (r->builtin)
		return wd_err_set(err, WD_EUSAGE, "the built-in table is not "
				  "an index to save");
	ret = make_parents(path, err);
	if (ret < 0)
		return ret;
	wd_buf_init(&tmp, 8192);
	if (wd_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		ret = wd_err_set(err, WD_ELIMIT, "path too long: '%s'", path);
		goto out_release;
	}
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = wd_err_os(err, WD_EIO, "cannot create '%s'", tmp.ptr);
		goto out_release;
	}
	if (write_all(fd, r->blob, r->size) < 0) {
		ret = wd_err_os(err, WD_EIO, "cannot write '%s'", tmp.ptr);
		close(fd);
		goto out_unlink;
	}
	if (close(fd) < 0) {
		ret = wd_err_os(err, WD_EIO, "cannot write '%s'", tmp.ptr);
		goto out_unlink;
	}
	if (rename(tmp.ptr, path) < 0) {
		ret = wd_err_os(err, WD_EIO, "cannot rename '%s' to '%s'",
				tmp.ptr, path);
		goto out_unlink;
	}
	ret = 0;
	goto out_release;
out_unlink:
	unlink(tmp.ptr);
out_release:
	wd_buf_release(&tmp);
	return ret;
}
