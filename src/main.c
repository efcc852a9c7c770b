/* main.c - arguments -> pipeline -> exit code. The only place that exits.
 *
 * scan: inputs -> decoder -> rules -> aggregator -> printers.
 */
#include "whydenied/cli.h"
#include "whydenied/config.h"
#include "whydenied/events.h"
#include "whydenied/report.h"
#include "whydenied/rules.h"
#include "whydenied/run.h"
#include "whydenied/scan.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void problem(void *ctx, const char *file, unsigned line, unsigned col,
		    const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static bool is_dir(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The built-in rules: $WHYDENIED_RULES, next to the binary (build tree or
 * relocated install), the install prefix, then the source tree. */
static const char *builtin_rules(char *buf, size_t n)
{
	const char *env = getenv("WHYDENIED_RULES");
	char exe[PATH_MAX];
	ssize_t k;
	static const char *const rel[] = {
		"/rules", "/../rules", "/../share/whydenied/rules",
	};
	size_t i;

	if (env && *env)
		return env;
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k > 0) {
		char *slash;

		exe[k] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(buf, n, "%s%s", exe, rel[i]);
			if (is_dir(buf))
				return buf;
		}
	}
	if (is_dir(WD_RULES_INSTALL_DIR))
		return WD_RULES_INSTALL_DIR;
	if (is_dir(WD_SOURCE_RULES_DIR))
		return WD_SOURCE_RULES_DIR;
	return NULL;
}

int wd_load_rules(struct wd_ruleset **out, const struct wd_config *cfg)
{
	const char *dirs[WD_MAX_LIST + 1];
	char buf[PATH_MAX + 64];
	const char *b = builtin_rules(buf, sizeof(buf));
	struct wd_err err;
	size_t n = 0, i;

	if (b == NULL) {
		fprintf(stderr, "whydenied: built-in rules not found: set "
			"WHYDENIED_RULES or pass --rules DIR\n");
		return WD_EXIT_USAGE;
	}
	dirs[n++] = b;
	for (i = 0; i < cfg->rules_dirs.n; i++)
		dirs[n++] = cfg->rules_dirs.v[i];
	wd_err_clear(&err);
	if (wd_ruleset_load(out, dirs, n, problem, NULL, &err) < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		return WD_EXIT_USAGE;
	}
	return 0;
}

static int cmd_rules(const struct wd_config *cfg)
{
	struct wd_ruleset *rs;
	int ret = wd_load_rules(&rs, cfg);
	size_t i;

	if (strcmp(cfg->subcommand, "lint") == 0) {
		if (ret == 0)
			printf("%zu rules, no problems\n",
			       wd_ruleset_count(rs));
	} else if (ret != 0) {
		return ret;
	} else if (strcmp(cfg->subcommand, "test") == 0) {
		ret = wd_ruleset_test(rs, stdout) ? WD_EXIT_FINDINGS : 0;
	} else if (strcmp(cfg->subcommand, "list") == 0) {
		for (i = 0; i < wd_ruleset_count(rs); i++) {
			const struct wd_rule *r = wd_ruleset_rule(rs, i);

			printf("%-40s %-15s %-8s %s\n", wd_rule_id(r),
			       wd_category_name(wd_rule_category(r)),
			       wd_level_name(wd_rule_level(r)),
			       wd_rule_title(r));
		}
	} else {
		fprintf(stderr, "whydenied: unknown rules subcommand '%s' "
			"(lint, test, list)\n", cfg->subcommand);
		ret = WD_EXIT_USAGE;
	}
	if (ret != WD_EXIT_USAGE || strcmp(cfg->subcommand, "lint") != 0)
		wd_ruleset_free(ret == WD_EXIT_USAGE ? NULL : rs);
	return ret;
}

int main(int argc, char **argv)
{
	struct wd_config cfg;
	struct wd_err err;
	int ret;

	wd_err_clear(&err);
	ret = wd_cli_parse(&cfg, argc, argv, &err);
	if (ret == 1)
		return fflush(stdout) == 0 ? WD_EXIT_OK : WD_EXIT_INPUT;
	if (ret < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		fprintf(stderr, "Try 'whydenied --help' for more "
			"information.\n");
		return WD_EXIT_USAGE;
	}
	switch (cfg.command) {
	case WD_CMD_SCAN:
		ret = wd_run_scan(&cfg);
		break;
	case WD_CMD_RULES:
		ret = cmd_rules(&cfg);
		break;
	case WD_CMD_PULL:
		ret = wd_run_pull(&cfg);
		break;
	case WD_CMD_ROLES:
		ret = wd_run_roles(&cfg);
		break;
	case WD_CMD_AUTH:
		ret = wd_run_auth(&cfg);
		break;
	default:
		ret = WD_EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "whydenied: error writing to standard output: "
			"%s\n", strerror(errno));
		return WD_EXIT_INPUT;
	}
	return ret;
}
