/* Schema snapshots: placeholder until they land. */
#include "devflow/core.h"
#include "devflow/error.h"

int df_snapshot_take(char **out_path, df_conn *conn, const df_dsn *dsn,
	const char *env, const char *tag)
{
	*out_path = 0;
	return df_error_set(DF_EINTERNAL, "schema snapshots are not built yet");
}
