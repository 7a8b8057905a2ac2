#ifndef DEVFLOW_REVIEW_H
#define DEVFLOW_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "devflow/sql.h"
#include "devflow/strlist.h"

/*
 * Risk review of migrations: what a migration does (actions, in plain
 * English) and what could go wrong when it runs (findings: locks, table
 * rewrites, destroyed data, backward-incompatible changes).  PostgreSQL is
 * reviewed on libpg_query's parse tree; MySQL/MariaDB and SQLite on tokens.
 * The library never prints: it returns structs that the CLI renders.
 * The rules, and every place where devflow disagrees with squawk, are in
 * docs/review.md.
 */

/** How bad a finding is: info (advice), warning (locks, rewrites, risky
 *  patterns), error (destroys data, breaks running code, or fails). */
typedef enum df_review_severity {
	DF_REVIEW_INFO = 0,
	DF_REVIEW_WARNING,
	DF_REVIEW_ERROR,
} df_review_severity;

/** Risk on the scale of the seed workflow's table (seeds/003). */
typedef enum df_review_risk {
	DF_RISK_LOW = 0,
	DF_RISK_MEDIUM,
	DF_RISK_HIGH,
} df_review_risk;

/** Dialect bits of a rule (df_review_rule.dialects). */
enum df_review_dialect_flags {
	DF_REVIEW_SQLITE = (1 << DF_DIALECT_SQLITE),
	DF_REVIEW_POSTGRES = (1 << DF_DIALECT_POSTGRES),
	DF_REVIEW_MYSQL = (1 << DF_DIALECT_MYSQL),
	DF_REVIEW_ALL = DF_REVIEW_SQLITE | DF_REVIEW_POSTGRES | DF_REVIEW_MYSQL,
};

/** One rule of the catalogue. */
typedef struct df_review_rule {
	const char *id;                 /**< "drop-table", "create-index-not-concurrently" ... */
	unsigned int dialects;          /**< DF_REVIEW_POSTGRES | ... */
	df_review_severity severity;    /**< default severity of its findings */
	df_review_risk risk;            /**< default risk of its findings */
	const char *summary;            /**< one line: what it flags */
} df_review_rule;

/**
 * The rule catalogue, in documentation order.
 * @param nr  set to the number of rules
 * @return a static array (never freed)
 */
const df_review_rule *df_review_rules(size_t *nr);

/**
 * Look a rule up by id (case-sensitive).
 * @return the rule, or NULL when no rule has that id
 */
const df_review_rule *df_review_rule_find(const char *id);

/** One finding.  All strings are owned by the result. */
typedef struct df_review_finding {
	const char *rule;               /**< rule id (static string) */
	df_review_severity severity;
	df_review_risk risk;
	char *file;                     /**< as passed to df_review_run(), or NULL */
	int line, column;               /**< 1-based, in the file (see opts.base_line) */
	char *statement;                /**< the statement, white space collapsed, at most ~200 bytes */
	char *message;                  /**< what it locks / rewrites / destroys / breaks */
	char *hint;                     /**< the safe alternative */
} df_review_finding;

/** The review of one migration (its UP text). */
typedef struct df_review_result {
	char *file;                     /**< or NULL */
	df_dialect dialect;
	df_review_finding *findings;    /**< sorted by position */
	size_t nr_findings;
	df_strlist actions;             /**< same strings as df_review_actions() */
	bool changes_data;              /**< INSERT/UPDATE/DELETE/MERGE/COPY/TRUNCATE... */
	bool changes_schema;            /**< any DDL */
	bool destroys_data;             /**< DROP TABLE/COLUMN/SCHEMA/DATABASE, TRUNCATE, DELETE */
	size_t statements;              /**< statements reviewed */
	size_t unparsed;                /**< PostgreSQL: statements libpg_query rejected
	                                     (reviewed on tokens only) */
	df_review_risk max_risk;        /**< highest risk of a finding; DF_RISK_LOW if none */
} df_review_result;

/** Options of df_review_run().  Start from DF_REVIEW_OPTS_INIT. */
typedef struct df_review_opts {
	df_dialect dialect;
	/** PostgreSQL major version of the target (11, 12 ... 17); 0: 15. */
	int pg_version;
	/** The migration runs inside one transaction (devflow's default, i.e.
	 *  no `-- devflow:no-transaction` directive).  A line
	 *  `-- devflow:no-transaction` among the leading comments of `sql`
	 *  also clears it. */
	bool in_transaction;
	/** Rule ids not to report (e.g. df_config.review_disabled), or NULL.
	 *  Check user input with df_review_rule_find(). */
	const df_strlist *disabled;
	/** Line and column of sql[0] in `file` (0: 1), so that positions are
	 *  file positions when `sql` is a section of a larger file. */
	int base_line, base_column;
	/** The target's current type of a column, for PostgreSQL type changes
	 *  (NULL: no target).  Writes the type as format_type() spells it
	 *  ("character varying(20)", "numeric(10,2)") into out; returns 0, or
	 *  a negative code when the column is not known (the review then rates
	 *  the change as unknown: high).  df_review_column_type_conn() in
	 *  devflow/core.h reads it from a connection. */
	int (*column_type)(char *out, size_t size, const char *table,
		const char *column, void *payload);
	void *column_type_payload;
	/** The migration's format (df_migration.format, DF_FMT_*; 0: devflow's
	 *  own): a statement that needs a file of its own is then advised the
	 *  way that tool runs one (dbmate's transaction:false, goose's NO
	 *  TRANSACTION, a file of its own for golang-migrate and Flyway). */
	int format;
} df_review_opts;

#define DF_REVIEW_OPTS_INIT { DF_DIALECT_POSTGRES, 15, true, NULL, 1, 1, NULL, NULL, 0 }

/** Initialise `opts` to DF_REVIEW_OPTS_INIT. */
void df_review_opts_init(df_review_opts *opts);

/**
 * Review one migration's UP text.
 *
 * Never fails on bad SQL: statements that cannot be parsed are reviewed on
 * their tokens (and counted in `unparsed`); psql meta-commands (`\set`,
 * `\d` ...) and COPY ... FROM STDIN data are skipped.  Directive comments
 * `-- devflow:allow RULE[,RULE...]` in a statement's leading comments (the
 * comment lines between the previous statement and this one), inside the
 * statement, or trailing on its last line suppress those rules for that
 * statement.
 *
 * @param out   set to a new result on success; free with df_review_result_free()
 * @param opts  NULL for DF_REVIEW_OPTS_INIT
 * @param file  file name reported in findings (copied), or NULL
 * @param sql   the text (need not be NUL-terminated)
 * @param len   its length in bytes
 * @return 0, or DF_EINTERNAL when out of memory
 */
int df_review_run(df_review_result **out, const df_review_opts *opts,
	const char *file, const char *sql, size_t len);

/** Free a result and everything it owns; NULL is a no-op. */
void df_review_result_free(df_review_result *r);

/**
 * Plain-English actions of a migration's UP text, one string per action,
 * appended to `out`: "create table users (4 columns)", "add column status
 * to users", "drop column legacy from users (destroys data)", "update rows
 * in users (data change)" ...  Statements it cannot classify become
 * "run statement: <first words>...".  Token-level only (no parser), so it is
 * cheap enough for `db status` over thousands of files.
 *
 * @param out  list to append to (the caller owns the strings)
 * @param d    dialect of the text
 * @param sql  the text (need not be NUL-terminated)
 * @param len  its length
 * @return 0, or DF_EINTERNAL when out of memory; never fails on bad SQL
 */
int df_review_actions(df_strlist *out, df_dialect d, const char *sql, size_t len);

/**
 * The table a statement (a finding's `statement`) acts on, for the impact
 * estimate: ALTER/DROP/TRUNCATE TABLE, CREATE INDEX ... ON, UPDATE, DELETE,
 * INSERT, VACUUM, CLUSTER, REINDEX TABLE.
 * @return 0 with the name (possibly schema-qualified) in out, or -1 when unknown
 */
int df_review_table_of(char *out, size_t size, const char *statement);

/** "info", "warning", "error". */
const char *df_review_severity_name(df_review_severity s);
/** "low", "medium", "high". */
const char *df_review_risk_name(df_review_risk r);

/**
 * Parse a `--fail-on` value: "low", "medium" or "high" (case-insensitive).
 * @return 0, or DF_EUSAGE (message set) for anything else
 */
int df_review_risk_parse(df_review_risk *out, const char *name);

/**
 * Does a finding of risk `risk` reach the `--fail-on` threshold?
 * (`--fail-on medium` blocks medium and high.)
 */
static inline bool df_review_risk_reaches(df_review_risk risk, df_review_risk threshold)
{
	return risk >= threshold;
}

/** Does any finding of `r` reach `threshold`? */
bool df_review_result_fails(const df_review_result *r, df_review_risk threshold);

#endif
