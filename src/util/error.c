#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void release(void)
{
	if (last.message != oom_message)
		free(last.message);
	free(last.hint);
	free(last.file);
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

void df_error_save(df_error *out)
{
	memset(out, 0, sizeof(*out));
	if (!have_last)
		return;
	*out = last;
	/* take the strings over: the slot forgets them */
	if (last.message == oom_message)
		out->message = NULL;
	memset(&last, 0, sizeof(last));
	have_last = 0;
	if (!out->message && out->code)
		out->message = strdup(oom_message);
}

void df_error_restore(df_error *saved)
{
	if (!saved->code && !saved->message)
		return;
	release();
	last = *saved;
	have_last = 1;
	memset(saved, 0, sizeof(*saved));
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
	default: return "internal";
	}
}
