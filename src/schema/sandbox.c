/*
 * What a file loaded into a scratch database may do.
 *
 * db diff loads schema.sql, and db generate replays the migrations, into a
 * throwaway database by running them with the target's credentials.  Before
 * any statement runs, every statement is checked against an allow-list:
 * statements that create, change or drop objects of the throwaway database,
 * SET, transaction control and (for the replay only) data statements on the
 * throwaway database's own tables.  Refused: statements that act on the
 * server or cluster (databases, roles, grants on the server, ALTER SYSTEM,
 * tablespaces, plugins, replication), statements that reach files, programs
 * or other servers (COPY ... PROGRAM, COPY to or from a server file, LOAD,
 * LOAD DATA, INTO OUTFILE, dblink, foreign data, FEDERATED/CONNECT tables),
 * code that cannot be checked beforehand (DO blocks, dynamic SQL), a name
 * qualified with another database, and data statements in a schema file.
 *
 * PostgreSQL statements are classified on libpg_query's parse tree (every
 * node of it is walked: a function call or three-part name nested in a
 * CREATE TABLE ... AS is found too); MySQL/MariaDB and SQLite statements on
 * the review's tokens (review/lex.c), after df_sql_split() (the splitter the
 * runner uses).  SQLite's scratch database is also confined by its
 * connection (an authorizer, see the driver's sandbox method).
 *
 * This file holds the check (df__sandbox_check) and its refusals; the
 * statements of each dialect are classified by sandbox_pg.c,
 * sandbox_mysql.c and sandbox_sqlite.c (sandbox_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/sql.h"
#include "review/review_int.h"
#include "schema/sandbox_int.h"
#include "schema/schema_int.h"
#include "util/banned.h"

/* ---- the check -------------------------------------------------------------- */

static const char *verdict_reason(enum sb_verdict v)
{
	switch (v) {
	case SB_DML: return "changes data";
	case SB_SERVER: return "acts on the server, not on the throwaway database";
	case SB_OUTSIDE: return "reaches outside the throwaway database";
	case SB_CODE: return "runs code that cannot be checked before it runs";
	case SB_OTHER_DB: return "names another database";
	default: return "is not on the list of statements a schema file may hold";
	}
}

static int refuse(const df_sandbox *sb, const char *file, const char *text, size_t len,
	size_t off, int line0, const struct sb_finding *f)
{
	int line, col;
	const char *where = sb->dry_run ? "a dry-run in the throwaway copy (MariaDB cannot roll DDL back)" :
		sb->migrations ? "replaying the migrations into the throwaway database" :
		"loading a schema file into the throwaway database";

	if (f->v == SB_UNPARSED) {
		df_buf stmt = DF_BUF_INIT;
		int sline, scol;
		df_sql_position(text, len, off, &sline, &scol);
		df__statement_excerpt(&stmt, text + off, len - off);
		df_sql_position(text, len, off + f->at, &line, &col);
		line += line0 - 1;
		sline += line0 - 1;
		df_error_set(DF_ESQL, "%s:%d:%d: %s", file, line, col, f->what);
		df_error_pos(file, line, col);
		df_error_hint("the statement at %s:%d:%d (%s) does not parse: devflow reads the file "
			"with libpg_query (PostgreSQL %s's parser) before any of it runs; nothing ran. "
			"Fix the statement (a server newer than %s may accept syntax this parser does "
			"not)", file, sline, scol, stmt.ptr ? stmt.ptr : "", PG_MAJORVERSION,
			PG_MAJORVERSION);
		df_buf_release(&stmt);
		return DF_ESQL;
	}
	df_sql_position(text, len, off, &line, &col);
	line += line0 - 1;
	if (f->v == SB_OTHER_DB && !strncmp(f->what, "USE ", 4))
		df_error_set(DF_EGATE, "%s:%d: %s switches to another database; %s may touch only "
			"that database, nothing ran", file, line, f->what, where);
	else if (f->v == SB_OTHER_DB)
		df_error_set(DF_EGATE, "%s:%d: '%s' is a name in another database; %s may touch only "
			"that database, nothing ran", file, line, f->what, where);
	else
		df_error_set(DF_EGATE, "%s:%d: %s %s; %s may only create objects there, nothing ran",
			file, line, f->what, verdict_reason(f->v), where);
	df_error_pos(file, line, col);
	if (sb->dry_run) {
		df_error_hint("a MariaDB dry-run runs the migrations in a throwaway copy of the target, "
			"and this statement would reach past it for real; review it (" DF_ERR_CMD(0) ") "
			"and run without --dry-run, or write names without a database");
		df_error_suggest(df_cmd_make(DF_VERB_REVIEW, NULL, -1));
		return DF_EGATE;
	}
	switch (f->v) {
	case SB_DML:
		df_error_hint("a schema file holds CREATE, ALTER, COMMENT, DROP and SET statements; "
			"put data in a migration or a seed file (" DF_ERR_CMD(0) ")");
		df_error_suggest(df_cmd_make(DF_VERB_SEED, NULL, -1));
		break;
	case SB_OTHER_DB:
		df_error_hint("write names without a database (the throwaway database is the current "
			"one); a file that uses several databases cannot be loaded into one");
		break;
	case SB_SERVER:
		df_error_hint("databases, roles and server settings are made outside the schema file "
			"and the migrations devflow replays; remove the statement");
		break;
	case SB_CODE:
		df_error_hint("write the statements it would run as plain SQL (DO blocks and dynamic SQL "
			"cannot be checked before they run); migrate still runs them on the target");
		break;
	case SB_OUTSIDE:
		df_error_hint("files, programs and other servers are out of reach of db diff and "
			"db generate; remove the statement from the file");
		break;
	default:
		df_error_hint("db diff and db generate run only statements they can check; see "
			"'What loading a schema file may do' in docs/diff.md");
	}
	return DF_EGATE;
}

int df__sandbox_check(const df_sandbox *sb, const char *file, int line0,
	const char *sql, size_t len)
{
	df_stmt_list list = DF_STMT_LIST_INIT;
	char *text = NULL;
	size_t err = 0;
	int error = 0;

	if (!(text = malloc(len + 1)))
		return df_error_oom();
	memcpy(text, sql, len);
	text[len] = '\0';
	if (sb->dialect == DF_DIALECT_MYSQL)
		df__sandbox_my_open_comments(text, len);
	if ((error = df_sql_split(&list, sb->dialect, text, len, &err)) < 0) {
		int line, col;
		df_sql_position(text, len, err, &line, &col);
		df_error_pos(file, line + line0 - 1, col);
		goto out;
	}
	for (size_t i = 0; i < list.nr && !error; i++) {
		struct sb_finding f = { .v = SB_OK, .allow_dml = sb->migrations };
		const df_stmt *s = &list.v[i];
		if (sb->dialect == DF_DIALECT_POSTGRES) {
			char save = text[s->offset + s->len];
			text[s->offset + s->len] = '\0';
			error = df__sandbox_pg_check(text + s->offset, &f);
			text[s->offset + s->len] = save;
		} else {
			rlex lx;
			rstmt st;
			int r;
			bool first = true;
			/* one statement of the runner's; the lexer may see several
			 * in it (a routine's body): the first one's kind counts */
			df__rlex_init(&lx, sb->dialect, text + s->offset, s->len);
			while ((r = df__rlex_next(&lx, &st)) > 0 && !df__sb_severe(&f)) {
				if (sb->dialect == DF_DIALECT_SQLITE) {
					if (first)
						df__sandbox_lite_statement(text + s->offset, &st, &f);
				} else if (first) {
					df__sandbox_my_statement(text + s->offset, &st, sb->databases, &f);
				} else {
					df__sandbox_my_anywhere(text + s->offset, &st, sb->databases, &f);
				}
				first = false;
			}
			df__rlex_release(&lx);
			if (r < 0)
				error = r;
		}
		if (!error && f.v != SB_OK)
			error = refuse(sb, file, text, len, (size_t)s->offset, line0, &f);
	}
out:
	df_stmt_list_release(&list);
	free(text);
	return error;
}
