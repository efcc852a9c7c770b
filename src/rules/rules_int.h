/* rules_int.h - private structures shared by the rules module's files. */
#ifndef WHYDENIED_RULES_INT_H
#define WHYDENIED_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "whydenied/rules.h"

enum cond_op {
	C_ALL,
	C_ANY,
	C_NOT,
	C_EQUALS,
	C_PREFIX,
	C_REGEX,
	C_EXISTS,
};

struct cond {
	enum cond_op op;
	int field;
	char *key;		/* error_metadata.KEY */
	size_t key_len;
	struct cond *kids;
	size_t nkids;
	char **values;
	size_t *value_lens;
	size_t nvalues;
	pcre2_code *re;
	bool exists;
};

struct rule_test {
	char *entry_json;	/* NULL when the entry is missing */
	size_t entry_len;
	char **keys;		/* expected: rule, category, failure, vars */
	char **vals;
	size_t n;
	unsigned line;
};

struct wd_rule {
	char *id;
	enum wd_category category;
	enum wd_level level;
	int priority;
	char *title, *explain, *fix, *verify, *docs;
	struct cond match;
	char **set_names;
	char **set_values;
	size_t nset;
	struct rule_test *tests;
	size_t ntests;
	char *file;
	unsigned line;
	size_t index;		/* load order */
};

struct wd_ruleset {
	struct wd_rule **rules;	/* load order */
	size_t n;
	struct wd_rule **sorted;	/* match order */
	pcre2_match_context *mctx;
	wd_role_fn *role_fn;
	void *role_ctx;
};

/* Standard variables every rule may use, besides record fields. */
extern const char *const wd_std_vars[];

void wd_cond_release(struct cond *c);

#endif
