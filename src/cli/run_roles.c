/* run_roles.c - the roles command: import, lookup and update of the role
 * index (see whydenied/roles.h). */
#include "whydenied/api.h"
#include "whydenied/report.h"
#include "whydenied/roles.h"
#include "whydenied/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 65536
#define LOOKUP_MAX 10	/* candidates printed per permission */

static int cache_path(struct wd_buf *path)
{
	wd_buf_init(path, 8192);
	if (wd_roles_cache_path(path) < 0) {
		fprintf(stderr, "whydenied: cannot find the cache directory: "
			"set XDG_CACHE_HOME or HOME\n");
		return WD_EXIT_USAGE;
	}
	return 0;
}

/* Streams one file ("-": standard input) into the builder. */
static int feed_file(struct wd_roles_builder *b, const char *name,
		     struct wd_err *err)
{
	char *buf;
	int fd, ret = 0;

	if (strcmp(name, "-") == 0)
		fd = STDIN_FILENO;
	else
		fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wd_err_os(err, WD_EIO, "cannot open '%s'", name);
	buf = wd_xmalloc(CHUNK);
	for (;;) {
		ssize_t k = read(fd, buf, CHUNK);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			ret = wd_err_os(err, WD_EIO, "cannot read '%s'", name);
			break;
		}
		if (k == 0)
			break;
		ret = wd_roles_builder_feed(b, buf, (size_t)k, err);
		if (ret < 0) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			wd_err_set(err, ret, "'%s': %s", name, msg);
			break;
		}
	}
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

static void plural(const char *what, size_t n, const char *sep)
{
	printf("%s%zu %s%s", sep, n, what, n == 1 ? "" : "s");
}

/* Prints what an index holds, writes it to the cache and says where. */
static int save_index(const struct wd_roles *r, size_t skipped,
		      size_t duplicates)
{
	struct wd_buf path;
	struct wd_err err;
	int ret;

	wd_err_clear(&err);
	ret = cache_path(&path);
	if (ret)
		goto out_release;
	if (wd_roles_save(r, path.ptr, &err) < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		ret = WD_EXIT_INPUT;
		goto out_release;
	}
	plural("role", wd_roles_count(r), "");
	plural("permission", wd_roles_permissions(r), ", ");
	if (skipped)
		plural("role", skipped, " (skipped ");
	if (skipped)
		printf(" without a usable name)");
	if (duplicates)
		plural("repeated role", duplicates, " (ignored ");
	if (duplicates)
		printf(")");
	printf("\nwrote %s (%zu bytes)\n", path.ptr, wd_roles_size(r));
out_release:
	wd_buf_release(&path);
	return ret;
}

static int run_import(const struct wd_config *cfg)
{
	struct wd_roles_builder *b;
	struct wd_roles *r = NULL;
	struct wd_err err;
	size_t i;
	int ret = 0;

	if (cfg->args.n == 0) {
		fprintf(stderr, "whydenied: roles import needs a FILE (a saved "
			"roles.list response or 'gcloud iam roles list "
			"--format=json' output; '-' for standard input)\n");
		return WD_EXIT_USAGE;
	}
	wd_err_clear(&err);
	b = wd_roles_builder_new();
	for (i = 0; i < cfg->args.n && ret == 0; i++)
		ret = feed_file(b, cfg->args.v[i], &err);
	if (ret == 0 && wd_roles_builder_finish(&r, b, &err) < 0) {
		char msg[sizeof(err.msg)];

		/* What the end of the stream showed is about the last file. */
		memcpy(msg, err.msg, sizeof(msg));
		ret = wd_err_set(&err, err.code, "'%s': %s",
				 cfg->args.v[cfg->args.n - 1], msg);
	}
	if (ret < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		ret = WD_EXIT_INPUT;
		goto out_free;
	}
	if (wd_roles_count(r) == 0) {
		fprintf(stderr, "whydenied: no roles found in the input (is it "
			"a roles.list response?)\n");
		ret = WD_EXIT_INPUT;
		goto out_free;
	}
	ret = save_index(r, wd_roles_builder_skipped(b),
			 wd_roles_builder_duplicates(b));
out_free:
	wd_roles_free(r);
	wd_roles_builder_free(b);
	return ret;
}

/* The cached index, else the built-in table; says which on stdout. */
static struct wd_roles *open_index(void)
{
	struct wd_roles *r = NULL;
	struct wd_buf path;
	struct wd_err err;
	struct stat st;

	wd_err_clear(&err);
	if (cache_path(&path) == 0 && stat(path.ptr, &st) == 0) {
		if (wd_roles_load(&r, path.ptr, &err) == 0) {
			printf("role index: %zu roles, %zu permissions\n",
			       wd_roles_count(r), wd_roles_permissions(r));
			wd_buf_release(&path);
			return r;
		}
		fprintf(stderr, "whydenied: %s; using the built-in table\n",
			err.msg);
	}
	wd_buf_release(&path);
	r = wd_roles_builtin();
	printf("role index: none, using the built-in table\n(run "
	       "'whydenied roles update' or 'whydenied roles import FILE' "
	       "to rank every predefined role)\n");
	return r;
}

/* Spaces after a role name to line up the next column. */
static int pad(const char *name)
{
	size_t n = strlen(name);

	return n < 44 ? (int)(44 - n) : 1;
}

static void print_candidates(const struct wd_roles *r, const char *perm,
			     const struct wd_role_info *c, size_t n,
			     size_t total)
{
	size_t i;

	fputc('\n', stdout);
	wd_put_safe(stdout, perm);
	fputc('\n', stdout);
	for (i = 0; i < n; i++) {
		fputs("  ", stdout);
		wd_put_safe(stdout, c[i].name);
		if (!wd_roles_is_builtin(r))
			printf("%*s%6zu  %s%s", pad(c[i].name), "",
			       c[i].permissions, c[i].stage,
			       c[i].basic ? "  basic role" : "");
		else if (i > 0 || c[i].basic)
			printf("  (%s%s)", i > 0 ? "alternative" : "",
			       c[i].basic ? (i > 0 ? ", basic role" :
					     "basic role") : "");
		fputc('\n', stdout);
	}
	if (total > n)
		printf("  ... and %zu more\n", total - n);
	if (n > 0 && c[0].basic)
		printf("  note: only a basic role holds it; a custom role "
		       "would grant less\n");
	if (total == 0)
		printf("  %s\n", wd_roles_is_builtin(r) ?
		       "not in the built-in table" :
		       "no predefined role holds it");
}

static int run_lookup(const struct wd_config *cfg)
{
	struct wd_role_info c[LOOKUP_MAX];
	struct wd_roles *r;
	size_t i, missing = 0;

	if (cfg->args.n == 0) {
		fprintf(stderr, "whydenied: roles lookup needs at least one "
			"PERMISSION, like compute.instances.create\n");
		return WD_EXIT_USAGE;
	}
	r = open_index();
	for (i = 0; i < cfg->args.n; i++) {
		size_t total = wd_roles_candidates(r, cfg->args.v[i], c,
						   LOOKUP_MAX);

		print_candidates(r, cfg->args.v[i], c,
				 total < LOOKUP_MAX ? total : LOOKUP_MAX,
				 total);
		missing += total == 0;
	}
	if (cfg->args.n > 1) {
		struct wd_buf role, alt, note;

		wd_buf_init(&role, 1024);
		wd_buf_init(&alt, 1024);
		wd_buf_init(&note, 4096);
		printf("\nall %zu together\n", cfg->args.n);
		if (wd_roles_best(r, cfg->args.v, cfg->args.n, &role, &alt,
				  &note)) {
			fputs("  ", stdout);
			wd_put_safe(stdout, role.ptr);
			fputc('\n', stdout);
			if (alt.len) {
				fputs("  ", stdout);
				wd_put_safe(stdout, alt.ptr);
				printf("  (alternative)\n");
			}
			if (note.len) {
				fputs("  note: ", stdout);
				wd_put_safe(stdout, note.ptr);
				fputc('\n', stdout);
			}
		} else {
			printf("  no role found\n");
		}
		wd_buf_release(&role);
		wd_buf_release(&alt);
		wd_buf_release(&note);
	}
	wd_roles_free(r);
	return missing ? WD_EXIT_FINDINGS : WD_EXIT_OK;
}

/* --- update: roles.list from the IAM API ---------------------------- */

#define IAM_ENDPOINT "https://iam.googleapis.com"
#define PAGE_CAP ((size_t)256 << 20)	/* one roles.list page */
#define PAGE_ITEMS 10000		/* roles in one page */

/* One page is kept whole until it arrived (a retried page starts over),
 * then goes to the builder. */
struct update {
	const struct wd_config *cfg;
	struct wd_buf page;
	struct wd_page_check *pc;
};

static void on_note(void *ctx, const char *msg)
{
	const struct update *u = ctx;

	if (!u->cfg->quiet)
		fprintf(stderr, "whydenied: %s\n", msg);
}

static void page_begin(void *ctx, unsigned attempt)
{
	struct update *u = ctx;

	(void)attempt;
	wd_buf_clear(&u->page);
	wd_page_check_reset(u->pc);
}

static int page_data(void *ctx, const char *p, size_t n, struct wd_err *err)
{
	struct update *u = ctx;

	if (wd_page_check_feed(u->pc, p, n) != n) {
		wd_page_check_failed(u->pc, err);
		return err->code;
	}
	if (wd_buf_add(&u->page, p, n) < 0)
		return wd_err_set(err, WD_ELIMIT, "a roles.list page is larger "
				  "than %zu MiB", PAGE_CAP >> 20);
	return 0;
}

static int page_end(void *ctx, enum wd_api_end how, const char *why,
		    struct wd_err *err)
{
	struct update *u = ctx;

	(void)why;
	if (how != WD_API_END_COMPLETE)
		return 0;
	return wd_page_check_finish(u->pc, err);
}

static const struct wd_api_sink page_sink = {
	page_begin, page_data, page_end,
};

/* Reads every page into b; returns 0 or <0 with err. */
static int fetch_pages(struct update *u, struct wd_api *api,
		       struct wd_roles_builder *b, const char *endpoint,
		       uint64_t *pages, struct wd_err *err)
{
	struct wd_api_request rq;
	struct wd_api_result res;
	struct wd_buf url, token;
	int ret = 0;

	wd_buf_init(&url, 2 * WD_PAGE_TOKEN_MAX + 8192);
	wd_buf_init(&token, WD_PAGE_TOKEN_MAX + 1);
	for (*pages = 0;; (*pages)++) {
		if (*pages >= u->cfg->max_pages) {
			ret = wd_err_set(err, WD_ELIMIT, "more than %llu pages "
					 "of roles (--max-pages)",
					 (unsigned long long)u->cfg->max_pages);
			break;
		}
		wd_buf_clear(&url);
		wd_buf_adds(&url, endpoint);
		while (url.len > 0 && url.ptr[url.len - 1] == '/')
			url.ptr[--url.len] = '\0';
		wd_buf_adds(&url, "/v1/roles?view=FULL&pageSize=1000");
		if (token.len) {
			wd_buf_adds(&url, "&pageToken=");
			wd_http_form_escape(&url, token.ptr);
		}
		memset(&rq, 0, sizeof(rq));
		rq.method = "GET";
		rq.url = url.ptr;
		rq.stream_cap = PAGE_CAP;
		rq.sink = &page_sink;
		rq.sink_ctx = u;
		rq.what = "IAM roles.list";
		wd_api_result_init(&res);
		ret = wd_api_do(api, &rq, &res, err);
		wd_api_result_release(&res);
		if (ret < 0)
			break;
		ret = wd_roles_builder_feed(b, u->page.ptr ? u->page.ptr : "",
					    u->page.len, err);
		if (ret < 0)
			break;
		if (wd_page_check_token(u->pc)[0] == '\0') {
			(*pages)++;
			break;
		}
		if (strcmp(wd_page_check_token(u->pc),
			   token.ptr ? token.ptr : "") == 0) {
			ret = wd_err_set(err, WD_EAPI, "IAM roles.list sent "
					 "the same nextPageToken twice");
			break;
		}
		wd_buf_clear(&token);
		if (wd_buf_adds(&token, wd_page_check_token(u->pc)) < 0) {
			ret = wd_err_set(err, WD_ELIMIT, "nextPageToken too "
					 "long");
			break;
		}
	}
	wd_buf_release(&url);
	wd_buf_release(&token);
	return ret;
}

static int run_update(const struct wd_config *cfg)
{
	const char *endpoint = cfg->endpoint && *cfg->endpoint ?
			       cfg->endpoint : IAM_ENDPOINT;
	struct wd_roles_builder *b = NULL;
	struct wd_roles *r = NULL;
	struct wd_cred_env env;
	struct wd_cred *cred = NULL;
	struct wd_api *api = NULL;
	struct wd_api_opts ao;
	struct update u;
	struct wd_err err;
	uint64_t pages = 0;
	int ret;

	wd_err_clear(&err);
	if (cfg->args.n > 0) {
		fprintf(stderr, "whydenied: roles update takes no arguments "
			"('%s')\n", cfg->args.v[0]);
		return WD_EXIT_USAGE;
	}
	if (wd_api_check_endpoint(endpoint, &err) < 0)
		goto out_err;
	wd_cred_env_from_process(&env, cfg->access_token_file);
	if (wd_cred_discover(&cred, &env, &err) < 0)
		goto out_err;
	memset(&u, 0, sizeof(u));
	u.cfg = cfg;
	wd_buf_init(&u.page, PAGE_CAP);
	u.pc = wd_page_check_new("roles", PAGE_ITEMS);
	memset(&ao, 0, sizeof(ao));
	ao.max_retries = cfg->max_retries;
	ao.timeout_ms = WD_HTTP_TIMEOUT_MS;
	ao.note = on_note;
	ao.note_ctx = &u;
	if (wd_api_new(&api, cred, &ao, &err) < 0)
		goto out_release;
	b = wd_roles_builder_new();
	if (fetch_pages(&u, api, b, endpoint, &pages, &err) < 0 ||
	    wd_roles_builder_finish(&r, b, &err) < 0)
		goto out_release;
	if (wd_roles_count(r) == 0) {
		wd_err_set(&err, WD_EAPI, "IAM roles.list returned no roles");
		goto out_release;
	}
	printf("read %llu page%s from %s\n", (unsigned long long)pages,
	       pages == 1 ? "" : "s", endpoint);
	ret = save_index(r, wd_roles_builder_skipped(b),
			 wd_roles_builder_duplicates(b));
	goto out_free;
out_release:
	fprintf(stderr, "whydenied: %s\n", err.msg);
	ret = err.code == WD_EUSAGE ? WD_EXIT_USAGE : WD_EXIT_INPUT;
out_free:
	wd_roles_free(r);
	wd_roles_builder_free(b);
	wd_api_free(api);
	wd_page_check_free(u.pc);
	wd_buf_release(&u.page);
	wd_cred_free(cred);
	return ret;
out_err:
	fprintf(stderr, "whydenied: %s\n", err.msg);
	wd_cred_free(cred);
	return err.code == WD_EUSAGE ? WD_EXIT_USAGE : WD_EXIT_INPUT;
}

static const struct {
	const char *name;
	int (*run)(const struct wd_config *cfg);
} subcommands[] = {
	{ "import", run_import },
	{ "lookup", run_lookup },
	{ "update", run_update },
};

int wd_run_roles(const struct wd_config *cfg)
{
	size_t i;
	int ret = WD_EXIT_USAGE;
	bool found = false;

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(cfg->subcommand, subcommands[i].name) == 0) {
			ret = subcommands[i].run(cfg);
			found = true;
			break;
		}
	}
	if (!found) {
		fprintf(stderr, "whydenied: unknown roles subcommand '%s' "
			"(update, import or lookup)\n", cfg->subcommand);
		return WD_EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "whydenied: cannot write to standard output: "
			"%s\n", strerror(errno));
		return WD_EXIT_INPUT;
	}
	return ret;
}
