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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "review/review_int.h"
#include "util/banned.h"

typedef PgQuery__Node Node;

typedef struct ptype {
	char name[64];
	int32_t mod[2];
	int nmod;
	bool array;
} ptype;

struct notvalid {
	rname tab, name, col;   /* col: "x" for CHECK (x IS NOT NULL), else "" */
	unsigned int seg;
};

struct validated {
	rname tab, col;
	bool known;             /* false: a constraint from another migration */
};

struct coltype {
	rname tab, col;
	ptype type;
};

struct dml {
	size_t stmt, off;
	unsigned int seg;
	bool where, update;
	rname tab;
};

struct enumval {
	rname type;
	char *lit;              /* the value as a literal: 'happy' */
	unsigned int seg;
	size_t stmt;
};

/* A view (or materialized view) created by the migration: the tables and
 * the column names its query reads (star: it reads some table's "*"). */
struct view {
	rname name;
	df_strlist tabs, cols;
	bool star, mat;
};

struct pg_state {
	bool lt_set, lt_local;  /* lock_timeout */
	unsigned int lt_seg;
	bool lt_reported;
	bool tz_utc;
	struct notvalid *nv;
	size_t nnv, anv;
	struct validated *va;
	size_t nva, ava;
	struct coltype *ct;
	size_t nct, act;
	struct dml *dml;
	size_t ndml, adml;
	unsigned int *ddl_seg;
	size_t nddl, addl;
	struct enumval *ev;     /* ALTER TYPE ... ADD VALUE, PostgreSQL >= 12 */
	size_t nev, aev;
	rnameset types;         /* types created by the migration */
	struct view *views;     /* views created by the migration */
	size_t nviews, aviews;
	char *buf;
	size_t abuf;
};

/* Make room for one more item in vector `vec` (`n` used, `a` allocated);
 * `ok` becomes false (and ctx->error is set) when out of memory. */
#define GROW(ok, ctx, vec, n, a) do {                                   \
	(ok) = true;                                                    \
	if ((n) == (a)) {                                               \
		size_t n_ = (a) ? (a) * 2 : 8;                          \
		void *p_ = realloc((vec), n_ * sizeof(*(vec)));         \
		if (!p_) {                                              \
			(ctx)->error = df_error_oom();                  \
			(ok) = false;                                   \
		} else {                                                \
			(vec) = p_;                                     \
			(a) = n_;                                       \
		}                                                       \
	}                                                               \
} while (0)

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

/* The transaction segment of the current statement. */
static unsigned int cur_seg(const rctx *ctx)
{
	return ctx->in_tx ? ctx->segment : 0x80000000u | (unsigned int)ctx->cur_stmt;
}

static void copy_name(rname *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= RNAME_MAX)
		n = RNAME_MAX - 1;
	memcpy(dst->s, src, n);
	dst->s[n] = '\0';
}

static void rv_name(const PgQuery__RangeVar *rv, rname *out)
{
	out->s[0] = '\0';
	if (!rv || !rv->relname)
		return;
	if (rv->schemaname && rv->schemaname[0])
		snprintf(out->s, RNAME_MAX, "%s.%s", rv->schemaname, rv->relname);
	else
		snprintf(out->s, RNAME_MAX, "%s", rv->relname);
}

static const char *str_of(const Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ?
		n->string->sval : NULL;
}

/* A name given as a List of String nodes (DROP objects), or a String. */
static void list_name(const Node *n, rname *out)
{
	size_t k = 0;

	out->s[0] = '\0';
	if (!n)
		return;
	if (n->node_case == PG_QUERY__NODE__NODE_STRING) {
		copy_name(out, str_of(n) ? str_of(n) : "");
		return;
	}
	if (n->node_case != PG_QUERY__NODE__NODE_LIST || !n->list)
		return;
	for (size_t i = 0; i < n->list->n_items; i++) {
		const char *p = str_of(n->list->items[i]);

		if (!p)
			continue;
		if (k && k + 1 < RNAME_MAX)
			out->s[k++] = '.';
		for (; *p && k + 1 < RNAME_MAX; p++)
			out->s[k++] = *p;
	}
	out->s[k] = '\0';
}

/* A name given as an array of String nodes (AlterEnumStmt.type_name). */
static void list_name_n(Node *const *items, size_t n, rname *out)
{
	size_t k = 0;

	out->s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = str_of(items[i]);

		if (!p)
			continue;
		if (k && k + 1 < RNAME_MAX)
			out->s[k++] = '.';
		for (; *p && k + 1 < RNAME_MAX; p++)
			out->s[k++] = *p;
	}
	out->s[k] = '\0';
}

static bool is_new(rctx *ctx, const char *tab)
{
	return df__table_is_new(ctx, tab);
}

/*
 * An index that a table created by this migration made itself: its primary
 * key or a UNIQUE/EXCLUDE constraint, named <table>_<...>_pkey/_key/_excl
 * by PostgreSQL (or an index named <table>_..._idx).  The table is new and
 * empty, so dropping it locks nothing anyone waits for.
 */
static bool index_of_new_table(rctx *ctx, const char *idx)
{
	const char *dot = strrchr(idx, '.'), *name = dot ? dot + 1 : idx;
	size_t nl = strlen(name);

	if (!((nl > 5 && !strcmp(name + nl - 5, "_pkey")) ||
	      (nl > 4 && !strcmp(name + nl - 4, "_key")) ||
	      (nl > 5 && !strcmp(name + nl - 5, "_excl")) ||
	      (nl > 4 && !strcmp(name + nl - 4, "_idx"))))
		return false;
	for (size_t i = 0; i < ctx->created.nr; i++) {
		const char *t = ctx->created.v[i].s, *td = strrchr(t, '.');
		size_t tl;

		t = td ? td + 1 : t;
		tl = strlen(t);
		if (tl && tl < nl && !strncmp(name, t, tl) && name[tl] == '_')
			return true;
	}
	return false;
}

/*
 * The advice for a statement that needs a migration of its own, outside a
 * transaction, in the words of the migration's format (as `migrate` words
 * it, src/core/runner.c no_tx_hint): devflow's text for devflow's files;
 * the other tools ignore devflow's directive.  `what` is the statement.
 */
static char *own_file_hint(rctx *ctx, const char *devflow_text, const char *what)
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

static size_t at(const rstmt *st, int32_t loc)
{
	return loc >= 0 && (size_t)loc < st->len ? st->off + (size_t)loc : st->off;
}

/* DefElem as an option flag: FULL, FULL true, CONCURRENTLY false ... */
static bool defelem_true(const PgQuery__DefElem *d)
{
	const Node *a = d->arg;

	if (!a)
		return true;
	switch (a->node_case) {
	case PG_QUERY__NODE__NODE_BOOLEAN:
		return a->boolean && a->boolean->boolval;
	case PG_QUERY__NODE__NODE_INTEGER:
		return a->integer && a->integer->ival != 0;
	case PG_QUERY__NODE__NODE_STRING: {
		const char *v = str_of(a);

		return !(v && (!strcasecmp(v, "false") || !strcasecmp(v, "off") ||
			       !strcmp(v, "0")));
	}
	case PG_QUERY__NODE__NODE_A_CONST:
		if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL)
			return a->a_const->boolval && a->a_const->boolval->boolval;
		if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
			return a->a_const->ival && a->a_const->ival->ival != 0;
		if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL && a->a_const->sval) {
			const char *v = a->a_const->sval->sval;

			return !(v && (!strcasecmp(v, "false") || !strcasecmp(v, "off")));
		}
		return true;
	default:
		return true;
	}
}

static bool has_option(Node **opts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i] && opts[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
		    opts[i]->def_elem->defname &&
		    !strcmp(opts[i]->def_elem->defname, name))
			return defelem_true(opts[i]->def_elem);
	return false;
}

/* ---- settings, locks, segments -------------------------------------------- */

static bool lock_timeout_active(const rctx *ctx, const struct pg_state *ps)
{
	return ps->lt_set && !(ps->lt_local && ps->lt_seg != cur_seg(ctx));
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
	unsigned int seg = cur_seg(ctx);

	for (size_t i = 0; i < ps->nddl; i++)
		if (ps->ddl_seg[i] == seg)
			return;
	bool ok;

	GROW(ok, ctx, ps->ddl_seg, ps->nddl, ps->addl);
	if (ok)
		ps->ddl_seg[ps->nddl++] = seg;
}

/* Something that blocks writes on an existing table. */
static void strong_lock(rctx *ctx, struct pg_state *ps, size_t off, const char *tab,
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
		ps->lt_seg = cur_seg(ctx);
	} else if (!strcmp(op->col.s, "timezone") || !strcmp(op->col.s, "time zone")) {
		ps->tz_utc = !(op->flags & OPF_RESET) &&
			(!strcmp(v, "utc") || !strcmp(v, "etc/utc") || !strcmp(v, "gmt") ||
			 !strcmp(v, "z") || !strcmp(v, "zulu") || !strcmp(v, "utc0") ||
			 !strcmp(v, "0") || !strcmp(v, "+00") || !strcmp(v, "+00:00"));
	}
}

/* ---- expressions and types ------------------------------------------------- */

static const char *func_name(const PgQuery__FuncCall *f)
{
	return f->n_funcname ? str_of(f->funcname[f->n_funcname - 1]) : NULL;
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
		name = str_of(tn->names[tn->n_names - 1]);
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
		copy_name(&c->tab, tab);
		copy_name(&c->col, col);
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
	return str_of(arg->column_ref->fields[0]);
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
		copy_name(&op.tab, tab);
		copy_name(&op.col, col);
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

			rv_name(c->pktable, &ref);
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

				copy_name(&v->tab, tab);
				copy_name(&v->name, name);
				copy_name(&v->col, col ? col : "");
				v->seg = cur_seg(ctx);
			}
			break;
		}
		if (col)
			GROW(ok, ctx, ps->va, ps->nva, ps->ava);
		if (col && ok) {
			/* a validated CHECK (col IS NOT NULL) */
			struct validated *v = &ps->va[ps->nva++];

			copy_name(&v->tab, tab);
			copy_name(&v->col, col);
			v->known = true;
		}
		if (newtab)
			break;
		if (fk) {
			rname ref;

			rv_name(c->pktable, &ref);
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
	if (found && found->seg == cur_seg(ctx) && ctx->in_tx)
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

		copy_name(&v->tab, tab);
		copy_name(&v->col, found ? found->col.s : "");
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

static void alter_table(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__AlterTableStmt *a)
{
	rname tab;
	bool newtab, strong = false, exclusive = false;

	if (a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
	    a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE)
		return;
	rv_name(a->relation, &tab);
	newtab = is_new(ctx, tab.s);
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
			copy_name(&op.tab, tab.s);
			copy_name(&op.col, col);
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
					own_file_hint(ctx, "put it in its own migration marked "
						"-- devflow:no-transaction", "put it"));
			if (!pc || pc->concurrent || newtab)
				break;
			rv_name(pc->name, &part);
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
		strong_lock(ctx, ps, st->off, tab.s,
			exclusive ? "an ACCESS EXCLUSIVE" : "a SHARE ROW EXCLUSIVE");
}

/* ---- the other statements ------------------------------------------------------ */

static void index_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__IndexStmt *ix)
{
	rname tab;

	rv_name(ix->relation, &tab);
	if (ix->concurrent && ix->if_not_exists && ix->idxname && ix->idxname[0])
		df__finding(ctx, "concurrently-if-not-exists", st->off, -1, -1,
			df__fmt("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s: when an earlier "
				"run failed or was cancelled, it left an INVALID index named "
				"%s, and IF NOT EXISTS then skips the build and reports success "
				"while the index is never used", ix->idxname, ix->idxname),
			df__fmt("DROP INDEX CONCURRENTLY IF EXISTS %s first (in its own "
				"no-transaction migration), then CREATE INDEX CONCURRENTLY "
				"without IF NOT EXISTS, so a leftover invalid index is rebuilt",
				ix->idxname));
	if (ix->concurrent) {
		if (ctx->in_tx)
			df__finding(ctx, "concurrently-in-transaction", st->off, -1, -1,
				df__fmt("CREATE INDEX CONCURRENTLY cannot run inside a transaction "
					"block, and this migration runs in one: it fails"),
				own_file_hint(ctx, "add -- devflow:no-transaction to the migration's header "
					"and keep the index in a migration of its own (if the build "
					"fails it leaves an INVALID index to drop before retrying)",
					"CREATE INDEX CONCURRENTLY"));
		return;
	}
	if (is_new(ctx, tab.s))
		return;
	df__finding(ctx, "create-index-not-concurrently", st->off, -1, -1,
		df__fmt("CREATE %sINDEX%s%s builds the index while holding a SHARE lock "
			"on %s: INSERT, UPDATE and DELETE on %s block until it finishes",
			ix->unique ? "UNIQUE " : "", ix->idxname ? " " : "",
			ix->idxname ? ix->idxname : "", tab.s, tab.s),
		own_file_hint(ctx, ix->unique ? "CREATE UNIQUE INDEX CONCURRENTLY ... in a "
			"migration marked -- devflow:no-transaction" : "CREATE INDEX CONCURRENTLY "
			"... in a migration marked -- devflow:no-transaction", ix->unique ?
			"CREATE UNIQUE INDEX CONCURRENTLY ..." : "CREATE INDEX CONCURRENTLY ..."));
	strong_lock(ctx, ps, st->off, tab.s, "a SHARE");
}

static void drop_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__DropStmt *d)
{
	char dwhat[RNAME_MAX + 32], dtxt[RNAME_MAX + 96];

	for (size_t i = 0; i < d->n_objects; i++) {
		rop op;

		memset(&op, 0, sizeof(op));
		list_name(d->objects[i], &op.obj);
		if (d->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
			op.flags |= OPF_CASCADE;
		switch (d->remove_type) {
		case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
			op.kind = OP_DROP_TABLE;
			df__rules_common(ctx, st, &op);
			if (!is_new(ctx, op.obj.s))
				strong_lock(ctx, ps, st->off, op.obj.s, "an ACCESS EXCLUSIVE");
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA:
			op.kind = OP_DROP_SCHEMA;
			df__rules_common(ctx, st, &op);
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
			if (d->concurrent) {
				if (ctx->in_tx)
					df__finding(ctx, "concurrently-in-transaction", st->off, -1, -1,
						df__fmt("DROP INDEX CONCURRENTLY cannot run inside a "
							"transaction block, and this migration runs "
							"in one: it fails"),
						own_file_hint(ctx, "add -- devflow:no-transaction to the "
							"migration's header", "put it"));
				break;
			}
			if (df__nameset_has(&ctx->created_idx, DF_DIALECT_POSTGRES, op.obj.s) ||
			    index_of_new_table(ctx, op.obj.s))
				break;
			snprintf(dwhat, sizeof(dwhat), "DROP INDEX CONCURRENTLY %s", op.obj.s);
			snprintf(dtxt, sizeof(dtxt), "%s in a migration marked "
				"-- devflow:no-transaction", dwhat);
			df__finding(ctx, "drop-index-not-concurrently", st->off, -1, -1,
				df__fmt("DROP INDEX %s takes an ACCESS EXCLUSIVE lock on its table: "
					"every query on the table waits (also while the drop waits "
					"for running queries)", op.obj.s),
				own_file_hint(ctx, dtxt, dwhat));
			{
				char *t = df__fmt("the table of index %s", op.obj.s);

				if (!t)
					ctx->error = df_error_oom();
				else
					strong_lock(ctx, ps, st->off, t, "an ACCESS EXCLUSIVE");
				free(t);
			}
			break;
		default:
			break;
		}
	}
}

static void dml_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RangeVar *rel, const Node *where, bool update)
{
	rop op;
	bool ok;

	memset(&op, 0, sizeof(op));
	op.kind = update ? OP_UPDATE : OP_DELETE;
	rv_name(rel, &op.tab);
	if (!where)
		op.flags |= OPF_NO_WHERE;
	df__rules_common(ctx, st, &op);
	if (is_new(ctx, op.tab.s))
		return;
	GROW(ok, ctx, ps->dml, ps->ndml, ps->adml);
	if (!ok)
		return;
	ps->dml[ps->ndml].stmt = ctx->cur_stmt;
	ps->dml[ps->ndml].off = st->off;
	ps->dml[ps->ndml].seg = cur_seg(ctx);
	ps->dml[ps->ndml].where = where != NULL;
	ps->dml[ps->ndml].update = update;
	ps->dml[ps->ndml].tab = op.tab;
	ps->ndml++;
}

static void maintenance(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
{
	rname tab;

	tab.s[0] = '\0';
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_VACUUM_STMT: {
		const PgQuery__VacuumStmt *v = n->vacuum_stmt;

		if (!v->is_vacuumcmd || !has_option(v->options, v->n_options, "full"))
			return;
		if (v->n_rels && v->rels[0]->node_case == PG_QUERY__NODE__NODE_VACUUM_RELATION)
			rv_name(v->rels[0]->vacuum_relation->relation, &tab);
		df__finding(ctx, "vacuum-full", st->off, -1, -1,
			df__fmt("VACUUM FULL rewrites %s under an ACCESS EXCLUSIVE lock: reads "
				"and writes block until it finishes", tab.s[0] ? tab.s :
				"every table of the database"),
			df__fmt("use pg_repack (or pg_squeeze) to reclaim space online; plain "
				"VACUUM needs no blocking lock"));
		strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "every table", "an ACCESS EXCLUSIVE");
		break;
	}
	case PG_QUERY__NODE__NODE_CLUSTER_STMT:
		rv_name(n->cluster_stmt->relation, &tab);
		df__finding(ctx, "cluster", st->off, -1, -1,
			df__fmt("CLUSTER rewrites %s under an ACCESS EXCLUSIVE lock: reads and "
				"writes block until it finishes", tab.s[0] ? tab.s :
				"every clustered table"),
			df__fmt("use pg_repack --order-by to reorder a table online"));
		strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "every clustered table",
			"an ACCESS EXCLUSIVE");
		break;
	case PG_QUERY__NODE__NODE_REINDEX_STMT: {
		const PgQuery__ReindexStmt *r = n->reindex_stmt;
		bool conc = has_option(r->params, r->n_params, "concurrently");

		if (r->relation)
			rv_name(r->relation, &tab);
		else if (r->name)
			copy_name(&tab, r->name);
		if (conc) {
			if (ctx->in_tx)
				df__finding(ctx, "concurrently-in-transaction", st->off, -1, -1,
					df__fmt("REINDEX CONCURRENTLY cannot run inside a transaction "
						"block, and this migration runs in one: it fails"),
					own_file_hint(ctx, "add -- devflow:no-transaction to the migration's "
						"header", "put it"));
			return;
		}
		/* REINDEX SYSTEM cannot be CONCURRENTLY: never suggest it there
		 * (cannot-run-in-transaction covers it inside a transaction) */
		if (r->kind != PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SYSTEM &&
		    ctx->opts.pg_version >= 12)
			df__finding(ctx, "reindex-not-concurrently", st->off, -1, -1,
				df__fmt("REINDEX without CONCURRENTLY blocks writes to %s (and "
					"queries that use the index) until the rebuild finishes",
					tab.s[0] ? tab.s : "the tables concerned"),
				own_file_hint(ctx, "REINDEX ... CONCURRENTLY in a migration marked "
					"-- devflow:no-transaction", "REINDEX ... CONCURRENTLY"));
		strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "the tables concerned",
			"a SHARE");
		break;
	}
	default:
		break;
	}
}

static void rename_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RenameStmt *r)
{
	rop op;

	memset(&op, 0, sizeof(op));
	rv_name(r->relation, &op.tab);
	if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
		op.kind = OP_RENAME_TABLE;
		copy_name(&op.obj, r->newname ? r->newname : "?");
	} else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		   (r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
		    r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE)) {
		op.kind = OP_RENAME_COLUMN;
		copy_name(&op.col, r->subname ? r->subname : "?");
		copy_name(&op.obj, r->newname ? r->newname : "?");
	} else {
		return;
	}
	df__rules_common(ctx, st, &op);
	if (!is_new(ctx, op.tab.s))
		strong_lock(ctx, ps, st->off, op.tab.s, "an ACCESS EXCLUSIVE");
}

/* ---- views, enum labels, materialized views -------------------------------- */

/* Collect the tables (RangeVar) and columns (ColumnRef) a query reads, by
 * walking every message of the tree (protobuf-c's descriptors). */
static void view_walk(rctx *ctx, struct view *v, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d;

	if (!m || depth > 200 || ctx->error)
		return;
	d = m->descriptor;
	/* by name: libpg_query exports no descriptor symbols */
	if (!strcmp(d->short_name, "RangeVar")) {
		const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;

		if (rv->relname && df_strlist_push(&v->tabs, rv->relname) < 0)
			ctx->error = df_error_oom();
		return;
	}
	if (!strcmp(d->short_name, "ColumnRef")) {
		const PgQuery__ColumnRef *c = (const PgQuery__ColumnRef *)m;
		const Node *last = c->n_fields ? c->fields[c->n_fields - 1] : NULL;

		if (last && last->node_case == PG_QUERY__NODE__NODE_A_STAR)
			v->star = true;
		else if (last && last->node_case == PG_QUERY__NODE__NODE_STRING &&
			 last->string->sval && df_strlist_push(&v->cols, last->string->sval) < 0)
			ctx->error = df_error_oom();
		return;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *a = *(ProtobufCMessage *const *const *)(base + f->offset);

			for (size_t k = 0; k < n && a; k++)
				view_walk(ctx, v, a[k], depth + 1);
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			view_walk(ctx, v, *(ProtobufCMessage *const *)(base + f->offset), depth + 1);
		}
	}
}

static void add_view(rctx *ctx, struct pg_state *ps, const PgQuery__RangeVar *rv,
	const Node *query, bool mat)
{
	struct view *v;
	bool ok;

	if (!rv || !query)
		return;
	GROW(ok, ctx, ps->views, ps->nviews, ps->aviews);
	if (!ok)
		return;
	v = &ps->views[ps->nviews++];
	memset(v, 0, sizeof(*v));
	rv_name(rv, &v->name);
	v->mat = mat;
	view_walk(ctx, v, (const ProtobufCMessage *)query, 0);
}

/* Views of the migration that read tab.col (tab.* counts). */
static void views_using(rctx *ctx, struct pg_state *ps, const char *tab, const char *col,
	df_buf *out, size_t *n)
{
	const char *dot = strrchr(tab, '.'), *t = dot ? dot + 1 : tab;

	for (size_t i = 0; i < ps->nviews; i++) {
		const struct view *v = &ps->views[i];
		bool has_tab = false, has_col = v->star;

		for (size_t k = 0; k < v->tabs.nr && !has_tab; k++)
			has_tab = !strcmp(v->tabs.v[k], t);
		for (size_t k = 0; k < v->cols.nr && !has_col; k++)
			has_col = !strcmp(v->cols.v[k], col);
		if (!has_tab || !has_col)
			continue;
		df_buf_printf(out, "%s%s%s", *n ? ", " : "", v->mat ? "materialized view " : "view ",
			v->name.s);
		(*n)++;
	}
}

static void drop_view(struct pg_state *ps, const char *name)
{
	for (size_t i = 0; i < ps->nviews; i++)
		if (df__name_eq(DF_DIALECT_POSTGRES, ps->views[i].name.s, name)) {
			df_strlist_release(&ps->views[i].tabs);
			df_strlist_release(&ps->views[i].cols);
			ps->views[i] = ps->views[--ps->nviews];
			i--;
		}
}

/* DROP COLUMN of a column that a view of the migration reads. */
static void drop_column_views(rctx *ctx, struct pg_state *ps, const rstmt *st, const rop *op)
{
	df_buf names = DF_BUF_INIT;
	size_t n = 0;

	views_using(ctx, ps, op->tab.s, op->col.s, &names, &n);
	if (n)
		df__finding(ctx, "drop-column-used-by-view", st->off, -1, -1,
			(op->flags & OPF_CASCADE) ?
			df__fmt("DROP COLUMN %s.%s ... CASCADE also drops %s, which read%s "
				"the column: code that queries %s breaks", op->tab.s, op->col.s,
				names.ptr, n == 1 ? "s" : "", n == 1 ? "it" : "them") :
			df__fmt("DROP COLUMN %s.%s fails: %s depend%s on it (PostgreSQL "
				"refuses to drop a column a view reads, without CASCADE)",
				op->tab.s, op->col.s, names.ptr, n == 1 ? "s" : ""),
			df__fmt("first CREATE OR REPLACE the view%s without the column (or "
				"drop %s explicitly, if nothing uses %s), then drop the column",
				n == 1 ? "" : "s", n == 1 ? "it" : "them", n == 1 ? "it" : "them"));
	df_buf_release(&names);
}

/* Statements looked at whatever the ops said (views, enum labels,
 * materialized view refreshes). */
static void tree_extra(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
{
	if (!n)
		return;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_VIEW_STMT:
		add_view(ctx, ps, n->view_stmt->view, n->view_stmt->query, false);
		break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		if (n->create_table_as_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW &&
		    n->create_table_as_stmt->into)
			add_view(ctx, ps, n->create_table_as_stmt->into->rel,
				n->create_table_as_stmt->query, true);
		break;
	case PG_QUERY__NODE__NODE_DROP_STMT: {
		const PgQuery__DropStmt *d = n->drop_stmt;

		if (d->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_VIEW &&
		    d->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW)
			break;
		for (size_t i = 0; i < d->n_objects; i++) {
			rname v;

			list_name(d->objects[i], &v);
			drop_view(ps, v.s);
		}
		break;
	}
	case PG_QUERY__NODE__NODE_ALTER_ENUM_STMT: {
		const PgQuery__AlterEnumStmt *e = n->alter_enum_stmt;
		rname type;

		if (!e->old_val || !e->old_val[0] || !e->new_val)
			break;
		list_name_n(e->type_name, e->n_type_name, &type);
		if (df__nameset_has(&ps->types, DF_DIALECT_POSTGRES, type.s))
			break;
		df__finding(ctx, "rename-enum-value", st->off, -1, -1,
			df__fmt("renames label '%s' of type %s to '%s': running code that "
				"still writes '%s' fails (\"invalid input value for enum\"), and "
				"code that compares with '%s' no longer matches", e->old_val,
				type.s, e->new_val, e->old_val, e->old_val),
			df__fmt("add '%s' as a new value (ALTER TYPE %s ADD VALUE), move the "
				"rows and the code to it, and stop writing '%s' before retiring it",
				e->new_val, type.s, e->old_val));
		break;
	}
	case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT: {
		const PgQuery__RefreshMatViewStmt *r = n->refresh_mat_view_stmt;
		rname mv;

		if (r->concurrent || !r->relation)
			break;
		rv_name(r->relation, &mv);
		for (size_t i = 0; i < ps->nviews; i++)
			if (ps->views[i].mat && df__name_eq(DF_DIALECT_POSTGRES, ps->views[i].name.s, mv.s))
				return;     /* created by this migration: nobody reads it yet */
		df__finding(ctx, "refresh-matview-not-concurrently", st->off, -1, -1,
			df__fmt("REFRESH MATERIALIZED VIEW %s holds an ACCESS EXCLUSIVE lock "
				"on it for the whole refresh: every query that reads %s waits "
				"until the query behind it has run again", mv.s, mv.s),
			df__fmt("REFRESH MATERIALIZED VIEW CONCURRENTLY %s (it needs a UNIQUE "
				"index on the view; reads go on, the refresh takes longer)", mv.s));
		strong_lock(ctx, ps, st->off, mv.s, "an ACCESS EXCLUSIVE");
		break;
	}
	default:
		break;
	}
}

static void tree_stmt(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
{
	if (!n)
		return;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		alter_table(ctx, ps, st, n->alter_table_stmt);
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		rename_stmt(ctx, ps, st, n->rename_stmt);
		break;
	case PG_QUERY__NODE__NODE_INDEX_STMT:
		index_stmt(ctx, ps, st, n->index_stmt);
		break;
	case PG_QUERY__NODE__NODE_DROP_STMT:
		drop_stmt(ctx, ps, st, n->drop_stmt);
		break;
	case PG_QUERY__NODE__NODE_DROPDB_STMT: {
		rop op;

		memset(&op, 0, sizeof(op));
		op.kind = OP_DROP_DATABASE;
		copy_name(&op.obj, n->dropdb_stmt->dbname ? n->dropdb_stmt->dbname : "?");
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
			rv_name(t->relations[i]->range_var, &op.tab);
			if (t->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
				op.flags |= OPF_CASCADE;
			df__rules_common(ctx, st, &op);
			if (!is_new(ctx, op.tab.s))
				strong_lock(ctx, ps, st->off, op.tab.s, "an ACCESS EXCLUSIVE");
		}
		break;
	}
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
		dml_stmt(ctx, ps, st, n->update_stmt->relation, n->update_stmt->where_clause, true);
		break;
	case PG_QUERY__NODE__NODE_DELETE_STMT:
		dml_stmt(ctx, ps, st, n->delete_stmt->relation, n->delete_stmt->where_clause, false);
		break;
	case PG_QUERY__NODE__NODE_VACUUM_STMT:
	case PG_QUERY__NODE__NODE_CLUSTER_STMT:
	case PG_QUERY__NODE__NODE_REINDEX_STMT:
		maintenance(ctx, ps, st, n);
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
		    !is_new(ctx, op->tab.s))
			df__finding(ctx, "create-index-not-concurrently", st->off, -1, -1,
				df__fmt("CREATE INDEX builds the index while holding a SHARE "
					"lock on %s: writes block until it finishes", op->tab.s),
				own_file_hint(ctx, "CREATE INDEX CONCURRENTLY ... in a migration marked "
					"-- devflow:no-transaction", "CREATE INDEX CONCURRENTLY ..."));
	}
	(void)ps;
}

/* LOCK TABLE ... IN <mode> MODE: does the mode block writes?  "" is the
 * default, ACCESS EXCLUSIVE. */
static bool lock_mode_blocks_writes(const char *mode)
{
	return !mode[0] || !strcmp(mode, "share") || !strcmp(mode, "share row exclusive") ||
		!strcmp(mode, "exclusive") || !strcmp(mode, "access exclusive");
}

/* LOCK TABLE ... IN <mode> MODE, rated by what the mode blocks. */
static void lock_table(rctx *ctx, const rstmt *st, const rop *op)
{
	const char *m = op->obj.s[0] ? op->obj.s : "access exclusive";
	char up[RNAME_MAX];
	size_t k = 0;
	int sev, risk;
	const char *blocks;

	for (; m[k] && k + 1 < sizeof(up); k++)
		up[k] = (m[k] >= 'a' && m[k] <= 'z') ? (char)(m[k] - 32) : m[k];
	up[k] = '\0';
	if (!strcmp(m, "access exclusive")) {
		sev = DF_REVIEW_WARNING, risk = DF_RISK_HIGH;
		blocks = "every query, reads included";
	} else if (!strcmp(m, "exclusive")) {
		sev = DF_REVIEW_WARNING, risk = DF_RISK_MEDIUM;
		blocks = "every write (only plain reads go on)";
	} else if (!strcmp(m, "share row exclusive") || !strcmp(m, "share")) {
		sev = DF_REVIEW_WARNING, risk = DF_RISK_MEDIUM;
		blocks = "every write (INSERT, UPDATE, DELETE)";
	} else {
		sev = DF_REVIEW_INFO, risk = DF_RISK_LOW;
		blocks = "no plain read or write, only DDL and the stronger locks";
	}
	df__finding(ctx, "lock-table", st->off, sev, risk,
		df__fmt("LOCK TABLE %s IN %s MODE blocks %s on %s until the migration's "
			"transaction ends", op->tab.s, up, blocks, op->tab.s),
		df__fmt("%s", risk == DF_RISK_LOW ? "keep the transaction short" :
			"take the weakest mode that protects what the migration does, set "
			"a short lock_timeout first, and keep the transaction short"));
}

static void not_in_transaction(rctx *ctx, const rstmt *st, const char *what)
{
	if (!ctx->in_tx)
		return;
	df__finding(ctx, "cannot-run-in-transaction", st->off, -1, -1,
		df__fmt("%s cannot run inside a transaction block, and this migration "
			"runs in one: PostgreSQL refuses it (\"cannot run inside a "
			"transaction block\") and the migration fails", what),
		own_file_hint(ctx, "put the statement in a migration of its own marked "
			"-- devflow:no-transaction", "put the statement"));
}

/* ALTER TYPE t ADD VALUE [IF NOT EXISTS] 'v': the token of 'v', or 0. */
static size_t enum_add_value(rctx *ctx, const rstmt *st)
{
	for (size_t i = 2; i + 2 < st->ntok; i++) {
		if (st->tok[i].depth || !TK(ctx->s, st, i, "add") || !TK(ctx->s, st, i + 1, "value"))
			continue;
		i += 2;
		if (TK(ctx->s, st, i, "if") && TK(ctx->s, st, i + 1, "not") &&
		    TK(ctx->s, st, i + 2, "exists"))
			i += 3;
		return i < st->ntok && st->tok[i].kind == RT_STRING ? i : 0;
	}
	return 0;
}

/* A statement that uses an enum value added earlier in the same
 * transaction: PostgreSQL >= 12 refuses it ("unsafe use of new value"). */
static void enum_uses(rctx *ctx, struct pg_state *ps, const rstmt *st)
{
	if (!ctx->in_tx)
		return;
	for (size_t e = 0; e < ps->nev; e++) {
		const struct enumval *v = &ps->ev[e];
		size_t ll = strlen(v->lit);

		if (v->seg != cur_seg(ctx) || v->stmt == ctx->cur_stmt)
			continue;
		for (size_t i = 0; i < st->ntok; i++) {
			const rtok *t = &st->tok[i];

			if (t->kind != RT_STRING || t->len != ll || memcmp(ctx->s + t->off, v->lit, ll))
				continue;
			df__finding(ctx, "enum-value-same-transaction", t->off, -1, -1,
				df__fmt("uses %s, the value added to enum %s earlier in the same "
					"transaction: PostgreSQL refuses it (\"unsafe use of new "
					"value\") until the ALTER TYPE ... ADD VALUE has "
					"committed, so the migration fails", v->lit, v->type.s),
				df__fmt("add the value in one migration and use it in a later "
					"one (or after a COMMIT in a -- devflow:no-transaction "
					"migration)"));
			break;
		}
	}
}

/* Token-level rules on the statement's ops, before any parsing. */
static void op_rules(rctx *ctx, struct pg_state *ps, const rstmt *st, const rop *op)
{
	switch (op->kind) {
	case OP_SET:
		set_op(ctx, ps, op);
		break;
	case OP_LOCK:
		if (!is_new(ctx, op->tab.s))
			lock_table(ctx, st, op);
		if (!is_new(ctx, op->tab.s) && lock_mode_blocks_writes(op->obj.s)) {
			char lock[RNAME_MAX + 16];
			size_t k = 0;

			/* "an ACCESS EXCLUSIVE", "a SHARE" */
			const char *m = op->obj.s[0] ? op->obj.s : "access exclusive";
			k = (size_t)snprintf(lock, sizeof(lock), "%s ",
				(m[0] == 'a' || m[0] == 'e') ? "an" : "a");
			for (; *m && k + 1 < sizeof(lock); m++)
				lock[k++] = (*m >= 'a' && *m <= 'z') ? (char)(*m - 32) : *m;
			lock[k] = '\0';
			strong_lock(ctx, ps, st->off, op->tab.s, lock);
		}
		break;
	case OP_VACUUM:
		not_in_transaction(ctx, st, "VACUUM");
		break;
	case OP_DROP_COLUMN:
		drop_column_views(ctx, ps, st, op);
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
		else if (!strcmp(op->what, "trigger") && op->tab.s[0] && !is_new(ctx, op->tab.s)) {
			df__finding(ctx, "create-trigger", st->off, -1, -1,
				df__fmt("CREATE TRIGGER %s takes a SHARE ROW EXCLUSIVE lock on %s "
					"(writes block while it waits and until the transaction "
					"ends), and from then on the trigger runs for every row "
					"written to %s, adding its cost to every write",
					op->obj.s[0] ? op->obj.s : "", op->tab.s, op->tab.s),
				df__fmt("set a short lock_timeout, keep the trigger function "
					"cheap, and measure the write path of %s with the trigger "
					"on a copy of production data first", op->tab.s));
			strong_lock(ctx, ps, st->off, op->tab.s, "a SHARE ROW EXCLUSIVE");
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

		if (!op->what || strcmp(op->what, "type") || !(v = enum_add_value(ctx, st)))
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
			copy_name(&ps->ev[ps->nev].type, op->obj.s);
			ps->ev[ps->nev].seg = cur_seg(ctx);
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
	enum_uses(ctx, ps, st);
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
			tree_extra(ctx, ps, st, tree->stmts[i]->stmt);
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
