/*
 * What a file loaded into a scratch database may do: PostgreSQL statements,
 * classified on libpg_query's parse tree (sandbox.c).  Every node of the
 * tree is walked, so a function call or three-part name nested in a CREATE
 * TABLE ... AS is found too; the bodies of functions and DO blocks on the
 * review's tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "devflow/error.h"
#include "schema/sandbox_int.h"
#include "sql/pgq_walk.h"
#include "util/lazy.h"
#include "util/banned.h"

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

struct walk_arg {
	struct sb_finding *f;
	bool allow_set_config;
	int depth;
};

static void pg_walk(const ProtobufCMessage *m, struct sb_finding *f, bool allow_set_config, int depth);

static int walk_child(const ProtobufCMessage *child, void *arg)
{
	const struct walk_arg *a = arg;
	pg_walk(child, a->f, a->allow_set_config, a->depth + 1);
	return df__sb_severe(a->f);
}

/*
 * Walk every message of the tree: a RangeVar with a catalog (database) name
 * and calls of the functions above are refused wherever they are.
 * set_config is allowed only as pg_dump writes it (a SELECT of it alone,
 * checked by the caller, which passes allow_set_config).
 */
static void pg_walk(const ProtobufCMessage *m, struct sb_finding *f, bool allow_set_config, int depth)
{
	const ProtobufCMessageDescriptor *d;

	if (!m || df__sb_severe(f))
		return;
	if (depth > 2000) {
		df__sb_found(f, SB_UNCHECKED, "a statement nested too deeply to check", NULL);
		return;
	}
	d = m->descriptor;
	if (!strcmp(d->short_name, "RangeVar")) {
		const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
		if (rv->catalogname && rv->catalogname[0]) {
			char name[96];
			snprintf(name, sizeof(name), "%.30s.%.30s.%.30s", rv->catalogname,
				rv->schemaname ? rv->schemaname : "", rv->relname ? rv->relname : "");
			df__sb_found(f, SB_OTHER_DB, "%s", name);
		}
	} else if (!strcmp(d->short_name, "FuncCall")) {
		const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
		const char *name = pg_func_name(fc->funcname, fc->n_funcname);
		if (pg_bad_function(name) && !(allow_set_config && !strcmp(name, "set_config")))
			df__sb_found(f, SB_OUTSIDE, "a call of %s()", name);
	}
	{
		struct walk_arg a = { f, allow_set_config, depth };
		df_pgq_each_child(m, walk_child, &a);
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
		if (!setting || df__sb_ieq(setting, "role") || df__sb_ieq(setting, "session_authorization"))
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
	return i < st->ntok && st->tok[i].kind == RT_WORD && !strcmp(df__sb_tok_word(s, st, i, b, sizeof(b)), w);
}

/*
 * The body of a PL/pgSQL or SQL function or DO block.  Without EXECUTE
 * (refused) every statement it can run is written in it, so its words
 * show what it does: what a statement of the file may not do, a body may
 * not either.  Data statements are fine there (triggers write audit rows).
 */
static void pg_body(const char *body, struct sb_finding *f)
{
	static const char *const server_objects[] = {
		"role", "user", "database", "tablespace", "server", "subscription", "system", NULL,
	};
	rlex lx;
	rstmt st;
	char w[64], x[64];

	df__rlex_init(&lx, DF_DIALECT_POSTGRES, body, strlen(body));
	while (df__rlex_next(&lx, &st) > 0 && !df__sb_severe(f)) {
		for (size_t i = 0; i < st.ntok && !df__sb_severe(f); i++) {
			if (st.tok[i].kind != RT_WORD)
				continue;
			df__sb_tok_word(body, &st, i, w, sizeof(w));
			df__sb_tok_word(body, &st, i + 1, x, sizeof(x));
			if (!strcmp(w, "execute") && strcmp(x, "function") && strcmp(x, "procedure"))
				df__sb_found(f, SB_CODE, "EXECUTE of a string (dynamic SQL) in a function body", NULL);
			else if (!strcmp(w, "do") && i + 1 < st.ntok && st.tok[i + 1].kind == RT_STRING)
				df__sb_found(f, SB_CODE, "a DO block in a function body", NULL);
			else if (!strcmp(w, "set_config") && df__tok_ch(&st, i + 1, '(')) {
				/* set_config('app.x', ...) is fine; ('role', ...) is SET ROLE */
				char v[64] = "";
				if (i + 2 < st.ntok && st.tok[i + 2].kind == RT_STRING && st.tok[i + 2].len < 60) {
					memcpy(v, body + st.tok[i + 2].off + 1, st.tok[i + 2].len - 2);
					v[st.tok[i + 2].len - 2] = '\0';
				}
				if (!v[0] || df__sb_ieq(v, "role") || df__sb_ieq(v, "session_authorization"))
					df__sb_found(f, SB_SERVER, "a call of set_config() that may change the role", NULL);
			} else if (pg_bad_function(w) && df__tok_ch(&st, i + 1, '('))
				df__sb_found(f, SB_OUTSIDE, "a call of %s()", w);
			else if ((!strcmp(w, "create") || !strcmp(w, "alter") || !strcmp(w, "drop")) &&
			    df__sb_word_in(x, server_objects)) {
				char k[96];
				snprintf(k, sizeof(k), "%.30s %.30s in a function body", w, x);
				for (char *p = k; *p && p < k + strlen(w) + strlen(x) + 1; p++)
					*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
				df__sb_found(f, SB_SERVER, "%s", k);
			} else if (!strcmp(w, "extension")) {
				size_t l = strlen(x);
				if (!strcmp(x, "dblink") || !strcmp(x, "adminpack") || (l > 4 && !strcmp(x + l - 4, "_fdw")))
					df__sb_found(f, SB_OUTSIDE, "CREATE EXTENSION %.40s in a function body", x);
			} else if (!strcmp(w, "foreign") || !strcmp(w, "subscription"))
				df__sb_found(f, SB_OUTSIDE, "a foreign data statement in a function body", NULL);
			else if (!strcmp(w, "grant") || !strcmp(w, "revoke") || !strcmp(w, "reassign") ||
			    !strcmp(w, "checkpoint"))
				df__sb_found(f, SB_SERVER, "GRANT, REVOKE or REASSIGN in a function body", NULL);
			else if (!strcmp(w, "set") && (!strcmp(x, "role") || !strcmp(x, "session")))
				df__sb_found(f, SB_SERVER, "SET ROLE in a function body", NULL);
			else if (!strcmp(w, "load") && i + 1 < st.ntok && st.tok[i + 1].kind == RT_STRING)
				df__sb_found(f, SB_OUTSIDE, "LOAD in a function body", NULL);
			else if (!strcmp(w, "copy")) {
				for (size_t k = i + 1; k < st.ntok && !df__tok_ch(&st, k, ';'); k++)
					if (tok_word_is(body, &st, k, "program") ||
					    ((tok_word_is(body, &st, k, "from") || tok_word_is(body, &st, k, "to")) &&
					     k + 1 < st.ntok && st.tok[k + 1].kind == RT_STRING)) {
						df__sb_found(f, SB_OUTSIDE, "COPY to or from a server file or program in a function body", NULL);
						break;
					}
			}
		}
	}
	df__rlex_release(&lx);
}

static void pg_statement(const Node *n, struct sb_finding *f)
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
			df__sb_found(f, SB_OUTSIDE, "CREATE FUNCTION ... LANGUAGE %s", lang);
		else if (lang && strcmp(lang, "plpgsql") && strcmp(lang, "sql"))
			df__sb_found(f, SB_CODE, "CREATE FUNCTION ... LANGUAGE %s (only SQL and PL/pgSQL bodies are read)", lang);
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
			df__sb_found(f, SB_CODE, "DO", NULL);
		else
			pg_body(body, f);
		break;
	}
	case PG_QUERY__NODE__NODE_CREATE_EVENT_TRIG_STMT:
		df__sb_found(f, SB_CODE, "CREATE EVENT TRIGGER (a function run at every later statement)", NULL);
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
			df__sb_found(f, SB_OUTSIDE, "CREATE EXTENSION %s", e);
		break;
	}
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		if (pg_cluster_object(n->rename_stmt->rename_type))
			df__sb_found(f, SB_SERVER, "ALTER %s ... RENAME", pg_object_word(n->rename_stmt->rename_type));
		break;
	case PG_QUERY__NODE__NODE_ALTER_OWNER_STMT:
		if (pg_cluster_object(n->alter_owner_stmt->object_type))
			df__sb_found(f, SB_SERVER, "ALTER %s ... OWNER TO", pg_object_word(n->alter_owner_stmt->object_type));
		break;
	case PG_QUERY__NODE__NODE_COMMENT_STMT:
		if (pg_cluster_object(n->comment_stmt->objtype))
			df__sb_found(f, SB_SERVER, "COMMENT ON %s", pg_object_word(n->comment_stmt->objtype));
		break;
	case PG_QUERY__NODE__NODE_SEC_LABEL_STMT:
		if (pg_cluster_object(n->sec_label_stmt->objtype))
			df__sb_found(f, SB_SERVER, "SECURITY LABEL ON %s", pg_object_word(n->sec_label_stmt->objtype));
		break;
	case PG_QUERY__NODE__NODE_GRANT_STMT: {
		PgQuery__ObjectType t = n->grant_stmt->objtype;
		if (pg_cluster_object(t) || t == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_SERVER ||
		    t == PG_QUERY__OBJECT_TYPE__OBJECT_FDW || t == PG_QUERY__OBJECT_TYPE__OBJECT_LARGEOBJECT)
			df__sb_found(f, SB_SERVER, n->grant_stmt->is_grant ? "GRANT ... ON %s" : "REVOKE ... ON %s",
				pg_object_word(t));
		break;
	}
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
		const char *name = n->variable_set_stmt->name;
		if (name && (!strcmp(name, "role") || !strcmp(name, "session_authorization")))
			df__sb_found(f, SB_SERVER, "SET %s", !strcmp(name, "role") ? "ROLE" : "SESSION AUTHORIZATION");
		break;
	}
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
		switch (n->transaction_stmt->kind) {
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED:
			df__sb_found(f, SB_SERVER, "a prepared transaction (PREPARE TRANSACTION)", NULL);
			break;
		default:
			break;
		}
		break;
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		if (pg_only_set_config(n->select_stmt))
			set_config = true;
		else
			df__sb_found(f, SB_DML, "SELECT", NULL);
		break;
	case PG_QUERY__NODE__NODE_COPY_STMT: {
		const PgQuery__CopyStmt *c = n->copy_stmt;
		if (c->is_program)
			df__sb_found(f, SB_OUTSIDE, "COPY ... PROGRAM", NULL);
		else if (c->filename && c->filename[0])
			df__sb_found(f, SB_OUTSIDE, c->is_from ? "COPY ... FROM a server file" : "COPY ... TO a server file", NULL);
		else
			df__sb_found(f, SB_DML, "COPY", NULL);
		break;
	}
	case PG_QUERY__NODE__NODE_INSERT_STMT: df__sb_found(f, SB_DML, "INSERT", NULL); break;
	case PG_QUERY__NODE__NODE_UPDATE_STMT: df__sb_found(f, SB_DML, "UPDATE", NULL); break;
	case PG_QUERY__NODE__NODE_DELETE_STMT: df__sb_found(f, SB_DML, "DELETE", NULL); break;
	case PG_QUERY__NODE__NODE_MERGE_STMT: df__sb_found(f, SB_DML, "MERGE", NULL); break;
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT: df__sb_found(f, SB_DML, "TRUNCATE", NULL); break;
	case PG_QUERY__NODE__NODE_CALL_STMT: df__sb_found(f, SB_DML, "CALL", NULL); break;
	case PG_QUERY__NODE__NODE_LOCK_STMT: df__sb_found(f, SB_DML, "LOCK", NULL); break;
	case PG_QUERY__NODE__NODE_VACUUM_STMT: df__sb_found(f, SB_DML, "VACUUM or ANALYZE", NULL); break;
	case PG_QUERY__NODE__NODE_CLUSTER_STMT: df__sb_found(f, SB_DML, "CLUSTER", NULL); break;
	case PG_QUERY__NODE__NODE_REINDEX_STMT: df__sb_found(f, SB_DML, "REINDEX", NULL); break;
	case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT: df__sb_found(f, SB_DML, "REFRESH MATERIALIZED VIEW", NULL); break;
	case PG_QUERY__NODE__NODE_EXPLAIN_STMT: df__sb_found(f, SB_DML, "EXPLAIN", NULL); break;
	case PG_QUERY__NODE__NODE_NOTIFY_STMT: df__sb_found(f, SB_DML, "NOTIFY", NULL); break;
	case PG_QUERY__NODE__NODE_PREPARE_STMT: df__sb_found(f, SB_DML, "PREPARE", NULL); break;
	case PG_QUERY__NODE__NODE_EXECUTE_STMT: df__sb_found(f, SB_DML, "EXECUTE", NULL); break;
	case PG_QUERY__NODE__NODE_DEALLOCATE_STMT: df__sb_found(f, SB_DML, "DEALLOCATE", NULL); break;
	case PG_QUERY__NODE__NODE_CREATEDB_STMT: df__sb_found(f, SB_SERVER, "CREATE DATABASE", NULL); break;
	case PG_QUERY__NODE__NODE_DROPDB_STMT: df__sb_found(f, SB_SERVER, "DROP DATABASE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_SET_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_REFRESH_COLL_STMT:
		df__sb_found(f, SB_SERVER, "ALTER DATABASE", NULL);
		break;
	case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT: df__sb_found(f, SB_SERVER, "CREATE ROLE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_ROLE_SET_STMT:
		df__sb_found(f, SB_SERVER, "ALTER ROLE", NULL);
		break;
	case PG_QUERY__NODE__NODE_DROP_ROLE_STMT: df__sb_found(f, SB_SERVER, "DROP ROLE", NULL); break;
	case PG_QUERY__NODE__NODE_GRANT_ROLE_STMT: df__sb_found(f, SB_SERVER, "GRANT or REVOKE of a role", NULL); break;
	case PG_QUERY__NODE__NODE_REASSIGN_OWNED_STMT: df__sb_found(f, SB_SERVER, "REASSIGN OWNED", NULL); break;
	case PG_QUERY__NODE__NODE_DROP_OWNED_STMT: df__sb_found(f, SB_SERVER, "DROP OWNED", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT: df__sb_found(f, SB_SERVER, "ALTER SYSTEM", NULL); break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_SPACE_STMT: df__sb_found(f, SB_SERVER, "CREATE TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_DROP_TABLE_SPACE_STMT: df__sb_found(f, SB_SERVER, "DROP TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_SPACE_OPTIONS_STMT: df__sb_found(f, SB_SERVER, "ALTER TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_MOVE_ALL_STMT: df__sb_found(f, SB_SERVER, "ALTER ... SET TABLESPACE", NULL); break;
	case PG_QUERY__NODE__NODE_CHECK_POINT_STMT: df__sb_found(f, SB_SERVER, "CHECKPOINT", NULL); break;
	case PG_QUERY__NODE__NODE_LOAD_STMT: df__sb_found(f, SB_OUTSIDE, "LOAD", NULL); break;
	case PG_QUERY__NODE__NODE_CREATE_SUBSCRIPTION_STMT:
	case PG_QUERY__NODE__NODE_ALTER_SUBSCRIPTION_STMT:
	case PG_QUERY__NODE__NODE_DROP_SUBSCRIPTION_STMT:
		df__sb_found(f, SB_OUTSIDE, "a SUBSCRIPTION statement", NULL);
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
		df__sb_found(f, SB_OUTSIDE, "a foreign data statement (another server's tables)", NULL);
		break;
	default:
		df__sb_found(f, SB_UNCHECKED, "a statement of a kind a schema file does not hold", NULL);
		break;
	}
	pg_walk(&n->base, f, set_config, 0);
}

int df__sandbox_pg_check(const char *stmt, struct sb_finding *f)
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
		df__sb_found(f, SB_UNPARSED, "%s", pr.error->message);
		f->at = at;
		pg_query_free_protobuf_parse_result(pr);
		return 0;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
	if (!tree) {
		pg_query_free_protobuf_parse_result(pr);
		return df_error_oom();
	}
	for (size_t i = 0; i < tree->n_stmts && !df__sb_severe(f); i++)
		if (tree->stmts[i] && tree->stmts[i]->stmt)
			pg_statement(tree->stmts[i]->stmt, f);
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(pr);
	return 0;
}
