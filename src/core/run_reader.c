/*
 * A migration section's statements, streamed from its file in windows
 * through the incremental splitter (core/runner_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "core/runner_int.h"
#include "util/banned.h"

int df__reader_open(struct reader *r, const df_section *sec, df_dialect d)
{
	memset(r, 0, sizeof(*r));
	r->sec = sec;
	df_sql_scanner_init(&r->sc, d);
	if (sec->mem) {
		/* preloaded: the whole section is the window, nothing to read */
		r->fd = -1;
		r->buf = (char *)sec->mem;
		r->len = r->cap = (size_t)sec->len;
		r->read = sec->len;
		r->borrowed = true;
		return 0;
	}
	if ((r->fd = open(sec->path, O_RDONLY | O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", sec->path, strerror(errno));
	if (!(r->buf = malloc(WINDOW))) {
		close(r->fd);
		return df_error_oom();
	}
	r->cap = WINDOW;
	return 0;
}

void df__reader_close(struct reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (!r->borrowed)
		free(r->buf);
	r->buf = NULL;
	r->fd = -1;
}

/*
 * The next statement: 1 with *sql and *len (valid until the next call) and *off
 * (absolute in the file); 0 at the end; <0 on error (position set).
 */
int df__reader_next(struct reader *r, const char **sql, size_t *len, uint64_t *off)
{
	for (;;) {
		df_stmt st;
		bool eof = r->read == r->sec->len;
		int rc = df_sql_scanner_next(&r->sc, &st, r->buf, r->len, eof);

		if (rc < 0) {
			int line, col;
			df_file_position(r->sec->path, r->sec->off + r->sc.error_offset, &line, &col);
			df_error_pos(r->sec->path, line, col);
			df_error_prefix("%s:%d:%d", r->sec->path, line, col);
			return rc;
		}
		if (rc == 1) {
			*sql = r->buf + (st.offset - r->base);
			*len = st.len;
			*off = r->sec->off + st.offset;
			return 1;
		}
		if (eof)
			return 0;
		/* drop what the scanner no longer needs, then read more */
		uint64_t keep = df_sql_scanner_keep_from(&r->sc);
		if (keep > r->base) {
			size_t drop = (size_t)(keep - r->base);
			if (drop > r->len)
				drop = r->len;
			memmove(r->buf, r->buf + drop, r->len - drop);
			r->len -= drop;
			r->base += drop;
			df_sql_scanner_rebase(&r->sc, r->base);
		}
		if (r->len == r->cap) {
			char *nb = realloc(r->buf, r->cap * 2);
			if (!nb)
				return df_error_oom();
			r->buf = nb;
			r->cap *= 2;
		}
		size_t want = r->cap - r->len;
		if (want > r->sec->len - r->read)
			want = (size_t)(r->sec->len - r->read);
		ssize_t n = pread(r->fd, r->buf + r->len, want, (off_t)(r->sec->off + r->read));
		if (n < 0)
			return df_error_set(DF_EIO, "cannot read '%s': %s", r->sec->path, strerror(errno));
		if (n == 0)
			return df_error_set(DF_EIO, "'%s' got shorter while devflow read it", r->sec->path);
		r->len += (size_t)n;
		r->read += (uint64_t)n;
	}
}
