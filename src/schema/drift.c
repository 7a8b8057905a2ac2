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
	const char *rest, *nl1;
	size_t n;
	int error;

	if (text)
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
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		df_buf_put(&body, chunk, n);
		/* no text wanted: the hash and stamp lines are enough */
		if (!text && !df_buf_oom(&body) && (nl1 = strchr(body.ptr, '\n')) && strchr(nl1 + 1, '\n'))
			break;
	}
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
	if (text && !(*text = strdup(rest)))
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

/*
 * The lines of a block after its key: each "  field ..." line with the
 * indented lines under it (a multi-line definition) as one entry.
 */
struct field {
	const char *p;
	size_t len;             /* the whole entry, without its last newline */
};

static size_t fields_of(struct field *v, const struct block *b)
{
	const char *p = b->body + b->keylen + 1, *end = b->body + b->len;
	size_t n = 0;

	while (p < end) {
		const char *q = p, *nl;
		do {
			nl = memchr(q, '\n', (size_t)(end - q));
			q = nl ? nl + 1 : end;
		} while (q < end && !strncmp(q, "    ", 4));
		if (v) {
			v[n].p = p + 2;
			v[n].len = (size_t)(q - p) - 2 - (q[-1] == '\n');
		}
		n++;
		p = q;
	}
	return n;
}

/* A column's name in a "column NAME TYPE ..." field: its length, or 0. */
static size_t column_name(const struct field *f)
{
	if (f->len < 8 || strncmp(f->p, "column ", 7))
		return 0;
	return strcspn(f->p + 7, " \n");
}

static const struct field *same_column(const struct field *v, size_t n, const struct field *f)
{
	size_t l = column_name(f);

	for (size_t i = 0; l && i < n; i++)
		if (column_name(&v[i]) == l && !memcmp(v[i].p + 7, f->p + 7, l))
			return &v[i];
	return NULL;
}

static bool has_field(const struct field *v, size_t n, const struct field *f)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].len == f->len && !memcmp(v[i].p, f->p, f->len))
			return true;
	return false;
}

/*
 * A field's first line, with no newline; a column's without the
 * definition text SQLite keeps at its end (" {hack int}"), which says again
 * what the line says.
 */
static int first_line(const struct field *f)
{
	const char *nl = memchr(f->p, '\n', f->len);
	size_t n = nl ? (size_t)(nl - f->p) : f->len;

	if (column_name(f) && n > 2 && f->p[n - 1] == '}') {
		for (size_t i = n - 1; i > 7; i--)
			if (f->p[i] == '{' && f->p[i - 1] == ' ') {
				n = i - 1;
				break;
			}
	}
	return (int)n;
}

/*
 * What changed inside an object, at the level of schema_changes: its
 * columns added, removed or changed ("  + column users.hack integer",
 * "  ~ column users.email text -> varchar(20)"), else the other fields that
 * differ ("  ~ definition", "  ~ comment" ...).
 */
static void block_details(df_buf *out, const struct block *x, const struct block *y)
{
	struct field *a = NULL, *b = NULL;
	size_t na = fields_of(NULL, x), nb = fields_of(NULL, y), ncol = 0;
	const char *name = memchr(x->key, ' ', x->keylen);
	int nlen;

	/* the object's name without its kind: "public.users" of "table public.users" */
	name = name ? name + 1 : x->key;
	nlen = (int)(x->keylen - (size_t)(name - x->key));
	if (!(a = calloc(na + 1, sizeof(*a))) || !(b = calloc(nb + 1, sizeof(*b))))
		goto out;       /* no details: the object's line says it changed */
	fields_of(a, x);
	fields_of(b, y);
	for (size_t i = 0; i < na; i++) {
		const struct field *o = same_column(b, nb, &a[i]);
		size_t l = column_name(&a[i]);
		if (!l)
			continue;
		if (!o) {
			df_buf_printf(out, "  - column %.*s.%.*s\n", nlen, name, first_line(&a[i]) - 7,
				a[i].p + 7);
			ncol++;
		} else if (o->len != a[i].len || memcmp(o->p, a[i].p, a[i].len)) {
			df_buf_printf(out, "  ~ column %.*s.%.*s -> %.*s\n", nlen, name,
				first_line(&a[i]) - 7, a[i].p + 7, first_line(o) - 8 - (int)l, o->p + 8 + l);
			ncol++;
		}
	}
	for (size_t i = 0; i < nb; i++)
		if (column_name(&b[i]) && !same_column(a, na, &b[i])) {
			df_buf_printf(out, "  + column %.*s.%.*s\n", nlen, name, first_line(&b[i]) - 7,
				b[i].p + 7);
			ncol++;
		}
	if (ncol)
		goto out;
	/* no column changed: name the fields that did (each once) */
	{
		static const char *const names[][2] = { { "def ", "definition" },
			{ "extra ", "attributes" }, { "comment ", "comment" }, { "depends ", "dependencies" },
			{ "ctype ", "constraint type" } };
		for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++) {
			size_t pl = strlen(names[k][0]);
			bool diff = false;
			for (size_t i = 0; i < na && !diff; i++)
				diff = !strncmp(a[i].p, names[k][0], pl) && !has_field(b, nb, &a[i]);
			for (size_t i = 0; i < nb && !diff; i++)
				diff = !strncmp(b[i].p, names[k][0], pl) && !has_field(a, na, &b[i]);
			if (diff)
				df_buf_printf(out, "  ~ %s\n", names[k][1]);
		}
	}
out:
	free(a);
	free(b);
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
			if (a[i].len != b[j].len || memcmp(a[i].body, b[j].body, a[i].len)) {
				df_buf_printf(&out, "~ %.*s\n", (int)a[i].keylen, a[i].key);
				block_details(&out, &a[i], &b[j]);
			}
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
