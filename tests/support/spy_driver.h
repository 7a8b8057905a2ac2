#ifndef DF_SPY_DRIVER_H
#define DF_SPY_DRIVER_H

#include "devflow/sys/driver.h"

/*
 * A driver named "spy" that wraps a real connection (SQLite's) and counts
 * the writes it sees: every migration statement (exec), every transaction
 * (begin, commit), and every query of the core's that is not a read.  The
 * workflow's tests use it to show that df_wf_prepare writes nothing.
 * df_spy_register() registers it with the driver registry (once).
 */
extern const df_driver df_spy_driver;
void df_spy_register(void);
/* Wrap the open connection `inner` (the spy owns it from now on). */
int df_spy_wrap(df_conn **out, df_conn *inner);
void df_spy_reset(void);
long df_spy_writes(void);
long df_spy_reads(void);
/* The first write seen since the reset, or NULL. */
const char *df_spy_first_write(void);

#endif
