#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/cmd.h"
#include "devflow/error.h"
#include "util/banned.h"

static _Thread_local df_error last;
static _Thread_local int have_last;
static char oom_message[] = "out of memory";

static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	char *s;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* A copy of `c` that sets no error (the slot may be the one being copied). */
static df_cmd *cmd_copy(const df_cmd *c)
{
	df_cmd *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->verb = c->verb;
	if (c->arg && !(d->arg = strdup(c->arg)))
		goto fail;
	for (size_t i = 0; i < c->nr; i++) {
		d->opts[i].opt = c->opts[i].opt;
		if (c->opts[i].value && !(d->opts[i].value = strdup(c->opts[i].value)))
			goto fail;
		d->nr = i + 1;
	}
	return d;
fail:
	df_cmd_free(d);
	return NULL;
}

static void release_cmds(df_error *e)
{
	for (size_t i = 0; i < e->nr_cmds; i++)
		df_cmd_free(e->cmds[i]);
	e->nr_cmds = 0;
}

static void release(void)
{
	if (last.message != oom_message)
		free(last.message);
	free(last.hint);
	free(last.file);
	release_cmds(&last);
	memset(&last, 0, sizeof(last));
}

int df_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	release();
	have_last = 1;
	last.code = code;
	last.message = msg ? msg : oom_message;
	return code;
}

int df_error_oom(void)
{
	release();
	have_last = 1;
	last.code = DF_EINTERNAL;
	last.message = oom_message;
	return DF_EINTERNAL;
}

void df_error_hint(const char *fmt, ...)
{
	va_list ap;

	if (!have_last)
		return;
	free(last.hint);
	va_start(ap, fmt);
	last.hint = vformat(fmt, ap);
	va_end(ap);
}

void df_error_suggest(df_cmd *cmd)
{
	if (!cmd)
		return;
	if (!have_last || last.nr_cmds == DF_ERROR_CMDS) {
		df_cmd_free(cmd);
		return;
	}
	last.cmds[last.nr_cmds++] = cmd;
}

void df_error_pos(const char *file, int line, int column)
{
	if (!have_last)
		return;
	free(last.file);
	last.file = file ? strdup(file) : NULL;
	last.line = line;
	last.column = column;
}

void df_error_prefix(const char *fmt, ...)
{
	va_list ap;
	char *pre, *msg;
	size_t n;

	if (!have_last || last.message == oom_message)
		return;
	va_start(ap, fmt);
	pre = vformat(fmt, ap);
	va_end(ap);
	if (!pre)
		return;
	n = strlen(pre) + 2 + strlen(last.message) + 1;
	if ((msg = malloc(n))) {
		snprintf(msg, n, "%s: %s", pre, last.message);
		free(last.message);
		last.message = msg;
	}
	free(pre);
}

const df_error *df_error_last(void)
{
	return have_last ? &last : NULL;
}

void df_error_clear(void)
{
	release();
	have_last = 0;
}

const char *df_error_kind(int code)
{
	switch (code) {
	case DF_EUSAGE: return "usage";
	case DF_ECONFIG: return "config";
	case DF_ECONNREFUSED: return "connection_refused";
	case DF_EAUTH: return "auth_failed";
	case DF_EPERM: return "permission_denied";
	case DF_EHOST: return "unknown_host";
	case DF_ELOCKED: return "lock_timeout";
	case DF_ESQL: return "sql_error";
	case DF_EGATE: return "gate_refused";
	case DF_ECHECKSUM: return "checksum_mismatch";
	case DF_EMISSING: return "missing_file";
	case DF_EFAILED: return "failed_migration";
	case DF_EIO: return "io";
	case DF_ENOTFOUND: return "usage";
	case DF_EINTERRUPTED: return "interrupted";
	case DF_EUNKNOWNDB: return "unknown_database";
	case DF_ETLS: return "tls_failed";
	case DF_EPOOLER: return "pooler";
	case DF_EUNVERIFIED: return "unverified";
	default: return "internal";
	}
}

df_error *df_error_save(void)
{
	df_error *s;

	if (!have_last || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->code = last.code;
	s->message = last.message ? strdup(last.message) : NULL;
	s->hint = last.hint ? strdup(last.hint) : NULL;
	s->file = last.file ? strdup(last.file) : NULL;
	s->line = last.line;
	s->column = last.column;
	s->connect_phase = last.connect_phase;
	for (size_t i = 0; i < last.nr_cmds; i++)
		if ((s->cmds[s->nr_cmds] = cmd_copy(last.cmds[i])))
			s->nr_cmds++;
	return s;
}

void df_error_restore(df_error *saved)
{
	if (!saved)
		return;
	df_error_set(saved->code, "%s", saved->message ? saved->message : "failed");
	if (saved->hint)
		df_error_hint("%s", saved->hint);
	if (saved->file)
		df_error_pos(saved->file, saved->line, saved->column);
	last.connect_phase = saved->connect_phase;
	for (size_t i = 0; i < saved->nr_cmds; i++)
		df_error_suggest(saved->cmds[i]);
	saved->nr_cmds = 0;
	df_error_free(saved);
}

void df_error_free(df_error *saved)
{
	if (!saved)
		return;
	free(saved->message);
	free(saved->hint);
	free(saved->file);
	release_cmds(saved);
	free(saved);
}
