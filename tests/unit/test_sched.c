/* Unit tests of kx-schedule-once's decision: every filter and score on
 * small clusters, with the node each pod should get. The scheduler's
 * sources are compiled in (its model and decision are pure). */
#include <stdlib.h>

#include "../../cmd/schedule-once/model.c"
#include "../../cmd/schedule-once/decide.c"
#include "../../cmd/schedule-once/act.c"
#include "tap.h"

/* JSON written with single quotes, for readability. */
static jv J(const char *s)
{
	char *t = strdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	jv v = jv_parse(t);
	if (!jv_is_valid(v)) {
		jv m = jv_invalid_get_msg(jv_copy(v));
		printf("# bad test JSON: %s\n# %s\n", jv_string_value(m), t);
		jv_free(m);
	}
	free(t);
	return v;
}

/* A node with cpu, memory and 110 pods allocatable, plus extra fields
 * merged into the object ("" for none). */
static jv node(const char *name, const char *cpu, const char *mem, const char *extra)
{
	jv n = J("{'kind':'Node','metadata':{'labels':{}},'status':{'allocatable':{'pods':'110'}}}");
	n = kx_jv_set(n, "metadata.name", jv_string(name));
	n = jv_object_set(n, jv_string("metadata"),
			  jv_object_set(jv_object_get(jv_copy(n), jv_string("metadata")),
					jv_string("labels"),
					jv_object_set(jv_object(), jv_string("kubernetes.io/hostname"),
						      jv_string(name))));
	n = kx_jv_set(n, "status.allocatable.cpu", jv_string(cpu));
	n = kx_jv_set(n, "status.allocatable.memory", jv_string(mem));
	if (extra && *extra) {
		jv x = J(extra);
		/* shallow-deep merge: metadata.labels, spec, status */
		jv_object_foreach(x, k, v)
		{
			jv cur = jv_object_get(jv_copy(n), jv_copy(k));
			if (jv_get_kind(cur) == JV_KIND_OBJECT && jv_get_kind(v) == JV_KIND_OBJECT)
				v = jv_object_merge_recursive(cur, v);
			else
				jv_free(cur);
			n = jv_object_set(n, k, v);
		}
		jv_free(x);
	}
	return n;
}

/* kx_jv_set does not index arrays: set the first container's requests. */
static jv kx_jv_set_ctr(jv p, const char *res, const char *q)
{
	jv ctrs = kx_jv_get(jv_copy(p), "spec.containers");
	jv c0 = jv_array_get(jv_copy(ctrs), 0);
	c0 = kx_jv_set(c0, res, jv_string(q));
	ctrs = jv_array_set(ctrs, 0, c0);
	return kx_jv_set(p, "spec.containers", ctrs);
}

/* A pending pod in namespace default requesting cpu (NULL: nothing). */
static jv pod(const char *name, const char *cpu, const char *extra)
{
	jv p = J("{'kind':'Pod','metadata':{'namespace':'default'},'spec':{'containers':[{'name':'c','image':'busybox'}]}}");
	p = kx_jv_set(p, "metadata.name", jv_string(name));
	if (cpu)
		p = kx_jv_set_ctr(p, "resources.requests.cpu", cpu);
	if (extra && *extra) {
		jv x = J(extra);
		jv_object_foreach(x, k, v)
		{
			jv cur = jv_object_get(jv_copy(p), jv_copy(k));
			if (jv_get_kind(cur) == JV_KIND_OBJECT && jv_get_kind(v) == JV_KIND_OBJECT)
				v = jv_object_merge_recursive(cur, v);
			else
				jv_free(cur);
			p = jv_object_set(p, k, v);
		}
		jv_free(x);
	}
	return p;
}

/* Run a pass over objs (consumed) with cfg (NULL: defaults); print the
 * decisions into out as "pod=node" words, for one comparison per test. */
static char out[4096], reason[1024];
static const char *run_cfg(jv objs, const sched_config *cfg)
{
	sched_config def;
	kx_err e = KX_ERR_INIT;
	size_t n;

	if (!cfg) {
		sched_config_default(&def);
		cfg = &def;
	}
	sched_cluster *c = sched_cluster_new(objs, cfg, &e);
	out[0] = reason[0] = 0;
	if (!c) {
		snprintf(out, sizeof out, "error: %s", e.msg);
		return out;
	}
	sched_decision *d = sched_decide(c, &n, NULL);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, sizeof out - l, "%s%s=%s", l ? " " : "", c->pods[d[i].pod].name,
			 d[i].node >= 0 ? c->nodes[d[i].node].name : "-");
		if (d[i].node < 0 && !reason[0])
			snprintf(reason, sizeof reason, "%s", d[i].reason);
	}
	sched_decisions_free(d, n);
	sched_cluster_free(c);
	return out;
}

static const char *run(jv objs)
{
	return run_cfg(objs, NULL);
}

static jv list(int n, ...)
{
	va_list ap;
	jv a = jv_array();

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		a = jv_array_append(a, va_arg(ap, jv));
	va_end(ap);
	return a;
}

static void like_reason(const char *want);

/* ==== filters ============================================================ */

static void test_fit(void)
{
	is_str(run(list(3, node("n1", "1", "1Gi", ""), node("n2", "4", "1Gi", ""),
			pod("p", "2", ""))),
	       "p=n2", "NodeResourcesFit: cpu");
	is_str(reason, "", "no reason when placed");
	is_str(run(list(2, node("n1", "1", "1Gi", ""), pod("p", "2", ""))), "p=-",
	       "a pod bigger than every node is not placed");
	is_str(reason, "0/1 nodes are available: 1 Insufficient cpu.", "with kube-scheduler's message");

	jv m = kx_jv_set_ctr(pod("p", NULL, ""), "resources.requests.memory", "2Gi");
	is_str(run(list(3, node("n1", "4", "1Gi", ""), node("n2", "4", "4Gi", ""), m)), "p=n2",
	       "NodeResourcesFit: memory");

	jv gpu = pod("p", NULL, "{'spec':{'containers':[{'name':'c','resources':{'limits':{'example.com/gpu':'1'}}}]}}");
	is_str(run(list(3, node("n1", "4", "4Gi", ""),
			node("n2", "4", "4Gi", "{'status':{'allocatable':{'example.com/gpu':'2'}}}"),
			gpu)),
	       "p=n2", "extended resources: a limit stands in for the request");
	gpu = pod("p", NULL, "{'spec':{'containers':[{'name':'c','resources':{'requests':{'example.com/gpu':'1'}}}]}}");
	run(list(2, node("n1", "4", "4Gi", ""), gpu));
	is_str(reason, "0/1 nodes are available: 1 Insufficient example.com/gpu.",
	       "missing extended resource is insufficient");

	/* init containers: the largest init container counts if larger than the sum */
	jv ini = pod("p", "1", "{'spec':{'initContainers':[{'name':'i','resources':{'requests':{'cpu':'3'}}}]}}");
	is_str(run(list(3, node("n1", "2", "4Gi", ""), node("n2", "3", "4Gi", ""), ini)), "p=n2",
	       "init container's larger request counts");
	ini = pod("p", "1", "{'spec':{'initContainers':[{'name':'i','resources':{'requests':{'cpu':'500m'}}}]}}");
	is_str(run(list(2, node("n1", "1", "4Gi", ""), ini)), "p=n1",
	       "smaller init container does not add to the sum");
	ini = pod("p", "1", "{'spec':{'initContainers':[{'name':'s','restartPolicy':'Always','resources':{'requests':{'cpu':'1'}}}]}}");
	is_str(run(list(3, node("n1", "1500m", "4Gi", ""), node("n2", "2", "4Gi", ""), ini)),
	       "p=n2", "a sidecar init container runs beside the containers");
	jv ov = pod("p", "1", "{'spec':{'overhead':{'cpu':'600m'}}}");
	is_str(run(list(3, node("n1", "1500m", "4Gi", ""), node("n2", "2", "4Gi", ""), ov)), "p=n2",
	       "pod overhead counts");

	/* pods already bound use the node; finished ones do not */
	jv bound = pod("old", "3", "{'spec':{'nodeName':'n2'}}");
	jv done = pod("gone", "3", "{'spec':{'nodeName':'n1'},'status':{'phase':'Succeeded'}}");
	is_str(run(list(5, node("n1", "4", "4Gi", ""), node("n2", "8", "4Gi", ""), bound, done,
			pod("p", "2", ""))),
	       "p=n1", "bound pods count against their node, finished ones do not");

	jv full = node("n1", "4", "4Gi", "{'status':{'allocatable':{'pods':'1'}}}");
	run(list(3, full, pod("a", NULL, "{'spec':{'nodeName':'n1'}}"), pod("p", NULL, "")));
	is_str(reason, "0/1 nodes are available: 1 Too many pods.", "pods count: Too many pods");

	/* placements in one pass count against each other */
	is_str(run(list(5, node("n1", "2", "4Gi", ""), node("n2", "2", "4Gi", ""),
			pod("a", "1500m", "{'metadata':{'creationTimestamp':'2026-01-01T00:00:01Z'}}"),
			pod("b", "1500m", "{'metadata':{'creationTimestamp':'2026-01-01T00:00:02Z'}}"),
			pod("c", "1500m", "{'metadata':{'creationTimestamp':'2026-01-01T00:00:03Z'}}"))),
	       "a=n1 b=n2 c=-", "pods placed in one pass count against each other");
	is_str(reason, "0/2 nodes are available: 2 Insufficient cpu.", "and the third is told why");
}

static void test_unschedulable_and_taints(void)
{
	jv cordoned = node("n1", "8", "8Gi", "{'spec':{'unschedulable':true}}");
	is_str(run(list(3, cordoned, node("n2", "1", "1Gi", ""), pod("p", NULL, ""))), "p=n2",
	       "NodeUnschedulable: cordoned nodes are skipped");
	run(list(2, node("n1", "8", "8Gi", "{'spec':{'unschedulable':true}}"), pod("p", NULL, "")));
	is_str(reason, "0/1 nodes are available: 1 node(s) were unschedulable.", "and named");
	is_str(run(list(2, node("n1", "8", "8Gi", "{'spec':{'unschedulable':true}}"),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists','effect':'NoSchedule'}]}}"))),
	       "p=n1", "unless the pod tolerates the unschedulable taint");

	const char *gpu = "{'spec':{'taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]}}";
	is_str(run(list(3, node("n1", "8", "8Gi", gpu), node("n2", "1", "1Gi", ""), pod("p", NULL, ""))),
	       "p=n2", "TaintToleration: NoSchedule taint keeps pods off");
	is_str(run(list(3, node("n1", "8", "8Gi", gpu), node("n2", "1", "1Gi", ""),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'dedicated','operator':'Equal','value':'gpu','effect':'NoSchedule'}]}}"))),
	       "p=n1", "an Equal toleration lets it on");
	is_str(run(list(2, node("n1", "8", "8Gi", gpu),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'dedicated','value':'cpu'}]}}"))),
	       "p=-", "a toleration with another value does not");
	is_str(run(list(2, node("n1", "8", "8Gi", gpu),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'dedicated','operator':'Exists'}]}}"))),
	       "p=n1", "Exists ignores the value and, without effect, matches all effects");
	is_str(run(list(2, node("n1", "8", "8Gi", gpu),
			pod("p", NULL, "{'spec':{'tolerations':[{'operator':'Exists'}]}}"))),
	       "p=n1", "an empty key with Exists tolerates everything");
	is_str(run(list(2, node("n1", "8", "8Gi", gpu),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'dedicated','operator':'Exists','effect':'NoExecute'}]}}"))),
	       "p=-", "a toleration for another effect does not match");
	is_str(run(list(2, node("n1", "8", "8Gi", "{'spec':{'taints':[{'key':'k','effect':'NoExecute'}]}}"),
			pod("p", NULL, ""))),
	       "p=-", "NoExecute taints filter too");
	is_str(run(list(2, node("n1", "8", "8Gi", "{'spec':{'taints':[{'key':'k','effect':'PreferNoSchedule'}]}}"),
			pod("p", NULL, ""))),
	       "p=n1", "PreferNoSchedule does not filter");

	/* not Ready nodes are tainted not-ready */
	jv nr = node("n1", "8", "8Gi", "{'status':{'conditions':[{'type':'Ready','status':'False'}]}}");
	run(list(2, nr, pod("p", NULL, "")));
	is_str(reason, "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.",
	       "a node that is not Ready is tainted not-ready");
	jv rd = node("n2", "1", "1Gi", "{'status':{'conditions':[{'type':'Ready','status':'True'}]}}");
	nr = node("n1", "8", "8Gi", "{'status':{'conditions':[{'type':'Ready','status':'Unknown'}]}}");
	is_str(run(list(3, nr, rd, pod("p", NULL, ""))), "p=n2", "Ready nodes take pods, unknown ones do not");

	/* the example message, counts sorted as kube-scheduler sorts */
	jv a = list(6, node("n1", "1", "1Gi", ""), node("n2", "1", "1Gi", ""), node("n3", "1", "1Gi", ""),
		    node("n4", "8", "8Gi", gpu), node("n5", "8", "8Gi", gpu), pod("p", "2", ""));
	run(a);
	is_str(reason,
	       "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.",
	       "FitError message: histogram of reasons, sorted");
	run(list(1, pod("p", NULL, "")));
	is_str(reason, "no nodes available to schedule pods", "no nodes at all");
}

static void test_selectors_and_affinity(void)
{
	const char *ssd = "{'metadata':{'labels':{'disk':'ssd','cores':'16'}}}";
	const char *hdd = "{'metadata':{'labels':{'disk':'hdd','cores':'4'}}}";
	is_str(run(list(3, node("n1", "8", "8Gi", hdd), node("n2", "1", "1Gi", ssd),
			pod("p", NULL, "{'spec':{'nodeSelector':{'disk':'ssd'}}}"))),
	       "p=n2", "NodeSelector");
	run(list(2, node("n1", "8", "8Gi", hdd), pod("p", NULL, "{'spec':{'nodeSelector':{'disk':'ssd'}}}")));
	is_str(reason, "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
	       "NodeSelector mismatch message");

	struct {
		const char *expr, *want, *name;
	} cases[] = {
		{"{'key':'disk','operator':'In','values':['ssd','nvme']}", "p=n2", "In"},
		{"{'key':'disk','operator':'NotIn','values':['ssd']}", "p=n1", "NotIn"},
		{"{'key':'cores','operator':'Gt','values':['8']}", "p=n2", "Gt"},
		{"{'key':'cores','operator':'Lt','values':['8']}", "p=n1", "Lt"},
		{"{'key':'gpu','operator':'Exists'}", "p=n3", "Exists"},
		{"{'key':'disk','operator':'DoesNotExist'}", "p=n3", "DoesNotExist"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[512];
		snprintf(buf, sizeof buf,
			 "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
			 "{'nodeSelectorTerms':[{'matchExpressions':[%s]}]}}}}}",
			 cases[i].expr);
		is_str(run(list(4, node("n1", "8", "8Gi", hdd), node("n2", "8", "8Gi", ssd),
				node("n3", "8", "8Gi", "{'metadata':{'labels':{'gpu':'yes'}}}"),
				pod("p", NULL, buf))),
		       cases[i].want, "required node affinity: %s", cases[i].name);
	}
	is_str(run(list(3, node("n1", "8", "8Gi", hdd), node("n2", "8", "8Gi", ssd),
			pod("p", NULL,
			    "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
			    "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'disk','operator':'In','values':['x']}]},"
			    "{'matchFields':[{'key':'metadata.name','operator':'In','values':['n1']}]}]}}}}}"))),
	       "p=n1", "terms are ORed; matchFields on metadata.name");
	is_str(run(list(2, node("n1", "8", "8Gi", ""),
			pod("p", NULL, "{'spec':{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
				       "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['x']}]}]}}}}}"))),
	       "p=-", "a malformed Gt value makes the pod invalid");
	like_reason("invalid pod: node affinity: Gt on \"cores\" needs one integer value");

	/* preferred node affinity: the heavier preference wins */
	is_str(run(list(3, node("n1", "8", "8Gi", hdd), node("n2", "8", "8Gi", ssd),
			pod("p", NULL, "{'spec':{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':["
				       "{'weight':10,'preference':{'matchExpressions':[{'key':'disk','operator':'In','values':['hdd']}]}},"
				       "{'weight':80,'preference':{'matchExpressions':[{'key':'disk','operator':'In','values':['ssd']}]}}]}}}}"))),
	       "p=n2", "preferred node affinity: the heavier preference wins");
}

static void like_reason(const char *want)
{
	ok(strstr(reason, want) != NULL, "reason says: %s", want);
	if (!strstr(reason, want))
		printf("#   reason: %s\n", reason);
}

static void test_ports_and_anti(void)
{
	const char *hp = "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080}]}]}}";
	jv old = pod("old", NULL, hp);
	old = kx_jv_set(old, "spec.nodeName", jv_string("n1"));
	is_str(run(list(4, node("n1", "8", "8Gi", ""), node("n2", "1", "1Gi", ""), old, pod("p", NULL, hp))),
	       "p=n2", "NodePorts: a used host port sends the pod elsewhere");
	jv a = pod("a", NULL, hp), b = pod("b", NULL, hp);
	run(list(3, node("n1", "8", "8Gi", ""), a, b));
	is_str(out, "a=n1 b=-", "two pods wanting one host port on one node");
	is_str(reason, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.",
	       "NodePorts message");
	const char *udp = "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'hostPort':8080,'protocol':'UDP'}]}]}}";
	run(list(3, node("n1", "8", "8Gi", ""), pod("a", NULL, hp), pod("b", NULL, udp)));
	is_str(out, "a=n1 b=n1", "the same port on another protocol is free");

	const char *anti = "{'metadata':{'labels':{'app':'web'}},'spec':{'affinity':{'podAntiAffinity':"
			   "{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLabels':"
			   "{'app':'web'}},'topologyKey':'kubernetes.io/hostname'}]}}}}";
	run(list(5, node("n1", "8", "8Gi", ""), node("n2", "8", "8Gi", ""), pod("w1", NULL, anti),
		 pod("w2", NULL, anti), pod("w3", NULL, anti)));
	ok(!strcmp(out, "w1=n1 w2=n2 w3=-") || !strcmp(out, "w1=n2 w2=n1 w3=-"),
	   "InterPodAffinity: required anti-affinity puts replicas on different nodes (%s)", out);
	is_str(reason, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.",
	       "anti-affinity message");
	jv web = pod("web", NULL, anti);
	web = kx_jv_set(web, "spec.nodeName", jv_string("n1"));
	jv plain = pod("other", NULL, "{'metadata':{'labels':{'app':'web'}}}");
	is_str(run(list(4, node("n1", "8", "8Gi", ""), node("n2", "1", "1Gi", ""), web, plain)),
	       "other=n2", "existing pods' anti-affinity keeps matching pods away");
	run(list(3, node("n1", "8", "8Gi", ""), kx_jv_set(pod("web", NULL, anti), "spec.nodeName", jv_string("n1")),
		 pod("other", NULL, "{'metadata':{'labels':{'app':'web'}}}")));
	is_str(reason, "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.",
	       "existing anti-affinity message");
	is_str(run(list(3, node("n1", "8", "8Gi", ""), kx_jv_set(pod("web", NULL, anti), "spec.nodeName", jv_string("n1")),
			pod("other", NULL, "{'metadata':{'labels':{'app':'db'}}}"))),
	       "other=n1", "pods the rule does not select are welcome");
	const char *zanti = "{'metadata':{'labels':{'app':'z'}},'spec':{'affinity':{'podAntiAffinity':"
			    "{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLabels':"
			    "{'app':'z'}},'topologyKey':'topology.kubernetes.io/zone'}]}}}}";
	const char *za = "{'metadata':{'labels':{'topology.kubernetes.io/zone':'a'}}}";
	const char *zb = "{'metadata':{'labels':{'topology.kubernetes.io/zone':'b'}}}";
	run(list(6, node("n1", "8", "8Gi", za), node("n2", "8", "8Gi", za), node("n3", "1", "1Gi", zb),
		 kx_jv_set(pod("z1", NULL, zanti), "spec.nodeName", jv_string("n1")), pod("z2", NULL, zanti),
		 pod("z3", NULL, zanti)));
	is_str(out, "z2=n3 z3=-", "anti-affinity by zone: one per zone");
}

/* ==== scores ============================================================= */

static void test_scores(void)
{
	sched_config cfg;

	/* LeastRequested: the emptier node */
	jv used = pod("used", "3", "{'spec':{'nodeName':'n1'}}");
	is_str(run(list(4, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", ""), used, pod("p", "1", ""))),
	       "p=n2", "LeastRequestedPriority prefers free cpu");

	/* Balanced: a memory-heavy pod goes where cpu is used, to balance */
	sched_config_default(&cfg);
	memset(cfg.weight, 0, sizeof cfg.weight);
	cfg.weight[S_BALANCED] = 1;
	jv cpuhog = pod("hog", "2", "{'spec':{'nodeName':'n1'}}");
	jv mem = kx_jv_set_ctr(pod("p", NULL, ""), "resources.requests.memory", "2Gi");
	is_str(run_cfg(list(4, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", ""), cpuhog, mem), &cfg),
	       "p=n1", "BalancedResourceAllocation balances cpu and memory");

	/* prefer-label */
	sched_prefer pref;
	kx_err e = KX_ERR_INIT;
	sched_config_default(&cfg);
	ok(sched_prefer_parse(&pref, "disk=ssd", &e) == 0, "parse --prefer-label disk=ssd");
	cfg.prefer = &pref;
	cfg.nprefer = 1;
	cfg.weight[S_LABEL] = 10;
	is_str(run_cfg(list(3, node("n1", "8", "8Gi", ""), node("n2", "1", "1Gi", "{'metadata':{'labels':{'disk':'ssd'}}}"),
			    pod("p", NULL, "")), &cfg),
	       "p=n2", "NodeLabelPriority: prefer a label");
	sched_prefer_free(&pref);
	ok(sched_prefer_parse(&pref, "!spot", &e) == 0 && pref.negate && !pref.value, "parse !spot");
	cfg.prefer = &pref;
	is_str(run_cfg(list(3, node("n1", "8", "8Gi", "{'metadata':{'labels':{'spot':'true'}}}"), node("n2", "1", "1Gi", ""),
			    pod("p", NULL, "")), &cfg),
	       "p=n2", "NodeLabelPriority: prefer the absence of a label");
	sched_prefer_free(&pref);
	ok(sched_prefer_parse(&pref, "", &e) < 0, "an empty preference is refused");

	/* PreferNoSchedule */
	is_str(run(list(3, node("n1", "8", "8Gi", "{'spec':{'taints':[{'key':'k','effect':'PreferNoSchedule'}]}}"),
			node("n2", "4", "4Gi", ""), pod("p", NULL, ""))),
	       "p=n2", "TaintTolerationPriority avoids PreferNoSchedule taints");
	is_str(run(list(3, node("n1", "8", "8Gi", "{'spec':{'taints':[{'key':'k','effect':'PreferNoSchedule'}]}}"),
			node("n2", "4", "4Gi", "{'spec':{'taints':[{'key':'k','effect':'PreferNoSchedule'},{'key':'j','effect':'PreferNoSchedule'}]}}"),
			pod("p", NULL, "{'spec':{'tolerations':[{'key':'k','operator':'Exists','effect':'PreferNoSchedule'}]}}"))),
	       "p=n1", "tolerated PreferNoSchedule taints do not count");

	/* spreading: pods of one ReplicaSet go to different nodes */
	const char *own = "{'metadata':{'labels':{'app':'web'},'ownerReferences':[{'kind':'ReplicaSet','name':'web','uid':'u1','controller':true}]}}";
	jv rs = J("{'kind':'ReplicaSet','metadata':{'name':'web','namespace':'default','uid':'u1'},'spec':{'selector':{'matchLabels':{'app':'web'}}}}");
	run(list(6, rs, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", ""), node("n3", "4", "4Gi", ""),
		 pod("w1", NULL, own), pod("w2", NULL, own)));
	ok(strstr(out, "w1=n") && strstr(out, "w2=n") && strncmp(strstr(out, "w1=") + 3, strstr(out, "w2=") + 3, 2) != 0,
	   "SelectorSpreadPriority: two replicas, two nodes (%s)", out);
	{
		/* with three pods and three equal nodes, each node gets one */
		run(list(7, J("{'kind':'ReplicaSet','metadata':{'name':'web','namespace':'default','uid':'u1'},'spec':{'selector':{'matchLabels':{'app':'web'}}}}"),
			 node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", ""), node("n3", "4", "4Gi", ""),
			 pod("w1", "1", own), pod("w2", "1", own), pod("w3", "1", own)));
		ok(strstr(out, "=n1") && strstr(out, "=n2") && strstr(out, "=n3"),
		   "SelectorSpreadPriority: a ReplicaSet's pods over all nodes (%s)", out);
	}
	/* spreading weighs more than LeastRequested: a node already holding a
	 * replica loses even when emptier */
	sched_config_default(&cfg);
	cfg.weight[S_BALANCED] = 0;
	jv w0 = pod("w0", NULL, own);
	w0 = kx_jv_set(w0, "spec.nodeName", jv_string("n1"));
	is_str(run_cfg(list(5, node("n1", "8", "8Gi", ""), node("n2", "4", "4Gi", ""), w0,
			    pod("x", "3", "{'spec':{'nodeName':'n2'}}"), pod("w1", NULL, own)), &cfg),
	       "w1=n2", "spreading: a sibling on the node counts against it (owner, no ReplicaSet observed)");
	/* zones: the zone with fewer replicas wins */
	const char *za = "{'metadata':{'labels':{'topology.kubernetes.io/zone':'a'}}}";
	const char *zb = "{'metadata':{'labels':{'topology.kubernetes.io/zone':'b'}}}";
	jv s1 = kx_jv_set(pod("s1", NULL, own), "spec.nodeName", jv_string("a1"));
	is_str(run(list(5, node("a1", "4", "4Gi", za), node("a2", "4", "4Gi", za), node("b1", "4", "4Gi", zb), s1,
			pod("s2", NULL, own))),
	       "s2=b1", "spreading over zones: the empty zone wins");
	/* services spread too */
	jv svc = J("{'kind':'Service','metadata':{'name':'db','namespace':'default'},'spec':{'selector':{'app':'db'}}}");
	jv d1 = pod("d1", NULL, "{'metadata':{'labels':{'app':'db'}},'spec':{'nodeName':'n1'}}");
	is_str(run(list(5, svc, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", ""), d1,
			pod("d2", NULL, "{'metadata':{'labels':{'app':'db'}}}"))),
	       "d2=n2", "spreading: pods of one Service");

	/* ImageLocality: the node that has the image (big enough to count) */
	const char *img = "{'status':{'images':[{'names':['docker.io/library/nginx:1.25','nginx:1.25'],'sizeBytes':500000000}]}}";
	is_str(run(list(4, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi", img), node("n3", "4", "4Gi", ""),
			pod("p", NULL, "{'spec':{'containers':[{'name':'c','image':'nginx:1.25'}]}}"))),
	       "p=n2", "ImageLocalityPriority: the node with the image");
	is_str(run(list(3, node("n1", "4", "4Gi", ""), node("n2", "4", "4Gi",
			"{'status':{'images':[{'names':['busybox:latest'],'sizeBytes':900000000}]}}"),
			pod("p", NULL, ""))),
	       "p=n2", "an image without a tag means :latest");
}

static void test_order_ties_sampling(void)
{
	sched_config cfg;

	/* higher priority first: it gets the only room */
	run(list(3, node("n1", "1", "1Gi", ""),
		 pod("low", "1", "{'metadata':{'creationTimestamp':'2026-01-01T00:00:00Z'}}"),
		 pod("high", "1", "{'metadata':{'creationTimestamp':'2026-01-01T00:00:05Z'},'spec':{'priority':1000}}")));
	is_str(out, "high=n1 low=-", "queue order: priority, then age");

	/* ties break by the seed, the same way every time */
	char a[4096], b[4096];
	sched_config_default(&cfg);
	cfg.seed = 7;
	jv nodes = jv_array();
	for (int i = 0; i < 8; i++) {
		char nm[8];
		snprintf(nm, sizeof nm, "n%d", i);
		nodes = jv_array_append(nodes, node(nm, "4", "4Gi", ""));
	}
	nodes = jv_array_append(nodes, pod("p", NULL, ""));
	snprintf(a, sizeof a, "%s", run_cfg(jv_copy(nodes), &cfg));
	snprintf(b, sizeof b, "%s", run_cfg(jv_copy(nodes), &cfg));
	is_str(a, b, "the same seed, the same choice (%s)", a);
	int differ = 0;
	for (uint64_t s = 0; s < 16 && !differ; s++) {
		cfg.seed = s;
		differ = strcmp(run_cfg(jv_copy(nodes), &cfg), a) != 0;
	}
	ok(differ, "other seeds choose other nodes among equals");
	jv_free(nodes);

	is_int(sched_nodes_to_find(50, 0), 50, "fewer than 100 nodes: all");
	is_int(sched_nodes_to_find(200, 0), 100, "at least 100");
	is_int(sched_nodes_to_find(1000, 0), 420, "1000 nodes: 42%%");
	is_int(sched_nodes_to_find(5000, 0), 500, "5000 nodes: 10%%");
	is_int(sched_nodes_to_find(20000, 0), 1000, "20000 nodes: at least 5%%");
	is_int(sched_nodes_to_find(5000, 30), 1500, "configured percentage");
	is_int(sched_nodes_to_find(5000, 100), 5000, "100%%: all");

	/* with sampling, the nodes examined rotate from pod to pod */
	sched_config_default(&cfg);
	cfg.percentage = 1;
	jv big = jv_array();
	for (int i = 0; i < 300; i++) {
		char nm[16];
		snprintf(nm, sizeof nm, "n%03d", i);
		big = jv_array_append(big, node(nm, "4", "4Gi", ""));
	}
	big = jv_array_append(big, pod("a", NULL, "{'metadata':{'creationTimestamp':'2026-01-01T00:00:01Z'}}"));
	big = jv_array_append(big, pod("b", NULL, "{'metadata':{'creationTimestamp':'2026-01-01T00:00:02Z'}}"));
	big = jv_array_append(big, pod("c", NULL, "{'metadata':{'creationTimestamp':'2026-01-01T00:00:03Z'}}"));
	run_cfg(big, &cfg);
	ok(strstr(out, "a=n0") && strstr(out, "b=n1") && strstr(out, "c=n2"),
	   "100 of 300 nodes examined per pod, starting where the last stopped (%s)", out);
}

static void test_model_edges(void)
{
	kx_err e = KX_ERR_INIT;
	sched_config cfg;

	sched_config_default(&cfg);
	ok(sched_cluster_new(jv_object(), &cfg, &e) == NULL, "input must be a list");
	is_str(run(list(2, node("n1", "4", "4Gi", ""), pod("p", "lots", ""))), "p=-",
	       "a malformed request makes the pod unplaceable");
	like_reason("invalid pod:");
	like_reason("cpu");

	sched_cluster *c = sched_cluster_new(list(2, node("bad", "many", "4Gi", ""), node("n1", "4", "4Gi", "")),
					     &cfg, &e);
	is_int(c->nnodes, 1, "a node with malformed allocatable is skipped");
	ok(jv_array_length(jv_copy(c->warnings)) == 1, "with a warning");
	sched_cluster_free(c);

	is_str(run(list(3, node("n1", "4", "4Gi", ""), pod("mine", NULL, "{'spec':{'schedulerName':'other'}}"),
			pod("gated", NULL, "{'spec':{'schedulingGates':[{'name':'wait'}]}}"))),
	       "", "pods of other schedulers and gated pods are left alone");
	cfg.scheduler = "other";
	is_str(run_cfg(list(2, node("n1", "4", "4Gi", ""), pod("mine", NULL, "{'spec':{'schedulerName':'other'}}")), &cfg),
	       "mine=n1", "--scheduler-name serves pods that name it");
	is_str(run(list(2, node("n1", "4", "4Gi", ""),
			pod("x", NULL, "{'metadata':{'deletionTimestamp':'2026-01-01T00:00:00Z'}}"))),
	       "", "pods being deleted are left alone");
}

static void test_config(void)
{
	sched_config cfg;
	kx_err e = KX_ERR_INIT;

	sched_config_default(&cfg);
	is_int(cfg.weight[S_TAINT], 3, "default TaintToleration weight 3");
	is_int(cfg.weight[S_AFFINITY], 2, "default NodeAffinity weight 2");
	is_int(cfg.weight[S_LEAST], 1, "default LeastRequested weight 1");
	ok(sched_config_weight(&cfg, "ImageLocalityPriority=5", &e) == 0 && cfg.weight[S_IMAGE] == 5,
	   "--weight by the seed's name");
	ok(sched_config_weight(&cfg, "spread=0", &e) == 0 && cfg.weight[S_SPREAD] == 0, "--weight by alias");
	ok(sched_config_weight(&cfg, "Nope=1", &e) < 0 && strstr(e.msg, "unknown score \"Nope\""),
	   "unknown score refused: %s", e.msg);
	ok(sched_config_weight(&cfg, "least=x", &e) < 0, "bad weight refused");

	sched_config_default(&cfg);
	ok(sched_config_policy(&cfg, J("{'kind':'Policy','priorities':[{'name':'LeastRequestedPriority','weight':4},"
				       "{'name':'EqualPriority','weight':1}]}"), &e) == 0,
	   "a Policy file");
	ok(cfg.weight[S_LEAST] == 4 && cfg.weight[S_TAINT] == 0, "Policy lists every score it wants");
	sched_config_default(&cfg);
	ok(sched_config_policy(&cfg, J("{'kind':'KubeSchedulerConfiguration','percentageOfNodesToScore':20,"
				       "'profiles':[{'plugins':{'score':{'disabled':[{'name':'ImageLocality'}],"
				       "'enabled':[{'name':'NodeResourcesBalancedAllocation','weight':7}]}}}]}"), &e) == 0,
	   "a KubeSchedulerConfiguration");
	ok(cfg.weight[S_BALANCED] == 7 && cfg.weight[S_IMAGE] == 0 && cfg.weight[S_TAINT] == 3 &&
		   cfg.percentage == 20,
	   "plugins enabled/disabled and percentageOfNodesToScore");
	ok(sched_config_policy(&cfg, J("{'priorities':[{'name':'Bogus'}]}"), &e) < 0 &&
		   strstr(e.msg, "Bogus"),
	   "unknown names refused: %s", e.msg);
}

static void test_act_pure(void)
{
	jv p = J("{'kind':'Pod','metadata':{'name':'p','namespace':'default','resourceVersion':'5'},"
		 "'status':{'phase':'Pending','conditions':[{'type':'Initialized','status':'True'}]}}");
	jv s = sched_unschedulable_status(jv_copy(p), "0/1 nodes are available: 1 Insufficient cpu.",
					  "2026-01-01T00:00:00Z");
	char buf[256];
	is_str(sched_jstr(s, "status.conditions.1.type", buf, sizeof buf), "PodScheduled", "condition added");
	is_str(sched_jstr(s, "status.conditions.1.reason", buf, sizeof buf), "Unschedulable", "reason Unschedulable");
	is_str(sched_jstr(s, "status.conditions.1.status", buf, sizeof buf), "False", "status False");
	is_str(sched_jstr(s, "status.conditions.0.type", buf, sizeof buf), "Initialized", "others kept");
	is_str(sched_jstr(s, "metadata.resourceVersion", buf, sizeof buf), "5", "resourceVersion kept (409 if stale)");
	jv again = sched_unschedulable_status(jv_copy(s), "0/1 nodes are available: 1 Insufficient cpu.",
					      "2026-01-01T00:01:00Z");
	ok(jv_get_kind(again) == JV_KIND_NULL, "the same message again: nothing to write");
	jv changed = sched_unschedulable_status(s, "0/2 nodes are available: 2 Insufficient cpu.",
						"2026-01-01T00:02:00Z");
	is_str(sched_jstr(changed, "status.conditions.1.lastTransitionTime", buf, sizeof buf),
	       "2026-01-01T00:00:00Z", "a new message keeps the transition time");
	is_int(jv_array_length(kx_jv_get(jv_copy(changed), "status.conditions")), 2, "and one condition");
	jv_free(changed);
	jv_free(p);

	sched_pod sp = {.ns = "default", .name = "web", .uid = "u-1"};
	jv b = sched_binding(&sp, "n2");
	is_str(sched_jstr(b, "kind", buf, sizeof buf), "Binding", "binding kind");
	is_str(sched_jstr(b, "target.name", buf, sizeof buf), "n2", "binding target");
	is_str(sched_jstr(b, "metadata.uid", buf, sizeof buf), "u-1", "binding carries the pod's uid");
	jv_free(b);

	sched_config cfg;
	kx_err e = KX_ERR_INIT;
	size_t n;
	sched_config_default(&cfg);
	sched_cluster *c = sched_cluster_new(list(2, node("n1", "4", "4Gi", ""), pod("p", "1", "")), &cfg, &e);
	sched_decision *d = sched_decide(c, &n, NULL);
	char *line = kx_json_dump(sched_decision_json(c, &d[0]), 0);
	ok(!strncmp(line, "{\"pod\":\"default/p\",\"node\":\"n1\",\"score\":", 39), "dry-run line: %s", line);
	free(line);
	sched_decisions_free(d, n);
	sched_cluster_free(c);
}

static void test_explain(void)
{
	sched_config cfg;
	kx_err e = KX_ERR_INIT;
	size_t n;
	kx_buf b = KX_BUF_INIT;
	sched_explain ex = {.pod = "default/p"};

	sched_config_default(&cfg);
	sched_cluster *c = sched_cluster_new(
		list(3, node("n1", "1", "1Gi", ""), node("n2", "4", "4Gi", ""), pod("p", "2", "")), &cfg, &e);
	sched_decision *d = sched_decide(c, &n, &ex);
	sched_explain_print(c, &ex, &b);
	ok(strstr(b.p, "pod default/p: node n2") != NULL, "explain names the choice");
	ok(strstr(b.p, "Insufficient cpu") != NULL, "and why n1 failed");
	ok(strstr(b.p, "chosen") != NULL, "and marks the chosen row");
	kx_buf_free(&b);
	sched_explain_free(&ex);
	sched_decisions_free(d, n);
	sched_cluster_free(c);
}

int main(void)
{
	test_fit();
	test_unschedulable_and_taints();
	test_selectors_and_affinity();
	test_ports_and_anti();
	test_scores();
	test_order_ties_sampling();
	test_model_edges();
	test_config();
	test_act_pure();
	test_explain();
	return done_testing();
}
