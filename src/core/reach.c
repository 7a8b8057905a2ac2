/*
 * How a target is reached, judged twice.
 *
 * Before connecting: from what the client library will read (libpq takes
 * ?host= and ?hostaddr= over the URL's authority, then a service file,
 * then PGHOST / PGHOSTADDR), from literal names and addresses only, never
 * a name lookup: a gate must refuse "?host=remote.invalid" with no network.
 * A multi-host URL is local only when every host is.
 *
 * After connecting, before any statement: from the socket's peer
 * (getpeername) and whether TLS is in use.  A target judged local whose
 * socket reached another machine (a "localhost" that /etc/hosts sends
 * elsewhere, a library reading what devflow did not) is not local.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

int df_reach_before(df_reach *r, const df_dsn *dsn)
{
	memset(r, 0, sizeof(*r));
	r->peer_local = true;
	return df_dsn_locality(dsn, &r->local, &r->host);
}

int df_reach_after(df_reach *r, df_conn *conn)
{
	free(r->peer);
	r->peer = NULL;
	r->connected = true;
	return df_conn_transport(conn, &r->peer_local, &r->tls, &r->peer);
}

void df_reach_release(df_reach *r)
{
	free(r->host);
	free(r->peer);
	memset(r, 0, sizeof(*r));
}

bool df_reach_remote(const df_reach *r)
{
	return !r->local || (r->connected && !r->peer_local);
}

const char *df_reach_where(const df_reach *r)
{
	if (r->host)
		return r->host;
	return r->peer ? r->peer : "another machine";
}

int df_reach_tls_check(const df_reach *r, const df_target *t, df_strlist *warnings)
{
	bool require = t->conf && t->conf->require_tls;
	const char *how = !strcmp(t->dsn->engine, "postgres") ?
		"add ?sslmode=verify-full&sslrootcert=PATH (or at least sslmode=require) to the URL" :
		"add ?sslca=PATH (or at least ?ssl=true) to the URL";

	if (!r->connected || r->tls || !df_reach_remote(r) || !strcmp(t->dsn->engine, "sqlite"))
		return 0;
	if (require) {
		df_error_set(DF_ETLS, "the connection to '%s' (environment '%s') does not use TLS, "
			"and devflow.conf requires it (require_tls = true)", df_reach_where(r), t->env);
		df_error_hint("%s, and enable TLS on the server", how);
		return DF_ETLS;
	}
	if (t->policy < DF_POLICY_STAGING)
		return 0;
	return df_strlist_pushf(warnings, "the connection to '%s' (environment '%s', policy %s) "
		"does not use TLS: passwords and data cross the network in clear text; %s, "
		"and set require_tls = true in [env \"%s\"] to refuse it", df_reach_where(r), t->env,
		df_policy_name(t->policy), how, t->env);
}
