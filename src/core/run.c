/*
 * One run's own state (devflow/run.h): its id, its cancel token, the
 * connections it armed.  df_run_cancel() may come from a signal handler or
 * another thread, so everything it reads is atomic, and disarming waits for
 * a cancel that is reading an armed connection to finish with it.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/error.h"
#include "devflow/run.h"
#include "util/uniq.h"
#include "util/banned.h"

struct df_run {
	_Atomic int cancelled;                  /* the token: a signal number, or 0 */
	_Atomic(df_conn *) armed[DF_RUN_MAX_ARMED];
	atomic_int cancelling;                  /* df_run_cancel() calls in flight */
	time_t started;
	char id[DF_RUN_ID_MAX];
};

int df_run_new(df_run **out)
{
	df_run *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return df_error_oom();
	df_uniq(r->id, sizeof(r->id));
	r->started = time(NULL);
	atomic_init(&r->cancelled, 0);
	atomic_init(&r->cancelling, 0);
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++)
		atomic_init(&r->armed[i], NULL);
	*out = r;
	return 0;
}

void df_run_free(df_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++) {
		df_conn *c = atomic_load(&r->armed[i]);
		if (c)
			df_run_disarm(r, c);
	}
	free(r);
}

const char *df_run_id(const df_run *r)
{
	return r ? r->id : "0";
}

void df_run_id_copy(char *out, const df_run *r)
{
	if (r)
		snprintf(out, DF_RUN_ID_MAX, "%s", r->id);
	else
		df_uniq(out, DF_RUN_ID_MAX);
}

time_t df_run_started(const df_run *r)
{
	return r ? r->started : 0;
}

void df_run_cancel(df_run *r, int sig)
{
	int saved = errno, none = 0;

	if (!r)
		return;
	atomic_compare_exchange_strong(&r->cancelled, &none, sig ? sig : SIGINT);
	atomic_fetch_add(&r->cancelling, 1);
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++) {
		df_conn *c = atomic_load(&r->armed[i]);
		if (c && c->driver->cancel)
			c->driver->cancel(c);
	}
	atomic_fetch_sub(&r->cancelling, 1);
	errno = saved;
}

int df_run_cancelled(const df_run *r)
{
	return r ? atomic_load(&((df_run *)r)->cancelled) : 0;
}

int df_run_arm(df_run *r, df_conn *conn)
{
	int error;

	if (!r || !conn)
		return 0;
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++)
		if (atomic_load(&r->armed[i]) == conn)
			return 0;
	if (conn->driver->cancel_arm && (error = conn->driver->cancel_arm(conn, true)) < 0)
		return error;
	conn->run = r;
	conn->cancelled = &r->cancelled;
	conn->disarm = df_run_disarm;
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++) {
		df_conn *none = NULL;
		if (atomic_compare_exchange_strong(&r->armed[i], &none, conn)) {
			/* a cancel that came before the slot was taken did not
			 * reach this connection: its statements check the token */
			return 0;
		}
	}
	if (conn->driver->cancel_arm)
		conn->driver->cancel_arm(conn, false);
	return df_error_set(DF_EINTERNAL, "a run arms at most %d connections", DF_RUN_MAX_ARMED);
}

void df_run_disarm(df_run *r, df_conn *conn)
{
	bool found = false;

	if (!r || !conn)
		return;
	for (size_t i = 0; i < DF_RUN_MAX_ARMED; i++) {
		df_conn *c = conn;
		if (atomic_compare_exchange_strong(&r->armed[i], &c, NULL))
			found = true;
	}
	if (!found) {
		if (conn->run == r)
			conn->run = NULL, conn->cancelled = NULL, conn->disarm = NULL;
		return;
	}
	/* a cancel that loaded the connection before it left its slot is
	 * using it: wait for it (it never blocks; a handler interrupting
	 * this thread has ended before this loop runs again) */
	while (atomic_load(&r->cancelling) > 0)
		sched_yield();
	if (conn->driver->cancel_arm)
		conn->driver->cancel_arm(conn, false);
	conn->run = NULL;
	conn->cancelled = NULL;
	conn->disarm = NULL;
}

const char *df_run_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
