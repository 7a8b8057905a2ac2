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
