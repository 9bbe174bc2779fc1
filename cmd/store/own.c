/* own.c: server-side apply and managedFields for kx-store (see own.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "json.h"
#include "objects.h"
#include "own.h"
#include "ssa.h"

static void who_of(const struct op *o, struct kx_ssa_who *w, char *av, size_t avn, char *now, size_t nown)
{
	kx_kind_api_version(o->k, av, avn);
	kx_time_format(time(NULL), now, nown);
	w->kind = o->k->kind;
	w->api_version = av;
	w->manager = o->manager;
	w->subresource = o->sub;
	w->now = now;
}

jv own_apply(struct op *o, jv live, st_err *e)
{
	struct kx_ssa_who who;
	char av[128], now[40], name[256], ns[256];
	kx_err ke = KX_ERR_INIT;
	jv conflicts, out;

	if (!jstr(o->body, "metadata.name", name, sizeof name, NULL) || strcmp(name, o->name)) {
		jv_free(live);
		return st_fail(e, 400, "BadRequest",
			       "the name of the object (%s) does not match the name on the URL (%s)", name, o->name),
		       jv_invalid();
	}
	if (o->k->namespaced && jstr(o->body, "metadata.namespace", ns, sizeof ns, NULL) && ns[0] &&
	    strcmp(ns, o->ns)) {
		jv_free(live);
		return st_fail(e, 400, "BadRequest",
			       "the namespace of the object (%s) does not match the namespace on the request (%s)",
			       ns, o->ns),
		       jv_invalid();
	}
	who_of(o, &who, av, sizeof av, now, sizeof now);
	who.subresource = "";
	out = kx_ssa_apply(live, jv_copy(o->body), &who, o->force, &conflicts, &ke);
	if (jv_is_valid(out))
		return out;
	if (jv_get_kind(conflicts) != JV_KIND_ARRAY) {
		jv_free(conflicts);
		st_fail(e, 400, "BadRequest", "%s", ke.msg);
		return jv_invalid();
	}
	st_fail(e, 409, "Conflict", "%s", ke.msg);
	jv causes = jv_array();
	jv_array_foreach(conflicts, i, c)
	{
		char m[600], f[1024], msg[700];
		snprintf(msg, sizeof msg, "conflict with %s", jstr(c, "manager", m, sizeof m, ""));
		jv one = jv_object_set(jv_object(), jv_string("reason"), jv_string("FieldManagerConflict"));
		one = jv_object_set(one, jv_string("message"), jv_string(msg));
		one = jv_object_set(one, jv_string("field"), jv_string(jstr(c, "field", f, sizeof f, "")));
		causes = jv_array_append(causes, one);
		jv_free(c);
	}
	jv_free(conflicts);
	jv_free(o->causes);
	o->causes = causes;
	return jv_invalid();
}

jv own_apply_create(struct op *o, jv obj, st_err *e)
{
	obj = obj_defaults(o->k, obj, 1);
	if (!*o->k->group && !strcmp(o->k->kind, "Pod")) {
		jv st = kx_jv_get(jv_copy(obj), "status");
		if (jv_get_kind(st) == JV_KIND_NULL) {
			jv spec = kx_jv_get(jv_copy(obj), "spec");
			obj = kx_jv_set(obj, "status.phase", jv_string("Pending"));
			obj = kx_jv_set(obj, "status.qosClass", jv_string(qos_class(spec)));
			jv_free(spec);
		}
		jv_free(st);
	} else if (!*o->k->group && !strcmp(o->k->kind, "Namespace")) {
		jv st = kx_jv_get(jv_copy(obj), "status.phase");
		if (jv_get_kind(st) == JV_KIND_NULL)
			obj = kx_jv_set(obj, "status.phase", jv_string("Active"));
		jv_free(st);
	}
	if (obj_validate(o->k, obj, e) < 0) {
		jv_free(obj);
		return jv_invalid();
	}
	return obj;
}

jv own_update(const struct op *o, jv old, jv upd)
{
	struct kx_ssa_who who;
	char av[128], now[40];

	if (!o->manager[0] || jv_get_kind(upd) != JV_KIND_OBJECT) {
		jv_free(old);
		return upd;
	}
	who_of(o, &who, av, sizeof av, now, sizeof now);
	if (!strcmp(o->sub, "finalize"))
		who.subresource = "";
	return kx_ssa_update(old, upd, &who);
}
