/* watch.h: follow one collection of the store, as client-go's informers do:
 * a full list, then a watch from the list's resourceVersion, resumed from
 * the last version seen when the stream breaks, and a new list when the
 * store answers 410 Gone (too old a version) or an ERROR event. The
 * receiver is told about a new list as such, so that what was deleted
 * while the watch was down goes too: level-triggered. */
#ifndef KX_WATCH_H
#define KX_WATCH_H

#include <jv.h>

typedef struct kx_watch_fns {
	/* every object of the collection there is now (items consumed: an
	 * array of objects with kind and apiVersion filled in) */
	void (*list)(void *arg, jv items);
	/* one change: type is "ADDED", "MODIFIED" or "DELETED"; obj consumed,
	 * with its kind filled in */
	void (*event)(void *arg, const char *type, jv obj);
} kx_watch_fns;

/* Follow path ("/api/v1/services") of objects of kind ("Service") on the
 * store at server, from version rv (NULL: list first). Returns only when
 * the store does not serve the collection (404: after a list of nothing)
 * or no client can be made; an unreachable store is retried every second.
 * Meant for a thread of its own: it blocks in the watch. */
void kx_watch_follow(const char *server, const char *path, const char *kind, const char *rv,
		     const kx_watch_fns *fns, void *arg);

#endif
