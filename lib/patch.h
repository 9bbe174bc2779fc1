/* patch.h: JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on jv.
 *
 * Both consume their arguments. kx-store applies them to stored objects;
 * kx-apply may use them to compute what it sends. */
#ifndef KX_PATCH_H
#define KX_PATCH_H

#include <jv.h>

struct kx_err;

/* RFC 7386: objects merge key by key, null deletes, anything else replaces.
 * Never fails. */
jv kx_patch_merge(jv target, jv patch);
/* RFC 6902: an array of operations (add, remove, replace, move, copy, test)
 * applied in order. jv_invalid() with e filled (naming the operation) when an
 * operation is malformed, its path does not exist, or a test fails. */
jv kx_patch_json(jv doc, jv ops, struct kx_err *e);

#endif
