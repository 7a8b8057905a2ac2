#include "devflow/error.h"
#include "devflow/sys/driver.h"
static int stub_open(df_conn **out, const df_dsn *dsn) { *out = 0; return df_error_set(DF_EUSAGE, "todo"); }
const df_driver df_driver_sqlite = { .version = DF_DRIVER_VERSION, .name = "sqlite", .dialect = DF_DIALECT_SQLITE, .open = stub_open };
