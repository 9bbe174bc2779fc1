/* probe.h: the kubelet's prober, shared by kx-health-check and kx-node-run.
 *
 * A probe is parsed from a Kubernetes Probe object (httpGet, tcpSocket,
 * exec) or from a URL given on a command line, run once with a timeout
 * (kx_probe_run), and its results folded into a state with the probe's
 * thresholds (kx_probe_record), as the kubelet's prober workers do.
 *
 * The contract between a prober and kx-node-run is a file per container and
 * probe type: ROOT/pods/UID/probes/CONTAINER.TYPE (TYPE is liveness,
 * readiness or startup), holding one JSON object written atomically:
 *   {"containerID":"...","result":"success|failure|unknown","successes":N,
 *    "failures":N,"reason":"...","time":"RFC3339"}
 * Whoever runs the probe (kx-node-run itself, or kx-health-check --node
 * beside a kx-node-run --once from cron) writes it; kx-node-run reads it:
 * readiness sets the container's ready flag, a liveness failure restarts the
 * container. A file for another containerID is stale and ignored. */
#ifndef KX_PROBE_H
#define KX_PROBE_H

#include <stdint.h>
#include <time.h>
#include <jv.h>

struct kx_err;

enum kx_probe_kind { KX_PROBE_NONE, KX_PROBE_HTTP, KX_PROBE_TCP, KX_PROBE_EXEC, KX_PROBE_GRPC };

#define KX_PROBE_MAX_HEADERS 16
#define KX_PROBE_MAX_ARGS 64
#define KX_PROBE_MAX_BODY 10240 /* bytes of a response or output kept, as the kubelet */

typedef struct kx_probe {
	int kind;              /* enum kx_probe_kind */
	char scheme[8];        /* "http" or "https" */
	char host[256];        /* IP or name; "" means the pod IP (or 127.0.0.1) */
	int port;
	char path[2048];       /* with its query, starts with '/' */
	char service[256];     /* grpc: the service asked about, "" for the server */
	int nheaders;
	char hname[KX_PROBE_MAX_HEADERS][128];
	char hvalue[KX_PROBE_MAX_HEADERS][512];
	int argc;
	char *argv[KX_PROBE_MAX_ARGS + 1]; /* exec: malloc'd strings, NULL-ended */
	int timeout_ms;        /* timeoutSeconds * 1000 */
	/* timing, in seconds, with Kubernetes' defaults */
	int initial_delay, period, success_threshold, failure_threshold;
} kx_probe;

void kx_probe_init(kx_probe *p); /* zeroes and sets Kubernetes' defaults */
void kx_probe_free(kx_probe *p);

/* Parse a Kubernetes Probe object (consumed). pod_ip is the host when the
 * probe names none (may be NULL); ports (consumed; jv_null() for none) is
 * the container's ports array, to resolve a port given by name. Fills e
 * naming the bad field; returns -1. */
int kx_probe_from_json(kx_probe *p, jv probe, const char *pod_ip, jv ports, struct kx_err *e);
/* Parse "http://HOST:PORT/PATH", "https://...", "grpc://HOST:PORT[/SERVICE]",
 * "tcp://HOST:PORT" or "HOST:PORT" (tcp). */
int kx_probe_from_url(kx_probe *p, const char *url, struct kx_err *e);
/* A short description: "http://10.0.0.5:8080/healthz", "tcp://h:p",
 * "exec cat /tmp/ok". */
const char *kx_probe_describe(const kx_probe *p, char *buf, size_t n);

typedef struct kx_probe_result {
	int ok;               /* 1 healthy, 0 not */
	int64_t ms;           /* how long it took */
	char reason[512];     /* why it failed, as the kubelet words it; "" if ok */
} kx_probe_result;

/* Run the probe once, with p->timeout_ms. An exec probe runs on the host, or
 * inside a container with `RUNTIME exec ID -- CMD...` when container is not
 * NULL (runtime NULL means "kx-container"). Returns r->ok. */
int kx_probe_run(const kx_probe *p, const char *runtime, const char *container,
		 kx_probe_result *r);
/* {"probe":"...","healthy":bool,"reason":"...","ms":N} */
jv kx_probe_result_json(const kx_probe *p, const kx_probe_result *r);

/* ---- thresholds: the state of one prober worker ------------------------- */

enum { KX_PROBE_UNKNOWN = -1, KX_PROBE_FAILURE = 0, KX_PROBE_SUCCESS = 1 };

typedef struct kx_probe_state {
	int result;      /* KX_PROBE_*: the thresholded verdict */
	int successes;   /* consecutive */
	int failures;    /* consecutive */
	int64_t last;    /* when it last ran (seconds), 0 never */
	char reason[512];
} kx_probe_state;

/* The verdict before any run: readiness starts failed, liveness succeeded,
 * startup unknown, as in the kubelet. type is "liveness", "readiness" or
 * "startup". */
void kx_probe_state_init(kx_probe_state *s, const char *type);
/* Is a run due at now (seconds) for a container started at started? */
int kx_probe_due(const kx_probe *p, const kx_probe_state *s, int64_t started, int64_t now);
/* Fold one result in. Returns 1 when the verdict changed. Pure. */
int kx_probe_record(const kx_probe *p, kx_probe_state *s, const kx_probe_result *r,
		    int64_t now);

/* The result file: path, read and write (atomically, by rename). */
int kx_probe_file_path(char *buf, size_t n, const char *root, const char *uid,
		       const char *container, const char *type);
/* Reads the state if the file is there and for containerID; returns 0, or -1
 * (state untouched) when absent, stale or malformed. */
int kx_probe_file_read(const char *path, const char *container_id, kx_probe_state *s);
int kx_probe_file_write(const char *path, const char *container_id, const kx_probe_state *s,
			struct kx_err *e);

/* ---- one pass over a node's pods ----------------------------------------- */

/* Run every due probe of one pod (borrowed; as the store has it, with
 * status.containerStatuses giving the running containers and their IDs),
 * updating the result files under root. now is in seconds. Each run is
 * reported to fn (may be NULL) with the pod, the container name, the probe
 * type, the result and whether the verdict changed. Returns the number of
 * probes run. */
typedef void (*kx_probe_report_fn)(void *arg, jv pod, const char *container, const char *type,
				   const kx_probe *p, const kx_probe_result *r,
				   const kx_probe_state *s, int changed);
int kx_probe_pod(jv pod, const char *root, const char *runtime, int64_t now, int force,
		 kx_probe_report_fn fn, void *arg);

/* The message of the kubelet's Unhealthy event: "Liveness probe failed:
 * REASON" for type "liveness". */
const char *kx_probe_message(const char *type, const char *reason, char *buf, size_t n);

/* "kx://abc" -> "abc"; "" when absent. */
const char *kx_probe_container_id(const char *cid);

#endif
