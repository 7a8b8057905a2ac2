/*
 * The migrate workflow through core alone (df_wf_prepare, df_wf_execute),
 * with no front end and no server: a spy driver (tests/support/spy_driver.c,
 * registered with the driver registry) wraps each session's SQLite
 * connection and counts the writes it sees.
 *
 * - Every gate verdict of the policy matrix (local, staging, production x
 *   dry-run receipt present or not x backup fresh or stale x a high risk or
 *   not x the consent flags): the missing gates, and the `next` or `ask`
 *   that satisfies all of them, as data; prepare writes nothing.
 * - A sink that says stop after the first migration: the first applied,
 *   the rest pending, the run recorded interrupted, the lock released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "spy_driver.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/session.h"
#include "devflow/workflow.h"

static char *dir, cwd[4096];
static const char *vars[] = { "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
	"DB_PASSWORD", "DB_ENGINE", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
	"TURSO_DATABASE_URL", "DEVFLOW_ENV", "PGHOST", "PGHOSTADDR", "PGSERVICE" };

#define V1 "20240101000000"
#define V2 "20240102000000"
#define V3 "20240103000000"

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	df_spy_register();
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir = df_test_tmpdir();
	assert_int_equal(chdir(dir), 0);
	df_test_write(dir, "devflow.conf", "[env \"local\"]\nurl = sqlite:./local.db\n"
		"[env \"staging\"]\nurl = sqlite:./staging.db\npolicy = staging\n"
		"[env \"prod\"]\nurl = sqlite:./prod.db\npolicy = production\n", (size_t)-1);
	assert_int_equal(system("mkdir -p db/migrations"), 0);
	df_test_write(dir, "db/migrations/" V1 "_users.sql", "-- migrate:up\nCREATE TABLE users "
		"(id INTEGER PRIMARY KEY, name TEXT);\n-- migrate:down\nDROP TABLE users;\n", (size_t)-1);
	df_test_write(dir, "db/migrations/" V2 "_email.sql", "-- migrate:up\nALTER TABLE users ADD "
		"COLUMN email TEXT;\n-- migrate:down\nALTER TABLE users DROP COLUMN email;\n", (size_t)-1);
	/* the third destroys data: a high risk */
	df_test_write(dir, "db/migrations/" V3 "_drop.sql", "-- migrate:up\nDROP TABLE users;\n"
		"-- migrate:down\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n", (size_t)-1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(chdir(cwd), 0);
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

/* A session as `db migrate` opens it, its connection seen by the spy. */
static void open_spied(df_session *s, const char *env)
{
	df_session_report rep;
	df_session_opts o = DF_SESSION_OPTS_INIT;
	df_conn *spy;

	o.env = env;
	o.flags = DF_SESSION_DB | DF_SESSION_FILES | DF_SESSION_ENSURE | DF_SESSION_LOCK |
		DF_SESSION_PLAN | DF_SESSION_WRITES;
	o.lock_timeout_ms = 0;
	assert_int_equal(df_session_open(s, &o, &rep), 0);
	df_session_report_release(&rep);
	assert_true(s->locked);
	assert_int_equal(df_spy_wrap(&spy, s->conn), 0);
	s->conn = spy;
}

static int count_events(const df_wf_event *ev, void *data)
{
	(void)ev;
	(*(int *)data)++;
	return 0;
}

/* A dry-run of `to` (NULL: all) on `env`: its receipt. */
static void dry_run(const char *env, const char *to)
{
	df_session s;
	df_wf_opts o = { .dry_run = true, .to = to };
	df_wf_result res;
	df_wf_sink sink = DF_WF_SINK_INIT;
	int n = 0;

	sink.event = count_events;
	sink.payload = &n;
	open_spied(&s, env);
	assert_int_equal(df_wf_run(&res, &s, &o, &sink), 0);
	assert_true(n > 0);
	assert_int_equal(res.verified, -1);
	df_wf_result_release(&res);
	df_session_close(&s);
}

static void backup(const char *env)
{
	df_session s;
	df_backup_info info = { 0 };

	open_spied(&s, env);
	assert_int_equal(df_session_backup(&s, NULL, false, &info, NULL, NULL), 0);
	df_backup_info_release(&info);
	df_session_close(&s);
}

/* The options of a suggested command, as a string of their ids: "0,1,5". */
static bool cmd_is(const df_cmd *c, df_verb verb, const df_opt *opts, size_t n)
{
	if (!c || c->verb != verb || c->nr != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c->opts[i].opt != opts[i])
			return false;
	return true;
}

struct flags {
	bool yes, backup, accept_risk;
	const char *confirm;
};

static const struct flags flag_cases[] = {
	{ false, false, false, NULL },
	{ true, false, false, NULL },
	{ false, false, false, "staging" },
	{ false, false, false, "prod" },
	{ false, false, false, "production" },
	{ false, false, false, "other" },
	{ false, true, false, "production" },
	{ false, false, true, "production" },
	{ true, true, true, "production" },
	{ true, true, true, NULL },
};

/*
 * One prepare on the database as it is: the verdict against the policy's
 * rules, the suggestion that satisfies every missing gate, no write.
 */
static void verdict(const char *env, df_policy pol, bool receipt, bool fresh_backup,
	bool risk, const struct flags *f)
{
	df_session s;
	df_wf_opts o = { 0 };
	df_wf_plan *p = NULL;
	unsigned int want = 0;
	bool need_backup, take_backup = false, confirmed;
	int error;

	o.to = risk ? NULL : V2;
	o.yes = f->yes;
	o.backup = f->backup;
	o.accept_risk = f->accept_risk;
	o.confirm = f->confirm;
	open_spied(&s, env);
	if (!fresh_backup)
		s.cfg->backup_max_age = -1;     /* every backup is stale */
	df_spy_reset();
	error = df_wf_prepare(&p, &s, &o);
	assert_non_null(p);
	/* reads only: not a statement, not a transaction, not an audit row */
	if (df_spy_writes())
		fail_msg("prepare wrote: %s", df_spy_first_write());
	assert_true(pol == DF_POLICY_LOCAL || df_spy_reads() > 0);

	assert_int_equal(p->res.n, risk ? 3 : 2);
	assert_true(risk ? p->res.high_risk > 0 : p->res.high_risk == 0);
	/* the policy's rules */
	if (pol == DF_POLICY_STAGING)
		confirmed = f->yes || (f->confirm && !strcmp(f->confirm, env));
	else
		confirmed = f->confirm && (!strcmp(f->confirm, "production") || !strcmp(f->confirm, env));
	if (pol != DF_POLICY_LOCAL) {
		if (!receipt)
			want |= DF_GATE_DRY_RUN;
		if (pol == DF_POLICY_PRODUCTION && !fresh_backup) {
			if (f->backup)
				take_backup = true;
			else
				want |= DF_GATE_BACKUP;
		}
		if (risk && !f->accept_risk)
			want |= DF_GATE_ACCEPT_RISK;
		if (!confirmed)
			want |= DF_GATE_CONFIRMATION;
	}
	if (p->res.missing != want)
		fail_msg("%s receipt=%d backup=%d risk=%d yes=%d backup=%d accept=%d confirm=%s: "
			"missing %#x, want %#x", env, receipt, fresh_backup, risk, f->yes, f->backup,
			f->accept_risk, f->confirm ? f->confirm : "-", p->res.missing, want);
	assert_int_equal(p->gated, pol != DF_POLICY_LOCAL);
	if (pol != DF_POLICY_LOCAL)
		assert_int_equal(p->res.dry_run_receipt, receipt ? DF_RECEIPT_OK : DF_RECEIPT_NONE);
	if (pol == DF_POLICY_PRODUCTION)
		assert_int_equal(p->res.backup_receipt == DF_RECEIPT_OK, fresh_backup);
	else
		assert_int_equal(p->res.backup_receipt, -1);

	if (!want) {
		assert_int_equal(error, 0);
		assert_int_equal(p->stop, DF_WF_STOP_NONE);
		assert_int_equal(p->take_backup, take_backup);
		assert_null(p->res.ask);
		assert_int_equal(p->res.next.nr, 0);
	} else if (want & DF_GATE_DRY_RUN) {
		/* the dry-run first: a command the agent runs itself, no question yet */
		static const df_opt dry[] = { DF_OPT_SELECT, DF_OPT_TO, DF_OPT_DRY_RUN };
		assert_int_equal(error, DF_EGATE);
		assert_int_equal(p->stop, DF_WF_STOP_GATE_DRY_RUN);
		assert_null(p->res.ask);
		assert_int_equal(p->res.next.nr, 1);
		if (risk)
			assert_true(cmd_is(p->res.next.v[0], DF_VERB_MIGRATE, (const df_opt[]){
				DF_OPT_SELECT, DF_OPT_DRY_RUN }, 2));
		else
			assert_true(cmd_is(p->res.next.v[0], DF_VERB_MIGRATE, dry, 3));
	} else {
		/* a person's gates: one question, one command that gives them all */
		const df_ask *a = p->res.ask;
		df_opt then[8];
		size_t n = 0;
		assert_int_equal(error, DF_EGATE);
		assert_int_equal(p->stop, DF_WF_STOP_GATE_PERSON);
		assert_int_equal(p->res.next.nr, 0);
		assert_non_null(a);
		assert_int_equal(a->kind, DF_ASK_CONSENT);
		assert_null(a->question);       /* data: the front end words it */
		assert_null(a->why);
		assert_string_equal(a->env, env);
		assert_int_equal(a->policy, pol);
		assert_int_equal(a->migrations, p->res.n);
		assert_int_equal(a->high_risk, p->res.high_risk);
		assert_int_equal(a->typed, pol == DF_POLICY_PRODUCTION || risk);
		need_backup = (want & DF_GATE_BACKUP) != 0;
		assert_int_equal(a->backup, need_backup);
		assert_int_equal(a->nr, 2);
		assert_int_equal(a->options[0].kind, DF_ANSWER_YES);
		assert_int_equal(a->options[1].kind, DF_ANSWER_NO);
		assert_null(a->options[1].cmd);
		then[n++] = DF_OPT_SELECT;
		if (!risk)
			then[n++] = DF_OPT_TO;
		if (risk || f->accept_risk)
			then[n++] = DF_OPT_ACCEPT_RISK;
		if (pol == DF_POLICY_PRODUCTION) {
			if (need_backup || f->backup)
				then[n++] = DF_OPT_BACKUP;
			then[n++] = DF_OPT_CONFIRM;
		} else {
			then[n++] = DF_OPT_YES;
		}
		assert_true(cmd_is(a->options[0].cmd, DF_VERB_MIGRATE, then, n));
		if (pol == DF_POLICY_PRODUCTION)
			assert_string_equal(a->options[0].cmd->opts[n - 1].value, "production");

		/* the person says yes: every gate given, a missing backup taken first */
		df_wf_plan_consent(p);
		assert_int_equal(p->stop, DF_WF_STOP_NONE);
		assert_int_equal(p->res.missing, 0);
		assert_int_equal(p->take_backup, need_backup || take_backup);
	}
	assert_int_equal(df_spy_writes(), 0);
	df_wf_plan_free(p);
	df_session_close(&s);
}

static void matrix_for(const char *env, df_policy pol)
{
	char db[64];
	int cases = 0;

	for (int receipt = 0; receipt < 2; receipt++)
		for (int fresh = 0; fresh < 2; fresh++) {
			/* a new database each time: no receipt, no backup */
			snprintf(db, sizeof(db), "%s.db", env);
			unlink(db);
			if (receipt) {
				dry_run(env, V2);
				dry_run(env, NULL);
			}
			backup(env);
			for (int risk = 0; risk < 2; risk++)
				for (size_t f = 0; f < sizeof(flag_cases) / sizeof(*flag_cases); f++, cases++)
					verdict(env, pol, receipt, fresh, risk, &flag_cases[f]);
		}
	print_message("%s: %d verdicts, no write in any prepare\n", env, cases);
}

static void test_workflow__gates_local(void **state)
{
	(void)state;
	matrix_for("local", DF_POLICY_LOCAL);
}

static void test_workflow__gates_staging(void **state)
{
	(void)state;
	matrix_for("staging", DF_POLICY_STAGING);
}

static void test_workflow__gates_production(void **state)
{
	(void)state;
	matrix_for("prod", DF_POLICY_PRODUCTION);
}

/* ---- stops before the gates -------------------------------------------------- */

static void test_workflow__stops_are_data(void **state)
{
	df_session s;
	df_wf_opts o = { 0 };
	df_wf_result res;
	df_wf_plan *p = NULL;

	(void)state;
	/* a version that does not exist */
	open_spied(&s, "local");
	o.to = "20991231000000";
	df_spy_reset();
	assert_int_equal(df_wf_prepare(&p, &s, &o), DF_EUSAGE);
	assert_int_equal(p->stop, DF_WF_STOP_UNKNOWN_VERSION);
	assert_null(strstr(df_error_last()->message, "devflow"));
	assert_null(df_error_last()->hint);     /* the front end words the way out */
	df_wf_plan_free(p);

	/* apply everything, then roll back the irreversible ... which has a DOWN here;
	 * make the third irreversible first */
	df_test_write(dir, "db/migrations/" V3 "_drop.sql", "-- migrate:up\nDROP TABLE users;\n", (size_t)-1);
	df_session_close(&s);
	open_spied(&s, "local");
	o = (df_wf_opts){ .accept_risk = true };
	assert_int_equal(df_wf_run(&res, &s, &o, NULL), 0);
	assert_int_equal(res.run.nr, 3);
	assert_int_equal(res.next.nr, 1);
	assert_true(cmd_is(res.next.v[0], DF_VERB_VERIFY, (const df_opt[]){ DF_OPT_SELECT }, 1));
	df_wf_result_release(&res);
	o = (df_wf_opts){ .rollback = true };
	df_spy_reset();
	assert_int_equal(df_wf_prepare(&p, &s, &o), DF_EGATE);
	assert_int_equal(df_spy_writes(), 0);
	assert_int_equal(p->stop, DF_WF_STOP_IRREVERSIBLE);
	assert_string_equal(p->stop_mig->version, V3);
	assert_int_equal(p->res.next.nr, 1);
	assert_int_equal(p->res.next.v[0]->verb, DF_VERB_CREATE);
	assert_string_equal(p->res.next.v[0]->arg, "revert_drop");
	/* a stopped plan runs nothing */
	assert_int_equal(df_wf_execute(&res, &s, p, NULL), DF_EGATE);
	assert_false(res.ran);
	assert_int_equal(res.next.nr, 1);
	assert_int_equal(df_spy_writes(), 0);
	df_wf_result_release(&res);
	df_wf_plan_free(p);

	/* an applied file edited afterwards: a question for a person, as data */
	df_test_write(dir, "db/migrations/" V1 "_users.sql", "-- migrate:up\nCREATE TABLE users "
		"(id INTEGER PRIMARY KEY, name TEXT, x INT);\n-- migrate:down\nDROP TABLE users;\n", (size_t)-1);
	df_session_close(&s);
	open_spied(&s, "local");
	o = (df_wf_opts){ 0 };
	df_spy_reset();
	assert_int_equal(df_wf_prepare(&p, &s, &o), DF_ECHECKSUM);
	assert_int_equal(df_spy_writes(), 0);
	assert_int_equal(p->stop, DF_WF_STOP_HISTORY);
	assert_non_null(p->res.ask);
	assert_int_equal(p->res.ask->kind, DF_ASK_CHECKSUM);
	assert_string_equal(p->res.ask->version, V1);
	assert_null(p->res.ask->question);
	assert_int_equal(p->res.ask->options[0].kind, DF_ANSWER_ACCEPT_EDIT);
	assert_true(cmd_is(p->res.ask->options[0].cmd, DF_VERB_RESOLVE, (const df_opt[]){
		DF_OPT_APPLIED, DF_OPT_SELECT }, 2));
	assert_string_equal(p->res.ask->options[0].cmd->arg, V1);
	df_wf_plan_free(p);
	df_session_close(&s);
}

/* ---- the sink -------------------------------------------------------------------- */

struct stopper {
	int steps, progress_after_first_step;
	bool stop;
	char order[64];
	size_t nr;
};

static int stop_after_first(const df_wf_event *ev, void *data)
{
	struct stopper *st = data;

	if (ev->kind == DF_EV_PROGRESS && ev->n == 0 && st->nr < sizeof(st->order) - 1)
		st->order[st->nr++] = 'S';      /* a migration starts */
	if (ev->kind != DF_EV_STEP)
		return 0;
	if (st->nr < sizeof(st->order) - 1)
		st->order[st->nr++] = 'E';      /* and ends */
	assert_int_equal(ev->step->error, 0);
	st->steps++;
	return st->stop;
}

static void ledger_rows(const char *env, const char *op, char *result, size_t len)
{
	df_session s;
	df_rows *rows = NULL;

	open_spied(&s, env);
	assert_int_equal(df_audit_read(&rows, s.conn, s.cfg->table, op, 1), 0);
	assert_int_equal(rows->nrows, 1);
	snprintf(result, len, "%s", df_rows_get(rows, 0, 7));
	df_rows_free(rows);
	df_session_close(&s);
}

static void test_workflow__sink_stops_the_run(void **state)
{
	df_session s, again;
	df_session_report rep;
	df_session_opts so = DF_SESSION_OPTS_INIT;
	df_wf_opts o = { .to = V2 };
	df_wf_sink sink = DF_WF_SINK_INIT;
	struct stopper st = { .stop = true };
	df_wf_plan *p = NULL;
	df_wf_result res;
	char result[32];
	size_t applied = 0, pending = 0;

	(void)state;
	sink.event = stop_after_first;
	sink.payload = &st;
	open_spied(&s, "local");
	assert_int_equal(df_wf_prepare(&p, &s, &o), 0);
	assert_int_equal(p->res.n, 2);
	assert_int_equal(df_wf_execute(&res, &s, p, &sink), DF_EINTERRUPTED);
	assert_int_equal(res.error, DF_EINTERRUPTED);
	assert_true(res.stopped);
	assert_true(res.ran);
	assert_int_equal(st.steps, 1);          /* nothing started after the stop */
	assert_int_equal(res.run.nr, 1);
	assert_int_equal(res.run.steps[0].error, 0);
	assert_string_equal(res.run.steps[0].mig->version, V1);
	assert_int_equal(res.run.failed_step, 1);       /* no migration failed */
	assert_string_equal(st.order, "SE");
	/* the first applied, the rest pending, as the history says */
	assert_int_equal(df_session_replan(&s), 0);
	for (size_t i = 0; i < s.plan->nr; i++) {
		if (s.plan->items[i].state == DF_STATE_APPLIED)
			applied++, assert_string_equal(s.plan->items[i].mig->version, V1);
		else if (s.plan->items[i].state == DF_STATE_PENDING)
			pending++;
	}
	assert_int_equal(applied, 1);
	assert_int_equal(pending, 2);
	df_wf_result_release(&res);
	df_wf_plan_free(p);
	df_session_close(&s);
	/* recorded interrupted */
	ledger_rows("local", "migrate", result, sizeof(result));
	assert_string_equal(result, "interrupted");
	/* the lock is free: a session that may not wait takes it */
	so.env = "local";
	so.flags = DF_SESSION_DB | DF_SESSION_LOCK;
	so.lock_timeout_ms = -1;
	assert_int_equal(df_session_open(&again, &so, &rep), 0);
	assert_true(again.locked);
	df_session_close(&again);
	df_session_report_release(&rep);

	/* a sink that never says stop: a step event as each migration ends, before the next starts */
	st = (struct stopper){ .stop = false };
	open_spied(&s, "local");
	o = (df_wf_opts){ .accept_risk = true };
	assert_int_equal(df_wf_prepare(&p, &s, &o), 0);
	assert_int_equal(p->res.n, 2);
	assert_int_equal(df_wf_execute(&res, &s, p, &sink), 0);
	assert_false(res.stopped);
	assert_string_equal(st.order, "SESE");
	assert_int_equal(res.verified, 1);
	df_wf_result_release(&res);
	df_wf_plan_free(p);
	df_session_close(&s);
	ledger_rows("local", "migrate", result, sizeof(result));
	assert_string_equal(result, "ok");
}

/* A sink that says stop before the run: nothing ran, recorded interrupted. */
static int stop_at_preview(const df_wf_event *ev, void *data)
{
	(void)data;
	return ev->kind == DF_EV_HEADER;
}

static void test_workflow__sink_stops_before_the_run(void **state)
{
	df_session s;
	df_wf_opts o = { .to = V2 };
	df_wf_sink sink = DF_WF_SINK_INIT;
	df_wf_result res;

	(void)state;
	sink.event = stop_at_preview;
	open_spied(&s, "local");
	df_spy_reset();
	assert_int_equal(df_wf_run(&res, &s, &o, &sink), DF_EINTERRUPTED);
	assert_true(res.stopped);
	assert_false(res.ran);
	assert_int_equal(df_spy_writes(), 0);
	df_wf_result_release(&res);
	df_session_close(&s);
}

/* df_wf_run asks the person through the sink: yes runs, no is a refusal on record. */
static int answer_with(const df_ask *q, int *answer, void *payload)
{
	assert_int_equal(q->kind, DF_ASK_CONSENT);
	assert_int_equal(q->options[0].kind, DF_ANSWER_YES);
	*answer = *(int *)payload;
	return 0;
}

static void test_workflow__run_asks_through_the_sink(void **state)
{
	df_session s;
	df_wf_opts o = { .to = V2, .interactive = true };
	df_wf_sink sink = DF_WF_SINK_INIT;
	df_wf_result res;
	char result[32];
	int answer = 1;         /* "no" */

	(void)state;
	sink.ask = answer_with;
	sink.payload = &answer;
	dry_run("staging", V2);
	open_spied(&s, "staging");
	assert_int_equal(df_wf_run(&res, &s, &o, &sink), DF_EGATE);
	assert_false(res.ran);
	assert_int_equal(res.missing, DF_GATE_CONFIRMATION);
	assert_null(res.ask);
	df_wf_result_release(&res);
	df_session_close(&s);
	ledger_rows("staging", "migrate", result, sizeof(result));
	assert_string_equal(result, "refused");

	answer = 0;             /* "yes" */
	open_spied(&s, "staging");
	assert_int_equal(df_wf_run(&res, &s, &o, &sink), 0);
	assert_true(res.ran);
	assert_int_equal(res.run.nr, 2);
	assert_int_equal(res.verified, 1);
	df_wf_result_release(&res);
	df_session_close(&s);
	ledger_rows("staging", "migrate", result, sizeof(result));
	assert_string_equal(result, "ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_workflow__gates_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__gates_staging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__gates_production, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__stops_are_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__sink_stops_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__sink_stops_before_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow__run_asks_through_the_sink, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
