/*
 * Fuzz target for database URLs (src/util/dsn.c): df_dsn_parse(),
 * df_dsn_redact(), df_dsn_scrub().  Input: URL [NUL PREFIX [NUL SUFFIX]];
 * PREFIX and SUFFIX surround the password in a message to scrub.  Checks:
 *
 *   - a failed parse sets a message, and the same URL with another password
 *     (one that decodes as well or as badly) fails with the same code,
 *     message and hint: errors say nothing about the password;
 *   - the redacted URL is the same for any password, so it holds the parsed
 *     password (3 chars or more, no '*') only where the URL's public parts
 *     hold it too;
 *   - the redacted URL parses whenever the URL did, to the same engine,
 *     port, user, host and database (unless "password=" stands outside a
 *     server URL's query: redaction hides what follows it wherever it is;
 *     database not for sqlite: URLs with "u:p@", which look like
 *     passwords and are hidden);
 *   - a message that holds the password, decoded or as written in the URL
 *     (3 chars or more, no '*'), no longer holds it after df_dsn_scrub().
 *
 * libFuzzer (see fuzz/run.sh):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     fuzz/fuzz_dsn.c src/util/dsn.c src/util/buf.c src/util/error.c -o fuzz_dsn
 *   ./fuzz_dsn -dict=fuzz/dsn.dict fuzz/corpus/dsn
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/dsn.h"
#include "devflow/error.h"

#include "fuzz_check.h"

#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static char *dup_str(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	CHECK(!s || p);
	return p;
}

/* Scrub PREFIX SECRET SUFFIX and check that SECRET is gone. */
static void check_scrub(const df_dsn *d, const char *pre, const char *secret, const char *post)
{
	size_t a = strlen(pre), b = strlen(secret), c = strlen(post);
	char *msg;

	if (b < 3 || strchr(secret, '*'))
		return;
	msg = malloc(a + b + c + 1);
	CHECK(msg);
	memcpy(msg, pre, a);
	memcpy(msg + a, secret, b);
	memcpy(msg + a + b, post, c + 1);
	df_dsn_scrub(d, msg);
	if (strstr(msg, secret)) {
		fprintf(stderr, "'%s' left in scrubbed '%s'\n", secret, msg);
		CHECK(!"secret left after df_dsn_scrub");
	}
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *url, *pre = "", *post = "", *other, *red, *red2 = NULL, *raw = NULL;
	const char *pw_kw;
	df_dsn *d = NULL, *d2 = NULL, *dr = NULL;
	size_t beg = 0, end = 0;
	bool span;
	int r, r2;

	buf = malloc(size + 1);
	CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	url = buf;
	if (strlen(buf) < size) {
		pre = buf + strlen(buf) + 1;
		if (pre + strlen(pre) < buf + size)
			post = pre + strlen(pre) + 1;
	}

	span = fz_password_span(url, &beg, &end);
	other = fz_other_password(url);

	df_error_clear();
	r = df_dsn_parse(&d, url);
	if (r < 0) {
		char *msg, *hint;

		CHECK(!d);
		CHECK(df_error_last() && df_error_last()->message && *df_error_last()->message);
		msg = dup_str(df_error_last()->message);
		hint = dup_str(df_error_last()->hint);
		if (other) {
			r2 = df_dsn_parse(&d2, other);
			CHECK(r2 == r);
			CHECK(same_str(msg, df_error_last()->message));
			CHECK(same_str(hint, df_error_last()->hint));
		}
		free(msg);
		free(hint);
		goto out;
	}
	CHECK(d && d->url && d->engine);
	CHECK(!strcmp(d->engine, "sqlite") || !strcmp(d->engine, "postgres") ||
		!strcmp(d->engine, "mysql"));
	CHECK(d->port >= 0 && d->port <= 65535);
	(void)df_dsn_is_local(d);

	red = df_dsn_redact(url);
	CHECK(red);
	if (other) {
		CHECK(df_dsn_parse(&d2, other) == 0);
		red2 = df_dsn_redact(other);
		CHECK(red2);
		if (strcmp(red, red2)) {
			fprintf(stderr, "redaction depends on the password: '%s' vs '%s'\n", red, red2);
			CHECK(!"redaction depends on the password");
		}
	}
	fz_check_not_shown(red, d->password, other);

	/* round trip, unless "password=" stands outside a server URL's query */
	pw_kw = strstr(url, "password=");
	if (!pw_kw || (strcmp(d->engine, "sqlite") && strchr(url, '?') &&
	    strchr(url, '?') < pw_kw)) {
		if (df_dsn_parse(&dr, red) < 0) {
			fprintf(stderr, "redacted '%s' does not parse: %s\n", red, df_error_last()->message);
			CHECK(!"redacted URL does not parse");
		}
		CHECK(!strcmp(dr->engine, d->engine));
		CHECK(dr->port == d->port);
		CHECK(same_str(dr->user, d->user));
		CHECK(same_str(dr->host, d->host));
		if (strcmp(d->engine, "sqlite") || !span)
			CHECK(same_str(dr->database, d->database));
	}
	if (d->password && !strcmp(d->engine, "sqlite"))
		CHECK(!"sqlite URL with a password");

	/* scrub */
	if (d->password && *d->password) {
		check_scrub(d, pre, d->password, post);
		if (span) {
			raw = malloc(end - beg + 1);
			CHECK(raw);
			memcpy(raw, url + beg, end - beg);
			raw[end - beg] = '\0';
			check_scrub(d, pre, raw, post);
		}
	}
	free(red);
	free(red2);
out:
	free(raw);
	free(other);
	df_dsn_free(d);
	df_dsn_free(d2);
	df_dsn_free(dr);
	free(buf);
	return 0;
}
