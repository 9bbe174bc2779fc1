/* smp.h: strategic merge patch, as Kubernetes applies it to built-in kinds
 * (Content-Type application/strategic-merge-patch+json; what kubectl patch
 * sends by default and kubectl apply sends for built-in kinds).
 *
 * Like a JSON merge patch, except that some lists merge instead of being
 * replaced: lists of objects by a merge key (a pod's containers by name, a
 * container's ports by containerPort, a Service's ports by port, conditions
 * by type...), and some lists of strings as sets (finalizers). The merge
 * keys come from one table in smp.c, by kind and field, as the Go structs'
 * patchMergeKey/patchStrategy tags give them. Directives: "$patch":
 * "replace"|"delete"|"merge" in a map or a list element, "$retainKeys",
 * "$deleteFromPrimitiveList/FIELD", "$setElementOrder/FIELD". */
#ifndef KX_SMP_H
#define KX_SMP_H

#include <jv.h>

struct kx_err;

/* Apply patch to original for an object of kind (e.g. "Deployment"; an
 * unknown kind merges like a JSON merge patch). Consumes original and patch.
 * jv_invalid() with e filled for a malformed directive. */
jv kx_smp_apply(jv original, jv patch, const char *kind, struct kx_err *e);

/* How FIELD of an object of TYPE merges (TYPE: a kind, or a type this
 * returned in *elem). 0 when no row says (a plain value, or a list replaced
 * whole); else 1 with *elem the type of its values ("" if none is named),
 * *list set for a list, and *key the list's merge key ("" for a set of
 * scalars, NULL for a list replaced whole). For building patches (kx-apply). */
int kx_smp_field(const char *type, const char *field, const char **elem, int *list,
		 const char **key);

#endif
