/* objects.c: the rules for objects, as pure functions on jv.
 *
 * Kubernetes' defaults that controllers rely on, validation with
 * Kubernetes' own wording, and the metadata rules of update (what a client
 * may not change, when generation moves). No I/O here: ops.c runs these
 * inside the store's transactions, and the unit tests call them directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "objects.h"
#include "print.h"
#include "selector.h"
#include "validate.h"

int st_fail(st_err *e, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->reason = reason;
	e->field[0] = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

const char *qualified(const kx_kind *k, char *buf, size_t n)
{
	return kx_kind_qualified(k, buf, n);
}

jv st_status(const st_err *e, const kx_kind *k, const char *name)
{
	jv s = jv_object(), d = jv_object();

	s = jv_object_set(s, jv_string("kind"), jv_string("Status"));
	s = jv_object_set(s, jv_string("apiVersion"), jv_string("v1"));
	s = jv_object_set(s, jv_string("metadata"), jv_object());
	s = jv_object_set(s, jv_string("status"), jv_string(e->code < 400 ? "Success" : "Failure"));
	s = jv_object_set(s, jv_string("message"), jv_string(e->msg));
	s = jv_object_set(s, jv_string("reason"), jv_string(e->reason ? e->reason : ""));
	if (name && *name)
		d = jv_object_set(d, jv_string("name"), jv_string(name));
	if (k) {
		if (*k->group)
			d = jv_object_set(d, jv_string("group"), jv_string(k->group));
		d = jv_object_set(d, jv_string("kind"),
				  jv_string(e->code == 422 ? k->kind : k->resource));
	}
	if (e->field[0]) {
		jv c = jv_object_set(jv_object(), jv_string("reason"), jv_string("FieldValueInvalid"));
		const char *m = strstr(e->msg, e->field);
		c = jv_object_set(c, jv_string("message"), jv_string(m ? m + strlen(e->field) + 2 : e->msg));
		c = jv_object_set(c, jv_string("field"), jv_string(e->field));
		d = jv_object_set(d, jv_string("causes"), jv_array_append(jv_array(), c));
	}
	if (jv_object_length(jv_copy(d)) > 0)
		s = jv_object_set(s, jv_string("details"), d);
	else
		jv_free(d);
	s = jv_object_set(s, jv_string("code"), jv_number(e->code));
	return s;
}

/* 422 for field, with Kubernetes' "Kind "name" is invalid: field: ..." */
int invalid(st_err *e, const kx_kind *k, const char *name, const char *field, const char *fmt, ...)
{
	char detail[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	st_fail(e, 422, "Invalid", "%s \"%s\" is invalid: %s: %s", k->kind, name ? name : "", field,
		detail);
	snprintf(e->field, sizeof e->field, "%s", field);
	return -1;
}

/* ---- defaults ------------------------------------------------------------ */

static jv def(jv o, const char *path, jv val)
{
	jv cur = kx_jv_get(jv_copy(o), path);

	if (jv_get_kind(cur) == JV_KIND_NULL)
		o = kx_jv_set(o, path, val);
	else
		jv_free(val);
	jv_free(cur);
	return o;
}

static jv map_array(jv o, const char *path, jv (*fn)(jv))
{
	jv a = kx_jv_get(jv_copy(o), path);

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		jv_free(a);
		return o;
	}
	jv out = jv_array();
	jv_array_foreach(a, i, item)
	{
		out = jv_array_append(out, jv_get_kind(item) == JV_KIND_OBJECT ? fn(item) : item);
	}
	jv_free(a);
	return kx_jv_set(o, path, out);
}

static jv port_defaults(jv p)
{
	return def(p, "protocol", jv_string("TCP"));
}

static jv probe_defaults(jv c, const char *probe)
{
	char path[64];
	jv p = kx_jv_get(jv_copy(c), probe);

	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		jv_free(p);
		return c;
	}
	jv_free(p);
	snprintf(path, sizeof path, "%s.timeoutSeconds", probe);
	c = def(c, path, jv_number(1));
	snprintf(path, sizeof path, "%s.periodSeconds", probe);
	c = def(c, path, jv_number(10));
	snprintf(path, sizeof path, "%s.successThreshold", probe);
	c = def(c, path, jv_number(1));
	snprintf(path, sizeof path, "%s.failureThreshold", probe);
	return def(c, path, jv_number(3));
}

/* Always for ":latest" or no tag, else IfNotPresent, as Kubernetes does. */
const char *pull_policy(const char *image)
{
	const char *slash = strrchr(image, '/'), *name = slash ? slash + 1 : image;
	const char *colon = strchr(name, ':');

	if (strchr(image, '@'))
		return "IfNotPresent";
	if (!colon || !strcmp(colon, ":latest"))
		return "Always";
	return "IfNotPresent";
}

static jv container_defaults(jv c)
{
	char img[512];

	jstr(c, "image", img, sizeof img, "");
	if (img[0])
		c = def(c, "imagePullPolicy", jv_string(pull_policy(img)));
	c = def(c, "terminationMessagePath", jv_string("/dev/termination-log"));
	c = def(c, "terminationMessagePolicy", jv_string("File"));
	c = def(c, "resources", jv_object());
	c = map_array(c, "ports", port_defaults);
	c = probe_defaults(c, "livenessProbe");
	c = probe_defaults(c, "readinessProbe");
	return probe_defaults(c, "startupProbe");
}

static jv pod_spec_defaults(jv spec)
{
	spec = def(spec, "restartPolicy", jv_string("Always"));
	spec = def(spec, "dnsPolicy", jv_string("ClusterFirst"));
	spec = def(spec, "terminationGracePeriodSeconds", jv_number(30));
	spec = def(spec, "schedulerName", jv_string("default-scheduler"));
	spec = def(spec, "securityContext", jv_object());
	spec = map_array(spec, "containers", container_defaults);
	return map_array(spec, "initContainers", container_defaults);
}

static jv template_defaults(jv o)
{
	jv spec = kx_jv_get(jv_copy(o), "spec.template.spec");

	if (jv_get_kind(spec) != JV_KIND_OBJECT) {
		jv_free(spec);
		return o;
	}
	return kx_jv_set(o, "spec.template.spec", pod_spec_defaults(spec));
}

/* BestEffort, Burstable or Guaranteed from the containers' resources. */
const char *qos_class(jv spec)
{
	jv cs = kx_jv_get(jv_copy(spec), "containers");
	int any = 0, guaranteed = 1;

	if (jv_get_kind(cs) != JV_KIND_ARRAY) {
		jv_free(cs);
		return "BestEffort";
	}

	jv_array_foreach(cs, i, c)
	{
		jv req = kx_jv_get(jv_copy(c), "resources.requests");
		jv lim = kx_jv_get(jv_copy(c), "resources.limits");
		int nreq = jv_get_kind(req) == JV_KIND_OBJECT ? jv_object_length(jv_copy(req)) : 0;
		int nlim = jv_get_kind(lim) == JV_KIND_OBJECT ? jv_object_length(jv_copy(lim)) : 0;
		if (nreq || nlim)
			any = 1;
		const char *res[] = {"cpu", "memory"};
		for (int r = 0; r < 2; r++) {
			jv l = nlim ? jv_object_get(jv_copy(lim), jv_string(res[r])) : jv_invalid();
			jv q = nreq ? jv_object_get(jv_copy(req), jv_string(res[r])) : jv_invalid();
			if (!jv_is_valid(l))
				guaranteed = 0;
			else if (jv_is_valid(q) && !jv_equal(jv_copy(l), jv_copy(q)))
				guaranteed = 0;
			jv_free(l);
			jv_free(q);
		}
		jv_free(req);
		jv_free(lim);
		jv_free(c);
	}
	jv_free(cs);
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(kx_buf *b, const unsigned char *s, size_t n, int url)
{
	const char *tab = b64;
	char urltab[65];

	if (url) {
		memcpy(urltab, b64, 65);
		urltab[62] = '-';
		urltab[63] = '_';
		tab = urltab;
	}
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
		kx_buf_addc(b, tab[v >> 18 & 63]);
		kx_buf_addc(b, tab[v >> 12 & 63]);
		if (i + 1 < n)
			kx_buf_addc(b, tab[v >> 6 & 63]);
		else if (!url)
			kx_buf_addc(b, '=');
		if (i + 2 < n)
			kx_buf_addc(b, tab[v & 63]);
		else if (!url)
			kx_buf_addc(b, '=');
	}
	if (!b->p)
		kx_buf_adds(b, "");
}

int base64_decode(kx_buf *b, const char *s)
{
	unsigned v = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		const char *p = strchr(b64, *s);
		int x = *s == '-' ? 62 : *s == '_' ? 63 : p && *s ? (int)(p - b64) : -1;
		if (x < 0)
			return -1;
		v = v << 6 | x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kx_buf_addc(b, (char)(v >> bits & 0xff));
		}
	}
	if (!b->p)
		kx_buf_adds(b, "");
	return 0;
}

jv obj_defaults(const kx_kind *k, jv o, int top)
{
	const char *kind = k->kind;

	if (*k->group == 0 && !strcmp(kind, "Pod")) {
		jv spec = kx_jv_get(jv_copy(o), "spec");
		if (jv_get_kind(spec) == JV_KIND_OBJECT) {
			spec = pod_spec_defaults(spec);
			spec = def(spec, "serviceAccountName", jv_string("default"));
			spec = def(spec, "priority", jv_number(0));
			spec = def(spec, "enableServiceLinks", jv_true());
			o = kx_jv_set(o, "spec", spec);
		} else {
			jv_free(spec);
		}
	} else if (!strcmp(kind, "Deployment")) {
		o = def(o, "spec.replicas", jv_number(1));
		o = def(o, "spec.strategy.type", jv_string("RollingUpdate"));
		char t[32];
		jstr(o, "spec.strategy.type", t, sizeof t, "");
		if (!strcmp(t, "RollingUpdate")) {
			o = def(o, "spec.strategy.rollingUpdate.maxUnavailable", jv_string("25%"));
			o = def(o, "spec.strategy.rollingUpdate.maxSurge", jv_string("25%"));
		}
		o = def(o, "spec.revisionHistoryLimit", jv_number(10));
		o = def(o, "spec.progressDeadlineSeconds", jv_number(600));
		o = template_defaults(o);
	} else if (!strcmp(kind, "ReplicaSet")) {
		o = def(o, "spec.replicas", jv_number(1));
		o = template_defaults(o);
	} else if (!strcmp(kind, "ReplicationController")) {
		jv labels = kx_jv_get(jv_copy(o), "spec.template.metadata.labels");
		o = def(o, "spec.replicas", jv_number(1));
		if (jv_get_kind(labels) == JV_KIND_OBJECT) {
			o = def(o, "spec.selector", jv_copy(labels));
			o = def(o, "metadata.labels", jv_copy(labels));
		}
		jv_free(labels);
		o = template_defaults(o);
	} else if (!strcmp(kind, "Service")) {
		char t[32];
		o = def(o, "spec.type", jv_string("ClusterIP"));
		o = def(o, "spec.sessionAffinity", jv_string("None"));
		jstr(o, "spec.type", t, sizeof t, "");
		if (strcmp(t, "ExternalName")) {
			o = def(o, "spec.ipFamilies", jv_array_append(jv_array(), jv_string("IPv4")));
			o = def(o, "spec.ipFamilyPolicy", jv_string("SingleStack"));
			o = def(o, "spec.internalTrafficPolicy", jv_string("Cluster"));
		}
		if (!strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer"))
			o = def(o, "spec.externalTrafficPolicy", jv_string("Cluster"));
		jv ports = kx_jv_get(jv_copy(o), "spec.ports");
		if (jv_get_kind(ports) == JV_KIND_ARRAY) {
			jv out = jv_array();
			jv_array_foreach(ports, i, p)
			{
				if (jv_get_kind(p) == JV_KIND_OBJECT) {
					p = def(p, "protocol", jv_string("TCP"));
					p = def(p, "targetPort", kx_jv_get(jv_copy(p), "port"));
				}
				out = jv_array_append(out, p);
			}
			o = kx_jv_set(o, "spec.ports", out);
		}
		jv_free(ports);
	} else if (!strcmp(kind, "Namespace")) {
		char name[256];
		o = def(o, "spec.finalizers", jv_array_append(jv_array(), jv_string("kubernetes")));
		jstr(o, "metadata.name", name, sizeof name, "");
		if (name[0]) {
			jv labels = kx_jv_get(jv_copy(o), "metadata.labels");
			if (jv_get_kind(labels) != JV_KIND_OBJECT) {
				jv_free(labels);
				labels = jv_object();
			}
			labels = jv_object_set(labels, jv_string("kubernetes.io/metadata.name"), jv_string(name));
			o = kx_jv_set(o, "metadata.labels", labels);
		}
	} else if (!strcmp(kind, "Secret")) {
		jv sd = kx_jv_get(jv_copy(o), "stringData");
		o = def(o, "type", jv_string("Opaque"));
		if (jv_get_kind(sd) == JV_KIND_OBJECT) {
			jv data = kx_jv_get(jv_copy(o), "data");
			if (jv_get_kind(data) != JV_KIND_OBJECT) {
				jv_free(data);
				data = jv_object();
			}
			jv_object_foreach(sd, key, val)
			{
				if (jv_get_kind(val) == JV_KIND_STRING) {
					kx_buf b = KX_BUF_INIT;
					base64_encode(&b, (const unsigned char *)jv_string_value(val),
						      jv_string_length_bytes(jv_copy(val)), 0);
					data = jv_object_set(data, key, jv_string(kx_buf_str(&b)));
					kx_buf_free(&b);
				} else {
					jv_free(key);
				}
				jv_free(val);
			}
			o = jv_object_set(o, jv_string("data"), data);
			o = jv_object_delete(o, jv_string("stringData"));
		}
		jv_free(sd);
	} else if (!strcmp(kind, "Endpoints")) {
		jv subsets = kx_jv_get(jv_copy(o), "subsets");
		if (jv_get_kind(subsets) == JV_KIND_ARRAY) {
			jv out = jv_array();
			jv_array_foreach(subsets, i, s)
			{
				out = jv_array_append(out, jv_get_kind(s) == JV_KIND_OBJECT
								   ? map_array(s, "ports", port_defaults)
								   : s);
			}
			o = jv_object_set(o, jv_string("subsets"), out);
		}
		jv_free(subsets);
	} else if (!strcmp(kind, "EndpointSlice")) {
		o = map_array(o, "ports", port_defaults);
	}
	(void)top;
	return o;
}

/* ---- validation ------------------------------------------------------------ */

static int validate_containers(const kx_kind *k, const char *name, jv spec, const char *prefix,
			       st_err *e)
{
	char field[160], buf[512];
	jv cs = kx_jv_get(jv_copy(spec), "containers");
	int rc = 0, n = jv_get_kind(cs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(cs)) : 0;

	if (n == 0) {
		jv_free(cs);
		snprintf(field, sizeof field, "%scontainers", prefix);
		return invalid(e, k, name, field, "Required value");
	}
	for (int i = 0; i < n && rc == 0; i++) {
		jv c = jv_array_get(jv_copy(cs), i);
		if (!jstr(c, "name", buf, sizeof buf, NULL) || !buf[0]) {
			snprintf(field, sizeof field, "%scontainers[%d].name", prefix, i);
			rc = invalid(e, k, name, field, "Required value");
		} else if (kx_validate_dns1123_label(buf)) {
			snprintf(field, sizeof field, "%scontainers[%d].name", prefix, i);
			rc = invalid(e, k, name, field, "Invalid value: \"%s\": %s", buf,
				     kx_validate_dns1123_label(buf));
		} else if (!jstr(c, "image", buf, sizeof buf, NULL) || !buf[0]) {
			snprintf(field, sizeof field, "%scontainers[%d].image", prefix, i);
			rc = invalid(e, k, name, field, "Required value");
		}
		jv_free(c);
	}
	jv_free(cs);
	return rc;
}

static int validate_replicas(const kx_kind *k, const char *name, jv o, st_err *e)
{
	jv r = kx_jv_get(jv_copy(o), "spec.replicas");
	int rc = 0;

	if (jv_get_kind(r) != JV_KIND_NULL &&
	    (jv_get_kind(r) != JV_KIND_NUMBER || jv_number_value(r) < 0 ||
	     jv_number_value(r) != (double)(int64_t)jv_number_value(r))) {
		char *s = kx_json_dump(jv_copy(r), 0);
		rc = invalid(e, k, name, "spec.replicas", "Invalid value: %s: must be greater than or equal to 0", s);
		free(s);
	}
	jv_free(r);
	return rc;
}

static int validate_selector(const kx_kind *k, const char *name, jv o, st_err *e)
{
	jv sel = kx_jv_get(jv_copy(o), "spec.selector");
	jv labels = kx_jv_get(jv_copy(o), "spec.template.metadata.labels");
	kx_err ke = KX_ERR_INIT;
	kx_selector *s;
	int rc = 0;

	if (jv_get_kind(sel) != JV_KIND_OBJECT) {
		rc = invalid(e, k, name, "spec.selector", "Required value");
		goto out;
	}
	if (!strcmp(k->kind, "ReplicationController"))
		s = kx_selector_from_map(jv_copy(sel), &ke);
	else
		s = kx_selector_from_jv(jv_copy(sel), &ke);
	if (!s) {
		rc = invalid(e, k, name, "spec.selector", "Invalid value: %s", ke.msg);
		goto out;
	}
	if (kx_selector_empty(s)) {
		rc = invalid(e, k, name, "spec.selector", "Invalid value: {}: empty selector is invalid for %s",
			     k->singular);
	} else if (!kx_selector_match(s, labels)) {
		char *ls = kx_json_dump(jv_copy(labels), 0);
		rc = invalid(e, k, name, "spec.template.metadata.labels",
			     "Invalid value: %s: `selector` does not match template `labels`", ls);
		free(ls);
	}
	kx_selector_free(s);
out:
	jv_free(sel);
	jv_free(labels);
	return rc;
}

static int validate_service(const kx_kind *k, const char *name, jv o, st_err *e)
{
	char type[32], cip[64], field[64];
	jv ports = kx_jv_get(jv_copy(o), "spec.ports");
	int rc = 0, n = jv_get_kind(ports) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ports)) : 0;

	jstr(o, "spec.type", type, sizeof type, "ClusterIP");
	jstr(o, "spec.clusterIP", cip, sizeof cip, "");
	if (strcmp(type, "ClusterIP") && strcmp(type, "NodePort") && strcmp(type, "LoadBalancer") &&
	    strcmp(type, "ExternalName"))
		rc = invalid(e, k, name, "spec.type",
			     "Unsupported value: \"%s\": supported values: \"ClusterIP\", \"ExternalName\", "
			     "\"LoadBalancer\", \"NodePort\"", type);
	else if (n == 0 && strcmp(cip, "None") && strcmp(type, "ExternalName"))
		rc = invalid(e, k, name, "spec.ports", "Required value");
	for (int i = 0; i < n && rc == 0; i++) {
		jv p = jv_array_get(jv_copy(ports), i);
		int64_t port = kx_jv_int(p, "port", 0);
		jv_free(p);
		if (port < 1 || port > 65535) {
			snprintf(field, sizeof field, "spec.ports[%d].port", i);
			rc = invalid(e, k, name, field, "Invalid value: %lld: must be between 1 and 65535, inclusive",
				     (long long)port);
		}
	}
	jv_free(ports);
	return rc;
}

/* labels and annotations: objects of strings; finalizers: an array of strings. */
static int validate_meta_types(const kx_kind *k, const char *name, jv o, st_err *e)
{
	static const char *const maps[] = {"metadata.labels", "metadata.annotations", NULL};
	int rc = 0;

	for (int i = 0; maps[i] && rc == 0; i++) {
		jv m = kx_jv_get(jv_copy(o), maps[i]);
		int kind = jv_get_kind(m);
		if (kind == JV_KIND_OBJECT) {
			jv_object_foreach(m, key, val)
			{
				if (rc == 0 && jv_get_kind(val) != JV_KIND_STRING)
					rc = invalid(e, k, name, maps[i], "Invalid value: the value of \"%s\" must be a string",
						     jv_string_value(key));
				jv_free(key);
				jv_free(val);
			}
		} else if (kind != JV_KIND_NULL) {
			rc = invalid(e, k, name, maps[i], "Invalid value: must be an object of strings, not %s",
				     jv_kind_name(kind));
		}
		jv_free(m);
	}
	jv f = kx_jv_get(jv_copy(o), "metadata.finalizers");
	if (rc == 0 && jv_get_kind(f) == JV_KIND_ARRAY) {
		jv_array_foreach(f, i, x)
		{
			if (rc == 0 && jv_get_kind(x) != JV_KIND_STRING)
				rc = invalid(e, k, name, "metadata.finalizers", "Invalid value: each finalizer must be a string");
			jv_free(x);
		}
	} else if (rc == 0 && jv_get_kind(f) != JV_KIND_NULL) {
		rc = invalid(e, k, name, "metadata.finalizers", "Invalid value: must be an array of strings");
	}
	jv_free(f);
	return rc;
}

int obj_validate(const kx_kind *k, jv o, st_err *e)
{
	char name[512], gen[512];
	const char *why;
	jv meta = kx_jv_get(jv_copy(o), "metadata");
	int isns = !strcmp(k->kind, "Namespace") && !*k->group;
	int issvc = !strcmp(k->kind, "Service") && !*k->group;

	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		return invalid(e, k, "", "metadata.name", "Required value: name or generateName is required");
	}
	jv_free(meta);
	jstr(o, "metadata.name", name, sizeof name, "");
	jstr(o, "metadata.generateName", gen, sizeof gen, "");
	if (!name[0] && !gen[0])
		return invalid(e, k, "", "metadata.name", "Required value: name or generateName is required");
	if (name[0]) {
		why = isns ? kx_validate_dns1123_label(name)
		      : issvc ? kx_validate_dns1035_label(name)
			      : kx_validate_dns1123_subdomain(name);
		if (why)
			return invalid(e, k, name, "metadata.name", "Invalid value: \"%s\": %s", name, why);
	} else {
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%sx", gen);
		why = isns ? kx_validate_dns1123_label(tmp)
		      : issvc ? kx_validate_dns1035_label(tmp)
			      : kx_validate_dns1123_subdomain(tmp);
		if (why)
			return invalid(e, k, gen, "metadata.generateName", "Invalid value: \"%s\": %s", gen, why);
	}
	jstr(o, "metadata.name", name, sizeof name, gen);
	if (validate_meta_types(k, name, o, e) < 0)
		return -1;
	if (*k->group == 0 && !strcmp(k->kind, "Pod")) {
		jv spec = kx_jv_get(jv_copy(o), "spec");
		int rc = validate_containers(k, name, spec, "spec.", e);
		jv_free(spec);
		return rc;
	}
	if (!strcmp(k->kind, "Deployment") || !strcmp(k->kind, "ReplicaSet") ||
	    !strcmp(k->kind, "ReplicationController")) {
		jv spec = kx_jv_get(jv_copy(o), "spec.template.spec");
		int rc = validate_replicas(k, name, o, e);
		if (rc == 0)
			rc = validate_selector(k, name, o, e);
		if (rc == 0)
			rc = validate_containers(k, name, spec, "spec.template.spec.", e);
		jv_free(spec);
		return rc;
	}
	if (issvc)
		return validate_service(k, name, o, e);
	return 0;
}

/* ---- the metadata rules of update --------------------------------------- */

int kind_has_status(const kx_kind *k)
{
	const char *s = k->subresources;
	return strstr(s, "status") != NULL;
}

int kind_has_generation(const kx_kind *k)
{
	static const char *const kinds[] = {"Pod", "ReplicationController", "Service", "Node",
					    "Namespace", "ResourceQuota", "Deployment", "ReplicaSet",
					    "Lease", NULL};
	for (int i = 0; kinds[i]; i++)
		if (!strcmp(k->kind, kinds[i]))
			return 1;
	return 0;
}

static jv copy_field(jv to, jv from, const char *path)
{
	jv v = kx_jv_get(jv_copy(from), path);

	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return kx_jv_del(to, path);
	}
	return kx_jv_set(to, path, v);
}

jv obj_for_update(const kx_kind *k, jv old, jv upd, int sub_status)
{
	static const char *const keep[] = {"metadata.uid", "metadata.creationTimestamp",
					   "metadata.deletionTimestamp",
					   "metadata.deletionGracePeriodSeconds", "metadata.generation",
					   "metadata.namespace", "metadata.name", NULL};
	jv out;

	if (sub_status) {
		/* only .status changes */
		out = copy_field(jv_copy(old), upd, "status");
		jv_free(upd);
		jv_free(old);
		return out;
	}
	out = upd;
	for (int i = 0; keep[i]; i++)
		out = copy_field(out, old, keep[i]);
	if (kind_has_status(k))
		out = copy_field(out, old, "status");
	if (kind_has_generation(k)) {
		jv a = kx_jv_get(jv_copy(old), "spec"), b = kx_jv_get(jv_copy(out), "spec");
		int64_t g = kx_jv_int(old, "metadata.generation", 1);
		if (!kx_jv_equal(a, b))
			g++;
		out = kx_jv_set(out, "metadata.generation", jv_number((double)g));
	}
	jv_free(old);
	return out;
}
