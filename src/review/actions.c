/*
 * What the classifier's ops mean: whether one changes data, the schema, or
 * destroys data, and the actions list (df_review_actions()): each op as
 * one line of plain English, "create table users", "drop column x of t".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "review/review_int.h"
#include "util/banned.h"

/* ---- what ops mean ------------------------------------------------------- */

bool df__op_changes_data(const rop *op)
{
	switch (op->kind) {
	case OP_INSERT: case OP_UPDATE: case OP_DELETE: case OP_MERGE:
	case OP_COPY_IN: case OP_TRUNCATE:
		return true;
	}
	return false;
}

bool df__op_changes_schema(const rop *op)
{
	switch (op->kind) {
	case OP_CREATE_TABLE: case OP_CREATE_INDEX: case OP_CREATE:
	case OP_DROP_TABLE: case OP_DROP_INDEX: case OP_DROP_SCHEMA:
	case OP_DROP_DATABASE: case OP_DROP: case OP_ALTER: case OP_ADD_COLUMN:
	case OP_DROP_COLUMN: case OP_RENAME_COLUMN: case OP_RENAME_TABLE:
	case OP_COLUMN_TYPE: case OP_SET_NOT_NULL: case OP_DROP_NOT_NULL:
	case OP_SET_DEFAULT: case OP_DROP_DEFAULT: case OP_ADD_CONSTRAINT:
	case OP_DROP_CONSTRAINT: case OP_VALIDATE_CONSTRAINT:
	case OP_MODIFY_COLUMN: case OP_ALTER_TABLE_OTHER: case OP_TABLE_OPTION:
		return true;
	}
	return false;
}

bool df__op_destroys_data(const rop *op)
{
	switch (op->kind) {
	case OP_DROP_TABLE: case OP_DROP_COLUMN: case OP_DROP_DATABASE:
	case OP_TRUNCATE: case OP_DELETE:
		return true;
	case OP_DROP_SCHEMA:
		return (op->flags & OPF_CASCADE) != 0;
	case OP_DROP:
		return df__drop_cascades_data(op);
	}
	return false;
}

bool df__drop_cascades_data(const rop *op)
{
	static const char *const kinds[] = {
		"type", "domain", "function", "procedure", "routine", "view",
		"materialized view", "extension", "aggregate", "operator", "collation",
	};

	if (op->kind != OP_DROP || !(op->flags & OPF_CASCADE) || !op->what)
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(op->what, kinds[i]))
			return true;
	return false;
}

static void put_name(df_buf *b, const char *name)
{
	df_buf_puts(b, name[0] ? name : "?");
}

/*
 * An action from a template: %t the table, %c the column, %o the other
 * object (new name, index, constraint ...), %w what kind of object; names
 * that are not known read "?".
 */
static void put_action(df_buf *b, const rop *op, const char *fmt)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%' || !p[1]) {
			df_buf_putc(b, *p);
			continue;
		}
		switch (*++p) {
		case 't': put_name(b, op->tab.s); break;
		case 'c': put_name(b, op->col.s); break;
		case 'o': put_name(b, op->obj.s); break;
		case 'w': df_buf_puts(b, op->what ? op->what : "?"); break;
		default: df_buf_putc(b, *p); break;
		}
	}
}

bool df__op_action(df_buf *b, const char *s, const rstmt *st, const rop *op)
{
	const char *t = op->tab.s;

	switch (op->kind) {
	case OP_NONE:
	case OP_TABLE_OPTION:
		return false;
	case OP_CREATE_TABLE:
		df_buf_printf(b, "create %stable ", op->flags & OPF_TEMP ? "temporary " : "");
		put_name(b, t);
		if (op->flags & OPF_AS_QUERY)
			df_buf_puts(b, " from a query");
		else if (op->ncols > 0)   /* 0: (LIKE x), PARTITION OF ... */
			df_buf_printf(b, " (%d column%s)", op->ncols, op->ncols == 1 ? "" : "s");
		break;
	case OP_CREATE_INDEX:
		df_buf_printf(b, "create %sindex ", op->flags & OPF_UNIQUE ? "unique " : "");
		if (op->obj.s[0]) {
			df_buf_puts(b, op->obj.s);
			df_buf_putc(b, ' ');
		}
		df_buf_puts(b, "on ");
		put_name(b, t);
		break;
	case OP_CREATE:
		put_action(b, op, "create %w %o");
		break;
	case OP_DROP_TABLE:
		put_action(b, op, "drop table %o (destroys data)");
		break;
	case OP_DROP_SCHEMA:
	case OP_DROP_DATABASE:
		df_buf_printf(b, "drop %s ", op->kind == OP_DROP_SCHEMA ? "schema" : "database");
		put_name(b, op->obj.s);
		if (df__op_destroys_data(op))
			df_buf_puts(b, " (destroys data)");
		break;
	case OP_DROP_INDEX:
	case OP_DROP:
		put_action(b, op, "drop %w %o");
		if (df__drop_cascades_data(op))
			df_buf_puts(b, " with cascade (destroys data)");
		break;
	case OP_ALTER:
		put_action(b, op, "alter %w %o");
		break;
	case OP_ADD_COLUMN:
		put_action(b, op, "add column %c to %t");
		break;
	case OP_DROP_COLUMN:
		put_action(b, op, "drop column %c from %t (destroys data)");
		break;
	case OP_RENAME_COLUMN:
		put_action(b, op, "rename column %c to %o in %t");
		break;
	case OP_RENAME_TABLE:
		put_action(b, op, "rename table %t to %o");
		break;
	case OP_COLUMN_TYPE:
		put_action(b, op, "change type of column %c in %t");
		if (op->type_lo < st->ntok) {
			size_t hi = op->type_lo;

			while (hi < op->hi && !TK(s, st, hi, "using") &&
			       !TK(s, st, hi, "collate"))
				hi++;
			df_buf_puts(b, " to ");
			df__tok_text(b, s, st, op->type_lo, hi, 40);
		}
		break;
	case OP_SET_NOT_NULL:
		put_action(b, op, "set not null on column %c in %t");
		break;
	case OP_DROP_NOT_NULL:
		put_action(b, op, "drop not null on column %c in %t");
		break;
	case OP_SET_DEFAULT:
		put_action(b, op, "set default of column %c in %t");
		break;
	case OP_DROP_DEFAULT:
		put_action(b, op, "drop default of column %c in %t");
		break;
	case OP_ADD_CONSTRAINT:
		df_buf_printf(b, "add %s ", op->what);
		if (op->obj.s[0]) {
			df_buf_puts(b, op->obj.s);
			df_buf_putc(b, ' ');
		}
		df_buf_puts(b, "to ");
		put_name(b, t);
		break;
	case OP_DROP_CONSTRAINT:
		df_buf_printf(b, "drop %s ", op->what);
		if (op->obj.s[0]) {
			df_buf_puts(b, op->obj.s);
			df_buf_putc(b, ' ');
		}
		df_buf_puts(b, "from ");
		put_name(b, t);
		break;
	case OP_VALIDATE_CONSTRAINT:
		put_action(b, op, "validate constraint %o on %t");
		break;
	case OP_MODIFY_COLUMN:
		if (strcmp(op->col.s, op->obj.s)) {
			df_buf_puts(b, "change column ");
			put_name(b, op->col.s);
			df_buf_puts(b, " to ");
			put_name(b, op->obj.s);
		} else {
			df_buf_puts(b, "modify column ");
			put_name(b, op->col.s);
		}
		df_buf_puts(b, " in ");
		put_name(b, t);
		break;
	case OP_ALTER_TABLE_OTHER:
		df_buf_puts(b, "alter table ");
		put_name(b, t);
		if (op->lo < op->hi) {
			df_buf_puts(b, ": ");
			df__tok_text(b, s, st, op->lo, op->hi, 48);
		}
		break;
	case OP_INSERT:
		put_action(b, op, "insert rows into %t (data change)");
		break;
	case OP_UPDATE:
		put_action(b, op, op->flags & OPF_NO_WHERE ? "update all rows in %t (data change)" :
			"update rows in %t (data change)");
		break;
	case OP_DELETE:
		put_action(b, op, op->flags & OPF_NO_WHERE ? "delete all rows from %t (destroys data)" :
			"delete rows from %t (destroys data)");
		break;
	case OP_MERGE:
		put_action(b, op, "merge rows into %t (data change)");
		break;
	case OP_COPY_IN:
		put_action(b, op, "copy rows into %t (data change)");
		break;
	case OP_TRUNCATE:
		put_action(b, op, "truncate %t (destroys data)");
		break;
	case OP_TX_BEGIN: case OP_TX_COMMIT: case OP_TX_ROLLBACK:
	case OP_SET: case OP_LOCK:
		return false;
	case OP_VACUUM:
		df_buf_printf(b, "vacuum%s", op->flags & OPF_FULL ? " full" : "");
		if (t[0]) {
			df_buf_putc(b, ' ');
			df_buf_puts(b, t);
		}
		break;
	case OP_CLUSTER:
	case OP_ANALYZE:
		df_buf_puts(b, op->kind == OP_CLUSTER ? "cluster" : "analyze");
		if (t[0]) {
			df_buf_putc(b, ' ');
			df_buf_puts(b, t);
		}
		break;
	case OP_REINDEX:
		df_buf_puts(b, "reindex");
		if (op->what)
			df_buf_printf(b, " %s", op->what);
		if (op->obj.s[0]) {
			df_buf_putc(b, ' ');
			df_buf_puts(b, op->obj.s);
		}
		break;
	case OP_COMMENT:
		put_action(b, op, "set comment on %w %o");
		break;
	case OP_OTHER:
	default:
		df_buf_puts(b, "run statement: ");
		df__tok_text(b, s, st, 0, st->ntok, 60);
		break;
	}
	return true;
}

/* ---- df_review_actions() -------------------------------------------------- */

typedef struct actions_ctx {
	df_strlist *out;
	const char *s;
	df_buf buf;
} actions_ctx;

static int push_action(void *p, const rstmt *st, const rop *op)
{
	actions_ctx *c = p;

	df_buf_truncate(&c->buf, 0);
	if (!df__op_action(&c->buf, c->s, st, op))
		return 0;
	if (df_buf_oom(&c->buf))
		return df_error_oom();
	return df_strlist_push(c->out, c->buf.ptr);
}

/*
 * The same action twice (two UPDATEs of one table) is said once, with a
 * count: "update rows of t (2 times)"; entries from `from` on, first place kept.
 */
int df__actions_merge(df_strlist *l, size_t from)
{
	size_t o = from;

	for (size_t i = from; i < l->nr; i++) {
		size_t n = 1;
		if (!l->v[i])
			continue;
		for (size_t j = i + 1; j < l->nr; j++)
			if (l->v[j] && !strcmp(l->v[i], l->v[j])) {
				free(l->v[j]);
				l->v[j] = NULL;
				n++;
			}
		if (n > 1) {
			df_buf b = DF_BUF_INIT;
			df_buf_printf(&b, "%s (%zu times)", l->v[i], n);
			if (df_buf_oom(&b))
				return df_error_oom();
			free(l->v[i]);
			l->v[i] = df_buf_detach(&b);
		}
		l->v[o++] = l->v[i];
	}
	l->nr = o;
	return 0;
}

int df_review_actions(df_strlist *out, df_dialect d, const char *sql, size_t len)
{
	actions_ctx c = { out, sql, DF_BUF_INIT };
	size_t first = out->nr;
	rlex lx;
	rstmt st;
	int r;

	/* Own splitter only: df_sql_split() would double the cost, and the
	 * two agree (tests/corpus/pg_regress_review.c checks it). */
	df__rlex_init(&lx, d, sql, len);
	while ((r = df__rlex_next(&lx, &st)) > 0)
		if ((r = df__analyze(sql, d, &st, push_action, &c)) < 0)
			break;
	df__rlex_release(&lx);
	df_buf_release(&c.buf);
	if (r >= 0)
		r = df__actions_merge(out, first);
	return r < 0 ? r : 0;
}
