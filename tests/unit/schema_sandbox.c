/*
 * What a file loaded into a scratch database may do (src/schema/sandbox*.c):
 * the allow-list on every engine, schema files and the replay of
 * migrations; and SQLite's scratch connection sandbox (the driver's
 * authorizer), which refuses what the list would have let through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/error.h"
#include "devflow/strlist.h"
#include "devflow/sys/driver.h"
#include "schema/schema_int.h"

static const char *other_dbs[] = { "prod", "mysql", "performance_schema" };

/* Check `sql` as a schema file (migrations false) or a migration. */
static int check(df_dialect d, bool migrations, const char *sql)
{
	df_strlist dbs = DF_STRLIST_INIT;
	df_sandbox sb = { .dialect = d, .migrations = migrations, .databases = &dbs };
	int error;

	for (size_t i = 0; i < sizeof(other_dbs) / sizeof(*other_dbs); i++)
		assert_int_equal(df_strlist_push(&dbs, other_dbs[i]), 0);
	df_error_clear();
	error = df__sandbox_check(&sb, "schema.sql", 1, sql, strlen(sql));
	df_strlist_release(&dbs);
	return error;
}

static void allowed(df_dialect d, bool migrations, const char *sql)
{
	int error = check(d, migrations, sql);

	if (error)
		fail_msg("refused (%s, %s): %s\n  %s", df_dialect_name(d),
			migrations ? "migration" : "schema", sql, df_error_last()->message);
}

/* Refused, and the message names `what` and the line. */
static void refused(df_dialect d, bool migrations, const char *sql, const char *what, int line)
{
	int error = check(d, migrations, sql);
	const df_error *e = df_error_last();

	if (error != DF_EGATE)
		fail_msg("not refused (%s, %s): %s", df_dialect_name(d),
			migrations ? "migration" : "schema", sql);
	if (!strstr(e->message, what))
		fail_msg("'%s' not in: %s", what, e->message);
	assert_int_equal(e->line, line);
	assert_non_null(e->file);
	assert_string_equal(e->file, "schema.sql");
	assert_non_null(e->hint);
}

/* Refused in a schema file and in the replay of migrations. */
static void refused_both(df_dialect d, const char *sql, const char *what)
{
	refused(d, false, sql, what, 1);
	refused(d, true, sql, what, 1);
}

static void test_sandbox__postgres(void **state)
{
	const df_dialect pg = DF_DIALECT_POSTGRES;

	(void)state;
	/* a schema file as people and pg_dump write them */
	allowed(pg, false, "SET statement_timeout = 0;\n"
		"SELECT pg_catalog.set_config('search_path', '', false);\n"
		"CREATE EXTENSION IF NOT EXISTS pgcrypto;\n"
		"CREATE SCHEMA app;\n"
		"CREATE TYPE app.mood AS ENUM ('a', 'b');\n"
		"CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);\n"
		"CREATE SEQUENCE app.s;\n"
		"CREATE TABLE app.users (id serial PRIMARY KEY, email text NOT NULL);\n"
		"ALTER TABLE app.users ADD COLUMN mood app.mood;\n"
		"CREATE INDEX users_email ON app.users (lower(email));\n"
		"CREATE VIEW app.v AS SELECT email FROM app.users;\n"
		"CREATE MATERIALIZED VIEW app.mv AS SELECT id FROM app.users WITH NO DATA;\n"
		"CREATE FUNCTION app.f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
		"CREATE TRIGGER t BEFORE INSERT ON app.users FOR EACH ROW EXECUTE FUNCTION app.f();\n"
		"COMMENT ON TABLE app.users IS 'people';\n"
		"ALTER TABLE app.users OWNER TO postgres;\n"
		"GRANT SELECT ON app.users TO PUBLIC;\n"
		"REVOKE ALL ON SCHEMA public FROM PUBLIC;\n"
		"DROP VIEW IF EXISTS app.old;\n"
		"BEGIN; COMMIT;\n");
	/* data: in migrations only */
	refused(pg, false, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);", "INSERT", 2);
	allowed(pg, true, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n"
		"UPDATE t SET id = 2;\nDELETE FROM t;\nSELECT count(*) FROM t;");
	refused(pg, false, "SELECT 1;", "SELECT", 1);
	/* the server */
	refused_both(pg, "DROP DATABASE prod;", "DROP DATABASE");
	refused_both(pg, "CREATE DATABASE x;", "CREATE DATABASE");
	refused_both(pg, "ALTER DATABASE prod SET work_mem = '1GB';", "ALTER DATABASE");
	refused_both(pg, "CREATE ROLE evil SUPERUSER;", "CREATE ROLE");
	refused_both(pg, "ALTER ROLE postgres PASSWORD 'x';", "ALTER ROLE");
	refused_both(pg, "DROP ROLE r;", "DROP ROLE");
	refused_both(pg, "GRANT pg_read_server_files TO me;", "role");
	refused_both(pg, "GRANT ALL ON DATABASE prod TO me;", "ON DATABASE");
	refused_both(pg, "ALTER SYSTEM SET fsync = off;", "ALTER SYSTEM");
	refused_both(pg, "CREATE TABLESPACE t LOCATION '/tmp';", "TABLESPACE");
	refused_both(pg, "ALTER DATABASE prod OWNER TO me;", "DATABASE");
	refused_both(pg, "SET ROLE postgres;", "SET ROLE");
	/* files, programs, other servers, code */
	refused_both(pg, "COPY t FROM PROGRAM 'rm -rf /';", "COPY ... PROGRAM");
	refused_both(pg, "COPY t TO '/tmp/x';", "server file");
	refused_both(pg, "LOAD 'plugin';", "LOAD");
	/* DO: never in a schema file; in the replay when its body can be read */
	refused(pg, false, "DO $$ BEGIN EXECUTE 'DROP DATABASE prod'; END $$;", "DO", 1);
	refused(pg, true, "DO $$ BEGIN EXECUTE 'DROP DATABASE prod'; END $$;", "EXECUTE", 1);
	refused(pg, false, "DO $$ BEGIN CREATE TYPE mood AS ENUM ('a'); END $$;", "DO", 1);
	allowed(pg, true, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN "
		"CREATE TYPE mood AS ENUM ('a'); END IF; UPDATE users SET x = 1; END $$;");
	refused(pg, true, "DO $$ BEGIN CREATE ROLE evil SUPERUSER; END $$;", "CREATE ROLE", 1);
	refused(pg, true, "DO $$ BEGIN CREATE EXTENSION dblink; END $$;", "dblink", 1);
	refused(pg, true, "DO $$ BEGIN PERFORM pg_read_file('/etc/passwd'); END $$;", "pg_read_file", 1);
	refused(pg, true, "DO $$ BEGIN COPY t FROM PROGRAM 'id'; END $$;", "COPY", 1);
	refused(pg, true, "DO $$ BEGIN PERFORM set_config('role', 'postgres', false); END $$;", "set_config", 1);
	refused(pg, true, "DO LANGUAGE plperl $$ spi_exec_query('x'); $$;", "DO", 1);
	/* function bodies: what a statement may not do, a body may not either */
	allowed(pg, false, "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
		"BEGIN NEW.updated_at := now(); INSERT INTO audit VALUES (NEW.id);\n"
		"PERFORM set_config('app.user', NEW.owner, true); RETURN NEW; END $$;\n"
		"CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n"
		"CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';\n");
	refused_both(pg, "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'x'; END $$;",
		"EXECUTE");
	refused_both(pg, "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
		"ALTER ROLE me SUPERUSER; END $$;", "ALTER ROLE");
	refused_both(pg, "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT dblink_exec('x', 'y') $$;",
		"dblink_exec");
	refused_both(pg, "CREATE FUNCTION f() RETURNS int LANGUAGE plperl AS 'return 1';", "plperl");
	refused_both(pg, "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f();", "EVENT TRIGGER");
	/* a table or materialized view from a query is an object */
	allowed(pg, false, "CREATE TABLE t AS SELECT 1 AS x;\n"
		"CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;\n"
		"CREATE MATERIALIZED VIEW mv2 AS SELECT 1 AS x WITH NO DATA;");
	/* what libpg_query cannot parse is a syntax error where it stopped, not run */
	assert_int_equal(check(pg, false, "CREATE TABLE a (id int);\nCREATE TABLE b (id int,, x int);"), DF_ESQL);
	assert_int_equal(df_error_last()->line, 2);
	assert_int_equal(df_error_last()->column, 24);
	assert_non_null(strstr(df_error_last()->message, "syntax error"));
	assert_non_null(strstr(df_error_last()->message, "schema.sql:2:24:"));
	refused_both(pg, "CREATE EXTENSION dblink;", "dblink");
	refused_both(pg, "CREATE EXTENSION postgres_fdw;", "postgres_fdw");
	refused_both(pg, "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;", "foreign data");
	refused_both(pg, "CREATE TABLE t AS SELECT * FROM dblink('x', 'y') AS r(a int);", "dblink");
	refused_both(pg, "CREATE TABLE t AS SELECT pg_read_file('/etc/passwd') AS x;", "pg_read_file");
	refused_both(pg, "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS 'return 1';", "plpython3u");
	refused_both(pg, "CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/tmp/x.so', 'f';", "LANGUAGE c");
	refused(pg, true, "SELECT pg_terminate_backend(1);", "pg_terminate_backend", 1);
	refused(pg, true, "SELECT set_config('role', 'postgres', false) FROM t;", "set_config", 1);
	refused_both(pg, "SELECT pg_catalog.set_config('role', 'postgres', false);", "set_config");
	refused_both(pg, "SELECT set_config('session_authorization', 'postgres', false);", "set_config");
	allowed(pg, true, "SELECT pg_catalog.set_config('search_path', '', false);");
	/* another database's name */
	refused(pg, true, "INSERT INTO prod.public.users VALUES (1);", "prod", 1);
	/* the line of the statement, past others */
	refused(pg, false, "CREATE TABLE a (id int);\n\n-- x\nDROP DATABASE prod;\n", "DROP DATABASE", 4);
}

static void test_sandbox__mysql(void **state)
{
	const df_dialect my = DF_DIALECT_MYSQL;

	(void)state;
	/* a schema file as people and mariadb-dump --no-data write them */
	allowed(my, false, "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
		"/*!40101 SET NAMES utf8mb4 */;\n"
		"SET FOREIGN_KEY_CHECKS = 0;\n"
		"DROP TABLE IF EXISTS `users`;\n"
		"CREATE TABLE `users` (`id` int NOT NULL AUTO_INCREMENT, `email` varchar(255), "
		"PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
		"CREATE INDEX users_email ON users (email);\n"
		"CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER "
		"VIEW v AS SELECT u.email FROM users u;\n"
		"DELIMITER ;;\n"
		"CREATE TRIGGER tr BEFORE INSERT ON users FOR EACH ROW BEGIN SET NEW.email = lower(NEW.email); END ;;\n"
		"DELIMITER ;\n"
		"ALTER TABLE users ADD COLUMN name varchar(100);\n"
		"RENAME TABLE users TO people;\n");
	refused(my, false, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);", "INSERT", 2);
	allowed(my, true, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nUPDATE t SET id = 2;\n"
		"DELETE FROM t WHERE t.id = 2;\nSELECT COUNT(*) FROM information_schema.columns;");
	/* another database: a name qualified with one, in any statement */
	refused_both(my, "DELETE FROM prod.users;", "prod.users");
	refused_both(my, "DELETE FROM `prod`.`users`;", "prod.users");
	refused_both(my, "CREATE TABLE t AS SELECT * FROM prod.users;", "prod.users");
	refused_both(my, "CREATE VIEW v AS SELECT * FROM Prod.users;", "prod.users");
	refused_both(my, "UPDATE mysql.user SET password = '';", "mysql.user");
	refused_both(my, "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW DELETE FROM prod.users;", "prod.users");
	refused_both(my, "USE prod;", "USE prod");
	refused_both(my, "/*!40000 DELETE FROM prod.users */;", "prod.users");
	/* the server */
	refused_both(my, "DROP DATABASE prod;", "DROP DATABASE");
	refused_both(my, "CREATE DATABASE IF NOT EXISTS x;", "CREATE DATABASE");
	refused_both(my, "CREATE SCHEMA x;", "CREATE SCHEMA");
	refused_both(my, "CREATE USER evil IDENTIFIED BY 'x';", "CREATE USER");
	refused_both(my, "DROP USER root;", "DROP USER");
	refused_both(my, "CREATE ROLE r;", "CREATE ROLE");
	refused_both(my, "GRANT ALL ON *.* TO evil;", "GRANT");
	refused_both(my, "REVOKE ALL ON t FROM x;", "REVOKE");
	refused_both(my, "SET GLOBAL general_log = 1;", "SET GLOBAL");
	refused_both(my, "SET @@global.read_only = 1;", "SET GLOBAL");
	refused_both(my, "SET PASSWORD FOR root = PASSWORD('x');", "SET PASSWORD");
	refused_both(my, "INSTALL SONAME 'ha_connect';", "INSTALL");
	refused_both(my, "FLUSH PRIVILEGES;", "FLUSH");
	refused(my, false, "DELIMITER //\nCREATE PROCEDURE p() BEGIN DROP DATABASE prod; END //\nDELIMITER ;\n",
		"DROP DATABASE", 2);
	refused(my, true, "DELIMITER //\nCREATE PROCEDURE p() BEGIN IF 1 THEN GRANT ALL ON *.* TO x; END IF; END //\n"
		"DELIMITER ;\nCALL p();\n", "GRANT", 2);
	/* files, other servers, dynamic SQL */
	refused_both(my, "LOAD DATA INFILE '/etc/passwd' INTO TABLE t;", "LOAD DATA");
	refused(my, true, "SELECT * FROM t INTO OUTFILE '/tmp/x';", "OUTFILE", 1);
	refused_both(my, "CREATE TABLE t AS SELECT LOAD_FILE('/etc/passwd') AS x;", "LOAD_FILE");
	refused_both(my, "CREATE TABLE t (id int) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t';", "ENGINE=FEDERATED");
	refused_both(my, "CREATE TABLE t (id int) CONNECTION='mysql://u@h/db/t';", "CONNECTION");
	refused_both(my, "CREATE TABLE t (id int) ENGINE=CONNECT;", "CONNECT");
	refused_both(my, "PREPARE s FROM 'DROP DATABASE prod';", "PREPARE");
	refused(my, true, "DELIMITER //\nCREATE PROCEDURE p() BEGIN PREPARE s FROM @q; EXECUTE s; END //\nDELIMITER ;\n",
		"PREPARE", 2);
	/* "--1" is not a comment: what follows it runs */
	refused(my, true, "SELECT 1--1 /*!, (SELECT 1 FROM prod.t) */;", "prod.t", 1);
	refused(my, true, "SELECT 1--1, (SELECT 1 FROM prod.t);", "prod.t", 1);
	/* table.column is not a database's name */
	allowed(my, true, "UPDATE t JOIN u ON t.id = u.id SET t.x = u.x;");
}

static void test_sandbox__sqlite(void **state)
{
	const df_dialect lite = DF_DIALECT_SQLITE;

	(void)state;
	allowed(lite, false, "PRAGMA foreign_keys = ON;\n"
		"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
		"CREATE TEMP TABLE scratch (x);\n"
		"CREATE UNIQUE INDEX users_email ON users (email);\n"
		"CREATE VIEW v AS SELECT email FROM users;\n"
		"CREATE TRIGGER tr AFTER INSERT ON users BEGIN UPDATE users SET email = lower(NEW.email) "
		"WHERE id = NEW.id; END;\n"
		"BEGIN; COMMIT;\n");
	refused(lite, false, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);", "INSERT", 2);
	allowed(lite, true, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);");
	refused_both(lite, "ATTACH DATABASE 'devflow.db' AS live;", "ATTACH");
	refused_both(lite, "DETACH DATABASE live;", "DETACH");
	refused_both(lite, "VACUUM INTO '/tmp/copy.db';", "VACUUM INTO");
	allowed(lite, true, "VACUUM;");
}

/* SQLite's scratch connection: what the list lets through, the authorizer
 * stops. */
static void test_sandbox__sqlite_connection(void **state)
{
	df_dsn *dsn = NULL;
	df_conn *conn = NULL;
	char *dir = df_test_tmpdir(), sql[512];
	long off;

	(void)state;
	assert_int_equal(df_dsn_parse(&dsn, "sqlite::memory:"), 0);
	assert_int_equal(df_conn_open(&conn, dsn), 0);
	assert_int_equal(df_conn_sandbox(conn), 0);
	assert_int_equal(df_conn_exec(conn, "CREATE TABLE t (id INTEGER)", 27, &off), 0);
	assert_int_equal(df_conn_exec(conn, "CREATE TEMP TABLE u (id INTEGER)", 32, &off), 0);
	assert_int_equal(df_conn_exec(conn, "INSERT INTO t VALUES (1)", 24, &off), 0);
	assert_int_equal(df_conn_exec(conn, "ALTER TABLE t ADD COLUMN x TEXT", 31, &off), 0);
	assert_int_equal(df_conn_exec(conn, "ALTER TABLE t DROP COLUMN x", 27, &off), 0);
	snprintf(sql, sizeof(sql), "ATTACH DATABASE '%s/live.db' AS live", dir);
	assert_true(df_conn_exec(conn, sql, strlen(sql), &off) < 0);
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s/copy.db'", dir);
	assert_true(df_conn_exec(conn, sql, strlen(sql), &off) < 0);
	snprintf(sql, sizeof(sql), "%s/copy.db", dir);
	assert_null(fopen(sql, "r"));
	snprintf(sql, sizeof(sql), "%s/live.db", dir);
	assert_null(fopen(sql, "r"));
	df_conn_close(conn);
	df_dsn_free(dsn);
	df_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox__postgres),
		cmocka_unit_test(test_sandbox__mysql),
		cmocka_unit_test(test_sandbox__sqlite),
		cmocka_unit_test(test_sandbox__sqlite_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
