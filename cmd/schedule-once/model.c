/* model.c: from observed objects to the scheduler's compact model, and the
 * scheduler's configuration. Pure: no I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "json.h"
#include "quantity.h"
#include "sched.h"
#include "selector.h"

const char *const sched_score_names[S_COUNT] = {
	"LeastRequestedPriority", "BalancedResourceAllocation", "NodeLabelPriority",
	"NodeAffinityPriority",   "TaintTolerationPriority",    "SelectorSpreadPriority",
	"ImageLocalityPriority",
};

const char *const sched_filter_names[F_COUNT] = {
	"NodeUnschedulable", "NodeName",         "TaintToleration", "NodeAffinity",
	"NodePorts",         "NodeResourcesFit", "InterPodAffinity",
};

/* ==== configuration ====================================================== */

void sched_config_default(sched_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->weight[S_LEAST] = 1;
	cfg->weight[S_BALANCED] = 1;
	cfg->weight[S_LABEL] = 1;
	cfg->weight[S_AFFINITY] = 2;
	cfg->weight[S_TAINT] = 3;
	cfg->weight[S_SPREAD] = 2;
	cfg->weight[S_IMAGE] = 1;
	cfg->scheduler = "default-scheduler";
}

int sched_score_lookup(const char *name)
{
	static const struct {
		const char *name;
		int score;
	} alias[] = {
		{"LeastRequestedPriority", S_LEAST},
		{"LeastRequested", S_LEAST},
		{"NodeResourcesFit", S_LEAST},
		{"NodeResourcesLeastAllocated", S_LEAST},
		{"least", S_LEAST},
		{"BalancedResourceAllocation", S_BALANCED},
		{"BalanceResourceAllocation", S_BALANCED},
		{"NodeResourcesBalancedAllocation", S_BALANCED},
		{"balanced", S_BALANCED},
		{"NodeLabelPriority", S_LABEL},
		{"NodeLabel", S_LABEL},
		{"label", S_LABEL},
		{"NodeAffinityPriority", S_AFFINITY},
		{"NodeAffinity", S_AFFINITY},
		{"affinity", S_AFFINITY},
		{"TaintTolerationPriority", S_TAINT},
		{"TaintToleration", S_TAINT},
		{"taint", S_TAINT},
		{"SelectorSpreadPriority", S_SPREAD},
		{"SelectorSpread", S_SPREAD},
		{"PodTopologySpread", S_SPREAD},
		{"spread", S_SPREAD},
		{"ImageLocalityPriority", S_IMAGE},
		{"ImageLocality", S_IMAGE},
		{"image", S_IMAGE},
	};
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (!strcasecmp(alias[i].name, name))
			return alias[i].score;
	return -1;
}

static int parse_weight(const char *s, int *out)
{
	char *end;
	long w = strtol(s, &end, 10);

	if (!*s || *end || w < 0 || w > 1000000)
		return -1;
	*out = (int)w;
	return 0;
}

int sched_config_weight(sched_config *cfg, const char *arg, kx_err *e)
{
	const char *eq = strchr(arg, '=');
	char name[128];
	int s, w;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
		return kx_err_set(e, KX_EUSAGE, "bad weight \"%s\": expected NAME=WEIGHT", arg);
	memcpy(name, arg, eq - arg);
	name[eq - arg] = 0;
	if ((s = sched_score_lookup(name)) < 0)
		return kx_err_set(e, KX_EUSAGE, "unknown score \"%s\"", name);
	if (parse_weight(eq + 1, &w) < 0)
		return kx_err_set(e, KX_EUSAGE, "bad weight \"%s\": not a number from 0 to 1000000",
				  arg);
	cfg->weight[s] = w;
	return 0;
}

/* Weights from [{"name":..., "weight":...}]; when replace is set, every
 * score not listed gets weight 0 (a Policy lists all it wants). */
static int policy_list(sched_config *cfg, jv list, int replace, kx_err *e)
{
	int w[S_COUNT];
	int rc = 0;

	memcpy(w, cfg->weight, sizeof w);
	if (replace)
		memset(w, 0, sizeof w);
	jv_array_foreach(list, i, item)
	{
		char name[128];
		int s;
		if (jv_get_kind(item) != JV_KIND_OBJECT ||
		    !kx_jv_str(item, "name", name, sizeof name, NULL)) {
			jv_free(item);
			rc = kx_err_set(e, KX_EUSAGE, "policy: entry %d has no name", i);
			break;
		}
		s = sched_score_lookup(name);
		if (s < 0) {
			/* plugins kx does not have (VolumeBinding, InterPodAffinity...) are
			 * accepted and ignored; unknown names are not */
			static const char *const known[] = {
				"VolumeBinding", "InterPodAffinity", "InterPodAffinityPriority",
				"NodePreferAvoidPodsPriority", "NodePreferAvoidPods", "EqualPriority",
				"MostRequestedPriority", "*", NULL};
			int k;
			for (k = 0; known[k] && strcmp(known[k], name); k++)
				;
			jv_free(item);
			if (!known[k]) {
				rc = kx_err_set(e, KX_EUSAGE, "policy: unknown score \"%s\"", name);
				break;
			}
			continue;
		}
		jv wv = jv_object_get(jv_copy(item), jv_string("weight"));
		if (jv_get_kind(wv) == JV_KIND_NUMBER) {
			double d = jv_number_value(wv);
			if (d < 0 || d > 1000000 || d != (int)d) {
				jv_free(wv);
				jv_free(item);
				rc = kx_err_set(e, KX_EUSAGE, "policy: bad weight for \"%s\"", name);
				break;
			}
			w[s] = (int)d;
		} else if (jv_is_valid(wv) && jv_get_kind(wv) != JV_KIND_NULL) {
			jv_free(wv);
			jv_free(item);
			rc = kx_err_set(e, KX_EUSAGE, "policy: weight of \"%s\" is not a number", name);
			break;
		} else {
			w[s] = 1;
		}
		jv_free(wv);
		jv_free(item);
	}
	jv_free(list);
	if (rc == 0)
		memcpy(cfg->weight, w, sizeof w);
	return rc;
}

int sched_config_policy(sched_config *cfg, jv policy, kx_err *e)
{
	jv v;
	int rc = 0;

	if (jv_get_kind(policy) != JV_KIND_OBJECT) {
		jv_free(policy);
		return kx_err_set(e, KX_EUSAGE, "policy: not an object");
	}
	v = kx_jv_get(jv_copy(policy), "priorities");
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		rc = policy_list(cfg, v, 1, e);
	} else {
		jv_free(v);
		jv profile = kx_jv_get(jv_copy(policy), "profiles.0");
		jv disabled = kx_jv_get(jv_copy(profile), "plugins.score.disabled");
		if (jv_get_kind(disabled) == JV_KIND_ARRAY) {
			jv_array_foreach(disabled, i, d)
			{
				char name[128];
				if (kx_jv_str(d, "name", name, sizeof name, NULL)) {
					if (!strcmp(name, "*"))
						memset(cfg->weight, 0, sizeof cfg->weight);
					else if (sched_score_lookup(name) >= 0)
						cfg->weight[sched_score_lookup(name)] = 0;
				}
				jv_free(d);
			}
		}
		jv_free(disabled);
		jv enabled = kx_jv_get(profile, "plugins.score.enabled");
		if (jv_get_kind(enabled) == JV_KIND_ARRAY)
			rc = policy_list(cfg, enabled, 0, e);
		else
			jv_free(enabled);
	}
	v = kx_jv_get(jv_copy(policy), "percentageOfNodesToScore");
	if (rc == 0 && jv_get_kind(v) == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		if (d < 0 || d > 100 || d != (int)d)
			rc = kx_err_set(e, KX_EUSAGE, "policy: percentageOfNodesToScore must be 0 to 100");
		else
			cfg->percentage = (int)d;
	}
	jv_free(v);
	jv_free(policy);
	return rc;
}

int sched_prefer_parse(sched_prefer *p, const char *arg, kx_err *e)
{
	const char *s = arg, *eq;

	memset(p, 0, sizeof *p);
	if (*s == '!') {
		p->negate = 1;
		s++;
	}
	eq = strchr(s, '=');
	if (eq && eq > s && eq[-1] == '!') {
		if (p->negate)
			return kx_err_set(e, KX_EUSAGE, "bad label preference \"%s\"", arg);
		p->negate = 1;
		p->key = strndup(s, eq - 1 - s);
		p->value = strdup(eq + 1);
	} else if (eq) {
		p->key = strndup(s, eq - s);
		p->value = strdup(eq + 1);
	} else {
		p->key = strdup(s);
	}
	if (!p->key[0] || strpbrk(p->key, " ,=!") || (p->value && strpbrk(p->value, " ,=!"))) {
		sched_prefer_free(p);
		return kx_err_set(e, KX_EUSAGE,
				  "bad label preference \"%s\": expected KEY, !KEY, KEY=VALUE or "
				  "KEY!=VALUE",
				  arg);
	}
	return 0;
}

void sched_prefer_free(sched_prefer *p)
{
	free(p->key);
	free(p->value);
	memset(p, 0, sizeof *p);
}

/* ==== interned strings =================================================== */

struct sched_strtab {
	char **s;
	int n, cap;
	int *slot; /* open addressing: id + 1, 0 empty */
	size_t nslot;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void strtab_grow(sched_strtab *t)
{
	size_t n = t->nslot ? t->nslot * 2 : 1024;
	int *slot = calloc(n, sizeof *slot);

	for (int i = 0; i < t->n; i++) {
		size_t h = hash_str(t->s[i]) & (n - 1);
		while (slot[h])
			h = (h + 1) & (n - 1);
		slot[h] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = n;
}

int sched_lookup(const sched_strtab *t, const char *s)
{
	if (!t->nslot)
		return -1;
	size_t h = hash_str(s) & (t->nslot - 1);
	while (t->slot[h]) {
		int id = t->slot[h] - 1;
		if (!strcmp(t->s[id], s))
			return id;
		h = (h + 1) & (t->nslot - 1);
	}
	return -1;
}

int sched_intern(sched_strtab *t, const char *s)
{
	int id = sched_lookup(t, s);

	if (id >= 0)
		return id;
	if ((size_t)(t->n + 1) * 2 > t->nslot)
		strtab_grow(t);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->s = realloc(t->s, t->cap * sizeof *t->s);
	}
	t->s[t->n] = strdup(s);
	size_t h = hash_str(s) & (t->nslot - 1);
	while (t->slot[h])
		h = (h + 1) & (t->nslot - 1);
	t->slot[h] = t->n + 1;
	return t->n++;
}

const char *sched_str(const sched_strtab *t, int id)
{
	return id >= 0 && id < t->n ? t->s[id] : "";
}

int sched_strtab_count(const sched_strtab *t)
{
	return t->n;
}

static void strtab_free(sched_strtab *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
	free(t);
}

/* ==== building the model ================================================= */

static void warn(sched_cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(sched_cluster *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->warnings = jv_array_append(c->warnings, jv_string(msg));
}

/* The string at path of v (borrowed), interned; -1 when absent. */
static int intern_at(sched_cluster *c, jv v, const char *path)
{
	char buf[1024];
	const char *s = kx_jv_str(v, path, buf, sizeof buf, NULL);

	return s ? sched_intern(c->strs, s) : -1;
}

static int resource_index(sched_cluster *c, const char *name)
{
	static const char *const fixed[] = {"cpu", "memory", "ephemeral-storage", "pods"};

	for (int i = 0; i < R_FIRST_EXT; i++)
		if (!strcmp(fixed[i], name))
			return i;
	for (int i = R_FIRST_EXT; i < c->nres; i++)
		if (!strcmp(c->resname[i], name))
			return i;
	if (c->nres == SCHED_MAXRES)
		return -1;
	c->resname[c->nres] = strdup(name);
	return c->nres++;
}

/* A resource list ({"cpu":"500m",...}, borrowed) into out[]. present[] marks
 * which were given. -1 with e filled on a malformed quantity. */
static int resource_list(sched_cluster *c, jv list, int64_t *out, int *present, kx_err *e)
{
	if (jv_get_kind(list) != JV_KIND_OBJECT)
		return 0;
	jv_object_foreach(list, k, v)
	{
		int64_t m;
		int r = resource_index(c, jv_string_value(k));
		if (r < 0) {
			kx_err_set(e, KX_EFAIL, "too many kinds of resources (at \"%s\")",
				   jv_string_value(k));
			jv_free(k);
			jv_free(v);
			return -1;
		}
		if (kx_quantity_parse_jv(v, &m, e) < 0) {
			kx_err_wrap(e, "%s", jv_string_value(k));
			jv_free(k);
			jv_free(v);
			return -1;
		}
		out[r] = m;
		if (present)
			present[r] = 1;
		jv_free(k);
		jv_free(v);
	}
	return 0;
}

#define DEFAULT_CPU 100                           /* milli-cores */
#define DEFAULT_MEM (200LL * 1024 * 1024 * 1000) /* 200Mi in thousandths */

/* One container's requests: spec'd requests, limits standing in for absent
 * requests (API defaulting), and the non-zero cpu/memory used to score. The
 * vector has SCHED_MAXRES entries then nz cpu, nz mem. */
#define VLEN (SCHED_MAXRES + 2)
static int container_requests(sched_cluster *c, jv ctr, int64_t *vec, kx_err *e)
{
	int64_t lim[SCHED_MAXRES] = {0};
	int pres[SCHED_MAXRES] = {0}, lpres[SCHED_MAXRES] = {0};
	jv res = jv_object_get(jv_copy(ctr), jv_string("resources"));
	int rc = 0;

	memset(vec, 0, VLEN * sizeof *vec);
	if (jv_get_kind(res) == JV_KIND_OBJECT) {
		jv rq = jv_object_get(jv_copy(res), jv_string("requests"));
		jv lm = jv_object_get(jv_copy(res), jv_string("limits"));
		if (jv_is_valid(rq))
			rc = resource_list(c, rq, vec, pres, e);
		if (rc == 0 && jv_is_valid(lm))
			rc = resource_list(c, lm, lim, lpres, e);
		jv_free(rq);
		jv_free(lm);
	}
	jv_free(res);
	if (rc < 0)
		return -1;
	for (int r = 0; r < SCHED_MAXRES; r++)
		if (!pres[r] && lpres[r]) {
			vec[r] = lim[r];
			pres[r] = 1;
		}
	vec[SCHED_MAXRES] = pres[R_CPU] ? vec[R_CPU] : DEFAULT_CPU;
	vec[SCHED_MAXRES + 1] = pres[R_MEM] ? vec[R_MEM] : DEFAULT_MEM;
	return 0;
}

/* Kubernetes' rule for a pod's requests: the sum of its containers, or the
 * largest init container if larger (sidecars, restartPolicy Always, run
 * beside what follows them), plus the pod's overhead. */
static int pod_requests(sched_cluster *c, sched_pod *p, jv spec, kx_err *e)
{
	int64_t sum[VLEN] = {0}, init[VLEN] = {0}, side[VLEN] = {0}, v[VLEN];
	jv ctrs = jv_object_get(jv_copy(spec), jv_string("containers"));
	jv inits = jv_object_get(jv_copy(spec), jv_string("initContainers"));
	jv over = jv_object_get(jv_copy(spec), jv_string("overhead"));
	int rc = 0;

	if (jv_get_kind(ctrs) == JV_KIND_ARRAY) {
		jv_array_foreach(ctrs, i, ctr)
		{
			if (rc == 0 && container_requests(c, ctr, v, e) < 0) {
				char nm[128];
				kx_err_wrap(e, "container \"%s\"",
					    kx_jv_str(ctr, "name", nm, sizeof nm, "?"));
				rc = -1;
			}
			for (int r = 0; rc == 0 && r < VLEN; r++)
				sum[r] += v[r];
			jv_free(ctr);
		}
	}
	if (jv_get_kind(inits) == JV_KIND_ARRAY) {
		jv_array_foreach(inits, i, ctr)
		{
			char pol[32];
			if (rc == 0 && container_requests(c, ctr, v, e) < 0) {
				char nm[128];
				kx_err_wrap(e, "init container \"%s\"",
					    kx_jv_str(ctr, "name", nm, sizeof nm, "?"));
				rc = -1;
			}
			int sidecar = !strcmp(sched_jstr(ctr, "restartPolicy", pol, sizeof pol),
					      "Always");
			for (int r = 0; rc == 0 && r < VLEN; r++) {
				if (sidecar) {
					sum[r] += v[r];
					side[r] += v[r];
					v[r] = side[r];
				} else {
					v[r] += side[r];
				}
				if (v[r] > init[r])
					init[r] = v[r];
			}
			jv_free(ctr);
		}
	}
	int64_t ov[SCHED_MAXRES] = {0};
	if (rc == 0 && jv_is_valid(over) && resource_list(c, over, ov, NULL, e) < 0) {
		kx_err_wrap(e, "overhead");
		rc = -1;
	}
	if (rc == 0) {
		for (int r = 0; r < VLEN; r++) {
			int64_t x = sum[r] > init[r] ? sum[r] : init[r];
			if (r < SCHED_MAXRES) {
				p->req[r] = x + ov[r];
			} else if (r == SCHED_MAXRES) {
				p->nz_cpu = x + ov[R_CPU];
			} else {
				p->nz_mem = x + ov[R_MEM];
			}
		}
		p->req[R_PODS] = 1000;
		for (int r = 0; r < SCHED_MAXRES; r++)
			if (r != R_PODS && p->req[r] > 0)
				p->reqlist[p->nreqlist++] = (unsigned char)r;
	}
	jv_free(ctrs);
	jv_free(inits);
	jv_free(over);
	return rc;
}

static int kv_cmp(const void *a, const void *b)
{
	const sched_kv *x = a, *y = b;
	return x->key - y->key;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* A string map (labels, nodeSelector; borrowed) as sorted interned pairs. */
static sched_kv *kv_map(sched_cluster *c, jv map, int *n)
{
	sched_kv *out;
	int k = 0;

	*n = 0;
	if (jv_get_kind(map) != JV_KIND_OBJECT)
		return NULL;
	out = calloc(jv_object_length(jv_copy(map)) + 1, sizeof *out);
	jv_object_foreach(map, key, val)
	{
		if (jv_get_kind(val) == JV_KIND_STRING) {
			out[k].key = sched_intern(c->strs, jv_string_value(key));
			out[k].val = sched_intern(c->strs, jv_string_value(val));
			k++;
		}
		jv_free(key);
		jv_free(val);
	}
	qsort(out, k, sizeof *out, kv_cmp);
	*n = k;
	return out;
}

static int effect_of(const char *s)
{
	if (!s || !*s)
		return E_ALL;
	if (!strcmp(s, "NoSchedule"))
		return E_NOSCHEDULE;
	if (!strcmp(s, "PreferNoSchedule"))
		return E_PREFER;
	if (!strcmp(s, "NoExecute"))
		return E_NOEXECUTE;
	return E_OTHER;
}

/* One NodeSelectorTerm (borrowed) into t. -1 with e filled when malformed. */
static int parse_term(sched_cluster *c, jv term, sched_term *t, kx_err *e)
{
	static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
	const char *lists[] = {"matchExpressions", "matchFields"};

	memset(t, 0, sizeof *t);
	for (int f = 0; f < 2; f++) {
		jv exprs = jv_object_get(jv_copy(term), jv_string(lists[f]));
		if (jv_get_kind(exprs) != JV_KIND_ARRAY) {
			jv_free(exprs);
			continue;
		}
		int n = jv_array_length(jv_copy(exprs));
		t->reqs = realloc(t->reqs, (t->nreqs + n + 1) * sizeof *t->reqs);
		jv_array_foreach(exprs, i, x)
		{
			char key[320], op[32];
			sched_req *r = &t->reqs[t->nreqs];
			memset(r, 0, sizeof *r);
			sched_jstr(x, "key", key, sizeof key);
			sched_jstr(x, "operator", op, sizeof op);
			r->op = -1;
			for (int k = 0; k < 6; k++)
				if (!strcmp(ops[k], op))
					r->op = k;
			r->field = f;
			r->key = sched_intern(c->strs, key);
			jv vals = jv_object_get(jv_copy(x), jv_string("values"));
			if (r->op < 0 || !key[0] || (f && strcmp(key, "metadata.name"))) {
				jv_free(vals);
				jv_free(x);
				jv_free(exprs);
				return kx_err_set(e, KX_EFAIL, "node affinity: bad requirement \"%s %s\"",
						  key, op);
			}
			if (jv_get_kind(vals) == JV_KIND_ARRAY) {
				r->vals = calloc(jv_array_length(jv_copy(vals)) + 1, sizeof *r->vals);
				jv_array_foreach(vals, j, s)
				{
					if (jv_get_kind(s) == JV_KIND_STRING)
						r->vals[r->nvals++] = sched_intern(c->strs, jv_string_value(s));
					jv_free(s);
				}
			}
			jv_free(vals);
			t->nreqs++;
			if (r->op == OP_GT || r->op == OP_LT) {
				char *end;
				const char *s = r->nvals == 1 ? sched_str(c->strs, r->vals[0]) : "";
				r->num = strtoll(s, &end, 10);
				if (!*s || *end) {
					jv_free(x);
					jv_free(exprs);
					return kx_err_set(e, KX_EFAIL,
							  "node affinity: %s on \"%s\" needs one integer value",
							  op, key);
				}
			}
			jv_free(x);
		}
		jv_free(exprs);
	}
	return 0;
}

static void free_term(sched_term *t)
{
	for (int i = 0; i < t->nreqs; i++)
		free(t->reqs[i].vals);
	free(t->reqs);
}

static int parse_affinity(sched_cluster *c, sched_pod *p, jv spec, kx_err *e)
{
	jv na = kx_jv_get(jv_copy(spec), "affinity.nodeAffinity");
	jv req = kx_jv_get(jv_copy(na), "requiredDuringSchedulingIgnoredDuringExecution");
	jv pref = kx_jv_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
	int rc = 0;

	p->nrequired = -1;
	if (jv_get_kind(req) == JV_KIND_OBJECT) {
		jv terms = jv_object_get(jv_copy(req), jv_string("nodeSelectorTerms"));
		p->nrequired = 0;
		if (jv_get_kind(terms) == JV_KIND_ARRAY) {
			p->required = calloc(jv_array_length(jv_copy(terms)) + 1, sizeof *p->required);
			jv_array_foreach(terms, i, t)
			{
				if (rc == 0)
					rc = parse_term(c, t, &p->required[p->nrequired++], e);
				jv_free(t);
			}
		}
		jv_free(terms);
	}
	if (rc == 0 && jv_get_kind(pref) == JV_KIND_ARRAY) {
		p->preferred = calloc(jv_array_length(jv_copy(pref)) + 1, sizeof *p->preferred);
		jv_array_foreach(pref, i, t)
		{
			if (rc == 0) {
				jv pt = jv_object_get(jv_copy(t), jv_string("preference"));
				sched_term *st = &p->preferred[p->npreferred++];
				rc = parse_term(c, jv_is_valid(pt) ? pt : jv_null(), st, e);
				st->weight = (int)kx_jv_int(t, "weight", 0);
				jv_free(pt);
			}
			jv_free(t);
		}
	}
	jv_free(req);
	jv_free(pref);
	return rc;
}

static void parse_tolerations(sched_cluster *c, sched_pod *p, jv spec)
{
	jv tols = jv_object_get(jv_copy(spec), jv_string("tolerations"));

	if (jv_get_kind(tols) == JV_KIND_ARRAY) {
		p->tol = calloc(jv_array_length(jv_copy(tols)) + 1, sizeof *p->tol);
		jv_array_foreach(tols, i, t)
		{
			char buf[320];
			sched_toleration *x = &p->tol[p->ntol++];
			const char *k = sched_jstr(t, "key", buf, sizeof buf);
			x->key = *k ? sched_intern(c->strs, k) : -1;
			x->exists = !strcmp(sched_jstr(t, "operator", buf, sizeof buf), "Exists");
			x->val = sched_intern(c->strs, sched_jstr(t, "value", buf, sizeof buf));
			x->effect = effect_of(sched_jstr(t, "effect", buf, sizeof buf));
			jv_free(t);
		}
	}
	jv_free(tols);
}

/* Host ports of a list of containers (borrowed) appended to p. */
static void parse_ports(sched_cluster *c, sched_pod *p, jv ctrs)
{
	if (jv_get_kind(ctrs) != JV_KIND_ARRAY)
		return;
	jv_array_foreach(ctrs, i, ctr)
	{
		jv ports = jv_object_get(jv_copy(ctr), jv_string("ports"));
		if (jv_get_kind(ports) == JV_KIND_ARRAY) {
			jv_array_foreach(ports, j, port)
			{
				int hp = (int)kx_jv_int(port, "hostPort", 0);
				if (hp > 0) {
					char buf[64];
					const char *ip = sched_jstr(port, "hostIP", buf, sizeof buf);
					p->ports = realloc(p->ports, (p->nports + 1) * sizeof *p->ports);
					p->ports[p->nports].port = hp;
					p->ports[p->nports].proto = sched_intern(
						c->strs, kx_jv_str(port, "protocol", buf, sizeof buf, "TCP"));
					ip = sched_jstr(port, "hostIP", buf, sizeof buf);
					p->ports[p->nports].ip =
						!*ip || !strcmp(ip, "0.0.0.0") ? -1 : sched_intern(c->strs, ip);
					p->nports++;
				}
				jv_free(port);
			}
		}
		jv_free(ports);
		jv_free(ctr);
	}
}

/* A normalized image name, as kube-scheduler compares them: a name without
 * tag or digest means ":latest". */
static int image_id(sched_cluster *c, const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *last = slash ? slash + 1 : name;
	char buf[1024];

	if (strchr(name, '@') || strchr(last, ':'))
		return sched_intern(c->strs, name);
	snprintf(buf, sizeof buf, "%s:latest", name);
	return sched_intern(c->strs, buf);
}

static void parse_images(sched_cluster *c, sched_pod *p, jv spec)
{
	const char *lists[] = {"initContainers", "containers"};

	for (int l = 0; l < 2; l++) {
		jv ctrs = jv_object_get(jv_copy(spec), jv_string(lists[l]));
		if (jv_get_kind(ctrs) == JV_KIND_ARRAY) {
			jv_array_foreach(ctrs, i, ctr)
			{
				char buf[1024];
				const char *img = kx_jv_str(ctr, "image", buf, sizeof buf, NULL);
				p->ncontainers++;
				if (img && *img) {
					p->images = realloc(p->images, (p->nimages + 1) * sizeof *p->images);
					p->images[p->nimages++] = image_id(c, img);
				}
				jv_free(ctr);
			}
		}
		jv_free(ctrs);
	}
}

static int parse_anti(sched_cluster *c, sched_pod *p, jv spec, kx_err *e)
{
	jv terms = kx_jv_get(jv_copy(spec),
			     "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution");
	int rc = 0;

	if (jv_get_kind(terms) == JV_KIND_ARRAY) {
		p->anti = calloc(jv_array_length(jv_copy(terms)) + 1, sizeof *p->anti);
		jv_array_foreach(terms, i, t)
		{
			char tk[320];
			sched_anti *a = &p->anti[p->nanti];
			jv sel = jv_object_get(jv_copy(t), jv_string("labelSelector"));
			jv nss = jv_object_get(jv_copy(t), jv_string("namespaces"));
			memset(a, 0, sizeof *a);
			a->hostname = !strcmp(sched_jstr(t, "topologyKey", tk, sizeof tk),
					      "kubernetes.io/hostname");
			a->topo = sched_intern(c->strs, tk);
			if (rc == 0 && jv_get_kind(sel) == JV_KIND_OBJECT) {
				a->sel = kx_selector_from_jv(jv_copy(sel), e);
				if (!a->sel) {
					kx_err_wrap(e, "pod anti-affinity");
					rc = -1;
				}
			}
			if (jv_get_kind(nss) == JV_KIND_ARRAY && jv_array_length(jv_copy(nss)) > 0) {
				a->ns = calloc(jv_array_length(jv_copy(nss)), sizeof *a->ns);
				jv_array_foreach(nss, j, s)
				{
					if (jv_get_kind(s) == JV_KIND_STRING)
						a->ns[a->nns++] = sched_intern(c->strs, jv_string_value(s));
					jv_free(s);
				}
			} else {
				a->ns = calloc(1, sizeof *a->ns);
				a->ns[a->nns++] = p->nsid;
			}
			jv_free(sel);
			jv_free(nss);
			jv_free(t);
			p->nanti++;
		}
	}
	jv_free(terms);
	return rc;
}

static void add_warning_bad(sched_cluster *c, sched_pod *p, const kx_err *e)
{
	char msg[1100];

	snprintf(msg, sizeof msg, "invalid pod: %s", e->msg);
	p->bad = strdup(msg);
	warn(c, "pod \"%s\": %s", p->key, e->msg);
}

static int phase_done(jv obj)
{
	char phase[32];

	sched_jstr(obj, "status.phase", phase, sizeof phase);
	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

/* Parse one Pod (consumed). Returns 1 when it was added to c->pods. */
static int add_pod(sched_cluster *c, jv obj)
{
	char buf[1024], sname[256];
	jv spec = jv_object_get(jv_copy(obj), jv_string("spec"));
	sched_pod p;
	kx_err e = KX_ERR_INIT;
	int bound, ours;

	memset(&p, 0, sizeof p);
	if (jv_get_kind(spec) != JV_KIND_OBJECT || phase_done(obj)) {
		jv_free(spec);
		jv_free(obj);
		return 0;
	}
	p.ns = strdup(kx_jv_str(obj, "metadata.namespace", buf, sizeof buf, "default"));
	p.name = strdup(sched_jstr(obj, "metadata.name", buf, sizeof buf));
	p.uid = strdup(sched_jstr(obj, "metadata.uid", buf, sizeof buf));
	snprintf(buf, sizeof buf, "%s/%s", p.ns, p.name);
	p.key = strdup(buf);
	p.nsid = sched_intern(c->strs, p.ns);
	p.node = -1;
	p.nodename = -1;
	p.nrequired = -1;
	sched_jstr(obj, "metadata.creationTimestamp", p.created, sizeof p.created);
	p.prio = kx_jv_int(obj, "spec.priority", 0);
	p.labels = kx_jv_get(jv_copy(obj), "metadata.labels");
	if (jv_get_kind(p.labels) != JV_KIND_OBJECT) {
		jv_free(p.labels);
		p.labels = jv_object();
	}
	const char *nodename = sched_jstr(obj, "spec.nodeName", buf, sizeof buf);
	bound = *nodename != 0;
	if (bound)
		p.node = sched_lookup(c->strs, nodename); /* resolved to an index later */
	sched_jstr(obj, "spec.schedulerName", sname, sizeof sname);
	jv gates = kx_jv_get(jv_copy(obj), "spec.schedulingGates");
	ours = !bound && !strcmp(*sname ? sname : "default-scheduler", c->cfg.scheduler) &&
	       !kx_jv_str(obj, "metadata.deletionTimestamp", buf, sizeof buf, NULL) &&
	       !(jv_get_kind(gates) == JV_KIND_ARRAY && jv_array_length(jv_copy(gates)) > 0);
	jv_free(gates);
	p.pending = ours;
	if (!bound && !ours) {
		/* someone else's pod, or one being deleted: not our business */
		free(p.ns), free(p.name), free(p.uid), free(p.key);
		jv_free(p.labels);
		jv_free(spec);
		jv_free(obj);
		return 0;
	}
	if (pod_requests(c, &p, spec, &e) < 0) {
		add_warning_bad(c, &p, &e);
	} else if (ours) {
		jv ns = jv_object_get(jv_copy(spec), jv_string("nodeSelector"));
		p.sel = kv_map(c, ns, &p.nsel);
		jv_free(ns);
		if (parse_affinity(c, &p, spec, &e) < 0)
			add_warning_bad(c, &p, &e);
		parse_tolerations(c, &p, spec);
		parse_images(c, &p, spec);
		/* the signature: all the static filters and scores read */
		jv sig = jv_array();
		sig = jv_array_append(sig, kx_jv_get(jv_copy(spec), "nodeSelector"));
		sig = jv_array_append(sig, kx_jv_get(jv_copy(spec), "affinity.nodeAffinity"));
		sig = jv_array_append(sig, kx_jv_get(jv_copy(spec), "tolerations"));
		sig = jv_array_append(sig, kx_jv_get(jv_copy(spec), "nodeName"));
		jv imgs = jv_array();
		for (int k = 0; k < p.nimages; k++)
			imgs = jv_array_append(imgs, jv_number(p.images[k]));
		sig = jv_array_append(sig, imgs);
		sig = jv_array_append(sig, jv_number(p.ncontainers));
		jv d = jv_dump_string(sig, JV_PRINT_SORTED);
		p.sig = sched_intern(c->sigs, jv_string_value(d));
		jv_free(d);
	}
	if (!p.bad) {
		jv ctrs = jv_object_get(jv_copy(spec), jv_string("containers"));
		parse_ports(c, &p, ctrs);
		jv_free(ctrs);
		if (parse_anti(c, &p, spec, &e) < 0)
			add_warning_bad(c, &p, &e);
	}
	jv_free(spec);
	if (bound && p.bad) {
		/* we cannot count what it uses: say so, and leave it out */
		p.pending = 0;
	}
	p.obj = obj;
	c->pods = realloc(c->pods, (c->npods + 1) * sizeof *c->pods);
	c->pods[c->npods++] = p;
	return 1;
}

/* A label's value (label keys have dots: no dotted paths here). */
static void label_of(jv labels, const char *key, char *buf, size_t n)
{
	jv v = jv_object_get(jv_copy(labels), jv_string(key));

	snprintf(buf, n, "%s", jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
	jv_free(v);
}

static int image_cmp(const void *a, const void *b)
{
	const sched_image *x = a, *y = b;
	return (x->name > y->name) - (x->name < y->name);
}

/* Parse one Node (consumed). */
static void add_node(sched_cluster *c, jv obj)
{
	char buf[1024], region[256], zone[256];
	sched_node n;
	kx_err e = KX_ERR_INIT;
	jv alloc = kx_jv_get(jv_copy(obj), "status.allocatable");

	memset(&n, 0, sizeof n);
	n.name = strdup(sched_jstr(obj, "metadata.name", buf, sizeof buf));
	if (!n.name[0]) {
		warn(c, "a node without a name was skipped");
		goto skip;
	}
	n.nameid = sched_intern(c->strs, n.name);
	if (jv_get_kind(alloc) != JV_KIND_OBJECT) {
		jv_free(alloc);
		alloc = kx_jv_get(jv_copy(obj), "status.capacity");
	}
	if (resource_list(c, alloc, n.alloc, NULL, &e) < 0) {
		warn(c, "node \"%s\" skipped: allocatable %s", n.name, e.msg);
		goto skip;
	}
	n.labels = kx_jv_get(jv_copy(obj), "metadata.labels");
	if (jv_get_kind(n.labels) != JV_KIND_OBJECT) {
		jv_free(n.labels);
		n.labels = jv_object();
	}
	n.labelv = kv_map(c, n.labels, &n.nlabels);
	n.unschedulable = kx_jv_bool(obj, "spec.unschedulable", 0);

	jv taints = kx_jv_get(jv_copy(obj), "spec.taints");
	int has_notready = 0, has_unreach = 0;
	if (jv_get_kind(taints) == JV_KIND_ARRAY) {
		n.taints = calloc(jv_array_length(jv_copy(taints)) + 2, sizeof *n.taints);
		jv_array_foreach(taints, i, t)
		{
			sched_taint *x = &n.taints[n.ntaints++];
			x->key = sched_intern(c->strs, sched_jstr(t, "key", buf, sizeof buf));
			x->val = sched_intern(c->strs, sched_jstr(t, "value", buf, sizeof buf));
			x->effect = effect_of(sched_jstr(t, "effect", buf, sizeof buf));
			has_notready |= !strcmp(sched_str(c->strs, x->key), "node.kubernetes.io/not-ready");
			has_unreach |= !strcmp(sched_str(c->strs, x->key), "node.kubernetes.io/unreachable");
			jv_free(t);
		}
	} else {
		n.taints = calloc(2, sizeof *n.taints);
	}
	jv_free(taints);
	/* A node whose Ready condition is not True is tainted so, as the node
	 * lifecycle controller would (a node without the condition counts as
	 * ready: only the taints speak for it then). */
	jv conds = kx_jv_get(jv_copy(obj), "status.conditions");
	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, cd)
		{
			char type[64], st[32];
			if (!strcmp(sched_jstr(cd, "type", type, sizeof type), "Ready")) {
				sched_jstr(cd, "status", st, sizeof st);
				const char *key = NULL;
				if (!strcmp(st, "False") && !has_notready)
					key = "node.kubernetes.io/not-ready";
				else if (strcmp(st, "True") && strcmp(st, "False") && !has_unreach)
					key = "node.kubernetes.io/unreachable";
				if (key) {
					sched_taint *x = &n.taints[n.ntaints++];
					x->key = sched_intern(c->strs, key);
					x->val = sched_intern(c->strs, "");
					x->effect = E_NOSCHEDULE;
				}
			}
			jv_free(cd);
		}
	}
	jv_free(conds);

	jv imgs = kx_jv_get(jv_copy(obj), "status.images");
	if (jv_get_kind(imgs) == JV_KIND_ARRAY) {
		jv_array_foreach(imgs, i, img)
		{
			int64_t size = kx_jv_int(img, "sizeBytes", 0);
			jv names = jv_object_get(jv_copy(img), jv_string("names"));
			if (jv_get_kind(names) == JV_KIND_ARRAY) {
				jv_array_foreach(names, j, nm)
				{
					if (jv_get_kind(nm) == JV_KIND_STRING) {
						n.images = realloc(n.images, (n.nimages + 1) * sizeof *n.images);
						n.images[n.nimages].name = image_id(c, jv_string_value(nm));
						n.images[n.nimages].size = size;
						n.nimages++;
					}
					jv_free(nm);
				}
			}
			jv_free(names);
			jv_free(img);
		}
		if (n.nimages > 1)
			qsort(n.images, n.nimages, sizeof *n.images, image_cmp);
	}
	jv_free(imgs);

	label_of(n.labels, "topology.kubernetes.io/region", region, sizeof region);
	if (!region[0])
		label_of(n.labels, "failure-domain.beta.kubernetes.io/region", region, sizeof region);
	label_of(n.labels, "topology.kubernetes.io/zone", zone, sizeof zone);
	if (!zone[0])
		label_of(n.labels, "failure-domain.beta.kubernetes.io/zone", zone, sizeof zone);
	n.zone = -1;
	if (region[0] || zone[0]) {
		snprintf(buf, sizeof buf, "%s:\x1f:%s", region, zone);
		n.zone = sched_intern(c->strs, buf);
	}
	jv_free(alloc);
	jv_free(obj);
	c->nodes = realloc(c->nodes, (c->nnodes + 1) * sizeof *c->nodes);
	c->nodes[c->nnodes++] = n;
	return;
skip:
	free(n.name);
	jv_free(alloc);
	jv_free(obj);
}

/* The selectors that spread pods: those of Services and ReplicaSets. */
typedef struct spread_sel {
	int ns;
	struct kx_selector *sel;
	int owner_uid; /* the ReplicaSet's uid, -1 for a Service */
} spread_sel;

static void add_selector(sched_cluster *c, jv obj, int is_rs, spread_sel **sels, int *nsels)
{
	char buf[320];
	kx_err e = KX_ERR_INIT;
	struct kx_selector *s;
	jv sel = kx_jv_get(jv_copy(obj), "spec.selector");

	if (jv_get_kind(sel) != JV_KIND_OBJECT || jv_object_length(jv_copy(sel)) == 0) {
		jv_free(sel);
		jv_free(obj);
		return; /* selects nothing, for spreading */
	}
	s = is_rs ? kx_selector_from_jv(sel, &e) : kx_selector_from_map(sel, &e);
	if (!s) {
		warn(c, "%s \"%s\" ignored for spreading: %s", is_rs ? "replicaset" : "service",
		     sched_jstr(obj, "metadata.name", buf, sizeof buf), e.msg);
		jv_free(obj);
		return;
	}
	if (kx_selector_empty(s)) {
		kx_selector_free(s);
		jv_free(obj);
		return;
	}
	*sels = realloc(*sels, (*nsels + 1) * sizeof **sels);
	(*sels)[*nsels].ns =
		sched_intern(c->strs, kx_jv_str(obj, "metadata.namespace", buf, sizeof buf, "default"));
	(*sels)[*nsels].sel = s;
	(*sels)[*nsels].owner_uid = is_rs ? intern_at(c, obj, "metadata.uid") : -1;
	(*nsels)++;
	jv_free(obj);
}

/* Each pod's spreading groups: every Service or ReplicaSet of its namespace
 * that selects it; a pod whose controller is not among the ReplicaSets
 * observed is grouped with its siblings by the controller's uid. */
static void spread_groups(sched_cluster *c, spread_sel *sels, int nsels)
{
	/* Pods with the same namespace and labels match the same selectors:
	 * remember the answer by (namespace, labels). */
	struct {
		int key, n;
		int *groups;
	} *memo = NULL;
	int nmemo = 0, capmemo = 0;
	sched_strtab *keys = calloc(1, sizeof *keys);

	for (int i = 0; i < c->npods; i++) {
		sched_pod *p = &c->pods[i];
		int owner = -1, covered = 0, *groups = NULL, ng = 0;
		jv refs = kx_jv_get(jv_copy(p->obj), "metadata.ownerReferences");

		if (jv_get_kind(refs) == JV_KIND_ARRAY) {
			jv_array_foreach(refs, k, r)
			{
				if (kx_jv_bool(r, "controller", 0))
					owner = intern_at(c, r, "uid");
				jv_free(r);
			}
		}
		jv_free(refs);
		if (nsels) {
			jv d = jv_dump_string(jv_copy(p->labels), JV_PRINT_SORTED);
			kx_buf kb = KX_BUF_INIT;
			kx_buf_addf(&kb, "%d\x1f%s", p->nsid, jv_string_value(d));
			jv_free(d);
			int key = sched_intern(keys, kx_buf_str(&kb));
			kx_buf_free(&kb);
			if (key >= nmemo) {
				if (key >= capmemo) {
					capmemo = (key + 1) * 2;
					memo = realloc(memo, capmemo * sizeof *memo);
				}
				for (int k = nmemo; k <= key; k++)
					memo[k].key = -1;
				nmemo = key + 1;
			}
			if (memo[key].key < 0) {
				memo[key].key = key;
				memo[key].n = 0;
				memo[key].groups = NULL;
				for (int s = 0; s < nsels; s++) {
					if (sels[s].ns != p->nsid || !kx_selector_match(sels[s].sel, p->labels))
						continue;
					memo[key].groups = realloc(memo[key].groups,
								   (memo[key].n + 1) * sizeof(int));
					memo[key].groups[memo[key].n++] = s;
				}
			}
			groups = memo[key].groups;
			ng = memo[key].n;
		}
		p->spread = malloc((ng + 1) * sizeof *p->spread);
		for (int g = 0; g < ng; g++) {
			p->spread[p->nspread++] = groups[g];
			if (owner >= 0 && sels[groups[g]].owner_uid == owner)
				covered = 1;
		}
		if (owner >= 0 && !covered) {
			for (int s = 0; s < nsels; s++)
				if (sels[s].owner_uid == owner)
					covered = 1;
			if (!covered)
				p->spread[p->nspread++] = nsels + owner;
		}
		if (p->nspread > 1)
			qsort(p->spread, p->nspread, sizeof *p->spread, int_cmp);
	}
	for (int k = 0; k < nmemo; k++)
		if (memo[k].key >= 0)
			free(memo[k].groups);
	free(memo);
	strtab_free(keys);
}

static int node_name_cmp(const void *a, const void *b)
{
	return strcmp(((const sched_node *)a)->name, ((const sched_node *)b)->name);
}

/* Count a pod against the node it is on: requests, ports, pod list. */
void sched_node_add_pod(sched_cluster *c, int ni, int pi);
void sched_node_add_pod(sched_cluster *c, int ni, int pi)
{
	sched_node *n = &c->nodes[ni];
	sched_pod *p = &c->pods[pi];

	for (int r = 0; r < c->nres; r++)
		n->req[r] += p->req[r];
	n->nz_cpu += p->nz_cpu;
	n->nz_mem += p->nz_mem;
	if (p->nports) {
		if (n->nports + p->nports > n->capports) {
			n->capports = (n->nports + p->nports) * 2;
			n->ports = realloc(n->ports, n->capports * sizeof *n->ports);
		}
		memcpy(n->ports + n->nports, p->ports, p->nports * sizeof *p->ports);
		n->nports += p->nports;
	}
	if (n->npods == n->cappods) {
		n->cappods = n->cappods ? n->cappods * 2 : 8;
		n->pods = realloc(n->pods, n->cappods * sizeof *n->pods);
	}
	n->pods[n->npods++] = pi;
	for (int g = 0; g < p->nspread; g++) {
		int k;
		for (k = 0; k < n->ngroups && n->groups[k].key != p->spread[g]; k++)
			;
		if (k == n->ngroups) {
			if (!n->groups) {
				n->groups = n->igroups;
				n->capgroups = SCHED_INLINE_GROUPS;
			}
			if (n->ngroups == n->capgroups) {
				n->capgroups *= 2;
				if (n->groups == n->igroups) {
					n->groups = malloc(n->capgroups * sizeof *n->groups);
					memcpy(n->groups, n->igroups, sizeof n->igroups);
				} else {
					n->groups = realloc(n->groups, n->capgroups * sizeof *n->groups);
				}
			}
			n->groups[n->ngroups].key = p->spread[g];
			n->groups[n->ngroups++].val = 0;
		}
		n->groups[k].val++;
	}
	if (p->nanti)
		n->nanti++;
	p->node = ni;
}

sched_cluster *sched_cluster_new(jv objects, const sched_config *cfg, kx_err *e)
{
	sched_cluster *c;
	spread_sel *sels = NULL;
	int nsels = 0;

	if (jv_get_kind(objects) != JV_KIND_ARRAY) {
		jv_free(objects);
		kx_err_set(e, KX_EFAIL, "expected a list of objects");
		return NULL;
	}
	c = calloc(1, sizeof *c);
	c->cfg = *cfg;
	if (!cfg->nprefer)
		c->cfg.weight[S_LABEL] = 0; /* nothing to prefer */
	c->strs = calloc(1, sizeof *c->strs);
	c->warnings = jv_array();
	c->nres = R_FIRST_EXT;
	sched_intern(c->strs, ""); /* id 0 is the empty string */
	c->k_unsched = sched_intern(c->strs, "node.kubernetes.io/unschedulable");
	c->sigs = calloc(1, sizeof *c->sigs);
	/* Nodes first, so that pods bound to them can be resolved. */
	for (int pass = 0; pass < 2; pass++) {
		jv_array_foreach(objects, i, o)
		{
			char kind[64];
			sched_jstr(o, "kind", kind, sizeof kind);
			if (jv_get_kind(o) != JV_KIND_OBJECT) {
				jv_free(o);
				continue;
			}
			if (pass == 0 && !strcmp(kind, "Node"))
				add_node(c, o);
			else if (pass == 1 && !strcmp(kind, "Pod"))
				add_pod(c, o);
			else if (pass == 1 && !strcmp(kind, "Service"))
				add_selector(c, o, 0, &sels, &nsels);
			else if (pass == 1 && !strcmp(kind, "ReplicaSet"))
				add_selector(c, o, 1, &sels, &nsels);
			else
				jv_free(o);
		}
		if (pass == 0) {
			/* same order whatever order the input had: by name */
			if (c->nnodes > 1)
				qsort(c->nodes, c->nnodes, sizeof *c->nodes, node_name_cmp);
			for (int k = 1; k < c->nnodes; k++)
				if (!strcmp(c->nodes[k].name, c->nodes[k - 1].name))
					warn(c, "node \"%s\" appears twice", c->nodes[k].name);
		}
	}
	jv_free(objects);

	/* node name id -> index */
	int nstr = 0;
	int *byname = NULL;
	for (int i = 0; i < c->nnodes; i++)
		if (c->nodes[i].nameid + 1 > nstr)
			nstr = c->nodes[i].nameid + 1;
	byname = malloc((nstr + 1) * sizeof *byname);
	for (int i = 0; i < nstr; i++)
		byname[i] = -1;
	for (int i = 0; i < c->nnodes; i++)
		byname[c->nodes[i].nameid] = i;

	spread_groups(c, sels, nsels);
	for (int s = 0; s < nsels; s++)
		kx_selector_free(sels[s].sel);
	free(sels);

	for (int i = 0; i < c->npods; i++) {
		sched_pod *p = &c->pods[i];
		if (!p->pending) {
			int ni = p->node >= 0 && p->node < nstr ? byname[p->node] : -1;
			p->node = -1;
			if (ni >= 0 && !p->bad)
				sched_node_add_pod(c, ni, i);
		}
	}
	free(byname);

	/* zones as dense indexes, for counting per zone */
	{
		int nstr2 = 0;
		for (int i = 0; i < c->nnodes; i++)
			if (c->nodes[i].zone + 1 > nstr2)
				nstr2 = c->nodes[i].zone + 1;
		int *dense = malloc((nstr2 + 1) * sizeof *dense);
		for (int i = 0; i < nstr2; i++)
			dense[i] = -1;
		for (int i = 0; i < c->nnodes; i++) {
			int z = c->nodes[i].zone;
			if (z < 0)
				continue;
			if (dense[z] < 0)
				dense[z] = c->nzones++;
			c->nodes[i].zone = dense[z];
		}
		free(dense);
		c->zone_count = calloc(c->nzones + 1, sizeof *c->zone_count);
	}

	/* how many nodes hold each image, for ImageLocality's spread factor */
	c->nimage_nodes = 0;
	for (int i = 0; i < c->nnodes; i++)
		for (int k = 0; k < c->nodes[i].nimages; k++)
			if (c->nodes[i].images[k].name + 1 > c->nimage_nodes)
				c->nimage_nodes = c->nodes[i].images[k].name + 1;
	c->image_nodes = calloc(c->nimage_nodes + 1, sizeof *c->image_nodes);
	for (int i = 0; i < c->nnodes; i++)
		for (int k = 0; k < c->nodes[i].nimages; k++)
			if (k == 0 || c->nodes[i].images[k].name != c->nodes[i].images[k - 1].name)
				c->image_nodes[c->nodes[i].images[k].name]++;

	c->cand = calloc(c->nnodes + 1, sizeof *c->cand);
	c->candsig = calloc(c->nnodes + 1, sizeof *c->candsig);
	c->scoremat = calloc((size_t)(c->nnodes + 1) * S_COUNT, sizeof *c->scoremat);
	return c;
}

static void free_pod(sched_pod *p)
{
	free(p->ns), free(p->name), free(p->uid), free(p->key), free(p->bad);
	jv_free(p->obj);
	jv_free(p->labels);
	free(p->sel);
	for (int i = 0; i < p->nrequired; i++)
		free_term(&p->required[i]);
	free(p->required);
	for (int i = 0; i < p->npreferred; i++)
		free_term(&p->preferred[i]);
	free(p->preferred);
	free(p->tol);
	free(p->ports);
	for (int i = 0; i < p->nanti; i++) {
		kx_selector_free(p->anti[i].sel);
		free(p->anti[i].ns);
	}
	free(p->anti);
	free(p->spread);
	free(p->images);
}

void sched_cluster_free(sched_cluster *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->npods; i++)
		free_pod(&c->pods[i]);
	free(c->pods);
	for (int i = 0; i < c->nnodes; i++) {
		sched_node *n = &c->nodes[i];
		free(n->name);
		jv_free(n->labels);
		free(n->labelv);
		free(n->taints);
		free(n->ports);
		free(n->pods);
		if (n->groups != n->igroups)
			free(n->groups);
		free(n->images);
	}
	free(c->nodes);
	for (int r = R_FIRST_EXT; r < c->nres; r++)
		free(c->resname[r]);
	free(c->image_nodes);
	free(c->zone_count);
	free(c->cand);
	free(c->candsig);
	free(c->scoremat);
	jv_free(c->warnings);
	if (c->sigcache)
		for (int i = 0; i < c->sigs->n; i++)
			free(c->sigcache[i]);
	free(c->sigcache);
	strtab_free(c->sigs);
	strtab_free(c->strs);
	free(c);
}
