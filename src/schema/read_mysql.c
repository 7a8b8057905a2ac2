/* MySQL/MariaDB's schema from information_schema (bulk queries). */
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

int df__schema_read_mysql(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	(void)conn;
	(void)s;
	(void)opts;
	return df_error_set(DF_EUSAGE, "reading a MySQL/MariaDB schema is not built yet");
}
