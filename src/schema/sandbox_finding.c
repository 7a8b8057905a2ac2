/*
 * A finding of the check of a file loaded into a scratch database
 * (sandbox.c): kept apart from sandbox.c, so that the classifiers of each
 * dialect, which record findings, never call back into the file that calls
 * them (sandbox_int.h).
 */
#include <stdio.h>

#include "schema/sandbox_int.h"
#include "util/banned.h"

/* Record a finding; one that reaches outside replaces data or an unknown
 * kind found before it (its reason says more). */
void df__sb_found(struct sb_finding *f, enum sb_verdict v, const char *fmt, const char *arg)
{
	if (v == SB_DML && f->allow_dml)
		return;
	if (df__sb_severe(f) || (f->v != SB_OK && (v == SB_DML || v == SB_UNCHECKED)))
		return;
	f->v = v;
	snprintf(f->what, sizeof(f->what), fmt, arg ? arg : "");
}
