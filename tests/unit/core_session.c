/*
 * Opening a session through core alone (df_session_open), with no front
 * end: what the report says, and the two gates' verdicts as data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/session.h"

static char *dir, cwd[4096];
static const char *vars[] = { "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
	"DB_PASSWORD", "DB_ENGINE", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
	"TURSO_DATABASE_URL", "DEVFLOW_ENV", "PGHOST", "PGHOSTADDR", "PGSERVICE" };

static int setup(void **state)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir = df_test_tmpdir();
	assert_int_equal(chdir(dir), 0);
	df_test_write(dir, "devflow.conf", "[env \"local\"]\nurl = sqlite:./app.db\n", (size_t)-1);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(chdir(cwd), 0);
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

static bool exists(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0;
}

/* A run that only reads an absent SQLite file: reported, and no file made. */
static void test_session__read_absent_sqlite(void **state)
{
	df_session s;
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;

	o.env = "local";
	o.flags = DF_SESSION_DB;
	assert_int_equal(df_session_open(&s, &o, &rep), 0);
	assert_false(rep.database_exists);
	assert_int_equal(rep.stop, DF_SESSION_STOP_NONE);
	assert_non_null(s.conn);
	assert_string_equal(s.target->env, "local");
	df_session_close(&s);
	df_session_report_release(&rep);
	assert_false(exists("app.db"));

	/* the database must exist: refused, still no file */
	o.flags = DF_SESSION_DB | DF_SESSION_EXISTING;
	assert_int_equal(df_session_open(&s, &o, &rep), DF_ENOTFOUND);
	assert_int_equal(rep.stop, DF_SESSION_STOP_ABSENT);
	assert_null(s.conn);
	df_session_close(&s);
	df_session_report_release(&rep);
	assert_false(exists("app.db"));
}

/* A database bound to production, written under a local environment. */
static void test_session__binding_gate(void **state)
{
	df_session s;
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;
	const df_error *e;

	o.env = "local";
	o.flags = DF_SESSION_DB | DF_SESSION_ENSURE | DF_SESSION_LOCK | DF_SESSION_WRITES;
	assert_int_equal(df_session_open(&s, &o, &rep), 0);
	assert_true(rep.database_exists);
	assert_true(s.locked);
	assert_int_equal(df_binding_write(s.conn, s.cfg->table, "production", DF_POLICY_PRODUCTION), 0);
	df_session_close(&s);
	df_session_report_release(&rep);

	assert_int_equal(df_session_open(&s, &o, &rep), DF_EGATE);
	assert_int_equal(rep.stop, DF_SESSION_STOP_BINDING);
	assert_string_equal(rep.bound_env, "production");
	assert_int_equal(rep.bound_policy, DF_POLICY_PRODUCTION);
	assert_string_equal(rep.env, "local");
	assert_null(rep.host);
	assert_non_null(e = df_error_last());
	assert_non_null(strstr(e->message, "bound to environment 'production'"));
	assert_null(strstr(e->message, "devflow "));   /* core writes no command line */
	df_session_close(&s);
	df_session_report_release(&rep);

	/* reading is not writing: no gate */
	o.flags = DF_SESSION_DB;
	assert_int_equal(df_session_open(&s, &o, &rep), 0);
	assert_int_equal(rep.stop, DF_SESSION_STOP_NONE);
	df_session_close(&s);
	df_session_report_release(&rep);
}

/* A remote host under the local policy, in a run that writes: refused
 * before any name lookup or connection. */
static void test_session__remote_host_gate(void **state)
{
	df_session s;
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;

	o.env = "local";
	o.url = "postgres://u@db.remote.invalid/x";
	o.flags = DF_SESSION_DB | DF_SESSION_ENSURE | DF_SESSION_LOCK | DF_SESSION_WRITES;
	assert_int_equal(df_session_open(&s, &o, &rep), DF_EGATE);
	assert_int_equal(rep.stop, DF_SESSION_STOP_REMOTE_HOST);
	assert_string_equal(rep.host, "db.remote.invalid");
	assert_string_equal(rep.env, "local");
	assert_null(rep.bound_env);
	assert_null(s.conn);
	assert_false(s.locked);
	assert_null(df_error_last()->hint);    /* the front end words the next step */
	df_session_close(&s);
	df_session_report_release(&rep);
}

/* The report is filled as far as the open got, also when it fails. */
static void test_session__report_on_failure(void **state)
{
	df_session s;
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;
	char mdir[4200];

	snprintf(mdir, sizeof(mdir), "%s/migrations", dir);
	assert_int_equal(mkdir(mdir, 0755), 0);
	df_test_write(mdir, "20240101000001_a.sql", "-- UP\nCREATE TABLE a (id INTEGER);\n", (size_t)-1);
	df_test_write(mdir, "2026_b.sql", "-- UP\nCREATE TABLE b (id INTEGER);\n", (size_t)-1);
	o.env = "local";
	o.flags = DF_SESSION_FILES | DF_SESSION_DB | DF_SESSION_EXISTING;
	assert_int_equal(df_session_open(&s, &o, &rep), DF_ENOTFOUND);
	assert_int_equal(rep.stop, DF_SESSION_STOP_ABSENT);
	assert_int_equal(rep.file_warnings.nr, 1);
	assert_non_null(strstr(rep.file_warnings.v[0], "'2026_b.sql' has version 2026"));
	assert_non_null(s.set);
	df_session_close(&s);
	df_session_report_release(&rep);
	assert_false(exists("app.db"));
}

/* Options of another version are refused, not misread. */
static void test_session__opts_version(void **state)
{
	df_session s;
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;

	o.version = 99;
	assert_int_equal(df_session_open(&s, &o, &rep), DF_EINTERNAL);
	df_session_close(&s);
	df_session_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session__read_absent_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session__binding_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session__remote_host_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session__report_on_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session__opts_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
