/*
 * What a file loaded into a scratch database may do: SQLite statements,
 * classified on the review's tokens (review/lex.c) after df_sql_split()
 * (sandbox.c).  The scratch database is also confined by its connection
 * (an authorizer, see the driver's sandbox method).
 */
#include <string.h>

#include "schema/sandbox_int.h"
#include "util/banned.h"

void df__sandbox_lite_statement(const char *s, const rstmt *st, struct sb_finding *f)
{
	static const char *const dml[] = {
		"insert", "replace", "update", "delete", "select", "with", "values", NULL,
	};
	static const char *const fine[] = {
		"create", "alter", "drop", "pragma", "begin", "commit", "end", "rollback",
		"savepoint", "release", "analyze", "reindex", "explain", NULL,
	};
	char w0[64], w[64];

	df__sb_tok_word(s, st, 0, w0, sizeof(w0));
	if (!strcmp(w0, "attach") || !strcmp(w0, "detach")) {
		df__sb_found(f, SB_OUTSIDE, !strcmp(w0, "attach") ? "ATTACH DATABASE" : "DETACH DATABASE", NULL);
	} else if (!strcmp(w0, "vacuum")) {
		for (size_t i = 1; i < st->ntok; i++)
			if (!strcmp(df__sb_tok_word(s, st, i, w, sizeof(w)), "into"))
				df__sb_found(f, SB_OUTSIDE, "VACUUM INTO", NULL);
	} else if (df__sb_word_in(w0, dml)) {
		for (char *p = w0; *p; p++)
			*p = (char)(*p - 32);
		df__sb_found(f, SB_DML, "%s", w0);
	} else if (!df__sb_word_in(w0, fine)) {
		df__sb_found(f, SB_UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
	}
}
