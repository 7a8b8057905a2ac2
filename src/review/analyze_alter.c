/*
 * ALTER TABLE in the keyword classifier: the table, then each subcommand
 * (ADD / DROP / ALTER / MODIFY / CHANGE / RENAME COLUMN, constraints,
 * indexes, and the rest) as its own op.
 */
#include <string.h>

#include "review/analyze_int.h"
#include "util/banned.h"

/* One ALTER TABLE subcommand, tokens [i, hi). */
static int an_alter_sub(actx *a, const rname *tab, size_t i, size_t hi)
{
	const rstmt *st = a->st;
	rop op;

	df__an_op_init(&op, OP_ALTER_TABLE_OTHER);
	memcpy(op.tab.s, tab->s, sizeof(op.tab.s));
	op.lo = i;
	op.hi = hi;
	if (i >= hi)
		return 0;
	if (IS(i, "add")) {
		size_t k = i + 1;

		if (IS(k, "column")) {
			k++;
			goto add_column;
		}
		k = df__an_skip_if_exists(a, k, NULL);
		if (IS(k, "constraint")) {
			df__parse_name(a->s, a->d, st, k + 1, &op.obj);
			k += 2;
			if (CH(k - 1, '.'))
				k += 2;
		}
		if (IS(k, "primary") && IS(k + 1, "key")) {
			op.what = "primary key";
		} else if (IS(k, "unique")) {
			op.what = "unique constraint";
			if (a->d == DF_DIALECT_MYSQL && !op.obj.s[0]) {
				size_t m = k + 1;

				if (IS(m, "index") || IS(m, "key"))
					m++;
				if (!CH(m, '('))
					df__parse_name(a->s, a->d, st, m, &op.obj);
			}
		} else if (IS(k, "foreign") && IS(k + 1, "key")) {
			op.what = "foreign key";
		} else if (IS(k, "check")) {
			op.what = "check constraint";
		} else if (IS(k, "exclude")) {
			op.what = "exclusion constraint";
		} else if (a->d == DF_DIALECT_MYSQL &&
			   (IS(k, "index") || IS(k, "key") || IS(k, "fulltext") ||
			    IS(k, "spatial"))) {
			op.what = "index";
			if (IS(k, "fulltext") || IS(k, "spatial")) {
				op.flags |= OPF_FULLTEXT;
				k++;
			}
			if (IS(k, "index") || IS(k, "key"))
				k++;
			if (!CH(k, '('))
				df__parse_name(a->s, a->d, st, k, &op.obj);
		} else if (a->d == DF_DIALECT_MYSQL && IS(k, "partition")) {
			return df__an_emit(a, &op);
		} else if (op.obj.s[0]) {
			op.what = "constraint";
		} else {
			goto add_column;
		}
		op.kind = OP_ADD_CONSTRAINT;
		return df__an_emit(a, &op);
add_column:
		k = df__an_skip_if_exists(a, k, NULL);
		op.kind = OP_ADD_COLUMN;
		if (CH(k, '(')) {       /* MySQL ADD (a INT, b INT) */
			size_t close = df__an_find_ch(a, k + 1, hi, ')', st->tok[k].depth);
			size_t m = k + 1;

			while (m < close) {
				size_t e = df__an_find_ch(a, m, close, ',', st->tok[k].depth + 1);
				rop one = op;
				size_t t = df__parse_name(a->s, a->d, st, m, &one.col);

				one.type_lo = t;
				one.flags = df__an_column_flags(a, t, e);
				one.lo = m;
				one.hi = e;
				if (t > m && df__an_emit(a, &one))
					return a->ret;
				m = e + 1;
			}
			return 0;
		}
		k = df__parse_name(a->s, a->d, st, k, &op.col);
		op.type_lo = k;
		op.flags = df__an_column_flags(a, k, hi);
		return df__an_emit(a, &op);
	}
	if (IS(i, "drop")) {
		size_t k = i + 1;

		if (IS(k, "constraint") || IS(k, "check")) {
			op.kind = OP_DROP_CONSTRAINT;
			op.what = "constraint";
			k = df__an_skip_if_exists(a, k + 1, NULL);
			df__parse_name(a->s, a->d, st, k, &op.obj);
			return df__an_emit(a, &op);
		}
		if (a->d == DF_DIALECT_MYSQL && (IS(k, "index") || IS(k, "key"))) {
			op.kind = OP_DROP_CONSTRAINT;
			op.what = "index";
			df__parse_name(a->s, a->d, st, df__an_skip_if_exists(a, k + 1, NULL), &op.obj);
			return df__an_emit(a, &op);
		}
		if (IS(k, "primary") && IS(k + 1, "key")) {
			op.kind = OP_DROP_CONSTRAINT;
			op.what = "primary key";
			return df__an_emit(a, &op);
		}
		if (IS(k, "foreign") && IS(k + 1, "key")) {
			op.kind = OP_DROP_CONSTRAINT;
			op.what = "foreign key";
			df__parse_name(a->s, a->d, st, k + 2, &op.obj);
			return df__an_emit(a, &op);
		}
		if (IS(k, "partition") || IS(k, "default") || IS(k, "expression") ||
		    IS(k, "identity"))
			return df__an_emit(a, &op);
		if (IS(k, "column"))
			k++;
		k = df__an_skip_if_exists(a, k, &op);
		op.kind = OP_DROP_COLUMN;
		k = df__parse_name(a->s, a->d, st, k, &op.col);
		if (IS(k, "cascade"))
			op.flags |= OPF_CASCADE;
		return df__an_emit(a, &op);
	}
	if (IS(i, "alter") && !IS(i + 1, "constraint") && !IS(i + 1, "index") &&
	    !IS(i + 1, "check")) {
		size_t k = i + 1;

		if (IS(k, "column"))
			k++;
		k = df__parse_name(a->s, a->d, st, k, &op.col);
		if (IS(k, "type") || (IS(k, "set") && IS(k + 1, "data") && IS(k + 2, "type"))) {
			op.kind = OP_COLUMN_TYPE;
			op.type_lo = IS(k, "type") ? k + 1 : k + 3;
		} else if (IS(k, "set") && IS(k + 1, "not") && IS(k + 2, "null")) {
			op.kind = OP_SET_NOT_NULL;
		} else if (IS(k, "drop") && IS(k + 1, "not") && IS(k + 2, "null")) {
			op.kind = OP_DROP_NOT_NULL;
		} else if (IS(k, "set") && IS(k + 1, "default")) {
			op.kind = OP_SET_DEFAULT;
		} else if (IS(k, "drop") && IS(k + 1, "default")) {
			op.kind = OP_DROP_DEFAULT;
		}
		return df__an_emit(a, &op);
	}
	if (IS(i, "rename")) {
		size_t k = i + 1;

		if (IS(k, "to") || IS(k, "as") || (a->d == DF_DIALECT_MYSQL && !IS(k, "column") &&
		    !IS(k, "index") && !IS(k, "key"))) {
			if (IS(k, "to") || IS(k, "as"))
				k++;
			op.kind = OP_RENAME_TABLE;
			df__parse_name(a->s, a->d, st, k, &op.obj);
			return df__an_emit(a, &op);
		}
		if (IS(k, "constraint") || IS(k, "index") || IS(k, "key"))
			return df__an_emit(a, &op);
		if (IS(k, "column"))
			k++;
		op.kind = OP_RENAME_COLUMN;
		k = df__parse_name(a->s, a->d, st, k, &op.col);
		if (IS(k, "to"))
			k++;
		df__parse_name(a->s, a->d, st, k, &op.obj);
		return df__an_emit(a, &op);
	}
	if (a->d == DF_DIALECT_MYSQL && (IS(i, "modify") || IS(i, "change"))) {
		size_t k = i + 1;
		bool change = IS(i, "change");

		if (IS(k, "column"))
			k++;
		op.kind = OP_MODIFY_COLUMN;
		k = df__parse_name(a->s, a->d, st, k, &op.col);
		if (change)
			k = df__parse_name(a->s, a->d, st, k, &op.obj);
		else
			memcpy(op.obj.s, op.col.s, sizeof(op.obj.s));
		op.type_lo = k;
		op.flags = df__an_column_flags(a, k, hi);
		return df__an_emit(a, &op);
	}
	if (IS(i, "validate") && IS(i + 1, "constraint")) {
		op.kind = OP_VALIDATE_CONSTRAINT;
		df__parse_name(a->s, a->d, st, i + 2, &op.obj);
		return df__an_emit(a, &op);
	}
	if (a->d == DF_DIALECT_MYSQL &&
	    (IS(i, "algorithm") || IS(i, "lock") || IS(i, "engine") ||
	     IS(i, "convert") || IS(i, "force") || IS(i, "order") ||
	     IS(i, "default") || IS(i, "character") || IS(i, "charset") ||
	     IS(i, "row_format") || IS(i, "auto_increment") || IS(i, "comment"))) {
		op.kind = OP_TABLE_OPTION;
		return df__an_emit(a, &op);
	}
	return df__an_emit(a, &op);
}

int df__an_alter(actx *a)
{
	const rstmt *st = a->st;
	size_t i = 1, n = st->ntok;
	rop op;

	df__an_op_init(&op, OP_ALTER);
	if (a->d == DF_DIALECT_MYSQL && (IS(i, "online") || IS(i, "ignore")))
		i++;
	if (IS(i, "table")) {
		rname tab;
		size_t k;

		i = df__an_skip_if_exists(a, i + 1, NULL);
		if (IS(i, "only"))
			i++;
		i = df__parse_name(a->s, a->d, st, i, &tab);
		if (CH(i, '*'))
			i++;
		if (!tab.s[0])
			return df__an_emit_kind(a, OP_OTHER);
		/* subcommands, separated by commas at depth 0 */
		for (k = i; k < n;) {
			size_t e = df__an_find_ch(a, k, n, ',', 0);

			/* PostgreSQL: RENAME ... has no list; MySQL options may nest */
			if (an_alter_sub(a, &tab, k, e))
				return a->ret;
			k = e + 1;
		}
		if (i >= n) {
			rop o;

			df__an_op_init(&o, OP_ALTER_TABLE_OTHER);
			memcpy(o.tab.s, tab.s, sizeof(o.tab.s));
			o.lo = o.hi = n;
			return df__an_emit(a, &o);
		}
		return 0;
	}
	{
		static const char *const kinds[] = {
			"view", "sequence", "function", "procedure", "trigger",
			"schema", "database", "extension", "type", "domain", "role",
			"user", "policy", "event", "rule", "operator", "collation",
			"server", "publication", "subscription", "language",
			"tablespace", "statistics", "conversion", "aggregate", "index",
			"routine", "default", "system", "large", "group", "text",
			"materialized", "foreign",
		};
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (df__tok_is(a->s, st, i, kinds[k], strlen(kinds[k]))) {
				op.what = kinds[k];
				i++;
				break;
			}
	}
	if (!op.what)
		return df__an_emit_kind(a, OP_OTHER);
	if (!strcmp(op.what, "materialized") && IS(i, "view")) {
		op.what = "materialized view";
		i++;
	} else if (!strcmp(op.what, "foreign") && IS(i, "table")) {
		op.what = "foreign table";
		i++;
	} else if (!strcmp(op.what, "default") || !strcmp(op.what, "system") ||
		   !strcmp(op.what, "large") || !strcmp(op.what, "text") ||
		   !strcmp(op.what, "materialized") || !strcmp(op.what, "foreign")) {
		return df__an_emit_kind(a, OP_OTHER);
	}
	i = df__an_skip_if_exists(a, i, NULL);
	i = df__parse_name(a->s, a->d, st, i, &op.obj);
	if (IS(i, "rename") && IS(i + 1, "to"))     /* the new name, in col */
		df__parse_name(a->s, a->d, st, i + 2, &op.col);
	if (!strcmp(op.what, "schema") && a->d == DF_DIALECT_MYSQL)
		op.what = "database";
	return df__an_emit(a, &op);
}
