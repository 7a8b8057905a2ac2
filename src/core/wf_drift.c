/*
 * Drift in the workflow (issue 24: never absorbed in silence).  Before a
 * migrate or rollback, the schema is compared with the one recorded after
 * the last run (df_session_drift, reads only); the preview shows it, and
 * under staging and production going over it is the gate accept_drift,
 * which a person gives (core/workflow.c gates(), core/wf_ask.c).  The run's
 * audit row says who accepted which drift, and the schema record written
 * after it keeps that drift for `db status` (core/schema_record.c).
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "core/wf_drift.h"
#include "util/banned.h"

int df__wf_drift_check(df_wf_result *res, const df_wf_opts *o, df_session *s)
{
	int error;

	if (!(res->drift = malloc(sizeof(*res->drift))))
		return df_error_oom();
	*res->drift = (df_drift)DF_DRIFT_INIT;
	if ((error = df_session_drift(res->drift, s)) < 0)
		return error;
	if (res->drift->drifted == 1 && o->accept_drift)
		res->drift_accepted = 1;
	return 0;
}

void df__wf_drift_free(df_drift *d)
{
	if (d)
		df_drift_release(d);
	free(d);
}

void df__wf_drift_summary(df_buf *summary, const df_wf_result *res, const df_wf_opts *o)
{
	if (df__wf_drift_gone_over(res, o))
		df_buf_puts(summary, " (over drift)");
}

bool df__wf_drift_gone_over(const df_wf_result *res, const df_wf_opts *o)
{
	return !o->dry_run && res->drift && res->drift->drifted == 1;
}

const char *df__wf_drift_acceptor(const df_wf_result *res, char *buf, size_t size)
{
	return res->drift_accepted ? df_whoami(buf, size) : NULL;
}

void df__wf_drift_audit(df_buf *det, const df_wf_result *res, const df_wf_opts *o,
	const df_session *s)
{
	const df_drift *d = res->drift;
	char who[DF_WHOAMI_MAX];

	if (!df__wf_drift_gone_over(res, o))
		return;
	if (det->size)
		df_buf_puts(det, "; ");
	if (res->drift_accepted)
		df_buf_printf(det, "drift accepted by %s (%s)", df__wf_drift_acceptor(res, who, sizeof(who)),
			res->drift_accepted == 1 ? "given with the run" : "answered yes");
	else
		df_buf_printf(det, "drift gone over, shown but not asked (%s policy)",
			df_policy_name(s->target->policy));
	if (d->recorded_at)
		df_buf_printf(det, ", the schema changed outside devflow since %s", d->recorded_at);
	df_buf_puts(det, ":");
	/* "+ index x; ~ table users (+ column users.hack int, - column ...)" */
	for (size_t i = 0; i < d->lines.nr; i++) {
		bool sub = d->lines.v[i][0] == ' ';
		bool more = i + 1 < d->lines.nr && d->lines.v[i + 1][0] == ' ';
		df_buf_printf(det, "%s%s%s", sub ? (d->lines.v[i - 1][0] == ' ' ? ", " : " (") :
			i ? "; " : " ", sub ? d->lines.v[i] + 2 : d->lines.v[i], sub && !more ? ")" : "");
	}
}
