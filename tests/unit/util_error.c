/*
 * An error's suggested commands (df_error_suggest): kept with the error,
 * carried by df_error_save / df_error_restore, cleared by the next error.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/cmd.h"
#include "devflow/error.h"

static void test_error__suggest_kept_and_cleared(void **state)
{
	(void)state;
	df_error_clear();
	/* no error: the command is dropped (and freed: ASan) */
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	assert_null(df_error_last());

	df_error_set(DF_EMISSING, "cannot roll back 'x.sql': its file is gone");
	df_error_hint("restore the file, or settle it with `" DF_ERR_CMD(0) "`");
	df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, "20240101000001", DF_OPT_ROLLED_BACK));
	df_error_suggest(NULL);
	const df_error *e = df_error_last();
	assert_int_equal(e->nr_cmds, 1);
	assert_int_equal(e->cmds[0]->verb, DF_VERB_RESOLVE);
	assert_string_equal(e->cmds[0]->arg, "20240101000001");
	assert_int_equal(e->cmds[0]->nr, 1);
	assert_int_equal(e->cmds[0]->opts[0].opt, DF_OPT_ROLLED_BACK);
	assert_non_null(strchr(e->hint, DF_ERR_CMD_MARK));
	assert_string_equal(strchr(e->hint, DF_ERR_CMD_MARK), "\x1f" "0`");

	/* more than DF_ERROR_CMDS: the extra one is dropped */
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
	assert_int_equal(df_error_last()->nr_cmds, DF_ERROR_CMDS);
	assert_int_equal(df_error_last()->cmds[1]->verb, DF_VERB_STATUS);

	/* a new error starts without commands; a hint or prefix keeps them */
	df_error_set(DF_EIO, "other");
	assert_int_equal(df_error_last()->nr_cmds, 0);
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	df_error_hint("see `" DF_ERR_CMD(0) "`");
	df_error_prefix("context");
	assert_int_equal(df_error_last()->nr_cmds, 1);
	df_error_clear();
}

static void test_error__save_restore_keeps_suggestion(void **state)
{
	(void)state;
	df_error_set(DF_EFAILED, "statement failed");
	df_error_hint("check (`" DF_ERR_CMD(0) "`), then `" DF_ERR_CMD(1) "`");
	df_error_pos("m.sql", 3, 7);
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, "7", DF_OPT_APPLIED));

	df_error *saved = df_error_save();
	assert_non_null(saved);
	assert_int_equal(saved->nr_cmds, 2);
	/* other work sets its own error meanwhile */
	df_error_set(DF_ESQL, "the audit row failed");
	df_error_suggest(df_cmd_make(DF_VERB_DOCTOR, NULL, -1));
	df_error_restore(saved);

	const df_error *e = df_error_last();
	assert_int_equal(e->code, DF_EFAILED);
	assert_string_equal(e->message, "statement failed");
	assert_string_equal(e->hint, "check (`\x1f" "0`), then `\x1f" "1`");
	assert_string_equal(e->file, "m.sql");
	assert_int_equal(e->nr_cmds, 2);
	assert_int_equal(e->cmds[0]->verb, DF_VERB_STATUS);
	assert_null(e->cmds[0]->arg);
	assert_int_equal(e->cmds[1]->verb, DF_VERB_RESOLVE);
	assert_string_equal(e->cmds[1]->arg, "7");
	assert_true(df_cmd_has(e->cmds[1], DF_OPT_APPLIED));

	/* a saved copy is its own: freeing it leaves the error's commands */
	saved = df_error_save();
	df_error_free(saved);
	assert_int_equal(df_error_last()->nr_cmds, 2);
	assert_string_equal(df_error_last()->cmds[1]->arg, "7");
	df_error_clear();
	assert_null(df_error_save());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__suggest_kept_and_cleared),
		cmocka_unit_test(test_error__save_restore_keeps_suggestion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
