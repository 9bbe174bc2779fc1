/* Unit tests of lib/print.c: kubectl's columns, pod status, table layout,
 * identities and JSON. */
#include <stdlib.h>

#include "buf.h"
#include "clock.h"
#include "json.h"
#include "kinds.h"
#include "print.h"
#include "tap.h"

static jv J(const char *s)
{
	jv v = jv_parse(s);
	if (!jv_is_valid(v)) {
		fprintf(stderr, "bad test JSON: %s\n", s);
		exit(2);
	}
	return v;
}

static time_t now;

/* One row as "a|b|c". */
static char *row(const char *kind, const char *obj, int flags)
{
	jv o = J(obj);
	jv r = kx_print_row(kx_kind_lookup(kind), o, flags, now);
	kx_buf b = KX_BUF_INIT;

	jv_array_foreach(r, i, c)
	{
		kx_buf_addf(&b, "%s%s", i ? "|" : "", jv_string_value(c));
		jv_free(c);
	}
	jv_free(r);
	jv_free(o);
	return kx_buf_steal(&b);
}

static void is_row(const char *kind, const char *obj, int flags, const char *want, const char *name)
{
	char *got = row(kind, obj, flags);
	is_str(got, want, "%s", name);
	free(got);
}

static char *header(const char *kind, int flags)
{
	jv r = kx_print_header(kx_kind_lookup(kind), flags);
	kx_buf b = KX_BUF_INIT;

	jv_array_foreach(r, i, c)
	{
		kx_buf_addf(&b, "%s%s", i ? "|" : "", jv_string_value(c));
		jv_free(c);
	}
	jv_free(r);
	return kx_buf_steal(&b);
}

static void is_header(const char *kind, int flags, const char *want)
{
	char *got = header(kind, flags);
	is_str(got, want, "%s header (flags %d)", kind, flags);
	free(got);
}

#define MD "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"creationTimestamp\":\"2026-11-26T18:00:00Z\"}"

static void test_headers(void)
{
	is_header("pods", 0, "NAME|READY|STATUS|RESTARTS|AGE");
	is_header("po", KX_PRINT_WIDE, "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES");
	is_header("deploy", 0, "NAME|READY|UP-TO-DATE|AVAILABLE|AGE");
	is_header("svc", 0, "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE");
	is_header("no", 0, "NAME|STATUS|ROLES|AGE|VERSION");
	is_header("rs", 0, "NAME|DESIRED|CURRENT|READY|AGE");
	is_header("ns", 0, "NAME|STATUS|AGE");
	is_header("cm", 0, "NAME|DATA|AGE");
	is_header("secrets", 0, "NAME|TYPE|DATA|AGE");
	is_header("ep", 0, "NAME|ENDPOINTS|AGE");
	is_header("ev", 0, "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE");
	is_header("leases", KX_PRINT_NAMESPACE | KX_PRINT_LABELS, "NAMESPACE|NAME|HOLDER|AGE|LABELS");
}

static void test_pod_status(void)
{
	char st[128];
	int restarts;
	time_t last;
	jv p;

	is_row("pods", "{" MD ",\"spec\":{\"containers\":[{},{}]},\"status\":{\"phase\":\"Pending\"}}", 0,
	       "web|0/2|Pending|0|60m", "a pending pod");
	is_row("pods", "{" MD ",\"spec\":{\"containers\":[{}]},\"status\":{\"phase\":\"Running\","
	       "\"podIP\":\"10.1.0.4\",\"containerStatuses\":[{\"ready\":true,\"restartCount\":3,"
	       "\"state\":{\"running\":{}},\"lastState\":{\"terminated\":{\"finishedAt\":\"2026-11-26T18:55:00Z\"}}}]},"
	       "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{}]}}", KX_PRINT_WIDE,
	       "web|1/1|Running|3 (5m ago)|60m|10.1.0.4|n1|<none>|<none>", "a running pod, wide, with restarts");
	p = J("{\"spec\":{\"containers\":[{}]},\"status\":{\"phase\":\"Running\",\"containerStatuses\":"
	      "[{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},\"restartCount\":4}]}}");
	is_str(kx_pod_status(p, st, sizeof st, &restarts, &last), "CrashLoopBackOff", "a waiting reason wins");
	is_int(restarts, 4, "restarts are summed");
	jv_free(p);
	p = J("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":"
	      "{\"exitCode\":2}}}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "ExitCode:2", "terminated without a reason");
	jv_free(p);
	p = J("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":"
	      "{\"exitCode\":137,\"signal\":9}}}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "Signal:9", "killed by a signal");
	jv_free(p);
	p = J("{\"spec\":{\"initContainers\":[{},{}]},\"status\":{\"phase\":\"Pending\","
	      "\"initContainerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0}}},"
	      "{\"state\":{\"running\":{}}}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "Init:1/2", "init containers counted");
	jv_free(p);
	p = J("{\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"state\":{\"waiting\":"
	      "{\"reason\":\"ImagePullBackOff\"}}}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "Init:ImagePullBackOff", "init waiting");
	jv_free(p);
	p = J("{\"metadata\":{\"deletionTimestamp\":\"2026-11-26T18:00:00Z\"},\"status\":{\"phase\":\"Running\"}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "Terminating", "deleting is Terminating");
	jv_free(p);
	p = J("{\"status\":{\"phase\":\"Succeeded\",\"reason\":\"Completed\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
	      "\"containerStatuses\":[{\"ready\":true,\"state\":{\"running\":{}}}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "NotReady", "Completed with one running: NotReady");
	jv_free(p);
	p = J("{\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"reason\":\"SchedulingGated\"}]}}");
	is_str(kx_pod_status(p, st, sizeof st, NULL, NULL), "SchedulingGated", "scheduling gates");
	jv_free(p);
}

static void test_rows(void)
{
	is_row("deploy", "{" MD ",\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	       "\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i:1\"},{\"name\":\"b\",\"image\":\"j:2\"}]}}},"
	       "\"status\":{\"readyReplicas\":1,\"updatedReplicas\":2,\"availableReplicas\":1}}", KX_PRINT_WIDE,
	       "web|1/2|2|1|60m|a,b|i:1,j:2|app=web", "a deployment, wide");
	is_row("rs", "{" MD ",\"spec\":{\"replicas\":3},\"status\":{\"replicas\":3,\"readyReplicas\":2}}", 0,
	       "web|3|3|2|60m", "a replicaset");
	is_row("svc", "{" MD ",\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.10\",\"ports\":"
	       "[{\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\"}],"
	       "\"selector\":{\"b\":\"2\",\"a\":\"1\"}}}", KX_PRINT_WIDE,
	       "web|NodePort|10.96.0.10|<none>|80:30080/TCP,53/UDP|60m|a=1,b=2", "a NodePort service, wide");
	is_row("svc", "{" MD ",\"spec\":{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.11\",\"ports\":[{\"port\":443}]}}", 0,
	       "web|LoadBalancer|10.96.0.11|<pending>|443/TCP|60m", "a LoadBalancer without an address");
	is_row("svc", "{" MD ",\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example\"}}", 0,
	       "web|ExternalName|<none>|db.example|<none>|60m", "an ExternalName service");
	is_row("no", "{" MD ",\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2026-11-20T19:00:00Z\","
	       "\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\",\"node-role.kubernetes.io/worker\":\"\"}},"
	       "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	       "\"nodeInfo\":{\"kubeletVersion\":\"v1.30.0-kx\",\"osImage\":\"Debian\",\"kernelVersion\":\"6.1\"},"
	       "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}]}}", KX_PRINT_WIDE,
	       "n1|Ready,SchedulingDisabled|control-plane,worker|6d|v1.30.0-kx|10.0.0.1|<none>|Debian|6.1|<unknown>",
	       "a cordoned node, wide");
	is_row("no", "{\"metadata\":{\"name\":\"n2\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}", 0,
	       "n2|NotReady|<none>|<unknown>|", "a node that stopped reporting");
	is_row("ep", "{" MD ",\"subsets\":[{\"addresses\":[{\"ip\":\"10.1.0.1\"},{\"ip\":\"10.1.0.2\"}],"
	       "\"ports\":[{\"port\":80},{\"port\":81}]}]}", 0,
	       "web|10.1.0.1:80,10.1.0.2:80,10.1.0.1:81 + 1 more...|60m", "endpoints, three then more");
	is_row("ep", "{" MD "}", 0, "web|<none>|60m", "endpoints without addresses");
	is_row("cm", "{" MD ",\"data\":{\"a\":\"1\",\"b\":\"2\"},\"binaryData\":{\"c\":\"\"}}", 0,
	       "web|3|60m", "a configmap counts data and binaryData");
	is_row("secret", "{" MD ",\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}", 0, "web|Opaque|1|60m", "a secret");
	is_row("ns", "{\"metadata\":{\"name\":\"prod\",\"creationTimestamp\":\"2026-11-26T18:59:50Z\"},"
	       "\"status\":{\"phase\":\"Active\"}}", 0, "prod|Active|10s", "a namespace");
	is_row("ev", "{" MD ",\"type\":\"Normal\",\"reason\":\"Scheduled\",\"message\":\" bound to n1\\n\","
	       "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\"},\"lastTimestamp\":\"2026-11-26T18:58:00Z\"}", 0,
	       "2m|Normal|Scheduled|pod/web-1|bound to n1", "an event");
	is_row("pods", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"," MD ",\"status\":{\"phase\":\"Running\"}}",
	       KX_PRINT_KIND | KX_PRINT_NAMESPACE | KX_PRINT_LABELS, "default|pod/web|0/0|Running|0|60m|<none>",
	       "kind prefix, namespace and labels");
	is_row("leases", "{" MD ",\"spec\":{\"holderIdentity\":\"kx-reconcile-1\"}}", 0, "web|kx-reconcile-1|60m", "a lease");
	is_row("rolebindings", "{" MD ",\"roleRef\":{\"kind\":\"Role\",\"name\":\"reader\"},\"subjects\":"
	       "[{\"kind\":\"User\",\"name\":\"ann\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"}]}",
	       KX_PRINT_WIDE, "web|Role/reader|60m|ann||ns/sa", "a rolebinding, wide");
}

static void test_table(void)
{
	kx_buf b = KX_BUF_INIT;
	jv rows = J("[[\"NAME\",\"READY\",\"STATUS\"],[\"web-7d4b9c-x2x\",\"1/1\",\"Running\"],[\"a\",\"0/1\",\"Pending\"]]");

	kx_table_write(&b, rows, NULL);
	is_str(kx_buf_str(&b),
	       "NAME             READY   STATUS\n"
	       "web-7d4b9c-x2x   1/1     Running\n"
	       "a                0/1     Pending\n",
	       "columns three apart, the last unpadded");
	kx_buf_free(&b);
	rows = J("[[\"NAME\",\"X\",\"Y\"],[\"héllo\",\"y\",\"z\"]]");
	kx_table_write(&b, rows, NULL);
	is_str(kx_buf_str(&b), "NAME    X     Y\nhéllo   y     z\n",
	       "at least six wide; width counts characters, not bytes");
	kx_buf_free(&b);
	size_t widths[KX_TABLE_MAX_COLS] = {0};
	kx_table_write(&b, J("[[\"NAME\",\"STATUS\",\"AGE\"],[\"a-long-name\",\"Pending\",\"0s\"]]"), widths);
	kx_table_write(&b, J("[[\"b\",\"Running\",\"1s\"]]"), widths);
	is_str(kx_buf_str(&b), "NAME          STATUS    AGE\na-long-name   Pending   0s\nb             Running   1s\n",
	       "remembered widths keep watched rows aligned");
	kx_buf_free(&b);
}

static void test_ident(void)
{
	char id[128], q[128];
	jv o = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"}}");

	is_str(kx_obj_ident(o, id, sizeof id), "deployment.apps/web", "a grouped kind's identity");
	jv_free(o);
	o = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");
	is_str(kx_obj_ident(o, id, sizeof id), "configmap/c", "a core kind's identity");
	jv_free(o);
	is_str(kx_kind_qualified(kx_kind_lookup("deploy"), q, sizeof q), "deployments.apps", "qualified resource");
	is_str(kx_kind_qualified(kx_kind_lookup("po"), q, sizeof q), "pods", "core resource");
}

static void test_json(void)
{
	kx_buf b = KX_BUF_INIT;

	kx_print_json(&b, kx_print_list(J("[{\"z\":1,\"a\":\"<&>\",\"e\":{},\"l\":[]}]")));
	is_str(kx_buf_str(&b),
	       "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"a\": \"\\u003c\\u0026\\u003e\",\n"
	       "            \"e\": {},\n            \"l\": [],\n            \"z\": 1\n        }\n    ],\n"
	       "    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
	       "JSON as kubectl prints it: a List, sorted, four spaces, Go's escapes");
	kx_buf_free(&b);
	jv s = kx_jv_sorted(J("{\"b\":{\"y\":1,\"x\":2},\"a\":[{\"d\":1,\"c\":2}]}"));
	char *d = kx_json_dump(s, 0);
	is_str(d, "{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"x\":2,\"y\":1}}", "keys sorted at every level");
	free(d);
}

int main(void)
{
	kx_time_parse("2026-11-26T19:00:00Z", &now);
	test_headers();
	test_pod_status();
	test_rows();
	test_table();
	test_ident();
	test_json();
	return done_testing();
}
