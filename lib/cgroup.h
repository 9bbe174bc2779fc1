/* cgroup.h: one container's control group, on cgroup v1 (one hierarchy per
 * controller, as on this project's hybrid machines) or on pure cgroup v2.
 *
 * A cgroup is named by a path such as "/kx/web-1" relative to the root of
 * every hierarchy. kx_cgroup_create makes it in each hierarchy it finds
 * (memory, cpu, cpuacct, cpuset, pids, devices, freezer, blkio on v1; the one
 * unified tree on v2, with the controllers enabled on the way down), copies
 * cpuset.cpus/mems from the parent where a new v1 cpuset cgroup needs them,
 * and writes the limits. Nothing here keeps state: every call finds the
 * hierarchies again from /proc/self/mountinfo (cached per process). */
#ifndef KX_CGROUP_H
#define KX_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

struct kx_err;

enum kx_cgroup_mode { KX_CGROUP_NONE, KX_CGROUP_V1, KX_CGROUP_V2 };

/* Limits; a field left at its "unset" value is not written. */
struct kx_cgroup_limits {
	int64_t memory;         /* bytes; -1: unset */
	int64_t memory_swap;    /* memory+swap bytes; -1: unset */
	int64_t cpu_quota;      /* microseconds per period; -1: unset */
	uint64_t cpu_period;    /* microseconds; 0: unset */
	uint64_t cpu_shares;    /* v1 shares (v2 weight derived); 0: unset */
	int64_t pids;           /* -1: unset; 0 and below: unlimited */
	char cpuset_cpus[128];  /* "" unset */
	char cpuset_mems[128];
};
#define KX_CGROUP_LIMITS_INIT {-1, -1, -1, 0, 0, -1, "", ""}

/* Which layout this host has: KX_CGROUP_V2 only when /sys/fs/cgroup is the
 * unified hierarchy itself; a hybrid host (v2 mounted beside v1) is V1. */
enum kx_cgroup_mode kx_cgroup_mode(void);

/* Create the cgroup path (absolute, e.g. "/kx/web") and write lim. On error
 * whatever was made is removed again. */
int kx_cgroup_create(const char *path, const struct kx_cgroup_limits *lim, struct kx_err *e);
/* Move pid (0: the caller, which must be single-threaded) into the cgroup
 * in every hierarchy. */
int kx_cgroup_enter(const char *path, pid_t pid, struct kx_err *e);
/* v1 only: write one line to devices.allow or devices.deny ("a", "c 1:3 rwm").
 * On v2 (no eBPF device filter here) it is a no-op returning 0. */
int kx_cgroup_device_rule(const char *path, int allow, const char *rule, struct kx_err *e);
/* Remove the cgroup from every hierarchy, killing what is left in it first.
 * Waits up to about a second for dying tasks. Absent cgroups are fine. */
int kx_cgroup_destroy(const char *path, struct kx_err *e);
/* True when the cgroup exists in any hierarchy. */
int kx_cgroup_exists(const char *path);
/* How many processes the kernel's OOM killer killed in the cgroup (v1
 * memory.oom_control "oom_kill", v2 memory.events "oom_kill"); -1 unknown. */
int64_t kx_cgroup_oom_kills(const char *path);
/* The directory of path in the hierarchy of controller (v1: "memory",
 * "cpu"...; v2: any), written into buf; NULL when there is none. */
char *kx_cgroup_dir(const char *controller, const char *path, char *buf, size_t n);

/* Pure helpers, for tests. */
/* True when path names a cgroup below the root: absolute, at least one
 * component, none of them "." or "..". create, enter and destroy refuse
 * any other path (destroy kills what is in the cgroup). */
int kx_cgroup_path_ok(const char *path);
/* v1 cpu.shares to v2 cpu.weight (runc's formula). */
uint64_t kx_cgroup_shares_to_weight(uint64_t shares);

#endif
