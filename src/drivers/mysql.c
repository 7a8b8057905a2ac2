/* Placeholder until the mysql driver lands: refuses every connection. */
#include "devflow/error.h"
#include "devflow/sys/driver.h"

static int stub_open(df_conn **out, const df_dsn *dsn)
{
	*out = 0;
	return df_error_set(DF_EUSAGE, "the mysql driver is not built yet");
}

const df_driver df_driver_mysql = {
	.version = DF_DRIVER_VERSION, .name = "mysql",
	.dialect = DF_DIALECT_MYSQL, .open = stub_open,
};
