/* ops.h: the writes of kx-store (ops.c), run by the leader of a group commit (db.c). */
#ifndef KX_STORE_OPS_H
#define KX_STORE_OPS_H

#include "store.h"

enum op_verb {
	OP_CREATE, OP_UPDATE, OP_PATCH, OP_DELETE, OP_BIND, OP_SCALE_UPDATE, OP_SCALE_PATCH
};
enum { PATCH_MERGE = 1, PATCH_JSON, PATCH_STRATEGIC, PATCH_APPLY };

struct op {
	int verb;
	const kx_kind *k;
	char ns[256], name[256];
	char sub[32];         /* "", "status", "finalize", "scale", "binding" */
	jv body;              /* create/update: the object; patch: the patch */
	int ptype;
	/* delete options */
	char propagation[32];
	int64_t grace;        /* -1: not given */
	char pre_uid[128], pre_rv[32];
	/* field ownership (lib/ssa): the request's field manager, ?force=true */
	char manager[128];
	int force;
	jv causes;            /* on an apply conflict: the Status causes */
	char *pre_head, *pre_tail;  /* create: pre-rendered (see txn_create_text) */
	/* answer */
	char *text;           /* the object, full JSON (malloc'd), or NULL */
	jv answer;            /* or this (Scale, Status), when valid */
};

/* Before a create: fill what needs no transaction (uid, timestamps) and
 * render the object, so the transaction only splices in the revision. */
void op_prepare_create(struct op *o);
void op_clear(struct op *o);
/* The write function for db_write: w->arg is a struct op. */
int op_run(wreq *w, txn *t);
/* Create the four namespaces every cluster has, if missing. */
int ops_bootstrap(void);
/* The Scale of a stored object (for GET .../scale). */
jv op_scale_of(const kx_kind *k, const char *stored);

#endif
