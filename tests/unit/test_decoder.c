/* test_decoder.c - every tests/decode/NN-name.json decoded into the flat
 * record must match its NN-name.expect (issue 2, "Tests and samples").
 *
 * One cmocka test per fixture, found at run time. An .expect line is
 *   field=value            one value of field (multi-valued fields: one line
 *                          per value, in input order)
 *   error_metadata.KEY=v   one value of ErrorInfo metadata KEY
 *   !field                 field is absent
 * Every field the .expect names must hold exactly the listed values, in
 * order, and no more; fields it does not name are not checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whydenied/decoder.h"
#include "whydenied/entry.h"

#define DECODE_DIR WD_TEST_DATA "/decode"
#define MAX_FIXTURES 512
#define MAX_EXPECT 1024

struct expect_line {
	int field;
	const char *key;	/* error_metadata.KEY, else NULL */
	size_t key_len;
	const char *val;	/* NULL for "!field" */
	size_t val_len;
	const char *text;	/* the line as written, for messages */
	unsigned lineno;
	bool checked;
};

struct fixture {
	char name[256];		/* NN-name */
	struct wd_decoder *dec;	/* shared: also tests decoder reuse */
	struct wd_entry *entry;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0, k;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 65536;
			p = realloc(p, cap + 1);
			if (p == NULL)
				abort();
		}
		k = fread(p + n, 1, cap - n, fp);
		n += k;
		if (k == 0)
			break;
	}
	fclose(fp);
	p[n] = '\0';
	*len = n;
	return p;
}

/* Splits the .expect text in place into lines. Returns the count. */
static size_t parse_expect(const char *name, char *text,
			   struct expect_line *out)
{
	size_t n = 0;
	unsigned lineno = 0;
	char *line = text;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		char *eq;
		bool neg = false;
		const char *fname = line;
		size_t flen;
		struct expect_line *x;

		if (nl)
			*nl = '\0';
		lineno++;
		if (*line == '\0' || *line == '#')
			goto next;
		if (n >= MAX_EXPECT)
			fail_msg("%s.expect: more than %d lines", name,
				 MAX_EXPECT);
		x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->text = line;
		x->lineno = lineno;
		if (*line == '!') {
			neg = true;
			fname = line + 1;
			flen = strlen(fname);
		} else {
			eq = strchr(line, '=');
			if (eq == NULL)
				fail_msg("%s.expect:%u: no '=' in '%s'", name,
					 lineno, line);
			flen = (size_t)(eq - line);
			x->val = eq + 1;
			x->val_len = strlen(eq + 1);
		}
		x->field = wd_field_lookup(fname, flen, &x->key, &x->key_len);
		if (x->field < 0)
			fail_msg("%s.expect:%u: unknown field '%.*s'", name,
				 lineno, (int)flen, fname);
		(void)neg;
next:
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

static bool same_name(const struct expect_line *a,
		      const struct expect_line *b)
{
	if (a->field != b->field)
		return false;
	if (a->field != WD_F_ERROR_METADATA)
		return true;
	return a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0;
}

/* Prints every value the record holds for the field of x. */
static void dump_values(const struct wd_entry *e, const struct expect_line *x)
{
	size_t pos = 0;
	struct wd_str s;
	unsigned i = 0;

	while (wd_entry_next(e, (enum wd_field)x->field, x->key, x->key_len,
			     &pos, &s))
		print_error("    got[%u] = '%.*s'\n", i++, (int)s.len, s.ptr);
	if (i == 0)
		print_error("    got: (absent)\n");
}

/* Checks every .expect line naming the same field as xs[first]. */
static int check_field(const char *name, const struct wd_entry *e,
		       struct expect_line *xs, size_t nx, size_t first)
{
	const struct expect_line *f = &xs[first];
	char fname[160];
	size_t pos = 0, i, want = 0, got = 0;
	struct wd_str s;
	bool absent = false, ok = true;

	if (f->field == WD_F_ERROR_METADATA)
		snprintf(fname, sizeof(fname), "error_metadata.%.*s",
			 (int)f->key_len, f->key);
	else
		snprintf(fname, sizeof(fname), "%s",
			 wd_field_name((enum wd_field)f->field));
	for (i = first; i < nx; i++) {
		struct expect_line *x = &xs[i];

		if (!same_name(x, f))
			continue;
		x->checked = true;
		if (x->val == NULL) {
			absent = true;
			continue;
		}
		want++;
		if (!wd_entry_next(e, (enum wd_field)x->field, x->key,
				   x->key_len, &pos, &s)) {
			print_error("%s: field '%s': value %zu missing: "
				    "expected '%.*s' (.expect line %u)\n",
				    name, fname, want - 1, (int)x->val_len,
				    x->val, x->lineno);
			ok = false;
			break;
		}
		got++;
		if (s.len != x->val_len || memcmp(s.ptr, x->val, s.len) != 0) {
			print_error("%s: field '%s': value %zu is '%.*s', "
				    "expected '%.*s' (.expect line %u)\n",
				    name, fname, want - 1, (int)s.len, s.ptr,
				    (int)x->val_len, x->val, x->lineno);
			ok = false;
		}
	}
	if (absent && want > 0) {
		print_error("%s: .expect both lists and negates '%s'\n", name,
			    fname);
		return -1;
	}
	if (absent) {
		pos = 0;
		if (wd_entry_next(e, (enum wd_field)f->field, f->key,
				  f->key_len, &pos, &s)) {
			print_error("%s: field '%s' should be absent\n", name,
				    fname);
			dump_values(e, f);
			return -1;
		}
		return 0;
	}
	if (ok && wd_entry_next(e, (enum wd_field)f->field, f->key,
				f->key_len, &pos, &s)) {
		print_error("%s: field '%s' has more values than the %zu "
			    "listed; first extra: '%.*s'\n", name, fname,
			    want, (int)s.len, s.ptr);
		ok = false;
	}
	if (!ok) {
		dump_values(e, f);
		return -1;
	}
	(void)got;
	return 0;
}

static void test_fixture(void **state)
{
	struct fixture *fx = *state;
	char path[512];
	char *json, *exp;
	size_t jn, en, nx, i;
	struct expect_line *xs;
	struct wd_err err;
	enum wd_skip reason = WD_SKIP__COUNT;
	int ret, bad = 0;
	struct wd_str fv;

	snprintf(path, sizeof(path), "%s/%s.json", DECODE_DIR, fx->name);
	json = slurp(path, &jn);
	if (json == NULL)
		fail_msg("%s: cannot read '%s'", fx->name, path);
	snprintf(path, sizeof(path), "%s/%s.expect", DECODE_DIR, fx->name);
	exp = slurp(path, &en);
	if (exp == NULL)
		fail_msg("%s: cannot read '%s'", fx->name, path);
	xs = calloc(MAX_EXPECT, sizeof(*xs));
	assert_non_null(xs);
	nx = parse_expect(fx->name, exp, xs);
	if (nx == 0)
		fail_msg("%s: empty .expect", fx->name);

	wd_err_clear(&err);
	ret = wd_decoder_decode(fx->dec, json, jn, fx->entry, &reason, &err);
	if (ret != 0)
		fail_msg("%s: wd_decoder_decode failed (%d, reason %s): %s",
			 fx->name, ret, wd_skip_name(reason), err.msg);
	assert_int_equal(fx->entry->truncated, 0);

	for (i = 0; i < nx; i++) {
		if (xs[i].checked)
			continue;
		if (check_field(fx->name, fx->entry, xs, nx, i) < 0)
			bad++;
	}
	/* The failure flag and the failure field agree. */
	fv = wd_entry_get(fx->entry, WD_F_FAILURE);
	if (fv.ptr == NULL || !wd_str_eq(fv, fx->entry->failure ? "true" :
					 "false")) {
		print_error("%s: entry->failure (%d) disagrees with field "
			    "'failure' ('%.*s')\n", fx->name,
			    fx->entry->failure, (int)fv.len,
			    fv.ptr ? fv.ptr : "");
		bad++;
	}
	free(xs);
	free(exp);
	free(json);
	if (bad)
		fail_msg("%s: %d field(s) differ from %s.expect", fx->name,
			 bad, fx->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *dp = opendir(DECODE_DIR);
	struct dirent *de;
	char *names[MAX_FIXTURES];
	size_t n = 0, i;
	struct CMUnitTest *tests;
	struct fixture *fx;
	struct wd_decoder *dec;
	struct wd_entry *entry;
	int ret;

	if (dp == NULL) {
		fprintf(stderr, "cannot open '%s'\n", DECODE_DIR);
		return 1;
	}
	while ((de = readdir(dp)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (n == MAX_FIXTURES) {
			fprintf(stderr, "more than %d fixtures\n",
				MAX_FIXTURES);
			return 1;
		}
		names[n] = strndup(de->d_name, l - 5);
		n++;
	}
	closedir(dp);
	if (n == 0) {
		fprintf(stderr, "no fixtures in '%s'\n", DECODE_DIR);
		return 1;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);

	dec = wd_decoder_new();
	entry = malloc(sizeof(*entry));
	tests = calloc(n, sizeof(*tests));
	fx = calloc(n, sizeof(*fx));
	if (!entry || !tests || !fx)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(fx[i].name, sizeof(fx[i].name), "%s", names[i]);
		fx[i].dec = dec;
		fx[i].entry = entry;
		tests[i].name = fx[i].name;
		tests[i].test_func = test_fixture;
		tests[i].initial_state = &fx[i];
		free(names[i]);
	}
	ret = _cmocka_run_group_tests("decoder_fixtures", tests, n, NULL,
				      NULL);
	free(tests);
	free(fx);
	free(entry);
	wd_decoder_free(dec);
	return ret;
}
