/*
 * One pass over a migration file: the checksum, UTF-8 and NUL checks, and
 * the section markers (-- UP / -- DOWN, dbmate's and goose's), by line,
 * without keeping the whole file in memory (core/mig_scan.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/error.h"
#include "core/mig_scan.h"
#include "util/banned.h"

static enum marker classify(const char *s, size_t n, bool *no_tx)
{
	char buf[80];
	size_t i = 0, j = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (n - i < 2 || s[i] != '-' || s[i + 1] != '-')
		return MK_NONE;         /* every marker is a -- comment */
	/* lower-case, white space removed */
	for (; i < n && j < sizeof(buf) - 1; i++)
		if (!isspace((unsigned char)s[i]))
			buf[j++] = (char)tolower((unsigned char)s[i]);
	buf[j] = '\0';
	if (strncmp(buf, "--", 2))
		return MK_NONE;
	if (!strcmp(buf, "--up") || !strcmp(buf, "--up:") || !strcmp(buf, "--+up"))
		return MK_UP;
	if (!strcmp(buf, "--down") || !strcmp(buf, "--down:") || !strcmp(buf, "--+down"))
		return MK_DOWN;
	if (!strncmp(buf, "--migrate:up", 12)) {
		*no_tx = strstr(buf, "transaction:false") != NULL;
		return MK_DBMATE_UP;
	}
	if (!strncmp(buf, "--migrate:down", 14))
		return MK_DBMATE_DOWN;
	if (!strcmp(buf, "--devflow:no-transaction") || !strcmp(buf, "--+goosenotransaction"))
		return MK_NO_TX;
	if (!strcmp(buf, "--+gooseup"))
		return MK_GOOSE_UP;
	if (!strcmp(buf, "--+goosedown"))
		return MK_GOOSE_DOWN;
	return MK_NONE;
}

static int scan_error(struct scan *s, int line, int col, const char *fmt, const char *what)
{
	df_error_set(DF_ECONFIG, fmt, s->shown, what);
	df_error_pos(s->shown, line, col);
	return DF_ECONFIG;
}

/* A line ended (at absolute offset `end`, the offset of its '\n' or EOF). */
static int end_line(struct scan *s, uint64_t next_start)
{
	bool no_tx = false;
	enum marker mk = classify(s->head, s->head_len, &no_tx);

	switch (mk) {
	case MK_UP:
	case MK_DBMATE_UP:
	case MK_GOOSE_UP:
		if (s->up_count++) {
			df_error_set(DF_ECONFIG, "'%s' has two UP markers (lines %d and %d)",
				s->shown, s->up_line, s->line);
			df_error_pos(s->shown, s->line, 1);
			df_error_hint("keep one '-- UP' line; put the reverse SQL after '-- DOWN'");
			return DF_ECONFIG;
		}
		if (s->down_line)
			return scan_error(s, s->line, 1, "'%s': the UP marker comes after the DOWN marker%s", "");
		if (s->sql_before_up)
			return scan_error(s, s->sql_before_line, 1,
				"'%s' has SQL before its '-- UP' marker%s", "");
		s->up_kind = mk;
		s->up_line = s->line;
		s->up_off = next_start;
		s->dbmate_no_tx = no_tx;
		break;
	case MK_DOWN:
	case MK_DBMATE_DOWN:
	case MK_GOOSE_DOWN:
		if (s->down_line) {
			df_error_set(DF_ECONFIG, "'%s' has two DOWN markers (lines %d and %d)",
				s->shown, s->down_line, s->line);
			df_error_pos(s->shown, s->line, 1);
			return DF_ECONFIG;
		}
		if (!s->up_line)
			return scan_error(s, s->line, 1, "'%s': the DOWN marker comes before any UP marker%s", "");
		if ((mk == MK_DOWN) != (s->up_kind == MK_UP) ||
		    (mk == MK_GOOSE_DOWN) != (s->up_kind == MK_GOOSE_UP))
			return scan_error(s, s->line, 1, "'%s' mixes the markers of two formats "
				"(devflow's '-- UP', dbmate's '-- migrate:up', goose's '-- +goose Up')%s", "");
		s->down_line = s->line;
		s->up_end = s->line_start;
		s->down_off = next_start;
		break;
	case MK_NO_TX:
		if (s->up_line)
			return scan_error(s, s->line, 1,
				"'%s': '-- devflow:no-transaction' must stand before '-- UP'%s", "");
		s->no_tx = true;
		break;
	default:
		if (s->line_has_sql) {
			if (!s->up_line && !s->sql_before_up) {
				s->sql_before_up = true;
				s->sql_before_line = s->line;
			} else if (s->up_line && !s->down_line) {
				s->up_has_sql = true;
			} else if (s->down_line) {
				s->down_has_sql = true;
			}
		}
	}
	s->line++;
	s->line_start = next_start;
	s->head_len = 0;
	s->line_has_sql = false;
	return 0;
}

static bool head_is_sql(struct scan *s)
{
	size_t k = 0, left;
	const char *h;

	while (k < s->head_len && isspace((unsigned char)s->head[k]))
		k++;
	h = s->head + k;
	left = s->head_len - k;
	if (s->in_block) {
		if (memmem(h, left, "*/", 2))
			s->in_block = false;
		return false;
	}
	if (!left || (left >= 2 && h[0] == '-' && h[1] == '-') || h[0] == '#')
		return false;
	if (left >= 2 && h[0] == '/' && h[1] == '*') {
		if (!memmem(h + 2, left - 2, "*/", 2))
			s->in_block = true;
		return false;
	}
	return true;
}

static int feed_slow(struct scan *s, const unsigned char *p, size_t n)
{
	unsigned char out[2 * CHUNK];
	size_t o = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		uint64_t at = s->off + i;

		if (c == 0) {
			df_error_set(DF_ECONFIG, "'%s' contains a NUL byte at line %d", s->shown, s->line);
			df_error_pos(s->shown, s->line, (int)(at - s->line_start) + 1);
			df_error_hint("migration files must be UTF-8 text; is this a binary file?");
			return DF_ECONFIG;
		}
		if (s->utf8_need) {
			if ((c & 0xc0) != 0x80)
				goto bad_utf8;
			s->utf8_need--;
		} else if (c >= 0x80) {
			if (c >= 0xc2 && c <= 0xdf)
				s->utf8_need = 1;
			else if (c >= 0xe0 && c <= 0xef)
				s->utf8_need = 2;
			else if (c >= 0xf0 && c <= 0xf4)
				s->utf8_need = 3;
			else {
				s->bad_at = at;
				goto bad_utf8;
			}
			s->utf8_at = at;
			s->utf8_line = s->line;
			s->utf8_col = (int)(at - s->line_start) + 1;
		}
		/* the checksum sees CRLF and a lone CR as LF */
		if (s->pending_cr) {
			s->pending_cr = false;
			out[o++] = '\n';
			if (c == '\n')
				goto line;
		}
		if (c == '\r') {
			s->pending_cr = true;
			continue;
		}
		out[o++] = c;
		if (c != '\n') {
			if (s->head_len < sizeof(s->head))
				s->head[s->head_len++] = (char)c;
			continue;
		}
line:
		s->line_has_sql = head_is_sql(s);
		if ((r = end_line(s, at + 1)) < 0)
			return r;
	}
	df_sha256_update(&s->md, out, o);
	s->off += n;
	return 0;
bad_utf8:
	df_error_set(DF_ECONFIG, "'%s' is not valid UTF-8 (line %d)", s->shown,
		s->utf8_need ? s->utf8_line : s->line);
	df_error_pos(s->shown, s->utf8_need ? s->utf8_line : s->line,
		s->utf8_need ? s->utf8_col : (int)(s->bad_at - s->line_start) + 1);
	df_error_hint("save the file as UTF-8");
	return DF_ECONFIG;
}

/* Every byte below 0x80? (eight at a time) */
static bool all_ascii(const unsigned char *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return !(acc & 0x8080808080808080ULL);
}

/*
 * One chunk of the file.  The common case (ASCII text with LF line endings
 * and no NUL) is hashed as it is and walked a line at a time with memchr;
 * anything else takes the byte-at-a-time path, which normalises CRs for the
 * checksum and validates UTF-8.
 */
static int feed(struct scan *s, const unsigned char *p, size_t n)
{
	size_t i = 0;
	int r;

	if (s->pending_cr || s->utf8_need || memchr(p, 0, n) || memchr(p, '\r', n) ||
	    !all_ascii(p, n))
		return feed_slow(s, p, n);
	df_sha256_update(&s->md, p, n);
	while (i < n) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n, take = end - i;

		if (take > sizeof(s->head) - s->head_len)
			take = sizeof(s->head) - s->head_len;
		memcpy(s->head + s->head_len, p + i, take);
		s->head_len += take;
		if (!nl)
			break;
		s->line_has_sql = head_is_sql(s);
		if ((r = end_line(s, s->off + end + 1)) < 0)
			return r;
		i = end + 1;
	}
	s->off += n;
	return 0;
}

/*
 * Read `path` in one pass.  `shown` is the name used in messages.  With a
 * non-NULL `extra_md` the normalised bytes are also hashed there.
 */
int df__scan_file(struct scan *s, int dirfd, const char *path, const char *shown, uint64_t *size,
	unsigned char buf[CHUNK])
{
	bool first = true;
	int reads = 0;
	uint64_t total = 0;
	ssize_t n;
	int fd, error = 0;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->shown = shown;
	s->line = 1;
	df_sha256_init(&s->md);
	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) < 0) {
		df_error_set(DF_ECONFIG, "cannot read migration '%s': %s", shown, strerror(errno));
		return DF_ECONFIG;
	}
	while ((n = read(fd, buf, CHUNK)) > 0) {
		size_t skip = 0;
		reads++;
		total += (uint64_t)n;
		if (first && n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf) {
			skip = 3;       /* a BOM is not content */
			s->off = 3;
			s->line_start = 3;
		}
		first = false;
		if ((error = feed(s, buf + skip, (size_t)n - skip)) < 0)
			goto out;
		if (n < CHUNK)
			break;  /* a short read of a regular file is its end: no extra read() */
	}
	if (n < 0) {
		error = df_error_set(DF_ECONFIG, "cannot read migration '%s': %s", shown, strerror(errno));
		goto out;
	}
	if (s->utf8_need) {
		df_error_set(DF_ECONFIG, "'%s' is not valid UTF-8 (it ends inside a character)", shown);
		df_error_pos(shown, s->utf8_line, s->utf8_col);
		error = DF_ECONFIG;
		goto out;
	}
	if (s->pending_cr)
		df_sha256_update(&s->md, "\n", 1);
	if (s->head_len || s->off > s->line_start) {
		s->line_has_sql = head_is_sql(s);
		error = end_line(s, s->off);
	}
	*size = s->off;
	if (reads == 1) {
		/* the whole file is in buf: sections can be looked at without a read */
		s->whole = buf;
		s->whole_len = (size_t)total;
	}
out:
	close(fd);
	return error;
}

void df__scan_digest(struct scan *s, char hex[65])
{
	df_sha256_hex(&s->md, hex);
}

void df__scan_release(struct scan *s)
{
	(void)s;        /* nothing to free: the digest lives in the struct */
}
