/*
 * df_review_run(): splits the text, classifies each statement (analyze.c),
 * runs the dialect's rules (pg.c, mysql.c, sqlite.c) and the shared ones,
 * then applies `-- devflow:allow` comments, sorts the findings and maps
 * their offsets to file positions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "review/review_int.h"
#include "util/banned.h"

#define W DF_REVIEW_WARNING
#define E DF_REVIEW_ERROR
#define I DF_REVIEW_INFO
#define PG DF_REVIEW_POSTGRES
#define MY DF_REVIEW_MYSQL
#define SL DF_REVIEW_SQLITE

static const df_review_rule rules[] = {
	/* destructive */
	{ "drop-table", DF_REVIEW_ALL, E, DF_RISK_HIGH,
	  "DROP TABLE of a table that exists before the migration" },
	{ "drop-column", DF_REVIEW_ALL, W, DF_RISK_MEDIUM,
	  "DROP COLUMN of an existing table" },
	{ "drop-schema", PG, E, DF_RISK_HIGH, "DROP SCHEMA" },
	{ "drop-database", PG | MY, E, DF_RISK_HIGH, "DROP DATABASE (MySQL: also DROP SCHEMA)" },
	{ "drop-cascade", PG, E, DF_RISK_HIGH,
	  "DROP TYPE/DOMAIN/FUNCTION/VIEW/EXTENSION ... CASCADE (drops dependent "
	  "columns and their data)" },
	{ "truncate", PG | MY, E, DF_RISK_HIGH, "TRUNCATE" },
	{ "delete-without-where", DF_REVIEW_ALL, E, DF_RISK_HIGH,
	  "DELETE without WHERE on an existing table" },
	{ "update-without-where", DF_REVIEW_ALL, W, DF_RISK_MEDIUM,
	  "UPDATE without WHERE on an existing table" },
	/* backward-incompatible */
	{ "rename-table", DF_REVIEW_ALL, E, DF_RISK_HIGH, "renaming an existing table" },
	{ "rename-column", DF_REVIEW_ALL, E, DF_RISK_HIGH, "renaming a column of an existing table" },
	{ "rename-enum-value", PG, E, DF_RISK_HIGH,
	  "ALTER TYPE ... RENAME VALUE of a type the migration did not create "
	  "(code that writes the old label breaks)" },
	{ "drop-column-used-by-view", PG, E, DF_RISK_HIGH,
	  "DROP COLUMN of a column a view of the migration reads (fails; with "
	  "CASCADE, drops the view)" },
	{ "add-column-not-null", DF_REVIEW_ALL, E, DF_RISK_MEDIUM,
	  "ADD COLUMN ... NOT NULL without a default on an existing table" },
	{ "change-column-type", PG | MY, E, DF_RISK_HIGH,
	  "changing a column's type (PostgreSQL: unless binary-coercible)" },
	/* locks and rewrites (PostgreSQL) */
	{ "add-column-rewrite", PG, W, DF_RISK_MEDIUM,
	  "ADD COLUMN that rewrites the table: volatile default (any default before 11), "
	  "stored generated, identity or serial column" },
	{ "create-index-not-concurrently", PG, W, DF_RISK_MEDIUM,
	  "CREATE INDEX without CONCURRENTLY on an existing table" },
	{ "drop-index-not-concurrently", PG, W, DF_RISK_MEDIUM,
	  "DROP INDEX without CONCURRENTLY" },
	{ "concurrently-in-transaction", PG, E, DF_RISK_HIGH,
	  "CONCURRENTLY in a migration that runs in a transaction (it fails)" },
	{ "constraint-without-not-valid", PG, W, DF_RISK_MEDIUM,
	  "ADD FOREIGN KEY / CHECK without NOT VALID on an existing table" },
	{ "validate-in-same-transaction", PG, W, DF_RISK_MEDIUM,
	  "VALIDATE CONSTRAINT in the transaction that added it NOT VALID" },
	{ "constraint-builds-index", PG, W, DF_RISK_MEDIUM,
	  "ADD UNIQUE / PRIMARY KEY / EXCLUDE building its index under the table lock" },
	{ "set-not-null", PG, W, DF_RISK_MEDIUM,
	  "SET NOT NULL scanning the table (no validated CHECK (c IS NOT NULL) first)" },
	{ "vacuum-full", PG, W, DF_RISK_MEDIUM, "VACUUM FULL" },
	{ "refresh-matview-not-concurrently", PG, W, DF_RISK_MEDIUM,
	  "REFRESH MATERIALIZED VIEW without CONCURRENTLY (ACCESS EXCLUSIVE for "
	  "the whole refresh)" },
	{ "lock-table", PG, W, DF_RISK_MEDIUM,
	  "LOCK TABLE on an existing table, rated by mode (ACCESS EXCLUSIVE high; "
	  "EXCLUSIVE, SHARE ROW EXCLUSIVE, SHARE medium; weaker modes low)" },
	{ "cluster", PG, W, DF_RISK_MEDIUM, "CLUSTER" },
	{ "reindex-not-concurrently", PG, W, DF_RISK_MEDIUM,
	  "REINDEX without CONCURRENTLY (PostgreSQL 12 and later; not REINDEX SYSTEM)" },
	{ "alter-table-rewrite", PG, W, DF_RISK_MEDIUM,
	  "SET TABLESPACE, SET LOGGED/UNLOGGED, SET ACCESS METHOD: a full copy "
	  "under ACCESS EXCLUSIVE" },
	{ "detach-partition-not-concurrently", PG, W, DF_RISK_MEDIUM,
	  "DETACH PARTITION without CONCURRENTLY (ACCESS EXCLUSIVE on the parent)" },
	{ "concurrently-if-not-exists", PG, W, DF_RISK_MEDIUM,
	  "CREATE INDEX CONCURRENTLY IF NOT EXISTS (keeps an invalid index of a "
	  "failed run)" },
	{ "create-trigger", PG | MY, W, DF_RISK_MEDIUM,
	  "CREATE TRIGGER on an existing table (PostgreSQL: SHARE ROW EXCLUSIVE; "
	  "a cost on every write)" },
	{ "drop-not-null", PG, W, DF_RISK_LOW,
	  "DROP NOT NULL (instant, but hard to revert once NULLs are written)" },
	/* statements that fail */
	{ "cannot-run-in-transaction", PG, E, DF_RISK_HIGH,
	  "VACUUM, CREATE/DROP DATABASE, REINDEX DATABASE/SYSTEM, ALTER TYPE ... "
	  "ADD VALUE before 12 ... in a migration that runs in a transaction" },
	{ "enum-value-same-transaction", PG, E, DF_RISK_HIGH,
	  "an enum value used in the transaction that added it (PostgreSQL 12 and later)" },
	/* process */
	{ "lock-timeout-missing", PG, W, DF_RISK_LOW,
	  "a statement that takes a write-blocking lock on an existing table "
	  "with no SET lock_timeout before it" },
	{ "data-change-with-ddl", PG | MY, W, DF_RISK_MEDIUM,
	  "UPDATE/DELETE in the same transaction as DDL (MySQL: any DML with DDL)" },
	{ "transaction-nesting", PG | SL, W, DF_RISK_MEDIUM,
	  "BEGIN/COMMIT that nest or end the migration's transaction" },
	{ "uncommitted-transaction", PG | SL, W, DF_RISK_MEDIUM,
	  "BEGIN without COMMIT in a no-transaction migration" },
	/* MySQL */
	{ "mysql-algorithm-copy", MY, W, DF_RISK_MEDIUM, "ALGORITHM=COPY" },
	{ "mysql-lock-blocking", MY, W, DF_RISK_MEDIUM, "LOCK=SHARED or LOCK=EXCLUSIVE" },
	{ "mysql-fulltext-spatial-index", MY, W, DF_RISK_MEDIUM,
	  "FULLTEXT or SPATIAL index on an existing table (blocks writes; the "
	  "first FULLTEXT index rebuilds the table)" },
	{ "mysql-table-rebuild", MY, W, DF_RISK_MEDIUM,
	  "ALTER TABLE that rebuilds the table: ENUM/SET change, expression default, "
	  "stored generated column, ADD FOREIGN KEY, engine/charset conversion" },
	/* SQLite */
	{ "sqlite-table-rebuild", SL, E, DF_RISK_MEDIUM,
	  "ALTER TABLE that SQLite cannot do in place (needs the 12-step rebuild)" },
	/* parsing */
	{ "syntax-error", PG, E, DF_RISK_HIGH,
	  "a statement PostgreSQL's parser rejects (the migration would fail there)" },
	{ "unparsed-statement", PG, I, DF_RISK_LOW,
	  "a statement libpg_query cannot parse (reviewed on tokens only)" },
};

#undef W
#undef E
#undef I
#undef PG
#undef MY
#undef SL

const df_review_rule *df_review_rules(size_t *nr)
{
	*nr = sizeof(rules) / sizeof(rules[0]);
	return rules;
}

const df_review_rule *df_review_rule_find(const char *id)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].id, id))
			return &rules[i];
	return NULL;
}

const char *df_review_severity_name(df_review_severity s)
{
	switch (s) {
	case DF_REVIEW_INFO: return "info";
	case DF_REVIEW_WARNING: return "warning";
	case DF_REVIEW_ERROR: return "error";
	}
	return "?";
}

const char *df_review_risk_name(df_review_risk r)
{
	switch (r) {
	case DF_RISK_LOW: return "low";
	case DF_RISK_MEDIUM: return "medium";
	case DF_RISK_HIGH: return "high";
	}
	return "?";
}

int df_review_risk_parse(df_review_risk *out, const char *name)
{
	static const df_review_risk v[] = { DF_RISK_LOW, DF_RISK_MEDIUM, DF_RISK_HIGH };

	for (size_t i = 0; i < 3; i++)
		if (name && !strcasecmp(name, df_review_risk_name(v[i]))) {
			*out = v[i];
			return 0;
		}
	df_error_set(DF_EUSAGE, "unknown risk level '%s'", name ? name : "");
	df_error_hint("use low, medium or high");
	return DF_EUSAGE;
}

bool df_review_result_fails(const df_review_result *r, df_review_risk threshold)
{
	for (size_t i = 0; r && i < r->nr_findings; i++)
		if (df_review_risk_reaches(r->findings[i].risk, threshold))
			return true;
	return false;
}

void df_review_opts_init(df_review_opts *opts)
{
	df_review_opts init = DF_REVIEW_OPTS_INIT;

	*opts = init;
}

void df_review_result_free(df_review_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_findings; i++) {
		df_review_finding *f = &r->findings[i];

		free(f->file);
		free(f->statement);
		free(f->message);
		free(f->hint);
	}
	free(r->findings);
	df_strlist_release(&r->actions);
	free(r->file);
	free(r);
}

/* ---- helpers shared by the rule files --------------------------------------- */

char *df__fmt(const char *fmt, ...)
{
	va_list ap, cp;
	char *s;
	int n;

	va_start(ap, fmt);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || !(s = malloc((size_t)n + 1))) {
		va_end(ap);
		return NULL;
	}
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

bool df__rule_disabled(const rctx *ctx, const char *rule)
{
	const df_strlist *d = ctx->opts.disabled;

	for (size_t i = 0; d && i < d->nr; i++)
		if (d->v[i] && !strcmp(d->v[i], rule))
			return true;
	return false;
}

void df__finding(rctx *ctx, const char *rule, size_t off, int severity, int risk,
	char *message, char *hint)
{
	const df_review_rule *r = df_review_rule_find(rule);
	rfinding *f;

	if (!r || !message || !hint || df__rule_disabled(ctx, rule)) {
		if (!message || !hint)
			ctx->error = df_error_oom();
		free(message);
		free(hint);
		return;
	}
	if (ctx->nf == ctx->af) {
		size_t n = ctx->af ? ctx->af * 2 : 16;
		rfinding *v = realloc(ctx->f, n * sizeof(*v));

		if (!v) {
			ctx->error = df_error_oom();
			free(message);
			free(hint);
			return;
		}
		ctx->f = v;
		ctx->af = n;
	}
	f = &ctx->f[ctx->nf];
	f->rule = r->id;
	f->severity = severity >= 0 ? severity : (int)r->severity;
	f->risk = risk >= 0 ? risk : (int)r->risk;
	f->off = off < ctx->len ? off : ctx->len;
	f->stmt = ctx->cur_stmt;
	f->seq = ctx->nf;
	f->message = message;
	f->hint = hint;
	ctx->nf++;
}

int df__nameset_add(rnameset *set, const char *name)
{
	if (set->nr == set->alloc) {
		size_t n = set->alloc ? set->alloc * 2 : 8;
		rname *v = realloc(set->v, n * sizeof(*v));

		if (!v)
			return df_error_oom();
		set->v = v;
		set->alloc = n;
	}
	snprintf(set->v[set->nr++].s, RNAME_MAX, "%s", name);
	return 0;
}

bool df__nameset_has(const rnameset *set, df_dialect d, const char *name)
{
	if (!name[0])
		return false;
	for (size_t i = set->nr; i-- > 0;)
		if (df__name_eq(d, set->v[i].s, name))
			return true;
	return false;
}

void df__nameset_release(rnameset *set)
{
	free(set->v);
	set->v = NULL;
	set->nr = set->alloc = 0;
}

/* ---- rules shared by every dialect (on ops) --------------------------------- */

bool df__table_is_new(rctx *ctx, const char *table)
{
	const char *dot;

	if (df__nameset_has(&ctx->created, ctx->opts.dialect, table))
		return true;
	if (ctx->created_schema.nr && (dot = strrchr(table, '.'))) {
		rname schema;
		size_t n = (size_t)(dot - table);

		if (n >= RNAME_MAX)
			n = RNAME_MAX - 1;
		memcpy(schema.s, table, n);
		schema.s[n] = '\0';
		for (size_t i = 0; i < ctx->created_schema.nr; i++)
			if (!strcmp(ctx->created_schema.v[i].s, schema.s))
				return true;
	}
	return false;
}

static bool is_new(rctx *ctx, const char *table)
{
	return df__table_is_new(ctx, table);
}

void df__rules_common(rctx *ctx, const rstmt *st, const rop *op)
{
	df_dialect d = ctx->opts.dialect;
	const char *t = op->tab.s;

	switch (op->kind) {
	case OP_DROP_TABLE:
		if (is_new(ctx, op->obj.s) || (op->flags & OPF_TEMP))
			break;
		df__finding(ctx, "drop-table", st->off, -1, -1,
			df__fmt("drops table %s and all of its rows; the data is gone "
				"and running code that still uses the table breaks", op->obj.s),
			df__fmt("stop using %s in the application and deploy that first; "
				"take and verify a backup (devflow db backup --verify); "
				"drop it in a later migration, or rename it away first so "
				"it can be restored", op->obj.s));
		break;
	case OP_DROP_COLUMN:
		if (is_new(ctx, t))
			break;
		df__finding(ctx, "drop-column", st->off, -1, -1,
			d == DF_DIALECT_SQLITE ?
			df__fmt("drops column %s.%s and its data; SQLite (3.35+) also refuses "
				"the drop when the column is indexed, part of the PRIMARY KEY "
				"or a UNIQUE constraint, used by a foreign key, a CHECK, a "
				"generated column, a partial index, a view or a trigger",
				t, op->col.s) :
			d == DF_DIALECT_MYSQL ?
			df__fmt("drops column %s.%s and its data, rebuilding the table; "
				"running code that still reads or writes it breaks", t, op->col.s) :
			df__fmt("drops column %s.%s and its data (under an ACCESS EXCLUSIVE "
				"lock); running code that still reads or writes it breaks",
				t, op->col.s),
			d == DF_DIALECT_SQLITE ?
			df__fmt("expand-contract: stop using %s in the application and "
				"deploy first; drop dependent indexes, views and triggers "
				"before the column, or use the 12-step table rebuild when "
				"it is part of a key or constraint", op->col.s) :
			df__fmt("expand-contract: stop reading and writing %s in the "
				"application, deploy, then drop the column in a later "
				"migration after a backup", op->col.s));
		break;
	case OP_DROP_SCHEMA:
		if (df__nameset_has(&ctx->created_schema, d, op->obj.s))
			break;
		df__finding(ctx, "drop-schema", st->off, -1, -1,
			df__fmt("drops schema %s%s", op->obj.s, op->flags & OPF_CASCADE ?
				" and, with CASCADE, every table, view and function in it" :
				" (fails unless it is empty)"),
			df__fmt("take and verify a backup first; drop the objects one by "
				"one in reviewed migrations rather than with CASCADE"));
		break;
	case OP_DROP_DATABASE:
		df__finding(ctx, "drop-database", st->off, -1, -1,
			df__fmt("drops database %s and everything in it", op->obj.s),
			df__fmt("databases are not managed by migrations: drop it by hand, "
				"after a verified backup, if that is really intended"));
		break;
	case OP_TRUNCATE:
		if (is_new(ctx, t))
			break;
		df__finding(ctx, "truncate", st->off, -1, -1,
			df__fmt("empties %s%s; the rows cannot be recovered without a "
				"backup (and TRUNCATE takes an ACCESS EXCLUSIVE lock)", t,
				op->flags & OPF_CASCADE ?
				" and, with CASCADE, every table with a foreign key to it" : ""),
			df__fmt("take and verify a backup first; if only some rows must go, "
				"DELETE them with a WHERE clause, in batches"));
		break;
	case OP_DELETE:
		if (!(op->flags & OPF_NO_WHERE) || is_new(ctx, t))
			break;
		df__finding(ctx, "delete-without-where", st->off, -1, -1,
			df__fmt("deletes every row of %s", t),
			df__fmt("add a WHERE clause naming the rows to delete; delete in "
				"batches (WHERE id IN (SELECT id ... LIMIT 1000)) and take a "
				"backup first"));
		break;
	case OP_UPDATE:
		if (!(op->flags & OPF_NO_WHERE) || is_new(ctx, t))
			break;
		df__finding(ctx, "update-without-where", st->off, -1, -1,
			df__fmt("overwrites every row of %s (the old values are lost) and "
				"holds a lock on every row until it commits", t),
			df__fmt("add a WHERE clause (a backfill can use WHERE col IS NULL); "
				"update big tables in batches, in a migration marked "
				"-- devflow:no-transaction"));
		break;
	case OP_RENAME_TABLE:
		if (is_new(ctx, t))
			break;
		df__finding(ctx, "rename-table", st->off, -1, -1,
			df__fmt("renames table %s to %s: running code that uses the old "
				"name fails as soon as this commits", t, op->obj.s),
			df__fmt("expand-contract: create the new table (or a view named %s "
				"over the renamed table), move the application over, then "
				"drop the old name in a later migration", t));
		break;
	case OP_RENAME_COLUMN:
		if (is_new(ctx, t))
			break;
		df__finding(ctx, "rename-column", st->off, -1, -1,
			df__fmt("renames column %s.%s to %s: running code that uses the "
				"old name fails as soon as this commits", t, op->col.s, op->obj.s),
			df__fmt("expand-contract: add column %s, write both columns "
				"(application or trigger), backfill, switch reads, then drop "
				"%s in a later migration", op->obj.s, op->col.s));
		break;
	case OP_MODIFY_COLUMN:
		if (strcasecmp(op->col.s, op->obj.s) && !is_new(ctx, t))
			df__finding(ctx, "rename-column", st->off, -1, -1,
				df__fmt("CHANGE renames column %s.%s to %s: running code that "
					"uses the old name fails as soon as this runs", t,
					op->col.s, op->obj.s),
				df__fmt("expand-contract: add column %s, write both, backfill, "
					"switch reads, then drop %s in a later migration",
					op->obj.s, op->col.s));
		break;
	case OP_ADD_COLUMN:
		/* SQLite refuses it even on an empty table */
		if ((is_new(ctx, t) && d != DF_DIALECT_SQLITE) || !(op->flags & OPF_NOT_NULL) ||
		    (op->flags & (OPF_DEFAULT | OPF_GENERATED)))
			break;
		if (d == DF_DIALECT_MYSQL) {
			/* MySQL fills in the type's implicit default: no failure
			 * now, but wrong data and failing INSERTs of old code */
			df__finding(ctx, "add-column-not-null", st->off, DF_REVIEW_WARNING, -1,
				df__fmt("adds NOT NULL column %s to %s without a default: "
					"MySQL/MariaDB give every existing row the type's "
					"implicit default ('' or 0, which reads as real data), "
					"and INSERTs of application code that does not know "
					"the column yet fail in strict mode (\"Field '%s' "
					"doesn't have a default value\")", op->col.s, t, op->col.s),
				df__fmt("add the column with an explicit DEFAULT, or nullable; "
					"backfill it, deploy the code that writes it, then "
					"MODIFY it to NOT NULL"));
			break;
		}
		df__finding(ctx, "add-column-not-null", st->off,
			d == DF_DIALECT_SQLITE ? DF_REVIEW_ERROR : -1, -1,
			d == DF_DIALECT_SQLITE ?
			df__fmt("SQLite refuses to add NOT NULL column %s to %s without a "
				"non-NULL default: the migration fails", op->col.s, t) :
			df__fmt("adds NOT NULL column %s without a default: it fails as "
				"soon as %s has a row, and older application code that "
				"inserts rows without it breaks", op->col.s, t),
			df__fmt("add the column with a DEFAULT, or add it nullable, "
				"backfill it, then make it NOT NULL (PostgreSQL: a CHECK "
				"(%s IS NOT NULL) NOT VALID constraint, VALIDATE, then SET "
				"NOT NULL)", op->col.s));
		break;
	}
}

/* ---- the driver --------------------------------------------------------------- */

static int collect_op(void *p, const rstmt *st, const rop *op)
{
	rctx *ctx = p;

	if (ctx->nops == ctx->aops) {
		size_t n = ctx->aops ? ctx->aops * 2 : 8;
		rop *v = realloc(ctx->ops, n * sizeof(*v));

		if (!v)
			return df_error_oom();
		ctx->ops = v;
		ctx->aops = n;
	}
	ctx->ops[ctx->nops++] = *op;
	return 0;
}

static void tx_op(rctx *ctx, const rstmt *st, const rop *op)
{
	bool sqlite = ctx->opts.dialect == DF_DIALECT_SQLITE;

	if (ctx->opts.dialect == DF_DIALECT_MYSQL)
		return;
	switch (op->kind) {
	case OP_TX_BEGIN:
		if (ctx->in_tx && !ctx->explicit_tx) {
			/* only when the file could not be split as the runner splits
			 * it (runner_tx() found no BEGIN): the runner then fails on it */
			df__finding(ctx, "transaction-nesting", st->off, -1, -1,
				df__fmt("a BEGIN that devflow cannot tell from the file's "
					"statements (they do not split cleanly): a migration with "
					"its own BEGIN/COMMIT runs outside devflow's transaction "
					"only when its statements can be read"),
				df__fmt("fix the file so that its statements split (quotes, "
					"dollar quotes), or remove BEGIN/COMMIT and let devflow "
					"wrap the migration in one transaction"));
			ctx->explicit_tx = true;
		} else if (ctx->in_tx) {
			df__finding(ctx, "transaction-nesting", st->off,
				sqlite ? DF_REVIEW_ERROR : -1, -1,
				df__fmt("BEGIN inside a transaction the file already opened: %s",
					sqlite ? "SQLite refuses it and the migration fails" :
					"PostgreSQL ignores it, so the first COMMIT ends both"),
				df__fmt("remove the inner BEGIN (use SAVEPOINT for nesting)"));
		} else {
			ctx->in_tx = ctx->explicit_tx = true;
			ctx->segment++;
			ctx->begin_off = st->off;
			ctx->begin_stmt = ctx->nstmts - 1;
		}
		break;
	case OP_TX_COMMIT:
	case OP_TX_ROLLBACK:
		if (!ctx->in_tx) {
			df__finding(ctx, "transaction-nesting", st->off, -1, -1,
				df__fmt("%s without an open transaction: it does nothing but "
					"warn, and suggests the file's BEGIN/COMMIT pairs are off",
					op->kind == OP_TX_COMMIT ? "COMMIT" : "ROLLBACK"),
				df__fmt("remove it, or pair it with a BEGIN"));
		} else if (!ctx->explicit_tx) {
			df__finding(ctx, "transaction-nesting", st->off, -1, -1,
				df__fmt("a %s that devflow cannot tell from the file's "
					"statements (they do not split cleanly): a migration with "
					"its own BEGIN/COMMIT runs outside devflow's transaction "
					"only when its statements can be read",
					op->kind == OP_TX_COMMIT ? "COMMIT" : "ROLLBACK"),
				df__fmt("fix the file so that its statements split (quotes, "
					"dollar quotes), or remove BEGIN/COMMIT and let devflow "
					"wrap the migration in one transaction"));
		}
		ctx->in_tx = ctx->explicit_tx = false;
		ctx->segment++;
		break;
	}
}

/*
 * How the runner runs the file (src/core/runner.c, check_section): a
 * migration with its own BEGIN/COMMIT runs without a transaction of
 * devflow's (m->tx_control), and so does one whose only statement cannot
 * run in a transaction (`lone`).  Review starts from the same state.
 */
static void runner_tx(rctx *ctx)
{
	const df_stmt_list *l = &ctx->lx.pre;

	if (!ctx->lx.pre_ok)
		return;
	if (l->nr == 1 && ctx->opts.dialect == DF_DIALECT_POSTGRES &&
	    df__needs_no_tx(ctx->s + l->v[0].offset, l->v[0].len)) {
		ctx->opts.in_transaction = false;
		return;
	}
	for (size_t i = 0; i < l->nr; i++)
		if (df__tx_control(ctx->s + l->v[i].offset, l->v[i].len)) {
			ctx->opts.in_transaction = false;
			ctx->own_tx = true;
			return;
		}
}

/* In a file that does its own transaction control, the first change made
 * outside its BEGIN ... COMMIT commits by itself. */
static void outside_own_tx(rctx *ctx, const rstmt *st)
{
	bool changes = false;

	if (!ctx->own_tx || ctx->in_tx || ctx->own_tx_told)
		return;
	for (size_t i = 0; i < ctx->nops && !changes; i++)
		changes = df__op_changes_data(&ctx->ops[i]) || df__op_changes_schema(&ctx->ops[i]);
	if (!changes)
		return;
	ctx->own_tx_told = true;
	df__finding(ctx, "transaction-nesting", st->off, DF_REVIEW_INFO, DF_RISK_LOW,
		df__fmt("this migration has its own BEGIN/COMMIT, so devflow runs it "
			"without a transaction of its own: this statement, outside the "
			"file's BEGIN ... COMMIT, commits by itself, and a later failure "
			"leaves it applied"),
		df__fmt("move it between BEGIN and COMMIT, or remove the file's "
			"BEGIN/COMMIT so that devflow runs the whole migration in one "
			"transaction"));
}

/* Everything an op means for every dialect: actions, flags, state. */
static void op_common(rctx *ctx, const rstmt *st, const rop *op, df_buf *buf)
{
	df_review_result *res = ctx->res;

	df_buf_truncate(buf, 0);
	if (df__op_action(buf, ctx->s, st, op)) {
		if (df_buf_oom(buf) || df_strlist_push(&res->actions, buf->ptr) < 0)
			ctx->error = df_error_oom();
	}
	if (df__op_changes_data(op)) {
		res->changes_data = true;
		if (!ctx->has_first_dml) {
			ctx->has_first_dml = true;
			ctx->first_dml_off = st->off;
			ctx->first_dml_stmt = ctx->nstmts - 1;
		}
	}
	if (df__op_changes_schema(op))
		res->changes_schema = true;
	if (df__op_destroys_data(op))
		res->destroys_data = true;
	switch (op->kind) {
	case OP_CREATE_TABLE:
		if (df__nameset_add(&ctx->created, op->tab.s) < 0)
			ctx->error = DF_EINTERNAL;
		break;
	case OP_CREATE_INDEX:
		if (op->obj.s[0] && df__nameset_add(&ctx->created_idx, op->obj.s) < 0)
			ctx->error = DF_EINTERNAL;
		break;
	case OP_CREATE:
		if (op->what && !strcmp(op->what, "schema") && op->obj.s[0] &&
		    df__nameset_add(&ctx->created_schema, op->obj.s) < 0)
			ctx->error = DF_EINTERNAL;
		break;
	case OP_RENAME_TABLE:
		if (is_new(ctx, op->tab.s) &&
		    df__nameset_add(&ctx->created, op->obj.s) < 0)
			ctx->error = DF_EINTERNAL;
		break;
	case OP_ALTER:
		/* ALTER INDEX/VIEW/SEQUENCE x RENAME TO y (also accepted for tables) */
		if (op->col.s[0] && is_new(ctx, op->obj.s) &&
		    df__nameset_add(&ctx->created, op->col.s) < 0)
			ctx->error = DF_EINTERNAL;
		if (op->col.s[0] &&
		    df__nameset_has(&ctx->created_idx, ctx->opts.dialect, op->obj.s) &&
		    df__nameset_add(&ctx->created_idx, op->col.s) < 0)
			ctx->error = DF_EINTERNAL;
		break;
	case OP_TX_BEGIN:
	case OP_TX_COMMIT:
	case OP_TX_ROLLBACK:
		tx_op(ctx, st, op);
		break;
	}
}

static bool directive_has(const char *s, size_t len, const char *word)
{
	return memmem(s, len, word, strlen(word)) != NULL;
}

/* Does a directive comment allow `rule`? */
static bool allows(const char *c, size_t len, const char *rule)
{
	const char *p = memmem(c, len, "devflow:allow", 13), *e = c + len;
	size_t rl = strlen(rule);

	if (!p)
		return false;
	p += 13;
	while (p < e) {
		const char *w;

		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		w = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != ',' && *p != '\n' &&
		       *p != '\r' && !(*p == '*' && p + 1 < e && p[1] == '/'))
			p++;
		if (p == w)
			break;
		if (((size_t)(p - w) == rl && !memcmp(w, rule, rl)) ||
		    ((size_t)(p - w) == 3 && !memcmp(w, "all", 3)))
			return true;
		if (p < e && (*p == '\n' || *p == '\r' || *p == '*'))
			break;
	}
	return false;
}

/* The region of comments that belong to statement i: from the line after
 * the previous statement's terminator to the end of the line of its own. */
static size_t own_end(const rctx *ctx, size_t i)
{
	size_t e = ctx->stmts[i].end;
	size_t limit = i + 1 < ctx->nstmts ? ctx->stmts[i + 1].off : ctx->len;
	const char *nl;

	if (e >= limit)
		return limit;
	nl = memchr(ctx->s + e, '\n', limit - e);
	return nl ? (size_t)(nl - ctx->s) + 1 : limit;
}

static void apply_allows(rctx *ctx)
{
	const rlex *lx = &ctx->lx;
	size_t k = 0;

	if (!lx->ndir)
		return;
	for (size_t i = 0; i < ctx->nf; i++) {
		rfinding *f = &ctx->f[i];
		size_t lo = f->stmt ? own_end(ctx, f->stmt - 1) : 0;
		size_t hi = own_end(ctx, f->stmt);
		bool allowed = false;

		for (size_t j = 0; j < lx->ndir && !allowed; j++) {
			const rdirective *dv = &lx->dir[j];

			if (dv->off >= lo && dv->off < hi)
				allowed = allows(ctx->s + dv->off, dv->len, f->rule);
		}
		if (allowed) {
			free(f->message);
			free(f->hint);
		} else {
			ctx->f[k++] = *f;
		}
	}
	ctx->nf = k;
}

static int cmp_finding(const void *pa, const void *pb)
{
	const rfinding *a = pa, *b = pb;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The statement's text with white space collapsed, at most ~200 bytes. */
static char *stmt_text(const char *s, const rstmt_rec *r)
{
	df_buf b = DF_BUF_INIT;
	bool space = false;

	for (size_t i = r->off; i < r->off + r->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = true;
			continue;
		}
		if (b.size >= 200) {
			size_t k = b.size;

			/* cut on a UTF-8 boundary */
			while (k > 0 && ((unsigned char)b.ptr[k] & 0xC0) == 0x80 &&
			       k > b.size - 4)
				k--;
			df_buf_truncate(&b, k);
			df_buf_puts(&b, "...");
			break;
		}
		if (space && b.size)
			df_buf_putc(&b, ' ');
		space = false;
		df_buf_putc(&b, (char)c);
	}
	return df_buf_detach(&b);
}

static int build_findings(rctx *ctx)
{
	df_review_result *res = ctx->res;
	size_t base = 0;
	int base_line = ctx->opts.base_line, base_col = ctx->opts.base_column;

	if (!ctx->nf)
		return 0;
	if (ctx->nf)
		qsort(ctx->f, ctx->nf, sizeof(*ctx->f), cmp_finding);
	if (!(res->findings = calloc(ctx->nf, sizeof(*res->findings))))
		return df_error_oom();
	for (size_t i = 0; i < ctx->nf; i++) {
		rfinding *f = &ctx->f[i];
		df_review_finding *o = &res->findings[res->nr_findings];
		rstmt_rec *r = &ctx->stmts[f->stmt];
		int line, col;

		/* positions: df_sql_position() from the previous finding on */
		df_sql_position(ctx->s + base, ctx->len - base, f->off - base, &line, &col);
		if (line == 1)
			col = base_col + col - 1;
		base_line += line - 1;
		base_col = col;
		base = f->off;
		o->line = base_line;
		o->column = col;
		o->rule = f->rule;
		o->severity = (df_review_severity)f->severity;
		o->risk = (df_review_risk)f->risk;
		if (!r->text && !(r->text = stmt_text(ctx->s, r)))
			return df_error_oom();
		if (!(o->statement = strdup(r->text)) ||
		    (ctx->file && !(o->file = strdup(ctx->file))))
			return df_error_oom();
		o->message = f->message;
		o->hint = f->hint;
		f->message = f->hint = NULL;
		res->nr_findings++;
		if (o->risk > res->max_risk)
			res->max_risk = o->risk;
	}
	return 0;
}

static int push_stmt(rctx *ctx, const rstmt *st)
{
	if (ctx->nstmts == ctx->astmts) {
		size_t n = ctx->astmts ? ctx->astmts * 2 : 32;
		rstmt_rec *v = realloc(ctx->stmts, n * sizeof(*v));

		if (!v)
			return df_error_oom();
		ctx->stmts = v;
		ctx->astmts = n;
	}
	ctx->stmts[ctx->nstmts].off = st->off;
	ctx->stmts[ctx->nstmts].len = st->len;
	ctx->stmts[ctx->nstmts].end = st->end;
	ctx->stmts[ctx->nstmts].text = NULL;
	ctx->nstmts++;
	return 0;
}

static void finish(rctx *ctx)
{
	if (ctx->opts.dialect != DF_DIALECT_MYSQL && ctx->in_tx && ctx->explicit_tx &&
	    !ctx->opts.in_transaction && ctx->nstmts) {
		ctx->cur_stmt = ctx->begin_stmt;
		df__finding(ctx, "uncommitted-transaction", ctx->begin_off, -1, -1,
			df__fmt("BEGIN without a COMMIT: in a no-transaction migration "
				"devflow does not commit for you, and the open transaction "
				"is rolled back when the session ends"),
			df__fmt("end the transaction with COMMIT"));
	}
	switch (ctx->opts.dialect) {
	case DF_DIALECT_POSTGRES:
		df__pg_finish(ctx);
		break;
	case DF_DIALECT_MYSQL:
		df__mysql_finish(ctx);
		break;
	case DF_DIALECT_SQLITE:
		break;
	}
}

int df_review_run(df_review_result **out, const df_review_opts *opts,
	const char *file, const char *sql, size_t len)
{
	rctx ctx;
	df_review_result *res;
	df_buf buf = DF_BUF_INIT;
	rstmt st;
	int r = 0;

	*out = NULL;
	memset(&ctx, 0, sizeof(ctx));
	if (opts)
		ctx.opts = *opts;
	else
		df_review_opts_init(&ctx.opts);
	if (ctx.opts.pg_version <= 0)
		ctx.opts.pg_version = 15;
	if (ctx.opts.base_line <= 0)
		ctx.opts.base_line = 1;
	if (ctx.opts.base_column <= 0)
		ctx.opts.base_column = 1;
	if (!sql)
		len = 0;
	ctx.s = sql ? sql : "";
	ctx.len = len;
	ctx.file = file;
	if (!(res = calloc(1, sizeof(*res))) || (file && !(res->file = strdup(file)))) {
		free(res);
		return df_error_oom();
	}
	res->dialect = ctx.opts.dialect;
	ctx.res = res;
	df__rlex_init(&ctx.lx, ctx.opts.dialect, ctx.s, len);
	ctx.lx.want_directives = true;
	df__rlex_presplit(&ctx.lx);

	while (!ctx.error && (r = df__rlex_next(&ctx.lx, &st)) > 0) {
		if (ctx.nstmts == 0) {
			/* -- devflow:no-transaction among the leading comments */
			for (size_t j = 0; j < ctx.lx.ndir; j++)
				if (ctx.lx.dir[j].off < st.off &&
				    directive_has(ctx.s + ctx.lx.dir[j].off, ctx.lx.dir[j].len,
						  "devflow:no-transaction"))
					ctx.opts.in_transaction = false;
			if (ctx.opts.in_transaction && ctx.opts.dialect != DF_DIALECT_MYSQL)
				runner_tx(&ctx);
			ctx.in_tx = ctx.opts.in_transaction;
		}
		if ((r = push_stmt(&ctx, &st)) < 0)
			break;
		res->statements++;
		ctx.cur_stmt = ctx.nstmts - 1;
		ctx.nops = 0;
		if ((r = df__analyze(ctx.s, ctx.opts.dialect, &st, collect_op, &ctx)) < 0)
			break;
		if (ctx.opts.dialect == DF_DIALECT_POSTGRES)
			df__pg_stmt(&ctx, &st);
		for (size_t i = 0; i < ctx.nops; i++) {
			if (ctx.opts.dialect == DF_DIALECT_MYSQL)
				df__mysql_op(&ctx, &st, &ctx.ops[i]);
			else if (ctx.opts.dialect == DF_DIALECT_SQLITE)
				df__sqlite_op(&ctx, &st, &ctx.ops[i]);
			op_common(&ctx, &st, &ctx.ops[i], &buf);
		}
		outside_own_tx(&ctx, &st);
	}
	if (r >= 0 && !ctx.error && (r = df__actions_merge(&res->actions, 0)) < 0)
		ctx.error = r;
	if (r >= 0 && !ctx.error) {
		finish(&ctx);
		apply_allows(&ctx);
		if (!ctx.error)
			r = build_findings(&ctx);
	}
	if (ctx.error && r >= 0)
		r = ctx.error;

	for (size_t i = 0; i < ctx.nf; i++) {
		free(ctx.f[i].message);
		free(ctx.f[i].hint);
	}
	free(ctx.f);
	for (size_t i = 0; i < ctx.nstmts; i++)
		free(ctx.stmts[i].text);
	free(ctx.stmts);
	free(ctx.ops);
	df__nameset_release(&ctx.created);
	df__nameset_release(&ctx.created_idx);
	df__nameset_release(&ctx.created_schema);
	df__pg_release(&ctx);
	df__rlex_release(&ctx.lx);
	df_buf_release(&buf);
	if (r < 0) {
		df_review_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}
