/*
 * Which relations a migration's statements name (src/schema/patch.c,
 * df_schema_touched): the relations the schema is read again for after a
 * run, or "cannot say" (0), which reads the whole.  Naming too much is
 * safe; naming too little is not: every case here that returns 1 must
 * list each relation the statement changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/error.h"
#include "devflow/schema.h"
#include "devflow/strlist.h"

/* The names (one "schema\tname" a line, sorted by the statement order) of `sql`, or NULL when it cannot say. */
static char *names_of(const char *sql, df_dialect d)
{
	df_strlist l = DF_STRLIST_INIT;
	size_t n = 1;
	char *out, *p;
	int rc = df_schema_touched(&l, sql, d);

	assert_true(rc >= 0);
	if (rc == 0) {
		df_strlist_release(&l);
		return NULL;
	}
	for (size_t i = 0; i < l.nr; i++)
		n += strlen(l.v[i]) + 1;
	assert_non_null(out = p = calloc(1, n));
	for (size_t i = 0; i < l.nr; i++)
		p += sprintf(p, "%s%s", i ? "|" : "", l.v[i]);
	df_strlist_release(&l);
	return out;
}

/* Each of `want` ("schema\tname", | between) is among the names of `sql`. */
static void names(const char *sql, const char *want)
{
	char *got = names_of(sql, DF_DIALECT_POSTGRES), *w, *save = NULL;
	char *copy = strdup(want);

	if (!got)
		fail_msg("cannot say: %s", sql);
	for (w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
		char needle[256];
		snprintf(needle, sizeof(needle), "|%s|", w);
		char *hay = malloc(strlen(got) + 3);
		sprintf(hay, "|%s|", got);
		if (!strstr(hay, needle))
			fail_msg("'%s' not named by: %s (names: %s)", w, sql, got);
		free(hay);
	}
	free(copy);
	free(got);
}

static void cannot_say(const char *sql)
{
	char *got = names_of(sql, DF_DIALECT_POSTGRES);

	if (got)
		fail_msg("says it knows (%s): %s", got, sql);
}

static void test_touched__relations(void **state)
{
	(void)state;
	names("CREATE TABLE a (id int PRIMARY KEY, b_id int REFERENCES s.b (id))", "\ta|s\tb");
	names("CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)", "\tp1|\tp");
	names("CREATE INDEX i ON s.t (x)", "s\tt");
	names("CREATE VIEW v AS SELECT * FROM a JOIN b USING (id)", "\tv|\ta|\tb");
	names("CREATE MATERIALIZED VIEW mv AS SELECT 1 FROM a", "\tmv|\ta");
	names("ALTER TABLE a ADD COLUMN x int, ADD CONSTRAINT f FOREIGN KEY (x) REFERENCES b (id)", "\ta|\tb");
	names("ALTER TABLE a ATTACH PARTITION a2 FOR VALUES IN (2)", "\ta|\ta2");
	names("ALTER TABLE s.a RENAME TO z", "s\ta|s\tz");
	names("ALTER INDEX i RENAME TO j", "\ti|\tj");
	names("ALTER TABLE a RENAME COLUMN x TO y", "\ta");
	names("ALTER TABLE a RENAME CONSTRAINT c TO d", "\ta");
	names("DROP TABLE a, s.b", "\ta|s\tb");
	names("DROP INDEX IF EXISTS i", "\ti");
	names("DROP TRIGGER t ON s.a", "s\ta");
	names("DROP POLICY p ON a", "\ta");
	names("CREATE SEQUENCE q; ALTER SEQUENCE q RESTART", "\tq");
	names("COMMENT ON TABLE a IS 'x'; COMMENT ON COLUMN s.b.c IS 'y'", "\ta|s\tb");
	names("CREATE POLICY p ON a USING (true)", "\ta");
	names("SELECT 1 INTO newt", "\tnewt");
	names("CREATE TABLE t2 AS SELECT * FROM a", "\tt2|\ta");
	names("BEGIN; INSERT INTO a VALUES (1); UPDATE b SET x = 1; DELETE FROM c; COMMIT", "\ta|\tb|\tc");
	names("SET statement_timeout = 0; GRANT SELECT ON a TO PUBLIC", "");
}

static void test_touched__cannot_say(void **state)
{
	(void)state;
	cannot_say("DO $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; END $$");
	cannot_say("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'");
	cannot_say("CREATE TYPE mood AS ENUM ('a')");
	cannot_say("CREATE SCHEMA s");
	cannot_say("CREATE EXTENSION citext");
	cannot_say("DROP TABLE a CASCADE");
	cannot_say("DROP FUNCTION f()");
	cannot_say("SET search_path = other");
	cannot_say("ALTER TABLE a SET SCHEMA s");
	cannot_say("CALL p()");
	cannot_say("COPY a FROM STDIN");
	cannot_say("REFRESH MATERIALIZED VIEW mv");
	cannot_say("CREATE TABLE a (id int); DO $$ BEGIN END $$");
	cannot_say("this is not SQL");
	/* other engines: never */
	assert_null(names_of("CREATE TABLE a (id int)", DF_DIALECT_SQLITE));
	assert_null(names_of("CREATE TABLE a (id int)", DF_DIALECT_MYSQL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touched__relations),
		cmocka_unit_test(test_touched__cannot_say),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
