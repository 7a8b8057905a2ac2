#ifndef DF_REVIEW_INT_H
#define DF_REVIEW_INT_H

/*
 * Internals of the risk review, shared by the files of src/review/:
 *
 *   lex.c      a tokenizer that also splits statements the way each
 *              engine's client does (quotes, dollar quotes, nested comments,
 *              BEGIN ... END bodies, MySQL DELIMITER, psql meta-commands and
 *              COPY data)
 *   analyze.c  token-level classification of a statement into "ops"
 *              (create table, add column, delete rows ...); the actions
 *              list and the MySQL/SQLite rules are built on ops
 *   review.c   df_review_run(): the driver, the rule catalogue, findings,
 *              allow comments, positions; the token-level rules shared by
 *              every dialect
 *   pg.c       PostgreSQL rules on libpg_query's parse tree: the entry
 *              point; pg_tables.c (tables and columns) and pg_objects.c
 *              (indexes, DROP, views, enum types, locks) share pg_int.h
 *   mysql.c    MySQL/MariaDB rules on ops and tokens
 *   sqlite.c   SQLite rules on ops and tokens
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devflow/buf.h"
#include "devflow/review.h"
#include "devflow/sql.h"
#include "devflow/strlist.h"

/* ---- tokens and statements (lex.c) -------------------------------------- */

enum rtok_kind {
	RT_WORD = 1,            /* keyword or unquoted identifier */
	RT_QIDENT,              /* "ident", `ident`, [ident] */
	RT_STRING,              /* 'text', E'text', $$text$$, MySQL "text" */
	RT_NUMBER,
	RT_PARAM,               /* $1, ?, :name */
	RT_OP,                  /* one punctuation character */
};

typedef struct rtok {
	size_t off;             /* absolute offset in the text */
	uint32_t len;
	uint16_t depth;         /* parenthesis depth ('(' and ')' carry the outer one) */
	uint8_t kind;           /* enum rtok_kind */
	uint8_t ch;             /* RT_OP: the character; RT_QIDENT/RT_STRING: the quote */
} rtok;

typedef struct rstmt {
	size_t off, len;        /* the statement's bytes, as df_stmt */
	size_t end;             /* just after its terminator (off + len at the end) */
	const rtok *tok;        /* its tokens (owned by the lexer) */
	size_t ntok;
} rstmt;

/* A comment holding "devflow:" (directive), kept when want_directives. */
typedef struct rdirective {
	size_t off, len;
} rdirective;

#define RLEX_SMALL 192

typedef struct rlex {
	df_dialect d;
	const char *s;
	size_t len, pos;
	char delim[16];         /* MySQL DELIMITER; custom when delim_len > 0 */
	size_t delim_len;
	bool copy_data;         /* skip COPY ... FROM STDIN data next */
	bool want_directives;
	rtok *tok;
	size_t ntok, atok;
	rdirective *dir;
	size_t ndir, adir;
	size_t nmeta;           /* psql meta-commands skipped */
	df_stmt_list pre;       /* df_sql_split()'s statements, when it succeeded */
	size_t pre_i;
	bool pre_ok;
	rtok small[RLEX_SMALL];
} rlex;

void df__rlex_init(rlex *lx, df_dialect d, const char *s, size_t len);
void df__rlex_release(rlex *lx);
/* Use df_sql_split()'s statements (the ones the runner executes) when it
 * accepts the text; 1 if so, 0 when the lexer splits by itself. */
int df__rlex_presplit(rlex *lx);
/* Next statement: 1 (in *st, valid until the next call), 0 at the end, or
 * DF_EINTERNAL when out of memory. */
int df__rlex_next(rlex *lx, rstmt *st);

/* ---- token helpers (analyze.c) ------------------------------------------ */

/* Is token i a word equal (ASCII case-insensitively) to lower-case `w`? */
bool df__tok_is(const char *s, const rstmt *st, size_t i, const char *w, size_t wl);
#define TK(s, st, i, w) df__tok_is((s), (st), (i), (w), sizeof(w) - 1)
/* Is token i the punctuation character c? */
static inline bool df__tok_ch(const rstmt *st, size_t i, char c)
{
	return i < st->ntok && st->tok[i].kind == RT_OP && st->tok[i].ch == (uint8_t)c;
}

#define RNAME_MAX 128

/* A (possibly qualified) name: PostgreSQL folds unquoted words to lower
 * case; quotes are removed; parts are joined with '.'. */
typedef struct rname {
	char s[RNAME_MAX];
} rname;

/* Parse a name at token i; returns the index after it (i when none). */
size_t df__parse_name(const char *s, df_dialect d, const rstmt *st, size_t i, rname *out);
/* Do two names denote the same object?  An unqualified name matches a
 * qualified one by its last part.  Case-insensitive except PostgreSQL. */
bool df__name_eq(df_dialect d, const char *a, const char *b);
/* Append tokens [lo, hi) to b, single-spaced, at most `max` bytes. */
void df__tok_text(df_buf *b, const char *s, const rstmt *st, size_t lo, size_t hi, size_t max);

/* ---- ops (analyze.c) ---------------------------------------------------- */

enum rop_kind {
	OP_NONE = 0,            /* nothing to report (SET, BEGIN, PRAGMA ...) */
	OP_OTHER,               /* unclassified: "run statement: ..." */
	OP_CREATE_TABLE,        /* obj; ncols (-1: AS query / unknown) */
	OP_CREATE_INDEX,        /* obj = index (may be empty), tab */
	OP_CREATE,              /* what, obj; trigger: tab = its table */
	OP_DROP_TABLE,          /* obj */
	OP_DROP_INDEX,          /* obj, tab (MySQL ON t) */
	OP_DROP_SCHEMA,
	OP_DROP_DATABASE,
	OP_DROP,                /* what, obj */
	OP_ALTER,               /* what, obj: ALTER VIEW/TYPE/... */
	OP_ADD_COLUMN,          /* tab, col; type_lo */
	OP_DROP_COLUMN,         /* tab, col */
	OP_RENAME_COLUMN,       /* tab, col -> obj */
	OP_RENAME_TABLE,        /* tab -> obj */
	OP_COLUMN_TYPE,         /* tab, col; type_lo: ALTER COLUMN c TYPE t */
	OP_SET_NOT_NULL,        /* tab, col */
	OP_DROP_NOT_NULL,
	OP_SET_DEFAULT,
	OP_DROP_DEFAULT,
	OP_ADD_CONSTRAINT,      /* tab, obj = constraint name (may be empty), what */
	OP_DROP_CONSTRAINT,     /* tab, obj, what ("constraint", "index", ...) */
	OP_VALIDATE_CONSTRAINT, /* tab, obj */
	OP_MODIFY_COLUMN,       /* MySQL MODIFY/CHANGE: tab, col (old) -> obj (new); type_lo */
	OP_ALTER_TABLE_OTHER,   /* tab; tokens [lo, hi) */
	OP_TABLE_OPTION,        /* MySQL ALGORITHM=, LOCK=, ENGINE= ...: tab; tokens */
	OP_INSERT,              /* tab */
	OP_UPDATE,              /* tab; OPF_NO_WHERE */
	OP_DELETE,              /* tab; OPF_NO_WHERE */
	OP_MERGE,               /* tab */
	OP_COPY_IN,             /* tab */
	OP_TRUNCATE,            /* tab */
	OP_TX_BEGIN,
	OP_TX_COMMIT,           /* COMMIT, END, PREPARE TRANSACTION */
	OP_TX_ROLLBACK,
	OP_SET,                 /* col = setting (lower case), obj = value; OPF_LOCAL, OPF_RESET */
	OP_VACUUM,              /* tab (may be empty); OPF_FULL */
	OP_CLUSTER,
	OP_REINDEX,             /* what, obj */
	OP_ANALYZE,
	OP_LOCK,                /* tab; obj = the mode, lower case ("" = ACCESS EXCLUSIVE) */
	OP_COMMENT,             /* what, obj */
};

enum rop_flags {
	OPF_UNIQUE = (1 << 0),
	OPF_CONCURRENTLY = (1 << 1),
	OPF_TEMP = (1 << 2),
	OPF_NO_WHERE = (1 << 3),
	OPF_CASCADE = (1 << 4),
	OPF_NOT_NULL = (1 << 5),        /* column: NOT NULL */
	OPF_DEFAULT = (1 << 6),         /* column: DEFAULT (not NULL) */
	OPF_GENERATED = (1 << 7),       /* column: GENERATED / AS (expr) / IDENTITY / AUTO_INCREMENT / serial */
	OPF_LOCAL = (1 << 8),           /* SET LOCAL */
	OPF_RESET = (1 << 9),           /* RESET x */
	OPF_FULL = (1 << 10),           /* VACUUM FULL */
	OPF_AS_QUERY = (1 << 11),       /* CREATE TABLE ... AS */
	OPF_IF_EXISTS = (1 << 12),
	OPF_PK = (1 << 13),             /* column: inline PRIMARY KEY */
	OPF_INLINE_UNIQUE = (1 << 14),  /* column: inline UNIQUE */
	OPF_REFERENCES = (1 << 15),     /* column: inline REFERENCES */
	OPF_STORED = (1 << 16),         /* column: STORED generated */
	OPF_EXPR_DEFAULT = (1 << 17),   /* column: DEFAULT (expr) or a non-constant default */
	OPF_FULLTEXT = (1 << 18),       /* MySQL: FULLTEXT or SPATIAL index */
};

typedef struct rop {
	int kind;               /* enum rop_kind */
	const char *what;       /* object kind for generic ops ("view", "foreign key" ...) */
	rname tab;              /* table */
	rname col;              /* column / setting / index */
	rname obj;              /* object, new name, or value */
	int ncols;
	unsigned int flags;     /* enum rop_flags */
	size_t lo, hi;          /* token range of the (sub)command */
	size_t type_lo;         /* column definition: first token of the type */
} rop;

typedef int (*rop_fn)(void *ctx, const rstmt *st, const rop *op);

/* Classify one statement; calls fn for each op (at least one).  Returns 0
 * or the first nonzero value fn returned. */
int df__analyze(const char *s, df_dialect d, const rstmt *st, rop_fn fn, void *ctx);
/* The action text of an op (appended to b); false when the op has none. */
bool df__op_action(df_buf *b, const char *s, const rstmt *st, const rop *op);
/* Say a repeated action once, with a count ("... (2 times)"), from `from` on. */
int df__actions_merge(df_strlist *l, size_t from);
/* Does the op change data / the schema / destroy data? */
bool df__op_changes_data(const rop *op);
bool df__op_changes_schema(const rop *op);
bool df__op_destroys_data(const rop *op);
/* DROP TYPE|DOMAIN|FUNCTION|VIEW|EXTENSION ... CASCADE: what it cascades to
 * (columns of the type, generated columns, materialized views) holds data. */
bool df__drop_cascades_data(const rop *op);

/* ---- the review context (review.c) -------------------------------------- */

/* A statement already seen, for allow comments and statement text. */
typedef struct rstmt_rec {
	size_t off, len, end;
	char *text;             /* collapsed text, made on first finding */
} rstmt_rec;

typedef struct rfinding {
	const char *rule;
	int severity, risk;
	size_t off;             /* absolute offset */
	size_t stmt;            /* index in ctx->stmts */
	size_t seq;             /* creation order, for a stable sort */
	char *message, *hint;
} rfinding;

/* A table name set (tables created in this migration ...). */
typedef struct rnameset {
	rname *v;
	size_t nr, alloc;
} rnameset;

struct pg_state;

typedef struct rctx {
	df_review_opts opts;
	const char *s;
	size_t len;
	const char *file;
	rlex lx;
	rstmt_rec *stmts;
	size_t nstmts, astmts;
	rfinding *f;
	size_t nf, af;
	rop *ops;               /* ops of the current statement */
	size_t nops, aops;
	df_review_result *res;
	int error;              /* first error (out of memory) */

	/* state shared by the dialects */
	rnameset created;       /* tables created in this migration */
	rnameset created_idx;   /* indexes created in this migration */
	rnameset created_schema; /* schemas created in this migration */
	size_t cur_stmt;        /* statement findings are attributed to */
	bool in_tx;             /* inside a transaction now */
	bool explicit_tx;       /* ... opened by a BEGIN of the file */
	bool own_tx;            /* the file does its own transaction control, so
	                           devflow runs it outside a transaction */
	bool own_tx_told;       /* ... and a change outside it was reported */
	unsigned int segment;   /* transaction segment number */
	size_t begin_off, begin_stmt; /* the file's open BEGIN */
	bool any_ddl, any_dml;
	size_t first_dml_stmt, first_dml_off;
	bool has_first_dml;
	struct pg_state *pg;
	/* MySQL */
	bool my_fk_checks_off;  /* SET foreign_key_checks = 0 */
	bool my_dml_existing;   /* a data change to a table that existed before */
	size_t my_scanned;      /* statements scanned for ALGORITHM=/LOCK= + 1 */
} rctx;

/* Add a finding of `rule` at absolute offset `off` of the current statement;
 * severity/risk < 0 take the catalogue's.  Takes message and hint (may be
 * NULL on allocation failure, which sets ctx->error). */
void df__finding(rctx *ctx, const char *rule, size_t off, int severity, int risk,
	char *message, char *hint);
/* malloc'd printf (NULL when out of memory). */
char *df__fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Is the rule disabled by the options? */
bool df__rule_disabled(const rctx *ctx, const char *rule);

int df__nameset_add(rnameset *set, const char *name);
bool df__nameset_has(const rnameset *set, df_dialect d, const char *name);
void df__nameset_release(rnameset *set);

/* Was the table created by this migration (or is it in a schema that was)? */
bool df__table_is_new(rctx *ctx, const char *table);

/* The token-level rules shared by the dialects (destructive, renames, add
 * column NOT NULL); PostgreSQL uses them for statements it cannot parse. */
void df__rules_common(rctx *ctx, const rstmt *st, const rop *op);

/* Per dialect: called for each statement after df__analyze() filled ctx->ops. */
void df__pg_stmt(rctx *ctx, const rstmt *st);
void df__pg_finish(rctx *ctx);
void df__pg_release(rctx *ctx);
void df__mysql_op(rctx *ctx, const rstmt *st, const rop *op);
void df__mysql_finish(rctx *ctx);
void df__sqlite_op(rctx *ctx, const rstmt *st, const rop *op);

#endif
