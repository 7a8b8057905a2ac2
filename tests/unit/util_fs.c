/*
 * util/fs.c: files written whole (df_file_tmp_create / df_file_commit) never
 * write through a symbolic link, use unguessable names, and never replace a
 * file when asked not to.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "devflow/error.h"
#include "util/fs.h"

static char dir[] = "/tmp/df-util-fs-XXXXXX";

static char *at(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* how many names in the folder start with `prefix` */
static int count(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int write_file(const char *dest, const char *text, unsigned int flags)
{
	df_file_tmp t = DF_FILE_TMP_INIT;
	int error;

	if ((error = df_file_tmp_create(&t, dest, 0644, flags)) == 0)
		error = df_write_all(t.fd, text, strlen(text)) < 0 ? df_file_error(&t) : df_file_commit(&t);
	df_file_tmp_release(&t);
	return error;
}

static void test_fs__write_replace_and_no_leftover(void **state)
{
	df_file_tmp t = DF_FILE_TMP_INIT;

	(void)state;
	assert_int_equal(write_file(at("a.txt"), "one", 0), 0);
	assert_string_equal(get(at("a.txt")), "one");
	assert_int_equal(write_file(at("a.txt"), "two", 0), 0);
	assert_string_equal(get(at("a.txt")), "two");
	assert_int_equal(count("a.txt.tmp"), 0);
	/* the temporary name: <dest>.tmp- and 12 letters, close-on-exec */
	assert_int_equal(df_file_tmp_create(&t, at("a.txt"), 0644, 0), 0);
	assert_int_equal(strlen(t.path), strlen(at("a.txt")) + strlen(".tmp-") + 12);
	assert_true(fcntl(t.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(count("a.txt.tmp-"), 1);
	df_file_tmp_release(&t);        /* not committed: removed */
	assert_int_equal(count("a.txt.tmp-"), 0);
	assert_string_equal(get(at("a.txt")), "two");
}

static void test_fs__final_link_refused(void **state)
{
	(void)state;
	put(at("victim"), "precious");
	assert_int_equal(symlink(at("victim"), at("link.txt")), 0);
	assert_int_equal(write_file(at("link.txt"), "evil", 0), DF_EIO);
	assert_non_null(strstr(df_error_last()->message, "symbolic link"));
	assert_non_null(df_error_last()->hint);
	assert_string_equal(get(at("victim")), "precious");
	assert_int_equal(count("link.txt.tmp"), 0);
	/* named by the user: followed, the link kept, its target replaced */
	assert_int_equal(write_file(at("link.txt"), "asked for", DF_FILE_FOLLOW), 0);
	assert_string_equal(get(at("victim")), "asked for");
	{
		struct stat st;
		assert_int_equal(lstat(at("link.txt"), &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	/* a relative, dangling link named by the user: the file is made */
	assert_int_equal(symlink("made.txt", at("rel.txt")), 0);
	assert_int_equal(write_file(at("rel.txt"), "new", DF_FILE_FOLLOW), 0);
	assert_string_equal(get(at("made.txt")), "new");
}

static void test_fs__unique_never_replaces(void **state)
{
	df_file_tmp t = DF_FILE_TMP_INIT;
	char *p1 = NULL, *p2 = NULL, base[256];

	(void)state;
	put(at("victim2"), "precious");
	snprintf(base, sizeof(base), "%s", at("plan"));
	/* a link planted at the first name: neither followed nor replaced */
	assert_int_equal(symlink(at("victim2"), at("plan.md")), 0);
	assert_int_equal(df_file_tmp_create(&t, at("plan.md"), 0644, DF_FILE_NOREPLACE), 0);
	assert_int_equal(df_write_all(t.fd, "first", 5), 0);
	assert_int_equal(df_file_commit_unique(&p1, &t, base, ".md"), 0);
	df_file_tmp_release(&t);
	assert_string_equal(p1, at("plan-2.md"));
	assert_string_equal(get(p1), "first");
	assert_string_equal(get(at("victim2")), "precious");
	assert_int_equal(df_file_tmp_create(&t, at("plan.md"), 0644, DF_FILE_NOREPLACE), 0);
	assert_int_equal(df_write_all(t.fd, "second", 6), 0);
	assert_int_equal(df_file_commit_unique(&p2, &t, base, ".md"), 0);
	df_file_tmp_release(&t);
	assert_string_equal(p2, at("plan-3.md"));
	assert_string_equal(get(p1), "first");
	assert_int_equal(count("plan.md.tmp"), 0);
	free(p1);
	free(p2);
	/* df_file_commit with NOREPLACE over an existing file fails, the file kept */
	put(at("keep"), "kept");
	assert_int_equal(write_file(at("keep"), "other", DF_FILE_NOREPLACE), DF_EIO);
	assert_string_equal(get(at("keep")), "kept");
	assert_int_equal(count("keep.tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fs__write_replace_and_no_leftover),
		cmocka_unit_test(test_fs__final_link_refused),
		cmocka_unit_test(test_fs__unique_never_replaces),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
