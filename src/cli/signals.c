/*
 * Signals belong to the CLI (the core never installs a handler).  From the
 * very start of main(), SIGINT and SIGTERM (where their handling is the
 * default one: a shell that ignores them for a background job keeps that)
 * cancel every run in flight; one that comes before any run exists is kept,
 * and the run registered later is born cancelled.  A command that does not
 * stop cleanly on its own gives them back to the default handling
 * (cli_signals_release) before it starts.  A second signal, when
 * the first could not stop the command, ends the process as the default
 * handling would.
 *
 * The registry is a small fixed array of atomic pointers: the handler only
 * loads them; unregistering waits for a handler that is using a run.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/run.h"
#include "util/banned.h"

#define MAX_RUNS 16

static _Atomic(df_run *) runs[MAX_RUNS];
static atomic_int in_handler;
static atomic_int pending;      /* the first signal, or 0 */

static void on_signal(int sig)
{
	int saved = errno, none = 0;

	if (!atomic_compare_exchange_strong(&pending, &none, sig)) {
		/* the second one: the first did not stop it */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		raise(sig);
		errno = saved;
		return;
	}
	atomic_fetch_add(&in_handler, 1);
	for (size_t i = 0; i < MAX_RUNS; i++) {
		df_run *r = atomic_load(&runs[i]);
		if (r)
			df_run_cancel(r, sig);
	}
	atomic_fetch_sub(&in_handler, 1);
	errno = saved;
}

/* Take over `sig` when nobody else handles it. */
static void catch_one(int sig)
{
	struct sigaction sa, old;

	if (sigaction(sig, NULL, &old) < 0 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;        /* no SA_RESTART: a blocked read returns EINTR */
	sigaction(sig, &sa, NULL);
}

void cli_signals_install(void)
{
	catch_one(SIGINT);
	catch_one(SIGTERM);
}

/* Give the signals back to their default handling (a command that does not
 * stop cleanly on its own); one kept until now takes effect at once. */
void cli_signals_release(void)
{
	struct sigaction sa, old;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 2; i++) {
		int s = i ? SIGTERM : SIGINT;
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler == on_signal)
			sigaction(s, &sa, NULL);
	}
	if ((sig = atomic_load(&pending)))
		raise(sig);
}

int cli_signal_pending(void)
{
	return atomic_load(&pending);
}

int cli_run_register(df_run *r)
{
	int sig;

	for (size_t i = 0; i < MAX_RUNS; i++) {
		df_run *none = NULL;
		if (atomic_compare_exchange_strong(&runs[i], &none, r)) {
			/* a signal before the slot was taken did not see the run */
			if ((sig = atomic_load(&pending)))
				df_run_cancel(r, sig);
			return 0;
		}
	}
	return -1;
}

void cli_run_unregister(df_run *r)
{
	for (size_t i = 0; i < MAX_RUNS; i++) {
		df_run *c = r;
		atomic_compare_exchange_strong(&runs[i], &c, NULL);
	}
	while (atomic_load(&in_handler) > 0)
		sched_yield();
}
