#ifndef DF_REVIEW_ANALYZE_INT_H
#define DF_REVIEW_ANALYZE_INT_H

/*
 * The keyword classifier's state and helpers, shared by analyze.c (every
 * statement) and analyze_alter.c (ALTER TABLE and its subcommands).
 */
#include <stdbool.h>
#include <stddef.h>

#include "review/review_int.h"

typedef struct actx {
	const char *s;
	df_dialect d;
	const rstmt *st;
	rop_fn fn;
	void *ctx;
	int ret;
} actx;

#define IS(i, w) TK(a->s, a->st, (i), w)
#define CH(i, c) df__tok_ch(a->st, (i), (c))

void df__an_op_init(rop *op, int kind);
int df__an_emit(actx *a, rop *op);
int df__an_emit_kind(actx *a, int kind);
size_t df__an_skip_if_exists(actx *a, size_t i, rop *op);
size_t df__an_find_ch(actx *a, size_t i, size_t hi, char c, unsigned depth);
unsigned df__an_column_flags(actx *a, size_t i, size_t hi);

/* analyze_alter.c */
int df__an_alter(actx *a);

#endif
