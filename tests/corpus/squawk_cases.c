/*
 * devflow's PostgreSQL review against squawk's own rule tests:
 * $DF_SHARED/corpus/squawk/cases.jsonl, one case a line with the SQL, the
 * squawk rule(s) it is about and whether that rule must fire ("error") or
 * not ("ok").  Each squawk rule devflow also has maps to one or more devflow
 * rule ids (the table below, also in docs/review.md); a case agrees when
 * "some mapped rule fired" equals "squawk expects it to fire".
 *
 * "Strict" rows are rules with the same meaning; the gate is >= 95 %
 * agreement over them, and, for each strict row, at least its committed
 * number of agreeing cases (min_agree) of which at least one is a case
 * where the rule must fire and does: disabling or breaking any mapped rule
 * fails the test.  Where squawk's suite has no case that fires a mapped
 * rule, own_cases below (written for this test, not taken from the corpus)
 * supply one, and a quiet one.  "Related" rows (a squawk rule that is
 * narrower or broader than devflow's) are printed for information only.
 * Every disagreement is printed, and explained in docs/review.md.
 *
 * DF_REVIEW_DISABLE=rule[,rule...] disables devflow rules, for checking
 * that the test fails then (tests/mutations/run.sh does).
 *
 * The JSON is read by a small hand-written parser (the test links only the
 * library and cmocka).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devflow/buf.h"
#include "devflow/review.h"

/* min_agree: the committed floor of agreeing cases (corpus and own_cases);
 * raise it when cases are added, never lower it to make the test pass */
static const struct map {
	const char *squawk;
	const char *devflow[3];
	int strict;
	unsigned min_agree;
	const char *note;
} maps[] = {
	{ "AddingFieldWithDefault", { "add-column-rewrite" }, 1, 14, NULL },
	{ "AddingForeignKeyConstraint", { "constraint-without-not-valid" }, 1, 5, NULL },
	{ "AddingNotNullableField", { "set-not-null" }, 1, 12, NULL },
	{ "AddingRequiredField", { "add-column-not-null" }, 1, 4, NULL },
	{ "AddingSerialPrimaryKeyField", { "constraint-builds-index" }, 1, 1, NULL },
	{ "BanConcurrentIndexCreationInTransaction", { "concurrently-in-transaction" }, 1, 5, NULL },
	{ "BanDropColumn", { "drop-column" }, 1, 1, NULL },
	{ "BanDropDatabase", { "drop-database" }, 1, 1, NULL },
	{ "BanDropTable", { "drop-table" }, 1, 2, NULL },
	{ "BanUncommittedTransaction", { "uncommitted-transaction" }, 1, 7, NULL },
	{ "ChangingColumnType", { "change-column-type" }, 1, 1, NULL },
	{ "ConstraintMissingNotValid",
	  { "constraint-without-not-valid", "validate-in-same-transaction" }, 1, 6, NULL },
	{ "DisallowedUniqueConstraint", { "constraint-builds-index" }, 1, 4, NULL },
	{ "RenamingColumn", { "rename-column" }, 1, 3, NULL },
	{ "RenamingTable", { "rename-table" }, 1, 2, NULL },
	{ "RequireConcurrentIndexCreation", { "create-index-not-concurrently" }, 1, 3, NULL },
	{ "RequireConcurrentIndexDeletion", { "drop-index-not-concurrently" }, 1, 5, NULL },
	{ "RequireConcurrentReindex", { "reindex-not-concurrently" }, 1, 2, NULL },
	{ "RequireConcurrentPartitionDetach", { "detach-partition-not-concurrently" }, 1, 2, NULL },
	{ "RequireLockTimeout", { "lock-timeout-missing" }, 1, 1, NULL },
	{ "TransactionNesting", { "transaction-nesting" }, 1, 6, NULL },
	{ "RequireTimeoutSettings", { "lock-timeout-missing" }, 0, 0,
	  "squawk: lock_timeout and statement_timeout before any DDL; devflow: "
	  "lock_timeout before a write-blocking lock on an existing table" },
	{ "PreferRepack", { "vacuum-full", "cluster" }, 0, 0,
	  "squawk: only from PostgreSQL 19 on; devflow: on every version" },
	{ "BanTruncateCascade", { "truncate" }, 0, 0,
	  "squawk flags only TRUNCATE ... CASCADE, devflow every TRUNCATE" },
};

/*
 * Cases of our own for the mapped rules that squawk's suite never fires
 * (or has no case for): one that must fire, one that must stay quiet,
 * reviewed like a corpus case (PostgreSQL 15, in a transaction).
 */
static const struct own_case {
	const char *squawk, *name, *sql;
	int fires;
} own_cases[] = {
	/* devflow runs a file with its own COMMIT outside a transaction, so
	 * squawk's explicit_commit case commits NOT VALID and VALIDATE
	 * separately (a disagreement, docs/review.md); inside the file's own
	 * BEGIN ... COMMIT they share one transaction */
	{ "ConstraintMissingNotValid", "own_not_valid_validate_in_own_transaction",
	  "BEGIN;\nALTER TABLE app_email ADD CONSTRAINT fk_user FOREIGN KEY (user_id) "
	  "REFERENCES app_user (id) NOT VALID;\nALTER TABLE app_email VALIDATE CONSTRAINT "
	  "fk_user;\nCOMMIT;\n", 1 },
	{ "RenamingColumn", "own_rename_column",
	  "ALTER TABLE accounts RENAME COLUMN name TO full_name;\n", 1 },
	{ "RenamingColumn", "own_rename_column_quiet",
	  "ALTER TABLE accounts ADD COLUMN nickname text;\n", 0 },
	{ "BanDropTable", "own_drop_table",
	  "DROP TABLE accounts;\n", 1 },
	{ "BanDropTable", "own_drop_table_quiet",
	  "CREATE TABLE ledger (id bigint PRIMARY KEY);\n", 0 },
	{ "RenamingTable", "own_rename_table",
	  "ALTER TABLE accounts RENAME TO customers;\n", 1 },
	{ "RenamingTable", "own_rename_table_quiet",
	  "CREATE TABLE customers (id bigint PRIMARY KEY);\n", 0 },
	{ "RequireConcurrentReindex", "own_reindex",
	  "REINDEX INDEX accounts_email_idx;\n", 1 },
	{ "RequireConcurrentReindex", "own_reindex_quiet",
	  "-- devflow:no-transaction\nREINDEX INDEX CONCURRENTLY accounts_email_idx;\n", 0 },
	{ "RequireConcurrentIndexDeletion", "own_drop_index",
	  "DROP INDEX accounts_email_idx;\n", 1 },
	{ "RequireConcurrentIndexDeletion", "own_drop_index_quiet",
	  "-- devflow:no-transaction\nDROP INDEX CONCURRENTLY accounts_email_idx;\n", 0 },
	{ "RequireConcurrentPartitionDetach", "own_detach_partition",
	  "ALTER TABLE measurements DETACH PARTITION measurements_2023;\n", 1 },
	{ "RequireConcurrentPartitionDetach", "own_detach_partition_quiet",
	  "-- devflow:no-transaction\nALTER TABLE measurements DETACH PARTITION "
	  "measurements_2023 CONCURRENTLY;\n", 0 },
};
#define NOWN (sizeof(own_cases) / sizeof(own_cases[0]))
#define NMAPS (sizeof(maps) / sizeof(maps[0]))

/* ---- a minimal JSON reader ----------------------------------------------- */

typedef struct jcase {
	char file[256], test[256], kind[16];
	char rules[4][64];
	int nrules;
	int pg_version;         /* 0: unset */
	int in_tx;
	char *sql;              /* NULL: null */
} jcase;

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static void put_utf8(df_buf *b, unsigned long c)
{
	if (c < 0x80) {
		df_buf_putc(b, (char)c);
	} else if (c < 0x800) {
		df_buf_putc(b, (char)(0xC0 | (c >> 6)));
		df_buf_putc(b, (char)(0x80 | (c & 0x3F)));
	} else if (c < 0x10000) {
		df_buf_putc(b, (char)(0xE0 | (c >> 12)));
		df_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3F)));
		df_buf_putc(b, (char)(0x80 | (c & 0x3F)));
	} else {
		df_buf_putc(b, (char)(0xF0 | (c >> 18)));
		df_buf_putc(b, (char)(0x80 | ((c >> 12) & 0x3F)));
		df_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3F)));
		df_buf_putc(b, (char)(0x80 | (c & 0x3F)));
	}
}

/* A JSON string at p (the opening quote); decoded into b.  Returns the end. */
static const char *jstring(const char *p, df_buf *b)
{
	assert_true(*p == '"');
	for (p++; *p && *p != '"'; p++) {
		if (*p != '\\') {
			df_buf_putc(b, *p);
			continue;
		}
		switch (*++p) {
		case 'n': df_buf_putc(b, '\n'); break;
		case 't': df_buf_putc(b, '\t'); break;
		case 'r': df_buf_putc(b, '\r'); break;
		case 'b': df_buf_putc(b, '\b'); break;
		case 'f': df_buf_putc(b, '\f'); break;
		case 'u': {
			unsigned long c = strtoul((char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);

			p += 4;
			if (c >= 0xD800 && c < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
				unsigned long lo = strtoul((char[5]){ p[3], p[4], p[5], p[6], 0 }, NULL, 16);

				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			put_utf8(b, c);
			break;
		}
		default: df_buf_putc(b, *p); break;
		}
	}
	assert_true(*p == '"');
	return p + 1;
}

/* Skip any JSON value. */
static const char *jskip(const char *p)
{
	df_buf tmp = DF_BUF_INIT;
	int depth = 0;

	p = ws(p);
	do {
		if (*p == '"') {
			p = jstring(p, &tmp);
			df_buf_truncate(&tmp, 0);
		} else {
			if (*p == '[' || *p == '{')
				depth++;
			else if (*p == ']' || *p == '}')
				depth--;
			p++;
		}
		p = ws(p);
	} while (depth > 0 || (*p && *p != ',' && *p != '}' && *p != ']'));
	df_buf_release(&tmp);
	return p;
}

static void parse_case(const char *line, jcase *c)
{
	const char *p = ws(line);
	df_buf key = DF_BUF_INIT, val = DF_BUF_INIT;

	memset(c, 0, sizeof(*c));
	assert_true(*p == '{');
	p = ws(p + 1);
	while (*p == '"') {
		df_buf_truncate(&key, 0);
		p = ws(jstring(p, &key));
		assert_true(*p == ':');
		p = ws(p + 1);
		df_buf_truncate(&val, 0);
		if (!strcmp(key.ptr, "rules") && *p == '[') {
			p = ws(p + 1);
			while (*p == '"') {
				df_buf_truncate(&val, 0);
				p = ws(jstring(p, &val));
				if (c->nrules < 4)
					snprintf(c->rules[c->nrules++], 64, "%s", val.ptr);
				if (*p == ',')
					p = ws(p + 1);
			}
			assert_true(*p == ']');
			p = ws(p + 1);
		} else if (*p == '"' && (!strcmp(key.ptr, "sql") || !strcmp(key.ptr, "file") ||
			   !strcmp(key.ptr, "test") || !strcmp(key.ptr, "kind") ||
			   !strcmp(key.ptr, "pg_version"))) {
			p = ws(jstring(p, &val));
			if (!strcmp(key.ptr, "sql"))
				c->sql = df_buf_detach(&val);
			else if (!strcmp(key.ptr, "file"))
				snprintf(c->file, sizeof(c->file), "%s", val.ptr);
			else if (!strcmp(key.ptr, "test"))
				snprintf(c->test, sizeof(c->test), "%s", val.ptr);
			else if (!strcmp(key.ptr, "kind"))
				snprintf(c->kind, sizeof(c->kind), "%s", val.ptr);
			else
				c->pg_version = atoi(val.ptr);
		} else if (!strcmp(key.ptr, "pg_version") && isdigit((unsigned char)*p)) {
			c->pg_version = atoi(p);
			p = jskip(p);
		} else if (!strcmp(key.ptr, "assume_in_transaction")) {
			c->in_tx = !strncmp(p, "true", 4);
			p = jskip(p);
		} else {
			p = jskip(p);
		}
		if (*p == ',')
			p = ws(p + 1);
	}
	assert_true(*p == '}');
	df_buf_release(&key);
	df_buf_release(&val);
}

/* "crates/.../adding_field_with_default.rs" -> "AddingFieldWithDefault" */
static void rule_from_file(const char *file, char *out, size_t size)
{
	const char *base = strrchr(file, '/');
	size_t k = 0;
	int up = 1;

	base = base ? base + 1 : file;
	if (!strncmp(base, "disallow_unique_constraint.", 27)) {
		snprintf(out, size, "DisallowedUniqueConstraint");
		return;
	}
	if (!strncmp(base, "adding_primary_key_constraint.", 30)) {
		snprintf(out, size, "AddingSerialPrimaryKeyField");
		return;
	}
	for (; *base && *base != '.' && k + 1 < size; base++) {
		if (*base == '_') {
			up = 1;
			continue;
		}
		out[k++] = up ? (char)toupper((unsigned char)*base) : *base;
		up = 0;
	}
	out[k] = '\0';
}

/* ---- the comparison ------------------------------------------------------ */

struct tally {
	unsigned agree, total, fired_agree;
};

/* Review `sql` as squawk case `test` about rule mi; tally the agreement. */
static void judge(struct tally *per, struct tally *strict, struct tally *related,
		  const df_strlist *disabled, size_t mi, const char *test, const char *sql,
		  int pg_version, int in_tx, int expect)
{
	const struct map *m = &maps[mi];
	df_review_opts opts = DF_REVIEW_OPTS_INIT;
	df_review_result *res = NULL;
	int fired = 0;

	opts.pg_version = pg_version ? pg_version : 15;
	opts.in_transaction = in_tx;
	opts.disabled = disabled;
	assert_int_equal(df_review_run(&res, &opts, "case.sql", sql, strlen(sql)), 0);
	for (size_t k = 0; k < res->nr_findings; k++)
		for (int j = 0; j < 3 && m->devflow[j]; j++)
			if (!strcmp(res->findings[k].rule, m->devflow[j]))
				fired = 1;
	df_review_result_free(res);
	per[mi].total++;
	per[mi].agree += fired == expect;
	per[mi].fired_agree += fired && expect;
	if (m->strict) {
		strict->total++;
		strict->agree += fired == expect;
	} else {
		related->total++;
		related->agree += fired == expect;
	}
	if (fired != expect)
		printf("  %s %-40s %-28s squawk %-5s devflow %s%s%s\n",
		       m->strict ? "strict " : "related", test, m->squawk,
		       expect ? "fires" : "quiet", fired ? "fires" : "quiet",
		       m->note ? "  -- " : "", m->note ? m->note : "");
}

static void test_squawk_cases__agreement(void **state)
{
	const char *shared = getenv("DF_SHARED");
	struct tally per[NMAPS];
	struct tally strict = { 0 }, related = { 0 };
	df_strlist disabled = DF_STRLIST_INIT;
	const char *dis = getenv("DF_REVIEW_DISABLE");
	unsigned lines = 0, skipped = 0, below = 0;
	char path[4096];
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	(void)state;
	memset(per, 0, sizeof(per));
	if (dis && *dis) {
		char *copy = strdup(dis), *save = NULL;

		for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save))
			assert_int_equal(df_strlist_push(&disabled, r), 0);
		free(copy);
		printf("DF_REVIEW_DISABLE: %s disabled\n", dis);
	}
	snprintf(path, sizeof(path), "%s/corpus/squawk/cases.jsonl", shared ? shared : "../shared");
	if (!(f = fopen(path, "r")))
		fail_msg("cannot open '%s'", path);
	printf("disagreements (squawk expectation vs devflow):\n");
	while (getline(&line, &cap, f) > 0) {
		char from_file[128];
		const char *rules[4];
		int nrules = 0;
		jcase c;

		lines++;
		parse_case(line, &c);
		if (!c.sql || (strcmp(c.kind, "ok") && strcmp(c.kind, "error"))) {
			skipped++;
			free(c.sql);
			continue;
		}
		for (int i = 0; i < c.nrules; i++)
			rules[nrules++] = c.rules[i];
		if (!nrules) {
			rule_from_file(c.file, from_file, sizeof(from_file));
			rules[nrules++] = from_file;
		}
		for (int r = 0; r < nrules; r++) {
			size_t mi;

			for (mi = 0; mi < NMAPS; mi++)
				if (!strcmp(maps[mi].squawk, rules[r]))
					break;
			if (mi == NMAPS)
				continue;
			/* squawk's assume_in_transaction is devflow's default;
			 * squawk-disable-assume-in-transaction is devflow's
			 * -- devflow:no-transaction */
			judge(per, &strict, &related, &disabled, mi, c.test, c.sql, c.pg_version,
			      c.in_tx && !strstr(c.sql, "squawk-disable-assume-in-transaction"),
			      !strcmp(c.kind, "error"));
		}
		free(c.sql);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < NOWN; i++) {
		size_t mi;

		for (mi = 0; mi < NMAPS; mi++)
			if (!strcmp(maps[mi].squawk, own_cases[i].squawk))
				break;
		assert_true(mi < NMAPS);
		judge(per, &strict, &related, &disabled, mi, own_cases[i].name, own_cases[i].sql,
		      15, 1, own_cases[i].fires);
	}
	df_strlist_release(&disabled);

	printf("squawk cases: %u lines, %u without SQL or not ok/error\n", lines, skipped);
	printf("%-42s %-55s %s\n", "squawk rule", "devflow rule(s)", "agreement (floor)");
	for (size_t mi = 0; mi < NMAPS; mi++) {
		char ids[128] = "";

		for (int j = 0; j < 3 && maps[mi].devflow[j]; j++)
			snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
				 j ? ", " : "", maps[mi].devflow[j]);
		printf("%-42s %-55s %u/%u (%u)%s\n", maps[mi].squawk, ids, per[mi].agree,
		       per[mi].total, maps[mi].min_agree, maps[mi].strict ? "" : " (related)");
		/* a strict rule: its floor, and at least one case where it fires */
		if (maps[mi].strict && (per[mi].agree < maps[mi].min_agree || !per[mi].fired_agree)) {
			printf("  BELOW THE FLOOR: %s: %u agreeing cases (floor %u), %u firing as it must\n",
			       maps[mi].squawk, per[mi].agree, maps[mi].min_agree, per[mi].fired_agree);
			below++;
		}
	}
	printf("strict: %u/%u agree (%.1f %%); related: %u/%u; all: %u/%u (%.1f %%)\n",
	       strict.agree, strict.total, 100.0 * strict.agree / (strict.total ? strict.total : 1),
	       related.agree, related.total, strict.agree + related.agree,
	       strict.total + related.total,
	       100.0 * (strict.agree + related.agree) /
	       (strict.total + related.total ? strict.total + related.total : 1));
	assert_true(strict.total >= 60);
	assert_true(strict.agree * 100 >= strict.total * 95);
	assert_int_equal(below, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_squawk_cases__agreement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
