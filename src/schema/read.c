/*
 * df_schema_read(): the reader of the connection's engine (read_pg.c,
 * read_mysql.c, read_sqlite.c), chosen here by dialect.  The readers ask
 * the connection only through its query interface, so the drivers need
 * nothing of the schema code.
 */
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

int df_schema_read(df_schema **out, df_conn *conn, const df_schema_opts *opts)
{
	static const df_schema_opts defaults = DF_SCHEMA_OPTS_INIT;
	int (*reader)(df_conn *, df_schema *, const df_schema_opts *);
	df_schema *s = NULL;
	int error;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	/* a driver may bring its own (test drivers) */
	if (conn->driver->schema_read)
		reader = conn->driver->schema_read;
	else {
		switch (df_conn_dialect(conn)) {
		case DF_DIALECT_POSTGRES: reader = df__schema_read_pg; break;
		case DF_DIALECT_MYSQL: reader = df__schema_read_mysql; break;
		case DF_DIALECT_SQLITE: reader = df__schema_read_sqlite; break;
		default:
			return df_error_set(DF_EINTERNAL, "the %s driver cannot read a schema",
				conn->driver->name);
		}
	}
	if ((error = df_schema_new(&s, df_conn_dialect(conn))) < 0)
		return error;
	if ((error = reader(conn, s, opts)) < 0 || (error = df_schema_finish(s)) < 0 ||
	    (!conn->driver->schema_read && (error = df__schema_read_uncompared(conn, s, opts)) < 0) ||
	    (!conn->driver->schema_read && (error = df__schema_read_invisible(conn, s)) < 0)) {
		df_schema_free(s);
		return error;
	}
	*out = s;
	return 0;
}
