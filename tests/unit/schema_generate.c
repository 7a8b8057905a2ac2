/*
 * db generate's library (src/schema/generate.c) and the new migration files
 * (src/core/newfile.c), on SQLite in memory: no server needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/schema.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = df_test_tmpdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

/* df_generate() from a history of one migration (or none) to `schema`. */
static df_generated *generate(const char *history, const char *schema)
{
	df_migration_set *set = NULL;
	const df_migration **migs = NULL;
	df_generate_opts o = DF_GENERATE_OPTS_INIT;
	df_generated *g = NULL;
	char path[512], file[512];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/m", dir);
	df_test_rmtree(path);
	assert_int_equal(mkdir(path, 0755), 0);
	if (history)
		df_test_write(path, "20240101000000_first.sql", history, (size_t)-1);
	df_test_write(dir, "schema.sql", schema, (size_t)-1);
	assert_int_equal(df_migration_set_load(&set, path, true), 0);
	assert_int_equal(df_migration_set_history(&migs, &n, set, NULL, false), 0);
	snprintf(file, sizeof(file), "%s/schema.sql", dir);
	o.engine = "sqlite";
	o.migs = migs;
	o.nr = n;
	o.schema_path = file;
	assert_int_equal(df_generate(&g, &o), 0);
	free(migs);
	df_migration_set_free(set);
	return g;
}

static void test_generate__no_changes(void **state)
{
	df_generated *g = generate("-- UP\nCREATE TABLE t (id INTEGER PRIMARY KEY);\n",
		"CREATE TABLE t (id INTEGER PRIMARY KEY);\n");

	(void)state;
	assert_int_equal(g->up->nr, 0);
	assert_int_equal(g->down->nr, 0);
	assert_false(g->destroys_data);
	assert_null(g->online_sql);
	df_generated_free(g);
}

static void test_generate__up_and_down(void **state)
{
	df_generated *g = generate("-- UP\nCREATE TABLE t (id INTEGER PRIMARY KEY);\n",
		"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n"
		"CREATE TABLE u (id INTEGER PRIMARY KEY);\n");

	(void)state;
	assert_non_null(strstr(g->up_sql, "ADD COLUMN name"));
	assert_non_null(strstr(g->up_sql, "CREATE TABLE u"));
	assert_non_null(strstr(g->down_sql, "DROP COLUMN \"name\""));
	assert_non_null(strstr(g->down_sql, "DROP TABLE \"u\""));
	/* adding destroys nothing; the DOWN does */
	assert_false(g->destroys_data);
	assert_int_equal(g->drops.nr, 0);
	assert_int_equal(g->lost.nr, 2);
	df_generated_free(g);
}

static void test_generate__drop_is_marked(void **state)
{
	df_generated *g = generate("-- UP\nCREATE TABLE t (id INTEGER PRIMARY KEY);\n"
		"CREATE TABLE old (id INTEGER);\n", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n");

	(void)state;
	assert_true(g->destroys_data);
	assert_int_equal(g->drops.nr, 1);
	assert_string_equal(g->drops.v[0], "drop table old");
	assert_non_null(strstr(g->down_sql, "CREATE TABLE old"));
	df_generated_free(g);
}

static void test_generate__rename_both_ways(void **state)
{
	df_generated *g = generate("-- UP\nCREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT);\n",
		"-- devflow:renamed-from t\nCREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n"
		"  -- devflow:renamed-from email\n  mail TEXT\n);\n");

	(void)state;
	assert_false(g->destroys_data);
	assert_non_null(strstr(g->up_sql, "RENAME TO \"users\""));
	assert_non_null(strstr(g->up_sql, "RENAME COLUMN \"email\" TO \"mail\""));
	assert_non_null(strstr(g->down_sql, "RENAME TO \"t\""));
	assert_non_null(strstr(g->down_sql, "RENAME COLUMN \"mail\" TO \"email\""));
	assert_null(strstr(g->down_sql, "DROP"));
	df_generated_free(g);
}

static void test_generate__broken_schema_is_located(void **state)
{
	df_generate_opts o = DF_GENERATE_OPTS_INIT;
	df_generated *g = NULL;
	char file[512];

	(void)state;
	df_test_write(dir, "bad.sql", "CREATE TABLE a (id INTEGER);\nCREATE TABLE a (id INTEGER);\n",
		(size_t)-1);
	snprintf(file, sizeof(file), "%s/bad.sql", dir);
	o.engine = "sqlite";
	o.schema_path = file;
	assert_int_equal(df_generate(&g, &o), DF_ESQL);
	assert_null(g);
	assert_int_equal(df_error_last()->line, 2);
}

static void test_schema_ddl__reloads_to_the_same(void **state)
{
	df_generated *g = generate(NULL, "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT);\n"
		"CREATE INDEX a_b ON a (b);\nCREATE VIEW v AS SELECT b FROM a;\n");
	df_schema *s = NULL, *again = NULL;
	char file[512], *text = NULL, *t1 = NULL, *t2 = NULL;

	(void)state;
	df_generated_free(g);
	snprintf(file, sizeof(file), "%s/schema.sql", dir);
	assert_int_equal(df_schema_load_file(&s, file, "sqlite", NULL, NULL, 0, df_run_sql_file), 0);
	assert_int_equal(df_schema_ddl(&text, NULL, s, "-- head\n"), 0);
	assert_int_equal(strncmp(text, "-- head\n", 8), 0);
	df_test_write(dir, "pulled.sql", text, (size_t)-1);
	snprintf(file, sizeof(file), "%s/pulled.sql", dir);
	assert_int_equal(df_schema_load_file(&again, file, "sqlite", NULL, NULL, 1, df_run_sql_file), 0);
	assert_int_equal(df_schema_text(&t1, s), 0);
	assert_int_equal(df_schema_text(&t2, again), 0);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	free(text);
	df_schema_free(s);
	df_schema_free(again);
}

static void test_newfile__formats(void **state)
{
	df_migration_set empty = { 0 };
	df_new_migration n;
	df_buf up = DF_BUF_INIT, down = DF_BUF_INIT, name = DF_BUF_INIT;

	(void)state;
	assert_int_equal(df_migration_name_normalize(&name, "Add-Users.now"), 0);
	assert_string_equal(name.ptr, "add_users_now");
	df_buf_release(&name);
	assert_int_equal(df_migration_name_normalize(&name, "bad/name"), DF_EUSAGE);
	df_buf_release(&name);

	assert_int_equal(df_migration_new(&n, &empty, "m", "x", NULL, 0), 0);
	assert_int_equal(n.format, DF_FMT_DEVFLOW);
	assert_string_equal(n.version, "19700101000000");
	assert_string_equal(n.path, "m/19700101000000_x.sql");
	assert_null(n.down_path);
	assert_int_equal(df_migration_compose(&up, &down, &n, "-- h\n", "CREATE TABLE t (id int);",
		"DROP TABLE t;", true), 0);
	assert_string_equal(up.ptr, "-- h\n-- devflow:no-transaction\n-- UP\nCREATE TABLE t (id int);\n"
		"-- DOWN\nDROP TABLE t;\n");
	assert_int_equal(down.size, 0);
	df_new_migration_release(&n);
	/* after a given version: the next free second */
	assert_int_equal(df_migration_new(&n, &empty, "m", "x", "19700101000005", 0), 0);
	assert_string_equal(n.version, "19700101000006");
	df_new_migration_release(&n);
	df_buf_release(&up);
	df_buf_release(&down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate__no_changes),
		cmocka_unit_test(test_generate__up_and_down),
		cmocka_unit_test(test_generate__drop_is_marked),
		cmocka_unit_test(test_generate__rename_both_ways),
		cmocka_unit_test(test_generate__broken_schema_is_located),
		cmocka_unit_test(test_schema_ddl__reloads_to_the_same),
		cmocka_unit_test(test_newfile__formats),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
