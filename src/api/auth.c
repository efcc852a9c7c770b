/* auth.c - Google credentials and access tokens (see whydenied/auth.h).
 *
 * Reference: logging-api-and-auth.md section 3. Every secret lives in a
 * heap string owned by struct wd_cred and is wiped (OPENSSL_cleanse) before
 * it is freed. Messages name files, URLs without their query, and the
 * endpoint's RFC 6749 error code; the error description is cleaned and
 * scrubbed of every secret we hold before it is shown.
 */
#include "whydenied/auth.h"
#include "whydenied/jdom.h"
#include "whydenied/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <yajl/yajl_gen.h>

#define TOKEN_MARGIN_S 300	/* refresh tokens this close to expiry */
#define JWT_SKEW_S 10		/* iat backdated for clock skew */
#define JWT_LIFETIME_S 3600
#define TOKEN_CALL_TRIES 3
#define META_DEFAULT_HOST "169.254.169.254"
#define META_TIMEOUT_MS 3000L
#define DESC_MAX 200		/* characters of an error description shown */
#define MAX_HEADERS 16
#define MAX_DELEGATES 16

struct wd_cred {
	enum wd_cred_kind kind;
	char *source;		/* for messages and 'whydenied auth' */
	char *origin;		/* the credential file, for messages */
	char *quota_project;
	char *principal;	/* known without the network, or NULL */
	char *tried;		/* discovery trail, for "no credentials" */

	char *token;		/* secret */
	long long expiry;	/* wall clock; 0: unknown */

	/* bare token */
	char *token_path;	/* re-read on refresh; NULL: environment */

	/* service_account */
	char *client_email;
	char *private_key;	/* secret */
	char *key_id;
	char *token_uri;

	/* authorized_user */
	char *client_id;
	char *client_secret;	/* secret */
	char *refresh_token;	/* secret */

	/* external_account */
	char *audience;
	char *subject_token_type;
	char *sts_url;
	char *impersonation_url;
	long lifetime_s;
	char *src_file;
	char *src_url;
	char *src_headers[MAX_HEADERS];	/* "Name: value"; secret */
	size_t nsrc_headers;
	char *src_field;	/* json format: the field; NULL: text */
	char *workforce_project;
	char *subject_token;	/* secret, kept for scrubbing */
	char *sts_token;	/* secret, kept for scrubbing */

	/* impersonated_service_account */
	struct wd_cred *source_cred;
	char *delegates[MAX_DELEGATES];
	size_t ndelegates;

	/* metadata server */
	char *metadata_root;	/* http://HOST/computeMetadata/v1 */
	long metadata_timeout_ms;
	char *metadata_email;
};

/* ---- small helpers ---- */

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void set_secret(char **slot, char *v)
{
	wipe_free(*slot);
	*slot = v;
}

static void buf_wipe(struct wd_buf *b)
{
	if (b->ptr)
		OPENSSL_cleanse(b->ptr, b->alloc);
	wd_buf_release(b);
}

/* Frees a parsed tree after wiping its strings: credential files and
 * token answers hold secrets. */
static void jdom_wipe_free(struct wd_jnode *j)
{
	size_t i;

	if (j == NULL)
		return;
	if (j->str)
		OPENSSL_cleanse(j->str, j->len);
	for (i = 0; i < j->n; i++) {
		if (j->keys && j->keys[i])
			OPENSSL_cleanse(j->keys[i], strlen(j->keys[i]));
		jdom_wipe_free(j->kids[i]);
		j->kids[i] = NULL;
	}
	wd_jdom_free(j);
}

static bool set(const char *s)
{
	return s && *s;
}

static long long wall_now(void)
{
	return (long long)time(NULL);
}

static char *trim_dup(const char *p, size_t n)
{
	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	return wd_xstrndup(p, n);
}

/* Reads a whole file of at most cap bytes into out. */
static int read_file(struct wd_buf *out, const char *path, size_t cap,
		     const char *what, struct wd_err *err)
{
	FILE *fp;
	char chunk[4096];
	size_t k;
	int ret = 0;

	wd_buf_init(out, cap);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return wd_err_os(err, WD_EUSAGE, "%s: cannot open '%s'", what,
				 path);
	for (;;) {
		k = fread(chunk, 1, sizeof(chunk), fp);
		if (k == 0)
			break;
		if (wd_buf_add(out, chunk, k) < 0) {
			ret = wd_err_set(err, WD_EUSAGE, "%s: '%s' is larger "
					 "than %zu bytes", what, path, cap);
			break;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (ret == 0 && ferror(fp))
		ret = wd_err_os(err, WD_EUSAGE, "%s: cannot read '%s'", what,
				path);
	fclose(fp);
	if (ret < 0)
		buf_wipe(out);
	return ret;
}

static const char *jstr(const struct wd_jnode *obj, const char *key)
{
	const struct wd_jnode *j = obj ? wd_jdom_get(obj, key) : NULL;

	return j && j->type == WD_J_STR ? j->str : NULL;
}

static char *jdup(const struct wd_jnode *obj, const char *key)
{
	const char *s = jstr(obj, key);

	return set(s) ? wd_xstrdup(s) : NULL;
}

/* A number given as a JSON number or a string ("3599"). */
static long long jint(const struct wd_jnode *obj, const char *key)
{
	const struct wd_jnode *j = obj ? wd_jdom_get(obj, key) : NULL;
	char *end;
	long long v;

	if (j == NULL || (j->type != WD_J_NUM && j->type != WD_J_STR))
		return -1;
	errno = 0;
	v = strtoll(j->str, &end, 10);
	if (errno || end == j->str || v < 0)
		return -1;
	return v;
}

/* Copies s into out for a message: control characters become spaces, at
 * most max characters, "..." when cut. */
static void clean(char *out, size_t n, const char *s, size_t max)
{
	size_t k = 0, i;

	if (n == 0)
		return;
	for (i = 0; s && s[i] && k + 4 < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	if (s && s[i] && k + 4 <= n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static void scrub_one(char *s, const char *secret)
{
	static const char mark[] = "[REDACTED]";
	size_t n, m = sizeof(mark) - 1;
	char *p;

	if (secret == NULL)
		return;
	n = strlen(secret);
	if (n < 6)
		return;		/* too short to be a secret worth matching */
	p = strstr(s, secret);
	while (p) {
		if (n >= m) {
			memcpy(p, mark, m);
			memmove(p + m, p + n, strlen(p + n) + 1);
			p += m;
		} else {
			memset(p, '*', n);
			p += n;
		}
		p = strstr(p, secret);
	}
}

/* Each base64 line of a PEM key, so that no fragment of it survives. */
static void scrub_pem(char *s, const char *pem)
{
	char line[128];
	const char *p = pem, *nl;
	size_t n;

	while (p && *p) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= 16 && n < sizeof(line) && p[0] != '-') {
			memcpy(line, p, n);
			line[n] = '\0';
			if (line[n - 1] == '\r')
				line[n - 1] = '\0';
			scrub_one(s, line);
		}
		p = nl ? nl + 1 : NULL;
	}
	OPENSSL_cleanse(line, sizeof(line));
}

void wd_cred_scrub(const struct wd_cred *c, char *s)
{
	size_t i;

	if (c == NULL || s == NULL)
		return;
	scrub_one(s, c->token);
	scrub_one(s, c->client_secret);
	scrub_one(s, c->refresh_token);
	scrub_one(s, c->subject_token);
	scrub_one(s, c->sts_token);
	for (i = 0; i < c->nsrc_headers; i++) {
		const char *v = strchr(c->src_headers[i], ':');

		if (v && strncmp(v + 1, " Bearer ", 8) == 0)
			scrub_one(s, v + 9);
		scrub_one(s, v ? v + 1 : NULL);
	}
	if (c->private_key)
		scrub_pem(s, c->private_key);
	wd_cred_scrub(c->source_cred, s);
}

/* ---- life cycle ---- */

static struct wd_cred *cred_new(enum wd_cred_kind kind, const char *source)
{
	struct wd_cred *c = wd_xcalloc(1, sizeof(*c));

	c->kind = kind;
	c->source = wd_xstrdup(source);
	c->lifetime_s = 3600;
	return c;
}

void wd_cred_free(struct wd_cred *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->source);
	free(c->origin);
	free(c->quota_project);
	free(c->principal);
	free(c->tried);
	wipe_free(c->token);
	free(c->token_path);
	free(c->client_email);
	wipe_free(c->private_key);
	free(c->key_id);
	free(c->token_uri);
	free(c->client_id);
	wipe_free(c->client_secret);
	wipe_free(c->refresh_token);
	free(c->audience);
	free(c->subject_token_type);
	free(c->sts_url);
	free(c->impersonation_url);
	free(c->src_file);
	free(c->src_url);
	for (i = 0; i < c->nsrc_headers; i++)
		wipe_free(c->src_headers[i]);
	free(c->src_field);
	free(c->workforce_project);
	wipe_free(c->subject_token);
	wipe_free(c->sts_token);
	wd_cred_free(c->source_cred);
	for (i = 0; i < c->ndelegates; i++)
		free(c->delegates[i]);
	free(c->metadata_root);
	free(c->metadata_email);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

enum wd_cred_kind wd_cred_kind(const struct wd_cred *c)
{
	return c->kind;
}

const char *wd_cred_source(const struct wd_cred *c)
{
	return c->source;
}

const char *wd_cred_type(const struct wd_cred *c)
{
	switch (c->kind) {
	case WD_CRED_TOKEN: return "access_token";
	case WD_CRED_SERVICE_ACCOUNT: return "service_account";
	case WD_CRED_AUTHORIZED_USER: return "authorized_user";
	case WD_CRED_EXTERNAL_ACCOUNT: return "external_account";
	case WD_CRED_IMPERSONATED: return "impersonated_service_account";
	case WD_CRED_METADATA: return "metadata_server";
	}
	return "unknown";
}

const char *wd_cred_quota_project(const struct wd_cred *c)
{
	return c->quota_project;
}

const char *wd_cred_endpoint(const struct wd_cred *c)
{
	switch (c->kind) {
	case WD_CRED_SERVICE_ACCOUNT:
	case WD_CRED_AUTHORIZED_USER:
		return c->token_uri;
	case WD_CRED_EXTERNAL_ACCOUNT:
		return c->sts_url;
	case WD_CRED_IMPERSONATED:
		return c->impersonation_url;
	case WD_CRED_METADATA:
		return c->metadata_root;
	default:
		return NULL;
	}
}

const char *wd_cred_principal_hint(const struct wd_cred *c)
{
	return c->principal;
}

long long wd_cred_expires_in(const struct wd_cred *c)
{
	if (c->token == NULL || c->expiry == 0)
		return -1;
	return c->expiry - wall_now();
}

/* ---- parsing credential files ---- */

/* The service account of a generateAccessToken URL:
 * .../serviceAccounts/EMAIL:generateAccessToken (EMAIL may be %40-escaped). */
static char *impersonated_email(const char *url)
{
	const char *p = url ? strstr(url, "/serviceAccounts/") : NULL;
	const char *end;
	struct wd_buf b;

	if (p == NULL)
		return NULL;
	p += strlen("/serviceAccounts/");
	end = strstr(p, ":generateAccessToken");
	if (end == NULL || end == p)
		return NULL;
	wd_buf_init(&b, 512);
	for (; p < end; p++) {
		if (p[0] == '%' && end - p >= 3 && strncmp(p, "%40", 3) == 0) {
			(void)wd_buf_addc(&b, '@');
			p += 2;
		} else {
			(void)wd_buf_addc(&b, *p);
		}
	}
	return wd_buf_detach(&b, NULL);
}

static int need(const char *v, const char *field, const char *origin,
		const char *type, struct wd_err *err)
{
	if (set(v))
		return 0;
	return wd_err_set(err, WD_EUSAGE, "'%s': a %s credential needs "
			  "'%s'", origin, type, field);
}

static int parse_service_account(struct wd_cred *c, const struct wd_jnode *j,
				 const char *origin, struct wd_err *err)
{
	int ret;

	c->client_email = jdup(j, "client_email");
	c->private_key = jdup(j, "private_key");
	c->key_id = jdup(j, "private_key_id");
	c->token_uri = jdup(j, "token_uri");
	ret = need(c->client_email, "client_email", origin, "service_account",
		   err);
	if (ret == 0)
		ret = need(c->private_key, "private_key", origin,
			   "service_account", err);
	if (ret < 0)
		return ret;
	if (c->token_uri == NULL)
		c->token_uri = wd_xstrdup(WD_GOOGLE_TOKEN_URI);
	c->principal = wd_xstrdup(c->client_email);
	return 0;
}

static int parse_authorized_user(struct wd_cred *c, const struct wd_jnode *j,
				 const char *origin, struct wd_err *err)
{
	int ret;

	c->client_id = jdup(j, "client_id");
	c->client_secret = jdup(j, "client_secret");
	c->refresh_token = jdup(j, "refresh_token");
	/* Google's libraries always use oauth2.googleapis.com; a token_uri
	 * in the file is honoured (tests, private endpoints). */
	c->token_uri = jdup(j, "token_uri");
	ret = need(c->client_id, "client_id", origin, "authorized_user", err);
	if (ret == 0)
		ret = need(c->client_secret, "client_secret", origin,
			   "authorized_user", err);
	if (ret == 0)
		ret = need(c->refresh_token, "refresh_token", origin,
			   "authorized_user", err);
	if (ret < 0)
		return ret;
	if (c->token_uri == NULL)
		c->token_uri = wd_xstrdup(WD_GOOGLE_TOKEN_URI);
	c->principal = jdup(j, "account");
	return 0;
}

static int parse_source(struct wd_cred *c, const struct wd_jnode *src,
			const char *origin, struct wd_err *err)
{
	const struct wd_jnode *fmt, *hdrs;
	const char *type;
	size_t i;

	if (src == NULL || src->type != WD_J_OBJ)
		return wd_err_set(err, WD_EUSAGE, "'%s': external_account "
				  "needs a 'credential_source' object",
				  origin);
	if (wd_jdom_get(src, "executable"))
		return wd_err_set(err, WD_EUSAGE, "'%s': executable-sourced "
				  "credentials are not supported: use a file "
				  "or url credential_source, or pass a token "
				  "with --access-token-file", origin);
	if (wd_jdom_get(src, "environment_id"))
		return wd_err_set(err, WD_EUSAGE, "'%s': AWS/Azure "
				  "credential sources are not supported: pass "
				  "a token with --access-token-file", origin);
	c->src_file = jdup(src, "file");
	c->src_url = jdup(src, "url");
	if ((c->src_file == NULL) == (c->src_url == NULL))
		return wd_err_set(err, WD_EUSAGE, "'%s': credential_source "
				  "needs exactly one of 'file' and 'url'",
				  origin);
	hdrs = wd_jdom_get(src, "headers");
	if (hdrs && hdrs->type == WD_J_OBJ) {
		for (i = 0; i < hdrs->n && i < MAX_HEADERS; i++) {
			struct wd_buf b;

			if (hdrs->kids[i]->type != WD_J_STR)
				continue;
			wd_buf_init(&b, 64 * 1024);
			if (wd_buf_printf(&b, "%s: %s", hdrs->keys[i],
					  hdrs->kids[i]->str) < 0 ||
			    strpbrk(b.ptr, "\r\n")) {
				buf_wipe(&b);
				return wd_err_set(err, WD_EUSAGE, "'%s': bad "
						  "credential_source header",
						  origin);
			}
			c->src_headers[c->nsrc_headers++] =
				wd_buf_detach(&b, NULL);
		}
	}
	fmt = wd_jdom_get(src, "format");
	type = jstr(fmt, "type");
	if (type == NULL || strcmp(type, "text") == 0)
		return 0;
	if (strcmp(type, "json") != 0)
		return wd_err_set(err, WD_EUSAGE, "'%s': credential_source "
				  "format '%.32s' is not text or json", origin,
				  type);
	c->src_field = jdup(fmt, "subject_token_field_name");
	return need(c->src_field, "credential_source.format."
		    "subject_token_field_name", origin, "external_account",
		    err);
}

static int parse_external_account(struct wd_cred *c, const struct wd_jnode *j,
				  const char *origin, struct wd_err *err)
{
	const struct wd_jnode *imp;
	long long life;
	int ret;

	c->audience = jdup(j, "audience");
	c->subject_token_type = jdup(j, "subject_token_type");
	c->sts_url = jdup(j, "token_url");
	c->impersonation_url = jdup(j, "service_account_impersonation_url");
	c->workforce_project = jdup(j, "workforce_pool_user_project");
	c->client_id = jdup(j, "client_id");
	c->client_secret = jdup(j, "client_secret");
	imp = wd_jdom_get(j, "service_account_impersonation");
	life = jint(imp, "token_lifetime_seconds");
	if (life > 0)
		c->lifetime_s = life > 43200 ? 43200 : (long)life;
	ret = need(c->audience, "audience", origin, "external_account", err);
	if (ret == 0)
		ret = need(c->subject_token_type, "subject_token_type", origin,
			   "external_account", err);
	if (ret == 0)
		ret = need(c->sts_url, "token_url", origin,
			   "external_account", err);
	if (ret == 0)
		ret = parse_source(c, wd_jdom_get(j, "credential_source"),
				   origin, err);
	if (ret < 0)
		return ret;
	if (c->impersonation_url) {
		c->principal = impersonated_email(c->impersonation_url);
	} else {
		struct wd_buf b;

		wd_buf_init(&b, 2048);
		(void)wd_buf_printf(&b, "federated identity of audience "
				    "'%.1000s' (no service account "
				    "impersonation)", c->audience);
		c->principal = wd_buf_detach(&b, NULL);
	}
	return 0;
}

static int from_tree(struct wd_cred **out, const struct wd_jnode *j,
		     const char *origin, const char *source, int depth,
		     struct wd_err *err);

static int parse_impersonated(struct wd_cred *c, const struct wd_jnode *j,
			      const char *origin, int depth,
			      struct wd_err *err)
{
	const struct wd_jnode *src = wd_jdom_get(j, "source_credentials");
	const struct wd_jnode *del = wd_jdom_get(j, "delegates");
	size_t i;
	int ret;

	c->impersonation_url = jdup(j, "service_account_impersonation_url");
	ret = need(c->impersonation_url, "service_account_impersonation_url",
		   origin, "impersonated_service_account", err);
	if (ret < 0)
		return ret;
	if (src == NULL || src->type != WD_J_OBJ)
		return wd_err_set(err, WD_EUSAGE, "'%s': "
				  "impersonated_service_account needs a "
				  "'source_credentials' object", origin);
	ret = from_tree(&c->source_cred, src, origin, c->source, depth + 1,
			err);
	if (ret < 0)
		return ret;
	for (i = 0; del && del->type == WD_J_ARR && i < del->n &&
	     c->ndelegates < MAX_DELEGATES; i++)
		if (del->kids[i]->type == WD_J_STR)
			c->delegates[c->ndelegates++] =
				wd_xstrdup(del->kids[i]->str);
	c->principal = impersonated_email(c->impersonation_url);
	return 0;
}

static int from_tree(struct wd_cred **out, const struct wd_jnode *j,
		     const char *origin, const char *source, int depth,
		     struct wd_err *err)
{
	const char *type;
	struct wd_cred *c;
	int ret;

	if (j->type != WD_J_OBJ)
		return wd_err_set(err, WD_EUSAGE, "'%s': a credential file "
				  "holds a JSON object", origin);
	type = jstr(j, "type");
	if (type == NULL)
		return wd_err_set(err, WD_EUSAGE, "'%s': no 'type' (expected "
				  "service_account, authorized_user, "
				  "external_account or "
				  "impersonated_service_account)", origin);
	if (strcmp(type, "service_account") == 0) {
		c = cred_new(WD_CRED_SERVICE_ACCOUNT, source);
		ret = parse_service_account(c, j, origin, err);
	} else if (strcmp(type, "authorized_user") == 0) {
		c = cred_new(WD_CRED_AUTHORIZED_USER, source);
		ret = parse_authorized_user(c, j, origin, err);
	} else if (strcmp(type, "external_account") == 0) {
		c = cred_new(WD_CRED_EXTERNAL_ACCOUNT, source);
		ret = parse_external_account(c, j, origin, err);
	} else if (strcmp(type, "impersonated_service_account") == 0 &&
		   depth == 0) {
		c = cred_new(WD_CRED_IMPERSONATED, source);
		ret = parse_impersonated(c, j, origin, depth, err);
	} else {
		return wd_err_set(err, WD_EUSAGE, "'%s': credential type "
				  "'%.64s' is not supported (service_account, "
				  "authorized_user, external_account, "
				  "impersonated_service_account)", origin,
				  type);
	}
	if (ret < 0) {
		wd_cred_free(c);
		return ret;
	}
	c->origin = wd_xstrdup(origin);
	c->quota_project = jdup(j, "quota_project_id");
	*out = c;
	return 0;
}

int wd_cred_from_json(struct wd_cred **out, const char *p, size_t n,
		      const char *origin, struct wd_err *err)
{
	struct wd_jnode *j;
	struct wd_err perr;
	int ret;

	wd_err_clear(&perr);
	if (wd_jdom_parse(&j, p, n, &perr) < 0)
		return wd_err_set(err, WD_EUSAGE, "'%s': not a JSON "
				  "credential file: %s", origin, perr.msg);
	ret = from_tree(out, j, origin, origin, 0, err);
	jdom_wipe_free(j);
	return ret;
}

/* ---- discovery ---- */

void wd_cred_env_from_process(struct wd_cred_env *env,
			      const char *access_token_file)
{
	memset(env, 0, sizeof(*env));
	env->access_token_file = access_token_file;
	env->oauth_access_token = getenv("GOOGLE_OAUTH_ACCESS_TOKEN");
	env->cloudsdk_token_file = getenv("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE");
	env->application_credentials =
		getenv("GOOGLE_APPLICATION_CREDENTIALS");
	env->cloudsdk_config = getenv("CLOUDSDK_CONFIG");
	env->home = getenv("HOME");
	env->metadata_host = getenv("GCE_METADATA_HOST");
	if (!set(env->metadata_host))
		env->metadata_host = getenv("GCE_METADATA_ROOT");
	env->metadata_timeout = getenv("GCE_METADATA_TIMEOUT");
	env->quota_project = getenv("GOOGLE_CLOUD_QUOTA_PROJECT");
}

static int read_token_file(char **out, const char *path, const char *what,
			   struct wd_err *err)
{
	struct wd_buf b;
	char *t;
	int ret;

	ret = read_file(&b, path, 64 * 1024, what, err);
	if (ret < 0)
		return ret;
	t = trim_dup(b.ptr ? b.ptr : "", b.len);
	buf_wipe(&b);
	if (*t == '\0' || strpbrk(t, " \t\r\n")) {
		wipe_free(t);
		return wd_err_set(err, WD_EUSAGE, "%s: '%s' does not hold one "
				  "access token", what, path);
	}
	*out = t;
	return 0;
}

static int token_from_file(struct wd_cred **out, const char *path,
			   const char *what, struct wd_err *err)
{
	struct wd_cred *c;
	struct wd_buf src;
	char *t;
	int ret;

	ret = read_token_file(&t, path, what, err);
	if (ret < 0)
		return ret;
	wd_buf_init(&src, 8192);
	(void)wd_buf_printf(&src, "%s (%s)", what, path);
	c = cred_new(WD_CRED_TOKEN, src.ptr);
	wd_buf_release(&src);
	c->token = t;
	c->token_path = wd_xstrdup(path);
	*out = c;
	return 0;
}

static int from_file(struct wd_cred **out, const char *path,
		     const char *what, struct wd_err *err)
{
	struct wd_buf b, src;
	int ret;

	ret = read_file(&b, path, WD_CRED_FILE_MAX, what, err);
	if (ret < 0)
		return ret;
	wd_buf_init(&src, 8192);
	(void)wd_buf_printf(&src, "%s (%s)", what, path);
	ret = wd_cred_from_json(out, b.ptr ? b.ptr : "", b.len, path, err);
	if (ret == 0) {
		free((*out)->source);
		(*out)->source = wd_buf_detach(&src, NULL);
	}
	wd_buf_release(&src);
	buf_wipe(&b);
	return ret;
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static struct wd_cred *metadata_cred(const struct wd_cred_env *env,
				     const char *tried)
{
	const char *host = set(env->metadata_host) ? env->metadata_host :
			   META_DEFAULT_HOST;
	struct wd_cred *c;
	struct wd_buf b;
	char *end;
	double t;

	wd_buf_init(&b, 4096);
	if (strncmp(host, "http://", 7) == 0)
		host += 7;
	(void)wd_buf_printf(&b, "http://%.1000s/computeMetadata/v1", host);
	while (b.len > 0 && b.ptr[b.len - 1] == '/')
		b.ptr[--b.len] = '\0';
	c = cred_new(WD_CRED_METADATA, "metadata server");
	free(c->source);
	c->source = NULL;
	c->metadata_root = wd_buf_detach(&b, NULL);
	wd_buf_init(&b, 4096);
	(void)wd_buf_printf(&b, "metadata server (%s)", c->metadata_root);
	c->source = wd_buf_detach(&b, NULL);
	c->metadata_timeout_ms = META_TIMEOUT_MS;
	if (set(env->metadata_timeout)) {
		t = strtod(env->metadata_timeout, &end);
		if (end != env->metadata_timeout && *end == '\0' && t > 0 &&
		    t <= 60)
			c->metadata_timeout_ms = (long)(t * 1000);
	}
	c->tried = wd_xstrdup(tried);
	return c;
}

int wd_cred_discover(struct wd_cred **out, const struct wd_cred_env *env,
		     struct wd_err *err)
{
	struct wd_buf path, tried;
	struct wd_cred *c = NULL;
	int ret = 0;

	if (set(env->access_token_file)) {
		ret = token_from_file(&c, env->access_token_file,
				      "--access-token-file", err);
	} else if (set(env->oauth_access_token)) {
		c = cred_new(WD_CRED_TOKEN, "GOOGLE_OAUTH_ACCESS_TOKEN");
		c->token = trim_dup(env->oauth_access_token,
				    strlen(env->oauth_access_token));
		if (*c->token == '\0' || strpbrk(c->token, " \t\r\n")) {
			wd_cred_free(c);
			return wd_err_set(err, WD_EUSAGE, "GOOGLE_OAUTH_ACCESS_"
					  "TOKEN does not hold one access "
					  "token");
		}
	} else if (set(env->cloudsdk_token_file)) {
		ret = token_from_file(&c, env->cloudsdk_token_file,
				      "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", err);
	} else if (set(env->application_credentials)) {
		/* Set but broken is an error: falling through to another
		 * identity would be a surprise. */
		ret = from_file(&c, env->application_credentials,
				"GOOGLE_APPLICATION_CREDENTIALS", err);
	} else {
		wd_buf_init(&path, 8192);
		if (set(env->cloudsdk_config))
			(void)wd_buf_printf(&path, "%s/application_default_"
					    "credentials.json",
					    env->cloudsdk_config);
		else if (set(env->home))
			(void)wd_buf_printf(&path, "%s/.config/gcloud/"
					    "application_default_credentials."
					    "json", env->home);
		if (path.len && exists(path.ptr)) {
			ret = from_file(&c, path.ptr, "gcloud application "
					"default credentials", err);
		} else {
			wd_buf_init(&tried, 16384);
			(void)wd_buf_printf(&tried, "--access-token-file, "
					    "GOOGLE_OAUTH_ACCESS_TOKEN, "
					    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE "
					    "and GOOGLE_APPLICATION_CREDENTIALS "
					    "are unset; '%s' does not exist",
					    path.len ? path.ptr :
					    "~/.config/gcloud/application_"
					    "default_credentials.json");
			c = metadata_cred(env, tried.ptr);
			wd_buf_release(&tried);
		}
		wd_buf_release(&path);
	}
	if (ret < 0)
		return ret;
	if (set(env->quota_project)) {
		free(c->quota_project);
		c->quota_project = wd_xstrdup(env->quota_project);
	}
	*out = c;
	return 0;
}

/* ---- talking to token endpoints ---- */

/* An error body: RFC 6749 {"error","error_description"} or google.rpc
 * {"error":{"code","status","message"}}, cleaned and scrubbed. */
static void describe(const struct wd_cred *c,
		     const struct wd_http_response *rs, char *out, size_t n)
{
	struct wd_jnode *j = NULL;
	const struct wd_jnode *e;
	char a[96], d[DESC_MAX + 8];
	struct wd_err perr;

	wd_err_clear(&perr);
	if (rs->json && rs->body.len && !rs->truncated &&
	    wd_jdom_parse(&j, rs->body.ptr, rs->body.len, &perr) < 0)
		j = NULL;
	e = j && j->type == WD_J_OBJ ? wd_jdom_get(j, "error") : NULL;
	if (e) {
		if (e->type == WD_J_STR) {
			clean(a, sizeof(a), e->str, 64);
			clean(d, sizeof(d), jstr(j, "error_description"),
			      DESC_MAX);
			wd_cred_scrub(c, a);
			wd_cred_scrub(c, d);
			snprintf(out, n, "HTTP %ld, %s%s%s", rs->status, a,
				 d[0] ? ": " : "", d);
		} else {
			clean(a, sizeof(a), jstr(e, "status"), 64);
			clean(d, sizeof(d), jstr(e, "message"), DESC_MAX);
			wd_cred_scrub(c, a);
			wd_cred_scrub(c, d);
			snprintf(out, n, "HTTP %ld%s%s%s%s", rs->status,
				 a[0] ? " " : "", a, d[0] ? ": " : "", d);
		}
	} else if (!rs->json && rs->content_type[0]) {
		clean(a, sizeof(a), rs->content_type, 64);
		snprintf(out, n, "HTTP %ld with a %s body, not JSON",
			 rs->status, a);
	} else {
		snprintf(out, n, "HTTP %ld", rs->status);
	}
	jdom_wipe_free(j);
}

static bool retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
	       s == 504;
}

/* One call to a token endpoint, retried a few times on transport errors,
 * 429 and 5xx. On 2xx parses the JSON answer into *out. what names the
 * step for messages ("the token endpoint 'U' refused ..."). */
static int call(const struct wd_cred *c, struct wd_http *h,
		const struct wd_http_request *rq, const char *what,
		struct wd_jnode **out, char *why, size_t whyn,
		struct wd_err *err)
{
	struct wd_http_response rs;
	struct wd_err terr, perr;
	struct wd_jnode *j = NULL;
	char safe[256];
	unsigned attempt;
	int ret = 0;

	*out = NULL;
	wd_http_safe_url(rq->url, safe, sizeof(safe));
	wd_http_response_init(&rs);
	for (attempt = 0; attempt < TOKEN_CALL_TRIES; attempt++) {
		if (attempt > 0)
			wd_http_sleep(rs.retry_after >= 0 &&
				      rs.retry_after < 10 ? rs.retry_after :
				      wd_http_backoff(attempt - 1, 0.5, 4));
		wd_err_clear(&terr);
		ret = wd_http_do(h, rq, &rs, &terr);
		if (ret < 0) {
			if (rs.fail == WD_HTTP_CONNECT &&
			    c->kind == WD_CRED_METADATA)
				break;	/* nobody there: do not wait */
			continue;
		}
		if (!retryable_status(rs.status))
			break;
	}
	if (ret < 0) {
		snprintf(why, whyn, "%s", terr.msg);
		wd_cred_scrub(c, why);
		ret = wd_err_set(err, WD_EIO, "%s: %s", what, why);
		goto out;
	}
	if (rs.status < 200 || rs.status >= 300) {
		describe(c, &rs, why, whyn);
		ret = wd_err_set(err, WD_EAUTH, "%s: %s", what, why);
		goto out;
	}
	wd_err_clear(&perr);
	if (rs.json && !rs.truncated &&
	    wd_jdom_parse(&j, rs.body.ptr ? rs.body.ptr : "", rs.body.len,
			  &perr) == 0) {
		if (j->type == WD_J_OBJ) {
			*out = j;
			goto out;
		}
		jdom_wipe_free(j);
	}
	snprintf(why, whyn, "the answer of '%s' is not a JSON object", safe);
	ret = wd_err_set(err, WD_EAUTH, "%s: %s", what, why);
out:
	if (rs.body.ptr)
		OPENSSL_cleanse(rs.body.ptr, rs.body.alloc);
	wd_http_response_release(&rs);
	return ret;
}

static long token_timeout(void)
{
	return wd_http_timeout_ms(30000);
}

static int post_form(struct wd_cred *c, struct wd_http *h, const char *url,
		     const char *form, const char *basic_auth,
		     const char *what, struct wd_jnode **out,
		     struct wd_err *err)
{
	const char *hdrs[4];
	struct wd_http_request rq;
	char why[512];
	size_t k = 0;

	memset(&rq, 0, sizeof(rq));
	hdrs[k++] = "Content-Type: application/x-www-form-urlencoded";
	hdrs[k++] = "Accept: application/json";
	if (basic_auth)
		hdrs[k++] = basic_auth;
	hdrs[k] = NULL;
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdrs;
	rq.body = form;
	rq.body_len = strlen(form);
	rq.connect_timeout_ms = 10000;
	rq.timeout_ms = token_timeout();
	rq.cap = 256 * 1024;
	return call(c, h, &rq, what, out, why, sizeof(why), err);
}

static int form_add(struct wd_buf *b, const char *key, const char *val)
{
	int ret = 0;

	if (b->len)
		ret = wd_buf_addc(b, '&');
	if (ret == 0)
		ret = wd_buf_adds(b, key);
	if (ret == 0)
		ret = wd_buf_addc(b, '=');
	if (ret == 0)
		ret = wd_http_form_escape(b, val);
	return ret;
}

/* Stores access_token/expires_in of an OAuth token answer. */
static int take_oauth_token(struct wd_cred *c, struct wd_jnode *j,
			    const char *what, struct wd_err *err)
{
	const char *t = jstr(j, "access_token");
	long long in = jint(j, "expires_in");

	if (!set(t))
		return wd_err_set(err, WD_EAUTH, "%s: the answer holds no "
				  "access_token", what);
	set_secret(&c->token, wd_xstrdup(t));
	c->expiry = in > 0 ? wall_now() + in : wall_now() + 3000;
	return 0;
}

/* ---- JWT (service account) ---- */

static int b64url(struct wd_buf *out, const unsigned char *p, size_t n)
{
	size_t m = 4 * ((n + 2) / 3) + 1, i, k = 0;
	unsigned char *t = wd_xmalloc(m);
	int len, ret = 0;

	len = EVP_EncodeBlock(t, p, (int)n);
	for (i = 0; i < (size_t)len; i++) {
		if (t[i] == '=')
			break;
		t[k++] = t[i] == '+' ? '-' : t[i] == '/' ? '_' : t[i];
	}
	ret = wd_buf_add(out, t, k);
	OPENSSL_cleanse(t, m);
	free(t);
	return ret;
}

static void gen_str(yajl_gen g, const char *k, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void gen_int(yajl_gen g, const char *k, long long v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_integer(g, v);
}

static int gen_b64(struct wd_buf *out, yajl_gen g)
{
	const unsigned char *p;
	size_t n;

	yajl_gen_get_buf(g, &p, &n);
	return b64url(out, p, n);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;	/* never prompt on a terminal */
}

static int sign_rs256(struct wd_buf *out, const char *pem, const char *data,
		      size_t n, const char *origin, struct wd_err *err)
{
	BIO *bio;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int ret = 0;

	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		return wd_err_set(err, WD_ENOMEM, "out of memory");
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		ret = wd_err_set(err, WD_EAUTH, "'%s': private_key is not an "
				 "unencrypted PEM RSA key", origin);
		goto out_free;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)data,
			   n) != 1) {
		ret = wd_err_set(err, WD_EAUTH, "'%s': cannot sign with "
				 "private_key", origin);
		goto out_free;
	}
	sig = wd_xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data,
			   n) != 1) {
		ret = wd_err_set(err, WD_EAUTH, "'%s': cannot sign with "
				 "private_key", origin);
		goto out_free;
	}
	ret = b64url(out, sig, siglen);
	if (ret < 0)
		ret = wd_err_set(err, WD_ELIMIT, "JWT too long");
out_free:
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();
	return ret;
}

int wd_cred_jwt_assertion(struct wd_buf *out, const struct wd_cred *c,
			  long long now, struct wd_err *err)
{
	yajl_gen g;
	long long iat = now - JWT_SKEW_S;
	int ret;

	if (c->kind != WD_CRED_SERVICE_ACCOUNT)
		return wd_err_set(err, WD_EAUTH, "not a service account");
	g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	gen_str(g, "alg", "RS256");
	gen_str(g, "typ", "JWT");
	if (c->key_id)
		gen_str(g, "kid", c->key_id);
	yajl_gen_map_close(g);
	ret = gen_b64(out, g);
	yajl_gen_free(g);
	if (ret == 0)
		ret = wd_buf_addc(out, '.');
	g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	gen_str(g, "iss", c->client_email);
	gen_str(g, "scope", WD_SCOPE_CLOUD_PLATFORM);
	gen_str(g, "aud", c->token_uri);
	gen_int(g, "iat", iat);
	gen_int(g, "exp", iat + JWT_LIFETIME_S);
	yajl_gen_map_close(g);
	if (ret == 0)
		ret = gen_b64(out, g);
	yajl_gen_free(g);
	if (ret == 0)
		ret = wd_buf_addc(out, '.');
	if (ret < 0)
		return wd_err_set(err, WD_ELIMIT, "JWT too long");
	return sign_rs256(out, c->private_key, out->ptr, out->len - 1,
			  c->origin ? c->origin : c->source, err);
}

static int fetch_service_account(struct wd_cred *c, struct wd_http *h,
				 struct wd_err *err)
{
	struct wd_buf jwt, form, what;
	struct wd_jnode *j = NULL;
	char safe[256];
	int ret;

	wd_buf_init(&jwt, 64 * 1024);
	wd_buf_init(&form, 128 * 1024);
	wd_buf_init(&what, 1024);
	wd_http_safe_url(c->token_uri, safe, sizeof(safe));
	(void)wd_buf_printf(&what, "the token endpoint '%s' refused the "
			    "service account key of '%.200s'", safe,
			    c->client_email);
	ret = wd_cred_jwt_assertion(&jwt, c, wall_now(), err);
	if (ret < 0)
		goto out;
	if (form_add(&form, "grant_type", "urn:ietf:params:oauth:grant-type:"
		     "jwt-bearer") < 0 ||
	    form_add(&form, "assertion", jwt.ptr) < 0) {
		ret = wd_err_set(err, WD_ELIMIT, "JWT too long");
		goto out;
	}
	ret = post_form(c, h, c->token_uri, form.ptr, NULL, what.ptr, &j, err);
	if (ret == 0)
		ret = take_oauth_token(c, j, what.ptr, err);
	else if (ret == WD_EAUTH && strstr(err->msg, "invalid_grant"))
		wd_err_append(err, " (the key may be deleted or disabled, or "
			      "this machine's clock is wrong)");
out:
	jdom_wipe_free(j);
	buf_wipe(&jwt);
	buf_wipe(&form);
	wd_buf_release(&what);
	return ret;
}

static int fetch_authorized_user(struct wd_cred *c, struct wd_http *h,
				 struct wd_err *err)
{
	struct wd_buf form, what;
	struct wd_jnode *j = NULL;
	char safe[256];
	int ret;

	wd_buf_init(&form, 64 * 1024);
	wd_buf_init(&what, 1024);
	wd_http_safe_url(c->token_uri, safe, sizeof(safe));
	(void)wd_buf_printf(&what, "the token endpoint '%s' refused the "
			    "refresh token of %s", safe, c->source);
	if (form_add(&form, "grant_type", "refresh_token") < 0 ||
	    form_add(&form, "client_id", c->client_id) < 0 ||
	    form_add(&form, "client_secret", c->client_secret) < 0 ||
	    form_add(&form, "refresh_token", c->refresh_token) < 0) {
		ret = wd_err_set(err, WD_ELIMIT, "credential too long");
		goto out;
	}
	ret = post_form(c, h, c->token_uri, form.ptr, NULL, what.ptr, &j, err);
	if (ret == 0)
		ret = take_oauth_token(c, j, what.ptr, err);
	else if (ret == WD_EAUTH && strstr(err->msg, "invalid_grant"))
		wd_err_append(err, " (run 'gcloud auth application-default "
			      "login' again)");
out:
	jdom_wipe_free(j);
	buf_wipe(&form);
	wd_buf_release(&what);
	return ret;
}

/* ---- external_account ---- */

static int subject_from_text(struct wd_cred *c, const char *p, size_t n,
			     const char *where, struct wd_err *err)
{
	struct wd_jnode *j = NULL;
	struct wd_err perr;
	const char *v;
	bool found;

	if (c->src_field == NULL) {
		set_secret(&c->subject_token, trim_dup(p, n));
	} else {
		wd_err_clear(&perr);
		if (wd_jdom_parse(&j, p, n, &perr) < 0)
			j = NULL;
		if (j == NULL || j->type != WD_J_OBJ) {
			jdom_wipe_free(j);
			return wd_err_set(err, WD_EAUTH, "the subject token "
					  "from %s is not a JSON object", where);
		}
		v = jstr(j, c->src_field);
		found = set(v);
		if (found)
			set_secret(&c->subject_token, trim_dup(v, strlen(v)));
		jdom_wipe_free(j);
		if (!found)
			return wd_err_set(err, WD_EAUTH, "the subject token "
					  "from %s has no string field '%s'",
					  where, c->src_field);
	}
	if (!set(c->subject_token))
		return wd_err_set(err, WD_EAUTH, "the subject token from %s "
				  "is empty", where);
	return 0;
}

static int subject_token(struct wd_cred *c, struct wd_http *h,
			 struct wd_err *err)
{
	struct wd_http_request rq;
	struct wd_http_response rs;
	struct wd_buf b, where;
	struct wd_err terr;
	const char *hdrs[MAX_HEADERS + 2];
	char safe[256], why[512];
	size_t i, k = 0;
	int ret;

	wd_buf_init(&where, 2048);
	if (c->src_file) {
		(void)wd_buf_printf(&where, "credential_source file '%s'",
				    c->src_file);
		ret = read_file(&b, c->src_file, WD_CRED_FILE_MAX,
				"credential_source file", err);
		if (ret == 0) {
			ret = subject_from_text(c, b.ptr ? b.ptr : "", b.len,
						where.ptr, err);
			buf_wipe(&b);
		} else {
			ret = WD_EAUTH;
			err->code = WD_EAUTH;
		}
		wd_buf_release(&where);
		return ret;
	}
	wd_http_safe_url(c->src_url, safe, sizeof(safe));
	(void)wd_buf_printf(&where, "credential_source url '%s'", safe);
	for (i = 0; i < c->nsrc_headers; i++)
		hdrs[k++] = c->src_headers[i];
	hdrs[k] = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = c->src_url;
	rq.headers = hdrs;
	rq.connect_timeout_ms = 10000;
	rq.timeout_ms = token_timeout();
	rq.cap = WD_CRED_FILE_MAX;
	wd_http_response_init(&rs);
	wd_err_clear(&terr);
	ret = wd_http_do(h, &rq, &rs, &terr);
	if (ret < 0) {
		ret = wd_err_set(err, WD_EIO, "cannot get the subject token "
				 "from %s: %s", where.ptr, terr.msg);
	} else if (rs.status < 200 || rs.status >= 300) {
		describe(c, &rs, why, sizeof(why));
		ret = wd_err_set(err, WD_EAUTH, "cannot get the subject token "
				 "from %s: %s", where.ptr, why);
	} else {
		ret = subject_from_text(c, rs.body.ptr ? rs.body.ptr : "",
					rs.body.len, where.ptr, err);
	}
	if (rs.body.ptr)
		OPENSSL_cleanse(rs.body.ptr, rs.body.alloc);
	wd_http_response_release(&rs);
	wd_buf_release(&where);
	return ret;
}

static int basic_auth(struct wd_buf *out, const char *id, const char *secret)
{
	struct wd_buf raw;
	int ret;

	wd_buf_init(&raw, 8192);
	ret = wd_buf_printf(&raw, "%s:%s", id, secret);
	if (ret == 0)
		ret = wd_buf_adds(out, "Authorization: Basic ");
	if (ret == 0) {
		size_t m = 4 * ((raw.len + 2) / 3) + 1;
		unsigned char *t = wd_xmalloc(m);

		EVP_EncodeBlock(t, (const unsigned char *)raw.ptr,
				(int)raw.len);
		ret = wd_buf_adds(out, (const char *)t);
		OPENSSL_cleanse(t, m);
		free(t);
	}
	buf_wipe(&raw);
	return ret;
}

static int sts_exchange(struct wd_cred *c, struct wd_http *h,
			struct wd_err *err)
{
	struct wd_buf form, what, opts, auth;
	struct wd_jnode *j = NULL;
	const char *t;
	char safe[256];
	long long in;
	int ret;

	wd_buf_init(&form, 256 * 1024);
	wd_buf_init(&what, 2048);
	wd_buf_init(&opts, 4096);
	wd_buf_init(&auth, 8192);
	wd_http_safe_url(c->sts_url, safe, sizeof(safe));
	(void)wd_buf_printf(&what, "STS '%s' refused the subject token for "
			    "audience '%.300s'", safe, c->audience);
	ret = form_add(&form, "grant_type", "urn:ietf:params:oauth:"
		       "grant-type:token-exchange");
	if (ret == 0)
		ret = form_add(&form, "audience", c->audience);
	if (ret == 0)
		ret = form_add(&form, "scope", WD_SCOPE_CLOUD_PLATFORM);
	if (ret == 0)
		ret = form_add(&form, "requested_token_type", "urn:ietf:params:"
			       "oauth:token-type:access_token");
	if (ret == 0)
		ret = form_add(&form, "subject_token", c->subject_token);
	if (ret == 0)
		ret = form_add(&form, "subject_token_type",
			       c->subject_token_type);
	if (ret == 0 && c->workforce_project && !c->client_id) {
		yajl_gen g = yajl_gen_alloc(NULL);
		const unsigned char *p;
		size_t n;

		yajl_gen_map_open(g);
		gen_str(g, "userProject", c->workforce_project);
		yajl_gen_map_close(g);
		yajl_gen_get_buf(g, &p, &n);
		(void)wd_buf_add(&opts, p, n);
		yajl_gen_free(g);
		ret = form_add(&form, "options", opts.ptr);
	}
	if (ret == 0 && c->client_id && c->client_secret)
		ret = basic_auth(&auth, c->client_id, c->client_secret);
	if (ret < 0) {
		ret = wd_err_set(err, WD_ELIMIT, "subject token too long");
		goto out;
	}
	ret = post_form(c, h, c->sts_url, form.ptr, auth.len ? auth.ptr : NULL,
			what.ptr, &j, err);
	if (ret == WD_EAUTH)
		wd_err_append(err, " (check the workload identity provider's "
			      "audience and attribute condition)");
	if (ret < 0)
		goto out;
	t = jstr(j, "access_token");
	in = jint(j, "expires_in");
	if (!set(t)) {
		ret = wd_err_set(err, WD_EAUTH, "%s: the answer holds no "
				 "access_token", what.ptr);
		goto out;
	}
	set_secret(&c->sts_token, wd_xstrdup(t));
	if (c->impersonation_url == NULL) {
		set_secret(&c->token, wd_xstrdup(t));
		c->expiry = in > 0 ? wall_now() + in : wall_now() + 3000;
	}
out:
	jdom_wipe_free(j);
	buf_wipe(&form);
	buf_wipe(&auth);
	wd_buf_release(&what);
	wd_buf_release(&opts);
	return ret;
}

/* generateAccessToken with bearer (the STS or source token). */
static int generate_access_token(struct wd_cred *c, struct wd_http *h,
				 const char *bearer, struct wd_err *err)
{
	struct wd_http_request rq;
	struct wd_buf auth, what;
	struct wd_jnode *j = NULL;
	const char *hdrs[4];
	const unsigned char *body;
	char life[32], why[512];
	const char *t, *exp;
	size_t n, i;
	yajl_gen g;
	long long e;
	int ret;

	wd_buf_init(&auth, 64 * 1024);
	wd_buf_init(&what, 2048);
	(void)wd_buf_printf(&what, "IAM Credentials refused to issue a token "
			    "for '%s'", c->principal ? c->principal :
			    "the service account");
	if (wd_buf_printf(&auth, "Authorization: Bearer %s", bearer) < 0) {
		ret = wd_err_set(err, WD_ELIMIT, "token too long");
		goto out;
	}
	hdrs[0] = auth.ptr;
	hdrs[1] = "Content-Type: application/json";
	hdrs[2] = "Accept: application/json";
	hdrs[3] = NULL;
	g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"scope", 5);
	yajl_gen_array_open(g);
	yajl_gen_string(g, (const unsigned char *)WD_SCOPE_CLOUD_PLATFORM,
			strlen(WD_SCOPE_CLOUD_PLATFORM));
	yajl_gen_array_close(g);
	snprintf(life, sizeof(life), "%lds", c->lifetime_s);
	gen_str(g, "lifetime", life);
	if (c->ndelegates) {
		yajl_gen_string(g, (const unsigned char *)"delegates", 9);
		yajl_gen_array_open(g);
		for (i = 0; i < c->ndelegates; i++)
			yajl_gen_string(g, (const unsigned char *)
					c->delegates[i],
					strlen(c->delegates[i]));
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &body, &n);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = c->impersonation_url;
	rq.headers = hdrs;
	rq.body = (const char *)body;
	rq.body_len = n;
	rq.connect_timeout_ms = 10000;
	rq.timeout_ms = token_timeout();
	rq.cap = 256 * 1024;
	ret = call(c, h, &rq, what.ptr, &j, why, sizeof(why), err);
	yajl_gen_free(g);
	if (ret == WD_EAUTH && strstr(err->msg, "PERMISSION_DENIED"))
		wd_err_append(err, " (the caller needs "
			      "iam.serviceAccounts.getAccessToken on the service "
			      "account: roles/iam.workloadIdentityUser for a "
			      "workload identity pool, "
			      "roles/iam.serviceAccountTokenCreator otherwise)");
	if (ret < 0)
		goto out;
	/* camelCase, and an absolute expiry instead of expires_in */
	t = jstr(j, "accessToken");
	exp = jstr(j, "expireTime");
	if (!set(t)) {
		ret = wd_err_set(err, WD_EAUTH, "%s: the answer holds no "
				 "accessToken", what.ptr);
		goto out;
	}
	set_secret(&c->token, wd_xstrdup(t));
	e = exp ? wd_parse_rfc3339(exp, strlen(exp)) : -1;
	c->expiry = e > 0 ? e : wall_now() + c->lifetime_s - 60;
out:
	jdom_wipe_free(j);
	buf_wipe(&auth);
	wd_buf_release(&what);
	return ret;
}

static int fetch_external(struct wd_cred *c, struct wd_http *h,
			  struct wd_err *err)
{
	int ret = subject_token(c, h, err);

	if (ret == 0)
		ret = sts_exchange(c, h, err);
	if (ret == 0 && c->impersonation_url)
		ret = generate_access_token(c, h, c->sts_token, err);
	return ret;
}

static int fetch_impersonated(struct wd_cred *c, struct wd_http *h,
			      struct wd_err *err)
{
	const char *src;
	int ret = wd_cred_token(c->source_cred, h, &src, err);

	if (ret == 0)
		ret = generate_access_token(c, h, src, err);
	return ret;
}

/* ---- metadata server ---- */

static int metadata_get(struct wd_cred *c, struct wd_http *h,
			const char *path, struct wd_http_response *rs,
			struct wd_err *err)
{
	struct wd_http_request rq;
	struct wd_buf url;
	struct wd_err terr;
	static const char *const hdrs[] = { "Metadata-Flavor: Google", NULL };
	unsigned attempt;
	int ret = 0;

	wd_buf_init(&url, 8192);
	(void)wd_buf_printf(&url, "%s%s", c->metadata_root, path);
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = url.ptr;
	rq.headers = hdrs;
	rq.connect_timeout_ms = c->metadata_timeout_ms < 1000 ?
				c->metadata_timeout_ms : 1000;
	rq.timeout_ms = c->metadata_timeout_ms;
	rq.cap = 64 * 1024;
	for (attempt = 0; attempt < TOKEN_CALL_TRIES; attempt++) {
		if (attempt > 0)
			wd_http_sleep(wd_http_backoff(attempt - 1, 0.2, 1));
		wd_err_clear(&terr);
		ret = wd_http_do(h, &rq, rs, &terr);
		if (ret < 0 && (rs->fail == WD_HTTP_CONNECT ||
				rs->fail == WD_HTTP_TIMEOUT))
			break;	/* nobody there: a short, single try */
		if (ret == 0 && !retryable_status(rs->status))
			break;
	}
	if (ret < 0)
		ret = wd_err_set(err, WD_EAUTH, "no credentials found: %s; "
				 "and no metadata server answered at '%s' "
				 "(%s)", c->tried ? c->tried :
				 "(metadata server chosen)",
				 c->metadata_root, terr.msg);
	else if (!rs->metadata_flavor)
		ret = wd_err_set(err, WD_EAUTH, "'%s' answered HTTP %ld "
				 "without 'Metadata-Flavor: Google': it is not "
				 "a metadata server", c->metadata_root,
				 rs->status);
	wd_buf_release(&url);
	return ret;
}

static int fetch_metadata(struct wd_cred *c, struct wd_http *h,
			  struct wd_err *err)
{
	struct wd_http_response rs;
	struct wd_jnode *j = NULL;
	struct wd_err perr;
	char why[512];
	int ret;

	wd_http_response_init(&rs);
	ret = metadata_get(c, h, "/instance/service-accounts/default/token",
			   &rs, err);
	if (ret < 0)
		goto out;
	if (rs.status < 200 || rs.status >= 300) {
		describe(c, &rs, why, sizeof(why));
		ret = wd_err_set(err, WD_EAUTH, "the metadata server '%s' "
				 "gave no token: %s%s", c->metadata_root, why,
				 rs.status == 404 ? " (no service account is "
				 "attached to this machine)" : "");
		goto out;
	}
	wd_err_clear(&perr);
	if (wd_jdom_parse(&j, rs.body.ptr ? rs.body.ptr : "", rs.body.len,
			  &perr) < 0) {
		j = NULL;
		ret = wd_err_set(err, WD_EAUTH, "the metadata server '%s' "
				 "answered a token that is not JSON",
				 c->metadata_root);
		goto out;
	}
	ret = take_oauth_token(c, j, "the metadata server", err);
out:
	jdom_wipe_free(j);
	if (rs.body.ptr)
		OPENSSL_cleanse(rs.body.ptr, rs.body.alloc);
	wd_http_response_release(&rs);
	return ret;
}

/* ---- tokens ---- */

static int fetch(struct wd_cred *c, struct wd_http *h, struct wd_err *err)
{
	switch (c->kind) {
	case WD_CRED_TOKEN:
		if (c->token_path == NULL)
			return wd_err_set(err, WD_EAUTH, "the access token "
					  "from %s cannot be refreshed",
					  c->source);
		set_secret(&c->token, NULL);
		if (read_token_file(&c->token, c->token_path, c->source,
				    err) < 0)
			return err->code = WD_EAUTH;
		return 0;
	case WD_CRED_SERVICE_ACCOUNT:
		return fetch_service_account(c, h, err);
	case WD_CRED_AUTHORIZED_USER:
		return fetch_authorized_user(c, h, err);
	case WD_CRED_EXTERNAL_ACCOUNT:
		return fetch_external(c, h, err);
	case WD_CRED_IMPERSONATED:
		return fetch_impersonated(c, h, err);
	case WD_CRED_METADATA:
		return fetch_metadata(c, h, err);
	}
	return wd_err_set(err, WD_EAUTH, "unknown credential kind");
}

int wd_cred_token(struct wd_cred *c, struct wd_http *h, const char **token,
		  struct wd_err *err)
{
	int ret;

	if (c->token == NULL || (c->expiry != 0 &&
				 c->expiry - wall_now() < TOKEN_MARGIN_S)) {
		ret = fetch(c, h, err);
		if (ret < 0)
			return ret;
	}
	*token = c->token;
	return 0;
}

int wd_cred_refresh(struct wd_cred *c, struct wd_http *h, struct wd_err *err)
{
	char *old = c->token ? wd_xstrdup(c->token) : NULL;
	bool same;
	int ret;

	if (c->kind == WD_CRED_TOKEN && c->token_path == NULL) {
		wipe_free(old);
		return wd_err_set(err, WD_EAUTH, "the access token from %s "
				  "was refused and cannot be refreshed: it "
				  "has expired or is not an access token; "
				  "mint a new one", c->source);
	}
	if (c->kind == WD_CRED_IMPERSONATED && c->source_cred)
		set_secret(&c->source_cred->token, NULL);
	ret = fetch(c, h, err);
	same = ret == 0 && old && c->token && strcmp(old, c->token) == 0;
	wipe_free(old);
	if (ret == 0 && same && c->kind == WD_CRED_TOKEN)
		return wd_err_set(err, WD_EAUTH, "the access token from %s "
				  "was refused and the file still holds the "
				  "same token: it has expired; mint a new one",
				  c->source);
	return ret;
}

int wd_cred_principal(struct wd_cred *c, struct wd_http *h,
		      struct wd_buf *out, struct wd_err *err)
{
	struct wd_http_response rs;
	int ret = 0;

	switch (c->kind) {
	case WD_CRED_TOKEN:
		return wd_buf_adds(out, "unknown (a bare access token does "
				   "not say whose it is)");
	case WD_CRED_SERVICE_ACCOUNT:
		return wd_buf_printf(out, "service account %s", c->principal);
	case WD_CRED_AUTHORIZED_USER:
		if (c->principal)
			return wd_buf_printf(out, "user account %s",
					     c->principal);
		return wd_buf_printf(out, "user account (the file does not "
				     "name it; client %s)", c->client_id);
	case WD_CRED_EXTERNAL_ACCOUNT:
		if (c->impersonation_url)
			return wd_buf_printf(out, "service account %s, "
					     "impersonated by the federated "
					     "identity of audience %s",
					     c->principal ? c->principal :
					     "(unknown)", c->audience);
		return wd_buf_printf(out, "%s", c->principal);
	case WD_CRED_IMPERSONATED:
		return wd_buf_printf(out, "service account %s, impersonated "
				     "by %s credentials",
				     c->principal ? c->principal :
				     "(unknown)",
				     wd_cred_type(c->source_cred));
	case WD_CRED_METADATA:
		if (c->metadata_email == NULL) {
			wd_http_response_init(&rs);
			ret = metadata_get(c, h, "/instance/service-accounts/"
					   "default/email", &rs, err);
			if (ret == 0 && rs.status == 200 && rs.body.len)
				c->metadata_email = trim_dup(rs.body.ptr,
							     rs.body.len);
			wd_http_response_release(&rs);
			if (ret < 0)
				return ret;
		}
		return wd_buf_printf(out, "service account %s (attached to "
				     "this machine)", c->metadata_email ?
				     c->metadata_email : "(unknown)");
	}
	return 0;
}
