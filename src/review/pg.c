/*
 * PostgreSQL rules, on libpg_query's parse tree.
 *
 * Only statements that a rule can be about are parsed (ALTER TABLE, CREATE
 * INDEX, DROP, TRUNCATE, UPDATE, DELETE, VACUUM, CLUSTER, REINDEX): the
 * tokenizer has already split and classified every statement, and most of a
 * migration (CREATE TABLE, INSERT, functions ...) needs no tree.  Each one is
 * parsed on its own, so a syntax error or a psql meta-command costs one
 * statement, never the file.  A statement libpg_query rejects is reviewed on
 * its tokens (the shared rules) and reported as unparsed-statement.
 *
 * State across statements: tables and indexes created by the migration
 * (analyze.c ops, in review.c), transaction segments (review.c), and here
 * lock_timeout / TimeZone settings, NOT VALID constraints and their
 * validation, column types seen, and UPDATE/DELETE waiting to learn whether
 * their transaction also holds DDL locks.
 *
 * This file is the entry point (df__pg_stmt, df__pg_finish): the state, the
 * settings and locks, the rules on a statement's ops and the dispatch of a
 * parse tree; pg_tables.c holds the rules on tables and columns (ALTER
 * TABLE, UPDATE/DELETE, renames), pg_objects.c those on indexes, DROP,
 * maintenance, views, enum types and LOCK TABLE (pg_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "review/pg_int.h"
#include "util/banned.h"

static struct pg_state *state(rctx *ctx)
{
	if (!ctx->pg && !(ctx->pg = calloc(1, sizeof(*ctx->pg))))
		ctx->error = df_error_oom();
	return ctx->pg;
}

void df__pg_release(rctx *ctx)
{
	struct pg_state *ps = ctx->pg;

	if (!ps)
		return;
	free(ps->nv);
	free(ps->va);
	free(ps->ct);
	free(ps->dml);
	free(ps->ddl_seg);
	for (size_t i = 0; i < ps->nev; i++)
		free(ps->ev[i].lit);
	free(ps->ev);
	df__nameset_release(&ps->types);
	for (size_t i = 0; i < ps->nviews; i++) {
		df_strlist_release(&ps->views[i].tabs);
		df_strlist_release(&ps->views[i].cols);
	}
	free(ps->views);
	free(ps->buf);
	free(ps);
	ctx->pg = NULL;
}

void df__pg_rv_name(const PgQuery__RangeVar *rv, rname *out)
{
	out->s[0] = '\0';
	if (!rv || !rv->relname)
		return;
	if (rv->schemaname && rv->schemaname[0])
		snprintf(out->s, RNAME_MAX, "%s.%s", rv->schemaname, rv->relname);
	else
		snprintf(out->s, RNAME_MAX, "%s", rv->relname);
}

/*
 * The advice for a statement that needs a migration of its own, outside a
 * transaction, in the words of the migration's format (as `migrate` words
 * it, src/core/runner.c no_tx_hint): devflow's text for devflow's files;
 * the other tools ignore devflow's directive.  `what` is the statement.
 */
char *df__pg_own_file_hint(rctx *ctx, const char *devflow_text, const char *what)
{
	switch (ctx->opts.format) {
	case DF_FMT_DBMATE:
		return df__fmt("%s in a migration of its own, or write the marker as "
			"'-- migrate:up transaction:false' (dbmate's way; dbmate ignores "
			"-- devflow:no-transaction)", what);
	case DF_FMT_GOOSE:
		return df__fmt("%s with the line '-- +goose NO TRANSACTION' at the top of the "
			"file (goose's way; goose ignores -- devflow:no-transaction), or in a "
			"migration of its own", what);
	case DF_FMT_GOLANG:
	case DF_FMT_FLYWAY:
		return df__fmt("%s in a migration file of its own: a file whose only "
			"statement cannot run in a transaction runs outside one, as %s runs it "
			"(%s ignores -- devflow:no-transaction)", what,
			ctx->opts.format == DF_FMT_GOLANG ? "golang-migrate" : "Flyway",
			ctx->opts.format == DF_FMT_GOLANG ? "golang-migrate" : "Flyway");
	default:
		return df__fmt("%s", devflow_text);
	}
}

/* ---- settings, locks, segments -------------------------------------------- */

static bool lock_timeout_active(const rctx *ctx, const struct pg_state *ps)
{
	return ps->lt_set && !(ps->lt_local && ps->lt_seg != df__pg_cur_seg(ctx));
}

static void need_lock_timeout(rctx *ctx, struct pg_state *ps, size_t off,
	const char *tab, const char *lock)
{
	if (ps->lt_reported || lock_timeout_active(ctx, ps))
		return;
	ps->lt_reported = true;
	df__finding(ctx, "lock-timeout-missing", off, -1, -1,
		df__fmt("takes %s lock on %s with no lock_timeout set: while it waits "
			"for a long query or an idle transaction to finish, every other "
			"query on %s queues behind it", lock, tab, tab),
		df__fmt("start the migration with SET lock_timeout = '5s' (SET LOCAL "
			"inside a transaction) so it gives up instead of stalling "
			"traffic, and retry it later"));
}

static void mark_ddl(rctx *ctx, struct pg_state *ps)
{
	unsigned int seg = df__pg_cur_seg(ctx);

	for (size_t i = 0; i < ps->nddl; i++)
		if (ps->ddl_seg[i] == seg)
			return;
	bool ok;

	GROW(ok, ctx, ps->ddl_seg, ps->nddl, ps->addl);
	if (ok)
		ps->ddl_seg[ps->nddl++] = seg;
}

/* Something that blocks writes on an existing table. */
void df__pg_strong_lock(rctx *ctx, struct pg_state *ps, size_t off, const char *tab,
	const char *lock)
{
	need_lock_timeout(ctx, ps, off, tab, lock);
	mark_ddl(ctx, ps);
}

static void set_op(rctx *ctx, struct pg_state *ps, const rop *op)
{
	const char *v = op->obj.s;

	if (!strcmp(op->col.s, "lock_timeout")) {
		bool off = (op->flags & OPF_RESET) || !v[0] || !strcmp(v, "0") ||
			!strcmp(v, "default") || !strcmp(v, "0s") || !strcmp(v, "0ms");

		ps->lt_set = !off;
		ps->lt_local = (op->flags & OPF_LOCAL) != 0;
		ps->lt_seg = df__pg_cur_seg(ctx);
	} else if (!strcmp(op->col.s, "timezone") || !strcmp(op->col.s, "time zone")) {
		ps->tz_utc = !(op->flags & OPF_RESET) &&
			(!strcmp(v, "utc") || !strcmp(v, "etc/utc") || !strcmp(v, "gmt") ||
			 !strcmp(v, "z") || !strcmp(v, "zulu") || !strcmp(v, "utc0") ||
			 !strcmp(v, "0") || !strcmp(v, "+00") || !strcmp(v, "+00:00"));
	}
}

static void not_in_transaction(rctx *ctx, const rstmt *st, const char *what)
{
	if (!ctx->in_tx)
		return;
	df__finding(ctx, "cannot-run-in-transaction", st->off, -1, -1,
		df__fmt("%s cannot run inside a transaction block, and this migration "
			"runs in one: PostgreSQL refuses it (\"cannot run inside a "
			"transaction block\") and the migration fails", what),
		df__pg_own_file_hint(ctx, "put the statement in a migration of its own marked "
			"-- devflow:no-transaction", "put the statement"));
}

/* ---- the parse tree ----------------------------------------------------------- */


static void tree_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
{
	if (!n)
		return;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		df__pg_alter_table(ctx, ps, st, n->alter_table_stmt);
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		df__pg_rename(ctx, ps, st, n->rename_stmt);
		break;
	case PG_QUERY__NODE__NODE_INDEX_STMT:
		df__pg_index(ctx, ps, st, n->index_stmt);
		break;
	case PG_QUERY__NODE__NODE_DROP_STMT:
		df__pg_drop(ctx, ps, st, n->drop_stmt);
		break;
	case PG_QUERY__NODE__NODE_DROPDB_STMT: {
		rop op;

		memset(&op, 0, sizeof(op));
		op.kind = OP_DROP_DATABASE;
		df__pg_copy_name(&op.obj, n->dropdb_stmt->dbname ? n->dropdb_stmt->dbname : "?");
		df__rules_common(ctx, st, &op);
		break;
	}
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT: {
		const PgQuery__TruncateStmt *t = n->truncate_stmt;

		for (size_t i = 0; i < t->n_relations; i++) {
			rop op;

			if (t->relations[i]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
				continue;
			memset(&op, 0, sizeof(op));
			op.kind = OP_TRUNCATE;
			df__pg_rv_name(t->relations[i]->range_var, &op.tab);
			if (t->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
				op.flags |= OPF_CASCADE;
			df__rules_common(ctx, st, &op);
			if (!df__table_is_new(ctx, op.tab.s))
				df__pg_strong_lock(ctx, ps, st->off, op.tab.s, "an ACCESS EXCLUSIVE");
		}
		break;
	}
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
		df__pg_dml(ctx, ps, st, n->update_stmt->relation, n->update_stmt->where_clause, true);
		break;
	case PG_QUERY__NODE__NODE_DELETE_STMT:
		df__pg_dml(ctx, ps, st, n->delete_stmt->relation, n->delete_stmt->where_clause, false);
		break;
	case PG_QUERY__NODE__NODE_VACUUM_STMT:
	case PG_QUERY__NODE__NODE_CLUSTER_STMT:
	case PG_QUERY__NODE__NODE_REINDEX_STMT:
		df__pg_maintenance(ctx, ps, st, n);
		break;
	default:
		break;
	}
}

/* ---- per statement ------------------------------------------------------------- */

static bool needs_tree(int kind)
{
	switch (kind) {
	case OP_CREATE_INDEX: case OP_DROP_TABLE: case OP_DROP_INDEX:
	case OP_DROP_SCHEMA: case OP_DROP_DATABASE: case OP_ADD_COLUMN:
	case OP_DROP_COLUMN: case OP_RENAME_COLUMN: case OP_RENAME_TABLE:
	case OP_COLUMN_TYPE: case OP_SET_NOT_NULL: case OP_DROP_NOT_NULL:
	case OP_SET_DEFAULT: case OP_DROP_DEFAULT: case OP_ADD_CONSTRAINT:
	case OP_DROP_CONSTRAINT: case OP_VALIDATE_CONSTRAINT:
	case OP_ALTER_TABLE_OTHER: case OP_UPDATE: case OP_DELETE: case OP_TRUNCATE:
	case OP_VACUUM: case OP_CLUSTER: case OP_REINDEX:
		return true;
	}
	return false;
}

/* libpg_query reports the error position in characters; make it a byte offset. */
static size_t char_to_byte(const char *s, size_t len, int cursorpos)
{
	size_t i = 0;
	int chars = 0;

	if (cursorpos <= 1)
		return 0;
	for (; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == cursorpos - 1)
				return i;
			chars++;
		}
	}
	return len;
}

/* Does the statement hold a psql variable (:name, :'name', :"name")? */
static bool has_psql_variable(const rctx *ctx, const rstmt *st)
{
	for (size_t i = 0; i + 1 < st->ntok; i++) {
		const rtok *t = &st->tok[i], *n = t + 1;

		if (!df__tok_ch(st, i, ':') || n->off != t->off + 1 ||
		    (i > 0 && df__tok_ch(st, i - 1, ':') && t[-1].off + 1 == t->off))
			continue;
		if (n->kind == RT_WORD || n->kind == RT_QIDENT || n->kind == RT_STRING)
			return true;    /* :name, :"name", :'name' (not a :: cast) */
	}
	(void)ctx;
	return false;
}

/* Statements libpg_query rejects.  A plain syntax error is an error
 * finding at the parser's position (PostgreSQL would reject it too); a
 * statement with a psql variable, or one for a target newer than the
 * grammar, gets a note.  Either way the token-level rules still run. */
static void unparsed(rctx *ctx, struct pg_state *ps, const rstmt *st, const PgQueryError *e,
	bool rules)
{
	size_t off = st->off + char_to_byte(ctx->s + st->off, st->len, e->cursorpos);

	ctx->res->unparsed++;
	if (!has_psql_variable(ctx, st) && ctx->opts.pg_version <= PG_VERSION_NUM / 10000)
		df__finding(ctx, "syntax-error", off, -1, -1,
			df__fmt("PostgreSQL rejects this statement: %s; the migration would "
				"fail here", e->message ? e->message : "syntax error"),
			df__fmt("fix the statement at the position shown; if it is valid "
				"for a newer PostgreSQL, review with --pg-version set to the target's"));
	else
		df__finding(ctx, "unparsed-statement", off, -1, -1,
		df__fmt("libpg_query (the PostgreSQL %s parser) rejects this statement "
			"(%s), so only its keywords were reviewed", PG_MAJORVERSION,
			e->message ? e->message : "syntax error"),
		df__fmt("check the syntax (psql variables such as :name are not "
			"expanded here); if it is valid for a newer PostgreSQL, review "
			"it by hand"));
	for (size_t i = 0; rules && i < ctx->nops; i++) {
		const rop *op = &ctx->ops[i];

		df__rules_common(ctx, st, op);
		if (op->kind == OP_CREATE_INDEX && !(op->flags & OPF_CONCURRENTLY) &&
		    !df__table_is_new(ctx, op->tab.s))
			df__finding(ctx, "create-index-not-concurrently", st->off, -1, -1,
				df__fmt("CREATE INDEX builds the index while holding a SHARE "
					"lock on %s: writes block until it finishes", op->tab.s),
				df__pg_own_file_hint(ctx, "CREATE INDEX CONCURRENTLY ... in a migration marked "
					"-- devflow:no-transaction", "CREATE INDEX CONCURRENTLY ..."));
	}
	(void)ps;
}

static void op_rules(rctx *ctx, struct pg_state *ps, const rstmt *st, const rop *op)
{
	switch (op->kind) {
	case OP_SET:
		set_op(ctx, ps, op);
		break;
	case OP_LOCK:
		if (!df__table_is_new(ctx, op->tab.s))
			df__pg_lock_table(ctx, st, op);
		if (!df__table_is_new(ctx, op->tab.s) && df__pg_lock_mode_blocks_writes(op->obj.s)) {
			char lock[RNAME_MAX + 16];
			size_t k = 0;

			/* "an ACCESS EXCLUSIVE", "a SHARE" */
			const char *m = op->obj.s[0] ? op->obj.s : "access exclusive";
			k = (size_t)snprintf(lock, sizeof(lock), "%s ",
				(m[0] == 'a' || m[0] == 'e') ? "an" : "a");
			for (; *m && k + 1 < sizeof(lock); m++)
				lock[k++] = (*m >= 'a' && *m <= 'z') ? (char)(*m - 32) : *m;
			lock[k] = '\0';
			df__pg_strong_lock(ctx, ps, st->off, op->tab.s, lock);
		}
		break;
	case OP_VACUUM:
		not_in_transaction(ctx, st, "VACUUM");
		break;
	case OP_DROP_COLUMN:
		df__pg_drop_column_views(ctx, ps, st, op);
		break;
	case OP_DROP_DATABASE:
		not_in_transaction(ctx, st, "DROP DATABASE");
		break;
	case OP_REINDEX:
		if (op->what && (!strcmp(op->what, "system") || !strcmp(op->what, "database")) &&
		    !(op->flags & OPF_CONCURRENTLY))
			not_in_transaction(ctx, st, !strcmp(op->what, "system") ?
				"REINDEX SYSTEM" : "REINDEX DATABASE");
		break;
	case OP_CREATE:
		if (!op->what)
			break;
		if (!strcmp(op->what, "database"))
			not_in_transaction(ctx, st, "CREATE DATABASE");
		else if (!strcmp(op->what, "tablespace"))
			not_in_transaction(ctx, st, "CREATE TABLESPACE");
		else if (!strcmp(op->what, "type") && op->obj.s[0] &&
			 df__nameset_add(&ps->types, op->obj.s) < 0)
			ctx->error = DF_EINTERNAL;
		else if (!strcmp(op->what, "trigger") && op->tab.s[0] && !df__table_is_new(ctx, op->tab.s)) {
			df__finding(ctx, "create-trigger", st->off, -1, -1,
				df__fmt("CREATE TRIGGER %s takes a SHARE ROW EXCLUSIVE lock on %s "
					"(writes block while it waits and until the transaction "
					"ends), and from then on the trigger runs for every row "
					"written to %s, adding its cost to every write",
					op->obj.s[0] ? op->obj.s : "", op->tab.s, op->tab.s),
				df__fmt("set a short lock_timeout, keep the trigger function "
					"cheap, and measure the write path of %s with the trigger "
					"on a copy of production data first", op->tab.s));
			df__pg_strong_lock(ctx, ps, st->off, op->tab.s, "a SHARE ROW EXCLUSIVE");
		}
		break;
	case OP_DROP:
		if (op->what && !strcmp(op->what, "tablespace"))
			not_in_transaction(ctx, st, "DROP TABLESPACE");
		if (df__drop_cascades_data(op) &&
		    !(!strcmp(op->what, "type") && df__nameset_has(&ps->types, DF_DIALECT_POSTGRES,
								  op->obj.s))) {
			char what[32];
			size_t k = 0;

			for (const char *w = op->what; *w && k + 1 < sizeof(what); w++)
				what[k++] = (*w >= 'a' && *w <= 'z') ? (char)(*w - 32) : *w;
			what[k] = '\0';
			df__finding(ctx, "drop-cascade", st->off, -1, -1,
				df__fmt("DROP %s %s CASCADE also drops everything that depends "
					"on it without naming it: columns of that type (and their "
					"data), generated columns, views and materialized views, "
					"defaults, constraints and triggers", what, op->obj.s),
				df__fmt("look up the dependents first (pg_depend, or DROP without "
					"CASCADE to see PostgreSQL's list), drop or change them "
					"one by one in reviewed statements, then drop %s without "
					"CASCADE", op->obj.s));
		}
		break;
	case OP_ALTER: {
		size_t v;

		if (!op->what || strcmp(op->what, "type") || !(v = df__pg_enum_add_value(ctx, st)))
			break;
		if (ctx->opts.pg_version < 12) {
			not_in_transaction(ctx, st, "before PostgreSQL 12, ALTER TYPE ... ADD VALUE");
		} else if (ctx->in_tx && !df__nameset_has(&ps->types, DF_DIALECT_POSTGRES,
							 op->obj.s)) {
			bool ok;

			GROW(ok, ctx, ps->ev, ps->nev, ps->aev);
			if (!ok)
				break;
			if (!(ps->ev[ps->nev].lit = df__fmt("%.*s", (int)st->tok[v].len,
							    ctx->s + st->tok[v].off))) {
				ctx->error = df_error_oom();
				break;
			}
			df__pg_copy_name(&ps->ev[ps->nev].type, op->obj.s);
			ps->ev[ps->nev].seg = df__pg_cur_seg(ctx);
			ps->ev[ps->nev].stmt = ctx->cur_stmt;
			ps->nev++;
		}
		break;
	}
	default:
		break;
	}
	if (op->kind == OP_OTHER && TK(ctx->s, st, 0, "alter") && TK(ctx->s, st, 1, "system"))
		not_in_transaction(ctx, st, "ALTER SYSTEM");
}

void df__pg_stmt(rctx *ctx, const rstmt *st)
{
	struct pg_state *ps = state(ctx);
	PgQueryProtobufParseResult pr;
	PgQuery__ParseResult *tree;
	bool parse = false;

	if (!ps)
		return;
	df__pg_enum_uses(ctx, ps, st);
	for (size_t i = 0; i < ctx->nops; i++) {
		const rop *op = &ctx->ops[i];

		op_rules(ctx, ps, st, op);
		if (needs_tree(op->kind))
			parse = true;
	}
	if (ps->abuf < st->len + 1) {
		size_t n = st->len + 1 > 4096 ? st->len + 1 : 4096;
		char *b = realloc(ps->buf, n);

		if (!b) {
			ctx->error = df_error_oom();
			return;
		}
		ps->buf = b;
		ps->abuf = n;
	}
	memcpy(ps->buf, ctx->s + st->off, st->len);
	ps->buf[st->len] = '\0';

	pr = pg_query_parse_protobuf(ps->buf);
	if (pr.error) {
		/* every statement is parsed, so that a syntax error is found
		 * wherever it is; only those a rule is about get the token-level
		 * rules when it fails */
		unparsed(ctx, ps, st, pr.error, parse);
		pg_query_free_protobuf_parse_result(pr);
		return;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len,
		(const uint8_t *)pr.parse_tree.data);
	if (!tree) {
		ctx->error = df_error_oom();
		pg_query_free_protobuf_parse_result(pr);
		return;
	}
	for (size_t i = 0; i < tree->n_stmts; i++)
		if (tree->stmts[i]) {
			if (parse)
				tree_stmt(ctx, ps, st, tree->stmts[i]->stmt);
			df__pg_tree_extra(ctx, ps, st, tree->stmts[i]->stmt);
		}
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
}

void df__pg_finish(rctx *ctx)
{
	struct pg_state *ps = ctx->pg;

	if (!ps)
		return;
	for (size_t i = 0; i < ps->ndml; i++) {
		const struct dml *d = &ps->dml[i];
		bool ddl = false;

		for (size_t j = 0; j < ps->nddl && !ddl; j++)
			ddl = ps->ddl_seg[j] == d->seg;
		if (!ddl)
			continue;
		ctx->cur_stmt = d->stmt;
		df__finding(ctx, "data-change-with-ddl", d->off,
			d->where ? DF_REVIEW_INFO : -1, d->where ? DF_RISK_LOW : -1,
			df__fmt("%s rows of %s in the same transaction as schema changes: the "
				"DDL's locks are held until every row is changed and the "
				"transaction commits, so queries on the altered tables wait "
				"for the whole data change", d->update ? "updates" : "deletes",
				d->tab.s),
			df__fmt("move the data change to its own migration marked -- devflow:"
				"no-transaction and run it in batches (WHERE id BETWEEN ... "
				"AND ...), each committing quickly"));
	}
}
