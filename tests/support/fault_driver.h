#ifndef DF_FAULT_DRIVER_H
#define DF_FAULT_DRIVER_H

#include "devflow/sys/driver.h"

/*
 * A driver named "fault" that wraps the real SQLite driver and fails its Nth
 * call (counting every method but open/close/identity): the error path of
 * every step of a run can be exercised.  fault_driver_arm(0) disarms.
 */
extern const df_driver df_fault_driver;
/* "fault-nontx": the same without DF_CAP_TRANSACTIONAL_DDL (MySQL's path). */
extern const df_driver df_fault_driver_nontx;
void fault_driver_arm(long fail_at);
/* Stop failing; the call count stays readable. */
void fault_driver_disarm(void);
long fault_driver_calls(void);

#endif
