/*
 * db diff: the planner's operations (diff.c), rendered by the engine's
 * writer (ddl_pg.c, ddl_mysql.c, ddl_sqlite.c).  This file joins the two:
 * it hands the planner the engine's rules and each change to the writer,
 * so neither calls the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/diff_int.h"
#include "util/banned.h"

const df__ddl *df__ddl_for(df_dialect d)
{
	switch (d) {
	case DF_DIALECT_SQLITE: return &df__ddl_sqlite;
	case DF_DIALECT_MYSQL: return &df__ddl_mysql;
	default: return &df__ddl_pg;
	}
}

const char *df_op_lock_name(df_op_lock l)
{
	switch (l) {
	case DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE: return "SHARE UPDATE EXCLUSIVE";
	case DF_OP_LOCK_PG_SHARE: return "SHARE";
	case DF_OP_LOCK_PG_SHARE_ROW_EXCLUSIVE: return "SHARE ROW EXCLUSIVE";
	case DF_OP_LOCK_PG_ACCESS_EXCLUSIVE: return "ACCESS EXCLUSIVE";
	case DF_OP_LOCK_MYSQL_METADATA: return "metadata";
	case DF_OP_LOCK_SQLITE_DATABASE: return "database";
	default: return "none";
	}
}

const char *df_op_name(const df_op *op, char *buf, size_t size)
{
	const char *what = df_obj_kind_name(op->object_kind);
	const char *verb;

	if (op->object_kind == DF_OBJ_CONSTRAINT && op->ctype == DF_CONS_FOREIGN)
		what = "foreign key";
	switch (op->kind) {
	case DF_OP_ADD_COLUMN: return "add column";
	case DF_OP_DROP_COLUMN: return "drop column";
	case DF_OP_ALTER_COLUMN: return "alter column";
	case DF_OP_VALIDATE: return "validate constraint";
	case DF_OP_RENAME_TABLE: return "rename table";
	case DF_OP_RENAME_COLUMN: return "rename column";
	case DF_OP_DROP: verb = "drop"; break;
	case DF_OP_ALTER: verb = "alter"; break;
	default:
		verb = op->object_kind == DF_OBJ_CONSTRAINT || op->object_kind == DF_OBJ_INDEX ?
			"add" : "create";
		break;
	}
	snprintf(buf, size, "%s %s", verb, what);
	return buf;
}

/* Renames: the same words on every engine but MySQL's RENAME TABLE. */
static void rename_sql(df_buf *b, df_dialect d, const df_op *op)
{
	const df_object *t = op->before;

	if (op->kind == DF_OP_RENAME_TABLE) {
		if (d == DF_DIALECT_MYSQL) {
			df_buf_puts(b, "RENAME TABLE ");
			df__quote_ident(b, d, op->old_name);
			df_buf_puts(b, " TO ");
		} else {
			df_buf_puts(b, "ALTER TABLE ");
			df__qualified(b, d, t->schema, op->old_name);
			df_buf_puts(b, " RENAME TO ");
		}
	} else {
		df_buf_puts(b, "ALTER TABLE ");
		df__qualified(b, d, t->schema, t->name);
		df_buf_puts(b, " RENAME COLUMN ");
		df__quote_ident(b, d, op->old_name);
		df_buf_puts(b, " TO ");
	}
	df__quote_ident(b, d, op->new_name);
	df_buf_puts(b, ";\n");
}

static bool is_rename(const df_op *op)
{
	return op->kind == DF_OP_RENAME_TABLE || op->kind == DF_OP_RENAME_COLUMN;
}

/* `ops` rendered into `b`, their locks set; *fk_off when a rebuild needs it. */
static int render_ops(df_buf *b, df_strlist *hazards, bool *fk_off, const df_diff *d,
	df_op *ops, size_t n)
{
	const df__ddl *w = df__ddl_for(d->dialect);
	df__render r = { b, hazards, d->from, d->to, false };
	int error = 0;

	if (n && is_rename(&ops[0])) {
		for (size_t i = 0; i < n; i++)
			rename_sql(b, d->dialect, &ops[i]);
	} else if (n && (error = w->render(&r, ops, n)) < 0)
		return error;
	for (size_t i = 0; i < n; i++)
		ops[i].lock = w->lock(&ops[i]);
	if (fk_off)
		*fk_off = r.needs_fk_off;
	return df_buf_oom(b) ? df_error_oom() : 0;
}

int df_op_sql(df_buf *out, const df_diff *d, df_op *op, df_strlist *hazards)
{
	df_strlist none = DF_STRLIST_INIT;
	int error = render_ops(out, hazards ? hazards : &none, NULL, d, op, 1);

	df_strlist_release(&none);
	return error;
}

/* Render a change; its writer's hazards come before the ones it had. */
static int render_change(const df_diff *d, df_change *c, bool *fk_off)
{
	df_buf b = DF_BUF_INIT;
	df_strlist hz = DF_STRLIST_INIT;
	int error;

	if ((error = render_ops(&b, &hz, fk_off, d, c->ops, c->nops)) < 0)
		goto out;
	for (size_t i = 0; i < c->hazards.nr && !error; i++)
		error = df_strlist_push(&hz, c->hazards.v[i]);
	if (error < 0)
		goto out;
	for (size_t i = 0; i < c->nops; i++)
		c->destroys_data = c->destroys_data || c->ops[i].destroys_data;
	df_strlist_release(&c->hazards);
	c->hazards = hz;
	memset(&hz, 0, sizeof(hz));
	free(c->sql);
	if (!(c->sql = df_buf_detach(&b)))
		error = df_error_oom();
out:
	df_buf_release(&b);
	df_strlist_release(&hz);
	return error;
}

int df_change_render(const df_diff *d, df_change *c)
{
	df_buf b = DF_BUF_INIT;
	df_strlist hz = DF_STRLIST_INIT;
	int error = render_ops(&b, &hz, NULL, d, c->ops, c->nops);

	df_strlist_release(&hz);
	if (error < 0) {
		df_buf_release(&b);
		return error;
	}
	free(c->sql);
	c->sql = df_buf_detach(&b);
	return c->sql ? 0 : df_error_oom();
}

int df_schema_diff(df_diff **out, const df_schema *from, const df_schema *to)
{
	const df__ddl *w;
	df_diff *d = NULL;
	bool fk_off = false;
	size_t k = 0;
	int error = 0;

	*out = NULL;
	if (from->dialect != to->dialect)
		return df_error_set(DF_EUSAGE, "cannot compare a %s schema with a %s one",
			df_dialect_name(from->dialect), df_dialect_name(to->dialect));
	w = df__ddl_for(from->dialect);
	if (!(d = calloc(1, sizeof(*d))))
		return df_error_oom();
	d->dialect = from->dialect;
	d->from = from;
	d->to = to;
	if ((error = df__diff_plan(d, from, to, w)) < 0)
		goto out;
	/* the SQL of each change; a change that renders to nothing goes */
	for (size_t i = 0; i < d->nr; i++) {
		bool off = false;
		if ((error = render_change(d, &d->v[i], &off)) < 0)
			goto out;
		fk_off = fk_off || off;
		if (!*d->v[i].sql) {
			df_change_release(&d->v[i]);
			continue;
		}
		d->v[k++] = d->v[i];
	}
	d->nr = k;
	if ((error = df__diff_uncompared(d, from, to)) < 0)
		goto out;
	if (fk_off && w->fk_off &&
	    (!(d->preamble = strdup(w->fk_off)) ||
	     (w->fk_on && !(d->postamble = strdup(w->fk_on))))) {
		error = df_error_oom();
		goto out;
	}
	*out = d;
	d = NULL;
out:
	df_diff_free(d);
	return error;
}
