/* pods.c: running the pods bound to this node.
 *
 * Each pass lists the node's pods from the store and converges each one:
 * sandbox (network namespace through the CNI plugins), volumes, image,
 * init containers in order, then the containers, restarting them per
 * restartPolicy with the CrashLoopBackOff back-off, and writes the pod's
 * status when it changed. Everything kx-node-run knows about a pod is in
 * files under ROOT/pods/UID (see "Files on a node" in the man page), and
 * the containers' own state is the runtime's: a new kx-node-run adopts
 * running pods as they are. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "buf.h"
#include "cgroup.h"
#include "clock.h"
#include "err.h"
#include "event.h"
#include "imagestore.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "noderun.h"
#include "probe.h"
#include "spec.h"

#define MAX_FILE (4u << 20)
#define BACKOFF_START 10
#define BACKOFF_MAX 300
#define BACKOFF_RESET 600

/* ---- small jv helpers ------------------------------------------------------ */

static int pod_kind_at(jv v, const char *path)
{
	jv x = kx_jv_get(jv_copy(v), path);
	int k = jv_get_kind(x);
	jv_free(x);
	return k;
}

static int kind_is_string(jv v, const char *path)
{
	return pod_kind_at(v, path) == JV_KIND_STRING;
}

/* The array at path, or an empty one. Borrows v. */
static jv arr(jv v, const char *path)
{
	jv x = kx_jv_get(jv_copy(v), path);
	if (jv_get_kind(x) != JV_KIND_ARRAY) {
		jv_free(x);
		return jv_array();
	}
	return x;
}

/* objs[coll][name], or invalid. Borrows objs. */
static jv obj_get(jv objs, const char *coll, const char *name)
{
	jv m = kx_jv_get(jv_copy(objs), coll);
	if (jv_get_kind(m) != JV_KIND_OBJECT) {
		jv_free(m);
		return jv_invalid();
	}
	return jv_object_get(m, jv_string(name));
}

/* ---- small file and process helpers ------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *q = tmp + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(tmp, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *data, size_t n, mode_t mode)
{
	char tmp[4200];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if ((n && write(fd, data, n) != (ssize_t)n) || fchmod(fd, mode) < 0 || close(fd) < 0) {
		unlink(tmp);
		return -1;
	}
	return rename(tmp, path);
}

/* Write only when the content differs, so mounted files change only when
 * their source did. */
static int update_file(const char *path, const char *data, size_t n, mode_t mode)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	struct stat st;

	if (kx_buf_read_file(&b, path, MAX_FILE, &e) == 0 && b.len == n &&
	    (!n || !memcmp(b.p, data, n)) && stat(path, &st) == 0 && (st.st_mode & 07777) == mode) {
		kx_buf_free(&b);
		return 0;
	}
	kx_buf_free(&b);
	return write_file(path, data, n, mode);
}

static jv read_json_file(const char *path)
{
	kx_buf b = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv v;

	if (kx_buf_read_file(&b, path, MAX_FILE, &e) < 0)
		return jv_invalid();
	v = kx_json_parse(b.p ? b.p : "", b.len, &e);
	kx_buf_free(&b);
	return v;
}

static int write_json_file(const char *path, jv v)
{
	char *s = kx_json_dump(v, 0);
	int r = write_file(path, s, strlen(s), 0644);
	free(s);
	return r;
}

static int rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			umount2(p, MNT_DETACH); /* a volume left mounted */
			rm_rf(p);
		} else
			unlink(p);
	}
	closedir(d);
	return rmdir(path);
}

static int is_mountpoint(const char *path)
{
	struct stat a, b;
	char parent[4200];

	snprintf(parent, sizeof parent, "%s/..", path);
	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* Run argv with stdin from `in` (may be NULL), capturing stdout (up to
 * max bytes) into out (may be NULL) and stderr into err (may be NULL).
 * env (NULL-ended "K=V", may be NULL) is added to the environment.
 * Returns the exit status, or -1 when it could not run. */
static int run(char *const argv[], char *const env[], const char *in, kx_buf *out, kx_buf *err,
	       int timeout_ms)
{
	int ip[2] = {-1, -1}, op[2], ep[2], status = 0;
	pid_t pid;
	int64_t deadline = kx_now_ms() + (timeout_ms > 0 ? timeout_ms : 60000);

	if (pipe2(op, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(op[0]);
		close(op[1]);
		return -1;
	}
	if (in && pipe2(ip, O_CLOEXEC) < 0) {
		close(op[0]); close(op[1]); close(ep[0]); close(ep[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(in ? ip[0] : null, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		for (int i = 0; env && env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		dprintf(2, "cannot run \"%s\": %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	if (in) {
		close(ip[0]);
		if (pid > 0) {
			size_t n = strlen(in), off = 0;
			while (off < n) {
				ssize_t w = write(ip[1], in + off, n - off);
				if (w <= 0)
					break;
				off += (size_t)w;
			}
		}
		close(ip[1]);
	}
	if (pid < 0) {
		close(op[0]);
		close(ep[0]);
		return -1;
	}
	{
		struct pollfd pf[2] = {{op[0], POLLIN, 0}, {ep[0], POLLIN, 0}};
		int open_n = 2;
		while (open_n > 0) {
			int64_t left = deadline - kx_now_ms();
			char buf[4096];
			if (left <= 0) {
				kill(pid, SIGKILL);
				break;
			}
			if (poll(pf, 2, (int)left) < 0 && errno != EINTR)
				break;
			for (int i = 0; i < 2; i++) {
				ssize_t n;
				if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				n = read(pf[i].fd, buf, sizeof buf);
				if (n <= 0) {
					close(pf[i].fd);
					pf[i].fd = -1;
					open_n--;
					continue;
				}
				kx_buf *dst = i == 0 ? out : err;
				if (dst)
					kx_buf_add(dst, buf, (size_t)n);
			}
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].fd >= 0)
				close(pf[i].fd);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void trim(kx_buf *b)
{
	while (b->len && (b->p[b->len - 1] == '\n' || b->p[b->len - 1] == ' '))
		b->p[--b->len] = 0;
}

/* ---- the runtime, through its command line (runc's) ---------------------- */

/* `runtime list`, once per pass: {id: "running"|"created"|"stopped"}; the
 * first three columns (ID, PID, STATUS) are the same in runc's. */
static jv rt_listed = {0};
static int rt_listed_ok;

static jv rt_list(const struct nr_config *c)
{
	char *argv[] = {(char *)c->runtime, "list", NULL};
	kx_buf out = KX_BUF_INIT;
	jv m = jv_object();
	char *save = NULL;

	out.max = 16 << 20;
	if (run(argv, NULL, NULL, &out, NULL, 20000) != 0) {
		kx_buf_free(&out);
		jv_free(m);
		return jv_invalid();
	}
	for (char *line = strtok_r(out.p ? out.p : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char id[300], pid[32], status[32];
		if (sscanf(line, "%299s %31s %31s", id, pid, status) != 3 || !strcmp(id, "ID"))
			continue;
		m = jv_object_set(m, jv_string(id), jv_string(status));
	}
	kx_buf_free(&out);
	return m;
}

static void rt_relist(const struct nr_config *c)
{
	if (rt_listed_ok)
		jv_free(rt_listed);
	rt_listed = rt_list(c);
	rt_listed_ok = jv_is_valid(rt_listed);
}

static jv rt_state_exec(const struct nr_config *c, const char *id);

/* The state of id: from the list when it is running or created (all the
 * pass needs then), else from `runtime state` (exit code, OOM). */
static jv rt_state(const struct nr_config *c, const char *id)
{
	if (rt_listed_ok) {
		jv s = jv_object_get(jv_copy(rt_listed), jv_string(id));
		if (jv_is_valid(s) && (!strcmp(jv_string_value(s), "running") ||
				       !strcmp(jv_string_value(s), "created")))
			return jv_object_set(jv_object(), jv_string("status"), s);
		int absent = !jv_is_valid(s);
		jv_free(s);
		if (absent)
			return jv_invalid();
	}
	return rt_state_exec(c, id);
}

static jv rt_state_exec(const struct nr_config *c, const char *id)
{
	char *argv[] = {(char *)c->runtime, "state", (char *)id, NULL};
	kx_buf out = KX_BUF_INIT, err = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv v = jv_invalid();

	out.max = err.max = 1 << 20;
	if (run(argv, NULL, NULL, &out, &err, 10000) == 0)
		v = kx_json_parse(out.p ? out.p : "", out.len, &e);
	kx_buf_free(&out);
	kx_buf_free(&err);
	return v;
}

static int rt_simple(const struct nr_config *c, const char *verb, const char *id, const char *arg)
{
	char *argv[6];
	int n = 0, r;
	kx_buf err = KX_BUF_INIT;

	err.max = 64 << 10;
	argv[n++] = (char *)c->runtime;
	argv[n++] = (char *)verb;
	if (!strcmp(verb, "delete"))
		argv[n++] = "--force";
	argv[n++] = (char *)id;
	if (arg)
		argv[n++] = (char *)arg;
	argv[n] = NULL;
	r = run(argv, NULL, NULL, NULL, &err, 20000);
	if (r != 0) {
		trim(&err);
		kx_log_debug(1, "%s %s %s: %s", c->runtime, verb, id, kx_buf_str(&err));
	}
	kx_buf_free(&err);
	return r;
}

/* Start the log copier (this program, as "--copy-log FILE") reading the
 * container's stdout and stderr, then `runtime create` with those pipes as
 * the container's stdio, then `runtime start`. */
static int rt_create_start(const struct nr_config *c, const char *id, const char *bundle,
			   const char *logfile, char *msg, size_t msgn)
{
	int op[2], ep[2], st;
	pid_t copier, pid;
	char self[4096];
	ssize_t n;

	msg[0] = 0;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		snprintf(msg, msgn, "cannot find myself: %s", strerror(errno));
		return -1;
	}
	self[n] = 0;
	if (pipe(op) < 0 || pipe(ep) < 0) {
		snprintf(msg, msgn, "pipe: %s", strerror(errno));
		return -1;
	}
	copier = fork();
	if (copier == 0) {
		/* a grandchild, in its own session, outlives kx-node-run */
		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(op[0], 3);
		dup2(ep[0], 4);
		for (int fd = 5; fd < 1024; fd++)
			close(fd);
		char max[32], helper[4200], *slash;
		snprintf(max, sizeof max, "%lld", (long long)c->log_max);
		/* the copier program beside us (see the Makefile), else ourselves */
		snprintf(helper, sizeof helper, "%s", self);
		if ((slash = strrchr(helper, '/'))) {
			snprintf(slash, sizeof helper - (size_t)(slash - helper), "/../libexec/kx/copy-log");
			execl(helper, "copy-log", max, logfile, (char *)NULL);
		}
		execl(self, "kx-node-run", "--log-max-size", max, "--copy-log", logfile, (char *)NULL);
		_exit(127);
	}
	close(op[0]);
	close(ep[0]);
	if (copier > 0)
		waitpid(copier, &st, 0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execlp(c->runtime, c->runtime, "create", "--bundle", bundle, id, (char *)NULL);
		dprintf(2, "cannot run \"%s\": %s\n", c->runtime, strerror(errno));
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	if (pid < 0) {
		snprintf(msg, msgn, "fork: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* the runtime's message went to the container's stderr: its log */
		kx_buf lb = KX_BUF_INIT;
		kx_err le = KX_ERR_INIT;
		const char *why = "";
		usleep(50000);
		if (kx_buf_read_file(&lb, logfile, 1 << 20, &le) == 0 && lb.len) {
			trim(&lb);
			char *nl = strrchr(lb.p, '\n');
			why = nl ? nl + 1 : lb.p;
			const char *f = strstr(why, " F ");
			if (f)
				why = f + 3;
		}
		snprintf(msg, msgn, "%s create failed: %s", c->runtime,
			 *why ? why : "(no message)");
		kx_buf_free(&lb);
		rt_simple(c, "delete", id, NULL);
		return -1;
	}
	if (rt_simple(c, "start", id, NULL) != 0) {
		snprintf(msg, msgn, "%s start failed", c->runtime);
		rt_simple(c, "delete", id, NULL);
		return -1;
	}
	return 0;
}

/* ---- images: pulled by kx-image, read from its store ---------------------- */

static kx_imagestore *images;

static kx_imagestore *image_store(const struct nr_config *c)
{
	char root[4200];
	kx_err e = KX_ERR_INIT;

	if (!images) {
		snprintf(root, sizeof root, "%s/images", c->root);
		images = kx_imagestore_open(root, &e);
		if (!images)
			kx_log_error("image store: %s", e.msg);
	}
	return images;
}

/* Pull per imagePullPolicy; fills msg on failure. */
static int image_pull(const struct nr_config *c, const char *image, const char *policy, char *msg,
		      size_t msgn)
{
	char root[4200];
	char *pull[] = {(char *)c->image_tool, "--root", root, "pull", "-q", (char *)image, NULL};
	kx_buf err = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	kx_imagestore *st = image_store(c);
	int present = 0, r;

	snprintf(root, sizeof root, "%s/images", c->root);
	if (st) {
		jv v = kx_imagestore_resolve(st, image, &e);
		present = jv_is_valid(v);
		jv_free(v);
	}
	if (!strcmp(policy, "Never")) {
		if (!present)
			snprintf(msg, msgn, "Container image \"%s\" is not present with pull policy of Never",
				 image);
		return present ? 0 : -1;
	}
	if (present && strcmp(policy, "Always"))
		return 0;
	err.max = 1 << 20;
	r = run(pull, NULL, NULL, NULL, &err, 300000);
	trim(&err);
	if (r != 0)
		snprintf(msg, msgn, "failed to pull image \"%s\": %s", image,
			 err.len ? kx_buf_str(&err) : "kx-image failed");
	kx_buf_free(&err);
	return r == 0 ? 0 : -1;
}

/* The image's config ({"Entrypoint","Cmd","Env","WorkingDir","User"}) and
 * digest, and its root file system at rootfs: an overlay of the store's
 * unpacked layers with the bundle's own upper directory, or a flat copy
 * when overlayfs is not there. */
static jv image_prepare(const struct nr_config *c, const char *image, const char *rootfs,
			char *digest, size_t dn, char *msg, size_t msgn)
{
	kx_imagestore *st = image_store(c);
	kx_err e = KX_ERR_INIT;
	kx_buf opts = KX_BUF_INIT;
	char upper[4400], work[4400], base[4300];
	jv v, cfg, layers;
	int n, ok = 1;

	if (!st) {
		snprintf(msg, msgn, "no image store");
		return jv_invalid();
	}
	v = kx_imagestore_resolve(st, image, &e);
	if (!jv_is_valid(v)) {
		snprintf(msg, msgn, "%s", e.msg);
		return v;
	}
	nr_str(v, "digest", digest, dn, "");
	cfg = kx_jv_get(jv_copy(v), "config.config");
	if (jv_get_kind(cfg) != JV_KIND_OBJECT) {
		jv_free(cfg);
		cfg = jv_object();
	}
	if (is_mountpoint(rootfs)) {
		jv_free(v);
		return cfg;
	}
	snprintf(base, sizeof base, "%s", rootfs);
	if (strrchr(base, '/'))
		*strrchr(base, '/') = 0;
	snprintf(upper, sizeof upper, "%s/upper", base);
	snprintf(work, sizeof work, "%s/work", base);
	mkdirs(rootfs, 0755);
	mkdirs(upper, 0755);
	mkdirs(work, 0755);
	layers = arr(v, "manifest.layers");
	n = jv_array_length(jv_copy(layers));
	kx_buf_adds(&opts, "lowerdir=");
	for (int i = n - 1; i >= 0 && ok; i--) {
		char d[4400], dg[100];
		jv l = jv_array_get(jv_copy(layers), i);
		nr_str(l, "digest", dg, sizeof dg, "");
		jv_free(l);
		if (kx_imagestore_layer_dir(st, dg, d, sizeof d, &e) < 0)
			ok = 0;
		else
			kx_buf_addf(&opts, "%s%s", i == n - 1 ? "" : ":", d);
	}
	jv_free(layers);
	kx_buf_addf(&opts, ",upperdir=%s,workdir=%s", upper, work);
	if (!ok || n == 0 || opts.len > 4000 ||
	    mount("overlay", rootfs, "overlay", 0, kx_buf_str(&opts)) < 0) {
		kx_err_clear(&e);
		if (kx_imagestore_unpack(st, image, rootfs, &e) < 0) {
			snprintf(msg, msgn, "cannot unpack image \"%s\": %s", image, e.msg);
			jv_free(cfg);
			cfg = jv_invalid();
		}
	}
	kx_buf_free(&opts);
	jv_free(v);
	return cfg;
}

/* ---- the sandbox: network namespace, CNI, resolv.conf, hosts ------------- */

static void netns_name(const char *uid, char *buf, size_t n)
{
	char u[16];
	size_t k = 0;

	if (!strncmp(uid, "static-", 7))
		uid += 7;
	for (const char *s = uid; *s && k < 12; s++)
		if (*s != '-')
			u[k++] = *s;
	u[k] = 0;
	snprintf(buf, n, "kx-%s", u);
}

static jv cni_conf(const struct nr_config *c)
{
	char dir[4200];
	jv ipam = jv_object(), conf = jv_object(), range;

	snprintf(dir, sizeof dir, "%s/cni/networks", c->root);
	range = jv_array_append(jv_array(), jv_array_append(jv_array(),
		jv_object_set(jv_object(), jv_string("subnet"), jv_string(c->pod_cidr))));
	ipam = jv_object_set(ipam, jv_string("type"), jv_string("host-local"));
	ipam = jv_object_set(ipam, jv_string("ranges"), range);
	ipam = jv_object_set(ipam, jv_string("dataDir"), jv_string(dir));
	conf = jv_object_set(conf, jv_string("cniVersion"), jv_string("1.0.0"));
	conf = jv_object_set(conf, jv_string("name"), jv_string("kx"));
	conf = jv_object_set(conf, jv_string("type"), jv_string("bridge"));
	conf = jv_object_set(conf, jv_string("bridge"), jv_string(c->bridge));
	/* the bridge's address is the pods' default route: without one, a pod
	 * cannot answer a client on another pod network (another node's pods,
	 * or this host when it speaks from another bridge's address) nor reach
	 * a cluster IP */
	conf = jv_object_set(conf, jv_string("isGateway"), jv_true());
	conf = jv_object_set(conf, jv_string("isDefaultGateway"), jv_true());
	conf = jv_object_set(conf, jv_string("ipMasq"), jv_false());
	conf = jv_object_set(conf, jv_string("hairpinMode"), jv_true());
	conf = jv_object_set(conf, jv_string("ipam"), ipam);
	return conf;
}

static int cni(const char *cmd, const char *plugin, const char *uid, const char *netns, jv conf,
	       kx_buf *out, char *msg, size_t msgn)
{
	char e1[64], e2[200], e3[300], e4[64], e5[64], path[300];
	char *env[] = {e1, e2, e3, e4, e5, NULL};
	char *argv[] = {path, NULL};
	char *in = kx_json_dump(conf, 0);
	kx_buf err = KX_BUF_INIT;
	int r;

	snprintf(path, sizeof path, "/usr/lib/cni/%s", plugin);
	snprintf(e1, sizeof e1, "CNI_COMMAND=%s", cmd);
	snprintf(e2, sizeof e2, "CNI_CONTAINERID=%s", uid);
	snprintf(e3, sizeof e3, "CNI_NETNS=/run/netns/%s", netns);
	snprintf(e4, sizeof e4, "CNI_IFNAME=%s", strcmp(plugin, "loopback") ? "eth0" : "lo");
	snprintf(e5, sizeof e5, "CNI_PATH=/usr/lib/cni");
	err.max = 1 << 20;
	r = run(argv, env, in, out, &err, 30000);
	free(in);
	if (r != 0) {
		/* a CNI error is JSON on stdout: {"code":N,"msg":"..."} */
		kx_err e = KX_ERR_INIT;
		jv v = out && out->len ? kx_json_parse(out->p, out->len, &e) : jv_invalid();
		char m[400];
		trim(&err);
		snprintf(msg, msgn, "CNI %s %s: %s", plugin, cmd,
			 jv_is_valid(v) ? nr_str(v, "msg", m, sizeof m, "failed") : kx_buf_str(&err));
		jv_free(v);
	}
	kx_buf_free(&err);
	return r == 0 ? 0 : -1;
}

static void forwarding_on(void)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
	char b[4] = {0};

	if (fd < 0)
		return;
	if (read(fd, b, 1) == 1 && b[0] != '1') {
		lseek(fd, 0, SEEK_SET);
		if (write(fd, "1\n", 2) != 2)
			kx_log_error("cannot turn forwarding on: %s", strerror(errno));
	}
	close(fd);
}

#define NETNS_DIR "/run/netns"

/* Make the network namespace NETNS_DIR/name as `ip netns add` does, without
 * running it: a new namespace, bind-mounted there so that it lives on with
 * no process in it. This thread enters it for a moment and comes back. */
static int netns_add(const char *name, char *msg, size_t msgn)
{
	char path[300];
	int self, fd, r = -1, err = 0;

	snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		goto out_errno;
	/* as ip does: the directory a shared mount point, so that a namespace
	 * mounted (or unmounted) here is seen from mount namespaces copied
	 * from this one */
	if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL ||
		    mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
			goto out_errno;
	}
	if ((fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)) < 0)
		goto out_errno;
	close(fd);
	if ((self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		goto out_unlink;
	}
	if (unshare(CLONE_NEWNET) == 0) {
		r = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL);
		err = errno;
		if (setns(self, CLONE_NEWNET) < 0)
			kx_log_error("cannot come back to the node's network namespace: %s", strerror(errno));
	} else
		err = errno;
	close(self);
	if (r == 0)
		return 0;
out_unlink:
	snprintf(msg, msgn, "cannot create network namespace \"%s\": %s", name, strerror(err));
	unlink(path);
	return -1;
out_errno:
	snprintf(msg, msgn, "cannot create network namespace \"%s\": %s", name, strerror(errno));
	return -1;
}

/* Remove what netns_add made (ip netns del). */
static void netns_del(const char *name)
{
	char path[300];

	snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

static int sandbox_up(const struct nr_config *c, const char *dir, const char *uid, char *ip,
		      size_t ipn, char *msg, size_t msgn)
{
	char ns[64], path[4200];
	kx_buf out = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv sb, res;

	snprintf(path, sizeof path, "%s/sandbox.json", dir);
	sb = read_json_file(path);
	if (jv_is_valid(sb) && nr_str(sb, "ip", ip, ipn, "")[0]) {
		char nsp[300];
		nr_str(sb, "netns", ns, sizeof ns, "");
		snprintf(nsp, sizeof nsp, "/run/netns/%s", ns);
		jv_free(sb);
		if (access(nsp, F_OK) == 0)
			return 0;
	} else
		jv_free(sb);
	if (!c->pod_cidr[0]) {
		snprintf(msg, msgn, "no pod CIDR: give --pod-cidr or set the Node's spec.podCIDR");
		return -1;
	}
	netns_name(uid, ns, sizeof ns);
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	if (access(path, F_OK) != 0 && netns_add(ns, msg, msgn) < 0)
		return -1;
	forwarding_on();
	out.max = 1 << 20;
	if (cni("ADD", "loopback", uid, ns,
		jv_object_set(jv_object_set(jv_object_set(jv_object(), jv_string("cniVersion"),
							  jv_string("1.0.0")),
					    jv_string("name"), jv_string("lo")),
			      jv_string("type"), jv_string("loopback")),
		NULL, msg, msgn) < 0)
		return -1;
	if (cni("ADD", "bridge", uid, ns, cni_conf(c), &out, msg, msgn) < 0) {
		char undo[256];
		kx_buf_free(&out);
		/* as the CNI spec asks, undo a failed ADD (it may have taken an
		 * address), so that the next try does not find it taken */
		cni("DEL", "bridge", uid, ns, cni_conf(c), NULL, undo, sizeof undo);
		return -1;
	}
	res = kx_json_parse(out.p ? out.p : "", out.len, &e);
	kx_buf_free(&out);
	nr_str(res, "ips.0.address", ip, ipn, "");
	jv_free(res);
	ip[strcspn(ip, "/")] = 0;
	if (!ip[0]) {
		snprintf(msg, msgn, "CNI bridge gave no address");
		return -1;
	}
	sb = jv_object_set(jv_object_set(jv_object(), jv_string("netns"), jv_string(ns)),
			   jv_string("ip"), jv_string(ip));
	snprintf(path, sizeof path, "%s/sandbox.json", dir);
	write_json_file(path, sb);
	return 0;
}

static void sandbox_down(const struct nr_config *c, const char *dir, const char *uid)
{
	char ns[64], path[4200], msg[512];
	jv sb;

	snprintf(path, sizeof path, "%s/sandbox.json", dir);
	sb = read_json_file(path);
	if (!jv_is_valid(sb)) {
		jv_free(sb);
		return;
	}
	nr_str(sb, "netns", ns, sizeof ns, "");
	jv_free(sb);
	if (!ns[0])
		return;
	if (c->pod_cidr[0])
		cni("DEL", "bridge", uid, ns, cni_conf(c), NULL, msg, sizeof msg);
	netns_del(ns);
	unlink(path);
}

static void write_etc(const struct nr_config *c, jv pod, const char *dir, const char *ip,
		      const char *hostname)
{
	char path[4200], ns[256], sub[256];
	kx_buf b = KX_BUF_INIT;
	jv aliases;
	int host_net = kx_jv_bool(pod, "spec.hostNetwork", 0);
	char policy[64];

	snprintf(path, sizeof path, "%s/etc", dir);
	mkdirs(path, 0755);
	nr_str(pod, "metadata.namespace", ns, sizeof ns, "default");
	nr_str(pod, "spec.subdomain", sub, sizeof sub, "");
	nr_str(pod, "spec.dnsPolicy", policy, sizeof policy, "ClusterFirst");
	/* resolv.conf: the cluster's DNS with Kubernetes' search path */
	if (c->cluster_dns[0] && ((!strcmp(policy, "ClusterFirst") && !host_net) ||
				  !strcmp(policy, "ClusterFirstWithHostNet"))) {
		kx_buf_addf(&b, "search %s.svc.%s svc.%s %s\nnameserver %s\noptions ndots:5\n", ns,
			    c->cluster_domain, c->cluster_domain, c->cluster_domain, c->cluster_dns);
	} else {
		kx_err e = KX_ERR_INIT;
		if (kx_buf_read_file(&b, "/etc/resolv.conf", 64 << 10, &e) < 0)
			kx_buf_adds(&b, "");
	}
	snprintf(path, sizeof path, "%s/etc/resolv.conf", dir);
	update_file(path, kx_buf_str(&b), b.len, 0644);
	kx_buf_reset(&b);
	/* hosts, as the kubelet writes it */
	kx_buf_adds(&b, "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
			"::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
			"fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n");
	if (sub[0])
		kx_buf_addf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, hostname, sub, ns, c->cluster_domain,
			    hostname);
	else
		kx_buf_addf(&b, "%s\t%s\n", ip, hostname);
	aliases = kx_jv_get(jv_copy(pod), "spec.hostAliases");
	if (jv_get_kind(aliases) == JV_KIND_ARRAY) {
		kx_buf_adds(&b, "\n# Entries added by HostAliases.\n");
		jv_array_foreach(aliases, i, a)
		{
			char aip[64];
			jv names = kx_jv_get(jv_copy(a), "hostnames");
			kx_buf_adds(&b, nr_str(a, "ip", aip, sizeof aip, ""));
			if (jv_get_kind(names) == JV_KIND_ARRAY) {
				jv_array_foreach(names, j, hn)
				{
					if (jv_get_kind(hn) == JV_KIND_STRING)
						kx_buf_addf(&b, "\t%s", jv_string_value(hn));
					jv_free(hn);
				}
			}
			jv_free(names);
			kx_buf_addc(&b, '\n');
			jv_free(a);
		}
	}
	jv_free(aliases);
	snprintf(path, sizeof path, "%s/etc/hosts", dir);
	if (!host_net)
		update_file(path, kx_buf_str(&b), b.len, 0644);
	kx_buf_reset(&b);
	kx_buf_addf(&b, "%s\n", hostname);
	snprintf(path, sizeof path, "%s/etc/hostname", dir);
	update_file(path, kx_buf_str(&b), b.len, 0644);
	kx_buf_free(&b);
}

/* ---- volumes ---------------------------------------------------------------- */

static int mount_tmpfs(const char *path)
{
	if (is_mountpoint(path))
		return 0;
	return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
}

/* Write one key's value (decoded when b64) as a file under dir. */
static int put_key(const char *dir, const char *rel, const char *val, int b64, int mode)
{
	char path[4200], *slash;
	size_t n = strlen(val);
	char *plain = NULL;
	int r;

	if (rel[0] == '/' || strstr(rel, ".."))
		return -1;
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if ((slash = strrchr(path, '/')) && slash > path + strlen(dir)) {
		*slash = 0;
		mkdirs(path, 0755);
		*slash = '/';
	}
	if (b64) {
		plain = nr_base64_decode(val, &n);
		if (!plain)
			return -1;
		val = plain;
	}
	r = update_file(path, val, n, (mode_t)mode);
	free(plain);
	return r;
}

/* A configMap or secret source into dir: all keys, or the items. */
static int put_object(const char *dir, jv src, jv obj, int secret, int def_mode, char *msg,
		      size_t msgn)
{
	jv items = kx_jv_get(jv_copy(src), "items");
	jv data = kx_jv_get(jv_copy(obj), "data");
	jv bin = kx_jv_get(jv_copy(obj), "binaryData");
	int mode = (int)kx_jv_int(src, "defaultMode", def_mode), r = 0;

	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv_array_foreach(items, i, it)
		{
			char key[256], p[1024];
			jv v = jv_invalid();
			int b64 = secret;
			nr_str(it, "key", key, sizeof key, "");
			nr_str(it, "path", p, sizeof p, key);
			if (jv_get_kind(data) == JV_KIND_OBJECT)
				v = jv_object_get(jv_copy(data), jv_string(key));
			if ((!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_STRING) &&
			    jv_get_kind(bin) == JV_KIND_OBJECT) {
				jv_free(v);
				v = jv_object_get(jv_copy(bin), jv_string(key));
				b64 = 1;
			}
			if (jv_is_valid(v) && jv_get_kind(v) == JV_KIND_STRING)
				r |= put_key(dir, p, jv_string_value(v), b64,
					     (int)kx_jv_int(it, "mode", mode));
			else if (!msg[0]) {
				snprintf(msg, msgn, "key \"%s\" not found", key);
				r = -1;
			}
			jv_free(v);
			jv_free(it);
		}
	} else {
		if (jv_get_kind(data) == JV_KIND_OBJECT) {
			jv_object_foreach(data, k, v)
			{
				if (jv_get_kind(v) == JV_KIND_STRING)
					r |= put_key(dir, jv_string_value(k), jv_string_value(v), secret, mode);
				jv_free(k);
				jv_free(v);
			}
		}
		if (jv_get_kind(bin) == JV_KIND_OBJECT) {
			jv_object_foreach(bin, k, v)
			{
				if (jv_get_kind(v) == JV_KIND_STRING)
					r |= put_key(dir, jv_string_value(k), jv_string_value(v), 1, mode);
				jv_free(k);
				jv_free(v);
			}
		}
	}
	jv_free(items);
	jv_free(data);
	jv_free(bin);
	return r;
}

static char *downward_value(jv pod, jv item, const struct nr_pod_facts *f)
{
	char path[256];
	kx_buf b = KX_BUF_INIT;

	nr_str(item, "fieldRef.fieldPath", path, sizeof path, "");
	if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations")) {
		jv m = kx_jv_get(jv_copy(pod), path);
		if (jv_get_kind(m) == JV_KIND_OBJECT) {
			jv keys = jv_keys(jv_copy(m));
			jv_array_foreach(keys, i, k)
			{
				jv v = jv_object_get(jv_copy(m), jv_copy(k));
				char *q = kx_json_dump(v, 0);
				kx_buf_addf(&b, "%s=%s\n", jv_string_value(k), q);
				free(q);
				jv_free(k);
			}
			jv_free(keys);
		}
		jv_free(m);
		return kx_buf_steal(&b);
	}
	if (path[0]) {
		jv env = nr_env(jv_copy(pod),
				jv_object_set(jv_object(), jv_string("env"),
					      jv_array_append(jv_array(),
							      jv_object_set(jv_object_set(jv_object(), jv_string("name"), jv_string("X")),
									    jv_string("valueFrom"),
									    jv_object_set(jv_object(), jv_string("fieldRef"),
											  kx_jv_get(jv_copy(item), "fieldRef"))))),
				jv_null(), jv_object(), f, path, sizeof path);
		char v[4096];
		nr_str(env, "X", v, sizeof v, "");
		jv_free(env);
		kx_buf_adds(&b, v);
	}
	return kx_buf_steal(&b);
}

static int put_downward(const char *dir, jv pod, jv items, int def_mode,
			const struct nr_pod_facts *f)
{
	int r = 0;

	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv_array_foreach(items, i, it)
		{
			char p[1024];
			char *v = downward_value(pod, it, f);
			nr_str(it, "path", p, sizeof p, "");
			if (p[0] && p[0] != '/' && !strstr(p, ".."))
				r |= put_key(dir, p, v, 0, (int)kx_jv_int(it, "mode", def_mode));
			free(v);
			jv_free(it);
		}
	}
	jv_free(items);
	return r;
}

/* Prepare every volume of the pod; returns {name: host path} or invalid with
 * msg (a missing configMap or secret). */
static jv volumes_up(const struct nr_config *c, jv pod, const char *dir, jv objs,
		     const struct nr_pod_facts *f, char *msg, size_t msgn)
{
	jv vols = kx_jv_get(jv_copy(pod), "spec.volumes"), out = jv_object();
	int bad = 0;

	msg[0] = 0;
	if (jv_get_kind(vols) != JV_KIND_ARRAY) {
		jv_free(vols);
		return out;
	}
	jv_array_foreach(vols, i, v)
	{
		char name[256], path[4200], src[4096], medium[32], type[64];
		jv x;
		nr_str(v, "name", name, sizeof name, "");
		snprintf(path, sizeof path, "%s/volumes/%s", dir, name);
		if (!name[0] || strchr(name, '/')) {
			jv_free(v);
			continue;
		}
		if (jv_get_kind(x = kx_jv_get(jv_copy(v), "hostPath")) == JV_KIND_OBJECT) {
			nr_str(x, "path", src, sizeof src, "");
			nr_str(x, "type", type, sizeof type, "");
			if (!strcmp(type, "DirectoryOrCreate"))
				mkdirs(src, 0755);
			else if (!strcmp(type, "FileOrCreate") && access(src, F_OK) != 0)
				close(open(src, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
			if (type[0] && strcmp(type, "DirectoryOrCreate") && strcmp(type, "FileOrCreate") &&
			    access(src, F_OK) != 0 && !bad) {
				snprintf(msg, msgn, "hostPath type check failed: %s is not a %s", src, type);
				bad = 1;
			}
			out = jv_object_set(out, jv_string(name), jv_string(src));
		} else if (jv_free(x), jv_get_kind(x = kx_jv_get(jv_copy(v), "emptyDir")) ==
					       JV_KIND_OBJECT) {
			mkdirs(path, 0777);
			nr_str(x, "medium", medium, sizeof medium, "");
			if (!strcmp(medium, "Memory") && mount_tmpfs(path) < 0 && !bad) {
				snprintf(msg, msgn, "cannot mount tmpfs on \"%s\": %s", path, strerror(errno));
				bad = 1;
			}
			chmod(path, 0777);
			out = jv_object_set(out, jv_string(name), jv_string(path));
		} else if (jv_free(x), (jv_get_kind(x = kx_jv_get(jv_copy(v), "configMap")) == JV_KIND_OBJECT ||
					(jv_free(x), jv_get_kind(x = kx_jv_get(jv_copy(v), "secret")) ==
							     JV_KIND_OBJECT))) {
			int secret = pod_kind_at(v, "secret") == JV_KIND_OBJECT;
			char oname[256];
			jv obj;
			nr_str(x, secret ? "secretName" : "name", oname, sizeof oname, "");
			obj = obj_get(objs, secret ? "secrets" : "configmaps", oname);
			mkdirs(path, 0755);
			if (secret && mount_tmpfs(path) < 0 && !bad) {
				snprintf(msg, msgn, "cannot mount tmpfs on \"%s\": %s", path, strerror(errno));
				bad = 1;
			}
			if (jv_get_kind(obj) == JV_KIND_OBJECT) {
				char m2[256] = "";
				if (put_object(path, x, obj, secret, secret ? 0644 : 0644, m2, sizeof m2) < 0 &&
				    !kx_jv_bool(x, "optional", 0) && !bad) {
					snprintf(msg, msgn, "%s \"%s\": %s", secret ? "secret" : "configmap",
						 oname, m2);
					bad = 1;
				}
			} else if (!kx_jv_bool(x, "optional", 0) && !bad) {
				snprintf(msg, msgn, "%s \"%s\" not found", secret ? "secret" : "configmap",
					 oname);
				bad = 1;
			}
			jv_free(obj);
			out = jv_object_set(out, jv_string(name), jv_string(path));
		} else if (jv_free(x), jv_get_kind(x = kx_jv_get(jv_copy(v), "downwardAPI")) ==
					       JV_KIND_OBJECT) {
			mkdirs(path, 0755);
			put_downward(path, pod, kx_jv_get(jv_copy(x), "items"),
				     (int)kx_jv_int(x, "defaultMode", 0644), f);
			out = jv_object_set(out, jv_string(name), jv_string(path));
		} else if (jv_free(x), jv_get_kind(x = kx_jv_get(jv_copy(v), "projected")) ==
					       JV_KIND_OBJECT) {
			jv srcs = kx_jv_get(jv_copy(x), "sources");
			int mode = (int)kx_jv_int(x, "defaultMode", 0644);
			mkdirs(path, 0755);
			if (jv_get_kind(srcs) == JV_KIND_ARRAY) {
				jv_array_foreach(srcs, j, s)
				{
					jv y;
					char oname[256], m2[256] = "";
					if (jv_get_kind(y = kx_jv_get(jv_copy(s), "configMap")) == JV_KIND_OBJECT ||
					    (jv_free(y), jv_get_kind(y = kx_jv_get(jv_copy(s), "secret")) ==
								 JV_KIND_OBJECT)) {
						jv sk = kx_jv_get(jv_copy(s), "secret");
						int secret = jv_get_kind(sk) == JV_KIND_OBJECT;
						jv_free(sk);
						nr_str(y, "name", oname, sizeof oname, "");
						jv obj = obj_get(objs, secret ? "secrets" : "configmaps", oname);
						if (jv_get_kind(obj) == JV_KIND_OBJECT)
							put_object(path, y, obj, secret, mode, m2, sizeof m2);
						else if (!kx_jv_bool(y, "optional", 0) && !bad) {
							snprintf(msg, msgn, "%s \"%s\" not found",
								 secret ? "secret" : "configmap", oname);
							bad = 1;
						}
						jv_free(obj);
					} else if (jv_free(y), jv_get_kind(y = kx_jv_get(jv_copy(s), "downwardAPI")) ==
								       JV_KIND_OBJECT) {
						put_downward(path, pod, kx_jv_get(jv_copy(y), "items"), mode, f);
					} else if (jv_free(y), jv_get_kind(y = kx_jv_get(jv_copy(s), "serviceAccountToken")) ==
								       JV_KIND_OBJECT) {
						char tp[256];
						/* the store issues no tokens: an empty one */
						put_key(path, nr_str(y, "path", tp, sizeof tp, "token"), "", 0, mode);
					}
					jv_free(y);
					jv_free(s);
				}
			}
			jv_free(srcs);
			out = jv_object_set(out, jv_string(name), jv_string(path));
		} else {
			if (!bad) {
				snprintf(msg, msgn, "volume \"%s\": this kind of volume is not supported",
					 name);
				bad = 1;
			}
		}
		jv_free(x);
		jv_free(v);
	}
	jv_free(vols);
	if (bad) {
		jv_free(out);
		return jv_invalid();
	}
	return out;
}

static void volumes_down(const char *dir)
{
	char path[4200];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof path, "%s/volumes", dir);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		char p[4400];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		umount2(p, MNT_DETACH);
	}
	closedir(d);
}

/* ---- cgroups of a pod --------------------------------------------------- */

static void pod_cgroup(jv pod, const char *uid, char *buf, size_t n)
{
	const char *qos = nr_qos_class(pod);

	if (!strcmp(qos, "Guaranteed"))
		snprintf(buf, n, "/kubepods/pod%s", uid);
	else
		snprintf(buf, n, "/kubepods/%s/pod%s", !strcmp(qos, "Burstable") ? "burstable" : "besteffort",
			 uid);
}

/* The pod's cgroup, with the sums of its containers' limits where every
 * container has one, as the kubelet's pod-level cgroups by QoS class. */
static void pod_cgroup_create(jv pod, const char *cg)
{
	struct kx_cgroup_limits lim = KX_CGROUP_LIMITS_INIT;
	jv cs = arr(pod, "spec.containers");
	int64_t mem = 0, cpu = 0, req = 0;
	int all_mem = 1, all_cpu = 1;
	kx_err e = KX_ERR_INIT;

	if (kx_cgroup_exists(cg))
		goto out;
	jv_array_foreach(cs, i, c)
	{
		int64_t m = nr_quantity_milli(kx_jv_get(jv_copy(c), "resources.limits.memory"));
		int64_t l = nr_quantity_milli(kx_jv_get(jv_copy(c), "resources.limits.cpu"));
		int64_t r = nr_quantity_milli(kx_jv_get(jv_copy(c), "resources.requests.cpu"));
		if (m > 0)
			mem += m / 1000;
		else
			all_mem = 0;
		if (l > 0)
			cpu += l;
		else
			all_cpu = 0;
		req += r > 0 ? r : (l > 0 ? l : 0);
		jv_free(c);
	}
	if (all_mem && mem > 0)
		lim.memory = mem;
	if (all_cpu && cpu > 0) {
		lim.cpu_period = 100000;
		lim.cpu_quota = cpu * 100000 / 1000;
	}
	lim.cpu_shares = (uint64_t)(req * 1024 / 1000 < 2 ? 2 : req * 1024 / 1000);
	if (kx_cgroup_create(cg, &lim, &e) < 0)
		kx_log_debug(1, "pod cgroup \"%s\": %s", cg, e.msg);
out:
	jv_free(cs);
}

/* Remove the pod's cgroup (its containers' are gone) in every hierarchy. */
static void pod_cgroup_remove(const char *cg)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;
	char p[4200];

	snprintf(p, sizeof p, "/sys/fs/cgroup%s", cg);
	rmdir(p);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "/sys/fs/cgroup/%s%s", de->d_name, cg);
		rmdir(p);
	}
	closedir(d);
}

/* ---- one container ------------------------------------------------------ */

/* A container's record: containers/NAME.json. */
struct ctr {
	char name[256];
	char id[300];
	int attempt;           /* how many times it was created */
	int restarts;          /* restartCount */
	int64_t started;       /* when the current one started */
	int64_t finished;
	int64_t backoff_until;
	int64_t kill_at;       /* SIGKILL after this (graceful stop in progress) */
	int exit_code;
	int done;              /* terminated and not to be restarted */
	char reason[64];       /* of the last termination */
	char message[512];
	char waiting[64];      /* waiting reason, when not running */
	char wmsg[512];
	char image_id[300];
	char hook_msg[1024];   /* why its postStart hook failed, for its termination */
	jv last;               /* lastState.terminated, or null */
};

static void ctr_path(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/containers/%s.json", dir, name);
}

static void ctr_load(struct ctr *k, const char *dir, const char *name)
{
	char path[4200];
	jv v;

	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	k->last = jv_null();
	k->exit_code = -1;
	ctr_path(path, sizeof path, dir, name);
	v = read_json_file(path);
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return;
	}
	nr_str(v, "id", k->id, sizeof k->id, "");
	k->attempt = (int)kx_jv_int(v, "attempt", 0);
	k->restarts = (int)kx_jv_int(v, "restartCount", 0);
	k->started = kx_jv_int(v, "started", 0);
	k->finished = kx_jv_int(v, "finished", 0);
	k->backoff_until = kx_jv_int(v, "backoffUntil", 0);
	k->kill_at = kx_jv_int(v, "killAt", 0);
	k->exit_code = (int)kx_jv_int(v, "exitCode", -1);
	k->done = kx_jv_bool(v, "done", 0);
	nr_str(v, "reason", k->reason, sizeof k->reason, "");
	nr_str(v, "message", k->message, sizeof k->message, "");
	nr_str(v, "waiting", k->waiting, sizeof k->waiting, "");
	nr_str(v, "waitingMessage", k->wmsg, sizeof k->wmsg, "");
	nr_str(v, "imageID", k->image_id, sizeof k->image_id, "");
	nr_str(v, "hookMessage", k->hook_msg, sizeof k->hook_msg, "");
	jv_free(k->last);
	k->last = kx_jv_get(v, "last");
}

static void ctr_save(const struct ctr *k, const char *dir)
{
	char path[4200];
	jv v = jv_object();

	snprintf(path, sizeof path, "%s/containers", dir);
	mkdirs(path, 0755);
	ctr_path(path, sizeof path, dir, k->name);
	v = jv_object_set(v, jv_string("id"), jv_string(k->id));
	v = jv_object_set(v, jv_string("attempt"), jv_number(k->attempt));
	v = jv_object_set(v, jv_string("restartCount"), jv_number(k->restarts));
	v = jv_object_set(v, jv_string("started"), jv_number((double)k->started));
	v = jv_object_set(v, jv_string("finished"), jv_number((double)k->finished));
	v = jv_object_set(v, jv_string("backoffUntil"), jv_number((double)k->backoff_until));
	v = jv_object_set(v, jv_string("killAt"), jv_number((double)k->kill_at));
	v = jv_object_set(v, jv_string("exitCode"), jv_number(k->exit_code));
	v = jv_object_set(v, jv_string("done"), jv_bool(k->done));
	v = jv_object_set(v, jv_string("reason"), jv_string(k->reason));
	v = jv_object_set(v, jv_string("message"), jv_string(k->message));
	v = jv_object_set(v, jv_string("waiting"), jv_string(k->waiting));
	v = jv_object_set(v, jv_string("waitingMessage"), jv_string(k->wmsg));
	v = jv_object_set(v, jv_string("imageID"), jv_string(k->image_id));
	v = jv_object_set(v, jv_string("hookMessage"), jv_string(k->hook_msg));
	v = jv_object_set(v, jv_string("last"), jv_copy(k->last));
	{
		/* written only when it changed: most passes change nothing */
		char *text = kx_json_dump(v, 0);
		update_file(path, text, strlen(text), 0644);
		free(text);
	}
}

static jv tstamp(int64_t t)
{
	char b[40];
	return jv_string(kx_time_format((time_t)t, b, sizeof b));
}

/* The back-off before restart number restarts+1: none for the first, then
 * 10 s doubling to 5 min; none again once a run lasted 10 minutes. */
int64_t nr_backoff(int restarts, int64_t ran)
{
	int64_t d = BACKOFF_START;

	if (restarts <= 0 || ran >= BACKOFF_RESET)
		return 0;
	for (int i = 1; i < restarts && d < BACKOFF_MAX; i++)
		d *= 2;
	return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

/* Should a container that ended with code restart under policy? */
int nr_should_restart(const char *policy, int code)
{
	if (!strcmp(policy, "Never"))
		return 0;
	if (!strcmp(policy, "OnFailure"))
		return code != 0;
	return 1;
}

/* ---- the pass ---------------------------------------------------------------- */

/* The earliest back-off expiry seen in the last pass (seconds), so that the
 * loop comes back for it; 0 when none. */
static int64_t next_due;

static void due_at(int64_t t)
{
	if (t > 0 && (!next_due || t < next_due))
		next_due = t;
}

int64_t nr_pods_next_due(void)
{
	return next_due;
}

struct pass {
	kx_client *cl;     /* NULL with -f */
	struct nr_config *c;
	jv objs;           /* {"configmaps":{},"secrets":{}} for the pod at hand */
	int64_t now;
	jv file_objs;      /* with -f: every object of the file */
	jv cache;          /* "configmaps/NS/NAME" -> object or null, for this pass */
};

static void fetch_refs(struct pass *ps, jv pod)
{
	char ns[256];
	jv specs[3];
	int n = 0;

	nr_str(pod, "metadata.namespace", ns, sizeof ns, "default");
	jv_free(ps->objs);
	ps->objs = jv_object_set(jv_object_set(jv_object(), jv_string("configmaps"), jv_object()),
				 jv_string("secrets"), jv_object());
	/* every name referenced anywhere, found by walking the pod spec as text
	 * would be fragile: walk the known places instead */
	specs[n++] = kx_jv_get(jv_copy(pod), "spec.volumes");
	specs[n++] = kx_jv_get(jv_copy(pod), "spec.containers");
	specs[n++] = kx_jv_get(jv_copy(pod), "spec.initContainers");
	for (int s = 0; s < n; s++) {
		char *text = kx_json_dump(jv_copy(specs[s]), 0);
		/* find "configMap"/"configMapRef"/"configMapKeyRef" and secret refs */
		static const char *const keys[][2] = {
			{"configMap", "name"}, {"configMapRef", "name"}, {"configMapKeyRef", "name"},
			{"secret", "secretName"}, {"secret", "name"}, {"secretRef", "name"},
			{"secretKeyRef", "name"},
		};
		jv_free(specs[s]);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			char pat[64];
			const char *p = text;
			snprintf(pat, sizeof pat, "\"%s\":{", keys[k][0]);
			while ((p = strstr(p, pat))) {
				char field[64], *q, name[256];
				const char *end = strchr(p, '}');
				snprintf(field, sizeof field, "\"%s\":\"", keys[k][1]);
				q = strstr(p, field);
				p += strlen(pat);
				if (!q || !end || q > end)
					continue;
				q += strlen(field);
				size_t l = strcspn(q, "\"");
				if (l == 0 || l >= sizeof name)
					continue;
				memcpy(name, q, l);
				name[l] = 0;
				int secret = keys[k][0][0] == 's';
				const char *coll = secret ? "secrets" : "configmaps";
				jv have = jv_object_get(kx_jv_get(jv_copy(ps->objs), coll), jv_string(name));
				int got = jv_is_valid(have);
				jv_free(have);
				if (got)
					continue;
				char path[700], ck[800];
				kx_err e = KX_ERR_INIT;
				jv o = jv_invalid();
				snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s/%s", ns, coll, name);
				snprintf(ck, sizeof ck, "%s/%s/%s", coll, ns, name);
				jv cached = jv_object_get(jv_copy(ps->cache), jv_string(ck));
				if (jv_is_valid(cached)) {
					if (jv_get_kind(cached) == JV_KIND_OBJECT) {
						jv m = kx_jv_get(jv_copy(ps->objs), coll);
						m = jv_object_set(m, jv_string(name), cached);
						ps->objs = jv_object_set(ps->objs, jv_string(coll), m);
					} else
						jv_free(cached);
					continue;
				}
				jv_free(cached);
				if (ps->cl)
					o = kx_client_get(ps->cl, path, &e);
				else if (jv_get_kind(ps->file_objs) == JV_KIND_ARRAY) {
					jv_array_foreach(ps->file_objs, fi, fo)
					{
						char fk[64], fn[256], fns[256];
						nr_str(fo, "kind", fk, sizeof fk, "");
						nr_str(fo, "metadata.name", fn, sizeof fn, "");
						nr_str(fo, "metadata.namespace", fns, sizeof fns, "default");
						if (!jv_is_valid(o) && !strcmp(fn, name) && !strcmp(fns, ns) &&
						    !strcmp(fk, secret ? "Secret" : "ConfigMap"))
							o = jv_copy(fo);
						jv_free(fo);
					}
				}
				ps->cache = jv_object_set(ps->cache, jv_string(ck),
							  jv_is_valid(o) ? jv_copy(o) : jv_null());
				if (jv_is_valid(o)) {
					jv m = kx_jv_get(jv_copy(ps->objs), coll);
					m = jv_object_set(m, jv_string(name), o);
					ps->objs = jv_object_set(ps->objs, jv_string(coll), m);
				} else
					jv_free(o);
			}
		}
		free(text);
	}
}

static int ctr_running(jv st)
{
	char s[32];
	return jv_is_valid(st) && !strcmp(nr_str(st, "status", s, sizeof s, ""), "running");
}

static int ctr_exists(jv st)
{
	return jv_is_valid(st) && jv_get_kind(st) == JV_KIND_OBJECT;
}

/* Record a finished container from the runtime's state. */
static void ctr_finished(struct ctr *k, jv st, int64_t now, int killed_by_probe)
{
	char fin[40];
	time_t t = 0;

	k->exit_code = (int)kx_jv_int(st, "exitCode", 137);
	if (kx_time_parse(nr_str(st, "finishedAt", fin, sizeof fin, ""), &t) == 0 && t)
		k->finished = (int64_t)t;
	else
		k->finished = now;
	if (kx_jv_bool(st, "oomKilled", 0))
		snprintf(k->reason, sizeof k->reason, "OOMKilled");
	else
		snprintf(k->reason, sizeof k->reason, "%s", k->exit_code == 0 ? "Completed" : "Error");
	/* killed because its postStart hook failed: say so, as the kubelet's
	 * PostStartHookError */
	snprintf(k->message, sizeof k->message, "%s", k->hook_msg);
	k->hook_msg[0] = 0;
	(void)killed_by_probe;
}

static jv terminated_json(const struct ctr *k)
{
	jv t = jv_object();
	t = jv_object_set(t, jv_string("exitCode"), jv_number(k->exit_code));
	t = jv_object_set(t, jv_string("reason"), jv_string(k->reason));
	if (k->message[0])
		t = jv_object_set(t, jv_string("message"), jv_string(k->message));
	t = jv_object_set(t, jv_string("startedAt"), tstamp(k->started));
	t = jv_object_set(t, jv_string("finishedAt"), tstamp(k->finished));
	{
		char cid[400];
		snprintf(cid, sizeof cid, "kx-container://%s", k->id);
		t = jv_object_set(t, jv_string("containerID"), jv_string(cid));
	}
	return t;
}

struct podctx {
	struct pass *ps;
	jv pod;
	char uid[128], ns[256], name[256], dir[4096], ip[64], cgroup[512];
	const char *policy;
	char policy_buf[32];
	jv volumes;  /* {name: path} or invalid */
	char vol_msg[512];
	int deleting;
};

static void log_path(const struct podctx *p, const char *cname, int restarts, char *buf,
		     size_t n)
{
	snprintf(buf, n, "%s/%s_%s_%s/%s/%d.log", p->ps->c->log_dir, p->ns, p->name, p->uid, cname,
		 restarts);
}

static void event(struct podctx *p, const char *type, const char *reason, const char *cname,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int ctr_hook(struct podctx *p, jv ctr, const struct ctr *k, const char *which,
		    int timeout_s, char *why, size_t whyn);
static void ctr_stop(struct podctx *p, jv ctr, struct ctr *k, int grace);

static int grace_of(const struct podctx *p)
{
	return (int)kx_jv_int(p->pod, "spec.terminationGracePeriodSeconds", 30);
}

/* Create and start a new instance of container ctr (a spec object), and run
 * its postStart hook. On failure k->waiting says why. */
static int ctr_start(struct podctx *p, jv ctr, struct ctr *k)
{
	struct nr_config *c = p->ps->c;
	char image[1024], policy[32], bundle[4200], rootfs[4300], digest[300] = "", msg[1024];
	char cfgpath[4400], logf[4400], hostname[256], resolv[4200], hosts[4200], hostf[4200],
		cg[800], netns[300], envmsg[512], ns[64], term[4200];
	struct nr_pod_facts f = {c->node, p->ip, c->node_ip, 1, 1ll << 30};
	struct nr_bundle_ctx b = {0};
	jv img, env, spec;
	int r;

	nr_str(ctr, "image", image, sizeof image, "");
	nr_str(ctr, "imagePullPolicy", policy, sizeof policy, "");
	if (!policy[0]) {
		const char *colon = strrchr(image, ':');
		int latest = !colon || strchr(colon, '/') || !strcmp(colon, ":latest");
		snprintf(policy, sizeof policy, "%s", latest && !strchr(image, '@') ? "Always" : "IfNotPresent");
	}
	if (!jv_is_valid(p->volumes)) {
		snprintf(k->waiting, sizeof k->waiting, "CreateContainerConfigError");
		snprintf(k->wmsg, sizeof k->wmsg, "%s", p->vol_msg);
		return -1;
	}
	if (k->backoff_until > p->ps->now && !strcmp(k->waiting, "ImagePullBackOff")) {
		due_at(k->backoff_until);
		return -1;
	}
	if (image_pull(c, image, policy, msg, sizeof msg) < 0) {
		/* ErrImagePull first, then ImagePullBackOff while waiting */
		int again = !strcmp(k->waiting, "ErrImagePull") || !strcmp(k->waiting, "ImagePullBackOff");
		snprintf(k->waiting, sizeof k->waiting, "%s", again ? "ImagePullBackOff" : "ErrImagePull");
		snprintf(k->wmsg, sizeof k->wmsg, "%s", msg);
		k->backoff_until = p->ps->now + (again ? 20 : 5);
		if (!strcmp(policy, "Never"))
			snprintf(k->waiting, sizeof k->waiting, "ErrImageNeverPull");
		return -1;
	}
	k->attempt++;
	{
		char ns_name[64];
		netns_name(p->uid, ns_name, sizeof ns_name); /* kx-<12 chars of the uid> */
		snprintf(k->id, sizeof k->id, "%s-%s-%d", ns_name + 3, k->name, k->attempt);
	}
	snprintf(bundle, sizeof bundle, "%s/bundles/%s", p->dir, k->id);
	snprintf(rootfs, sizeof rootfs, "%s/rootfs", bundle);
	mkdirs(bundle, 0755);
	img = image_prepare(c, image, rootfs, digest, sizeof digest, msg, sizeof msg);
	if (!jv_is_valid(img)) {
		jv_free(img);
		snprintf(k->waiting, sizeof k->waiting, "CreateContainerError");
		snprintf(k->wmsg, sizeof k->wmsg, "%s", msg);
		rm_rf(bundle);
		k->attempt--;
		return -1;
	}
	snprintf(k->image_id, sizeof k->image_id, "%s", digest);
	env = nr_env(jv_copy(p->pod), jv_copy(ctr), kx_jv_get(jv_copy(img), "Env"), jv_copy(p->ps->objs),
		     &f, envmsg, sizeof envmsg);
	nr_str(p->pod, "spec.hostname", hostname, sizeof hostname, p->name);
	snprintf(resolv, sizeof resolv, "%s/etc/resolv.conf", p->dir);
	snprintf(hosts, sizeof hosts, "%s/etc/hosts", p->dir);
	snprintf(hostf, sizeof hostf, "%s/etc/hostname", p->dir);
	snprintf(term, sizeof term, "%s/termination-%s", p->dir, k->name);
	close(open(term, O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
	snprintf(cg, sizeof cg, "%s/%s", p->cgroup, k->id);
	b.rootfs = rootfs;
	b.hostname = hostname;
	b.resolv = resolv;
	b.hosts = kx_jv_bool(p->pod, "spec.hostNetwork", 0) ? NULL : hosts;
	b.hostname_file = hostf;
	b.termination_log = term;
	if (!kx_jv_bool(p->pod, "spec.hostNetwork", 0)) {
		char sp[4200];
		snprintf(sp, sizeof sp, "%s/sandbox.json", p->dir);
		jv sb = read_json_file(sp);
		snprintf(netns, sizeof netns, "/run/netns/%s", nr_str(sb, "netns", ns, sizeof ns, ""));
		jv_free(sb);
		b.netns = netns;
	}
	b.cgroup = cg;
	b.volumes = p->volumes;
	{
		/* a subPath that does not exist yet is made, as the kubelet does */
		jv vms = arr(ctr, "volumeMounts");
		jv_array_foreach(vms, i, vm)
		{
			char vn[256], sub[1024], dir[5400];
			nr_str(vm, "name", vn, sizeof vn, "");
			nr_str(vm, "subPath", sub, sizeof sub, "");
			jv base = jv_object_get(jv_copy(p->volumes), jv_string(vn));
			if (sub[0] && sub[0] != '/' && !strstr(sub, "..") && jv_get_kind(base) == JV_KIND_STRING) {
				snprintf(dir, sizeof dir, "%s/%s", jv_string_value(base), sub);
				if (access(dir, F_OK) != 0)
					mkdirs(dir, 0755);
			}
			jv_free(base);
			jv_free(vm);
		}
		jv_free(vms);
	}
	spec = nr_oci_spec(jv_copy(p->pod), jv_copy(ctr), img, env, &b, msg, sizeof msg);
	if (envmsg[0] || msg[0]) {
		jv_free(spec);
		snprintf(k->waiting, sizeof k->waiting, "CreateContainerConfigError");
		snprintf(k->wmsg, sizeof k->wmsg, "%s", envmsg[0] ? envmsg : msg);
		k->attempt--;
		return -1;
	}
	snprintf(cfgpath, sizeof cfgpath, "%s/config.json", bundle);
	if (c->dry_run) {
		jv a = jv_object_set(jv_object_set(jv_object(), jv_string("action"), jv_string("start")),
				     jv_string("container"), jv_string(k->id));
		kx_json_print(jv_object_set(a, jv_string("config"), spec), 0);
		return 0;
	}
	write_json_file(cfgpath, spec);
	log_path(p, k->name, k->restarts, logf, sizeof logf);
	{
		char ld[4400];
		snprintf(ld, sizeof ld, "%s", logf);
		*strrchr(ld, '/') = 0;
		mkdirs(ld, 0755);
	}
	r = rt_create_start(c, k->id, bundle, logf, msg, sizeof msg);
	if (r < 0) {
		snprintf(k->waiting, sizeof k->waiting, "RunContainerError");
		snprintf(k->wmsg, sizeof k->wmsg, "%s", msg);
		k->backoff_until = p->ps->now + nr_backoff(k->restarts + 1, 0);
		return -1;
	}
	k->started = p->ps->now;
	k->waiting[0] = k->wmsg[0] = 0;
	k->kill_at = 0;
	kx_log_debug(1, "started container \"%s\" of pod \"%s/%s\"", k->name, p->ns, p->name);
	/* postStart, before the container counts as running; when it fails
	 * the container is killed, as the kubelet does, and restarted per
	 * restartPolicy (the event leaves the message out: it may hold secrets) */
	if (ctr_hook(p, ctr, k, "postStart", grace_of(p), msg, sizeof msg) < 0) {
		kx_log_debug(1, "%s", msg);
		event(p, "Warning", "FailedPostStartHook", k->name, "PostStartHook failed");
		ctr_stop(p, ctr, k, grace_of(p));
		snprintf(k->hook_msg, sizeof k->hook_msg, "%s", msg);
	}
	return 0;
}

static void event(struct podctx *p, const char *type, const char *reason, const char *cname,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	kx_err e = KX_ERR_INIT;
	struct timespec now;
	kx_event_info ev = {type, reason, msg, "kubelet", p->ps->c->node};

	(void)cname;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->ps->c->dry_run || !p->ps->cl)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (kx_event_record(p->ps->cl, p->pod, &ev, &now, &e) < 0)
		kx_log_debug(1, "cannot record event: %s", e.msg);
}

/* Run the container's lifecycle handler `which` ("postStart" or "preStop":
 * exec inside the container, or httpGet from the node, the host being the
 * pod IP unless it names one) within timeout_s seconds. 0 when it passed or
 * there is none; -1 with why filled, worded as the kubelet's. */
static int ctr_hook(struct podctx *p, jv ctr, const struct ctr *k, const char *which,
		    int timeout_s, char *why, size_t whyn)
{
	char path[64], cname[256];
	jv h, probe = jv_object(), x;
	kx_probe pr;
	kx_probe_result r;
	kx_err e = KX_ERR_INIT;
	int http;

	snprintf(path, sizeof path, "lifecycle.%s", which);
	h = kx_jv_get(jv_copy(ctr), path);
	nr_str(ctr, "name", cname, sizeof cname, "");
	if (jv_get_kind(x = kx_jv_get(jv_copy(h), "exec")) == JV_KIND_OBJECT)
		probe = jv_object_set(probe, jv_string("exec"), x);
	else if (jv_free(x), jv_get_kind(x = kx_jv_get(jv_copy(h), "httpGet")) == JV_KIND_OBJECT)
		probe = jv_object_set(probe, jv_string("httpGet"), x);
	else {
		/* none, or a kind the kubelet does not run either (tcpSocket) */
		jv_free(x);
		jv_free(h);
		jv_free(probe);
		return 0;
	}
	jv_free(h);
	http = pod_kind_at(probe, "httpGet") == JV_KIND_OBJECT;
	if (kx_probe_from_json(&pr, probe, p->ip, kx_jv_get(jv_copy(ctr), "ports"), &e) < 0) {
		snprintf(why, whyn, "%s hook for container \"%s\": %s", which, cname, e.msg);
		return -1;
	}
	pr.timeout_ms = (timeout_s > 0 ? timeout_s : 1) * 1000;
	kx_probe_run(&pr, p->ps->c->runtime, k->id, &r);
	if (!r.ok) {
		char d[300];
		snprintf(why, whyn,
			 "%s lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" failed - error: %s",
			 http ? "HTTP" : "Exec", kx_probe_describe(&pr, d, sizeof d), cname, p->name, p->ns,
			 p->uid, r.reason);
	}
	kx_probe_free(&pr);
	return r.ok ? 0 : -1;
}

/* Stop a running container: its preStop hook, then SIGTERM, and SIGKILL
 * once the grace period (counted from before the hook) is over. */
static void ctr_stop(struct podctx *p, jv ctr, struct ctr *k, int grace)
{
	struct nr_config *c = p->ps->c;

	if (!k->kill_at) {
		int64_t t0 = (int64_t)time(NULL);
		char why[1024];
		if (grace > 0 && ctr_hook(p, ctr, k, "preStop", grace, why, sizeof why) < 0) {
			kx_log_debug(1, "%s", why);
			event(p, "Warning", "FailedPreStopHook", k->name, "%s", why);
		}
		k->kill_at = t0 + grace;
		if (grace > 0 && k->kill_at < (int64_t)time(NULL) + 2)
			k->kill_at = (int64_t)time(NULL) + 2; /* the kubelet's minimum after a hook */
		rt_simple(c, "kill", k->id, grace > 0 ? "TERM" : "KILL");
	} else if ((int64_t)time(NULL) >= k->kill_at) {
		rt_simple(c, "kill", k->id, "KILL");
	}
}

/* Converge one container. init: an init container (runs to success).
 * Returns its status object for containerStatuses. */
static jv ctr_sync(struct podctx *p, jv ctr, int init, int may_start, int *ok_out)
{
	struct nr_config *c = p->ps->c;
	struct ctr k;
	char cname[256], image[1024], cid[400];
	jv st = jv_invalid(), out, state;
	int running = 0, ready = 0, started_flag = 0;
	char probe_path[4400];
	kx_probe_state ps;

	nr_str(ctr, "name", cname, sizeof cname, "");
	nr_str(ctr, "image", image, sizeof image, "");
	{
		char key[300];
		snprintf(key, sizeof key, "%s%s", init ? "init-" : "", cname);
		ctr_load(&k, p->dir, key);
	}
	if (k.id[0])
		st = rt_state(c, k.id);
	if (k.id[0] && ctr_exists(st)) {
		char s[32];
		nr_str(st, "status", s, sizeof s, "");
		if (!strcmp(s, "running") || !strcmp(s, "created")) {
			running = 1;
			/* a liveness failure restarts it */
			kx_probe_file_path(probe_path, sizeof probe_path, c->root, p->uid, cname,
					   "liveness");
			kx_probe_state_init(&ps, "liveness");
			if (!init && !p->deleting && kx_probe_file_read(probe_path, k.id, &ps) == 0 &&
			    ps.result == KX_PROBE_FAILURE && !k.kill_at) {
				event(p, "Normal", "Killing", cname,
				      "Container %s failed liveness probe, will be restarted", cname);
				ctr_stop(p, ctr, &k, grace_of(p));
			} else if (k.kill_at && !p->deleting)
				ctr_stop(p, ctr, &k, 0);
		} else if (!strcmp(s, "stopped") && !k.finished) {
			ctr_finished(&k, st, p->ps->now, 0);
			rt_simple(c, "delete", k.id, NULL);
			{
				char bdir[4400];
				snprintf(bdir, sizeof bdir, "%s/bundles/%s", p->dir, k.id);
				rm_rf(bdir); /* unmounts its rootfs */
			}
			if (init && k.exit_code == 0)
				k.done = 1;
			else if (!init && !nr_should_restart(p->policy, k.exit_code))
				k.done = 1;
			else if (init && !strcmp(p->policy, "Never"))
				k.done = 1;
			if (!k.done) {
				k.backoff_until = k.finished + nr_backoff(k.restarts, k.finished - k.started);
			}
		}
	} else if (k.id[0] && !k.finished && k.started) {
		/* the runtime forgot it (a reboot): it ended */
		k.exit_code = k.exit_code >= 0 ? k.exit_code : 137;
		k.finished = p->ps->now;
		snprintf(k.reason, sizeof k.reason, "Error");
		if (!nr_should_restart(p->policy, k.exit_code))
			k.done = 1;
	}
	jv_free(st);
	if (p->deleting) {
		may_start = 0;
	}
	/* start or restart */
	if (!running && may_start && !k.done) {
		if (k.finished && k.started) {
			/* a restart: the finished run becomes lastState */
			if (p->ps->now < k.backoff_until) {
				due_at(k.backoff_until);
				snprintf(k.waiting, sizeof k.waiting, "CrashLoopBackOff");
				snprintf(k.wmsg, sizeof k.wmsg, "back-off %llds restarting failed container=%s pod=%s_%s(%s)",
					 (long long)(k.backoff_until - k.finished), cname, p->name, p->ns, p->uid);
			} else {
				struct ctr prev = k;
				jv_free(k.last);
				k.last = terminated_json(&prev);
				k.restarts++;
				k.finished = 0;
				k.started = 0;
				k.exit_code = -1;
				if (ctr_start(p, ctr, &k) == 0)
					running = 1;
				else {
					/* keep counting it as restarted; the old run stays lastState */
				}
			}
		} else if (!strcmp(k.waiting, "RunContainerError") && p->ps->now < k.backoff_until) {
			due_at(k.backoff_until); /* the runtime failed it: not again at once */
		} else if (!k.started || !k.id[0] || k.waiting[0]) {
			if (ctr_start(p, ctr, &k) == 0)
				running = 1;
		}
	}
	/* status */
	state = jv_object();
	snprintf(cid, sizeof cid, "kx-container://%s", k.id);
	if (running) {
		state = jv_object_set(state, jv_string("running"),
				      jv_object_set(jv_object(), jv_string("startedAt"), tstamp(k.started)));
		/* readiness and startup from the probe files */
		jv rp = kx_jv_get(jv_copy(ctr), "readinessProbe");
		jv sp = kx_jv_get(jv_copy(ctr), "startupProbe");
		started_flag = 1;
		if (jv_get_kind(sp) == JV_KIND_OBJECT) {
			kx_probe_file_path(probe_path, sizeof probe_path, c->root, p->uid, cname, "startup");
			kx_probe_state_init(&ps, "startup");
			kx_probe_file_read(probe_path, k.id, &ps);
			started_flag = ps.result == KX_PROBE_SUCCESS;
		}
		if (jv_get_kind(rp) == JV_KIND_OBJECT) {
			kx_probe_file_path(probe_path, sizeof probe_path, c->root, p->uid, cname, "readiness");
			kx_probe_state_init(&ps, "readiness");
			kx_probe_file_read(probe_path, k.id, &ps);
			ready = started_flag && ps.result == KX_PROBE_SUCCESS;
		} else
			ready = started_flag;
		jv_free(rp);
		jv_free(sp);
		if (init)
			ready = 0;
	} else if (k.waiting[0] || (!k.finished && !k.done)) {
		jv w = jv_object_set(jv_object(), jv_string("reason"),
				     jv_string(k.waiting[0] ? k.waiting : "ContainerCreating"));
		if (k.wmsg[0])
			w = jv_object_set(w, jv_string("message"), jv_string(k.wmsg));
		if (!may_start && !k.waiting[0])
			w = jv_object_set(w, jv_string("reason"), jv_string(init ? "PodInitializing" : "PodInitializing"));
		state = jv_object_set(state, jv_string("waiting"), w);
	} else {
		state = jv_object_set(state, jv_string("terminated"), terminated_json(&k));
	}
	if (init && k.done && k.exit_code == 0)
		ready = 1; /* the kubelet reports a finished init container as ready */
	out = jv_object();
	out = jv_object_set(out, jv_string("name"), jv_string(cname));
	out = jv_object_set(out, jv_string("state"), state);
	out = jv_object_set(out, jv_string("lastState"),
			    jv_get_kind(k.last) == JV_KIND_OBJECT
				    ? jv_object_set(jv_object(), jv_string("terminated"), jv_copy(k.last))
				    : jv_object());
	out = jv_object_set(out, jv_string("ready"), jv_bool(ready));
	out = jv_object_set(out, jv_string("restartCount"), jv_number(k.restarts));
	out = jv_object_set(out, jv_string("image"), jv_string(image));
	out = jv_object_set(out, jv_string("imageID"), jv_string(k.image_id));
	if (k.id[0])
		out = jv_object_set(out, jv_string("containerID"), jv_string(cid));
	if (!init)
		out = jv_object_set(out, jv_string("started"), jv_bool(running && started_flag));
	if (ok_out)
		*ok_out = init ? (k.done && k.exit_code == 0) : running;
	{
		char key[300];
		snprintf(key, sizeof key, "%s%s", init ? "init-" : "", cname);
		snprintf(k.name, sizeof k.name, "%s", key);
	}
	if (!c->dry_run)
		ctr_save(&k, p->dir);
	jv_free(k.last);
	return out;
}

/* ---- phase and conditions (pure) ------------------------------------------ */

static jv cond(jv prev, const char *type, int on, const char *reason, const char *now)
{
	jv c = jv_object();
	const char *status = on ? "True" : "False";
	char since[40];

	snprintf(since, sizeof since, "%s", now);
	if (jv_get_kind(prev) == JV_KIND_ARRAY) {
		jv_array_foreach(prev, i, pc)
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
	jv_free(prev);
	c = jv_object_set(c, jv_string("type"), jv_string(type));
	c = jv_object_set(c, jv_string("status"), jv_string(status));
	c = jv_object_set(c, jv_string("lastProbeTime"), jv_null());
	c = jv_object_set(c, jv_string("lastTransitionTime"), jv_string(since));
	if (!on && reason)
		c = jv_object_set(c, jv_string("reason"), jv_string(reason));
	return c;
}

static int count_state(jv statuses, const char *state, int want_exit0)
{
	int n = 0;

	jv_array_foreach(statuses, i, s)
	{
		char p[64];
		snprintf(p, sizeof p, "state.%s", state);
		jv x = kx_jv_get(jv_copy(s), p);
		if (jv_get_kind(x) == JV_KIND_OBJECT &&
		    (want_exit0 < 0 || (kx_jv_int(x, "exitCode", -1) == 0) == want_exit0))
			n++;
		jv_free(x);
		jv_free(s);
	}
	jv_free(statuses);
	return n;
}

/* The pod's phase from its containers, as the kubelet's getPhase. */
const char *nr_pod_phase(const char *policy, int initialized, int init_failed, jv statuses)
{
	int total = jv_array_length(jv_copy(statuses));
	int running = count_state(jv_copy(statuses), "running", -1);
	int waiting = count_state(jv_copy(statuses), "waiting", -1);
	int ok = count_state(jv_copy(statuses), "terminated", 1);
	int failed = count_state(jv_copy(statuses), "terminated", 0);
	int restarted_waiting = 0;

	jv_array_foreach(statuses, i, s)
	{
		if (kx_jv_int(s, "restartCount", 0) > 0 && pod_kind_at(s, "state.waiting") == JV_KIND_OBJECT)
			restarted_waiting++;
		jv_free(s);
	}
	jv_free(statuses);
	if (init_failed)
		return "Failed";
	if (!initialized)
		return "Pending";
	if (waiting > restarted_waiting)
		return "Pending";
	if (running > 0 || restarted_waiting > 0)
		return "Running";
	if (total == 0)
		return "Pending";
	if (!strcmp(policy, "Always"))
		return "Running";
	if (failed == 0 && ok == total)
		return "Succeeded";
	if (!strcmp(policy, "OnFailure"))
		return "Running";
	return failed ? "Failed" : "Succeeded";
}

/* ---- one pod --------------------------------------------------------------- */

static void pod_teardown(struct podctx *p)
{
	struct nr_config *c = p->ps->c;
	char path[4200];
	DIR *d;
	struct dirent *de;

	/* every container this pod ever had */
	snprintf(path, sizeof path, "%s/containers", p->dir);
	if ((d = opendir(path))) {
		while ((de = readdir(d))) {
			struct ctr k;
			char key[256];
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
				continue;
			snprintf(key, sizeof key, "%.*s", (int)(l - 5), de->d_name);
			ctr_load(&k, p->dir, key);
			if (k.id[0]) {
				rt_simple(c, "kill", k.id, "KILL");
				rt_simple(c, "delete", k.id, NULL);
			}
			jv_free(k.last);
		}
		closedir(d);
	}
	volumes_down(p->dir);
	sandbox_down(c, p->dir, p->uid);
	if (p->cgroup[0]) {
		kx_err e = KX_ERR_INIT;
		if (kx_cgroup_destroy(p->cgroup, &e) < 0)
			pod_cgroup_remove(p->cgroup);
	}
	rm_rf(p->dir);
	kx_log_debug(1, "tore down pod \"%s/%s\"", p->ns, p->name);
}

static void pod_status_write(struct podctx *p, jv status)
{
	char path[800];
	kx_err e = KX_ERR_INIT;
	jv old = kx_jv_get(jv_copy(p->pod), "status"), pod, r;

	if (kx_jv_equal(old, jv_copy(status))) {
		jv_free(status);
		return;
	}
	if (p->ps->c->dry_run) {
		jv a = jv_object_set(jv_object(), jv_string("action"), jv_string("status"));
		a = jv_object_set(a, jv_string("pod"), jv_string(p->name));
		kx_json_print(jv_object_set(a, jv_string("status"), status), 0);
		return;
	}
	if (!p->ps->cl) {
		/* -f: the status goes to stdout, and to a file for the next pass */
		char sp[4200];
		jv line = jv_object();
		snprintf(sp, sizeof sp, "%s/status.json", p->dir);
		write_json_file(sp, jv_copy(status));
		line = jv_object_set(line, jv_string("namespace"), jv_string(p->ns));
		line = jv_object_set(line, jv_string("name"), jv_string(p->name));
		line = jv_object_set(line, jv_string("status"), jv_copy(status));
		kx_json_print(line, 0);
		fflush(stdout);
		p->pod = jv_object_set(p->pod, jv_string("status"), status);
		return;
	}
	pod = jv_object_set(jv_copy(p->pod), jv_string("status"), status);
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
	r = kx_client_json(p->ps->cl, "PUT", path, pod, NULL, &e);
	if (!jv_is_valid(r))
		kx_log_debug(1, "cannot write status of pod \"%s/%s\": %s", p->ns, p->name, e.msg);
	else {
		/* later writes in this pass build on what the store has now */
		jv_free(p->pod);
		p->pod = jv_copy(r);
	}
	jv_free(r);
}

static void pod_sync(struct pass *ps, jv pod, jv *kept)
{
	struct podctx p = {0};
	struct nr_config *c = ps->c;
	char path[4400], now_s[40], start_s[40], phase_now[32];
	jv inits, ctrs, istat = jv_array(), cstat = jv_array(), status, prevc;
	struct nr_pod_facts f = {c->node, "", c->node_ip, 1, 1ll << 30};
	int initialized = 1, init_failed = 0, all_ready = 1, sandbox_ok = 1;
	char sb_msg[512] = "";

	p.ps = ps;
	p.pod = pod;
	nr_str(pod, "metadata.uid", p.uid, sizeof p.uid, "");
	nr_str(pod, "metadata.namespace", p.ns, sizeof p.ns, "default");
	nr_str(pod, "metadata.name", p.name, sizeof p.name, "");
	nr_str(pod, "spec.restartPolicy", p.policy_buf, sizeof p.policy_buf, "Always");
	p.policy = p.policy_buf;
	p.deleting = kind_is_string(pod, "metadata.deletionTimestamp");
	if (!p.uid[0] || strchr(p.uid, '/')) {
		jv_free(pod);
		return;
	}
	snprintf(p.dir, sizeof p.dir, "%s/pods/%s", c->root, p.uid);
	pod_cgroup(pod, p.uid, p.cgroup, sizeof p.cgroup);
	nr_str(pod, "status.phase", phase_now, sizeof phase_now, "");

	if (p.deleting) {
		/* stop everything, then tear down and remove the pod */
		int grace = (int)kx_jv_int(pod, "metadata.deletionGracePeriodSeconds",
					   kx_jv_int(pod, "spec.terminationGracePeriodSeconds", 30));
		int alive = 0;
		int ninit = jv_array_length(arr(pod, "spec.initContainers"));
		jv all = jv_array_concat(arr(pod, "spec.initContainers"), arr(pod, "spec.containers"));
		if (access(p.dir, F_OK) == 0) {
			jv_array_foreach(all, i, ctr)
			{
				struct ctr k;
				char cname[256], key[300];
				int is_init = i < ninit;
				nr_str(ctr, "name", cname, sizeof cname, "");
				snprintf(key, sizeof key, "%s%s", is_init ? "init-" : "", cname);
				ctr_load(&k, p.dir, key);
				if (k.id[0]) {
					jv st = rt_state(c, k.id);
					if (ctr_running(st) || (ctr_exists(st) && strcmp(nr_str(st, "status", path, sizeof path, ""), "stopped"))) {
						alive++;
						ctr_stop(&p, ctr, &k, grace);
						ctr_save(&k, p.dir);
					}
					jv_free(st);
				}
				jv_free(k.last);
				jv_free(ctr);
			}
		}
		jv_free(all);
		if (!alive) {
			char dp[800];
			kx_err e = KX_ERR_INIT;
			jv body;
			if (access(p.dir, F_OK) == 0)
				pod_teardown(&p);
			body = jv_object_set(jv_object_set(jv_object(), jv_string("kind"), jv_string("DeleteOptions")),
					     jv_string("apiVersion"), jv_string("v1"));
			body = jv_object_set(body, jv_string("gracePeriodSeconds"), jv_number(0));
			body = jv_object_set(body, jv_string("preconditions"),
					     jv_object_set(jv_object(), jv_string("uid"), jv_string(p.uid)));
			snprintf(dp, sizeof dp, "/api/v1/namespaces/%s/pods/%s", p.ns, p.name);
			if (!c->dry_run)
				jv_free(kx_client_json(ps->cl, "DELETE", dp, body, NULL, &e));
			else
				jv_free(body);
		}
		jv_free(p.pod);
		return;
	}
	if ((!strcmp(phase_now, "Succeeded") || !strcmp(phase_now, "Failed")) &&
	    access(p.dir, F_OK) != 0) {
		jv_free(p.pod);
		return; /* finished before we knew it (another node, or long ago) */
	}
	mkdirs(p.dir, 0755);
	snprintf(path, sizeof path, "%s/pod.json", p.dir);
	if (!c->dry_run) {
		char *text = kx_json_dump(kx_jv_del(jv_copy(pod), "status"), 0);
		update_file(path, text, strlen(text), 0644);
		free(text);
	}
	fetch_refs(ps, pod);

	/* sandbox */
	if (kx_jv_bool(pod, "spec.hostNetwork", 0))
		snprintf(p.ip, sizeof p.ip, "%s", c->node_ip);
	else if (c->dry_run)
		snprintf(p.ip, sizeof p.ip, "0.0.0.0");
	else if (sandbox_up(c, p.dir, p.uid, p.ip, sizeof p.ip, sb_msg, sizeof sb_msg) < 0)
		sandbox_ok = 0;
	f.pod_ip = p.ip;
	{
		char hostname[256];
		nr_str(pod, "spec.hostname", hostname, sizeof hostname, p.name);
		if (!c->dry_run)
			write_etc(c, pod, p.dir, p.ip, hostname);
	}
	if (!c->dry_run && sandbox_ok)
		pod_cgroup_create(pod, p.cgroup);
	p.volumes = c->dry_run ? jv_object() : volumes_up(c, pod, p.dir, ps->objs, &f, p.vol_msg, sizeof p.vol_msg);

	/* init containers, in order, each to success */
	inits = kx_jv_get(jv_copy(pod), "spec.initContainers");
	if (jv_get_kind(inits) == JV_KIND_ARRAY) {
		int may = sandbox_ok;
		jv_array_foreach(inits, i, ctr)
		{
			int ok = 0;
			jv s = ctr_sync(&p, ctr, 1, may, &ok);
			if (!ok) {
				initialized = 0;
				may = 0;
				if (!strcmp(p.policy, "Never") &&
				    kx_jv_int(s, "state.terminated.exitCode", 0) != 0)
					init_failed = 1;
			}
			istat = jv_array_append(istat, s);
			jv_free(ctr);
		}
	}
	jv_free(inits);
	ctrs = kx_jv_get(jv_copy(pod), "spec.containers");
	if (jv_get_kind(ctrs) == JV_KIND_ARRAY) {
		jv_array_foreach(ctrs, i, ctr)
		{
			jv s = ctr_sync(&p, ctr, 0, initialized && sandbox_ok && !init_failed, NULL);
			if (!kx_jv_bool(s, "ready", 0))
				all_ready = 0;
			cstat = jv_array_append(cstat, s);
			jv_free(ctr);
		}
	}
	jv_free(ctrs);
	if (!sandbox_ok) {
		/* say why nothing starts */
		jv fixed = jv_array();
		jv_array_foreach(cstat, i, s)
		{
			s = jv_object_set(s, jv_string("state"),
					  jv_object_set(jv_object(), jv_string("waiting"),
							jv_object_set(jv_object_set(jv_object(), jv_string("reason"),
										    jv_string("ContainerCreating")),
								      jv_string("message"), jv_string(sb_msg))));
			fixed = jv_array_append(fixed, s);
		}
		jv_free(cstat);
		cstat = fixed;
		all_ready = 0;
	}

	/* status */
	kx_time_format(time(NULL), now_s, sizeof now_s);
	status = jv_object();
	{
		const char *phase = nr_pod_phase(p.policy, initialized, init_failed, jv_copy(cstat));
		prevc = kx_jv_get(jv_copy(pod), "status.conditions");
		jv conds = jv_array();
		conds = jv_array_append(conds, cond(jv_copy(prevc), "Initialized", initialized,
						    "ContainersNotInitialized", now_s));
		conds = jv_array_append(conds, cond(jv_copy(prevc), "Ready",
						    all_ready && !strcmp(phase, "Running"),
						    strcmp(phase, "Running") ? "PodCompleted" : "ContainersNotReady", now_s));
		conds = jv_array_append(conds, cond(jv_copy(prevc), "ContainersReady",
						    all_ready && !strcmp(phase, "Running"),
						    strcmp(phase, "Running") ? "PodCompleted" : "ContainersNotReady", now_s));
		conds = jv_array_append(conds, cond(prevc, "PodScheduled", 1, NULL, now_s));
		status = jv_object_set(status, jv_string("phase"), jv_string(phase));
		status = jv_object_set(status, jv_string("conditions"), conds);
	}
	status = jv_object_set(status, jv_string("hostIP"), jv_string(c->node_ip));
	status = jv_object_set(status, jv_string("hostIPs"),
			       jv_array_append(jv_array(), jv_object_set(jv_object(), jv_string("ip"),
									  jv_string(c->node_ip))));
	if (p.ip[0]) {
		status = jv_object_set(status, jv_string("podIP"), jv_string(p.ip));
		status = jv_object_set(status, jv_string("podIPs"),
				       jv_array_append(jv_array(), jv_object_set(jv_object(), jv_string("ip"),
										  jv_string(p.ip))));
	}
	nr_str(pod, "status.startTime", start_s, sizeof start_s, now_s);
	status = jv_object_set(status, jv_string("startTime"), jv_string(start_s));
	if (jv_array_length(jv_copy(istat)) > 0)
		status = jv_object_set(status, jv_string("initContainerStatuses"), istat);
	else
		jv_free(istat);
	status = jv_object_set(status, jv_string("containerStatuses"), cstat);
	status = jv_object_set(status, jv_string("qosClass"), jv_string(nr_qos_class(pod)));
	pod_status_write(&p, status);

	jv_free(p.volumes);
	*kept = jv_array_append(*kept, p.pod);
}

/* ---- between passes: probes and the runtime's list ------------------------ */

static jv last_pods = {0}; /* the pods of the last pass, with their status */
static kx_client *probe_client; /* the store, for Unhealthy events */
static const char *probe_node;

static void on_probe(void *arg, jv pod, const char *container, const char *type,
		     const kx_probe *p, const kx_probe_result *r, const kx_probe_state *s,
		     int changed)
{
	int *any = arg;

	if (changed)
		*any = 1;
	if (!r->ok) {
		char msg[700];
		kx_err e = KX_ERR_INIT;
		struct timespec now;
		kx_event_info ev = {"Warning", "Unhealthy",
				    kx_probe_message(type, r->reason, msg, sizeof msg), "kubelet",
				    probe_node};
		kx_log_debug(1, "%s probe of \"%s\" failed: %s", type, container, r->reason);
		clock_gettime(CLOCK_REALTIME, &now);
		if (probe_client && kx_event_record(probe_client, pod, &ev, &now, &e) < 0)
			kx_log_debug(1, "cannot record event: %s", e.msg);
	}
}

/* With --no-probes another prober (kx-health-check --node) writes the
 * verdicts: 1 when one of them (a probe file's result, for its container)
 * changed since the last look. */
static jv seen_verdicts = {0};

static int verdicts_changed(const struct nr_config *c)
{
	jv now = jv_object();
	int changed;

	jv_array_foreach(last_pods, i, pod)
	{
		char uid[128], dir[4300];
		DIR *d;
		struct dirent *de;
		nr_str(pod, "metadata.uid", uid, sizeof uid, "");
		jv_free(pod);
		snprintf(dir, sizeof dir, "%s/pods/%s/probes", c->root, uid);
		if (!uid[0] || strchr(uid, '/') || !(d = opendir(dir)))
			continue;
		while ((de = readdir(d))) {
			char path[4600], v[512], id[300], res[32];
			jv f;
			if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			f = read_json_file(path);
			snprintf(v, sizeof v, "%s %s", nr_str(f, "containerID", id, sizeof id, ""),
				 nr_str(f, "result", res, sizeof res, ""));
			jv_free(f);
			now = jv_object_set(now, jv_string(path), jv_string(v));
		}
		closedir(d);
	}
	changed = jv_is_valid(seen_verdicts) && !kx_jv_equal(jv_copy(seen_verdicts), jv_copy(now));
	if (jv_is_valid(seen_verdicts))
		jv_free(seen_verdicts);
	seen_verdicts = now;
	return changed;
}

int nr_pods_probe(struct nr_config *c)
{
	int changed = 0;

	if (c->dry_run || jv_get_kind(last_pods) != JV_KIND_ARRAY)
		return 0;
	if (!c->probes)
		return verdicts_changed(c);
	jv_array_foreach(last_pods, i, pod)
	{
		char phase[32];
		if (!strcmp(nr_str(pod, "status.phase", phase, sizeof phase, ""), "Running"))
			kx_probe_pod(pod, c->root, c->runtime, (int64_t)time(NULL), 0, on_probe, &changed);
		jv_free(pod);
	}
	return changed;
}

int nr_pods_relist(struct nr_config *c)
{
	jv now = rt_list(c);
	int changed;

	if (!jv_is_valid(now))
		return 1; /* a runtime without list: a full pass every time */
	/* a pass is wanted when a container stopped or went away; one that a
	 * worker just started, running, is no news */
	changed = !rt_listed_ok;
	if (rt_listed_ok) {
		jv_object_foreach(rt_listed, id, was)
		{
			jv is = jv_object_get(jv_copy(now), jv_copy(id));
			if (!jv_is_valid(is) || !kx_jv_equal(jv_copy(was), jv_copy(is)))
				changed = 1;
			jv_free(is);
			jv_free(id);
			jv_free(was);
		}
		jv_object_foreach(now, id, st)
		{
			jv was = jv_object_get(jv_copy(rt_listed), jv_copy(id));
			if (!jv_is_valid(was) && strcmp(jv_string_value(st), "running") &&
			    strcmp(jv_string_value(st), "created"))
				changed = 1;
			jv_free(was);
			jv_free(id);
			jv_free(st);
		}
	}
	if (rt_listed_ok)
		jv_free(rt_listed);
	rt_listed = now;
	rt_listed_ok = 1;
	return changed;
}

/* ---- workers: a pod's slow steps in a child process ------------------------ */

/* Setting up a pod is mostly waiting for other programs (ip, the CNI
 * plugins, the runtime, the log copier), so a pass hands each pod that has
 * such work to do (a new or pending pod, a pod being deleted) to a forked
 * child, at most c->workers at a time, and goes on with the others. The
 * child runs the same pod_sync as the pass would, with its own connection
 * to the store, writes the pod's files and status and exits; a pod with a
 * worker in flight is left alone by the passes until it ends, and its end
 * starts a new pass. Nothing lives only in a worker's memory: all it knows
 * is in the pod's files, so a worker that dies, or an agent killed with its
 * workers running, leaves a state the next pass converges from. */
struct worker {
	pid_t pid;
	int fd; /* the read end of a pipe whose write end the worker holds */
	char uid[128];
};
static struct worker workers[64];
static int nworkers;
static int deferred;      /* the last pass left pods for want of a worker */
static int64_t soon_ms;   /* a worker ended: a pass by then (ms), to put its pod in last_pods */

static int worker_busy(const char *uid)
{
	for (int i = 0; i < nworkers; i++)
		if (!strcmp(workers[i].uid, uid))
			return 1;
	return 0;
}

/* Does this pod have slow work to do: starting (no phase yet, or Pending)
 * or stopping? Borrows pod. */
static int pod_slow(jv pod)
{
	char phase[32];

	if (kind_is_string(pod, "metadata.deletionTimestamp"))
		return 1;
	nr_str(pod, "status.phase", phase, sizeof phase, "");
	return !phase[0] || !strcmp(phase, "Pending");
}

static void pod_sync(struct pass *ps, jv pod, jv *kept);

/* In the child: sync the pod, tell the parent when to come back (a back-off
 * ending) through fd, and exit. */
static void __attribute__((noreturn)) worker_main(struct pass *ps, jv pod, int fd)
{
	kx_err e = KX_ERR_INIT;
	jv kept = jv_array();
	char due[32];
	int n;

	if (ps->cl) {
		/* the parent's connection is the parent's */
		if (!(ps->cl = kx_client_new(ps->c->server, &e)))
			_exit(KX_EUNREACH);
		kx_client_set_timeout(ps->cl, 10000);
	}
	next_due = 0;
	pod_sync(ps, pod, &kept);
	fflush(stdout);
	n = snprintf(due, sizeof due, "%lld\n", (long long)next_due);
	if (write(fd, due, (size_t)n) < 0)
		_exit(KX_EFAIL);
	_exit(0);
}

/* Hand pod (consumed on success) to a new worker; -1 when the pool is full
 * or fork failed (pod untouched). */
static int worker_start(struct pass *ps, jv pod, const char *uid)
{
	int fds[2];
	pid_t pid;

	if (nworkers >= ps->c->workers || nworkers >= (int)(sizeof workers / sizeof workers[0]))
		return -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout); /* or the child would print it again */
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		worker_main(ps, pod, fds[1]);
	}
	close(fds[1]);
	workers[nworkers].pid = pid;
	workers[nworkers].fd = fds[0];
	snprintf(workers[nworkers].uid, sizeof workers[nworkers].uid, "%s", uid);
	nworkers++;
	jv_free(pod);
	return 0;
}

/* Collect the workers that ended, waiting up to ms for one; the number
 * collected. */
static int workers_reap(int ms)
{
	struct pollfd pf[64];
	int got = 0;

	if (nworkers == 0)
		return 0;
	for (int i = 0; i < nworkers; i++)
		pf[i] = (struct pollfd){workers[i].fd, POLLIN, 0};
	if (poll(pf, (nfds_t)nworkers, ms) <= 0)
		return 0;
	for (int i = nworkers - 1; i >= 0; i--) {
		char buf[64];
		ssize_t n;
		int st;
		if (!pf[i].revents)
			continue;
		n = read(workers[i].fd, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = 0;
			due_at(strtoll(buf, NULL, 10));
		}
		close(workers[i].fd);
		while (waitpid(workers[i].pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			kx_log_error("the worker for pod %s ended with status %d", workers[i].uid,
				     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		workers[i] = workers[--nworkers];
		got++;
	}
	return got;
}

/* ---- the watch that wakes the loop --------------------------------------- */

static int wake_fd[2] = {-1, -1};
static pthread_t watcher;
static int watcher_on;

static int on_line(void *arg, const char *line, size_t len)
{
	/* every event wakes the loop: a change of status by someone else
	 * (kx-health-check --node writes readiness) wants a pass too */
	(void)arg;
	(void)line;
	(void)len;
	if (write(wake_fd[1], "x", 1) < 0) {
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct nr_config *c = arg;
	kx_buf path = KX_BUF_INIT;
	char sel[300];

	snprintf(sel, sizeof sel, "spec.nodeName=%s", c->node);
	kx_buf_adds(&path, "/api/v1/pods?watch=true&fieldSelector=");
	kx_url_escape(&path, sel);
	for (;;) {
		kx_err e = KX_ERR_INIT;
		kx_client *cl = kx_client_new(c->server, &e);
		if (cl) {
			kx_client_set_timeout(cl, 0);
			kx_client_stream(cl, path.p, on_line, NULL, &e);
			kx_client_free(cl);
		}
		sleep(1);
	}
	return NULL;
}

void nr_pods_init(struct nr_config *c)
{
	if (c->once || watcher_on || c->file)
		return;
	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	if (pthread_create(&watcher, NULL, watch_main, c) == 0) {
		pthread_detach(watcher);
		watcher_on = 1;
	}
}

int nr_pods_wait(struct nr_config *c, int64_t ms)
{
	struct pollfd pf[1 + sizeof workers / sizeof workers[0]];
	char buf[256];
	static struct timespec file_mtime;
	struct stat st;
	int woke = 0, n = 0;

	/* the store's events and the workers' ends, whichever comes first */
	if (wake_fd[0] >= 0)
		pf[n++] = (struct pollfd){wake_fd[0], POLLIN, 0};
	for (int i = 0; i < nworkers; i++)
		pf[n++] = (struct pollfd){workers[i].fd, POLLIN, 0};
	if (soon_ms && ms > soon_ms - kx_now_ms())
		ms = soon_ms - kx_now_ms();
	if (n == 0 && ms > 0)
		usleep((useconds_t)ms * 1000);
	else if (poll(pf, (nfds_t)n, ms > 0 ? (int)ms : 0) > 0) {
		if (wake_fd[0] >= 0 && pf[0].revents) {
			usleep(5000); /* let a burst of events arrive */
			while (read(wake_fd[0], buf, sizeof buf) > 0)
				;
		}
		woke = 1;
	}
	/* a worker's end frees a place for the pods left waiting: a pass now;
	 * else one pass soon for the ends of a burst */
	if (workers_reap(0) > 0) {
		if (deferred)
			woke = 1;
		else if (!soon_ms)
			soon_ms = kx_now_ms() + 250;
	}
	if (soon_ms && kx_now_ms() >= soon_ms)
		woke = 1;
	if (c->file && stat(c->file, &st) == 0 &&
	    (st.st_mtim.tv_sec != file_mtime.tv_sec || st.st_mtim.tv_nsec != file_mtime.tv_nsec)) {
		file_mtime = st.st_mtim;
		woke = 1;
	}
	return woke;
}

/* ---- the pass --------------------------------------------------------------- */

/* The Pods of a file, as the kubelet's static pods: bound to this node,
 * with a uid made from their namespace and name, and the status of the
 * last pass. Borrows objs. */
static jv static_pods(const struct nr_config *c, jv objs)
{
	jv out = jv_array();

	jv_array_foreach(objs, i, o)
	{
		char kind[64], ns[256], name[256], uid[64], sp[4400];
		uint64_t h = 1469598103934665603ull;
		nr_str(o, "kind", kind, sizeof kind, "");
		if (strcmp(kind, "Pod")) {
			jv_free(o);
			continue;
		}
		nr_str(o, "metadata.namespace", ns, sizeof ns, "default");
		nr_str(o, "metadata.name", name, sizeof name, "");
		/* unique to this node and root too: two agents on one machine
		 * (tests, or nodes in containers) must not share a uid, since
		 * network namespaces and container IDs are named after it */
		for (const char *s = c->node; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		for (const char *s = c->root; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		for (const char *s = ns; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ '/') * 1099511628211ull;
		for (const char *s = name; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		if (!kind_is_string(o, "metadata.uid")) {
			snprintf(uid, sizeof uid, "static-%016llx", (unsigned long long)h);
			o = kx_jv_set(o, "metadata.uid", jv_string(uid));
		} else
			nr_str(o, "metadata.uid", uid, sizeof uid, "");
		o = kx_jv_set(o, "metadata.namespace", jv_string(ns));
		o = kx_jv_set(o, "spec.nodeName", jv_string(c->node));
		snprintf(sp, sizeof sp, "%s/pods/%s/status.json", c->root, uid);
		jv st = read_json_file(sp);
		if (jv_is_valid(st) && jv_get_kind(st) == JV_KIND_OBJECT)
			o = jv_object_set(o, jv_string("status"), st);
		else
			jv_free(st);
		out = jv_array_append(out, o);
	}
	return out;
}

int nr_pods_sync(kx_client *cl, struct nr_config *c, kx_err *e)
{
	kx_buf path = KX_BUF_INIT;
	struct pass ps = {cl, c, jv_null(), (int64_t)time(NULL), jv_null(), jv_object()};
	char sel[300], dir[4200];
	jv pods, seen = jv_object(), kept = jv_array();
	DIR *d;
	struct dirent *de;

	rt_relist(c);
	next_due = 0;
	deferred = 0;
	soon_ms = 0;
	probe_client = c->file ? NULL : cl;
	probe_node = c->node;
	if (!c->pod_cidr[0] && !c->file) {
		/* the Node's spec.podCIDR, as the kubelet takes it */
		static char cidr[64];
		char np[300];
		kx_err e2 = KX_ERR_INIT;
		snprintf(np, sizeof np, "/api/v1/nodes/%s", c->node);
		jv n = kx_client_get(cl, np, &e2);
		if (jv_is_valid(n) && nr_str(n, "spec.podCIDR", cidr, sizeof cidr, "")[0])
			c->pod_cidr = cidr;
		jv_free(n);
	}
	if (c->file) {
		ps.cl = NULL;
		ps.file_objs = kx_input_load(c->file, e);
		if (!jv_is_valid(ps.file_objs)) {
			jv_free(seen);
			jv_free(kept);
			jv_free(ps.cache);
			return -1;
		}
		pods = static_pods(c, ps.file_objs);
	} else {
		snprintf(sel, sizeof sel, "spec.nodeName=%s", c->node);
		kx_buf_adds(&path, "/api/v1/pods?fieldSelector=");
		kx_url_escape(&path, sel);
		pods = kx_input_list(cl, path.p, "Pod", NULL, e);
	}
	kx_buf_free(&path);
	if (!jv_is_valid(pods)) {
		jv_free(seen);
		jv_free(kept);
		jv_free(ps.cache);
		return kx_err_wrap(e, "pods of node \"%s\"", c->node);
	}
	jv_array_foreach(pods, i, pod)
	{
		char uid[128], nn[256];
		nr_str(pod, "metadata.uid", uid, sizeof uid, "");
		nr_str(pod, "spec.nodeName", nn, sizeof nn, "");
		if (strcmp(nn, c->node)) { /* a store that ignores the field selector */
			jv_free(pod);
			continue;
		}
		seen = jv_object_set(seen, jv_string(uid), jv_true());
		if (worker_busy(uid)) {
			jv_free(pod);
			continue;
		}
		if (!c->dry_run && c->workers > 0 && pod_slow(pod)) {
			if (worker_start(&ps, jv_copy(pod), uid) == 0 || nworkers >= c->workers) {
				/* handed over, or left for the pass a worker's end starts */
				if (!worker_busy(uid))
					deferred = 1;
				jv_free(pod);
				continue;
			}
		}
		pod_sync(&ps, pod, &kept);
	}
	jv_free(pods);
	if (c->once)
		while (nworkers > 0)
			workers_reap(-1);
	/* pods that are gone from the store: kill and clean up what is left */
	snprintf(dir, sizeof dir, "%s/pods", c->root);
	if (!c->dry_run && (d = opendir(dir))) {
		while ((de = readdir(d))) {
			jv have;
			if (de->d_name[0] == '.')
				continue;
			have = jv_object_get(jv_copy(seen), jv_string(de->d_name));
			if (!jv_is_valid(have) && !worker_busy(de->d_name)) {
				struct podctx p = {0};
				char pj[4400];
				jv old;
				p.ps = &ps;
				snprintf(p.uid, sizeof p.uid, "%s", de->d_name);
				snprintf(p.dir, sizeof p.dir, "%s/%s", dir, de->d_name);
				snprintf(pj, sizeof pj, "%s/pod.json", p.dir);
				old = read_json_file(pj);
				if (jv_is_valid(old)) {
					nr_str(old, "metadata.namespace", p.ns, sizeof p.ns, "");
					nr_str(old, "metadata.name", p.name, sizeof p.name, "");
					pod_cgroup(old, p.uid, p.cgroup, sizeof p.cgroup);
				}
				p.pod = old;
				pod_teardown(&p);
				jv_free(p.pod);
			}
			jv_free(have);
		}
		closedir(d);
	}
	jv_free(seen);
	jv_free(ps.objs);
	jv_free(ps.file_objs);
	jv_free(ps.cache);
	jv_free(last_pods);
	last_pods = kept;
	return 0;
}
