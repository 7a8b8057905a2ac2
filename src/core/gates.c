/*
 * Receipts for the safety gates, read back from the audit log: a dry-run of
 * the same pending set on the same database, a recent backup.  A receipt is
 * "key=value;..." text in the audit row's `receipt` column, with the time as
 * seconds since the epoch so that no engine's date format matters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

const char *df_receipt_state_name(df_receipt_state s)
{
	switch (s) {
	case DF_RECEIPT_OK: return "ok";
	case DF_RECEIPT_NONE: return "none";
	case DF_RECEIPT_STALE: return "stale";
	case DF_RECEIPT_OTHER_SET: return "another pending set";
	case DF_RECEIPT_FILE_GONE: return "backup file missing or changed";
	default: return "another database";
	}
}

char *df_receipt_dryrun(const char *set_hash)
{
	df_buf b = DF_BUF_INIT;

	df_buf_printf(&b, "set=%s;t=%lld", set_hash, (long long)time(NULL));
	return df_buf_detach(&b);
}

/* The value of `key` in a receipt, copied into buf; "" when absent. */
static const char *field(char *buf, size_t size, const char *receipt, const char *key)
{
	size_t klen = strlen(key);
	const char *p = receipt;

	buf[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, ";");
			snprintf(buf, size, "%.*s", (int)n, p + klen + 1);
			return buf;
		}
		p = strchr(p, ';');
		if (p)
			p++;
	}
	return buf;
}

/* Does the backup a receipt names still exist, with its recorded size? */
static bool backup_file_ok(const char *receipt)
{
	df_error *saved = df_error_save();
	bool ok = df_backup_receipt_file_ok(receipt) == 0;

	df_error_restore(saved);
	return ok;
}

static int find(df_receipt_state *out, long *age, df_conn *conn, const char *table,
	const char *op, const char *set_hash, const char *server, long max_age)
{
	df_rows *rows = NULL;
	df_receipt_state best = DF_RECEIPT_NONE;
	long best_age = -1;
	time_t now = time(NULL);
	int error;

	*out = DF_RECEIPT_NONE;
	*age = -1;
	if ((error = df_audit_read(&rows, conn, table, op, 200)) < 0)
		return error;
	for (size_t r = 0; r < rows->nrows; r++) {
		const char *result = df_rows_get(rows, r, 7), *receipt = df_rows_get(rows, r, 9);
		const char *srv = df_rows_get(rows, r, 10);
		char t[32], set[80];
		long a;

		if (!result || strcmp(result, "ok") || !receipt)
			continue;
		a = (long)(now - (time_t)atoll(field(t, sizeof(t), receipt, "t")));
		if (!srv || strcmp(srv, server)) {
			if (best == DF_RECEIPT_NONE)
				best = DF_RECEIPT_OTHER_DB, best_age = a;
			continue;
		}
		if (set_hash && strcmp(field(set, sizeof(set), receipt, "set"), set_hash)) {
			if (best == DF_RECEIPT_NONE || best == DF_RECEIPT_OTHER_DB)
				best = DF_RECEIPT_OTHER_SET, best_age = a;
			continue;
		}
		if (a > max_age) {
			if (best != DF_RECEIPT_STALE)
				best = DF_RECEIPT_STALE, best_age = a;
			continue;
		}
		if (!strcmp(op, "backup") && !backup_file_ok(receipt)) {
			/* the audit row outlived its file: not a backup any more */
			if (best != DF_RECEIPT_STALE)
				best = DF_RECEIPT_FILE_GONE, best_age = a;
			continue;
		}
		best = DF_RECEIPT_OK;
		best_age = a;
		break;
	}
	df_rows_free(rows);
	*out = best;
	*age = best_age;
	return 0;
}

int df_gate_dryrun(df_receipt_state *out, long *age, df_conn *conn, const char *table,
	const char *set_hash, const char *server, long max_age)
{
	return find(out, age, conn, table, "dry-run", set_hash, server, max_age);
}

int df_gate_backup(df_receipt_state *out, long *age, df_conn *conn, const char *table,
	const char *server, long max_age)
{
	return find(out, age, conn, table, "backup", NULL, server, max_age);
}
