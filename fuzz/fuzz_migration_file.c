/*
 * Fuzz target for migration files (src/core/migration.c):
 * df_migration_read_file(), df_section_read(), df_section_split().
 *
 * The first byte picks the file name (modulo 4: devflow
 * 20240101000000_x.sql, golang 1_x.up.sql, flyway V1__x.sql, plain x.sql),
 * whether plain files are allowed (bit 4; always for x.sql) and the dialect
 * of the split (bits 5-6, modulo 3); the rest is the file, written into a
 * temporary folder (under /dev/shm when it exists) that this process reuses
 * (see fz_tmpdir()).
 * Checks:
 *
 *   - on success: size is the file's size; sections lie inside the file,
 *     UP before DOWN without overlap; lines are >= 1 and a non-empty
 *     section's line is the line of its first byte; the checksum is 64
 *     lower-case hex digits; df_section_read() gives the bytes at
 *     [off, off + len); split statements lie inside their section and a
 *     split error points at a line:column of the file; a DOWN section of
 *     comments only is empty (irreversible), as the splitter sees it;
 *   - on error: a message is set, and a position, if any, names the file
 *     and a line:column that exists in it;
 *   - the same text with CRLF for LF, and with a BOM prepended (or its BOM
 *     removed), reads the same way: success or failure alike, and on
 *     success the same checksum, format, version, name, directives, line
 *     numbers and emptiness, and the same section text once CRLF is read
 *     as LF (and a BOM at the start of a section is left out).
 *
 * libFuzzer (see fuzz/run.sh):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     fuzz/fuzz_migration_file.c src/core/migration.c src/sql/lexer.c src/sql/split.c \
 *     src/util/buf.c src/util/error.c src/util/strlist.c -lcrypto -o fuzz_migration_file
 *   ./fuzz_migration_file -dict=fuzz/migration_file.dict fuzz/corpus/migration_file
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/sql.h"

#include "fuzz_check.h"

#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	bool plain;
} names[] = {
	{ "20240101000000_x.sql", false },
	{ "1_x.up.sql", false },
	{ "V1__x.sql", false },
	{ "x.sql", true },
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

static char dir[256];
static const char *files[NNAMES];

static void remove_dir(void)
{
	fz_rmdir(dir, files, NNAMES);
}

static void make_dir(void)
{
	if (dir[0])
		return;
	for (size_t i = 0; i < NNAMES; i++)
		files[i] = names[i].name;
	fz_tmpdir(dir, sizeof(dir), "df-fuzz-mig", files, NNAMES);
	atexit(remove_dir);
}

/* 1 + the number of '\n' in s[0..off). */
static int line_of(const char *s, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

/* A 1-based line:column (column 0: unknown) exists in s[0..n). */
static void check_position(const char *s, size_t n, int line, int column)
{
	size_t i = 0, start, len;
	int l = 1;

	CHECK(line >= 1);
	while (l < line && i < n) {
		if (s[i++] == '\n')
			l++;
	}
	if (l != line) {
		fprintf(stderr, "line %d, but the file has %d\n", line, l);
		CHECK(!"error position past the last line");
	}
	start = i;
	while (i < n && s[i] != '\n')
		i++;
	len = i - start;
	if (column < 0 || (size_t)column > len + 1) {
		fprintf(stderr, "column %d of line %d, which has %zu bytes\n", column, line, len);
		CHECK(!"error column outside its line");
	}
}

static void check_error(const char *path, const char *s, size_t n)
{
	const df_error *e = df_error_last();

	CHECK(e && e->message && *e->message);
	if (e->line || e->column) {
		CHECK(e->file && !strcmp(e->file, path));
		check_position(s, n, e->line, e->column);
	}
}

/*
 * No dialect finds a statement in s[0..n), and no line starts with ';' or a
 * client command ('\\g', DELIMITER), and there is no U+FEFF (white space to
 * the splitter at the start of a section, not to devflow): only white space
 * and comments.
 */
static bool only_comments(const char *s, size_t n)
{
	df_stmt_list l = DF_STMT_LIST_INIT;
	bool bol = true, none = true;
	size_t e;

	if (memchr(s, '\0', n) || memmem(s, n, "\xef\xbb\xbf", 3))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (bol && (s[i] == ';' || s[i] == '\\'))
			return false;
		if (s[i] == '\n')
			bol = true;
		else if (!strchr(" \t\r\f\v", s[i]))
			bol = false;
		if (i + 9 <= n && !strncasecmp(s + i, "delimiter", 9))
			return false;
	}
	for (int d = 0; d < 3 && none; d++) {
		none = df_sql_split(&l, (df_dialect)d, s, n, &e) == 0 && l.nr == 0;
		df_stmt_list_release(&l);
	}
	df_error_clear();
	return none;
}

static void check_section(const df_section *sec, const char *path, const char *s,
	size_t n, df_dialect d, bool down)
{
	df_stmt_list stmts = DF_STMT_LIST_INIT;
	char *text;
	size_t len;

	if (!sec->path)
		return;
	CHECK(!strcmp(sec->path, path));
	CHECK(sec->off <= n && sec->len <= n - sec->off);
	CHECK(sec->line >= 1);
	if (sec->len)
		CHECK(sec->line == line_of(s, (size_t)sec->off));
	CHECK(df_section_read(&text, &len, sec) == 0);
	CHECK(len == sec->len && !memcmp(text, s + sec->off, len) && text[len] == '\0');
	free(text);
	if (df_section_split(&stmts, sec, d) < 0) {
		check_error(path, s, n);
		CHECK(df_error_last()->line >= 1);
	} else {
		for (size_t i = 0; i < stmts.nr; i++)
			CHECK(stmts.v[i].offset >= sec->off &&
				stmts.v[i].offset + stmts.v[i].len <= sec->off + sec->len);
		if (down && !stmts.nr && !sec->empty && only_comments(s + sec->off, (size_t)sec->len)) {
			fprintf(stderr, "section at line %d has only comments but is not empty\n", sec->line);
			CHECK(!"a section of comments is not marked empty");
		}
	}
	df_stmt_list_release(&stmts);
}

/* Read `path` holding s[0..n); runs the checks that need only this file. */
static int read_and_check(df_migration *m, const char *path, bool plain,
	const char *s, size_t n, df_dialect d)
{
	int r;

	df_error_clear();
	fz_write_file(path, s, n);
	r = df_migration_read_file(m, path, plain);
	if (r < 0) {
		CHECK(r == DF_ECONFIG || r == DF_EIO);
		check_error(path, s, n);
		return r;
	}
	CHECK(m->size == n);
	CHECK(m->version && m->name && m->file && m->path && !strcmp(m->path, path));
	CHECK(strlen(m->checksum) == 64);
	for (size_t i = 0; i < 64; i++)
		CHECK((m->checksum[i] >= '0' && m->checksum[i] <= '9') ||
			(m->checksum[i] >= 'a' && m->checksum[i] <= 'f'));
	CHECK(m->up.path);
	check_section(&m->up, path, s, n, d, false);
	if (m->down.path) {
		CHECK(m->down.path == m->up.path);
		check_section(&m->down, path, s, n, d, true);
		CHECK(m->up.off + m->up.len <= m->down.off);
	}
	return 0;
}

/* s[0..n) with every "\r\n" read as "\n". */
static char *crlf_as_lf(const char *s, size_t n, size_t *out_n)
{
	char *o = malloc(n + 1);
	size_t j = 0;

	CHECK(o);
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			o[j++] = s[i];
	*out_n = j;
	return o;
}

static void same_section(const df_section *a, const char *sa, size_t na,
	const df_section *b, const char *sb, size_t nb)
{
	char *x, *y;
	size_t nx, ny;

	CHECK(!a->path == !b->path);
	if (!a->path)
		return;
	CHECK(a->line == b->line);
	CHECK(a->empty == b->empty);
	CHECK(a->off <= na && b->off <= nb);
	x = crlf_as_lf(sa + a->off, (size_t)a->len, &nx);
	y = crlf_as_lf(sb + b->off, (size_t)b->len, &ny);
	/* a section from the file's start holds its BOM, which the splitter skips */
	if (!a->off && nx >= 3 && !memcmp(x, "\xef\xbb\xbf", 3)) {
		nx -= 3;
		memmove(x, x + 3, nx);
	}
	if (!b->off && ny >= 3 && !memcmp(y, "\xef\xbb\xbf", 3)) {
		ny -= 3;
		memmove(y, y + 3, ny);
	}
	if (nx != ny || memcmp(x, y, nx)) {
		fprintf(stderr, "section text differs: '%.*s' vs '%.*s'\n", (int)nx, x, (int)ny, y);
		CHECK(!"section text differs");
	}
	free(x);
	free(y);
}

static void same_migration(const df_migration *a, const char *sa, size_t na,
	const df_migration *b, const char *sb, size_t nb)
{
	CHECK(!strcmp(a->checksum, b->checksum));
	CHECK(a->format == b->format);
	CHECK(a->no_transaction == b->no_transaction);
	CHECK(!strcmp(a->version, b->version) && !strcmp(a->name, b->name));
	same_section(&a->up, sa, na, &b->up, sb, nb);
	same_section(&a->down, sa, na, &b->down, sb, nb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	df_migration m, v;
	char path[512], *crlf, *bom;
	const char *s;
	size_t n, k, cn = 0, bn;
	df_dialect d;
	bool plain;
	int r, rv, which;

	if (size < 1)
		return 0;
	make_dir();
	which = data[0] % 4;
	plain = names[which].plain || (data[0] & 0x10);
	d = (df_dialect)((data[0] >> 5) % 3);
	snprintf(path, sizeof(path), "%s/%s", dir, names[which].name);
	s = (const char *)data + 1;
	n = size - 1;

	r = read_and_check(&m, path, plain, s, n, d);

	/* CRLF for every LF that has no CR before it */
	for (k = 0; k < n; k++)
		cn += s[k] == '\n' && (k == 0 || s[k - 1] != '\r');
	if (cn) {
		crlf = malloc(n + cn);
		CHECK(crlf);
		cn = 0;
		for (k = 0; k < n; k++) {
			if (s[k] == '\n' && (k == 0 || s[k - 1] != '\r'))
				crlf[cn++] = '\r';
			crlf[cn++] = s[k];
		}
		rv = read_and_check(&v, path, plain, crlf, cn, d);
		if ((r < 0) != (rv < 0)) {
			fprintf(stderr, "LF: %s; CRLF: %s\n", r < 0 ? "error" : "ok",
				df_error_last() ? df_error_last()->message : "ok");
			CHECK(!"CRLF reads differently from LF");
		}
		if (r == 0 && rv == 0)
			same_migration(&m, s, n, &v, crlf, cn);
		if (rv == 0)
			df_migration_release(&v);
		free(crlf);
	}

	/* with a BOM, or without the one it has (unless another follows) */
	bom = NULL;
	bn = 0;
	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		if (!(n >= 6 && !memcmp(s + 3, "\xef\xbb\xbf", 3))) {
			bn = n - 3;
			bom = malloc(bn + 1);
			CHECK(bom);
			memcpy(bom, s + 3, bn);
		}
	} else {
		bn = n + 3;
		bom = malloc(bn);
		CHECK(bom);
		memcpy(bom, "\xef\xbb\xbf", 3);
		memcpy(bom + 3, s, n);
	}
	if (bom) {
		rv = read_and_check(&v, path, plain, bom, bn, d);
		if ((r < 0) != (rv < 0)) {
			fprintf(stderr, "as is: %s; BOM toggled: %s\n", r < 0 ? "error" : "ok",
				df_error_last() ? df_error_last()->message : "ok");
			CHECK(!"a BOM changes how the file reads");
		}
		if (r == 0 && rv == 0)
			same_migration(&m, s, n, &v, bom, bn);
		if (rv == 0)
			df_migration_release(&v);
		free(bom);
	}
	if (r == 0)
		df_migration_release(&m);
	return 0;
}
