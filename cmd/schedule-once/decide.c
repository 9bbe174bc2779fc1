/* decide.c: filters, scores and the choice of a node for every pending pod,
 * as kube-scheduler's default profile makes it. Pure: model in, decisions
 * out; nothing here does I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sched.h"
#include "selector.h"

void sched_node_add_pod(sched_cluster *c, int ni, int pi);

#define MAX_SCORE 100

/* ==== helpers ============================================================ */

/* The value id of label key on node n, -1 when absent. */
static int node_label(const sched_node *n, int key)
{
	int lo = 0, hi = n->nlabels - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (n->labelv[mid].key == key)
			return n->labelv[mid].val;
		if (n->labelv[mid].key < key)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int in_list(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* Kubernetes' Toleration.ToleratesTaint. */
static int tolerates(const sched_toleration *t, int key, int val, int effect)
{
	if (t->effect != E_ALL && t->effect != effect)
		return 0;
	if (t->key >= 0 && t->key != key)
		return 0;
	return t->exists || t->val == val;
}

static int tolerated(const sched_pod *p, int key, int val, int effect)
{
	for (int i = 0; i < p->ntol; i++)
		if (tolerates(&p->tol[i], key, val, effect))
			return 1;
	return 0;
}

static int req_match(const sched_cluster *c, const sched_req *r, const sched_node *n)
{
	int v;

	if (r->field) {
		if (r->op == OP_IN)
			return in_list(r->vals, r->nvals, n->nameid);
		if (r->op == OP_NOTIN)
			return !in_list(r->vals, r->nvals, n->nameid);
		return 0;
	}
	v = node_label(n, r->key);
	switch (r->op) {
	case OP_IN:
		return v >= 0 && in_list(r->vals, r->nvals, v);
	case OP_NOTIN:
		return v < 0 || !in_list(r->vals, r->nvals, v);
	case OP_EXISTS:
		return v >= 0;
	case OP_DOESNOTEXIST:
		return v < 0;
	case OP_GT:
	case OP_LT: {
		const char *s;
		char *end;
		long long x;
		if (v < 0)
			return 0;
		s = sched_str(c->strs, v);
		x = strtoll(s, &end, 10);
		if (!*s || *end)
			return 0;
		return r->op == OP_GT ? x > r->num : x < r->num;
	}
	}
	return 0;
}

/* A term matches when all its requirements do; an empty term matches
 * nothing, as in Kubernetes. */
static int term_match(const sched_cluster *c, const sched_term *t, const sched_node *n)
{
	if (t->nreqs == 0)
		return 0;
	for (int i = 0; i < t->nreqs; i++)
		if (!req_match(c, &t->reqs[i], n))
			return 0;
	return 1;
}

static int anti_selects(const sched_anti *a, const sched_pod *q)
{
	return a->sel && in_list(a->ns, a->nns, q->nsid) && kx_selector_match(a->sel, q->labels);
}

/* For a term of pod p whose topology is not the node itself: does a pod it
 * selects already run in the node's domain? */
static int anti_domain_taken(const sched_cluster *c, const sched_anti *a, const sched_node *n)
{
	int dom = node_label(n, a->topo);

	if (dom < 0)
		return 0; /* the node is in no such domain: the term says nothing */
	for (int i = 0; i < c->nnodes; i++) {
		const sched_node *m = &c->nodes[i];
		if (node_label(m, a->topo) != dom)
			continue;
		for (int k = 0; k < m->npods; k++)
			if (anti_selects(a, &c->pods[m->pods[k]]))
				return 1;
	}
	return 0;
}

/* ==== filters ============================================================ */

/* Run the filters of p on node n in kube-scheduler's order. Returns -1 when
 * the node fits, else the filter that failed, with *detail saying more
 * (the taint's index, the mask of insufficient resources, or which
 * anti-affinity rule). */
/* The filters that depend only on the pod's spec and the node's spec:
 * NodeUnschedulable, NodeName, TaintToleration, NodeAffinity. Their answer
 * never changes during a pass, so it is cached per pod signature. */
static int filter_static(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			 int *detail)
{
	*detail = 0;
	if (n->unschedulable && !tolerated(p, c->k_unsched, 0, E_NOSCHEDULE))
		return F_UNSCHEDULABLE;
	if (p->nodename >= 0 && p->nodename != n->nameid)
		return F_NODENAME;
	for (int i = 0; i < n->ntaints; i++) {
		const sched_taint *t = &n->taints[i];
		if ((t->effect == E_NOSCHEDULE || t->effect == E_NOEXECUTE) &&
		    !tolerated(p, t->key, t->val, t->effect)) {
			*detail = i;
			return F_TAINTS;
		}
	}
	for (int i = 0; i < p->nsel; i++)
		if (node_label(n, p->sel[i].key) != p->sel[i].val)
			return F_AFFINITY;
	if (p->nrequired >= 0) {
		int any = 0;
		for (int i = 0; i < p->nrequired && !any; i++)
			any = term_match(c, &p->required[i], n);
		if (!any)
			return F_AFFINITY;
	}
	return -1;
}

/* The filters that depend on what runs on the node: NodePorts,
 * NodeResourcesFit, InterPodAffinity. */
static int filter_dynamic(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			  int *detail)
{
	*detail = 0;
	for (int i = 0; i < p->nports; i++)
		for (int k = 0; k < n->nports; k++) {
			const sched_port *a = &p->ports[i], *b = &n->ports[k];
			if (a->port == b->port && a->proto == b->proto &&
			    (a->ip < 0 || b->ip < 0 || a->ip == b->ip))
				return F_PORTS;
		}
	{
		int mask = 0;
		if (n->req[R_PODS] + 1000 > n->alloc[R_PODS])
			mask |= 1 << R_PODS;
		for (int k = 0; k < p->nreqlist; k++) {
			int r = p->reqlist[k];
			if (p->req[r] > n->alloc[r] - n->req[r])
				mask |= 1 << r;
		}
		if (mask) {
			*detail = mask;
			return F_FIT;
		}
	}
	for (int i = 0; i < p->nanti; i++) {
		const sched_anti *a = &p->anti[i];
		if (a->hostname) {
			for (int k = 0; k < n->npods; k++)
				if (anti_selects(a, &c->pods[n->pods[k]]))
					return F_ANTI;
		} else if (anti_domain_taken(c, a, n)) {
			return F_ANTI;
		}
	}
	if (n->nanti) {
		for (int k = 0; k < n->npods; k++) {
			const sched_pod *q = &c->pods[n->pods[k]];
			for (int i = 0; i < q->nanti; i++)
				if (q->anti[i].hostname && anti_selects(&q->anti[i], p)) {
					*detail = 1;
					return F_ANTI;
				}
		}
	}
	return -1;
}

static int filter(const sched_cluster *c, const sched_pod *p, const sched_node *n, int *detail)
{
	int f = filter_static(c, p, n, detail);

	return f >= 0 ? f : filter_dynamic(c, p, n, detail);
}

/* The reasons a filter gives, as kube-scheduler words them, each passed to
 * fn (a node may give several: one per insufficient resource). */
typedef void (*reason_fn)(void *arg, const char *reason);
static void reasons(const sched_cluster *c, const sched_node *n, int f, int detail, reason_fn fn,
		    void *arg)
{
	char buf[700];

	switch (f) {
	case F_UNSCHEDULABLE:
		fn(arg, "node(s) were unschedulable");
		break;
	case F_NODENAME:
		fn(arg, "node(s) didn't match the requested node name");
		break;
	case F_TAINTS:
		snprintf(buf, sizeof buf, "node(s) had untolerated taint {%s: %s}",
			 sched_str(c->strs, n->taints[detail].key),
			 sched_str(c->strs, n->taints[detail].val));
		fn(arg, buf);
		break;
	case F_AFFINITY:
		fn(arg, "node(s) didn't match Pod's node affinity/selector");
		break;
	case F_PORTS:
		fn(arg, "node(s) didn't have free ports for the requested pod ports");
		break;
	case F_FIT:
		if (detail & (1 << R_PODS))
			fn(arg, "Too many pods");
		for (int r = 0; r < c->nres; r++) {
			static const char *const fixed[] = {"cpu", "memory", "ephemeral-storage"};
			if (r == R_PODS || !(detail & (1 << r)))
				continue;
			snprintf(buf, sizeof buf, "Insufficient %s",
				 r < R_PODS ? fixed[r] : c->resname[r]);
			fn(arg, buf);
		}
		break;
	case F_ANTI:
		fn(arg, detail ? "node(s) didn't satisfy existing pods anti-affinity rules"
			       : "node(s) didn't match pod anti-affinity rules");
		break;
	}
}

/* The histogram of reasons behind a FitError. */
typedef struct histo {
	struct {
		char *reason;
		int count;
	} *v;
	int n;
} histo;

static void histo_add(void *arg, const char *reason)
{
	histo *h = arg;

	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].reason, reason)) {
			h->v[i].count++;
			return;
		}
	h->v = realloc(h->v, (h->n + 1) * sizeof *h->v);
	h->v[h->n].reason = strdup(reason);
	h->v[h->n].count = 1;
	h->n++;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kube-scheduler's FitError message: "0/5 nodes are available: 3
 * Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}." with
 * the "COUNT REASON" strings sorted as strings, as it sorts them. */
static char *fit_message(const histo *h, int nnodes)
{
	kx_buf b = KX_BUF_INIT;
	char **items = calloc(h->n + 1, sizeof *items);

	if (nnodes == 0) {
		free(items);
		return strdup("no nodes available to schedule pods");
	}
	for (int i = 0; i < h->n; i++) {
		size_t len = strlen(h->v[i].reason) + 16;
		items[i] = malloc(len);
		snprintf(items[i], len, "%d %s", h->v[i].count, h->v[i].reason);
	}
	qsort(items, h->n, sizeof *items, str_cmp);
	kx_buf_addf(&b, "0/%d nodes are available:", nnodes);
	for (int i = 0; i < h->n; i++) {
		kx_buf_addf(&b, "%s%s", i ? ", " : " ", items[i]);
		free(items[i]);
	}
	kx_buf_adds(&b, ".");
	free(items);
	return kx_buf_steal(&b);
}

static void histo_free(histo *h)
{
	for (int i = 0; i < h->n; i++)
		free(h->v[i].reason);
	free(h->v);
}

struct rowbuf {
	char *p;
	size_t n;
};

static void row_reason(void *arg, const char *reason)
{
	struct rowbuf *r = arg;
	size_t len = strlen(r->p);

	snprintf(r->p + len, r->n - len, "%s%s", len ? ", " : "", reason);
}

/* ==== scores ============================================================= */

static int64_t least_requested(int64_t req, int64_t alloc)
{
	if (alloc <= 0 || req > alloc)
		return 0;
	return (alloc - req) * MAX_SCORE / alloc;
}

static double fraction(int64_t req, int64_t alloc)
{
	if (alloc <= 0)
		return req > 0 ? 1.0 : 0.0;
	double f = (double)req / (double)alloc;
	return f > 1.0 ? 1.0 : f;
}

/* Raw score of each candidate for each score, before normalizing. */
static void score_static(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			 int64_t *raw);
static void score_dynamic(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			  int64_t *raw);

/* Raw score of a node for each score, before normalizing. */
static void score_raw(const sched_cluster *c, const sched_pod *p, const sched_node *n,
		      int64_t *raw)
{
	score_static(c, p, n, raw);
	score_dynamic(c, p, n, raw);
}

/* Scores that depend on what runs on the node: LeastRequested,
 * BalancedResourceAllocation, SelectorSpread. */
static void score_dynamic(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			  int64_t *raw)
{
	const int *w = c->cfg.weight;

	if (w[S_LEAST]) {
		int64_t cpu = least_requested(n->nz_cpu + p->nz_cpu, n->alloc[R_CPU]);
		int64_t mem = least_requested(n->nz_mem + p->nz_mem, n->alloc[R_MEM]);
		raw[S_LEAST] = (cpu + mem) / 2;
	}
	if (w[S_BALANCED]) {
		double fc = fraction(n->req[R_CPU] + p->req[R_CPU], n->alloc[R_CPU]);
		double fm = fraction(n->req[R_MEM] + p->req[R_MEM], n->alloc[R_MEM]);
		double sd = (fc > fm ? fc - fm : fm - fc) / 2;
		raw[S_BALANCED] = (int64_t)((1.0 - sd) * MAX_SCORE);
	}
	if (w[S_SPREAD]) {
		int64_t cnt = 0;
		if (p->nspread == 1) {
			/* the common case: one group, counted on the node as pods land */
			for (int k = 0; k < n->ngroups; k++)
				if (n->groups[k].key == p->spread[0])
					cnt = n->groups[k].val;
		} else if (p->nspread > 1)
			for (int k = 0; k < n->npods; k++) {
				const sched_pod *q = &c->pods[n->pods[k]];
				int i = 0, j = 0, hit = 0;
				if (q->nsid != p->nsid)
					continue;
				while (!hit && i < p->nspread && j < q->nspread) {
					if (p->spread[i] == q->spread[j])
						hit = 1;
					else if (p->spread[i] < q->spread[j])
						i++;
					else
						j++;
				}
				cnt += hit;
			}
		raw[S_SPREAD] = cnt;
	}
}

/* Scores that depend only on the pod's spec and the node's: NodeLabel,
 * preferred NodeAffinity, TaintToleration, ImageLocality (cached per pod
 * signature, like the static filters). */
static void score_static(const sched_cluster *c, const sched_pod *p, const sched_node *n,
			 int64_t *raw)
{
	const int *w = c->cfg.weight;

	if (w[S_LABEL] && c->cfg.nprefer) {
		int64_t sum = 0;
		for (size_t i = 0; i < c->cfg.nprefer; i++) {
			const sched_prefer *pr = &c->cfg.prefer[i];
			int key = sched_lookup(c->strs, pr->key), has = 0;
			int v = key >= 0 ? node_label(n, key) : -1;
			if (v >= 0)
				has = !pr->value || !strcmp(sched_str(c->strs, v), pr->value);
			if (has != pr->negate)
				sum += MAX_SCORE;
		}
		raw[S_LABEL] = sum / (int64_t)c->cfg.nprefer;
	}
	if (w[S_AFFINITY]) {
		int64_t sum = 0;
		for (int i = 0; i < p->npreferred; i++)
			if (p->preferred[i].weight && term_match(c, &p->preferred[i], n))
				sum += p->preferred[i].weight;
		raw[S_AFFINITY] = sum;
	}
	if (w[S_TAINT]) {
		int64_t cnt = 0;
		for (int i = 0; i < n->ntaints; i++) {
			const sched_taint *t = &n->taints[i];
			int ok = 0;
			if (t->effect != E_PREFER)
				continue;
			for (int k = 0; k < p->ntol && !ok; k++)
				if (p->tol[k].effect == E_ALL || p->tol[k].effect == E_PREFER)
					ok = tolerates(&p->tol[k], t->key, t->val, t->effect);
			cnt += !ok;
		}
		raw[S_TAINT] = cnt;
	}
	if (w[S_IMAGE]) {
		int64_t sum = 0;
		for (int i = 0; i < p->nimages; i++) {
			int lo = 0, hi = n->nimages - 1, id = p->images[i];
			while (lo <= hi) {
				int mid = (lo + hi) / 2;
				if (n->images[mid].name == id) {
					double spread = (double)c->image_nodes[id] / (double)c->nnodes;
					sum += (int64_t)((double)n->images[mid].size * spread);
					break;
				}
				if (n->images[mid].name < id)
					lo = mid + 1;
				else
					hi = mid - 1;
			}
		}
		const int64_t mb = 1024 * 1024;
		int64_t min = 23 * mb, max = 1000 * mb * (p->ncontainers ? p->ncontainers : 1);
		if (sum < min)
			sum = min;
		if (sum > max)
			sum = max;
		raw[S_IMAGE] = MAX_SCORE * (sum - min) / (max - min);
	}
}

/* Normalize the raw scores of the ncand candidates in place (scores[i * S_COUNT + s]),
 * as the plugins' NormalizeScore do. */
static void normalize(const sched_cluster *c, int ncand, int64_t *scores)
{
	const int *w = c->cfg.weight;
	int64_t max;

	if (w[S_AFFINITY]) {
		max = 0;
		for (int i = 0; i < ncand; i++)
			if (scores[(i) * S_COUNT + S_AFFINITY] > max)
				max = scores[(i) * S_COUNT + S_AFFINITY];
		for (int i = 0; i < ncand; i++)
			scores[(i) * S_COUNT + S_AFFINITY] = max ? scores[(i) * S_COUNT + S_AFFINITY] * MAX_SCORE / max : 0;
	}
	if (w[S_TAINT]) {
		max = 0;
		for (int i = 0; i < ncand; i++)
			if (scores[(i) * S_COUNT + S_TAINT] > max)
				max = scores[(i) * S_COUNT + S_TAINT];
		for (int i = 0; i < ncand; i++)
			scores[(i) * S_COUNT + S_TAINT] =
				max ? MAX_SCORE - scores[(i) * S_COUNT + S_TAINT] * MAX_SCORE / max : MAX_SCORE;
	}
	if (w[S_SPREAD]) {
		/* SelectorSpread: fewer matching pods on the node scores higher; where
		 * nodes have zones, the zone's count weighs two thirds. */
		int64_t maxz = 0;
		max = 0;
		for (int i = 0; i < ncand; i++)
			if (scores[(i) * S_COUNT + S_SPREAD] > max)
				max = scores[(i) * S_COUNT + S_SPREAD];
		/* zone counts: the sum over candidates in the same zone */
		int64_t *zc = c->zone_count;
		int havez = 0;
		for (int i = 0; i < ncand; i++) {
			int z = c->nodes[c->cand[i]].zone;
			if (z >= 0)
				zc[z] = 0;
		}
		for (int i = 0; i < ncand; i++) {
			int z = c->nodes[c->cand[i]].zone;
			if (z >= 0) {
				zc[z] += scores[(i) * S_COUNT + S_SPREAD];
				havez = 1;
			}
		}
		for (int i = 0; i < ncand; i++) {
			int z = c->nodes[c->cand[i]].zone;
			if (z >= 0 && zc[z] > maxz)
				maxz = zc[z];
		}
		for (int i = 0; i < ncand; i++) {
			double f = MAX_SCORE;
			if (max > 0)
				f = MAX_SCORE * (double)(max - scores[(i) * S_COUNT + S_SPREAD]) / (double)max;
			if (havez && c->nodes[c->cand[i]].zone >= 0) {
				double z = MAX_SCORE;
				if (maxz > 0)
					z = MAX_SCORE * (double)(maxz - zc[c->nodes[c->cand[i]].zone]) /
					    (double)maxz;
				f = f * (1.0 / 3.0) + z * (2.0 / 3.0);
			}
			scores[(i) * S_COUNT + S_SPREAD] = (int64_t)f;
		}
	}
}

/* ==== the pass =========================================================== */

int sched_nodes_to_find(int nnodes, int percentage)
{
	const int min_nodes = 100, min_pct = 5;
	int pct = percentage, n;

	if (nnodes < min_nodes || pct >= 100)
		return nnodes;
	if (pct <= 0) {
		pct = 50 - nnodes / 125;
		if (pct < min_pct)
			pct = min_pct;
	}
	n = (int)((int64_t)nnodes * pct / 100);
	return n < min_nodes ? min_nodes : n;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Choose a node for pod pi; fill d. Nodes are examined from c->start,
 * round robin, until enough feasible ones are found (percentageOfNodesToScore). */
#define SIGCACHE_MAX ((size_t)256 << 20) /* bytes of cached static results */

/* The static results of p's signature on node ni, computed on first use;
 * NULL when the cache is full (then the caller computes them itself). */
static sched_sigent *sig_entry(sched_cluster *c, const sched_pod *p, int ni)
{
	sched_sigent *row, *e;

	if (!c->sigcache)
		c->sigcache = calloc(sched_strtab_count(c->sigs) + 1, sizeof *c->sigcache);
	row = c->sigcache[p->sig];
	if (!row) {
		size_t bytes = (size_t)c->nnodes * sizeof *row;
		if (c->sigbytes + bytes > SIGCACHE_MAX)
			return NULL;
		row = c->sigcache[p->sig] = calloc(c->nnodes + 1, sizeof *row);
		c->sigbytes += bytes;
	}
	e = &row[ni];
	if (!e->state) {
		int detail;
		int64_t raw[S_COUNT] = {0};
		if (filter_static(c, p, &c->nodes[ni], &detail) >= 0) {
			e->state = 2;
		} else {
			e->state = 1;
			score_static(c, p, &c->nodes[ni], raw);
			e->label = (int8_t)raw[S_LABEL];
			e->taint = (int16_t)(raw[S_TAINT] > 32767 ? 32767 : raw[S_TAINT]);
			e->image = (int16_t)raw[S_IMAGE];
			e->affinity = (int32_t)raw[S_AFFINITY];
		}
	}
	return e;
}

/* Choose a node for pod pi; fill d. Nodes are examined from c->start,
 * round robin, until enough feasible ones are found (percentageOfNodesToScore). */
static void place(sched_cluster *c, int pi, sched_decision *d, sched_explain *ex)
{
	sched_pod *p = &c->pods[pi];
	int nn = c->nnodes, tofind = sched_nodes_to_find(nn, c->cfg.percentage);
	int ncand = 0, processed = 0, detail;
	int64_t *scores = c->scoremat;

	d->pod = pi;
	d->node = -1;
	d->score = 0;
	d->reason = NULL;
	if (ex) {
		ex->rows = calloc(nn + 1, sizeof *ex->rows);
		ex->found = 1;
	}
	for (int k = 0; k < nn && ncand < tofind; k++) {
		int ni = c->start + k < nn ? c->start + k : c->start + k - nn;
		const sched_node *n = &c->nodes[ni];
		int f;
		processed++;
		if (ex) {
			sched_explain_row *row = &ex->rows[ni];
			struct rowbuf rb = {row->reason, sizeof row->reason};
			f = filter(c, p, n, &detail);
			row->examined = 1;
			row->failed = f;
			if (f >= 0)
				reasons(c, n, f, detail, row_reason, &rb);
		} else {
			sched_sigent *e = sig_entry(c, p, ni);
			if (e)
				f = e->state == 2 ? 0 : filter_dynamic(c, p, n, &detail);
			else
				f = filter(c, p, n, &detail);
			c->candsig[ncand] = e;
		}
		if (f < 0)
			c->cand[ncand++] = ni;
	}
	if (nn)
		c->start = (c->start + processed) % nn;
	if (ncand == 0) {
		/* every node was examined and failed: ask each why */
		histo h = {0};
		for (int ni = 0; ni < nn; ni++) {
			int f = filter(c, p, &c->nodes[ni], &detail);
			if (f >= 0)
				reasons(c, &c->nodes[ni], f, detail, histo_add, &h);
		}
		d->reason = fit_message(&h, nn);
		histo_free(&h);
		if (ex)
			ex->reason = strdup(d->reason);
		return;
	}

	for (int i = 0; i < ncand; i++) {
		int64_t *raw = &scores[i * S_COUNT];
		const sched_node *n = &c->nodes[c->cand[i]];
		for (int s = 0; s < S_COUNT; s++)
			raw[s] = 0;
		sched_sigent *e = ex ? NULL : c->candsig[i];
		if (e) {
			raw[S_LABEL] = e->label;
			raw[S_TAINT] = e->taint;
			raw[S_IMAGE] = e->image;
			raw[S_AFFINITY] = e->affinity;
			score_dynamic(c, p, n, raw);
		} else {
			score_raw(c, p, n, raw);
		}
	}
	normalize(c, ncand, scores);

	int64_t best = -1;
	int nbest = 0;
	for (int i = 0; i < ncand; i++) {
		int64_t total = 0;
		for (int s = 0; s < S_COUNT; s++)
			total += scores[i * S_COUNT + s] * c->cfg.weight[s];
		if (ex) {
			sched_explain_row *row = &ex->rows[c->cand[i]];
			row->scored = 1;
			row->total = total;
			for (int s = 0; s < S_COUNT; s++)
				row->points[s] = c->cfg.weight[s] ? scores[i * S_COUNT + s] : 0;
		}
		/* kube-scheduler's selectHost: reservoir sampling among the best */
		if (total > best) {
			best = total;
			nbest = 1;
			d->node = c->cand[i];
		} else if (total == best) {
			nbest++;
			if (rng_next(&c->rng) % (uint64_t)nbest == 0)
				d->node = c->cand[i];
		}
	}
	d->score = best;
	if (ex)
		ex->chosen = d->node;
	sched_node_add_pod(c, d->node, pi);
}

static const sched_cluster *sort_cluster;

/* The scheduling queue's order: higher priority first, then older first. */
static int queue_cmp(const void *a, const void *b)
{
	const sched_pod *x = &sort_cluster->pods[*(const int *)a];
	const sched_pod *y = &sort_cluster->pods[*(const int *)b];
	int r;

	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if ((r = strcmp(x->created, y->created)))
		return r;
	return strcmp(x->key, y->key);
}

sched_decision *sched_decide(sched_cluster *c, size_t *n, sched_explain *ex)
{
	int *order = calloc(c->npods + 1, sizeof *order);
	int k = 0;
	sched_decision *d;

	for (int i = 0; i < c->npods; i++)
		if (c->pods[i].pending)
			order[k++] = i;
	sort_cluster = c;
	qsort(order, k, sizeof *order, queue_cmp);
	sort_cluster = NULL;
	d = calloc(k + 1, sizeof *d);
	c->rng = c->cfg.seed;
	c->start = 0;
	c->nactive = 0;
	for (int s = 0; s < S_COUNT; s++)
		if (c->cfg.weight[s])
			c->active[c->nactive++] = s;
	if (ex) {
		ex->found = 0;
		ex->chosen = -1;
	}
	for (int i = 0; i < k; i++) {
		sched_pod *p = &c->pods[order[i]];
		sched_explain *e = ex && ex->pod && !strcmp(ex->pod, p->key) && !ex->rows ? ex : NULL;
		if (p->bad) {
			d[i].pod = order[i];
			d[i].node = -1;
			d[i].reason = strdup(p->bad);
			if (e) {
				e->found = 1;
				e->reason = strdup(p->bad);
			}
			continue;
		}
		place(c, order[i], &d[i], e);
	}
	free(order);
	*n = k;
	return d;
}

void sched_decisions_free(sched_decision *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].reason);
	free(d);
}

void sched_explain_free(sched_explain *ex)
{
	free(ex->rows);
	free(ex->reason);
	ex->rows = NULL;
	ex->reason = NULL;
}

jv sched_decision_json(const sched_cluster *c, const sched_decision *d)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("pod"), jv_string(c->pods[d->pod].key));
	if (d->node >= 0) {
		o = jv_object_set(o, jv_string("node"), jv_string(c->nodes[d->node].name));
		o = jv_object_set(o, jv_string("score"), jv_number((double)d->score));
	} else {
		o = jv_object_set(o, jv_string("node"), jv_null());
		o = jv_object_set(o, jv_string("reason"), jv_string(d->reason ? d->reason : ""));
	}
	return o;
}

/* ==== --explain ========================================================== */

static const char *const filter_cols[F_COUNT] = {"UNSCHED", "NAME",  "TAINTS", "AFFINITY",
						 "PORTS",   "FIT",   "ANTI"};
static const char *const score_cols[S_COUNT] = {"LEAST", "BALANCED", "LABEL", "NODEAFF",
						"TAINT", "SPREAD",   "IMAGE"};

void sched_explain_print(const sched_cluster *c, const sched_explain *ex, kx_buf *b)
{
	int wname = 4;
	char cell[64];

	if (!ex->found) {
		kx_buf_addf(b, "pod %s: not pending for this scheduler\n", ex->pod);
		return;
	}
	if (ex->chosen >= 0)
		kx_buf_addf(b, "pod %s: node %s (score %lld)\n", ex->pod, c->nodes[ex->chosen].name,
			    (long long)ex->rows[ex->chosen].total);
	else
		kx_buf_addf(b, "pod %s: unschedulable: %s\n", ex->pod, ex->reason ? ex->reason : "");
	if (!ex->rows)
		return;
	kx_buf_adds(b, "weights:");
	for (int s = 0; s < S_COUNT; s++)
		kx_buf_addf(b, " %s=%d", sched_score_names[s], c->cfg.weight[s]);
	kx_buf_adds(b, "\n");
	for (int i = 0; i < c->nnodes; i++)
		if ((int)strlen(c->nodes[i].name) > wname)
			wname = (int)strlen(c->nodes[i].name);
	kx_buf_addf(b, "%-*s", wname, "NODE");
	for (int f = 0; f < F_COUNT; f++)
		kx_buf_addf(b, "  %-4s", filter_cols[f]);
	for (int s = 0; s < S_COUNT; s++)
		kx_buf_addf(b, "  %s", score_cols[s]);
	kx_buf_adds(b, "  TOTAL  REASON\n");
	for (int i = 0; i < c->nnodes; i++) {
		const sched_explain_row *r = &ex->rows[i];
		kx_buf_addf(b, "%-*s", wname, c->nodes[i].name);
		for (int f = 0; f < F_COUNT; f++) {
			const char *v = !r->examined ? "-"
					: r->failed < 0 || f < r->failed ? "ok"
					: f == r->failed ? "FAIL"
							 : "-";
			int wd = (int)strlen(filter_cols[f]);
			kx_buf_addf(b, "  %-*s", wd < 4 ? 4 : wd, v);
		}
		for (int s = 0; s < S_COUNT; s++) {
			if (r->scored && c->cfg.weight[s])
				snprintf(cell, sizeof cell, "%lld", (long long)r->points[s]);
			else
				snprintf(cell, sizeof cell, "-");
			kx_buf_addf(b, "  %*s", (int)strlen(score_cols[s]), cell);
		}
		if (r->scored)
			snprintf(cell, sizeof cell, "%lld", (long long)r->total);
		else
			snprintf(cell, sizeof cell, "-");
		kx_buf_addf(b, "  %5s  %s%s\n", cell,
			    !r->examined ? "not examined (percentageOfNodesToScore)" : r->reason,
			    i == ex->chosen ? "chosen" : "");
	}
}
