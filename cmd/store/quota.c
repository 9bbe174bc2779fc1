#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "quantity.h"
#include "objects.h"
#include "quota.h"

/* What obj adds, as a map from resource name to thousandths. */
static void add(jv *usage, const char *name, int64_t milli)
{
	jv cur = jv_object_get(jv_copy(*usage), jv_string(name));
	int64_t v = jv_get_kind(cur) == JV_KIND_NUMBER ? (int64_t)jv_number_value(cur) : 0;

	jv_free(cur);
	*usage = jv_object_set(*usage, jv_string(name), jv_number((double)(v + milli)));
}

/* Sum of the containers' requests or limits of resource r (e.g. "cpu"). */
static int64_t pod_sum(jv pod, const char *what, const char *r)
{
	jv cs = kx_jv_get(jv_copy(pod), "spec.containers");
	int64_t sum = 0;

	if (jv_get_kind(cs) == JV_KIND_ARRAY)
		jv_array_foreach(cs, i, c)
		{
			char path[128];
			int64_t m;
			snprintf(path, sizeof path, "resources.%s", what);
			jv map = kx_jv_get(c, path);
			jv q = jv_get_kind(map) == JV_KIND_OBJECT ? jv_object_get(map, jv_string(r)) : (jv_free(map), jv_null());
			if (jv_is_valid(q) && kx_quantity_parse_jv(q, &m, NULL) == 0)
				sum += m;
			jv_free(q);
		}
	jv_free(cs);
	return sum;
}

static jv usage_of(const kx_kind *k, jv obj)
{
	jv u = jv_object();
	char buf[256], type[32];

	add(&u, k->resource, 1000);
	if (*k->group)
		snprintf(buf, sizeof buf, "count/%s.%s", k->resource, k->group);
	else
		snprintf(buf, sizeof buf, "count/%s", k->resource);
	add(&u, buf, 1000);
	if (!strcmp(k->kind, "Pod")) {
		static const char *const rs[] = {"cpu", "memory", "ephemeral-storage"};
		for (int i = 0; i < 3; i++) {
			int64_t req = pod_sum(obj, "requests", rs[i]), lim = pod_sum(obj, "limits", rs[i]);
			snprintf(buf, sizeof buf, "requests.%s", rs[i]);
			add(&u, buf, req);
			add(&u, rs[i], req);
			snprintf(buf, sizeof buf, "limits.%s", rs[i]);
			add(&u, buf, lim);
		}
	}
	if (!strcmp(k->kind, "Service")) {
		kx_jv_str(obj, "spec.type", type, sizeof type, "ClusterIP");
		jv ports = kx_jv_get(jv_copy(obj), "spec.ports");
		int np = jv_get_kind(ports) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ports)) : 0;
		jv_free(ports);
		if (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"))
			add(&u, "services.nodeports", 1000LL * np);
		if (!strcmp(type, "LoadBalancer"))
			add(&u, "services.loadbalancers", 1000);
	}
	return u;
}

static int is_memoryish(const char *r)
{
	return strstr(r, "memory") || strstr(r, "storage");
}

static void fmt(kx_buf *b, const char *r, int64_t milli)
{
	char q[64];

	kx_buf_addf(b, "%s%s=%s", b->len ? "," : "", r, kx_quantity_format(milli, is_memoryish(r), q, sizeof q));
}

struct quota_check {
	const kx_kind *k;
	const char *name;
	jv usage;        /* what the object adds */
	jv updates;      /* array of [key, quota object with raised status.used] */
	st_err *e;
	int refused;
	txn *t;
};

/* One quota: refuse, or plan the raise of status.used. */
static int check_one(void *arg, const char *key, const char *value)
{
	struct quota_check *c = arg;
	kx_err ke = KX_ERR_INIT;
	jv q = kx_json_parse(value, strlen(value), &ke);
	char qname[256], qual[160];
	kx_buf req = KX_BUF_INIT, used = KX_BUF_INIT, lim = KX_BUF_INIT;
	int changed = 0;

	if (!jv_is_valid(q))
		return 0;
	kx_jv_str(q, "metadata.name", qname, sizeof qname, "");
	jv hard = kx_jv_get(jv_copy(q), "spec.hard");
	jv st_used = kx_jv_get(jv_copy(q), "status.used");
	if (jv_get_kind(hard) != JV_KIND_OBJECT) {
		jv_free(hard);
		jv_free(st_used);
		jv_free(q);
		return 0;
	}
	jv keys = jv_keys(jv_copy(hard)); /* sorted, as Kubernetes lists them */
	jv newused = jv_get_kind(st_used) == JV_KIND_OBJECT ? jv_copy(st_used) : jv_object();
	jv_array_foreach(keys, i, r)
	{
		const char *rn = jv_string_value(r);
		jv d = jv_object_get(jv_copy(c->usage), jv_copy(r));
		int64_t delta = jv_get_kind(d) == JV_KIND_NUMBER ? (int64_t)jv_number_value(d) : 0;
		jv_free(d);
		if (!delta) {
			jv_free(r);
			continue;
		}
		int64_t h = 0, u = 0;
		jv hv = jv_object_get(jv_copy(hard), jv_copy(r));
		kx_quantity_parse_jv(hv, &h, NULL);
		jv_free(hv);
		jv uv = jv_get_kind(st_used) == JV_KIND_OBJECT ? jv_object_get(jv_copy(st_used), jv_copy(r)) : jv_null();
		if (jv_is_valid(uv) && jv_get_kind(uv) != JV_KIND_NULL)
			kx_quantity_parse_jv(uv, &u, NULL);
		jv_free(uv);
		if (u + delta > h) {
			fmt(&req, rn, delta);
			fmt(&used, rn, u);
			fmt(&lim, rn, h);
		} else {
			char qs[64];
			newused = jv_object_set(newused, jv_string(rn),
						jv_string(kx_quantity_format(u + delta, is_memoryish(rn), qs, sizeof qs)));
			changed = 1;
		}
		jv_free(r);
	}
	jv_free(keys);
	jv_free(hard);
	jv_free(st_used);
	if (req.len) {
		st_fail(c->e, 403, "Forbidden",
			"%s \"%s\" is forbidden: exceeded quota: %s, requested: %s, used: %s, limited: %s",
			qualified(c->k, qual, sizeof qual), c->name, qname, req.p, used.p, lim.p);
		c->refused = 1;
	} else if (changed) {
		q = kx_jv_set(q, "status.used", jv_copy(newused));
		jv pair = jv_array_append(jv_array_append(jv_array(), jv_string(key)), jv_copy(q));
		c->updates = jv_array_append(c->updates, pair);
	}
	jv_free(newused);
	jv_free(q);
	kx_buf_free(&req);
	kx_buf_free(&used);
	kx_buf_free(&lim);
	return c->refused;
}

int quota_admit(txn *t, const kx_kind *k, const char *ns, const char *name, jv obj, st_err *e)
{
	const kx_kind *qk = kx_kind_lookup("resourcequotas");
	kx_buf prefix = KX_BUF_INIT;
	struct quota_check c = {k, name, jv_null(), jv_array(), e, 0, t};
	int rc = 0;

	if (!k->namespaced || !qk || !strcmp(k->kind, "Event"))
		goto out;
	key_make(&prefix, qk, ns, NULL);
	if (prefix.len && prefix.p[prefix.len - 1] != '/')
		kx_buf_addc(&prefix, '/');
	c.usage = usage_of(k, obj);
	txn_list_prefix(t, prefix.p, check_one, &c);
	if (c.refused) {
		rc = -1;
		goto out;
	}
	jv_array_foreach(c.updates, i, pair)
	{
		jv key = jv_array_get(jv_copy(pair), 0);
		if (txn_put(t, jv_string_value(key), qk, jv_array_get(jv_copy(pair), 1), e) < 0)
			rc = -1;
		jv_free(key);
		jv_free(pair);
	}
out:
	jv_free(c.usage);
	jv_free(c.updates);
	kx_buf_free(&prefix);
	return rc;
}
