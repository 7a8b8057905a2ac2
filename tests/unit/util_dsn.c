#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "devflow/dsn.h"
#include "devflow/error.h"

static void test_dsn__postgres(void **state)
{
	df_dsn *d;

	assert_int_equal(df_dsn_parse(&d, "postgresql://app:s%40cret@db.example.com:5433/shop?sslmode=require"), 0);
	assert_string_equal(d->engine, "postgres");
	assert_string_equal(d->user, "app");
	assert_string_equal(d->password, "s@cret");
	assert_string_equal(d->host, "db.example.com");
	assert_int_equal(d->port, 5433);
	assert_string_equal(d->database, "shop");
	assert_string_equal(d->query, "sslmode=require");
	assert_false(df_dsn_is_local(d));
	df_dsn_free(d);
}

static void test_dsn__mysql_ipv6_and_at_in_password(void **state)
{
	df_dsn *d;

	assert_int_equal(df_dsn_parse(&d, "mariadb://root:p@ss@[::1]:3307/app"), 0);
	assert_string_equal(d->engine, "mysql");
	assert_string_equal(d->password, "p@ss");
	assert_string_equal(d->host, "::1");
	assert_int_equal(d->port, 3307);
	assert_true(df_dsn_is_local(d));
	df_dsn_free(d);
}

static void test_dsn__sqlite_forms(void **state)
{
	df_dsn *d;

	assert_int_equal(df_dsn_parse(&d, "sqlite:./devflow.db"), 0);
	assert_string_equal(d->database, "./devflow.db");
	df_dsn_free(d);
	assert_int_equal(df_dsn_parse(&d, "sqlite:///abs/path.db"), 0);
	assert_string_equal(d->database, "/abs/path.db");
	df_dsn_free(d);
	assert_int_equal(df_dsn_parse(&d, "sqlite::memory:"), 0);
	assert_string_equal(d->database, ":memory:");
	assert_true(df_dsn_is_local(d));
	df_dsn_free(d);
}

static void test_dsn__errors(void **state)
{
	df_dsn *d;

	assert_int_equal(df_dsn_parse(&d, "mssql://sa:pw@h/db"), DF_EUSAGE);
	assert_non_null(strstr(df_error_last()->message, "SQL Server"));
	assert_null(strstr(df_error_last()->message, "pw"));
	assert_int_equal(df_dsn_parse(&d, "libsql://x.turso.io"), DF_EUSAGE);
	assert_int_equal(df_dsn_parse(&d, "postgres://h:99999/db"), DF_EUSAGE);
	assert_int_equal(df_dsn_parse(&d, "nocolon"), DF_EUSAGE);
	assert_int_equal(df_dsn_parse(&d, ""), DF_EUSAGE);
	assert_int_equal(df_dsn_parse(&d, "postgres:/missing-slash"), DF_EUSAGE);
	assert_int_equal(df_dsn_parse(&d, "sqlite:"), DF_EUSAGE);
}

static void test_dsn__redact(void **state)
{
	char *r = df_dsn_redact("postgres://app:hunter2@db.example.com:5432/shop");

	assert_string_equal(r, "postgres://app:***@db.example.com:5432/shop");
	free(r);
	r = df_dsn_redact("mysql://root@127.0.0.1/x?password=hunter2&ssl=1");
	assert_null(strstr(r, "hunter2"));
	free(r);
	r = df_dsn_redact("postgres://a:b@c@h/d");
	assert_string_equal(r, "postgres://a:***@h/d");
	free(r);
}

static void test_dsn__scrub(void **state)
{
	df_dsn *d;
	char text[] = "error for canary%2Fpw and canary/pw here";

	assert_int_equal(df_dsn_parse(&d, "postgres://u:canary%2Fpw@h/db"), 0);
	df_dsn_scrub(d, text);
	assert_null(strstr(text, "canary"));
	df_dsn_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn__postgres),
		cmocka_unit_test(test_dsn__mysql_ipv6_and_at_in_password),
		cmocka_unit_test(test_dsn__sqlite_forms),
		cmocka_unit_test(test_dsn__errors),
		cmocka_unit_test(test_dsn__redact),
		cmocka_unit_test(test_dsn__scrub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
