/* A suggested command as data (include/devflow/cmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/cmd.h"
#include "devflow/error.h"

df_cmd *df_cmd_new(df_verb verb)
{
	df_cmd *c = calloc(1, sizeof(*c));

	if (!c) {
		df_error_oom();
		return NULL;
	}
	c->verb = verb;
	return c;
}

int df_cmd_arg(df_cmd *c, const char *arg)
{
	char *copy = arg ? strdup(arg) : NULL;

	if (arg && !copy)
		return df_error_oom();
	free(c->arg);
	c->arg = copy;
	return 0;
}

int df_cmd_opt_add(df_cmd *c, df_opt opt, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return df_error_oom();
	if (c->nr == DF_CMD_MAX_OPTS) {
		free(copy);
		return df_error_set(DF_EINTERNAL, "a suggested command has more than %d options",
			DF_CMD_MAX_OPTS);
	}
	c->opts[c->nr].opt = opt;
	c->opts[c->nr].value = copy;
	c->nr++;
	return 0;
}

int df_cmd_opt_num(df_cmd *c, df_opt opt, long long value)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", value);
	return df_cmd_opt_add(c, opt, n);
}

bool df_cmd_has(const df_cmd *c, df_opt opt)
{
	for (size_t i = 0; i < c->nr; i++)
		if (c->opts[i].opt == opt)
			return true;
	return false;
}

df_cmd *df_cmd_make(df_verb verb, const char *arg, int flag)
{
	df_cmd *c = df_cmd_new(verb);

	if (!c)
		return NULL;
	if (df_cmd_arg(c, arg) < 0 || (flag >= 0 && df_cmd_opt_add(c, (df_opt)flag, NULL) < 0)) {
		df_cmd_free(c);
		return NULL;
	}
	return c;
}

df_cmd *df_cmd_dup(const df_cmd *c)
{
	df_cmd *d = df_cmd_new(c->verb);

	if (!d)
		return NULL;
	if (df_cmd_arg(d, c->arg) < 0)
		goto fail;
	for (size_t i = 0; i < c->nr; i++)
		if (df_cmd_opt_add(d, c->opts[i].opt, c->opts[i].value) < 0)
			goto fail;
	return d;
fail:
	df_cmd_free(d);
	return NULL;
}

void df_cmd_free(df_cmd *c)
{
	if (!c)
		return;
	free(c->arg);
	for (size_t i = 0; i < c->nr; i++)
		free(c->opts[i].value);
	free(c);
}
