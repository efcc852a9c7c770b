/* run_auth.c - the auth command: which credentials pull would use, for
 * which principal. Obtains a token to prove they work; never prints it.
 */
#include "whydenied/auth.h"
#include "whydenied/http.h"
#include "whydenied/run.h"

#include <stdio.h>

int wd_run_auth(const struct wd_config *cfg)
{
	struct wd_cred_env env;
	struct wd_cred *cred = NULL;
	struct wd_http *http = NULL;
	struct wd_buf who;
	struct wd_err err;
	const char *token, *qp, *ep;
	char safe[256];
	long long left;
	int ret;

	wd_err_clear(&err);
	if (cfg->args.n > 0) {
		fprintf(stderr, "whydenied: auth takes no argument ('%s')\n",
			cfg->args.v[0]);
		return WD_EXIT_USAGE;
	}
	wd_cred_env_from_process(&env, cfg->access_token_file);
	if (wd_cred_discover(&cred, &env, &err) < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		return WD_EXIT_USAGE;
	}
	if (wd_http_new(&http, &err) < 0) {
		fprintf(stderr, "whydenied: %s\n", err.msg);
		ret = WD_EXIT_INPUT;
		goto out_cred;
	}
	qp = wd_cred_quota_project(cred);
	ep = wd_cred_endpoint(cred);
	printf("credentials:   %s\n", wd_cred_source(cred));
	printf("type:          %s\n", wd_cred_type(cred));
	ret = wd_cred_token(cred, http, &token, &err);
	if (ret < 0) {
		printf("token:         not obtained\n");
		fflush(stdout);
		fprintf(stderr, "whydenied: %s\n", err.msg);
		ret = WD_EXIT_INPUT;
		goto out_http;
	}
	wd_buf_init(&who, 4096);
	wd_err_clear(&err);
	if (wd_cred_principal(cred, http, &who, &err) < 0)
		printf("principal:     unknown (%s)\n", err.msg);
	else
		printf("principal:     %s\n", who.ptr ? who.ptr : "unknown");
	wd_buf_release(&who);
	printf("quota project: %s\n", qp ? qp : "none (set "
	       "GOOGLE_CLOUD_QUOTA_PROJECT or quota_project_id to choose "
	       "the project charged)");
	left = wd_cred_expires_in(cred);
	if (ep)
		wd_http_safe_url(ep, safe, sizeof(safe));
	if (wd_cred_kind(cred) == WD_CRED_TOKEN)
		printf("token:         taken as given (not checked until "
		       "used)\n");
	else if (left >= 0)
		printf("token:         obtained from %s, valid for %lld "
		       "min\n", ep ? safe : "?", left / 60);
	else
		printf("token:         obtained from %s\n", ep ? safe : "?");
	ret = WD_EXIT_OK;
out_http:
	wd_http_free(http);
out_cred:
	wd_cred_free(cred);
	return ret;
}
