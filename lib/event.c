/* event.c: Events with count aggregation (see event.h). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "event.h"
#include "http.h"
#include "json.h"

/* kx_jv_str that always fills buf (with def when absent). */
static const char *sget(jv v, const char *path, char *buf, size_t n, const char *def)
{
	const char *s = kx_jv_str(v, path, buf, n, def);

	if (s && s != buf)
		snprintf(buf, n, "%s", s);
	return s;
}

static jv copy_field(jv out, jv obj, const char *from, const char *to)
{
	jv v = kx_jv_get(jv_copy(obj), from);

	if (jv_get_kind(v) == JV_KIND_STRING)
		return jv_object_set(out, jv_string(to), v);
	jv_free(v);
	return out;
}

jv kx_event_ref(jv obj)
{
	jv ref = jv_object();

	ref = copy_field(ref, obj, "kind", "kind");
	ref = copy_field(ref, obj, "metadata.namespace", "namespace");
	ref = copy_field(ref, obj, "metadata.name", "name");
	ref = copy_field(ref, obj, "metadata.uid", "uid");
	ref = copy_field(ref, obj, "apiVersion", "apiVersion");
	ref = copy_field(ref, obj, "metadata.resourceVersion", "resourceVersion");
	return ref;
}

jv kx_event_new(jv ref, const kx_event_info *ev, const struct timespec *now)
{
	static unsigned long long seq; /* events made in one nanosecond stay apart */
	char name[320], ns[256], ts[40];
	unsigned long long nanos =
		(unsigned long long)now->tv_sec * 1000000000ull + (unsigned long long)now->tv_nsec + seq++;
	jv meta, src, e;

	sget(ref, "name", name, 250, "unknown");
	snprintf(name + strlen(name), sizeof name - strlen(name), ".%llx", nanos);
	sget(ref, "namespace", ns, sizeof ns, "default");
	kx_time_format(now->tv_sec, ts, sizeof ts);

	meta = jv_object();
	meta = jv_object_set(meta, jv_string("name"), jv_string(name));
	meta = jv_object_set(meta, jv_string("namespace"), jv_string(ns));
	src = jv_object_set(jv_object(), jv_string("component"),
			    jv_string(ev->component ? ev->component : ""));
	if (ev->host && *ev->host)
		src = jv_object_set(src, jv_string("host"), jv_string(ev->host));

	e = jv_object();
	e = jv_object_set(e, jv_string("apiVersion"), jv_string("v1"));
	e = jv_object_set(e, jv_string("kind"), jv_string("Event"));
	e = jv_object_set(e, jv_string("metadata"), meta);
	e = jv_object_set(e, jv_string("involvedObject"), ref);
	e = jv_object_set(e, jv_string("reason"), jv_string(ev->reason ? ev->reason : ""));
	e = jv_object_set(e, jv_string("message"), jv_string(ev->message ? ev->message : ""));
	e = jv_object_set(e, jv_string("type"), jv_string(ev->type ? ev->type : "Normal"));
	e = jv_object_set(e, jv_string("source"), src);
	e = jv_object_set(e, jv_string("firstTimestamp"), jv_string(ts));
	e = jv_object_set(e, jv_string("lastTimestamp"), jv_string(ts));
	e = jv_object_set(e, jv_string("count"), jv_number(1));
	e = jv_object_set(e, jv_string("reportingComponent"),
			  jv_string(ev->component ? ev->component : ""));
	e = jv_object_set(e, jv_string("reportingInstance"), jv_string(ev->host ? ev->host : ""));
	return e;
}

/* Borrowed a and b: is the string at path pa in a equal to the one at pb in b
 * (both missing counts as equal)? */
static int same_str(jv a, const char *pa, jv b, const char *pb)
{
	char x[1024], y[1024];
	const char *s = sget(a, pa, x, sizeof x, "");
	const char *t = sget(b, pb, y, sizeof y, "");

	return !strcmp(s, t);
}

static int same_cstr(jv a, const char *path, const char *s)
{
	char x[4096];

	return !strcmp(sget(a, path, x, sizeof x, ""), s ? s : "");
}

int kx_event_same(jv existing, jv ref, const kx_event_info *ev)
{
	return same_str(existing, "involvedObject.kind", ref, "kind") &&
	       same_str(existing, "involvedObject.namespace", ref, "namespace") &&
	       same_str(existing, "involvedObject.name", ref, "name") &&
	       same_str(existing, "involvedObject.uid", ref, "uid") &&
	       same_cstr(existing, "type", ev->type ? ev->type : "Normal") &&
	       same_cstr(existing, "reason", ev->reason) &&
	       same_cstr(existing, "message", ev->message) &&
	       same_cstr(existing, "source.component", ev->component);
}

jv kx_event_bump(jv existing, const struct timespec *now)
{
	char ts[40];
	int64_t count = kx_jv_int(existing, "count", 1);

	kx_time_format(now->tv_sec, ts, sizeof ts);
	existing = jv_object_set(existing, jv_string("count"), jv_number((double)(count + 1)));
	return jv_object_set(existing, jv_string("lastTimestamp"), jv_string(ts));
}

/* The Event in the store matching ev about ref, or jv_null(). */
static jv find_existing(kx_client *c, jv ref, const kx_event_info *ev, kx_err *e)
{
	char ns[256], name[256], kind[128];
	kx_buf path = KX_BUF_INIT, sel = KX_BUF_INIT;
	jv list, items, found = jv_null();

	sget(ref, "namespace", ns, sizeof ns, "default");
	sget(ref, "name", name, sizeof name, "");
	sget(ref, "kind", kind, sizeof kind, "");
	kx_buf_addf(&sel, "involvedObject.name=%s,involvedObject.kind=%s", name, kind);
	kx_buf_addf(&path, "/api/v1/namespaces/%s/events?fieldSelector=", ns);
	kx_url_escape(&path, kx_buf_str(&sel));
	list = kx_client_get(c, kx_buf_str(&path), e);
	kx_buf_free(&path);
	kx_buf_free(&sel);
	if (!jv_is_valid(list))
		return list;
	items = kx_jv_get(list, "items");
	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv_array_foreach(items, i, it) {
			if (jv_get_kind(found) == JV_KIND_NULL && kx_event_same(it, ref, ev)) {
				jv_free(found);
				found = it;
			} else {
				jv_free(it);
			}
		}
	}
	jv_free(items);
	return found;
}

int kx_event_record(kx_client *c, jv obj, const kx_event_info *ev, const struct timespec *now,
		    kx_err *e)
{
	jv ref = kx_event_ref(obj);
	char ns[256], name[320];

	for (int attempt = 0; attempt < 2; attempt++) {
		jv old = find_existing(c, ref, ev, e), res;
		kx_buf path = KX_BUF_INIT;

		if (!jv_is_valid(old)) {
			jv_free(ref);
			return kx_err_wrap(e, "record event %s", ev->reason ? ev->reason : "");
		}
		if (jv_get_kind(old) == JV_KIND_NULL) {
			jv_free(old);
			jv ne = kx_event_new(jv_copy(ref), ev, now);
			sget(ne, "metadata.namespace", ns, sizeof ns, "default");
			kx_buf_addf(&path, "/api/v1/namespaces/%s/events", ns);
			res = kx_client_json(c, "POST", kx_buf_str(&path), ne, NULL, e);
		} else {
			sget(old, "metadata.namespace", ns, sizeof ns, "default");
			sget(old, "metadata.name", name, sizeof name, "");
			kx_buf_addf(&path, "/api/v1/namespaces/%s/events/%s", ns, name);
			res = kx_client_json(c, "PUT", kx_buf_str(&path), kx_event_bump(old, now),
					     NULL, e);
		}
		kx_buf_free(&path);
		if (jv_is_valid(res)) {
			jv_free(res);
			jv_free(ref);
			return 0;
		}
		if (e->http != 409)
			break;
		kx_err_clear(e);
	}
	jv_free(ref);
	if (!e->msg[0])
		kx_err_set(e, KX_EREFUSED, "conflicts, twice");
	return kx_err_wrap(e, "record event %s", ev->reason ? ev->reason : "");
}
