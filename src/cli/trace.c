/*
 * The statement trace of a dry-run step (df_run_step.trace), rendered: the
 * locks each statement took and its time (PostgreSQL), the ALTER algorithm
 * the server chose (MariaDB), and the ACCESS EXCLUSIVE locks held while
 * later statements run.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/banned.h"

/* "AccessExclusiveLock" -> "ACCESS EXCLUSIVE", as the documentation names it */
static void mode_name(char *out, size_t size, const char *mode)
{
	size_t o = 0;

	for (const char *p = mode; *p && o + 2 < size; p++) {
		if (!strcmp(p, "Lock"))
			break;
		if (p != mode && *p >= 'A' && *p <= 'Z')
			out[o++] = ' ';
		out[o++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	}
	out[o] = '\0';
}

json_t *cli_trace_json(const df_trace *t)
{
	json_t *list = json_array();

	for (size_t i = 0; i < t->nr; i++) {
		const df_stmt_trace *s = &t->v[i];
		json_t *o = json_object(), *locks = json_array();

		json_object_set_new(o, "statement", json_integer(s->index));
		json_object_set_new(o, "line", json_integer(s->line));
		json_object_set_new(o, "sql", json_string(s->sql));
		json_object_set_new(o, "ms", json_real((double)(long)(s->ms * 1000) / 1000));
		for (size_t k = 0; k < s->nlocks; k++) {
			json_t *l = json_object();
			char mode[64];

			mode_name(mode, sizeof(mode), s->locks[k].mode);
			json_object_set_new(l, "relation", json_string(s->locks[k].relation));
			json_object_set_new(l, "mode", json_string(mode));
			json_object_set_new(l, "new", json_boolean(s->locks[k].created));
			json_array_append_new(locks, l);
		}
		if (s->algorithm) {
			json_decref(locks);
			json_object_set_new(o, "algorithm", json_string(s->algorithm));
		} else {
			json_object_set_new(o, "locks", locks);
		}
		if (s->rewritten)
			json_object_set_new(o, "ran_without_concurrently", json_true());
		if (s->holds) {
			json_t *h = json_object();

			json_object_set_new(h, "relation", json_string(s->holds));
			json_object_set_new(h, "later_statements", json_integer(s->later));
			json_object_set_new(h, "later_ms", json_real((double)(long)(s->later_ms * 1000) / 1000));
			json_object_set_new(o, "access_exclusive_held", h);
		}
		json_array_append_new(list, o);
	}
	return list;
}

void cli_trace_say(struct cli_ctx *ctx, const df_trace *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		const df_stmt_trace *s = &t->v[i];
		char mode[64];

		cli_say(ctx, "      %s%3ld%s  line %-4d %7.1f ms  %s\n", cli_c(ctx, "dim"), s->index,
			cli_c(ctx, "reset"), s->line, s->ms, s->sql);
		if (s->algorithm)
			cli_say(ctx, "              ALGORITHM=%s\n", s->algorithm);
		for (size_t k = 0; k < s->nlocks; k++) {
			mode_name(mode, sizeof(mode), s->locks[k].mode);
			cli_say(ctx, "              %s%s%s on %s%s\n",
				cli_c(ctx, !strcmp(mode, "ACCESS EXCLUSIVE") && !s->locks[k].created ?
				      "yellow" : "reset"), mode, cli_c(ctx, "reset"),
				s->locks[k].relation, s->locks[k].created ? " (new)" : "");
		}
		if (s->rewritten)
			cli_say(ctx, "              (ran without CONCURRENTLY: the real run takes SHARE "
				"UPDATE EXCLUSIVE instead)\n");
		if (s->holds)
			cli_say(ctx, "              %s! ACCESS EXCLUSIVE on %s stays held while the %ld "
				"later statement%s of this migration run (%.1f ms here): every query "
				"on %s waits for all of them%s\n", cli_c(ctx, "yellow"), s->holds,
				s->later, s->later == 1 ? "" : "s", s->later_ms, s->holds, cli_c(ctx, "reset"));
	}
}
