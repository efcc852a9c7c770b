/* entry.c - the flat record (see whydenied/entry.h). */
#include "whydenied/entry.h"

#include <string.h>

static const struct {
	const char *name;
	bool multi;
} fields[WD_F__COUNT] = {
	[WD_F_TIMESTAMP] = { "timestamp", false },
	[WD_F_RECEIVE_TIMESTAMP] = { "receive_timestamp", false },
	[WD_F_INSERT_ID] = { "insert_id", false },
	[WD_F_LOG_NAME] = { "log_name", false },
	[WD_F_LOG] = { "log", false },
	[WD_F_SEVERITY] = { "severity", false },
	[WD_F_PROJECT] = { "project", false },
	[WD_F_RESOURCE_TYPE] = { "resource_type", false },
	[WD_F_SERVICE] = { "service", false },
	[WD_F_METHOD] = { "method", false },
	[WD_F_RESOURCE_NAME] = { "resource_name", false },
	[WD_F_PRINCIPAL] = { "principal", false },
	[WD_F_PRINCIPAL_SUBJECT] = { "principal_subject", false },
	[WD_F_ANONYMOUS] = { "anonymous", false },
	[WD_F_CALLER_IP] = { "caller_ip", false },
	[WD_F_USER_AGENT] = { "user_agent", false },
	[WD_F_STATUS_CODE] = { "status_code", false },
	[WD_F_STATUS_MESSAGE] = { "status_message", false },
	[WD_F_FAILURE] = { "failure", false },
	[WD_F_DETAIL_TYPE] = { "detail_type", true },
	[WD_F_ERROR_REASON] = { "error_reason", true },
	[WD_F_ERROR_DOMAIN] = { "error_domain", true },
	[WD_F_ERROR_METADATA] = { "error_metadata", true },
	[WD_F_VIOLATION_TYPE] = { "violation_type", true },
	[WD_F_VIOLATION_SUBJECT] = { "violation_subject", true },
	[WD_F_VIOLATION_DESCRIPTION] = { "violation_description", true },
	[WD_F_QUOTA_METRIC] = { "quota_metric", true },
	[WD_F_QUOTA_SUBJECT] = { "quota_subject", true },
	[WD_F_QUOTA_DESCRIPTION] = { "quota_description", true },
	[WD_F_HELP_URL] = { "help_url", true },
	[WD_F_RETRY_DELAY] = { "retry_delay", false },
	[WD_F_AUTHZ_PERMISSION] = { "authz_permission", true },
	[WD_F_AUTHZ_RESOURCE] = { "authz_resource", true },
	[WD_F_AUTHZ_GRANTED] = { "authz_granted", true },
	[WD_F_DENIED_PERMISSION] = { "denied_permission", true },
	[WD_F_METADATA_TYPE] = { "metadata_type", false },
	[WD_F_VIOLATION_REASON] = { "violation_reason", false },
	[WD_F_VPCSC_ID] = { "vpcsc_id", false },
	[WD_F_DRY_RUN] = { "dry_run", false },
	[WD_F_PERIMETER] = { "perimeter", false },
	[WD_F_INGRESS_TARGET] = { "ingress_target", true },
	[WD_F_INGRESS_SOURCE] = { "ingress_source", true },
	[WD_F_INGRESS_PERIMETER] = { "ingress_perimeter", true },
	[WD_F_EGRESS_TARGET] = { "egress_target", true },
	[WD_F_EGRESS_SOURCE] = { "egress_source", true },
	[WD_F_EGRESS_PERIMETER] = { "egress_perimeter", true },
	[WD_F_ORG_CONSTRAINT] = { "org_constraint", true },
	[WD_F_ORG_ERROR_MESSAGE] = { "org_error_message", true },
	[WD_F_ORG_CHECKED_VALUE] = { "org_checked_value", true },
	[WD_F_ORG_POLICY_TYPE] = { "org_policy_type", true },
	[WD_F_LEGACY_REASON] = { "legacy_reason", false },
	[WD_F_LEGACY_CODE] = { "legacy_code", false },
	[WD_F_SOURCE] = { "source", false },
	[WD_F_TOOL] = { "tool", false },
	[WD_F_LOCATION] = { "location", false },
};

const char *wd_field_name(enum wd_field f)
{
	if ((int)f < 0 || f >= WD_F__COUNT)
		return NULL;
	return fields[f].name;
}

bool wd_field_is_multi(enum wd_field f)
{
	return (int)f >= 0 && f < WD_F__COUNT && fields[f].multi;
}

int wd_field_lookup(const char *name, size_t len, const char **key,
		    size_t *key_len)
{
	static const char meta[] = "error_metadata.";
	size_t i;

	if (key)
		*key = NULL;
	if (key_len)
		*key_len = 0;
	if (len > sizeof(meta) - 1 && memcmp(name, meta, sizeof(meta) - 1) == 0) {
		if (key)
			*key = name + sizeof(meta) - 1;
		if (key_len)
			*key_len = len - (sizeof(meta) - 1);
		return WD_F_ERROR_METADATA;
	}
	for (i = 0; i < WD_F__COUNT; i++) {
		if (i == WD_F_ERROR_METADATA)
			continue;
		if (strlen(fields[i].name) == len &&
		    memcmp(fields[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

void wd_entry_reset(struct wd_entry *e)
{
	size_t i;

	e->nvals = 0;
	e->truncated = 0;
	e->failure = false;
	for (i = 0; i < WD_F__COUNT; i++)
		e->first[i] = -1;
}

bool wd_entry_add_keyed(struct wd_entry *e, enum wd_field f, const char *key,
			size_t key_len, const char *p, size_t n)
{
	struct wd_val *v;

	if (e->nvals >= WD_ENTRY_MAX_VALUES || n > UINT32_MAX ||
	    key_len > UINT16_MAX) {
		e->truncated++;
		return false;
	}
	v = &e->vals[e->nvals];
	v->field = (uint16_t)f;
	v->key = key;
	v->key_len = (uint16_t)key_len;
	v->ptr = p ? p : "";
	v->len = (uint32_t)n;
	if (e->first[f] < 0)
		e->first[f] = (int)e->nvals;
	e->nvals++;
	return true;
}

bool wd_entry_add(struct wd_entry *e, enum wd_field f, const char *p, size_t n)
{
	return wd_entry_add_keyed(e, f, NULL, 0, p, n);
}

struct wd_str wd_entry_get(const struct wd_entry *e, enum wd_field f)
{
	struct wd_str s = { NULL, 0 };
	int i = e->first[f];

	if (i >= 0) {
		s.ptr = e->vals[i].ptr;
		s.len = e->vals[i].len;
	}
	return s;
}

bool wd_entry_has(const struct wd_entry *e, enum wd_field f)
{
	return e->first[f] >= 0;
}

bool wd_entry_next(const struct wd_entry *e, enum wd_field f, const char *key,
		   size_t key_len, size_t *pos, struct wd_str *out)
{
	size_t i = *pos;

	if (i == 0 && e->first[f] >= 0)
		i = (size_t)e->first[f];
	else if (i == 0)
		return false;
	for (; i < e->nvals; i++) {
		const struct wd_val *v = &e->vals[i];

		if (v->field != f)
			continue;
		if (key && (v->key_len != key_len ||
			    memcmp(v->key, key, key_len) != 0))
			continue;
		out->ptr = v->ptr;
		out->len = v->len;
		*pos = i + 1;
		return true;
	}
	*pos = i;
	return false;
}

void wd_entry_reindex(struct wd_entry *e)
{
	size_t i;

	for (i = 0; i < WD_F__COUNT; i++)
		e->first[i] = -1;
	for (i = 0; i < e->nvals; i++)
		if (e->first[e->vals[i].field] < 0)
			e->first[e->vals[i].field] = (int)i;
}
