/* kx-dns: CoreDNS (its kubernetes and forward plugins) as a program. The
 * cluster's names are answered from an index of the store's Services,
 * EndpointSlices (or Endpoints) and Pods, kept up to date by their watch
 * streams; other names are forwarded to the upstream nameservers.
 *
 *   observe  -f FILE (a List), or the store: a list of each kind, then
 *            their watches (lib/watch.c), into one map of objects
 *   decide   index.c: objects -> index, rebuilt whole after each burst of
 *            changes; answer.c: (index, query) -> reply
 *   act      server.c: UDP and TCP; upstream.c: forwarding */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "dns.h"
#include "err.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "quantity.h"
#include "watch.h"

enum { OPT_LISTEN = KX_OPT_FIRST_PRIVATE, OPT_DOMAIN, OPT_TTL, OPT_UPSTREAM };

static const struct kx_opt opts[] = {
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	{"filename", required_argument, 'f', "FILE", "answer from the objects in FILE (JSON/YAML List) instead; SIGHUP reads it again"},
	{"listen", required_argument, OPT_LISTEN, "ADDR:PORT", "UDP and TCP address to answer on (default 0.0.0.0:53; port 0 picks one)"},
	{"cluster-domain", required_argument, OPT_DOMAIN, "DOMAIN", "the cluster's zone (default cluster.local)"},
	{"ttl", required_argument, OPT_TTL, "SECONDS", "time to live of the answers (default 5)"},
	{"upstream", required_argument, OPT_UPSTREAM, "FILE|IP[:PORT]", "where other names go: a resolv.conf or nameservers, repeatable; none: nowhere (default /etc/resolv.conf)"},
	KX_OPTS_COMMON,
};

static const char synopsis[] =
	"[--server URL | -f FILE] [--listen ADDR:PORT] [--cluster-domain DOMAIN] [--ttl SECONDS] "
	"[--upstream FILE|IP[:PORT]]...";

/* ------------------------------------------------------------------ objects */

/* What the index reads of each kind; the rest of an object is dropped on
 * arrival, and what is kept is kept as compact JSON text, parsed again for
 * each build: a jv tree takes ten times the memory (at 10,000 services,
 * 96 MiB resident against 30). */
static const struct source {
	const char *path, *kind;
	const char *keep[10];
} sources[] = {
	{"/api/v1/services", "Service",
	 {"metadata.name", "metadata.namespace", "spec.type", "spec.clusterIP", "spec.clusterIPs",
	  "spec.externalName", "spec.ports", "spec.publishNotReadyAddresses", NULL}},
	{"/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice",
	 {"metadata.name", "metadata.namespace", "metadata.labels", "addressType", "ports", "endpoints", NULL}},
	{"/api/v1/endpoints", "Endpoints", {"metadata.name", "metadata.namespace", "subsets", NULL}},
	{"/api/v1/pods", "Pod",
	 {"metadata.name", "metadata.namespace", "status.phase", "status.podIP", "status.podIPs",
	  "spec.hostname", "spec.subdomain", "spec.hostNetwork", NULL}},
};
#define NSOURCES (sizeof sources / sizeof sources[0])

static jv trim(const struct source *s, jv obj)
{
	jv out = jv_object_set(jv_object(), jv_string("kind"), jv_string(s->kind));

	for (size_t i = 0; s->keep[i]; i++) {
		jv v = kx_jv_get(jv_copy(obj), s->keep[i]);
		if (jv_get_kind(v) != JV_KIND_NULL)
			out = kx_jv_set(out, s->keep[i], v);
		else
			jv_free(v);
	}
	jv_free(obj);
	return jv_dump_string(out, 0);
}

static void key_of(jv obj, char *out, size_t n)
{
	char ns[256], name[256];

	kx_jv_str(obj, "metadata.namespace", ns, sizeof ns, "");
	kx_jv_str(obj, "metadata.name", name, sizeof name, "");
	snprintf(out, n, "%s/%s", ns, name);
}

/* The objects as the watches leave them, and whether the index is behind. */
static struct state {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	jv objs[NSOURCES]; /* "ns/name" -> trimmed object */
	int dirty;
} st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0};

struct follower {
	size_t src;
	char *rv;
};

static void on_list(void *arg, jv items)
{
	const struct follower *f = arg;
	jv m = jv_object();
	kx_buf all = KX_BUF_INIT; /* "key\0text\0" for each object */
	char k[600];

	/* the texts are kept only once the list is freed: made while it is
	 * there, they would be scattered through its memory, and keep most
	 * of it from going back to the system */
	jv_array_foreach(items, i, obj) {
		key_of(obj, k, sizeof k);
		jv t = trim(&sources[f->src], obj);
		kx_buf_add(&all, k, strlen(k) + 1);
		kx_buf_add(&all, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)) + 1);
		jv_free(t);
	}
	jv_free(items);
	for (size_t o = 0; o < all.len;) {
		const char *key = all.p + o, *text = key + strlen(key) + 1;
		m = jv_object_set(m, jv_string(key), jv_string(text));
		o = (size_t)(text - all.p) + strlen(text) + 1;
	}
	kx_buf_free(&all);
	pthread_mutex_lock(&st.mu);
	jv_free(st.objs[f->src]);
	st.objs[f->src] = m;
	st.dirty = 1;
	pthread_cond_signal(&st.cv);
	pthread_mutex_unlock(&st.mu);
}

static void on_event(void *arg, const char *type, jv obj)
{
	const struct follower *f = arg;
	char k[600];

	key_of(obj, k, sizeof k);
	obj = trim(&sources[f->src], obj);
	pthread_mutex_lock(&st.mu);
	if (!strcmp(type, "DELETED")) {
		st.objs[f->src] = jv_object_delete(st.objs[f->src], jv_string(k));
		jv_free(obj);
	} else
		st.objs[f->src] = jv_object_set(st.objs[f->src], jv_string(k), obj);
	st.dirty = 1;
	pthread_cond_signal(&st.cv);
	pthread_mutex_unlock(&st.mu);
}

static const kx_watch_fns watch_fns = {on_list, on_event};
static const char *server_url;

static void *follow_thread(void *arg)
{
	struct follower *f = arg;

	kx_watch_follow(server_url, sources[f->src].path, sources[f->src].kind, f->rv, &watch_fns, f);
	return NULL;
}

/* The first list of every kind, before anything is answered (again from
 * the start when it is tried again). */
static int list_all(struct follower *fl, kx_err *e)
{
	kx_client *c = kx_client_new(server_url, e);

	if (!c)
		return -1;
	for (size_t i = 0; i < NSOURCES; i++) {
		fl[i].src = i;
		jv_free(st.objs[i]);
		st.objs[i] = jv_object();
		free(fl[i].rv);
		fl[i].rv = NULL;
		jv items = kx_input_list(c, sources[i].path, sources[i].kind, &fl[i].rv, e);
		if (!jv_is_valid(items)) {
			jv_free(items);
			/* a store without EndpointSlices, Endpoints or Pods:
			 * there are none (its watch will say so again) */
			if (i > 0 && e->status == KX_EREFUSED && e->http == 404) {
				kx_err_clear(e);
				continue;
			}
			kx_client_free(c);
			return kx_err_wrap(e, "cannot list %s", sources[i].path + 1);
		}
		on_list(&fl[i], items);
	}
	kx_client_free(c);
	return 0;
}

static dns_index *build(jv objs, const dns_opts *o, const char *from)
{
	int64_t t0 = kx_now_ms();
	dns_index *ix = dns_index_build(objs, o);

	if (!ix)
		return NULL;
	for (size_t i = 0; i < ix->nwarn; i++)
		kx_log_debug(1, "%s", ix->warnings[i]);
	kx_log_debug(1, "%s: %zu services, %zu endpoints, %zu pods: %zu names, %zu records in %lld ms",
		     from, ix->services, ix->endpoints, ix->pods, ix->used, ix->records,
		     (long long)(kx_now_ms() - t0));
	return ix;
}

/* Swap ix in, and give back to the system what parsing the lists and the
 * index it replaces took (glibc keeps freed memory otherwise: at 10,000
 * services, most of the resident size). */
static void swap_in(dns_index *ix)
{
	dns_current_set(ix);
	malloc_trim(0);
}

/* Every object we hold, as one array of texts: references only, cheap
 * enough to take under the lock. */
static jv snapshot(void)
{
	jv all = jv_array();

	for (size_t i = 0; i < NSOURCES; i++) {
		jv_object_foreach(st.objs[i], k, v) { /* borrows */
			jv_free(k);
			all = jv_array_append(all, v);
		}
	}
	return all;
}

/* The objects of a snapshot (consumed), parsed. */
static jv parse_all(jv texts)
{
	jv objs = jv_array();

	jv_array_foreach(texts, i, t) {
		jv o = jv_parse_sized(jv_string_value(t), jv_string_length_bytes(jv_copy(t)));
		if (jv_is_valid(o))
			objs = jv_array_append(objs, o);
		else
			jv_free(o);
		jv_free(t);
	}
	jv_free(texts);
	return objs;
}

/* Rebuild the index whenever the objects changed: level-triggered, the
 * whole index from the whole state, 50 ms after the first change of a
 * burst, and never more than half the time (a build of 10,000 services
 * takes a few hundred milliseconds: constant churn must not take a core).
 * Never returns. */
static void follow_store(struct follower *fl, dns_opts *o)
{
	for (size_t i = 0; i < NSOURCES; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, follow_thread, &fl[i]) == 0)
			pthread_detach(t);
	}
	int64_t took = 0;
	for (;;) {
		jv objs;
		pthread_mutex_lock(&st.mu);
		while (!st.dirty)
			pthread_cond_wait(&st.cv, &st.mu);
		pthread_mutex_unlock(&st.mu);
		usleep((useconds_t)(took > 50 ? took : 50) * 1000);
		int64_t t0 = kx_now_ms();
		pthread_mutex_lock(&st.mu);
		st.dirty = 0;
		objs = snapshot();
		pthread_mutex_unlock(&st.mu);
		o->serial = (uint32_t)time(NULL);
		dns_index *ix = build(parse_all(objs), o, "store");
		if (ix)
			swap_in(ix);
		took = kx_now_ms() - t0;
	}
}

static int load_file(const char *path, dns_opts *o, kx_err *e)
{
	jv objs = kx_input_load(path, e);

	if (!jv_is_valid(objs)) {
		jv_free(objs);
		return -1;
	}
	o->serial = (uint32_t)time(NULL);
	dns_index *ix = build(objs, o, path);
	if (!ix)
		return kx_err_set(e, KX_EFAIL, "out of memory");
	swap_in(ix);
	return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	const char *file = NULL, *server = NULL, *listen = "0.0.0.0:53";
	const char *upstream[DNS_MAX_UPSTREAMS];
	size_t nup = 0;
	dns_opts o = {"cluster.local", 5, 0};
	dns_upstreams up = {.timeout_ms = 2000};
	struct follower fl[NSOURCES] = {{0}};
	dns_server *srv = NULL;
	int ch;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	while ((ch = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (ch) {
		case KX_OPT_SERVER: server = optarg; break;
		case 'f': file = optarg; break;
		case OPT_LISTEN: listen = optarg; break;
		case OPT_DOMAIN: o.zone = optarg; break;
		case OPT_TTL: {
			int64_t ms;
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg && !*end)
				ms = v * 1000; /* plain seconds, as CoreDNS's ttl */
			else if (kx_duration_parse(optarg, &ms, &e) < 0)
				ms = -1;
			if (ms < 0 || ms > 3600000LL * 24) {
				kx_log_error("--ttl: bad time to live \"%s\" (seconds, at most a day)", optarg);
				return KX_EUSAGE;
			}
			o.ttl = (uint32_t)(ms / 1000);
			break;
		}
		case OPT_UPSTREAM:
			if (nup == DNS_MAX_UPSTREAMS) {
				kx_log_error("--upstream: at most %d", DNS_MAX_UPSTREAMS);
				return KX_EUSAGE;
			}
			upstream[nup++] = optarg;
			break;
		default:
			if ((ch = kx_cli_common(ch, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(ch);
		}
	}
	kx_cli_free(&cli);
	if (optind < argc || (file && server)) {
		kx_log_error(optind < argc ? "unexpected argument \"%s\"" : "-f and --server exclude each other",
			     argv[optind < argc ? optind : 0]);
		return KX_EUSAGE;
	}
	{
		/* the zone must be a name: "cluster.local" or "cluster.local." */
		ldns_rdf *z = ldns_dname_new_frm_str(o.zone);
		size_t l = strlen(o.zone);
		ldns_rdf_deep_free(z);
		if (!z || !l || l > 200 || *o.zone == '.') {
			kx_log_error("--cluster-domain: \"%s\" is not a domain name", o.zone);
			return KX_EUSAGE;
		}
	}
	for (size_t i = 0; i < nup; i++)
		if (strcmp(upstream[i], "none") && dns_upstreams_add(&up, upstream[i], &e) < 0)
			goto out;
	if (!nup && dns_upstreams_add(&up, "/etc/resolv.conf", &e) < 0) {
		kx_log_info("%s: names outside the cluster get SERVFAIL", e.msg);
		kx_err_clear(&e);
	}

	srv = dns_server_bind(listen, &e);
	if (!srv)
		goto out;
	{
		const struct sockaddr *self;
		socklen_t len;
		dns_server_self(srv, &self, &len);
		if (dns_upstreams_skip(&up, self, len))
			kx_log_info("an upstream nameserver is this server itself: left out%s",
				    up.n ? "" : "; names outside the cluster get SERVFAIL");
	}
	for (size_t i = 0; i < up.n; i++) {
		char t[80];
		dns_addr_text((struct sockaddr *)&up.addr[i], t, sizeof t);
		kx_log_debug(1, "upstream %s", t);
	}

	if (file) {
		sigset_t hup;
		int sig;
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &hup, NULL); /* for sigwait, in every thread */
		if (load_file(file, &o, &e) < 0 || dns_server_start(srv, &up, &e) < 0)
			goto out;
		kx_log_info("listening on %s (udp, tcp), zone %s, from %s", dns_server_name(srv), o.zone, file);
		while (sigwait(&hup, &sig) == 0) {
			if (load_file(file, &o, &e) < 0) {
				kx_log_error("%s (answering from what was read before)", e.msg);
				kx_err_clear(&e);
			} else
				kx_log_info("read %s again", file);
		}
		goto out;
	}
	server_url = kx_server_url(server);
	/* the store may not be up yet (at boot, from cron's @reboot, while it
	 * restarts): wait for it, as the other daemons do, saying so once; a
	 * store that answers with an error is an error (exit 4) */
	for (int said = 0; list_all(fl, &e) < 0; said = 1) {
		if (e.status != KX_EUNREACH)
			goto out;
		if (!said)
			kx_log_error("%s; trying again every second", e.msg);
		kx_err_clear(&e);
		sleep(1);
	}
	pthread_mutex_lock(&st.mu);
	st.dirty = 0;
	jv objs = snapshot();
	pthread_mutex_unlock(&st.mu);
	o.serial = (uint32_t)time(NULL);
	dns_index *ix = build(parse_all(objs), &o, "store");
	if (!ix) {
		kx_err_set(&e, KX_EFAIL, "out of memory");
		goto out;
	}
	swap_in(ix);
	if (dns_server_start(srv, &up, &e) < 0)
		goto out;
	kx_log_info("listening on %s (udp, tcp), zone %s, from %s", dns_server_name(srv), o.zone,
		    server_url);
	follow_store(fl, &o);
out:
	if (!e.status)
		e.status = KX_EFAIL;
	kx_err_print(&e);
	return kx_cli_exit(e.status);
}
