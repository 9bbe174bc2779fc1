/* observe.c: building the world a pass decides on, from the store or from
 * a file (-f). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "input.h"
#include "json.h"
#include "kinds.h"
#include "log.h"
#include "pass.h"
#include "reconcile.h"

/* Remember that a kind was observed (the garbage collector trusts only
 * those: an owner of an unobserved kind is never assumed gone). */
static jv mark_kind(jv world, const char *kind)
{
	jv kinds = jv_object_get(jv_copy(world), jv_string("_kinds"));

	if (jv_get_kind(kinds) != JV_KIND_OBJECT) {
		jv_free(kinds);
		kinds = jv_object();
	}
	return jv_object_set(world, jv_string("_kinds"), jv_object_set(kinds, jv_string(kind), jv_true()));
}

/* List one resource (across namespaces, or in ns) into world[resource],
 * appending when some are there already. A resource the store does not
 * serve (404) is skipped. Returns 0 or -1 (e). */
static int list_into(kx_client *c, jv *world, const kx_kind *k, const char *ns, kx_err *e)
{
	const char *resource = k ? k->resource : "";
	kx_buf path = KX_BUF_INIT;
	jv items, have;

	if (!k)
		return 0; /* this build's kinds table lacks it */
	if (!strcmp(resource, "leases") && !ns)
		ns = "kube-node-lease"; /* the node controller's heartbeats */
	kx_kind_path(&path, k, ns, NULL, NULL);
	items = kx_input_list(c, kx_buf_str(&path), k->kind, NULL, e);
	if (!jv_is_valid(items)) {
		if (e->http == 404 || e->http == 405) {
			kx_log_debug(1, "store does not serve %s: %s", resource, e->msg);
			kx_err_clear(e);
			kx_buf_free(&path);
			return 0;
		}
		kx_err_wrap(e, "list %s", kx_buf_str(&path));
		kx_buf_free(&path);
		return -1;
	}
	kx_buf_free(&path);
	have = jv_object_get(jv_copy(*world), jv_string(resource));
	if (jv_get_kind(have) == JV_KIND_ARRAY)
		items = jv_array_concat(have, items);
	else
		jv_free(have);
	*world = jv_object_set(*world, jv_string(resource), items);
	*world = mark_kind(*world, k->kind);
	return 0;
}

/* Is word in the space-separated list? */
static int in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

jv rc_observe_store(kx_client *c, const char *resources, int namespaces_deep, kx_err *e)
{
	jv world = jv_object();
	char *copy = strdup(resources), *save = NULL;

	for (char *r = strtok_r(copy, " ", &save); r; r = strtok_r(NULL, " ", &save)) {
		if (rc_observed(world, r))
			continue;
		if (list_into(c, &world, kx_kind_lookup(r), NULL, e) < 0) {
			free(copy);
			jv_free(world);
			return jv_invalid();
		}
	}
	free(copy);
	if (!namespaces_deep)
		return world;

	/* the namespace controller needs everything in a terminating namespace */
	jv nss = rc_items(world, "namespaces");
	jv_array_foreach(nss, i, ns) {
		char name[256];
		if (rc_deleting(ns)) {
			rc_str(ns, "metadata.name", name, sizeof name);
			for (size_t j = 0; j < kx_kinds_count; j++) {
				const kx_kind *k = &kx_kinds[j];
				int seen = 0;
				for (size_t m = 0; m < j; m++)
					seen |= !strcmp(kx_kinds[m].resource, k->resource);
				if (!k->namespaced || !in_list(k->verbs, "list") || !in_list(k->verbs, "delete") ||
				    in_list(resources, k->resource) || seen)
					continue;
				if (list_into(c, &world, k, name, e) < 0) {
					jv_free(ns);
					jv_free(nss);
					jv_free(world);
					return jv_invalid();
				}
			}
		}
		jv_free(ns);
	}
	jv_free(nss);
	return world;
}

jv rc_observe_file(const char *path, kx_err *e)
{
	jv items = kx_input_load(path, e), world = jv_object();

	if (!jv_is_valid(items)) {
		jv_free(world);
		return items;
	}
	jv_array_foreach(items, i, o) {
		char kind[128], av[128], res[160];
		const kx_kind *k;
		rc_str(o, "kind", kind, sizeof kind);
		rc_str(o, "apiVersion", av, sizeof av);
		if (!*kind) {
			jv_free(o);
			continue;
		}
		k = kx_kind_by_gvk(av, kind);
		if (k) {
			snprintf(res, sizeof res, "%s", k->resource);
		} else { /* a kind this build does not know: lower case plural */
			size_t n = strlen(kind);
			for (size_t j = 0; j < n; j++)
				res[j] = (char)(kind[j] >= 'A' && kind[j] <= 'Z' ? kind[j] + 32 : kind[j]);
			snprintf(res + n, sizeof res - n, "%s", res[n - 1] == 's' ? "es" : "s");
		}
		jv have = jv_object_get(jv_copy(world), jv_string(res));
		if (jv_get_kind(have) != JV_KIND_ARRAY) {
			jv_free(have);
			have = jv_array();
		}
		world = jv_object_set(world, jv_string(res), jv_array_append(have, o));
		world = mark_kind(world, kind);
	}
	jv_free(items);
	return world;
}
