/*
 * The parameters of a mysql:// URL's query string that the driver and the
 * client tools use: socket, sslmode (ssl-mode, ssl_mode), ssl, sslca,
 * sslcert, sslkey, connect_timeout, charset.  Any other is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "drivers/my_int.h"
#include "util/banned.h"

/* Look up `key` in an undecoded query string; *out is malloc'd or NULL. */
static int my_param(char **out, const char *query, const char *key)
{
	size_t kn = strlen(key);
	const char *p = query;

	*out = NULL;
	while (p && *p) {
		size_t n = strcspn(p, "&");
		if (n > kn && !strncmp(p, key, kn) && p[kn] == '=') {
			const char *v = p + kn + 1;
			size_t vn = n - kn - 1, i;
			char *d = malloc(vn + 1), *o = d;
			if (!d)
				return df_error_oom();
			for (i = 0; i < vn; i++) {
				if (v[i] == '%' && i + 2 < vn && isxdigit((unsigned char)v[i + 1]) &&
				    isxdigit((unsigned char)v[i + 2])) {
					char hex[3] = { v[i + 1], v[i + 2], 0 };
					*o++ = (char)strtol(hex, NULL, 16);
					i += 2;
				} else {
					*o++ = v[i] == '+' ? ' ' : v[i];
				}
			}
			*o = '\0';
			*out = d;
			return 0;
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* Refuse URL parameters this driver does not know (a typo must not be ignored). */
int df__my_check_params(const char *query)
{
	static const char *const known[] = {
		"socket", "sslmode", "ssl-mode", "ssl_mode", "connect_timeout", "charset",
		"ssl", "sslca", "sslcert", "sslkey",
	};
	const char *p = query;

	while (p && *p) {
		size_t n = strcspn(p, "&"), kn = strcspn(p, "=&"), i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strlen(known[i]) == kn && !strncmp(p, known[i], kn))
				break;
		if (n && i == sizeof(known) / sizeof(known[0])) {
			df_error_set(DF_EUSAGE, "unknown mysql URL parameter '%.*s'",
				(int)(kn > 40 ? 40 : kn), p);
			df_error_hint("supported: socket, sslmode, ssl, sslca, sslcert, sslkey, "
				"connect_timeout, charset");
			return DF_EUSAGE;
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

void df__my_params_release(struct my_params *p)
{
	free(p->socket);
	free(p->sslmode);
	free(p->timeout);
	free(p->charset);
	free(p->ssl);
	free(p->sslca);
	free(p->sslcert);
	free(p->sslkey);
	memset(p, 0, sizeof(*p));
}

/*
 * The TLS the URL asks for, one word: sslmode as given; else "verify-ca"
 * when it names a CA (?sslca=PATH: the server's certificate is checked
 * against it), "require" for ?ssl=true (or a client certificate), NULL
 * when it says nothing (no TLS; the gate warns for a remote host).
 */
static int my_params_tls(struct my_params *p)
{
	if (p->ssl && strcasecmp(p->ssl, "true") && strcasecmp(p->ssl, "1") &&
	    strcasecmp(p->ssl, "false") && strcasecmp(p->ssl, "0")) {
		df_error_set(DF_EUSAGE, "unknown ssl value '%s' in the mysql URL", p->ssl);
		df_error_hint("use ssl=true or ssl=false (or sslmode=disable|prefer|require|verify-ca|verify-full)");
		return DF_EUSAGE;
	}
	if (p->sslmode)
		return 0;
	if (p->sslca)
		p->sslmode = strdup("verify-ca");
	else if (p->sslcert || p->sslkey || (p->ssl && (!strcasecmp(p->ssl, "true") || !strcmp(p->ssl, "1"))))
		p->sslmode = strdup("require");
	else if (p->ssl)
		p->sslmode = strdup("disable");
	else
		return 0;
	return p->sslmode ? 0 : df_error_oom();
}

int df__my_params_read(struct my_params *p, const char *query)
{
	int error;

	memset(p, 0, sizeof(*p));
	if ((error = my_param(&p->socket, query, "socket")) < 0 ||
	    (error = my_param(&p->sslmode, query, "sslmode")) < 0 ||
	    (!p->sslmode && (error = my_param(&p->sslmode, query, "ssl-mode")) < 0) ||
	    (!p->sslmode && (error = my_param(&p->sslmode, query, "ssl_mode")) < 0) ||
	    (error = my_param(&p->timeout, query, "connect_timeout")) < 0 ||
	    (error = my_param(&p->charset, query, "charset")) < 0 ||
	    (error = my_param(&p->ssl, query, "ssl")) < 0 ||
	    (error = my_param(&p->sslca, query, "sslca")) < 0 ||
	    (error = my_param(&p->sslcert, query, "sslcert")) < 0 ||
	    (error = my_param(&p->sslkey, query, "sslkey")) < 0 ||
	    (error = my_params_tls(p)) < 0)
		df__my_params_release(p);
	return error;
}
