/*
 * What a statement is, from its first words: the statements that cannot
 * run in a transaction, a migration's own transaction control, the
 * excerpt messages quote.  Pure text; the runner, the migration reader and
 * the lock tracer all ask here.
 */
#include <stdbool.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/sql.h"

/* The first `max` keywords of a statement, upper-cased, space-separated. */
static void first_words(char *out, size_t size, const char *sql, size_t len, int max)
{
	size_t o = 0, i = 0;
	int words = 0;

	while (i < len && words < max && o + 2 < size) {
		while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
			i++;
		if (i + 1 < len && sql[i] == '-' && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
			continue;
		}
		if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*') {
			const char *end = memmem(sql + i + 2, len - i - 2, "*/", 2);
			i = end ? (size_t)(end - sql) + 2 : len;
			continue;
		}
		if (i >= len)
			break;
		if (o)
			out[o++] = ' ';
		while (i < len && o + 1 < size && ((sql[i] >= 'a' && sql[i] <= 'z') ||
		       (sql[i] >= 'A' && sql[i] <= 'Z') || sql[i] == '_'))
			out[o++] = (char)(sql[i] >= 'a' && sql[i] <= 'z' ? sql[i] - 32 : sql[i]), i++;
		if (i < len && !((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z') ||
		    sql[i] == '_' || sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
			break;      /* stop at the first non-word token */
		words++;
	}
	out[o] = '\0';
}

/*
 * PostgreSQL statements that cannot run inside a transaction block; NULL
 * when `sql` is not one of them.
 */
const char *df__needs_no_tx(const char *sql, size_t len)
{
	char w[128];

	first_words(w, sizeof(w), sql, len, 6);
	if (!strncmp(w, "CREATE INDEX CONCURRENTLY", 25) ||
	    !strncmp(w, "CREATE UNIQUE INDEX CONCURRENTLY", 32))
		return "CREATE INDEX CONCURRENTLY";
	if (!strncmp(w, "DROP INDEX CONCURRENTLY", 23))
		return "DROP INDEX CONCURRENTLY";
	if (!strncmp(w, "REINDEX", 7) && strstr(w, "CONCURRENTLY"))
		return "REINDEX CONCURRENTLY";
	if (!strncmp(w, "REINDEX SYSTEM", 14) || !strncmp(w, "REINDEX DATABASE", 16))
		return w[8] == 'S' ? "REINDEX SYSTEM" : "REINDEX DATABASE";
	if (!strncmp(w, "VACUUM", 6))
		return "VACUUM";
	if (!strncmp(w, "CREATE DATABASE", 15) || !strncmp(w, "DROP DATABASE", 13))
		return w[0] == 'C' ? "CREATE DATABASE" : "DROP DATABASE";
	if (!strncmp(w, "ALTER SYSTEM", 12))
		return "ALTER SYSTEM";
	if (!strncmp(w, "CREATE TABLESPACE", 17) || !strncmp(w, "DROP TABLESPACE", 15))
		return "a TABLESPACE statement";
	return NULL;
}

/*
 * Transaction control a migration does itself (BEGIN, START TRANSACTION,
 * COMMIT, END, ROLLBACK, ABORT; not SAVEPOINT and ROLLBACK TO); NULL for
 * any other statement.  BEGIN ... END blocks of procedures and triggers
 * are inside CREATE statements, never at the start of one.
 */
const char *df__tx_control(const char *sql, size_t len)
{
	char w[64];

	first_words(w, sizeof(w), sql, len, 3);
	if (!strcmp(w, "BEGIN") || !strncmp(w, "BEGIN TRANSACTION", 17) || !strncmp(w, "BEGIN WORK", 10) ||
	    !strncmp(w, "BEGIN DEFERRED", 14) || !strncmp(w, "BEGIN IMMEDIATE", 15) ||
	    !strncmp(w, "BEGIN EXCLUSIVE", 15) || !strncmp(w, "BEGIN ISOLATION", 15) ||
	    !strncmp(w, "BEGIN READ", 10))
		return "BEGIN";
	if (!strncmp(w, "START TRANSACTION", 17))
		return "START TRANSACTION";
	if (!strcmp(w, "COMMIT") || !strncmp(w, "COMMIT ", 7) || !strcmp(w, "END") ||
	    !strncmp(w, "END TRANSACTION", 15) || !strncmp(w, "END WORK", 8))
		return "COMMIT";
	if ((!strcmp(w, "ROLLBACK") || !strncmp(w, "ROLLBACK ", 9) || !strcmp(w, "ABORT") ||
	     !strncmp(w, "ABORT ", 6)) && !strstr(w, " TO"))
		return "ROLLBACK";
	return NULL;
}

/* The statement's first line, cut at 60 bytes, for messages. */
void df__statement_excerpt(df_buf *b, const char *sql, size_t len)
{
	size_t i = 0, n;

	while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
		i++;
	n = i;
	while (n < len && n - i < 60 && sql[n] != '\n' && sql[n] != '\r')
		n++;
	df_buf_put(b, sql + i, n - i);
	if (n < len && sql[n] != '\n' && sql[n] != '\r')
		df_buf_puts(b, "...");
}
