/* node.c: the Node object, its status and its Lease, as the kubelet's
 * node status manager and lease controller keep them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "noderun.h"

#define NR_KUBELET_VERSION "v1.30.0-kx." KX_VERSION
#define NR_MAX_PODS 110
#define NR_MEM_RESERVED (100ll << 20)  /* the kubelet's default eviction threshold */
#define NR_LEASE_SECONDS 40

/* ---- facts (I/O) ---------------------------------------------------------- */

static void read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static int64_t meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t kl = strlen(key);
	int64_t v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoll(line + kl + 1, NULL, 10) * 1024;
			break;
		}
	fclose(f);
	return v;
}

static void os_image(char *buf, size_t n)
{
	FILE *f = fopen("/etc/os-release", "r");
	char line[256];

	snprintf(buf, n, "Linux");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "PRETTY_NAME=", 12)) {
			char *s = line + 12;
			s[strcspn(s, "\n")] = 0;
			if (*s == '"') {
				s++;
				s[strcspn(s, "\"")] = 0;
			}
			snprintf(buf, n, "%s", s);
		}
	fclose(f);
}

int nr_facts_gather(struct nr_facts *f, const char *root)
{
	struct utsname u;
	struct statvfs sv;
	char line[64];
	DIR *d;
	struct dirent *de;

	memset(f, 0, sizeof *f);
	f->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	f->mem_total = meminfo("MemTotal");
	f->mem_available = meminfo("MemAvailable");
	if (statvfs(root, &sv) == 0 || statvfs("/", &sv) == 0) {
		f->disk_total = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
		f->disk_avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	}
	read_line("/proc/sys/kernel/pid_max", line, sizeof line);
	f->pids_max = strtoll(line, NULL, 10);
	if ((d = opendir("/proc"))) {
		while ((de = readdir(d)))
			if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
				f->pids_used++;
		closedir(d);
	}
	if (uname(&u) == 0) {
		snprintf(f->arch, sizeof f->arch, "%s", nr_arch(u.machine));
		snprintf(f->kernel, sizeof f->kernel, "%s", u.release);
	}
	os_image(f->os_image, sizeof f->os_image);
	read_line("/etc/machine-id", f->machine_id, sizeof f->machine_id);
	read_line("/proc/sys/kernel/random/boot_id", f->boot_id, sizeof f->boot_id);
	return 0;
}

/* ---- the Node (pure) ------------------------------------------------------ */

const char *nr_arch(const char *m)
{
	static const char *const map[][2] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"},
		{"i686", "386"},     {"i386", "386"},      {"ppc64le", "ppc64le"},
		{"s390x", "s390x"},  {"riscv64", "riscv64"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(m, map[i][0]))
			return map[i][1];
	return m;
}

static jv kib(int64_t bytes)
{
	char b[40];
	snprintf(b, sizeof b, "%lldKi", (long long)(bytes > 0 ? bytes / 1024 : 0));
	return jv_string(b);
}

static jv num_str(int64_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return jv_string(b);
}

static jv labels(const struct nr_config *c, const struct nr_facts *f)
{
	jv l = jv_object();
	l = jv_object_set(l, jv_string("kubernetes.io/hostname"), jv_string(c->node));
	l = jv_object_set(l, jv_string("kubernetes.io/os"), jv_string("linux"));
	l = jv_object_set(l, jv_string("kubernetes.io/arch"), jv_string(f->arch));
	l = jv_object_set(l, jv_string("beta.kubernetes.io/os"), jv_string("linux"));
	l = jv_object_set(l, jv_string("beta.kubernetes.io/arch"), jv_string(f->arch));
	return l;
}

jv nr_node_new(const struct nr_config *c, const struct nr_facts *f, time_t now)
{
	jv n = jv_object(), spec = jv_object();

	n = jv_object_set(n, jv_string("apiVersion"), jv_string("v1"));
	n = jv_object_set(n, jv_string("kind"), jv_string("Node"));
	n = jv_object_set(n, jv_string("metadata"),
			  jv_object_set(jv_object_set(jv_object(), jv_string("name"),
						      jv_string(c->node)),
					jv_string("labels"), labels(c, f)));
	if (c->pod_cidr && *c->pod_cidr) {
		spec = jv_object_set(spec, jv_string("podCIDR"), jv_string(c->pod_cidr));
		spec = jv_object_set(spec, jv_string("podCIDRs"),
				     jv_array_append(jv_array(), jv_string(c->pod_cidr)));
	}
	n = jv_object_set(n, jv_string("spec"), spec);
	n = jv_object_set(n, jv_string("status"), nr_node_status(jv_null(), c, f, now));
	return n;
}

/* One condition, keeping lastTransitionTime from prev_conds when the status
 * is the same. */
static jv condition(jv prev_conds, const char *type, int on, const char *reason,
		    const char *msg, const char *now)
{
	jv c = jv_object();
	const char *status = on ? "True" : "False";
	char since[40];

	snprintf(since, sizeof since, "%s", now);
	if (jv_get_kind(prev_conds) == JV_KIND_ARRAY) {
		jv_array_foreach(prev_conds, i, pc)
		{
			char t[64], s[16], lt[40];
			nr_str(pc, "type", t, sizeof t, "");
			nr_str(pc, "status", s, sizeof s, "");
			if (!strcmp(t, type) && !strcmp(s, status) &&
			    kx_jv_str(pc, "lastTransitionTime", lt, sizeof lt, NULL))
				snprintf(since, sizeof since, "%s", lt);
			jv_free(pc);
		}
	}
	jv_free(prev_conds);
	c = jv_object_set(c, jv_string("type"), jv_string(type));
	c = jv_object_set(c, jv_string("status"), jv_string(status));
	c = jv_object_set(c, jv_string("lastHeartbeatTime"), jv_string(now));
	c = jv_object_set(c, jv_string("lastTransitionTime"), jv_string(since));
	c = jv_object_set(c, jv_string("reason"), jv_string(reason));
	c = jv_object_set(c, jv_string("message"), jv_string(msg));
	return c;
}

jv nr_node_status(jv prev, const struct nr_config *c, const struct nr_facts *f, time_t now)
{
	jv st = jv_object(), cap = jv_object(), alloc = jv_object(), conds = jv_array();
	jv pc = kx_jv_get(prev, "conditions");
	char t[40];
	int mem_p, disk_p, pid_p;
	int64_t mem_alloc = f->mem_total - NR_MEM_RESERVED;
	jv info = jv_object(), addrs = jv_array();

	kx_time_format(now, t, sizeof t);
	cap = jv_object_set(cap, jv_string("cpu"), num_str(f->cpus));
	cap = jv_object_set(cap, jv_string("memory"), kib(f->mem_total));
	cap = jv_object_set(cap, jv_string("ephemeral-storage"), kib(f->disk_total));
	cap = jv_object_set(cap, jv_string("pods"), num_str(NR_MAX_PODS));
	alloc = jv_object_set(alloc, jv_string("cpu"), num_str(f->cpus));
	alloc = jv_object_set(alloc, jv_string("memory"), kib(mem_alloc));
	/* the kubelet's default eviction threshold: nodefs.available < 10% */
	alloc = jv_object_set(alloc, jv_string("ephemeral-storage"), kib(f->disk_total / 10 * 9));
	alloc = jv_object_set(alloc, jv_string("pods"), num_str(NR_MAX_PODS));
	/* The kubelet's default hard eviction thresholds decide the pressures. */
	mem_p = f->mem_available >= 0 && f->mem_available < NR_MEM_RESERVED;
	disk_p = f->disk_total > 0 && f->disk_avail < f->disk_total / 10;
	pid_p = f->pids_max > 0 && f->pids_used > f->pids_max / 100 * 90;
	conds = jv_array_append(
		conds, condition(jv_copy(pc), "MemoryPressure", mem_p,
				 mem_p ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
				 mem_p ? "kubelet has insufficient memory available"
				       : "kubelet has sufficient memory available",
				 t));
	conds = jv_array_append(
		conds, condition(jv_copy(pc), "DiskPressure", disk_p,
				 disk_p ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
				 disk_p ? "kubelet has disk pressure" : "kubelet has no disk pressure",
				 t));
	conds = jv_array_append(
		conds, condition(jv_copy(pc), "PIDPressure", pid_p,
				 pid_p ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
				 pid_p ? "kubelet has insufficient PID available"
				       : "kubelet has sufficient PID available",
				 t));
	conds = jv_array_append(conds, condition(pc, "Ready", 1, "KubeletReady",
						  "kubelet is posting ready status", t));
	addrs = jv_array_append(addrs, jv_object_set(jv_object_set(jv_object(), jv_string("type"),
								   jv_string("InternalIP")),
						     jv_string("address"),
						     jv_string(c->node_ip ? c->node_ip : "127.0.0.1")));
	addrs = jv_array_append(addrs, jv_object_set(jv_object_set(jv_object(), jv_string("type"),
								   jv_string("Hostname")),
						     jv_string("address"), jv_string(c->node)));
	info = jv_object_set(info, jv_string("machineID"), jv_string(f->machine_id));
	info = jv_object_set(info, jv_string("systemUUID"), jv_string(f->machine_id));
	info = jv_object_set(info, jv_string("bootID"), jv_string(f->boot_id));
	info = jv_object_set(info, jv_string("kernelVersion"), jv_string(f->kernel));
	info = jv_object_set(info, jv_string("osImage"), jv_string(f->os_image));
	info = jv_object_set(info, jv_string("containerRuntimeVersion"),
			     jv_string("kx-container://" KX_VERSION));
	info = jv_object_set(info, jv_string("kubeletVersion"), jv_string(NR_KUBELET_VERSION));
	info = jv_object_set(info, jv_string("kubeProxyVersion"), jv_string(NR_KUBELET_VERSION));
	info = jv_object_set(info, jv_string("operatingSystem"), jv_string("linux"));
	info = jv_object_set(info, jv_string("architecture"), jv_string(f->arch));
	st = jv_object_set(st, jv_string("capacity"), cap);
	st = jv_object_set(st, jv_string("allocatable"), alloc);
	st = jv_object_set(st, jv_string("conditions"), conds);
	st = jv_object_set(st, jv_string("addresses"), addrs);
	st = jv_object_set(st, jv_string("daemonEndpoints"),
			   jv_object_set(jv_object(), jv_string("kubeletEndpoint"),
					 jv_object_set(jv_object(), jv_string("Port"),
						       jv_number(c->port))));
	st = jv_object_set(st, jv_string("nodeInfo"), info);
	return st;
}

jv nr_lease(jv prev, const char *node, const char *node_uid, const struct timespec *now)
{
	char t[48];
	jv l = prev, spec;

	kx_time_format_micro(now, t, sizeof t);
	if (jv_get_kind(l) != JV_KIND_OBJECT) {
		jv meta = jv_object();
		jv_free(l);
		meta = jv_object_set(meta, jv_string("name"), jv_string(node));
		meta = jv_object_set(meta, jv_string("namespace"), jv_string("kube-node-lease"));
		if (node_uid && *node_uid) {
			jv ref = jv_object();
			ref = jv_object_set(ref, jv_string("apiVersion"), jv_string("v1"));
			ref = jv_object_set(ref, jv_string("kind"), jv_string("Node"));
			ref = jv_object_set(ref, jv_string("name"), jv_string(node));
			ref = jv_object_set(ref, jv_string("uid"), jv_string(node_uid));
			meta = jv_object_set(meta, jv_string("ownerReferences"),
					     jv_array_append(jv_array(), ref));
		}
		l = jv_object();
		l = jv_object_set(l, jv_string("apiVersion"), jv_string("coordination.k8s.io/v1"));
		l = jv_object_set(l, jv_string("kind"), jv_string("Lease"));
		l = jv_object_set(l, jv_string("metadata"), meta);
	}
	spec = kx_jv_get(jv_copy(l), "spec");
	if (jv_get_kind(spec) != JV_KIND_OBJECT) {
		jv_free(spec);
		spec = jv_object();
	}
	spec = jv_object_set(spec, jv_string("holderIdentity"), jv_string(node));
	spec = jv_object_set(spec, jv_string("leaseDurationSeconds"), jv_number(NR_LEASE_SECONDS));
	spec = jv_object_set(spec, jv_string("renewTime"), jv_string(t));
	return jv_object_set(l, jv_string("spec"), spec);
}

/* ---- talking to the store ------------------------------------------------- */

static int is_notfound(const kx_err *e)
{
	return e->status == KX_EREFUSED && e->http == 404;
}

static int ensure_namespace(kx_client *cl, const char *ns, kx_err *e)
{
	char path[300];
	jv v;

	snprintf(path, sizeof path, "/api/v1/namespaces/%s", ns);
	v = kx_client_get(cl, path, e);
	if (jv_is_valid(v)) {
		jv_free(v);
		return 0;
	}
	if (!is_notfound(e))
		return -1;
	kx_err_clear(e);
	v = jv_object_set(jv_object(), jv_string("name"), jv_string(ns));
	v = jv_object_set(jv_object_set(jv_object_set(jv_object(), jv_string("apiVersion"),
						      jv_string("v1")),
					jv_string("kind"), jv_string("Namespace")),
			  jv_string("metadata"), v);
	v = kx_client_json(cl, "POST", "/api/v1/namespaces", v, NULL, e);
	if (!jv_is_valid(v) && !(e->status == KX_EREFUSED && e->http == 409))
		return -1;
	jv_free(v);
	kx_err_clear(e);
	return 0;
}

static int lease_sync(kx_client *cl, const struct nr_config *c, const char *uid, kx_err *e)
{
	char path[400];
	struct timespec now;
	jv l;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
		 c->node);
	l = kx_client_get(cl, path, e);
	if (jv_is_valid(l)) {
		l = kx_client_json(cl, "PUT", path, nr_lease(l, c->node, uid, &now), NULL, e);
	} else if (is_notfound(e)) {
		kx_err_clear(e);
		if (ensure_namespace(cl, "kube-node-lease", e) < 0)
			return kx_err_wrap(e, "namespace \"kube-node-lease\"");
		l = kx_client_json(cl, "POST",
				   "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
				   nr_lease(jv_null(), c->node, uid, &now), NULL, e);
	}
	if (!jv_is_valid(l))
		return kx_err_wrap(e, "lease \"%s\"", c->node);
	jv_free(l);
	return 0;
}

int nr_node_sync(kx_client *cl, const struct nr_config *c, int status_too, kx_err *e)
{
	struct nr_facts f;
	char path[300], uid[128];
	jv node;

	nr_facts_gather(&f, c->root);
	snprintf(path, sizeof path, "/api/v1/nodes/%s", c->node);
	node = kx_client_get(cl, path, e);
	if (!jv_is_valid(node) && is_notfound(e)) {
		kx_err_clear(e);
		node = kx_client_json(cl, "POST", "/api/v1/nodes", nr_node_new(c, &f, time(NULL)),
				      NULL, e);
		if (jv_is_valid(node))
			kx_log_info("registered node \"%s\"", c->node);
		status_too = 1;
	}
	if (!jv_is_valid(node))
		return kx_err_wrap(e, "node \"%s\"", c->node);
	nr_str(node, "metadata.uid", uid, sizeof uid, "");
	if (status_too) {
		jv st = nr_node_status(kx_jv_get(jv_copy(node), "status"), c, &f, time(NULL));
		jv upd;
		char sp[320];
		node = jv_object_set(node, jv_string("status"), st);
		/* labels the kubelet owns come back if someone removed them */
		jv l = kx_jv_get(jv_copy(node), "metadata.labels");
		if (jv_get_kind(l) != JV_KIND_OBJECT) {
			jv_free(l);
			l = jv_object();
		}
		jv mine = labels(c, &f);
		jv_object_foreach(mine, k, v)
		{
			jv have = jv_object_get(jv_copy(l), jv_copy(k));
			if (jv_get_kind(have) != JV_KIND_STRING)
				l = jv_object_set(l, k, v);
			else {
				jv_free(k);
				jv_free(v);
			}
			jv_free(have);
		}
		jv_free(mine);
		node = kx_jv_set(node, "metadata.labels", l);
		snprintf(sp, sizeof sp, "%s/status", path);
		upd = kx_client_json(cl, "PUT", sp, jv_copy(node), NULL, e);
		if (!jv_is_valid(upd) && e->status == KX_EREFUSED &&
		    (e->http == 404 || e->http == 405)) {
			/* a store without the status subresource */
			kx_err_clear(e);
			upd = kx_client_json(cl, "PUT", path, jv_copy(node), NULL, e);
		}
		if (!jv_is_valid(upd)) {
			jv_free(node);
			return kx_err_wrap(e, "status of node \"%s\"", c->node);
		}
		jv_free(upd);
	}
	jv_free(node);
	return lease_sync(cl, c, uid, e);
}
