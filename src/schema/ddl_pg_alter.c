/*
 * PostgreSQL DDL for the diff: a table's columns changed in place (type,
 * default, nullability, identity, generated, collation; a column dropped
 * from a parent its child keeps), a column's definition, and the table's
 * own options (row-level security).
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/ddl_pg_int.h"
#include "schema/dependants.h"
#include "schema/diff_int.h"
#include "util/banned.h"

#define D DF_DIALECT_POSTGRES

void df__ddlpg_column_def(df_buf *b, const df_column *c)
{
	df__quote_ident(b, D, c->name);
	df_buf_printf(b, " %s", c->type);
	if (c->collation)
		df_buf_printf(b, " COLLATE %s", c->collation);
	if (c->generated)
		df_buf_printf(b, " GENERATED ALWAYS AS (%s) STORED", c->generated);
	if (c->identity) {
		df_buf_printf(b, " GENERATED %s AS IDENTITY", !strcmp(c->identity, "always") ?
			"ALWAYS" : "BY DEFAULT");
		if (c->extra)   /* the identity sequence's options */
			df_buf_printf(b, " (%s)", c->extra);
	}
	if (c->default_expr)
		df_buf_printf(b, " DEFAULT %s", c->default_expr);
	if (c->notnull)
		df_buf_puts(b, " NOT NULL");
}

void df__ddlpg_table_extras(df_buf *b, const df_object *o, const df_object *old)
{
	df_buf v = DF_BUF_INIT, w = DF_BUF_INIT;
	bool rls = df__extra_get(o, "row_security", &v);
	bool force = df__extra_get(o, "force_row_security", &v);

	if (!old ? rls : rls != df__extra_get(old, "row_security", &w)) {
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, o);
		df_buf_printf(b, " %s ROW LEVEL SECURITY;\n", rls ? "ENABLE" : "DISABLE");
	}
	if (!old ? force : force != df__extra_get(old, "force_row_security", &w)) {
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, o);
		df_buf_printf(b, " %sFORCE ROW LEVEL SECURITY;\n", force ? "" : "NO ");
	}
	df_buf_release(&v);
	df_buf_release(&w);
}

void df__ddlpg_alter_col(df_buf *b, const df_object *t, const df_column *c, const char *what)
{
	df_buf_puts(b, "ALTER TABLE ");
	df__ddlpg_qname(b, t);
	df_buf_puts(b, " ALTER COLUMN ");
	df__quote_ident(b, D, c->name);
	df_buf_printf(b, " %s;\n", what);
}

/* Is `type` (as format_type() prints it, maybe qualified) an enum of `s`? */
static bool is_enum(const df_schema *s, const char *type)
{
	for (size_t i = 0; i < s->nr; i++) {
		const df_object *o = s->v[i];
		size_t sl = strlen(o->schema);
		if (o->kind != DF_OBJ_ENUM)
			continue;
		if (!strcmp(type, o->name) || (!strncmp(type, o->schema, sl) && type[sl] == '.' &&
		    !strcmp(type + sl + 1, o->name)))
			return true;
	}
	return false;
}

/* A column dropped (an inherited one is not the table's to drop). */
static const df_column *col_of(const df_object *o, const char *name)
{
	for (size_t i = 0; o && i < o->ncols; i++)
		if (!strcmp(o->cols[i].name, name))
			return &o->cols[i];
	return NULL;
}

/* The tables of `sf` that inherit `name` from `p` (recorded as a dependency). */
static bool inherits_col(const df_object *c, const df_object *p, const char *name)
{
	const df_column *cc = col_of(c, name);

	if (c->kind != DF_OBJ_TABLE || !cc || !cc->inherited)
		return false;
	for (size_t k = 0; k < c->deps.nr; k++)
		if (!strcmp(c->deps.v[k], p->key))
			return true;
	return false;
}

/*
 * A column dropped from a parent whose child keeps it ("moved" down the
 * inheritance): ALTER TABLE ONLY, which leaves the children's copies
 * theirs, then dropped from the children that lose it too.
 */
void df__ddlpg_drop_column(df_buf *b, df_op *op, const df_schema *sf, const df_schema *st)
{
	const char *name = op->col_before->name;
	bool kept = false;

	if (op->col_before->inherited)
		return;
	for (size_t i = 0; i < sf->nr && !kept; i++)
		if (inherits_col(sf->v[i], op->before, name))
			kept = col_of(df_schema_find(st, sf->v[i]->key), name) != NULL;
	df_buf_printf(b, "ALTER TABLE %s", kept ? "ONLY " : "");
	df__ddlpg_qname(b, op->before);
	df_buf_puts(b, " DROP COLUMN ");
	df__quote_ident(b, D, name);
	df_buf_puts(b, ";\n");
	for (size_t i = 0; i < sf->nr && kept; i++) {
		const df_object *c = sf->v[i], *now;
		if (!inherits_col(c, op->before, name) || !(now = df_schema_find(st, c->key)) ||
		    col_of(now, name))
			continue;
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, c);
		df_buf_puts(b, " DROP COLUMN ");
		df__quote_ident(b, D, name);
		df_buf_puts(b, ";\n");
	}
	op->destroys_data = true;
}

/* A column added (oc NULL) or changed, then its comment. */
void df__ddlpg_column_change(df_buf *b, df_strlist *hz, df_op *op, const df_schema *sf,
	const df_schema *st)
{
	const df_object *t = op->after;
	const df_column *nc = op->col_after, *oc = op->col_before;
	df_buf w = DF_BUF_INIT;

	if (!oc) {
		if (nc->inherited)
			goto out;
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, t);
		df_buf_puts(b, " ADD COLUMN ");
		df__ddlpg_column_def(b, nc);
		df_buf_puts(b, ";\n");
		if (nc->notnull && !nc->default_expr && !nc->identity && !nc->generated)
			df_strlist_push(hz, "devflow: a NOT NULL column without a default fails on a table with rows");
		goto comment;
	}
	if (oc->inherited && nc->inherited)
		goto out;
	if (oc->generated && !nc->generated && !strcmp(oc->type, nc->type)) {
		/* keep the values, drop the expression (PostgreSQL 13+) */
		df__ddlpg_alter_col(b, t, nc, "DROP EXPRESSION");
		if (nc->default_expr) {
			df_buf_truncate(&w, 0);
			df_buf_printf(&w, "SET DEFAULT %s", nc->default_expr);
			df__ddlpg_alter_col(b, t, nc, w.ptr);
		}
		if (oc->notnull != nc->notnull)
			df__ddlpg_alter_col(b, t, nc, nc->notnull ? "SET NOT NULL" : "DROP NOT NULL");
		goto comment;
	}
	if (!oc->generated != !nc->generated ||
	    (oc->generated && strcmp(oc->generated, nc->generated))) {
		/* a generated expression cannot change in place (before 17) */
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, t);
		df_buf_puts(b, " DROP COLUMN ");
		df__quote_ident(b, D, nc->name);
		df_buf_puts(b, ";\nALTER TABLE ");
		df__ddlpg_qname(b, t);
		df_buf_puts(b, " ADD COLUMN ");
		df__ddlpg_column_def(b, nc);
		df_buf_puts(b, ";\n");
		op->destroys_data = true;
		goto comment;
	}
	/* a collation alone changes no value (the indexes on it are rebuilt) */
	bool retyped = strcmp(oc->type, nc->type) != 0;
	bool type_changes = retyped || !oc->collation != !nc->collation ||
		(oc->collation && strcmp(oc->collation, nc->collation));
	bool default_changes = !oc->default_expr != !nc->default_expr ||
		(oc->default_expr && strcmp(oc->default_expr, nc->default_expr));
	if (!oc->identity != !nc->identity || (oc->identity && strcmp(oc->identity, nc->identity))) {
		if (oc->identity && !nc->identity)
			df__ddlpg_alter_col(b, t, nc, "DROP IDENTITY");
	}
	if (default_changes && oc->default_expr)
		df__ddlpg_alter_col(b, t, nc, "DROP DEFAULT");
	if (type_changes) {
		df_buf_truncate(&w, 0);
		df_buf_printf(&w, "TYPE %s", nc->type);
		if (nc->collation)
			df_buf_printf(&w, " COLLATE %s", nc->collation);
		if (retyped) {
			/* to or from an enum: through its text */
			bool via_text = is_enum(sf, oc->type) || is_enum(st, nc->type);
			df_buf_puts(&w, " USING ");
			df__quote_ident(&w, D, nc->name);
			if (via_text && strcmp(nc->type, "text"))
				df_buf_printf(&w, "::text::%s", nc->type);
			else
				df_buf_printf(&w, "::%s", nc->type);
		}
		df__ddlpg_alter_col(b, t, nc, w.ptr);
		if (retyped)
			op->destroys_data = true;
	}
	if (default_changes && nc->default_expr) {
		df_buf_truncate(&w, 0);
		df_buf_printf(&w, "SET DEFAULT %s", nc->default_expr);
		df__ddlpg_alter_col(b, t, nc, w.ptr);
	}
	if (oc->notnull != nc->notnull)
		df__ddlpg_alter_col(b, t, nc, nc->notnull ? "SET NOT NULL" : "DROP NOT NULL");
	if (nc->identity && !oc->identity) {
		df_buf_truncate(&w, 0);
		df_buf_printf(&w, "ADD GENERATED %s AS IDENTITY",
			!strcmp(nc->identity, "always") ? "ALWAYS" : "BY DEFAULT");
		if (nc->extra)
			df_buf_printf(&w, " (%s)", nc->extra);
		df__ddlpg_alter_col(b, t, nc, w.ptr);
	} else if (nc->identity && oc->identity && strcmp(nc->identity, oc->identity))
		df__ddlpg_alter_col(b, t, nc, !strcmp(nc->identity, "always") ? "SET GENERATED ALWAYS" :
			"SET GENERATED BY DEFAULT");
	if (nc->identity && oc->identity && nc->extra &&
	    (!oc->extra || strcmp(oc->extra, nc->extra))) {
		/* SET each option: "START WITH 1 INCREMENT BY 1 ..." */
		/* the bounds first: a new START must lie inside the new bounds */
		static const char *const opts[] = { " MINVALUE ", " MAXVALUE ", "START WITH ",
			" INCREMENT BY ", " CACHE " };
		df_buf_truncate(&w, 0);
		for (size_t k = 0; k < sizeof(opts) / sizeof(*opts); k++) {
			const char *p = strstr(nc->extra, opts[k]);
			if (!p)
				continue;
			p += strlen(opts[k]);
			df_buf_printf(&w, "%sSET %s%.*s", w.size ? " " : "",
				opts[k] + (opts[k][0] == ' '), (int)strcspn(p, " "), p);
		}
		df_buf_printf(&w, " SET %sCYCLE", strstr(nc->extra, " CYCLE") ? "" : "NO ");
		df__ddlpg_alter_col(b, t, nc, w.ptr);
	}
comment:
	if ((oc && (!oc->comment != !nc->comment || (oc->comment && strcmp(oc->comment, nc->comment)))) ||
	    (!oc && nc->comment)) {
		df_buf_puts(b, "COMMENT ON COLUMN ");
		df__ddlpg_qname(b, t);
		df_buf_putc(b, '.');
		df__quote_ident(b, D, nc->name);
		df_buf_puts(b, " IS ");
		if (nc->comment)
			df__quote_literal(b, nc->comment);
		else
			df_buf_puts(b, "NULL");
		df_buf_puts(b, ";\n");
	}
out:
	df_buf_release(&w);
}

/* A table's own attributes, after its columns: row security, storage options. */
void df__ddlpg_alter_table(df_buf *b, const df_object *f, const df_object *t)
{
	bool was = f->extra && strstr(f->extra, "unlogged=true"),
		now = t->extra && strstr(t->extra, "unlogged=true");

	/* rewrites the table (and writes it all to the WAL when it becomes
	 * logged) */
	if (was != now) {
		df_buf_puts(b, "ALTER TABLE ");
		df__ddlpg_qname(b, t);
		df_buf_printf(b, " SET %s;\n", now ? "UNLOGGED" : "LOGGED");
	}
	df__ddlpg_table_extras(b, t, f);
	{
		df_buf a = DF_BUF_INIT, c = DF_BUF_INIT;
		bool ha = df__extra_get(f, "with", &a), hc = df__extra_get(t, "with", &c);
		if (ha != hc || (ha && strcmp(a.ptr, c.ptr))) {
			if (ha) {
				/* RESET takes the option names only */
				df_buf names = DF_BUF_INIT;
				for (const char *p = a.ptr; *p;) {
					const char *eq = strchr(p, '='), *comma = strstr(p, ", ");
					df_buf_put(&names, p, eq ? (size_t)(eq - p) : strlen(p));
					if (!comma)
						break;
					df_buf_puts(&names, ", ");
					p = comma + 2;
				}
				df_buf_puts(b, "ALTER TABLE ");
				df__ddlpg_qname(b, t);
				df_buf_printf(b, " RESET (%s);\n", names.ptr);
				df_buf_release(&names);
			}
			if (hc) {
				df_buf_puts(b, "ALTER TABLE ");
				df__ddlpg_qname(b, t);
				df_buf_printf(b, " SET (%s);\n", c.ptr);
			}
		}
		df_buf_release(&a);
		df_buf_release(&c);
	}
}
