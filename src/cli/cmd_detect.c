/* devflow detect: which migration tool the project uses. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/banned.h"

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static bool file_has(const char *p, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(p, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static bool has_sql(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		found = n > 4 && !strcmp(de->d_name + n - 4, ".sql");
	}
	closedir(d);
	return found;
}

/*
 * Which SQL migration tool wrote the files of `dir`: golang-migrate
 * (N_name.up.sql), Flyway (V1__name.sql), goose (-- +goose Up), dbmate
 * (-- migrate:up); NULL when none of them.  `why` gets the signal.
 */
static const char *sql_tool(const char *dir, const char *shown, char *why, size_t why_len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	const char *tool = NULL;
	char path[4096];

	if (!d)
		return NULL;
	while (!tool && (de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		if (len < 5 || strcasecmp(n + len - 4, ".sql"))
			continue;
		if (len > 7 && (!strcasecmp(n + len - 7, ".up.sql") || !strcasecmp(n + len - 9, ".down.sql")) &&
		    n[0] >= '0' && n[0] <= '9') {
			tool = "golang-migrate";
			snprintf(why, why_len, "%s/ holds golang-migrate files (%s)", shown, n);
		} else if ((n[0] == 'V' || n[0] == 'R' || n[0] == 'U') && strstr(n, "__")) {
			tool = "flyway";
			snprintf(why, why_len, "%s/ holds Flyway files (%s)", shown, n);
		} else if (snprintf(path, sizeof(path), "%s/%s", dir, n) < (int)sizeof(path) &&
			   (file_has(path, "-- +goose Up") || file_has(path, "-- +goose up"))) {
			tool = "goose";
			snprintf(why, why_len, "%s/%s has a '-- +goose Up' marker", shown, n);
		} else if (file_has(path, "-- migrate:up")) {
			tool = "dbmate";
			snprintf(why, why_len, "%s/%s has a '-- migrate:up' marker", shown, n);
		}
	}
	closedir(d);
	return tool;
}

int cmd_detect(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *tool = "none", *signal = "no migration tool found", *sql;
	static const char *dirs[] = { "migrations", "db/migrations", "db/migration", "sql" };
	/* -d DIR (or DEVFLOW_MIGRATIONS_DIR): that folder, not the usual ones */
	const char *given = getenv("DEVFLOW_MIGRATIONS_DIR");
	const char *shown = ctx->migrations_dir ? ctx->migrations_dir : given;
	char why[512], raw_why[600];
	char **ops;
	int nops;

	if (cli_parse(ctx, argc, argv, NULL, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (exists("prisma/schema.prisma"))
		tool = "prisma", signal = "prisma/schema.prisma";
	else if (exists("schema.prisma"))
		tool = "prisma", signal = "schema.prisma";
	else if (exists("drizzle.config.ts"))
		tool = "drizzle", signal = "drizzle.config.ts";
	else if (exists("drizzle.config.js"))
		tool = "drizzle", signal = "drizzle.config.js";
	else if (exists("drizzle"))
		tool = "drizzle", signal = "drizzle/";
	else if (exists("knexfile.js"))
		tool = "knex", signal = "knexfile.js";
	else if (exists("knexfile.ts"))
		tool = "knex", signal = "knexfile.ts";
	else if (exists("ormconfig.json"))
		tool = "typeorm", signal = "ormconfig.json";
	else if (file_has("data-source.ts", "typeorm") || file_has("src/data-source.ts", "typeorm"))
		tool = "typeorm", signal = "data-source.ts imports TypeORM";
	else if (exists("alembic.ini"))
		tool = "alembic", signal = "alembic.ini";
	else if (exists("alembic"))
		tool = "alembic", signal = "alembic/";
	else if (file_has("manage.py", "django"))
		tool = "django", signal = "manage.py imports Django";
	else {
		if (given && *given) {
			if ((sql = sql_tool(given, shown, why, sizeof(why))))
				tool = sql, signal = why;
		}
		for (size_t i = 0; !(given && *given) && i < sizeof(dirs) / sizeof(dirs[0]) &&
		     !strcmp(tool, "none"); i++)
			if ((sql = sql_tool(dirs[i], dirs[i], why, sizeof(why))))
				tool = sql, signal = why;
	}
	if (strcmp(tool, "none"))
		;
	else if (exists("flyway.conf") || exists("flyway.toml"))
		tool = "flyway", signal = exists("flyway.conf") ? "flyway.conf" : "flyway.toml";
	else if (given && *given) {
		if (has_sql(given)) {
			snprintf(raw_why, sizeof(raw_why), "%s/ holds .sql files and no ORM config", shown);
			tool = "raw-sql", signal = raw_why;
		}
	} else if (has_sql("migrations"))
		tool = "raw-sql", signal = "migrations/ holds .sql files and no ORM config";
	json_object_set_new(ctx->result, "tool", json_string(tool));
	json_object_set_new(ctx->result, "signal", json_string(signal));
	cli_say(ctx, "%s%s%s (%s)\n", cli_c(ctx, "bold"), tool, cli_c(ctx, "reset"), signal);
	if (!strcmp(tool, "raw-sql") || !strcmp(tool, "dbmate") || !strcmp(tool, "golang-migrate") ||
	    !strcmp(tool, "flyway") || !strcmp(tool, "goose"))
		cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	else if (!strcmp(tool, "none"))
		cli_next(ctx, "devflow db create%s init", cli_env_arg(ctx));
	return cli_finish(ctx, 0);
}
