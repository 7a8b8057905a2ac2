/*
 * The plan: the migration files set against the tracking table.  Every file
 * is applied, pending or failed; every row without a file is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/sha256.h"
#include "util/banned.h"

const char *df_mig_state_name(df_mig_state s)
{
	switch (s) {
	case DF_STATE_APPLIED: return "applied";
	case DF_STATE_PENDING: return "pending";
	case DF_STATE_FAILED: return "failed";
	default: return "missing";
	}
}

const char *df_problem_kind_name(df_problem_kind k)
{
	switch (k) {
	case DF_PROBLEM_CHECKSUM: return "checksum_mismatch";
	case DF_PROBLEM_MISSING: return "missing_file";
	case DF_PROBLEM_FAILED: return "failed_migration";
	default: return "out_of_order";
	}
}

void df_plan_free(df_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->problems_nr; i++) {
		free(plan->problems[i].version);
		free(plan->problems[i].message);
	}
	free(plan->problems);
	free(plan->items);
	free(plan);
}

static int add_problem(df_plan *plan, df_problem_kind kind, const char *version,
	const char *fmt, const char *a, const char *b)
{
	df_problem *p = realloc(plan->problems, (plan->problems_nr + 1) * sizeof(*p));
	df_buf msg = DF_BUF_INIT;

	if (!p)
		return df_error_oom();
	plan->problems = p;
	p = &plan->problems[plan->problems_nr];
	df_buf_printf(&msg, fmt, a, b);
	p->kind = kind;
	p->version = strdup(version ? version : "");
	p->message = df_buf_detach(&msg);
	if (!p->version || !p->message) {
		free(p->version);
		free(p->message);
		return df_error_oom();
	}
	plan->problems_nr++;
	return 0;
}

static bool row_matches(const df_ledger_row *r, const df_migration *m)
{
	size_t n;

	if (!strcmp(r->filename, m->file))
		return true;
	n = strlen(r->filename);
	/* rows written without the extension, or a version-only row */
	if (!strncmp(m->file, r->filename, n) && !strcmp(m->file + n, ".sql"))
		return true;
	return r->version && *r->version && !strcmp(r->filename, r->version) &&
		!df_version_cmp(r->version, m->version);
}

static int cmp_item(const void *a, const void *b)
{
	const df_plan_item *x = a, *y = b;
	const char *vx = x->mig ? x->mig->version : x->row->version;
	const char *vy = y->mig ? y->mig->version : y->row->version;

	bool rx = x->mig ? x->mig->repeatable : !*vx, ry = y->mig ? y->mig->repeatable : !*vy;

	if (rx != ry)
		return rx ? 1 : -1;
	if (x->mig && y->mig)
		return df_migration_order(x->mig, y->mig);
	return df_version_cmp(vx, vy);
}

int df_plan_build(df_plan **out, df_migration_set *set, df_ledger *ledger)
{
	df_plan *plan;
	bool *used = NULL;
	const char *newest = NULL;
	size_t cursor = 0;
	int error = 0;

	*out = NULL;
	if (!(plan = calloc(1, sizeof(*plan))) ||
	    !(plan->items = calloc(set->nr + ledger->nr + 1, sizeof(*plan->items))) ||
	    !(used = calloc(ledger->nr + 1, sizeof(*used)))) {
		error = df_error_oom();
		goto out;
	}
	plan->set = set;
	plan->ledger = ledger;
	for (size_t i = 0; i < set->nr; i++) {
		const df_migration *m = &set->v[i];
		df_plan_item *it = &plan->items[plan->nr++];
		const df_ledger_row *row = NULL;
		df_row_check check;

		/* rows are usually in file order: look from where we left off */
		for (size_t k = 0; k < ledger->nr && !row; k++) {
			size_t j = (cursor + k) % ledger->nr;
			if (!used[j] && row_matches(&ledger->v[j], m)) {
				row = &ledger->v[j];
				used[j] = true;
				cursor = j + 1;
			}
		}
		it->mig = m;
		it->row = row;
		it->checksum_ok = true;
		if (!row) {
			it->state = DF_STATE_PENDING;
			plan->pending++;
			continue;
		}
		if (row->state != DF_ROW_APPLIED) {
			it->state = DF_STATE_FAILED;
			/* "halfway" only where statements ran: another tool's
			 * failed mark counts none (row->error says whose) */
			if ((error = add_problem(plan, DF_PROBLEM_FAILED, m->version,
				row->state == DF_ROW_RUNNING ?
				"migration '%s' was interrupted halfway (state running)%s" :
				row->statements_done > 0 ? "migration '%s' failed halfway and needs a person%s" :
				row->statements_done == 0 ? "migration '%s' failed at its first statement and needs a person%s" :
				row->error && !strncmp(row->error, "failed under ", 13) ?
				"migration '%s' %s and needs a person" : "migration '%s' failed and needs a person%s",
				m->file, row->error && !strncmp(row->error, "failed under ", 13) ? row->error : "")) < 0)
				goto out;
			continue;
		}
		if (m->repeatable && row->checksum && strcmp(row->checksum, m->checksum)) {
			/* a repeatable runs again whenever it changes */
			it->state = DF_STATE_PENDING;
			plan->pending++;
			continue;
		}
		it->state = DF_STATE_APPLIED;
		plan->applied++;
		if (m->repeatable)
			continue;
		if ((error = df_ledger_row_check(&check, row, m)) < 0) {
			df_error_clear();       /* an unreadable UP: not known to be unchanged */
			check = DF_ROW_UP_EDITED;
			error = 0;
		}
		it->down_edited = check == DF_ROW_DOWN_EDITED;
		if (check == DF_ROW_UP_EDITED) {
			it->checksum_ok = false;
			if ((error = add_problem(plan, DF_PROBLEM_CHECKSUM, m->version,
				"applied migration '%s' was edited after it was applied%s", m->file, "")) < 0)
				goto out;
		}
		if (!newest || df_version_cmp(m->version, newest) > 0)
			newest = m->version;
	}
	for (size_t j = 0; j < ledger->nr; j++) {
		df_plan_item *it;
		if (used[j])
			continue;
		it = &plan->items[plan->nr++];
		it->state = DF_STATE_MISSING;
		it->row = &ledger->v[j];
		it->checksum_ok = false;
		if ((error = add_problem(plan, DF_PROBLEM_MISSING, ledger->v[j].version,
			"'%s' is recorded as applied but its file is gone%s", ledger->v[j].filename, "")) < 0)
			goto out;
		if (ledger->v[j].state == DF_ROW_APPLIED && ledger->v[j].version && *ledger->v[j].version &&
		    (!newest || df_version_cmp(ledger->v[j].version, newest) > 0))
			newest = ledger->v[j].version;
	}
	qsort(plan->items, plan->nr, sizeof(*plan->items), cmp_item);
	for (size_t i = 0; newest && i < plan->nr; i++) {
		df_plan_item *it = &plan->items[i];
		if (it->state == DF_STATE_PENDING && !it->mig->repeatable &&
		    df_version_cmp(it->mig->version, newest) < 0) {
			it->out_of_order = true;
			if ((error = add_problem(plan, DF_PROBLEM_OUT_OF_ORDER, it->mig->version,
				"pending '%s' is older than the newest applied migration %s",
				it->mig->file, newest)) < 0)
				goto out;
		}
	}
	*out = plan;
	plan = NULL;
out:
	free(used);
	df_plan_free(plan);
	return error;
}

const df_problem *df_plan_blocker(const df_plan *plan)
{
	static const df_problem_kind order[] = {
		DF_PROBLEM_FAILED, DF_PROBLEM_CHECKSUM, DF_PROBLEM_MISSING,
	};

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (size_t i = 0; i < plan->problems_nr; i++)
			if (plan->problems[i].kind == order[k])
				return &plan->problems[i];
	return NULL;
}

void df_plan_pending_hash(char out[65], const df_plan *plan, const char *to)
{
	df_sha256 ctx;

	df_sha256_init(&ctx);
	for (size_t i = 0; i < plan->nr; i++) {
		const df_plan_item *it = &plan->items[i];
		if (it->state != DF_STATE_PENDING)
			continue;
		if (to && (it->mig->repeatable || df_version_cmp(it->mig->version, to) > 0))
			break;
		df_sha256_update(&ctx, it->mig->file, strlen(it->mig->file));
		df_sha256_update(&ctx, ":", 1);
		df_sha256_update(&ctx, it->mig->checksum, 64);
		df_sha256_update(&ctx, "\n", 1);
	}
	df_sha256_hex(&ctx, out);
}

void df_migs_hash(char out[65], const df_migration *const *migs, size_t n, const char *label)
{
	df_sha256 ctx;

	df_sha256_init(&ctx);
	df_sha256_update(&ctx, label, strlen(label));
	for (size_t i = 0; i < n; i++) {
		df_sha256_update(&ctx, "\n", 1);
		df_sha256_update(&ctx, migs[i]->file, strlen(migs[i]->file));
		df_sha256_update(&ctx, ":", 1);
		df_sha256_update(&ctx, migs[i]->checksum, 64);
	}
	df_sha256_hex(&ctx, out);
}
