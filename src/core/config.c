/*
 * devflow.conf (INI, read with inih) and the resolution of a target URL in
 * SPEC.md's order: --url, the config's [env "NAME"] direct_url, else its
 * url, variables from the process environment and the .env files, the
 * embedded SQLite default.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/suggest.h"
#include "util/banned.h"

const char *df_policy_name(df_policy p)
{
	switch (p) {
	case DF_POLICY_STAGING: return "staging";
	case DF_POLICY_PRODUCTION: return "production";
	default: return "local";
	}
}

static int parse_policy(const char *v)
{
	if (!strcasecmp(v, "local") || !strcasecmp(v, "development") || !strcasecmp(v, "dev"))
		return DF_POLICY_LOCAL;
	if (!strcasecmp(v, "staging") || !strcasecmp(v, "stage"))
		return DF_POLICY_STAGING;
	if (!strcasecmp(v, "production") || !strcasecmp(v, "prod"))
		return DF_POLICY_PRODUCTION;
	return -1;
}

static df_policy policy_for_name(const char *env)
{
	int p = parse_policy(env);

	return p == DF_POLICY_STAGING || p == DF_POLICY_PRODUCTION ? (df_policy)p : DF_POLICY_LOCAL;
}

void df_config_free(df_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->envs_nr; i++) {
		free(cfg->envs[i].name);
		free(cfg->envs[i].url);
		free(cfg->envs[i].direct_url);
		free(cfg->envs[i].smoke);
		free(cfg->envs[i].after_migrate);
	}
	free(cfg->envs);
	free(cfg->env_hash);
	free(cfg->dir);
	free(cfg->path);
	free(cfg->migrations);
	free(cfg->seeds);
	free(cfg->schema);
	free(cfg->dev_url);
	free(cfg->table);
	df_strlist_release(&cfg->review_disabled);
	free(cfg);
}

/*
 * Environments are looked up by name in a hash of their indexes (FNV-1a,
 * linear probing), so that reading a devflow.conf of 100,000 environments
 * stays linear: each key of each section finds its environment in O(1).
 */
static size_t env_hash_of(const char *name)
{
	size_t h = (size_t)14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * (size_t)1099511628211ULL;
	return h;
}

/* The slot of `name` in the hash: its entry, or the empty slot it would take. */
static size_t env_hash_find(const df_config *cfg, const char *name)
{
	size_t mask = cfg->env_hash_size - 1, i = env_hash_of(name) & mask;

	while (cfg->env_hash[i] && strcmp(cfg->envs[cfg->env_hash[i] - 1].name, name))
		i = (i + 1) & mask;
	return i;
}

/* Rebuild the hash at twice the size; 0 or -1 out of memory. */
static int env_hash_grow(df_config *cfg)
{
	size_t size = cfg->env_hash_size ? cfg->env_hash_size * 2 : 16, *old = cfg->env_hash;

	if (!(cfg->env_hash = calloc(size, sizeof(*cfg->env_hash)))) {
		cfg->env_hash = old;
		return -1;
	}
	free(old);
	cfg->env_hash_size = size;
	for (size_t i = 0; i < cfg->envs_nr; i++)
		cfg->env_hash[env_hash_find(cfg, cfg->envs[i].name)] = i + 1;
	return 0;
}

const df_env_conf *df_config_env(const df_config *cfg, const char *name)
{
	size_t slot;

	if (!cfg->env_hash_size)
		return NULL;
	slot = env_hash_find(cfg, name);
	return cfg->env_hash[slot] ? &cfg->envs[cfg->env_hash[slot] - 1] : NULL;
}

char *df_config_path(const df_config *cfg, const char *rel)
{
	df_buf b = DF_BUF_INIT;

	if (rel[0] == '/')
		return strdup(rel);
	df_buf_printf(&b, "%s/%s", cfg->dir, rel);
	return df_buf_detach(&b);
}

struct load_state {
	df_config *cfg;
	char *error;            /* first semantic error */
	int error_line;
	int line;
	int long_line;          /* first line longer than inih takes, or 0 */
};

static int set_str(char **slot, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return 0;
	free(*slot);
	*slot = s;
	return 1;
}

static df_env_conf *env_slot(df_config *cfg, const char *name)
{
	df_env_conf *e = (df_env_conf *)df_config_env(cfg, name);

	if (e)
		return e;
	if (cfg->envs_nr == cfg->envs_alloc) {
		size_t alloc = cfg->envs_alloc ? cfg->envs_alloc * 2 : 8;
		if (!(e = realloc(cfg->envs, alloc * sizeof(*e))))
			return NULL;
		cfg->envs = e;
		cfg->envs_alloc = alloc;
	}
	if ((cfg->envs_nr + 1) * 2 > cfg->env_hash_size && env_hash_grow(cfg) < 0)
		return NULL;
	e = &cfg->envs[cfg->envs_nr];
	memset(e, 0, sizeof(*e));
	e->policy = -1;
	if (!(e->name = strdup(name)))
		return NULL;
	cfg->envs_nr++;
	cfg->env_hash[env_hash_find(cfg, name)] = cfg->envs_nr;
	return e;
}

static void semantic_error(struct load_state *st, const char *fmt, const char *a, const char *b)
{
	df_buf buf = DF_BUF_INIT;

	if (st->error)
		return;
	df_buf_printf(&buf, fmt, a, b);
	st->error = df_buf_detach(&buf);
	st->error_line = st->line;
}

static int on_entry(void *user, const char *section, const char *name, const char *value
#if INI_HANDLER_LINENO
	, int lineno
#endif
	)
{
	struct load_state *st = user;
	df_config *cfg = st->cfg;
	char env[128];

#if INI_HANDLER_LINENO
	st->line = lineno;
#endif
	if (!strcmp(section, "project") || !*section) {
		if (!strcmp(name, "migrations"))
			return set_str(&cfg->migrations, value);
		if (!strcmp(name, "seeds"))
			return set_str(&cfg->seeds, value);
		if (!strcmp(name, "schema"))
			return set_str(&cfg->schema, value);
		if (!strcmp(name, "dev_url"))
			return set_str(&cfg->dev_url, value);
		if (!strcmp(name, "table")) {
			for (const char *p = value; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '_') {
					semantic_error(st, "table name '%s' may hold only letters, digits and '_'%s", value, "");
					return 1;
				}
			if (!*value || strlen(value) > 48) {
				semantic_error(st, "table name '%s' must be 1 to 48 characters%s", value, "");
				return 1;
			}
			return set_str(&cfg->table, value);
		}
		if (!strcmp(name, "dry_run_max_age") || !strcmp(name, "backup_max_age")) {
			char *end;
			long v = strtol(value, &end, 10), unit = 1;
			if (*end == 'h')
				unit = 3600, end++;
			else if (*end == 'm')
				unit = 60, end++;
			else if (*end == 's')
				end++;
			/* at most ten years: no overflow, and nothing a receipt could mean */
			if (*end || v <= 0 || v > 10L * 366 * 24 * 3600 / unit) {
				semantic_error(st, "'%s' wants a duration such as 24h, 90m or 3600s, not '%s'", name, value);
				return 1;
			}
			if (name[0] == 'd')
				cfg->dryrun_max_age = v * unit;
			else
				cfg->backup_max_age = v * unit;
			return 1;
		}
		semantic_error(st, "unknown key '%s' in section [%s]", name, section);
		return 1;
	}
	if (!strcmp(section, "review")) {
		if (!strcmp(name, "disable")) {
			char *copy = strdup(value), *save = NULL, *tok;
			if (!copy)
				return 0;
			for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
				df_strlist_push(&cfg->review_disabled, tok);
			free(copy);
			return 1;
		}
		semantic_error(st, "unknown key '%s' in section [%s]", name, section);
		return 1;
	}
	if (sscanf(section, "env \"%127[^\"]\"", env) == 1 || sscanf(section, "env %127s", env) == 1) {
		df_env_conf *e = env_slot(cfg, env);
		if (!e)
			return 0;
		if (!strcmp(name, "url"))
			return set_str(&e->url, value);
		if (!strcmp(name, "direct_url"))
			return set_str(&e->direct_url, value);
		if (!strcmp(name, "smoke"))
			return set_str(&e->smoke, value);
		if (!strcmp(name, "after_migrate"))
			return set_str(&e->after_migrate, value);
		if (!strcmp(name, "require_tls")) {
			if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
				e->require_tls = true;
			else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
				e->require_tls = false;
			else
				semantic_error(st, "require_tls wants true or false, not '%s'%s", value, "");
			return 1;
		}
		if (!strcmp(name, "policy")) {
			if ((e->policy = parse_policy(value)) < 0)
				semantic_error(st, "policy '%s' is not one of local, staging, production%s", value, "");
			return 1;
		}
		semantic_error(st, "unknown key '%s' in section [%s]", name, section);
		return 1;
	}
	semantic_error(st, "unknown section [%s]%s", section, "");
	return 1;
}

/* inih here is built without line numbers for handlers: count them ourselves. */
struct line_reader {
	FILE *f;
	struct load_state *st;
};

static char *read_line(char *str, int num, void *stream)
{
	struct line_reader *r = stream;
	char *p = fgets(str, num, r->f);
	int c;

	if (!p)
		return NULL;
	r->st->line++;
	if (!strchr(p, '\n') && !feof(r->f)) {
		/* longer than inih's buffer: note it, and skip the rest of the line
		 * rather than let it parse as a line of its own */
		if (!r->st->long_line)
			r->st->long_line = r->st->line;
		while ((c = fgetc(r->f)) != EOF && c != '\n')
			;
	}
	return p;
}

/*
 * What inih could not read at `line` of `path`, with the text it saw:
 * "syntax error: '[project' opens a section without a closing ']'".
 * Nothing when the line cannot be read again.
 */
static void syntax_what(df_buf *out, const char *path, int line)
{
	char buf[INI_MAX_LINE];
	FILE *f = fopen(path, "r");
	const char *p, *e;
	size_t n;
	int at = 0;

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f) && ++at < line)
		;
	fclose(f);
	if (at != line)
		return;
	buf[strcspn(buf, "\r\n")] = '\0';
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	n = strlen(p);
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n > 60)
		n = 60;
	if (*p == '[' && !(e = memchr(p, ']', n)))
		df_buf_printf(out, "syntax error: '%.*s' opens a section without a closing ']'", (int)n, p);
	else if (*p == '[')
		df_buf_printf(out, "syntax error: '%.*s' has text after the section's ']'", (int)n, p);
	else if (!strpbrk(p, "=:"))
		df_buf_printf(out, "syntax error: '%.*s' is neither a [section] nor a 'key = value' line",
			(int)n, p);
	else
		df_buf_printf(out, "syntax error: cannot read '%.*s' as 'key = value'", (int)n, p);
	if (df_buf_oom(out))
		df_buf_truncate(out, 0);
}

int df_config_load(df_config **out, const char *dir)
{
	struct load_state st = { 0 };
	df_config *cfg;
	char abs[PATH_MAX];
	df_buf path = DF_BUF_INIT;
	FILE *f;
	int rc, error = 0;

	*out = NULL;
	if (!realpath(dir, abs))
		return df_error_set(DF_EUSAGE, "cannot use project folder '%s': %s", dir, strerror(errno));
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return df_error_oom();
	cfg->dir = strdup(abs);
	cfg->dryrun_max_age = 24 * 3600;
	cfg->backup_max_age = 3600;
	st.cfg = cfg;
	df_buf_printf(&path, "%s/devflow.conf", abs);
	if ((f = fopen(path.ptr, "r"))) {
		cfg->path = df_buf_detach(&path);
		struct line_reader lr = { f, &st };
		rc = ini_parse_stream(read_line, &lr, on_entry, &st);
		fclose(f);
		if (st.long_line) {
			error = df_error_set(DF_ECONFIG, "devflow.conf:%d: the line is longer than %d characters",
				st.long_line, INI_MAX_LINE - 1);
			df_error_pos("devflow.conf", st.long_line, 0);
			df_error_hint("keep long values out of devflow.conf: url = ${STAGING_DATABASE_URL}, with the "
				"variable set in the environment or a .env file");
			goto out;
		}
		if (rc != 0 || st.error) {
			int line = rc > 0 ? rc : st.error_line;
			df_buf what = DF_BUF_INIT;
			if (rc > 0 && (!st.error || line < st.error_line))
				syntax_what(&what, cfg->path, line);
			error = df_error_set(DF_ECONFIG, "devflow.conf:%d: %s", line,
				rc > 0 && (!st.error || line < st.error_line) ?
				(what.size ? what.ptr : "syntax error") : st.error);
			df_buf_release(&what);
			df_error_pos("devflow.conf", line, 0);
			df_error_hint("fix devflow.conf (see `devflow help config`)");
			goto out;
		}
	} else if (errno != ENOENT) {
		error = df_error_set(DF_ECONFIG, "cannot read devflow.conf: %s", strerror(errno));
		goto out;
	} else {
		/* a config under another name would be ignored in silence: the
		 * environments it names would fall back to local */
		static const char *const others[] = { "devflow.toml", ".devflow.conf" };
		for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			struct stat ob;
			df_buf_truncate(&path, 0);
			df_buf_printf(&path, "%s/%s", abs, others[i]);
			if (stat(path.ptr, &ob) == 0) {
				error = df_error_set(DF_ECONFIG, "found %s but no devflow.conf: devflow reads "
					"devflow.conf", others[i]);
				df_error_hint("rename it to devflow.conf, in INI form (see `devflow help config`)");
				goto out;
			}
		}
	}
	if (getenv("DEVFLOW_MIGRATIONS_DIR") && *getenv("DEVFLOW_MIGRATIONS_DIR")) {
		/* -d / --migrations-dir (the CLI passes the flag this way) wins over the file */
		free(cfg->migrations);
		if (!(cfg->migrations = strdup(getenv("DEVFLOW_MIGRATIONS_DIR")))) {
			error = df_error_oom();
			goto out;
		}
	}
	if (!cfg->migrations) {
		/* dbmate's default folder, when the project has no migrations/ */
		struct stat sb;
		df_buf_truncate(&path, 0);
		df_buf_printf(&path, "%s/migrations", abs);
		if (stat(path.ptr, &sb) < 0) {
			df_buf_truncate(&path, 0);
			df_buf_printf(&path, "%s/db/migrations", abs);
			if (stat(path.ptr, &sb) == 0 && S_ISDIR(sb.st_mode))
				cfg->migrations = strdup("db/migrations");
		}
	}
	if ((!cfg->migrations && !(cfg->migrations = strdup("migrations"))) ||
	    (!cfg->seeds && !(cfg->seeds = strdup("seeds"))) ||
	    (!cfg->schema && !(cfg->schema = strdup("schema.sql"))) ||
	    (!cfg->table && !(cfg->table = strdup("_migrations"))) || !cfg->dir) {
		error = df_error_oom();
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	free(st.error);
	df_buf_release(&path);
	df_config_free(cfg);
	return error;
}

/* ---- .env files ---------------------------------------------------------- */

typedef struct envfile {
	char *name;             /* ".env.staging" */
	df_strlist keys, values;
	bool present;
} envfile;

static void envfile_release(envfile *e)
{
	free(e->name);
	df_strlist_release(&e->keys);
	df_strlist_release(&e->values);
}

/* Parse KEY=VALUE lines: `export`, quotes, # comments. */
static int envfile_load(envfile *e, const char *dir, const char *name)
{
	df_buf path = DF_BUF_INIT, val = DF_BUF_INIT;
	char line[8192];
	FILE *f;

	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	df_buf_printf(&path, "%s/%s", dir, name);
	f = fopen(path.ptr, "r");
	df_buf_release(&path);
	if (!f)
		return 0;
	e->present = true;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *key, *eq, *v;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "export ", 7))
			p += 7;
		key = p;
		if (!(eq = strchr(p, '=')))
			continue;
		*eq = '\0';
		for (char *k = eq - 1; k >= key && isspace((unsigned char)*k); k--)
			*k = '\0';
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		df_buf_truncate(&val, 0);
		if (*v == '"' || *v == '\'') {
			char q = *v++;
			for (; *v && *v != q; v++) {
				if (q == '"' && *v == '\\' && v[1]) {
					v++;
					df_buf_putc(&val, *v == 'n' ? '\n' : *v);
				} else {
					df_buf_putc(&val, *v);
				}
			}
		} else {
			size_t n = strcspn(v, "\r\n");
			char *hash = strstr(v, " #");
			if (hash && (size_t)(hash - v) < n)
				n = (size_t)(hash - v);
			while (n && isspace((unsigned char)v[n - 1]))
				n--;
			df_buf_put(&val, v, n);
		}
		df_strlist_push(&e->keys, key);
		df_strlist_push(&e->values, val.ptr);
	}
	fclose(f);
	df_buf_release(&val);
	return 0;
}

static const char *envfile_get(const envfile *e, const char *key)
{
	const char *found = NULL;

	for (size_t i = 0; i < e->keys.nr; i++)
		if (!strcmp(e->keys.v[i], key))
			found = e->values.v[i];  /* the last assignment wins */
	return found && *found ? found : NULL;
}

/* A variable source: the process environment (file NULL) or a .env file. */
static const char *source_get(const envfile *e, const char *key)
{
	const char *v;

	if (e)
		return envfile_get(e, key);
	v = getenv(key);
	return v && *v ? v : NULL;
}

static void url_escape(df_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			df_buf_putc(b, (char)c);
		else
			df_buf_printf(b, "%%%02X", c);
	}
}

/*
 * Try the variable conventions on one source.  Returns 1 and sets *url and
 * *var when one matched, 0 when none did, <0 on error.
 */
static int try_source(char **url, const char **var, const envfile *e)
{
	static const char *direct[] = {
		"DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL", "POSTGRES_PRISMA_URL",
	};
	const char *v, *host;
	df_buf b = DF_BUF_INIT;

	if ((v = source_get(e, "DATABASE_URL"))) {
		*var = direct[0];
		goto found;
	}
	if ((host = source_get(e, "DB_HOST"))) {
		const char *engine = source_get(e, "DB_ENGINE"), *port = source_get(e, "DB_PORT");
		const char *user = source_get(e, "DB_USER"), *pw = source_get(e, "DB_PASSWORD");
		const char *name = source_get(e, "DB_NAME");
		const char *scheme = "postgres";

		if (engine) {
			if (strstr(engine, "mysql") || strstr(engine, "maria"))
				scheme = "mysql";
			else if (strstr(engine, "sqlite"))
				scheme = "sqlite";
			else if (!strstr(engine, "postgres") && strcmp(engine, "pg"))
				return df_error_set(DF_ECONFIG, "DB_ENGINE '%s' is not one of postgres, mysql, sqlite", engine);
		} else if (port && !strcmp(port, "3306")) {
			scheme = "mysql";
		}
		if (!strcmp(scheme, "sqlite")) {
			df_buf_printf(&b, "sqlite:%s", name ? name : host);
		} else {
			df_buf_printf(&b, "%s://", scheme);
			if (user) {
				url_escape(&b, user);
				if (pw) {
					df_buf_putc(&b, ':');
					url_escape(&b, pw);
				}
				df_buf_putc(&b, '@');
			}
			df_buf_puts(&b, host);
			if (port)
				df_buf_printf(&b, ":%s", port);
			if (name) {
				df_buf_putc(&b, '/');
				url_escape(&b, name);
			}
		}
		*var = "DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD";
		*url = df_buf_detach(&b);
		return *url ? 1 : df_error_oom();
	}
	for (size_t i = 1; i < sizeof(direct) / sizeof(direct[0]); i++)
		if ((v = source_get(e, direct[i]))) {
			*var = direct[i];
			goto found;
		}
	if ((v = source_get(e, "TURSO_DATABASE_URL")) || (v = source_get(e, "LIBSQL_URL")))
		return df_error_set(DF_ECONFIG,
			"TURSO_DATABASE_URL names a Turso/libSQL database, which devflow does not support");
	return 0;
found:
	/* SQLAlchemy's driver suffix: postgresql+psycopg2:// -> postgresql:// */
	{
		const char *plus = strchr(v, '+'), *colon = strchr(v, ':');
		if (plus && colon && plus < colon) {
			df_buf_put(&b, v, (size_t)(plus - v));
			df_buf_puts(&b, colon);
			*url = df_buf_detach(&b);
		} else {
			*url = strdup(v);
		}
	}
	return *url ? 1 : df_error_oom();
}

/* Expand ${VAR} from the process environment, then the .env files. */
/* `where` gets, for each ${VAR}, where its value came from; `key` is the
 * config key the value is (url, direct_url). */
static int expand(char **out, df_buf *where, const char *key, const char *in,
	const envfile *files, size_t nfiles)
{
	df_buf b = DF_BUF_INIT;
	const char *p = in;

	*out = NULL;
	while (*p) {
		const char *open = strstr(p, "${"), *close;
		char name[128];
		const char *v = NULL;

		if (!open) {
			df_buf_puts(&b, p);
			break;
		}
		df_buf_put(&b, p, (size_t)(open - p));
		if (!(close = strchr(open, '}')) || close - open - 2 >= (long)sizeof(name)) {
			df_buf_release(&b);
			return df_error_set(DF_ECONFIG, "unterminated '${' in a devflow.conf %s", key);
		}
		memcpy(name, open + 2, (size_t)(close - open - 2));
		name[close - open - 2] = '\0';
		v = source_get(NULL, name);
		if (v)
			df_buf_printf(where, "%s${%s} from the process environment", where->size ? ", " : "", name);
		for (size_t i = 0; !v && i < nfiles; i++)
			if ((v = envfile_get(&files[i], name)))
				df_buf_printf(where, "%s${%s} from %s", where->size ? ", " : "", name, files[i].name);
		if (!v) {
			df_buf_release(&b);
			df_error_set(DF_ECONFIG, "devflow.conf's %s uses ${%s}, which is not set", key, name);
			df_error_hint("export %s, or set it in a .env file", name);
			return DF_ECONFIG;
		}
		df_buf_puts(&b, v);
		p = close + 1;
	}
	*out = df_buf_detach(&b);
	return *out ? 0 : df_error_oom();
}

void df_target_free(df_target *t)
{
	if (!t)
		return;
	free(t->env);
	if (t->url)
		memset(t->url, 0, strlen(t->url));
	free(t->url);
	free(t->redacted);
	free(t->source);
	df_dsn_free(t->dsn);
	free(t);
}


/*
 * An environment is named by devflow.conf or by its own .env.NAME file:
 * a typo ("stagng") has neither.
 */
static bool envfile_exists(const df_config *cfg, const char *env)
{
	df_buf b = DF_BUF_INIT;
	struct stat st;
	bool ok;

	df_buf_printf(&b, "%s/.env.%s", cfg->dir, env);
	ok = b.ptr && stat(b.ptr, &st) == 0 && S_ISREG(st.st_mode);
	df_buf_release(&b);
	return ok;
}

/* Environments an unknown-environment error lists at most. */
#define ENV_LIST_MAX 5

/*
 * The ENV_LIST_MAX environment names nearest to `env` by edit distance
 * (ties in file order), appended to `b` as "a, b, c".
 */
static void nearest_names(df_buf *b, const char *env, const df_config *cfg)
{
	size_t best[ENV_LIST_MAX], dist[ENV_LIST_MAX], n = 0;

	for (size_t i = 0; i < cfg->envs_nr; i++) {
		size_t d = df_edit_distance(env, cfg->envs[i].name), j;
		if (n == ENV_LIST_MAX && d >= dist[n - 1])
			continue;
		if (n < ENV_LIST_MAX)
			n++;
		for (j = n - 1; j > 0 && dist[j - 1] > d; j--) {
			best[j] = best[j - 1];
			dist[j] = dist[j - 1];
		}
		best[j] = i;
		dist[j] = d;
	}
	for (size_t k = 0; k < n; k++)
		df_buf_printf(b, "%s%s", k ? ", " : "", cfg->envs[best[k]].name);
}

int df_target_resolve(df_target **out, const df_config *cfg, const char *env,
	const char *url)
{
	envfile files[4];
	size_t nfiles = 0;
	df_target *t;
	df_buf src = DF_BUF_INIT, name = DF_BUF_INIT;
	const df_env_conf *ec;
	const char *var = NULL;
	int error = 0, r;

	*out = NULL;
	if (!env || !*env)
		env = "local";
	for (const char *p = env; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return df_error_set(DF_EUSAGE, "environment name '%s' may hold only letters, digits, '-', '_' and '.'", env);
	if (!(t = calloc(1, sizeof(*t))) || !(t->env = strdup(env))) {
		free(t);
		return df_error_oom();
	}
	ec = df_config_env(cfg, env);
	if (!ec && cfg->envs_nr && strcmp(env, "local") && !envfile_exists(cfg, env)) {
		/* a typo must not fall through to DATABASE_URL and the local policy */
		const char **names = calloc(cfg->envs_nr + 1, sizeof(*names));
		df_buf list = DF_BUF_INIT;
		const char *near;
		for (size_t i = 0; names && i < cfg->envs_nr; i++)
			names[i] = cfg->envs[i].name;
		if (cfg->envs_nr <= ENV_LIST_MAX) {
			/* each name once: local is said last, a name given twice once */
			size_t shown = 0;
			for (size_t i = 0; i < cfg->envs_nr; i++) {
				bool seen = !strcmp(cfg->envs[i].name, "local");
				for (size_t k = 0; k < i && !seen; k++)
					seen = !strcmp(cfg->envs[k].name, cfg->envs[i].name);
				if (!seen)
					df_buf_printf(&list, "%s%s", shown++ ? ", " : "", cfg->envs[i].name);
			}
		} else {
			/* a long list helps no one: the nearest few, nearest first */
			df_buf_printf(&list, "%zu environments; the nearest: ", cfg->envs_nr);
			nearest_names(&list, env, cfg);
		}
		near = names ? df_suggest(env, names, cfg->envs_nr) : NULL;
		if (!near && names && !strcmp(env, "prod"))
			near = df_config_env(cfg, "production") ? "production" : NULL;
		error = df_error_set(DF_EUSAGE, "unknown environment '%s': devflow.conf names %s (and local)",
			env, list.ptr ? list.ptr : "");
		if (near)
			df_error_hint("did you mean --env %s?", near);
		else
			df_error_hint("use one of them, or add [env \"%s\"] to devflow.conf (or a .env.%s file)", env, env);
		free(names);
		df_buf_release(&list);
		free(t->env);
		free(t);
		return error;
	}
	t->conf = ec;
	t->policy = ec && ec->policy >= 0 ? (df_policy)ec->policy : policy_for_name(env);

	df_buf_printf(&name, ".env.%s", env);
	envfile_load(&files[nfiles++], cfg->dir, name.ptr);
	if (!strcmp(env, "local")) {
		envfile_load(&files[nfiles++], cfg->dir, ".env.local");
		envfile_load(&files[nfiles++], cfg->dir, ".env.development");
	}
	envfile_load(&files[nfiles++], cfg->dir, ".env");

	if (url) {
		if (!(t->url = strdup(url)))
			goto oom;
		df_buf_puts(&src, "--url");
	} else if (getenv("DEVFLOW_URL") && *getenv("DEVFLOW_URL")) {
		/* as --url, from the environment (the flag wins) */
		if (!(t->url = strdup(getenv("DEVFLOW_URL"))))
			goto oom;
		df_buf_puts(&src, "DEVFLOW_URL in the process environment");
	} else if (ec && (ec->direct_url || ec->url)) {
		/* direct_url is devflow's own: the application keeps url (a pooler's) */
		const char *key = ec->direct_url ? "direct_url" : "url";
		df_buf where = DF_BUF_INIT;
		if ((error = expand(&t->url, &where, key, ec->direct_url ? ec->direct_url : ec->url,
				    files, nfiles)) < 0) {
			df_buf_release(&where);
			goto out;
		}
		t->direct = ec->direct_url != NULL;
		df_buf_printf(&src, "devflow.conf [env \"%s\"] %s%s%s%s", env, key, where.size ? " (" : "",
			where.size ? where.ptr : "", where.size ? ")" : "");
		df_buf_release(&where);
	} else {
		if ((r = try_source(&t->url, &var, NULL)) < 0) {
			error = r;
			goto out;
		}
		if (r) {
			df_buf_printf(&src, "%s in the process environment", var);
		} else {
			for (size_t i = 0; i < nfiles && !r; i++) {
				if (!files[i].present)
					continue;
				if ((r = try_source(&t->url, &var, &files[i])) < 0) {
					error = r;
					goto out;
				}
				if (r)
					df_buf_printf(&src, "%s in %s", var, files[i].name);
			}
		}
		if (!r) {
			if (strcmp(env, "local")) {
				error = df_error_set(DF_ECONFIG, "no database URL for environment '%s'", env);
				df_error_hint("add [env \"%s\"] url = ... to devflow.conf, set DATABASE_URL in .env.%s, or pass --url", env, env);
				goto out;
			}
			if (!(t->url = strdup("sqlite:./devflow.db")))
				goto oom;
			df_buf_puts(&src, "the embedded default (no config, no DATABASE_URL)");
		}
	}
	if ((error = df_dsn_parse(&t->dsn, t->url)) < 0) {
		df_error_prefix("%s", src.ptr);
		goto out;
	}
	if (!(t->redacted = df_dsn_redact(t->url)) || !(t->source = df_buf_detach(&src)))
		goto oom;
	*out = t;
	t = NULL;
	goto out;
oom:
	error = df_error_oom();
out:
	for (size_t i = 0; i < nfiles; i++)
		envfile_release(&files[i]);
	df_buf_release(&src);
	df_buf_release(&name);
	df_target_free(t);
	return error;
}
