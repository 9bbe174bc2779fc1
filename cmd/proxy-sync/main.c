/* kx-proxy-sync: kube-proxy as a program. Services and their endpoints in,
 * one atomic nftables transaction out (tables ip kx and ip6 kx only).
 *
 *   observe  -f FILE|- (a List of Services, EndpointSlices, Endpoints) or
 *            the store (--server); with --watch, the store's watch streams
 *            or watch events on stdin (-f - --watch)
 *   decide   rules.c: a pure function to a ruleset; diff.c: to operations
 *   act      nl.c: one libnftnl batch (nothing when nothing changed), or
 *            --dry-run: the ruleset as `nft -f` text */
#include <errno.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "proxy.h"
#include "watch.h"

enum {
	OPT_DRY_RUN = KX_OPT_FIRST_PRIVATE, OPT_WATCH, OPT_SYNC_PERIOD, OPT_LOCK, OPT_NODE,
	OPT_NODEPORT_ADDRS, OPT_CLUSTER_CIDR, OPT_MODE, OPT_CLEANUP,
};

static const struct kx_opt opts[] = {
	{"filename", required_argument, 'f', "FILE", "read objects from FILE (JSON/YAML, - for stdin)"},
	{"server", required_argument, KX_OPT_SERVER, "URL", "the store (default $KX_SERVER or " KX_DEFAULT_SERVER ")"},
	{"dry-run", no_argument, OPT_DRY_RUN, NULL, "print the ruleset as nft -f text (ipvsadm-restore text with --mode ipvs)"},
	{"watch", no_argument, OPT_WATCH, NULL, "keep syncing as services and endpoints change"},
	{"sync-period", required_argument, OPT_SYNC_PERIOD, "DURATION", "with --watch, full resync this often (default 1h)"},
	{"lock", required_argument, OPT_LOCK, "FILE", "lock file of one-shot runs (default /run/lock/kx-proxy-sync.lock)"},
	{"node", required_argument, OPT_NODE, "NAME", "this node's name, for Local traffic policies (default: host name)"},
	{"hostname", required_argument, OPT_NODE, "NAME", "the same as --node"},
	{"nodeport-addresses", required_argument, OPT_NODEPORT_ADDRS, "CIDR[,CIDR]", "serve node ports only on local addresses in these ranges"},
	{"cluster-cidr", required_argument, OPT_CLUSTER_CIDR, "CIDR[,CIDR]", "masquerade cluster IP traffic from outside these ranges"},
	{"mode", required_argument, OPT_MODE, "MODE", "nftables (default) or ipvs"},
	{"cleanup", no_argument, OPT_CLEANUP, NULL, "remove the tables this program made, and exit"},
	KX_OPTS_COMMON,
};

static const char synopsis[] =
	"[-f FILE | --server URL] [--dry-run] [--watch] [--mode nftables|ipvs] [options] | --cleanup";

struct cfg {
	const char *file, *server, *lock, *mode;
	int dry_run, watch, cleanup;
	int64_t period_ms;
	char node[256];
	px_opts o;
	char cidr4[64], cidr6[64];
};

/* ------------------------------------------------------------------ options */

static int parse_duration(const char *s, int64_t *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		*ms = (int64_t)v;
	else if (!strcmp(end, "s") || !*end)
		*ms = (int64_t)(v * 1000);
	else if (!strcmp(end, "m"))
		*ms = (int64_t)(v * 60000);
	else if (!strcmp(end, "h"))
		*ms = (int64_t)(v * 3600000);
	else
		return -1;
	return 0;
}

static int parse_cidr(const char *s, int *fam, unsigned char addr[16], int *plen)
{
	char buf[64], *slash;

	snprintf(buf, sizeof buf, "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, addr) == 1)
		*fam = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*fam = 6;
	else
		return -1;
	*plen = slash ? atoi(slash) : (*fam == 4 ? 32 : 128);
	if (*plen < 0 || *plen > (*fam == 4 ? 32 : 128))
		return -1;
	return 0;
}

static int in_cidr(const unsigned char *a, const unsigned char *net, int plen)
{
	for (int i = 0; i < plen; i++)
		if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

/* The node's own addresses in the given ranges (observe, for node ports). */
static int nodeport_addresses(struct cfg *c, const char *list, kx_err *e)
{
	struct ifaddrs *ifa, *p;
	char *copy = strdup(list), *tok, *save = NULL;

	c->o.nodeport_ips = calloc(1, sizeof(char *));
	if (getifaddrs(&ifa) < 0) {
		free(copy);
		return kx_err_set(e, 1, "cannot list the node's addresses: %s", strerror(errno));
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned char net[16];
		int fam, plen;
		if (parse_cidr(tok, &fam, net, &plen) < 0) {
			freeifaddrs(ifa);
			kx_err_set(e, KX_EUSAGE, "--nodeport-addresses: bad CIDR \"%s\"", tok);
			free(copy);
			return -1;
		}
		for (p = ifa; p; p = p->ifa_next) {
			char txt[64];
			const unsigned char *a;
			if (!p->ifa_addr)
				continue;
			if (fam == 4 && p->ifa_addr->sa_family == AF_INET)
				a = (const unsigned char *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr;
			else if (fam == 6 && p->ifa_addr->sa_family == AF_INET6)
				a = (const unsigned char *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
			else
				continue;
			if (!in_cidr(a, net, plen))
				continue;
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, txt, sizeof txt);
			int dup = 0;
			for (size_t i = 0; i < c->o.nnodeport_ips; i++)
				dup |= !strcmp(c->o.nodeport_ips[i], txt);
			if (dup)
				continue;
			c->o.nodeport_ips = realloc(c->o.nodeport_ips,
						    (c->o.nnodeport_ips + 2) * sizeof(char *));
			c->o.nodeport_ips[c->o.nnodeport_ips++] = strdup(txt);
		}
	}
	freeifaddrs(ifa);
	free(copy);
	return 0;
}

static int cluster_cidrs(struct cfg *c, const char *list, kx_err *e)
{
	char *copy = strdup(list), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned char a[16];
		int fam, plen;
		char txt[64];
		if (parse_cidr(tok, &fam, a, &plen) < 0) {
			kx_err_set(e, KX_EUSAGE, "--cluster-cidr: bad CIDR \"%s\"", tok);
			free(copy);
			return -1;
		}
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, txt, sizeof txt);
		snprintf(fam == 4 ? c->cidr4 : c->cidr6, sizeof c->cidr4, "%s/%d", txt, plen);
	}
	free(copy);
	return 0;
}

/* ------------------------------------------------------------------ observe */

static const struct {
	const char *path, *kind;
} sources[] = {
	{"/api/v1/services", "Service"},
	{"/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice"},
	{"/api/v1/endpoints", "Endpoints"},
};

static jv observe_store(kx_client *cl, kx_err *e)
{
	jv all = jv_array();

	for (size_t i = 0; i < 3; i++) {
		kx_err e2 = KX_ERR_INIT;
		jv items = kx_input_list(cl, sources[i].path, sources[i].kind, NULL, &e2);
		if (!jv_is_valid(items)) {
			jv_free(items);
			/* a store without EndpointSlices or Endpoints still has services */
			if (i > 0 && e2.status == KX_EREFUSED && e2.http == 404)
				continue;
			*e = e2;
			kx_err_wrap(e, "cannot list %s", sources[i].path + 1);
			jv_free(all);
			return jv_invalid();
		}
		all = jv_array_concat(all, items);
	}
	return all;
}

/* -f FILE: JSON is parsed by jq's parser directly (a List of 10,000
 * services is read several times faster than through the YAML path);
 * anything else goes through kx_input_parse. */
static jv load_objects(const char *path, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	const char *p;
	jv v;

	if (kx_buf_read_file(&b, path, KX_INPUT_MAX, e) < 0) {
		kx_buf_free(&b);
		return jv_invalid();
	}
	for (p = kx_buf_str(&b); *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	if (*p == '{' || *p == '[') {
		v = kx_json_parse(b.p, b.len, e);
		if (jv_is_valid(v)) {
			kx_buf_free(&b);
			return kx_input_flatten(jv_get_kind(v) == JV_KIND_ARRAY
							? v
							: jv_array_append(jv_array(), v));
		}
		jv_free(v);
		kx_err_clear(e); /* perhaps YAML after all: let that parser say */
	}
	v = kx_input_parse(b.p ? b.p : "", b.len, strcmp(path, "-") ? path : "<stdin>", e);
	kx_buf_free(&b);
	return v;
}

/* ------------------------------------------------------------------ act */

static int has_family(const px_model *m, int fam)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->svcs[i].family == fam)
			return 1;
	return 0;
}

/* What to send for family fam, into ops: the diff from known (what the
 * kernel has, as we last left it; NULL: read it, into *have, which the ops
 * then point into) to want; want NULL: delete the table if it is there. */
static int plan_family(int fam, const px_ruleset *want, const px_ruleset *known, px_ops *ops,
		       px_ruleset **have, int trust_state, kx_err *e)
{
	char state[64];

	*have = NULL;
	memset(ops, 0, sizeof *ops);
	ops->family = fam;
	if (!want) {
		int found = 0;
		if (px_nl_exists(fam, &found, e) < 0)
			return -1;
		if (found) {
			ops->ops = calloc(1, sizeof *ops->ops);
			ops->ops[0].kind = OP_DEL_TABLE;
			ops->n = ops->cap = 1;
		}
		return 0;
	}
	if (!known) {
		/* the table's state element says whether anything changed
		 * since it was written (by this program or nft -f): one small
		 * read instead of the whole table */
		if (trust_state) {
			if (px_nl_read_state(fam, state, sizeof state, e) < 0)
				return -1;
			if (*state && !strcmp(state, px_ruleset_state(want)))
				return 0;
		}
		if (px_nl_read(fam, have, e) < 0)
			return -1;
		known = *have;
	}
	return px_diff(ops, known, want);
}

/* Bring both tables (ip kx, ip6 kx) in line in one atomic batch. want[i]
 * NULL: no table of that family; known[i] as for plan_family; skip[i]:
 * leave that family alone this time. */
static int sync_tables(px_ruleset *const want[2], px_ruleset *const known[2], const int skip[2],
		       int trust_state, kx_err *e)
{
	px_ops ops[2];
	px_ruleset *have[2] = {NULL, NULL};
	const px_ops *lists[2];
	size_t n = 0, bytes = 0;
	int rc = 0;
	int64_t t0 = kx_now_ms();

	memset(ops, 0, sizeof ops);
	for (int fi = 0; fi < 2 && rc == 0; fi++) {
		if (skip[fi])
			continue;
		rc = plan_family(fi ? 6 : 4, want[fi], known[fi], &ops[fi], &have[fi], trust_state, e);
		if (rc == 0 && (want[fi] || ops[fi].n)) {
			lists[n++] = &ops[fi];
			if (kx_verbose >= 2) {
				kx_buf b = KX_BUF_INIT;
				px_ops_render(&b, &ops[fi]);
				fputs(kx_buf_str(&b), stderr);
				kx_buf_free(&b);
			}
		}
	}
	if (rc == 0)
		rc = px_nl_apply(lists, n, &bytes, e);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			kx_log_debug(1, "table %s kx: %zu operations", lists[i]->family == 6 ? "ip6" : "ip",
				     lists[i]->n);
		if (bytes)
			kx_log_debug(1, "sent one batch of %zu bytes in %lld ms", bytes,
				     (long long)(kx_now_ms() - t0));
		else
			kx_log_debug(1, "nothing to change: nothing sent (%lld ms)",
				     (long long)(kx_now_ms() - t0));
	}
	for (int fi = 0; fi < 2; fi++) {
		px_ops_free(&ops[fi]);
		px_ruleset_free(have[fi]);
	}
	return rc;
}

static int ipvs_available(void)
{
	struct stat st;

	return stat("/proc/net/ip_vs", &st) == 0;
}

/* One pass over objs (consumed): dry-run text, or the kernel brought in line. */
static int run_once(struct cfg *c, jv objs, kx_err *e)
{
	px_model m;
	int rc = 0;

	int64_t t0 = kx_now_ms();
	if (px_model_build(&m, objs, &c->o, e) < 0)
		return -1;
	kx_log_debug(2, "model: %zu services in %lld ms", m.n, (long long)(kx_now_ms() - t0));
	for (size_t i = 0; i < m.nwarn; i++)
		kx_log_debug(1, "%s", m.warnings[i]);
	if (!strcmp(c->mode, "ipvs")) {
		int have = ipvs_available();
		if (c->dry_run) {
			kx_buf b = KX_BUF_INIT;
			px_render_ipvs(&b, &m, &c->o);
			fputs(kx_buf_str(&b), stdout);
			kx_buf_free(&b);
			if (!have)
				kx_log_info("the kernel has no IPVS (no /proc/net/ip_vs): a real run "
					    "falls back to nftables");
			px_model_free(&m);
			return 0;
		}
		if (have) {
			kx_buf b = KX_BUF_INIT;
			FILE *p;
			px_render_ipvs(&b, &m, &c->o);
			p = popen("ipvsadm-restore", "w");
			if (!p || fwrite(b.p ? b.p : "", 1, b.len, p) != b.len || pclose(p) != 0)
				rc = kx_err_set(e, 1, "ipvsadm-restore failed");
			kx_buf_free(&b);
			px_model_free(&m);
			return rc;
		}
		kx_log_info("the kernel has no IPVS (no /proc/net/ip_vs): falling back to nftables");
	}
	px_ruleset *r[2] = {NULL, NULL}, *none[2] = {NULL, NULL};
	int noskip[2] = {0, 0};
	for (int fi = 0; fi < 2; fi++) {
		int fam = fi ? 6 : 4;
		int64_t t1 = kx_now_ms();
		if (fam == 4 || has_family(&m, 6))
			r[fi] = px_rules_build(&m, fam, &c->o);
		if (r[fi])
			kx_log_debug(2, "ruleset %s kx: decided in %lld ms", fam == 6 ? "ip6" : "ip",
				     (long long)(kx_now_ms() - t1));
		if (c->dry_run && r[fi]) {
			kx_buf b = KX_BUF_INIT;
			px_render_nft(&b, r[fi]);
			fputs(kx_buf_str(&b), stdout);
			kx_buf_free(&b);
		}
	}
	if (!c->dry_run)
		rc = sync_tables(r, none, noskip, 1, e);
	px_ruleset_free(r[0]);
	px_ruleset_free(r[1]);
	px_model_free(&m);
	return rc;
}

int px_watch(struct cfg *c, kx_err *e);

/* ------------------------------------------------------------------ watch */

/* The objects, kept up to date by watch events: one entry per service key
 * "ns/name" holding {svc, slices: {name: slice}, eps}, so that a change can
 * be decided for its service alone. */
typedef struct wstate {
	jv by_svc;      /* "ns/name" -> {"svc":…, "slices":{…}, "eps":…} */
	jv slice_owner; /* "ns/slicename" -> "ns/svcname" */
	jv dirty;       /* "ns/name" -> true */
	int synced;     /* bit per kind whose first list arrived (store mode) */
	px_ruleset *cur[2];
} wstate;

static void key_of(jv obj, const char *name_override, char *out, size_t n)
{
	char ns[64], name[256];

	px_str(obj, "metadata.namespace", ns, sizeof ns, "default");
	if (name_override)
		snprintf(name, sizeof name, "%s", name_override);
	else
		px_str(obj, "metadata.name", name, sizeof name, "");
	snprintf(out, n, "%s/%s", ns, name);
}

static void ws_set(wstate *w, const char *key, const char *field, const char *sub, jv val)
{
	jv ent = jv_object_get(jv_copy(w->by_svc), jv_string(key));

	if (!jv_is_valid(ent)) {
		jv_free(ent);
		ent = jv_object();
	}
	if (sub) {
		jv m = jv_object_get(jv_copy(ent), jv_string(field));
		if (!jv_is_valid(m)) {
			jv_free(m);
			m = jv_object();
		}
		m = jv_is_valid(val) ? jv_object_set(m, jv_string(sub), val)
				     : (jv_free(val), jv_object_delete(m, jv_string(sub)));
		ent = jv_object_set(ent, jv_string(field), m);
	} else
		ent = jv_is_valid(val) ? jv_object_set(ent, jv_string(field), val)
				       : (jv_free(val), jv_object_delete(ent, jv_string(field)));
	w->by_svc = jv_object_set(w->by_svc, jv_string(key), ent);
	w->dirty = jv_object_set(w->dirty, jv_string(key), jv_true());
}

/* Apply one watch event (consumed) to the state. */
static void ws_event(wstate *w, jv ev);

/* A fresh list of one kind: drop what we had of it, take the items. */
static void ws_sync(wstate *w, jv ev)
{
	char kind[64];
	const char *field = NULL;
	jv items = kx_jv_get(jv_copy(ev), "items");

	px_str(ev, "kind", kind, sizeof kind, "");
	jv_free(ev);
	field = !strcmp(kind, "Service") ? "svc" : !strcmp(kind, "Endpoints") ? "eps" : "slices";
	w->synced |= !strcmp(kind, "Service") ? 1 : !strcmp(kind, "Endpoints") ? 2 : 4;
	jv keys = jv_keys(jv_copy(w->by_svc));
	jv_array_foreach(keys, i, k) {
		(void)i;
		jv ent = jv_object_get(jv_copy(w->by_svc), jv_copy(k));
		if (jv_object_has(jv_copy(ent), jv_string(field))) {
			ent = jv_object_delete(ent, jv_string(field));
			w->by_svc = jv_object_set(w->by_svc, jv_copy(k), ent);
			w->dirty = jv_object_set(w->dirty, jv_copy(k), jv_true());
		} else
			jv_free(ent);
		jv_free(k);
	}
	jv_free(keys);
	if (!strcmp(field, "slices")) {
		jv_free(w->slice_owner);
		w->slice_owner = jv_object();
	}
	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv_array_foreach(items, i, it) {
			(void)i;
			ws_event(w, jv_object_set(jv_object_set(jv_object(), jv_string("type"),
								jv_string("ADDED")),
						  jv_string("object"), it));
		}
	}
	jv_free(items);
}

static void ws_event(wstate *w, jv ev)
{
	char type[32], kind[64], key[512];
	jv obj;
	int del;

	px_str(ev, "type", type, sizeof type, "");
	if (!strcmp(type, "SYNC")) {
		ws_sync(w, ev);
		return;
	}
	obj = kx_jv_get(jv_copy(ev), "object");
	px_str(obj, "kind", kind, sizeof kind, "");
	del = !strcmp(type, "DELETED");
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && !del)
		goto out;
	if (!strcmp(kind, "Service")) {
		key_of(obj, NULL, key, sizeof key);
		ws_set(w, key, "svc", NULL, del ? jv_invalid() : jv_copy(obj));
	} else if (!strcmp(kind, "Endpoints")) {
		key_of(obj, NULL, key, sizeof key);
		ws_set(w, key, "eps", NULL, del ? jv_invalid() : jv_copy(obj));
	} else if (!strcmp(kind, "EndpointSlice")) {
		char skey[512], name[256];
		jv lbl = kx_jv_get(jv_copy(obj), "metadata.labels");
		jv svc = jv_get_kind(lbl) == JV_KIND_OBJECT
				 ? jv_object_get(lbl, jv_string("kubernetes.io/service-name"))
				 : (jv_free(lbl), jv_invalid());
		px_str(obj, "metadata.name", name, sizeof name, "");
		key_of(obj, NULL, skey, sizeof skey);
		jv old = jv_object_get(jv_copy(w->slice_owner), jv_string(skey));
		if (jv_get_kind(old) == JV_KIND_STRING)
			ws_set(w, jv_string_value(old), "slices", name, jv_invalid());
		jv_free(old);
		w->slice_owner = jv_object_delete(w->slice_owner, jv_string(skey));
		if (!del && jv_get_kind(svc) == JV_KIND_STRING) {
			key_of(obj, jv_string_value(svc), key, sizeof key);
			ws_set(w, key, "slices", name, jv_copy(obj));
			w->slice_owner = jv_object_set(w->slice_owner, jv_string(skey), jv_string(key));
		}
		jv_free(svc);
	}
out:
	jv_free(obj);
	jv_free(ev);
}

/* The objects of one service entry, as an array px_model_build reads. */
static jv ws_objects(jv ent)
{
	jv a = jv_array(), v;

	v = jv_object_get(jv_copy(ent), jv_string("svc"));
	if (jv_is_valid(v))
		a = jv_array_append(a, v);
	else
		jv_free(v);
	v = jv_object_get(jv_copy(ent), jv_string("eps"));
	if (jv_is_valid(v))
		a = jv_array_append(a, v);
	else
		jv_free(v);
	v = jv_object_get(ent, jv_string("slices"));
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, s) {
			jv_free(k);
			a = jv_array_append(a, s);
		}
	}
	jv_free(v);
	return a;
}

static int cmp_str_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_frag_key(const void *a, const void *b)
{
	return strcmp((*(px_frag *const *)a)->key, (*(px_frag *const *)b)->key);
}

/* How many fragments are services' (not the skeleton or the state). */
static size_t service_frags(const px_ruleset *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += *r->frags[i]->key && strcmp(r->frags[i]->key, PX_STATE_KEY);
	return n;
}

/* The rulesets after the dirty services changed: the current ones with those
 * services' fragments rebuilt, everything else shared. */
static int ws_pass(struct cfg *c, wstate *w, int full, kx_err *e)
{
	px_ruleset *next[2];
	int64_t t0 = kx_now_ms();
	size_t changed = 0;

	/* the dirty services' keys ("ns/name"), sorted: looked up once per
	 * fragment, so a plain array beats a jv lookup per fragment */
	size_t ndirty = 0;
	char **dirty = malloc(((size_t)jv_object_length(jv_copy(w->dirty)) + 1) * sizeof *dirty);
	jv_object_foreach(w->dirty, dk, dv) {
		dirty[ndirty++] = strdup(jv_string_value(dk));
		jv_free(dk);
		jv_free(dv);
	}
	qsort(dirty, ndirty, sizeof *dirty, cmp_str_p);
	for (int fi = 0; fi < 2; fi++) {
		int fam = fi ? 6 : 4;
		next[fi] = px_ruleset_new(fam);
		if (!w->cur[fi]) {
			w->cur[fi] = px_ruleset_new(fam);
			px_ruleset_add(w->cur[fi], px_frag_build(NULL, NULL, fam, &c->o));
		}
		/* keep the fragments of services that did not change */
		for (size_t i = 0; i < w->cur[fi]->n; i++) {
			px_frag *f = w->cur[fi]->frags[i];
			char key[512];
			const char *s = strchr(f->key, '/');
			s = s ? strchr(s + 1, '/') : NULL;
			snprintf(key, sizeof key, "%.*s", s ? (int)(s - f->key) : 0, f->key);
			const char *kp = key;
			if (*f->key && ndirty &&
			    bsearch(&kp, dirty, ndirty, sizeof *dirty, cmp_str_p))
				continue;
			px_ruleset_add(next[fi], px_frag_ref(f));
		}
	}
	for (size_t i = 0; i < ndirty; i++)
		free(dirty[i]);
	free(dirty);
	jv_object_foreach(w->dirty, key, val) {
		jv ent = jv_object_get(jv_copy(w->by_svc), jv_copy(key));
		px_model m;
		changed++;
		jv_free(val);
		if (!jv_is_valid(ent)) {
			jv_free(ent);
			jv_free(key);
			continue;
		}
		if (px_model_build(&m, ws_objects(ent), &c->o, e) < 0) {
			kx_log_error("%s", e->msg); /* one bad object must not stop the rest */
			kx_err_clear(e);
			jv_free(key);
			continue;
		}
		for (size_t i = 0; i < m.n; i++) {
			const px_svc *s = &m.svcs[i];
			for (size_t j = 0; j < s->nports; j++)
				px_ruleset_add(next[s->family == 6],
					       px_frag_build(s, &s->ports[j], s->family, &c->o));
		}
		px_model_free(&m);
		jv_free(key);
	}
	/* kept until the kernel took the pass: a failed one is redone */
	jv was_dirty = w->dirty;
	w->dirty = jv_object();
	px_ruleset *want[2], *known[2];
	int skip[2] = {0, 0};
	for (int fi = 0; fi < 2; fi++) {
		qsort(next[fi]->frags, next[fi]->n, sizeof *next[fi]->frags, cmp_frag_key);
		px_ruleset_seal(next[fi]);
		/* full: compare with what the kernel has; else with what we sent */
		known[fi] = full ? NULL : w->cur[fi];
		want[fi] = next[fi];
	}
	/* no IPv6 services: no ip6 table (looked at on full passes only) */
	if (!service_frags(next[1])) {
		want[1] = NULL;
		skip[1] = !full && !service_frags(w->cur[1]);
	}
	int rc = sync_tables(want, known, skip, 0, e);
	for (int fi = 0; fi < 2; fi++) {
		if (rc == 0) {
			px_ruleset_free(w->cur[fi]);
			w->cur[fi] = next[fi];
		} else
			px_ruleset_free(next[fi]);
	}
	if (rc == 0)
		jv_free(was_dirty);
	else
		w->dirty = jv_object_merge(w->dirty, was_dirty);
	kx_log_debug(1, "%s pass: %zu services changed, %lld ms", full ? "full" : "incremental",
		     changed, (long long)(kx_now_ms() - t0));
	return rc;
}

/* Watch streams from the store: one thread per resource, events queued. */
typedef struct wq {
	pthread_mutex_t mu;
	jv events;
	int wake[2];
	const char *server;
	int failed;
	kx_err err;
} wq;

typedef struct wthread {
	wq *q;
	int src;
} wthread;

static void wq_push(wq *q, jv ev)
{
	pthread_mutex_lock(&q->mu);
	q->events = jv_array_append(q->events, ev);
	pthread_mutex_unlock(&q->mu);
	if (write(q->wake[1], "x", 1) < 0) {
		/* the pipe is full: the reader is awake anyway */
	}
}

/* A (re)list: one event that says forget this kind, then these are all
 * there is (so what was deleted while the watch was down goes too). */
static void wt_list(void *arg, jv items)
{
	wthread *t = arg;
	jv ev = jv_object_set(jv_object(), jv_string("type"), jv_string("SYNC"));

	ev = jv_object_set(ev, jv_string("kind"), jv_string(sources[t->src].kind));
	wq_push(t->q, jv_object_set(ev, jv_string("items"), items));
}

static void wt_event(void *arg, const char *type, jv obj)
{
	wthread *t = arg;
	jv ev = jv_object_set(jv_object(), jv_string("type"), jv_string(type));

	wq_push(t->q, jv_object_set(ev, jv_string("object"), obj));
}

static const kx_watch_fns wt_fns = {wt_list, wt_event};

/* One resource's list and watch (lib/watch.c): resumed from the last
 * version seen, listed again on 410 Gone. */
static void *watch_thread(void *arg)
{
	wthread *t = arg;

	kx_watch_follow(t->q->server, sources[t->src].path, sources[t->src].kind, NULL, &wt_fns, t);
	return NULL;
}

/* Read watch events from fd (stdin) without blocking; -1 at end of input. */
static int read_events(int fd, kx_buf *pending, wstate *w)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n <= 0)
		return n == 0 ? -1 : 0;
	kx_buf_add(pending, buf, (size_t)n);
	char *start = pending->p, *nl;
	while ((nl = memchr(start, '\n', pending->len - (size_t)(start - pending->p)))) {
		kx_err e = KX_ERR_INIT;
		jv ev = kx_json_parse(start, (size_t)(nl - start), &e);
		if (jv_is_valid(ev))
			ws_event(w, ev);
		else {
			if (nl > start)
				kx_log_error("stdin: %s", e.msg);
			jv_free(ev);
		}
		start = nl + 1;
	}
	size_t rest = pending->len - (size_t)(start - pending->p);
	memmove(pending->p, start, rest);
	pending->len = rest;
	pending->p[rest] = 0;
	return 1;
}

static volatile sig_atomic_t stopping;
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int px_watch(struct cfg *c, kx_err *e)
{
	wstate w = {jv_object(), jv_object(), jv_object(), 0, {NULL, NULL}};
	wq q = {PTHREAD_MUTEX_INITIALIZER, jv_array(), {-1, -1}, NULL, 0, KX_ERR_INIT};
	wthread th[3];
	int from_stdin = c->file != NULL;
	kx_buf pending = KX_BUF_INIT;
	int64_t next_full = 0;
	int rc = 0, first = 1;
	struct sigaction sa = {0};

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pending.max = 64u << 20;
	if (from_stdin && strcmp(c->file, "-")) {
		jv_free(w.by_svc);
		jv_free(w.slice_owner);
		jv_free(w.dirty);
		jv_free(q.events);
		return kx_err_set(e, KX_EUSAGE, "--watch reads events from the store or from -f -");
	}
	if (!from_stdin) {
		if (pipe(q.wake) < 0)
			return kx_err_set(e, 1, "pipe: %s", strerror(errno));
		/* the watch threads block SIGINT and SIGTERM, so that a signal
		 * always interrupts the main thread's poll */
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		q.server = kx_server_url(c->server);
		for (int i = 0; i < 3; i++) {
			pthread_t tid;
			th[i] = (wthread){&q, i};
			pthread_create(&tid, NULL, watch_thread, &th[i]);
			pthread_detach(tid);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	while (!stopping) {
		int64_t now = kx_now_ms();
		struct pollfd pfd = {from_stdin ? 0 : q.wake[0], POLLIN, 0};
		int timeout = first ? 200 : (int)(next_full > now ? next_full - now : 0);
		int n = poll(&pfd, 1, jv_object_length(jv_copy(w.dirty)) ? 0 : timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			if (from_stdin) {
				/* take everything that is there now, then sync */
				int r;
				do {
					r = read_events(0, &pending, &w);
					pfd.revents = 0;
				} while (r > 0 && poll(&pfd, 1, 0) > 0);
				w.synced = 7; /* the first pass waits for input */
				if (r < 0)
					break;
			} else {
				char buf[4096];
				jv evs;
				if (read(q.wake[0], buf, sizeof buf) < 0) {
				}
				pthread_mutex_lock(&q.mu);
				evs = q.events;
				q.events = jv_array();
				pthread_mutex_unlock(&q.mu);
				jv_array_foreach(evs, i, ev) {
					(void)i;
					ws_event(&w, ev);
				}
				jv_free(evs);
			}
			continue; /* drain before syncing */
		}
		if (w.synced != 7)
			continue; /* not before every kind was listed once (or input came) */
		now = kx_now_ms();
		int full = now >= next_full;
		if (!full && !jv_object_length(jv_copy(w.dirty)))
			continue;
		if (ws_pass(c, &w, full, e) < 0) {
			kx_log_error("%s", e->msg);
			kx_err_clear(e);
			rc = -1;
			next_full = now + 1000; /* try again with the kernel's view */
			continue;
		}
		rc = 0;
		first = 0;
		if (full)
			next_full = kx_now_ms() + c->period_ms;
	}
	/* input ended before the pass that was due (the first is a full one) */
	if (from_stdin && !stopping && jv_object_length(jv_copy(w.dirty)))
		rc = ws_pass(c, &w, first, e);
	kx_buf_free(&pending);
	px_ruleset_free(w.cur[0]);
	px_ruleset_free(w.cur[1]);
	jv_free(w.by_svc);
	jv_free(w.slice_owner);
	jv_free(w.dirty);
	if (!from_stdin)
		_exit(rc < 0 ? e->status : 0); /* the watch threads never return */
	jv_free(q.events);
	return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct kx_cli cli;
	struct cfg c = {0};
	kx_err e = KX_ERR_INIT;
	int ch, rc = 0, lockfd = -1;
	const char *np = NULL, *cc = NULL;

	kx_log_init(argv[0]);
	c.mode = "nftables";
	c.period_ms = 3600000;
	c.lock = "/run/lock/kx-proxy-sync.lock";
	kx_cli_init(&cli, opts);
	while ((ch = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': c.file = optarg; break;
		case KX_OPT_SERVER: c.server = optarg; break;
		case OPT_DRY_RUN: c.dry_run = 1; break;
		case OPT_WATCH: c.watch = 1; break;
		case OPT_SYNC_PERIOD:
			if (parse_duration(optarg, &c.period_ms) < 0 || c.period_ms < 100) {
				kx_log_error("--sync-period: bad duration \"%s\"", optarg);
				return KX_EUSAGE;
			}
			break;
		case OPT_LOCK: c.lock = optarg; break;
		case OPT_NODE: snprintf(c.node, sizeof c.node, "%s", optarg); break;
		case OPT_NODEPORT_ADDRS: np = optarg; break;
		case OPT_CLUSTER_CIDR: cc = optarg; break;
		case OPT_MODE:
			if (strcmp(optarg, "nftables") && strcmp(optarg, "ipvs")) {
				kx_log_error("--mode: \"%s\" is neither nftables nor ipvs", optarg);
				return KX_EUSAGE;
			}
			c.mode = optarg;
			break;
		case OPT_CLEANUP: c.cleanup = 1; break;
		default:
			if ((ch = kx_cli_common(ch, synopsis, opts, NULL)) != KX_CLI_NEXT)
				return kx_cli_exit(ch);
		}
	}
	kx_cli_free(&cli);
	if (optind < argc) {
		kx_log_error("unexpected argument \"%s\"", argv[optind]);
		return KX_EUSAGE;
	}
	if (c.file && c.server) {
		kx_log_error("-f and --server exclude each other");
		return KX_EUSAGE;
	}
	if (c.dry_run && c.watch) {
		kx_log_error("--dry-run prints one pass: it cannot be used with --watch");
		return KX_EUSAGE;
	}
	if (!c.node[0]) {
		const char *env = getenv("KX_NODE");
		if (env)
			snprintf(c.node, sizeof c.node, "%s", env);
		else if (gethostname(c.node, sizeof c.node - 1) < 0)
			c.node[0] = 0;
	}
	c.o.node = c.node;
	c.o.cluster_cidr = c.cidr4;
	c.o.cluster_cidr6 = c.cidr6;
	if ((np && nodeport_addresses(&c, np, &e) < 0) || (cc && cluster_cidrs(&c, cc, &e) < 0))
		goto out;

	if (c.cleanup) {
		int f4 = 0, f6 = 0;
		if (px_nl_cleanup(4, &f4, &e) < 0 || px_nl_cleanup(6, &f6, &e) < 0)
			goto out;
		kx_log_debug(1, "%s", f4 || f6 ? "removed the kx tables" : "no kx tables to remove");
		goto out;
	}
	if (c.watch) {
		rc = px_watch(&c, &e);
		goto out;
	}
	if (!c.dry_run && c.lock && *c.lock) {
		lockfd = kx_lock_acquire(c.lock, 1, &e);
		if (lockfd < 0)
			goto out;
	}
	{
		jv objs;
		int64_t t0 = kx_now_ms();
		if (c.file) {
			objs = load_objects(c.file, &e);
			if (jv_is_valid(objs))
				kx_log_debug(2, "read %d objects in %lld ms", jv_array_length(jv_copy(objs)),
					     (long long)(kx_now_ms() - t0));
		} else {
			kx_client *cl = kx_client_new(kx_server_url(c.server), &e);
			if (!cl)
				goto out;
			objs = observe_store(cl, &e);
			kx_client_free(cl);
		}
		if (!jv_is_valid(objs)) {
			jv_free(objs);
			goto out;
		}
		rc = run_once(&c, objs, &e);
	}
out:
	if (lockfd >= 0)
		kx_lock_release(lockfd);
	for (size_t i = 0; i < c.o.nnodeport_ips; i++)
		free(c.o.nodeport_ips[i]);
	free(c.o.nodeport_ips);
	if (e.status || rc < 0) {
		if (!e.status)
			e.status = 1;
		kx_err_print(&e);
		return kx_cli_exit(e.status);
	}
	return kx_cli_exit(0);
}
