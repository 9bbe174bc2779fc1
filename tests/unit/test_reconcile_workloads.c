/* Unit tests of kx-reconcile's workload controllers (replicaset,
 * replicationcontroller, deployment): their decide functions over worlds
 * written as JSON, with a fixed clock. */
#include <stdlib.h>

#include "../../cmd/reconcile/util.c"
#include "../../cmd/reconcile/replicaset.c"
#include "../../cmd/reconcile/deployment.c"
#include "rc_helpers.h"
#include "tap.h"

static struct rc_conf conf = {NOW, 40000, 300000};

#define RS(name, uid, replicas, extra)                                                              \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"" name           \
	"\",\"namespace\":\"default\",\"uid\":\"" uid "\",\"generation\":1},\"spec\":{\"replicas\":"  \
	#replicas ",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"      \
	"{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},\"spec\":{\"containers\":[{\"name\":\"c\","    \
	"\"image\":\"busybox\"}]}}}" extra "}"

#define POD(name, uid, owner, extra)                                                               \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":" \
	"\"default\",\"uid\":\"" uid "\",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}"                \
	owner "}" extra "}"

#define OWNED(uid) ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\"," \
	"\"name\":\"web\",\"uid\":\"" uid "\",\"controller\":true}]"

#define READY ",\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\",\"conditions\":" \
	"[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2027-01-15T07:00:00Z\"}]}"

static void test_replicaset_scale_up(void)
{
	jv w = J("{\"replicasets\":[" RS("web", "rs1", 3, "") "],\"pods\":[]}");
	jv acts = rc_replicaset_decide(w, &conf), a;

	is_int(count(acts, "create", "Pod"), 3, "replicas 3, no pods: three creates");
	a = find(acts, "create", "Pod", 0);
	is_str(S(a, "object.metadata.generateName"), "web-", "pods are named by generateName");
	is_str(S(a, "object.metadata.labels.tier"), "fe", "with the template's labels");
	is_str(S(a, "object.metadata.ownerReferences.0.uid"), "rs1", "owned by the ReplicaSet");
	ok(kx_jv_bool(a, "object.metadata.ownerReferences.0.controller", 0), "as its controller");
	is_str(S(a, "object.spec.containers.0.image"), "busybox", "with the template's spec");
	is_str(S(a, "event.reason"), "SuccessfulCreate", "and an Event");
	is_str(S(a, "event.involvedObject.name"), "web", "about the ReplicaSet");
	jv_free(a);
	a = find(acts, "status", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.status.replicas", -1), 3, "status counts the pods being created");
	is_int(kx_jv_int(a, "object.status.fullyLabeledReplicas", -1), 3, "fullyLabeledReplicas");
	is_int(kx_jv_int(a, "object.status.readyReplicas", 0), 0, "none ready yet");
	is_int(kx_jv_int(a, "object.status.observedGeneration", -1), 1, "observedGeneration");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

static void test_replicaset_scale_down_order(void)
{
	jv w = J("{\"replicasets\":[" RS("web", "rs1", 1, "") "],\"pods\":["
		 POD("ready", "p1", OWNED("rs1"), READY) ","
		 POD("unscheduled", "p2", OWNED("rs1"), ",\"status\":{\"phase\":\"Pending\"}") ","
		 POD("notready", "p3", OWNED("rs1"), ",\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}") ","
		 POD("failed", "p4", OWNED("rs1"), ",\"status\":{\"phase\":\"Failed\"}") "]}");
	jv acts = rc_replicaset_decide(w, &conf), a;

	is_int(count(acts, "delete", "Pod"), 2, "three active pods, one wanted: two deletes (failed pods do not count)");
	a = find(acts, "delete", "Pod", 0);
	is_str(S(a, "name"), "unscheduled", "the unscheduled pod goes first");
	jv_free(a);
	a = find(acts, "delete", "Pod", 1);
	is_str(S(a, "name"), "notready", "then the one not ready");
	jv_free(a);
	a = find(acts, "status", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.status.replicas", -1), 1, "status: one replica left");
	is_int(kx_jv_int(a, "object.status.readyReplicas", -1), 1, "and it is ready");
	is_int(kx_jv_int(a, "object.status.availableReplicas", -1), 1, "and available");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

static void test_replicaset_adopt_release(void)
{
	jv w = J("{\"replicasets\":[" RS("web", "rs1", 2, "") "],\"pods\":["
		 POD("orphan", "p1", "", READY) ","
		 "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"stray\",\"namespace\":\"default\",\"uid\":\"p2\","
		 "\"labels\":{\"app\":\"other\"}" OWNED("rs1") "}},"
		 "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"elsewhere\",\"namespace\":\"prod\",\"uid\":\"p3\","
		 "\"labels\":{\"app\":\"web\"}}}]}");
	jv acts = rc_replicaset_decide(w, &conf), a;

	is_int(count(acts, "update", "Pod"), 2, "one adoption and one release");
	a = find(acts, "update", "Pod", 0);
	is_str(S(a, "name"), "stray", "the pod that stopped matching is released");
	ok(jv_get_kind(kx_jv_get(jv_copy(a), "object.metadata.ownerReferences")) == JV_KIND_NULL,
	   "its ownerReference removed");
	jv_free(a);
	a = find(acts, "update", "Pod", 1);
	is_str(S(a, "name"), "orphan", "the matching orphan is adopted");
	is_str(S(a, "object.metadata.ownerReferences.0.uid"), "rs1", "with a controller reference");
	jv_free(a);
	is_int(count(acts, "create", "Pod"), 1, "the adopted pod counts: one more to create");
	jv_free(acts);
	jv_free(w);
}

static void test_replicaset_idempotent(void)
{
	jv w = J("{\"replicasets\":[" RS("web", "rs1", 2,
					",\"status\":{\"replicas\":2,\"fullyLabeledReplicas\":2,\"readyReplicas\":2,"
					"\"availableReplicas\":2,\"observedGeneration\":1}") "],\"pods\":["
		 POD("a", "p1", OWNED("rs1"), READY) "," POD("b", "p2", OWNED("rs1"), READY) "]}");
	jv acts = rc_replicaset_decide(w, &conf);

	is_int(jv_array_length(jv_copy(acts)), 0, "a settled ReplicaSet: no actions");
	jv_free(acts);
	jv_free(w);

	/* minReadySeconds: ready for less than that is not available */
	w = J("{\"replicasets\":[" RS("web", "rs1", 1, "") "],\"pods\":[" POD("a", "p1", OWNED("rs1"),
		",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2027-01-15T07:59:55Z\"}]}") "]}");
	w = set0(w, "replicasets", "spec.minReadySeconds", jv_number(10));
	acts = rc_replicaset_decide(w, &conf);
	jv a = find(acts, "status", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.status.readyReplicas", -1), 1, "ready for 5s: ready");
	is_int(kx_jv_int(a, "object.status.availableReplicas", 0), 0, "but with minReadySeconds 10 not available");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* a ReplicaSet being deleted is left to the garbage collector */
	w = J("{\"replicasets\":[" RS("web", "rs1", 3, "") "]}");
	w = set0(w, "replicasets", "metadata.deletionTimestamp", jv_string("2027-01-15T07:00:00Z"));
	acts = rc_replicaset_decide(w, &conf);
	is_int(jv_array_length(jv_copy(acts)), 0, "a ReplicaSet being deleted makes no pods");
	jv_free(acts);
	jv_free(w);
}

static void test_replicationcontroller(void)
{
	jv w = J("{\"replicationcontrollers\":[{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\","
		 "\"metadata\":{\"name\":\"old\",\"namespace\":\"default\",\"uid\":\"rc1\"},\"spec\":{\"replicas\":2,"
		 "\"template\":{\"metadata\":{\"labels\":{\"app\":\"old\"}},\"spec\":{\"containers\":[]}}}}],"
		 "\"pods\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\",\"namespace\":\"default\",\"uid\":\"p\","
		 "\"labels\":{\"app\":\"old\"}}}]}");
	jv acts = rc_replicationcontroller_decide(w, &conf), a;

	is_int(count(acts, "update", "Pod"), 1, "RC without a selector selects by its template's labels: adopts");
	is_int(count(acts, "create", "Pod"), 1, "and creates the second");
	a = find(acts, "create", "Pod", 0);
	is_str(S(a, "object.metadata.ownerReferences.0.kind"), "ReplicationController", "owned by the RC");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

/* ---- Deployments ---- */

#define DEP(replicas, image, extra)                                                                 \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","          \
	"\"namespace\":\"default\",\"uid\":\"d1\",\"generation\":2},\"spec\":{\"replicas\":" #replicas \
	",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":"    \
	"{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"" image "\"}]}}"     \
	extra "}}"

static jv tmpl_of(const char *image)
{
	jv t = J("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[]}}");
	jv c = J("{\"name\":\"c\"}");
	c = jv_object_set(c, jv_string("image"), jv_string(image));
	return kx_jv_set(t, "spec.containers", JV_ARRAY(c));
}

/* An owned ReplicaSet of deployment d1 for image, with spec/available. */
static jv owned_rs(const char *image, const char *uid, int rev, int spec, int avail, const char *created)
{
	char h[16];
	jv t = tmpl_of(image);
	rc_template_hash(t, 0, h, sizeof h);
	jv rs = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"namespace\":\"default\","
		  "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\","
		  "\"uid\":\"d1\",\"controller\":true}]}}");
	rs = kx_jv_set(rs, "metadata.name", jv_string_fmt("web-%s", h));
	rs = kx_jv_set(rs, "metadata.uid", jv_string(uid));
	rs = kx_jv_set(rs, "metadata.creationTimestamp", jv_string(created));
	rs = rc_meta_set(rs, "annotations", A_REV, jv_string_fmt("%d", rev));
	rs = kx_jv_set(rs, "spec.replicas", jv_number(spec));
	rs = kx_jv_set(rs, "spec.template", kx_jv_set(t, "metadata.labels.pod-template-hash", jv_string(h)));
	rs = kx_jv_set(rs, "status.replicas", jv_number(spec));
	rs = kx_jv_set(rs, "status.readyReplicas", jv_number(avail));
	rs = kx_jv_set(rs, "status.availableReplicas", jv_number(avail));
	return rs;
}

static void test_template_hash(void)
{
	char a[16], b[16], c[16], d[16];
	jv t1 = tmpl_of("nginx:1"), t2 = tmpl_of("nginx:2");
	jv t3 = kx_jv_set(tmpl_of("nginx:1"), "metadata.labels.pod-template-hash", jv_string("zzz"));

	rc_template_hash(t1, 0, a, sizeof a);
	rc_template_hash(t2, 0, b, sizeof b);
	rc_template_hash(t3, 0, c, sizeof c);
	rc_template_hash(t1, 1, d, sizeof d);
	ok(strlen(a) >= 6 && strspn(a, "bcdfghjklmnpqrstvwxz2456789") == strlen(a), "hash uses the safe alphabet: %s", a);
	ok(strcmp(a, b) != 0, "another template, another hash");
	is_str(c, a, "the pod-template-hash label does not change the hash");
	ok(strcmp(a, d) != 0, "a collisionCount changes the hash");
	jv_free(t1);
	jv_free(t2);
	jv_free(t3);
}

static void test_deployment_new(void)
{
	char h[16];
	jv t = tmpl_of("nginx:1");
	jv w = J("{\"deployments\":[" DEP(3, "nginx:1", "") "],\"replicasets\":[]}");
	jv acts = rc_deployment_decide(w, &conf), a;

	rc_template_hash(t, 0, h, sizeof h);
	jv_free(t);
	is_int(count(acts, "create", "ReplicaSet"), 1, "a new Deployment makes one ReplicaSet");
	a = find(acts, "create", "ReplicaSet", 0);
	char want[64];
	snprintf(want, sizeof want, "web-%s", h);
	is_str(S(a, "name"), want, "named after the pod-template-hash");
	is_str(S(a, "object.metadata.labels.pod-template-hash"), h, "labelled with it");
	is_str(S(a, "object.spec.selector.matchLabels.pod-template-hash"), h, "selecting by it");
	is_str(S(a, "object.spec.template.metadata.labels.pod-template-hash"), h, "its pods carry it");
	jv ann = kx_jv_get(jv_copy(a), "object.metadata.annotations");
	jv rev = jv_object_get(ann, jv_string(A_REV));
	is_str(jv_get_kind(rev) == JV_KIND_STRING ? jv_string_value(rev) : "", "1", "revision 1");
	jv_free(rev);
	is_int(kx_jv_int(a, "object.spec.replicas", -1), 3, "scaled to replicas at once (nothing old to replace)");
	is_str(S(a, "object.metadata.ownerReferences.0.uid"), "d1", "owned by the Deployment");
	is_str(S(a, "event.reason"), "ScalingReplicaSet", "with an Event");
	jv_free(a);
	a = find(acts, "status", "Deployment", 0);
	is_int(kx_jv_int(a, "object.status.observedGeneration", -1), 2, "status: observedGeneration");
	is_int(kx_jv_int(a, "object.status.unavailableReplicas", -1), 3, "status: 3 unavailable");
	jv_free(a);
	is_int(count(acts, "update", "Deployment"), 1, "the Deployment gets the revision annotation");
	jv_free(acts);
	jv_free(w);
}

/* Apply the deployment controller's ReplicaSet actions to world's
 * replicasets, and let every ReplicaSet's pods become available only on
 * the step after it was scaled up (scale-downs take effect at once). */
static jv step(jv w, jv acts, int *changed)
{
	jv sets = rc_items(w, "replicasets"), out = jv_array();
	*changed = 0;
	jv_array_foreach(acts, i, a) {
		char v[16], k[32];
		kx_jv_str(a, "verb", v, sizeof v, "");
		kx_jv_str(a, "kind", k, sizeof k, "");
		if (!strcmp(k, "ReplicaSet") && (!strcmp(v, "create") || !strcmp(v, "update"))) {
			jv o = kx_jv_get(jv_copy(a), "object");
			int found = 0;
			*changed = 1;
			if (!strcmp(v, "create")) {
				o = kx_jv_set(o, "metadata.uid", jv_string(S(o, "metadata.name")));
				o = kx_jv_set(o, "metadata.creationTimestamp", jv_string("2027-01-15T07:59:00Z"));
				o = kx_jv_set(o, "status", J("{\"replicas\":0,\"availableReplicas\":0}"));
			}
			jv ns = jv_array();
			jv_array_foreach(sets, j, s) {
				if (!strcmp(S(s, "metadata.name"), S(o, "metadata.name"))) {
					found = 1;
					jv_free(s);
					ns = jv_array_append(ns, jv_copy(o));
				} else
					ns = jv_array_append(ns, s);
			}
			if (!found)
				ns = jv_array_append(ns, jv_copy(o));
			jv_free(sets);
			sets = ns;
			jv_free(o);
		}
		jv_free(a);
	}
	/* pods: available up to the old spec (ready), scale-down immediate */
	jv_array_foreach(sets, i, s) {
		int64_t spec = kx_jv_int(s, "spec.replicas", 0), avail = kx_jv_int(s, "status.availableReplicas", 0);
		int64_t prev = kx_jv_int(s, "status.replicas", 0);
		int64_t nav = avail < prev ? prev : avail; /* last step's pods became ready */
		if (nav > spec)
			nav = spec;
		s = kx_jv_set(s, "status.availableReplicas", jv_number((double)nav));
		s = kx_jv_set(s, "status.readyReplicas", jv_number((double)nav));
		s = kx_jv_set(s, "status.replicas", jv_number((double)spec));
		out = jv_array_append(out, s);
	}
	jv_free(sets);
	return jv_object_set(w, jv_string("replicasets"), out);
}

static void test_deployment_rolling(void)
{
	jv w = J("{\"deployments\":[" DEP(4, "nginx:2",
		",\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":\"25%\"}}") "]}");
	w = jv_object_set(w, jv_string("replicasets"), JV_ARRAY(owned_rs("nginx:1", "old", 1, 4, 4, "2027-01-15T07:00:00Z")));
	int steps = 0, changed = 1, bad_total = 0, bad_avail = 0;
	char newname[64];

	while (changed && steps < 30) {
		jv acts = rc_deployment_decide(w, &conf);
		if (steps == 0) {
			jv a = find(acts, "create", "ReplicaSet", 0);
			is_int(kx_jv_int(a, "object.spec.replicas", -1), 1, "rolling: the new ReplicaSet starts at maxSurge (1)");
			jv ann = kx_jv_get(jv_copy(a), "object.metadata.annotations");
			jv rev = jv_object_get(ann, jv_string(A_REV));
			is_str(jv_get_kind(rev) == JV_KIND_STRING ? jv_string_value(rev) : "", "2", "with the next revision");
			jv_free(rev);
			snprintf(newname, sizeof newname, "%s", S(a, "name"));
			jv_free(a);
			is_int(count(acts, "update", "ReplicaSet"), 0, "the old one is not touched in the same step");
		}
		w = step(w, acts, &changed);
		jv_free(acts);
		int64_t total = 0, avail = 0;
		jv sets = rc_items(w, "replicasets");
		jv_array_foreach(sets, i, s) {
			total += kx_jv_int(s, "spec.replicas", 0);
			avail += kx_jv_int(s, "status.availableReplicas", 0);
			jv_free(s);
		}
		jv_free(sets);
		if (total > 5)
			bad_total++;
		if (avail < 3)
			bad_avail++;
		steps++;
	}
	ok(steps < 30, "the rollout finishes (%d steps)", steps);
	is_int(bad_total, 0, "never more than replicas + maxSurge pods");
	is_int(bad_avail, 0, "never fewer than replicas - maxUnavailable available");
	jv sets = rc_items(w, "replicasets");
	jv_array_foreach(sets, i, s) {
		if (!strcmp(S(s, "metadata.name"), newname))
			is_int(kx_jv_int(s, "spec.replicas", -1), 4, "the new ReplicaSet ends with all replicas");
		else
			is_int(kx_jv_int(s, "spec.replicas", -1), 0, "the old one with none");
		jv_free(s);
	}
	jv_free(sets);
	/* and the status says it is complete */
	jv acts = rc_deployment_decide(w, &conf);
	jv a = find(acts, "status", "Deployment", 0);
	jv cond = jv_null();
	jv conds = kx_jv_get(jv_copy(a), "object.status.conditions");
	jv_array_foreach(conds, i, c) {
		if (!strcmp(S(c, "type"), "Progressing")) {
			jv_free(cond);
			cond = c;
		} else
			jv_free(c);
	}
	jv_free(conds);
	is_str(S(cond, "reason"), "NewReplicaSetAvailable", "Progressing: NewReplicaSetAvailable");
	jv_free(cond);
	is_int(kx_jv_int(a, "object.status.updatedReplicas", -1), 4, "updatedReplicas 4");
	is_int(kx_jv_int(a, "object.status.availableReplicas", -1), 4, "availableReplicas 4");
	/* apply the status: the next decision is empty */
	jv d = kx_jv_get(jv_copy(a), "object");
	w = kx_jv_set(w, "deployments", JV_ARRAY(d));
	jv_free(a);
	jv_free(acts);
	acts = rc_deployment_decide(w, &conf);
	is_int(count(acts, NULL, NULL) - count(acts, "update", "Deployment"), 0, "then nothing more to do");
	jv_free(acts);
	jv_free(w);
}

static void test_deployment_recreate(void)
{
	jv w = J("{\"deployments\":[" DEP(3, "nginx:2", ",\"strategy\":{\"type\":\"Recreate\"}") "]}");
	w = jv_object_set(w, jv_string("replicasets"), JV_ARRAY(owned_rs("nginx:1", "old", 1, 3, 3, "2027-01-15T07:00:00Z")));
	jv acts = rc_deployment_decide(w, &conf), a;

	a = find(acts, "create", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.spec.replicas", -1), 0, "recreate: the new ReplicaSet starts empty");
	jv_free(a);
	a = find(acts, "update", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.spec.replicas", -1), 0, "the old one goes to zero");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* old pods gone: now the new one scales up */
	w = J("{\"deployments\":[" DEP(3, "nginx:2", ",\"strategy\":{\"type\":\"Recreate\"}") "]}");
	w = jv_object_set(w, jv_string("replicasets"),
			  JV_ARRAY(owned_rs("nginx:1", "old", 1, 0, 0, "2027-01-15T07:00:00Z"),
				   owned_rs("nginx:2", "new", 2, 0, 0, "2027-01-15T07:30:00Z")));
	acts = rc_deployment_decide(w, &conf);
	a = find(acts, "update", "ReplicaSet", 0);
	is_int(kx_jv_int(a, "object.spec.replicas", -1), 3, "then the new one scales to replicas");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

static void test_deployment_rollback_paused_history(void)
{
	/* the template went back to nginx:1, whose ReplicaSet is revision 1 */
	jv w = J("{\"deployments\":[" DEP(2, "nginx:1", "") "]}");
	w = jv_object_set(w, jv_string("replicasets"),
			  JV_ARRAY(owned_rs("nginx:1", "a", 1, 0, 0, "2027-01-15T07:00:00Z"),
				   owned_rs("nginx:2", "b", 2, 2, 2, "2027-01-15T07:30:00Z")));
	jv acts = rc_deployment_decide(w, &conf), a;
	is_int(count(acts, "create", "ReplicaSet"), 0, "rollback: no new ReplicaSet");
	a = find(acts, "update", "ReplicaSet", 0);
	is_str(S(a, "object.metadata.uid"), "a", "the old ReplicaSet becomes the new one");
	jv rev = jv_object_get(kx_jv_get(jv_copy(a), "object.metadata.annotations"), jv_string(A_REV));
	is_str(jv_get_kind(rev) == JV_KIND_STRING ? jv_string_value(rev) : "", "3", "with revision 3");
	jv_free(rev);
	is_int(kx_jv_int(a, "object.spec.replicas", -1), 1, "and scales up within maxSurge");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* paused: nothing rolls */
	w = J("{\"deployments\":[" DEP(2, "nginx:3", ",\"paused\":true") "]}");
	w = jv_object_set(w, jv_string("replicasets"), JV_ARRAY(owned_rs("nginx:2", "b", 2, 2, 2, "2027-01-15T07:30:00Z")));
	acts = rc_deployment_decide(w, &conf);
	is_int(count(acts, NULL, "ReplicaSet"), 0, "paused: no ReplicaSet changes");
	a = find(acts, "status", "Deployment", 0);
	ok(strstr(S(a, "object.status.conditions"), "") != NULL, "status written");
	jv conds = kx_jv_get(jv_copy(a), "object.status.conditions");
	int paused = 0;
	jv_array_foreach(conds, i, c) {
		paused |= !strcmp(S(c, "reason"), "DeploymentPaused");
		jv_free(c);
	}
	jv_free(conds);
	ok(paused, "Progressing says DeploymentPaused");
	jv_free(a);
	jv_free(acts);
	jv_free(w);

	/* revisionHistoryLimit 1: the oldest empty ReplicaSets go */
	w = J("{\"deployments\":[" DEP(1, "nginx:4", ",\"revisionHistoryLimit\":1") "]}");
	w = jv_object_set(w, jv_string("replicasets"),
			  JV_ARRAY(owned_rs("nginx:1", "r1", 1, 0, 0, "2027-01-15T07:00:00Z"),
				   owned_rs("nginx:2", "r2", 2, 0, 0, "2027-01-15T07:10:00Z"),
				   owned_rs("nginx:3", "r3", 3, 0, 0, "2027-01-15T07:20:00Z"),
				   owned_rs("nginx:4", "r4", 4, 1, 1, "2027-01-15T07:30:00Z")));
	acts = rc_deployment_decide(w, &conf);
	is_int(count(acts, "delete", "ReplicaSet"), 2, "three old, limit one: two deleted");
	a = find(acts, "delete", "ReplicaSet", 0);
	is_str(S(a, "object.metadata.uid"), "r1", "the oldest revision first");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

static void test_deployment_deadline(void)
{
	jv w = J("{\"deployments\":[" DEP(2, "nginx:2", ",\"progressDeadlineSeconds\":600") "]}");
	w = set0(w, "deployments", "status", J("{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\","
		"\"reason\":\"ReplicaSetUpdated\",\"message\":\"x\",\"lastUpdateTime\":\"2027-01-15T07:48:00Z\","
		"\"lastTransitionTime\":\"2027-01-15T07:48:00Z\"}]}"));
	/* stuck: new RS at 2 but nothing available, old at 0 */
	w = jv_object_set(w, jv_string("replicasets"), JV_ARRAY(owned_rs("nginx:2", "b", 1, 2, 0, "2027-01-15T07:30:00Z")));
	w = set0(w, "deployments", "metadata.annotations", J("{\"deployment.kubernetes.io/revision\":\"1\"}"));
	jv acts = rc_deployment_decide(w, &conf), a = find(acts, "status", "Deployment", 0);
	jv conds = kx_jv_get(jv_copy(a), "object.status.conditions");
	int exceeded = 0, unavailable = 0;
	jv_array_foreach(conds, i, c) {
		exceeded |= !strcmp(S(c, "reason"), "ProgressDeadlineExceeded") && !strcmp(S(c, "status"), "False");
		unavailable |= !strcmp(S(c, "type"), "Available") && !strcmp(S(c, "status"), "False");
		jv_free(c);
	}
	jv_free(conds);
	ok(exceeded, "no progress for 12 minutes, deadline 10: ProgressDeadlineExceeded");
	ok(unavailable, "and Available is False");
	jv_free(a);
	jv_free(acts);
	jv_free(w);
}

int main(void)
{
	test_replicaset_scale_up();
	test_replicaset_scale_down_order();
	test_replicaset_adopt_release();
	test_replicaset_idempotent();
	test_replicationcontroller();
	test_template_hash();
	test_deployment_new();
	test_deployment_rolling();
	test_deployment_recreate();
	test_deployment_rollback_paused_history();
	test_deployment_deadline();
	return done_testing();
}
