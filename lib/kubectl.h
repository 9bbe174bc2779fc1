/* kubectl.h: what kx-get, kx-apply and kx-delete share as kubectl does it:
 * resource type arguments, the namespace in effect, selectors in URLs, and
 * errors from the store worded as kubectl words them. */
#ifndef KX_KUBECTL_H
#define KX_KUBECTL_H

#include <jv.h>

#include "buf.h"
#include "http.h"
#include "kinds.h"

struct kx_err;

#define KX_MAX_TYPES 32

/* The namespace in effect: opt (-n) if given, else $KX_NAMESPACE, else
 * "default". */
const char *kx_kubectl_namespace(const char *opt);

/* Resolve "pods,svc,deploy" (or "all": every kind in category "all") into
 * kinds. Returns how many, or -1 with e filled ("the server doesn't have a
 * resource type \"x\"", exit 1 as kubectl). */
int kx_kubectl_types(const char *arg, const kx_kind **out, int max, struct kx_err *e);

/* Append to b the path of a collection (name NULL) or object, with the query
 * of a list (labelSelector, fieldSelector, extra "k=v" pairs; each may be
 * NULL or ""). ns NULL lists across namespaces. */
int kx_kubectl_path(kx_buf *b, const kx_kind *k, const char *ns, const char *name,
		    const char *label_sel, const char *field_sel, const char *extra);

/* GET a list; returns the items (kind and apiVersion filled in) and the
 * list's resourceVersion in *rv (malloc'd) if rv is not NULL. */
jv kx_kubectl_list(kx_client *c, const kx_kind *k, const char *ns, const char *label_sel,
		   const char *field_sel, char **rv, struct kx_err *e);

/* GET one object; kind and apiVersion filled in. */
jv kx_kubectl_get(kx_client *c, const kx_kind *k, const char *ns, const char *name,
		  struct kx_err *e);

/* Print e as kubectl does: "Error from server (NotFound): pods \"x\" not
 * found" for a store's refusal, the plain message otherwise. */
void kx_kubectl_error(const struct kx_err *e);

/* The word list for --complete: every type name a person may type
 * (plurals and short names), NULL-terminated, static. */
const char *const *kx_kubectl_type_words(void);

#endif
