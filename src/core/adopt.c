/*
 * Other tools' histories: dbmate's and golang-migrate's schema_migrations,
 * Flyway's flyway_schema_history, goose's goose_db_version.
 *
 * A database another tool migrated is adopted, not re-run: its versions are
 * recorded as applied in devflow's table (once, with an audit row).  While
 * the folder stays in that tool's format, every migration devflow applies or
 * reverts also gets that tool's row, so the tool's own status agrees and the
 * team can go back to it.  The tables' shapes are those the tools create:
 *
 *   dbmate          schema_migrations (version varchar(128) primary key)
 *   golang-migrate  schema_migrations (version bigint not null primary key,
 *                   dirty boolean not null): one row, the current version
 *   Flyway          flyway_schema_history (installed_rank, version,
 *                   description, type, script, checksum, installed_by,
 *                   installed_on, execution_time, success)
 *   goose           goose_db_version (id, version_id, is_applied, tstamp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

const char *df_tool_name(df_tool t)
{
	switch (t) {
	case DF_TOOL_DBMATE: return "dbmate";
	case DF_TOOL_GOLANG: return "golang-migrate";
	case DF_TOOL_FLYWAY: return "Flyway";
	case DF_TOOL_GOOSE: return "goose";
	default: return "none";
	}
}

const char *df_tool_table(df_tool t)
{
	switch (t) {
	case DF_TOOL_DBMATE:
	case DF_TOOL_GOLANG: return "schema_migrations";
	case DF_TOOL_FLYWAY: return "flyway_schema_history";
	case DF_TOOL_GOOSE: return "goose_db_version";
	default: return NULL;
	}
}

df_tool df_tool_of_format(df_mig_format f)
{
	switch (f) {
	case DF_FMT_DBMATE: return DF_TOOL_DBMATE;
	case DF_FMT_GOLANG: return DF_TOOL_GOLANG;
	case DF_FMT_FLYWAY: return DF_TOOL_FLYWAY;
	case DF_FMT_GOOSE: return DF_TOOL_GOOSE;
	default: return DF_TOOL_NONE;
	}
}

void df_tool_history_release(df_tool_history *h)
{
	df_strlist_release(&h->applied);
	df_strlist_release(&h->failed);
	memset(h, 0, sizeof(*h));
}

/* Does `table` have column `col`? (rows of df_conn_table_columns) */
static bool has_col(const df_rows *cols, const char *col)
{
	for (size_t i = 0; cols && i < cols->nrows; i++)
		if (!strcmp(df_rows_get(cols, i, 0), col))
			return true;
	return false;
}

/* Which tool's table the database holds, preferring `prefer`. */
static int find_tool(df_tool *out, df_conn *conn, df_tool prefer)
{
	df_tool found[3];
	size_t n = 0;
	df_rows *cols = NULL;
	int error;

	*out = DF_TOOL_NONE;
	for (size_t i = 0; i < 3; i++) {
		const char *t = i == 0 ? "flyway_schema_history" : i == 1 ? "goose_db_version" : "schema_migrations";
		if ((error = df_conn_table_columns(conn, &cols, t)) < 0)
			return error;
		if (i == 0 && has_col(cols, "installed_rank") && has_col(cols, "success"))
			found[n++] = DF_TOOL_FLYWAY;
		else if (i == 1 && has_col(cols, "version_id") && has_col(cols, "is_applied"))
			found[n++] = DF_TOOL_GOOSE;
		else if (i == 2 && has_col(cols, "version"))
			found[n++] = has_col(cols, "dirty") ? DF_TOOL_GOLANG : DF_TOOL_DBMATE;
		df_rows_free(cols);
		cols = NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (found[i] == prefer)
			return *out = prefer, 0;
	if (n)
		*out = found[0];
	return 0;
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "t") || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "TRUE"));
}

/* Remove `v` from the list (versions compared numerically). */
static void list_remove(df_strlist *l, const char *v)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!df_version_cmp(l->v[i], v)) {
			free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (l->nr - i - 1) * sizeof(*l->v));
			l->nr--;
			return;
		}
}

static int list_set(df_strlist *on, df_strlist *off, const char *v)
{
	list_remove(on, v);
	list_remove(off, v);
	return df_strlist_push(on, v);
}

int df_tool_history_read(df_tool_history *h, df_conn *conn, const df_migration_set *set, df_tool prefer)
{
	df_rows *rows = NULL;
	df_strlist none = DF_STRLIST_INIT;
	int error;

	memset(h, 0, sizeof(*h));
	if ((error = find_tool(&h->tool, conn, prefer)) < 0 || h->tool == DF_TOOL_NONE)
		return error;
	switch (h->tool) {
	case DF_TOOL_DBMATE:
		if ((error = df_conn_query(conn, &rows, "SELECT version FROM schema_migrations", NULL, 0)) < 0)
			break;
		for (size_t i = 0; i < rows->nrows && !error; i++)
			error = df_strlist_push(&h->applied, df_rows_get(rows, i, 0));
		break;
	case DF_TOOL_GOLANG:
		/* one row: every file up to `version` is applied; a dirty one failed */
		if ((error = df_conn_query(conn, &rows, "SELECT version, dirty FROM schema_migrations",
			NULL, 0)) < 0 || !rows->nrows)
			break;
		for (size_t i = 0; i < set->nr && !error; i++) {
			const char *cur = df_rows_get(rows, 0, 0);
			int c = df_version_cmp(set->v[i].version, cur);
			if (c < 0 || (c == 0 && !truthy(df_rows_get(rows, 0, 1))))
				error = df_strlist_push(&h->applied, set->v[i].version);
			else if (c == 0)
				error = df_strlist_push(&h->failed, set->v[i].version);
		}
		break;
	case DF_TOOL_FLYWAY:
		/* in order of installation; a version's last row decides */
		if ((error = df_conn_query(conn, &rows, "SELECT version, type, success FROM "
			"flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank", NULL, 0)) < 0)
			break;
		for (size_t i = 0; i < rows->nrows && !error; i++) {
			const char *v = df_rows_get(rows, i, 0), *type = df_rows_get(rows, i, 1);
			bool ok = truthy(df_rows_get(rows, i, 2));
			if (!type || !strcmp(type, "DELETE") || !strcmp(type, "SCHEMA"))
				continue;
			if (!strncmp(type, "UNDO_", 5)) {
				if (ok)
					list_set(&none, &h->applied, v);
				continue;
			}
			if (!strcmp(type, "BASELINE")) {
				/* versions up to the baseline count as applied */
				for (size_t j = 0; j < set->nr && !error; j++)
					if (df_version_cmp(set->v[j].version, v) <= 0)
						error = list_set(&h->applied, &h->failed, set->v[j].version);
				continue;
			}
			error = ok ? list_set(&h->applied, &h->failed, v) : list_set(&h->failed, &h->applied, v);
		}
		break;
	case DF_TOOL_GOOSE:
		if ((error = df_conn_query(conn, &rows, "SELECT version_id, is_applied FROM goose_db_version "
			"ORDER BY id", NULL, 0)) < 0)
			break;
		for (size_t i = 0; i < rows->nrows && !error; i++) {
			const char *v = df_rows_get(rows, i, 0);
			if (!v || !strcmp(v, "0"))
				continue;       /* goose's own first row */
			if (truthy(df_rows_get(rows, i, 1)))
				error = list_set(&h->applied, &none, v);
			else
				list_set(&none, &h->applied, v);
		}
		break;
	default:
		break;
	}
	df_strlist_release(&none);
	df_rows_free(rows);
	if (error < 0) {
		df_error_prefix("cannot read %s's history (%s)", df_tool_name(h->tool), df_tool_table(h->tool));
		df_tool_history_release(h);
	}
	return error;
}

static const df_migration *find_version(const df_migration_set *set, const char *v)
{
	for (size_t i = 0; i < set->nr; i++)
		if (!df_version_cmp(set->v[i].version, v))
			return &set->v[i];
	return NULL;
}

/* devflow's own table holds a row for `m` (rows merged from the tool's
 * history, df_tool_history_merge, are not devflow's). */
static bool in_ledger(const df_ledger *l, const df_migration *m)
{
	for (size_t i = 0; l && i < l->nr; i++)
		if (!l->v[i].adopted_from && (!strcmp(l->v[i].filename, m->file) ||
		    (l->v[i].version && !df_version_cmp(l->v[i].version, m->version))))
			return true;
	return false;
}

/* The error a failed version's row carries: where it failed, and how that
 * tool's history says so (no statement count: the tool does not keep one). */
static int failed_under(df_buf *out, df_tool tool)
{
	df_buf_printf(out, "failed under %s (its history marks it %s)", df_tool_name(tool),
		tool == DF_TOOL_GOLANG ? "dirty" : "failed");
	return df_buf_oom(out) ? df_error_oom() : 0;
}

static bool in_list(const df_strlist *l, const char *v)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!df_version_cmp(l->v[i], v))
			return true;
	return false;
}

/*
 * devflow's row of a version that the tool's history no longer holds,
 * while the folder is in that tool's format: the tool rolled it back since
 * (devflow writes the tool's row of every migration it applies there, so
 * only the tool takes one away).
 */
static bool reverted_there(const df_ledger_row *r, const df_migration_set *set, const df_tool_history *h)
{
	const df_migration *m;

	if (r->adopted_from || r->state != DF_ROW_APPLIED || !r->version ||
	    !(m = find_version(set, r->version)) || m->repeatable || strcmp(m->file, r->filename))
		return false;
	return !in_list(&h->applied, m->version) && !in_list(&h->failed, m->version);
}

/*
 * Sorted views for the merge, which runs on every status: 10,000 versions
 * looked up one by one in lists of 10,000 took seconds (issue 26).  A key
 * and its position; equal keys in the order of their positions, so the
 * first match is the one a front-to-back scan finds.
 */
struct key {
	const char *k;
	size_t pos;
};

struct index {
	struct key *v;
	size_t nr;
	bool by_name;           /* strcmp, else df_version_cmp */
};

static int key_cmp(const struct index *x, const char *a, const char *b)
{
	return x->by_name ? strcmp(a, b) : df_version_cmp(a, b);
}

static int cmp_version_key(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c = df_version_cmp(a->k, b->k);

	return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int cmp_name_key(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c = strcmp(a->k, b->k);

	return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int index_add(struct index *x, const char *k, size_t pos)
{
	x->v[x->nr].k = k;
	x->v[x->nr++].pos = pos;
	return 0;
}

static int index_alloc(struct index *x, size_t n, bool by_name)
{
	x->nr = 0;
	x->by_name = by_name;
	return (x->v = malloc((n ? n : 1) * sizeof(*x->v))) ? 0 : df_error_oom();
}

static void index_sort(struct index *x)
{
	qsort(x->v, x->nr, sizeof(*x->v), x->by_name ? cmp_name_key : cmp_version_key);
}

/* The position of the first key equal to k, or -1. */
static long index_find(const struct index *x, const char *k)
{
	size_t lo = 0, hi = x->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(x, x->v[mid].k, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nr && !key_cmp(x, x->v[lo].k, k) ? (long)x->v[lo].pos : -1;
}

struct merge_index {
	struct index set;               /* the files' versions */
	struct index applied, failed;   /* the tool's history */
	struct index names, versions;   /* devflow's own rows */
};

static void merge_index_release(struct merge_index *mi)
{
	free(mi->set.v);
	free(mi->applied.v);
	free(mi->failed.v);
	free(mi->names.v);
	free(mi->versions.v);
}

static int merge_index_rows(struct merge_index *mi, const df_ledger *l)
{
	int error;

	free(mi->names.v);
	free(mi->versions.v);
	mi->names.v = mi->versions.v = NULL;
	if ((error = index_alloc(&mi->names, l->nr, true)) < 0 ||
	    (error = index_alloc(&mi->versions, l->nr, false)) < 0)
		return error;
	for (size_t i = 0; i < l->nr; i++) {
		if (l->v[i].adopted_from)
			continue;
		index_add(&mi->names, l->v[i].filename, i);
		if (l->v[i].version)
			index_add(&mi->versions, l->v[i].version, i);
	}
	index_sort(&mi->names);
	index_sort(&mi->versions);
	return 0;
}

static int merge_index_init(struct merge_index *mi, const df_migration_set *set, const df_tool_history *h)
{
	int error;

	memset(mi, 0, sizeof(*mi));
	if ((error = index_alloc(&mi->set, set->nr, false)) < 0 ||
	    (error = index_alloc(&mi->applied, h->applied.nr, false)) < 0 ||
	    (error = index_alloc(&mi->failed, h->failed.nr, false)) < 0)
		return error;
	for (size_t i = 0; i < set->nr; i++)
		index_add(&mi->set, set->v[i].version, i);
	for (size_t i = 0; i < h->applied.nr; i++)
		index_add(&mi->applied, h->applied.v[i], i);
	for (size_t i = 0; i < h->failed.nr; i++)
		index_add(&mi->failed, h->failed.v[i], i);
	index_sort(&mi->set);
	index_sort(&mi->applied);
	index_sort(&mi->failed);
	return 0;
}

/* find_version, in_ledger and reverted_there through the index */
static const df_migration *ix_find_version(const struct merge_index *mi, const df_migration_set *set,
	const char *v)
{
	long at = index_find(&mi->set, v);

	return at < 0 ? NULL : &set->v[at];
}

static bool ix_in_ledger(const struct merge_index *mi, const df_migration *m)
{
	return index_find(&mi->names, m->file) >= 0 || index_find(&mi->versions, m->version) >= 0;
}

static bool ix_reverted_there(const struct merge_index *mi, const df_ledger_row *r,
	const df_migration_set *set)
{
	const df_migration *m;

	if (r->adopted_from || r->state != DF_ROW_APPLIED || !r->version ||
	    !(m = ix_find_version(mi, set, r->version)) || m->repeatable || strcmp(m->file, r->filename))
		return false;
	return index_find(&mi->applied, m->version) < 0 && index_find(&mi->failed, m->version) < 0;
}

int df_tool_history_merge(df_ledger *l, df_strlist *reverted, const df_migration_set *set,
	const df_tool_history *h, bool mirror)
{
	df_buf err = DF_BUF_INIT;
	size_t want = l->nr + h->applied.nr + h->failed.nr, kept = 0;
	struct merge_index mi;
	df_ledger_row *v;
	int error = 0;

	if ((error = merge_index_init(&mi, set, h)) < 0)
		goto out;
	for (size_t i = 0; mirror && i < l->nr; i++) {
		df_ledger_row *r = &l->v[i];
		if (!ix_reverted_there(&mi, r, set)) {
			l->v[kept++] = *r;
			continue;
		}
		/* out of the view: the plan counts it pending */
		if (reverted && (error = df_strlist_push(reverted, r->version)) < 0)
			goto out;
		df_ledger_row_release(r);
	}
	if (mirror)
		l->nr = kept;
	if (want == l->nr || !want)
		goto out;
	if (!(v = realloc(l->v, want * sizeof(*v)))) {
		error = df_error_oom();
		goto out;
	}
	l->v = v;
	/* devflow's own rows, as kept: the rows added below are the tool's */
	if ((error = failed_under(&err, h->tool)) < 0 || (error = merge_index_rows(&mi, l)) < 0)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		const df_strlist *list = pass ? &h->failed : &h->applied;
		for (size_t i = 0; i < list->nr; i++) {
			const df_migration *m = ix_find_version(&mi, set, list->v[i]);
			df_ledger_row *row;
			if (!m || m->repeatable || ix_in_ledger(&mi, m))
				continue;
			row = &l->v[l->nr];
			memset(row, 0, sizeof(*row));
			row->state = pass ? DF_ROW_FAILED : DF_ROW_APPLIED;
			row->statements_done = -1;
			row->adopted_from = df_tool_name(h->tool);
			if (!(row->filename = strdup(m->file)) || !(row->version = strdup(m->version)) ||
			    !(row->checksum = strdup(m->checksum)) ||
			    (pass && !(row->error = strdup(err.ptr)))) {
				free(row->filename);
				free(row->version);
				free(row->checksum);
				error = df_error_oom();
				goto out;
			}
			l->nr++;
		}
	}
out:
	merge_index_release(&mi);
	df_buf_release(&err);
	return error;
}

int df_tool_adopt(df_strlist *adopted, df_strlist *failed, df_strlist *orphans, df_strlist *reverted,
	df_conn *conn, const char *table, const df_migration_set *set, const df_ledger *ledger,
	const df_tool_history *h)
{
	df_buf sql = DF_BUF_INIT, err = DF_BUF_INIT;
	int error = failed_under(&err, h->tool);

	/* what the tool rolled back: devflow forgets its row (the effects are
	 * gone, as after `db resolve --rolled-back`) */
	for (size_t i = 0; reverted && ledger && i < ledger->nr && !error; i++)
		if (reverted_there(&ledger->v[i], set, h) &&
		    (error = df_ledger_forget(conn, table, ledger->v[i].filename)) == 0)
			error = df_strlist_push(reverted, ledger->v[i].version);

	for (int pass = 0; pass < 2 && !error; pass++) {
		const df_strlist *l = pass ? &h->failed : &h->applied;
		for (size_t i = 0; i < l->nr && !error; i++) {
			const df_migration *m = find_version(set, l->v[i]);
			if (!m) {
				error = df_strlist_push(orphans, l->v[i]);
				continue;
			}
			if (m->repeatable || in_ledger(ledger, m))
				continue;
			if (!pass) {
				error = df_ledger_mark_applied(conn, table, m);
			} else {
				/* one statement: a crash never leaves a version that
				 * failed there recorded as applied here */
				char who[DF_WHOAMI_MAX];
				const char *p[] = { m->file, m->version, m->checksum, df_whoami(who, sizeof(who)), err.ptr };
				df_buf_truncate(&sql, 0);
				df_buf_printf(&sql, "INSERT INTO %s (filename, version, checksum, applied_by, state, "
					"error, applied_at) VALUES (?, ?, ?, ?, 'failed', ?, CURRENT_TIMESTAMP)", table);
				error = df_buf_oom(&sql) ? df_error_oom() : df_conn_query(conn, NULL, sql.ptr, p, 5);
			}
			if (error < 0)
				break;
			error = df_strlist_push(pass ? failed : adopted, m->version);
		}
	}
	df_buf_release(&sql);
	df_buf_release(&err);
	return error;
}

/* ---- the tools' rows for what devflow applies and reverts ------------------- */

/* A version as the tools that keep it as a number write it: "000012" -> "12". */
static const char *numeric(const char *v)
{
	while (*v == '0' && v[1])
		v++;
	return v;
}

/* CRC-32 (IEEE), as java.util.zip.CRC32 computes it. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Flyway's checksum: the CRC-32 of the file's lines without their line breaks
 * (and without a BOM), as a signed 32-bit number. */
static int flyway_checksum(const df_migration *m, long *out)
{
	char *text = NULL;
	size_t len, i = 0;
	uint32_t crc = 0;
	int error;

	if ((error = df_section_read(&text, &len, &m->up)) < 0)
		return error;
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		i = 3;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n' && text[e] != '\r')
			e++;
		crc = crc32_update(crc, (const unsigned char *)text + i, e - i);
		if (e < len && text[e] == '\r' && e + 1 < len && text[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	free(text);
	*out = (long)(int32_t)crc;
	return 0;
}

int df_tool_record(df_conn *conn, df_tool tool, const df_migration_set *set, const df_migration *m,
	bool reverted)
{
	char who[DF_WHOAMI_MAX];
	df_buf sql = DF_BUF_INIT, desc = DF_BUF_INIT, sum = DF_BUF_INIT;
	const char *v = numeric(m->version), *ver = m->version;
	int error = 0;

	switch (tool) {
	case DF_TOOL_DBMATE:
		error = df_conn_query(conn, NULL, reverted ? "DELETE FROM schema_migrations WHERE version = ?" :
			"INSERT INTO schema_migrations (version) VALUES (?)", &ver, 1);
		break;
	case DF_TOOL_GOLANG: {
		/* one row: the version now current (the one before m after a revert) */
		const char *cur = reverted ? NULL : v;
		if (reverted)
			for (size_t i = 0; i < set->nr && df_version_cmp(set->v[i].version, m->version) < 0; i++)
				cur = numeric(set->v[i].version);
		if ((error = df_conn_query(conn, NULL, "DELETE FROM schema_migrations", NULL, 0)) == 0 && cur)
			error = df_conn_query(conn, NULL, "INSERT INTO schema_migrations (version, dirty) "
				"VALUES (?, FALSE)", &cur, 1);
		break;
	}
	case DF_TOOL_FLYWAY: {
		long crc;
		if (reverted) {
			error = df_conn_query(conn, NULL, "DELETE FROM flyway_schema_history WHERE version = ?",
				&ver, 1);
			break;
		}
		if ((error = flyway_checksum(m, &crc)) < 0)
			break;
		for (const char *p = m->name; *p; p++)
			df_buf_putc(&desc, *p == '_' ? ' ' : *p);
		df_buf_printf(&sum, "%ld", crc);
		/* a repeatable's row has no version */
		const char *p[] = { m->repeatable ? NULL : m->version, desc.ptr, m->file, sum.ptr, df_whoami(who, sizeof(who)) };
		error = df_buf_oom(&desc) || df_buf_oom(&sum) ? df_error_oom() :
			df_conn_query(conn, NULL, "INSERT INTO flyway_schema_history (installed_rank, version, "
				"description, type, script, checksum, installed_by, installed_on, execution_time, "
				"success) SELECT COALESCE(MAX(installed_rank), 0) + 1, ?, ?, 'SQL', ?, ?, ?, "
				"CURRENT_TIMESTAMP, 0, TRUE FROM flyway_schema_history", p, 5);
		break;
	}
	case DF_TOOL_GOOSE:
		error = df_conn_query(conn, NULL, reverted ? "DELETE FROM goose_db_version WHERE version_id = ?" :
			"INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, TRUE)", &v, 1);
		break;
	default:
		break;
	}
	if (error < 0)
		df_error_prefix("'%s' is %s, but %s's %s could not record it", m->file,
			reverted ? "reverted" : "applied", df_tool_name(tool), df_tool_table(tool));
	df_buf_release(&sql);
	df_buf_release(&desc);
	df_buf_release(&sum);
	return error;
}

/* The first column of the first row of `sql` as a number; -1: no row or NULL. */
static int query_num(long *out, df_conn *conn, const char *sql, const char **p, size_t np)
{
	df_rows *rows = NULL;
	const char *v;
	int error;

	*out = -1;
	if ((error = df_conn_query(conn, &rows, sql, p, np)) < 0)
		return error;
	if (rows->nrows && (v = df_rows_get(rows, 0, 0)))
		*out = strtol(v, NULL, 10);
	df_rows_free(rows);
	return 0;
}

/* golang-migrate's one row: `v` (NULL: no row), clean. */
static int golang_set(df_conn *conn, const char *v)
{
	int error = df_conn_query(conn, NULL, "DELETE FROM schema_migrations", NULL, 0);

	if (error == 0 && v)
		error = df_conn_query(conn, NULL, "INSERT INTO schema_migrations (version, dirty) "
			"VALUES (?, FALSE)", &v, 1);
	return error;
}

/*
 * `db resolve`: a person says how `m` ended, and the tool's history says
 * the same at once, so the tool (and devflow's next read of it) agrees:
 * applied, the tool's row is there (Flyway's failed row succeeds,
 * golang-migrate's version is at least m and clean); rolled back, it is
 * gone (Flyway's rows of that version removed, as `flyway repair` does;
 * golang-migrate's version the one before m, clean).
 */
int df_tool_resolve(df_conn *conn, df_tool tool, const df_migration_set *set, const df_migration *m,
	bool applied)
{
	const char *ver = m->version, *v = numeric(m->version);
	long n;
	int error = 0;

	switch (tool) {
	case DF_TOOL_DBMATE:
		if ((error = query_num(&n, conn, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?",
			&ver, 1)) < 0)
			break;
		if (applied && n <= 0)
			error = df_tool_record(conn, tool, set, m, false);
		else if (!applied && n > 0)
			error = df_tool_record(conn, tool, set, m, true);
		break;
	case DF_TOOL_GOLANG: {
		char cur[32];
		if ((error = query_num(&n, conn, "SELECT version FROM schema_migrations", NULL, 0)) < 0)
			break;
		snprintf(cur, sizeof(cur), "%ld", n);
		if (applied)
			error = golang_set(conn, n >= 0 && df_version_cmp(cur, v) > 0 ? cur : v);
		else if (n >= 0 && df_version_cmp(cur, v) >= 0)
			error = df_tool_record(conn, tool, set, m, true);   /* the version before m */
		else
			error = golang_set(conn, n >= 0 ? cur : NULL);
		break;
	}
	case DF_TOOL_FLYWAY:
		if (!applied) {
			error = df_conn_query(conn, NULL, "DELETE FROM flyway_schema_history WHERE version = ?",
				&ver, 1);
			break;
		}
		if ((error = query_num(&n, conn, "SELECT COUNT(*) FROM flyway_schema_history WHERE version = ?",
			&ver, 1)) < 0)
			break;
		error = n > 0 ? df_conn_query(conn, NULL, "UPDATE flyway_schema_history SET success = TRUE "
			"WHERE version = ?", &ver, 1) : df_tool_record(conn, tool, set, m, false);
		break;
	case DF_TOOL_GOOSE:
		/* the newest row of a version decides */
		if ((error = query_num(&n, conn, "SELECT CASE WHEN is_applied THEN 1 ELSE 0 END "
			"FROM goose_db_version WHERE version_id = ? ORDER BY id DESC", &v, 1)) < 0)
			break;
		if (applied && n <= 0)
			error = df_tool_record(conn, tool, set, m, false);
		else if (!applied && n >= 0)
			error = df_tool_record(conn, tool, set, m, true);
		break;
	default:
		break;
	}
	if (error < 0)
		df_error_prefix("%s's %s could not record it", df_tool_name(tool), df_tool_table(tool));
	return error;
}
