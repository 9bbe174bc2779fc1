/* act.c: performing the actions the controllers decided, against the store
 * (or printing them with --dry-run), and keeping the pass's world current
 * with what the store answered so the next controller sees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "kinds.h"
#include "log.h"
#include "pass.h"
#include "reconcile.h"

void rc_actor_init(struct rc_actor *a, kx_client *c, int dry_run)
{
	memset(a, 0, sizeof *a);
	a->c = c;
	a->dry_run = dry_run;
	a->rv = jv_object();
	a->index = jv_object();
	clock_gettime(CLOCK_REALTIME, &a->now);
}

void rc_actor_free(struct rc_actor *a)
{
	jv_free(a->rv);
	jv_free(a->index);
	kx_event_cache_free(&a->events);
}

void rc_actor_reset(struct rc_actor *a)
{
	jv_free(a->index);
	a->index = jv_object();
}

/* Position of the object with uid in world[res], or -1; builds the index of
 * res on first use. */
static int position(struct rc_actor *a, jv world, const char *res, const char *uid)
{
	jv m = jv_object_get(jv_copy(a->index), jv_string(res)), p;
	int pos = -1;
	char b[128];

	if (!jv_is_valid(m)) {
		jv items = jv_object_get(jv_copy(world), jv_string(res));
		m = jv_object();
		if (jv_get_kind(items) == JV_KIND_ARRAY) {
			jv_array_foreach(items, i, o) {
				if (jv_get_kind(o) == JV_KIND_OBJECT && *rc_str(o, "metadata.uid", b, sizeof b))
					m = jv_object_set(m, jv_string(b), jv_number(i));
				jv_free(o);
			}
		}
		jv_free(items);
		a->index = jv_object_set(a->index, jv_string(res), jv_copy(m));
	}
	p = jv_object_get(m, jv_string(uid));
	if (jv_get_kind(p) == JV_KIND_NUMBER)
		pos = (int)jv_number_value(p);
	jv_free(p);
	return pos;
}

/* Put obj (consumed; jv_null() to remove) in world[res] where uid is, or
 * append it. */
static jv world_put(struct rc_actor *a, jv world, const char *res, const char *uid, jv obj)
{
	int pos = position(a, world, res, uid);
	jv items = jv_object_get(jv_copy(world), jv_string(res));

	/* the world lets go first, so that the array is changed in place */
	world = jv_object_delete(world, jv_string(res));

	if (jv_get_kind(items) != JV_KIND_ARRAY) {
		jv_free(items);
		items = jv_array();
	}
	if (pos >= 0) {
		items = jv_array_set(items, pos, obj);
	} else if (jv_get_kind(obj) == JV_KIND_OBJECT) {
		int n = jv_array_length(jv_copy(items));
		jv m = jv_object_get(jv_copy(a->index), jv_string(res));
		items = jv_array_append(items, obj);
		if (jv_is_valid(m) && *uid) {
			/* the index lets go first, so that m is changed in place
			 * (not copied whole for every object a pass creates) */
			a->index = jv_object_delete(a->index, jv_string(res));
			a->index = jv_object_set(a->index, jv_string(res),
						 jv_object_set(m, jv_string(uid), jv_number(n)));
		} else {
			jv_free(m);
		}
	} else {
		jv_free(obj);
	}
	return jv_object_set(world, jv_string(res), items);
}

/* An object standing for an ObjectReference (borrowed), for Events. */
static jv ref_object(jv ref)
{
	char b[256];
	jv o = jv_object();

	o = jv_object_set(o, jv_string("kind"), jv_string(rc_str(ref, "kind", b, sizeof b)));
	o = jv_object_set(o, jv_string("apiVersion"), jv_string(rc_str(ref, "apiVersion", b, sizeof b)));
	o = kx_jv_set(o, "metadata.name", jv_string(rc_str(ref, "name", b, sizeof b)));
	if (*rc_str(ref, "namespace", b, sizeof b))
		o = kx_jv_set(o, "metadata.namespace", jv_string(b));
	o = kx_jv_set(o, "metadata.uid", jv_string(rc_str(ref, "uid", b, sizeof b)));
	if (*rc_str(ref, "resourceVersion", b, sizeof b))
		o = kx_jv_set(o, "metadata.resourceVersion", jv_string(b));
	return o;
}

static void record_event(struct rc_actor *a, jv action, jv result, const char *component)
{
	jv ev = kx_jv_get(jv_copy(action), "event"), about;
	char type[32], reason[128], msg[1024], name[256];
	kx_err e = KX_ERR_INIT;
	kx_buf m = KX_BUF_INIT;
	const char *p, *q;

	if (jv_get_kind(ev) != JV_KIND_OBJECT) {
		jv_free(ev);
		return;
	}
	rc_str(ev, "type", type, sizeof type);
	rc_str(ev, "reason", reason, sizeof reason);
	rc_str(ev, "message", msg, sizeof msg);
	rc_str(result, "metadata.name", name, sizeof name);
	/* "{name}" is the name the store gave a generateName object */
	for (p = msg; (q = strstr(p, "{name}")); p = q + 6) {
		kx_buf_add(&m, p, (size_t)(q - p));
		kx_buf_adds(&m, name);
	}
	kx_buf_adds(&m, p);
	jv ref = kx_jv_get(jv_copy(ev), "involvedObject");
	about = jv_get_kind(ref) == JV_KIND_OBJECT ? ref_object(ref) : jv_copy(result);
	jv_free(ref);
	kx_event_info info = {type, reason, kx_buf_str(&m), component, NULL};
	if (kx_event_record_cached(a->c, &a->events, about, &info, &a->now, &e) < 0)
		kx_log_debug(1, "%s", e.msg);
	else
		a->writes++;
	jv_free(about);
	jv_free(ev);
	kx_buf_free(&m);
}

int rc_act(struct rc_actor *a, jv action, const char *component, jv *world)
{
	char verb[32], kind[64], av[64], ns[256], name[256], uid[128], rvs[64];
	const kx_kind *k;
	kx_buf path = KX_BUF_INIT;
	kx_err e = KX_ERR_INIT;
	jv obj, res = jv_invalid();
	const char *method;

	if (a->dry_run) {
		kx_json_print(action, 0);
		return 0;
	}
	rc_str(action, "verb", verb, sizeof verb);
	rc_str(action, "kind", kind, sizeof kind);
	rc_str(action, "apiVersion", av, sizeof av);
	rc_str(action, "namespace", ns, sizeof ns);
	rc_str(action, "name", name, sizeof name);
	obj = kx_jv_get(jv_copy(action), "object");
	rc_str(obj, "metadata.uid", uid, sizeof uid);
	k = kx_kind_by_gvk(av, kind);
	if (!k) {
		kx_log_error("cannot %s %s \"%s\": the store's kinds table has no %s %s", verb, kind, name,
			     av, kind);
		a->status = a->status ? a->status : KX_EFAIL;
		goto out;
	}
	/* our own earlier write in this pass moved the object on: write on top
	 * of that (its resourceVersion, and the part this write does not
	 * change: status for an update, everything else for a status write),
	 * so two writes decided from one snapshot never undo each other */
	if (*uid) {
		jv rv = jv_object_get(jv_copy(a->rv), jv_string(uid));
		if (jv_get_kind(rv) == JV_KIND_STRING) {
			int pos = position(a, *world, k->resource, uid);
			jv cur = pos >= 0 ? jv_array_get(jv_object_get(jv_copy(*world), jv_string(k->resource)), pos)
					  : jv_null();
			if (jv_get_kind(cur) == JV_KIND_OBJECT && !strcmp(verb, "update")) {
				jv st = kx_jv_get(jv_copy(cur), "status");
				obj = jv_get_kind(st) == JV_KIND_NULL ? (jv_free(st), obj)
								      : jv_object_set(obj, jv_string("status"), st);
			} else if (jv_get_kind(cur) == JV_KIND_OBJECT && !strcmp(verb, "status")) {
				jv st = kx_jv_get(jv_copy(obj), "status");
				jv_free(obj);
				obj = jv_get_kind(st) == JV_KIND_NULL ? (jv_free(st), jv_copy(cur))
								      : jv_object_set(jv_copy(cur), jv_string("status"), st);
			}
			jv_free(cur);
			obj = kx_jv_set(obj, "metadata.resourceVersion", rv);
		} else {
			jv_free(rv);
		}
	}
	if (!strcmp(verb, "create")) {
		method = "POST";
		kx_kind_path(&path, k, *ns ? ns : NULL, NULL, NULL);
	} else if (!strcmp(verb, "update")) {
		method = "PUT";
		kx_kind_path(&path, k, *ns ? ns : NULL, name, NULL);
	} else if (!strcmp(verb, "status") || !strcmp(verb, "finalize")) {
		method = "PUT";
		kx_kind_path(&path, k, *ns ? ns : NULL, name, verb);
	} else if (!strcmp(verb, "delete")) {
		char pol[32];
		jv opts = jv_object();
		method = "DELETE";
		kx_kind_path(&path, k, *ns ? ns : NULL, name, NULL);
		opts = jv_object_set(opts, jv_string("kind"), jv_string("DeleteOptions"));
		opts = jv_object_set(opts, jv_string("apiVersion"), jv_string("v1"));
		if (*rc_str(action, "propagationPolicy", pol, sizeof pol))
			opts = jv_object_set(opts, jv_string("propagationPolicy"), jv_string(pol));
		if (*uid)
			opts = kx_jv_set(opts, "preconditions.uid", jv_string(uid));
		jv_free(obj);
		obj = opts;
	} else {
		kx_log_error("unknown action verb \"%s\"", verb);
		goto out;
	}
	kx_log_debug(1, "%s %s %s%s%s", verb, k->resource, ns, *ns ? "/" : "", *name ? name : "(new)");
	res = kx_client_json(a->c, method, kx_buf_str(&path), jv_copy(obj), NULL, &e);
	if (!jv_is_valid(res) && !strcmp(verb, "finalize") && (e.http == 404 || e.http == 405)) {
		/* a store without /finalize: a plain update of the namespace */
		kx_buf_reset(&path);
		kx_kind_path(&path, k, NULL, name, NULL);
		kx_err_clear(&e);
		res = kx_client_json(a->c, "PUT", kx_buf_str(&path), jv_copy(obj), NULL, &e);
	}
	if (!jv_is_valid(res)) {
		if (e.status == KX_EUNREACH) {
			kx_log_error("%s", e.msg);
			a->status = KX_EUNREACH;
			jv_free(obj);
			jv_free(action);
			kx_buf_free(&path);
			return -1;
		}
		if (e.http == 409) {
			a->conflicts++;
			kx_log_debug(1, "%s %s \"%s\": conflict, retrying with a fresh read", verb, kind, name);
		} else if (e.http == 404 && !strcmp(verb, "delete")) {
			*world = world_put(a, *world, k->resource, uid, jv_null());
		} else {
			kx_log_error("cannot %s %s \"%s\": %s", verb, kind, *name ? name : "(new)", e.msg);
			a->status = KX_EREFUSED;
		}
		goto out;
	}
	a->writes++;
	if (!strcmp(verb, "delete")) {
		/* the store answers the object while finalizers hold it, else a Status */
		char rk[64];
		if (jv_get_kind(res) == JV_KIND_OBJECT && !strcmp(rc_str(res, "kind", rk, sizeof rk), kind) &&
		    rc_deleting(res)) {
			if (!jv_object_has(jv_copy(res), jv_string("apiVersion")))
				res = jv_object_set(res, jv_string("apiVersion"), jv_string(av));
			*world = world_put(a, *world, k->resource, uid, jv_copy(res));
		} else {
			*world = world_put(a, *world, k->resource, uid, jv_null());
		}
	} else if (jv_get_kind(res) == JV_KIND_OBJECT) {
		char ruid[128];
		res = jv_object_set(res, jv_string("kind"), jv_string(kind));
		res = jv_object_set(res, jv_string("apiVersion"), jv_string(av));
		rc_str(res, "metadata.uid", ruid, sizeof ruid);
		if (*ruid && *rc_str(res, "metadata.resourceVersion", rvs, sizeof rvs))
			a->rv = jv_object_set(a->rv, jv_string(ruid), jv_string(rvs));
		/* the last finalizer of an object being deleted: the store let it go */
		jv fins = kx_jv_get(jv_copy(res), "metadata.finalizers");
		jv sfins = kx_jv_get(jv_copy(res), "spec.finalizers");
		int gone = rc_deleting(res) &&
			   (jv_get_kind(fins) != JV_KIND_ARRAY || jv_array_length(jv_copy(fins)) == 0) &&
			   (strcmp(kind, "Namespace") || jv_get_kind(sfins) != JV_KIND_ARRAY ||
			    jv_array_length(jv_copy(sfins)) == 0);
		jv_free(fins);
		jv_free(sfins);
		*world = world_put(a, *world, k->resource, ruid, gone ? jv_null() : jv_copy(res));
	}
	record_event(a, action, res, component);
out:
	jv_free(res);
	jv_free(obj);
	jv_free(action);
	kx_buf_free(&path);
	return 0;
}
