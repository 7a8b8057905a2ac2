/*
 * The schema model: objects, keys, the stable serialisations and the hash.
 * Readers (read_pg.c, read_mysql.c, read_sqlite.c) fill it; diff.c compares
 * two of them.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/schema.h"
#include "schema/schema_int.h"
#include "util/sha256.h"
#include "util/banned.h"

static const char *const kind_names[DF_OBJ_KIND_NR] = {
	[DF_OBJ_SCHEMA] = "schema",
	[DF_OBJ_EXTENSION] = "extension",
	[DF_OBJ_ENUM] = "enum",
	[DF_OBJ_DOMAIN] = "domain",
	[DF_OBJ_COMPOSITE] = "type",
	[DF_OBJ_SEQUENCE] = "sequence",
	[DF_OBJ_FUNCTION] = "function",
	[DF_OBJ_TABLE] = "table",
	[DF_OBJ_CONSTRAINT] = "constraint",
	[DF_OBJ_INDEX] = "index",
	[DF_OBJ_VIEW] = "view",
	[DF_OBJ_MATVIEW] = "materialized_view",
	[DF_OBJ_TRIGGER] = "trigger",
	[DF_OBJ_POLICY] = "policy",
	[DF_OBJ_EVENT] = "event",
};

const char *df_obj_kind_name(df_obj_kind k)
{
	return k < DF_OBJ_KIND_NR ? kind_names[k] : "object";
}

int df_schema_new(df_schema **out, df_dialect d)
{
	df_schema *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return df_error_oom();
	s->dialect = d;
	*out = s;
	return 0;
}

static void column_release(df_column *c)
{
	free(c->name);
	free(c->type);
	free(c->default_expr);
	free(c->collation);
	free(c->generated);
	free(c->identity);
	free(c->extra);
	free(c->comment);
	free(c->def);
}

static void object_free(df_object *o)
{
	if (!o)
		return;
	free(o->schema);
	free(o->name);
	free(o->table);
	free(o->def);
	free(o->norm);
	free(o->extra);
	free(o->comment);
	free(o->key);
	for (size_t i = 0; i < o->ncols; i++)
		column_release(&o->cols[i]);
	free(o->cols);
	df_strlist_release(&o->deps);
	free(o);
}

void df_schema_free(df_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		object_free(s->v[i]);
	free(s->v);
	df_strlist_release(&s->not_compared);
	free(s);
}

int df_schema_set(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return df_error_oom();
	free(*field);
	*field = copy;
	return 0;
}

char *df_schema_key(df_obj_kind kind, const char *schema, const char *name, const char *table)
{
	df_buf b = DF_BUF_INIT;

	df_buf_printf(&b, "%s %s%s", df_obj_kind_name(kind), schema ? schema : "",
		schema && *schema ? "." : "");
	if (table)
		df_buf_printf(&b, "%s.", table);
	df_buf_puts(&b, name);
	return df_buf_detach(&b);
}

int df_schema_add(df_object **out, df_schema *s, df_obj_kind kind, const char *schema,
	const char *name, const char *table, const char *def)
{
	df_object *o;

	*out = NULL;
	if (s->nr == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 64;
		df_object **v = realloc(s->v, n * sizeof(*v));
		if (!v)
			return df_error_oom();
		s->v = v;
		s->alloc = n;
	}
	if (!(o = calloc(1, sizeof(*o))))
		return df_error_oom();
	o->kind = kind;
	if (!(o->schema = strdup(schema ? schema : "")) || !(o->name = strdup(name)) ||
	    (table && !(o->table = strdup(table))) || (def && !(o->def = strdup(def))) ||
	    !(o->key = df_schema_key(kind, o->schema, name, table))) {
		object_free(o);
		return df_error_oom();
	}
	s->v[s->nr++] = o;
	*out = o;
	return 0;
}

int df_object_add_column(df_column **out, df_object *o, const char *name, const char *type)
{
	df_column *c;

	*out = NULL;
	if (o->ncols == o->acols) {
		size_t n = o->acols ? o->acols * 2 : 8;
		df_column *v = realloc(o->cols, n * sizeof(*v));
		if (!v)
			return df_error_oom();
		o->cols = v;
		o->acols = n;
	}
	c = &o->cols[o->ncols];
	memset(c, 0, sizeof(*c));
	if (!(c->name = strdup(name)) || (type && !(c->type = strdup(type)))) {
		free(c->name);
		return df_error_oom();
	}
	o->ncols++;
	*out = c;
	return 0;
}

int df_object_add_dep(df_object *o, df_obj_kind kind, const char *schema, const char *name,
	const char *table)
{
	char *key = df_schema_key(kind, schema, name, table);

	if (!key)
		return df_error_oom();
	if (!strcmp(key, o->key)) {
		free(key);
		return 0;
	}
	for (size_t i = 0; i < o->deps.nr; i++)
		if (!strcmp(o->deps.v[i], key)) {
			free(key);
			return 0;
		}
	return df_strlist_take(&o->deps, key);
}

static int cmp_obj(const void *a, const void *b)
{
	const df_object *x = *(const df_object *const *)a, *y = *(const df_object *const *)b;
	return strcmp(x->key, y->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_key(const void *k, const void *b)
{
	return strcmp((const char *)k, (*(const df_object *const *)b)->key);
}

const df_object *df_schema_find(const df_schema *s, const char *key)
{
	df_object **o;

	if (!s->nr)
		return NULL;
	o = bsearch(key, s->v, s->nr, sizeof(*s->v), cmp_key);
	return o ? *o : NULL;
}

void df__schema_sort(df_schema *s)
{
	if (s->nr)
		qsort(s->v, s->nr, sizeof(*s->v), cmp_obj);
}

int df_schema_finish(df_schema *s)
{
	df__schema_sort(s);
	for (size_t i = 1; i < s->nr; i++)
		if (!strcmp(s->v[i - 1]->key, s->v[i]->key))
			return df_error_set(DF_EINTERNAL, "the schema holds '%s' twice", s->v[i]->key);
	for (size_t i = 0; i < s->nr; i++) {
		df_object *o = s->v[i];
		size_t k = 0;
		/* a table-scoped object depends on its table */
		if (o->table) {
			char *key = df_schema_key(DF_OBJ_MATVIEW, o->schema, o->table, NULL);
			bool mv = key && df_schema_find(s, key);
			int error;
			free(key);
			error = df_object_add_dep(o, mv ? DF_OBJ_MATVIEW : DF_OBJ_TABLE, o->schema,
				o->table, NULL);
			if (error < 0)
				return error;
		}
		for (size_t j = 0; j < o->deps.nr; j++) {
			if (df_schema_find(s, o->deps.v[j]))
				o->deps.v[k++] = o->deps.v[j];
			else
				free(o->deps.v[j]);
		}
		o->deps.nr = k;
		if (o->deps.nr)
			qsort(o->deps.v, o->deps.nr, sizeof(char *), cmp_str);
	}
	if (s->not_compared.nr)
		qsort(s->not_compared.v, s->not_compared.nr, sizeof(char *), cmp_str);
	return 0;
}

/* ---- serialisation ------------------------------------------------------ */

/* "  label value", continuation lines indented further */
static void put_field(df_buf *b, const char *indent, const char *label, const char *value)
{
	if (!value)
		return;
	df_buf_printf(b, "%s%s ", indent, label);
	for (const char *p = value; *p; p++) {
		if (*p == '\r')
			continue;
		df_buf_putc(b, *p);
		if (*p == '\n' && p[1])
			df_buf_printf(b, "%s    ", indent);
	}
	if (!*value || value[strlen(value) - 1] != '\n')
		df_buf_putc(b, '\n');
}

void df__column_text(df_buf *b, const df_column *c)
{
	df_buf_printf(b, "%s %s", c->name, c->type ? c->type : "");
	if (c->notnull)
		df_buf_puts(b, " not null");
	if (c->default_expr)
		df_buf_printf(b, " default %s", c->default_expr);
	if (c->collation)
		df_buf_printf(b, " collate %s", c->collation);
	if (c->identity)
		df_buf_printf(b, " identity %s", c->identity);
	if (c->generated)
		df_buf_printf(b, " generated (%s) %s", c->generated, c->virtual_gen ? "virtual" : "stored");
	if (c->extra)
		df_buf_printf(b, " [%s]", c->extra);
	if (c->inherited)
		df_buf_puts(b, " inherited");
	if (c->def)
		df_buf_printf(b, " {%s}", c->def);
}

void df__object_text(df_buf *b, const df_object *o)
{
	df_buf_printf(b, "%s\n", o->key);
	if (o->ctype)
		df_buf_printf(b, "  ctype %c\n", o->ctype);
	for (size_t i = 0; i < o->ncols; i++) {
		df_buf_puts(b, "  column ");
		df__column_text(b, &o->cols[i]);
		df_buf_putc(b, '\n');
		if (o->cols[i].comment)
			put_field(b, "    ", "comment", o->cols[i].comment);
	}
	put_field(b, "  ", "def", o->norm ? o->norm : o->def);
	put_field(b, "  ", "extra", o->extra);
	put_field(b, "  ", "comment", o->comment);
	for (size_t i = 0; i < o->deps.nr; i++)
		df_buf_printf(b, "  depends %s\n", o->deps.v[i]);
}

int df_schema_text(char **out, const df_schema *s)
{
	df_buf b = DF_BUF_INIT;

	*out = NULL;
	df_buf_printf(&b, "devflow schema 1 %s\n", df_dialect_name(s->dialect));
	for (size_t i = 0; i < s->not_compared.nr; i++)
		df_buf_printf(&b, "not-compared %s\n", s->not_compared.v[i]);
	for (size_t i = 0; i < s->nr; i++)
		df__object_text(&b, s->v[i]);
	if (df_buf_oom(&b)) {
		df_buf_release(&b);
		return df_error_oom();
	}
	*out = df_buf_detach(&b);
	return 0;
}

static void json_field(df_buf *b, const char *name, const char *value, bool *first)
{
	if (!value)
		return;
	df_buf_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	df_buf_json_str(b, value);
	*first = false;
}

int df_schema_json(char **out, const df_schema *s)
{
	df_buf b = DF_BUF_INIT;

	*out = NULL;
	df_buf_printf(&b, "{\"dialect\":\"%s\",\"not_compared\":[", df_dialect_name(s->dialect));
	for (size_t i = 0; i < s->not_compared.nr; i++) {
		if (i)
			df_buf_putc(&b, ',');
		df_buf_json_str(&b, s->not_compared.v[i]);
	}
	df_buf_puts(&b, "],\"objects\":[");
	for (size_t i = 0; i < s->nr; i++) {
		const df_object *o = s->v[i];
		bool first = true;
		char ct[2] = { o->ctype, 0 };
		df_buf_puts(&b, i ? ",{" : "{");
		json_field(&b, "key", o->key, &first);
		json_field(&b, "kind", df_obj_kind_name(o->kind), &first);
		json_field(&b, "schema", o->schema, &first);
		json_field(&b, "name", o->name, &first);
		json_field(&b, "table", o->table, &first);
		json_field(&b, "constraint_type", o->ctype ? ct : NULL, &first);
		json_field(&b, "def", o->def, &first);
		json_field(&b, "extra", o->extra, &first);
		json_field(&b, "comment", o->comment, &first);
		if (o->ncols) {
			df_buf_puts(&b, ",\"columns\":[");
			for (size_t c = 0; c < o->ncols; c++) {
				const df_column *col = &o->cols[c];
				bool f2 = true;
				df_buf_puts(&b, c ? ",{" : "{");
				json_field(&b, "name", col->name, &f2);
				json_field(&b, "type", col->type, &f2);
				df_buf_printf(&b, ",\"nullable\":%s", col->notnull ? "false" : "true");
				json_field(&b, "default", col->default_expr, &f2);
				json_field(&b, "collation", col->collation, &f2);
				json_field(&b, "identity", col->identity, &f2);
				json_field(&b, "generated", col->generated, &f2);
				json_field(&b, "extra", col->extra, &f2);
				json_field(&b, "comment", col->comment, &f2);
				df_buf_putc(&b, '}');
			}
			df_buf_putc(&b, ']');
		}
		df_buf_puts(&b, ",\"depends\":[");
		for (size_t d = 0; d < o->deps.nr; d++) {
			if (d)
				df_buf_putc(&b, ',');
			df_buf_json_str(&b, o->deps.v[d]);
		}
		df_buf_puts(&b, "]}");
	}
	df_buf_puts(&b, "]}");
	if (df_buf_oom(&b)) {
		df_buf_release(&b);
		return df_error_oom();
	}
	*out = df_buf_detach(&b);
	return 0;
}

int df_schema_hash(char out[65], const df_schema *s)
{
	df_sha256 c;
	char *text;
	int error;

	if ((error = df_schema_text(&text, s)) < 0)
		return error;
	df_sha256_init(&c);
	df_sha256_update(&c, text, strlen(text));
	df_sha256_hex(&c, out);
	free(text);
	return 0;
}

int df_schema_read(df_schema **out, df_conn *conn, const df_schema_opts *opts)
{
	static const df_schema_opts defaults = DF_SCHEMA_OPTS_INIT;
	df_schema *s = NULL;
	int error;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!conn->driver->schema_read)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot read a schema",
			conn->driver->name);
	if ((error = df_schema_new(&s, df_conn_dialect(conn))) < 0)
		return error;
	if ((error = conn->driver->schema_read(conn, s, opts)) < 0 ||
	    (error = df_schema_finish(s)) < 0) {
		df_schema_free(s);
		return error;
	}
	*out = s;
	return 0;
}
