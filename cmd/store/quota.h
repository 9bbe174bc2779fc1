/* quota.h: ResourceQuota admission, inside the write transaction.
 *
 * Before a namespaced object is created, every ResourceQuota of its
 * namespace is checked: what the object adds (one more pod, service,
 * configmap...; a pod's cpu and memory requests and limits) must fit under
 * spec.hard, given status.used, or the create is refused with 403 and
 * Kubernetes' message. When it fits, status.used is raised in the same
 * transaction, so two creates at once cannot both squeeze in; kx-reconcile's
 * resourcequota controller recounts status.used from what is there. */
#ifndef KX_STORE_QUOTA_H
#define KX_STORE_QUOTA_H

#include <jv.h>

#include "store.h"

/* 0 when obj (borrowed; name is its final name) may be created in ns, -1
 * with e filled (403 Forbidden) when a quota refuses it. */
int quota_admit(txn *t, const kx_kind *k, const char *ns, const char *name, jv obj, st_err *e);

#endif
