/* rules.c: decide. Services to an abstract nftables ruleset, laid out after
 * kube-proxy's nftables mode (learned from its proxier, not copied), with no
 * chain per endpoint:
 *
 *   nat-prerouting, nat-output   jump services
 *   services                     ip daddr . meta l4proto . th dport vmap @service-ips
 *                                fib daddr type local meta l4proto . th dport
 *                                    vmap @service-nodeports
 *   service-ips elements         CLUSTERIP . tcp . 80 : goto svc-NS/NAME/tcp/PORT
 *   svc-...                      marks traffic from outside the cluster CIDR,
 *                                then picks an endpoint and DNATs in one rule:
 *                                dnat to ID . PICK map @endpoints-XX, ID the
 *                                chain's, PICK numgen random|inc or jhash ip
 *                                saddr; the elements are address . port
 *                                (ClientIP affinity: a rule per endpoint)
 *   ext-...                      NodePort and external IPs: marks for
 *                                masquerade (Cluster policy), or sends to
 *                                local endpoints only (Local)
 *   filter-input/forward/output  ct state new: no-endpoint-services and
 *                                no-endpoint-nodeports reject at once
 *   nat-postrouting              masquerades what was marked, and hairpin
 *                                traffic: ip saddr . ip daddr in @hairpin
 *
 * Why: the kernel validates the jump/goto graph of the whole table when a
 * batch adds a rule with a NAT (or any checked) expression, and the cost is
 * the size of that graph. With a chain per endpoint it was 110,000 chains at
 * 10,000 services; here it is one chain per service port. An endpoint that
 * moves changes an element of a data map, which is never checked; one that
 * comes or goes rewrites its service's chain in place (same name, same map
 * element): no jump or goto is added at all. Since a regular chain keeps its
 * name, its version lives in the set "versions" (name hash . content hash),
 * which a one-shot run reads back with the elements.
 *
 * The per-packet cost is one map lookup, however many services there are.
 * Each service port is one fragment: its chains, its affinity sets, and its
 * elements in the shared maps and sets. A fragment's hash lets diff.c skip it
 * whole. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

/* ------------------------------------------------------------------ arena */

typedef struct px_arena {
	struct px_arena *next;
	size_t used, cap;
	char mem[];
} px_arena;

static void *arena_alloc(px_arena **a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!*a || (*a)->used + n > (*a)->cap) {
		size_t cap = n > 4000 ? n : 4000;
		px_arena *b = malloc(sizeof *b + cap);
		b->next = *a;
		b->used = 0;
		b->cap = cap;
		*a = b;
	}
	void *p = (*a)->mem + (*a)->used;
	(*a)->used += n;
	return p;
}

static const char *astr(px_frag *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *astr(px_frag *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof buf)
		n = sizeof buf - 1;
	char *p = arena_alloc(&f->arena, (size_t)n + 1);
	memcpy(p, buf, (size_t)n + 1);
	return p;
}

uint64_t px_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

const char *px_frag_str(px_frag *f, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(&f->arena, n);

	memcpy(p, s, n);
	return p;
}

/* ------------------------------------------------------------------ fragments */

px_frag *px_frag_new(const char *key)
{
	px_frag *f = calloc(1, sizeof *f);

	f->key = strdup(key);
	f->refs = 1;
	return f;
}

px_frag *px_frag_ref(px_frag *f)
{
	f->refs++;
	return f;
}

void px_frag_unref(px_frag *f)
{
	if (!f || --f->refs > 0)
		return;
	for (size_t i = 0; i < f->nchains; i++)
		free(f->chains[i].rules);
	free(f->chains);
	free(f->sets);
	free(f->elems);
	while (f->arena) {
		px_arena *n = f->arena->next;
		free(f->arena);
		f->arena = n;
	}
	free(f->key);
	free(f);
}

px_chain *px_frag_chain(px_frag *f, const char *name)
{
	if (f->nchains == f->capchains) {
		f->capchains = f->capchains ? 2 * f->capchains : 4;
		f->chains = realloc(f->chains, f->capchains * sizeof *f->chains);
	}
	px_chain *c = &f->chains[f->nchains++];
	memset(c, 0, sizeof *c);
	c->name = name;
	c->hook = PX_HOOK_NONE;
	return c;
}

static px_chain *base_chain(px_frag *f, const char *name, int hook, int nat, int prio)
{
	px_chain *c = px_frag_chain(f, name);

	c->hook = hook;
	c->nat = nat;
	c->prio = prio;
	return c;
}

static px_rule *add_rule(px_chain *c, int kind)
{
	c->rules = realloc(c->rules, (c->nrules + 1) * sizeof *c->rules);
	px_rule *r = &c->rules[c->nrules++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	return r;
}

static void rule_chain(px_chain *c, int kind, const char *target)
{
	add_rule(c, kind)->chain = target;
}

void px_frag_set(px_frag *f, const char *name, int kind, int timeout)
{
	if (f->nsets == f->capsets) {
		f->capsets = f->capsets ? 2 * f->capsets : 4;
		f->sets = realloc(f->sets, f->capsets * sizeof *f->sets);
	}
	f->sets[f->nsets++] = (px_set){name, kind, timeout};
}

void px_frag_elem(px_frag *f, const char *set, const char *addr, int proto, int port,
		     const char *verdict)
{
	if (f->nelems == f->capelems) {
		f->capelems = f->capelems ? 2 * f->capelems : 4;
		f->elems = realloc(f->elems, f->capelems * sizeof *f->elems);
	}
	f->elems[f->nelems++] = (px_elem){set, addr, proto, port, verdict};
}

const char *px_proto_name(int proto)
{
	return proto == PX_UDP ? "udp" : proto == PX_SCTP ? "sctp" : "tcp";
}

/* A chain's hash: its hook and its rules (every field that reaches the
 * text or the kernel), plus salt (what the rules depend on that they do not
 * show, such as an affinity timeout). Fields, not text: this runs for every
 * chain of every pass. */
static uint64_t hash_str(uint64_t h, const char *s)
{
	return s ? px_hash(h, s, strlen(s) + 1) : px_hash(h, "", 1);
}

static uint64_t chain_hash(const px_chain *c, int family, uint64_t salt)
{
	int head[4] = {c->hook, c->nat, c->prio, family};
	uint64_t h = px_hash(PX_HASH_INIT, head, sizeof head);

	for (size_t j = 0; j < c->nrules; j++) {
		const px_rule *r = &c->rules[j];
		int v[9] = {r->kind, r->proto, r->port, r->mod, r->val, r->lb, (int)r->seed,
			    (int)r->hi, (int)r->lo};
		h = px_hash(h, v, sizeof v);
		h = hash_str(hash_str(hash_str(hash_str(h, r->chain), r->set), r->set2), r->addr);
	}
	h = px_hash(h, &salt, sizeof salt);
	return h ? h : 1;
}

/* A regular chain's name, hashed for its element in "versions". */
uint32_t px_chain_name_hash(const char *name)
{
	uint64_t h = px_hash(PX_HASH_INIT, name, strlen(name));

	return (uint32_t)(h ^ (h >> 32));
}

/* Hash the chains, give each regular chain its element in "versions" (the
 * kernel keeps no comment on a chain we could change later, and the chain
 * keeps its name when its rules change), then hash the whole fragment.
 * salt goes into the chains' hashes: what their rules depend on that they
 * do not show, such as the affinity sets' timeout. */
static void frag_seal(px_frag *f, int family, uint64_t salt)
{
	uint64_t h = PX_HASH_INIT;

	h = px_hash(h, f->key, strlen(f->key) + 1);
	for (size_t i = 0; i < f->nchains; i++) {
		px_chain *c = &f->chains[i];
		if (c->hook != PX_HOOK_NONE) {
			c->hash = chain_hash(c, family, 0);
		} else {
			uint64_t full = chain_hash(c, family, salt);
			uint32_t v = (uint32_t)(full ^ (full >> 32));
			c->hash = v ? v : 1;
			px_frag_elem(f, "versions",
				     astr(f, "0x%08x . 0x%08x", px_chain_name_hash(c->name),
					  (unsigned)c->hash),
				     0, 0, NULL);
		}
		h = px_hash(h, c->name, strlen(c->name) + 1);
		h = px_hash(h, &c->hash, sizeof c->hash);
	}
	/* fields, not text: this runs for every element of every pass */
	for (size_t i = 0; i < f->nsets; i++) {
		int v[2] = {f->sets[i].kind, f->sets[i].timeout};
		h = px_hash(hash_str(h, f->sets[i].name), v, sizeof v);
	}
	for (size_t i = 0; i < f->nelems; i++) {
		const px_elem *el = &f->elems[i];
		int v[2] = {el->proto, el->port};
		h = hash_str(hash_str(hash_str(h, el->set), el->addr), el->verdict);
		h = px_hash(h, v, sizeof v);
	}
	f->hash = h;
}

/* The skeleton: base chains, the shared maps, reject and masquerade. The
 * two chains whose rules depend on --nodeport-addresses are named after it. */
static px_frag *skeleton(int family, const px_opts *o)
{
	px_frag *f = px_frag_new("");
	px_chain *c;
	int local_set = o->nodeport_ips != NULL;
	const char *services = local_set ? "services-nodeport-ips" : "services";
	const char *check = local_set ? "endpoints-check-nodeport-ips" : "endpoints-check";

	px_frag_set(f, "service-ips", SK_SVC_MAP, 0);
	px_frag_set(f, "service-nodeports", SK_PORT_MAP, 0);
	px_frag_set(f, "no-endpoint-services", SK_SVC_MAP, 0);
	px_frag_set(f, "no-endpoint-nodeports", SK_PORT_MAP, 0);
	px_frag_set(f, "state", SK_STATE, 0);
	px_frag_set(f, "hairpin", SK_PAIRS, 0);
	px_frag_set(f, "versions", SK_VERSIONS, 0);
	if (local_set) {
		px_frag_set(f, "nodeport-ips", SK_ADDRS, 0);
		for (size_t i = 0; i < o->nnodeport_ips; i++)
			if ((strchr(o->nodeport_ips[i], ':') ? 6 : 4) == family)
				px_frag_elem(f, "nodeport-ips", astr(f, "%s", o->nodeport_ips[i]), 0, 0,
					 NULL);
	}

	c = px_frag_chain(f, "masquerading");
	add_rule(c, RK_PAIR_MARK)->set = "hairpin";
	add_rule(c, RK_MARK_RETURN);
	add_rule(c, RK_MARK_CLEAR);
	add_rule(c, RK_MASQ);
	c = px_frag_chain(f, "reject-chain");
	add_rule(c, RK_REJECT_TCP);
	add_rule(c, RK_REJECT);
	c = px_frag_chain(f, services);
	add_rule(c, RK_SVC_VMAP)->set = "service-ips";
	px_rule *r = add_rule(c, local_set ? RK_NP_VMAP_SET : RK_NP_VMAP_FIB);
	r->set = "service-nodeports";
	r->set2 = "nodeport-ips";
	c = px_frag_chain(f, check);
	add_rule(c, RK_SVC_VMAP)->set = "no-endpoint-services";
	r = add_rule(c, local_set ? RK_NP_VMAP_SET : RK_NP_VMAP_FIB);
	r->set = "no-endpoint-nodeports";
	r->set2 = "nodeport-ips";

	rule_chain(base_chain(f, "nat-prerouting", PX_HOOK_PREROUTING, 1, -100), RK_JUMP, services);
	rule_chain(base_chain(f, "nat-output", PX_HOOK_OUTPUT, 1, -100), RK_JUMP, services);
	rule_chain(base_chain(f, "nat-postrouting", PX_HOOK_POSTROUTING, 1, 100), RK_JUMP,
		   "masquerading");
	rule_chain(base_chain(f, "filter-input", PX_HOOK_INPUT, 0, -110), RK_CT_NEW_JUMP, check);
	rule_chain(base_chain(f, "filter-forward", PX_HOOK_FORWARD, 0, -110), RK_CT_NEW_JUMP, check);
	rule_chain(base_chain(f, "filter-output", PX_HOOK_OUTPUT, 0, -110), RK_CT_NEW_JUMP, check);
	frag_seal(f, family, 0);
	return f;
}

/* Fill a service chain: picks one of the endpoints idx[0..n) and DNATs to
 * it, with no jump or goto, so that rewriting it never makes the kernel
 * check the table's graph for loops. */
static void pick_chain(px_frag *f, px_chain *c, const px_svc *s, const px_port *p,
		       const char **affsets, const size_t *idx, size_t n, const char *masq_cidr,
		       const char *key)
{
	uint32_t seed = (uint32_t)px_hash(PX_HASH_INIT, key, strlen(key));

	if (masq_cidr && *masq_cidr)
		add_rule(c, RK_SADDR_NOT_MARK)->addr = masq_cidr;
	if (s->affinity)
		for (size_t i = 0; i < n; i++) {
			const px_ep *e = &p->eps[idx[i]];
			px_rule *r = add_rule(c, RK_AFF_DNAT);
			r->set = affsets[idx[i]];
			r->addr = astr(f, "%s", e->addr);
			r->proto = p->proto;
			r->port = e->port;
		}
	if (!s->affinity) {
		/* one rule: the chain's id and a pick are the key into an
		 * endpoints map, whose elements say where to; a moved endpoint
		 * changes one element and no rule. The maps are 256 shards by
		 * id, shared by the chains whose ids fall in them: every
		 * element added to a map is checked against every rule that
		 * looks it up, so one map for all would be quadratic. */
		uint64_t id = px_hash(PX_HASH_INIT, c->name, strlen(c->name));
		px_rule *r = add_rule(c, RK_MAP_DNAT);
		r->set = astr(f, "endpoints-%02x", (unsigned)(id >> 56));
		int have = 0;
		for (size_t i = 0; i < f->nsets && !have; i++)
			have = !strcmp(f->sets[i].name, r->set);
		if (!have)
			px_frag_set(f, r->set, SK_ENDPOINTS, 0);
		r->proto = p->proto;
		r->lb = s->lb;
		r->mod = (int)n;
		r->seed = seed;
		r->hi = (uint32_t)(id >> 32);
		r->lo = (uint32_t)id;
		for (size_t i = 0; i < n; i++) {
			const px_ep *e = &p->eps[idx[i]];
			px_frag_elem(f, r->set, astr(f, "%u . %u . %zu", r->hi, r->lo, i), 0, 0,
				     astr(f, "%s . %d", e->addr, e->port));
		}
		return;
	}
	/* ClientIP affinity: a rule per endpoint, as the rule that picks one
	 * also records the client in that endpoint's set. random: endpoint i
	 * with probability 1/(n-i) among those left, which is 1/n each, as
	 * iptables' statistic rules do; sh: the same hash of the client
	 * address in every rule; rr picks at random here (a rule that also
	 * records the client cannot share one counter). */
	for (size_t i = 0; i < n; i++) {
		const px_ep *e = &p->eps[idx[i]];
		int last = i + 1 == n;
		px_rule *r = add_rule(c, last ? RK_DNAT : s->lb == PX_LB_SH ? RK_HASH_DNAT : RK_NG_DNAT);
		r->mod = s->lb == PX_LB_SH ? (int)n : (int)(n - i);
		r->val = s->lb == PX_LB_SH ? (int)i : 0;
		r->seed = seed;
		r->set = s->affinity ? affsets[idx[i]] : NULL;
		r->addr = astr(f, "%s", e->addr);
		r->proto = p->proto;
		r->port = e->port;
	}
}

px_frag *px_frag_build(const px_svc *s, const px_port *p, int family, const px_opts *o)
{
	char key[512];
	px_frag *f;
	const char **affsets;
	size_t *all, *loc, nloc = 0;
	const char *svc = NULL, *svl = NULL, *ext = NULL, *pname, *proto;
	const char *cidr = family == 4 ? o->cluster_cidr : o->cluster_cidr6;

	if (!s)
		return skeleton(family, o);
	proto = px_proto_name(p->proto);
	pname = p->name[0] ? p->name : NULL;
	if (pname)
		snprintf(key, sizeof key, "%s/%s/%s/%s", s->ns, s->name, proto, pname);
	else
		snprintf(key, sizeof key, "%s/%s/%s/%d", s->ns, s->name, proto, p->port);
	f = px_frag_new(key);

	affsets = arena_alloc(&f->arena, (p->neps + 1) * sizeof *affsets);
	all = arena_alloc(&f->arena, (p->neps + 1) * sizeof *all);
	loc = arena_alloc(&f->arena, (p->neps + 1) * sizeof *loc);

	/* per endpoint: its hairpin element, its affinity set */
	for (size_t i = 0; i < p->neps; i++) {
		const px_ep *e = &p->eps[i];
		char a[48];
		snprintf(a, sizeof a, "%s", e->addr);
		for (char *q = a; *q; q++)
			if (*q == ':')
				*q = '-'; /* nft names cannot hold ':' */
		affsets[i] = s->affinity ? astr(f, "aff-%s__%s/%d", key, a, e->port) : NULL;
		if (s->affinity)
			px_frag_set(f, affsets[i], SK_AFFINITY, s->affinity);
		all[i] = i;
		if (e->local)
			loc[nloc++] = i;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(p->eps[j].addr, e->addr);
		if (!seen)
			px_frag_elem(f, "hairpin", astr(f, "%s", e->addr), 0, 0, NULL);
	}
	int want_local = (s->itp_local || s->etp_local);
	int has_ext = s->next > 0 || p->nodeport > 0;

	if (p->neps) {
		svc = astr(f, "svc-%s", key);
		pick_chain(f, px_frag_chain(f, svc), s, p, affsets, all, p->neps,
			   s->cluster_ip[0] ? cidr : NULL, key);
	}
	if (want_local && nloc) {
		svl = astr(f, "svl-%s", key);
		pick_chain(f, px_frag_chain(f, svl), s, p, affsets, loc, nloc, NULL, key);
	}
	/* external traffic: NodePort, externalIPs, load balancer IPs */
	const char *ext_target = s->etp_local ? svl : svc;
	if (has_ext && ext_target) {
		ext = astr(f, "ext-%s", key);
		px_chain *c = px_frag_chain(f, ext);
		if (s->etp_local) {
			/* from the node itself: cluster-wide, masqueraded */
			add_rule(c, RK_FIB_LOCAL_MARK);
			rule_chain(c, RK_FIB_LOCAL_GOTO, svc);
			rule_chain(c, RK_GOTO, svl);
		} else {
			add_rule(c, RK_MARK_SET);
			rule_chain(c, RK_GOTO, svc);
		}
	}

	/* the elements in the shared maps; no endpoints: reject at once, but a
	 * Local policy with endpoints elsewhere drops, as kube-proxy does */
	const char *int_target = s->itp_local ? svl : svc;
	if (s->cluster_ip[0]) {
		if (int_target)
			px_frag_elem(f, "service-ips", astr(f, "%s", s->cluster_ip), p->proto, p->port,
				 int_target);
		else
			px_frag_elem(f, "no-endpoint-services", astr(f, "%s", s->cluster_ip), p->proto,
				 p->port, s->itp_local && p->neps ? NULL : "reject-chain");
	}
	for (size_t i = 0; i < s->next; i++) {
		const char *ip = astr(f, "%s", s->ext_ips[i]);
		if (ext)
			px_frag_elem(f, "service-ips", ip, p->proto, p->port, ext);
		else
			px_frag_elem(f, "no-endpoint-services", ip, p->proto, p->port,
				 s->etp_local && p->neps ? NULL : "reject-chain");
	}
	if (p->nodeport) {
		if (ext)
			px_frag_elem(f, "service-nodeports", NULL, p->proto, p->nodeport, ext);
		else
			px_frag_elem(f, "no-endpoint-nodeports", NULL, p->proto, p->nodeport,
				 s->etp_local && p->neps ? NULL : "reject-chain");
	}
	frag_seal(f, family, (uint64_t)s->affinity);
	return f;
}

/* ------------------------------------------------------------------ rulesets */

px_ruleset *px_ruleset_new(int family)
{
	px_ruleset *r = calloc(1, sizeof *r);

	r->family = family;
	return r;
}

void px_ruleset_add(px_ruleset *r, px_frag *f)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->frags = realloc(r->frags, r->cap * sizeof *r->frags);
	}
	r->frags[r->n++] = f;
}

void px_ruleset_free(px_ruleset *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		px_frag_unref(r->frags[i]);
	free(r->frags);
	free(r);
}

static int cmp_frag(const void *a, const void *b)
{
	return strcmp((*(px_frag *const *)a)->key, (*(px_frag *const *)b)->key);
}

px_ruleset *px_rules_build(const px_model *m, int family, const px_opts *o)
{
	px_ruleset *r = px_ruleset_new(family);

	px_ruleset_add(r, px_frag_build(NULL, NULL, family, o));
	for (size_t i = 0; i < m->n; i++) {
		const px_svc *s = &m->svcs[i];
		if (s->family != family)
			continue;
		for (size_t j = 0; j < s->nports; j++)
			px_ruleset_add(r, px_frag_build(s, &s->ports[j], family, o));
	}
	qsort(r->frags, r->n, sizeof *r->frags, cmp_frag);
	/* two ports of a service with the same key (a manifest error) keep the first */
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (k && !strcmp(r->frags[k - 1]->key, r->frags[i]->key)) {
			px_frag_unref(r->frags[i]);
			continue;
		}
		r->frags[k++] = r->frags[i];
	}
	r->n = k;
	px_ruleset_seal(r);
	return r;
}

void px_ruleset_seal(px_ruleset *r)
{
	uint64_t h = PX_HASH_INIT;
	size_t k = 0;
	char text[64];
	px_frag *f;

	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->frags[i]->key, PX_STATE_KEY)) {
			px_frag_unref(r->frags[i]);
			continue;
		}
		h = px_hash(h, &r->frags[i]->hash, sizeof r->frags[i]->hash);
		r->frags[k++] = r->frags[i];
	}
	r->n = k;
	snprintf(text, sizeof text, "0x%08x . 0x%08x", (unsigned)(h >> 32), (unsigned)h);
	f = px_frag_new(PX_STATE_KEY);
	px_frag_elem(f, "state", astr(f, "%s", text), 0, 0, NULL);
	frag_seal(f, r->family, 0);
	px_ruleset_add(r, f); /* "~state" sorts after every namespace */
}

const char *px_ruleset_state(const px_ruleset *r)
{
	for (size_t i = r->n; i-- > 0;)
		if (!strcmp(r->frags[i]->key, PX_STATE_KEY) && r->frags[i]->nelems)
			return r->frags[i]->elems[0].addr;
	return "";
}

size_t px_ruleset_count(const px_ruleset *r, size_t *nchains, size_t *nrules, size_t *nelems)
{
	size_t c = 0, ru = 0, el = 0;

	for (size_t i = 0; i < r->n; i++) {
		c += r->frags[i]->nchains;
		el += r->frags[i]->nelems;
		for (size_t j = 0; j < r->frags[i]->nchains; j++)
			ru += r->frags[i]->chains[j].nrules;
	}
	if (nchains)
		*nchains = c;
	if (nrules)
		*nrules = ru;
	if (nelems)
		*nelems = el;
	return r->n;
}

/* ------------------------------------------------------------------ nft text */

/* "[update @SET { ip saddr } ]meta l4proto P dnat to ADDR:PORT" */
static int render_dnat(kx_buf *b, int family, const px_rule *r)
{
	const char *ip = family == 6 ? "ip6" : "ip";

	if (r->set)
		kx_buf_addf(b, "update @%s { %s saddr } ", r->set, ip);
	if (family == 6)
		return kx_buf_addf(b, "meta l4proto %s dnat to [%s]:%d", px_proto_name(r->proto),
				   r->addr, r->port);
	return kx_buf_addf(b, "meta l4proto %s dnat to %s:%d", px_proto_name(r->proto), r->addr,
			   r->port);
}

int px_render_rule(kx_buf *b, int family, const px_rule *r)
{
	const char *ip = family == 6 ? "ip6" : "ip";
	char mark[64];

	snprintf(mark, sizeof mark, "meta mark set meta mark | 0x%08x", PX_MASQ_MARK);
	switch (r->kind) {
	case RK_JUMP:
		return kx_buf_addf(b, "jump %s", r->chain);
	case RK_GOTO:
		return kx_buf_addf(b, "goto %s", r->chain);
	case RK_SVC_VMAP:
		return kx_buf_addf(b, "%s daddr . meta l4proto . th dport vmap @%s", ip, r->set);
	case RK_NP_VMAP_FIB:
		return kx_buf_addf(b, "fib daddr type local meta l4proto . th dport vmap @%s", r->set);
	case RK_NP_VMAP_SET:
		return kx_buf_addf(b, "%s daddr @%s meta l4proto . th dport vmap @%s", ip, r->set2,
				   r->set);
	case RK_CT_NEW_JUMP:
		return kx_buf_addf(b, "ct state new jump %s", r->chain);
	case RK_MARK_SET:
		return kx_buf_adds(b, mark);
	case RK_MARK_RETURN:
		return kx_buf_addf(b, "meta mark & 0x%08x == 0x00000000 return", PX_MASQ_MARK);
	case RK_MARK_CLEAR:
		return kx_buf_addf(b, "meta mark set meta mark ^ 0x%08x", PX_MASQ_MARK);
	case RK_MASQ:
		return kx_buf_adds(b, "masquerade fully-random");
	case RK_REJECT_TCP:
		return kx_buf_adds(b, "meta l4proto tcp reject with tcp reset");
	case RK_REJECT:
		return kx_buf_adds(b, "reject");
	case RK_DROP:
		return kx_buf_adds(b, "drop");
	case RK_SADDR_NOT_MARK:
		return kx_buf_addf(b, "%s saddr != %s %s", ip, r->addr, mark);
	case RK_FIB_LOCAL_MARK:
		return kx_buf_addf(b, "fib saddr type local %s", mark);
	case RK_FIB_LOCAL_GOTO:
		return kx_buf_addf(b, "fib saddr type local goto %s", r->chain);
	case RK_PAIR_MARK:
		return kx_buf_addf(b, "%s saddr . %s daddr @%s %s", ip, ip, r->set, mark);
	case RK_AFF_DNAT:
		kx_buf_addf(b, "%s saddr @%s ", ip, r->set);
		return render_dnat(b, family, &(px_rule){.kind = RK_DNAT, .addr = r->addr,
							  .proto = r->proto, .port = r->port});
	case RK_DNAT:
		return render_dnat(b, family, r);
	case RK_NG_DNAT:
		kx_buf_addf(b, "numgen random mod %d %d ", r->mod, r->val);
		return render_dnat(b, family, r);
	case RK_HASH_DNAT:
		kx_buf_addf(b, "jhash %s saddr mod %d seed 0x%x %d ", ip, r->mod, r->seed, r->val);
		return render_dnat(b, family, r);
	case RK_MAP_DNAT:
		kx_buf_addf(b, "meta l4proto %s dnat %s to numgen random mod 1 offset %u . "
			       "numgen random mod 1 offset %u . ",
			    px_proto_name(r->proto), ip, r->hi, r->lo);
		if (r->lb == PX_LB_SH)
			kx_buf_addf(b, "jhash %s saddr mod %d seed 0x%x", ip, r->mod, r->seed);
		else
			kx_buf_addf(b, "numgen %s mod %d", r->lb == PX_LB_RR ? "inc" : "random", r->mod);
		return kx_buf_addf(b, " map @%s", r->set);
	}
	return -1;
}

int px_render_key(kx_buf *b, const px_elem *el, int kind)
{
	switch (kind) {
	case SK_SVC_MAP:
		return kx_buf_addf(b, "%s . %s . %d", el->addr, px_proto_name(el->proto), el->port);
	case SK_PORT_MAP:
		return kx_buf_addf(b, "%s . %d", px_proto_name(el->proto), el->port);
	case SK_PAIRS:
		return kx_buf_addf(b, "%s . %s", el->addr, el->addr);
	case SK_ENDPOINTS:
		return kx_buf_adds(b, el->addr);
	default:
		return kx_buf_adds(b, el->addr);
	}
}

void px_chain_comment(const px_chain *c, char *buf, size_t n)
{
	snprintf(buf, n, "kx:%016llx", (unsigned long long)c->hash);
}

static const char *const hook_names[] = {"prerouting", "input", "forward", "output",
					 "postrouting"};

int px_set_kind_by_name(const char *name)
{
	if (!strcmp(name, "service-ips") || !strcmp(name, "no-endpoint-services"))
		return SK_SVC_MAP;
	if (!strcmp(name, "service-nodeports") || !strcmp(name, "no-endpoint-nodeports"))
		return SK_PORT_MAP;
	if (!strncmp(name, "aff-", 4))
		return SK_AFFINITY;
	if (!strcmp(name, "state"))
		return SK_STATE;
	if (!strcmp(name, "hairpin"))
		return SK_PAIRS;
	if (!strcmp(name, "versions"))
		return SK_VERSIONS;
	if (!strncmp(name, "endpoints-", 10))
		return SK_ENDPOINTS;
	return SK_ADDRS;
}

/* Each named set once, with its elements, whatever fragments bring them:
 * a set several fragments share (an endpoints-XX shard) is declared once. */
typedef struct set_ix {
	const px_set *set;
	const px_elem **elems;
	size_t n, cap;
} set_ix;

typedef struct sets_ix {
	set_ix *v;
	size_t n;
	size_t *slot; /* open addressing over v, by name; (size_t)-1 empty */
	size_t cap;
} sets_ix;

static size_t ix_find(const sets_ix *x, const char *name)
{
	size_t i = (size_t)px_hash(PX_HASH_INIT, name, strlen(name)) & (x->cap - 1);

	while (x->slot[i] != (size_t)-1 && strcmp(x->v[x->slot[i]].set->name, name))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void sets_index(sets_ix *x, const px_ruleset *r)
{
	size_t total = 0;

	for (size_t i = 0; i < r->n; i++)
		total += r->frags[i]->nsets;
	x->cap = 64;
	while (x->cap < 2 * total + 2)
		x->cap *= 2;
	x->slot = malloc(x->cap * sizeof *x->slot);
	memset(x->slot, 0xff, x->cap * sizeof *x->slot);
	x->v = calloc(total + 1, sizeof *x->v);
	x->n = 0;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->frags[i]->nsets; j++) {
			size_t k = ix_find(x, r->frags[i]->sets[j].name);
			if (x->slot[k] != (size_t)-1)
				continue;
			x->slot[k] = x->n;
			x->v[x->n++].set = &r->frags[i]->sets[j];
		}
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->frags[i]->nelems; j++) {
			const px_elem *el = &r->frags[i]->elems[j];
			size_t k = ix_find(x, el->set);
			if (x->slot[k] == (size_t)-1)
				continue;
			set_ix *si = &x->v[x->slot[k]];
			if (si->n == si->cap) {
				si->cap = si->cap ? 2 * si->cap : 8;
				si->elems = realloc(si->elems, si->cap * sizeof *si->elems);
			}
			si->elems[si->n++] = el;
		}
}

static void sets_free(sets_ix *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i].elems);
	free(x->v);
	free(x->slot);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The hairpin pairs, sorted, each once: service ports that share an
 * endpoint each bring its pair. */
static void render_pairs(kx_buf *b, const set_ix *si)
{
	size_t n = si->n, out = 0;
	const char **v = malloc((n + 1) * sizeof *v);

	for (size_t i = 0; i < n; i++)
		v[i] = si->elems[i]->addr;
	if (n)
		qsort(v, n, sizeof *v, cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		kx_buf_adds(b, out++ ? ",\n\t\t\t     " : "\t\telements = { ");
		kx_buf_addf(b, "%s . %s", v[i], v[i]);
	}
	if (out)
		kx_buf_adds(b, " }\n");
	free(v);
}

static void render_set(kx_buf *b, const px_ruleset *r, const set_ix *si)
{
	const px_set *s = si->set;
	const char *addr = r->family == 6 ? "ipv6_addr" : "ipv4_addr";
	size_t n = 0;

	kx_buf_addf(b, "\t%s %s {\n",
		    s->kind == SK_SVC_MAP || s->kind == SK_PORT_MAP || s->kind == SK_ENDPOINTS ? "map"
											  : "set",
		    s->name);
	switch (s->kind) {
	case SK_SVC_MAP:
		kx_buf_addf(b, "\t\ttype %s . inet_proto . inet_service : verdict\n", addr);
		break;
	case SK_PORT_MAP:
		kx_buf_adds(b, "\t\ttype inet_proto . inet_service : verdict\n");
		break;
	case SK_ADDRS:
		kx_buf_addf(b, "\t\ttype %s\n", addr);
		break;
	case SK_AFFINITY:
		kx_buf_addf(b, "\t\ttype %s\n\t\tflags dynamic,timeout\n\t\ttimeout %ds\n", addr,
			    s->timeout);
		break;
	case SK_STATE:
	case SK_VERSIONS:
		kx_buf_adds(b, "\t\ttype mark . mark\n");
		break;
	case SK_PAIRS:
		kx_buf_addf(b, "\t\ttype %s . %s\n", addr, addr);
		break;
	case SK_ENDPOINTS:
		kx_buf_addf(b, "\t\ttypeof numgen random mod 1 . numgen random mod 1 . "
			       "numgen random mod 1 : %s daddr . th dport\n",
			    r->family == 6 ? "ip6" : "ip");
		break;
	}
	if (s->kind == SK_PAIRS) {
		render_pairs(b, si);
		kx_buf_adds(b, "\t}\n");
		return;
	}
	for (size_t i = 0; i < si->n; i++) {
		const px_elem *el = si->elems[i];
		kx_buf_adds(b, n++ ? ",\n\t\t\t     " : "\t\telements = { ");
		px_render_key(b, el, s->kind);
		if (s->kind == SK_ENDPOINTS)
			kx_buf_addf(b, " : %s", el->verdict);
		else if (s->kind == SK_SVC_MAP || s->kind == SK_PORT_MAP) {
			if (el->verdict)
				kx_buf_addf(b, " : goto %s", el->verdict);
			else
				kx_buf_adds(b, " : drop");
		}
	}
	if (n)
		kx_buf_adds(b, " }\n");
	kx_buf_adds(b, "\t}\n");
}

static void render_chain(kx_buf *b, int family, const px_chain *c)
{
	char comment[64];

	px_chain_comment(c, comment, sizeof comment);
	kx_buf_addf(b, "\tchain %s {\n", c->name);
	if (c->hook != PX_HOOK_NONE)
		kx_buf_addf(b, "\t\ttype %s hook %s priority %d; policy accept;\n",
			    c->nat ? "nat" : "filter", hook_names[c->hook], c->prio);
	if (c->hook != PX_HOOK_NONE)
		kx_buf_addf(b, "\t\tcomment \"%s\"\n", comment);
	for (size_t i = 0; i < c->nrules; i++) {
		kx_buf_adds(b, "\t\t");
		px_render_rule(b, family, &c->rules[i]);
		kx_buf_addc(b, '\n');
	}
	kx_buf_adds(b, "\t}\n");
}

/* The order here is the order nl.c creates things in, so that a table built
 * by `nft -f` from this text lists the same as one built by the program. */
int px_render_nft(kx_buf *b, const px_ruleset *r)
{
	const char *fam = r->family == 6 ? "ip6" : "ip";

	kx_buf_addf(b, "# kx-proxy-sync: the whole table, replaced atomically\n");
	kx_buf_addf(b, "table %s %s\ndelete table %s %s\ntable %s %s {\n", fam, PX_TABLE, fam,
		    PX_TABLE, fam, PX_TABLE);
	sets_ix x;
	sets_index(&x, r);
	for (size_t i = 0; i < x.n; i++)
		render_set(b, r, &x.v[i]);
	sets_free(&x);
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->frags[i]->nchains; j++)
			render_chain(b, r->family, &r->frags[i]->chains[j]);
	return kx_buf_adds(b, "}\n");
}
