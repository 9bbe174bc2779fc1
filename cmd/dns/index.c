/* index.c: the cluster's objects -> every name of the zone and its records,
 * as the Kubernetes DNS specification lays them out:
 *
 *   svc.ns.svc.ZONE             A/AAAA: the cluster IPs; headless: the
 *                               ready endpoints' addresses; ExternalName:
 *                               CNAME
 *   host.svc.ns.svc.ZONE        A/AAAA of one endpoint of a headless
 *                               service: its hostname, or its address
 *                               with dashes ("10-244-1-5") when it has none
 *   _port._proto.svc.ns.svc.ZONE  SRV for each named port
 *   a-b-c-d.ns.pod.ZONE         A/AAAA of a running pod
 *   d.c.b.a.in-addr.arpa.       PTR (and ip6.arpa.) of the above
 *   dns-version.ZONE            TXT: the specification's version
 *   ZONE                        SOA, NS
 *
 * Every name between one of these and the zone exists too, without records
 * ("ns.svc.ZONE", "_tcp.svc.ns.svc.ZONE"), so that a query for it is NODATA
 * rather than NXDOMAIN. Pure: no I/O. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "json.h"

/* ------------------------------------------------------------------ table */

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static dns_node *slot_of(const dns_index *ix, const char *name, uint32_t h)
{
	size_t mask = ix->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		dns_node *n = &ix->slots[i];
		if (!n->name || (n->hash == h && !strcmp(n->name, name)))
			return n;
	}
}

const dns_node *dns_index_find(const dns_index *ix, const char *name)
{
	const dns_node *n;

	if (!ix || !ix->cap)
		return NULL;
	n = slot_of(ix, name, hash_name(name));
	return n->name ? n : NULL;
}

static int grow(dns_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 1024;
	dns_node *old = ix->slots, *slots = calloc(cap, sizeof *slots);
	size_t oldcap = ix->cap;

	if (!slots)
		return -1;
	ix->slots = slots;
	ix->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].name)
			*slot_of(ix, old[i].name, old[i].hash) = old[i];
	free(old);
	return 0;
}

/* The node of name (lower case already), made when absent. */
static dns_node *node(dns_index *ix, const char *name)
{
	uint32_t h = hash_name(name);
	dns_node *n;

	if ((ix->used + 1) * 2 > ix->cap && grow(ix) < 0)
		return NULL;
	n = slot_of(ix, name, h);
	if (!n->name) {
		n->name = strdup(name);
		if (!n->name)
			return NULL;
		n->hash = h;
		ix->used++;
	}
	return n;
}

static int same_rec(const dns_rec *a, const dns_rec *b)
{
	if (a->type != b->type || a->port != b->port || memcmp(a->addr, b->addr, sizeof a->addr))
		return 0;
	if (!a->target || !b->target)
		return a->target == b->target;
	return ldns_rdf_compare(a->target, b->target) == 0;
}

/* Add rec (its target is taken) to name, unless the same record is there. */
static int add(dns_index *ix, const char *name, dns_rec rec)
{
	dns_node *n = node(ix, name);

	if (!n) {
		ldns_rdf_deep_free(rec.target);
		return -1;
	}
	for (uint32_t i = 0; i < n->n; i++)
		if (same_rec(&n->recs[i], &rec)) {
			ldns_rdf_deep_free(rec.target);
			return 0;
		}
	if (n->n == n->cap) {
		uint32_t cap = n->cap ? n->cap * 2 : 2;
		dns_rec *r = realloc(n->recs, cap * sizeof *r);
		if (!r) {
			ldns_rdf_deep_free(rec.target);
			return -1;
		}
		n->recs = r;
		n->cap = cap;
	}
	n->recs[n->n++] = rec;
	ix->records++;
	return 0;
}

/* name and every name above it, up to the zone, exist. */
static void exist(dns_index *ix, const char *name)
{
	size_t zl = strlen(ix->zone);

	for (const char *p = name; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
		if (strlen(p) < zl)
			break;
		node(ix, p);
		if (!strcmp(p, ix->zone))
			break;
	}
}

static void warn(dns_index *ix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(dns_index *ix, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	char **w;

	if (ix->nwarn >= 1000)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	w = realloc(ix->warnings, (ix->nwarn + 1) * sizeof *w);
	if (!w)
		return;
	ix->warnings = w;
	w[ix->nwarn] = strdup(buf);
	if (w[ix->nwarn])
		ix->nwarn++;
}

/* ------------------------------------------------------------------ names */

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A DNS label: 1 to 63 letters, digits, '-' and '_' (names from the API
 * are valid already; this keeps a hand-made -f file from making names
 * that would not parse). */
static int label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

typedef struct ipaddr {
	int family;       /* 4 or 6; 0: not an address */
	uint8_t b[16];
	char text[48];    /* canonical */
} ipaddr;

static int parse_ip(const char *s, ipaddr *a)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->family = 6;
	else
		return -1;
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, a->text, sizeof a->text);
	return 0;
}

/* "10-244-1-5", or for IPv6 the canonical text with ':' as '-'. */
static void dashed(const ipaddr *a, char *out, size_t n)
{
	snprintf(out, n, "%s", a->text);
	for (char *p = out; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	if (*out == '-') /* "::1" -> "--1" is not a label a resolver likes */
		*out = '0';
	size_t l = strlen(out);
	if (l && out[l - 1] == '-')
		out[l - 1] = '0';
}

/* "5.1.244.10.in-addr.arpa." or the ip6.arpa. nibbles. */
static void reverse_name(const ipaddr *a, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (a->family == 4) {
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa.", a->b[3], a->b[2], a->b[1], a->b[0]);
		return;
	}
	for (int i = 15; i >= 0 && o + 4 < n; i--) {
		out[o++] = hex[a->b[i] & 15];
		out[o++] = '.';
		out[o++] = hex[a->b[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, n - o, "ip6.arpa.");
}

static dns_rec rec_addr(const ipaddr *a)
{
	dns_rec r = {0};

	r.type = a->family == 4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	memcpy(r.addr, a->b, a->family == 4 ? 4 : 16);
	return r;
}

static dns_rec rec_name(uint16_t type, const char *target, uint16_t port)
{
	dns_rec r = {0};

	r.type = type;
	r.port = port;
	r.target = ldns_dname_new_frm_str(target);
	return r;
}

/* ------------------------------------------------------------------ objects */

/* What one service needs of its endpoints, from EndpointSlices or Endpoints. */
typedef struct ep {
	ipaddr a;
	char host[64];  /* the endpoint's hostname, or "" */
	char pod[256];  /* targetRef name of a Pod, or "" */
	int ready;
	jv ports;       /* [{name, port, protocol}] of its slice or subset */
} ep;

typedef struct eplist {
	ep *v;
	size_t n, cap;
} eplist;

static void ep_add(eplist *l, const char *addr, jv e, int ready, jv ports)
{
	ep x = {0};
	char kind[32];

	if (parse_ip(addr, &x.a) < 0) {
		jv_free(ports);
		return;
	}
	kx_jv_str(e, "hostname", x.host, sizeof x.host, "");
	lower(x.host);
	if (!strcmp(kx_jv_str(e, "targetRef.kind", kind, sizeof kind, ""), "Pod"))
		kx_jv_str(e, "targetRef.name", x.pod, sizeof x.pod, "");
	x.ready = ready;
	x.ports = ports;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		ep *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			jv_free(ports);
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
}

static void eps_free(eplist *l)
{
	for (size_t i = 0; i < l->n; i++)
		jv_free(l->v[i].ports);
	free(l->v);
}

/* Endpoints of one service: its EndpointSlices (borrowed array) if it has
 * any, else its Endpoints object (borrowed; null when none). */
static void collect(eplist *l, jv slices, jv endpoints)
{
	if (jv_get_kind(slices) == JV_KIND_ARRAY && jv_array_length(jv_copy(slices)) > 0) {
		jv_array_foreach(slices, i, s) {
			jv ports = kx_jv_get(jv_copy(s), "ports");
			jv eps = kx_jv_get(jv_copy(s), "endpoints");
			if (jv_get_kind(eps) == JV_KIND_ARRAY) {
				jv_array_foreach(eps, j, e) {
					/* a missing ready condition means ready */
					int ready = kx_jv_bool(e, "conditions.ready", 1);
					jv addrs = kx_jv_get(jv_copy(e), "addresses");
					if (jv_get_kind(addrs) == JV_KIND_ARRAY) {
						jv_array_foreach(addrs, k, a) {
							if (jv_get_kind(a) == JV_KIND_STRING)
								ep_add(l, jv_string_value(a), e, ready, jv_copy(ports));
							jv_free(a);
						}
					}
					jv_free(addrs);
					jv_free(e);
				}
			}
			jv_free(eps);
			jv_free(ports);
			jv_free(s);
		}
		return;
	}
	jv subsets = kx_jv_get(jv_copy(endpoints), "subsets");
	if (jv_get_kind(subsets) != JV_KIND_ARRAY) {
		jv_free(subsets);
		return;
	}
	jv_array_foreach(subsets, i, ss) {
		static const char *const which[] = {"addresses", "notReadyAddresses"};
		jv ports = kx_jv_get(jv_copy(ss), "ports");
		for (int w = 0; w < 2; w++) {
			jv addrs = kx_jv_get(jv_copy(ss), which[w]);
			if (jv_get_kind(addrs) == JV_KIND_ARRAY) {
				jv_array_foreach(addrs, j, a) {
					char ip[64];
					if (*kx_jv_str(a, "ip", ip, sizeof ip, ""))
						ep_add(l, ip, a, w == 0, jv_copy(ports));
					jv_free(a);
				}
			}
			jv_free(addrs);
		}
		jv_free(ports);
		jv_free(ss);
	}
	jv_free(subsets);
}

/* The port number of the named port in ports (borrowed), or 0. */
static uint16_t port_named(jv ports, const char *name)
{
	uint16_t p = 0;

	if (jv_get_kind(ports) != JV_KIND_ARRAY)
		return 0;
	jv_array_foreach(ports, i, x) {
		char n[64];
		if (!p && !strcmp(kx_jv_str(x, "name", n, sizeof n, ""), name))
			p = (uint16_t)kx_jv_int(x, "port", 0);
		jv_free(x);
	}
	return p;
}

/* The SRV owner of a port (borrowed): "_http._tcp.BASE", or "" when the
 * port has no name. */
static const char *srv_owner(jv port, const char *base, char *out, size_t n)
{
	char name[64], proto[16];

	kx_jv_str(port, "name", name, sizeof name, "");
	kx_jv_str(port, "protocol", proto, sizeof proto, "TCP");
	lower(name);
	lower(proto);
	if (!label_ok(name) || !label_ok(proto))
		return "";
	snprintf(out, n, "_%s._%s.%s", name, proto, base);
	return out;
}

static void service(dns_index *ix, jv svc, jv slices, jv endpoints, jv pods)
{
	char ns[64], name[64], type[32], base[512], buf[512], ip[64];
	jv ports = kx_jv_get(jv_copy(svc), "spec.ports");

	kx_jv_str(svc, "metadata.namespace", ns, sizeof ns, "default");
	kx_jv_str(svc, "metadata.name", name, sizeof name, "");
	lower(ns);
	lower(name);
	if (!label_ok(ns) || !label_ok(name)) {
		warn(ix, "service \"%s/%s\": not a DNS name", ns, name);
		jv_free(ports);
		return;
	}
	snprintf(base, sizeof base, "%s.%s.svc.%s", name, ns, ix->zone);
	exist(ix, base);
	ix->services++;
	kx_jv_str(svc, "spec.type", type, sizeof type, "ClusterIP");
	if (!strcmp(type, "ExternalName")) {
		char ext[256];
		kx_jv_str(svc, "spec.externalName", ext, sizeof ext, "");
		lower(ext);
		size_t l = strlen(ext);
		if (l && ext[l - 1] != '.' && l + 1 < sizeof ext)
			strcat(ext, ".");
		dns_rec r = rec_name(LDNS_RR_TYPE_CNAME, ext, 0);
		if (!l || !r.target) {
			ldns_rdf_deep_free(r.target);
			warn(ix, "service \"%s/%s\": bad externalName \"%s\"", ns, name, ext);
		} else
			add(ix, base, r);
		jv_free(ports);
		return;
	}

	/* the cluster IPs: clusterIPs, else clusterIP; "None" is headless */
	jv ips = kx_jv_get(jv_copy(svc), "spec.clusterIPs");
	if (jv_get_kind(ips) != JV_KIND_ARRAY || jv_array_length(jv_copy(ips)) == 0) {
		jv_free(ips);
		ips = JV_ARRAY(kx_jv_get(jv_copy(svc), "spec.clusterIP"));
	}
	int headless = 0, nip = 0;
	jv_array_foreach(ips, i, v) {
		ipaddr a;
		if (jv_get_kind(v) == JV_KIND_STRING) {
			snprintf(ip, sizeof ip, "%s", jv_string_value(v));
			if (!strcmp(ip, "None"))
				headless = 1;
			else if (parse_ip(ip, &a) == 0) {
				add(ix, base, rec_addr(&a));
				reverse_name(&a, buf, sizeof buf);
				add(ix, buf, rec_name(LDNS_RR_TYPE_PTR, base, 0));
				nip++;
			} else if (*ip)
				warn(ix, "service \"%s/%s\": bad clusterIP \"%s\"", ns, name, ip);
		}
		jv_free(v);
	}
	jv_free(ips);

	if (!headless) {
		if (jv_get_kind(ports) == JV_KIND_ARRAY && nip) {
			jv_array_foreach(ports, i, p) {
				if (*srv_owner(p, base, buf, sizeof buf)) {
					exist(ix, buf);
					add(ix, buf, rec_name(LDNS_RR_TYPE_SRV, base, (uint16_t)kx_jv_int(p, "port", 0)));
				}
				jv_free(p);
			}
		}
		jv_free(ports);
		return;
	}

	/* headless: the endpoints, ready ones only unless the service says
	 * not-ready ones are published too */
	int all = kx_jv_bool(svc, "spec.publishNotReadyAddresses", 0);
	eplist l = {0};
	collect(&l, slices, endpoints);
	for (size_t i = 0; i < l.n; i++) {
		ep *e = &l.v[i];
		char host[64], target[640];
		if (!e->ready && !all)
			continue;
		ix->endpoints++;
		snprintf(host, sizeof host, "%s", e->host);
		if (!*host && *e->pod) {
			/* the pod's own hostname when its subdomain is this
			 * service, as the endpoints controller would have set */
			char key[384], sub[64];
			snprintf(key, sizeof key, "%s/%s", ns, e->pod);
			jv pod = jv_object_get(jv_copy(pods), jv_string(key));
			kx_jv_str(pod, "spec.subdomain", sub, sizeof sub, "");
			lower(sub);
			if (!strcmp(sub, name)) {
				kx_jv_str(pod, "spec.hostname", host, sizeof host, "");
				lower(host);
			}
			jv_free(pod);
		}
		if (!label_ok(host))
			dashed(&e->a, host, sizeof host);
		snprintf(target, sizeof target, "%s.%s", host, base);
		add(ix, base, rec_addr(&e->a));
		add(ix, target, rec_addr(&e->a));
		reverse_name(&e->a, buf, sizeof buf);
		add(ix, buf, rec_name(LDNS_RR_TYPE_PTR, target, 0));
		if (jv_get_kind(ports) != JV_KIND_ARRAY)
			continue;
		jv_array_foreach(ports, j, p) {
			char pname[64];
			if (*srv_owner(p, base, buf, sizeof buf)) {
				/* the endpoint's port of that name; the service's when absent */
				uint16_t port = port_named(e->ports, kx_jv_str(p, "name", pname, sizeof pname, ""));
				if (!port)
					port = (uint16_t)kx_jv_int(p, "port", 0);
				exist(ix, buf);
				add(ix, buf, rec_name(LDNS_RR_TYPE_SRV, target, port));
			}
			jv_free(p);
		}
	}
	eps_free(&l);
	jv_free(ports);
}

/* a-b-c-d.ns.pod.ZONE for each address of a pod that runs (or may run). */
static void pod(dns_index *ix, jv p)
{
	char ns[64], phase[32], base[512], name[64], ip[64];
	jv ips = kx_jv_get(jv_copy(p), "status.podIPs");
	int n = 0;

	kx_jv_str(p, "metadata.namespace", ns, sizeof ns, "default");
	lower(ns);
	kx_jv_str(p, "status.phase", phase, sizeof phase, "");
	if (!label_ok(ns) || !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") ||
	    kx_jv_bool(p, "spec.hostNetwork", 0)) {
		jv_free(ips);
		return;
	}
	if (jv_get_kind(ips) != JV_KIND_ARRAY || jv_array_length(jv_copy(ips)) == 0) {
		jv_free(ips);
		ips = JV_ARRAY(jv_object_set(jv_object(), jv_string("ip"),
					     kx_jv_get(jv_copy(p), "status.podIP")));
	}
	jv_array_foreach(ips, i, v) {
		ipaddr a;
		if (*kx_jv_str(v, "ip", ip, sizeof ip, "") && parse_ip(ip, &a) == 0) {
			dashed(&a, name, sizeof name);
			snprintf(base, sizeof base, "%s.%s.pod.%s", name, ns, ix->zone);
			exist(ix, base);
			add(ix, base, rec_addr(&a));
			n++;
		}
		jv_free(v);
	}
	ix->pods += n > 0;
	jv_free(ips);
}

static void key(jv obj, const char *name_path, char *out, size_t n)
{
	char ns[64], name[256];

	kx_jv_str(obj, "metadata.namespace", ns, sizeof ns, "default");
	kx_jv_str(obj, name_path, name, sizeof name, "");
	snprintf(out, n, "%s/%s", ns, name);
}

/* The zone's own records: SOA and NS at the apex, dns-version TXT. */
static void apex(dns_index *ix)
{
	char buf[300];
	dns_rec r = {0};

	exist(ix, ix->zone);
	r.type = LDNS_RR_TYPE_SOA;
	add(ix, ix->zone, r);
	snprintf(buf, sizeof buf, "ns.dns.%s", ix->zone);
	add(ix, ix->zone, rec_name(LDNS_RR_TYPE_NS, buf, 0));
	snprintf(buf, sizeof buf, "dns-version.%s", ix->zone);
	r.type = LDNS_RR_TYPE_TXT;
	if (ldns_str2rdf_str(&r.target, DNS_SCHEMA_VERSION) == LDNS_STATUS_OK)
		add(ix, buf, r);
}

dns_index *dns_index_build(jv objs, const dns_opts *o)
{
	dns_index *ix = calloc(1, sizeof *ix);
	jv svcs = jv_array(), slices = jv_object(), eps = jv_object(), pods = jv_object();
	char k[512], kind[64];

	if (!ix || grow(ix) < 0) {
		free(ix);
		jv_free(objs);
		jv_free(svcs);
		jv_free(slices);
		jv_free(eps);
		jv_free(pods);
		return NULL;
	}
	snprintf(ix->zone, sizeof ix->zone, "%s", o->zone);
	lower(ix->zone);
	size_t zl = strlen(ix->zone);
	if (zl && ix->zone[zl - 1] != '.' && zl + 1 < sizeof ix->zone)
		strcat(ix->zone, ".");
	ix->zone_rdf = ldns_dname_new_frm_str(ix->zone);
	ix->ttl = o->ttl;
	ix->serial = o->serial;
	apex(ix);

	/* sort the objects by kind first: a service needs its endpoints */
	jv_array_foreach(objs, i, obj) {
		kx_jv_str(obj, "kind", kind, sizeof kind, "");
		if (!strcmp(kind, "Service"))
			svcs = jv_array_append(svcs, obj);
		else if (!strcmp(kind, "EndpointSlice")) {
			char svc[256];
			jv labels = kx_jv_get(jv_copy(obj), "metadata.labels");
			jv sn = jv_get_kind(labels) == JV_KIND_OBJECT
					? jv_object_get(labels, jv_string("kubernetes.io/service-name"))
					: (jv_free(labels), jv_invalid());
			if (jv_get_kind(sn) == JV_KIND_STRING) {
				char ns[64];
				snprintf(svc, sizeof svc, "%s", jv_string_value(sn));
				kx_jv_str(obj, "metadata.namespace", ns, sizeof ns, "default");
				snprintf(k, sizeof k, "%s/%s", ns, svc);
				jv list = jv_object_get(jv_copy(slices), jv_string(k));
				if (!jv_is_valid(list)) {
					jv_free(list);
					list = jv_array();
				}
				slices = jv_object_set(slices, jv_string(k), jv_array_append(list, obj));
			} else
				jv_free(obj);
			jv_free(sn);
		} else if (!strcmp(kind, "Endpoints")) {
			key(obj, "metadata.name", k, sizeof k);
			eps = jv_object_set(eps, jv_string(k), obj);
		} else if (!strcmp(kind, "Pod")) {
			key(obj, "metadata.name", k, sizeof k);
			pods = jv_object_set(pods, jv_string(k), obj);
		} else
			jv_free(obj);
	}
	jv_free(objs);
	jv_array_foreach(svcs, i, s) {
		key(s, "metadata.name", k, sizeof k);
		jv sl = jv_object_get(jv_copy(slices), jv_string(k));
		jv ep = jv_object_get(jv_copy(eps), jv_string(k));
		service(ix, s, sl, ep, pods);
		jv_free(sl);
		jv_free(ep);
		jv_free(s);
	}
	jv_object_foreach(pods, pk, p) {
		pod(ix, p);
		jv_free(pk);
		jv_free(p);
	}
	jv_free(svcs);
	jv_free(slices);
	jv_free(eps);
	jv_free(pods);
	return ix;
}

void dns_index_free(dns_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->cap; i++) {
		dns_node *n = &ix->slots[i];
		if (!n->name)
			continue;
		for (uint32_t j = 0; j < n->n; j++)
			ldns_rdf_deep_free(n->recs[j].target);
		free(n->recs);
		free(n->name);
	}
	free(ix->slots);
	for (size_t i = 0; i < ix->nwarn; i++)
		free(ix->warnings[i]);
	free(ix->warnings);
	ldns_rdf_deep_free(ix->zone_rdf);
	free(ix);
}
