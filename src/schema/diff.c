/*
 * Two schema models -> ordered changes.
 *
 * 1. Match the objects of both sides by key: only in `from` -> drop, only
 *    in `to` -> create, in both but different -> alter where the dialect's
 *    ALTER can do it, else drop and create again ("recreate").
 * 2. Cascade: an object dropped or recreated takes its dependents (as the
 *    engine recorded them, and the triggers, indexes, constraints on it:
 *    dependants.c) with it; they are created again when `to` has them.  A table whose columns change type or go away has the views on
 *    it dropped and created again around the change.
 * 3. Order: one graph over every step.  A step that drops X runs after the
 *    steps that drop or alter what depends on X (in `from`); a step that
 *    creates or alters Y runs after the steps that create or alter what Y
 *    depends on (in `to`); a drop runs before the create of the same key.
 *    Ready steps are taken drops first, then alters, then creates, each
 *    by kind (types before tables, tables before constraints and views,
 *    foreign keys after every other constraint) and by key, so the output
 *    is stable.  Foreign keys are their own steps, so a cycle of them is
 *    just two tables created and two constraints added afterwards.
 *    What a function's body names (df_object.uses: the engine recorded
 *    nothing) adds soft edges: kept unless they make a cycle, then the
 *    function on it goes first and the script says so in its preamble
 *    (PostgreSQL: check_function_bodies off, as pg_dump does).
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/dependants.h"
#include "schema/diff_int.h"
#include "util/banned.h"

const char *df_change_op_name(df_change_op op)
{
	return op == DF_CHANGE_DROP ? "drop" : op == DF_CHANGE_ALTER ? "alter" : "create";
}

struct step {
	df_change_op op;
	const df_object *obj;           /* from (drop) or to (create, alter) */
	const df_object *old;           /* alter: the from side */
	df_change ch;                   /* its operations and hazards */
	size_t *after;                  /* steps this one must follow */
	size_t nafter, aafter;
	size_t *next;                   /* steps that follow this one */
	size_t nnext, anext;
	size_t indeg;
	size_t *soft;                   /* steps this one should follow (what a
					 * function's body names): dropped when
					 * they make a cycle */
	size_t nsoft, asoft;
	size_t *snext;                  /* steps that should follow this one */
	size_t nsnext, asnext;
	size_t sindeg;
	int rank;
	bool skip;                      /* absorbed by another step */
};

/* What happens to each object of each side. */
enum fate { KEEP = 0, DROP, CREATE, ALTER, RECREATE };

struct ctx {
	const df_schema *from, *to;
	const df__ddl *ddl;             /* the engine's rules (never its writer) */
	enum fate *ffrom, *fto;         /* per object of from / to */
	df__deps deps;                  /* `from`'s dependants (dependants.c) */
	struct step *steps;
	size_t nsteps, asteps;
	/* per object index: its step index, or SIZE_MAX */
	size_t *drop_of, *create_of, *alter_of;   /* drop_of by from index; others by to index */
};

#define NONE DF__NONE
#define index_of df__schema_index
#define owner_of df__owner_index

/* ---- steps -------------------------------------------------------------- */

static int add_step(size_t *out, struct ctx *c, df_change_op op, const df_object *obj,
	const df_object *old)
{
	struct step *st;

	if (c->nsteps == c->asteps) {
		size_t n = c->asteps ? c->asteps * 2 : 64;
		struct step *v = realloc(c->steps, n * sizeof(*v));
		if (!v)
			return df_error_oom();
		c->steps = v;
		c->asteps = n;
	}
	st = &c->steps[c->nsteps];
	memset(st, 0, sizeof(*st));
	st->op = op;
	st->obj = obj;
	st->old = old;
	*out = c->nsteps++;
	return 0;
}

static int push_idx(size_t **v, size_t *n, size_t *a, size_t x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	if (*n == *a) {
		size_t m = *a ? *a * 2 : 4;
		size_t *nv = realloc(*v, m * sizeof(*nv));
		if (!nv)
			return df_error_oom();
		*v = nv;
		*a = m;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* `later` runs after `first` */
static int edge(struct ctx *c, size_t first, size_t later)
{
	if (first == NONE || later == NONE || first == later)
		return 0;
	return push_idx(&c->steps[later].after, &c->steps[later].nafter,
		&c->steps[later].aafter, first);
}

/* `later` should run after `first` (a soft edge: see order_steps()) */
static int soft_edge(struct ctx *c, size_t first, size_t later)
{
	if (first == NONE || later == NONE || first == later)
		return 0;
	return push_idx(&c->steps[later].soft, &c->steps[later].nsoft,
		&c->steps[later].asoft, first);
}

/* `later` no longer waits for `first` */
static int unedge(struct ctx *c, size_t first, size_t later)
{
	struct step *st = &c->steps[later];

	for (size_t i = 0; i < st->nafter; i++)
		if (st->after[i] == first) {
			st->after[i] = st->after[--st->nafter];
			break;
		}
	return 0;
}

/* ---- cascade ------------------------------------------------------------ */

/*
 * Object `i` of `from` goes away for a while (dropped or recreated): what
 * depends on it is recreated when `to` keeps it.  Tables are never
 * recreated for this (their columns are altered instead); with
 * `through_tables`, the views on a dependent table are recreated too.
 */
static void cascade(struct ctx *c, size_t i, bool through_tables, bool only_views, int depth)
{
	if (depth > 64)
		return;
	for (size_t k = c->deps.start[i]; k < c->deps.start[i + 1]; k++) {
		size_t y = c->deps.list[k];
		const df_object *o = c->from->v[y];
		size_t t;
		if (o->kind == DF_OBJ_TABLE) {
			if (through_tables && c->from->v[i]->kind != DF_OBJ_TABLE)
				cascade(c, y, false, true, depth + 1);
			continue;
		}
		if (only_views && o->kind != DF_OBJ_VIEW && o->kind != DF_OBJ_MATVIEW &&
		    !df__uses_columns(c->from, c->to, o, c->from->v[i]))
			continue;
		if (c->ffrom[y] != KEEP && c->ffrom[y] != ALTER)
			continue;
		if ((t = index_of(c->to, o->key)) == NONE)
			continue;
		c->ffrom[y] = RECREATE;
		c->fto[t] = RECREATE;
		cascade(c, y, through_tables, false, depth + 1);
	}
}

/* ---- ranks: the order among steps the graph leaves free ----------------- */

static int kind_rank(const df_object *o)
{
	if (o->kind == DF_OBJ_CONSTRAINT && o->ctype == DF_CONS_FOREIGN)
		return DF_OBJ_KIND_NR;          /* after every other kind */
	if (o->kind == DF_OBJ_SEQUENCE || o->kind == DF_OBJ_FUNCTION)
		return o->kind;
	return o->kind;
}

static int rank_of(const struct step *st)
{
	int k = kind_rank(st->obj);

	switch (st->op) {
	case DF_CHANGE_DROP: return 0 * 100 + (DF_OBJ_KIND_NR - k);
	case DF_CHANGE_ALTER: return 1 * 100 + k;
	default: return 2 * 100 + k;
	}
}

static int step_cmp(const struct ctx *c, size_t a, size_t b)
{
	const struct step *x = &c->steps[a], *y = &c->steps[b];
	int r;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((r = strcmp(x->obj->key, y->obj->key)))
		return r;
	return a < b ? -1 : a > b;
}

/* a binary heap of step indices */
struct heap {
	size_t *v;
	size_t n;
};

static void heap_push(struct heap *h, const struct ctx *c, size_t x)
{
	size_t i = h->n++;

	h->v[i] = x;
	while (i && step_cmp(c, h->v[i], h->v[(i - 1) / 2]) < 0) {
		size_t p = (i - 1) / 2, t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
}

static size_t heap_pop(struct heap *h, const struct ctx *c)
{
	size_t top = h->v[0], i = 0;

	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && step_cmp(c, h->v[l], h->v[m]) < 0)
			m = l;
		if (r < h->n && step_cmp(c, h->v[r], h->v[m]) < 0)
			m = r;
		if (m == i)
			break;
		size_t t = h->v[m];
		h->v[m] = h->v[i];
		h->v[i] = t;
		i = m;
	}
	return top;
}

static const df_column *column_named(const df_object *o, const char *name);

/* ---- the diff ----------------------------------------------------------- */

/* The step that drops from-object `i`, or (absorbed) its table's. */
static size_t drop_step(struct ctx *c, size_t i)
{
	const df_object *o = c->from->v[i];
	size_t t;

	/* an absorbed drop is its table's */
	if (c->drop_of[i] != NONE && !c->steps[c->drop_of[i]].skip)
		return c->drop_of[i];
	t = o->kind == DF_OBJ_SEQUENCE ? df__sequence_owner(c->from, o) : owner_of(c->from, o);
	if (t != NONE && c->drop_of[t] != NONE)
		return c->drop_of[t];
	return c->drop_of[i];
}

/*
 * Does step `x` (not emitted yet) lead, through the steps not emitted yet,
 * to one of the steps it softly waits on?  Then releasing it breaks a
 * cycle.
 */
static int on_soft_cycle(bool *out, const struct ctx *c, size_t x)
{
	unsigned char *seen = calloc(c->nsteps ? c->nsteps : 1, 1);
	size_t *stack = malloc((c->nsteps ? c->nsteps : 1) * sizeof(size_t)), n = 0;

	*out = false;
	if (!seen || !stack) {
		free(seen);
		free(stack);
		return df_error_oom();
	}
	for (size_t k = 0; k < c->steps[x].nsoft; k++)
		if (c->steps[c->steps[x].soft[k]].indeg != NONE)
			seen[c->steps[x].soft[k]] = 2;      /* a target */
	stack[n++] = x;
	seen[x] = 1;
	while (n && !*out) {
		const struct step *st = &c->steps[stack[--n]];
		for (int pass = 0; pass < 2 && !*out; pass++) {
			const size_t *v = pass ? st->snext : st->next;
			size_t nv = pass ? st->nsnext : st->nnext;
			for (size_t k = 0; k < nv && !*out; k++) {
				size_t y = v[k];
				if (c->steps[y].indeg == NONE || seen[y] == 1)
					continue;
				if (seen[y] == 2)
					*out = true;
				seen[y] = 1;
				stack[n++] = y;
			}
		}
	}
	free(seen);
	free(stack);
	return 0;
}

/* Does index `x` (from) name column `col` ("`col`" in its definition)? */
static bool index_names(const df_object *x, const char *col)
{
	df_buf b = DF_BUF_INIT;
	bool yes;

	df_buf_printf(&b, "`%s`", col);
	yes = !df_buf_oom(&b) && x->def && strstr(x->def, b.ptr);
	df_buf_release(&b);
	return yes;
}

/*
 * MySQL: an index a kept foreign key of its table may use is dropped
 * after the table's new indexes are created (one of them takes over,
 * else ERROR 1553), unless its table's alter drops a column it names;
 * a primary key, unique key or index is dropped after the foreign keys
 * that reference its table.
 */
static int fk_index_edges(struct ctx *c)
{
	const df_schema *f = c->from, *t = c->to;
	int error = 0;

	for (size_t x = 0; x < f->nr && !error; x++) {
		const df_object *o = f->v[x];
		size_t dx = c->drop_of[x], tt, ft;
		bool needed = false, col_dropped = false;
		if (dx == NONE || c->steps[dx].skip || !o->table ||
		    (o->kind != DF_OBJ_INDEX && (o->kind != DF_OBJ_CONSTRAINT ||
		     (o->ctype != DF_CONS_PRIMARY && o->ctype != DF_CONS_UNIQUE))))
			continue;
		for (size_t y = 0; y < f->nr && !error; y++) {
			const df_object *k = f->v[y];
			if (k->kind != DF_OBJ_CONSTRAINT || k->ctype != DF_CONS_FOREIGN || !k->nfks)
				continue;
			if (!strcmp(k->fks[0].ref_table, o->table))
				error = edge(c, drop_step(c, y), dx);
			if (o->kind == DF_OBJ_INDEX && k->table && !strcmp(k->table, o->table) &&
			    c->drop_of[y] == NONE && k->fks[0].cols.nr && index_names(o, k->fks[0].cols.v[0]))
				needed = true;
		}
		if (!needed || error)
			continue;
		ft = owner_of(f, o);
		tt = ft != NONE ? index_of(t, f->v[ft]->key) : NONE;
		if (ft == NONE || tt == NONE)
			continue;
		for (size_t i = 0; i < f->v[ft]->ncols; i++)
			if (!column_named(t->v[tt], f->v[ft]->cols[i].name) &&
			    index_names(o, f->v[ft]->cols[i].name))
				col_dropped = true;
		if (col_dropped)
			continue;
		for (size_t y = 0; y < t->nr && !error; y++) {
			const df_object *n = t->v[y];
			if (c->create_of[y] == NONE || n->kind != DF_OBJ_INDEX || !n->table ||
			    strcmp(n->table, o->table) || !strcmp(n->key, o->key))
				continue;
			error = edge(c, c->create_of[y], dx);
		}
		/* it may wait for the table's alter: the new index may need it */
		if (!error && c->alter_of[tt] != NONE)
			error = unedge(c, dx, c->alter_of[tt]);
	}
	return error;
}

static int order_steps(struct ctx *c, df_diff *d)
{
	const df_schema *f = c->from, *t = c->to;
	struct heap h = { NULL, 0 };
	size_t emitted = 0;
	int error = 0;

	/* drops after the drops and alters of their dependents (from) */
	for (size_t y = 0; y < f->nr; y++) {
		size_t ty = index_of(t, f->v[y]->key);
		size_t dy = drop_step(c, y), ay = ty != NONE ? c->alter_of[ty] : NONE;
		for (size_t k = 0; k < f->v[y]->deps.nr; k++) {
			size_t x = index_of(f, f->v[y]->deps.v[k]), tx;
			if (x == NONE)
				continue;
			if ((error = edge(c, dy, drop_step(c, x))) < 0 ||
			    (error = edge(c, ay, drop_step(c, x))) < 0)
				goto out;
			/* a dependent goes before the alter of what it depends on */
			tx = index_of(t, f->v[x]->key);
			if (tx != NONE && (error = edge(c, dy, c->alter_of[tx])) < 0)
				goto out;
		}
	}
	/* creates and alters after the creates and alters of what they need (to) */
	for (size_t y = 0; y < t->nr; y++) {
		size_t cy = c->create_of[y], ay = c->alter_of[y], ow;
		if (cy == NONE && ay == NONE)
			continue;
		for (size_t k = 0; k < t->v[y]->deps.nr; k++) {
			size_t x = index_of(t, t->v[y]->deps.v[k]);
			if (x == NONE)
				continue;
			if ((error = edge(c, c->create_of[x], cy)) < 0 ||
			    (error = edge(c, c->create_of[x], ay)) < 0 ||
			    (error = edge(c, c->alter_of[x], cy)) < 0)
				goto out;
		}
		/* a trigger, index or rule on a table or view created again: after it */
		if (cy != NONE && (ow = owner_of(t, t->v[y])) != NONE &&
		    ((error = edge(c, c->create_of[ow], cy)) < 0 ||
		     (error = edge(c, c->alter_of[ow], cy)) < 0))
			goto out;
		/* what a function's body names (the engine recorded nothing):
		 * created or altered first, where that makes no cycle */
		for (size_t k = 0; k < t->v[y]->uses.nr; k++) {
			size_t x = index_of(t, t->v[y]->uses.v[k]);
			if (x == NONE)
				continue;
			if ((error = soft_edge(c, c->create_of[x], cy)) < 0 ||
			    (error = soft_edge(c, c->create_of[x], ay)) < 0 ||
			    (error = soft_edge(c, c->alter_of[x], cy)) < 0 ||
			    (error = soft_edge(c, c->alter_of[x], ay)) < 0)
				goto out;
		}
		/* drop before create of the same key */
		if (cy != NONE) {
			size_t fy = index_of(f, t->v[y]->key);
			if (fy != NONE && (error = edge(c, drop_step(c, fy), cy)) < 0)
				goto out;
		}
	}
	if (c->ddl->fk_needs_index && (error = fk_index_edges(c)) < 0)
		goto out;
	/* the graph's forward lists */
	for (size_t i = 0; i < c->nsteps; i++) {
		struct step *st = &c->steps[i];
		st->rank = rank_of(st);
		for (size_t k = 0; k < st->nafter; k++) {
			struct step *p = &c->steps[st->after[k]];
			if ((error = push_idx(&p->next, &p->nnext, &p->anext, i)) < 0)
				goto out;
			st->indeg++;
		}
		for (size_t k = 0; k < st->nsoft; k++) {
			struct step *p = &c->steps[st->soft[k]];
			bool hard = false;
			for (size_t m = 0; m < st->nafter && !hard; m++)
				hard = st->after[m] == st->soft[k];
			if (hard)
				continue;
			if ((error = push_idx(&p->snext, &p->nsnext, &p->asnext, i)) < 0)
				goto out;
			st->sindeg++;
		}
	}
	if (!(h.v = malloc((c->nsteps ? c->nsteps : 1) * sizeof(size_t)))) {
		error = df_error_oom();
		goto out;
	}
	if (!(d->v = calloc(c->nsteps ? c->nsteps : 1, sizeof(df_change)))) {
		error = df_error_oom();
		goto out;
	}
	for (size_t i = 0; i < c->nsteps; i++)
		if (!c->steps[i].indeg && !c->steps[i].sindeg)
			heap_push(&h, c, i);
	while (emitted < c->nsteps) {
		size_t i;
		struct step *st;
		if (!h.n) {
			/* stuck on soft edges (a function's body names a table whose
			 * default calls the function ...): the first step that waits
			 * on nothing else goes ahead, and the script creates function
			 * bodies unchecked, as pg_dump's does */
			size_t best = NONE;
			bool cyc = false;
			for (size_t k = 0; k < c->nsteps; k++) {
				bool on;
				if (c->steps[k].indeg != 0 || !c->steps[k].sindeg)
					continue;
				/* one on the cycle first: releasing another helps nothing */
				if ((error = on_soft_cycle(&on, c, k)) < 0)
					goto out;
				if (best == NONE || (on && !cyc) || (on == cyc && step_cmp(c, k, best) < 0)) {
					best = k;
					cyc = on;
				}
			}
			if (best != NONE) {
				c->steps[best].sindeg = 0;
				heap_push(&h, c, best);
				if (c->ddl->no_body_check && !d->preamble &&
				    !(d->preamble = strdup(c->ddl->no_body_check))) {
					error = df_error_oom();
					goto out;
				}
			}
		}
		if (!h.n) {
			/* a cycle: take the first step left, in rank order, and say so */
			size_t best = NONE;
			for (size_t k = 0; k < c->nsteps; k++)
				if (c->steps[k].indeg != NONE && c->steps[k].indeg &&
				    (best == NONE || step_cmp(c, k, best) < 0))
					best = k;
			if (best == NONE)
				break;
			c->steps[best].indeg = 0;
			df_strlist_push(&c->steps[best].ch.hazards,
				"devflow: a dependency cycle: this change was placed before something it depends on");
			heap_push(&h, c, best);
		}
		i = heap_pop(&h, c);
		st = &c->steps[i];
		st->indeg = NONE;
		emitted++;
		for (size_t k = 0; k < st->nnext; k++) {
			struct step *n = &c->steps[st->next[k]];
			if (n->indeg != NONE && n->indeg && --n->indeg == 0 && !n->sindeg)
				heap_push(&h, c, st->next[k]);
		}
		for (size_t k = 0; k < st->nsnext; k++) {
			struct step *n = &c->steps[st->snext[k]];
			if (n->indeg != NONE && n->sindeg && --n->sindeg == 0 && !n->indeg)
				heap_push(&h, c, st->snext[k]);
		}
		if (st->skip || !st->ch.nops)
			continue;
		df_change *ch = &d->v[d->nr++];
		*ch = st->ch;
		memset(&st->ch, 0, sizeof(st->ch));
		ch->op = st->op;
		ch->kind = st->obj->kind;
		if (!(ch->object = strdup(st->obj->key))) {
			error = df_error_oom();
			goto out;
		}
	}
	d->alloc = c->nsteps;
out:
	free(h.v);
	return error;
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->nsteps; i++) {
		df_change_release(&c->steps[i].ch);
		free(c->steps[i].after);
		free(c->steps[i].next);
		free(c->steps[i].soft);
		free(c->steps[i].snext);
	}
	free(c->steps);
	free(c->ffrom);
	free(c->fto);
	df__deps_release(&c->deps);
	free(c->drop_of);
	free(c->create_of);
	free(c->alter_of);
}

static const df_column *column_named(const df_object *o, const char *name)
{
	for (size_t i = 0; i < o->ncols; i++)
		if (!strcmp(o->cols[i].name, name))
			return &o->cols[i];
	return NULL;
}

/* A column as a person reads it: SQLite's own definition, else the model's. */
static void column_line(df_buf *b, const df_column *c)
{
	if (c->def)
		df_buf_puts(b, c->def);
	else
		df__column_text(b, c);
}

/* "- a int", "+ b text", "~ c int -> bigint not null": a's columns against b's */
static int column_changes(df_strlist *out, const df_object *a, const df_object *b)
{
	df_buf l = DF_BUF_INIT;
	int error = 0;

	for (size_t i = 0; i < a->ncols && !error; i++) {
		const df_column *was = &a->cols[i], *now = column_named(b, was->name);
		if (now && df__column_equal(was, now))
			continue;
		df_buf_truncate(&l, 0);
		df_buf_puts(&l, now ? "~ " : "- ");
		column_line(&l, was);
		if (now) {
			df_buf_puts(&l, " -> ");
			column_line(&l, now);
		}
		error = df_buf_oom(&l) ? df_error_oom() : df_strlist_push(out, l.ptr);
	}
	for (size_t i = 0; i < b->ncols && !error; i++) {
		if (column_named(a, b->cols[i].name))
			continue;
		df_buf_truncate(&l, 0);
		df_buf_puts(&l, "+ ");
		column_line(&l, &b->cols[i]);
		error = df_buf_oom(&l) ? df_error_oom() : df_strlist_push(out, l.ptr);
	}
	df_buf_release(&l);
	return error;
}

int df_diff_changed_only(df_diff *d, const df_schema *from, const df_schema *to)
{
	size_t k = 0;
	int error = 0;

	for (size_t i = 0; i < d->nr; i++) {
		df_change *c = &d->v[i];
		const df_object *a = df_schema_find(from, c->object);
		const df_object *b = df_schema_find(to, c->object);

		/* a view or an index dropped and created again around a rebuild,
		 * its definition the same on both sides: not a change made */
		if ((c->op == DF_CHANGE_DROP || c->op == DF_CHANGE_CREATE) && a && b &&
		    df__object_equal(a, b)) {
			df_change_release(c);
			continue;
		}
		if (!error && c->op == DF_CHANGE_ALTER && c->kind == DF_OBJ_TABLE && a && b)
			error = column_changes(&c->columns, a, b);
		d->v[k++] = *c;
	}
	d->nr = k;
	return error;
}

static void op_release(df_op *op)
{
	free(op->object);
	free(op->column);
	free(op->constraint);
	free(op->old_name);
	free(op->new_name);
}

void df_change_remove_op(df_change *c, size_t i)
{
	if (i >= c->nops)
		return;
	op_release(&c->ops[i]);
	memmove(&c->ops[i], &c->ops[i + 1], (c->nops - i - 1) * sizeof(*c->ops));
	c->nops--;
}

void df_change_release(df_change *c)
{
	free(c->object);
	free(c->sql);
	df_strlist_release(&c->hazards);
	df_strlist_release(&c->columns);
	for (size_t i = 0; i < c->nops; i++)
		op_release(&c->ops[i]);
	free(c->ops);
	memset(c, 0, sizeof(*c));
}

int df__change_add_op(df_op **out, df_change *c, df_op_kind kind, const df_object *before,
	const df_object *after)
{
	const df_object *o = after ? after : before;
	df_op *v = realloc(c->ops, (c->nops + 1) * sizeof(*v)), *op;

	*out = NULL;
	if (!v)
		return df_error_oom();
	c->ops = v;
	op = &v[c->nops];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->before = before;
	op->after = after;
	if (o) {
		op->object_kind = o->kind;
		op->ctype = o->ctype;
		if (!(op->object = strdup(o->key)) ||
		    (o->kind == DF_OBJ_CONSTRAINT && !(op->constraint = strdup(o->name)))) {
			op_release(op);
			return df_error_oom();
		}
	}
	c->nops++;
	*out = op;
	return 0;
}

/* A column operation of a table's alter. */
static int column_op(df_change *c, df_op_kind kind, const df_object *f, const df_object *t,
	const df_column *was, const df_column *now)
{
	df_op *op;
	int error = df__change_add_op(&op, c, kind, f, t);

	if (error < 0)
		return error;
	op->col_before = was;
	op->col_after = now;
	if (!(op->column = strdup(now ? now->name : was->name)))
		return df_error_oom();
	return 0;
}

/*
 * A table's alter as operations: its columns dropped (in `f`'s order), then
 * added or changed (in `t`'s; a column that is the same but moves among
 * the kept ones changes too: MySQL places it), then the table itself.
 */
static int table_ops(df_change *c, const df_object *f, const df_object *t)
{
	size_t nf = 0;
	df_op *op;
	int error = 0;

	for (size_t i = 0; i < f->ncols && !error; i++)
		if (!column_named(t, f->cols[i].name))
			error = column_op(c, DF_OP_DROP_COLUMN, f, t, &f->cols[i], NULL);
	for (size_t j = 0; j < t->ncols && !error; j++) {
		const df_column *nc = &t->cols[j], *oc = column_named(f, nc->name);
		size_t pos = 0;
		bool moved;
		for (size_t k = 0; k < f->ncols; k++) {
			if (!column_named(t, f->cols[k].name))
				continue;
			if (!strcmp(f->cols[k].name, nc->name))
				break;
			pos++;
		}
		moved = oc && pos != nf;
		if (oc)
			nf++;
		if (oc && df__column_equal(oc, nc) && !moved)
			continue;
		error = column_op(c, oc ? DF_OP_ALTER_COLUMN : DF_OP_ADD_COLUMN, f, t, oc, nc);
	}
	return error ? error : df__change_add_op(&op, c, DF_OP_ALTER, f, t);
}

void df_diff_free(df_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++)
		df_change_release(&d->v[i]);
	free(d->v);
	df_strlist_release(&d->not_compared);
	for (size_t i = 0; i < d->nunc; i++) {
		free(d->unc[i].cls);
		free(d->unc[i].object);
		df_strlist_release(&d->unc[i].used_by);
	}
	free(d->unc);
	free(d->preamble);
	free(d->postamble);
	free(d);
}

/* Is the table of a from-object dropped (not recreated around it)? */
static bool table_dropped(struct ctx *c, const df_object *o)
{
	size_t t = o->kind == DF_OBJ_SEQUENCE ? df__sequence_owner(c->from, o) : owner_of(c->from, o);

	return t != NONE && (c->ffrom[t] == DROP || c->ffrom[t] == RECREATE);
}

/*
 * A foreign key of a dropped table that references another dropped table
 * which references it back (a cycle of two): neither table can be dropped
 * first while the other's key stands, so the key is dropped on its own,
 * before both tables.
 */
static bool fk_in_dropped_cycle(struct ctx *c, const df_object *o)
{
	size_t t = owner_of(c->from, o);

	if (o->kind != DF_OBJ_CONSTRAINT || o->ctype != DF_CONS_FOREIGN || t == NONE)
		return false;
	for (size_t d = 0; d < o->deps.nr; d++) {
		size_t u = index_of(c->from, o->deps.v[d]);
		if (u == NONE || u == t || c->from->v[u]->kind != DF_OBJ_TABLE ||
		    (c->ffrom[u] != DROP && c->ffrom[u] != RECREATE))
			continue;
		for (size_t i = 0; i < c->from->nr; i++) {
			const df_object *b = c->from->v[i];
			if (b->kind != DF_OBJ_CONSTRAINT || b->ctype != DF_CONS_FOREIGN ||
			    owner_of(c->from, b) != u)
				continue;
			for (size_t k = 0; k < b->deps.nr; k++)
				if (!strcmp(b->deps.v[k], c->from->v[t]->key))
					return true;
		}
	}
	return false;
}

int df__diff_plan(df_diff *d, const df_schema *from, const df_schema *to, const df__ddl *rules)
{
	struct ctx c;
	int error = 0;
	size_t i, j;

	memset(&c, 0, sizeof(c));
	c.from = from;
	c.to = to;
	c.ddl = rules;
	if (!(c.ffrom = calloc(from->nr + 1, sizeof(*c.ffrom))) ||
	    !(c.fto = calloc(to->nr + 1, sizeof(*c.fto))) ||
	    !(c.drop_of = malloc((from->nr + 1) * sizeof(size_t))) ||
	    !(c.create_of = malloc((to->nr + 1) * sizeof(size_t))) ||
	    !(c.alter_of = malloc((to->nr + 1) * sizeof(size_t)))) {
		error = df_error_oom();
		goto out;
	}
	for (i = 0; i < from->nr; i++)
		c.drop_of[i] = NONE;
	for (i = 0; i < to->nr; i++)
		c.create_of[i] = c.alter_of[i] = NONE;
	/* what is not compared: df__diff_uncompared(), once the changes are known */
	if ((error = df__deps_build(&c.deps, from)) < 0)
		goto out;

	/* 1. match */
	for (i = 0, j = 0; i < from->nr || j < to->nr;) {
		int cmp = i == from->nr ? 1 : j == to->nr ? -1 : strcmp(from->v[i]->key, to->v[j]->key);
		if (cmp < 0)
			c.ffrom[i++] = DROP;
		else if (cmp > 0)
			c.fto[j++] = CREATE;
		else {
			if (!(c.ddl->equal ? c.ddl->equal : df__object_equal)(from->v[i], to->v[j])) {
				unsigned int how = c.ddl->classify(from->v[i], to->v[j], from, to);
				c.ffrom[i] = c.fto[j] = (how & DF__ALTER_RECREATE) ? RECREATE : ALTER;
			}
			i++;
			j++;
		}
	}
	/* 2. cascade */
	for (i = 0; i < from->nr; i++) {
		size_t t;
		if (c.ffrom[i] == DROP || c.ffrom[i] == RECREATE)
			cascade(&c, i, c.ffrom[i] == RECREATE, false, 0);
		else if (c.ffrom[i] == ALTER && (t = index_of(to, from->v[i]->key)) != NONE) {
			unsigned int how = c.ddl->classify(from->v[i], to->v[t], from, to);
			if (how & DF__ALTER_DEPENDENTS)
				cascade(&c, i, true, from->v[i]->kind == DF_OBJ_TABLE &&
					!c.ddl->rebuilds_tables, 0);
		}
	}
	/* 3. steps and their operations */
	for (i = 0; i < from->nr; i++) {
		const df_object *o = from->v[i];
		df_op *op;
		size_t s;
		if (c.ffrom[i] != DROP && c.ffrom[i] != RECREATE)
			continue;
		if ((error = add_step(&s, &c, DF_CHANGE_DROP, o, NULL)) < 0)
			goto out;
		c.drop_of[i] = s;
		/* a table's own objects go with it */
		if ((o->table || o->kind == DF_OBJ_SEQUENCE) && table_dropped(&c, o) &&
		    (!c.ddl->absorbed || c.ddl->absorbed(o)) && !fk_in_dropped_cycle(&c, o)) {
			c.steps[s].skip = true;
			continue;
		}
		if ((error = df__change_add_op(&op, &c.steps[s].ch, DF_OP_DROP, o, NULL)) < 0)
			goto out;
		op->destroys_data = o->kind == DF_OBJ_TABLE || o->kind == DF_OBJ_MATVIEW ||
			o->kind == DF_OBJ_SCHEMA || o->kind == DF_OBJ_SEQUENCE;
	}
	for (i = 0; i < from->nr; i++) {
		const df_object *o = from->v[i];
		size_t t;
		if (c.drop_of[i] == NONE || !c.steps[c.drop_of[i]].skip)
			continue;
		/* an absorbed drop happens when its table's does */
		t = o->kind == DF_OBJ_SEQUENCE ? df__sequence_owner(from, o) : owner_of(from, o);
		if (t != NONE && (error = edge(&c, c.drop_of[t], c.drop_of[i])) < 0)
			goto out;
	}
	for (i = 0; i < to->nr; i++) {
		const df_object *o = to->v[i];
		df_op *op;
		size_t s, fi;
		if (c.fto[i] == CREATE || c.fto[i] == RECREATE) {
			if ((error = add_step(&s, &c, DF_CHANGE_CREATE, o, NULL)) < 0)
				goto out;
			c.create_of[i] = s;
			if ((error = df__change_add_op(&op, &c.steps[s].ch, DF_OP_CREATE, NULL, o)) < 0)
				goto out;
			/* on a table that has rows already, a check or foreign key is
			 * added NOT VALID and validated after: the validation does not
			 * block writes (migra does the same) */
			if (c.ddl->not_valid_later && o->kind == DF_OBJ_CONSTRAINT &&
			    (o->ctype == DF_CONS_CHECK || o->ctype == DF_CONS_FOREIGN) &&
			    o->def && !strstr(o->def, "NOT VALID")) {
				char *tkey = df_schema_key(DF_OBJ_TABLE, o->schema, o->table, NULL);
				bool existing = tkey && df_schema_find(from, tkey);
				free(tkey);
				if (existing) {
					op->not_valid = true;
					if ((error = df__change_add_op(&op, &c.steps[s].ch, DF_OP_VALIDATE,
						NULL, o)) < 0)
						goto out;
				}
			}
		} else if (c.fto[i] == ALTER) {
			fi = index_of(from, o->key);
			if ((error = add_step(&s, &c, DF_CHANGE_ALTER, o, from->v[fi])) < 0)
				goto out;
			c.alter_of[i] = s;
			if (o->kind == DF_OBJ_TABLE)
				error = table_ops(&c.steps[s].ch, from->v[fi], o);
			else
				error = df__change_add_op(&op, &c.steps[s].ch, DF_OP_ALTER, from->v[fi], o);
			if (error < 0)
				goto out;
		}
	}
	error = order_steps(&c, d);
out:
	ctx_release(&c);
	return error;
}

int df_diff_sql(char **out, const df_diff *d)
{
	df_buf b = DF_BUF_INIT;

	*out = NULL;
	if (d->preamble && d->nr)
		df_buf_puts(&b, d->preamble);
	for (size_t i = 0; i < d->nr; i++)
		df_buf_printf(&b, "%s%s", i || (d->preamble && d->nr) ? "\n" : "", d->v[i].sql);
	if (d->postamble && d->nr)
		df_buf_printf(&b, "\n%s", d->postamble);
	if (df_buf_oom(&b)) {
		df_buf_release(&b);
		return df_error_oom();
	}
	*out = df_buf_detach(&b);
	return 0;
}

int df_diff_review(df_diff *d, int pg_version, const df_strlist *disabled)
{
	df_review_opts opts;
	int error;

	df_review_opts_init(&opts);
	opts.dialect = d->dialect;
	if (pg_version)
		opts.pg_version = pg_version;
	opts.disabled = disabled;
	for (size_t i = 0; i < d->nr; i++) {
		df_change *ch = &d->v[i];
		df_review_result *r = NULL;
		if ((error = df_review_run(&r, &opts, NULL, ch->sql, strlen(ch->sql))) < 0)
			return error;
		ch->risk = r->max_risk;
		if (r->destroys_data)
			ch->destroys_data = true;
		if (ch->destroys_data && ch->risk < DF_RISK_HIGH && ch->op != DF_CHANGE_CREATE)
			ch->risk = DF_RISK_HIGH;
		for (size_t k = 0; k < r->nr_findings; k++)
			if ((error = df_strlist_pushf(&ch->hazards, "%s: %s", r->findings[k].rule,
				r->findings[k].message)) < 0) {
				df_review_result_free(r);
				return error;
			}
		df_review_result_free(r);
	}
	return 0;
}
