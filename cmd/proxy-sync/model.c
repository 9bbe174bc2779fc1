/* model.c: observe's result turned into plain C: Services with, for each
 * port, the endpoints that traffic may go to.
 *
 * Which endpoints, as kube-proxy picks them: an EndpointSlice names its
 * service in the label kubernetes.io/service-name; when a service has any
 * slice, its Endpoints object is ignored (the EndpointSlice mirroring rule),
 * else Endpoints' subsets are read. Only ready endpoints are used; when none
 * is ready, the serving ones that are terminating are (so that connections
 * drain during a rolling update instead of failing). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "proxy.h"

static void warn(px_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(px_model *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	m->warnings = realloc(m->warnings, (m->nwarn + 1) * sizeof *m->warnings);
	m->warnings[m->nwarn++] = strdup(buf);
}

/* Canonical form of an IP address into out; returns its family (4, 6) or 0. */
static int canon_ip(const char *s, char *out, size_t n)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		inet_ntop(AF_INET, a, out, n);
		return 4;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		inet_ntop(AF_INET6, a, out, n);
		return 6;
	}
	return 0;
}

/* Copy s into d (n bytes), truncating: snprintf("%s") without the cost. */
static void scopy(char *d, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (!n)
		return;
	if (l >= n)
		l = n - 1;
	memcpy(d, s, l);
	d[l] = 0;
}

/* kx_jv_str, but buf always holds the answer (def when absent), and the
 * path is walked without formatting (this runs for every field of every
 * object). */
const char *px_str(jv v, const char *path, char *buf, size_t n, const char *def)
{
	jv cur = jv_copy(v);
	const char *r = NULL;

	while (*path && jv_is_valid(cur)) {
		const char *dot = strchr(path, '.');
		size_t l = dot ? (size_t)(dot - path) : strlen(path);
		if (jv_get_kind(cur) == JV_KIND_OBJECT)
			cur = jv_object_get(cur, jv_string_sized(path, (int)l));
		else if (jv_get_kind(cur) == JV_KIND_ARRAY && *path >= '0' && *path <= '9')
			cur = jv_array_get(cur, atoi(path));
		else {
			jv_free(cur);
			cur = jv_invalid();
		}
		path += l + (dot != NULL);
	}
	if (jv_get_kind(cur) == JV_KIND_STRING) {
		scopy(buf, n, jv_string_value(cur));
		r = buf;
	} else {
		if (n)
			scopy(buf, n, def ? def : "");
		r = def;
	}
	jv_free(cur);
	return r;
}

static int parse_proto(const char *s)
{
	if (!s || !strcmp(s, "TCP"))
		return PX_TCP;
	if (!strcmp(s, "UDP"))
		return PX_UDP;
	if (!strcmp(s, "SCTP"))
		return PX_SCTP;
	return 0;
}

/* One endpoint candidate, before selection. */
typedef struct cand {
	char addr[48];
	int family;
	char pname[64];
	int proto, port;
	int ready, serving, terminating, local;
} cand;

typedef struct cands {
	cand *v;
	size_t n, cap;
} cands;

typedef struct epsrc {
	char ns[64], name[256];
	int from_slice;
	cands c;
} epsrc;

static void cand_add(cands *c, const cand *x)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = *x;
}

/* The endpoints source of service ns/name, found through index (a jv
 * object "ns/name" -> position), created when create is set. */
static epsrc *src_find(epsrc **v, size_t *n, jv *index, const char *ns, const char *name,
		       int create)
{
	char key[400];
	jv pos;

	snprintf(key, sizeof key, "%s/%s", ns, name);
	pos = jv_object_get(jv_copy(*index), jv_string(key));
	if (jv_get_kind(pos) == JV_KIND_NUMBER) {
		size_t i = (size_t)jv_number_value(pos);
		jv_free(pos);
		return &(*v)[i];
	}
	jv_free(pos);
	if (!create)
		return NULL;
	*index = jv_object_set(*index, jv_string(key), jv_number((double)*n));
	*v = realloc(*v, (*n + 1) * sizeof **v);
	epsrc *s = &(*v)[(*n)++];
	memset(s, 0, sizeof *s);
	scopy(s->ns, sizeof s->ns, ns);
	scopy(s->name, sizeof s->name, name);
	return s;
}

static jv field(jv o, const char *k);
static const char *fstr(jv o, const char *k, char *buf, size_t n);

/* metadata.KEY of obj (borrowed) into buf, or def. */
static const char *mstr(jv obj, const char *key, char *buf, size_t n, const char *def)
{
	jv md = field(obj, "metadata");
	const char *r = fstr(md, key, buf, n);

	jv_free(md);
	if (!r && def)
		scopy(buf, n, def);
	return r ? r : def;
}

/* Endpoints of one slice, for every port it lists. Borrows obj. */
/* Direct field access for the hot loops (kx_jv_get parses a path). */
static jv field(jv o, const char *k) /* o borrowed */
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(k));
}

static int fbool(jv o, const char *k, int def)
{
	jv v = field(o, k);
	int r = jv_get_kind(v) == JV_KIND_TRUE ? 1 : jv_get_kind(v) == JV_KIND_FALSE ? 0 : def;

	jv_free(v);
	return r;
}

static const char *fstr(jv o, const char *k, char *buf, size_t n)
{
	jv v = field(o, k);
	const char *r = NULL;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		scopy(buf, n, jv_string_value(v));
		r = buf;
	}
	jv_free(v);
	return r;
}

/* Endpoints of one slice, for every port it lists. Borrows obj. */
static void read_slice(px_model *m, epsrc *src, jv obj, const px_opts *o)
{
	char buf[256], atype[16];
	jv eps = field(obj, "endpoints");
	jv ports = field(obj, "ports");
	int fam, np = 0;
	struct { int port, proto; char name[64]; } pv[64];

	if (!fstr(obj, "addressType", atype, sizeof atype))
		snprintf(atype, sizeof atype, "IPv4");
	fam = !strcmp(atype, "IPv4") ? 4 : !strcmp(atype, "IPv6") ? 6 : 0;
	if (!fam || jv_get_kind(eps) != JV_KIND_ARRAY || jv_get_kind(ports) != JV_KIND_ARRAY)
		goto out;
	jv_array_foreach(ports, j, p) {
		(void)j;
		if (np < 64) {
			jv port = field(p, "port");
			pv[np].port = jv_get_kind(port) == JV_KIND_NUMBER ? (int)jv_number_value(port) : 0;
			jv_free(port);
			pv[np].proto = parse_proto(fstr(p, "protocol", buf, sizeof buf));
			if (!fstr(p, "name", pv[np].name, sizeof pv[np].name))
				pv[np].name[0] = 0;
			if (pv[np].port > 0 && pv[np].port < 65536 && pv[np].proto)
				np++;
		}
		jv_free(p);
	}
	jv_array_foreach(eps, i, ep) {
		cand c = {0};
		char addr[64];
		jv addrs = field(ep, "addresses"), cond = field(ep, "conditions");
		jv a0 = jv_get_kind(addrs) == JV_KIND_ARRAY && jv_array_length(jv_copy(addrs)) > 0
				? jv_array_get(jv_copy(addrs), 0)
				: jv_invalid();
		const char *a = NULL;

		if (jv_get_kind(a0) == JV_KIND_STRING) {
			scopy(addr, sizeof addr, jv_string_value(a0));
			a = addr;
		}
		jv_free(a0);
		jv_free(addrs);
		if (!a || canon_ip(a, c.addr, sizeof c.addr) != fam) {
			warn(m, "endpointslice \"%s/%s\": endpoint %d: bad address \"%s\"", src->ns,
			     src->name, i, a ? a : "");
			jv_free(cond);
			jv_free(ep);
			continue;
		}
		c.family = fam;
		c.ready = fbool(cond, "ready", 1);
		c.serving = fbool(cond, "serving", c.ready);
		c.terminating = fbool(cond, "terminating", 0);
		jv_free(cond);
		c.local = o->node && *o->node && fstr(ep, "nodeName", buf, sizeof buf) &&
			  !strcmp(buf, o->node);
		for (int j = 0; j < np; j++) {
			c.port = pv[j].port;
			c.proto = pv[j].proto;
			memcpy(c.pname, pv[j].name, sizeof c.pname);
			cand_add(&src->c, &c);
		}
		jv_free(ep);
	}
out:
	jv_free(eps);
	jv_free(ports);
}

static void read_addrs(epsrc *src, jv addrs, jv ports, int ready, const px_opts *o)
{
	char buf[256];

	if (jv_get_kind(addrs) == JV_KIND_ARRAY && jv_get_kind(ports) == JV_KIND_ARRAY) {
		jv_array_foreach(addrs, i, a) {
			cand c = {0};
			char ip[64];
			(void)i;
			c.family = canon_ip(px_str(a, "ip", ip, sizeof ip, ""), c.addr, sizeof c.addr);
			c.ready = c.serving = ready;
			c.local = o->node && *o->node &&
				  !strcmp(px_str(a, "nodeName", buf, sizeof buf, ""), o->node);
			jv_array_foreach(ports, j, p) {
				(void)j;
				c.port = (int)kx_jv_int(p, "port", 0);
				c.proto = parse_proto(px_str(p, "protocol", buf, sizeof buf, NULL));
				px_str(p, "name", c.pname, sizeof c.pname, "");
				if (c.family && c.port > 0 && c.port < 65536 && c.proto)
					cand_add(&src->c, &c);
				jv_free(p);
			}
			jv_free(a);
		}
	}
	jv_free(addrs);
	jv_free(ports);
}

/* Endpoints (core/v1): subsets of addresses (ready) and notReadyAddresses. */
static void read_endpoints(epsrc *src, jv obj, const px_opts *o)
{
	jv subsets = kx_jv_get(jv_copy(obj), "subsets");

	if (jv_get_kind(subsets) == JV_KIND_ARRAY) {
		jv_array_foreach(subsets, i, ss) {
			(void)i;
			read_addrs(src, kx_jv_get(jv_copy(ss), "addresses"),
				   kx_jv_get(jv_copy(ss), "ports"), 1, o);
			read_addrs(src, kx_jv_get(jv_copy(ss), "notReadyAddresses"),
				   kx_jv_get(jv_copy(ss), "ports"), 0, o);
			jv_free(ss);
		}
	}
	jv_free(subsets);
}

static int cmp_ep(const void *a, const void *b)
{
	const px_ep *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	return c ? c : x->port - y->port;
}

/* The endpoints a service port uses: ready ones, else serving terminating. */
static void pick_eps(px_port *p, const epsrc *src, int family)
{
	int want_ready = 0;

	if (!src)
		return;
	for (size_t i = 0; i < src->c.n; i++) {
		const cand *c = &src->c.v[i];
		if (c->family == family && c->proto == p->proto && !strcmp(c->pname, p->name) &&
		    c->ready)
			want_ready = 1;
	}
	for (size_t i = 0; i < src->c.n; i++) {
		const cand *c = &src->c.v[i];
		int dup = 0;
		if (c->family != family || c->proto != p->proto || strcmp(c->pname, p->name))
			continue;
		if (want_ready ? !c->ready : !(c->serving && c->terminating))
			continue;
		for (size_t k = 0; k < p->neps; k++)
			if (!strcmp(p->eps[k].addr, c->addr) && p->eps[k].port == c->port)
				dup = 1;
		if (dup)
			continue;
		p->eps = realloc(p->eps, (p->neps + 1) * sizeof *p->eps);
		px_ep *e = &p->eps[p->neps++];
		memset(e, 0, sizeof *e);
		memcpy(e->addr, c->addr, sizeof e->addr);
		e->port = c->port;
		e->ready = c->ready;
		e->serving = c->serving;
		e->terminating = c->terminating;
		e->local = c->local;
	}
	if (p->neps > 1)
		qsort(p->eps, p->neps, sizeof *p->eps, cmp_ep);
}

static void add_ext(px_svc *s, const char *ip)
{
	for (size_t i = 0; i < s->next; i++)
		if (!strcmp(s->ext_ips[i], ip))
			return;
	s->ext_ips = realloc(s->ext_ips, (s->next + 1) * sizeof *s->ext_ips);
	s->ext_ips[s->next++] = strdup(ip);
}

static void svc_free(px_svc *s)
{
	for (size_t i = 0; i < s->next; i++)
		free(s->ext_ips[i]);
	free(s->ext_ips);
	for (size_t i = 0; i < s->nports; i++)
		free(s->ports[i].eps);
	free(s->ports);
}

/* One px_svc per IP family of a Service. Borrows obj. */
static int read_service(px_model *m, jv obj, epsrc *src, struct kx_err *e)
{
	char ns[64], name[256], type[32], buf[256], lb[16], sched[16];
	jv ips, ports, ext;
	int fams[2] = {0, 0};
	char cips[2][48] = {"", ""};
	int nodeports;

	px_str(obj, "metadata.namespace", ns, sizeof ns, "default");
	if (!px_str(obj, "metadata.name", name, sizeof name, NULL))
		return kx_err_set(e, 1, "a service in namespace \"%s\" has no metadata.name", ns);
	px_str(obj, "spec.type", type, sizeof type, "ClusterIP");
	if (!strcmp(type, "ExternalName"))
		return 0;
	nodeports = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer");

	/* the cluster IPs, one per family */
	ips = kx_jv_get(jv_copy(obj), "spec.clusterIPs");
	if (jv_get_kind(ips) != JV_KIND_ARRAY) {
		jv_free(ips);
		ips = jv_array_append(jv_array(), kx_jv_get(jv_copy(obj), "spec.clusterIP"));
	}
	jv_array_foreach(ips, i, ip) {
		char c[48];
		int f = 0;
		(void)i;
		if (jv_get_kind(ip) == JV_KIND_STRING && strcmp(jv_string_value(ip), "None") &&
		    *jv_string_value(ip)) {
			f = canon_ip(jv_string_value(ip), c, sizeof c);
			if (!f) {
				kx_err_set(e, 1, "service \"%s/%s\": bad clusterIP \"%s\"", ns, name,
					   jv_string_value(ip));
				jv_free(ip);
				jv_free(ips);
				return -1;
			}
			if (!fams[f == 6]) {
				fams[f == 6] = f;
				memcpy(cips[f == 6], c, sizeof c);
			}
		}
		jv_free(ip);
	}
	jv_free(ips);
	if (!fams[0] && !fams[1])
		return 0; /* headless: DNS only, nothing to proxy */


	for (int fi = 0; fi < 2; fi++) {
		px_svc s;
		if (!fams[fi])
			continue;
		memset(&s, 0, sizeof s);
		scopy(s.ns, sizeof s.ns, ns);
		scopy(s.name, sizeof s.name, name);
		s.family = fams[fi];
		memcpy(s.cluster_ip, cips[fi], sizeof s.cluster_ip);
		if (!strcmp(px_str(obj, "spec.sessionAffinity", buf, sizeof buf, ""), "ClientIP")) {
			s.affinity = (int)kx_jv_int(obj, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
						    10800);
			if (s.affinity <= 0 || s.affinity > 86400)
				s.affinity = 10800;
		}
		{
			jv ann = kx_jv_get(jv_copy(obj), "metadata.annotations");
			jv v = jv_get_kind(ann) == JV_KIND_OBJECT
				       ? jv_object_get(jv_copy(ann), jv_string("kx.io/lb"))
				       : jv_invalid();
			snprintf(lb, sizeof lb, "%s",
				 jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
			jv_free(v);
			v = jv_get_kind(ann) == JV_KIND_OBJECT
				    ? jv_object_get(jv_copy(ann), jv_string("kx.io/ipvs-scheduler"))
				    : jv_invalid();
			snprintf(sched, sizeof sched, "%s",
				 jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
			jv_free(v);
			jv_free(ann);
		}
		if (!*lb || !strcmp(lb, "random"))
			s.lb = PX_LB_RANDOM;
		else if (!strcmp(lb, "rr"))
			s.lb = PX_LB_RR;
		else if (!strcmp(lb, "sh"))
			s.lb = PX_LB_SH;
		else if (fi == 0 || !fams[0])
			warn(m, "service \"%s/%s\": unknown kx.io/lb \"%s\", using random", ns, name, lb);
		static const char *const scheds[] = {"rr", "lc", "dh", "sh", "sed", "nq"};
		snprintf(s.ipvs_sched, sizeof s.ipvs_sched, "rr");
		for (size_t k = 0; k < 6; k++)
			if (!strcmp(sched, scheds[k]))
				scopy(s.ipvs_sched, sizeof s.ipvs_sched, scheds[k]);
		if (*sched && strcmp(sched, s.ipvs_sched))
			warn(m, "service \"%s/%s\": unknown kx.io/ipvs-scheduler \"%s\", using rr", ns,
			     name, sched);
		s.itp_local = !strcmp(px_str(obj, "spec.internalTrafficPolicy", buf, sizeof buf, ""),
				      "Local");
		s.etp_local = !strcmp(px_str(obj, "spec.externalTrafficPolicy", buf, sizeof buf, ""),
				      "Local");

		ext = kx_jv_get(jv_copy(obj), "spec.externalIPs");
		if (jv_get_kind(ext) == JV_KIND_ARRAY) {
			jv_array_foreach(ext, i, ip) {
				char c[48];
				(void)i;
				if (jv_get_kind(ip) == JV_KIND_STRING &&
				    canon_ip(jv_string_value(ip), c, sizeof c) == s.family)
					add_ext(&s, c);
				jv_free(ip);
			}
		}
		jv_free(ext);
		ext = kx_jv_get(jv_copy(obj), "status.loadBalancer.ingress");
		if (jv_get_kind(ext) == JV_KIND_ARRAY) {
			jv_array_foreach(ext, i, ing) {
				char c[48], ip[64];
				(void)i;
				if (px_str(ing, "ip", ip, sizeof ip, NULL) &&
				    canon_ip(ip, c, sizeof c) == s.family)
					add_ext(&s, c);
				jv_free(ing);
			}
		}
		jv_free(ext);

		ports = kx_jv_get(jv_copy(obj), "spec.ports");
		if (jv_get_kind(ports) == JV_KIND_ARRAY) {
			jv_array_foreach(ports, i, p) {
				px_port pp;
				memset(&pp, 0, sizeof pp);
				px_str(p, "name", pp.name, sizeof pp.name, "");
				pp.proto = parse_proto(px_str(p, "protocol", buf, sizeof buf, NULL));
				pp.port = (int)kx_jv_int(p, "port", 0);
				pp.nodeport = nodeports ? (int)kx_jv_int(p, "nodePort", 0) : 0;
				jv_free(p);
				if (!pp.proto || pp.port <= 0 || pp.port > 65535 || pp.nodeport < 0 ||
				    pp.nodeport > 65535) {
					warn(m, "service \"%s/%s\": port %d: bad protocol or port, skipped",
					     ns, name, i);
					continue;
				}
				pick_eps(&pp, src, s.family);
				s.ports = realloc(s.ports, (s.nports + 1) * sizeof *s.ports);
				s.ports[s.nports++] = pp;
			}
		}
		jv_free(ports);
		m->svcs = realloc(m->svcs, (m->n + 1) * sizeof *m->svcs);
		m->svcs[m->n++] = s;
	}
	return 0;
}

static int cmp_svc(const void *a, const void *b)
{
	const px_svc *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : x->family - y->family;
}

int px_model_build(px_model *m, jv objs, const px_opts *o, kx_err *e)
{
	epsrc *srcs = NULL;
	size_t nsrcs = 0;
	jv index;
	char kind[64], ns[64], name[256];
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (jv_get_kind(objs) != JV_KIND_ARRAY) {
		jv_free(objs);
		return kx_err_set(e, 1, "expected a list of objects");
	}
	index = jv_object();
	/* endpoints first, slices winning over Endpoints */
	for (int pass = 0; pass < 2; pass++) {
		jv_array_foreach(objs, i, obj) {
			(void)i;
			if (!fstr(obj, "kind", kind, sizeof kind))
				kind[0] = 0;
			mstr(obj, "namespace", ns, sizeof ns, "default");
			if (pass == 0 && !strcmp(kind, "EndpointSlice")) {
				char *svc = NULL;
				jv l = kx_jv_get(jv_copy(obj), "metadata.labels");
				jv v = jv_get_kind(l) == JV_KIND_OBJECT
					       ? jv_object_get(l, jv_string("kubernetes.io/service-name"))
					       : (jv_free(l), jv_invalid());
				if (jv_get_kind(v) == JV_KIND_STRING)
					svc = strdup(jv_string_value(v));
				jv_free(v);
				if (svc) {
					epsrc *s = src_find(&srcs, &nsrcs, &index, ns, svc, 1);
					if (!s->from_slice) {
						s->c.n = 0;
						s->from_slice = 1;
					}
					read_slice(m, s, obj, o);
					free(svc);
				}
			} else if (pass == 1 && !strcmp(kind, "Endpoints") &&
				   mstr(obj, "name", name, sizeof name, NULL)) {
				epsrc *s = src_find(&srcs, &nsrcs, &index, ns, name, 1);
				if (!s->from_slice)
					read_endpoints(s, obj, o);
			}
			jv_free(obj);
		}
	}
	jv_array_foreach(objs, i, obj) {
		(void)i;
		if (!fstr(obj, "kind", kind, sizeof kind))
			kind[0] = 0;
		if (!strcmp(kind, "Service")) {
			char ns[64], name[256];
			mstr(obj, "namespace", ns, sizeof ns, "default");
			mstr(obj, "name", name, sizeof name, "");
			if (read_service(m, obj, src_find(&srcs, &nsrcs, &index, ns, name, 0), e) < 0)
				rc = -1;
		}
		jv_free(obj);
		if (rc < 0)
			break;
	}
	jv_free(objs);
	for (size_t i = 0; i < nsrcs; i++)
		free(srcs[i].c.v);
	free(srcs);
	jv_free(index);
	if (rc < 0) {
		px_model_free(m);
		return -1;
	}
	if (m->n > 1)
		qsort(m->svcs, m->n, sizeof *m->svcs, cmp_svc);
	return 0;
}

void px_model_free(px_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		svc_free(&m->svcs[i]);
	free(m->svcs);
	for (size_t i = 0; i < m->nwarn; i++)
		free(m->warnings[i]);
	free(m->warnings);
	memset(m, 0, sizeof *m);
}
