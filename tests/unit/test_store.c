/* Unit tests of kx-store's pure rules (cmd/store/objects.c): defaults,
 * validation in Kubernetes' words, the metadata rules of update, Status
 * objects, and the small helpers. */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/store/objects.c"
#include "tap.h"

static jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	return kx_json_parse(s, strlen(s), &e);
}

static char *S(jv v)
{
	static char buf[4096];
	char *s = kx_json_dump(v, 0);
	snprintf(buf, sizeof buf, "%s", s);
	free(s);
	return buf;
}

static const kx_kind *K(const char *name)
{
	return kx_kind_lookup(name);
}

static void test_defaults(void)
{
	jv d = obj_defaults(K("deploy"), J("{\"metadata\":{\"name\":\"w\"},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}],\"livenessProbe\":{\"httpGet\":{\"port\":80}}}]}}}}"), 1);
	is_int(kx_jv_int(d, "spec.replicas", -1), 1, "deployment replicas 1");
	is_str(S(kx_jv_get(jv_copy(d), "spec.strategy")), "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}}", "rolling update 25%%/25%%");
	is_int(kx_jv_int(d, "spec.revisionHistoryLimit", -1), 10, "revisionHistoryLimit 10");
	is_int(kx_jv_int(d, "spec.progressDeadlineSeconds", -1), 600, "progressDeadlineSeconds 600");
	is_str(S(kx_jv_get(jv_copy(d), "spec.template.spec.containers.0.imagePullPolicy")), "\"IfNotPresent\"", "tagged image: IfNotPresent");
	is_str(S(kx_jv_get(jv_copy(d), "spec.template.spec.containers.0.ports.0.protocol")), "\"TCP\"", "container port protocol TCP");
	is_int(kx_jv_int(d, "spec.template.spec.containers.0.livenessProbe.periodSeconds", -1), 10, "probe periodSeconds 10");
	is_int(kx_jv_int(d, "spec.template.spec.containers.0.livenessProbe.failureThreshold", -1), 3, "probe failureThreshold 3");
	jv_free(d);

	d = obj_defaults(K("deploy"), J("{\"spec\":{\"replicas\":0,\"strategy\":{\"type\":\"Recreate\"}}}"), 1);
	is_str(S(kx_jv_get(jv_copy(d), "spec.strategy")), "{\"type\":\"Recreate\"}", "Recreate gets no rollingUpdate");
	is_int(kx_jv_int(d, "spec.replicas", -1), 0, "replicas 0 is kept");
	jv_free(d);

	jv p = obj_defaults(K("pod"), J("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}],\"restartPolicy\":\"Never\"}}"), 1);
	is_str(S(kx_jv_get(jv_copy(p), "spec.restartPolicy")), "\"Never\"", "a given restartPolicy is kept");
	is_str(S(kx_jv_get(jv_copy(p), "spec.dnsPolicy")), "\"ClusterFirst\"", "dnsPolicy ClusterFirst");
	is_int(kx_jv_int(p, "spec.terminationGracePeriodSeconds", -1), 30, "terminationGracePeriodSeconds 30");
	is_str(S(kx_jv_get(jv_copy(p), "spec.schedulerName")), "\"default-scheduler\"", "schedulerName");
	is_str(S(kx_jv_get(jv_copy(p), "spec.serviceAccountName")), "\"default\"", "serviceAccountName default");
	is_str(S(kx_jv_get(jv_copy(p), "spec.containers.0.imagePullPolicy")), "\"Always\"", "untagged image: Always");
	jv_free(p);

	jv s = obj_defaults(K("svc"), J("{\"spec\":{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"},{\"port\":80,\"targetPort\":8080}]}}"), 1);
	is_str(S(kx_jv_get(jv_copy(s), "spec.ports")), "[{\"port\":53,\"protocol\":\"UDP\",\"targetPort\":53},{\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"}]", "service ports: protocol TCP, targetPort = port");
	is_str(S(kx_jv_get(jv_copy(s), "spec.type")), "\"ClusterIP\"", "type ClusterIP");
	jv_free(s);

	jv rc = obj_defaults(K("rc"), J("{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}}"), 1);
	is_str(S(kx_jv_get(jv_copy(rc), "spec.selector")), "{\"a\":\"b\"}", "rc selector from template labels");
	jv_free(rc);

	jv ns = obj_defaults(K("ns"), J("{\"metadata\":{\"name\":\"x\"}}"), 1);
	is_str(S(kx_jv_get(jv_copy(ns), "spec.finalizers")), "[\"kubernetes\"]", "namespace finalizer kubernetes");
	is_str(S(kx_jv_get(jv_copy(ns), "metadata.labels")), "{\"kubernetes.io/metadata.name\":\"x\"}", "namespace name label");
	jv_free(ns);

	jv sec = obj_defaults(K("secret"), J("{\"data\":{\"a\":\"YQ==\"},\"stringData\":{\"b\":\"hello\"}}"), 1);
	is_str(S(jv_copy(sec)), "{\"data\":{\"a\":\"YQ==\",\"b\":\"aGVsbG8=\"},\"type\":\"Opaque\"}", "secret stringData into data, type Opaque");
	jv_free(sec);
}

static int V(const kx_kind *k, const char *json, st_err *e)
{
	jv o = J(json);
	int rc = obj_validate(k, o, e);
	jv_free(o);
	return rc;
}

static void test_validate(void)
{
	st_err e;

	ok(V(K("cm"), ("{\"metadata\":{\"name\":\"ok\"}}"), &e) == 0, "a valid configmap");
	ok(V(K("cm"), ("{\"metadata\":{\"name\":\"No\"}}"), &e) < 0 && e.code == 422 &&
		   !strcmp(e.field, "metadata.name"),
	   "upper case name is 422 on metadata.name");
	ok(V(K("cm"), ("{\"metadata\":{\"generateName\":\"Bad-\"}}"), &e) < 0 &&
		   !strcmp(e.field, "metadata.generateName"),
	   "a bad generateName names that field");
	ok(V(K("cm"), ("{\"metadata\":{\"generateName\":\"good-\"}}"), &e) == 0, "a good generateName");
	ok(V(K("cm"), ("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":1}}}"), &e) < 0 &&
		   !strcmp(e.field, "metadata.labels"),
	   "a label that is not a string is 422");
	ok(V(K("ns"), ("{\"metadata\":{\"name\":\"a.b\"}}"), &e) < 0, "namespace: DNS label");
	ok(V(K("svc"), ("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":\"None\"}}"), &e) == 0, "a headless service needs no ports");
	ok(V(K("svc"), ("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"Weird\",\"ports\":[{\"port\":1}]}}"), &e) < 0 &&
		   !strcmp(e.field, "spec.type"),
	   "an unknown service type is 422");
	ok(V(K("rs"), ("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{},\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}"), &e) < 0 &&
		   strstr(e.msg, "empty selector"),
	   "an empty selector is 422");
	ok(V(K("pod"), ("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"C\",\"image\":\"x\"}]}}"), &e) < 0 &&
		   !strcmp(e.field, "spec.containers[0].name"),
	   "a container name must be a DNS label");
	is_str(e.msg, "Pod \"p\" is invalid: spec.containers[0].name: Invalid value: \"C\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
	       "in Kubernetes' words");
}

static void test_update(void)
{
	jv old = J("{\"metadata\":{\"name\":\"d\",\"uid\":\"u1\",\"generation\":3,\"creationTimestamp\":\"t\"},\"spec\":{\"replicas\":1},\"status\":{\"replicas\":1}}");
	jv n = obj_for_update(K("deploy"), jv_copy(old), J("{\"metadata\":{\"name\":\"d\",\"uid\":\"x\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"replicas\":1},\"status\":{\"replicas\":7}}"), 0);
	is_str(S(jv_copy(n)), "{\"metadata\":{\"name\":\"d\",\"uid\":\"u1\",\"labels\":{\"a\":\"b\"},\"creationTimestamp\":\"t\",\"generation\":3},\"spec\":{\"replicas\":1},\"status\":{\"replicas\":1}}",
	       "update keeps uid, creationTimestamp, status; generation stays when spec does");
	jv_free(n);
	n = obj_for_update(K("deploy"), jv_copy(old), J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2}}"), 0);
	is_int(kx_jv_int(n, "metadata.generation", 0), 4, "a spec change bumps generation");
	jv_free(n);
	n = obj_for_update(K("deploy"), jv_copy(old), J("{\"metadata\":{\"name\":\"zz\"},\"spec\":{\"replicas\":9},\"status\":{\"replicas\":5}}"), 1);
	is_str(S(jv_copy(n)), "{\"metadata\":{\"name\":\"d\",\"uid\":\"u1\",\"generation\":3,\"creationTimestamp\":\"t\"},\"spec\":{\"replicas\":1},\"status\":{\"replicas\":5}}",
	       "a status update changes only status");
	jv_free(n);
	n = obj_for_update(K("cm"), jv_copy(old), J("{\"metadata\":{\"name\":\"d\"},\"data\":{}}"), 0);
	ok(jv_get_kind(kx_jv_get(jv_copy(n), "metadata.generation")) == JV_KIND_NUMBER, "configmaps keep the old generation field if it had one");
	jv_free(n);
	jv_free(old);
}

static void test_helpers(void)
{
	st_err e;
	kx_buf b = KX_BUF_INIT, d = KX_BUF_INIT;

	is_str(pull_policy("nginx"), "Always", "nginx: Always");
	is_str(pull_policy("nginx:latest"), "Always", ":latest: Always");
	is_str(pull_policy("localhost:5000/app"), "Always", "registry port is not a tag");
	is_str(pull_policy("localhost:5000/app:v1"), "IfNotPresent", "tag: IfNotPresent");
	is_str(pull_policy("app@sha256:abc"), "IfNotPresent", "digest: IfNotPresent");
	jv spec = J("{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}");
	is_str(qos_class(spec), "Guaranteed", "limits only: Guaranteed");
	jv_free(spec);
	spec = J("{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}");
	is_str(qos_class(spec), "Burstable", "requests only: Burstable");
	jv_free(spec);
	spec = J("{\"containers\":[{}]}");
	is_str(qos_class(spec), "BestEffort", "nothing: BestEffort");
	jv_free(spec);
	base64_encode(&b, (const unsigned char *)"hello?", 6, 1);
	is_str(kx_buf_str(&b), "aGVsbG8_", "base64url without padding");
	base64_decode(&d, b.p);
	is_str(kx_buf_str(&d), "hello?", "and back");
	kx_buf_free(&b);
	kx_buf_free(&d);
	st_fail(&e, 404, "NotFound", "pods \"x\" not found");
	is_str(S(st_status(&e, K("pods"), "x")), "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}",
	       "a NotFound Status as Kubernetes writes it");
	char q[64];
	is_str(qualified(K("deploy"), q, sizeof q), "deployments.apps", "qualified resource name");
}

int main(void)
{
	test_defaults();
	test_validate();
	test_update();
	test_helpers();
	return done_testing();
}
