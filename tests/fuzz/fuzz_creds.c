/* fuzz_creds.c - the credential-file parser (service_account,
 * authorized_user, external_account with file/url sources and formats,
 * impersonation) on arbitrary JSON; what it accepts is described without
 * any network access, and no secret may reach the description. */
#include "fuzz.h"
#include "whydenied/auth.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_cred *c = NULL;
	struct wd_err err;

	if (wd_cred_from_json(&c, (const char *)data, size, "fuzz.json",
			      &err) == 0) {
		(void)wd_cred_source(c);
		(void)wd_cred_type(c);
		(void)wd_cred_quota_project(c);
		(void)wd_cred_endpoint(c);
		(void)wd_cred_principal_hint(c);
	}
	wd_cred_free(c);
	return 0;
}
