/*
 * What a diff's check needs of the two sides (verify.c): the objects the
 * diff's operations name, every object of a table the diff changes, what
 * depends on those (a view on a table whose column changes type, a
 * foreign key that references it, a view on that view ...), and then what
 * all of these need to exist (their tables, the objects they depend on,
 * every schema and extension).  The check loads only that part of the
 * "from" side, runs the script and compares the result with the same part
 * of the "to" side: on 2,000 tables with 200 changes, a tenth of the
 * server's work.  verify.c checks the whole schema again when this part
 * is not verified, so a part too small costs time, never a wrong verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

/* A set of keys, borrowed from the sides: open addressing, FNV-1a. */
struct keyset {
	const char **slot;
	size_t cap, nr;
	const char **list;      /* in the order added: the closure's worklist */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static bool has(const struct keyset *k, const char *key)
{
	if (!k->cap)
		return false;
	for (size_t i = hash(key) & (k->cap - 1); k->slot[i]; i = (i + 1) & (k->cap - 1))
		if (!strcmp(k->slot[i], key))
			return true;
	return false;
}

static int grow(struct keyset *k)
{
	size_t cap = k->cap ? k->cap * 2 : 1024;
	const char **slot = calloc(cap, sizeof(*slot)), **list;

	if (!slot || !(list = realloc(k->list, cap * sizeof(*list)))) {
		free(slot);
		return df_error_oom();
	}
	k->list = list;
	for (size_t i = 0; i < k->nr; i++) {
		size_t j = hash(k->list[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = k->list[i];
	}
	free(k->slot);
	k->slot = slot;
	k->cap = cap;
	return 0;
}

/* Add `key` (borrowed: it outlives the set); 1 when new, 0 when there. */
static int add(struct keyset *k, const char *key)
{
	size_t i;
	int error;

	if (!key || has(k, key))
		return 0;
	if ((k->nr + 1) * 2 > k->cap && (error = grow(k)) < 0)
		return error;
	for (i = hash(key) & (k->cap - 1); k->slot[i]; i = (i + 1) & (k->cap - 1))
		;
	k->slot[i] = key;
	k->list[k->nr++] = key;
	return 1;
}

static void keyset_release(struct keyset *k)
{
	free(k->slot);
	free(k->list);
}

/* The key of the table (or view, materialized view) that owns `o`; NULL
 * when it owns none or neither side holds it.  Borrowed from a side. */
static int owner(const char **out, const df_object *o, const df_schema *const side[2])
{
	static const df_obj_kind kinds[] = { DF_OBJ_TABLE, DF_OBJ_MATVIEW, DF_OBJ_VIEW };

	*out = NULL;
	if (!o->table)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		char *key = df_schema_key(kinds[i], o->schema, o->table, NULL);
		const df_object *t = NULL;
		if (!key)
			return df_error_oom();
		for (int s = 0; s < 2 && !t; s++)
			t = df_schema_find(side[s], key);
		free(key);
		if (t) {
			*out = t->key;
			return 0;
		}
	}
	return 0;
}

static bool is_table(const df_object *o)
{
	return o->kind == DF_OBJ_TABLE || o->kind == DF_OBJ_VIEW || o->kind == DF_OBJ_MATVIEW;
}

/* The objects of `s` whose keys are in `k`, borrowed (release with
 * df__verify_scope_release()). */
static int subset(df_schema *out, const df_schema *s, const struct keyset *k)
{
	*out = *s;
	out->nr = out->alloc = 0;
	if (!(out->v = malloc((s->nr ? s->nr : 1) * sizeof(*out->v))))
		return df_error_oom();
	for (size_t i = 0; i < s->nr; i++)
		if (has(k, s->v[i]->key))
			out->v[out->nr++] = s->v[i];
	out->alloc = s->nr;
	return 0;
}

int df__verify_scope(df_schema *from_sub, df_schema *to_sub, const df_schema *from,
	const df_schema *to, const df_diff *d)
{
	const df_schema *const side[2] = { from, to };
	struct keyset core = { 0 }, need = { 0 }, tables = { 0 };
	bool more = true;
	int error = 0;

	memset(from_sub, 0, sizeof(*from_sub));
	memset(to_sub, 0, sizeof(*to_sub));
	/* what the operations name */
	for (size_t i = 0; i < d->nr && error >= 0; i++) {
		const df_change *c = &d->v[i];
		error = add(&core, c->object);
		for (size_t j = 0; j < c->nops && error >= 0; j++) {
			const df_op *op = &c->ops[j];
			if ((error = add(&core, op->object)) >= 0 && op->before)
				error = add(&core, op->before->key);
			if (error >= 0 && op->after)
				error = add(&core, op->after->key);
		}
	}
	/* a table the diff changes: all of it (its indexes, constraints ...) */
	for (size_t i = 0; i < core.nr && error >= 0; i++)
		for (int s = 0; s < 2 && error >= 0; s++) {
			const df_object *o = df_schema_find(side[s], core.list[i]);
			if (o && is_table(o))
				error = add(&tables, o->key);
		}
	for (int s = 0; s < 2 && error >= 0 && tables.nr; s++)
		for (size_t i = 0; i < side[s]->nr && error >= 0; i++) {
			const df_object *o = side[s]->v[i];
			const char *t;
			if (o->table && (error = owner(&t, o, side)) >= 0 && t && has(&tables, t))
				error = add(&core, o->key);
		}
	/* what depends on those, and on what depends on those */
	while (more && error >= 0) {
		more = false;
		for (int s = 0; s < 2 && error >= 0; s++)
			for (size_t i = 0; i < side[s]->nr && error >= 0; i++) {
				const df_object *o = side[s]->v[i];
				if (has(&core, o->key))
					continue;
				for (size_t j = 0; j < o->deps.nr + o->uses.nr; j++) {
					const char *dep = j < o->deps.nr ? o->deps.v[j] :
						o->uses.v[j - o->deps.nr];
					if (has(&core, dep)) {
						if ((error = add(&core, o->key)) > 0)
							more = true;
						break;
					}
				}
			}
	}
	/* and what all of that needs: every schema and extension, the
	 * objects depended on, the tables that own them */
	for (size_t i = 0; i < core.nr && error >= 0; i++)
		error = add(&need, core.list[i]);
	for (int s = 0; s < 2 && error >= 0; s++)
		for (size_t i = 0; i < side[s]->nr && error >= 0; i++)
			if (side[s]->v[i]->kind == DF_OBJ_SCHEMA || side[s]->v[i]->kind == DF_OBJ_EXTENSION)
				error = add(&need, side[s]->v[i]->key);
	for (size_t i = 0; i < need.nr && error >= 0; i++)
		for (int s = 0; s < 2 && error >= 0; s++) {
			const df_object *o = df_schema_find(side[s], need.list[i]);
			const char *t;
			if (!o)
				continue;
			for (size_t j = 0; j < o->deps.nr && error >= 0; j++)
				error = add(&need, o->deps.v[j]);
			for (size_t j = 0; j < o->uses.nr && error >= 0; j++)
				error = add(&need, o->uses.v[j]);
			if (error >= 0 && (error = owner(&t, o, side)) >= 0)
				error = add(&need, t);
		}
	if (error >= 0 && (error = subset(from_sub, from, &need)) >= 0)
		error = subset(to_sub, to, &need);
	keyset_release(&core);
	keyset_release(&need);
	keyset_release(&tables);
	if (error < 0) {
		df__verify_scope_release(from_sub);
		df__verify_scope_release(to_sub);
		return error;
	}
	return 0;
}

void df__verify_scope_release(df_schema *sub)
{
	free(sub->v);
	memset(sub, 0, sizeof(*sub));
}
