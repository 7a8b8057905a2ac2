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

/* Drop the changes marked with a NULL sql. */
static void compact(df_diff *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->nr; i++) {
		if (!d->v[i].sql) {
			df_change_release(&d->v[i]);
			continue;
		}
		d->v[k++] = d->v[i];
	}
	d->nr = k;
}

/*
 * An index on an existing table: CREATE INDEX CONCURRENTLY, in the online
 * migration (no transaction), dropped CONCURRENTLY by its DOWN; the main
 * migration neither creates nor drops it.  The operations change; the
 * writer renders them.  An index with a comment (a second statement) stays.
 */
static int online_index(df_generated *g, df_change *c, df_buf *up, df_buf *down)
{
	df_op *op = c->nops == 1 ? &c->ops[0] : NULL, drop;
	int error;

	if (!op || op->kind != DF_OP_CREATE || op->object_kind != DF_OBJ_INDEX || !op->after ||
	    op->after->comment)
		return 0;
	op->concurrently = true;
	memset(&drop, 0, sizeof(drop));
	drop.kind = DF_OP_DROP;
	drop.object_kind = DF_OBJ_INDEX;
	drop.before = op->after;
	drop.concurrently = drop.if_exists = true;
	if ((error = df_op_sql(up, g->up, op, NULL)) < 0 ||
	    (error = df_op_sql(down, g->down, &drop, NULL)) < 0)
		return error;
	for (size_t i = 0; i < g->down->nr; i++) {
		df_change *dc = &g->down->v[i];
		if (dc->op == DF_CHANGE_DROP && !strcmp(dc->object, c->object)) {
			free(dc->sql);
			dc->sql = NULL;
		}
	}
	free(c->sql);
	c->sql = NULL;
	return 0;
}

/*
 * A foreign key or check added to an existing table: the diff adds it NOT
 * VALID and validates it after (two operations).  The VALIDATE moves to
 * `validate` (the online migration, whose statements each commit on their
 * own, so the scan does not hold the ADD's lock); with `plain` the VALIDATE
 * goes and the ADD is plain.  A constraint with a comment stays as it is.
 */
static int split_validate(const df_diff *d, df_change *c, df_buf *validate, bool plain)
{
	int error;

	if (c->nops != 2 || c->ops[0].kind != DF_OP_CREATE || !c->ops[0].not_valid ||
	    c->ops[1].kind != DF_OP_VALIDATE || !c->ops[0].after || c->ops[0].after->comment)
		return 0;
	if (plain)
		c->ops[0].not_valid = false;
	else if ((error = df_op_sql(validate, d, &c->ops[1], NULL)) < 0)
		return error;
	df_change_remove_op(c, 1);
	return df_change_render(d, c);
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
				error = split_validate(g->up, c, NULL, true);
		} else if (split && c->kind == DF_OBJ_INDEX && flagged(c, "create-index-not-concurrently")) {
			error = online_index(g, c, &up, &down);
		} else if (split && c->kind == DF_OBJ_CONSTRAINT) {
			error = split_validate(g->up, c, &validate, false);
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
	if (lock_timeout && g->up->nr && (!g->up->preamble ||
	    !strncmp(g->up->preamble, "SET check_function_bodies", 25))) {
		/* before what the diff put first (function bodies unchecked) */
		df_buf p = DF_BUF_INIT;
		df_buf_printf(&p, "SET LOCAL lock_timeout = '5s';\n%s",
			g->up->preamble ? g->up->preamble : "");
		if (df_buf_oom(&p)) {
			error = df_error_oom();
			goto out;
		}
		free(g->up->preamble);
		g->up->preamble = df_buf_detach(&p);
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
		return df_schema_load_file(out, o->schema_path, o->engine, o->server, o->schema_opts, n,
			o->run_file);
	return df_schema_replay(out, o->to_migs, o->to_nr, o->engine, o->server, o->schema_opts, n,
		o->run);
}

static void forget_schemas(df_diff *d)
{
	d->from = d->to = NULL;
	for (size_t i = 0; i < d->nr; i++)
		for (size_t k = 0; k < d->v[i].nops; k++) {
			df_op *op = &d->v[i].ops[k];
			op->before = op->after = NULL;
			op->col_before = op->col_after = NULL;
		}
}

static int concat(char **out, const char *a, const char *b)
{
	df_buf t = DF_BUF_INIT;

	df_buf_puts(&t, a ? a : "");
	df_buf_puts(&t, b ? b : "");
	if (df_buf_oom(&t))
		return df_error_oom();
	*out = df_buf_detach(&t);
	if (!*out && !(*out = strdup("")))
		return df_error_oom();
	return 0;
}

/*
 * Both directions on throwaway copies: the UP (and the online migration
 * after it) on the history, the DOWN (the online one's first, as a
 * rollback runs them) on the desired schema.
 */
static int check(df_generated *g, const df_generate_opts *o, const df_schema *want,
	const df_schema *cur)
{
	/* not DF_VERIFY_OPTS_INIT: it names the core's runners, and the schema
	 * layer never calls up (the lint reads an unoptimised build's object);
	 * the runners are the caller's, in `o` */
	df_verify_opts vo = { .version = DF_VERIFY_OPTS_VERSION };
	char *sql = NULL;
	int error;

	vo.engine = o->engine;
	vo.server = o->server;
	vo.schema_opts = o->schema_opts;
	vo.run = o->run;
	vo.run_file = o->run_file;
	vo.from_history = true;
	vo.from_migs = o->migs;
	vo.from_nr = o->nr;
	if ((error = concat(&sql, g->up_sql, g->online_sql)) < 0 ||
	    (error = df_diff_verify(&g->up_check, &vo, sql, want)) < 0)
		goto out;
	free(sql);
	sql = NULL;
	vo.from_history = o->schema_path == NULL;
	vo.from_path = o->schema_path;
	vo.from_migs = o->to_migs;
	vo.from_nr = o->to_nr;
	if ((error = concat(&sql, g->online_down_sql, g->down_sql)) == 0)
		error = df_diff_verify(&g->down_check, &vo, sql, cur);
out:
	free(sql);
	return error;
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
	    (error = df_schema_replay(&cur, o->migs, o->nr, o->engine, o->server, o->schema_opts, 0,
		o->run)) < 0 ||
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
	if (o->verify && (g->up->nr || g->online_sql)) {
		/* the diffs renamed in `cur`: the DOWN is checked against a fresh copy */
		df_schema *orig = NULL;
		if (renames.nr && (error = df_schema_replay(&orig, o->migs, o->nr, o->engine, o->server,
			o->schema_opts, 3, o->run)) < 0)
			goto out;
		error = check(g, o, want2 ? want2 : want, orig ? orig : cur);
		df_schema_free(orig);
		if (error < 0)
			goto out;
	}
	/* the schemas go: the operations no longer point into them */
	forget_schemas(g->up);
	forget_schemas(g->down);
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
	df_verified_free(g->up_check);
	df_verified_free(g->down_check);
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
