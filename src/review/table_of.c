/*
 * The table a reviewed statement acts on, from its first words: what the
 * impact estimate looks up in the catalog.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "devflow/review.h"
#include "util/banned.h"

/* Next word or quoted identifier of `p` into w; returns the rest. */
static const char *word(char *w, size_t size, const char *p)
{
	size_t n = 0;

	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '"' || *p == '`' || *p == '[') {
		char close = *p == '[' ? ']' : *p;
		for (p++; *p && *p != close && n + 1 < size; p++)
			w[n++] = *p;
		if (*p)
			p++;
		if (*p == '.' && n + 2 < size) {
			/* schema.table: keep the dot and the rest */
			w[n++] = '.';
			return word(w + n, size - n, p + 1);
		}
	} else {
		while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '$') && n + 1 < size)
			w[n++] = *p++;
	}
	w[n] = '\0';
	return p;
}

static bool is(const char *w, const char *kw)
{
	return !strcasecmp(w, kw);
}

int df_review_table_of(char *out, size_t size, const char *stmt)
{
	char w[128];
	const char *p = stmt;

	out[0] = '\0';
	if (!stmt)
		return -1;
	p = word(w, sizeof(w), p);
	if (is(w, "ALTER") || is(w, "DROP") || is(w, "TRUNCATE") || is(w, "LOCK")) {
		bool drop_index = false;
		if (!is(w, "TRUNCATE") && !is(w, "LOCK")) {
			p = word(w, sizeof(w), p);
			if (is(w, "INDEX"))
				drop_index = true;
			else if (!is(w, "TABLE"))
				return -1;
		}
		if (drop_index)
			return -1;      /* the index name is known, its table is not */
		for (;;) {
			p = word(w, sizeof(w), p);
			if (!(is(w, "TABLE") || is(w, "IF") || is(w, "EXISTS") || is(w, "ONLY") || is(w, "CONCURRENTLY")))
				break;
		}
	} else if (is(w, "CREATE")) {
		/* CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table */
		const char *on = NULL;
		for (const char *s = p; *s; s++)
			if ((s == p || isspace((unsigned char)s[-1])) && !strncasecmp(s, "ON", 2) &&
			    isspace((unsigned char)s[2])) {
				on = s + 2;
				break;
			}
		if (!on)
			return -1;
		p = word(w, sizeof(w), on);
		if (is(w, "ONLY"))
			p = word(w, sizeof(w), p);
	} else if (is(w, "UPDATE")) {
		p = word(w, sizeof(w), p);
		if (is(w, "ONLY"))
			p = word(w, sizeof(w), p);
	} else if (is(w, "DELETE") || is(w, "INSERT")) {
		p = word(w, sizeof(w), p);      /* FROM / INTO */
		p = word(w, sizeof(w), p);
		if (is(w, "ONLY"))
			p = word(w, sizeof(w), p);
	} else if (is(w, "VACUUM") || is(w, "CLUSTER") || is(w, "REINDEX")) {
		do
			p = word(w, sizeof(w), p);
		while (is(w, "FULL") || is(w, "TABLE") || is(w, "VERBOSE") || is(w, "ANALYZE") ||
		       is(w, "CONCURRENTLY"));
	} else {
		return -1;
	}
	if (!w[0] || !(isalpha((unsigned char)w[0]) || w[0] == '_'))
		return -1;
	snprintf(out, size, "%s", w);
	return 0;
}
