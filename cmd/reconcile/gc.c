/* gc.c: the garbage collector.
 *
 * Objects name their owners in metadata.ownerReferences (by uid). The
 * collector looks at every object the pass observed:
 * - a dependent all of whose owners are gone is deleted (this is how
 *   background deletion cascades); dangling references beside live owners
 *   are removed;
 * - an owner being deleted with the "orphan" finalizer has its references
 *   removed from its dependents, then (once none is left) the finalizer;
 * - an owner being deleted with the "foregroundDeletion" finalizer has its
 *   dependents deleted (in the foreground too), and once no dependent that
 *   blocks it (blockOwnerDeletion) is left, the finalizer is removed.
 * An owner whose kind the pass did not observe is assumed to exist: nothing
 * is ever deleted on a guess. */
#include <string.h>

#include "json.h"
#include "reconcile.h"

static int has_finalizer(jv obj, const char *f)
{
	jv fins = kx_jv_get(jv_copy(obj), "metadata.finalizers");
	int r = 0;

	if (jv_get_kind(fins) == JV_KIND_ARRAY) {
		jv_array_foreach(fins, i, x) {
			if (jv_get_kind(x) == JV_KIND_STRING && !strcmp(jv_string_value(x), f))
				r = 1;
			jv_free(x);
		}
	}
	jv_free(fins);
	return r;
}

static jv without_finalizer(jv obj, const char *f)
{
	jv fins = kx_jv_get(jv_copy(obj), "metadata.finalizers"), keep = jv_array();

	jv_array_foreach(fins, i, x) {
		if (jv_get_kind(x) == JV_KIND_STRING && !strcmp(jv_string_value(x), f))
			jv_free(x);
		else
			keep = jv_array_append(keep, x);
	}
	jv_free(fins);
	return kx_jv_set(obj, "metadata.finalizers", keep);
}

enum { OWNER_UNKNOWN, OWNER_ABSENT, OWNER_PRESENT };

jv rc_gc_decide(jv world, const struct rc_conf *conf)
{
	jv by_uid = jv_object(), kinds = jv_object_get(jv_copy(world), jv_string("_kinds"));
	jv blocking = jv_object(), referenced = jv_object(), actions = jv_array();
	char b[256];

	if (jv_get_kind(kinds) != JV_KIND_OBJECT) {
		jv_free(kinds);
		kinds = jv_object();
	}
	jv_object_foreach(world, res, items) {
		if (jv_get_kind(items) == JV_KIND_ARRAY && strcmp(jv_string_value(res), "events")) {
			jv_array_foreach(items, i, o) {
				if (*rc_str(o, "metadata.uid", b, sizeof b))
					by_uid = jv_object_set(by_uid, jv_string(b), o);
				else
					jv_free(o);
			}
		}
		jv_free(res);
		jv_free(items);
	}

	/* dependents */
	jv_object_foreach(by_uid, uid, d) {
		jv refs = kx_jv_get(jv_copy(d), "metadata.ownerReferences"), keep = jv_array();
		int present = 0, absent = 0, unknown = 0, orphaned = 0, foreground = 0;
		char dns[256];

		rc_str(d, "metadata.namespace", dns, sizeof dns);
		if (jv_get_kind(refs) != JV_KIND_ARRAY || jv_array_length(jv_copy(refs)) == 0) {
			jv_free(refs);
			jv_free(keep);
			jv_free(uid);
			jv_free(d);
			continue;
		}
		jv_array_foreach(refs, i, r) {
			char ou[128], ok_[128], ons[256];
			jv owner = jv_object_get(jv_copy(by_uid), jv_string(rc_str(r, "uid", ou, sizeof ou)));
			int st;
			rc_str(r, "kind", ok_, sizeof ok_);
			if (jv_is_valid(owner)) {
				rc_str(owner, "metadata.namespace", ons, sizeof ons);
				/* an owner must be cluster-scoped or in the dependent's namespace */
				st = (!*ons || !strcmp(ons, dns)) ? OWNER_PRESENT : OWNER_ABSENT;
			} else {
				st = jv_object_has(jv_copy(kinds), jv_string(ok_)) ? OWNER_ABSENT : OWNER_UNKNOWN;
			}
			if (st == OWNER_PRESENT) {
				present++;
				referenced = jv_object_set(referenced, jv_string(ou), jv_true());
				if (kx_jv_bool(r, "blockOwnerDeletion", 0))
					blocking = jv_object_set(blocking, jv_string(ou), jv_true());
				if (rc_deleting(owner) && has_finalizer(owner, "orphan")) {
					orphaned = 1;
					jv_free(r);
				} else {
					if (rc_deleting(owner) && has_finalizer(owner, "foregroundDeletion"))
						foreground = 1;
					keep = jv_array_append(keep, r);
				}
			} else if (st == OWNER_ABSENT) {
				absent++;
				jv_free(r);
			} else {
				unknown++;
				keep = jv_array_append(keep, r);
			}
			jv_free(owner);
		}
		jv_free(refs);
		if (absent && !present && !unknown) {
			if (!rc_deleting(d)) {
				jv a = rc_action("garbagecollector", "delete", jv_copy(d));
				actions = rc_push(actions, jv_object_set(a, jv_string("propagationPolicy"),
									 jv_string("Background")));
			}
			jv_free(keep);
		} else if (foreground && !rc_deleting(d)) {
			jv a = rc_action("garbagecollector", "delete", jv_copy(d));
			actions = rc_push(actions,
					  jv_object_set(a, jv_string("propagationPolicy"), jv_string("Foreground")));
			jv_free(keep);
		} else if (absent || orphaned) {
			jv nd = jv_array_length(jv_copy(keep)) ? kx_jv_set(jv_copy(d), "metadata.ownerReferences", keep)
							       : (jv_free(keep), kx_jv_del(jv_copy(d), "metadata.ownerReferences"));
			actions = rc_push(actions, rc_action("garbagecollector", "update", nd));
		} else {
			jv_free(keep);
		}
		jv_free(uid);
		jv_free(d);
	}

	/* owners waiting on their finalizers */
	jv_object_foreach(by_uid, uid, o) {
		if (rc_deleting(o)) {
			const char *u = jv_string_value(uid);
			if (has_finalizer(o, "orphan") && !jv_object_has(jv_copy(referenced), jv_string(u)))
				actions = rc_push(actions, rc_action("garbagecollector", "update",
								     without_finalizer(jv_copy(o), "orphan")));
			else if (has_finalizer(o, "foregroundDeletion") &&
				 !jv_object_has(jv_copy(blocking), jv_string(u)))
				actions = rc_push(actions, rc_action("garbagecollector", "update",
								     without_finalizer(jv_copy(o), "foregroundDeletion")));
		}
		jv_free(uid);
		jv_free(o);
	}
	jv_free(by_uid);
	jv_free(kinds);
	jv_free(blocking);
	jv_free(referenced);
	(void)conf;
	return actions;
}
