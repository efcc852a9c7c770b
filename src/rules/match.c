/* match.c - classifies failure records and renders templates (see
 * whydenied/rules.h). */
#include "rules_int.h"
#include "whydenied/decoder.h"

#include <stdlib.h>
#include <string.h>

#define SCRATCH_SIZE (512u * 1024u)

struct wd_matcher {
	const struct wd_ruleset *rs;
	pcre2_match_data *md;
	char *scratch;
	size_t used;
	struct wd_vars caps;	/* named groups of the rule being tried */
	unsigned long *limit_hits;	/* per rule, load order */
	struct wd_buf tmp;
};

struct wd_matcher *wd_matcher_new(const struct wd_ruleset *rs)
{
	struct wd_matcher *m = wd_xcalloc(1, sizeof(*m));

	m->rs = rs;
	m->md = pcre2_match_data_create(32, NULL);
	m->scratch = wd_xmalloc(SCRATCH_SIZE);
	m->limit_hits = wd_xcalloc(rs->n ? rs->n : 1, sizeof(unsigned long));
	wd_buf_init(&m->tmp, SCRATCH_SIZE);
	return m;
}

void wd_matcher_free(struct wd_matcher *m)
{
	if (m == NULL)
		return;
	pcre2_match_data_free(m->md);
	free(m->scratch);
	free(m->limit_hits);
	wd_buf_release(&m->tmp);
	free(m);
}

static const char *keep(struct wd_matcher *m, const char *p, size_t n)
{
	char *q;

	if (n + 1 > SCRATCH_SIZE - m->used)
		return NULL;
	q = m->scratch + m->used;
	memcpy(q, p, n);
	q[n] = '\0';
	m->used += n + 1;
	return q;
}

/* Whether two variable names are the same, first bytes first: a failure
 * puts about 70 names, each against all the names before it. */
static inline bool same_name(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

struct wd_str wd_vars_get(const struct wd_vars *vars, const char *name)
{
	struct wd_str none = { NULL, 0 };
	size_t i;

	for (i = 0; i < vars->n; i++)
		if (same_name(vars->v[i].name, name))
			return vars->v[i].val;
	return none;
}

static bool vars_has(const struct wd_vars *vars, const char *name,
		     size_t nlen)
{
	size_t i;

	for (i = 0; i < vars->n; i++)
		if (strlen(vars->v[i].name) == nlen &&
		    memcmp(vars->v[i].name, name, nlen) == 0)
			return vars->v[i].val.len > 0;
	return false;
}

/* Sets name (a static or scratch string) unless it already has a value;
 * with force, replaces it. Empty values are not set. */
static void vars_put(struct wd_vars *vars, const char *name, struct wd_str val,
		     bool force)
{
	size_t i;

	if (val.ptr == NULL || val.len == 0)
		return;
	for (i = 0; i < vars->n; i++) {
		if (!same_name(vars->v[i].name, name))
			continue;
		if (force || vars->v[i].val.len == 0)
			vars->v[i].val = val;
		return;
	}
	if (vars->n >= WD_MAX_VARS)
		return;
	vars->v[vars->n].name = name;
	vars->v[vars->n].val = val;
	vars->n++;
}

/* ---- conditions ---- */

static bool eval(struct wd_matcher *m, const struct wd_rule *r,
		 const struct cond *c, const struct wd_entry *e);

/* Appends a capture (first one of a name wins when read, so rollback
 * by truncation is exact). */
static void caps_add(struct wd_vars *caps, const char *name, struct wd_str v)
{
	size_t i;

	if (v.ptr == NULL || v.len == 0)
		return;
	for (i = 0; i < caps->n; i++)
		if (same_name(caps->v[i].name, name))
			return;
	if (caps->n >= WD_MAX_VARS)
		return;
	caps->v[caps->n].name = name;
	caps->v[caps->n].val = v;
	caps->n++;
}

static void capture_groups(struct wd_matcher *m, const pcre2_code *re,
			   const char *subject)
{
	uint32_t count = 0, size = 0, i;
	PCRE2_SPTR table;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);

	pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
	if (count == 0)
		return;
	pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count; i++) {
		const unsigned char *ent = table + i * size;
		unsigned num = (unsigned)(ent[0] << 8 | ent[1]);
		const char *name = (const char *)ent + 2;
		struct wd_str v;

		if (num >= pcre2_get_ovector_count(m->md) ||
		    ov[2 * num] == PCRE2_UNSET)
			continue;
		v.ptr = subject + ov[2 * num];
		v.len = ov[2 * num + 1] - ov[2 * num];
		caps_add(&m->caps, name, v);
	}
}

static bool value_matches(struct wd_matcher *m, const struct wd_rule *r,
			  const struct cond *c, struct wd_str v)
{
	size_t i;
	int rc;

	switch (c->op) {
	case C_EQUALS:
		for (i = 0; i < c->nvalues; i++)
			if (v.len == c->value_lens[i] &&
			    memcmp(v.ptr, c->values[i], v.len) == 0)
				return true;
		return false;
	case C_PREFIX:
		for (i = 0; i < c->nvalues; i++)
			if (v.len >= c->value_lens[i] &&
			    memcmp(v.ptr, c->values[i], c->value_lens[i]) == 0)
				return true;
		return false;
	case C_REGEX:
		rc = pcre2_match(c->re, (PCRE2_SPTR)v.ptr, v.len, 0, 0, m->md,
				 m->rs->mctx);
		if (rc >= 0) {
			capture_groups(m, c->re, v.ptr);
			return true;
		}
		if (rc == PCRE2_ERROR_MATCHLIMIT ||
		    rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_HEAPLIMIT ||
		    rc == PCRE2_ERROR_JIT_STACKLIMIT)
			m->limit_hits[r->index]++;
		return false;
	default:
		return false;
	}
}

static bool eval(struct wd_matcher *m, const struct wd_rule *r,
		 const struct cond *c, const struct wd_entry *e)
{
	size_t i, pos = 0;
	struct wd_str v;

	size_t mark = m->caps.n;
	bool ok;

	/* Named groups count only from branches that hold: a failed
	 * branch, and anything under a "not", takes its captures back. */
	switch (c->op) {
	case C_ALL:
		for (i = 0; i < c->nkids; i++)
			if (!eval(m, r, &c->kids[i], e)) {
				m->caps.n = mark;
				return false;
			}
		return true;
	case C_ANY:
		for (i = 0; i < c->nkids; i++) {
			if (eval(m, r, &c->kids[i], e))
				return true;
			m->caps.n = mark;
		}
		return false;
	case C_NOT:
		ok = eval(m, r, &c->kids[0], e);
		m->caps.n = mark;
		return !ok;
	case C_EXISTS:
		return wd_entry_next(e, (enum wd_field)c->field, c->key,
				     c->key_len, &pos, &v) == c->exists;
	default:
		while (wd_entry_next(e, (enum wd_field)c->field, c->key,
				     c->key_len, &pos, &v))
			if (value_matches(m, r, c, v))
				return true;
		return false;
	}
}

/* ---- variables ---- */

static struct wd_str get(const struct wd_entry *e, enum wd_field f)
{
	return wd_entry_get(e, f);
}

static struct wd_str meta(const struct wd_entry *e, const char *key)
{
	struct wd_str v = { NULL, 0 };
	size_t pos = 0;

	wd_entry_next(e, WD_F_ERROR_METADATA, key, strlen(key), &pos, &v);
	return v;
}

static bool has_value(const struct wd_entry *e, enum wd_field f,
		      const char *lit)
{
	struct wd_str v;
	size_t pos = 0;

	while (wd_entry_next(e, f, NULL, 0, &pos, &v))
		if (wd_str_eq(v, lit))
			return true;
	return false;
}

/* The k-th value of f, or empty. */
static struct wd_str nth(const struct wd_entry *e, enum wd_field f, size_t k)
{
	struct wd_str v = { NULL, 0 };
	size_t pos = 0, i = 0;

	while (wd_entry_next(e, f, NULL, 0, &pos, &v))
		if (i++ == k)
			return v;
	v.ptr = NULL;
	v.len = 0;
	return v;
}

/* "projects/ID/..." -> ID */
static struct wd_str project_of(struct wd_str s)
{
	struct wd_str out = { NULL, 0 };
	size_t i;

	if (!s.ptr)
		return out;
	if (wd_str_has_prefix(s, "//")) {
		/* //service.googleapis.com/projects/ID/... */
		const char *p = memchr(s.ptr + 2, '/', s.len - 2);

		if (!p)
			return out;
		s.len -= (size_t)(p + 1 - s.ptr);
		s.ptr = p + 1;
	}
	if (!wd_str_has_prefix(s, "projects/"))
		return out;
	for (i = 9; i < s.len && s.ptr[i] != '/'; i++)
		;
	out.ptr = s.ptr + 9;
	out.len = i - 9;
	if (out.len == 0 || wd_mem_eq(out.ptr, out.len, "_") ||
	    wd_mem_eq(out.ptr, out.len, "-"))
		out.ptr = NULL, out.len = 0;
	return out;
}

static struct wd_str str_of(const char *s)
{
	struct wd_str v = { s, strlen(s) };

	return v;
}

static void extract(struct wd_matcher *m, const struct wd_entry *e,
		    struct wd_vars *vars)
{
	struct wd_str v, p;
	size_t pos = 0, k;

	/* permission(s): denied authorization entries, then ErrorInfo. */
	v = get(e, WD_F_DENIED_PERMISSION);
	vars_put(vars, "permission", v, false);
	wd_buf_clear(&m->tmp);
	while (wd_entry_next(e, WD_F_DENIED_PERMISSION, NULL, 0, &pos, &p)) {
		if (m->tmp.len)
			wd_buf_addc(&m->tmp, ',');
		wd_buf_add(&m->tmp, p.ptr, p.len);
	}
	if (m->tmp.len) {
		v.ptr = keep(m, m->tmp.ptr, m->tmp.len);
		v.len = v.ptr ? m->tmp.len : 0;
		vars_put(vars, "permissions", v, false);
	}

	v = get(e, WD_F_PROJECT);
	if (!v.ptr)
		v = project_of(get(e, WD_F_RESOURCE_NAME));
	if (!v.ptr)
		v = project_of(meta(e, "consumer"));
	vars_put(vars, "project", v, false);
	vars_put(vars, "principal", get(e, WD_F_PRINCIPAL), false);
	vars_put(vars, "service", get(e, WD_F_SERVICE), false);
	vars_put(vars, "method", get(e, WD_F_METHOD), false);
	v = get(e, WD_F_RESOURCE_NAME);
	if (!v.ptr || v.len == 0) {
		pos = 0;
		while (wd_entry_next(e, WD_F_AUTHZ_RESOURCE, NULL, 0, &pos,
				     &v))
			if (v.len)
				break;
	}
	vars_put(vars, "resource", v, false);
	if (has_value(e, WD_F_ERROR_REASON, "SERVICE_DISABLED"))
		vars_put(vars, "disabled_service", meta(e, "service"), false);
	vars_put(vars, "consumer", meta(e, "consumer"), false);

	v = get(e, WD_F_ORG_CONSTRAINT);
	if (!v.ptr) {
		pos = 0;
		while (wd_entry_next(e, WD_F_VIOLATION_TYPE, NULL, 0, &pos,
				     &p))
			if (wd_str_has_prefix(p, "constraints/")) {
				v = p;
				break;
			}
	}
	if (!v.ptr)
		v = meta(e, "policyName");
	vars_put(vars, "constraint", v, false);
	vars_put(vars, "perimeter", get(e, WD_F_PERIMETER), false);

	v = get(e, WD_F_VPCSC_ID);
	if (!v.ptr) {
		pos = 0;
		k = 0;
		while (wd_entry_next(e, WD_F_VIOLATION_TYPE, NULL, 0, &pos,
				     &p)) {
			if (wd_str_eq(p, "VPC_SERVICE_CONTROLS")) {
				v = nth(e, WD_F_VIOLATION_DESCRIPTION, k);
				break;
			}
			k++;
		}
	}
	if (!v.ptr)
		v = meta(e, "uid");
	vars_put(vars, "vpcsc_id", v, false);

	v = meta(e, "quota_metric");
	if (!v.ptr)
		v = meta(e, "quotaMetric");
	if (!v.ptr)
		v = get(e, WD_F_QUOTA_METRIC);
	vars_put(vars, "quota_metric", v, false);
	v = meta(e, "quota_limit");
	if (!v.ptr)
		v = meta(e, "quotaLimit");
	vars_put(vars, "quota_limit", v, false);
}

/* Every record field by its own name (first value), and every ErrorInfo
 * metadata value as error_metadata.KEY. */
static void fields_as_vars(struct wd_matcher *m, const struct wd_entry *e,
			   struct wd_vars *vars)
{
	size_t f, i;

	for (i = 0; i < e->nvals; i++) {
		const struct wd_val *v = &e->vals[i];
		const char *name, *val;

		if (v->field != WD_F_ERROR_METADATA || v->len == 0)
			continue;
		wd_buf_clear(&m->tmp);
		wd_buf_adds(&m->tmp, "error_metadata.");
		wd_buf_add(&m->tmp, v->key, v->key_len);
		name = keep(m, m->tmp.ptr, m->tmp.len);
		val = keep(m, v->ptr, v->len);
		if (name && val)
			vars_put(vars, name, (struct wd_str){ val, v->len },
				 false);
	}

	for (f = 0; f < WD_F__COUNT; f++) {
		if (f == WD_F_ERROR_METADATA)
			continue;
		vars_put(vars, wd_field_name((enum wd_field)f),
			 wd_entry_get(e, (enum wd_field)f), false);
	}
}

static void member_var(struct wd_matcher *m, struct wd_vars *vars,
		       const struct wd_entry *e)
{
	struct wd_str p = wd_vars_get(vars, "principal");
	struct wd_str subj = get(e, WD_F_PRINCIPAL_SUBJECT);
	const char *prefix;
	const char *q;

	if (!p.ptr || p.len == 0)
		return;
	if (wd_str_has_prefix(p, "principal://") ||
	    wd_str_has_prefix(p, "principalSet://") ||
	    wd_str_has_prefix(p, "serviceAccount:") ||
	    wd_str_has_prefix(p, "user:") || wd_str_has_prefix(p, "group:")) {
		vars_put(vars, "member", p, false);
		return;
	}
	if (subj.ptr && wd_str_has_prefix(subj, "serviceAccount:"))
		prefix = "serviceAccount:";
	else if (p.len > 20 &&
		 memcmp(p.ptr + p.len - 20, ".gserviceaccount.com", 20) == 0)
		prefix = "serviceAccount:";
	else
		prefix = "user:";
	wd_buf_clear(&m->tmp);
	wd_buf_adds(&m->tmp, prefix);
	wd_buf_add(&m->tmp, p.ptr, p.len);
	q = keep(m, m->tmp.ptr, m->tmp.len);
	if (q)
		vars_put(vars, "member", (struct wd_str){ q, m->tmp.len },
			 false);
}

static void role_var(struct wd_matcher *m, struct wd_vars *vars)
{
	const char *perms[32];
	size_t n = 0;
	struct wd_str all = wd_vars_get(vars, "permissions");
	struct wd_str one = wd_vars_get(vars, "permission");
	char *copy, *tok, *save = NULL;
	struct wd_buf out;
	const char *q;

	if (!m->rs->role_fn || vars_has(vars, "role", 4))
		return;
	if (all.ptr)
		copy = wd_xstrndup(all.ptr, all.len);
	else if (one.ptr)
		copy = wd_xstrndup(one.ptr, one.len);
	else
		return;
	for (tok = strtok_r(copy, ",", &save); tok && n < 32;
	     tok = strtok_r(NULL, ",", &save))
		perms[n++] = tok;
	/* A permission only the message names (actAs) may not be in the
	 * list yet. */
	if (one.ptr && all.ptr == NULL && n == 0)
		perms[n++] = copy;
	wd_buf_init(&out, 4096);
	if (n && m->rs->role_fn(m->rs->role_ctx, perms, n, &out) &&
	    out.len) {
		/* out holds "role\talternative\tnote". */
		char *t1 = memchr(out.ptr, '\t', out.len);
		size_t rl = t1 ? (size_t)(t1 - out.ptr) : out.len;

		q = keep(m, out.ptr, rl);
		if (q)
			vars_put(vars, "role", (struct wd_str){ q, rl }, false);
		if (t1) {
			char *t2 = strchr(t1 + 1, '\t');
			size_t al = t2 ? (size_t)(t2 - t1 - 1) : strlen(t1 + 1);

			q = keep(m, t1 + 1, al);
			if (q)
				vars_put(vars, "role_alternative",
					 (struct wd_str){ q, al }, false);
			if (t2) {
				q = keep(m, t2 + 1, strlen(t2 + 1));
				if (q)
					vars_put(vars, "role_note",
						 str_of(q), false);
			}
		}
	}
	wd_buf_release(&out);
	free(copy);
}

void wd_matcher_classify(struct wd_matcher *m, const struct wd_entry *e,
			 struct wd_verdict *v)
{
	const struct wd_ruleset *rs = m->rs;
	const struct wd_rule *win = NULL;
	size_t i;

	m->used = 0;
	v->vars.n = 0;
	for (i = 0; i < rs->n; i++) {
		m->caps.n = 0;
		if (eval(m, rs->sorted[i], &rs->sorted[i]->match, e)) {
			win = rs->sorted[i];
			break;
		}
	}
	v->rule = win;
	v->category = win ? win->category : WD_CAT_UNKNOWN;
	v->level = win ? win->level : WD_LEVEL_MEDIUM;
	extract(m, e, &v->vars);
	if (win) {
		/* Named groups fill what the structure did not say. */
		for (i = 0; i < m->caps.n; i++) {
			struct wd_str c = m->caps.v[i].val;
			const char *q = keep(m, c.ptr, c.len);

			if (q)
				vars_put(&v->vars, m->caps.v[i].name,
					 (struct wd_str){ q, c.len }, false);
		}
	}
	fields_as_vars(m, e, &v->vars);
	if (win) {
		for (i = 0; i < win->nset; i++) {
			const char *q;

			wd_buf_clear(&m->tmp);
			wd_render(&m->tmp, win->set_values[i], &v->vars, false);
			q = keep(m, m->tmp.ptr ? m->tmp.ptr : "", m->tmp.len);
			if (q)
				vars_put(&v->vars, win->set_names[i],
					 (struct wd_str){ q, m->tmp.len },
					 true);
			/* A rule that names the permission also names the
			 * set the role must cover. */
			if (q && strcmp(win->set_names[i], "permission") == 0)
				vars_put(&v->vars, "permissions",
					 (struct wd_str){ q, m->tmp.len },
					 true);
		}
	}
	member_var(m, &v->vars, e);
	role_var(m, &v->vars);
	vars_put(&v->vars, "rule", str_of(win ? win->id : "unknown"), false);
	vars_put(&v->vars, "category", str_of(wd_category_name(v->category)),
		 false);
	vars_put(&v->vars, "level", str_of(wd_level_name(v->level)), false);
}

size_t wd_matcher_limit_hits(const struct wd_matcher *m,
			     void (*fn)(void *ctx, const char *rule_id,
					unsigned long hits), void *ctx)
{
	size_t i, n = 0;

	for (i = 0; i < m->rs->n; i++) {
		if (m->limit_hits[i] == 0)
			continue;
		n++;
		if (fn)
			fn(ctx, m->rs->rules[i]->id, m->limit_hits[i]);
	}
	return n;
}

void wd_matcher_absorb(struct wd_matcher *dst, const struct wd_matcher *src)
{
	size_t i;

	for (i = 0; i < dst->rs->n && i < src->rs->n; i++)
		dst->limit_hits[i] += src->limit_hits[i];
}

/* ---- templates ---- */

static bool shell_safe(struct wd_str v)
{
	size_t i;

	if (v.len == 0)
		return false;
	for (i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr("_./:@=,+%-", c) == NULL || c == '\0')
			return false;
	}
	return true;
}

static bool has_control(struct wd_str v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.ptr[i] < 0x20 ||
		    (unsigned char)v.ptr[i] == 0x7f)
			return true;
	return false;
}

void wd_render(struct wd_buf *out, const char *tmpl, const struct wd_vars *v,
	       bool shell)
{
	const char *p = tmpl, *q, *end;

	while ((q = strstr(p, "${")) != NULL) {
		char name[128];
		size_t nl;
		struct wd_str val;

		wd_buf_add(out, p, (size_t)(q - p));
		end = strchr(q + 2, '}');
		if (end == NULL) {
			p = q;
			break;
		}
		nl = (size_t)(end - q - 2);
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, q + 2, nl);
		name[nl] = '\0';
		val = wd_vars_get(v, name);
		if (val.ptr == NULL || val.len == 0) {
			wd_buf_printf(out, "<%s>", name);
		} else if (shell && has_control(val)) {
			/* $'...': a newline in a value cannot start a line
			 * of its own in a printed command. */
			size_t i;

			wd_buf_adds(out, "$'");
			for (i = 0; i < val.len; i++) {
				unsigned char c = (unsigned char)val.ptr[i];

				if (c == '\'' || c == '\\')
					wd_buf_printf(out, "\\%c", c);
				else if (c < 0x20 || c == 0x7f)
					wd_buf_printf(out, "\\x%02x", c);
				else
					wd_buf_addc(out, (char)c);
			}
			wd_buf_addc(out, '\'');
		} else if (shell && !shell_safe(val)) {
			size_t i;

			wd_buf_addc(out, '\'');
			for (i = 0; i < val.len; i++) {
				if (val.ptr[i] == '\'')
					wd_buf_adds(out, "'\\''");
				else
					wd_buf_addc(out, val.ptr[i]);
			}
			wd_buf_addc(out, '\'');
		} else {
			wd_buf_add(out, val.ptr, val.len);
		}
		p = end + 1;
	}
	wd_buf_adds(out, p);
}

/* ---- inline tests ---- */

size_t wd_ruleset_test(const struct wd_ruleset *rs, FILE *out)
{
	struct wd_matcher *m = wd_matcher_new(rs);
	struct wd_decoder *dec = wd_decoder_new();
	struct wd_entry *e = wd_xmalloc(sizeof(*e));
	struct wd_verdict *v = wd_xmalloc(sizeof(*v));
	size_t passed = 0, failed = 0, i, t, k;

	for (i = 0; i < rs->n; i++) {
		const struct wd_rule *r = rs->rules[i];

		for (t = 0; t < r->ntests; t++) {
			const struct rule_test *rt = &r->tests[t];
			struct wd_err err;
			enum wd_skip why;
			bool ok = true;

			wd_err_clear(&err);
			if (wd_decoder_decode(dec, rt->entry_json,
					      rt->entry_len, e, &why,
					      &err) < 0) {
				fprintf(out, "%s:%u: rule %s test %zu: entry "
					"does not decode: %s\n", r->file,
					rt->line, r->id, t + 1, err.msg);
				failed++;
				continue;
			}
			for (k = 0; k < rt->n; k++) {
				if (strcmp(rt->keys[k], "failure") != 0)
					continue;
				if (strcmp(rt->vals[k], e->failure ? "true" :
					   "false") != 0) {
					fprintf(out, "%s:%u: rule %s test %zu:"
						" failure expected %s, got "
						"%s\n", r->file, rt->line,
						r->id, t + 1, rt->vals[k],
						e->failure ? "true" : "false");
					ok = false;
				}
			}
			if (!e->failure) {
				bool expect_fail = true;

				for (k = 0; k < rt->n; k++)
					if (strcmp(rt->keys[k], "failure") ==
					    0 && strcmp(rt->vals[k], "false") ==
					    0)
						expect_fail = false;
				if (expect_fail) {
					fprintf(out, "%s:%u: rule %s test %zu:"
						" entry is not a failure\n",
						r->file, rt->line, r->id,
						t + 1);
					ok = false;
				}
				if (ok)
					passed++;
				else
					failed++;
				continue;
			}
			wd_matcher_classify(m, e, v);
			for (k = 0; k < rt->n; k++) {
				const char *key = rt->keys[k];
				const char *want = rt->vals[k];
				struct wd_str got;
				const char *gs;

				if (strcmp(key, "failure") == 0)
					continue;
				if (strcmp(key, "rule") == 0)
					gs = v->rule ? wd_rule_id(v->rule) :
					     "(none)";
				else if (strcmp(key, "category") == 0)
					gs = wd_category_name(v->category);
				else
					gs = NULL;
				if (gs) {
					got.ptr = gs;
					got.len = strlen(gs);
				} else {
					got = wd_vars_get(&v->vars, key);
				}
				if (!got.ptr)
					got = (struct wd_str){ "", 0 };
				if (!wd_str_eq(got, want)) {
					fprintf(out, "%s:%u: rule %s test %zu:"
						" %s expected '%s', got "
						"'%.*s'\n", r->file, rt->line,
						r->id, t + 1, key, want,
						(int)got.len, got.ptr);
					ok = false;
				}
			}
			if (ok)
				passed++;
			else
				failed++;
		}
	}
	fprintf(out, "%zu passed, %zu failed\n", passed, failed);
	free(v);
	free(e);
	wd_decoder_free(dec);
	wd_matcher_free(m);
	return failed;
}
