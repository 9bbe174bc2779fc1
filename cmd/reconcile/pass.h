/* pass.h: the I/O edges of kx-reconcile: observe (observe.c) and act
 * (act.c). */
#ifndef KX_RECONCILE_PASS_H
#define KX_RECONCILE_PASS_H

#include <time.h>
#include <jv.h>

#include "err.h"
#include "event.h"
#include "http.h"

/* The world from the store: every resource named in resources (a
 * space-separated list of plurals) listed across namespaces; with
 * namespaces_deep, also every namespaced kind inside namespaces that are
 * being deleted. jv_invalid() with e filled on error. */
jv rc_observe_store(kx_client *c, const char *resources, int namespaces_deep, kx_err *e);
/* The world from a file (-f): JSON or YAML objects or Lists. */
jv rc_observe_file(const char *path, kx_err *e);

struct rc_actor {
	kx_client *c;         /* NULL with dry_run */
	int dry_run;
	struct timespec now;  /* Events' time */
	jv rv;                /* uid -> the resourceVersion our last write returned */
	jv index;             /* resource -> uid -> position in world[resource] */
	long writes;          /* requests that changed the store */
	long conflicts;       /* 409s: the next round reads again */
	int status;           /* worst failure: KX_OK, KX_EREFUSED, KX_EUNREACH */
	kx_event_cache events; /* the store's Events, read once per pass */
};

void rc_actor_init(struct rc_actor *a, kx_client *c, int dry_run);
void rc_actor_free(struct rc_actor *a);
/* Forget positions in the world (call after observing it again). */
void rc_actor_reset(struct rc_actor *a);

/* Perform one action (consumed) for the controller whose Events come from
 * component; keep *world up to date with what the store answered. Returns
 * 0, or -1 when the store could not be reached (the pass stops). */
int rc_act(struct rc_actor *a, jv action, const char *component, jv *world);

#endif
