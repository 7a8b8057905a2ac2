/*
 * SQLite DDL for the diff.  SQLite's ALTER TABLE adds, drops and renames
 * columns and nothing else, so a table whose change is more than columns
 * added at the end (ADD COLUMN's rules permitting) and columns dropped
 * (DROP COLUMN's rules permitting) is rebuilt, as SQLite's documentation
 * says ("Making Other Kinds Of Table Schema Changes"): create the new
 * table under another name, copy the columns both have, drop the old one,
 * rename the new one; its indexes, triggers and the views on it are
 * dropped before and created after (the diff's cascade does that).
 * devflow runs a migration in a transaction, where `PRAGMA foreign_keys =
 * OFF` does nothing, so the script does not say it: it defers the foreign
 * keys to COMMIT (`PRAGMA defer_foreign_keys = ON`), and the runner checks
 * them before the COMMIT (and before a dry-run rolls back), as SQLite's
 * procedure runs PRAGMA foreign_key_check.  A table that others reference
 * loses its rows to its DROP TABLE with foreign keys on: a hazard says so.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/diff_int.h"
#include "schema/sqlite_int.h"
#include "util/banned.h"

#define D DF_DIALECT_SQLITE

enum plan { PLAN_COLUMNS, PLAN_REBUILD };

static const df_column *find_col(const df_object *o, const char *name)
{
	for (size_t i = 0; i < o->ncols; i++)
		if (!strcasecmp(o->cols[i].name, name))
			return &o->cols[i];
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Does the token list hold keyword `kw`? */
static bool has_kw(const struct df__sqltoks *t, const char *kw)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->v[i].kind == DF__TOK_KEYWORD && !strcmp(t->v[i].text, kw))
			return true;
	return false;
}

static bool has_ident(const char *sql, const char *name)
{
	struct df__sqltoks t = { 0 };
	bool found = false;

	if (!sql || df__sqlite_tokenize(&t, sql) < 0) {
		df__sqlite_tokens_release(&t);
		return true;    /* when in doubt, it is used */
	}
	for (size_t i = 0; i < t.nr && !found; i++) {
		const char *s = t.v[i].text;
		size_t n = strlen(s);
		if (t.v[i].kind != DF__TOK_IDENT && t.v[i].kind != DF__TOK_KEYWORD)
			continue;
		if (n >= 2 && s[0] == '"')
			found = n - 2 == strlen(name) && !strncasecmp(s + 1, name, n - 2);
		else
			found = !strcasecmp(s, name);
	}
	df__sqlite_tokens_release(&t);
	return found;
}

/* Can ALTER TABLE ADD COLUMN take this definition? */
static bool addable(const df_column *c)
{
	struct df__sqltoks t = { 0 };
	bool ok = c->def != NULL;

	if (ok && df__sqlite_tokenize(&t, c->def) < 0)
		ok = false;
	if (ok && (has_kw(&t, "PRIMARY") || has_kw(&t, "UNIQUE") || has_kw(&t, "CURRENT_TIME") ||
		   has_kw(&t, "CURRENT_DATE") || has_kw(&t, "CURRENT_TIMESTAMP") ||
		   (has_kw(&t, "STORED")) || (c->notnull && !c->default_expr)))
		ok = false;
	/* an expression default: DEFAULT ( ... ) */
	for (size_t i = 0; ok && i + 1 < t.nr; i++)
		if (t.v[i].kind == DF__TOK_KEYWORD && !strcmp(t.v[i].text, "DEFAULT") &&
		    !strcmp(t.v[i + 1].text, "("))
			ok = false;
	if (ok && has_kw(&t, "REFERENCES") && c->default_expr && strcasecmp(c->default_expr, "NULL"))
		ok = false;
	df__sqlite_tokens_release(&t);
	return ok;
}

/* Can ALTER TABLE DROP COLUMN take it? */
static bool droppable(const df_object *table, const df_column *c, const df_schema *sf)
{
	struct df__sqltoks t = { 0 };
	bool ok = c->def != NULL;

	if (ok && df__sqlite_tokenize(&t, c->def) < 0)
		ok = false;
	if (ok && (has_kw(&t, "PRIMARY") || has_kw(&t, "UNIQUE") || has_kw(&t, "REFERENCES") ||
		   has_kw(&t, "GENERATED") || has_kw(&t, "AS")))
		ok = false;
	df__sqlite_tokens_release(&t);
	/* named in a table constraint, or by an index */
	if (ok && table->extra && has_ident(table->extra, c->name))
		ok = false;
	for (size_t i = 0; ok && i < sf->nr; i++) {
		const df_object *o = sf->v[i];
		if (o->kind == DF_OBJ_INDEX && o->table && !strcmp(o->table, table->name) &&
		    has_ident(o->norm ? o->norm : o->def, c->name))
			ok = false;
		/* generated columns of the table that use it */
	}
	for (size_t i = 0; ok && i < table->ncols; i++)
		if (&table->cols[i] != c && table->cols[i].def && (table->cols[i].generated ||
		    strstr(table->cols[i].def, " AS ")) && has_ident(table->cols[i].def, c->name))
			ok = false;
	return ok;
}

static enum plan table_plan(const df_object *f, const df_object *t, const df_schema *sf)
{
	size_t k = 0;

	if (!str_eq(f->extra, t->extra))
		return PLAN_REBUILD;
	for (size_t i = 0; i < f->ncols; i++) {
		const df_column *c = &f->cols[i];
		if (!find_col(t, c->name)) {
			if (!droppable(f, c, sf))
				return PLAN_REBUILD;
			continue;
		}
		/* kept columns: the same, in the same order, first */
		if (k >= t->ncols || strcasecmp(t->cols[k].name, c->name) ||
		    !df__column_equal(&t->cols[k], c))
			return PLAN_REBUILD;
		k++;
	}
	for (; k < t->ncols; k++)
		if (find_col(f, t->cols[k].name) || !addable(&t->cols[k]))
			return PLAN_REBUILD;
	return PLAN_COLUMNS;
}

static unsigned int sq_classify(const df_object *f, const df_object *t, const df_schema *sf,
	const df_schema *st)
{
	(void)st;
	if (f->kind != DF_OBJ_TABLE)
		return DF__ALTER_RECREATE;
	if (table_plan(f, t, sf) == PLAN_REBUILD)
		return DF__ALTER_DEPENDENTS;
	for (size_t i = 0; i < f->ncols; i++)
		if (!find_col(t, f->cols[i].name))
			return DF__ALTER_DEPENDENTS;
	return 0;
}

static int sq_create(df_buf *b, const df_object *o, const df_schema *sf, const df_schema *st)
{
	(void)sf;
	(void)st;
	if (!o->def)
		return 0;
	df_buf_printf(b, "%s;\n", o->def);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int sq_drop(df_buf *b, const df_object *o)
{
	const char *what = o->kind == DF_OBJ_TABLE ? "TABLE" : o->kind == DF_OBJ_INDEX ? "INDEX" :
		o->kind == DF_OBJ_VIEW ? "VIEW" : o->kind == DF_OBJ_TRIGGER ? "TRIGGER" : NULL;

	if (!what)
		return 0;
	df_buf_printf(b, "DROP %s ", what);
	df__quote_ident(b, D, o->name);
	df_buf_puts(b, ";\n");
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int rebuild(df_buf *b, df_strlist *hz, const df_object *f, const df_object *t)
{
	df_buf tmp = DF_BUF_INIT, cols = DF_BUF_INIT;
	size_t paren = 0;
	int error;

	/* the definition as written, from its first parenthesis on */
	for (const char *p = t->def; p && *p; p++) {
		if (*p == '"' || *p == '`' || *p == '[' || *p == '\'') {
			char close = *p == '[' ? ']' : *p;
			const char *e = strchr(p + 1, close);
			if (!e)
				break;
			p = e;
			continue;
		}
		if (*p == '(') {
			paren = (size_t)(p - t->def) + 1;
			break;
		}
	}
	if (!paren) {
		error = df_error_set(DF_EINTERNAL, "cannot take table '%s' apart to rebuild it", t->name);
		goto out;
	}
	df_buf_printf(&tmp, "_devflow_new_%s", t->name);
	df_buf_puts(b, "CREATE TABLE ");
	df__quote_ident(b, D, tmp.ptr);
	df_buf_printf(b, " %s;\n", t->def + paren - 1);
	for (size_t i = 0; i < t->ncols; i++) {
		const df_column *nc = &t->cols[i];
		if (nc->virtual_gen || nc->generated || (nc->def && strstr(nc->def, "GENERATED")) ||
		    !find_col(f, nc->name))
			continue;
		if (find_col(f, nc->name)->def && strstr(find_col(f, nc->name)->def, "GENERATED"))
			continue;
		if (cols.size)
			df_buf_puts(&cols, ", ");
		df__quote_ident(&cols, D, nc->name);
	}
	for (size_t i = 0; i < t->ncols; i++)
		if (!find_col(f, t->cols[i].name) && t->cols[i].notnull && !t->cols[i].default_expr)
			df_strlist_pushf(hz, "devflow: new NOT NULL column '%s' has no default: the copy "
				"fails when '%s' has rows", t->cols[i].name, t->name);
	if (cols.size) {
		df_buf_puts(b, "INSERT INTO ");
		df__quote_ident(b, D, tmp.ptr);
		df_buf_printf(b, " (%s) SELECT %s FROM ", cols.ptr, cols.ptr);
		df__quote_ident(b, D, f->name);
		df_buf_puts(b, ";\n");
	}
	df_buf_puts(b, "DROP TABLE ");
	df__quote_ident(b, D, f->name);
	df_buf_puts(b, ";\nALTER TABLE ");
	df__quote_ident(b, D, tmp.ptr);
	df_buf_puts(b, " RENAME TO ");
	df__quote_ident(b, D, t->name);
	df_buf_puts(b, ";\n");
	df_strlist_push(hz, "devflow: the table is rebuilt (copied into a new table, the old one "
		"dropped); foreign keys are checked when the migration commits");
	error = df_buf_oom(b) ? df_error_oom() : 0;
out:
	df_buf_release(&tmp);
	df_buf_release(&cols);
	return error;
}

/*
 * The tables with a foreign key to `f`, which a rebuild drops: with foreign
 * keys on (always, in a transaction), its DROP TABLE deletes its rows
 * first, running their ON DELETE actions, and a key left without its row
 * fails the COMMIT.
 */
static void referenced_hazard(df_strlist *hz, const df_schema *from, const df_object *f)
{
	df_buf names = DF_BUF_INIT;

	for (size_t i = 0; from && i < from->nr; i++) {
		const df_object *o = from->v[i];
		if (o->kind != DF_OBJ_TABLE || !strcasecmp(o->name, f->name))
			continue;
		for (size_t k = 0; k < o->nfks; k++)
			if (o->fks[k].ref_table && !strcasecmp(o->fks[k].ref_table, f->name)) {
				df_buf_printf(&names, "%s'%s'", names.size ? ", " : "", o->name);
				break;
			}
	}
	if (names.size && !df_buf_oom(&names))
		df_strlist_pushf(hz, "devflow: %s reference%s '%s': the rebuild's DROP TABLE deletes its "
			"rows first, with foreign keys on (a transaction cannot turn them off), which "
			"runs their ON DELETE actions (CASCADE deletes rows) or fails at COMMIT",
			names.ptr, strchr(names.ptr, ',') ? "" : "s", f->name);
	df_buf_release(&names);
}

/*
 * A table's alter: its column operations and, last, the table's.  ALTER
 * TABLE drops and adds the columns when it can; else the table is rebuilt
 * from the two definitions (the column operations say what changes).
 */
static int sq_alter_table(df__render *r, df_op *ops, size_t n)
{
	const df_op *last = &ops[n - 1];
	const df_object *f = last->before, *t = last->after;

	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DF_OP_DROP_COLUMN)
			ops[i].destroys_data = true;
	for (size_t i = 0; i < f->ncols; i++) {
		const df_column *nc = find_col(t, f->cols[i].name);
		if (nc && !str_eq(nc->type, f->cols[i].type))
			df_strlist_pushf(r->hazards, "devflow: column '%s' changes type from '%s' to '%s'",
				nc->name, f->cols[i].type ? f->cols[i].type : "", nc->type ? nc->type : "");
	}
	if (table_plan(f, t, r->from) == PLAN_REBUILD) {
		r->needs_fk_off = true;
		referenced_hazard(r->hazards, r->from, f);
		return rebuild(r->b, r->hazards, f, t);
	}
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DF_OP_DROP_COLUMN) {
			df_buf_puts(r->b, "ALTER TABLE ");
			df__quote_ident(r->b, D, t->name);
			df_buf_puts(r->b, " DROP COLUMN ");
			df__quote_ident(r->b, D, ops[i].col_before->name);
			df_buf_puts(r->b, ";\n");
		}
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DF_OP_ADD_COLUMN) {
			df_buf_puts(r->b, "ALTER TABLE ");
			df__quote_ident(r->b, D, t->name);
			df_buf_printf(r->b, " ADD COLUMN %s;\n", ops[i].col_after->def);
		}
	return df_buf_oom(r->b) ? df_error_oom() : 0;
}

static int sq_render(df__render *r, df_op *ops, size_t n)
{
	int error = 0;

	/* a table's alter is its operations together */
	if (n && ops[n - 1].kind == DF_OP_ALTER && ops[n - 1].object_kind == DF_OBJ_TABLE)
		return sq_alter_table(r, ops, n);
	for (size_t i = 0; i < n && !error; i++) {
		if (ops[i].kind == DF_OP_CREATE)
			error = sq_create(r->b, ops[i].after, r->from, r->to);
		else if (ops[i].kind == DF_OP_DROP)
			error = sq_drop(r->b, ops[i].before);
	}
	return error;
}

static df_op_lock sq_lock(const df_op *op)
{
	(void)op;
	return DF_OP_LOCK_SQLITE_DATABASE;
}

static bool sq_absorbed(const df_object *o)
{
	return o->kind == DF_OBJ_INDEX || o->kind == DF_OBJ_TRIGGER;
}

const df__ddl df__ddl_sqlite = {
	.classify = sq_classify,
	.absorbed = sq_absorbed,
	.render = sq_render,
	.lock = sq_lock,
	.rebuilds_tables = true,
	/* in a transaction foreign_keys = OFF would do nothing: the runner
	 * checks the deferred keys before COMMIT */
	.fk_off = "PRAGMA defer_foreign_keys = ON;\n",
};
