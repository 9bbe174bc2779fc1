/* kx-node-run: the kubelet. Registers this machine as a Node, renews its
 * Lease, and runs the pods bound to it, keeping all its state in files
 * under --root so that it can be killed, restarted or run from cron
 * (--once) without touching the pods. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "noderun.h"
#include "quantity.h"

enum {
	OPT_NODE = KX_OPT_FIRST_PRIVATE,
	OPT_ROOT,
	OPT_POD_CIDR,
	OPT_CLUSTER_DNS,
	OPT_CLUSTER_DOMAIN,
	OPT_RUNTIME,
	OPT_IMAGE,
	OPT_ONCE,
	OPT_PORT,
	OPT_NODE_IP,
	OPT_LOG_DIR,
	OPT_DRY_RUN,
	OPT_NO_PROBES,
	OPT_BRIDGE,
	OPT_COPY_LOG,
	OPT_LOG_MAX,
	OPT_STATUS_FREQ,
	OPT_WORKERS,
};

static const struct kx_opt opts[] = {
	{"node", required_argument, OPT_NODE, "NAME", "this node's name (default: the host name)"},
	{"root", required_argument, OPT_ROOT, "DIR", "where the node's state is (default /var/lib/kx)"},
	{"pod-cidr", required_argument, OPT_POD_CIDR, "CIDR",
	 "the pods' addresses on this node (default: the Node's spec.podCIDR)"},
	{"cluster-dns", required_argument, OPT_CLUSTER_DNS, "IP", "the nameserver pods use"},
	{"cluster-domain", required_argument, OPT_CLUSTER_DOMAIN, "DOMAIN",
	 "the cluster's DNS domain (default cluster.local)"},
	{"runtime", required_argument, OPT_RUNTIME, "PATH",
	 "the OCI runtime (default kx-container; runc's command line)"},
	{"image-tool", required_argument, OPT_IMAGE, "PATH", "the image service (default kx-image)"},
	{"port", required_argument, OPT_PORT, "PORT",
	 "serve container logs on this port (default 10250; 0: off)"},
	{"node-ip", required_argument, OPT_NODE_IP, "IP",
	 "the node's InternalIP, where the store reaches its logs (default 127.0.0.1)"},
	{"log-dir", required_argument, OPT_LOG_DIR, "DIR",
	 "where container logs go (default /var/log/kx/pods)"},
	{"bridge", required_argument, OPT_BRIDGE, "NAME", "the pods' bridge (default kx0)"},
	{"filename", required_argument, 'f', "FILE",
	 "run the pods in FILE (JSON or YAML, with their ConfigMaps and Secrets) without a store"},
	{"once", no_argument, OPT_ONCE, NULL, "one pass, then exit (the pods keep running)"},
	{"dry-run", no_argument, OPT_DRY_RUN, NULL, "print the actions for pods, do not act"},
	{"no-probes", no_argument, OPT_NO_PROBES, NULL,
	 "do not run probes (kx-health-check --node does)"},
	{"pod-workers", required_argument, OPT_WORKERS, "N",
	 "set up or tear down at most N pods at once (default 8; 0: one after another)"},
	{"node-status-update-frequency", required_argument, OPT_STATUS_FREQ, "DURATION",
	 "how often the node's status and Lease are written (default 10s)"},
	{"log-max-size", required_argument, OPT_LOG_MAX, "BYTES",
	 "rotate a container's log file at this size (default 10485760)"},
	{"copy-log", required_argument, OPT_COPY_LOG, NULL, NULL}, /* internal: the log copier */
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER)"},
	KX_OPTS_COMMON_V("say more"),
};

static const char synopsis[] =
	"--node NAME [--server URL] [--root DIR] [--pod-cidr CIDR] [--cluster-dns IP]\n"
	"       [--cluster-domain DOMAIN] [--runtime PATH] [--port PORT] [--once]";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *q = tmp + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	struct nr_config cfg = {0};
	kx_err e = KX_ERR_INIT;
	char host[256], lockpath[4200];
	kx_client *cl;
	int c, lock, status = 0;
	int64_t next_node = 0, next_full = 0, status_ms = 10000;
	char *root_abs = NULL, *log_abs = NULL;
	int need_full = 1;

	cfg.root = "/var/lib/kx";
	cfg.log_dir = "/var/log/kx/pods";
	cfg.pod_cidr = "";
	cfg.cluster_dns = "";
	cfg.cluster_domain = "cluster.local";
	cfg.runtime = "kx-container";
	cfg.image_tool = "kx-image";
	cfg.node_ip = "127.0.0.1";
	cfg.bridge = "kx0";
	cfg.port = 10250;
	cfg.probes = 1;
	cfg.workers = 8;
	cfg.log_max = 10 << 20;
	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_NODE: cfg.node = optarg; break;
		case OPT_ROOT: cfg.root = optarg; break;
		case OPT_POD_CIDR: cfg.pod_cidr = optarg; break;
		case OPT_CLUSTER_DNS: cfg.cluster_dns = optarg; break;
		case OPT_CLUSTER_DOMAIN: cfg.cluster_domain = optarg; break;
		case OPT_RUNTIME: cfg.runtime = optarg; break;
		case OPT_IMAGE: cfg.image_tool = optarg; break;
		case OPT_NODE_IP: cfg.node_ip = optarg; break;
		case OPT_LOG_DIR: cfg.log_dir = optarg; break;
		case OPT_BRIDGE: cfg.bridge = optarg; break;
		case OPT_ONCE: cfg.once = 1; break;
		case 'f': cfg.file = optarg; break;
		case OPT_DRY_RUN: cfg.dry_run = 1; break;
		case OPT_NO_PROBES: cfg.probes = 0; break;
		case OPT_LOG_MAX: cfg.log_max = strtoll(optarg, NULL, 10); break;
		case OPT_COPY_LOG: return nr_copy_log(optarg, cfg.log_max);
		case OPT_STATUS_FREQ:
			if (kx_duration_parse(optarg, &status_ms, &e) < 0 || status_ms <= 0) {
				kx_log_error("bad --node-status-update-frequency \"%s\": want a duration such as 10s",
					     optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_WORKERS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || !*optarg || n < 0 || n > 64) {
				kx_log_error("bad --pod-workers \"%s\": want 0 to 64", optarg);
				return KX_EUSAGE;
			}
			cfg.workers = (int)n;
			break;
		}
		case OPT_PORT: {
			char *end;
			long p = strtol(optarg, &end, 10);
			if (*end || p < 0 || p > 65535) {
				kx_log_error("bad --port \"%s\"", optarg);
				return KX_EUSAGE;
			}
			cfg.port = (int)p;
			break;
		}
		case KX_OPT_SERVER: cfg.server = optarg; break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	if (optind != argc) {
		kx_log_error("unexpected argument \"%s\"", argv[optind]);
		return KX_EUSAGE;
	}
	if (!cfg.node) {
		if (gethostname(host, sizeof host) < 0) {
			kx_log_error("no --node given and no host name");
			return KX_EUSAGE;
		}
		host[sizeof host - 1] = 0;
		cfg.node = host;
	}
	if (!*cfg.node || strpbrk(cfg.node, "/ ") || strlen(cfg.node) > 253) {
		kx_log_error("bad node name \"%s\"", cfg.node);
		return KX_EUSAGE;
	}
	if (mkdir_p(cfg.root) < 0) {
		kx_log_error("cannot create \"%s\": %s", cfg.root, strerror(errno));
		return KX_EFAIL;
	}
	/* absolute, as the bundles' root.path and the log paths given to the
	 * runtime and the log copier must be (they do not run in our cwd) */
	if (!(root_abs = realpath(cfg.root, NULL))) {
		kx_log_error("\"%s\": %s", cfg.root, strerror(errno));
		return KX_EFAIL;
	}
	cfg.root = root_abs;
	if (cfg.log_dir[0] != '/' && mkdir_p(cfg.log_dir) == 0 && (log_abs = realpath(cfg.log_dir, NULL)))
		cfg.log_dir = log_abs;
	snprintf(lockpath, sizeof lockpath, "%s/node-run.lock", cfg.root);
	/* the workers of an agent that was just killed hold the lock until they
	 * finish their pod (seconds): wait for them, but not for another agent */
	for (int i = 0; (lock = kx_lock_acquire(lockpath, 0, &e)) < 0 && i < 100; i++) {
		kx_err_clear(&e);
		usleep(100000);
	}
	if (lock < 0) {
		kx_err_print(&e);
		return KX_EFAIL;
	}
	if (!(cl = kx_client_new(cfg.server, &e))) {
		kx_err_print(&e);
		return e.status;
	}
	kx_client_set_timeout(cl, 10000);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (cfg.file)
		cfg.probes = cfg.probes && !cfg.once;
	if (!cfg.once && nr_serve_start(&cfg, &e) < 0) {
		kx_err_print(&e);
		kx_client_free(cl);
		return KX_EFAIL;
	}
	nr_pods_init(&cfg);
	/* A full pass over the pods when the store (or the file) says something
	 * changed, when a container changed state in the runtime, when a probe
	 * verdict changed, when a back-off ends, and every 30 s regardless;
	 * probes in between. */
	while (!stop) {
		int64_t now = kx_now_ms();
		if (now >= next_node && !cfg.file) {
			if (nr_node_sync(cl, &cfg, 1, &e) < 0) {
				kx_err_print(&e);
				status = e.status ? e.status : KX_EFAIL;
				kx_err_clear(&e);
				next_node = now + (status_ms < 2000 ? status_ms : 2000); /* retry sooner */
			} else
				next_node = now + status_ms;
		}
		if (need_full || now >= next_full) {
			need_full = 0;
			next_full = now + 30000;
			if (nr_pods_sync(cl, &cfg, &e) < 0) {
				kx_err_print(&e);
				status = e.status ? e.status : KX_EFAIL;
				kx_err_clear(&e);
				next_full = now + 1000;
			} else if (!cfg.once)
				status = 0;
		}
		if (cfg.once)
			break;
		if (nr_pods_probe(&cfg))
			need_full = 1;
		now = kx_now_ms();
		if (nr_pods_wait(&cfg, need_full ? 0 : next_node - now < 1000 ? next_node - now : 1000))
			need_full = 1;
		if (nr_pods_relist(&cfg))
			need_full = 1;
		if (nr_pods_next_due() && time(NULL) >= nr_pods_next_due())
			need_full = 1;
	}
	nr_serve_stop();
	kx_client_free(cl);
	kx_lock_release(lock);
	free(root_abs);
	free(log_abs);
	return kx_cli_exit(status);
}
