/*
 * SQLite rules, on ops and tokens.
 *
 * SQLite's ALTER TABLE only renames tables and columns, adds columns (with
 * limits) and drops columns (3.35+, with limits).  Anything else has to be
 * done with the 12-step procedure of https://sqlite.org/lang_altertable.html:
 * create the new table, copy the rows, drop the old one, rename, rebuild
 * indexes, triggers and views.
 */
#include <string.h>

#include "review/review_int.h"
#include "util/banned.h"

#define REBUILD_HINT \
	"use SQLite's 12-step table rebuild: PRAGMA foreign_keys=OFF; BEGIN; " \
	"CREATE TABLE new_%s (...the new definition...); INSERT INTO new_%s " \
	"SELECT ... FROM %s; DROP TABLE %s; ALTER TABLE new_%s RENAME TO %s; " \
	"recreate its indexes, triggers and views; PRAGMA foreign_key_check; " \
	"COMMIT; PRAGMA foreign_keys=ON"

static void cannot(rctx *ctx, const rstmt *st, const rop *op, const char *what)
{
	const char *t = op->tab.s[0] ? op->tab.s : "t";

	df__finding(ctx, "sqlite-table-rebuild", st->off, -1, -1,
		df__fmt("SQLite's ALTER TABLE cannot %s: the statement fails", what),
		df__fmt(REBUILD_HINT, t, t, t, t, t, t));
}

void df__sqlite_op(rctx *ctx, const rstmt *st, const rop *op)
{
	df__rules_common(ctx, st, op);
	switch (op->kind) {
	case OP_COLUMN_TYPE:
		cannot(ctx, st, op, "change a column's type");
		break;
	case OP_SET_NOT_NULL:
	case OP_DROP_NOT_NULL:
		cannot(ctx, st, op, "change a column's NOT NULL constraint");
		break;
	case OP_SET_DEFAULT:
	case OP_DROP_DEFAULT:
		cannot(ctx, st, op, "change a column's default");
		break;
	case OP_ADD_CONSTRAINT:
		cannot(ctx, st, op, "add a constraint, key or index to an existing table");
		break;
	case OP_DROP_CONSTRAINT:
		cannot(ctx, st, op, "drop a constraint");
		break;
	case OP_VALIDATE_CONSTRAINT:
	case OP_MODIFY_COLUMN:
	case OP_TABLE_OPTION:
		cannot(ctx, st, op, "do this");
		break;
	case OP_ALTER_TABLE_OTHER:
		if (op->lo < op->hi)
			cannot(ctx, st, op, "do this (it only renames, adds and drops columns)");
		break;
	case OP_ADD_COLUMN:
		if (op->flags & (OPF_PK | OPF_INLINE_UNIQUE))
			cannot(ctx, st, op, "add a PRIMARY KEY or UNIQUE column");
		else if ((op->flags & OPF_STORED) && (op->flags & OPF_GENERATED))
			cannot(ctx, st, op, "add a STORED generated column (VIRTUAL is allowed)");
		else if (op->flags & OPF_EXPR_DEFAULT)
			cannot(ctx, st, op, "add a column whose default is not constant "
				"(CURRENT_TIMESTAMP, an expression in parentheses)");
		break;
	default:
		break;
	}
}
