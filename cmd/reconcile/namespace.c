/* namespace.c: the namespace controller.
 *
 * A Namespace being deleted (deletionTimestamp set) is marked Terminating,
 * everything in it is deleted, and once nothing is left its "kubernetes"
 * finalizer is removed from spec.finalizers (through the namespace's
 * /finalize subresource), which lets the store remove it. Objects already
 * being deleted are waited for, not deleted again. */
#include <string.h>

#include "json.h"
#include "reconcile.h"

static int is_cluster_scoped(const char *res)
{
	return !strcmp(res, "nodes") || !strcmp(res, "namespaces") || !strcmp(res, "_kinds") ||
	       !strcmp(res, "persistentvolumes") || !strcmp(res, "clusterroles") ||
	       !strcmp(res, "clusterrolebindings");
}

jv rc_namespace_decide(jv world, const struct rc_conf *conf)
{
	jv nss = rc_items(world, "namespaces"), actions = jv_array(), terminating = jv_object();
	jv left = jv_object();
	char name[256], b[256];

	jv_array_foreach(nss, i, ns) {
		if (rc_deleting(ns))
			terminating = jv_object_set(terminating, jv_string(rc_str(ns, "metadata.name", name, sizeof name)),
						    jv_true());
		jv_free(ns);
	}
	if (jv_object_length(jv_copy(terminating)) == 0)
		goto out;

	/* delete what is in them; count what is left */
	jv_object_foreach(world, res, items) {
		if (jv_get_kind(items) == JV_KIND_ARRAY && !is_cluster_scoped(jv_string_value(res))) {
			jv_array_foreach(items, i, o) {
				rc_str(o, "metadata.namespace", b, sizeof b);
				if (*b && jv_object_has(jv_copy(terminating), jv_string(b))) {
					left = jv_object_set(left, jv_string(b), jv_true());
					if (!rc_deleting(o)) {
						jv a = rc_action("namespace", "delete", o);
						a = jv_object_set(a, jv_string("propagationPolicy"), jv_string("Background"));
						actions = rc_push(actions, a);
						continue;
					}
				}
				jv_free(o);
			}
		}
		jv_free(res);
		jv_free(items);
	}

	jv_array_foreach(nss, i, ns) {
		rc_str(ns, "metadata.name", name, sizeof name);
		if (!rc_deleting(ns)) {
			jv_free(ns);
			continue;
		}
		if (strcmp(rc_str(ns, "status.phase", b, sizeof b), "Terminating")) {
			jv n2 = kx_jv_set(jv_copy(ns), "status.phase", jv_string("Terminating"));
			actions = rc_push(actions, rc_action("namespace", "status", n2));
			ns = kx_jv_set(ns, "status.phase", jv_string("Terminating"));
		}
		if (!jv_object_has(jv_copy(left), jv_string(name))) {
			jv fins = kx_jv_get(jv_copy(ns), "spec.finalizers"), keep = jv_array();
			int had = 0;
			if (jv_get_kind(fins) == JV_KIND_ARRAY) {
				jv_array_foreach(fins, k, f) {
					if (jv_get_kind(f) == JV_KIND_STRING && !strcmp(jv_string_value(f), "kubernetes")) {
						had = 1;
						jv_free(f);
					} else {
						keep = jv_array_append(keep, f);
					}
				}
			}
			jv_free(fins);
			if (had)
				actions = rc_push(actions, rc_action("namespace", "finalize",
								     kx_jv_set(jv_copy(ns), "spec.finalizers", keep)));
			else
				jv_free(keep);
		}
		jv_free(ns);
	}
out:
	jv_free(nss);
	jv_free(terminating);
	jv_free(left);
	(void)conf;
	return actions;
}
