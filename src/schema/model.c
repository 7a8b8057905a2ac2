/*
 * The schema model: objects, keys, the stable serialisations and the hash.
 * Readers (read_pg.c, read_mysql.c, read_sqlite.c) fill it; diff.c compares
 * two of them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	[DF_OBJ_AGGREGATE] = "aggregate",
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
	for (size_t i = 0; i < o->nfks; i++) {
		df_strlist_release(&o->fks[i].cols);
		df_strlist_release(&o->fks[i].ref_cols);
		free(o->fks[i].ref_schema);
		free(o->fks[i].ref_table);
	}
	free(o->fks);
	df_strlist_release(&o->deps);
	df_strlist_release(&o->uses);
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
	df_strlist_release(&s->uncompared);
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

/*
 * One object of a sorted schema: a table-scoped object depends on its
 * table; the dependencies and uses that name nothing in s are dropped
 * (and an object's use of itself), the dependencies sorted.
 */
int df__object_finish(const df_schema *s, df_object *o)
{
	size_t k = 0;

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
	k = 0;
	for (size_t j = 0; j < o->uses.nr; j++) {
		if (df_schema_find(s, o->uses.v[j]) && strcmp(o->uses.v[j], o->key))
			o->uses.v[k++] = o->uses.v[j];
		else
			free(o->uses.v[j]);
	}
	o->uses.nr = k;
	return 0;
}

int df_schema_finish(df_schema *s)
{
	df__schema_sort(s);
	for (size_t i = 1; i < s->nr; i++)
		if (!strcmp(s->v[i - 1]->key, s->v[i]->key))
			return df_error_set(DF_EINTERNAL, "the schema holds '%s' twice", s->v[i]->key);
	for (size_t i = 0; i < s->nr; i++) {
		int error = df__object_finish(s, s->v[i]);
		if (error < 0)
			return error;
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

/* ---- foreign keys -------------------------------------------------------- */

static const char *const fk_actions[] = { "NO ACTION", "RESTRICT", "CASCADE", "SET NULL",
	"SET DEFAULT" };

const char *df_fk_action_name(df_fk_action a)
{
	return (size_t)a < sizeof(fk_actions) / sizeof(*fk_actions) ? fk_actions[a] : "NO ACTION";
}

bool df_fk_action_parse(df_fk_action *out, const char *s)
{
	static const char codes[] = "arcnd";

	if (!s)
		return false;
	if (s[0] && !s[1] && strchr(codes, s[0])) {
		*out = (df_fk_action)(strchr(codes, s[0]) - codes);
		return true;
	}
	for (size_t i = 0; i < sizeof(fk_actions) / sizeof(*fk_actions); i++) {
		const char *p = fk_actions[i], *q = s;
		while (*p && *q && (tolower((unsigned char)*p) == tolower((unsigned char)*q) ||
		       (*p == ' ' && *q == '_'))) {
			p++;
			q++;
		}
		if (!*p && !*q) {
			*out = (df_fk_action)i;
			return true;
		}
	}
	return false;
}

int df_object_add_fk(df_fk **out, df_object *o)
{
	df_fk *v = realloc(o->fks, (o->nfks + 1) * sizeof(*v));

	*out = NULL;
	if (!v)
		return df_error_oom();
	o->fks = v;
	memset(&v[o->nfks], 0, sizeof(*v));
	*out = &v[o->nfks++];
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static bool list_eq(const df_strlist *a, const df_strlist *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

bool df_fk_equal(const df_fk *a, const df_fk *b)
{
	return list_eq(&a->cols, &b->cols) && str_eq(a->ref_schema, b->ref_schema) &&
		str_eq(a->ref_table, b->ref_table) && list_eq(&a->ref_cols, &b->ref_cols) &&
		a->on_delete == b->on_delete && a->on_update == b->on_update &&
		a->deferrable == b->deferrable && a->initially_deferred == b->initially_deferred;
}

/* ---- equality (the diff's, and the writers') ------------------------------ */

bool df__column_equal(const df_column *a, const df_column *b)
{
	return str_eq(a->name, b->name) && str_eq(a->type, b->type) &&
		str_eq(a->default_expr, b->default_expr) && str_eq(a->collation, b->collation) &&
		str_eq(a->generated, b->generated) && str_eq(a->identity, b->identity) &&
		str_eq(a->extra, b->extra) && str_eq(a->comment, b->comment) &&
		str_eq(a->def, b->def) && a->notnull == b->notnull &&
		a->inherited == b->inherited && a->virtual_gen == b->virtual_gen;
}

bool df__object_equal(const df_object *a, const df_object *b)
{
	if (a->kind != b->kind || a->ctype != b->ctype || a->ncols != b->ncols ||
	    a->nfks != b->nfks ||
	    !(a->norm && b->norm ? str_eq(a->norm, b->norm) : str_eq(a->def, b->def)) ||
	    !str_eq(a->extra, b->extra) || !str_eq(a->comment, b->comment))
		return false;
	for (size_t i = 0; i < a->ncols; i++)
		if (!df__column_equal(&a->cols[i], &b->cols[i]))
			return false;
	for (size_t i = 0; i < a->nfks; i++)
		if (!df_fk_equal(&a->fks[i], &b->fks[i]))
			return false;
	return true;
}

bool df__extra_get(const df_object *o, const char *key, df_buf *out)
{
	size_t kl = strlen(key);

	df_buf_truncate(out, 0);
	for (const char *p = o->extra; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			df_buf_put(out, p + kl + 1, len - kl - 1);
			return true;
		}
		p += len + (nl ? 1 : 0);
	}
	return false;
}
