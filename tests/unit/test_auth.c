/* test_auth.c - credential files and discovery (issue 5, "Credentials"):
 * every type google-github-actions/auth, gcloud and GitLab write, the
 * discovery order, the RS256 JWT-bearer assertion (verified here with
 * OpenSSL against the key's public half), and that no secret reaches an
 * error message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "whydenied/auth.h"
#include "whydenied/jdom.h"

#define SECRET_RT "1//0refresh-SECRET-abcdef123456"
#define SECRET_CS "GOCSPX-client-SECRET-987654"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wd-test-auth-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static const char *write_file(const char *name, const char *text)
{
	const char *p = path_of(name);
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static struct wd_cred *parse(const char *json, int want)
{
	struct wd_cred *c = NULL;
	struct wd_err err;
	int ret;

	wd_err_clear(&err);
	ret = wd_cred_from_json(&c, json, strlen(json), "creds.json", &err);
	if (ret != want)
		fail_msg("parse returned %d (want %d): %s", ret, want,
			 err.msg);
	return c;
}

static char *parse_error(const char *json)
{
	struct wd_cred *c = NULL;
	struct wd_err err;

	wd_err_clear(&err);
	assert_int_equal(wd_cred_from_json(&c, json, strlen(json),
					   "creds.json", &err), WD_EUSAGE);
	assert_null(c);
	return strdup(err.msg);
}

/* A fresh RSA key as PEM (PKCS#8), and its public key. */
static char *make_key(EVP_PKEY **pub)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem;
	long n;

	assert_non_null(pk);
	assert_int_equal(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL,
						  NULL), 1);
	n = BIO_get_mem_data(b, &data);
	pem = strndup(data, (size_t)n);
	BIO_free(b);
	*pub = pk;
	return pem;
}

static char *json_escape(const char *s)
{
	struct wd_buf b;

	wd_buf_init(&b, 1u << 20);
	for (; *s; s++) {
		if (*s == '\n')
			wd_buf_adds(&b, "\\n");
		else
			wd_buf_addc(&b, *s);
	}
	return wd_buf_detach(&b, NULL);
}

static char *sa_json(const char *pem, const char *extra)
{
	char *k = json_escape(pem);
	struct wd_buf b;

	wd_buf_init(&b, 1u << 20);
	wd_buf_printf(&b, "{\"type\":\"service_account\",\"project_id\":"
		      "\"acme\",\"private_key_id\":\"kid-1\",\"private_key\":"
		      "\"%s\",\"client_email\":\"sa@acme.iam.gserviceaccount."
		      "com\",\"client_id\":\"1\"%s}", k, extra);
	free(k);
	return wd_buf_detach(&b, NULL);
}

/* ---- service_account ---- */

static unsigned char *b64url_decode(const char *s, size_t n, size_t *out)
{
	char *t = malloc(n + 4);
	unsigned char *r = malloc(n + 4);
	size_t i, m = n;
	int k;

	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (m % 4)
		t[m++] = '=';
	k = EVP_DecodeBlock(r, (unsigned char *)t, (int)m);
	assert_true(k >= 0);
	while (m > n && k > 0) {	/* padding bytes decode as zeros */
		m--;
		k--;
	}
	free(t);
	*out = (size_t)k;
	return r;
}

static void test_service_account_jwt(void **state)
{
	EVP_PKEY *pub;
	char *pem = make_key(&pub), *json;
	struct wd_cred *c;
	struct wd_buf jwt;
	struct wd_err err;
	const char *d1, *d2;
	unsigned char *hdr, *claims, *sig;
	size_t hn, cn, sn;
	struct wd_jnode *j;
	EVP_MD_CTX *md;
	long long now = 1800000000;

	(void)state;
	json = sa_json(pem, "");
	c = parse(json, 0);
	assert_int_equal(wd_cred_kind(c), WD_CRED_SERVICE_ACCOUNT);
	assert_string_equal(wd_cred_type(c), "service_account");
	assert_string_equal(wd_cred_principal_hint(c),
			    "sa@acme.iam.gserviceaccount.com");
	assert_string_equal(wd_cred_endpoint(c), WD_GOOGLE_TOKEN_URI);
	assert_null(wd_cred_quota_project(c));
	wd_buf_init(&jwt, 1u << 16);
	assert_int_equal(wd_cred_jwt_assertion(&jwt, c, now, &err), 0);
	d1 = strchr(jwt.ptr, '.');
	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	hdr = b64url_decode(jwt.ptr, (size_t)(d1 - jwt.ptr), &hn);
	claims = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &cn);
	sig = b64url_decode(d2 + 1, strlen(d2 + 1), &sn);
	assert_int_equal(wd_jdom_parse(&j, (char *)hdr, hn, &err), 0);
	assert_string_equal(wd_jdom_get(j, "alg")->str, "RS256");
	assert_string_equal(wd_jdom_get(j, "typ")->str, "JWT");
	assert_string_equal(wd_jdom_get(j, "kid")->str, "kid-1");
	wd_jdom_free(j);
	assert_int_equal(wd_jdom_parse(&j, (char *)claims, cn, &err), 0);
	assert_string_equal(wd_jdom_get(j, "iss")->str,
			    "sa@acme.iam.gserviceaccount.com");
	assert_string_equal(wd_jdom_get(j, "aud")->str, WD_GOOGLE_TOKEN_URI);
	assert_string_equal(wd_jdom_get(j, "scope")->str,
			    WD_SCOPE_CLOUD_PLATFORM);
	/* iat backdated a little for clock skew; exp = iat + 3600 */
	assert_string_equal(wd_jdom_get(j, "iat")->str, "1799999990");
	assert_string_equal(wd_jdom_get(j, "exp")->str, "1800003590");
	assert_null(wd_jdom_get(j, "sub"));
	wd_jdom_free(j);
	/* RS256: RSASSA-PKCS1-v1_5 over "header.claims" with SHA-256 */
	assert_int_equal(sn, 256);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
					      pub), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sn,
					  (const unsigned char *)jwt.ptr,
					  (size_t)(d2 - jwt.ptr)), 1);
	EVP_MD_CTX_free(md);
	free(hdr);
	free(claims);
	free(sig);
	wd_buf_release(&jwt);
	wd_cred_free(c);
	free(json);
	/* token_uri from the file is the aud */
	json = sa_json(pem, ",\"token_uri\":\"https://example.test/token\","
		       "\"quota_project_id\":\"acme-quota\"");
	c = parse(json, 0);
	assert_string_equal(wd_cred_endpoint(c), "https://example.test/token");
	assert_string_equal(wd_cred_quota_project(c), "acme-quota");
	wd_cred_free(c);
	free(json);
	EVP_PKEY_free(pub);
	free(pem);
}

static void test_service_account_bad_key(void **state)
{
	const char *json = "{\"type\":\"service_account\",\"client_email\":"
			   "\"sa@x\",\"private_key\":\"-----BEGIN PRIVATE "
			   "KEY-----\\nTm90QUtleVNFQ1JFVG5vdGFrZXk=\\n-----END "
			   "PRIVATE KEY-----\\n\"}";
	struct wd_cred *c = parse(json, 0);
	struct wd_buf jwt;
	struct wd_err err;

	(void)state;
	wd_buf_init(&jwt, 1u << 16);
	wd_err_clear(&err);
	assert_int_equal(wd_cred_jwt_assertion(&jwt, c, time(NULL), &err),
			 WD_EAUTH);
	assert_non_null(strstr(err.msg, "private_key"));
	assert_null(strstr(err.msg, "Tm90QUtleVNFQ1JFV"));
	wd_buf_release(&jwt);
	wd_cred_free(c);
}

static void test_missing_fields(void **state)
{
	char *m;

	(void)state;
	m = parse_error("{\"type\":\"service_account\",\"client_email\":"
			"\"a@b\"}");
	assert_non_null(strstr(m, "'private_key'"));
	free(m);
	m = parse_error("{\"client_email\":\"a@b\"}");
	assert_non_null(strstr(m, "no 'type'"));
	free(m);
	m = parse_error("{\"type\":\"gdch_service_account\"}");
	assert_non_null(strstr(m, "not supported"));
	free(m);
	m = parse_error("[1,2]");
	assert_non_null(strstr(m, "JSON object"));
	free(m);
	m = parse_error("{\"type\":\"authorized_user\",\"client_id\":\"c\","
			"\"client_secret\":\"" SECRET_CS "\"}");
	assert_non_null(strstr(m, "'refresh_token'"));
	assert_null(strstr(m, SECRET_CS));
	free(m);
	/* a syntax error never quotes the file (it holds secrets) */
	m = parse_error("{\"type\":\"authorized_user\",\"refresh_token\":\""
			SECRET_RT "\" oops}");
	assert_non_null(strstr(m, "not a JSON credential file"));
	assert_null(strstr(m, "SECRET"));
	free(m);
}

/* ---- authorized_user ---- */

static void test_authorized_user(void **state)
{
	struct wd_cred *c;
	char s[256];

	(void)state;
	c = parse("{\"type\":\"authorized_user\",\"client_id\":\"cid\","
		  "\"client_secret\":\"" SECRET_CS "\",\"refresh_token\":\""
		  SECRET_RT "\",\"quota_project_id\":\"qp\",\"account\":"
		  "\"dev@example.com\"}", 0);
	assert_int_equal(wd_cred_kind(c), WD_CRED_AUTHORIZED_USER);
	assert_string_equal(wd_cred_principal_hint(c), "dev@example.com");
	assert_string_equal(wd_cred_quota_project(c), "qp");
	assert_string_equal(wd_cred_endpoint(c), WD_GOOGLE_TOKEN_URI);
	snprintf(s, sizeof(s), "error: %s and %s!", SECRET_RT, SECRET_CS);
	wd_cred_scrub(c, s);
	assert_string_equal(s, "error: [REDACTED] and [REDACTED]!");
	assert_int_equal(wd_cred_expires_in(c), -1);
	wd_cred_free(c);
}

/* ---- external_account ---- */

/* Exactly what google-github-actions/auth writes (with impersonation). */
static const char gha[] =
	"{\"type\":\"external_account\","
	"\"audience\":\"//iam.googleapis.com/projects/123/locations/global/"
	"workloadIdentityPools/gh/providers/gh\","
	"\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\","
	"\"token_url\":\"https://sts.googleapis.com/v1/token\","
	"\"credential_source\":{\"url\":\"https://pipelines.actions."
	"githubusercontent.com/x/idtoken?api-version=2.0&audience=https://"
	"iam.googleapis.com/projects/123/locations/global/"
	"workloadIdentityPools/gh/providers/gh\",\"headers\":{"
	"\"Authorization\":\"Bearer GHA-REQUEST-SECRET-123456\"},"
	"\"format\":{\"type\":\"json\",\"subject_token_field_name\":"
	"\"value\"}},"
	"\"service_account_impersonation_url\":\"https://iamcredentials."
	"googleapis.com/v1/projects/-/serviceAccounts/deploy%40acme.iam."
	"gserviceaccount.com:generateAccessToken\"}";

static void test_external_account_gha(void **state)
{
	struct wd_cred *c = parse(gha, 0);
	char s[128] = "header was Bearer GHA-REQUEST-SECRET-123456 ok";

	(void)state;
	assert_int_equal(wd_cred_kind(c), WD_CRED_EXTERNAL_ACCOUNT);
	assert_string_equal(wd_cred_principal_hint(c),
			    "deploy@acme.iam.gserviceaccount.com");
	assert_string_equal(wd_cred_endpoint(c),
			    "https://sts.googleapis.com/v1/token");
	wd_cred_scrub(c, s);
	assert_string_equal(s, "header was Bearer [REDACTED] ok");
	wd_cred_free(c);
}

static void test_external_account_file(void **state)
{
	struct wd_cred *c;
	char *m;

	(void)state;
	c = parse("{\"type\":\"external_account\",\"audience\":\"//iam/a\","
		  "\"subject_token_type\":\"urn:ietf:params:oauth:token-type:"
		  "jwt\",\"token_url\":\"https://sts.googleapis.com/v1/token\","
		  "\"credential_source\":{\"file\":\"/ci/token\"},"
		  "\"service_account_impersonation\":{"
		  "\"token_lifetime_seconds\":600}}", 0);
	assert_non_null(strstr(wd_cred_principal_hint(c), "//iam/a"));
	wd_cred_free(c);
	m = parse_error("{\"type\":\"external_account\",\"audience\":\"a\","
			"\"subject_token_type\":\"t\",\"token_url\":\"u\","
			"\"credential_source\":{\"executable\":{\"command\":"
			"\"x\"}}}");
	assert_non_null(strstr(m, "not supported"));
	free(m);
	m = parse_error("{\"type\":\"external_account\",\"audience\":\"a\","
			"\"subject_token_type\":\"t\",\"token_url\":\"u\","
			"\"credential_source\":{\"file\":\"f\",\"url\":\"u\"}}");
	assert_non_null(strstr(m, "exactly one"));
	free(m);
	m = parse_error("{\"type\":\"external_account\",\"audience\":\"a\","
			"\"subject_token_type\":\"t\",\"token_url\":\"u\","
			"\"credential_source\":{\"file\":\"f\",\"format\":{"
			"\"type\":\"json\"}}}");
	assert_non_null(strstr(m, "subject_token_field_name"));
	free(m);
	m = parse_error("{\"type\":\"external_account\",\"audience\":\"a\","
			"\"token_url\":\"u\",\"credential_source\":{\"file\":"
			"\"f\"}}");
	assert_non_null(strstr(m, "subject_token_type"));
	free(m);
}

static void test_impersonated(void **state)
{
	struct wd_cred *c;

	(void)state;
	c = parse("{\"type\":\"impersonated_service_account\","
		  "\"service_account_impersonation_url\":\"https://"
		  "iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
		  "tf@p.iam.gserviceaccount.com:generateAccessToken\","
		  "\"delegates\":[],\"source_credentials\":{\"type\":"
		  "\"authorized_user\",\"client_id\":\"c\",\"client_secret\":"
		  "\"s123456\",\"refresh_token\":\"" SECRET_RT "\"}}", 0);
	assert_int_equal(wd_cred_kind(c), WD_CRED_IMPERSONATED);
	assert_string_equal(wd_cred_principal_hint(c),
			    "tf@p.iam.gserviceaccount.com");
	wd_cred_free(c);
}

/* ---- discovery ---- */

static struct wd_cred *discover(const struct wd_cred_env *env, int want,
				struct wd_err *err)
{
	struct wd_cred *c = NULL;
	int ret;

	wd_err_clear(err);
	ret = wd_cred_discover(&c, env, err);
	if (ret != want)
		fail_msg("discover returned %d (want %d): %s", ret, want,
			 err->msg);
	return c;
}

static void test_discovery_order(void **state)
{
	struct wd_cred_env env;
	struct wd_cred *c;
	struct wd_err err;
	const char *tok = write_file("tok", "  ya29.file-token-1234\n");
	const char *user = write_file("user.json", "{\"type\":"
		"\"authorized_user\",\"client_id\":\"c\",\"client_secret\":"
		"\"s123456\",\"refresh_token\":\"r123456\"}");
	const char *broken;

	(void)state;
	memset(&env, 0, sizeof(env));
	env.access_token_file = tok;
	env.oauth_access_token = "ya29.env";
	env.cloudsdk_token_file = "/nonexistent";
	env.application_credentials = "/nonexistent";
	c = discover(&env, 0, &err);
	assert_int_equal(wd_cred_kind(c), WD_CRED_TOKEN);
	assert_non_null(strstr(wd_cred_source(c), "--access-token-file"));
	wd_cred_free(c);

	env.access_token_file = NULL;
	c = discover(&env, 0, &err);
	assert_string_equal(wd_cred_source(c), "GOOGLE_OAUTH_ACCESS_TOKEN");
	wd_cred_free(c);

	env.oauth_access_token = "";
	env.cloudsdk_token_file = tok;
	c = discover(&env, 0, &err);
	assert_non_null(strstr(wd_cred_source(c),
			       "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"));
	wd_cred_free(c);

	env.cloudsdk_token_file = NULL;
	env.application_credentials = user;
	env.quota_project = "env-quota";
	c = discover(&env, 0, &err);
	assert_int_equal(wd_cred_kind(c), WD_CRED_AUTHORIZED_USER);
	assert_non_null(strstr(wd_cred_source(c),
			       "GOOGLE_APPLICATION_CREDENTIALS"));
	assert_string_equal(wd_cred_quota_project(c), "env-quota");
	wd_cred_free(c);
	env.quota_project = NULL;

	/* set but broken: an error, never a fall-through */
	broken = write_file("broken.json", "{\"type\":");
	env.application_credentials = broken;
	env.cloudsdk_config = tmpdir;
	c = discover(&env, WD_EUSAGE, &err);
	assert_null(c);
	assert_non_null(strstr(err.msg, "broken.json"));
	env.application_credentials = "/nonexistent/x.json";
	c = discover(&env, WD_EUSAGE, &err);
	assert_non_null(strstr(err.msg, "cannot open"));
}

static void test_discovery_adc_and_metadata(void **state)
{
	struct wd_cred_env env;
	struct wd_cred *c;
	struct wd_err err;
	char dir[512], home[512];

	(void)state;
	memset(&env, 0, sizeof(env));
	/* CLOUDSDK_CONFIG's well-known file */
	snprintf(dir, sizeof(dir), "%s/gcloud", tmpdir);
	assert_int_equal(system("true"), 0);
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/home/.config/"
			 "gcloud'", dir, tmpdir);
		assert_int_equal(system(cmd), 0);
	}
	write_file("gcloud/application_default_credentials.json",
		   "{\"type\":\"authorized_user\",\"client_id\":\"c\","
		   "\"client_secret\":\"s123456\",\"refresh_token\":\"r123456\","
		   "\"quota_project_id\":\"file-quota\"}");
	env.cloudsdk_config = dir;
	c = discover(&env, 0, &err);
	assert_non_null(strstr(wd_cred_source(c), "gcloud application default "
			       "credentials"));
	assert_string_equal(wd_cred_quota_project(c), "file-quota");
	wd_cred_free(c);

	/* HOME/.config/gcloud is not read when CLOUDSDK_CONFIG is set */
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	write_file("home/.config/gcloud/application_default_credentials.json",
		   "{\"type\":\"authorized_user\",\"client_id\":\"c\","
		   "\"client_secret\":\"s123456\",\"refresh_token\":\"r123456\"}");
	env.home = home;
	env.cloudsdk_config = tmpdir;	/* holds no ADC file */
	env.metadata_host = "127.0.0.1:8080";
	c = discover(&env, 0, &err);
	assert_int_equal(wd_cred_kind(c), WD_CRED_METADATA);
	assert_string_equal(wd_cred_endpoint(c),
			    "http://127.0.0.1:8080/computeMetadata/v1");
	wd_cred_free(c);
	env.cloudsdk_config = NULL;
	c = discover(&env, 0, &err);
	assert_int_equal(wd_cred_kind(c), WD_CRED_AUTHORIZED_USER);
	wd_cred_free(c);

	/* nothing at all: the metadata server, default address */
	env.home = tmpdir;
	env.metadata_host = NULL;
	c = discover(&env, 0, &err);
	assert_int_equal(wd_cred_kind(c), WD_CRED_METADATA);
	assert_string_equal(wd_cred_endpoint(c),
			    "http://169.254.169.254/computeMetadata/v1");
	assert_string_equal(wd_cred_type(c), "metadata_server");
	wd_cred_free(c);
}

static void test_token_file_checks(void **state)
{
	struct wd_cred_env env;
	struct wd_cred *c;
	struct wd_err err;

	(void)state;
	memset(&env, 0, sizeof(env));
	env.access_token_file = write_file("two", "ya29.a ya29.b\n");
	c = discover(&env, WD_EUSAGE, &err);
	assert_null(c);
	assert_non_null(strstr(err.msg, "one access token"));
	assert_null(strstr(err.msg, "ya29"));
	env.access_token_file = write_file("empty", "\n\n");
	c = discover(&env, WD_EUSAGE, &err);
	env.access_token_file = NULL;
	env.oauth_access_token = "two tokens";
	c = discover(&env, WD_EUSAGE, &err);
	assert_null(strstr(err.msg, "two tokens"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_account_jwt),
		cmocka_unit_test(test_service_account_bad_key),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_authorized_user),
		cmocka_unit_test(test_external_account_gha),
		cmocka_unit_test(test_external_account_file),
		cmocka_unit_test(test_impersonated),
		cmocka_unit_test(test_discovery_order),
		cmocka_unit_test(test_discovery_adc_and_metadata),
		cmocka_unit_test(test_token_file_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
