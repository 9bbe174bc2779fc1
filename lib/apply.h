/* apply.h: what `kubectl apply` decides, as pure functions over jv.
 *
 * kubectl's client-side apply keeps the manifest it last applied in the
 * annotation kubectl.kubernetes.io/last-applied-configuration. An update is a
 * three-way merge of (last applied, new manifest, live object): a field the
 * new manifest sets differently from the live object is sent; a field the
 * last manifest named and the new one dropped is removed (sent as null); a
 * field neither manifest named (set by another writer, e.g. replicas after a
 * scale) is left alone. The result is an RFC 7386 JSON merge patch, "{}"
 * when there is nothing to do ("unchanged"). */
#ifndef KX_APPLY_H
#define KX_APPLY_H

#include <jv.h>

#include "kinds.h"

struct kx_err;

#define KX_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* Check a manifest object (borrowed) has what apply needs (apiVersion, kind,
 * metadata.name) and a kind the store serves; returns that kind, or NULL
 * with e filled ("kind not set", "no kind \"Foo\" is registered for version
 * \"v9\""). */
const kx_kind *kx_apply_check(jv obj, struct kx_err *e);

/* The object to send (consumes obj): namespace set for a namespaced kind
 * when the manifest has none (to ns) or refused when -n names another one,
 * and the last-applied annotation set to the manifest as kubectl writes it
 * (keys sorted, HTML characters escaped as Go does, a final newline).
 * jv_invalid() with e filled on a namespace mismatch. */
jv kx_apply_modified(jv obj, const kx_kind *k, const char *ns, int ns_forced,
		     struct kx_err *e);

/* The last-applied configuration in live (borrowed), parsed, or jv_null()
 * when it has none (or it is not valid JSON). */
jv kx_apply_original(jv live);

/* The three-way patch from original (jv_null() when none), modified and
 * current (all consumed), as kubectl computes it. For a kind lib/smp knows
 * the merge keys of, a strategic merge patch (lists of containers, ports,
 * volumes... merged item by item, with $setElementOrder and "$patch":
 * "delete" directives); for kind NULL a JSON merge patch. An object; empty
 * when nothing changes. */
jv kx_apply_patch(jv original, jv modified, jv current, const char *kind);

/* Serialise v (consumed) as Go's encoding/json does for unstructured
 * objects: compact, keys sorted, '<' '>' '&' U+2028 U+2029 escaped.
 * malloc'd. */
char *kx_apply_go_json(jv v);

#endif
