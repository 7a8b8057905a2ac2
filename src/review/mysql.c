/*
 * MySQL / MariaDB rules, on ops and tokens (no parser).
 *
 * InnoDB runs most ALTER TABLE operations INSTANT or INPLACE with LOCK=NONE;
 * what hurts is what forces a table copy (ALGORITHM=COPY, or an operation
 * that only COPY supports) or a lock that stops writes, and that DDL
 * commits implicitly, so a migration that mixes DDL and data changes cannot
 * be rolled back.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "review/review_int.h"
#include "util/banned.h"

#define IS(i, w) TK(ctx->s, st, (i), w)

static bool is_new(rctx *ctx, const char *tab)
{
	return df__table_is_new(ctx, tab);
}

/* ALGORITHM=COPY and LOCK=SHARED|EXCLUSIVE anywhere in the statement
 * (ALTER TABLE, CREATE INDEX, DROP INDEX accept them). */
static void scan_clauses(rctx *ctx, const rstmt *st, const char *tab)
{
	if (ctx->my_scanned == ctx->cur_stmt + 1)
		return;
	ctx->my_scanned = ctx->cur_stmt + 1;
	for (size_t i = 0; i + 1 < st->ntok; i++) {
		size_t v;

		if (st->tok[i].depth != 0 || (!IS(i, "algorithm") && !IS(i, "lock")))
			continue;
		v = df__tok_ch(st, i + 1, '=') ? i + 2 : i + 1;
		if (IS(i, "algorithm") && IS(v, "copy"))
			df__finding(ctx, "mysql-algorithm-copy", st->tok[i].off, -1, -1,
				df__fmt("ALGORITHM=COPY copies %s row by row into a new table; "
					"writes are blocked for the whole copy and it needs "
					"space for a second copy", tab[0] ? tab : "the table"),
				df__fmt("drop ALGORITHM=COPY: ask for ALGORITHM=INSTANT or "
					"ALGORITHM=INPLACE, LOCK=NONE so MySQL refuses instead "
					"of silently copying; for big tables use gh-ost or "
					"pt-online-schema-change"));
		else if (IS(i, "lock") && (IS(v, "shared") || IS(v, "exclusive")))
			df__finding(ctx, "mysql-lock-blocking", st->tok[i].off, -1, -1,
				df__fmt("LOCK=%s blocks %s on %s for the whole operation",
					IS(v, "shared") ? "SHARED" : "EXCLUSIVE",
					IS(v, "shared") ? "writes" : "reads and writes",
					tab[0] ? tab : "the table"),
				df__fmt("use LOCK=NONE (MySQL then refuses if the change cannot "
					"run online), or an online schema change tool"));
	}
}

static void rebuild(rctx *ctx, const rstmt *st, const char *tab, const char *why,
	const char *hint)
{
	df__finding(ctx, "mysql-table-rebuild", st->off, -1, -1,
		df__fmt("%s: MySQL rebuilds %s (ALGORITHM=COPY or a full INPLACE "
			"rebuild), which takes time proportional to the table and, for "
			"COPY, blocks writes", why, tab),
		df__fmt("%s", hint));
}

/* Column definition checks (ADD COLUMN, MODIFY, CHANGE). */
static void column_def(rctx *ctx, const rstmt *st, const rop *op)
{
	const char *tab = op->tab.s;

	for (size_t k = op->type_lo; k < op->hi && k < st->ntok; k++) {
		if (st->tok[k].depth != st->tok[op->type_lo < st->ntok ? op->type_lo : 0].depth)
			continue;
		if (IS(k, "default") && df__tok_ch(st, k + 1, '(')) {
			rebuild(ctx, st, tab, "an expression default (DEFAULT (...)) "
				"cannot be added in place",
				"add the column with a constant default (or none) and fill "
				"it in batches; set the expression default afterwards on an "
				"empty or small table only");
			break;
		}
	}
	if ((op->flags & OPF_STORED) && (op->flags & OPF_GENERATED))
		rebuild(ctx, st, tab, "a STORED generated column is computed for "
			"every row",
			"use a VIRTUAL generated column (instant), and index it if "
			"needed; or fill a plain column in batches");
	else if (op->kind == OP_ADD_COLUMN && (op->flags & OPF_GENERATED) &&
		 !(op->flags & OPF_STORED)) {
		for (size_t k = op->type_lo; k < op->hi && k < st->ntok; k++)
			if (IS(k, "auto_increment")) {
				rebuild(ctx, st, tab, "adding an AUTO_INCREMENT column "
					"numbers every row",
					"add the column during a quiet window, or use an online "
					"schema change tool (gh-ost, pt-online-schema-change)");
				break;
			}
	}
}

/* ---- MODIFY / CHANGE -------------------------------------------------- */

#define ENUM_MAX 64

/* The values of ENUM('a','b') / SET(...): from tokens [lo, hi). */
static size_t enum_values_tok(rctx *ctx, const rstmt *st, size_t lo, size_t hi,
	char v[][RNAME_MAX])
{
	size_t n = 0;

	for (size_t k = lo; k < hi && k < st->ntok && n < ENUM_MAX; k++) {
		const rtok *t = &st->tok[k];
		size_t o = 0;

		if (t->kind != RT_STRING || t->len < 2)
			continue;
		for (size_t i = 1; i + 1 < t->len && o + 1 < RNAME_MAX; i++) {
			char c = ctx->s[t->off + i];

			if (c == ctx->s[t->off] && i + 2 < t->len && ctx->s[t->off + i + 1] == c)
				i++;    /* a doubled quote */
			v[n][o++] = c;
		}
		v[n++][o] = '\0';
	}
	return n;
}

/* The values of information_schema's COLUMN_TYPE "enum('a','b')". */
static size_t enum_values_str(const char *s, char v[][RNAME_MAX])
{
	size_t n = 0;

	while ((s = strchr(s, '\'')) && n < ENUM_MAX) {
		size_t o = 0;

		for (s++; *s; s++) {
			if (*s == '\'' && s[1] == '\'') {
				s++;
			} else if (*s == '\'') {
				s++;
				break;
			}
			if (o + 1 < RNAME_MAX)
				v[n][o++] = *s;
		}
		v[n++][o] = '\0';
	}
	return n;
}

/* Same type text, ignoring case and spaces ("INT" = "int", "DECIMAL(12, 2)"
 * = "decimal(12,2)"); MariaDB's and old MySQL's display widths ("int(11)")
 * match the bare integer types. */
static bool same_type(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a == '(' && !*b && strspn(a + 1, "0123456789") && strchr(a, ')') &&
		    !strchr(a, ','))
			return true;    /* int(11) vs int */
		if (*b == '(' && !*a && strspn(b + 1, "0123456789") && strchr(b, ')') &&
		    !strchr(b, ','))
			return true;
		if (!*a || !*b)
			return *a == *b;
		if ((*a | 0x20) != (*b | 0x20))
			return false;
		a++;
		b++;
	}
}

/*
 * MODIFY / CHANGE restate a column's whole definition.  Say what it
 * changes: its ENUM/SET values (compared with the current ones when the
 * target is known), its nullability, its default, or its type.
 */
static void modify_column(rctx *ctx, const rstmt *st, const rop *op, const char *type,
	size_t type_hi)
{
	const char *tab = op->tab.s, *verb = strcasecmp(op->col.s, op->obj.s) ? "CHANGE" : "MODIFY";
	char old[512] = "";
	bool known = ctx->opts.column_type &&
		ctx->opts.column_type(old, sizeof(old), tab, op->col.s,
			ctx->opts.column_type_payload) == 0 && old[0];
	bool not_null = false, null = false, deflt = false;
	uint16_t depth = op->type_lo < st->ntok ? st->tok[op->type_lo].depth : 0;

	for (size_t k = type_hi; k < op->hi && k < st->ntok; k++) {
		if (st->tok[k].depth != depth)
			continue;
		if (IS(k, "not") && IS(k + 1, "null"))
			not_null = true, k++;
		else if (IS(k, "null"))
			null = true;
		else if (IS(k, "default"))
			deflt = true;
	}
	if (IS(op->type_lo, "enum") || IS(op->type_lo, "set")) {
		char nv[ENUM_MAX][RNAME_MAX], ov[ENUM_MAX][RNAME_MAX];   /* 16 kB: threads */
		bool is_enum = IS(op->type_lo, "enum");
		size_t nn = enum_values_tok(ctx, st, op->type_lo + 1, type_hi, nv), no = 0;
		bool prefix = false;

		if (known && !strncasecmp(old, is_enum ? "enum(" : "set(", is_enum ? 5 : 4)) {
			no = enum_values_str(old, ov);
			prefix = no <= nn && no < ENUM_MAX && nn < ENUM_MAX;
			for (size_t i = 0; prefix && i < no; i++)
				prefix = !strcmp(ov[i], nv[i]);
			/* the storage size changes past 255 ENUM values, and at 8, 16,
			 * 24, 32 SET members: then it is a rebuild */
			if (prefix && (is_enum ? (no <= 255) != (nn <= 255) :
				       (no + 7) / 8 != (nn + 7) / 8))
				prefix = false;
		}
		if (prefix) {
			df__finding(ctx, "mysql-table-rebuild", st->off, DF_REVIEW_INFO, DF_RISK_LOW,
				nn == no ?
				df__fmt("%s restates %s.%s with its current %s values (%s): "
					"MySQL changes only metadata, no rebuild", verb, tab,
					op->col.s, is_enum ? "ENUM" : "SET", old) :
				df__fmt("%s only appends %zu value%s at the end of the %s list "
					"of %s.%s (now %s): MySQL changes only metadata "
					"(ALGORITHM=INSTANT), no rebuild", verb, nn - no,
					nn - no == 1 ? "" : "s", is_enum ? "ENUM" : "SET", tab,
					op->col.s, old),
				df__fmt("add ALGORITHM=INSTANT so that MySQL refuses instead of "
					"rebuilding if that ever changes"));
		} else if (known && no) {
			rebuild(ctx, st, tab, is_enum ?
				"the new ENUM list removes, renames or reorders current values "
				"(it does not only append at the end), so redefining the column" :
				"the new SET list removes, renames or reorders current members "
				"(it does not only append at the end), so redefining the column",
				"only append new values at the end of the list (instant), "
				"never reorder or remove values in place");
		} else {
			rebuild(ctx, st, tab, "redefining an ENUM/SET column rebuilds "
				"the table unless values are only appended at the end (the "
				"current list is not known here: review against the target "
				"with --env to compare)",
				"only append new values at the end of the list (instant), "
				"never reorder or remove values in place");
		}
		return;
	}
	if (known && same_type(old, type)) {
		/* the type is restated as it is: only nullability / default change */
		if (not_null || null)
			df__finding(ctx, "change-column-type", st->off, DF_REVIEW_WARNING,
				DF_RISK_MEDIUM,
				df__fmt("%s keeps %s.%s's type (%s) but makes it %s: MySQL "
					"rebuilds the table in place (INPLACE) to change "
					"nullability%s", verb, tab, op->col.s, old,
					not_null ? "NOT NULL" : "nullable",
					not_null ? ", and the statement fails if a row holds NULL "
					"(or, without strict mode, stores 0/'' instead)" : ""),
				df__fmt("%s", not_null ? "fill the NULLs in batches first; "
					"add ALGORITHM=INPLACE, LOCK=NONE so that writes go on "
					"during the rebuild" : "add ALGORITHM=INPLACE, LOCK=NONE "
					"so that writes go on during the rebuild"));
		else if (deflt)
			df__finding(ctx, "change-column-type", st->off, DF_REVIEW_INFO, DF_RISK_LOW,
				df__fmt("%s keeps %s.%s's type (%s) and changes only its "
					"default: metadata only, no rebuild", verb, tab, op->col.s, old),
				df__fmt("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT ... says "
					"the same without restating the column", tab, op->col.s));
		return;
	}
	df__finding(ctx, "change-column-type", st->off, DF_REVIEW_WARNING, DF_RISK_MEDIUM,
		known ?
		df__fmt("%s changes %s.%s's type from %s to %s%s: MySQL copies the "
			"whole table (ALGORITHM=COPY) and blocks writes, and running code "
			"may not expect the new type", verb, tab, op->col.s, old, type,
			not_null ? " and makes it NOT NULL" : null ? " and makes it nullable" : "") :
		(not_null || null) ?
		df__fmt("%s restates column %s.%s as %s %s: it sets the column's "
			"nullability (a rebuild in place when it changes; with NOT NULL "
			"the statement fails if a row holds NULL), and if the type, length "
			"or charset also changes, MySQL copies the whole table "
			"(ALGORITHM=COPY) and blocks writes", verb, tab, op->col.s, type,
			not_null ? "NOT NULL" : "NULL") :
		df__fmt("%s restates column %s.%s as %s: if its type, length "
			"or charset changes, MySQL copies the whole table "
			"(ALGORITHM=COPY) and blocks writes, and running code "
			"may not expect the new type", verb, tab, op->col.s, type),
		df__fmt("add ALGORITHM=INPLACE, LOCK=NONE (or ALGORITHM="
			"INSTANT) so MySQL refuses instead of copying; for a "
			"real type change use expand-contract or gh-ost / "
			"pt-online-schema-change"));
}

void df__mysql_op(rctx *ctx, const rstmt *st, const rop *op)
{
	const char *tab = op->tab.s;

	df__rules_common(ctx, st, op);
	if (op->kind == OP_CREATE && op->what && !strcmp(op->what, "trigger") &&
	    op->tab.s[0] && !is_new(ctx, op->tab.s)) {
		df__finding(ctx, "create-trigger", st->off, -1, -1,
			df__fmt("CREATE TRIGGER %s waits for a metadata lock on %s (queries "
				"queue behind it while it waits), and from then on the "
				"trigger runs for every row written to %s, adding its cost "
				"to every write", op->obj.s, op->tab.s, op->tab.s),
			df__fmt("set a short lock_wait_timeout, keep the trigger body cheap, "
				"and measure the write path of %s with the trigger on a copy "
				"of production data first", op->tab.s));
		return;
	}
	switch (op->kind) {
	case OP_ADD_COLUMN:
	case OP_MODIFY_COLUMN:
	case OP_ADD_CONSTRAINT:
	case OP_DROP_CONSTRAINT:
	case OP_DROP_COLUMN:
	case OP_ALTER_TABLE_OTHER:
	case OP_TABLE_OPTION:
	case OP_RENAME_COLUMN:
	case OP_CREATE_INDEX:
	case OP_DROP_INDEX:
		scan_clauses(ctx, st, tab[0] ? tab : op->obj.s);
		break;
	case OP_SET:
		if (!strcmp(op->col.s, "foreign_key_checks") ||
		    !strcmp(op->col.s, "@@foreign_key_checks") ||
		    !strcmp(op->col.s, "@@session.foreign_key_checks"))
			ctx->my_fk_checks_off = !strcmp(op->obj.s, "0") ||
				!strcmp(op->obj.s, "off") || !strcmp(op->obj.s, "false");
		return;
	case OP_INSERT: case OP_UPDATE: case OP_DELETE: case OP_MERGE:
	case OP_TRUNCATE: case OP_COPY_IN:
		if (!is_new(ctx, tab))
			ctx->my_dml_existing = true;
		return;
	default:
		return;
	}
	if (is_new(ctx, tab))
		return;
	if ((op->kind == OP_CREATE_INDEX || (op->kind == OP_ADD_CONSTRAINT &&
	     op->what && !strcmp(op->what, "index"))) && (op->flags & OPF_FULLTEXT))
		df__finding(ctx, "mysql-fulltext-spatial-index", st->off, -1, -1,
			df__fmt("a FULLTEXT or SPATIAL index cannot be built with LOCK=NONE: "
				"writes to %s block for the whole build (LOCK=SHARED), and "
				"the first FULLTEXT index of a table rebuilds it to add "
				"FTS_DOC_ID", tab),
			df__fmt("build it in a quiet window, or on a copy with gh-ost / "
				"pt-online-schema-change; create the table with an "
				"FTS_DOC_ID column up front to avoid the rebuild"));
	switch (op->kind) {
	case OP_ADD_COLUMN:
		column_def(ctx, st, op);
		break;
	case OP_MODIFY_COLUMN: {
		df_buf type = DF_BUF_INIT;
		size_t hi = op->type_lo;

		while (hi < op->hi && hi < st->ntok && st->tok[hi].kind != RT_WORD)
			hi++;
		while (hi < op->hi && hi < st->ntok &&
		       !IS(hi, "not") && !IS(hi, "null") && !IS(hi, "default") &&
		       !IS(hi, "comment") && !IS(hi, "after") && !IS(hi, "first") &&
		       !IS(hi, "generated") && !IS(hi, "as") && !IS(hi, "collate") &&
		       !IS(hi, "character") && !IS(hi, "charset") &&
		       !IS(hi, "auto_increment") && !IS(hi, "unsigned") &&
		       !IS(hi, "primary") && !IS(hi, "unique") && !IS(hi, "invisible") &&
		       !IS(hi, "visible") && !IS(hi, "check") && !IS(hi, "references"))
			hi++;
		df__tok_text(&type, ctx->s, st, op->type_lo, hi, 60);
		modify_column(ctx, st, op, type.size ? type.ptr : "?", hi);
		df_buf_release(&type);
		column_def(ctx, st, op);
		break;
	}
	case OP_ADD_CONSTRAINT:
		if (!strcmp(op->what, "foreign key") && !ctx->my_fk_checks_off)
			rebuild(ctx, st, tab, "ADD FOREIGN KEY with foreign_key_checks on "
				"only runs with ALGORITHM=COPY",
				"SET foreign_key_checks = 0 before ADD FOREIGN KEY (INPLACE, "
				"no copy; existing rows are then not checked: verify them "
				"with a query first), and set it back to 1 afterwards");
		else if (!strcmp(op->what, "primary key"))
			rebuild(ctx, st, tab, "ADD PRIMARY KEY reorganises the clustered "
				"index",
				"add the primary key while the table is small, or with an "
				"online schema change tool");
		break;
	case OP_DROP_CONSTRAINT:
		if (!strcmp(op->what, "primary key"))
			rebuild(ctx, st, tab, "DROP PRIMARY KEY reorganises the clustered "
				"index",
				"drop and add the primary key in the same ALTER TABLE, with an "
				"online schema change tool for big tables");
		break;
	case OP_TABLE_OPTION:
		if (IS(op->lo, "engine") || IS(op->lo, "convert") || IS(op->lo, "force") ||
		    IS(op->lo, "order") || IS(op->lo, "row_format")) {
			df_buf what = DF_BUF_INIT;

			df__tok_text(&what, ctx->s, st, op->lo, op->hi, 60);
			df__finding(ctx, "mysql-table-rebuild", st->off, -1, -1,
				df__fmt("%s rebuilds %s (a full copy for ENGINE/CONVERT/ORDER "
					"BY), taking time proportional to the table", what.size ?
					what.ptr : "this option", tab),
				df__fmt("run it in a quiet window or with an online schema "
					"change tool (gh-ost, pt-online-schema-change)"));
			df_buf_release(&what);
		}
		break;
	default:
		break;
	}
}

void df__mysql_finish(rctx *ctx)
{
	if (!ctx->res->changes_schema || !ctx->has_first_dml)
		return;
	ctx->cur_stmt = ctx->first_dml_stmt;
	df__finding(ctx, "data-change-with-ddl", ctx->first_dml_off,
		ctx->my_dml_existing ? -1 : DF_REVIEW_INFO,
		ctx->my_dml_existing ? -1 : DF_RISK_LOW,
		df__fmt("this migration mixes data changes with DDL, and MySQL commits "
			"every DDL statement implicitly: if a later statement fails, "
			"what ran before it stays applied and cannot be rolled back"),
		df__fmt("put schema changes and data changes in separate migrations, "
			"and make the data change safe to re-run"));
}
