/*
 * The schema model and the diff, without a server: models built by hand,
 * diffed, and the order of the changes checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/error.h"
#include "devflow/schema.h"

static df_object *table(df_schema *s, const char *name, const char *cols)
{
	df_object *o;
	char buf[256], *save = NULL, *tok;

	assert_int_equal(df_schema_add(&o, s, DF_OBJ_TABLE, "public", name, NULL, NULL), 0);
	snprintf(buf, sizeof(buf), "%s", cols);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		df_column *c;
		char *sp = strchr(tok, ' ');
		*sp = '\0';
		assert_int_equal(df_object_add_column(&c, o, tok, sp + 1), 0);
	}
	return o;
}

static df_object *fk(df_schema *s, const char *tbl, const char *name, const char *ref)
{
	df_object *o;
	char def[128];

	snprintf(def, sizeof(def), "FOREIGN KEY (x) REFERENCES %s(id)", ref);
	assert_int_equal(df_schema_add(&o, s, DF_OBJ_CONSTRAINT, "public", name, tbl, def), 0);
	o->ctype = DF_CONS_FOREIGN;
	assert_int_equal(df_object_add_dep(o, DF_OBJ_TABLE, "public", ref, NULL), 0);
	return o;
}

static df_object *view(df_schema *s, const char *name, const char *on, const char *def)
{
	df_object *o;

	assert_int_equal(df_schema_add(&o, s, DF_OBJ_VIEW, "public", name, NULL, def), 0);
	assert_int_equal(df_object_add_dep(o, DF_OBJ_TABLE, "public", on, NULL), 0);
	return o;
}

/* index of the first change whose SQL holds `needle`, or -1 */
static int pos(const df_diff *d, const char *needle)
{
	for (size_t i = 0; i < d->nr; i++)
		if (strstr(d->v[i].sql, needle))
			return (int)i;
	return -1;
}

static void test_schema_diff__identical_is_empty(void **state)
{
	df_schema *a, *b;
	df_diff *d;

	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(a, "users", "id integer,email text");
	table(b, "users", "id integer,email text");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	assert_int_equal(d->nr, 0);
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

static void test_schema_diff__fk_cycle_after_tables(void **state)
{
	df_schema *a, *b;
	df_diff *d;

	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(b, "a", "id integer,x integer");
	table(b, "b", "id integer,x integer");
	fk(b, "a", "a_x_fkey", "b");
	fk(b, "b", "b_x_fkey", "a");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	assert_int_equal(d->nr, 4);
	assert_true(pos(d, "CREATE TABLE \"public\".\"a\"") < pos(d, "a_x_fkey"));
	assert_true(pos(d, "CREATE TABLE \"public\".\"b\"") < pos(d, "a_x_fkey"));
	assert_true(pos(d, "CREATE TABLE \"public\".\"a\"") < pos(d, "b_x_fkey"));
	assert_true(pos(d, "CREATE TABLE \"public\".\"b\"") < pos(d, "b_x_fkey"));
	for (size_t i = 0; i < d->nr; i++)
		assert_int_equal(d->v[i].hazards.nr, 0);        /* no cycle reported */
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

static void test_schema_diff__drops_in_reverse_dependency_order(void **state)
{
	df_schema *a, *b;
	df_diff *d;

	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(a, "users", "id integer");
	table(a, "posts", "id integer,x integer");
	fk(a, "posts", "posts_x_fkey", "users");
	view(a, "v", "users", "SELECT id FROM users");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	/* the FK goes with its table; posts before users, the view first */
	assert_int_equal(pos(d, "posts_x_fkey"), -1);
	assert_true(pos(d, "DROP VIEW") < pos(d, "DROP TABLE \"public\".\"users\""));
	assert_true(pos(d, "DROP TABLE \"public\".\"posts\"") < pos(d, "DROP TABLE \"public\".\"users\""));
	assert_true(d->v[pos(d, "DROP TABLE \"public\".\"users\"")].destroys_data);
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

static void test_schema_diff__view_recreated_around_type_change(void **state)
{
	df_schema *a, *b;
	df_diff *d;
	int drop, alter, create;

	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(a, "users", "id integer,age integer");
	view(a, "v", "users", " SELECT users.age FROM users;");
	table(b, "users", "id integer,age bigint");
	view(b, "v", "users", " SELECT users.age FROM users;");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	drop = pos(d, "DROP VIEW");
	alter = pos(d, "TYPE bigint");
	create = pos(d, "CREATE VIEW");
	assert_true(drop >= 0 && alter > drop && create > alter);
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

static void test_schema_text__stable(void **state)
{
	df_schema *a, *b;
	char ha[65], hb[65], *ta, *tb;

	df_schema_new(&a, DF_DIALECT_SQLITE);
	df_schema_new(&b, DF_DIALECT_SQLITE);
	table(a, "x", "id integer");
	table(a, "y", "id integer");
	table(b, "y", "id integer");
	table(b, "x", "id integer");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_text(&ta, a), 0);
	assert_int_equal(df_schema_text(&tb, b), 0);
	assert_string_equal(ta, tb);
	assert_int_equal(df_schema_hash(ha, a), 0);
	assert_int_equal(df_schema_hash(hb, b), 0);
	assert_string_equal(ha, hb);
	free(ta);
	free(tb);
	assert_int_equal(df_schema_json(&ta, a), 0);
	assert_non_null(strstr(ta, "\"key\":\"table public.x\""));
	free(ta);
	df_schema_free(a);
	df_schema_free(b);
}

static void test_schema_drift__record_and_compare(void **state)
{
	char dir[] = "/tmp/devflow-drift.XXXXXX", hash[65], *text, *changes, *stamp;
	df_schema *a, *b;
	bool drifted;

	assert_non_null(mkdtemp(dir));
	df_schema_new(&a, DF_DIALECT_SQLITE);
	df_schema_new(&b, DF_DIALECT_SQLITE);
	table(a, "x", "id integer");
	table(b, "x", "id integer,extra text");
	table(b, "z", "id integer");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_recorded(hash, &stamp, &text, dir, "local"), DF_ENOTFOUND);
	assert_int_equal(df_schema_record(dir, "local", a, "history 1"), 0);
	assert_int_equal(df_schema_recorded(hash, &stamp, &text, dir, "local"), 0);
	assert_non_null(strstr(text, "table public.x"));
	assert_string_equal(stamp, "history 1");
	free(stamp);
	assert_int_equal(df_schema_drift(&drifted, &changes, hash, text, a), 0);
	assert_false(drifted);
	assert_int_equal(df_schema_drift(&drifted, &changes, hash, text, b), 0);
	assert_true(drifted);
	assert_string_equal(changes, "~ table public.x\n+ table public.z\n");
	free(changes);
	free(text);
	/* without a stamp */
	assert_int_equal(df_schema_record(dir, "other", b, NULL), 0);
	assert_int_equal(df_schema_recorded(hash, &stamp, &text, dir, "other"), 0);
	assert_null(stamp);
	assert_int_equal(df_schema_drift(&drifted, NULL, hash, text, b), 0);
	assert_false(drifted);
	free(text);
	assert_int_equal(df_schema_record(dir, "../evil", a, NULL), DF_EUSAGE);
	df_schema_free(a);
	df_schema_free(b);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_diff__identical_is_empty),
		cmocka_unit_test(test_schema_diff__fk_cycle_after_tables),
		cmocka_unit_test(test_schema_diff__drops_in_reverse_dependency_order),
		cmocka_unit_test(test_schema_diff__view_recreated_around_type_change),
		cmocka_unit_test(test_schema_text__stable),
		cmocka_unit_test(test_schema_drift__record_and_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
