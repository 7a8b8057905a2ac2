/*
 * The words of the workflow's questions (df_ask, include/devflow/workflow.h):
 * the core says what a person must decide as data, the CLI says it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/banned.h"

static const char *answer_words(const df_ask_option *o)
{
	switch (o->kind) {
	case DF_ANSWER_YES: return "yes";
	case DF_ANSWER_NO: return "no";
	case DF_ANSWER_IN_PLACE: return "in place";
	case DF_ANSWER_GONE: return "gone";
	case DF_ANSWER_NOT_SURE: return "not sure";
	case DF_ANSWER_ACCEPT_EDIT: return "accept the edit";
	case DF_ANSWER_RESTORE_FILE: return "restore the file myself";
	case DF_ANSWER_CHANGES_GONE: return "its changes are gone";
	default: return o->answer ? o->answer : "";
	}
}

void cli_session_words(df_buf *out, const df_live_session *s)
{
	df_buf_printf(out, "pid %s (%s", s->pid, *s->user ? s->user : "unknown user");
	if (*s->client)
		df_buf_printf(out, ", %s", s->client);
	if (*s->state)
		df_buf_printf(out, ", %s", s->state);
	if (*s->since)
		df_buf_printf(out, " since %s", s->since);
	if (*s->how)
		df_buf_printf(out, "; %s", s->how);
	df_buf_printf(out, ") %s %s, %s%s drops", s->maybe ? "may be using" : "is using", s->table, s->column ? "a column of which " :
		"which ", *s->version ? s->version : "the run");
}

static void consent_words(df_buf *q, df_buf *why, const df_ask *a, const char *sel)
{
	size_t n = a->migrations, k = a->high_risk;
	bool prod = a->policy == DF_POLICY_PRODUCTION;

	if (a->drift.nr) {
		/* "the schema changed outside devflow since T: + table x, ~ table users (+ column ...)" */
		df_buf_printf(q, "The schema changed outside devflow since %s:",
			a->drift_since ? a->drift_since : "the last migrate");
		for (size_t i = 0; i < a->drift.nr; i++) {
			const char *l = a->drift.v[i];
			bool sub = l[0] == ' ', last_sub = i + 1 < a->drift.nr && a->drift.v[i + 1][0] == ' ';
			df_buf_printf(q, "%s%s%s", sub ? (a->drift.v[i - 1][0] == ' ' ? ", " : " (") :
				(i ? ", " : " "), sub ? l + 2 : l, sub && !last_sub ? ")" : "");
		}
		df_buf_puts(q, a->typed ? ". " : "; ");
	}
	if (a->typed)
		df_buf_printf(q, "Type 'yes' to %s %zu migration%s %s %s%s", a->rollback ? "revert" : "apply",
			n, n == 1 ? "" : "s", a->rollback ? "on" : "to", prod ? "PRODUCTION" : a->env,
			a->drift.nr ? " anyway" : "");
	else
		df_buf_printf(q, "%s %zu migration%s %s %s%s", a->drift.nr ? (a->rollback ? "revert" : "apply") :
			a->rollback ? "Revert" : "Apply", n, n == 1 ? "" : "s", a->rollback ? "on" : "to", a->env,
			a->drift.nr ? " anyway" : "");
	if (k)
		df_buf_printf(q, ", accepting %zu high-risk change%s", k, k == 1 ? "" : "s");
	if (a->backup)
		df_buf_puts(q, ", after a backup taken now");
	if (a->using)
		df_buf_printf(q, ", while %zu session%s %s using what it drops", a->using->nr,
			a->using->nr == 1 ? "" : "s", a->using->nr == 1 ? "is" : "are");
	if (!a->typed)
		df_buf_putc(q, '?');
	df_buf_printf(why, "the %s policy leaves this decision to a person", df_policy_name(a->policy));
	if (a->drift.nr)
		df_buf_puts(why, "; the schema recorded after this run takes the drift in, and the "
			"audit log records who accepted it");
	if (k)
		df_buf_printf(why, "; the review found %zu high-risk change%s (`devflow db review%s`)",
			k, k == 1 ? "" : "s", sel);
	for (size_t i = 0; a->using && i < a->using->nr; i++) {
		df_buf_puts(why, i ? "; " : "; ");
		cli_session_words(why, &a->using->v[i]);
	}
	if (a->using)
		df_buf_puts(why, " (a drop waits for their locks and blocks every query behind it, "
			"or breaks them: let them finish first)");
}

void cli_ask_words(df_ask *a, const char *select)
{
	const char *sel = select ? select : "";
	const char *detail = a->detail ? a->detail : "";
	df_buf q = DF_BUF_INIT, why = DF_BUF_INIT;

	if (a->kind == DF_ASK_TEXT || a->question)
		return;
	switch (a->kind) {
	case DF_ASK_CONSENT:
		consent_words(&q, &why, a, sel);
		break;
	case DF_ASK_OUT_OF_ORDER:
		df_buf_puts(&q, "Apply migrations older than the newest applied one?");
		if (a->detail)
			df_buf_puts(&why, a->detail);
		break;
	case DF_ASK_FAILED:
		df_buf_printf(&q, "Migration %s failed or was interrupted part-way. Check the database "
			"by hand: are its changes in place, or gone?", a->version);
		df_buf_printf(&why, "%s; only a person who looked at the database can say which "
			"of its statements took effect (`devflow db status%s` shows what ran)", detail, sel);
		break;
	case DF_ASK_CHECKSUM:
		df_buf_printf(&q, "The applied migration %s was edited afterwards. Accept the edited "
			"file as what was applied?", a->version);
		df_buf_printf(&why, "%s; the usual fix is to restore the applied version of the file "
			"and put new changes in a new migration", detail);
		break;
	case DF_ASK_BASELINE:
		df_buf_printf(&q, "The live schema differs from the %zu migration%s up to %s:", a->migrations,
			a->migrations == 1 ? "" : "s", a->version ? a->version : "the first");
		for (size_t i = 0; i < a->drift.nr; i++) {
			const char *l = a->drift.v[i];
			bool sub = l[0] == ' ', last_sub = i + 1 < a->drift.nr && a->drift.v[i + 1][0] == ' ';
			df_buf_printf(&q, "%s%s%s", sub ? (a->drift.v[i - 1][0] == ' ' ? ", " : " (") :
				(i ? ", " : " "), sub ? l + 2 : l, sub && !last_sub ? ")" : "");
		}
		if (a->typed)
			df_buf_printf(&q, ". Type 'yes' to record them applied on %s and accept the "
				"differences as drift", a->policy == DF_POLICY_PRODUCTION ? "PRODUCTION" : a->env);
		else
			df_buf_puts(&q, ". Record them applied and accept the differences as drift?");
		df_buf_puts(&why, "the migrations do not make the live schema; accepting records the live "
			"schema as the one devflow left, and the audit log records who accepted the differences");
		if (a->typed)
			df_buf_printf(&why, " (the %s policy leaves this decision to a person)",
				df_policy_name(a->policy));
		break;
	case DF_ASK_MISSING:
		df_buf_printf(&q, "The file of applied migration %s is gone. Were its changes "
			"removed from the database too?", a->version);
		df_buf_printf(&why, "%s; if the file was only moved or deleted by mistake, restore it "
			"(and check that devflow runs in the right project folder)", detail);
		break;
	default:
		break;
	}
	a->question = df_buf_detach(&q);
	a->why = why.size ? df_buf_detach(&why) : NULL;
	df_buf_release(&why);
	for (size_t i = 0; i < a->nr; i++) {
		df_ask_option *o = &a->options[i];
		if (!o->answer)
			o->answer = strdup(answer_words(o));
		if (!o->then && o->cmd)
			o->then = cli_cmd_string(o->cmd, sel);
	}
}

/*
 * Drift as JSON (db status's drift_changes, migrate's): one entry per
 * object, {op: added|removed|changed, object, kind, details: [...]}, from
 * df_drift.lines (an object's line, then its indented details).
 */
json_t *cli_drift_changes_json(const df_strlist *lines)
{
	json_t *list = json_array(), *cur = NULL;

	for (size_t i = 0; i < lines->nr; i++) {
		const char *c = lines->v[i];
		if (c[0] == ' ') {
			if (cur)
				json_array_append_new(json_object_get(cur, "details"), json_string(c + 2));
			continue;
		}
		cur = json_object();
		json_object_set_new(cur, "op", json_string(*c == '+' ? "added" : *c == '-' ? "removed" : "changed"));
		json_object_set_new(cur, "object", json_string(c + 2));
		/* the kind is the key's words before the name: "table", "foreign key" */
		{
			size_t best = 0;
			for (int k = 0; k < DF_OBJ_KIND_NR; k++) {
				const char *kn = df_obj_kind_name((df_obj_kind)k);
				size_t l = strlen(kn);
				if (l > best && !strncmp(c + 2, kn, l) && c[2 + l] == ' ')
					best = l;
			}
			json_object_set_new(cur, "kind", best ? json_stringn(c + 2, best) : json_null());
		}
		json_object_set_new(cur, "details", json_array());
		json_array_append_new(list, cur);
	}
	return list;
}
