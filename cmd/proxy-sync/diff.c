/* diff.c: what turns one ruleset into another, as a list of operations in
 * the order one netlink batch must carry them: chains are created before
 * anything jumps to them, map elements and rules that point to a chain go
 * before the chain does. A regular chain is named after its content, so a
 * changed one is a new chain (and the old one goes); a base chain, whose
 * name is fixed, is replaced whole.
 *
 * Fragments (one per service port) whose keys and hashes are equal are
 * skipped whole; only the changed ones are compared by name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

/* ------------------------------------------------------------------ a small hash map */

typedef struct hent {
	const char *key;
	const void *val;
} hent;

typedef struct hmap {
	hent *v;
	size_t cap, n;
} hmap;

static uint64_t hstr(const char *s)
{
	return px_hash(PX_HASH_INIT, s, strlen(s));
}

static void hput(hmap *m, const char *key, const void *val);

static void hgrow(hmap *m)
{
	hmap n = {calloc(m->cap ? 2 * m->cap : 64, sizeof(hent)), m->cap ? 2 * m->cap : 64, 0};

	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].key)
			hput(&n, m->v[i].key, m->v[i].val);
	free(m->v);
	*m = n;
}

/* First one wins: a later duplicate is ignored. */
static void hput(hmap *m, const char *key, const void *val)
{
	if ((m->n + 1) * 2 > m->cap)
		hgrow(m);
	size_t i = hstr(key) & (m->cap - 1);
	while (m->v[i].key) {
		if (!strcmp(m->v[i].key, key))
			return;
		i = (i + 1) & (m->cap - 1);
	}
	m->v[i].key = key;
	m->v[i].val = val;
	m->n++;
}

static const void *hget(const hmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t i = hstr(key) & (m->cap - 1);
	while (m->v[i].key) {
		if (!strcmp(m->v[i].key, key))
			return m->v[i].val;
		i = (i + 1) & (m->cap - 1);
	}
	return NULL;
}

/* ------------------------------------------------------------------ ops */

static void op_add(px_ops *o, int kind, const px_chain *c, const px_set *s, const px_elem *el)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->ops = realloc(o->ops, o->cap * sizeof *o->ops);
	}
	o->ops[o->n++] = (px_op){kind, c, s, el, el ? px_set_kind_by_name(el->set) : 0};
}

void px_ops_free(px_ops *o)
{
	free(o->ops);
	memset(o, 0, sizeof *o);
}

/* Element keys, kept alive until the diff is done. */
typedef struct keys {
	char **v;
	size_t n, cap;
} keys;

static const char *elem_key(keys *k, const px_elem *el)
{
	kx_buf b = KX_BUF_INIT;

	kx_buf_addf(&b, "%s|", el->set);
	px_render_key(&b, el, px_set_kind_by_name(el->set));
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->v = realloc(k->v, k->cap * sizeof *k->v);
	}
	return k->v[k->n++] = kx_buf_steal(&b);
}

typedef struct side {
	hmap chains, sets, elems;
	const px_frag **frags;
	size_t n;
} side;

static void side_add(side *s, keys *k, const px_frag *f)
{
	s->frags = realloc(s->frags, (s->n + 1) * sizeof *s->frags);
	s->frags[s->n++] = f;
	for (size_t i = 0; i < f->nchains; i++)
		hput(&s->chains, f->chains[i].name, &f->chains[i]);
	for (size_t i = 0; i < f->nsets; i++)
		hput(&s->sets, f->sets[i].name, &f->sets[i]);
	for (size_t i = 0; i < f->nelems; i++)
		hput(&s->elems, elem_key(k, &f->elems[i]), &f->elems[i]);
}

static void side_free(side *s)
{
	free(s->chains.v);
	free(s->sets.v);
	free(s->elems.v);
	free(s->frags);
}

static int verdict_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The hairpin set's elements are shared: two service ports (or two
 * services) with the same endpoint both hold "A . A". One that goes away
 * from a changed fragment stays while any fragment of the new ruleset,
 * changed or not, still holds it. A few are looked for by walking the
 * ruleset; past that, all of its pairs go into a map once. */
typedef struct pairs {
	hmap all;
	int built, looked;
} pairs;

static int still_shared(pairs *p, const px_ruleset *r, const px_elem *el)
{
	if (px_set_kind_by_name(el->set) != SK_PAIRS || !el->addr)
		return 0;
	if (!p->built && ++p->looked > 8) {
		for (size_t i = 0; i < r->n; i++)
			for (size_t j = 0; j < r->frags[i]->nelems; j++) {
				const px_elem *e = &r->frags[i]->elems[j];
				if (e->addr && !strcmp(e->set, el->set))
					hput(&p->all, e->addr, e);
			}
		p->built = 1;
	}
	if (p->built)
		return hget(&p->all, el->addr) != NULL;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->frags[i]->nelems; j++) {
			const px_elem *e = &r->frags[i]->elems[j];
			if (e->addr && !strcmp(e->addr, el->addr) && !strcmp(e->set, el->set))
				return 1;
		}
	return 0;
}

/* An endpoints shard goes only when no fragment of the new ruleset still
 * declares it (shards are few: walking the fragments is cheap enough). */
static int set_still_shared(const px_ruleset *r, const px_set *s)
{
	if (s->kind != SK_ENDPOINTS)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->frags[i]->nsets; j++)
			if (!strcmp(r->frags[i]->sets[j].name, s->name))
				return 1;
	return 0;
}

/* Within the ops of one kind (already together), put the elements of one
 * set next to each other, sets in the order they first come: nl.c sends a
 * run of elements of one set as one message, and a message per fragment
 * and set would be tens of thousands. */
static void group_elems(px_ops *ops, int kind)
{
	size_t lo = 0, hi, ngroups = 0;
	hmap groups = {0};

	while (lo < ops->n && ops->ops[lo].kind != kind)
		lo++;
	for (hi = lo; hi < ops->n && ops->ops[hi].kind == kind; hi++)
		;
	if (hi - lo < 2)
		return;
	size_t *g = malloc((hi - lo) * sizeof *g), *count;
	for (size_t i = lo; i < hi; i++) {
		const char *set = ops->ops[i].elem->set;
		uintptr_t id = (uintptr_t)hget(&groups, set);
		if (!id) {
			id = ++ngroups;
			hput(&groups, set, (const void *)id);
		}
		g[i - lo] = id - 1;
	}
	count = calloc(ngroups + 1, sizeof *count);
	for (size_t i = 0; i < hi - lo; i++)
		count[g[i] + 1]++;
	for (size_t i = 1; i <= ngroups; i++)
		count[i] += count[i - 1];
	px_op *sorted = malloc((hi - lo) * sizeof *sorted);
	for (size_t i = 0; i < hi - lo; i++)
		sorted[count[g[i]]++] = ops->ops[lo + i];
	memcpy(ops->ops + lo, sorted, (hi - lo) * sizeof *sorted);
	free(sorted);
	free(count);
	free(g);
	free(groups.v);
}

int px_diff(px_ops *ops, const px_ruleset *old, const px_ruleset *new)
{
	side o = {0}, n = {0};
	keys k = {0};
	pairs shared = {0};
	hmap added = {0}, deleted = {0};
	size_t i = 0, j = 0;

	memset(ops, 0, sizeof *ops);
	ops->family = new->family;
	if (!old)
		op_add(ops, OP_ADD_TABLE, NULL, NULL, NULL);
	/* merge the two sorted fragment lists; keep what differs */
	while (old && i < old->n && j < new->n) {
		int c = strcmp(old->frags[i]->key, new->frags[j]->key);
		if (c < 0)
			side_add(&o, &k, old->frags[i++]);
		else if (c > 0)
			side_add(&n, &k, new->frags[j++]);
		else {
			if (old->frags[i]->hash != new->frags[j]->hash) {
				side_add(&o, &k, old->frags[i]);
				side_add(&n, &k, new->frags[j]);
			}
			i++, j++;
		}
	}
	while (old && i < old->n)
		side_add(&o, &k, old->frags[i++]);
	while (j < new->n)
		side_add(&n, &k, new->frags[j++]);

	for (size_t f = 0; f < n.n; f++) {
		const px_frag *fr = n.frags[f];
		for (size_t x = 0; x < fr->nsets; x++) {
			const px_set *s = &fr->sets[x];
			const px_set *was = hget(&o.sets, s->name);
			if (!was && hget(&added, s->name))
				continue; /* a shared set two changed fragments bring */
			hput(&added, s->name, s);
			if (was && (was->kind != s->kind || was->timeout != s->timeout))
				op_add(ops, OP_DEL_SET_EARLY, NULL, was, NULL);
			if (!was || was->kind != s->kind || was->timeout != s->timeout)
				op_add(ops, OP_ADD_SET, NULL, s, NULL);
		}
		for (size_t x = 0; x < fr->nchains; x++) {
			const px_chain *c = &fr->chains[x];
			const px_chain *was = hget(&o.chains, c->name);
			/* same name, other rules: refilled in place (a regular
			 * chain, whose hash the kernel keeps in "versions") or
			 * made again (a base chain, whose comment holds it) */
			int changed = was && was->hash != c->hash;
			if (!was)
				op_add(ops, OP_ADD_CHAIN, c, NULL, NULL);
			else if (changed)
				op_add(ops, OP_REPLACE_CHAIN, c, NULL, NULL);
			if (!was || changed)
				op_add(ops, OP_ADD_RULES, c, NULL, NULL);
		}
		for (size_t x = 0; x < fr->nelems; x++) {
			const px_elem *el = &fr->elems[x];
			const px_elem *was = hget(&o.elems, elem_key(&k, el));
			if (was && verdict_eq(was->verdict, el->verdict))
				continue;
			if (was)
				op_add(ops, OP_DEL_ELEM, NULL, NULL, was);
			op_add(ops, OP_ADD_ELEM, NULL, NULL, el);
		}
	}
	for (size_t f = 0; f < o.n; f++) {
		const px_frag *fr = o.frags[f];
		for (size_t x = 0; x < fr->nsets; x++)
			if (!hget(&n.sets, fr->sets[x].name) && !hget(&deleted, fr->sets[x].name) &&
			    !set_still_shared(new, &fr->sets[x])) {
				hput(&deleted, fr->sets[x].name, &fr->sets[x]);
				op_add(ops, OP_DEL_SET, NULL, &fr->sets[x], NULL);
			}
		for (size_t x = 0; x < fr->nchains; x++)
			if (!hget(&n.chains, fr->chains[x].name)) {
				op_add(ops, OP_FLUSH_CHAIN, &fr->chains[x], NULL, NULL);
				op_add(ops, OP_DEL_CHAIN, &fr->chains[x], NULL, NULL);
			}
		for (size_t x = 0; x < fr->nelems; x++)
			if (!hget(&n.elems, elem_key(&k, &fr->elems[x])) &&
			    !still_shared(&shared, new, &fr->elems[x]))
				op_add(ops, OP_DEL_ELEM, NULL, NULL, &fr->elems[x]);
	}

	/* stable sort into batch order */
	if (ops->n > 1) {
		size_t count[OP__N + 1] = {0};
		px_op *sorted = malloc(ops->n * sizeof *sorted);
		for (size_t x = 0; x < ops->n; x++)
			count[ops->ops[x].kind + 1]++;
		for (int x = 1; x <= OP__N; x++)
			count[x] += count[x - 1];
		for (size_t x = 0; x < ops->n; x++)
			sorted[count[ops->ops[x].kind]++] = ops->ops[x];
		free(ops->ops);
		ops->ops = sorted;
		ops->cap = ops->n;
		group_elems(ops, OP_DEL_ELEM);
		group_elems(ops, OP_ADD_ELEM);
	}
	side_free(&o);
	side_free(&n);
	free(shared.all.v);
	free(added.v);
	free(deleted.v);
	for (size_t x = 0; x < k.n; x++)
		free(k.v[x]);
	free(k.v);
	return 0;
}

int px_ops_render(kx_buf *b, const px_ops *ops)
{
	static const char *const names[] = {"delete table", "add table",     "add chain",   "delete element",
					    "flush chain",   "replace chain", "delete set",
					    "add set",       "add rules",   "add element",
					    "delete chain",  "delete set"};

	for (size_t i = 0; i < ops->n; i++) {
		const px_op *op = &ops->ops[i];
		kx_buf_addf(b, "%s", names[op->kind]);
		if (op->chain)
			kx_buf_addf(b, " %s", op->chain->name);
		if (op->kind == OP_ADD_RULES)
			kx_buf_addf(b, " (%zu)", op->chain->nrules);
		if (op->set)
			kx_buf_addf(b, " %s", op->set->name);
		if (op->elem) {
			kx_buf_addf(b, " %s ", op->elem->set);
			px_render_key(b, op->elem, op->set_kind);
			if (op->kind == OP_ADD_ELEM && op->set_kind == SK_ENDPOINTS)
				kx_buf_addf(b, " : %s", op->elem->verdict);
			else if (op->kind == OP_ADD_ELEM && (op->set_kind == SK_SVC_MAP ||
							      op->set_kind == SK_PORT_MAP))
				kx_buf_addf(b, " : %s%s", op->elem->verdict ? "goto " : "drop",
					    op->elem->verdict ? op->elem->verdict : "");
		}
		kx_buf_addc(b, '\n');
	}
	return 0;
}
