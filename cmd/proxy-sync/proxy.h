/* proxy.h: kx-proxy-sync's private types.
 *
 * The program is observe -> decide -> act, as every acting kx program:
 *
 *   model.c   Services and EndpointSlices/Endpoints (jv) -> px_svc list
 *   rules.c   px_svc list -> px_ruleset (an abstract nftables ruleset, one
 *             fragment per service port), rendered as `nft -f` text
 *   diff.c    two rulesets -> the operations that turn one into the other
 *   nl.c      operations -> one libnftnl batch; the kernel's table -> ruleset
 *   ipvs.c    px_svc list -> ipvsadm-restore text
 *
 * Everything but nl.c is pure and unit-tested (tests/unit/test_proxy.c). */
#ifndef KX_PROXY_H
#define KX_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "buf.h"

struct kx_err;

/* ------------------------------------------------------------------ model */

enum px_proto { PX_TCP = 6, PX_UDP = 17, PX_SCTP = 132 };
enum px_lb { PX_LB_RANDOM, PX_LB_RR, PX_LB_SH };

typedef struct px_ep {
	char addr[48];  /* canonical text form */
	int port;
	int ready, serving, terminating;
	int local;      /* on this node (--node) */
} px_ep;

typedef struct px_port {
	char name[64];  /* the service port's name, or its number when unnamed */
	int proto;      /* enum px_proto */
	int port;
	int nodeport;   /* 0: none */
	px_ep *eps;     /* the endpoints that will be used (see model.c) */
	size_t neps;
} px_port;

typedef struct px_svc {
	char ns[64], name[256];
	int family;            /* 4 or 6 */
	char cluster_ip[48];   /* "" for none */
	char **ext_ips;        /* externalIPs and load balancer ingress IPs */
	size_t next;
	int affinity;          /* ClientIP affinity timeout in seconds; 0: none */
	int lb;                /* enum px_lb, from the annotation kx.io/lb */
	char ipvs_sched[8];    /* kx.io/ipvs-scheduler, default "rr" */
	int itp_local, etp_local;
	px_port *ports;
	size_t nports;
} px_svc;

typedef struct px_model {
	px_svc *svcs;   /* sorted by namespace, name, family */
	size_t n;
	char **warnings; /* things skipped, for -v */
	size_t nwarn;
} px_model;

typedef struct px_opts {
	const char *node;          /* this node's name, for Local policies */
	const char *cluster_cidr;  /* "" or CIDR: masquerade ClusterIP traffic from outside it */
	const char *cluster_cidr6;
	char **nodeport_ips;       /* NULL: any local address (fib); else these */
	size_t nnodeport_ips;
} px_opts;

/* Build the model from an array of objects (consumed): Services,
 * EndpointSlices and Endpoints, in any order; other kinds are ignored.
 * Returns 0, or -1 with e filled when an object is malformed. */
/* kx_jv_str (v borrowed), but buf always holds the answer: def when absent. */
const char *px_str(jv v, const char *path, char *buf, size_t n, const char *def);

int px_model_build(px_model *m, jv objs, const px_opts *o, struct kx_err *e);
void px_model_free(px_model *m);

/* ------------------------------------------------------------------ ruleset */

enum px_rk {
	RK_JUMP, RK_GOTO,          /* jump|goto CHAIN */
	RK_SVC_VMAP,               /* ip daddr . meta l4proto . th dport vmap @SET */
	RK_NP_VMAP_FIB,            /* fib daddr type local meta l4proto . th dport vmap @SET */
	RK_NP_VMAP_SET,            /* ip daddr @SET2 meta l4proto . th dport vmap @SET */
	RK_CT_NEW_JUMP,            /* ct state new jump CHAIN */
	RK_MARK_SET,               /* meta mark set meta mark | 0x4000 */
	RK_MARK_RETURN,            /* meta mark & 0x4000 == 0 return */
	RK_MARK_CLEAR,             /* meta mark set meta mark ^ 0x4000 */
	RK_MASQ,                   /* masquerade fully-random */
	RK_REJECT_TCP,             /* meta l4proto tcp reject with tcp reset */
	RK_REJECT,                 /* reject */
	RK_DROP,
	RK_SADDR_NOT_MARK,         /* ip saddr != CIDR meta mark set meta mark | 0x4000 */
	RK_FIB_LOCAL_MARK,         /* fib saddr type local meta mark set meta mark | 0x4000 */
	RK_FIB_LOCAL_GOTO,         /* fib saddr type local goto CHAIN */
	RK_PAIR_MARK,              /* ip saddr . ip daddr @SET meta mark set meta mark | 0x4000 */
	RK_AFF_DNAT,               /* ip saddr @SET meta l4proto P dnat to ADDR:PORT */
	RK_DNAT,                   /* [update @SET { ip saddr }] meta l4proto P dnat to ADDR:PORT */
	RK_NG_DNAT,                /* numgen random mod MOD VAL [update...] meta l4proto P dnat to ... */
	RK_HASH_DNAT,              /* jhash ip saddr mod MOD seed SEED VAL [update...] ... dnat to ... */
	RK_MAP_DNAT,               /* meta l4proto P dnat ip to ID . PICK map @SET, where ID is
	                              numgen random mod 1 offset HI . numgen random mod 1 offset LO
	                              (a constant nft can write) and PICK numgen random|inc mod MOD
	                              or jhash ip saddr mod MOD seed SEED */
};

typedef struct px_rule {
	int kind;
	const char *chain;   /* jump/goto target */
	const char *set;     /* set or map referenced; RK_*DNAT: the affinity set updated */
	const char *set2;
	const char *addr;    /* address or CIDR */
	int proto, port;
	int mod, val;        /* RK_NG_DNAT, RK_HASH_DNAT, RK_MAP_DNAT */
	int lb;              /* RK_MAP_DNAT: enum px_lb */
	uint32_t seed;       /* RK_HASH_DNAT, RK_MAP_DNAT with PX_LB_SH */
	uint32_t hi, lo;     /* RK_MAP_DNAT: the chain's id in the endpoints map */
} px_rule;

enum px_hook { PX_HOOK_NONE = -1, PX_HOOK_PREROUTING = 0, PX_HOOK_INPUT = 1,
	       PX_HOOK_FORWARD = 2, PX_HOOK_OUTPUT = 3, PX_HOOK_POSTROUTING = 4 };

typedef struct px_chain {
	const char *name;
	int hook;            /* enum px_hook */
	int nat;             /* base chain type nat (else filter) */
	int prio;
	px_rule *rules;
	size_t nrules;
	uint64_t hash;       /* of the rules as text, and what they depend on; a
	                        regular chain's name carries it, a base chain's
	                        comment does */
} px_chain;

enum px_setk {
	SK_SVC_MAP,   /* addr . inet_proto . inet_service : verdict */
	SK_PORT_MAP,  /* inet_proto . inet_service : verdict */
	SK_ADDRS,     /* addr */
	SK_AFFINITY,  /* addr, dynamic, timeout */
	SK_STATE,     /* mark . mark: the hash of the whole ruleset, one element */
	SK_PAIRS,     /* addr . addr: each endpoint twice, for hairpin traffic */
	SK_VERSIONS,  /* mark . mark: a regular chain's name hash . its content hash */
	SK_ENDPOINTS, /* chain id hi . lo . index : addr . port (typeof numgen ...) */
};

typedef struct px_set {
	const char *name;
	int kind;       /* enum px_setk */
	int timeout;    /* SK_AFFINITY: seconds */
} px_set;

typedef struct px_elem {
	const char *set;
	const char *addr;   /* NULL for SK_PORT_MAP; SK_ENDPOINTS: the key, "HI . LO . INDEX" */
	int proto, port;    /* 0 for SK_ADDRS */
	const char *verdict;/* goto CHAIN for maps; NULL for sets; SK_ENDPOINTS: "ADDR . PORT" */
} px_elem;

/* What one service port (or the fixed skeleton, key "") brings to the table.
 * A fragment owns everything it points to (an arena). */
typedef struct px_frag {
	char *key;          /* "ns/name/proto/port", "" for the skeleton */
	uint64_t hash;      /* of everything below */
	px_chain *chains;
	size_t nchains, capchains;
	px_set *sets;
	size_t nsets, capsets;
	px_elem *elems;
	size_t nelems, capelems;
	struct px_arena *arena;
	int refs;
} px_frag;

typedef struct px_ruleset {
	int family;         /* 4 or 6 */
	px_frag **frags;    /* sorted by key; the skeleton first */
	size_t n, cap;
} px_ruleset;

#define PX_TABLE "kx"
#define PX_MASQ_MARK 0x4000

/* Decide: the ruleset of one family for the model's services (borrowed). */
px_ruleset *px_rules_build(const px_model *m, int family, const px_opts *o);
/* The fragment of one service port, or the skeleton (svc NULL). */
px_frag *px_frag_build(const px_svc *s, const px_port *p, int family, const px_opts *o);
px_frag *px_frag_ref(px_frag *f);
/* Building a fragment by hand (nl.c reads the kernel's table into one). */
px_frag *px_frag_new(const char *key);
const char *px_frag_str(px_frag *f, const char *s); /* a copy in f's arena */
px_chain *px_frag_chain(px_frag *f, const char *name);
void px_frag_set(px_frag *f, const char *name, int kind, int timeout);
void px_frag_elem(px_frag *f, const char *set, const char *addr, int proto, int port,
		  const char *verdict);
void px_frag_unref(px_frag *f);
px_ruleset *px_ruleset_new(int family);
void px_ruleset_add(px_ruleset *r, px_frag *f); /* takes the reference */
void px_ruleset_free(px_ruleset *r);
size_t px_ruleset_count(const px_ruleset *r, size_t *nchains, size_t *nrules, size_t *nelems);

/* Give r its state element: the set "state" holds one element, a hash of
 * everything else, so that a one-shot run can tell "nothing changed" from
 * one small read. Call after the fragments are final and sorted. */
void px_ruleset_seal(px_ruleset *r);
/* The state element's text ("0x... . 0x..."), or "" when r has none. */
const char *px_ruleset_state(const px_ruleset *r);
#define PX_STATE_KEY "~state"

/* Render as `nft -f` text that replaces the table atomically. */
int px_render_nft(kx_buf *b, const px_ruleset *r);
/* One rule as nft text (no newline), as rules.c renders and hashes it. */
int px_render_rule(kx_buf *b, int family, const px_rule *r);
/* An element's key ("10.0.0.1 . tcp . 80") */
int px_render_key(kx_buf *b, const px_elem *el, int kind);
const char *px_proto_name(int proto);
/* The kind of one of our named sets, from its name. */
int px_set_kind_by_name(const char *name);
/* The comment a chain carries in the kernel: "kx:HASH". */
void px_chain_comment(const px_chain *c, char *buf, size_t n);
/* A regular chain's name hashed, the first half of its "versions" element. */
uint32_t px_chain_name_hash(const char *name);

/* ------------------------------------------------------------------ diff */

enum px_opk {  /* in the order they go into a batch */
	OP_DEL_TABLE, OP_ADD_TABLE, OP_ADD_CHAIN, OP_DEL_ELEM, OP_FLUSH_CHAIN, OP_REPLACE_CHAIN,
	OP_DEL_SET_EARLY, OP_ADD_SET, OP_ADD_RULES, OP_ADD_ELEM, OP_DEL_CHAIN, OP_DEL_SET, OP__N
};

typedef struct px_op {
	int kind;
	const px_chain *chain;
	const px_set *set;
	const px_elem *elem;
	int set_kind;  /* OP_*_ELEM: the kind of the set the element is in */
} px_op;

typedef struct px_ops {
	int family;
	px_op *ops;
	size_t n, cap;
} px_ops;

/* What turns old into new. old may be NULL (nothing there: the table too
 * is created). Fragments with equal keys and hashes are skipped without
 * looking inside, so a watch pass that changed one service costs one
 * service. The ops point into old and new: keep both until the ops are
 * sent. Ops are sorted in batch order. */
int px_diff(px_ops *ops, const px_ruleset *old, const px_ruleset *new);
void px_ops_free(px_ops *ops);
/* One line per op, for -v and the unit tests. */
int px_ops_render(kx_buf *b, const px_ops *ops);

/* ------------------------------------------------------------------ netlink */

/* Read the table (family 4 or 6) from the kernel as a one-fragment
 * ruleset (chains with their hashes only, sets, map elements). *out is NULL
 * when the table does not exist. */
int px_nl_read(int family, px_ruleset **out, struct kx_err *e);
/* Send the operations of every list (one list per family) as one atomic
 * batch. Nothing is sent when there are none. */
int px_nl_apply(const px_ops *const *lists, size_t nlists, size_t *bytes, struct kx_err *e);
/* The element of the table's state set as text into buf ("" if none). */
int px_nl_read_state(int family, char *buf, size_t n, struct kx_err *e);
/* Is our table of this family there? */
int px_nl_exists(int family, int *found, struct kx_err *e);
/* Delete our table of this family if present; *found tells. */
int px_nl_cleanup(int family, int *found, struct kx_err *e);

/* ------------------------------------------------------------------ ipvs */

int px_render_ipvs(kx_buf *b, const px_model *m, const px_opts *o);

/* ------------------------------------------------------------------ helpers */

uint64_t px_hash(uint64_t h, const void *p, size_t n);
#define PX_HASH_INIT 1469598103934665603ULL

#endif
