/* spec.h: pure functions from a pod to what the runtime is given. */
#ifndef KX_NODERUN_SPEC_H
#define KX_NODERUN_SPEC_H

#include <stdint.h>
#include <jv.h>

/* What a pod's environment may refer to, besides the pod itself. */
struct nr_pod_facts {
	const char *node;
	const char *pod_ip;
	const char *host_ip;
	int64_t cpus;       /* for limits.cpu when no limit is set */
	int64_t mem_bytes;  /* for limits.memory */
};

/* Where a container's parts are on the node. */
struct nr_bundle_ctx {
	const char *rootfs;
	const char *hostname;
	const char *hostname_file, *resolv, *hosts, *termination_log; /* may be NULL */
	const char *netns;  /* path of the pod's network namespace, NULL: the host's */
	const char *cgroup; /* cgroupsPath */
	jv volumes;         /* borrowed: {name: host directory} */
};

/* $(VAR) expansion (borrows env); malloc'd. */
char *nr_expand(const char *s, jv env);
/* The process's argv from command/args and the image's Entrypoint/Cmd.
 * Consumes all. */
jv nr_args(jv container, jv image_config, jv env);
/* The environment as an object, from the image's Env ("K=V" array), envFrom
 * and env. objs is {"configmaps":{name:obj},"secrets":{name:obj}}. A
 * missing non-optional reference writes a message into err (else ""), as
 * CreateContainerConfigError. Consumes pod, container, image_env, objs. */
jv nr_env(jv pod, jv container, jv image_env, jv objs, const struct nr_pod_facts *f, char *err,
	  size_t errn);
/* The capability list from a securityContext (consumed). */
jv nr_caps(jv security_context);
/* BestEffort, Burstable or Guaranteed (borrows pod). */
const char *nr_qos_class(jv pod);
/* The OCI config.json. Consumes pod, container, image_config and env;
 * fills err (else "") when the container cannot be made. */
jv nr_oci_spec(jv pod, jv container, jv image_config, jv env, const struct nr_bundle_ctx *b,
	       char *err, size_t errn);
/* A Kubernetes quantity in thousandths ("500m" -> 500, "1Gi" -> 1073741824000);
 * -1 when not one. Consumes q. */
int64_t nr_quantity_milli(jv q);
/* Standard or URL base64; malloc'd, NUL-ended; NULL when malformed. */
char *nr_base64_decode(const char *s, size_t *outlen);

#endif
