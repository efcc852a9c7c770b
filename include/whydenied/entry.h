/* whydenied/entry.h - the flat record one LogEntry is decoded into.
 *
 * Field names are a contract (docs/record.md): rules match on them and
 * templates name them. A record owns nothing: every value is a view into the
 * decoder's per-entry arena and lives until the next entry is decoded. Code
 * that keeps a value copies it.
 */
#ifndef WHYDENIED_ENTRY_H
#define WHYDENIED_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whydenied/buf.h"

enum wd_field {
	WD_F_TIMESTAMP,
	WD_F_RECEIVE_TIMESTAMP,
	WD_F_INSERT_ID,
	WD_F_LOG_NAME,
	WD_F_LOG,
	WD_F_SEVERITY,
	WD_F_PROJECT,
	WD_F_RESOURCE_TYPE,
	WD_F_SERVICE,
	WD_F_METHOD,
	WD_F_RESOURCE_NAME,
	WD_F_PRINCIPAL,
	WD_F_PRINCIPAL_SUBJECT,
	WD_F_ANONYMOUS,
	WD_F_CALLER_IP,
	WD_F_USER_AGENT,
	WD_F_STATUS_CODE,
	WD_F_STATUS_MESSAGE,
	WD_F_FAILURE,
	WD_F_DETAIL_TYPE,
	WD_F_ERROR_REASON,
	WD_F_ERROR_DOMAIN,
	WD_F_ERROR_METADATA,	/* keyed: error_metadata.KEY */
	WD_F_VIOLATION_TYPE,
	WD_F_VIOLATION_SUBJECT,
	WD_F_VIOLATION_DESCRIPTION,
	WD_F_QUOTA_METRIC,
	WD_F_QUOTA_SUBJECT,
	WD_F_QUOTA_DESCRIPTION,
	WD_F_HELP_URL,
	WD_F_RETRY_DELAY,
	WD_F_AUTHZ_PERMISSION,
	WD_F_AUTHZ_RESOURCE,
	WD_F_AUTHZ_GRANTED,
	WD_F_DENIED_PERMISSION,
	WD_F_METADATA_TYPE,
	WD_F_VIOLATION_REASON,
	WD_F_VPCSC_ID,
	WD_F_DRY_RUN,
	WD_F_PERIMETER,
	WD_F_INGRESS_TARGET,
	WD_F_INGRESS_SOURCE,
	WD_F_INGRESS_PERIMETER,
	WD_F_EGRESS_TARGET,
	WD_F_EGRESS_SOURCE,
	WD_F_EGRESS_PERIMETER,
	WD_F_ORG_CONSTRAINT,
	WD_F_ORG_ERROR_MESSAGE,
	WD_F_ORG_CHECKED_VALUE,
	WD_F_ORG_POLICY_TYPE,
	WD_F_LEGACY_REASON,
	WD_F_LEGACY_CODE,
	WD_F_SOURCE,
	/* Filled only by the text-error extractor (step logs). */
	WD_F_TOOL,		/* terraform, gcloud, grpc, python, rest */
	WD_F_LOCATION,		/* terraform resource address and file:line */
	WD_F__COUNT
};

/* Largest number of values one record holds; more are dropped and counted
 * in wd_entry.truncated. */
#define WD_ENTRY_MAX_VALUES 1024

struct wd_val {
	uint16_t field;
	uint16_t key_len;	/* WD_F_ERROR_METADATA: length of key */
	uint32_t len;
	const char *key;
	const char *ptr;
};

struct wd_entry {
	struct wd_val vals[WD_ENTRY_MAX_VALUES];
	size_t nvals;
	int first[WD_F__COUNT];	/* index of the first value, or -1 */
	size_t truncated;	/* values dropped past the cap */
	bool failure;
	/* Where it came from (not owned). */
	const char *file;
	uint64_t line;
	uint64_t offset;
};

/* Name of a field ("status_code"); NULL for an out-of-range id. */
const char *wd_field_name(enum wd_field f);

/* Looks a field up by name. "error_metadata.KEY" returns
 * WD_F_ERROR_METADATA and sets *key and *key_len to KEY. Returns -1 when the
 * name is unknown. */
int wd_field_lookup(const char *name, size_t len, const char **key,
		    size_t *key_len);

/* True for fields that may hold several values. */
bool wd_field_is_multi(enum wd_field f);

void wd_entry_reset(struct wd_entry *e);

/* Appends a value (a view; not copied). Returns false when full. */
bool wd_entry_add(struct wd_entry *e, enum wd_field f, const char *p,
		  size_t n);
bool wd_entry_add_keyed(struct wd_entry *e, enum wd_field f, const char *key,
			size_t key_len, const char *p, size_t n);

/* First value of f, or an empty view with ptr NULL when absent. */
struct wd_str wd_entry_get(const struct wd_entry *e, enum wd_field f);
bool wd_entry_has(const struct wd_entry *e, enum wd_field f);

/* Iterates over every value of f (and, for error_metadata, of key when
 * key is not NULL). Start with *pos = 0; returns false at the end. */
bool wd_entry_next(const struct wd_entry *e, enum wd_field f, const char *key,
		   size_t key_len, size_t *pos, struct wd_str *out);

/* Recomputes first[] after values were re-tagged in place. */
void wd_entry_reindex(struct wd_entry *e);

#endif
