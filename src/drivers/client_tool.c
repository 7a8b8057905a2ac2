/*
 * Running client tools for the drivers: find, spawn (no shell), stream
 * stdout into a file with progress, keep the tail of stderr, wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devflow/error.h"
#include "drivers/client_tool.h"
#include "util/fs.h"
#include "util/banned.h"

extern char **environ;

#define ERR_KEEP (16 * 1024)

void df__dsn_with_flag(df_dsn *out, df_buf *q, const df_dsn *dsn, const char *flag)
{
	*out = *dsn;
	if (dsn->query && *dsn->query)
		df_buf_printf(q, "%s&", dsn->query);
	df_buf_puts(q, flag);
	out->query = q->ptr;
}

bool df__tool_flag(const df_dsn *dsn, const char *flag)
{
	const char *p = dsn ? dsn->query : NULL;
	size_t n = strlen(flag);

	while (p && *p) {
		size_t k = strcspn(p, "&");
		if (k == n && !strncmp(p, flag, n))
			return true;
		p += k + (p[k] == '&');
	}
	return false;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int df__tool_find(char **out, const char *dir, const char *tool)
{
	const char *path = getenv("PATH");
	df_buf b = DF_BUF_INIT;

	*out = NULL;
	if (dir) {
		df_buf_printf(&b, "%s/%s", dir, tool);
		if (df_buf_oom(&b))
			return df_error_oom();
		if (executable(b.ptr)) {
			*out = df_buf_detach(&b);
			return 0;
		}
	}
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		df_buf_truncate(&b, 0);
		/* an empty entry means the current folder */
		df_buf_printf(&b, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", tool);
		if (df_buf_oom(&b))
			return df_error_oom();
		if (executable(b.ptr)) {
			*out = df_buf_detach(&b);
			return 0;
		}
		path += n + (path[n] == ':');
	}
	df_buf_release(&b);
	return 0;
}

/* The secret in a sealed-off memfd: 0 or -1 (then the caller falls back). */
static int secret_memfd(struct df__tool_secret *s, const char *content, size_t len)
{
	size_t done = 0;
	int fd = memfd_create("devflow-secret", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, content + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	/* never descriptor 3 itself: the child's dup2 onto 3 must clear CLOEXEC */
	if (fd <= 3) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 10);
		close(fd);
		if ((fd = hi) < 0)
			return -1;
	}
	if (!(s->path = strdup("/dev/fd/3")))
		goto fail;
	s->fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int df__tool_secret_write(struct df__tool_secret *s, const char *name,
	const char *content, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	df_buf b = DF_BUF_INIT;
	int fd = -1, error = 0;
	size_t done = 0;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (secret_memfd(s, content, len) == 0)
		return 0;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	df_buf_printf(&b, "%s/devflow-XXXXXX", tmp);
	if (df_buf_oom(&b))
		return df_error_oom();
	if (!mkdtemp(b.ptr)) {
		error = df_error_set(DF_EIO, "cannot create a private folder in '%s': %s", tmp,
			strerror(errno));
		goto out;
	}
	s->dir = df_buf_detach(&b);
	df_buf_printf(&b, "%s/%s", s->dir, name);
	if (df_buf_oom(&b)) {
		error = df_error_oom();
		goto out;
	}
	s->path = df_buf_detach(&b);
	if ((fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		error = df_error_set(DF_EIO, "cannot create '%s': %s", s->path, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, content + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = df_error_set(DF_EIO, "cannot write '%s': %s", s->path, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	df_buf_release(&b);
	if (error < 0)
		df__tool_secret_remove(s);
	return error;
}

void df__tool_secret_remove(struct df__tool_secret *s)
{
	if (s->fd > 0)
		close(s->fd);
	else if (s->path)
		unlink(s->path);
	if (s->dir)
		rmdir(s->dir);
	free(s->path);
	free(s->dir);
	s->path = s->dir = NULL;
	s->fd = -1;
}

/*
 * environ without unset_env, the names of set_env, and every variable whose
 * value holds the password (DATABASE_URL ...: the tool gets it from its
 * passfile only), plus set_env.
 */
static char **make_env(const char *const *set_env, const char *const *unset_env, const df_dsn *dsn)
{
	const char *secret = dsn && dsn->password && *dsn->password ? dsn->password : NULL;
	const char *auth = dsn && dsn->url ? strstr(dsn->url, "://") : NULL, *at = NULL, *colon;
	char raw[256] = "";
	size_t n = 0, k = 0, add = 0;
	char **env;

	/* the password as the URL spells it (percent-encoded) */
	if (auth && secret) {
		auth += 3;
		for (const char *p = auth; *p && *p != '/' && *p != '?'; p++)
			if (*p == '@')
				at = p;
		if (at && (colon = memchr(auth, ':', (size_t)(at - auth))) &&
		    (size_t)(at - colon - 1) < sizeof(raw) && at - colon - 1 >= 3)
			snprintf(raw, sizeof(raw), "%.*s", (int)(at - colon - 1), colon + 1);
	}
	for (char **e = environ; e && *e; e++)
		n++;
	for (const char *const *s = set_env; s && *s; s++)
		add++;
	if (!(env = calloc(n + add + 1, sizeof(char *))))
		return NULL;
	for (char **e = environ; e && *e; e++) {
		size_t len = strcspn(*e, "=");
		bool drop = false;
		for (const char *const *u = unset_env; u && *u && !drop; u++)
			drop = strlen(*u) == len && !strncmp(*u, *e, len);
		for (const char *const *s = set_env; s && *s && !drop; s++)
			drop = strcspn(*s, "=") == len && !strncmp(*s, *e, len);
		if (secret && !drop)
			drop = strstr(*e + len, secret) || (*raw && strstr(*e + len, raw));
		if (!drop)
			env[k++] = *e;
	}
	for (const char *const *s = set_env; s && *s; s++)
		env[k++] = (char *)*s;
	env[k] = NULL;
	return env;
}

/* Keep at most the last ERR_KEEP bytes of stderr. */
static void keep_err(df_buf *err, const char *data, size_t n)
{
	if (n >= ERR_KEEP) {
		df_buf_truncate(err, 0);
		df_buf_put(err, data + n - ERR_KEEP, ERR_KEEP);
		return;
	}
	if (err->size + n > ERR_KEEP) {
		size_t drop = err->size + n - ERR_KEEP;
		memmove(err->ptr, err->ptr + drop, err->size - drop);
		df_buf_truncate(err, err->size - drop);
	}
	df_buf_put(err, data, n);
}

/*
 * Move what the pipe holds into out_fd: splice (no copy through user space)
 * when the kernel allows it, read + write otherwise.  Returns bytes moved,
 * 0 at end of file, -1 with errno EAGAIN when nothing is there, or -2 with
 * r->write_errno set when writing failed.
 */
static ssize_t drain_out(struct df__tool_run *r, int pipe_fd, bool *use_splice, char *buf, size_t bufsz)
{
	ssize_t n;

	if (*use_splice) {
		n = splice(pipe_fd, NULL, r->out_fd, NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EINTR)
			return -1;
		if (errno != EINVAL && errno != ENOSYS && errno != EBADF) {
			r->write_errno = errno;
			return -2;
		}
		*use_splice = false;
	}
	n = read(pipe_fd, buf, bufsz);
	if (n < 0)
		return -1;
	if (n > 0) {
		int e = r->out_fd >= 0 && df_write_all(r->out_fd, buf, (size_t)n) < 0 ? errno : 0;
		if (e) {
			r->write_errno = e;
			return -2;
		}
		if (r->out_fd < 0 && r->out)
			df_buf_put(r->out, buf, (size_t)n);
	}
	return n;
}

int df__tool_run(struct df__tool_run *r)
{
	posix_spawn_file_actions_t fa;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, in = -1, error = 0, st;
	bool use_splice = r->out_fd >= 0, fa_ok = false, out_open, err_open;
	char **env = NULL, *buf = NULL;
	const size_t bufsz = 1 << 16;
	pid_t pid = -1;

	r->status = -1;
	r->bytes = 0;
	r->write_errno = 0;
	df_buf_init(&r->err);
	if (!(buf = malloc(bufsz)) || !(env = make_env(r->set_env, r->unset_env, r->dsn))) {
		error = df_error_oom();
		goto out;
	}
	if ((in = open(r->stdin_path ? r->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		error = df_error_set(DF_EIO, "cannot read '%s': %s",
			r->stdin_path ? r->stdin_path : "/dev/null", strerror(errno));
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		error = df_error_set(DF_EIO, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	/* A bigger pipe: fewer wake-ups for a fast dump (best effort). */
	fcntl(outp[0], F_SETPIPE_SZ, 1 << 20);
	if (posix_spawn_file_actions_init(&fa) != 0) {
		error = df_error_oom();
		goto out;
	}
	fa_ok = true;
	if (posix_spawn_file_actions_adddup2(&fa, in, 0) || posix_spawn_file_actions_adddup2(&fa, outp[1], 1) ||
	    posix_spawn_file_actions_adddup2(&fa, errp[1], 2) ||
	    (r->secret && r->secret->fd > 3 && posix_spawn_file_actions_adddup2(&fa, r->secret->fd, 3)) ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, r->secret && r->secret->fd > 3 ? 4 : 3)) {
		error = df_error_oom();
		goto out;
	}
	if ((st = posix_spawn(&pid, r->argv[0], &fa, NULL, (char *const *)r->argv, env)) != 0) {
		pid = -1;
		error = df_error_set(DF_EIO, "cannot run '%s': %s", r->argv[0], strerror(st));
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);

	out_open = err_open = true;
	while (out_open || err_open) {
		struct pollfd pf[2];
		nfds_t np = 0;
		int io = -1, ie = -1;
		if (out_open) {
			io = (int)np;
			pf[np++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		}
		if (err_open) {
			ie = (int)np;
			pf[np++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		}
		if (poll(pf, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			error = df_error_set(DF_EIO, "cannot wait for '%s': %s", r->argv[0], strerror(errno));
			kill(pid, SIGTERM);
			break;
		}
		if (io >= 0 && pf[io].revents) {
			ssize_t n;
			while ((n = drain_out(r, outp[0], &use_splice, buf, bufsz)) > 0) {
				r->bytes += (uint64_t)n;
				if (r->progress)
					r->progress(r->progress_data, r->bytes);
			}
			if (n == 0) {
				out_open = false;
			} else if (n == -2) {
				/* the file cannot take more: stop the tool, keep draining stderr */
				kill(pid, SIGTERM);
				close(outp[0]);
				outp[0] = -1;
				out_open = false;
			}
		}
		if (ie >= 0 && pf[ie].revents) {
			ssize_t n;
			while ((n = read(errp[0], buf, bufsz)) > 0)
				keep_err(&r->err, buf, (size_t)n);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				err_open = false;
		}
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = -1;
			break;
		}
	}
	if (st == -1)
		r->status = -1;
	else if (WIFEXITED(st))
		r->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		r->status = 128 + WTERMSIG(st);
	if (r->dsn)
		df_dsn_scrub(r->dsn, r->err.ptr);
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (in >= 0)
		close(in);
	free(env);
	free(buf);
	return error;
}

void df__tool_err_summary(df_buf *out, const struct df__tool_run *r, int max_lines)
{
	const char *p = r->err.ptr, *end = p + r->err.size;
	const char *starts[64];
	size_t lens[64];
	int n = 0, first;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			if (n == 64) {
				memmove(starts, starts + 1, sizeof(starts[0]) * 63);
				memmove(lens, lens + 1, sizeof(lens[0]) * 63);
				n--;
			}
			starts[n] = p;
			lens[n++] = len;
		}
		p = nl ? nl + 1 : end;
	}
	first = n > max_lines ? n - max_lines : 0;
	for (int i = first; i < n; i++) {
		const char *s = starts[i];
		size_t len = lens[i];
		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		df_buf_printf(out, "%s%.*s", i > first ? "; " : "", (int)len, s);
	}
	if (!n)
		df_buf_puts(out, "no message");
}

void df__tool_conninfo_quote(df_buf *out, const char *value)
{
	df_buf_putc(out, '\'');
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '\'')
			df_buf_putc(out, '\\');
		df_buf_putc(out, *p);
	}
	df_buf_putc(out, '\'');
}

void df__dsn_with_restore_flags(df_dsn *out, df_buf *q, const df_dsn *dsn, unsigned int flags)
{
	*out = *dsn;
	df_buf_truncate(q, 0);
	if (dsn->query && *dsn->query)
		df_buf_puts(q, dsn->query);
	if (flags & DF_RESTORE_CLEAN)
		df_buf_printf(q, "%s%s", q->size ? "&" : "", DF__TOOL_FLAG_CLEAN);
	if (flags & DF_RESTORE_NO_OWNER)
		df_buf_printf(q, "%s%s", q->size ? "&" : "", DF__TOOL_FLAG_NO_OWNER);
	if (q->size)
		out->query = q->ptr;
}

int df__tool_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags,
	int (*restore)(df_conn *, const df_dsn *, const char *))
{
	df_dsn flagged;
	df_buf q = DF_BUF_INIT;
	int error;

	df__dsn_with_restore_flags(&flagged, &q, dsn, flags);
	error = df_buf_oom(&q) ? df_error_oom() : restore(conn, &flagged, path);
	df_buf_release(&q);
	return error;
}

int df__tool_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path,
	int (*backup)(df_conn *, const df_dsn *, int, const char *, void (*)(void *, uint64_t), void *))
{
	df_dsn flagged;
	df_buf q = DF_BUF_INIT;
	int error, fd;

	df__dsn_with_flag(&flagged, &q, dsn, DF__TOOL_FLAG_SCHEMA_ONLY);
	if (df_buf_oom(&q)) {
		df_buf_release(&q);
		return df_error_oom();
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		df_buf_release(&q);
		return df_error_set(DF_EIO, "cannot create '%s': %s", path, strerror(errno));
	}
	error = backup(conn, &flagged, fd, path, NULL, NULL);
	if (close(fd) < 0 && !error)
		error = df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(errno));
	df_buf_release(&q);
	return error;
}

int df__backup_kind(const char **kind, const char *path)
{
	char head[16] = { 0 };
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*kind = NULL;
	if (fd < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n >= 5 && !memcmp(head, "PGDMP", 5))
		*kind = "postgres";
	else if (n >= 15 && !memcmp(head, "SQLite format 3", 15))
		*kind = "sqlite";
	return 0;
}

int df__tool_table_counts(df_conn *conn, df_rows **out, const char *list,
	int (*query)(df_conn *, df_rows **, const char *, const char *const *, size_t))
{
	static const char *names[] = { "name", "rows" };
	df_rows *tables = NULL, *rows = NULL;
	df_buf sql = DF_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = query(conn, &tables, list, NULL, 0)) < 0)
		return error;
	if ((error = df_rows_new(&rows, 2, names)) < 0)
		goto out;
	for (size_t i = 0; i < tables->nrows; i++) {
		df_rows *n = NULL;
		df_buf_truncate(&sql, 0);
		df_buf_printf(&sql, "SELECT count(*) FROM %s", df_rows_get(tables, i, 1));
		if (df_buf_oom(&sql)) {
			error = df_error_oom();
			goto out;
		}
		if ((error = query(conn, &n, sql.ptr, NULL, 0)) < 0)
			goto out;
		const char *vals[] = { df_rows_get(tables, i, 0), df_rows_get(n, 0, 0) };
		error = df_rows_add(rows, vals, NULL);
		df_rows_free(n);
		if (error < 0)
			goto out;
	}
	*out = rows;
	rows = NULL;
out:
	df_buf_release(&sql);
	df_rows_free(tables);
	df_rows_free(rows);
	return error;
}
