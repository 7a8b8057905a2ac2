/*
 * Sources of migrations (include/devflow/source.h) on a SQLite file, no
 * server: the SQL folder lists its plan with states, gives each
 * migration's UP and DOWN, applies and reverts one migration with its
 * tracking row, and records; the seed files run whole, record nothing,
 * and cannot be reverted; a run through df_run_apply goes through the
 * source it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/source.h"

static char *dir, mdir[4200], sdir[4200], url[4200];
static df_dsn *dsn;
static df_conn *conn;

static int setup(void **state)
{
	(void)state;
	dir = df_test_tmpdir();
	snprintf(mdir, sizeof(mdir), "%s/migrations", dir);
	snprintf(sdir, sizeof(sdir), "%s/seeds", dir);
	snprintf(url, sizeof(url), "sqlite://%s/test.db", dir);
	mkdir(mdir, 0755);
	mkdir(sdir, 0755);
	df_test_write(mdir, "20240101000001_users.sql",
		"-- UP\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
		"-- DOWN\nDROP TABLE users;\n", (size_t)-1);
	df_test_write(mdir, "20240101000002_posts.sql",
		"-- UP\nCREATE TABLE posts (id INTEGER);\nCREATE INDEX posts_id ON posts (id);\n"
		"-- DOWN\nDROP TABLE posts;\n", (size_t)-1);
	df_test_write(mdir, "20240101000003_nosql.sql", "-- UP\nCREATE TABLE nodown (x INTEGER);\n",
		(size_t)-1);
	assert_int_equal(df_dsn_parse(&dsn, url), 0);
	assert_int_equal(df_conn_open(&conn, dsn), 0);
	assert_int_equal(df_ledger_ensure(conn, "_migrations"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	df_conn_close(conn);
	df_dsn_free(dsn);
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

static char *one(const char *sql)
{
	df_rows *rows = NULL;
	char *v;

	assert_int_equal(df_conn_query(conn, &rows, sql, NULL, 0), 0);
	v = rows->nrows ? strdup(df_rows_get(rows, 0, 0) ? df_rows_get(rows, 0, 0) : "NULL") : strdup("");
	df_rows_free(rows);
	return v;
}

static void expect(const char *sql, const char *want)
{
	char *got = one(sql);

	if (strcmp(got, want))
		fail_msg("%s: got '%s', want '%s'", sql, got, want);
	free(got);
}

/* The folder's plan as its source lists it. */
struct folder {
	df_migration_set *set;
	df_ledger *ledger;
	df_plan *plan;
	df_source *src;
	df_source_item *items;
	size_t nr;
};

static void folder_open(struct folder *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(df_migration_set_load(&f->set, mdir, true), 0);
	assert_int_equal(df_ledger_read(&f->ledger, conn, "_migrations"), 0);
	assert_int_equal(df_plan_build(&f->plan, f->set, f->ledger), 0);
	assert_int_equal(df_source_folder_new(&f->src, f->plan), 0);
	assert_int_equal(df_source_valid(f->src), 0);
	assert_int_equal(f->src->list(f->src, &f->items, &f->nr), 0);
}

static void folder_close(struct folder *f)
{
	free(f->items);
	df_source_free(f->src);
	df_plan_free(f->plan);
	df_ledger_free(f->ledger);
	df_migration_set_free(f->set);
}

static int run_one(const df_source *src, const df_migration *m, bool revert, df_run_step *step)
{
	df_run_opts o = { .table = "_migrations" };
	df_source_run run = { .conn = conn, .opts = &o, .step = step };

	memset(step, 0, sizeof(*step));
	return revert ? src->revert(src, &run, m) : src->apply(src, &run, m);
}

static void test_source__folder_list_sql_apply_revert(void **state)
{
	struct folder f;
	df_source_sql sql;
	df_run_step step;
	const df_migration *first;

	(void)state;
	folder_open(&f);
	assert_true(f.src->history);
	assert_int_equal(f.nr, 3);
	for (size_t i = 0; i < f.nr; i++)
		assert_int_equal(f.items[i].state, DF_STATE_PENDING);
	first = f.items[0].mig;
	assert_string_equal(first->version, "20240101000001");

	/* UP and DOWN of one migration; no DOWN is NULL, never "unavailable" for SQL */
	assert_int_equal(f.src->sql(f.src, first, &sql), 0);
	assert_false(sql.unavailable);
	assert_non_null(strstr(sql.up, "CREATE TABLE users"));
	assert_null(strstr(sql.up, "DROP TABLE"));
	assert_non_null(strstr(sql.down, "DROP TABLE users;"));
	df_source_sql_release(&sql);
	assert_int_equal(f.src->sql(f.src, f.items[2].mig, &sql), 0);
	assert_non_null(sql.up);
	assert_null(sql.down);
	df_source_sql_release(&sql);

	/* check: every selected one splits and has a statement */
	assert_int_equal(f.src->check(f.src, (const df_migration *[]){ first, f.items[1].mig }, 2,
		DF_DIALECT_SQLITE, false), 0);

	/* apply one: its table and its tracking row, in one transaction */
	assert_int_equal(run_one(f.src, first, false, &step), 0);
	assert_ptr_equal(step.mig, first);
	assert_int_equal(step.statements, 1);
	expect("SELECT count(*) FROM sqlite_master WHERE name = 'users'", "1");
	expect("SELECT state || ' ' || statements_done FROM _migrations "
		"WHERE version = '20240101000001'", "applied 1");
	folder_close(&f);

	/* the plan now says so */
	folder_open(&f);
	assert_int_equal(f.items[0].state, DF_STATE_APPLIED);
	assert_non_null(f.items[0].row);
	assert_int_equal(f.items[1].state, DF_STATE_PENDING);

	/* revert one: the table and the row are gone */
	assert_int_equal(run_one(f.src, f.items[0].mig, true, &step), 0);
	expect("SELECT count(*) FROM sqlite_master WHERE name = 'users'", "0");
	expect("SELECT count(*) FROM _migrations WHERE version = '20240101000001'", "0");
	folder_close(&f);
}

static void test_source__folder_record(void **state)
{
	struct folder f;
	const df_migration *m;

	(void)state;
	folder_open(&f);
	m = f.items[1].mig;
	/* running, then settled applied: the steps of a migration without a transaction */
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_RUNNING, 0, 0), 0);
	expect("SELECT state || ' ' || coalesce(statements_done, 'NULL') FROM _migrations "
		"WHERE version = '20240101000002'", "running NULL");
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_SETTLED, 12, 2), 0);
	expect("SELECT state || ' ' || statements_done || ' ' || duration_ms FROM _migrations "
		"WHERE version = '20240101000002'", "applied 2 12");
	/* failed, with the last error's message */
	df_error_set(DF_ESQL, "no such table: nothing");
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_FAILED, 0, 1), 0);
	expect("SELECT state || ' ' || statements_done || ' ' || error FROM _migrations "
		"WHERE version = '20240101000002'", "failed 1 no such table: nothing");
	df_error_clear();
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_REVERTED, 0, 0), 0);
	expect("SELECT count(*) FROM _migrations WHERE version = '20240101000002'", "0");
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_APPLIED, 5, 2), 0);
	expect("SELECT state FROM _migrations WHERE version = '20240101000002'", "applied");
	assert_int_equal(f.src->record(f.src, conn, "_migrations", m, DF_RECORD_REVERTED, 0, 0), 0);
	folder_close(&f);
}

/* A failing statement: nothing kept, no row (transactional engine). */
static void test_source__folder_apply_failure_keeps_nothing(void **state)
{
	struct folder f;
	df_run_step step;

	(void)state;
	df_test_write(mdir, "20240101000004_bad.sql",
		"-- UP\nCREATE TABLE half (x INTEGER);\nINSERT INTO nosuch VALUES (1);\n"
		"-- DOWN\nDROP TABLE half;\n", (size_t)-1);
	folder_open(&f);
	assert_int_equal(f.nr, 4);
	assert_int_equal(run_one(f.src, f.items[3].mig, false, &step), DF_ESQL);
	assert_int_equal(step.statements, 1);
	expect("SELECT count(*) FROM sqlite_master WHERE name = 'half'", "0");
	expect("SELECT count(*) FROM _migrations WHERE version = '20240101000004'", "0");
	folder_close(&f);
	unlink(strcat(strcpy((char[4300]){ 0 }, mdir), "/20240101000004_bad.sql"));
}

/* df_run_apply runs each migration through the source it is given. */
static int calls;
static int counting_apply(const df_source *src, df_source_run *run, const df_migration *m)
{
	(void)src;
	calls++;
	run->step->mig = m;
	run->step->statements = 42;
	return 0;
}

static void test_source__runner_goes_through_the_source(void **state)
{
	struct folder f;
	df_source other;
	df_run_opts o = { .table = "_migrations" };
	df_run_result res;

	(void)state;
	folder_open(&f);
	other = *f.src;
	other.apply = counting_apply;
	o.source = &other;
	calls = 0;
	assert_int_equal(df_run_apply(&res, conn, (const df_migration *[]){ f.items[0].mig,
		f.items[1].mig }, 2, &o, false), 0);
	assert_int_equal(calls, 2);
	assert_int_equal(res.nr, 2);
	assert_int_equal(res.steps[1].statements, 42);
	/* it ran nothing of the folder's own */
	expect("SELECT count(*) FROM sqlite_master WHERE name = 'users'", "0");
	expect("SELECT count(*) FROM _migrations", "0");
	df_run_result_release(&res);

	/* a source of another version is refused before anything runs */
	other.version = DF_SOURCE_VERSION + 1;
	assert_int_equal(df_run_apply(&res, conn, (const df_migration *[]){ f.items[0].mig }, 1, &o,
		false), DF_EINTERNAL);
	assert_int_equal(calls, 2);
	df_run_result_release(&res);
	folder_close(&f);
}

static void test_source__seeds(void **state)
{
	char envdir[4300];
	df_source *src;
	df_source_item *items;
	df_source_sql sql;
	df_run_step step;
	size_t nr;
	struct folder f;

	(void)state;
	/* the table the seeds fill */
	folder_open(&f);
	assert_int_equal(run_one(f.src, f.items[0].mig, false, &step), 0);
	folder_close(&f);

	snprintf(envdir, sizeof(envdir), "%s/staging", sdir);
	mkdir(envdir, 0755);
	df_test_write(sdir, "02_bob.sql", "INSERT INTO users VALUES (2, 'bob');\n", (size_t)-1);
	df_test_write(sdir, "01_alice.sql", "INSERT INTO users VALUES (1, 'alice');\n"
		"INSERT INTO users VALUES (3, 'carol');\n", (size_t)-1);
	df_test_write(sdir, "notes.txt", "not a seed", (size_t)-1);
	df_test_write(envdir, "01_more.sql", "INSERT INTO users VALUES (4, 'dave');\n", (size_t)-1);
	assert_int_equal(df_source_seeds_new(&src, sdir, envdir), 0);
	assert_int_equal(df_source_valid(src), 0);
	assert_false(src->history);
	assert_string_equal(src->verb, "seed");
	assert_int_equal(src->list(src, &items, &nr), 0);
	assert_int_equal(nr, 3);
	/* the folder's files in name order, then the environment's */
	assert_non_null(strstr(items[0].mig->path, "seeds/01_alice.sql"));
	assert_non_null(strstr(items[1].mig->path, "seeds/02_bob.sql"));
	assert_non_null(strstr(items[2].mig->path, "seeds/staging/01_more.sql"));
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(items[i].state, DF_STATE_PENDING);
	assert_int_equal(src->sql(src, items[0].mig, &sql), 0);
	assert_non_null(strstr(sql.up, "carol"));
	assert_null(sql.down);
	df_source_sql_release(&sql);
	assert_int_equal(src->check(src, (const df_migration **)&items[0].mig, 1, DF_DIALECT_SQLITE,
		false), 0);

	assert_int_equal(run_one(src, items[0].mig, false, &step), 0);
	assert_int_equal(step.statements, 2);
	expect("SELECT count(*) FROM users", "2");
	/* recorded nowhere: no tracking row */
	assert_int_equal(src->record(src, conn, "_migrations", items[0].mig, DF_RECORD_APPLIED, 0, 2), 0);
	expect("SELECT count(*) FROM _migrations WHERE filename LIKE '%alice%'", "0");
	/* a seed cannot be reverted */
	assert_int_equal(run_one(src, items[0].mig, true, &step), DF_EUSAGE);
	/* a failing seed keeps nothing of its own */
	df_test_write(sdir, "03_bad.sql", "INSERT INTO users VALUES (9, 'x');\nINSERT INTO nosuch VALUES (1);\n",
		(size_t)-1);
	free(items);
	df_source_free(src);
	assert_int_equal(df_source_seeds_new(&src, sdir, NULL), 0);
	assert_int_equal(src->list(src, &items, &nr), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(run_one(src, items[2].mig, false, &step), DF_ESQL);
	expect("SELECT count(*) FROM users WHERE id = 9", "0");
	free(items);
	df_source_free(src);

	/* no folder: no seed, no error */
	assert_int_equal(df_source_seeds_new(&src, "/nonexistent/seeds", NULL), 0);
	assert_int_equal(src->list(src, &items, &nr), 0);
	assert_int_equal(nr, 0);
	df_source_free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source__folder_list_sql_apply_revert),
		cmocka_unit_test(test_source__folder_record),
		cmocka_unit_test(test_source__folder_apply_failure_keeps_nothing),
		cmocka_unit_test(test_source__runner_goes_through_the_source),
		cmocka_unit_test(test_source__seeds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
