/* serviceaccount.c: the service account controller: every namespace that
 * is not being deleted has a "default" ServiceAccount. */
#include <string.h>

#include "json.h"
#include "reconcile.h"

jv rc_serviceaccount_decide(jv world, const struct rc_conf *conf)
{
	jv nss = rc_items(world, "namespaces"), sas = rc_items(world, "serviceaccounts");
	jv have = jv_object(), actions = jv_array();
	char ns[256], n[256];

	jv_array_foreach(sas, i, sa) {
		if (!strcmp(rc_str(sa, "metadata.name", n, sizeof n), "default"))
			have = jv_object_set(have, jv_string(rc_str(sa, "metadata.namespace", ns, sizeof ns)),
					     jv_true());
		jv_free(sa);
	}
	jv_array_foreach(nss, i, nsobj) {
		rc_str(nsobj, "metadata.name", ns, sizeof ns);
		if (!rc_deleting(nsobj) && !jv_object_has(jv_copy(have), jv_string(ns))) {
			jv sa = jv_object();
			sa = jv_object_set(sa, jv_string("apiVersion"), jv_string("v1"));
			sa = jv_object_set(sa, jv_string("kind"), jv_string("ServiceAccount"));
			sa = kx_jv_set(sa, "metadata.name", jv_string("default"));
			sa = kx_jv_set(sa, "metadata.namespace", jv_string(ns));
			actions = rc_push(actions, rc_action("serviceaccount", "create", sa));
		}
		jv_free(nsobj);
	}
	jv_free(nss);
	jv_free(sas);
	jv_free(have);
	(void)conf;
	return actions;
}
