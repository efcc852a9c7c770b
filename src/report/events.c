/* events.c - one CSV row per failure (see whydenied/events.h). */
#include "whydenied/events.h"
#include "whydenied/report.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

void wd_events_begin(struct wd_csv *c)
{
	wd_csv_header(c, WD_EVENTS_COLUMNS);
}

static void cell(struct wd_csv *c, struct wd_str s, bool redact)
{
	if (redact && s.ptr && s.len) {
		char *tmp = wd_xstrndup(s.ptr, s.len);
		char *r = wd_redact(tmp);

		wd_csv_cells(c, r);
		free(r);
		free(tmp);
		return;
	}
	wd_csv_cell(c, s.ptr, s.len);
}

static struct wd_str var(const struct wd_verdict *v, const char *name)
{
	struct wd_str none = { NULL, 0 };

	return v ? wd_vars_get(&v->vars, name) : none;
}

static struct wd_str lit(const char *s)
{
	struct wd_str v = { s, s ? strlen(s) : 0 };

	return v;
}

void wd_events_row(struct wd_csv *c, const struct wd_entry *e,
		   const struct wd_verdict *v, bool redact)
{
	struct wd_str reason = wd_entry_get(e, WD_F_ERROR_REASON);
	struct wd_str perm = var(v, "permission");
	struct wd_str res = var(v, "resource");

	if (!reason.ptr)
		reason = wd_entry_get(e, WD_F_VIOLATION_REASON);
	if (!reason.ptr)
		reason = wd_entry_get(e, WD_F_LEGACY_REASON);
	if (!perm.ptr)
		perm = wd_entry_get(e, WD_F_DENIED_PERMISSION);
	if (!res.ptr)
		res = wd_entry_get(e, WD_F_RESOURCE_NAME);
	cell(c, wd_entry_get(e, WD_F_TIMESTAMP), false);
	cell(c, wd_entry_get(e, WD_F_INSERT_ID), false);
	cell(c, wd_entry_get(e, WD_F_SOURCE), false);
	cell(c, wd_entry_get(e, WD_F_LOG), false);
	cell(c, lit(v ? wd_category_name(v->category) : NULL), false);
	cell(c, lit(v ? (v->rule ? wd_rule_id(v->rule) : "unknown") : NULL),
	     false);
	cell(c, lit(v ? wd_level_name(v->level) : NULL), false);
	cell(c, wd_entry_get(e, WD_F_SEVERITY), false);
	cell(c, v ? var(v, "principal") : wd_entry_get(e, WD_F_PRINCIPAL),
	     redact);
	cell(c, perm, false);
	cell(c, res, redact);
	cell(c, wd_entry_get(e, WD_F_SERVICE), false);
	cell(c, wd_entry_get(e, WD_F_METHOD), false);
	cell(c, v ? var(v, "project") : wd_entry_get(e, WD_F_PROJECT), redact);
	cell(c, wd_entry_get(e, WD_F_STATUS_CODE), false);
	cell(c, reason, false);
	cell(c, var(v, "constraint"), false);
	cell(c, v ? var(v, "vpcsc_id") : wd_entry_get(e, WD_F_VPCSC_ID),
	     false);
	cell(c, wd_entry_get(e, WD_F_STATUS_MESSAGE), redact);
	wd_csv_end_row(c);
}

static void jstr(yajl_gen g, const char *k, const char *p, size_t n,
		 bool redact)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	if (p == NULL) {
		yajl_gen_null(g);
	} else if (redact) {
		char *tmp = wd_xstrndup(p, n);
		char *r = wd_redact(tmp);

		yajl_gen_string(g, (const unsigned char *)r, strlen(r));
		free(r);
		free(tmp);
	} else {
		yajl_gen_string(g, (const unsigned char *)p, n);
	}
}

void wd_events_json(FILE *fp, const struct wd_entry *e,
		    const struct wd_verdict *v, bool redact)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len, i;
	struct wd_str s;

	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	yajl_gen_map_open(g);
	s = wd_entry_get(e, WD_F_SOURCE);
	jstr(g, "source", s.ptr, s.len, false);
	s = wd_entry_get(e, WD_F_INSERT_ID);
	jstr(g, "insert_id", s.ptr, s.len, false);
	s = wd_entry_get(e, WD_F_TIMESTAMP);
	jstr(g, "timestamp", s.ptr, s.len, false);
	jstr(g, "category", wd_category_name(v->category),
	     strlen(wd_category_name(v->category)), false);
	jstr(g, "rule", v->rule ? wd_rule_id(v->rule) : "unknown",
	     strlen(v->rule ? wd_rule_id(v->rule) : "unknown"), false);
	jstr(g, "level", wd_level_name(v->level),
	     strlen(wd_level_name(v->level)), false);
	yajl_gen_string(g, (const unsigned char *)"vars", 4);
	yajl_gen_map_open(g);
	for (i = 0; i < v->vars.n; i++)
		jstr(g, v->vars.v[i].name, v->vars.v[i].val.ptr,
		     v->vars.v[i].val.len, redact);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		fwrite(buf, 1, len, fp);
		fputc('\n', fp);
	}
	yajl_gen_free(g);
}
