/* noderun.h: kx-node-run's parts. node.c: the Node object and its Lease;
 * pods.c: running the pods; logs.c: the log server. Pure functions (no I/O)
 * are marked so; tests/unit/test_node*.c include the .c files. */
#ifndef KX_NODERUN_H
#define KX_NODERUN_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <jv.h>

#include "http.h"

#include "json.h"

struct kx_err;

/* kx_jv_str that always fills buf: with def when the field is absent. */
static inline const char *nr_str(jv v, const char *path, char *buf, size_t n, const char *def)
{
	if (!kx_jv_str(v, path, buf, n, NULL) && def != buf)
		snprintf(buf, n, "%s", def ? def : "");
	return buf;
}

/* What kx-node-run was told. */
struct nr_config {
	const char *node;
	const char *server;
	const char *root;         /* /var/lib/kx */
	const char *log_dir;      /* /var/log/kx/pods */
	const char *pod_cidr;     /* "" when none */
	const char *cluster_dns;  /* "" when none */
	const char *cluster_domain;
	const char *file;         /* -f: pods from this file, not the store */
	const char *runtime;      /* kx-container */
	const char *image_tool;   /* kx-image */
	const char *node_ip;      /* InternalIP, default 127.0.0.1 */
	const char *bridge;       /* kx0 */
	int64_t log_max;          /* rotate logs at this size */
	int port;                 /* log server, as the kubelet's 10250; 0: none */
	int once;
	int dry_run;
	int probes;               /* run probes in-process */
	int workers;              /* pods set up at once, in child processes; 0: in the pass */
};

/* The facts about this machine that go into the Node's status. */
struct nr_facts {
	int64_t cpus;             /* cores */
	int64_t mem_total;        /* bytes */
	int64_t mem_available;    /* bytes */
	int64_t disk_total;       /* bytes, of the filesystem holding root */
	int64_t disk_avail;
	int64_t pids_max;
	int64_t pids_used;
	char arch[32];            /* "amd64" */
	char kernel[128];
	char os_image[128];
	char machine_id[64];
	char boot_id[64];
};

/* ---- node.c ---- */
int nr_facts_gather(struct nr_facts *f, const char *root);
/* Pure: the Node to create, with labels, spec and status. */
jv nr_node_new(const struct nr_config *c, const struct nr_facts *f, time_t now);
/* Pure: the Node's status from the facts; conditions keep their
 * lastTransitionTime from prev (the current status, consumed) while their
 * status does not change. */
jv nr_node_status(jv prev, const struct nr_config *c, const struct nr_facts *f, time_t now);
/* Pure: "x86_64" -> "amd64". */
const char *nr_arch(const char *machine);
/* Pure: the Lease (new, or prev updated; prev consumed, jv_null() if none). */
jv nr_lease(jv prev, const char *node, const char *node_uid, const struct timespec *now);
/* Register the node if needed and write its status and Lease. */
int nr_node_sync(kx_client *cl, const struct nr_config *c, int status_too, struct kx_err *e);

/* ---- pods.c ---- */
void nr_pods_init(struct nr_config *c);
/* One pass over the pods bound to this node. */
int nr_pods_sync(kx_client *cl, struct nr_config *c, struct kx_err *e);
/* Sleep until a pod changes in the store (or the -f file), or ms pass;
 * 1 when something changed. */
int nr_pods_wait(struct nr_config *c, int64_t ms);
/* Run the probes that are due on the pods of the last pass; 1 when a
 * verdict changed. */
int nr_pods_probe(struct nr_config *c);
/* When the last pass wants to be run again (a back-off ending), in seconds
 * since the epoch; 0: no need. */
int64_t nr_pods_next_due(void);
/* List the runtime's containers; 1 when that changed since the last look. */
int nr_pods_relist(struct nr_config *c);

/* ---- logs.c ---- */
/* Serve /containerLogs/NS/POD/CONTAINER on c->port, as the kubelet. */
int nr_serve_start(const struct nr_config *c, struct kx_err *e);
void nr_serve_stop(void);
/* The hidden log copier: reads the container's stdout (fd 3) and stderr
 * (fd 4) and writes CRI log lines to path, rotating at max bytes. */
int nr_copy_log(const char *path, int64_t max);
/* Pure: CRI log lines to what `kubectl logs` prints (tail < 0: all). */
void nr_cri_render(const char *text, size_t n, long tail, int timestamps, kx_buf *out);

#endif
