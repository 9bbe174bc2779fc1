/* cgroup.c: create, fill, limit and remove one container's cgroup on v1 or
 * pure v2. See cgroup.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "err.h"

#define MAX_HIER 16

static const char *const v1_controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids",
					     "devices", "freezer", "blkio", NULL};

static struct hier {
	char mnt[PATH_MAX];
	char opts[256]; /* the controllers, comma separated */
} hiers[MAX_HIER];
static int nhiers = -1;
static enum kx_cgroup_mode mode = KX_CGROUP_NONE;

static int has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);
	const char *p = opts;

	while ((p = strstr(p, name))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

/* Read /proc/self/mountinfo once: the v1 hierarchies we use, or the v2 tree. */
static void scan(void)
{
	FILE *f;
	char line[4096];
	struct statfs sf;

	if (nhiers >= 0)
		return;
	nhiers = 0;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		mode = KX_CGROUP_V2;
		snprintf(hiers[0].mnt, sizeof hiers[0].mnt, "/sys/fs/cgroup");
		hiers[0].opts[0] = 0;
		nhiers = 1;
		return;
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f) && nhiers < MAX_HIER) {
		char mnt[PATH_MAX], fstype[64], src[256], sopts[1024];
		char *dash = strstr(line, " - ");
		int dup = 0;

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (sscanf(dash + 3, "%63s %255s %1023s", fstype, src, sopts) != 3)
			continue;
		if (strcmp(fstype, "cgroup"))
			continue;
		for (int i = 0; i < nhiers; i++)
			dup |= !strcmp(hiers[i].mnt, mnt);
		if (dup)
			continue;
		int want = 0;
		for (int i = 0; v1_controllers[i]; i++)
			want |= has_opt(sopts, v1_controllers[i]);
		if (!want)
			continue;
		snprintf(hiers[nhiers].mnt, sizeof hiers[nhiers].mnt, "%s", mnt);
		snprintf(hiers[nhiers].opts, sizeof hiers[nhiers].opts, "%s", sopts);
		nhiers++;
	}
	fclose(f);
	if (nhiers)
		mode = KX_CGROUP_V1;
}

enum kx_cgroup_mode kx_cgroup_mode(void)
{
	scan();
	return mode;
}

static struct hier *find(const char *controller)
{
	scan();
	if (mode == KX_CGROUP_V2)
		return &hiers[0];
	for (int i = 0; i < nhiers; i++)
		if (has_opt(hiers[i].opts, controller))
			return &hiers[i];
	return NULL;
}

char *kx_cgroup_dir(const char *controller, const char *path, char *buf, size_t n)
{
	struct hier *h = find(controller);

	if (!h)
		return NULL;
	snprintf(buf, n, "%s%s%s", h->mnt, path[0] == '/' ? "" : "/", path);
	return buf;
}

static int write_file(const char *dir, const char *file, const char *val, kx_err *e)
{
	char p[PATH_MAX];
	int fd;
	ssize_t n;

	snprintf(p, sizeof p, "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot open \"%s\": %s", p, strerror(errno));
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int err = errno;
		close(fd);
		return kx_err_set(e, KX_EFAIL, "cannot write \"%s\" to \"%s\": %s", val, p,
				  strerror(err));
	}
	close(fd);
	return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t n)
{
	char p[PATH_MAX];
	int fd;
	ssize_t r;

	snprintf(p, sizeof p, "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = 0;
	return 0;
}

uint64_t kx_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* A v1 cpuset level takes no task until its cpus and mems are set: fill
 * either one that is empty from the parent. Done on every level, made now
 * or found: another agent may have made it a moment ago and not filled it
 * yet (or died before it did), and what is made below it copies it. */
static int fill_cpuset(const char *parent, const char *dir, kx_err *e)
{
	const char *f[] = {"cpuset.cpus", "cpuset.mems"};
	char v[256], have[256];

	for (int i = 0; i < 2; i++) {
		if (read_file(dir, f[i], have, sizeof have) == 0 && have[0])
			continue;
		if (read_file(parent, f[i], v, sizeof v) == 0 && v[0] && write_file(dir, f[i], v, e) < 0)
			return -1;
	}
	return 0;
}

/* mkdir -p below the hierarchy's mount; for a v1 cpuset hierarchy fill
 * cpus/mems into each level; on v2 enable controllers on the way. */
static int make_path(struct hier *h, const char *path, kx_err *e)
{
	char dir[PATH_MAX], parent[PATH_MAX];
	const char *p = path;
	int cpuset = mode == KX_CGROUP_V1 && has_opt(h->opts, "cpuset");

	snprintf(dir, sizeof dir, "%s", h->mnt);
	while (*p) {
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		snprintf(parent, sizeof parent, "%s", dir);
		if (strlen(dir) + len + 2 > sizeof dir)
			return kx_err_set(e, KX_EFAIL, "cgroup path \"%s\" too long", path);
		strcat(dir, "/");
		strncat(dir, p, len);
		p += len;
		if (mode == KX_CGROUP_V2) {
			char ctl[512];
			if (read_file(parent, "cgroup.controllers", ctl, sizeof ctl) == 0) {
				const char *want[] = {"cpu", "cpuset", "memory", "pids", "io", NULL};
				for (int i = 0; want[i]; i++) {
					char w[32];
					if (!has_opt(ctl, want[i]) && !strstr(ctl, want[i]))
						continue;
					snprintf(w, sizeof w, "+%s", want[i]);
					write_file(parent, "cgroup.subtree_control", w, NULL);
				}
			}
		}
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return kx_err_set(e, KX_EFAIL, "cannot create cgroup \"%s\": %s", dir,
					  strerror(errno));
		if (cpuset && fill_cpuset(parent, dir, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_limits(const char *path, const struct kx_cgroup_limits *l, kx_err *e)
{
	char d[PATH_MAX], v[128];

	if (mode == KX_CGROUP_V2) {
		kx_cgroup_dir("", path, d, sizeof d);
		if (l->memory >= 0) {
			snprintf(v, sizeof v, "%lld", (long long)l->memory);
			if (write_file(d, "memory.max", v, e) < 0)
				return -1;
		}
		if (l->memory_swap >= 0 && l->memory >= 0) {
			snprintf(v, sizeof v, "%lld", (long long)(l->memory_swap - l->memory));
			write_file(d, "memory.swap.max", v, NULL);
		}
		if (l->cpu_quota != -1 || l->cpu_period) {
			char q[32];
			if (l->cpu_quota > 0)
				snprintf(q, sizeof q, "%lld", (long long)l->cpu_quota);
			else
				snprintf(q, sizeof q, "max");
			snprintf(v, sizeof v, "%s %llu", q,
				 (unsigned long long)(l->cpu_period ? l->cpu_period : 100000));
			if (write_file(d, "cpu.max", v, e) < 0)
				return -1;
		}
		if (l->cpu_shares) {
			snprintf(v, sizeof v, "%llu",
				 (unsigned long long)kx_cgroup_shares_to_weight(l->cpu_shares));
			if (write_file(d, "cpu.weight", v, e) < 0)
				return -1;
		}
		if (l->pids != -1) {
			if (l->pids > 0)
				snprintf(v, sizeof v, "%lld", (long long)l->pids);
			else
				snprintf(v, sizeof v, "max");
			if (write_file(d, "pids.max", v, e) < 0)
				return -1;
		}
		if (l->cpuset_cpus[0] && write_file(d, "cpuset.cpus", l->cpuset_cpus, e) < 0)
			return -1;
		if (l->cpuset_mems[0] && write_file(d, "cpuset.mems", l->cpuset_mems, e) < 0)
			return -1;
		return 0;
	}
	if (l->memory >= 0 || l->memory_swap >= 0) {
		if (!kx_cgroup_dir("memory", path, d, sizeof d))
			return kx_err_set(e, KX_EFAIL, "no memory cgroup hierarchy for the memory limit");
		if (l->memory >= 0) {
			snprintf(v, sizeof v, "%lld", (long long)l->memory);
			if (write_file(d, "memory.limit_in_bytes", v, e) < 0)
				return -1;
		}
		if (l->memory_swap >= 0) {
			snprintf(v, sizeof v, "%lld", (long long)l->memory_swap);
			if (write_file(d, "memory.memsw.limit_in_bytes", v, e) < 0)
				return -1;
		}
	}
	if (l->cpu_quota != -1 || l->cpu_period || l->cpu_shares) {
		if (!kx_cgroup_dir("cpu", path, d, sizeof d))
			return kx_err_set(e, KX_EFAIL, "no cpu cgroup hierarchy for the cpu limits");
		if (l->cpu_period) {
			snprintf(v, sizeof v, "%llu", (unsigned long long)l->cpu_period);
			if (write_file(d, "cpu.cfs_period_us", v, e) < 0)
				return -1;
		}
		if (l->cpu_quota != -1) {
			snprintf(v, sizeof v, "%lld", (long long)(l->cpu_quota > 0 ? l->cpu_quota : -1));
			if (write_file(d, "cpu.cfs_quota_us", v, e) < 0)
				return -1;
		}
		if (l->cpu_shares) {
			snprintf(v, sizeof v, "%llu", (unsigned long long)l->cpu_shares);
			if (write_file(d, "cpu.shares", v, e) < 0)
				return -1;
		}
	}
	if (l->pids != -1) {
		if (!kx_cgroup_dir("pids", path, d, sizeof d))
			return kx_err_set(e, KX_EFAIL, "no pids cgroup hierarchy for the pids limit");
		if (l->pids > 0)
			snprintf(v, sizeof v, "%lld", (long long)l->pids);
		else
			snprintf(v, sizeof v, "max");
		if (write_file(d, "pids.max", v, e) < 0)
			return -1;
	}
	if (l->cpuset_cpus[0] || l->cpuset_mems[0]) {
		if (!kx_cgroup_dir("cpuset", path, d, sizeof d))
			return kx_err_set(e, KX_EFAIL, "no cpuset cgroup hierarchy for the cpuset");
		if (l->cpuset_cpus[0] && write_file(d, "cpuset.cpus", l->cpuset_cpus, e) < 0)
			return -1;
		if (l->cpuset_mems[0] && write_file(d, "cpuset.mems", l->cpuset_mems, e) < 0)
			return -1;
	}
	return 0;
}

int kx_cgroup_create(const char *path, const struct kx_cgroup_limits *lim, kx_err *e)
{
	scan();
	if (!kx_cgroup_path_ok(path))
		return kx_err_set(e, KX_EFAIL, "cgroup path \"%s\": absolute, below the root, no \".\" or \"..\"",
				  path);
	if (mode == KX_CGROUP_NONE)
		return kx_err_set(e, KX_EFAIL, "no cgroup hierarchy is mounted under /sys/fs/cgroup");
	for (int i = 0; i < nhiers; i++)
		if (make_path(&hiers[i], path, e) < 0)
			goto fail;
	if (lim && apply_limits(path, lim, e) < 0)
		goto fail;
	return 0;
fail:
	kx_cgroup_destroy(path, NULL);
	return -1;
}

int kx_cgroup_enter(const char *path, pid_t pid, kx_err *e)
{
	char d[PATH_MAX], v[32];

	scan();
	if (!kx_cgroup_path_ok(path) || pid < 0)
		return kx_err_set(e, KX_EFAIL, "cannot enter cgroup \"%s\": not a path below the root", path);
	snprintf(v, sizeof v, "%d", (int)pid);
	for (int i = 0; i < nhiers; i++) {
		snprintf(d, sizeof d, "%s%s", hiers[i].mnt, path);
		/* On v1 a single-threaded caller moves itself through "tasks":
		 * that skips the kernel's global threadgroup lock, whose RCU
		 * grace period costs tens of milliseconds per container. */
		if (write_file(d, mode == KX_CGROUP_V1 && pid == 0 ? "tasks" : "cgroup.procs", v, e) < 0)
			return -1;
	}
	return 0;
}

int kx_cgroup_device_rule(const char *path, int allow, const char *rule, kx_err *e)
{
	char d[PATH_MAX];

	if (kx_cgroup_mode() != KX_CGROUP_V1 || !kx_cgroup_dir("devices", path, d, sizeof d))
		return 0;
	return write_file(d, allow ? "devices.allow" : "devices.deny", rule, e);
}

int kx_cgroup_exists(const char *path)
{
	char d[PATH_MAX];
	struct stat st;

	scan();
	for (int i = 0; i < nhiers; i++) {
		snprintf(d, sizeof d, "%s%s", hiers[i].mnt, path);
		if (stat(d, &st) == 0)
			return 1;
	}
	return 0;
}

int kx_cgroup_path_ok(const char *path)
{
	const char *p = path;

	if (!path || path[0] != '/' || strlen(path) >= 2048)
		return 0;
	while (*p) {
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += len;
	}
	/* at least one component: never the root of a hierarchy */
	return strspn(path, "/") < strlen(path);
}

/* SIGKILL every process listed in dir/cgroup.procs. Only whole lines with a
 * pid above 1 are used: a pid the reader cannot see reads as 0, and kill(0)
 * or kill(-1) would hit our own process group or every process. */
static void kill_all(const char *dir)
{
	char p[PATH_MAX], buf[4096];
	char line[32];
	size_t ll = 0;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "%s/cgroup.procs", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof line - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			ll = 0;
			char *end;
			long pid = strtol(line, &end, 10);
			if (end != line && !*end && pid > 1 && pid <= INT_MAX && pid != getpid())
				kill((pid_t)pid, SIGKILL);
		}
	}
	close(fd);
}

int kx_cgroup_destroy(const char *path, kx_err *e)
{
	char d[PATH_MAX];
	int rc = 0;

	scan();
	if (!kx_cgroup_path_ok(path))
		return kx_err_set(e, KX_EFAIL, "refusing to remove cgroup \"%s\": not a path below the root",
				  path);
	for (int i = 0; i < nhiers; i++) {
		snprintf(d, sizeof d, "%s%s", hiers[i].mnt, path);
		for (int tries = 0; tries < 100; tries++) {
			if (rmdir(d) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				rc = kx_err_set(e, KX_EFAIL, "cannot remove cgroup \"%s\": %s", d,
						strerror(errno));
				break;
			}
			kill_all(d);
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			if (tries == 99)
				rc = kx_err_set(e, KX_EFAIL, "cannot remove cgroup \"%s\": still busy", d);
		}
	}
	return rc;
}

int64_t kx_cgroup_oom_kills(const char *path)
{
	char d[PATH_MAX], buf[1024];
	const char *file = kx_cgroup_mode() == KX_CGROUP_V2 ? "memory.events" : "memory.oom_control";
	char *p;

	if (!kx_cgroup_dir("memory", path, d, sizeof d) || read_file(d, file, buf, sizeof buf) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "oom_kill ", 9))
			return strtoll(p + 9, NULL, 10);
	return -1;
}
