/* endpoints.c: the Endpoints and EndpointSlice controllers.
 *
 * For each Service with a selector: the pods it selects that have an IP and
 * are not terminating, with each service port's targetPort resolved per pod
 * (a number as is, a name through the pod's container ports; a pod without
 * that named port is left out of that port). Pods are grouped by the ports
 * they resolve to: one Endpoints subset (addresses for ready pods,
 * notReadyAddresses for the others) and one EndpointSlice per group.
 * Services without a selector are left to whoever writes their endpoints.
 * Endpoints we wrote carry the label endpoints.kubernetes.io/managed-by and
 * go away with their Service; slices are owned by their Service (the
 * garbage collector removes them). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "reconcile.h"
#include "selector.h"

#define MANAGED_BY "endpoints.kubernetes.io/managed-by"
#define SLICE_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define SLICE_CTRL "endpointslice-controller.k8s.io"
#define SVC_NAME "kubernetes.io/service-name"

/* The port a pod (borrowed) serves for service port sp (borrowed): -1 when
 * a named targetPort is not among its containers' ports. */
static int64_t resolve_port(jv pod, jv sp)
{
	jv tp = kx_jv_get(jv_copy(sp), "targetPort");
	int64_t port = -1;

	if (jv_get_kind(tp) == JV_KIND_NUMBER) {
		port = (int64_t)jv_number_value(tp);
	} else if (jv_get_kind(tp) == JV_KIND_STRING) {
		const char *s = jv_string_value(tp);
		char *end;
		long v = strtol(s, &end, 10);
		if (*s && !*end) {
			port = v;
		} else {
			jv cs = kx_jv_get(jv_copy(pod), "spec.containers");
			if (jv_get_kind(cs) == JV_KIND_ARRAY) {
				jv_array_foreach(cs, i, c) {
					jv ports = kx_jv_get(c, "ports");
					if (jv_get_kind(ports) == JV_KIND_ARRAY) {
						jv_array_foreach(ports, k, p) {
							char n[64];
							if (port < 0 && !strcmp(rc_str(p, "name", n, sizeof n), s))
								port = kx_jv_int(p, "containerPort", -1);
							jv_free(p);
						}
					}
					jv_free(ports);
				}
			}
			jv_free(cs);
		}
	} else {
		port = kx_jv_int(sp, "port", -1);
	}
	jv_free(tp);
	return port;
}

/* Ports of service svc as resolved for pod: [{name, port, protocol}] in
 * the service's order. */
static jv pod_ports(jv svc, jv pod)
{
	jv sps = kx_jv_get(jv_copy(svc), "spec.ports"), out = jv_array();
	char b[64];

	if (jv_get_kind(sps) == JV_KIND_ARRAY) {
		jv_array_foreach(sps, i, sp) {
			int64_t port = resolve_port(pod, sp);
			if (port > 0) {
				jv p = jv_object();
				if (*rc_str(sp, "name", b, sizeof b))
					p = jv_object_set(p, jv_string("name"), jv_string(b));
				p = jv_object_set(p, jv_string("port"), jv_number((double)port));
				rc_str(sp, "protocol", b, sizeof b);
				p = jv_object_set(p, jv_string("protocol"), jv_string(*b ? b : "TCP"));
				out = jv_array_append(out, p);
			}
			jv_free(sp);
		}
	}
	jv_free(sps);
	return out;
}

static jv target_ref(jv pod)
{
	char b[256];
	jv r = jv_object();

	r = jv_object_set(r, jv_string("kind"), jv_string("Pod"));
	r = jv_object_set(r, jv_string("namespace"), jv_string(rc_str(pod, "metadata.namespace", b, sizeof b)));
	r = jv_object_set(r, jv_string("name"), jv_string(rc_str(pod, "metadata.name", b, sizeof b)));
	return jv_object_set(r, jv_string("uid"), jv_string(rc_str(pod, "metadata.uid", b, sizeof b)));
}

static int cmp_ip(const void *a, const void *b)
{
	return strcmp(jv_string_value(*(const jv *)a), jv_string_value(*(const jv *)b));
}

/* Sort an array of objects by their "ip" (or addresses.0) for a stable
 * result. Consumes arr. */
static jv sort_by(jv arr, const char *path)
{
	int n = jv_array_length(jv_copy(arr));
	jv *keys = calloc((size_t)n + 1, sizeof *keys), out = jv_array();
	jv *vals = calloc((size_t)n + 1, sizeof *vals);
	int *ord = calloc((size_t)n + 1, sizeof *ord);
	char b[64];

	for (int i = 0; i < n; i++) {
		vals[i] = jv_array_get(jv_copy(arr), i);
		keys[i] = jv_string_fmt("%s\x01%08d", rc_str(vals[i], path, b, sizeof b), i);
	}
	qsort(keys, (size_t)n, sizeof *keys, cmp_ip);
	for (int i = 0; i < n; i++) {
		const char *s = strchr(jv_string_value(keys[i]), '\x01');
		ord[i] = atoi(s + 1);
		jv_free(keys[i]);
	}
	for (int i = 0; i < n; i++)
		out = jv_array_append(out, jv_copy(vals[ord[i]]));
	for (int i = 0; i < n; i++)
		jv_free(vals[i]);
	free(keys);
	free(vals);
	free(ord);
	jv_free(arr);
	return out;
}

/* The DNS hostname a pod's endpoint carries for svc: its spec.hostname when
 * its spec.subdomain names the service (so that kx-dns answers
 * hostname.svc.ns.svc.DOMAIN), as Kubernetes' endpoints controllers do;
 * "" when none. */
static const char *endpoint_hostname(jv svc, jv pod, char *buf, size_t n)
{
	char sub[256], name[256];

	if (!*rc_str(pod, "spec.hostname", buf, n) ||
	    strcmp(rc_str(pod, "spec.subdomain", sub, sizeof sub), rc_str(svc, "metadata.name", name, sizeof name)))
		buf[0] = 0;
	return buf;
}

/* Groups for one service: {"<ports json>": {"ports": [...], "ready": [pod...],
 * "notready": [pod...]}}. Pods are candidates already selected; each one
 * whose endpoint has a hostname for svc carries it as a top-level
 * "hostname" (a key no pod has of its own). */
static jv groups_for(jv svc, jv pods)
{
	jv groups = jv_object();
	char ip[64], host[256];

	jv_array_foreach(pods, i, pod) {
		jv ports;
		if (!*rc_str(pod, "status.podIP", ip, sizeof ip) || rc_deleting(pod) || !rc_pod_active(pod)) {
			jv_free(pod);
			continue;
		}
		ports = pod_ports(svc, pod);
		if (jv_array_length(jv_copy(ports)) == 0) {
			jv_free(ports);
			jv_free(pod);
			continue;
		}
		if (*endpoint_hostname(svc, pod, host, sizeof host))
			pod = jv_object_set(pod, jv_string("hostname"), jv_string(host));
		jv key = jv_dump_string(jv_copy(ports), 0);
		jv g = jv_object_get(jv_copy(groups), jv_copy(key));
		if (!jv_is_valid(g)) {
			g = jv_object();
			g = jv_object_set(g, jv_string("ports"), jv_copy(ports));
			g = jv_object_set(g, jv_string("ready"), jv_array());
			g = jv_object_set(g, jv_string("notready"), jv_array());
		}
		const char *which = rc_pod_ready(pod) ? "ready" : "notready";
		jv l = jv_object_get(jv_copy(g), jv_string(which));
		g = jv_object_set(g, jv_string(which), jv_array_append(l, pod));
		groups = jv_object_set(groups, key, g);
		jv_free(ports);
	}
	return groups;
}

static jv address(jv pod)
{
	char b[256];
	jv a = jv_object();

	a = jv_object_set(a, jv_string("ip"), jv_string(rc_str(pod, "status.podIP", b, sizeof b)));
	if (*rc_str(pod, "hostname", b, sizeof b))
		a = jv_object_set(a, jv_string("hostname"), jv_string(b));
	if (*rc_str(pod, "spec.nodeName", b, sizeof b))
		a = jv_object_set(a, jv_string("nodeName"), jv_string(b));
	return jv_object_set(a, jv_string("targetRef"), target_ref(pod));
}

static jv addresses(jv pods)
{
	jv out = jv_array();

	jv_array_foreach(pods, i, p) {
		out = jv_array_append(out, address(p));
		jv_free(p);
	}
	jv_free(pods);
	return sort_by(out, "ip");
}

/* The desired Endpoints subsets of svc from its groups (consumed). */
static jv subsets(jv groups)
{
	jv out = jv_array();

	jv_object_foreach(groups, k, g) {
		jv s = jv_object();
		jv r = addresses(kx_jv_get(jv_copy(g), "ready"));
		jv nr = addresses(kx_jv_get(jv_copy(g), "notready"));
		if (jv_array_length(jv_copy(r)) > 0)
			s = jv_object_set(s, jv_string("addresses"), r);
		else
			jv_free(r);
		if (jv_array_length(jv_copy(nr)) > 0)
			s = jv_object_set(s, jv_string("notReadyAddresses"), nr);
		else
			jv_free(nr);
		s = jv_object_set(s, jv_string("ports"), kx_jv_get(g, "ports"));
		out = jv_array_append(out, s);
		jv_free(k);
	}
	jv_free(groups);
	return out;
}

/* Candidate pods of svc: those in its namespace whose labels its selector
 * matches, found through an index of pods by "ns\x01key=value". */
static jv selected(jv svc, jv pods, jv index, kx_selector **selp)
{
	char ns[256];
	jv sel = kx_jv_get(jv_copy(svc), "spec.selector"), out = jv_array(), idx = jv_null();
	kx_err e = KX_ERR_INIT;
	kx_selector *s;

	*selp = NULL;
	if (jv_get_kind(sel) != JV_KIND_OBJECT || jv_object_length(jv_copy(sel)) == 0) {
		jv_free(sel);
		jv_free(out);
		return jv_invalid(); /* no selector: not ours */
	}
	rc_str(svc, "metadata.namespace", ns, sizeof ns);
	jv_object_foreach(sel, k, v) {
		if (jv_get_kind(idx) == JV_KIND_NULL && jv_get_kind(v) == JV_KIND_STRING) {
			jv key = jv_string_fmt("%s\x01%s=%s", ns, jv_string_value(k), jv_string_value(v));
			idx = rc_index_get(index, jv_string_value(key));
			jv_free(key);
		}
		jv_free(k);
		jv_free(v);
	}
	s = kx_selector_from_map(sel, &e);
	if (!s || jv_get_kind(idx) != JV_KIND_ARRAY) {
		if (s)
			kx_selector_free(s);
		jv_free(idx);
		jv_free(out);
		return jv_invalid();
	}
	jv_array_foreach(idx, i, ix) {
		jv p = jv_array_get(jv_copy(pods), (int)jv_number_value(ix));
		jv labels = kx_jv_get(jv_copy(p), "metadata.labels");
		if (kx_selector_match(s, labels))
			out = jv_array_append(out, p);
		else
			jv_free(p);
		jv_free(labels);
		jv_free(ix);
	}
	jv_free(idx);
	*selp = s;
	return out;
}

static jv label_index(jv pods)
{
	jv index = jv_object();
	char ns[256];

	jv_array_foreach(pods, i, p) {
		jv labels = kx_jv_get(jv_copy(p), "metadata.labels");
		rc_str(p, "metadata.namespace", ns, sizeof ns);
		if (jv_get_kind(labels) == JV_KIND_OBJECT) {
			jv_object_foreach(labels, k, v) {
				if (jv_get_kind(v) == JV_KIND_STRING) {
					jv key = jv_string_fmt("%s\x01%s=%s", ns, jv_string_value(k), jv_string_value(v));
					index = rc_index_add(index, jv_string_value(key), i);
					jv_free(key);
				}
				jv_free(k);
				jv_free(v);
			}
		}
		jv_free(labels);
		jv_free(p);
	}
	return index;
}

static jv by_ns_name(jv objs)
{
	jv m = jv_object();
	char ns[256], n[256];

	jv_array_foreach(objs, i, o) {
		jv key = jv_string_fmt("%s/%s", rc_str(o, "metadata.namespace", ns, sizeof ns),
				       rc_str(o, "metadata.name", n, sizeof n));
		m = jv_object_set(m, key, o);
	}
	jv_free(objs);
	return m;
}

jv rc_endpoints_decide(jv world, const struct rc_conf *conf)
{
	jv svcs = rc_items(world, "services"), pods = rc_items(world, "pods");
	jv eps = rc_items(world, "endpoints"), actions = jv_array();
	jv index = label_index(pods), have = by_ns_name(jv_copy(eps)), svc_keys = jv_object();
	char ns[256], name[256], b[64];

	jv_array_foreach(svcs, i, svc) {
		kx_selector *sel;
		jv cand, want, cur, key;
		rc_str(svc, "metadata.namespace", ns, sizeof ns);
		rc_str(svc, "metadata.name", name, sizeof name);
		key = jv_string_fmt("%s/%s", ns, name);
		svc_keys = jv_object_set(svc_keys, jv_copy(key), jv_true());
		if (!strcmp(rc_str(svc, "spec.type", b, sizeof b), "ExternalName") ||
		    !jv_is_valid(cand = selected(svc, pods, index, &sel))) {
			jv_free(key);
			jv_free(svc);
			continue;
		}
		kx_selector_free(sel);
		want = subsets(groups_for(svc, cand));
		jv_free(cand);
		cur = jv_object_get(jv_copy(have), key);
		if (!jv_is_valid(cur)) {
			jv ep = jv_object();
			ep = jv_object_set(ep, jv_string("apiVersion"), jv_string("v1"));
			ep = jv_object_set(ep, jv_string("kind"), jv_string("Endpoints"));
			ep = kx_jv_set(ep, "metadata.name", jv_string(name));
			ep = kx_jv_set(ep, "metadata.namespace", jv_string(ns));
			jv labels = kx_jv_get(jv_copy(svc), "metadata.labels");
			if (jv_get_kind(labels) != JV_KIND_OBJECT) {
				jv_free(labels);
				labels = jv_object();
			}
			ep = kx_jv_set(ep, "metadata.labels",
				       jv_object_set(labels, jv_string(MANAGED_BY), jv_string("endpoint-controller")));
			ep = jv_object_set(ep, jv_string("subsets"), want);
			actions = rc_push(actions, rc_action("endpoints", "create", ep));
		} else {
			jv old = kx_jv_get(jv_copy(cur), "subsets");
			if (jv_get_kind(old) == JV_KIND_NULL) {
				jv_free(old);
				old = jv_array();
			}
			char mb[64];
			int unlabelled = !*rc_meta_get(cur, "labels", MANAGED_BY, mb, sizeof mb);
			if (!kx_jv_equal(old, jv_copy(want)) || unlabelled) {
				jv ep = jv_object_set(cur, jv_string("subsets"), want);
				ep = rc_meta_set(ep, "labels", MANAGED_BY, jv_string("endpoint-controller"));
				actions = rc_push(actions, rc_action("endpoints", "update", ep));
			} else {
				jv_free(cur);
				jv_free(want);
			}
		}
		jv_free(svc);
	}
	/* ours, whose Service is gone */
	jv_array_foreach(eps, i, ep) {
		char mb[64];
		jv key = jv_string_fmt("%s/%s", rc_str(ep, "metadata.namespace", ns, sizeof ns),
				       rc_str(ep, "metadata.name", name, sizeof name));
		if (*rc_meta_get(ep, "labels", MANAGED_BY, mb, sizeof mb) &&
		    !jv_object_has(jv_copy(svc_keys), key) && !rc_deleting(ep))
			actions = rc_push(actions, rc_action("endpoints", "delete", ep));
		else
			jv_free(ep);
	}
	jv_free(svcs);
	jv_free(pods);
	jv_free(eps);
	jv_free(index);
	jv_free(have);
	jv_free(svc_keys);
	(void)conf;
	return actions;
}

/* EndpointSlice endpoints for a group's pods. */
static jv slice_endpoints(jv g)
{
	jv out = jv_array();
	static const char *const which[] = {"ready", "notready"};

	for (int w = 0; w < 2; w++) {
		jv pods = kx_jv_get(jv_copy(g), which[w]);
		jv_array_foreach(pods, i, p) {
			char b[256];
			jv e = jv_object(), c = jv_object();
			e = jv_object_set(e, jv_string("addresses"),
					  JV_ARRAY(jv_string(rc_str(p, "status.podIP", b, sizeof b))));
			c = jv_object_set(c, jv_string("ready"), jv_bool(w == 0));
			c = jv_object_set(c, jv_string("serving"), jv_bool(w == 0));
			c = jv_object_set(c, jv_string("terminating"), jv_false());
			e = jv_object_set(e, jv_string("conditions"), c);
			if (*rc_str(p, "hostname", b, sizeof b))
				e = jv_object_set(e, jv_string("hostname"), jv_string(b));
			if (*rc_str(p, "spec.nodeName", b, sizeof b))
				e = jv_object_set(e, jv_string("nodeName"), jv_string(b));
			e = jv_object_set(e, jv_string("targetRef"), target_ref(p));
			out = jv_array_append(out, e);
			jv_free(p);
		}
		jv_free(pods);
	}
	return sort_by(out, "addresses.0");
}

jv rc_endpointslice_decide(jv world, const struct rc_conf *conf)
{
	jv svcs = rc_items(world, "services"), pods = rc_items(world, "pods");
	jv slices = rc_items(world, "endpointslices"), actions = jv_array();
	jv index = label_index(pods), mine = jv_object();
	char ns[256], name[256], b[256];

	/* our slices by "ns/service" */
	jv_array_foreach(slices, i, s) {
		if (!strcmp(rc_meta_get(s, "labels", SLICE_MANAGED_BY, b, sizeof b), SLICE_CTRL) &&
		    !rc_deleting(s)) {
			jv key = jv_string_fmt("%s/%s", rc_str(s, "metadata.namespace", ns, sizeof ns),
					       rc_meta_get(s, "labels", SVC_NAME, name, sizeof name));
			jv l = jv_object_get(jv_copy(mine), jv_copy(key));
			if (!jv_is_valid(l))
				l = jv_array();
			mine = jv_object_set(mine, key, jv_array_append(l, s));
		} else {
			jv_free(s);
		}
	}
	jv_array_foreach(svcs, i, svc) {
		kx_selector *sel;
		jv cand, groups, have;
		rc_str(svc, "metadata.namespace", ns, sizeof ns);
		rc_str(svc, "metadata.name", name, sizeof name);
		if (!strcmp(rc_str(svc, "spec.type", b, sizeof b), "ExternalName") ||
		    !jv_is_valid(cand = selected(svc, pods, index, &sel))) {
			jv_free(svc);
			continue;
		}
		kx_selector_free(sel);
		groups = groups_for(svc, cand);
		jv_free(cand);
		if (jv_object_length(jv_copy(groups)) == 0) {
			/* no endpoints: as Kubernetes, keep one placeholder slice
			 * (no ports, no endpoints) */
			jv g = jv_object();
			g = jv_object_set(g, jv_string("ports"), jv_array());
			g = jv_object_set(g, jv_string("ready"), jv_array());
			g = jv_object_set(g, jv_string("notready"), jv_array());
			groups = jv_object_set(groups, jv_string(""), g);
		}
		have = jv_object_get(jv_copy(mine), jv_string_fmt("%s/%s", ns, name));
		if (!jv_is_valid(have))
			have = jv_array();
		int nh = jv_array_length(jv_copy(have));
		char *used = calloc((size_t)nh + 1, 1);
		jv_object_foreach(groups, k, g) {
			jv ports = kx_jv_get(jv_copy(g), "ports");
			jv eps = slice_endpoints(g);
			int found = -1;
			for (int h = 0; h < nh && found < 0; h++) {
				jv s = jv_array_get(jv_copy(have), h);
				jv sp = kx_jv_get(jv_copy(s), "ports");
				if (jv_get_kind(sp) == JV_KIND_NULL) { /* absent is empty */
					jv_free(sp);
					sp = jv_array();
				}
				if (!used[h] && kx_jv_equal(sp, jv_copy(ports)))
					found = h;
				jv_free(s);
			}
			if (found >= 0) {
				jv s = jv_array_get(jv_copy(have), found);
				jv old = kx_jv_get(jv_copy(s), "endpoints");
				used[found] = 1;
				if (jv_get_kind(old) == JV_KIND_NULL) {
					jv_free(old);
					old = jv_array();
				}
				if (!kx_jv_equal(old, jv_copy(eps)))
					actions = rc_push(actions, rc_action("endpointslice", "update",
									     jv_object_set(s, jv_string("endpoints"), eps)));
				else {
					jv_free(s);
					jv_free(eps);
				}
				jv_free(ports);
			} else {
				jv s = jv_object(), labels = jv_object();
				s = jv_object_set(s, jv_string("apiVersion"), jv_string("discovery.k8s.io/v1"));
				s = jv_object_set(s, jv_string("kind"), jv_string("EndpointSlice"));
				s = kx_jv_set(s, "metadata.generateName", jv_string_fmt("%s-", name));
				s = kx_jv_set(s, "metadata.namespace", jv_string(ns));
				labels = jv_object_set(labels, jv_string(SVC_NAME), jv_string(name));
				labels = jv_object_set(labels, jv_string(SLICE_MANAGED_BY), jv_string(SLICE_CTRL));
				s = kx_jv_set(s, "metadata.labels", labels);
				jv ref = kx_jv_set(rc_owner_ref(svc), "blockOwnerDeletion", jv_true());
				s = kx_jv_set(s, "metadata.ownerReferences", JV_ARRAY(ref));
				s = jv_object_set(s, jv_string("addressType"), jv_string("IPv4"));
				s = jv_object_set(s, jv_string("endpoints"), eps);
				s = jv_object_set(s, jv_string("ports"), ports);
				actions = rc_push(actions, rc_action("endpointslice", "create", s));
			}
			jv_free(k);
			jv_free(g);
		}
		jv_free(groups);
		for (int h = 0; h < nh; h++)
			if (!used[h])
				actions = rc_push(actions, rc_action("endpointslice", "delete",
								     jv_array_get(jv_copy(have), h)));
		free(used);
		jv_free(have);
		jv_free(svc);
	}
	jv_free(svcs);
	jv_free(pods);
	jv_free(slices);
	jv_free(index);
	jv_free(mine);
	(void)conf;
	return actions;
}
