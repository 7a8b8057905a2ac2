/*
 * core/hook.c: the environment an after_migrate hook gets keeps the user's
 * variables and DEVFLOW_ENV, and drops every credential.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/dsn.h"
#include "core/hook.h"

static bool has(char **env, const char *prefix)
{
	for (char **e = env; *e; e++)
		if (!strncmp(*e, prefix, strlen(prefix)))
			return true;
	return false;
}

static void test_hook__env_drops_credentials(void **state)
{
	char *in[] = {
		"PATH=/usr/bin:/bin", "HOME=/home/u", "HOOK_TEST_KEEP=1",
		"DATABASE_URL=postgres://u:pw@h/db", "DEVFLOW_URL=postgres://u:pw@h/db",
		"DB_PASSWORD=x", "PGPASSWORD=x", "MYSQL_PWD=x", "MARIADB_PWD=x",
		"SQLALCHEMY_DATABASE_URI=x", "POSTGRES_URL=x", "POSTGRES_PRISMA_URL=x",
		"TURSO_AUTH_TOKEN=x", "PGPASSFILE=/home/u/.pgpass",
		"STAGING_DB=postgres://u:longsecret@h/db", "OTHER_URL=mysql://h/x",
		"COPY_OF_PW=xx-longs%65cret", "HOLDS_PW=before-longsecret-after",
		"DEVFLOW_ENV=wrong", "DEVFLOW_MIGRATIONS_DIR=/p/migrations", NULL,
	};
	df_env_conf envs[2] = {
		{ .name = "staging", .url = "${STAGING_DB}", .policy = -1 },
		{ .name = "other", .url = "${OTHER_URL}?x=1", .policy = -1 },
	};
	df_config cfg = { .envs = envs, .envs_nr = 2 };
	df_target t = { .env = "staging", .url = "postgres://u:longs%65cret@h/db", .conf = &envs[0] };
	char **out;

	(void)state;
	assert_int_equal(df_dsn_parse(&t.dsn, t.url), 0);
	assert_int_equal(df__hook_env(&out, in, &cfg, &t), 0);
	assert_true(has(out, "PATH=/usr/bin:/bin"));
	assert_true(has(out, "HOME=/home/u"));
	assert_true(has(out, "HOOK_TEST_KEEP=1"));
	assert_true(has(out, "PGPASSFILE="));
	assert_true(has(out, "DEVFLOW_MIGRATIONS_DIR=/p/migrations"));
	assert_true(has(out, "DEVFLOW_ENV=staging"));
	assert_false(has(out, "DEVFLOW_ENV=wrong"));
	for (const char *const *v = (const char *const[]){ "DATABASE_URL=", "DEVFLOW_URL=",
		"DB_PASSWORD=", "PGPASSWORD=", "MYSQL_PWD=", "MARIADB_PWD=", "SQLALCHEMY_DATABASE_URI=",
		"POSTGRES_URL=", "POSTGRES_PRISMA_URL=", "TURSO_AUTH_TOKEN=", "STAGING_DB=",
		"OTHER_URL=", "COPY_OF_PW=", "HOLDS_PW=", NULL }; *v; v++)
		if (has(out, *v))
			fail_msg("the hook's environment holds %s", *v);
	df__hook_env_free(out);
	df_dsn_free(t.dsn);
}

static void test_hook__runs_and_reports_status(void **state)
{
	df_target t = { .env = "local" };

	(void)state;
	assert_int_equal(df__hook_run("test \"$DEVFLOW_ENV\" = local", NULL, &t), 0);
	assert_int_equal(df__hook_run("exit 7", NULL, &t), 7);
	assert_int_equal(df__hook_run("kill -TERM $$", NULL, &t), 128 + 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook__env_drops_credentials),
		cmocka_unit_test(test_hook__runs_and_reports_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
