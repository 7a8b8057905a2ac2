/*
 * Fuzz target for the SQL statement splitter (src/sql/).  The first byte
 * picks the dialect (modulo 3: '0' SQLite, '1' PostgreSQL, '2' MySQL), the
 * rest is the SQL.  Checks:
 *
 *   - statements are non-empty, in bounds, ordered and disjoint, and start
 *     and end on a byte that is not white space;
 *   - an error offset is in bounds, and the list is left empty;
 *   - the incremental scanner fed 1 byte at a time (inputs up to 2 KiB) and
 *     in chunks of varying size gives the same statements or the same error
 *     at the same offset; its window is copied into a buffer of exactly its
 *     size, so AddressSanitizer catches a read outside it, and it never has
 *     to hold bytes before the statement in progress.
 *
 * libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *     fuzz/fuzz_sql_split.c src/sql/lexer.c src/sql/split.c src/util/error.c \
 *     -o fuzz_sql_split
 *   ./fuzz_sql_split -dict=fuzz/sql.dict fuzz/corpus/sql_split
 * Replay without libFuzzer (any C compiler, see fuzz/standalone.c):
 *   cc -Iinclude -Isrc fuzz/standalone.c fuzz/fuzz_sql_split.c \
 *     src/sql/lexer.c src/sql/split.c src/util/error.c -o fuzz_replay
 *   ./fuzz_replay fuzz/corpus/sql_split
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/sql.h"

#include "fuzz_check.h"

#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Split through a sliding window; chunk sizes come from `seed`. */
static int split_chunked(df_stmt_list *out, df_dialect d, const char *s,
	size_t len, size_t fixed, uint32_t seed, size_t *err_offset)
{
	df_sql_scanner sc;
	uint64_t base = 0;
	size_t fed = 0;
	df_stmt st;
	int r;

	df_sql_scanner_init(&sc, d);
	for (;;) {
		size_t n = fed - (size_t)base;
		char *win = malloc(n ? n : 1);

		CHECK(win);
		memcpy(win, s + base, n);
		r = df_sql_scanner_next(&sc, &st, win, n, fed == len);
		free(win);
		if (r < 0) {
			*err_offset = (size_t)sc.error_offset;
			return r;
		}
		if (r == 1) {
			CHECK(st.offset >= base && st.offset + st.len <= fed);
			if (out->nr == out->alloc) {
				out->alloc = out->alloc ? 2 * out->alloc : 16;
				out->v = realloc(out->v, out->alloc * sizeof(*out->v));
				CHECK(out->v);
			}
			out->v[out->nr++] = st;
			continue;
		}
		if (fed == len)
			return 0;
		base = df_sql_scanner_keep_from(&sc);
		CHECK(base <= fed && base >= sc.base);
		/* never more than the statement in progress and its look-ahead */
		CHECK(out->nr == 0 || base >= out->v[out->nr - 1].offset + out->v[out->nr - 1].len);
		df_sql_scanner_rebase(&sc, base);
		if (fixed) {
			fed += fixed;
		} else {
			seed = seed * 1103515245u + 12345u;
			fed += 1 + (seed >> 16) % 67;
		}
		if (fed > len)
			fed = len;
	}
}

static void same(const df_stmt_list *a, int ra, size_t ea,
	const df_stmt_list *b, int rb, size_t eb)
{
	size_t i;

	CHECK(ra == rb);
	if (ra < 0) {
		CHECK(ea == eb);
		return;
	}
	CHECK(a->nr == b->nr);
	for (i = 0; i < a->nr; i++)
		CHECK(a->v[i].offset == b->v[i].offset && a->v[i].len == b->v[i].len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	df_stmt_list whole = DF_STMT_LIST_INIT, c1 = DF_STMT_LIST_INIT,
		cv = DF_STMT_LIST_INIT;
	size_t len, i, e = SIZE_MAX, e1 = SIZE_MAX, ev = SIZE_MAX;
	const char *s;
	df_dialect d;
	uint32_t seed = 0;
	int r, r1, rv;

	if (size < 1)
		return 0;
	d = (df_dialect)(data[0] % 3);
	s = (const char *)data + 1;
	len = size - 1;

	r = df_sql_split(&whole, d, s, len, &e);
	CHECK(r == 0 || r == DF_ESQL);
	if (r < 0) {
		CHECK(e <= len);
		CHECK(whole.nr == 0);
		CHECK(df_error_last() && df_error_last()->message);
	}
	for (i = 0; i < whole.nr; i++) {
		const df_stmt *st = &whole.v[i];

		CHECK(st->len > 0);
		CHECK(st->offset < len && st->len <= len - st->offset);
		CHECK(i == 0 || st->offset >= whole.v[i - 1].offset + whole.v[i - 1].len);
		CHECK(!is_blank((unsigned char)s[st->offset]));
		CHECK(!is_blank((unsigned char)s[st->offset + st->len - 1]));
	}

	for (i = 0; i < size && i < 16; i++)
		seed = seed * 31 + data[i];
	rv = split_chunked(&cv, d, s, len, 0, seed, &ev);
	same(&whole, r, e, &cv, rv, ev);
	if (len <= 2048) {
		r1 = split_chunked(&c1, d, s, len, 1, 0, &e1);
		same(&whole, r, e, &c1, r1, e1);
	}

	df_stmt_list_release(&whole);
	df_stmt_list_release(&c1);
	df_stmt_list_release(&cv);
	return 0;
}
