/* lease.c: leader election through a Lease (see lease.h). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "lease.h"

/* kx_jv_str that always fills buf (with def when absent). */
static const char *sget(jv v, const char *path, char *buf, size_t n, const char *def)
{
	const char *s = kx_jv_str(v, path, buf, n, def);

	if (s && s != buf)
		snprintf(buf, n, "%s", s);
	return s;
}

time_t kx_lease_expiry(jv lease)
{
	char holder[256], ts[64];
	time_t t;
	int64_t dur = kx_jv_int(lease, "spec.leaseDurationSeconds", 0);

	if (!*sget(lease, "spec.holderIdentity", holder, sizeof holder, ""))
		return 0;
	if (!sget(lease, "spec.renewTime", ts, sizeof ts, NULL) &&
	    !sget(lease, "spec.acquireTime", ts, sizeof ts, NULL))
		return 0;
	if (kx_time_parse(ts, &t) < 0)
		return 0;
	return t + (time_t)dur;
}

enum kx_lease_verdict kx_lease_decide(jv lease, const char *ns, const char *name,
				      const char *identity, int duration_s,
				      const struct timespec *now, jv *out)
{
	char holder[256], ts[40];
	int absent = jv_get_kind(lease) != JV_KIND_OBJECT;
	enum kx_lease_verdict v;
	jv spec;

	*out = jv_null();
	kx_time_format_micro(now, ts, sizeof ts);
	if (absent) {
		jv_free(lease);
		lease = jv_object();
		lease = jv_object_set(lease, jv_string("apiVersion"), jv_string("coordination.k8s.io/v1"));
		lease = jv_object_set(lease, jv_string("kind"), jv_string("Lease"));
		lease = kx_jv_set(lease, "metadata.name", jv_string(name));
		lease = kx_jv_set(lease, "metadata.namespace", jv_string(ns));
		lease = kx_jv_set(lease, "spec", jv_object());
	}
	sget(lease, "spec.holderIdentity", holder, sizeof holder, "");
	if (!strcmp(holder, identity)) {
		v = KX_LEASE_RENEW;
	} else if (!*holder || kx_lease_expiry(lease) < now->tv_sec) {
		v = KX_LEASE_ACQUIRE;
	} else {
		jv_free(lease);
		return KX_LEASE_FOLLOW;
	}
	spec = kx_jv_get(jv_copy(lease), "spec");
	if (jv_get_kind(spec) != JV_KIND_OBJECT) {
		jv_free(spec);
		spec = jv_object();
	}
	if (v == KX_LEASE_ACQUIRE) {
		int64_t tr = kx_jv_int(lease, "spec.leaseTransitions", 0);
		spec = jv_object_set(spec, jv_string("holderIdentity"), jv_string(identity));
		spec = jv_object_set(spec, jv_string("acquireTime"), jv_string(ts));
		/* as client-go: a new holder of an existing Lease is a transition */
		spec = jv_object_set(spec, jv_string("leaseTransitions"),
				     jv_number((double)(absent ? 0 : tr + 1)));
	}
	spec = jv_object_set(spec, jv_string("leaseDurationSeconds"), jv_number(duration_s));
	spec = jv_object_set(spec, jv_string("renewTime"), jv_string(ts));
	*out = jv_object_set(lease, jv_string("spec"), spec);
	return v;
}

static void lease_path(kx_buf *b, const char *ns, const char *name)
{
	kx_buf_addf(b, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", ns);
	if (name)
		kx_buf_addf(b, "/%s", name);
}

/* The Lease, jv_null() when absent, jv_invalid() on error. */
static jv lease_get(kx_client *c, const char *ns, const char *name, kx_err *e)
{
	kx_buf p = KX_BUF_INIT;
	jv l;

	lease_path(&p, ns, name);
	l = kx_client_get(c, kx_buf_str(&p), e);
	kx_buf_free(&p);
	if (!jv_is_valid(l) && e->http == 404) {
		kx_err_clear(e);
		return jv_null();
	}
	return l;
}

int kx_lease_try(kx_client *c, const char *ns, const char *name, const char *identity,
		 int duration_s, kx_err *e)
{
	struct timespec now;
	jv lease = lease_get(c, ns, name, e), out, res;
	int absent = jv_get_kind(lease) == JV_KIND_NULL;
	kx_buf p = KX_BUF_INIT;

	if (!jv_is_valid(lease))
		return kx_err_wrap(e, "read lease %s/%s", ns, name);
	clock_gettime(CLOCK_REALTIME, &now);
	if (kx_lease_decide(lease, ns, name, identity, duration_s, &now, &out) == KX_LEASE_FOLLOW)
		return 0;
	lease_path(&p, ns, absent ? NULL : name);
	res = kx_client_json(c, absent ? "POST" : "PUT", kx_buf_str(&p), out, NULL, e);
	kx_buf_free(&p);
	if (jv_is_valid(res)) {
		jv_free(res);
		return 1;
	}
	if (e->http == 409) { /* another candidate wrote first */
		kx_err_clear(e);
		return 0;
	}
	return kx_err_wrap(e, "write lease %s/%s", ns, name);
}

int kx_lease_release(kx_client *c, const char *ns, const char *name, const char *identity,
		     kx_err *e)
{
	jv lease = lease_get(c, ns, name, e), res;
	char holder[256];
	kx_buf p = KX_BUF_INIT;

	if (!jv_is_valid(lease))
		return kx_err_wrap(e, "read lease %s/%s", ns, name);
	if (jv_get_kind(lease) != JV_KIND_OBJECT ||
	    strcmp(sget(lease, "spec.holderIdentity", holder, sizeof holder, ""), identity)) {
		jv_free(lease);
		return 0;
	}
	lease = kx_jv_set(lease, "spec.holderIdentity", jv_string(""));
	lease = kx_jv_set(lease, "spec.leaseDurationSeconds", jv_number(1));
	lease_path(&p, ns, name);
	res = kx_client_json(c, "PUT", kx_buf_str(&p), lease, NULL, e);
	kx_buf_free(&p);
	if (!jv_is_valid(res))
		return kx_err_wrap(e, "release lease %s/%s", ns, name);
	jv_free(res);
	return 0;
}
