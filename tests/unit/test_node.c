/* Unit tests of kx-node-run's pure parts: the Node, its status and Lease,
 * and the OCI spec built from a pod (cmd/node-run/node.c and spec.c are
 * included whole). */
#include "../../cmd/node-run/node.c"
#include "../../cmd/node-run/spec.c"
#include "tap.h"

static jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	jv v = kx_json_parse(s, strlen(s), &e);
	if (!jv_is_valid(v))
		printf("# bad JSON in test: %s\n", e.msg);
	return v;
}

static const char *S(jv v, const char *path, char *buf, size_t n)
{
	const char *r = nr_str(v, path, buf, n, "(absent)");
	return r;
}

static void test_node(void)
{
	struct nr_config c = {.node = "n1", .pod_cidr = "10.244.1.0/24", .node_ip = "127.0.0.1",
			      .port = 10250};
	struct nr_facts f = {.cpus = 2, .mem_total = 4ll << 30, .mem_available = 2ll << 30,
			     .disk_total = 100ll << 30, .disk_avail = 50ll << 30,
			     .pids_max = 32768, .pids_used = 100, .arch = "amd64"};
	char b[256];
	jv n = nr_node_new(&c, &f, 1700000000), st, conds;

	is_str(S(n, "metadata.name", b, sizeof b), "n1", "name");
	is_str(S(n, "metadata.labels.kubernetes\\.io/hostname", b, sizeof b), "(absent)",
	       "(dotted paths cannot reach label keys; checked below)");
	jv l = kx_jv_get(jv_copy(n), "metadata.labels");
	jv v = jv_object_get(jv_copy(l), jv_string("kubernetes.io/hostname"));
	is_str(jv_string_value(v), "n1", "hostname label");
	jv_free(v);
	v = jv_object_get(jv_copy(l), jv_string("kubernetes.io/arch"));
	is_str(jv_string_value(v), "amd64", "arch label");
	jv_free(v);
	v = jv_object_get(l, jv_string("kubernetes.io/os"));
	is_str(jv_string_value(v), "linux", "os label");
	jv_free(v);
	is_str(S(n, "spec.podCIDR", b, sizeof b), "10.244.1.0/24", "podCIDR");
	is_str(S(n, "status.capacity.pods", b, sizeof b), "110", "110 pods");
	is_str(S(n, "status.capacity.cpu", b, sizeof b), "2", "cpu");
	is_str(S(n, "status.capacity.memory", b, sizeof b), "4194304Ki", "memory in Ki");
	is_str(S(n, "status.allocatable.memory", b, sizeof b), "4091904Ki", "allocatable less 100Mi");
	is_str(S(n, "status.addresses.0.address", b, sizeof b), "127.0.0.1", "InternalIP");
	is_int(kx_jv_int(n, "status.daemonEndpoints.kubeletEndpoint.Port", 0), 10250, "log port");
	is_str(S(n, "status.conditions.3.type", b, sizeof b), "Ready", "Ready last");
	is_str(S(n, "status.conditions.3.status", b, sizeof b), "True", "Ready True");
	is_str(S(n, "status.conditions.0.status", b, sizeof b), "False", "no memory pressure");

	/* an hour later, with memory gone: transitions only where status changed */
	f.mem_available = 50ll << 20;
	st = nr_node_status(kx_jv_get(jv_copy(n), "status"), &c, &f, 1700003600);
	conds = kx_jv_get(st, "conditions");
	is_str(S(conds, "0.status", b, sizeof b), "True", "memory pressure");
	is_str(S(conds, "0.reason", b, sizeof b), "KubeletHasInsufficientMemory", "its reason");
	is_str(S(conds, "0.lastTransitionTime", b, sizeof b), "2023-11-14T23:13:20Z", "transition now");
	is_str(S(conds, "3.lastTransitionTime", b, sizeof b), "2023-11-14T22:13:20Z",
	       "Ready keeps its transition time");
	is_str(S(conds, "3.lastHeartbeatTime", b, sizeof b), "2023-11-14T23:13:20Z", "heartbeat now");
	jv_free(conds);
	jv_free(n);
	is_str(nr_arch("x86_64"), "amd64", "x86_64 is amd64");
	is_str(nr_arch("aarch64"), "arm64", "aarch64 is arm64");
}

static void test_lease(void)
{
	struct timespec ts = {1700000000, 123456000};
	char b[256];
	jv l = nr_lease(jv_null(), "n1", "uid-1", &ts);

	is_str(S(l, "metadata.namespace", b, sizeof b), "kube-node-lease", "namespace");
	is_str(S(l, "spec.holderIdentity", b, sizeof b), "n1", "holder");
	is_int(kx_jv_int(l, "spec.leaseDurationSeconds", 0), 40, "40 s");
	is_str(S(l, "spec.renewTime", b, sizeof b), "2023-11-14T22:13:20.123456Z", "MicroTime");
	is_str(S(l, "metadata.ownerReferences.0.uid", b, sizeof b), "uid-1", "owned by the node");
	ts.tv_sec += 10;
	l = jv_object_set(l, jv_string("metadata"),
			  jv_object_set(kx_jv_get(jv_copy(l), "metadata"), jv_string("resourceVersion"),
					jv_string("7")));
	l = nr_lease(l, "n1", "uid-1", &ts);
	is_str(S(l, "spec.renewTime", b, sizeof b), "2023-11-14T22:13:30.123456Z", "renewed");
	is_str(S(l, "metadata.resourceVersion", b, sizeof b), "7", "keeps its resourceVersion");
	jv_free(l);
}

static void test_args(void)
{
	jv img = J("{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c1\",\"c2\"]}");
	jv env = J("{\"X\":\"ex\"}");
	char *s;

#define ARGS(ctr, want, name)                                                  \
	do {                                                                   \
		char *d = kx_json_dump(nr_args(J(ctr), jv_copy(img), jv_copy(env)), 0); \
		is_str(d, want, name);                                         \
		free(d);                                                       \
	} while (0)
	ARGS("{}", "[\"/ep\",\"c1\",\"c2\"]", "neither: entrypoint + cmd");
	ARGS("{\"command\":[\"/bin/sh\"]}", "[\"/bin/sh\"]", "command replaces both");
	ARGS("{\"args\":[\"a\"]}", "[\"/ep\",\"a\"]", "args replace cmd only");
	ARGS("{\"command\":[\"x\"],\"args\":[\"$(X)\",\"$$(X)\",\"$(Y)\"]}",
	     "[\"x\",\"ex\",\"$(X)\",\"$(Y)\"]", "both, with $(VAR) expansion");
	s = nr_expand("a$(X)b$(", env);
	is_str(s, "aexb$(", "an unclosed $( is kept");
	free(s);
	jv_free(img);
	jv_free(env);
}

static void test_env(void)
{
	struct nr_pod_facts f = {.node = "n1", .pod_ip = "10.0.0.9", .host_ip = "127.0.0.1",
				 .cpus = 2, .mem_bytes = 1 << 30};
	jv pod = J("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\"}}}");
	jv objs = J("{\"configmaps\":{\"cm\":{\"data\":{\"a\":\"1\",\"b\":\"2\"}}},"
		    "\"secrets\":{\"s\":{\"data\":{\"pw\":\"aHVudGVyMg==\"}}}}");
	jv ctr = J("{\"resources\":{\"limits\":{\"memory\":\"64Mi\"}},"
		   "\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"},\"prefix\":\"CM_\"}],"
		   "\"env\":[{\"name\":\"V\",\"value\":\"v$(PATH)\"},"
		   "{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
		   "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}}},"
		   "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
		   "{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"a\"}}},"
		   "{\"name\":\"PW\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"pw\"}}},"
		   "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}},"
		   "{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}}]}");
	char err[256], b[256];
	jv env = nr_env(jv_copy(pod), ctr, J("[\"PATH=/bin\",\"HOME=/root\"]"), jv_copy(objs), &f,
			err, sizeof err);

	is_str(err, "", "no error");
	is_str(S(env, "PATH", b, sizeof b), "/bin", "image env kept");
	is_str(S(env, "V", b, sizeof b), "v/bin", "value with $(VAR)");
	is_str(S(env, "N", b, sizeof b), "p", "fieldRef metadata.name");
	is_str(S(env, "APP", b, sizeof b), "web", "fieldRef label");
	is_str(S(env, "IP", b, sizeof b), "10.0.0.9", "fieldRef status.podIP");
	is_str(S(env, "A", b, sizeof b), "1", "configMapKeyRef");
	is_str(S(env, "PW", b, sizeof b), "hunter2", "secretKeyRef, decoded");
	is_str(S(env, "CM_b", b, sizeof b), "2", "envFrom with prefix");
	is_str(S(env, "MEM", b, sizeof b), "64", "resourceFieldRef with divisor");
	is_str(S(env, "CPU", b, sizeof b), "2", "limits.cpu defaults to the node's");
	jv_free(env);

	env = nr_env(jv_copy(pod), J("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"a\"}}}]}"),
		     jv_null(), jv_copy(objs), &f, err, sizeof err);
	is_str(err, "configmap \"nope\" not found", "a missing configmap is an error");
	jv_free(env);
	env = nr_env(jv_copy(pod), J("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"zz\"}}}]}"),
		     jv_null(), jv_copy(objs), &f, err, sizeof err);
	is_str(err, "couldn't find key zz in ConfigMap cm", "a missing key is an error");
	jv_free(env);
	env = nr_env(jv_copy(pod), J("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"a\",\"optional\":true}}}]}"),
		     jv_null(), jv_copy(objs), &f, err, sizeof err);
	is_str(err, "", "unless optional");
	jv_free(env);
	jv_free(pod);
	jv_free(objs);
}

static void test_spec(void)
{
	jv vols = J("{\"data\":\"/var/lib/kx/pods/u/volumes/data\"}");
	struct nr_bundle_ctx bc = {.rootfs = "/r", .hostname = "p", .resolv = "/x/resolv.conf",
				   .netns = "/run/netns/kx-u", .cgroup = "/kubepods/burstable/podu/c",
				   .volumes = vols};
	jv pod = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"securityContext\":{\"runAsUser\":1000}}}");
	jv ctr = J("{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1d\"],"
		   "\"resources\":{\"limits\":{\"memory\":\"32Mi\",\"cpu\":\"500m\"}},"
		   "\"securityContext\":{\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
		   "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_ADMIN\"]}},"
		   "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\",\"subPath\":\"sub\",\"readOnly\":true}]}");
	char err[256], b[256];
	jv s = nr_oci_spec(jv_copy(pod), jv_copy(ctr), J("{\"User\":\"0\",\"WorkingDir\":\"/w\"}"),
			   J("{\"A\":\"b\"}"), &bc, err, sizeof err);
	char *d;

	is_str(err, "", "no error");
	is_int(kx_jv_int(s, "process.user.uid", -1), 1000, "runAsUser from the pod");
	is_str(S(s, "process.cwd", b, sizeof b), "/w", "image working dir");
	is_str(S(s, "process.args.1", b, sizeof b), "1d", "args");
	is_int(kx_jv_bool(s, "root.readonly", 0), 1, "read-only root");
	is_int(kx_jv_bool(s, "process.noNewPrivileges", 0), 1, "no privilege escalation");
	d = kx_json_dump(kx_jv_get(jv_copy(s), "process.capabilities.bounding"), 0);
	is_str(d, "[\"CAP_NET_ADMIN\"]", "drop ALL, add NET_ADMIN");
	free(d);
	is_int(kx_jv_int(s, "linux.resources.memory.limit", 0), 32 << 20, "memory limit");
	is_int(kx_jv_int(s, "linux.resources.cpu.quota", 0), 50000, "cpu quota");
	is_int(kx_jv_int(s, "linux.resources.cpu.shares", 0), 512, "cpu shares from the limit");
	is_str(S(s, "linux.namespaces.4.path", b, sizeof b), "/run/netns/kx-u", "pod netns");
	d = kx_json_dump(jv_copy(s), 0);
	ok(strstr(d, "\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/var/lib/kx/pods/u/volumes/data/sub\",\"options\":[\"rbind\",\"ro\"]") != NULL,
	   "volume mount with subPath, read-only");
	ok(strstr(d, "\"/etc/resolv.conf\"") != NULL, "resolv.conf mounted");
	free(d);
	jv_free(s);

	s = nr_oci_spec(J("{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true}}}"), jv_copy(ctr),
			J("{}"), J("{}"), &bc, err, sizeof err);
	is_str(err, "container has runAsNonRoot and image will run as root", "runAsNonRoot refused");
	jv_free(s);
	s = nr_oci_spec(jv_copy(pod), J("{\"volumeMounts\":[{\"name\":\"x\",\"mountPath\":\"/x\"}],\"command\":[\"a\"]}"),
			J("{}"), J("{}"), &bc, err, sizeof err);
	is_str(err, "volume \"x\" is not defined", "unknown volume");
	jv_free(s);
	s = nr_oci_spec(jv_copy(pod), J("{}"), J("{}"), J("{}"), &bc, err, sizeof err);
	is_str(err, "no command specified", "no command");
	jv_free(s);
	d = kx_json_dump(nr_caps(J("{\"privileged\":true}")), 0);
	ok(strstr(d, "CAP_SYS_ADMIN") != NULL, "privileged gets every capability");
	free(d);
	d = kx_json_dump(nr_caps(J("{}")), 0);
	ok(strstr(d, "CAP_CHOWN") && !strstr(d, "CAP_SYS_ADMIN"), "the default set");
	free(d);

	jv g = J("{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"memory\":\"1Gi\"}}}]}}");
	is_str(nr_qos_class(g), "Burstable", "a memory limit only: burstable");
	jv_free(g);
	g = J("{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
	is_str(nr_qos_class(g), "Guaranteed", "limits for cpu and memory: guaranteed");
	jv_free(g);
	g = J("{\"spec\":{\"containers\":[{}]}}");
	is_str(nr_qos_class(g), "BestEffort", "nothing: best effort");
	jv_free(g);
	is_int(nr_quantity_milli(jv_string("500m")), 500, "500m");
	is_int(nr_quantity_milli(jv_string("1Ki")), 1024000, "1Ki");
	is_int(nr_quantity_milli(jv_string("x")), -1, "garbage");
	jv_free(pod);
	jv_free(ctr);
	jv_free(vols);
}

int main(void)
{
	test_node();
	test_lease();
	test_args();
	test_env();
	test_spec();
	return done_testing();
}
