#include <string.h>

#include "err.h"
#include "json.h"
#include "smp.h"

/* ---- the merge keys of the served kinds -----------------------------------
 * A tiny type graph: each row says that FIELD of an object of TYPE holds
 * values of type ELEM; for lists, KEY is the merge key ("" for a list of
 * strings merged as a set; NULL for a list replaced whole). Rows for types
 * reached through plain objects (no list) have key NULL and list 0. */
struct field {
	const char *type, *field, *elem;
	int list;
	const char *key;
};

static const struct field fields[] = {
	/* roots: kinds */
	{"Pod", "metadata", "ObjectMeta", 0, NULL},
	{"Pod", "spec", "PodSpec", 0, NULL},
	{"Pod", "status", "PodStatus", 0, NULL},
	{"Deployment", "metadata", "ObjectMeta", 0, NULL},
	{"Deployment", "spec", "WorkloadSpec", 0, NULL},
	{"Deployment", "status", "WorkloadStatus", 0, NULL},
	{"ReplicaSet", "metadata", "ObjectMeta", 0, NULL},
	{"ReplicaSet", "spec", "WorkloadSpec", 0, NULL},
	{"ReplicaSet", "status", "WorkloadStatus", 0, NULL},
	{"ReplicationController", "metadata", "ObjectMeta", 0, NULL},
	{"ReplicationController", "spec", "WorkloadSpec", 0, NULL},
	{"ReplicationController", "status", "WorkloadStatus", 0, NULL},
	{"Service", "metadata", "ObjectMeta", 0, NULL},
	{"Service", "spec", "ServiceSpec", 0, NULL},
	{"Node", "metadata", "ObjectMeta", 0, NULL},
	{"Node", "spec", "NodeSpec", 0, NULL},
	{"Node", "status", "NodeStatus", 0, NULL},
	{"Namespace", "metadata", "ObjectMeta", 0, NULL},
	{"Namespace", "status", "NamespaceStatus", 0, NULL},
	{"ConfigMap", "metadata", "ObjectMeta", 0, NULL},
	{"Secret", "metadata", "ObjectMeta", 0, NULL},
	{"ServiceAccount", "metadata", "ObjectMeta", 0, NULL},
	{"ServiceAccount", "secrets", "", 1, "name"},
	{"ServiceAccount", "imagePullSecrets", "", 1, "name"},
	{"Endpoints", "metadata", "ObjectMeta", 0, NULL},
	{"EndpointSlice", "metadata", "ObjectMeta", 0, NULL},
	{"ResourceQuota", "metadata", "ObjectMeta", 0, NULL},
	{"Lease", "metadata", "ObjectMeta", 0, NULL},
	{"Event", "metadata", "ObjectMeta", 0, NULL},
	/* shared types */
	{"ObjectMeta", "finalizers", "", 1, ""},
	{"ObjectMeta", "ownerReferences", "", 1, "uid"},
	{"WorkloadSpec", "template", "PodTemplateSpec", 0, NULL},
	{"WorkloadStatus", "conditions", "", 1, "type"},
	{"PodTemplateSpec", "metadata", "ObjectMeta", 0, NULL},
	{"PodTemplateSpec", "spec", "PodSpec", 0, NULL},
	{"PodSpec", "containers", "Container", 1, "name"},
	{"PodSpec", "initContainers", "Container", 1, "name"},
	{"PodSpec", "ephemeralContainers", "Container", 1, "name"},
	{"PodSpec", "volumes", "", 1, "name"},
	{"PodSpec", "imagePullSecrets", "", 1, "name"},
	{"PodSpec", "hostAliases", "", 1, "ip"},
	{"PodSpec", "topologySpreadConstraints", "", 1, "topologyKey"},
	{"PodSpec", "resourceClaims", "", 1, "name"},
	{"PodSpec", "schedulingGates", "", 1, "name"},
	{"Container", "ports", "", 1, "containerPort"},
	{"Container", "env", "", 1, "name"},
	{"Container", "volumeMounts", "", 1, "mountPath"},
	{"Container", "volumeDevices", "", 1, "devicePath"},
	{"PodStatus", "conditions", "", 1, "type"},
	{"PodStatus", "podIPs", "", 1, "ip"},
	{"ServiceSpec", "ports", "", 1, "port"},
	{"NodeSpec", "podCIDRs", "", 1, ""},
	{"NodeStatus", "conditions", "", 1, "type"},
	{"NodeStatus", "addresses", "", 1, "type"},
	{"NamespaceStatus", "conditions", "", 1, "type"},
};

static const struct field *field_of(const char *type, const char *name)
{
	if (!type || !*type)
		return NULL;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!strcmp(fields[i].type, type) && !strcmp(fields[i].field, name))
			return &fields[i];
	return NULL;
}

int kx_smp_field(const char *type, const char *field, const char **elem, int *list,
		 const char **key)
{
	const struct field *f = field_of(type, field);

	if (!f)
		return 0;
	*elem = f->elem;
	*list = f->list;
	*key = f->key;
	return 1;
}

static jv merge_map(jv orig, jv patch, const char *type, kx_err *e);

static int is_directive(const char *k)
{
	return k[0] == '$';
}

/* The string value of obj[key], or NULL (borrowed from obj). */
static const char *directive(jv obj, const char *key, char *buf, size_t n)
{
	return kx_jv_str(obj, key, buf, n, NULL);
}

/* Find the index of the element of list whose key equals val; -1 if none. */
static int find_by_key(jv list, const char *key, jv val)
{
	int found = -1;

	jv_array_foreach(list, i, el)
	{
		if (found < 0 && jv_get_kind(el) == JV_KIND_OBJECT) {
			jv v = jv_object_get(jv_copy(el), jv_string(key));
			if (jv_equal(v, jv_copy(val)))
				found = i;
		}
		jv_free(el);
	}
	jv_free(list);
	jv_free(val);
	return found;
}

static int contains(jv list, jv val)
{
	int found = 0;

	jv_array_foreach(list, i, el)
	{
		if (!found && jv_equal(el, jv_copy(val)))
			found = 1; /* jv_equal consumed el */
		else if (found)
			jv_free(el);
	}
	jv_free(list);
	jv_free(val);
	return found;
}

/* Strip directive keys from an element we are about to insert. */
static jv strip_directives(jv v)
{
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return v;
	jv keys = jv_keys_unsorted(jv_copy(v));
	jv_array_foreach(keys, i, k)
	{
		if (is_directive(jv_string_value(k)))
			v = jv_object_delete(v, k);
		else
			jv_free(k);
	}
	jv_free(keys);
	return v;
}

/* Merge a patch list into an original list of objects by key. */
static jv merge_keyed_list(jv orig, jv patch, const char *key, const char *elem, kx_err *e)
{
	char d[32];

	if (jv_get_kind(orig) != JV_KIND_ARRAY) {
		jv_free(orig);
		orig = jv_array();
	}
	/* a {"$patch": "replace"} element replaces the list with the others */
	jv_array_foreach(patch, i, el)
	{
		int repl = jv_get_kind(el) == JV_KIND_OBJECT && directive(el, "$patch", d, sizeof d) &&
			   !strcmp(d, "replace");
		jv_free(el);
		if (repl) {
			jv out = jv_array();
			jv_free(orig);
			jv_array_foreach(patch, j, x)
			{
				if (jv_get_kind(x) == JV_KIND_OBJECT &&
				    directive(x, "$patch", d, sizeof d)) {
					jv_free(x);
					continue;
				}
				out = jv_array_append(out, strip_directives(x));
			}
			jv_free(patch);
			return out;
		}
	}
	jv_array_foreach(patch, i, el)
	{
		if (jv_get_kind(el) != JV_KIND_OBJECT) {
			jv_free(el);
			jv_free(orig);
			jv_free(patch);
			kx_err_set(e, KX_EFAIL, "strategic merge patch: list merged by \"%s\" has an element that is not an object", key);
			return jv_invalid();
		}
		jv kv = jv_object_get(jv_copy(el), jv_string(key));
		if (!jv_is_valid(kv)) {
			jv_free(kv);
			jv_free(el);
			jv_free(orig);
			jv_free(patch);
			kx_err_set(e, KX_EFAIL, "strategic merge patch: an element has no merge key \"%s\"", key);
			return jv_invalid();
		}
		int at = find_by_key(jv_copy(orig), key, kv);
		const char *p = directive(el, "$patch", d, sizeof d);
		if (p && !strcmp(p, "delete")) {
			if (at >= 0) {
				jv out = jv_array();
				jv_array_foreach(orig, j, x)
				{
					if (j != at)
						out = jv_array_append(out, x);
					else
						jv_free(x);
				}
				jv_free(orig);
				orig = out;
			}
			jv_free(el);
			continue;
		}
		if (at >= 0) {
			jv merged = merge_map(jv_array_get(jv_copy(orig), at), el, elem, e);
			if (!jv_is_valid(merged)) {
				jv_free(orig);
				jv_free(patch);
				return merged;
			}
			orig = jv_array_set(orig, at, merged);
		} else {
			jv fresh = merge_map(jv_object(), el, elem, e);
			if (!jv_is_valid(fresh)) {
				jv_free(orig);
				jv_free(patch);
				return fresh;
			}
			orig = jv_array_append(orig, fresh);
		}
	}
	jv_free(patch);
	return orig;
}

/* Union of two lists of scalars, original order first. */
static jv merge_set_list(jv orig, jv patch)
{
	if (jv_get_kind(orig) != JV_KIND_ARRAY) {
		jv_free(orig);
		orig = jv_array();
	}
	jv_array_foreach(patch, i, el)
	{
		if (!contains(jv_copy(orig), jv_copy(el)))
			orig = jv_array_append(orig, el);
		else
			jv_free(el);
	}
	jv_free(patch);
	return orig;
}

/* Reorder list as order says: listed elements first, in that order. */
static jv set_order(jv list, jv order, const char *key)
{
	jv out = jv_array(), used = jv_array();

	if (jv_get_kind(list) != JV_KIND_ARRAY || jv_get_kind(order) != JV_KIND_ARRAY) {
		jv_free(order);
		jv_free(used);
		jv_free(out);
		return list;
	}
	jv_array_foreach(order, i, o)
	{
		int at;
		if (*key && jv_get_kind(o) == JV_KIND_OBJECT)
			at = find_by_key(jv_copy(list), key, jv_object_get(o, jv_string(key)));
		else {
			at = -1;
			jv_array_foreach(list, j, x)
			{
				if (at < 0 && jv_equal(x, jv_copy(o)))
					at = j; /* jv_equal consumed x */
				else if (at >= 0)
					jv_free(x);
			}
			jv_free(o);
		}
		if (at >= 0 && !contains(jv_copy(used), jv_number(at))) {
			out = jv_array_append(out, jv_array_get(jv_copy(list), at));
			used = jv_array_append(used, jv_number(at));
		}
	}
	jv_array_foreach(list, i, x)
	{
		if (!contains(jv_copy(used), jv_number(i)))
			out = jv_array_append(out, x);
		else
			jv_free(x);
	}
	jv_free(list);
	jv_free(order);
	jv_free(used);
	return out;
}

static jv merge_map(jv orig, jv patch, const char *type, kx_err *e)
{
	char d[32];
	const char *p;

	if (jv_get_kind(patch) != JV_KIND_OBJECT) {
		jv_free(orig);
		return patch;
	}
	if (jv_get_kind(orig) != JV_KIND_OBJECT) {
		jv_free(orig);
		orig = jv_object();
	}
	p = directive(patch, "$patch", d, sizeof d);
	if (p && !strcmp(p, "replace")) {
		jv_free(orig);
		return strip_directives(patch);
	}
	if (p && !strcmp(p, "delete")) {
		jv_free(orig);
		jv_free(patch);
		return jv_null();
	}
	if (p && strcmp(p, "merge")) {
		jv_free(orig);
		jv_free(patch);
		kx_err_set(e, KX_EFAIL, "strategic merge patch: unknown $patch \"%s\"", d);
		return jv_invalid();
	}
	/* $retainKeys: drop every key of orig not listed */
	jv retain = jv_object_get(jv_copy(patch), jv_string("$retainKeys"));
	if (jv_get_kind(retain) == JV_KIND_ARRAY) {
		jv keys = jv_keys_unsorted(jv_copy(orig));
		jv_array_foreach(keys, i, k)
		{
			if (!contains(jv_copy(retain), jv_copy(k)))
				orig = jv_object_delete(orig, k);
			else
				jv_free(k);
		}
		jv_free(keys);
	}
	jv_free(retain);

	jv_object_foreach(patch, k, v)
	{
		const char *ks = jv_string_value(k);
		if (!strncmp(ks, "$deleteFromPrimitiveList/", 25)) {
			jv name = jv_string(ks + 25);
			jv list = jv_object_get(jv_copy(orig), jv_copy(name));
			if (jv_get_kind(list) == JV_KIND_ARRAY && jv_get_kind(v) == JV_KIND_ARRAY) {
				jv out = jv_array();
				jv_array_foreach(list, i, x)
				{
					if (contains(jv_copy(v), jv_copy(x)))
						jv_free(x);
					else
						out = jv_array_append(out, x);
				}
				orig = jv_object_set(orig, name, out);
			} else {
				jv_free(name);
			}
			jv_free(list);
			jv_free(v);
			jv_free(k);
			continue;
		}
		if (is_directive(ks)) {
			jv_free(v);
			jv_free(k);
			continue;
		}
		const struct field *f = field_of(type, ks);
		if (jv_get_kind(v) == JV_KIND_NULL) {
			orig = jv_object_delete(orig, k);
			jv_free(v);
			continue;
		}
		jv cur = jv_object_get(jv_copy(orig), jv_copy(k));
		if (!jv_is_valid(cur)) {
			jv_free(cur);
			cur = jv_null();
		}
		jv merged;
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			merged = merge_map(cur, v, f ? f->elem : NULL, e);
		} else if (jv_get_kind(v) == JV_KIND_ARRAY && f && f->list && f->key) {
			if (*f->key)
				merged = merge_keyed_list(cur, v, f->key, f->elem, e);
			else
				merged = merge_set_list(cur, v);
		} else {
			jv_free(cur);
			if (jv_get_kind(v) == JV_KIND_ARRAY) {
				merged = jv_array();
				jv_array_foreach(v, i, x) merged = jv_array_append(merged, strip_directives(x));
				jv_free(v);
			} else {
				merged = v;
			}
		}
		if (!jv_is_valid(merged)) {
			jv_free(k);
			jv_free(orig);
			jv_free(patch);
			return merged;
		}
		if (jv_get_kind(merged) == JV_KIND_NULL)
			orig = jv_object_delete(orig, k);
		else
			orig = jv_object_set(orig, k, merged);
	}
	/* $setElementOrder/FIELD, after the merge */
	jv_object_foreach(patch, k, v)
	{
		const char *ks = jv_string_value(k);
		if (!strncmp(ks, "$setElementOrder/", 17)) {
			const struct field *f = field_of(type, ks + 17);
			jv name = jv_string(ks + 17);
			jv list = jv_object_get(jv_copy(orig), jv_copy(name));
			if (jv_is_valid(list))
				orig = jv_object_set(orig, name, set_order(list, v, f && f->key ? f->key : ""));
			else {
				jv_free(list);
				jv_free(name);
				jv_free(v);
			}
		} else {
			jv_free(v);
		}
		jv_free(k);
	}
	jv_free(patch);
	return orig;
}

jv kx_smp_apply(jv original, jv patch, const char *kind, kx_err *e)
{
	if (jv_get_kind(patch) != JV_KIND_OBJECT) {
		jv_free(original);
		jv_free(patch);
		kx_err_set(e, KX_EFAIL, "strategic merge patch: the patch is not a JSON object");
		return jv_invalid();
	}
	jv out = merge_map(original, patch, kind, e);
	if (jv_is_valid(out) && jv_get_kind(out) == JV_KIND_NULL)
		out = jv_object();
	return out;
}
