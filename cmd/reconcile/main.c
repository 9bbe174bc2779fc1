/* kx-reconcile: kube-controller-manager's controllers, one pass at a time.
 *
 * A pass observes the objects the chosen controllers need, lets each decide
 * (pure functions, see reconcile.h) and acts, in order, each controller
 * seeing what the previous ones did. Rounds repeat until one has nothing to
 * do (at most MAX_ROUNDS), so one run takes a new Deployment all the way to
 * its pods. With --watch, a pass follows every batch of changes in the
 * store, and runs at least every --node-monitor-period. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "kinds.h"
#include "lease.h"
#include "lock.h"
#include "log.h"
#include "pass.h"
#include "quantity.h"
#include "reconcile.h"

#define MAX_ROUNDS 5

const struct rc_controller rc_controllers[] = {
	{"namespace", "namespace-controller", rc_namespace_decide, "namespaces"},
	{"garbagecollector", "garbage-collector-controller", rc_gc_decide,
	 "pods replicasets deployments replicationcontrollers services endpoints endpointslices "
	 "configmaps secrets serviceaccounts"},
	{"node", "node-controller", rc_node_decide, "nodes leases pods"},
	{"deployment", "deployment-controller", rc_deployment_decide, "deployments replicasets"},
	{"replicaset", "replicaset-controller", rc_replicaset_decide, "replicasets pods"},
	{"replicationcontroller", "replication-controller", rc_replicationcontroller_decide,
	 "replicationcontrollers pods"},
	{"endpoints", "endpoint-controller", rc_endpoints_decide, "services pods endpoints"},
	{"endpointslice", "endpointslice-controller", rc_endpointslice_decide,
	 "services pods endpointslices"},
	{"serviceaccount", "service-account-controller", rc_serviceaccount_decide,
	 "namespaces serviceaccounts"},
	{"resourcequota", "resourcequota-controller", rc_resourcequota_decide,
	 "resourcequotas pods services configmaps secrets replicationcontrollers "
	 "persistentvolumeclaims"},
};
const size_t rc_controllers_count = sizeof rc_controllers / sizeof rc_controllers[0];

enum {
	OPT_LOCK = KX_OPT_FIRST_PRIVATE,
	OPT_LEADER,
	OPT_LEASE,
	OPT_LEASE_DURATION,
	OPT_IDENTITY,
	OPT_PERIOD,
	OPT_GRACE,
	OPT_EVICTION,
	OPT_NOW,
	OPT_LIST,
};

static const struct kx_opt opts[] = {
	{"controllers", required_argument, 'c', "LIST",
	 "run only these controllers (comma-separated; default all)"},
	{"filename", required_argument, 'f', "FILE",
	 "observe the objects in FILE (JSON/YAML, Lists; - is stdin), not the store"},
	{"dry-run", no_argument, 'n', NULL, "print the actions as JSON lines instead of doing them"},
	{"watch", no_argument, 'w', NULL, "keep going: a pass after every batch of changes"},
	{"lock", required_argument, OPT_LOCK, "FILE", "hold an exclusive lock on FILE while running"},
	{"leader-elect", no_argument, OPT_LEADER, NULL, "with --watch, act only while holding the Lease"},
	{"leader-elect-lease", required_argument, OPT_LEASE, "NS/NAME",
	 "the Lease to elect through (kube-system/kx-reconcile)"},
	{"leader-elect-lease-duration", required_argument, OPT_LEASE_DURATION, "DURATION",
	 "how long a leader's Lease lasts unrenewed (15s)"},
	{"identity", required_argument, OPT_IDENTITY, "ID", "this candidate's name (HOSTNAME_PID)"},
	{"node-monitor-period", required_argument, OPT_PERIOD, "DURATION",
	 "with --watch, a pass at least this often (5s)"},
	{"node-monitor-grace-period", required_argument, OPT_GRACE, "DURATION",
	 "a node silent this long is Unknown (40s)"},
	{"pod-eviction-timeout", required_argument, OPT_EVICTION, "DURATION",
	 "pods leave a tainted node after this (5m)"},
	{"now", required_argument, OPT_NOW, "TIME", "decide as if it were TIME (RFC 3339)"},
	{"list-controllers", no_argument, OPT_LIST, NULL, "list the controllers and exit"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	KX_OPTS_COMMON_V("say what is done (repeat for more)"),
};

static const char synopsis[] =
	"[-c LIST] [-f FILE] [-n] [-w [--leader-elect]] [--lock FILE] [options]";

struct run {
	const char *server, *file, *lock, *lease, *identity_opt;
	int dry_run, watch, leader;
	int64_t period_ms, lease_ms;
	time_t fixed_now;
	int selected[32];
	struct rc_conf conf;
	char resources[1024];
	int deep;
};

static int wake_fd[2] = {-1, -1};
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (wake_fd[1] >= 0 && write(wake_fd[1], "s", 1) < 0) {
		/* nothing to do: the loop also checks stopping */
	}
}

/* --controllers a,b: mark the chosen ones; -1 (e) for an unknown name. */
static int choose(struct run *r, const char *list, kx_err *e)
{
	char *copy = strdup(list), *save = NULL;

	memset(r->selected, 0, sizeof r->selected);
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < rc_controllers_count; i++)
			if (!strcmp(rc_controllers[i].name, w) ||
			    (!strcmp(w, "gc") && !strcmp(rc_controllers[i].name, "garbagecollector")))
				break;
		if (i == rc_controllers_count) {
			kx_err_set(e, KX_EUSAGE, "unknown controller \"%s\" (see --list-controllers)", w);
			free(copy);
			return -1;
		}
		r->selected[i] = 1;
	}
	free(copy);
	return 0;
}

static void collect_resources(struct run *r)
{
	r->resources[0] = 0;
	r->deep = 0;
	for (size_t i = 0; i < rc_controllers_count; i++) {
		if (!r->selected[i])
			continue;
		if (!strcmp(rc_controllers[i].name, "namespace"))
			r->deep = 1;
		if (r->resources[0])
			strncat(r->resources, " ", sizeof r->resources - strlen(r->resources) - 1);
		strncat(r->resources, rc_controllers[i].resources, sizeof r->resources - strlen(r->resources) - 1);
	}
}

/* One pass. Returns the exit status it earned. */
static int pass(struct run *r, kx_client *c, long *writes)
{
	struct rc_actor act;
	kx_err e = KX_ERR_INIT;
	jv world;
	int status = 0;

	rc_actor_init(&act, c, r->dry_run);
	r->conf.now = r->fixed_now ? r->fixed_now : act.now.tv_sec;
	if (r->fixed_now)
		act.now.tv_sec = r->fixed_now, act.now.tv_nsec = 0;
	world = r->file ? rc_observe_file(r->file, &e) : rc_observe_store(c, r->resources, r->deep, &e);
	if (!jv_is_valid(world)) {
		kx_err_print(&e);
		rc_actor_free(&act);
		return e.status ? e.status : KX_EFAIL;
	}
	for (int round = 0; round < MAX_ROUNDS; round++) {
		long before = act.writes, conflicts = act.conflicts;
		int acted = 0;
		for (size_t i = 0; i < rc_controllers_count && act.status != KX_EUNREACH; i++) {
			if (!r->selected[i])
				continue;
			jv actions = rc_controllers[i].decide(world, &r->conf);
			jv_array_foreach(actions, k, a) {
				acted = 1;
				if (rc_act(&act, a, rc_controllers[i].component, &world) < 0)
					break;
			}
			jv_free(actions);
		}
		kx_log_debug(2, "round %d: %ld writes, %ld conflicts", round + 1, act.writes - before,
			     act.conflicts - conflicts);
		if (!acted || r->dry_run || act.status == KX_EUNREACH)
			break;
		if (act.conflicts > conflicts && !r->file) {
			/* someone else wrote: read everything again */
			jv w2 = rc_observe_store(c, r->resources, r->deep, &e);
			if (!jv_is_valid(w2)) {
				kx_err_print(&e);
				status = e.status;
				break;
			}
			jv_free(world);
			world = w2;
			rc_actor_reset(&act);
		}
		if (act.writes == before && act.conflicts == conflicts)
			break; /* only failures: another round would fail the same way */
	}
	jv_free(world);
	if (writes)
		*writes += act.writes;
	kx_log_debug(1, "pass done: %ld writes, %ld conflicts", act.writes, act.conflicts);
	if (!status)
		status = act.status;
	rc_actor_free(&act);
	return status;
}

/* ---- --watch ---------------------------------------------------------- */

struct watcher {
	const char *server;
	char path[512];
	pthread_t thread;
};

static int on_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	(void)line;
	(void)len;
	if (write(wake_fd[1], "w", 1) < 0) {
		/* a full pipe is already a wake-up */
	}
	return stopping;
}

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;
	kx_err e = KX_ERR_INIT;
	kx_client *c = kx_client_new(w->server, &e);

	if (!c)
		return NULL;
	kx_client_set_timeout(c, 0);
	while (!stopping) {
		if (kx_client_stream(c, w->path, on_line, NULL, &e) < 0) {
			kx_log_debug(1, "watch %s: %s", w->path, e.msg);
			kx_err_clear(&e);
		}
		sleep(1); /* the stream ended: after a pause, watch again */
	}
	kx_client_free(c);
	return NULL;
}

static int start_watchers(struct run *r, struct watcher **out, size_t *n)
{
	char *copy = strdup(r->resources), *save = NULL;
	struct watcher *ws = calloc(32, sizeof *ws);
	size_t k = 0;

	for (char *res = strtok_r(copy, " ", &save); res && k < 32; res = strtok_r(NULL, " ", &save)) {
		const kx_kind *kind = kx_kind_lookup(res);
		kx_buf p = KX_BUF_INIT;
		int dup = 0;
		if (!kind)
			continue;
		kx_kind_path(&p, kind, !strcmp(res, "leases") ? "kube-node-lease" : NULL, NULL, NULL);
		kx_buf_adds(&p, "?watch=true");
		for (size_t j = 0; j < k; j++)
			dup |= !strcmp(ws[j].path, kx_buf_str(&p));
		if (!dup) {
			ws[k].server = r->server;
			snprintf(ws[k].path, sizeof ws[k].path, "%s", kx_buf_str(&p));
			if (pthread_create(&ws[k].thread, NULL, watch_thread, &ws[k]) == 0)
				pthread_detach(ws[k].thread);
			k++;
		}
		kx_buf_free(&p);
	}
	free(copy);
	*out = ws;
	*n = k;
	return 0;
}

static int watch_loop(struct run *r, kx_client *c, const char *identity)
{
	struct watcher *ws = NULL;
	size_t nw = 0;
	char ns[256], name[256];
	int status = 0, leader = 0;

	if (pipe(wake_fd) < 0) {
		kx_log_error("cannot make a pipe: %s", strerror(errno));
		return KX_EFAIL;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (r->leader) {
		const char *slash = strchr(r->lease, '/');
		snprintf(ns, sizeof ns, "%.*s", (int)(slash - r->lease), r->lease);
		snprintf(name, sizeof name, "%s", slash + 1);
	}
	if (!r->file)
		start_watchers(r, &ws, &nw);
	while (!stopping) {
		int64_t timeout = r->period_ms;
		if (r->leader) {
			kx_err e = KX_ERR_INIT;
			int was = leader;
			leader = kx_lease_try(c, ns, name, identity, (int)((r->lease_ms + 999) / 1000), &e);
			if (leader < 0) {
				kx_err_print(&e);
				leader = 0;
			}
			if (leader != was)
				kx_log_info("%s the leader (lease %s/%s)", leader ? "became" : "is no longer", ns,
					    name);
			/* renew well before the lease runs out, as client-go retries */
			if (timeout > r->lease_ms / 3)
				timeout = r->lease_ms / 3;
		}
		if (!r->leader || leader) {
			status = pass(r, c, NULL);
			if (status == KX_EUNREACH)
				kx_log_error("the store is unreachable; trying again");
		}
		struct pollfd pfd = {wake_fd[0], POLLIN, 0};
		if (poll(&pfd, 1, (int)timeout) > 0) {
			char buf[4096];
			usleep(100 * 1000); /* let a batch of events arrive */
			while (poll(&pfd, 1, 0) > 0 && read(wake_fd[0], buf, sizeof buf) > 0)
				;
		}
	}
	if (r->leader && leader) {
		kx_err e = KX_ERR_INIT;
		if (kx_lease_release(c, ns, name, identity, &e) < 0)
			kx_err_print(&e);
	}
	free(ws); /* detached threads die with the process */
	return 0;
}

static int parse_ms(const char *opt, const char *s, int64_t *ms)
{
	kx_err e = KX_ERR_INIT;

	if (kx_duration_parse(s, ms, &e) < 0) {
		kx_log_error("bad --%s \"%s\": %s", opt, s, e.msg);
		return -1;
	}
	return 0;
}

/* --complete: the controllers --controllers names */
static const char *const controller_names[] = {"namespace", "garbagecollector", "node", "deployment",
						"replicaset", "replicationcontroller", "endpoints",
						"endpointslice", "serviceaccount", "resourcequota",
						NULL};

int main(int argc, char **argv)
{
	struct kx_cli cli;
	struct run r;
	kx_err e = KX_ERR_INIT;
	kx_client *c = NULL;
	char identity[300], host[256];
	int ch, status = 0, lock_fd = -1;

	kx_log_init(argv[0]);
	memset(&r, 0, sizeof r);
	r.lease = "kube-system/kx-reconcile";
	r.period_ms = 5000;
	r.lease_ms = 15000;
	r.conf.node_grace_ms = 40000;
	r.conf.eviction_ms = 300000;
	for (size_t i = 0; i < rc_controllers_count; i++)
		r.selected[i] = 1;
	kx_cli_init(&cli, opts);
	while ((ch = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (choose(&r, optarg, &e) < 0) {
				kx_err_print(&e);
				kx_cli_free(&cli);
				return KX_EUSAGE;
			}
			break;
		case 'f':
			r.file = optarg;
			break;
		case 'n':
			r.dry_run = 1;
			break;
		case 'w':
			r.watch = 1;
			break;
		case OPT_LOCK:
			r.lock = optarg;
			break;
		case OPT_LEADER:
			r.leader = 1;
			break;
		case OPT_LEASE:
			r.lease = optarg;
			if (!strchr(r.lease, '/') || r.lease[0] == '/' || !strchr(r.lease, '/')[1]) {
				kx_log_error("bad --leader-elect-lease \"%s\": want NAMESPACE/NAME", optarg);
				kx_cli_free(&cli);
				return KX_EUSAGE;
			}
			break;
		case OPT_LEASE_DURATION:
		case OPT_PERIOD:
		case OPT_GRACE:
		case OPT_EVICTION: {
			int64_t *to = ch == OPT_LEASE_DURATION ? &r.lease_ms
				      : ch == OPT_PERIOD       ? &r.period_ms
				      : ch == OPT_GRACE        ? &r.conf.node_grace_ms
							       : &r.conf.eviction_ms;
			const char *n = ch == OPT_LEASE_DURATION ? "leader-elect-lease-duration"
					: ch == OPT_PERIOD       ? "node-monitor-period"
					: ch == OPT_GRACE        ? "node-monitor-grace-period"
								 : "pod-eviction-timeout";
			if (parse_ms(n, optarg, to) < 0) {
				kx_cli_free(&cli);
				return KX_EUSAGE;
			}
			break;
		}
		case OPT_IDENTITY:
			r.identity_opt = optarg;
			break;
		case OPT_NOW:
			if (kx_time_parse(optarg, &r.fixed_now) < 0) {
				kx_log_error("bad --now \"%s\": want a time like 2026-11-26T18:42:00Z", optarg);
				kx_cli_free(&cli);
				return KX_EUSAGE;
			}
			break;
		case OPT_LIST:
			for (size_t i = 0; i < rc_controllers_count; i++)
				printf("%s\n", rc_controllers[i].name);
			kx_cli_free(&cli);
			return kx_cli_exit(0);
		case KX_OPT_SERVER:
			r.server = optarg;
			break;
		default:
			if ((ch = kx_cli_common(ch, synopsis, opts, controller_names)) != KX_CLI_NEXT) {
				kx_cli_free(&cli);
				return kx_cli_exit(ch);
			}
		}
	}
	kx_cli_free(&cli);
	if (optind < argc) {
		kx_log_error("unexpected argument \"%s\"", argv[optind]);
		kx_cli_usage(stderr, synopsis, opts);
		return KX_EUSAGE;
	}
	if (r.leader && !r.watch) {
		kx_log_error("--leader-elect needs --watch");
		return KX_EUSAGE;
	}
	if (r.period_ms <= 0)
		r.period_ms = 1000;
	if (r.lease_ms < 1000)
		r.lease_ms = 1000;
	collect_resources(&r);
	r.server = kx_server_url(r.server);
	if (r.identity_opt) {
		snprintf(identity, sizeof identity, "%s", r.identity_opt);
	} else {
		if (gethostname(host, sizeof host) < 0)
			strcpy(host, "localhost");
		host[sizeof host - 1] = 0;
		snprintf(identity, sizeof identity, "%s_%ld", host, (long)getpid());
	}

	if (r.lock && (lock_fd = kx_lock_acquire(r.lock, 0, &e)) < 0) {
		kx_err_print(&e);
		return e.status ? e.status : KX_EFAIL;
	}
	if (!r.dry_run || !r.file || r.watch) {
		c = kx_client_new(r.server, &e);
		if (!c) {
			kx_err_print(&e);
			kx_lock_release(lock_fd);
			return e.status ? e.status : KX_EUNREACH;
		}
	}
	if (r.watch)
		status = watch_loop(&r, c, identity);
	else
		status = pass(&r, c, NULL);
	if (c)
		kx_client_free(c);
	kx_lock_release(lock_fd);
	return kx_cli_exit(status);
}
