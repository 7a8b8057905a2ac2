#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/dsn.h"
#include "devflow/error.h"
#include "util/banned.h"

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n); NULL on oom or a bad escape. */
static char *decode(const char *s, size_t n, int *bad)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (s[i] == '%') {
			*bad = 1;
			*o++ = s[i];
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void df_dsn_free(df_dsn *dsn)
{
	if (!dsn)
		return;
	if (dsn->password)
		memset(dsn->password, 0, strlen(dsn->password));
	free(dsn->url);
	free(dsn->engine);
	free(dsn->user);
	free(dsn->password);
	free(dsn->host);
	free(dsn->database);
	free(dsn->query);
	free(dsn);
}

static const struct {
	const char *scheme, *engine;
} schemes[] = {
	{ "sqlite", "sqlite" }, { "sqlite3", "sqlite" }, { "file", "sqlite" },
	{ "postgres", "postgres" }, { "postgresql", "postgres" },
	{ "mysql", "mysql" }, { "mariadb", "mysql" },
};

static const struct {
	const char *scheme, *what;
} unsupported[] = {
	{ "libsql", "Turso/libSQL" }, { "turso", "Turso/libSQL" },
	{ "mssql", "Microsoft SQL Server" }, { "sqlserver", "Microsoft SQL Server" },
	{ "oracle", "Oracle" }, { "mongodb", "MongoDB" }, { "mongodb+srv", "MongoDB" },
	{ "redis", "Redis" }, { "cockroachdb", "CockroachDB (use postgres://)" },
	{ "clickhouse", "ClickHouse" }, { "http", "an HTTP endpoint" }, { "https", "an HTTP endpoint" },
};

/*
 * Where libpq ends the user-info of "scheme://REST": the first '@' met
 * before any '/' (a '?' does not stop it), or NULL.  MariaDB Connector/C
 * parses no URLs; devflow's mysql:// follows the same rule so that a URL
 * means one thing to every tool it is copied into.
 */
static const char *libpq_userinfo_end(const char *rest)
{
	for (const char *p = rest; *p && *p != '/'; p++)
		if (*p == '@')
			return p;
	return NULL;
}

static int parse_server(df_dsn *d, const char *rest)
{
	const char *auth_end, *at, *host, *host_end, *path, *q, *colon;
	size_t nat = 0;
	int bad = 0;

	/* rest: after "scheme://" */
	q = strchr(rest, '?');
	path = strchr(rest, '/');
	if (q && path && path > q)
		path = NULL;
	auth_end = path ? path : (q ? q : rest + strlen(rest));
	at = NULL;
	for (const char *p = rest; p < auth_end; p++)
		if (*p == '@') {
			nat++;
			at = p;     /* the last '@' of the authority */
		}
	if (at != libpq_userinfo_end(rest)) {
		/*
		 * libpq ends the user-info at the first '@' before any '/' (its
		 * conninfo_uri_parse_options), devflow at the last '@' of the
		 * authority: "u:P@ss@host" would be host "ss@host" to the one and
		 * host "host" to the other, and the error would print the part
		 * of the password after its '@'.  One reading or none: refuse,
		 * and never quote the user-info.
		 */
		df_error_set(DF_EUSAGE, "malformed database URL: %s", nat > 1 ? "more than one '@' before the host (a password holding "
			"'@' must be percent-encoded)" : "an '@' after a '?' before the host (a password "
			"holding '?' or '@' must be percent-encoded)");
		df_error_hint("write '@' in the user name or password as %%40 (and / as %%2F, : as "
			"%%3A, ? as %%3F, # as %%23, %% as %%25): %.*s://USER:PA%%40SS@HOST/DB",
			(int)strcspn(d->url, ":"), d->url);
		return DF_EUSAGE;
	}
	host = rest;
	if (at) {
		colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon) {
			d->user = decode(rest, (size_t)(colon - rest), &bad);
			d->password = decode(colon + 1, (size_t)(at - colon - 1), &bad);
			if (!d->user || !d->password)
				return df_error_oom();
		} else if (!(d->user = decode(rest, (size_t)(at - rest), &bad))) {
			return df_error_oom();
		}
		host = at + 1;
	}
	if (host > auth_end)            /* cannot happen: tells the compiler so */
		host = auth_end;
	host_end = auth_end;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(auth_end - host));
		if (!rb)
			return df_error_set(DF_EUSAGE, "malformed database URL: unclosed '[' in the host");
		if (!(d->host = dup_n(host + 1, (size_t)(rb - host - 1))))
			return df_error_oom();
		colon = rb + 1 < auth_end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(auth_end - host));
		if (colon)
			host_end = colon;
		if (host_end > host && !(d->host = dup_n(host, (size_t)(host_end - host))))
			return df_error_oom();
	}
	if (colon && colon + 1 < auth_end) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != auth_end || port <= 0 || port > 65535) {
			df_error_set(DF_EUSAGE, "malformed database URL: bad port number");
			if (!at || strchr(auth_end, '@') || memchr(colon + 1, '#', (size_t)(auth_end - colon - 1)))
				/* "user:pa/ss@host": the password's '/' ended the host part */
				df_error_hint("a password with / ? # @ : or %% must be percent-encoded in the URL "
					"(/ %%2F, ? %%3F, # %%23, @ %%40, : %%3A, %% %%25); or give the port as a number");
			else
				df_error_hint("the port must be a number from 1 to 65535");
			return DF_EUSAGE;
		}
		d->port = (int)port;
	}
	if (path) {
		const char *dend = q ? q : path + strlen(path);
		if (dend > path + 1 && !(d->database = decode(path + 1, (size_t)(dend - path - 1), &bad)))
			return df_error_oom();
	}
	if (q && q[1] && !(d->query = strdup(q + 1)))
		return df_error_oom();
	if (bad)
		return df_error_set(DF_EUSAGE, "malformed database URL: bad %%-escape");
	return 0;
}

int df_dsn_parse(df_dsn **out, const char *url)
{
	df_dsn *d;
	const char *colon, *rest;
	size_t slen, i;
	int error;

	*out = NULL;
	if (!url || !*url)
		return df_error_set(DF_EUSAGE, "empty database URL");
	colon = strchr(url, ':');
	if (!colon || colon == url)
		return df_error_set(DF_EUSAGE,
			"database URL has no scheme; expected sqlite:PATH, postgres://... or mysql://...");
	slen = (size_t)(colon - url);
	if (!(d = calloc(1, sizeof(*d))) || !(d->url = strdup(url))) {
		free(d);
		return df_error_oom();
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].scheme) == slen && !strncasecmp(url, schemes[i].scheme, slen))
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		for (size_t j = 0; j < sizeof(unsupported) / sizeof(unsupported[0]); j++)
			if (strlen(unsupported[j].scheme) == slen &&
			    !strncasecmp(url, unsupported[j].scheme, slen)) {
				error = df_error_set(DF_EUSAGE,
					"database URL is for %s ('%.*s:'), which devflow does not support",
					unsupported[j].what, (int)slen, url);
				goto fail;
			}
		error = df_error_set(DF_EUSAGE, "unsupported database URL scheme '%.*s:'",
			(int)(slen > 32 ? 32 : slen), url);
		goto fail;
	}
	if (!(d->engine = strdup(schemes[i].engine))) {
		error = df_error_oom();
		goto fail;
	}
	rest = colon + 1;
	if (!strcmp(d->engine, "sqlite")) {
		if (!strncmp(rest, "//", 2))
			rest += 2;
		if (!*rest) {
			error = df_error_set(DF_EUSAGE, "sqlite URL names no file; use sqlite:PATH");
			goto fail;
		}
		if (!(d->database = strdup(rest))) {
			error = df_error_oom();
			goto fail;
		}
	} else {
		if (strncmp(rest, "//", 2)) {
			error = df_error_set(DF_EUSAGE, "malformed database URL: expected '%.*s://'",
				(int)slen, url);
			goto fail;
		}
		if ((error = parse_server(d, rest + 2)) < 0)
			goto fail;
	}
	*out = d;
	return 0;
fail:
	df_dsn_free(d);
	if (!df_error_last() || !df_error_last()->hint)     /* keep a more precise one */
		df_error_hint("supported URLs: sqlite:PATH, postgres://USER@HOST:PORT/DB, mysql://USER@HOST:PORT/DB");
	return error;
}

char *df_dsn_redact(const char *url)
{
	df_buf b = DF_BUF_INIT;
	const char *p, *auth, *auth_end, *at = NULL, *colon;

	if (!url)
		return strdup("");
	p = strstr(url, "://");
	if (p) {
		size_t nat = 0;
		auth = p + 3;
		auth_end = auth + strcspn(auth, "/?");
		for (const char *s = auth; s < auth_end; s++)
			if (*s == '@') {
				at = s;
				nat++;
			}
		if (nat > 1 || (auth[strcspn(auth, "/@")] == '@' && !at)) {
			/* a URL two parsers read two ways: show none of its user-info */
			const char *end = at ? at : auth + strcspn(auth, "/@");
			df_buf_put(&b, url, (size_t)(auth - url));
			df_buf_puts(&b, "***");
			p = end;
		} else if (at && (colon = memchr(auth, ':', (size_t)(at - auth)))) {
			df_buf_put(&b, url, (size_t)(colon + 1 - url));
			df_buf_puts(&b, "***");
			p = at;
		} else {
			p = url;
		}
	} else {
		p = url;
	}
	/* Also hide password=... in a query string or a keyword/value string. */
	while (*p) {
		const char *hit = strstr(p, "password=");
		if (!hit) {
			df_buf_puts(&b, p);
			break;
		}
		df_buf_put(&b, p, (size_t)(hit - p) + 9);
		df_buf_puts(&b, "***");
		p = hit + 9;
		p += strcspn(p, "& ");
	}
	return df_buf_detach(&b);
}

bool df_host_is_local(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!h || !*h || *h == '/' || *h == '@')     /* default socket, socket dir, abstract socket */
		return true;
	if (!strcasecmp(h, "localhost"))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
			(IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

bool df_hosts_are_local(const char *list)
{
	char one[256];

	if (!list)
		return true;
	for (;;) {
		size_t n = strcspn(list, ",");
		if (n >= sizeof(one))
			return false;
		memcpy(one, list, n);
		one[n] = '\0';
		if (!df_host_is_local(one))
			return false;
		if (!list[n])
			return true;
		list += n + 1;
	}
}

bool df_dsn_is_local(const df_dsn *d)
{
	if (!strcmp(d->engine, "sqlite"))
		return true;
	return df_hosts_are_local(d->host);
}

static void scrub_one(char *text, const char *secret)
{
	size_t n = strlen(secret);
	char *hit;

	if (n < 3)
		return;
	while ((hit = strstr(text, secret))) {
		memmove(hit + 3, hit + n, strlen(hit + n) + 1);
		memcpy(hit, "***", 3);
		text = hit + 3;
	}
}

void df_dsn_scrub(const df_dsn *dsn, char *text)
{
	const char *p, *auth, *at = NULL, *colon;
	char *raw;

	if (!dsn || !text || !dsn->password || !*dsn->password)
		return;
	scrub_one(text, dsn->password);
	/* The password as written in the URL (percent-encoded). */
	if ((p = strstr(dsn->url, "://"))) {
		auth = p + 3;
		for (const char *s = auth; *s && *s != '/' && *s != '?'; s++)
			if (*s == '@')
				at = s;
		if (at && (colon = memchr(auth, ':', (size_t)(at - auth))) &&
		    (raw = dup_n(colon + 1, (size_t)(at - colon - 1)))) {
			scrub_one(text, raw);
			free(raw);
		}
	}
}

/*
 * `url` with its database (the path after host[:port]) replaced by `name`,
 * which needs no escaping.  Caller frees.
 */
char *df_dsn_with_database(const char *url, const char *name)
{
	const char *s = strstr(url, "://"), *path, *end;
	df_buf b = DF_BUF_INIT;

	if (!s)
		return NULL;
	s += 3;
	path = s + strcspn(s, "/?#");
	end = *path == '/' ? path + 1 + strcspn(path + 1, "?#") : path;
	df_buf_put(&b, url, (size_t)(path - url));
	df_buf_printf(&b, "/%s%s", name, end);
	return df_buf_detach(&b);
}
