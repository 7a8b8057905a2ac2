/* devflow db create NAME: a new migration file; revert_<name> pre-fills the reverse. */
#include <errno.h>
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

/*
 * The derived reverse checked as a diff is, in reverse (df_generate()'s
 * up_check: the history up to and with `m` replayed into a throwaway
 * database, the reverse applied there, read back and diffed with the
 * history before `m`).  Verified: said in one line.  Not verified: its
 * script and what remains different are shown, DF_EUNVERIFIED, and nothing
 * is written unless `force` (then a warning, and a line saying so heads the
 * UP in `out`).
 */
static int checked(df_buf *out, struct cli_ctx *ctx, const df_generated *g, bool force)
{
	const df_verified *v = g->up_check;
	FILE *text = ctx->json ? stderr : stdout;
	df_buf sc = DF_BUF_INIT;
	df_strlist w = DF_STRLIST_INIT;
	int error;

	if (v->ok) {
		cli_say(ctx, "Verified the derived revert on a throwaway copy.\n");
		return cli_diff_verified(ctx, v, "the derived revert", NULL);
	}
	fprintf(text, "-- the derived revert, as it would be written:\n");
	cli_diff_script(&sc, g->up);
	fputs(sc.ptr ? sc.ptr : "", text);
	df_buf_release(&sc);
	error = cli_diff_verified(ctx, v, "the derived revert", text);
	if (!force) {
		df_error_hint("devflow's own ordering or writer is wrong here: nothing was written; write "
			"the reverse by hand, or --force writes this one anyway; --no-verify skips the check");
		return error;
	}
	df_buf_printf(out, "-- devflow: NOT VERIFIED (--force): %s\n", df_error_last()->message);
	df_strlist_pushf(&w, "%s; written anyway (--force)", df_error_last()->message);
	df_error_clear();
	cli_warnings(ctx, &w);
	df_strlist_release(&w);
	return 0;
}

/*
 * The reverse of `m`, which has no DOWN: the history up to it and up to the
 * one before it, replayed in two throwaway databases (on the target's
 * server, or [project] dev_url's) and diffed backwards, then checked
 * (checked()) unless `no_verify`.  The UP text goes to `out`, headed by
 * what the reverse cannot bring back: the data of what `m` dropped.  An
 * error (message set) when it cannot be derived; DF_EUNVERIFIED when it
 * was derived but is not verified (and not `force`d).
 */
static int derive_reverse(df_buf *out, struct cli_ctx *ctx, const df_config *cfg,
	const df_migration_set *set, const df_migration *m, bool no_verify, bool force)
{
	df_generate_opts go = DF_GENERATE_OPTS_INIT;
	df_schema_opts so = DF_SCHEMA_OPTS_INIT;
	df_strlist exclude = DF_STRLIST_INIT;
	const df_migration **after = NULL, **before = NULL;
	df_target *t = NULL, *dev = NULL;
	df_generated *g = NULL;
	const df_dsn *scrub = ctx->dsn;
	size_t na = 0, nb = 0;
	int error;

	if ((error = df_target_resolve(&t, cfg, ctx->env, ctx->url)) < 0 ||
	    (cfg->dev_url && (error = df_target_resolve(&dev, cfg, t->env, cfg->dev_url)) < 0) ||
	    (error = df_schema_own_tables(&exclude, cfg->table)) < 0 ||
	    (error = df_migration_set_history(&after, &na, set, m->version, true)) < 0 ||
	    (error = df_migration_set_history(&before, &nb, set, m->version, false)) < 0)
		goto out;
	ctx->dsn = t->dsn;      /* until t is freed */
	so.exclude_tables = &exclude;
	go.engine = t->dsn->engine;
	go.server = dev && !strcmp(dev->dsn->engine, t->dsn->engine) ? dev->dsn : t->dsn;
	go.schema_opts = &so;
	go.migs = after;
	go.nr = na;
	go.to_migs = before;
	go.to_nr = nb;
	go.plain = true;        /* one file: no online migration of its own */
	go.review_disabled = &cfg->review_disabled;
	go.verify = !no_verify;
	if ((error = df_generate(&g, &go)) < 0)
		goto out;
	if (!g->up->nr) {
		error = df_error_set(DF_ENOTFOUND, "replaying '%s' changes no schema object that devflow "
			"compares", m->file);
		goto out;
	}
	if (!g->up_check)       /* --no-verify */
		json_object_set_new(ctx->result, "verified", json_false());
	else if ((error = checked(out, ctx, g, force)) < 0)
		goto out;
	df_buf_printf(out, "-- Derived by devflow: the schema before %s, diffed backwards from the\n"
		"-- schema after it (both replayed from the migrations).\n", m->file);
	for (size_t i = 0; i < g->lost.nr; i++)
		df_buf_printf(out, "-- devflow: CANNOT RESTORE DATA (%s): %s destroyed it; this brings "
			"the structure back empty (restore the rows from a backup).\n", g->lost.v[i], m->file);
	cli_diff_script(out, g->up);
	if (df_buf_oom(out))
		error = df_error_oom();
out:
	df_generated_free(g);
	free(after);
	free(before);
	df_strlist_release(&exclude);
	if (t && error < 0 && df_error_last() && df_error_last()->message)
		df_dsn_scrub(t->dsn, df_error_last()->message);
	ctx->dsn = scrub;
	df_target_free(t);
	df_target_free(dev);
	return error;
}

int cmd_db_create(int argc, char **argv, struct cli_ctx *ctx)
{
	df_config *cfg = NULL;
	df_migration_set *set = NULL;
	df_buf name = DF_BUF_INIT, body = DF_BUF_INIT, down_body = DF_BUF_INIT;
	df_new_migration nm = { 0 };
	const df_migration *target = NULL;
	df_mig_format fmt;
	char **ops;
	int nops, error = 0, status;
	bool derived = false, no_verify = false, force = false;
	struct cli_opt opts[] = {
		{ "--no-verify", 0, NULL, &no_verify },
		{ "--force", 0, NULL, &force },
		{ NULL, 0, NULL, NULL },
	};

	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops != 1)
		return cli_usage_error(ctx, nops ? "'db create' takes one NAME" : "'db create' needs a NAME");
	if (df_migration_name_normalize(&name, ops[0]) < 0) {
		df_buf_release(&name);
		return cli_usage_error(ctx, "%s", df_error_last()->message);
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
	if ((error = df_migration_new(&nm, set, cfg->migrations, name.ptr, NULL, time(NULL))) < 0)
		goto fail;
	fmt = nm.format;
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
		df_buf_printf(&body, "-- Reverts %s\n%s", target->file, df_mig_up_marker(fmt));
		if (down) {
			df_buf_put(&body, down, dl);
		} else if ((error = derive_reverse(&body, ctx, cfg, set, target, no_verify, force)) == 0) {
			derived = true;
		} else if (error == DF_EUNVERIFIED) {
			free(up);
			goto fail;
		} else {
			cli_say(ctx, "Could not derive the reverse of %s: %s\n", target->file,
				df_error_last()->message);
			df_error_clear();
			df_buf_printf(&body, "-- TODO: write the SQL that undoes %s.\n"
				"-- It had no DOWN section; this is what it did:\n", target->file);
			for (char *line = up, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				df_buf_printf(&body, "--   %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
			}
		}
		if (body.size && body.ptr[body.size - 1] != '\n')
			df_buf_putc(&body, '\n');
		df_buf_puts(nm.down_path ? &down_body : &body, df_mig_down_marker(fmt));
		df_buf_put(nm.down_path ? &down_body : &body, up, ul);
		if (nm.down_path && (!down_body.size || down_body.ptr[down_body.size - 1] != '\n'))
			df_buf_putc(&down_body, '\n');
		if (body.ptr[body.size - 1] != '\n')
			df_buf_putc(&body, '\n');
		free(up);
		free(down);
	} else if (nm.down_path) {
		df_buf_puts(&body, "\n");
		df_buf_puts(&down_body, "\n");
	} else {
		df_buf_printf(&body, "%s\n%s", df_mig_up_marker(fmt), df_mig_down_marker(fmt));
	}
	if ((error = df_file_write_new(nm.path, &body)) < 0)
		goto fail;
	if (nm.down_path && (error = df_file_write_new(nm.down_path, &down_body)) < 0) {
		unlink(nm.path);
		goto fail;
	}
	cli_say(ctx, "Created %s\n", nm.path);
	if (nm.down_path)
		cli_say(ctx, "Created %s\n", nm.down_path);
	if (!target && nm.down_path)
		cli_say(ctx, "Write the change in the first file and how to undo it in the second (%s format).\n",
			fmt == DF_FMT_GOLANG ? "golang-migrate" : "Flyway");
	else if (!target)
		cli_say(ctx, "Write the change after '%.*s' and how to undo it after '%.*s'.\n",
			(int)strlen(df_mig_up_marker(fmt)) - 1, df_mig_up_marker(fmt),
			(int)strlen(df_mig_down_marker(fmt)) - 1, df_mig_down_marker(fmt));
	if (derived)
		cli_say(ctx, "Its UP is the reverse of %s, derived from the schemas before and after it; "
			"review it.\n", target->file);
	json_object_set_new(ctx->result, "derived", json_boolean(derived));
	json_object_set_new(ctx->result, "file", json_string(nm.path));
	if (nm.down_path)
		json_object_set_new(ctx->result, "down_file", json_string(nm.down_path));
	json_object_set_new(ctx->result, "format", json_string(df_mig_format_name(fmt)));
	json_object_set_new(ctx->result, "version", json_string(nm.version));
	json_object_set_new(ctx->result, "name", json_string(name.ptr));
	cli_next(ctx, "devflow db review%s %s", cli_env_arg(ctx), nm.path);
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	df_buf_release(&name);
	df_buf_release(&body);
	df_new_migration_release(&nm);
	df_buf_release(&down_body);
	df_migration_set_free(set);
	df_config_free(cfg);
	return status;
}
