#ifndef CORE_WF_INT_H
#define CORE_WF_INT_H

/*
 * The state of one workflow run, shared by workflow.c (prepare, gates,
 * execute) and wf_after.c (what comes after the run).
 */
#include <stdbool.h>

#include "devflow/schema.h"
#include "devflow/session.h"
#include "devflow/workflow.h"

struct wf {
	df_session *s;
	const df_wf_opts *o;
	const df_wf_sink *sink;
	df_wf_result *res;
	df_verb verb;           /* DF_VERB_MIGRATE or DF_VERB_ROLLBACK */
	const char *op;         /* "migrate" or "rollback": the audit log's */
	df_schema *before, *after;      /* the schema models around the run */
	bool stop;              /* the sink said stop */
};

/* Report an event to the sink; 1 when the sink said stop. */
static inline int df__wf_emit(struct wf *w, const df_wf_event *ev)
{
	if (w->sink && w->sink->event && w->sink->event(ev, w->sink->payload) != 0)
		w->stop = true;
	return w->stop;
}

static inline void df__wf_warn(struct wf *w, df_wf_warning kind, const char *text, const char *detail)
{
	df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_WARNING, .warning = kind, .text = text, .detail = detail });
}

/* wf_after.c */
char *df__wf_rollback_plan(struct wf *w);
char *df__wf_snapshot(struct wf *w, const char *tag, const df_schema *model, char **model_path);
df_schema *df__wf_read_model(struct wf *w, df_conn *conn, const char *when);
void df__wf_read_after_in_tx(void *data, df_conn *conn);
void df__wf_schema_changes(struct wf *w, int error);
void df__wf_record_schema(struct wf *w);
int df__wf_after_hooks(struct wf *w);

#endif
