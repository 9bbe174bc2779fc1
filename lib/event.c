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

/* Same involvedObject, type, reason and source as ev: the message aside. */
static int similar(jv existing, jv ref, const kx_event_info *ev)
{
	return same_str(existing, "involvedObject.kind", ref, "kind") &&
	       same_str(existing, "involvedObject.namespace", ref, "namespace") &&
	       same_str(existing, "involvedObject.name", ref, "name") &&
	       same_str(existing, "involvedObject.uid", ref, "uid") &&
	       same_cstr(existing, "type", ev->type ? ev->type : "Normal") &&
	       same_cstr(existing, "reason", ev->reason) &&
	       same_cstr(existing, "source.component", ev->component);
}

jv kx_event_decide(jv existing, jv ref, const kx_event_info *ev, const struct timespec *now)
{
	jv exact = jv_null(), combined = jv_null(), msgs = jv_object(), out;
	const char *msg = ev->message ? ev->message : "";
	size_t plen = strlen(KX_EVENT_COMBINED);
	char m[4096], ts[40];

	if (jv_get_kind(existing) == JV_KIND_ARRAY) {
		jv_array_foreach(existing, i, it) {
			time_t last = 0;
			if (jv_get_kind(it) != JV_KIND_OBJECT || !similar(it, ref, ev)) {
				jv_free(it);
				continue;
			}
			sget(it, "lastTimestamp", ts, sizeof ts, "");
			int recent = kx_time_parse(ts, &last) == 0 &&
				     now->tv_sec - last <= KX_EVENT_AGGREGATE_SECONDS;
			sget(it, "message", m, sizeof m, "");
			if (!strncmp(m, KX_EVENT_COMBINED, plen)) {
				if (recent && jv_get_kind(combined) == JV_KIND_NULL) {
					jv_free(combined);
					combined = it;
				} else {
					jv_free(it);
				}
				continue;
			}
			if (recent)
				msgs = jv_object_set(msgs, jv_string(m), jv_true());
			if (!strcmp(m, msg) && jv_get_kind(exact) == JV_KIND_NULL) {
				jv_free(exact);
				exact = it;
			} else {
				jv_free(it);
			}
		}
	}
	msgs = jv_object_set(msgs, jv_string(msg), jv_true());
	/* a recent combined Event stands for the messages folded into it */
	if (jv_get_kind(combined) == JV_KIND_OBJECT ||
	    jv_object_length(jv_copy(msgs)) >= KX_EVENT_AGGREGATE_MAX) {
		jv text = jv_string_fmt("%s%s", KX_EVENT_COMBINED, msg);
		if (jv_get_kind(combined) == JV_KIND_OBJECT) {
			out = jv_object_set(kx_event_bump(combined, now), jv_string("message"), text);
		} else {
			kx_event_info agg = *ev;
			agg.message = jv_string_value(text);
			out = kx_event_new(jv_copy(ref), &agg, now);
			jv_free(text);
			jv_free(combined);
		}
		jv_free(exact);
	} else if (jv_get_kind(exact) == JV_KIND_OBJECT) {
		out = kx_event_bump(exact, now);
		jv_free(combined);
	} else {
		out = kx_event_new(jv_copy(ref), ev, now);
		jv_free(exact);
		jv_free(combined);
	}
	jv_free(msgs);
	return out;
}

/* The Events in the store about ref's object (an array), jv_invalid() on
 * error. */
static jv fetch_about(kx_client *c, jv ref, kx_err *e)
{
	char ns[256], name[256], kind[128];
	kx_buf path = KX_BUF_INIT, sel = KX_BUF_INIT;
	jv list, items;

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
	if (jv_get_kind(items) != JV_KIND_ARRAY) {
		jv_free(items);
		return jv_array();
	}
	return items;
}

/* The cache's key for the object an Event or ObjectReference is about. */
static jv cache_key(jv v, const char *prefix)
{
	char kind[128], ns[256], name[256], p[64];

	snprintf(p, sizeof p, "%skind", prefix);
	sget(v, p, kind, sizeof kind, "");
	snprintf(p, sizeof p, "%snamespace", prefix);
	sget(v, p, ns, sizeof ns, "");
	snprintf(p, sizeof p, "%sname", prefix);
	sget(v, p, name, sizeof name, "");
	return jv_string_fmt("%s/%s/%s", kind, ns, name);
}

void kx_event_cache_free(kx_event_cache *cache)
{
	if (cache && cache->loaded)
		jv_free(cache->by_object);
	if (cache)
		cache->loaded = 0;
}

static int cache_load(kx_client *c, kx_event_cache *cache, kx_err *e)
{
	jv list = kx_client_get(c, "/api/v1/events", e), items, by = jv_object();

	if (!jv_is_valid(list)) {
		jv_free(by);
		return kx_err_wrap(e, "list events");
	}
	items = kx_jv_get(list, "items");
	if (jv_get_kind(items) == JV_KIND_ARRAY) {
		jv_array_foreach(items, i, it) {
			jv key = cache_key(it, "involvedObject.");
			jv have = jv_object_get(jv_copy(by), jv_copy(key));
			if (!jv_is_valid(have))
				have = jv_array();
			by = jv_object_delete(by, jv_copy(key));
			by = jv_object_set(by, key, jv_array_append(have, it));
		}
	}
	jv_free(items);
	cache->by_object = by;
	cache->loaded = 1;
	return 0;
}

/* Put the Event the store answered (consumed) in the cache, in place of
 * the one of the same name. */
static void cache_put(kx_event_cache *cache, jv ev)
{
	jv key = cache_key(ev, "involvedObject."), have;
	char name[320], b[320];
	int pos = -1;

	have = jv_object_get(jv_copy(cache->by_object), jv_copy(key));
	if (!jv_is_valid(have))
		have = jv_array();
	sget(ev, "metadata.name", name, sizeof name, "");
	jv_array_foreach(have, i, it) {
		if (pos < 0 && !strcmp(sget(it, "metadata.name", b, sizeof b, ""), name))
			pos = i;
		jv_free(it);
	}
	cache->by_object = jv_object_delete(cache->by_object, jv_copy(key));
	have = pos >= 0 ? jv_array_set(have, pos, ev) : jv_array_append(have, ev);
	cache->by_object = jv_object_set(cache->by_object, key, have);
}

int kx_event_record_cached(kx_client *c, kx_event_cache *cache, jv obj, const kx_event_info *ev,
			   const struct timespec *now, kx_err *e)
{
	jv ref = kx_event_ref(obj);
	char ns[256], name[320];

	if (cache && !cache->loaded && cache_load(c, cache, e) < 0) {
		jv_free(ref);
		return kx_err_wrap(e, "record event %s", ev->reason ? ev->reason : "");
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		jv have, out, res;
		kx_buf path = KX_BUF_INIT;

		/* a retry after a conflict reads afresh */
		if (cache && !attempt) {
			have = jv_object_get(jv_copy(cache->by_object), cache_key(ref, ""));
			if (!jv_is_valid(have))
				have = jv_array();
		} else {
			have = fetch_about(c, ref, e);
		}
		if (!jv_is_valid(have)) {
			jv_free(ref);
			return kx_err_wrap(e, "record event %s", ev->reason ? ev->reason : "");
		}
		out = kx_event_decide(have, ref, ev, now);
		jv_free(have);
		sget(out, "metadata.namespace", ns, sizeof ns, "default");
		if (*sget(out, "metadata.resourceVersion", name, sizeof name, "")) {
			sget(out, "metadata.name", name, sizeof name, "");
			kx_buf_addf(&path, "/api/v1/namespaces/%s/events/%s", ns, name);
			res = kx_client_json(c, "PUT", kx_buf_str(&path), out, NULL, e);
		} else {
			kx_buf_addf(&path, "/api/v1/namespaces/%s/events", ns);
			res = kx_client_json(c, "POST", kx_buf_str(&path), out, NULL, e);
		}
		kx_buf_free(&path);
		if (jv_is_valid(res)) {
			if (cache && jv_get_kind(res) == JV_KIND_OBJECT)
				cache_put(cache, res);
			else
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

int kx_event_record(kx_client *c, jv obj, const kx_event_info *ev, const struct timespec *now,
		    kx_err *e)
{
	return kx_event_record_cached(c, NULL, obj, ev, now, e);
}
