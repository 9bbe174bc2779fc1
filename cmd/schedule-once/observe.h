/* observe.h and act.h of kx-schedule-once: the edges that do I/O. */
#ifndef KX_SCHED_OBSERVE_H
#define KX_SCHED_OBSERVE_H

#include <jv.h>

#include "http.h"
#include "sched.h"

struct kx_err;

/* Nodes, Pods, Services and ReplicaSets from the store, as one array. */
jv sched_observe_store(kx_client *c, struct kx_err *e);
/* The same from a JSON/YAML file or "-" (e.g. kx-get pods,nodes -o json). */
jv sched_observe_file(const char *path, struct kx_err *e);

/* What act did. */
typedef struct sched_act_result {
	int bound;         /* bindings the store accepted */
	int conflicts;     /* 409 and 404: someone else got there first; skipped */
	int marked;        /* pods given PodScheduled=False now */
	int unschedulable; /* pods that fit nowhere */
	int failed;        /* other errors (logged) */
	int events;        /* Events recorded */
	kx_err err;        /* the first of those errors */
} sched_act_result;

/* Perform the decisions against the store at server, with up to parallel
 * requests in flight: bind each placed pod (POST pods/NAME/binding), and
 * give each pod that fits nowhere the PodScheduled=False condition with
 * reason Unschedulable (unless it already has that very message) and a
 * FailedScheduling Event; each binding gets a Scheduled Event, as
 * kube-scheduler records them (events: EV_ALL, only EV_FAILED, or EV_NONE).
 * An Event that cannot be written is logged, and does not fail the pass. */
enum sched_events { EV_ALL, EV_FAILED, EV_NONE };
void sched_act(const char *server, const sched_cluster *c, const sched_decision *d, size_t n,
	       int parallel, int events, sched_act_result *res);

/* The pod object (consumed) with PodScheduled=False, reason Unschedulable,
 * and message; jv_null() when the pod already says exactly that. Pure. */
jv sched_unschedulable_status(jv pod, const char *message, const char *now);
/* The Binding of a pod to a node. Pure. */
jv sched_binding(const sched_pod *p, const char *node);

#endif
