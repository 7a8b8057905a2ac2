/*
 * What the diff does not compare, named.
 *
 * 1. The history tables of migration tools are not the schema's: a
 *    database another tool migrated holds flyway_schema_history, and a diff
 *    with one devflow migrated must not propose to drop it.  devflow's own
 *    (the tracking table, `_audit`, `_meta`) are left out by name
 *    (df_schema_own_tables(), opts->exclude_tables); other tools' by name
 *    AND shape, since a user's table may well be called `migrations`: a
 *    table is left out only when its columns are exactly the tool's.
 *    The shapes, from the tools' sources:
 *
 *      devflow        _migrations, _migrations_audit, _migrations_meta
 *      dbmate         schema_migrations (version)
 *      golang-migrate schema_migrations (version, dirty)
 *      Flyway         flyway_schema_history (installed_rank, version, description,
 *                     type, script, checksum, installed_by, installed_on,
 *                     execution_time, success)
 *      goose          goose_db_version (id, version_id, is_applied, tstamp)
 *      Prisma         _prisma_migrations (id, checksum, finished_at, migration_name,
 *                     logs, rolled_back_at, started_at, applied_steps_count)
 *      Drizzle        __drizzle_migrations (id, hash, created_at), in schema
 *                     `drizzle` on PostgreSQL
 *      Knex           knex_migrations (id, name, batch, migration_time),
 *                     knex_migrations_lock (index, is_locked)
 *      TypeORM        migrations (id, timestamp, name),
 *                     typeorm_metadata (type, database, schema, table, name, value)
 *      Alembic        alembic_version (version_num)
 *      Django         django_migrations (id, app, name, applied)
 *
 *    Checked against each tool's source (issue 25; the columns are the
 *    same on PostgreSQL, MySQL/MariaDB and SQLite for every tool, only
 *    their types differ, and the shape is names only):
 *      dbmate     amacneil/dbmate@f3e08f1 pkg/driver/postgres/postgres.go:327,
 *                 pkg/driver/mysql/mysql.go:335, pkg/driver/sqlite/sqlite.go:209
 *      golang-migrate  golang-migrate/migrate@18966c7 database/postgres/postgres.go:481,
 *                 database/mysql/mysql.go:488, database/sqlite3/sqlite3.go:80
 *      Flyway     flyway/flyway@c5e20fc flyway-database/flyway-database-postgresql/.../
 *                 PostgreSQLDatabase.java:66-75, flyway-database/flyway-mysql/.../
 *                 MySQLDatabase.java:203-212 (MariaDBDatabase extends it),
 *                 flyway-core/.../sqlite/SQLiteDatabase.java:55-64
 *      goose      pressly/goose@520411a internal/dialects/postgres.go:19-24,
 *                 internal/dialects/mysql.go:18-23, internal/dialects/sqlite3.go:18-23
 *      Prisma     prisma/prisma-engines@0704ec9 schema-engine/connectors/
 *                 sql-schema-connector/src/flavour/sqlite.rs create_migrations_table
 *                 (the table is the schema engine's, not prisma/prisma's)
 *      Drizzle    drizzle-team/drizzle-orm@b786252 drizzle-orm/src/pg-core/dialect.ts:75-83
 *                 (schema `drizzle`: :77), mysql-core/dialect.ts:59-65,
 *                 sqlite-core/dialect.ts:950-960
 *      Knex       knex/knex@e25d54b lib/migrations/migrate/table-creator.js:34-40, 46-50;
 *                 the name: migrator-configuration-merger.js:9
 *      TypeORM    typeorm/typeorm@281bfba src/migration/MigrationExecutor.ts:58, 504-540;
 *                 src/schema-builder/RdbmsSchemaBuilder.ts:1368-1433
 *      Alembic    sqlalchemy/alembic@20e58db alembic/ddl/impl.py:169,
 *                 alembic/runtime/migration.py:183
 *      Django     django/django@01640c5 django/db/migrations/recorder.py:22-30 (id is
 *                 the model's implicit AutoField)
 *
 * 2. The classes a reader does not compare (s->not_compared: privileges,
 *    owners, operators ...) are named object by object, as this database
 *    holds them, with one more bulk query per engine, and with the keys of
 *    the schema's objects that use each (a view over an aggregate, a column
 *    of a collation): a diff says which of what it writes depends on
 *    something it did not compare, and where the two sides' copies differ
 *    (a GRANT on one side only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

struct shape {
	const char *tool, *table, *cols;        /* cols: sorted, comma-separated */
};

static const struct shape shapes[] = {
	{ "dbmate", "schema_migrations", "version" },
	{ "golang-migrate", "schema_migrations", "dirty,version" },
	{ "Flyway", "flyway_schema_history", "checksum,description,execution_time,"
		"installed_by,installed_on,installed_rank,script,success,type,version" },
	{ "goose", "goose_db_version", "id,is_applied,tstamp,version_id" },
	{ "Prisma", "_prisma_migrations", "applied_steps_count,checksum,finished_at,id,"
		"logs,migration_name,rolled_back_at,started_at" },
	{ "Drizzle", "__drizzle_migrations", "created_at,hash,id" },
	{ "Knex", "knex_migrations", "batch,id,migration_time,name" },
	{ "Knex", "knex_migrations_lock", "index,is_locked" },
	{ "TypeORM", "migrations", "id,name,timestamp" },
	{ "TypeORM", "typeorm_metadata", "database,name,schema,table,type,value" },
	{ "Alembic", "alembic_version", "version_num" },
	{ "Django", "django_migrations", "app,applied,id,name" },
};

int df_schema_own_tables(df_strlist *out, const char *table)
{
	int error;

	if ((error = df_strlist_push(out, table)) < 0 ||
	    (error = df_strlist_pushf(out, "%s_audit", table)) < 0)
		return error;
	return df_strlist_pushf(out, "%s_meta", table);
}

bool df_uncompared_counts(const df_uncompared *u)
{
	return (u->differs || u->in_from != u->in_to) && strcmp(u->cls, DF_UNCOMPARED_HISTORY) && strcmp(u->cls, "auto_increment counters");
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tool whose history table `o` is, or NULL. */
static const char *tool_of(const df_object *o)
{
	df_buf cols = DF_BUF_INIT;
	const char **names;
	const char *tool = NULL;

	if (o->kind != DF_OBJ_TABLE || !o->ncols || !(names = calloc(o->ncols, sizeof(*names))))
		return NULL;
	for (size_t i = 0; i < o->ncols; i++)
		names[i] = o->cols[i].name;
	qsort(names, o->ncols, sizeof(*names), cmp_cstr);
	for (size_t i = 0; i < o->ncols; i++)
		df_buf_printf(&cols, "%s%s", i ? "," : "", names[i]);
	free(names);
	for (size_t i = 0; !df_buf_oom(&cols) && i < sizeof(shapes) / sizeof(*shapes); i++)
		if (!strcmp(o->name, shapes[i].table) && !strcmp(cols.ptr, shapes[i].cols))
			tool = shapes[i].tool;
	df_buf_release(&cols);
	return tool;
}

static int add(df_schema *s, const char *cls, const char *object, const char *state,
	const char *deps)
{
	return df_strlist_pushf(&s->uncompared, "%s\t%s\t%s\t%s", cls, object,
		state ? state : "", deps ? deps : "");
}

/* Does `o` belong to the table `t` (its index, constraint, trigger, serial)? */
static bool hangs_off(const df_object *o, const df_object *t)
{
	size_t n = strlen(t->name);

	if (strcmp(o->schema, t->schema))
		return false;
	if (o->table)
		return !strcmp(o->table, t->name);
	/* PostgreSQL's sequence of a serial column: <table>_<column>_seq */
	return o->kind == DF_OBJ_SEQUENCE && !strncmp(o->name, t->name, n) && o->name[n] == '_' &&
		strlen(o->name) > n + 4 && !strcmp(o->name + strlen(o->name) - 4, "_seq");
}

static void remove_at(df_schema *s, size_t i)
{
	df_schema *tmp = NULL;

	/* df_schema_free() frees objects: hand it this one alone */
	if (df_schema_new(&tmp, s->dialect) == 0 && (tmp->v = malloc(sizeof(*tmp->v)))) {
		tmp->v[0] = s->v[i];
		tmp->nr = 1;
		df_schema_free(tmp);
	} else {
		df_schema_free(tmp);
		return;         /* out of memory: keep it rather than leak */
	}
	memmove(&s->v[i], &s->v[i + 1], (s->nr - i - 1) * sizeof(*s->v));
	s->nr--;
}

/* Leave out the tables shaped like a tool's history, and what hangs off them. */
static int leave_out_histories(df_schema *s)
{
	df_strlist gone = DF_STRLIST_INIT;  /* "schema\ttable" */
	int error = 0;

	for (size_t i = 0; i < s->nr; i++) {
		const df_object *o = s->v[i];
		const char *tool = tool_of(o);
		char what[256];
		if (!tool)
			continue;
		snprintf(what, sizeof(what), "table %s%s%s (%s)", o->schema, *o->schema ? "." : "",
			o->name, tool);
		if ((error = add(s, DF_UNCOMPARED_HISTORY, what, NULL, NULL)) < 0 ||
		    (error = df_strlist_pushf(&gone, "%s\t%s", o->schema, o->name)) < 0)
			goto out;
	}
	for (size_t g = 0; g < gone.nr; g++) {
		const char *tab = strchr(gone.v[g], '\t') + 1;
		size_t ns = (size_t)(tab - 1 - gone.v[g]);
		for (size_t i = 0; i < s->nr;) {
			df_object *o = s->v[i];
			bool same_ns = strlen(o->schema) == ns && !strncmp(o->schema, gone.v[g], ns);
			df_object t = { .schema = o->schema, .name = (char *)tab };
			if (same_ns && ((o->kind == DF_OBJ_TABLE && !strcmp(o->name, tab)) ||
			    hangs_off(o, &t)))
				remove_at(s, i);
			else
				i++;
		}
	}
	/* Drizzle's schema on PostgreSQL, when nothing else is in it */
	for (size_t i = 0; gone.nr && i < s->nr; i++) {
		bool used = false;
		if (s->v[i]->kind != DF_OBJ_SCHEMA || strcmp(s->v[i]->name, "drizzle"))
			continue;
		for (size_t k = 0; k < s->nr; k++)
			used = used || !strcmp(s->v[k]->schema, "drizzle");
		if (!used)
			remove_at(s, i);
		break;
	}
out:
	df_strlist_release(&gone);
	return error;
}

/* ---- the objects of the classes not compared, per engine ------------------ */

#define PG_NOT_EXT(cat, oid) \
	" NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '" cat "'::regclass " \
	"AND x.objid = " oid " AND x.deptype = 'e') "
/* the keys of the tables, views and materialized views that use (ref cat, oid) */
#define PG_USERS(cat, oid) \
	"(SELECT string_agg(DISTINCT CASE dc.relkind WHEN 'v' THEN 'view ' " \
	"  WHEN 'm' THEN 'materialized view ' ELSE 'table ' END || dn.nspname || '.' || dc.relname, ',') " \
	" FROM pg_depend d LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid " \
	" JOIN pg_class dc ON dc.oid = CASE WHEN d.classid = 'pg_rewrite'::regclass THEN rw.ev_class " \
	"  WHEN d.classid = 'pg_class'::regclass THEN d.objid END " \
	" JOIN pg_namespace dn ON dn.oid = dc.relnamespace " \
	" WHERE d.refclassid = '" cat "'::regclass AND d.refobjid = " oid \
	" AND dc.relkind IN ('r', 'p', 'v', 'm'))"
#define PG_REL_KIND \
	"CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' " \
	"WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END"

/* class, object, state, users; @NS@ is the namespace filter on `n` */
static const char Q_PG[] =
	"SELECT 'privileges', " PG_REL_KIND " || n.nspname || '.' || c.relname, c.relacl::text, NULL "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE @NS@ AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relacl IS NOT NULL "
	"AND " PG_NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 'privileges', 'function ' || n.nspname || '.' || p.proname || '(' || "
	" pg_get_function_identity_arguments(p.oid) || ')', p.proacl::text, NULL "
	"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"WHERE @NS@ AND p.proacl IS NOT NULL AND " PG_NOT_EXT("pg_proc", "p.oid")
	"UNION ALL SELECT 'privileges', 'schema ' || n.nspname, n.nspacl::text, NULL "
	/* a schema's default ACL, and public's (15: the database owner's; before: everyone's) */
	"FROM pg_namespace n WHERE @NS@ AND n.nspacl IS NOT NULL "
	"AND n.nspacl::text <> acldefault('n', n.nspowner)::text AND (n.nspname <> 'public' OR "
	" n.nspacl::text NOT IN ('{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}', "
	" format('{%1$s=UC/%1$s,=UC/%1$s}', pg_get_userbyid(n.nspowner)))) "
	"AND " PG_NOT_EXT("pg_namespace", "n.oid")
	"UNION ALL SELECT 'owners', " PG_REL_KIND " || n.nspname || '.' || c.relname, "
	" pg_get_userbyid(c.relowner), NULL "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE @NS@ AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	"AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) "
	"AND c.relowner <> (SELECT datdba FROM pg_database WHERE datname = current_database()) "
	"AND " PG_NOT_EXT("pg_class", "c.oid");

/*
 * With --privileges: every relation's, function's and schema's ACL (the
 * default one where it has none), one "GRANTEE PRIVILEGE[ G]" item each,
 * comma-separated; the fourth field is what GRANT names it by and the
 * default ACL, "|"-separated.  Owners: of every relation, the fourth field
 * the ALTER that names it and the reader.
 */
#define PG_ACL_ITEMS(acl) \
	"(SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE " \
	" quote_ident(pg_get_userbyid(a.grantee)) END || ' ' || a.privilege_type || " \
	" CASE WHEN a.is_grantable THEN ' G' ELSE '' END, ',') FROM aclexplode(" acl ") a)"
static const char Q_PG_PRIV[] =
	"SELECT 'privileges', " PG_REL_KIND " || n.nspname || '.' || c.relname, "
	PG_ACL_ITEMS("coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::\"char\" "
		"ELSE 'r'::\"char\" END, c.relowner))")
	", CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || quote_ident(n.nspname) || '.' || "
	" quote_ident(c.relname) || '|' || coalesce(" PG_ACL_ITEMS("acldefault(CASE c.relkind WHEN 'S' "
	" THEN 's'::\"char\" ELSE 'r'::\"char\" END, c.relowner)") ", '') "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE @NS@ AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	"AND " PG_NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 'privileges', 'function ' || n.nspname || '.' || p.proname || '(' || "
	" pg_get_function_identity_arguments(p.oid) || ')', "
	PG_ACL_ITEMS("coalesce(p.proacl, acldefault('f', p.proowner))")
	", 'ROUTINE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || "
	" pg_get_function_identity_arguments(p.oid) || ')|' || coalesce("
	PG_ACL_ITEMS("acldefault('f', p.proowner)") ", '') "
	"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"WHERE @NS@ AND p.prokind <> 'a' AND " PG_NOT_EXT("pg_proc", "p.oid")
	"UNION ALL SELECT 'privileges', 'schema ' || n.nspname, "
	PG_ACL_ITEMS("coalesce(n.nspacl, acldefault('n', n.nspowner))")
	", 'SCHEMA ' || quote_ident(n.nspname) || '|' || coalesce("
	PG_ACL_ITEMS("acldefault('n', n.nspowner)") ", '') "
	"FROM pg_namespace n WHERE @NS@ AND " PG_NOT_EXT("pg_namespace", "n.oid")
	"UNION ALL SELECT 'owners', " PG_REL_KIND " || n.nspname || '.' || c.relname, "
	" pg_get_userbyid(c.relowner), CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN "
	" 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TABLE ' END "
	" || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '|' || current_user "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE @NS@ AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	"AND " PG_NOT_EXT("pg_class", "c.oid");

static const char Q_PG_REST[] =
	" UNION ALL SELECT 'operators', 'operator ' || n.nspname || '.' || o.oprname || '(' || "
	" format_type(o.oprleft, NULL) || ', ' || format_type(o.oprright, NULL) || ')', NULL, "
	PG_USERS("pg_operator", "o.oid") " "
	"FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace "
	"WHERE @NS@ AND " PG_NOT_EXT("pg_operator", "o.oid")
	"UNION ALL SELECT 'casts', 'cast (' || format_type(k.castsource, NULL) || ' AS ' || "
	" format_type(k.casttarget, NULL) || ')', NULL, NULL FROM pg_cast k "
	"WHERE k.oid >= 16384 AND " PG_NOT_EXT("pg_cast", "k.oid")
	"UNION ALL SELECT 'collations', 'collation ' || n.nspname || '.' || l.collname, NULL, "
	PG_USERS("pg_collation", "l.oid") " "
	"FROM pg_collation l JOIN pg_namespace n ON n.oid = l.collnamespace "
	"WHERE @NS@ AND " PG_NOT_EXT("pg_collation", "l.oid")
	"UNION ALL SELECT 'range types', 'range type ' || n.nspname || '.' || t.typname, NULL, "
	PG_USERS("pg_type", "t.oid") " "
	"FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
	"WHERE @NS@ AND t.typtype IN ('r', 'm') AND " PG_NOT_EXT("pg_type", "t.oid")
	"UNION ALL SELECT 'rules (other than views)', 'rule ' || n.nspname || '.' || c.relname || '.' || "
	" r.rulename, pg_get_ruledef(r.oid), NULL "
	"FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE @NS@ AND r.rulename <> '_RETURN' "
	"UNION ALL SELECT 'text search configurations', 'text search configuration ' || n.nspname || "
	" '.' || f.cfgname, NULL, NULL "
	"FROM pg_ts_config f JOIN pg_namespace n ON n.oid = f.cfgnamespace "
	"WHERE @NS@ AND " PG_NOT_EXT("pg_ts_config", "f.oid")
	"UNION ALL SELECT 'foreign data wrappers and servers', 'foreign data wrapper ' || w.fdwname, "
	" NULL, NULL FROM pg_foreign_data_wrapper w "
	"WHERE " PG_NOT_EXT("pg_foreign_data_wrapper", "w.oid")
	"UNION ALL SELECT 'foreign data wrappers and servers', 'server ' || v.srvname, NULL, NULL "
	"FROM pg_foreign_server v WHERE " PG_NOT_EXT("pg_foreign_server", "v.oid")
	"UNION ALL SELECT 'publications and subscriptions', 'publication ' || b.pubname, NULL, NULL "
	"FROM pg_publication b "
	"UNION ALL SELECT 'event triggers', 'event trigger ' || e.evtname, NULL, NULL "
	"FROM pg_event_trigger e WHERE " PG_NOT_EXT("pg_event_trigger", "e.oid")
	"UNION ALL SELECT 'statistics objects', 'statistics ' || n.nspname || '.' || x.stxname, NULL, NULL "
	"FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace WHERE @NS@ "
	"UNION ALL SELECT 'security labels', pg_describe_object(l.classoid, l.objoid, l.objsubid), "
	" l.provider || '=' || l.label, NULL FROM pg_seclabel l "
	"UNION ALL SELECT 'tablespaces', " PG_REL_KIND " || n.nspname || '.' || c.relname, s.spcname, NULL "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"JOIN pg_tablespace s ON s.oid = c.reltablespace WHERE @NS@ AND c.relkind IN ('r', 'p', 'm') "
	"ORDER BY 1, 2";

/* MySQL/MariaDB: grants on tables and columns, definers other than the
 * reader, sequences and system-versioned tables (which the reader skips) */
static const char Q_MY[] =
	"SELECT 'privileges', CONCAT('table ', TABLE_NAME), "
	" GROUP_CONCAT(CONCAT(GRANTEE, ':', PRIVILEGE_TYPE) ORDER BY GRANTEE, PRIVILEGE_TYPE), NULL "
	"FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME "
	"UNION ALL SELECT 'privileges', CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME), "
	" GROUP_CONCAT(CONCAT(GRANTEE, ':', PRIVILEGE_TYPE) ORDER BY GRANTEE, PRIVILEGE_TYPE), NULL "
	"FROM information_schema.COLUMN_PRIVILEGES WHERE TABLE_SCHEMA = DATABASE() "
	"GROUP BY TABLE_NAME, COLUMN_NAME "
	"UNION ALL SELECT 'definers', CONCAT('view ', TABLE_NAME), DEFINER, NULL "
	"FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() AND DEFINER <> CURRENT_USER() "
	"UNION ALL SELECT 'definers', CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME), DEFINER, NULL "
	"FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND DEFINER <> CURRENT_USER() "
	"UNION ALL SELECT 'definers', CONCAT('trigger ', TRIGGER_NAME), DEFINER, NULL "
	"FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND DEFINER <> CURRENT_USER() "
	"UNION ALL SELECT 'sequences', CONCAT('sequence ', TABLE_NAME), NULL, NULL "
	"FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'SEQUENCE' "
	"UNION ALL SELECT 'system versioning', CONCAT('table ', TABLE_NAME), NULL, NULL "
	"FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
	"AND TABLE_TYPE = 'SYSTEM VERSIONED' "
	"ORDER BY 1, 2";

/* The PostgreSQL namespace filter on alias `n` (as read_pg.c's). */
static void pg_ns_filter(df_buf *b, const df_schema_opts *opts)
{
	if (opts && opts->schemas && opts->schemas->nr) {
		df_buf_puts(b, "n.nspname IN (");
		for (size_t i = 0; i < opts->schemas->nr; i++) {
			if (i)
				df_buf_putc(b, ',');
			df__quote_literal(b, opts->schemas->v[i]);
		}
		df_buf_putc(b, ')');
	} else
		df_buf_puts(b, "n.nspname NOT IN ('pg_catalog', 'information_schema') "
			"AND n.nspname !~ '^pg_(toast|temp_)'");
}

/* devflow's own tables this database holds, listed as not compared */
static int list_own(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	for (size_t i = 0; opts && opts->exclude_tables && i < opts->exclude_tables->nr; i++) {
		const char *t = opts->exclude_tables->v[i];
		df_rows *cols = NULL;
		char what[256];
		int error;
		if ((error = df_conn_table_columns(conn, &cols, t)) < 0)
			return error;
		if (cols && cols->nrows) {
			snprintf(what, sizeof(what), "table %s (devflow)", t);
			error = add(s, DF_UNCOMPARED_HISTORY, what, NULL, NULL);
		}
		df_rows_free(cols);
		if (error < 0)
			return error;
	}
	return 0;
}

int df__schema_read_uncompared(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	df_buf q = DF_BUF_INIT, f = DF_BUF_INIT;
	df_rows *r = NULL;
	int error;

	if ((error = list_own(conn, s, opts)) < 0 || (error = leave_out_histories(s)) < 0)
		return error;
	if (s->dialect == DF_DIALECT_POSTGRES) {
		df_buf whole = DF_BUF_INIT;
		s->privileges = opts && opts->privileges;
		df_buf_puts(&whole, s->privileges ? Q_PG_PRIV : Q_PG);
		df_buf_puts(&whole, Q_PG_REST);
		pg_ns_filter(&f, opts);
		for (const char *p = whole.ptr ? whole.ptr : ""; *p; p++) {
			if (!strncmp(p, "@NS@", 4)) {
				df_buf_puts(&q, f.ptr);
				p += 3;
			} else
				df_buf_putc(&q, *p);
		}
		if (df_buf_oom(&whole))
			df_buf_truncate(&q, 0);
		df_buf_release(&whole);
	} else if (s->dialect == DF_DIALECT_MYSQL)
		df_buf_puts(&q, Q_MY);
	if (!q.size)
		goto out;
	if (df_buf_oom(&q) || df_buf_oom(&f)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df_conn_query(conn, &r, q.ptr, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++)
		if ((error = add(s, df_rows_get(r, i, 0), df_rows_get(r, i, 1), df_rows_get(r, i, 2),
			df_rows_get(r, i, 3))) < 0)
			goto out;
out:
	df_rows_free(r);
	df_buf_release(&q);
	df_buf_release(&f);
	if (!error && s->uncompared.nr)
		qsort(s->uncompared.v, s->uncompared.nr, sizeof(char *), cmp_cstr);
	return error;
}

/* ---- a diff's ------------------------------------------------------------ */

/* Split an entry into its four fields (pointers into `line`, modified). */
static void fields(char *line, char *f[4])
{
	for (int i = 0; i < 4; i++) {
		f[i] = line;
		if (i < 3 && (line = strchr(line, '\t')))
			*line++ = '\0';
		else if (i < 3)
			line = (char *)"";
	}
}

static df_uncompared *find_unc(df_diff *d, const char *cls, const char *object)
{
	for (size_t i = 0; i < d->nunc; i++)
		if (!strcmp(d->unc[i].cls, cls) && !strcmp(d->unc[i].object, object))
			return &d->unc[i];
	return NULL;
}

/* Is `key` among the objects the diff writes? */
static bool written(const df_diff *d, const char *key, size_t n)
{
	for (size_t i = 0; i < d->nr; i++)
		if (strlen(d->v[i].object) == n && !strncmp(d->v[i].object, key, n))
			return true;
	return false;
}

/* ---- --privileges --------------------------------------------------------- */

int df_schema_privileges_check(const char *engine, const char *command)
{
	int error;

	if (!strcmp(engine, "postgres"))
		return 0;
	error = df_error_set(DF_EUSAGE, "--privileges compares PostgreSQL's grants and owners; %s is not "
		"compared that way (%s)", engine, !strcmp(engine, "sqlite") ? "SQLite has no privileges" :
		"its grants are the server's, per user, and listed as not compared");
	df_error_hint("run %s without --privileges", command);
	return error;
}

static bool compared(const df_schema *from, const df_schema *to, const char *cls)
{
	return from->privileges && to->privileges &&
		(!strcmp(cls, "privileges") || !strcmp(cls, "owners"));
}

/* Is "GRANTEE PRIV" (n bytes) an item of the comma-separated `items`?
 * *grantable: with " G". */
static bool has_item(const char *items, const char *item, size_t n, bool *grantable)
{
	for (const char *p = items; *p;) {
		size_t l = strcspn(p, ",");
		size_t base = l > 2 && !strncmp(p + l - 2, " G", 2) ? l - 2 : l;
		if (base == n && !strncmp(p, item, n)) {
			*grantable = base != l;
			return true;
		}
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

/* GRANT / REVOKE turning the items `a` into `b` on `target` */
void df__privileges_sql(df_buf *b, const char *target, const char *a, const char *bi)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *src = pass ? bi : a, *other = pass ? a : bi;
		for (const char *p = src; *p;) {
			size_t l = strcspn(p, ","), base = l > 2 && !strncmp(p + l - 2, " G", 2) ? l - 2 : l;
			size_t sp = base;
			bool g = base != l, og = false, in = has_item(other, p, base, &og);
			while (sp && p[sp - 1] != ' ')
				sp--;
			/* p[0..sp-1) the grantee, p[sp..base) the privilege */
			if (sp) {
				if (!pass && !in)
					df_buf_printf(b, "REVOKE %.*s ON %s FROM %.*s;\n", (int)(base - sp), p + sp,
						target, (int)(sp - 1), p);
				else if (!pass && g && !og)
					df_buf_printf(b, "REVOKE GRANT OPTION FOR %.*s ON %s FROM %.*s;\n",
						(int)(base - sp), p + sp, target, (int)(sp - 1), p);
				else if (pass && (!in || (g && !og)))
					df_buf_printf(b, "GRANT %.*s ON %s TO %.*s%s;\n", (int)(base - sp), p + sp,
						target, (int)(sp - 1), p, g ? " WITH GRANT OPTION" : "");
			}
			p += l;
			if (*p == ',')
				p++;
		}
	}
}

static int cmp_prefix(const void *key, const void *elem)
{
	const char *k = key;

	return strncmp(k, *(const char *const *)elem, strlen(k));
}

/* The entry of class `cls` for `object` in `s` (sorted: a binary search on
 * "cls\tobject\t"), split into f[4] (in the copy returned), or NULL. */
static char *entry_of(const df_schema *s, const char *cls, const char *object, char *f[4])
{
	size_t n = strlen(cls) + strlen(object) + 3;
	char *key = malloc(n), *line = NULL;
	char **hit;

	if (!key)
		return NULL;
	snprintf(key, n, "%s\t%s\t", cls, object);
	hit = s->uncompared.nr ? bsearch(key, s->uncompared.v, s->uncompared.nr, sizeof(char *),
		cmp_prefix) : NULL;
	free(key);
	if (hit && (line = strdup(*hit)))
		fields(line, f);
	return line;
}

/*
 * The grants and owners of `to`'s objects, made so: owners first (ALTER
 * ... OWNER TO moves the old owner's grants to the new one), then the
 * grants, after every change (the objects exist).  An object only `from`
 * holds is dropped: nothing to write.
 */
static int privileges_sql(df_diff *d, const df_schema *from, const df_schema *to)
{
	static const char *const cls[] = { "owners", "privileges" };
	int error = 0;

	for (int c = 0; c < 2 && !error; c++) {
		for (size_t i = 0; i < to->uncompared.nr && !error; i++) {
			char *line = strdup(to->uncompared.v[i]), *f[4], *ff[4], *fline = NULL, *bar;
			df_buf b = DF_BUF_INIT;
			if (!line)
				return df_error_oom();
			fields(line, f);
			if (strcmp(f[0], cls[c]) || !(bar = strchr(f[3], '|'))) {
				free(line);
				continue;
			}
			*bar++ = '\0';
			fline = entry_of(from, f[0], f[1], ff);
			if (c == 0) {
				const char *was = fline ? ff[2] : bar;
				if (strcmp(was, f[2])) {
					df_buf_printf(&b, "ALTER %s OWNER TO ", f[3]);
					df__quote_ident(&b, DF_DIALECT_POSTGRES, f[2]);
					df_buf_puts(&b, ";\n");
				}
			} else
				df__privileges_sql(&b, f[3], fline ? ff[2] : bar, f[2]);
			if (df_buf_oom(&b))
				error = df_error_oom();
			else if (b.size) {
				df_change *v = realloc(d->v, (d->nr + 1) * sizeof(*v));
				if (!v)
					error = df_error_oom();
				else {
					d->v = v;
					d->alloc = d->nr + 1;
					memset(&v[d->nr], 0, sizeof(*v));
					v[d->nr].op = fline ? DF_CHANGE_ALTER : DF_CHANGE_CREATE;
					v[d->nr].kind = !strncmp(f[1], "view ", 5) ? DF_OBJ_VIEW :
						!strncmp(f[1], "materialized view ", 18) ? DF_OBJ_MATVIEW :
						!strncmp(f[1], "sequence ", 9) ? DF_OBJ_SEQUENCE :
						!strncmp(f[1], "function ", 9) ? DF_OBJ_FUNCTION :
						!strncmp(f[1], "schema ", 7) ? DF_OBJ_SCHEMA : DF_OBJ_TABLE;
					size_t n = strlen(f[0]) + strlen(f[1]) + 2;
					if (!(v[d->nr].object = malloc(n)) || !(v[d->nr].sql = df_buf_detach(&b))) {
						free(v[d->nr].object);
						v[d->nr].object = NULL;
						error = df_error_oom();
					} else {
						snprintf(v[d->nr].object, n, "%s %s", f[0], f[1]);
						d->nr++;
					}
				}
			}
			df_buf_release(&b);
			free(fline);
			free(line);
		}
	}
	return error;
}

int df__diff_uncompared(df_diff *d, const df_schema *from, const df_schema *to)
{
	const df_schema *side[2] = { from, to };
	int error = 0;

	if (from->privileges && to->privileges && (error = privileges_sql(d, from, to)) < 0)
		return error;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < side[k]->uncompared.nr; i++) {
			char *line = strdup(side[k]->uncompared.v[i]), *f[4];
			df_uncompared *u;
			if (!line)
				return df_error_oom();
			fields(line, f);
			if (compared(from, to, f[0])) {
				free(line);
				continue;
			}
			if (!(u = find_unc(d, f[0], f[1]))) {
				df_uncompared *v = realloc(d->unc, (d->nunc + 1) * sizeof(*v));
				if (!v) {
					free(line);
					return df_error_oom();
				}
				d->unc = v;
				u = &d->unc[d->nunc];
				memset(u, 0, sizeof(*u));
				if (!(u->cls = strdup(f[0])) || !(u->object = strdup(f[1]))) {
					free(u->cls);
					free(u->object);
					free(line);
					return df_error_oom();
				}
				d->nunc++;
			}
			if (k == 0)
				u->in_from = true;
			else {
				/* the same object in `from`: do its states differ? */
				for (size_t j = 0; u->in_from && j < from->uncompared.nr; j++) {
					char *fl = strdup(from->uncompared.v[j]), *ff[4];
					if (!fl)
						break;
					fields(fl, ff);
					if (!strcmp(ff[0], f[0]) && !strcmp(ff[1], f[1]))
						u->differs = strcmp(ff[2], f[2]) != 0;
					free(fl);
				}
				u->in_to = true;
			}
			/* the written objects that use it (keys, comma-separated) */
			for (const char *p = f[3]; *p;) {
				const char *e = strchr(p, ',');
				size_t n = e ? (size_t)(e - p) : strlen(p);
				if (n && written(d, p, n)) {
					bool dup = false;
					for (size_t j = 0; j < u->used_by.nr; j++)
						dup = dup || (strlen(u->used_by.v[j]) == n &&
							!strncmp(u->used_by.v[j], p, n));
					if (!dup && (error = df_strlist_pushf(&u->used_by, "%.*s", (int)n, p)) < 0) {
						free(line);
						return error;
					}
				}
				p += n;
				if (*p == ',')
					p++;
			}
			free(line);
		}
	}
	/* the classes, once each, in order */
	for (size_t i = 0; i < d->nunc; i++) {
		bool dup = false;
		for (size_t j = 0; j < d->not_compared.nr; j++)
			dup = dup || !strcmp(d->not_compared.v[j], d->unc[i].cls);
		if (!dup && (error = df_strlist_push(&d->not_compared, d->unc[i].cls)) < 0)
			return error;
	}
	return 0;
}
