/* util.c: small pure helpers the controllers share (see reconcile.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "json.h"
#include "reconcile.h"

jv rc_items(jv world, const char *resource)
{
	jv v = jv_object_get(jv_copy(world), jv_string(resource));

	jv out;
	int holes = 0;

	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		return jv_array();
	}
	/* act.c leaves null where it deleted an object: skip those */
	jv_array_foreach(v, i, o) {
		holes |= jv_get_kind(o) != JV_KIND_OBJECT;
		jv_free(o);
	}
	if (!holes)
		return v;
	out = jv_array();
	jv_array_foreach(v, i, o) {
		if (jv_get_kind(o) == JV_KIND_OBJECT)
			out = jv_array_append(out, o);
		else
			jv_free(o);
	}
	jv_free(v);
	return out;
}

int rc_observed(jv world, const char *resource)
{
	return jv_object_has(jv_copy(world), jv_string(resource));
}

const char *rc_str(jv v, const char *path, char *buf, size_t n)
{
	const char *s = kx_jv_str(v, path, buf, n, NULL);

	if (!s)
		buf[0] = 0;
	return buf;
}

time_t rc_time(jv v, const char *path)
{
	char buf[64];
	time_t t;

	if (!*rc_str(v, path, buf, sizeof buf) || kx_time_parse(buf, &t) < 0)
		return 0;
	return t;
}

jv rc_timestr(time_t t)
{
	char buf[40];

	return jv_string(kx_time_format(t, buf, sizeof buf));
}

int rc_deleting(jv obj)
{
	jv d = kx_jv_get(jv_copy(obj), "metadata.deletionTimestamp");
	int r = jv_get_kind(d) == JV_KIND_STRING;

	jv_free(d);
	return r;
}

const char *rc_controller_uid(jv obj, char *buf, size_t n)
{
	jv refs = kx_jv_get(jv_copy(obj), "metadata.ownerReferences");

	buf[0] = 0;
	if (jv_get_kind(refs) == JV_KIND_ARRAY) {
		jv_array_foreach(refs, i, r) {
			if (!buf[0] && kx_jv_bool(r, "controller", 0))
				rc_str(r, "uid", buf, n);
			jv_free(r);
		}
	}
	jv_free(refs);
	return buf;
}

jv rc_owner_ref(jv owner)
{
	char b[256];
	jv r = jv_object();

	r = jv_object_set(r, jv_string("apiVersion"), jv_string(rc_str(owner, "apiVersion", b, sizeof b)));
	r = jv_object_set(r, jv_string("kind"), jv_string(rc_str(owner, "kind", b, sizeof b)));
	r = jv_object_set(r, jv_string("name"), jv_string(rc_str(owner, "metadata.name", b, sizeof b)));
	r = jv_object_set(r, jv_string("uid"), jv_string(rc_str(owner, "metadata.uid", b, sizeof b)));
	r = jv_object_set(r, jv_string("controller"), jv_true());
	return jv_object_set(r, jv_string("blockOwnerDeletion"), jv_true());
}

const char *rc_meta_get(jv obj, const char *which, const char *key, char *buf, size_t n)
{
	jv m = jv_object_get(jv_object_get(jv_copy(obj), jv_string("metadata")), jv_string(which));
	jv v = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(jv_copy(m), jv_string(key)) : jv_invalid();

	buf[0] = 0;
	if (jv_get_kind(v) == JV_KIND_STRING)
		snprintf(buf, n, "%s", jv_string_value(v));
	jv_free(v);
	jv_free(m);
	return buf;
}

jv rc_meta_set(jv obj, const char *which, const char *key, jv val)
{
	jv meta = jv_object_get(jv_copy(obj), jv_string("metadata")), m;

	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		meta = jv_object();
	}
	m = jv_object_get(jv_copy(meta), jv_string(which));
	if (jv_get_kind(m) != JV_KIND_OBJECT) {
		jv_free(m);
		m = jv_object();
	}
	m = jv_object_set(m, jv_string(key), val);
	meta = jv_object_set(meta, jv_string(which), m);
	return jv_object_set(obj, jv_string("metadata"), meta);
}

int rc_pod_active(jv pod)
{
	char ph[32];

	rc_str(pod, "status.phase", ph, sizeof ph);
	return strcmp(ph, "Succeeded") && strcmp(ph, "Failed") && !rc_deleting(pod);
}

int rc_pod_ready(jv pod)
{
	jv c = rc_condition(pod, "Ready");
	char st[16];
	int r = jv_get_kind(c) == JV_KIND_OBJECT && !strcmp(rc_str(c, "status", st, sizeof st), "True");

	jv_free(c);
	return r;
}

int rc_pod_available(jv pod, int64_t min_ready, time_t now)
{
	jv c;
	time_t since;

	if (!rc_pod_ready(pod))
		return 0;
	if (min_ready <= 0)
		return 1;
	c = rc_condition(pod, "Ready");
	since = rc_time(c, "lastTransitionTime");
	jv_free(c);
	return since && since + min_ready <= now;
}

jv rc_action(const char *controller, const char *verb, jv obj)
{
	char b[256];
	jv a = jv_object();

	a = jv_object_set(a, jv_string("controller"), jv_string(controller));
	a = jv_object_set(a, jv_string("verb"), jv_string(verb));
	a = jv_object_set(a, jv_string("kind"), jv_string(rc_str(obj, "kind", b, sizeof b)));
	a = jv_object_set(a, jv_string("apiVersion"), jv_string(rc_str(obj, "apiVersion", b, sizeof b)));
	a = jv_object_set(a, jv_string("namespace"),
			  jv_string(rc_str(obj, "metadata.namespace", b, sizeof b)));
	a = jv_object_set(a, jv_string("name"), jv_string(rc_str(obj, "metadata.name", b, sizeof b)));
	return jv_object_set(a, jv_string("object"), obj);
}

jv rc_with_event(jv action, jv about, const char *type, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	jv ev = jv_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ev = jv_object_set(ev, jv_string("type"), jv_string(type));
	ev = jv_object_set(ev, jv_string("reason"), jv_string(reason));
	ev = jv_object_set(ev, jv_string("message"), jv_string(msg));
	if (jv_get_kind(about) == JV_KIND_OBJECT)
		ev = jv_object_set(ev, jv_string("involvedObject"), kx_event_ref(about));
	return jv_object_set(action, jv_string("event"), ev);
}

jv rc_push(jv actions, jv action)
{
	return jv_array_append(actions, action);
}

jv rc_condition(jv obj, const char *type)
{
	jv conds = kx_jv_get(jv_copy(obj), "status.conditions"), found = jv_null();
	char t[64];

	if (jv_get_kind(conds) == JV_KIND_ARRAY) {
		jv_array_foreach(conds, i, c) {
			if (jv_get_kind(found) == JV_KIND_NULL && jv_get_kind(c) == JV_KIND_OBJECT &&
			    !strcmp(rc_str(c, "type", t, sizeof t), type)) {
				found = c;
			} else {
				jv_free(c);
			}
		}
	}
	jv_free(conds);
	return found;
}

jv rc_set_condition(jv conds, const char *type, const char *status, const char *reason,
		    const char *message, time_t now, int update_time)
{
	char t[64], s[32], r[128], m[1024];
	jv out = jv_array(), old = jv_null(), c;

	if (jv_get_kind(conds) != JV_KIND_ARRAY) {
		jv_free(conds);
		conds = jv_array();
	}
	jv_array_foreach(conds, i, x) {
		if (!strcmp(rc_str(x, "type", t, sizeof t), type) && jv_get_kind(old) == JV_KIND_NULL) {
			old = x;
			continue;
		}
		out = jv_array_append(out, x);
	}
	jv_free(conds);
	if (jv_get_kind(old) == JV_KIND_OBJECT && !strcmp(rc_str(old, "status", s, sizeof s), status) &&
	    !strcmp(rc_str(old, "reason", r, sizeof r), reason) &&
	    !strcmp(rc_str(old, "message", m, sizeof m), message) && update_time != 2) {
		c = old; /* unchanged: keep its times */
	} else {
		int same = jv_get_kind(old) == JV_KIND_OBJECT &&
			   !strcmp(rc_str(old, "status", s, sizeof s), status);
		jv lt = same ? kx_jv_get(jv_copy(old), "lastTransitionTime") : rc_timestr(now);
		c = jv_object();
		c = jv_object_set(c, jv_string("type"), jv_string(type));
		c = jv_object_set(c, jv_string("status"), jv_string(status));
		if (update_time)
			c = jv_object_set(c, jv_string("lastUpdateTime"), rc_timestr(now));
		c = jv_object_set(c, jv_string("lastTransitionTime"),
				  jv_get_kind(lt) == JV_KIND_STRING ? lt : (jv_free(lt), rc_timestr(now)));
		c = jv_object_set(c, jv_string("reason"), jv_string(reason));
		c = jv_object_set(c, jv_string("message"), jv_string(message));
		jv_free(old);
	}
	/* keep a stable order: the condition goes back where types sort */
	jv sorted = jv_array();
	int placed = 0;
	jv_array_foreach(out, i, x) {
		if (!placed && strcmp(rc_str(x, "type", t, sizeof t), type) > 0) {
			sorted = jv_array_append(sorted, jv_copy(c));
			placed = 1;
		}
		sorted = jv_array_append(sorted, x);
	}
	jv_free(out);
	if (!placed)
		sorted = jv_array_append(sorted, jv_copy(c));
	jv_free(c);
	return sorted;
}

jv rc_index_add(jv index, const char *key, int i)
{
	jv k = jv_string(key);
	jv a = jv_object_get(jv_copy(index), jv_copy(k));

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		jv_free(a);
		a = jv_array();
	}
	return jv_object_set(index, k, jv_array_append(a, jv_number(i)));
}

jv rc_index_get(jv index, const char *key)
{
	jv a = jv_object_get(jv_copy(index), jv_string(key));

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		jv_free(a);
		return jv_array();
	}
	return a;
}

/* pod-template-hash: FNV-1a (32 bits) of the template's canonical JSON
 * (keys sorted, compact, any pod-template-hash label removed), then of the
 * collisionCount in decimal when there is one; the decimal value of the hash
 * is then spelled with Kubernetes' "safe" alphabet (no vowels, no look-alike
 * characters), as rand.SafeEncodeString does for the real controller. */
const char *rc_template_hash(jv tmpl, int64_t collision_count, char *buf, size_t n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	jv t = kx_jv_del(jv_copy(tmpl), "metadata.labels.pod-template-hash");
	jv s = jv_dump_string(t, JV_PRINT_SORTED);
	const unsigned char *p = (const unsigned char *)jv_string_value(s);
	uint32_t h = 2166136261u;
	char dec[16], cc[32];

	for (; *p; p++)
		h = (h ^ *p) * 16777619u;
	jv_free(s);
	if (collision_count > 0) {
		snprintf(cc, sizeof cc, "%lld", (long long)collision_count);
		for (p = (const unsigned char *)cc; *p; p++)
			h = (h ^ *p) * 16777619u;
	}
	snprintf(dec, sizeof dec, "%u", h);
	size_t i;
	for (i = 0; dec[i] && i + 1 < n; i++)
		buf[i] = alphabet[(unsigned char)dec[i] % (sizeof alphabet - 1)];
	buf[i] = 0;
	return buf;
}
