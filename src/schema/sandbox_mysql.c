/*
 * What a file loaded into a scratch database may do: MySQL/MariaDB
 * statements, classified on the review's tokens (review/lex.c) after
 * df_sql_split() (sandbox.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/sandbox_int.h"
#include "util/banned.h"

/* The object word of CREATE/ALTER/DROP: the first of the known ones among
 * the statement's first tokens (past OR REPLACE, DEFINER = ..., TEMPORARY,
 * UNIQUE, ALGORITHM = ... and the like). */
static const char *object_word(const char *s, const rstmt *st, char *buf, size_t size)
{
	static const char *const objects[] = {
		"table", "view", "index", "trigger", "function", "procedure", "event", "sequence",
		"database", "schema", "user", "role", "server", "tablespace", "logfile", "instance",
		"package", "type", "domain", "virtual", "aggregate", NULL,
	};
	for (size_t i = 1; i < st->ntok && i < 24; i++) {
		if (st->tok[i].kind != RT_WORD || st->tok[i].depth)
			continue;
		df__sb_tok_word(s, st, i, buf, size);
		if (df__sb_word_in(buf, objects))
			return buf;
	}
	buf[0] = '\0';
	return buf;
}

/* MySQL: anything in the statement that reaches outside, wherever it is
 * (also inside CREATE TABLE ... SELECT, or a routine's body). */
void df__sandbox_my_anywhere(const char *s, const rstmt *st, const df_strlist *dbs, struct sb_finding *f)
{
	char w[96], x[96], y[96];

	for (size_t i = 0; i < st->ntok && !df__sb_severe(f); i++) {
		if (!df__sb_is_word(st, i))
			continue;
		df__sb_tok_word(s, st, i, w, sizeof(w));
		if (st->tok[i].kind == RT_WORD) {
			if (!strcmp(w, "load_file") && df__tok_ch(st, i + 1, '('))
				df__sb_found(f, SB_OUTSIDE, "LOAD_FILE()", NULL);
			else if (!strcmp(w, "into") && i + 1 < st->ntok &&
			    (!strcmp(df__sb_tok_word(s, st, i + 1, x, sizeof(x)), "outfile") || !strcmp(x, "dumpfile")))
				df__sb_found(f, SB_OUTSIDE, "SELECT ... INTO OUTFILE", NULL);
			else if (!strcmp(w, "prepare") && df__sb_is_word(st, i + 1) &&
			    !strcmp(df__sb_tok_word(s, st, i + 2, x, sizeof(x)), "from"))
				df__sb_found(f, SB_CODE, "PREPARE ... FROM (dynamic SQL)", NULL);
			else if ((!strcmp(w, "engine") || !strcmp(w, "connection")) && df__tok_ch(st, i + 1, '=')) {
				static const char *const remote[] = { "federated", "federatedx", "connect", "spider", NULL };
				if (!strcmp(w, "connection"))
					df__sb_found(f, SB_OUTSIDE, "a table with CONNECTION= (another server's table)", NULL);
				else if (df__sb_word_in(df__sb_tok_word(s, st, i + 2, x, sizeof(x)), remote)) {
					for (char *p = x; *p; p++)
						*p = (char)(*p - 32);
					df__sb_found(f, SB_OUTSIDE, "a table of ENGINE=%s (another server's table)", x);
				}
			} else if ((!strcmp(w, "data") || !strcmp(w, "index")) &&
			    !strcmp(df__sb_tok_word(s, st, i + 1, x, sizeof(x)), "directory"))
				df__sb_found(f, SB_OUTSIDE, "%s DIRECTORY (a table's files elsewhere)", !strcmp(w, "data") ? "DATA" : "INDEX");
		}
		/* a qualified name: db.t, db.t.c, db.* */
		if (df__tok_ch(st, i + 1, '.') && !(i > 0 && df__tok_ch(st, i - 1, '.')) &&
		    (df__sb_is_word(st, i + 2) || df__tok_ch(st, i + 2, '*'))) {
			bool three = df__tok_ch(st, i + 3, '.') && df__sb_is_word(st, i + 4);
			bool known = false;
			for (size_t k = 0; dbs && k < dbs->nr && !known; k++)
				known = df__sb_ieq(w, dbs->v[k]);
			if (known || three) {
				snprintf(y, sizeof(y), "%.40s.%.40s", w, df__sb_tok_word(s, st, i + 2, x, sizeof(x)));
				df__sb_found(f, SB_OTHER_DB, "%s", y);
			}
		}
	}
}

/* The statement's kind from its first words. */
static void my_head(const char *s, const rstmt *st, struct sb_finding *f)
{
	static const char *const server_objects[] = {
		"database", "schema", "user", "role", "server", "tablespace", "logfile", "instance", NULL,
	};
	static const char *const dml[] = {
		"insert", "replace", "update", "delete", "select", "with", "truncate", "call", "do",
		"handler", "lock", "unlock", "values", "table", "analyze", "optimize", "repair",
		"check", "checksum", NULL,
	};
	static const char *const server[] = {
		"grant", "revoke", "install", "uninstall", "flush", "reset", "purge", "kill",
		"shutdown", "change", "start", "stop", "binlog", "cache", "xa", "backup", "restart", NULL,
	};
	static const char *const fine[] = {
		"begin", "commit", "rollback", "savepoint", "release", "show", "describe", "desc",
		"explain", "help", NULL,
	};
	char w0[64], w1[64], ob[64];

	df__sb_tok_word(s, st, 0, w0, sizeof(w0));
	df__sb_tok_word(s, st, 1, w1, sizeof(w1));
	if (!strcmp(w0, "create") || !strcmp(w0, "alter") || !strcmp(w0, "drop")) {
		object_word(s, st, ob, sizeof(ob));
		if (df__sb_word_in(ob, server_objects)) {
			char k[96];
			snprintf(k, sizeof(k), "%.30s %.30s", w0, ob);
			for (char *p = k; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			df__sb_found(f, SB_SERVER, "%s", k);
		} else if (!ob[0]) {
			df__sb_found(f, SB_UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
		}
	} else if (!strcmp(w0, "rename")) {
		if (strcmp(w1, "table") && strcmp(w1, "tables"))
			df__sb_found(f, SB_SERVER, "RENAME USER", NULL);
	} else if (!strcmp(w0, "set")) {
		char w[64];
		for (size_t i = 1; i < st->ntok && !df__sb_severe(f); i++) {
			df__sb_tok_word(s, st, i, w, sizeof(w));
			if (i == 1 && (!strcmp(w, "password") || !strcmp(w, "role") || !strcmp(w, "default")))
				df__sb_found(f, SB_SERVER, "SET %s", !strcmp(w, "password") ? "PASSWORD" : "ROLE");
			else if (!strcmp(w, "global") || !strcmp(w, "persist") || !strcmp(w, "persist_only"))
				df__sb_found(f, SB_SERVER, "SET GLOBAL", NULL);
			else if (i == 1 && !strcmp(w, "statement"))
				df__sb_found(f, SB_DML, "SET STATEMENT ... FOR", NULL);
		}
	} else if (!strcmp(w0, "use")) {
		df__sb_found(f, SB_OTHER_DB, "USE %s", w1);
	} else if (!strcmp(w0, "load")) {
		df__sb_found(f, SB_OUTSIDE, "LOAD %s", !strcmp(w1, "xml") ? "XML" : "DATA");
	} else if (!strcmp(w0, "prepare") || !strcmp(w0, "execute") || !strcmp(w0, "deallocate")) {
		df__sb_found(f, SB_CODE, "%s (dynamic SQL)", !strcmp(w0, "prepare") ? "PREPARE" :
			!strcmp(w0, "execute") ? "EXECUTE" : "DEALLOCATE");
	} else if (df__sb_word_in(w0, server)) {
		char k[64];
		snprintf(k, sizeof(k), "%s", w0);
		for (char *p = k; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		df__sb_found(f, !strcmp(w0, "start") && !strcmp(w1, "transaction") ? SB_OK : SB_SERVER, "%s", k);
	} else if (df__sb_word_in(w0, dml)) {
		char k[64];
		snprintf(k, sizeof(k), "%s", w0);
		for (char *p = k; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		df__sb_found(f, SB_DML, "%s", k);
	} else if (!df__sb_word_in(w0, fine)) {
		df__sb_found(f, SB_UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
	}
}

/* Statements inside routine bodies (a CALL or a trigger runs them later:
 * only what reaches outside counts there) start after ';', BEGIN, THEN,
 * ELSE, DO, LOOP, REPEAT or a label's ':'. */
static void my_body(const char *s, const rstmt *st, struct sb_finding *f)
{
	static const char *const openers[] = { "begin", "then", "else", "do", "loop", "repeat", NULL };
	char w[32];

	for (size_t i = 2; i < st->ntok && !df__sb_severe(f); i++) {
		const rtok *p = &st->tok[i - 1];
		rstmt sub;
		if (!(p->kind == RT_OP && (p->ch == ';' || p->ch == ':')) &&
		    !(p->kind == RT_WORD && df__sb_word_in(df__sb_tok_word(s, st, i - 1, w, sizeof(w)), openers)))
			continue;
		if (!df__sb_is_word(st, i))
			continue;
		struct sb_finding g = { .v = SB_OK, .allow_dml = true };
		sub = *st;
		sub.tok = st->tok + i;
		sub.ntok = st->ntok - i;
		my_head(s, &sub, &g);
		if (df__sb_severe(&g))
			df__sb_found(f, g.v, "%s", g.what);
	}
}

void df__sandbox_my_statement(const char *s, const rstmt *st, const df_strlist *dbs, struct sb_finding *f)
{
	char w0[16], ob[64];

	my_head(s, st, f);
	df__sb_tok_word(s, st, 0, w0, sizeof(w0));
	if (!df__sb_severe(f) && !strcmp(w0, "create")) {
		object_word(s, st, ob, sizeof(ob));
		if (!strcmp(ob, "procedure") || !strcmp(ob, "function") || !strcmp(ob, "trigger") ||
		    !strcmp(ob, "event"))
			my_body(s, st, f);
	}
	df__sandbox_my_anywhere(s, st, dbs, f);
}

/*
 * MariaDB runs the text of executable comments (slash-star-bang, with an
 * optional version; slash-star-M-bang): blank their markers, keeping every
 * offset, so the tokens are the statement the server runs.
 */
void df__sandbox_my_open_comments(char *s, size_t n)
{
	char q = 0;

	for (size_t i = 0; i < n; i++) {
		if (q) {
			if (s[i] == '\\' && q != '`' && i + 1 < n)
				i++;
			else if (s[i] == q)
				q = 0;
			continue;
		}
		if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
			q = s[i];
		} else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-' &&
		    (i + 2 >= n || (unsigned char)s[i + 2] <= ' ')) {
			/* "-- " is a comment; "--1" is minus minus one */
			while (i < n && s[i] != '\n')
				i++;
		} else if (s[i] == '#') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			size_t j = i + 2;
			if (j < n && s[j] == 'M')
				j++;
			if (j < n && s[j] == '!') {
				j++;
				while (j < n && s[j] >= '0' && s[j] <= '9')
					j++;
				memset(s + i, ' ', j - i);
				/* the closing star-slash, outside quotes */
				for (size_t k = j; k + 1 < n; k++) {
					if (s[k] == '\'' || s[k] == '"' || s[k] == '`') {
						char c = s[k];
						for (k++; k < n && s[k] != c; k++)
							if (s[k] == '\\' && c != '`')
								k++;
						continue;
					}
					if (s[k] == '*' && s[k + 1] == '/') {
						s[k] = s[k + 1] = ' ';
						break;
					}
				}
				i = j - 1;
			} else {
				const char *e = strstr(s + i + 2, "*/");
				i = e ? (size_t)(e - s) + 1 : n;
			}
		}
	}
}
