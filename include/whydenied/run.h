/* whydenied/run.h - the commands, as main dispatches them, and the
 * session that scan and pull share: classify every failure, aggregate,
 * print every requested output, and choose the exit code. */
#ifndef WHYDENIED_RUN_H
#define WHYDENIED_RUN_H

#include <pthread.h>
#include <stdio.h>

#include "whydenied/config.h"
#include "whydenied/csvout.h"
#include "whydenied/report.h"
#include "whydenied/rules.h"
#include "whydenied/scan.h"

struct wd_session {
	const struct wd_config *cfg;
	struct wd_ruleset *rules;
	struct wd_roles *roles;	/* the role index the rules use */
	struct wd_matcher *matcher;
	struct wd_agg *agg;
	struct wd_verdict *verdict;
	FILE *events_fp;
	struct wd_csv events;
	struct wd_scanner *scanner;
	size_t warnings;
	pthread_mutex_t mu;	/* guards matcher while workers end */
	bool mu_ready;
	/* Optional: decides whether an entry is analysed at all (pull's
	 * de-duplication across pages and retries); NULL keeps all. */
	bool (*accept)(void *ctx, const struct wd_entry *e);
	void *accept_ctx;
	/* Optional: a container's own values (nextPageToken). */
	void (*on_meta)(void *ctx, const char *key, const char *val,
			size_t n);
	void *on_meta_ctx;
	FILE *events_json_fp;
};

/* Loads the rules (built-in + --rules) into *out; returns 0 or an exit
 * code, having printed every problem. */
int wd_load_rules(struct wd_ruleset **out, const struct wd_config *cfg);

/* Prepares a session; returns 0 or an exit code (message printed). */
int wd_session_begin(struct wd_session *s, const struct wd_config *cfg);
/* Prints the report and every output; returns the exit code. input_ok
 * says whether anything could be read. */
int wd_session_finish(struct wd_session *s, const char *source,
		      bool input_ok);
void wd_session_release(struct wd_session *s);

int wd_run_scan(const struct wd_config *cfg);
int wd_run_pull(const struct wd_config *cfg);
int wd_run_roles(const struct wd_config *cfg);
int wd_run_auth(const struct wd_config *cfg);

#endif
