/* Unit tests of lib/probe: parsing Kubernetes probes and URLs, thresholds,
 * the result files kx-node-run reads, and the Unhealthy event. */
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "probe.h"
#include "tap.h"

static jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	return kx_json_parse(s, strlen(s), &e);
}

static void test_from_json(void)
{
	kx_probe p;
	kx_err e = KX_ERR_INIT;
	char d[256];

	is_int(kx_probe_from_json(&p, J("{\"httpGet\":{\"path\":\"healthz\",\"port\":8080}}"),
				  "10.1.0.5", jv_null(), &e), 0, "httpGet parses");
	is_str(kx_probe_describe(&p, d, sizeof d), "http://10.1.0.5:8080/healthz",
	       "pod IP is the default host, path gets its slash");
	is_int(p.timeout_ms, 1000, "timeoutSeconds defaults to 1");
	is_int(p.period, 10, "periodSeconds defaults to 10");
	is_int(p.failure_threshold, 3, "failureThreshold defaults to 3");
	is_int(p.success_threshold, 1, "successThreshold defaults to 1");
	kx_probe_free(&p);

	is_int(kx_probe_from_json(&p, J("{\"httpGet\":{\"scheme\":\"HTTPS\",\"host\":\"::1\","
					"\"port\":\"web\",\"httpHeaders\":[{\"name\":\"X-A\","
					"\"value\":\"b\"},{\"name\":\"Bad:\",\"value\":\"x\"}]},"
					"\"timeoutSeconds\":3,\"periodSeconds\":2,"
					"\"failureThreshold\":1}"),
				  NULL, J("[{\"name\":\"dns\",\"containerPort\":53},"
					  "{\"name\":\"web\",\"containerPort\":8443}]"), &e),
	       0, "httpGet with a named port, https, headers");
	is_str(kx_probe_describe(&p, d, sizeof d), "https://[::1]:8443/", "v6 host in brackets");
	is_int(p.nheaders, 1, "a header name with a colon is dropped");
	is_str(p.hname[0], "X-A", "header name");
	is_int(p.timeout_ms, 3000, "timeoutSeconds");
	is_int(p.period, 2, "periodSeconds");
	kx_probe_free(&p);

	is_int(kx_probe_from_json(&p, J("{\"tcpSocket\":{\"port\":\"22\"}}"), NULL, jv_null(), &e),
	       0, "tcpSocket with a port as a string of digits");
	is_str(kx_probe_describe(&p, d, sizeof d), "tcp://127.0.0.1:22", "loopback without a pod IP");
	kx_probe_free(&p);

	is_int(kx_probe_from_json(&p, J("{\"exec\":{\"command\":[\"cat\",\"/tmp/ok\"]}}"), NULL,
				  jv_null(), &e), 0, "exec parses");
	is_int(p.argc, 2, "two arguments");
	ok(p.argv[2] == NULL, "argv is NULL-ended");
	is_str(kx_probe_describe(&p, d, sizeof d), "exec cat /tmp/ok", "described");
	kx_probe_free(&p);

	is_int(kx_probe_from_json(&p, J("{\"httpGet\":{\"port\":\"www\"}}"), NULL,
				  J("[{\"name\":\"web\",\"containerPort\":80}]"), &e), -1,
	       "an unknown port name fails");
	is_str(e.msg, "httpGet: no container port named \"www\"", "and names it");
	is_int(kx_probe_from_json(&p, J("{\"tcpSocket\":{\"port\":70000}}"), NULL, jv_null(), &e),
	       -1, "a port out of range fails");
	is_int(kx_probe_from_json(&p, J("{\"exec\":{\"command\":[]}}"), NULL, jv_null(), &e), -1,
	       "an empty command fails");
	is_int(kx_probe_from_json(&p, J("{\"exec\":{\"command\":[1]}}"), NULL, jv_null(), &e), -1,
	       "a command that is not strings fails");
	is_int(kx_probe_from_json(&p, J("{\"httpGet\":{\"port\":80,\"scheme\":\"FTP\"}}"), NULL,
				  jv_null(), &e), -1, "an unknown scheme fails");
	is_int(kx_probe_from_json(&p, J("{\"grpc\":{\"port\":9090,\"service\":\"web\"}}"), "10.0.0.5",
				  jv_null(), &e), 0, "grpc is parsed");
	is_int(p.kind, KX_PROBE_GRPC, "as a grpc probe");
	is_int(p.port, 9090, "with its port");
	is_str(p.service, "web", "and service");
	is_str(p.host, "10.0.0.5", "and the pod IP as host");
	kx_probe_free(&p);
	is_int(kx_probe_from_json(&p, J("{\"grpc\":{\"port\":\"web\"}}"), NULL, jv_null(), &e), -1,
	       "a grpc port by name fails, as in Kubernetes");
	is_int(kx_probe_from_json(&p, J("{\"periodSeconds\":1}"), NULL, jv_null(), &e), -1,
	       "no handler fails");
	is_int(kx_probe_from_json(&p, J("{\"tcpSocket\":{\"port\":1},\"periodSeconds\":0}"), NULL,
				  jv_null(), &e), -1, "periodSeconds 0 fails");
	is_int(kx_probe_from_json(&p, J("[1]"), NULL, jv_null(), &e), -1, "not an object fails");
}

static void test_from_url(void)
{
	kx_probe p;
	kx_err e = KX_ERR_INIT;
	char d[256];

	is_int(kx_probe_from_url(&p, "http://127.0.0.1:8080/healthz?x=1", &e), 0, "http URL");
	is_str(kx_probe_describe(&p, d, sizeof d), "http://127.0.0.1:8080/healthz?x=1", "round trip");
	is_int(kx_probe_from_url(&p, "https://example.test", &e), 0, "https URL without port");
	is_int(p.port, 443, "https defaults to 443");
	is_str(p.path, "/", "path defaults to /");
	is_int(kx_probe_from_url(&p, "http://[::1]:81?q", &e), 0, "v6 with a query only");
	is_str(kx_probe_describe(&p, d, sizeof d), "http://[::1]:81/?q", "described");
	is_int(kx_probe_from_url(&p, "tcp://localhost:22", &e), 0, "tcp URL");
	is_int(p.kind, KX_PROBE_TCP, "is tcp");
	is_int(kx_probe_from_url(&p, "10.0.0.1:53", &e), 0, "bare HOST:PORT is tcp");
	is_int(kx_probe_from_url(&p, "10.0.0.1", &e), -1, "tcp needs a port");
	is_int(kx_probe_from_url(&p, "http://:80/", &e), -1, "http needs a host");
	is_int(kx_probe_from_url(&p, "http://h:0/", &e), -1, "port 0 refused");
	is_int(kx_probe_from_url(&p, "http://h:99999/", &e), -1, "port too large refused");
	is_int(kx_probe_from_url(&p, "gopher://h:70/", &e), -1, "unknown scheme refused");
	is_int(e.status, KX_EUSAGE, "as a usage error");
}

static void test_thresholds(void)
{
	kx_probe p;
	kx_probe_state s;
	kx_probe_result ok = {1, 0, ""}, bad = {0, 0, "boom"};
	kx_err e = KX_ERR_INIT;

	kx_probe_from_json(&p, J("{\"tcpSocket\":{\"port\":1},\"successThreshold\":2,"
				 "\"failureThreshold\":2,\"initialDelaySeconds\":5,"
				 "\"periodSeconds\":3}"), NULL, jv_null(), &e);
	kx_probe_state_init(&s, "readiness");
	is_int(s.result, KX_PROBE_FAILURE, "readiness starts failed");
	is_int(kx_probe_due(&p, &s, 100, 104), 0, "not due before the initial delay");
	is_int(kx_probe_due(&p, &s, 100, 105), 1, "due at the initial delay");
	is_int(kx_probe_record(&p, &s, &ok, 105), 0, "one success of two: no change");
	is_int(kx_probe_due(&p, &s, 100, 107), 0, "not due before the period");
	is_int(kx_probe_due(&p, &s, 100, 108), 1, "due after the period");
	is_int(kx_probe_record(&p, &s, &ok, 108), 1, "second success: ready");
	is_int(s.result, KX_PROBE_SUCCESS, "success");
	is_int(kx_probe_record(&p, &s, &bad, 111), 0, "one failure of two: still ready");
	is_str(s.reason, "boom", "the reason is kept");
	is_int(kx_probe_record(&p, &s, &ok, 114), 0, "a success resets the failures");
	is_int(kx_probe_record(&p, &s, &bad, 117), 0, "failure 1");
	is_int(kx_probe_record(&p, &s, &bad, 120), 1, "failure 2: not ready");
	is_int(s.result, KX_PROBE_FAILURE, "failure");
	kx_probe_state_init(&s, "liveness");
	is_int(s.result, KX_PROBE_SUCCESS, "liveness starts succeeded");
	kx_probe_state_init(&s, "startup");
	is_int(s.result, KX_PROBE_UNKNOWN, "startup starts unknown");
	kx_probe_free(&p);
}

static void test_files(void)
{
	char dir[] = "/tmp/kx-probe-test.XXXXXX", path[4096];
	kx_probe_state s, r;
	kx_err e = KX_ERR_INIT;

	ok(mkdtemp(dir) != NULL, "temporary directory");
	is_int(kx_probe_file_path(path, sizeof path, dir, "u1", "web", "liveness"), 0, "path");
	ok(strstr(path, "/pods/u1/probes/web.liveness") != NULL, "path layout");
	kx_probe_state_init(&s, "liveness");
	s.result = KX_PROBE_FAILURE;
	s.failures = 3;
	s.last = 1700000000;
	strcpy(s.reason, "HTTP probe failed with statuscode: 500");
	is_int(kx_probe_file_write(path, "c1", &s, &e), 0, "written");
	memset(&r, 0, sizeof r);
	is_int(kx_probe_file_read(path, "c1", &r), 0, "read back");
	is_int(r.result, KX_PROBE_FAILURE, "result");
	is_int(r.failures, 3, "failures");
	is_int(r.last, 1700000000, "time");
	is_str(r.reason, s.reason, "reason");
	is_int(kx_probe_file_read(path, "c2", &r), -1, "another container's file is stale");
	unlink(path);
	is_int(kx_probe_file_read(path, "c1", &r), -1, "absent");
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	ok(system(path) == 0, "cleaned up");
}

static void test_event(void)
{
	char b[256];

	is_str(kx_probe_message("liveness", "HTTP probe failed with statuscode: 500", b, sizeof b),
	       "Liveness probe failed: HTTP probe failed with statuscode: 500", "event message");
	is_str(kx_probe_container_id("kx://abc"), "abc", "container id without scheme");
	is_str(kx_probe_container_id("abc"), "abc", "bare container id");
}

int main(void)
{
	test_from_json();
	test_from_url();
	test_thresholds();
	test_files();
	test_event();
	return done_testing();
}
