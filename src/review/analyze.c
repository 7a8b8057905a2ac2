/*
 * Token-level classification of statements into ops.
 *
 * This is deliberately a keyword reader, not a parser: it must be fast
 * (db status runs it on every pending migration), identical for the three
 * dialects, and never fail.  It recognises the leading keywords of a
 * statement (and of each ALTER TABLE subcommand) and picks the names out;
 * anything else becomes OP_OTHER, "run statement: ...".  ALTER TABLE's
 * subcommands: analyze_alter.c.  What the ops mean, and the actions list:
 * actions.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "review/analyze_int.h"
#include "review/review_int.h"
#include "util/banned.h"

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool df__tok_is(const char *s, const rstmt *st, size_t i, const char *w, size_t wl)
{
	const rtok *t;
	const char *p;

	if (i >= st->ntok)
		return false;
	t = &st->tok[i];
	if (t->kind != RT_WORD || t->len != wl)
		return false;
	p = s + t->off;
	for (size_t k = 0; k < wl; k++)
		if (lower(p[k]) != w[k])
			return false;
	return true;
}

/* Append the text of one name part (token i) to out at *n. */
static void name_part(const char *s, df_dialect d, const rtok *t, char *out, size_t *n)
{
	const char *p = s + t->off;
	size_t len = t->len, k = *n;

	if (t->kind == RT_QIDENT && len >= 2) {
		char q = p[0] == '[' ? ']' : p[0];

		for (size_t i = 1; i + 1 < len && k + 1 < RNAME_MAX; i++) {
			out[k++] = p[i];
			if (p[i] == q && i + 2 < len && p[i + 1] == q)
				i++;
		}
	} else {
		bool fold = d == DF_DIALECT_POSTGRES;

		for (size_t i = 0; i < len && k + 1 < RNAME_MAX; i++)
			out[k++] = fold ? lower(p[i]) : p[i];
	}
	out[k] = '\0';
	*n = k;
}

static bool is_name_tok(const rtok *t)
{
	return t->kind == RT_WORD || t->kind == RT_QIDENT;
}

size_t df__parse_name(const char *s, df_dialect d, const rstmt *st, size_t i, rname *out)
{
	size_t n = 0;

	out->s[0] = '\0';
	if (i >= st->ntok || !is_name_tok(&st->tok[i]))
		return i;
	name_part(s, d, &st->tok[i++], out->s, &n);
	while (i + 1 < st->ntok && df__tok_ch(st, i, '.') &&
	       (is_name_tok(&st->tok[i + 1]) || df__tok_ch(st, i + 1, '*')) &&
	       st->tok[i + 1].off == st->tok[i].off + 1) {
		if (n + 1 < RNAME_MAX)
			out->s[n++] = '.';
		out->s[n] = '\0';
		if (df__tok_ch(st, i + 1, '*')) {
			i += 2;
			break;
		}
		name_part(s, d, &st->tok[i + 1], out->s, &n);
		i += 2;
	}
	return i;
}

static const char *last_part(const char *a)
{
	const char *dot = strrchr(a, '.');

	return dot ? dot + 1 : a;
}

bool df__name_eq(df_dialect d, const char *a, const char *b)
{
	int (*cmp)(const char *, const char *) =
		d == DF_DIALECT_POSTGRES ? strcmp : strcasecmp;

	if (!cmp(a, b))
		return true;
	if (strchr(a, '.') && strchr(b, '.'))
		return false;
	return !cmp(last_part(a), last_part(b));
}

void df__tok_text(df_buf *b, const char *s, const rstmt *st, size_t lo, size_t hi, size_t max)
{
	size_t start = b->size;

	for (size_t i = lo; i < hi && i < st->ntok; i++) {
		const rtok *t = &st->tok[i];
		bool space = i > lo && st->tok[i - 1].off + st->tok[i - 1].len < t->off;
		size_t room;

		if (b->size - start >= max)
			break;
		if (space)
			df_buf_putc(b, ' ');
		room = max - (b->size - start);
		if (t->len > room) {
			/* cut on a UTF-8 boundary */
			size_t k = room;

			while (k > 0 && ((unsigned char)s[t->off + k] & 0xC0) == 0x80)
				k--;
			df_buf_put(b, s + t->off, k);
			df_buf_puts(b, "...");
			return;
		}
		df_buf_put(b, s + t->off, t->len);
	}
	if (hi < st->ntok && b->size - start >= max)
		df_buf_puts(b, "...");
}

/* ---- the classifier ------------------------------------------------------ */

void df__an_op_init(rop *op, int kind)
{
	op->kind = kind;
	op->what = NULL;
	op->tab.s[0] = op->col.s[0] = op->obj.s[0] = '\0';
	op->ncols = -1;
	op->flags = 0;
	op->lo = op->hi = op->type_lo = 0;
}

int df__an_emit(actx *a, rop *op)
{
	if (a->ret)
		return a->ret;
	if (op->hi == 0)
		op->hi = a->st->ntok;
	return a->ret = a->fn(a->ctx, a->st, op);
}

int df__an_emit_kind(actx *a, int kind)
{
	rop op;

	df__an_op_init(&op, kind);
	return df__an_emit(a, &op);
}

size_t df__an_skip_if_exists(actx *a, size_t i, rop *op)
{
	if (IS(i, "if") && IS(i + 1, "exists")) {
		if (op)
			op->flags |= OPF_IF_EXISTS;
		return i + 2;
	}
	if (IS(i, "if") && IS(i + 1, "not") && IS(i + 2, "exists"))
		return i + 3;
	return i;
}

/* Index of the next token at depth `depth` that is the character c, in [i, hi). */
size_t df__an_find_ch(actx *a, size_t i, size_t hi, char c, unsigned depth)
{
	for (; i < hi; i++)
		if (a->st->tok[i].depth == depth && CH(i, c))
			return i;
	return hi;
}

static bool has_word_at_depth0(actx *a, size_t i, size_t hi, const char *w, size_t wl)
{
	for (; i < hi; i++)
		if (a->st->tok[i].depth == 0 && df__tok_is(a->s, a->st, i, w, wl))
			return true;
	return false;
}

/* Column definition flags from tokens [i, hi) (after the column name). */
unsigned df__an_column_flags(actx *a, size_t i, size_t hi)
{
	unsigned f = 0;
	unsigned base = i < a->st->ntok ? a->st->tok[i].depth : 0;

	for (size_t k = i; k < hi; k++) {
		if (a->st->tok[k].depth != base)
			continue;
		if (IS(k, "not") && IS(k + 1, "null")) {
			f |= OPF_NOT_NULL;
			k++;
		} else if (IS(k, "default")) {
			if (IS(k + 1, "null"))
				continue;
			f |= OPF_DEFAULT;
			if (CH(k + 1, '(') ||
			    (k + 1 < hi && (IS(k + 1, "current_timestamp") ||
			     IS(k + 1, "current_time") || IS(k + 1, "current_date") ||
			     IS(k + 1, "now"))))
				f |= OPF_EXPR_DEFAULT;
		} else if (IS(k, "generated") || IS(k, "identity") ||
			   IS(k, "auto_increment") || IS(k, "autoincrement")) {
			f |= OPF_GENERATED;
		} else if (IS(k, "as") && CH(k + 1, '(')) {
			f |= OPF_GENERATED;     /* MySQL/SQLite generated column */
		} else if (IS(k, "stored") || IS(k, "persistent")) {
			f |= OPF_STORED;
		} else if (IS(k, "primary") && IS(k + 1, "key")) {
			f |= OPF_PK;
		} else if (IS(k, "unique")) {
			f |= OPF_INLINE_UNIQUE;
		} else if (IS(k, "references")) {
			f |= OPF_REFERENCES;
		} else if (k == i && (IS(k, "serial") || IS(k, "bigserial") ||
			   IS(k, "smallserial") || IS(k, "serial2") ||
			   IS(k, "serial4") || IS(k, "serial8"))) {
			f |= OPF_GENERATED | OPF_DEFAULT;
		}
	}
	return f;
}

static bool is_table_element_keyword(actx *a, size_t i)
{
	if (IS(i, "constraint") || IS(i, "primary") || IS(i, "unique") ||
	    IS(i, "check") || IS(i, "foreign") || IS(i, "exclude") || IS(i, "like"))
		return true;
	if (a->d == DF_DIALECT_MYSQL)
		return IS(i, "index") || IS(i, "key") || IS(i, "fulltext") ||
			IS(i, "spatial");
	return false;
}

static int an_create(actx *a)
{
	const rstmt *st = a->st;
	size_t i = 1, n = st->ntok;
	rop op;

	df__an_op_init(&op, OP_CREATE);
	if (IS(i, "or") && IS(i + 1, "replace"))
		i += 2;
	/* modifiers up to the object kind */
	for (; i < n && i < 12; i++) {
		if (IS(i, "temp") || IS(i, "temporary")) {
			op.flags |= OPF_TEMP;
		} else if (IS(i, "unique")) {
			op.flags |= OPF_UNIQUE;
		} else if (IS(i, "definer") && CH(i + 1, '=')) {
			/* MySQL: DEFINER = user@host */
			i += 2;
			while (i + 1 < n && (CH(i + 1, '@') || CH(i, '@')))
				i++;
		} else if (IS(i, "fulltext") || IS(i, "spatial")) {
			op.flags |= OPF_FULLTEXT;
		} else if (IS(i, "unlogged") || IS(i, "global") || IS(i, "local") ||
			   IS(i, "virtual") ||
			   IS(i, "recursive") || IS(i, "trusted") || IS(i, "procedural") ||
			   IS(i, "constraint") || IS(i, "default") || IS(i, "aggregate") ||
			   IS(i, "online") || IS(i, "offline") || IS(i, "sql") ||
			   IS(i, "security") || IS(i, "invoker") || IS(i, "algorithm") ||
			   IS(i, "undefined") || IS(i, "merge") || IS(i, "temptable") ||
			   CH(i, '=')) {
			continue;
		} else {
			break;
		}
	}
	if (IS(i, "table")) {
		op.kind = OP_CREATE_TABLE;
		i = df__an_skip_if_exists(a, i + 1, NULL);
		i = df__parse_name(a->s, a->d, st, i, &op.tab);
		if (CH(i, '(')) {
			size_t close = df__an_find_ch(a, i + 1, n, ')', st->tok[i].depth);
			size_t k = i + 1;
			int cols = 0;

			while (k < close) {
				size_t e = df__an_find_ch(a, k, close, ',', st->tok[i].depth + 1);

				if (e > k && !is_table_element_keyword(a, k))
					cols++;
				k = e + 1;
			}
			op.ncols = cols;
			i = close + 1;
		}
		if (has_word_at_depth0(a, i, n, "as", 2) ||
		    has_word_at_depth0(a, i, n, "select", 6)) {
			op.flags |= OPF_AS_QUERY;
			op.ncols = -1;
		}
		return df__an_emit(a, &op);
	}
	if (IS(i, "index")) {
		op.kind = OP_CREATE_INDEX;
		i++;
		if (IS(i, "concurrently")) {
			op.flags |= OPF_CONCURRENTLY;
			i++;
		}
		i = df__an_skip_if_exists(a, i, NULL);
		if (!IS(i, "on"))
			i = df__parse_name(a->s, a->d, st, i, &op.obj);
		while (i < n && !(IS(i, "on") && st->tok[i].depth == 0))
			i++;
		i++;
		if (IS(i, "only"))
			i++;
		df__parse_name(a->s, a->d, st, i, &op.tab);
		return df__an_emit(a, &op);
	}
	if (IS(i, "materialized") && IS(i + 1, "view")) {
		op.what = "materialized view";
		i += 2;
	} else if (IS(i, "foreign") && IS(i + 1, "table")) {
		op.what = "foreign table";
		i += 2;
	} else if (IS(i, "event") && IS(i + 1, "trigger")) {
		op.what = "event trigger";
		i += 2;
	} else {
		static const char *const kinds[] = {
			"view", "sequence", "function", "procedure", "trigger",
			"schema", "database", "extension", "type", "domain", "role",
			"user", "policy", "event", "rule", "operator", "collation",
			"server", "publication", "subscription", "cast", "language",
			"tablespace", "statistics", "conversion", "aggregate",
			"transform", "group", "macro",
		};
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (df__tok_is(a->s, st, i, kinds[k], strlen(kinds[k]))) {
				op.what = kinds[k];
				i++;
				break;
			}
		if (!op.what)
			return df__an_emit_kind(a, OP_OTHER);
	}
	i = df__an_skip_if_exists(a, i, NULL);
	if (IS(i, "authorization"))
		i++;
	i = df__parse_name(a->s, a->d, st, i, &op.obj);
	if (!strcmp(op.what, "schema") && a->d == DF_DIALECT_MYSQL)
		op.what = "database";
	if (!strcmp(op.what, "trigger")) {
		/* CREATE TRIGGER name {BEFORE|AFTER|INSTEAD OF} events ON table */
		while (i < n && !(IS(i, "on") && st->tok[i].depth == 0))
			i++;
		if (i < n)
			df__parse_name(a->s, a->d, st, i + 1, &op.tab);
	}
	return df__an_emit(a, &op);
}

/* DROP <kind> [CONCURRENTLY] [IF EXISTS] name [, name ...] [CASCADE] [ON t] */
static int an_drop(actx *a)
{
	const rstmt *st = a->st;
	size_t i = 1, n = st->ntok;
	rop op;
	int kind = OP_DROP;
	const char *what = NULL;

	df__an_op_init(&op, OP_DROP);
	if (IS(i, "temporary")) {
		op.flags |= OPF_TEMP;
		i++;
	}
	if (IS(i, "table")) {
		kind = OP_DROP_TABLE;
		what = "table";
		i++;
	} else if (IS(i, "index")) {
		kind = OP_DROP_INDEX;
		what = "index";
		i++;
	} else if (IS(i, "schema")) {
		kind = a->d == DF_DIALECT_MYSQL ? OP_DROP_DATABASE : OP_DROP_SCHEMA;
		what = "schema";
		i++;
	} else if (IS(i, "database")) {
		kind = OP_DROP_DATABASE;
		what = "database";
		i++;
	} else if (IS(i, "materialized") && IS(i + 1, "view")) {
		what = "materialized view";
		i += 2;
	} else if (IS(i, "foreign") && IS(i + 1, "table")) {
		what = "foreign table";
		i += 2;
	} else if (IS(i, "event") && IS(i + 1, "trigger")) {
		what = "event trigger";
		i += 2;
	} else {
		static const char *const kinds[] = {
			"view", "sequence", "function", "procedure", "trigger",
			"extension", "type", "domain", "role", "user", "policy",
			"event", "rule", "operator", "collation", "server",
			"publication", "subscription", "cast", "language",
			"tablespace", "statistics", "conversion", "aggregate",
			"routine", "owned", "group", "transform", "macro",
		};
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (df__tok_is(a->s, st, i, kinds[k], strlen(kinds[k]))) {
				what = kinds[k];
				i++;
				break;
			}
		if (!what)
			return df__an_emit_kind(a, OP_OTHER);
	}
	if (IS(i, "concurrently")) {
		op.flags |= OPF_CONCURRENTLY;
		i++;
	}
	i = df__an_skip_if_exists(a, i, &op);
	if (has_word_at_depth0(a, i, n, "cascade", 7))
		op.flags |= OPF_CASCADE;
	for (;;) {
		rop one = op;
		size_t j = df__parse_name(a->s, a->d, st, i, &one.obj);

		if (j == i)
			break;
		one.kind = kind;
		one.what = what;
		if (CH(j, '('))         /* DROP FUNCTION f(args) */
			j = df__an_find_ch(a, j + 1, n, ')', st->tok[j].depth) + 1;
		if (IS(j, "on")) {      /* MySQL DROP INDEX i ON t; PG DROP TRIGGER t ON x */
			j = df__parse_name(a->s, a->d, st, j + 1, &one.tab);
		}
		if (kind == OP_DROP_TABLE)
			memcpy(one.tab.s, one.obj.s, sizeof(one.tab.s));
		if (df__an_emit(a, &one))
			return a->ret;
		if (!CH(j, ','))
			break;
		i = j + 1;
	}
	return 0;
}

/* The table after `i` (skipping ONLY / modifiers) for DML. */
static size_t dml_table(actx *a, size_t i, rop *op)
{
	while (IS(i, "only") || IS(i, "low_priority") || IS(i, "ignore") ||
	       IS(i, "quick") || IS(i, "delayed") || IS(i, "high_priority") ||
	       (IS(i, "or") && (IS(i + 1, "replace") || IS(i + 1, "ignore") ||
	       IS(i + 1, "abort") || IS(i + 1, "fail") || IS(i + 1, "rollback"))))
		i += IS(i, "or") ? 2 : 1;
	return df__parse_name(a->s, a->d, a->st, i, &op->tab);
}

static int an_dml(actx *a, size_t i)
{
	const rstmt *st = a->st;
	size_t n = st->ntok;
	rop op;

	df__an_op_init(&op, OP_OTHER);
	if (IS(i, "insert") || IS(i, "replace") || IS(i, "upsert")) {
		op.kind = OP_INSERT;
		i++;
		while (IS(i, "or") || IS(i, "replace") || IS(i, "ignore") ||
		       IS(i, "abort") || IS(i, "fail") || IS(i, "rollback") ||
		       IS(i, "low_priority") || IS(i, "delayed") ||
		       IS(i, "high_priority"))
			i++;
		if (IS(i, "into"))
			i++;
		dml_table(a, i, &op);
		return df__an_emit(a, &op);
	}
	if (IS(i, "update")) {
		op.kind = OP_UPDATE;
		dml_table(a, i + 1, &op);
		if (!has_word_at_depth0(a, i + 1, n, "where", 5))
			op.flags |= OPF_NO_WHERE;
		return df__an_emit(a, &op);
	}
	if (IS(i, "delete")) {
		size_t k = i + 1;

		op.kind = OP_DELETE;
		while (k < n && !(IS(k, "from") && st->tok[k].depth == 0))
			k++;
		if (k >= n)
			k = i;          /* no FROM: DELETE t ... (rare) */
		dml_table(a, k + 1, &op);
		if (!has_word_at_depth0(a, i + 1, n, "where", 5))
			op.flags |= OPF_NO_WHERE;
		return df__an_emit(a, &op);
	}
	if (IS(i, "merge")) {
		op.kind = OP_MERGE;
		if (IS(i + 1, "into"))
			i++;
		dml_table(a, i + 1, &op);
		return df__an_emit(a, &op);
	}
	return df__an_emit_kind(a, OP_OTHER);
}

static int an_set(actx *a, bool reset)
{
	const rstmt *st = a->st;
	size_t i = 1, n = st->ntok;
	rop op;

	df__an_op_init(&op, OP_SET);
	if (reset)
		op.flags |= OPF_RESET;
	if (IS(i, "session") || IS(i, "global") || IS(i, "persist")) {
		i++;
	} else if (IS(i, "local")) {
		op.flags |= OPF_LOCAL;
		i++;
	}
	if (IS(i, "time") && IS(i + 1, "zone")) {
		memcpy(op.col.s, "timezone", 9);
		i += 2;
	} else {
		size_t k = 0;

		/* the setting name, dotted (foo.lock_timeout), lower-cased */
		for (; i < n && (st->tok[i].kind == RT_WORD || st->tok[i].kind == RT_QIDENT ||
		     CH(i, '.') || CH(i, '@')); i++) {
			const rtok *t = &st->tok[i];

			if (i > 1 && k && st->tok[i - 1].off + st->tok[i - 1].len != t->off)
				break;
			for (size_t c = 0; c < t->len && k + 1 < RNAME_MAX; c++)
				op.col.s[k++] = lower(a->s[t->off + c]);
		}
		op.col.s[k] = '\0';
	}
	if (CH(i, '=') || IS(i, "to"))
		i++;
	if (i < n) {
		const rtok *t = &st->tok[i];
		size_t k = 0, lo = t->off, hi = t->off + t->len;

		if ((t->kind == RT_STRING || t->kind == RT_QIDENT) && t->len >= 2) {
			lo++;
			hi--;
		}
		for (size_t c = lo; c < hi && k + 1 < RNAME_MAX; c++)
			op.obj.s[k++] = lower(a->s[c]);
		op.obj.s[k] = '\0';
	}
	return df__an_emit(a, &op);
}

/* SELECT set_config('lock_timeout', '5s', false) counts as a SET. */
static int an_select(actx *a)
{
	const rstmt *st = a->st;
	size_t i = 1;

	if (IS(i, "pg_catalog") && CH(i + 1, '.'))
		i += 2;
	if (IS(i, "set_config") && CH(i + 1, '(') && i + 4 < st->ntok &&
	    st->tok[i + 2].kind == RT_STRING && CH(i + 3, ',') &&
	    st->tok[i + 4].kind == RT_STRING) {
		rop op;
		const rtok *t = &st->tok[i + 2], *v = &st->tok[i + 4];
		size_t k = 0;

		df__an_op_init(&op, OP_SET);
		for (size_t c = t->off + 1; c + 1 < t->off + t->len && k + 1 < RNAME_MAX; c++)
			op.col.s[k++] = lower(a->s[c]);
		op.col.s[k] = '\0';
		k = 0;
		for (size_t c = v->off + 1; c + 1 < v->off + v->len && k + 1 < RNAME_MAX; c++)
			op.obj.s[k++] = lower(a->s[c]);
		op.obj.s[k] = '\0';
		if (IS(i + 6, "true"))
			op.flags |= OPF_LOCAL;
		return df__an_emit(a, &op);
	}
	return df__an_emit_kind(a, OP_OTHER);
}

static int an_maintenance(actx *a, int kind)
{
	const rstmt *st = a->st;
	size_t i = 1, n = st->ntok;
	rop op;

	df__an_op_init(&op, kind);
	if (kind == OP_REINDEX) {
		if (CH(i, '('))
			i = df__an_find_ch(a, i + 1, n, ')', 0) + 1;
		if (IS(i, "index") || IS(i, "table") || IS(i, "schema") ||
		    IS(i, "database") || IS(i, "system")) {
			op.what = IS(i, "index") ? "index" : IS(i, "table") ? "table" :
				IS(i, "schema") ? "schema" : IS(i, "database") ?
				"database" : "system";
			i++;
		}
		if (IS(i, "concurrently")) {
			op.flags |= OPF_CONCURRENTLY;
			i++;
		}
		df__parse_name(a->s, a->d, st, i, &op.obj);
		if (op.what && !strcmp(op.what, "table"))
			memcpy(op.tab.s, op.obj.s, sizeof(op.tab.s));
		return df__an_emit(a, &op);
	}
	for (; i < n; i++) {
		if (CH(i, '(')) {
			size_t close = df__an_find_ch(a, i + 1, n, ')', 0);

			for (size_t k = i + 1; k < close; k++)
				if (IS(k, "full") && !IS(k + 1, "false") && !IS(k + 1, "off") &&
				    !(k + 1 < close && a->st->tok[k + 1].kind == RT_NUMBER &&
				      a->s[a->st->tok[k + 1].off] == '0'))
					op.flags |= OPF_FULL;
			i = close;
			continue;
		}
		if (IS(i, "full")) {
			op.flags |= OPF_FULL;
		} else if (IS(i, "verbose") || IS(i, "freeze") || IS(i, "analyze") ||
			   IS(i, "analyse") || IS(i, "table") || IS(i, "local") ||
			   IS(i, "no_write_to_binlog")) {
			continue;
		} else {
			break;
		}
	}
	df__parse_name(a->s, a->d, st, i, &op.tab);
	return df__an_emit(a, &op);
}

static int an_statement(actx *a, size_t i)
{
	const rstmt *st = a->st;
	size_t n = st->ntok;

	if (i >= n)
		return df__an_emit_kind(a, OP_NONE);
	if (i == 0) {
		if (IS(0, "create"))
			return an_create(a);
		if (IS(0, "drop"))
			return an_drop(a);
		if (IS(0, "alter"))
			return df__an_alter(a);
		if (IS(0, "set"))
			return an_set(a, false);
		if (IS(0, "reset"))
			return an_set(a, true);
	}
	if (IS(i, "insert") || IS(i, "replace") || IS(i, "update") ||
	    IS(i, "delete") || IS(i, "merge") || IS(i, "upsert"))
		return an_dml(a, i);
	if (i > 0)
		return df__an_emit_kind(a, OP_OTHER);
	if (IS(0, "with")) {
		/* WITH ... main statement: the first verb at depth 0 */
		for (size_t k = 1; k < n; k++)
			if (st->tok[k].depth == 0 &&
			    (IS(k, "select") || IS(k, "insert") || IS(k, "update") ||
			     IS(k, "delete") || IS(k, "merge") || IS(k, "values")))
				return IS(k, "select") || IS(k, "values") ?
					df__an_emit_kind(a, OP_OTHER) : an_dml(a, k);
		return df__an_emit_kind(a, OP_OTHER);
	}
	if (IS(0, "truncate")) {
		size_t k = 1;
		rop op;

		df__an_op_init(&op, OP_TRUNCATE);
		if (IS(k, "table"))
			k++;
		if (has_word_at_depth0(a, k, n, "cascade", 7))
			op.flags |= OPF_CASCADE;
		for (;;) {
			size_t j;

			if (IS(k, "only"))
				k++;
			j = df__parse_name(a->s, a->d, st, k, &op.tab);
			if (j == k)
				break;
			if (CH(j, '*'))
				j++;
			if (df__an_emit(a, &op))
				return a->ret;
			if (!CH(j, ','))
				break;
			k = j + 1;
		}
		return 0;
	}
	if (IS(0, "rename") && (IS(1, "table") || IS(1, "tables"))) {
		size_t k = 2;

		for (;;) {
			rop op;
			size_t j;

			df__an_op_init(&op, OP_RENAME_TABLE);
			j = df__parse_name(a->s, a->d, st, k, &op.tab);
			if (j == k || !IS(j, "to"))
				break;
			j = df__parse_name(a->s, a->d, st, j + 1, &op.obj);
			memcpy(op.col.s, op.tab.s, sizeof(op.col.s));
			if (df__an_emit(a, &op))
				return a->ret;
			if (!CH(j, ','))
				break;
			k = j + 1;
		}
		return 0;
	}
	if (IS(0, "begin")) {
		if (IS(1, "atomic"))
			return df__an_emit_kind(a, OP_OTHER);
		return df__an_emit_kind(a, OP_TX_BEGIN);
	}
	if (IS(0, "start") && IS(1, "transaction"))
		return df__an_emit_kind(a, OP_TX_BEGIN);
	if (IS(0, "commit") || IS(0, "end")) {
		if (IS(1, "prepared"))
			return df__an_emit_kind(a, OP_NONE);
		return df__an_emit_kind(a, OP_TX_COMMIT);
	}
	if (IS(0, "prepare") && IS(1, "transaction"))
		return df__an_emit_kind(a, OP_TX_COMMIT);
	if (IS(0, "rollback") || IS(0, "abort")) {
		for (size_t k = 1; k < n && k < 4; k++)
			if (IS(k, "to") || IS(k, "prepared"))
				return df__an_emit_kind(a, OP_NONE);
		return df__an_emit_kind(a, OP_TX_ROLLBACK);
	}
	if (IS(0, "savepoint") || IS(0, "release") || IS(0, "pragma") ||
	    IS(0, "show") || IS(0, "explain") || IS(0, "use") ||
	    IS(0, "listen") || IS(0, "unlisten") || IS(0, "deallocate") ||
	    IS(0, "discard") || IS(0, "checkpoint") || (IS(0, "load") && !IS(1, "data")) ||
	    IS(0, "unlock") || IS(0, "describe") || IS(0, "desc") || IS(0, "fetch") ||
	    IS(0, "close") || IS(0, "declare") || IS(0, "move"))
		return df__an_emit_kind(a, OP_NONE);
	if (IS(0, "select"))
		return an_select(a);
	if (IS(0, "copy")) {
		rop op;

		df__an_op_init(&op, OP_OTHER);
		if (has_word_at_depth0(a, 1, n, "from", 4) && !CH(1, '(')) {
			op.kind = OP_COPY_IN;
			df__parse_name(a->s, a->d, st, 1, &op.tab);
		} else {
			op.kind = OP_NONE;
		}
		return df__an_emit(a, &op);
	}
	if (IS(0, "load") && IS(1, "data")) {
		rop op;

		df__an_op_init(&op, OP_INSERT);
		for (size_t k = 2; k + 1 < n; k++)
			if (IS(k, "into") && IS(k + 1, "table")) {
				df__parse_name(a->s, a->d, st, k + 2, &op.tab);
				break;
			}
		return df__an_emit(a, &op);
	}
	if (IS(0, "vacuum"))
		return an_maintenance(a, OP_VACUUM);
	if (IS(0, "cluster"))
		return an_maintenance(a, OP_CLUSTER);
	if (IS(0, "reindex"))
		return an_maintenance(a, OP_REINDEX);
	if (IS(0, "analyze") || IS(0, "analyse"))
		return an_maintenance(a, OP_ANALYZE);
	if (IS(0, "optimize") && IS(1, "table")) {
		rop op;

		df__an_op_init(&op, OP_VACUUM);
		op.flags |= OPF_FULL;
		df__parse_name(a->s, a->d, st, 2, &op.tab);
		return df__an_emit(a, &op);
	}
	if (IS(0, "lock")) {
		rop op;
		size_t k = 1;

		if (a->d == DF_DIALECT_MYSQL)
			return df__an_emit_kind(a, OP_NONE);
		df__an_op_init(&op, OP_LOCK);
		if (IS(k, "table"))
			k++;
		if (IS(k, "only"))
			k++;
		df__parse_name(a->s, a->d, st, k, &op.tab);
		/* IN <mode> MODE: the words in between, lower case, single-spaced */
		for (; k < n; k++)
			if (IS(k, "in") && st->tok[k].depth == 0)
				break;
		{
			size_t m = 0;

			for (k++; k < n && !IS(k, "mode") && !IS(k, "nowait"); k++) {
				const rtok *t = &st->tok[k];

				if (m && m + 1 < RNAME_MAX)
					op.obj.s[m++] = ' ';
				for (size_t c = 0; c < t->len && m + 1 < RNAME_MAX; c++)
					op.obj.s[m++] = lower(a->s[t->off + c]);
			}
			op.obj.s[m] = '\0';
		}
		return df__an_emit(a, &op);
	}
	if (IS(0, "comment") && IS(1, "on")) {
		rop op;
		size_t k = 2;

		df__an_op_init(&op, OP_COMMENT);
		if (IS(k, "table"))
			op.what = "table";
		else if (IS(k, "column"))
			op.what = "column";
		else if (IS(k, "index"))
			op.what = "index";
		else if (IS(k, "view"))
			op.what = "view";
		else if (IS(k, "function"))
			op.what = "function";
		else if (IS(k, "type"))
			op.what = "type";
		else if (IS(k, "schema"))
			op.what = "schema";
		else
			return df__an_emit_kind(a, OP_OTHER);
		df__parse_name(a->s, a->d, st, k + 1, &op.obj);
		return df__an_emit(a, &op);
	}
	return df__an_emit_kind(a, OP_OTHER);
}

int df__analyze(const char *s, df_dialect d, const rstmt *st, rop_fn fn, void *ctx)
{
	actx a = { s, d, st, fn, ctx, 0 };

	an_statement(&a, 0);
	return a.ret;
}
