/* devflow db snapshot: placeholder until snapshots land. */
#include "cli/cli.h"

int cmd_db_snapshot(int argc, char **argv, struct cli_ctx *ctx)
{
	df_error_set(DF_EINTERNAL, "db snapshot is not built yet");
	return cli_fail(ctx, DF_EINTERNAL);
}
