/*
 * Fuzz target for the configuration (src/core/config.c): df_config_load()
 * and df_target_resolve().  The input is split at NUL bytes or at lines
 * "==>" into devflow.conf, .env, .env.staging and .env.local, written into a
 * temporary project folder (under /dev/shm when it exists) that this
 * process reuses (see fz_tmpdir()); a part that is not there is a file
 * that is not there.
 * Targets are resolved for local, staging, production and the first
 * environments the config names.  Checks:
 *
 *   - nothing crashes or leaks; a failure sets a message, and a
 *     devflow.conf error names a line of devflow.conf;
 *   - a config of durations only ("backup_max_age = 2h") gets them in
 *     seconds;
 *   - a resolved target has its url, dsn, redacted text and source, and
 *     the policy the config asks for;
 *   - its redacted text is the same for any password, so it holds the
 *     password (3 chars or more, no '*') only where the URL's public parts
 *     hold it too.
 *
 * The process environment is cleared of the variables devflow reads, except
 * DF_FUZZ_URL (a URL with a password) for ${DF_FUZZ_URL} in a config url.
 *
 * libFuzzer (see fuzz/run.sh):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     fuzz/fuzz_config.c src/core/config.c src/util/dsn.c src/util/buf.c \
 *     src/util/error.c src/util/strlist.c -linih -o fuzz_config
 *   ./fuzz_config -dict=fuzz/config.dict fuzz/corpus/config
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/dsn.h"
#include "devflow/error.h"

#include "fuzz_check.h"

#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = { "devflow.conf", ".env", ".env.staging", ".env.local" };
#define NFILES (sizeof(files) / sizeof(files[0]))

static char dir[256];

static void remove_dir(void)
{
	fz_rmdir(dir, files, NFILES);
}

static void setup(void)
{
	static const char *const vars[] = {
		"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
		"DB_ENGINE", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
		"TURSO_DATABASE_URL", "LIBSQL_URL",
	};
	if (dir[0])
		return;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("DF_FUZZ_URL", "postgres://app:env-secret-pw@db.example.com:5432/shop", 1);
	fz_tmpdir(dir, sizeof(dir), "df-fuzz-conf", files, NFILES);
	atexit(remove_dir);
}

/* The next part of s[*at..n): up to a NUL or a line "==>". */
static bool next_part(const char *s, size_t n, size_t *at, const char **p, size_t *len)
{
	size_t i;

	if (*at > n)
		return false;
	*p = s + *at;
	for (i = *at; i < n; i++) {
		if (s[i] == '\0') {
			*len = i - *at;
			*at = i + 1;
			return true;
		}
		if ((i == *at || s[i - 1] == '\n') && n - i >= 4 && !memcmp(s + i, "==>\n", 4)) {
			*len = i - *at;
			*at = i + 4;
			return true;
		}
	}
	*len = n - *at;
	*at = n + 1;
	return true;
}

/* Lines of s[0..n): a last line needs no '\n'. */
static int count_lines(const char *s, size_t n)
{
	int lines = 0;

	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	return lines + (n && s[n - 1] != '\n');
}

static size_t longest_line(const char *s, size_t n)
{
	size_t longest = 0, len = 0;

	for (size_t i = 0; i < n; i++) {
		len = s[i] == '\n' ? 0 : len + 1;
		if (len > longest)
			longest = len;
	}
	return longest;
}

static void check_target(const df_config *cfg, const df_target *t, const char *env)
{
	const df_env_conf *ec = df_config_env(cfg, env);
	char *other, *red2;

	CHECK(t->env && !strcmp(t->env, env));
	CHECK(t->url && t->redacted && t->source && t->dsn);
	CHECK(t->conf == ec);
	CHECK(t->policy == DF_POLICY_LOCAL || t->policy == DF_POLICY_STAGING ||
		t->policy == DF_POLICY_PRODUCTION);
	if (ec && ec->policy >= 0)
		CHECK((int)t->policy == ec->policy);
	(void)df_dsn_is_local(t->dsn);

	other = fz_other_password(t->url);
	if (other) {
		red2 = df_dsn_redact(other);
		CHECK(red2);
		if (strcmp(t->redacted, red2)) {
			fprintf(stderr, "redaction depends on the password: '%s' vs '%s'\n",
				t->redacted, red2);
			CHECK(!"redaction depends on the password");
		}
		free(red2);
	}
	fz_check_not_shown(t->redacted, t->dsn->password, other);
	free(other);
}

static void resolve(const df_config *cfg, const char *env)
{
	df_target *t = NULL;
	int r;

	df_error_clear();
	r = df_target_resolve(&t, cfg, env, NULL);
	if (r < 0) {
		CHECK(!t);
		CHECK(df_error_last() && df_error_last()->message && *df_error_last()->message);
		return;
	}
	CHECK(t);
	check_target(cfg, t, env);
	df_target_free(t);
}

/*
 * When devflow.conf is only "[project]" and lines "dry_run_max_age = N" or
 * "backup_max_age = N" (N: 1 to 6 digits, then h, m, s or nothing), the
 * seconds each key must get (-1: not set); false for any other text.
 */
static bool plain_durations(const char *s, size_t n, long *dry, long *backup)
{
	const char *p = s, *end = s + n;

	*dry = *backup = -1;
	if (n < 10 || memcmp(s, "[project]\n", 10))
		return false;
	for (p += 10; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), k, digits = 0;
		long v = 0, *slot;

		if (len >= 18 && !memcmp(p, "dry_run_max_age = ", 18))
			slot = dry, k = 18;
		else if (len >= 17 && !memcmp(p, "backup_max_age = ", 17))
			slot = backup, k = 17;
		else
			return false;
		for (; k < len && p[k] >= '0' && p[k] <= '9' && digits < 7; k++, digits++)
			v = v * 10 + (p[k] - '0');
		if (!digits || digits > 6)
			return false;
		if (k < len) {
			if (k + 1 != len)
				return false;
			if (p[k] == 'h')
				v *= 3600;
			else if (p[k] == 'm')
				v *= 60;
			else if (p[k] != 's')
				return false;
		}
		*slot = v;
		p += len + 1;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *p, *conf = NULL;
	char path[512], *mig;
	size_t at = 0, len, conf_len = 0;
	df_config *cfg = NULL;
	int r;

	setup();
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (next_part(s, size, &at, &p, &len)) {
			fz_write_file(path, p, len);
			if (i == 0) {
				conf = p;
				conf_len = len;
			}
		} else {
			unlink(path);
		}
	}

	df_error_clear();
	r = df_config_load(&cfg, dir);
	if (r < 0) {
		const df_error *e = df_error_last();

		CHECK(!cfg);
		CHECK(r == DF_ECONFIG || r == DF_EUSAGE);
		CHECK(e && e->message && *e->message);
		if (e->file && !strcmp(e->file, "devflow.conf") &&
		    (e->line < 1 || e->line > count_lines(conf, conf_len)) &&
		    !(fz_known("conf-long-line") && longest_line(conf, conf_len) >= 199)) {
			fprintf(stderr, "'%s' at devflow.conf line %d of %d\n", e->message,
				e->line, count_lines(conf, conf_len));
			CHECK(!"devflow.conf error names no line of the file");
		}
		return 0;
	}
	CHECK(cfg && cfg->dir && cfg->migrations && cfg->seeds && cfg->schema && cfg->table);
	CHECK(cfg->dryrun_max_age > 0 && cfg->backup_max_age > 0);
	{
		long dry, backup;

		if (plain_durations(conf, conf_len, &dry, &backup) && !fz_known("duration-units")) {
			if ((dry > 0 && cfg->dryrun_max_age != dry) ||
			    (backup > 0 && cfg->backup_max_age != backup)) {
				fprintf(stderr, "durations: dry-run %ld s (want %ld), backup %ld s (want %ld)\n",
					cfg->dryrun_max_age, dry, cfg->backup_max_age, backup);
				CHECK(!"a duration in devflow.conf is read wrong");
			}
		}
	}
	mig = df_config_path(cfg, cfg->migrations);
	CHECK(mig);
	free(mig);

	resolve(cfg, "local");
	resolve(cfg, "staging");
	resolve(cfg, "production");
	for (size_t i = 0; i < cfg->envs_nr && i < 3; i++)
		resolve(cfg, cfg->envs[i].name);
	df_config_free(cfg);
	return 0;
}
