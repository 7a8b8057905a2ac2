/*
 * devflow db pull [-o PATH] [--schema NAME] [--format sql]
 *
 * The declarative schema file from a database (the target by default): the
 * DDL that makes its schema from nothing, in dependency order and a stable
 * format (df_schema_ddl()), so that `db generate` reads it back as "no
 * changes".  Written to [project] schema (atomically), or to PATH ("-":
 * stdout).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/schema.h"
#include "util/fs.h"
#include "util/banned.h"

/*
 * Write `text` to `path` through a temporary file of an unguessable name
 * and a rename (util/fs.h).  `named`: the user gave the path with -o, so a
 * symbolic link there is followed to the file it names (replaced, the link
 * kept); the configured schema file is never written through a link.
 */
static int write_atomic(const char *path, const char *text, bool named)
{
	df_file_tmp t = DF_FILE_TMP_INIT;
	int error;

	if (!named && (error = df_file_refuse_link(path)) < 0) {
		df_error_hint("remove the link, or write to the file it points to on purpose: "
			"devflow db pull -o '%s'", path);
		return error;
	}
	if ((error = df_file_tmp_create(&t, path, 0644, named ? DF_FILE_FOLLOW : 0)) < 0)
		return error;
	if (df_write_all(t.fd, text, strlen(text)) < 0)
		error = df_file_error(&t);
	else
		error = df_file_commit(&t);
	df_file_tmp_release(&t);
	return error;
}

int cmd_db_pull(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *output = NULL, *schema_name = NULL, *format = NULL;
	bool privileges = false;
	struct cli_opt opts[] = {
		{ "--privileges", 0, NULL, &privileges },
		{ "-o", 1, &output, NULL },
		{ "--output", 1, &output, NULL },
		{ "--schema", 1, &schema_name, NULL },
		{ "--format", 1, &format, NULL },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_schema_opts so = DF_SCHEMA_OPTS_INIT;
	df_strlist exclude = DF_STRLIST_INIT, schemas = DF_STRLIST_INIT;
	df_schema *schema = NULL, *base = NULL;
	df_buf header = DF_BUF_INIT;
	char *text = NULL, *path = NULL, **ops;
	struct stat st;
	int nops, error = 0, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (format && strcmp(format, "sql"))
		return cli_usage_error(ctx, "unknown format '%s' for db pull (known: sql)", format);
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_EXISTING, false)) < 0)
		goto fail;
	if (output && strcmp(output, "-"))
		path = strdup(cli_path(ctx, output));
	else if (!output)
		path = df_config_path(s.cfg, s.cfg->schema);
	if ((!output || strcmp(output, "-")) && !path) {
		error = df_error_oom();
		goto fail;
	}
	if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		error = df_error_set(DF_EUSAGE, "'%s' is a folder; db pull writes one file",
			output ? output : s.cfg->schema);
		df_error_hint("name the file with -o PATH (db generate reads every .sql file of the folder)");
		goto fail;
	}
	if ((error = df_schema_own_tables(&exclude, s.cfg->table)) < 0)
		goto fail;
	so.exclude_tables = &exclude;
	if (privileges && (error = df_schema_privileges_check(s.target->dsn->engine, "db pull")) < 0)
		goto fail;
	so.privileges = privileges;
	if (schema_name) {
		if ((error = df_strlist_push(&schemas, schema_name)) < 0)
			goto fail;
		so.schemas = &schemas;
	}
	/* what a new database already holds is not written (schema public) */
	if ((error = df_schema_read(&schema, s.conn, &so)) < 0 ||
	    (error = df_schema_replay(&base, NULL, 0, s.target->dsn->engine, s.target->dsn, &so, 0,
		NULL)) < 0)
		goto fail;
	/* a database named by --url (or DEVFLOW_URL) is no environment's */
	df_buf_printf(&header, "-- The schema of %s, written by devflow db pull.\n"
		"-- Edit it, then `devflow db generate NAME` writes the migration.\n\n",
		s.target->source && (!strcmp(s.target->source, "--url") ||
		!strncmp(s.target->source, "DEVFLOW_URL ", 12)) ? s.target->redacted : s.target->env);
	if ((error = df_schema_ddl(&text, base, schema, header.ptr)) < 0)
		goto fail;
	if (!path) {
		fputs(text, ctx->json ? stderr : stdout);
		json_object_set_new(ctx->result, "file", json_null());
	} else {
		if ((error = write_atomic(path, text, output != NULL)) < 0)
			goto fail;
		cli_say(ctx, "Wrote %s (%zu object%s of %s)\n", output ? output : s.cfg->schema,
			schema->nr, schema->nr == 1 ? "" : "s", s.target->redacted);
		json_object_set_new(ctx->result, "file", json_string(output ? output : s.cfg->schema));
	}
	json_object_set_new(ctx->result, "objects", json_integer((json_int_t)schema->nr));
	json_object_set_new(ctx->result, "sql", json_string(text));
	status = cli_finish(ctx, CLI_EXIT_OK);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	free(text);
	free(path);
	df_buf_release(&header);
	df_schema_free(schema);
	df_schema_free(base);
	df_strlist_release(&exclude);
	df_strlist_release(&schemas);
	df_session_close(&s);
	return status;
}
