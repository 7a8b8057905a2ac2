/*
 * MySQL/MariaDB's schema from information_schema: one bulk query per
 * catalog table (TABLES, COLUMNS, STATISTICS, key and check constraints,
 * VIEWS, TRIGGERS, ROUTINES with PARAMETERS, EVENTS, PARTITIONS), each
 * filtered to the current database in SQL.  information_schema records no
 * dependencies of views and triggers; they are the schema's names that
 * occur quoted in the server's canonical text of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

static const char *const my_not_compared[] = {
	"privileges", "definers", "sequences", "system versioning",
	"auto_increment counters", "partition options other than the scheme",
};

static const char Q_TABLES[] =
	"SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT, CREATE_OPTIONS "
	"FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
	"AND TABLE_TYPE IN ('BASE TABLE', 'VIEW') ORDER BY TABLE_NAME";
static const char Q_COLUMNS[] =
	"SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
	" CHARACTER_SET_NAME, COLLATION_NAME, EXTRA, COLUMN_COMMENT, GENERATION_EXPRESSION "
	"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
	"ORDER BY TABLE_NAME, ORDINAL_POSITION";
static const char Q_INDEXES[] =
	"SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, INDEX_COMMENT, "
	" COLLATION "
	"FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
	"ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
static const char Q_FKEYS[] =
	"SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
	" k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
	"FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
	" ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
	" AND r.TABLE_NAME = k.TABLE_NAME "
	"WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
	"ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";
static const char Q_CHECKS[] =
	"SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL "
	"FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";
static const char Q_VIEWS[] =
	"SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, ALGORITHM "
	"FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()";
static const char Q_TRIGGERS[] =
	"SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT, "
	" ACTION_ORDER, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
	"ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER";
static const char Q_ROUTINES[] =
	"SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, "
	" SQL_DATA_ACCESS, SECURITY_TYPE, ROUTINE_COMMENT, "
	" (SELECT GROUP_CONCAT(CONCAT_WS(' ', IF(p.ROUTINE_TYPE = 'PROCEDURE', p.PARAMETER_MODE, NULL), "
	"   CONCAT('`', REPLACE(p.PARAMETER_NAME, '`', '``'), '`'), p.DTD_IDENTIFIER) "
	"   ORDER BY p.ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.PARAMETERS p "
	"   WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME "
	"   AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0), SQL_MODE "
	"FROM information_schema.ROUTINES r WHERE ROUTINE_SCHEMA = DATABASE()";
static const char Q_PROC[] =
	"SELECT name, type, CONVERT(returns USING utf8mb4), CONVERT(body USING utf8mb4), "
	" IF(is_deterministic = 'YES', 'YES', 'NO'), "
	" REPLACE(sql_data_access, '_', ' '), security_type, CONVERT(comment USING utf8mb4), "
	" CONVERT(param_list USING utf8mb4), CAST(sql_mode AS CHAR) "
	"FROM mysql.proc WHERE db = DATABASE() AND type IN ('FUNCTION', 'PROCEDURE')";
static const char Q_EVENTS[] =
	"SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, "
	" STARTS, ENDS, STATUS, ON_COMPLETION, EVENT_COMMENT, SQL_MODE "
	"FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()";
static const char Q_PARTITIONS[] =
	"SELECT TABLE_NAME, PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, "
	" PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
	"WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL "
	"ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION";

static const char *cell(const df_rows *r, size_t i, size_t c)
{
	return df_rows_get(r, i, c);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static int extra_add(df_object *o, const char *key, const char *value)
{
	df_buf b = DF_BUF_INIT;
	int error;

	if (!value || !*value)
		return 0;
	if (o->extra)
		df_buf_puts(&b, o->extra);
	df_buf_printf(&b, "%s=%s\n", key, value);
	error = df_buf_oom(&b) ? df_error_oom() : df_schema_set(&o->extra, b.ptr);
	df_buf_release(&b);
	return error;
}

/* `db`.`x` -> `x`: the server qualifies names in view text with the database */
static char *strip_db(const char *text, const char *db)
{
	df_buf pat = DF_BUF_INIT, out = DF_BUF_INIT;
	const char *p = text;

	if (!text)
		return NULL;
	df__quote_ident(&pat, DF_DIALECT_MYSQL, db);
	df_buf_putc(&pat, '.');
	for (;;) {
		const char *hit = strstr(p, pat.ptr);
		if (!hit) {
			df_buf_puts(&out, p);
			break;
		}
		df_buf_put(&out, p, (size_t)(hit - p));
		p = hit + pat.size;
	}
	df_buf_release(&pat);
	return df_buf_detach(&out);
}

/* Tables and views are sorted first (df__schema_sort), other kinds are
 * appended after the first `nrel`: look among those. */
static df_object *find_obj(df_schema *s, size_t nrel, df_obj_kind k, const char *name,
	const char *table)
{
	char *key = df_schema_key(k, "", name, table);
	df_schema head = *s;
	const df_object *o;

	head.nr = nrel < s->nr ? nrel : s->nr;
	o = key ? df_schema_find(&head, key) : NULL;

	free(key);
	return (df_object *)o;
}

/* dependencies of a view or trigger: `names` of tables and views in its text */
static int text_deps(df_object *o, df_schema *s, size_t nrel, const char *text)
{
	for (const char *p = text ? strchr(text, '`') : NULL; p; p = strchr(p + 1, '`')) {
		const char *e = strchr(p + 1, '`');
		char *name;
		df_object *t;
		if (!e)
			break;
		if (!(name = strndup(p + 1, (size_t)(e - p - 1))))
			return df_error_oom();
		if ((t = find_obj(s, nrel, DF_OBJ_TABLE, name, NULL)) || (t = find_obj(s, nrel, DF_OBJ_VIEW, name, NULL))) {
			int error = t != o ? df_object_add_dep(o, t->kind, "", t->name, NULL) : 0;
			if (error < 0) {
				free(name);
				return error;
			}
		}
		free(name);
		p = e;
	}
	return 0;
}

int df__schema_read_mysql(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	df_rows *r = NULL, *c = NULL;
	df_identity id;
	df_object *o = NULL;
	df_buf b = DF_BUF_INIT;
	size_t nrel = 0;
	int error;

	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	s->server_version = id.version_num;
	for (size_t i = 0; i < sizeof(my_not_compared) / sizeof(*my_not_compared); i++)
		if ((error = df_strlist_push(&s->not_compared, my_not_compared[i])) < 0)
			return error;

	if ((error = df_conn_query(conn, &r, Q_TABLES, NULL, 0)) < 0 ||
	    (error = df_conn_query(conn, &c, Q_COLUMNS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0, ci = 0; i < r->nrows; i++) {
		const char *name = cell(r, i, 0);
		bool view = !strcmp(cell(r, i, 1), "VIEW");
		const char *tcoll = cell(r, i, 3);
		if (df__schema_excluded(opts, name))
			continue;
		if ((error = df_schema_add(&o, s, view ? DF_OBJ_VIEW : DF_OBJ_TABLE, "", name, NULL, NULL)) < 0)
			goto out;
		if (!view) {
			df_buf opt = DF_BUF_INIT;
			/* create options but "partitioned" (the partitions say it) */
			for (const char *p = cell(r, i, 5) ? cell(r, i, 5) : ""; *p;) {
				size_t l = strcspn(p, " ");
				if (l && strncmp(p, "partitioned", l))
					df_buf_printf(&opt, "%s%.*s", opt.size ? " " : "", (int)l, p);
				p += l;
				while (*p == ' ')
					p++;
			}
			error = df_buf_oom(&opt) ? df_error_oom() : 0;
			if (!error && !((error = extra_add(o, "engine", cell(r, i, 2))) < 0 ||
			    (error = extra_add(o, "collation", tcoll)) < 0 ||
			    (error = extra_add(o, "options", opt.ptr)) < 0))
				error = df_schema_set(&o->comment, nonempty(cell(r, i, 4)));
			df_buf_release(&opt);
			if (error < 0)
				goto out;
		}
		while (ci < c->nrows && strcmp(cell(c, ci, 0), name) < 0)
			ci++;
		for (; ci < c->nrows && !strcmp(cell(c, ci, 0), name); ci++) {
			df_column *col;
			const char *extra = cell(c, ci, 7) ? cell(c, ci, 7) : "";
			const char *dflt = cell(c, ci, 4), *gen = nonempty(cell(c, ci, 9));
			if ((error = df_object_add_column(&col, o, cell(c, ci, 1), cell(c, ci, 2))) < 0)
				goto out;
			if (view)
				continue;
			col->notnull = !strcmp(cell(c, ci, 3), "NO");
			if (gen) {
				col->virtual_gen = strstr(extra, "VIRTUAL") != NULL;
				error = df_schema_set(&col->generated, gen);
			} else if (dflt && strcmp(dflt, "NULL"))
				error = df_schema_set(&col->default_expr, dflt);
			/* always: a column keeps its collation when the table's changes */
			if (!error && cell(c, ci, 6))
				error = df_schema_set(&col->collation, cell(c, ci, 6));
			df_buf_truncate(&b, 0);
			if (strstr(extra, "auto_increment"))
				df_buf_puts(&b, "AUTO_INCREMENT");
			if (strstr(extra, "on update ")) {
				const char *u = strstr(extra, "on update ");
				df_buf_printf(&b, "%sON UPDATE %.*s", b.size ? " " : "",
					(int)strcspn(u + 10, " "), u + 10);
			}
			if (!error && b.size)
				error = df_schema_set(&col->extra, b.ptr);
			if (!error)
				error = df_schema_set(&col->comment, nonempty(cell(c, ci, 8)));
			if (error < 0)
				goto out;
		}
	}
	df_rows_free(r);
	df_rows_free(c);
	r = c = NULL;
	df__schema_sort(s);
	nrel = s->nr;

	/* indexes: PRIMARY is the primary key constraint, the others indexes */
	if ((error = df_conn_query(conn, &r, Q_INDEXES, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows;) {
		const char *table = cell(r, i, 0), *name = cell(r, i, 1), *type = cell(r, i, 5);
		bool primary = !strcmp(name, "PRIMARY"), unique = !strcmp(cell(r, i, 2), "0");
		size_t j = i;
		df_buf_truncate(&b, 0);
		if (!primary)
			df_buf_puts(&b, !strcmp(type, "FULLTEXT") ? "FULLTEXT " : !strcmp(type, "SPATIAL") ?
				"SPATIAL " : unique ? "UNIQUE " : "");
		df_buf_puts(&b, primary ? "PRIMARY KEY (" : "(");
		for (; j < r->nrows && !strcmp(cell(r, j, 0), table) && !strcmp(cell(r, j, 1), name); j++) {
			if (j > i)
				df_buf_puts(&b, ", ");
			df__quote_ident(&b, DF_DIALECT_MYSQL, cell(r, j, 3) ? cell(r, j, 3) : "");
			/* a spatial key has no prefix, whatever SUB_PART says (32) */
			if (cell(r, j, 4) && strcmp(type, "SPATIAL"))
				df_buf_printf(&b, "(%s)", cell(r, j, 4));
			if (cell(r, j, 7) && !strcmp(cell(r, j, 7), "D"))
				df_buf_puts(&b, " DESC");
		}
		df_buf_putc(&b, ')');
		if (!primary && !strcmp(type, "HASH"))
			df_buf_puts(&b, " USING HASH");
		if (!df__schema_excluded(opts, table) && find_obj(s, nrel, DF_OBJ_TABLE, table, NULL)) {
			if (df_buf_oom(&b) || (error = df_schema_add(&o, s, primary ? DF_OBJ_CONSTRAINT :
				DF_OBJ_INDEX, "", name, table, b.ptr)) < 0 ||
			    (error = df_schema_set(&o->comment, nonempty(cell(r, i, 6)))) < 0) {
				error = error < 0 ? error : df_error_oom();
				goto out;
			}
			if (primary)
				o->ctype = DF_CONS_PRIMARY;
		}
		i = j;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_FKEYS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows;) {
		const char *table = cell(r, i, 0), *name = cell(r, i, 1);
		df_buf cols = DF_BUF_INIT, refs = DF_BUF_INIT;
		size_t j = i;
		for (; j < r->nrows && !strcmp(cell(r, j, 0), table) && !strcmp(cell(r, j, 1), name); j++) {
			if (j > i) {
				df_buf_puts(&cols, ", ");
				df_buf_puts(&refs, ", ");
			}
			df__quote_ident(&cols, DF_DIALECT_MYSQL, cell(r, j, 2));
			df__quote_ident(&refs, DF_DIALECT_MYSQL, cell(r, j, 4));
		}
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "FOREIGN KEY (%s) REFERENCES ", cols.ptr);
		df__quote_ident(&b, DF_DIALECT_MYSQL, cell(r, i, 3));
		df_buf_printf(&b, " (%s) ON DELETE %s ON UPDATE %s", refs.ptr, cell(r, i, 6), cell(r, i, 5));
		df_buf_release(&cols);
		df_buf_release(&refs);
		if (!df__schema_excluded(opts, table) && find_obj(s, nrel, DF_OBJ_TABLE, table, NULL)) {
			if (df_buf_oom(&b)) {
				error = df_error_oom();
				goto out;
			}
			df_fk *fk;
			if ((error = df_schema_add(&o, s, DF_OBJ_CONSTRAINT, "", name, table, b.ptr)) < 0 ||
			    (error = df_object_add_dep(o, DF_OBJ_TABLE, "", cell(r, i, 3), NULL)) < 0 ||
			    (error = df_object_add_fk(&fk, o)) < 0 ||
			    (error = df_schema_set(&fk->ref_schema, "")) < 0 ||
			    (error = df_schema_set(&fk->ref_table, cell(r, i, 3))) < 0)
				goto out;
			o->ctype = DF_CONS_FOREIGN;
			/* the normal form: InnoDB has no deferrable keys */
			for (size_t k = i; k < j; k++)
				if ((error = df_strlist_push(&fk->cols, cell(r, k, 2))) < 0 ||
				    (error = df_strlist_push(&fk->ref_cols, cell(r, k, 4))) < 0)
					goto out;
			if (!df_fk_action_parse(&fk->on_delete, cell(r, i, 6)))
				fk->on_delete = DF_FK_NO_ACTION;
			if (!df_fk_action_parse(&fk->on_update, cell(r, i, 5)))
				fk->on_update = DF_FK_NO_ACTION;
		}
		i = j;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_CHECKS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *table = cell(r, i, 0);
		if (df__schema_excluded(opts, table) || !find_obj(s, nrel, DF_OBJ_TABLE, table, NULL))
			continue;
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "CHECK (%s)", cell(r, i, 2));
		if (df_buf_oom(&b) || (error = df_schema_add(&o, s, DF_OBJ_CONSTRAINT, "", cell(r, i, 1),
			table, b.ptr)) < 0 || (error = extra_add(o, "level", cell(r, i, 3) &&
			!strcmp(cell(r, i, 3), "Column") ? "column" : NULL)) < 0) {
			error = error < 0 ? error : df_error_oom();
			goto out;
		}
		o->ctype = DF_CONS_CHECK;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_PARTITIONS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows;) {
		const char *table = cell(r, i, 0), *method = cell(r, i, 2);
		size_t j = i;
		bool range = method && !strncmp(method, "RANGE", 5), list = method && !strncmp(method, "LIST", 4);
		bool numbered = true;
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "PARTITION BY %s (%s) (", method ? method : "",
			cell(r, i, 3) ? cell(r, i, 3) : "");
		for (size_t k = i; k < r->nrows && !strcmp(cell(r, k, 0), table); k++) {
			char want[32];
			snprintf(want, sizeof(want), "p%zu", k - i);
			numbered = numbered && !strcmp(cell(r, k, 1), want);
		}
		if (numbered && !range && !list) {
			/* HASH / KEY with the default names: PARTITIONS n */
			while (j < r->nrows && !strcmp(cell(r, j, 0), table))
				j++;
			df_buf_truncate(&b, b.size - 2);
			df_buf_printf(&b, " PARTITIONS %zu", j - i);
			if ((o = find_obj(s, nrel, DF_OBJ_TABLE, table, NULL)) &&
			    (error = df_buf_oom(&b) ? df_error_oom() : extra_add(o, "partition", b.ptr)) < 0)
				goto out;
			i = j;
			continue;
		}
		for (; j < r->nrows && !strcmp(cell(r, j, 0), table); j++) {
			df_buf_puts(&b, j > i ? ", PARTITION " : "PARTITION ");
			df__quote_ident(&b, DF_DIALECT_MYSQL, cell(r, j, 1));
			if (range)
				df_buf_printf(&b, " VALUES LESS THAN (%s)", cell(r, j, 4));
			else if (list)
				df_buf_printf(&b, " VALUES IN (%s)", cell(r, j, 4));
		}
		df_buf_putc(&b, ')');
		if ((o = find_obj(s, nrel, DF_OBJ_TABLE, table, NULL)) &&
		    (error = df_buf_oom(&b) ? df_error_oom() : extra_add(o, "partition", b.ptr)) < 0)
			goto out;
		i = j;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_VIEWS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		char *def;
		if (!(o = find_obj(s, nrel, DF_OBJ_VIEW, cell(r, i, 0), NULL)))
			continue;
		if (!(def = strip_db(cell(r, i, 1), id.database))) {
			error = df_error_oom();
			goto out;
		}
		free(o->def);
		o->def = def;
		if ((error = extra_add(o, "check_option", strcmp(cell(r, i, 2), "NONE") ? cell(r, i, 2) : NULL)) < 0 ||
		    (error = extra_add(o, "security", cell(r, i, 3))) < 0 ||
		    (error = extra_add(o, "algorithm", cell(r, i, 4))) < 0 ||
		    (error = text_deps(o, s, nrel, def)) < 0)
			goto out;
		/* columns of a view: its text says them */
		for (size_t k = 0; k < o->ncols; k++) {
			free(o->cols[k].type);
			o->cols[k].type = NULL;
		}
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_TRIGGERS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *table = cell(r, i, 1);
		char *body;
		if (df__schema_excluded(opts, table))
			continue;
		if (!(body = strip_db(cell(r, i, 4), id.database))) {
			error = df_error_oom();
			goto out;
		}
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "%s %s", cell(r, i, 2), cell(r, i, 3));
		error = df_buf_oom(&b) ? df_error_oom() :
			df_schema_add(&o, s, DF_OBJ_TRIGGER, "", cell(r, i, 0), table, body);
		free(body);
		if (error < 0 || (error = extra_add(o, "when", b.ptr)) < 0 ||
		    (error = extra_add(o, "sql_mode", cell(r, i, 6))) < 0 ||
		    (error = text_deps(o, s, nrel, o->def)) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	/* routines: mysql.proc keeps the parameter list as written (MariaDB);
	 * information_schema rebuilds it, which is the fallback */
	if (df_conn_query(conn, &r, Q_PROC, NULL, 0) < 0) {
		df_error_clear();
		r = NULL;
		if ((error = df_conn_query(conn, &r, Q_ROUTINES, NULL, 0)) < 0)
			goto out;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		bool proc = !strcmp(cell(r, i, 1), "PROCEDURE");
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "%s(%s)", cell(r, i, 0), cell(r, i, 8) ? cell(r, i, 8) : "");
		if (df_buf_oom(&b) || (error = df_schema_add(&o, s, DF_OBJ_FUNCTION, "", b.ptr, NULL,
			cell(r, i, 3))) < 0) {
			error = error < 0 ? error : df_error_oom();
			goto out;
		}
		if ((error = extra_add(o, "kind", proc ? "procedure" : "function")) < 0 ||
		    (error = extra_add(o, "returns", proc ? NULL : cell(r, i, 2))) < 0 ||
		    (error = extra_add(o, "deterministic", !strcmp(cell(r, i, 4), "YES") ? "true" : NULL)) < 0 ||
		    (error = extra_add(o, "data_access", cell(r, i, 5))) < 0 ||
		    (error = extra_add(o, "security", cell(r, i, 6))) < 0 ||
		    (error = extra_add(o, "sql_mode", cell(r, i, 9))) < 0 ||
		    (error = df_schema_set(&o->comment, nonempty(cell(r, i, 7)))) < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	if ((error = df_conn_query(conn, &r, Q_EVENTS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		df_buf_truncate(&b, 0);
		if (!strcmp(cell(r, i, 2), "ONE TIME"))
			df_buf_printf(&b, "AT '%s'", cell(r, i, 3));
		else {
			df_buf_printf(&b, "EVERY %s %s", cell(r, i, 4), cell(r, i, 5));
			if (cell(r, i, 6))
				df_buf_printf(&b, " STARTS '%s'", cell(r, i, 6));
			if (cell(r, i, 7))
				df_buf_printf(&b, " ENDS '%s'", cell(r, i, 7));
		}
		if (df_buf_oom(&b) || (error = df_schema_add(&o, s, DF_OBJ_EVENT, "", cell(r, i, 0), NULL,
			cell(r, i, 1))) < 0) {
			error = error < 0 ? error : df_error_oom();
			goto out;
		}
		if ((error = extra_add(o, "schedule", b.ptr)) < 0 ||
		    (error = extra_add(o, "status", cell(r, i, 8))) < 0 ||
		    (error = extra_add(o, "on_completion", cell(r, i, 9))) < 0 ||
		    (error = extra_add(o, "sql_mode", cell(r, i, 11))) < 0 ||
		    (error = df_schema_set(&o->comment, nonempty(cell(r, i, 10)))) < 0)
			goto out;
	}
out:
	df_buf_release(&b);
	df_rows_free(r);
	df_rows_free(c);
	return error;
}
