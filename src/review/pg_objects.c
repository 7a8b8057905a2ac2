/*
 * PostgreSQL rules on objects other than a table's columns (pg.c dispatches
 * to them): CREATE/DROP INDEX, DROP TABLE/SCHEMA, VACUUM FULL, CLUSTER,
 * REINDEX, the views of the migration (DROP COLUMN that one reads), enum
 * labels (RENAME VALUE, a value added and used in one transaction),
 * REFRESH MATERIALIZED VIEW and LOCK TABLE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "review/pg_int.h"
#include "sql/pgq_walk.h"
#include "util/banned.h"

/* A name given as an array of String nodes (AlterEnumStmt.type_name). */
static void list_name_n(Node *const *items, size_t n, rname *out)
{
	size_t k = 0;

	out->s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = df__pg_str_of(items[i]);

		if (!p)
			continue;
		if (k && k + 1 < RNAME_MAX)
			out->s[k++] = '.';
		for (; *p && k + 1 < RNAME_MAX; p++)
			out->s[k++] = *p;
	}
	out->s[k] = '\0';
}

/* A name given as a List of String nodes (DROP objects), or a String. */
static void list_name(const Node *n, rname *out)
{
	out->s[0] = '\0';
	if (!n)
		return;
	if (n->node_case == PG_QUERY__NODE__NODE_STRING) {
		df__pg_copy_name(out, df__pg_str_of(n) ? df__pg_str_of(n) : "");
		return;
	}
	if (n->node_case == PG_QUERY__NODE__NODE_LIST && n->list)
		list_name_n(n->list->items, n->list->n_items, out);
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
		const char *v = df__pg_str_of(a);

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

/* ---- indexes, DROP, maintenance ----------------------------------------------- */


void df__pg_index(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__IndexStmt *ix)
{
	rname tab;

	df__pg_rv_name(ix->relation, &tab);
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
				df__pg_own_file_hint(ctx, "add -- devflow:no-transaction to the migration's header "
					"and keep the index in a migration of its own (if the build "
					"fails it leaves an INVALID index to drop before retrying)",
					"CREATE INDEX CONCURRENTLY"));
		return;
	}
	if (df__table_is_new(ctx, tab.s))
		return;
	df__finding(ctx, "create-index-not-concurrently", st->off, -1, -1,
		df__fmt("CREATE %sINDEX%s%s builds the index while holding a SHARE lock "
			"on %s: INSERT, UPDATE and DELETE on %s block until it finishes",
			ix->unique ? "UNIQUE " : "", ix->idxname ? " " : "",
			ix->idxname ? ix->idxname : "", tab.s, tab.s),
		df__pg_own_file_hint(ctx, ix->unique ? "CREATE UNIQUE INDEX CONCURRENTLY ... in a "
			"migration marked -- devflow:no-transaction" : "CREATE INDEX CONCURRENTLY "
			"... in a migration marked -- devflow:no-transaction", ix->unique ?
			"CREATE UNIQUE INDEX CONCURRENTLY ..." : "CREATE INDEX CONCURRENTLY ..."));
	df__pg_strong_lock(ctx, ps, st->off, tab.s, "a SHARE");
}

void df__pg_drop(rctx *ctx, struct pg_state *ps, const rstmt *st,
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
			if (!df__table_is_new(ctx, op.obj.s))
				df__pg_strong_lock(ctx, ps, st->off, op.obj.s, "an ACCESS EXCLUSIVE");
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
						df__pg_own_file_hint(ctx, "add -- devflow:no-transaction to the "
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
				df__pg_own_file_hint(ctx, dtxt, dwhat));
			{
				char *t = df__fmt("the table of index %s", op.obj.s);

				if (!t)
					ctx->error = df_error_oom();
				else
					df__pg_strong_lock(ctx, ps, st->off, t, "an ACCESS EXCLUSIVE");
				free(t);
			}
			break;
		default:
			break;
		}
	}
}

void df__pg_maintenance(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
{
	rname tab;

	tab.s[0] = '\0';
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_VACUUM_STMT: {
		const PgQuery__VacuumStmt *v = n->vacuum_stmt;

		if (!v->is_vacuumcmd || !has_option(v->options, v->n_options, "full"))
			return;
		if (v->n_rels && v->rels[0]->node_case == PG_QUERY__NODE__NODE_VACUUM_RELATION)
			df__pg_rv_name(v->rels[0]->vacuum_relation->relation, &tab);
		df__finding(ctx, "vacuum-full", st->off, -1, -1,
			df__fmt("VACUUM FULL rewrites %s under an ACCESS EXCLUSIVE lock: reads "
				"and writes block until it finishes", tab.s[0] ? tab.s :
				"every table of the database"),
			df__fmt("use pg_repack (or pg_squeeze) to reclaim space online; plain "
				"VACUUM needs no blocking lock"));
		df__pg_strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "every table", "an ACCESS EXCLUSIVE");
		break;
	}
	case PG_QUERY__NODE__NODE_CLUSTER_STMT:
		df__pg_rv_name(n->cluster_stmt->relation, &tab);
		df__finding(ctx, "cluster", st->off, -1, -1,
			df__fmt("CLUSTER rewrites %s under an ACCESS EXCLUSIVE lock: reads and "
				"writes block until it finishes", tab.s[0] ? tab.s :
				"every clustered table"),
			df__fmt("use pg_repack --order-by to reorder a table online"));
		df__pg_strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "every clustered table",
			"an ACCESS EXCLUSIVE");
		break;
	case PG_QUERY__NODE__NODE_REINDEX_STMT: {
		const PgQuery__ReindexStmt *r = n->reindex_stmt;
		bool conc = has_option(r->params, r->n_params, "concurrently");

		if (r->relation)
			df__pg_rv_name(r->relation, &tab);
		else if (r->name)
			df__pg_copy_name(&tab, r->name);
		if (conc) {
			if (ctx->in_tx)
				df__finding(ctx, "concurrently-in-transaction", st->off, -1, -1,
					df__fmt("REINDEX CONCURRENTLY cannot run inside a transaction "
						"block, and this migration runs in one: it fails"),
					df__pg_own_file_hint(ctx, "add -- devflow:no-transaction to the migration's "
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
				df__pg_own_file_hint(ctx, "REINDEX ... CONCURRENTLY in a migration marked "
					"-- devflow:no-transaction", "REINDEX ... CONCURRENTLY"));
		df__pg_strong_lock(ctx, ps, st->off, tab.s[0] ? tab.s : "the tables concerned",
			"a SHARE");
		break;
	}
	default:
		break;
	}
}

struct view_arg {
	rctx *ctx;
	struct view *v;
	int depth;
};

static void view_walk(rctx *ctx, struct view *v, const ProtobufCMessage *m, int depth);

static int view_child(const ProtobufCMessage *child, void *arg)
{
	const struct view_arg *a = arg;
	view_walk(a->ctx, a->v, child, a->depth + 1);
	return a->ctx->error != 0;
}

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
	{
		struct view_arg a = { ctx, v, depth };
		df_pgq_each_child(m, view_child, &a);
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
	df__pg_rv_name(rv, &v->name);
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
void df__pg_drop_column_views(rctx *ctx, struct pg_state *ps, const rstmt *st, const rop *op)
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
void df__pg_tree_extra(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n)
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
		df__pg_rv_name(r->relation, &mv);
		for (size_t i = 0; i < ps->nviews; i++)
			if (ps->views[i].mat && df__name_eq(DF_DIALECT_POSTGRES, ps->views[i].name.s, mv.s))
				return;     /* created by this migration: nobody reads it yet */
		df__finding(ctx, "refresh-matview-not-concurrently", st->off, -1, -1,
			df__fmt("REFRESH MATERIALIZED VIEW %s holds an ACCESS EXCLUSIVE lock "
				"on it for the whole refresh: every query that reads %s waits "
				"until the query behind it has run again", mv.s, mv.s),
			df__fmt("REFRESH MATERIALIZED VIEW CONCURRENTLY %s (it needs a UNIQUE "
				"index on the view; reads go on, the refresh takes longer)", mv.s));
		df__pg_strong_lock(ctx, ps, st->off, mv.s, "an ACCESS EXCLUSIVE");
		break;
	}
	default:
		break;
	}
}
/* ---- locks and enum types ------------------------------------------------------ */

/* LOCK TABLE ... IN <mode> MODE: does the mode block writes?  "" is the
 * default, ACCESS EXCLUSIVE. */
bool df__pg_lock_mode_blocks_writes(const char *mode)
{
	return !mode[0] || !strcmp(mode, "share") || !strcmp(mode, "share row exclusive") ||
		!strcmp(mode, "exclusive") || !strcmp(mode, "access exclusive");
}

/* LOCK TABLE ... IN <mode> MODE, rated by what the mode blocks. */
void df__pg_lock_table(rctx *ctx, const rstmt *st, const rop *op)
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

/* ALTER TYPE t ADD VALUE [IF NOT EXISTS] 'v': the token of 'v', or 0. */
size_t df__pg_enum_add_value(rctx *ctx, const rstmt *st)
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
void df__pg_enum_uses(rctx *ctx, struct pg_state *ps, const rstmt *st)
{
	if (!ctx->in_tx)
		return;
	for (size_t e = 0; e < ps->nev; e++) {
		const struct enumval *v = &ps->ev[e];
		size_t ll = strlen(v->lit);

		if (v->seg != df__pg_cur_seg(ctx) || v->stmt == ctx->cur_stmt)
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
