/* kx-schedule-once: kube-scheduler, one pass at a time.
 *
 * observe (the store, or -f FILE) -> decide (sched_decide, pure) -> act
 * (bind, or mark Unschedulable), or print the decisions (--dry-run) or
 * why (--explain). --watch repeats the pass as pods and nodes change. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "lease.h"
#include "lock.h"
#include "log.h"
#include "observe.h"
#include "quantity.h"
#include "sched.h"
#include "yaml.h"

enum {
	O_DRY_RUN = KX_OPT_FIRST_PRIVATE,
	O_EXPLAIN,
	O_WATCH,
	O_LEADER,
	O_LOCK,
	O_FAIL,
	O_SCHEDNAME,
	O_POLICY,
	O_WEIGHT,
	O_PREFER,
	O_PERCENT,
	O_SEED,
	O_PARALLEL,
	O_BATCH,
	O_RESYNC,
	O_EVENTS,
	O_LEASE,
	O_LEASE_DURATION,
};

static const struct kx_opt opts[] = {
	{"filename", required_argument, 'f', "FILE", "read pods and nodes from FILE (- for stdin), not the store"},
	{"dry-run", no_argument, O_DRY_RUN, NULL, "bind nothing; print one JSON line per pod"},
	{"explain", required_argument, O_EXPLAIN, "NS/POD", "print every node's filters and scores for one pod"},
	{"watch", no_argument, O_WATCH, NULL, "keep scheduling as pods and nodes change"},
	{"leader-elect", no_argument, O_LEADER, NULL, "with --watch: act only while holding the Lease"},
	{"leader-elect-lease", required_argument, O_LEASE, "NS/NAME", "the Lease to hold (kube-system/kx-scheduler)"},
	{"leader-elect-lease-duration", required_argument, O_LEASE_DURATION, "DURATION", "how long the Lease lasts unrenewed (15s)"},
	{"lock", required_argument, O_LOCK, "FILE", "take an exclusive lock on FILE for the run"},
	{"fail-unschedulable", no_argument, O_FAIL, NULL, "exit 1 when some pod fits nowhere"},
	{"scheduler-name", required_argument, O_SCHEDNAME, "NAME", "schedule pods with this schedulerName (default-scheduler)"},
	{"policy", required_argument, O_POLICY, "FILE", "score weights from a Policy or KubeSchedulerConfiguration"},
	{"weight", required_argument, O_WEIGHT, "SCORE=N", "set one score's weight (repeatable)"},
	{"prefer-label", required_argument, O_PREFER, "LABEL", "prefer nodes with (KEY[=VALUE]) or without (!KEY) a label"},
	{"percentage-of-nodes-to-score", required_argument, O_PERCENT, "N", "score only N% of nodes (0: adaptive)"},
	{"seed", required_argument, O_SEED, "N", "seed for breaking ties (default 0)"},
	{"events", required_argument, O_EVENTS, "WHICH", "Events to record: all, failed (FailedScheduling only), none"},
	{"parallel", required_argument, O_PARALLEL, "N", "requests in flight when binding (default 16)"},
	{"batch", required_argument, O_BATCH, "DURATION", "with --watch: wait this long to batch changes (default 100ms)"},
	{"resync", required_argument, O_RESYNC, "DURATION", "with --watch: a full pass at least this often (default 30s)"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	KX_OPTS_COMMON_V("say more (repeatable)"),
};

static const char synopsis[] =
	"[-f FILE] [--dry-run | --explain NS/POD | --watch] [--lock FILE] [options]";

struct run {
	const char *file, *explain, *lock, *server;
	int dry_run, watch, leader, fail_unsched, parallel, events;
	int64_t batch_ms, resync_ms, lease_ms;
	const char *lease;
	sched_config cfg;
};

/* ==== one pass =========================================================== */

/* Observe, decide, act once. *unsched receives the number of pods that fit
 * nowhere. Returns 0 or an exit status with e filled. */
static int pass(struct run *r, kx_client *cl, int *unsched, kx_err *e)
{
	jv objs;
	sched_cluster *c;
	sched_decision *d;
	size_t n;
	sched_explain ex = {0};
	int64_t t0 = kx_now_ms(), t1;

	*unsched = 0;
	objs = r->file ? sched_observe_file(r->file, e) : sched_observe_store(cl, e);
	if (!jv_is_valid(objs))
		return e->status ? e->status : KX_EFAIL;
	int64_t tm = kx_now_ms();
	c = sched_cluster_new(objs, &r->cfg, e);
	if (!c)
		return KX_EFAIL;
	jv_array_foreach(c->warnings, i, w)
	{
		kx_log_error("%s", jv_string_value(w));
		jv_free(w);
	}
	t1 = kx_now_ms();
	ex.pod = r->explain;
	d = sched_decide(c, &n, r->explain ? &ex : NULL);
	kx_log_debug(1, "observed %d nodes and %d pods in %lld ms (model %lld ms); decided %zu pods in %lld ms",
		     c->nnodes, c->npods, (long long)(t1 - t0), (long long)(t1 - tm), n,
		     (long long)(kx_now_ms() - t1));
	for (size_t i = 0; i < n; i++)
		if (d[i].node < 0)
			(*unsched)++;
	int status = 0;
	if (r->explain) {
		kx_buf b = KX_BUF_INIT;
		sched_explain_print(c, &ex, &b);
		fputs(kx_buf_str(&b), stdout);
		kx_buf_free(&b);
		if (!ex.found) {
			kx_err_set(e, KX_EFAIL, "pod \"%s\" is not pending for %s", r->explain,
				   r->cfg.scheduler);
			status = KX_EFAIL;
		}
		sched_explain_free(&ex);
	} else if (r->dry_run) {
		kx_buf b = KX_BUF_INIT;
		for (size_t i = 0; i < n; i++) {
			kx_json_dump_buf(&b, sched_decision_json(c, &d[i]), 0);
			kx_buf_addc(&b, '\n');
			if (b.len > (1u << 16)) {
				fwrite(b.p, 1, b.len, stdout);
				kx_buf_reset(&b);
			}
		}
		if (b.len)
			fwrite(b.p, 1, b.len, stdout);
		kx_buf_free(&b);
	} else {
		sched_act_result res;
		sched_act(kx_server_url(r->server), c, d, n, r->parallel, r->events, &res);
		kx_log_debug(1, "bound %d pods, %d skipped (changed meanwhile), %d unschedulable (%d newly marked), %d failed, %d events",
			     res.bound, res.conflicts, res.unschedulable, res.marked, res.failed, res.events);
		if (res.failed) {
			*e = res.err;
			if (res.failed > 1)
				kx_err_wrap(e, "%d actions failed, the first", res.failed);
			status = e->status ? e->status : KX_EFAIL;
		}
	}
	sched_decisions_free(d, n);
	sched_cluster_free(c);
	return status;
}

/* ==== --watch ============================================================ */

static volatile sig_atomic_t stopping;
static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static int dirty;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void mark_dirty(void)
{
	pthread_mutex_lock(&wmu);
	dirty = 1;
	pthread_cond_signal(&wcond);
	pthread_mutex_unlock(&wmu);
}

/* A watch event that may change a decision: any node event; a pod that is
 * pending, gone, or finished (freeing its node). Bound pods' status updates
 * (the kubelet's) change nothing here. */
static int on_event(void *arg, const char *line, size_t len)
{
	int pods = *(int *)arg;
	kx_err e = KX_ERR_INIT;
	jv ev;
	char type[32], buf[64];

	if (stopping)
		return 1;
	if (!pods) {
		mark_dirty();
		return 0;
	}
	ev = kx_json_parse(line, len, &e);
	if (!jv_is_valid(ev)) {
		jv_free(ev);
		mark_dirty();
		return 0;
	}
	sched_jstr(ev, "type", type, sizeof type);
	sched_jstr(ev, "object.status.phase", buf, sizeof buf);
	if (!strcmp(type, "DELETED") || !strcmp(type, "ERROR") || !strcmp(buf, "Succeeded") ||
	    !strcmp(buf, "Failed") || !kx_jv_str(ev, "object.spec.nodeName", buf, sizeof buf, NULL))
		mark_dirty();
	jv_free(ev);
	return 0;
}

struct watcher {
	const char *server, *path;
	int pods;
};

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;

	while (!stopping) {
		kx_err e = KX_ERR_INIT;
		kx_client *cl = kx_client_new(w->server, &e);
		if (cl) {
			if (kx_client_stream(cl, w->path, on_event, &w->pods, &e) < 0)
				kx_log_debug(1, "watch %s: %s", w->path, e.msg);
			kx_client_free(cl);
		}
		mark_dirty(); /* something may have been missed: look again */
		sleep(1);
	}
	return NULL;
}

static int watch(struct run *r, kx_client *cl, kx_err *e)
{
	static struct watcher w[2];
	pthread_t th[2];
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	w[0] = (struct watcher){kx_server_url(r->server), "/api/v1/pods?watch=true", 1};
	w[1] = (struct watcher){kx_server_url(r->server), "/api/v1/nodes?watch=true", 0};
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[i], NULL, watch_thread, &w[i]);
		pthread_detach(th[i]);
	}
	kx_log_debug(1, "watching pods and nodes at %s", kx_server_url(r->server));
	char ns[256] = "", name[256] = "", identity[320], host[256] = "";
	int leader = 0;
	if (r->leader) {
		const char *slash = strchr(r->lease, '/');
		snprintf(ns, sizeof ns, "%.*s", (int)(slash - r->lease), r->lease);
		snprintf(name, sizeof name, "%s", slash + 1);
		gethostname(host, sizeof host - 1);
		snprintf(identity, sizeof identity, "%s_%ld", host[0] ? host : "kx", (long)getpid());
	}
	while (!stopping) {
		int unsched, rc;
		kx_err pe = KX_ERR_INIT;
		int64_t wait_ms = r->resync_ms;
		if (r->leader) {
			int was = leader;
			leader = kx_lease_try(cl, ns, name, identity, (int)((r->lease_ms + 999) / 1000), &pe);
			if (leader < 0) {
				kx_log_error("%s", pe.msg);
				leader = 0;
			}
			if (leader != was)
				kx_log_info("%s the leader (lease %s/%s, identity %s)",
					    leader ? "became" : "is no longer", ns, name, identity);
			/* renew well before the lease runs out, as client-go does */
			if (wait_ms > r->lease_ms / 3)
				wait_ms = r->lease_ms / 3;
		}
		pthread_mutex_lock(&wmu);
		dirty = 0;
		pthread_mutex_unlock(&wmu);
		if (!r->leader || leader) {
			rc = pass(r, cl, &unsched, &pe);
			if (rc)
				kx_log_error("%s", pe.msg);
		}
		fflush(stdout);
		/* wait for a change (or the resync), then a little longer so that
		 * a burst of changes makes one pass */
		int64_t deadline = kx_now_ms() + wait_ms;
		pthread_mutex_lock(&wmu);
		while (!dirty && !stopping && kx_now_ms() < deadline) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&wcond, &wmu, &ts);
		}
		pthread_mutex_unlock(&wmu);
		if (!stopping && r->batch_ms > 0)
			usleep((useconds_t)(r->batch_ms * 1000));
	}
	if (r->leader && leader && kx_lease_release(cl, ns, name, identity, e) < 0)
		kx_err_print(e);
	return 0;
}

/* ==== main =============================================================== */

static int load_policy(struct run *r, const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	jv docs;

	if (kx_buf_read_file(&b, path, 1 << 20, e) < 0)
		return -1;
	docs = kx_yaml_parse(b.p ? b.p : "", b.len, path, e);
	kx_buf_free(&b);
	if (!jv_is_valid(docs))
		return -1;
	if (jv_array_length(jv_copy(docs)) != 1) {
		jv_free(docs);
		return kx_err_set(e, KX_EUSAGE, "%s: expected one policy document", path);
	}
	if (sched_config_policy(&r->cfg, jv_array_get(docs, 0), e) < 0)
		return kx_err_wrap(e, "%s", path);
	return 0;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct kx_cli cli;
	struct run r = {0};
	kx_err e = KX_ERR_INIT;
	sched_prefer *prefer = NULL;
	size_t nprefer = 0;
	const char *policy = NULL;
	char **weights = NULL;
	size_t nweights = 0;
	int c, status = 0, lockfd = -1;
	int64_t v;
	kx_client *cl = NULL;

	kx_log_init(argv[0]);
	sched_config_default(&r.cfg);
	r.parallel = 16;
	r.batch_ms = 100;
	r.resync_ms = 30000;
	r.lease_ms = 15000;
	r.lease = "kube-system/kx-scheduler";
	kx_cli_init(&cli, opts);
	while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			r.file = optarg;
			break;
		case O_DRY_RUN:
			r.dry_run = 1;
			break;
		case O_EXPLAIN:
			r.explain = optarg;
			break;
		case O_WATCH:
			r.watch = 1;
			break;
		case O_LEADER:
			r.leader = 1;
			break;
		case O_LOCK:
			r.lock = optarg;
			break;
		case O_FAIL:
			r.fail_unsched = 1;
			break;
		case O_SCHEDNAME:
			r.cfg.scheduler = optarg;
			break;
		case O_POLICY:
			policy = optarg;
			break;
		case O_WEIGHT:
			weights = realloc(weights, (nweights + 1) * sizeof *weights);
			weights[nweights++] = optarg;
			break;
		case O_PREFER:
			prefer = realloc(prefer, (nprefer + 1) * sizeof *prefer);
			if (sched_prefer_parse(&prefer[nprefer], optarg, &e) < 0)
				goto usage_err;
			nprefer++;
			break;
		case O_PERCENT:
			if (parse_int(optarg, 0, 100, &v) < 0) {
				kx_err_set(&e, KX_EUSAGE, "bad percentage \"%s\": expected 0 to 100", optarg);
				goto usage_err;
			}
			r.cfg.percentage = (int)v;
			break;
		case O_SEED:
			if (parse_int(optarg, 0, INT64_MAX, &v) < 0) {
				kx_err_set(&e, KX_EUSAGE, "bad seed \"%s\"", optarg);
				goto usage_err;
			}
			r.cfg.seed = (uint64_t)v;
			break;
		case O_PARALLEL:
			if (parse_int(optarg, 1, 256, &v) < 0) {
				kx_err_set(&e, KX_EUSAGE, "bad --parallel \"%s\": expected 1 to 256", optarg);
				goto usage_err;
			}
			r.parallel = (int)v;
			break;
		case O_BATCH:
		case O_RESYNC:
			if (kx_duration_parse(optarg, &v, &e) < 0 || v < 0) {
				kx_err_set(&e, KX_EUSAGE, "bad duration \"%s\"", optarg);
				goto usage_err;
			}
			if (c == O_BATCH)
				r.batch_ms = v;
			else
				r.resync_ms = v > 0 ? v : 30000;
			break;
		case O_EVENTS:
			if (!strcmp(optarg, "all"))
				r.events = EV_ALL;
			else if (!strcmp(optarg, "failed"))
				r.events = EV_FAILED;
			else if (!strcmp(optarg, "none"))
				r.events = EV_NONE;
			else {
				kx_err_set(&e, KX_EUSAGE, "bad --events \"%s\": expected all, failed or none", optarg);
				goto usage_err;
			}
			break;
		case O_LEASE: {
			const char *sl = strchr(optarg, '/');
			if (!sl || sl == optarg || !sl[1] || strchr(sl + 1, '/') || strlen(optarg) > 250) {
				kx_err_set(&e, KX_EUSAGE, "bad --leader-elect-lease \"%s\": expected NAMESPACE/NAME", optarg);
				goto usage_err;
			}
			r.lease = optarg;
			break;
		}
		case O_LEASE_DURATION:
			if (kx_duration_parse(optarg, &v, &e) < 0 || v < 1000) {
				kx_err_set(&e, KX_EUSAGE, "bad --leader-elect-lease-duration \"%s\": at least 1s", optarg);
				goto usage_err;
			}
			r.lease_ms = v;
			break;
		case KX_OPT_SERVER:
			r.server = optarg;
			break;
		default:
			if ((c = kx_cli_common(c, synopsis, opts, NULL)) != KX_CLI_NEXT) {
				status = c;
				goto out;
			}
		}
	}
	if (optind < argc) {
		kx_err_set(&e, KX_EUSAGE, "unexpected argument \"%s\"", argv[optind]);
		goto usage_err;
	}
	if (r.watch && (r.file || r.dry_run || r.explain)) {
		kx_err_set(&e, KX_EUSAGE, "--watch works against the store: not with -f, --dry-run or --explain");
		goto usage_err;
	}
	if (r.leader && !r.watch) {
		kx_err_set(&e, KX_EUSAGE, "--leader-elect needs --watch");
		goto usage_err;
	}
	if (policy && load_policy(&r, policy, &e) < 0) {
		if (e.status != KX_EUSAGE)
			e.status = KX_EUSAGE;
		goto usage_err;
	}
	for (size_t i = 0; i < nweights; i++)
		if (sched_config_weight(&r.cfg, weights[i], &e) < 0)
			goto usage_err;
	if (r.explain && !strchr(r.explain, '/')) {
		static char full[512];
		snprintf(full, sizeof full, "default/%s", r.explain);
		r.explain = full;
	}
	r.cfg.prefer = prefer;
	r.cfg.nprefer = nprefer;

	if (r.lock && (lockfd = kx_lock_acquire(r.lock, 0, &e)) < 0) {
		kx_err_print(&e);
		status = e.status ? e.status : KX_EFAIL;
		goto out;
	}
	if (!r.file || !(r.dry_run || r.explain)) {
		cl = kx_client_new(kx_server_url(r.server), &e);
		if (!cl) {
			kx_err_print(&e);
			status = e.status ? e.status : KX_EFAIL;
			goto out;
		}
	}
	if (r.watch) {
		status = watch(&r, cl, &e);
	} else {
		int unsched = 0;
		status = pass(&r, cl, &unsched, &e);
		if (status)
			kx_err_print(&e);
		else if (r.fail_unsched && unsched) {
			kx_log_error("%d pod%s could not be placed", unsched, unsched == 1 ? "" : "s");
			status = KX_EFAIL;
		}
	}
	goto out;

usage_err:
	kx_err_print(&e);
	status = KX_EUSAGE;
out:
	if (lockfd >= 0)
		kx_lock_release(lockfd);
	kx_client_free(cl);
	for (size_t i = 0; i < nprefer; i++)
		sched_prefer_free(&prefer[i]);
	free(prefer);
	free(weights);
	kx_cli_free(&cli);
	return kx_cli_exit(status);
}
