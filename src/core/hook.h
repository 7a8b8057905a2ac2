#ifndef DF_CORE_HOOK_H
#define DF_CORE_HOOK_H

#include "devflow/core.h"

/*
 * The environment a hook gets: devflow's own (`env`, environ when NULL)
 * less every variable that holds a credential -- the URL and password
 * conventions devflow and the client libraries read (DATABASE_URL,
 * DEVFLOW_URL, DB_PASSWORD, PGPASSWORD, MYSQL_PWD, ...), every ${VAR} a
 * `url` of devflow.conf names, and any variable whose value holds the
 * target's password -- plus DEVFLOW_ENV=<the environment>.  *out is a
 * NULL-terminated array: the pointers into `env` are borrowed, the array
 * and the DEVFLOW_ENV string are the caller's (df__hook_env_free()).
 */
int df__hook_env(char ***out, char *const *env, const df_config *cfg, const df_target *t);
void df__hook_env_free(char **env);

/*
 * Run `cmd` with /bin/sh -c, started with posix_spawn: its stdout goes to
 * devflow's stderr (stdout is the result's), its environment is
 * df__hook_env()'s, and it inherits no descriptor devflow opened (they are
 * all close-on-exec).  Returns its exit status (128 + N for signal N), or
 * -1 when it could not start.
 */
int df__hook_run(const char *cmd, const df_config *cfg, const df_target *t);

#endif
