/* ssa.h: server-side apply and field ownership, as Kubernetes keeps them in
 * metadata.managedFields (sigs.k8s.io/structured-merge-diff semantics).
 *
 * A field set is kept in the FieldsV1 form Kubernetes stores: a JSON object
 * whose keys are "f:NAME" (a field of a map), "k:{...}" (an item of an
 * associative list, by its key fields: containers by name, ports by
 * containerPort and protocol...), "v:VALUE" (an item of a set list such as
 * finalizers) and "." (the node itself, when it also has children); a leaf
 * is {}.
 *
 * Each entry of managedFields says which fields one manager owns: the fields
 * it applied (operation Apply), or the fields its writes changed (operation
 * Update, one entry per manager, API version and subresource).
 *
 * Apply merges the applied configuration into the live object; refuses when
 * that changes a field another manager owns (unless forced, which takes the
 * field away from them); removes the fields this manager applied before and
 * no longer applies, unless another manager owns them too; and makes the
 * applied set the manager's Apply entry. */
#ifndef KX_SSA_H
#define KX_SSA_H

#include <jv.h>

struct kx_err;

struct kx_ssa_who {
	const char *kind;        /* "Deployment" (the type of the object) */
	const char *api_version; /* "apps/v1" */
	const char *manager;     /* field manager name */
	const char *subresource; /* "" or "status", "scale" (Update only) */
	const char *now;         /* RFC 3339 time for the entry */
};

/* Apply cfg (the applied configuration, consumed) to live (consumed; jv_null()
 * when the object does not exist yet). Returns the merged object with its
 * managedFields, or jv_invalid() when fields conflict and force is 0: then
 * *conflicts (if not NULL) is set to an array of {"manager": "\"m\" using
 * apps/v1", "field": ".spec.replicas"} and e says so in Kubernetes' words.
 * jv_invalid() with *conflicts = jv_invalid() for a malformed configuration. */
jv kx_ssa_apply(jv live, jv cfg, const struct kx_ssa_who *who, int force, jv *conflicts,
		struct kx_err *e);

/* Record a write that is not an apply: the fields changed from old to upd
 * become the manager's (taken from others); removed fields are nobody's.
 * Consumes old (jv_null() for a create) and upd; returns upd with its
 * managedFields. managedFields given in upd, when they differ from old's,
 * are taken as they are (an empty list clears them). */
jv kx_ssa_update(jv old, jv upd, const struct kx_ssa_who *who);

/* "Apply failed with N conflicts: ..." for the conflicts array (borrowed),
 * malloc'd. */
char *kx_ssa_conflict_message(jv conflicts);

/* The field set (FieldsV1) of a value of kind (consumed), as Apply owns it:
 * identity metadata and status left out. */
jv kx_ssa_fieldset(jv obj, const char *kind);

/* The manager name Kubernetes uses when a request names none: the
 * User-Agent up to its first '/' (or "unknown"); written into buf. */
const char *kx_ssa_default_manager(const char *user_agent, char *buf, size_t n);

#endif
