/* kx-container: an OCI runtime with runc's command line.
 *
 *   kx-container [--root DIR] create --bundle DIR ID | start ID |
 *       run --bundle DIR ID | state ID | kill ID [SIGNAL] |
 *       delete [--force] ID | list | exec ID -- CMD...
 *
 * State lives in DIR/ID (default /run/kx-container): state.json written by
 * create, config.json (the bundle's, as created), exec.fifo while the
 * container waits to be started, exit.json written by the shim when the
 * container's process ends. See spawn.c for the processes. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "buf.h"
#include "cgroup.h"
#include "cli.h"
#include "clock.h"
#include "container.h"
#include "err.h"
#include "json.h"
#include "log.h"

#define MAX_CONFIG (4u << 20)

enum { OPT_ROOT = KX_OPT_FIRST_PRIVATE, OPT_PIDFILE };

/* No --server: like runc, kx-container works on one machine's bundles and
 * never talks to the store. Global and command options share one table and
 * are parsed in two passes (runc's order: kx-container --root DIR create
 * --bundle DIR ID). */
static const struct kx_opt opts[] = {
	{"root", required_argument, OPT_ROOT, "DIR", "state directory (default /run/kx-container)"},
	{"bundle", required_argument, 'b', "DIR", "the bundle: config.json and rootfs (default .)"},
	{"force", no_argument, 'f', NULL, "delete: kill a running container first"},
	{"pid-file", required_argument, OPT_PIDFILE, "FILE", "create, run: write the container's pid"},
	KX_OPTS_COMMON_V("more detail"),
};

static const char synopsis[] =
	"[--root DIR] create --bundle DIR ID | start ID | run --bundle DIR ID | state ID |\n"
	"       kill ID [SIGNAL] | delete [--force] ID | list | exec ID -- CMD...";

static const char *root_dir = "/run/kx-container";
static const char *bundle_opt = ".";
static const char *pid_file;
static int force;

/* --- state ---------------------------------------------------------------- */

struct state {
	jv json;           /* state.json */
	char id[256];
	pid_t pid, shim;
	unsigned long long pid_start, shim_start;
	char status[16];   /* created, running, stopped */
	jv exit;           /* exit.json, or null */
	char cgroup[4096];
};

static void state_dir(const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", root_dir, id);
}

static int check_id(const char *id, kx_err *e)
{
	if (!kx_oci_valid_id(id))
		return kx_err_set(e, KX_EUSAGE, "invalid container ID \"%s\" (letters, digits, '.', '_', '-')", id);
	return 0;
}

static jv read_json(const char *path, int *missing, kx_err *e)
{
	kx_buf b = KX_BUF_INIT;
	jv v;

	*missing = 0;
	if (kx_buf_read_file(&b, path, MAX_CONFIG, e) < 0) {
		*missing = access(path, F_OK) < 0 && errno == ENOENT;
		kx_buf_free(&b);
		return jv_invalid();
	}
	v = kx_json_parse(kx_buf_str(&b), b.len, e);
	kx_buf_free(&b);
	if (!jv_is_valid(v))
		kx_err_wrap(e, "\"%s\"", path);
	return v;
}

static void state_free(struct state *s)
{
	jv_free(s->json);
	jv_free(s->exit);
	s->json = jv_null();
	s->exit = jv_null();
}

/* Load the state of id and work out its status. */
static int state_load(const char *id, struct state *s, kx_err *e)
{
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int missing;

	memset(s, 0, sizeof *s);
	s->json = jv_null();
	s->exit = jv_null();
	if (check_id(id, e) < 0)
		return -1;
	snprintf(s->id, sizeof s->id, "%s", id);
	state_dir(id, dir, sizeof dir);
	snprintf(p, sizeof p, "%s/state.json", dir);
	s->json = read_json(p, &missing, e);
	if (!jv_is_valid(s->json)) {
		s->json = jv_null();
		if (missing)
			return kx_err_set(e, KX_EFAIL, "container \"%s\" does not exist", id);
		return -1;
	}
	s->pid = (pid_t)kx_jv_int(s->json, "pid", 0);
	s->shim = (pid_t)kx_jv_int(s->json, "shimPid", 0);
	s->pid_start = (unsigned long long)kx_jv_int(s->json, "pidStart", 0);
	s->shim_start = (unsigned long long)kx_jv_int(s->json, "shimStart", 0);
	kx_jv_str(s->json, "cgroupsPath", s->cgroup, sizeof s->cgroup, "");
	snprintf(p, sizeof p, "%s/exit.json", dir);
	if (access(p, F_OK) == 0) {
		kx_err ignore = KX_ERR_INIT;
		s->exit = read_json(p, &missing, &ignore);
		if (!jv_is_valid(s->exit))
			s->exit = jv_null();
	}
	/* A pid of 0 or below (a damaged or hand-made state.json) is never
	 * alive: kill(0) or kill(-1) would signal our process group or every
	 * process on the machine. */
	if (s->pid <= 1 || s->pid_start == 0)
		s->pid = 0;
	if (s->shim <= 1 || s->shim_start == 0)
		s->shim = 0;
	if (!kx_cgroup_path_ok(s->cgroup))
		s->cgroup[0] = 0; /* nothing of ours to remove */
	if (jv_get_kind(s->exit) == JV_KIND_OBJECT || s->pid <= 0 ||
	    ct_pid_start(s->pid) != s->pid_start)
		snprintf(s->status, sizeof s->status, "stopped");
	else {
		snprintf(p, sizeof p, "%s/exec.fifo", dir);
		snprintf(s->status, sizeof s->status, "%s", access(p, F_OK) == 0 ? "created" : "running");
	}
	return 0;
}

static int shim_alive(const struct state *s)
{
	return s->shim > 0 && ct_pid_start(s->shim) == s->shim_start;
}

/* The OCI state, plus what kx records about the end. Consumes nothing. */
static jv state_json(const struct state *s)
{
	jv v = jv_object();
	jv ann = kx_jv_get(jv_copy(s->json), "annotations");

	v = jv_object_set(v, jv_string("ociVersion"), jv_string("1.0.2"));
	v = jv_object_set(v, jv_string("id"), jv_string(s->id));
	v = jv_object_set(v, jv_string("status"), jv_string(s->status));
	v = jv_object_set(v, jv_string("pid"), jv_number(strcmp(s->status, "stopped") ? s->pid : 0));
	v = jv_object_set(v, jv_string("bundle"), kx_jv_get(jv_copy(s->json), "bundle"));
	v = jv_object_set(v, jv_string("rootfs"), kx_jv_get(jv_copy(s->json), "rootfs"));
	v = jv_object_set(v, jv_string("created"), kx_jv_get(jv_copy(s->json), "created"));
	if (jv_get_kind(ann) == JV_KIND_OBJECT)
		v = jv_object_set(v, jv_string("annotations"), ann);
	else
		jv_free(ann);
	if (jv_get_kind(s->exit) == JV_KIND_OBJECT) {
		v = jv_object_set(v, jv_string("exitCode"), kx_jv_get(jv_copy(s->exit), "exitCode"));
		v = jv_object_set(v, jv_string("oomKilled"), kx_jv_get(jv_copy(s->exit), "oomKilled"));
		v = jv_object_set(v, jv_string("finishedAt"), kx_jv_get(jv_copy(s->exit), "finishedAt"));
	}
	return v;
}

static void rm_rf_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* --- create ----------------------------------------------------------------- */

static int open_ns(struct ct *c, kx_err *e)
{
	int k = 0;

	c->pidns_fd = -1;
	for (size_t i = 0; i < c->spec.nns; i++) {
		const struct kx_oci_ns *n = &c->spec.ns[i];
		int fd;
		if (!n->path)
			continue;
		fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kx_err_set(e, KX_EFAIL, "linux.namespaces[%zu].path \"%s\": %s", i, n->path,
					  strerror(errno));
		if (n->type == CLONE_NEWPID) {
			c->pidns_fd = fd;
			continue;
		}
		/* the mount namespace last: the others' paths are resolved first */
		c->nsfd[k] = fd;
		c->nsfd_type[k++] = n->type;
	}
	for (int i = 0; i < k; i++)
		if (c->nsfd_type[i] == CLONE_NEWNS && i != k - 1) {
			int fd = c->nsfd[i];
			c->nsfd[i] = c->nsfd[k - 1];
			c->nsfd_type[i] = c->nsfd_type[k - 1];
			c->nsfd[k - 1] = fd;
			c->nsfd_type[k - 1] = CLONE_NEWNS;
		}
	c->nsfd[k] = -1;
	return 0;
}

/* Make the container: everything up to a process waiting on exec.fifo.
 * On error nothing is left behind. Returns the shim's pid. */
static pid_t do_create(const char *id, pid_t *pid, int run, kx_err *e)
{
	struct ct c;
	kx_buf cfg = KX_BUF_INIT;
	char p[PATH_MAX + 32], ts[40];
	struct stat st;
	pid_t shim = -1;
	int made_dir = 0, made_cg = 0;
	struct timespec now;
	jv v;

	memset(&c, 0, sizeof c);
	c.spec.json = jv_null();
	c.nsfd[0] = -1;
	c.pidns_fd = -1;
	c.id = id;
	c.run = run;
	if (check_id(id, e) < 0)
		return -1;
	if (!realpath(bundle_opt, c.bundle))
		return kx_err_set(e, KX_EFAIL, "bundle \"%s\": %s", bundle_opt, strerror(errno));
	snprintf(p, sizeof p, "%s/config.json", c.bundle);
	if (kx_buf_read_file(&cfg, p, MAX_CONFIG, e) < 0)
		return kx_err_wrap(e, "bundle \"%s\"", c.bundle);
	if (kx_oci_parse(&c.spec, kx_buf_str(&cfg), cfg.len, c.bundle, e) < 0) {
		kx_err_wrap(e, "\"%s\"", p);
		goto fail;
	}
	if (stat(c.spec.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		kx_err_set(e, KX_EFAIL, "rootfs \"%s\" %s", c.spec.root,
			   errno == ENOENT ? "does not exist" : "is not a directory");
		goto fail;
	}
	if (open_ns(&c, e) < 0)
		goto fail;
	if (mkdir(root_dir, 0711) < 0 && errno != EEXIST) {
		kx_err_set(e, KX_EFAIL, "state directory \"%s\": %s", root_dir, strerror(errno));
		goto fail;
	}
	state_dir(id, c.dir, sizeof c.dir);
	if (mkdir(c.dir, 0700) < 0) {
		if (errno == EEXIST)
			kx_err_set(e, KX_EFAIL, "container \"%s\" already exists", id);
		else
			kx_err_set(e, KX_EFAIL, "cannot create \"%s\": %s", c.dir, strerror(errno));
		goto fail;
	}
	made_dir = 1;
	if (c.spec.cgroups_path && c.spec.cgroups_path[0])
		snprintf(c.cgroup, sizeof c.cgroup, "%s%s", c.spec.cgroups_path[0] == '/' ? "" : "/",
			 c.spec.cgroups_path);
	else
		snprintf(c.cgroup, sizeof c.cgroup, "/kx/%s", id);
	if (kx_cgroup_exists(c.cgroup)) {
		kx_err_set(e, KX_EFAIL, "cgroup \"%s\" is already in use", c.cgroup);
		goto fail;
	}
	if (kx_cgroup_create(c.cgroup, &c.spec.limits, e) < 0) {
		kx_err_wrap(e, "linux.resources");
		goto fail;
	}
	made_cg = 1;
	for (size_t i = 0; i < c.spec.ndevrules; i++)
		if (kx_cgroup_device_rule(c.cgroup, c.spec.devrules[i].allow, c.spec.devrules[i].rule, e) < 0) {
			kx_err_wrap(e, "linux.resources.devices[%zu]", i);
			goto fail;
		}
	snprintf(p, sizeof p, "%s/config.json", c.dir);
	if (ct_write_file(p, kx_buf_str(&cfg), cfg.len, e) < 0)
		goto fail;
	snprintf(p, sizeof p, "%s/exec.fifo", c.dir);
	if (!run && mkfifo(p, 0600) < 0) {
		kx_err_set(e, KX_EFAIL, "mkfifo \"%s\": %s", p, strerror(errno));
		goto fail;
	}
	shim = ct_spawn(&c, pid, e);
	if (shim < 0)
		goto fail;
	clock_gettime(CLOCK_REALTIME, &now);
	v = jv_object();
	v = jv_object_set(v, jv_string("id"), jv_string(id));
	v = jv_object_set(v, jv_string("pid"), jv_number(*pid));
	v = jv_object_set(v, jv_string("pidStart"), jv_number((double)ct_pid_start(*pid)));
	v = jv_object_set(v, jv_string("shimPid"), jv_number(shim));
	v = jv_object_set(v, jv_string("shimStart"), jv_number((double)ct_pid_start(shim)));
	v = jv_object_set(v, jv_string("bundle"), jv_string(c.bundle));
	v = jv_object_set(v, jv_string("rootfs"), jv_string(c.spec.root));
	v = jv_object_set(v, jv_string("cgroupsPath"), jv_string(c.cgroup));
	v = jv_object_set(v, jv_string("created"), jv_string(kx_time_format_micro(&now, ts, sizeof ts)));
	v = jv_object_set(v, jv_string("annotations"), jv_copy(c.spec.annotations));
	{
		char *s = kx_json_dump(v, 0);
		snprintf(p, sizeof p, "%s/state.json", c.dir);
		if (ct_write_file(p, s, strlen(s), e) < 0) {
			free(s);
			if (*pid > 1)
				kill(*pid, SIGKILL);
			goto fail;
		}
		free(s);
	}
	if (pid_file) {
		char s[32];
		snprintf(s, sizeof s, "%d", (int)*pid);
		if (ct_write_file(pid_file, s, strlen(s), e) < 0) {
			if (*pid > 1)
				kill(*pid, SIGKILL);
			goto fail;
		}
	}
	for (int i = 0; c.nsfd[i] >= 0; i++)
		close(c.nsfd[i]);
	if (c.pidns_fd >= 0)
		close(c.pidns_fd);
	kx_oci_free(&c.spec);
	kx_buf_free(&cfg);
	return shim;
fail:
	if (shim > 0) {
		for (int i = 0; i < 500 && ct_pid_start(shim); i++)
			usleep(2000);
	}
	if (made_cg)
		kx_cgroup_destroy(c.cgroup, NULL);
	if (made_dir)
		rm_rf_dir(c.dir);
	for (int i = 0; i < 8 && c.nsfd[i] > 0; i++)
		close(c.nsfd[i]);
	if (c.pidns_fd >= 0)
		close(c.pidns_fd);
	kx_oci_free(&c.spec);
	kx_buf_free(&cfg);
	return -1;
}

/* --- start, kill, delete ----------------------------------------------------- */

/* Open exec.fifo for reading: the shim, blocked opening it for writing,
 * writes one byte and lets the process run. */
static int do_start(const char *id, kx_err *e)
{
	struct state s;
	char dir[PATH_MAX], p[PATH_MAX + 16], c;
	struct pollfd pfd;
	int fd, r;

	if (state_load(id, &s, e) < 0)
		return -1;
	if (strcmp(s.status, "created")) {
		kx_err_set(e, KX_EFAIL, "container \"%s\" is %s, not created", id, s.status);
		state_free(&s);
		return -1;
	}
	state_dir(id, dir, sizeof dir);
	snprintf(p, sizeof p, "%s/exec.fifo", dir);
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		state_free(&s);
		return kx_err_set(e, KX_EFAIL, "container \"%s\": cannot open \"%s\": %s", id, p,
				  strerror(errno));
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (int waited = 0;; waited += 100) {
		r = poll(&pfd, 1, 100);
		if (r > 0 && read(fd, &c, 1) == 1)
			break;
		if (r > 0 && (pfd.revents & POLLHUP) && !shim_alive(&s)) {
			r = -1;
			break;
		}
		if (!shim_alive(&s) || waited > 10000) {
			r = -1;
			break;
		}
		if (r > 0)
			usleep(1000); /* POLLHUP before the shim's write */
	}
	close(fd);
	if (r < 0) {
		state_free(&s);
		return kx_err_set(e, KX_EFAIL, "container \"%s\" did not start: its shim is gone", id);
	}
	unlink(p);
	state_free(&s);
	return 0;
}

static int parse_signal(const char *s)
{
	static const struct { const char *n; int s; } t[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
		{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
		{"CONT", SIGCONT}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"WINCH", SIGWINCH},
	};
	char *end;
	long n = strtol(s, &end, 10);

	if (*s && !*end)
		return n > 0 && n < 65 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].s;
	return -1;
}

static int do_kill(const char *id, const char *sig, kx_err *e)
{
	struct state s;
	int n = parse_signal(sig ? sig : "TERM");

	if (n < 0)
		return kx_err_set(e, KX_EUSAGE, "unknown signal \"%s\"", sig);
	if (state_load(id, &s, e) < 0)
		return -1;
	if (!strcmp(s.status, "stopped")) {
		state_free(&s);
		return kx_err_set(e, KX_EFAIL, "container \"%s\" is not running", id);
	}
	if (s.pid <= 1 || kill(s.pid, n) < 0) {
		state_free(&s);
		return kx_err_set(e, KX_EFAIL, "cannot signal container \"%s\": %s", id, strerror(errno));
	}
	state_free(&s);
	return 0;
}

static int do_delete(const char *id, int force_it, kx_err *e)
{
	struct state s;
	char dir[PATH_MAX];

	if (state_load(id, &s, e) < 0)
		return -1;
	if (!strcmp(s.status, "running") && !force_it) {
		state_free(&s);
		return kx_err_set(e, KX_EFAIL, "container \"%s\" is running: kill it first or use --force", id);
	}
	if (strcmp(s.status, "stopped") && s.pid > 1)
		kill(s.pid, SIGKILL);
	/* the shim records the exit; wait for it to be done */
	for (int i = 0; i < 2500 && s.shim != getpid() && shim_alive(&s); i++)
		usleep(2000);
	if (s.cgroup[0] && kx_cgroup_destroy(s.cgroup, e) < 0) {
		state_free(&s);
		return -1;
	}
	state_dir(id, dir, sizeof dir);
	rm_rf_dir(dir);
	state_free(&s);
	if (access(dir, F_OK) == 0)
		return kx_err_set(e, KX_EFAIL, "cannot remove \"%s\"", dir);
	return 0;
}

/* --- run ------------------------------------------------------------------- */

static volatile sig_atomic_t fwd_pid;

static void forward(int sig)
{
	if (fwd_pid > 1)
		kill(fwd_pid, sig);
}

static int do_run(const char *id, kx_err *e)
{
	pid_t pid;
	int st, code;
	struct state s;
	struct sigaction sa = {0};
	char dir[PATH_MAX];

	/* signals before the container exists end us the usual way; after,
	 * they are passed on to it */
	if (do_create(id, &pid, 1, e) < 0)
		return -1;
	fwd_pid = pid;
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	state_dir(id, dir, sizeof dir);
	if (state_load(id, &s, e) < 0)
		return -1;
	st = ct_wait(pid, dir, s.cgroup);
	state_free(&s);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (state_load(id, &s, e) == 0) {
		if (jv_get_kind(s.exit) == JV_KIND_OBJECT && kx_jv_bool(s.exit, "oomKilled", 0))
			kx_log_error("container \"%s\" was killed for running out of memory", id);
		state_free(&s);
	}
	if (do_delete(id, 1, e) < 0)
		kx_err_print(e);
	return code;
}

/* --- exec -------------------------------------------------------------------- */

static int do_exec(const char *id, char **argv, kx_err *e)
{
	static const struct { const char *n; int t; } ns[] = {
		{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
		{"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
	};
	struct state s;
	struct kx_oci_spec spec;
	kx_buf cfg = KX_BUF_INIT;
	char p[PATH_MAX + 32], exe[PATH_MAX];
	int fds[6], st;
	pid_t child;

	if (state_load(id, &s, e) < 0)
		return -1;
	if (strcmp(s.status, "running") || s.pid <= 1) {
		kx_err_set(e, KX_EFAIL, "container \"%s\" is %s, not running", id, s.status);
		state_free(&s);
		return -1;
	}
	state_dir(id, p, sizeof p);
	strcat(p, "/config.json");
	if (kx_buf_read_file(&cfg, p, MAX_CONFIG, e) < 0 ||
	    kx_oci_parse(&spec, kx_buf_str(&cfg), cfg.len, "/", e) < 0) {
		kx_buf_free(&cfg);
		state_free(&s);
		return -1;
	}
	for (size_t i = 0; i < 6; i++) {
		char self[64], mine[64], other[64];
		snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)s.pid, ns[i].n);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		snprintf(self, sizeof self, "/proc/self/ns/%s", ns[i].n);
		/* joining the namespace we are already in is refused for some kinds */
		ssize_t a = readlink(self, mine, sizeof mine - 1), b = readlink(p, other, sizeof other - 1);
		if (fds[i] >= 0 && a > 0 && b > 0 && a == b && !memcmp(mine, other, (size_t)a)) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	if (s.cgroup[0] && kx_cgroup_enter(s.cgroup, 0, e) < 0)
		goto fail;
	for (size_t i = 0; i < 6; i++)
		if (fds[i] >= 0 && setns(fds[i], ns[i].t) < 0) {
			kx_err_set(e, KX_EFAIL, "cannot join the %s namespace of \"%s\": %s", ns[i].n, id,
				   strerror(errno));
			goto fail;
		}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		kx_err_set(e, KX_EFAIL, "fork: %s", strerror(errno));
		goto fail;
	}
	if (child == 0) {
		if (chdir(spec.cwd) < 0)
			(void)!chdir("/");
		if (ct_find_exec(argv[0], spec.env, exe, sizeof exe, e) < 0 ||
		    ct_apply_identity(&spec, e) < 0) {
			kx_err_print(e);
			_exit(127);
		}
		execve(exe, argv, spec.env);
		kx_log_error("cannot run \"%s\": %s", exe, strerror(errno));
		_exit(127);
	}
	fwd_pid = child;
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	kx_oci_free(&spec);
	kx_buf_free(&cfg);
	state_free(&s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
fail:
	kx_oci_free(&spec);
	kx_buf_free(&cfg);
	state_free(&s);
	return -1;
}

/* --- list ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int do_list(kx_err *e)
{
	DIR *d = opendir(root_dir);
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;

	printf("ID\tPID\tSTATUS\tBUNDLE\tCREATED\n");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !kx_oci_valid_id(de->d_name))
			continue;
		ids = realloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(ids, n, sizeof *ids, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct state s;
		kx_err ignore = KX_ERR_INIT;
		char b[PATH_MAX], c[64];
		if (state_load(ids[i], &s, &ignore) == 0) {
			printf("%s\t%d\t%s\t%s\t%s\n", s.id, strcmp(s.status, "stopped") ? (int)s.pid : 0,
			       s.status, kx_jv_str(s.json, "bundle", b, sizeof b, ""),
			       kx_jv_str(s.json, "created", c, sizeof c, ""));
			state_free(&s);
		}
		free(ids[i]);
	}
	free(ids);
	(void)e;
	return 0;
}

/* --- main ----------------------------------------------------------------- */

static int need(int argc, int want, const char *cmd, kx_err *e)
{
	if (argc != want)
		return kx_err_set(e, KX_EUSAGE, "%s: expected %s", cmd, want == 2 ? "an ID" : "arguments");
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = {"create", "start", "run", "state", "kill", "delete",
					   "list", "exec", NULL};
	struct kx_cli cli;
	kx_err e = KX_ERR_INIT;
	int c, rc = 0;
	const char *cmd;

	kx_log_init(argv[0]);
	kx_cli_init(&cli, opts);
	/* twice: the global options, then the command's own (runc's order) */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (optind >= argc) {
				kx_cli_free(&cli);
				kx_cli_usage(stderr, synopsis, opts);
				return KX_EUSAGE;
			}
			argc -= optind;
			argv += optind;
			optind = 1;
		}
		while ((c = getopt_long(argc, argv, cli.shortopts, cli.longopts, NULL)) != -1) {
			switch (c) {
			case OPT_ROOT:
				root_dir = optarg;
				break;
			case 'b':
				bundle_opt = optarg;
				break;
			case 'f':
				force = 1;
				break;
			case OPT_PIDFILE:
				pid_file = optarg;
				break;
			default:
				if ((c = kx_cli_common(c, synopsis, opts, cmds)) != KX_CLI_NEXT) {
					kx_cli_free(&cli);
					return kx_cli_exit(c);
				}
			}
		}
	}
	kx_cli_free(&cli);
	/* the command is argv[0] after the second pass; its operands follow */
	argv[optind - 1] = argv[0];
	argv += optind - 1;
	argc -= optind - 1;
	cmd = argv[0];
	if (!strcmp(cmd, "create")) {
		pid_t pid;
		if (need(argc, 2, cmd, &e) == 0 && do_create(argv[1], &pid, 0, &e) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "start")) {
		if (need(argc, 2, cmd, &e) < 0 || do_start(argv[1], &e) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "run")) {
		if (need(argc, 2, cmd, &e) < 0)
			rc = -1;
		else if ((rc = do_run(argv[1], &e)) >= 0)
			return kx_cli_exit(rc);
	} else if (!strcmp(cmd, "state")) {
		struct state s;
		if (need(argc, 2, cmd, &e) < 0 || state_load(argv[1], &s, &e) < 0)
			rc = -1;
		else {
			if (kx_json_print(state_json(&s), 1) < 0)
				rc = -1;
			state_free(&s);
		}
	} else if (!strcmp(cmd, "kill")) {
		if (argc != 2 && argc != 3)
			rc = kx_err_set(&e, KX_EUSAGE, "kill: expected ID [SIGNAL]");
		else if (do_kill(argv[1], argc == 3 ? argv[2] : NULL, &e) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "delete")) {
		if (need(argc, 2, cmd, &e) < 0 || do_delete(argv[1], force, &e) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "list")) {
		if (do_list(&e) < 0)
			rc = -1;
	} else if (!strcmp(cmd, "exec")) {
		int skip = argc > 2 && !strcmp(argv[2], "--");
		if (argc < 3 + skip)
			rc = kx_err_set(&e, KX_EUSAGE, "exec: expected ID -- CMD...");
		else if ((rc = do_exec(argv[1], argv + 2 + skip, &e)) >= 0)
			return kx_cli_exit(rc);
	} else {
		rc = kx_err_set(&e, KX_EUSAGE, "unknown command \"%s\"", cmd);
	}
	if (rc < 0) {
		if (!e.status)
			e.status = KX_EFAIL;
		kx_err_print(&e);
		if (e.status == KX_EUSAGE)
			kx_cli_usage(stderr, synopsis, opts);
		return e.status;
	}
	return kx_cli_exit(0);
}
