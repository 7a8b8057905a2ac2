/*
 * A run's own state (devflow/run.h): ids unique across runs and threads,
 * the cancel token, and the connections a run arms (a fake driver counts
 * what the cancel asks of it).  A session cancelled before it opens stops
 * before connecting.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/error.h"
#include "devflow/run.h"
#include "devflow/session.h"

static int cancels, arms, disarms;

static void fake_cancel(df_conn *conn)
{
	(void)conn;
	cancels++;
}

static int fake_arm(df_conn *conn, bool on)
{
	(void)conn;
	if (on)
		arms++;
	else
		disarms++;
	return 0;
}

static const df_driver fake_driver = {
	.version = DF_DRIVER_VERSION, .name = "fake",
	.cancel_arm = fake_arm, .cancel = fake_cancel,
};

static void test_run__ids(void **state)
{
	df_run *a, *b;
	char pid[32];

	assert_int_equal(df_run_new(&a), 0);
	assert_int_equal(df_run_new(&b), 0);
	assert_string_not_equal(df_run_id(a), df_run_id(b));
	snprintf(pid, sizeof(pid), "%ld_", (long)getpid());
	assert_int_equal(strncmp(df_run_id(a), pid, strlen(pid)), 0);
	assert_true(strlen(df_run_id(a)) <= 20);
	for (const char *p = df_run_id(a); *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
	assert_int_equal(df_run_cancelled(a), 0);
	df_run_free(a);
	df_run_free(b);
}

#define NTHREADS 8
#define PER_THREAD 200
static char ids[NTHREADS * PER_THREAD][DF_RUN_ID_MAX];

static void *make_ids(void *arg)
{
	size_t base = (size_t)arg * PER_THREAD;

	for (size_t i = 0; i < PER_THREAD; i++) {
		df_run *r;
		if (df_run_new(&r) < 0)
			return NULL;
		snprintf(ids[base + i], DF_RUN_ID_MAX, "%s", df_run_id(r));
		df_run_free(r);
	}
	return NULL;
}

static void test_run__ids_unique_across_threads(void **state)
{
	pthread_t t[NTHREADS];

	for (size_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_ids, (void *)i), 0);
	for (size_t i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (size_t i = 0; i < NTHREADS * PER_THREAD; i++) {
		assert_true(ids[i][0] != '\0');
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(ids[i], ids[k]);
	}
}

static void test_run__cancel_reaches_armed_connections(void **state)
{
	df_conn one = { .driver = &fake_driver }, two = { .driver = &fake_driver };
	df_run *r;

	cancels = arms = disarms = 0;
	assert_int_equal(df_run_new(&r), 0);
	assert_int_equal(df_run_arm(r, &one), 0);
	assert_int_equal(df_run_arm(r, &two), 0);
	assert_int_equal(arms, 2);
	assert_ptr_equal(one.run, r);
	assert_int_equal(df_conn_cancelled(&one), 0);
	df_run_cancel(r, SIGTERM);
	assert_int_equal(cancels, 2);
	assert_int_equal(df_run_cancelled(r), SIGTERM);
	assert_int_equal(df_conn_cancelled(&one), SIGTERM);
	/* the first signal is the one kept */
	df_run_cancel(r, SIGINT);
	assert_int_equal(df_run_cancelled(r), SIGTERM);
	df_run_disarm(r, &one);
	assert_int_equal(disarms, 1);
	assert_null(one.run);
	assert_int_equal(df_conn_cancelled(&one), 0);
	df_run_cancel(r, SIGINT);
	assert_int_equal(cancels, 5);           /* 2 + 2, then only `two`: it alone is armed now */
	df_run_free(r);                         /* disarms `two` */
	assert_int_equal(disarms, 2);
	assert_null(two.run);
}

static void test_run__session_of_a_cancelled_run_never_connects(void **state)
{
	char *dir = df_test_tmpdir(), cwd[4096];
	df_session_opts o = DF_SESSION_OPTS_INIT;
	df_session_report rep;
	df_session s;
	df_run *r;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	unsetenv("DATABASE_URL");
	df_test_write(dir, "devflow.conf", "[env \"local\"]\nurl = sqlite:./app.db\n", (size_t)-1);
	assert_int_equal(df_run_new(&r), 0);
	df_run_cancel(r, SIGINT);               /* a signal before the session */
	o.run = r;
	o.flags = DF_SESSION_DB | DF_SESSION_LOCK | DF_SESSION_ENSURE | DF_SESSION_WRITES;
	assert_int_equal(df_session_open(&s, &o, &rep), DF_EINTERRUPTED);
	assert_null(s.conn);
	assert_non_null(strstr(df_error_last()->message, "interrupted by SIGINT while connecting"));
	assert_int_equal(access("app.db", F_OK), -1);   /* not even created */
	df_session_close(&s);
	df_session_report_release(&rep);
	df_run_free(r);
	assert_int_equal(chdir(cwd), 0);
	df_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run__ids),
		cmocka_unit_test(test_run__ids_unique_across_threads),
		cmocka_unit_test(test_run__cancel_reaches_armed_connections),
		cmocka_unit_test(test_run__session_of_a_cancelled_run_never_connects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
