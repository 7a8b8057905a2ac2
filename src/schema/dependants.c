/*
 * What hangs off an object the diff drops and creates again (issue 25):
 *
 * - the graph of dependants the planner (diff.c) cascades through: what
 *   the engine recorded (df_object.deps: PostgreSQL's pg_depend and
 *   pg_rewrite, the views and triggers the MySQL and SQLite readers found
 *   naming a table) and what is scoped to a table or view by its `table`
 *   (a trigger, an index, a constraint, a policy: an INSTEAD OF trigger on
 *   a view), which the engines record as part of their owner, not as a
 *   dependency;
 * - what the model does not compare but a re-created object would lose
 *   (PostgreSQL): its grants, its owner and its rules, read by
 *   uncompared.c from the "to" side and written after the CREATE, with or
 *   without --privileges.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "schema/dependants.h"
#include "util/banned.h"

size_t df__schema_index(const df_schema *s, const char *key)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, s->v[mid]->key);
		if (!c)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return DF__NONE;
}

size_t df__owner_index(const df_schema *s, const df_object *o)
{
	static const df_obj_kind kinds[] = { DF_OBJ_TABLE, DF_OBJ_MATVIEW, DF_OBJ_VIEW };

	if (!o->table)
		return DF__NONE;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		char *key = df_schema_key(kinds[k], o->schema, o->table, NULL);
		size_t t = key ? df__schema_index(s, key) : DF__NONE;
		free(key);
		if (t != DF__NONE)
			return t;
	}
	return DF__NONE;
}

/*
 * The table that owns a sequence ("owned_by=schema.table.column", names
 * quoted where they need it): the sequence goes when the table goes.
 */
size_t df__sequence_owner(const df_schema *s, const df_object *o)
{
	df_buf v = DF_BUF_INIT, part[3] = { DF_BUF_INIT, DF_BUF_INIT, DF_BUF_INIT };
	size_t n = 0, t = DF__NONE;
	bool quoted = false;

	if (o->kind != DF_OBJ_SEQUENCE || !df__extra_get(o, "owned_by", &v))
		goto out;
	for (const char *p = v.ptr; *p && n < 3; p++) {
		if (*p == '"') {
			if (quoted && p[1] == '"') {
				df_buf_putc(&part[n], '"');
				p++;
			} else
				quoted = !quoted;
		} else if (*p == '.' && !quoted)
			n++;
		else
			df_buf_putc(&part[n], *p);
	}
	if (n == 2) {
		char *key = df_schema_key(DF_OBJ_TABLE, part[0].ptr, part[1].ptr, NULL);
		t = key ? df__schema_index(s, key) : DF__NONE;
		free(key);
	}
out:
	df_buf_release(&v);
	for (int i = 0; i < 3; i++)
		df_buf_release(&part[i]);
	return t;
}

/* calls fn(i, j) for each "i depends on j" of `s`, the owners included */
static void each_dep(const df_schema *s, const size_t *owner, void (*fn)(void *, size_t, size_t),
	void *arg)
{
	for (size_t i = 0; i < s->nr; i++) {
		for (size_t d = 0; d < s->v[i]->deps.nr; d++) {
			size_t j = df__schema_index(s, s->v[i]->deps.v[d]);
			if (j != DF__NONE && j != owner[i])
				fn(arg, i, j);
		}
		if (owner[i] != DF__NONE)
			fn(arg, i, owner[i]);
	}
}

static void count_dep(void *arg, size_t i, size_t j)
{
	(void)i;
	((df__deps *)arg)->start[j + 1]++;
}

static void fill_dep(void *arg, size_t i, size_t j)
{
	df__deps *g = arg;

	g->list[g->start[j] + g->fill[j]++] = i;
}

int df__deps_build(df__deps *g, const df_schema *s)
{
	size_t total;

	memset(g, 0, sizeof(*g));
	if (!(g->start = calloc(s->nr + 1, sizeof(size_t))) ||
	    !(g->owner = malloc((s->nr + 1) * sizeof(size_t))) ||
	    !(g->fill = calloc(s->nr + 1, sizeof(size_t))))
		return df_error_oom();
	for (size_t i = 0; i < s->nr; i++)
		g->owner[i] = df__owner_index(s, s->v[i]);
	each_dep(s, g->owner, count_dep, g);
	for (size_t i = 0; i < s->nr; i++)
		g->start[i + 1] += g->start[i];
	total = g->start[s->nr];
	if (!(g->list = malloc((total ? total : 1) * sizeof(size_t))))
		return df_error_oom();
	each_dep(s, g->owner, fill_dep, g);
	return 0;
}

void df__deps_release(df__deps *g)
{
	free(g->start);
	free(g->list);
	free(g->owner);
	free(g->fill);
	memset(g, 0, sizeof(*g));
}

/* does `def` hold `name` as a word (or quoted), before " EXECUTE "? */
static bool names_word(const char *def, const char *name)
{
	const char *end = strstr(def, " EXECUTE ");
	size_t n = strlen(name);

	for (const char *p = def; n && (p = strstr(p, name)) && (!end || p < end); p++) {
		bool before = p == def || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '$');
		bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$');
		if (before && after)
			return true;
	}
	return false;
}

bool df__uses_columns(const df_schema *sf, const df_schema *st, const df_object *o,
	const df_object *t)
{
	const df_object *now;

	if (sf->dialect != DF_DIALECT_POSTGRES || !o->def ||
	    (o->kind != DF_OBJ_TRIGGER && o->kind != DF_OBJ_POLICY) ||
	    !(now = df_schema_find(st, t->key)))
		return false;
	for (size_t i = 0; i < t->ncols; i++) {
		const df_column *c = &t->cols[i], *n = NULL;
		for (size_t k = 0; k < now->ncols; k++)
			if (!strcmp(now->cols[k].name, c->name))
				n = &now->cols[k];
		if (n && c->type && n->type && !strcmp(c->type, n->type) &&
		    !c->collation == !n->collation && (!c->collation || !strcmp(c->collation, n->collation)))
			continue;
		if (names_word(o->def, c->name))
			return true;
	}
	return false;
}

/* ---- PostgreSQL: grants, owner and rules of a re-created object ---------- */

/* "view public.v" as uncompared.c names an object of the model */
static void unc_name(df_buf *b, const df_object *o)
{
	df_buf_printf(b, "%s %s.%s", o->kind == DF_OBJ_MATVIEW ? "materialized view" :
		df_obj_kind_name(o->kind), o->schema, o->name);
}

/* the state of `cls` for object `name` in s->uncompared, or NULL */
static const char *unc_state(const df_schema *s, const char *cls, const char *name, size_t *len)
{
	size_t lc = strlen(cls), ln = strlen(name);

	for (size_t i = 0; i < s->uncompared.nr; i++) {
		const char *l = s->uncompared.v[i], *st, *end;
		if (strncmp(l, cls, lc) || l[lc] != '\t' || strncmp(l + lc + 1, name, ln) ||
		    l[lc + 1 + ln] != '\t')
			continue;
		st = l + lc + 1 + ln + 1;
		end = strchr(st, '\t');
		*len = end ? (size_t)(end - st) : strlen(st);
		return st;
	}
	return NULL;
}

static const struct { char c; const char *name; } PRIVS[] = {
	{ 'r', "SELECT" }, { 'a', "INSERT" }, { 'w', "UPDATE" }, { 'd', "DELETE" },
	{ 'D', "TRUNCATE" }, { 'x', "REFERENCES" }, { 't', "TRIGGER" }, { 'm', "MAINTAIN" },
	{ 'X', "EXECUTE" }, { 'U', "USAGE" }, { 'C', "CREATE" },
};

/* an aclitem's role: "" is PUBLIC; a quoted name as it is */
static void acl_role(df_buf *b, const char *p, size_t n)
{
	if (!n) {
		df_buf_puts(b, "PUBLIC");
		return;
	}
	df_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
			i++;
		else if (p[i] == '"')
			continue;
		if (p[i] == '"')
			df_buf_putc(b, '"');
		df_buf_putc(b, p[i]);
	}
	df_buf_putc(b, '"');
}

/*
 * "{postgres=arwdDxt/postgres,r1=r*w/postgres}": one GRANT per item and
 * privilege (WITH GRANT OPTION where starred).  The owner's own item is
 * what the owner has by default and is left as it is.
 */
static void write_grants(df_buf *b, const df_object *o, const char *target, const char *acl,
	size_t len)
{
	const char *p = acl, *end = acl + len;

	/* a function's default gives PUBLIC EXECUTE: an ACL without it took it away */
	if (o->kind == DF_OBJ_FUNCTION && !memmem(acl, len, "{=", 2) && !memmem(acl, len, ",=", 2))
		df_buf_printf(b, "REVOKE ALL ON FUNCTION %s FROM PUBLIC;\n", target);
	if (p < end && *p == '{')
		p++;
	while (p < end && *p != '}') {
		const char *item = p, *eq = NULL, *slash = NULL;
		bool quoted = false;
		for (; p < end && (quoted || (*p != ',' && *p != '}')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == '=' && !eq)
				eq = p;
			else if (!quoted && *p == '/' && eq)
				slash = p;
		}
		if (eq && slash) {
			const char *g = item, *gend = eq;
			if (*g == '"') {
				g++;
				if (gend > g && gend[-1] == '"')
					gend--;
			}
			/* the owner's item: the owner has it already */
			if (!(eq > item && slash + 1 < p &&
			      (size_t)(eq - item) == (size_t)(p - slash - 1) &&
			      !strncmp(item, slash + 1, (size_t)(eq - item)))) {
				for (const char *q = eq + 1; q < slash; q++) {
					const char *name = NULL;
					for (size_t k = 0; k < sizeof(PRIVS) / sizeof(*PRIVS); k++)
						if (PRIVS[k].c == *q)
							name = PRIVS[k].name;
					if (!name)
						continue;
					df_buf_printf(b, "GRANT %s ON %s", name,
						o->kind == DF_OBJ_FUNCTION ? "FUNCTION " :
						o->kind == DF_OBJ_SEQUENCE ? "SEQUENCE " : "");
					df_buf_puts(b, target);
					df_buf_puts(b, " TO ");
					acl_role(b, g, (size_t)(gend - g));
					df_buf_puts(b, q + 1 < slash && q[1] == '*' ? " WITH GRANT OPTION;\n" : ";\n");
				}
			}
		}
		if (p < end && *p == ',')
			p++;
	}
}

int df__restore_around(df_buf *b, const df_schema *from, const df_schema *to, const df_object *o)
{
	df_buf name = DF_BUF_INIT, target = DF_BUF_INIT, cls = DF_BUF_INIT;
	const char *st;
	size_t len;
	int error = 0;

	/* only what is created again: a new object's grants are --privileges' */
	if (!df_schema_find(from, o->key) || to->dialect != DF_DIALECT_POSTGRES)
		return 0;
	if (o->kind != DF_OBJ_VIEW && o->kind != DF_OBJ_MATVIEW && o->kind != DF_OBJ_TABLE &&
	    o->kind != DF_OBJ_SEQUENCE && o->kind != DF_OBJ_FUNCTION)
		return 0;
	unc_name(&name, o);
	if (o->kind == DF_OBJ_FUNCTION) {
		/* "name(args)": the name quoted, the arguments as they are */
		const char *paren = strchr(o->name, '(');
		df__quote_ident(&target, DF_DIALECT_POSTGRES, o->schema);
		df_buf_putc(&target, '.');
		if (paren) {
			df_buf *tmp = &cls;
			df_buf_printf(tmp, "%.*s", (int)(paren - o->name), o->name);
			df__quote_ident(&target, DF_DIALECT_POSTGRES, tmp->ptr);
			df_buf_puts(&target, paren);
			df_buf_truncate(tmp, 0);
		} else
			df__quote_ident(&target, DF_DIALECT_POSTGRES, o->name);
	} else
		df__qualified(&target, DF_DIALECT_POSTGRES, o->schema, o->name);
	if (df_buf_oom(&name) || df_buf_oom(&target)) {
		error = df_error_oom();
		goto out;
	}
	if ((st = unc_state(to, "owners", name.ptr, &len)) && len) {
		df_buf_printf(b, "ALTER %s ", o->kind == DF_OBJ_MATVIEW ? "MATERIALIZED VIEW" :
			o->kind == DF_OBJ_VIEW ? "VIEW" : o->kind == DF_OBJ_SEQUENCE ? "SEQUENCE" :
			o->kind == DF_OBJ_FUNCTION ? "FUNCTION" : "TABLE");
		df_buf_puts(b, target.ptr);
		df_buf_puts(b, " OWNER TO ");
		acl_role(b, st, len);
		df_buf_puts(b, ";\n");
	}
	if ((st = unc_state(to, "privileges", name.ptr, &len)) && to->privileges) {
		/* --privileges' form: "items\tTARGET|default items": from the default to B */
		const char *t = st[len] == '\t' ? st + len + 1 : "", *bar = strchr(t, '|');
		char *items = strndup(st, len), *tg = bar ? strndup(t, (size_t)(bar - t)) : NULL;
		if (!items || (bar && !tg))
			error = df_error_oom();
		else if (bar)
			df__privileges_sql(b, tg, bar + 1, items);
		free(items);
		free(tg);
		if (error < 0)
			goto out;
	} else if (st)
		write_grants(b, o, target.ptr, st, len);
	/* the rules on a view or table: "rule public.v.name" */
	df_buf_printf(&cls, "rule %s.%s.", o->schema, o->name);
	for (size_t i = 0; i < to->uncompared.nr && !df_buf_oom(&cls); i++) {
		static const char RULES[] = "rules (other than views)\t";
		const char *l = to->uncompared.v[i], *def, *end;
		if (strncmp(l, RULES, sizeof(RULES) - 1) ||
		    strncmp(l + sizeof(RULES) - 1, cls.ptr, cls.size) ||
		    !(def = strchr(l + sizeof(RULES) - 1, '\t')))
			continue;
		def++;
		end = strchr(def, '\t');
		df_buf_printf(b, "%.*s\n", (int)(end ? (size_t)(end - def) : strlen(def)), def);
	}
	if (df_buf_oom(b) || df_buf_oom(&cls))
		error = df_error_oom();
out:
	df_buf_release(&name);
	df_buf_release(&target);
	df_buf_release(&cls);
	return error;
}
