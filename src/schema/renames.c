/*
 * Renames are never guessed: a schema file says them with
 *
 *     -- devflow:renamed-from OLD
 *
 * on the line before `CREATE TABLE NEW` (a table) or before a column's line
 * inside a CREATE TABLE (a column).  The diff then renames instead of
 * dropping and creating: the `from` model is renamed first, so what is left
 * to compare is what really changed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/diff_int.h"
#include "util/banned.h"

/* An identifier at *p (quoted with "", `` or [] or bare); advances *p. */
static char *ident(const char **p)
{
	const char *s = *p;
	df_buf b = DF_BUF_INIT;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"' || *s == '`' || *s == '[') {
		char close = *s == '[' ? ']' : *s;
		for (s++; *s && !(*s == close && s[1] != close); s++) {
			if (*s == close)
				s++;
			df_buf_putc(&b, *s);
		}
		if (*s)
			s++;
	} else {
		while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '$'))
			df_buf_putc(&b, *s++);
	}
	*p = s;
	if (!b.size) {
		df_buf_release(&b);
		return NULL;
	}
	return df_buf_detach(&b);
}

/* "[schema.]name": the last part */
static char *last_ident(const char **p)
{
	char *name = ident(p);

	while (name && **p == '.') {
		char *next;
		(*p)++;
		if (!(next = ident(p)))
			break;
		free(name);
		name = next;
	}
	return name;
}

static bool starts_ci(const char *s, const char *word)
{
	size_t n = strlen(word);
	return !strncasecmp(s, word, n) && !isalnum((unsigned char)s[n]) && s[n] != '_';
}

int df_schema_renames_read(df_strlist *out, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], *pending = NULL, *table = NULL;
	int depth = 0, error = 0, lineno = 0;

	if (!f)
		return df_error_set(DF_EUSAGE, "cannot read '%s': %s", path, strerror(errno));
	while (!error && fgets(line, sizeof(line), f)) {
		const char *p = line;
		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (!strncmp(p, "-- devflow:renamed-from", 23)) {
			const char *q = p + 23;
			free(pending);
			if (!(pending = last_ident(&q))) {
				error = df_error_set(DF_ECONFIG, "%s:%d: devflow:renamed-from wants the old name",
					path, lineno);
				df_error_pos(path, lineno, 1);
			}
			continue;
		}
		if (!*p || !strncmp(p, "--", 2))
			continue;
		if (starts_ci(p, "CREATE")) {
			const char *q = p + 6;
			while (isspace((unsigned char)*q))
				q++;
			if (starts_ci(q, "TABLE")) {
				q += 5;
				while (isspace((unsigned char)*q))
					q++;
				if (starts_ci(q, "IF")) {
					q = strstr(q, "EXISTS") ? strstr(q, "EXISTS") + 6 : q;
				}
				free(table);
				table = last_ident(&q);
				depth = 0;
				if (pending && table)
					error = df_strlist_pushf(out, "table\t%s\t%s", table, pending);
				free(pending);
				pending = NULL;
				for (; *q; q++)
					depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
				continue;
			}
		}
		if (pending && table && depth > 0) {
			const char *q = p;
			char *col = ident(&q);
			if (col)
				error = df_strlist_pushf(out, "column\t%s\t%s\t%s", table, col, pending);
			free(col);
		}
		free(pending);
		pending = NULL;
		for (const char *q = p; *q; q++)
			depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
	}
	fclose(f);
	free(pending);
	free(table);
	return error;
}

static df_object *find_table(const df_schema *s, const char *name)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i]->kind == DF_OBJ_TABLE && !strcmp(s->v[i]->name, name))
			return s->v[i];
	return NULL;
}

static df_column *find_col(df_object *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return &t->cols[i];
	return NULL;
}

/* Replace every key `old` in deps by `new` (exact matches). */
static int rekey(df_schema *s, const char *old, const char *new)
{
	for (size_t i = 0; i < s->nr; i++)
		for (size_t d = 0; d < s->v[i]->deps.nr; d++)
			if (!strcmp(s->v[i]->deps.v[d], old)) {
				char *c = strdup(new);
				if (!c)
					return df_error_oom();
				free(s->v[i]->deps.v[d]);
				s->v[i]->deps.v[d] = c;
			}
	return 0;
}

static int set_key(df_schema *s, df_object *o)
{
	char *key = df_schema_key(o->kind, o->schema, o->name, o->table);
	int error;

	if (!key)
		return df_error_oom();
	error = rekey(s, o->key, key);
	free(o->key);
	o->key = key;
	return error;
}

static bool identchar(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/*
 * The engine rewrites the definitions that name a renamed table or column
 * (an index's ON, a foreign key's REFERENCES, SQLite's stored text): do the
 * same to the model's copies, so they compare equal to the other side's.
 * Whole identifiers only (bare or quoted), case as written.
 */
static int replace_ident(char **text, const char *old, const char *new)
{
	df_buf b = DF_BUF_INIT;
	size_t n = strlen(old);
	bool hit = false;

	if (!*text)
		return 0;
	for (const char *p = *text; *p;) {
		if ((p == *text || !identchar(p[-1])) && !strncmp(p, old, n) && !identchar(p[n])) {
			df_buf_puts(&b, new);
			p += n;
			hit = true;
		} else
			df_buf_putc(&b, *p++);
	}
	if (!hit) {
		df_buf_release(&b);
		return 0;
	}
	if (df_buf_oom(&b))
		return df_error_oom();
	free(*text);
	*text = df_buf_detach(&b);
	return 0;
}

/* replace in the definitions of every object (table: NULL) or of one table's */
static int replace_in_defs(df_schema *s, const char *table, const char *old, const char *new)
{
	int error = 0;

	for (size_t i = 0; i < s->nr && !error; i++) {
		df_object *o = s->v[i];
		if (table && !(o->table && !strcmp(o->table, table)) &&
		    !(o->kind == DF_OBJ_TABLE && !strcmp(o->name, table)))
			continue;
		if ((error = replace_ident(&o->def, old, new)) < 0 ||
		    (error = replace_ident(&o->norm, old, new)) < 0)
			break;
		/* SQLite: a table's constraints are in extra */
		if (s->dialect == DF_DIALECT_SQLITE)
			error = replace_ident(&o->extra, old, new);
		for (size_t c = 0; !error && c < o->ncols; c++)
			if (s->dialect == DF_DIALECT_SQLITE && table == NULL)
				error = replace_ident(&o->cols[c].def, old, new);
	}
	return error;
}

/* A rename as its change: one operation, rendered once the diff is made. */
static int rename_op(df_change *ch, df_op_kind kind, const df_object *t, const char *column,
	const char *old, const char *new)
{
	df_op *op;
	int error;

	memset(ch, 0, sizeof(*ch));
	ch->op = DF_CHANGE_ALTER;
	ch->kind = DF_OBJ_TABLE;
	if ((error = df__change_add_op(&op, ch, kind, t, NULL)) < 0)
		return error;
	if (!(ch->object = strdup(t->key)) || !(op->old_name = strdup(old)) ||
	    !(op->new_name = strdup(new)) || (column && !(op->column = strdup(column))))
		return df_error_oom();
	return 0;
}

static int rename_table(df_change *ch, df_schema *from, df_object *t, const char *new)
{
	char *old = strdup(t->name);
	int error = 0;

	if (!old)
		return df_error_oom();
	if ((error = df_schema_set(&t->name, new)) < 0 || (error = set_key(from, t)) < 0 ||
	    (error = rename_op(ch, DF_OP_RENAME_TABLE, t, NULL, old, new)) < 0)
		goto out;
	for (size_t i = 0; i < from->nr && !error; i++) {
		df_object *o = from->v[i];
		if (o->table && !strcmp(o->table, old) && !strcmp(o->schema, t->schema) &&
		    (error = df_schema_set(&o->table, new)) == 0)
			error = set_key(from, o);
	}
	if (!error)
		error = replace_in_defs(from, NULL, old, new);
	/* the foreign keys that reference it */
	for (size_t i = 0; i < from->nr && !error; i++)
		for (size_t k = 0; k < from->v[i]->nfks && !error; k++) {
			df_fk *fk = &from->v[i]->fks[k];
			if (fk->ref_table && !strcmp(fk->ref_table, old) &&
			    !strcmp(fk->ref_schema ? fk->ref_schema : "", t->schema))
				error = df_schema_set(&fk->ref_table, new);
		}
out:
	free(old);
	return error;
}

static int rename_in_list(df_strlist *l, const char *old, const char *new)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], old)) {
			char *n = strdup(new);
			if (!n)
				return df_error_oom();
			free(l->v[i]);
			l->v[i] = n;
		}
	return 0;
}

/* A column of `t` renamed: in its own foreign keys and those that reference it. */
static int rename_fk_column(df_schema *from, const df_object *t, const char *old, const char *new)
{
	int error = 0;

	for (size_t i = 0; i < from->nr && !error; i++) {
		df_object *o = from->v[i];
		bool own = o == t || (o->table && !strcmp(o->table, t->name) &&
			!strcmp(o->schema, t->schema));
		for (size_t k = 0; k < o->nfks && !error; k++) {
			df_fk *fk = &o->fks[k];
			if (own)
				error = rename_in_list(&fk->cols, old, new);
			if (!error && fk->ref_table && !strcmp(fk->ref_table, t->name) &&
			    !strcmp(fk->ref_schema ? fk->ref_schema : "", t->schema))
				error = rename_in_list(&fk->ref_cols, old, new);
		}
	}
	return error;
}

static int rename_column(df_change *ch, df_schema *from, df_object *t, df_column *c,
	const char *new)
{
	int error;

	if ((error = rename_op(ch, DF_OP_RENAME_COLUMN, t, new, c->name, new)) < 0)
		return error;
	/* SQLite's column text starts with the name */
	if (c->def) {
		const char *p = c->def;
		char *first = ident(&p);
		df_buf d = DF_BUF_INIT;
		free(first);
		df_buf_puts(&d, new);
		df_buf_puts(&d, p);
		error = df_buf_oom(&d) ? df_error_oom() : df_schema_set(&c->def, d.ptr);
		df_buf_release(&d);
		if (error < 0)
			return error;
	}
	if ((error = replace_in_defs(from, t->name, c->name, new)) < 0 ||
	    (error = rename_fk_column(from, t, c->name, new)) < 0)
		return error;
	return df_schema_set(&c->name, new);
}

int df_schema_diff_renamed(df_diff **out, df_schema *from, const df_schema *to,
	const df_strlist *renames)
{
	df_change *ren = NULL;
	size_t nren = 0;
	df_diff *d = NULL;
	int error = 0;

	*out = NULL;
	if (renames && renames->nr && !(ren = calloc(renames->nr * 2, sizeof(*ren))))
		return df_error_oom();
	for (size_t pass = 0; pass < 2 && !error; pass++) {
		for (size_t i = 0; renames && i < renames->nr && !error; i++) {
			char *e = strdup(renames->v[i]), *f[4] = { NULL }, *save = NULL;
			size_t n = 0;
			if (!e) {
				error = df_error_oom();
				break;
			}
			for (char *tok = strtok_r(e, "\t", &save); tok && n < 4; tok = strtok_r(NULL, "\t", &save))
				f[n++] = tok;
			if (pass == 0 && n == 3 && !strcmp(f[0], "table")) {
				/* table NEW OLD: only when from has OLD, not NEW, and to the reverse */
				df_object *t = find_table(from, f[2]);
				if (t && !find_table(from, f[1]) && find_table(to, f[1]) && !find_table(to, f[2]))
					error = rename_table(&ren[nren++], from, t, f[1]);
			} else if (pass == 1 && n == 4 && !strcmp(f[0], "column")) {
				/* column TABLE NEW OLD */
				df_object *t = find_table(from, f[1]), *tt = find_table(to, f[1]);
				df_column *c = t ? find_col(t, f[3]) : NULL;
				if (c && !find_col(t, f[2]) && tt && find_col(tt, f[2]) && !find_col(tt, f[3]))
					error = rename_column(&ren[nren++], from, t, c, f[2]);
			}
			free(e);
		}
		df__schema_sort(from);
	}
	if (error < 0 || (error = df_schema_diff(&d, from, to)) < 0)
		goto out;
	/* the renames come first, rendered by the engine's writer */
	for (size_t i = 0; i < nren && !error; i++)
		error = df_change_render(d, &ren[i]);
	if (error < 0)
		goto out;
	if (nren) {
		df_change *v = realloc(d->v, (d->nr + nren) * sizeof(*v));
		if (!v) {
			error = df_error_oom();
			goto out;
		}
		d->v = v;
		memmove(v + nren, v, d->nr * sizeof(*v));
		memcpy(v, ren, nren * sizeof(*v));
		d->nr += nren;
		d->alloc = d->nr;
		nren = 0;
	}
	*out = d;
	d = NULL;
out:
	for (size_t i = 0; i < nren; i++)
		df_change_release(&ren[i]);
	free(ren);
	df_diff_free(d);
	return error;
}
