/* whydenied/config.h - the validated command line.
 *
 * Parsed once in main from the option table (src/cli/opts.c); every later
 * stage receives a const struct wd_config * and never looks at argv or the
 * environment for its options.
 */
#ifndef WHYDENIED_CONFIG_H
#define WHYDENIED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WD_VERSION "0.1.0"

enum wd_exit {
	WD_EXIT_OK = 0,
	WD_EXIT_FINDINGS = 1,	/* findings at or above --fail-on (opt-in) */
	WD_EXIT_USAGE = 2,	/* usage or configuration error, incl. a bad rule */
	WD_EXIT_INPUT = 3,	/* nothing readable, API error, --strict skips */
};

enum wd_command {
	WD_CMD_SCAN,
	WD_CMD_PULL,
	WD_CMD_RULES,
	WD_CMD_ROLES,
	WD_CMD_AUTH,
	WD_CMD__COUNT
};

enum wd_out_format {
	WD_OUT_TEXT,
	WD_OUT_MARKDOWN,
	WD_OUT_JSON,
};

enum wd_color {
	WD_COLOR_AUTO,
	WD_COLOR_ALWAYS,
	WD_COLOR_NEVER,
};

#define WD_MAX_LIST 64		/* repeatable options */

struct wd_strlist {
	const char *v[WD_MAX_LIST];
	size_t n;
};

struct wd_config {
	enum wd_command command;
	const char *subcommand;	/* rules lint|test|list, roles ... */
	struct wd_strlist args;	/* positional: inputs, permissions */

	/* Output */
	enum wd_out_format format;
	const char *events_csv;
	const char *events_json;
	const char *csv;
	const char *json;
	const char *markdown;
	enum wd_color color;
	bool redact;
	bool step_summary;	/* GITHUB_STEP_SUMMARY when set */
	size_t top;		/* 0: all */
	int fail_on;		/* -1 never, 0 any, else level >= */
	bool quiet;
	size_t max_warnings;

	/* Input */
	bool strict;
	int input_format;	/* enum wd_input_format */
	struct wd_strlist rules_dirs;
	size_t jobs;

	/* Filters */
	int64_t since_secs;	/* 0: none */
	const char *from;	/* RFC 3339, normalised */
	const char *to;
	struct wd_strlist principals;
	struct wd_strlist projects;
	int category;		/* -1: any */
	int min_level;		/* -1: any */

	/* pull */
	struct wd_strlist organizations;
	struct wd_strlist folders;
	struct wd_strlist billing_accounts;
	struct wd_strlist resource_names;
	const char *logs;
	const char *filter;
	uint64_t max_entries;
	uint64_t max_pages;
	unsigned page_size;
	bool order_asc;
	const char *endpoint;
	bool print_filter;
	const char *access_token_file;
	const char *step_log;
	double rate_per_min;
	unsigned max_retries;

	/* roles */
	const char *roles_endpoint;
};

#endif
