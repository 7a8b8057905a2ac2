/*
 * df_pgq_each_child(): one message's children in libpg_query's protobuf
 * tree (pgq_walk.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "sql/pgq_walk.h"
#include "util/banned.h"

int df_pgq_each_child(const ProtobufCMessage *m, df_pgq_child_fn fn, void *arg)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	int r;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const ProtobufCMessage *child;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + fd->quantifier_offset);
			ProtobufCMessage *const *v =
				*(ProtobufCMessage *const *const *)(const void *)(base + fd->offset);
			for (size_t k = 0; k < n && v; k++)
				if (v[k] && (r = fn(v[k], arg)) != 0)
					return r;
			continue;
		}
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(const void *)(base + fd->quantifier_offset) != fd->id)
			continue;
		child = *(ProtobufCMessage *const *)(const void *)(base + fd->offset);
		if (child && (r = fn(child, arg)) != 0)
			return r;
	}
	return 0;
}
