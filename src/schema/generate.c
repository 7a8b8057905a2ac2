/*
 * db generate: the migration that turns what the history leaves into what
 * the declarative schema says, and its reverse; db pull: a schema as the
 * file that makes it.  Both sides are real databases read back (load.c), so
 * the engines parse; the diff (diff.c) writes both directions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

/*
 * The renames of the schema file the other way round: "table NEW OLD"
 * becomes "table OLD NEW"; a column's table is named as it is on the desired
 * side, so after its table was renamed back it carries the old table name.
 */
static int reverse_renames(df_strlist *out, const df_strlist *in)
{
	int error = 0;

	for (size_t i = 0; i < in->nr && !error; i++) {
		char *e = strdup(in->v[i]), *f[4] = { NULL }, *save = NULL;
		size_t n = 0;
		if (!e)
			return df_error_oom();
		for (char *tok = strtok_r(e, "\t", &save); tok && n < 4; tok = strtok_r(NULL, "\t", &save))
			f[n++] = tok;
		if (n == 3) {
			error = df_strlist_pushf(out, "table\t%s\t%s", f[2], f[1]);
		} else if (n == 4) {
			const char *table = f[1];
			for (size_t k = 0; k < in->nr; k++) {
				const char *t = in->v[k];
				size_t len = strlen(table);
				/* "table\tNEW\tOLD" with NEW == this column's table */
				if (!strncmp(t, "table\t", 6) && !strncmp(t + 6, table, len) && t[6 + len] == '\t')
					table = t + 7 + len;
			}
			error = df_strlist_pushf(out, "column\t%s\t%s\t%s", table, f[3], f[2]);
		}
		free(e);
	}
	return error;
}

/* Did the review flag change `c` with `rule` (hazards are "rule: message")? */
static bool flagged(const df_change *c, const char *rule)
{
	size_t n = strlen(rule);

	for (size_t i = 0; i < c->hazards.nr; i++)
		if (!strncmp(c->hazards.v[i], rule, n) && c->hazards.v[i][n] == ':')
			return true;
	return false;
}

/* One statement, "...;\n" (a change may hold several). */
static bool one_statement(const char *sql)
{
	const char *semi = strchr(sql, ';');
	return semi && !strcmp(semi, ";\n");
}

static void change_release(df_change *c)
{
	free(c->object);
	free(c->sql);
	df_strlist_release(&c->hazards);
}

/* Drop the changes marked with a NULL sql. */
static void compact(df_diff *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->nr; i++) {
		if (!d->v[i].sql) {
			change_release(&d->v[i]);
			continue;
		}
		d->v[k++] = d->v[i];
	}
	d->nr = k;
}

/*
 * An index on an existing table: CREATE INDEX CONCURRENTLY, in the online
 * migration (no transaction), dropped CONCURRENTLY by its DOWN; the main
 * migration neither creates nor drops it.
 */
static int online_index(df_generated *g, df_change *c, const df_schema *want, df_buf *up,
	df_buf *down)
{
	const df_object *o = df_schema_find(want, c->object);
	size_t at = !strncmp(c->sql, "CREATE INDEX ", 13) ? 13 :
		!strncmp(c->sql, "CREATE UNIQUE INDEX ", 20) ? 20 : 0;

	if (!o || !at || !one_statement(c->sql))
		return 0;
	df_buf_put(up, c->sql, at);
	df_buf_puts(up, "CONCURRENTLY ");
	df_buf_puts(up, c->sql + at);
	df_buf_puts(down, "DROP INDEX CONCURRENTLY IF EXISTS ");
	df__qualified(down, DF_DIALECT_POSTGRES, o->schema, o->name);
	df_buf_puts(down, ";\n");
	for (size_t i = 0; i < g->down->nr; i++) {
		df_change *dc = &g->down->v[i];
		if (dc->op == DF_CHANGE_DROP && !strcmp(dc->object, c->object)) {
			free(dc->sql);
			dc->sql = NULL;
		}
	}
	free(c->sql);
	c->sql = NULL;
	return df_buf_oom(up) || df_buf_oom(down) ? df_error_oom() : 0;
}

/*
 * A foreign key or check added to an existing table: the diff writes it NOT
 * VALID, then VALIDATE (ddl_pg.c).  The VALIDATE moves to `validate` (the
 * online migration, whose statements each commit on their own, so the scan
 * does not hold the ADD's lock); with `plain` both go and the ADD is plain.
 */
static int split_validate(df_change *c, df_buf *validate, bool plain)
{
	const char *second = strstr(c->sql, ";\nALTER TABLE ");
	const char *nv = strstr(c->sql, " NOT VALID;\n");
	df_buf b = DF_BUF_INIT;

	if (!second || !nv || nv + 10 != second || !strstr(second, " VALIDATE CONSTRAINT ") ||
	    strchr(second + 2, ';') != c->sql + strlen(c->sql) - 2)
		return 0;
	if (plain) {
		df_buf_put(&b, c->sql, (size_t)(nv - c->sql));
		df_buf_puts(&b, ";\n");
	} else {
		df_buf_put(&b, c->sql, (size_t)(second - c->sql) + 2);
		df_buf_puts(validate, second + 2);
	}
	if (df_buf_oom(&b) || (validate && df_buf_oom(validate))) {
		df_buf_release(&b);
		return df_error_oom();
	}
	free(c->sql);
	c->sql = df_buf_detach(&b);
	return 0;
}

/* Is the table of `key`'s object (in `want`) in `cur` already? */
static bool on_existing_table(const df_schema *cur, const df_schema *want, const char *key)
{
	const df_object *o = df_schema_find(want, key);
	char *tkey;
	bool found;

	if (!o || !o->table || !(tkey = df_schema_key(DF_OBJ_TABLE, o->schema, o->table, NULL)))
		return false;
	found = df_schema_find(cur, tkey) != NULL;
	free(tkey);
	return found;
}

static int online_forms(df_generated *g, const df_schema *cur, const df_schema *want, bool split,
	bool plain)
{
	df_buf up = DF_BUF_INIT, down = DF_BUF_INIT, validate = DF_BUF_INIT;
	bool lock_timeout = false;
	int error = 0;

	/* each change was reviewed alone: whether its table is new is decided here */
	for (size_t i = 0; i < g->up->nr && !error; i++) {
		df_change *c = &g->up->v[i];
		if (flagged(c, "lock-timeout-missing"))
			lock_timeout = true;
		if (c->op != DF_CHANGE_CREATE || !on_existing_table(cur, want, c->object))
			continue;
		if (plain) {
			if (c->kind == DF_OBJ_CONSTRAINT)
				error = split_validate(c, NULL, true);
		} else if (split && c->kind == DF_OBJ_INDEX && flagged(c, "create-index-not-concurrently")) {
			error = online_index(g, c, want, &up, &down);
		} else if (split && c->kind == DF_OBJ_CONSTRAINT) {
			error = split_validate(c, &validate, false);
		}
	}
	if (plain)
		goto out;
	if (!error && validate.size) {
		df_buf_puts(&up, validate.ptr);
		if (!down.size)
			df_buf_puts(&down, "-- VALIDATE has nothing to undo: the DOWN of the migration "
				"before this one drops the constraints.\nSELECT 1;\n");
	}
	if (error < 0)
		goto out;
	compact(g->up);
	compact(g->down);
	if (lock_timeout && g->up->nr && !g->up->preamble &&
	    !(g->up->preamble = strdup("SET LOCAL lock_timeout = '5s';\n"))) {
		error = df_error_oom();
		goto out;
	}
	if (up.size) {
		df_buf b = DF_BUF_INIT;
		df_buf_printf(&b, "SET lock_timeout = '5s';\n%sRESET lock_timeout;\n", up.ptr);
		if (df_buf_oom(&b) || df_buf_oom(&down)) {
			df_buf_release(&b);
			error = df_error_oom();
			goto out;
		}
		g->online_sql = df_buf_detach(&b);
		g->online_down_sql = df_buf_detach(&down);
	}
out:
	df_buf_release(&up);
	df_buf_release(&down);
	df_buf_release(&validate);
	return error;
}

static int read_renames(df_strlist *out, const char *path)
{
	df_strlist files = DF_STRLIST_INIT;
	int error = df_schema_files(&files, path);

	for (size_t i = 0; !error && i < files.nr; i++)
		error = df_schema_renames_read(out, files.v[i]);
	df_strlist_release(&files);
	return error;
}

static int load_desired(df_schema **out, const df_generate_opts *o, int n)
{
	if (o->schema_path)
		return df_schema_load_file(out, o->schema_path, o->engine, o->server, o->schema_opts, n);
	return df_schema_replay(out, o->to_migs, o->to_nr, o->engine, o->server, o->schema_opts, n);
}

int df_generate(df_generated **out, const df_generate_opts *o)
{
	df_generated *g = NULL;
	df_schema *cur = NULL, *want = NULL, *want2 = NULL;
	df_strlist renames = DF_STRLIST_INIT, back = DF_STRLIST_INIT;
	int error, pg;

	*out = NULL;
	if (o->version != DF_GENERATE_OPTS_VERSION)
		return df_error_set(DF_EINTERNAL, "df_generate: options of version %u", o->version);
	if (!(g = calloc(1, sizeof(*g))))
		return df_error_oom();
	if ((o->schema_path && (error = read_renames(&renames, o->schema_path)) < 0) ||
	    (error = df_schema_replay(&cur, o->migs, o->nr, o->engine, o->server, o->schema_opts, 0)) < 0 ||
	    (error = load_desired(&want, o, 1)) < 0)
		goto out;
	/* the diff renames in its `from` side: with renames, the UP needs a
	 * second, untouched copy of the desired schema */
	if (renames.nr && ((error = reverse_renames(&back, &renames)) < 0 ||
	    (error = load_desired(&want2, o, 2)) < 0))
		goto out;
	pg = cur->server_version / 10000;
	if ((error = df_schema_diff_renamed(&g->down, want, cur, &back)) < 0 ||
	    (error = df_schema_diff_renamed(&g->up, cur, want2 ? want2 : want, &renames)) < 0 ||
	    (error = df_diff_review(g->up, pg, o->review_disabled)) < 0 ||
	    (error = df_diff_review(g->down, pg, o->review_disabled)) < 0)
		goto out;
	if (!strcmp(o->engine, "postgres") &&
	    (error = online_forms(g, cur, want2 ? want2 : want, o->online_split, o->plain)) < 0)
		goto out;
	for (size_t i = 0; i < g->up->nr && !error; i++) {
		const df_change *c = &g->up->v[i];
		if (!c->destroys_data)
			continue;
		g->destroys_data = true;
		error = df_strlist_pushf(&g->drops, "%s %s", df_change_op_name(c->op), c->object);
	}
	for (size_t i = 0; i < g->down->nr && !error; i++) {
		const df_change *c = &g->down->v[i];
		if (c->destroys_data)
			error = df_strlist_pushf(&g->lost, "%s %s", df_change_op_name(c->op), c->object);
	}
	if (error < 0 ||
	    (error = df_diff_sql(&g->up_sql, g->up)) < 0 ||
	    (error = df_diff_sql(&g->down_sql, g->down)) < 0)
		goto out;
	*out = g;
	g = NULL;
out:
	df_generated_free(g);
	df_schema_free(cur);
	df_schema_free(want);
	df_schema_free(want2);
	df_strlist_release(&renames);
	df_strlist_release(&back);
	return error;
}

void df_generated_free(df_generated *g)
{
	if (!g)
		return;
	df_diff_free(g->up);
	df_diff_free(g->down);
	free(g->up_sql);
	free(g->down_sql);
	free(g->online_sql);
	free(g->online_down_sql);
	df_strlist_release(&g->drops);
	df_strlist_release(&g->lost);
	free(g);
}

int df_schema_ddl(char **out, const df_schema *base, const df_schema *s, const char *header)
{
	df_schema *empty = NULL;
	df_diff *d = NULL;
	char *sql = NULL;
	df_buf b = DF_BUF_INIT;
	int error;

	*out = NULL;
	if (!base && ((error = df_schema_new(&empty, s->dialect)) < 0 ||
	    (error = df_schema_finish(empty)) < 0))
		goto out;
	if ((error = df_schema_diff(&d, base ? base : empty, s)) < 0 ||
	    (error = df_diff_sql(&sql, d)) < 0)
		goto out;
	if (header)
		df_buf_puts(&b, header);
	df_buf_puts(&b, sql);
	if (b.size && b.ptr[b.size - 1] != '\n')
		df_buf_putc(&b, '\n');
	if (df_buf_oom(&b)) {
		error = df_error_oom();
		goto out;
	}
	*out = df_buf_detach(&b);
out:
	df_buf_release(&b);
	free(sql);
	df_diff_free(d);
	df_schema_free(empty);
	return error;
}
