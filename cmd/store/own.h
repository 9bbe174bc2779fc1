/* own.h: field ownership in kx-store (own.c): server-side apply and the
 * managedFields that every write keeps up to date, through lib/ssa. Called
 * by ops.c inside the committer's transaction. */
#ifndef KX_STORE_OWN_H
#define KX_STORE_OWN_H

#include "ops.h"

/* The applied configuration o->body (borrowed) over live (consumed;
 * jv_null() when the object does not exist). Returns the object to write,
 * or jv_invalid() with e (409 Conflict naming the fields, with o->causes
 * set; 400 for a configuration that does not fit the request). */
jv own_apply(struct op *o, jv live, st_err *e);
/* An object made by an apply gets what a create gets (defaults, a pod's
 * phase, validation); consumes obj; jv_invalid() with e. */
jv own_apply_create(struct op *o, jv obj, st_err *e);
/* upd (consumed) with managedFields recording o's write over old (consumed;
 * jv_null() for a create). Unchanged when o names no manager. */
jv own_update(const struct op *o, jv old, jv upd);

#endif
