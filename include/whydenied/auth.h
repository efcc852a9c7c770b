/* whydenied/auth.h - Google credentials: where they come from, and an
 * OAuth access token from them.
 *
 * Discovery (wd_cred_discover) reads files and the environment but never
 * the network; the first wd_cred_token() call talks to the token
 * endpoint, STS, IAM Credentials or the metadata server. Sources, first
 * found wins:
 *
 *   1. --access-token-file FILE           a bare token
 *   2. GOOGLE_OAUTH_ACCESS_TOKEN          a bare token
 *   3. CLOUDSDK_AUTH_ACCESS_TOKEN_FILE    a bare token in a file
 *   4. GOOGLE_APPLICATION_CREDENTIALS     a JSON credential file:
 *        service_account (RS256 JWT-bearer grant at its token_uri),
 *        authorized_user (refresh-token grant),
 *        external_account (file or url subject token, text or json;
 *          STS token exchange; optional generateAccessToken
 *          impersonation - what google-github-actions/auth writes),
 *        impersonated_service_account (source credentials, then
 *          generateAccessToken)
 *      set but unreadable or malformed is an error, not a fall-through
 *   5. gcloud's application_default_credentials.json in $CLOUDSDK_CONFIG
 *      or ~/.config/gcloud (same types)
 *   6. the metadata server ($GCE_METADATA_HOST, else 169.254.169.254),
 *      short timeout, Metadata-Flavor: Google
 *
 * Secrets (tokens, private keys, refresh tokens, client secrets, subject
 * tokens) are kept only in a struct wd_cred, wiped when it is freed, and
 * never written into a struct wd_err: token endpoint errors are reported
 * by their RFC 6749 "error" and a cleaned, secret-scrubbed
 * "error_description".
 */
#ifndef WHYDENIED_AUTH_H
#define WHYDENIED_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "whydenied/buf.h"
#include "whydenied/err.h"
#include "whydenied/http.h"

#define WD_SCOPE_CLOUD_PLATFORM "https://www.googleapis.com/auth/cloud-platform"
#define WD_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
#define WD_CRED_FILE_MAX (1024u * 1024u)	/* credential files, tokens */

enum wd_cred_kind {
	WD_CRED_TOKEN,			/* a bare access token */
	WD_CRED_SERVICE_ACCOUNT,
	WD_CRED_AUTHORIZED_USER,
	WD_CRED_EXTERNAL_ACCOUNT,
	WD_CRED_IMPERSONATED,
	WD_CRED_METADATA,
};

/* What discovery looks at; wd_cred_env_from_process() fills it from the
 * process environment. NULL or "" means unset. */
struct wd_cred_env {
	const char *access_token_file;		/* --access-token-file */
	const char *oauth_access_token;		/* GOOGLE_OAUTH_ACCESS_TOKEN */
	const char *cloudsdk_token_file;	/* CLOUDSDK_AUTH_ACCESS_TOKEN_FILE */
	const char *application_credentials;	/* GOOGLE_APPLICATION_CREDENTIALS */
	const char *cloudsdk_config;		/* CLOUDSDK_CONFIG */
	const char *home;			/* HOME */
	const char *metadata_host;		/* GCE_METADATA_HOST (or _ROOT) */
	const char *metadata_timeout;		/* GCE_METADATA_TIMEOUT, seconds */
	const char *quota_project;		/* GOOGLE_CLOUD_QUOTA_PROJECT */
};

struct wd_cred;

void wd_cred_env_from_process(struct wd_cred_env *env,
			      const char *access_token_file);

/* Finds the credentials (no network). Returns 0 and sets *out, or
 * WD_EUSAGE (a named source is unreadable or malformed) with err. */
int wd_cred_discover(struct wd_cred **out, const struct wd_cred_env *env,
		     struct wd_err *err);

/* Parses the text of a JSON credential file; origin names it in messages
 * and in wd_cred_source(). Returns 0 or WD_EUSAGE. */
int wd_cred_from_json(struct wd_cred **out, const char *p, size_t n,
		      const char *origin, struct wd_err *err);

void wd_cred_free(struct wd_cred *c);	/* NULL is a no-op; wipes secrets */

enum wd_cred_kind wd_cred_kind(const struct wd_cred *c);
/* Where the credentials came from, e.g. "GOOGLE_APPLICATION_CREDENTIALS
 * (/w/gha-creds-1.json)". */
const char *wd_cred_source(const struct wd_cred *c);
/* The credential type: "access_token", "service_account",
 * "authorized_user", "external_account", "impersonated_service_account",
 * "metadata_server". */
const char *wd_cred_type(const struct wd_cred *c);
/* The quota project (GOOGLE_CLOUD_QUOTA_PROJECT, else the file's
 * quota_project_id), or NULL. */
const char *wd_cred_quota_project(const struct wd_cred *c);
/* The endpoint a token is obtained from (token_uri, STS token_url,
 * metadata root), or NULL for a bare token. Not secret. */
const char *wd_cred_endpoint(const struct wd_cred *c);
/* The principal known without the network (service account email, the
 * impersonated account, authorized_user's "account"), or NULL. */
const char *wd_cred_principal_hint(const struct wd_cred *c);

/* The principal as 'whydenied auth' says it; may ask the metadata server
 * for its email. Writes a one-line description to out. */
int wd_cred_principal(struct wd_cred *c, struct wd_http *h,
		      struct wd_buf *out, struct wd_err *err);

/* A valid access token (obtained or refreshed when missing or within five
 * minutes of expiry). *token stays owned by c, valid until the next call.
 * Returns 0, or WD_EAUTH / WD_EIO with err (no secret in it). */
int wd_cred_token(struct wd_cred *c, struct wd_http *h, const char **token,
		  struct wd_err *err);

/* Obtains a new token after the API refused the current one (401): a
 * token file is read again; a bare token from the environment cannot be
 * refreshed (WD_EAUTH). */
int wd_cred_refresh(struct wd_cred *c, struct wd_http *h, struct wd_err *err);

/* Seconds until the current token expires; -1 when unknown. */
long long wd_cred_expires_in(const struct wd_cred *c);

/* Builds the signed RS256 JWT-bearer assertion of a service account for
 * time now (iat = now - 10 s for clock skew, exp = iat + 3600). Exposed
 * for tests. Returns 0 or WD_EAUTH. */
int wd_cred_jwt_assertion(struct wd_buf *out, const struct wd_cred *c,
			  long long now, struct wd_err *err);

/* Replaces in s (NUL-terminated) every secret c holds by "[REDACTED]". */
void wd_cred_scrub(const struct wd_cred *c, char *s);

#endif
