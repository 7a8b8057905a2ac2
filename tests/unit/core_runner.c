/*
 * The runner under fault injection: for every N, fail the Nth driver call of
 * a migrate (and of a rollback) and check that the history stays consistent
 * (each recorded migration's table exists, no unrecorded one's does) and
 * that a clean run afterwards finishes the work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "fault_driver.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/source.h"

#define NMIG 4

static char *dir, mdir[4200], dbpath[4200];

static int setup(void **state)
{
	static bool registered;

	if (!registered) {
		assert_int_equal(df_driver_register(&df_fault_driver), 0);
		assert_int_equal(df_driver_register(&df_fault_driver_nontx), 0);
		registered = true;
	}
	dir = df_test_tmpdir();
	snprintf(mdir, sizeof(mdir), "%s/migrations", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/test.db", dir);
	mkdir(mdir, 0755);
	for (int i = 1; i <= NMIG; i++) {
		char name[64], body[512];
		snprintf(name, sizeof(name), "2024010100000%d_t%d.sql", i, i);
		snprintf(body, sizeof(body), "-- UP\nCREATE TABLE t%d (id INTEGER);\nINSERT INTO t%d VALUES (%d);\n"
			"CREATE INDEX t%d_id ON t%d (id);\n-- DOWN\nDROP TABLE t%d;\n", i, i, i, i, i, i);
		df_test_write(mdir, name, body, (size_t)-1);
	}
	return 0;
}

static int teardown(void **state)
{
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

static df_dsn *dsn_for(const char *engine)
{
	df_dsn *d = calloc(1, sizeof(*d));

	d->engine = strdup(engine);
	d->database = strdup(dbpath);
	d->url = strdup("fault:test");
	return d;
}

static const char *engine = "fault";

/* What one run has open: the files, the connection, the history, the selection. */
struct fixture {
	df_dsn *dsn;
	df_conn *conn;
	df_migration_set *set;
	df_ledger *ledger;
	df_plan *plan;
	const df_migration **migs;
	size_t n;
};

static int fixture_open(struct fixture *f, const char *eng, const df_run_opts *o, bool rollback)
{
	int error;

	memset(f, 0, sizeof(*f));
	f->dsn = dsn_for(eng);
	assert_int_equal(df_migration_set_load(&f->set, mdir, true), 0);
	if ((error = df_conn_open(&f->conn, f->dsn)) < 0 ||
	    (error = df_ledger_ensure(f->conn, "_migrations")) < 0 ||
	    (error = df_conn_lock(f->conn, "_migrations", 1000)) < 0 ||
	    (error = df_ledger_read(&f->ledger, f->conn, "_migrations")) < 0 ||
	    (error = df_plan_build(&f->plan, f->set, f->ledger)) < 0)
		return error;
	return df_run_select(&f->migs, &f->n, f->plan, o, rollback);
}

static void fixture_close(struct fixture *f)
{
	free(f->migs);
	df_plan_free(f->plan);
	df_ledger_free(f->ledger);
	df_conn_close(f->conn);
	df_migration_set_free(f->set);
	df_dsn_free(f->dsn);
}

/* One run (migrate or rollback of everything) through the fault driver. */
static int run_once(bool rollback, long fail_at)
{
	struct fixture f;
	df_run_opts o = { .table = "_migrations", .steps = NMIG, .source = df_source_sql_folder() };
	df_run_result res = { 0 };
	int error;

	fault_driver_arm(fail_at);
	if ((error = fixture_open(&f, engine, &o, rollback)) == 0)
		error = df_run_apply(&res, f.conn, f.migs, f.n, &o, rollback);
	df_run_result_release(&res);
	fixture_close(&f);
	fault_driver_disarm();
	return error;
}

/* Recorded migrations and existing tables agree; returns how many are applied. */
static int check_consistent(void)
{
	df_dsn *dsn = dsn_for("sqlite");
	df_conn *conn;
	df_rows *rows = NULL;
	int applied = 0;

	assert_int_equal(df_conn_open(&conn, dsn), 0);
	for (int i = 1; i <= NMIG; i++) {
		char q[256];
		bool recorded, exists;
		snprintf(q, sizeof(q), "SELECT count(*) FROM sqlite_master WHERE name = 't%d'", i);
		assert_int_equal(df_conn_query(conn, &rows, q, NULL, 0), 0);
		exists = !strcmp(df_rows_get(rows, 0, 0), "1");
		df_rows_free(rows);
		snprintf(q, sizeof(q), "SELECT count(*) FROM sqlite_master WHERE name = '_migrations'");
		assert_int_equal(df_conn_query(conn, &rows, q, NULL, 0), 0);
		bool table = !strcmp(df_rows_get(rows, 0, 0), "1");
		df_rows_free(rows);
		recorded = false;
		if (table) {
			snprintf(q, sizeof(q), "SELECT count(*) FROM _migrations WHERE filename LIKE '%%_t%d.sql' "
				"AND state = 'applied'", i);
			assert_int_equal(df_conn_query(conn, &rows, q, NULL, 0), 0);
			recorded = !strcmp(df_rows_get(rows, 0, 0), "1");
			df_rows_free(rows);
		}
		if (recorded != exists)
			fail_msg("t%d: recorded=%d but table exists=%d", i, recorded, exists);
		applied += recorded;
	}
	df_conn_close(conn);
	df_dsn_free(dsn);
	return applied;
}

static void test_runner__fault_every_call_of_migrate(void **state)
{
	long total;
	int faults = 0;

	/* count the calls of a clean run first */
	assert_int_equal(run_once(false, 0), 0);
	total = fault_driver_calls();
	assert_true(total > 10);
	assert_int_equal(check_consistent(), NMIG);
	for (long n = 1; n <= total + 1; n++) {
		remove(dbpath);
		int error = run_once(false, n);
		if (error) {
			faults++;
			assert_non_null(df_error_last());
			assert_non_null(strstr(df_error_last()->message, "injected fault"));
		}
		check_consistent();
		assert_int_equal(run_once(false, 0), 0);     /* the next run completes */
		assert_int_equal(check_consistent(), NMIG);
	}
	assert_true(faults >= total - 1);
	print_message("migrate: %ld driver calls, %d injected faults, history consistent after each\n",
		total, faults);
}

static void test_runner__fault_every_call_of_rollback(void **state)
{
	long total;
	int faults = 0;

	remove(dbpath);
	assert_int_equal(run_once(false, 0), 0);
	assert_int_equal(run_once(true, 0), 0);
	total = fault_driver_calls();
	assert_int_equal(check_consistent(), 0);
	for (long n = 1; n <= total + 1; n++) {
		assert_int_equal(run_once(false, 0), 0);
		if (run_once(true, n))
			faults++;
		check_consistent();
		assert_int_equal(run_once(true, 0), 0);
		assert_int_equal(check_consistent(), 0);
	}
	assert_true(faults >= total - 1);
	print_message("rollback: %ld driver calls, %d injected faults, history consistent after each\n",
		total, faults);
}

/* Every driver call of a verified backup fails in turn: never a file under
 * the final name after a failure, never a temporary file left behind. */
static void test_runner__fault_every_call_of_backup(void **state)
{
	char out[4300], unv[4400], cmd[4400];
	long total;
	int faults = 0;

	remove(dbpath);
	assert_int_equal(run_once(false, 0), 0);
	snprintf(out, sizeof(out), "%s/backups/b.sqlite3", dir);
	snprintf(unv, sizeof(unv), "%s.unverified", out);
	for (long n = 0; n <= 8; n++) {
		df_dsn *dsn = dsn_for("fault");
		df_conn *conn = NULL;
		df_backup_info info;
		df_backup_opts o = { .path = out, .env = "test", .verify = true };
		int error;

		remove(out);
		remove(unv);
		assert_int_equal(df_conn_open(&conn, dsn), 0);
		fault_driver_arm(n);
		error = df_backup_run(&info, conn, dsn, &o);
		total = fault_driver_calls();
		fault_driver_disarm();
		if (error && info.path) {
			/* the fault hit --verify: the whole dump is kept, unverified,
			 * beside -o PATH, never under it */
			faults++;
			assert_string_equal(info.path, unv);
			assert_int_equal(access(unv, F_OK), 0);
			assert_int_equal(access(out, F_OK), -1);
			assert_false(info.verified);
			assert_non_null(strstr(df_error_last()->message, "backup not verified"));
		} else if (error) {
			faults++;
			assert_int_equal(access(out, F_OK), -1);
		} else {
			assert_int_equal(access(out, F_OK), 0);
			assert_true(info.verified);
			assert_int_equal(strlen(info.sha256), 64);
		}
		df_backup_info_release(&info);
		df_conn_close(conn);
		df_dsn_free(dsn);
		/* no temporary file is ever left behind */
		snprintf(cmd, sizeof(cmd), "ls '%s/backups' | grep -q tmp", dir);
		assert_int_not_equal(system(cmd), 0);
		if (n == 0)
			print_message("backup: %ld driver calls\n", total);
	}
	assert_true(faults >= 2);
	print_message("backup: %d injected faults, no partial file under the final name\n", faults);
}

/* One value of a query on the test database (malloc'd). */
static char *scalar(df_conn *conn, const char *q)
{
	df_rows *rows = NULL;
	char *v;

	assert_int_equal(df_conn_query(conn, &rows, q, NULL, 0), 0);
	v = strdup(df_rows_get(rows, 0, 0) ? df_rows_get(rows, 0, 0) : "");
	df_rows_free(rows);
	return v;
}

/*
 * Without transactional DDL: every `applied` row's migration took full
 * effect; a migration with effects but no `applied` row has a visible
 * `running` or `failed` row; at most one migration is in that state, and a
 * finished one only when the run's very last write failed (a failure never
 * leaves an earlier, finished one unmarked).  Then does what
 * `db resolve --rolled-back` after a manual clean-up would, so the next
 * run can finish.  Returns how many are applied.
 */
static int check_visible_and_resolve(void)
{
	df_dsn *dsn = dsn_for("sqlite");
	df_conn *conn;
	int applied = 0, halfway = 0;

	assert_int_equal(df_conn_open(&conn, dsn), 0);
	char *ledger = scalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = '_migrations'");
	bool has_ledger = !strcmp(ledger, "1");
	free(ledger);
	for (int i = 1; i <= NMIG; i++) {
		char q[256], *table, *index, *state;
		snprintf(q, sizeof(q), "SELECT count(*) FROM sqlite_master WHERE name = 't%d'", i);
		table = scalar(conn, q);
		snprintf(q, sizeof(q), "SELECT count(*) FROM sqlite_master WHERE name = 't%d_id'", i);
		index = scalar(conn, q);
		snprintf(q, sizeof(q), "SELECT coalesce((SELECT state FROM _migrations WHERE "
			"filename LIKE '%%_t%d.sql'), 'none')", i);
		state = has_ledger ? scalar(conn, q) : strdup("none");
		if (!strcmp(state, "applied")) {
			if (strcmp(table, "1") || strcmp(index, "1"))
				fail_msg("t%d recorded applied but not fully there", i);
			applied++;
		} else if (!strcmp(state, "none")) {
			if (!strcmp(table, "1"))
				fail_msg("t%d has effects but no tracking row", i);
		} else {
			if (strcmp(state, "running") && strcmp(state, "failed"))
				fail_msg("t%d has state '%s'", i, state);
			/* finished but not marked: only when the very last write failed
			 * (a failed batch leaves the mark pending, written at the end) */
			if (!strcmp(index, "1") && i != NMIG)
				fail_msg("t%d finished but is left '%s'", i, state);
			halfway++;
			snprintf(q, sizeof(q), "DROP TABLE IF EXISTS t%d", i);
			assert_int_equal(df_conn_query(conn, NULL, q, NULL, 0), 0);
			snprintf(q, sizeof(q), "DELETE FROM _migrations WHERE filename LIKE '%%_t%d.sql'", i);
			assert_int_equal(df_conn_query(conn, NULL, q, NULL, 0), 0);
		}
		free(table);
		free(index);
		free(state);
	}
	if (halfway > 1)
		fail_msg("%d migrations left halfway; at most the failing one may be", halfway);
	df_conn_close(conn);
	df_dsn_free(dsn);
	return applied;
}

/* MySQL's path: `running` rows, the finished one's mark batched with the
 * next one's `running` row; every driver call fails in turn. */
static void test_runner__fault_every_call_without_transactional_ddl(void **state)
{
	long total;
	int faults = 0, partial = 0;

	engine = "fault-nontx";
	remove(dbpath);
	assert_int_equal(run_once(false, 0), 0);
	total = fault_driver_calls();
	assert_int_equal(check_visible_and_resolve(), NMIG);
	for (long n = 1; n <= total + 1; n++) {
		remove(dbpath);
		int error = run_once(false, n);
		if (error) {
			faults++;
			assert_non_null(strstr(df_error_last()->message, "injected fault"));
		}
		int applied = check_visible_and_resolve();
		if (error && applied > 0 && applied < NMIG)
			partial++;
		assert_int_equal(run_once(false, 0), 0);
		assert_int_equal(check_visible_and_resolve(), NMIG);
	}
	engine = "fault";
	assert_true(faults >= total - 1);
	assert_true(partial > 0);
	print_message("migrate without transactional DDL: %ld driver calls, %d injected faults, "
		"every half-applied migration visible\n", total, faults);
}

/* A dry-run's before_rollback: tables of the run, counted inside its transaction. */
static void count_tables(void *data, df_conn *conn)
{
	long *seen = data;
	df_rows *rows = NULL;

	assert_int_equal(df_conn_query(conn, &rows, "SELECT count(*) FROM sqlite_master "
		"WHERE type = 'table' AND name LIKE 't_'", NULL, 0), 0);
	*seen = strtol(df_rows_get(rows, 0, 0), NULL, 10);
	df_rows_free(rows);
}

/*
 * A dry-run in one transaction shows the caller what it did before the
 * rollback (once, everything in place), and keeps nothing; a migration it
 * can only split (no transaction on SQLite) is marked not_run.
 */
static void test_runner__dry_run_looks_before_rollback(void **state)
{
	struct fixture f;
	long seen = -1;
	df_run_opts o = { .flags = DF_RUN_DRY_RUN, .table = "_migrations",
		.before_rollback = count_tables, .before_rollback_data = &seen,
		.source = df_source_sql_folder() };
	df_run_result res = { 0 };

	(void)state;
	assert_int_equal(fixture_open(&f, "sqlite", &o, false), 0);
	assert_int_equal(f.n, NMIG);
	assert_int_equal(df_run_apply(&res, f.conn, f.migs, f.n, &o, false), 0);
	assert_int_equal(seen, NMIG);
	for (size_t i = 0; i < res.nr; i++)
		assert_false(res.steps[i].not_run);
	seen = -1;
	count_tables(&seen, f.conn);
	assert_int_equal(seen, 0);
	df_run_result_release(&res);

	/* the same set, one of them without a transaction: split, not run */
	((df_migration *)f.migs[1])->no_transaction = true;
	seen = -1;
	assert_int_equal(df_run_apply(&res, f.conn, f.migs, f.n, &o, false), 0);
	assert_true(res.steps[1].not_run);
	assert_false(res.steps[0].not_run);
	assert_int_equal(seen, NMIG - 1);
	df_run_result_release(&res);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runner__fault_every_call_of_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner__dry_run_looks_before_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner__fault_every_call_of_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner__fault_every_call_of_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner__fault_every_call_without_transactional_ddl,
			setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
