/*
 * Sources of migrations (include/devflow/source.h): the SQL folder, whose
 * migrations run through the runner (core/runner.c) and are recorded in
 * devflow's tracking table, and the seed files, which run whole, each in
 * its own transaction, and are recorded nowhere but the audit log.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devflow/error.h"
#include "devflow/source.h"
#include "core/runner_int.h"
#include "util/banned.h"

void df_source_sql_release(df_source_sql *s)
{
	if (!s)
		return;
	free(s->up);
	free(s->down);
	memset(s, 0, sizeof(*s));
}

void df_source_free(df_source *src)
{
	if (!src)
		return;
	if (src->release)
		src->release(src);
	free(src);
}

int df_source_pending(const df_source *src, const df_migration ***out, size_t *nr)
{
	df_source_item *items = NULL;
	const df_migration **v;
	size_t n = 0, k = 0;
	int error;

	*out = NULL;
	*nr = 0;
	if ((error = df_source_valid(src)) < 0 || (error = src->list(src, &items, &n)) < 0)
		return error;
	if (!(v = calloc(n + 1, sizeof(*v)))) {
		free(items);
		return df_error_oom();
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].mig && items[i].state == DF_STATE_PENDING)
			v[k++] = items[i].mig;
	free(items);
	*out = v;
	*nr = k;
	return 0;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- the SQL folder ---------------------------------------------------------- */

static int folder_list(const df_source *src, df_source_item **out, size_t *nr)
{
	const df_plan *plan = src->data;
	df_source_item *v;

	*out = NULL;
	*nr = 0;
	if (!plan || !plan->nr)
		return 0;
	if (!(v = calloc(plan->nr, sizeof(*v))))
		return df_error_oom();
	for (size_t i = 0; i < plan->nr; i++) {
		v[i].mig = plan->items[i].mig;
		v[i].row = plan->items[i].row;
		v[i].state = plan->items[i].state;
	}
	*out = v;
	*nr = plan->nr;
	return 0;
}

static int read_section(char **out, const df_section *sec)
{
	size_t len;

	*out = NULL;
	if (!sec->path)
		return 0;
	return df_section_read(out, &len, sec);
}

static int folder_sql(const df_source *src, const df_migration *m, df_source_sql *out)
{
	int error;

	(void)src;
	memset(out, 0, sizeof(*out));
	if ((error = read_section(&out->up, &m->up)) < 0 ||
	    (error = read_section(&out->down, &m->down)) < 0) {
		df_source_sql_release(out);
		return error;
	}
	return 0;
}

static int folder_check(const df_source *src, const df_migration **migs, size_t nr, df_dialect d,
	bool rollback)
{
	(void)src;
	return df_run_check(migs, nr, d, rollback);
}

static int folder_apply(const df_source *src, df_source_run *run, const df_migration *m)
{
	(void)src;
	return df__run_migration(run, m, false);
}

static int folder_revert(const df_source *src, df_source_run *run, const df_migration *m)
{
	(void)src;
	return df__run_migration(run, m, true);
}

static int folder_record(const df_source *src, df_conn *conn, const char *table,
	const df_migration *m, df_source_record what, long ms, long done)
{
	(void)src;
	return df__run_record(conn, table, m, what, ms, done);
}

static const df_source sql_folder = {
	.version = DF_SOURCE_VERSION,
	.verb = NULL,
	.history = true,
	.list = folder_list,
	.sql = folder_sql,
	.check = folder_check,
	.apply = folder_apply,
	.revert = folder_revert,
	.record = folder_record,
};

const df_source *df_source_sql_folder(void)
{
	return &sql_folder;
}

int df_source_folder_new(df_source **out, const df_plan *plan)
{
	df_source *src = malloc(sizeof(*src));

	*out = NULL;
	if (!src)
		return df_error_oom();
	*src = sql_folder;
	src->data = (void *)plan;
	*out = src;
	return 0;
}

/* ---- the seed files ----------------------------------------------------------- */

struct seeds {
	df_migration *v;
	size_t nr, alloc;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .sql files of `dir` in name order, read as plain migrations. */
static int seeds_read_dir(struct seeds *sd, const char *dir)
{
	df_strlist names = DF_STRLIST_INIT;
	struct dirent *de;
	DIR *d;
	int error = 0;

	if (!dir || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] != '.' && n > 4 && !strcmp(de->d_name + n - 4, ".sql") &&
		    df_strlist_pushf(&names, "%s/%s", dir, de->d_name) < 0) {
			error = DF_EINTERNAL;
			break;
		}
	}
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(char *), name_cmp);
	for (size_t i = 0; !error && i < names.nr; i++) {
		if (sd->nr == sd->alloc) {
			size_t a = sd->alloc ? 2 * sd->alloc : 8;
			df_migration *v = realloc(sd->v, a * sizeof(*v));
			if (!v) {
				error = df_error_oom();
				break;
			}
			sd->v = v;
			sd->alloc = a;
		}
		if ((error = df_migration_read_file(&sd->v[sd->nr], names.v[i], true)) < 0)
			break;
		sd->nr++;
	}
	df_strlist_release(&names);
	return error;
}

static void seeds_release(df_source *src)
{
	struct seeds *sd = src->data;

	if (!sd)
		return;
	for (size_t i = 0; i < sd->nr; i++)
		df_migration_release(&sd->v[i]);
	free(sd->v);
	free(sd);
	src->data = NULL;
}

static int seeds_list(const df_source *src, df_source_item **out, size_t *nr)
{
	const struct seeds *sd = src->data;
	df_source_item *v;

	*out = NULL;
	*nr = 0;
	if (!sd || !sd->nr)
		return 0;
	if (!(v = calloc(sd->nr, sizeof(*v))))
		return df_error_oom();
	for (size_t i = 0; i < sd->nr; i++) {
		v[i].mig = &sd->v[i];
		v[i].state = DF_STATE_PENDING;  /* a seed runs every time it is asked for */
	}
	*out = v;
	*nr = sd->nr;
	return 0;
}

/* A seed runs whole, whatever markers it has. */
static df_section whole(const df_migration *m)
{
	df_section s = { 0 };

	s.path = m->path;
	s.len = m->size;
	s.line = 1;
	return s;
}

static int seeds_sql(const df_source *src, const df_migration *m, df_source_sql *out)
{
	df_section s = whole(m);
	size_t len;

	(void)src;
	memset(out, 0, sizeof(*out));
	return df_section_read(&out->up, &len, &s);
}

/* Every seed splits before any runs (an empty one runs nothing). */
static int seeds_check(const df_source *src, const df_migration **migs, size_t nr, df_dialect d,
	bool rollback)
{
	(void)src;
	if (rollback)
		return df_error_set(DF_EUSAGE, "seed files cannot be rolled back");
	for (size_t i = 0; i < nr; i++) {
		df_stmt_list stmts = DF_STMT_LIST_INIT;
		df_section s = whole(migs[i]);
		int error = df_section_split(&stmts, &s, d);
		df_stmt_list_release(&stmts);
		if (error < 0)
			return error;
	}
	return 0;
}

static int seeds_apply(const df_source *src, df_source_run *run, const df_migration *m)
{
	const df_run_opts *o = run->opts;
	df_conn *conn = run->conn;
	bool dry = o->flags & DF_RUN_DRY_RUN;
	bool tx = df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL);
	long start = now_ms(), n = 0;
	int error;

	(void)src;
	run->step->mig = m;
	if ((o->flags & DF_RUN_SHADOW) || (dry && run->outer_tx)) {
		/* a throwaway copy, or the dry-run's transaction: run it there */
		error = df_run_sql_file(conn, m->path, &n);
	} else if (dry) {
		/* nothing to roll it back in: only check that it splits */
		df_stmt_list stmts = DF_STMT_LIST_INIT;
		df_section s = whole(m);
		error = df_section_split(&stmts, &s, df_conn_dialect(conn));
		n = (long)stmts.nr;
		run->step->not_run = stmts.nr > 0;
		df_stmt_list_release(&stmts);
	} else if (tx) {
		if ((error = df_conn_begin(conn)) < 0)
			return error;
		error = df_run_sql_file(conn, m->path, &n);
		if (error < 0) {
			df_error *saved = df_error_save();
			df_conn_rollback(conn);
			df_error_restore(saved);
		} else {
			error = df_conn_commit(conn);
		}
	} else {
		error = df_run_sql_file(conn, m->path, &n);
	}
	if (error < 0) {
		/* the statement's own error: the runner's position and hint speak
		 * of a migration's sections */
		const df_error *e = df_error_last();
		char *msg = e && e->message ? strdup(e->message) : NULL;
		df_error_set(error, "%s", msg ? msg : "seed failed");
		free(msg);
	}
	run->step->statements = n;
	run->step->duration_ms = now_ms() - start;
	return error;
}

static int seeds_revert(const df_source *src, df_source_run *run, const df_migration *m)
{
	(void)src;
	(void)run;
	return df_error_set(DF_EUSAGE, "seed file '%s' cannot be rolled back", m->path);
}

static int seeds_record(const df_source *src, df_conn *conn, const char *table,
	const df_migration *m, df_source_record what, long ms, long done)
{
	/* seeds keep no tracking row: the audit log records the run */
	(void)src; (void)conn; (void)table; (void)m; (void)what; (void)ms; (void)done;
	return 0;
}

int df_source_seeds_new(df_source **out, const char *dir, const char *env_dir)
{
	df_source *src = calloc(1, sizeof(*src));
	struct seeds *sd = calloc(1, sizeof(*sd));
	int error;

	*out = NULL;
	if (!src || !sd) {
		free(src);
		free(sd);
		return df_error_oom();
	}
	src->version = DF_SOURCE_VERSION;
	src->verb = "seed";
	src->command = DF_VERB_SEED;
	src->history = false;
	src->data = sd;
	src->list = seeds_list;
	src->sql = seeds_sql;
	src->check = seeds_check;
	src->apply = seeds_apply;
	src->revert = seeds_revert;
	src->record = seeds_record;
	src->release = seeds_release;
	if ((error = seeds_read_dir(sd, dir)) < 0 || (error = seeds_read_dir(sd, env_dir)) < 0) {
		df_source_free(src);
		return error;
	}
	*out = src;
	return 0;
}
