/* agg.c - groups classified failures into causes and ranks them (see
 * whydenied/report.h).
 *
 * A cause is (rule, principal, subject, project), where the subject is what
 * the category is about: the permission, the disabled service, the
 * constraint, the perimeter, the quota metric. Retries of one denial
 * (Terraform retries 403s) therefore collapse into one cause with a count.
 *
 * Score (docs/report-formats.md):
 *   100 * level (low 0 .. critical 3) + 10 * log10(1 + count)
 *   + 5 * recency (0 for the oldest last-seen in the input, 1 for the newest)
 *   + 1000 when the cause blocks others (billing or a denied
 *     serviceusage.services.enable in a project with API_DISABLED failures).
 * Ties break by rule id, principal, subject, project: the order is stable.
 */
#include "whydenied/report.h"
#include "whydenied/buf.h"
#include "whydenied/timeutil.h"
#include "whydenied/decoder.h"
#include "whydenied/simd.h"

#include <math.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define ALLOWED_MAX 100000	/* (principal, permission) successes kept */
#define CHANGES_MAX 4096	/* IAM changes and enables kept */
#define NEAR_S 600		/* "near these failures": 10 minutes */

struct group {
	struct wd_finding f;
	bool merged;		/* folded into an audit-log cause */
	char *principal_raw;	/* unredacted, for look-ups only */
	char *project_raw;
	char *key;
	long long first_t, last_t;
	struct group *next;	/* hash chain */
};

struct allowed {
	uint64_t hash;		/* of key (hash_mem): compared before it */
	char *key;		/* principal \t permission */
	size_t klen;
	long long last_t;
	struct allowed *next;
};

struct wd_agg {
	const struct wd_config *cfg;
	long long from_t, to_t;	/* -1: open */
	struct group **table;
	size_t nbuckets;
	struct group **groups;	/* insertion order */
	size_t ngroups;
	size_t cap_groups;
	uint64_t failures;
	uint64_t filtered;
	uint64_t dropped;
	struct allowed **allowed;
	size_t nallowed;
	/* IAM policy changes and service enables that succeeded, by
	 * project: for the propagation hints (bounded; the oldest kept). */
	struct change {
		char project[96];
		long long t;
		bool enable;
	} *changes;
	size_t nchanges, cap_changes;	/* grown on demand */
	bool saw_data_access;
	bool saw_audit;
	struct wd_buf tmp;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The allowed table's hash: eight bytes a step, as it runs for every
 * granted permission of every success. */
static uint64_t hash_mem(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	return h;
}

static struct allowed *allowed_find(struct allowed *x, uint64_t hv,
				    const char *key, size_t klen)
{
	for (; x; x = x->next)
		if (x->hash == hv && x->klen == klen &&
		    memcmp(x->key, key, klen) == 0)
			return x;
	return NULL;
}

static struct wd_agg *agg_new(const struct wd_config *cfg, size_t nbuckets)
{
	struct wd_agg *a = wd_xcalloc(1, sizeof(*a));
	long long now = wd_now();

	a->cfg = cfg;
	a->nbuckets = nbuckets;
	a->table = wd_xcalloc(a->nbuckets, sizeof(*a->table));
	a->allowed = wd_xcalloc(a->nbuckets, sizeof(*a->allowed));
	a->from_t = -1;
	a->to_t = -1;
	if (cfg->since_secs)
		a->from_t = now - cfg->since_secs;
	if (cfg->from)
		a->from_t = wd_parse_rfc3339(cfg->from, strlen(cfg->from));
	if (cfg->to)
		a->to_t = wd_parse_rfc3339(cfg->to, strlen(cfg->to));
	wd_buf_init(&a->tmp, 1 << 20);
	return a;
}

struct wd_agg *wd_agg_new(const struct wd_config *cfg)
{
	return agg_new(cfg, 4096);
}

/* A batch of about a megabyte of input holds a few hundred causes and
 * allowed pairs at most: small tables make the per-batch setup, the
 * merge's walk and the free cheap (they were 5 % of a parallel scan). */
struct wd_agg *wd_agg_new_part(const struct wd_config *cfg)
{
	return agg_new(cfg, 256);
}

static void strs_free(struct wd_strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void finding_release(struct wd_finding *f)
{
	free(f->rule);
	free(f->title);
	free(f->explain);
	free(f->fix);
	free(f->verify);
	free(f->docs);
	free(f->principal);
	free(f->member);
	free(f->project);
	free(f->subject_kind);
	free(f->subject);
	free(f->permission);
	free(f->role);
	free(f->role_alternative);
	free(f->role_note);
	free(f->message);
	free(f->status_code);
	free(f->key);
	free(f->first_seen);
	free(f->last_seen);
	strs_free(&f->methods);
	strs_free(&f->resources);
	strs_free(&f->examples);
	strs_free(&f->sources);
	strs_free(&f->locations);
	strs_free(&f->hints);
}

void wd_agg_free(struct wd_agg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->ngroups; i++) {
		if (a->groups[i] == NULL)
			continue;	/* moved by wd_agg_merge */
		finding_release(&a->groups[i]->f);
		free(a->groups[i]->principal_raw);
		free(a->groups[i]->project_raw);
		free(a->groups[i]->key);
		free(a->groups[i]);
	}
	free(a->groups);
	free(a->table);
	for (i = 0; i < a->nbuckets; i++) {
		struct allowed *x = a->allowed[i], *next;

		for (; x; x = next) {
			next = x->next;
			free(x->key);
			free(x);
		}
	}
	free(a->allowed);
	free(a->changes);
	wd_buf_release(&a->tmp);
	free(a);
}

static long long ts_of(const struct wd_entry *e)
{
	struct wd_str t = wd_entry_get(e, WD_F_TIMESTAMP);

	return t.ptr ? wd_parse_rfc3339(t.ptr, t.len) : -1;
}

static bool in_list(const struct wd_strlist *l, struct wd_str v)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (v.ptr && wd_str_eq(v, l->v[i]))
			return true;
	return false;
}

bool wd_agg_wanted(const struct wd_agg *a, const struct wd_entry *e)
{
	/* A step log's error often says neither when nor who: a filter on
	 * what it does not say does not exclude it. */
	bool step = wd_entry_has(e, WD_F_TOOL);
	long long t;

	if (a->from_t >= 0 || a->to_t >= 0) {
		t = ts_of(e);
		if (t < 0 && step)
			t = a->from_t >= 0 ? a->from_t : a->to_t;
		if (t < 0)
			return false;	/* no time: cannot be in the window */
		if (a->from_t >= 0 && t < a->from_t)
			return false;
		if (a->to_t >= 0 && t > a->to_t)
			return false;
	}
	if (a->cfg->principals.n &&
	    !(step && !wd_entry_has(e, WD_F_PRINCIPAL)) &&
	    !in_list(&a->cfg->principals, wd_entry_get(e, WD_F_PRINCIPAL)))
		return false;
	if (a->cfg->projects.n && a->cfg->command == WD_CMD_SCAN &&
	    !(step && !wd_entry_has(e, WD_F_PROJECT)) &&
	    !in_list(&a->cfg->projects, wd_entry_get(e, WD_F_PROJECT)))
		return false;
	return true;
}

void wd_agg_filtered(struct wd_agg *a)
{
	a->filtered++;
}

static char *dup_str(struct wd_str s)
{
	return s.ptr && s.len ? wd_xstrndup(s.ptr, s.len) : NULL;
}

static char *dup_red(const struct wd_agg *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return a->cfg->redact ? wd_redact(s) : wd_xstrdup(s);
}

static char *dup_var(const struct wd_agg *a, const struct wd_verdict *v,
		     const char *name)
{
	struct wd_str s = wd_vars_get(&v->vars, name);
	char *c, *r;

	if (!s.ptr || !s.len)
		return NULL;
	c = wd_xstrndup(s.ptr, s.len);
	if (!a->cfg->redact)
		return c;
	r = wd_redact(c);
	free(c);
	return r;
}

static void strs_add(struct wd_strs *s, struct wd_str v, bool redact)
{
	size_t i;
	char *c;

	if (!v.ptr || !v.len)
		return;
	for (i = 0; i < s->n; i++)
		if (wd_str_eq(v, s->v[i]))
			return;
	c = wd_xstrndup(v.ptr, v.len);
	if (redact) {
		char *r = wd_redact(c);

		free(c);
		c = r;
		for (i = 0; i < s->n; i++)
			if (strcmp(c, s->v[i]) == 0) {
				free(c);
				return;
			}
	}
	if (s->n < WD_LIST_CAP) {
		s->v[s->n++] = c;
	} else {
		s->truncated = true;
		free(c);
	}
}

static void strs_addc(struct wd_strs *s, const char *v)
{
	strs_add(s, (struct wd_str){ v, strlen(v) }, false);
}

/* The variable a category's causes are grouped by. */
static const char *subject_var(enum wd_category c)
{
	switch (c) {
	case WD_CAT_IAM_PERMISSION:
	case WD_CAT_IAM_DENY_POLICY: return "permission";
	case WD_CAT_API_DISABLED: return "disabled_service";
	case WD_CAT_ORG_POLICY: return "constraint";
	case WD_CAT_VPC_SC: return "perimeter";
	case WD_CAT_QUOTA: return "quota_metric";
	case WD_CAT_BILLING: return "project";
	default: return "method";
	}
}

static char *render(struct wd_agg *a, const char *tmpl,
		    const struct wd_verdict *v, bool shell)
{
	char *s;

	if (tmpl == NULL)
		return NULL;
	wd_buf_clear(&a->tmp);
	wd_render(&a->tmp, tmpl, &v->vars, shell);
	s = wd_xstrndup(a->tmp.ptr ? a->tmp.ptr : "", a->tmp.len);
	if (a->cfg->redact) {
		char *r = wd_redact(s);

		free(s);
		s = r;
	}
	return s;
}

static void set_times(struct group *g, const struct wd_entry *e)
{
	struct wd_str ts = wd_entry_get(e, WD_F_TIMESTAMP);
	long long t = ts.ptr ? wd_parse_rfc3339(ts.ptr, ts.len) : -1;

	if (t < 0)
		return;
	if (g->first_t < 0 || t < g->first_t) {
		g->first_t = t;
		free(g->f.first_seen);
		g->f.first_seen = wd_xstrndup(ts.ptr, ts.len);
	}
	if (g->last_t < 0 || t > g->last_t) {
		g->last_t = t;
		free(g->f.last_seen);
		g->f.last_seen = wd_xstrndup(ts.ptr, ts.len);
	}
}

static void note_log(struct wd_agg *a, const struct wd_entry *e)
{
	struct wd_str log = wd_entry_get(e, WD_F_LOG);

	if (log.ptr && wd_str_eq(log, "data_access"))
		a->saw_data_access = true;
	if (log.ptr && !wd_str_eq(log, "other"))
		a->saw_audit = true;
}

static void group_insert(struct wd_agg *a, struct group *g)
{
	uint64_t h = hash(g->key) % a->nbuckets;

	g->next = a->table[h];
	a->table[h] = g;
	if (a->ngroups == a->cap_groups) {
		a->cap_groups = a->cap_groups ? 2 * a->cap_groups : 64;
		a->groups = wd_xrealloc(a->groups, a->cap_groups *
					sizeof(*a->groups));
	}
	a->groups[a->ngroups++] = g;
}

void wd_agg_add(struct wd_agg *a, const struct wd_entry *e,
		const struct wd_verdict *v)
{
	const char *rule = v->rule ? wd_rule_id(v->rule) : "unknown";
	struct wd_str principal = wd_vars_get(&v->vars, "principal");
	struct wd_str project = wd_vars_get(&v->vars, "project");
	const char *sv = subject_var(v->category);
	struct wd_str subject = wd_vars_get(&v->vars, sv);
	struct wd_str dry = wd_entry_get(e, WD_F_DRY_RUN);
	struct wd_str tool = wd_entry_get(e, WD_F_TOOL);
	struct group *g;
	uint64_t h;
	char *key;

	note_log(a, e);
	if (v->category == WD_CAT_UNKNOWN) {
		/* No rule: group by what failed and how. */
		subject = wd_entry_get(e, WD_F_STATUS_CODE);
		sv = "status_code";
	}
	wd_buf_clear(&a->tmp);
	wd_buf_printf(&a->tmp, "%s\t%.*s\t%.*s\t%.*s\t%s", rule,
		      (int)principal.len, principal.ptr ? principal.ptr : "",
		      (int)subject.len, subject.ptr ? subject.ptr : "",
		      (int)project.len, project.ptr ? project.ptr : "",
		      dry.ptr && wd_str_eq(dry, "true") ? "dry" : "");
	if (v->category == WD_CAT_UNKNOWN) {
		struct wd_str m = wd_entry_get(e, WD_F_METHOD);

		wd_buf_printf(&a->tmp, "\t%.*s", (int)m.len, m.ptr ? m.ptr :
			      "");
	}
	key = wd_xstrndup(a->tmp.ptr, a->tmp.len);
	h = hash(key) % a->nbuckets;
	for (g = a->table[h]; g; g = g->next)
		if (strcmp(g->key, key) == 0)
			break;
	a->failures++;
	if (g == NULL) {
		if (a->ngroups >= WD_MAX_GROUPS) {
			a->dropped++;
			free(key);
			return;
		}
		g = wd_xcalloc(1, sizeof(*g));
		g->key = key;
		key = NULL;
		g->first_t = g->last_t = -1;
		group_insert(a, g);
		g->f.rule = wd_xstrdup(rule);
		g->f.key = wd_xstrdup(g->key);
		g->f.category = v->category;
		g->f.level = v->level;
		if (v->rule) {
			g->f.title = render(a, wd_rule_title(v->rule), v,
					    false);
			g->f.explain = render(a, wd_rule_explain(v->rule), v,
					      false);
			g->f.fix = render(a, wd_rule_fix(v->rule), v, true);
			g->f.verify = render(a, wd_rule_verify(v->rule), v,
					     true);
			g->f.docs = wd_xstrdup(wd_rule_docs(v->rule));
		} else {
			struct wd_str code = wd_entry_get(e, WD_F_STATUS_CODE);
			long c = code.ptr ? strtol(code.ptr, NULL, 10) : -1;

			wd_buf_clear(&a->tmp);
			wd_buf_printf(&a->tmp, "Unrecognised failure%s",
				      code.ptr ? ": status " : "");
			if (code.ptr)
				wd_buf_printf(&a->tmp, "%.*s%s%s%s",
					      (int)code.len, code.ptr,
					      c >= 0 && wd_status_name((int)c)
					      ? " (" : "",
					      c >= 0 && wd_status_name((int)c)
					      ? wd_status_name((int)c) : "",
					      c >= 0 && wd_status_name((int)c)
					      ? ")" : "");
			g->f.title = wd_xstrndup(a->tmp.ptr, a->tmp.len);
			g->f.explain = wd_xstrdup(
				"No rule matched this failure. Its message "
				"and fields are below; add a rule (see "
				"rules/README.md) if it recurs.");
		}
		g->principal_raw = dup_str(principal);
		g->project_raw = dup_str(project);
		g->f.principal = dup_var(a, v, "principal");
		g->f.member = dup_var(a, v, "member");
		g->f.project = dup_var(a, v, "project");
		g->f.subject_kind = wd_xstrdup(sv);
		if (v->category == WD_CAT_UNKNOWN || !a->cfg->redact)
			g->f.subject = dup_str(subject);
		else
			g->f.subject = dup_var(a, v, sv);
		g->f.permission = dup_var(a, v, "permissions");
		if (!g->f.permission)
			g->f.permission = dup_var(a, v, "permission");
		g->f.role = dup_var(a, v, "role");
		g->f.role_alternative = dup_var(a, v, "role_alternative");
		g->f.role_note = dup_var(a, v, "role_note");
		{
			struct wd_str msg = wd_entry_get(e,
							 WD_F_STATUS_MESSAGE);
			char *m = dup_str(msg);

			g->f.message = m ? dup_red(a, m) : NULL;
			free(m);
		}
		g->f.status_code = dup_str(wd_entry_get(e,
							WD_F_STATUS_CODE));
		g->f.dry_run = dry.ptr && wd_str_eq(dry, "true");
		g->f.anonymous = wd_entry_has(e, WD_F_ANONYMOUS);
	}
	free(key);
	g->f.count++;
	if (tool.ptr)
		g->f.in_step_log = true;
	else
		g->f.in_audit_log = true;
	set_times(g, e);
	strs_add(&g->f.methods, wd_entry_get(e, WD_F_METHOD), false);
	strs_add(&g->f.resources, wd_vars_get(&v->vars, "resource"),
		 a->cfg->redact);
	strs_add(&g->f.examples, wd_entry_get(e, WD_F_INSERT_ID), false);
	strs_add(&g->f.sources, wd_entry_get(e, WD_F_SOURCE), false);
	strs_add(&g->f.locations, wd_entry_get(e, WD_F_LOCATION), false);
}

/* Case-insensitive: setIamPolicy, SetIamPolicy, SetIAMPolicy. */
static bool method_has(struct wd_str m, const char *what)
{
	size_t l = strlen(what), i, k;

	if (!m.ptr || m.len < l)
		return false;
	for (i = 0; i + l <= m.len; i++) {
		for (k = 0; k < l; k++) {
			char x = m.ptr[i + k], y = what[k];

			if (x >= 'A' && x <= 'Z')
				x = (char)(x - 'A' + 'a');
			if (y >= 'A' && y <= 'Z')
				y = (char)(y - 'A' + 'a');
			if (x != y)
				break;
		}
		if (k == l)
			return true;
	}
	return false;
}

/* Room for one more change, growing the array up to CHANGES_MAX. */
static bool change_room(struct wd_agg *a)
{
	if (a->nchanges < a->cap_changes)
		return true;
	if (a->cap_changes >= CHANGES_MAX)
		return false;
	a->cap_changes = a->cap_changes ? 2 * a->cap_changes : 16;
	if (a->cap_changes > CHANGES_MAX)
		a->cap_changes = CHANGES_MAX;
	a->changes = wd_xrealloc(a->changes,
				 a->cap_changes * sizeof(*a->changes));
	return true;
}

static void note_change(struct wd_agg *a, struct wd_str project,
			long long t, bool enable)
{
	struct change *c;

	if (!change_room(a))
		return;
	c = &a->changes[a->nchanges++];
	snprintf(c->project, sizeof(c->project), "%.*s",
		 (int)(project.len < sizeof(c->project) ? project.len : 0),
		 project.ptr ? project.ptr : "");
	c->t = t;
	c->enable = enable;
}

/* The latest IAM change (or enable) in project (or with no project
 * known) within NEAR_S of [first, last]; -1 when none. */
static long long change_near(const struct wd_agg *a, const char *project,
			     long long first, long long last, bool enable)
{
	long long best = -1;
	size_t i;

	for (i = 0; i < a->nchanges; i++) {
		const struct change *c = &a->changes[i];

		if (c->enable != enable || c->t < first - NEAR_S ||
		    c->t > last + NEAR_S)
			continue;
		if (project && c->project[0] &&
		    strcmp(project, c->project) != 0)
			continue;
		if (c->t > best)
			best = c->t;
	}
	return best;
}

/* Cheap pre-check for wd_agg_success: every method the hints look for
 * (SetIamPolicy, setIamPermissions, EnableService, services.enable, in
 * any case, as method_has compares) holds "iamp" or "enab" in some case.
 * This runs for every success: 16 bytes a step (whydenied/simd.h). */
static bool hint_method(struct wd_str m)
{
	return wd_has_word4_ci(m.ptr, m.len, "iamp", "enab");
}

#define ALLOWED_KEY_BUF 512

/* The allowed table's key "principal\tpermission": built in kbuf
 * (ALLOWED_KEY_BUF bytes) when it fits, as it runs for every success,
 * else in a->tmp; NULL past a->tmp's cap. */
static const char *allowed_key(struct wd_agg *a, struct wd_str principal,
			       struct wd_str perm, char *kbuf, size_t *klen)
{
	*klen = principal.len + 1 + perm.len;
	if (*klen <= ALLOWED_KEY_BUF) {
		memcpy(kbuf, principal.ptr, principal.len);
		kbuf[principal.len] = '\t';
		memcpy(kbuf + principal.len + 1, perm.ptr, perm.len);
		return kbuf;
	}
	wd_buf_clear(&a->tmp);
	wd_buf_add(&a->tmp, principal.ptr, principal.len);
	wd_buf_addc(&a->tmp, '\t');
	wd_buf_add(&a->tmp, perm.ptr, perm.len);
	return a->tmp.len == *klen ? a->tmp.ptr : NULL;
}

void wd_agg_success(struct wd_agg *a, const struct wd_entry *e)
{
	struct wd_str m = wd_entry_get(e, WD_F_METHOD);
	struct wd_str principal = wd_entry_get(e, WD_F_PRINCIPAL);
	struct wd_str perm, granted;
	long long t;
	size_t pp = 0, gp = 0;

	note_log(a, e);
	/* Cheap pre-check: every method the hints look for contains one
	 * of these. */
	if (m.ptr && !hint_method(m))
		m.ptr = NULL;
	if (!m.ptr && !principal.ptr)
		return;
	t = ts_of(e);
	if (t < 0)
		return;
	if (m.ptr && (method_has(m, "SetIamPolicy") ||
		      method_has(m, "setIamPermissions")))
		note_change(a, wd_entry_get(e, WD_F_PROJECT), t, false);
	if (m.ptr && (method_has(m, "EnableService") ||
		      method_has(m, "services.enable")))
		note_change(a, wd_entry_get(e, WD_F_PROJECT), t, true);
	if (!principal.ptr)
		return;
	/* (principal, permission) allowed at t: for "granted, still
	 * denied" (propagation) hints. */
	while (wd_entry_next(e, WD_F_AUTHZ_PERMISSION, NULL, 0, &pp, &perm) &&
	       wd_entry_next(e, WD_F_AUTHZ_GRANTED, NULL, 0, &gp, &granted)) {
		struct allowed *x;
		uint64_t h, hv;
		char kbuf[ALLOWED_KEY_BUF];
		const char *key;
		size_t klen;

		if (!wd_str_eq(granted, "true") || perm.len == 0)
			continue;
		if ((key = allowed_key(a, principal, perm, kbuf, &klen)) ==
		    NULL)
			continue;
		hv = hash_mem(key, klen);
		h = hv % a->nbuckets;
		x = allowed_find(a->allowed[h], hv, key, klen);
		if (x == NULL) {
			if (a->nallowed >= ALLOWED_MAX)
				continue;
			x = wd_xcalloc(1, sizeof(*x));
			x->hash = hv;
			x->key = wd_xstrndup(key, klen);
			x->klen = klen;
			x->last_t = t;
			x->next = a->allowed[h];
			a->allowed[h] = x;
			a->nallowed++;
		} else if (t > x->last_t) {
			x->last_t = t;
		}
	}
}

static long long allowed_after(struct wd_agg *a, const char *principal,
			       const char *perm)
{
	struct allowed *x;
	uint64_t h, hv;
	char kbuf[ALLOWED_KEY_BUF];
	const char *key;
	size_t klen;

	key = allowed_key(a, (struct wd_str){ principal, strlen(principal) },
			  (struct wd_str){ perm, strlen(perm) }, kbuf, &klen);
	if (key == NULL)
		return -1;
	hv = hash_mem(key, klen);
	h = hv % a->nbuckets;
	x = allowed_find(a->allowed[h], hv, key, klen);
	return x ? x->last_t : -1;
}

/* Appends src's values to dst as if they had been added one by one. */
static void strs_merge(struct wd_strs *dst, struct wd_strs *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		strs_add(dst, (struct wd_str){ src->v[i], strlen(src->v[i]) },
			 false);
	if (src->truncated)
		dst->truncated = true;
}


void wd_agg_merge(struct wd_agg *dst, struct wd_agg *src)
{
	size_t i;

	/* src's causes in their first-seen order: a cause new to dst is
	 * appended (as it would have been, seen later); a known one keeps
	 * dst's first occurrence (title, fix, message) and adds the rest. */
	for (i = 0; i < src->ngroups; i++) {
		struct group *sg = src->groups[i], *dg;
		uint64_t h = hash(sg->key) % dst->nbuckets;

		for (dg = dst->table[h]; dg; dg = dg->next)
			if (strcmp(dg->key, sg->key) == 0)
				break;
		if (dg == NULL) {
			if (dst->ngroups >= WD_MAX_GROUPS) {
				dst->dropped += sg->f.count;
				continue;
			}
			group_insert(dst, sg);
			src->groups[i] = NULL;
			continue;
		}
		dg->f.count += sg->f.count;
		if (sg->first_t >= 0 && (dg->first_t < 0 ||
					 sg->first_t < dg->first_t)) {
			dg->first_t = sg->first_t;
			free(dg->f.first_seen);
			dg->f.first_seen = sg->f.first_seen;
			sg->f.first_seen = NULL;
		}
		if (sg->last_t >= 0 && (dg->last_t < 0 ||
					sg->last_t > dg->last_t)) {
			dg->last_t = sg->last_t;
			free(dg->f.last_seen);
			dg->f.last_seen = sg->f.last_seen;
			sg->f.last_seen = NULL;
		}
		strs_merge(&dg->f.methods, &sg->f.methods);
		strs_merge(&dg->f.resources, &sg->f.resources);
		strs_merge(&dg->f.examples, &sg->f.examples);
		strs_merge(&dg->f.sources, &sg->f.sources);
		strs_merge(&dg->f.locations, &sg->f.locations);
		dg->f.in_step_log |= sg->f.in_step_log;
		dg->f.in_audit_log |= sg->f.in_audit_log;
	}
	dst->failures += src->failures;
	dst->filtered += src->filtered;
	dst->dropped += src->dropped;
	for (i = 0; i < src->nbuckets; i++) {
		struct allowed *x;

		for (x = src->allowed[i]; x; x = x->next) {
			uint64_t h = x->hash % dst->nbuckets;
			struct allowed *y = allowed_find(dst->allowed[h],
							 x->hash, x->key,
							 x->klen);

			if (y) {
				if (x->last_t > y->last_t)
					y->last_t = x->last_t;
			} else if (dst->nallowed < ALLOWED_MAX) {
				y = wd_xcalloc(1, sizeof(*y));
				y->hash = x->hash;
				y->key = wd_xstrdup(x->key);
				y->klen = x->klen;
				y->last_t = x->last_t;
				y->next = dst->allowed[h];
				dst->allowed[h] = y;
				dst->nallowed++;
			}
		}
	}
	for (i = 0; i < src->nchanges && change_room(dst); i++)
		dst->changes[dst->nchanges++] = src->changes[i];
	dst->saw_data_access |= src->saw_data_access;
	dst->saw_audit |= src->saw_audit;
}

static bool same_or_unknown(const char *a, const char *b)
{
	return a == NULL || b == NULL || strcmp(a, b) == 0;
}

/* Project ids and project numbers name the same project in different
 * places (error texts often carry the number): a number matches any. */
static bool same_project(const char *a, const char *b)
{
	if (a && a[0] && strspn(a, "0123456789") == strlen(a))
		return true;
	if (b && b[0] && strspn(b, "0123456789") == strlen(b))
		return true;
	return same_or_unknown(a, b);
}

/* A failure the step's own output reported and the audit log recorded is
 * one cause: fold each step-log-only cause into the audit-log cause with
 * the same category and subject (principal and project agree where both
 * are known; a step log rarely names the principal). */
static void correlate(struct wd_agg *a)
{
	size_t i, j;

	for (i = 0; i < a->ngroups; i++) {
		struct group *g = a->groups[i];

		if (!g->f.in_step_log || g->f.in_audit_log || !g->f.subject)
			continue;
		for (j = 0; j < a->ngroups; j++) {
			struct group *h = a->groups[j];

			if (h == g || h->merged || !h->f.in_audit_log ||
			    h->f.category != g->f.category || !h->f.subject ||
			    strcmp(h->f.subject, g->f.subject) != 0 ||
			    !same_project(h->f.project, g->f.project) ||
			    !same_or_unknown(h->f.principal, g->f.principal))
				continue;
			h->f.in_step_log = true;
			strs_merge(&h->f.locations, &g->f.locations);
			strs_merge(&h->f.sources, &g->f.sources);
			g->merged = true;
			break;
		}
	}
}

static const double level_weight[WD_LEVEL__COUNT] = { 0, 100, 200, 300 };

static int cmp_findings(const void *pa, const void *pb)
{
	const struct wd_finding *x = pa, *y = pb;
	int c;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if ((c = strcmp(x->rule, y->rule)) != 0)
		return c;
	if ((c = strcmp(x->principal ? x->principal : "",
			y->principal ? y->principal : "")) != 0)
		return c;
	if ((c = strcmp(x->subject ? x->subject : "",
			y->subject ? y->subject : "")) != 0)
		return c;
	if ((c = strcmp(x->project ? x->project : "",
			y->project ? y->project : "")) != 0)
		return c;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void add_hints(struct wd_agg *a, struct group *g,
		      uint64_t api_disabled_in_project)
{
	struct wd_finding *f = &g->f;
	char when[32];
	long long t;

	/* Look-ups use the unredacted principal; what is printed is
	 * redacted when asked. */
	if ((f->category == WD_CAT_IAM_PERMISSION ||
	     f->category == WD_CAT_IAM_DENY_POLICY) && g->principal_raw &&
	    f->permission) {
		char *perms = wd_xstrdup(f->permission), *tok, *save = NULL;

		for (tok = strtok_r(perms, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			t = allowed_after(a, g->principal_raw, tok);
			if (t > g->first_t && g->first_t >= 0) {
				wd_format_rfc3339(t, when);
				wd_buf_clear(&a->tmp);
				wd_buf_printf(&a->tmp,
					"granted, still denied: %s was "
					"allowed %s at %s, after these "
					"denials; IAM changes take minutes "
					"to propagate, so wait and retry",
					f->principal, tok, when);
				strs_addc(&f->hints, a->tmp.ptr);
				break;
			}
		}
		free(perms);
	}
	if (f->category == WD_CAT_IAM_PERMISSION && g->first_t >= 0 &&
	    (t = change_near(a, g->project_raw, g->first_t, g->last_t,
			     false)) >= 0) {
		wd_format_rfc3339(t, when);
		wd_buf_clear(&a->tmp);
		wd_buf_printf(&a->tmp, "an IAM policy was changed at %s, near "
			      "these denials: if it granted the role, it may "
			      "not have propagated yet (up to 7 minutes); "
			      "retry before changing more", when);
		strs_addc(&f->hints, a->tmp.ptr);
	}
	if (f->category == WD_CAT_API_DISABLED && g->first_t >= 0 &&
	    (t = change_near(a, g->project_raw, g->first_t, g->last_t,
			     true)) >= 0) {
		wd_format_rfc3339(t, when);
		wd_buf_clear(&a->tmp);
		wd_buf_printf(&a->tmp, "a service was enabled at %s, near "
			      "these failures: enabling takes a few minutes "
			      "to propagate; retry before enabling again",
			      when);
		strs_addc(&f->hints, a->tmp.ptr);
	}
	if (f->anonymous)
		strs_addc(&f->hints, "the caller was anonymous "
			  "(authenticationInfo is empty): no credentials "
			  "were sent, or they were not accepted; check the "
			  "client's authentication before granting roles");
	if (f->category == WD_CAT_IAM_PERMISSION) {
		wd_buf_clear(&a->tmp);
		wd_buf_printf(&a->tmp, "a deny policy produces the same log "
			      "entry as a missing grant; if the principal "
			      "already has a role holding the permission, "
			      "list the deny policies: gcloud iam policies "
			      "list --attachment-point=cloudresourcemanager."
			      "googleapis.com/projects/%s --kind=denypolicies",
			      f->project ? f->project : "<project>");
		strs_addc(&f->hints, a->tmp.ptr);
	}
	if (f->dry_run)
		strs_addc(&f->hints, "dry run: the perimeter did not block "
			  "this request; it would once enforced");
	if (api_disabled_in_project) {
		wd_buf_clear(&a->tmp);
		wd_buf_printf(&a->tmp, "fix this first: it explains %llu "
			      "API-disabled failure%s in the same project",
			      (unsigned long long)api_disabled_in_project,
			      api_disabled_in_project == 1 ? "" : "s");
		strs_addc(&f->hints, a->tmp.ptr);
		f->explains = api_disabled_in_project;
	}
	if (f->principal && strstr(f->principal, "...") != NULL)
		strs_addc(&f->hints, "the principal is redacted in the log "
			  "(Google hides the caller of failed reads unless it "
			  "is a service account): find it in the step's own "
			  "output");
}

static uint64_t api_disabled_count(struct wd_agg *a, const char *project)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < a->ngroups; i++)
		if (!a->groups[i]->merged &&
		    a->groups[i]->f.category == WD_CAT_API_DISABLED &&
		    (project == NULL ||
		     same(a->groups[i]->f.project, project)))
			n += a->groups[i]->f.count;
	return n;
}

static bool blocks(const struct wd_finding *f)
{
	/* Billing not enabled leaves the project's APIs disabled; a
	 * regional tax restriction does not. */
	if (f->category == WD_CAT_BILLING)
		return strstr(f->rule, "tax") == NULL;
	return f->category == WD_CAT_IAM_PERMISSION && f->permission &&
	       strstr(f->permission, "serviceusage.services.enable") != NULL;
}

/* The cause-level filters (--category, --min-level). */
static bool wanted_cause(const struct wd_agg *a, const struct wd_finding *f)
{
	if (a->cfg->category >= 0 && (int)f->category != a->cfg->category)
		return false;
	if (a->cfg->min_level >= 0 && (int)f->level < a->cfg->min_level)
		return false;
	return true;
}

static void nothing_found(struct wd_agg *a, struct wd_report *r)
{
	const struct wd_scan_stats *st = r->stats;
	char **v = wd_xcalloc(16, sizeof(char *));
	size_t n = 0;
	struct wd_buf b;

	wd_buf_init(&b, 4096);
	if (st->entries == 0 && st->skipped == 0)
		v[n++] = wd_xstrdup("no log entries were read: the inputs "
				    "are empty, or the time window holds none");
	else if (st->entries > 0 && st->failures == 0)
		v[n++] = wd_xstrdup("every entry read was a success: no "
				    "failure was logged in these inputs");
	if (st->skipped > 0) {
		wd_buf_printf(&b, "%llu entr%s could not be read and were "
			      "skipped (see the warnings)",
			      (unsigned long long)st->skipped,
			      st->skipped == 1 ? "y" : "ies");
		v[n++] = wd_buf_detach(&b, NULL);
	}
	if (st->inputs_error + st->inputs_skipped > 0) {
		wd_buf_printf(&b, "%llu input%s could not be read",
			      (unsigned long long)(st->inputs_error +
						   st->inputs_skipped),
			      st->inputs_error + st->inputs_skipped == 1 ?
			      "" : "s");
		v[n++] = wd_buf_detach(&b, NULL);
	}
	if (a->filtered > 0) {
		wd_buf_printf(&b, "filters excluded %llu failure%s",
			      (unsigned long long)a->filtered,
			      a->filtered == 1 ? "" : "s");
		v[n++] = wd_buf_detach(&b, NULL);
	}
	if (st->entries > 0 && !a->saw_data_access && !a->saw_audit)
		v[n++] = wd_xstrdup("no Data Access entries were read: "
				    "denied reads are invisible when Data "
				    "Access audit logs are off (the default)");
	v[n++] = wd_xstrdup("some causes never reach audit logs: terms of "
			    "service not accepted, a region not supported, a "
			    "new account's temporary restriction, a "
			    "Workspace administrator's setting, browser "
			    "session problems; the failed step's own output "
			    "(whydenied scan STEP.log) may name them");
	wd_buf_release(&b);
	r->nothing_found = v;
}

struct wd_report *wd_agg_finish(struct wd_agg *a,
				const struct wd_scan_stats *stats,
				size_t rules_loaded, const char *source)
{
	struct wd_report *r = wd_xcalloc(1, sizeof(*r));
	size_t i, k = 0;
	long long rmin = -1, rmax = -1;
	uint64_t *explains;
	char now[32];

	r->stats = stats;
	r->rules_loaded = rules_loaded;
	r->source = wd_xstrdup(source);
	r->saw_data_access = a->saw_data_access;
	wd_format_rfc3339(wd_now(), now);
	r->generated_at = wd_xstrdup(now);
	r->filtered_out = a->filtered;
	r->groups_dropped = a->dropped;
	r->findings = wd_xcalloc(a->ngroups ? a->ngroups : 1,
				 sizeof(*r->findings));
	correlate(a);
	/* Recency runs from the oldest to the newest last-seen time of the
	 * causes reported (docs/report-formats.md). */
	for (i = 0; i < a->ngroups; i++) {
		struct group *g = a->groups[i];

		if (g->merged || g->last_t < 0 || !wanted_cause(a, &g->f))
			continue;
		if (rmin < 0 || g->last_t < rmin)
			rmin = g->last_t;
		if (g->last_t > rmax)
			rmax = g->last_t;
	}
	/* What blocks what is decided over all causes before any is
	 * moved into the report. */
	explains = wd_xcalloc(a->ngroups ? a->ngroups : 1, sizeof(*explains));
	for (i = 0; i < a->ngroups; i++)
		if (blocks(&a->groups[i]->f))
			explains[i] = api_disabled_count(a,
							 a->groups[i]->f.project);
	for (i = 0; i < a->ngroups; i++) {
		struct group *g = a->groups[i];
		struct wd_finding *f = &g->f;
		double recency = 0;

		if (g->merged)
			continue;	/* released with the aggregator */

		if (!wanted_cause(a, f)) {
			a->filtered += f->count;
			continue;
		}
		if (g->last_t >= 0 && rmax > rmin)
			recency = (double)(g->last_t - rmin) /
				  (double)(rmax - rmin);
		else if (g->last_t >= 0)
			recency = 1;
		add_hints(a, g, explains[i]);
		f->score = level_weight[f->level] +
			   10.0 * log10(1.0 + (double)f->count) +
			   5.0 * recency + (explains[i] ? 1000.0 : 0.0);
		/* Round so the order does not hang on float noise. */
		f->score = floor(f->score * 1000.0 + 0.5) / 1000.0;
		r->failures += f->count;
		r->findings[k++] = *f;
		memset(f, 0, sizeof(*f));	/* moved to the report */
	}
	free(explains);
	r->filtered_out = a->filtered;
	qsort(r->findings, k, sizeof(*r->findings), cmp_findings);
	r->total = k;
	r->max_level = -1;
	for (i = 0; i < k; i++)
		if ((int)r->findings[i].level > r->max_level)
			r->max_level = (int)r->findings[i].level;
	r->n = a->cfg->top && a->cfg->top < k ? a->cfg->top : k;
	for (i = 0; i < k; i++)
		r->findings[i].rank = (int)i + 1;
	for (i = r->n; i < k; i++)
		finding_release(&r->findings[i]);
	if (stats->entries > 0 && !a->saw_data_access && a->saw_audit)
		strs_addc(&r->notes, "no Data Access audit entries in the "
			  "input: denied reads (storage.objects.get, "
			  "secretmanager.versions.access, ...) are logged "
			  "only when Data Access logs are on, which they are "
			  "not by default");
	if (r->n == 0)
		nothing_found(a, r);
	return r;
}

void wd_report_free(struct wd_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		finding_release(&r->findings[i]);
	free(r->findings);
	strs_free(&r->notes);
	if (r->nothing_found) {
		for (i = 0; r->nothing_found[i]; i++)
			free(r->nothing_found[i]);
		free(r->nothing_found);
	}
	free(r->generated_at);
	free(r->source);
	free(r);
}

/* ---- redaction ---- */

static void short_hash(const char *p, size_t n, char out[9])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";
	int i;

	SHA256((const unsigned char *)p, n, md);
	for (i = 0; i < 4; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[8] = '\0';
}

static bool email_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == '+' || c == '%';
}

static bool hexc(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* The length of an IPv6 address at s[i] (hex groups and colons, with
 * "::" or all eight groups, so that times like 10:00:00 are not taken),
 * or 0. */
static size_t ipv6_at(const char *s, size_t i, size_t n)
{
	size_t j = i, colons = 0, k;
	bool dbl = false;

	if (i > 0 && (hexc((unsigned char)s[i - 1]) || s[i - 1] == ':' ||
		      s[i - 1] == '.'))
		return 0;
	while (j < n && (hexc((unsigned char)s[j]) || s[j] == ':' ||
			 s[j] == '.')) {
		if (s[j] == ':') {
			colons++;
			if (j + 1 < n && s[j + 1] == ':')
				dbl = true;
		}
		j++;
	}
	while (j > i && (s[j - 1] == '.' ||
			 (s[j - 1] == ':' && !(j - i >= 2 &&
					       s[j - 2] == ':'))))
		j--;	/* a sentence's full stop or colon */
	if (j < n && (email_char((unsigned char)s[j]) && s[j] != '.'))
		return 0;
	for (k = i; k < j; k++)
		if (s[k] == '.' && colons < 2)
			return 0;
	if (colons < 2 || (!dbl && colons != 7))
		return 0;
	return j - i;
}

char *wd_redact(const char *s)
{
	struct wd_buf b;
	size_t i = 0, n = strlen(s);
	char h[9];

	wd_buf_init(&b, 2 * n + 64);
	while (i < n) {
		size_t j, k, dots = 0, v6 = ipv6_at(s, i, n);

		if (v6 > 0) {
			short_hash(s + i, v6, h);
			wd_buf_printf(&b, "ip-%s", h);
			i += v6;
			continue;
		}

		if (!email_char((unsigned char)s[i]) ||
		    (i > 0 && email_char((unsigned char)s[i - 1]))) {
			wd_buf_addc(&b, s[i]);
			i++;
			continue;
		}
		/* The start of a word: an email, an IPv4 address, a long
		 * number, or something else copied as is. */
		for (j = i; j < n && email_char((unsigned char)s[j]); j++)
			;
		if (j < n && s[j] == '@') {
			for (k = j + 1; k < n && email_char((unsigned char)s[k]);
			     k++)
				if (s[k] == '.')
					dots++;
			if (dots > 0 && j > i) {
				bool sa = k - j - 1 > 19 &&
					  memcmp(s + k - 19,
						 "gserviceaccount.com", 19) == 0;

				short_hash(s + i, k - i, h);
				wd_buf_printf(&b, "%s-%s@redacted%s",
					      sa ? "sa" : "user", h,
					      sa ? ".iam.gserviceaccount.com" :
					      ".invalid");
				i = k;
				continue;
			}
		}
		/* Inside the word, replace IPv4 addresses and runs of ten or
		 * more digits (project numbers). */
		while (i < j) {
			size_t en = i, d = 0;

			if (s[i] < '0' || s[i] > '9') {
				wd_buf_addc(&b, s[i]);
				i++;
				continue;
			}
			while (en < j && ((s[en] >= '0' && s[en] <= '9') ||
					  s[en] == '.')) {
				if (s[en] == '.')
					d++;
				en++;
			}
			while (en > i && s[en - 1] == '.') {
				en--;
				d--;
			}
			if (d == 3) {
				short_hash(s + i, en - i, h);
				wd_buf_printf(&b, "ip-%s", h);
				i = en;
				continue;
			}
			for (en = i; en < j && s[en] >= '0' && s[en] <= '9';
			     en++)
				;
			if (en - i >= 10) {
				short_hash(s + i, en - i, h);
				wd_buf_printf(&b, "n-%s", h);
			} else {
				wd_buf_add(&b, s + i, en - i);
			}
			i = en;
		}
	}
	return wd_buf_detach(&b, NULL);
}
