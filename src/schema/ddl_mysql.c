/* MySQL/MariaDB DDL for the diff. */
#include "devflow/error.h"
#include "schema/diff_int.h"
#include "util/banned.h"

static unsigned int my_classify(const df_object *f, const df_object *t, const df_schema *sf,
	const df_schema *st)
{
	return DF__ALTER_RECREATE;
}

static int my_create(df_buf *b, const df_object *o, const df_schema *sf, const df_schema *st)
{
	return df_error_set(DF_EINTERNAL, "MySQL DDL is not built yet");
}

static int my_drop(df_buf *b, const df_object *o)
{
	return df_error_set(DF_EINTERNAL, "MySQL DDL is not built yet");
}

static int my_alter(df_buf *b, unsigned int *flags, df_strlist *hz, const df_object *f,
	const df_object *t, const df_schema *sf, const df_schema *st)
{
	return df_error_set(DF_EINTERNAL, "MySQL DDL is not built yet");
}

static bool my_absorbed(const df_object *o)
{
	return true;
}

const df__ddl df__ddl_mysql = {
	.equal = df__object_equal,
	.classify = my_classify,
	.create = my_create,
	.drop = my_drop,
	.alter = my_alter,
	.absorbed = my_absorbed,
};
