/* kx-store: the Kubernetes API (kube-apiserver) on an embedded SQLite store
 * (etcd's part). See store.h for how the files divide the work. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "ops.h"
#include "quantity.h"
#include "store.h"

struct store_config cfg = {
	.data = "/var/lib/kx/store",
	.history = 100000,
	.compact_ms = 60000,
	.bookmark_ms = 60000,
	.ring = 16384,
};
atomic_int stopping;

enum {
	OPT_LISTEN = KX_OPT_FIRST_PRIVATE, OPT_DATA, OPT_HISTORY, OPT_COMPACT, OPT_CIDR, OPT_RING,
	OPT_BOOKMARK
};

static const struct kx_opt opts[] = {
	{"listen", required_argument, OPT_LISTEN, "ADDR:PORT", "where to serve HTTP (127.0.0.1:8080; port 0 picks a free one)"},
	{"data", required_argument, OPT_DATA, "DIR", "where the store keeps its file (/var/lib/kx/store)"},
	{"history", required_argument, OPT_HISTORY, "N", "revisions of history kept for watches (100000)"},
	{"compact-interval", required_argument, OPT_COMPACT, "DURATION", "how often history is compacted (1m)"},
	{"service-cidr", required_argument, OPT_CIDR, "CIDR", "where Service cluster IPs come from (10.96.0.0/12)"},
	{"watch-cache", required_argument, OPT_RING, "N", "events kept in memory for watchers (16384)"},
	{"bookmark-interval", required_argument, OPT_BOOKMARK, "DURATION", "how often watches asking for bookmarks get one (1m)"},
	KX_OPTS_COMMON,
};

static const char synopsis[] = "[--listen ADDR:PORT] [--data DIR] [options]";

static int parse_cidr(const char *s, uint32_t *net, uint32_t *mask)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	int bits;

	if (!slash || (size_t)(slash - s) >= sizeof ip)
		return -1;
	snprintf(ip, sizeof ip, "%.*s", (int)(slash - s), s);
	bits = atoi(slash + 1);
	if (inet_pton(AF_INET, ip, &a) != 1 || bits < 8 || bits > 30)
		return -1;
	*mask = bits == 0 ? 0 : ~0u << (32 - bits);
	*net = ntohl(a.s_addr) & *mask;
	return 0;
}

static int listen_on(const char *addr, int *port, kx_err *e)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd, one = 1;

	if (!colon)
		return kx_err_set(e, KX_EUSAGE, "--listen \"%s\": want ADDR:PORT", addr);
	snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
	if (!host[0])
		snprintf(host, sizeof host, "0.0.0.0");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return kx_err_set(e, KX_EUSAGE, "--listen \"%s\": \"%s\" is not an IPv4 address", addr, host);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0) {
		kx_err_set(e, KX_EFAIL, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void *compactor(void *arg)
{
	int64_t next = kx_now_ms() + cfg.compact_ms;

	while (!atomic_load(&stopping)) {
		usleep(100000);
		db_checkpoint();
		if (kx_now_ms() >= next) {
			db_compact();
			next = kx_now_ms() + cfg.compact_ms;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	const char *listen_addr = "127.0.0.1:8080", *cidr = "10.96.0.0/12";
	kx_err e = KX_ERR_INIT;
	char err[512], host[256];
	int c, fd, port = 0;
	sigset_t set;
	struct MHD_Daemon *d;
	pthread_t comp;
	struct rlimit rl;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen_addr = optarg;
			break;
		case OPT_DATA:
			cfg.data = optarg;
			break;
		case OPT_HISTORY:
			cfg.history = strtoll(optarg, NULL, 10);
			if (cfg.history < 1) {
				kx_log_error("--history \"%s\": want a number of revisions >= 1", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_COMPACT:
		case OPT_BOOKMARK: {
			int64_t ms = 0;
			kx_err de = KX_ERR_INIT;
			if (kx_duration_parse(optarg, &ms, &de) < 0 || ms <= 0) {
				kx_log_error("--%s \"%s\": want a duration such as 30s or 5m",
					     c == OPT_COMPACT ? "compact-interval" : "bookmark-interval", optarg);
				return KX_EUSAGE;
			}
			*(c == OPT_COMPACT ? &cfg.compact_ms : &cfg.bookmark_ms) = ms;
			break;
		}
		case OPT_CIDR:
			cidr = optarg;
			break;
		case OPT_RING:
			cfg.ring = atoi(optarg);
			if (cfg.ring < 16) {
				kx_log_error("--watch-cache \"%s\": want at least 16", optarg);
				return KX_EUSAGE;
			}
			break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(c);
		}
	}
	kx_cli_free(&cli);
	if (optind != argc) {
		kx_log_error("unexpected argument \"%s\"", argv[optind]);
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	if (parse_cidr(cidr, &cfg.svc_net, &cfg.svc_mask) < 0) {
		kx_log_error("--service-cidr \"%s\": want an IPv4 CIDR such as 10.96.0.0/12", cidr);
		return KX_EUSAGE;
	}
	mallopt(M_ARENA_MAX, 4); /* many request threads: keep freed memory reusable */
	/* many watchers: as many descriptors as we may have */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this */

	fd = listen_on(listen_addr, &port, &e);
	if (fd < 0) {
		kx_err_print(&e);
		return e.status;
	}
	if (db_open(cfg.data, err, sizeof err) < 0) {
		kx_log_error("%s", err);
		return KX_EFAIL;
	}
	if (ops_bootstrap() < 0) {
		db_close();
		return KX_EFAIL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_POLL | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, api_handler, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)60000,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
			     MHD_OPTION_END);
	if (!d) {
		kx_log_error("cannot start the HTTP server on %s", listen_addr);
		db_close();
		return KX_EFAIL;
	}
	pthread_create(&comp, NULL, compactor, NULL);
	snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen_addr, ':') - listen_addr), listen_addr);
	kx_log_info("listening on http://%s:%d (data in %s, revision %lld)", host[0] ? host : "0.0.0.0",
		    port, cfg.data, (long long)db_rev());

	sigwait(&set, &c);
	kx_log_info("%s: stopping", c == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&stopping, 1);
	ring_shutdown();
	/* let open watches end their streams properly before connections close */
	for (int i = 0; i < 40 && watchers_count() > 0; i++)
		usleep(50000);
	MHD_stop_daemon(d); /* waits for the requests in flight */
	pthread_join(comp, NULL);
	db_checkpoint(); /* closes its connection */
	db_close();
	ring_free();
	kx_log_info("stopped at revision %lld", (long long)db_rev());
	return 0;
}
