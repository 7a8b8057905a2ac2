/*
 * Elapsed time of a long statement, on a terminal: a statement that runs
 * longer than 2 s gets a line "… statement 3 of 20240101_x.sql: 12 s" that
 * counts up until it ends (and is then cleared).  A thread wakes every 250 ms;
 * the main thread says when a statement starts and when the run is between
 * statements; one mutex keeps their writes to the terminal apart.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/banned.h"

#define SHOW_AFTER_MS 2000

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stop, active, shown;
	long long started_ms;
	long long statement, last_s;
	char file[256];
} tk = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *tick(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tk.mu);
	while (!tk.stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&tk.cv, &tk.mu, &until);
		if (tk.stop || !tk.active)
			continue;
		long long ms = now_ms() - tk.started_ms;
		if (ms < SHOW_AFTER_MS || (tk.shown && ms / 1000 == tk.last_s))
			continue;       /* write when the count of seconds changes */
		tk.last_s = ms / 1000;
		fprintf(stderr, "\r\033[K  … statement %lld of %s: %lld s", tk.statement, tk.file, ms / 1000);
		fflush(stderr);
		tk.shown = true;
	}
	pthread_mutex_unlock(&tk.mu);
	return NULL;
}

void cli_ticker_start(struct cli_ctx *ctx)
{
	if (tk.running || !ctx->tty_err || ctx->quiet || (ctx->json && !ctx->verbose))
		return;
	tk.stop = tk.active = tk.shown = false;
	if (pthread_create(&tk.thread, NULL, tick, NULL) == 0)
		tk.running = true;
}

static void clear_locked(void)
{
	if (tk.shown)
		fprintf(stderr, "\r\033[K");
	tk.shown = false;
}

void cli_ticker_statement(const char *file, long long n)
{
	if (!tk.running)
		return;
	pthread_mutex_lock(&tk.mu);
	clear_locked();
	snprintf(tk.file, sizeof(tk.file), "%s", file ? file : "");
	tk.statement = n;
	tk.started_ms = now_ms();
	tk.active = true;
	pthread_mutex_unlock(&tk.mu);
}

void cli_ticker_idle(void)
{
	if (!tk.running)
		return;
	pthread_mutex_lock(&tk.mu);
	clear_locked();
	tk.active = false;
	pthread_mutex_unlock(&tk.mu);
}

void cli_ticker_stop(void)
{
	if (!tk.running)
		return;
	pthread_mutex_lock(&tk.mu);
	clear_locked();
	tk.stop = true;
	pthread_cond_signal(&tk.cv);
	pthread_mutex_unlock(&tk.mu);
	pthread_join(tk.thread, NULL);
	tk.running = false;
}
