/*
 * Backups and schema snapshots in the core, on SQLite: the file appears
 * under its final name only when everything (copy, fsync, checksum,
 * verification) worked, with mode 0600; default names never collide; a
 * failing engine or a failed verification leaves nothing behind.  Also the
 * flags that travel to the drivers in the DSN's query.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "drivers/client_tool.h"

static char *dir, dbpath[4200], cwd[4200];
static df_dsn *dsn;
static df_conn *conn;

/* "halfbackup": SQLite, but its backup writes a little and fails. */
static int half_backup(df_conn *c, const df_dsn *d, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	return df_error_set(DF_EIO, "cannot write the backup: No space left on device");
}

/* "liar": SQLite, but it claims one row more in every table. */
static int liar_counts(df_conn *c, df_rows **out)
{
	int error = df_driver_sqlite.table_counts(c, out);

	for (size_t i = 0; !error && i < (*out)->nrows; i++) {
		char **cell = &(*out)->cells[i * (*out)->ncols + 1], buf[32];
		snprintf(buf, sizeof(buf), "%ld", strtol(*cell, NULL, 10) + 1);
		free(*cell);
		*cell = strdup(buf);
	}
	return error;
}

static df_driver half_driver, liar_driver;

static int setup(void **state)
{
	static bool registered;
	long off = -1;

	if (!registered) {
		half_driver = df_driver_sqlite;
		half_driver.name = "halfbackup";
		half_driver.backup = half_backup;
		liar_driver = df_driver_sqlite;
		liar_driver.name = "liar";
		liar_driver.table_counts = liar_counts;
		assert_int_equal(df_driver_register(&half_driver), 0);
		assert_int_equal(df_driver_register(&liar_driver), 0);
		registered = true;
	}
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir = df_test_tmpdir();
	assert_int_equal(chdir(dir), 0);
	snprintf(dbpath, sizeof(dbpath), "sqlite://%s/test.db", dir);
	assert_int_equal(df_dsn_parse(&dsn, dbpath), 0);
	assert_int_equal(df_conn_open(&conn, dsn), 0);
	const char *sql[] = {
		"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)",
		"INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'row-data')",
		"CREATE INDEX users_email ON users (email)",
		"CREATE TABLE empty (x INTEGER)",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		assert_int_equal(df_conn_exec(conn, sql[i], strlen(sql[i]), &off), 0);
	return 0;
}

static int teardown(void **state)
{
	df_conn_close(conn);
	df_dsn_free(dsn);
	conn = NULL;
	dsn = NULL;
	assert_int_equal(chdir(cwd), 0);
	df_test_rmtree(dir);
	free(dir);
	return 0;
}

/* Number of entries of `path` (a folder), not counting . and .. */
static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *slurp(const char *path);

/* A connection through another registered driver on the same file. */
static df_conn *open_as(const char *engine, df_dsn **d)
{
	df_conn *c = NULL;

	assert_int_equal(df_dsn_parse(d, dbpath), 0);
	free((*d)->engine);
	(*d)->engine = strdup(engine);
	assert_int_equal(df_conn_open(&c, *d), 0);
	return c;
}

static void test_core_backup__verified_0600(void **state)
{
	df_backup_opts o = { .path = "out/b.sqlite3", .env = "local", .verify = true };
	df_backup_info info;
	char sha[65];
	uint64_t size = 0;
	struct stat st;
	char *receipt;

	assert_int_equal(df_backup_run(&info, conn, dsn, &o), 0);
	assert_string_equal(info.path, "out/b.sqlite3");
	assert_true(info.verified);
	assert_null(info.mismatch);
	assert_int_equal(stat(info.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(df_file_sha256(sha, &size, info.path), 0);
	assert_string_equal(sha, info.sha256);
	assert_int_equal(size, info.size);
	assert_int_equal(entries("out"), 2);    /* the backup, its manifest: no temporary file left */
	{
		char *m = slurp("out/b.sqlite3.manifest");
		assert_int_equal(stat("out/b.sqlite3.manifest", &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_non_null(strstr(m, info.sha256));
		assert_non_null(strstr(m, "\"engine\": \"sqlite\""));
		assert_non_null(strstr(m, "\"verified\": true"));
		free(m);
	}
	receipt = df_backup_receipt(&info);
	assert_non_null(strstr(receipt, "verified=1"));
	assert_non_null(strstr(receipt, info.sha256));
	free(receipt);
	df_backup_info_release(&info);
}

static void test_core_backup__default_names_differ(void **state)
{
	df_backup_opts o = { .env = "staging" };
	df_backup_info a, b;

	assert_int_equal(df_backup_run(&a, conn, dsn, &o), 0);
	assert_int_equal(df_backup_run(&b, conn, dsn, &o), 0);
	assert_non_null(strstr(a.path, ".devflow/backups/staging-test.db-"));
	assert_string_not_equal(a.path, b.path);
	assert_int_equal(access(a.path, F_OK), 0);
	assert_int_equal(access(b.path, F_OK), 0);
	assert_int_equal(entries(".devflow/backups"), 4);       /* two backups, two manifests */
	df_backup_info_release(&a);
	df_backup_info_release(&b);
}

static void test_core_backup__engine_failure_leaves_nothing(void **state)
{
	df_dsn *d = NULL;
	df_conn *c = open_as("halfbackup", &d);
	df_backup_opts o = { .path = "out/b.sqlite3" };
	df_backup_info info;

	assert_int_equal(mkdir("out", 0700), 0);
	assert_int_equal(df_backup_run(&info, c, d, &o), DF_EIO);
	assert_null(info.path);
	assert_non_null(strstr(df_error_last()->message, "No space left"));
	assert_int_equal(entries("out"), 0);
	df_backup_info_release(&info);
	df_conn_close(c);
	df_dsn_free(d);
}

/* a backup that fails --verify is kept, unverified, never under -o PATH,
 * and the error says where */
static void test_core_backup__mismatch_kept_unverified(void **state)
{
	df_dsn *d = NULL;
	df_conn *c = open_as("liar", &d);
	df_backup_opts o = { .path = "out/b.sqlite3", .verify = true };
	df_backup_info info;

	assert_int_equal(df_backup_run(&info, c, d, &o), DF_EIO);
	assert_non_null(info.path);
	assert_string_equal(info.path, "out/b.sqlite3.unverified");
	assert_int_equal(access("out/b.sqlite3", F_OK), -1);
	assert_false(info.verified);
	assert_non_null(info.mismatch);
	assert_non_null(strstr(info.mismatch, "table users has 3 rows in the backup, 4 in the database"));
	assert_non_null(strstr(df_error_last()->message, "does not match"));
	assert_non_null(strstr(df_error_last()->message, "backup not verified"));
	assert_non_null(strstr(df_error_last()->hint, "kept, unverified"));
	assert_non_null(strstr(df_error_last()->hint, "out/b.sqlite3.unverified"));
	assert_int_equal(entries("out"), 2);    /* the unverified backup and its manifest */
	df_backup_info_release(&info);
	df_conn_close(c);
	df_dsn_free(d);
}

/* -o over an existing file: refused without force; a failed verify with
 * force still leaves the earlier file as it was */
static void test_core_backup__existing_output(void **state)
{
	df_dsn *d = NULL;
	df_conn *c;
	df_backup_opts o = { .path = "keep.sqlite3" };
	df_backup_info info;
	char *text;

	df_test_write(dir, "keep.sqlite3", "earlier good backup", 19);
	assert_int_equal(df_backup_run(&info, conn, dsn, &o), DF_EUSAGE);
	assert_non_null(strstr(df_error_last()->message, "exists"));
	assert_non_null(strstr(df_error_last()->hint, "--force"));
	assert_null(info.path);
	text = slurp("keep.sqlite3");
	assert_string_equal(text, "earlier good backup");
	free(text);
	assert_int_equal(entries("."), 2);      /* test.db, keep.sqlite3: nothing left behind */

	c = open_as("liar", &d);
	o.force = true;
	o.verify = true;
	assert_int_equal(df_backup_run(&info, c, d, &o), DF_EIO);
	assert_string_equal(info.path, "keep.sqlite3.unverified");
	text = slurp("keep.sqlite3");
	assert_string_equal(text, "earlier good backup");
	free(text);
	df_backup_info_release(&info);
	df_conn_close(c);
	df_dsn_free(d);

	o.verify = false;
	assert_int_equal(df_backup_run(&info, conn, dsn, &o), 0);
	text = slurp("keep.sqlite3");
	assert_memory_equal(text, "SQLite format 3", 15);
	free(text);
	df_backup_info_release(&info);

	/* never over the database being backed up, even with force */
	o.path = "test.db";
	assert_int_equal(df_backup_run(&info, conn, dsn, &o), DF_EUSAGE);
	assert_non_null(strstr(df_error_last()->message, "the database being backed up"));
}

/* a restore checks the file first: manifest, else SQLite's header */
static void test_core_backup__restore_check(void **state)
{
	df_backup_opts o = { .path = "b.sqlite3" };
	df_backup_info info;
	df_restore_check chk;
	struct stat st;
	int fd;

	assert_int_equal(df_backup_run(&info, conn, dsn, &o), 0);
	assert_int_equal(df_restore_check_run(&chk, conn, "_migrations", "b.sqlite3"), 0);
	assert_int_equal(chk.how, DF_RESTORE_BY_MANIFEST);
	assert_true(chk.tables.nr >= 2);        /* users, empty: the target holds data */
	df_restore_check_release(&chk);

	/* one byte changed: the SHA-256 differs from the manifest's */
	assert_true((fd = open("b.sqlite3", O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 200), 1);
	close(fd);
	assert_int_equal(df_restore_check_run(&chk, conn, "_migrations", "b.sqlite3"), DF_EIO);
	assert_non_null(strstr(df_error_last()->message, "does not match its manifest"));
	df_restore_check_release(&chk);

	/* cut in half, no manifest: the header's page count says so */
	assert_int_equal(unlink("b.sqlite3.manifest"), 0);
	assert_int_equal(stat("b.sqlite3", &st), 0);
	assert_int_equal(truncate("b.sqlite3", st.st_size / 2), 0);
	assert_int_equal(df_restore_check_run(&chk, conn, "_migrations", "b.sqlite3"), DF_EIO);
	assert_non_null(strstr(df_error_last()->message, "cut short"));
	df_restore_check_release(&chk);

	/* whole, no manifest: the header vouches for it */
	df_backup_info_release(&info);
	assert_int_equal(unlink("b.sqlite3"), 0);
	assert_int_equal(df_backup_run(&info, conn, dsn, &o), 0);
	assert_int_equal(unlink("b.sqlite3.manifest"), 0);
	assert_int_equal(df_restore_check_run(&chk, conn, "_migrations", "b.sqlite3"), 0);
	assert_int_equal(chk.how, DF_RESTORE_BY_END_MARKER);
	assert_int_equal(df_restore_check_same(&chk, "b.sqlite3"), 0);
	/* changed after the check: the restore does not run it */
	assert_true((fd = open("b.sqlite3", O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "more", 4), 4);
	close(fd);
	assert_int_equal(df_restore_check_same(&chk, "b.sqlite3"), DF_EIO);
	df_restore_check_release(&chk);
	df_backup_info_release(&info);
}

static void test_core_backup__unwritable_folder(void **state)
{
	df_backup_opts o = { .path = "file/b.sqlite3" };
	df_backup_info info;

	df_test_write(dir, "file", "x", 1);     /* a file where the folder should be */
	assert_int_equal(df_backup_run(&info, conn, dsn, &o), DF_EIO);
	assert_null(info.path);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	return buf;
}

static void test_core_snapshot__sqlite_schema(void **state)
{
	char *a = NULL, *b = NULL, *text, *text2;
	struct stat st;

	assert_int_equal(df_snapshot_take(&a, conn, dsn, "local", "before-migrate"), 0);
	assert_int_equal(df_snapshot_take(&b, conn, dsn, "local", "before-migrate"), 0);
	assert_non_null(strstr(a, ".devflow/snapshots/"));
	assert_non_null(strstr(a, "-local-before-migrate"));
	assert_string_not_equal(a, b);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = slurp(a);
	text2 = slurp(b);
	assert_string_equal(text, text2);
	assert_non_null(strstr(text, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);"));
	assert_non_null(strstr(text, "CREATE INDEX users_email ON users (email);"));
	/* in creation order, schema only */
	assert_true(strstr(text, "CREATE TABLE users") < strstr(text, "CREATE INDEX users_email"));
	assert_null(strstr(text, "row-data"));
	assert_int_equal(entries(".devflow/snapshots"), 2);      /* no temporary file */
	/* a strange env or tag cannot leave the folder */
	free(b);
	assert_int_equal(df_snapshot_take(&b, conn, dsn, "../x", "a/b c"), 0);
	assert_non_null(strstr(b, ".devflow/snapshots/"));
	assert_null(strchr(b + strlen(".devflow/snapshots/"), '/'));
	free(text);
	free(text2);
	free(a);
	free(b);
}

static void test_core_backup__dsn_flags(void **state)
{
	df_dsn *d = NULL, flagged;
	df_buf q = DF_BUF_INIT, q2 = DF_BUF_INIT;

	assert_int_equal(df_dsn_parse(&d, "postgres://u:pw@h:5432/db?sslmode=require"), 0);
	assert_false(df__tool_flag(d, DF__TOOL_FLAG_CLEAN));
	df__dsn_with_flag(&flagged, &q, d, DF__TOOL_FLAG_CLEAN);
	assert_string_equal(flagged.query, "sslmode=require&df_clean=1");
	assert_true(df__tool_flag(&flagged, DF__TOOL_FLAG_CLEAN));
	assert_false(df__tool_flag(&flagged, DF__TOOL_FLAG_SCHEMA_ONLY));
	assert_string_equal(flagged.url, d->url);       /* the URL is untouched */
	df_dsn_free(d);
	assert_int_equal(df_dsn_parse(&d, "mysql://u@h/db"), 0);
	df__dsn_with_flag(&flagged, &q2, d, DF__TOOL_FLAG_SCHEMA_ONLY);
	assert_string_equal(flagged.query, "df_schema_only=1");
	assert_true(df__tool_flag(&flagged, DF__TOOL_FLAG_SCHEMA_ONLY));
	/* a prefix is not the flag */
	flagged.query = "df_clean=10";
	assert_false(df__tool_flag(&flagged, DF__TOOL_FLAG_CLEAN));
	df_dsn_free(d);
	df_buf_release(&q);
	df_buf_release(&q2);
}

static void test_core_backup__secret_file(void **state)
{
	struct df__tool_secret s;
	char buf[64] = { 0 };
	struct stat st;
	int fd;

	assert_int_equal(df__tool_secret_write(&s, "pgpass", "*:*:*:*:pw\n", 11), 0);
	if (s.fd > 0) {
		/* a memfd: 0600, readable through /proc */
		assert_string_equal(s.path, "/dev/fd/3");
		assert_int_equal(fstat(s.fd, &st), 0);
		snprintf(buf, sizeof(buf), "/proc/self/fd/%d", s.fd);
		fd = open(buf, O_RDONLY);
	} else {
		assert_int_equal(stat(s.path, &st), 0);
		fd = open(s.path, O_RDONLY);
	}
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 11);
	assert_string_equal(buf, "*:*:*:*:pw\n");
	close(fd);
	df__tool_secret_remove(&s);
	assert_null(s.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_core_backup__verified_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__default_names_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__engine_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__mismatch_kept_unverified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__unwritable_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__existing_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_backup__restore_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_snapshot__sqlite_schema, setup, teardown),
		cmocka_unit_test(test_core_backup__dsn_flags),
		cmocka_unit_test(test_core_backup__secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
