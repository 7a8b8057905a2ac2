/*
 * "Did you mean ...?": the nearest of a list of words by edit distance
 * (Levenshtein with adjacent transpositions), as git's help.c suggests
 * commands.
 */
#include <stdlib.h>
#include <string.h>

#include "util/suggest.h"
#include "util/banned.h"

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t df_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *base, *prev2, *prev, *cur, d;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	if (!(base = calloc(3 * (lb + 1), sizeof(size_t))))
		return (size_t)-1;
	prev2 = base;
	prev = prev2 + lb + 1;
	cur = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(base);
	return d;
}

const char *df_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(word);
	size_t limit = len < 4 ? 1 : len < 8 ? 2 : 3;

	for (size_t i = 0; i < n; i++) {
		size_t d;
		if (!candidates[i])
			continue;
		d = df_edit_distance(word, candidates[i]);
		if (d <= limit && d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
