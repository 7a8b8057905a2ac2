/*
 * The shadow runner (DF_RUN_SHADOW): what the schema code is handed to replay a history
 * into a throwaway database (df_schema_replay(), db generate).  The schema
 * code asks the core for nothing; its callers pass this.
 */
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/source.h"
#include "util/banned.h"

int df_run_shadow(df_conn *conn, const df_migration *const *migs, size_t nr)
{
	df_run_result res = { 0 };
	df_run_opts ro = { 0 };
	int error;

	ro.flags = DF_RUN_SHADOW;
	ro.table = "_migrations";
	ro.source = df_source_sql_folder();
	if ((error = df_run_check((const df_migration **)migs, nr, df_conn_dialect(conn), false)) == 0)
		error = df_run_apply(&res, conn, (const df_migration **)migs, nr, &ro, false);
	df_run_result_release(&res);
	return error;
}
