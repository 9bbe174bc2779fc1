/* reconcile.h: what the controllers of kx-reconcile share.
 *
 * A pass is observe -> decide -> act. observe builds the "world": one JSON
 * object mapping a plural resource name ("pods", "replicasets") to the array
 * of every such object. Each controller's decide function is pure: it reads
 * the world (BORROWED, unlike the usual jv rule: many controllers read the
 * same world) and a fixed clock, and returns a jv array of actions. An action
 * is a JSON object, which is also what --dry-run prints:
 *
 *   {"controller":"replicaset","verb":"create","kind":"Pod","apiVersion":"v1",
 *    "namespace":"default","name":"","object":{...},
 *    "event":{"type":"Normal","reason":"SuccessfulCreate","message":"..."}}
 *
 * verb is one of create, update (PUT of the object), status (PUT of the
 * status subresource), delete (with optional propagationPolicy and a uid
 * precondition), finalize (a Namespace's /finalize subresource). An optional
 * event is recorded about the object once the action succeeded. */
#ifndef KX_RECONCILE_H
#define KX_RECONCILE_H

#include <stdint.h>
#include <time.h>
#include <jv.h>

struct rc_conf {
	time_t now;
	int64_t node_grace_ms;     /* --node-monitor-grace-period */
	int64_t eviction_ms;       /* --pod-eviction-timeout */
};

typedef jv (*rc_decide_fn)(jv world, const struct rc_conf *conf);

struct rc_controller {
	const char *name;          /* as --controllers names it */
	const char *component;     /* Events' source.component */
	rc_decide_fn decide;
	const char *resources;     /* space-separated plural resources it reads */
};

extern const struct rc_controller rc_controllers[];
extern const size_t rc_controllers_count;

/* the decide functions, one per controller file */
jv rc_replicaset_decide(jv world, const struct rc_conf *conf);
jv rc_replicationcontroller_decide(jv world, const struct rc_conf *conf);
jv rc_deployment_decide(jv world, const struct rc_conf *conf);
jv rc_node_decide(jv world, const struct rc_conf *conf);
jv rc_endpoints_decide(jv world, const struct rc_conf *conf);
jv rc_endpointslice_decide(jv world, const struct rc_conf *conf);
jv rc_namespace_decide(jv world, const struct rc_conf *conf);
jv rc_gc_decide(jv world, const struct rc_conf *conf);
jv rc_serviceaccount_decide(jv world, const struct rc_conf *conf);
jv rc_resourcequota_decide(jv world, const struct rc_conf *conf);

/* ---- helpers (util.c); "borrows" unless said otherwise ---- */

/* The array of objects of a resource in world (a new reference; [] when
 * absent). */
jv rc_items(jv world, const char *resource);
/* Has the world observed this resource at all? */
int rc_observed(jv world, const char *resource);

/* The string at path in v, or "" (never NULL). buf must hold n bytes. */
const char *rc_str(jv v, const char *path, char *buf, size_t n);
/* Seconds since the epoch of the RFC 3339 time at path; 0 when absent. */
time_t rc_time(jv v, const char *path);
/* "2026-11-26T18:42:00Z" as a jv string. */
jv rc_timestr(time_t t);
/* Does metadata.deletionTimestamp exist? */
int rc_deleting(jv obj);
/* The uid of obj's controller ownerReference, or "" (buf of 64+ bytes). */
const char *rc_controller_uid(jv obj, char *buf, size_t n);
/* A controller ownerReference (controller and blockOwnerDeletion true) to
 * owner. */
jv rc_owner_ref(jv owner);

/* metadata.labels or metadata.annotations (which) entries, whose keys hold
 * dots and so cannot be dotted paths: the value of key, or "". */
const char *rc_meta_get(jv obj, const char *which, const char *key, char *buf, size_t n);
/* Set it (obj and val consumed). */
jv rc_meta_set(jv obj, const char *which, const char *key, jv val);

/* Pods */
int rc_pod_active(jv pod);          /* not Succeeded/Failed and not deleting */
int rc_pod_ready(jv pod);           /* Ready condition True */
/* Ready for at least min_ready seconds at now. */
int rc_pod_available(jv pod, int64_t min_ready, time_t now);

/* Actions. Each consumes obj (and ev fields are copied). */
jv rc_action(const char *controller, const char *verb, jv obj);
/* Attach an Event to an action (consumed), message printf-style. The Event is
 * about the object `about` (borrowed; jv_null() for the action's own object).
 * In the message, "{name}" is replaced by the name of the object the action
 * created (for generateName). */
jv rc_with_event(jv action, jv about, const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Append to the actions array (consumed). */
jv rc_push(jv actions, jv action);

/* Conditions: the condition of type in obj's status.conditions, or null. */
jv rc_condition(jv obj, const char *type);
/* Set (or replace) the condition of type in a conditions array (consumed).
 * An unchanged condition keeps its times; lastTransitionTime moves only when
 * status changes. update_time 0: no lastUpdateTime (most kinds); 1: it is
 * set to now when the condition changes (Deployments); 2: set to now even
 * when unchanged (a Deployment that made progress). */
jv rc_set_condition(jv conds, const char *type, const char *status, const char *reason,
		    const char *message, time_t now, int update_time);

/* An index from a string key to the indexes of objects in an array. */
jv rc_index_add(jv index, const char *key, int i);
jv rc_index_get(jv index, const char *key); /* array of numbers, [] if none */

/* The stable hash of a pod template used for pod-template-hash (see
 * deployment.c). Borrows template. Writes at most 11 characters + NUL. */
const char *rc_template_hash(jv tmpl, int64_t collision_count, char *buf, size_t n);

#endif
