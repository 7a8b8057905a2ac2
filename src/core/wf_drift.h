#ifndef CORE_WF_DRIFT_H
#define CORE_WF_DRIFT_H

/* Drift in the workflow (core/wf_drift.c): checked, gone over, audited. */
#include "devflow/buf.h"
#include "devflow/session.h"
#include "devflow/workflow.h"

/* Compare the schema with the record before the run (reads only): fills
 * res->drift, and res->drift_accepted when opts.accept_drift accepts it. */
int df__wf_drift_check(df_wf_result *res, const df_wf_opts *o, df_session *s);
void df__wf_drift_free(df_drift *d);
/* A failed run's audit summary: " (over drift)" when it went over drift. */
void df__wf_drift_summary(df_buf *summary, const df_wf_result *res, const df_wf_opts *o);
/* The run goes over drift: not a dry-run, and the schema changed outside devflow. */
bool df__wf_drift_gone_over(const df_wf_result *res, const df_wf_opts *o);
/* Who accepted it ("user@host" in `buf`), or NULL when nobody was asked (local). */
const char *df__wf_drift_acceptor(const df_wf_result *res, char *buf, size_t size);
/* The audit row's detail on drift the run went over (appended to `det`):
 * who accepted which drift and how, or that it was only shown. */
void df__wf_drift_audit(df_buf *det, const df_wf_result *res, const df_wf_opts *o,
	const df_session *s);

#endif
