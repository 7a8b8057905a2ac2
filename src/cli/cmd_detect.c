/* devflow detect: which migration tool the project uses. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
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

int cmd_detect(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *tool = "none", *signal = "no migration tool found";
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
	else if (has_sql("migrations"))
		tool = "raw-sql", signal = "migrations/ holds .sql files and no ORM config";
	json_object_set_new(ctx->result, "tool", json_string(tool));
	json_object_set_new(ctx->result, "signal", json_string(signal));
	cli_say(ctx, "%s%s%s (%s)\n", cli_c(ctx, "bold"), tool, cli_c(ctx, "reset"), signal);
	if (!strcmp(tool, "raw-sql"))
		cli_next(ctx, "devflow db status");
	else if (!strcmp(tool, "none"))
		cli_next(ctx, "devflow db create init");
	return cli_finish(ctx, 0);
}
