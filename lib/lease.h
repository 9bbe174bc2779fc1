/* lease.h: leader election through a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection package does it.
 *
 * Candidates share one Lease object (e.g. kube-system/kx-reconcile). Its
 * spec.holderIdentity is the leader; the leader renews spec.renewTime more
 * often than spec.leaseDurationSeconds. A candidate takes the Lease when it
 * is free (no holder) or expired (renewTime + leaseDurationSeconds in the
 * past), setting acquireTime and bumping leaseTransitions. Every write
 * carries the resourceVersion that was read, so two candidates racing for
 * the same Lease cannot both win: the loser gets 409 Conflict. */
#ifndef KX_LEASE_H
#define KX_LEASE_H

#include <time.h>
#include <jv.h>

struct kx_err;
struct kx_client;

enum kx_lease_verdict {
	KX_LEASE_FOLLOW = 0,  /* someone else holds a live lease: do nothing */
	KX_LEASE_ACQUIRE = 1, /* free, expired or absent: take it (write *out) */
	KX_LEASE_RENEW = 2,   /* we hold it: renew it (write *out) */
};

/* Decide what identity should do with lease (consumed; jv_null() when the
 * Lease does not exist yet) at now. For ACQUIRE and RENEW, *out is the
 * object to write (create when lease was null, else update: it keeps the
 * resourceVersion read); for FOLLOW, *out is jv_null(). */
enum kx_lease_verdict kx_lease_decide(jv lease, const char *ns, const char *name,
				      const char *identity, int duration_s,
				      const struct timespec *now, jv *out);

/* When does lease (borrowed) expire: renewTime (or acquireTime) plus
 * leaseDurationSeconds, in seconds since the epoch; 0 when it has no holder
 * or no times. */
time_t kx_lease_expiry(jv lease);

/* One round of election against the store: read ns/name, decide, write.
 * Returns 1 when identity holds the lease after this call, 0 when another
 * candidate does (including losing a race with 409), -1 on error (e). */
int kx_lease_try(struct kx_client *c, const char *ns, const char *name, const char *identity,
		 int duration_s, struct kx_err *e);

/* Give the lease up if identity holds it (holderIdentity cleared,
 * leaseDurationSeconds 1), so another candidate need not wait for it to
 * expire. Returns 0, or -1 with e filled. */
int kx_lease_release(struct kx_client *c, const char *ns, const char *name,
		     const char *identity, struct kx_err *e);

#endif
