/*
 * What the reading user cannot see (issue 25, "Bad input").
 *
 * A diff of a side read by a user that cannot see everything would propose
 * to create or drop what is merely hidden from that user.  So after a
 * reader, one query asks what the catalogs hid, and the read fails
 * (permission_denied, exit 4) naming it, with the privilege to grant:
 * no script is better than one built on half a schema.
 *
 *   MariaDB/MySQL  information_schema shows only the tables and views the
 *                  user holds some privilege on, the triggers of tables it
 *                  holds TRIGGER on, the routines it holds EXECUTE or
 *                  ALTER ROUTINE on (all of them with global SELECT), the
 *                  events of a database it holds EVENT on, and blanks a view's definition or a routine's
 *                  body it may not read.  The blanked ones are named; the
 *                  hidden ones cannot be enumerated by this user, so their
 *                  class is named when the user lacks the database-wide
 *                  (or global) privilege that shows them all.
 *   PostgreSQL     the reader reads pg_catalog only, which every role reads
 *                  whole whatever its privileges on the objects (USAGE on a
 *                  schema, SELECT on a table): nothing is hidden, and a
 *                  catalog revoked from PUBLIC fails the reader's query.
 *                  Nothing to ask (t1930 checks the diff is complete).
 *   SQLite         no users.
 */
#include <string.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

/* the current user as information_schema's GRANTEE spells it: 'u'@'h' */
#define MY_ME "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', " \
	"SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"

/* the user holds privilege `p` on the whole current database (or globally) */
#define MY_HOLDS(p) \
	"(EXISTS (SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = " MY_ME \
	" AND PRIVILEGE_TYPE IN (" p ")) OR EXISTS (SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES " \
	"WHERE GRANTEE = " MY_ME " AND DATABASE() LIKE TABLE_SCHEMA AND PRIVILEGE_TYPE IN (" p ")))"

/* what shows a table in information_schema: any privilege on it */
#define MY_TABLE_PRIVS "'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'REFERENCES', " \
	"'INDEX', 'ALTER', 'CREATE VIEW', 'SHOW VIEW', 'TRIGGER', 'DELETE HISTORY'"

/* one row per hidden thing: what, the privilege that shows it, who reads, where */
#define MY_WHO ", CURRENT_USER(), DATABASE() "
static const char Q_MY[] =
	"SELECT CONCAT('view ', TABLE_NAME, ' (its definition)'), 'SHOW VIEW'" MY_WHO
	"FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() "
	" AND (VIEW_DEFINITION IS NULL OR VIEW_DEFINITION = '') "
	"UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME, ' (its body)'), "
	" 'SELECT on mysql.proc (or be its definer)'" MY_WHO
	"FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_DEFINITION IS NULL "
	"UNION ALL SELECT 'the tables and views it holds no privilege on', 'SELECT'" MY_WHO "FROM DUAL "
	" WHERE NOT " MY_HOLDS(MY_TABLE_PRIVS) " "
	"UNION ALL SELECT 'the triggers of tables it holds no TRIGGER privilege on', 'TRIGGER'" MY_WHO "FROM DUAL "
	" WHERE NOT " MY_HOLDS("'TRIGGER'") " "
	"UNION ALL SELECT 'the routines it holds no EXECUTE privilege on', 'EXECUTE'" MY_WHO "FROM DUAL "
	" WHERE NOT " MY_HOLDS("'EXECUTE', 'ALTER ROUTINE'") " AND NOT EXISTS (SELECT 1 FROM "
	" information_schema.USER_PRIVILEGES WHERE GRANTEE = " MY_ME " AND PRIVILEGE_TYPE = 'SELECT') "
	"UNION ALL SELECT 'the events', 'EVENT'" MY_WHO "FROM DUAL WHERE NOT " MY_HOLDS("'EVENT'");

int df__schema_read_invisible(df_conn *conn, const df_schema *s)
{
	df_buf what = DF_BUF_INIT, privs = DF_BUF_INIT;
	df_rows *r = NULL;
	const df_error *e;
	int error;

	if (s->dialect != DF_DIALECT_MYSQL)
		return 0;
	if ((error = df_conn_query(conn, &r, Q_MY, NULL, 0)) < 0)
		return error;
	if (!r->nrows)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *p = df_rows_get(r, i, 1);

		df_buf_printf(&what, "%s%s", i ? ", " : "", df_rows_get(r, i, 0));
		/* each privilege once, in the order met */
		if (!strstr(privs.size ? privs.ptr : "", p))
			df_buf_printf(&privs, "%s%s", privs.size ? ", " : "", p);
	}
	if (df_buf_oom(&what) || df_buf_oom(&privs)) {
		error = df_error_oom();
		goto out;
	}
	error = df_error_set(DF_EPERM, "the reading user %s cannot see all of database %s: %s; "
		"a diff would create or drop what is merely hidden from it",
		df_rows_get(r, 0, 2), df_rows_get(r, 0, 3), what.ptr);
	df_error_hint("grant the reading user %s on the database, or read this side as its owner",
		privs.ptr);
	/* like a privilege missing at connect: devflow cannot use this side */
	if ((e = df_error_last()))
		((df_error *)e)->connect_phase = 1;
out:
	df_rows_free(r);
	df_buf_release(&what);
	df_buf_release(&privs);
	return error;
}
