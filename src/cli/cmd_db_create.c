/* devflow db create NAME: a new migration file; revert_<name> pre-fills the reverse. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/fs.h"
#include "util/banned.h"

/* A 14-digit timestamp version (devflow's, dbmate's)? */
static bool timestamped(const char *v)
{
	return strlen(v) >= 12 && strspn(v, "0123456789") == strlen(v);
}

/* The markers of a one-file format, each with its newline. */
static const char *up_marker(df_mig_format f)
{
	return f == DF_FMT_DBMATE ? "-- migrate:up\n" : f == DF_FMT_GOOSE ? "-- +goose Up\n" :
		f == DF_FMT_DEVFLOW ? "-- UP\n" : "";
}

static const char *down_marker(df_mig_format f)
{
	return f == DF_FMT_DBMATE ? "-- migrate:down\n" : f == DF_FMT_GOOSE ? "-- +goose Down\n" :
		f == DF_FMT_DEVFLOW ? "-- DOWN\n" : "";
}

/* Write a file that must not exist yet. */
static int write_new(const char *path, const df_buf *body)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, body->ptr, body->size) != (ssize_t)body->size) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int cmd_db_create(int argc, char **argv, struct cli_ctx *ctx)
{
	df_config *cfg = NULL;
	df_migration_set *set = NULL;
	df_buf name = DF_BUF_INIT, path = DF_BUF_INIT, body = DF_BUF_INIT;
	df_buf down_path = DF_BUF_INIT, down_body = DF_BUF_INIT;
	const df_migration *target = NULL;
	df_mig_format fmt;
	size_t versioned;
	char **ops, stamp[32];
	int nops, error = 0, status;
	time_t now = time(NULL);

	if (cli_parse(ctx, argc, argv, NULL, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops != 1)
		return cli_usage_error(ctx, nops ? "'db create' takes one NAME" : "'db create' needs a NAME");
	for (const char *p = ops[0]; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '_')
			df_buf_putc(&name, (char)tolower(c));
		else if (c == '-' || c == ' ' || c == '.')
			df_buf_putc(&name, '_');
		else {
			df_buf_release(&name);
			return cli_usage_error(ctx, "migration name '%s' may hold only letters, digits, '_' and '-'", ops[0]);
		}
	}
	if (!name.size || name.size > 200) {
		df_buf_release(&name);
		return cli_usage_error(ctx, "migration name must be 1 to 200 characters");
	}
	if ((error = df_config_load(&cfg, ".")) < 0 ||
	    (error = df_migration_set_load(&set, cfg->migrations, false)) < 0)
		goto fail;
	versioned = set->nr;
	if (!strncmp(name.ptr, "revert_", 7)) {
		if (!(target = df_migration_set_find(set, name.ptr + 7))) {
			error = df_error_set(DF_EUSAGE, "no migration named '%s' to revert", name.ptr + 7);
			df_error_hint("name an existing migration: `devflow db status` lists them");
			goto fail;
		}
	}
	if (df_mkdirs(cfg->migrations, 0755, true) < 0) {
		error = df_error_set(DF_EIO, "cannot create folder '%s': %s", cfg->migrations, strerror(errno));
		goto fail;
	}
	/* the folder's own format: that of its newest versioned migration */
	while (versioned && set->v[versioned - 1].repeatable)
		versioned--;
	fmt = set->nr ? set->v[set->nr - 1].format : DF_FMT_DEVFLOW;
	if (versioned && !timestamped(set->v[versioned - 1].version)) {
		/* sequential versions (golang-migrate's 000001, Flyway's V1): the next
		 * number, as wide as the newest */
		const char *last = set->v[versioned - 1].version;
		size_t width = strspn(last, "0123456789");
		unsigned long long v = strtoull(last, NULL, 10) + 1;
		snprintf(stamp, sizeof(stamp), "%0*llu", last[0] == '0' ? (int)width : 1, v);
	} else {
		/* A free version: now, or the next second after the newest one. */
		for (;;) {
			strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", gmtime(&now));
			if (!df_migration_set_find(set, stamp) &&
			    (!versioned || df_version_cmp(stamp, set->v[versioned - 1].version) > 0))
				break;
			now++;
		}
	}
	switch (fmt) {
	case DF_FMT_GOLANG:
		df_buf_printf(&path, "%s/%s_%s.up.sql", cfg->migrations, stamp, name.ptr);
		df_buf_printf(&down_path, "%s/%s_%s.down.sql", cfg->migrations, stamp, name.ptr);
		break;
	case DF_FMT_FLYWAY:
		df_buf_printf(&path, "%s/V%s__%s.sql", cfg->migrations, stamp, name.ptr);
		df_buf_printf(&down_path, "%s/U%s__%s.sql", cfg->migrations, stamp, name.ptr);
		break;
	default:
		df_buf_printf(&path, "%s/%s_%s.sql", cfg->migrations, stamp, name.ptr);
	}
	if (target) {
		char *up = NULL, *down = NULL;
		size_t ul = 0, dl = 0;
		if ((error = df_section_read(&up, &ul, &target->up)) < 0)
			goto fail;
		if (df_migration_reversible(target) && target->down.len &&
		    (error = df_section_read(&down, &dl, &target->down)) < 0) {
			free(up);
			goto fail;
		}
		df_buf_printf(&body, "-- Reverts %s\n%s", target->file, up_marker(fmt));
		if (down) {
			df_buf_put(&body, down, dl);
		} else {
			df_buf_printf(&body, "-- TODO: write the SQL that undoes %s.\n"
				"-- It had no DOWN section; this is what it did:\n", target->file);
			for (char *line = up, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				df_buf_printf(&body, "--   %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
			}
		}
		if (body.size && body.ptr[body.size - 1] != '\n')
			df_buf_putc(&body, '\n');
		df_buf_puts(down_path.size ? &down_body : &body, down_marker(fmt));
		df_buf_put(down_path.size ? &down_body : &body, up, ul);
		if (down_path.size && (!down_body.size || down_body.ptr[down_body.size - 1] != '\n'))
			df_buf_putc(&down_body, '\n');
		if (body.ptr[body.size - 1] != '\n')
			df_buf_putc(&body, '\n');
		free(up);
		free(down);
	} else if (down_path.size) {
		df_buf_puts(&body, "\n");
		df_buf_puts(&down_body, "\n");
	} else {
		df_buf_printf(&body, "%s\n%s", up_marker(fmt), down_marker(fmt));
	}
	if ((error = write_new(path.ptr, &body)) < 0)
		goto fail;
	if (down_path.size && (error = write_new(down_path.ptr, &down_body)) < 0) {
		unlink(path.ptr);
		goto fail;
	}
	cli_say(ctx, "Created %s\n", path.ptr);
	if (down_path.size)
		cli_say(ctx, "Created %s\n", down_path.ptr);
	if (!target && down_path.size)
		cli_say(ctx, "Write the change in the first file and how to undo it in the second (%s format).\n",
			fmt == DF_FMT_GOLANG ? "golang-migrate" : "Flyway");
	else if (!target)
		cli_say(ctx, "Write the change after '%.*s' and how to undo it after '%.*s'.\n",
			(int)strlen(up_marker(fmt)) - 1, up_marker(fmt),
			(int)strlen(down_marker(fmt)) - 1, down_marker(fmt));
	json_object_set_new(ctx->result, "file", json_string(path.ptr));
	if (down_path.size)
		json_object_set_new(ctx->result, "down_file", json_string(down_path.ptr));
	json_object_set_new(ctx->result, "format", json_string(df_mig_format_name(fmt)));
	json_object_set_new(ctx->result, "version", json_string(stamp));
	json_object_set_new(ctx->result, "name", json_string(name.ptr));
	cli_next(ctx, "devflow db review %s", path.ptr);
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	df_buf_release(&name);
	df_buf_release(&path);
	df_buf_release(&body);
	df_buf_release(&down_path);
	df_buf_release(&down_body);
	df_migration_set_free(set);
	df_config_free(cfg);
	return status;
}
