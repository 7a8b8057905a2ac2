/*
 * New migration files (db create, db generate): the name, the version and
 * the paths a new migration gets in a folder, in the folder's own format,
 * and its text.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

int df_migration_name_normalize(df_buf *out, const char *name)
{
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '_')
			df_buf_putc(out, (char)tolower(c));
		else if (c == '-' || c == ' ' || c == '.')
			df_buf_putc(out, '_');
		else
			return df_error_set(DF_EUSAGE, "migration name '%s' may hold only letters, "
				"digits, '_' and '-'", name);
	}
	if (!out->size || out->size > 200)
		return df_error_set(DF_EUSAGE, "migration name must be 1 to 200 characters");
	return df_buf_oom(out) ? df_error_oom() : 0;
}

const char *df_mig_up_marker(df_mig_format f)
{
	return f == DF_FMT_DBMATE ? "-- migrate:up\n" : f == DF_FMT_GOOSE ? "-- +goose Up\n" :
		f == DF_FMT_DEVFLOW ? "-- UP\n" : "";
}

const char *df_mig_down_marker(df_mig_format f)
{
	return f == DF_FMT_DBMATE ? "-- migrate:down\n" : f == DF_FMT_GOOSE ? "-- +goose Down\n" :
		f == DF_FMT_DEVFLOW ? "-- DOWN\n" : "";
}

/* A 14-digit timestamp version (devflow's, dbmate's)? */
static bool timestamped(const char *v)
{
	return strlen(v) >= 12 && strspn(v, "0123456789") == strlen(v);
}

int df_migration_new(df_new_migration *out, const df_migration_set *set, const char *dir,
	const char *name, const char *after, time_t now)
{
	df_buf path = DF_BUF_INIT, down = DF_BUF_INIT;
	size_t versioned = set->nr;
	const char *last;

	memset(out, 0, sizeof(*out));
	/* the folder's own format: that of its newest versioned migration */
	while (versioned && set->v[versioned - 1].repeatable)
		versioned--;
	out->format = set->nr ? set->v[set->nr - 1].format : DF_FMT_DEVFLOW;
	last = after ? after : versioned ? set->v[versioned - 1].version : NULL;
	if (last && !timestamped(last)) {
		/* sequential versions (golang-migrate's 000001, Flyway's V1): the next
		 * number, as wide as the newest */
		size_t width = strspn(last, "0123456789");
		unsigned long long v = strtoull(last, NULL, 10) + 1;
		snprintf(out->version, sizeof(out->version), "%0*llu", last[0] == '0' ? (int)width : 1, v);
	} else {
		/* a free version: now, or the next second after the newest one */
		for (;;) {
			strftime(out->version, sizeof(out->version), "%Y%m%d%H%M%S", gmtime_r(&now, &(struct tm){ 0 }));
			if (!df_migration_set_find(set, out->version) &&
			    (!last || df_version_cmp(out->version, last) > 0))
				break;
			now++;
		}
	}
	switch (out->format) {
	case DF_FMT_GOLANG:
		df_buf_printf(&path, "%s/%s_%s.up.sql", dir, out->version, name);
		df_buf_printf(&down, "%s/%s_%s.down.sql", dir, out->version, name);
		break;
	case DF_FMT_FLYWAY:
		df_buf_printf(&path, "%s/V%s__%s.sql", dir, out->version, name);
		df_buf_printf(&down, "%s/U%s__%s.sql", dir, out->version, name);
		break;
	default:
		df_buf_printf(&path, "%s/%s_%s.sql", dir, out->version, name);
	}
	if (df_buf_oom(&path) || df_buf_oom(&down)) {
		df_buf_release(&path);
		df_buf_release(&down);
		return df_error_oom();
	}
	out->path = df_buf_detach(&path);
	out->down_path = down.size ? df_buf_detach(&down) : NULL;
	df_buf_release(&down);
	return 0;
}

void df_new_migration_release(df_new_migration *n)
{
	free(n->path);
	free(n->down_path);
	memset(n, 0, sizeof(*n));
}

static void put_text(df_buf *b, const char *s)
{
	if (!s)
		return;
	df_buf_puts(b, s);
	if (b->size && b->ptr[b->size - 1] != '\n')
		df_buf_putc(b, '\n');
}

int df_migration_compose(df_buf *up_file, df_buf *down_file, const df_new_migration *n,
	const char *header, const char *up, const char *down, bool no_tx)
{
	put_text(up_file, header);
	if (no_tx && n->format == DF_FMT_DEVFLOW)
		df_buf_puts(up_file, "-- devflow:no-transaction\n");
	else if (no_tx && n->format == DF_FMT_GOOSE)
		df_buf_puts(up_file, "-- +goose NO TRANSACTION\n");
	if (no_tx && n->format == DF_FMT_DBMATE)
		df_buf_puts(up_file, "-- migrate:up transaction:false\n");
	else
		df_buf_puts(up_file, df_mig_up_marker(n->format));
	put_text(up_file, up);
	if (n->down_path) {
		put_text(down_file, down);
		if (!down_file->size)
			df_buf_putc(down_file, '\n');
	} else {
		df_buf_puts(up_file, df_mig_down_marker(n->format));
		put_text(up_file, down);
	}
	if (!up_file->size)
		df_buf_putc(up_file, '\n');
	return df_buf_oom(up_file) || df_buf_oom(down_file) ? df_error_oom() : 0;
}

int df_file_write_new(const char *path, const df_buf *body)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, body->ptr, body->size) != (ssize_t)body->size) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(e));
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(path);
		return df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(e));
	}
	return 0;
}

int df_migration_set_history(const df_migration ***out, size_t *nr, const df_migration_set *set,
	const char *upto, bool inclusive)
{
	const df_migration **v = calloc(set->nr + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return df_error_oom();
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < set->nr; i++) {
			const df_migration *m = &set->v[i];
			if (m->repeatable != (pass == 1))
				continue;
			if (upto) {
				int c = m->repeatable ? 1 : df_version_cmp(m->version, upto);
				if (c > 0 || (c == 0 && !inclusive))
					continue;
			}
			v[n++] = m;
		}
	*out = v;
	*nr = n;
	return 0;
}
