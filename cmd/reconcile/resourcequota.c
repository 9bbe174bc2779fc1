/* resourcequota.c: the resource quota controller: each ResourceQuota's
 * status.hard mirrors spec.hard and status.used counts what its namespace
 * uses of every resource named in spec.hard:
 * - object counts: "pods", "services", "configmaps", "secrets",
 *   "replicationcontrollers", "resourcequotas", "persistentvolumeclaims",
 *   "services.nodeports", "services.loadbalancers", and "count/RESOURCE"
 *   or "count/RESOURCE.GROUP" for any observed resource;
 * - compute resources of the pods that are not finished: "requests.cpu"
 *   (or "cpu"), "requests.memory" (or "memory"), "limits.cpu",
 *   "limits.memory", and the same for any other resource name.
 * Pods that have Succeeded, Failed or are being deleted do not count. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "quantity.h"
#include "reconcile.h"

/* Objects of resource res in namespace ns (not being deleted). */
static int64_t count_in(jv world, const char *res, const char *ns)
{
	jv items = rc_items(world, res);
	int64_t n = 0;
	char b[256];

	jv_array_foreach(items, i, o) {
		if (!strcmp(rc_str(o, "metadata.namespace", b, sizeof b), ns) && !rc_deleting(o) &&
		    (strcmp(res, "pods") || rc_pod_active(o)))
			n++;
		jv_free(o);
	}
	jv_free(items);
	return n;
}

static int64_t count_services(jv world, const char *ns, const char *type)
{
	jv items = rc_items(world, "services");
	int64_t n = 0;
	char b[256], t[64];

	jv_array_foreach(items, i, o) {
		if (!strcmp(rc_str(o, "metadata.namespace", b, sizeof b), ns) && !rc_deleting(o)) {
			rc_str(o, "spec.type", t, sizeof t);
			if (!strcmp(t, type) || (!strcmp(type, "NodePort") && !strcmp(t, "LoadBalancer")))
				n++;
		}
		jv_free(o);
	}
	jv_free(items);
	return n;
}

/* Sum of the containers' resources.{requests|limits}.NAME of active pods in
 * ns, in thousandths. */
static int64_t sum_pods(jv world, const char *ns, const char *which, const char *name)
{
	jv pods = rc_items(world, "pods");
	int64_t sum = 0;
	char b[256], path[300];

	snprintf(path, sizeof path, "resources.%s", which);
	jv_array_foreach(pods, i, p) {
		if (!strcmp(rc_str(p, "metadata.namespace", b, sizeof b), ns) && rc_pod_active(p)) {
			jv cs = kx_jv_get(jv_copy(p), "spec.containers");
			if (jv_get_kind(cs) == JV_KIND_ARRAY) {
				jv_array_foreach(cs, k, c) {
					jv r = kx_jv_get(c, path);
					jv q = jv_get_kind(r) == JV_KIND_OBJECT ? jv_object_get(r, jv_string(name))
										 : (jv_free(r), jv_invalid());
					int64_t m;
					kx_err e = KX_ERR_INIT;
					if (jv_is_valid(q) && kx_quantity_parse_jv(q, &m, &e) == 0)
						sum += m;
					jv_free(q);
				}
			}
			jv_free(cs);
		}
		jv_free(p);
	}
	jv_free(pods);
	return sum;
}

/* The used amount of resource key (e.g. "pods", "requests.cpu") in ns, as
 * a quantity string formatted like hard (binary suffixes if hard has one);
 * jv_invalid() when it cannot be counted from what was observed. */
static jv used_of(jv world, const char *key, const char *ns, const char *hard)
{
	static const char *const counted[] = {"pods", "services", "configmaps", "secrets",
					      "replicationcontrollers", "resourcequotas",
					      "persistentvolumeclaims", NULL};
	char buf[64], res[128];
	int64_t n = -1, milli = -1;

	for (int i = 0; counted[i]; i++)
		if (!strcmp(key, counted[i]) && rc_observed(world, key))
			n = count_in(world, key, ns);
	if (!strcmp(key, "services.nodeports"))
		n = count_services(world, ns, "NodePort");
	else if (!strcmp(key, "services.loadbalancers"))
		n = count_services(world, ns, "LoadBalancer");
	else if (!strncmp(key, "count/", 6)) {
		snprintf(res, sizeof res, "%s", key + 6);
		char *dot = strchr(res, '.');
		if (dot)
			*dot = 0;
		if (rc_observed(world, res))
			n = count_in(world, res, ns);
	} else if (!strncmp(key, "requests.", 9))
		milli = sum_pods(world, ns, "requests", key + 9);
	else if (!strncmp(key, "limits.", 7))
		milli = sum_pods(world, ns, "limits", key + 7);
	else if (n < 0 && strchr(key, '/') == NULL && strchr(key, '.') == NULL)
		milli = sum_pods(world, ns, "requests", key); /* "cpu", "memory" */
	if (n >= 0)
		return jv_string_fmt("%lld", (long long)n);
	if (milli >= 0)
		return jv_string(kx_quantity_format(milli, strchr(hard, 'i') != NULL, buf, sizeof buf));
	return jv_invalid();
}

jv rc_resourcequota_decide(jv world, const struct rc_conf *conf)
{
	jv quotas = rc_items(world, "resourcequotas"), actions = jv_array();
	char ns[256];

	jv_array_foreach(quotas, i, q) {
		jv hard = kx_jv_get(jv_copy(q), "spec.hard"), used = jv_object();
		rc_str(q, "metadata.namespace", ns, sizeof ns);
		if (jv_get_kind(hard) != JV_KIND_OBJECT || rc_deleting(q)) {
			jv_free(hard);
			jv_free(used);
			jv_free(q);
			continue;
		}
		jv_object_foreach(hard, k, h) {
			char hs[64];
			if (jv_get_kind(h) == JV_KIND_STRING)
				snprintf(hs, sizeof hs, "%s", jv_string_value(h));
			else
				hs[0] = 0;
			jv u = used_of(world, jv_string_value(k), ns, hs);
			if (jv_is_valid(u))
				used = jv_object_set(used, jv_copy(k), u);
			jv_free(k);
			jv_free(h);
		}
		jv st = jv_object();
		st = jv_object_set(st, jv_string("hard"), hard);
		st = jv_object_set(st, jv_string("used"), used);
		if (!kx_jv_equal(kx_jv_get(jv_copy(q), "status"), jv_copy(st)))
			actions = rc_push(actions, rc_action("resourcequota", "status",
							     jv_object_set(q, jv_string("status"), st)));
		else {
			jv_free(st);
			jv_free(q);
		}
	}
	jv_free(quotas);
	(void)conf;
	return actions;
}
