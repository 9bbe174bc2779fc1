/* oci.h: an OCI runtime spec 1.0 config.json, read into plain C.
 *
 * kx_oci_parse checks everything it can before any process, mount or cgroup
 * is made: a malformed file, a field of the wrong type, an unknown
 * capability, rlimit, namespace or mount option that cannot be honoured is
 * an error naming the field ("process.capabilities.bounding[2]: unknown
 * capability \"CAP_FOO\""). Unknown fields are ignored, as the spec asks.
 * Strings point into the parsed JSON kept in spec->json: they live until
 * kx_oci_free. */
#ifndef KX_OCI_H
#define KX_OCI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jv.h>

#include "cgroup.h"

struct kx_err;

enum { KX_CAP_BOUNDING, KX_CAP_EFFECTIVE, KX_CAP_PERMITTED, KX_CAP_INHERITABLE, KX_CAP_AMBIENT,
       KX_CAP_NSETS };

struct kx_oci_mount {
	const char *dest, *type, *source;
	unsigned long flags;     /* MS_* for mount(2) */
	unsigned long propagation; /* MS_PRIVATE, MS_SLAVE... or 0 */
	char *data;              /* the options mount(2) takes as data, "" if none */
	int bind;                /* a bind mount (type "bind" or option bind/rbind) */
};

struct kx_oci_ns {
	int type;                /* CLONE_NEWPID, CLONE_NEWNET ... */
	const char *path;        /* join this namespace; NULL: a new one */
};

struct kx_oci_rlimit {
	int resource;            /* RLIMIT_* */
	uint64_t soft, hard;
};

struct kx_oci_device {
	char type;               /* 'c', 'b', 'p' (fifo) */
	const char *path;
	int64_t major, minor;
	unsigned mode;
	uid_t uid;
	gid_t gid;
};

struct kx_oci_devrule {          /* linux.resources.devices[] */
	int allow;
	char rule[64];           /* "c 1:3 rwm", "a" */
};

struct kx_oci_spec {
	jv json;
	char **args;             /* NULL-terminated */
	char **env;              /* NULL-terminated */
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t ngids;
	int terminal;
	int has_caps;            /* process.capabilities present */
	uint64_t caps[KX_CAP_NSETS]; /* bit n = capability n */
	int no_new_privs;
	struct kx_oci_rlimit *rlimits;
	size_t nrlimits;
	int has_oom_score_adj;
	int oom_score_adj;
	char root[4096];         /* absolute: bundle joined with root.path */
	int root_readonly;
	const char *hostname;
	struct kx_oci_mount *mounts;
	size_t nmounts;
	struct kx_oci_ns *ns;
	size_t nns;
	int clone_flags;         /* CLONE_NEW* for the namespaces to create */
	const char *cgroups_path;/* NULL: the runtime picks one */
	struct kx_cgroup_limits limits;
	struct kx_oci_devrule *devrules;
	size_t ndevrules;
	struct kx_oci_device *devices;
	size_t ndevices;
	const char **masked;
	size_t nmasked;
	const char **readonly;
	size_t nreadonly;
	const char **sysctl_keys, **sysctl_vals;
	size_t nsysctl;
	jv annotations;          /* an object (borrowed from json) */
};

/* Parse config text (n bytes) of the bundle at dir (absolute). Returns 0,
 * or -1 with e naming what is wrong; spec needs kx_oci_free either way. */
int kx_oci_parse(struct kx_oci_spec *spec, const char *text, size_t n, const char *bundle,
		 struct kx_err *e);
void kx_oci_free(struct kx_oci_spec *spec);

/* Parse mount options into m (flags, propagation, data, bind). -1 with e
 * for an option it does not know how to pass on (never happens: unknown
 * options go to data, as mount(8) does). */
int kx_oci_mount_options(struct kx_oci_mount *m, jv options, struct kx_err *e);
/* The namespace type for an OCI name ("network" -> CLONE_NEWNET); 0 if unknown. */
int kx_oci_ns_type(const char *name);
/* The capability number of "CAP_NET_ADMIN"; -1 if unknown. */
int kx_oci_cap(const char *name);
/* RLIMIT_* of "RLIMIT_NOFILE"; -1 if unknown. */
int kx_oci_rlimit(const char *name);
/* True when id is a usable container ID: [A-Za-z0-9][A-Za-z0-9_.-]*, at
 * most 128 bytes. */
int kx_oci_valid_id(const char *id);

#endif
