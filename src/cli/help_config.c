/*
 * `devflow help config`: the keys of devflow.conf (src/core/config.c reads
 * them), as text or as JSON.  One table; the man page's CONFIGURATION
 * section says the same.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/banned.h"

static const struct config_key {
	const char *section;    /* "project", "env \"NAME\"", "review" */
	const char *key;
	const char *value;      /* what it takes */
	const char *meaning;
} keys[] = {
	{ "project", "migrations", "DIR", "the migrations folder (default migrations/, else db/migrations/); -d wins" },
	{ "project", "seeds", "DIR", "the seed files (default seeds/; seeds/<env>/ per environment)" },
	{ "project", "schema", "FILE", "the declarative schema file, for db generate, db diff and db pull (default schema.sql)" },
	{ "project", "table", "NAME", "devflow's tracking table (default _migrations; letters, digits and _, at most 48)" },
	{ "project", "dev_url", "URL", "a server of its own for throwaway databases (dry-run shadows, scratch copies)" },
	{ "project", "dry_run_max_age", "DURATION", "how long a dry-run stays a valid receipt (default 24h; 90m, 3600s)" },
	{ "project", "backup_max_age", "DURATION", "how recent a backup production asks for (default 1h)" },
	{ "env \"NAME\"", "url", "URL", "the environment's database; ${VAR} is read from the environment or .env files" },
	{ "env \"NAME\"", "direct_url", "URL", "the URL devflow uses (migrations, dry-runs, backups, locks) where url goes "
		"through a transaction pooler (PgBouncer pool_mode = transaction), as Prisma's directUrl; the "
		"application keeps url; ${VAR} as in url" },
	{ "env \"NAME\"", "policy", "local|staging|production", "the gates before applying (default: by the name: production/prod, staging/stage, else local)" },
	{ "env \"NAME\"", "require_tls", "true|false", "refuse a connection that is not encrypted" },
	{ "env \"NAME\"", "smoke", "FILE.sql", "statements run after a successful migrate; a failure exits 1" },
	{ "env \"NAME\"", "after_migrate", "COMMAND", "a command run (/bin/sh -c) after a successful migrate, without credentials in its environment" },
	{ "review", "disable", "RULE,...", "review rules never reported" },
};

static const char example[] =
	"[project]\n"
	"migrations = migrations      ; folder of migration files\n"
	"seeds = seeds\n"
	"schema = schema.sql          ; declarative schema, for `db generate`\n"
	"table = _migrations\n"
	"\n"
	"[env \"staging\"]\n"
	"url = ${STAGING_DATABASE_URL}\n"
	"policy = staging\n"
	"\n"
	"[env \"production\"]\n"
	"url = ${PRODUCTION_DATABASE_URL}\n"
	"; direct_url = ${PRODUCTION_DIRECT_URL}   ; when url is a transaction pooler's\n"
	"policy = production\n"
	"require_tls = true\n"
	"\n"
	"[review]\n"
	"disable = lock-timeout-missing\n";

/* Print the keys of devflow.conf: text on stdout, or the one JSON document. */
int cli_help_config(bool json)
{
	if (json) {
		json_t *doc = json_object(), *a = json_array();
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *k = json_object();
			json_object_set_new(k, "section", json_string(keys[i].section));
			json_object_set_new(k, "key", json_string(keys[i].key));
			json_object_set_new(k, "value", json_string(keys[i].value));
			json_object_set_new(k, "meaning", json_string(keys[i].meaning));
			json_array_append_new(a, k);
		}
		json_object_set_new(doc, "ok", json_true());
		json_object_set_new(doc, "file", json_string("devflow.conf"));
		json_object_set_new(doc, "keys", a);
		json_object_set_new(doc, "example", json_string(example));
		json_object_set_new(doc, "next", json_array());
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
		return CLI_EXIT_OK;
	}
	printf("devflow.conf: the project's configuration (optional), INI, in the project root\n"
		"(the folder devflow finds as git finds its repository). devflow reads no other\n"
		"file name (not devflow.toml, not .devflow.conf).\n");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!i || strcmp(keys[i].section, keys[i - 1].section))
			printf("\n[%s]\n", keys[i].section);
		printf("  %-16s = %s\n      %s\n", keys[i].key, keys[i].value, keys[i].meaning);
	}
	printf("\nDurations: a number with h, m or s. Comments start with ';' or '#'.\n"
		"\nExample:\n\n%s", example);
	return CLI_EXIT_OK;
}
