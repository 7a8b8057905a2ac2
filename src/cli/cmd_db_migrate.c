/* devflow db migrate: apply pending migrations (see apply.c). */
#include "cli/cli.h"

int cli_apply(int argc, char **argv, struct cli_ctx *ctx, bool rollback);

int cmd_db_migrate(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_apply(argc, argv, ctx, false);
}
