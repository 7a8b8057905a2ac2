/*
 * Hooks (after_migrate = COMMAND): a shell command the user configured,
 * run after a successful migrate.  It gets the user's environment, so it
 * keeps working, but none of the database's credentials, and none of
 * devflow's descriptors: the connection's socket and files are
 * close-on-exec (the drivers see to it), and the child is started with
 * posix_spawn (no fork of a process that may hold threads).
 */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "core/hook.h"
#include "util/banned.h"

extern char **environ;

/*
 * Variables that hold a database URL with its password, or a password, in
 * the conventions devflow (config.c's try_source) and the client libraries
 * read.  PGPASSFILE and PGSERVICEFILE stay: they name files, which a hook
 * running psql may need and could read at their default place anyway.
 */
static const char *const secret_vars[] = {
	"DATABASE_URL", "DEVFLOW_URL", "DB_PASSWORD", "PGPASSWORD", "MYSQL_PWD",
	"MARIADB_PWD", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
	"POSTGRES_URL_NON_POOLING", "TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN", "LIBSQL_URL",
	"LIBSQL_AUTH_TOKEN", NULL,
};

/* A password shorter than this is not looked for in values (it would match PATH). */
#define MIN_SECRET 4

/* Whether `s` (a `url` of devflow.conf) names ${NAME} (len bytes). */
static bool url_names(const char *s, const char *name, size_t len)
{
	for (const char *p = s; p && (p = strstr(p, "${")); p += 2) {
		const char *close = strchr(p + 2, '}');
		if (close && (size_t)(close - p - 2) == len && !strncmp(p + 2, name, len))
			return true;
	}
	return false;
}

/* The password as the URL spells it (percent-encoded), into raw[0..rawsz). */
static void raw_password(char *raw, size_t rawsz, const char *url)
{
	const char *auth = url ? strstr(url, "://") : NULL, *at = NULL, *colon;

	*raw = '\0';
	if (!auth)
		return;
	auth += 3;
	for (const char *p = auth; *p && *p != '/' && *p != '?'; p++)
		if (*p == '@')
			at = p;
	if (at && (colon = memchr(auth, ':', (size_t)(at - auth))) &&
	    (size_t)(at - colon - 1) < rawsz)
		snprintf(raw, rawsz, "%.*s", (int)(at - colon - 1), colon + 1);
}

static bool is_secret(const char *var, const df_config *cfg, const df_target *t,
	const char *raw)
{
	size_t len = strcspn(var, "=");
	const char *value = var[len] ? var + len + 1 : "";
	const char *pw = t && t->dsn ? t->dsn->password : NULL;

	for (const char *const *s = secret_vars; *s; s++)
		if (strlen(*s) == len && !strncmp(*s, var, len))
			return true;
	if (len == strlen("DEVFLOW_ENV") && !strncmp(var, "DEVFLOW_ENV", len))
		return true;            /* set anew below */
	for (size_t i = 0; cfg && i < cfg->envs_nr; i++)
		if ((cfg->envs[i].url && url_names(cfg->envs[i].url, var, len)) ||
		    (cfg->envs[i].direct_url && url_names(cfg->envs[i].direct_url, var, len)))
			return true;
	if (t && t->conf && ((t->conf->url && url_names(t->conf->url, var, len)) ||
			     (t->conf->direct_url && url_names(t->conf->direct_url, var, len))))
		return true;
	if (pw && strlen(pw) >= MIN_SECRET && strstr(value, pw))
		return true;
	if (strlen(raw) >= MIN_SECRET && strstr(value, raw))
		return true;
	return false;
}

int df__hook_env(char ***out, char *const *env, const df_config *cfg, const df_target *t)
{
	char raw[256], **v;
	size_t n = 0, k = 0;
	df_buf own = DF_BUF_INIT;

	*out = NULL;
	if (!env)
		env = environ;
	raw_password(raw, sizeof(raw), t ? t->url : NULL);
	for (char *const *e = env; e && *e; e++)
		n++;
	df_buf_printf(&own, "DEVFLOW_ENV=%s", t && t->env ? t->env : "local");
	if (df_buf_oom(&own) || !(v = calloc(n + 2, sizeof(*v)))) {
		df_buf_release(&own);
		return df_error_oom();
	}
	/* DEVFLOW_ENV first: df__hook_env_free() frees it */
	v[k++] = df_buf_detach(&own);
	for (char *const *e = env; e && *e; e++)
		if (!is_secret(*e, cfg, t, raw))
			v[k++] = *e;
	v[k] = NULL;
	explicit_bzero(raw, sizeof(raw));
	*out = v;
	return 0;
}

void df__hook_env_free(char **env)
{
	if (!env)
		return;
	free(env[0]);
	free(env);
}

int df__hook_run(const char *cmd, const df_config *cfg, const df_target *t)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	char **env = NULL;
	pid_t pid;
	int st, r;

	if (df__hook_env(&env, NULL, cfg, t) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	if (posix_spawn_file_actions_init(&fa) != 0) {
		df__hook_env_free(env);
		return -1;
	}
	/* the hook's stdout is devflow's stderr: stdout is the result's */
	r = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	if (r == 0)
		r = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	df__hook_env_free(env);
	if (r != 0) {
		errno = r;
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
