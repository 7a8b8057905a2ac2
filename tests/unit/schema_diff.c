/*
 * The schema model and the diff, without a server: models built by hand,
 * diffed, and the order of the changes checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/dsn.h"
#include "devflow/error.h"
#include "devflow/core.h"
#include "devflow/schema.h"
#include "schema/schema_int.h"

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
	/* the hash and stamp alone (status, issue 26): the text is not read */
	{
		char h2[65];
		char *st2 = NULL;
		assert_int_equal(df_schema_recorded(h2, &st2, NULL, dir, "local"), 0);
		assert_string_equal(h2, hash);
		assert_string_equal(st2, "history 1");
		free(st2);
	}
	assert_int_equal(df_schema_drift(&drifted, &changes, hash, text, a), 0);
	assert_false(drifted);
	assert_int_equal(df_schema_drift(&drifted, &changes, hash, text, b), 0);
	assert_true(drifted);
	/* a changed table names its columns (issue 24) */
	assert_string_equal(changes, "~ table public.x\n  + column public.x.extra text\n+ table public.z\n");
	free(changes);
	free(text);
	/* without a stamp */
	assert_int_equal(df_schema_record(dir, "other", b, NULL), 0);
	assert_int_equal(df_schema_recorded(hash, &stamp, &text, dir, "other"), 0);
	assert_null(stamp);
	{
		char h2[65];
		char *st2 = (char *)"x";
		assert_int_equal(df_schema_recorded(h2, &st2, NULL, dir, "other"), 0);
		assert_null(st2);
		assert_string_equal(h2, hash);
	}
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

/* the change about `object`, or NULL */
static df_change *change_of(df_diff *d, const char *object)
{
	for (size_t i = 0; i < d->nr; i++)
		if (!strcmp(d->v[i].object, object))
			return &d->v[i];
	return NULL;
}

/* A diff is operations: each with its kind, column, destroys_data and lock. */
static void test_schema_diff__operations(void **state)
{
	df_schema *a, *b;
	df_diff *d;
	df_change *c;
	df_object *o;
	char name[64];

	(void)state;
	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(a, "users", "id integer,email text,gone text");
	table(a, "orders", "id integer,x integer");
	table(b, "users", "id integer,email character varying(20),added text");
	table(b, "orders", "id integer,x integer");
	assert_int_equal(df_schema_add(&o, b, DF_OBJ_INDEX, "public", "users_email", "users",
		"CREATE INDEX users_email ON public.users USING btree (email)"), 0);
	fk(b, "orders", "orders_x_fkey", "users");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);

	/* the table: a column dropped, one changed, one added, then the table */
	assert_non_null(c = change_of(d, "table public.users"));
	assert_int_equal(c->nops, 4);
	assert_int_equal(c->ops[0].kind, DF_OP_DROP_COLUMN);
	assert_string_equal(c->ops[0].column, "gone");
	assert_true(c->ops[0].destroys_data);
	assert_int_equal(c->ops[0].lock, DF_OP_LOCK_PG_ACCESS_EXCLUSIVE);
	assert_int_equal(c->ops[1].kind, DF_OP_ALTER_COLUMN);
	assert_string_equal(c->ops[1].column, "email");
	assert_string_equal(c->ops[1].col_before->type, "text");
	assert_string_equal(c->ops[1].col_after->type, "character varying(20)");
	assert_true(c->ops[1].destroys_data);
	assert_int_equal(c->ops[2].kind, DF_OP_ADD_COLUMN);
	assert_string_equal(c->ops[2].column, "added");
	assert_false(c->ops[2].destroys_data);
	assert_int_equal(c->ops[3].kind, DF_OP_ALTER);
	assert_string_equal(df_op_name(&c->ops[2], name, sizeof(name)), "add column");
	assert_true(c->destroys_data);
	assert_non_null(strstr(c->sql, "DROP COLUMN \"gone\""));

	/* an index on an existing table: SHARE (writes wait) */
	assert_non_null(c = change_of(d, "index public.users.users_email"));
	assert_int_equal(c->nops, 1);
	assert_int_equal(c->ops[0].kind, DF_OP_CREATE);
	assert_string_equal(df_op_name(&c->ops[0], name, sizeof(name)), "add index");
	assert_int_equal(c->ops[0].lock, DF_OP_LOCK_PG_SHARE);
	assert_false(c->ops[0].concurrently);
	assert_null(c->ops[0].before);
	assert_non_null(c->ops[0].after);

	/* a foreign key on an existing table: NOT VALID, then VALIDATE */
	assert_non_null(c = change_of(d, "constraint public.orders.orders_x_fkey"));
	assert_int_equal(c->nops, 2);
	assert_int_equal(c->ops[0].kind, DF_OP_CREATE);
	assert_string_equal(df_op_name(&c->ops[0], name, sizeof(name)), "add foreign key");
	assert_string_equal(c->ops[0].constraint, "orders_x_fkey");
	assert_true(c->ops[0].not_valid);
	assert_int_equal(c->ops[0].lock, DF_OP_LOCK_PG_SHARE_ROW_EXCLUSIVE);
	assert_int_equal(c->ops[1].kind, DF_OP_VALIDATE);
	assert_int_equal(c->ops[1].lock, DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE);
	assert_false(c->destroys_data);
	assert_string_equal(c->sql, "ALTER TABLE \"public\".\"orders\" ADD CONSTRAINT \"orders_x_fkey\" "
		"FOREIGN KEY (x) REFERENCES users(id) NOT VALID;\n"
		"ALTER TABLE \"public\".\"orders\" VALIDATE CONSTRAINT \"orders_x_fkey\";\n");

	/* the generator's form: the operation changes, the writer renders it */
	c->ops[0].not_valid = false;
	df_change_remove_op(c, 1);
	assert_int_equal(df_change_render(d, c), 0);
	assert_string_equal(c->sql, "ALTER TABLE \"public\".\"orders\" ADD CONSTRAINT \"orders_x_fkey\" "
		"FOREIGN KEY (x) REFERENCES users(id);\n");
	assert_non_null(c = change_of(d, "index public.users.users_email"));
	c->ops[0].concurrently = true;
	assert_int_equal(df_change_render(d, c), 0);
	assert_string_equal(c->sql,
		"CREATE INDEX CONCURRENTLY users_email ON public.users USING btree (email);\n");
	df_diff_free(d);

	/* the other way: the index and the key dropped, a table's drop destroys */
	assert_int_equal(df_schema_diff(&d, b, a), 0);
	assert_non_null(c = change_of(d, "constraint public.orders.orders_x_fkey"));
	assert_int_equal(c->ops[0].kind, DF_OP_DROP);
	assert_string_equal(df_op_name(&c->ops[0], name, sizeof(name)), "drop foreign key");
	assert_int_equal(c->ops[0].lock, DF_OP_LOCK_PG_ACCESS_EXCLUSIVE);
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

/* SQLite: a table dropped destroys data; everything locks the database */
static void test_schema_diff__operations_sqlite(void **state)
{
	df_schema *a, *b;
	df_diff *d;
	df_object *o;
	char name[64];

	(void)state;
	df_schema_new(&a, DF_DIALECT_SQLITE);
	df_schema_new(&b, DF_DIALECT_SQLITE);
	assert_int_equal(df_schema_add(&o, a, DF_OBJ_TABLE, "", "t", NULL, "CREATE TABLE t (a INTEGER)"), 0);
	assert_int_equal(df_schema_add(&o, b, DF_OBJ_VIEW, "", "v", NULL, "CREATE VIEW v AS SELECT 1"), 0);
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	assert_int_equal(d->nr, 2);
	assert_int_equal(d->v[0].nops, 1);
	assert_int_equal(d->v[0].ops[0].kind, DF_OP_DROP);
	assert_string_equal(df_op_name(&d->v[0].ops[0], name, sizeof(name)), "drop table");
	assert_true(d->v[0].ops[0].destroys_data);
	assert_int_equal(d->v[0].ops[0].lock, DF_OP_LOCK_SQLITE_DATABASE);
	assert_int_equal(d->v[1].ops[0].kind, DF_OP_CREATE);
	assert_false(d->v[1].ops[0].destroys_data);
	assert_string_equal(df_op_name(&d->v[1].ops[0], name, sizeof(name)), "create view");
	assert_string_equal(df_op_lock_name(d->v[1].ops[0].lock), "database");
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

/* SQLite's reader: each foreign key of a table in its normal form, in
 * declaration order (the pragma numbers them the other way). */
static void test_schema_fk__sqlite_normalised(void **state)
{
	char path[] = "/tmp/devflow-unit-fk-XXXXXX";
	const char *sql =
		"CREATE TABLE p (id INTEGER PRIMARY KEY, a TEXT, b TEXT, UNIQUE (a, b));\n"
		"CREATE TABLE c (x INTEGER REFERENCES p ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
		"  y TEXT, w INTEGER REFERENCES p (id) NOT DEFERRABLE, z TEXT,\n"
		"  FOREIGN KEY (y, z) REFERENCES p (a, b) ON UPDATE SET NULL);\n";
	const df_object *c;
	df_schema *s = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sql, strlen(sql)), (ssize_t)strlen(sql));
	close(fd);
	assert_int_equal(df_schema_load_file(&s, path, "sqlite", NULL, NULL, 0, df_run_sql_file), 0);
	unlink(path);
	assert_non_null(c = df_schema_find(s, "table c"));
	assert_int_equal(c->nfks, 3);
	/* x REFERENCES p: the primary key, no columns named */
	assert_int_equal(c->fks[0].cols.nr, 1);
	assert_string_equal(c->fks[0].cols.v[0], "x");
	assert_string_equal(c->fks[0].ref_table, "p");
	assert_string_equal(c->fks[0].ref_schema, "");
	assert_int_equal(c->fks[0].ref_cols.nr, 0);
	assert_int_equal(c->fks[0].on_delete, DF_FK_CASCADE);
	assert_int_equal(c->fks[0].on_update, DF_FK_NO_ACTION);
	assert_true(c->fks[0].deferrable);
	assert_true(c->fks[0].initially_deferred);
	/* w REFERENCES p (id) NOT DEFERRABLE */
	assert_string_equal(c->fks[1].cols.v[0], "w");
	assert_int_equal(c->fks[1].ref_cols.nr, 1);
	assert_string_equal(c->fks[1].ref_cols.v[0], "id");
	assert_false(c->fks[1].deferrable);
	assert_false(c->fks[1].initially_deferred);
	/* FOREIGN KEY (y, z) REFERENCES p (a, b) ON UPDATE SET NULL */
	assert_int_equal(c->fks[2].cols.nr, 2);
	assert_string_equal(c->fks[2].cols.v[0], "y");
	assert_string_equal(c->fks[2].cols.v[1], "z");
	assert_string_equal(c->fks[2].ref_cols.v[0], "a");
	assert_string_equal(c->fks[2].ref_cols.v[1], "b");
	assert_int_equal(c->fks[2].on_update, DF_FK_SET_NULL);
	assert_int_equal(c->fks[2].on_delete, DF_FK_NO_ACTION);
	assert_false(c->fks[2].deferrable);
	assert_int_equal(df_schema_find(s, "table p")->nfks, 0);
	df_schema_free(s);
}

/* Load `sql` into a throwaway database of `engine` on the server of $env
 * (skipped without one, unless DEVFLOW_REQUIRE_SERVERS=1). */
static df_schema *load_on_server(const char *engine, const char *env, const char *sql)
{
	char path[] = "/tmp/devflow-unit-fk-XXXXXX";
	const char *url = getenv(env);
	df_dsn *dsn = NULL;
	df_schema *s = NULL;
	int fd, error;

	if (!url || !*url) {
		const char *req = getenv("DEVFLOW_REQUIRE_SERVERS");
		if (req && !strcmp(req, "1"))
			fail_msg("%s is not set and DEVFLOW_REQUIRE_SERVERS=1", env);
		return NULL;
	}
	assert_int_equal(df_dsn_parse(&dsn, url), 0);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, sql, strlen(sql)), (ssize_t)strlen(sql));
	close(fd);
	error = df_schema_load_file(&s, path, engine, dsn, NULL, 0, df_run_sql_file);
	unlink(path);
	df_dsn_free(dsn);
	if (error < 0)
		fail_msg("load on %s: %s", engine, df_error_last()->message);
	return s;
}

static void test_schema_fk__server_normalised(void **state)
{
	static const char pg[] =
		"CREATE TABLE p (id int PRIMARY KEY, a text, b text, UNIQUE (a, b));\n"
		"CREATE TABLE c (x int, y text, z text,\n"
		"  CONSTRAINT c_x FOREIGN KEY (x) REFERENCES p ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
		"  CONSTRAINT c_yz FOREIGN KEY (y, z) REFERENCES p (a, b) ON UPDATE SET NULL);\n";
	static const char my[] =
		"CREATE TABLE p (id int PRIMARY KEY, a varchar(10), b varchar(10), UNIQUE (a, b));\n"
		"CREATE TABLE c (x int, y varchar(10), z varchar(10),\n"
		"  CONSTRAINT c_x FOREIGN KEY (x) REFERENCES p (id) ON DELETE CASCADE,\n"
		"  CONSTRAINT c_yz FOREIGN KEY (y, z) REFERENCES p (a, b) ON UPDATE SET NULL);\n";
	static const struct { const char *engine, *env, *sql, *x, *yz; bool deferrable; } cases[] = {
		{ "postgres", "DEVFLOW_TEST_PG_URL", pg, "constraint public.c.c_x",
		  "constraint public.c.c_yz", true },
		{ "mysql", "DEVFLOW_TEST_MYSQL_URL", my, "constraint c.c_x", "constraint c.c_yz", false },
	};
	int ran = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		df_schema *s = load_on_server(cases[k].engine, cases[k].env, cases[k].sql);
		const df_object *x, *yz;
		if (!s)
			continue;
		ran++;
		assert_non_null(x = df_schema_find(s, cases[k].x));
		assert_non_null(yz = df_schema_find(s, cases[k].yz));
		assert_int_equal(x->nfks, 1);
		assert_int_equal(x->fks[0].cols.nr, 1);
		assert_string_equal(x->fks[0].cols.v[0], "x");
		assert_string_equal(x->fks[0].ref_table, "p");
		assert_string_equal(x->fks[0].ref_schema, !strcmp(cases[k].engine, "postgres") ?
			"public" : "");
		assert_int_equal(x->fks[0].ref_cols.nr, 1);
		assert_string_equal(x->fks[0].ref_cols.v[0], "id");
		assert_int_equal(x->fks[0].on_delete, DF_FK_CASCADE);
		assert_true(x->fks[0].on_update == DF_FK_NO_ACTION || x->fks[0].on_update == DF_FK_RESTRICT);
		assert_int_equal(x->fks[0].deferrable, cases[k].deferrable);
		assert_int_equal(x->fks[0].initially_deferred, cases[k].deferrable);
		assert_int_equal(yz->nfks, 1);
		assert_int_equal(yz->fks[0].cols.nr, 2);
		assert_string_equal(yz->fks[0].cols.v[0], "y");
		assert_string_equal(yz->fks[0].cols.v[1], "z");
		assert_string_equal(yz->fks[0].ref_cols.v[0], "a");
		assert_string_equal(yz->fks[0].ref_cols.v[1], "b");
		assert_int_equal(yz->fks[0].on_update, DF_FK_SET_NULL);
		assert_false(yz->fks[0].deferrable);
		df_schema_free(s);
	}
	if (!ran)
		skip();
}

static void test_schema_fk__actions_and_equality(void **state)
{
	df_fk_action a;
	df_fk x = { 0 }, y = { 0 };

	(void)state;
	assert_true(df_fk_action_parse(&a, "c"));
	assert_int_equal(a, DF_FK_CASCADE);
	assert_true(df_fk_action_parse(&a, "SET NULL"));
	assert_int_equal(a, DF_FK_SET_NULL);
	assert_true(df_fk_action_parse(&a, "set_default"));
	assert_int_equal(a, DF_FK_SET_DEFAULT);
	assert_true(df_fk_action_parse(&a, "RESTRICT"));
	assert_int_equal(a, DF_FK_RESTRICT);
	assert_false(df_fk_action_parse(&a, "DELETE"));
	assert_string_equal(df_fk_action_name(DF_FK_NO_ACTION), "NO ACTION");
	df_strlist_push(&x.cols, "a");
	df_strlist_push(&y.cols, "a");
	x.ref_table = "p";
	y.ref_table = "p";
	assert_true(df_fk_equal(&x, &y));
	y.on_delete = DF_FK_CASCADE;
	assert_false(df_fk_equal(&x, &y));
	y.on_delete = DF_FK_NO_ACTION;
	y.deferrable = true;
	assert_false(df_fk_equal(&x, &y));
	df_strlist_release(&x.cols);
	df_strlist_release(&y.cols);
}

/* What is not compared: each side's objects matched by class and name, a
 * differing state (an ACL) or one side only is a difference, and a written
 * object that uses one is named. */
static void test_schema_diff__uncompared_named(void **state)
{
	df_schema *a, *b;
	df_diff *d;

	df_schema_new(&a, DF_DIALECT_POSTGRES);
	df_schema_new(&b, DF_DIALECT_POSTGRES);
	table(a, "users", "id integer");
	table(b, "users", "id integer");
	table(b, "spans", "id integer,r floatrange");
	assert_int_equal(df_schema_finish(a), 0);
	assert_int_equal(df_schema_finish(b), 0);
	assert_int_equal(df_strlist_push(&a->uncompared, "privileges\ttable public.users\t{a=r/a}\t"), 0);
	assert_int_equal(df_strlist_push(&b->uncompared, "privileges\ttable public.users\t{a=rw/a}\t"), 0);
	assert_int_equal(df_strlist_push(&a->uncompared, "range types\trange type public.floatrange\t\t"), 0);
	assert_int_equal(df_strlist_push(&b->uncompared,
		"range types\trange type public.floatrange\t\ttable public.users,table public.spans"), 0);
	assert_int_equal(df_strlist_push(&a->uncompared,
		DF_UNCOMPARED_HISTORY "\ttable public.flyway_schema_history (Flyway)\t\t"), 0);
	assert_int_equal(df_schema_diff(&d, a, b), 0);
	assert_int_equal(d->nunc, 3);
	assert_int_equal(d->not_compared.nr, 3);
	for (size_t i = 0; i < d->nunc; i++) {
		const df_uncompared *u = &d->unc[i];
		if (!strcmp(u->cls, "privileges")) {
			assert_true(u->in_from && u->in_to && u->differs);
			assert_true(df_uncompared_counts(u));
		} else if (!strcmp(u->cls, "range types")) {
			assert_false(u->differs);
			assert_false(df_uncompared_counts(u));
			/* users is not written; spans is */
			assert_int_equal(u->used_by.nr, 1);
			assert_string_equal(u->used_by.v[0], "table public.spans");
		} else {
			assert_string_equal(u->cls, DF_UNCOMPARED_HISTORY);
			assert_true(u->in_from && !u->in_to);
			/* on one side only, and still no difference */
			assert_false(df_uncompared_counts(u));
		}
	}
	df_diff_free(d);
	df_schema_free(a);
	df_schema_free(b);
}

/* The part of the sides a diff's check needs (verify_scope.c): the table
 * that changes, what depends on it and on that, what those need; not the
 * tables nothing links to the change. */
static void test_schema_verify_scope__dependents_and_needs(void **state)
{
	df_schema *s[2], sub[2];
	df_diff *d;
	char name[16];

	for (int i = 0; i < 2; i++) {
		df_object *vv;
		df_schema_new(&s[i], DF_DIALECT_POSTGRES);
		table(s[i], "t", i ? "id integer,a bigint" : "id integer,a integer");
		table(s[i], "c", "id integer,x integer");
		fk(s[i], "c", "c_x_fkey", "t");
		table(s[i], "d", "id integer,x integer");
		fk(s[i], "d", "d_x_fkey", "c");
		view(s[i], "v", "t", "SELECT id, a FROM t");
		assert_int_equal(df_schema_add(&vv, s[i], DF_OBJ_VIEW, "public", "vv", NULL,
			"SELECT id FROM v"), 0);
		assert_int_equal(df_object_add_dep(vv, DF_OBJ_VIEW, "public", "v", NULL), 0);
		for (int k = 0; k < 10; k++) {
			snprintf(name, sizeof(name), "f%d", k);
			table(s[i], name, "id integer");
		}
		assert_int_equal(df_schema_finish(s[i]), 0);
	}
	assert_int_equal(df_schema_diff(&d, s[0], s[1]), 0);
	assert_true(d->nr > 0);
	assert_int_equal(df__verify_scope(&sub[0], &sub[1], s[0], s[1], d), 0);
	for (int i = 0; i < 2; i++) {
		/* t, v, vv, c_x_fkey and its table c: not d, d_x_fkey, f0..f9 */
		assert_non_null(df_schema_find(&sub[i], "table public.t"));
		assert_non_null(df_schema_find(&sub[i], "view public.v"));
		assert_non_null(df_schema_find(&sub[i], "view public.vv"));
		assert_non_null(df_schema_find(&sub[i], "constraint public.c.c_x_fkey"));
		assert_non_null(df_schema_find(&sub[i], "table public.c"));
		assert_null(df_schema_find(&sub[i], "table public.d"));
		assert_null(df_schema_find(&sub[i], "constraint public.d.d_x_fkey"));
		assert_null(df_schema_find(&sub[i], "table public.f0"));
		assert_int_equal(sub[i].nr, 5);
		df__verify_scope_release(&sub[i]);
		assert_null(sub[i].v);
	}
	df_diff_free(d);
	df_schema_free(s[0]);
	df_schema_free(s[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_diff__identical_is_empty),
		cmocka_unit_test(test_schema_diff__uncompared_named),
		cmocka_unit_test(test_schema_diff__fk_cycle_after_tables),
		cmocka_unit_test(test_schema_diff__drops_in_reverse_dependency_order),
		cmocka_unit_test(test_schema_diff__view_recreated_around_type_change),
		cmocka_unit_test(test_schema_text__stable),
		cmocka_unit_test(test_schema_diff__operations),
		cmocka_unit_test(test_schema_diff__operations_sqlite),
		cmocka_unit_test(test_schema_fk__sqlite_normalised),
		cmocka_unit_test(test_schema_fk__actions_and_equality),
		cmocka_unit_test(test_schema_fk__server_normalised),
		cmocka_unit_test(test_schema_drift__record_and_compare),
		cmocka_unit_test(test_schema_verify_scope__dependents_and_needs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
