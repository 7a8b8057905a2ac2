#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"

static char *dir;

static int setup(void **state)
{
	dir = df_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

static int read_one(df_migration *m, const char *name, const char *text, size_t len)
{
	char path[4200];

	df_test_write(dir, name, text, len);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return df_migration_read_file(m, path, false);
}

static void test_migration__version_cmp(void **state)
{
	assert_true(df_version_cmp("2", "10") < 0);
	assert_true(df_version_cmp("0010", "9") > 0);
	assert_int_equal(df_version_cmp("007", "7"), 0);
	assert_true(df_version_cmp("1.1", "1.2") < 0);
	assert_true(df_version_cmp("1.10", "1.9") > 0);
	assert_true(df_version_cmp("1", "1.1") < 0);
	assert_true(df_version_cmp("20240101000000", "20240101000001") < 0);
}

static void test_migration__sections(void **state)
{
	df_migration m;
	const char *t = "-- a header comment\n-- devflow:no-transaction\n-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n";
	char *up;
	size_t len;

	assert_int_equal(read_one(&m, "20240101000000_create_a.sql", t, (size_t)-1), 0);
	assert_string_equal(m.version, "20240101000000");
	assert_string_equal(m.name, "create_a");
	assert_true(m.no_transaction);
	assert_int_equal(m.format, DF_FMT_DEVFLOW);
	assert_true(df_migration_reversible(&m));
	assert_int_equal(m.up.line, 4);
	assert_int_equal(df_section_read(&up, &len, &m.up), 0);
	assert_string_equal(up, "CREATE TABLE a (id int);\n");
	free(up);
	assert_int_equal(df_section_read(&up, &len, &m.down), 0);
	assert_string_equal(up, "DROP TABLE a;\n");
	free(up);
	df_migration_release(&m);
}

static void test_migration__checksum_ignores_crlf_and_bom(void **state)
{
	df_migration a, b, c;
	const char *lf = "-- UP\nSELECT 1;\n-- DOWN\nSELECT 2;\n";
	const char *crlf = "\xef\xbb\xbf-- UP\r\nSELECT 1;\r\n-- DOWN\r\nSELECT 2;\r\n";

	assert_int_equal(read_one(&a, "1_a.sql", lf, (size_t)-1), 0);
	assert_int_equal(read_one(&b, "2_b.sql", crlf, (size_t)-1), 0);
	assert_string_equal(a.checksum, b.checksum);
	assert_true(df_migration_reversible(&b));
	assert_int_equal(read_one(&c, "3_c.sql", "-- UP\nSELECT 1;\n-- DOWN\nSELECT 3;\n", (size_t)-1), 0);
	assert_string_not_equal(a.checksum, c.checksum);
	df_migration_release(&a);
	df_migration_release(&b);
	df_migration_release(&c);
}

static void test_migration__bad_files(void **state)
{
	df_migration m;

	assert_int_equal(read_one(&m, "1_two.sql", "-- UP\nSELECT 1;\n-- UP\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(df_error_last()->line, 3);
	assert_int_equal(read_one(&m, "1_none.sql", "SELECT 1;\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(read_one(&m, "1_utf.sql", "-- UP\nSELECT '\xc3\x28';\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(df_error_last()->line, 2);
	assert_int_equal(read_one(&m, "1_nul.sql", "-- UP\nSELECT 1;\0\n", 18), DF_ECONFIG);
	assert_int_equal(read_one(&m, "1_before.sql", "SELECT 0;\n-- UP\nSELECT 1;\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(read_one(&m, "1_downfirst.sql", "-- DOWN\nSELECT 1;\n-- UP\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(read_one(&m, "1_mixed.sql", "-- UP\nSELECT 1;\n-- migrate:down\n", (size_t)-1), DF_ECONFIG);
	assert_int_equal(read_one(&m, "1_trunc.sql", "-- UP\nSELECT '\xe2\x82", (size_t)-1), DF_ECONFIG);
}

static void test_migration__irreversible(void **state)
{
	df_migration m;

	assert_int_equal(read_one(&m, "1_a.sql", "-- UP\nSELECT 1;\n", (size_t)-1), 0);
	assert_false(df_migration_reversible(&m));
	df_migration_release(&m);
	assert_int_equal(read_one(&m, "2_b.sql", "-- UP\nSELECT 1;\n-- DOWN\n-- nothing\n\n/* still\n nothing */\n", (size_t)-1), 0);
	assert_false(df_migration_reversible(&m));
	df_migration_release(&m);
	/* found by fuzzing: a comment opened after another on the same line */
	assert_int_equal(read_one(&m, "3_c.sql", "-- UP\nSELECT 1;\n-- DOWN\n/* a */ /* b\nDROP TABLE t;\n*/\n", (size_t)-1), 0);
	assert_false(df_migration_reversible(&m));
	df_migration_release(&m);
	/* and SQL after a comment on the same line is SQL */
	assert_int_equal(read_one(&m, "4_d.sql", "-- UP\nSELECT 1;\n-- DOWN\n/* undo */ DROP TABLE t;\n", (size_t)-1), 0);
	assert_true(df_migration_reversible(&m));
	df_migration_release(&m);
}

static void test_migration__dbmate(void **state)
{
	df_migration m;

	assert_int_equal(read_one(&m, "20240101000000_d.sql",
		"-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 2;\n", (size_t)-1), 0);
	assert_int_equal(m.format, DF_FMT_DBMATE);
	assert_true(m.no_transaction);
	assert_true(df_migration_reversible(&m));
	df_migration_release(&m);
}

static void test_migration__set_formats_and_duplicates(void **state)
{
	char sub[4200];
	df_migration_set *set;

	snprintf(sub, sizeof(sub), "%s/set", dir);
	assert_int_equal(system("true"), 0);
	mkdir(sub, 0755);
	df_test_write(sub, "1_g.up.sql", "SELECT 1;\n", (size_t)-1);
	df_test_write(sub, "1_g.down.sql", "SELECT 2;\n", (size_t)-1);
	df_test_write(sub, "V2__f.sql", "SELECT 3;\n", (size_t)-1);
	df_test_write(sub, "V10__f.sql", "SELECT 3;\n", (size_t)-1);
	df_test_write(sub, "README.md", "not sql", (size_t)-1);
	assert_int_equal(df_migration_set_load(&set, sub, true), 0);
	assert_int_equal(set->nr, 3);
	assert_string_equal(set->v[0].version, "1");
	assert_true(df_migration_reversible(&set->v[0]));
	assert_string_equal(set->v[2].version, "10");
	df_migration_set_free(set);
	df_test_write(sub, "2_dup.up.sql", "SELECT 1;\n", (size_t)-1);
	assert_int_equal(df_migration_set_load(&set, sub, true), DF_ECONFIG);
	assert_non_null(strstr(df_error_last()->message, "V2__f.sql"));
	assert_non_null(strstr(df_error_last()->message, "2_dup.up.sql"));
}

/* The UP's checksum: the file up to its DOWN line, CR LF and BOM as the
 * whole-file checksum sees them; a DOWN edit changes the file's, not the UP's. */
static void test_migration__up_checksum(void **state)
{
	df_migration a, b, c, d;
	df_ledger_row row;
	df_row_check check;
	char ua[65], ub[65], uc[65], ud[65];
	const char *lf = "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n";
	const char *crlf = "\xef\xbb\xbf-- UP\r\nCREATE TABLE a (id int);\r\n-- DOWN\r\nDROP TABLE a;\r\n";
	const char *down = "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE IF EXISTS a;\n";
	const char *up = "-- UP\nCREATE TABLE a (id bigint);\n-- DOWN\nDROP TABLE a;\n";

	assert_int_equal(read_one(&a, "1_a.sql", lf, strlen(lf)), 0);
	assert_int_equal(read_one(&b, "2_a.sql", crlf, strlen(crlf)), 0);
	assert_int_equal(read_one(&c, "3_a.sql", down, strlen(down)), 0);
	assert_int_equal(read_one(&d, "4_a.sql", up, strlen(up)), 0);
	assert_int_equal(df_migration_up_checksum(ua, &a), 0);
	assert_int_equal(df_migration_up_checksum(ub, &b), 0);
	assert_int_equal(df_migration_up_checksum(uc, &c), 0);
	assert_int_equal(df_migration_up_checksum(ud, &d), 0);
	assert_string_equal(ua, ub);
	assert_string_equal(ua, uc);
	assert_string_not_equal(ua, ud);
	assert_string_not_equal(a.checksum, c.checksum);

	memset(&row, 0, sizeof(row));
	row.checksum = a.checksum;
	row.up_checksum = ua;
	assert_int_equal(df_ledger_row_check(&check, &row, &a), 0);
	assert_int_equal(check, DF_ROW_UNCHANGED);
	assert_int_equal(df_ledger_row_check(&check, &row, &c), 0);
	assert_int_equal(check, DF_ROW_DOWN_EDITED);
	assert_int_equal(df_ledger_row_check(&check, &row, &d), 0);
	assert_int_equal(check, DF_ROW_UP_EDITED);
	row.up_checksum = NULL;         /* recorded before the UP had its own */
	assert_int_equal(df_ledger_row_check(&check, &row, &c), 0);
	assert_int_equal(check, DF_ROW_UP_EDITED);
	df_migration_release(&a);
	df_migration_release(&b);
	df_migration_release(&c);
	df_migration_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration__version_cmp),
		cmocka_unit_test(test_migration__sections),
		cmocka_unit_test(test_migration__checksum_ignores_crlf_and_bom),
		cmocka_unit_test(test_migration__up_checksum),
		cmocka_unit_test(test_migration__bad_files),
		cmocka_unit_test(test_migration__irreversible),
		cmocka_unit_test(test_migration__dbmate),
		cmocka_unit_test(test_migration__set_formats_and_duplicates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
