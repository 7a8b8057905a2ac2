/*
 * MySQL/MariaDB DDL for the diff.  Columns change with ADD / MODIFY / DROP
 * COLUMN, each placed with FIRST / AFTER so the column order comes out as
 * the other side has it; the primary key, indexes, checks and foreign keys
 * are their own statements; routines, triggers and events are written
 * between DELIMITER ;; lines when their body holds a semicolon, as the
 * mariadb client and devflow's splitter read them.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/diff_int.h"
#include "util/banned.h"

#define D DF_DIALECT_MYSQL

static void q(df_buf *b, const char *name)
{
	df__quote_ident(b, D, name);
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static const char *extra_or(const df_object *o, const char *key, df_buf *v, const char *dflt)
{
	return df__extra_get(o, key, v) ? v->ptr : dflt;
}

static void column_def(df_buf *b, const df_column *c)
{
	q(b, c->name);
	df_buf_printf(b, " %s", c->type);
	if (c->collation) {
		size_t n = strcspn(c->collation, "_");
		df_buf_printf(b, " CHARACTER SET %.*s COLLATE %s", (int)n, c->collation, c->collation);
	}
	if (c->generated)
		df_buf_printf(b, " GENERATED ALWAYS AS (%s) %s", c->generated,
			c->virtual_gen ? "VIRTUAL" : "STORED");
	else {
		df_buf_puts(b, c->notnull ? " NOT NULL" : " NULL");
		if (c->default_expr)
			df_buf_printf(b, " DEFAULT %s", c->default_expr);
		if (c->extra)
			df_buf_printf(b, " %s", c->extra);
	}
	if (c->comment) {
		df_buf_puts(b, " COMMENT ");
		df__quote_literal(b, c->comment);
	}
}

/* a body with a semicolon needs another delimiter */
static void body_start(df_buf *b, const char *body)
{
	if (body && strchr(body, ';'))
		df_buf_puts(b, "DELIMITER ;;\n");
}

static void body_end(df_buf *b, const char *body)
{
	if (body && strchr(body, ';'))
		df_buf_puts(b, ";;\nDELIMITER ;\n");
	else
		df_buf_puts(b, ";\n");
}

static void table_options(df_buf *b, const df_object *o)
{
	df_buf v = DF_BUF_INIT;

	if (df__extra_get(o, "engine", &v))
		df_buf_printf(b, " ENGINE=%s", v.ptr);
	if (df__extra_get(o, "collation", &v))
		df_buf_printf(b, " DEFAULT CHARSET=%.*s COLLATE=%s", (int)strcspn(v.ptr, "_"), v.ptr, v.ptr);
	if (df__extra_get(o, "options", &v))
		df_buf_printf(b, " %s", v.ptr);
	if (o->comment) {
		df_buf_puts(b, " COMMENT=");
		df__quote_literal(b, o->comment);
	}
	df_buf_release(&v);
}

static int my_create(df_buf *b, const df_object *o, const df_schema *sf, const df_schema *st)
{
	df_buf v = DF_BUF_INIT;
	const char *name = o->name;

	(void)sf;
	(void)st;
	switch (o->kind) {
	case DF_OBJ_TABLE:
		df_buf_puts(b, "CREATE TABLE ");
		q(b, o->name);
		df_buf_puts(b, " (");
		for (size_t i = 0; i < o->ncols; i++) {
			df_buf_puts(b, i ? ",\n  " : "\n  ");
			column_def(b, &o->cols[i]);
		}
		/* AUTO_INCREMENT needs its key in the same statement */
		for (size_t i = 0; i < o->ncols; i++) {
			if (!o->cols[i].extra || !strstr(o->cols[i].extra, "AUTO_INCREMENT"))
				continue;
			for (size_t k = 0; k < st->nr; k++) {
				const df_object *c = st->v[k];
				if (c->kind == DF_OBJ_CONSTRAINT && c->table && !strcmp(c->table, o->name) &&
				    c->ctype == DF_CONS_PRIMARY) {
					df_buf_printf(b, ",\n  %s", c->def);
					break;
				}
			}
			break;
		}
		df_buf_puts(b, "\n)");
		table_options(b, o);
		if (df__extra_get(o, "partition", &v))
			df_buf_printf(b, "\n%s", v.ptr);
		df_buf_puts(b, ";\n");
		break;
	case DF_OBJ_CONSTRAINT:
		if (o->ctype == DF_CONS_PRIMARY) {
			/* in the CREATE TABLE of a new table with AUTO_INCREMENT */
			char *tkey = df_schema_key(DF_OBJ_TABLE, "", o->table, NULL);
			const df_object *t = tkey ? df_schema_find(st, tkey) : NULL;
			bool inline_pk = false;
			if (t && !df_schema_find(sf, tkey))
				for (size_t i = 0; i < t->ncols; i++)
					if (t->cols[i].extra && strstr(t->cols[i].extra, "AUTO_INCREMENT"))
						inline_pk = true;
			free(tkey);
			if (inline_pk)
				break;
			df_buf_puts(b, "ALTER TABLE ");
			q(b, o->table);
			df_buf_printf(b, " ADD %s;\n", o->def);
			break;
		}
		df_buf_puts(b, "ALTER TABLE ");
		q(b, o->table);
		df_buf_puts(b, " ADD CONSTRAINT ");
		q(b, o->name);
		df_buf_printf(b, " %s;\n", o->def);
		break;
	case DF_OBJ_INDEX: {
		const char *def = o->def, *kind = "";
		if (!strncmp(def, "UNIQUE ", 7))
			kind = "UNIQUE ", def += 7;
		else if (!strncmp(def, "FULLTEXT ", 9))
			kind = "FULLTEXT ", def += 9;
		else if (!strncmp(def, "SPATIAL ", 8))
			kind = "SPATIAL ", def += 8;
		df_buf_printf(b, "CREATE %sINDEX ", kind);
		q(b, o->name);
		df_buf_puts(b, " ON ");
		q(b, o->table);
		df_buf_printf(b, " %s", def);
		if (o->comment) {
			df_buf_puts(b, " COMMENT ");
			df__quote_literal(b, o->comment);
		}
		df_buf_puts(b, ";\n");
		break;
	}
	case DF_OBJ_VIEW: {
		df_buf w = DF_BUF_INIT;
		df_buf_printf(b, "CREATE ALGORITHM=%s SQL SECURITY %s VIEW ",
			extra_or(o, "algorithm", &v, "UNDEFINED"), extra_or(o, "security", &w, "DEFINER"));
		df_buf_release(&w);
		q(b, o->name);
		df_buf_printf(b, " AS %s", o->def);
		if (df__extra_get(o, "check_option", &v))
			df_buf_printf(b, " WITH %s CHECK OPTION", v.ptr);
		df_buf_puts(b, ";\n");
		break;
	}
	case DF_OBJ_TRIGGER:
		body_start(b, o->def);
		df_buf_puts(b, "CREATE TRIGGER ");
		q(b, o->name);
		df_buf_printf(b, " %s ON ", extra_or(o, "when", &v, ""));
		q(b, o->table);
		df_buf_printf(b, " FOR EACH ROW %s", o->def);
		body_end(b, o->def);
		break;
	case DF_OBJ_FUNCTION: {
		const char *paren = strchr(name, '(');
		bool proc = df__extra_get(o, "kind", &v) && !strcmp(v.ptr, "procedure");
		char *bare = strndup(name, paren ? (size_t)(paren - name) : strlen(name));
		if (!bare)
			return df_error_oom();
		body_start(b, o->def);
		df_buf_printf(b, "CREATE %s ", proc ? "PROCEDURE" : "FUNCTION");
		q(b, bare);
		free(bare);
		df_buf_puts(b, paren ? paren : "()");
		if (!proc && df__extra_get(o, "returns", &v))
			df_buf_printf(b, " RETURNS %s", v.ptr);
		if (df__extra_get(o, "deterministic", &v))
			df_buf_puts(b, " DETERMINISTIC");
		if (df__extra_get(o, "data_access", &v) && strcmp(v.ptr, "CONTAINS SQL"))
			df_buf_printf(b, " %s", v.ptr);
		if (df__extra_get(o, "security", &v) && strcmp(v.ptr, "DEFINER"))
			df_buf_printf(b, " SQL SECURITY %s", v.ptr);
		if (o->comment) {
			df_buf_puts(b, " COMMENT ");
			df__quote_literal(b, o->comment);
		}
		df_buf_printf(b, "\n%s", o->def ? o->def : "");
		body_end(b, o->def);
		break;
	}
	case DF_OBJ_EVENT:
		body_start(b, o->def);
		df_buf_puts(b, "CREATE EVENT ");
		q(b, o->name);
		df_buf_printf(b, " ON SCHEDULE %s", extra_or(o, "schedule", &v, ""));
		df_buf_printf(b, " ON COMPLETION %s", extra_or(o, "on_completion", &v, "NOT PRESERVE"));
		df__extra_get(o, "status", &v);
		df_buf_puts(b, !strcmp(v.ptr, "DISABLED") ? " DISABLE" :
			!strcmp(v.ptr, "SLAVESIDE_DISABLED") ? " DISABLE ON SLAVE" : " ENABLE");
		if (o->comment) {
			df_buf_puts(b, " COMMENT ");
			df__quote_literal(b, o->comment);
		}
		df_buf_printf(b, " DO %s", o->def);
		body_end(b, o->def);
		break;
	default:
		break;
	}
	df_buf_release(&v);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int my_drop(df_buf *b, const df_object *o)
{
	df_buf v = DF_BUF_INIT;

	switch (o->kind) {
	case DF_OBJ_TABLE: df_buf_puts(b, "DROP TABLE "); q(b, o->name); break;
	case DF_OBJ_VIEW: df_buf_puts(b, "DROP VIEW "); q(b, o->name); break;
	case DF_OBJ_TRIGGER: df_buf_puts(b, "DROP TRIGGER "); q(b, o->name); break;
	case DF_OBJ_EVENT: df_buf_puts(b, "DROP EVENT "); q(b, o->name); break;
	case DF_OBJ_INDEX:
		df_buf_puts(b, "DROP INDEX ");
		q(b, o->name);
		df_buf_puts(b, " ON ");
		q(b, o->table);
		break;
	case DF_OBJ_CONSTRAINT:
		df_buf_puts(b, "ALTER TABLE ");
		q(b, o->table);
		if (o->ctype == DF_CONS_PRIMARY)
			df_buf_puts(b, " DROP PRIMARY KEY");
		else {
			df_buf_puts(b, o->ctype == DF_CONS_FOREIGN ? " DROP FOREIGN KEY " : " DROP CONSTRAINT ");
			q(b, o->name);
		}
		break;
	case DF_OBJ_FUNCTION: {
		const char *paren = strchr(o->name, '(');
		char *bare = strndup(o->name, paren ? (size_t)(paren - o->name) : strlen(o->name));
		if (!bare)
			return df_error_oom();
		df_buf_printf(b, "DROP %s ", df__extra_get(o, "kind", &v) && !strcmp(v.ptr, "procedure") ?
			"PROCEDURE" : "FUNCTION");
		q(b, bare);
		free(bare);
		break;
	}
	default:
		df_buf_release(&v);
		return 0;
	}
	df_buf_puts(b, ";\n");
	df_buf_release(&v);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static unsigned int my_classify(const df_object *f, const df_object *t, const df_schema *sf,
	const df_schema *st)
{
	(void)sf;
	(void)st;
	if (f->kind != DF_OBJ_TABLE)
		return DF__ALTER_RECREATE;
	for (size_t i = 0; i < f->ncols; i++) {
		size_t j;
		for (j = 0; j < t->ncols; j++)
			if (!strcmp(f->cols[i].name, t->cols[j].name))
				break;
		if (j == t->ncols || !str_eq(f->cols[i].type, t->cols[j].type))
			return DF__ALTER_DEPENDENTS;
	}
	return 0;
}

/*
 * A table's alter, one ALTER TABLE of clauses: its column operations (a
 * column that moves is placed again), then the table's own (the last).
 */
static int my_alter_table(df_buf *b, df_strlist *hz, df_op *ops, size_t n)
{
	df_buf clauses = DF_BUF_INIT, v = DF_BUF_INIT, w = DF_BUF_INIT;
	const df_object *f = ops[n - 1].before, *t = ops[n - 1].after;

	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DF_OP_DROP_COLUMN) {
			df_buf_printf(&clauses, "%s\n  DROP COLUMN ", clauses.size ? "," : "");
			q(&clauses, ops[i].col_before->name);
			ops[i].destroys_data = true;
		}
	for (size_t i = 0; i < n; i++) {
		df_op *op = &ops[i];
		const df_column *nc = op->col_after, *oc = op->col_before;
		size_t j;
		if (op->kind != DF_OP_ADD_COLUMN && op->kind != DF_OP_ALTER_COLUMN)
			continue;
		j = (size_t)(nc - t->cols);
		df_buf_printf(&clauses, "%s\n  %s ", clauses.size ? "," : "", oc ? "MODIFY COLUMN" : "ADD COLUMN");
		column_def(&clauses, nc);
		if (j == 0)
			df_buf_puts(&clauses, " FIRST");
		else {
			df_buf_puts(&clauses, " AFTER ");
			q(&clauses, t->cols[j - 1].name);
		}
		if (oc && !str_eq(oc->type, nc->type)) {
			op->destroys_data = true;
			df_strlist_pushf(hz, "devflow: column '%s' changes type from %s to %s: values may "
				"be truncated or converted", nc->name, oc->type, nc->type);
		}
		if (!oc && nc->notnull && !nc->default_expr && !nc->generated)
			df_strlist_pushf(hz, "devflow: new NOT NULL column '%s' has no default: rows get "
				"the type's zero value", nc->name);
	}
	{
		bool he = df__extra_get(t, "engine", &v), hf = df__extra_get(f, "engine", &w);
		if (he && (!hf || strcmp(v.ptr, w.ptr)))
			df_buf_printf(&clauses, "%s\n  ENGINE=%s", clauses.size ? "," : "", v.ptr);
		he = df__extra_get(t, "collation", &v);
		hf = df__extra_get(f, "collation", &w);
		if (he && (!hf || strcmp(v.ptr, w.ptr)))
			df_buf_printf(&clauses, "%s\n  DEFAULT CHARSET=%.*s COLLATE=%s", clauses.size ? "," : "",
				(int)strcspn(v.ptr, "_"), v.ptr, v.ptr);
		he = df__extra_get(t, "options", &v);
		hf = df__extra_get(f, "options", &w);
		if (he && (!hf || strcmp(v.ptr, w.ptr)))
			df_buf_printf(&clauses, "%s\n  %s", clauses.size ? "," : "", v.ptr);
		if (!str_eq(f->comment, t->comment)) {
			df_buf_printf(&clauses, "%s\n  COMMENT=", clauses.size ? "," : "");
			df__quote_literal(&clauses, t->comment ? t->comment : "");
		}
	}
	if (clauses.size) {
		df_buf_puts(b, "ALTER TABLE ");
		q(b, t->name);
		df_buf_printf(b, "%s;\n", clauses.ptr);
	}
	{
		bool he = df__extra_get(t, "partition", &v), hf = df__extra_get(f, "partition", &w);
		if (he && (!hf || strcmp(v.ptr, w.ptr))) {
			df_buf_puts(b, "ALTER TABLE ");
			q(b, t->name);
			df_buf_printf(b, " %s;\n", v.ptr);
		} else if (!he && hf) {
			df_buf_puts(b, "ALTER TABLE ");
			q(b, t->name);
			df_buf_puts(b, " REMOVE PARTITIONING;\n");
		}
	}
	df_buf_release(&clauses);
	df_buf_release(&v);
	df_buf_release(&w);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int my_render(df__render *r, df_op *ops, size_t n)
{
	int error = 0;

	if (n && ops[n - 1].kind == DF_OP_ALTER && ops[n - 1].object_kind == DF_OBJ_TABLE)
		return my_alter_table(r->b, r->hazards, ops, n);
	for (size_t i = 0; i < n && !error; i++) {
		if (ops[i].kind == DF_OP_CREATE)
			error = my_create(r->b, ops[i].after, r->from, r->to);
		else if (ops[i].kind == DF_OP_DROP)
			error = my_drop(r->b, ops[i].before);
	}
	return error;
}

/* DDL on a table that exists waits for, then blocks, its transactions. */
static df_op_lock my_lock(const df_op *op)
{
	if (op->kind == DF_OP_CREATE && (op->object_kind == DF_OBJ_TABLE ||
	    op->object_kind == DF_OBJ_VIEW || op->object_kind == DF_OBJ_FUNCTION ||
	    op->object_kind == DF_OBJ_EVENT))
		return DF_OP_LOCK_NONE;
	return DF_OP_LOCK_MYSQL_METADATA;
}

const df__ddl df__ddl_mysql = {
	.classify = my_classify,
	.render = my_render,
	.lock = my_lock,
};
