/*
 * tsan/parallel_runs (issue 23): ten migrate workflows at once on threads of
 * one process (4 SQLite files, 4 PostgreSQL databases, 2 MariaDB databases),
 * built with ThreadSanitizer (TSAN_OPTIONS=halt_on_error=1: any report fails
 * it).  Each run is cancelled from another thread at a random moment, or not
 * at all (DEVFLOW_TSAN_SEED, or the time: the seed is printed).  Then:
 *  - a run not cancelled succeeded; a cancelled one succeeded or stopped
 *    with DF_EINTERRUPTED, nothing else;
 *  - every target is applied or cleanly rolled back: each migration's table
 *    exists exactly when its row says applied (MariaDB, whose DDL commits by
 *    itself: a failed row's table exists exactly when its CREATE ran, as the
 *    row's statement count says);
 *  - each lock is free: a second session takes it without waiting;
 *  - each rollback plan is its own file, naming its own target.
 * It needs the test servers (DEVFLOW_TEST_PG_URL, DEVFLOW_TEST_MYSQL_URL):
 * without them it is skipped (exit 77), or fails with DEVFLOW_REQUIRE_SERVERS=1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devflow/error.h"
#include "devflow/run.h"
#include "devflow/session.h"
#include "devflow/workflow.h"

#define NR_TARGETS 10
#define NR_MIGS 8

struct target {
	char url[512];
	char name[64];          /* database name, or SQLite file */
	const char *engine;
	df_run *run;
	long cancel_after_us;   /* < 0: never cancelled */
	int error;
	char *plan;
	char message[512];
};

static struct target targets[NR_TARGETS];
static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL: " __VA_ARGS__); \
	fputc('\n', stderr); failures++; } } while (0)

static int sink_event(const df_wf_event *ev, void *payload)
{
	(void)payload;
	(void)ev;
	return 0;
}

static int sink_ask(const df_ask *q, int *answer, void *payload)
{
	(void)q;
	(void)answer;
	(void)payload;
	return 1;       /* nobody answers: the gates refuse */
}

static void *canceller(void *arg)
{
	struct target *t = arg;
	struct timespec ts = { t->cancel_after_us / 1000000, (t->cancel_after_us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
	df_run_cancel(t->run, SIGINT);
	return NULL;
}

static void *worker(void *arg)
{
	struct target *t = arg;
	df_session_opts o = DF_SESSION_OPTS_INIT;
	df_session_report rep;
	df_session s;
	df_wf_opts wo;
	df_wf_sink sink = DF_WF_SINK_INIT;
	df_wf_result res;
	int error;

	sink.event = sink_event;
	sink.ask = sink_ask;
	sink.payload = t;
	memset(&wo, 0, sizeof(wo));
	memset(&res, 0, sizeof(res));
	wo.select = "";
	o.url = t->url;
	o.flags = DF_SESSION_DB | DF_SESSION_FILES | DF_SESSION_ENSURE | DF_SESSION_LOCK |
		DF_SESSION_PLAN | DF_SESSION_WRITES;
	o.lock_timeout_ms = 20000;
	o.run = t->run;
	o.audit_op = "migrate";
	error = df_session_open(&s, &o, &rep);
	df_session_report_release(&rep);
	if (error == 0) {
		error = df_wf_run(&res, &s, &wo, &sink);
		if (res.rollback_plan)
			t->plan = strdup(res.rollback_plan);
	}
	if (error && df_error_last())
		snprintf(t->message, sizeof(t->message), "%s", df_error_last()->message);
	t->error = error;
	df_wf_result_release(&res);
	df_session_close(&s);
	return NULL;
}

/* CREATE or DROP DATABASE name on the server of admin_url. */
static int server_db(const char *admin_url, const char *verb, const char *name)
{
	df_dsn *dsn = NULL;
	df_conn *c = NULL;
	char sql[160];
	int error;

	if ((error = df_dsn_parse(&dsn, admin_url)) < 0 || (error = df_conn_open(&c, dsn)) < 0) {
		df_dsn_free(dsn);
		return error;
	}
	snprintf(sql, sizeof(sql), "%s DATABASE %s%s", verb, !strcmp(verb, "DROP") ? "IF EXISTS " : "", name);
	error = df_conn_exec(c, sql, strlen(sql), NULL);
	df_conn_close(c);
	df_dsn_free(dsn);
	return error;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* The state of each migration on a target, checked against its schema. */
static void check_target(struct target *t)
{
	df_session_opts o = DF_SESSION_OPTS_INIT;
	df_session_report rep;
	df_session s;
	df_rows *rows = NULL;
	bool mysql = !strcmp(t->engine, "mysql");
	int error;

	o.url = t->url;
	o.flags = DF_SESSION_DB | DF_SESSION_LOCK;
	o.lock_timeout_ms = 0;          /* the lock must be free now */
	error = df_session_open(&s, &o, &rep);
	df_session_report_release(&rep);
	CHECK(error == 0, "%s: a second session cannot take the lock: %s", t->name,
		error && df_error_last() ? df_error_last()->message : "");
	if (error) {
		df_session_close(&s);
		return;
	}
	for (int i = 1; i <= NR_MIGS; i++) {
		char ver[32], tbl[16], q[128];
		df_rows *cols = NULL;
		const char *state = NULL, *done = NULL;
		bool exists;

		snprintf(ver, sizeof(ver), "202401010000%02d", i);
		snprintf(tbl, sizeof(tbl), "t%02d", i);
		snprintf(q, sizeof(q), "SELECT state, statements_done FROM _migrations WHERE version = '%s'", ver);
		rows = NULL;
		if (df_conn_query(s.conn, &rows, q, NULL, 0) < 0) {
			df_error_clear();   /* no tracking table: nothing ran */
		} else if (rows->nrows) {
			state = df_rows_get(rows, 0, 0);
			done = df_rows_get(rows, 0, 1);
		}
		exists = df_conn_table_columns(s.conn, &cols, tbl) == 0 && cols && cols->nrows > 0;
		df_rows_free(cols);
		if (!state)
			CHECK(!exists, "%s: %s exists but %s has no row", t->name, tbl, ver);
		else if (!strcmp(state, "applied"))
			CHECK(exists, "%s: %s applied but %s is missing", t->name, ver, tbl);
		else if (mysql)
			/* DDL commits by itself: honest when the CREATE (the first
			 * statement) ran exactly when the count says so */
			CHECK(exists == (done && atol(done) >= 1), "%s: %s is %s with %s statement(s) "
				"done but %s %s", t->name, ver, state, done ? done : "NULL", tbl,
				exists ? "exists" : "is missing");
		else
			CHECK(0, "%s: %s left %s (a transactional engine keeps nothing of it)", t->name,
				ver, state);
		df_rows_free(rows);
	}
	df_session_close(&s);
}

int main(void)
{
	const char *pg = getenv("DEVFLOW_TEST_PG_URL"), *my = getenv("DEVFLOW_TEST_MYSQL_URL");
	const char *req = getenv("DEVFLOW_REQUIRE_SERVERS"), *seed_env = getenv("DEVFLOW_TSAN_SEED");
	pthread_t th[NR_TARGETS], cancel_th[NR_TARGETS];
	char dir[] = "/tmp/devflow-tsan.XXXXXX", tag[32];
	unsigned int seed;
	int cancelled = 0;

	if (!pg || !*pg || !my || !*my) {
		fprintf(stderr, "tsan/parallel_runs needs DEVFLOW_TEST_PG_URL and DEVFLOW_TEST_MYSQL_URL\n");
		return req && !strcmp(req, "1") ? 1 : 77;
	}
	seed = seed_env && *seed_env ? (unsigned int)strtoul(seed_env, NULL, 10) :
		(unsigned int)time(NULL) ^ (unsigned int)getpid();
	printf("seed %u (DEVFLOW_TSAN_SEED=%u repeats this run)\n", seed, seed);
	fflush(stdout);
	srand(seed);

	/* one project: the migrations folder is shared, each run has its URL */
	if (!mkdtemp(dir) || chdir(dir) < 0 || mkdir("migrations", 0755) < 0) {
		perror(dir);
		return 1;
	}
	for (int i = 1; i <= NR_MIGS; i++) {
		char path[64], text[512];
		snprintf(path, sizeof(path), "migrations/202401010000%02d_m%02d.sql", i, i);
		/* a table, then (every other one) a statement that takes a while:
		 * cancels land before, between and inside statements */
		snprintf(text, sizeof(text), "-- UP\nCREATE TABLE t%02d (id INTEGER, v VARCHAR(40));\n%s"
			"-- DOWN\nDROP TABLE t%02d;\n", i, i % 2 ? "" :
			"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000) "
			"SELECT count(*) FROM c;\n", i);
		write_file(path, text);
	}
	snprintf(tag, sizeof(tag), "%ld", (long)getpid());
	for (int i = 0; i < NR_TARGETS; i++) {
		struct target *t = &targets[i];
		if (i < 4) {
			t->engine = "sqlite";
			snprintf(t->name, sizeof(t->name), "lite%d.db", i);
			snprintf(t->url, sizeof(t->url), "sqlite:./%s", t->name);
		} else {
			const char *admin = i < 8 ? pg : my;
			char *url;
			t->engine = i < 8 ? "postgres" : "mysql";
			snprintf(t->name, sizeof(t->name), "df_tsan_%s_%d", tag, i);
			if (server_db(admin, "CREATE", t->name) < 0) {
				fprintf(stderr, "cannot create database %s: %s\n", t->name, df_error_last()->message);
				return 1;
			}
			if (!(url = df_dsn_with_database(admin, t->name)))
				return 1;
			snprintf(t->url, sizeof(t->url), "%s", url);
			free(url);
		}
		if (df_run_new(&t->run) < 0)
			return 1;
		/* 3 in 10 never cancelled; the rest at 0 to 400 ms */
		t->cancel_after_us = rand() % 10 < 3 ? -1 : (long)(rand() % 400000);
		printf("  %-9s %-24s %s\n", t->engine, t->name, t->cancel_after_us < 0 ? "not cancelled" :
			"cancelled");
		if (t->cancel_after_us >= 0)
			printf("            after %ld us\n", t->cancel_after_us);
	}
	fflush(stdout);
	for (int i = 0; i < NR_TARGETS; i++) {
		pthread_create(&th[i], NULL, worker, &targets[i]);
		if (targets[i].cancel_after_us >= 0)
			pthread_create(&cancel_th[i], NULL, canceller, &targets[i]);
	}
	for (int i = 0; i < NR_TARGETS; i++) {
		pthread_join(th[i], NULL);
		if (targets[i].cancel_after_us >= 0)
			pthread_join(cancel_th[i], NULL);
	}

	for (int i = 0; i < NR_TARGETS; i++) {
		struct target *t = &targets[i];
		bool was = df_run_cancelled(t->run) != 0;
		cancelled += was;
		printf("  %-24s %s%s%s\n", t->name, t->error == 0 ? "ok" : t->error == DF_EINTERRUPTED ?
			"interrupted" : "FAILED", t->error ? ": " : "", t->error ? t->message : "");
		if (t->cancel_after_us < 0)
			CHECK(t->error == 0, "%s: not cancelled, yet %d: %s", t->name, t->error, t->message);
		else
			CHECK(t->error == 0 || t->error == DF_EINTERRUPTED, "%s: cancelled: %d: %s",
				t->name, t->error, t->message);
		check_target(t);
		if (t->plan) {
			FILE *f = fopen(t->plan, "r");
			char buf[4096] = "";
			size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
			buf[n] = '\0';
			if (f)
				fclose(f);
			CHECK(f != NULL, "%s: its rollback plan %s is not there", t->name, t->plan);
			CHECK(strstr(buf, t->name) != NULL, "%s: the rollback plan %s names another target",
				t->name, t->plan);
			CHECK(strstr(t->plan, df_run_id(t->run)) != NULL, "%s: the plan %s lacks the run id %s",
				t->name, t->plan, df_run_id(t->run));
			for (int k = 0; k < i; k++)
				CHECK(!targets[k].plan || strcmp(targets[k].plan, t->plan), "%s and %s share the "
					"rollback plan %s", targets[k].name, t->name, t->plan);
		} else {
			CHECK(t->error != 0, "%s: migrated without a rollback plan", t->name);
		}
	}
	for (int i = 0; i < NR_TARGETS; i++) {
		struct target *t = &targets[i];
		if (strcmp(t->engine, "sqlite"))
			server_db(!strcmp(t->engine, "postgres") ? pg : my, "DROP", t->name);
		df_run_free(t->run);
		free(t->plan);
	}
	printf("%d of %d runs cancelled; %d failure(s)\n", cancelled, NR_TARGETS, failures);
	if (!failures) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: %s stays\n", dir);
	}
	return failures ? 1 : 0;
}
