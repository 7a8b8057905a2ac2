#ifndef DF_REVIEW_PG_INT_H
#define DF_REVIEW_PG_INT_H

/*
 * Internals of the PostgreSQL rules, shared by the files of src/review/
 * that work on libpg_query's parse tree:
 *
 *   pg.c          the entry point (df__pg_stmt, df__pg_finish): the state,
 *                 settings and locks, the rules on a statement's ops, the
 *                 dispatch of a parse tree
 *   pg_tables.c   tables and columns: ALTER TABLE, UPDATE/DELETE, renames
 *   pg_objects.c  indexes, DROP, maintenance, views, enum types, LOCK TABLE
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "review/review_int.h"

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

/* ---- names and positions (pg.c) ------------------------------------------ */

/* The transaction segment of the current statement. */
static inline unsigned int df__pg_cur_seg(const rctx *ctx)
{
	return ctx->in_tx ? ctx->segment : 0x80000000u | (unsigned int)ctx->cur_stmt;
}

/* Copy `src` into a name, cut to RNAME_MAX - 1 bytes. */
static inline void df__pg_copy_name(rname *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= RNAME_MAX)
		n = RNAME_MAX - 1;
	memcpy(dst->s, src, n);
	dst->s[n] = '\0';
}

/* The text of a String node, else NULL. */
static inline const char *df__pg_str_of(const Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ?
		n->string->sval : NULL;
}

/* The name of a RangeVar, "schema.rel" or "rel" ("" when there is none). */
void df__pg_rv_name(const PgQuery__RangeVar *rv, rname *out);
/* The hint for a statement that needs a migration of its own, in the words
 * of the migration's format; malloc'd (NULL when out of memory). */
char *df__pg_own_file_hint(rctx *ctx, const char *devflow_text, const char *what);
/* Something that blocks writes on existing table `tab` (`lock`: "an ACCESS
 * EXCLUSIVE"): lock-timeout-missing unless one is set, and the segment holds
 * DDL locks (data-change-with-ddl). */
void df__pg_strong_lock(rctx *ctx, struct pg_state *ps, size_t off, const char *tab,
	const char *lock);

/* ---- tables and columns (pg_tables.c) ------------------------------------ */

void df__pg_alter_table(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__AlterTableStmt *a);
/* UPDATE/DELETE: the shared rules, and kept for df__pg_finish. */
void df__pg_dml(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RangeVar *rel, const Node *where, bool update);
void df__pg_rename(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__RenameStmt *r);

/* ---- other objects (pg_objects.c) ---------------------------------------- */

void df__pg_index(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__IndexStmt *ix);
void df__pg_drop(rctx *ctx, struct pg_state *ps, const rstmt *st,
	const PgQuery__DropStmt *d);
/* VACUUM FULL, CLUSTER, REINDEX. */
void df__pg_maintenance(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n);
/* Statements looked at whatever the ops said (views, enum labels,
 * materialized view refreshes). */
void df__pg_tree_extra(rctx *ctx, struct pg_state *ps, const rstmt *st, const Node *n);
/* DROP COLUMN of a column that a view of the migration reads. */
void df__pg_drop_column_views(rctx *ctx, struct pg_state *ps, const rstmt *st, const rop *op);
/* LOCK TABLE ... IN <mode> MODE: does the mode block writes ("" is the
 * default, ACCESS EXCLUSIVE)? */
bool df__pg_lock_mode_blocks_writes(const char *mode);
/* LOCK TABLE ... IN <mode> MODE, rated by what the mode blocks. */
void df__pg_lock_table(rctx *ctx, const rstmt *st, const rop *op);
/* ALTER TYPE t ADD VALUE [IF NOT EXISTS] 'v': the token of 'v', or 0. */
size_t df__pg_enum_add_value(rctx *ctx, const rstmt *st);
/* A statement that uses an enum value added earlier in the same
 * transaction (enum-value-same-transaction). */
void df__pg_enum_uses(rctx *ctx, struct pg_state *ps, const rstmt *st);

#endif
