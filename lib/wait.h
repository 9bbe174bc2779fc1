/* wait.h: waiting for objects to become ready or to go away, with the
 * progress `kubectl rollout status` shows: rewritten in place on a terminal,
 * one plain line per change in a pipe. */
#ifndef KX_WAIT_H
#define KX_WAIT_H

#include <stdint.h>
#include <jv.h>

#include "http.h"
#include "kinds.h"

struct kx_err;

/* Why obj (borrowed) is not ready yet, as kubectl words it ("Waiting for
 * deployment \"web\" rollout to finish: 1 of 2 updated replicas are
 * available..."), into buf; returns 1 when ready (buf then holds the
 * success line, e.g. "deployment \"web\" successfully rolled out"), 0 when
 * not, -1 when it never will (buf says why: a deadline exceeded). */
int kx_wait_status(jv obj, char *buf, size_t n);

/* Wait until every object of objs (consumed: an array of objects, as
 * applied) is ready, polling the store. timeout_ms 0: no limit. */
int kx_wait_ready(kx_client *c, jv objs, int64_t timeout_ms, struct kx_err *e);

/* Wait until the object is gone (404), or its uid changed. */
int kx_wait_gone(kx_client *c, const kx_kind *k, const char *ns, const char *name,
		 const char *uid, int64_t timeout_ms, struct kx_err *e);

#endif
