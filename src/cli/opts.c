/* opts.c - the option table, argument parsing and help (see
 * whydenied/cli.h). Every option is one row: getopt_long and --help are
 * both made from it. */
#include "whydenied/cli.h"
#include "whydenied/buf.h"
#include "whydenied/rules.h"
#include "whydenied/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S (1u << WD_CMD_SCAN)
#define P (1u << WD_CMD_PULL)
#define R (1u << WD_CMD_RULES)
#define O (1u << WD_CMD_ROLES)
#define A (1u << WD_CMD_AUTH)
#define REPORT (S | P)

enum opt_id {
	O_HELP = 'h',
	O_VERSION = 'V',
	O_FORMAT = 'f',
	O_QUIET = 'q',
	O_JOBS = 'j',
	O_EVENTS_CSV = 1000,
	O_EVENTS_JSON,
	O_CSV,
	O_JSON,
	O_MARKDOWN,
	O_COLOR,
	O_NO_COLOR,
	O_REDACT,
	O_NO_STEP_SUMMARY,
	O_TOP,
	O_FAIL_ON,
	O_MAX_WARNINGS,
	O_STRICT,
	O_INPUT_FORMAT,
	O_RULES,
	O_SINCE,
	O_FROM,
	O_TO,
	O_PRINCIPAL,
	O_PROJECT,
	O_CATEGORY,
	O_MIN_LEVEL,
	O_ORGANIZATION,
	O_FOLDER,
	O_BILLING_ACCOUNT,
	O_RESOURCE_NAME,
	O_LOGS,
	O_FILTER,
	O_MAX_ENTRIES,
	O_MAX_PAGES,
	O_PAGE_SIZE,
	O_ORDER,
	O_ENDPOINT,
	O_PRINT_FILTER,
	O_ACCESS_TOKEN_FILE,
	O_STEP_LOG,
	O_RATE,
	O_MAX_RETRIES,
};

struct opt {
	const char *name;
	int id;
	bool arg;
	unsigned cmds;
	const char *metavar;
	const char *help;
};

static const struct opt opts[] = {
	{ "format", O_FORMAT, true, REPORT, "FMT",
	  "report on stdout: text (default), markdown, json" },
	{ "csv", O_CSV, true, REPORT, "FILE",
	  "also write one CSV row per finding (cause) to FILE" },
	{ "events-csv", O_EVENTS_CSV, true, REPORT, "FILE",
	  "also write one CSV row per failure to FILE" },
	{ "events-json", O_EVENTS_JSON, true, REPORT, "FILE",
	  "also write one JSON object per failure (NDJSON) with every "
	  "extracted variable to FILE" },
	{ "json", O_JSON, true, REPORT, "FILE", "also write the JSON report to FILE" },
	{ "markdown", O_MARKDOWN, true, REPORT, "FILE",
	  "also write the Markdown report to FILE" },
	{ "top", O_TOP, true, REPORT, "N", "show only the N highest-ranked causes" },
	{ "fail-on", O_FAIL_ON, true, REPORT, "LEVEL",
	  "exit 1 when a cause at or above LEVEL (low, medium, high, "
	  "critical) or 'any' is found; default never" },
	{ "since", O_SINCE, true, REPORT, "DUR",
	  "only entries newer than DUR ago (30m, 2h, 7d)" },
	{ "from", O_FROM, true, REPORT, "TIME", "only entries at or after TIME (RFC 3339)" },
	{ "to", O_TO, true, REPORT, "TIME", "only entries at or before TIME (RFC 3339)" },
	{ "principal", O_PRINCIPAL, true, REPORT, "EMAIL",
	  "only failures of this principal (repeatable)" },
	{ "project", O_PROJECT, true, REPORT, "ID",
	  "only this project (scan: filter; pull: read its logs; repeatable)" },
	{ "category", O_CATEGORY, true, REPORT, "CAT",
	  "only causes of this category (IAM_PERMISSION, API_DISABLED, ...)" },
	{ "min-level", O_MIN_LEVEL, true, REPORT, "LEVEL",
	  "only causes at or above LEVEL" },
	{ "redact", O_REDACT, false, REPORT, NULL,
	  "replace principal emails, caller IPs and project numbers by "
	  "stable short hashes in every output" },
	{ "color", O_COLOR, false, REPORT, NULL, "colour even when stdout is not a terminal" },
	{ "no-color", O_NO_COLOR, false, REPORT, NULL,
	  "no colour (also when NO_COLOR is set)" },
	{ "no-step-summary", O_NO_STEP_SUMMARY, false, REPORT, NULL,
	  "do not append to $GITHUB_STEP_SUMMARY" },
	{ "strict", O_STRICT, false, REPORT, NULL,
	  "exit 3 when any entry or input was skipped" },
	{ "input-format", O_INPUT_FORMAT, true, S, "FMT",
	  "read inputs as json or text (step logs); default: detect" },
	{ "rules", O_RULES, true, REPORT | R, "DIR",
	  "load rules from DIR too; a rule with an existing id replaces it "
	  "(repeatable)" },
	{ "max-warnings", O_MAX_WARNINGS, true, REPORT, "N",
	  "print at most N lines about skipped input (default 20; counts are "
	  "always reported)" },
	{ "jobs", O_JOBS, true, S, "N", "scan with N threads (default: cores)" },
	{ "organization", O_ORGANIZATION, true, P, "ID", "read an organization's logs" },
	{ "folder", O_FOLDER, true, P, "ID", "read a folder's logs" },
	{ "billing-account", O_BILLING_ACCOUNT, true, P, "ID",
	  "read a billing account's logs" },
	{ "resource-name", O_RESOURCE_NAME, true, P, "NAME",
	  "read this resource name (projects/P, .../views/V; repeatable)" },
	{ "logs", O_LOGS, true, P, "LIST",
	  "audit logs to read (default activity,data_access,policy; also "
	  "system_event)" },
	{ "filter", O_FILTER, true, P, "EXPR", "ANDed into the generated filter" },
	{ "max-entries", O_MAX_ENTRIES, true, P, "N", "stop after N entries" },
	{ "max-pages", O_MAX_PAGES, true, P, "N",
	  "stop after N pages (default 1000)" },
	{ "page-size", O_PAGE_SIZE, true, P, "N", "entries per page, 1..1000 (default 1000)" },
	{ "order", O_ORDER, true, P, "ORD", "desc (default, newest first) or asc" },
	{ "endpoint", O_ENDPOINT, true, P | O, "URL",
	  "API root (default https://logging.googleapis.com; roles: "
	  "https://iam.googleapis.com)" },
	{ "print-filter", O_PRINT_FILTER, false, P, NULL,
	  "print the generated filter and exit" },
	{ "access-token-file", O_ACCESS_TOKEN_FILE, true, P | O | A, "FILE",
	  "read the OAuth access token from FILE" },
	{ "step-log", O_STEP_LOG, true, P, "FILE",
	  "a failed step's output: narrows the pull and marks causes seen "
	  "in both" },
	{ "rate", O_RATE, true, P, "N", "at most N requests a minute (default 60)" },
	{ "max-retries", O_MAX_RETRIES, true, P | O, "N",
	  "retries of a throttled or failed request (default 5)" },
	{ "quiet", O_QUIET, false, REPORT, NULL, "no warnings or progress on stderr" },
	{ "help", O_HELP, false, ~0u, NULL, "show this help" },
	{ "version", O_VERSION, false, ~0u, NULL, "show the version" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct {
	const char *name;
	const char *summary;
	const char *usage;
	const char *about;
} commands[WD_CMD__COUNT] = {
	[WD_CMD_SCAN] = { "scan", "explain failures in exported logs and step output", "whydenied scan [OPTIONS] PATH...",
		"Explain the failures in exported audit logs (JSON array, "
		"NDJSON,\nentries:list pages, Pub/Sub envelopes, gzip; "
		"directories are walked)\nand in failed steps' output "
		"(Terraform, gcloud, client libraries).\nPATH '-' is "
		"standard input." },
	[WD_CMD_PULL] = { "pull", "read failures live from the Cloud Logging API",
		"whydenied pull (--project P|--organization O|--folder F|"
		"--billing-account B|--resource-name N)... [OPTIONS]",
		"Read recent failures from the Cloud Logging API "
		"(entries.list) and\nexplain them like scan." },
	[WD_CMD_RULES] = { "rules", "lint, test or list the rule files",
		"whydenied rules lint|test|list [--rules DIR]",
		"lint: check rule files, every problem as FILE:LINE:COL.\n"
		"test: run every rule's inline tests.\n"
		"list: id, category, level and title of every rule." },
	[WD_CMD_ROLES] = { "roles", "find the smallest role holding a permission",
		"whydenied roles update|import FILE|lookup PERMISSION...",
		"update: fetch the predefined roles from the IAM API into the "
		"cache.\nimport: build the same index from a saved roles.list "
		"response or\n  'gcloud iam roles list --format=json' output.\n"
		"lookup: the smallest predefined roles holding the permissions." },
	[WD_CMD_AUTH] = { "auth", "show the credentials pull would use",
		"whydenied auth [--access-token-file FILE]",
		"Show which credentials pull would use, and for which "
		"principal." },
};

void wd_cli_help(FILE *fp, int command)
{
	size_t i;
	int c;

	if (command < 0) {
		fprintf(fp,
			"usage: whydenied COMMAND [OPTIONS] [ARGS]\n"
			"       whydenied PATH...   (same as whydenied scan "
			"PATH...)\n\n"
			"Explains Google Cloud 'permission denied' and other "
			"failures: who was\ndenied what, why, the command that "
			"fixes it and the one that verifies it.\n\n"
			"Commands:\n");
		for (c = 0; c < WD_CMD__COUNT; c++)
			fprintf(fp, "  %-7s %s\n", commands[c].name,
				commands[c].summary);
		fprintf(fp,
			"\nRun 'whydenied COMMAND --help' for a command's "
			"options.\n\n"
			"Exit status: 0 analysed, nothing at or above "
			"--fail-on; 1 causes at or\nabove --fail-on; 2 usage "
			"or rules error; 3 input or API error (nothing\n"
			"readable, or --strict and something was skipped).\n");
		return;
	}
	fprintf(fp, "usage: %s\n\n%s\n\nOptions:\n", commands[command].usage,
		commands[command].about);
	for (i = 0; i < NOPTS; i++) {
		char left[64];

		if (!(opts[i].cmds & (1u << command)))
			continue;
		if (opts[i].id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 opts[i].id, opts[i].name,
				 opts[i].arg ? " " : "",
				 opts[i].arg ? opts[i].metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s",
				 opts[i].name, opts[i].arg ? " " : "",
				 opts[i].arg ? opts[i].metavar : "");
		if (strlen(left) > 26)
			fprintf(fp, "  %s\n  %-26s %s\n", left, "",
				opts[i].help);
		else
			fprintf(fp, "  %-26s %s\n", left, opts[i].help);
	}
	if (command == WD_CMD_SCAN || command == WD_CMD_PULL)
		fprintf(fp,
			"\nExit status: 0 analysed, nothing at or above "
			"--fail-on; 1 causes at or\nabove --fail-on; 2 usage "
			"or rules error; 3 input or API error (nothing\n"
			"readable, or --strict and something was skipped).\n");
}

static int push(struct wd_strlist *l, const char *v, const char *opt,
		struct wd_err *err)
{
	if (l->n >= WD_MAX_LIST)
		return wd_err_set(err, WD_EUSAGE, "too many --%s (at most %d)",
				  opt, WD_MAX_LIST);
	l->v[l->n++] = v;
	return 0;
}

static int number(const char *s, unsigned long long max,
		  unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int level_or_any(const char *s)
{
	if (strcmp(s, "any") == 0)
		return 0;
	if (strcmp(s, "never") == 0)
		return -1;
	return wd_level_parse(s);
}

static void defaults(struct wd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = WD_OUT_TEXT;
	cfg->color = WD_COLOR_AUTO;
	cfg->step_summary = true;
	cfg->fail_on = -1;
	cfg->max_warnings = 20;
	cfg->category = -1;
	cfg->min_level = -1;
	cfg->logs = "activity,data_access,policy";
	cfg->max_pages = 1000;
	cfg->page_size = 1000;
	cfg->rate_per_min = 60;
	cfg->max_retries = 5;
	cfg->jobs = 0;
}

static int apply(struct wd_config *cfg, int id, const char *v,
		 struct wd_err *err)
{
	unsigned long long n;
	long long t;

	switch (id) {
	case O_FORMAT:
		if (strcmp(v, "text") == 0)
			cfg->format = WD_OUT_TEXT;
		else if (strcmp(v, "markdown") == 0 || strcmp(v, "md") == 0)
			cfg->format = WD_OUT_MARKDOWN;
		else if (strcmp(v, "json") == 0)
			cfg->format = WD_OUT_JSON;
		else
			return wd_err_set(err, WD_EUSAGE, "--format: '%s' is "
					  "not text, markdown or json", v);
		return 0;
	case O_EVENTS_CSV: cfg->events_csv = v; return 0;
	case O_EVENTS_JSON: cfg->events_json = v; return 0;
	case O_CSV: cfg->csv = v; return 0;
	case O_JSON: cfg->json = v; return 0;
	case O_MARKDOWN: cfg->markdown = v; return 0;
	case O_COLOR: cfg->color = WD_COLOR_ALWAYS; return 0;
	case O_NO_COLOR: cfg->color = WD_COLOR_NEVER; return 0;
	case O_REDACT: cfg->redact = true; return 0;
	case O_NO_STEP_SUMMARY: cfg->step_summary = false; return 0;
	case O_STRICT: cfg->strict = true; return 0;
	case O_QUIET: cfg->quiet = true; return 0;
	case O_PRINT_FILTER: cfg->print_filter = true; return 0;
	case O_TOP:
		if (number(v, 1000000, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--top takes a "
					  "positive number, not '%s'", v);
		cfg->top = (size_t)n;
		return 0;
	case O_MAX_WARNINGS:
		if (number(v, 100000000, &n) < 0)
			return wd_err_set(err, WD_EUSAGE, "--max-warnings "
					  "takes a number, not '%s'", v);
		cfg->max_warnings = (size_t)n;
		return 0;
	case O_JOBS:
		if (number(v, 256, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--jobs takes 1 to "
					  "256, not '%s'", v);
		cfg->jobs = (size_t)n;
		return 0;
	case O_FAIL_ON:
		cfg->fail_on = level_or_any(v);
		if (cfg->fail_on < 0 && strcmp(v, "never") != 0)
			return wd_err_set(err, WD_EUSAGE, "--fail-on: '%s' is "
					  "not low, medium, high, critical, "
					  "any or never", v);
		/* fail_on holds level + 1 so that 0 can mean "any". */
		if (cfg->fail_on >= 0 && strcmp(v, "any") != 0)
			cfg->fail_on += 1;
		return 0;
	case O_MIN_LEVEL:
		cfg->min_level = wd_level_parse(v);
		if (cfg->min_level < 0)
			return wd_err_set(err, WD_EUSAGE, "--min-level: '%s' "
					  "is not low, medium, high or "
					  "critical", v);
		return 0;
	case O_CATEGORY:
		cfg->category = wd_category_parse(v);
		if (cfg->category < 0)
			return wd_err_set(err, WD_EUSAGE, "--category: unknown "
					  "category '%s'", v);
		return 0;
	case O_INPUT_FORMAT:
		if (strcmp(v, "json") == 0)
			cfg->input_format = 1;
		else if (strcmp(v, "text") == 0)
			cfg->input_format = 2;
		else
			return wd_err_set(err, WD_EUSAGE, "--input-format: "
					  "'%s' is not json or text", v);
		return 0;
	case O_RULES: return push(&cfg->rules_dirs, v, "rules", err);
	case O_SINCE:
		t = wd_parse_duration(v);
		if (t < 0)
			return wd_err_set(err, WD_EUSAGE, "--since: '%s' is not "
					  "a duration like 30m, 2h or 7d", v);
		cfg->since_secs = t;
		return 0;
	case O_FROM:
	case O_TO:
		if (wd_parse_rfc3339(v, strlen(v)) < 0)
			return wd_err_set(err, WD_EUSAGE, "--%s: '%s' is not "
					  "an RFC 3339 time like "
					  "2026-11-27T10:00:00Z",
					  id == O_FROM ? "from" : "to", v);
		if (id == O_FROM)
			cfg->from = v;
		else
			cfg->to = v;
		return 0;
	case O_PRINCIPAL: return push(&cfg->principals, v, "principal", err);
	case O_PROJECT: return push(&cfg->projects, v, "project", err);
	case O_ORGANIZATION:
		return push(&cfg->organizations, v, "organization", err);
	case O_FOLDER: return push(&cfg->folders, v, "folder", err);
	case O_BILLING_ACCOUNT:
		return push(&cfg->billing_accounts, v, "billing-account", err);
	case O_RESOURCE_NAME:
		return push(&cfg->resource_names, v, "resource-name", err);
	case O_LOGS: cfg->logs = v; return 0;
	case O_FILTER: cfg->filter = v; return 0;
	case O_ENDPOINT: cfg->endpoint = v; return 0;
	case O_ACCESS_TOKEN_FILE: cfg->access_token_file = v; return 0;
	case O_STEP_LOG: cfg->step_log = v; return 0;
	case O_MAX_ENTRIES:
		if (number(v, ULLONG_MAX / 2, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--max-entries takes "
					  "a positive number, not '%s'", v);
		cfg->max_entries = n;
		return 0;
	case O_MAX_PAGES:
		if (number(v, 10000000, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--max-pages takes a "
					  "positive number, not '%s'", v);
		cfg->max_pages = n;
		return 0;
	case O_PAGE_SIZE:
		if (number(v, 1000, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--page-size takes 1 "
					  "to 1000, not '%s'", v);
		cfg->page_size = (unsigned)n;
		return 0;
	case O_ORDER:
		if (strcmp(v, "asc") == 0)
			cfg->order_asc = true;
		else if (strcmp(v, "desc") == 0)
			cfg->order_asc = false;
		else
			return wd_err_set(err, WD_EUSAGE, "--order: '%s' is "
					  "not asc or desc", v);
		return 0;
	case O_RATE:
		if (number(v, 6000, &n) < 0 || n == 0)
			return wd_err_set(err, WD_EUSAGE, "--rate takes 1 to "
					  "6000 requests a minute, not '%s'",
					  v);
		cfg->rate_per_min = (double)n;
		return 0;
	case O_MAX_RETRIES:
		if (number(v, 20, &n) < 0)
			return wd_err_set(err, WD_EUSAGE, "--max-retries takes "
					  "0 to 20, not '%s'", v);
		cfg->max_retries = (unsigned)n;
		return 0;
	default:
		return wd_err_set(err, WD_EUSAGE, "unhandled option");
	}
}

static int find_command(const char *s)
{
	int c;

	for (c = 0; c < WD_CMD__COUNT; c++)
		if (strcmp(s, commands[c].name) == 0)
			return c;
	return -1;
}

int wd_cli_parse(struct wd_config *cfg, int argc, char **argv,
		 struct wd_err *err)
{
	struct option lopts[NOPTS + 1];
	char shorts[64];
	size_t i, k = 0, sl = 0;
	int c, cmd, first = 1;

	defaults(cfg);
	if (argc < 2) {
		wd_cli_help(stderr, -1);
		return wd_err_set(err, WD_EUSAGE, "no command given");
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && find_command(argv[2]) >= 0)
			wd_cli_help(stdout, find_command(argv[2]));
		else
			wd_cli_help(stdout, -1);
		return 1;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("whydenied %s\n", WD_VERSION);
		return 1;
	}
	cmd = find_command(argv[1]);
	if (cmd < 0) {
		if (argv[1][0] == '-' && strcmp(argv[1], "-") != 0)
			cmd = WD_CMD_SCAN;	/* options before paths */
		else if (argv[1][0] != '-' || strcmp(argv[1], "-") == 0)
			cmd = WD_CMD_SCAN;	/* whydenied PATH... */
		first = 0;
	}
	cfg->command = (enum wd_command)cmd;
	for (i = 0; i < NOPTS; i++) {
		if (!(opts[i].cmds & (1u << cmd)))
			continue;
		lopts[k].name = opts[i].name;
		lopts[k].has_arg = opts[i].arg ? required_argument :
				   no_argument;
		lopts[k].flag = NULL;
		lopts[k].val = opts[i].id;
		k++;
		if (opts[i].id < 256 && sl + 3 < sizeof(shorts)) {
			shorts[sl++] = (char)opts[i].id;
			if (opts[i].arg)
				shorts[sl++] = ':';
		}
	}
	memset(&lopts[k], 0, sizeof(lopts[k]));
	shorts[sl] = '\0';
	{
		char sbuf[72];

		/* '+': stop at the first non-option only for clarity of
		 * errors; paths may follow options anyway. */
		snprintf(sbuf, sizeof(sbuf), ":%s", shorts);
		optind = first ? 2 : 1;
		opterr = 0;
		while ((c = getopt_long(argc, argv, sbuf, lopts, NULL)) != -1) {
			if (c == 'h') {
				wd_cli_help(stdout, cmd);
				return 1;
			}
			if (c == 'V') {
				printf("whydenied %s\n", WD_VERSION);
				return 1;
			}
			if (c == '?') {
				if (optopt)
					return wd_err_set(err, WD_EUSAGE,
						"unknown option '-%c' for "
						"'%s'", optopt,
						commands[cmd].name);
				return wd_err_set(err, WD_EUSAGE,
					"unknown option '%s' for '%s'",
					argv[optind - 1], commands[cmd].name);
			}
			if (c == ':')
				return wd_err_set(err, WD_EUSAGE,
					"option '%s' needs a value",
					argv[optind - 1]);
			if (apply(cfg, c, optarg, err) < 0)
				return err->code;
		}
	}
	for (; optind < argc; optind++)
		if (push(&cfg->args, argv[optind], "argument", err) < 0)
			return wd_err_set(err, WD_EUSAGE,
					  "too many arguments (at most %d)",
					  WD_MAX_LIST);
	if (cmd == WD_CMD_RULES || cmd == WD_CMD_ROLES) {
		if (cfg->args.n == 0)
			return wd_err_set(err, WD_EUSAGE, "'%s' needs a "
					  "subcommand (see whydenied %s "
					  "--help)", commands[cmd].name,
					  commands[cmd].name);
		cfg->subcommand = cfg->args.v[0];
		memmove(cfg->args.v, cfg->args.v + 1,
			(cfg->args.n - 1) * sizeof(cfg->args.v[0]));
		cfg->args.n--;
	}
	if (cmd == WD_CMD_SCAN && cfg->args.n == 0)
		return wd_err_set(err, WD_EUSAGE, "scan needs at least one PATH "
				  "('-' for standard input)");
	if (cfg->since_secs && (cfg->from || cfg->to) && cmd == WD_CMD_SCAN)
		return wd_err_set(err, WD_EUSAGE, "--since and --from/--to "
				  "cannot be combined");
	return 0;
}
