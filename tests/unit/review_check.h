/*
 * Helpers shared by the review unit tests: review a text with given options,
 * count and find a rule's findings, check how often a rule fires.  Each test
 * file defines `run` (its engine's options) on top of these.
 */
#ifndef DF_TEST_REVIEW_CHECK_H
#define DF_TEST_REVIEW_CHECK_H

#include <string.h>

#include "devflow/review.h"

static inline df_review_result *review_with(const df_review_opts *o, const char *sql)
{
	df_review_result *r = NULL;

	assert_int_equal(df_review_run(&r, o, "m.sql", sql, strlen(sql)), 0);
	assert_non_null(r);
	return r;
}

static inline size_t count(const df_review_result *r, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr_findings; i++)
		n += !strcmp(r->findings[i].rule, rule);
	return n;
}

static inline const df_review_finding *find(const df_review_result *r, const char *rule)
{
	for (size_t i = 0; i < r->nr_findings; i++)
		if (!strcmp(r->findings[i].rule, rule))
			return &r->findings[i];
	return NULL;
}

/* Assert that `rule` fires `n` times in `r` (the review of `what`); frees r. */
static inline void expect_in(df_review_result *r, const char *what, const char *rule, size_t n)
{
	if (count(r, rule) != n) {
		for (size_t i = 0; i < r->nr_findings; i++)
			print_message("  got %s at %d:%d\n", r->findings[i].rule,
				      r->findings[i].line, r->findings[i].column);
		fail_msg("%s: expected %zu x %s, got %zu", what, n, rule, count(r, rule));
	}
	df_review_result_free(r);
}

#endif
