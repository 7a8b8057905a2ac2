#ifndef DF_SCHEMA_DIFF_INT_H
#define DF_SCHEMA_DIFF_INT_H

/* The per-dialect half of the diff: DDL for one object at a time. */
#include "schema/schema_int.h"

enum df__alter_flags {
	DF__ALTER_RECREATE = (1 << 0),      /* classify: ALTER cannot do it; drop and create */
	DF__ALTER_DEPENDENTS = (1 << 1),    /* classify: what depends on it is recreated around */
	DF__ALTER_DESTROYS = (1 << 2),      /* alter: drops or rewrites stored values */
	DF__ALTER_NEEDS_FK_OFF = (1 << 3),  /* alter: a table rebuild (SQLite) */
};

typedef struct df__ddl {
	/* objects equal for this engine; NULL: df__object_equal */
	bool (*equal)(const df_object *a, const df_object *b);
	/* for two different objects of one key: DF__ALTER_RECREATE, DF__ALTER_DEPENDENTS */
	unsigned int (*classify)(const df_object *from, const df_object *to,
		const df_schema *sfrom, const df_schema *sto);
	int (*create)(df_buf *b, const df_object *o, const df_schema *sfrom, const df_schema *sto);
	int (*drop)(df_buf *b, const df_object *o);
	int (*alter)(df_buf *b, unsigned int *flags, df_strlist *hazards, const df_object *from,
		const df_object *to, const df_schema *sfrom, const df_schema *sto);
	/* a table-scoped object that goes away with its table (no DROP of its
	 * own); NULL: every one does */
	bool (*absorbed)(const df_object *o);
	bool rebuilds_tables;               /* a table's ALTER may drop and create its
					     * indexes and triggers (SQLite) */
	const char *fk_off, *fk_on;         /* preamble / postamble of a rebuild */
} df__ddl;

const df__ddl *df__ddl_for(df_dialect d);
extern const df__ddl df__ddl_pg, df__ddl_sqlite, df__ddl_mysql;

bool df__object_equal(const df_object *a, const df_object *b);
bool df__column_equal(const df_column *a, const df_column *b);
/* The value of "key=" in an object's extra lines, copied into out; false if absent. */
bool df__extra_get(const df_object *o, const char *key, df_buf *out);

#endif
