/* sched.h: kx-schedule-once's model of a cluster, and the pure decision.
 *
 * observe (observe.c) gathers Pods, Nodes, Services and ReplicaSets as one
 * jv array; sched_cluster_new (model.c) turns it into compact per-node and
 * per-pod state (interned labels, requests in thousandths, port sets,
 * taints) so that the decision is O(pods x sampled nodes); sched_decide
 * (decide.c) places every pending pod in queue order, each placement
 * counting against the pods after it; act (act.c) binds. Nothing in
 * model.c or decide.c does I/O. */
#ifndef KX_SCHED_H
#define KX_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "buf.h"
#include "json.h"

struct kx_err;
struct kx_selector;

/* ---- configuration ------------------------------------------------------ */

/* The scores, named as the seed's priorities name them. */
enum sched_score {
	S_LEAST,    /* LeastRequestedPriority (NodeResourcesFit, LeastAllocated) */
	S_BALANCED, /* BalancedResourceAllocation (NodeResourcesBalancedAllocation) */
	S_LABEL,    /* NodeLabelPriority (--prefer-label) */
	S_AFFINITY, /* NodeAffinityPriority (preferred node affinity) */
	S_TAINT,    /* TaintTolerationPriority (PreferNoSchedule) */
	S_SPREAD,   /* SelectorSpreadPriority (same ReplicaSet/Service over nodes, zones) */
	S_IMAGE,    /* ImageLocalityPriority */
	S_COUNT
};

/* The filters, in kube-scheduler's order (the first that fails names the
 * node's reason). */
enum sched_filter {
	F_UNSCHEDULABLE, /* NodeUnschedulable */
	F_NODENAME,      /* NodeName */
	F_TAINTS,        /* TaintToleration */
	F_AFFINITY,      /* NodeAffinity (nodeSelector and required affinity) */
	F_PORTS,         /* NodePorts */
	F_FIT,           /* NodeResourcesFit */
	F_ANTI,          /* InterPodAffinity (required anti-affinity by hostname) */
	F_COUNT
};

extern const char *const sched_score_names[S_COUNT];  /* "LeastRequestedPriority" */
extern const char *const sched_filter_names[F_COUNT]; /* "NodeResourcesFit" */

typedef struct sched_prefer {
	char *key;
	char *value; /* NULL: presence of key alone */
	int negate;  /* prefer nodes WITHOUT the label */
} sched_prefer;

typedef struct sched_config {
	int weight[S_COUNT];
	int percentage;        /* percentageOfNodesToScore; 0: adaptive */
	uint64_t seed;         /* ties break by a PRNG seeded with this */
	const char *scheduler; /* schedulerName this scheduler serves */
	sched_prefer *prefer;  /* --prefer-label, nprefer entries (borrowed) */
	size_t nprefer;
} sched_config;

/* kube-scheduler's defaults: TaintToleration 3, NodeAffinity 2, spreading
 * (PodTopologySpread) 2, the rest 1; percentage adaptive; seed 0. */
void sched_config_default(sched_config *cfg);
/* Look a score up by the seed's name, the kube-scheduler plugin name, or a
 * short alias ("least", "spread"); -1 when unknown. */
int sched_score_lookup(const char *name);
/* "NAME=WEIGHT" as --weight takes it. -1 with e filled when malformed. */
int sched_config_weight(sched_config *cfg, const char *arg, struct kx_err *e);
/* Apply a policy (consumed): a kube-scheduler Policy ({"priorities":[{"name",
 * "weight"}]}) or KubeSchedulerConfiguration (profiles[0].plugins.score,
 * percentageOfNodesToScore). -1 with e filled on unknown names or bad values. */
int sched_config_policy(sched_config *cfg, jv policy, struct kx_err *e);
/* "disk=ssd", "gpu", "!spot", "disk!=hdd" as --prefer-label takes it. */
int sched_prefer_parse(sched_prefer *p, const char *arg, struct kx_err *e);
void sched_prefer_free(sched_prefer *p);

/* The string at a dotted path of v (borrowed), copied into buf; "" when
 * absent. Always returns buf. */
static inline const char *sched_jstr(jv v, const char *path, char *buf, size_t n)
{
	if (!kx_jv_str(v, path, buf, n, NULL))
		buf[0] = 0;
	return buf;
}

/* ---- the model ---------------------------------------------------------- */

#define SCHED_MAXRES 12 /* cpu, memory, ephemeral-storage, pods, 8 extended */
enum { R_CPU, R_MEM, R_EPH, R_PODS, R_FIRST_EXT };

typedef struct sched_kv {
	int key, val; /* interned strings */
} sched_kv;

typedef struct sched_taint {
	int key, val, effect; /* effect: enum sched_effect */
} sched_taint;

enum sched_effect { E_ALL, E_NOSCHEDULE, E_PREFER, E_NOEXECUTE, E_OTHER };

typedef struct sched_port {
	int proto; /* interned "TCP" */
	int ip;    /* interned hostIP; -1 for 0.0.0.0 / empty */
	int port;
} sched_port;

typedef struct sched_toleration {
	int key;    /* -1: empty key */
	int exists; /* operator Exists */
	int val;
	int effect; /* E_ALL when empty */
} sched_toleration;

/* One requirement of a node selector term. */
enum sched_op { OP_IN, OP_NOTIN, OP_EXISTS, OP_DOESNOTEXIST, OP_GT, OP_LT };
typedef struct sched_req {
	int key, op;
	int *vals;
	int nvals;
	int64_t num;  /* Gt, Lt */
	int field;    /* matchFields (metadata.name) rather than labels */
} sched_req;
typedef struct sched_term {
	sched_req *reqs;
	int nreqs;
	int weight; /* preferred terms */
} sched_term;

typedef struct sched_anti {
	struct kx_selector *sel; /* NULL: matches no pod */
	int *ns;                 /* namespaces (interned); the pod's own when none */
	int nns;
	int hostname;            /* topologyKey is kubernetes.io/hostname: per node */
	int topo;                /* the topologyKey, interned */
} sched_anti;

typedef struct sched_pod {
	char *ns, *name, *uid, *key; /* key: "ns/name" */
	jv obj;                      /* the object as observed (for act) */
	jv labels;                   /* metadata.labels (object) */
	int nsid;
	int pending;                 /* ours to schedule */
	int node;                    /* bound or chosen node index, -1 none */
	char *bad;                   /* why this pod cannot be considered */
	int64_t prio;
	char created[40];
	int64_t req[SCHED_MAXRES];   /* incl. init containers and overhead */
	int64_t nz_cpu, nz_mem;      /* non-zero requests for scoring */
	unsigned char reqlist[SCHED_MAXRES]; /* resources it requests (not pods) */
	int nreqlist;
	int nodename;                /* spec.nodeName wanted (-1 none) */
	sched_kv *sel;               /* spec.nodeSelector */
	int nsel;
	sched_term *required;        /* required node affinity terms (ORed) */
	int nrequired;               /* -1: no required affinity */
	sched_term *preferred;
	int npreferred;
	sched_toleration *tol;
	int ntol;
	sched_port *ports;
	int nports;
	sched_anti *anti;
	int nanti;
	int *spread;                 /* spreading groups this pod belongs to, sorted */
	int nspread;
	int *images;                 /* normalized image names, interned */
	int nimages;
	int ncontainers;             /* init + regular, for ImageLocality */
	int sig;                     /* pods with equal scheduling specs share it */
} sched_pod;

typedef struct sched_image {
	int name;
	int64_t size;
} sched_image;

/* Fields read for every pod and node come first, in the first cache lines. */
#define SCHED_INLINE_GROUPS 4
typedef struct sched_node {
	int unschedulable;
	int ntaints;
	int nlabels;
	int nports;
	int nanti;                   /* pods on it with required anti-affinity */
	int ngroups;
	int zone;                    /* dense index of its region+zone, -1 none */
	int nimages;
	int64_t alloc[SCHED_MAXRES];
	int64_t req[SCHED_MAXRES];
	int64_t nz_cpu, nz_mem;
	sched_kv *groups;            /* spreading group -> pods of it on the node */
	sched_kv igroups[SCHED_INLINE_GROUPS]; /* groups points here while few */
	sched_taint *taints;
	sched_kv *labelv;            /* sorted by key id */
	sched_port *ports;
	int capports, capgroups;
	int *pods;                   /* pods on this node (bound or placed) */
	int npods, cappods;
	sched_image *images;         /* sorted by name id */
	char *name;
	int nameid;
	jv labels;
} sched_node;

typedef struct sched_strtab sched_strtab;

/* What the static filters and scores said about one node for one pod
 * signature: state 0 not computed yet, 1 fits, 2 does not. */
typedef struct sched_sigent {
	int8_t state;
	int8_t label;
	int16_t taint;
	int16_t image;
	int32_t affinity;
} sched_sigent;

typedef struct sched_cluster {
	sched_config cfg;
	sched_strtab *strs;
	sched_node *nodes;
	int nnodes;
	sched_pod *pods;
	int npods;
	int nres;                    /* resources in use, >= R_FIRST_EXT */
	char *resname[SCHED_MAXRES];
	int *image_nodes;            /* per interned string: nodes having the image */
	int nimage_nodes;
	jv warnings;                 /* array of strings: what was skipped and why */
	/* scratch space of the decision, sized by nnodes */
	int *cand;
	int64_t *scoremat;           /* scratch: candidate i, score s at [i * S_COUNT + s] */
	sched_strtab *sigs;          /* pod signatures */
	struct sched_sigent **sigcache; /* per signature, per node: static results */
	size_t sigbytes;
	int nzones;
	int64_t *zone_count;         /* scratch, nzones */
	int k_unsched;               /* "node.kubernetes.io/unschedulable", interned */
	sched_sigent **candsig;      /* scratch: each candidate's static results */
	int active[S_COUNT], nactive;/* scores with a weight */
	int start;                   /* next node to examine (sampling rotates) */
	uint64_t rng;
} sched_cluster;

/* Build the model from objects (consumed: an array of Pod, Node, Service and
 * ReplicaSet objects with "kind" set; other kinds are ignored). cfg is
 * copied (its prefer array is borrowed). Malformed objects are skipped with
 * a line in c->warnings (a pending pod is kept, with p->bad saying why).
 * NULL with e filled only when the input is not an array of objects. */
sched_cluster *sched_cluster_new(jv objects, const sched_config *cfg, struct kx_err *e);
void sched_cluster_free(sched_cluster *c);

/* Interned strings. */
int sched_intern(sched_strtab *t, const char *s);
int sched_lookup(const sched_strtab *t, const char *s); /* -1 when absent */
const char *sched_str(const sched_strtab *t, int id);
int sched_strtab_count(const sched_strtab *t);

/* ---- the decision ------------------------------------------------------- */

typedef struct sched_decision {
	int pod;       /* index in c->pods */
	int node;      /* index in c->nodes; -1 when it fits nowhere */
	int64_t score; /* weighted total of the chosen node */
	char *reason;  /* when node == -1: kube-scheduler's FitError message */
} sched_decision;

/* Explanation of one pod's placement: per node, each filter's verdict and
 * each score's points. Filled when the pod's key matches. */
typedef struct sched_explain_row {
	int examined;           /* 0: not looked at (sampling) */
	int failed;             /* the filter that failed, -1 none */
	char reason[256];       /* its reasons */
	int64_t points[S_COUNT];/* normalized 0..100 (before weights) */
	int64_t total;
	int scored;
} sched_explain_row;

typedef struct sched_explain {
	const char *pod;        /* "ns/name" to explain */
	int found;
	int chosen;             /* node index or -1 */
	sched_explain_row *rows;/* nnodes rows, allocated by sched_decide */
	char *reason;
} sched_explain;

/* Place every pending pod, in queue order (priority, then age). Returns
 * the decisions (n written to *n; free with sched_decisions_free). ex may
 * be NULL. */
sched_decision *sched_decide(sched_cluster *c, size_t *n, sched_explain *ex);
void sched_decisions_free(sched_decision *d, size_t n);
void sched_explain_free(sched_explain *ex);

/* How many nodes to find feasible before scoring, as kube-scheduler's
 * numFeasibleNodesToFind. */
int sched_nodes_to_find(int nnodes, int percentage);

/* The --explain table for ex, appended to b. */
void sched_explain_print(const sched_cluster *c, const sched_explain *ex, kx_buf *b);

/* The --dry-run line of one decision: {"pod":"ns/name","node":"n2","score":87}
 * or {"pod":..., "node":null, "reason":"0/5 nodes are available: ..."}. */
jv sched_decision_json(const sched_cluster *c, const sched_decision *d);

#endif
