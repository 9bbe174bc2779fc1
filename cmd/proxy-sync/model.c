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

/* kx_jv_str, but buf always holds the answer (def when absent). */
const char *px_str(jv v, const char *path, char *buf, size_t n, const char *def)
{
	const char *r = kx_jv_str(v, path, buf, n, def);

	if (r != buf && n)
		snprintf(buf, n, "%s", r ? r : "");
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

static epsrc *src_get(epsrc **v, size_t *n, const char *ns, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].ns, ns) && !strcmp((*v)[i].name, name))
			return &(*v)[i];
	*v = realloc(*v, (*n + 1) * sizeof **v);
	epsrc *s = &(*v)[(*n)++];
	memset(s, 0, sizeof *s);
	snprintf(s->ns, sizeof s->ns, "%s", ns);
	snprintf(s->name, sizeof s->name, "%s", name);
	return s;
}

/* Endpoints of one slice, for every port it lists. Borrows obj. */
static void read_slice(px_model *m, epsrc *src, jv obj, const px_opts *o)
{
	char buf[256], atype[16];
	jv eps = kx_jv_get(jv_copy(obj), "endpoints");
	jv ports = kx_jv_get(jv_copy(obj), "ports");
	int fam;

	px_str(obj, "addressType", atype, sizeof atype, "IPv4");
	fam = !strcmp(atype, "IPv4") ? 4 : !strcmp(atype, "IPv6") ? 6 : 0;
	if (!fam || jv_get_kind(eps) != JV_KIND_ARRAY || jv_get_kind(ports) != JV_KIND_ARRAY)
		goto out;
	jv_array_foreach(eps, i, ep) {
		cand c = {0};
		char addr[64];
		const char *a = px_str(ep, "addresses.0", addr, sizeof addr, NULL);

		if (!a || canon_ip(a, c.addr, sizeof c.addr) != fam) {
			warn(m, "endpointslice \"%s/%s\": endpoint %d: bad address \"%s\"", src->ns,
			     src->name, i, a ? a : "");
			jv_free(ep);
			continue;
		}
		c.family = fam;
		c.ready = kx_jv_bool(ep, "conditions.ready", 1);
		c.serving = kx_jv_bool(ep, "conditions.serving", c.ready);
		c.terminating = kx_jv_bool(ep, "conditions.terminating", 0);
		c.local = o->node && *o->node &&
			  !strcmp(px_str(ep, "nodeName", buf, sizeof buf, ""), o->node);
		jv_array_foreach(ports, j, p) {
			c.port = (int)kx_jv_int(p, "port", 0);
			c.proto = parse_proto(px_str(p, "protocol", buf, sizeof buf, NULL));
			px_str(p, "name", c.pname, sizeof c.pname, "");
			if (c.port > 0 && c.port < 65536 && c.proto)
				cand_add(&src->c, &c);
			jv_free(p);
			(void)j;
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
static int read_service(px_model *m, jv obj, epsrc *srcs, size_t nsrcs, struct kx_err *e)
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

	epsrc *src = NULL;
	for (size_t i = 0; i < nsrcs; i++)
		if (!strcmp(srcs[i].ns, ns) && !strcmp(srcs[i].name, name))
			src = &srcs[i];

	for (int fi = 0; fi < 2; fi++) {
		px_svc s;
		if (!fams[fi])
			continue;
		memset(&s, 0, sizeof s);
		snprintf(s.ns, sizeof s.ns, "%s", ns);
		snprintf(s.name, sizeof s.name, "%s", name);
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
				snprintf(s.ipvs_sched, sizeof s.ipvs_sched, "%s", scheds[k]);
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
	char kind[64], ns[64], name[256];
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (jv_get_kind(objs) != JV_KIND_ARRAY) {
		jv_free(objs);
		return kx_err_set(e, 1, "expected a list of objects");
	}
	/* endpoints first, slices winning over Endpoints */
	for (int pass = 0; pass < 2; pass++) {
		jv_array_foreach(objs, i, obj) {
			(void)i;
			px_str(obj, "kind", kind, sizeof kind, "");
			px_str(obj, "metadata.namespace", ns, sizeof ns, "default");
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
					epsrc *s = src_get(&srcs, &nsrcs, ns, svc);
					if (!s->from_slice) {
						s->c.n = 0;
						s->from_slice = 1;
					}
					read_slice(m, s, obj, o);
					free(svc);
				}
			} else if (pass == 1 && !strcmp(kind, "Endpoints") &&
				   px_str(obj, "metadata.name", name, sizeof name, NULL)) {
				epsrc *s = src_get(&srcs, &nsrcs, ns, name);
				if (!s->from_slice)
					read_endpoints(s, obj, o);
			}
			jv_free(obj);
		}
	}
	jv_array_foreach(objs, i, obj) {
		(void)i;
		px_str(obj, "kind", kind, sizeof kind, "");
		if (!strcmp(kind, "Service") && read_service(m, obj, srcs, nsrcs, e) < 0)
			rc = -1;
		jv_free(obj);
		if (rc < 0)
			break;
	}
	jv_free(objs);
	for (size_t i = 0; i < nsrcs; i++)
		free(srcs[i].c.v);
	free(srcs);
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
