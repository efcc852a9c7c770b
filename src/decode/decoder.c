/* decoder.c - yajl callbacks into a flat record (see whydenied/decoder.h).
 *
 * The parser walks a schema of known positions ("nodes"). Each map key
 * selects the slot of the value that follows: a child node for an object or
 * array, or an action for a scalar. Unknown keys select SKIP, whose whole
 * subtree is ignored. Items whose meaning depends on a sibling key that may
 * come later (status.details[] by "@type", authorizationInfo[] aligned
 * lists) are buffered and emitted when the item's object ends.
 */
#include "whydenied/decoder.h"
#include "whydenied/lite.h"
#include "whydenied/simd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define ARENA_SIZE (2u * WD_ENTRY_MAX_BYTES + 65536u)
#define STACK_MAX (WD_ENTRY_MAX_DEPTH + 8)
#define ITEM_MAX 64

enum node {
	N_SKIP = 1000,
	N_ROOT,
	N_RESOURCE,
	N_RES_LABELS,
	N_PROTO,
	N_STATUS,
	N_DETAILS,
	N_DETAIL,
	N_DMETA,
	N_DVIOLS,
	N_DVIOL,
	N_DLINKS,
	N_DLINK,
	N_AUTHN,
	N_AUTHZ,
	N_AUTHZ_ITEM,
	N_REQMETA,
	N_META,
	N_SECPOL,
	N_INGRESS,
	N_INGRESS_ITEM,
	N_EGRESS,
	N_EGRESS_ITEM,
	N_PVI,
	N_OPVI,
	N_VINFOS,
	N_VINFO,
	N_RESPONSE,
	N_RESP_ERROR,
	N_RESP_ERRORS,
	N_RESP_ERRORS_ITEM,
	N_MESSAGE,
	N_REST_ERROR,
};

enum action {
	A_IGNORE = 2000,
	A_STATUS_CODE,
	A_STATUS_MESSAGE,
	A_PROJECT_LABEL,
	A_PRINCIPAL_EMAIL,
	A_PRINCIPAL_SUBJECT,
	A_AUTHZ_PERM,
	A_AUTHZ_RES,
	A_AUTHZ_GRANTED,
	A_D_TYPE,
	A_D_REASON,
	A_D_DOMAIN,
	A_D_META,
	A_DV_TYPE,
	A_DV_SUBJECT,
	A_DV_DESC,
	A_DV_QMETRIC,
	A_D_LINK_URL,
	A_D_RETRY,
	A_ENVELOPE_DATA,
	A_LEGACY_REASON,
	A_LEGACY_CODE,
	A_REST_STATUS,
	A_SEC_PERIMETER,
	A_DRY_RUN,
};

enum dkind {
	DK_REASON,
	DK_DOMAIN,
	DK_META,
	DK_VTYPE,
	DK_VSUBJ,
	DK_VDESC,
	DK_VQMETRIC,
	DK_VEND,	/* a violation object ended */
	DK_LINKURL,
	DK_RETRY,
};

struct ditem {
	enum dkind kind;
	struct wd_str key;
	struct wd_str val;
};

struct frame {
	int node;
	bool is_array;
	int elem;	/* array: the slot of each element */
};

struct wd_decoder {
	char *arena;
	size_t used;
	char *b64;	/* decoded Pub/Sub payload */
	struct wd_entry *e;

	struct frame stack[STACK_MAX];
	int depth;
	int slot;		/* slot of the next value in a map */
	struct wd_str key;	/* last map key (copied), for A_D_META */
	int skip_depth;		/* >0: inside an ignored subtree */

	/* Entry-level facts gathered while parsing. */
	bool has_status;
	bool has_authn;
	bool is_entry;		/* saw a LogEntry key */
	bool rest_error;
	struct wd_str code, message, rest_status, email, subject, label_project;
	struct wd_str envelope, legacy_reason, sec_perimeter;

	/* Current status.details[] item. */
	struct ditem ditems[ITEM_MAX];
	size_t nditems;
	struct wd_str dtype;

	/* Current authorizationInfo[] item. */
	struct wd_str az_perm, az_res, az_granted;
	bool az_has_perm;
};

static const char *const code_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

int wd_status_code_from_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (wd_mem_eq(p, n, code_names[i]))
			return (int)i;
	return -1;
}

const char *wd_status_name(int code)
{
	if (code < 0 || code >= (int)(sizeof(code_names) / sizeof(code_names[0])))
		return NULL;
	return code_names[code];
}

struct wd_decoder *wd_decoder_new(void)
{
	struct wd_decoder *d = wd_xcalloc(1, sizeof(*d));

	d->arena = wd_xmalloc(ARENA_SIZE);
	d->b64 = wd_xmalloc(WD_ENTRY_MAX_BYTES);
	return d;
}

void wd_decoder_free(struct wd_decoder *d)
{
	if (d == NULL)
		return;
	free(d->arena);
	free(d->b64);
	free(d);
}

void wd_decoder_clear(struct wd_decoder *d)
{
	d->used = 0;
}

const char *wd_decoder_keep(struct wd_decoder *d, const char *p, size_t n)
{
	char *q;

	if (n + 1 > ARENA_SIZE - d->used)
		return NULL;
	q = d->arena + d->used;
	memcpy(q, p, n);
	q[n] = '\0';
	d->used += n + 1;
	return q;
}

static struct wd_str keep(struct wd_decoder *d, const unsigned char *p,
			  size_t n)
{
	struct wd_str s;

	s.ptr = wd_decoder_keep(d, (const char *)p, n);
	s.len = s.ptr ? n : 0;
	if (s.ptr == NULL)
		d->e->truncated++;
	return s;
}

static void add(struct wd_decoder *d, enum wd_field f, struct wd_str s)
{
	if (s.ptr)
		wd_entry_add(d->e, f, s.ptr, s.len);
}

#define K(lit) wd_mem_eq(k, n, lit)

/* The slot for key k of an object at node. */
static int lookup(int node, const char *k, size_t n)
{
	switch (node) {
	case N_ROOT:
		if (K("timestamp")) return WD_F_TIMESTAMP;
		if (K("receiveTimestamp")) return WD_F_RECEIVE_TIMESTAMP;
		if (K("insertId")) return WD_F_INSERT_ID;
		if (K("logName")) return WD_F_LOG_NAME;
		if (K("severity")) return WD_F_SEVERITY;
		if (K("resource")) return N_RESOURCE;
		if (K("protoPayload")) return N_PROTO;
		if (K("message")) return N_MESSAGE;
		if (K("data")) return A_ENVELOPE_DATA;
		if (K("error")) return N_REST_ERROR;
		return N_SKIP;
	case N_RESOURCE:
		if (K("type")) return WD_F_RESOURCE_TYPE;
		if (K("labels")) return N_RES_LABELS;
		return N_SKIP;
	case N_RES_LABELS:
		if (K("project_id")) return A_PROJECT_LABEL;
		return N_SKIP;
	case N_PROTO:
		if (K("serviceName")) return WD_F_SERVICE;
		if (K("methodName")) return WD_F_METHOD;
		if (K("resourceName")) return WD_F_RESOURCE_NAME;
		if (K("status")) return N_STATUS;
		if (K("authenticationInfo")) return N_AUTHN;
		if (K("authorizationInfo")) return N_AUTHZ;
		if (K("requestMetadata")) return N_REQMETA;
		if (K("metadata")) return N_META;
		if (K("policyViolationInfo")) return N_PVI;
		if (K("response")) return N_RESPONSE;
		return N_SKIP;
	case N_STATUS:
	case N_REST_ERROR:
		if (K("code")) return A_STATUS_CODE;
		if (K("message")) return A_STATUS_MESSAGE;
		if (K("details")) return N_DETAILS;
		if (node == N_REST_ERROR && K("status")) return A_REST_STATUS;
		if (node == N_REST_ERROR && K("errors")) return N_RESP_ERRORS;
		return N_SKIP;
	case N_DETAIL:
		if (K("@type")) return A_D_TYPE;
		if (K("reason")) return A_D_REASON;
		if (K("domain")) return A_D_DOMAIN;
		if (K("metadata")) return N_DMETA;
		if (K("violations")) return N_DVIOLS;
		if (K("links")) return N_DLINKS;
		if (K("retryDelay")) return A_D_RETRY;
		return N_SKIP;
	case N_DMETA:
		return A_D_META;
	case N_DVIOL:
		if (K("type")) return A_DV_TYPE;
		if (K("subject")) return A_DV_SUBJECT;
		if (K("description")) return A_DV_DESC;
		if (K("quotaMetric")) return A_DV_QMETRIC;
		return N_SKIP;
	case N_DLINK:
		if (K("url")) return A_D_LINK_URL;
		return N_SKIP;
	case N_AUTHN:
		if (K("principalEmail")) return A_PRINCIPAL_EMAIL;
		if (K("principalSubject")) return A_PRINCIPAL_SUBJECT;
		return N_SKIP;
	case N_AUTHZ_ITEM:
		if (K("permission")) return A_AUTHZ_PERM;
		if (K("resource")) return A_AUTHZ_RES;
		if (K("granted")) return A_AUTHZ_GRANTED;
		return N_SKIP;
	case N_REQMETA:
		if (K("callerIp")) return WD_F_CALLER_IP;
		if (K("callerSuppliedUserAgent")) return WD_F_USER_AGENT;
		return N_SKIP;
	case N_META:
		if (K("@type")) return WD_F_METADATA_TYPE;
		if (K("violationReason")) return WD_F_VIOLATION_REASON;
		if (K("vpcServiceControlsUniqueId")) return WD_F_VPCSC_ID;
		if (K("dryRun")) return A_DRY_RUN;
		if (K("securityPolicyInfo")) return N_SECPOL;
		if (K("ingressViolations")) return N_INGRESS;
		if (K("egressViolations")) return N_EGRESS;
		return N_SKIP;
	case N_SECPOL:
		if (K("servicePerimeterName")) return A_SEC_PERIMETER;
		return N_SKIP;
	case N_INGRESS_ITEM:
		if (K("targetResource")) return WD_F_INGRESS_TARGET;
		if (K("source")) return WD_F_INGRESS_SOURCE;
		if (K("servicePerimeter")) return WD_F_INGRESS_PERIMETER;
		return N_SKIP;
	case N_EGRESS_ITEM:
		if (K("targetResource")) return WD_F_EGRESS_TARGET;
		if (K("source")) return WD_F_EGRESS_SOURCE;
		if (K("servicePerimeter")) return WD_F_EGRESS_PERIMETER;
		return N_SKIP;
	case N_PVI:
		if (K("orgPolicyViolationInfo")) return N_OPVI;
		return N_SKIP;
	case N_OPVI:
		if (K("violationInfo")) return N_VINFOS;
		return N_SKIP;
	case N_VINFO:
		if (K("constraint")) return WD_F_ORG_CONSTRAINT;
		if (K("errorMessage")) return WD_F_ORG_ERROR_MESSAGE;
		if (K("checkedValue")) return WD_F_ORG_CHECKED_VALUE;
		if (K("policyType")) return WD_F_ORG_POLICY_TYPE;
		return N_SKIP;
	case N_RESPONSE:
		if (K("error")) return N_RESP_ERROR;
		return N_SKIP;
	case N_RESP_ERROR:
		if (K("errors")) return N_RESP_ERRORS;
		if (K("code")) return A_LEGACY_CODE;
		return N_SKIP;
	case N_RESP_ERRORS_ITEM:
		if (K("reason")) return A_LEGACY_REASON;
		return N_SKIP;
	case N_MESSAGE:
		if (K("data")) return A_ENVELOPE_DATA;
		return N_SKIP;
	default:
		return N_SKIP;
	}
}

#undef K

/* The slot of each element of an array at node. */
static int element(int node)
{
	switch (node) {
	case N_DETAILS: return N_DETAIL;
	case N_DVIOLS: return N_DVIOL;
	case N_DLINKS: return N_DLINK;
	case N_AUTHZ: return N_AUTHZ_ITEM;
	case N_INGRESS: return N_INGRESS_ITEM;
	case N_EGRESS: return N_EGRESS_ITEM;
	case N_VINFOS: return N_VINFO;
	case N_RESP_ERRORS: return N_RESP_ERRORS_ITEM;
	default: return N_SKIP;
	}
}

static bool is_array_node(int node)
{
	return element(node) != N_SKIP;
}

static struct frame *top(struct wd_decoder *d)
{
	return &d->stack[d->depth - 1];
}

/* The slot of the value now starting. */
static int cur_slot(struct wd_decoder *d)
{
	struct frame *fr;

	if (d->depth == 0)
		return N_ROOT;
	fr = top(d);
	return fr->is_array ? fr->elem : d->slot;
}

static void ditem_add(struct wd_decoder *d, enum dkind k, struct wd_str key,
		      struct wd_str v)
{
	if (d->nditems >= ITEM_MAX) {
		d->e->truncated++;
		return;
	}
	d->ditems[d->nditems].kind = k;
	d->ditems[d->nditems].key = key;
	d->ditems[d->nditems].val = v;
	d->nditems++;
}

static bool ends_with(struct wd_str s, const char *lit)
{
	size_t l = strlen(lit);

	return s.ptr && s.len >= l && memcmp(s.ptr + s.len - l, lit, l) == 0;
}

/* Emits a finished status.details[] item by its @type. */
static void detail_done(struct wd_decoder *d)
{
	bool quota = ends_with(d->dtype, "QuotaFailure");
	size_t i;

	add(d, WD_F_DETAIL_TYPE, d->dtype);
	struct wd_str none = { "", 0 };
	struct wd_str vt = { NULL, 0 }, vs = { NULL, 0 }, vd = { NULL, 0 };

	for (i = 0; i < d->nditems; i++) {
		struct ditem *it = &d->ditems[i];

		switch (it->kind) {
		case DK_VTYPE: vt = it->val; continue;
		case DK_VSUBJ: vs = it->val; continue;
		case DK_VDESC: vd = it->val; continue;
		case DK_VEND:
			/* One violation: type, subject and description stay
			 * aligned ("" for a missing one), so the k-th type
			 * goes with the k-th description. */
			if (quota) {
				add(d, WD_F_QUOTA_SUBJECT, vs.ptr ? vs : none);
				add(d, WD_F_QUOTA_DESCRIPTION,
				    vd.ptr ? vd : none);
			} else if (vt.ptr || vs.ptr || vd.ptr) {
				add(d, WD_F_VIOLATION_TYPE, vt.ptr ? vt : none);
				add(d, WD_F_VIOLATION_SUBJECT,
				    vs.ptr ? vs : none);
				add(d, WD_F_VIOLATION_DESCRIPTION,
				    vd.ptr ? vd : none);
			}
			vt.ptr = vs.ptr = vd.ptr = NULL;
			continue;
		default:
			break;
		}
		switch (it->kind) {
		case DK_REASON: add(d, WD_F_ERROR_REASON, it->val); break;
		case DK_DOMAIN: add(d, WD_F_ERROR_DOMAIN, it->val); break;
		case DK_META:
			wd_entry_add_keyed(d->e, WD_F_ERROR_METADATA,
					   it->key.ptr, it->key.len,
					   it->val.ptr, it->val.len);
			break;
		case DK_VQMETRIC: add(d, WD_F_QUOTA_METRIC, it->val); break;
		case DK_LINKURL: add(d, WD_F_HELP_URL, it->val); break;
		case DK_RETRY: add(d, WD_F_RETRY_DELAY, it->val); break;
		default: break;
		}
	}
	d->nditems = 0;
	d->dtype.ptr = NULL;
	d->dtype.len = 0;
}

static void authz_done(struct wd_decoder *d)
{
	static const char absent[] = "absent";

	if (!d->az_has_perm && !d->az_res.ptr && !d->az_granted.ptr)
		return;
	add(d, WD_F_AUTHZ_PERMISSION, d->az_perm.ptr ? d->az_perm :
	    (struct wd_str){ "", 0 });
	add(d, WD_F_AUTHZ_RESOURCE, d->az_res.ptr ? d->az_res :
	    (struct wd_str){ "", 0 });
	add(d, WD_F_AUTHZ_GRANTED, d->az_granted.ptr ? d->az_granted :
	    (struct wd_str){ absent, sizeof(absent) - 1 });
}

/* A scalar value (string, number text, "true"/"false") for slot. */
static void scalar(struct wd_decoder *d, int slot, const unsigned char *p,
		   size_t n, bool is_string)
{
	struct wd_str v;

	if (slot >= N_SKIP && slot < A_IGNORE)
		return;		/* a scalar where a container was expected */
	if (slot == A_IGNORE)
		return;
	v = keep(d, p, n);
	if (v.ptr == NULL)
		return;
	if (slot >= 0 && slot < WD_F__COUNT) {
		add(d, (enum wd_field)slot, v);
		if (slot == WD_F_LOG_NAME || slot == WD_F_INSERT_ID ||
		    slot == WD_F_TIMESTAMP)
			d->is_entry = true;
		return;
	}
	switch (slot) {
	case A_STATUS_CODE: d->code = v; break;
	case A_STATUS_MESSAGE: d->message = v; break;
	case A_REST_STATUS: d->rest_status = v; break;
	case A_PROJECT_LABEL: d->label_project = v; break;
	case A_PRINCIPAL_EMAIL: d->email = v; break;
	case A_PRINCIPAL_SUBJECT: d->subject = v; break;
	case A_AUTHZ_PERM: d->az_perm = v; d->az_has_perm = true; break;
	case A_AUTHZ_RES: d->az_res = v; break;
	case A_AUTHZ_GRANTED: d->az_granted = v; break;
	case A_D_TYPE:
		if (is_string)
			d->dtype = v;
		break;
	case A_D_REASON: ditem_add(d, DK_REASON, v, v); break;
	case A_D_DOMAIN: ditem_add(d, DK_DOMAIN, v, v); break;
	case A_D_META: ditem_add(d, DK_META, d->key, v); break;
	case A_DV_TYPE: ditem_add(d, DK_VTYPE, v, v); break;
	case A_DV_SUBJECT: ditem_add(d, DK_VSUBJ, v, v); break;
	case A_DV_DESC: ditem_add(d, DK_VDESC, v, v); break;
	case A_DV_QMETRIC: ditem_add(d, DK_VQMETRIC, v, v); break;
	case A_D_LINK_URL: ditem_add(d, DK_LINKURL, v, v); break;
	case A_D_RETRY: ditem_add(d, DK_RETRY, v, v); break;
	case A_ENVELOPE_DATA:
		if (is_string)
			d->envelope = v;
		break;
	case A_LEGACY_REASON:
		if (!d->legacy_reason.ptr)
			d->legacy_reason = v;
		break;
	case A_LEGACY_CODE: add(d, WD_F_LEGACY_CODE, v); break;
	case A_SEC_PERIMETER: d->sec_perimeter = v; break;
	case A_DRY_RUN: add(d, WD_F_DRY_RUN, v); break;
	default: break;
	}
}

static int value(struct wd_decoder *d, const unsigned char *p, size_t n,
		 bool is_string)
{
	if (d->skip_depth == 0)
		scalar(d, cur_slot(d), p, n, is_string);
	return 1;
}

static int cb_null(void *ctx)
{
	(void)ctx;
	return 1;
}

static int cb_bool(void *ctx, int b)
{
	return value(ctx, (const unsigned char *)(b ? "true" : "false"),
		     b ? 4 : 5, false);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	return value(ctx, (const unsigned char *)s, n, false);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	return value(ctx, s, n, true);
}

static int open_container(struct wd_decoder *d, bool is_array)
{
	int slot;
	struct frame *fr;

	if (d->skip_depth > 0 || d->depth >= STACK_MAX) {
		d->skip_depth++;
		return 1;
	}
	slot = cur_slot(d);
	/* "data" at the root holding an object: a LogEntry nested in a
	 * Splunk-style or Eventarc wrapper. */
	if (slot == A_ENVELOPE_DATA && !is_array && d->depth == 1)
		slot = N_ROOT;
	if (slot < N_SKIP || slot >= A_IGNORE || slot == N_SKIP ||
	    is_array != is_array_node(slot)) {
		d->skip_depth = 1;
		return 1;
	}
	if (slot == N_STATUS)
		d->has_status = true;
	if (slot == N_AUTHN)
		d->has_authn = true;
	if (slot == N_PROTO)
		d->is_entry = true;
	if (slot == N_REST_ERROR && d->depth == 1)
		d->rest_error = true;
	if (slot == N_DETAIL) {
		d->nditems = 0;
		d->dtype.ptr = NULL;
		d->dtype.len = 0;
	}
	if (slot == N_AUTHZ_ITEM) {
		d->az_perm.ptr = d->az_res.ptr = d->az_granted.ptr = NULL;
		d->az_has_perm = false;
	}
	fr = &d->stack[d->depth++];
	fr->node = slot;
	fr->is_array = is_array;
	fr->elem = is_array ? element(slot) : N_SKIP;
	d->slot = N_SKIP;
	return 1;
}

static int close_container(struct wd_decoder *d)
{
	struct frame *fr;

	if (d->skip_depth > 0) {
		d->skip_depth--;
		return 1;
	}
	if (d->depth == 0)
		return 1;
	fr = top(d);
	if (fr->node == N_DVIOL)
		ditem_add(d, DK_VEND, (struct wd_str){ NULL, 0 },
			  (struct wd_str){ NULL, 0 });
	if (fr->node == N_DETAIL)
		detail_done(d);
	else if (fr->node == N_AUTHZ_ITEM)
		authz_done(d);
	d->depth--;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, false);
}

static int cb_end_map(void *ctx)
{
	return close_container(ctx);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, true);
}

static int cb_end_array(void *ctx)
{
	return close_container(ctx);
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct wd_decoder *d = ctx;

	if (d->skip_depth > 0)
		return 1;
	d->slot = lookup(top(d)->node, (const char *)k, n);
	if (d->slot == A_D_META)
		d->key = keep(d, k, n);
	return 1;
}

static const yajl_callbacks callbacks = {
	cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

static void reset_state(struct wd_decoder *d, struct wd_entry *e)
{
	struct wd_str none = { NULL, 0 };

	d->e = e;
	d->depth = 0;
	d->slot = N_SKIP;
	d->skip_depth = 0;
	d->has_status = d->has_authn = d->is_entry = d->rest_error = false;
	d->code = d->message = d->rest_status = d->email = d->subject = none;
	d->label_project = d->envelope = d->legacy_reason = none;
	d->sec_perimeter = none;
	d->nditems = 0;
	wd_entry_reset(e);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * past U+10FFFF. yajl checks only the byte structure. Returns the offset
 * of the first bad byte, or n. */
static size_t utf8_check(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t k;
		unsigned lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			if (c == 0xE0)
				lo = 0xA0;	/* overlong */
			if (c == 0xED)
				hi = 0x9F;	/* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			if (c == 0xF0)
				lo = 0x90;
			if (c == 0xF4)
				hi = 0x8F;	/* > U+10FFFF */
		} else {
			return i;
		}
		if (i + k >= n)
			return i;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return i;
		for (size_t j = 2; j <= k; j++)
			if (p[i + j] < 0x80 || p[i + j] > 0xBF)
				return i;
		i += k + 1;
	}
	return n;
}

static int parse(struct wd_decoder *d, const char *p, size_t n,
		 enum wd_skip *reason, struct wd_err *err)
{
	yajl_handle h;
	yajl_status st;
	int ret = 0;

	if (memchr(p, '\0', n) != NULL) {
		*reason = WD_SKIP_ENCODING;
		return wd_err_set(err, WD_EFORMAT, "NUL byte in entry");
	}
	if (wd_has_high_or_nul(p, n)) {
		size_t bad = utf8_check((const unsigned char *)p, n);

		if (bad < n) {
			*reason = WD_SKIP_ENCODING;
			return wd_err_set(err, WD_EFORMAT, "invalid UTF-8 at "
					  "byte %zu of the entry", bad);
		}
	}
	h = yajl_alloc(&callbacks, NULL, d);
	st = yajl_parse(h, (const unsigned char *)p, n);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
		const char *m = msg ? (const char *)msg : "parse error";
		size_t ml = strlen(m);

		while (ml > 0 && (m[ml - 1] == '\n' || m[ml - 1] == ' ' ||
				  m[ml - 1] == '.'))
			ml--;
		*reason = strstr(m, "UTF8") ? WD_SKIP_ENCODING : WD_SKIP_SYNTAX;
		ret = wd_err_set(err, WD_EFORMAT, "invalid JSON: %.*s",
				 (int)ml, m);
		if (msg)
			yajl_free_error(h, msg);
	}
	yajl_free(h);
	return ret;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;
	if (c == '/' || c == '_') return 63;
	return -1;
}

/* Decodes standard or URL-safe base64 into out; returns the length or -1. */
static long b64decode(const char *p, size_t n, char *out, size_t cap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int v;

		if (c == '=' || c == '\n' || c == '\r')
			continue;
		v = b64val(c);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	return (long)o;
}

static struct wd_str from_log_name(struct wd_str ln, const char *prefix)
{
	struct wd_str s = { NULL, 0 };
	size_t pl = strlen(prefix), i;

	if (!ln.ptr || ln.len <= pl || memcmp(ln.ptr, prefix, pl) != 0)
		return s;
	for (i = pl; i < ln.len && ln.ptr[i] != '/'; i++)
		;
	s.ptr = ln.ptr + pl;
	s.len = i - pl;
	return s;
}

static long code_value(struct wd_str c)
{
	char tmp[40];
	char *end;
	double v;

	if (c.len == 0 || c.len >= sizeof(tmp))
		return c.len == 0 ? 0 : 1;
	memcpy(tmp, c.ptr, c.len);
	tmp[c.len] = '\0';
	/* A JSON number (0, -0, 0.0, 7); else a canonical name. */
	v = strtod(tmp, &end);
	if (*end != '\0' || end == tmp) {
		int named = wd_status_code_from_name(c.ptr, c.len);

		return named >= 0 ? named : 1;
	}
	if (v != v || v > 1e9 || v < -1e9)
		return 1;
	if (v == 0.0)
		return 0;
	return (long)v != 0 ? (long)v : 1;
}

/* HTTP status of a REST error body to its canonical code. */
static int http_to_code(long http)
{
	switch (http) {
	case 400: return 3;
	case 401: return 16;
	case 403: return 7;
	case 404: return 5;
	case 409: return 10;
	case 412: return 9;
	case 429: return 8;
	case 499: return 1;
	case 500: return 13;
	case 501: return 12;
	case 503: return 14;
	case 504: return 4;
	default: return http >= 200 && http < 300 ? 0 : 2;
	}
}

static void add_unique(struct wd_entry *e, enum wd_field f, const char *p,
		       size_t n)
{
	size_t pos = 0;
	struct wd_str s;

	while (wd_entry_next(e, f, NULL, 0, &pos, &s))
		if (s.len == n && memcmp(s.ptr, p, n) == 0)
			return;
	wd_entry_add(e, f, p, n);
}

static void derive(struct wd_decoder *d)
{
	struct wd_entry *e = d->e;
	struct wd_str ln = wd_entry_get(e, WD_F_LOG_NAME), s;
	const char *kind;
	long code = 0;
	bool has_code = d->code.ptr != NULL;
	size_t pos, i, n;

	kind = wd_log_kind(ln);
	if (kind)
		wd_entry_add(e, WD_F_LOG, kind, strlen(kind));
	if (d->label_project.ptr && d->label_project.len) {
		add(d, WD_F_PROJECT, d->label_project);
	} else {
		s = from_log_name(ln, "projects/");
		if (s.ptr && s.len)
			add(d, WD_F_PROJECT, s);
	}
	if (d->email.ptr && d->email.len)
		add(d, WD_F_PRINCIPAL, d->email);
	else if (d->subject.ptr && d->subject.len)
		add(d, WD_F_PRINCIPAL, d->subject);
	if (d->subject.ptr && d->subject.len)
		add(d, WD_F_PRINCIPAL_SUBJECT, d->subject);
	if (d->has_authn && !(d->email.ptr && d->email.len) &&
	    !(d->subject.ptr && d->subject.len))
		wd_entry_add(e, WD_F_ANONYMOUS, "true", 4);

	if (d->rest_error && has_code) {
		/* A REST body carries the HTTP status in "code"; the
		 * canonical code comes from "status" when present. */
		int named = d->rest_status.ptr ?
			wd_status_code_from_name(d->rest_status.ptr,
						 d->rest_status.len) : -1;
		long http = code_value(d->code);
		char tmp[24];
		int tl;

		if (http >= 100) {
			tl = snprintf(tmp, sizeof(tmp), "%ld", http);
			s.ptr = wd_decoder_keep(d, tmp, (size_t)tl);
			if (s.ptr)
				wd_entry_add(e, WD_F_LEGACY_CODE, s.ptr,
					     (size_t)tl);
		}
		code = named >= 0 ? named :
		       (http >= 100 ? http_to_code(http) : http);
		tl = snprintf(tmp, sizeof(tmp), "%ld", code);
		d->code.ptr = wd_decoder_keep(d, tmp, (size_t)tl);
		d->code.len = d->code.ptr ? (size_t)tl : 0;
		has_code = d->code.ptr != NULL;
		d->has_status = true;
	}
	if (has_code) {
		code = code_value(d->code);
		add(d, WD_F_STATUS_CODE, d->code);
	}
	if (d->message.ptr && d->message.len)
		add(d, WD_F_STATUS_MESSAGE, d->message);
	if (d->legacy_reason.ptr)
		add(d, WD_F_LEGACY_REASON, d->legacy_reason);
	if (d->sec_perimeter.ptr && d->sec_perimeter.len) {
		add(d, WD_F_PERIMETER, d->sec_perimeter);
	} else {
		s = wd_entry_get(e, WD_F_INGRESS_PERIMETER);
		if (!s.ptr)
			s = wd_entry_get(e, WD_F_EGRESS_PERIMETER);
		if (s.ptr)
			add(d, WD_F_PERIMETER, s);
	}

	/* denied_permission: authz entries not granted, then ErrorInfo.
	 * permission, resource and granted are emitted together, so an
	 * entry's granted value is two places after its permission. */
	n = e->nvals;
	for (i = 0; i < n; i++) {
		struct wd_val *pv = &e->vals[i], *gv;

		if (pv->field != WD_F_AUTHZ_PERMISSION || pv->len == 0)
			continue;
		gv = i + 2 < n ? &e->vals[i + 2] : NULL;
		if (gv && gv->field == WD_F_AUTHZ_GRANTED &&
		    wd_mem_eq(gv->ptr, gv->len, "true"))
			continue;
		add_unique(e, WD_F_DENIED_PERMISSION, pv->ptr, pv->len);
	}
	pos = 0;
	while (wd_entry_next(e, WD_F_ERROR_METADATA, "permission", 10, &pos,
			     &s))
		if (s.len > 0)
			add_unique(e, WD_F_DENIED_PERMISSION, s.ptr, s.len);

	e->failure = (has_code && code != 0) ||
		     (!has_code && d->has_status && d->message.ptr &&
		      d->message.len > 0 && !wd_str_eq(d->message, "OK"));
	if (e->failure)
		wd_entry_add(e, WD_F_FAILURE, "true", 4);
	else
		wd_entry_add(e, WD_F_FAILURE, "false", 5);
}

int wd_decoder_decode(struct wd_decoder *d, const char *p, size_t n,
		      struct wd_entry *e, enum wd_skip *reason,
		      struct wd_err *err)
{
	int ret;

	d->used = 0;
	reset_state(d, e);
	ret = parse(d, p, n, reason, err);
	if (ret < 0)
		return ret;
	if (!d->is_entry && !d->rest_error && d->envelope.ptr) {
		/* A Pub/Sub push envelope: the LogEntry is base64. */
		long len = b64decode(d->envelope.ptr, d->envelope.len, d->b64,
				     WD_ENTRY_MAX_BYTES);

		if (len < 0) {
			*reason = WD_SKIP_SYNTAX;
			return wd_err_set(err, WD_EFORMAT,
					  "Pub/Sub message data is not base64");
		}
		d->used = 0;
		reset_state(d, e);
		ret = parse(d, d->b64, (size_t)len, reason, err);
		if (ret < 0)
			return ret;
	}
	if (!d->is_entry && !d->rest_error) {
		*reason = WD_SKIP_NOT_ENTRY;
		return wd_err_set(err, WD_EFORMAT,
				  "JSON object is not a LogEntry");
	}
	derive(d);
	return 0;
}
