/* discovery.c: /api and /apis, plain and aggregated, from the kinds table. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "discovery.h"
#include "kinds.h"

/* ---- Accept ------------------------------------------------------------------- */

/* Trim spaces and tabs around s[0..n). */
static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int eq(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(s, want, n);
}

/* One media range, "application/json;g=...;v=v2;as=APIGroupDiscoveryList":
 * the form it asks for, or -1 when kx-store cannot answer it. */
static int media_range(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t tl = semi ? (size_t)(semi - s) : n;
	const char *t = s;
	const char *g = NULL, *v = NULL, *as = NULL;
	size_t gl = 0, vl = 0, asl = 0;

	trim(&t, &tl);
	if (!eq(t, tl, "application/json") && !eq(t, tl, "application/*") && !eq(t, tl, "*/*"))
		return -1;
	while (semi) {
		const char *p = semi + 1, *end = s + n;
		const char *next = memchr(p, ';', (size_t)(end - p));
		size_t pl = next ? (size_t)(next - p) : (size_t)(end - p);
		const char *eqs = memchr(p, '=', pl);
		semi = next;
		if (!eqs)
			continue;
		const char *key = p, *val = eqs + 1;
		size_t kl = (size_t)(eqs - p), vall = pl - kl - 1;
		trim(&key, &kl);
		trim(&val, &vall);
		if (eq(key, kl, "g"))
			g = val, gl = vall;
		else if (eq(key, kl, "v"))
			v = val, vl = vall;
		else if (eq(key, kl, "as"))
			as = val, asl = vall;
	}
	if (!as && !g && !v)
		return DISC_PLAIN;
	if (!as || !eq(as, asl, "APIGroupDiscoveryList") || !g ||
	    !eq(g, gl, "apidiscovery.k8s.io") || !v)
		return -1;
	if (eq(v, vl, "v2"))
		return DISC_V2;
	if (eq(v, vl, "v2beta1"))
		return DISC_V2BETA1;
	return -1;
}

enum disc_form discovery_form(const char *accept)
{
	const char *p = accept;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int f = media_range(p, n);
		if (f >= 0)
			return (enum disc_form)f;
		p = comma ? comma + 1 : NULL;
	}
	return DISC_PLAIN;
}

const char *discovery_ctype(enum disc_form f)
{
	switch (f) {
	case DISC_V2:
		return "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
	case DISC_V2BETA1:
		return "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
	default:
		return "application/json";
	}
}

/* ---- the kinds table, as discovery says it ----------------------------------------- */

static jv words(const char *s)
{
	jv a = jv_array();
	const char *p = s;

	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);
		if (n)
			a = jv_array_append(a, jv_string_sized(p, (int)n));
		if (!sp)
			break;
		p = sp + 1;
	}
	return a;
}

/* What a subresource of k answers with and allows. */
struct sub {
	const char *group, *version, *kind, *verbs;
};

static struct sub sub_of(const kx_kind *k, const char *s)
{
	if (!strcmp(s, "status"))
		return (struct sub){k->group, k->version, k->kind, "get patch update"};
	if (!strcmp(s, "scale"))
		return (struct sub){"autoscaling", "v1", "Scale", "get patch update"};
	if (!strcmp(s, "binding"))
		return (struct sub){"", "v1", "Binding", "create"};
	if (!strcmp(s, "finalize"))
		return (struct sub){k->group, k->version, k->kind, "update"};
	return (struct sub){k->group, k->version, k->kind, "get"};
}

static jv gvk(const char *group, const char *version, const char *kind)
{
	jv o = jv_object_set(jv_object(), jv_string("group"), jv_string(group));
	o = jv_object_set(o, jv_string("version"), jv_string(version));
	return jv_object_set(o, jv_string("kind"), jv_string(kind));
}

/* One APIResource of an APIResourceList. */
static jv api_resource(const char *name, const char *singular, int namespaced, const char *kind,
                       const char *verbs, const char *shortnames, const char *categories)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("name"), jv_string(name));
	o = jv_object_set(o, jv_string("singularName"), jv_string(singular));
	o = jv_object_set(o, jv_string("namespaced"), jv_bool(namespaced));
	o = jv_object_set(o, jv_string("kind"), jv_string(kind));
	o = jv_object_set(o, jv_string("verbs"), words(verbs));
	if (*shortnames)
		o = jv_object_set(o, jv_string("shortNames"), words(shortnames));
	if (*categories)
		o = jv_object_set(o, jv_string("categories"), words(categories));
	return o;
}

/* The resources of one group version; aggregated selects the
 * APIResourceDiscovery shape (subresources inside their resource) over the
 * APIResource one (subresources as "pods/status" rows). */
static jv resources_of(const char *group, const char *version, int aggregated)
{
	jv res = jv_array();

	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		if (strcmp(k->group, group) || strcmp(k->version, version))
			continue;
		jv subs = words(k->subresources), out = jv_array();
		jv_array_foreach(subs, j, s)
		{
			struct sub d = sub_of(k, jv_string_value(s));
			if (aggregated) {
				jv e = jv_object_set(jv_object(), jv_string("subresource"),
				                     jv_copy(s));
				e = jv_object_set(e, jv_string("responseKind"),
				                  gvk(d.group, d.version, d.kind));
				out = jv_array_append(
				    out, jv_object_set(e, jv_string("verbs"), words(d.verbs)));
			} else {
				char name[160];
				snprintf(name, sizeof name, "%s/%s", k->resource,
				         jv_string_value(s));
				jv e =
				    api_resource(name, "", k->namespaced, d.kind, d.verbs, "", "");
				if (strcmp(d.group, k->group) || strcmp(d.version, k->version)) {
					e = jv_object_set(e, jv_string("group"),
					                  jv_string(d.group));
					e = jv_object_set(e, jv_string("version"),
					                  jv_string(d.version));
				}
				out = jv_array_append(out, e);
			}
			jv_free(s);
		}
		jv_free(subs);
		if (!aggregated) {
			res = jv_array_append(res, api_resource(k->resource, k->singular,
			                                        k->namespaced, k->kind, k->verbs,
			                                        k->shortnames, k->categories));
			res = jv_array_concat(res, out);
			continue;
		}
		jv o = jv_object_set(jv_object(), jv_string("resource"), jv_string(k->resource));
		o = jv_object_set(o, jv_string("responseKind"), gvk(k->group, k->version, k->kind));
		o = jv_object_set(o, jv_string("scope"),
		                  jv_string(k->namespaced ? "Namespaced" : "Cluster"));
		o = jv_object_set(o, jv_string("singularResource"), jv_string(k->singular));
		o = jv_object_set(o, jv_string("verbs"), words(k->verbs));
		if (*k->shortnames)
			o = jv_object_set(o, jv_string("shortNames"), words(k->shortnames));
		if (*k->categories)
			o = jv_object_set(o, jv_string("categories"), words(k->categories));
		if (jv_array_length(jv_copy(out)))
			o = jv_object_set(o, jv_string("subresources"), out);
		else
			jv_free(out);
		res = jv_array_append(res, o);
	}
	return res;
}

/* The versions of group in table order (the first is the preferred one),
 * as an array of strings. */
static jv versions_of(const char *group)
{
	jv vs = jv_array();

	for (size_t i = 0; i < kx_kinds_count; i++) {
		const kx_kind *k = &kx_kinds[i];
		int seen = 0;
		if (strcmp(k->group, group))
			continue;
		jv_array_foreach(vs, j, v)
		{
			seen |= !strcmp(jv_string_value(v), k->version);
			jv_free(v);
		}
		if (!seen)
			vs = jv_array_append(vs, jv_string(k->version));
	}
	return vs;
}

/* The named groups in table order, as an array of strings. */
static jv groups_of(void)
{
	jv gs = jv_array();

	for (size_t i = 0; i < kx_kinds_count; i++) {
		int seen = 0;
		if (!*kx_kinds[i].group)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(kx_kinds[j].group, kx_kinds[i].group);
		if (!seen)
			gs = jv_array_append(gs, jv_string(kx_kinds[i].group));
	}
	return gs;
}

/* ---- plain documents ------------------------------------------------------------- */

jv discovery_versions(void)
{
	jv o = jv_object_set(jv_object(), jv_string("kind"), jv_string("APIVersions"));
	o = jv_object_set(o, jv_string("versions"), versions_of(""));
	jv a = jv_object_set(jv_object(), jv_string("clientCIDR"), jv_string("0.0.0.0/0"));
	a = jv_object_set(a, jv_string("serverAddress"), jv_string(""));
	return jv_object_set(o, jv_string("serverAddressByClientCIDRs"),
	                     jv_array_append(jv_array(), a));
}

jv discovery_group(const char *group)
{
	jv vs = versions_of(group), out = jv_array();

	if (!*group || jv_array_length(jv_copy(vs)) == 0) {
		jv_free(vs);
		jv_free(out);
		return jv_invalid();
	}
	jv_array_foreach(vs, i, v)
	{
		jv e = jv_object_set(jv_object(), jv_string("groupVersion"),
		                     jv_string_fmt("%s/%s", group, jv_string_value(v)));
		out = jv_array_append(out, jv_object_set(e, jv_string("version"), v));
	}
	jv_free(vs);
	jv g = jv_object_set(jv_object(), jv_string("kind"), jv_string("APIGroup"));
	g = jv_object_set(g, jv_string("apiVersion"), jv_string("v1"));
	g = jv_object_set(g, jv_string("name"), jv_string(group));
	g = jv_object_set(g, jv_string("preferredVersion"), jv_array_get(jv_copy(out), 0));
	return jv_object_set(g, jv_string("versions"), out);
}

jv discovery_groups(void)
{
	jv gs = groups_of(), out = jv_array();

	jv_array_foreach(gs, i, g)
	{
		jv one = discovery_group(jv_string_value(g));
		one = jv_object_delete(one, jv_string("kind"));
		out = jv_array_append(out, jv_object_delete(one, jv_string("apiVersion")));
		jv_free(g);
	}
	jv_free(gs);
	jv o = jv_object_set(jv_object(), jv_string("kind"), jv_string("APIGroupList"));
	o = jv_object_set(o, jv_string("apiVersion"), jv_string("v1"));
	return jv_object_set(o, jv_string("groups"), out);
}

jv discovery_resources(const char *group, const char *version)
{
	jv res = resources_of(group, version, 0);

	if (jv_array_length(jv_copy(res)) == 0) {
		jv_free(res);
		return jv_invalid();
	}
	jv o = jv_object_set(jv_object(), jv_string("kind"), jv_string("APIResourceList"));
	o = jv_object_set(o, jv_string("apiVersion"), jv_string("v1"));
	o = jv_object_set(o, jv_string("groupVersion"),
	                  *group ? jv_string_fmt("%s/%s", group, version) : jv_string(version));
	return jv_object_set(o, jv_string("resources"), res);
}

/* ---- aggregated ------------------------------------------------------------------- */

/* One APIGroupDiscovery: the group and, for each version, its resources. */
static jv group_discovery(const char *group)
{
	jv vs = versions_of(group), out = jv_array();

	jv_array_foreach(vs, i, v)
	{
		jv e = jv_object_set(jv_object(), jv_string("version"), jv_copy(v));
		e = jv_object_set(e, jv_string("resources"),
		                  resources_of(group, jv_string_value(v), 1));
		out = jv_array_append(
		    out, jv_object_set(e, jv_string("freshness"), jv_string("Current")));
		jv_free(v);
	}
	jv_free(vs);
	jv meta = jv_object_set(jv_object(), jv_string("creationTimestamp"), jv_null());
	if (*group)
		meta = jv_object_set(meta, jv_string("name"), jv_string(group));
	jv g = jv_object_set(jv_object(), jv_string("metadata"), meta);
	return jv_object_set(g, jv_string("versions"), out);
}

jv discovery_aggregated(int legacy, enum disc_form f)
{
	jv items = jv_array();

	if (legacy) {
		items = jv_array_append(items, group_discovery(""));
	} else {
		jv gs = groups_of();
		jv_array_foreach(gs, i, g)
		{
			items = jv_array_append(items, group_discovery(jv_string_value(g)));
			jv_free(g);
		}
		jv_free(gs);
	}
	jv o = jv_object_set(jv_object(), jv_string("kind"), jv_string("APIGroupDiscoveryList"));
	o = jv_object_set(o, jv_string("apiVersion"),
	                  jv_string(f == DISC_V2BETA1 ? "apidiscovery.k8s.io/v2beta1"
	                                              : "apidiscovery.k8s.io/v2"));
	o = jv_object_set(o, jv_string("metadata"), jv_object());
	return jv_object_set(o, jv_string("items"), items);
}
