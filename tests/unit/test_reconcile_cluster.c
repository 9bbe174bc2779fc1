/* Unit tests of kx-reconcile's cluster controllers (node lifecycle,
 * endpoints, endpointslice, namespace, garbage collector, serviceaccount,
 * resourcequota): decide functions over JSON worlds, with a fixed clock. */
#include <stdlib.h>

#include "../../cmd/reconcile/util.c"
#include "../../cmd/reconcile/node.c"
#include "../../cmd/reconcile/endpoints.c"
#include "../../cmd/reconcile/namespace.c"
#include "../../cmd/reconcile/gc.c"
#include "../../cmd/reconcile/serviceaccount.c"
#include "../../cmd/reconcile/resourcequota.c"
#include "rc_helpers.h"
#include "tap.h"

static struct rc_conf conf = {NOW, 40000, 300000};

/* ---- node lifecycle ---- */

#define NODE(ready, hb, taints)                                                                     \
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"uid\":\"n1\","      \
	"\"creationTimestamp\":\"2027-01-15T06:00:00Z\"},\"spec\":{" taints "},\"status\":{"           \
	"\"conditions\":[{\"type\":\"Ready\",\"status\":\"" ready "\",\"reason\":\"KubeletReady\","    \
	"\"message\":\"ok\",\"lastHeartbeatTime\":\"" hb "\",\"lastTransitionTime\":\"2027-01-15T06:00:00Z\"}]}}"

#define LEASE(renew)                                                                                \
	"{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"n1\","  \
	"\"namespace\":\"kube-node-lease\",\"uid\":\"l1\"},\"spec\":{\"holderIdentity\":\"n1\","       \
	"\"renewTime\":\"" renew "\"}}"

#define UNREACH(added) "\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"}," \
	"{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\",\"timeAdded\":\"" added "\"}]"

#define NPOD(name, tol)                                                                             \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":"  \
	"\"default\",\"uid\":\"" name "\"},\"spec\":{\"nodeName\":\"n1\"" tol "}}"

static void test_node(void)
{
	/* lease renewed 10s ago, condition heartbeat old: healthy */
	jv w = J("{\"nodes\":[" NODE("True", "2027-01-15T07:50:00Z", "") "],\"leases\":[" LEASE("2027-01-15T07:59:50.000000Z") "]}");
	jv acts = rc_node_decide(w, &conf), a;
	is_int(jv_array_length(jv_copy(acts)), 0, "a fresh Lease is a heartbeat: nothing to do");
	jv_free(acts);
	jv_free(w);

	/* silent for 60s > 40s grace */
	w = J("{\"nodes\":[" NODE("True", "2027-01-15T07:59:00Z", "") "],\"leases\":[" LEASE("2027-01-15T07:59:00.000000Z") "],"
	      "\"pods\":[" NPOD("p1", "") "]}");
	acts = rc_node_decide(w, &conf);
	a = find(acts, "status", "Node", 0);
	jv obj = kx_jv_get(jv_copy(a), "object");
	jv c = rc_condition(obj, "Ready");
	jv_free(obj);
	is_str(S(c, "status"), "Unknown", "silent past the grace period: Ready=Unknown");
	is_str(S(c, "reason"), "NodeStatusUnknown", "reason NodeStatusUnknown");
	is_str(S(c, "lastHeartbeatTime"), "2027-01-15T07:59:00Z", "the last heartbeat is kept");
	is_str(S(c, "lastTransitionTime"), "2027-01-15T08:00:00Z", "the transition is now");
	jv_free(c);
	jv_free(a);
	a = find(acts, "update", "Node", 0);
	jv t = kx_jv_get(jv_copy(a), "object.spec.taints");
	is_int(jv_array_length(jv_copy(t)), 2, "tainted unreachable NoSchedule and NoExecute");
	is_str(S(t, "1.timeAdded"), "2027-01-15T08:00:00Z", "the NoExecute taint has timeAdded");
	is_str(S(t, "1.key"), "node.kubernetes.io/unreachable", "key unreachable");
	jv_free(t);
	jv_free(a);
	is_int(count(acts, "delete", "Pod"), 0, "no eviction yet");
	jv_free(acts);
	jv_free(w);

	/* tainted 4 minutes ago: pods tolerating 60s go, the others stay until 5m */
	w = J("{\"nodes\":[" NODE("Unknown", "2027-01-15T07:50:00Z", UNREACH("2027-01-15T07:56:00Z")) "],"
	      "\"pods\":[" NPOD("plain", "") "," NPOD("short", ",\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\","
	      "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":60}]") ","
	      NPOD("forever", ",\"tolerations\":[{\"operator\":\"Exists\"}]") "]}");
	acts = rc_node_decide(w, &conf);
	is_int(count(acts, "status", "Node"), 0, "already Unknown: status left alone");
	is_int(count(acts, "update", "Node"), 0, "already tainted: taints left alone");
	is_int(count(acts, "delete", "Pod"), 1, "one eviction");
	a = find(acts, "delete", "Pod", 0);
	is_str(S(a, "name"), "short", "the pod whose tolerationSeconds ran out");
	is_str(S(a, "event.reason"), "TaintManagerEviction", "with an Event");
	jv_free(a);
	jv_free(acts);
	struct rc_conf later = conf;
	later.now = NOW + 61;
	acts = rc_node_decide(w, &later);
	is_int(count(acts, "delete", "Pod"), 2, "past the eviction timeout the plain pod goes too");
	a = find(acts, "delete", "Pod", 1);
	ok(strcmp(S(a, "name"), "forever"), "a pod tolerating forever stays");
	jv_free(a);
	jv_free(acts);
	later.eviction_ms = 1000;
	later.now = NOW;
	acts = rc_node_decide(w, &later);
	is_int(count(acts, "delete", "Pod"), 2, "a short --pod-eviction-timeout evicts sooner");
	jv_free(acts);
	jv_free(w);

	/* before eviction, the pods of a lost node are no longer Ready (MarkPodsNotReady) */
	w = J("{\"nodes\":[" NODE("Unknown", "2027-01-15T07:50:00Z", UNREACH("2027-01-15T07:59:00Z")) "],"
	      "\"pods\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"r\",\"namespace\":\"default\","
	      "\"uid\":\"r\"},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
	      "\"status\":\"True\"}]}}," NPOD("plain", "") "]}");
	acts = rc_node_decide(w, &conf);
	is_int(count(acts, "delete", "Pod"), 0, "a lost node's pods are not evicted at once");
	is_int(count(acts, "status", "Pod"), 1, "but the ready one is marked not ready");
	a = find(acts, "status", "Pod", 0);
	is_str(S(a, "name"), "r", "the ready pod");
	c = kx_jv_get(kx_jv_get(jv_copy(a), "object"), "status.conditions");
	is_str(S(c, "0.status"), "False", "Ready=False");
	is_str(S(c, "0.reason"), "NodeNotReady", "reason NodeNotReady");
	is_str(S(a, "event.reason"), "NodeNotReady", "with an Event");
	jv_free(c);
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* heartbeat back and Ready True: taints go */
	w = J("{\"nodes\":[" NODE("True", "2027-01-15T07:59:59Z", UNREACH("2027-01-15T07:56:00Z")) "]}");
	acts = rc_node_decide(w, &conf);
	a = find(acts, "update", "Node", 0);
	ok(jv_get_kind(kx_jv_get(jv_copy(a), "object.spec.taints")) == JV_KIND_NULL, "ready again: taints removed");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* NotReady from the kubelet: not-ready taint */
	w = J("{\"nodes\":[" NODE("False", "2027-01-15T07:59:59Z", "") "]}");
	acts = rc_node_decide(w, &conf);
	a = find(acts, "update", "Node", 0);
	is_str(S(a, "object.spec.taints.0.key"), "node.kubernetes.io/not-ready", "Ready=False: not-ready taint");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

/* ---- endpoints ---- */

#define SVC(name, sel, ports)                                                                       \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\","            \
	"\"namespace\":\"default\",\"uid\":\"s-" name "\"},\"spec\":{" sel "\"ports\":" ports "}}"

#define EPOD(name, ip, ready, ports)                                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":"  \
	"\"default\",\"uid\":\"" name "\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n1\"," \
	"\"containers\":[{\"name\":\"c\",\"ports\":" ports "}]},\"status\":{\"phase\":\"Running\","   \
	"\"podIP\":\"" ip "\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"" ready "\"}]}}"

static void test_endpoints(void)
{
	jv w = J("{\"services\":["
		 SVC("web", "\"selector\":{\"app\":\"web\"},", "[{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}]") ","
		 SVC("manual", "", "[{\"port\":80}]") "],"
		 "\"pods\":["
		 EPOD("b", "10.0.0.2", "True", "[{\"name\":\"http\",\"containerPort\":8080}]") ","
		 EPOD("a", "10.0.0.1", "False", "[{\"name\":\"http\",\"containerPort\":8080}]") ","
		 EPOD("noport", "10.0.0.3", "True", "[]") ","
		 EPOD("noip", "", "True", "[{\"name\":\"http\",\"containerPort\":8080}]") "],"
		 "\"endpoints\":[]}");
	jv acts = rc_endpoints_decide(w, &conf), a;

	is_int(count(acts, "create", "Endpoints"), 1, "one Endpoints, for the service with a selector");
	a = find(acts, "create", "Endpoints", 0);
	is_str(S(a, "name"), "web", "named after the service");
	is_str(S(a, "object.subsets.0.addresses.0.ip"), "10.0.0.2", "the ready pod is an address");
	is_str(S(a, "object.subsets.0.notReadyAddresses.0.ip"), "10.0.0.1", "the other a not-ready address");
	is_str(S(a, "object.subsets.0.addresses.0.targetRef.name"), "b", "with a targetRef");
	is_int(kx_jv_int(a, "object.subsets.0.ports.0.port", 0), 8080, "the named targetPort resolved");
	is_int(jv_array_length(kx_jv_get(jv_copy(a), "object.subsets")), 1, "pods without the port or an IP are left out");
	jv ep = kx_jv_get(jv_copy(a), "object");
	jv_free(a);
	jv_free(acts);

	/* the same world with that Endpoints: nothing to do */
	w = jv_object_set(w, jv_string("endpoints"), JV_ARRAY(ep));
	acts = rc_endpoints_decide(w, &conf);
	is_int(jv_array_length(jv_copy(acts)), 0, "endpoints up to date: no actions");
	jv_free(acts);

	/* EndpointSlices */
	acts = rc_endpointslice_decide(w, &conf);
	is_int(count(acts, "create", "EndpointSlice"), 1, "one EndpointSlice");
	a = find(acts, "create", "EndpointSlice", 0);
	is_str(S(a, "object.metadata.generateName"), "web-", "named after the service");
	is_str(S(a, "object.endpoints.0.addresses.0"), "10.0.0.1", "endpoints sorted by address");
	ok(!kx_jv_bool(a, "object.endpoints.0.conditions.ready", 1), "the not-ready one says so");
	ok(kx_jv_bool(a, "object.endpoints.1.conditions.ready", 0), "the ready one says so");
	is_str(S(a, "object.metadata.ownerReferences.0.uid"), "s-web", "owned by the service");
	jv sl = kx_jv_get(jv_copy(a), "object");
	sl = kx_jv_set(sl, "metadata.name", jv_string("web-abc"));
	jv_free(a);
	jv_free(acts);
	w = jv_object_set(w, jv_string("endpointslices"), JV_ARRAY(sl));
	acts = rc_endpointslice_decide(w, &conf);
	is_int(jv_array_length(jv_copy(acts)), 0, "slice up to date: no actions");
	jv_free(acts);

	/* no pod with an IP: one placeholder slice, kept as it is */
	jv nopods = J("{\"services\":[" SVC("web", "\"selector\":{\"app\":\"web\"},", "[{\"port\":80}]") "],"
		      "\"pods\":[],\"endpointslices\":[]}");
	acts = rc_endpointslice_decide(nopods, &conf);
	is_int(count(acts, "create", "EndpointSlice"), 1, "no endpoints: a placeholder slice");
	a = find(acts, "create", "EndpointSlice", 0);
	is_int(jv_array_length(kx_jv_get(jv_copy(a), "object.endpoints")), 0, "without endpoints");
	is_int(jv_array_length(kx_jv_get(jv_copy(a), "object.ports")), 0, "nor ports");
	jv ph = kx_jv_set(kx_jv_get(jv_copy(a), "object"), "metadata.name", jv_string("web-x"));
	jv_free(a);
	jv_free(acts);
	nopods = jv_object_set(nopods, jv_string("endpointslices"), JV_ARRAY(ph));
	acts = rc_endpointslice_decide(nopods, &conf);
	is_int(jv_array_length(jv_copy(acts)), 0, "the placeholder is left alone");
	jv_free(acts);
	jv_free(nopods);

	/* a pod whose spec.subdomain names the service: its endpoint carries
	 * its spec.hostname (for DNS); one naming another subdomain does not */
	jv hw = J("{\"services\":[" SVC("db", "\"selector\":{\"app\":\"web\"},", "[{\"port\":5432}]") "],"
		  "\"pods\":[" EPOD("db-0", "10.0.0.5", "True", "[]") "," EPOD("db-1", "10.0.0.6", "True", "[]") "],"
		  "\"endpoints\":[],\"endpointslices\":[]}");
	jv hp = kx_jv_get(jv_copy(hw), "pods");
	hp = jv_array_set(hp, 0, kx_jv_set(kx_jv_set(jv_array_get(jv_copy(hp), 0), "spec.hostname", jv_string("db-0")),
					  "spec.subdomain", jv_string("db")));
	hp = jv_array_set(hp, 1, kx_jv_set(kx_jv_set(jv_array_get(jv_copy(hp), 1), "spec.hostname", jv_string("db-1")),
					  "spec.subdomain", jv_string("other")));
	hw = jv_object_set(hw, jv_string("pods"), hp);
	acts = rc_endpoints_decide(hw, &conf);
	a = find(acts, "create", "Endpoints", 0);
	is_str(S(a, "object.subsets.0.addresses.0.hostname"), "db-0", "Endpoints: the pod's hostname, its subdomain the service");
	is_str(S(a, "object.subsets.0.addresses.1.hostname"), "", "Endpoints: none for a pod of another subdomain");
	jv_free(a);
	jv_free(acts);
	acts = rc_endpointslice_decide(hw, &conf);
	a = find(acts, "create", "EndpointSlice", 0);
	is_str(S(a, "object.endpoints.0.hostname"), "db-0", "EndpointSlice: the same hostname");
	is_str(S(a, "object.endpoints.1.hostname"), "", "EndpointSlice: none for the other");
	jv_free(a);
	jv_free(acts);
	jv_free(hw);

	/* the service goes: its Endpoints go */
	jv svcs = J("[" SVC("manual", "", "[{\"port\":80}]") "]");
	w = jv_object_set(w, jv_string("services"), svcs);
	acts = rc_endpoints_decide(w, &conf);
	is_int(count(acts, "delete", "Endpoints"), 1, "Endpoints we made go with their service");
	jv_free(acts);
	jv_free(w);
}

/* ---- namespace, gc, serviceaccount, quota ---- */

static void test_namespace(void)
{
	jv w = J("{\"namespaces\":[{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"gone\",\"uid\":\"ns1\","
		 "\"deletionTimestamp\":\"2027-01-15T07:00:00Z\"},\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Terminating\"}},"
		 "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"kept\",\"uid\":\"ns2\"}}],"
		 "\"pods\":[{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":\"gone\",\"uid\":\"p1\"}},"
		 "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"q\",\"namespace\":\"kept\",\"uid\":\"p2\"}}],"
		 "\"configmaps\":[{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\",\"namespace\":\"gone\",\"uid\":\"c1\"}}]}");
	jv acts = rc_namespace_decide(w, &conf), a;

	is_int(count(acts, "delete", NULL), 2, "everything in the terminating namespace is deleted");
	is_int(count(acts, "finalize", NULL), 0, "not finalized while something is left");
	jv_free(acts);
	w = jv_object_set(w, jv_string("pods"), jv_array());
	w = jv_object_set(w, jv_string("configmaps"), jv_array());
	acts = rc_namespace_decide(w, &conf);
	is_int(count(acts, "finalize", "Namespace"), 1, "empty: finalized");
	a = find(acts, "finalize", "Namespace", 0);
	is_int(jv_array_length(kx_jv_get(jv_copy(a), "object.spec.finalizers")), 0, "without the kubernetes finalizer");
	jv_free(a);
	jv_free(acts);
	acts = rc_serviceaccount_decide(w, &conf);
	is_int(count(acts, "create", "ServiceAccount"), 1, "one default ServiceAccount (not in the terminating namespace)");
	a = find(acts, "create", "ServiceAccount", 0);
	is_str(S(a, "namespace"), "kept", "in the live namespace");
	is_str(S(a, "name"), "default", "named default");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

#define OBJ(kind, name, uid, extra_meta)                                                           \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"" kind "\",\"metadata\":{\"name\":\"" name "\","    \
	"\"namespace\":\"default\",\"uid\":\"" uid "\"" extra_meta "}}"
#define OWNER(kind, uid) ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"" kind "\"," \
	"\"name\":\"x\",\"uid\":\"" uid "\",\"controller\":true,\"blockOwnerDeletion\":true}]"

static void test_gc(void)
{
	jv w = J("{\"_kinds\":{\"ReplicaSet\":true,\"Pod\":true,\"Deployment\":true},"
		 "\"replicasets\":[" OBJ("ReplicaSet", "rs", "rs1", "") "],"
		 "\"pods\":[" OBJ("Pod", "mine", "p1", OWNER("ReplicaSet", "rs1")) ","
		 OBJ("Pod", "orphaned", "p2", OWNER("ReplicaSet", "gone")) ","
		 OBJ("Pod", "unknown", "p3", OWNER("StatefulSet", "ss1")) "]}");
	jv acts = rc_gc_decide(w, &conf), a;

	is_int(count(acts, NULL, NULL), 1, "one action");
	a = find(acts, "delete", "Pod", 0);
	is_str(S(a, "name"), "orphaned", "the pod whose owner is gone is deleted");
	is_str(S(a, "propagationPolicy"), "Background", "in the background");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* foreground: the owner waits, its dependents are deleted */
	w = J("{\"_kinds\":{\"ReplicaSet\":true,\"Pod\":true},"
	      "\"replicasets\":[" OBJ("ReplicaSet", "rs", "rs1", ",\"deletionTimestamp\":\"2027-01-15T07:00:00Z\",\"finalizers\":[\"foregroundDeletion\"]") "],"
	      "\"pods\":[" OBJ("Pod", "mine", "p1", OWNER("ReplicaSet", "rs1")) "]}");
	acts = rc_gc_decide(w, &conf);
	a = find(acts, "delete", "Pod", 0);
	is_str(S(a, "propagationPolicy"), "Foreground", "foreground: dependents deleted in the foreground");
	jv_free(a);
	is_int(count(acts, "update", "ReplicaSet"), 0, "the owner keeps its finalizer while they exist");
	jv_free(acts);
	w = jv_object_set(w, jv_string("pods"), jv_array());
	acts = rc_gc_decide(w, &conf);
	a = find(acts, "update", "ReplicaSet", 0);
	is_int(jv_array_length(kx_jv_get(jv_copy(a), "object.metadata.finalizers")), 0,
	       "dependents gone: foregroundDeletion removed");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* orphan: references removed, then the finalizer */
	w = J("{\"_kinds\":{\"ReplicaSet\":true,\"Pod\":true},"
	      "\"replicasets\":[" OBJ("ReplicaSet", "rs", "rs1", ",\"deletionTimestamp\":\"2027-01-15T07:00:00Z\",\"finalizers\":[\"orphan\"]") "],"
	      "\"pods\":[" OBJ("Pod", "mine", "p1", OWNER("ReplicaSet", "rs1")) "]}");
	acts = rc_gc_decide(w, &conf);
	a = find(acts, "update", "Pod", 0);
	ok(jv_get_kind(kx_jv_get(jv_copy(a), "object.metadata.ownerReferences")) == JV_KIND_NULL,
	   "orphan: the dependent loses its ownerReference");
	jv_free(a);
	is_int(count(acts, "delete", NULL), 0, "and is not deleted");
	is_int(count(acts, "update", "ReplicaSet"), 0, "the finalizer stays until no dependent refers to it");
	jv_free(acts);
	w = jv_object_set(w, jv_string("pods"), J("[" OBJ("Pod", "mine", "p1", "") "]"));
	acts = rc_gc_decide(w, &conf);
	is_int(count(acts, "update", "ReplicaSet"), 1, "then the orphan finalizer goes");
	jv_free(acts);
	jv_free(w);
}

static void test_quota(void)
{
	jv w = J("{\"resourcequotas\":[{\"kind\":\"ResourceQuota\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"q\","
		 "\"namespace\":\"default\",\"uid\":\"q1\"},\"spec\":{\"hard\":{\"pods\":\"5\",\"requests.cpu\":\"2\","
		 "\"limits.memory\":\"1Gi\",\"count/configmaps\":\"3\"}}}],"
		 "\"configmaps\":[],"
		 "\"pods\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"default\"},\"spec\":{\"containers\":["
		 "{\"resources\":{\"requests\":{\"cpu\":\"250m\"},\"limits\":{\"memory\":\"128Mi\"}}},"
		 "{\"resources\":{\"requests\":{\"cpu\":\"250m\"},\"limits\":{\"memory\":\"128Mi\"}}}]}},"
		 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"default\"},\"spec\":{\"containers\":[]},\"status\":{\"phase\":\"Succeeded\"}},"
		 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"c\",\"namespace\":\"other\"},\"spec\":{\"containers\":[]}}]}");
	jv acts = rc_resourcequota_decide(w, &conf), a = find(acts, "status", "ResourceQuota", 0);
	jv used = kx_jv_get(jv_copy(a), "object.status.used");
	jv v;

	v = jv_object_get(jv_copy(used), jv_string("pods"));
	is_str(jv_string_value(v), "1", "pods used: finished pods and other namespaces do not count");
	jv_free(v);
	v = jv_object_get(jv_copy(used), jv_string("requests.cpu"));
	is_str(jv_string_value(v), "500m", "requests.cpu summed");
	jv_free(v);
	v = jv_object_get(jv_copy(used), jv_string("limits.memory"));
	is_str(jv_string_value(v), "256Mi", "limits.memory summed, binary like hard");
	jv_free(v);
	v = jv_object_get(jv_copy(used), jv_string("count/configmaps"));
	is_str(jv_string_value(v), "0", "count/configmaps");
	jv_free(v);
	is_str(S(a, "object.status.hard.pods"), "5", "status.hard mirrors spec.hard");
	jv q = kx_jv_get(jv_copy(a), "object");
	jv_free(used);
	jv_free(a);
	jv_free(acts);
	w = jv_object_set(w, jv_string("resourcequotas"), JV_ARRAY(q));
	acts = rc_resourcequota_decide(w, &conf);
	is_int(jv_array_length(jv_copy(acts)), 0, "up to date: no actions");
	jv_free(acts);
	jv_free(w);
}

int main(void)
{
	test_node();
	test_endpoints();
	test_namespace();
	test_gc();
	test_quota();
	return done_testing();
}
