/*
 * The stat cache of the migrations folder (.devflow/cache); see cache.h.
 *
 * The file is text, one entry a line, tab-separated, sorted by name:
 *
 *   devflow-stat-cache 1 <devflow version> <folder>
 *   <name> <kind> <ino> <size> <mtime ns> <ctime ns> <read ns> <checksum>
 *       <format> <flags> <up off> <up len> <up line> <down off> <down len> <down line>
 *
 * Anything unexpected (another version, another folder, a short line, a
 * number that does not parse) makes the whole cache empty: it is only ever
 * a shortcut, and reading every file again is always right.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cache.h"
#include "devflow/buf.h"
#include "devflow/error.h"
#include "util/fs.h"
#include "util/banned.h"

#define CACHE_MAGIC "devflow-stat-cache 1 "
#define CACHE_FIELDS 16
#define CACHE_MAX_SIZE (256u * 1024 * 1024)

int64_t df__cache_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

void df__cache_release(df_stat_cache *c)
{
	for (size_t i = 0; i < c->nadd; i++)
		free(c->add[i].owned);
	free(c->add);
	free(c->v);
	free(c->text);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

static int cmp_entry(const void *pa, const void *pb)
{
	const df_cache_entry *a = pa, *b = pb;
	int d = strcmp(a->name, b->name);

	return d ? d : a->kind - b->kind;
}

/* Parse an unsigned decimal field ending at '\t' or the end; false if none. */
static bool num(char **p, uint64_t *out)
{
	char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '\t')
		s++;
	else if (*s)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* One line (NUL-terminated, no newline) into e; false when malformed. */
static bool parse_line(char *line, df_cache_entry *e)
{
	uint64_t f[CACHE_FIELDS];
	char *p = strchr(line, '\t'), *ck;

	if (!p || p == line)
		return false;
	*p++ = '\0';
	e->name = line;
	/* kind ino size mtime ctime read */
	for (int i = 1; i < 7; i++)
		if (!num(&p, &f[i]))
			return false;
	ck = p;
	if (!(p = strchr(p, '\t')) || p - ck != 64)
		return false;
	*p++ = '\0';
	memcpy(e->checksum, ck, 65);
	for (int i = 8; i < CACHE_FIELDS; i++)
		if (!num(&p, &f[i]))
			return false;
	if (*p || f[1] > DF_CACHE_DOWN || f[12] > INT32_MAX || f[15] > INT32_MAX)
		return false;
	e->kind = (int)f[1];
	e->ino = f[2];
	e->size = f[3];
	e->mtime_ns = (int64_t)f[4];
	e->ctime_ns = (int64_t)f[5];
	e->read_ns = (int64_t)f[6];
	e->format = (int)f[8];
	e->flags = (unsigned int)f[9];
	e->up_off = f[10];
	e->up_len = f[11];
	e->up_line = (int)f[12];
	e->down_off = f[13];
	e->down_len = f[14];
	e->down_line = (int)f[15];
	e->used = false;
	e->owned = NULL;
	return true;
}

int df__cache_load(df_stat_cache *c, const char *path, const char *dir)
{
	struct stat st;
	char *line, *nl, *end;
	size_t lines = 0;
	ssize_t n;
	int fd;

	memset(c, 0, sizeof(*c));
	if (!(c->dir = strdup(dir)))
		return df_error_oom();
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > CACHE_MAX_SIZE) {
		close(fd);
		return 0;
	}
	if (!(c->text = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return df_error_oom();
	}
	n = read(fd, c->text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size)
		goto empty;
	c->text[n] = '\0';
	end = c->text + n;
	/* the header: magic, this version, this folder */
	if (!(nl = memchr(c->text, '\n', (size_t)n)))
		goto empty;
	*nl = '\0';
	{
		size_t ml = sizeof(CACHE_MAGIC) - 1, vl = strlen(DF_VERSION);
		const char *h = c->text;

		if (strncmp(h, CACHE_MAGIC, ml) || strncmp(h + ml, DF_VERSION, vl) ||
		    h[ml + vl] != '\t' || strcmp(h + ml + vl + 1, dir))
			goto empty;
	}
	for (char *p = nl + 1; p < end; p++)
		lines += *p == '\n';
	if (!(c->v = calloc(lines ? lines : 1, sizeof(*c->v)))) {
		free(c->text);
		c->text = NULL;
		return df_error_oom();
	}
	c->alloc = lines;
	for (line = nl + 1; line < end; line = nl + 1) {
		if (!(nl = memchr(line, '\n', (size_t)(end - line))))
			goto empty;     /* a cut last line: a write that died */
		*nl = '\0';
		if (c->nr == c->alloc || !parse_line(line, &c->v[c->nr]))
			goto empty;
		if (c->nr && cmp_entry(&c->v[c->nr - 1], &c->v[c->nr]) >= 0)
			goto empty;     /* written sorted and unique, or not ours */
		c->nr++;
	}
	return 0;
empty:
	free(c->v);
	free(c->text);
	c->v = NULL;
	c->text = NULL;
	c->nr = c->alloc = 0;
	return 0;
}

static df_cache_entry *find(df_stat_cache *c, const char *name, int kind)
{
	df_cache_entry key;
	key.name = name;
	key.kind = kind;
	return c->nr ? bsearch(&key, c->v, c->nr, sizeof(*c->v), cmp_entry) : NULL;
}

df_cache_entry *df__cache_get(df_stat_cache *c, const char *name, int kind,
	const struct stat *st)
{
	df_cache_entry *e = find(c, name, kind);
	int64_t mt = ts_ns(&st->st_mtim), ct = ts_ns(&st->st_ctim);
	int64_t newest = mt > ct ? mt : ct;

	if (!e || e->ino != (uint64_t)st->st_ino || e->size != (uint64_t)st->st_size ||
	    e->mtime_ns != mt || e->ctime_ns != ct)
		return NULL;
	/* racy: changed so close to the read that a later edit could keep
	 * every stat field the same */
	if (newest > e->read_ns - DF_STAT_CACHE_RACY_NS)
		return NULL;
	e->used = true;
	return e;
}

void df__cache_fill(df_migration *m, const df_cache_entry *e)
{
	memcpy(m->checksum, e->checksum, sizeof(m->checksum));
	m->format = (df_mig_format)e->format;
	m->no_transaction = (e->flags & DF_CACHE_F_NO_TX) != 0;
	m->size = e->size;
	m->up.off = e->up_off;
	m->up.len = e->up_len;
	m->up.line = e->up_line;
	m->up.empty = (e->flags & DF_CACHE_F_UP_EMPTY) != 0;
	if (e->flags & DF_CACHE_F_DOWN) {
		m->down.path = m->up.path;
		m->down.off = e->down_off;
		m->down.len = e->down_len;
		m->down.line = e->down_line;
		m->down.empty = (e->flags & DF_CACHE_F_DOWN_EMPTY) != 0;
	}
}

int df__cache_put(df_stat_cache *c, const char *name, int kind, const struct stat *st,
	int64_t read_ns, const df_migration *m)
{
	df_cache_entry *e;

	if (c->nadd == c->aadd) {
		size_t n = c->aadd ? c->aadd * 2 : 64;
		df_cache_entry *v = realloc(c->add, n * sizeof(*v));

		if (!v)
			return df_error_oom();
		c->add = v;
		c->aadd = n;
	}
	e = &c->add[c->nadd];
	memset(e, 0, sizeof(*e));
	if (!(e->owned = strdup(name)))
		return df_error_oom();
	e->name = e->owned;
	e->kind = kind;
	e->ino = (uint64_t)st->st_ino;
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = ts_ns(&st->st_mtim);
	e->ctime_ns = ts_ns(&st->st_ctim);
	e->read_ns = read_ns;
	e->used = true;
	memcpy(e->checksum, "-", 2);
	if (kind == DF_CACHE_DOWN) {
		memset(e->checksum, '0', 64);
		e->checksum[64] = '\0';
		e->flags = m->down.empty ? DF_CACHE_F_DOWN_EMPTY : 0;
	} else {
		memcpy(e->checksum, m->checksum, sizeof(e->checksum));
		e->format = (int)m->format;
		e->flags = (m->no_transaction ? DF_CACHE_F_NO_TX : 0) |
			(m->up.empty ? DF_CACHE_F_UP_EMPTY : 0) |
			(m->down.path && m->down.path == m->up.path ? DF_CACHE_F_DOWN : 0) |
			(m->down.path && m->down.path == m->up.path && m->down.empty ?
			 DF_CACHE_F_DOWN_EMPTY : 0);
		e->up_off = m->up.off;
		e->up_len = m->up.len;
		e->up_line = m->up.line;
		if (e->flags & DF_CACHE_F_DOWN) {
			e->down_off = m->down.off;
			e->down_len = m->down.len;
			e->down_line = m->down.line;
		}
	}
	if (strlen(e->checksum) != 64) {
		free(e->owned);
		return 0;               /* no checksum to keep: leave it out */
	}
	/* a loaded entry of the same file is replaced */
	{
		df_cache_entry *old = find(c, name, kind);

		if (old)
			old->used = false;
	}
	c->nadd++;
	return 0;
}

void df__cache_save(df_stat_cache *c, const char *path)
{
	df_buf b = DF_BUF_INIT;
	df_file_tmp tmp = DF_FILE_TMP_INIT;
	df_error *saved;
	df_cache_entry *all = NULL;
	size_t n = 0, used = 0;

	for (size_t i = 0; i < c->nr; i++)
		used += c->v[i].used;
	if (!c->nadd && used == c->nr)
		return;                 /* nothing changed */
	if (!(all = malloc((used + c->nadd + 1) * sizeof(*all))))
		goto out;
	for (size_t i = 0; i < c->nr; i++)
		if (c->v[i].used)
			all[n++] = c->v[i];
	for (size_t i = 0; i < c->nadd; i++)
		all[n++] = c->add[i];
	qsort(all, n, sizeof(*all), cmp_entry);
	df_buf_printf(&b, "%s%s\t%s\n", CACHE_MAGIC, DF_VERSION, c->dir);
	for (size_t i = 0; i < n; i++) {
		const df_cache_entry *e = &all[i];

		if (i && !cmp_entry(&all[i - 1], e))
			continue;       /* the same file twice: keep the first */
		if (strchr(e->name, '\t') || strchr(e->name, '\n'))
			continue;
		df_buf_printf(&b, "%s\t%d\t%llu\t%llu\t%lld\t%lld\t%lld\t%s\t%d\t%u\t%llu\t%llu\t%d\t%llu\t%llu\t%d\n",
			e->name, e->kind, (unsigned long long)e->ino, (unsigned long long)e->size,
			(long long)e->mtime_ns, (long long)e->ctime_ns, (long long)e->read_ns,
			e->checksum, e->format, e->flags, (unsigned long long)e->up_off,
			(unsigned long long)e->up_len, e->up_line, (unsigned long long)e->down_off,
			(unsigned long long)e->down_len, e->down_line);
	}
	if (df_buf_oom(&b) || df_mkdirs(path, 0755, false) < 0)
		goto out;
	/* a cache that is a link, or a planted temporary name, is never written
	 * through; a failure only costs the next run its speed */
	saved = df_error_save();        /* a failure's message is dropped: the caller's stays */
	if (df_file_tmp_create(&tmp, path, 0644, 0) == 0 && df_write_all(tmp.fd, b.ptr, b.size) == 0)
		(void)df_file_commit(&tmp);
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
out:
	df_file_tmp_release(&tmp);
	free(all);
	df_buf_release(&b);
}
