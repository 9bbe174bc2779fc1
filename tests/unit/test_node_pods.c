/* Unit tests of kx-node-run's pod logic that needs no runtime: back-off,
 * restart policy, phase, and rendering CRI logs (cmd/node-run/pods.c,
 * spec.c and logs.c are included whole). */
#include "../../cmd/node-run/pods.c"
#include "../../cmd/node-run/spec.c"
#include "../../cmd/node-run/logs.c"
#include "tap.h"

static jv J(const char *s)
{
	kx_err e = KX_ERR_INIT;
	return kx_json_parse(s, strlen(s), &e);
}

static void test_backoff(void)
{
	is_int(nr_backoff(0, 0), 0, "no back-off before the first restart");
	is_int(nr_backoff(1, 5), 10, "10 s after the first restart");
	is_int(nr_backoff(2, 5), 20, "then 20 s");
	is_int(nr_backoff(3, 5), 40, "then 40 s");
	is_int(nr_backoff(10, 5), 300, "capped at 5 min");
	is_int(nr_backoff(10, 600), 0, "reset after 10 min of running");
	is_int(nr_should_restart("Always", 0), 1, "Always restarts a success");
	is_int(nr_should_restart("OnFailure", 0), 0, "OnFailure does not restart a success");
	is_int(nr_should_restart("OnFailure", 2), 1, "OnFailure restarts a failure");
	is_int(nr_should_restart("Never", 2), 0, "Never never restarts");
}

static void test_phase(void)
{
	jv running = J("[{\"state\":{\"running\":{}},\"restartCount\":0}]");
	jv creating = J("[{\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}},\"restartCount\":0}]");
	jv crash = J("[{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},\"restartCount\":2}]");
	jv ok = J("[{\"state\":{\"terminated\":{\"exitCode\":0}}}]");
	jv bad = J("[{\"state\":{\"terminated\":{\"exitCode\":3}}}]");

	is_str(nr_pod_phase("Always", 1, 0, jv_copy(running)), "Running", "running");
	is_str(nr_pod_phase("Always", 1, 0, jv_copy(creating)), "Pending", "creating is pending");
	is_str(nr_pod_phase("Always", 0, 0, jv_copy(running)), "Pending", "not initialized is pending");
	is_str(nr_pod_phase("Always", 1, 0, jv_copy(crash)), "Running", "crash looping is running");
	is_str(nr_pod_phase("Never", 1, 0, jv_copy(ok)), "Succeeded", "Never, exit 0: Succeeded");
	is_str(nr_pod_phase("Never", 1, 0, jv_copy(bad)), "Failed", "Never, exit 3: Failed");
	is_str(nr_pod_phase("OnFailure", 1, 0, jv_copy(ok)), "Succeeded", "OnFailure, exit 0: Succeeded");
	is_str(nr_pod_phase("OnFailure", 1, 0, jv_copy(bad)), "Running", "OnFailure, exit 3: Running");
	is_str(nr_pod_phase("Never", 0, 1, jv_copy(creating)), "Failed", "a failed init container fails the pod");
	jv_free(running);
	jv_free(creating);
	jv_free(crash);
	jv_free(ok);
	jv_free(bad);
}

static void test_cri(void)
{
	const char *log = "2026-01-01T00:00:00.000001Z stdout F one\n"
			  "2026-01-01T00:00:01.000001Z stderr P tw\n"
			  "2026-01-01T00:00:01.000002Z stderr F o\n"
			  "2026-01-01T00:00:02.000001Z stdout F \n"
			  "2026-01-01T00:00:03.000001Z stdout F three\n";
	kx_buf b = KX_BUF_INIT;

	nr_cri_render(log, strlen(log), -1, 0, &b);
	is_str(kx_buf_str(&b), "one\ntwo\n\nthree\n", "content, partial lines joined");
	kx_buf_reset(&b);
	nr_cri_render(log, strlen(log), 2, 0, &b);
	is_str(kx_buf_str(&b), "\nthree\n", "tail 2");
	kx_buf_reset(&b);
	nr_cri_render(log, strlen(log), 1, 1, &b);
	is_str(kx_buf_str(&b), "2026-01-01T00:00:03.000001Z three\n", "timestamps");
	kx_buf_reset(&b);
	nr_cri_render(log, strlen(log), 0, 0, &b);
	is_str(kx_buf_str(&b), "", "tail 0");
	kx_buf_reset(&b);
	nr_cri_render("garbage\nmore", 12, -1, 0, &b);
	is_str(kx_buf_str(&b), "", "garbage is skipped");
	kx_buf_free(&b);
}

int main(void)
{
	test_backoff();
	test_phase();
	test_cri();
	return done_testing();
}
