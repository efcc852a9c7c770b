/* load.c - reads and checks rule files (see whydenied/rules.h). */
#include "rules_int.h"
#include "whydenied/jdom.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RULE_FILE_MAX (8u << 20)

const char *const wd_std_vars[] = {
	"permission", "permissions", "project", "principal", "member",
	"service", "method", "resource", "disabled_service", "consumer",
	"constraint", "perimeter", "vpcsc_id", "quota_metric", "quota_limit",
	"role", "role_alternative", "role_note", "rule", "category", "level",
	NULL,
};

static const char *const cat_names[WD_CAT__COUNT] = {
	"IAM_PERMISSION", "IAM_DENY_POLICY", "API_DISABLED", "BILLING",
	"ORG_POLICY", "VPC_SC", "QUOTA", "AUTHN", "CAPACITY", "NOT_FOUND",
	"PRECONDITION", "UNKNOWN",
};

static const char *const level_names[WD_LEVEL__COUNT] = {
	"low", "medium", "high", "critical",
};

const char *wd_category_name(enum wd_category c)
{
	return (int)c >= 0 && c < WD_CAT__COUNT ? cat_names[c] : "UNKNOWN";
}

int wd_category_parse(const char *s)
{
	int i;

	for (i = 0; i < WD_CAT__COUNT; i++)
		if (strcmp(s, cat_names[i]) == 0)
			return i;
	return -1;
}

const char *wd_level_name(enum wd_level l)
{
	return (int)l >= 0 && l < WD_LEVEL__COUNT ? level_names[l] : "low";
}

int wd_level_parse(const char *s)
{
	int i;

	for (i = 0; i < WD_LEVEL__COUNT; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

struct loader {
	wd_problem_fn *on_problem;
	void *pctx;
	const char *file;
	size_t problems;
	struct wd_ruleset *rs;
	size_t dir_first;	/* first rule index of the current dir */
	/* Names a template of the current rule may use. */
	char **names;
	size_t nnames;
};

static void problem(struct loader *ld, const struct wd_jnode *at,
		    const char *fmt, ...) WD_PRINTF(3, 4);

static void problem(struct loader *ld, const struct wd_jnode *at,
		    const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->problems++;
	if (ld->on_problem)
		ld->on_problem(ld->pctx, ld->file, at ? at->line : 1,
			       at ? at->col : 1, msg);
}

void wd_cond_release(struct cond *c)
{
	size_t i;

	for (i = 0; i < c->nkids; i++)
		wd_cond_release(&c->kids[i]);
	free(c->kids);
	for (i = 0; i < c->nvalues; i++)
		free(c->values[i]);
	free(c->values);
	free(c->value_lens);
	free(c->key);
	if (c->re)
		pcre2_code_free(c->re);
	memset(c, 0, sizeof(*c));
}

static void rule_free(struct wd_rule *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	free(r->id);
	free(r->title);
	free(r->explain);
	free(r->fix);
	free(r->verify);
	free(r->docs);
	free(r->file);
	wd_cond_release(&r->match);
	for (i = 0; i < r->nset; i++) {
		free(r->set_names[i]);
		free(r->set_values[i]);
	}
	free(r->set_names);
	free(r->set_values);
	for (i = 0; i < r->ntests; i++) {
		free(r->tests[i].entry_json);
		for (j = 0; j < r->tests[i].n; j++) {
			free(r->tests[i].keys[j]);
			free(r->tests[i].vals[j]);
		}
		free(r->tests[i].keys);
		free(r->tests[i].vals);
	}
	free(r->tests);
	free(r);
}

static void add_name(struct loader *ld, const char *name, size_t n)
{
	ld->names = wd_xrealloc(ld->names, (ld->nnames + 1) *
				sizeof(*ld->names));
	ld->names[ld->nnames++] = wd_xstrndup(name, n);
}

static void clear_names(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nnames; i++)
		free(ld->names[i]);
	free(ld->names);
	ld->names = NULL;
	ld->nnames = 0;
}

static bool known_var(struct loader *ld, const char *name, size_t n)
{
	size_t i;

	for (i = 0; wd_std_vars[i]; i++)
		if (wd_mem_eq(name, n, wd_std_vars[i]))
			return true;
	if (wd_field_lookup(name, n, NULL, NULL) >= 0)
		return true;
	for (i = 0; i < ld->nnames; i++)
		if (wd_mem_eq(name, n, ld->names[i]))
			return true;
	return false;
}

/* Records the named groups of a compiled regex as template names. */
static void add_groups(struct loader *ld, pcre2_code *re)
{
	uint32_t count = 0, size = 0, i;
	PCRE2_SPTR table;

	pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
	if (count == 0)
		return;
	pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count; i++) {
		const char *name = (const char *)table + i * size + 2;

		add_name(ld, name, strlen(name));
	}
}

static bool is_cond_key(const char *k)
{
	static const char *const keys[] = {
		"all", "any", "not", "field", "equals", "prefix", "regex",
		"exists", NULL,
	};
	size_t i;

	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static int compile_cond(struct loader *ld, const struct wd_jnode *j,
			struct cond *c);

static int compile_list(struct loader *ld, const struct wd_jnode *j,
			struct cond *c, const char *op)
{
	size_t i;
	int ret = 0;

	if (j->type != WD_J_ARR || j->n == 0) {
		problem(ld, j, "'%s' takes a non-empty array of conditions",
			op);
		return -1;
	}
	c->kids = wd_xcalloc(j->n, sizeof(*c->kids));
	c->nkids = j->n;
	for (i = 0; i < j->n; i++)
		if (compile_cond(ld, j->kids[i], &c->kids[i]) < 0)
			ret = -1;
	return ret;
}

static int compile_cond(struct loader *ld, const struct wd_jnode *j,
			struct cond *c)
{
	const struct wd_jnode *field, *v;
	size_t i, ops = 0;
	const char *op = NULL;
	int f;

	memset(c, 0, sizeof(*c));
	if (j->type != WD_J_OBJ) {
		problem(ld, j, "a condition must be an object");
		return -1;
	}
	for (i = 0; i < j->n; i++) {
		if (!is_cond_key(j->keys[i])) {
			problem(ld, j->kids[i], "unknown key '%s' in condition",
				j->keys[i]);
			return -1;
		}
		if (strcmp(j->keys[i], "field") != 0) {
			ops++;
			op = j->keys[i];
		}
	}
	if (ops != 1) {
		problem(ld, j, "a condition needs exactly one of all, any, "
			"not, equals, prefix, regex, exists");
		return -1;
	}
	v = wd_jdom_get(j, op);
	field = wd_jdom_get(j, "field");
	if (strcmp(op, "all") == 0 || strcmp(op, "any") == 0) {
		c->op = op[1] == 'l' ? C_ALL : C_ANY;
		if (field)
			problem(ld, field, "'%s' takes no field", op);
		return compile_list(ld, v, c, op);
	}
	if (strcmp(op, "not") == 0) {
		c->op = C_NOT;
		c->kids = wd_xcalloc(1, sizeof(*c->kids));
		c->nkids = 1;
		return compile_cond(ld, v, &c->kids[0]);
	}
	if (field == NULL || field->type != WD_J_STR) {
		problem(ld, j, "'%s' needs a \"field\" string", op);
		return -1;
	}
	f = wd_field_lookup(field->str, field->len, NULL, NULL);
	if (f < 0) {
		problem(ld, field, "unknown field '%s' (see docs/record.md)",
			field->str);
		return -1;
	}
	c->field = f;
	if (f == WD_F_ERROR_METADATA) {
		const char *k;
		size_t kl;

		wd_field_lookup(field->str, field->len, &k, &kl);
		c->key = wd_xstrndup(k, kl);
		c->key_len = kl;
	}
	if (strcmp(op, "exists") == 0) {
		c->op = C_EXISTS;
		if (v->type != WD_J_BOOL) {
			problem(ld, v, "'exists' takes true or false");
			return -1;
		}
		c->exists = v->b;
		return 0;
	}
	if (strcmp(op, "regex") == 0) {
		int code;
		PCRE2_SIZE off;

		c->op = C_REGEX;
		if (v->type != WD_J_STR) {
			problem(ld, v, "'regex' takes a string");
			return -1;
		}
		c->re = pcre2_compile((PCRE2_SPTR)v->str, v->len, 0, &code,
				      &off, NULL);
		if (c->re == NULL) {
			PCRE2_UCHAR buf[256];

			pcre2_get_error_message(code, buf, sizeof(buf));
			problem(ld, v, "bad regex: offset %zu: %s", (size_t)off,
				(const char *)buf);
			return -1;
		}
		/* JIT failure is not an error: the interpreter is used. */
		(void)pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);
		add_groups(ld, c->re);
		return 0;
	}
	c->op = strcmp(op, "prefix") == 0 ? C_PREFIX : C_EQUALS;
	if (v->type == WD_J_STR || v->type == WD_J_NUM) {
		c->values = wd_xcalloc(1, sizeof(*c->values));
		c->value_lens = wd_xcalloc(1, sizeof(*c->value_lens));
		c->values[0] = wd_xstrndup(v->str, v->len);
		c->value_lens[0] = v->len;
		c->nvalues = 1;
		return 0;
	}
	if (v->type != WD_J_ARR || v->n == 0) {
		problem(ld, v, "'%s' takes a string, a number or a non-empty "
			"array of them", op);
		return -1;
	}
	c->values = wd_xcalloc(v->n, sizeof(*c->values));
	c->value_lens = wd_xcalloc(v->n, sizeof(*c->value_lens));
	for (i = 0; i < v->n; i++) {
		const struct wd_jnode *x = v->kids[i];

		if (x->type != WD_J_STR && x->type != WD_J_NUM) {
			problem(ld, x, "'%s' values must be strings or "
				"numbers", op);
			return -1;
		}
		c->values[i] = wd_xstrndup(x->str, x->len);
		c->value_lens[i] = x->len;
		c->nvalues++;
	}
	return 0;
}

/* Checks every ${name} of a template. */
static void check_template(struct loader *ld, const struct wd_jnode *j,
			   const char *what)
{
	const char *p = j->str, *q, *end;

	while ((q = strstr(p, "${")) != NULL) {
		end = strchr(q + 2, '}');
		if (end == NULL) {
			problem(ld, j, "%s: unterminated '${'", what);
			return;
		}
		if (!known_var(ld, q + 2, (size_t)(end - q - 2)))
			problem(ld, j, "%s: unknown template variable '%.*s'",
				what, (int)(end - q - 2), q + 2);
		p = end + 1;
	}
}

static char *take_str(struct loader *ld, const struct wd_jnode *obj,
		      const char *key, bool required, bool *ok)
{
	const struct wd_jnode *v = wd_jdom_get(obj, key);

	if (v == NULL) {
		if (required) {
			problem(ld, obj, "rule lacks '%s'", key);
			*ok = false;
		}
		return NULL;
	}
	if (v->type != WD_J_STR) {
		problem(ld, v, "'%s' must be a string", key);
		*ok = false;
		return NULL;
	}
	return wd_xstrndup(v->str, v->len);
}

static bool is_rule_key(const char *k)
{
	static const char *const keys[] = {
		"id", "category", "level", "priority", "title", "explain",
		"fix", "verify", "docs", "match", "set", "tests", NULL,
	};
	size_t i;

	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static void load_tests(struct loader *ld, struct wd_rule *r,
		       const struct wd_jnode *t, bool *ok)
{
	size_t i, k;

	if (t->type != WD_J_ARR) {
		problem(ld, t, "'tests' must be an array");
		*ok = false;
		return;
	}
	r->tests = wd_xcalloc(t->n ? t->n : 1, sizeof(*r->tests));
	for (i = 0; i < t->n; i++) {
		const struct wd_jnode *x = t->kids[i], *entry, *expect;
		struct rule_test *rt = &r->tests[r->ntests];

		entry = wd_jdom_get(x, "entry");
		expect = wd_jdom_get(x, "expect");
		if (x->type != WD_J_OBJ || entry == NULL ||
		    entry->type != WD_J_OBJ || expect == NULL ||
		    expect->type != WD_J_OBJ) {
			problem(ld, x, "a test needs an \"entry\" object and "
				"an \"expect\" object");
			*ok = false;
			continue;
		}
		for (k = 0; k < x->n; k++)
			if (strcmp(x->keys[k], "entry") != 0 &&
			    strcmp(x->keys[k], "expect") != 0)
				problem(ld, x->kids[k],
					"unknown key '%s' in test",
					x->keys[k]);
		rt->line = x->line;
		rt->entry_json = wd_jdom_to_json(entry, &rt->entry_len);
		rt->keys = wd_xcalloc(expect->n + 1, sizeof(*rt->keys));
		rt->vals = wd_xcalloc(expect->n + 1, sizeof(*rt->vals));
		for (k = 0; k < expect->n; k++) {
			const struct wd_jnode *ev = expect->kids[k];
			const char *key = expect->keys[k];

			if (ev->type == WD_J_BOOL) {
				rt->vals[rt->n] = wd_xstrdup(ev->b ? "true" :
							     "false");
			} else if (ev->type == WD_J_STR ||
				   ev->type == WD_J_NUM) {
				rt->vals[rt->n] = wd_xstrndup(ev->str,
							      ev->len);
			} else {
				problem(ld, ev, "expected values are strings");
				*ok = false;
				continue;
			}
			if (strcmp(key, "category") == 0 &&
			    wd_category_parse(rt->vals[rt->n]) < 0) {
				problem(ld, ev, "unknown category '%s'",
					rt->vals[rt->n]);
				*ok = false;
			}
			if (strcmp(key, "rule") != 0 &&
			    strcmp(key, "category") != 0 &&
			    strcmp(key, "failure") != 0 &&
			    !known_var(ld, key, strlen(key))) {
				problem(ld, ev, "expect: unknown variable '%s'",
					key);
				*ok = false;
			}
			rt->keys[rt->n++] = wd_xstrdup(key);
		}
		r->ntests++;
	}
}

static struct wd_rule *load_rule(struct loader *ld, const struct wd_jnode *j)
{
	struct wd_rule *r;
	const struct wd_jnode *v, *m, *set, *tests;
	bool ok = true;
	size_t i;
	int x;

	if (j->type != WD_J_OBJ) {
		problem(ld, j, "a rule must be an object");
		return NULL;
	}
	for (i = 0; i < j->n; i++)
		if (!is_rule_key(j->keys[i])) {
			problem(ld, j->kids[i], "unknown key '%s' in rule",
				j->keys[i]);
			ok = false;
		}
	r = wd_xcalloc(1, sizeof(*r));
	r->file = wd_xstrdup(ld->file);
	r->line = j->line;
	r->id = take_str(ld, j, "id", true, &ok);
	if (r->id && r->id[0] == '\0') {
		problem(ld, wd_jdom_get(j, "id"), "empty rule id");
		ok = false;
	}
	v = wd_jdom_get(j, "category");
	x = v && v->type == WD_J_STR ? wd_category_parse(v->str) : -1;
	if (x < 0 || x == WD_CAT_UNKNOWN) {
		problem(ld, v ? v : j, "rule needs a 'category' of "
			"IAM_PERMISSION, IAM_DENY_POLICY, API_DISABLED, "
			"BILLING, ORG_POLICY, VPC_SC, QUOTA, AUTHN, CAPACITY, "
			"NOT_FOUND, PRECONDITION");
		ok = false;
	}
	r->category = x < 0 ? WD_CAT_UNKNOWN : (enum wd_category)x;
	v = wd_jdom_get(j, "level");
	x = v && v->type == WD_J_STR ? wd_level_parse(v->str) : -1;
	if (x < 0) {
		problem(ld, v ? v : j, "rule needs a 'level' of critical, "
			"high, medium, low");
		ok = false;
	}
	r->level = x < 0 ? WD_LEVEL_LOW : (enum wd_level)x;
	v = wd_jdom_get(j, "priority");
	if (v) {
		char *end;
		long p = v->type == WD_J_NUM ? strtol(v->str, &end, 10) : 0;

		if (v->type != WD_J_NUM || *end != '\0' || p < -100000 ||
		    p > 100000) {
			problem(ld, v, "'priority' must be an integer");
			ok = false;
		}
		r->priority = (int)p;
	}
	r->title = take_str(ld, j, "title", true, &ok);
	r->explain = take_str(ld, j, "explain", true, &ok);
	r->fix = take_str(ld, j, "fix", false, &ok);
	r->verify = take_str(ld, j, "verify", false, &ok);
	r->docs = take_str(ld, j, "docs", true, &ok);
	if (r->docs && strncmp(r->docs, "https://", 8) != 0) {
		problem(ld, wd_jdom_get(j, "docs"), "'docs' must be an https "
			"URL");
		ok = false;
	}
	m = wd_jdom_get(j, "match");
	if (m == NULL) {
		problem(ld, j, "rule lacks 'match'");
		ok = false;
	} else if (compile_cond(ld, m, &r->match) < 0) {
		ok = false;
	}
	set = wd_jdom_get(j, "set");
	if (set && set->type != WD_J_OBJ) {
		problem(ld, set, "'set' must be an object");
		ok = false;
	} else if (set) {
		r->set_names = wd_xcalloc(set->n + 1, sizeof(char *));
		r->set_values = wd_xcalloc(set->n + 1, sizeof(char *));
		for (i = 0; i < set->n; i++) {
			if (set->kids[i]->type != WD_J_STR) {
				problem(ld, set->kids[i], "'set' values must "
					"be strings");
				ok = false;
				continue;
			}
			r->set_names[r->nset] = wd_xstrdup(set->keys[i]);
			r->set_values[r->nset++] =
				wd_xstrndup(set->kids[i]->str,
					    set->kids[i]->len);
			add_name(ld, set->keys[i], strlen(set->keys[i]));
		}
		for (i = 0; i < set->n; i++)
			if (set->kids[i]->type == WD_J_STR)
				check_template(ld, set->kids[i], "set");
	}
	{
		static const char *const tk[] = {
			"title", "explain", "fix", "verify",
		};

		for (i = 0; i < 4; i++) {
			v = wd_jdom_get(j, tk[i]);
			if (v && v->type == WD_J_STR)
				check_template(ld, v, tk[i]);
		}
	}
	tests = wd_jdom_get(j, "tests");
	if (tests)
		load_tests(ld, r, tests, &ok);
	clear_names(ld);
	if (!ok) {
		rule_free(r);
		return NULL;
	}
	return r;
}

static void add_rule(struct loader *ld, struct wd_rule *r,
		     const struct wd_jnode *at)
{
	struct wd_ruleset *rs = ld->rs;
	size_t i;

	for (i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i]->id, r->id) != 0)
			continue;
		if (i >= ld->dir_first) {
			problem(ld, at, "duplicate rule id '%s' (first in "
				"%s:%u)", r->id, rs->rules[i]->file,
				rs->rules[i]->line);
			rule_free(r);
			return;
		}
		/* A later directory overrides an earlier one by id. */
		r->index = rs->rules[i]->index;
		rule_free(rs->rules[i]);
		rs->rules[i] = r;
		return;
	}
	rs->rules = wd_xrealloc(rs->rules, (rs->n + 1) * sizeof(*rs->rules));
	r->index = rs->n;
	rs->rules[rs->n++] = r;
}

static void load_text(struct loader *ld, const char *text, size_t len)
{
	struct wd_jnode *root = NULL;
	const struct wd_jnode *rules;
	struct wd_err err;
	size_t i;

	wd_err_clear(&err);
	if (wd_jdom_parse(&root, text, len, &err) < 0) {
		char where[64];
		unsigned line = 1, col = 1;
		const char *msg = err.msg;

		/* err is "LINE:COL: message". */
		if (sscanf(err.msg, "%u:%u:", &line, &col) == 2) {
			snprintf(where, sizeof(where), "%u:%u: ", line, col);
			if (strncmp(err.msg, where, strlen(where)) == 0)
				msg = err.msg + strlen(where);
		}
		ld->problems++;
		if (ld->on_problem)
			ld->on_problem(ld->pctx, ld->file, line, col, msg);
		return;
	}
	rules = wd_jdom_get(root, "rules");
	if (root->type != WD_J_OBJ || rules == NULL ||
	    rules->type != WD_J_ARR) {
		problem(ld, root, "a rule file is an object with a \"rules\" "
			"array");
		wd_jdom_free(root);
		return;
	}
	for (i = 0; i < root->n; i++)
		if (strcmp(root->keys[i], "rules") != 0)
			problem(ld, root->kids[i], "unknown top-level key '%s'",
				root->keys[i]);
	for (i = 0; i < rules->n; i++) {
		struct wd_rule *r = load_rule(ld, rules->kids[i]);

		if (r)
			add_rule(ld, r, rules->kids[i]);
	}
	wd_jdom_free(root);
}

static void load_file(struct loader *ld, const char *path)
{
	FILE *fp;
	struct wd_buf text;
	char chunk[65536];
	size_t n;

	ld->file = path;
	fp = fopen(path, "rb");
	if (fp == NULL) {
		problem(ld, NULL, "cannot open: %s", strerror(errno));
		return;
	}
	wd_buf_init(&text, RULE_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (wd_buf_add(&text, chunk, n) < 0) {
			problem(ld, NULL, "rule file larger than 8 MiB");
			fclose(fp);
			wd_buf_release(&text);
			return;
		}
	}
	if (ferror(fp))
		problem(ld, NULL, "read error");
	fclose(fp);
	load_text(ld, text.ptr ? text.ptr : "", text.len);
	wd_buf_release(&text);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_json_name(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && strcmp(n + l - 5, ".json") == 0 && n[0] != '.';
}

static void load_dir(struct loader *ld, const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;

	ld->dir_first = ld->rs->n;
	if (dp == NULL) {
		ld->file = dir;
		problem(ld, NULL, "cannot open rules directory: %s",
			strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (!is_json_name(de->d_name))
			continue;
		names = wd_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = wd_xstrdup(de->d_name);
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		struct wd_buf p;

		wd_buf_init(&p, 8192);
		if (wd_buf_printf(&p, "%s%s%s", dir,
				  dir[0] && dir[strlen(dir) - 1] == '/' ? "" :
				  "/", names[i]) == 0)
			load_file(ld, p.ptr);
		wd_buf_release(&p);
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		ld->file = dir;
		problem(ld, NULL, "no rule files (*.json) in directory");
	}
}

static int cmp_match_order(const void *a, const void *b)
{
	const struct wd_rule *x = *(const struct wd_rule *const *)a;
	const struct wd_rule *y = *(const struct wd_rule *const *)b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int finish(struct loader *ld, struct wd_ruleset **out,
		  struct wd_err *err)
{
	struct wd_ruleset *rs = ld->rs;
	size_t i;

	clear_names(ld);
	if (ld->problems > 0) {
		wd_ruleset_free(rs);
		return wd_err_set(err, WD_ERULES, "%zu problem%s in rule files",
				  ld->problems, ld->problems == 1 ? "" : "s");
	}
	rs->sorted = wd_xcalloc(rs->n ? rs->n : 1, sizeof(*rs->sorted));
	for (i = 0; i < rs->n; i++)
		rs->sorted[i] = rs->rules[i];
	if (rs->n > 1)
		qsort(rs->sorted, rs->n, sizeof(*rs->sorted),
		      cmp_match_order);
	rs->mctx = pcre2_match_context_create(NULL);
	/* Bounds for a rule's regex on hostile input: a catastrophic
	 * pattern stops here and is reported by rule id. */
	pcre2_set_match_limit(rs->mctx, 1000000);
	pcre2_set_depth_limit(rs->mctx, 10000);
	pcre2_set_heap_limit(rs->mctx, 20000);	/* KiB */
	*out = rs;
	return 0;
}

int wd_ruleset_load(struct wd_ruleset **out, const char *const *dirs,
		    size_t ndirs, wd_problem_fn *on_problem, void *pctx,
		    struct wd_err *err)
{
	struct loader ld;
	size_t i;

	memset(&ld, 0, sizeof(ld));
	ld.on_problem = on_problem;
	ld.pctx = pctx;
	ld.rs = wd_xcalloc(1, sizeof(*ld.rs));
	for (i = 0; i < ndirs; i++)
		load_dir(&ld, dirs[i]);
	return finish(&ld, out, err);
}

int wd_ruleset_load_text(struct wd_ruleset **out, const char *name,
			 const char *text, size_t len,
			 wd_problem_fn *on_problem, void *pctx,
			 struct wd_err *err)
{
	struct loader ld;

	memset(&ld, 0, sizeof(ld));
	ld.on_problem = on_problem;
	ld.pctx = pctx;
	ld.rs = wd_xcalloc(1, sizeof(*ld.rs));
	ld.file = name;
	if (len > RULE_FILE_MAX) {
		problem(&ld, NULL, "rule file larger than 8 MiB");
		return finish(&ld, out, err);
	}
	load_text(&ld, text, len);
	return finish(&ld, out, err);
}

void wd_ruleset_free(struct wd_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	free(rs->sorted);
	if (rs->mctx)
		pcre2_match_context_free(rs->mctx);
	free(rs);
}

size_t wd_ruleset_count(const struct wd_ruleset *rs)
{
	return rs->n;
}

const struct wd_rule *wd_ruleset_rule(const struct wd_ruleset *rs, size_t i)
{
	return i < rs->n ? rs->rules[i] : NULL;
}

void wd_ruleset_set_roles(struct wd_ruleset *rs, wd_role_fn *fn, void *ctx)
{
	rs->role_fn = fn;
	rs->role_ctx = ctx;
}

const char *wd_rule_id(const struct wd_rule *r) { return r->id; }
const char *wd_rule_title(const struct wd_rule *r) { return r->title; }
const char *wd_rule_explain(const struct wd_rule *r) { return r->explain; }
const char *wd_rule_fix(const struct wd_rule *r) { return r->fix; }
const char *wd_rule_verify(const struct wd_rule *r) { return r->verify; }
const char *wd_rule_docs(const struct wd_rule *r) { return r->docs; }
const char *wd_rule_file(const struct wd_rule *r) { return r->file; }
enum wd_category wd_rule_category(const struct wd_rule *r)
{
	return r->category;
}
enum wd_level wd_rule_level(const struct wd_rule *r) { return r->level; }
int wd_rule_priority(const struct wd_rule *r) { return r->priority; }
