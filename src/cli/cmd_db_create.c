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

int cmd_db_create(int argc, char **argv, struct cli_ctx *ctx)
{
	df_config *cfg = NULL;
	df_migration_set *set = NULL;
	df_buf name = DF_BUF_INIT, path = DF_BUF_INIT, body = DF_BUF_INIT;
	const df_migration *target = NULL;
	char **ops, stamp[32];
	int nops, error = 0, status, fd = -1;
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
	/* A free version: now, or the next second after the newest one. */
	for (;;) {
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", gmtime(&now));
		if (!df_migration_set_find(set, stamp) &&
		    (!set->nr || df_version_cmp(stamp, set->v[set->nr - 1].version) > 0))
			break;
		now++;
	}
	df_buf_printf(&path, "%s/%s_%s.sql", cfg->migrations, stamp, name.ptr);
	if (target) {
		char *up = NULL, *down = NULL;
		size_t ul = 0, dl = 0;
		if ((error = df_section_read(&up, &ul, &target->up)) < 0)
			goto fail;
		if (df_migration_reversible(target) && (error = df_section_read(&down, &dl, &target->down)) < 0) {
			free(up);
			goto fail;
		}
		df_buf_printf(&body, "-- Reverts %s\n-- UP\n", target->file);
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
		df_buf_puts(&body, "-- DOWN\n");
		df_buf_put(&body, up, ul);
		if (body.ptr[body.size - 1] != '\n')
			df_buf_putc(&body, '\n');
		free(up);
		free(down);
	} else {
		df_buf_printf(&body, "-- UP\n\n-- DOWN\n");
	}
	if ((fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, body.ptr, body.size) != (ssize_t)body.size) {
		error = df_error_set(DF_EIO, "cannot write '%s': %s", path.ptr, strerror(errno));
		goto fail;
	}
	cli_say(ctx, "Created %s\n", path.ptr);
	if (!target)
		cli_say(ctx, "Write the change after '-- UP' and how to undo it after '-- DOWN'.\n");
	json_object_set_new(ctx->result, "file", json_string(path.ptr));
	json_object_set_new(ctx->result, "version", json_string(stamp));
	json_object_set_new(ctx->result, "name", json_string(name.ptr));
	cli_next(ctx, "devflow db review %s", path.ptr);
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	if (fd >= 0)
		close(fd);
	df_buf_release(&name);
	df_buf_release(&path);
	df_buf_release(&body);
	df_migration_set_free(set);
	df_config_free(cfg);
	return status;
}
