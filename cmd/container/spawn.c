/* spawn.c: the shim and the container's init.
 *
 * create forks a shim (a small monitor process, in its own session) that
 * stays until the container ends. The shim forks the container's init into
 * a new pid namespace; init joins the cgroup, the namespaces it is told to
 * join, makes the new ones, builds the root file system (mounts, /dev,
 * pivot_root, masked and read-only paths, sysctl), sets hostname, rlimits,
 * oom_score_adj, user and capabilities, then tells the shim it is ready and
 * waits. The shim blocks opening exec.fifo for writing: `start` opens it
 * for reading, which lets the shim tell init to exec the process. The shim
 * then waits for the container and writes its exit status, and whether the
 * OOM killer struck, to exit.json, so `state` knows it even if nobody
 * waited. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/capability.h>
#include <linux/openat2.h>

#include "cgroup.h"
#include "clock.h"
#include "container.h"
#include "json.h"
#include "log.h"

/* --- small helpers ------------------------------------------------------ */

int ct_write_file(const char *path, const char *data, size_t n, kx_err *e)
{
	char tmp[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", tmp, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, data, n);
		if (w < 0) {
			int err = errno;
			close(fd);
			unlink(tmp);
			return kx_err_set(e, KX_EFAIL, "cannot write \"%s\": %s", tmp, strerror(err));
		}
		data += w;
		n -= (size_t)w;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return kx_err_set(e, KX_EFAIL, "cannot rename to \"%s\": %s", path, strerror(err));
	}
	return 0;
}

unsigned long long ct_pid_start(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long long start = 0;
	int fd;
	ssize_t n;

	if (pid <= 0)
		return 0;
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	/* after ")": state is field 3; starttime is field 22 */
	if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	if (s[2] == 'Z' || s[2] == 'X')
		return 0; /* a zombie has finished */
	return start;
}

int ct_find_exec(const char *argv0, char *const *env, char *buf, size_t n, kx_err *e)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char copy[4096], *dir, *save = NULL;
	struct stat st;

	if (strchr(argv0, '/')) {
		snprintf(buf, n, "%s", argv0);
		if (stat(buf, &st) < 0)
			return kx_err_set(e, KX_EFAIL, "executable \"%s\": %s", argv0, strerror(errno));
		if (!S_ISREG(st.st_mode) || access(buf, X_OK) < 0)
			return kx_err_set(e, KX_EFAIL, "\"%s\" is not an executable file", argv0);
		return 0;
	}
	for (char *const *v = env; v && *v; v++)
		if (!strncmp(*v, "PATH=", 5))
			path = *v + 5;
	snprintf(copy, sizeof copy, "%s", path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, n, "%s/%s", dir, argv0);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
	}
	return kx_err_set(e, KX_EFAIL, "executable \"%s\" not found in $PATH", argv0);
}

int ct_apply_identity(const struct kx_oci_spec *s, kx_err *e)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	if (s->has_caps) {
		for (int c = 0; c <= last && c < 64; c++)
			if (!(s->caps[KX_CAP_BOUNDING] & (1ull << c)) &&
			    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
				return kx_err_set(e, KX_EFAIL, "cannot drop capability %d from the bounding set: %s",
						  c, strerror(errno));
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return kx_err_set(e, KX_EFAIL, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
	if (setgroups(s->ngids, s->gids) < 0)
		return kx_err_set(e, KX_EFAIL, "process.user.additionalGids: setgroups: %s", strerror(errno));
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		return kx_err_set(e, KX_EFAIL, "process.user.gid %u: %s", (unsigned)s->gid, strerror(errno));
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		return kx_err_set(e, KX_EFAIL, "process.user.uid %u: %s", (unsigned)s->uid, strerror(errno));
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (s->has_caps) {
		static const cap_flag_t flag[] = {0, CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};
		cap_t cp = cap_init();
		for (int k = KX_CAP_EFFECTIVE; k <= KX_CAP_INHERITABLE; k++)
			for (int c = 0; c <= last && c < 64; c++)
				if (s->caps[k] & (1ull << c)) {
					cap_value_t v = c;
					cap_set_flag(cp, flag[k], 1, &v, CAP_SET);
				}
		if (cap_set_proc(cp) < 0) {
			int err = errno;
			cap_free(cp);
			return kx_err_set(e, KX_EFAIL, "process.capabilities: cannot set: %s", strerror(err));
		}
		cap_free(cp);
		cap_reset_ambient();
		for (int c = 0; c <= last && c < 64; c++)
			if ((s->caps[KX_CAP_AMBIENT] & (1ull << c)) && cap_set_ambient(c, CAP_SET) < 0)
				return kx_err_set(e, KX_EFAIL,
						  "process.capabilities.ambient: cannot raise capability %d: %s",
						  c, strerror(errno));
	}
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return kx_err_set(e, KX_EFAIL, "noNewPrivileges: %s", strerror(errno));
	return 0;
}

/* --- the root file system ----------------------------------------------- */

/* Resolve path inside the root directory rootfd, symlinks included, never
 * leaving it; create what is missing (directories, or an empty file as the
 * last component when file is set). Returns an O_PATH fd. */
static int open_in_root(int rootfd, const char *path, int create, int file, kx_err *e)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	char prefix[PATH_MAX];
	const char *p = path;
	int fd;

	fd = (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".", &how, sizeof how);
	if (fd >= 0 || !create || errno != ENOENT) {
		if (fd < 0)
			kx_err_set(e, KX_EFAIL, "cannot open \"%s\" in the root file system: %s", path,
				   strerror(errno));
		return fd;
	}
	prefix[0] = 0;
	while (*p) {
		size_t len;
		int pfd;
		char name[NAME_MAX + 1];
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len > NAME_MAX)
			return kx_err_set(e, KX_EFAIL, "\"%s\": name too long", path);
		memcpy(name, p, len);
		name[len] = 0;
		p += len;
		while (*p == '/')
			p++;
		pfd = (int)syscall(SYS_openat2, rootfd, prefix[0] ? prefix : ".", &how, sizeof how);
		if (pfd < 0)
			return kx_err_set(e, KX_EFAIL, "cannot open \"%s\": %s", prefix, strerror(errno));
		if (!*p && file) {
			int f = openat(pfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (f >= 0)
				close(f);
		} else if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) {
			int err = errno;
			close(pfd);
			return kx_err_set(e, KX_EFAIL, "cannot create \"%s\" in the root file system: %s",
					  path, strerror(err));
		}
		close(pfd);
		snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "/%s", name);
	}
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	if (fd < 0)
		return kx_err_set(e, KX_EFAIL, "cannot open \"%s\" in the root file system: %s", path,
				  strerror(errno));
	return fd;
}

static void fdpath(int fd, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

static int mount_cgroup_fs(int rootfd, const struct ct *c, const struct kx_oci_mount *m, kx_err *e)
{
	static const char *const ctl[] = {"memory", "cpu", "cpuacct", "cpuset", "pids",
					  "devices", "freezer", "blkio", NULL};
	char target[64], src[PATH_MAX], sub[PATH_MAX];
	int fd = open_in_root(rootfd, m->dest, 1, 0, e);

	if (fd < 0)
		return -1;
	fdpath(fd, target, sizeof target);
	if (kx_cgroup_mode() == KX_CGROUP_V2) {
		int r = mount("cgroup2", target, "cgroup2", m->flags, NULL);
		close(fd);
		if (r < 0)
			return kx_err_set(e, KX_EFAIL, "mount cgroup2 on \"%s\": %s", m->dest, strerror(errno));
		return 0;
	}
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0) {
		close(fd);
		return kx_err_set(e, KX_EFAIL, "mount tmpfs on \"%s\": %s", m->dest, strerror(errno));
	}
	close(fd);
	for (int i = 0; ctl[i]; i++) {
		int sfd;
		if (!kx_cgroup_dir(ctl[i], c->cgroup, src, sizeof src))
			continue;
		snprintf(sub, sizeof sub, "%s/%s", m->dest, ctl[i]);
		sfd = open_in_root(rootfd, sub, 1, 0, e);
		if (sfd < 0)
			return -1;
		fdpath(sfd, target, sizeof target);
		if (mount(src, target, NULL, MS_BIND, NULL) < 0) {
			close(sfd);
			return kx_err_set(e, KX_EFAIL, "bind cgroup \"%s\": %s", src, strerror(errno));
		}
		close(sfd);
		sfd = open_in_root(rootfd, sub, 0, 0, e); /* the new mount's root */
		if (sfd < 0)
			return -1;
		fdpath(sfd, target, sizeof target);
		if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			close(sfd);
			return kx_err_set(e, KX_EFAIL, "bind cgroup \"%s\" read-only: %s", src, strerror(errno));
		}
		close(sfd);
	}
	if (m->flags & MS_RDONLY) {
		fd = open_in_root(rootfd, m->dest, 0, 0, e);
		if (fd < 0)
			return -1;
		fdpath(fd, target, sizeof target);
		mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
		close(fd);
	}
	return 0;
}

static int do_mount(int rootfd, const struct ct *c, const struct kx_oci_mount *m, kx_err *e)
{
	char target[64];
	int fd, file = 0;
	unsigned long f = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

	if (m->type && !strcmp(m->type, "cgroup") && !m->bind)
		return mount_cgroup_fs(rootfd, c, m, e);
	if (m->bind) {
		struct stat st;
		if (stat(m->source, &st) < 0)
			return kx_err_set(e, KX_EFAIL, "mount source \"%s\": %s", m->source, strerror(errno));
		file = !S_ISDIR(st.st_mode);
	}
	fd = open_in_root(rootfd, m->dest, 1, file, e);
	if (fd < 0)
		return -1;
	fdpath(fd, target, sizeof target);
	if (m->bind) {
		if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
			goto fail;
	} else if (mount(m->source, target, m->type, f, m->data[0] ? m->data : NULL) < 0)
		goto fail;
	if ((m->bind && f) || m->propagation) {
		/* fd still names the directory under the new mount: open the
		 * new mount's root to change its flags or propagation */
		close(fd);
		fd = open_in_root(rootfd, m->dest, 0, 0, e);
		if (fd < 0)
			return -1;
		fdpath(fd, target, sizeof target);
		if (m->bind && f && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
			goto fail;
		if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
			goto fail;
	}
	close(fd);
	return 0;
fail:
	kx_err_set(e, KX_EFAIL, "mount %s \"%s\" on \"%s\": %s", m->bind ? "bind" : m->type,
		   m->source, m->dest, strerror(errno));
	close(fd);
	return -1;
}

/* When the device cgroup forbids mknod (linux.resources.devices denies
 * it), bind the host's node of the same path and number instead, as runc
 * does: opening it is still subject to the cgroup. */
static int bind_host_device(int dfd, const char *path, const char *name, mode_t fmt, int64_t maj,
			    int64_t min)
{
	struct stat st;
	char target[64];
	int f, r;

	if (fmt == S_IFIFO || stat(path, &st) < 0 || (st.st_mode & S_IFMT) != fmt ||
	    st.st_rdev != makedev(maj, min))
		return -1;
	f = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return -1;
	close(f);
	f = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0)
		return -1;
	fdpath(f, target, sizeof target);
	r = mount(path, target, NULL, MS_BIND, NULL);
	close(f);
	return r;
}

static int make_device(int rootfd, const char *path, char type, int64_t maj, int64_t min,
		       unsigned mode, uid_t uid, gid_t gid, kx_err *e)
{
	char dir[PATH_MAX], target[64];
	const char *base = strrchr(path, '/');
	int dfd;
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	snprintf(dir, sizeof dir, "%.*s", (int)(base - path), path);
	dfd = open_in_root(rootfd, dir, 1, 0, e);
	if (dfd < 0)
		return -1;
	fdpath(dfd, target, sizeof target);
	{
		int real = open(target, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		close(dfd);
		if (real < 0)
			return kx_err_set(e, KX_EFAIL, "device \"%s\": %s", path, strerror(errno));
		dfd = real;
	}
	unlinkat(dfd, base + 1, 0);
	if (mknodat(dfd, base + 1, fmt | (mode & 07777), makedev(maj, min)) < 0) {
		int err = errno;
		if (err == EPERM && bind_host_device(dfd, path, base + 1, fmt, maj, min) == 0) {
			close(dfd);
			return 0;
		}
		close(dfd);
		return kx_err_set(e, KX_EFAIL, "device \"%s\": mknod: %s", path, strerror(err));
	}
	fchmodat(dfd, base + 1, mode & 07777, 0);
	if (fchownat(dfd, base + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;
		close(dfd);
		return kx_err_set(e, KX_EFAIL, "device \"%s\": chown: %s", path, strerror(err));
	}
	close(dfd);
	return 0;
}

static int setup_dev(int rootfd, const struct kx_oci_spec *s, int own_dev, kx_err *e)
{
	static const struct { const char *p; int maj, min; } std[] = {
		{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
		{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
	};
	static const struct { const char *l, *t; } links[] = {
		{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
	};
	if (own_dev) {
		char target[64];
		int dfd = open_in_root(rootfd, "/dev", 1, 0, e), real;
		if (dfd < 0)
			return -1;
		for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
			if (make_device(rootfd, std[i].p, 'c', std[i].maj, std[i].min, 0666, 0, 0, e) < 0) {
				close(dfd);
				return -1;
			}
		fdpath(dfd, target, sizeof target);
		real = open(target, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		close(dfd);
		if (real >= 0) {
			for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
				symlinkat(links[i].t, real, links[i].l);
			mkdirat(real, "pts", 0755);
			mkdirat(real, "shm", 01777);
			close(real);
		}
	}
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct kx_oci_device *d = &s->devices[i];
		if (make_device(rootfd, d->path, d->type, d->major, d->minor, d->mode, d->uid, d->gid, e) < 0)
			return -1;
	}
	return 0;
}

static int write_proc(const char *path, const char *val, kx_err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return kx_err_set(e, KX_EFAIL, "cannot write \"%s\" to \"%s\": %s", val, path, strerror(err));
	}
	close(fd);
	return 0;
}

static int setup_rootfs(struct ct *c, kx_err *e)
{
	struct kx_oci_spec *s = &c->spec;
	int rootfd, own_dev = 1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot make / private: %s", strerror(errno));
	if (mount(s->root, s->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot bind the root \"%s\": %s", s->root, strerror(errno));
	rootfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return kx_err_set(e, KX_EFAIL, "root \"%s\": %s", s->root, strerror(errno));
	for (size_t i = 0; i < s->nmounts; i++)
		if (!strcmp(s->mounts[i].dest, "/dev") || !strcmp(s->mounts[i].dest, "/dev/"))
			own_dev = 0;
	if (own_dev) {
		struct kx_oci_mount dev = {.dest = "/dev", .type = "tmpfs", .source = "tmpfs",
					   .flags = MS_NOSUID | MS_STRICTATIME, .data = "mode=755,size=65536k"};
		if (do_mount(rootfd, c, &dev, e) < 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct kx_oci_mount *m = &s->mounts[i];
		if (do_mount(rootfd, c, m, e) < 0)
			goto fail;
		if (!strcmp(m->dest, "/dev") && m->type && !strcmp(m->type, "tmpfs"))
			own_dev = 1; /* a tmpfs /dev from the config: fill it like ours */
	}
	if (setup_dev(rootfd, s, own_dev, e) < 0)
		goto fail;
	close(rootfd);
	if (chdir(s->root) < 0)
		return kx_err_set(e, KX_EFAIL, "chdir \"%s\": %s", s->root, strerror(errno));
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return kx_err_set(e, KX_EFAIL, "pivot_root into \"%s\": %s", s->root, strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot detach the old root: %s", strerror(errno));
	if (chdir("/") < 0)
		return kx_err_set(e, KX_EFAIL, "chdir /: %s", strerror(errno));
	for (size_t i = 0; i < s->nsysctl; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "/proc/sys/%s", s->sysctl_keys[i]);
		for (char *q = p + 10; *q; q++)
			if (*q == '.')
				*q = '/';
		if (write_proc(p, s->sysctl_vals[i], e) < 0)
			return kx_err_wrap(e, "linux.sysctl.%s", s->sysctl_keys[i]);
	}
	for (size_t i = 0; i < s->nmasked; i++) {
		struct stat st;
		const char *p = s->masked[i];
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0
					: mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
			return kx_err_set(e, KX_EFAIL, "linux.maskedPaths: \"%s\": %s", p, strerror(errno));
	}
	for (size_t i = 0; i < s->nreadonly; i++) {
		const char *p = s->readonly[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return kx_err_set(e, KX_EFAIL, "linux.readonlyPaths: \"%s\": %s", p, strerror(errno));
		}
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return kx_err_set(e, KX_EFAIL, "linux.readonlyPaths: \"%s\": %s", p, strerror(errno));
	}
	if (s->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return kx_err_set(e, KX_EFAIL, "root.readonly: %s", strerror(errno));
	return 0;
fail:
	close(rootfd);
	return -1;
}

/* --- the container's init ---------------------------------------------- */

static void report(int fd, const char *msg)
{
	size_t n = strlen(msg);

	if (write(fd, msg, n) < 0)
		_exit(1);
}

/* Runs in the child of the shim, as pid 1 of the new pid namespace. */
static void init_main(struct ct *c, int ready_fd, int go_fd)
{
	struct kx_oci_spec *s = &c->spec;
	kx_err e = KX_ERR_INIT;
	char exe[PATH_MAX], msg[1100], go;
	int clone = s->clone_flags & ~CLONE_NEWPID;
	struct stat mnt_before;

	if (kx_cgroup_enter(c->cgroup, 0, &e) < 0)
		goto fail;
	for (int i = 0; c->nsfd[i] >= 0; i++)
		if (setns(c->nsfd[i], c->nsfd_type[i]) < 0) {
			kx_err_set(&e, KX_EFAIL, "cannot join namespace %d: %s", i, strerror(errno));
			goto fail;
		}
	if (stat("/proc/self/ns/mnt", &mnt_before) < 0)
		memset(&mnt_before, 0, sizeof mnt_before);
	if (unshare(clone) < 0) {
		kx_err_set(&e, KX_EFAIL, "cannot create namespaces: %s", strerror(errno));
		goto fail;
	}
	if (clone & CLONE_NEWNS) {
		/* Never change mounts or propagation in the mount namespace we
		 * came from: make sure we really are in a new one. */
		struct stat now;
		if (stat("/proc/self/ns/mnt", &now) < 0 || now.st_ino == mnt_before.st_ino) {
			kx_err_set(&e, KX_EFAIL, "not in a new mount namespace: refusing to set up the root");
			goto fail;
		}
		if (setup_rootfs(c, &e) < 0)
			goto fail;
	}
	if (!(clone & CLONE_NEWNS)) {
		if (chroot(s->root) < 0 || chdir("/") < 0) {
			kx_err_set(&e, KX_EFAIL, "chroot \"%s\": %s", s->root, strerror(errno));
			goto fail;
		}
	}
	if (s->hostname && s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		kx_err_set(&e, KX_EFAIL, "hostname: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = {s->rlimits[i].soft, s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0) {
			kx_err_set(&e, KX_EFAIL, "process.rlimits[%zu]: %s", i, strerror(errno));
			goto fail;
		}
	}
	if (s->has_oom_score_adj) {
		char v[16];
		snprintf(v, sizeof v, "%d", s->oom_score_adj);
		if (write_proc("/proc/self/oom_score_adj", v, &e) < 0) {
			kx_err_wrap(&e, "process.oomScoreAdj");
			goto fail;
		}
	}
	if (chdir(s->cwd) < 0) {
		kx_err_set(&e, KX_EFAIL, "process.cwd \"%s\": %s", s->cwd, strerror(errno));
		goto fail;
	}
	if (ct_find_exec(s->args[0], s->env, exe, sizeof exe, &e) < 0) {
		kx_err_wrap(&e, "process.args[0]");
		goto fail;
	}
	if (ct_apply_identity(s, &e) < 0)
		goto fail;
	if (c->run) {
		/* ready_fd closes on exec: the parent reads EOF as success */
		execve(exe, s->args, s->env);
		kx_err_set(&e, KX_EFAIL, "cannot run \"%s\": %s", exe, strerror(errno));
		goto fail;
	}
	report(ready_fd, "ok");
	close(ready_fd);
	if (read(go_fd, &go, 1) != 1)
		_exit(1); /* deleted before it was started */
	close(go_fd);
	execve(exe, s->args, s->env);
	fprintf(stderr, "kx-container: cannot run \"%s\": %s\n", exe, strerror(errno));
	_exit(127);
fail:
	snprintf(msg, sizeof msg, "error %s", e.msg);
	report(ready_fd, msg);
	_exit(1);
}

/* --- the shim ------------------------------------------------------------ */

static volatile sig_atomic_t child_done;
static const char *fifo_path;

static void on_chld(int sig)
{
	(void)sig;
	child_done = 1;
	/* A reader lets our own blocked open(O_WRONLY) of the fifo return. */
	open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static void write_exit(const char *dir, const char *cgroup, int status)
{
	char path[PATH_MAX], ts[40];
	int64_t ooms = kx_cgroup_oom_kills(cgroup);
	jv v = jv_object();
	char *s;
	struct timespec now;

	if (WIFEXITED(status)) {
		v = jv_object_set(v, jv_string("exitCode"), jv_number(WEXITSTATUS(status)));
	} else {
		v = jv_object_set(v, jv_string("exitCode"), jv_number(128 + WTERMSIG(status)));
		v = jv_object_set(v, jv_string("signal"), jv_number(WTERMSIG(status)));
	}
	v = jv_object_set(v, jv_string("oomKilled"), jv_bool(ooms > 0));
	clock_gettime(CLOCK_REALTIME, &now);
	v = jv_object_set(v, jv_string("finishedAt"),
			  jv_string(kx_time_format_micro(&now, ts, sizeof ts)));
	s = kx_json_dump(v, 0);
	snprintf(path, sizeof path, "%s/exit.json", dir);
	ct_write_file(path, s, strlen(s), NULL);
	free(s);
}

static void shim_main(struct ct *c, int sync_fd)
{
	int ready[2], go[2], st = 0, fd;
	pid_t pid;
	char buf[1200], fifo[PATH_MAX];
	ssize_t n;
	struct sigaction sa = {0};

	setsid();
	snprintf(fifo, sizeof fifo, "%s/exec.fifo", c->dir);
	fifo_path = fifo;
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP; /* no SA_RESTART: a dead child interrupts open() */
	sigaction(SIGCHLD, &sa, NULL);
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
		dprintf(sync_fd, "error pipe: %s", strerror(errno));
		_exit(1);
	}
	if (c->pidns_fd >= 0 && setns(c->pidns_fd, CLONE_NEWPID) < 0) {
		dprintf(sync_fd, "error cannot join the pid namespace: %s", strerror(errno));
		_exit(1);
	}
	if ((c->spec.clone_flags & CLONE_NEWPID) && unshare(CLONE_NEWPID) < 0) {
		dprintf(sync_fd, "error cannot create a pid namespace: %s", strerror(errno));
		_exit(1);
	}
	pid = fork();
	if (pid < 0) {
		dprintf(sync_fd, "error fork: %s", strerror(errno));
		_exit(1);
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		close(sync_fd);
		close(ready[0]);
		close(go[1]);
		init_main(c, ready[1], go[0]);
		_exit(1);
	}
	close(ready[1]);
	close(go[0]);
	n = read(ready[0], buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR)
		n = read(ready[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	close(ready[0]);
	if (strcmp(buf, "ok")) {
		if (!buf[0])
			snprintf(buf, sizeof buf, "error the container's init died before it was ready");
		if (write(sync_fd, buf, strlen(buf)) < 0)
			_exit(1);
		waitpid(pid, &st, 0);
		_exit(1);
	}
	dprintf(sync_fd, "ok %d", (int)pid);
	close(sync_fd);
	/* from here on nobody reads our stdio */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = child_done ? -1 : open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && !child_done) {
		if (write(fd, "0", 1) == 1 && write(go[1], "1", 1) == 1) {
		}
		close(fd);
	}
	close(go[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	write_exit(c->dir, c->cgroup, st);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int ct_wait(pid_t pid, const char *dir, const char *cgroup)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	write_exit(dir, cgroup, st);
	return st;
}

/* `run`: the caller is the shim; the init execs as soon as it is built. */
static pid_t spawn_here(struct ct *c, pid_t *pid, kx_err *e)
{
	int ready[2], st;
	char buf[1200];
	ssize_t n;
	pid_t child;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return kx_err_set(e, KX_EFAIL, "pipe: %s", strerror(errno));
	if (c->pidns_fd >= 0 && setns(c->pidns_fd, CLONE_NEWPID) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot join the pid namespace: %s", strerror(errno));
	if ((c->spec.clone_flags & CLONE_NEWPID) && unshare(CLONE_NEWPID) < 0)
		return kx_err_set(e, KX_EFAIL, "cannot create a pid namespace: %s", strerror(errno));
	fflush(NULL);
	child = fork();
	if (child < 0)
		return kx_err_set(e, KX_EFAIL, "fork: %s", strerror(errno));
	if (child == 0) {
		close(ready[0]);
		init_main(c, ready[1], -1);
		_exit(1);
	}
	close(ready[1]);
	n = read(ready[0], buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR)
		n = read(ready[0], buf, sizeof buf - 1);
	close(ready[0]);
	if (n == 0) {
		*pid = child;
		return getpid();
	}
	buf[n > 0 ? n : 0] = 0;
	waitpid(child, &st, 0);
	if (!strncmp(buf, "error ", 6))
		return kx_err_set(e, KX_EFAIL, "%s", buf + 6);
	return kx_err_set(e, KX_EFAIL, "the container's init died before it was ready");
}

pid_t ct_spawn(struct ct *c, pid_t *pid, kx_err *e)
{
	int sync[2], st;
	pid_t shim;
	char buf[1200];
	ssize_t n;

	if (c->run)
		return spawn_here(c, pid, e);

	if (pipe2(sync, O_CLOEXEC) < 0)
		return kx_err_set(e, KX_EFAIL, "pipe: %s", strerror(errno));
	fflush(NULL);
	shim = fork();
	if (shim < 0) {
		close(sync[0]);
		close(sync[1]);
		return kx_err_set(e, KX_EFAIL, "fork: %s", strerror(errno));
	}
	if (shim == 0) {
		close(sync[0]);
		shim_main(c, sync[1]);
		_exit(1);
	}
	close(sync[1]);
	n = read(sync[0], buf, sizeof buf - 1);
	close(sync[0]);
	buf[n > 0 ? n : 0] = 0;
	if (!strncmp(buf, "ok ", 3) && atoi(buf + 3) > 1) {
		*pid = (pid_t)atoi(buf + 3);
		return shim;
	}
	waitpid(shim, &st, 0);
	if (!strncmp(buf, "error ", 6))
		return kx_err_set(e, KX_EFAIL, "%s", buf + 6);
	return kx_err_set(e, KX_EFAIL, "the shim died before the container was ready");
}
