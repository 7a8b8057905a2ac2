/*
 * PostgreSQL DDL for the diff: CREATE / DROP / ALTER of one object.  The
 * definitions come from the server (pg_get_*def), so most objects are
 * created from their own text; tables are built from their columns.  A
 * table's columns changed in place: ddl_pg_alter.c.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/ddl_pg_int.h"
#include "schema/dependants.h"
#include "schema/diff_int.h"
#include "util/banned.h"

#define D DF_DIALECT_POSTGRES

static void qtable(df_buf *b, const df_object *o)
{
	df__qualified(b, D, o->schema, o->table);
}

/* function name and argument list: "f(integer, text)" -> "s"."f"(integer, text) */
static void qfunc(df_buf *b, const df_object *o)
{
	const char *paren = strchr(o->name, '(');
	char *bare = strndup(o->name, paren ? (size_t)(paren - o->name) : strlen(o->name));

	if (!bare) {
		df_buf_puts(b, o->name);
		return;
	}
	df__qualified(b, D, o->schema, bare);
	/* an aggregate of no arguments is named f(*) */
	df_buf_puts(b, o->kind == DF_OBJ_AGGREGATE && paren && !strcmp(paren, "()") ? "(*)" :
		paren ? paren : "()");
	free(bare);
}

static bool is_procedure(const df_object *o)
{
	return o->extra && strstr(o->extra, "kind=procedure");
}

static void put_def(df_buf *b, const char *def)
{
	size_t n = strlen(def);

	while (n && (def[n - 1] == ';' || def[n - 1] == ' ' || def[n - 1] == '\n'))
		n--;
	df_buf_put(b, def, n);
}

static void comment_on(df_buf *b, const char *what, const df_object *o, const char *text)
{
	df_buf_printf(b, "COMMENT ON %s ", what);
	if (o->kind == DF_OBJ_FUNCTION || o->kind == DF_OBJ_AGGREGATE)
		qfunc(b, o);
	else if (o->kind == DF_OBJ_CONSTRAINT || o->kind == DF_OBJ_TRIGGER || o->kind == DF_OBJ_POLICY) {
		df__quote_ident(b, D, o->name);
		df_buf_puts(b, " ON ");
		if (o->kind == DF_OBJ_CONSTRAINT && !o->table)
			df_buf_puts(b, "DOMAIN ");
		qtable(b, o);
	} else if (o->kind == DF_OBJ_SCHEMA || o->kind == DF_OBJ_EXTENSION)
		df__quote_ident(b, D, o->name);
	else
		df__ddlpg_qname(b, o);
	df_buf_puts(b, " IS ");
	if (text)
		df__quote_literal(b, text);
	else
		df_buf_puts(b, "NULL");
	df_buf_puts(b, ";\n");
}

static const char *comment_kind(const df_object *o)
{
	switch (o->kind) {
	case DF_OBJ_SCHEMA: return "SCHEMA";
	case DF_OBJ_EXTENSION: return "EXTENSION";
	case DF_OBJ_ENUM: case DF_OBJ_COMPOSITE: return "TYPE";
	case DF_OBJ_DOMAIN: return "DOMAIN";
	case DF_OBJ_SEQUENCE: return "SEQUENCE";
	case DF_OBJ_FUNCTION: return is_procedure(o) ? "PROCEDURE" : "FUNCTION";
	case DF_OBJ_AGGREGATE: return "AGGREGATE";
	case DF_OBJ_TABLE: return "TABLE";
	case DF_OBJ_CONSTRAINT: return "CONSTRAINT";
	case DF_OBJ_INDEX: return "INDEX";
	case DF_OBJ_VIEW: return "VIEW";
	case DF_OBJ_MATVIEW: return "MATERIALIZED VIEW";
	case DF_OBJ_TRIGGER: return "TRIGGER";
	case DF_OBJ_POLICY: return "POLICY";
	default: return NULL;
	}
}

static void seq_options(df_buf *b, const df_object *o, const df_object *old)
{
	df_buf v = DF_BUF_INIT, w = DF_BUF_INIT;
	static const struct { const char *key, *sql; } opts[] = {
		{ "as", "AS" }, { "increment", "INCREMENT BY" }, { "minvalue", "MINVALUE" },
		{ "maxvalue", "MAXVALUE" }, { "start", "START WITH" }, { "cache", "CACHE" },
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++) {
		bool has = df__extra_get(o, opts[i].key, &v);
		if (old && df__extra_get(old, opts[i].key, &w) == has && (!has || !strcmp(v.ptr, w.ptr)))
			continue;
		if (has)
			df_buf_printf(b, " %s %s", opts[i].sql, v.ptr);
	}
	{
		bool cyc = df__extra_get(o, "cycle", &v);
		if (!old || df__extra_get(old, "cycle", &w) != cyc)
			df_buf_puts(b, cyc ? " CYCLE" : " NO CYCLE");
	}
	df_buf_release(&v);
	df_buf_release(&w);
}

/* `op`: the create operation (its forms), or NULL */
/* The comments on `o`'s columns (a table's, a view's) that `was` (NULL:
 * a new object) has not: COMMENT ON COLUMN, IS NULL for one gone. */
static void column_comments(df_buf *b, const df_object *was, const df_object *o)
{
	for (size_t i = 0; i < o->ncols; i++) {
		const df_column *c = &o->cols[i], *p = NULL;
		for (size_t k = 0; was && k < was->ncols; k++)
			if (!strcmp(was->cols[k].name, c->name))
				p = &was->cols[k];
		if (!p ? !c->comment : (!p->comment == !c->comment &&
		    (!c->comment || !strcmp(p->comment, c->comment))))
			continue;
		df_buf_puts(b, "COMMENT ON COLUMN ");
		df__ddlpg_qname(b, o);
		df_buf_putc(b, '.');
		df__quote_ident(b, D, c->name);
		df_buf_puts(b, " IS ");
		if (c->comment)
			df__quote_literal(b, c->comment);
		else
			df_buf_puts(b, "NULL");
		df_buf_puts(b, ";\n");
	}
}

static int pg_create(df_buf *b, const df_object *o, const df_schema *sfrom, const df_schema *sto,
	const df_op *op)
{
	df_buf v = DF_BUF_INIT;
	const char *ck;

	switch (o->kind) {
	case DF_OBJ_SCHEMA:
		df_buf_puts(b, "CREATE SCHEMA ");
		df__quote_ident(b, D, o->name);
		df_buf_puts(b, ";\n");
		break;
	case DF_OBJ_EXTENSION:
		df_buf_puts(b, "CREATE EXTENSION IF NOT EXISTS ");
		df__quote_ident(b, D, o->name);
		if (df__extra_get(o, "schema", &v)) {
			df_buf_puts(b, " WITH SCHEMA ");
			df__quote_ident(b, D, v.ptr);
		}
		if (df__extra_get(o, "version", &v)) {
			df_buf_puts(b, " VERSION ");
			df__quote_literal(b, v.ptr);
		}
		df_buf_puts(b, ";\n");
		break;
	case DF_OBJ_ENUM:
		df_buf_puts(b, "CREATE TYPE ");
		df__ddlpg_qname(b, o);
		df_buf_printf(b, " AS ENUM (%s);\n", o->def ? o->def : "");
		break;
	case DF_OBJ_DOMAIN:
		df_buf_puts(b, "CREATE DOMAIN ");
		df__ddlpg_qname(b, o);
		df_buf_printf(b, " AS %s;\n", o->def);
		break;
	case DF_OBJ_COMPOSITE:
		df_buf_puts(b, "CREATE TYPE ");
		df__ddlpg_qname(b, o);
		df_buf_puts(b, " AS (");
		for (size_t i = 0; i < o->ncols; i++) {
			df_buf_puts(b, i ? ", " : "");
			df__quote_ident(b, D, o->cols[i].name);
			df_buf_printf(b, " %s", o->cols[i].type);
			if (o->cols[i].collation)
				df_buf_printf(b, " COLLATE %s", o->cols[i].collation);
		}
		df_buf_puts(b, ");\n");
		break;
	case DF_OBJ_SEQUENCE: {
		char *tkey;
		df_buf_puts(b, "CREATE SEQUENCE ");
		df__ddlpg_qname(b, o);
		seq_options(b, o, NULL);
		df_buf_puts(b, ";\n");
		/* OWNED BY here when its table is there already; else the table's
		 * CREATE says it */
		if (df__extra_get(o, "owned_by", &v)) {
			const char *dot = strchr(v.ptr, '.');
			bool table_new = false;
			/* owned_by is "schema"."table"."col" quoted by the server */
			if (dot) {
				const char *dot2 = strrchr(v.ptr, '.');
				char *qt = strndup(dot + 1, (size_t)(dot2 - dot - 1));
				char *sch = strndup(v.ptr, (size_t)(dot - v.ptr));
				if (qt && sch) {
					/* strip the quotes the server put around odd names */
					for (char *p = qt; *p; p++)
						if (*p == '"')
							memmove(p, p + 1, strlen(p));
					for (char *p = sch; *p; p++)
						if (*p == '"')
							memmove(p, p + 1, strlen(p));
					tkey = df_schema_key(DF_OBJ_TABLE, sch, qt, NULL);
					table_new = tkey && !df_schema_find(sfrom, tkey) && df_schema_find(sto, tkey);
					free(tkey);
				}
				free(qt);
				free(sch);
			}
			if (!table_new) {
				df_buf_puts(b, "ALTER SEQUENCE ");
				df__ddlpg_qname(b, o);
				df_buf_printf(b, " OWNED BY %s;\n", v.ptr);
			}
		}
		break;
	}
	case DF_OBJ_FUNCTION:
	case DF_OBJ_AGGREGATE:          /* read_pg.c built its CREATE AGGREGATE */
		put_def(b, o->def);
		df_buf_puts(b, ";\n");
		break;
	case DF_OBJ_TABLE: {
		bool part = df__extra_get(o, "partition_of", &v);
		bool first = true;
		df_buf_printf(b, "CREATE %s%sTABLE ", o->extra && strstr(o->extra, "unlogged=true") ?
			"UNLOGGED " : "", o->extra && strstr(o->extra, "foreign=true") ? "FOREIGN " : "");
		df__ddlpg_qname(b, o);
		if (part) {
			df_buf_printf(b, " PARTITION OF %s", v.ptr);
			if (df__extra_get(o, "partition_bound", &v))
				df_buf_printf(b, " %s", v.ptr);
		} else {
			df_buf_puts(b, " (");
			for (size_t i = 0; i < o->ncols; i++) {
				if (o->cols[i].inherited)
					continue;
				df_buf_puts(b, first ? "\n    " : ",\n    ");
				df__ddlpg_column_def(b, &o->cols[i]);
				first = false;
			}
			df_buf_puts(b, first ? ")" : "\n)");
			if (df__extra_get(o, "inherits", &v))
				df_buf_printf(b, " INHERITS (%s)", v.ptr);
		}
		if (df__extra_get(o, "partition_by", &v))
			df_buf_printf(b, " PARTITION BY %s", v.ptr);
		if (df__extra_get(o, "with", &v))
			df_buf_printf(b, " WITH (%s)", v.ptr);
		df_buf_puts(b, ";\n");
		df__ddlpg_table_extras(b, o, NULL);
		column_comments(b, NULL, o);
		/* sequences created with it and owned by its columns */
		for (size_t i = 0; i < sto->nr; i++) {
			const df_object *s = sto->v[i];
			df_buf own = DF_BUF_INIT, want = DF_BUF_INIT;
			if (s->kind != DF_OBJ_SEQUENCE || !df__extra_get(s, "owned_by", &own)) {
				df_buf_release(&own);
				continue;
			}
			df__qualified(&want, D, o->schema, o->name);
			df_buf_putc(&want, '.');
			/* the server quotes only names that need it: compare loosely */
			if (!strncmp(own.ptr, want.ptr, want.size) ||
			    (!strchr(o->schema, '"') && !strchr(o->name, '"'))) {
				df_buf tmp = DF_BUF_INIT;
				df_buf_printf(&tmp, "%s.%s.", o->schema, o->name);
				if (!strncmp(own.ptr, want.ptr, want.size) || !strncmp(own.ptr, tmp.ptr, tmp.size)) {
					df_buf_puts(b, "ALTER SEQUENCE ");
					df__ddlpg_qname(b, s);
					df_buf_printf(b, " OWNED BY %s;\n", own.ptr);
				}
				df_buf_release(&tmp);
			}
			df_buf_release(&own);
			df_buf_release(&want);
		}
		break;
	}
	case DF_OBJ_CONSTRAINT:
		/* NOT VALID: the VALIDATE operation follows, and says the comment */
		df_buf_puts(b, "ALTER TABLE ");
		qtable(b, o);
		df_buf_puts(b, " ADD CONSTRAINT ");
		df__quote_ident(b, D, o->name);
		df_buf_printf(b, " %s%s;\n", o->def, op && op->not_valid ? " NOT VALID" : "");
		if (op && op->not_valid)
			goto out;
		break;
	case DF_OBJ_INDEX: {
		/* pg_get_indexdef(): "CREATE [UNIQUE] INDEX name ON ..." */
		size_t at = !strncmp(o->def, "CREATE INDEX ", 13) ? 13 :
			!strncmp(o->def, "CREATE UNIQUE INDEX ", 20) ? 20 : 0;
		/* a partitioned table's index prints "ON ONLY": that makes an
		 * invalid index on the parent alone.  Without ONLY every
		 * partition gets its own, attached (unless `to`'s is invalid) */
		const char *only = strstr(o->def, " ON ONLY ");
		df_buf def = DF_BUF_INIT;
		if (only && !df__extra_get(o, "valid", &v)) {
			df_buf_put(&def, o->def, (size_t)(only - o->def));
			df_buf_puts(&def, " ON ");
			df_buf_puts(&def, only + 9);
		} else
			df_buf_puts(&def, o->def);
		if (df_buf_oom(&def)) {
			df_buf_release(&def);
			break;
		}
		if (op && op->concurrently && at && !only) {
			df_buf_put(b, def.ptr, at);
			df_buf_puts(b, "CONCURRENTLY ");
			put_def(b, def.ptr + at);
		} else
			put_def(b, def.ptr);
		df_buf_release(&def);
		df_buf_puts(b, ";\n");
		break;
	}
	case DF_OBJ_VIEW:
	case DF_OBJ_MATVIEW:
		df_buf_printf(b, "CREATE %s ", o->kind == DF_OBJ_VIEW ? "VIEW" : "MATERIALIZED VIEW");
		df__ddlpg_qname(b, o);
		if (df__extra_get(o, "with", &v))
			df_buf_printf(b, " WITH (%s)", v.ptr);
		df_buf_puts(b, " AS\n");
		put_def(b, o->def);
		df_buf_puts(b, ";\n");
		column_comments(b, NULL, o);
		break;
	case DF_OBJ_TRIGGER:
		put_def(b, o->def);
		df_buf_puts(b, ";\n");
		if (df__extra_get(o, "enabled", &v)) {
			df_buf_puts(b, "ALTER TABLE ");
			qtable(b, o);
			df_buf_printf(b, " %s TRIGGER ", v.ptr[0] == 'D' ? "DISABLE" :
				v.ptr[0] == 'A' ? "ENABLE ALWAYS" : v.ptr[0] == 'R' ? "ENABLE REPLICA" : "ENABLE");
			df__quote_ident(b, D, o->name);
			df_buf_puts(b, ";\n");
		}
		break;
	case DF_OBJ_POLICY:
		df_buf_puts(b, "CREATE POLICY ");
		df__quote_ident(b, D, o->name);
		df_buf_puts(b, " ON ");
		qtable(b, o);
		df_buf_printf(b, " %s;\n", o->def);
		break;
	default:
		break;
	}
	if (o->comment && (ck = comment_kind(o)))
		comment_on(b, ck, o, o->comment);
out:
	df_buf_release(&v);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

/* VALIDATE of a constraint added NOT VALID, then its comment. */
static int pg_validate(df_buf *b, const df_object *o)
{
	df_buf_puts(b, "ALTER TABLE ");
	qtable(b, o);
	df_buf_puts(b, " VALIDATE CONSTRAINT ");
	df__quote_ident(b, D, o->name);
	df_buf_puts(b, ";\n");
	if (o->comment)
		comment_on(b, "CONSTRAINT", o, o->comment);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int pg_drop(df_buf *b, const df_object *o, const df_op *op)
{
	switch (o->kind) {
	case DF_OBJ_SCHEMA: df_buf_puts(b, "DROP SCHEMA "); df__quote_ident(b, D, o->name); break;
	case DF_OBJ_EXTENSION: df_buf_puts(b, "DROP EXTENSION "); df__quote_ident(b, D, o->name); break;
	case DF_OBJ_ENUM: case DF_OBJ_COMPOSITE: df_buf_puts(b, "DROP TYPE "); df__ddlpg_qname(b, o); break;
	case DF_OBJ_DOMAIN: df_buf_puts(b, "DROP DOMAIN "); df__ddlpg_qname(b, o); break;
	case DF_OBJ_SEQUENCE: df_buf_puts(b, "DROP SEQUENCE "); df__ddlpg_qname(b, o); break;
	case DF_OBJ_FUNCTION:
	case DF_OBJ_AGGREGATE:
		df_buf_printf(b, "DROP %s ", o->kind == DF_OBJ_AGGREGATE ? "AGGREGATE" :
			is_procedure(o) ? "PROCEDURE" : "FUNCTION");
		qfunc(b, o);
		break;
	case DF_OBJ_TABLE:
		df_buf_printf(b, "DROP %sTABLE ", o->extra && strstr(o->extra, "foreign=true") ? "FOREIGN " : "");
		df__ddlpg_qname(b, o);
		break;
	case DF_OBJ_CONSTRAINT:
		df_buf_puts(b, "ALTER TABLE ");
		qtable(b, o);
		df_buf_puts(b, " DROP CONSTRAINT ");
		df__quote_ident(b, D, o->name);
		break;
	case DF_OBJ_INDEX:
		df_buf_printf(b, "DROP INDEX %s%s", op && op->concurrently ? "CONCURRENTLY " : "",
			op && op->if_exists ? "IF EXISTS " : "");
		df__ddlpg_qname(b, o);
		break;
	case DF_OBJ_VIEW: df_buf_puts(b, "DROP VIEW "); df__ddlpg_qname(b, o); break;
	case DF_OBJ_MATVIEW: df_buf_puts(b, "DROP MATERIALIZED VIEW "); df__ddlpg_qname(b, o); break;
	case DF_OBJ_TRIGGER:
	case DF_OBJ_POLICY:
		df_buf_printf(b, "DROP %s ", o->kind == DF_OBJ_TRIGGER ? "TRIGGER" : "POLICY");
		df__quote_ident(b, D, o->name);
		df_buf_puts(b, " ON ");
		qtable(b, o);
		break;
	default:
		return 0;
	}
	df_buf_puts(b, ";\n");
	return df_buf_oom(b) ? df_error_oom() : 0;
}

/* The enum's labels of `from` in order inside `to`'s (only additions)? */
static bool enum_only_added(const char *from, const char *to)
{
	/* labels are quote_literal()s joined by ", " */
	const char *p = from, *q = to;

	while (*p) {
		const char *pe = strstr(p, "', '");
		size_t pl = pe ? (size_t)(pe - p) + 1 : strlen(p);
		bool found = false;
		while (*q) {
			const char *qe = strstr(q, "', '");
			size_t ql = qe ? (size_t)(qe - q) + 1 : strlen(q);
			if (pl == ql && !strncmp(p, q, pl)) {
				q += ql + (qe ? 2 : 0);
				found = true;
				break;
			}
			q += ql + (qe ? 2 : 0);
		}
		if (!found)
			return false;
		p += pl + (pe ? 2 : 0);
	}
	return true;
}

static bool views_prefix(const df_object *a, const df_object *b)
{
	if (a->ncols > b->ncols)
		return false;
	for (size_t i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) || strcmp(a->cols[i].type, b->cols[i].type) ||
		    !a->cols[i].collation != !b->cols[i].collation)
			return false;
	return true;
}

static const char *returns_clause(const char *def, size_t *len)
{
	const char *r = def ? strstr(def, " RETURNS ") : NULL;
	const char *nl = r ? strchr(r, '\n') : NULL;

	*len = r ? (nl ? (size_t)(nl - r) : strlen(r)) : 0;
	return r;
}

static bool only_comment_differs(const df_object *a, const df_object *b)
{
	df_object x = *a;

	x.comment = b->comment;
	return df__object_equal(&x, b);
}

static unsigned int pg_classify(const df_object *f, const df_object *t, const df_schema *sf,
	const df_schema *st)
{
	if (only_comment_differs(f, t))
		return 0;
	switch (f->kind) {
	case DF_OBJ_TABLE: {
		df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
		unsigned int how = 0;
		static const char *const fixed[] = { "partition_of", "partition_by", "partition_bound",
			"inherits", "foreign" };
		for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
			bool ha = df__extra_get(f, fixed[i], &a), hb = df__extra_get(t, fixed[i], &b);
			if (ha != hb || (ha && strcmp(a.ptr, b.ptr)))
				how |= DF__ALTER_RECREATE;
		}
		df_buf_release(&a);
		df_buf_release(&b);
		/* a column whose type changes or that goes away: views around it */
		for (size_t i = 0; i < f->ncols; i++) {
			size_t j;
			for (j = 0; j < t->ncols; j++)
				if (!strcmp(f->cols[i].name, t->cols[j].name))
					break;
			if (j == t->ncols || strcmp(f->cols[i].type, t->cols[j].type) ||
			    !f->cols[i].collation != !t->cols[j].collation ||
			    (f->cols[i].collation && strcmp(f->cols[i].collation, t->cols[j].collation)) ||
			    !f->cols[i].generated != !t->cols[j].generated ||
			    (f->cols[i].generated && strcmp(f->cols[i].generated, t->cols[j].generated)))
				how |= DF__ALTER_DEPENDENTS;
		}
		return how;
	}
	case DF_OBJ_SEQUENCE:
		return 0;
	case DF_OBJ_EXTENSION: {
		df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
		unsigned int how = 0;
		df__extra_get(f, "schema", &a);
		df__extra_get(t, "schema", &b);
		how = strcmp(a.ptr, b.ptr) ? DF__ALTER_RECREATE : 0;
		df_buf_release(&a);
		df_buf_release(&b);
		return how;
	}
	case DF_OBJ_SCHEMA:
		return 0;
	case DF_OBJ_ENUM:
		return enum_only_added(f->def ? f->def : "", t->def ? t->def : "") ? 0 :
			DF__ALTER_DEPENDENTS;
	case DF_OBJ_VIEW:
		return views_prefix(f, t) && !strcmp(f->extra ? f->extra : "", t->extra ? t->extra : "") ?
			0 : DF__ALTER_RECREATE;
	case DF_OBJ_FUNCTION: {
		size_t la, lb;
		const char *ra = returns_clause(f->def, &la), *rb = returns_clause(t->def, &lb);
		if (!ra || !rb || la != lb || strncmp(ra, rb, la) || is_procedure(f) != is_procedure(t))
			return DF__ALTER_RECREATE;
		return 0;
	}
	case DF_OBJ_TRIGGER:
		return f->def && t->def && !strcmp(f->def, t->def) ? 0 : DF__ALTER_RECREATE;
	default:
		(void)sf;
		(void)st;
		return DF__ALTER_RECREATE;
	}
}

/* The enum's columns in `sto` (tables that exist in both): "t"."c" pairs. */
static void enum_recreate(df_buf *b, const df_object *f, const df_object *t, const df_schema *sf,
	const df_schema *st)
{
	df_buf old = DF_BUF_INIT, oldname = DF_BUF_INIT, typename = DF_BUF_INIT;

	df_buf_printf(&oldname, "%s__devflow_old", t->name);
	df_buf_puts(b, "ALTER TYPE ");
	df__ddlpg_qname(b, f);
	df_buf_puts(b, " RENAME TO ");
	df__quote_ident(b, D, oldname.ptr);
	df_buf_puts(b, ";\n");
	pg_create(b, t, sf, st, NULL);
	df__qualified(&typename, D, t->schema, t->name);
	for (size_t i = 0; i < st->nr; i++) {
		const df_object *tb = st->v[i];
		if (tb->kind != DF_OBJ_TABLE || !df_schema_find(sf, tb->key))
			continue;
		for (size_t k = 0; k < tb->deps.nr; k++) {
			if (strcmp(tb->deps.v[k], t->key))
				continue;
			for (size_t c = 0; c < tb->ncols; c++) {
				const df_column *col = &tb->cols[c];
				size_t tl = strlen(col->type);
				bool arr = tl > 2 && !strcmp(col->type + tl - 2, "[]");
				/* format_type() prints the bare or the qualified name;
				 * "integer" is no column of enum "e" */
				size_t bl = arr ? tl - 2 : tl, sl = strlen(t->schema);
				if (!((bl == strlen(t->name) && !strncmp(col->type, t->name, bl)) ||
				      (bl == typename.size && !strncmp(col->type, typename.ptr, bl)) ||
				      (bl == sl + 1 + strlen(t->name) && !strncmp(col->type, t->schema, sl) &&
				       col->type[sl] == '.' && !strncmp(col->type + sl + 1, t->name, bl - sl - 1))))
					continue;
				if (col->default_expr)
					df__ddlpg_alter_col(b, tb, col, "DROP DEFAULT");
				df_buf_truncate(&old, 0);
				df_buf_printf(&old, "TYPE %s%s USING ", typename.ptr, arr ? "[]" : "");
				df__quote_ident(&old, D, col->name);
				df_buf_printf(&old, "::text%s::%s%s", arr ? "[]" : "", typename.ptr, arr ? "[]" : "");
				df__ddlpg_alter_col(b, tb, col, old.ptr);
				if (col->default_expr) {
					df_buf_truncate(&old, 0);
					df_buf_printf(&old, "SET DEFAULT %s", col->default_expr);
					df__ddlpg_alter_col(b, tb, col, old.ptr);
				}
			}
		}
	}
	df_buf_puts(b, "DROP TYPE ");
	df__qualified(b, D, f->schema, oldname.ptr);
	df_buf_puts(b, ";\n");
	df_buf_release(&old);
	df_buf_release(&oldname);
	df_buf_release(&typename);
}

static int pg_alter(df_buf *b, df_op *op, df_strlist *hz, const df_schema *sf,
	const df_schema *st)
{
	const df_object *f = op->before, *t = op->after;
	const char *ck;
	df_buf a = DF_BUF_INIT, c = DF_BUF_INIT;

	if (!only_comment_differs(f, t)) {
		switch (t->kind) {
		case DF_OBJ_TABLE:
			df__ddlpg_alter_table(b, f, t);
			break;
		case DF_OBJ_SEQUENCE: {
			df_buf opts = DF_BUF_INIT;
			bool ha, hc;
			seq_options(&opts, t, f);
			if (opts.size) {
				df_buf_puts(b, "ALTER SEQUENCE ");
				df__ddlpg_qname(b, t);
				df_buf_printf(b, "%s;\n", opts.ptr);
			}
			df_buf_release(&opts);
			ha = df__extra_get(t, "owned_by", &a);
			hc = df__extra_get(f, "owned_by", &c);
			if (ha != hc || (ha && strcmp(a.ptr, c.ptr))) {
				df_buf_puts(b, "ALTER SEQUENCE ");
				df__ddlpg_qname(b, t);
				df_buf_printf(b, " OWNED BY %s;\n", ha ? a.ptr : "NONE");
			}
			break;
		}
		case DF_OBJ_EXTENSION:
			if (df__extra_get(t, "version", &a)) {
				df_buf_puts(b, "ALTER EXTENSION ");
				df__quote_ident(b, D, t->name);
				df_buf_puts(b, " UPDATE TO ");
				df__quote_literal(b, a.ptr);
				df_buf_puts(b, ";\n");
			}
			break;
		case DF_OBJ_ENUM:
			if (enum_only_added(f->def, t->def)) {
				/* ADD VALUE, each after its predecessor in `to` */
				const char *q = t->def, *prev = NULL;
				size_t prevlen = 0;
				while (*q) {
					const char *qe = strstr(q, "', '");
					size_t ql = qe ? (size_t)(qe - q) + 1 : strlen(q);
					bool had = false;
					for (const char *p = f->def; *p;) {
						const char *pe = strstr(p, "', '");
						size_t pl = pe ? (size_t)(pe - p) + 1 : strlen(p);
						if (pl == ql && !strncmp(p, q, pl))
							had = true;
						p += pl + (pe ? 2 : 0);
					}
					if (!had) {
						df_buf_puts(b, "ALTER TYPE ");
						df__ddlpg_qname(b, t);
						df_buf_puts(b, " ADD VALUE ");
						df_buf_put(b, q, ql);
						if (prev) {
							df_buf_puts(b, " AFTER ");
							df_buf_put(b, prev, prevlen);
						} else if (qe) {
							const char *nq = qe + 3, *ne = strstr(nq, "', '");
							df_buf_puts(b, " BEFORE ");
							df_buf_put(b, nq, ne ? (size_t)(ne - nq) + 1 : strlen(nq));
						}
						df_buf_puts(b, ";\n");
					}
					prev = q;
					prevlen = ql;
					q += ql + (qe ? 2 : 0);
				}
			} else {
				enum_recreate(b, f, t, sf, st);
				op->destroys_data = true;
				df_strlist_push(hz, "devflow: values removed from an enum: columns are "
					"converted through text and fail on a removed value still stored");
			}
			break;
		case DF_OBJ_VIEW:
			df_buf_puts(b, "CREATE OR REPLACE VIEW ");
			df__ddlpg_qname(b, t);
			df_buf_puts(b, " AS\n");
			put_def(b, t->def);
			df_buf_puts(b, ";\n");
			column_comments(b, f, t);
			break;
		case DF_OBJ_FUNCTION:
			put_def(b, t->def);
			df_buf_puts(b, ";\n");
			break;
		case DF_OBJ_TRIGGER:
			df_buf_puts(b, "ALTER TABLE ");
			qtable(b, t);
			df__extra_get(t, "enabled", &a);
			df_buf_printf(b, " %s TRIGGER ", a.ptr[0] == 'D' ? "DISABLE" :
				a.ptr[0] == 'A' ? "ENABLE ALWAYS" : a.ptr[0] == 'R' ? "ENABLE REPLICA" : "ENABLE");
			df__quote_ident(b, D, t->name);
			df_buf_puts(b, ";\n");
			break;
		default:
			break;
		}
	}
	if ((!f->comment != !t->comment || (f->comment && strcmp(f->comment, t->comment))) &&
	    (ck = comment_kind(t)))
		comment_on(b, ck, t, t->comment);
	df_buf_release(&a);
	df_buf_release(&c);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

static int pg_render(df__render *r, df_op *ops, size_t n)
{
	int error = 0;

	for (size_t i = 0; i < n && !error; i++) {
		df_op *op = &ops[i];
		switch (op->kind) {
		case DF_OP_CREATE:
			error = pg_create(r->b, op->after, r->from, r->to, op);
			if (!error)     /* re-created: its owner, grants, rules */
				error = df__restore_around(r->b, r->from, r->to, op->after);
			break;
		case DF_OP_DROP:
			error = pg_drop(r->b, op->before, op);
			break;
		case DF_OP_ALTER:
			error = pg_alter(r->b, op, r->hazards, r->from, r->to);
			break;
		case DF_OP_VALIDATE:
			error = pg_validate(r->b, op->after);
			break;
		case DF_OP_DROP_COLUMN:
			df__ddlpg_drop_column(r->b, op, r->from, r->to);
			break;
		case DF_OP_ADD_COLUMN:
		case DF_OP_ALTER_COLUMN:
			df__ddlpg_column_change(r->b, r->hazards, op, r->from, r->to);
			break;
		default:
			break;
		}
	}
	if (!error && df_buf_oom(r->b))
		error = df_error_oom();
	return error;
}

static df_op_lock pg_lock(const df_op *op)
{
	switch (op->kind) {
	case DF_OP_CREATE:
		switch (op->object_kind) {
		case DF_OBJ_INDEX:
			return op->concurrently ? DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE : DF_OP_LOCK_PG_SHARE;
		case DF_OBJ_CONSTRAINT:
			/* a foreign key: on both tables */
			return op->ctype == DF_CONS_FOREIGN ? DF_OP_LOCK_PG_SHARE_ROW_EXCLUSIVE :
				op->after && op->after->table ? DF_OP_LOCK_PG_ACCESS_EXCLUSIVE : DF_OP_LOCK_NONE;
		case DF_OBJ_TRIGGER:
			return DF_OP_LOCK_PG_SHARE_ROW_EXCLUSIVE;
		case DF_OBJ_POLICY:
			return DF_OP_LOCK_PG_ACCESS_EXCLUSIVE;
		default:
			return DF_OP_LOCK_NONE;    /* a new object: nothing that exists waits */
		}
	case DF_OP_VALIDATE:
		return DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE;
	case DF_OP_DROP:
		if (op->object_kind == DF_OBJ_INDEX && op->concurrently)
			return DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE;
		return op->object_kind == DF_OBJ_FUNCTION || op->object_kind == DF_OBJ_AGGREGATE ?
			DF_OP_LOCK_NONE : DF_OP_LOCK_PG_ACCESS_EXCLUSIVE;
	case DF_OP_ALTER:
		return op->object_kind == DF_OBJ_FUNCTION || op->object_kind == DF_OBJ_AGGREGATE ||
			op->object_kind == DF_OBJ_SCHEMA ||
			op->object_kind == DF_OBJ_EXTENSION ? DF_OP_LOCK_NONE : DF_OP_LOCK_PG_ACCESS_EXCLUSIVE;
	default:
		return DF_OP_LOCK_PG_ACCESS_EXCLUSIVE;
	}
}

const df__ddl df__ddl_pg = {
	.classify = pg_classify,
	.not_valid_later = true,
	.render = pg_render,
	.lock = pg_lock,
	.no_body_check = "SET check_function_bodies = false;\n",
};
