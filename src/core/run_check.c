/*
 * The checks before a run (`db migrate --check`, and every run before its
 * first statement): each section splits, no statement that cannot run in a
 * transaction sits in a migration that runs in one, no UP is empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "core/runner_int.h"
#include "util/banned.h"

/*
 * The hint for a statement that cannot run in a transaction, in a migration
 * of several statements that runs in one: in the words of the file's format.
 */
static void no_tx_hint(const df_migration *m, const char *what)
{
	switch (m->format) {
	case DF_FMT_DBMATE:
		df_error_hint("write the marker as '-- migrate:up transaction:false' (dbmate's way), "
			"or move %s into a migration of its own, where it runs outside a "
			"transaction by itself; nothing was applied", what);
		break;
	case DF_FMT_GOOSE:
		df_error_hint("add the line '-- +goose NO TRANSACTION' at the top of the file (goose's "
			"way), or move %s into a migration of its own; nothing was applied", what);
		break;
	case DF_FMT_GOLANG:
	case DF_FMT_FLYWAY:
		df_error_hint("move %s into a migration file of its own: a file whose only statement "
			"cannot run in a transaction runs outside one, as %s runs it; nothing was "
			"applied", what, m->format == DF_FMT_GOLANG ? "golang-migrate" : "Flyway");
		break;
	default:
		df_error_hint("move %s into a migration of its own (a migration whose only statement "
			"cannot run in a transaction runs outside one), or add the line "
			"'-- devflow:no-transaction' before '-- UP'; nothing was applied", what);
	}
}

/*
 * Read every statement of one section: *n counts them; *txctl is set when the
 * migration does its own transaction control; *lone when its only statement
 * cannot run in a transaction (it then runs outside one).  A PostgreSQL
 * statement that cannot run in a transaction, among others in a migration
 * that runs in one, is refused.
 */
static int check_section(const df_migration *m, const df_section *sec, df_dialect d,
	long *n, bool *txctl, bool *lone)
{
	struct reader r;
	const char *sql, *first_what = NULL;
	size_t len;
	uint64_t off, first_off = 0;
	int rc, error;

	*n = 0;
	*txctl = false;
	*lone = false;
	if (!sec->path || !sec->len)
		return 0;
	if ((error = df__reader_open(&r, sec, d)) < 0)
		return error;
	while ((rc = df__reader_next(&r, &sql, &len, &off)) == 1) {
		const char *what;
		(*n)++;
		if (df__tx_control(sql, len))
			*txctl = true;
		if (first_what || !(what = df__needs_no_tx(sql, len)))
			continue;
		first_what = what;
		first_off = off;
	}
	df__reader_close(&r);
	if (rc < 0) {
		df_error_hint("fix %s; nothing was applied", sec->path);
		return rc;
	}
	if (first_what && *n == 1) {
		*lone = true;
	} else if (first_what && d == DF_DIALECT_POSTGRES && !m->no_transaction) {
		int line, col;
		df_file_position(sec->path, first_off, &line, &col);
		df_error_set(DF_ECONFIG, "%s:%d:%d: %s cannot run inside a transaction, and "
			"'%s' runs its %ld statements in one", sec->path, line, col, first_what,
			m->file, *n);
		df_error_pos(sec->path, line, col);
		no_tx_hint(m, first_what);
		return DF_ECONFIG;
	}
	return 0;
}

static int empty_up(const df_migration *m)
{
	const char *path = m->up.path ? m->up.path : m->path;

	if (!m->size)
		df_error_set(DF_ECONFIG, "'%s' is empty", m->file);
	else
		df_error_set(DF_ECONFIG, "'%s' has no statement in its UP section", m->file);
	df_error_pos(path, m->up.line > 0 ? m->up.line : 1, 1);
	df_error_hint("write the migration's SQL %s (a migration that does nothing would be "
		"recorded applied), or delete the file; nothing was applied",
		m->format == DF_FMT_DBMATE ? "after '-- migrate:up'" : m->format == DF_FMT_GOOSE ?
		"after '-- +goose Up'" : m->format == DF_FMT_DEVFLOW ? "after '-- UP'" : "in the file");
	return DF_ECONFIG;
}

int df_migration_check_nonempty(const df_migration *m, df_dialect d)
{
	bool txctl, lone;
	long n;
	int error;

	/* a section that does not split is the caller's to report (review
	 * shows it as a finding): only an UP that surely holds nothing fails */
	if ((error = check_section(m, &m->up, d, &n, &txctl, &lone)) < 0) {
		df_error_clear();
		return 0;
	}
	return n ? 0 : empty_up(m);
}

int df_run_check(const df_migration **migs, size_t nr, df_dialect d, bool rollback)
{
	for (size_t i = 0; i < nr; i++) {
		df_migration *m = (df_migration *)migs[i];
		const df_section *sec = rollback ? &m->down : &m->up;
		bool txctl, lone;
		long n;
		int error;

		if ((error = check_section(m, sec, d, &n, &txctl, &lone)) < 0)
			return error;
		/* a lone statement that cannot run in a transaction runs outside
		 * one, in every format, as the formats' own tools run it */
		if (lone)
			m->no_transaction = true;
		if (!rollback && !n)
			return empty_up(m);
		/* the run reads it: a migration with its own BEGIN/COMMIT runs
		 * without a transaction of devflow's */
		m->tx_control = txctl;
	}
	return 0;
}
