#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"

static char *dir;
static const char *vars[] = { "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
	"DB_PASSWORD", "DB_ENGINE", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
	"TURSO_DATABASE_URL", "STAGING_URL", "DIRECT_URL", "DEVFLOW_URL" };

static int setup(void **state)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	dir = df_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

static df_target *resolve(const char *env, const char *url, int want)
{
	df_config *cfg;
	df_target *t = NULL;

	assert_int_equal(df_config_load(&cfg, dir), 0);
	assert_int_equal(df_target_resolve(&t, cfg, env, url), want);
	df_config_free(cfg);
	return t;
}

static void test_config__embedded_default(void **state)
{
	df_target *t = resolve(NULL, NULL, 0);

	assert_string_equal(t->url, "sqlite:./devflow.db");
	assert_int_equal(t->policy, DF_POLICY_LOCAL);
	assert_non_null(strstr(t->source, "embedded default"));
	df_target_free(t);
	resolve("staging", NULL, DF_ECONFIG);
}

static void test_config__order(void **state)
{
	df_target *t;

	df_test_write(dir, ".env", "DATABASE_URL=postgres://u:p@envfile/db\n", (size_t)-1);
	df_test_write(dir, ".env.local", "# comment\nexport DATABASE_URL=\"sqlite:./local.db\"\n", (size_t)-1);
	t = resolve("local", NULL, 0);
	assert_string_equal(t->url, "sqlite:./local.db");
	assert_string_equal(t->source, "DATABASE_URL in .env.local");
	df_target_free(t);
	t = resolve("staging", NULL, 0);
	assert_string_equal(t->url, "postgres://u:p@envfile/db");
	assert_int_equal(t->policy, DF_POLICY_STAGING);
	assert_string_equal(t->redacted, "postgres://u:***@envfile/db");
	df_target_free(t);
	setenv("DATABASE_URL", "mysql://root@127.0.0.1/x", 1);
	t = resolve("local", NULL, 0);
	assert_string_equal(t->url, "mysql://root@127.0.0.1/x");
	df_target_free(t);
	t = resolve("local", "sqlite::memory:", 0);
	assert_string_equal(t->source, "--url");
	df_target_free(t);
	unsetenv("DATABASE_URL");
}

static void test_config__conf_and_vars(void **state)
{
	df_target *t;

	df_test_write(dir, "devflow.conf",
		"[project]\nmigrations = db/migrations\ntable = schema_history\n\n"
		"[env \"prod-eu\"]\nurl = ${STAGING_URL}\npolicy = production\n", (size_t)-1);
	resolve("prod-eu", NULL, DF_ECONFIG);
	assert_non_null(strstr(df_error_last()->message, "STAGING_URL"));
	setenv("STAGING_URL", "postgres://a:b@db.internal/app", 1);
	t = resolve("prod-eu", NULL, 0);
	assert_int_equal(t->policy, DF_POLICY_PRODUCTION);
	assert_string_equal(t->dsn->host, "db.internal");
	df_target_free(t);
	unsetenv("STAGING_URL");
	df_test_write(dir, "devflow.conf", "[project]\ntable = bad;name\n", (size_t)-1);
	{
		df_config *cfg;
		assert_int_equal(df_config_load(&cfg, dir), DF_ECONFIG);
	}
	df_test_write(dir, "devflow.conf", "[project\n", (size_t)-1);
	{
		df_config *cfg;
		assert_int_equal(df_config_load(&cfg, dir), DF_ECONFIG);
	}
	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/devflow.conf", dir);
		remove(p);
	}
}

static void test_config__db_parts_and_others(void **state)
{
	df_target *t;

	setenv("DB_HOST", "db.example.com", 1);
	setenv("DB_PORT", "3306", 1);
	setenv("DB_USER", "app", 1);
	setenv("DB_PASSWORD", "p@ss word", 1);
	setenv("DB_NAME", "shop", 1);
	t = resolve("production", NULL, 0);
	assert_string_equal(t->dsn->engine, "mysql");
	assert_string_equal(t->dsn->password, "p@ss word");
	assert_int_equal(t->policy, DF_POLICY_PRODUCTION);
	assert_null(strstr(t->redacted, "p@ss"));
	df_target_free(t);
	unsetenv("DB_HOST");
	setenv("SQLALCHEMY_DATABASE_URI", "postgresql+psycopg2://u@localhost/app", 1);
	t = resolve("local", NULL, 0);
	assert_string_equal(t->url, "postgresql://u@localhost/app");
	df_target_free(t);
	unsetenv("SQLALCHEMY_DATABASE_URI");
	setenv("TURSO_DATABASE_URL", "libsql://x.turso.io", 1);
	resolve("local", NULL, DF_ECONFIG);
	assert_non_null(strstr(df_error_last()->message, "Turso"));
	unsetenv("TURSO_DATABASE_URL");
}

static void test_config__durations(void **state)
{
	df_config *cfg;
	char line[400];

	df_test_write(dir, "devflow.conf", "[project]\ndry_run_max_age = 90m\nbackup_max_age = 2h\n", (size_t)-1);
	assert_int_equal(df_config_load(&cfg, dir), 0);
	assert_int_equal(cfg->dryrun_max_age, 5400);
	assert_int_equal(cfg->backup_max_age, 7200);
	df_config_free(cfg);
	df_test_write(dir, "devflow.conf", "[project]\nbackup_max_age = 9223372036854775807m\n", (size_t)-1);
	assert_int_equal(df_config_load(&cfg, dir), DF_ECONFIG);
	/* a line longer than inih's buffer is a clear error at its own line */
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	{
		char text[600];
		snprintf(text, sizeof(text), "[project]\n; %s\n", line);
		df_test_write(dir, "devflow.conf", text, (size_t)-1);
	}
	assert_int_equal(df_config_load(&cfg, dir), DF_ECONFIG);
	assert_int_equal(df_error_last()->line, 2);
	assert_non_null(strstr(df_error_last()->message, "longer than"));
}

/* require_tls: true/false, anything else a config error at its line. */
static void test_config__require_tls(void **state)
{
	df_config *cfg;
	df_target *t;

	df_test_write(dir, "devflow.conf",
		"[env \"staging\"]\nurl = sqlite:./s.db\nrequire_tls = true\n"
		"[env \"qa\"]\nurl = sqlite:./q.db\nrequire_tls = false\n", (size_t)-1);
	assert_int_equal(df_config_load(&cfg, dir), 0);
	assert_int_equal(df_target_resolve(&t, cfg, "staging", NULL), 0);
	assert_non_null(t->conf);
	assert_true(t->conf->require_tls);
	df_target_free(t);
	assert_int_equal(df_target_resolve(&t, cfg, "qa", NULL), 0);
	assert_false(t->conf->require_tls);
	df_target_free(t);
	df_config_free(cfg);
	df_test_write(dir, "devflow.conf", "[env \"staging\"]\nrequire_tls = maybe\n", (size_t)-1);
	assert_int_equal(df_config_load(&cfg, dir), DF_ECONFIG);
	assert_non_null(strstr(df_error_last()->message, "require_tls"));
}

/*
 * direct_url (connection poolers): the URL devflow uses where url is the
 * application's pooled one; it wins over url and the variables, --url wins
 * over it, and an unset ${VAR} in it names the key.
 */
static void test_config__direct_url(void **state)
{
	df_target *t;

	df_test_write(dir, ".env", "DATABASE_URL=postgres://app:pooled@pooler:6432/db\n"
		"DIRECT_URL=postgres://app:direct-pw@db.internal:5432/db\n", (size_t)-1);
	df_test_write(dir, "devflow.conf",
		"[env \"staging\"]\nurl = postgres://app:pooled@pooler:6432/db\n"
		"direct_url = ${DIRECT_URL}\n"
		"[env \"local\"]\ndirect_url = postgres://app@127.0.0.1:5432/db\n"
		"[env \"qa\"]\nurl = postgres://app@pooler:6432/db\ndirect_url = ${NOT_SET_ANYWHERE}\n"
		"[env \"plain\"]\nurl = postgres://app@pooler:6432/db\n", (size_t)-1);
	t = resolve("staging", NULL, 0);
	assert_string_equal(t->dsn->host, "db.internal");
	assert_string_equal(t->redacted, "postgres://app:***@db.internal:5432/db");
	assert_string_equal(t->source, "devflow.conf [env \"staging\"] direct_url (${DIRECT_URL} from .env)");
	assert_true(t->direct);
	df_target_free(t);
	/* over the variables too: DATABASE_URL is the application's */
	t = resolve("local", NULL, 0);
	assert_string_equal(t->dsn->host, "127.0.0.1");
	assert_true(t->direct);
	df_target_free(t);
	t = resolve("staging", "postgres://app@other:5432/db", 0);
	assert_string_equal(t->source, "--url");
	assert_false(t->direct);
	df_target_free(t);
	t = resolve("plain", NULL, 0);
	assert_string_equal(t->dsn->host, "pooler");
	assert_false(t->direct);
	df_target_free(t);
	resolve("qa", NULL, DF_ECONFIG);
	assert_string_equal(df_error_last()->message,
		"devflow.conf's direct_url uses ${NOT_SET_ANYWHERE}, which is not set");
}

/*
 * 100,000 environments: every one is found (the last section of a name
 * wins, keys merge), and an unknown name lists a few, nearest first, not
 * all 100,000.  (Timing is bench/'s business, not an assertion here.)
 */
static void test_config__many_environments(void **state)
{
	enum { N = 100000 };
	df_buf conf = DF_BUF_INIT;
	df_config *cfg;
	df_target *t = NULL;
	const df_env_conf *e;

	for (int i = 0; i < N; i++)
		df_buf_printf(&conf, "[env \"env%06d\"]\nurl = sqlite:./e%d.db\npolicy = %s\n", i, i,
			i % 2 ? "staging" : "local");
	/* a second section for one name adds to the first */
	df_buf_puts(&conf, "[env \"env000007\"]\nsmoke = smoke.sql\n");
	assert_false(df_buf_oom(&conf));
	df_test_write(dir, "devflow.conf", conf.ptr, conf.size);
	df_buf_release(&conf);
	assert_int_equal(df_config_load(&cfg, dir), 0);
	assert_int_equal(cfg->envs_nr, N);
	assert_non_null(e = df_config_env(cfg, "env099999"));
	assert_string_equal(e->url, "sqlite:./e99999.db");
	assert_non_null(e = df_config_env(cfg, "env000007"));
	assert_string_equal(e->url, "sqlite:./e7.db");
	assert_string_equal(e->smoke, "smoke.sql");
	assert_int_equal(e->policy, DF_POLICY_STAGING);
	assert_null(df_config_env(cfg, "env100000"));
	assert_null(df_config_env(cfg, ""));
	for (int i = 0; i < N; i += 997) {
		char name[32];
		snprintf(name, sizeof(name), "env%06d", i);
		assert_non_null(e = df_config_env(cfg, name));
		assert_string_equal(e->name, name);
	}
	assert_int_equal(df_target_resolve(&t, cfg, "env050000", NULL), 0);
	assert_string_equal(t->dsn->database, "./e50000.db");
	df_target_free(t);
	/* a typo: the message is short and starts with the nearest */
	assert_int_equal(df_target_resolve(&t, cfg, "env05000x", NULL), DF_EUSAGE);
	assert_true(strlen(df_error_last()->message) < 400);
	assert_non_null(strstr(df_error_last()->message, "100000 environments"));
	assert_non_null(strstr(df_error_last()->message, "nearest: env050000, "));
	assert_null(strstr(df_error_last()->message, "env099999"));
	df_config_free(cfg);
	/* a few: all of them, in file order, as before */
	df_test_write(dir, "devflow.conf", "[env \"staging\"]\nurl = sqlite:./s.db\n"
		"[env \"production\"]\nurl = sqlite:./p.db\n", (size_t)-1);
	assert_int_equal(df_config_load(&cfg, dir), 0);
	assert_int_equal(df_target_resolve(&t, cfg, "stagng", NULL), DF_EUSAGE);
	assert_non_null(strstr(df_error_last()->message, "names staging, production (and local)"));
	assert_non_null(strstr(df_error_last()->hint, "--env staging"));
	df_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config__embedded_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__conf_and_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__db_parts_and_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__require_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__direct_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__many_environments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
