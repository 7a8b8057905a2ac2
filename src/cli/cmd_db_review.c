/* devflow db review: placeholder until the review engine lands. */
#include "cli/cli.h"

int cmd_db_review(int argc, char **argv, struct cli_ctx *ctx)
{
	df_error_set(DF_EINTERNAL, "db review is not built yet");
	return cli_fail(ctx, DF_EINTERNAL);
}
