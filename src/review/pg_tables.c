/*
 * PostgreSQL rules on tables and columns (pg.c dispatches to them): ALTER
 * TABLE and its subcommands (ADD COLUMN, ALTER COLUMN TYPE, SET NOT NULL,
 * constraints, DETACH PARTITION, rewrites), UPDATE/DELETE waiting for the
 * DDL of their transaction, table and column renames; with the types and
 * default expressions they rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "review/pg_int.h"
#include "util/banned.h"

static size_t at(const rstmt *st, int32_t loc)
{
	return loc >= 0 && (size_t)loc < st->len ? st->off + (size_t)loc : st->off;
}

/* ---- expressions and types ------------------------------------------------- */

static const char *func_name(const PgQuery__FuncCall *f)
{
	return f->n_funcname ? df__pg_str_of(f->funcname[f->n_funcname - 1]) : NULL;
}

/* Stable or immutable functions that may appear in a default without a
 * rewrite; max_args -1: any number. */
static const struct { const char *name; int max_args; } safe_funcs[] = {
	{ "now", 0 }, { "transaction_timestamp", 0 }, { "statement_timestamp", 0 },
	{ "current_schema", 0 }, { "current_database", 0 },
	{ "lower", 1 }, { "upper", 1 }, { "btrim", 2 }, { "ltrim", 2 }, { "rtrim", 2 },
	{ "length", 2 }, { "char_length", 1 }, { "concat", -1 }, { "concat_ws", -1 },
	{ "substr", 3 }, { "substring", 3 }, { "replace", 3 }, { "left", 2 },
	{ "right", 2 }, { "lpad", 3 }, { "rpad", 3 }, { "repeat", 2 }, { "md5", 1 },
	{ "encode", 2 }, { "decode", 2 }, { "to_json", 1 }, { "to_jsonb", 1 },
	{ "json_build_object", -1 }, { "jsonb_build_object", -1 },
	{ "json_build_array", -1 }, { "jsonb_build_array", -1 },
	{ "array_fill", 3 }, { "make_date", 3 }, { "make_time", 3 },
	{ "make_timestamp", 6 }, { "make_timestamptz", 7 }, { "make_interval", 7 },
	{ "to_timestamp", 2 }, { "to_date", 2 }, { "to_char", 2 }, { "to_number", 2 },
	{ "date_trunc", 3 }, { "date_part", 2 }, { "abs", 1 }, { "round", 2 },
	{ "floor", 1 }, { "ceil", 1 }, { "ceiling", 1 }, { "trunc", 2 },
	{ "current_setting", 2 }, { "timezone", 2 }, { "uuid_nil", 0 },
	{ "int2", 1 }, { "int4", 1 }, { "int8", 1 }, { "numeric", 2 }, { "text", 1 },
	{ "float4", 1 }, { "float8", 1 }, { "jsonb_object", 2 }, { "json_object", 2 },
};

static bool nonvolatile(const Node *n);

static bool all_nonvolatile(Node **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!nonvolatile(v[i]))
			return false;
	return true;
}

/* Can the expression be evaluated once for the whole table (PostgreSQL 11's
 * "fast default")?  Unknown functions count as volatile. */
static bool nonvolatile(const Node *n)
{
	if (!n)
		return true;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_A_CONST:
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		return true;
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		return nonvolatile(n->type_cast->arg);
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
		return nonvolatile(n->collate_clause->arg);
	case PG_QUERY__NODE__NODE_A_EXPR:
		return nonvolatile(n->a_expr->lexpr) && nonvolatile(n->a_expr->rexpr);
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
		return all_nonvolatile(n->bool_expr->args, n->bool_expr->n_args);
	case PG_QUERY__NODE__NODE_NULL_TEST:
		return nonvolatile(n->null_test->arg);
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		return all_nonvolatile(n->a_array_expr->elements, n->a_array_expr->n_elements);
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		return all_nonvolatile(n->coalesce_expr->args, n->coalesce_expr->n_args);
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
		return all_nonvolatile(n->min_max_expr->args, n->min_max_expr->n_args);
	case PG_QUERY__NODE__NODE_ROW_EXPR:
		return all_nonvolatile(n->row_expr->args, n->row_expr->n_args);
	case PG_QUERY__NODE__NODE_LIST:
		return all_nonvolatile(n->list->items, n->list->n_items);
	case PG_QUERY__NODE__NODE_FUNC_CALL: {
		const PgQuery__FuncCall *f = n->func_call;
		const char *name = func_name(f);

		if (!name || f->over)
			return false;
		for (size_t i = 0; i < sizeof(safe_funcs) / sizeof(safe_funcs[0]); i++)
			if (!strcmp(name, safe_funcs[i].name))
				return (safe_funcs[i].max_args < 0 ||
					f->n_args <= (size_t)safe_funcs[i].max_args) &&
					all_nonvolatile(f->args, f->n_args);
		return false;
	}
	default:
		return false;
	}
}

static void type_of(const PgQuery__TypeName *tn, ptype *t)
{
	const char *name = NULL;

	memset(t, 0, sizeof(*t));
	if (!tn)
		return;
	if (tn->n_names)
		name = df__pg_str_of(tn->names[tn->n_names - 1]);
	if (name) {
		size_t n = strlen(name);

		if (n >= sizeof(t->name))
			n = sizeof(t->name) - 1;
		memcpy(t->name, name, n);
		t->name[n] = '\0';
	}
	for (size_t i = 0; i < tn->n_typmods && t->nmod < 2; i++) {
		const Node *m = tn->typmods[i];

		if (m && m->node_case == PG_QUERY__NODE__NODE_A_CONST &&
		    m->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && m->a_const->ival)
			t->mod[t->nmod++] = m->a_const->ival->ival;
		else
			t->mod[t->nmod++] = -1;
	}
	t->array = tn->n_array_bounds > 0;
}

static void type_text(df_buf *b, const ptype *t)
{
	df_buf_puts(b, t->name[0] ? t->name : "?");
	if (t->nmod == 1)
		df_buf_printf(b, "(%d)", (int)t->mod[0]);
	else if (t->nmod == 2)
		df_buf_printf(b, "(%d,%d)", (int)t->mod[0], (int)t->mod[1]);
	if (t->array)
		df_buf_puts(b, "[]");
}

static bool is_time(const char *n)
{
	return !strcmp(n, "timestamp") || !strcmp(n, "timestamptz") ||
		!strcmp(n, "time") || !strcmp(n, "timetz") || !strcmp(n, "interval");
}

/* Does changing `from` to `to` skip the table rewrite (binary-coercible, or
 * only relaxing a length/precision limit)? */
static bool coercible(const ptype *from, const ptype *to, bool tz_utc, int pg_version)
{
	const char *f = from->name, *t = to->name;

	if (from->array != to->array)
		return false;
	if (!strcmp(f, t)) {
		if (to->nmod == 0)
			return true;            /* dropping the limit */
		if (from->nmod == 0)
			return false;           /* adding a limit */
		if (!strcmp(f, "varchar") || !strcmp(f, "varbit") || is_time(f))
			return to->mod[0] >= from->mod[0];
		if (!strcmp(f, "numeric"))
			return to->mod[0] >= from->mod[0] &&
				(to->nmod > 1 ? to->mod[1] : 0) ==
				(from->nmod > 1 ? from->mod[1] : 0);
		return from->nmod == to->nmod && from->mod[0] == to->mod[0] &&
			(from->nmod < 2 || from->mod[1] == to->mod[1]);
	}
	if (!strcmp(f, "varchar") && !strcmp(t, "text"))
		return true;
	if (!strcmp(f, "text") && !strcmp(t, "varchar") && to->nmod == 0)
		return true;
	if (!strcmp(f, "cidr") && !strcmp(t, "inet"))
		return true;
	if (((!strcmp(f, "timestamp") && !strcmp(t, "timestamptz")) ||
	     (!strcmp(f, "timestamptz") && !strcmp(t, "timestamp"))) &&
	    pg_version >= 12 && tz_utc)
		return to->nmod == 0 || (from->nmod && to->mod[0] >= from->mod[0]);
	return false;
}

/* The new type is one that some old types reach without a rewrite. */
static bool maybe_coercible(const ptype *to)
{
	static const char *const names[] = {
		"text", "varchar", "numeric", "varbit", "inet", "timestamp",
		"timestamptz", "time", "timetz", "interval",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(to->name, names[i]))
			return true;
	return false;
}

static struct coltype *find_coltype(struct pg_state *ps, const char *tab, const char *col)
{
	for (size_t i = ps->nct; i-- > 0;)
		if (df__name_eq(DF_DIALECT_POSTGRES, ps->ct[i].tab.s, tab) &&
		    !strcmp(ps->ct[i].col.s, col))
			return &ps->ct[i];
	return NULL;
}

static void remember_type(rctx *ctx, struct pg_state *ps, const char *tab,
	const char *col, const ptype *t)
{
	struct coltype *c = find_coltype(ps, tab, col);

	if (!c) {
		bool ok;

		GROW(ok, ctx, ps->ct, ps->nct, ps->act);
		if (!ok)
			return;
		c = &ps->ct[ps->nct++];
		df__pg_copy_name(&c->tab, tab);
		df__pg_copy_name(&c->col, col);
	}
	c->type = *t;
}

/* ---- ALTER TABLE ------------------------------------------------------------- */

static const PgQuery__Constraint *constraint_of(const Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT ? n->constraint : NULL;
}

/* CHECK (col IS NOT NULL): the column, else NULL. */
static const char *not_null_check_col(const PgQuery__Constraint *c)
{
	const Node *e = c->raw_expr;
	const Node *arg;

	if (!e || e->node_case != PG_QUERY__NODE__NODE_NULL_TEST ||
	    e->null_test->nulltesttype != PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL)
		return NULL;
	arg = e->null_test->arg;
	if (!arg || arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
	    arg->column_ref->n_fields != 1)
		return NULL;
	return df__pg_str_of(arg->column_ref->fields[0]);
}

static void add_column(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const char *tab, bool newtab, const PgQuery__ColumnDef *cd)
{
	const char *col = cd->colname ? cd->colname : "?";
	const Node *def = cd->raw_default;
	bool not_null = cd->is_not_null, has_default = false, generated = false;
	bool identity = cd->identity && cd->identity[0];
	bool stored = cd->generated && cd->generated[0];
	bool serial = false;
	size_t off = at(st, cd->location);
	ptype t;

	type_of(cd->type_name, &t);
	serial = !strcmp(t.name, "serial") || !strcmp(t.name, "bigserial") ||
		!strcmp(t.name, "smallserial") || !strcmp(t.name, "serial2") ||
		!strcmp(t.name, "serial4") || !strcmp(t.name, "serial8");
	for (size_t i = 0; i < cd->n_constraints; i++) {
		const PgQuery__Constraint *c = constraint_of(cd->constraints[i]);

		if (!c)
			continue;
		switch (c->contype) {
		case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
			not_null = true;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
			def = c->raw_expr;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
			identity = true;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
			stored = true;
			break;
		default:
			break;
		}
	}
	if (def && !(def->node_case == PG_QUERY__NODE__NODE_A_CONST && def->a_const->isnull))
		has_default = true;
	generated = identity || stored || serial;
	if (!newtab)
		remember_type(ctx, ps, tab, col, &t);
	if (newtab)
		return;

	if (not_null && !has_default && !generated) {
		rop op;

		memset(&op, 0, sizeof(op));
		op.kind = OP_ADD_COLUMN;
		df__pg_copy_name(&op.tab, tab);
		df__pg_copy_name(&op.col, col);
		op.flags = OPF_NOT_NULL;
		df__rules_common(ctx, st, &op);
	}
	if (stored || identity || serial) {
		df__finding(ctx, "add-column-rewrite", off, -1, -1,
			df__fmt("adding %s column %s rewrites the whole of %s (every row gets "
				"a computed value) under an ACCESS EXCLUSIVE lock: reads and "
				"writes block for the duration",
				stored ? "stored generated" : identity ? "identity" : "serial",
				col, tab),
			stored ?
			df__fmt("add a plain nullable column, fill it in batches, and keep it "
				"current with a trigger (or compute it in a view)") :
			df__fmt("add a nullable column, attach a sequence default with SET "
				"DEFAULT (affects new rows only), backfill in batches, then "
				"make it NOT NULL"));
	} else if (has_default && (ctx->opts.pg_version < 11 || !nonvolatile(def))) {
		df__finding(ctx, "add-column-rewrite", off, -1, -1,
			ctx->opts.pg_version < 11 ?
			df__fmt("before PostgreSQL 11 adding column %s with a DEFAULT rewrites "
				"the whole of %s under an ACCESS EXCLUSIVE lock", col, tab) :
			df__fmt("the DEFAULT of %s is volatile (or not known to be stable), "
				"so PostgreSQL evaluates it for every row and rewrites the "
				"whole of %s under an ACCESS EXCLUSIVE lock", col, tab),
			df__fmt("add the column without a default (or with a constant "
				"one), then SET DEFAULT for new rows and backfill existing "
				"rows in batches"));
	}
	for (size_t i = 0; i < cd->n_constraints; i++) {
		const PgQuery__Constraint *c = constraint_of(cd->constraints[i]);

		if (!c)
			continue;
		if (c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN) {
			rname ref;

			df__pg_rv_name(c->pktable, &ref);
			df__finding(ctx, "constraint-without-not-valid", at(st, c->location), -1, -1,
				df__fmt("REFERENCES on the new column %s checks every row of %s "
					"while holding a SHARE ROW EXCLUSIVE lock on %s and %s: "
					"writes to both block meanwhile", col, tab, tab,
					ref.s[0] ? ref.s : "the referenced table"),
				df__fmt("add the column without REFERENCES, then ALTER TABLE %s "
					"ADD CONSTRAINT ... FOREIGN KEY (%s) REFERENCES ... NOT "
					"VALID, and VALIDATE CONSTRAINT in a later transaction",
					tab, col));
		} else if (c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ||
			   c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY) {
			df__finding(ctx, "constraint-builds-index", at(st, c->location), -1, -1,
				df__fmt("the %s on the new column %s builds its index while "
					"holding an ACCESS EXCLUSIVE lock on %s",
					c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ?
					"UNIQUE constraint" : "PRIMARY KEY", col, tab),
				df__fmt("add the column plain, CREATE UNIQUE INDEX CONCURRENTLY "
					"on it (in a -- devflow:no-transaction migration), then "
					"ADD CONSTRAINT ... %s USING INDEX",
					c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ?
					"UNIQUE" : "PRIMARY KEY"));
		}
	}
}

/*
 * The target's current type of tab.col (opts.column_type), parsed into `t`
 * the way a type in the migration is: libpg_query reads "SELECT
 * NULL::<type>".  false when there is no target or the column is unknown.
 */
static bool target_type(rctx *ctx, const char *tab, const char *col, ptype *t)
{
	char name[256];
	char *sql;
	PgQueryProtobufParseResult pr;
	PgQuery__ParseResult *tree = NULL;
	bool found = false;

	if (!ctx->opts.column_type ||
	    ctx->opts.column_type(name, sizeof(name), tab, col, ctx->opts.column_type_payload) < 0 ||
	    !name[0] || strchr(name, ';'))
		return false;
	if (!(sql = df__fmt("SELECT NULL::%s", name))) {
		ctx->error = df_error_oom();
		return false;
	}
	pr = pg_query_parse_protobuf(sql);
	if (!pr.error)
		tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len,
			(const uint8_t *)pr.parse_tree.data);
	if (tree && tree->n_stmts == 1 && tree->stmts[0]->stmt &&
	    tree->stmts[0]->stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
		const PgQuery__SelectStmt *sel = tree->stmts[0]->stmt->select_stmt;
		const Node *v = sel->n_target_list ? sel->target_list[0] : NULL;

		if (v && v->node_case == PG_QUERY__NODE__NODE_RES_TARGET && v->res_target->val &&
		    v->res_target->val->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
			type_of(v->res_target->val->type_cast->type_name, t);
			found = t->name[0] != '\0';
		}
	}
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
	free(sql);
	return found;
}

/* change-column-type, high: a rewrite.  `from` is the known current type
 * ("" unknown), `where` says where it was learnt (" (its type on the target)"). */
static void type_rewrite(rctx *ctx, const rstmt *st, const char *tab, const char *col,
	const char *from, const char *where, const char *to)
{
	df__finding(ctx, "change-column-type", st->off, -1, -1,
		df__fmt("changing %s%s.%s%s%s%s to %s rewrites the whole table and "
			"rebuilds its indexes under an ACCESS EXCLUSIVE lock, and running "
			"code may not expect the new type", from[0] ? "" : "the type of ",
			tab, col, from[0] ? " from " : "", from, where, to),
		df__fmt("expand-contract: add a new column of type %s, write both "
			"(application or trigger), backfill in batches, switch reads, "
			"then drop the old column", to));
}

/*
 * ALTER COLUMN ... TYPE: no finding when the migration itself declared the
 * column and the change is binary-coercible; with a target, its current
 * type rates the change (coercible: info/low, else high); otherwise the
 * current type is unknown and the change is high (seed 003).
 */
static void alter_column_type(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const char *tab, const char *col, const PgQuery__ColumnDef *cd)
{
	struct coltype *old = find_coltype(ps, tab, col);
	df_buf to = DF_BUF_INIT, from = DF_BUF_INIT;
	ptype t, cur;
	bool on_target = false;

	type_of(cd ? cd->type_name : NULL, &t);
	type_text(&to, &t);
	if (!old && (on_target = target_type(ctx, tab, col, &cur)))
		type_text(&from, &cur);
	else if (old)
		type_text(&from, &old->type);
	if (old && coercible(&old->type, &t, ps->tz_utc, ctx->opts.pg_version)) {
		/* declared by this migration: nothing to say */
	} else if (on_target && coercible(&cur, &t, ps->tz_utc, ctx->opts.pg_version)) {
		df__finding(ctx, "change-column-type", st->off, DF_REVIEW_INFO, DF_RISK_LOW,
			df__fmt("changing %s.%s from %s (its type on the target) to %s is "
				"binary-coercible: no table rewrite and no index rebuild, "
				"only a brief ACCESS EXCLUSIVE lock", tab, col, from.ptr, to.ptr),
			df__fmt("check that running code accepts the wider type; set a "
				"lock_timeout"));
	} else if (old || on_target) {
		type_rewrite(ctx, st, tab, col, from.ptr, on_target ?
			" (its type on the target)" : "", to.ptr);
	} else if (maybe_coercible(&t)) {
		/* high until shown safe (seed 003): the current type is unknown */
		df__finding(ctx, "change-column-type", st->off, -1, -1,
			df__fmt("changing the type of %s.%s to %s rewrites the whole table "
				"under an ACCESS EXCLUSIVE lock unless the change is "
				"binary-coercible (varchar(n) to varchar(m >= n) or text, "
				"numeric(p,s) to numeric(q >= p,s), cidr to inet ...), and "
				"devflow cannot see the current type", tab, col, to.ptr),
			df__fmt("review against the target (--env or --url) so devflow reads "
				"the current type and rates a binary-coercible change low; "
				"otherwise add a new column, backfill it in batches and swap"));
	} else {
		type_rewrite(ctx, st, tab, col, "", "", to.ptr);
	}
	if (old)
		old->type = t;
	else
		remember_type(ctx, ps, tab, col, &t);
	df_buf_release(&to);
	df_buf_release(&from);
}

static void set_not_null(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const char *tab, const char *col)
{
	if (ctx->opts.pg_version >= 12)
		for (size_t i = 0; i < ps->nva; i++)
			if (df__name_eq(DF_DIALECT_POSTGRES, ps->va[i].tab.s, tab) &&
			    (!ps->va[i].known || !strcmp(ps->va[i].col.s, col)))
				return;
	df__finding(ctx, "set-not-null", st->off, -1, -1,
		df__fmt("SET NOT NULL on %s.%s scans the whole table for NULLs while "
			"holding an ACCESS EXCLUSIVE lock: reads and writes block", tab, col),
		ctx->opts.pg_version >= 12 ?
		df__fmt("first ADD CONSTRAINT %s_not_null CHECK (%s IS NOT NULL) NOT "
			"VALID, then VALIDATE CONSTRAINT in a later transaction (no "
			"blocking lock); SET NOT NULL then skips the scan, and the check "
			"can be dropped", col, col) :
		df__fmt("before PostgreSQL 12 there is no scan-free way: keep a CHECK "
			"(%s IS NOT NULL) NOT VALID constraint validated separately "
			"instead, or run this in a quiet window", col));
}

static void add_constraint(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const char *tab, bool newtab, const PgQuery__Constraint *c)
{
	const char *name = c->conname ? c->conname : "";
	size_t off = at(st, c->location);

	switch (c->contype) {
	case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
	case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK: {
		bool fk = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN;
		const char *col = fk ? NULL : not_null_check_col(c);
		bool ok = false;

		if (c->skip_validation) {
			GROW(ok, ctx, ps->nv, ps->nnv, ps->anv);
			if (ok) {
				struct notvalid *v = &ps->nv[ps->nnv++];

				df__pg_copy_name(&v->tab, tab);
				df__pg_copy_name(&v->name, name);
				df__pg_copy_name(&v->col, col ? col : "");
				v->seg = df__pg_cur_seg(ctx);
			}
			break;
		}
		if (col)
			GROW(ok, ctx, ps->va, ps->nva, ps->ava);
		if (col && ok) {
			/* a validated CHECK (col IS NOT NULL) */
			struct validated *v = &ps->va[ps->nva++];

			df__pg_copy_name(&v->tab, tab);
			df__pg_copy_name(&v->col, col);
			v->known = true;
		}
		if (newtab)
			break;
		if (fk) {
			rname ref;

			df__pg_rv_name(c->pktable, &ref);
			df__finding(ctx, "constraint-without-not-valid", off, -1, -1,
				df__fmt("adding foreign key%s%s checks every row of %s while "
					"holding a SHARE ROW EXCLUSIVE lock on %s and %s: writes "
					"to both block until the check finishes", name[0] ? " " : "",
					name, tab, tab, ref.s[0] ? ref.s : "the referenced table"),
				df__fmt("ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID (instant), "
					"then ALTER TABLE %s VALIDATE CONSTRAINT ... in a later "
					"transaction, which does not block writes", tab));
		} else {
			df__finding(ctx, "constraint-without-not-valid", off, -1, -1,
				df__fmt("adding check constraint%s%s scans every row of %s while "
					"holding an ACCESS EXCLUSIVE lock: reads and writes block",
					name[0] ? " " : "", name, tab),
				df__fmt("ADD CONSTRAINT ... CHECK (...) NOT VALID (instant), then "
					"ALTER TABLE %s VALIDATE CONSTRAINT ... in a later "
					"transaction, which does not block writes", tab));
		}
		break;
	}
	case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
	case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
	case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION: {
		const char *kind = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ?
			"UNIQUE" : c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY ?
			"PRIMARY KEY" : "EXCLUDE";

		if (newtab || (c->indexname && c->indexname[0]))
			break;
		df__finding(ctx, "constraint-builds-index", off, -1, -1,
			df__fmt("adding %s constraint%s%s builds its index while holding an "
				"ACCESS EXCLUSIVE lock on %s: reads and writes block for the "
				"whole build", kind, name[0] ? " " : "", name, tab),
			c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION ?
			df__fmt("build the constraint on a new table or in a quiet window; "
				"EXCLUDE constraints cannot use an existing index") :
			df__fmt("CREATE UNIQUE INDEX CONCURRENTLY first (in a -- devflow:"
				"no-transaction migration), then ALTER TABLE %s ADD CONSTRAINT "
				"... %s USING INDEX ..., which is instant", tab, kind));
		break;
	}
	default:
		break;
	}
}

static void validate_constraint(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const char *tab, const char *name)
{
	struct notvalid *found = NULL;
	bool ok;

	for (size_t i = ps->nnv; i-- > 0;)
		if (!strcmp(ps->nv[i].name.s, name) &&
		    df__name_eq(DF_DIALECT_POSTGRES, ps->nv[i].tab.s, tab)) {
			found = &ps->nv[i];
			break;
		}
	if (found && found->seg == df__pg_cur_seg(ctx) && ctx->in_tx)
		df__finding(ctx, "validate-in-same-transaction", st->off, -1, -1,
			df__fmt("VALIDATE CONSTRAINT %s runs in the transaction that added it "
				"NOT VALID, so the adding statement's lock on %s is still held "
				"during the whole validation scan: NOT VALID gains nothing",
				name, tab),
			df__fmt("validate in a separate migration (or after a COMMIT in a "
				"-- devflow:no-transaction migration)"));
	GROW(ok, ctx, ps->va, ps->nva, ps->ava);
	if (ok) {
		struct validated *v = &ps->va[ps->nva++];

		df__pg_copy_name(&v->tab, tab);
		df__pg_copy_name(&v->col, found ? found->col.s : "");
		v->known = found != NULL;
	}
}

/* Subcommands that take only SHARE UPDATE EXCLUSIVE (reads and writes go on). */
static bool weak_cmd(const PgQuery__AlterTableCmd *c)
{
	switch (c->subtype) {
	case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraintRecurse:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_SetStatistics:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_SetOptions:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetOptions:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_ClusterOn:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_DropCluster:
	case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
		return true;
	case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
		return c->def && c->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
			c->def->partition_cmd->concurrent;
	default:
		return false;
	}
}

void df__pg_alter_table(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__AlterTableStmt *a)
{
	rname tab;
	bool newtab, strong = false, exclusive = false;

	if (a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
	    a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE)
		return;
	df__pg_rv_name(a->relation, &tab);
	newtab = df__table_is_new(ctx, tab.s);
	for (size_t i = 0; i < a->n_cmds; i++) {
		const Node *n = a->cmds[i];
		const PgQuery__AlterTableCmd *c;
		const char *col;

		if (!n || n->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
			continue;
		c = n->alter_table_cmd;
		col = c->name ? c->name : "?";
		if (!weak_cmd(c)) {
			const PgQuery__Constraint *k = constraint_of(c->def);

			strong = true;
			/* ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE */
			if (!(c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint && k &&
			      k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN))
				exclusive = true;
		}
		switch (c->subtype) {
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumnRecurse:
			if (c->def && c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
				add_column(ctx, ps, st, tab.s, newtab, c->def->column_def);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumnRecurse: {
			rop op;

			memset(&op, 0, sizeof(op));
			op.kind = OP_DROP_COLUMN;
			df__pg_copy_name(&op.tab, tab.s);
			df__pg_copy_name(&op.col, col);
			df__rules_common(ctx, st, &op);
			break;
		}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
			if (!newtab)
				alter_column_type(ctx, ps, st, tab.s, col,
					c->def && c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF ?
					c->def->column_def : NULL);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
			if (!newtab)
				set_not_null(ctx, ps, st, tab.s, col);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraintRecurse:
			if (constraint_of(c->def))
				add_constraint(ctx, ps, st, tab.s, newtab, constraint_of(c->def));
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraintRecurse:
			validate_constraint(ctx, ps, st, tab.s, col);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition: {
			const PgQuery__PartitionCmd *pc =
				c->def && c->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD ?
				c->def->partition_cmd : NULL;
			rname part;

			if (pc && pc->concurrent && ctx->in_tx)
				df__finding(ctx, "concurrently-in-transaction", st->off, -1, -1,
					df__fmt("DETACH PARTITION CONCURRENTLY cannot run inside a "
						"transaction block: the migration fails"),
					df__pg_own_file_hint(ctx, "put it in its own migration marked "
						"-- devflow:no-transaction", "put it"));
			if (!pc || pc->concurrent || newtab)
				break;
			df__pg_rv_name(pc->name, &part);
			df__finding(ctx, "detach-partition-not-concurrently", st->off, -1, -1,
				df__fmt("DETACH PARTITION %s takes an ACCESS EXCLUSIVE lock on %s: "
					"every query on the partitioned table waits until the "
					"transaction ends", part.s[0] ? part.s : "?", tab.s),
				ctx->opts.pg_version >= 14 ?
				df__fmt("DETACH PARTITION %s CONCURRENTLY (PostgreSQL 14 and "
					"later; SHARE UPDATE EXCLUSIVE only) in a migration of its "
					"own marked -- devflow:no-transaction", part.s[0] ? part.s : "...") :
				df__fmt("before PostgreSQL 14 there is no online detach: set a "
					"short lock_timeout and run it in a quiet window, or "
					"upgrade and use DETACH PARTITION ... CONCURRENTLY"));
			break;
		}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull:
			if (newtab)
				break;
			df__finding(ctx, "drop-not-null", st->off, -1, -1,
				df__fmt("DROP NOT NULL on %s.%s is instant, but hard to take back: "
					"once NULLs are written, SET NOT NULL fails until they are "
					"cleaned up, and it scans the table under an ACCESS "
					"EXCLUSIVE lock; code that reads %s may not expect NULL",
					tab.s, col, col),
				df__fmt("make sure every reader of %s handles NULL before this "
					"runs; to revert later, backfill the NULLs, add CHECK (%s "
					"IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL",
					col, col));
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetAccessMethod: {
			const char *what =
				c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace ?
				"SET TABLESPACE copies every file of" :
				c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged ?
				"SET LOGGED writes the whole of" :
				c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged ?
				"SET UNLOGGED rewrites" : "SET ACCESS METHOD rewrites";

			if (newtab)
				break;
			df__finding(ctx, "alter-table-rewrite", st->off, -1, -1,
				df__fmt("%s %s (and rebuilds its indexes) under an ACCESS "
					"EXCLUSIVE lock: reads and writes block for as long as that "
					"takes, proportional to the table's size", what, tab.s),
				c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace ?
				df__fmt("move big tables online with pg_repack --tablespace, or "
					"in a maintenance window") :
				c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged ?
				df__fmt("SET LOGGED writes the table to the WAL (and to every "
					"replica): run it in a maintenance window, or build a new "
					"logged table and swap") :
				df__fmt("run it in a maintenance window, or build a new table "
					"and swap"));
			break;
		}
		default:
			break;
		}
	}
	if (strong && !newtab)
		df__pg_strong_lock(ctx, ps, st->off, tab.s,
			exclusive ? "an ACCESS EXCLUSIVE" : "a SHARE ROW EXCLUSIVE");
}
void df__pg_dml(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RangeVar *rel, const Node *where, bool update)
{
	rop op;
	bool ok;

	memset(&op, 0, sizeof(op));
	op.kind = update ? OP_UPDATE : OP_DELETE;
	df__pg_rv_name(rel, &op.tab);
	if (!where)
		op.flags |= OPF_NO_WHERE;
	df__rules_common(ctx, st, &op);
	if (df__table_is_new(ctx, op.tab.s))
		return;
	GROW(ok, ctx, ps->dml, ps->ndml, ps->adml);
	if (!ok)
		return;
	ps->dml[ps->ndml].stmt = ctx->cur_stmt;
	ps->dml[ps->ndml].off = st->off;
	ps->dml[ps->ndml].seg = df__pg_cur_seg(ctx);
	ps->dml[ps->ndml].where = where != NULL;
	ps->dml[ps->ndml].update = update;
	ps->dml[ps->ndml].tab = op.tab;
	ps->ndml++;
}

void df__pg_rename(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RenameStmt *r)
{
	rop op;

	memset(&op, 0, sizeof(op));
	df__pg_rv_name(r->relation, &op.tab);
	if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
		op.kind = OP_RENAME_TABLE;
		df__pg_copy_name(&op.obj, r->newname ? r->newname : "?");
	} else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		   (r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
		    r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE)) {
		op.kind = OP_RENAME_COLUMN;
		df__pg_copy_name(&op.col, r->subname ? r->subname : "?");
		df__pg_copy_name(&op.obj, r->newname ? r->newname : "?");
	} else {
		return;
	}
	df__rules_common(ctx, st, &op);
	if (!df__table_is_new(ctx, op.tab.s))
		df__pg_strong_lock(ctx, ps, st->off, op.tab.s, "an ACCESS EXCLUSIVE");
}

/* ---- views, enum labels, materialized views -------------------------------- */
