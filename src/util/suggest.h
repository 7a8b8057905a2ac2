#ifndef UTIL_SUGGEST_H
#define UTIL_SUGGEST_H

#include <stddef.h>

/* Edit distance (insert, delete, substitute, swap two neighbours); words
 * over 64 bytes are "far" ((size_t)-1). */
size_t df_edit_distance(const char *a, const char *b);
/* The candidate nearest to `word`, when near enough to be a typo; or NULL. */
const char *df_suggest(const char *word, const char *const *candidates, size_t n);

#endif
