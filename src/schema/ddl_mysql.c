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

/* A column-level CHECK (MariaDB names it after its column). */
static bool column_check(const df_object *o)
{
	df_buf v = DF_BUF_INIT;
	bool yes = o->kind == DF_OBJ_CONSTRAINT && o->ctype == DF_CONS_CHECK &&
		df__extra_get(o, "level", &v) && !strcmp(v.ptr, "column");

	df_buf_release(&v);
	return yes;
}

static const df_object *table_in(const df_schema *s, const char *name)
{
	char *key = s ? df_schema_key(DF_OBJ_TABLE, "", name, NULL) : NULL;
	const df_object *t = key ? df_schema_find(s, key) : NULL;

	free(key);
	return t;
}

static const df_object *pk_of(const df_schema *s, const char *table)
{
	for (size_t k = 0; s && k < s->nr; k++) {
		const df_object *c = s->v[k];
		if (c->kind == DF_OBJ_CONSTRAINT && c->ctype == DF_CONS_PRIMARY && c->table &&
		    !strcmp(c->table, table))
			return c;
	}
	return NULL;
}

static bool auto_inc(const df_object *t)
{
	for (size_t i = 0; t && i < t->ncols; i++)
		if (t->cols[i].extra && strstr(t->cols[i].extra, "AUTO_INCREMENT"))
			return true;
	return false;
}

/*
 * A primary key that changes on a table with an AUTO_INCREMENT column
 * (on either side) whose columns change too: the key is dropped and added
 * in the table's own ALTER, with the columns, as the engine wants an
 * AUTO_INCREMENT column to be a key at the end of every statement
 * (ERROR 1075).  Its own drop and create steps write nothing.
 */
static bool pk_joined(const df_schema *sf, const df_schema *st, const char *table)
{
	const df_object *tf = table_in(sf, table), *tt = table_in(st, table);
	const df_object *pf = pk_of(sf, table), *pt = pk_of(st, table);

	if (!tf || !tt || (!auto_inc(tf) && !auto_inc(tt)))
		return false;
	return !pf != !pt || (pf && !df__object_equal(pf, pt));
}

static bool pk_in_alter(const df_schema *sf, const df_schema *st, const char *table)
{
	return pk_joined(sf, st, table) && !df__object_equal(table_in(sf, table), table_in(st, table));
}

/* ... and where the table's columns stay, the key's create step drops the
 * old one in its own statement */
static bool pk_swapped(const df_schema *sf, const df_schema *st, const char *table)
{
	return pk_joined(sf, st, table) && !pk_in_alter(sf, st, table) && pk_of(sf, table) &&
		pk_of(st, table);
}

static void column_def(df_buf *b, const df_column *c);

/* a primary key's definition with its comment */
static void pk_def(df_buf *b, const df_object *pk)
{
	df_buf_puts(b, pk->def);
	if (pk->comment) {
		df_buf_puts(b, " COMMENT ");
		df__quote_literal(b, pk->comment);
	}
}

/* an index a foreign key of its table, kept in `st`, may use */
static bool fk_index(const df_object *x, const df_schema *sf, const df_schema *st)
{
	df_buf col = DF_BUF_INIT;
	bool yes = false;

	for (size_t k = 0; sf && st && k < sf->nr && !yes; k++) {
		const df_object *f = sf->v[k];
		if (f->kind != DF_OBJ_CONSTRAINT || f->ctype != DF_CONS_FOREIGN || !f->nfks ||
		    !f->fks[0].cols.nr || !f->table || strcmp(f->table, x->table) ||
		    !df_schema_find(st, f->key))
			continue;
		df_buf_truncate(&col, 0);
		df_buf_printf(&col, "`%s`", f->fks[0].cols.v[0]);
		yes = !df_buf_oom(&col) && x->def && strstr(x->def, col.ptr);
	}
	df_buf_release(&col);
	return yes;
}

/*
 * A foreign key added to a table that stays: an index both sides have
 * (unchanged) whose first columns are the key's may be the one the engine
 * made for an earlier key ("generated"), which adding a key replaces by a
 * new index named after it.  RENAME INDEX to its own name makes it the
 * user's, so it stays as it is: the index that serves, or NULL.
 */
static const df_object *fk_kept_index(const df_object *fk, const df_schema *sf, const df_schema *st)
{
	df_buf want = DF_BUF_INIT;
	const df_object *found = NULL;

	if (fk->ctype != DF_CONS_FOREIGN || !fk->nfks || !fk->fks[0].cols.nr || !fk->table)
		return NULL;
	df_buf_putc(&want, '(');
	for (size_t i = 0; i < fk->fks[0].cols.nr; i++) {
		if (i)
			df_buf_puts(&want, ", ");
		df__quote_ident(&want, DF_DIALECT_MYSQL, fk->fks[0].cols.v[i]);
	}
	for (size_t k = 0; !df_buf_oom(&want) && k < st->nr && !found; k++) {
		const df_object *x = st->v[k], *old;
		const char *def = x->def;
		if (x->kind != DF_OBJ_INDEX || !x->table || strcmp(x->table, fk->table) || !def ||
		    !strcmp(x->name, fk->name) || !(old = df_schema_find(sf, x->key)) ||
		    !df__object_equal(old, x))
			continue;
		if (!strncmp(def, "UNIQUE ", 7))
			def += 7;
		if (!strncmp(def, want.ptr, want.size) && (def[want.size] == ')' || def[want.size] == ','))
			found = x;
	}
	df_buf_release(&want);
	return found;
}

/* the column and its column-level checks, as `st` has them */
static void column_def_checks(df_buf *b, const df_column *c, const df_schema *st, const char *table)
{
	column_def(b, c);
	for (size_t k = 0; st && k < st->nr; k++) {
		const df_object *o = st->v[k];
		if (column_check(o) && o->table && !strcmp(o->table, table) && !strcmp(o->name, c->name))
			df_buf_printf(b, " %s", o->def);
	}
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

/*
 * A routine, trigger or event runs under the sql_mode it was created
 * under: it is created under its own, the session's put back after.  A
 * body with a semicolon needs another delimiter.
 */
static void body_start(df_buf *b, const df_object *o)
{
	df_buf v = DF_BUF_INIT;

	if (df__extra_get(o, "sql_mode", &v)) {
		df_buf_puts(b, "SET @devflow_sql_mode = @@SESSION.sql_mode;\nSET SESSION sql_mode = ");
		df__quote_literal(b, v.ptr);
		df_buf_puts(b, ";\n");
	}
	df_buf_release(&v);
	if (o->def && strchr(o->def, ';'))
		df_buf_puts(b, "DELIMITER ;;\n");
}

static void body_end(df_buf *b, const df_object *o)
{
	df_buf v = DF_BUF_INIT;

	if (o->def && strchr(o->def, ';'))
		df_buf_puts(b, ";;\nDELIMITER ;\n");
	else
		df_buf_puts(b, ";\n");
	if (df__extra_get(o, "sql_mode", &v))
		df_buf_puts(b, "SET SESSION sql_mode = @devflow_sql_mode;\n");
	df_buf_release(&v);
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

/* Does the space-separated option list `opts` set `key` (the part before '=')? */
static bool option_set(const char *opts, const char *key, size_t kl)
{
	for (const char *p = opts; *p;) {
		size_t l = strcspn(p, " "), pl = strcspn(p, "= ");
		if (pl == kl && !strncmp(p, key, kl))
			return true;
		p += l;
		while (*p == ' ')
			p++;
	}
	return false;
}

/*
 * The create options `from` sets and `to` does not, put back to the
 * server's default: ROW_FORMAT, PACK_KEYS and the STATS_ ones take DEFAULT,
 * the others (KEY_BLOCK_SIZE, CHECKSUM, DELAY_KEY_WRITE, PAGE_COMPRESSED ...)
 * 0, which is theirs.
 */
static void options_reset(df_buf *clauses, const char *from, const char *to)
{
	static const char *const to_default[] = { "row_format", "pack_keys", "stats_persistent",
		"stats_auto_recalc", "stats_sample_pages" };

	for (const char *p = from; *p;) {
		size_t l = strcspn(p, " "), kl = strcspn(p, "= ");
		bool dflt = false;
		if (kl > l)
			kl = l;
		for (size_t i = 0; i < sizeof(to_default) / sizeof(*to_default); i++)
			dflt = dflt || (strlen(to_default[i]) == kl && !strncmp(p, to_default[i], kl));
		if (kl && !option_set(to, p, kl)) {
			df_buf_printf(clauses, "%s\n  ", clauses->size ? "," : "");
			for (size_t i = 0; i < kl; i++)
				df_buf_putc(clauses, (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 'a' + 'A' : p[i]));
			df_buf_puts(clauses, dflt ? "=DEFAULT" : "=0");
		}
		p += l;
		while (*p == ' ')
			p++;
	}
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
			column_def_checks(b, &o->cols[i], st, o->name);
		}
		/* created whole: its primary key and table checks in the statement */
		for (size_t k = 0; k < st->nr; k++) {
			const df_object *c = st->v[k];
			if (c->kind != DF_OBJ_CONSTRAINT || !c->table || strcmp(c->table, o->name))
				continue;
			if (c->ctype == DF_CONS_PRIMARY) {
				df_buf_puts(b, ",\n  ");
				pk_def(b, c);
			}
			else if (c->ctype == DF_CONS_CHECK && !column_check(c)) {
				df_buf_puts(b, ",\n  CONSTRAINT ");
				q(b, c->name);
				df_buf_printf(b, " %s", c->def);
			}
		}
		df_buf_puts(b, "\n)");
		table_options(b, o);
		if (df__extra_get(o, "partition", &v))
			df_buf_printf(b, "\n%s", v.ptr);
		df_buf_puts(b, ";\n");
		break;
	case DF_OBJ_CONSTRAINT: {
		const df_object *tf = table_in(sf, o->table), *tt = table_in(st, o->table);
		/* a new table's key and checks are in its CREATE TABLE */
		if (!tf && tt && (o->ctype == DF_CONS_PRIMARY || o->ctype == DF_CONS_CHECK))
			break;
		if (o->ctype == DF_CONS_PRIMARY && pk_in_alter(sf, st, o->table))
			break;
		if (column_check(o) && tf && tt) {
			/* a column-level check is part of its column: MODIFY it,
			 * unless the table's ALTER adds or changes it already */
			const df_column *nc = NULL, *oc = NULL;
			for (size_t i = 0; i < tt->ncols; i++)
				if (!strcmp(tt->cols[i].name, o->name))
					nc = &tt->cols[i];
			for (size_t i = 0; i < tf->ncols; i++)
				if (!strcmp(tf->cols[i].name, o->name))
					oc = &tf->cols[i];
			if (nc && (!oc || !df__column_equal(oc, nc)))
				break;
			if (nc) {
				df_buf_puts(b, "ALTER TABLE ");
				q(b, o->table);
				df_buf_puts(b, " MODIFY COLUMN ");
				column_def_checks(b, nc, st, o->table);
				df_buf_puts(b, ";\n");
				break;
			}
		}
		if (o->ctype == DF_CONS_PRIMARY) {
			df_buf_puts(b, "ALTER TABLE ");
			q(b, o->table);
			df_buf_printf(b, "%s ADD ", pk_swapped(sf, st, o->table) ? " DROP PRIMARY KEY," : "");
			pk_def(b, o);
			df_buf_puts(b, ";\n");
			break;
		}
		df_buf_puts(b, "ALTER TABLE ");
		q(b, o->table);
		if (tf && tt) {
			const df_object *x = fk_kept_index(o, sf, st);
			if (x) {
				df_buf_puts(b, " RENAME INDEX ");
				q(b, x->name);
				df_buf_puts(b, " TO ");
				q(b, x->name);
				df_buf_putc(b, ',');
			}
		}
		df_buf_puts(b, " ADD CONSTRAINT ");
		q(b, o->name);
		df_buf_printf(b, " %s;\n", o->def);
		break;
	}
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
		body_start(b, o);
		df_buf_puts(b, "CREATE TRIGGER ");
		q(b, o->name);
		df_buf_printf(b, " %s ON ", extra_or(o, "when", &v, ""));
		q(b, o->table);
		df_buf_printf(b, " FOR EACH ROW %s", o->def);
		body_end(b, o);
		break;
	case DF_OBJ_FUNCTION: {
		const char *paren = strchr(name, '(');
		bool proc = df__extra_get(o, "kind", &v) && !strcmp(v.ptr, "procedure");
		char *bare = strndup(name, paren ? (size_t)(paren - name) : strlen(name));
		if (!bare)
			return df_error_oom();
		body_start(b, o);
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
		body_end(b, o);
		break;
	}
	case DF_OBJ_EVENT:
		body_start(b, o);
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
		body_end(b, o);
		break;
	default:
		break;
	}
	df_buf_release(&v);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int my_drop(df_buf *b, const df_object *o, const df_schema *sf, const df_schema *st)
{
	df_buf v = DF_BUF_INIT;

	if (o->kind == DF_OBJ_CONSTRAINT && o->ctype == DF_CONS_PRIMARY &&
	    (pk_in_alter(sf, st, o->table) || pk_swapped(sf, st, o->table)))
		return 0;

	switch (o->kind) {
	case DF_OBJ_TABLE: df_buf_puts(b, "DROP TABLE "); q(b, o->name); break;
	case DF_OBJ_VIEW: df_buf_puts(b, "DROP VIEW "); q(b, o->name); break;
	case DF_OBJ_TRIGGER: df_buf_puts(b, "DROP TRIGGER "); q(b, o->name); break;
	case DF_OBJ_EVENT: df_buf_puts(b, "DROP EVENT "); q(b, o->name); break;
	case DF_OBJ_INDEX:
		/* the index a kept foreign key uses goes after the table's new
		 * indexes (diff.c), and MariaDB drops it itself when one of
		 * them covers the key */
		df_buf_puts(b, fk_index(o, sf, st) ? "DROP INDEX IF EXISTS " : "DROP INDEX ");
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
/* a change MODIFY cannot make (ERROR 1907): generated or not, stored or virtual */
static bool generated_changes(const df_column *oc, const df_column *nc)
{
	return !oc->generated != !nc->generated ||
		(oc->generated && nc->generated && oc->virtual_gen != nc->virtual_gen);
}

static int my_alter_table(df__render *r, df_op *ops, size_t n)
{
	df_buf *b = r->b;
	df_strlist *hz = r->hazards;
	df_buf clauses = DF_BUF_INIT, v = DF_BUF_INIT, w = DF_BUF_INIT;
	const df_object *f = ops[n - 1].before, *t = ops[n - 1].after;
	bool pk = pk_in_alter(r->from, r->to, t->name);
	const df_object *pkf = pk ? pk_of(r->from, t->name) : NULL, *pkt = pk ? pk_of(r->to, t->name) : NULL;

	/* the old key first, so no statement leaves an AUTO_INCREMENT column
	 * without one (its columns may go below) */
	if (pkf)
		df_buf_puts(&clauses, "\n  DROP PRIMARY KEY");
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == DF_OP_DROP_COLUMN ||
		    (ops[i].kind == DF_OP_ALTER_COLUMN && generated_changes(ops[i].col_before, ops[i].col_after))) {
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
		if (oc && generated_changes(oc, nc)) {
			/* dropped above, added again */
			df_strlist_pushf(hz, "devflow: column '%s' is dropped and added again "
				"(a generated column cannot be changed in place): its values are computed "
				"again or lost", nc->name);
			oc = NULL;
		}
		df_buf_printf(&clauses, "%s\n  %s ", clauses.size ? "," : "", oc ? "MODIFY COLUMN" : "ADD COLUMN");
		column_def_checks(&clauses, nc, r->to, t->name);
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
		if (!op->col_before && nc->notnull && !nc->default_expr && !nc->generated)
			df_strlist_pushf(hz, "devflow: new NOT NULL column '%s' has no default: rows get "
				"the type's zero value", nc->name);
	}
	if (pkt) {
		df_buf_printf(&clauses, "%s\n  ADD ", clauses.size ? "," : "");
		pk_def(&clauses, pkt);
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
		if (hf && (!he || strcmp(v.ptr, w.ptr)))
			options_reset(&clauses, w.ptr, he ? v.ptr : "");
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
		return my_alter_table(r, ops, n);
	for (size_t i = 0; i < n && !error; i++) {
		if (ops[i].kind == DF_OP_CREATE)
			error = my_create(r->b, ops[i].after, r->from, r->to);
		else if (ops[i].kind == DF_OP_DROP)
			error = my_drop(r->b, ops[i].before, r->from, r->to);
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
	.fk_needs_index = true,
	.render = my_render,
	.lock = my_lock,
};
