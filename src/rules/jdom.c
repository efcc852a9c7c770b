/* jdom.c - JSON tree with positions for rule files (see whydenied/jdom.h). */
#include "whydenied/jdom.h"
#include "whydenied/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define JDOM_MAX_DEPTH 64
#define JDOM_MAX_BYTES (8u << 20)

struct builder {
	yajl_handle h;
	const char *text;
	struct wd_jnode *root;
	struct wd_jnode *stack[JDOM_MAX_DEPTH + 1];
	int depth;
	char *pending_key;
	bool too_deep;
	/* Where position() last stopped: offsets only grow, so the line and
	 * column are advanced, not recounted from the start. */
	size_t pos_off;
	unsigned pos_line, pos_col;
};

static void position(struct builder *b, struct wd_jnode *j)
{
	size_t off = yajl_get_bytes_consumed(b->h), i;

	for (i = b->pos_off; i < off; i++) {
		if (b->text[i] == '\n') {
			b->pos_line++;
			b->pos_col = 1;
		} else {
			b->pos_col++;
		}
	}
	if (off > b->pos_off)
		b->pos_off = off;
	j->line = b->pos_line;
	j->col = b->pos_col > 1 ? b->pos_col - 1 : 1;
}

static int attach(struct builder *b, struct wd_jnode *j)
{
	struct wd_jnode *parent;

	position(b, j);
	if (b->depth == 0) {
		if (b->root) {
			wd_jdom_free(j);
			return 0;
		}
		b->root = j;
		return 1;
	}
	parent = b->stack[b->depth - 1];
	if ((parent->n & (parent->n - 1)) == 0) {
		/* Capacity doubles at every power of two. */
		size_t cap = parent->n ? 2 * parent->n : 1;

		parent->kids = wd_xrealloc(parent->kids,
					   cap * sizeof(*parent->kids));
		if (parent->type == WD_J_OBJ)
			parent->keys = wd_xrealloc(parent->keys, cap *
						   sizeof(*parent->keys));
	}
	if (parent->type == WD_J_OBJ) {
		parent->keys[parent->n] = b->pending_key ? b->pending_key :
					  wd_xstrdup("");
		b->pending_key = NULL;
	}
	parent->kids[parent->n++] = j;
	return 1;
}

static struct wd_jnode *node(enum wd_jtype t)
{
	struct wd_jnode *j = wd_xcalloc(1, sizeof(*j));

	j->type = t;
	return j;
}

static int cb_null(void *ctx)
{
	return attach(ctx, node(WD_J_NULL));
}

static int cb_bool(void *ctx, int v)
{
	struct wd_jnode *j = node(WD_J_BOOL);

	j->b = v != 0;
	return attach(ctx, j);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	struct wd_jnode *j = node(WD_J_NUM);

	j->str = wd_xstrndup(s, n);
	j->len = n;
	return attach(ctx, j);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	struct wd_jnode *j = node(WD_J_STR);

	j->str = wd_xstrndup((const char *)s, n);
	j->len = n;
	return attach(ctx, j);
}

static int open_c(struct builder *b, enum wd_jtype t)
{
	struct wd_jnode *j = node(t);

	if (b->depth >= JDOM_MAX_DEPTH) {
		b->too_deep = true;
		wd_jdom_free(j);
		return 0;
	}
	if (!attach(b, j))
		return 0;
	b->stack[b->depth++] = j;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_c(ctx, WD_J_OBJ);
}

static int cb_start_array(void *ctx)
{
	return open_c(ctx, WD_J_ARR);
}

static int cb_end(void *ctx)
{
	struct builder *b = ctx;

	/* A container keeps the position of its opening bracket. */
	if (b->depth > 0)
		b->depth--;
	return 1;
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct builder *b = ctx;

	free(b->pending_key);
	b->pending_key = wd_xstrndup((const char *)k, n);
	return 1;
}

static const yajl_callbacks cbs = {
	cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

int wd_jdom_parse(struct wd_jnode **out, const char *p, size_t n,
		  struct wd_err *err)
{
	struct builder b;
	yajl_status st;
	int ret = 0;

	if (n > JDOM_MAX_BYTES)
		return wd_err_set(err, WD_ELIMIT, "1:1: file larger than 8 MiB");
	memset(&b, 0, sizeof(b));
	b.text = p;
	b.pos_line = 1;
	b.pos_col = 1;
	b.h = yajl_alloc(&cbs, NULL, &b);
	yajl_config(b.h, yajl_allow_comments, 1);
	st = yajl_parse(b.h, (const unsigned char *)p, n);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(b.h);
	if (st != yajl_status_ok || b.root == NULL) {
		size_t off = yajl_get_bytes_consumed(b.h), i;
		unsigned line = 1, col = 1;
		unsigned char *m = yajl_get_error(b.h, 0, NULL, 0);
		char msg[256];
		size_t ml;

		for (i = 0; i < off && i < n; i++) {
			if (p[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		snprintf(msg, sizeof(msg), "%s",
			 b.too_deep ? "nesting deeper than 64 levels" :
			 m ? (const char *)m : "empty document");
		ml = strlen(msg);
		while (ml > 0 && (msg[ml - 1] == '\n' || msg[ml - 1] == '.' ||
				  msg[ml - 1] == ' '))
			msg[--ml] = '\0';
		if (m)
			yajl_free_error(b.h, m);
		ret = wd_err_set(err, WD_EFORMAT, "%u:%u: %s", line, col, msg);
		wd_jdom_free(b.root);
		b.root = NULL;
	}
	free(b.pending_key);
	yajl_free(b.h);
	if (ret == 0)
		*out = b.root;
	return ret;
}

void wd_jdom_free(struct wd_jnode *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		wd_jdom_free(j->kids[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->kids);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct wd_jnode *wd_jdom_get(const struct wd_jnode *obj, const char *key)
{
	size_t i;

	if (obj == NULL || obj->type != WD_J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->kids[i];
	return NULL;
}

static void gen(yajl_gen g, const struct wd_jnode *j)
{
	size_t i;

	switch (j->type) {
	case WD_J_NULL: yajl_gen_null(g); break;
	case WD_J_BOOL: yajl_gen_bool(g, j->b); break;
	case WD_J_NUM: yajl_gen_number(g, j->str, j->len); break;
	case WD_J_STR:
		yajl_gen_string(g, (const unsigned char *)j->str, j->len);
		break;
	case WD_J_OBJ:
		yajl_gen_map_open(g);
		for (i = 0; i < j->n; i++) {
			yajl_gen_string(g, (const unsigned char *)j->keys[i],
					strlen(j->keys[i]));
			gen(g, j->kids[i]);
		}
		yajl_gen_map_close(g);
		break;
	case WD_J_ARR:
		yajl_gen_array_open(g);
		for (i = 0; i < j->n; i++)
			gen(g, j->kids[i]);
		yajl_gen_array_close(g);
		break;
	}
}

char *wd_jdom_to_json(const struct wd_jnode *j, size_t *len)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t n;
	char *s;

	gen(g, j);
	yajl_gen_get_buf(g, &buf, &n);
	s = wd_xstrndup((const char *)buf, n);
	yajl_gen_free(g);
	if (len)
		*len = n;
	return s;
}
