/*
 * What a restore checks before anything runs: that the file is the whole
 * backup (its manifest, else the receipt the audit log kept for it, else
 * the dump's own end marker), that a MySQL dump writes only into the
 * target (no USE, no CREATE DATABASE, no name qualified with another
 * database), and whether the target holds data a restore would replace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/sql.h"
#include "util/banned.h"

void df_restore_check_release(df_restore_check *c)
{
	df_strlist_release(&c->databases);
	df_strlist_release(&c->tables);
	memset(c, 0, sizeof(*c));
}

/* ---- the manifest ------------------------------------------------------- */

/* The value of "key" in devflow's own manifest (one field a line): a JSON
 * string (escapes other than \" and \\ are not written by devflow) or a
 * bare number/literal.  Malloc'd, or NULL when absent. */
static char *manifest_field(const char *text, const char *key)
{
	df_buf b = DF_BUF_INIT;
	const char *p;

	df_buf_printf(&b, "\"%s\":", key);
	if (df_buf_oom(&b) || !(p = strstr(text, b.ptr))) {
		df_buf_release(&b);
		return NULL;
	}
	p += b.size;
	df_buf_truncate(&b, 0);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			df_buf_putc(&b, *p);
		}
	} else {
		while (*p && *p != ',' && *p != '\n' && *p != '}' && *p != ' ')
			df_buf_putc(&b, *p++);
	}
	return df_buf_detach(&b);
}

/* Read `<path>.manifest`: 1 when there is one (fields set), 0 when none. */
static int manifest_read(char **engine, char **sha, uint64_t *size, const char *path)
{
	df_buf name = DF_BUF_INIT, text = DF_BUF_INIT;
	char chunk[4096], *sz = NULL;
	ssize_t n;
	int fd, error = 1;

	*engine = *sha = NULL;
	df_backup_manifest_path(&name, path);
	if (df_buf_oom(&name))
		return df_error_oom();
	if ((fd = open(name.ptr, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno == ENOENT ? 0 : df_error_set(DF_EIO, "cannot read the manifest '%s': %s",
			name.ptr, strerror(errno));
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && text.size < 65536)
		df_buf_put(&text, chunk, (size_t)n);
	close(fd);
	if (n < 0 || df_buf_oom(&text)) {
		error = df_error_set(DF_EIO, "cannot read the manifest '%s'", name.ptr);
		goto out;
	}
	*engine = manifest_field(text.ptr, "engine");
	*sha = manifest_field(text.ptr, "sha256");
	sz = manifest_field(text.ptr, "size");
	if (!*engine || !*sha || !sz || strlen(*sha) != 64) {
		error = df_error_set(DF_EIO, "the manifest '%s' is not one devflow wrote (engine, size "
			"and sha256 are missing)", name.ptr);
		df_error_hint("remove the manifest if the backup is right, and restore again");
		goto out;
	}
	*size = strtoull(sz, NULL, 10);
out:
	if (error < 0) {
		free(*engine);
		free(*sha);
		*engine = *sha = NULL;
	}
	free(sz);
	df_buf_release(&name);
	df_buf_release(&text);
	return error;
}

/* ---- the receipt in the audit log --------------------------------------- */

/* The receipt of a backup written to `path` (same file by realpath):
 * 1 with sha and size set, 0 when the audit log has none. */
static int receipt_find(char **sha, uint64_t *size, df_conn *conn, const char *table,
	const char *path)
{
	char want[PATH_MAX], have[PATH_MAX];
	df_rows *rows = NULL;
	int found = 0;

	*sha = NULL;
	if (!table || !realpath(path, want))
		return 0;
	/* no audit table, or one that cannot be read: no receipt */
	if (df_audit_read(&rows, conn, table, "backup", 0) < 0) {
		df_error_clear();
		return 0;
	}
	for (size_t i = 0; i < rows->nrows && !found; i++) {
		const char *r = df_rows_get(rows, i, 9), *end, *h, *sz;
		char *p;
		if (!r || strncmp(r, "path=", 5) || !(end = strstr(r, ";sha256=")) ||
		    !(sz = strstr(end, ";size=")))
			continue;
		if (!(p = strndup(r + 5, (size_t)(end - r - 5))))
			break;
		if (realpath(p, have) && !strcmp(have, want)) {
			h = end + 8;
			if ((size_t)(sz - h) == 64 && (*sha = strndup(h, 64))) {
				*size = strtoull(sz + 6, NULL, 10);
				found = 1;
			}
		}
		free(p);
	}
	df_rows_free(rows);
	return found;
}

/* ---- the dump's own signs of being whole -------------------------------- */

/* MySQL: mariadb-dump / mysqldump end with "-- Dump completed on ...". */
static int mysql_end_marker(bool *found, int fd, uint64_t size)
{
	char tail[512 + 1];
	uint64_t from = size > 512 ? size - 512 : 0;
	ssize_t n = pread(fd, tail, (size_t)(size - from), (off_t)from);

	if (n < 0)
		return df_error_set(DF_EIO, "cannot read the backup: %s", strerror(errno));
	tail[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!tail[i])
			tail[i] = ' ';
	*found = strstr(tail, "-- Dump completed") != NULL;
	return 0;
}

/*
 * SQLite: the header's page size times its page count (valid when the
 * "version-valid-for" number equals the change counter, as every SQLite
 * since 3.7.0 writes it) is the file's size; a shorter file was cut.
 * 1: whole; 0: cannot tell; DF_EIO: cut.
 */
static int sqlite_whole(int fd, uint64_t size, const char *path)
{
	unsigned char h[100];
	uint32_t page, pages, counter, valid_for;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16))
		return 0;
	page = (uint32_t)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	counter = (uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 | (uint32_t)h[26] << 8 | h[27];
	pages = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
	valid_for = (uint32_t)h[92] << 24 | (uint32_t)h[93] << 16 | (uint32_t)h[94] << 8 | h[95];
	if (page < 512 || (page & (page - 1)) || !pages || valid_for != counter)
		return 0;
	if (size < (uint64_t)page * pages || size % page) {
		df_error_set(DF_EIO, "the backup '%s' is cut short: %llu bytes, but its header says "
			"%u pages of %u bytes (%llu)", path, (unsigned long long)size, pages, page,
			(unsigned long long)page * pages);
		df_error_hint("nothing was restored; restore a whole copy of the backup");
		return DF_EIO;
	}
	return 1;
}

/* ---- MySQL: the databases a dump names ---------------------------------- */

enum tok_kind { T_NONE, T_WORD, T_IDENT, T_STRING, T_DOT, T_PUNCT };

struct tok {
	enum tok_kind kind;
	const char *p;          /* the word, or the inside of `...` */
	size_t len;
	bool ticks;             /* `...` with doubled backticks inside */
};

/* The scan of one statement: the last few tokens and what they named. */
struct name_scan {
	const char *target;
	df_strlist *found;
	struct tok t[4];        /* t[3] the newest */
	size_t ntok;
	struct tok first, second;
	bool db_done;           /* the DATABASE statement's name is taken */
	int error;
};

static bool word_is(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && strlen(w) == t->len && !strncasecmp(t->p, w, t->len);
}

static bool is_name(const struct tok *t)
{
	return t->kind == T_WORD || t->kind == T_IDENT;
}

/* The name of a token, unquoted. */
static void tok_name(df_buf *b, const struct tok *t)
{
	for (size_t i = 0; i < t->len; i++) {
		df_buf_putc(b, t->p[i]);
		if (t->ticks && t->p[i] == '`' && i + 1 < t->len && t->p[i + 1] == '`')
			i++;
	}
}

static void found_add(struct name_scan *s, const char *what, const struct tok *t)
{
	df_buf b = DF_BUF_INIT;

	df_buf_printf(&b, "%s`", what);
	tok_name(&b, t);
	df_buf_putc(&b, '`');
	if (df_buf_oom(&b)) {
		s->error = df_error_oom();
		return;
	}
	for (size_t i = 0; i < s->found->nr; i++)
		if (!strcmp(s->found->v[i], b.ptr)) {
			df_buf_release(&b);
			return;
		}
	if (s->found->nr < 32)
		s->error = df_strlist_take(s->found, df_buf_detach(&b));
	df_buf_release(&b);
}

/* A name that is not the target's. */
static bool other_db(const struct name_scan *s, const struct tok *t)
{
	df_buf b = DF_BUF_INIT;
	bool other;

	tok_name(&b, t);
	other = df_buf_oom(&b) || strcmp(b.ptr, s->target);
	df_buf_release(&b);
	return other;
}

/* Words before which a two-part name is `database`.`table`. */
static bool table_keyword(const struct name_scan *s, const struct tok *t)
{
	static const char *const kw[] = { "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "TABLES",
		"REFERENCES", "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "EXISTS", "CALL",
		"TRUNCATE", NULL };

	if (t->kind == T_PUNCT && t->len == 1 && *t->p == ',')
		/* lists of tables: DROP TABLE a, b; LOCK TABLES a WRITE, b READ; RENAME */
		return word_is(&s->first, "DROP") || word_is(&s->first, "LOCK") ||
			word_is(&s->first, "RENAME");
	if (word_is(t, "TO"))
		return word_is(&s->first, "RENAME");
	for (const char *const *k = kw; *k; k++)
		if (word_is(t, *k))
			return true;
	return false;
}

/* One token of a statement. */
static void scan_tok(struct name_scan *s, const struct tok *t)
{
	if (s->ntok == 0)
		s->first = *t;
	else if (s->ntok == 1)
		s->second = *t;
	memmove(s->t, s->t + 1, sizeof(s->t[0]) * 3);
	s->t[3] = *t;
	s->ntok++;
	/* USE db (any name: even the target's would switch a multi-database dump) */
	if (s->ntok == 2 && word_is(&s->first, "USE") && is_name(t)) {
		found_add(s, "USE ", t);
		return;
	}
	/* CREATE / DROP / ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] db */
	if (s->ntok >= 3 && !s->db_done && is_name(t) && !word_is(t, "IF") && !word_is(t, "NOT") &&
	    !word_is(t, "EXISTS") &&
	    (word_is(&s->second, "DATABASE") || word_is(&s->second, "SCHEMA")) &&
	    (word_is(&s->first, "CREATE") || word_is(&s->first, "DROP") || word_is(&s->first, "ALTER"))) {
		s->db_done = true;
		found_add(s, word_is(&s->first, "CREATE") ? "CREATE DATABASE " :
			word_is(&s->first, "DROP") ? "DROP DATABASE " : "ALTER DATABASE ", t);
		return;
	}
	/* keyword db . table, and db . table . column anywhere */
	if (s->ntok >= 4 && is_name(&s->t[3]) && s->t[2].kind == T_DOT && is_name(&s->t[1]) &&
	    table_keyword(s, &s->t[0]) && other_db(s, &s->t[1]))
		found_add(s, "", &s->t[1]);
	/* db . table . : three parts, the first is a database */
	if (s->ntok >= 4 && s->t[3].kind == T_DOT && is_name(&s->t[2]) && s->t[1].kind == T_DOT &&
	    is_name(&s->t[0]) && other_db(s, &s->t[0]))
		found_add(s, "", &s->t[0]);
}

/*
 * The tokens of one MySQL statement: quotes, backticks, comments; the
 * inside of an executable comment (slash-star-bang) is SQL and is read.
 */
static void scan_statement(struct name_scan *s, const char *p, size_t len)
{
	const char *end = p + len;

	s->ntok = 0;
	s->db_done = false;
	memset(&s->first, 0, sizeof(s->first));
	memset(&s->second, 0, sizeof(s->second));
	while (p < end && !s->error) {
		struct tok t = { T_NONE, p, 1, false };
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			p++;
			continue;
		}
		if (c == '#' || (c == '-' && p + 2 <= end && p[1] == '-' &&
		    (p + 2 == end || (unsigned char)p[2] <= ' '))) {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (c == '/' && p + 1 < end && p[1] == '*') {
			if (p + 2 < end && (p[2] == '!' || (p[2] == 'M' && p + 3 < end && p[3] == '!'))) {
				p += p[2] == '!' ? 3 : 4;
				while (p < end && *p >= '0' && *p <= '9')
					p++;
				continue;       /* its content is read as SQL; its end below */
			}
			for (p += 2; p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
				;
			p = p + 1 < end ? p + 2 : end;
			continue;
		}
		if (c == '*' && p + 1 < end && p[1] == '/') {
			p += 2;         /* the end of an executable comment */
			continue;
		}
		if (c == '\'' || c == '"' || c == '`') {
			const char *q = ++p;
			while (p < end) {
				if (c != '`' && *p == '\\' && p + 1 < end) {
					p += 2;
					continue;
				}
				if ((unsigned char)*p == c) {
					if (p + 1 < end && (unsigned char)p[1] == c) {
						p += 2;
						t.ticks = true;
						continue;
					}
					break;
				}
				p++;
			}
			t.kind = c == '`' ? T_IDENT : T_STRING;
			t.p = q;
			t.len = (size_t)(p - q);
			p = p < end ? p + 1 : end;
			scan_tok(s, &t);
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '$' || c >= 0x80) {
			const char *q = p;
			while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			       (*p >= '0' && *p <= '9') || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80))
				p++;
			t.kind = T_WORD;
			t.p = q;
			t.len = (size_t)(p - q);
			scan_tok(s, &t);
			continue;
		}
		t.kind = c == '.' ? T_DOT : T_PUNCT;
		p++;
		scan_tok(s, &t);
	}
}

/* Split the dump as the mariadb client does and scan every statement. */
static int mysql_names(df_strlist *found, int fd, const char *path, const char *target)
{
	struct name_scan s = { .target = target, .found = found };
	df_sql_scanner sc;
	df_buf win = DF_BUF_INIT;
	uint64_t base = 0, at = 0;
	bool eof = false;
	int error = 0;

	df_sql_scanner_init(&sc, DF_DIALECT_MYSQL);
	/* mariadb-dump's first line turns the client's sandbox mode on (no
	 * client commands after it): a command for the client, not SQL; the
	 * splitter reads it as blanks */
	static const char sandbox[] = "/*M!999999\\- enable the sandbox mode */";
	for (;;) {
		df_stmt st;
		int r = df_sql_scanner_next(&sc, &st, win.ptr, win.size, eof);
		if (r < 0) {
			char *m = strdup(df_error_last() && df_error_last()->message ?
				df_error_last()->message : "");
			if (eof) {
				/* a quote, comment or body still open at the end */
				error = df_error_set(DF_EIO, "the dump '%s' ends inside a statement (%s): "
					"it is cut short", path, m ? m : "");
				df_error_hint("nothing was restored; restore a whole copy of the backup");
			} else {
				error = df_error_set(DF_ECONFIG, "cannot read the dump '%s': %s", path,
					m ? m : "");
				df_error_hint("nothing was restored; a dump written by mariadb-dump or "
					"`" DF_ERR_CMD(0) "` splits cleanly");
				df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
			}
			free(m);
			break;
		}
		if (r == 1) {
			scan_statement(&s, win.ptr + (st.offset - base), st.len);
			if ((error = s.error) < 0)
				break;
			continue;
		}
		if (eof)
			break;
		{
			uint64_t keep = df_sql_scanner_keep_from(&sc);
			char chunk[1 << 16];
			ssize_t n;
			if (keep > base) {
				size_t drop = (size_t)(keep - base);
				memmove(win.ptr, win.ptr + drop, win.size - drop);
				df_buf_truncate(&win, win.size - drop);
				base = keep;
				df_sql_scanner_rebase(&sc, base);
			}
			n = pread(fd, chunk, sizeof(chunk), (off_t)at);
			if (n < 0) {
				error = df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
				break;
			}
			if (n == 0)
				eof = true;
			if (at == 0 && (size_t)n >= sizeof(sandbox) - 1 &&
			    !memcmp(chunk, sandbox, sizeof(sandbox) - 1))
				memset(chunk, ' ', sizeof(sandbox) - 1);
			at += (uint64_t)n;
			if (df_buf_put(&win, chunk, (size_t)n) < 0 || df_buf_oom(&win)) {
				error = df_error_oom();
				break;
			}
		}
	}
	df_buf_release(&win);
	return error;
}

/* ---- the target --------------------------------------------------------- */

/* User tables of the target (devflow's own tracking and audit tables left out). */
static int user_tables(df_strlist *out, df_conn *conn, const char *engine, const char *table)
{
	const char *sql;
	df_rows *rows = NULL;
	df_buf audit = DF_BUF_INIT;
	int error;

	if (!strcmp(engine, "sqlite"))
		sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
			"ESCAPE '\\' ORDER BY name";
	else if (!strcmp(engine, "postgres"))
		sql = "SELECT CASE WHEN n.nspname = pg_catalog.current_schema() THEN c.relname::text "
			"ELSE n.nspname || '.' || c.relname END FROM pg_catalog.pg_class c "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
			"AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1";
	else
		sql = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
			"AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";
	if ((error = df_conn_query(conn, &rows, sql, NULL, 0)) < 0)
		return error;
	df_buf_printf(&audit, "%s_audit", table ? table : "");
	for (size_t i = 0; i < rows->nrows && !error; i++) {
		const char *name = df_rows_get(rows, i, 0);
		size_t n = table ? strlen(table) : 0;
		if (!name || (table && (!strcmp(name, table) || !strcmp(name, audit.ptr) ||
		    (!strncmp(name, table, n) && !strcmp(name + n, "_meta")))))
			continue;
		error = df_strlist_push(out, name);
	}
	df_buf_release(&audit);
	df_rows_free(rows);
	return error;
}

/* ---- all of it ---------------------------------------------------------- */

static int mismatch(const char *path, const char *against, uint64_t size, uint64_t want_size,
	const char *sha, const char *want_sha)
{
	if (size != want_size)
		df_error_set(DF_EIO, "the backup '%s' has %llu bytes, but %s says %llu: it is cut short "
			"or was changed", path, (unsigned long long)size, against, (unsigned long long)want_size);
	else
		df_error_set(DF_EIO, "the backup '%s' does not match %s: its SHA-256 is %.12s..., "
			"%.12s... was recorded", path, against, sha, want_sha);
	if (!strcmp(against, "its manifest"))
		df_error_hint("nothing was restored; restore a whole copy of the backup (the file recorded "
			"when it was taken); if you changed the file on purpose, remove '%s.manifest'", path);
	else
		df_error_hint("nothing was restored; restore a whole copy of the backup (the file recorded "
			"when it was taken)");
	return DF_EIO;
}

int df_restore_check_run(df_restore_check *out, df_conn *conn, const char *table, const char *path)
{
	char *m_engine = NULL, *want_sha = NULL, sha[65];
	uint64_t want_size = 0, size = 0;
	df_identity id;
	struct stat st;
	int fd = -1, r, error;

	memset(out, 0, sizeof(*out));
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		error = df_error_set(DF_EIO, "cannot read backup '%s': %s", path, strerror(errno));
		goto out;
	}
	size = (uint64_t)st.st_size;
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->size = size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;

	/* 1. the manifest beside it; 2. the receipt of the audit log */
	if ((r = manifest_read(&m_engine, &want_sha, &want_size, path)) < 0) {
		error = r;
		goto out;
	}
	if (r) {
		if (strcmp(m_engine, id.engine)) {
			error = df_error_set(DF_ECONFIG, "'%s' is a %s backup (its manifest says), not a %s one",
				path, m_engine, id.engine);
			df_error_hint("restore it into a %s database", m_engine);
			goto out;
		}
		out->how = DF_RESTORE_BY_MANIFEST;
	} else if (receipt_find(&want_sha, &want_size, conn, table, path)) {
		out->how = DF_RESTORE_BY_RECEIPT;
	}
	if (out->how) {
		if (size == want_size && (error = df_file_sha256(sha, NULL, path)) < 0)
			goto out;
		if (size != want_size || strcmp(sha, want_sha)) {
			error = mismatch(path, out->how == DF_RESTORE_BY_MANIFEST ? "its manifest" :
				"the audit log's receipt", size, want_size, sha, want_sha);
			goto out;
		}
	}

	/* 3. the dump's own signs of being whole */
	if (!strcmp(id.engine, "sqlite")) {
		char head[16];
		if (pread(fd, head, 16, 0) != 16 || memcmp(head, "SQLite format 3", 16)) {
			error = df_error_set(DF_ECONFIG, "'%s' is not a SQLite backup (a SQLite database "
				"file, as `" DF_ERR_CMD(0) "` writes)", path);
			df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
			goto out;
		}
		if ((r = sqlite_whole(fd, size, path)) < 0) {
			error = r;
			goto out;
		}
		if (r && !out->how)
			out->how = DF_RESTORE_BY_END_MARKER;
	} else if (!strcmp(id.engine, "postgres")) {
		/* a custom archive: pg_restore reads its table of contents first
		 * and restores in one transaction, so a cut archive changes nothing */
		char head[5];
		if (pread(fd, head, 5, 0) != 5 || memcmp(head, "PGDMP", 5)) {
			error = df_error_set(DF_ECONFIG, "'%s' is not a PostgreSQL backup (a pg_dump "
				"custom-format archive, as `" DF_ERR_CMD(0) "` writes)", path);
			df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
			df_error_hint("a plain SQL dump restores with: psql -v ON_ERROR_STOP=1 -1 -f FILE");
			goto out;
		}
		if (!out->how)
			out->how = DF_RESTORE_BY_END_MARKER;
	} else if (!strcmp(id.engine, "mysql")) {
		bool marker = false;
		char head[16];
		if (pread(fd, head, 16, 0) == 16 && (!memcmp(head, "PGDMP", 5) ||
		    !memcmp(head, "SQLite format 3", 16))) {
			error = df_error_set(DF_ECONFIG, "'%s' is a %s backup, not a MySQL one", path,
				head[0] == 'P' ? "PostgreSQL" : "SQLite");
			goto out;
		}
		if (!out->how) {
			if ((error = mysql_end_marker(&marker, fd, size)) < 0)
				goto out;
			if (marker)
				out->how = DF_RESTORE_BY_END_MARKER;
		}
		/* the dump writes only into the target */
		if ((error = mysql_names(&out->databases, fd, path, id.database)) < 0)
			goto out;
		if (out->databases.nr) {
			df_buf names = DF_BUF_INIT;
			for (size_t i = 0; i < out->databases.nr; i++)
				df_buf_printf(&names, "%s%s", i ? ", " : "", out->databases.v[i]);
			error = df_error_set(DF_EGATE, "the dump '%s' names other databases than the "
				"target '%s': %s; restoring it would write outside the target", path,
				id.database, names.ptr);
			df_error_hint("take the dump of one database without --databases (mariadb-dump "
				"DATABASE > FILE, or `" DF_ERR_CMD(0) "`), or remove its CREATE DATABASE and "
				"USE lines and the names qualified with another database");
			df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
			df_buf_release(&names);
			goto out;
		}
	}

	/* what a restore would replace */
	error = user_tables(&out->tables, conn, id.engine, table);
out:
	if (fd >= 0)
		close(fd);
	free(m_engine);
	free(want_sha);
	return error;
}

int df_restore_check_same(const df_restore_check *c, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (uint64_t)st.st_dev == c->dev && (uint64_t)st.st_ino == c->ino &&
	    (uint64_t)st.st_size == c->size &&
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == c->mtime_ns)
		return 0;
	df_error_set(DF_EIO, "the backup '%s' changed after it was checked; not restoring it", path);
	df_error_hint("nothing was restored; run the restore again");
	return DF_EIO;
}
