#ifndef DF_SCHEMA_DIFF_INT_H
#define DF_SCHEMA_DIFF_INT_H

/* The per-dialect half of the diff: DDL for one object at a time. */
#include "schema/schema_int.h"

enum df__alter_flags {
	DF__ALTER_RECREATE = (1 << 0),      /* classify: ALTER cannot do it; drop and create */
	DF__ALTER_DEPENDENTS = (1 << 1),    /* classify: what depends on it is recreated around */
};

/* What a writer renders into, and tells back. */
typedef struct df__render {
	df_buf *b;
	df_strlist *hazards;                /* devflow's own warnings, "devflow: ..." */
	const df_schema *from, *to;
	bool needs_fk_off;                  /* a table rebuild (SQLite): the diff's
					     * preamble turns foreign keys off */
} df__render;

/*
 * One engine: the rules the planner (diff.c) asks, and the writer that
 * renders its operations (ddl_*.c).  The planner and the writers never
 * call each other: render.c hands the planner the rules and the plan to
 * the writer.
 */
typedef struct df__ddl {
	/* ---- rules ---- */
	/* objects equal for this engine; NULL: df__object_equal */
	bool (*equal)(const df_object *a, const df_object *b);
	/* for two different objects of one key: DF__ALTER_RECREATE, DF__ALTER_DEPENDENTS */
	unsigned int (*classify)(const df_object *from, const df_object *to,
		const df_schema *sfrom, const df_schema *sto);
	/* a table-scoped object that goes away with its table (no DROP of its
	 * own); NULL: every one does */
	bool (*absorbed)(const df_object *o);
	bool rebuilds_tables;               /* a table's ALTER may drop and create its
					     * indexes and triggers (SQLite) */
	bool fk_needs_index;                /* a foreign key needs an index on its columns:
					     * such an index is dropped after its table's new
					     * indexes exist, a key after the foreign keys
					     * that reference it (MySQL) */
	bool not_valid_later;               /* a check or foreign key added to an existing
					     * table: NOT VALID, then a VALIDATE (PostgreSQL) */
	/* ---- writer ---- */
	/* the SQL of a change's operations, in order; sets each op's destroys_data */
	int (*render)(df__render *r, df_op *ops, size_t n);
	df_op_lock (*lock)(const df_op *op);
	const char *fk_off, *fk_on;         /* preamble / postamble of a rebuild
	                                       (fk_on: NULL for none) */
	const char *no_body_check;          /* preamble when a function is created
	                                       before what its body names (a cycle) */
} df__ddl;

const df__ddl *df__ddl_for(df_dialect d);
extern const df__ddl df__ddl_pg, df__ddl_sqlite, df__ddl_mysql;

/* The planner (diff.c): `d`'s changes and their operations, ordered, with
 * no SQL yet (render.c renders them). */
int df__diff_plan(df_diff *d, const df_schema *from, const df_schema *to, const df__ddl *rules);
/* Add an operation to a change (strings copied from the objects). */
int df__change_add_op(df_op **out, df_change *c, df_op_kind kind, const df_object *before,
	const df_object *after);

#endif
