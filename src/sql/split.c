/*
 * Splitting a whole buffer into statements, on top of the incremental
 * scanner in lexer.c; dialect names; statement positions.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/sql.h"

#include "util/banned.h"

static const struct {
	const char *name;
	df_dialect dialect;
} dialect_names[] = {
	{ "sqlite", DF_DIALECT_SQLITE },
	{ "postgres", DF_DIALECT_POSTGRES },
	{ "mysql", DF_DIALECT_MYSQL },
	{ "sqlite3", DF_DIALECT_SQLITE },
	{ "postgresql", DF_DIALECT_POSTGRES },
	{ "mariadb", DF_DIALECT_MYSQL },
};

/* ASCII case-insensitive equality, whatever the locale. */
static int name_is(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

const char *df_dialect_name(df_dialect d)
{
	switch (d) {
	case DF_DIALECT_SQLITE:
		return "sqlite";
	case DF_DIALECT_POSTGRES:
		return "postgres";
	case DF_DIALECT_MYSQL:
		return "mysql";
	}
	return "unknown";
}

int df_dialect_parse(df_dialect *out, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(dialect_names) / sizeof(dialect_names[0]); i++) {
		if (name_is(name, dialect_names[i].name)) {
			*out = dialect_names[i].dialect;
			return 0;
		}
	}
	df_error_set(DF_EUSAGE, "unknown SQL dialect '%s'", name);
	df_error_hint("use sqlite, postgres or mysql");
	return -1;
}

void df_stmt_list_release(df_stmt_list *list)
{
	free(list->v);
	list->v = NULL;
	list->nr = list->alloc = 0;
}

static int stmt_list_push(df_stmt_list *list, const df_stmt *st)
{
	if (list->nr == list->alloc) {
		size_t alloc = list->alloc ? list->alloc * 2 : 16;
		df_stmt *v;

		if (alloc > SIZE_MAX / sizeof(*v) ||
		    !(v = realloc(list->v, alloc * sizeof(*v))))
			return df_error_oom();
		list->v = v;
		list->alloc = alloc;
	}
	list->v[list->nr++] = *st;
	return 0;
}

int df_sql_split(df_stmt_list *out, df_dialect dialect,
	const char *sql, size_t len, size_t *err_offset)
{
	size_t nr = out->nr;
	df_sql_scanner sc;
	df_stmt st;
	int error;

	df_sql_scanner_init(&sc, dialect);
	while ((error = df_sql_scanner_next(&sc, &st, sql, len, true)) > 0)
		if ((error = stmt_list_push(out, &st)) < 0)
			break;
	if (error < 0) {
		/* leave the list as it was */
		if (nr == 0)
			df_stmt_list_release(out);
		out->nr = nr;
		if (err_offset && error == DF_ESQL)
			*err_offset = (size_t)sc.error_offset;
		return error;
	}
	return 0;
}

/*
 * Lines end at '\n' (so "\r\n" counts once); the column counts bytes from
 * 1, not counting a UTF-8 byte order mark at the start of the text.
 */
void df_sql_position(const char *text, size_t len, size_t offset,
	int *line, int *column)
{
	const char *p = text, *end, *nl;
	size_t bol = 0;
	int n = 1;

	if (offset > len)
		offset = len;
	end = text + offset;
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
	}
	bol = (size_t)(p - text);
	if (bol == 0 && offset >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		bol = 3;
	*line = n;
	*column = (int)(offset - bol) + 1;
}
