/*
 * Migration files: names, formats, sections, checksums.
 *
 * A file is read once, in 64 KiB chunks, and in that one pass we compute the
 * SHA-256 of its normalised bytes (no BOM, CRLF and CR as LF), validate UTF-8,
 * refuse NUL bytes, and find the section markers by line.  Nothing keeps the
 * whole file in memory, so a 1 GB migration costs one buffer.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "core/cache.h"
#include "core/mig_scan.h"
#include "util/sha256.h"
#include "util/banned.h"

static const char *base_name(const char *path);

/*
 * A migration's strings (path, version, name) live in one block that
 * starts at m->path; up.path is m->path; file points into it.  Only a down
 * section in a file of its own (golang-migrate, Flyway) owns its path.
 */
void df_migration_release(df_migration *m)
{
	free(m->text);
	if (m->down.path != m->up.path)
		free(m->down.path);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* Allocate the block: path, version, name; 0 or DF_EINTERNAL. */
static int set_strings(df_migration *m, const char *path, const char *version, const char *name)
{
	size_t lp = strlen(path) + 1, lv = strlen(version) + 1, ln = strlen(name) + 1;
	char *b = malloc(lp + lv + ln);

	if (!b)
		return df_error_oom();
	memcpy(b, path, lp);
	memcpy(b + lp, version, lv);
	memcpy(b + lp + lv, name, ln);
	m->path = m->up.path = b;
	m->file = (char *)base_name(b);
	m->version = b + lp;
	m->name = b + lp + lv;
	return 0;
}

const char *df_mig_format_name(df_mig_format f)
{
	switch (f) {
	case DF_FMT_DBMATE: return "dbmate";
	case DF_FMT_GOLANG: return "golang-migrate";
	case DF_FMT_FLYWAY: return "flyway";
	case DF_FMT_GOOSE: return "goose";
	case DF_FMT_PLAIN: return "plain";
	default: return "devflow";
	}
}

/* Compare two dotted numeric versions, ignoring leading zeros. */
int df_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		size_t na, nb;
		int c;

		while (*a == '0' && isdigit((unsigned char)a[1]))
			a++;
		while (*b == '0' && isdigit((unsigned char)b[1]))
			b++;
		na = strspn(a, "0123456789");
		nb = strspn(b, "0123456789");
		if (na != nb)
			return na < nb ? -1 : 1;
		if ((c = strncmp(a, b, na)))
			return c < 0 ? -1 : 1;
		a += na;
		b += nb;
		if (*a != *b) {
			if (!*a)
				return -1;
			if (!*b)
				return 1;
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		}
		if (*a)
			a++, b++;
	}
	return 0;
}

int df_migration_order(const df_migration *a, const df_migration *b)
{
	if (a->repeatable != b->repeatable)
		return a->repeatable ? 1 : -1;
	if (a->repeatable)
		return strcmp(a->name, b->name);
	return df_version_cmp(a->version, b->version);
}

/* ---- file names ---------------------------------------------------------- */

struct fname {
	df_mig_format format;
	bool down;              /* golang .down.sql, flyway U */
	bool repeatable;        /* flyway R__ */
	char version[64];
	char name[256];
};

/* Recognise a migration file name; 0 when it is none of ours. */
static int parse_name(struct fname *f, const char *base)
{
	size_t n = strlen(base), vlen;
	const char *us;

	memset(f, 0, sizeof(*f));
	if (n < 5 || strcasecmp(base + n - 4, ".sql"))
		return 0;
	n -= 4;
	if (base[0] == 'R' && base[1] == '_' && base[2] == '_' && n > 3) {
		/* a Flyway repeatable: no version */
		f->format = DF_FMT_FLYWAY;
		f->repeatable = true;
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(n - 3), base + 3);
		return 1;
	}
	if ((base[0] == 'V' || base[0] == 'U') && (us = strstr(base, "__")) && us > base + 1 &&
	    (size_t)(us - base) <= n) {
		vlen = (size_t)(us - base - 1);
		bool ok = vlen < sizeof(f->version) && isdigit((unsigned char)base[1]);
		for (size_t i = 0; ok && i < vlen; i++)
			ok = isdigit((unsigned char)base[1 + i]) || base[1 + i] == '.' || base[1 + i] == '_';
		if (ok) {
			f->format = DF_FMT_FLYWAY;
			f->down = base[0] == 'U';
			for (size_t i = 0; i < vlen; i++)
				f->version[i] = base[1 + i] == '_' ? '.' : base[1 + i];
			snprintf(f->name, sizeof(f->name), "%.*s", (int)(n - vlen - 3), us + 2);
			return 1;
		}
	}
	vlen = strspn(base, "0123456789");
	if (!vlen || vlen >= sizeof(f->version) || base[vlen] != '_' || vlen + 1 >= n)
		return 0;
	memcpy(f->version, base, vlen);
	if (n > 3 && !strncmp(base + n - 3, ".up", 3)) {
		f->format = DF_FMT_GOLANG;
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(n - 3 - vlen - 1), base + vlen + 1);
	} else if (n > 5 && !strncmp(base + n - 5, ".down", 5)) {
		f->format = DF_FMT_GOLANG;
		f->down = true;
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(n - 5 - vlen - 1), base + vlen + 1);
	} else {
		f->format = DF_FMT_DEVFLOW;
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(n - vlen - 1), base + vlen + 1);
	}
	return f->name[0] != '\0';
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * Read one file into `m`.  For golang/flyway down files, use
 * df_migration_attach_down().  Plain files (no recognised name or markers)
 * are accepted only with allow_plain.
 */
static int read_file_at(df_migration *m, int dirfd, const char *rel, const char *path, bool allow_plain);

/*
 * The bytes of a section: in `whole` when the scan's one read held them,
 * else read into *text (the caller frees it).  false when unreadable.
 */
static bool section_text(const char **p, size_t *len, char **text, const df_section *sec,
	const unsigned char *whole, size_t whole_len)
{
	if (whole && sec->off + sec->len <= whole_len) {
		*p = (const char *)whole + sec->off;
		*len = (size_t)sec->len;
		return true;
	}
	if (df_section_read(text, len, sec) == 0) {
		*p = *text;
		return true;
	}
	df_error_clear();
	return false;
}

/*
 * Whether a section holds no statement, by the splitter (the line heuristic
 * of the scan cannot see every comment layout): no statement for SQLite's or
 * MySQL's comment rules.  Sections over 64 KiB keep the heuristic's answer.
 */
static bool section_empty(const df_section *sec, const unsigned char *whole, size_t whole_len,
	bool heuristic)
{
	static const df_dialect dialects[] = { DF_DIALECT_SQLITE, DF_DIALECT_MYSQL };
	char *text = NULL;
	const char *p;
	size_t len;
	bool empty = false;

	if (!sec->path || !sec->len)
		return true;
	if (sec->len > 64 * 1024 || !section_text(&p, &len, &text, sec, whole, whole_len))
		return heuristic;
	/* the line heuristic is only fooled by block comments and MySQL's # */
	if (!memmem(p, len, "/*", 2) && !memchr(p, '#', len)) {
		free(text);
		return heuristic;
	}
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]) && !empty; i++) {
		df_stmt_list l = DF_STMT_LIST_INIT;
		empty = df_sql_split(&l, dialects[i], p, len, NULL) == 0 && l.nr == 0;
		df_stmt_list_release(&l);
	}
	df_error_clear();
	free(text);
	return empty;
}

/* Could `p` hold a statement that cannot run in a transaction? (cheap) */
static bool may_need_no_tx(const char *p, size_t len)
{
	static const char *words[] = { "concurrently", "vacuum", "database", "system", "tablespace" };

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++)
			if (!strncasecmp(p + i, words[w], wl))
				return true;
	}
	return false;
}

/*
 * A section whose only statement cannot run in a transaction (CREATE INDEX
 * CONCURRENTLY, VACUUM ...) runs outside one, in every format, as the
 * formats' own tools run it.  Sections over 64 KiB are left to the run's
 * check (df_run_check()).
 */
static bool lone_no_tx(const df_section *sec, const unsigned char *whole, size_t whole_len)
{
	char *text = NULL;
	const char *p;
	size_t len;
	bool lone = false;
	df_stmt_list l = DF_STMT_LIST_INIT;

	if (!sec->path || !sec->len || sec->empty || sec->len > 64 * 1024 ||
	    !section_text(&p, &len, &text, sec, whole, whole_len))
		return false;
	if (may_need_no_tx(p, len) && df_sql_split(&l, DF_DIALECT_POSTGRES, p, len, NULL) == 0 &&
	    l.nr == 1)
		lone = df__needs_no_tx(p + l.v[0].offset, l.v[0].len) != NULL;
	df_stmt_list_release(&l);
	df_error_clear();
	free(text);
	return lone;
}

int df_migration_read_file(df_migration *m, const char *path, bool allow_plain)
{
	return read_file_at(m, AT_FDCWD, path, path, allow_plain);
}

/* True when the bytes are white space only. */
static bool blank(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace(p[i]))
			return false;
	return true;
}

/* `rel` is opened relative to `dirfd`; `path` is what the migration records. */
static int read_file_at(df_migration *m, int dirfd, const char *rel, const char *path, bool allow_plain)
{
	const char *base = base_name(path);
	struct fname fn;
	struct scan s;
	unsigned char buf[CHUNK];
	int named, error;

	memset(m, 0, sizeof(*m));
	named = parse_name(&fn, base);
	if ((error = df__scan_file(&s, dirfd, rel, path, &m->size, buf)) < 0)
		goto fail;
	df__scan_digest(&s, m->checksum);
	if ((error = set_strings(m, path, named ? fn.version : "", named ? fn.name : base)) < 0)
		goto fail;
	if (s.up_line) {
		m->format = s.up_kind == MK_UP ? DF_FMT_DEVFLOW :
			s.up_kind == MK_GOOSE_UP ? DF_FMT_GOOSE : DF_FMT_DBMATE;
		m->no_transaction = s.no_tx || s.dbmate_no_tx;
		m->up.off = s.up_off;
		m->up.len = (s.down_line ? s.up_end : m->size) - s.up_off;
		m->up.line = s.up_line + 1;
		m->up.empty = !s.up_has_sql;
		if (s.down_line) {
			m->down.path = m->up.path;
			m->down.off = s.down_off;
			m->down.len = m->size - s.down_off;
			m->down.line = s.down_line + 1;
			m->down.empty = section_empty(&m->down, s.whole, s.whole_len, !s.down_has_sql);
		}
		if (!m->no_transaction)
			m->no_transaction = lone_no_tx(&m->up, s.whole, s.whole_len);
	} else if (named && (fn.format == DF_FMT_GOLANG || fn.format == DF_FMT_FLYWAY)) {
		m->format = fn.format;
		m->repeatable = fn.repeatable;
		m->no_transaction = s.no_tx;
		m->up.off = 0;
		m->up.len = m->size;
		m->up.line = 1;
		m->up.empty = !s.up_has_sql && !s.sql_before_up;
		m->no_transaction = m->no_transaction || lone_no_tx(&m->up, s.whole, s.whole_len);
	} else if (allow_plain) {
		m->format = DF_FMT_PLAIN;
		m->no_transaction = s.no_tx;
		m->up.len = m->size;
		m->up.line = 1;
		m->up.empty = !s.sql_before_up;
	} else if (!m->size || (s.whole && blank(s.whole, s.whole_len))) {
		/* a file made and never written: say so, not that a marker is missing */
		error = df_error_set(DF_ECONFIG, "'%s' is empty", path);
		df_error_pos(path, 1, 1);
		df_error_hint("write the migration's SQL after a line '-- UP' (and its reverse after "
			"'-- DOWN'), or delete the file");
		goto fail;
	} else {
		error = df_error_set(DF_ECONFIG, "'%s' has no '-- UP' marker", path);
		df_error_pos(path, 1, 1);
		df_error_hint("start the migration's SQL with a line '-- UP' (and its reverse after '-- DOWN')");
		goto fail;
	}
	df__scan_release(&s);
	return 0;
fail:
	df__scan_release(&s);
	df_migration_release(m);
	return error;
}

/*
 * Attach the separate DOWN file `path` (`name` in the folder `dirfd`) to m.
 * With a cache, a trusted entry spares reading it.
 */
static int attach_down(df_migration *m, const char *path, df_stat_cache *cache,
	int dirfd, const char *name)
{
	struct scan s;
	struct stat st;
	unsigned char buf[CHUNK];
	uint64_t size;
	int64_t read_ns = 0;
	const df_cache_entry *e = NULL;
	bool empty;
	int error;

	if (cache) {
		read_ns = df__cache_now_ns();
		if (fstatat(dirfd, name, &st, 0) < 0)
			cache = NULL;
		else
			e = df__cache_get(cache, name, DF_CACHE_DOWN, &st);
	}
	if (e) {
		size = e->size;
		empty = (e->flags & DF_CACHE_F_DOWN_EMPTY) != 0;
	} else {
		if ((error = df__scan_file(&s, AT_FDCWD, path, path, &size, buf)) < 0) {
			df__scan_release(&s);
			return error;
		}
		df__scan_release(&s);
	}
	if (m->down.path && m->down.path != m->up.path)
		free(m->down.path);
	if (!(m->down.path = strdup(path)))
		return df_error_oom();
	m->down.off = 0;
	m->down.len = size;
	m->down.line = 1;
	if (!e) {
		m->down.empty = section_empty(&m->down, s.whole, s.whole_len,
			!s.up_has_sql && !s.sql_before_up);
		if (cache && (error = df__cache_put(cache, name, DF_CACHE_DOWN, &st, read_ns, m)) < 0)
			return error;
	} else {
		m->down.empty = empty;
	}
	return 0;
}

/*
 * One migration file of the folder: from the cache when its entry is
 * trusted (only the name is parsed), else read, and the cache told.
 */
static int read_file_cached(df_migration *m, int dirfd, const char *rel, const char *path,
	df_stat_cache *cache)
{
	struct stat st;
	const df_cache_entry *e;
	int64_t read_ns;
	int error;

	if (!cache)
		return read_file_at(m, dirfd, rel, path, false);
	read_ns = df__cache_now_ns();
	if (fstatat(dirfd, rel, &st, 0) < 0)
		return read_file_at(m, dirfd, rel, path, false);
	if ((e = df__cache_get(cache, rel, DF_CACHE_UP, &st))) {
		struct fname fn;
		int named;

		memset(m, 0, sizeof(*m));
		named = parse_name(&fn, rel);
		if ((error = set_strings(m, path, named ? fn.version : "",
					 named ? fn.name : rel)) < 0)
			return error;
		df__cache_fill(m, e);
		m->repeatable = named && fn.repeatable;
		return 0;
	}
	if ((error = read_file_at(m, dirfd, rel, path, false)) < 0)
		return error;
	if ((error = df__cache_put(cache, rel, DF_CACHE_UP, &st, read_ns, m)) < 0) {
		df_migration_release(m);
		return error;
	}
	return 0;
}

/* ---- the set -------------------------------------------------------------- */

void df_migration_set_free(df_migration_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nr; i++)
		df_migration_release(&set->v[i]);
	free(set->v);
	free(set->dir);
	df_strlist_release(&set->warnings);
	df_strlist_release(&set->bad_files);
	df_strlist_release(&set->bad_messages);
	free(set);
}

static int cmp_mig(const void *a, const void *b)
{
	return df_migration_order(a, b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Timestamp versions (12 digits or more) beside short ones: `2026_add_c.sql`
 * sorts before every 14-digit version, which is rarely what its author
 * meant.  A warning, once per short version.
 */
static int warn_widths(df_migration_set *set)
{
	size_t wide = 0, longest = 0;
	const char *example = NULL;

	for (size_t i = 0; i < set->nr; i++) {
		size_t w = strlen(set->v[i].version);
		if (strspn(set->v[i].version, "0123456789") != w || w < 12)
			continue;
		wide++;
		if (w > longest)
			longest = w, example = set->v[i].file;
	}
	if (!wide)
		return 0;
	for (size_t i = 0; i < set->nr; i++) {
		const df_migration *m = &set->v[i];
		df_buf b = DF_BUF_INIT;
		if (strlen(m->version) >= 12)
			continue;
		df_buf_printf(&b, "'%s' has version %s beside %zu-digit versions (such as '%s'): it "
			"sorts before all of them; give it a %zu-digit version if it is newer", m->file,
			m->version, longest, example, longest);
		if (df_buf_oom(&b) || df_strlist_push(&set->warnings, b.ptr) < 0) {
			df_buf_release(&b);
			return df_error_oom();
		}
		df_buf_release(&b);
	}
	return 0;
}

static int set_load(df_migration_set **out, const char *dir, bool must_exist,
	df_stat_cache *cache, bool keep_bad);

int df_migration_set_load(df_migration_set **out, const char *dir, bool must_exist)
{
	return set_load(out, dir, must_exist, NULL, false);
}

static int load_cached(df_migration_set **out, const char *dir, bool must_exist, bool keep_bad)
{
	df_stat_cache cache;
	int error;

	if ((error = df__cache_load(&cache, DF_STAT_CACHE_PATH, dir)) < 0)
		return error;
	if ((error = set_load(out, dir, must_exist, &cache, keep_bad)) == 0)
		df__cache_save(&cache, DF_STAT_CACHE_PATH);
	df__cache_release(&cache);
	return error;
}

int df_migration_set_load_cached(df_migration_set **out, const char *dir, bool must_exist)
{
	return load_cached(out, dir, must_exist, false);
}

int df_migration_set_load_all(df_migration_set **out, const char *dir, bool must_exist, bool cached)
{
	return cached ? load_cached(out, dir, must_exist, true) :
		set_load(out, dir, must_exist, NULL, true);
}

/* keep_bad: name `file` and the current error in the set's bad lists. */
static int keep_bad_file(df_migration_set *set, const char *file)
{
	int error;

	if ((error = df_strlist_push(&set->bad_files, file)) < 0 ||
	    (error = df_strlist_push(&set->bad_messages, df_error_last()->message)) < 0)
		return error;
	df_error_clear();
	return 0;
}

static int set_load(df_migration_set **out, const char *dir, bool must_exist,
	df_stat_cache *cache, bool keep_bad)
{
	df_migration_set *set;
	df_strlist names = DF_STRLIST_INIT, downs = DF_STRLIST_INIT, bad = DF_STRLIST_INIT;
	df_buf path = DF_BUF_INIT;
	struct dirent *de;
	DIR *d;
	int error = 0;

	*out = NULL;
	if (!(set = calloc(1, sizeof(*set))) || !(set->dir = strdup(dir))) {
		free(set);
		return df_error_oom();
	}
	if (!(d = opendir(dir))) {
		if (errno == ENOENT && !must_exist) {
			*out = set;
			return 0;
		}
		if (errno == ENOENT) {
			char cwd[PATH_MAX];
			error = df_error_set(DF_ECONFIG, "no migrations folder: '%s' does not exist in %s, "
				"and no folder above holds devflow.conf or migrations/", dir,
				getcwd(cwd, sizeof(cwd)) ? cwd : ".");
			df_error_hint("run devflow in the project folder (or -C DIR); to start a project "
				"here: " DF_ERR_CMD(0) "; or set [project] migrations in devflow.conf");
			df_error_suggest(df_cmd_make(DF_VERB_CREATE, "NAME", -1));
		} else {
			error = df_error_set(DF_ECONFIG, "cannot read migrations folder '%s': %s", dir, strerror(errno));
			df_error_hint("check that '%s' is a folder you can read", dir);
		}
		df_migration_set_free(set);
		return error;
	}
	while ((de = readdir(d))) {
		struct fname fn;
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 5 || strcasecmp(de->d_name + n - 4, ".sql"))
			continue;
		if (!parse_name(&fn, de->d_name)) {
			if ((error = df_strlist_push(&bad, de->d_name)) < 0)
				goto out;
			continue;
		}
		if ((error = df_strlist_push(fn.down ? &downs : &names, de->d_name)) < 0)
			goto out;
	}
	if (bad.nr)
		qsort(bad.v, bad.nr, sizeof(char *), cmp_str);
	for (size_t i = 0; keep_bad && i < bad.nr; i++) {
		df_buf_truncate(&path, 0);
		df_buf_printf(&path, "%s/%s", dir, bad.v[i]);
		df_error_set(DF_ECONFIG, "'%s' is not named like a migration (VERSION_name.sql)", path.ptr);
		if ((error = keep_bad_file(set, path.ptr)) < 0)
			goto out;
	}
	if (bad.nr && !keep_bad) {
		/* every misnamed file at once, not one per run */
		df_buf list = DF_BUF_INIT;
		for (size_t i = 0; i < bad.nr; i++)
			df_buf_printf(&list, "%s'%s/%s'", i ? ", " : "", dir, bad.v[i]);
		if (bad.nr == 1)
			error = df_error_set(DF_ECONFIG, "%s is not named like a migration (VERSION_name.sql)",
				list.ptr);
		else
			error = df_error_set(DF_ECONFIG, "%zu files are not named like a migration "
				"(VERSION_name.sql): %s", bad.nr, list.ptr);
		df_buf_release(&list);
		df_buf_truncate(&path, 0);
		df_buf_printf(&path, "%s/%s", dir, bad.v[0]);
		df_error_pos(path.ptr, 1, 1);
		df_error_hint("rename %s to YYYYMMDDHHMMSS_name.sql, or move %s out of the migrations folder",
			bad.nr == 1 ? "it" : "each", bad.nr == 1 ? "it" : "them");
		goto out;
	}
	/* readdir order is arbitrary; sort names so messages are stable */
	if (names.nr)
		qsort(names.v, names.nr, sizeof(char *), cmp_str);
	if (downs.nr)
		qsort(downs.v, downs.nr, sizeof(char *), cmp_str);
	if (!(set->v = calloc(names.nr ? names.nr : 1, sizeof(*set->v)))) {
		error = df_error_oom();
		goto out;
	}
	set->alloc = names.nr;
	for (size_t i = 0; i < names.nr; i++) {
		df_buf_truncate(&path, 0);
		df_buf_printf(&path, "%s/%s", dir, names.v[i]);
		if ((error = read_file_cached(&set->v[set->nr], dirfd(d), names.v[i], path.ptr,
					      cache)) == DF_ECONFIG && keep_bad) {
			/* every bad file named, the others still read */
			if ((error = keep_bad_file(set, path.ptr)) < 0)
				goto out;
			continue;
		}
		if (error < 0)
			goto out;
		set->nr++;
	}
	/* names sort like versions almost always: sort only when needed */
	for (size_t i = 1; i < set->nr; i++)
		if (df_migration_order(&set->v[i - 1], &set->v[i]) > 0) {
			qsort(set->v, set->nr, sizeof(*set->v), cmp_mig);
			break;
		}
	for (size_t i = 1; i < set->nr; i++)
		if (!set->v[i].repeatable && !df_version_cmp(set->v[i - 1].version, set->v[i].version)) {
			error = df_error_set(DF_ECONFIG, "two migrations have version %s: '%s' and '%s'",
				set->v[i].version, set->v[i - 1].file, set->v[i].file);
			df_error_hint("give one of them a new version (rename the file)");
			goto out;
		}
	if ((error = warn_widths(set)) < 0)
		goto out;
	for (size_t i = 0; i < downs.nr; i++) {
		struct fname fn;
		df_migration *m = NULL;
		parse_name(&fn, downs.v[i]);
		for (size_t j = 0; j < set->nr && !m; j++)
			if (!set->v[j].repeatable && !df_version_cmp(set->v[j].version, fn.version))
				m = &set->v[j];
		if (!m) {
			error = df_error_set(DF_ECONFIG, "'%s/%s' has no matching up migration", dir, downs.v[i]);
			goto out;
		}
		df_buf_truncate(&path, 0);
		df_buf_printf(&path, "%s/%s", dir, downs.v[i]);
		if ((error = attach_down(m, path.ptr, cache, dirfd(d), downs.v[i])) < 0)
			goto out;
	}
	*out = set;
	set = NULL;
out:
	closedir(d);
	df_strlist_release(&names);
	df_strlist_release(&downs);
	df_strlist_release(&bad);
	df_buf_release(&path);
	df_migration_set_free(set);
	return error;
}

const df_migration *df_migration_set_find(const df_migration_set *set, const char *key)
{
	for (size_t i = 0; i < set->nr; i++)
		if ((!set->v[i].repeatable && !df_version_cmp(set->v[i].version, key)) ||
		    !strcmp(set->v[i].name, key) ||
		    !strcmp(set->v[i].file, key))
			return &set->v[i];
	return NULL;
}

/* ---- sections -------------------------------------------------------------- */

int df_migration_preload(df_migration *m, uint64_t max)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	if (m->text || !m->up.path || (fd = open(m->up.path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > max ||
	    m->up.off + m->up.len > (uint64_t)st.st_size ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return 0;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);              /* changed under us: the readers will say so */
		return 0;
	}
	buf[got] = '\0';
	m->text = buf;
	m->up.mem = buf + m->up.off;
	if (m->down.path && (m->down.path == m->up.path || !strcmp(m->down.path, m->up.path)) &&
	    m->down.off + m->down.len <= got)
		m->down.mem = buf + m->down.off;
	return 0;
}

int df_section_read(char **out, size_t *len, const df_section *s)
{
	char *buf;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	if (!s->path)
		return df_error_set(DF_EINTERNAL, "no such section");
	if (s->len > SIZE_MAX - 1 || !(buf = malloc((size_t)s->len + 1)))
		return df_error_oom();
	if (s->mem) {
		memcpy(buf, s->mem, (size_t)s->len);
		buf[s->len] = '\0';
		*out = buf;
		*len = (size_t)s->len;
		return 0;
	}
	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(buf);
		return df_error_set(DF_EIO, "cannot read '%s': %s", s->path, strerror(errno));
	}
	while (got < s->len) {
		ssize_t n = pread(fd, buf + got, (size_t)s->len - got, (off_t)(s->off + got));
		if (n <= 0) {
			close(fd);
			free(buf);
			return df_error_set(DF_EIO, "cannot read '%s': %s", s->path,
				n < 0 ? strerror(errno) : "the file changed while devflow read it");
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

void df_file_position(const char *path, uint64_t offset, int *line, int *column)
{
	unsigned char buf[CHUNK];
	uint64_t at = 0, line_start = 0;
	ssize_t n;
	int fd, l = 1;

	*line = *column = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (at < offset && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && at < offset; i++, at++)
			if (buf[i] == '\n') {
				l++;
				line_start = at + 1;
			}
	}
	close(fd);
	*line = l;
	*column = (int)(offset - line_start) + 1;
}

int df_section_split(df_stmt_list *out, const df_section *s, df_dialect d)
{
	size_t len, err_off = 0, first = out->nr;
	char *text;
	int error, line, col;

	if ((error = df_section_read(&text, &len, s)) < 0)
		return error;
	if ((error = df_sql_split(out, d, text, len, &err_off)) < 0) {
		df_file_position(s->path, s->off + err_off, &line, &col);
		df_error_pos(s->path, line, col);
		df_error_prefix("%s:%d:%d", s->path, line, col);
		free(text);
		return error;
	}
	for (size_t i = first; i < out->nr; i++)
		out->v[i].offset += s->off;
	free(text);
	return 0;
}
