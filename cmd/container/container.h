/* container.h: what kx-container's files share. */
#ifndef KX_CONTAINER_H
#define KX_CONTAINER_H

#include <sys/types.h>

#include "err.h"
#include "oci.h"

/* Everything the shim and the container's init need to make one container. */
struct ct {
	const char *id;
	char dir[4096];          /* the container's state directory */
	char bundle[4096];
	char cgroup[4096];       /* cgroup path, "/kx/ID" by default */
	struct kx_oci_spec spec;
	int nsfd[8];             /* open namespace files to join, -1 ended */
	int nsfd_type[8];
	int pidns_fd;            /* a pid namespace to join, or -1 */
	int run;                 /* `run`: no shim, no exec.fifo; the caller waits */
};

/* Start the shim: it forks the container's init, which builds the
 * container and waits on exec.fifo. Returns the shim's pid and, in *pid,
 * the container's, once the init reported that it is ready; -1 with e
 * (the init's own message) when it could not be made.
 * With c->run the caller is the shim: the init is its child and runs the
 * process as soon as it is built; the caller then waits with ct_wait. */
pid_t ct_spawn(struct ct *c, pid_t *pid, kx_err *e);
/* `run`: wait for the init (the caller's child), record exit.json in dir
 * (the status and any OOM kill in cgroup); returns the wait status. */
int ct_wait(pid_t pid, const char *dir, const char *cgroup);

/* In the current process: join the container's user, groups and
 * capabilities, no_new_privs, as the spec says (used by init and exec). */
int ct_apply_identity(const struct kx_oci_spec *s, kx_err *e);
/* Find argv0 in the PATH of env (or the default PATH); 0 and the path in buf. */
int ct_find_exec(const char *argv0, char *const *env, char *buf, size_t n, kx_err *e);

/* The start time of pid (field 22 of /proc/PID/stat), 0 when it is gone. */
unsigned long long ct_pid_start(pid_t pid);

/* Write a file atomically (temp file + rename). */
int ct_write_file(const char *path, const char *data, size_t n, kx_err *e);

#endif
