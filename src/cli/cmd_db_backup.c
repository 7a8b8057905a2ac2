/* devflow db backup: placeholder until backups land. */
#include "cli/cli.h"

int cmd_db_backup(int argc, char **argv, struct cli_ctx *ctx)
{
	df_error_set(DF_EINTERNAL, "db backup is not built yet");
	return cli_fail(ctx, DF_EINTERNAL);
}
