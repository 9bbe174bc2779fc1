/* event.h: recording core/v1 Events, as Kubernetes' event recorder does.
 *
 * An Event says that something happened to an object (its involvedObject):
 * a type (Normal or Warning), a CamelCase reason ("SuccessfulCreate"), a
 * message for people, the component that saw it, and when. Like the event
 * correlator of client-go, repeated events are aggregated: an Event with the
 * same involvedObject, type, reason, message and source as an existing one
 * bumps that Event's count and lastTimestamp instead of creating a new one.
 *
 * The pure functions (kx_event_ref, kx_event_new, kx_event_same,
 * kx_event_bump) build and compare objects; kx_event_record does the I/O. */
#ifndef KX_EVENT_H
#define KX_EVENT_H

#include <time.h>
#include <jv.h>

struct kx_err;
struct kx_client;

/* An ObjectReference to obj (borrowed): kind, namespace, name, uid,
 * apiVersion and resourceVersion, those it has. */
jv kx_event_ref(jv obj);

/* What an Event says. Strings are borrowed. */
typedef struct kx_event_info {
	const char *type;      /* "Normal" or "Warning" */
	const char *reason;    /* "SuccessfulCreate" */
	const char *message;   /* "Created pod: web-x7k2p" */
	const char *component; /* source.component: "replicaset-controller" */
	const char *host;      /* source.host, or NULL */
} kx_event_info;

/* A new Event about ref (an ObjectReference, consumed) at now: count 1,
 * firstTimestamp = lastTimestamp = now, named "<involved name>.<hex of the
 * time in nanoseconds>" as client-go names them, in the involved object's
 * namespace ("default" for cluster-scoped objects). */
jv kx_event_new(jv ref, const kx_event_info *ev, const struct timespec *now);

/* Does the existing Event (borrowed) record the same thing as ev about ref
 * (borrowed): same involvedObject (kind, namespace, name, uid), type,
 * reason, message and source component? */
int kx_event_same(jv existing, jv ref, const kx_event_info *ev);

/* The existing Event (consumed) seen once more at now: count + 1 and
 * lastTimestamp = now. */
jv kx_event_bump(jv existing, const struct timespec *now);

/* Like client-go's EventAggregator: from the KX_EVENT_AGGREGATE_MAXth
 * different message among an object's Events of the same type, reason and
 * source within KX_EVENT_AGGREGATE_SECONDS on, Events are folded into one
 * whose message is KX_EVENT_COMBINED followed by the latest message, and
 * whose count goes up. */
#define KX_EVENT_AGGREGATE_MAX 10
#define KX_EVENT_AGGREGATE_SECONDS 600
#define KX_EVENT_COMBINED "(combined from similar events): "

/* Decide how to record ev about ref (borrowed) at now, given the Events
 * already recorded about that object (borrowed array): returns the Event to
 * write, either an existing one bumped (its metadata.resourceVersion kept:
 * write it with PUT) or a new one (no resourceVersion: POST it). Pure. */
jv kx_event_decide(jv existing, jv ref, const kx_event_info *ev, const struct timespec *now);

/* Events read once per pass instead of once per Event recorded: the first
 * kx_event_record_cached lists every Event in the store, later ones use (and
 * update) that list. Zero-initialize; kx_event_cache_free when done. */
typedef struct kx_event_cache {
	int loaded;
	jv by_object; /* "kind/namespace/name" -> array of Events */
} kx_event_cache;

void kx_event_cache_free(kx_event_cache *cache);

/* kx_event_record through cache (NULL: no cache). */
int kx_event_record_cached(struct kx_client *c, kx_event_cache *cache, jv obj,
			   const kx_event_info *ev, const struct timespec *now,
			   struct kx_err *e);

/* Record ev about obj (borrowed) in the store: bump the matching Event if
 * there is one (found by a list filtered on involvedObject.name and
 * involvedObject.kind, then compared with kx_event_same), else create one;
 * similar Events are aggregated as kx_event_decide says.
 * A conflict while bumping is retried once with a fresh read. Returns 0, or
 * -1 with e filled. */
int kx_event_record(struct kx_client *c, jv obj, const kx_event_info *ev,
		    const struct timespec *now, struct kx_err *e);

#endif
