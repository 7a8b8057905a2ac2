/* Placeholder: the real splitter lands with src/sql/. */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/sql.h"

void df_stmt_list_release(df_stmt_list *list)
{
	free(list->v);
	list->v = NULL;
	list->nr = list->alloc = 0;
}

int df_sql_split(df_stmt_list *out, df_dialect dialect,
	const char *sql, size_t len, size_t *err_offset)
{
	return df_error_set(DF_EINTERNAL, "splitter not built yet");
}
