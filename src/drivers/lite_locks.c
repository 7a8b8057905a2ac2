/*
 * Who holds a lock on a SQLite database, as /proc/locks shows it: devflow's
 * migration lock (an flock() on the database file) and SQLite's own
 * fcntl() locks, each named by pid, command line and start time.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/dsn.h"
#include "devflow/error.h"
#include "drivers/lite_int.h"
#include "util/banned.h"

/*
 * The pid holding a lock of `type` ("FLOCK", or "POSIX": SQLite's own
 * fcntl() locks) on the file at `path`, from /proc/locks; a WRITE lock
 * only when `write`.  The file is matched by device and inode
 * ("fe:00:10953315"), or by inode alone where the device /proc/locks
 * shows is not stat()'s (overlay file systems).  Locks of `self` and
 * waiters ("->") are not holders.  0 if none is shown.
 */
static long lock_owner(const char *path, const char *type, bool write, long self)
{
	char line[256];
	struct stat st;
	long pid = 0, by_ino = 0;
	FILE *f;

	if (stat(path, &st) < 0 || !(f = fopen("/proc/locks", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* "1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 1073741825 1073741825" */
		char t[16], mode[16];
		unsigned int maj, min;
		unsigned long ino;
		long p;
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%lu", t, mode, &p, &maj, &min, &ino) != 6 ||
		    strcmp(t, type) || (write && strcmp(mode, "WRITE")) || p == self || p <= 0 ||
		    ino != (unsigned long)st.st_ino)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev)) {
			pid = p;
			break;
		}
		if (!by_ino)
			by_ino = p;
	}
	fclose(f);
	return pid ? pid : by_ino;
}

static long flock_owner(const char *path)
{
	return lock_owner(path, "FLOCK", false, 0);
}

/* The command line of `pid`, arguments joined by spaces, URLs redacted. */
static void proc_cmdline(df_buf *b, long pid)
{
	char path[64], buf[1024];
	size_t n, i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if (!(f = fopen(path, "r")))
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (i < n) {
		const char *arg = buf + i;
		size_t len = strlen(arg);
		const char *base = i == 0 && strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
		if (i)
			df_buf_putc(b, ' ');
		if (strstr(arg, "://") || !strncmp(arg, "--url=", 6)) {
			char *r = df_dsn_redact(strncmp(arg, "--url=", 6) ? arg : arg + 6);
			df_buf_printf(b, "%s%s", strncmp(arg, "--url=", 6) ? "" : "--url=", r ? r : "***");
			free(r);
		} else {
			for (const char *q = base; *q; q++)     /* one line: python3 -c "..." */
				df_buf_putc(b, (unsigned char)*q < ' ' ? ' ' : *q);
		}
		i += len + 1;
	}
}

/* When `pid` started, as ISO 8601 UTC ("" when unknown). */
static void proc_since(char *out, size_t size, long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	double uptime = 0;
	FILE *f;
	size_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* field 22, counted after the ")" that ends the command name */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		&start) != 1)
		return;
	if (!(f = fopen("/proc/uptime", "r")))
		return;
	if (fscanf(f, "%lf", &uptime) != 1)
		uptime = 0;
	fclose(f);
	if (uptime <= 0)
		return;
	time_t t = time(NULL) - (time_t)uptime + (time_t)(start / (unsigned long long)sysconf(_SC_CLK_TCK));
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "pid 1234 (the command that holds it) on this host, since 2026-...Z"; NULL when free. */
int df__lite_flock_holder(const char *path, char **out)
{
	df_buf b = DF_BUF_INIT;
	char since[32];
	long pid;
	int fd;

	*out = NULL;
	if (!strcmp(path, ":memory:") || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	pid = flock_owner(path);
	if (pid > 0) {
		df_buf cmd = DF_BUF_INIT;
		proc_cmdline(&cmd, pid);
		df_buf_printf(&b, "pid %ld%s%s%s on this host", pid, cmd.size ? " (" : "",
			cmd.size ? cmd.ptr : "", cmd.size ? ")" : "");
		df_buf_release(&cmd);
		proc_since(since, sizeof(since), pid);
		if (*since)
			df_buf_printf(&b, ", since %s", since);
	} else {
		df_buf_puts(&b, "a process on this host");
	}
	*out = df_buf_detach(&b);
	return *out ? 0 : df_error_oom();
}

/*
 * Another program holding SQLite's own lock on the database: in WAL mode
 * the writer's lock on the "-shm" file, else a write lock (RESERVED,
 * PENDING, EXCLUSIVE) on the database file, else a reader's lock on it.
 * *out: "pid 1234 (python3 hold.py) on this host, writing, since ...Z",
 * or NULL when /proc/locks shows no such process.
 */
void df__lite_sqlite_holder(const char *path, char **out)
{
	df_buf b = DF_BUF_INIT, shm = DF_BUF_INIT, cmd = DF_BUF_INIT;
	long self = (long)getpid(), pid = 0;
	const char *role = "writing";
	char since[32];

	*out = NULL;
	if (!strcmp(path, ":memory:"))
		return;
	df_buf_printf(&shm, "%s-shm", path);
	if (!df_buf_oom(&shm))
		pid = lock_owner(shm.ptr, "POSIX", true, self);
	df_buf_release(&shm);
	if (!pid)
		pid = lock_owner(path, "POSIX", true, self);
	if (!pid && (pid = lock_owner(path, "POSIX", false, self)))
		role = "reading";
	if (!pid)
		return;
	proc_cmdline(&cmd, pid);
	df_buf_printf(&b, "pid %ld%s%s%s on this host, %s", pid, cmd.size ? " (" : "",
		cmd.size ? cmd.ptr : "", cmd.size ? ")" : "", role);
	df_buf_release(&cmd);
	proc_since(since, sizeof(since), pid);
	if (*since)
		df_buf_printf(&b, ", since %s", since);
	*out = df_buf_detach(&b);
}
