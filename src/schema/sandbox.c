/*
 * What a file loaded into a scratch database may do.
 *
 * db diff loads schema.sql, and db generate replays the migrations, into a
 * throwaway database by running them with the target's credentials.  Before
 * any statement runs, every statement is checked against an allow-list:
 * statements that create, change or drop objects of the throwaway database,
 * SET, transaction control and (for the replay only) data statements on the
 * throwaway database's own tables.  Refused: statements that act on the
 * server or cluster (databases, roles, grants on the server, ALTER SYSTEM,
 * tablespaces, plugins, replication), statements that reach files, programs
 * or other servers (COPY ... PROGRAM, COPY to or from a server file, LOAD,
 * LOAD DATA, INTO OUTFILE, dblink, foreign data, FEDERATED/CONNECT tables),
 * code that cannot be checked beforehand (DO blocks, dynamic SQL), a name
 * qualified with another database, and data statements in a schema file.
 *
 * PostgreSQL statements are classified on libpg_query's parse tree (every
 * node of it is walked: a function call or three-part name nested in a
 * CREATE TABLE ... AS is found too); MySQL/MariaDB and SQLite statements on
 * the review's tokens (review/lex.c), after df_sql_split() (the splitter the
 * runner uses).  SQLite's scratch database is also confined by its
 * connection (an authorizer, see the driver's sandbox method).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/sql.h"
#include "review/review_int.h"
#include "schema/schema_int.h"
#include "util/lazy.h"
#include "util/banned.h"

enum verdict {
	OK = 0,
	DML,            /* data: allowed in the replay of migrations only */
	SERVER,         /* acts on the server or cluster */
	OUTSIDE,        /* reaches files, programs or other servers */
	CODE,           /* runs code that cannot be checked beforehand */
	OTHER_DB,       /* a name qualified with another database */
	UNCHECKED,      /* not a statement the list knows */
	UNPARSED,       /* PostgreSQL: libpg_query cannot parse it (a syntax error) */
};

struct finding {
	enum verdict v;
	bool allow_dml;         /* the replay of migrations: data is fine */
	char what[96];          /* the statement kind or the name found */
	size_t at;              /* UNPARSED: byte offset of the error in the statement */
};

/* Found something that reaches outside (the checks stop there). */
static bool severe(const struct finding *f)
{
	return f->v != OK && f->v != DML && f->v != UNCHECKED;
}

/* Record a finding; one that reaches outside replaces data or an unknown
 * kind found before it (its reason says more). */
static void found(struct finding *f, enum verdict v, const char *fmt, const char *arg)
{
	if (v == DML && f->allow_dml)
		return;
	if (severe(f) || (f->v != OK && (v == DML || v == UNCHECKED)))
		return;
	f->v = v;
	snprintf(f->what, sizeof(f->what), fmt, arg ? arg : "");
}

static bool ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		int y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* ---- tokens (review/lex.c) ----------------------------------------------------- */

/* Token i's text, unquoted and lower-cased, in out. */
static const char *tok_word(const char *s, const rstmt *st, size_t i, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	if (i >= st->ntok || (st->tok[i].kind != RT_WORD && st->tok[i].kind != RT_QIDENT))
		return out;
	{
		const char *p = s + st->tok[i].off, *e = p + st->tok[i].len;
		if (st->tok[i].kind == RT_QIDENT && e - p >= 2)
			p++, e--;
		for (; p < e && o + 1 < size; p++)
			out[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	}
	out[o] = '\0';
	return out;
}

static bool is_word(const rstmt *st, size_t i)
{
	return i < st->ntok && (st->tok[i].kind == RT_WORD || st->tok[i].kind == RT_QIDENT);
}

static bool word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

/* ---- PostgreSQL ----------------------------------------------------------- */

typedef PgQuery__Node Node;

static const char *pg_str(const Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : NULL;
}

/* The last part of a function name (a list of String nodes). */
static const char *pg_func_name(Node *const *parts, size_t n)
{
	return n ? pg_str(parts[n - 1]) : NULL;
}

/* Server functions that read or write files, signal other sessions, reload
 * the configuration, run SQL text given as a string, or reach other
 * servers. */
static bool pg_bad_function(const char *name)
{
	static const char *const exact[] = {
		"pg_read_file", "pg_read_binary_file", "pg_stat_file", "lo_import", "lo_export",
		"pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync",
		"pg_logdir_ls", "pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend",
		"pg_reload_conf", "pg_rotate_logfile", "pg_logfile_rotate", "pg_promote",
		"pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop",
		"pg_start_backup", "pg_stop_backup", "pg_drop_replication_slot",
		"pg_wal_replay_pause", "pg_wal_replay_resume", "query_to_xml",
		"query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
		"cursor_to_xmlschema", "set_config",
	};
	if (!name)
		return false;
	if (!strncmp(name, "dblink", 6) || !strncmp(name, "pg_ls_", 6) ||
	    !strncmp(name, "pg_create_", 10) || !strncmp(name, "pg_replication_", 15) ||
	    !strncmp(name, "pg_copy_", 8))
		return true;
	for (size_t i = 0; i < sizeof(exact) / sizeof(*exact); i++)
		if (!strcmp(name, exact[i]))
			return true;
	return false;
}

/*
 * Walk every message of the tree: a RangeVar with a catalog (database) name
 * and calls of the functions above are refused wherever they are.
 * set_config is allowed only as pg_dump writes it (a SELECT of it alone,
 * checked by the caller, which passes allow_set_config).
 */
static void pg_walk(const ProtobufCMessage *m, struct finding *f, bool allow_set_config, int depth)
{
	const ProtobufCMessageDescriptor *d;
	const char *base = (const char *)m;

	if (!m || severe(f))
		return;
	if (depth > 2000) {
		found(f, UNCHECKED, "a statement nested too deeply to check", NULL);
		return;
	}
	d = m->descriptor;
	if (!strcmp(d->short_name, "RangeVar")) {
		const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
		if (rv->catalogname && rv->catalogname[0]) {
			char name[96];
			snprintf(name, sizeof(name), "%.30s.%.30s.%.30s", rv->catalogname,
				rv->schemaname ? rv->schemaname : "", rv->relname ? rv->relname : "");
			found(f, OTHER_DB, "%s", name);
		}
	} else if (!strcmp(d->short_name, "FuncCall")) {
		const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
		const char *name = pg_func_name(fc->funcname, fc->n_funcname);
		if (pg_bad_function(name) && !(allow_set_config && !strcmp(name, "set_config")))
			found(f, OUTSIDE, "a call of %s()", name);
	}
	for (unsigned i = 0; i < d->n_fields && !severe(f); i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + fd->quantifier_offset);
			ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)(const void *)(base + fd->offset);
			for (size_t k = 0; k < n && v; k++)
				pg_walk(v[k], f, allow_set_config, depth + 1);
			continue;
		}
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(const void *)(base + fd->quantifier_offset) != fd->id)
			continue;
		pg_walk(*(ProtobufCMessage *const *)(const void *)(base + fd->offset), f,
			allow_set_config, depth + 1);
	}
}

static bool pg_cluster_object(PgQuery__ObjectType t)
{
	return t == PG_QUERY__OBJECT_TYPE__OBJECT_DATABASE || t == PG_QUERY__OBJECT_TYPE__OBJECT_ROLE ||
		t == PG_QUERY__OBJECT_TYPE__OBJECT_TABLESPACE ||
		t == PG_QUERY__OBJECT_TYPE__OBJECT_SUBSCRIPTION ||
		t == PG_QUERY__OBJECT_TYPE__OBJECT_PARAMETER_ACL;
}

static const char *pg_object_word(PgQuery__ObjectType t)
{
	switch (t) {
	case PG_QUERY__OBJECT_TYPE__OBJECT_DATABASE: return "DATABASE";
	case PG_QUERY__OBJECT_TYPE__OBJECT_ROLE: return "ROLE";
	case PG_QUERY__OBJECT_TYPE__OBJECT_TABLESPACE: return "TABLESPACE";
	case PG_QUERY__OBJECT_TYPE__OBJECT_SUBSCRIPTION: return "SUBSCRIPTION";
	case PG_QUERY__OBJECT_TYPE__OBJECT_PARAMETER_ACL: return "PARAMETER";
	case PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_SERVER: return "SERVER";
	case PG_QUERY__OBJECT_TYPE__OBJECT_FDW: return "FOREIGN DATA WRAPPER";
	case PG_QUERY__OBJECT_TYPE__OBJECT_LARGEOBJECT: return "LARGE OBJECT";
	default: return "";
	}
}

/* SELECT [pg_catalog.]set_config(...), ... with nothing else: pg_dump's way
 * of setting search_path. */
static bool pg_only_set_config(const PgQuery__SelectStmt *s)
{
	if (!s->n_target_list || s->n_from_clause || s->where_clause || s->with_clause ||
	    s->into_clause || s->larg || s->rarg)
		return false;
	for (size_t i = 0; i < s->n_target_list; i++) {
		const Node *t = s->target_list[i];
		const Node *v = t && t->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t->res_target->val : NULL;
		const char *name;
		if (!v || v->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
			return false;
		const Node *a;
		const char *setting;
		name = pg_func_name(v->func_call->funcname, v->func_call->n_funcname);
		if (!name || strcmp(name, "set_config") || !v->func_call->n_args)
			return false;
		/* a setting named by a constant, and not SET ROLE's in disguise */
		a = v->func_call->args[0];
		if (!a || a->node_case != PG_QUERY__NODE__NODE_A_CONST ||
		    a->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL || !a->a_const->sval)
			return false;
		setting = a->a_const->sval->sval;
		if (!setting || ieq(setting, "role") || ieq(setting, "session_authorization"))
			return false;
	}
	return true;
}

static const char *pg_defelem_str(Node *const *opts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i] && opts[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
		    !strcmp(opts[i]->def_elem->defname, name))
			return pg_str(opts[i]->def_elem->arg);
	return NULL;
}

/* The string of a DefElem of `opts` named `name` (a List's first String
 * too: a function's AS). */
static const char *pg_defelem_text(Node *const *opts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const Node *a;
		if (!opts[i] || opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM ||
		    strcmp(opts[i]->def_elem->defname, name))
			continue;
		a = opts[i]->def_elem->arg;
		if (a && a->node_case == PG_QUERY__NODE__NODE_LIST && a->list->n_items)
			return pg_str(a->list->items[0]);
		return pg_str(a);
	}
	return NULL;
}

static bool tok_word_is(const char *s, const rstmt *st, size_t i, const char *w)
{
	char b[64];
	return i < st->ntok && st->tok[i].kind == RT_WORD && !strcmp(tok_word(s, st, i, b, sizeof(b)), w);
}

/*
 * The body of a PL/pgSQL or SQL function or DO block.  Without EXECUTE
 * (refused) every statement it can run is written in it, so its words
 * show what it does: what a statement of the file may not do, a body may
 * not either.  Data statements are fine there (triggers write audit rows).
 */
static void pg_body(const char *body, struct finding *f)
{
	static const char *const server_objects[] = {
		"role", "user", "database", "tablespace", "server", "subscription", "system", NULL,
	};
	rlex lx;
	rstmt st;
	char w[64], x[64];

	df__rlex_init(&lx, DF_DIALECT_POSTGRES, body, strlen(body));
	while (df__rlex_next(&lx, &st) > 0 && !severe(f)) {
		for (size_t i = 0; i < st.ntok && !severe(f); i++) {
			if (st.tok[i].kind != RT_WORD)
				continue;
			tok_word(body, &st, i, w, sizeof(w));
			tok_word(body, &st, i + 1, x, sizeof(x));
			if (!strcmp(w, "execute") && strcmp(x, "function") && strcmp(x, "procedure"))
				found(f, CODE, "EXECUTE of a string (dynamic SQL) in a function body", NULL);
			else if (!strcmp(w, "do") && i + 1 < st.ntok && st.tok[i + 1].kind == RT_STRING)
				found(f, CODE, "a DO block in a function body", NULL);
			else if (!strcmp(w, "set_config") && df__tok_ch(&st, i + 1, '(')) {
				/* set_config('app.x', ...) is fine; ('role', ...) is SET ROLE */
				char v[64] = "";
				if (i + 2 < st.ntok && st.tok[i + 2].kind == RT_STRING && st.tok[i + 2].len < 60) {
					memcpy(v, body + st.tok[i + 2].off + 1, st.tok[i + 2].len - 2);
					v[st.tok[i + 2].len - 2] = '\0';
				}
				if (!v[0] || ieq(v, "role") || ieq(v, "session_authorization"))
					found(f, SERVER, "a call of set_config() that may change the role", NULL);
			} else if (pg_bad_function(w) && df__tok_ch(&st, i + 1, '('))
				found(f, OUTSIDE, "a call of %s()", w);
			else if ((!strcmp(w, "create") || !strcmp(w, "alter") || !strcmp(w, "drop")) &&
			    word_in(x, server_objects)) {
				char k[96];
				snprintf(k, sizeof(k), "%.30s %.30s in a function body", w, x);
				for (char *p = k; *p && p < k + strlen(w) + strlen(x) + 1; p++)
					*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
				found(f, SERVER, "%s", k);
			} else if (!strcmp(w, "extension")) {
				size_t l = strlen(x);
				if (!strcmp(x, "dblink") || !strcmp(x, "adminpack") || (l > 4 && !strcmp(x + l - 4, "_fdw")))
					found(f, OUTSIDE, "CREATE EXTENSION %.40s in a function body", x);
			} else if (!strcmp(w, "foreign") || !strcmp(w, "subscription"))
				found(f, OUTSIDE, "a foreign data statement in a function body", NULL);
			else if (!strcmp(w, "grant") || !strcmp(w, "revoke") || !strcmp(w, "reassign") ||
			    !strcmp(w, "checkpoint"))
				found(f, SERVER, "GRANT, REVOKE or REASSIGN in a function body", NULL);
			else if (!strcmp(w, "set") && (!strcmp(x, "role") || !strcmp(x, "session")))
				found(f, SERVER, "SET ROLE in a function body", NULL);
			else if (!strcmp(w, "load") && i + 1 < st.ntok && st.tok[i + 1].kind == RT_STRING)
				found(f, OUTSIDE, "LOAD in a function body", NULL);
			else if (!strcmp(w, "copy")) {
				for (size_t k = i + 1; k < st.ntok && !df__tok_ch(&st, k, ';'); k++)
					if (tok_word_is(body, &st, k, "program") ||
					    ((tok_word_is(body, &st, k, "from") || tok_word_is(body, &st, k, "to")) &&
					     k + 1 < st.ntok && st.tok[k + 1].kind == RT_STRING)) {
						found(f, OUTSIDE, "COPY to or from a server file or program in a function body", NULL);
						break;
					}
			}
		}
	}
	df__rlex_release(&lx);
}

static void pg_statement(const Node *n, struct finding *f)
{
	bool set_config = false;

	switch (n->node_case) {
	/* objects of the database */
	case PG_QUERY__NODE__NODE_CREATE_STMT:
	case PG_QUERY__NODE__NODE_VIEW_STMT:
	case PG_QUERY__NODE__NODE_INDEX_STMT:
	case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
	case PG_QUERY__NODE__NODE_ALTER_SEQ_STMT:
	case PG_QUERY__NODE__NODE_CREATE_ENUM_STMT:
	case PG_QUERY__NODE__NODE_CREATE_RANGE_STMT:
	case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_ENUM_STMT:
	case PG_QUERY__NODE__NODE_ALTER_TYPE_STMT:
	case PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DOMAIN_STMT:
	case PG_QUERY__NODE__NODE_ALTER_FUNCTION_STMT:
	case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT:
	case PG_QUERY__NODE__NODE_ALTER_EVENT_TRIG_STMT:
	case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT:
	case PG_QUERY__NODE__NODE_ALTER_EXTENSION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_EXTENSION_CONTENTS_STMT:
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_OBJECT_SCHEMA_STMT:
	case PG_QUERY__NODE__NODE_ALTER_OBJECT_DEPENDS_STMT:
	case PG_QUERY__NODE__NODE_DROP_STMT:
	case PG_QUERY__NODE__NODE_DEFINE_STMT:
	case PG_QUERY__NODE__NODE_CREATE_CAST_STMT:
	case PG_QUERY__NODE__NODE_CREATE_CONVERSION_STMT:
	case PG_QUERY__NODE__NODE_CREATE_OP_CLASS_STMT:
	case PG_QUERY__NODE__NODE_CREATE_OP_FAMILY_STMT:
	case PG_QUERY__NODE__NODE_ALTER_OP_FAMILY_STMT:
	case PG_QUERY__NODE__NODE_ALTER_OPERATOR_STMT:
	case PG_QUERY__NODE__NODE_CREATE_POLICY_STMT:
	case PG_QUERY__NODE__NODE_ALTER_POLICY_STMT:
	case PG_QUERY__NODE__NODE_RULE_STMT:
	case PG_QUERY__NODE__NODE_CREATE_STATS_STMT:
	case PG_QUERY__NODE__NODE_ALTER_STATS_STMT:
	case PG_QUERY__NODE__NODE_CREATE_TRANSFORM_STMT:
	case PG_QUERY__NODE__NODE_CREATE_AM_STMT:
	case PG_QUERY__NODE__NODE_CREATE_PLANG_STMT:
	case PG_QUERY__NODE__NODE_ALTER_COLLATION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_TSCONFIGURATION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_TSDICTIONARY_STMT:
	case PG_QUERY__NODE__NODE_CREATE_PUBLICATION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_PUBLICATION_STMT:
	case PG_QUERY__NODE__NODE_REPLICA_IDENTITY_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DEFAULT_PRIVILEGES_STMT:
	case PG_QUERY__NODE__NODE_CONSTRAINTS_SET_STMT:
	case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
	case PG_QUERY__NODE__NODE_DISCARD_STMT:
		break;
	case PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT: {
		const PgQuery__CreateFunctionStmt *c = n->create_function_stmt;
		const char *lang = pg_defelem_str(c->options, c->n_options, "language");
		size_t l = lang ? strlen(lang) : 0;
		/* C functions load a library; untrusted languages (plpython3u,
		 * plperlu ...) run outside the database */
		const char *body = pg_defelem_text(c->options, c->n_options, "as");
		if (lang && (!strcmp(lang, "c") || (l > 2 && lang[l - 1] == 'u')))
			found(f, OUTSIDE, "CREATE FUNCTION ... LANGUAGE %s", lang);
		else if (lang && strcmp(lang, "plpgsql") && strcmp(lang, "sql"))
			found(f, CODE, "CREATE FUNCTION ... LANGUAGE %s (only SQL and PL/pgSQL bodies are read)", lang);
		else if (body)
			pg_body(body, f);
		break;
	}
	case PG_QUERY__NODE__NODE_DO_STMT: {
		const PgQuery__DoStmt *d = n->do_stmt;
		const char *lang = pg_defelem_text(d->args, d->n_args, "language");
		const char *body = pg_defelem_text(d->args, d->n_args, "as");
		/* a schema file declares; the replay may run a block it can read */
		if (!f->allow_dml || (lang && strcmp(lang, "plpgsql")) || !body)
			found(f, CODE, "DO", NULL);
		else
			pg_body(body, f);
		break;
	}
	case PG_QUERY__NODE__NODE_CREATE_EVENT_TRIG_STMT:
		found(f, CODE, "CREATE EVENT TRIGGER (a function run at every later statement)", NULL);
		break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		/* a table or materialized view from a query: an object; its query
		 * runs (on the throwaway database's tables, its calls walked below,
		 * the bodies of functions it may call read when they were made) */
		break;
	case PG_QUERY__NODE__NODE_CREATE_EXTENSION_STMT: {
		const char *e = n->create_extension_stmt->extname;
		size_t l = strlen(e);
		if (!strcmp(e, "dblink") || !strcmp(e, "adminpack") || (l > 4 && !strcmp(e + l - 4, "_fdw")))
			found(f, OUTSIDE, "CREATE EXTENSION %s", e);
		break;
	}
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		if (pg_cluster_object(n->rename_stmt->rename_type))
			found(f, SERVER, "ALTER %s ... RENAME", pg_object_word(n->rename_stmt->rename_type));
		break;
	case PG_QUERY__NODE__NODE_ALTER_OWNER_STMT:
		if (pg_cluster_object(n->alter_owner_stmt->object_type))
			found(f, SERVER, "ALTER %s ... OWNER TO", pg_object_word(n->alter_owner_stmt->object_type));
		break;
	case PG_QUERY__NODE__NODE_COMMENT_STMT:
		if (pg_cluster_object(n->comment_stmt->objtype))
			found(f, SERVER, "COMMENT ON %s", pg_object_word(n->comment_stmt->objtype));
		break;
	case PG_QUERY__NODE__NODE_SEC_LABEL_STMT:
		if (pg_cluster_object(n->sec_label_stmt->objtype))
			found(f, SERVER, "SECURITY LABEL ON %s", pg_object_word(n->sec_label_stmt->objtype));
		break;
	case PG_QUERY__NODE__NODE_GRANT_STMT: {
		PgQuery__ObjectType t = n->grant_stmt->objtype;
		if (pg_cluster_object(t) || t == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_SERVER ||
		    t == PG_QUERY__OBJECT_TYPE__OBJECT_FDW || t == PG_QUERY__OBJECT_TYPE__OBJECT_LARGEOBJECT)
			found(f, SERVER, n->grant_stmt->is_grant ? "GRANT ... ON %s" : "REVOKE ... ON %s",
				pg_object_word(t));
		break;
	}
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
		const char *name = n->variable_set_stmt->name;
		if (name && (!strcmp(name, "role") || !strcmp(name, "session_authorization")))
			found(f, SERVER, "SET %s", !strcmp(name, "role") ? "ROLE" : "SESSION AUTHORIZATION");
		break;
	}
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
		switch (n->transaction_stmt->kind) {
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED:
			found(f, SERVER, "a prepared transaction (PREPARE TRANSACTION)", NULL);
			break;
		default:
			break;
		}
		break;
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		if (pg_only_set_config(n->select_stmt))
			set_config = true;
		else
			found(f, DML, "SELECT", NULL);
		break;
	case PG_QUERY__NODE__NODE_COPY_STMT: {
		const PgQuery__CopyStmt *c = n->copy_stmt;
		if (c->is_program)
			found(f, OUTSIDE, "COPY ... PROGRAM", NULL);
		else if (c->filename && c->filename[0])
			found(f, OUTSIDE, c->is_from ? "COPY ... FROM a server file" : "COPY ... TO a server file", NULL);
		else
			found(f, DML, "COPY", NULL);
		break;
	}
	case PG_QUERY__NODE__NODE_INSERT_STMT: found(f, DML, "INSERT", NULL); break;
	case PG_QUERY__NODE__NODE_UPDATE_STMT: found(f, DML, "UPDATE", NULL); break;
	case PG_QUERY__NODE__NODE_DELETE_STMT: found(f, DML, "DELETE", NULL); break;
	case PG_QUERY__NODE__NODE_MERGE_STMT: found(f, DML, "MERGE", NULL); break;
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT: found(f, DML, "TRUNCATE", NULL); break;
	case PG_QUERY__NODE__NODE_CALL_STMT: found(f, DML, "CALL", NULL); break;
	case PG_QUERY__NODE__NODE_LOCK_STMT: found(f, DML, "LOCK", NULL); break;
	case PG_QUERY__NODE__NODE_VACUUM_STMT: found(f, DML, "VACUUM or ANALYZE", NULL); break;
	case PG_QUERY__NODE__NODE_CLUSTER_STMT: found(f, DML, "CLUSTER", NULL); break;
	case PG_QUERY__NODE__NODE_REINDEX_STMT: found(f, DML, "REINDEX", NULL); break;
	case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT: found(f, DML, "REFRESH MATERIALIZED VIEW", NULL); break;
	case PG_QUERY__NODE__NODE_EXPLAIN_STMT: found(f, DML, "EXPLAIN", NULL); break;
	case PG_QUERY__NODE__NODE_NOTIFY_STMT: found(f, DML, "NOTIFY", NULL); break;
	case PG_QUERY__NODE__NODE_PREPARE_STMT: found(f, DML, "PREPARE", NULL); break;
	case PG_QUERY__NODE__NODE_EXECUTE_STMT: found(f, DML, "EXECUTE", NULL); break;
	case PG_QUERY__NODE__NODE_DEALLOCATE_STMT: found(f, DML, "DEALLOCATE", NULL); break;
	case PG_QUERY__NODE__NODE_CREATEDB_STMT: found(f, SERVER, "CREATE DATABASE", NULL); break;
	case PG_QUERY__NODE__NODE_DROPDB_STMT: found(f, SERVER, "DROP DATABASE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_SET_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_REFRESH_COLL_STMT:
		found(f, SERVER, "ALTER DATABASE", NULL);
		break;
	case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT: found(f, SERVER, "CREATE ROLE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_ROLE_SET_STMT:
		found(f, SERVER, "ALTER ROLE", NULL);
		break;
	case PG_QUERY__NODE__NODE_DROP_ROLE_STMT: found(f, SERVER, "DROP ROLE", NULL); break;
	case PG_QUERY__NODE__NODE_GRANT_ROLE_STMT: found(f, SERVER, "GRANT or REVOKE of a role", NULL); break;
	case PG_QUERY__NODE__NODE_REASSIGN_OWNED_STMT: found(f, SERVER, "REASSIGN OWNED", NULL); break;
	case PG_QUERY__NODE__NODE_DROP_OWNED_STMT: found(f, SERVER, "DROP OWNED", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT: found(f, SERVER, "ALTER SYSTEM", NULL); break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_SPACE_STMT: found(f, SERVER, "CREATE TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_DROP_TABLE_SPACE_STMT: found(f, SERVER, "DROP TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_SPACE_OPTIONS_STMT: found(f, SERVER, "ALTER TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_MOVE_ALL_STMT: found(f, SERVER, "ALTER ... SET TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_CHECK_POINT_STMT: found(f, SERVER, "CHECKPOINT", NULL); break;
	case PG_QUERY__NODE__NODE_LOAD_STMT: found(f, OUTSIDE, "LOAD", NULL); break;
	case PG_QUERY__NODE__NODE_CREATE_SUBSCRIPTION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_SUBSCRIPTION_STMT:
	case PG_QUERY__NODE__NODE_DROP_SUBSCRIPTION_STMT:
		found(f, OUTSIDE, "a SUBSCRIPTION statement", NULL);
		break;
	case PG_QUERY__NODE__NODE_CREATE_FDW_STMT:
	case PG_QUERY__NODE__NODE_ALTER_FDW_STMT:
	case PG_QUERY__NODE__NODE_CREATE_FOREIGN_SERVER_STMT:
	case PG_QUERY__NODE__NODE_ALTER_FOREIGN_SERVER_STMT:
	case PG_QUERY__NODE__NODE_CREATE_FOREIGN_TABLE_STMT:
	case PG_QUERY__NODE__NODE_CREATE_USER_MAPPING_STMT:
	case PG_QUERY__NODE__NODE_ALTER_USER_MAPPING_STMT:
	case PG_QUERY__NODE__NODE_DROP_USER_MAPPING_STMT:
	case PG_QUERY__NODE__NODE_IMPORT_FOREIGN_SCHEMA_STMT:
		found(f, OUTSIDE, "a foreign data statement (another server's tables)", NULL);
		break;
	default:
		found(f, UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
		break;
	}
	pg_walk(&n->base, f, set_config, 0);
}

static int pg_check(const char *stmt, struct finding *f)
{
	PgQueryProtobufParseResult pr;
	PgQuery__ParseResult *tree;
	int error;

	if ((error = df__lazy_load(DF_LAZY_PG_QUERY)) < 0)
		return error;
	pr = pg_query_parse_protobuf(stmt);
	if (pr.error) {
		/* cursorpos counts characters from 1: make it a byte offset */
		size_t at = 0;
		for (int chars = 1; stmt[at] && chars < pr.error->cursorpos; at++)
			if (((unsigned char)stmt[at + 1] & 0xc0) != 0x80)
				chars++;
		found(f, UNPARSED, "%s", pr.error->message);
		f->at = at;
		pg_query_free_protobuf_parse_result(pr);
		return 0;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
	if (!tree) {
		pg_query_free_protobuf_parse_result(pr);
		return df_error_oom();
	}
	for (size_t i = 0; i < tree->n_stmts && !severe(f); i++)
		if (tree->stmts[i] && tree->stmts[i]->stmt)
			pg_statement(tree->stmts[i]->stmt, f);
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
	return 0;
}

/* ---- MySQL/MariaDB and SQLite: tokens --------------------------------------- */

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
		tok_word(s, st, i, buf, size);
		if (word_in(buf, objects))
			return buf;
	}
	buf[0] = '\0';
	return buf;
}

/* MySQL: anything in the statement that reaches outside, wherever it is
 * (also inside CREATE TABLE ... SELECT, or a routine's body). */
static void my_anywhere(const char *s, const rstmt *st, const df_strlist *dbs, struct finding *f)
{
	char w[96], x[96], y[96];

	for (size_t i = 0; i < st->ntok && !severe(f); i++) {
		if (!is_word(st, i))
			continue;
		tok_word(s, st, i, w, sizeof(w));
		if (st->tok[i].kind == RT_WORD) {
			if (!strcmp(w, "load_file") && df__tok_ch(st, i + 1, '('))
				found(f, OUTSIDE, "LOAD_FILE()", NULL);
			else if (!strcmp(w, "into") && i + 1 < st->ntok &&
			    (!strcmp(tok_word(s, st, i + 1, x, sizeof(x)), "outfile") || !strcmp(x, "dumpfile")))
				found(f, OUTSIDE, "SELECT ... INTO OUTFILE", NULL);
			else if (!strcmp(w, "prepare") && is_word(st, i + 1) &&
			    !strcmp(tok_word(s, st, i + 2, x, sizeof(x)), "from"))
				found(f, CODE, "PREPARE ... FROM (dynamic SQL)", NULL);
			else if ((!strcmp(w, "engine") || !strcmp(w, "connection")) && df__tok_ch(st, i + 1, '=')) {
				static const char *const remote[] = { "federated", "federatedx", "connect", "spider", NULL };
				if (!strcmp(w, "connection"))
					found(f, OUTSIDE, "a table with CONNECTION= (another server's table)", NULL);
				else if (word_in(tok_word(s, st, i + 2, x, sizeof(x)), remote)) {
					for (char *p = x; *p; p++)
						*p = (char)(*p - 32);
					found(f, OUTSIDE, "a table of ENGINE=%s (another server's table)", x);
				}
			} else if ((!strcmp(w, "data") || !strcmp(w, "index")) &&
			    !strcmp(tok_word(s, st, i + 1, x, sizeof(x)), "directory"))
				found(f, OUTSIDE, "%s DIRECTORY (a table's files elsewhere)", !strcmp(w, "data") ? "DATA" : "INDEX");
		}
		/* a qualified name: db.t, db.t.c, db.* */
		if (df__tok_ch(st, i + 1, '.') && !(i > 0 && df__tok_ch(st, i - 1, '.')) &&
		    (is_word(st, i + 2) || df__tok_ch(st, i + 2, '*'))) {
			bool three = df__tok_ch(st, i + 3, '.') && is_word(st, i + 4);
			bool known = false;
			for (size_t k = 0; dbs && k < dbs->nr && !known; k++)
				known = ieq(w, dbs->v[k]);
			if (known || three) {
				snprintf(y, sizeof(y), "%.40s.%.40s", w, tok_word(s, st, i + 2, x, sizeof(x)));
				found(f, OTHER_DB, "%s", y);
			}
		}
	}
}

/* The statement's kind from its first words. */
static void my_head(const char *s, const rstmt *st, struct finding *f)
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

	tok_word(s, st, 0, w0, sizeof(w0));
	tok_word(s, st, 1, w1, sizeof(w1));
	if (!strcmp(w0, "create") || !strcmp(w0, "alter") || !strcmp(w0, "drop")) {
		object_word(s, st, ob, sizeof(ob));
		if (word_in(ob, server_objects)) {
			char k[96];
			snprintf(k, sizeof(k), "%.30s %.30s", w0, ob);
			for (char *p = k; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			found(f, SERVER, "%s", k);
		} else if (!ob[0]) {
			found(f, UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
		}
	} else if (!strcmp(w0, "rename")) {
		if (strcmp(w1, "table") && strcmp(w1, "tables"))
			found(f, SERVER, "RENAME USER", NULL);
	} else if (!strcmp(w0, "set")) {
		char w[64];
		for (size_t i = 1; i < st->ntok && !severe(f); i++) {
			tok_word(s, st, i, w, sizeof(w));
			if (i == 1 && (!strcmp(w, "password") || !strcmp(w, "role") || !strcmp(w, "default")))
				found(f, SERVER, "SET %s", !strcmp(w, "password") ? "PASSWORD" : "ROLE");
			else if (!strcmp(w, "global") || !strcmp(w, "persist") || !strcmp(w, "persist_only"))
				found(f, SERVER, "SET GLOBAL", NULL);
			else if (i == 1 && !strcmp(w, "statement"))
				found(f, DML, "SET STATEMENT ... FOR", NULL);
		}
	} else if (!strcmp(w0, "use")) {
		found(f, OTHER_DB, "USE %s", w1);
	} else if (!strcmp(w0, "load")) {
		found(f, OUTSIDE, "LOAD %s", !strcmp(w1, "xml") ? "XML" : "DATA");
	} else if (!strcmp(w0, "prepare") || !strcmp(w0, "execute") || !strcmp(w0, "deallocate")) {
		found(f, CODE, "%s (dynamic SQL)", !strcmp(w0, "prepare") ? "PREPARE" :
			!strcmp(w0, "execute") ? "EXECUTE" : "DEALLOCATE");
	} else if (word_in(w0, server)) {
		char k[64];
		snprintf(k, sizeof(k), "%s", w0);
		for (char *p = k; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		found(f, !strcmp(w0, "start") && !strcmp(w1, "transaction") ? OK : SERVER, "%s", k);
	} else if (word_in(w0, dml)) {
		char k[64];
		snprintf(k, sizeof(k), "%s", w0);
		for (char *p = k; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		found(f, DML, "%s", k);
	} else if (!word_in(w0, fine)) {
		found(f, UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
	}
}

/* Statements inside routine bodies (a CALL or a trigger runs them later:
 * only what reaches outside counts there) start after ';', BEGIN, THEN,
 * ELSE, DO, LOOP, REPEAT or a label's ':'. */
static void my_body(const char *s, const rstmt *st, struct finding *f)
{
	static const char *const openers[] = { "begin", "then", "else", "do", "loop", "repeat", NULL };
	char w[32];

	for (size_t i = 2; i < st->ntok && !severe(f); i++) {
		const rtok *p = &st->tok[i - 1];
		rstmt sub;
		if (!(p->kind == RT_OP && (p->ch == ';' || p->ch == ':')) &&
		    !(p->kind == RT_WORD && word_in(tok_word(s, st, i - 1, w, sizeof(w)), openers)))
			continue;
		if (!is_word(st, i))
			continue;
		struct finding g = { .v = OK, .allow_dml = true };
		sub = *st;
		sub.tok = st->tok + i;
		sub.ntok = st->ntok - i;
		my_head(s, &sub, &g);
		if (severe(&g))
			found(f, g.v, "%s", g.what);
	}
}

static void my_statement(const char *s, const rstmt *st, const df_strlist *dbs, struct finding *f)
{
	char w0[16], ob[64];

	my_head(s, st, f);
	tok_word(s, st, 0, w0, sizeof(w0));
	if (!severe(f) && !strcmp(w0, "create")) {
		object_word(s, st, ob, sizeof(ob));
		if (!strcmp(ob, "procedure") || !strcmp(ob, "function") || !strcmp(ob, "trigger") ||
		    !strcmp(ob, "event"))
			my_body(s, st, f);
	}
	my_anywhere(s, st, dbs, f);
}

static void lite_statement(const char *s, const rstmt *st, struct finding *f)
{
	static const char *const dml[] = {
		"insert", "replace", "update", "delete", "select", "with", "values", NULL,
	};
	static const char *const fine[] = {
		"create", "alter", "drop", "pragma", "begin", "commit", "end", "rollback",
		"savepoint", "release", "analyze", "reindex", "explain", NULL,
	};
	char w0[64], w[64];

	tok_word(s, st, 0, w0, sizeof(w0));
	if (!strcmp(w0, "attach") || !strcmp(w0, "detach")) {
		found(f, OUTSIDE, !strcmp(w0, "attach") ? "ATTACH DATABASE" : "DETACH DATABASE", NULL);
	} else if (!strcmp(w0, "vacuum")) {
		for (size_t i = 1; i < st->ntok; i++)
			if (!strcmp(tok_word(s, st, i, w, sizeof(w)), "into"))
				found(f, OUTSIDE, "VACUUM INTO", NULL);
	} else if (word_in(w0, dml)) {
		for (char *p = w0; *p; p++)
			*p = (char)(*p - 32);
		found(f, DML, "%s", w0);
	} else if (!word_in(w0, fine)) {
		found(f, UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
	}
}

/*
 * MariaDB runs the text of executable comments (slash-star-bang, with an
 * optional version; slash-star-M-bang): blank their markers, keeping every
 * offset, so the tokens are the statement the server runs.
 */
static void my_open_comments(char *s, size_t n)
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

/* ---- the check -------------------------------------------------------------- */

static const char *verdict_reason(enum verdict v)
{
	switch (v) {
	case DML: return "changes data";
	case SERVER: return "acts on the server, not on the throwaway database";
	case OUTSIDE: return "reaches outside the throwaway database";
	case CODE: return "runs code that cannot be checked before it runs";
	case OTHER_DB: return "names another database";
	default: return "is not on the list of statements a schema file may hold";
	}
}

static int refuse(const df_sandbox *sb, const char *file, const char *text, size_t len,
	size_t off, int line0, const struct finding *f)
{
	int line, col;
	const char *where = sb->dry_run ? "a dry-run in the throwaway copy (MariaDB cannot roll DDL back)" :
		sb->migrations ? "replaying the migrations into the throwaway database" :
		"loading a schema file into the throwaway database";

	if (f->v == UNPARSED) {
		df_sql_position(text, len, off + f->at, &line, &col);
		line += line0 - 1;
		df_error_set(DF_ESQL, "%s:%d:%d: %s", file, line, col, f->what);
		df_error_pos(file, line, col);
		df_error_hint("devflow reads the file with libpg_query (PostgreSQL %s's parser) before "
			"any of it runs; nothing ran. Fix the statement (a server newer than %s may "
			"accept syntax this parser does not)", PG_MAJORVERSION, PG_MAJORVERSION);
		return DF_ESQL;
	}
	df_sql_position(text, len, off, &line, &col);
	line += line0 - 1;
	if (f->v == OTHER_DB && !strncmp(f->what, "USE ", 4))
		df_error_set(DF_EGATE, "%s:%d: %s switches to another database; %s may touch only "
			"that database, nothing ran", file, line, f->what, where);
	else if (f->v == OTHER_DB)
		df_error_set(DF_EGATE, "%s:%d: '%s' is a name in another database; %s may touch only "
			"that database, nothing ran", file, line, f->what, where);
	else
		df_error_set(DF_EGATE, "%s:%d: %s %s; %s may only create objects there, nothing ran",
			file, line, f->what, verdict_reason(f->v), where);
	df_error_pos(file, line, col);
	if (sb->dry_run) {
		df_error_hint("a MariaDB dry-run runs the migrations in a throwaway copy of the target, "
			"and this statement would reach past it for real; review it (" DF_ERR_CMD(0) ") "
			"and run without --dry-run, or write names without a database");
		df_error_suggest(df_cmd_make(DF_VERB_REVIEW, NULL, -1));
		return DF_EGATE;
	}
	switch (f->v) {
	case DML:
		df_error_hint("a schema file holds CREATE, ALTER, COMMENT, DROP and SET statements; "
			"put data in a migration or a seed file (" DF_ERR_CMD(0) ")");
		df_error_suggest(df_cmd_make(DF_VERB_SEED, NULL, -1));
		break;
	case OTHER_DB:
		df_error_hint("write names without a database (the throwaway database is the current "
			"one); a file that uses several databases cannot be loaded into one");
		break;
	case SERVER:
		df_error_hint("databases, roles and server settings are made outside the schema file "
			"and the migrations devflow replays; remove the statement");
		break;
	case CODE:
		df_error_hint("write the statements it would run as plain SQL (DO blocks and dynamic SQL "
			"cannot be checked before they run); migrate still runs them on the target");
		break;
	case OUTSIDE:
		df_error_hint("files, programs and other servers are out of reach of db diff and "
			"db generate; remove the statement from the file");
		break;
	default:
		df_error_hint("db diff and db generate run only statements they can check; see "
			"'What loading a schema file may do' in docs/diff.md");
	}
	return DF_EGATE;
}

int df__sandbox_check(const df_sandbox *sb, const char *file, int line0,
	const char *sql, size_t len)
{
	df_stmt_list list = DF_STMT_LIST_INIT;
	char *text = NULL;
	size_t err = 0;
	int error = 0;

	if (!(text = malloc(len + 1)))
		return df_error_oom();
	memcpy(text, sql, len);
	text[len] = '\0';
	if (sb->dialect == DF_DIALECT_MYSQL)
		my_open_comments(text, len);
	if ((error = df_sql_split(&list, sb->dialect, text, len, &err)) < 0) {
		int line, col;
		df_sql_position(text, len, err, &line, &col);
		df_error_pos(file, line + line0 - 1, col);
		goto out;
	}
	for (size_t i = 0; i < list.nr && !error; i++) {
		struct finding f = { .v = OK, .allow_dml = sb->migrations };
		const df_stmt *s = &list.v[i];
		if (sb->dialect == DF_DIALECT_POSTGRES) {
			char save = text[s->offset + s->len];
			text[s->offset + s->len] = '\0';
			error = pg_check(text + s->offset, &f);
			text[s->offset + s->len] = save;
		} else {
			rlex lx;
			rstmt st;
			int r;
			bool first = true;
			/* one statement of the runner's; the lexer may see several
			 * in it (a routine's body): the first one's kind counts */
			df__rlex_init(&lx, sb->dialect, text + s->offset, s->len);
			while ((r = df__rlex_next(&lx, &st)) > 0 && !severe(&f)) {
				if (sb->dialect == DF_DIALECT_SQLITE) {
					if (first)
						lite_statement(text + s->offset, &st, &f);
				} else if (first) {
					my_statement(text + s->offset, &st, sb->databases, &f);
				} else {
					my_anywhere(text + s->offset, &st, sb->databases, &f);
				}
				first = false;
			}
			df__rlex_release(&lx);
			if (r < 0)
				error = r;
		}
		if (!error && f.v != OK)
			error = refuse(sb, file, text, len, (size_t)s->offset, line0, &f);
	}
out:
	df_stmt_list_release(&list);
	free(text);
	return error;
}
