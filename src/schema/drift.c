/*
 * Drift: the schema devflow left on a database, recorded as the model's
 * text (headed by its hash and the caller's stamp) in
 * .devflow/schema/<key>.schema, and compared with the live schema later.
 * The text is the stable serialisation, so two reads of one schema give the
 * same bytes and the same hash.  Which key names which database is the
 * caller's choice (core/schema_record.c: the environment and the database's
 * identity).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/fs.h"
#include "util/banned.h"

static int path_of(df_buf *b, const char *dir, const char *key)
{
	for (const char *p = key; *p; p++)
		if (*p == '/' || *p == '\\' || (p == key && *p == '.'))
			return df_error_set(DF_EUSAGE, "'%s' cannot name a file", key);
	df_buf_printf(b, "%s/.devflow/schema/%s.schema", dir, key);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

int df_schema_record(const char *dir, const char *key, const df_schema *s, const char *stamp)
{
	df_buf path = DF_BUF_INIT, body = DF_BUF_INIT;
	df_file_tmp tmp = DF_FILE_TMP_INIT;
	char hash[65], *text = NULL;
	int error;

	assert(!stamp || !strchr(stamp, '\n'));
	if ((error = path_of(&path, dir, key)) < 0 ||
	    (error = df_schema_text(&text, s)) < 0 ||
	    (error = df_schema_hash(hash, s)) < 0)
		goto out;
	df_buf_printf(&body, "hash %s\n", hash);
	if (stamp)
		df_buf_printf(&body, "stamp %s\n", stamp);
	df_buf_puts(&body, text);
	if (df_buf_oom(&body)) {
		error = df_error_oom();
		goto out;
	}
	if (df_mkdirs(path.ptr, 0755, false) < 0) {
		error = df_error_set(DF_EIO, "cannot create the folder of '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	/* an unguessable temporary name, and a record that is a link refused */
	if ((error = df_file_tmp_create(&tmp, path.ptr, 0644, 0)) < 0)
		goto out;
	if (df_write_all(tmp.fd, body.ptr, body.size) < 0) {
		error = df_file_error(&tmp);
		goto out;
	}
	error = df_file_commit(&tmp);
out:
	df_file_tmp_release(&tmp);
	free(text);
	df_buf_release(&path);
	df_buf_release(&body);
	return error;
}

int df_schema_recorded(char hash[65], char **stamp, char **text, const char *dir,
	const char *key)
{
	df_buf path = DF_BUF_INIT, body = DF_BUF_INIT;
	FILE *f = NULL;
	char chunk[8192];
	const char *rest;
	size_t n;
	int error;

	*text = NULL;
	if (stamp)
		*stamp = NULL;
	if ((error = path_of(&path, dir, key)) < 0)
		goto out;
	if (!(f = fopen(path.ptr, "r"))) {
		error = errno == ENOENT ?
			df_error_set(DF_ENOTFOUND, "no schema was recorded for '%s'", key) :
			df_error_set(DF_EIO, "cannot read '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		df_buf_put(&body, chunk, n);
	if (df_buf_oom(&body)) {
		error = df_error_oom();
		goto out;
	}
	if (strncmp(body.ptr, "hash ", 5) || body.size < 70 || body.ptr[69] != '\n') {
		error = df_error_set(DF_ECONFIG, "'%s' is not a recorded schema", path.ptr);
		goto out;
	}
	memcpy(hash, body.ptr + 5, 64);
	hash[64] = '\0';
	rest = body.ptr + 70;
	if (!strncmp(rest, "stamp ", 6)) {
		const char *nl = strchr(rest, '\n');
		if (!nl) {
			error = df_error_set(DF_ECONFIG, "'%s' is not a recorded schema", path.ptr);
			goto out;
		}
		if (stamp && !(*stamp = strndup(rest + 6, (size_t)(nl - rest - 6)))) {
			error = df_error_oom();
			goto out;
		}
		rest = nl + 1;
	}
	if (!(*text = strdup(rest)))
		error = df_error_oom();
out:
	if (error < 0 && stamp) {
		free(*stamp);
		*stamp = NULL;
	}
	if (f)
		fclose(f);
	df_buf_release(&path);
	df_buf_release(&body);
	return error;
}

/* The text's object blocks: key line plus its indented lines. */
struct block {
	const char *key;
	size_t keylen;
	const char *body;
	size_t len;
};

static size_t blocks_of(struct block *v, const char *text)
{
	size_t n = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n'), *q;
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (*p == ' ' || !strncmp(p, "devflow schema", 14) || !strncmp(p, "not-compared ", 13)) {
			p += l + (nl ? 1 : 0);
			continue;
		}
		q = p + l + (nl ? 1 : 0);
		while (*q == ' ') {
			const char *e = strchr(q, '\n');
			q = e ? e + 1 : q + strlen(q);
		}
		if (v) {
			v[n].key = p;
			v[n].keylen = l;
			v[n].body = p;
			v[n].len = (size_t)(q - p);
		}
		n++;
		p = q;
	}
	return n;
}

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

int df_schema_drift(bool *drifted, char **changes, const char *hash, const char *old,
	const df_schema *s)
{
	char now[65], *cur = NULL;
	struct block *a = NULL, *b = NULL;
	size_t na, nb, i = 0, j = 0;
	df_buf out = DF_BUF_INIT;
	int error;

	*drifted = false;
	if (changes)
		*changes = NULL;
	if ((error = df_schema_hash(now, s)) < 0)
		goto out;
	if (!strcmp(hash, now))
		goto out;
	*drifted = true;
	if (!changes)
		goto out;
	if ((error = df_schema_text(&cur, s)) < 0)
		goto out;
	na = blocks_of(NULL, old);
	nb = blocks_of(NULL, cur);
	if (!(a = calloc(na + 1, sizeof(*a))) || !(b = calloc(nb + 1, sizeof(*b)))) {
		error = df_error_oom();
		goto out;
	}
	blocks_of(a, old);
	blocks_of(b, cur);
	qsort(a, na, sizeof(*a), cmp_block);
	qsort(b, nb, sizeof(*b), cmp_block);
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : cmp_block(&a[i], &b[j]);
		if (c < 0) {
			df_buf_printf(&out, "- %.*s\n", (int)a[i].keylen, a[i].key);
			i++;
		} else if (c > 0) {
			df_buf_printf(&out, "+ %.*s\n", (int)b[j].keylen, b[j].key);
			j++;
		} else {
			if (a[i].len != b[j].len || memcmp(a[i].body, b[j].body, a[i].len))
				df_buf_printf(&out, "~ %.*s\n", (int)a[i].keylen, a[i].key);
			i++;
			j++;
		}
	}
	if (df_buf_oom(&out)) {
		error = df_error_oom();
		goto out;
	}
	*changes = df_buf_detach(&out);
out:
	free(cur);
	free(a);
	free(b);
	df_buf_release(&out);
	return error;
}
