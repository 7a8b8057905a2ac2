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

	assert_int_equal(df_dsn_parse(&d, "mariadb://root:p%40ss@[::1]:3307/app"), 0);
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
	/* read two ways (libpq: user a, password b, host c@h): no user-info shown */
	r = df_dsn_redact("postgres://a:b@c@h/d");
	assert_string_equal(r, "postgres://***@h/d");
	free(r);
	r = df_dsn_redact("postgres://user:P@ssw0rd@db.example.com/shop");
	assert_string_equal(r, "postgres://***@db.example.com/shop");
	free(r);
	r = df_dsn_redact("mysql://u:pa?ss@h/d");
	assert_null(strstr(r, "pa"));
	assert_null(strstr(r, "ss@"));
	free(r);
}

/* libpq ends the user-info at the first '@', devflow read the last: refuse. */
static void test_dsn__unencoded_at_refused(void **state)
{
	static const char *const urls[] = {
		"postgres://u:P@ssw0rd@host/db",
		"postgresql://u:P@ssw0rd@127.0.0.1:5432/db?sslmode=require",
		"mysql://u:P@ssw0rd@host/db",
		"mariadb://root:p@ss@[::1]:3307/app",
		"postgres://u:pa?ss@word@host/db",
		"postgres://u:pa?ss@host/db",
	};
	df_dsn *d;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		d = NULL;
		assert_int_equal(df_dsn_parse(&d, urls[i]), DF_EUSAGE);
		assert_null(d);
		assert_non_null(strstr(df_error_last()->hint, "%40"));
		assert_null(strstr(df_error_last()->message, "ss@"));
		assert_null(strstr(df_error_last()->message, "ssw0rd"));
		assert_null(strstr(df_error_last()->message, "@word"));
		assert_null(strstr(df_error_last()->hint, "ssw0rd"));
		assert_null(strstr(df_error_last()->message, "u:"));
	}
	/* encoded, it is one URL to everyone */
	assert_int_equal(df_dsn_parse(&d, "postgres://u:P%40ssw0rd@host/db"), 0);
	assert_string_equal(d->password, "P@ssw0rd");
	assert_string_equal(d->host, "host");
	df_dsn_free(d);
	/* an '@' after the path is not user-info */
	assert_int_equal(df_dsn_parse(&d, "postgres://u@host/db?application_name=a@b"), 0);
	assert_string_equal(d->host, "host");
	df_dsn_free(d);
}

/* Literal names and addresses only: no lookup decides locality. */
static void test_dsn__host_is_local(void **state)
{
	assert_true(df_host_is_local(NULL));
	assert_true(df_host_is_local(""));
	assert_true(df_host_is_local("/var/run/postgresql"));
	assert_true(df_host_is_local("@abstract"));
	assert_true(df_host_is_local("localhost"));
	assert_true(df_host_is_local("LocalHost"));
	assert_true(df_host_is_local("127.0.0.1"));
	assert_true(df_host_is_local("127.255.3.9"));
	assert_true(df_host_is_local("::1"));
	assert_true(df_host_is_local("0:0:0:0:0:0:0:1"));
	assert_true(df_host_is_local("::ffff:127.0.0.1"));
	assert_false(df_host_is_local("remote.invalid"));
	assert_false(df_host_is_local("db.remote.test"));
	assert_false(df_host_is_local("localhost.example.com"));
	assert_false(df_host_is_local("127.0.0.1.nip.io"));
	assert_false(df_host_is_local("127.example.com"));
	assert_false(df_host_is_local("128.0.0.1"));
	assert_false(df_host_is_local("10.0.0.1"));
	assert_false(df_host_is_local("::ffff:10.0.0.1"));
	assert_false(df_host_is_local("::2"));
	assert_false(df_host_is_local("0.0.0.0"));
	assert_true(df_hosts_are_local("localhost,127.0.0.1,/tmp"));
	assert_false(df_hosts_are_local("localhost,remote.invalid"));
	assert_false(df_hosts_are_local("remote.invalid,localhost"));
	assert_true(df_hosts_are_local(NULL));
}

/* The URL's own host; a libpq parameter is judged by df_dsn_locality. */
static void test_dsn__is_local_multi_host(void **state)
{
	df_dsn *d;

	assert_int_equal(df_dsn_parse(&d, "postgres://u@localhost,remote.invalid:5432/db"), 0);
	assert_false(df_dsn_is_local(d));
	df_dsn_free(d);
	assert_int_equal(df_dsn_parse(&d, "postgres://u@/db"), 0);
	assert_true(df_dsn_is_local(d));
	df_dsn_free(d);
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
		cmocka_unit_test(test_dsn__unencoded_at_refused),
		cmocka_unit_test(test_dsn__host_is_local),
		cmocka_unit_test(test_dsn__is_local_multi_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
