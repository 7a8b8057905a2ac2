/*
 * The words of a diff's check (df_diff_verify()), shared by db diff and db
 * generate: the JSON fields (`verified`, `verify_ms`, and `unverified`
 * with what failed and what remains different) and the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/schema.h"
#include "util/banned.h"

json_t *cli_diff_changes_json(const df_diff *d)
{
	json_t *changes = json_array();

	for (size_t i = 0; d && i < d->nr; i++) {
		const df_change *c = &d->v[i];
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(df_obj_kind_name(c->kind)));
		json_object_set_new(o, "op", json_string(df_change_op_name(c->op)));
		json_object_set_new(o, "object", json_string(c->object));
		json_object_set_new(o, "sql", json_string(c->sql));
		json_object_set_new(o, "risk", json_string(df_review_risk_name(c->risk)));
		json_object_set_new(o, "destroys_data", json_boolean(c->destroys_data));
		json_object_set_new(o, "hazards", cli_json_strlist(&c->hazards));
		json_array_append_new(changes, o);
	}
	return changes;
}

/* "table public.a, view public.v" (at most five, then "and N more"). */
static void remaining_words(df_buf *b, const df_diff *d)
{
	for (size_t i = 0; i < d->nr && i < 5; i++)
		df_buf_printf(b, "%s%s %s", i ? ", " : "", df_change_op_name(d->v[i].op),
			d->v[i].object);
	if (d->nr > 5)
		df_buf_printf(b, " and %zu more", d->nr - 5);
}

int cli_diff_verified(struct cli_ctx *ctx, const df_verified *v, const char *what, FILE *text)
{
	df_buf b = DF_BUF_INIT;
	json_t *u;
	int error;

	json_object_set_new(ctx->result, "verified", json_boolean(v->ok));
	json_object_set_new(ctx->result, "verify_ms", json_integer(v->ms));
	cli_verbose(ctx, "verified %s on a throwaway copy in %ld ms\n", what, v->ms);
	if (v->ok) {
		if (text)
			fprintf(text, "\n-- devflow: verified: %s, applied to a throwaway copy, gives the "
				"\"to\" side\n", what);
		return 0;
	}
	u = json_object();
	json_object_set_new(u, "what", json_string(what));
	json_object_set_new(u, "failure", cli_json_str(v->failure));
	json_object_set_new(u, "remaining", cli_diff_changes_json(v->remaining));
	json_object_set_new(u, "sql", cli_json_str(v->remaining_sql));
	json_object_set_new(ctx->result, "unverified", u);
	if (text) {
		fprintf(text, "\n-- devflow: NOT VERIFIED: %s, applied to a throwaway copy, ", what);
		if (v->failure)
			fprintf(text, "fails:\n-- %s\n", v->failure);
		else {
			const char *p = v->remaining_sql ? v->remaining_sql : "";
			fprintf(text, "leaves %zu difference%s; what still differs:\n", v->remaining->nr,
				v->remaining->nr == 1 ? "" : "s");
			/* commented out: the script above stays the script */
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);
				fprintf(text, "--   %.*s\n", (int)n, p);
				p += n + (nl ? 1 : 0);
			}
		}
	}
	if (v->failure)
		df_buf_printf(&b, "%s", v->failure);
	else
		remaining_words(&b, v->remaining);
	error = df_error_set(DF_EUNVERIFIED, "%s is not verified: %s%s", what,
		v->failure ? "" : "on a throwaway copy it leaves ", b.ptr ? b.ptr : "");
	df_error_hint("devflow's own ordering or writer is wrong here: check the objects named by "
		"hand (or report it); --no-verify skips the check");
	df_buf_release(&b);
	return error;
}
