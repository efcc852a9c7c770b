/* whydenied/rules.h - the rule set: loads rule files and classifies
 * failure records into named causes.
 *
 * A struct wd_ruleset is immutable once loaded and owns its compiled
 * patterns; it may be shared between threads. Matching state (PCRE2 match
 * data, the variable scratch) lives in a struct wd_matcher, one per thread.
 * Records passed to wd_matcher_classify() are borrowed for the call; the
 * verdict's variables stay valid until the next classify on that matcher.
 */
#ifndef WHYDENIED_RULES_H
#define WHYDENIED_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "whydenied/buf.h"
#include "whydenied/entry.h"
#include "whydenied/err.h"

enum wd_category {
	WD_CAT_IAM_PERMISSION,
	WD_CAT_IAM_DENY_POLICY,
	WD_CAT_API_DISABLED,
	WD_CAT_BILLING,
	WD_CAT_ORG_POLICY,
	WD_CAT_VPC_SC,
	WD_CAT_QUOTA,
	WD_CAT_AUTHN,
	WD_CAT_CAPACITY,
	WD_CAT_NOT_FOUND,
	WD_CAT_PRECONDITION,
	WD_CAT_UNKNOWN,
	WD_CAT__COUNT
};

enum wd_level {
	WD_LEVEL_LOW,
	WD_LEVEL_MEDIUM,
	WD_LEVEL_HIGH,
	WD_LEVEL_CRITICAL,
	WD_LEVEL__COUNT
};

const char *wd_category_name(enum wd_category c);
int wd_category_parse(const char *s);	/* -1 when unknown */
const char *wd_level_name(enum wd_level l);
int wd_level_parse(const char *s);	/* -1 when unknown */

struct wd_rule;
struct wd_ruleset;

/* Template variables of one verdict. */
#define WD_MAX_VARS 160

struct wd_var {
	const char *name;
	struct wd_str val;
};

struct wd_vars {
	struct wd_var v[WD_MAX_VARS];
	size_t n;
};

struct wd_str wd_vars_get(const struct wd_vars *vars, const char *name);

struct wd_verdict {
	const struct wd_rule *rule;	/* NULL: no rule matched */
	enum wd_category category;
	enum wd_level level;
	struct wd_vars vars;
};

/* Looks up the role to suggest for a set of permissions; set by the caller
 * (the roles module). Writes the role into out; returns false if none. */
typedef bool wd_role_fn(void *ctx, const char *const *perms, size_t n,
			struct wd_buf *out);

/* Problems found while loading or linting. */
typedef void wd_problem_fn(void *ctx, const char *file, unsigned line,
			   unsigned col, const char *msg);

/* Loads every *.json in each dir (sorted by name, dirs in order); a rule
 * whose id was already loaded replaces it. Every problem is reported to
 * on_problem (may be NULL). Returns 0, or WD_ERULES when there was any
 * problem (the set is then not created). */
int wd_ruleset_load(struct wd_ruleset **out, const char *const *dirs,
		    size_t ndirs, wd_problem_fn *on_problem, void *pctx,
		    struct wd_err *err);
/* Loads rules from one file's text held in memory (name is used in
 * problems). Same contract as wd_ruleset_load. */
int wd_ruleset_load_text(struct wd_ruleset **out, const char *name,
			 const char *text, size_t len,
			 wd_problem_fn *on_problem, void *pctx,
			 struct wd_err *err);
void wd_ruleset_free(struct wd_ruleset *rs);	/* NULL is a no-op */

size_t wd_ruleset_count(const struct wd_ruleset *rs);
const struct wd_rule *wd_ruleset_rule(const struct wd_ruleset *rs, size_t i);
void wd_ruleset_set_roles(struct wd_ruleset *rs, wd_role_fn *fn, void *ctx);

const char *wd_rule_id(const struct wd_rule *r);
const char *wd_rule_title(const struct wd_rule *r);
const char *wd_rule_explain(const struct wd_rule *r);
const char *wd_rule_fix(const struct wd_rule *r);
const char *wd_rule_verify(const struct wd_rule *r);
const char *wd_rule_docs(const struct wd_rule *r);
const char *wd_rule_file(const struct wd_rule *r);
enum wd_category wd_rule_category(const struct wd_rule *r);
enum wd_level wd_rule_level(const struct wd_rule *r);
int wd_rule_priority(const struct wd_rule *r);

struct wd_matcher;

struct wd_matcher *wd_matcher_new(const struct wd_ruleset *rs);
void wd_matcher_free(struct wd_matcher *m);	/* NULL is a no-op */

/* Classifies a failure record: the highest-priority matching rule (then
 * the first loaded), or category UNKNOWN with rule NULL. Fills the
 * verdict's variables. */
void wd_matcher_classify(struct wd_matcher *m, const struct wd_entry *e,
			 struct wd_verdict *v);

/* Rules whose regex hit the PCRE2 match/depth/heap limit, with counts;
 * reported once at the end. Returns the number of such rules. */
size_t wd_matcher_limit_hits(const struct wd_matcher *m,
			     void (*fn)(void *ctx, const char *rule_id,
					unsigned long hits), void *ctx);

/* Adds src's limit-hit counts to dst (same rule set). */
void wd_matcher_absorb(struct wd_matcher *dst, const struct wd_matcher *src);

/* Renders a template. With shell set, values that are not plainly safe
 * for a shell command line are single-quoted. Missing variables render
 * as <name>. */
void wd_render(struct wd_buf *out, const char *tmpl, const struct wd_vars *v,
	       bool shell);

/* Runs every rule's inline tests; prints failures to out as
 * "FILE:LINE: ..." and ends with "N passed, M failed". Returns the number
 * failed. */
size_t wd_ruleset_test(const struct wd_ruleset *rs, FILE *out);

#endif
