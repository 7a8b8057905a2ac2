#ifndef DF_SQL_PGQ_WALK_H
#define DF_SQL_PGQ_WALK_H

/*
 * The messages directly below one message of libpg_query's protobuf tree,
 * found through protobuf-c's descriptors (libpg_query exports none of its
 * own): the walks over a parsed statement (the review's views, the
 * sandbox's refusals, the schema's function bodies and a run's relations)
 * keep their own recursion, depth limit and stop rule, and share this.
 */
#include <protobuf-c/protobuf-c.h>

/* Called for each child message that is set; nonzero stops the walk. */
typedef int (*df_pgq_child_fn)(const ProtobufCMessage *child, void *arg);

/*
 * Call fn on each message field of m (each element of a repeated one; of
 * a oneof only the member that is set), in the descriptor's order.
 * Returns 0, or the first nonzero value fn returned.
 */
int df_pgq_each_child(const ProtobufCMessage *m, df_pgq_child_fn fn, void *arg);

#endif
