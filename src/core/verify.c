/*
 * `db verify` and the workflow's verification step: the history and the
 * schema a run left are what devflow says they are.
 *
 * The history comes from the session's plan (core/plan.c): an applied
 * file whose checksum differs, a recorded file that is gone, a row that
 * is failed or running.  The schema comes from the record the last
 * migrate or rollback left (core/schema_record.c): that record was read
 * from the database just after the run, so a live schema equal to it
 * holds every schema change the run reported; a change undone or another
 * made since shows as drift, object by object.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/verify.h"
#include "util/banned.h"

void df_verify_report_release(df_verify_report *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->findings[i].object);
		free(r->findings[i].message);
		free(r->findings[i].change);
		free(r->findings[i].version);
	}
	free(r->findings);
	free(r->drift_reason);
	free(r->recorded_at);
	memset(r, 0, sizeof(*r));
	r->drift = -1;
}

bool df_verify_needs_person(df_verify_kind k)
{
	return k != DF_VERIFY_DRIFT;
}

const char *df_verify_kind_name(df_verify_kind k)
{
	switch (k) {
	case DF_VERIFY_CHECKSUM: return "checksum_mismatch";
	case DF_VERIFY_MISSING: return "missing_file";
	case DF_VERIFY_FAILED: return "failed_migration";
	case DF_VERIFY_RUNNING: return "running_migration";
	default: return "drift";
	}
}

static int add(df_verify_report *r, df_verify_kind kind, const char *object, const char *version,
	const char *change, const char *fmt, const char *a)
{
	df_verify_finding *f = realloc(r->findings, (r->nr + 1) * sizeof(*f));
	df_buf msg = DF_BUF_INIT;

	if (!f)
		return df_error_oom();
	r->findings = f;
	f = &r->findings[r->nr];
	memset(f, 0, sizeof(*f));
	df_buf_printf(&msg, fmt, a);
	f->kind = kind;
	f->object = strdup(object ? object : "");
	f->change = change ? strdup(change) : NULL;
	f->version = version ? strdup(version) : NULL;
	f->message = df_buf_detach(&msg);
	if (!f->object || !f->message || (change && !f->change) || (version && !f->version)) {
		free(f->version);
		free(f->object);
		free(f->message);
		free(f->change);
		return df_error_oom();
	}
	r->nr++;
	return 0;
}

/* The history: every row and file as the plan set them against each other. */
static int history(df_verify_report *r, const df_plan *plan)
{
	int error = 0;

	for (size_t i = 0; i < plan->nr && !error; i++) {
		const df_plan_item *it = &plan->items[i];
		const char *file = it->mig ? it->mig->file : it->row->filename;
		const char *v = it->mig ? it->mig->version : it->row->version;

		if (it->state == DF_STATE_MISSING)
			error = add(r, DF_VERIFY_MISSING, file, v, NULL,
				"'%s' is recorded as applied but its file is gone", file);
		else if (it->state == DF_STATE_FAILED && it->row && it->row->state == DF_ROW_RUNNING)
			error = add(r, DF_VERIFY_RUNNING, file, v, NULL,
				"'%s' is recorded as running: it was interrupted halfway, or a run is applying it now",
				file);
		else if (it->state == DF_STATE_FAILED)
			error = add(r, DF_VERIFY_FAILED, file, v, NULL,
				"'%s' is recorded as failed halfway", file);
		else if (it->state == DF_STATE_APPLIED) {
			r->applied++;
			if (!it->checksum_ok)
				error = add(r, DF_VERIFY_CHECKSUM, file, v, NULL,
					"'%s' was edited after it was applied (its checksum differs)", file);
		}
	}
	return error;
}

/* The schema: the live one against the record of the last run. */
static int schema(df_verify_report *r, df_session *s)
{
	df_drift d = DF_DRIFT_INIT;
	int error;

	if ((error = df_session_drift(&d, s)) < 0)
		goto out;
	r->drift = d.drifted;
	r->drift_reason = d.reason;
	r->recorded_at = d.recorded_at;
	d.reason = d.recorded_at = NULL;
	for (size_t i = 0; d.drifted > 0 && i < d.changes.nr && !error; i++) {
		const char *c = d.changes.v[i];
		const char *obj = strlen(c) > 2 ? c + 2 : c;
		error = add(r, DF_VERIFY_DRIFT, obj, NULL, c,
			*c == '+' ? "'%s' was added outside devflow" :
			*c == '-' ? "'%s' was removed outside devflow (a change the last run made is gone)" :
			"'%s' was changed outside devflow", obj);
	}
	/* drifted with no object named: still drift */
	if (!error && d.drifted > 0 && !d.changes.nr)
		error = add(r, DF_VERIFY_DRIFT, "schema", NULL, NULL, "the %s differs from the one recorded",
			"schema");
out:
	df_drift_release(&d);
	return error;
}

int df_verify(df_verify_report *out, df_session *s, unsigned int flags)
{
	int error;

	memset(out, 0, sizeof(*out));
	out->drift = -1;
	if (!s->plan)
		return df_error_set(DF_EINTERNAL, "verify needs the session's plan");
	if ((error = history(out, s->plan)) < 0)
		return error;
	if (flags & DF_VERIFY_HISTORY_ONLY)
		return 0;
	return schema(out, s);
}
