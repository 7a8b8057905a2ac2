/*
 * The schema after a run, without reading all of it again (issue 26): the
 * model read before the run, patched with a read of only the relations the
 * run touched.  df_schema_touched() says which relations a migration's
 * statements name (libpg_query), or that it cannot say (a DO block, a
 * function, a type, SET search_path, anything else): then the caller reads
 * the whole schema.  df_schema_reread() widens that set to what depends on
 * those relations, before (the model's dependencies) and now (pg_depend),
 * reads that part (read_pg.c) and puts it in place of the same relations
 * in a copy of the model.  Correctness comes first: a schema holding code
 * (functions, aggregates, extensions, domains) is always read whole, as
 * data statements may then run triggers, and a function body may name
 * anything.  PostgreSQL only for now; elsewhere the caller reads the whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "sql/pgq_walk.h"
#include "util/lazy.h"
#include "util/banned.h"

typedef PgQuery__Node pg_node;

/* ---- which relations the statements name ------------------------------------- */

static const char *str_of(const pg_node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : NULL;
}

static int add_name(df_strlist *names, const char *schema, const char *name)
{
	if (!name || !*name)
		return 0;
	return df_strlist_pushf(names, "%s\t%s", schema ? schema : "", name);
}

/* A qualified name (a List of Strings): the relation, less `drop_last` parts */
static int add_list(df_strlist *names, const pg_node *n, size_t drop_last)
{
	const char *parts[4] = { NULL };
	size_t k;

	if (!n || n->node_case != PG_QUERY__NODE__NODE_LIST || !n->list)
		return 0;
	k = n->list->n_items;
	if (k <= drop_last || k - drop_last > 3)
		return 0;
	k -= drop_last;
	for (size_t i = 0; i < k; i++)
		if (!(parts[i] = str_of(n->list->items[i])))
			return 0;
	/* [db.]schema.name or name */
	return add_name(names, k >= 2 ? parts[k - 2] : NULL, parts[k - 1]);
}

struct walk_arg {
	df_strlist *names;
	int depth;
};

static int walk(df_strlist *names, const ProtobufCMessage *m, int depth);

static int walk_child(const ProtobufCMessage *child, void *arg)
{
	const struct walk_arg *a = arg;
	return walk(a->names, child, a->depth + 1);
}

/* Every RangeVar in the statement (over-naming is safe: a relation read
 * again that did not change reads the same). */
static int walk(df_strlist *names, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d;
	int error = 0;

	if (!m || depth > 1000)
		return 0;
	d = m->descriptor;
	if (!strcmp(d->short_name, "RangeVar")) {
		const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
		error = add_name(names, rv->schemaname, rv->relname);
	}
	if (!error) {
		struct walk_arg a = { names, depth };
		error = df_pgq_each_child(m, walk_child, &a);
	}
	return error;
}

static bool relation_type(PgQuery__ObjectType t)
{
	switch (t) {
	case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
	case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
	case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
	case PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE:
	case PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE:
	case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
		return true;
	default:
		return false;
	}
}

/* a part of a relation: its name list ends with the part's own name */
static bool part_type(PgQuery__ObjectType t)
{
	return t == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN || t == PG_QUERY__OBJECT_TYPE__OBJECT_TABCONSTRAINT ||
		t == PG_QUERY__OBJECT_TYPE__OBJECT_TRIGGER || t == PG_QUERY__OBJECT_TYPE__OBJECT_POLICY;
}

/* 1: the statement's relations are in `names`; 0: it is not one whose targets are known */
static int stmt_names(df_strlist *names, const pg_node *n)
{
	int error;

	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_CREATE_STMT:
	case PG_QUERY__NODE__NODE_INDEX_STMT:
	case PG_QUERY__NODE__NODE_VIEW_STMT:
	case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
	case PG_QUERY__NODE__NODE_ALTER_SEQ_STMT:
	case PG_QUERY__NODE__NODE_CREATE_POLICY_STMT:
	case PG_QUERY__NODE__NODE_ALTER_POLICY_STMT:
	case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT:
	case PG_QUERY__NODE__NODE_INSERT_STMT:
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
	case PG_QUERY__NODE__NODE_DELETE_STMT:
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
	case PG_QUERY__NODE__NODE_LOCK_STMT:
		break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		if (n->create_table_as_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
		    n->create_table_as_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW)
			return 0;
		break;
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		if (n->select_stmt->into_clause)        /* SELECT INTO makes a table */
			break;
		break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		if (!relation_type(n->alter_table_stmt->objtype) &&
		    n->alter_table_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TYPE)
			return 0;
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT: {
		const PgQuery__RenameStmt *r = n->rename_stmt;
		if (!relation_type(r->rename_type) && !part_type(r->rename_type))
			return 0;
		if (!r->relation)
			return 0;
		if (relation_type(r->rename_type) &&
		    (error = add_name(names, r->relation->schemaname, r->newname)) < 0)
			return error;
		break;
	}
	case PG_QUERY__NODE__NODE_DROP_STMT: {
		const PgQuery__DropStmt *d = n->drop_stmt;
		bool part = d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TRIGGER ||
			d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_POLICY;
		if ((!relation_type(d->remove_type) && !part) ||
		    d->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
			return 0;
		for (size_t i = 0; i < d->n_objects; i++) {
			if (!d->objects[i] || d->objects[i]->node_case != PG_QUERY__NODE__NODE_LIST)
				return 0;
			if ((error = add_list(names, d->objects[i], part ? 1 : 0)) < 0)
				return error;
		}
		return 1;
	}
	case PG_QUERY__NODE__NODE_COMMENT_STMT: {
		const PgQuery__CommentStmt *c = n->comment_stmt;
		if (!relation_type(c->objtype) && !part_type(c->objtype))
			return 0;
		if (!c->object || c->object->node_case != PG_QUERY__NODE__NODE_LIST)
			return 0;
		return (error = add_list(names, c->object, part_type(c->objtype) ? 1 : 0)) < 0 ? error : 1;
	}
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
	case PG_QUERY__NODE__NODE_GRANT_STMT:    /* privileges are listed, read again whole */
		return 1;
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
		const char *v = n->variable_set_stmt->name;
		/* another search_path: unqualified names are someone else's */
		return v && (!strcmp(v, "search_path") || !strcmp(v, "role") ||
			!strcmp(v, "session_authorization")) ? 0 : 1;
	}
	default:
		return 0;
	}
	return (error = walk(names, (const ProtobufCMessage *)n, 0)) < 0 ? error : 1;
}

int df_schema_touched(df_strlist *names, const char *sql, df_dialect d)
{
	PgQueryProtobufParseResult pr;
	PgQuery__ParseResult *tree;
	int error = 1;

	if (d != DF_DIALECT_POSTGRES || !sql)
		return 0;
	if ((error = df__lazy_load(DF_LAZY_PG_QUERY)) < 0)
		return error;
	pr = pg_query_parse_protobuf(sql);
	if (pr.error) {
		pg_query_free_protobuf_parse_result(pr);
		return 0;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
	if (!tree) {
		pg_query_free_protobuf_parse_result(pr);
		return df_error_oom();
	}
	error = 1;
	for (size_t i = 0; i < tree->n_stmts && error == 1; i++)
		if (tree->stmts[i] && tree->stmts[i]->stmt)
			error = stmt_names(names, tree->stmts[i]->stmt);
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
	return error;
}

/* ---- the set of relations ------------------------------------------------------ */

/* "schema\tname" entries, sorted; schema "" matches any (`any` lists those names) */
struct relset {
	df_strlist exact, any;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has(const df_strlist *l, const char *s)
{
	return l->nr && bsearch(&s, l->v, l->nr, sizeof(char *), cmp_str);
}

static bool in_set(const struct relset *rs, const char *schema, const char *name)
{
	df_buf b = DF_BUF_INIT;
	bool found;

	if (!name)
		return false;
	if (has(&rs->any, name))
		return true;
	df_buf_printf(&b, "%s\t%s", schema, name);
	found = !df_buf_oom(&b) && has(&rs->exact, b.ptr);
	df_buf_release(&b);
	return found;
}

static int set_add(struct relset *rs, const char *schema, const char *name)
{
	int error;

	if (in_set(rs, schema, name))
		return 0;
	if ((error = df_strlist_pushf(&rs->exact, "%s\t%s", schema, name)) < 0)
		return error;
	qsort(rs->exact.v, rs->exact.nr, sizeof(char *), cmp_str);
	return 1;
}

static int set_from(struct relset *rs, const df_strlist *names)
{
	int error = 0;

	for (size_t i = 0; i < names->nr && !error; i++) {
		const char *n = names->v[i];
		error = n[0] == '\t' ? df_strlist_push(&rs->any, n + 1) : df_strlist_push(&rs->exact, n);
	}
	if (rs->exact.nr)
		qsort(rs->exact.v, rs->exact.nr, sizeof(char *), cmp_str);
	if (rs->any.nr)
		qsort(rs->any.v, rs->any.nr, sizeof(char *), cmp_str);
	return error;
}

/* The relation an object is or hangs off; NULL for the others (schemas, enums) */
static const char *rel_of(const df_object *o)
{
	if (o->table)
		return o->table;
	switch (o->kind) {
	case DF_OBJ_TABLE: case DF_OBJ_VIEW: case DF_OBJ_MATVIEW: case DF_OBJ_SEQUENCE:
	case DF_OBJ_COMPOSITE:
		return o->name;
	default:
		return NULL;
	}
}

/* A sequence owned by a column of a relation of the set ("owned_by" names
 * it quoted as needed: compared without the quotes, which can only name
 * more) */
static bool owned_by_set(const df_object *o, const struct relset *rs)
{
	df_buf v = DF_BUF_INIT;
	bool found = false;
	char *plain, *dot, *last;

	if (o->kind != DF_OBJ_SEQUENCE || !df__extra_get(o, "owned_by", &v) || df_buf_oom(&v)) {
		df_buf_release(&v);
		return false;
	}
	plain = v.ptr;
	for (char *p = v.ptr, *q = v.ptr;; p++) {
		if (*p != '"')
			*q++ = *p;
		if (!*p)
			break;
	}
	if ((dot = strchr(plain, '.')) && (last = strrchr(dot + 1, '.'))) {
		*dot = '\0';
		*last = '\0';
		found = in_set(rs, plain, dot + 1);
	}
	df_buf_release(&v);
	return found;
}

/* What depends on the set in the model read before: added to it. */
static int close_before(struct relset *rs, const df_schema *s)
{
	df_strlist keys = DF_STRLIST_INIT;
	int error = 0, added = 1;

	/* an index or constraint named: its table */
	for (size_t i = 0; i < s->nr && error >= 0; i++) {
		const df_object *o = s->v[i];
		if ((o->kind == DF_OBJ_INDEX || o->kind == DF_OBJ_CONSTRAINT) &&
		    in_set(rs, o->schema, o->name))
			error = set_add(rs, o->schema, o->table);
	}
	while (added && error >= 0) {
		added = 0;
		df_strlist_release(&keys);
		for (size_t i = 0; i < s->nr && error >= 0; i++)
			if (in_set(rs, s->v[i]->schema, rel_of(s->v[i])))
				error = df_strlist_push(&keys, s->v[i]->key);
		if (error < 0)
			break;
		if (keys.nr)
			qsort(keys.v, keys.nr, sizeof(char *), cmp_str);
		for (size_t i = 0; i < s->nr && error >= 0; i++) {
			const df_object *o = s->v[i];
			const char *rel = rel_of(o);
			bool dep = false;
			if (!rel || in_set(rs, o->schema, rel))
				continue;
			for (size_t k = 0; k < o->deps.nr && !dep; k++)
				dep = has(&keys, o->deps.v[k]);
			if ((dep || owned_by_set(o, rs)) && (error = set_add(rs, o->schema, rel)) > 0)
				added = 1;
		}
	}
	df_strlist_release(&keys);
	return error < 0 ? error : 0;
}

/* Did the model read before hold a relation, index or constraint of that
 * name (schema NULL: in any)? */
static bool existed(const df_schema *s, const char *schema, const char *name)
{
	for (size_t i = 0; i < s->nr; i++) {
		const df_object *o = s->v[i];
		if ((rel_of(o) || o->kind == DF_OBJ_INDEX || o->kind == DF_OBJ_CONSTRAINT) &&
		    (o->kind == DF_OBJ_INDEX || o->kind == DF_OBJ_CONSTRAINT ? !strcmp(o->name, name) :
		     !o->table && !strcmp(o->name, name)) && (!schema || !strcmp(o->schema, schema)))
			return true;
	}
	return false;
}

/* ---- a copy of the model ------------------------------------------------------ */

static int dup(char **to, const char *from)
{
	return from && !(*to = strdup(from)) ? df_error_oom() : 0;
}

static int list_copy(df_strlist *to, const df_strlist *from)
{
	int error = 0;

	for (size_t i = 0; i < from->nr && !error; i++)
		error = df_strlist_push(to, from->v[i]);
	return error;
}

static int object_copy(df_schema *s, const df_object *o)
{
	df_object *c;
	int error;

	if ((error = df_schema_add(&c, s, o->kind, o->schema, o->name, o->table, o->def)) < 0 ||
	    (error = dup(&c->norm, o->norm)) < 0 || (error = dup(&c->extra, o->extra)) < 0 ||
	    (error = dup(&c->comment, o->comment)) < 0 || (error = list_copy(&c->deps, &o->deps)) < 0 ||
	    (error = list_copy(&c->uses, &o->uses)) < 0)
		return error;
	c->ctype = o->ctype;
	for (size_t i = 0; i < o->ncols; i++) {
		const df_column *f = &o->cols[i];
		df_column *t;
		if ((error = df_object_add_column(&t, c, f->name, f->type)) < 0 ||
		    (error = dup(&t->default_expr, f->default_expr)) < 0 ||
		    (error = dup(&t->collation, f->collation)) < 0 ||
		    (error = dup(&t->generated, f->generated)) < 0 ||
		    (error = dup(&t->identity, f->identity)) < 0 || (error = dup(&t->extra, f->extra)) < 0 ||
		    (error = dup(&t->comment, f->comment)) < 0 || (error = dup(&t->def, f->def)) < 0)
			return error;
		t->notnull = f->notnull;
		t->inherited = f->inherited;
		t->virtual_gen = f->virtual_gen;
	}
	for (size_t i = 0; i < o->nfks; i++) {
		const df_fk *f = &o->fks[i];
		df_fk *t;
		if ((error = df_object_add_fk(&t, c)) < 0 || (error = list_copy(&t->cols, &f->cols)) < 0 ||
		    (error = list_copy(&t->ref_cols, &f->ref_cols)) < 0 ||
		    (error = dup(&t->ref_schema, f->ref_schema)) < 0 ||
		    (error = dup(&t->ref_table, f->ref_table)) < 0)
			return error;
		t->on_delete = f->on_delete;
		t->on_update = f->on_update;
		t->deferrable = f->deferrable;
		t->initially_deferred = f->initially_deferred;
	}
	return 0;
}


/* "migration history tables\ttable schema.name (tool)..." of a relation of the set? */
static bool history_in_set(const char *line, const struct relset *rs)
{
	const char *t = line + strlen(DF_UNCOMPARED_HISTORY) + 7, *dot, *sp;
	char sch[256], name[256];

	if (!(sp = strchr(t, ' ')))
		return true;
	if (!(dot = memchr(t, '.', (size_t)(sp - t))))
		dot = t - 1;            /* one namespace */
	snprintf(sch, sizeof(sch), "%.*s", (int)(dot >= t ? dot - t : 0), t);
	snprintf(name, sizeof(name), "%.*s", (int)(sp - dot - 1), dot + 1);
	return in_set(rs, sch, name);
}

int df_schema_reread(df_schema **out, const df_schema *before, df_conn *conn,
	const df_schema_opts *opts, const df_strlist *names)
{
	static const df_schema_opts defaults = DF_SCHEMA_OPTS_INIT;
	struct relset rs = { DF_STRLIST_INIT, DF_STRLIST_INIT };
	df_strlist found = DF_STRLIST_INIT, kept = DF_STRLIST_INIT;
	df_schema *part = NULL, *s = NULL;
	df_object **fresh = NULL;
	size_t nfresh = 0;
	int error;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (before->dialect != DF_DIALECT_POSTGRES || df_conn_dialect(conn) != DF_DIALECT_POSTGRES ||
	    conn->driver->schema_read || before->privileges != opts->privileges)
		return 1;
	for (size_t i = 0; i < before->nr; i++)
		switch (before->v[i]->kind) {
		case DF_OBJ_FUNCTION: case DF_OBJ_AGGREGATE: case DF_OBJ_EXTENSION: case DF_OBJ_DOMAIN:
			return 1;       /* code, or what a run may not name */
		default:
			break;
		}
	if ((error = set_from(&rs, names)) < 0 || (error = close_before(&rs, before)) < 0)
		goto out;
	/* the part, as the catalogs hold it now (what depends on it now too;
	 * "\t1": it existed before) */
	for (size_t i = 0; i < rs.exact.nr && error == 0; i++) {
		const char *tab = strchr(rs.exact.v[i], '\t');
		char *sch = strndup(rs.exact.v[i], (size_t)(tab - rs.exact.v[i]));
		error = sch ? df_strlist_pushf(&found, "%s%s", rs.exact.v[i],
			existed(before, sch, tab + 1) ? "\t1" : "") : df_error_oom();
		free(sch);
	}
	for (size_t i = 0; i < rs.any.nr && error == 0; i++)
		error = df_strlist_pushf(&found, "\t%s%s", rs.any.v[i],
			existed(before, NULL, rs.any.v[i]) ? "\t1" : "");
	if (error < 0 || (error = df_schema_new(&part, DF_DIALECT_POSTGRES)) < 0 ||
	    (error = df__schema_read_pg_part(conn, part, opts, &found)) < 0)
		goto out;
	for (size_t i = 0; i < found.nr && error >= 0; i++) {
		const char *tab = strchr(found.v[i], '\t');
		char *sch = strndup(found.v[i], (size_t)(tab - found.v[i]));
		error = sch ? (*sch ? set_add(&rs, sch, tab + 1) : 0) : df_error_oom();
		free(sch);
	}
	if (error < 0)
		goto out;
	error = 0;
	/* the model: the rest of `before`, then the part */
	if ((error = df_schema_new(&s, DF_DIALECT_POSTGRES)) < 0 ||
	    (error = list_copy(&s->not_compared, &before->not_compared)) < 0)
		goto out;
	s->server_version = before->server_version;
	for (size_t i = 0; i < before->nr && error == 0; i++)
		if (!in_set(&rs, before->v[i]->schema, rel_of(before->v[i])))
			error = object_copy(s, before->v[i]);
	if (error < 0)
		goto out;
	if (part->nr && !(fresh = malloc(part->nr * sizeof(*fresh)))) {
		error = df_error_oom();
		goto out;
	}
	for (size_t i = 0; i < part->nr; i++) {
		df_object *o;
		if (s->nr == s->alloc) {
			size_t n = s->alloc ? s->alloc * 2 : 64;
			df_object **v = realloc(s->v, n * sizeof(*v));
			if (!v) {
				error = df_error_oom();
				goto out;
			}
			s->v = v;
			s->alloc = n;
		}
		o = part->v[i];
		s->v[s->nr++] = fresh[nfresh++] = o;
	}
	part->nr = 0;
	df__schema_sort(s);
	for (size_t i = 1; i < s->nr; i++)
		if (!strcmp(s->v[i - 1]->key, s->v[i]->key)) {
			error = df_error_set(DF_EINTERNAL, "the schema holds '%s' twice", s->v[i]->key);
			goto out;
		}
	for (size_t i = 0; i < nfresh && error == 0; i++)
		error = df__object_finish(s, fresh[i]);
	if (error < 0)
		goto out;
	/* what is not compared: read again; the history tables not read
	 * again stay as they were listed */
	for (size_t i = 0; i < before->uncompared.nr && error == 0; i++) {
		const char *u = before->uncompared.v[i];
		if (!strncmp(u, DF_UNCOMPARED_HISTORY "\ttable ", strlen(DF_UNCOMPARED_HISTORY) + 7) &&
		    !strstr(u, " (devflow)") && !history_in_set(u, &rs))
			error = df_strlist_push(&kept, u);
	}
	if (error < 0 || (error = df__schema_read_uncompared(conn, s, opts)) < 0)
		goto out;
	for (size_t i = 0; i < kept.nr && error == 0; i++)
		error = df_strlist_push(&s->uncompared, kept.v[i]);
	if (error < 0)
		goto out;
	if (s->uncompared.nr)
		qsort(s->uncompared.v, s->uncompared.nr, sizeof(char *), cmp_str);
	*out = s;
	s = NULL;
out:
	free(fresh);
	df_schema_free(part);
	df_schema_free(s);
	df_strlist_release(&rs.exact);
	df_strlist_release(&rs.any);
	df_strlist_release(&found);
	df_strlist_release(&kept);
	return error < 0 ? error : 0;
}
