/*
 * SQLite's schema: sqlite_schema for the objects and their SQL, and the
 * pragma_* table-valued functions (table_xinfo, foreign_key_list,
 * index_list, index_info) joined to it, so each is one query for every
 * table at once.  SQLite keeps each object's CREATE text; the model keeps
 * it normalised (tokens, one space, keywords upper case, quotes only where
 * needed) so that two spellings of one definition compare equal, and splits
 * a table's text into its column and constraint definitions, which the
 * diff needs to tell an ADD COLUMN from a rebuild.  SQLite records no
 * dependencies of views and triggers; they are the schema's table and view
 * names that occur as tokens in their SQL.
 */
#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "schema/sqlite_int.h"
#include "util/banned.h"

static bool simple_ident(const char *s, size_t n)
{
	if (!n || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return !sqlite3_keyword_check(s, (int)n);
}

void df__sqlite_tokens_release(struct df__sqltoks *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int push_tok(struct df__sqltoks *t, const char *s, size_t n, int kind, bool upper)
{
	struct df__sqltok *k;

	if (t->nr == t->alloc) {
		size_t a = t->alloc ? t->alloc * 2 : 32;
		struct df__sqltok *v = realloc(t->v, a * sizeof(*v));
		if (!v)
			return df_error_oom();
		t->v = v;
		t->alloc = a;
	}
	k = &t->v[t->nr];
	if (!(k->text = strndup(s, n)))
		return df_error_oom();
	if (upper)
		for (char *p = k->text; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	k->kind = kind;
	t->nr++;
	return 0;
}

/* An identifier's normal form: bare when it can be, else "quoted". */
static int push_ident(struct df__sqltoks *t, const char *s, size_t n)
{
	df_buf b = DF_BUF_INIT;
	int error;

	if (simple_ident(s, n))
		return push_tok(t, s, n, DF__TOK_IDENT, false);
	df_buf_putc(&b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			df_buf_putc(&b, '"');
		df_buf_putc(&b, s[i]);
	}
	df_buf_putc(&b, '"');
	error = df_buf_oom(&b) ? df_error_oom() : push_tok(t, b.ptr, b.size, DF__TOK_IDENT, false);
	df_buf_release(&b);
	return error;
}

int df__sqlite_tokenize(struct df__sqltoks *t, const char *sql)
{
	const char *p = sql;
	int error = 0;

	while (*p && !error) {
		unsigned char ch = (unsigned char)*p;
		if (isspace(ch)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else if (ch == '\'') {
			const char *q = p + 1;
			while (*q && !(q[0] == '\'' && q[1] != '\''))
				q += q[0] == '\'' ? 2 : 1;
			if (*q)
				q++;
			error = push_tok(t, p, (size_t)(q - p), DF__TOK_STRING, false);
			p = q;
		} else if (ch == '"' || ch == '`' || ch == '[') {
			char close = ch == '[' ? ']' : (char)ch;
			df_buf id = DF_BUF_INIT;
			const char *q = p + 1;
			for (; *q; q++) {
				if (*q == close) {
					if (close != ']' && q[1] == close) {
						df_buf_putc(&id, close);
						q++;
						continue;
					}
					break;
				}
				df_buf_putc(&id, *q);
			}
			error = df_buf_oom(&id) ? df_error_oom() : push_ident(t, id.ptr, id.size);
			df_buf_release(&id);
			p = *q ? q + 1 : q;
		} else if (isalpha(ch) || ch == '_' || ch >= 0x80) {
			const char *q = p;
			while (*q && (isalnum((unsigned char)*q) || *q == '_' || *q == '$' ||
				(unsigned char)*q >= 0x80))
				q++;
			if (sqlite3_keyword_check(p, (int)(q - p)))
				error = push_tok(t, p, (size_t)(q - p), DF__TOK_KEYWORD, true);
			else
				error = push_ident(t, p, (size_t)(q - p));
			if (!error && !sqlite3_keyword_check(p, (int)(q - p)) && !simple_ident(p, (size_t)(q - p))) {
				/* a bare word that is not lower case: keep it as written */
				free(t->v[t->nr - 1].text);
				if (!(t->v[t->nr - 1].text = strndup(p, (size_t)(q - p))))
					error = df_error_oom();
			}
			p = q;
		} else if (isdigit(ch) || (ch == '.' && isdigit((unsigned char)p[1]))) {
			const char *q = p;
			while (*q && (isalnum((unsigned char)*q) || *q == '.' ||
				((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E'))))
				q++;
			error = push_tok(t, p, (size_t)(q - p), DF__TOK_NUMBER, false);
			p = q;
		} else {
			static const char *const ops[] = { "||", "<=", ">=", "<>", "!=", "==", "<<", ">>", "->>", "->" };
			size_t n = 1;
			for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
				if (!strncmp(p, ops[i], strlen(ops[i])) && strlen(ops[i]) > n)
					n = strlen(ops[i]);
			error = push_tok(t, p, n, DF__TOK_PUNCT, false);
			p += n;
		}
	}
	return error;
}

void df__sqlite_join(df_buf *b, const struct df__sqltoks *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const char *s = t->v[i].text;
		if (i > from) {
			const char *prev = t->v[i - 1].text;
			bool nospace = !strcmp(s, ",") || !strcmp(s, ")") || !strcmp(prev, "(") ||
				!strcmp(s, ";") || !strcmp(s, ".") || !strcmp(prev, ".") ||
				(!strcmp(s, "(") && (t->v[i - 1].kind == DF__TOK_IDENT ||
					t->v[i - 1].kind == DF__TOK_KEYWORD));
			if (!nospace)
				df_buf_putc(b, ' ');
		}
		df_buf_puts(b, s);
	}
}

int df__sqlite_normalize(char **out, const char *sql)
{
	struct df__sqltoks t = { 0 };
	df_buf b = DF_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = df__sqlite_tokenize(&t, sql)) < 0)
		goto out;
	df__sqlite_join(&b, &t, 0, t.nr);
	if (df_buf_oom(&b)) {
		error = df_error_oom();
		goto out;
	}
	*out = df_buf_detach(&b);
out:
	df_buf_release(&b);
	df__sqlite_tokens_release(&t);
	return error;
}

static bool is_kw(const struct df__sqltok *k, const char *kw)
{
	return k->kind == DF__TOK_KEYWORD && !strcmp(k->text, kw);
}

/* The identifier's name as the catalog knows it: "x""y" -> x"y. */
static char *unquote(const char *s)
{
	size_t n = strlen(s);
	char *r, *w;

	if (n < 2 || s[0] != '"')
		return strdup(s);
	if (!(r = malloc(n)))
		return NULL;
	w = r;
	for (size_t i = 1; i + 1 < n; i++) {
		*w++ = s[i];
		if (s[i] == '"' && s[i + 1] == '"')
			i++;
	}
	*w = '\0';
	return r;
}

/* Split a CREATE TABLE: columns (their definitions) and table constraints. */
static int table_parts(df_object *o, const struct df__sqltoks *t)
{
	size_t i = 0, depth = 0, start;
	df_buf item = DF_BUF_INIT, extra = DF_BUF_INIT;
	int error = 0;

	while (i < t->nr && strcmp(t->v[i].text, "("))
		i++;
	if (i == t->nr)
		return 0;       /* CREATE TABLE ... AS SELECT */
	start = ++i;
	depth = 1;
	for (; i < t->nr && !error; i++) {
		const char *s = t->v[i].text;
		if (!strcmp(s, "("))
			depth++;
		else if (!strcmp(s, ")"))
			depth--;
		if ((depth == 1 && !strcmp(s, ",")) || depth == 0) {
			const struct df__sqltok *first = &t->v[start];
			df_buf_truncate(&item, 0);
			df__sqlite_join(&item, t, start, i);
			if (is_kw(first, "CONSTRAINT") || is_kw(first, "PRIMARY") || is_kw(first, "UNIQUE") ||
			    is_kw(first, "CHECK") || is_kw(first, "FOREIGN")) {
				df_buf_printf(&extra, "constraint=%s\n", item.ptr);
			} else {
				df_column *c = NULL;
				char *name = unquote(first->text);
				for (size_t k = 0; name && k < o->ncols; k++)
					if (!strcasecmp(o->cols[k].name, name))
						c = &o->cols[k];
				if (!name)
					error = df_error_oom();
				else if (c)
					error = df_schema_set(&c->def, item.ptr);
				free(name);
			}
			start = i + 1;
			if (depth == 0)
				break;
		}
	}
	if (!error && i + 1 < t->nr) {
		df_buf_truncate(&item, 0);
		df__sqlite_join(&item, t, i + 1, t->nr);
		df_buf_printf(&extra, "options=%s\n", item.ptr);
	}
	if (!error && extra.size)
		error = df_schema_set(&o->extra, extra.ptr);
	df_buf_release(&item);
	df_buf_release(&extra);
	return error;
}

/* The table or view `name` among the first `nrel` (sorted) objects, or NULL. */
static df_object *find_rel(df_schema *s, size_t nrel, const char *name)
{
	static const df_obj_kind kinds[] = { DF_OBJ_TABLE, DF_OBJ_VIEW };
	df_schema head = *s;

	head.nr = nrel;
	for (size_t k = 0; k < 2; k++) {
		char *key = df_schema_key(kinds[k], "", name, NULL);
		const df_object *o = key ? df_schema_find(&head, key) : NULL;
		free(key);
		if (o)
			return (df_object *)o;
	}
	return NULL;
}

/* Dependencies of a view or trigger: the schema's relation names among its tokens. */
static int token_deps(df_object *o, const struct df__sqltoks *t, df_schema *s, size_t nrel)
{
	for (size_t i = 0; i < t->nr; i++) {
		char *name;
		df_object *r;
		int error = 0;
		if (t->v[i].kind != DF__TOK_IDENT)
			continue;
		if (!(name = unquote(t->v[i].text)))
			return df_error_oom();
		if ((r = find_rel(s, nrel, name)) && r != o)
			error = df_object_add_dep(o, r->kind, "", r->name, NULL);
		free(name);
		if (error < 0)
			return error;
	}
	return 0;
}

/*
 * A virtual table's shadow tables (FTS3/4/5's name_data, name_idx,
 * name_content..., R*Tree's name_node...) are made by the virtual table
 * itself: written out they would be created twice.  SQLite marks them
 * 'shadow' in pragma_table_list; objects on them are left out too.
 */
#define NOT_SHADOW(col) col " NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')"

static const char Q_OBJECTS[] =
	"SELECT type, name, tbl_name, sql FROM sqlite_schema "
	"WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL AND " NOT_SHADOW("tbl_name")
	" ORDER BY name";
static const char Q_COLUMNS[] =
	"SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden "
	"FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p "
	"WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND " NOT_SHADOW("m.name")
	" ORDER BY m.name, p.cid";
static const char Q_FKEYS[] =
	"SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete "
	"FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f "
	"WHERE m.type = 'table' AND " NOT_SHADOW("m.name") " ORDER BY m.name, f.id DESC, f.seq";
static const char Q_INDEX_COLUMNS[] =
	"SELECT m.name, il.name, ii.name FROM sqlite_schema m JOIN pragma_index_list(m.name) il "
	"JOIN pragma_index_info(il.name) ii WHERE m.type = 'table' AND " NOT_SHADOW("m.name")
	" ORDER BY m.name, il.name, ii.seqno";

/*
 * One foreign key of a table, rows [i, j) of Q_FKEYS (one per column).  The
 * pragma numbers a table's keys last declared first: they are read in
 * declaration order.  An empty "to" is the referenced table's primary key.
 */
static int read_fk(df_object *t, const df_rows *r, size_t i, size_t j)
{
	df_fk *fk;
	int error;

	if ((error = df_object_add_fk(&fk, t)) < 0 ||
	    (error = df_schema_set(&fk->ref_schema, "")) < 0 ||
	    (error = df_schema_set(&fk->ref_table, df_rows_get(r, i, 2))) < 0)
		return error;
	for (size_t k = i; k < j; k++) {
		const char *to = df_rows_get(r, k, 4);
		if ((error = df_strlist_push(&fk->cols, df_rows_get(r, k, 3))) < 0 ||
		    (to && *to && (error = df_strlist_push(&fk->ref_cols, to)) < 0))
			return error;
	}
	if (!df_fk_action_parse(&fk->on_update, df_rows_get(r, i, 5)))
		fk->on_update = DF_FK_NO_ACTION;
	if (!df_fk_action_parse(&fk->on_delete, df_rows_get(r, i, 6)))
		fk->on_delete = DF_FK_NO_ACTION;
	return 0;
}

static bool tok_is(const struct df__sqltok *k, const char *word)
{
	return k->kind == DF__TOK_KEYWORD || k->kind == DF__TOK_IDENT ?
		!strcasecmp(k->text, word) : false;
}

/*
 * The pragma does not say whether a key is deferrable: the table's text
 * does, after each REFERENCES clause (in declaration order, the order of
 * t->fks), up to the next REFERENCES or the end of the column or
 * constraint.  Left as read when the counts disagree.
 */
static void fk_deferrable(df_object *t)
{
	struct df__sqltoks tk = { 0 };
	size_t n = 0;

	if (!t->norm || df__sqlite_tokenize(&tk, t->norm) < 0)
		goto out;
	for (size_t i = 0; i < tk.nr; i++)
		n += tok_is(&tk.v[i], "REFERENCES");
	if (n != t->nfks)
		goto out;
	n = 0;
	for (size_t i = 0; i < tk.nr; i++) {
		int depth = 0;
		df_fk *fk;
		if (!tok_is(&tk.v[i], "REFERENCES"))
			continue;
		fk = &t->fks[n++];
		for (size_t k = i + 1; k < tk.nr && !tok_is(&tk.v[k], "REFERENCES"); k++) {
			const char *x = tk.v[k].text;
			if (tk.v[k].kind == DF__TOK_PUNCT && !strcmp(x, "("))
				depth++;
			else if (tk.v[k].kind == DF__TOK_PUNCT && !strcmp(x, ")") && --depth < 0)
				break;
			else if (tk.v[k].kind == DF__TOK_PUNCT && !strcmp(x, ",") && !depth)
				break;
			else if (tok_is(&tk.v[k], "NOT") && k + 1 < tk.nr &&
				 tok_is(&tk.v[k + 1], "DEFERRABLE"))
				k++;
			else if (tok_is(&tk.v[k], "DEFERRABLE"))
				fk->deferrable = true;
			else if (tok_is(&tk.v[k], "INITIALLY") && k + 1 < tk.nr)
				fk->initially_deferred = tok_is(&tk.v[k + 1], "DEFERRED");
		}
		fk->initially_deferred = fk->initially_deferred && fk->deferrable;
	}
out:
	df__sqlite_tokens_release(&tk);
}

int df__schema_read_sqlite(df_conn *conn, df_schema *s, const df_schema_opts *opts)
{
	df_rows *r = NULL, *c = NULL;
	int error;
	size_t ci = 0;

	if ((error = df_strlist_push(&s->not_compared, "virtual table contents and shadow tables")) < 0)
		return error;
	if ((error = df_conn_query(conn, &r, Q_OBJECTS, NULL, 0)) < 0 ||
	    (error = df_conn_query(conn, &c, Q_COLUMNS, NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *type = df_rows_get(r, i, 0), *name = df_rows_get(r, i, 1);
		const char *tbl = df_rows_get(r, i, 2), *sql = df_rows_get(r, i, 3);
		struct df__sqltoks t = { 0 };
		df_buf norm = DF_BUF_INIT;
		df_obj_kind k;
		df_object *o;
		if (!strcmp(type, "table"))
			k = DF_OBJ_TABLE;
		else if (!strcmp(type, "index"))
			k = DF_OBJ_INDEX;
		else if (!strcmp(type, "view"))
			k = DF_OBJ_VIEW;
		else if (!strcmp(type, "trigger"))
			k = DF_OBJ_TRIGGER;
		else
			continue;
		if (df__schema_excluded(opts, k == DF_OBJ_TABLE ? name : tbl))
			continue;
		if ((error = df__sqlite_tokenize(&t, sql)) < 0) {
			df__sqlite_tokens_release(&t);
			goto out;
		}
		df__sqlite_join(&norm, &t, 0, t.nr);
		error = df_buf_oom(&norm) ? df_error_oom() :
			df_schema_add(&o, s, k, "", name, k == DF_OBJ_INDEX || k == DF_OBJ_TRIGGER ? tbl : NULL,
				sql);
		if (!error)
			error = df_schema_set(&o->norm, norm.ptr);
		df_buf_release(&norm);
		if (!error && k == DF_OBJ_TABLE) {
			/* columns of this table (both lists are by name) */
			while (ci < c->nrows && strcmp(df_rows_get(c, ci, 0), name) < 0)
				ci++;
			for (; !error && ci < c->nrows && !strcmp(df_rows_get(c, ci, 0), name); ci++) {
				df_column *col;
				const char *hidden = df_rows_get(c, ci, 6);
				char *ctype = NULL;
				if ((error = df__sqlite_normalize(&ctype, df_rows_get(c, ci, 2) ?
					df_rows_get(c, ci, 2) : "")) < 0)
					break;
				error = df_object_add_column(&col, o, df_rows_get(c, ci, 1), ctype);
				free(ctype);
				if (error < 0)
					break;
				col->notnull = df_rows_get(c, ci, 3)[0] == '1';
				error = df_schema_set(&col->default_expr, df_rows_get(c, ci, 4));
				if (!error && hidden && (hidden[0] == '2' || hidden[0] == '3'))
					col->virtual_gen = hidden[0] == '2';
			}
			if (!error)
				error = table_parts(o, &t);
		}
		df__sqlite_tokens_release(&t);
		if (error < 0)
			goto out;
	}
	df_rows_free(r);
	r = NULL;

	/* dependencies: foreign keys, and the names in views and triggers */
	{
		size_t nrel;
		df__schema_sort(s);
		nrel = s->nr;
		if ((error = df_conn_query(conn, &r, Q_FKEYS, NULL, 0)) < 0)
			goto out;
		for (size_t i = 0; i < r->nrows;) {
			df_object *t = find_rel(s, nrel, df_rows_get(r, i, 0));
			size_t j = i;
			while (j < r->nrows && !strcmp(df_rows_get(r, j, 0), df_rows_get(r, i, 0)) &&
			       !strcmp(df_rows_get(r, j, 1), df_rows_get(r, i, 1)))
				j++;
			if (t && t->kind == DF_OBJ_TABLE &&
			    ((error = df_object_add_dep(t, DF_OBJ_TABLE, "", df_rows_get(r, i, 2), NULL)) < 0 ||
			     (error = read_fk(t, r, i, j)) < 0))
				goto out;
			i = j;
		}
		for (size_t k = 0; k < nrel; k++)
			if (s->v[k]->kind == DF_OBJ_TABLE && s->v[k]->nfks)
				fk_deferrable(s->v[k]);
		df_rows_free(r);
		r = NULL;
		for (size_t k = 0; k < nrel; k++) {
			df_object *o = s->v[k];
			struct df__sqltoks t = { 0 };
			if (o->kind != DF_OBJ_VIEW && o->kind != DF_OBJ_TRIGGER)
				continue;
			if ((error = df__sqlite_tokenize(&t, o->norm)) == 0)
				error = token_deps(o, &t, s, nrel);
			df__sqlite_tokens_release(&t);
			if (error < 0)
				goto out;
		}
	}
	/* the columns of each index (the diff's "can this column be dropped") */
	if ((error = df_conn_query(conn, &r, Q_INDEX_COLUMNS, NULL, 0)) < 0)
		goto out;
	df__schema_sort(s);
	for (size_t i = 0; i < r->nrows; i++) {
		char *key = df_schema_key(DF_OBJ_INDEX, "", df_rows_get(r, i, 1), df_rows_get(r, i, 0));
		df_object *o = key ? (df_object *)df_schema_find(s, key) : NULL;
		df_buf b = DF_BUF_INIT;
		free(key);
		if (!o)
			continue;
		if (o->extra)
			df_buf_puts(&b, o->extra);
		df_buf_printf(&b, "column=%s\n", df_rows_get(r, i, 2) ? df_rows_get(r, i, 2) : "");
		error = df_buf_oom(&b) ? df_error_oom() : df_schema_set(&o->extra, b.ptr);
		df_buf_release(&b);
		if (error < 0)
			goto out;
	}
out:
	df_rows_free(r);
	df_rows_free(c);
	return error;
}
