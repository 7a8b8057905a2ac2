#ifndef DF_SCHEMA_DEPENDANTS_H
#define DF_SCHEMA_DEPENDANTS_H

/* What hangs off an object the diff re-creates (dependants.c). */
#include "schema/schema_int.h"

#define DF__NONE ((size_t)-1)

/* The index of `key` in a finished schema, or DF__NONE. */
size_t df__schema_index(const df_schema *s, const char *key);
/* The table, materialized view or view a table-scoped object belongs to. */
size_t df__owner_index(const df_schema *s, const df_object *o);
/* The table that owns a sequence (extra "owned_by="), or DF__NONE. */
size_t df__sequence_owner(const df_schema *s, const df_object *o);

/* Every object's dependants: list[start[i] .. start[i + 1]) depend on i,
 * by a recorded dependency or as i's trigger, index, constraint, policy
 * (owner[j] == i). */
typedef struct df__deps {
	size_t *start, *list, *owner, *fill;
} df__deps;
int df__deps_build(df__deps *g, const df_schema *s);
void df__deps_release(df__deps *g);

/* A trigger or policy of table `t` (of `sf`) that names a column of it
 * whose type changes or that goes in `st` (UPDATE OF, WHEN, USING:
 * PostgreSQL refuses to change a column's type under it), which the change
 * drops and creates again around it. */
bool df__uses_columns(const df_schema *sf, const df_schema *st, const df_object *o,
	const df_object *t);

/* After the CREATE of `o` (of `to`) that `from` held too (PostgreSQL):
 * its owner, grants and rules as `to` has them, appended to `b`. */
int df__restore_around(df_buf *b, const df_schema *from, const df_schema *to, const df_object *o);

#endif
