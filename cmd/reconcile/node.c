/* node.c: the node lifecycle controller.
 *
 * A node's heartbeat is the later of its Lease's renewTime (in
 * kube-node-lease) and its Ready condition's lastHeartbeatTime. When it is
 * older than the grace period, the node's conditions become Unknown. Nodes
 * whose Ready condition is Unknown get the node.kubernetes.io/unreachable
 * taints, nodes whose Ready is False the node.kubernetes.io/not-ready ones,
 * both NoSchedule and NoExecute; the NoExecute taint carries timeAdded. Pods
 * on a node with such a NoExecute taint are evicted (deleted) once the
 * eviction timeout has passed since timeAdded, or after the tolerationSeconds
 * of a toleration they have for it (never, if it has none); until then their
 * Ready condition is False, so that they stop being endpoints (Kubernetes'
 * MarkPodsNotReady). Every time this
 * depends on is in the store, so a stateless run decides the same. */
#include <string.h>

#include "json.h"
#include "reconcile.h"

#define T_UNREACH "node.kubernetes.io/unreachable"
#define T_NOTREADY "node.kubernetes.io/not-ready"

static jv unknown_conditions(jv node, time_t now)
{
	static const char *const types[] = {"MemoryPressure", "DiskPressure", "PIDPressure", NULL};
	jv conds = kx_jv_get(jv_copy(node), "status.conditions"), rc;
	char b[64];

	rc = rc_condition(node, "Ready");
	if (jv_get_kind(rc) == JV_KIND_NULL)
		conds = rc_set_condition(conds, "Ready", "Unknown", "NodeStatusNeverUpdated",
					 "Kubelet never posted node status.", now, 0);
	else
		conds = rc_set_condition(conds, "Ready", "Unknown", "NodeStatusUnknown",
					 "Kubelet stopped posting node status.", now, 0);
	jv_free(rc);
	for (int i = 0; types[i]; i++) {
		jv c = rc_condition(node, types[i]);
		if (jv_get_kind(c) == JV_KIND_OBJECT && strcmp(rc_str(c, "status", b, sizeof b), "Unknown"))
			conds = rc_set_condition(conds, types[i], "Unknown", "NodeStatusUnknown",
						 "Kubelet stopped posting node status.", now, 0);
		jv_free(c);
	}
	/* keep each condition's lastHeartbeatTime: rc_set_condition drops it */
	jv old = kx_jv_get(jv_copy(node), "status.conditions"), out = jv_array();
	jv_array_foreach(conds, i, c) {
		char t[64], t2[64];
		rc_str(c, "type", t, sizeof t);
		if (jv_get_kind(old) == JV_KIND_ARRAY) {
			jv_array_foreach(old, k, o) {
				if (!strcmp(rc_str(o, "type", t2, sizeof t2), t)) {
					jv hb = kx_jv_get(jv_copy(o), "lastHeartbeatTime");
					if (jv_get_kind(hb) == JV_KIND_STRING)
						c = jv_object_set(c, jv_string("lastHeartbeatTime"), hb);
					else
						jv_free(hb);
				}
				jv_free(o);
			}
		}
		out = jv_array_append(out, c);
	}
	jv_free(old);
	jv_free(conds);
	return out;
}

/* Does toleration tol (borrowed) tolerate taint (key, effect, empty value)? */
static int tolerates(jv tol, const char *key, const char *effect)
{
	char k[256], op[32], ef[32], val[256];

	rc_str(tol, "key", k, sizeof k);
	rc_str(tol, "operator", op, sizeof op);
	rc_str(tol, "effect", ef, sizeof ef);
	rc_str(tol, "value", val, sizeof val);
	if (*ef && strcmp(ef, effect))
		return 0;
	if (!strcmp(op, "Exists"))
		return !*k || !strcmp(k, key);
	return !strcmp(k, key) && !*val;
}

/* When must pod (borrowed) leave a node tainted key:NoExecute since added:
 * -1 never. */
static time_t eviction_time(jv pod, const char *key, time_t added, int64_t timeout_ms)
{
	jv tols = kx_jv_get(jv_copy(pod), "spec.tolerations");
	int tolerated = 0;
	int64_t secs = -1;

	if (jv_get_kind(tols) == JV_KIND_ARRAY) {
		jv_array_foreach(tols, i, t) {
			if (tolerates(t, key, "NoExecute")) {
				jv s = jv_object_get(jv_copy(t), jv_string("tolerationSeconds"));
				if (jv_get_kind(s) == JV_KIND_NUMBER) {
					int64_t v = (int64_t)jv_number_value(s);
					if (v < 0)
						v = 0;
					if (!tolerated || (secs >= 0 && v < secs))
						secs = v;
				} else if (!tolerated) {
					secs = -1; /* forever, unless a shorter one says otherwise */
				}
				if (jv_is_valid(s))
					jv_free(s);
				tolerated = 1;
			}
			jv_free(t);
		}
	}
	jv_free(tols);
	if (!tolerated)
		return added + (time_t)((timeout_ms + 999) / 1000);
	return secs < 0 ? -1 : added + (time_t)secs;
}

/* Is pod's (borrowed) Ready condition True? */
static int pod_ready(jv pod)
{
	jv c = rc_condition(pod, "Ready");
	char st[32];
	int r = jv_get_kind(c) == JV_KIND_OBJECT && !strcmp(rc_str(c, "status", st, sizeof st), "True");

	jv_free(c);
	return r;
}

static jv make_taint(const char *key, const char *effect, jv time_added)
{
	jv t = jv_object();

	t = jv_object_set(t, jv_string("key"), jv_string(key));
	t = jv_object_set(t, jv_string("effect"), jv_string(effect));
	if (jv_is_valid(time_added))
		t = jv_object_set(t, jv_string("timeAdded"), time_added);
	return t;
}

jv rc_node_decide(jv world, const struct rc_conf *conf)
{
	jv nodes = rc_items(world, "nodes"), leases = rc_items(world, "leases");
	jv pods = rc_items(world, "pods"), by_node = jv_object(), lease_of = jv_object();
	jv actions = jv_array();
	char b[256], name[256];

	jv_array_foreach(leases, i, l) {
		if (!strcmp(rc_str(l, "metadata.namespace", b, sizeof b), "kube-node-lease"))
			lease_of = jv_object_set(lease_of, jv_string(rc_str(l, "metadata.name", name, sizeof name)),
						 jv_copy(l));
		jv_free(l);
	}
	jv_array_foreach(pods, i, p) {
		if (*rc_str(p, "spec.nodeName", b, sizeof b))
			by_node = rc_index_add(by_node, b, i);
		jv_free(p);
	}

	jv_array_foreach(nodes, ni, node) {
		jv lease, ready, taints, newtaints = jv_array();
		time_t hb, t;
		char st[32];
		const char *want = NULL;

		rc_str(node, "metadata.name", name, sizeof name);
		lease = jv_object_get(jv_copy(lease_of), jv_string(name));
		ready = rc_condition(node, "Ready");
		hb = rc_time(ready, "lastHeartbeatTime");
		if (jv_is_valid(lease) && (t = rc_time(lease, "spec.renewTime")) > hb)
			hb = t;
		if (!hb)
			hb = rc_time(node, "metadata.creationTimestamp");
		rc_str(ready, "status", st, sizeof st);
		if (!*st)
			strcpy(st, "Unknown");
		if (hb && (int64_t)(conf->now - hb) * 1000 > conf->node_grace_ms &&
		    (jv_get_kind(ready) == JV_KIND_NULL || strcmp(st, "Unknown"))) {
			jv nn = kx_jv_set(jv_copy(node), "status.conditions", unknown_conditions(node, conf->now));
			jv a = rc_action("node", "status", nn);
			actions = rc_push(actions, rc_with_event(a, jv_null(), "Normal", "NodeNotReady",
								 "Node %s status is now: NodeNotReady", name));
			strcpy(st, "Unknown");
		}
		if (jv_is_valid(lease))
			jv_free(lease);
		jv_free(ready);
		if (!strcmp(st, "Unknown"))
			want = T_UNREACH;
		else if (!strcmp(st, "False"))
			want = T_NOTREADY;

		/* taints: keep others, ours as the Ready condition says */
		int changed = 0;
		time_t added = 0;
		int have_ns = 0, have_ne = 0;
		taints = kx_jv_get(jv_copy(node), "spec.taints");
		if (jv_get_kind(taints) == JV_KIND_ARRAY) {
			jv_array_foreach(taints, i, tn) {
				char k[256], ef[32];
				rc_str(tn, "key", k, sizeof k);
				rc_str(tn, "effect", ef, sizeof ef);
				if (strcmp(k, T_UNREACH) && strcmp(k, T_NOTREADY)) {
					newtaints = jv_array_append(newtaints, tn);
					continue;
				}
				if (want && !strcmp(k, want) && !strcmp(ef, "NoSchedule") && !have_ns) {
					have_ns = 1;
					newtaints = jv_array_append(newtaints, tn);
				} else if (want && !strcmp(k, want) && !strcmp(ef, "NoExecute") && !have_ne) {
					have_ne = 1;
					added = rc_time(tn, "timeAdded");
					if (!added) { /* no time: count from now on */
						added = conf->now;
						tn = jv_object_set(tn, jv_string("timeAdded"), rc_timestr(conf->now));
						changed = 1;
					}
					newtaints = jv_array_append(newtaints, tn);
				} else {
					changed = 1;
					jv_free(tn);
				}
			}
		}
		jv_free(taints);
		if (want && !have_ns) {
			newtaints = jv_array_append(newtaints, make_taint(want, "NoSchedule", jv_invalid()));
			changed = 1;
		}
		if (want && !have_ne) {
			newtaints = jv_array_append(newtaints, make_taint(want, "NoExecute", rc_timestr(conf->now)));
			added = conf->now;
			changed = 1;
		}
		if (changed) {
			jv nn = jv_array_length(jv_copy(newtaints)) > 0
					? kx_jv_set(jv_copy(node), "spec.taints", jv_copy(newtaints))
					: kx_jv_del(jv_copy(node), "spec.taints");
			jv a = rc_action("node", "update", nn);
			if (want)
				a = rc_with_event(a, jv_null(), "Normal", "TaintAdded", "Node %s tainted %s:NoExecute",
						  name, want);
			else
				a = rc_with_event(a, jv_null(), "Normal", "NodeReady", "Node %s status is now: NodeReady",
						  name);
			actions = rc_push(actions, a);
		}
		jv_free(newtaints);

		/* evictions */
		if (want) {
			jv idx = rc_index_get(by_node, name);
			jv_array_foreach(idx, k, ix) {
				jv p = jv_array_get(jv_copy(pods), (int)jv_number_value(ix));
				jv_free(ix);
				time_t when = eviction_time(p, want, added, conf->eviction_ms);
				if (!rc_deleting(p) && when >= 0 && when <= conf->now) {
					char pns[256], pn[256];
					rc_str(p, "metadata.namespace", pns, sizeof pns);
					rc_str(p, "metadata.name", pn, sizeof pn);
					actions = rc_push(actions, rc_with_event(rc_action("node", "delete", p), jv_null(),
										 "Normal", "TaintManagerEviction",
										 "Marking for deletion Pod %s/%s", pns, pn));
				} else if (pod_ready(p)) {
					/* as Kubernetes' MarkPodsNotReady: the pods of a lost
					 * node stop being endpoints before they are evicted */
					jv c = rc_set_condition(kx_jv_get(jv_copy(p), "status.conditions"), "Ready",
								"False", "NodeNotReady", "Node is not ready",
								conf->now, 0);
					jv a = rc_action("node", "status", kx_jv_set(p, "status.conditions", c));
					actions = rc_push(actions, rc_with_event(a, jv_null(), "Warning", "NodeNotReady",
										 "Node is not ready"));
				} else {
					jv_free(p);
				}
			}
			jv_free(idx);
		}
		jv_free(node);
	}
	jv_free(nodes);
	jv_free(leases);
	jv_free(pods);
	jv_free(by_node);
	jv_free(lease_of);
	return actions;
}
