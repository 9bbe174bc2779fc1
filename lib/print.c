/* print.c: objects as kubectl prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "clock.h"
#include "json.h"
#include "print.h"
#include "selector.h"

/* --- small readers over borrowed objects ----------------------------------- */

static const char *S(jv o, const char *path, char *buf, size_t n)
{
	return kx_jv_str(o, path, buf, n, "");
}

static int64_t I(jv o, const char *path)
{
	return kx_jv_int(o, path, 0);
}

static int len_at(jv o, const char *path)
{
	jv v = kx_jv_get(jv_copy(o), path);
	int n = 0;

	if (jv_get_kind(v) == JV_KIND_ARRAY)
		n = jv_array_length(jv_copy(v));
	else if (jv_get_kind(v) == JV_KIND_OBJECT)
		n = jv_object_length(jv_copy(v));
	jv_free(v);
	return n;
}

static jv cell(const char *s)
{
	return jv_string(s);
}

static jv cellf(const char *fmt, long long v)
{
	char b[64];

	snprintf(b, sizeof b, fmt, v);
	return jv_string(b);
}

/* kubectl's translateTimestampSince: "<unknown>" for no time. */
static jv since(jv o, const char *path, time_t now)
{
	char ts[64], age[32];
	time_t t;

	if (!S(o, path, ts, sizeof ts)[0] || kx_time_parse(ts, &t) < 0)
		return jv_string("<unknown>");
	return jv_string(kx_time_age((int64_t)(now - t), age, sizeof age));
}

static jv age(jv o, time_t now)
{
	return since(o, "metadata.creationTimestamp", now);
}

/* Strings of an array (borrowed o at path), or of a field of each element,
 * joined by sep; def when there are none. */
static jv joined(jv o, const char *path, const char *field, const char *sep, const char *def)
{
	jv a = kx_jv_get(jv_copy(o), path);
	kx_buf b = KX_BUF_INIT;
	int n = 0;

	if (jv_get_kind(a) == JV_KIND_ARRAY) {
		jv_array_foreach(a, i, x)
		{
			jv s = field ? kx_jv_get(x, field) : x;
			if (jv_get_kind(s) == JV_KIND_STRING) {
				if (n++)
					kx_buf_adds(&b, sep);
				kx_buf_adds(&b, jv_string_value(s));
			}
			jv_free(s);
		}
	}
	jv_free(a);
	jv out = jv_string(n ? kx_buf_str(&b) : def);
	kx_buf_free(&b);
	return out;
}

/* labels.FormatLabels: "k=v,k2=v2" sorted by key, or def. */
static jv labels_str(jv o, const char *path, const char *def)
{
	jv m = kx_jv_get(jv_copy(o), path);
	kx_buf b = KX_BUF_INIT;

	if (jv_get_kind(m) == JV_KIND_OBJECT) {
		jv keys = jv_keys(jv_copy(m));
		jv_array_foreach(keys, i, k)
		{
			jv v = jv_object_get(jv_copy(m), jv_copy(k));
			kx_buf_addf(&b, "%s%s=%s", i ? "," : "", jv_string_value(k),
				    jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
			jv_free(v);
			jv_free(k);
		}
		jv_free(keys);
	}
	jv_free(m);
	jv out = jv_string(b.len ? kx_buf_str(&b) : def);
	kx_buf_free(&b);
	return out;
}

/* A LabelSelector object as kubectl prints it ("app=web"), "" for none. */
static jv selector_str(jv o, const char *path)
{
	jv sel = kx_jv_get(jv_copy(o), path);
	kx_selector *s;
	char *str;
	jv out;

	if (jv_get_kind(sel) != JV_KIND_OBJECT) {
		jv_free(sel);
		return jv_string("");
	}
	s = kx_selector_from_jv(sel, NULL);
	if (!s)
		return jv_string("<error>");
	str = kx_selector_string(s);
	out = jv_string(str ? str : "");
	free(str);
	kx_selector_free(s);
	return out;
}

/* --- pods ------------------------------------------------------------------ */

static void note_restart(jv st, time_t *last)
{
	char ts[64];
	time_t t;

	if (S(st, "lastState.terminated.finishedAt", ts, sizeof ts)[0] &&
	    kx_time_parse(ts, &t) == 0 && t > *last)
		*last = t;
}

static int has_condition(jv pod, const char *type, const char *status)
{
	jv conds = kx_jv_get(jv_copy(pod), "status.conditions");
	int found = 0;
	char t[64], s[64];

	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c)
		{
			if (!strcmp(S(c, "type", t, sizeof t), type) &&
			    (!status || !strcmp(S(c, "status", s, sizeof s), status)))
				found = 1;
			jv_free(c);
		}
	}
	jv_free(conds);
	return found;
}

const char *kx_pod_status(jv pod, char *buf, size_t n, int *restarts_out, time_t *last_out)
{
	char r[256], tmp[256];
	int restarts = 0, initializing = 0, has_running = 0;
	time_t last = 0;
	jv inits, cs, conds;

	snprintf(r, sizeof r, "%s", S(pod, "status.phase", tmp, sizeof tmp));
	if (S(pod, "status.reason", tmp, sizeof tmp)[0])
		snprintf(r, sizeof r, "%s", tmp);
	conds = kx_jv_get(jv_copy(pod), "status.conditions");
	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c)
		{
			char t[64], rs[64];
			if (!strcmp(S(c, "type", t, sizeof t), "PodScheduled") &&
			    !strcmp(S(c, "reason", rs, sizeof rs), "SchedulingGated"))
				snprintf(r, sizeof r, "SchedulingGated");
			jv_free(c);
		}
	}
	jv_free(conds);

	inits = kx_jv_get(jv_copy(pod), "status.initContainerStatuses");
	int ninit_spec = len_at(pod, "spec.initContainers");
	if (jv_get_kind(inits) == JV_KIND_ARRAY) {
		jv_array_foreach(inits, i, c)
		{
			restarts += (int)I(c, "restartCount");
			note_restart(c, &last);
			jv term = kx_jv_get(jv_copy(c), "state.terminated");
			jv wait = kx_jv_get(jv_copy(c), "state.waiting");
			int stop = 1;
			if (jv_get_kind(term) == JV_KIND_OBJECT && I(term, "exitCode") == 0) {
				stop = 0;
			} else if (jv_get_kind(term) == JV_KIND_OBJECT) {
				if (!S(term, "reason", tmp, sizeof tmp)[0]) {
					if (I(term, "signal"))
						snprintf(r, sizeof r, "Init:Signal:%lld",
							 (long long)I(term, "signal"));
					else
						snprintf(r, sizeof r, "Init:ExitCode:%lld",
							 (long long)I(term, "exitCode"));
				} else
					snprintf(r, sizeof r, "Init:%s", tmp);
				initializing = 1;
			} else if (jv_get_kind(wait) == JV_KIND_OBJECT &&
				   S(wait, "reason", tmp, sizeof tmp)[0] &&
				   strcmp(tmp, "PodInitializing")) {
				snprintf(r, sizeof r, "Init:%s", tmp);
				initializing = 1;
			} else {
				snprintf(r, sizeof r, "Init:%d/%d", i, ninit_spec);
				initializing = 1;
			}
			jv_free(term);
			jv_free(wait);
			jv_free(c);
			if (stop)
				break;
		}
	}
	jv_free(inits);

	if (!initializing || has_condition(pod, "Initialized", "True")) {
		restarts = 0;
		last = 0;
		cs = kx_jv_get(jv_copy(pod), "status.containerStatuses");
		int nc = jv_get_kind(cs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(cs)) : 0;
		for (int i = nc - 1; i >= 0; i--) {
			jv c = jv_array_get(jv_copy(cs), i);
			restarts += (int)I(c, "restartCount");
			note_restart(c, &last);
			jv term = kx_jv_get(jv_copy(c), "state.terminated");
			jv wait = kx_jv_get(jv_copy(c), "state.waiting");
			jv run = kx_jv_get(jv_copy(c), "state.running");
			if (jv_get_kind(wait) == JV_KIND_OBJECT && S(wait, "reason", tmp, sizeof tmp)[0])
				snprintf(r, sizeof r, "%s", tmp);
			else if (jv_get_kind(term) == JV_KIND_OBJECT &&
				 S(term, "reason", tmp, sizeof tmp)[0])
				snprintf(r, sizeof r, "%s", tmp);
			else if (jv_get_kind(term) == JV_KIND_OBJECT) {
				if (I(term, "signal"))
					snprintf(r, sizeof r, "Signal:%lld", (long long)I(term, "signal"));
				else
					snprintf(r, sizeof r, "ExitCode:%lld",
						 (long long)I(term, "exitCode"));
			} else if (kx_jv_bool(c, "ready", 0) && jv_get_kind(run) == JV_KIND_OBJECT)
				has_running = 1;
			jv_free(term);
			jv_free(wait);
			jv_free(run);
			jv_free(c);
		}
		jv_free(cs);
		if (!strcmp(r, "Completed") && has_running)
			snprintf(r, sizeof r, "%s",
				 has_condition(pod, "Ready", "True") ? "Running" : "NotReady");
	}
	jv dts = kx_jv_get(jv_copy(pod), "metadata.deletionTimestamp");
	if (jv_get_kind(dts) == JV_KIND_STRING) {
		if (!strcmp(S(pod, "status.reason", tmp, sizeof tmp), "NodeLost"))
			snprintf(r, sizeof r, "Unknown");
		else
			snprintf(r, sizeof r, "Terminating");
	}
	jv_free(dts);
	if (restarts_out)
		*restarts_out = restarts;
	if (last_out)
		*last_out = last;
	snprintf(buf, n, "%s", r);
	return buf;
}

static int ready_containers(jv pod)
{
	jv cs = kx_jv_get(jv_copy(pod), "status.containerStatuses");
	int n = 0;

	if (jv_get_kind(cs) == JV_KIND_ARRAY) {
		jv_array_foreach(cs, i, c)
		{
			jv run = kx_jv_get(jv_copy(c), "state.running");
			if (kx_jv_bool(c, "ready", 0) && jv_get_kind(run) == JV_KIND_OBJECT)
				n++;
			jv_free(run);
			jv_free(c);
		}
	}
	jv_free(cs);
	return n;
}

static jv or_none(jv o, const char *path)
{
	char b[256];

	return jv_string(S(o, path, b, sizeof b)[0] ? b : "<none>");
}

static jv row_pod(jv o, int wide, time_t now)
{
	char st[256], buf[64], age_s[32];
	int restarts;
	time_t last;
	jv row = jv_array();

	kx_pod_status(o, st, sizeof st, &restarts, &last);
	snprintf(buf, sizeof buf, "%d/%d", ready_containers(o), len_at(o, "spec.containers"));
	row = jv_array_append(row, cell(buf));
	row = jv_array_append(row, cell(st));
	if (restarts && last)
		snprintf(buf, sizeof buf, "%d (%s ago)", restarts,
			 kx_time_age((int64_t)(now - last), age_s, sizeof age_s));
	else
		snprintf(buf, sizeof buf, "%d", restarts);
	row = jv_array_append(row, cell(buf));
	row = jv_array_append(row, age(o, now));
	if (wide) {
		row = jv_array_append(row, or_none(o, "status.podIP"));
		row = jv_array_append(row, or_none(o, "spec.nodeName"));
		row = jv_array_append(row, or_none(o, "status.nominatedNodeName"));
		int gates = len_at(o, "spec.readinessGates");
		if (!gates)
			row = jv_array_append(row, cell("<none>"));
		else {
			int met = 0;
			jv g = kx_jv_get(jv_copy(o), "spec.readinessGates");
			jv_array_foreach(g, i, x)
			{
				char t[128];
				if (has_condition(o, S(x, "conditionType", t, sizeof t), "True"))
					met++;
				jv_free(x);
			}
			jv_free(g);
			snprintf(buf, sizeof buf, "%d/%d", met, gates);
			row = jv_array_append(row, cell(buf));
		}
	}
	return row;
}

/* --- workloads ------------------------------------------------------------- */

static jv containers_images(jv row, jv o, const char *spec)
{
	char p[128];

	snprintf(p, sizeof p, "%s.containers", spec);
	row = jv_array_append(row, joined(o, p, "name", ",", ""));
	row = jv_array_append(row, joined(o, p, "image", ",", ""));
	return row;
}

static jv row_deployment(jv o, int wide, time_t now)
{
	char buf[64];
	jv row = jv_array();

	snprintf(buf, sizeof buf, "%lld/%lld", (long long)I(o, "status.readyReplicas"),
		 (long long)kx_jv_int(o, "spec.replicas", 1));
	row = jv_array_append(row, cell(buf));
	row = jv_array_append(row, cellf("%lld", I(o, "status.updatedReplicas")));
	row = jv_array_append(row, cellf("%lld", I(o, "status.availableReplicas")));
	row = jv_array_append(row, age(o, now));
	if (wide) {
		row = containers_images(row, o, "spec.template.spec");
		row = jv_array_append(row, selector_str(o, "spec.selector"));
	}
	return row;
}

static jv row_replicaset(jv o, int wide, time_t now)
{
	jv row = jv_array();

	row = jv_array_append(row, cellf("%lld", kx_jv_int(o, "spec.replicas", 1)));
	row = jv_array_append(row, cellf("%lld", I(o, "status.replicas")));
	row = jv_array_append(row, cellf("%lld", I(o, "status.readyReplicas")));
	row = jv_array_append(row, age(o, now));
	if (wide) {
		row = containers_images(row, o, "spec.template.spec");
		row = jv_array_append(row, selector_str(o, "spec.selector"));
	}
	return row;
}

static jv row_rc(jv o, int wide, time_t now)
{
	jv row = jv_array();

	row = jv_array_append(row, cellf("%lld", kx_jv_int(o, "spec.replicas", 1)));
	row = jv_array_append(row, cellf("%lld", I(o, "status.replicas")));
	row = jv_array_append(row, cellf("%lld", I(o, "status.readyReplicas")));
	row = jv_array_append(row, age(o, now));
	if (wide) {
		row = containers_images(row, o, "spec.template.spec");
		row = jv_array_append(row, labels_str(o, "spec.selector", "<none>"));
	}
	return row;
}

/* --- services and endpoints ------------------------------------------------ */

static jv row_service(jv o, int wide, time_t now)
{
	char type[64], b[256];
	jv row = jv_array();
	kx_buf ports = KX_BUF_INIT;

	if (!S(o, "spec.type", type, sizeof type)[0])
		snprintf(type, sizeof type, "ClusterIP");
	row = jv_array_append(row, cell(type));
	if (S(o, "spec.clusterIPs.0", b, sizeof b)[0] || S(o, "spec.clusterIP", b, sizeof b)[0])
		row = jv_array_append(row, cell(b));
	else
		row = jv_array_append(row, cell("<none>"));
	jv ext = joined(o, "spec.externalIPs", NULL, ",", "");
	if (!strcmp(type, "ExternalName")) {
		row = jv_array_append(row, jv_string(S(o, "spec.externalName", b, sizeof b)));
		jv_free(ext);
	} else if (!strcmp(type, "LoadBalancer")) {
		jv lb = kx_jv_get(jv_copy(o), "status.loadBalancer.ingress");
		kx_buf ips = KX_BUF_INIT;
		if (jv_get_kind(lb) == JV_KIND_ARRAY) {
			jv_array_foreach(lb, i, x)
			{
				char ip[256];
				if (S(x, "ip", ip, sizeof ip)[0] || S(x, "hostname", ip, sizeof ip)[0])
					kx_buf_addf(&ips, "%s%s", ips.len ? "," : "", ip);
				jv_free(x);
			}
		}
		jv_free(lb);
		if (jv_string_length_bytes(jv_copy(ext)))
			kx_buf_addf(&ips, "%s%s", ips.len ? "," : "", jv_string_value(ext));
		jv_free(ext);
		row = jv_array_append(row, cell(ips.len ? kx_buf_str(&ips) : "<pending>"));
		kx_buf_free(&ips);
	} else {
		row = jv_array_append(row, jv_string_length_bytes(jv_copy(ext)) ? ext
						   : (jv_free(ext), cell("<none>")));
	}
	jv pl = kx_jv_get(jv_copy(o), "spec.ports");
	if (jv_get_kind(pl) == JV_KIND_ARRAY) {
		jv_array_foreach(pl, i, p)
		{
			char proto[16];
			if (!S(p, "protocol", proto, sizeof proto)[0])
				snprintf(proto, sizeof proto, "TCP");
			if (I(p, "nodePort"))
				kx_buf_addf(&ports, "%s%lld:%lld/%s", i ? "," : "",
					    (long long)I(p, "port"), (long long)I(p, "nodePort"), proto);
			else
				kx_buf_addf(&ports, "%s%lld/%s", i ? "," : "", (long long)I(p, "port"),
					    proto);
			jv_free(p);
		}
	}
	jv_free(pl);
	row = jv_array_append(row, cell(ports.len ? kx_buf_str(&ports) : "<none>"));
	kx_buf_free(&ports);
	row = jv_array_append(row, age(o, now));
	if (wide)
		row = jv_array_append(row, labels_str(o, "spec.selector", "<none>"));
	return row;
}

/* formatEndpoints: "ip:port" for each port of each address, at most three,
 * then " + N more...". */
static jv row_endpoints(jv o, int wide, time_t now)
{
	jv subsets = kx_jv_get(jv_copy(o), "subsets");
	kx_buf b = KX_BUF_INIT;
	int count = 0, more = 0;
	char ip[128];

	if (jv_get_kind(subsets) == JV_KIND_ARRAY) {
		jv_array_foreach(subsets, i, ss)
		{
			jv addrs = kx_jv_get(jv_copy(ss), "addresses");
			jv ports = kx_jv_get(jv_copy(ss), "ports");
			int na = jv_get_kind(addrs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(addrs)) : 0;
			int np = jv_get_kind(ports) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ports)) : 0;
			for (int p = 0; p < (np ? np : 1); p++) {
				for (int a = 0; a < na; a++) {
					jv ad = jv_array_get(jv_copy(addrs), a);
					if (count < 3) {
						S(ad, "ip", ip, sizeof ip);
						if (np) {
							jv pt = jv_array_get(jv_copy(ports), p);
							kx_buf_addf(&b, "%s%s:%lld", count ? "," : "", ip,
								    (long long)I(pt, "port"));
							jv_free(pt);
						} else {
							kx_buf_addf(&b, "%s%s", count ? "," : "", ip);
						}
						count++;
					} else {
						more++;
					}
					jv_free(ad);
				}
			}
			jv_free(addrs);
			jv_free(ports);
			jv_free(ss);
		}
	}
	jv_free(subsets);
	if (more)
		kx_buf_addf(&b, " + %d more...", more);
	jv row = jv_array_append(jv_array(), cell(b.len ? kx_buf_str(&b) : "<none>"));
	kx_buf_free(&b);
	return jv_array_append(row, age(o, now));
}

static jv row_endpointslice(jv o, int wide, time_t now)
{
	char b[128];
	jv row = jv_array_append(jv_array(), jv_string(S(o, "addressType", b, sizeof b)));
	kx_buf ports = KX_BUF_INIT, eps = KX_BUF_INIT;
	int n = 0, more = 0;

	jv pl = kx_jv_get(jv_copy(o), "ports");
	if (jv_get_kind(pl) == JV_KIND_ARRAY) {
		jv_array_foreach(pl, i, p)
		{
			kx_buf_addf(&ports, "%s%lld", ports.len ? "," : "", (long long)I(p, "port"));
			jv_free(p);
		}
	}
	jv_free(pl);
	jv el = kx_jv_get(jv_copy(o), "endpoints");
	if (jv_get_kind(el) == JV_KIND_ARRAY) {
		jv_array_foreach(el, i, ep)
		{
			jv al = kx_jv_get(ep, "addresses");
			if (jv_get_kind(al) == JV_KIND_ARRAY) {
				jv_array_foreach(al, j, a)
				{
					if (n < 3 && jv_get_kind(a) == JV_KIND_STRING)
						kx_buf_addf(&eps, "%s%s", n++ ? "," : "", jv_string_value(a));
					else
						more++;
					jv_free(a);
				}
			}
			jv_free(al);
		}
	}
	jv_free(el);
	if (more)
		kx_buf_addf(&eps, " + %d more...", more);
	row = jv_array_append(row, cell(ports.len ? kx_buf_str(&ports) : "<unset>"));
	row = jv_array_append(row, cell(eps.len ? kx_buf_str(&eps) : "<unset>"));
	kx_buf_free(&ports);
	kx_buf_free(&eps);
	return jv_array_append(row, age(o, now));
}

/* --- nodes and namespaces -------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static jv row_node(jv o, int wide, time_t now)
{
	char b[256], st[128] = "";
	jv row = jv_array();
	jv conds = kx_jv_get(jv_copy(o), "status.conditions");

	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c)
		{
			char t[64], s[64];
			if (!strcmp(S(c, "type", t, sizeof t), "Ready"))
				snprintf(st, sizeof st, "%s",
					 !strcmp(S(c, "status", s, sizeof s), "True") ? "Ready" : "NotReady");
			jv_free(c);
		}
	}
	jv_free(conds);
	if (!st[0])
		snprintf(st, sizeof st, "Unknown");
	if (kx_jv_bool(o, "spec.unschedulable", 0))
		strncat(st, ",SchedulingDisabled", sizeof st - strlen(st) - 1);
	row = jv_array_append(row, cell(st));

	/* roles: node-role.kubernetes.io/ROLE labels and kubernetes.io/role */
	char *roles[64];
	int nr = 0;
	jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
	if (jv_get_kind(labels) == JV_KIND_OBJECT) {
		jv_object_foreach(labels, k, v)
		{
			const char *ks = jv_string_value(k);
			const char *pre = "node-role.kubernetes.io/";
			if (nr < 64 && !strncmp(ks, pre, strlen(pre)) && ks[strlen(pre)])
				roles[nr++] = strdup(ks + strlen(pre));
			else if (nr < 64 && !strcmp(ks, "kubernetes.io/role") &&
				 jv_get_kind(v) == JV_KIND_STRING && jv_string_value(v)[0])
				roles[nr++] = strdup(jv_string_value(v));
			jv_free(k);
			jv_free(v);
		}
	}
	jv_free(labels);
	qsort(roles, nr, sizeof *roles, cmp_str);
	kx_buf rb = KX_BUF_INIT;
	for (int i = 0; i < nr; i++) {
		if (!i || strcmp(roles[i], roles[i - 1]))
			kx_buf_addf(&rb, "%s%s", rb.len ? "," : "", roles[i]);
	}
	for (int i = 0; i < nr; i++)
		free(roles[i]);
	row = jv_array_append(row, cell(rb.len ? kx_buf_str(&rb) : "<none>"));
	kx_buf_free(&rb);
	row = jv_array_append(row, age(o, now));
	row = jv_array_append(row, jv_string(S(o, "status.nodeInfo.kubeletVersion", b, sizeof b)));
	if (wide) {
		const char *types[] = {"InternalIP", "ExternalIP"};
		for (int t = 0; t < 2; t++) {
			jv addrs = kx_jv_get(jv_copy(o), "status.addresses");
			char ip[128] = "<none>", ty[64];
			if (jv_get_kind(addrs) == JV_KIND_ARRAY) {
				jv_array_foreach(addrs, i, a)
				{
					if (!strcmp(ip, "<none>") &&
					    !strcmp(S(a, "type", ty, sizeof ty), types[t]))
						S(a, "address", ip, sizeof ip);
					jv_free(a);
				}
			}
			jv_free(addrs);
			row = jv_array_append(row, cell(ip));
		}
		const char *info[] = {"osImage", "kernelVersion", "containerRuntimeVersion"};
		for (int i = 0; i < 3; i++) {
			char p[128];
			snprintf(p, sizeof p, "status.nodeInfo.%s", info[i]);
			row = jv_array_append(row, cell(S(o, p, b, sizeof b)[0] ? b : "<unknown>"));
		}
	}
	return row;
}

static jv row_namespace(jv o, int wide, time_t now)
{
	char b[64];

	return jv_array_append(jv_array_append(jv_array(), jv_string(S(o, "status.phase", b, sizeof b))),
			       age(o, now));
}

/* --- config and the rest --------------------------------------------------- */

static jv row_configmap(jv o, int wide, time_t now)
{
	jv row = jv_array_append(jv_array(),
				 cellf("%lld", len_at(o, "data") + len_at(o, "binaryData")));
	return jv_array_append(row, age(o, now));
}

static jv row_secret(jv o, int wide, time_t now)
{
	char b[128];
	jv row = jv_array_append(jv_array(), jv_string(S(o, "type", b, sizeof b)));
	row = jv_array_append(row, cellf("%lld", len_at(o, "data")));
	return jv_array_append(row, age(o, now));
}

static jv row_serviceaccount(jv o, int wide, time_t now)
{
	jv row = jv_array_append(jv_array(), cellf("%lld", len_at(o, "secrets")));
	return jv_array_append(row, age(o, now));
}

static jv row_lease(jv o, int wide, time_t now)
{
	char b[256];
	jv row = jv_array_append(jv_array(), jv_string(S(o, "spec.holderIdentity", b, sizeof b)));
	return jv_array_append(row, age(o, now));
}

static jv event_source(jv o)
{
	char comp[128], host[128];

	if (!S(o, "source.component", comp, sizeof comp)[0])
		S(o, "reportingComponent", comp, sizeof comp);
	if (!S(o, "source.host", host, sizeof host)[0])
		S(o, "reportingInstance", host, sizeof host);
	if (host[0]) {
		char b[300];
		snprintf(b, sizeof b, "%s, %s", comp, host);
		return jv_string(b);
	}
	return jv_string(comp);
}

static jv row_event(jv o, int wide, time_t now)
{
	char b[256], kind[128], name[256];
	jv first, last, row = jv_array();
	int64_t count = I(o, "count");

	first = S(o, "firstTimestamp", b, sizeof b)[0] ? since(o, "firstTimestamp", now)
						      : since(o, "eventTime", now);
	last = S(o, "lastTimestamp", b, sizeof b)[0] ? since(o, "lastTimestamp", now) : jv_copy(first);
	jv series = kx_jv_get(jv_copy(o), "series");
	if (jv_get_kind(series) == JV_KIND_OBJECT) {
		jv_free(last);
		last = since(o, "series.lastObservedTime", now);
		count = I(series, "count");
	} else if (!count) {
		count = 1;
	}
	jv_free(series);
	S(o, "involvedObject.kind", kind, sizeof kind);
	for (char *p = kind; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (S(o, "involvedObject.name", name, sizeof name)[0])
		snprintf(b, sizeof b, "%s/%s", kind, name);
	else
		snprintf(b, sizeof b, "%s", kind);
	row = jv_array_append(row, last);
	char t[64], reason[128];
	row = jv_array_append(row, jv_string(S(o, "type", t, sizeof t)));
	row = jv_array_append(row, jv_string(S(o, "reason", reason, sizeof reason)));
	row = jv_array_append(row, jv_string(b));
	char msg[1024];
	S(o, "message", msg, sizeof msg);
	char *m = msg;
	while (*m == ' ' || *m == '\n' || *m == '\t')
		m++;
	size_t ml = strlen(m);
	while (ml && (m[ml - 1] == ' ' || m[ml - 1] == '\n' || m[ml - 1] == '\t'))
		m[--ml] = 0;
	if (wide) {
		char fp[256];
		row = jv_array_append(row, jv_string(S(o, "involvedObject.fieldPath", fp, sizeof fp)));
		row = jv_array_append(row, event_source(o));
		row = jv_array_append(row, jv_string(m));
		row = jv_array_append(row, first);
		row = jv_array_append(row, cellf("%lld", count));
		row = jv_array_append(row, jv_string(S(o, "metadata.name", name, sizeof name)));
	} else {
		row = jv_array_append(row, jv_string(m));
		jv_free(first);
	}
	return row;
}

static jv row_quota(jv o, int wide, time_t now)
{
	jv hard = kx_jv_get(jv_copy(o), "status.hard");
	kx_buf req = KX_BUF_INIT, lim = KX_BUF_INIT;
	jv row = jv_array_append(jv_array(), age(o, now));

	if (jv_get_kind(hard) == JV_KIND_OBJECT) {
		jv keys = jv_keys(jv_copy(hard));
		jv_array_foreach(keys, i, k)
		{
			const char *ks = jv_string_value(k);
			char used[128], h[128], p[300];
			snprintf(p, sizeof p, "status.used.%s", ks);
			jv uv = kx_jv_get(jv_copy(o), "status.used");
			jv u = jv_get_kind(uv) == JV_KIND_OBJECT ? jv_object_get(uv, jv_copy(k))
								 : (jv_free(uv), jv_invalid());
			snprintf(used, sizeof used, "%s",
				 jv_is_valid(u) && jv_get_kind(u) == JV_KIND_STRING ? jv_string_value(u) : "0");
			jv_free(u);
			jv hv = jv_object_get(jv_copy(hard), jv_copy(k));
			snprintf(h, sizeof h, "%s", jv_get_kind(hv) == JV_KIND_STRING ? jv_string_value(hv) : "");
			jv_free(hv);
			kx_buf *b = !strncmp(ks, "limits.", 7) ? &lim : &req;
			kx_buf_addf(b, "%s%s: %s/%s", b->len ? ", " : "", ks, used, h);
			jv_free(k);
		}
		jv_free(keys);
	}
	jv_free(hard);
	row = jv_array_append(row, cell(kx_buf_str(&req)));
	row = jv_array_append(row, cell(kx_buf_str(&lim)));
	kx_buf_free(&req);
	kx_buf_free(&lim);
	return row;
}

static jv row_role(jv o, int wide, time_t now)
{
	char b[64];

	return jv_array_append(jv_array(),
			       jv_string(S(o, "metadata.creationTimestamp", b, sizeof b)));
}

static jv subjects(jv o, const char *kind)
{
	jv sl = kx_jv_get(jv_copy(o), "subjects");
	kx_buf b = KX_BUF_INIT;

	if (jv_get_kind(sl) == JV_KIND_ARRAY) {
		jv_array_foreach(sl, i, s)
		{
			char k[64], n[256], ns[256];
			if (!strcmp(S(s, "kind", k, sizeof k), kind)) {
				if (!strcmp(kind, "ServiceAccount"))
					kx_buf_addf(&b, "%s%s/%s", b.len ? ", " : "",
						    S(s, "namespace", ns, sizeof ns), S(s, "name", n, sizeof n));
				else
					kx_buf_addf(&b, "%s%s", b.len ? ", " : "", S(s, "name", n, sizeof n));
			}
			jv_free(s);
		}
	}
	jv_free(sl);
	jv out = jv_string(kx_buf_str(&b));
	kx_buf_free(&b);
	return out;
}

static jv row_binding(jv o, int wide, time_t now)
{
	char k[64], n[256], b[330];

	snprintf(b, sizeof b, "%s/%s", S(o, "roleRef.kind", k, sizeof k),
		 S(o, "roleRef.name", n, sizeof n));
	jv row = jv_array_append(jv_array_append(jv_array(), jv_string(b)), age(o, now));
	if (wide) {
		row = jv_array_append(row, subjects(o, "User"));
		row = jv_array_append(row, subjects(o, "Group"));
		row = jv_array_append(row, subjects(o, "ServiceAccount"));
	}
	return row;
}

static jv row_default(jv o, int wide, time_t now)
{
	return jv_array_append(jv_array(), age(o, now));
}

/* Columns after NAME; "|"-separated; wide replaces the normal set. */
static const struct printer {
	const char *group, *kind;
	const char *cols, *wide;
	jv (*row)(jv o, int wide, time_t now);
} printers[] = {
	{"", "Pod", "READY|STATUS|RESTARTS|AGE",
	 "READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES", row_pod},
	{"apps", "Deployment", "READY|UP-TO-DATE|AVAILABLE|AGE",
	 "READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR", row_deployment},
	{"apps", "ReplicaSet", "DESIRED|CURRENT|READY|AGE",
	 "DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR", row_replicaset},
	{"", "ReplicationController", "DESIRED|CURRENT|READY|AGE",
	 "DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR", row_rc},
	{"", "Service", "TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE",
	 "TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE|SELECTOR", row_service},
	{"", "Endpoints", "ENDPOINTS|AGE", NULL, row_endpoints},
	{"discovery.k8s.io", "EndpointSlice", "ADDRESSTYPE|PORTS|ENDPOINTS|AGE", NULL,
	 row_endpointslice},
	{"", "Node", "STATUS|ROLES|AGE|VERSION",
	 "STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME",
	 row_node},
	{"", "Namespace", "STATUS|AGE", NULL, row_namespace},
	{"", "ConfigMap", "DATA|AGE", NULL, row_configmap},
	{"", "Secret", "TYPE|DATA|AGE", NULL, row_secret},
	{"", "ServiceAccount", "SECRETS|AGE", NULL, row_serviceaccount},
	{"coordination.k8s.io", "Lease", "HOLDER|AGE", NULL, row_lease},
	{"", "Event", "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE",
	 "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME", row_event},
	{"", "ResourceQuota", "AGE|REQUEST|LIMIT", NULL, row_quota},
	{"rbac.authorization.k8s.io", "Role", "CREATED AT", NULL, row_role},
	{"rbac.authorization.k8s.io", "ClusterRole", "CREATED AT", NULL, row_role},
	{"rbac.authorization.k8s.io", "RoleBinding", "ROLE|AGE", "ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS",
	 row_binding},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding", "ROLE|AGE",
	 "ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS", row_binding},
};

static const struct printer default_printer = {"", "", "AGE", NULL, row_default};

/* Events print no NAME column (-o wide adds it last). */
static int no_name(const struct printer *pr)
{
	return pr->row == row_event;
}

static const struct printer *find_printer(const kx_kind *k)
{
	if (k)
		for (size_t i = 0; i < sizeof printers / sizeof printers[0]; i++)
			if (!strcmp(printers[i].kind, k->kind) && !strcmp(printers[i].group, k->group))
				return &printers[i];
	return &default_printer;
}

static jv split_cols(jv out, const char *cols)
{
	const char *p = cols;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		out = jv_array_append(out, jv_string_sized(p, (int)n));
		p += n + (bar ? 1 : 0);
	}
	return out;
}

jv kx_print_header(const kx_kind *k, int flags)
{
	const struct printer *pr = find_printer(k);
	jv h = jv_array();

	if (flags & KX_PRINT_NAMESPACE)
		h = jv_array_append(h, jv_string("NAMESPACE"));
	if (!no_name(pr))
		h = jv_array_append(h, jv_string("NAME"));
	h = split_cols(h, (flags & KX_PRINT_WIDE) && pr->wide ? pr->wide : pr->cols);
	if (flags & KX_PRINT_LABELS)
		h = jv_array_append(h, jv_string("LABELS"));
	return h;
}

jv kx_print_row(const kx_kind *k, jv obj, int flags, time_t now)
{
	const struct printer *pr = find_printer(k);
	char b[512];
	jv row = jv_array();

	if (flags & KX_PRINT_NAMESPACE)
		row = jv_array_append(row, jv_string(S(obj, "metadata.namespace", b, sizeof b)));
	if (no_name(pr))
		(void)0;
	else if (flags & KX_PRINT_KIND)
		row = jv_array_append(row, jv_string(kx_obj_ident(obj, b, sizeof b)));
	else
		row = jv_array_append(row, jv_string(S(obj, "metadata.name", b, sizeof b)));
	jv rest = pr->row(obj, (flags & KX_PRINT_WIDE) && pr->wide, now);
	jv_array_foreach(rest, i, c) row = jv_array_append(row, c);
	jv_free(rest);
	if (flags & KX_PRINT_LABELS)
		row = jv_array_append(row, labels_str(obj, "metadata.labels", "<none>"));
	return row;
}

/* Width in runes, as Go's tabwriter counts. */
static size_t runes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int kx_table_write(kx_buf *b, jv rows, size_t *remember)
{
	size_t local[KX_TABLE_MAX_COLS] = {0}, *width = remember ? remember : local;
	int ncol = 0, rc = 0;

	jv_array_foreach(rows, i, row)
	{
		jv_array_foreach(row, j, c)
		{
			if (j < KX_TABLE_MAX_COLS) {
				size_t w = runes(jv_string_value(c)) + 3;
				if (w < 6)
					w = 6;
				if (w > width[j])
					width[j] = w;
				if (j + 1 > ncol)
					ncol = j + 1;
			}
			jv_free(c);
		}
		jv_free(row);
	}
	jv_array_foreach(rows, i, row)
	{
		int n = jv_array_length(jv_copy(row));
		jv_array_foreach(row, j, c)
		{
			const char *s = jv_string_value(c);
			if (rc == 0)
				rc = kx_buf_adds(b, s);
			if (j + 1 < n && j < KX_TABLE_MAX_COLS)
				for (size_t w = runes(s); w < width[j] && rc == 0; w++)
					rc = kx_buf_addc(b, ' ');
			jv_free(c);
		}
		if (rc == 0)
			rc = kx_buf_addc(b, '\n');
		jv_free(row);
	}
	jv_free(rows);
	return rc;
}

/* --- names ----------------------------------------------------------------- */

const char *kx_obj_ident(jv obj, char *buf, size_t n)
{
	char av[128], kind[128], name[256];
	const char *slash;

	kx_jv_str(obj, "apiVersion", av, sizeof av, "");
	kx_jv_str(obj, "kind", kind, sizeof kind, "");
	kx_jv_str(obj, "metadata.name", name, sizeof name, "");
	for (char *p = kind; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	slash = strchr(av, '/');
	if (slash)
		snprintf(buf, n, "%s.%.*s/%s", kind, (int)(slash - av), av, name);
	else
		snprintf(buf, n, "%s/%s", kind, name);
	return buf;
}

const char *kx_kind_qualified(const kx_kind *k, char *buf, size_t n)
{
	if (*k->group)
		snprintf(buf, n, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, n, "%s", k->resource);
	return buf;
}

/* --- JSON ------------------------------------------------------------------ */

jv kx_jv_sorted(jv v)
{
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv out = jv_array();
		jv_array_foreach(v, i, x) out = jv_array_append(out, kx_jv_sorted(x));
		jv_free(v);
		return out;
	}
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv out = jv_object(), keys = jv_keys(jv_copy(v));
		jv_array_foreach(keys, i, k)
		{
			jv x = jv_object_get(jv_copy(v), jv_copy(k));
			out = jv_object_set(out, k, kx_jv_sorted(x));
		}
		jv_free(keys);
		jv_free(v);
		return out;
	}
	return v;
}

static int go_string(kx_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = kx_buf_addc(b, '"');

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = kx_buf_adds(b, "\\\""); break;
		case '\\': rc = kx_buf_adds(b, "\\\\"); break;
		case '\n': rc = kx_buf_adds(b, "\\n"); break;
		case '\r': rc = kx_buf_adds(b, "\\r"); break;
		case '\t': rc = kx_buf_adds(b, "\\t"); break;
		case '<': case '>': case '&':
			rc = kx_buf_addf(b, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			break;
		default:
			if (c < 0x20)
				rc = kx_buf_addf(b, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
				 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
				rc = kx_buf_adds(b, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
				i += 2;
			} else
				rc = kx_buf_addc(b, (char)c);
		}
	}
	return rc ? rc : kx_buf_addc(b, '"');
}

static int newline(kx_buf *b, int indent, int depth)
{
	int rc = 0;

	if (!indent)
		return 0;
	rc = kx_buf_addc(b, '\n');
	for (int i = 0; i < indent * depth && rc == 0; i++)
		rc = kx_buf_addc(b, ' ');
	return rc;
}

static int go_json(kx_buf *b, jv v, int indent, int depth)
{
	int rc = 0;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		rc = go_string(b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));
		rc = kx_buf_addc(b, '[');
		jv_array_foreach(v, i, x)
		{
			if (rc == 0 && i)
				rc = kx_buf_addc(b, ',');
			if (rc == 0)
				rc = newline(b, indent, depth + 1);
			if (rc == 0)
				rc = go_json(b, x, indent, depth + 1);
			else
				jv_free(x);
		}
		if (rc == 0 && n)
			rc = newline(b, indent, depth);
		if (rc == 0)
			rc = kx_buf_addc(b, ']');
		break;
	}
	case JV_KIND_OBJECT: {
		jv keys = jv_keys(jv_copy(v)); /* sorted bytewise, as Go sorts map keys */
		int n = jv_array_length(jv_copy(keys));
		rc = kx_buf_addc(b, '{');
		jv_array_foreach(keys, i, key)
		{
			if (rc == 0 && i)
				rc = kx_buf_addc(b, ',');
			if (rc == 0)
				rc = newline(b, indent, depth + 1);
			if (rc == 0)
				rc = go_string(b, jv_string_value(key),
					       (size_t)jv_string_length_bytes(jv_copy(key)));
			if (rc == 0)
				rc = kx_buf_adds(b, indent ? ": " : ":");
			if (rc == 0)
				rc = go_json(b, jv_object_get(jv_copy(v), key), indent, depth + 1);
			else
				jv_free(key);
		}
		jv_free(keys);
		if (rc == 0 && n)
			rc = newline(b, indent, depth);
		if (rc == 0)
			rc = kx_buf_addc(b, '}');
		break;
	}
	default:
		return kx_json_dump_buf(b, v, 0); /* null, booleans, numbers */
	}
	jv_free(v);
	return rc;
}

int kx_go_json(kx_buf *b, jv v, int indent)
{
	return go_json(b, v, indent, 0);
}

int kx_print_json(kx_buf *b, jv v)
{
	int rc = go_json(b, v, 4, 0);

	return rc ? rc : kx_buf_addc(b, '\n');
}

jv kx_print_list(jv items)
{
	jv l = jv_object();

	l = jv_object_set(l, jv_string("apiVersion"), jv_string("v1"));
	l = jv_object_set(l, jv_string("items"), items);
	l = jv_object_set(l, jv_string("kind"), jv_string("List"));
	l = jv_object_set(l, jv_string("metadata"),
			  jv_object_set(jv_object(), jv_string("resourceVersion"), jv_string("")));
	return l;
}
